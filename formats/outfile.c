/*
 * outfile.c - atomic outputs (see outfile.h).
 */
#define _GNU_SOURCE
#include "outfile.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define OUT_BUFSIZE (4u << 20) /* a multiple of DIRECT_ALIGN */
#define DIRECT_FROM (64u << 20) /* bytes of a file written through the page cache first */
#define DIRECT_ALIGN 4096u      /* offset, length and address of a direct write */
#define WRITEBACK_STEP (64u << 20) /* bytes written between two starts of their write-back */
#define MAX_OPEN_TEMPS 64 /* a split GGUF set keeps every part open until the last is done */
#define STICKY UINT32_MAX /* a protection held until the process ends */

struct ckpt_out {
    int fd;
    bool is_stdout; /* a stream written in place: stdout, or a device or FIFO (own_fd) */
    bool own_fd;
    char *path;     /* final name */
    char *tmp_path; /* temporary in the same directory; NULL for stdout */
    int temp_slot;
    int mode;       /* final file mode; -1: 0666 less the umask */
    bool force;     /* may replace an existing file (not one of this run) */
    uint8_t *buf;   /* NULL once sealed */
    size_t used;
    uint64_t written;
    uint64_t wb_from; /* bytes before this have had their write-back started */
    bool direct;      /* fd has O_DIRECT: whole buffers go around the page cache */
    bool no_direct;   /* the filesystem refused O_DIRECT: buffered to the end */
    bool sealed;    /* complete on disk, waiting for commit */
    EVP_MD_CTX *md;      /* a digest-only output: bytes are hashed, not written */
    uint8_t *digest_to;  /* where seal puts the SHA-256 */
};

/* Temporaries to unlink on a fatal signal.  Written only under the lock,
 * read by the handler (which can only unlink and re-raise). */
static char temp_names[MAX_OPEN_TEMPS][4096];
static volatile sig_atomic_t temp_used[MAX_OPEN_TEMPS];
static pthread_mutex_t temp_lock = PTHREAD_MUTEX_INITIALIZER;

static int register_temp(const char *name)
{
    int slot = -1;
    pthread_mutex_lock(&temp_lock);
    for (int i = 0; i < MAX_OPEN_TEMPS; i++) {
        if (!temp_used[i] && strlen(name) < sizeof temp_names[i]) {
            strcpy(temp_names[i], name);
            temp_used[i] = 1;
            slot = i;
            break;
        }
    }
    pthread_mutex_unlock(&temp_lock);
    return slot;
}

static void unregister_temp(int slot)
{
    if (slot < 0)
        return;
    pthread_mutex_lock(&temp_lock);
    temp_used[slot] = 0;
    pthread_mutex_unlock(&temp_lock);
}

void ckpt_out_unlink_temps(void)
{
    for (int i = 0; i < MAX_OPEN_TEMPS; i++)
        if (temp_used[i])
            unlink(temp_names[i]);
}

static void on_fatal_signal(int sig)
{
    ckpt_out_unlink_temps();
    signal(sig, SIG_DFL);
    raise(sig);
}

void ckpt_out_install_signal_cleanup(void)
{
    static const int sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGPIPE};
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_fatal_signal;
        sigemptyset(&sa.sa_mask);
        sigaction(sigs[i], &sa, NULL);
    }
}

/* ==== files of this run that no output may replace ==== */

struct file_id {
    uint64_t dev, ino;
    unsigned refs; /* STICKY, or the references of open inputs */
    int fd;        /* STICKY: an O_PATH descriptor that keeps the inode from
                      being reused by another file while it is listed */
};
static struct file_id *protected_ids; /* under temp_lock */
static size_t n_protected, cap_protected;

/* Drop entry i (under temp_lock). */
static void drop(size_t i)
{
    if (protected_ids[i].fd >= 0)
        close(protected_ids[i].fd);
    protected_ids[i] = protected_ids[--n_protected];
}

