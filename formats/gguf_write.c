/*
 * gguf_write.c - write GGUF v3: plan the whole header, then stream.
 *
 * Metadata is serialized as it is set (insertion order is file order);
 * tensors are declared with type and shape, which fix their sizes, so the
 * tensor table with its offsets (the running sum of sizes padded to the
 * alignment) is known before the first byte is written.  begin writes
 * magic, version, counts, kvs, tensor infos and zero padding to the
 * alignment; tensor data then follows in declaration order, each tensor
 * padded with zeros to the alignment, the last one too - the layout of
 * llama.cpp's Python and C writers, byte for byte.  No seeks: the output
 * may be a pipe.  Files are atomic (outfile.h).
 *
 * A split set (ckpt_gguf_writer_set_split) is gguf-py's layout: tensors
 * go to parts in declaration order, a new part starting when the current
 * one has its tensor count or its tensor bytes would pass the limit (a
 * part always takes at least one tensor); every part is a complete GGUF
 * whose offsets start at its own data section; the first part has all the
 * metadata, then split.no (u16), split.count (u16) and split.tensors.count
 * (i32, the whole set's); later parts only those three.  A limit that
 * yields one part writes the plain single file, as gguf-py does.  Each
 * part is sealed when its last tensor is written and all are published
 * together by finish, so a failure leaves no part behind.
 *
 * A digest-only writer (ckpt_gguf_writer_new_digest) runs the same code
 * with each part's output hashed instead of written (outfile.h), and keeps
 * per part its file digest, its metadata image and its tensors' digests.
 */
#include "gguf_internal.h"

#include "../arch/gguf_keys.h"
#include "le.h"
#include "outfile.h"

#include <openssl/evp.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum wstate { W_PLAN, W_DATA, W_FAILED };

struct wtensor {
    const char *name; /* arena copy */
    uint32_t n_dims;
    int64_t ne[CKPT_GGUF_MAX_DIMS];
    uint32_t type;
    uint64_t n_bytes;
};

/* One file of the output: tensors [first, end). */
struct wpart {
    size_t first, end;
    char *path;           /* the output path, or the part's name in a split set */
    ckpt_out *out;        /* open from its first byte until published */
    uint64_t planned;     /* its size */
    struct ckpt_gguf_digest_file *dg; /* digest-only writer: where its digests go */
};

struct ckpt_gguf_writer {
    char *path;
    bool force;
    uint32_t alignment;
    uint8_t *kv;           /* serialized kv records, file order */
    size_t kv_len, kv_cap;
    size_t n_kv;
    size_t *kv_at;         /* per record, where its value starts in kv */
    size_t kv_at_cap;
    struct ckpt_gguf_set keys, names;
    struct ckpt_gguf_arena arena;
    struct wtensor *tensors;
    size_t n_tensors, tensors_cap;
    enum wstate state;
    ckpt_status failure;   /* why the writer is W_FAILED */
    uint64_t split_bytes;   /* limits per part; both 0: one file */
    uint64_t split_tensors;
    struct wpart *parts;    /* from begin */
    size_t n_parts;
    size_t part;            /* part being streamed */
    ckpt_out *out;          /* parts[part].out */
    size_t cur;             /* tensor being streamed */
    uint64_t cur_done;      /* its bytes written so far */
    struct ckpt_gguf_digest *dg; /* digest-only writer: where the digests go */
    EVP_MD_CTX *tmd;        /* the current tensor's data digest */
};

ckpt_status ckpt_gguf_writer_new(ckpt_gguf_writer **out, const char *path, bool force,
                                 ckpt_err *err)
{
    *out = NULL;
    ckpt_gguf_writer *w = calloc(1, sizeof *w);
    if (!w || !(w->path = strdup(path))) {
        free(w);
        return ckpt_err_set(err, CKPT_E_NOMEM, "%s: out of memory", path);
    }
    w->force = force;
    w->alignment = CKPT_GGUF_DEFAULT_ALIGNMENT;
    *out = w;
    return CKPT_OK;
}

ckpt_status ckpt_gguf_writer_new_digest(ckpt_gguf_writer **out, const char *name,
                                        struct ckpt_gguf_digest *d, ckpt_err *err)
{
    *d = (struct ckpt_gguf_digest){0};
    ckpt_status s = ckpt_gguf_writer_new(out, name, false, err);
    if (s != CKPT_OK)
        return s;
    (*out)->dg = d;
    if (!((*out)->tmd = EVP_MD_CTX_new())) {
        ckpt_gguf_writer_free(*out);
        *out = NULL;
        return ckpt_err_set(err, CKPT_E_NOMEM, "%s: out of memory", name);
    }
    return CKPT_OK;
}

void ckpt_gguf_digest_free(struct ckpt_gguf_digest *d)
{
    if (!d)
        return;
    for (size_t k = 0; d->files && k < d->n_files; k++) {
        struct ckpt_gguf_digest_file *f = &d->files[k];
        for (size_t i = 0; f->names && i < f->n_tensors; i++)
            free(f->names[i]);
        free(f->names);
        free(f->tensor);
        free(f->meta);
        free(f->name);
    }
    free(d->files);
    *d = (struct ckpt_gguf_digest){0};
}

static void free_parts(ckpt_gguf_writer *w)
{
    for (size_t i = 0; i < w->n_parts; i++) {
        ckpt_out_abort(w->parts[i].out);
        free(w->parts[i].path);
    }
    free(w->parts);
    w->parts = NULL;
    w->n_parts = 0;
    w->out = NULL;
}

