/*
 * check_fp8.c - FP8 (F8_E4M3, F8_E5M2) checkpoints in the model loader.  The
 * fixture generator writes the same random model twice: once with FP8
 * linear weights and their scale tensors (per tensor, per row, per
 * 128 x 128 block), once with those weights as F32 holding f32(fp8) *
 * scale.  Loaded and run, both must give bit-identical logits at every
 * position, for Mistral and Mixtral.  Plus hand-checked dequantized values
 * and the scale layouts that fit no weight.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "formats/fp8.h"
#include "formats/model_load.h"
#include "testutil.h"

static void gen(const char *args, const char *out)
{
    const char *bin = getenv("CKPT_TESTBIN");
    char *cmd = tu_fmt("'%s/gen_fixtures' %s '%s'", bin && *bin ? bin : "build/tests", args, out);
    char *err = NULL;
    ck_assert_msg(tu_run(cmd, NULL, &err) == 0, "%s: %s", cmd, err ? err : "");
    free(err);
    free(cmd);
}

/* Logits of every position of a fixed sequence (malloc'd, n * n_vocab). */
static float *all_logits(const char *dir, int64_t *n_vocab)
{
    ckpt_weights *w;
    ckpt_model *m;
    ckpt_err err = {0};
    ck_assert_msg(ckpt_weights_open(&w, dir, NULL, &err) == CKPT_OK, "%s", err.msg);
    struct ckpt_model_opts mo = {.n_ctx = 16, .n_threads = 2, .isa = -1};
    ck_assert_msg(ckpt_model_new(&m, ckpt_weights_config(w), ckpt_weights_views(w), &mo, &err) ==
                      CKPT_OK, "%s", err.msg);
    static const int32_t ids[] = {1, 17, 200, 3, 99, 42, 7, 255, 128, 64};
    *n_vocab = ckpt_weights_config(w)->n_vocab;
    float *lg = malloc(sizeof(float) * 10 * (size_t)*n_vocab);
    ck_assert_msg(ckpt_model_eval(m, ids, 10, lg, true, &err) == CKPT_OK, "%s", err.msg);
    ckpt_model_free(m);
    ckpt_weights_close(w);
    return lg;
}

static const char *const LAYOUTS[] = {"tensor", "row", "block"};

/* Loop index: layout (i % 3) and format (i / 3: E4M3, E5M2). */

START_TEST(fp8_logits_equal_dequantized_f32)
{
    for (int arch = 0; arch < 2; arch++) {
        char *dir = tu_tmpdir(), *a = tu_fmt("%s/fp8", dir), *b = tu_fmt("%s/f32", dir);
        /* 320 = 2.5 blocks of 128: partial blocks along both dimensions */
        char *args = tu_fmt("--arch %s --hidden 256 --ffn 320 --heads 4 --kv-heads 2 --fp8 %s "
                            "--fp8-format %s",
                            arch ? "mixtral" : "mistral", LAYOUTS[_i % 3], _i < 3 ? "e4m3" : "e5m2");
        char *args_d = tu_fmt("%s --fp8-dequant", args);
        gen(args, a);
        gen(args_d, b);
        int64_t va, vb;
        float *la = all_logits(a, &va), *lb = all_logits(b, &vb);
        ck_assert_int_eq(va, vb);
        ck_assert_msg(memcmp(la, lb, sizeof(float) * 10 * (size_t)va) == 0,
                      "%s %s: logits differ", arch ? "mixtral" : "mistral", args);
        free(la);
        free(lb);
        tu_rmtree(dir);
        free(dir);
        free(a);
        free(b);
        free(args);
        free(args_d);
    }
}
END_TEST

/* A tensor record over caller bytes. */
static struct ckpt_st_tensor tensor(const char *name, ckpt_dtype dt, int nd, uint64_t d0,
                                    uint64_t d1, const void *data)
{
    struct ckpt_st_tensor t = {.name = name, .dtype = dt, .n_dims = nd, .data = data};
    t.shape[0] = d0;
    t.shape[1] = d1;
    t.n_elements = nd == 0 ? 1 : nd == 1 ? d0 : d0 * d1;
    return t;
}

