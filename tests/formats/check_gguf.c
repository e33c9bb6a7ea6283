/*
 * check_gguf.c - the GGUF reader and writer.
 *
 *   golden:    every GGUF of tests/data/golden against llama.cpp's listings
 *              (each tensor's name, type, shape and data SHA-256; each key's
 *              value, arrays through Python's repr; the whole-file SHA-256)
 *   roundtrip: rewriting a golden file with the writer gives the same bytes;
 *              every value type; stdout/pipes; -f; failures leave no file
 *   reader:    accepted edge cases (0 dims, trailing bytes, v2) and getters
 *   corrupt:   the hostile corpus (tests/gguf_hostile.h) and truncation of a
 *              valid file at every byte
 */
#define _GNU_SOURCE
#include <check.h>
#include <dirent.h>
#include <math.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "formats/gguf.h"
#include "formats/le.h"
#include "gguf_hostile.h"
#include "pyrepr.h"
#include "testutil.h"

static const char *const golden_files[] = {
    "tiny-mistral/convert-f16",         "tiny-mistral/quant-Q4_K_M",
    "tiny-mistral-tokjson/convert-f16", "tiny-mistral-tokjson/quant-Q4_K_M",
    "tiny-mixtral/convert-f16",         "tiny-mixtral/quant-Q4_K_M",
};
#define N_GOLDEN ((int)(sizeof golden_files / sizeof golden_files[0]))

static char *golden_path(int i, const char *suffix)
{
    char *rel = tu_fmt("golden/%s%s", golden_files[i], suffix);
    char *p = tu_data(rel);
    free(rel);
    return p;
}

static ckpt_gguf *open_golden(int i)
{
    char *path = golden_path(i, ".gguf");
    ckpt_err err;
    ckpt_err_clear(&err);
    ckpt_gguf *g = NULL;
    ckpt_status s = ckpt_gguf_open(&g, path, &err);
    ck_assert_msg(s == CKPT_OK, "%s", err.msg);
    free(path);
    return g;
}

/* ---- golden: tensors ---- */

START_TEST(golden_tensors)
{
    ckpt_gguf *g = open_golden(_i);
    char *path = golden_path(_i, ".tensors.tsv");
    char *text = tu_read_file(path, NULL), *cur = text, *line;
    ck_assert_ptr_nonnull(text);
    size_t n = 0;
    while ((line = tu_next_line(&cur))) {
        char *name = strtok(line, "\t"), *type = strtok(NULL, "\t"), *shape = strtok(NULL, "\t"),
             *sha = strtok(NULL, "\t");
        ck_assert_ptr_nonnull(sha);
        const struct ckpt_gguf_tensor *t = ckpt_gguf_find_tensor(g, name);
        ck_assert_msg(t != NULL, "%s: tensor %s missing", golden_files[_i], name);
        ck_assert_msg((long)t->type == atol(type), "%s: %s type %d, listing %s", golden_files[_i],
                      name, (int)t->type, type);
        char dims[128] = "";
        for (uint32_t j = 0; j < t->n_dims; j++)
            snprintf(dims + strlen(dims), sizeof dims - strlen(dims), "%s%lld", j ? "," : "",
                     (long long)t->ne[j]);
        ck_assert_msg(strcmp(dims, shape) == 0, "%s: %s shape %s, listing %s", golden_files[_i],
                      name, dims, shape);
        char hex[65];
        ck_assert(tu_sha256_hex(t->data, t->n_bytes, hex) == 0);
        ck_assert_msg(strcmp(hex, sha) == 0, "%s: %s data sha256 %s, listing %s", golden_files[_i],
                      name, hex, sha);
        n++;
    }
    ck_assert_uint_eq(n, ckpt_gguf_n_tensors(g));
    ck_assert_uint_gt(n, 30);
    /* what llama.cpp writes: v3, default alignment, nothing after the last pad */
    ck_assert_uint_eq(ckpt_gguf_version(g), 3);
    ck_assert_uint_eq(ckpt_gguf_alignment(g), 32);
    ck_assert_uint_eq(ckpt_gguf_data_offset(g) % 32, 0);
    ck_assert_uint_eq(ckpt_gguf_trailing_bytes(g), 0);
    free(text);
    free(path);
    ckpt_gguf_close(g);
}
END_TEST

/* ---- golden: metadata ---- */

/* Python repr of the list an array kv holds. */
static bool repr_array(const struct ckpt_gguf_kv *kv, struct sbuf *b)
{
    sb_puts(b, "[");
    for (uint64_t i = 0; i < kv->n; i++) {
        if (i)
            sb_puts(b, ", ");
        int64_t v;
        double d;
        switch (kv->elem_type) {
        case CKPT_GGUF_STRING:
            if (!py_repr_str(b, kv->array_str[i].str, (size_t)kv->array_str[i].len))
                return false;
            break;
        case CKPT_GGUF_FLOAT32:
        case CKPT_GGUF_FLOAT64:
            ck_assert(ckpt_gguf_array_f64(kv, i, &d));
            py_repr_float(b, d);
            break;
        case CKPT_GGUF_BOOL:
            sb_puts(b, kv->array_data[i] ? "True" : "False");
            break;
        case CKPT_GGUF_UINT64:
            sb_printf(b, "%llu", (unsigned long long)le64dec(kv->array_data + 8 * i));
            break;
        default:
            ck_assert(ckpt_gguf_array_i64(kv, i, &v));
            sb_printf(b, "%lld", (long long)v);
            break;
        }
    }
    sb_puts(b, "]");
    return true;
}

/* A kv's value as the .kv.tsv listings print it. */
static void format_kv(const struct ckpt_gguf_kv *kv, struct sbuf *b)
{
    switch (kv->type) {
    case CKPT_GGUF_STRING: sb_put(b, kv->v.str.str, (size_t)kv->v.str.len); break;
    case CKPT_GGUF_BOOL: sb_puts(b, kv->v.u64 ? "True" : "False"); break;
    case CKPT_GGUF_FLOAT32:
    case CKPT_GGUF_FLOAT64: py_repr_float(b, kv->v.f64); break;
    case CKPT_GGUF_UINT8: case CKPT_GGUF_UINT16: case CKPT_GGUF_UINT32: case CKPT_GGUF_UINT64:
        sb_printf(b, "%llu", (unsigned long long)kv->v.u64);
        break;
    case CKPT_GGUF_ARRAY: {
        struct sbuf r = {0};
        ck_assert_msg(repr_array(kv, &r), "key %s: an element is not valid UTF-8", kv->key);
        char hex[65];
        ck_assert(tu_sha256_hex(r.p, r.n, hex) == 0);
        sb_printf(b, "[%llu] %.16s", (unsigned long long)kv->n, hex);
        sb_free(&r);
        break;
    }
    default: sb_printf(b, "%lld", (long long)kv->v.i64); break;
    }
}