void ckpt_gguf_writer_free(ckpt_gguf_writer *w)
{
    if (!w)
        return;
    free_parts(w);
    EVP_MD_CTX_free(w->tmd);
    ckpt_gguf_set_free(&w->keys);
    ckpt_gguf_set_free(&w->names);
    ckpt_gguf_arena_free(&w->arena);
    free(w->kv);
    free(w->kv_at);
    free(w->tensors);
    free(w->path);
    free(w);
}

/* ---- serialization into the kv buffer ---- */

static bool kv_put(ckpt_gguf_writer *w, const void *p, size_t n)
{
    if (n > w->kv_cap - w->kv_len) {
        size_t cap = w->kv_cap ? w->kv_cap : 4096;
        while (n > cap - w->kv_len) {
            if (cap > SIZE_MAX / 2)
                return false;
            cap *= 2;
        }
        uint8_t *b = realloc(w->kv, cap);
        if (!b)
            return false;
        w->kv = b;
        w->kv_cap = cap;
    }
    if (n)
        memcpy(w->kv + w->kv_len, p, n);
    w->kv_len += n;
    return true;
}

static bool kv_u32(ckpt_gguf_writer *w, uint32_t v)
{
    uint8_t b[4];
    le32enc(b, v);
    return kv_put(w, b, 4);
}

static bool kv_u64(ckpt_gguf_writer *w, uint64_t v)
{
    uint8_t b[8];
    le64enc(b, v);
    return kv_put(w, b, 8);
}

static bool kv_str(ckpt_gguf_writer *w, const char *s, uint64_t len)
{
    return kv_u64(w, len) && kv_put(w, s, (size_t)len);
}

static ckpt_status set_failed(ckpt_gguf_writer *w, ckpt_status s);

static ckpt_status usage(ckpt_gguf_writer *w, ckpt_err *err, const char *what, const char *key)
{
    return ckpt_err_set(err, CKPT_E_USAGE, "%s: key '%s': %s", w->path, key ? key : "(null)", what);
}

/*
 * Start a kv record: check the writer state and the key, remember the key,
 * write it and the value type.  On failure nothing is added.
 */
static ckpt_status kv_begin(ckpt_gguf_writer *w, const char *key, ckpt_gguf_type type,
                            ckpt_err *err)
{
    if (w->state != W_PLAN)
        return ckpt_err_set(err, CKPT_E_USAGE, "%s: metadata set after the header was written",
                            w->path);
    if (!key || !*key)
        return ckpt_err_set(err, CKPT_E_USAGE, "%s: empty metadata key", w->path);
    size_t len = strlen(key);
    if (len > CKPT_GGUF_MAX_KEY)
        return usage(w, err, "key longer than 65535 bytes", key);
    if (strcmp(key, CKPT_KEY_ALIGNMENT) == 0 && type != CKPT_GGUF_UINT32)
        return usage(w, err, "must be u32", key);
    if (ckpt_gguf_set_find(&w->keys, key) != SIZE_MAX)
        return usage(w, err, "set twice", key);
    if (w->n_kv == w->kv_at_cap) {
        size_t cap = w->kv_at_cap ? 2 * w->kv_at_cap : 64;
        size_t *at = realloc(w->kv_at, cap * sizeof *at);
        if (!at)
            return ckpt_err_set(err, CKPT_E_NOMEM, "%s: out of memory", w->path);
        w->kv_at = at;
        w->kv_at_cap = cap;
    }
    char *copy = ckpt_gguf_arena_strndup(&w->arena, key, len);
    if (!copy || ckpt_gguf_set_add(&w->keys, copy, w->n_kv, NULL) != 0 || !kv_str(w, key, len) ||
        !kv_u32(w, (uint32_t)type))
        return ckpt_err_set(err, CKPT_E_NOMEM, "%s: out of memory", w->path);
    w->kv_at[w->n_kv] = w->kv_len;
    return CKPT_OK;
}

/* Finish a record whose value bytes were appended after kv_begin. */
static ckpt_status kv_end(ckpt_gguf_writer *w, bool ok, ckpt_err *err)
{
    if (!ok) {
        /* the record is half written: the writer cannot go on */
        w->state = W_FAILED;
        w->failure = CKPT_E_NOMEM;
        return ckpt_err_set(err, CKPT_E_NOMEM, "%s: out of memory", w->path);
    }
    w->n_kv++;
    return CKPT_OK;
}

/* A fixed-size scalar from its little-endian bytes. */
static ckpt_status set_scalar(ckpt_gguf_writer *w, const char *key, ckpt_gguf_type type,
                              const uint8_t *raw, ckpt_err *err)
{
    if (type == CKPT_GGUF_BOOL && raw[0] > 1)
        return usage(w, err, "bool value is not 0 or 1", key);
    if (key && strcmp(key, CKPT_KEY_ALIGNMENT) == 0 && type == CKPT_GGUF_UINT32) {
        uint32_t a = le32dec(raw);
        if (!ckpt_gguf_alignment_ok(a))
            return usage(w, err, "alignment must be a power of two up to 1 GiB", key);
    }
    ckpt_status s = kv_begin(w, key, type, err);
    if (s != CKPT_OK)
        return s;
    if (strcmp(key, CKPT_KEY_ALIGNMENT) == 0)
        w->alignment = le32dec(raw);
    return kv_end(w, kv_put(w, raw, ckpt_gguf_type_size(type)), err);
}

