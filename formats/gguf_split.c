/*
 * gguf_split.c - a split GGUF set read as one model (llama.cpp's layout,
 * gguf.h): the first file, <prefix>-00001-of-<count>.gguf, has the
 * metadata and split.no = 0, split.count, split.tensors.count; part k is
 * <prefix>-<k+1>-of-<count>.gguf beside it, a complete GGUF of its own
 * with split.no = k.  ckpt_gguf_open opens the first file, finds the
 * other parts by name as llama.cpp's model loader does, checks that each
 * is the part it should be, and appends their tensors to the first
 * file's list, each tagged with its part; every tensor's data stays a
 * view into its own file.
 */
#include "gguf_internal.h"

#include "../arch/gguf_keys.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PART_SUFFIX_LEN 20 /* "-00001-of-00003.gguf" */

/* Does `path` end with "-NNNNN-of-NNNNN.gguf"?  Its numbers, if so. */
static bool part_suffix(const char *path, unsigned *no1, unsigned *count)
{
    size_t len = strlen(path);
    if (len < PART_SUFFIX_LEN)
        return false;
    const char *s = path + len - PART_SUFFIX_LEN;
    for (int i = 0; i < PART_SUFFIX_LEN; i++) {
        bool digit = (i >= 1 && i <= 5) || (i >= 10 && i <= 14);
        if (digit ? (s[i] < '0' || s[i] > '9') : s[i] != "-00000-of-00000.gguf"[i])
            return false;
    }
    *no1 = (unsigned)strtoul(s + 1, NULL, 10);
    *count = (unsigned)strtoul(s + 10, NULL, 10);
    return true;
}

ckpt_status ckpt_gguf_split_check_first(const char *path, int64_t count, ckpt_err *err)
{
    unsigned no1, n;
    if (!part_suffix(path, &no1, &n) || no1 != 1 || n != count)
        return ckpt_err_set(err, CKPT_E_FORMAT,
                            "%s: the first file of a split set of %lld must be named "
                            "<prefix>-00001-of-%05lld.gguf, the other parts are found by that "
                            "name (rename it as llama.cpp expects)",
                            path, (long long)count, (long long)count);
    return CKPT_OK;
}

size_t ckpt_gguf_stem_len(const char *path)
{
    unsigned a, b;
    size_t len = strlen(path);
    if (part_suffix(path, &a, &b))
        return len - PART_SUFFIX_LEN;
    return len >= 5 && strcmp(path + len - 5, ".gguf") == 0 ? len - 5 : len;
}

bool ckpt_gguf_split_path(char *buf, size_t size, const char *path, unsigned no, unsigned count)
{
    size_t len = ckpt_gguf_stem_len(path);
    if (len > INT32_MAX)
        return false;
    int n = snprintf(buf, size, "%.*s-%05u-of-%05u.gguf", (int)len, path, no + 1, count);
    return n > 0 && (size_t)n < size;
}

/* An integer split.* key of g, or `absent` when it has none. */
static ckpt_status split_key(const ckpt_gguf *g, const char *key, int64_t absent, int64_t *out,
                             ckpt_err *err)
{
    const struct ckpt_gguf_kv *kv = ckpt_gguf_find_kv(g, key);
    *out = absent;
    if (!kv)
        return CKPT_OK;
    if (!ckpt_gguf_type_is_scalar(kv->type) || kv->type == CKPT_GGUF_BOOL ||
        kv->type == CKPT_GGUF_FLOAT32 || kv->type == CKPT_GGUF_FLOAT64 ||
        !ckpt_gguf_array_i64(kv, 0, out) || *out < 0 || *out > INT32_MAX)
        return ckpt_err_set(err, CKPT_E_FORMAT, "%s: key '%s': not a count (%s)", g->path, key,
                            ckpt_gguf_type_name(kv->type));
    return CKPT_OK;
}

/* Append part p's tensors (part number k) to the set's list in g. */
static ckpt_status take_tensors(ckpt_gguf *g, const ckpt_gguf *p, uint32_t k, ckpt_err *err)
{
    size_t n = g->n_tensors + p->n_tensors;
    struct ckpt_gguf_tensor *t = realloc(g->tensors, (n ? n : 1) * sizeof *t);
    if (!t)
        return ckpt_err_set(err, CKPT_E_NOMEM, "%s: out of memory", p->path);
    g->tensors = t;
    for (size_t i = 0; i < p->n_tensors; i++) {
        size_t dup;
        const struct ckpt_gguf_tensor *x = &p->tensors[i];
        int r = ckpt_gguf_set_add(&g->tensor_set, x->name, g->n_tensors, &dup);
        if (r < 0)
            return ckpt_err_set(err, CKPT_E_NOMEM, "%s: out of memory", p->path);
        if (r > 0)
            return ckpt_err_set(err, CKPT_E_FORMAT,
                                "%s: tensor '%s' is also in %s: a split set names each tensor "
                                "once",
                                p->path, x->name, g->parts[g->tensors[dup].part]->path);
        g->tensors[g->n_tensors] = *x;
        g->tensors[g->n_tensors++].part = k;
    }
    return CKPT_OK;
}

