/*
 * check_dot.c - the dot products: the documented summation order of the
 * reference, accuracy against double precision (including ggml's recorded
 * dot products of the vector rows), ckpt_dot_row against
 * dequantize-then-dot bit for bit for every supported type; then, for each
 * ISA: F16C widening is exact, a row against many vectors equals one dot
 * per vector bit for bit, every ISA is within its bound of the exact value,
 * and avx2 stays within this bound of ref (measured worst case printed at
 * CK_VERBOSE, 1.3e-7 on the development machine):
 *
 *     |avx2 - ref| <= 4e-6 * sum_i |w_i x_i|      (rows up to 4096)
 */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/dot.h"
#include "kernels/kernels_test.h"
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

/* ==== per ISA ==== */

static uint32_t rng = 12345;
static float frand(void)
{
    rng = rng * 1664525u + 1013904223u;
    return (float)((rng >> 8) & 0xffffff) / 16777216.0f * 2.0f - 1.0f;
}

/* A row of type t holding n values near 0.1 + 2cos(i) (ggml's test data),
 * stored at an odd address to prove no alignment is assumed; vals gets
 * the f32 values the row holds. */
static uint8_t *make_row(ckpt_type t, int64_t n, float *vals, uint8_t **base)
{
    size_t rb = 0;
    ck_assert(ckpt_type_row_bytes(t, n, &rb));
    *base = malloc(rb + 1);
    uint8_t *row = *base + 1;
    for (int64_t i = 0; i < n; i++)
        vals[i] = 0.1f + 2.0f * cosf((float)i + 0.5f) + 0.01f * frand();
    ck_assert_uint_eq(ckpt_quantize_rows_unchecked(t, vals, row, 1, n, NULL), rb);
    ck_assert(ckpt_dequantize_row(t, row, vals, n));
    return row;
}

static const int64_t lengths[] = {1, 7, 31, 32, 100, 255, 256, 257, 1000, 4096};
#define N_LEN (sizeof lengths / sizeof lengths[0])
#define N_TYPES (sizeof dot_types / sizeof dot_types[0])

static bool fits(ckpt_type t, int64_t n)
{
    return n % ckpt_type_traits(t)->block_elems == 0;
}

START_TEST(isa_names)
{
    ck_assert_int_eq(ckpt_isa_from_name("AVX2"), CKPT_ISA_AVX2);
    ck_assert_int_eq(ckpt_isa_from_name("ref"), CKPT_ISA_REF);
    ck_assert_int_eq(ckpt_isa_from_name("f64"), CKPT_ISA_F64);
    ck_assert_int_eq(ckpt_isa_from_name("Scalar"), CKPT_ISA_SCALAR);
    ck_assert_int_eq(ckpt_isa_from_name("neon"), -1);
    ck_assert_str_eq(ckpt_isa_name(CKPT_ISA_COUNT), "?");
    ck_assert_str_eq(ckpt_isa_name(CKPT_ISA_SCALAR), "scalar");
    ck_assert(ckpt_isa_available(ckpt_isa_default()));
    ck_assert(ckpt_isa_available(CKPT_ISA_SCALAR));
    /* one semantic for the default on every CPU, the oracle apart */
    ck_assert_str_eq(ckpt_isa_semantic(CKPT_ISA_AVX2), "q8");
    ck_assert_str_eq(ckpt_isa_semantic(CKPT_ISA_SCALAR), "q8");
    ck_assert_str_eq(ckpt_isa_semantic(CKPT_ISA_REF), "f32");
    ck_assert_str_eq(ckpt_isa_semantic(CKPT_ISA_F64), "f64");
    ck_assert_str_eq(ckpt_isa_semantic(CKPT_ISA_COUNT), "?");
    ck_assert_int_eq(ckpt_isa_from_name("avx512"), CKPT_ISA_AVX512);
    ck_assert_str_eq(ckpt_isa_semantic(CKPT_ISA_AVX512), "q8");
    /* avx512 is avx2 with wider tiles: never without it */
    ck_assert(!ckpt_isa_available(CKPT_ISA_AVX512) || ckpt_isa_available(CKPT_ISA_AVX2));
    if (!getenv("CKPT_ISA"))
        ck_assert_int_eq(ckpt_isa_default(), ckpt_isa_available(CKPT_ISA_AVX512) ? CKPT_ISA_AVX512
                                             : ckpt_isa_available(CKPT_ISA_AVX2) ? CKPT_ISA_AVX2
                                                                                 : CKPT_ISA_SCALAR);
}
END_TEST

