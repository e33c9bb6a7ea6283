/*
 * quant_listing.h - the golden listings of llama.cpp's converter and
 * llama-quantize (the .tensors.tsv and .kv.tsv files of tests/data/golden/<kit>, see
 * the README there) as the quant suites read them.  Header-only: static
 * functions for the test files that include it.
 */
#ifndef CKPT_TESTS_QUANT_LISTING_H
#define CKPT_TESTS_QUANT_LISTING_H

#include <check.h>
#include <openssl/evp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

struct ql_tensor {
    const char *name;
    int type;        /* ggml type id */
    int64_t ne[4];   /* unused dims 1 */
    int n_dims;
    const char *sha; /* hex sha256 of the data bytes */
};

struct ql_listing {
    struct ql_tensor *t;
    size_t n;
    char *text;      /* owns the strings */
};

/* Parse golden/<kit>/<file> (name, type, shape, sha256 per line); asserts on error. */
static inline struct ql_listing ql_load(const char *kit, const char *file)
{
    struct ql_listing l = {0};
    char *rel = tu_fmt("golden/%s/%s", kit, file);
    char *path = tu_data(rel);
    l.text = tu_read_file(path, NULL);
    ck_assert_msg(l.text != NULL, "cannot read %s", path);
    size_t cap = 0;
    for (char *p = l.text; *p; p++)
        cap += *p == '\n';
    l.t = calloc(cap + 1, sizeof *l.t);
    char *save = NULL;
    for (char *line = strtok_r(l.text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        struct ql_tensor *t = &l.t[l.n++];
        char *f[4];
        char *s2 = NULL;
        int k = 0;
        for (char *c = strtok_r(line, "\t", &s2); c && k < 4; c = strtok_r(NULL, "\t", &s2))
            f[k++] = c;
        ck_assert_msg(k == 4, "%s: short line", path);
        t->name = f[0];
        t->type = atoi(f[1]);
        t->ne[0] = t->ne[1] = t->ne[2] = t->ne[3] = 1;
        char *p = f[2];
        while (*p && t->n_dims < 4) {
            t->ne[t->n_dims++] = strtoll(p, &p, 10);
            if (*p == ',')
                p++;
        }
        t->sha = f[3];
    }
    free(path);
    free(rel);
    return l;
}

static inline const struct ql_tensor *ql_find(const struct ql_listing *l, const char *name)
{
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->t[i].name, name) == 0)
            return &l->t[i];
    return NULL;
}

static inline void ql_free(struct ql_listing *l)
{
    free(l->t);
    free(l->text);
    memset(l, 0, sizeof *l);
}

/* Value of `key` in golden/<kit>/<file> (a .kv.tsv), malloc'd; NULL if absent. */
static inline char *ql_kv(const char *kit, const char *file, const char *key)
{
    char *rel = tu_fmt("golden/%s/%s", kit, file);
    char *path = tu_data(rel);
    char *text = tu_read_file(path, NULL);
    ck_assert_msg(text != NULL, "cannot read %s", path);
    char *val = NULL;
    size_t kl = strlen(key);
    for (char *line = text; *line;) {
        char *nl = strchr(line, '\n');
        if (nl)
            *nl = '\0';
        if (strncmp(line, key, kl) == 0 && line[kl] == '\t') {
            val = strdup(line + kl + 1);
            break;
        }
        if (!nl)
            break;
        line = nl + 1;
    }
    free(text);
    free(path);
    free(rel);
    return val;
}

/* Integer value of a key, or `dflt` when the key is absent. */
static inline long ql_kv_int(const char *kit, const char *file, const char *key, long dflt)
{
    char *v = ql_kv(kit, file, key);
    long r = v ? strtol(v, NULL, 10) : dflt;
    free(v);
    return r;
}

/* sha256 (hex, malloc'd) of the whole file at path; asserts it can be read. */
static inline char *ql_file_sha(const char *path)
{
    size_t n;
    void *d = tu_read_file(path, &n);
    ck_assert_msg(d != NULL, "cannot read %s", path);
    char *hex = malloc(65);
    ck_assert(tu_sha256_hex(d, n, hex) == 0);
    free(d);
    return hex;
}

/* Whole-file sha256 of `file` in golden/<kit>/quant-summary.tsv (malloc'd), or NULL. */
static inline char *ql_summary_sha(const char *kit, const char *file)
{
    char *rel = tu_fmt("golden/%s/quant-summary.tsv", kit);
    char *path = tu_data(rel);
    char *text = tu_read_file(path, NULL);
    ck_assert_msg(text != NULL, "cannot read %s", path);
    char *sha = NULL, *save = NULL;
    for (char *line = strtok_r(text, "\n", &save); line && !sha;
         line = strtok_r(NULL, "\n", &save)) {
        char *t1 = strchr(line, '\t');
        if (!t1 || (size_t)(t1 - line) != strlen(file) || strncmp(line, file, strlen(file)) != 0)
            continue;
        char *t2 = strchr(t1 + 1, '\t');
        if (t2)
            sha = strndup(t2 + 1, 64);
    }
    free(text);
    free(path);
    free(rel);
    return sha;
}

#endif
