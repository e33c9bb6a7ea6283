/*
 * check_dot.c - weight-row dot products, once per ISA: widening F16/BF16
 * is exact, a row against many vectors equals one dot per vector bit for
 * bit, every ISA stays within its error bound of the exact (double) value,
 * and avx2 stays within its bound of the scalar reference:
 *
 *     |avx2 - ref| <= 4e-6 * sum_i |w_i x_i|     (n <= 4096)
 *
 * (both are f32 sums of n <= 4096 products in a different order, one with
 * FMA; the measured worst case on the data below is printed at CK_VERBOSE).
 */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/dot.h"
#include "kernels/dot_kernels.h"
#include "kernels/fp16.h"

static const int64_t lengths[] = {1, 7, 31, 32, 100, 255, 256, 257, 1000, 4096};
#define N_LEN (sizeof lengths / sizeof lengths[0])
static const ckpt_type plain[] = {CKPT_TYPE_F32, CKPT_TYPE_F16, CKPT_TYPE_BF16};

static uint32_t rng = 12345;
static float frand(void)
{
    rng = rng * 1664525u + 1013904223u;
    return (float)((rng >> 8) & 0xffffff) / 16777216.0f * 2.0f - 1.0f;
}

/* A row of type t holding n values near 0.1 + 2cos(i) (ggml's test data),
 * stored at an odd address to prove no alignment is assumed; vals gets
 * the exact f32 values the row holds. */
static uint8_t *make_row(ckpt_type t, int64_t n, float *vals, uint8_t **base)
{
    size_t es = t == CKPT_TYPE_F32 ? 4 : 2;
    *base = malloc((size_t)n * es + 1);
    uint8_t *row = *base + 1;
    for (int64_t i = 0; i < n; i++) {
        float v = 0.1f + 2.0f * cosf((float)i + 0.5f) + 0.01f * frand();
        if (t == CKPT_TYPE_F32) {
            memcpy(row + 4 * i, &v, 4);
        } else {
            uint16_t h = t == CKPT_TYPE_F16 ? ckpt_f32_to_f16(v) : ckpt_f32_to_bf16(v);
            row[2 * i] = (uint8_t)h;
            row[2 * i + 1] = (uint8_t)(h >> 8);
            v = t == CKPT_TYPE_F16 ? ckpt_f16_to_f32(h) : ckpt_bf16_to_f32(h);
        }
        vals[i] = v;
    }
    return row;
}

START_TEST(plain_types_supported)
{
    ck_assert(ckpt_dot_supports(CKPT_TYPE_F32));
    ck_assert(ckpt_dot_supports(CKPT_TYPE_F16));
    ck_assert(ckpt_dot_supports(CKPT_TYPE_BF16));
    ck_assert(!ckpt_dot_supports((ckpt_type)4)); /* a removed id */
    ck_assert(!ckpt_dot_supports(CKPT_TYPE_COUNT));
    ck_assert_int_eq(ckpt_isa_from_name("AVX2"), CKPT_ISA_AVX2);
    ck_assert_int_eq(ckpt_isa_from_name("ref"), CKPT_ISA_REF);
    ck_assert_int_eq(ckpt_isa_from_name("neon"), -1);
    ck_assert(ckpt_isa_available(ckpt_isa_default()));
}
END_TEST

START_TEST(widening_is_exact)
{
    float vals[4096], got[4096];
    for (size_t k = 0; k < 3; k++) {
        uint8_t *base, *row = make_row(plain[k], 4096, vals, &base);
        ckpt_dot_to_f32(plain[k], row, got, 4096);
        ck_assert_mem_eq(got, vals, sizeof vals);
        if (ckpt_isa_available(CKPT_ISA_AVX2) && plain[k] != CKPT_TYPE_F32) {
            for (int64_t n = 1; n <= 4096; n += 333) {
                memset(got, 0, sizeof got);
                if (plain[k] == CKPT_TYPE_F16)
                    ckpt_f16_to_f32_avx2(row, got, n);
                else
                    ckpt_bf16_to_f32_avx2(row, got, n);
                ck_assert_mem_eq(got, vals, (size_t)n * 4);
            }
        }
        free(base);
    }
    /* specials survive: inf, nan, subnormal, -0 */
    uint16_t sp[4] = {0x7c00, 0x7e01, 0x0001, 0x8000};
    float f[4];
    ckpt_dot_to_f32(CKPT_TYPE_F16, sp, f, 4);
    ck_assert(isinf(f[0]) && isnan(f[1]) && f[2] == ldexpf(1.0f, -24) && signbit(f[3]));
}
END_TEST

