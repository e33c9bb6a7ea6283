/*
 * check_ops.c - the per-vector operations of the forward pass against
 * values worked out by hand or in double precision: RMSNorm, RoPE
 * frequencies and rotation, softmax, SiLU, top-k (ties to the lowest
 * index) and argmax; the exponential of expf.h against libm's and its
 * vector kernels against the scalar one.
 */
#include <check.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/dispatch.h"
#include "kernels/expf.h"
#include "kernels/ops.h"

START_TEST(rmsnorm_values)
{
    float x[4] = {1, 2, 3, 4}, w[4] = {1, 2, 0.5f, -1}, y[4];
    ckpt_ops_rmsnorm(y, x, w, 4, 0.0f);
    double r = 1.0 / sqrt(30.0 / 4.0);
    for (int i = 0; i < 4; i++)
        ck_assert_double_eq_tol(y[i], x[i] * r * w[i], 1e-6);
    /* eps counts inside the root; in place; NULL weight */
    float z[2] = {0, 0};
    ckpt_ops_rmsnorm(z, z, NULL, 2, 1e-5f);
    ck_assert(z[0] == 0 && z[1] == 0);
    float v[2] = {3, 4};
    ckpt_ops_rmsnorm(v, v, NULL, 2, 0.5f);
    ck_assert_double_eq_tol(v[0], 3 / sqrt(12.5 + 0.5), 1e-6);
}
END_TEST

START_TEST(rope_frequencies_and_rotation)
{
    float inv[32];
    ckpt_ops_rope_inv_freq(inv, 64, 10000.0f);
    ck_assert(inv[0] == 1.0f);
    for (int i = 0; i < 32; i++)
        ck_assert_double_eq_tol(inv[i], pow(10000.0, -2.0 * i / 64), 1e-6 * pow(10000.0, -2.0 * i / 64));
    float c[32], s[32];
    ckpt_ops_rope_cos_sin(c, s, inv, 32, 0);
    ck_assert(c[5] == 1.0f && s[5] == 0.0f);
    ckpt_ops_rope_cos_sin(c, s, inv, 32, 3);
    ck_assert_double_eq_tol(c[0], cos(3.0), 1e-7);
    ck_assert_double_eq_tol(s[0], sin(3.0), 1e-7);
    /* rotate-half: element i pairs with i + half */
    float v[64] = {0};
    v[0] = 1.0f;  /* (x0, x32) = (1, 0) -> (cos, sin) */
    v[33] = 2.0f; /* (x1, x33) = (0, 2) -> (-2 sin, 2 cos) */
    ckpt_ops_rope_apply(v, c, s, 32);
    ck_assert_double_eq_tol(v[0], cos(3.0), 1e-7);
    ck_assert_double_eq_tol(v[32], sin(3.0), 1e-7);
    ck_assert_double_eq_tol(v[1], -2 * s[1], 1e-7);
    ck_assert_double_eq_tol(v[33], 2 * c[1], 1e-7);
    ck_assert(v[2] == 0 && v[34] == 0);
}
END_TEST

START_TEST(softmax_silu)
{
    float x[3] = {0.0f, logf(2.0f), -INFINITY};
    ckpt_ops_softmax(x, 3);
    ck_assert_double_eq_tol(x[0], 1.0 / 3, 1e-7);
    ck_assert_double_eq_tol(x[1], 2.0 / 3, 1e-7);
    ck_assert(x[2] == 0.0f);
    float big[2] = {1000.0f, 1000.0f}; /* no overflow: max is subtracted */
    ckpt_ops_softmax(big, 2);
    ck_assert(big[0] == 0.5f && big[1] == 0.5f);
    ck_assert(ckpt_ops_silu(0.0f) == 0.0f);
    ck_assert_double_eq_tol(ckpt_ops_silu(1.0f), 1.0 / (1.0 + exp(-1.0)), 1e-7);
    ck_assert_double_eq_tol(ckpt_ops_silu(-20.0f), -20.0 / (1.0 + exp(20.0)), 1e-12);
    ck_assert(ckpt_ops_silu(100.0f) == 100.0f);
}
END_TEST

