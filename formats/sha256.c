/*
 * sha256.c - SHA-256 of buffers and files through OpenSSL EVP, and the
 * parallel file hasher (see sha256.h for why files, not chunks, are the
 * unit of parallelism).
 */
#define _GNU_SOURCE
#include "sha256.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "../kernels/pool.h"
#include "mapfile.h"
#include "outfile.h"

#define CHUNK ((size_t)8 << 20) /* bytes hashed between progress reports */
#define READ_BYTES ((size_t)256 << 10) /* one read: the buffer stays in L2 while it is hashed */

ckpt_status ckpt_sha256_buf(const void *data, size_t n, uint8_t out[CKPT_SHA256_LEN],
                            ckpt_err *err)
{
    static const uint8_t empty = 0;
    unsigned int len = 0;
    if (!EVP_Digest(n ? data : &empty, n, out, &len, EVP_sha256(), NULL) ||
        len != CKPT_SHA256_LEN)
        return ckpt_err_set(err, CKPT_E_INTERNAL, "sha256: digest failed");
    return CKPT_OK;
}

/* Hash an open regular file of `size` bytes with ctx (already initialised
 * by the caller), read in READ_BYTES pieces; report every CHUNK through
 * step().  A file that ends before `size` (it shrank while being read) is
 * an error. */
static ckpt_status hash_fd(int fd, const char *path, uint64_t size, EVP_MD_CTX *ctx,
                           void (*step)(void *, uint64_t), void *step_ctx, ckpt_err *err)
{
    if (size == 0)
        return CKPT_OK;
    uint8_t *buf = malloc(READ_BYTES);
    if (!buf)
        return ckpt_err_set(err, CKPT_E_NOMEM, "%s: out of memory", path);
    (void)posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    ckpt_status s = CKPT_OK;
    uint64_t off = 0, reported = 0;
    while (off < size) {
        size_t n = size - off < READ_BYTES ? (size_t)(size - off) : READ_BYTES;
        if ((s = ckpt_pread_all(fd, path, off, buf, n, err)) != CKPT_OK)
            break;
        if (!EVP_DigestUpdate(ctx, buf, n)) {
            s = ckpt_err_set(err, CKPT_E_INTERNAL, "%s: sha256 update failed", path);
            break;
        }
        off += n;
        if (step && (off - reported >= CHUNK || off == size)) {
            step(step_ctx, off - reported);
            reported = off;
        }
    }
    free(buf);
    return s;
}

/* Open `path` for hashing: no symlinks, regular files only. */
static int open_regular(const char *path, uint64_t *size, ckpt_err *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
        if (errno == ELOOP)
            ckpt_err_set(err, CKPT_E_UNSUPPORTED, "%s: is a symbolic link", path);
        else
            ckpt_err_errno(err, CKPT_E_IO, errno, "%s", path);
        return -1;
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        ckpt_err_errno(err, CKPT_E_IO, errno, "%s: stat", path);
        close(fd);
        return -1;
    }
    if (!S_ISREG(st.st_mode)) {
        ckpt_err_set(err, S_ISDIR(st.st_mode) ? CKPT_E_IO : CKPT_E_UNSUPPORTED, "%s: %s", path,
                     S_ISDIR(st.st_mode) ? "is a directory" : "not a regular file");
        close(fd);
        return -1;
    }
    *size = (uint64_t)st.st_size;
    return fd;
}

static ckpt_status hash_path(const char *path, const EVP_MD *md, EVP_MD_CTX *ctx,
                             uint8_t out[CKPT_SHA256_LEN], uint64_t *size_out,
                             void (*step)(void *, uint64_t), void *step_ctx, ckpt_err *err)
{
    uint64_t size = 0;
    int fd = open_regular(path, &size, err);
    if (fd < 0)
        return err ? err->code : CKPT_E_IO;
    ckpt_status s = CKPT_OK;
    unsigned int len = 0;
    struct stat st; /* no output replaces the file while it is hashed */
    bool known = fstat(fd, &st) == 0;
    if (known)
        ckpt_out_protect_id((uint64_t)st.st_dev, (uint64_t)st.st_ino);
    if (!EVP_DigestInit_ex2(ctx, md, NULL))
        s = ckpt_err_set(err, CKPT_E_INTERNAL, "%s: sha256 init failed", path);
    if (s == CKPT_OK)
        s = hash_fd(fd, path, size, ctx, step, step_ctx, err);
    if (s == CKPT_OK && (!EVP_DigestFinal_ex(ctx, out, &len) || len != CKPT_SHA256_LEN))
        s = ckpt_err_set(err, CKPT_E_INTERNAL, "%s: sha256 final failed", path);
    if (known)
        ckpt_out_unprotect_id((uint64_t)st.st_dev, (uint64_t)st.st_ino);
    close(fd);
    if (s == CKPT_OK && size_out)
        *size_out = size;
    return s;
}

ckpt_status ckpt_sha256_file(const char *path, uint8_t out[CKPT_SHA256_LEN], uint64_t *size,
                             ckpt_err *err)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (!ctx)
        return ckpt_err_set(err, CKPT_E_NOMEM, "%s: out of memory", path);
    ckpt_status s = hash_path(path, EVP_sha256(), ctx, out, size, NULL, NULL, err);
    EVP_MD_CTX_free(ctx);
    return s;
}

