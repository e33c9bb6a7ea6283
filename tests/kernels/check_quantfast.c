/*
 * check_quantfast.c - the AVX2 quantizers write the reference's bytes.
 *   vectors: every ggml vector (ref, imatA, imatB) quantized with the AVX2
 *            kernels equals ggml's .bin, for every type with vectors;
 *   random:  rows from a fixed seed - scales from f32 subnormals to 1e38,
 *            zero, constant, tiny and outlier blocks and sub-blocks, ties,
 *            signed zeros, inf and NaN - with no imatrix and three kinds
 *            of imatrix give the same bytes on the AVX2 and the reference
 *            kernels, for every type;
 *   search:  the batched searches themselves agree float for float and
 *            byte for byte, on parameter sets no type uses yet too.
 * On a CPU without AVX2 there is nothing to compare: the tests pass
 * without checking, and the suite says so once.
 */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/dot.h"
#include "kernels/quant.h"
#include "kernels/kernels_test.h"
#include "kernels/types.h"
#include "testutil.h"

#define N_ROWS 20
#define N_COLS 1024

static bool have_avx2(void) { return ckpt_isa_available(CKPT_ISA_AVX2); }

/* First differing byte of a and b, or n (one assertion per buffer: Check
 * marks every assertion that passes, and that costs a write). */
static size_t first_diff(const uint8_t *a, const uint8_t *b, size_t n)
{
    size_t o = 0;
    while (o < n && a[o] == b[o])
        o++;
    return o;
}

/* ---- a fixed-seed generator (SplitMix64) ---- */

