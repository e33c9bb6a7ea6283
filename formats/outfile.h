/*
 * outfile.h - outputs that appear whole or not at all.
 *
 * A named output is written to a temporary file in the target directory
 * (so the final rename stays on one filesystem), fsynced, and renamed into
 * place by ckpt_out_commit; its write-back to the disk is started every
 * 64 MiB as it is written, so the fsync does not wait for all of it, and
 * past its first 64 MiB its buffers are written around the page cache
 * (O_DIRECT) where the filesystem allows.  ckpt_out_abort (or a failed commit) unlinks
 * the temporary, so a failure never leaves a partial file behind and
 * never touches an existing output.  An existing output is replaced only
 * with `force`.  "-" writes to stdout, where nothing can be taken back;
 * so does an existing device or FIFO (/dev/null, a named pipe), which is
 * written in place rather than replaced.
 *
 * Publishing never replaces a file that appeared meanwhile (another run
 * writing the same name) unless `force`: the rename refuses an existing
 * target.  Nor does it ever replace, even with `force`, a file the run
 * reads: every open input (each mapped or hashed file) and what a run
 * names explicitly (the signing key, signed files, a written importance
 * matrix) is recorded by device and inode in a process-wide list, so
 * `-f -o model.safetensors` or `-o X --imatrix-out X` fail instead of
 * destroying data.  SIGXFSZ is
 * ignored, so a file size limit is a write error (EFBIG) like a full disk.
 *
 * Temporary names of open outputs are kept in a process-wide list so that
 * ckpt_out_cleanup_on_signal can unlink them from a signal handler.
 */
#ifndef CKPT_FORMATS_OUTFILE_H
#define CKPT_FORMATS_OUTFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../kernels/err.h"

typedef struct ckpt_out ckpt_out;

/*
 * Open `path` for writing ("-" = stdout).  Fails with CKPT_E_EXISTS if the
 * file exists and !force, CKPT_E_IO if the directory is not writable.  The
 * caller owns *out: exactly one of ckpt_out_commit / ckpt_out_abort must
 * follow.
 */
ckpt_status ckpt_out_open(ckpt_out **out, const char *path, bool force, ckpt_err *err);

#define CKPT_OUT_DIGEST_LEN 32

/*
 * An output that is hashed instead of written (for replaying a build
 * without touching the disk): the same calls, no file; `name` only names
 * it in messages.  ckpt_out_seal (or commit) stores the SHA-256 of every
 * byte written into digest (which must outlive o).  Errors: CKPT_E_NOMEM.
 */
ckpt_status ckpt_out_open_digest(ckpt_out **out, const char *name,
                                 uint8_t digest[CKPT_OUT_DIGEST_LEN], ckpt_err *err);

/* Append n bytes (buffered).  Errors: CKPT_E_IO (disk full, broken pipe). */
ckpt_status ckpt_out_write(ckpt_out *o, const void *buf, size_t n, ckpt_err *err);

/*
 * Overwrite n bytes at offset `at` of what was written already (at + n <=
 * ckpt_out_tell), before the output is sealed: a header whose fields are
 * known only once the data is written.  Only a file written through a
 * temporary can be patched; a stream (stdout, a device, a FIFO) has sent
 * its bytes and a digest-only output has hashed them (CKPT_E_USAGE).
 * Errors: CKPT_E_USAGE (see above, or a range past the end), CKPT_E_IO.
 */
ckpt_status ckpt_out_patch(ckpt_out *o, uint64_t at, const void *buf, size_t n, ckpt_err *err);

/* Whether ckpt_out_open(path) would write a stream in place (stdout for
 * "-", an existing device or FIFO), which ckpt_out_patch cannot patch. */
bool ckpt_out_path_is_stream(const char *path);

/* Append n zero bytes. */
ckpt_status ckpt_out_zeros(ckpt_out *o, size_t n, ckpt_err *err);

/* Bytes written so far. */
uint64_t ckpt_out_tell(const ckpt_out *o);

/* Give the committed file this mode (e.g. 0600 for a private key) instead
 * of 0666 less the umask; the temporary is 0600 from its creation on. */
void ckpt_out_set_mode(ckpt_out *o, unsigned mode);

/* The path given to ckpt_out_open. */
const char *ckpt_out_path(const ckpt_out *o);

/*
 * Flush, fsync and close the temporary without publishing it (the first
 * half of commit): for outputs that appear together, each sealed as it is
 * complete and all committed at the end, so that a failure on the last
 * one leaves none of them.  Nothing more may be written; commit or abort
 * must still follow (abort still removes the temporary).  Errors:
 * CKPT_E_IO; o stays the caller's either way.
 */
ckpt_status ckpt_out_seal(ckpt_out *o, ckpt_err *err);

/* Seal (if not yet), rename into place (for files), and free o. */
ckpt_status ckpt_out_commit(ckpt_out *o, ckpt_err *err);

/* Discard: unlink the temporary and free o.  NULL is fine. */
void ckpt_out_abort(ckpt_out *o);

/*
 * Files no output may replace, by device and inode (so other names and hard
 * links count too).  ckpt_out_protect_id takes a reference that
 * ckpt_out_unprotect_id drops (an input while it is open: ckpt_map does
 * this; the mapping keeps the inode from being reused).  ckpt_out_protect
 * holds `path` until the process ends or the file is deleted (a signing
 * key, the files a signature covers, an importance matrix written by this
 * run), through an O_PATH descriptor, so that no other file can take its
 * inode number meanwhile; a path that does not exist is ignored.
 */
void ckpt_out_protect_id(uint64_t dev, uint64_t ino);
void ckpt_out_unprotect_id(uint64_t dev, uint64_t ino);
void ckpt_out_protect(const char *path);

/* Ignore SIGXFSZ from now on (once per process): a file size limit (ulimit
 * -f) then fails a write with EFBIG, reported and cleaned up like a full
 * disk, instead of killing the process.  ckpt_out_open calls it; so does
 * anything else that writes a file. */
void ckpt_out_ignore_sigxfsz(void);

/* Unlink every open temporary; async-signal-safe (for fatal-signal handlers). */
void ckpt_out_unlink_temps(void);

/* Install SIGINT/SIGTERM/SIGHUP/SIGPIPE handlers that unlink open temporaries. */
void ckpt_out_install_signal_cleanup(void);

#endif