START_TEST(f16c_widening_is_exact)
{
    if (!ckpt_isa_available(CKPT_ISA_AVX2))
        return;
    static const ckpt_type wide[] = {CKPT_TYPE_F16, CKPT_TYPE_BF16};
    float vals[4096], got[4096];
    for (size_t k = 0; k < 2; k++) {
        uint8_t *base, *row = make_row(wide[k], 4096, vals, &base);
        for (int64_t n = 1; n <= 4096; n += 333) {
            memset(got, 0, sizeof got);
            if (wide[k] == CKPT_TYPE_F16)
                ckpt_f16_to_f32_avx2(row, got, n);
            else
                ckpt_bf16_to_f32_avx2(row, got, n);
            ck_assert_mem_eq(got, vals, (size_t)n * 4);
        }
        free(base);
    }
    uint16_t sp[4] = {0x7c00, 0x7e01, 0x0001, 0x8000}; /* inf, nan, subnormal, -0 */
    float f[4];
    ckpt_f16_to_f32_avx2(sp, f, 4);
    ck_assert(isinf(f[0]) && isnan(f[1]) && f[2] == ldexpf(1.0f, -24) && signbit(f[3]));
}
END_TEST

/* F16C / AVX2 narrowing writes the scalar conversion's bytes: every f16
 * value widened, ties, overflow, subnormals, NaN payloads, and random bit
 * patterns, at lengths that leave a scalar tail. */
START_TEST(avx2_narrowing_is_the_scalar_bytes)
{
    if (!ckpt_isa_available(CKPT_ISA_AVX2))
        return;
    enum { N = 65536 + 4096 + 32 };
    float *x = malloc(sizeof(float) * N);
    uint16_t *a = malloc(2 * N), *b = malloc(2 * N);
    int64_t n = 0;
    for (uint32_t h = 0; h < 65536; h++)
        x[n++] = ckpt_f16_to_f32((uint16_t)h);
    uint32_t r = 12345u;
    for (int i = 0; i < 4096; i++) {
        r = r * 1664525u + 1013904223u;
        x[n++] = ckpt_f32_from_bits(r);
    }
    const uint32_t special[] = {0x477ff000u, 0x477fefffu, 0x33000000u, 0x33000001u,
                                0x7f800001u, 0xffc12345u, 0x7fffffffu, 0x387fe000u,
                                0x3f800fffu, 0x3f801000u, 0x3f803000u, 0x7f7fffffu,
                                0xff7fffffu, 0x80000000u, 0x00000001u, 0x7f800000u};
    for (size_t i = 0; i < sizeof special / sizeof special[0]; i++) {
        x[n++] = ckpt_f32_from_bits(special[i]);
        x[n++] = -ckpt_f32_from_bits(special[i]);
    }
    for (int64_t len = n; len > n - 9; len--) {
        memset(a, 0, 2 * N);
        memset(b, 0, 2 * N);
        ckpt_f32_to_f16_ref(x, a, len);
        ckpt_f32_to_f16_avx2(x, b, len);
        ck_assert_mem_eq(a, b, (size_t)(2 * len));
        ckpt_f32_to_bf16_ref(x, a, len);
        ckpt_f32_to_bf16_avx2(x, b, len);
        ck_assert_mem_eq(a, b, (size_t)(2 * len));
    }
    free(x);
    free(a);
    free(b);
}
END_TEST

/* Loop index = ISA x type. */
START_TEST(isa_within_bound_of_exact)
{
    ckpt_isa isa = (ckpt_isa)(_i / N_TYPES);
    ckpt_type t = dot_types[_i % N_TYPES];
    if (!ckpt_isa_available(isa))
        return;
    static float vals[4096], x[4096];
    for (int64_t i = 0; i < 4096; i++)
        x[i] = frand();
    for (size_t li = 0; li < N_LEN; li++) {
        int64_t n = lengths[li];
        if (!fits(t, n))
            continue;
        uint8_t *base, *row = make_row(t, n, vals, &base);
        double exact = 0, mag = 0;
        for (int64_t i = 0; i < n; i++) {
            exact += (double)vals[i] * x[i];
            mag += fabs((double)vals[i] * x[i]);
        }
        double got = ckpt_dot_row_isa(isa, t, row, x, n);
        double bound = isa == CKPT_ISA_F64 ? 0x1p-24 * fabs(exact) + 1e-12 * mag : 1e-5 * mag;
        ck_assert_msg(fabs(got - exact) <= bound, "%s %s n=%lld: %.9g vs %.9g", ckpt_isa_name(isa),
                      ckpt_type_name(t), (long long)n, got, exact);
        if (isa == CKPT_ISA_REF)
            ck_assert(ckpt_f32_bits((float)got) == ckpt_f32_bits(ckpt_dot_row(t, row, x, n)));
        free(base);
    }
}
END_TEST

