/*
 * gguf_meta.c - what an open GGUF reader answers: layout facts, metadata
 * lookups, typed getters with range checks, array elements, tensors.
 * Everything returned is borrowed from the reader (gguf.h).
 */
#include "gguf_internal.h"
#include "le.h"

#include <string.h>

uint32_t ckpt_gguf_version(const ckpt_gguf *g) { return g->version; }
uint32_t ckpt_gguf_alignment(const ckpt_gguf *g) { return g->alignment; }
uint64_t ckpt_gguf_data_offset(const ckpt_gguf *g) { return g->data_offset; }
uint64_t ckpt_gguf_file_size(const ckpt_gguf *g) { return g->size; }
uint64_t ckpt_gguf_trailing_bytes(const ckpt_gguf *g) { return g->trailing; }
const char *ckpt_gguf_path(const ckpt_gguf *g) { return g->path; }
const ckpt_map *ckpt_gguf_map(const ckpt_gguf *g) { return g->map; }

size_t ckpt_gguf_n_kv(const ckpt_gguf *g) { return g->n_kv; }

const struct ckpt_gguf_kv *ckpt_gguf_kv_at(const ckpt_gguf *g, size_t i)
{
    return i < g->n_kv ? &g->kvs[i] : NULL;
}

const struct ckpt_gguf_kv *ckpt_gguf_find_kv(const ckpt_gguf *g, const char *key)
{
    size_t i = ckpt_gguf_set_find(&g->kv_set, key);
    return i == SIZE_MAX ? NULL : &g->kvs[i];
}

size_t ckpt_gguf_n_tensors(const ckpt_gguf *g) { return g->n_tensors; }

const struct ckpt_gguf_tensor *ckpt_gguf_tensor(const ckpt_gguf *g, size_t i)
{
    return i < g->n_tensors ? &g->tensors[i] : NULL;
}

const struct ckpt_gguf_tensor *ckpt_gguf_find_tensor(const ckpt_gguf *g, const char *name)
{
    size_t i = ckpt_gguf_set_find(&g->tensor_set, name);
    return i == SIZE_MAX ? NULL : &g->tensors[i];
}

/* ---- typed getters ---- */

static bool is_unsigned(ckpt_gguf_type t)
{
    return t == CKPT_GGUF_UINT8 || t == CKPT_GGUF_UINT16 || t == CKPT_GGUF_UINT32 ||
           t == CKPT_GGUF_UINT64;
}

static bool is_signed(ckpt_gguf_type t)
{
    return t == CKPT_GGUF_INT8 || t == CKPT_GGUF_INT16 || t == CKPT_GGUF_INT32 ||
           t == CKPT_GGUF_INT64;
}

static const char *kv_type_name(const struct ckpt_gguf_kv *kv)
{
    return kv->type == CKPT_GGUF_ARRAY ? "an array" : ckpt_gguf_type_name(kv->type);
}

static ckpt_status lookup(const ckpt_gguf *g, const char *key, const struct ckpt_gguf_kv **kv,
                          ckpt_err *err)
{
    *kv = ckpt_gguf_find_kv(g, key);
    if (!*kv)
        return ckpt_err_set(err, CKPT_E_FORMAT, "%s: missing key '%s'", g->path, key);
    return CKPT_OK;
}

static ckpt_status wrong_type(const ckpt_gguf *g, const struct ckpt_gguf_kv *kv,
                              const char *want, ckpt_err *err)
{
    return ckpt_err_set(err, CKPT_E_FORMAT, "%s: key '%s' is %s, expected %s", g->path, kv->key,
                        kv_type_name(kv), want);
}

/* Any integer kv as u64 within [0, max]. */
static ckpt_status get_uint(const ckpt_gguf *g, const char *key, uint64_t max, const char *want,
                            uint64_t *out, ckpt_err *err)
{
    const struct ckpt_gguf_kv *kv;
    ckpt_status s = lookup(g, key, &kv, err);
    if (s != CKPT_OK)
        return s;
    if (is_unsigned(kv->type)) {
        if (kv->v.u64 > max)
            return ckpt_err_set(err, CKPT_E_RANGE, "%s: key '%s': value %llu does not fit in %s",
                                g->path, key, (unsigned long long)kv->v.u64, want);
        *out = kv->v.u64;
        return CKPT_OK;
    }
    if (is_signed(kv->type)) {
        if (kv->v.i64 < 0 || (uint64_t)kv->v.i64 > max)
            return ckpt_err_set(err, CKPT_E_RANGE, "%s: key '%s': value %lld does not fit in %s",
                                g->path, key, (long long)kv->v.i64, want);
        *out = (uint64_t)kv->v.i64;
        return CKPT_OK;
    }
    return wrong_type(g, kv, "an integer", err);
}

