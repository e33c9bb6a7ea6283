/*
 * check_safetensors.c - the safetensors reader and writer: the shared tiny
 * models, the Rust reference's serialization vectors, round trips, limits,
 * and the hostile corpus (st_hostile.h) plus a truncation sweep.
 */
#define _GNU_SOURCE /* memmem */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats/le.h"
#include "formats/safetensors.h"
#include "st_hostile.h"
#include "testutil.h"

/* Open bytes; returns the reader or NULL, with check and err filled. */
static ckpt_st *open_bytes(const char *name, const void *b, size_t n, ckpt_st_check *chk,
                           ckpt_err *err)
{
    ckpt_st *st = NULL;
    ckpt_err_clear(err);
    ckpt_status s = ckpt_st_open_buffer(&st, name, b, n, chk, err);
    ck_assert_int_eq(s == CKPT_OK, st != NULL);
    return st;
}

/* A file made of an 8-byte length, the header text as is, then data bytes. */
static uint8_t *make_file(const char *header, size_t data_len, size_t *size)
{
    size_t hl = strlen(header);
    uint8_t *b = calloc(8 + hl + data_len + 1, 1);
    le64enc(b, hl);
    memcpy(b + 8, header, hl);
    for (size_t i = 0; i < data_len; i++)
        b[8 + hl + i] = (uint8_t)(i + 1);
    *size = 8 + hl + data_len;
    return b;
}

/* ---------------------------------------------------------------- core */

struct model_expect {
    const char *dir;
    size_t n_tensors;
    uint64_t header;
    uint64_t file_size;
    uint64_t hidden, ffn, vocab, heads, kv_heads, head_dim;
    int layers, experts;
};

static const struct model_expect models[] = {
    {"models/tiny-mistral/model.safetensors", 39, 4160, 6001224, 256, 512, 1500, 4, 1, 64, 4, 0},
    {"models/tiny-mistral-tokjson/model.safetensors", 39, 4160, 6001224, 256, 512, 1500, 4, 1, 64,
     4, 0},
    {"models/tiny-mixtral/model.safetensors", 79, 9192, 4322544, 128, 256, 1500, 4, 2, 32, 4, 4},
};

static void expect_shape(ckpt_st *st, const char *name, int nd, uint64_t d0, uint64_t d1)
{
    const struct ckpt_st_tensor *t = ckpt_st_find(st, name);
    ck_assert_msg(t != NULL, "missing %s", name);
    ck_assert_str_eq(t->name, name);
    ck_assert_int_eq(t->dtype, CKPT_DT_BF16);
    ck_assert_int_eq(t->n_dims, nd);
    ck_assert_uint_eq(t->shape[0], d0);
    if (nd > 1)
        ck_assert_uint_eq(t->shape[1], d1);
    ck_assert_uint_eq(t->end - t->begin, 2 * t->n_elements);
}

static char name_buf[128];

static const char *layer_name(int l, const char *rest)
{
    snprintf(name_buf, sizeof name_buf, "model.layers.%d.%s", l, rest);
    return name_buf;
}

static const char *expert_name(int l, int e, const char *w)
{
    snprintf(name_buf, sizeof name_buf, "model.layers.%d.block_sparse_moe.experts.%d.%s.weight", l,
             e, w);
    return name_buf;
}

