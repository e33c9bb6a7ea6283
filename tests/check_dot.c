/*
 * check_dot.c - the reference dot products: the documented summation
 * order, accuracy against double precision (including ggml's recorded
 * dot products of the vector rows), and ckpt_dot_row against
 * dequantize-then-dot, bit for bit, for every supported type.
 */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/dot.h"
#include "kernels/fp16.h"
#include "kernels/quant.h"
#include "kernels/types.h"
#include "testutil.h"

#define N_ROWS 20
#define N_COLS 1024

static float *load_inputs(void)
{
    char *p = tu_data("vectors/ggml-quants/inputs.f32");
    size_t n = 0;
    float *x = tu_read_file(p, &n);
    ck_assert_ptr_nonnull(x);
    ck_assert_uint_eq(n, N_ROWS * N_COLS * 4);
    free(p);
    return x;
}

/* |got - exact| within float summation error of n terms: 1e-5 * sum |a b| */
static void assert_close(const char *what, float got, double exact, double abs_sum)
{
    ck_assert_msg(fabs((double)got - exact) <= 1e-5 * abs_sum + 1e-30,
                  "%s: %.9g vs exact %.9g (sum |ab| %g)", what, (double)got, exact, abs_sum);
}

START_TEST(vec_dot_order)
{
    /* the documented order, written out for 21 elements (two full rounds + tail) */
    float a[21], b[21];
    for (int i = 0; i < 21; ++i) {
        a[i] = 1.0f / (float)(i + 1);
        b[i] = (float)(i % 5) - 1.7f;
    }
    float l[8] = {0};
    for (int i = 0; i < 21; ++i)
        l[i % 8] += a[i] * b[i];
    float want = ((l[0] + l[4]) + (l[2] + l[6])) + ((l[1] + l[5]) + (l[3] + l[7]));
    ck_assert(ckpt_f32_bits(ckpt_vec_dot_f32(a, b, 21)) == ckpt_f32_bits(want));
    ck_assert(ckpt_vec_dot_f32(a, b, 0) == 0.0f);
    ck_assert(ckpt_vec_dot_f32(a, b, 1) == a[0] * b[0]);
}
END_TEST

/* dot.bin records Σ x[wrow]·x[arow] on the raw inputs in double: agree */
START_TEST(vec_dot_matches_ggml_raw_dots)
{
    float *x = load_inputs();
    char *p = tu_data("vectors/ggml-quants/dot.bin");
    size_t n = 0;
    uint8_t *rec = tu_read_file(p, &n);
    ck_assert_ptr_nonnull(rec);
    ck_assert_uint_eq(n, 56 * 40);
    for (int r = 0; r < 56; ++r) {
        int32_t wrow, arow;
        double raw;
        memcpy(&wrow, rec + 40 * r + 8, 4);
        memcpy(&arow, rec + 40 * r + 12, 4);
        memcpy(&raw, rec + 40 * r + 32, 8);
        ck_assert(wrow >= 0 && wrow < N_ROWS && arow >= 0 && arow < N_ROWS);
        const float *a = x + wrow * N_COLS, *b = x + arow * N_COLS;
        double abs_sum = 0;
        for (int i = 0; i < N_COLS; ++i)
            abs_sum += fabs((double)a[i] * b[i]);
        char *what = tu_fmt("record %d (rows %d, %d)", r, wrow, arow);
        assert_close(what, ckpt_vec_dot_f32(a, b, N_COLS), raw, abs_sum);
        free(what);
    }
    free(rec);
    free(p);
    free(x);
}
END_TEST

