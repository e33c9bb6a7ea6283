/*
 * outdir.c - output directories published whole (see outdir.h).
 */
#define _GNU_SOURCE
#include "outdir.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct ckpt_outdir {
    char *path; /* final name */
    char *tmp;  /* the temporary directory beside it */
    bool force;
    struct ckpt_outdir_digests *digests; /* a digest directory: no tmp */
};

/* Remove the regular files directly inside dir, then dir itself. */
static void remove_flat(const char *dir)
{
    DIR *d = opendir(dir);
    if (d) {
        struct dirent *e;
        char p[4096];
        while ((e = readdir(d)) != NULL) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                continue;
            if ((size_t)snprintf(p, sizeof p, "%s/%s", dir, e->d_name) < sizeof p)
                unlink(p);
        }
        closedir(d);
    }
    rmdir(dir);
}

/* "DIR/.BASE.tag-XXXXXX" for path "DIR/BASE" (malloc'd), or NULL. */
static char *beside(const char *path, const char *tag)
{
    size_t len = strlen(path);
    while (len > 1 && path[len - 1] == '/')
        len--;
    size_t base = len;
    while (base > 0 && path[base - 1] != '/')
        base--;
    size_t n = len + strlen(tag) + 16;
    char *s = malloc(n);
    if (s)
        snprintf(s, n, "%.*s.%.*s.%s-XXXXXX", (int)base, path, (int)(len - base), path + base,
                 tag);
    return s;
}

ckpt_status ckpt_outdir_open(ckpt_outdir **out, const char *path, bool force, ckpt_err *err)
{
    *out = NULL;
    struct stat st;
    if (lstat(path, &st) == 0) {
        if (!S_ISDIR(st.st_mode))
            return ckpt_err_set(err, CKPT_E_EXISTS, "%s: exists and is not a directory", path);
        if (!force)
            return ckpt_err_set(err, CKPT_E_EXISTS, "%s: already exists (use -f to replace it)",
                                path);
    }
    ckpt_outdir *d = calloc(1, sizeof *d);
    if (!d || !(d->path = strdup(path)) || !(d->tmp = beside(path, "tmp"))) {
        ckpt_outdir_abort(d);
        return ckpt_err_set(err, CKPT_E_NOMEM, "%s: out of memory", path);
    }
    if (!mkdtemp(d->tmp)) {
        ckpt_status s = ckpt_err_set(err, CKPT_E_IO, "%s: cannot create a directory beside it: %s",
                                     path, strerror(errno));
        free(d->tmp);
        d->tmp = NULL;
        ckpt_outdir_abort(d);
        return s;
    }
    mode_t um = umask(0); /* mkdtemp makes 0700: give it what mkdir would */
    umask(um);
    chmod(d->tmp, 0777 & ~um);
    d->force = force;
    *out = d;
    return CKPT_OK;
}

ckpt_status ckpt_outdir_open_digest(ckpt_outdir **out, const char *path,
                                    struct ckpt_outdir_digests *into, ckpt_err *err)
{
    ckpt_outdir *d = calloc(1, sizeof *d);
    if (!d || !(d->path = strdup(path))) {
        free(d);
        return ckpt_err_set(err, CKPT_E_NOMEM, "%s: out of memory", path);
    }
    d->digests = into;
    *out = d;
    return CKPT_OK;
}

ckpt_status ckpt_outdir_out_open(ckpt_outdir *d, const char *name, ckpt_out **out,
                                 ckpt_err *err)
{
    *out = NULL;
    char path[4096];
    if (!d->digests) {
        if (!ckpt_outdir_file(d, name, path, sizeof path))
            return ckpt_err_set(err, CKPT_E_USAGE, "%s: path too long", d->path);
        return ckpt_out_open(out, path, false, err);
    }
    struct ckpt_outdir_digests *ds = d->digests;
    struct ckpt_outdir_digest *f = calloc(1, sizeof *f);
    struct ckpt_outdir_digest **n = f ? realloc(ds->files, (ds->n + 1) * sizeof *n) : NULL;
    if (!n) {
        free(f);
        return ckpt_err_set(err, CKPT_E_NOMEM, "%s: out of memory", d->path);
    }
    ds->files = n;
    ds->files[ds->n++] = f;
    snprintf(f->name, sizeof f->name, "%s", name);
    snprintf(path, sizeof path, "%s/%s", d->path, name);
    return ckpt_out_open_digest(out, path, f->sha256, err);
}