ckpt_status ckpt_gguf_get_u32(const ckpt_gguf *g, const char *key, uint32_t *out, ckpt_err *err)
{
    uint64_t v;
    ckpt_status s = get_uint(g, key, UINT32_MAX, "u32", &v, err);
    if (s == CKPT_OK)
        *out = (uint32_t)v;
    return s;
}

ckpt_status ckpt_gguf_get_u64(const ckpt_gguf *g, const char *key, uint64_t *out, ckpt_err *err)
{
    return get_uint(g, key, UINT64_MAX, "u64", out, err);
}

ckpt_status ckpt_gguf_get_f32(const ckpt_gguf *g, const char *key, float *out, ckpt_err *err)
{
    const struct ckpt_gguf_kv *kv;
    ckpt_status s = lookup(g, key, &kv, err);
    if (s != CKPT_OK)
        return s;
    if (kv->type != CKPT_GGUF_FLOAT32 && kv->type != CKPT_GGUF_FLOAT64)
        return wrong_type(g, kv, "f32", err);
    *out = (float)kv->v.f64;
    return CKPT_OK;
}

ckpt_status ckpt_gguf_get_bool(const ckpt_gguf *g, const char *key, bool *out, ckpt_err *err)
{
    const struct ckpt_gguf_kv *kv;
    ckpt_status s = lookup(g, key, &kv, err);
    if (s != CKPT_OK)
        return s;
    if (kv->type != CKPT_GGUF_BOOL)
        return wrong_type(g, kv, "bool", err);
    *out = kv->v.u64 != 0;
    return CKPT_OK;
}

ckpt_status ckpt_gguf_get_str(const ckpt_gguf *g, const char *key, const char **out, ckpt_err *err)
{
    const struct ckpt_gguf_kv *kv;
    ckpt_status s = lookup(g, key, &kv, err);
    if (s != CKPT_OK)
        return s;
    if (kv->type != CKPT_GGUF_STRING)
        return wrong_type(g, kv, "string", err);
    /* A C string would silently end at an embedded NUL ("key\0alias" tricks). */
    if (strlen(kv->v.str.str) != kv->v.str.len)
        return ckpt_err_set(err, CKPT_E_FORMAT, "%s: key '%s': string contains a NUL byte",
                            g->path, key);
    *out = kv->v.str.str;
    return CKPT_OK;
}

/* ---- array elements ---- */

/* Element i of a numeric kv's raw bytes (arrays, and reader scalars with n = 1). */
static const uint8_t *elem_at(const struct ckpt_gguf_kv *kv, uint64_t i, ckpt_gguf_type *t)
{
    *t = kv->type == CKPT_GGUF_ARRAY ? kv->elem_type : kv->type;
    size_t es = ckpt_gguf_type_size(*t);
    if (!kv->array_data || es == 0 || i >= kv->n)
        return NULL;
    return kv->array_data + i * es;
}

bool ckpt_gguf_array_i64(const struct ckpt_gguf_kv *kv, uint64_t i, int64_t *out)
{
    ckpt_gguf_type t;
    const uint8_t *p = elem_at(kv, i, &t);
    if (!p)
        return false;
    uint64_t u;
    switch (t) {
    case CKPT_GGUF_UINT8: *out = p[0]; return true;
    case CKPT_GGUF_INT8: *out = (int8_t)p[0]; return true;
    case CKPT_GGUF_UINT16: *out = le16dec(p); return true;
    case CKPT_GGUF_INT16: *out = (int16_t)le16dec(p); return true;
    case CKPT_GGUF_UINT32: *out = le32dec(p); return true;
    case CKPT_GGUF_INT32: *out = (int32_t)le32dec(p); return true;
    case CKPT_GGUF_INT64: *out = (int64_t)le64dec(p); return true;
    case CKPT_GGUF_UINT64:
        u = le64dec(p);
        if (u > INT64_MAX)
            return false;
        *out = (int64_t)u;
        return true;
    default: return false;
    }
}

bool ckpt_gguf_array_f64(const struct ckpt_gguf_kv *kv, uint64_t i, double *out)
{
    ckpt_gguf_type t;
    const uint8_t *p = elem_at(kv, i, &t);
    if (!p)
        return false;
    int64_t v;
    switch (t) {
    case CKPT_GGUF_FLOAT32: *out = lef32dec(p); return true;
    case CKPT_GGUF_FLOAT64: memcpy(out, p, 8); return true;
    case CKPT_GGUF_UINT64: *out = (double)le64dec(p); return true;
    default:
        if (!ckpt_gguf_array_i64(kv, i, &v))
            return false;
        *out = (double)v;
        return true;
    }
}