START_TEST(golden_kv)
{
    ckpt_gguf *g = open_golden(_i);
    char *path = golden_path(_i, ".kv.tsv");
    char *text = tu_read_file(path, NULL), *cur = text, *line;
    ck_assert_ptr_nonnull(text);
    size_t n = 0, arrays = 0;
    while ((line = tu_next_line(&cur))) {
        char *tab = strchr(line, '\t');
        ck_assert_ptr_nonnull(tab);
        *tab = '\0';
        const struct ckpt_gguf_kv *kv = ckpt_gguf_find_kv(g, line);
        ck_assert_msg(kv != NULL, "%s: key %s missing", golden_files[_i], line);
        struct sbuf b = {0};
        format_kv(kv, &b);
        ck_assert_msg(strcmp(b.p, tab + 1) == 0, "%s: key %s = %s, listing %s", golden_files[_i],
                      line, b.p, tab + 1);
        arrays += kv->type == CKPT_GGUF_ARRAY;
        sb_free(&b);
        n++;
    }
    ck_assert_uint_eq(n, ckpt_gguf_n_kv(g));
    ck_assert_uint_eq(arrays, 3); /* tokens (str), scores (f32), token_type (i32) */
    /* the typed getters on real keys */
    ckpt_err err;
    ckpt_err_clear(&err);
    uint32_t u;
    float f;
    bool bo;
    const char *s;
    ck_assert_int_eq(ckpt_gguf_get_u32(g, "llama.vocab_size", &u, &err), CKPT_OK);
    ck_assert_uint_eq(u, 1500);
    ck_assert_int_eq(ckpt_gguf_get_f32(g, "llama.attention.layer_norm_rms_epsilon", &f, &err),
                     CKPT_OK);
    ck_assert(f == 1e-5f);
    ck_assert_int_eq(ckpt_gguf_get_bool(g, "tokenizer.ggml.add_bos_token", &bo, &err), CKPT_OK);
    ck_assert(bo);
    ck_assert_int_eq(ckpt_gguf_get_str(g, "general.architecture", &s, &err), CKPT_OK);
    ck_assert_str_eq(s, "llama");
    free(text);
    free(path);
    ckpt_gguf_close(g);
}
END_TEST

START_TEST(golden_file_sha)
{
    char *path = golden_path(_i, ".gguf");
    size_t size;
    void *bytes = tu_read_file(path, &size);
    ck_assert_ptr_nonnull(bytes);
    char hex[65];
    ck_assert(tu_sha256_hex(bytes, size, hex) == 0);
    /* quant-summary.tsv of the kit: file, bytes, sha256, ... */
    char *kit = strdup(golden_files[_i]);
    char *slash = strchr(kit, '/');
    *slash = '\0';
    char *rel = tu_fmt("golden/%s/quant-summary.tsv", kit);
    char *sum_path = tu_data(rel);
    char *text = tu_read_file(sum_path, NULL), *cur = text, *line;
    ck_assert_ptr_nonnull(text);
    char *want_name = tu_fmt("%s.gguf", slash + 1);
    bool found = false;
    while ((line = tu_next_line(&cur))) {
        char *file = strtok(line, "\t"), *nbytes = strtok(NULL, "\t"), *sha = strtok(NULL, "\t");
        if (!file || strcmp(file, want_name) != 0)
            continue;
        found = true;
        ck_assert_uint_eq(strtoull(nbytes, NULL, 10), size);
        ck_assert_str_eq(hex, sha);
    }
    ck_assert_msg(found, "%s not in quant-summary.tsv", want_name);
    free(want_name);
    free(text);
    free(sum_path);
    free(rel);
    free(kit);
    free(bytes);
    free(path);
}
END_TEST

/* ---- roundtrip ---- */

/* Rewrite reader g into path with the writer, copying kvs and tensors in order. */
static ckpt_status rewrite(const ckpt_gguf *g, const char *path, bool force, size_t chunk,
                           ckpt_err *err)
{
    ckpt_gguf_writer *w;
    ckpt_status s = ckpt_gguf_writer_new(&w, path, force, err);
    if (s != CKPT_OK)
        return s;
    for (size_t i = 0; s == CKPT_OK && i < ckpt_gguf_n_kv(g); i++)
        s = ckpt_gguf_writer_copy_kv(w, ckpt_gguf_kv_at(g, i), err);
    for (size_t i = 0; s == CKPT_OK && i < ckpt_gguf_n_tensors(g); i++) {
        const struct ckpt_gguf_tensor *t = ckpt_gguf_tensor(g, i);
        s = ckpt_gguf_writer_add_tensor(w, t->name, t->type, t->n_dims, t->ne, err);
    }
    if (s == CKPT_OK && ckpt_gguf_writer_planned_size(w) != ckpt_gguf_file_size(g))
        s = ckpt_err_set(err, CKPT_E_INTERNAL, "planned %llu, file %llu",
                         (unsigned long long)ckpt_gguf_writer_planned_size(w),
                         (unsigned long long)ckpt_gguf_file_size(g));
    if (s == CKPT_OK)
        s = ckpt_gguf_writer_begin(w, err);
    for (size_t i = 0; s == CKPT_OK && i < ckpt_gguf_n_tensors(g); i++) {
        const struct ckpt_gguf_tensor *t = ckpt_gguf_tensor(g, i);
        for (uint64_t off = 0; s == CKPT_OK && off < t->n_bytes; off += chunk) {
            size_t n = t->n_bytes - off < chunk ? (size_t)(t->n_bytes - off) : chunk;
            s = ckpt_gguf_writer_write(w, t->data + off, n, err);
        }
    }
    if (s != CKPT_OK) {
        ckpt_gguf_writer_free(w);
        return s;
    }
    return ckpt_gguf_writer_finish(w, err);
}