START_TEST(many_vectors_equal_one_at_a_time)
{
    ckpt_isa isa = (ckpt_isa)(_i / N_TYPES);
    ckpt_type t = dot_types[_i % N_TYPES];
    if (!ckpt_isa_available(isa))
        return;
    enum { M = 45, N = 768, LD = 771 };
    float *x = malloc(sizeof(float) * M * LD), vals[N], out[M * 3];
    for (int64_t i = 0; i < M * LD; i++)
        x[i] = frand();
    uint8_t *base, *row = make_row(t, N, vals, &base);
    ckpt_dot_rows(isa, t, row, N, x, LD, M, out, 3);
    for (int j = 0; j < M; j++) {
        float one = ckpt_dot_row_isa(isa, t, row, x + j * LD, N);
        ck_assert(ckpt_f32_bits(out[j * 3]) == ckpt_f32_bits(one));
    }
    free(base);
    free(x);
}
END_TEST

/* The scalar twin of the AVX2 f32 dot (attention scores, and the chunk
 * dots of the scalar ISA) gives its bits at every length: the 32-element
 * steps, the 8-element steps and the tail; with large and tiny values. */
START_TEST(scalar_fma_dot_is_the_avx2_bits)
{
    if (!ckpt_isa_available(CKPT_ISA_AVX2))
        return;
    static float w[1100], x[1100];
    for (int rep = 0; rep < 3; rep++) {
        for (int i = 0; i < 1100; i++) {
            w[i] = frand() * (rep == 1 ? 1e4f : 1.0f);
            x[i] = frand() * (rep == 2 ? 1e-3f : 1.0f);
        }
        for (int64_t n = 0; n <= 1100; n += n < 80 ? 1 : 37) {
            ck_assert_msg(ckpt_f32_bits(ckpt_dot_f32_fma(w, x, n)) ==
                              ckpt_f32_bits(ckpt_dot_f32_avx2(w, x, n)),
                          "n=%lld", (long long)n);
            struct ckpt_dot_acc a = {0}, b = {0};
            ckpt_dot_chunk_fma(&a, w, x, n);
            ckpt_dot_chunk_fma(&a, x, w, n / 2);
            ckpt_dot_chunk_avx2(&b, w, x, n);
            ckpt_dot_chunk_avx2(&b, x, w, n / 2);
            ck_assert(ckpt_f32_bits(ckpt_dot_sum_fma(&a)) == ckpt_f32_bits(ckpt_dot_sum_avx2(&b)));
        }
    }
    /* and so whole rows of every type through the row loop */
    static float vals[4096], xs[4096];
    for (int64_t i = 0; i < 4096; i++)
        xs[i] = frand();
    for (size_t k = 0; k < N_TYPES; k++)
        for (size_t li = 0; li < N_LEN; li++) {
            int64_t n = lengths[li];
            if (!fits(dot_types[k], n))
                continue;
            uint8_t *base, *row = make_row(dot_types[k], n, vals, &base);
            float a = ckpt_dot_row_isa(CKPT_ISA_SCALAR, dot_types[k], row, xs, n);
            float b = ckpt_dot_row_isa(CKPT_ISA_AVX2, dot_types[k], row, xs, n);
            ck_assert_msg(ckpt_f32_bits(a) == ckpt_f32_bits(b), "%s n=%lld",
                          ckpt_type_name(dot_types[k]), (long long)n);
            free(base);
        }
}
END_TEST

/* Attention's weighted sum in AVX2 and AVX-512 registers, and the
 * AVX-512 sums of two and four heads over the same values, give the
 * scalar loop's bits for head sizes of whole registers, of 64-, 112- and
 * 128-column passes, of 16-column passes after them and of odd tails,
 * with strided value rows and large and tiny weights. */