/* softmax as its definition reads, one element after another: the
 * largest by x[i] > m from x[0], expf(x - m), their sum in order, the
 * quotients.  The four-chain maximum and vector division must give its
 * bits. */
static void softmax_one_chain(float *x, int64_t n)
{
    float m = x[0], sum = 0.0f;
    for (int64_t i = 1; i < n; i++)
        if (x[i] > m)
            m = x[i];
    for (int64_t i = 0; i < n; i++) {
        x[i] = expf(x[i] - m);
        sum += x[i];
    }
    for (int64_t i = 0; i < n; i++)
        x[i] = x[i] / sum;
}

/* A hostile value planted in a row of n at `at`: kind 1 the largest, 2
 * zeros of both signs the largest (at and its mirror), 3 -inf, 4 NaN, 5
 * only -inf and NaN, 6 all NaN, 7 a NaN first and the largest at `at`, 8
 * +inf; 0 leaves the row as it is. */
static void plant(float *a, int64_t n, int kind, int64_t at)
{
    switch (kind) {
    case 1:
        a[at] = 30.0f;
        break;
    case 2:
        for (int64_t i = 0; i < n; i++)
            a[i] = -fabsf(a[i]) - 1.0f;
        a[at] = -0.0f;
        a[n - 1 - at] = 0.0f;
        break;
    case 3:
        a[at] = -INFINITY;
        break;
    case 4:
        a[at] = NAN;
        break;
    case 5:
        for (int64_t i = 0; i < n; i++)
            a[i] = i % 3 ? NAN : -INFINITY;
        a[at] = NAN;
        break;
    case 6:
        for (int64_t i = 0; i < n; i++)
            a[i] = NAN;
        break;
    case 7:
        a[0] = NAN;
        a[at] = 9.0f;
        break;
    case 8:
        a[at] = INFINITY;
        break;
    }
}

/* every length 1..41, with the maximum in each chain and the tail, a zero
 * of either sign as the maximum, -inf, and a NaN first or later */
START_TEST(softmax_is_its_definition_bits)
{
    unsigned seed = 7;
    for (int64_t n = 1; n <= 41; n++)
        for (int kind = 0; kind < 5; kind++) {
            float a[41], b[41];
            for (int64_t i = 0; i < n; i++) {
                seed = seed * 1103515245u + 12345u;
                a[i] = ((float)(seed >> 8) / 16777216.0f - 0.5f) * 20.0f;
            }
            plant(a, n, kind, (n * 7 + kind) % n);
            for (int64_t i = 0; i < n; i++)
                b[i] = a[i];
            ckpt_ops_softmax(a, n);
            softmax_one_chain(b, n);
            for (int64_t i = 0; i < n; i++)
                ck_assert_msg(memcmp(&a[i], &b[i], sizeof(float)) == 0 ||
                                  (isnan(a[i]) && isnan(b[i])),
                              "n=%lld kind %d element %lld: %a against %a", (long long)n, kind,
                              (long long)i, (double)a[i], (double)b[i]);
        }
}
END_TEST

/* The first index the one-chain definition ends on, over every length
 * 1..41 with the largest value in each lane and the tail, ties, zeros of
 * either sign, -inf alone, NaNs (first, later, all) */
static int32_t argmax_one_chain(const float *x, int64_t n)
{
    int32_t best = 0;
    for (int64_t i = 1; i < n; i++)
        if (x[i] > x[best] || (x[i] == x[i] && x[best] != x[best]))
            best = (int32_t)i;
    return best;
}