ckpt_status ckpt_gguf_writer_set_u32(ckpt_gguf_writer *w, const char *key, uint32_t v, ckpt_err *err)
{
    uint8_t b[4];
    le32enc(b, v);
    return set_scalar(w, key, CKPT_GGUF_UINT32, b, err);
}

ckpt_status ckpt_gguf_writer_set_i32(ckpt_gguf_writer *w, const char *key, int32_t v, ckpt_err *err)
{
    uint8_t b[4];
    le32enc(b, (uint32_t)v);
    return set_scalar(w, key, CKPT_GGUF_INT32, b, err);
}

ckpt_status ckpt_gguf_writer_set_u64(ckpt_gguf_writer *w, const char *key, uint64_t v, ckpt_err *err)
{
    uint8_t b[8];
    le64enc(b, v);
    return set_scalar(w, key, CKPT_GGUF_UINT64, b, err);
}

ckpt_status ckpt_gguf_writer_set_f32(ckpt_gguf_writer *w, const char *key, float v, ckpt_err *err)
{
    uint8_t b[4];
    memcpy(b, &v, 4);
    return set_scalar(w, key, CKPT_GGUF_FLOAT32, b, err);
}

ckpt_status ckpt_gguf_writer_set_bool(ckpt_gguf_writer *w, const char *key, bool v, ckpt_err *err)
{
    uint8_t b = v ? 1 : 0;
    return set_scalar(w, key, CKPT_GGUF_BOOL, &b, err);
}

static ckpt_status set_str_len(ckpt_gguf_writer *w, const char *key, const char *v, uint64_t len,
                               ckpt_err *err)
{
    if (len > CKPT_GGUF_MAX_STRING)
        return usage(w, err, "string longer than 1 GiB", key);
    ckpt_status s = kv_begin(w, key, CKPT_GGUF_STRING, err);
    return s != CKPT_OK ? s : kv_end(w, kv_str(w, v, len), err);
}

ckpt_status ckpt_gguf_writer_set_str(ckpt_gguf_writer *w, const char *key, const char *v,
                                     ckpt_err *err)
{
    if (!v)
        return usage(w, err, "NULL string value", key);
    return set_str_len(w, key, v, strlen(v), err);
}

ckpt_status ckpt_gguf_writer_restate_str(ckpt_gguf_writer *w, const char *key, const char *v,
                                         ckpt_err *err)
{
    size_t i = key ? ckpt_gguf_set_find(&w->keys, key) : SIZE_MAX;
    if (w->state != W_DATA || w->part != 0 || w->dg)
        return usage(w, err, "restated after the header left the writer", key);
    if (i == SIZE_MAX || le32dec(w->kv + w->kv_at[i] - 4) != CKPT_GGUF_STRING)
        return usage(w, err, "restated without a string value", key);
    const size_t at = w->kv_at[i] + 8; /* the bytes after the length */
    if (!v || strlen(v) != le64dec(w->kv + at - 8))
        return usage(w, err, "restated with another length", key);
    ckpt_status s = ckpt_out_patch(w->out, 24 + at, v, strlen(v), err);
    if (s != CKPT_OK)
        return set_failed(w, s);
    memcpy(w->kv + at, v, strlen(v)); /* the metadata image says what the file says */
    return CKPT_OK;
}

ckpt_status ckpt_gguf_writer_set_array(ckpt_gguf_writer *w, const char *key,
                                       ckpt_gguf_type elem_type, const void *data, uint64_t n,
                                       ckpt_err *err)
{
    size_t es = ckpt_gguf_type_size(elem_type);
    uint64_t bytes;
    if (es == 0)
        return usage(w, err, "numeric array of a non-numeric element type", key);
    if (__builtin_mul_overflow(n, (uint64_t)es, &bytes) || bytes > SIZE_MAX / 2)
        return usage(w, err, "array too large", key);
    if (n && !data)
        return usage(w, err, "NULL array data", key);
    if (elem_type == CKPT_GGUF_BOOL)
        for (uint64_t i = 0; i < n; i++)
            if (((const uint8_t *)data)[i] > 1)
                return usage(w, err, "bool element is not 0 or 1", key);
    ckpt_status s = kv_begin(w, key, CKPT_GGUF_ARRAY, err);
    if (s != CKPT_OK)
        return s;
    return kv_end(w, kv_u32(w, (uint32_t)elem_type) && kv_u64(w, n) && kv_put(w, data, (size_t)bytes),
                  err);
}

/* String array from (pointer, length) pairs given one at a time by `get`. */
static ckpt_status set_strs(ckpt_gguf_writer *w, const char *key, uint64_t n,
                            const char *(*get)(const void *ctx, uint64_t i, uint64_t *len),
                            const void *ctx, ckpt_err *err)
{
    for (uint64_t i = 0; i < n; i++) {
        uint64_t len;
        const char *s = get(ctx, i, &len);
        if (!s && len)
            return usage(w, err, "NULL string in array", key);
        if (len > CKPT_GGUF_MAX_STRING)
            return usage(w, err, "array string longer than 1 GiB", key);
    }
    ckpt_status s = kv_begin(w, key, CKPT_GGUF_ARRAY, err);
    if (s != CKPT_OK)
        return s;
    bool ok = kv_u32(w, CKPT_GGUF_STRING) && kv_u64(w, n);
    for (uint64_t i = 0; ok && i < n; i++) {
        uint64_t len;
        const char *str = get(ctx, i, &len);
        ok = kv_str(w, str, len);
    }
    return kv_end(w, ok, err);
}

