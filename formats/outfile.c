/*
 * outfile.c - atomic outputs (see outfile.h).
 */
#define _GNU_SOURCE
#include "outfile.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define OUT_BUFSIZE (4u << 20)
#define MAX_OPEN_TEMPS 16

struct ckpt_out {
    int fd;
    bool is_stdout;
    char *path;     /* final name */
    char *tmp_path; /* temporary in the same directory; NULL for stdout */
    int temp_slot;
    int mode;       /* final file mode; -1: 0666 less the umask */
    uint8_t *buf;
    size_t used;
    uint64_t written;
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

static void on_fatal_signal(int sig)
{
    for (int i = 0; i < MAX_OPEN_TEMPS; i++)
        if (temp_used[i])
            unlink(temp_names[i]);
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

static void out_free(ckpt_out *o)
{
    free(o->path);
    free(o->tmp_path);
    free(o->buf);
    free(o);
}

ckpt_status ckpt_out_open(ckpt_out **out, const char *path, bool force, ckpt_err *err)
{
    *out = NULL;
    ckpt_out *o = calloc(1, sizeof *o);
    if (!o)
        return ckpt_err_set(err, CKPT_E_NOMEM, "%s: out of memory", path);
    o->fd = -1;
    o->temp_slot = -1;
    o->mode = -1;
    o->path = strdup(path);
    o->buf = malloc(OUT_BUFSIZE);
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
        if (!force) {
            out_free(o);
            return ckpt_err_set(err, CKPT_E_EXISTS, "%s: already exists (use -f to overwrite)",
                                path);
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

static ckpt_status flush_buf(ckpt_out *o, ckpt_err *err)
{
    size_t done = 0;
    while (done < o->used) {
        ssize_t n = write(o->fd, o->buf + done, o->used - done);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return ckpt_err_errno(err, CKPT_E_IO, errno, "%s: write",
                                  o->is_stdout ? "<stdout>" : o->path);
        }
        done += (size_t)n;
    }
    o->used = 0;
    return CKPT_OK;
}

ckpt_status ckpt_out_write(ckpt_out *o, const void *buf, size_t n, ckpt_err *err)
{
    const uint8_t *p = buf;
    while (n > 0) {
        if (o->used == OUT_BUFSIZE && flush_buf(o, err) != CKPT_OK)
            return err ? err->code : CKPT_E_IO;
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

uint64_t ckpt_out_tell(const ckpt_out *o) { return o->written; }

void ckpt_out_set_mode(ckpt_out *o, unsigned mode) { o->mode = (int)(mode & 07777); }

const char *ckpt_out_path(const ckpt_out *o) { return o->path; }

ckpt_status ckpt_out_commit(ckpt_out *o, ckpt_err *err)
{
    ckpt_status s = flush_buf(o, err);
    if (s != CKPT_OK) {
        ckpt_out_abort(o);
        return s;
    }
    if (o->is_stdout) {
        out_free(o);
        return CKPT_OK;
    }
    if (fsync(o->fd) != 0) {
        s = ckpt_err_errno(err, CKPT_E_IO, errno, "%s: fsync", o->path);
        ckpt_out_abort(o);
        return s;
    }
    /* mkstemp creates 0600; give the result the usual umask-based mode
     * unless the caller asked for one (a private key stays 0600 throughout) */
    if (o->mode >= 0) {
        fchmod(o->fd, (mode_t)o->mode);
    } else {
        mode_t mask = umask(0);
        umask(mask);
        fchmod(o->fd, 0666 & ~mask);
    }
    if (close(o->fd) != 0) {
        o->fd = -1;
        s = ckpt_err_errno(err, CKPT_E_IO, errno, "%s: close", o->path);
        ckpt_out_abort(o);
        return s;
    }
    o->fd = -1;
    if (rename(o->tmp_path, o->path) != 0) {
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
    if (!o->is_stdout) {
        if (o->fd >= 0)
            close(o->fd);
        if (o->tmp_path)
            unlink(o->tmp_path);
        unregister_temp(o->temp_slot);
    }
    out_free(o);
}
