/*
 * check_quantize.c - the quantize driver against llama-quantize's own
 * outputs:
 *   golden:  Q4_K_M of each kit's convert-f16.gguf, and of its model
 *            directory directly, is byte-identical, whole file, to
 *            llama-quantize's (quant-summary.tsv); every mix of the
 *            listings, with and without the imatrix, from the f32 GGUF and
 *            from the model directory in one pass, gives llama-quantize's
 *            types, shapes and bytes (SHA-256) for every tensor, and its
 *            metadata keys and the values it adds; the same bytes through a
 *            GGUF imatrix.  These run on the default kernels (the AVX2
 *            ones where the CPU has AVX2), the Q4_K_M files on the scalar
 *            reference as well;
 *   driver:  identical bytes for 1 and 4 threads, and for the default and
 *            the reference kernels (with and without the imatrix);
 *            NaN/Inf rows and values too large for the output type fail
 *            naming tensor and row and leave no file; existing outputs;
 *            requantizing with a warning; an imatrix entry of the wrong
 *            size.
 */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "convert/convert.h"
#include "formats/gguf.h"
#include "formats/le.h"
#include "kernels/quant.h"
#include "quant/imatrix.h"
#include "quant/quantize.h"
#include "quant/source.h"
#include "quant_listing.h"
#include "testutil.h"

static const char *const kits[] = {"tiny-mistral", "tiny-mistral-tokjson", "tiny-mixtral"};

static char *kit_path(const char *kit, const char *file)
{
    char *rel = tu_fmt("golden/%s/%s", kit, file);
    char *p = tu_data(rel);
    free(rel);
    return p;
}

/* ref: the scalar reference kernels; otherwise those of ckpt_isa_default(),
 * i.e. the AVX2 siblings on a CPU that has AVX2 (unless CKPT_ISA=ref). */
static ckpt_status quantize_isa(const char *in, const char *out, ckpt_mix mix,
                                const ckpt_imatrix *im, int threads, bool ref,
                                struct ckpt_quant_report *rep, ckpt_err *err)
{
    struct ckpt_qsrc *src = NULL;
    struct stat sb;
    ckpt_status st = stat(in, &sb) == 0 && S_ISDIR(sb.st_mode)
                         ? ckpt_qsrc_open_hf(&src, in, false, err)
                         : ckpt_qsrc_open_gguf(&src, in, err);
    if (st != CKPT_OK)
        return st;
    struct ckpt_quant_opts o = {.mix = mix, .output_type = -1, .token_embd_type = -1,
                                .imatrix = im, .imatrix_name = "imatrix.dat", .output = out,
                                .force = true, .n_threads = threads, .ref_kernels = ref};
    st = ckpt_quant_run(src, &o, rep, err);
    ckpt_qsrc_close(src);
    return st;
}

static ckpt_status quantize(const char *in, const char *out, ckpt_mix mix, const ckpt_imatrix *im,
                            int threads, struct ckpt_quant_report *rep, ckpt_err *err)
{
    return quantize_isa(in, out, mix, im, threads, false, rep, err);
}

static char *file_sha(const char *path)
{
    size_t n;
    void *d = tu_read_file(path, &n);
    ck_assert_ptr_nonnull(d);
    char *hex = malloc(65);
    ck_assert(tu_sha256_hex(d, n, hex) == 0);
    free(d);
    return hex;
}

/* _i < 3 with the default kernels (the AVX2 ones where the CPU has AVX2),
 * then with the scalar reference */
START_TEST(q4km_from_f16_whole_file)
{
    const char *kit = kits[_i % 3];
    char *dir = tu_tmpdir();
    char *out = tu_fmt("%s/q.gguf", dir);
    char *in = kit_path(kit, "convert-f16.gguf");
    ckpt_err err = {0};
    struct ckpt_quant_report rep;
    ck_assert_msg(quantize_isa(in, out, CKPT_MIX_Q4_K_M, NULL, 2, _i >= 3, &rep, &err) == CKPT_OK,
                  "%s", err.msg);
    char *want = ql_summary_sha(kit, "quant-Q4_K_M-from-f16.gguf");
    char *got = file_sha(out);
    ck_assert_ptr_nonnull(want);
    ck_assert_str_eq(got, want);
    struct ql_listing l = ql_load(kit, "quant-Q4_K_M-from-f16.tensors.tsv");
    ck_assert_uint_eq(rep.n, l.n);
    ql_free(&l);
    ck_assert_int_eq(rep.n_requantized, 0);
    ckpt_quant_report_free(&rep);
    free(got);
    free(want);
    free(in);
    free(out);
    tu_rmtree(dir);
    free(dir);
}
END_TEST