static void assert_same_file(const char *a, const char *b)
{
    size_t na, nb;
    uint8_t *pa = tu_read_file(a, &na), *pb = tu_read_file(b, &nb);
    ck_assert_ptr_nonnull(pa);
    ck_assert_ptr_nonnull(pb);
    ck_assert_uint_eq(na, nb);
    size_t i = 0;
    while (i < na && pa[i] == pb[i])
        i++;
    ck_assert_msg(i == na, "%s and %s differ first at byte %zu", a, b, i);
    free(pa);
    free(pb);
}

START_TEST(roundtrip_golden)
{
    ckpt_gguf *g = open_golden(_i);
    char *dir = tu_tmpdir();
    char *out = tu_fmt("%s/out.gguf", dir);
    ckpt_err err;
    ckpt_err_clear(&err);
    ck_assert_msg(rewrite(g, out, false, 4093, &err) == CKPT_OK, "%s", err.msg);
    assert_same_file(ckpt_gguf_path(g), out);
    ckpt_gguf_close(g);
    tu_rmtree(dir);
    free(out);
    free(dir);
}
END_TEST

static ckpt_gguf *open_small(uint8_t **bytes, size_t *size)
{
    *bytes = gguf_valid_small(size);
    ckpt_gguf *g;
    ckpt_err err;
    ckpt_err_clear(&err);
    ck_assert_msg(ckpt_gguf_open_buffer(&g, "small.gguf", *bytes, *size, &err) == CKPT_OK, "%s",
                  err.msg);
    return g;
}

/* Every value type through the reader and back out through copy_kv, byte for byte. */
START_TEST(roundtrip_all_types)
{
    uint8_t *bytes;
    size_t size;
    ckpt_gguf *g = open_small(&bytes, &size);
    ck_assert_uint_eq(ckpt_gguf_n_kv(g), 29);
    ck_assert_uint_eq(ckpt_gguf_n_tensors(g), 4);
    const struct ckpt_gguf_kv *kv = ckpt_gguf_find_kv(g, "t.i8");
    ck_assert_int_eq(kv->v.i64, -128);
    ck_assert_int_eq(ckpt_gguf_find_kv(g, "t.i16")->v.i64, -32768);
    ck_assert_uint_eq(ckpt_gguf_find_kv(g, "t.u64")->v.u64, UINT64_MAX);
    ck_assert_int_eq(ckpt_gguf_find_kv(g, "t.i64")->v.i64, INT64_MIN);
    ck_assert(signbit(ckpt_gguf_find_kv(g, "t.f64")->v.f64));
    kv = ckpt_gguf_find_kv(g, "t.str_nul");
    ck_assert_uint_eq(kv->v.str.len, 3);
    ck_assert(memcmp(kv->v.str.str, "a\0b", 4) == 0);
    kv = ckpt_gguf_find_kv(g, "a.i16");
    int64_t v;
    ck_assert(ckpt_gguf_array_i64(kv, 1, &v) && v == -1);
    ck_assert(!ckpt_gguf_array_i64(kv, 3, &v));
    kv = ckpt_gguf_find_kv(g, "a.u64");
    ck_assert(!ckpt_gguf_array_i64(kv, 1, &v)); /* UINT64_MAX does not fit */
    double d;
    ck_assert(ckpt_gguf_array_f64(kv, 1, &d) && d == 18446744073709551615.0);
    ck_assert(ckpt_gguf_array_f64(ckpt_gguf_find_kv(g, "a.f32"), 0, &d) && d == -0.5);
    ck_assert(!ckpt_gguf_array_f64(ckpt_gguf_find_kv(g, "a.str"), 0, &d));
    ck_assert_str_eq(ckpt_gguf_find_kv(g, "a.str")->array_str[2].str, "it's \"q\"");
    ck_assert_uint_eq(ckpt_gguf_find_kv(g, "a.empty")->n, 0);
    const struct ckpt_gguf_tensor *t = ckpt_gguf_find_tensor(g, "blk.0.empty");
    ck_assert_uint_eq(t->n_bytes, 0);
    ck_assert_ptr_null(t->data);
    t = ckpt_gguf_find_tensor(g, "blk.0.b");
    ck_assert_uint_eq(t->n_bytes, 136);
    ck_assert_uint_eq(t->n_elements, 128);

    char *dir = tu_tmpdir();
    char *in = tu_fmt("%s/in.gguf", dir), *out = tu_fmt("%s/out.gguf", dir);
    ck_assert_int_eq(tu_write_file(in, bytes, size), 0);
    ckpt_err err;
    ckpt_err_clear(&err);
    ck_assert_msg(rewrite(g, out, false, 7, &err) == CKPT_OK, "%s", err.msg);
    assert_same_file(in, out);
    ckpt_gguf_close(g);
    free(bytes);
    tu_rmtree(dir);
    free(in);
    free(out);
    free(dir);
}
END_TEST

