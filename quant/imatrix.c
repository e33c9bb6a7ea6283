/*
 * imatrix.c - read llama.cpp's importance matrices (see imatrix.h).
 *
 * Legacy .dat, all little-endian, integers i32:
 *   n_entries
 *   n_entries x { name_len | name bytes (no NUL) | ncall | nval | nval x f32 }
 *   [ chunk count | dataset_len | dataset bytes ]     optional trailer
 * Each value is Σx²·ncall/count; dividing by ncall (when > 0) gives the
 * weights.  GGUF: tensors NAME.in_sum2 (F32 [ne0, n_mat]) and NAME.counts
 * (F32, n_mat values), keys imatrix.chunk_count and imatrix.datasets.
 */
#include "imatrix.h"

#include "../arch/gguf_keys.h"
#include "../formats/gguf.h"
#include "../formats/le.h"
#include "../formats/mapfile.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_NAME 4096 /* far above any tensor name; a guard against garbage */

struct entry {
    char *name;
    float *v;
    size_t n;
};

struct byname {
    const char *name;
    size_t i;
};

struct ckpt_imatrix {
    struct entry *e;
    size_t n, cap;
    struct byname *sorted; /* entries by name, for lookups */
    char *dataset;
    int32_t chunks;
    bool from_file;        /* loaded from a file: its identity follows */
    uint64_t dev, ino;
};

void ckpt_imatrix_free(ckpt_imatrix *im)
{
    if (!im)
        return;
    for (size_t i = 0; i < im->n; i++) {
        free(im->e[i].name);
        free(im->e[i].v);
    }
    free(im->e);
    free(im->sorted);
    free(im->dataset);
    free(im);
}

size_t ckpt_imatrix_n_entries(const ckpt_imatrix *im) { return im->n; }
const char *ckpt_imatrix_dataset(const ckpt_imatrix *im) { return im->dataset; }
int32_t ckpt_imatrix_chunks(const ckpt_imatrix *im) { return im->chunks; }

const char *ckpt_imatrix_entry(const ckpt_imatrix *im, size_t i, const float **values, size_t *n)
{
    if (i >= im->n)
        return NULL;
    if (values)
        *values = im->e[i].v;
    if (n)
        *n = im->e[i].n;
    return im->e[i].name;
}

/* New entry with a copy of name[0..len) and room for n values. */
static ckpt_status add_entry(ckpt_imatrix *im, const char *file, const char *name, size_t len,
                             size_t n, struct entry **out, ckpt_err *err)
{
    if (im->n == im->cap) {
        size_t cap = im->cap ? im->cap * 2 : 64;
        struct entry *e = realloc(im->e, cap * sizeof *e);
        if (!e)
            return ckpt_err_set(err, CKPT_E_NOMEM, "%s: out of memory", file);
        im->e = e;
        im->cap = cap;
    }
    struct entry *e = &im->e[im->n];
    e->name = malloc(len + 1);
    e->v = malloc(n * sizeof *e->v);
    e->n = n;
    if (!e->name || !e->v) {
        free(e->name);
        free(e->v);
        return ckpt_err_set(err, CKPT_E_NOMEM, "%s: out of memory for entry of %zu values",
                            file, n);
    }
    memcpy(e->name, name, len);
    e->name[len] = '\0';
    im->n++;
    *out = e;
    return CKPT_OK;
}

static const char *what_value(float v)
{
    return isnan(v) ? "nan" : "infinite";
}

/* ==== legacy .dat ==== */

static bool rd_i32(struct ckpt_rd *rd, int32_t *v)
{
    uint32_t u;
    if (!ckpt_rd_u32(rd, &u))
        return false;
    memcpy(v, &u, 4);
    return true;
}