START_TEST(shared_models)
{
    const struct model_expect *m = &models[_i];
    char *path = tu_data(m->dir);
    ckpt_st *st = NULL;
    ckpt_st_check chk = CKPT_ST_LFS_POINTER;
    ckpt_err err;
    ckpt_err_clear(&err);
    ck_assert_msg(ckpt_st_open(&st, path, &chk, &err) == CKPT_OK, "%s", err.msg);
    ck_assert_int_eq(chk, CKPT_ST_OK);
    ck_assert_uint_eq(ckpt_st_n_tensors(st), m->n_tensors);
    ck_assert_uint_eq(ckpt_st_header_size(st), m->header);
    ck_assert_uint_eq(ckpt_st_data_offset(st), 8 + m->header);
    ck_assert_uint_eq(ckpt_st_file_size(st), m->file_size);
    ck_assert_str_eq(ckpt_st_path(st), path);
    ck_assert_ptr_nonnull(ckpt_st_map(st));
    ck_assert_uint_eq(ckpt_st_n_metadata(st), 1);
    const char *k, *v;
    ckpt_st_metadata(st, 0, &k, &v);
    ck_assert_str_eq(k, "format");
    ck_assert_str_eq(v, "pt");

    /* offset order, contiguous, every tensor findable by name */
    uint64_t off = 0;
    const uint8_t *base = ckpt_st_map(st)->data + ckpt_st_data_offset(st);
    for (size_t i = 0; i < ckpt_st_n_tensors(st); i++) {
        const struct ckpt_st_tensor *t = ckpt_st_tensor(st, i);
        ck_assert_uint_eq(t->begin, off);
        ck_assert_ptr_eq(t->data, base + t->begin);
        ck_assert_ptr_eq(ckpt_st_find(st, t->name), t);
        ck_assert_int_eq(t->dtype, CKPT_DT_BF16);
        off = t->end;
    }
    ck_assert_uint_eq(8 + m->header + off, m->file_size);
    ck_assert_ptr_null(ckpt_st_tensor(st, ckpt_st_n_tensors(st)));
    ck_assert_ptr_null(ckpt_st_find(st, "model.layers.99.mlp.up_proj.weight"));

    uint64_t q = m->heads * m->head_dim, kv = m->kv_heads * m->head_dim;
    expect_shape(st, "model.embed_tokens.weight", 2, m->vocab, m->hidden);
    expect_shape(st, "lm_head.weight", 2, m->vocab, m->hidden);
    expect_shape(st, "model.norm.weight", 1, m->hidden, 0);
    for (int l = 0; l < m->layers; l++) {
        expect_shape(st, layer_name(l, "input_layernorm.weight"), 1, m->hidden, 0);
        expect_shape(st, layer_name(l, "post_attention_layernorm.weight"), 1, m->hidden, 0);
        expect_shape(st, layer_name(l, "self_attn.q_proj.weight"), 2, q, m->hidden);
        expect_shape(st, layer_name(l, "self_attn.k_proj.weight"), 2, kv, m->hidden);
        expect_shape(st, layer_name(l, "self_attn.v_proj.weight"), 2, kv, m->hidden);
        expect_shape(st, layer_name(l, "self_attn.o_proj.weight"), 2, m->hidden, q);
        if (m->experts == 0) {
            expect_shape(st, layer_name(l, "mlp.gate_proj.weight"), 2, m->ffn, m->hidden);
            expect_shape(st, layer_name(l, "mlp.up_proj.weight"), 2, m->ffn, m->hidden);
            expect_shape(st, layer_name(l, "mlp.down_proj.weight"), 2, m->hidden, m->ffn);
        } else {
            expect_shape(st, layer_name(l, "block_sparse_moe.gate.weight"), 2, (uint64_t)m->experts,
                         m->hidden);
            for (int e = 0; e < m->experts; e++) {
                expect_shape(st, expert_name(l, e, "w1"), 2, m->ffn,
                             m->hidden);
                expect_shape(st, expert_name(l, e, "w2"), 2, m->hidden,
                             m->ffn);
                expect_shape(st, expert_name(l, e, "w3"), 2, m->ffn,
                             m->hidden);
            }
        }
    }
    ckpt_st_close(st);
    free(path);
}
END_TEST

/* Write through the streaming writer into dir/name; return the bytes. */
static uint8_t *write_and_read(const char *dir, void (*fill)(ckpt_st_writer *), size_t *size)
{
    char *path = tu_fmt("%s/out.safetensors", dir);
    ckpt_st_writer *w = NULL;
    ckpt_err err;
    ckpt_err_clear(&err);
    ck_assert_int_eq(ckpt_st_writer_new(&w, path, false, &err), CKPT_OK);
    fill(w);
    ck_assert_msg(ckpt_st_writer_finish(w, &err) == CKPT_OK, "%s", err.msg);
    uint8_t *b = tu_read_file(path, size);
    ck_assert_ptr_nonnull(b);
    remove(path);
    free(path);
    return b;
}

static const float six[6] = {0, 1, 2, 3, 4, 5};

static void fill_attn_0(ckpt_st_writer *w)
{
    uint64_t shape[3] = {1, 2, 3};
    ck_assert_int_eq(ckpt_st_writer_add_tensor(w, "attn.0", CKPT_DT_F32, 3, shape, NULL), CKPT_OK);
    ck_assert_int_eq(ckpt_st_writer_begin(w, NULL), CKPT_OK);
    ck_assert_int_eq(ckpt_st_writer_write(w, six, sizeof six, NULL), CKPT_OK);
}

static void fill_attn0(ckpt_st_writer *w)
{
    uint64_t shape[4] = {1, 1, 2, 3};
    ck_assert_int_eq(ckpt_st_writer_add_tensor(w, "attn0", CKPT_DT_F32, 4, shape, NULL), CKPT_OK);
    ck_assert_int_eq(ckpt_st_writer_begin(w, NULL), CKPT_OK);
    /* in two pieces: the writer streams */
    ck_assert_int_eq(ckpt_st_writer_write(w, six, 10, NULL), CKPT_OK);
    ck_assert_int_eq(ckpt_st_writer_write(w, (const uint8_t *)six + 10, 14, NULL), CKPT_OK);
}