/* w times scale s (found under the _scale_inv name when inv) into out,
 * through the reader the converter and the loader share. */
static ckpt_status dequant(const struct ckpt_st_tensor *w, const struct ckpt_st_tensor *s, bool inv,
                           const uint32_t block[2], float *out, ckpt_err *err)
{
    struct ckpt_fp8_luts luts;
    struct ckpt_fp8 f;
    ckpt_fp8_luts_init(&luts);
    ckpt_status st = ckpt_fp8_layout_of(&f, w, s, inv, block, &luts, "m", err);
    for (uint64_t r = 0; st == CKPT_OK && r < w->shape[0]; r++)
        ckpt_fp8_row(&f, r, out + r * w->shape[1]);
    return st;
}

/* 0x38 = 1.0, 0x40 = 2.0, 0xC0 = -2.0, 0x7E = 448, 0x01 = 2^-9 (subnormal) */
START_TEST(fp8_values)
{
    static const uint8_t q[3 * 3] = {0x38, 0x40, 0xC0, 0x7E, 0x01, 0x38, 0x40, 0x38, 0x38};
    float out[9];
    /* blocks of 2 x 2 over 3 x 3: scales [[1, 2], [4, 8]] */
    static const float sb[4] = {1, 2, 4, 8};
    struct ckpt_st_tensor w = tensor("x.weight", CKPT_DT_F8_E4M3, 2, 3, 3, q);
    struct ckpt_st_tensor s = tensor("x.weight_scale_inv", CKPT_DT_F32, 2, 2, 2, sb);
    ck_assert(dequant(&w, &s, true, NULL, out, NULL) == CKPT_OK);
    static const float want_b[9] = {1, 2, -4, 448, 0x1p-9f, 2, 8, 4, 8};
    ck_assert(memcmp(out, want_b, sizeof out) == 0);
    /* per row, BF16 scales 0.5, 1, 0.25 (0x3F00, 0x3F80, 0x3E80) */
    static const uint16_t sr[3] = {0x3F00, 0x3F80, 0x3E80};
    s = tensor("x.weight_scale", CKPT_DT_BF16, 2, 3, 1, sr);
    ck_assert(dequant(&w, &s, false, NULL, out, NULL) == CKPT_OK);
    static const float want_r[9] = {0.5f, 1, -1, 448, 0x1p-9f, 1, 0.5f, 0.25f, 0.25f};
    ck_assert(memcmp(out, want_r, sizeof out) == 0);
    /* one scalar */
    static const float st[1] = {3};
    s = tensor("x.weight_scale", CKPT_DT_F32, 0, 1, 0, st);
    ck_assert(dequant(&w, &s, false, NULL, out, NULL) == CKPT_OK);
    ck_assert(out[0] == 3 && out[3] == 1344 && out[4] == 3 * 0x1p-9f);
    /* blocks: weight_block_size [2, 2] as config.json gives it; [1, 1] does not fit */
    s = tensor("x.weight_scale_inv", CKPT_DT_F32, 2, 2, 2, sb);
    static const uint32_t b22[2] = {2, 2}, b11[2] = {1, 1};
    ck_assert(dequant(&w, &s, true, b22, out, NULL) == CKPT_OK);
    ck_assert(memcmp(out, want_b, sizeof out) == 0);
    ck_assert(dequant(&w, &s, true, b11, out, NULL) == CKPT_E_FORMAT);
    /* E5M2: 0x3C = 1.0, 0x40 = 2.0, 0xC0 = -2.0, 0x7B = 57344, 0x01 = 2^-16 */
    static const uint8_t q5[2 * 3] = {0x3C, 0x40, 0xC0, 0x7B, 0x01, 0x3C};
    static const float half[1] = {0.5f};
    struct ckpt_st_tensor w5 = tensor("x.weight", CKPT_DT_F8_E5M2, 2, 2, 3, q5);
    s = tensor("x.weight_scale", CKPT_DT_F32, 0, 1, 0, half);
    ck_assert(dequant(&w5, &s, false, NULL, out, NULL) == CKPT_OK);
    static const float want5[6] = {0.5f, 1, -1, 28672, 0x1p-17f, 0.5f};
    ck_assert(memcmp(out, want5, sizeof want5) == 0);
}
END_TEST