static ckpt_status load_dat(ckpt_imatrix *im, const char *file, const uint8_t *data, size_t size,
                            ckpt_err *err)
{
    struct ckpt_rd rd;
    ckpt_rd_init(&rd, data, size);
    int32_t n_entries;
    if (!rd_i32(&rd, &n_entries))
        return ckpt_err_set(err, CKPT_E_FORMAT, "%s: too short for an imatrix", file);
    /* each entry takes at least 4 + 1 + 4 + 4 + 4 bytes */
    if (n_entries < 0 || (uint64_t)n_entries > ckpt_rd_left(&rd) / 17)
        return ckpt_err_set(err, CKPT_E_FORMAT,
                            "%s: entry count %d does not fit in the file's %zu bytes", file,
                            (int)n_entries, size);
    for (int32_t i = 0; i < n_entries; i++) {
        int32_t len, ncall, nval;
        const uint8_t *name;
        if (!rd_i32(&rd, &len))
            return ckpt_err_set(err, CKPT_E_FORMAT, "%s: entry %d: truncated", file, (int)i);
        if (len < 1 || len > MAX_NAME || !ckpt_rd_bytes(&rd, (uint64_t)len, &name))
            return ckpt_err_set(err, CKPT_E_FORMAT,
                                "%s: entry %d: name length %d out of range (1..%d, %zu bytes "
                                "left)",
                                file, (int)i, (int)len, MAX_NAME, ckpt_rd_left(&rd));
        if (memchr(name, '\0', (size_t)len))
            return ckpt_err_set(err, CKPT_E_FORMAT, "%s: entry %d: NUL byte in its name", file,
                                (int)i);
        const int nl = (int)len;
        if (!rd_i32(&rd, &ncall) || !rd_i32(&rd, &nval))
            return ckpt_err_set(err, CKPT_E_FORMAT, "%s: entry '%.*s': truncated", file, nl,
                                (const char *)name);
        if (ncall < 0)
            return ckpt_err_set(err, CKPT_E_FORMAT, "%s: entry '%.*s': negative call count %d",
                                file, nl, (const char *)name, (int)ncall);
        const uint8_t *vals;
        if (nval < 1 || !ckpt_rd_bytes(&rd, (uint64_t)nval * 4, &vals))
            return ckpt_err_set(err, CKPT_E_FORMAT,
                                "%s: entry '%.*s': %d values do not fit in the %zu bytes left",
                                file, nl, (const char *)name, (int)nval, ckpt_rd_left(&rd));
        struct entry *e;
        ckpt_status st =
            add_entry(im, file, (const char *)name, (size_t)len, (size_t)nval, &e, err);
        if (st != CKPT_OK)
            return st;
        for (int32_t j = 0; j < nval; j++) {
            float v = lef32dec(vals + 4 * (size_t)j);
            if (!isfinite(v))
                return ckpt_err_set(err, CKPT_E_VALUE, "%s: entry '%s': value %d is %s", file,
                                    e->name, (int)j, what_value(v));
            e->v[j] = ncall > 0 ? v / (float)ncall : v;
        }
    }
    /* optional trailer: chunk count, then the dataset name */
    if (ckpt_rd_left(&rd) > 0) {
        int32_t chunks, dlen;
        const uint8_t *ds;
        if (!rd_i32(&rd, &chunks) || chunks < 0)
            return ckpt_err_set(err, CKPT_E_FORMAT, "%s: bad chunk count after the entries",
                                file);
        im->chunks = chunks;
        if (ckpt_rd_left(&rd) > 0) {
            if (!rd_i32(&rd, &dlen) || dlen < 0 || !ckpt_rd_bytes(&rd, (uint64_t)dlen, &ds))
                return ckpt_err_set(err, CKPT_E_FORMAT,
                                    "%s: dataset name length out of range (%zu bytes left)",
                                    file, ckpt_rd_left(&rd));
            if (memchr(ds, '\0', (size_t)dlen))
                return ckpt_err_set(err, CKPT_E_FORMAT, "%s: NUL byte in the dataset name",
                                    file);
            if (!(im->dataset = malloc((size_t)dlen + 1)))
                return ckpt_err_set(err, CKPT_E_NOMEM, "%s: out of memory", file);
            memcpy(im->dataset, ds, (size_t)dlen);
            im->dataset[dlen] = '\0';
        }
        if (ckpt_rd_left(&rd) > 0)
            return ckpt_err_set(err, CKPT_E_FORMAT, "%s: %zu unexpected bytes at the end", file,
                                ckpt_rd_left(&rd));
    }
    return CKPT_OK;
}

/* ==== GGUF imatrix ==== */

static bool strip_suffix(const char *s, const char *suffix, size_t *len)
{
    size_t n = strlen(s), m = strlen(suffix);
    if (n <= m || strcmp(s + n - m, suffix) != 0)
        return false;
    *len = n - m;
    return true;
}

/* The .counts tensor of the entry whose name is base[0..len). */
static const struct ckpt_gguf_tensor *find_counts(const ckpt_gguf *g, const char *base, size_t len)
{
    for (size_t i = 0; i < ckpt_gguf_n_tensors(g); i++) {
        const struct ckpt_gguf_tensor *t = ckpt_gguf_tensor(g, i);
        size_t l;
        if (strip_suffix(t->name, ".counts", &l) && l == len && memcmp(t->name, base, len) == 0)
            return t;
    }
    return NULL;
}