static void fill_empty(ckpt_st_writer *w)
{
    ck_assert_int_eq(ckpt_st_writer_begin(w, NULL), CKPT_OK);
}

static void fill_empty_meta(ckpt_st_writer *w)
{
    ck_assert_int_eq(ckpt_st_writer_add_metadata(w, "framework", "pt", NULL), CKPT_OK);
    ck_assert_int_eq(ckpt_st_writer_begin(w, NULL), CKPT_OK);
}

/* The exact bytes of the Rust reference's tests (tensor.rs test_serialization,
 * test_serialization_forced_alignement, test_empty). */
START_TEST(writer_matches_reference_bytes)
{
    static const char attn_0[] =
        "@\0\0\0\0\0\0\0{\"attn.0\":{\"dtype\":\"F32\",\"shape\":[1,2,3],\"data_offsets\":[0,24]}}";
    static const char attn0[] = "H\0\0\0\0\0\0\0{\"attn0\":{\"dtype\":\"F32\",\"shape\":[1,1,2,3],"
                                "\"data_offsets\":[0,24]}}       ";
    static const char empty[] = "\x08\0\0\0\0\0\0\0{}      ";
    static const char empty_meta[] = "(\0\0\0\0\0\0\0{\"__metadata__\":{\"framework\":\"pt\"}}     ";
    char *dir = tu_tmpdir();
    size_t n;
    uint8_t *b = write_and_read(dir, fill_attn_0, &n);
    ck_assert_uint_eq(n, sizeof attn_0 - 1 + 24);
    ck_assert(memcmp(b, attn_0, sizeof attn_0 - 1) == 0);
    ck_assert(memcmp(b + sizeof attn_0 - 1, six, 24) == 0);
    free(b);
    b = write_and_read(dir, fill_attn0, &n);
    ck_assert_uint_eq(n, sizeof attn0 - 1 + 24);
    ck_assert(memcmp(b, attn0, sizeof attn0 - 1) == 0);
    ck_assert(memcmp(b + sizeof attn0 - 1, six, 24) == 0);
    free(b);
    b = write_and_read(dir, fill_empty, &n);
    ck_assert_uint_eq(n, sizeof empty - 1);
    ck_assert(memcmp(b, empty, n) == 0);
    free(b);
    b = write_and_read(dir, fill_empty_meta, &n);
    ck_assert_uint_eq(n, sizeof empty_meta - 1);
    ck_assert(memcmp(b, empty_meta, n) == 0);
    free(b);
    tu_rmtree(dir);
    free(dir);
}
END_TEST

static const char *const weird_name = "q\"uo\\te\x01\n\t\x7f caf\xc3\xa9";

static void fill_mixed(ckpt_st_writer *w)
{
    uint64_t s2[2] = {3, 2}, s0[1] = {0}, s4[1] = {4};
    ck_assert_int_eq(ckpt_st_writer_add_metadata(w, "format", "pt", NULL), CKPT_OK);
    ck_assert_int_eq(ckpt_st_writer_add_metadata(w, "note", "line\nbreak", NULL), CKPT_OK);
    /* declaration order is data order, even when names sort otherwise */
    ck_assert_int_eq(ckpt_st_writer_add_tensor(w, "z.bf16", CKPT_DT_BF16, 2, s2, NULL), CKPT_OK);
    ck_assert_int_eq(ckpt_st_writer_add_tensor(w, "empty", CKPT_DT_F32, 1, s0, NULL), CKPT_OK);
    ck_assert_int_eq(ckpt_st_writer_add_tensor(w, "scalar", CKPT_DT_F64, 0, NULL, NULL), CKPT_OK);
    ck_assert_int_eq(ckpt_st_writer_add_tensor(w, weird_name, CKPT_DT_F4, 1, s4, NULL), CKPT_OK);
    ck_assert_int_eq(ckpt_st_writer_begin(w, NULL), CKPT_OK);
    uint8_t data[12 + 8 + 2];
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (uint8_t)(0xA0 + i);
    /* one call spanning all tensors, including the empty one */
    ck_assert_int_eq(ckpt_st_writer_write(w, data, sizeof data, NULL), CKPT_OK);
}

