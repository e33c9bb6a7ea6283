/*
 * check_imatrix.c - importance matrices: llama-imatrix's legacy .dat files
 * of the golden kits (entry counts, dataset, chunks, values divided by the
 * call count, entries llama-imatrix left out), the GGUF form (sums and
 * counts, zero-count experts), per-tensor lookup, and hostile files: every
 * truncation, bad counts and lengths, non-finite values, duplicates.
 */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats/gguf.h"
#include "formats/le.h"
#include "quant/imatrix.h"
#include "quant_listing.h"
#include "testutil.h"

static void *load_dat(const char *kit, size_t *size)
{
    char *rel = tu_fmt("golden/%s/imatrix.dat", kit);
    char *path = tu_data(rel);
    void *d = tu_read_file(path, size);
    ck_assert_msg(d != NULL, "cannot read %s", path);
    free(path);
    free(rel);
    return d;
}

static const char *const kits[] = {"tiny-mistral", "tiny-mixtral"};

START_TEST(legacy_golden)
{
    const char *kit = kits[_i];
    char *rel = tu_fmt("golden/%s/imatrix.dat", kit);
    char *path = tu_data(rel);
    ckpt_imatrix *im = NULL;
    ckpt_err err = {0};
    ck_assert_msg(ckpt_imatrix_load(&im, path, &err) == CKPT_OK, "%s", err.msg);
    /* what llama-quantize recorded from it */
    const char *kv = "quant-Q4_K_M-imatrix.kv.tsv";
    ck_assert_int_eq((long)ckpt_imatrix_n_entries(im),
                     ql_kv_int(kit, kv, "quantize.imatrix.entries_count", -1));
    ck_assert_int_eq(ckpt_imatrix_chunks(im),
                     ql_kv_int(kit, kv, "quantize.imatrix.chunks_count", -1));
    char *ds = ql_kv(kit, kv, "quantize.imatrix.dataset");
    ck_assert_str_eq(ckpt_imatrix_dataset(im), ds);
    free(ds);

    /* values = stored / ncall, read independently here */
    size_t size;
    uint8_t *d = load_dat(kit, &size);
    size_t off = 4;
    for (int e = 0; e < (int)le32dec(d); e++) {
        int32_t len = (int32_t)le32dec(d + off);
        char name[128];
        snprintf(name, sizeof name, "%.*s", (int)len, (const char *)d + off + 4);
        off += 4 + (size_t)len;
        int32_t ncall = (int32_t)le32dec(d + off), nval = (int32_t)le32dec(d + off + 4);
        off += 8;
        const float *v;
        size_t n;
        ck_assert_str_eq(ckpt_imatrix_entry(im, (size_t)e, &v, &n), name);
        ck_assert_uint_eq(n, (size_t)nval);
        for (int32_t j = 0; j < nval; j++) {
            float want = lef32dec(d + off + 4 * (size_t)j) / (float)ncall;
            ck_assert_msg(memcmp(&v[j], &want, 4) == 0, "%s[%d]", name, (int)j);
        }
        off += 4 * (size_t)nval;
    }
    free(d);
    ckpt_imatrix_free(im);
    free(path);
    free(rel);
}
END_TEST

START_TEST(lookup)
{
    size_t size;
    void *d = load_dat("tiny-mixtral", &size);
    ckpt_imatrix *im = NULL;
    ckpt_err err = {0};
    ck_assert_int_eq(ckpt_imatrix_load_buffer(&im, "imatrix.dat", d, size, &err), CKPT_OK);
    const float *w = NULL;
    ck_assert_int_eq(ckpt_imatrix_for_tensor(im, "blk.0.ffn_down_exps.weight", 256, 4, &w, &err),
                     CKPT_OK);
    ck_assert_ptr_nonnull(w);
    ck_assert_int_eq(ckpt_imatrix_for_tensor(im, "blk.0.attn_q.weight", 128, 1, &w, &err), CKPT_OK);
    ck_assert_ptr_nonnull(w);
    /* left out by llama-imatrix (an expert never routed): no weights */
    ck_assert_int_eq(ckpt_imatrix_for_tensor(im, "blk.1.ffn_up_exps.weight", 128, 4, &w, &err),
                     CKPT_OK);
    ck_assert_ptr_null(w);
    ck_assert_int_eq(ckpt_imatrix_for_tensor(im, "output.weight", 128, 1, &w, &err), CKPT_OK);
    ck_assert_ptr_null(w);
    /* a size that does not fit is an error naming both sizes */
    ck_assert_int_eq(ckpt_imatrix_for_tensor(im, "blk.0.ffn_down_exps.weight", 256, 1, &w, &err),
                     CKPT_E_FORMAT);
    ck_assert_ptr_nonnull(strstr(err.msg, "1024"));
    ck_assert_ptr_nonnull(strstr(err.msg, "256"));
    ckpt_imatrix_free(im);
    free(d);
}
END_TEST