struct strs_ctx {
    const char *const *strs;
    const uint64_t *lens;
};

static const char *get_cstr(const void *ctx, uint64_t i, uint64_t *len)
{
    const struct strs_ctx *c = ctx;
    const char *s = c->strs[i];
    *len = c->lens ? c->lens[i] : (s ? strlen(s) : 0);
    return s;
}

static const char *get_kvstr(const void *ctx, uint64_t i, uint64_t *len)
{
    const struct ckpt_gguf_str *a = ctx;
    *len = a[i].len;
    return a[i].str;
}

ckpt_status ckpt_gguf_writer_set_str_array(ckpt_gguf_writer *w, const char *key,
                                           const char *const *strs, const uint64_t *lens,
                                           uint64_t n, ckpt_err *err)
{
    if (n && !strs)
        return usage(w, err, "NULL string array", key);
    struct strs_ctx c = {strs, lens};
    return set_strs(w, key, n, get_cstr, &c, err);
}

ckpt_status ckpt_gguf_writer_copy_kv(ckpt_gguf_writer *w, const struct ckpt_gguf_kv *kv,
                                     ckpt_err *err)
{
    uint8_t raw[8];
    switch (kv->type) {
    case CKPT_GGUF_STRING:
        if (!kv->v.str.str && kv->v.str.len)
            return usage(w, err, "NULL string value", kv->key);
        return set_str_len(w, kv->key, kv->v.str.str, kv->v.str.len, err);
    case CKPT_GGUF_ARRAY:
        if (kv->elem_type == CKPT_GGUF_STRING) {
            if (kv->n && !kv->array_str)
                return usage(w, err, "NULL string array", kv->key);
            return set_strs(w, kv->key, kv->n, get_kvstr, kv->array_str, err);
        }
        return ckpt_gguf_writer_set_array(w, kv->key, kv->elem_type, kv->array_data, kv->n, err);
    case CKPT_GGUF_UINT8: case CKPT_GGUF_INT8: case CKPT_GGUF_UINT16: case CKPT_GGUF_INT16:
    case CKPT_GGUF_UINT32: case CKPT_GGUF_INT32: case CKPT_GGUF_UINT64: case CKPT_GGUF_INT64:
    case CKPT_GGUF_BOOL: case CKPT_GGUF_FLOAT32: case CKPT_GGUF_FLOAT64:
        break;
    default:
        return usage(w, err, "invalid value type", kv->key);
    }
    /* A reader's scalars carry their raw bytes: copy them exactly (NaN payloads too). */
    if (kv->array_data)
        return set_scalar(w, kv->key, kv->type, kv->array_data, err);
    float f;
    switch (kv->type) {
    case CKPT_GGUF_FLOAT32: f = (float)kv->v.f64; memcpy(raw, &f, 4); break;
    case CKPT_GGUF_FLOAT64: memcpy(raw, &kv->v.f64, 8); break;
    default: le64enc(raw, kv->v.u64); break; /* low bytes of the widened value (LE host) */
    }
    return set_scalar(w, kv->key, kv->type, raw, err);
}

/* ---- tensors ---- */

ckpt_status ckpt_gguf_writer_add_tensor(ckpt_gguf_writer *w, const char *name, ckpt_type type,
                                        uint32_t n_dims, const int64_t *ne, ckpt_err *err)
{
    if (w->state != W_PLAN)
        return ckpt_err_set(err, CKPT_E_USAGE, "%s: tensor added after the header was written",
                            w->path);
    size_t len = name ? strlen(name) : 0;
    if (len == 0)
        return ckpt_err_set(err, CKPT_E_USAGE, "%s: empty tensor name", w->path);
    if (len > CKPT_GGUF_MAX_NAME)
        return ckpt_err_set(err, CKPT_E_USAGE, "%s: tensor '%s': name longer than %d bytes",
                            w->path, name, CKPT_GGUF_MAX_NAME);
    if (n_dims > CKPT_GGUF_MAX_DIMS || (n_dims && !ne))
        return ckpt_err_set(err, CKPT_E_USAGE, "%s: tensor '%s': %u dimensions (at most %d)",
                            w->path, name, n_dims, CKPT_GGUF_MAX_DIMS);
    if (ckpt_gguf_set_find(&w->names, name) != SIZE_MAX)
        return ckpt_err_set(err, CKPT_E_USAGE, "%s: tensor '%s' added twice", w->path, name);
    struct wtensor t = {.n_dims = n_dims, .type = (uint32_t)type, .ne = {1, 1, 1, 1}};
    for (uint32_t j = 0; j < n_dims; j++)
        t.ne[j] = ne[j];
    uint64_t n_elements;
    char why[160];
    if (!ckpt_gguf_tensor_size(t.type, n_dims, t.ne, &n_elements, &t.n_bytes, why, sizeof why))
        return ckpt_err_set(err, CKPT_E_USAGE, "%s: tensor '%s': %s", w->path, name, why);
    if (w->n_tensors == w->tensors_cap) {
        size_t cap = w->tensors_cap ? w->tensors_cap * 2 : 64;
        struct wtensor *p = realloc(w->tensors, cap * sizeof *p);
        if (!p)
            return ckpt_err_set(err, CKPT_E_NOMEM, "%s: out of memory", w->path);
        w->tensors = p;
        w->tensors_cap = cap;
    }
    if (!(t.name = ckpt_gguf_arena_strndup(&w->arena, name, len)) ||
        ckpt_gguf_set_add(&w->names, t.name, w->n_tensors, NULL) != 0)
        return ckpt_err_set(err, CKPT_E_NOMEM, "%s: out of memory", w->path);
    w->tensors[w->n_tensors++] = t;
    return CKPT_OK;
}