static ckpt_status gguf_entry(ckpt_imatrix *im, const char *file, const ckpt_gguf *g,
                              const struct ckpt_gguf_tensor *sums, size_t len, ckpt_err *err)
{
    const int nl = (int)len;
    const struct ckpt_gguf_tensor *counts = find_counts(g, sums->name, len);
    if (!counts)
        return ckpt_err_set(err, CKPT_E_FORMAT, "%s: entry '%.*s' has in_sum2 but no counts",
                            file, nl, sums->name);
    const int64_t ne0 = sums->ne[0], n_mat = sums->ne[1];
    if (sums->type != CKPT_TYPE_F32 || counts->type != CKPT_TYPE_F32)
        return ckpt_err_set(err, CKPT_E_FORMAT, "%s: entry '%.*s': sums and counts must be f32",
                            file, nl, sums->name);
    if (sums->ne[2] != 1 || sums->ne[3] != 1 || ne0 < 1 || n_mat < 1 ||
        (int64_t)counts->n_elements != n_mat)
        return ckpt_err_set(err, CKPT_E_FORMAT,
                            "%s: entry '%.*s': in_sum2 of shape %lld x %lld with %llu counts", file,
                            nl, sums->name, (long long)ne0, (long long)n_mat,
                            (unsigned long long)counts->n_elements);
    struct entry *e;
    ckpt_status st = add_entry(im, file, sums->name, len, (size_t)(ne0 * n_mat), &e, err);
    if (st != CKPT_OK)
        return st;
    for (int64_t m = 0; m < n_mat; m++) {
        float c = lef32dec(counts->data + 4 * m);
        if (!isfinite(c) || c < 0)
            return ckpt_err_set(err, CKPT_E_VALUE, "%s: entry '%s': count %lld is %g", file,
                                e->name, (long long)m, (double)c);
        for (int64_t j = 0; j < ne0; j++) {
            float v = lef32dec(sums->data + 4 * (m * ne0 + j));
            if (!isfinite(v))
                return ckpt_err_set(err, CKPT_E_VALUE, "%s: entry '%s': value %lld is %s", file,
                                    e->name, (long long)(m * ne0 + j), what_value(v));
            /* an expert never routed: neutral weights */
            e->v[m * ne0 + j] = c > 0 ? v / c : 1.0f;
        }
    }
    return CKPT_OK;
}

static ckpt_status load_gguf(ckpt_imatrix *im, const char *file, const void *data, size_t size,
                             ckpt_err *err)
{
    ckpt_gguf *g = NULL;
    ckpt_status st = ckpt_gguf_open_buffer(&g, file, data, size, err);
    if (st != CKPT_OK)
        return st;
    const char *type;
    const struct ckpt_gguf_kv *kv = ckpt_gguf_find_kv(g, CKPT_KEY_TYPE);
    if (kv && (ckpt_gguf_get_str(g, CKPT_KEY_TYPE, &type, NULL) != CKPT_OK ||
               strcmp(type, "imatrix") != 0)) {
        st = ckpt_err_set(err, CKPT_E_FORMAT, "%s: a GGUF file but not an imatrix "
                          "(general.type is not \"imatrix\")", file);
        goto out;
    }
    uint32_t chunks = 0;
    if ((st = ckpt_gguf_get_u32(g, "imatrix.chunk_count", &chunks, err)) != CKPT_OK)
        goto out;
    im->chunks = chunks > INT32_MAX ? INT32_MAX : (int32_t)chunks;
    kv = ckpt_gguf_find_kv(g, "imatrix.datasets");
    if (kv && kv->type == CKPT_GGUF_ARRAY && kv->elem_type == CKPT_GGUF_STRING && kv->n > 0) {
        const struct ckpt_gguf_str *s = &kv->array_str[0];
        if (memchr(s->str, '\0', (size_t)s->len)) {
            st = ckpt_err_set(err, CKPT_E_FORMAT, "%s: NUL byte in the dataset name", file);
            goto out;
        }
        if (!(im->dataset = strdup(s->str))) {
            st = ckpt_err_set(err, CKPT_E_NOMEM, "%s: out of memory", file);
            goto out;
        }
    }
    for (size_t i = 0; i < ckpt_gguf_n_tensors(g); i++) {
        const struct ckpt_gguf_tensor *t = ckpt_gguf_tensor(g, i);
        size_t len;
        if (strip_suffix(t->name, ".in_sum2", &len)) {
            if ((st = gguf_entry(im, file, g, t, len, err)) != CKPT_OK)
                goto out;
        } else if (strip_suffix(t->name, ".counts", &len)) {
            char sums[CKPT_GGUF_MAX_NAME + 16];
            snprintf(sums, sizeof sums, "%.*s.in_sum2", (int)len, t->name);
            if (!ckpt_gguf_find_tensor(g, sums)) {
                st = ckpt_err_set(err, CKPT_E_FORMAT,
                                  "%s: entry '%.*s' has counts but no in_sum2", file, (int)len,
                                  t->name);
                goto out;
            }
        }
    }
out:
    ckpt_gguf_close(g);
    return st;
}