START_TEST(fp8_bad_layouts)
{
    static const uint8_t q[4 * 4] = {0};
    static const float sc[16] = {0};
    float out[16];
    struct ckpt_st_tensor w = tensor("x.weight", CKPT_DT_F8_E4M3, 2, 4, 4, q);
    static const struct {
        int nd;
        uint64_t d0, d1;
        ckpt_dtype dt;
        bool inv;
        ckpt_status code;
        const char *msg;
    } cases[] = {
        {2, 3, 1, CKPT_DT_F32, false, CKPT_E_FORMAT, "shape [3, 1] does not fit weights [4, 4]"},
        {1, 2, 0, CKPT_DT_F32, false, CKPT_E_FORMAT, "shape [2] does not fit"},
        {2, 5, 1, CKPT_DT_F32, true, CKPT_E_FORMAT, "shape [5, 1] does not fit"},
        {1, 4, 0, CKPT_DT_F32, true, CKPT_E_FORMAT, "shape [4] does not fit"},
        /* a scale dtype is unsupported (not malformed), as a weight dtype is */
        {1, 4, 0, CKPT_DT_I32, false, CKPT_E_UNSUPPORTED, "scale dtype I32"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct ckpt_st_tensor s = tensor(cases[i].inv ? "x.weight_scale_inv" : "x.weight_scale",
                                         cases[i].dt, cases[i].nd, cases[i].d0, cases[i].d1, sc);
        ckpt_err err = {0};
        ck_assert_int_eq(dequant(&w, &s, cases[i].inv, NULL, out, &err), cases[i].code);
        ck_assert_msg(strstr(err.msg, cases[i].msg), "case %zu: %s", i, err.msg);
    }
    /* FP8 readers take F8_E4M3 and F8_E5M2 only */
    struct ckpt_st_tensor w8 = tensor("x.weight", CKPT_DT_F8_E8M0, 2, 4, 4, q);
    struct ckpt_st_tensor s = tensor("x.weight_scale", CKPT_DT_F32, 0, 1, 0, sc);
    ckpt_err err = {0};
    ck_assert_int_eq(dequant(&w8, &s, false, NULL, out, &err), CKPT_E_UNSUPPORTED);
}
END_TEST

/* An FP8 weight whose scale tensor is missing: the loader names both. */
START_TEST(fp8_missing_scale)
{
    char *dir = tu_tmpdir(), *a = tu_fmt("%s/fp8", dir);
    gen("--fp8 row", a);
    /* the same directory, with the scale tensors written under other names */
    char *path = tu_fmt("%s/model.safetensors", a);
    size_t n;
    char *bytes = tu_read_file(path, &n);
    ck_assert_ptr_nonnull(bytes);
    for (size_t i = 0; i + 12 <= n; i++)
        if (memcmp(bytes + i, "weight_scale", 12) == 0)
            memcpy(bytes + i, "weight_skale", 12);
    ck_assert_int_eq(tu_write_file(path, bytes, n), 0);
    ckpt_weights *w;
    ckpt_err err = {0};
    ck_assert_int_eq(ckpt_weights_open(&w, a, NULL, &err), CKPT_E_FORMAT);
    ck_assert_msg(strstr(err.msg, "q_proj.weight' is F8_E4M3 but has no") &&
                      strstr(err.msg, "q_proj.weight_scale_inv"), "%s", err.msg);
    free(bytes);
    free(path);
    tu_rmtree(dir);
    free(dir);
    free(a);
}
END_TEST

Suite *fp8_suite(void)
{
    Suite *s = suite_create("fp8");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 30);
    tcase_add_loop_test(tc, fp8_logits_equal_dequantized_f32, 0, 6);
    tcase_add_test(tc, fp8_values);
    suite_add_tcase(s, tc);
    tc = tcase_create("corrupt");
    tcase_add_test(tc, fp8_bad_layouts);
    tcase_add_test(tc, fp8_missing_scale);
    suite_add_tcase(s, tc);
    return s;
}