struct ckpt_outdir_part *ckpt_outdir_parts(ckpt_outdir *d, size_t n)
{
    struct ckpt_outdir_digests *ds = d->digests;
    if (!ds || !ds->n || ds->files[ds->n - 1]->parts)
        return NULL;
    struct ckpt_outdir_digest *f = ds->files[ds->n - 1];
    if ((f->parts = calloc(n + 1, sizeof *f->parts)))
        f->n_parts = n;
    return f->parts;
}

void ckpt_outdir_digests_free(struct ckpt_outdir_digests *ds)
{
    for (size_t i = 0; ds && i < ds->n; i++) {
        free(ds->files[i]->parts);
        free(ds->files[i]);
    }
    if (ds) {
        free(ds->files);
        ds->files = NULL;
        ds->n = 0;
    }
}

bool ckpt_outdir_file(const ckpt_outdir *d, const char *name, char *buf, size_t n)
{
    return (size_t)snprintf(buf, n, "%s/%s", d->tmp, name) < n;
}

const char *ckpt_outdir_path(const ckpt_outdir *d) { return d->path; }

static ckpt_status sync_dir(const char *dir, ckpt_err *err)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0 || fsync(fd) != 0) {
        ckpt_status s = ckpt_err_set(err, CKPT_E_IO, "%s: %s", dir, strerror(errno));
        if (fd >= 0)
            close(fd);
        return s;
    }
    close(fd);
    return CKPT_OK;
}

ckpt_status ckpt_outdir_commit(ckpt_outdir *d, ckpt_err *err)
{
    if (d->digests) { /* each file sealed its digest on its own commit */
        ckpt_outdir_abort(d);
        return CKPT_OK;
    }
    ckpt_status s = sync_dir(d->tmp, err);
    char *old = NULL;
    struct stat st;
    if (s == CKPT_OK && lstat(d->path, &st) == 0) {
        /* appeared meanwhile, or replaced on purpose: only with force */
        if (!d->force || !S_ISDIR(st.st_mode))
            s = ckpt_err_set(err, CKPT_E_EXISTS, "%s: already exists (use -f to replace it)",
                             d->path);
        else if (!(old = beside(d->path, "old")) || !mkdtemp(old))
            s = ckpt_err_set(err, CKPT_E_IO, "%s: cannot move the old directory aside: %s",
                             d->path, strerror(errno));
        else if (rename(d->path, old) != 0) /* onto the empty directory made for it */
            s = ckpt_err_set(err, CKPT_E_IO, "%s: cannot move the old directory aside: %s",
                             d->path, strerror(errno));
    }
    if (s == CKPT_OK && rename(d->tmp, d->path) != 0) {
        s = ckpt_err_set(err, CKPT_E_IO, "%s: cannot publish: %s", d->path, strerror(errno));
        if (old)
            rename(old, d->path); /* put the old one back */
    }
    if (old) {
        if (s == CKPT_OK)
            remove_flat(old);
        else
            rmdir(old);
        free(old);
    }
    if (s == CKPT_OK) {
        free(d->tmp);
        d->tmp = NULL;
    }
    ckpt_outdir_abort(d);
    return s;
}

void ckpt_outdir_abort(ckpt_outdir *d)
{
    if (!d)
        return;
    if (d->tmp)
        remove_flat(d->tmp);
    free(d->tmp);
    free(d->path);
    free(d);
}