/* The set_* API, read back. */
START_TEST(writer_set_api)
{
    char *dir = tu_tmpdir();
    char *out = tu_fmt("%s/w.gguf", dir);
    ckpt_err err;
    ckpt_err_clear(&err);
    ckpt_gguf_writer *w;
    ck_assert_int_eq(ckpt_gguf_writer_new(&w, out, false, &err), CKPT_OK);
    ck_assert_int_eq(ckpt_gguf_writer_set_str(w, "general.architecture", "llama", &err), CKPT_OK);
    ck_assert_int_eq(ckpt_gguf_writer_set_u32(w, "general.alignment", 64, &err), CKPT_OK);
    ck_assert_int_eq(ckpt_gguf_writer_set_i32(w, "x.i32", -5, &err), CKPT_OK);
    ck_assert_int_eq(ckpt_gguf_writer_set_u64(w, "x.u64", 1ull << 40, &err), CKPT_OK);
    ck_assert_int_eq(ckpt_gguf_writer_set_f32(w, "x.f32", 0.25f, &err), CKPT_OK);
    ck_assert_int_eq(ckpt_gguf_writer_set_bool(w, "x.bool", true, &err), CKPT_OK);
    const int32_t ints[3] = {1, -2, 3};
    ck_assert_int_eq(ckpt_gguf_writer_set_array(w, "x.ints", CKPT_GGUF_INT32, ints, 3, &err),
                     CKPT_OK);
    const char *strs[2] = {"a", "bc"};
    ck_assert_int_eq(ckpt_gguf_writer_set_str_array(w, "x.strs", strs, NULL, 2, &err), CKPT_OK);
    const uint64_t lens[2] = {3, 0};
    const char *strs2[2] = {"a\0b", NULL};
    ck_assert_int_eq(ckpt_gguf_writer_set_str_array(w, "x.strs2", strs2, lens, 2, &err), CKPT_OK);
    int64_t ne1[1] = {100}, ne2[2] = {256, 3};
    ck_assert_int_eq(ckpt_gguf_writer_add_tensor(w, "a", CKPT_TYPE_F32, 1, ne1, &err), CKPT_OK);
    ck_assert_int_eq(ckpt_gguf_writer_add_tensor(w, "b", CKPT_TYPE_Q4_K, 2, ne2, &err), CKPT_OK);
    ck_assert_int_eq(ckpt_gguf_writer_add_tensor(w, "s", CKPT_TYPE_F32, 0, NULL, &err), CKPT_OK);
    uint64_t planned = ckpt_gguf_writer_planned_size(w);
    ck_assert_int_eq(ckpt_gguf_writer_begin(w, &err), CKPT_OK);
    uint8_t buf[3 * 144 + 400 + 4];
    for (size_t i = 0; i < sizeof buf; i++)
        buf[i] = (uint8_t)i;
    /* one call may span tensors: the writer pads between them */
    ck_assert_int_eq(ckpt_gguf_writer_write(w, buf, sizeof buf, &err), CKPT_OK);
    ck_assert_msg(ckpt_gguf_writer_finish(w, &err) == CKPT_OK, "%s", err.msg);

    ckpt_gguf *g;
    ck_assert_msg(ckpt_gguf_open(&g, out, &err) == CKPT_OK, "%s", err.msg);
    ck_assert_uint_eq(ckpt_gguf_file_size(g), planned);
    ck_assert_uint_eq(ckpt_gguf_alignment(g), 64);
    ck_assert_uint_eq(ckpt_gguf_data_offset(g) % 64, 0);
    ck_assert_uint_eq(ckpt_gguf_tensor(g, 1)->offset, 448); /* pad(400, 64) */
    ck_assert_uint_eq(ckpt_gguf_tensor(g, 2)->offset, 448 + 448);
    ck_assert_uint_eq(ckpt_gguf_tensor(g, 2)->n_dims, 0);
    ck_assert_uint_eq(ckpt_gguf_tensor(g, 2)->n_elements, 1);
    ck_assert(memcmp(ckpt_gguf_tensor(g, 1)->data, buf + 400, 432) == 0);
    ck_assert(memcmp(ckpt_gguf_tensor(g, 2)->data, buf + 832, 4) == 0);
    ck_assert_uint_eq(planned, ckpt_gguf_data_offset(g) + 448 + 448 + 64);
    int32_t i32v;
    uint64_t u64v;
    float f;
    bool b;
    uint32_t u;
    ck_assert_int_eq(ckpt_gguf_get_u64(g, "x.u64", &u64v, &err), CKPT_OK);
    ck_assert_uint_eq(u64v, 1ull << 40);
    ck_assert_int_eq(ckpt_gguf_get_f32(g, "x.f32", &f, &err), CKPT_OK);
    ck_assert(f == 0.25f);
    ck_assert_int_eq(ckpt_gguf_get_bool(g, "x.bool", &b, &err), CKPT_OK);
    ck_assert(b);
    const struct ckpt_gguf_kv *kv = ckpt_gguf_find_kv(g, "x.i32");
    ck_assert_uint_eq(kv->type, CKPT_GGUF_INT32);
    i32v = (int32_t)kv->v.i64;
    ck_assert_int_eq(i32v, -5);
    kv = ckpt_gguf_find_kv(g, "x.ints");
    int64_t v;
    ck_assert(kv->elem_type == CKPT_GGUF_INT32 && kv->n == 3);
    ck_assert(ckpt_gguf_array_i64(kv, 1, &v) && v == -2);
    kv = ckpt_gguf_find_kv(g, "x.strs");
    ck_assert_str_eq(kv->array_str[1].str, "bc");
    kv = ckpt_gguf_find_kv(g, "x.strs2");
    ck_assert_uint_eq(kv->array_str[0].len, 3);
    ck_assert_uint_eq(kv->array_str[1].len, 0);

    /* getters: absent, wrong type, out of range */
    ckpt_err_clear(&err);
    ck_assert_int_eq(ckpt_gguf_get_u32(g, "nope", &u, &err), CKPT_E_FORMAT);
    ck_assert_ptr_nonnull(strstr(err.msg, "missing key 'nope'"));
    ck_assert_ptr_nonnull(strstr(err.msg, out));
    ckpt_err_clear(&err);
    ck_assert_int_eq(ckpt_gguf_get_u32(g, "x.i32", &u, &err), CKPT_E_RANGE);
    ck_assert_ptr_nonnull(strstr(err.msg, "key 'x.i32': value -5 does not fit in u32"));
    ckpt_err_clear(&err);
    ck_assert_int_eq(ckpt_gguf_get_u32(g, "x.u64", &u, &err), CKPT_E_RANGE);
    ckpt_err_clear(&err);
    ck_assert_int_eq(ckpt_gguf_get_str(g, "x.f32", &(const char *){NULL}, &err), CKPT_E_FORMAT);
    ck_assert_ptr_nonnull(strstr(err.msg, "key 'x.f32' is f32, expected string"));
    ckpt_err_clear(&err);
    ck_assert_int_eq(ckpt_gguf_get_bool(g, "x.strs", &b, &err), CKPT_E_FORMAT);
    ck_assert_ptr_nonnull(strstr(err.msg, "is an array, expected bool"));
    ckpt_err_clear(&err);
    ck_assert_int_eq(ckpt_gguf_get_f32(g, "x.u64", &f, &err), CKPT_E_FORMAT);
    ck_assert_ptr_null(ckpt_gguf_find_kv(g, "x"));
    ck_assert_ptr_null(ckpt_gguf_find_tensor(g, "c"));
    ck_assert_ptr_null(ckpt_gguf_kv_at(g, 99));
    ck_assert_ptr_null(ckpt_gguf_tensor(g, 3));
    ck_assert_ptr_nonnull(ckpt_gguf_map(g));
    ckpt_gguf_close(g);
    tu_rmtree(dir);
    free(out);
    free(dir);
}
END_TEST