START_TEST(avx2_weighted_sum_is_the_scalar_bits)
{
    if (!ckpt_isa_available(CKPT_ISA_AVX2))
        return;
    const struct ckpt_kernels *avx512 = ckpt_kernels_of(CKPT_ISA_AVX512);
    static const int64_t hds[] = {1, 8, 13, 16, 64, 72, 112, 128, 131, 144, 160};
    static float s[300], v[300 * 160], a[160], b[160];
    for (int i = 0; i < 300; i++)
        s[i] = frand() * (i % 7 == 3 ? 1e4f : 1.0f) * (i % 5 == 1 ? 1e-4f : 1.0f);
    for (int i = 0; i < 300 * 160; i++)
        v[i] = frand();
    for (size_t h = 0; h < sizeof hds / sizeof hds[0]; h++)
        for (int64_t n = 0; n <= 300; n += n < 10 ? 1 : 97) {
            ckpt_weighted_sum_f32(a, s, v, n, 160, hds[h]);
            ckpt_weighted_sum_f32_avx2(b, s, v, n, 160, hds[h]);
            for (int64_t d = 0; d < hds[h]; d++)
                ck_assert_msg(ckpt_f32_bits(a[d]) == ckpt_f32_bits(b[d]),
                              "hd=%lld n=%lld column %lld", (long long)hds[h], (long long)n,
                              (long long)d);
            if (!avx512)
                continue;
            avx512->weighted_sum(b, s, v, n, 160, hds[h]);
            for (int64_t d = 0; d < hds[h]; d++)
                ck_assert_msg(ckpt_f32_bits(a[d]) == ckpt_f32_bits(b[d]),
                              "avx512 hd=%lld n=%lld column %lld", (long long)hds[h],
                              (long long)n, (long long)d);
            /* two heads over the same values: the second head's weights
             * are the first's, reversed */
            static float s2[300], a2[160], b2[2][160];
            for (int64_t k = 0; k < n; k++)
                s2[k] = s[n - 1 - k];
            ckpt_weighted_sum_f32(a2, s2, v, n, 160, hds[h]);
            avx512->weighted_sum2(b2[0], b2[1], s, s2, v, n, 160, hds[h]);
            for (int64_t d = 0; d < hds[h]; d++)
                ck_assert_msg(ckpt_f32_bits(a[d]) == ckpt_f32_bits(b2[0][d]) &&
                                  ckpt_f32_bits(a2[d]) == ckpt_f32_bits(b2[1][d]),
                              "avx512 two heads hd=%lld n=%lld column %lld", (long long)hds[h],
                              (long long)n, (long long)d);
            /* four heads: the two above, then the first's weights times
             * -1e-3 and the second's halved */
            static float s4[2][300], a4[2][160], b4[4][160];
            for (int64_t k = 0; k < n; k++) {
                s4[0][k] = s[k] * -1e-3f;
                s4[1][k] = s2[k] * 0.5f;
            }
            ckpt_weighted_sum_f32(a4[0], s4[0], v, n, 160, hds[h]);
            ckpt_weighted_sum_f32(a4[1], s4[1], v, n, 160, hds[h]);
            float *const o4[4] = {b4[0], b4[1], b4[2], b4[3]};
            const float *const w4[4] = {s, s2, s4[0], s4[1]};
            avx512->weighted_sum4(o4, w4, v, n, 160, hds[h]);
            int64_t wrong = 0; /* one assertion a case: Check writes each */
            for (int64_t d = 0; d < hds[h]; d++)
                wrong += ckpt_f32_bits(a[d]) != ckpt_f32_bits(b4[0][d]) ||
                         ckpt_f32_bits(a2[d]) != ckpt_f32_bits(b4[1][d]) ||
                         ckpt_f32_bits(a4[0][d]) != ckpt_f32_bits(b4[2][d]) ||
                         ckpt_f32_bits(a4[1][d]) != ckpt_f32_bits(b4[3][d]);
            ck_assert_msg(wrong == 0, "avx512 four heads hd=%lld n=%lld: %lld columns differ",
                          (long long)hds[h], (long long)n, (long long)wrong);
        }
}
END_TEST

/* The scores of four heads against a run of keys (the avx512 table's
 * scores4) are its dot_f32's bits divided once, head by head and key by
 * key: head sizes below, at and past one and four registers and past the
 * kernel's largest, with odd tails, strided heads and keys, odd and even
 * key counts, values spanning many exponents, and a NaN that stays in its
 * own head. */