/* Open part k of `count` and check that it is that part of this set. */
static ckpt_status open_part(ckpt_gguf *g, uint32_t k, int64_t count, int64_t total,
                             ckpt_err *err)
{
    char path[4096];
    if (!ckpt_gguf_split_path(path, sizeof path, g->path, k, (unsigned)count))
        return ckpt_err_set(err, CKPT_E_USAGE, "%s: name too long", g->path);
    if (access(path, F_OK) != 0)
        return ckpt_err_errno(err, CKPT_E_IO, errno,
                              "%s: part %u of %lld of the split set %s is missing", path, k + 1,
                              (long long)count, g->path);
    ckpt_gguf *p;
    ckpt_status s = ckpt_gguf_open_file(&p, path, err);
    if (s != CKPT_OK)
        return s;
    g->parts[k] = p;
    g->n_parts = k + 1;
    int64_t no, n, tc;
    if ((s = split_key(p, CKPT_KEY_SPLIT_NO, -1, &no, err)) != CKPT_OK ||
        (s = split_key(p, CKPT_KEY_SPLIT_COUNT, -1, &n, err)) != CKPT_OK ||
        (s = split_key(p, CKPT_KEY_SPLIT_TENSORS_COUNT, -1, &tc, err)) != CKPT_OK)
        return s;
    if (no < 0 || n < 0 || tc < 0)
        return ckpt_err_set(err, CKPT_E_FORMAT,
                            "%s: no %s: not a file of a split set (part %u of %s)", path,
                            no < 0 ? CKPT_KEY_SPLIT_NO
                            : n < 0 ? CKPT_KEY_SPLIT_COUNT
                                    : CKPT_KEY_SPLIT_TENSORS_COUNT,
                            k + 1, g->path);
    if (no != k)
        return ckpt_err_set(err, CKPT_E_FORMAT,
                            "%s: split.no is %lld where part %u of the set %s belongs (a part "
                            "copied or renamed?)",
                            path, (long long)no, k + 1, g->path);
    if (n != count)
        return ckpt_err_set(err, CKPT_E_FORMAT,
                            "%s: split.count is %lld, the first file %s says %lld: parts of "
                            "different sets",
                            path, (long long)n, g->path, (long long)count);
    if (tc != total)
        return ckpt_err_set(err, CKPT_E_FORMAT,
                            "%s: split.tensors.count is %lld, the first file %s says %lld: parts "
                            "of different sets",
                            path, (long long)tc, g->path, (long long)total);
    return take_tensors(g, p, k, err);
}

/* g is the first file of a set of `count`: open the rest. */
static ckpt_status open_rest(ckpt_gguf *g, int64_t count, ckpt_err *err)
{
    int64_t total;
    ckpt_status s = split_key(g, CKPT_KEY_SPLIT_TENSORS_COUNT, -1, &total, err);
    if (s != CKPT_OK)
        return s;
    if (total < 0)
        return ckpt_err_set(err, CKPT_E_FORMAT, "%s: split.count %lld without split.tensors.count",
                            g->path, (long long)count);
    if (strcmp(g->path, "-") == 0)
        return ckpt_err_set(err, CKPT_E_USAGE,
                            "<stdin>: the first file of a split set of %lld; its other parts "
                            "cannot come through a pipe: give the first file's name",
                            (long long)count);
    if ((s = ckpt_gguf_split_check_first(g->path, count, err)) != CKPT_OK)
        return s;
    if (!(g->parts = calloc((size_t)count, sizeof *g->parts)))
        return ckpt_err_set(err, CKPT_E_NOMEM, "%s: out of memory", g->path);
    g->parts[0] = g;
    g->n_parts = 1;
    for (uint32_t k = 1; k < count && s == CKPT_OK; k++)
        s = open_part(g, k, count, total, err);
    if (s == CKPT_OK && (uint64_t)total != g->n_tensors)
        s = ckpt_err_set(err, CKPT_E_FORMAT,
                         "%s: split.tensors.count is %lld, the %lld parts hold %zu tensors",
                         g->path, (long long)total, (long long)count, g->n_tensors);
    return s;
}

ckpt_status ckpt_gguf_open(ckpt_gguf **out, const char *path, ckpt_err *err)
{
    ckpt_gguf *g;
    int64_t no, count;
    *out = NULL;
    ckpt_status s = ckpt_gguf_open_file(&g, path, err);
    if (s != CKPT_OK)
        return s;
    if ((s = split_key(g, CKPT_KEY_SPLIT_NO, 0, &no, err)) == CKPT_OK &&
        (s = split_key(g, CKPT_KEY_SPLIT_COUNT, 1, &count, err)) == CKPT_OK) {
        char first[4096];
        if (count == 0 || no >= count)
            s = ckpt_err_set(err, CKPT_E_FORMAT, "%s: split.no %lld of split.count %lld",
                             path, (long long)no, (long long)count);
        else if (no > 0)
            s = ckpt_err_set(err, CKPT_E_USAGE,
                             "%s: part %lld of a split set of %lld: give the first file (%s)",
                             path, (long long)no + 1, (long long)count,
                             ckpt_gguf_split_path(first, sizeof first, path, 0, (unsigned)count)
                                 ? first
                                 : "<prefix>-00001-of-...");
        else if (count > 1)
            s = open_rest(g, count, err);
    }
    if (s != CKPT_OK) {
        ckpt_gguf_close(g);
        return s;
    }
    *out = g;
    return CKPT_OK;
}

size_t ckpt_gguf_n_parts(const ckpt_gguf *g) { return g->parts ? g->n_parts : 1; }

const ckpt_gguf *ckpt_gguf_part(const ckpt_gguf *g, size_t i)
{
    if (!g->parts)
        return i == 0 ? g : NULL;
    return i < g->n_parts ? g->parts[i] : NULL;
}

uint64_t ckpt_gguf_set_size(const ckpt_gguf *g)
{
    uint64_t n = 0;
    for (size_t i = 0; i < ckpt_gguf_n_parts(g); i++)
        n += ckpt_gguf_part(g, i)->size;
    return n;
}