/* A NUL inside a string value: readable, but get_str refuses to truncate it. */
START_TEST(reader_get_str_nul)
{
    uint8_t *bytes;
    size_t size;
    ckpt_gguf *g = open_small(&bytes, &size);
    ckpt_err err;
    ckpt_err_clear(&err);
    const char *s;
    ck_assert_int_eq(ckpt_gguf_get_str(g, "t.str_nul", &s, &err), CKPT_E_FORMAT);
    ck_assert_str_eq(err.msg, "small.gguf: key 't.str_nul': string contains a NUL byte");
    ckpt_err_clear(&err);
    ck_assert_int_eq(ckpt_gguf_get_str(g, "t.str_empty", &s, &err), CKPT_OK);
    ck_assert_str_eq(s, "");
    ck_assert_int_eq(ckpt_gguf_get_str(g, "t.str", &s, &err), CKPT_OK);
    ck_assert_str_eq(s, "h\xc3\xa9llo");
    uint32_t u;
    ck_assert_int_eq(ckpt_gguf_get_u32(g, "t.u8", &u, &err), CKPT_OK);
    ck_assert_uint_eq(u, 200);
    ckpt_gguf_close(g);
    free(bytes);
}
END_TEST

/* Bytes to stdout when it is a pipe: no seeks needed. */
/* Write dir/name: keys s = v and n, one F32 tensor of n_f floats (i/7);
 * restate s to `again` after the data when it is not NULL. */
static void write_restated(const char *path, const char *v, const char *again, size_t n_f)
{
    ckpt_gguf_writer *w;
    ckpt_err err;
    ckpt_err_clear(&err);
    int64_t ne[1] = {(int64_t)n_f};
    ck_assert_int_eq(ckpt_gguf_writer_new(&w, path, true, &err), CKPT_OK);
    ck_assert_int_eq(ckpt_gguf_writer_set_str(w, "t.s", v, &err), CKPT_OK);
    ck_assert_int_eq(ckpt_gguf_writer_set_u32(w, "t.n", 7, &err), CKPT_OK);
    ck_assert_int_eq(ckpt_gguf_writer_add_tensor(w, "x", CKPT_TYPE_F32, 1, ne, &err), CKPT_OK);
    ck_assert_int_eq(ckpt_gguf_writer_restate_str(w, "t.s", v, &err), CKPT_E_USAGE); /* early */
    ck_assert_int_eq(ckpt_gguf_writer_begin(w, &err), CKPT_OK);
    float *x = malloc(n_f * sizeof *x);
    for (size_t i = 0; i < n_f; i++)
        x[i] = (float)i / 7.0f;
    ck_assert_int_eq(ckpt_gguf_writer_write(w, x, n_f * sizeof *x, &err), CKPT_OK);
    free(x);
    if (again) {
        ck_assert_int_eq(ckpt_gguf_writer_restate_str(w, "t.n", again, &err), CKPT_E_USAGE);
        ck_assert_int_eq(ckpt_gguf_writer_restate_str(w, "t.none", again, &err), CKPT_E_USAGE);
        ck_assert_int_eq(ckpt_gguf_writer_restate_str(w, "t.s", "short", &err), CKPT_E_USAGE);
        ck_assert_msg(ckpt_gguf_writer_restate_str(w, "t.s", again, &err) == CKPT_OK, "%s",
                      err.msg);
    }
    ck_assert_msg(ckpt_gguf_writer_finish(w, &err) == CKPT_OK, "%s", err.msg);
}

/* A string restated after the data (the header already flushed to the file
 * for the large tensor, still buffered for the small one) gives the bytes
 * of a file written with that string from the start; the wrong key, type
 * or length, before begin, and a digest-only writer are refused. */
START_TEST(writer_restate_str)
{
    char *dir = tu_tmpdir(), *a = tu_fmt("%s/a.gguf", dir), *b = tu_fmt("%s/b.gguf", dir);
    static const size_t sizes[] = {16, (5u << 20) / 4};
    for (int k = 0; k < 2; k++) {
        write_restated(a, "placeholder-0000", "the-value-123456", sizes[k]);
        write_restated(b, "the-value-123456", NULL, sizes[k]);
        size_t na, nb;
        uint8_t *da = tu_read_file(a, &na), *db = tu_read_file(b, &nb);
        ck_assert(da && db && na == nb && memcmp(da, db, na) == 0);
        free(da);
        free(db);
    }
    struct ckpt_gguf_digest d;
    ckpt_gguf_writer *w;
    ckpt_err err;
    ckpt_err_clear(&err);
    ck_assert_int_eq(ckpt_gguf_writer_new_digest(&w, "d", &d, &err), CKPT_OK);
    ck_assert_int_eq(ckpt_gguf_writer_set_str(w, "t.s", "abcd", &err), CKPT_OK);
    ck_assert_int_eq(ckpt_gguf_writer_begin(w, &err), CKPT_OK);
    ck_assert_int_eq(ckpt_gguf_writer_restate_str(w, "t.s", "efgh", &err), CKPT_E_USAGE);
    ckpt_gguf_writer_free(w);
    ckpt_gguf_digest_free(&d);
    tu_rmtree(dir);
    free(dir), free(a), free(b);
}
END_TEST

START_TEST(writer_to_pipe)
{
    uint8_t *bytes;
    size_t size;
    ckpt_gguf *g = open_small(&bytes, &size);
    ck_assert_uint_lt(size, 32768); /* fits in a pipe buffer: no reader thread needed */
    int fds[2];
    ck_assert_int_eq(pipe(fds), 0);
    fflush(stdout);
    int saved = dup(STDOUT_FILENO);
    ck_assert_int_ge(saved, 0);
    ck_assert_int_ge(dup2(fds[1], STDOUT_FILENO), 0);
    close(fds[1]);
    ckpt_err err;
    ckpt_err_clear(&err);
    ckpt_status s = rewrite(g, "-", false, 64, &err);
    dup2(saved, STDOUT_FILENO); /* closes the pipe's write end */
    close(saved);
    ck_assert_msg(s == CKPT_OK, "%s", err.msg);
    uint8_t *got = malloc(size + 1);
    size_t n = 0;
    ssize_t r;
    while ((r = read(fds[0], got + n, size + 1 - n)) > 0)
        n += (size_t)r;
    close(fds[0]);
    ck_assert_uint_eq(n, size);
    ck_assert(memcmp(got, bytes, size) == 0);
    free(got);
    ckpt_gguf_close(g);
    free(bytes);
}
END_TEST

