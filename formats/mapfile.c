/*
 * mapfile.c - mapped input files and the bounds-checked cursor (mapfile.h).
 */
#define _GNU_SOURCE
#include "mapfile.h"
#include "le.h"
#include "outfile.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* ==== SIGBUS guard (see mapfile.h) ==== */

#define MAX_GUARDS 256

/* Written under guard_lock, read by the handler.  A slot is published by
 * setting `used` last and retired by clearing it first. */
static struct {
    const uint8_t *volatile base;
    volatile size_t size;
    const char *volatile path;
    volatile sig_atomic_t used;
} guards[MAX_GUARDS];
static pthread_mutex_t guard_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t guard_once = PTHREAD_ONCE_INIT;

static volatile ckpt_map_shrink_fn shrink_fn;

void ckpt_map_on_shrink(ckpt_map_shrink_fn fn)
{
    shrink_fn = fn;
}

static void on_sigbus(int sig, siginfo_t *si, void *uctx)
{
    (void)uctx;
    const uint8_t *a = si ? (const uint8_t *)si->si_addr : NULL;
    int hit = -1;
    for (int i = 0; i < MAX_GUARDS && a; i++)
        if (guards[i].used && a >= guards[i].base && (size_t)(a - guards[i].base) < guards[i].size)
            hit = i;
    if (hit < 0) { /* not ours: die as we would have */
        signal(sig, SIG_DFL);
        raise(sig);
        return;
    }
    ckpt_out_unlink_temps();
    ckpt_map_shrink_fn fn = shrink_fn;
    if (fn)
        fn(guards[hit].path ? guards[hit].path : "input");
    signal(sig, SIG_DFL); /* no handler, or one that returned: die as we would have */
    raise(sig);
}

static void install_guard(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_sigbus;
    sa.sa_flags = SA_SIGINFO;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGBUS, &sa, NULL);
}

int ckpt_map_guard_add(const void *base, size_t size, const char *path)
{
    pthread_once(&guard_once, install_guard);
    int slot = -1;
    pthread_mutex_lock(&guard_lock);
    for (int i = 0; i < MAX_GUARDS; i++) {
        if (!guards[i].used) {
            guards[i].base = base;
            guards[i].size = size;
            guards[i].path = path;
            guards[i].used = 1;
            slot = i;
            break;
        }
    }
    pthread_mutex_unlock(&guard_lock);
    return slot;
}

void ckpt_map_guard_remove(int slot)
{
    if (slot < 0 || slot >= MAX_GUARDS)
        return;
    pthread_mutex_lock(&guard_lock);
    guards[slot].used = 0;
    pthread_mutex_unlock(&guard_lock);
}

/* ==== mapping ==== */

/* Copy all of fd `in` into a new unlinked temporary file; return its fd. */
int ckpt_map_spool_stdin(ckpt_err *err)
{
    const char *dir = getenv("TMPDIR");
    if (!dir || !*dir)
        dir = "/tmp";
    char tmpl[4096];
    if (snprintf(tmpl, sizeof tmpl, "%s/ckpt-stdin-XXXXXX", dir) >= (int)sizeof tmpl) {
        ckpt_err_set(err, CKPT_E_IO, "-: TMPDIR path too long");
        return -1;
    }
    int fd = mkstemp(tmpl);
    if (fd < 0) {
        ckpt_err_errno(err, CKPT_E_IO, errno, "-: cannot create spool file in %s", dir);
        return -1;
    }
    unlink(tmpl);
    ckpt_out_ignore_sigxfsz();
    static const size_t bufsize = 1 << 20;
    char *buf = malloc(bufsize);
    if (!buf) {
        close(fd);
        ckpt_err_set(err, CKPT_E_NOMEM, "-: out of memory spooling stdin");
        return -1;
    }
    for (;;) {
        ssize_t n = read(STDIN_FILENO, buf, bufsize);
        if (n == 0)
            break;
        if (n < 0) {
            if (errno == EINTR)
                continue;
            ckpt_err_errno(err, CKPT_E_IO, errno, "-: read");
            goto fail;
        }
        for (ssize_t done = 0; done < n;) {
            ssize_t w = write(fd, buf + done, (size_t)(n - done));
            if (w < 0) {
                if (errno == EINTR)
                    continue;
                ckpt_err_errno(err, CKPT_E_IO, errno, "-: spooling stdin to %s", dir);
                goto fail;
            }
            done += w;
        }
    }
    free(buf);
    return fd;
fail:
    free(buf);
    close(fd);
    return -1;
}