START_TEST(writer_round_trip)
{
    char *dir = tu_tmpdir();
    size_t n;
    uint8_t *b = write_and_read(dir, fill_mixed, &n);
    ck_assert_uint_eq(le64dec(b) % 8, 0);
    ck_assert(memmem(b, n, "\"q\\\"uo\\\\te\\u0001\\n\\t\x7f caf\xc3\xa9\"", 24) != NULL);
    ckpt_st_check chk;
    ckpt_err err;
    ckpt_st *st = open_bytes("rt.safetensors", b, n, &chk, &err);
    ck_assert_msg(st != NULL, "%s", err.msg);
    ck_assert_uint_eq(ckpt_st_n_tensors(st), 4);
    const char *expect[4] = {"z.bf16", "empty", "scalar", weird_name};
    uint64_t begin[4] = {0, 12, 12, 20};
    for (int i = 0; i < 4; i++) {
        const struct ckpt_st_tensor *t = ckpt_st_tensor(st, (size_t)i);
        ck_assert_str_eq(t->name, expect[i]);
        ck_assert_uint_eq(t->begin, begin[i]);
        ck_assert_ptr_eq(ckpt_st_find(st, expect[i]), t);
    }
    const struct ckpt_st_tensor *e = ckpt_st_find(st, "empty");
    ck_assert_ptr_null(e->data);
    ck_assert_uint_eq(e->n_elements, 0);
    const struct ckpt_st_tensor *s = ckpt_st_find(st, "scalar");
    ck_assert_int_eq(s->n_dims, 0);
    ck_assert_uint_eq(s->n_elements, 1);
    ck_assert_int_eq(s->dtype, CKPT_DT_F64);
    ck_assert_uint_eq(s->data[0], 0xA0 + 12);
    const struct ckpt_st_tensor *f4 = ckpt_st_find(st, weird_name);
    ck_assert_int_eq(f4->dtype, CKPT_DT_F4);
    ck_assert_uint_eq(f4->end - f4->begin, 2);
    ck_assert_uint_eq(ckpt_st_tensor(st, 0)->data[11], 0xA0 + 11);
    ck_assert_uint_eq(ckpt_st_n_metadata(st), 2);
    const char *k, *v;
    ckpt_st_metadata(st, 1, &k, &v);
    ck_assert_str_eq(k, "note");
    ck_assert_str_eq(v, "line\nbreak");
    ckpt_st_metadata(st, 2, &k, &v);
    ck_assert_ptr_null(k);
    ckpt_st_close(st);
    free(b);
    tu_rmtree(dir);
    free(dir);
}
END_TEST