static bool dir_is_empty(const char *dir)
{
    DIR *d = opendir(dir);
    ck_assert_ptr_nonnull(d);
    struct dirent *e;
    int n = 0;
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
            n++;
    closedir(d);
    return n == 0;
}

START_TEST(writer_force_and_failures)
{
    uint8_t *bytes;
    size_t size;
    ckpt_gguf *g = open_small(&bytes, &size);
    char *dir = tu_tmpdir();
    char *out = tu_fmt("%s/o.gguf", dir);
    ckpt_err err;

    /* an existing output is refused without force, and left alone */
    ck_assert_int_eq(tu_write_file(out, "keep", 4), 0);
    ckpt_err_clear(&err);
    ck_assert_int_eq(rewrite(g, out, false, 64, &err), CKPT_E_EXISTS);
    ck_assert_ptr_nonnull(strstr(err.msg, "already exists"));
    size_t n;
    char *kept = tu_read_file(out, &n);
    ck_assert(n == 4 && memcmp(kept, "keep", 4) == 0);
    free(kept);
    ckpt_err_clear(&err);
    ck_assert_msg(rewrite(g, out, true, 64, &err) == CKPT_OK, "%s", err.msg);
    kept = tu_read_file(out, &n);
    ck_assert(n == size && memcmp(kept, bytes, size) == 0);
    free(kept);
    unlink(out);

    /* a tensor left short: finish fails, nothing is left behind */
    ckpt_gguf_writer *w;
    ckpt_err_clear(&err);
    ck_assert_int_eq(ckpt_gguf_writer_new(&w, out, false, &err), CKPT_OK);
    int64_t ne[1] = {64};
    ck_assert_int_eq(ckpt_gguf_writer_add_tensor(w, "a", CKPT_TYPE_F32, 1, ne, &err), CKPT_OK);
    ck_assert_int_eq(ckpt_gguf_writer_begin(w, &err), CKPT_OK);
    ck_assert_int_eq(ckpt_gguf_writer_write(w, bytes, 100, &err), CKPT_OK);
    ck_assert_int_eq(ckpt_gguf_writer_finish(w, &err), CKPT_E_USAGE);
    ck_assert_str_eq(err.msg + strlen(out),
                     ": tensor 'a' incomplete: 100 of 256 bytes written (0 of 1 tensors complete)");
    ck_assert(dir_is_empty(dir));

    /* too many bytes: the write fails, and so does finish */
    ckpt_err_clear(&err);
    ck_assert_int_eq(ckpt_gguf_writer_new(&w, out, false, &err), CKPT_OK);
    ck_assert_int_eq(ckpt_gguf_writer_add_tensor(w, "a", CKPT_TYPE_F32, 1, ne, &err), CKPT_OK);
    ck_assert_int_eq(ckpt_gguf_writer_begin(w, &err), CKPT_OK);
    ck_assert_int_eq(ckpt_gguf_writer_write(w, bytes, 257, &err), CKPT_E_USAGE);
    ck_assert_ptr_nonnull(strstr(err.msg, "1 bytes written after the last tensor"));
    ck_assert_int_ne(ckpt_gguf_writer_finish(w, &err), CKPT_OK);
    ck_assert(dir_is_empty(dir));

    /* abandoned after begin: free removes the partial output */
    ckpt_err_clear(&err);
    ck_assert_int_eq(ckpt_gguf_writer_new(&w, out, false, &err), CKPT_OK);
    ck_assert_int_eq(ckpt_gguf_writer_add_tensor(w, "a", CKPT_TYPE_F32, 1, ne, &err), CKPT_OK);
    ck_assert_int_eq(ckpt_gguf_writer_begin(w, &err), CKPT_OK);
    ck_assert(!dir_is_empty(dir)); /* the temporary exists while writing */
    ckpt_gguf_writer_free(w);
    ck_assert(dir_is_empty(dir));
    ckpt_gguf_writer_free(NULL);

    /* an output directory that does not exist: begin fails */
    char *bad = tu_fmt("%s/no/such/dir.gguf", dir);
    ckpt_err_clear(&err);
    ck_assert_int_eq(rewrite(g, bad, false, 64, &err), CKPT_E_IO);
    free(bad);

    ckpt_gguf_close(g);
    free(bytes);
    tu_rmtree(dir);
    free(out);
    free(dir);
}
END_TEST