/* Sticky entries whose file was deleted can no longer be named by a path:
 * drop them, so a long-lived process does not hold them forever. */
static void purge_deleted(void)
{
    for (size_t i = 0; i < n_protected; i++) {
        struct stat st;
        if (protected_ids[i].fd >= 0 &&
            (fstat(protected_ids[i].fd, &st) != 0 || st.st_nlink == 0))
            drop(i--);
    }
}

/* Add a reference to (dev, ino); fd >= 0 makes the entry sticky (and is
 * owned by the list from now on). */
static void protect_ref(uint64_t dev, uint64_t ino, int fd)
{
    pthread_mutex_lock(&temp_lock);
    purge_deleted();
    size_t i = 0;
    while (i < n_protected && !(protected_ids[i].dev == dev && protected_ids[i].ino == ino))
        i++;
    if (i == n_protected && n_protected == cap_protected) {
        size_t cap = cap_protected ? 2 * cap_protected : 32;
        struct file_id *p = realloc(protected_ids, cap * sizeof *p);
        if (p) {
            protected_ids = p;
            cap_protected = cap;
        }
    }
    if (i < n_protected) {
        struct file_id *f = &protected_ids[i];
        if (fd >= 0 && f->fd < 0) {
            f->refs = STICKY;
            f->fd = fd;
            fd = -1;
        } else if (f->refs != STICKY) {
            f->refs++;
        }
    } else if (n_protected < cap_protected) { /* out of memory: this guard is lost */
        protected_ids[n_protected++] = (struct file_id){dev, ino, fd >= 0 ? STICKY : 1, fd};
        fd = -1;
    }
    if (fd >= 0)
        close(fd);
    pthread_mutex_unlock(&temp_lock);
}

void ckpt_out_protect_id(uint64_t dev, uint64_t ino) { protect_ref(dev, ino, -1); }

void ckpt_out_unprotect_id(uint64_t dev, uint64_t ino)
{
    pthread_mutex_lock(&temp_lock);
    for (size_t i = 0; i < n_protected; i++) {
        struct file_id *f = &protected_ids[i];
        if (f->dev == dev && f->ino == ino && f->refs != STICKY && --f->refs == 0)
            drop(i--);
    }
    pthread_mutex_unlock(&temp_lock);
}

void ckpt_out_protect(const char *path)
{
    struct stat st;
    int fd = path && strcmp(path, "-") != 0 ? open(path, O_PATH | O_CLOEXEC) : -1;
    if (fd >= 0 && fstat(fd, &st) == 0)
        protect_ref((uint64_t)st.st_dev, (uint64_t)st.st_ino, fd);
    else if (fd >= 0)
        close(fd);
}

static bool is_protected(const struct stat *st)
{
    bool hit = false;
    pthread_mutex_lock(&temp_lock);
    purge_deleted();
    for (size_t i = 0; i < n_protected && !hit; i++)
        hit = protected_ids[i].dev == (uint64_t)st->st_dev &&
              protected_ids[i].ino == (uint64_t)st->st_ino;
    pthread_mutex_unlock(&temp_lock);
    return hit;
}

/* Refuse to publish over a file of this run; `path` need not exist. */
static ckpt_status check_not_protected(const char *path, ckpt_err *err)
{
    struct stat st;
    if (stat(path, &st) == 0 && S_ISREG(st.st_mode) && is_protected(&st))
        return ckpt_err_set(err, CKPT_E_USAGE,
                            "%s: is also an input or output of this run; refusing to "
                            "overwrite it (choose another output name)",
                            path);
    return CKPT_OK;
}

static void ignore_sigxfsz(void) { signal(SIGXFSZ, SIG_IGN); }

void ckpt_out_ignore_sigxfsz(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, ignore_sigxfsz);
}