static const ckpt_type dot_types[] = {
    CKPT_TYPE_F32,  CKPT_TYPE_F16,  CKPT_TYPE_BF16, CKPT_TYPE_Q4_0, CKPT_TYPE_Q4_1,
    CKPT_TYPE_Q5_0, CKPT_TYPE_Q5_1, CKPT_TYPE_Q8_0, CKPT_TYPE_Q2_K, CKPT_TYPE_Q3_K,
    CKPT_TYPE_Q4_K, CKPT_TYPE_Q5_K, CKPT_TYPE_Q6_K, CKPT_TYPE_Q8_K, CKPT_TYPE_IQ4_NL,
};

/* ckpt_dot_row == ckpt_vec_dot_f32(dequantized row, x), bit for bit */
START_TEST(dot_row_equals_dequantize_then_dot)
{
    const ckpt_type t = dot_types[_i];
    ck_assert(ckpt_dot_supported(t));
    float *x = load_inputs();
    static const int rows[][2] = {{0, 0}, {1, 2}, {0, 13}, {6, 1}, {15, 16}, {2, 18}, {19, 14}};
    size_t rb = 0;
    ck_assert(ckpt_type_row_bytes(t, N_COLS, &rb));
    uint8_t *q = malloc(rb);
    float *deq = malloc(N_COLS * sizeof(float));
    for (size_t k = 0; k < sizeof rows / sizeof rows[0]; ++k) {
        const float *w = x + rows[k][0] * N_COLS, *a = x + rows[k][1] * N_COLS;
        ck_assert_uint_eq(ckpt_quantize_rows_unchecked(t, w, q, 1, N_COLS, NULL), rb);
        ck_assert(ckpt_dequantize_row(t, q, deq, N_COLS));
        float want = ckpt_vec_dot_f32(deq, a, N_COLS);
        float got = ckpt_dot_row(t, q, a, N_COLS);
        ck_assert_msg(ckpt_f32_bits(got) == ckpt_f32_bits(want), "%s rows (%d,%d): %.9g vs %.9g",
                      ckpt_type_name(t), rows[k][0], rows[k][1], (double)got, (double)want);
        double exact = 0, abs_sum = 0;
        for (int i = 0; i < N_COLS; ++i) {
            exact += (double)deq[i] * a[i];
            abs_sum += fabs((double)deq[i] * a[i]);
        }
        assert_close(ckpt_type_name(t), got, exact, abs_sum);
    }
    /* a plain row whose length is not a multiple of 8 */
    if (t == CKPT_TYPE_F16) {
        ckpt_quantize_rows_unchecked(t, x, q, 1, 1021, NULL);
        ckpt_dequantize_row(t, q, deq, 1021);
        ck_assert(ckpt_f32_bits(ckpt_dot_row(t, q, x + N_COLS, 1021)) ==
                  ckpt_f32_bits(ckpt_vec_dot_f32(deq, x + N_COLS, 1021)));
    }
    free(deq);
    free(q);
    free(x);
}
END_TEST

START_TEST(dot_row_rejects)
{
    static uint8_t q[1024];
    static float x[256];
    ck_assert(isnan(ckpt_dot_row(CKPT_TYPE_Q4_K, q, x, 128)));
    ck_assert(isnan(ckpt_dot_row(CKPT_TYPE_IQ2_XXS, q, x, 256)));
    ck_assert(isnan(ckpt_dot_row((ckpt_type)99, q, x, 256)));
    ck_assert(!ckpt_dot_supported(CKPT_TYPE_Q8_1));
    ck_assert(ckpt_dot_row(CKPT_TYPE_Q8_0, q, x, 0) == 0.0f);
}
END_TEST

Suite *dot_suite(void)
{
    Suite *s = suite_create("dot");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, vec_dot_order);
    tcase_add_test(tc, vec_dot_matches_ggml_raw_dots);
    tcase_add_loop_test(tc, dot_row_equals_dequantize_then_dot, 0,
                        (int)(sizeof dot_types / sizeof dot_types[0]));
    suite_add_tcase(s, tc);
    tc = tcase_create("limits");
    tcase_add_test(tc, dot_row_rejects);
    suite_add_tcase(s, tc);
    return s;
}