START_TEST(writer_misuse)
{
    char *dir = tu_tmpdir();
    char *path = tu_fmt("%s/w.safetensors", dir);
    uint64_t s4[1] = {4};
    uint8_t four[4] = {1, 2, 3, 4};
    ckpt_err err;
    ckpt_st_writer *w;

    /* duplicate tensor names are refused at begin, and nothing is created */
    ckpt_err_clear(&err);
    ck_assert_int_eq(ckpt_st_writer_new(&w, path, false, &err), CKPT_OK);
    ck_assert_int_eq(ckpt_st_writer_add_tensor(w, "a", CKPT_DT_U8, 1, s4, &err), CKPT_OK);
    ck_assert_int_eq(ckpt_st_writer_add_tensor(w, "a", CKPT_DT_U8, 1, s4, &err), CKPT_OK);
    ck_assert_int_eq(ckpt_st_writer_begin(w, &err), CKPT_E_USAGE);
    ck_assert(strstr(err.msg, "'a' declared twice") != NULL);
    ckpt_st_writer_free(w);
    ck_assert_ptr_null(tu_read_file(path, NULL));

    /* short data: finish fails and removes the output */
    ckpt_err_clear(&err);
    ck_assert_int_eq(ckpt_st_writer_new(&w, path, false, &err), CKPT_OK);
    ck_assert_int_eq(ckpt_st_writer_add_tensor(w, "a", CKPT_DT_U8, 1, s4, &err), CKPT_OK);
    ck_assert_int_eq(ckpt_st_writer_add_metadata(w, "k", "v", &err), CKPT_OK);
    ck_assert_int_eq(ckpt_st_writer_add_metadata(w, "k", "w", &err), CKPT_E_USAGE);
    ckpt_err_clear(&err);
    ck_assert_int_eq(ckpt_st_writer_begin(w, &err), CKPT_OK);
    ck_assert_int_eq(ckpt_st_writer_add_tensor(w, "b", CKPT_DT_U8, 1, s4, &err), CKPT_E_USAGE);
    ckpt_err_clear(&err);
    ck_assert_int_eq(ckpt_st_writer_write(w, four, 3, &err), CKPT_OK);
    ck_assert_int_eq(ckpt_st_writer_finish(w, &err), CKPT_E_USAGE);
    ck_assert(strstr(err.msg, "tensor 'a': 3 of 4 bytes written") != NULL);
    ck_assert_ptr_null(tu_read_file(path, NULL));

    /* too much data */
    ckpt_err_clear(&err);
    ck_assert_int_eq(ckpt_st_writer_new(&w, path, false, &err), CKPT_OK);
    ck_assert_int_eq(ckpt_st_writer_add_tensor(w, "a", CKPT_DT_U8, 1, s4, &err), CKPT_OK);
    ck_assert_int_eq(ckpt_st_writer_begin(w, &err), CKPT_OK);
    ck_assert_int_eq(ckpt_st_writer_write(w, four, 4, &err), CKPT_OK);
    ck_assert_int_eq(ckpt_st_writer_write(w, four, 1, &err), CKPT_E_USAGE);
    ck_assert(strstr(err.msg, "more than the tensors declared") != NULL);
    ckpt_st_writer_free(w);
    ck_assert_ptr_null(tu_read_file(path, NULL));

    /* bad declarations */
    ckpt_err_clear(&err);
    ck_assert_int_eq(ckpt_st_writer_new(&w, path, false, &err), CKPT_OK);
    ck_assert_int_eq(ckpt_st_writer_add_tensor(w, "f4", CKPT_DT_F4, 1, (uint64_t[]){3}, &err),
                     CKPT_E_USAGE);
    ck_assert_int_eq(ckpt_st_writer_add_tensor(w, "__metadata__", CKPT_DT_U8, 1, s4, NULL),
                     CKPT_E_USAGE);
    ck_assert_int_eq(ckpt_st_writer_add_tensor(w, "bad\xff", CKPT_DT_U8, 1, s4, NULL),
                     CKPT_E_USAGE);
    ck_assert_int_eq(ckpt_st_writer_add_tensor(w, "x", CKPT_DT_U8, 9, s4, NULL), CKPT_E_USAGE);
    ck_assert_int_eq(ckpt_st_writer_add_tensor(w, "o", CKPT_DT_U64, 2,
                                               (uint64_t[]){UINT64_MAX / 2, 3}, NULL),
                     CKPT_E_RANGE);
    ck_assert_int_eq(ckpt_st_writer_write(w, four, 1, NULL), CKPT_E_USAGE);
    ck_assert_int_eq(ckpt_st_writer_finish(w, NULL), CKPT_E_USAGE);

    /* an existing output is kept without force, replaced with it */
    ck_assert_int_eq(tu_write_file(path, "old", 3), 0);
    ckpt_err_clear(&err);
    ck_assert_int_eq(ckpt_st_writer_new(&w, path, false, &err), CKPT_OK);
    ck_assert_int_eq(ckpt_st_writer_begin(w, &err), CKPT_E_EXISTS);
    ckpt_st_writer_free(w);
    ck_assert_int_eq(ckpt_st_writer_new(&w, path, true, &err), CKPT_OK);
    ck_assert_int_eq(ckpt_st_writer_begin(w, NULL), CKPT_OK);
    ck_assert_int_eq(ckpt_st_writer_finish(w, NULL), CKPT_OK);
    size_t n;
    char *b = tu_read_file(path, &n);
    ck_assert_uint_eq(n, 16);
    free(b);
    ckpt_st_writer_free(NULL);
    tu_rmtree(dir);
    free(dir);
    free(path);
}
END_TEST

/* Inputs the reference accepts, and so do we. */
static const struct {
    const char *header;
    size_t data;
    size_t n_tensors;
    const char *first; /* name of the first tensor in offset order */
} accepted[] = {
    {"  \t\r\n{\"w\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[0,2]}}", 2, 1, "w"},
    {"{\"w\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[0,2]}}  \n\t\r ", 2, 1, "w"},
    {"{\"w\":{\"dtype\":\"F32\",\"shape\":[2,0],\"data_offsets\":[0,0]}}", 0, 1, "w"},
    {"{\"s\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[0,4]}}", 4, 1, "s"},
    {"{}", 0, 0, NULL},
    {"{\"__metadata__\":null}", 0, 0, NULL},
    /* unknown fields in a tensor object are ignored, as serde does */
    {"{\"w\":{\"extra\":[1.5,{\"x\":null}],\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[0,2]}}",
     2, 1, "w"},
    /* the zero-size quirk: [4,4] sorts before [4,8] and passes */
    {"{\"b\":{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[4,8]},"
     "\"z\":{\"dtype\":\"U8\",\"shape\":[0],\"data_offsets\":[4,4]},"
     "\"a\":{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[0,4]}}",
     8, 3, "a"},
    /* several empty tensors at one offset, kept in header order */
    {"{\"y\":{\"dtype\":\"U8\",\"shape\":[0],\"data_offsets\":[0,0]},"
     "\"x\":{\"dtype\":\"U8\",\"shape\":[0],\"data_offsets\":[0,0]}}",
     0, 2, "y"},
    {"{\"caf\\u00e9 \\\"q\\\"\":{\"dtype\":\"BOOL\",\"shape\":[1],\"data_offsets\":[0,1]}}", 1, 1,
     "caf\xc3\xa9 \"q\""},
    {"{\"w\":{\"dtype\":\"U8\",\"shape\":[1,1,1,1,1,1,1,1],\"data_offsets\":[0,1]}}", 1, 1, "w"},
};