ckpt_status ckpt_map_open(ckpt_map **out, const char *path, ckpt_err *err)
{
    *out = NULL;
    ckpt_map *m = calloc(1, sizeof *m);
    if (!m || !(m->path = strdup(path))) {
        free(m);
        return ckpt_err_set(err, CKPT_E_NOMEM, "%s: out of memory", path);
    }
    m->guard_slot = -1;
    m->fd = -1;
    int fd;
    if (strcmp(path, "-") == 0)
        fd = ckpt_map_spool_stdin(err);
    else if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
        ckpt_err_errno(err, CKPT_E_IO, errno, "%s", path);
    if (fd < 0)
        goto fail;
    struct stat st;
    if (fstat(fd, &st) != 0) {
        ckpt_err_errno(err, CKPT_E_IO, errno, "%s: stat", path);
        close(fd);
        goto fail;
    }
    if (!S_ISREG(st.st_mode)) {
        ckpt_err_set(err, CKPT_E_IO, "%s: %s", path,
                     S_ISDIR(st.st_mode) ? "is a directory" : "not a regular file");
        close(fd);
        goto fail;
    }
    if ((uint64_t)st.st_size > SIZE_MAX) {
        ckpt_err_set(err, CKPT_E_RANGE, "%s: file too large to map", path);
        close(fd);
        goto fail;
    }
    m->size = (size_t)st.st_size;
    m->dev = (uint64_t)st.st_dev;
    m->ino = (uint64_t)st.st_ino;
    ckpt_out_protect_id(m->dev, m->ino);
    if (m->size > 0) {
        void *p = mmap(NULL, m->size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (p == MAP_FAILED) {
            ckpt_err_errno(err, CKPT_E_IO, errno, "%s: mmap", path);
            close(fd);
            goto fail;
        }
        m->data = p;
        m->guard_slot = ckpt_map_guard_add(p, m->size, m->path);
    }
    m->fd = fd;
    *out = m;
    return CKPT_OK;
fail:
    free(m->path);
    free(m);
    return err ? err->code : CKPT_E_IO;
}

void ckpt_map_close(ckpt_map *m)
{
    if (!m)
        return;
    ckpt_map_guard_remove(m->guard_slot);
    ckpt_out_unprotect_id(m->dev, m->ino);
    if (m->data)
        munmap((void *)m->data, m->size);
    if (m->fd >= 0)
        close(m->fd);
    free(m->path);
    free(m);
}

ckpt_status ckpt_map_read(const ckpt_map *m, size_t off, void *dst, size_t len, ckpt_err *err)
{
    if (off > m->size || len > m->size - off)
        return ckpt_err_set(err, CKPT_E_RANGE, "%s: bytes %zu..%zu past the end (%zu)", m->path,
                            off, off + len, m->size);
    return ckpt_pread_all(m->fd, m->path, off, dst, len, err);
}

ckpt_status ckpt_pread_all(int fd, const char *path, uint64_t off, void *dst, size_t len,
                           ckpt_err *err)
{
    uint8_t *d = dst;
    while (len > 0) {
        ssize_t k = pread(fd, d, len, (off_t)off);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0)
            return ckpt_err_errno(err, CKPT_E_IO, errno, "%s: read", path);
        if (k == 0)
            return ckpt_err_set(err, CKPT_E_IO, "%s: file shrank while being read", path);
        d += k, off += (uint64_t)k, len -= (size_t)k;
    }
    return CKPT_OK;
}

void ckpt_map_release_ptr(const void *p, size_t n)
{
    long page = sysconf(_SC_PAGESIZE);
    if (page <= 0 || n == 0)
        return;
    uintptr_t a = (uintptr_t)p, e = a + n;
    uintptr_t lo = (a + (uintptr_t)page - 1) / (uintptr_t)page * (uintptr_t)page;
    uintptr_t hi = e / (uintptr_t)page * (uintptr_t)page;
    if (hi > lo)
        madvise((void *)lo, hi - lo, MADV_DONTNEED); /* advice: a failure changes nothing */
}