/* ==== parallel runs ==== */

struct run {
    struct ckpt_sha256_job *jobs;
    size_t *order;        /* job indices, largest file first */
    size_t n, next;       /* next position in order to hand out */
    const EVP_MD *md;
    pthread_mutex_t lock; /* guards next, done and progress calls */
    uint64_t done, total;
    ckpt_progress_fn progress;
    void *progress_ctx;
    bool nomem;
};

static void step(void *ctx, uint64_t n)
{
    struct run *r = ctx;
    pthread_mutex_lock(&r->lock);
    r->done += n;
    if (r->progress)
        r->progress(r->progress_ctx, "hashing", r->done, r->total, CKPT_PROGRESS_BYTES);
    pthread_mutex_unlock(&r->lock);
}

/* One call per thread: take files from the shared queue until it is empty. */
static void worker(void *vctx, int64_t begin, int64_t end, int thread)
{
    struct run *r = vctx;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    for (;;) {
        pthread_mutex_lock(&r->lock);
        size_t k = r->next < r->n ? r->order[r->next++] : SIZE_MAX;
        if (!ctx)
            r->nomem = true;
        pthread_mutex_unlock(&r->lock);
        if (k == SIZE_MAX || !ctx)
            break;
        struct ckpt_sha256_job *j = &r->jobs[k];
        ckpt_err_clear(&j->err);
        j->status = hash_path(j->path, r->md, ctx, j->digest, &j->size, step, r, &j->err);
    }
    EVP_MD_CTX_free(ctx);
}

struct sized {
    uint64_t size;
    size_t index;
};

static int by_size_desc(const void *a, const void *b)
{
    const struct sized *x = a, *y = b;
    if (x->size != y->size)
        return x->size < y->size ? 1 : -1;
    return x->index < y->index ? -1 : 1;
}

ckpt_status ckpt_sha256_files(struct ckpt_sha256_job *jobs, size_t n, int n_threads,
                              ckpt_progress_fn progress, void *progress_ctx, ckpt_err *err)
{
    struct run r = {.jobs = jobs, .n = n, .progress = progress, .progress_ctx = progress_ctx};
    if (n == 0)
        return CKPT_OK;
    r.order = malloc(n * sizeof *r.order);
    struct sized *sized = malloc(n * sizeof *sized);
    if (!r.order || !sized) {
        free(r.order);
        free(sized);
        return ckpt_err_set(err, CKPT_E_NOMEM, "sha256: out of memory");
    }
    for (size_t i = 0; i < n; i++) {
        struct stat st;
        bool reg = lstat(jobs[i].path, &st) == 0 && S_ISREG(st.st_mode);
        sized[i].size = reg ? (uint64_t)st.st_size : 0;
        sized[i].index = i;
        r.total += sized[i].size;
    }
    /* Largest first: the longest file starts at once and the small ones
     * fill the other threads as they free up. */
    qsort(sized, n, sizeof *sized, by_size_desc);
    for (size_t i = 0; i < n; i++)
        r.order[i] = sized[i].index;
    free(sized);

    if (n_threads <= 0)
        n_threads = ckpt_pool_default_threads();
    if ((size_t)n_threads > n)
        n_threads = (int)n;
    ckpt_status s = CKPT_OK;
    ckpt_pool *pool = NULL;
    r.md = EVP_MD_fetch(NULL, "SHA256", NULL);
    if (!r.md)
        s = ckpt_err_set(err, CKPT_E_INTERNAL, "sha256: OpenSSL has no SHA256");
    if (s == CKPT_OK && pthread_mutex_init(&r.lock, NULL) != 0)
        s = ckpt_err_set(err, CKPT_E_NOMEM, "sha256: cannot create a lock");
    else if (s == CKPT_OK) {
        s = ckpt_pool_new(&pool, n_threads, err);
        if (s == CKPT_OK) {
            ckpt_pool_run(pool, worker, &r, ckpt_pool_size(pool));
            ckpt_pool_free(pool);
            if (r.nomem)
                s = ckpt_err_set(err, CKPT_E_NOMEM, "sha256: out of memory");
        }
        pthread_mutex_destroy(&r.lock);
    }
    EVP_MD_free((EVP_MD *)r.md);
    free(r.order);
    return s;
}

void ckpt_sha256_hex(const uint8_t d[CKPT_SHA256_LEN], char hex[CKPT_SHA256_HEX])
{
    static const char digits[] = "0123456789abcdef";
    for (int i = 0; i < CKPT_SHA256_LEN; i++) {
        hex[2 * i] = digits[d[i] >> 4];
        hex[2 * i + 1] = digits[d[i] & 15];
    }
    hex[64] = '\0';
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

bool ckpt_sha256_from_hex(const char *hex, uint8_t d[CKPT_SHA256_LEN])
{
    if (!hex || strlen(hex) != 64)
        return false;
    for (int i = 0; i < CKPT_SHA256_LEN; i++) {
        int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return false;
        d[i] = (uint8_t)(hi << 4 | lo);
    }
    return true;
}
