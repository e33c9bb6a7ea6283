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
 */
#include "gguf_internal.h"

#include "../arch/gguf_keys.h"
#include "le.h"
#include "outfile.h"

#include <openssl/evp.h>

#include <stdlib.h>
#include <string.h>

enum wstate { W_PLAN, W_DATA, W_FAILED };

struct wtensor {
    const char *name; /* arena copy */
    uint32_t n_dims;
    int64_t ne[CKPT_GGUF_MAX_DIMS];
    uint32_t type;
    uint64_t n_bytes;
};

struct ckpt_gguf_writer {
    char *path;
    bool force;
    uint32_t alignment;
    uint8_t *kv;           /* serialized kv records, file order */
    size_t kv_len, kv_cap;
    size_t n_kv;
    struct ckpt_gguf_set keys, names;
    struct ckpt_gguf_arena arena;
    struct wtensor *tensors;
    size_t n_tensors, tensors_cap;
    enum wstate state;
    ckpt_status failure;   /* why the writer is W_FAILED */
    ckpt_out *out;
    size_t cur;            /* tensor being streamed */
    uint64_t cur_done;     /* its bytes written so far */
    uint64_t planned;
    struct ckpt_gguf_digest *dg; /* digest-only writer: where the digests go */
    EVP_MD_CTX *tmd;       /* the current tensor's data digest */
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
    for (size_t i = 0; d->names && i < d->n_tensors; i++)
        free(d->names[i]);
    free(d->names);
    free(d->tensor);
    free(d->meta);
    *d = (struct ckpt_gguf_digest){0};
}

/* Digest mode at begin: the metadata image, the tensor names, and every
 * tensor's digest preset to that of no bytes (empty tensors are never
 * written). */
static ckpt_status digest_begin(ckpt_gguf_writer *w, ckpt_err *err)
{
    struct ckpt_gguf_digest *d = w->dg;
    static const uint8_t none[32] = {0xe3, 0xb0, 0xc4, 0x42, 0x98, 0xfc, 0x1c, 0x14,
                                     0x9a, 0xfb, 0xf4, 0xc8, 0x99, 0x6f, 0xb9, 0x24,
                                     0x27, 0xae, 0x41, 0xe4, 0x64, 0x9b, 0x93, 0x4c,
                                     0xa4, 0x95, 0x99, 0x1b, 0x78, 0x52, 0xb8, 0x55};
    ckpt_status s = ckpt_gguf_writer_meta_image(w, &d->meta, &d->meta_size, err);
    if (s != CKPT_OK)
        return s;
    d->names = calloc(w->n_tensors + 1, sizeof *d->names);
    d->tensor = calloc(w->n_tensors + 1, sizeof *d->tensor);
    if (!d->names || !d->tensor)
        return ckpt_err_set(err, CKPT_E_NOMEM, "%s: out of memory", w->path);
    for (size_t i = 0; i < w->n_tensors; i++, d->n_tensors++) {
        if (!(d->names[i] = strdup(w->tensors[i].name)))
            return ckpt_err_set(err, CKPT_E_NOMEM, "%s: out of memory", w->path);
        memcpy(d->tensor[i], none, sizeof none);
    }
    if (EVP_DigestInit_ex(w->tmd, EVP_sha256(), NULL) != 1)
        return ckpt_err_set(err, CKPT_E_INTERNAL, "%s: SHA-256 failed", w->path);
    return ckpt_out_open_digest(&w->out, w->path, d->file, err);
}

/* Digest mode: the current tensor's bytes, and its digest once complete. */
static ckpt_status digest_data(ckpt_gguf_writer *w, const void *p, size_t n, bool last,
                               ckpt_err *err)
{
    unsigned len = 0;
    if (EVP_DigestUpdate(w->tmd, p, n) != 1 ||
        (last && (EVP_DigestFinal_ex(w->tmd, w->dg->tensor[w->cur], &len) != 1 ||
                  EVP_DigestInit_ex(w->tmd, EVP_sha256(), NULL) != 1)))
        return ckpt_err_set(err, CKPT_E_INTERNAL, "%s: SHA-256 failed", w->path);
    return CKPT_OK;
}