START_TEST(reader_accepts)
{
    size_t n;
    uint8_t *b = make_file(accepted[_i].header, accepted[_i].data, &n);
    ckpt_st_check chk = CKPT_ST_LFS_POINTER;
    ckpt_err err;
    ckpt_st *st = open_bytes("ok.safetensors", b, n, &chk, &err);
    ck_assert_msg(st != NULL, "case %d: %s", _i, err.msg);
    ck_assert_int_eq(chk, CKPT_ST_OK);
    ck_assert_uint_eq(ckpt_st_n_tensors(st), accepted[_i].n_tensors);
    if (accepted[_i].first)
        ck_assert_str_eq(ckpt_st_tensor(st, 0)->name, accepted[_i].first);
    ck_assert_ptr_null(ckpt_st_map(st));
    ckpt_st_close(st);
    free(b);
}
END_TEST

START_TEST(check_names)
{
    ck_assert_str_eq(ckpt_st_check_name(CKPT_ST_INVALID_OFFSET), "InvalidOffset");
    ck_assert_str_eq(ckpt_st_check_name(CKPT_ST_METADATA_INCOMPLETE_BUFFER),
                     "MetadataIncompleteBuffer");
    ck_assert_str_eq(ckpt_st_check_name(CKPT_ST_OK), "Ok");
    ck_assert_str_eq(ckpt_st_check_name((ckpt_st_check)99), "?");
}
END_TEST

START_TEST(open_errors)
{
    ckpt_st *st = (ckpt_st *)1;
    ckpt_err err;
    ckpt_err_clear(&err);
    ck_assert_int_eq(ckpt_st_open(&st, "/nonexistent/x.safetensors", NULL, &err), CKPT_E_IO);
    ck_assert_ptr_null(st);
    ck_assert(strstr(err.msg, "/nonexistent/x.safetensors") != NULL);
    /* a hostile file on disk: the message names the path */
    char *dir = tu_tmpdir();
    char *path = tu_fmt("%s/lfs.safetensors", dir);
    const char *lfs = "version https://git-lfs.github.com/spec/v1\noid sha256:00\nsize 1\n";
    ck_assert_int_eq(tu_write_file(path, lfs, strlen(lfs)), 0);
    ckpt_st_check chk;
    ckpt_err_clear(&err);
    ck_assert_int_eq(ckpt_st_open(&st, path, &chk, &err), CKPT_E_FORMAT);
    ck_assert_int_eq(chk, CKPT_ST_LFS_POINTER);
    ck_assert(strstr(err.msg, path) == err.msg);
    ck_assert(strstr(err.msg, "git lfs pull") != NULL);
    tu_rmtree(dir);
    free(dir);
    free(path);
}
END_TEST

/* -------------------------------------------------------------- limits */

START_TEST(limit_header_boundary)
{
    /* exactly 100000000 passes the size cap, then fails on the file size */
    uint8_t b[16] = {0};
    le64enc(b, CKPT_ST_MAX_HEADER);
    ckpt_st_check chk;
    ckpt_err err;
    ck_assert_ptr_null(open_bytes("cap.safetensors", b, sizeof b, &chk, &err));
    ck_assert_int_eq(chk, CKPT_ST_INVALID_HEADER_LENGTH);
    le64enc(b, CKPT_ST_MAX_HEADER + 1u);
    ck_assert_ptr_null(open_bytes("cap.safetensors", b, sizeof b, &chk, &err));
    ck_assert_int_eq(chk, CKPT_ST_HEADER_TOO_LARGE);
    ck_assert_int_eq(err.code, CKPT_E_RANGE);
    /* 8 + N overflowing is "too large", never a wrapped length */
    le64enc(b, UINT64_MAX - 3);
    ck_assert_ptr_null(open_bytes("cap.safetensors", b, sizeof b, &chk, &err));
    ck_assert_int_eq(chk, CKPT_ST_HEADER_TOO_LARGE);
}
END_TEST

START_TEST(limit_tensor_count)
{
    /* one more top-level entry than the cap allows (tensors + __metadata__) */
    size_t n = (size_t)CKPT_ST_MAX_TENSORS + 2, per = 12;
    char *h = malloc(n * per + 8);
    size_t o = 0;
    h[o++] = '{';
    for (size_t i = 0; i < n; i++)
        o += (size_t)sprintf(h + o, "%s\"%07zx\":0", i ? "," : "", i);
    h[o++] = '}';
    h[o] = '\0';
    size_t size;
    uint8_t *b = make_file(h, 0, &size);
    ckpt_st_check chk;
    ckpt_err err;
    ck_assert_ptr_null(open_bytes("many.safetensors", b, size, &chk, &err));
    ck_assert_int_eq(chk, CKPT_ST_HEADER_TOO_LARGE);
    ck_assert_int_eq(err.code, CKPT_E_RANGE);
    ck_assert(strstr(err.msg, "many.safetensors: header: too many top-level entries") != NULL);
    free(b);
    free(h);
}
END_TEST