/* Compare the GGUF at out with golden/<kit>/<stem>.{tensors,kv}.tsv. */
static void compare(const char *kit, const char *stem, const char *out)
{
    char *lname = tu_fmt("%s.tensors.tsv", stem), *kvname = tu_fmt("%s.kv.tsv", stem);
    struct ql_listing want = ql_load(kit, lname);
    ckpt_gguf *g = NULL;
    ckpt_err err = {0};
    ck_assert_msg(ckpt_gguf_open(&g, out, &err) == CKPT_OK, "%s", err.msg);
    ck_assert_uint_eq(ckpt_gguf_n_tensors(g), want.n);
    for (size_t i = 0; i < ckpt_gguf_n_tensors(g); i++) {
        const struct ckpt_gguf_tensor *t = ckpt_gguf_tensor(g, i);
        if (i > 0)
            ck_assert_int_lt(
                ckpt_qplan_compare_names(ckpt_gguf_tensor(g, i - 1)->name, t->name), 0);
        const struct ql_tensor *w = ql_find(&want, t->name);
        ck_assert_msg(w != NULL, "%s %s: unexpected %s", kit, stem, t->name);
        ck_assert_msg((int)t->type == w->type, "%s %s: %s is %s, llama-quantize %s", kit, stem,
                      t->name, ckpt_type_name(t->type), ckpt_type_name((uint32_t)w->type));
        for (int d = 0; d < 4; d++)
            ck_assert_int_eq(t->ne[d], w->ne[d]);
        char hex[65];
        ck_assert(tu_sha256_hex(t->data, t->n_bytes, hex) == 0);
        ck_assert_msg(strcmp(hex, w->sha) == 0, "%s %s: %s (%s) differs from llama-quantize's", kit,
                      stem, t->name, ckpt_type_name(t->type));
    }
    /* metadata: the same keys; the last two as llama-quantize appends them */
    size_t nkv = ckpt_gguf_n_kv(g);
    for (size_t i = 0; i < nkv; i++) {
        char *v = ql_kv(kit, kvname, ckpt_gguf_kv_at(g, i)->key);
        ck_assert_msg(v != NULL, "%s %s: unexpected key %s", kit, stem, ckpt_gguf_kv_at(g, i)->key);
        free(v);
    }
    char *kvpath = kit_path(kit, kvname);
    char *txt = tu_read_file(kvpath, NULL), *p = txt;
    size_t lines = 0;
    for (; *p; p++)
        lines += *p == '\n';
    free(txt);
    free(kvpath);
    ck_assert_uint_eq(nkv, lines);
    bool im = ckpt_gguf_find_kv(g, "quantize.imatrix.file") != NULL;
    ck_assert_str_eq(ckpt_gguf_kv_at(g, nkv - (im ? 5 : 1))->key, "general.file_type");
    ck_assert_str_eq(ckpt_gguf_kv_at(g, nkv - (im ? 6 : 2))->key, "general.quantization_version");
    static const char *keys[] = {"general.file_type", "quantize.imatrix.file",
                                 "quantize.imatrix.dataset", "quantize.imatrix.entries_count",
                                 "quantize.imatrix.chunks_count"};
    for (size_t k = 0; k < (im ? 5u : 1u); k++) {
        const struct ckpt_gguf_kv *kv = ckpt_gguf_find_kv(g, keys[k]);
        char *w = ql_kv(kit, kvname, keys[k]), got[256];
        if (kv->type == CKPT_GGUF_STRING)
            snprintf(got, sizeof got, "%s", kv->v.str.str);
        else
            snprintf(got, sizeof got, "%lld", kv->type == CKPT_GGUF_INT32 ? (long long)kv->v.i64
                                                                         : (long long)kv->v.u64);
        ck_assert_msg(w && strcmp(w, got) == 0, "%s %s: %s = %s, want %s", kit, stem, keys[k], got,
                      w);
        free(w);
    }
    ckpt_gguf_close(g);
    ql_free(&want);
    free(lname);
    free(kvname);
}

/* An f32 GGUF of the kit's checkpoint, as ckpt-convert writes it
 * (llama.cpp's convert-f32 tensors), at path. */
