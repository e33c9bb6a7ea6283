/*
 * mapfile.h - read-only input files, mapped whole, and a bounds-checked
 * cursor over bytes.
 *
 * A ckpt_map is a regular file mmapped PROT_READ/MAP_PRIVATE (the fd kept
 * open for ckpt_map_read), or standard input ("-") spooled to an
 * unlinked temporary file first, so there is one reader for both.  The
 * mapping is never written.  Parsers walk bytes with struct ckpt_rd, whose
 * helpers compare every length against what remains before touching it.
 *
 * A mapping outlives the bytes when another process truncates the file
 * while we read it: touching a page past the new end raises SIGBUS.  Every
 * mapping of an input is registered in a process-wide table, and a SIGBUS
 * handler (installed once, by the first registration) that finds the fault
 * inside a registered mapping removes the open output temporaries and
 * calls the tool's handler (ckpt_map_on_shrink), which reports the file
 * and ends the process: there is no way back into the faulting code that
 * would keep mapped reads fast.  The library itself never prints; without
 * a handler the process dies of the SIGBUS as it would have.
 */
#ifndef CKPT_FORMATS_MAPFILE_H
#define CKPT_FORMATS_MAPFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../kernels/err.h"

typedef struct ckpt_map {
    const uint8_t *data; /* size bytes; NULL when size == 0 */
    size_t size;
    char *path;          /* as given by the caller ("-" for stdin); owned */
    int guard_slot;      /* SIGBUS guard registration, -1 if none */
    uint64_t dev, ino;   /* identity, protected from outputs while mapped */
    int fd;              /* the file, open until ckpt_map_close */
} ckpt_map;

/*
 * Map `path` ("-" = stdin, spooled to a temporary file in $TMPDIR).
 * Directories, devices and other non-regular files are refused.  An empty
 * file is mapped with data == NULL, size == 0.  The caller owns *out and
 * releases it with ckpt_map_close.  Errors: CKPT_E_IO, CKPT_E_NOMEM.
 */
ckpt_status ckpt_map_open(ckpt_map **out, const char *path, ckpt_err *err);

/*
 * Copy all of standard input into a new, already unlinked temporary file in
 * $TMPDIR (else /tmp) and return its descriptor (the caller closes it), or
 * -1 with err set (CKPT_E_IO, CKPT_E_NOMEM).  Nothing is left on disk once
 * the descriptor is closed, whatever happens to the process.
 */
int ckpt_map_spool_stdin(ckpt_err *err);

/* Unmap and free; NULL is fine. */
void ckpt_map_close(ckpt_map *m);

/*
 * Drop the whole pages inside [p, p + n) of a read-only mapping from this
 * process's resident memory (madvise MADV_DONTNEED).  The bytes stay what
 * they were: the next read faults them in again from the page cache or
 * the file.  ckpt_map_release for a caller that holds a pointer into the
 * mapping rather than the map (weight views).  p must lie in a mapping
 * made by ckpt_map_open.
 */
void ckpt_map_release_ptr(const void *p, size_t n);

/*
 * Map the pages of [p, p + n) of a mapping made by ckpt_map_open into this
 * process's page tables now, reading them in where the page cache lacks
 * them (madvise MADV_POPULATE_READ, Linux 5.14 on: advice, so a kernel
 * without it changes nothing but when the pages fault in), and read a
 * byte of each (a hypervisor's shadow page tables fill on first use).
 */
void ckpt_map_populate_ptr(const void *p, size_t n);

/*
 * Register [base, base+size) as a mapping of `path` (borrowed: it must stay
 * valid until ckpt_map_guard_remove) for the SIGBUS guard above.  Returns a
 * slot for ckpt_map_guard_remove, or -1 when the table is full (the fault is
 * then reported without the file's name).
 */
int ckpt_map_guard_add(const void *base, size_t size, const char *path);

/*
 * What a tool does when an input shrinks under a mapping: called from the
 * SIGBUS handler (after the output temporaries are removed) with the file's
 * path; it must only use async-signal-safe calls and must not return (it
 * reports and calls _exit).  Set once, before any input is opened.
 */
typedef void (*ckpt_map_shrink_fn)(const char *path);
void ckpt_map_on_shrink(ckpt_map_shrink_fn fn);
void ckpt_map_guard_remove(int slot);

/*
 * Copy [off, off + len) of the mapped file into dst with pread, not
 * through the mapping: a streaming reader that touches each byte once
 * pays no page-table work for it (under a hypervisor's shadow page tables
 * the first touch of each mapped page traps: about 1.3 us a 4 KiB page on
 * the AMD machine, twice the time SHA-256 spends on it).  Errors:
 * CKPT_E_RANGE for a range past the mapping, CKPT_E_IO for a failed read
 * or a file that has shrunk ("file shrank while being read").
 */
ckpt_status ckpt_map_read(const ckpt_map *m, size_t off, void *dst, size_t len, ckpt_err *err);

/* The same for any open file: all len bytes at off, retried on EINTR and
 * short reads; an end of file before them is "file shrank while being
 * read" (CKPT_E_IO, naming path). */
ckpt_status ckpt_pread_all(int fd, const char *path, uint64_t off, void *dst, size_t len,
                           ckpt_err *err);

/* Hint the kernel about the access pattern (best effort, no error). */
void ckpt_map_advise_sequential(const ckpt_map *m);
void ckpt_map_advise_willneed(const ckpt_map *m, size_t off, size_t len);

/* Drop pages of [off, off+len) that have been consumed (best effort). */
void ckpt_map_release(const ckpt_map *m, size_t off, size_t len);

/* ---- bounds-checked cursor ---- */

struct ckpt_rd {
    const uint8_t *base; /* start of the buffer (for offsets in messages) */
    const uint8_t *p;    /* next byte */
    const uint8_t *end;  /* one past the last byte */
};

static inline void ckpt_rd_init(struct ckpt_rd *rd, const void *data, size_t size)
{
    rd->base = rd->p = (const uint8_t *)data;
    rd->end = size ? rd->p + size : rd->p;
}

static inline size_t ckpt_rd_left(const struct ckpt_rd *rd) { return (size_t)(rd->end - rd->p); }
static inline uint64_t ckpt_rd_pos(const struct ckpt_rd *rd) { return (uint64_t)(rd->p - rd->base); }

/* Each returns false (and moves nothing) when fewer than the needed bytes remain. */
bool ckpt_rd_u8(struct ckpt_rd *rd, uint8_t *v);
bool ckpt_rd_u32(struct ckpt_rd *rd, uint32_t *v);
bool ckpt_rd_u64(struct ckpt_rd *rd, uint64_t *v);
bool ckpt_rd_skip(struct ckpt_rd *rd, uint64_t n);
/* Borrow n bytes at the cursor and advance. */
bool ckpt_rd_bytes(struct ckpt_rd *rd, uint64_t n, const uint8_t **out);

#endif