START_TEST(limit_exact_integers)
{
    /* 2^53 + 1 has no double: the reader must still see the exact value */
    size_t n;
    uint8_t *b = make_file(
        "{\"w\":{\"dtype\":\"U8\",\"shape\":[9007199254740993],\"data_offsets\":[0,4]}}", 4, &n);
    ckpt_st_check chk;
    ckpt_err err;
    ck_assert_ptr_null(open_bytes("big.safetensors", b, n, &chk, &err));
    ck_assert_int_eq(chk, CKPT_ST_TENSOR_INVALID_INFO);
    ck_assert(strstr(err.msg, "needs 9007199254740993") != NULL);
    free(b);
    /* the largest u64 is a valid JSON integer; it just does not fit the data */
    b = make_file("{\"w\":{\"dtype\":\"U8\",\"shape\":[1],"
                  "\"data_offsets\":[0,18446744073709551615]}}",
                  1, &n);
    ck_assert_ptr_null(open_bytes("big.safetensors", b, n, &chk, &err));
    ck_assert_int_eq(chk, CKPT_ST_TENSOR_INVALID_INFO);
    free(b);
}
END_TEST

START_TEST(limit_writer_header)
{
    /* a 100 MB metadata value makes a header the reader would refuse */
    size_t big = CKPT_ST_MAX_HEADER;
    char *v = malloc(big + 1);
    memset(v, 'a', big);
    v[big] = '\0';
    char *dir = tu_tmpdir();
    char *path = tu_fmt("%s/big.safetensors", dir);
    ckpt_st_writer *w;
    ckpt_err err;
    ckpt_err_clear(&err);
    ck_assert_int_eq(ckpt_st_writer_new(&w, path, false, &err), CKPT_OK);
    ck_assert_int_eq(ckpt_st_writer_add_metadata(w, "blob", v, &err), CKPT_OK);
    ck_assert_int_eq(ckpt_st_writer_begin(w, &err), CKPT_E_RANGE);
    ck_assert(strstr(err.msg, "above the 100000000-byte limit") != NULL);
    ckpt_st_writer_free(w);
    ck_assert_ptr_null(tu_read_file(path, NULL));
    free(v);
    tu_rmtree(dir);
    free(dir);
    free(path);
}
END_TEST

/* ------------------------------------------------------------- corrupt */

START_TEST(hostile_case)
{
    const struct st_hostile_case *c = &st_hostile_cases[_i];
    size_t n = 0;
    uint8_t *b = st_hostile_build(c, &n);
    char *name = tu_fmt("hostile/%s.safetensors", c->name);
    ckpt_st *st = (ckpt_st *)1;
    ckpt_st_check chk = CKPT_ST_OK;
    ckpt_err err;
    ckpt_err_clear(&err);
    ckpt_status s = ckpt_st_open_buffer(&st, name, b, n, &chk, &err);
    ck_assert_msg(s == c->status, "%s: status %d, want %d (%s)", c->name, s, c->status, err.msg);
    ck_assert_ptr_null(st);
    ck_assert_msg(chk == c->check, "%s: check %s, want %s (%s)", c->name, ckpt_st_check_name(chk),
                  ckpt_st_check_name(c->check), err.msg);
    ck_assert_int_eq(err.code, c->status);
    ck_assert_msg(strncmp(err.msg, name, strlen(name)) == 0, "%s: %s", c->name, err.msg);
    ck_assert_msg(strstr(err.msg, c->msg) != NULL, "%s: '%s' lacks '%s'", c->name, err.msg,
                  c->msg);
    free(name);
    free(b);
}
END_TEST