static void convert_f32(const char *kit, const char *path)
{
    char *rel = tu_fmt("models/%s", kit), *dir = tu_data(rel);
    struct ckpt_convert_opts o = {.input = dir, .output = path, .type = CKPT_TYPE_F32,
                                  .force = true, .n_threads = 2};
    ckpt_err err = {0};
    ck_assert_msg(ckpt_convert_run(&o, NULL, &err) == CKPT_OK, "%s", err.msg);
    free(dir);
    free(rel);
}

/* Every mix of the listings, with and without the imatrix, from the f32
 * GGUF (_i even) and from the model directory directly (_i odd). */
START_TEST(every_mix)
{
    static const char *mixes[] = {"Q8_0", "Q4_0",   "Q4_1",   "Q5_0",   "Q5_1",
                                  "Q2_K", "Q3_K_S", "Q3_K_M", "Q3_K_L", "Q4_K_S",
                                  "Q4_K_M", "Q5_K_S", "Q5_K_M", "Q6_K"};
    /* tiny-mistral-tokjson has tiny-mistral's tensors: once is enough */
    const char *kit = _i < 2 ? "tiny-mistral" : "tiny-mixtral";
    const bool from_dir = _i % 2;
    char *dir = tu_tmpdir();
    char *out = tu_fmt("%s/q.gguf", dir), *imp = kit_path(kit, "imatrix.dat"), *in;
    if (from_dir) {
        char *rel = tu_fmt("models/%s", kit);
        in = tu_data(rel);
        free(rel);
    } else {
        in = tu_fmt("%s/f32.gguf", dir);
        convert_f32(kit, in);
    }
    ckpt_imatrix *im = NULL;
    ckpt_err err = {0};
    ck_assert_int_eq(ckpt_imatrix_load(&im, imp, &err), CKPT_OK);
    for (size_t k = 0; k < sizeof mixes / sizeof mixes[0]; k++) {
        for (int with = 0; with < 2; with++) {
            if (with && k != 5 && k != 7 && k != 10)
                continue; /* the listings have Q2_K, Q3_K_M, Q4_K_M with the imatrix */
            char *stem = tu_fmt("quant-%s%s", mixes[k], with ? "-imatrix" : "");
            ck_assert_msg(quantize(in, out, (ckpt_mix)ckpt_mix_from_name(mixes[k]),
                                   with ? im : NULL, 2, NULL, &err) == CKPT_OK, "%s", err.msg);
            compare(kit, stem, out);
            free(stem);
        }
    }
    ckpt_imatrix_free(im);
    free(imp);
    free(in);
    free(out);
    tu_rmtree(dir);
    free(dir);
}
END_TEST

/* From the model directory, without provenance keys: llama-quantize's whole
 * Q4_K_M file (made from llama.cpp's f32 conversion), byte for byte -
 * except tiny-mistral-tokjson, whose vocabulary scores ckpt-convert keeps
 * from tokenizer.json on purpose: its tensors are compared instead. */
START_TEST(q4km_from_dir_whole_file)
{
    const char *kit = kits[_i];
    char *dir = tu_tmpdir();
    char *out = tu_fmt("%s/q.gguf", dir), *rel = tu_fmt("models/%s", kit), *in = tu_data(rel);
    ckpt_err err = {0};
    ck_assert_msg(quantize(in, out, CKPT_MIX_Q4_K_M, NULL, 2, NULL, &err) == CKPT_OK, "%s",
                  err.msg);
    if (strcmp(kit, "tiny-mistral-tokjson") == 0) {
        compare(kit, "quant-Q4_K_M", out);
    } else {
        char *want = ql_summary_sha(kit, "quant-Q4_K_M.gguf"), *got = file_sha(out);
        ck_assert_ptr_nonnull(want);
        ck_assert_str_eq(got, want);
        free(got);
        free(want);
    }
    free(in);
    free(rel);
    free(out);
    tu_rmtree(dir);
    free(dir);
}
END_TEST