#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ 22 /* Linux 5.14; older headers lack the name */
#endif

void ckpt_map_populate_ptr(const void *p, size_t n)
{
    long page = sysconf(_SC_PAGESIZE);
    if (page <= 0 || n == 0)
        return;
    /* outward: the pages holding the first and the last byte are mapped */
    uintptr_t lo = (uintptr_t)p / (uintptr_t)page * (uintptr_t)page;
    uintptr_t hi = ((uintptr_t)p + n + (uintptr_t)page - 1) / (uintptr_t)page * (uintptr_t)page;
    madvise((void *)lo, hi - lo, MADV_POPULATE_READ); /* advice: a failure changes nothing */
    /* and read a byte of each page: under a hypervisor that shadows the
     * guest's page tables, the first read of each page by the process
     * still traps (about 1.3 us a 4 KiB page on the AMD machine: 0.23 s
     * of the last step of a 512-token F16 prefill), populated or not */
    volatile uint8_t sink = 0;
    for (uintptr_t a = lo; a < hi; a += (uintptr_t)page)
        sink ^= *(const volatile uint8_t *)a;
    (void)sink;
}

void ckpt_map_advise_sequential(const ckpt_map *m)
{
    if (m && m->data)
        madvise((void *)m->data, m->size, MADV_SEQUENTIAL);
}

/* Round [off, off+len) inward/outward to whole pages inside the mapping. */
static bool page_range(const ckpt_map *m, size_t off, size_t len, bool inward, uint8_t **start,
                       size_t *n)
{
    if (!m || !m->data || off >= m->size)
        return false;
    if (len > m->size - off)
        len = m->size - off;
    size_t pg = (size_t)sysconf(_SC_PAGESIZE);
    uintptr_t a = (uintptr_t)m->data + off, b = a + len;
    uintptr_t lo = (uintptr_t)m->data;
    if (inward) {
        a = (a + pg - 1) / pg * pg;
        b = b / pg * pg;
    } else {
        a = a / pg * pg;
        b = (b + pg - 1) / pg * pg;
        if (a < lo)
            a = lo;
    }
    if (b <= a)
        return false;
    *start = (uint8_t *)a;
    *n = b - a;
    return true;
}

void ckpt_map_advise_willneed(const ckpt_map *m, size_t off, size_t len)
{
    uint8_t *p;
    size_t n;
    if (page_range(m, off, len, false, &p, &n))
        madvise(p, n, MADV_WILLNEED);
}

void ckpt_map_release(const ckpt_map *m, size_t off, size_t len)
{
    uint8_t *p;
    size_t n;
    /* MADV_DONTNEED on a read-only private file mapping just drops the
     * pages; they are read back from the file if touched again. */
    if (page_range(m, off, len, true, &p, &n))
        madvise(p, n, MADV_DONTNEED);
}

bool ckpt_rd_u8(struct ckpt_rd *rd, uint8_t *v)
{
    if (ckpt_rd_left(rd) < 1)
        return false;
    *v = *rd->p++;
    return true;
}

bool ckpt_rd_u32(struct ckpt_rd *rd, uint32_t *v)
{
    if (ckpt_rd_left(rd) < 4)
        return false;
    *v = le32dec(rd->p);
    rd->p += 4;
    return true;
}

bool ckpt_rd_u64(struct ckpt_rd *rd, uint64_t *v)
{
    if (ckpt_rd_left(rd) < 8)
        return false;
    *v = le64dec(rd->p);
    rd->p += 8;
    return true;
}

bool ckpt_rd_skip(struct ckpt_rd *rd, uint64_t n)
{
    if (n > ckpt_rd_left(rd))
        return false;
    rd->p += n;
    return true;
}

bool ckpt_rd_bytes(struct ckpt_rd *rd, uint64_t n, const uint8_t **out)
{
    if (n > ckpt_rd_left(rd))
        return false;
    *out = rd->p;
    rd->p += n;
    return true;
}