ckpt_status ckpt_gguf_writer_set_split(ckpt_gguf_writer *w, uint64_t max_bytes,
                                       uint64_t max_tensors, ckpt_err *err)
{
    if (w->state != W_PLAN)
        return ckpt_err_set(err, CKPT_E_USAGE, "%s: split limits set after the header was written",
                            w->path);
    w->split_bytes = max_bytes;
    w->split_tensors = max_tensors;
    return CKPT_OK;
}

/* End of the part that starts at tensor `first` (gguf-py's add_tensor_info:
 * a part takes tensors until the next would pass a limit, and at least one;
 * sizes without padding, metadata not counted). */
static size_t part_end(const ckpt_gguf_writer *w, size_t first)
{
    uint64_t bytes = 0;
    size_t i = first;
    for (; i < w->n_tensors; i++) {
        uint64_t nb = w->tensors[i].n_bytes;
        if (i > first && ((w->split_tensors && i - first >= w->split_tensors) ||
                          (w->split_bytes && (bytes > w->split_bytes || nb > w->split_bytes - bytes))))
            break;
        bytes += nb; /* cannot wrap: plan() bounds the sum */
    }
    return i;
}

/* Number of files the output takes (1 without limits or without tensors). */
static size_t count_parts(const ckpt_gguf_writer *w)
{
    size_t n = 0, i = 0;
    do {
        i = part_end(w, i);
        n++;
    } while (i < w->n_tensors);
    return n;
}

size_t ckpt_gguf_writer_n_parts(const ckpt_gguf_writer *w) { return count_parts(w); }

/* Append a kv record to b at *n (b has room: keys are short constants). */
static void put_kv(uint8_t *b, size_t *n, const char *key, ckpt_gguf_type type, uint64_t v)
{
    size_t len = strlen(key), vs = ckpt_gguf_type_size(type);
    le64enc(b + *n, len);
    memcpy(b + *n + 8, key, len);
    le32enc(b + *n + 8 + len, (uint32_t)type);
    uint8_t raw[8];
    le64enc(raw, v);
    memcpy(b + *n + 12 + len, raw, vs); /* the low bytes: little-endian */
    *n += 12 + len + vs;
}

#define SPLIT_KV_MAX 256 /* bytes of the records below, generously */

/*
 * The kv records a part has besides the shared metadata: in a split set,
 * split.no, split.count, split.tensors.count; a later part also repeats a
 * general.alignment other than the default, since its data follows it
 * (gguf-py leaves it out there; a reader would then assume 32).
 */
static size_t split_kvs(const ckpt_gguf_writer *w, size_t no, size_t count, uint8_t *b,
                        uint64_t *n_kv)
{
    size_t n = 0;
    *n_kv = 0;
    if (count < 2)
        return 0;
    if (no > 0 && w->alignment != CKPT_GGUF_DEFAULT_ALIGNMENT) {
        put_kv(b, &n, CKPT_KEY_ALIGNMENT, CKPT_GGUF_UINT32, w->alignment);
        ++*n_kv;
    }
    put_kv(b, &n, CKPT_KEY_SPLIT_NO, CKPT_GGUF_UINT16, no);
    put_kv(b, &n, CKPT_KEY_SPLIT_COUNT, CKPT_GGUF_UINT16, count);
    put_kv(b, &n, CKPT_KEY_SPLIT_TENSORS_COUNT, CKPT_GGUF_INT32, w->n_tensors);
    *n_kv += 3;
    return n;
}

/* Bytes of part no's header up to the end of its tensor infos. */
static uint64_t header_bytes(const ckpt_gguf_writer *w, size_t no, size_t count, size_t first,
                             size_t end)
{
    uint8_t b[SPLIT_KV_MAX];
    uint64_t n_kv;
    uint64_t n = 4 + 4 + 8 + 8 + (no == 0 ? (uint64_t)w->kv_len : 0) + split_kvs(w, no, count, b, &n_kv);
    for (size_t i = first; i < end; i++)
        n += 8 + strlen(w->tensors[i].name) + 4 + 8 * (uint64_t)w->tensors[i].n_dims + 4 + 8;
    return n;
}

/* Data offset and size of part no; false when the sizes overflow.  A file
 * without tensors ends with its metadata: gguf-py pads only in front of
 * tensor data (its --vocab-only files have none), and so does this. */
static bool plan(const ckpt_gguf_writer *w, size_t no, size_t count, size_t first, size_t end,
                 uint64_t *data_offset, uint64_t *total)
{
    uint64_t off = header_bytes(w, no, count, first, end), sum = 0, padded;
    if (end > first && !ckpt_gguf_pad(off, w->alignment, &off))
        return false;
    for (size_t i = first; i < end; i++)
        if (!ckpt_gguf_pad(w->tensors[i].n_bytes, w->alignment, &padded) ||
            __builtin_add_overflow(sum, padded, &sum))
            return false;
    *data_offset = off;
    return !__builtin_add_overflow(off, sum, total);
}