/* The GGUF form of the same imatrix (sums = values * 64, counts 64) gives the same bytes. */
START_TEST(gguf_imatrix_same_bytes)
{
    const char *kit = "tiny-mixtral";
    char *dir = tu_tmpdir();
    char *a = tu_fmt("%s/a.gguf", dir), *b = tu_fmt("%s/b.gguf", dir);
    char *imp = tu_fmt("%s/i.gguf", dir);
    char *in = kit_path(kit, "convert-f16.gguf"), *dat = kit_path(kit, "imatrix.dat");
    ckpt_imatrix *im = NULL, *im2 = NULL;
    ckpt_err err = {0};
    ck_assert_int_eq(ckpt_imatrix_load(&im, dat, &err), CKPT_OK);
    ckpt_gguf_writer *w = NULL;
    ck_assert_int_eq(ckpt_gguf_writer_new(&w, imp, true, &err), CKPT_OK);
    ck_assert_int_eq(ckpt_gguf_writer_set_str(w, "general.type", "imatrix", &err), CKPT_OK);
    const char *ds[] = {"calib.txt"};
    ck_assert_int_eq(ckpt_gguf_writer_set_str_array(w, "imatrix.datasets", ds, NULL, 1, &err),
                     CKPT_OK);
    ck_assert_int_eq(ckpt_gguf_writer_set_u32(w, "imatrix.chunk_count", 16, &err), CKPT_OK);
    size_t n = ckpt_imatrix_n_entries(im);
    for (size_t i = 0; i < n; i++) {
        size_t nv;
        const char *name = ckpt_imatrix_entry(im, i, NULL, &nv);
        int64_t nmat = strstr(name, "_exps") ? 4 : 1, ne[2] = {(int64_t)nv / nmat, nmat},
                nc[2] = {1, nmat};
        char t[96];
        snprintf(t, sizeof t, "%s.in_sum2", name);
        ck_assert_int_eq(ckpt_gguf_writer_add_tensor(w, t, CKPT_TYPE_F32, 2, ne, &err), CKPT_OK);
        snprintf(t, sizeof t, "%s.counts", name);
        ck_assert_int_eq(ckpt_gguf_writer_add_tensor(w, t, CKPT_TYPE_F32, 2, nc, &err), CKPT_OK);
    }
    ck_assert_int_eq(ckpt_gguf_writer_begin(w, &err), CKPT_OK);
    for (size_t i = 0; i < n; i++) {
        size_t nv;
        const float *v;
        const char *name = ckpt_imatrix_entry(im, i, &v, &nv);
        float *s = malloc(nv * sizeof *s), c[4] = {64, 64, 64, 64};
        for (size_t j = 0; j < nv; j++)
            s[j] = v[j] * 64.0f; /* exact: a power of two */
        ck_assert_int_eq(ckpt_gguf_writer_write(w, s, nv * 4, &err), CKPT_OK);
        size_t nc = strstr(name, "_exps") ? 16 : 4;
        ck_assert_int_eq(ckpt_gguf_writer_write(w, c, nc, &err), CKPT_OK);
        free(s);
    }
    ck_assert_int_eq(ckpt_gguf_writer_finish(w, &err), CKPT_OK);
    ck_assert_msg(ckpt_imatrix_load(&im2, imp, &err) == CKPT_OK, "%s", err.msg);
    ck_assert_int_eq(quantize(in, a, CKPT_MIX_Q3_K_M, im, 2, NULL, &err), CKPT_OK);
    ck_assert_int_eq(quantize(in, b, CKPT_MIX_Q3_K_M, im2, 2, NULL, &err), CKPT_OK);
    char *ha = file_sha(a), *hb = file_sha(b);
    ck_assert_str_eq(ha, hb);
    free(ha);
    free(hb);
    ckpt_imatrix_free(im);
    ckpt_imatrix_free(im2);
    free(in);
    free(dat);
    free(a);
    free(b);
    free(imp);
    tu_rmtree(dir);
    free(dir);
}
END_TEST

START_TEST(threads_same_bytes)
{
    char *dir = tu_tmpdir();
    char *a = tu_fmt("%s/a.gguf", dir), *b = tu_fmt("%s/b.gguf", dir);
    char *in = kit_path("tiny-mixtral", "convert-f16.gguf");
    char *dat = kit_path("tiny-mixtral", "imatrix.dat");
    ckpt_imatrix *im = NULL;
    ckpt_err err = {0};
    ck_assert_int_eq(ckpt_imatrix_load(&im, dat, &err), CKPT_OK);
    static const ckpt_mix mixes[] = {CKPT_MIX_Q4_K_M, CKPT_MIX_Q2_K, CKPT_MIX_Q8_0};
    for (size_t k = 0; k < 3; k++) {
        ck_assert_int_eq(quantize(in, a, mixes[k], im, 1, NULL, &err), CKPT_OK);
        ck_assert_int_eq(quantize(in, b, mixes[k], im, 4, NULL, &err), CKPT_OK);
        char *ha = file_sha(a), *hb = file_sha(b);
        ck_assert_str_eq(ha, hb);
        free(ha);
        free(hb);
    }
    ckpt_imatrix_free(im);
    free(in);
    free(dat);
    free(a);
    free(b);
    tu_rmtree(dir);
    free(dir);
}
END_TEST