void ckpt_gguf_writer_free(ckpt_gguf_writer *w)
{
    if (!w)
        return;
    EVP_MD_CTX_free(w->tmd);
    ckpt_out_abort(w->out);
    ckpt_gguf_set_free(&w->keys);
    ckpt_gguf_set_free(&w->names);
    ckpt_gguf_arena_free(&w->arena);
    free(w->kv);
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
    char *copy = ckpt_gguf_arena_strndup(&w->arena, key, len);
    if (!copy || ckpt_gguf_set_add(&w->keys, copy, w->n_kv, NULL) != 0 || !kv_str(w, key, len) ||
        !kv_u32(w, (uint32_t)type))
        return ckpt_err_set(err, CKPT_E_NOMEM, "%s: out of memory", w->path);
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

/* Bytes of the header up to the end of the tensor infos. */
static uint64_t header_bytes(const ckpt_gguf_writer *w)
{
    uint64_t n = 4 + 4 + 8 + 8 + (uint64_t)w->kv_len;
    for (size_t i = 0; i < w->n_tensors; i++)
        n += 8 + strlen(w->tensors[i].name) + 4 + 8 * (uint64_t)w->tensors[i].n_dims + 4 + 8;
    return n;
}

/* Data offset and total size; false when the sizes overflow.  A file
 * without tensors ends with its metadata: gguf-py pads only in front of
 * tensor data (its --vocab-only files have none), and so does this. */
static bool plan(const ckpt_gguf_writer *w, uint64_t *data_offset, uint64_t *total)
{
    uint64_t off = header_bytes(w), sum = 0, padded;
    if (w->n_tensors && !ckpt_gguf_pad(off, w->alignment, &off))
        return false;
    for (size_t i = 0; i < w->n_tensors; i++)
        if (!ckpt_gguf_pad(w->tensors[i].n_bytes, w->alignment, &padded) ||
            __builtin_add_overflow(sum, padded, &sum))
            return false;
    *data_offset = off;
    return !__builtin_add_overflow(off, sum, total);
}

uint64_t ckpt_gguf_writer_planned_size(const ckpt_gguf_writer *w)
{
    uint64_t off, total;
    return plan(w, &off, &total) ? total : UINT64_MAX;
}

static ckpt_status put_header(ckpt_gguf_writer *w, ckpt_err *err)
{
    uint8_t b[8 + CKPT_GGUF_MAX_NAME + 4 + 8 * CKPT_GGUF_MAX_DIMS + 4 + 8];
    le32enc(b, CKPT_GGUF_MAGIC);
    le32enc(b + 4, CKPT_GGUF_VERSION);
    le64enc(b + 8, w->n_tensors);
    le64enc(b + 16, w->n_kv);
    ckpt_status s = ckpt_out_write(w->out, b, 24, err);
    if (s == CKPT_OK)
        s = ckpt_out_write(w->out, w->kv, w->kv_len, err);
    uint64_t offset = 0, padded;
    for (size_t i = 0; s == CKPT_OK && i < w->n_tensors; i++) {
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
    if (s == CKPT_OK && w->n_tensors) { /* see plan() */
        uint64_t at = ckpt_out_tell(w->out), data_start;
        ckpt_gguf_pad(at, w->alignment, &data_start);
        s = ckpt_out_zeros(w->out, (size_t)(data_start - at), err);
    }
    return s;
}

/* Skip tensors that have no bytes: nothing to wait for. */
static void skip_empty(ckpt_gguf_writer *w)
{
    while (w->cur < w->n_tensors && w->tensors[w->cur].n_bytes == 0)
        w->cur++;
}

static ckpt_status set_failed(ckpt_gguf_writer *w, ckpt_status s)
{
    w->state = W_FAILED;
    w->failure = s;
    ckpt_out_abort(w->out);
    w->out = NULL;
    return s;
}

ckpt_status ckpt_gguf_writer_meta_image(const ckpt_gguf_writer *w, uint8_t **out, size_t *size,
                                        ckpt_err *err)
{
    *out = NULL;
    *size = 0;
    uint8_t *b = w->kv_len <= SIZE_MAX - 24 ? malloc(24 + w->kv_len) : NULL;
    if (!b)
        return ckpt_err_set(err, CKPT_E_NOMEM, "%s: out of memory for the metadata", w->path);
    le32enc(b, CKPT_GGUF_MAGIC);
    le32enc(b + 4, CKPT_GGUF_VERSION);
    le64enc(b + 8, 0);
    le64enc(b + 16, w->n_kv);
    if (w->kv_len)
        memcpy(b + 24, w->kv, w->kv_len);
    *out = b;
    *size = 24 + w->kv_len;
    return CKPT_OK;
}

ckpt_status ckpt_gguf_writer_begin(ckpt_gguf_writer *w, ckpt_err *err)
{
    if (w->state != W_PLAN)
        return ckpt_err_set(err, CKPT_E_USAGE, "%s: begin called twice", w->path);
    uint64_t data_offset;
    if (!plan(w, &data_offset, &w->planned))
        return set_failed(w, ckpt_err_set(err, CKPT_E_RANGE, "%s: file size overflows", w->path));
    ckpt_status s = w->dg ? digest_begin(w, err) : ckpt_out_open(&w->out, w->path, w->force, err);
    if (s != CKPT_OK)
        return set_failed(w, s);
    if ((s = put_header(w, err)) != CKPT_OK)
        return set_failed(w, s);
    if (ckpt_out_tell(w->out) != data_offset)
        return set_failed(w, ckpt_err_set(err, CKPT_E_INTERNAL, "%s: header size %llu, planned %llu",
                                          w->path, (unsigned long long)ckpt_out_tell(w->out),
                                          (unsigned long long)data_offset));
    w->state = W_DATA;
    w->cur = 0;
    w->cur_done = 0;
    skip_empty(w);
    return CKPT_OK;
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
            skip_empty(w);
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
    } else if (ckpt_out_tell(w->out) != w->planned) {
        s = ckpt_err_set(err, CKPT_E_INTERNAL, "%s: wrote %llu bytes, planned %llu", w->path,
                         (unsigned long long)ckpt_out_tell(w->out),
                         (unsigned long long)w->planned);
    } else {
        s = ckpt_out_commit(w->out, err);
        w->out = NULL; /* commit frees it, also on failure */
    }
    ckpt_gguf_writer_free(w);
    return s;
}
