/*
 * gguf_read.c - parse and validate a GGUF file (v2 and v3, little-endian).
 *
 * One pass over the header with a bounds-checked cursor.  Every count,
 * length and product is checked against the bytes that remain before
 * anything is allocated or touched, and the arrays that hold the parsed
 * records grow with what was actually read, so memory stays proportional
 * to the file, whatever its counts claim.  The checks are ggml's
 * (gguf_init_from_file_impl), plus a few stricter ones: bools must be 0 or
 * 1, keys and names may not contain NUL, alignment is capped at 1 GiB.
 * Accessors and typed getters live in gguf_meta.c.
 */
#include "filekind.h"
#include "gguf_internal.h"

#include "../arch/gguf_keys.h"
#include "le.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct parser {
    ckpt_gguf *g;
    struct ckpt_rd rd;
    ckpt_err *err;
};

static ckpt_status fail(struct parser *ps, ckpt_status code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* "<file>: <what>" */
static ckpt_status fail(struct parser *ps, ckpt_status code, const char *fmt, ...)
{
    char what[384];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    return ckpt_err_set(ps->err, code, "%s: %s", ps->g->path, what);
}

static ckpt_status truncated(struct parser *ps, const char *what)
{
    return fail(ps, CKPT_E_FORMAT, "truncated at offset %llu of %zu reading %s",
                (unsigned long long)ckpt_rd_pos(&ps->rd), ps->g->size, what);
}

static ckpt_status nomem(struct parser *ps)
{
    return fail(ps, CKPT_E_NOMEM, "out of memory");
}

/* Grow *arr (of elem-byte items) so that it holds at least need items. */
static bool reserve(void **arr, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return true;
    size_t n = *cap ? *cap : 16, bytes;
    while (n < need)
        n *= 2;
    if (__builtin_mul_overflow(n, elem, &bytes))
        return false;
    void *p = realloc(*arr, bytes);
    if (!p)
        return false;
    *arr = p;
    *cap = n;
    return true;
}

/* ---- magic and version ---- */

/* Name what the bytes look like when they are not GGUF. */
static ckpt_status bad_magic(struct parser *ps)
{
    const uint8_t *d = ps->g->data;
    size_t n = ps->g->size;
    if (n == 0)
        return fail(ps, CKPT_E_FORMAT, "not a GGUF file: the file is empty");
    if (n < 4)
        return fail(ps, CKPT_E_FORMAT, "not a GGUF file: only %zu bytes", n);
    ckpt_file_kind kind = ckpt_file_kind_of(d, n < 65536 ? n : 65536, n);
    if (kind != CKPT_KIND_UNKNOWN) {
        const char *hint = ckpt_file_kind_hint(kind);
        return fail(ps, CKPT_E_FORMAT, "not a GGUF file: looks like %s%s%s",
                    ckpt_file_kind_name(kind), hint[0] ? ": " : "", hint);
    }
    return fail(ps, CKPT_E_FORMAT, "not a GGUF file: bad magic %02x %02x %02x %02x", d[0], d[1],
                d[2], d[3]);
}

static ckpt_status parse_version(struct parser *ps)
{
    uint32_t v;
    if (!ckpt_rd_u32(&ps->rd, &v))
        return truncated(ps, "the version");
    ps->g->version = v;
    if (v == 1)
        return fail(ps, CKPT_E_UNSUPPORTED,
                    "GGUFv1 is no longer supported (convert the model again)");
    /* A big-endian file's small version number reads as a huge one with
     * the low 16 bits clear (3 -> 0x03000000). */
    if (v != 0 && (v & 0xffffu) == 0)
        return fail(ps, CKPT_E_UNSUPPORTED,
                    "GGUF version 0x%08x looks byte-swapped: a big-endian file "
                    "(only little-endian GGUF is supported)",
                    v);
    if (v < 2 || v > CKPT_GGUF_VERSION)
        return fail(ps, CKPT_E_UNSUPPORTED, "unsupported GGUF version %u (supported: 2 and 3)", v);
    return CKPT_OK;
}

/* ---- strings ---- */

/* Read a length-prefixed string and borrow its bytes; `what` names it. */
static ckpt_status read_str(struct parser *ps, const char *what, uint64_t *len,
                            const uint8_t **bytes)
{
    char buf[160];
    if (!ckpt_rd_u64(&ps->rd, len)) {
        snprintf(buf, sizeof buf, "the length of %s", what);
        return truncated(ps, buf);
    }
    if (*len > CKPT_GGUF_MAX_STRING)
        return fail(ps, CKPT_E_FORMAT, "%s: string length %llu is over the 1 GiB limit", what,
                    (unsigned long long)*len);
    if (*len > ckpt_rd_left(&ps->rd))
        return fail(ps, CKPT_E_FORMAT, "%s: string length %llu exceeds the %zu bytes left", what,
                    (unsigned long long)*len, ckpt_rd_left(&ps->rd));
    ckpt_rd_bytes(&ps->rd, *len, bytes);
    return CKPT_OK;
}

static ckpt_status copy_str(struct parser *ps, const char *what, struct ckpt_gguf_str *out)
{
    uint64_t len;
    const uint8_t *bytes;
    ckpt_status s = read_str(ps, what, &len, &bytes);
    if (s != CKPT_OK)
        return s;
    out->len = len;
    out->str = ckpt_gguf_arena_strndup(&ps->g->arena, bytes, (size_t)len);
    return out->str ? CKPT_OK : nomem(ps);
}

/* ---- metadata ---- */

static void decode_scalar(ckpt_gguf_type t, const uint8_t *p, struct ckpt_gguf_kv *kv)
{
    double d;
    switch (t) {
    case CKPT_GGUF_UINT8:
    case CKPT_GGUF_BOOL: kv->v.u64 = p[0]; break;
    case CKPT_GGUF_INT8: kv->v.i64 = (int8_t)p[0]; break;
    case CKPT_GGUF_UINT16: kv->v.u64 = le16dec(p); break;
    case CKPT_GGUF_INT16: kv->v.i64 = (int16_t)le16dec(p); break;
    case CKPT_GGUF_UINT32: kv->v.u64 = le32dec(p); break;
    case CKPT_GGUF_INT32: kv->v.i64 = (int32_t)le32dec(p); break;
    case CKPT_GGUF_UINT64: kv->v.u64 = le64dec(p); break;
    case CKPT_GGUF_INT64: kv->v.i64 = (int64_t)le64dec(p); break;
    case CKPT_GGUF_FLOAT32: kv->v.f64 = lef32dec(p); break;
    case CKPT_GGUF_FLOAT64: memcpy(&d, p, 8); kv->v.f64 = d; break;
    default: break;
    }
}

static ckpt_status check_bools(struct parser *ps, const struct ckpt_gguf_kv *kv,
                               const uint8_t *p, uint64_t n)
{
    for (uint64_t i = 0; i < n; i++) {
        if (p[i] > 1) {
            if (kv->type == CKPT_GGUF_ARRAY)
                return fail(ps, CKPT_E_FORMAT, "key '%s': bool element %llu is %u, not 0 or 1",
                            kv->key, (unsigned long long)i, p[i]);
            return fail(ps, CKPT_E_FORMAT, "key '%s': bool value %u is not 0 or 1", kv->key, p[i]);
        }
    }
    return CKPT_OK;
}

static ckpt_status parse_array(struct parser *ps, struct ckpt_gguf_kv *kv)
{
    uint32_t et;
    uint64_t n;
    char what[128];
    snprintf(what, sizeof what, "the array header of key '%s'", kv->key);
    if (!ckpt_rd_u32(&ps->rd, &et) || !ckpt_rd_u64(&ps->rd, &n))
        return truncated(ps, what);
    if (et == CKPT_GGUF_ARRAY)
        return fail(ps, CKPT_E_FORMAT, "key '%s': nested arrays (array of arrays) are not supported",
                    kv->key);
    if (et >= CKPT_GGUF_TYPE_COUNT)
        return fail(ps, CKPT_E_FORMAT, "key '%s': invalid array element type %u", kv->key, et);
    kv->elem_type = (ckpt_gguf_type)et;
    kv->n = n;
    size_t left = ckpt_rd_left(&ps->rd);
    if (et == CKPT_GGUF_STRING) {
        /* every string needs at least its u64 length */
        uint64_t min;
        if (__builtin_mul_overflow(n, (uint64_t)8, &min) || min > left)
            return fail(ps, CKPT_E_FORMAT,
                        "key '%s': array of %llu strings cannot fit in the %zu bytes left",
                        kv->key, (unsigned long long)n, left);
        if (n == 0)
            return CKPT_OK;
        kv->array_str = ckpt_gguf_arena_alloc(&ps->g->arena, (size_t)n * sizeof *kv->array_str);
        if (!kv->array_str)
            return nomem(ps);
        for (uint64_t i = 0; i < n; i++) {
            snprintf(what, sizeof what, "key '%s' element %llu", kv->key, (unsigned long long)i);
            ckpt_status s = copy_str(ps, what, &kv->array_str[i]);
            if (s != CKPT_OK)
                return s;
        }
        return CKPT_OK;
    }
    size_t es = ckpt_gguf_type_size(et);
    uint64_t bytes;
    if (__builtin_mul_overflow(n, (uint64_t)es, &bytes) || bytes > left)
        return fail(ps, CKPT_E_FORMAT, "key '%s': array of %llu %s cannot fit in the %zu bytes left",
                    kv->key, (unsigned long long)n, ckpt_gguf_type_name(et), left);
    ckpt_rd_bytes(&ps->rd, bytes, &kv->array_data);
    if (et == CKPT_GGUF_BOOL)
        return check_bools(ps, kv, kv->array_data, n);
    return CKPT_OK;
}

static ckpt_status parse_kv(struct parser *ps, uint64_t i)
{
    ckpt_gguf *g = ps->g;
    struct ckpt_gguf_kv *kv = &g->kvs[g->n_kv];
    memset(kv, 0, sizeof *kv);
    char what[128];
    snprintf(what, sizeof what, "key %llu", (unsigned long long)i);
    uint64_t len;
    const uint8_t *bytes;
    ckpt_status s = read_str(ps, what, &len, &bytes);
    if (s != CKPT_OK)
        return s;
    if (len == 0)
        return fail(ps, CKPT_E_FORMAT, "key %llu is empty", (unsigned long long)i);
    if (memchr(bytes, 0, (size_t)len)) {
        kv->key = ckpt_gguf_arena_strndup(&g->arena, bytes, (size_t)len);
        return fail(ps, CKPT_E_FORMAT, "key %llu ('%s...') contains a NUL byte",
                    (unsigned long long)i, kv->key ? kv->key : "");
    }
    if (!(kv->key = ckpt_gguf_arena_strndup(&g->arena, bytes, (size_t)len)))
        return nomem(ps);
    size_t dup;
    int r = ckpt_gguf_set_add(&g->kv_set, kv->key, g->n_kv, &dup);
    if (r < 0)
        return nomem(ps);
    if (r > 0)
        return fail(ps, CKPT_E_FORMAT, "duplicate key '%s' (keys %zu and %llu)", kv->key, dup,
                    (unsigned long long)i);

    uint32_t t;
    snprintf(what, sizeof what, "the type of key '%s'", kv->key);
    if (!ckpt_rd_u32(&ps->rd, &t))
        return truncated(ps, what);
    if (t >= CKPT_GGUF_TYPE_COUNT)
        return fail(ps, CKPT_E_FORMAT, "key '%s': invalid value type %u", kv->key, t);
    kv->type = (ckpt_gguf_type)t;
    kv->n = 1;
    if (t == CKPT_GGUF_ARRAY) {
        s = parse_array(ps, kv);
    } else if (t == CKPT_GGUF_STRING) {
        snprintf(what, sizeof what, "the value of key '%s'", kv->key);
        s = copy_str(ps, what, &kv->v.str);
    } else {
        /* numeric scalars keep a view of their raw bytes too (exact copies) */
        snprintf(what, sizeof what, "the value of key '%s'", kv->key);
        if (!ckpt_rd_bytes(&ps->rd, ckpt_gguf_type_size(t), &kv->array_data))
            return truncated(ps, what);
        decode_scalar(kv->type, kv->array_data, kv);
        s = t == CKPT_GGUF_BOOL ? check_bools(ps, kv, kv->array_data, 1) : CKPT_OK;
    }
    if (s == CKPT_OK)
        g->n_kv++;
    return s;
}

static ckpt_status parse_alignment(struct parser *ps)
{
    ckpt_gguf *g = ps->g;
    g->alignment = CKPT_GGUF_DEFAULT_ALIGNMENT;
    size_t i = ckpt_gguf_set_find(&g->kv_set, CKPT_KEY_ALIGNMENT);
    if (i == SIZE_MAX)
        return CKPT_OK;
    const struct ckpt_gguf_kv *kv = &g->kvs[i];
    if (kv->type != CKPT_GGUF_UINT32)
        return fail(ps, CKPT_E_FORMAT, "general.alignment must be u32, not %s",
                    kv->type == CKPT_GGUF_ARRAY ? "an array" : ckpt_gguf_type_name(kv->type));
    uint64_t a = kv->v.u64;
    if (a == 0 || (a & (a - 1)) != 0)
        return fail(ps, CKPT_E_FORMAT, "general.alignment %llu is not a power of two",
                    (unsigned long long)a);
    if (!ckpt_gguf_alignment_ok(a))
        return fail(ps, CKPT_E_FORMAT, "general.alignment %llu is larger than 1 GiB",
                    (unsigned long long)a);
    g->alignment = (uint32_t)a;
    return CKPT_OK;
}

/* ---- tensor infos ---- */

static ckpt_status parse_tensor_info(struct parser *ps, uint64_t i)
{
    ckpt_gguf *g = ps->g;
    struct ckpt_gguf_tensor *t = &g->tensors[g->n_tensors];
    memset(t, 0, sizeof *t);
    char what[128];
    snprintf(what, sizeof what, "the name length of tensor %llu", (unsigned long long)i);
    uint64_t len;
    if (!ckpt_rd_u64(&ps->rd, &len))
        return truncated(ps, what);
    if (len == 0)
        return fail(ps, CKPT_E_FORMAT, "tensor %llu has an empty name", (unsigned long long)i);
    if (len > CKPT_GGUF_MAX_NAME)
        return fail(ps, CKPT_E_FORMAT, "tensor %llu: name of %llu bytes is longer than %d",
                    (unsigned long long)i, (unsigned long long)len, CKPT_GGUF_MAX_NAME);
    const uint8_t *bytes;
    snprintf(what, sizeof what, "the name of tensor %llu", (unsigned long long)i);
    if (!ckpt_rd_bytes(&ps->rd, len, &bytes))
        return truncated(ps, what);
    if (memchr(bytes, 0, (size_t)len))
        return fail(ps, CKPT_E_FORMAT, "tensor %llu: name contains a NUL byte",
                    (unsigned long long)i);
    if (!(t->name = ckpt_gguf_arena_strndup(&g->arena, bytes, (size_t)len)))
        return nomem(ps);
    size_t dup;
    int r = ckpt_gguf_set_add(&g->tensor_set, t->name, g->n_tensors, &dup);
    if (r < 0)
        return nomem(ps);
    if (r > 0)
        return fail(ps, CKPT_E_FORMAT, "duplicate tensor name '%s' (tensors %zu and %llu)", t->name,
                    dup, (unsigned long long)i);

    snprintf(what, sizeof what, "the shape of tensor '%s'", t->name);
    if (!ckpt_rd_u32(&ps->rd, &t->n_dims))
        return truncated(ps, what);
    /* 0 dims is accepted, as ggml does: a scalar (one element). */
    if (t->n_dims > CKPT_GGUF_MAX_DIMS)
        return fail(ps, CKPT_E_FORMAT, "tensor '%s': %u dimensions (at most %d)", t->name,
                    t->n_dims, CKPT_GGUF_MAX_DIMS);
    for (int j = 0; j < CKPT_GGUF_MAX_DIMS; j++)
        t->ne[j] = 1;
    for (uint32_t j = 0; j < t->n_dims; j++) {
        uint64_t v;
        if (!ckpt_rd_u64(&ps->rd, &v))
            return truncated(ps, what);
        t->ne[j] = (int64_t)v;
        /* An empty tensor is ne[0] = 0, which gguf.cpp reads; a zero in a
         * higher dimension makes gguf.cpp divide by it, so no GGUF reader in
         * the ecosystem can load the file: refuse it here, for every tool. */
        if (j > 0 && v == 0)
            return fail(ps, CKPT_E_FORMAT,
                        "tensor '%s': dimension %u is 0 (only the first may be, in an empty "
                        "tensor)",
                        t->name, j);
    }
    uint32_t type;
    snprintf(what, sizeof what, "the type and offset of tensor '%s'", t->name);
    if (!ckpt_rd_u32(&ps->rd, &type) || !ckpt_rd_u64(&ps->rd, &t->offset))
        return truncated(ps, what);
    t->type = (ckpt_type)type;
    char why[160];
    if (!ckpt_gguf_tensor_size(type, t->n_dims, t->ne, &t->n_elements, &t->n_bytes, why,
                               sizeof why))
        return fail(ps, CKPT_E_FORMAT, "tensor '%s': %s", t->name, why);
    g->n_tensors++;
    return CKPT_OK;
}

/* Offsets must be the running padded sum (ggml's rule); data inside the file. */
static ckpt_status place_tensors(struct parser *ps)
{
    ckpt_gguf *g = ps->g;
    uint64_t expect = 0;
    for (size_t i = 0; i < g->n_tensors; i++) {
        struct ckpt_gguf_tensor *t = &g->tensors[i];
        if (t->offset != expect)
            return fail(ps, CKPT_E_FORMAT,
                        "tensor '%s': data offset %llu, expected %llu (tensors must follow each "
                        "other in info order, each padded to %u)",
                        t->name, (unsigned long long)t->offset, (unsigned long long)expect,
                        g->alignment);
        uint64_t start, end, padded;
        if (__builtin_add_overflow(g->data_offset, t->offset, &start) ||
            __builtin_add_overflow(start, t->n_bytes, &end) || end > g->size)
            return fail(ps, CKPT_E_FORMAT,
                        "tensor '%s': data of %llu bytes at offset %llu extends past the end of "
                        "the file (%zu bytes)",
                        t->name, (unsigned long long)t->n_bytes,
                        (unsigned long long)(g->data_offset + t->offset), g->size);
        t->data = t->n_bytes ? g->data + start : NULL;
        if (!ckpt_gguf_pad(t->n_bytes, g->alignment, &padded) ||
            __builtin_add_overflow(expect, padded, &expect))
            return fail(ps, CKPT_E_FORMAT, "tensor '%s': data section size overflows", t->name);
    }
    g->data_size = expect;
    uint64_t end = g->data_offset + expect; /* may exceed size: last padding may be missing */
    g->trailing = end < g->size ? g->size - end : 0;
    return CKPT_OK;
}

static ckpt_status parse(struct parser *ps)
{
    ckpt_gguf *g = ps->g;
    uint32_t magic;
    if (!ckpt_rd_u32(&ps->rd, &magic) || magic != CKPT_GGUF_MAGIC)
        return bad_magic(ps);
    ckpt_status s = parse_version(ps);
    if (s != CKPT_OK)
        return s;
    uint64_t n_tensors, n_kv;
    if (!ckpt_rd_u64(&ps->rd, &n_tensors))
        return truncated(ps, "the tensor count");
    if (!ckpt_rd_u64(&ps->rd, &n_kv))
        return truncated(ps, "the key/value count");

    /* Counts against the bytes left, before anything is allocated. */
    size_t left = ckpt_rd_left(&ps->rd);
    uint64_t kv_min, ti_min;
    if (__builtin_mul_overflow(n_kv, (uint64_t)CKPT_GGUF_MIN_KV_BYTES, &kv_min) || kv_min > left)
        return fail(ps, CKPT_E_FORMAT,
                    "key/value count %llu cannot fit in the %zu bytes left (each needs at "
                    "least %u)",
                    (unsigned long long)n_kv, left, CKPT_GGUF_MIN_KV_BYTES);
    if (__builtin_mul_overflow(n_tensors, (uint64_t)CKPT_GGUF_MIN_TENSOR_INFO_BYTES, &ti_min) ||
        ti_min > left - kv_min)
        return fail(ps, CKPT_E_FORMAT,
                    "tensor count %llu cannot fit in the %zu bytes left (each tensor info needs "
                    "at least %u)",
                    (unsigned long long)n_tensors, left, CKPT_GGUF_MIN_TENSOR_INFO_BYTES);

    size_t cap = 0;
    for (uint64_t i = 0; i < n_kv; i++) {
        if (!reserve((void **)&g->kvs, &cap, g->n_kv + 1, sizeof *g->kvs))
            return nomem(ps);
        if ((s = parse_kv(ps, i)) != CKPT_OK)
            return s;
    }
    if ((s = parse_alignment(ps)) != CKPT_OK)
        return s;
    /* The tensor infos are still ahead; re-check their count against what is left now. */
    left = ckpt_rd_left(&ps->rd);
    if (n_tensors * CKPT_GGUF_MIN_TENSOR_INFO_BYTES > left)
        return fail(ps, CKPT_E_FORMAT,
                    "tensor count %llu cannot fit in the %zu bytes left after the metadata",
                    (unsigned long long)n_tensors, left);
    cap = 0;
    for (uint64_t i = 0; i < n_tensors; i++) {
        if (!reserve((void **)&g->tensors, &cap, g->n_tensors + 1, sizeof *g->tensors))
            return nomem(ps);
        if ((s = parse_tensor_info(ps, i)) != CKPT_OK)
            return s;
    }

    /* The data section starts at the next multiple of the alignment (from
     * the file start); ggml pads only when there are tensors. */
    uint64_t header_end = ckpt_rd_pos(&ps->rd);
    g->data_offset = header_end;
    if (n_tensors > 0) {
        ckpt_gguf_pad(header_end, g->alignment, &g->data_offset);
        if (g->data_offset > g->size)
            return fail(ps, CKPT_E_FORMAT,
                        "data section at offset %llu starts past the end of the file (%zu "
                        "bytes): truncated",
                        (unsigned long long)g->data_offset, g->size);
    }
    return place_tensors(ps);
}

static ckpt_status open_bytes(ckpt_gguf **out, const char *name, ckpt_map *map, const void *data,
                              size_t size, ckpt_err *err)
{
    *out = NULL;
    ckpt_gguf *g = calloc(1, sizeof *g);
    if (!g || !(g->path = strdup(name))) {
        free(g);
        ckpt_map_close(map);
        return ckpt_err_set(err, CKPT_E_NOMEM, "%s: out of memory", name);
    }
    g->map = map;
    g->data = data;
    g->size = data ? size : 0;
    struct parser ps = {.g = g, .err = err};
    ckpt_rd_init(&ps.rd, g->data, g->size);
    /* errors are reported through a local record too, so a NULL err still fails */
    ckpt_err local;
    ckpt_err_clear(&local);
    if (!err)
        ps.err = &local;
    ckpt_status s = parse(&ps);
    if (s != CKPT_OK) {
        ckpt_gguf_close(g);
        return s;
    }
    *out = g;
    return CKPT_OK;
}

ckpt_status ckpt_gguf_open_buffer(ckpt_gguf **out, const char *name, const void *data, size_t size,
                                  ckpt_err *err)
{
    return open_bytes(out, name, NULL, data, size, err);
}

ckpt_status ckpt_gguf_open_file(ckpt_gguf **out, const char *path, ckpt_err *err)
{
    *out = NULL;
    ckpt_map *map;
    ckpt_status s = ckpt_map_open(&map, path, err);
    if (s != CKPT_OK)
        return s;
    return open_bytes(out, path, map, map->data, map->size, err);
}

void ckpt_gguf_close(ckpt_gguf *g)
{
    if (!g)
        return;
    for (size_t i = 1; i < g->n_parts; i++)
        ckpt_gguf_close(g->parts[i]);
    free(g->parts);
    ckpt_gguf_set_free(&g->kv_set);
    ckpt_gguf_set_free(&g->tensor_set);
    ckpt_gguf_arena_free(&g->arena);
    free(g->kvs);
    free(g->tensors);
    ckpt_map_close(g->map);
    free(g->path);
    free(g);
}