/* ---- hand-made legacy files ---- */

struct buf {
    uint8_t b[4096];
    size_t n;
};

static void put32(struct buf *b, uint32_t v)
{
    le32enc(b->b + b->n, v);
    b->n += 4;
}

static void putf(struct buf *b, float f)
{
    memcpy(b->b + b->n, &f, 4);
    b->n += 4;
}

static void entry(struct buf *b, const char *name, int32_t ncall, int32_t nval, float first)
{
    put32(b, (uint32_t)strlen(name));
    memcpy(b->b + b->n, name, strlen(name));
    b->n += strlen(name);
    put32(b, (uint32_t)ncall);
    put32(b, (uint32_t)nval);
    for (int32_t i = 0; i < nval; i++)
        putf(b, i == 0 ? first : 2.0f);
}

static ckpt_status load(const struct buf *b, ckpt_err *err)
{
    ckpt_imatrix *im = NULL;
    ckpt_err_clear(err);
    ckpt_status st = ckpt_imatrix_load_buffer(&im, "x.dat", b->b, b->n, err);
    ck_assert(st == CKPT_OK ? im != NULL : im == NULL);
    ckpt_imatrix_free(im);
    return st;
}

START_TEST(legacy_hostile)
{
    struct buf b = {0};
    ckpt_err err;
    put32(&b, 2);
    entry(&b, "a.weight", 4, 3, 8.0f);
    entry(&b, "b.weight", 0, 2, 1.0f);
    ck_assert_int_eq(load(&b, &err), CKPT_OK); /* no trailer is fine */
    size_t full = b.n;
    put32(&b, 7);
    put32(&b, 5);
    memcpy(b.b + b.n, "c.txt", 5);
    b.n += 5;
    ck_assert_int_eq(load(&b, &err), CKPT_OK);
    /* every truncation inside the entries or the trailer is refused, never read past */
    size_t n = b.n;
    for (size_t cut = 0; cut < n; cut++) {
        b.n = cut;
        ckpt_status st = load(&b, &err);
        if (cut == full || cut == full + 4)
            ck_assert_int_eq(st, CKPT_OK); /* ends after the entries or the chunk count */
        else
            ck_assert_msg(st == CKPT_E_FORMAT, "cut at %zu: %d %s", cut, st, err.msg);
    }
    b.n = n;
    b.b[b.n++] = 0;
    ck_assert_int_eq(load(&b, &err), CKPT_E_FORMAT);
    ck_assert_ptr_nonnull(strstr(err.msg, "unexpected"));

    struct {
        const char *name;
        int32_t count, len, ncall, nval;
        float first;
        ckpt_status want;
        const char *msg;
    } cases[] = {
        {"negative count", -1, 8, 1, 1, 1, CKPT_E_FORMAT, "entry count"},
        {"huge count", 1 << 30, 8, 1, 1, 1, CKPT_E_FORMAT, "entry count"},
        {"zero entries", 0, 8, 1, 1, 1, CKPT_E_FORMAT, "no entries"},
        {"empty name", 1, 0, 1, 1, 1, CKPT_E_FORMAT, "name length"},
        {"long name", 1, 1 << 30, 1, 1, 1, CKPT_E_FORMAT, "name length"},
        {"negative ncall", 1, 8, -3, 1, 1, CKPT_E_FORMAT, "call count"},
        {"no values", 1, 8, 1, 0, 1, CKPT_E_FORMAT, "values"},
        {"too many values", 1, 8, 1, 1 << 28, 1, CKPT_E_FORMAT, "values"},
        {"nan", 1, 8, 1, 4, NAN, CKPT_E_VALUE, "x.weight': value 0 is nan"},
        {"inf", 1, 8, 1, 4, INFINITY, CKPT_E_VALUE, "infinite"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        b.n = 0;
        put32(&b, (uint32_t)cases[k].count);
        put32(&b, (uint32_t)cases[k].len);
        memcpy(b.b + b.n, "x.weight", 8);
        b.n += cases[k].len > 0 ? 8 : 0;
        put32(&b, (uint32_t)cases[k].ncall);
        put32(&b, (uint32_t)cases[k].nval);
        for (int j = 0; j < 4; j++)
            putf(&b, j ? 1.0f : cases[k].first);
        if (cases[k].count == 0)
            b.n = 4;
        ck_assert_msg(load(&b, &err) == cases[k].want, "%s: %s", cases[k].name, err.msg);
        ck_assert_msg(strstr(err.msg, cases[k].msg), "%s: '%s'", cases[k].name, err.msg);
        ck_assert_msg(strstr(err.msg, "x.dat"), "%s: '%s' lacks the file", cases[k].name, err.msg);
    }
    b.n = 0;
    put32(&b, 2);
    entry(&b, "a.weight", 1, 1, 1.0f);
    entry(&b, "a.weight", 1, 1, 1.0f);
    ck_assert_int_eq(load(&b, &err), CKPT_E_FORMAT);
    ck_assert_ptr_nonnull(strstr(err.msg, "twice"));
}
END_TEST

/* ---- GGUF imatrix ---- */

/* Write an imatrix GGUF at path: entry "blk.0.ffn_up_exps.weight" of 4
 * experts x 8 columns with counts c[4], sums = (j + 1) * count, and a dense
 * entry; `variant` breaks it in one way. */
static void write_gguf_imatrix(const char *path, const float c[4], int variant)
{
    ckpt_gguf_writer *w = NULL;
    ckpt_err err = {0};
    ck_assert_int_eq(ckpt_gguf_writer_new(&w, path, true, &err), CKPT_OK);
    ck_assert_int_eq(ckpt_gguf_writer_set_str(w, "general.type", variant == 3 ? "model" : "imatrix",
                                              &err), CKPT_OK);
    const char *ds[] = {"calib.txt", "more.txt"};
    ck_assert_int_eq(ckpt_gguf_writer_set_str_array(w, "imatrix.datasets", ds, NULL, 2, &err),
                     CKPT_OK);
    ck_assert_int_eq(ckpt_gguf_writer_set_u32(w, "imatrix.chunk_count", 12, &err), CKPT_OK);
    ck_assert_int_eq(ckpt_gguf_writer_set_u32(w, "imatrix.chunk_size", 64, &err), CKPT_OK);
    float sums[32], dense[8], one = 3.0f;
    for (int m = 0; m < 4; m++)
        for (int j = 0; j < 8; j++)
            sums[m * 8 + j] = (float)(j + 1) * c[m];
    for (int j = 0; j < 8; j++)
        dense[j] = 6.0f;
    if (variant == 4)
        sums[9] = NAN;
    int64_t ne_s[2] = {8, 4}, ne_c[2] = {1, 4}, ne_d[2] = {8, 1}, ne_dc[2] = {1, 1};
    ck_assert_int_eq(ckpt_gguf_writer_add_tensor(w, "blk.0.attn_q.weight.counts", CKPT_TYPE_F32, 2,
                                                 ne_dc, &err), CKPT_OK);
    ck_assert_int_eq(ckpt_gguf_writer_add_tensor(w, "blk.0.attn_q.weight.in_sum2", CKPT_TYPE_F32,
                                                 2, ne_d, &err), CKPT_OK);
    ck_assert_int_eq(ckpt_gguf_writer_add_tensor(w, "blk.0.ffn_up_exps.weight.in_sum2",
                                                 CKPT_TYPE_F32, 2, ne_s, &err), CKPT_OK);
    if (variant != 1)
        ck_assert_int_eq(ckpt_gguf_writer_add_tensor(w, "blk.0.ffn_up_exps.weight.counts",
                                                     variant == 2 ? CKPT_TYPE_F16 : CKPT_TYPE_F32,
                                                     2, ne_c, &err), CKPT_OK);
    ck_assert_int_eq(ckpt_gguf_writer_begin(w, &err), CKPT_OK);
    ck_assert_int_eq(ckpt_gguf_writer_write(w, &one, 4, &err), CKPT_OK);
    ck_assert_int_eq(ckpt_gguf_writer_write(w, dense, sizeof dense, &err), CKPT_OK);
    ck_assert_int_eq(ckpt_gguf_writer_write(w, sums, sizeof sums, &err), CKPT_OK);
    if (variant == 2) {
        uint16_t h[4] = {0x3c00, 0x3c00, 0x3c00, 0x3c00};
        ck_assert_int_eq(ckpt_gguf_writer_write(w, h, sizeof h, &err), CKPT_OK);
    } else if (variant != 1) {
        ck_assert_int_eq(ckpt_gguf_writer_write(w, c, 16, &err), CKPT_OK);
    }
    ck_assert_int_eq(ckpt_gguf_writer_finish(w, &err), CKPT_OK);
}

START_TEST(gguf_form)
{
    char *dir = tu_tmpdir();
    char *path = tu_fmt("%s/im.gguf", dir);
    const float counts[4] = {64, 0, 2, 1}; /* expert 1 was never routed */
    write_gguf_imatrix(path, counts, 0);
    ckpt_imatrix *im = NULL;
    ckpt_err err = {0};
    ck_assert_msg(ckpt_imatrix_load(&im, path, &err) == CKPT_OK, "%s", err.msg);
    ck_assert_uint_eq(ckpt_imatrix_n_entries(im), 2);
    ck_assert_str_eq(ckpt_imatrix_dataset(im), "calib.txt");
    ck_assert_int_eq(ckpt_imatrix_chunks(im), 12);
    const float *w;
    ck_assert_int_eq(ckpt_imatrix_for_tensor(im, "blk.0.ffn_up_exps.weight", 8, 4, &w, &err),
                     CKPT_OK);
    ck_assert_ptr_nonnull(w);
    for (int m = 0; m < 4; m++)
        for (int j = 0; j < 8; j++)
            ck_assert_float_eq(w[m * 8 + j], m == 1 ? 1.0f : (float)(j + 1));
    ck_assert_int_eq(ckpt_imatrix_for_tensor(im, "blk.0.attn_q.weight", 8, 1, &w, &err), CKPT_OK);
    ck_assert_float_eq(w[3], 2.0f);
    ckpt_imatrix_free(im);

    static const struct {
        int variant;
        ckpt_status want;
        const char *msg;
    } bad[] = {
        {1, CKPT_E_FORMAT, "no counts"},
        {2, CKPT_E_FORMAT, "f32"},
        {3, CKPT_E_FORMAT, "not an imatrix"},
        {4, CKPT_E_VALUE, "value 9 is nan"},
    };
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        write_gguf_imatrix(path, counts, bad[k].variant);
        ckpt_err_clear(&err);
        ck_assert_int_eq(ckpt_imatrix_load(&im, path, &err), bad[k].want);
        ck_assert_ptr_null(im);
        ck_assert_msg(strstr(err.msg, bad[k].msg), "variant %d: %s", bad[k].variant, err.msg);
    }
    const float negative[4] = {1, -1, 1, 1};
    write_gguf_imatrix(path, negative, 0);
    ckpt_err_clear(&err);
    ck_assert_int_eq(ckpt_imatrix_load(&im, path, &err), CKPT_E_VALUE);
    ck_assert_ptr_nonnull(strstr(err.msg, "count 1"));
    free(path);
    tu_rmtree(dir);
    free(dir);
}
END_TEST

Suite *imatrix_suite(void)
{
    Suite *s = suite_create("imatrix");
    TCase *tc = tcase_create("core");
    tcase_add_loop_test(tc, legacy_golden, 0, 2);
    tcase_add_test(tc, lookup);
    tcase_add_test(tc, gguf_form);
    suite_add_tcase(s, tc);
    tc = tcase_create("corrupt");
    tcase_add_test(tc, legacy_hostile);
    suite_add_tcase(s, tc);
    return s;
}