uint64_t ckpt_gguf_writer_planned_size(const ckpt_gguf_writer *w)
{
    size_t count = count_parts(w), first = 0;
    uint64_t all = 0, off, total;
    for (size_t no = 0; no < count; no++) {
        size_t end = part_end(w, first);
        if (!plan(w, no, count, first, end, &off, &total) ||
            __builtin_add_overflow(all, total, &all))
            return UINT64_MAX;
        first = end;
    }
    return all;
}

/* The start of part no's header: magic, version and counts (n_tensors
 * tensors) in b, and the part's own kv records, which follow the shared
 * ones in the first part, in extra (split_kvs). */
static void head(const ckpt_gguf_writer *w, size_t no, size_t count, uint64_t n_tensors,
                 uint8_t b[24], uint8_t extra[SPLIT_KV_MAX], size_t *extra_len)
{
    uint64_t n_extra;
    *extra_len = split_kvs(w, no, count, extra, &n_extra);
    le32enc(b, CKPT_GGUF_MAGIC);
    le32enc(b + 4, CKPT_GGUF_VERSION);
    le64enc(b + 8, n_tensors);
    le64enc(b + 16, (no == 0 ? w->n_kv : 0) + n_extra);
}

/* Part no's metadata as a GGUF without tensors (malloc'd into *out). */
static ckpt_status part_meta_image(const ckpt_gguf_writer *w, size_t no, size_t count,
                                   uint8_t **out, size_t *size, ckpt_err *err)
{
    uint8_t b[24], extra[SPLIT_KV_MAX];
    size_t extra_len, kv_len = no == 0 ? w->kv_len : 0;
    head(w, no, count, 0, b, extra, &extra_len);
    *out = NULL;
    *size = 0;
    uint8_t *m = kv_len <= SIZE_MAX - 24 - SPLIT_KV_MAX ? malloc(24 + kv_len + extra_len) : NULL;
    if (!m)
        return ckpt_err_set(err, CKPT_E_NOMEM, "%s: out of memory for the metadata", w->path);
    memcpy(m, b, 24);
    if (kv_len)
        memcpy(m + 24, w->kv, kv_len);
    if (extra_len)
        memcpy(m + 24 + kv_len, extra, extra_len);
    *out = m;
    *size = 24 + kv_len + extra_len;
    return CKPT_OK;
}

static ckpt_status put_header(ckpt_gguf_writer *w, ckpt_err *err)
{
    const struct wpart *p = &w->parts[w->part];
    uint8_t b[8 + CKPT_GGUF_MAX_NAME + 4 + 8 * CKPT_GGUF_MAX_DIMS + 4 + 8], extra[SPLIT_KV_MAX];
    size_t extra_len;
    head(w, w->part, w->n_parts, p->end - p->first, b, extra, &extra_len);
    ckpt_status s = ckpt_out_write(w->out, b, 24, err);
    if (s == CKPT_OK && w->part == 0)
        s = ckpt_out_write(w->out, w->kv, w->kv_len, err);
    if (s == CKPT_OK)
        s = ckpt_out_write(w->out, extra, extra_len, err);
    uint64_t offset = 0, padded;
    for (size_t i = p->first; s == CKPT_OK && i < p->end; i++) {
        const struct wtensor *t = &w->tensors[i];
        size_t len = strlen(t->name), n = 0;
        le64enc(b, len);
        memcpy(b + 8, t->name, len);
        n = 8 + len;
        le32enc(b + n, t->n_dims);
        n += 4;
        for (uint32_t j = 0; j < t->n_dims; j++, n += 8)
            le64enc(b + n, (uint64_t)t->ne[j]);
        le32enc(b + n, t->type);
        le64enc(b + n + 4, offset);
        n += 12;
        s = ckpt_out_write(w->out, b, n, err);
        ckpt_gguf_pad(t->n_bytes, w->alignment, &padded); /* checked by plan() */
        offset += padded;
    }
    if (s == CKPT_OK && p->end > p->first) { /* see plan() */
        uint64_t at = ckpt_out_tell(w->out), data_start;
        ckpt_gguf_pad(at, w->alignment, &data_start);
        s = ckpt_out_zeros(w->out, (size_t)(data_start - at), err);
    }
    return s;
}

static ckpt_status set_failed(ckpt_gguf_writer *w, ckpt_status s)
{
    w->state = W_FAILED;
    w->failure = s;
    free_parts(w);
    return s;
}

/* Part w->part is complete: its size must be the planned one; keep it,
 * unpublished, until the whole set is. */
static ckpt_status seal_part(ckpt_gguf_writer *w, ckpt_err *err)
{
    const struct wpart *p = &w->parts[w->part];
    if (ckpt_out_tell(p->out) != p->planned)
        return ckpt_err_set(err, CKPT_E_INTERNAL, "%s: wrote %llu bytes, planned %llu", p->path,
                            (unsigned long long)ckpt_out_tell(p->out),
                            (unsigned long long)p->planned);
    return ckpt_out_seal(p->out, err);
}

/* Digest mode, opening part w->part: its name, its metadata image, its
 * tensors' names, each digest preset to that of no bytes (empty tensors
 * are never written), and an output that hashes. */