/* Move tmp to path; without force, never over a file that exists now. */
static int publish(const char *tmp, const char *path, bool force)
{
    if (force)
        return rename(tmp, path);
    if (renameat2(AT_FDCWD, tmp, AT_FDCWD, path, RENAME_NOREPLACE) == 0)
        return 0;
    if (errno != EINVAL && errno != ENOSYS && errno != EOPNOTSUPP)
        return -1;
    /* a filesystem without RENAME_NOREPLACE: link(2) refuses an existing
     * target too; one without hard links gets the check and the rename */
    if (link(tmp, path) == 0) {
        unlink(tmp);
        return 0;
    }
    if (errno != EPERM && errno != EOPNOTSUPP && errno != ENOSYS)
        return -1;
    struct stat st;
    if (lstat(path, &st) == 0) {
        errno = EEXIST;
        return -1;
    }
    return rename(tmp, path);
}

static void out_free(ckpt_out *o)
{
    EVP_MD_CTX_free(o->md);
    free(o->path);
    free(o->tmp_path);
    free(o->buf);
    free(o);
}

bool ckpt_out_path_is_stream(const char *path)
{
    struct stat st;
    return strcmp(path, "-") == 0 ||
           (stat(path, &st) == 0 && !S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode));
}

ckpt_status ckpt_out_open(ckpt_out **out, const char *path, bool force, ckpt_err *err)
{
    *out = NULL;
    ckpt_out *o = calloc(1, sizeof *o);
    if (!o)
        return ckpt_err_set(err, CKPT_E_NOMEM, "%s: out of memory", path);
    ckpt_out_ignore_sigxfsz();
    o->fd = -1;
    o->temp_slot = -1;
    o->mode = -1;
    o->force = force;
    o->path = strdup(path);
    if (posix_memalign((void **)&o->buf, DIRECT_ALIGN, OUT_BUFSIZE) != 0)
        o->buf = NULL;
    if (!o->path || !o->buf) {
        out_free(o);
        return ckpt_err_set(err, CKPT_E_NOMEM, "%s: out of memory", path);
    }
    if (strcmp(path, "-") == 0) {
        o->is_stdout = true;
        o->fd = STDOUT_FILENO;
        *out = o;
        return CKPT_OK;
    }
    struct stat st;
    if (stat(path, &st) == 0) {
        if (S_ISDIR(st.st_mode)) {
            out_free(o);
            return ckpt_err_set(err, CKPT_E_IO, "%s: is a directory", path);
        }
        if (!S_ISREG(st.st_mode)) {
            /* a device or FIFO (/dev/null, a named pipe): written in place like
             * stdout; renaming a temporary over it would replace the node */
            o->fd = open(path, O_WRONLY | O_CLOEXEC);
            if (o->fd < 0) {
                ckpt_status s = ckpt_err_errno(err, CKPT_E_IO, errno, "%s", path);
                out_free(o);
                return s;
            }
            o->is_stdout = o->own_fd = true;
            *out = o;
            return CKPT_OK;
        }
        ckpt_status s = force ? check_not_protected(path, err)
                              : ckpt_err_set(err, CKPT_E_EXISTS,
                                             "%s: already exists (use -f to overwrite)", path);
        if (s != CKPT_OK) {
            out_free(o);
            return s;
        }
    }
    char *dup = strdup(path);
    if (!dup) {
        out_free(o);
        return ckpt_err_set(err, CKPT_E_NOMEM, "%s: out of memory", path);
    }
    const char *dir = dirname(dup);
    size_t len = strlen(dir) + 32;
    o->tmp_path = malloc(len);
    if (!o->tmp_path) {
        free(dup);
        out_free(o);
        return ckpt_err_set(err, CKPT_E_NOMEM, "%s: out of memory", path);
    }
    snprintf(o->tmp_path, len, "%s/.ckpt-tmp-XXXXXX", dir);
    free(dup);
    o->fd = mkostemp(o->tmp_path, O_CLOEXEC);
    if (o->fd < 0) {
        ckpt_status s = ckpt_err_errno(err, CKPT_E_IO, errno, "%s: cannot create output", path);
        out_free(o);
        return s;
    }
    o->temp_slot = register_temp(o->tmp_path);
    *out = o;
    return CKPT_OK;
}