static uint64_t next(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static float unif(uint64_t *s) { return (float)(next(s) >> 40) * 0x1p-24f; }

static float gauss(uint64_t *s)
{
    return (unif(s) + unif(s) + unif(s) + unif(s) - 2) * 1.7320508f;
}

/* ---- vectors ---- */

/* A ggml vector file of exactly `want` bytes (caller frees). */
#define load tu_ggml_vector

static const struct {
    const char *name;
    ckpt_type type;
    bool has_imat;
} vec_types[] = {
    {"q8_0", CKPT_TYPE_Q8_0, false}, {"q4_0", CKPT_TYPE_Q4_0, true},
    {"q2_K", CKPT_TYPE_Q2_K, true},  {"q3_K", CKPT_TYPE_Q3_K, true},
    {"q4_K", CKPT_TYPE_Q4_K, true},  {"q5_K", CKPT_TYPE_Q5_K, true},
    {"q6_K", CKPT_TYPE_Q6_K, true},  {"q8_K", CKPT_TYPE_Q8_K, false},
};
#define N_VEC_TYPES ((int)(sizeof vec_types / sizeof vec_types[0]))

/* T.{ref,imatA,imatB}.bin from the AVX2 kernels (row 7's NaN scales and
 * row 10's inf scales included: the unchecked entry writes them as ggml) */
START_TEST(avx2_vectors_match_ggml)
{
    static const char *const kinds[] = {"ref", "imatA", "imatB"};
    if (!have_avx2())
        return;
    const char *name = vec_types[_i / 3].name, *kind = kinds[_i % 3];
    const ckpt_type t = vec_types[_i / 3].type;
    const bool has_imat = vec_types[_i / 3].has_imat;
    size_t rb = 0;
    ck_assert(ckpt_type_row_bytes(t, N_COLS, &rb));
    float *in = load("inputs.f32", N_ROWS * N_COLS * 4);
    float *imat = NULL;
    if (_i % 3) {
        char *imn = tu_fmt("imatrix_%s.f32", _i % 3 == 1 ? "A" : "B");
        imat = load(imn, N_COLS * 4);
        free(imn);
    }
    char *fn = _i % 3 && !has_imat ? tu_fmt("%s.ref.bin", name) : tu_fmt("%s.%s.bin", name, kind);
    uint8_t *want = load(fn, N_ROWS * rb);
    uint8_t *got = calloc(N_ROWS, rb);
    ck_assert_uint_eq(
        ckpt_quantize_rows_isa(CKPT_ISA_AVX2, t, in, got, N_ROWS, N_COLS, imat), N_ROWS * rb);
    const size_t o = first_diff(got, want, N_ROWS * rb);
    ck_assert_msg(o == N_ROWS * rb, "%s avx2: row %zu, byte %zu: got 0x%02x, ggml 0x%02x", fn,
                  o / rb, o % rb, got[o % (N_ROWS * rb)], want[o % (N_ROWS * rb)]);
    free(got);
    free(want);
    free(fn);
    free(imat);
    free(in);
}
END_TEST

/* ---- random rows ---- */

#define R_ROWS 12
#define R_COLS 1024 /* 4 super-blocks of 256 */

static const float scales_pow10[] = {1e-38f, 1e-30f, 1e-20f, 1e-8f, 1e-5f, 0.02f, 1,
                                     1e3f,   1e7f,   1e19f,  1e30f, 1e37f};
#define N_SCALES ((int)(sizeof scales_pow10 / sizeof scales_pow10[0]))

/* One 256-value super-block of pattern p at scale s. */
static void fill_block(float *x, int p, float s, uint64_t *st)
{
    for (int i = 0; i < 256; ++i)
        x[i] = gauss(st) * s;
    switch (p) {
    case 0: break;                                                  /* plain */
    case 1: memset(x, 0, 256 * sizeof *x); break;                  /* all zero */
    case 2: for (int i = 0; i < 256; ++i) x[i] = (i / 16) % 2 ? 0 : x[i]; break;
    case 3: for (int i = 0; i < 256; ++i) x[i] = (i / 32) % 3 ? x[i] : 0; break;
    case 4: for (int i = 0; i < 256; ++i) x[i] = s; break;          /* constant */
    case 5: for (int i = 0; i < 256; ++i) x[i] = (i / 32) % 2 ? -s : 0.5f * s; break;
    case 6: x[next(st) % 256] = 1000 * s; break;                    /* one outlier */
    case 7: for (int i = 0; i < 256; ++i) x[i] = fabsf(x[i]) + s; break; /* all positive */
    case 8: for (int i = 0; i < 256; ++i) x[i] = -fabsf(x[i]); break;    /* all <= 0 */
    case 9: /* rounding ties: halves of a step */
        for (int i = 0; i < 256; ++i)
            x[i] = s * ((float)((int)(next(st) % 31) - 15) + 0.5f) / 8;
        break;
    case 10: for (int i = 0; i < 256; ++i) x[i] = (i % 3) ? -0.0f : x[i]; break; /* -0 */
    case 11: /* groups below the 1e-15 threshold beside normal ones */
        for (int i = 0; i < 256; ++i)
            x[i] = (i / 16) % 2 ? x[i] * 1e-17f : x[i];
        break;
    case 12: /* f32 subnormals */
        for (int i = 0; i < 256; ++i)
            x[i] = (float)((int)(next(st) % 64) - 32) * 0x1p-140f;
        break;
    case 13: /* a few huge values among ordinary ones */
        for (int i = 0; i < 256; i += 37)
            x[i] = (i % 2 ? -3e38f : 2e38f);
        break;
    default: break;
    }
}
#define N_PATTERNS 14

/* Non-finite values planted into a row (the unchecked entry takes them). */
static void plant_non_finite(float *x, uint64_t *st)
{
    static const uint32_t bits[] = {0x7f800000u, 0xff800000u, 0x7fc00000u, 0xffc00001u,
                                    0x7f800001u, 0x7fa5a5a5u};
    const int k = (int)(next(st) % 4) + 1;
    for (int i = 0; i < k; ++i) {
        uint32_t b = bits[next(st) % (sizeof bits / sizeof bits[0])];
        memcpy(&x[next(st) % R_COLS], &b, 4);
    }
}

/* imatrix kind: 0 none, 1 skewed positive, 2 with zeros, 3 all ones */
static float *make_imatrix(int kind, uint64_t *st)
{
    if (!kind)
        return NULL;
    float *w = malloc(R_COLS * sizeof *w);
    for (int j = 0; j < R_COLS; ++j) {
        float u = unif(st);
        w[j] = kind == 1 ? 0.05f + u * u * 8 : kind == 2 ? (j % 5 ? u : 0) : 1;
    }
    return w;
}

START_TEST(avx2_random_rows_match_ref)
{
    if (!have_avx2())
        return;
    uint64_t st = 0xC0DE0000ull + (uint64_t)_i;
    float *x = malloc(R_ROWS * R_COLS * sizeof *x);
    for (int round = 0; round < 6; ++round) {
        for (int r = 0; r < R_ROWS; ++r) {
            for (int b = 0; b < R_COLS / 256; ++b)
                fill_block(x + r * R_COLS + b * 256, (int)(next(&st) % N_PATTERNS),
                           scales_pow10[next(&st) % N_SCALES], &st);
            if (round == 5 && r % 2)
                plant_non_finite(x + r * R_COLS, &st);
        }
        for (int kind = 0; kind < 4; ++kind) {
            float *imat = make_imatrix(kind, &st);
            for (int t = 0; t < CKPT_TYPE_COUNT; ++t) {
                size_t rb;
                if (!ckpt_quant_supported((ckpt_type)t) ||
                    !ckpt_type_row_bytes((ckpt_type)t, R_COLS, &rb))
                    continue;
                uint8_t *a = calloc(R_ROWS, rb), *b = calloc(R_ROWS, rb);
                size_t na = ckpt_quantize_rows_isa(CKPT_ISA_REF, (ckpt_type)t, x, a, R_ROWS,
                                                   R_COLS, imat);
                size_t nb = ckpt_quantize_rows_isa(CKPT_ISA_AVX2, (ckpt_type)t, x, b, R_ROWS,
                                                   R_COLS, imat);
                const size_t o = na == nb ? first_diff(a, b, na) : 0;
                ck_assert_msg(o == na,
                              "%s, seed %d, round %d, imatrix kind %d: row %zu, byte %zu: "
                              "ref 0x%02x, avx2 0x%02x",
                              ckpt_type_name((uint32_t)t), _i, round, kind, o / rb, o % rb,
                              a[o % na], b[o % na]);
                free(a);
                free(b);
            }
            free(imat);
        }
    }
    free(x);
}
END_TEST

/* ---- the batched searches, float for float ---- */

static void assert_same_floats(const char *what, int set, const float *a, const float *b, int n)
{
    if (memcmp(a, b, (size_t)n * sizeof *a) == 0)
        return;
    const int g = (int)(first_diff((const uint8_t *)a, (const uint8_t *)b, (size_t)n * 4) / 4);
    uint32_t ua, ub;
    memcpy(&ua, &a[g], 4);
    memcpy(&ub, &b[g], 4);
    ck_assert_msg(ua == ub, "%s, set %d, group %d: ref %08x (%g), avx2 %08x (%g)", what, set, g,
                  ua, (double)a[g], ub, (double)b[g]);
}

/* one group of n values: mostly gaussian at a random scale, sometimes flat */
static void fill_groups(float *x, int n, uint64_t *st)
{
    for (int g = 0; g < 8; ++g) {
        const float s = scales_pow10[next(st) % N_SCALES];
        const int p = (int)(next(st) % 8);
        for (int i = 0; i < n; ++i) {
            float v = gauss(st) * s;
            x[g * n + i] = p == 0 ? 0 : p == 1 ? s : p == 2 ? fabsf(v) : v;
        }
    }
}

START_TEST(avx2_searches_match_ref)
{
    /* n, nmax, rmin, rdelta, nstep, use_mad: the k-quants' and a few more */
    static const struct {
        int n, nmax;
        float rmin, rdelta;
        int nstep;
        bool mad;
    } qkx[] = {
        {32, 15, -1.f, 0.1f, 20, false},  {32, 31, -0.5f, 0.1f, 15, false},
        {32, 15, -0.9f, 0.05f, 36, false}, {32, 31, -0.9f, 0.05f, 36, false},
        {16, 3, -0.5f, 0.1f, 15, true},   {16, 3, -0.9f, 0.05f, 36, false},
        {32, 15, -1.f, 0.1f, 0, false},   {24, 7, -0.7f, 0.2f, 5, true},
    };
    static const struct {
        int n, nmax, rmse_type;
        bool qw;
    } qx[] = {{16, 32, 1, false}, {16, 32, 1, true}, {16, 4, 1, true},
              {32, 8, 1, true},   {32, 16, 1, false}, {16, 32, 2, false}, {16, 4, -1, true}};
    if (!have_avx2())
        return;
    uint64_t st = 0x5EA4C4ull;
    float x[8 * 32], w[8 * 32], s1[8], s2[8], m1[8], m2[8];
    uint8_t l1[8 * 32], l2[8 * 32];
    int8_t q1[8 * 32], q2[8 * 32];
    for (int rep = 0; rep < 400; ++rep) {
        for (size_t k = 0; k < sizeof qkx / sizeof qkx[0]; ++k) {
            const int n = qkx[k].n;
            fill_groups(x, n, &st);
            for (int i = 0; i < 8 * n; ++i)
                w[i] = rep % 3 ? fabsf(x[i]) + unif(&st) : unif(&st) * 4;
            ckpt_kq_ref.qkx(n, qkx[k].nmax, x, w, l1, s1, m1, qkx[k].rmin, qkx[k].rdelta,
                            qkx[k].nstep, qkx[k].mad);
            ckpt_kq_avx2.qkx(n, qkx[k].nmax, x, w, l2, s2, m2, qkx[k].rmin, qkx[k].rdelta,
                             qkx[k].nstep, qkx[k].mad);
            assert_same_floats("qkx scale", (int)k, s1, s2, 8);
            assert_same_floats("qkx min", (int)k, m1, m2, 8);
            if (memcmp(l1, l2, (size_t)(8 * n)) != 0)
                ck_abort_msg("qkx set %zu: L differs", k);
        }
        for (size_t k = 0; k < sizeof qx / sizeof qx[0]; ++k) {
            const int n = qx[k].n;
            fill_groups(x, n, &st);
            for (int i = 0; i < 8 * n; ++i)
                w[i] = unif(&st) * 3;
            const float *qw = qx[k].qw ? w : NULL;
            ckpt_kq_ref.qx(n, qx[k].nmax, x, q1, qx[k].rmse_type, qw, s1);
            ckpt_kq_avx2.qx(n, qx[k].nmax, x, q2, qx[k].rmse_type, qw, s2);
            assert_same_floats("qx scale", (int)k, s1, s2, 8);
            if (memcmp(q1, q2, (size_t)(8 * n)) != 0)
                ck_abort_msg("qx set %zu: L differs", k);
        }
        /* requantize_k4 on random scales */
        uint8_t sc[12];
        for (int i = 0; i < 12; ++i)
            sc[i] = (uint8_t)next(&st);
        fill_groups(x, 32, &st);
        memset(l1, 7, sizeof l1);
        memset(l2, 7, sizeof l2);
        const uint16_t d = (uint16_t)(next(&st) & 0x7bff), dmin = (uint16_t)(next(&st) & 0x7bff);
        const int nmax = rep % 2 ? 15 : 31;
        ckpt_kq_ref.requantize_k4(x, sc, d, dmin, nmax, l1);
        ckpt_kq_avx2.requantize_k4(x, sc, d, dmin, nmax, l2);
        if (memcmp(l1, l2, 256) != 0)
            ck_abort_msg("requantize_k4 differs (rep %d)", rep);
    }
}
END_TEST

Suite *quantfast_suite(void)
{
    Suite *s = suite_create("quantfast");
    if (!ckpt_isa_available(CKPT_ISA_AVX2))
        fprintf(stderr, "quantfast: this CPU has no AVX2: nothing to compare, tests pass\n");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 30);
    tcase_add_loop_test(tc, avx2_vectors_match_ggml, 0, 3 * N_VEC_TYPES);
    tcase_add_loop_test(tc, avx2_random_rows_match_ref, 0, 8);
    tcase_add_test(tc, avx2_searches_match_ref);
    suite_add_tcase(s, tc);
    return s;
}