/* The default kernels (AVX2 where the CPU has it) and the scalar reference
 * write the same files, with and without the imatrix: Q4_K_M and Q5_K_M
 * between them use every quantizer that has an AVX2 sibling. */
START_TEST(ref_kernels_same_bytes)
{
    static const char *mixes[] = {"Q4_K_M", "Q5_K_M"};
    char *dir = tu_tmpdir();
    char *a = tu_fmt("%s/a.gguf", dir), *b = tu_fmt("%s/b.gguf", dir);
    char *in = kit_path("tiny-mistral", "convert-f16.gguf");
    char *dat = kit_path("tiny-mistral", "imatrix.dat");
    ckpt_imatrix *im = NULL;
    ckpt_err err = {0};
    ck_assert_int_eq(ckpt_imatrix_load(&im, dat, &err), CKPT_OK);
    for (size_t k = 0; k < sizeof mixes / sizeof mixes[0]; k++) {
        for (int with = 0; with < 2; with++) {
            const ckpt_mix mix = (ckpt_mix)ckpt_mix_from_name(mixes[k]);
            const ckpt_imatrix *w = with ? im : NULL;
            ck_assert_int_eq(quantize_isa(in, a, mix, w, 2, true, NULL, &err), CKPT_OK);
            ck_assert_int_eq(quantize_isa(in, b, mix, w, 2, false, NULL, &err), CKPT_OK);
            char *ha = file_sha(a), *hb = file_sha(b);
            ck_assert_msg(strcmp(ha, hb) == 0, "%s%s: reference and default kernels differ",
                          mixes[k], with ? " with the imatrix" : "");
            free(ha);
            free(hb);
        }
    }
    ckpt_imatrix_free(im);
    free(in);
    free(dat);
    free(a);
    free(b);
    tu_rmtree(dir);
    free(dir);
}
END_TEST

/* ---- a small model with a planted value ---- */

/* A 2-layer llama GGUF (f32, rows of 256) with `bad` at row 5, column 7 of
 * blk.1.attn_q.weight (which has 3 matrices when `stacked`). */
static void write_model(const char *path, float bad, bool stacked)
{
    ckpt_gguf_writer *w = NULL;
    ckpt_err err = {0};
    ck_assert_int_eq(ckpt_gguf_writer_new(&w, path, true, &err), CKPT_OK);
    ck_assert_int_eq(ckpt_gguf_writer_set_str(w, "general.architecture", "llama", &err), CKPT_OK);
    ck_assert_int_eq(ckpt_gguf_writer_set_u32(w, "llama.block_count", 2, &err), CKPT_OK);
    ck_assert_int_eq(ckpt_gguf_writer_set_u32(w, "general.file_type", 0, &err), CKPT_OK);
    static const char *names[] = {"token_embd.weight", "blk.0.attn_q.weight",
                                  "blk.1.attn_q.weight", "blk.1.attn_norm.weight"};
    int64_t ne[4][3] = {{256, 16, 1}, {256, 8, 1}, {256, 8, stacked ? 3 : 1}, {256, 1, 1}};
    for (int i = 0; i < 4; i++)
        ck_assert_int_eq(ckpt_gguf_writer_add_tensor(w, names[i], CKPT_TYPE_F32, i == 3 ? 1 : 3,
                                                     ne[i], &err), CKPT_OK);
    ck_assert_int_eq(ckpt_gguf_writer_begin(w, &err), CKPT_OK);
    for (int i = 0; i < 4; i++) {
        int64_t n = ne[i][0] * ne[i][1] * ne[i][2];
        float *f = malloc((size_t)n * sizeof *f);
        for (int64_t j = 0; j < n; j++)
            f[j] = 0.01f * (float)((j * 7919 + i) % 201 - 100);
        if (i == 2)
            f[(stacked ? 8 * 2 + 5 : 5) * 256 + 7] = bad;
        ck_assert_int_eq(ckpt_gguf_writer_write(w, f, (size_t)n * 4, &err), CKPT_OK);
        free(f);
    }
    ck_assert_int_eq(ckpt_gguf_writer_finish(w, &err), CKPT_OK);
}