ckpt_status ckpt_out_open_digest(ckpt_out **out, const char *name,
                                 uint8_t digest[CKPT_OUT_DIGEST_LEN], ckpt_err *err)
{
    *out = NULL;
    ckpt_out *o = calloc(1, sizeof *o);
    if (!o)
        return ckpt_err_set(err, CKPT_E_NOMEM, "%s: out of memory", name);
    o->fd = -1;
    o->temp_slot = -1;
    o->mode = -1;
    o->digest_to = digest;
    o->path = strdup(name);
    o->buf = malloc(OUT_BUFSIZE);
    o->md = EVP_MD_CTX_new();
    if (!o->path || !o->buf || !o->md || EVP_DigestInit_ex(o->md, EVP_sha256(), NULL) != 1) {
        out_free(o);
        return ckpt_err_set(err, CKPT_E_NOMEM, "%s: out of memory", name);
    }
    *out = o;
    return CKPT_OK;
}

/*
 * A temporary file's pages go to the disk while the rest is being made,
 * not all at the fsync that publishes it: every WRITEBACK_STEP bytes, the
 * write-back of what was written since is started (not waited for; the
 * pages stay cached for a reader that follows).  The fsync then waits for
 * the last step only, as the disk works beside the conversion.  A hint:
 * errors are the fsync's to report.
 */
static void start_writeback(ckpt_out *o)
{
#ifdef SYNC_FILE_RANGE_WRITE
    const uint64_t end = o->written - o->used;
    if (o->is_stdout || end - o->wb_from < WRITEBACK_STEP)
        return;
    (void)sync_file_range(o->fd, (off_t)o->wb_from, (off_t)(end - o->wb_from),
                          SYNC_FILE_RANGE_WRITE);
    o->wb_from = end;
#else
    (void)o;
#endif
}

/*
 * Direct writes.  A large output is written once, and read back (if at
 * all) by a later run: past its first DIRECT_FROM bytes, its whole
 * buffers go to the disk with O_DIRECT, around the page cache.  Copying
 * written bytes into fresh cache pages cost more than the disk's own
 * write on the VM this was measured on (every first touch of a page traps
 * to the hypervisor: cp of a 1.4 GB checkpoint + sync 3.0-3.7 s, the same
 * bytes written direct 2.0-2.6 s), and a 14 GB model's pages would push its
 * source and everything else out of the cache for nothing.  Small outputs,
 * a file's first DIRECT_FROM bytes, its tail (less than a buffer) and
 * patches go through the cache.  A filesystem that refuses O_DIRECT, at
 * fcntl or at a write (EINVAL), gets buffered writes to the end.
 */
static bool set_direct(ckpt_out *o, bool on)
{
    int fl = fcntl(o->fd, F_GETFL);
    if (fl < 0 || fcntl(o->fd, F_SETFL, on ? fl | O_DIRECT : fl & ~O_DIRECT) != 0)
        return false;
    o->direct = on;
    return true;
}

/* Direct or buffered for the n buffered bytes about to be written: direct
 * for a whole buffer at an aligned offset past DIRECT_FROM. */
static void choose_direct(ckpt_out *o, size_t n)
{
    const uint64_t at = o->written - n;
    const bool want = !o->no_direct && n == OUT_BUFSIZE && at >= DIRECT_FROM &&
                      at % DIRECT_ALIGN == 0;
    if (want != o->direct && !set_direct(o, want) && want)
        o->no_direct = true;
}