START_TEST(truncation_sweep)
{
    size_t total, hend;
    uint8_t *v = st_hostile_valid(&total, &hend);
    ckpt_st_check chk;
    ckpt_err err;
    ckpt_st *st = open_bytes("valid.safetensors", v, total, &chk, &err);
    ck_assert_msg(st != NULL, "%s", err.msg);
    ck_assert_uint_eq(ckpt_st_n_tensors(st), 3);
    ckpt_st_close(st);
    for (size_t len = 0; len < total; len++) {
        /* a fresh copy of exactly len bytes, so ASan sees any overread */
        uint8_t *cut = malloc(len ? len : 1);
        memcpy(cut, v, len);
        ckpt_st_check want = st_hostile_trunc_check(len, hend);
        ck_assert_ptr_null(open_bytes("cut.safetensors", cut, len, &chk, &err));
        ck_assert_msg(chk == want, "len %zu: %s, want %s", len, ckpt_st_check_name(chk),
                      ckpt_st_check_name(want));
        ck_assert(strncmp(err.msg, "cut.safetensors: ", 17) == 0);
        ck_assert_msg(strstr(err.msg, st_hostile_trunc_msg(want)) != NULL, "%s", err.msg);
        free(cut);
    }
    free(v);
}
END_TEST

START_TEST(byte_mutations)
{
    /* every header byte replaced by a few troublesome values: never a
     * crash, and any error names the file */
    static const uint8_t subst[] = {'"', '}', ']', '9', ' ', 0xff, '\\', 0, '-'};
    size_t total, hend;
    uint8_t *v = st_hostile_valid(&total, &hend);
    uint8_t *m = malloc(total);
    for (size_t i = 0; i < hend; i++)
        for (size_t k = 0; k < sizeof subst; k++) {
            memcpy(m, v, total);
            m[i] = subst[k];
            ckpt_st_check chk;
            ckpt_err err;
            ckpt_st *st = open_bytes("mut.safetensors", m, total, &chk, &err);
            if (st) {
                ck_assert_int_eq(chk, CKPT_ST_OK);
                ckpt_st_close(st);
            } else {
                ck_assert_int_ne(chk, CKPT_ST_OK);
                ck_assert(strncmp(err.msg, "mut.safetensors: ", 17) == 0);
            }
        }
    free(m);
    free(v);
}
END_TEST

/* The generator writes the same corpus as files with a manifest. */
START_TEST(generated_corpus_files)
{
    const char *bin = getenv("CKPT_TESTBIN");
    char *dir = tu_tmpdir();
    char *cmd = tu_fmt("'%s/gen_hostile_st' '%s/corpus'", bin && *bin ? bin : "build/tests", dir);
    ck_assert_int_eq(tu_run(cmd, NULL, NULL), 0);
    char *mpath = tu_fmt("%s/corpus/MANIFEST", dir);
    char *manifest = tu_read_file(mpath, NULL);
    ck_assert_ptr_nonnull(manifest);
    size_t files = 0;
    for (char *line = strtok(manifest, "\n"); line; line = strtok(NULL, "\n")) {
        char *tab = strchr(line, '\t');
        ck_assert_ptr_nonnull(tab);
        *tab = '\0';
        char *path = tu_fmt("%s/corpus/%s", dir, line);
        ckpt_st *st = NULL;
        ckpt_err err;
        ckpt_err_clear(&err);
        ck_assert_int_ne(ckpt_st_open(&st, path, NULL, &err), CKPT_OK);
        ck_assert_msg(strstr(err.msg, path) == err.msg, "%s", err.msg);
        ck_assert_msg(strstr(err.msg, tab + 1) != NULL, "%s: '%s' lacks '%s'", line, err.msg,
                      tab + 1);
        free(path);
        files++;
    }
    size_t total, hend;
    free(st_hostile_valid(&total, &hend));
    ck_assert_uint_eq(files, ST_HOSTILE_N + total);
    free(manifest);
    free(mpath);
    free(cmd);
    tu_rmtree(dir);
    free(dir);
}
END_TEST

Suite *safetensors_suite(void)
{
    Suite *s = suite_create("safetensors");
    TCase *tc = tcase_create("core");
    tcase_add_loop_test(tc, shared_models, 0, sizeof models / sizeof models[0]);
    tcase_add_test(tc, writer_matches_reference_bytes);
    tcase_add_test(tc, writer_round_trip);
    tcase_add_test(tc, writer_misuse);
    tcase_add_loop_test(tc, reader_accepts, 0, sizeof accepted / sizeof accepted[0]);
    tcase_add_test(tc, check_names);
    tcase_add_test(tc, open_errors);
    suite_add_tcase(s, tc);

    tc = tcase_create("limits");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, limit_header_boundary);
    tcase_add_test(tc, limit_tensor_count);
    tcase_add_test(tc, limit_exact_integers);
    tcase_add_test(tc, limit_writer_header);
    suite_add_tcase(s, tc);

    tc = tcase_create("corrupt");
    tcase_set_timeout(tc, 30);
    tcase_add_loop_test(tc, hostile_case, 0, (int)ST_HOSTILE_N);
    tcase_add_test(tc, truncation_sweep);
    tcase_add_test(tc, byte_mutations);
    tcase_add_test(tc, generated_corpus_files);
    suite_add_tcase(s, tc);
    return s;
}