/* Caller mistakes the writer refuses, each with its message. */
START_TEST(writer_rejects)
{
    ckpt_gguf_writer *w;
    ckpt_err err;
    ckpt_err_clear(&err);
    ck_assert_int_eq(ckpt_gguf_writer_new(&w, "x.gguf", false, &err), CKPT_OK);
    ck_assert_int_eq(ckpt_gguf_writer_set_u32(w, "a", 1, &err), CKPT_OK);
    struct {
        ckpt_status got;
        const char *want;
    } cases[16];
    int n = 0;
    int64_t ne_bad[2] = {100, 2}, ne_neg[1] = {-1}, ne_ok[1] = {32};
    const uint8_t two = 2;
#define TRY(call, want)                                                                             \
    do {                                                                                           \
        ckpt_err_clear(&err);                                                                      \
        cases[n].got = (call);                                                                     \
        ck_assert_msg(cases[n].got == CKPT_E_USAGE, "%s: status %d", want, cases[n].got);          \
        ck_assert_msg(strstr(err.msg, want) && strncmp(err.msg, "x.gguf: ", 8) == 0,                \
                      "message '%s' lacks '%s'", err.msg, want);                                    \
        n++;                                                                                       \
    } while (0)
    TRY(ckpt_gguf_writer_set_u32(w, "a", 2, &err), "key 'a': set twice");
    TRY(ckpt_gguf_writer_set_str(w, "", "v", &err), "empty metadata key");
    TRY(ckpt_gguf_writer_set_u64(w, "general.alignment", 32, &err),
        "key 'general.alignment': must be u32");
    TRY(ckpt_gguf_writer_set_u32(w, "general.alignment", 48, &err), "power of two");
    TRY(ckpt_gguf_writer_set_u32(w, "general.alignment", 0, &err), "power of two");
    TRY(ckpt_gguf_writer_set_array(w, "b", CKPT_GGUF_STRING, "x", 1, &err), "non-numeric");
    TRY(ckpt_gguf_writer_set_array(w, "b", CKPT_GGUF_ARRAY, "x", 1, &err), "non-numeric");
    TRY(ckpt_gguf_writer_set_array(w, "b", CKPT_GGUF_BOOL, &two, 1, &err), "not 0 or 1");
    TRY(ckpt_gguf_writer_add_tensor(w, "0123456789012345678901234567890123456789012345678901234567890123",
                                    CKPT_TYPE_F32, 1, ne_ok, &err),
        "name longer than 63 bytes");
    TRY(ckpt_gguf_writer_add_tensor(w, "", CKPT_TYPE_F32, 1, ne_ok, &err), "empty tensor name");
    TRY(ckpt_gguf_writer_add_tensor(w, "t", CKPT_TYPE_Q4_K, 2, ne_bad, &err),
        "tensor 't': row of 100 elements is not a multiple of the q4_K block size 256");
    TRY(ckpt_gguf_writer_add_tensor(w, "t", CKPT_TYPE_F32, 1, ne_neg, &err),
        "dimension 0 is negative");
    TRY(ckpt_gguf_writer_add_tensor(w, "t", (ckpt_type)4, 1, ne_ok, &err), "unknown ggml type 4");
    TRY(ckpt_gguf_writer_add_tensor(w, "t", CKPT_TYPE_F32, 5, ne_ok, &err), "5 dimensions");
    ck_assert_int_eq(ckpt_gguf_writer_add_tensor(w, "t", CKPT_TYPE_F32, 1, ne_ok, &err), CKPT_OK);
    TRY(ckpt_gguf_writer_add_tensor(w, "t", CKPT_TYPE_F32, 1, ne_ok, &err), "added twice");
    TRY(ckpt_gguf_writer_write(w, "x", 1, &err), "before begin");
#undef TRY
    ck_assert_int_eq(n, 16);
    ckpt_gguf_writer_free(w);
    /* finish before begin frees the writer and fails */
    ck_assert_int_eq(ckpt_gguf_writer_new(&w, "x.gguf", false, &err), CKPT_OK);
    ckpt_err_clear(&err);
    ck_assert_int_eq(ckpt_gguf_writer_finish(w, &err), CKPT_E_USAGE);
    ck_assert_ptr_nonnull(strstr(err.msg, "finish called before begin"));
}
END_TEST

/* ---- reader: accepted edge cases ---- */

START_TEST(reader_edge_cases)
{
    ckpt_err err;
    ckpt_gguf *g;
    struct hb b = {0};

    /* v2 has the v3 layout: readable */
    hb_one_tensor_file(&b, 2);
    ckpt_err_clear(&err);
    ck_assert_msg(ckpt_gguf_open_buffer(&g, "v2", b.p, b.n, &err) == CKPT_OK, "%s", err.msg);
    ck_assert_uint_eq(ckpt_gguf_version(g), 2);
    ck_assert_uint_eq(ckpt_gguf_tensor(g, 0)->n_bytes, 32);
    ckpt_gguf_close(g);

    /* trailing bytes after the last padded tensor: accepted and counted */
    size_t n = b.n;
    hb_zeros(&b, 45);
    ck_assert_int_eq(ckpt_gguf_open_buffer(&g, "trail", b.p, b.n, &err), CKPT_OK);
    ck_assert_uint_eq(ckpt_gguf_trailing_bytes(g), 45);
    ckpt_gguf_close(g);

    /* the last tensor's padding missing: the data is inside the file, accepted */
    free(b.p);
    memset(&b, 0, sizeof b);
    int64_t ne[1] = {3};
    hb_header(&b, 3, 1, 0);
    hb_tensor(&b, "t", 1, ne, 0, 0);
    hb_align(&b, 32);
    hb_zeros(&b, 12);
    ck_assert_msg(ckpt_gguf_open_buffer(&g, "nopad", b.p, b.n, &err) == CKPT_OK, "%s", err.msg);
    ck_assert_uint_eq(ckpt_gguf_trailing_bytes(g), 0);
    ckpt_gguf_close(g);

    /* n_dims 0: a scalar, as ggml reads it */
    free(b.p);
    memset(&b, 0, sizeof b);
    hb_header(&b, 3, 1, 0);
    hb_tensor(&b, "s", 0, NULL, 0, 0);
    hb_align(&b, 32);
    hb_f32(&b, 2.5f);
    hb_align(&b, 32);
    ck_assert_msg(ckpt_gguf_open_buffer(&g, "scalar", b.p, b.n, &err) == CKPT_OK, "%s", err.msg);
    const struct ckpt_gguf_tensor *t = ckpt_gguf_tensor(g, 0);
    ck_assert_uint_eq(t->n_dims, 0);
    ck_assert_uint_eq(t->n_elements, 1);
    ck_assert_uint_eq(t->n_bytes, 4);
    ck_assert(lef32dec(t->data) == 2.5f);
    ckpt_gguf_close(g);

    /* no tensors, no kvs: the header alone, no padding needed */
    free(b.p);
    memset(&b, 0, sizeof b);
    hb_header(&b, 3, 0, 0);
    ck_assert_int_eq(ckpt_gguf_open_buffer(&g, "bare", b.p, b.n, &err), CKPT_OK);
    ck_assert_uint_eq(ckpt_gguf_data_offset(g), 24);
    ck_assert_uint_eq(ckpt_gguf_n_tensors(g) + ckpt_gguf_n_kv(g), 0);
    ckpt_gguf_close(g);
    free(b.p);
    (void)n;

    /* a missing file is an I/O error naming it */
    ckpt_err_clear(&err);
    ck_assert_int_eq(ckpt_gguf_open(&g, "/nonexistent/x.gguf", &err), CKPT_E_IO);
    ck_assert_ptr_nonnull(strstr(err.msg, "/nonexistent/x.gguf"));
    ck_assert_ptr_null(g);
    /* a NULL error record is fine */
    ck_assert_int_eq(ckpt_gguf_open_buffer(&g, "x", "GGUF", 4, NULL), CKPT_E_FORMAT);
}
END_TEST