/* Hash or write n bytes at p, past whatever is buffered (o->used == 0). */
static ckpt_status put(ckpt_out *o, const uint8_t *p, size_t n, ckpt_err *err)
{
    if (o->md) {
        if (n && EVP_DigestUpdate(o->md, p, n) != 1)
            return ckpt_err_set(err, CKPT_E_INTERNAL, "%s: SHA-256 failed", o->path);
        return CKPT_OK;
    }
    size_t done = 0;
    while (done < n) {
        ssize_t k = write(o->fd, p + done, n - done);
        if (k < 0) {
            if (errno == EINTR)
                continue;
            /* no direct writes here after all (or a short one left the
             * rest unaligned): the rest through the cache */
            if (errno == EINVAL && o->direct && set_direct(o, false)) {
                o->no_direct = true;
                continue;
            }
            return ckpt_err_errno(err, CKPT_E_IO, errno, "%s: write",
                                  o->is_stdout && !o->own_fd ? "<stdout>" : o->path);
        }
        done += (size_t)k;
    }
    return CKPT_OK;
}

static ckpt_status flush_buf(ckpt_out *o, ckpt_err *err)
{
    size_t n = o->used;
    if (!o->md && !o->is_stdout)
        choose_direct(o, n);
    o->used = 0; /* put() writes what the buffer held, as it is past nothing now */
    ckpt_status s = put(o, o->buf, n, err);
    if (s != CKPT_OK)
        return s;
    if (!o->md)
        start_writeback(o);
    return CKPT_OK;
}

ckpt_status ckpt_out_write(ckpt_out *o, const void *buf, size_t n, ckpt_err *err)
{
    const uint8_t *p = buf;
    while (n > 0) {
        if (o->used == OUT_BUFSIZE && flush_buf(o, err) != CKPT_OK)
            return err ? err->code : CKPT_E_IO;
        if (o->used == 0 && n >= OUT_BUFSIZE && (o->is_stdout || o->md)) {
            /* a whole buffer's worth or more to a stream or a digest:
             * straight from the caller's memory, without the copy into the
             * buffer (a file's buffers stay whole and aligned, for direct
             * writes) */
            ckpt_status s = put(o, p, n, err);
            if (s != CKPT_OK)
                return s;
            o->written += n;
            if (!o->md)
                start_writeback(o);
            return CKPT_OK;
        }
        size_t take = OUT_BUFSIZE - o->used;
        if (take > n)
            take = n;
        memcpy(o->buf + o->used, p, take);
        o->used += take;
        o->written += take;
        p += take;
        n -= take;
    }
    return CKPT_OK;
}

ckpt_status ckpt_out_zeros(ckpt_out *o, size_t n, ckpt_err *err)
{
    static const uint8_t zeros[256];
    while (n > 0) {
        size_t take = n < sizeof zeros ? n : sizeof zeros;
        ckpt_status s = ckpt_out_write(o, zeros, take, err);
        if (s != CKPT_OK)
            return s;
        n -= take;
    }
    return CKPT_OK;
}

ckpt_status ckpt_out_patch(ckpt_out *o, uint64_t at, const void *buf, size_t n, ckpt_err *err)
{
    if (o->is_stdout || o->md || o->sealed || !o->buf)
        return ckpt_err_set(err, CKPT_E_USAGE, "%s: bytes already sent cannot be patched",
                            o->path);
    if (at > o->written || n > o->written - at)
        return ckpt_err_set(err, CKPT_E_USAGE, "%s: patch of %zu bytes at %llu is past the %llu "
                            "bytes written", o->path, n, (unsigned long long)at,
                            (unsigned long long)o->written);
    const uint8_t *p = buf;
    const uint64_t flushed = o->written - o->used; /* bytes already in the file */
    if (at + n > flushed) { /* the tail still in the buffer */
        uint64_t from = at > flushed ? at : flushed;
        memcpy(o->buf + (from - flushed), p + (from - at), (size_t)(at + n - from));
        n = (size_t)(from - at);
    }
    /* a patch is small and unaligned: through the cache (the next whole
     * buffer turns direct writes back on, choose_direct) */
    if (o->direct && !set_direct(o, false))
        return ckpt_err_errno(err, CKPT_E_IO, errno, "%s: fcntl", o->path);
    size_t done = 0;
    while (done < n) {
        ssize_t k = pwrite(o->fd, p + done, n - done, (off_t)(at + done));
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return ckpt_err_errno(err, CKPT_E_IO, k < 0 ? errno : EIO, "%s: write", o->path);
        done += (size_t)k;
    }
    return CKPT_OK;
}