START_TEST(scores4_is_the_dots_bits)
{
    const struct ckpt_kernels *avx512 = ckpt_kernels_of(CKPT_ISA_AVX512);
    if (!avx512 || !avx512->scores4)
        return;
    enum { NMAX = 300, KEYS = 5 };
    static float q[4 * (NMAX + 3)], k[KEYS * (NMAX + 3)], s[4 * 8];
    for (int i = 0; i < 4 * (NMAX + 3); i++)
        q[i] = frand() * (i % 11 == 2 ? 1e5f : 1.0f) * (i % 13 == 5 ? 1e-5f : 1.0f);
    for (int i = 0; i < KEYS * (NMAX + 3); i++)
        k[i] = frand() * (i % 7 == 1 ? 1e3f : 1.0f);
    for (int64_t n = 0; n <= NMAX; n += n < 40 ? 1 : 37)
        for (int64_t ld = n; ld <= n + 3; ld += 3)
            for (int64_t nk = 1; nk <= KEYS; nk += 3) {
                avx512->scores4(q, ld, k, ld, nk, n, 11.3137f, s, 8);
                for (int d = 0; d < 4; d++)
                    for (int64_t j = 0; j < nk; j++)
                        ck_assert_msg(ckpt_f32_bits(s[d * 8 + j]) ==
                                          ckpt_f32_bits(avx512->dot_f32(q + d * ld, k + j * ld, n) /
                                                        11.3137f),
                                      "n=%lld ld=%lld keys %lld head %d key %lld", (long long)n,
                                      (long long)ld, (long long)nk, d, (long long)j);
            }
    q[128 + 5] = NAN;
    avx512->scores4(q, 128, k, 128, 2, 128, 1.0f, s, 8);
    for (int j = 0; j < 2; j++)
        ck_assert(!isnan(s[j]) && isnan(s[8 + j]) && !isnan(s[16 + j]) && !isnan(s[24 + j]));
}
END_TEST

START_TEST(avx2_within_bound_of_ref)
{
    if (!ckpt_isa_available(CKPT_ISA_AVX2))
        return;
    static float vals[4096], x[4096];
    double worst = 0;
    for (int rep = 0; rep < 4; rep++) {
        for (int64_t i = 0; i < 4096; i++)
            x[i] = frand() * (rep % 2 ? 100.0f : 1.0f);
        for (size_t k = 0; k < N_TYPES; k++)
            for (size_t li = 0; li < N_LEN; li++) {
                int64_t n = lengths[li];
                if (!fits(dot_types[k], n))
                    continue;
                uint8_t *base, *row = make_row(dot_types[k], n, vals, &base);
                double mag = 0;
                for (int64_t i = 0; i < n; i++)
                    mag += fabs((double)vals[i] * x[i]);
                float r = ckpt_dot_row_isa(CKPT_ISA_REF, dot_types[k], row, x, n);
                float a = ckpt_dot_row_isa(CKPT_ISA_AVX2, dot_types[k], row, x, n);
                double rel = fabs((double)a - r) / mag;
                if (rel > worst)
                    worst = rel;
                ck_assert_msg(rel <= 4e-6, "%s n=%lld: avx2 %.9g ref %.9g",
                              ckpt_type_name(dot_types[k]), (long long)n, a, r);
                free(base);
            }
    }
    if (getenv("CK_VERBOSE"))
        fprintf(stderr, "dot: worst |avx2 - ref| / sum|w x| = %.3g\n", worst);
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
    tcase_add_test(tc, isa_names);
    tcase_add_test(tc, f16c_widening_is_exact);
    tcase_add_test(tc, avx2_narrowing_is_the_scalar_bytes);
    tcase_add_loop_test(tc, isa_within_bound_of_exact, 0, (int)(CKPT_ISA_COUNT * N_TYPES));
    tcase_add_loop_test(tc, many_vectors_equal_one_at_a_time, 0, (int)(CKPT_ISA_COUNT * N_TYPES));
    tcase_add_test(tc, avx2_within_bound_of_ref);
    tcase_add_test(tc, scalar_fma_dot_is_the_avx2_bits);
    tcase_add_test(tc, avx2_weighted_sum_is_the_scalar_bits);
    tcase_add_test(tc, scores4_is_the_dots_bits);
    suite_add_tcase(s, tc);
    tc = tcase_create("limits");
    tcase_add_test(tc, dot_row_rejects);
    suite_add_tcase(s, tc);
    return s;
}