static ckpt_status digest_open(ckpt_gguf_writer *w, struct wpart *p, ckpt_err *err)
{
    struct ckpt_gguf_digest_file *d = p->dg;
    static const uint8_t none[32] = {0xe3, 0xb0, 0xc4, 0x42, 0x98, 0xfc, 0x1c, 0x14,
                                     0x9a, 0xfb, 0xf4, 0xc8, 0x99, 0x6f, 0xb9, 0x24,
                                     0x27, 0xae, 0x41, 0xe4, 0x64, 0x9b, 0x93, 0x4c,
                                     0xa4, 0x95, 0x99, 0x1b, 0x78, 0x52, 0xb8, 0x55};
    ckpt_status s = part_meta_image(w, w->part, w->n_parts, &d->meta, &d->meta_size, err);
    if (s != CKPT_OK)
        return s;
    size_t n = p->end - p->first;
    d->name = strdup(p->path);
    d->names = calloc(n + 1, sizeof *d->names);
    d->tensor = calloc(n + 1, sizeof *d->tensor);
    if (!d->name || !d->names || !d->tensor)
        return ckpt_err_set(err, CKPT_E_NOMEM, "%s: out of memory", p->path);
    for (size_t i = 0; i < n; i++, d->n_tensors++) {
        if (!(d->names[i] = strdup(w->tensors[p->first + i].name)))
            return ckpt_err_set(err, CKPT_E_NOMEM, "%s: out of memory", p->path);
        memcpy(d->tensor[i], none, sizeof none);
    }
    if (EVP_DigestInit_ex(w->tmd, EVP_sha256(), NULL) != 1)
        return ckpt_err_set(err, CKPT_E_INTERNAL, "%s: SHA-256 failed", p->path);
    return ckpt_out_open_digest(&p->out, p->path, d->file, err);
}

/* Digest mode: the current tensor's bytes, and its digest once complete. */
static ckpt_status digest_data(ckpt_gguf_writer *w, const void *p, size_t n, bool last,
                               ckpt_err *err)
{
    const struct wpart *part = &w->parts[w->part];
    unsigned len = 0;
    if (EVP_DigestUpdate(w->tmd, p, n) != 1 ||
        (last && (EVP_DigestFinal_ex(w->tmd, part->dg->tensor[w->cur - part->first], &len) != 1 ||
                  EVP_DigestInit_ex(w->tmd, EVP_sha256(), NULL) != 1)))
        return ckpt_err_set(err, CKPT_E_INTERNAL, "%s: SHA-256 failed", part->path);
    return CKPT_OK;
}

/* Open part w->part and write its header. */
static ckpt_status open_part(ckpt_gguf_writer *w, ckpt_err *err)
{
    struct wpart *p = &w->parts[w->part];
    uint64_t data_offset;
    plan(w, w->part, w->n_parts, p->first, p->end, &data_offset, &p->planned); /* checked in begin */
    ckpt_status s = p->dg ? digest_open(w, p, err) : ckpt_out_open(&p->out, p->path, w->force, err);
    if (s != CKPT_OK)
        return s;
    w->out = p->out;
    if ((s = put_header(w, err)) != CKPT_OK)
        return s;
    if (ckpt_out_tell(w->out) != data_offset)
        return ckpt_err_set(err, CKPT_E_INTERNAL, "%s: header size %llu, planned %llu", p->path,
                            (unsigned long long)ckpt_out_tell(w->out),
                            (unsigned long long)data_offset);
    return CKPT_OK;
}

/* Skip tensors that have no bytes, and move on to the next part when the
 * current one is complete (the last part stays open for finish). */
static ckpt_status advance(ckpt_gguf_writer *w, ckpt_err *err)
{
    while (w->cur < w->n_tensors && w->tensors[w->cur].n_bytes == 0)
        w->cur++;
    ckpt_status s = CKPT_OK;
    while (s == CKPT_OK && w->part + 1 < w->n_parts && w->cur >= w->parts[w->part].end) {
        if ((s = seal_part(w, err)) == CKPT_OK) {
            w->part++;
            s = open_part(w, err);
        }
    }
    return s;
}

ckpt_status ckpt_gguf_writer_meta_image(const ckpt_gguf_writer *w, uint8_t **out, size_t *size,
                                        ckpt_err *err)
{
    return part_meta_image(w, 0, 1, out, size, err);
}

