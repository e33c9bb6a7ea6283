/*
 * tree.c - list the regular files of a directory tree (see tree.h).
 */
#include "tree.h"
#include "path.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "json_strict.h"

struct list {
    char **names;
    size_t n, cap;
};

static ckpt_status push(struct list *l, char *name, ckpt_err *err)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 64;
        char **r = realloc(l->names, cap * sizeof *r);
        if (!r) {
            free(name);
            return ckpt_err_set(err, CKPT_E_NOMEM, "out of memory listing files");
        }
        l->names = r;
        l->cap = cap;
    }
    l->names[l->n++] = name;
    return CKPT_OK;
}

/* Walk root/rel (rel "" for the root itself). */
static ckpt_status walk(const char *root, const char *rel, int depth,
                        const struct ckpt_manifest *ignore, struct list *l, ckpt_err *err)
{
    if (depth > CKPT_TREE_MAX_DEPTH)
        return ckpt_err_set(err, CKPT_E_RANGE, "%s/%s: directories nested too deeply", root,
                            rel);
    char *dirpath = ckpt_path_join(root, rel);
    if (!dirpath)
        return ckpt_err_set(err, CKPT_E_NOMEM, "out of memory listing files");
    DIR *d = opendir(dirpath);
    if (!d) {
        ckpt_status s = ckpt_err_errno(err, CKPT_E_IO, errno, "%s", dirpath);
        free(dirpath);
        return s;
    }
    ckpt_status s = CKPT_OK;
    struct dirent *e;
    errno = 0;
    while (s == CKPT_OK && (e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        size_t rl = strlen(rel), nl = strlen(e->d_name);
        char *child = malloc(rl + nl + 2);
        if (!child) {
            s = ckpt_err_set(err, CKPT_E_NOMEM, "out of memory listing files");
            break;
        }
        if (rl)
            snprintf(child, rl + nl + 2, "%s/%s", rel, e->d_name);
        else
            memcpy(child, e->d_name, nl + 1);
        if (ignore && ckpt_manifest_is_ignored(ignore, child)) {
            free(child);
            continue;
        }
        char *full = ckpt_path_join(root, child);
        struct stat st;
        if (!full) {
            free(child);
            s = ckpt_err_set(err, CKPT_E_NOMEM, "out of memory listing files");
            break;
        }
        size_t bad;
        if (!ckpt_utf8_valid((const uint8_t *)e->d_name, nl, &bad))
            s = ckpt_err_set(err, CKPT_E_UNSUPPORTED, "%s: file name is not UTF-8", full);
        else if (lstat(full, &st) != 0)
            s = ckpt_err_errno(err, CKPT_E_IO, errno, "%s", full);
        else if (S_ISLNK(st.st_mode))
            s = ckpt_err_set(err, CKPT_E_UNSUPPORTED,
                             "%s: is a symbolic link (links are not followed)", full);
        else if (S_ISDIR(st.st_mode))
            s = walk(root, child, depth + 1, ignore, l, err);
        else if (!S_ISREG(st.st_mode))
            s = ckpt_err_set(err, CKPT_E_UNSUPPORTED, "%s: not a regular file", full);
        free(full);
        if (s == CKPT_OK && S_ISREG(st.st_mode)) {
            s = push(l, child, err);
            child = NULL;
        }
        free(child);
        errno = 0;
    }
    if (s == CKPT_OK && errno != 0)
        s = ckpt_err_errno(err, CKPT_E_IO, errno, "%s: readdir", dirpath);
    closedir(d);
    free(dirpath);
    return s;
}

static int by_name(const void *a, const void *b)
{
    return ckpt_manifest_name_cmp(*(const char *const *)a, *(const char *const *)b);
}

ckpt_status ckpt_tree_list(const char *dir, const struct ckpt_manifest *ignore, char ***names,
                           size_t *n, ckpt_err *err)
{
    struct list l = {0};
    *names = NULL;
    *n = 0;
    ckpt_status s = walk(dir, "", 0, ignore, &l, err);
    if (s != CKPT_OK) {
        ckpt_tree_free(l.names, l.n);
        return s;
    }
    if (l.n > 1)
        qsort(l.names, l.n, sizeof *l.names, by_name);
    *names = l.names;
    *n = l.n;
    return CKPT_OK;
}

void ckpt_tree_free(char **names, size_t n)
{
    for (size_t i = 0; names && i < n; i++)
        free(names[i]);
    free(names);
}