/* ==== both ==== */

static int by_name(const void *a, const void *b)
{
    return strcmp(((const struct byname *)a)->name, ((const struct byname *)b)->name);
}

static ckpt_status index_entries(ckpt_imatrix *im, const char *file, ckpt_err *err)
{
    if (im->n == 0)
        return ckpt_err_set(err, CKPT_E_FORMAT, "%s: the imatrix has no entries", file);
    if (!(im->sorted = malloc(im->n * sizeof *im->sorted)))
        return ckpt_err_set(err, CKPT_E_NOMEM, "%s: out of memory", file);
    for (size_t i = 0; i < im->n; i++)
        im->sorted[i] = (struct byname){im->e[i].name, i};
    qsort(im->sorted, im->n, sizeof *im->sorted, by_name);
    for (size_t i = 1; i < im->n; i++)
        if (strcmp(im->sorted[i - 1].name, im->sorted[i].name) == 0)
            return ckpt_err_set(err, CKPT_E_FORMAT, "%s: entry '%s' appears twice", file,
                                im->sorted[i].name);
    return CKPT_OK;
}

ckpt_status ckpt_imatrix_load_buffer(ckpt_imatrix **out, const char *name, const void *data,
                                     size_t size, ckpt_err *err)
{
    *out = NULL;
    ckpt_imatrix *im = calloc(1, sizeof *im);
    if (!im)
        return ckpt_err_set(err, CKPT_E_NOMEM, "%s: out of memory", name);
    ckpt_status st;
    if (size >= 4 && le32dec(data) == CKPT_GGUF_MAGIC)
        st = load_gguf(im, name, data, size, err);
    else
        st = load_dat(im, name, data, size, err);
    if (st == CKPT_OK)
        st = index_entries(im, name, err);
    if (st != CKPT_OK) {
        ckpt_imatrix_free(im);
        return st;
    }
    *out = im;
    return CKPT_OK;
}

ckpt_status ckpt_imatrix_load(ckpt_imatrix **out, const char *path, ckpt_err *err)
{
    *out = NULL;
    ckpt_map *m = NULL;
    ckpt_status st = ckpt_map_open(&m, path, err);
    if (st != CKPT_OK)
        return st;
    st = ckpt_imatrix_load_buffer(out, path, m->data, m->size, err);
    if (st == CKPT_OK) {
        (*out)->from_file = true;
        (*out)->dev = m->dev;
        (*out)->ino = m->ino;
    }
    ckpt_map_close(m);
    return st;
}

bool ckpt_imatrix_file(const ckpt_imatrix *im, uint64_t *dev, uint64_t *ino)
{
    if (!im || !im->from_file)
        return false;
    *dev = im->dev;
    *ino = im->ino;
    return true;
}

ckpt_status ckpt_imatrix_for_tensor(const ckpt_imatrix *im, const char *name, int64_t ne0,
                                    int64_t n_mat, const float **out, ckpt_err *err)
{
    *out = NULL;
    size_t lo = 0, hi = im->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(im->sorted[mid].name, name);
        if (c == 0) {
            const struct entry *e = &im->e[im->sorted[mid].i];
            if ((int64_t)e->n == ne0 * n_mat) {
                *out = e->v;
                return CKPT_OK;
            }
            if (strcmp(name, "token_embd.weight") == 0)
                return CKPT_OK;
            return ckpt_err_set(err, CKPT_E_FORMAT,
                                "imatrix entry '%s' has %zu values, the tensor needs %lld "
                                "(%lld columns x %lld matrices)",
                                name, e->n, (long long)(ne0 * n_mat), (long long)ne0,
                                (long long)n_mat);
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return CKPT_OK;
}