uint64_t ckpt_out_tell(const ckpt_out *o) { return o->written; }

void ckpt_out_set_mode(ckpt_out *o, unsigned mode) { o->mode = (int)(mode & 07777); }

const char *ckpt_out_path(const ckpt_out *o) { return o->path; }

ckpt_status ckpt_out_seal(ckpt_out *o, ckpt_err *err)
{
    if (o->sealed)
        return CKPT_OK;
    ckpt_status s = flush_buf(o, err);
    if (s != CKPT_OK)
        return s;
    if (o->md) {
        unsigned len = 0;
        if (EVP_DigestFinal_ex(o->md, o->digest_to, &len) != 1 || len != CKPT_OUT_DIGEST_LEN)
            return ckpt_err_set(err, CKPT_E_INTERNAL, "%s: SHA-256 failed", o->path);
    } else if (o->is_stdout) {
        if (o->own_fd && close(o->fd) != 0)
            s = ckpt_err_errno(err, CKPT_E_IO, errno, "%s: close", o->path);
        o->own_fd = false; /* closed, or failed for good */
    } else {
        if (fsync(o->fd) != 0)
            return ckpt_err_errno(err, CKPT_E_IO, errno, "%s: fsync", o->path);
        /* mkstemp creates 0600; give the result the usual umask-based mode
         * unless the caller asked for one (a private key stays 0600 throughout) */
        if (o->mode >= 0) {
            fchmod(o->fd, (mode_t)o->mode);
        } else {
            mode_t mask = umask(0);
            umask(mask);
            fchmod(o->fd, 0666 & ~mask);
        }
        int rc = close(o->fd);
        o->fd = -1;
        if (rc != 0)
            return ckpt_err_errno(err, CKPT_E_IO, errno, "%s: close", o->path);
    }
    if (s == CKPT_OK) {
        /* nothing more is written: the buffer can go before the commit */
        free(o->buf);
        o->buf = NULL;
        o->sealed = true;
    }
    return s;
}

ckpt_status ckpt_out_commit(ckpt_out *o, ckpt_err *err)
{
    ckpt_status s = ckpt_out_seal(o, err);
    if (s != CKPT_OK) {
        ckpt_out_abort(o);
        return s;
    }
    if (o->is_stdout || o->md) {
        out_free(o);
        return CKPT_OK;
    }
    s = check_not_protected(o->path, err);
    if (s != CKPT_OK) {
        ckpt_out_abort(o);
        return s;
    }
    if (publish(o->tmp_path, o->path, o->force) != 0) {
        if (errno == EEXIST)
            s = ckpt_err_set(err, CKPT_E_EXISTS,
                             "%s: appeared while this run was writing it (another writer?); "
                             "use -f to overwrite",
                             o->path);
        else
            s = ckpt_err_errno(err, CKPT_E_IO, errno, "%s: rename", o->path);
        ckpt_out_abort(o);
        return s;
    }
    unregister_temp(o->temp_slot);
    out_free(o);
    return CKPT_OK;
}

void ckpt_out_abort(ckpt_out *o)
{
    if (!o)
        return;
    if (o->own_fd)
        close(o->fd);
    if (!o->is_stdout) {
        if (o->fd >= 0)
            close(o->fd);
        if (o->tmp_path)
            unlink(o->tmp_path);
        unregister_temp(o->temp_slot);
    }
    out_free(o);
}