START_TEST(argmax_is_its_definition)
{
    unsigned seed = 11;
    for (int64_t n = 1; n <= 41; n++)
        for (int kind = 0; kind <= 8; kind++)
            for (int64_t at = 0; at < n; at++) {
                float a[41];
                for (int64_t i = 0; i < n; i++) {
                    seed = seed * 1103515245u + 12345u;
                    a[i] = (float)((seed >> 20) % 9) - 4.0f; /* small integers: ties */
                }
                plant(a, n, kind, at);
                ck_assert_msg(ckpt_ops_argmax(a, n) == argmax_one_chain(a, n),
                              "n=%lld kind %d at %lld: %d against %d", (long long)n, kind,
                              (long long)at, ckpt_ops_argmax(a, n), argmax_one_chain(a, n));
            }
}
END_TEST

static uint32_t f32_bits(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

/* units in the last place between two finite floats of one sign, or
 * between 0 and a subnormal */
static int64_t ulps(float a, float b)
{
    int64_t d = (int64_t)f32_bits(a) - (int64_t)f32_bits(b);
    return d < 0 ? -d : d;
}

/* Every 4099th bit pattern (a million floats of every exponent, both
 * signs, NaNs among them) and the edges of expf.h's special cases:
 * against libm's expf to 1 ulp (exactly, where libm is glibc 2.27 or
 * later: tests/expf_exhaustive.c checks all 2^32), and each ISA's
 * exp_sub and silu_mul against the scalar kernels bit for bit, for
 * lengths that leave every tail. */
START_TEST(expf_libm_and_every_isa)
{
    const float edges[] = {
        0.0f, -0.0f, INFINITY, -INFINITY, NAN, -NAN, 88.0f, -88.0f, CKPT_EXPF_OVER,
        nextafterf(CKPT_EXPF_OVER, 100.0f), CKPT_EXPF_UNDER, nextafterf(CKPT_EXPF_UNDER, -200.0f),
        nextafterf(CKPT_EXPF_UNDER, 0.0f), CKPT_EXPF_TINY, nextafterf(CKPT_EXPF_TINY, -200.0f),
        nextafterf(CKPT_EXPF_TINY, 0.0f), 0x1p-149f, -0x1p-149f, 1e-30f, 1.0f, -1.0f, 10.5f};
    const int64_t n_edge = (int64_t)(sizeof edges / sizeof edges[0]);
    const int64_t n_edges = 2 * n_edge; /* and their negations: silu's exp(-x) */
    const int64_t n = 1048576 + n_edges;
    float *x = malloc((size_t)n * sizeof *x), *ref = malloc((size_t)n * sizeof *ref),
          *got = malloc((size_t)n * sizeof *got), *ones = malloc((size_t)n * sizeof *ones);
    ck_assert(x && ref && got && ones);
    for (int64_t i = 0; i < n; i++) {
        if (i < n_edges) {
            x[i] = i < n_edge ? edges[i] : -edges[i - n_edge];
        } else {
            uint32_t u = (uint32_t)((uint64_t)(i - n_edges) * 4099u);
            memcpy(&x[i], &u, sizeof u);
        }
        ones[i] = 1.0f;
    }
    /* one assertion for the loop: Check records every ck_assert it passes */
    int64_t bad = -1;
    for (int64_t i = 0; i < n && bad < 0; i++) {
        const float e = ckpt_expf(x[i]), l = expf(x[i]);
        if (isnan(l) ? !isnan(e) : ulps(e, l) > 1)
            bad = i;
    }
    ck_assert_msg(bad < 0, "expf(%a): %a, libm %a", bad < 0 ? 0.0 : (double)x[bad],
                  bad < 0 ? 0.0 : (double)ckpt_expf(x[bad]), bad < 0 ? 0.0 : (double)expf(x[bad]));
    memcpy(ref, x, (size_t)n * sizeof *x);
    ckpt_exp_sub_ref(ref, n, 0.0f);
    for (int64_t i = 0; i < n && bad < 0; i++)
        if (f32_bits(ref[i]) != f32_bits(ckpt_expf(x[i])) && !(isnan(ref[i]) && isnan(x[i])))
            bad = i;
    ck_assert_msg(bad < 0, "exp_sub_ref at %lld", (long long)bad);
    float *sref = malloc((size_t)n * sizeof *sref);
    ck_assert(sref != NULL);
    memcpy(ref, x, (size_t)n * sizeof *x);
    ckpt_exp_sub_ref(ref, n, 0.0f); /* m = 0: the edges as they are */
    memcpy(sref, x, (size_t)n * sizeof *x);
    ckpt_silu_mul_ref(sref, ones, n);
    for (int isa = 0; isa < CKPT_ISA_COUNT; isa++) {
        const struct ckpt_kernels *k = ckpt_kernels_of((ckpt_isa)isa);
        if (!k || k->exp_sub == ckpt_exp_sub_ref)
            continue;
        /* every tail of 16, 8 and 4: the first len as the scalar kernel,
         * the rest untouched */
        for (int64_t len = n - 16; len <= n; len++) {
            memcpy(got, x, (size_t)n * sizeof *x);
            k->exp_sub(got, len, 0.0f);
            ck_assert_msg(memcmp(ref, got, (size_t)len * sizeof *x) == 0 &&
                              memcmp(x + len, got + len, (size_t)(n - len) * sizeof *x) == 0,
                          "%s exp_sub, length %lld", ckpt_isa_name((ckpt_isa)isa), (long long)len);
            memcpy(got, x, (size_t)n * sizeof *x);
            k->silu_mul(got, ones, len);
            ck_assert_msg(memcmp(sref, got, (size_t)len * sizeof *x) == 0 &&
                              memcmp(x + len, got + len, (size_t)(n - len) * sizeof *x) == 0,
                          "%s silu_mul, length %lld", ckpt_isa_name((ckpt_isa)isa), (long long)len);
        }
        for (int64_t len = 0; len <= 40; len++) { /* short rows, m != 0, b not all ones */
            float r[40], g[40];
            memcpy(r, x + 7, (size_t)len * sizeof *x);
            memcpy(g, x + 7, (size_t)len * sizeof *x);
            ckpt_silu_mul_ref(r, x + 300, len);
            k->silu_mul(g, x + 300, len);
            ck_assert(memcmp(r, g, (size_t)len * sizeof *x) == 0);
            memcpy(r, x + 1000, (size_t)len * sizeof *x);
            memcpy(g, x + 1000, (size_t)len * sizeof *x);
            ckpt_exp_sub_ref(r, len, 0.75f);
            k->exp_sub(g, len, 0.75f);
            ck_assert(memcmp(r, g, (size_t)len * sizeof *x) == 0);
        }
    }
    free(sref);
    free(x);
    free(ref);
    free(got);
    free(ones);
}
END_TEST

START_TEST(topk_ties_lowest_index)
{
    float x[6] = {1, 3, 3, 2, NAN, 3};
    int32_t idx[4];
    ckpt_ops_topk(x, 6, 2, idx);
    ck_assert_int_eq(idx[0], 1);
    ck_assert_int_eq(idx[1], 2);
    ckpt_ops_topk(x, 6, 4, idx);
    ck_assert_int_eq(idx[2], 5);
    ck_assert_int_eq(idx[3], 3);
    ck_assert_int_eq(ckpt_ops_argmax(x, 6), 1);
    float y[3] = {NAN, -1, -1};
    ck_assert_int_eq(ckpt_ops_argmax(y, 3), 1);
    ckpt_ops_topk(y, 3, 3, idx);
    ck_assert_int_eq(idx[0], 1);
    ck_assert_int_eq(idx[1], 2);
    ck_assert_int_eq(idx[2], 0);
}
END_TEST

Suite *ops_suite(void)
{
    Suite *s = suite_create("ops");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, rmsnorm_values);
    tcase_add_test(tc, rope_frequencies_and_rotation);
    tcase_add_test(tc, softmax_silu);
    tcase_add_test(tc, softmax_is_its_definition_bits);
    tcase_add_test(tc, argmax_is_its_definition);
    tcase_add_test(tc, expf_libm_and_every_isa);
    tcase_add_test(tc, topk_ties_lowest_index);
    suite_add_tcase(s, tc);
    return s;
}