/* ---- corrupt ---- */

static void expect_reject(const char *name, const uint8_t *data, size_t size, const char *want)
{
    ckpt_gguf *g = (ckpt_gguf *)1;
    ckpt_err err;
    ckpt_err_clear(&err);
    ckpt_status s = ckpt_gguf_open_buffer(&g, name, data, size, &err);
    ck_assert_msg(s != CKPT_OK, "%s: accepted", name);
    ck_assert_int_eq(err.code, s);
    ck_assert_ptr_null(g);
    ck_assert_msg(strncmp(err.msg, name, strlen(name)) == 0 && err.msg[strlen(name)] == ':',
                  "%s: message does not start with the file: %s", name, err.msg);
    ck_assert_msg(strstr(err.msg, want) != NULL, "%s: message '%s' lacks '%s'", name, err.msg,
                  want);
}

START_TEST(hostile_corpus)
{
    int n = 0;
    struct gguf_hostile h;
    while (gguf_hostile_make(n, &h)) {
        char *name = tu_fmt("hostile/%s.gguf", h.name);
        expect_reject(name, h.data, h.size, h.expect);
        free(name);
        free(h.data);
        n++;
    }
    ck_assert_int_ge(n, 60);
}
END_TEST

/* Every proper prefix of the valid small file that cuts into the header or
 * into tensor data is rejected; cuts inside the last tensor's padding are
 * accepted (the data is whole; llama.cpp's loader accepts them too). */
START_TEST(truncated_everywhere)
{
    size_t size;
    uint8_t *full = gguf_valid_small(&size);
    ckpt_gguf *g;
    ckpt_err err;
    ckpt_err_clear(&err);
    ck_assert_int_eq(ckpt_gguf_open_buffer(&g, "full", full, size, &err), CKPT_OK);
    /* where the last byte of tensor data ends; an empty tensor must start inside the file too */
    size_t data_end = 0;
    for (size_t i = 0; i < ckpt_gguf_n_tensors(g); i++) {
        const struct ckpt_gguf_tensor *t = ckpt_gguf_tensor(g, i);
        size_t end = (size_t)(ckpt_gguf_data_offset(g) + t->offset + t->n_bytes);
        data_end = end > data_end ? end : data_end;
    }
    ck_assert_uint_lt(data_end, size); /* so some cuts land in the final padding */
    ckpt_gguf_close(g);
    static const char *const reasons[] = {"truncated", "exceeds the", "cannot fit", "past the end",
                                          "not a GGUF file"};
    for (size_t cut = 0; cut < size; cut++) {
        /* a fresh exact-size copy, so ASan sees any read past the cut */
        uint8_t *p = malloc(cut ? cut : 1);
        memcpy(p, full, cut);
        ckpt_err_clear(&err);
        ckpt_status s = ckpt_gguf_open_buffer(&g, "cut.gguf", p, cut, &err);
        if (cut >= data_end) {
            ck_assert_msg(s == CKPT_OK, "cut at %zu: %s", cut, err.msg);
            ckpt_gguf_close(g);
        } else {
            ck_assert_msg(s == CKPT_E_FORMAT, "cut at %zu: status %d", cut, s);
            ck_assert(strncmp(err.msg, "cut.gguf: ", 10) == 0);
            bool known = false;
            for (size_t r = 0; r < sizeof reasons / sizeof reasons[0]; r++)
                known |= strstr(err.msg, reasons[r]) != NULL;
            ck_assert_msg(known, "cut at %zu: %s", cut, err.msg);
        }
        free(p);
    }
    free(full);
}
END_TEST

/* A golden header cut at sampled offsets (every 97th byte) fails cleanly too. */
START_TEST(golden_truncated)
{
    ckpt_gguf *g = open_golden(0);
    size_t hdr = (size_t)ckpt_gguf_data_offset(g);
    const uint8_t *base = ckpt_gguf_map(g)->data;
    for (size_t cut = 0; cut < hdr; cut += 97) {
        uint8_t *p = malloc(cut ? cut : 1);
        memcpy(p, base, cut);
        ckpt_gguf *h;
        ckpt_err err;
        ckpt_err_clear(&err);
        ck_assert_msg(ckpt_gguf_open_buffer(&h, "cut", p, cut, &err) == CKPT_E_FORMAT,
                      "cut at %zu accepted", cut);
        free(p);
    }
    ckpt_gguf_close(g);
}
END_TEST

Suite *gguf_suite(void)
{
    Suite *s = suite_create("gguf");
    TCase *tc = tcase_create("golden");
    tcase_add_loop_test(tc, golden_tensors, 0, N_GOLDEN);
    tcase_add_loop_test(tc, golden_kv, 0, N_GOLDEN);
    tcase_add_loop_test(tc, golden_file_sha, 0, N_GOLDEN);
    tcase_set_timeout(tc, 30);
    suite_add_tcase(s, tc);

    tc = tcase_create("roundtrip");
    tcase_add_loop_test(tc, roundtrip_golden, 0, N_GOLDEN);
    tcase_add_test(tc, roundtrip_all_types);
    tcase_add_test(tc, writer_set_api);
    tcase_add_test(tc, writer_to_pipe);
    tcase_add_test(tc, writer_restate_str);
    tcase_add_test(tc, writer_force_and_failures);
    tcase_add_test(tc, writer_rejects);
    tcase_set_timeout(tc, 30);
    suite_add_tcase(s, tc);

    tc = tcase_create("reader");
    tcase_add_test(tc, reader_edge_cases);
    tcase_add_test(tc, reader_get_str_nul);
    suite_add_tcase(s, tc);

    tc = tcase_create("corrupt");
    tcase_add_test(tc, hostile_corpus);
    tcase_add_test(tc, truncated_everywhere);
    tcase_add_test(tc, golden_truncated);
    tcase_set_timeout(tc, 30);
    suite_add_tcase(s, tc);
    return s;
}