/* Lay out the parts and name them. */
static ckpt_status make_parts(ckpt_gguf_writer *w, ckpt_err *err)
{
    size_t count = count_parts(w);
    if (count > UINT16_MAX)
        return ckpt_err_set(err, CKPT_E_USAGE,
                            "%s: the split limits make %zu files, more than split.count can "
                            "hold (65535); raise --split-max-size or --split-max-tensors",
                            w->path, count);
    if (count > 1 && strcmp(w->path, "-") == 0)
        return ckpt_err_set(err, CKPT_E_USAGE,
                            "a split set of %zu files cannot go to standard output; name the "
                            "first file or a prefix with -o",
                            count);
    if (!(w->parts = calloc(count, sizeof *w->parts)))
        return ckpt_err_set(err, CKPT_E_NOMEM, "%s: out of memory", w->path);
    w->n_parts = count;
    if (w->dg) {
        if (!(w->dg->files = calloc(count, sizeof *w->dg->files)))
            return ckpt_err_set(err, CKPT_E_NOMEM, "%s: out of memory", w->path);
        w->dg->n_files = count;
        for (size_t no = 0; no < count; no++)
            w->parts[no].dg = &w->dg->files[no];
    }
    size_t first = 0;
    for (size_t no = 0; no < count; no++) {
        struct wpart *p = &w->parts[no];
        uint64_t off;
        p->first = first;
        p->end = first = part_end(w, first);
        if (!plan(w, no, count, p->first, p->end, &off, &p->planned))
            return ckpt_err_set(err, CKPT_E_RANGE, "%s: file size overflows", w->path);
        char name[4096];
        if (count == 1)
            snprintf(name, sizeof name, "%s", w->path);
        else if (!ckpt_gguf_split_path(name, sizeof name, w->path, (unsigned)no, (unsigned)count))
            return ckpt_err_set(err, CKPT_E_USAGE, "%s: name too long for a split set", w->path);
        if (!(p->path = strdup(name)))
            return ckpt_err_set(err, CKPT_E_NOMEM, "%s: out of memory", w->path);
    }
    /* every name is checked now, so that an existing later part is found
     * before anything is written (each open checks again) */
    for (size_t no = 1; no < count && !w->force && !w->dg; no++)
        if (access(w->parts[no].path, F_OK) == 0)
            return ckpt_err_set(err, CKPT_E_EXISTS, "%s: already exists (use -f to overwrite)",
                                w->parts[no].path);
    return CKPT_OK;
}

ckpt_status ckpt_gguf_writer_begin(ckpt_gguf_writer *w, ckpt_err *err)
{
    if (w->state != W_PLAN)
        return ckpt_err_set(err, CKPT_E_USAGE, "%s: begin called twice", w->path);
    ckpt_status s = make_parts(w, err);
    if (s != CKPT_OK)
        return set_failed(w, s);
    w->part = 0;
    w->cur = 0;
    w->cur_done = 0;
    if ((s = open_part(w, err)) != CKPT_OK || (s = advance(w, err)) != CKPT_OK)
        return set_failed(w, s);
    w->state = W_DATA;
    return CKPT_OK;
}

size_t ckpt_gguf_writer_part_count(const ckpt_gguf_writer *w) { return w->n_parts; }

const char *ckpt_gguf_writer_part_path(const ckpt_gguf_writer *w, size_t i)
{
    return i < w->n_parts ? w->parts[i].path : NULL;
}

ckpt_status ckpt_gguf_writer_write(ckpt_gguf_writer *w, const void *data, size_t n, ckpt_err *err)
{
    if (w->state == W_FAILED)
        return ckpt_err_set(err, w->failure, "%s: write after an earlier failure", w->path);
    if (w->state != W_DATA)
        return ckpt_err_set(err, CKPT_E_USAGE, "%s: tensor data written before begin", w->path);
    const uint8_t *p = data;
    while (n > 0) {
        if (w->cur >= w->n_tensors)
            return set_failed(w, ckpt_err_set(err, CKPT_E_USAGE,
                                              "%s: %zu bytes written after the last tensor",
                                              w->path, n));
        const struct wtensor *t = &w->tensors[w->cur];
        uint64_t want = t->n_bytes - w->cur_done;
        size_t take = want < n ? (size_t)want : n;
        ckpt_status s = w->dg ? digest_data(w, p, take, take == want, err) : CKPT_OK;
        if (s == CKPT_OK)
            s = ckpt_out_write(w->out, p, take, err);
        if (s != CKPT_OK)
            return set_failed(w, s);
        p += take;
        n -= take;
        w->cur_done += take;
        if (w->cur_done == t->n_bytes) {
            uint64_t padded;
            ckpt_gguf_pad(t->n_bytes, w->alignment, &padded);
            if ((s = ckpt_out_zeros(w->out, (size_t)(padded - t->n_bytes), err)) != CKPT_OK)
                return set_failed(w, s);
            w->cur++;
            w->cur_done = 0;
            if ((s = advance(w, err)) != CKPT_OK)
                return set_failed(w, s);
        }
    }
    return CKPT_OK;
}

ckpt_status ckpt_gguf_writer_finish(ckpt_gguf_writer *w, ckpt_err *err)
{
    ckpt_status s = CKPT_OK;
    if (w->state == W_FAILED) {
        s = ckpt_err_set(err, w->failure, "%s: not written (an earlier step failed)", w->path);
    } else if (w->state != W_DATA) {
        s = ckpt_err_set(err, CKPT_E_USAGE, "%s: finish called before begin", w->path);
    } else if (w->cur < w->n_tensors) {
        const struct wtensor *t = &w->tensors[w->cur];
        s = ckpt_err_set(err, CKPT_E_USAGE,
                         "%s: tensor '%s' incomplete: %llu of %llu bytes written (%zu of %zu "
                         "tensors complete)",
                         w->path, t->name, (unsigned long long)w->cur_done,
                         (unsigned long long)t->n_bytes, w->cur, w->n_tensors);
    } else if ((s = seal_part(w, err)) == CKPT_OK) {
        /* all parts are complete: publish them, the first last, so that a
         * set whose first file exists is whole (a reader starts there) */
        for (size_t i = w->n_parts; i-- > 0 && s == CKPT_OK;) {
            s = ckpt_out_commit(w->parts[i].out, err);
            w->parts[i].out = NULL; /* commit frees it, also on failure */
        }
    }
    ckpt_gguf_writer_free(w);
    return s;
}