/* Loop index = ISA. */
START_TEST(row_matches_exact_within_bound)
{
    ckpt_isa isa = (ckpt_isa)_i;
    if (!ckpt_isa_available(isa))
        return;
    float vals[4096], x[4096];
    for (int64_t i = 0; i < 4096; i++)
        x[i] = frand();
    for (size_t k = 0; k < 3; k++)
        for (size_t li = 0; li < N_LEN; li++) {
            int64_t n = lengths[li];
            uint8_t *base, *row = make_row(plain[k], n, vals, &base);
            double exact = 0, mag = 0;
            for (int64_t i = 0; i < n; i++) {
                exact += (double)vals[i] * x[i];
                mag += fabs((double)vals[i] * x[i]);
            }
            double got = ckpt_dot_row_isa(isa, plain[k], row, x, n);
            /* f32 sums of chunks of 256: error <= (256 + n/256) * 2^-24 * mag */
            double bound = isa == CKPT_ISA_F64 ? 1e-7 * mag : (256.0 + n / 256.0) * 0x1p-24 * mag;
            ck_assert_msg(fabs(got - exact) <= bound, "%s %s n=%lld: %.9g vs %.9g",
                          ckpt_isa_name(isa), ckpt_type_name(plain[k]), (long long)n, got, exact);
            free(base);
        }
}
END_TEST

START_TEST(many_vectors_equal_one_at_a_time)
{
    ckpt_isa isa = (ckpt_isa)_i;
    if (!ckpt_isa_available(isa))
        return;
    enum { M = 45, N = 600, LD = 613 };
    float *x = malloc(sizeof(float) * M * LD), vals[N], out[M * 3];
    for (int64_t i = 0; i < M * LD; i++)
        x[i] = frand();
    for (size_t k = 0; k < 3; k++) {
        uint8_t *base, *row = make_row(plain[k], N, vals, &base);
        ckpt_dot_rows(isa, plain[k], row, N, x, LD, M, out, 3);
        for (int j = 0; j < M; j++) {
            float one = ckpt_dot_row_isa(isa, plain[k], row, x + j * LD, N);
            ck_assert_mem_eq(&out[j * 3], &one, sizeof one);
        }
        free(base);
    }
    free(x);
}
END_TEST

START_TEST(avx2_within_bound_of_ref)
{
    if (!ckpt_isa_available(CKPT_ISA_AVX2))
        return;
    float vals[4096], x[4096];
    double worst = 0;
    for (int rep = 0; rep < 20; rep++) {
        for (int64_t i = 0; i < 4096; i++)
            x[i] = frand() * (rep % 2 ? 100.0f : 1.0f);
        for (size_t k = 0; k < 3; k++)
            for (size_t li = 0; li < N_LEN; li++) {
                int64_t n = lengths[li];
                uint8_t *base, *row = make_row(plain[k], n, vals, &base);
                double mag = 0;
                for (int64_t i = 0; i < n; i++)
                    mag += fabs((double)vals[i] * x[i]);
                float r = ckpt_dot_row_isa(CKPT_ISA_REF, plain[k], row, x, n);
                float a = ckpt_dot_row_isa(CKPT_ISA_AVX2, plain[k], row, x, n);
                double rel = fabs((double)a - r) / mag;
                if (rel > worst)
                    worst = rel;
                ck_assert_msg(rel <= 4e-6, "%s n=%lld: avx2 %.9g ref %.9g", ckpt_type_name(plain[k]),
                              (long long)n, a, r);
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
    tcase_add_test(tc, plain_types_supported);
    tcase_add_test(tc, widening_is_exact);
    tcase_add_loop_test(tc, row_matches_exact_within_bound, 0, CKPT_ISA_COUNT);
    tcase_add_loop_test(tc, many_vectors_equal_one_at_a_time, 0, CKPT_ISA_COUNT);
    tcase_add_test(tc, avx2_within_bound_of_ref);
    suite_add_tcase(s, tc);
    return s;
}