START_TEST(bad_values_name_tensor_and_row)
{
    char *dir = tu_tmpdir();
    char *in = tu_fmt("%s/m.gguf", dir), *out = tu_fmt("%s/o.gguf", dir);
    static const struct {
        float v;
        bool stacked;
        ckpt_mix mix;
        const char *msg;
    } cases[] = {
        {NAN, false, CKPT_MIX_Q4_K_M,
         "tensor 'blk.1.attn_q.weight', row 5, column 7: value is nan"},
        {-INFINITY, true, CKPT_MIX_Q8_0,
         "tensor 'blk.1.attn_q.weight', row 21 (matrix 2, row 5), column 7: value is -inf"},
        {1e30f, false, CKPT_MIX_Q8_0, "tensor 'blk.1.attn_q.weight', row 5, block 0"},
        {1e30f, false, CKPT_MIX_F16, "row 5, column 7: value 1e+30 overflows f16"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        write_model(in, cases[k].v, cases[k].stacked);
        for (int threads = 1; threads <= 3; threads += 2) {
            ckpt_err err = {0};
            ck_assert_int_eq(quantize(in, out, cases[k].mix, NULL, threads, NULL, &err),
                             CKPT_E_VALUE);
            ck_assert_msg(strstr(err.msg, cases[k].msg), "case %zu: %s", k, err.msg);
            ck_assert_msg(strstr(err.msg, in), "no file name: %s", err.msg);
            ck_assert_int_ne(access(out, F_OK), 0);
        }
    }
    /* the tool: exit 2, the message, no output */
    write_model(in, NAN, false);
    char *tool = tu_tool("ckpt-quant");
    char *cmd = tu_fmt("%s -t Q4_K_M %s -o %s", tool, in, out), *e = NULL;
    ck_assert_int_eq(tu_run(cmd, NULL, &e), 2);
    ck_assert_ptr_nonnull(strstr(e, "blk.1.attn_q.weight', row 5"));
    ck_assert_int_ne(access(out, F_OK), 0);
    free(e);
    free(cmd);
    free(tool);
    free(in);
    free(out);
    tu_rmtree(dir);
    free(dir);
}
END_TEST

/* An empty tensor (ne0 = 0; gguf.cpp reads those) is quantized to nothing:
 * no division by a zero row size anywhere, the same tensor table out. */
START_TEST(empty_tensor_is_kept)
{
    char *dir = tu_tmpdir();
    char *in = tu_fmt("%s/m.gguf", dir), *out = tu_fmt("%s/o.gguf", dir);
    ckpt_gguf_writer *w = NULL;
    ckpt_err err = {0};
    ck_assert_int_eq(ckpt_gguf_writer_new(&w, in, true, &err), CKPT_OK);
    ck_assert_int_eq(ckpt_gguf_writer_set_str(w, "general.architecture", "llama", &err), CKPT_OK);
    ck_assert_int_eq(ckpt_gguf_writer_set_u32(w, "llama.block_count", 1, &err), CKPT_OK);
    ck_assert_int_eq(ckpt_gguf_writer_set_u32(w, "general.file_type", 0, &err), CKPT_OK);
    int64_t ne_w[2] = {256, 4}, ne_e[1] = {0}, ne_m[2] = {0, 3};
    ck_assert_int_eq(ckpt_gguf_writer_add_tensor(w, "blk.0.attn_q.weight", CKPT_TYPE_F32, 2, ne_w,
                                                 &err), CKPT_OK);
    ck_assert_int_eq(ckpt_gguf_writer_add_tensor(w, "blk.0.attn_norm.weight", CKPT_TYPE_F32, 1,
                                                 ne_e, &err), CKPT_OK);
    ck_assert_int_eq(ckpt_gguf_writer_add_tensor(w, "blk.0.attn_k.weight", CKPT_TYPE_F32, 2, ne_m,
                                                 &err), CKPT_OK);
    ck_assert_int_eq(ckpt_gguf_writer_begin(w, &err), CKPT_OK);
    float f[1024];
    for (int j = 0; j < 1024; j++)
        f[j] = 0.01f * (float)(j % 201 - 100);
    ck_assert_int_eq(ckpt_gguf_writer_write(w, f, sizeof f, &err), CKPT_OK);
    ck_assert_int_eq(ckpt_gguf_writer_finish(w, &err), CKPT_OK);
    static const ckpt_mix mixes[] = {CKPT_MIX_Q8_0, CKPT_MIX_Q4_K_M, CKPT_MIX_F16};
    for (size_t k = 0; k < sizeof mixes / sizeof mixes[0]; k++) {
        ckpt_err_clear(&err);
        ck_assert_msg(quantize(in, out, mixes[k], NULL, 2, NULL, &err) == CKPT_OK, "%s", err.msg);
        ckpt_gguf *g;
        ck_assert_int_eq(ckpt_gguf_open(&g, out, &err), CKPT_OK);
        ck_assert_uint_eq(ckpt_gguf_n_tensors(g), 3);
        for (size_t i = 0; i < 3; i++) {
            const struct ckpt_gguf_tensor *t = ckpt_gguf_tensor(g, i);
            ck_assert_uint_eq(t->n_bytes == 0, t->ne[0] == 0);
        }
        ckpt_gguf_close(g);
    }
    /* a zero in a higher dimension: refused by the reader, for every tool */
    ck_assert_int_eq(ckpt_gguf_writer_new(&w, in, true, &err), CKPT_OK);
    ck_assert_int_eq(ckpt_gguf_writer_set_str(w, "general.architecture", "llama", &err), CKPT_OK);
    int64_t ne_z[2] = {256, 0};
    ck_assert_int_eq(ckpt_gguf_writer_add_tensor(w, "blk.0.attn_q.weight", CKPT_TYPE_F32, 2, ne_z,
                                                 &err), CKPT_OK);
    ck_assert_int_eq(ckpt_gguf_writer_begin(w, &err), CKPT_OK);
    ck_assert_int_eq(ckpt_gguf_writer_finish(w, &err), CKPT_OK);
    ckpt_gguf *g;
    ckpt_err_clear(&err);
    ck_assert_int_eq(ckpt_gguf_open(&g, in, &err), CKPT_E_FORMAT);
    ck_assert_msg(strstr(err.msg, "'blk.0.attn_q.weight': dimension 1 is 0"), "%s", err.msg);
    char *tool = tu_tool("ckpt-inspect"), *cmd = tu_fmt("%s %s", tool, in);
    ck_assert_int_eq(tu_run(cmd, NULL, NULL), 2);
    free(tool), free(cmd);
    free(in), free(out);
    tu_rmtree(dir);
    free(dir);
}
END_TEST

START_TEST(existing_output)
{
    char *dir = tu_tmpdir();
    char *in = tu_fmt("%s/m.gguf", dir), *out = tu_fmt("%s/o.gguf", dir);
    write_model(in, 1.0f, false);
    ck_assert_int_eq(tu_write_file(out, "keep", 4), 0);
    struct ckpt_qsrc *src = NULL;
    ckpt_err err = {0};
    ck_assert_int_eq(ckpt_qsrc_open_gguf(&src, in, &err), CKPT_OK);
    struct ckpt_quant_opts o = {.mix = CKPT_MIX_Q8_0, .output_type = -1, .token_embd_type = -1,
                                .output = out};
    ck_assert_int_eq(ckpt_quant_run(src, &o, NULL, &err), CKPT_E_EXISTS);
    size_t n;
    char *keep = tu_read_file(out, &n);
    ck_assert_str_eq(keep, "keep");
    free(keep);
    o.force = true;
    ckpt_err_clear(&err);
    ck_assert_msg(ckpt_quant_run(src, &o, NULL, &err) == CKPT_OK, "%s", err.msg);
    ckpt_qsrc_close(src);
    ckpt_gguf *g = NULL;
    ck_assert_int_eq(ckpt_gguf_open(&g, out, &err), CKPT_OK);
    ck_assert_int_eq(ckpt_gguf_find_tensor(g, "blk.0.attn_q.weight")->type, CKPT_TYPE_Q8_0);
    ck_assert_int_eq(ckpt_gguf_find_tensor(g, "blk.1.attn_norm.weight")->type, CKPT_TYPE_F32);
    ckpt_gguf_close(g);
    free(in);
    free(out);
    tu_rmtree(dir);
    free(dir);
}
END_TEST

static void collect(void *ctx, int level, const char *msg)
{
    if (level <= 2)
        snprintf(ctx, 512, "%s", msg);
}

START_TEST(requantize_warns)
{
    char *dir = tu_tmpdir();
    char *out = tu_fmt("%s/o.gguf", dir), *in = kit_path("tiny-mistral", "quant-Q4_K_M.gguf");
    struct ckpt_qsrc *src = NULL;
    ckpt_err err = {0};
    char warning[512] = "";
    ck_assert_int_eq(ckpt_qsrc_open_gguf(&src, in, &err), CKPT_OK);
    struct ckpt_quant_opts o = {.mix = CKPT_MIX_Q6_K, .output_type = -1, .token_embd_type = -1,
                                .output = out, .message = collect, .cb_ctx = warning};
    struct ckpt_quant_report rep;
    ck_assert_msg(ckpt_quant_run(src, &o, &rep, &err) == CKPT_OK, "%s", err.msg);
    ck_assert_ptr_nonnull(strstr(warning, "already quantized"));
    ck_assert_uint_eq(rep.n_requantized, 25); /* the q4_K tensors; the q6_K ones are copied */
    for (size_t i = 0; i < rep.n; i++)
        ck_assert_int_eq(rep.t[i].type, rep.t[i].in_type == CKPT_TYPE_F32 ? CKPT_TYPE_F32
                                                                          : CKPT_TYPE_Q6_K);
    ckpt_quant_report_free(&rep);
    /* the same mix again: every tensor copied, nothing requantized, no warning */
    warning[0] = '\0';
    o.mix = CKPT_MIX_Q4_K_M;
    o.force = true;
    ck_assert_int_eq(ckpt_quant_run(src, &o, &rep, &err), CKPT_OK);
    ck_assert_uint_eq(rep.n_requantized, 0);
    ck_assert_str_eq(warning, "");
    char *a = file_sha(out), *b = file_sha(in);
    ck_assert_str_eq(a, b);
    free(a);
    free(b);
    ckpt_quant_report_free(&rep);
    ckpt_qsrc_close(src);
    free(in);
    free(out);
    tu_rmtree(dir);
    free(dir);
}
END_TEST

START_TEST(imatrix_wrong_size)
{
    char *dir = tu_tmpdir();
    char *in = tu_fmt("%s/m.gguf", dir), *out = tu_fmt("%s/o.gguf", dir);
    write_model(in, 1.0f, false);
    uint8_t dat[4 + 4 + 19 + 8 + 4 * 128];
    size_t n = 0;
    le32enc(dat, 1);
    le32enc(dat + 4, 19);
    memcpy(dat + 8, "blk.0.attn_q.weight", 19);
    le32enc(dat + 27, 1);
    le32enc(dat + 31, 128);
    for (n = 0; n < 128; n++) {
        float one = 1.0f;
        memcpy(dat + 35 + 4 * n, &one, 4);
    }
    ckpt_imatrix *im = NULL;
    ckpt_err err = {0};
    ck_assert_int_eq(ckpt_imatrix_load_buffer(&im, "i.dat", dat, sizeof dat, &err), CKPT_OK);
    ck_assert_int_eq(quantize(in, out, CKPT_MIX_Q4_K_M, im, 1, NULL, &err), CKPT_E_FORMAT);
    ck_assert_ptr_nonnull(strstr(err.msg, "blk.0.attn_q.weight"));
    ck_assert_int_ne(access(out, F_OK), 0);
    ckpt_imatrix_free(im);
    free(in);
    free(out);
    tu_rmtree(dir);
    free(dir);
}
END_TEST

Suite *quantize_suite(void)
{
    Suite *s = suite_create("quantize");
    TCase *tc = tcase_create("golden");
    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, q4km_from_f16_whole_file, 0, 6);
    tcase_add_loop_test(tc, q4km_from_dir_whole_file, 0, 3);
    tcase_add_loop_test(tc, every_mix, 0, 4);
    tcase_add_test(tc, gguf_imatrix_same_bytes);
    suite_add_tcase(s, tc);
    tc = tcase_create("driver");
    tcase_add_test(tc, threads_same_bytes);
    tcase_add_test(tc, ref_kernels_same_bytes);
    tcase_add_test(tc, bad_values_name_tensor_and_row);
    tcase_add_test(tc, empty_tensor_is_kept);
    tcase_add_test(tc, existing_output);
    tcase_add_test(tc, requantize_warns);
    tcase_add_test(tc, imatrix_wrong_size);
    suite_add_tcase(s, tc);
    return s;
}
