/*
 * artifact.c - a model file or directory and its signature paths
 * (see artifact.h).
 */
#define _XOPEN_SOURCE 700 /* realpath */
#include "artifact.h"
#include "../arch/gguf_keys.h"
#include "../formats/gguf.h"

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static char *cat3(const char *a, const char *b, const char *c)
{
    size_t x = strlen(a), y = strlen(b), z = strlen(c);
    char *p = malloc(x + y + z + 1);
    if (p) {
        memcpy(p, a, x);
        memcpy(p + x, b, y);
        memcpy(p + x + y, c, z + 1);
    }
    return p;
}

const char *ckpt_artifact_basename(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

char *ckpt_artifact_dirname(const char *path)
{
    const char *s = strrchr(path, '/');
    if (!s)
        return strdup(".");
    if (s == path)
        return strdup("/");
    return strndup(path, (size_t)(s - path));
}

void ckpt_artifact_free(struct ckpt_artifact *a)
{
    if (!a)
        return;
    free(a->path);
    free(a->real);
    free(a->name);
    free(a->sig);
    free(a->sums);
    for (size_t i = 0; i < a->n_parts; i++)
        free(a->parts[i]);
    free(a->parts);
    free(a->dir);
    memset(a, 0, sizeof *a);
}

/* An integer split.* key of g, or -1. */
static int64_t split_key(const ckpt_gguf *g, const char *key)
{
    int64_t v;
    const struct ckpt_gguf_kv *kv = ckpt_gguf_find_kv(g, key);
    return kv && ckpt_gguf_array_i64(kv, 0, &v) && v >= 0 && v <= UINT16_MAX ? v : -1;
}

/* A split GGUF set's first file: list the set's files (by name, as every
 * reader finds them). */
static ckpt_status find_set(struct ckpt_artifact *a, ckpt_err *err)
{
    ckpt_gguf *g;
    if (!ckpt_gguf_has_magic(a->path) || ckpt_gguf_open_file(&g, a->path, NULL) != CKPT_OK)
        return CKPT_OK; /* not a GGUF, or a broken one: a file like any other */
    int64_t no = split_key(g, CKPT_KEY_SPLIT_NO), count = split_key(g, CKPT_KEY_SPLIT_COUNT);
    ckpt_gguf_close(g);
    if (count < 2)
        return CKPT_OK;
    char name[4096];
    if (no != 0)
        return ckpt_err_set(err, CKPT_E_FORMAT,
                            "%s: file %lld of a split set of %lld: give the set's first file",
                            a->path, (long long)no + 1, (long long)count);
    ckpt_status s = ckpt_gguf_split_check_first(a->path, count, err);
    if (s != CKPT_OK)
        return s;
    if (!(a->parts = calloc((size_t)count, sizeof *a->parts)) ||
        !(a->dir = ckpt_artifact_dirname(a->path)))
        return ckpt_err_set(err, CKPT_E_NOMEM, "%s: out of memory", a->path);
    for (a->n_parts = 0; a->n_parts < (size_t)count; a->n_parts++) {
        if (!ckpt_gguf_split_path(name, sizeof name, a->path, (unsigned)a->n_parts,
                                  (unsigned)count))
            return ckpt_err_set(err, CKPT_E_RANGE, "%s: the name is too long", a->path);
        if (!(a->parts[a->n_parts] = strdup(ckpt_artifact_basename(name))))
            return ckpt_err_set(err, CKPT_E_NOMEM, "%s: out of memory", a->path);
    }
    return CKPT_OK;
}

ckpt_status ckpt_artifact_open(struct ckpt_artifact *a, const char *path, ckpt_err *err)
{
    memset(a, 0, sizeof *a);
    struct stat st;
    /* "dir/" names the directory, not a link to it */
    size_t len = strlen(path);
    while (len > 1 && path[len - 1] == '/')
        len--;
    if (!(a->path = strndup(path, len)))
        return ckpt_err_set(err, CKPT_E_NOMEM, "%s: out of memory", path);
    if (lstat(a->path, &st) != 0)
        return ckpt_err_errno(err, CKPT_E_IO, errno, "%s", a->path);
    if (S_ISLNK(st.st_mode))
        return ckpt_err_set(err, CKPT_E_UNSUPPORTED,
                            "%s: is a symbolic link (name the file or directory itself)",
                            a->path);
    if (!S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode))
        return ckpt_err_set(err, CKPT_E_UNSUPPORTED, "%s: not a regular file or directory",
                            a->path);
    a->is_dir = S_ISDIR(st.st_mode);
    if (!(a->real = realpath(a->path, NULL)))
        return ckpt_err_errno(err, CKPT_E_IO, errno, "%s", a->path);
    const char *base = ckpt_artifact_basename(a->real);
    a->name = strdup(*base ? base : "/");
    if (a->is_dir) {
        a->sig = cat3(a->path, "/", CKPT_DIR_SIGNATURE);
        a->sums = cat3(a->path, "/", CKPT_SUMS_NAME);
    } else {
        char *dir = ckpt_artifact_dirname(a->path);
        a->sig = cat3(a->path, ".sig", "");
        a->sums = dir ? cat3(dir, "/", CKPT_SUMS_NAME) : NULL;
        free(dir);
    }
    if (!a->name || !a->sig || !a->sums)
        return ckpt_err_set(err, CKPT_E_NOMEM, "%s: out of memory", a->path);
    return a->is_dir ? CKPT_OK : find_set(a, err);
}

bool ckpt_artifact_inside(const struct ckpt_artifact *a, const char *path, char **rel)
{
    *rel = NULL;
    if (!a->is_dir)
        return false;
    char *full = realpath(path, NULL);
    if (!full) {
        char *dir = ckpt_artifact_dirname(path), *rdir = dir ? realpath(dir, NULL) : NULL;
        const char *base = ckpt_artifact_basename(path);
        if (rdir && *base && strcmp(base, ".") != 0 && strcmp(base, "..") != 0)
            full = cat3(rdir, "/", base);
        free(dir);
        free(rdir);
    }
    if (!full)
        return false;
    size_t n = strlen(a->real);
    bool in = strncmp(full, a->real, n) == 0 && full[n] == '/' && full[n + 1] != '\0';
    if (in)
        *rel = strdup(full + n + 1);
    free(full);
    return in && *rel;
}
