/*
 * check_quant.c - the quantizers and dequantizers against ggml's own
 * bytes (tests/data/vectors/ggml-quants: every row of every .bin and
 * .deq.f32), round-trip error bounds and hand-built blocks for the types
 * without vectors (q4_1, q5_0, q5_1, iq4_nl), and the validating front
 * end's errors (NaN/Inf rows, f16-overflowing scales).
 */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/err.h"
#include "kernels/fp16.h"
#include "kernels/quant.h"
#include "kernels/kernels_test.h"
#include "kernels/types.h"
#include "testutil.h"

#define N_ROWS 20
#define N_COLS 1024

/* ---- vector files ---- */

/* A ggml vector file of exactly `want` bytes (caller frees). */
#define load tu_ggml_vector

static float *load_inputs(void) { return load("inputs.f32", N_ROWS * N_COLS * 4); }

static size_t row_bytes(ckpt_type t)
{
    size_t rb = 0;
    ck_assert(ckpt_type_row_bytes(t, N_COLS, &rb));
    return rb;
}

/* Fail with the first differing row and byte of two 20-row buffers. */
static void assert_rows_equal(const char *what, const uint8_t *got, const uint8_t *want,
                              size_t rb)
{
    for (size_t r = 0; r < N_ROWS; ++r) {
        for (size_t i = 0; i < rb; ++i) {
            size_t o = r * rb + i;
            ck_assert_msg(got[o] == want[o],
                          "%s: row %zu, byte %zu (block %zu): got 0x%02x, ggml 0x%02x", what, r,
                          i, i, got[o], want[o]);
        }
    }
}

/* The types with vectors, and whether imatA/imatB files exist. */
static const struct {
    const char *name;
    ckpt_type type;
    size_t block_bytes;
    bool has_imat;
} vec_types[] = {
    {"q8_0", CKPT_TYPE_Q8_0, 34, false},  {"q4_0", CKPT_TYPE_Q4_0, 18, true},
    {"q2_K", CKPT_TYPE_Q2_K, 84, true},   {"q3_K", CKPT_TYPE_Q3_K, 110, true},
    {"q4_K", CKPT_TYPE_Q4_K, 144, true},  {"q5_K", CKPT_TYPE_Q5_K, 176, true},
    {"q6_K", CKPT_TYPE_Q6_K, 210, true},  {"q8_K", CKPT_TYPE_Q8_K, 292, false},
};
#define N_VEC_TYPES ((int)(sizeof vec_types / sizeof vec_types[0]))

/* quantize_row_T_ref, row by row, equals T.ref.bin (rows 7 and 10 included) */
START_TEST(ref_bytes_match_ggml)
{
    const char *name = vec_types[_i].name;
    ckpt_type t = vec_types[_i].type;
    size_t rb = row_bytes(t);
    float *in = load_inputs();
    char *fn = tu_fmt("%s.ref.bin", name);
    uint8_t *want = load(fn, N_ROWS * rb);
    uint8_t *got = calloc(N_ROWS, rb);
    ck_assert_uint_eq(ckpt_quantize_rows_unchecked(t, in, got, N_ROWS, N_COLS, NULL),
                      N_ROWS * rb);
    char *what = tu_fmt("%s ref", name);
    assert_rows_equal(what, got, want, rb);
    free(what);
    free(got);
    free(want);
    free(fn);
    free(in);
}
END_TEST

/* ggml_quantize_chunk(T, ..., imatrix) equals T.imatA.bin / T.imatB.bin;
 * for q8_0 and q8_K the imatrix is ignored, so the ref bytes come out */
START_TEST(imatrix_bytes_match_ggml)
{
    const char *name = vec_types[_i / 2].name;
    ckpt_type t = vec_types[_i / 2].type;
    const char *which = _i % 2 ? "B" : "A";
    size_t rb = row_bytes(t);
    float *in = load_inputs();
    char *imn = tu_fmt("imatrix_%s.f32", which);
    float *imat = load(imn, N_COLS * 4);
    char *fn = vec_types[_i / 2].has_imat ? tu_fmt("%s.imat%s.bin", name, which)
                                          : tu_fmt("%s.ref.bin", name);
    uint8_t *want = load(fn, N_ROWS * rb);
    uint8_t *got = calloc(N_ROWS, rb);
    ck_assert_uint_eq(ckpt_quantize_rows_unchecked(t, in, got, N_ROWS, N_COLS, imat),
                      N_ROWS * rb);
    char *what = tu_fmt("%s imatrix %s (%s)", name, which, fn);
    assert_rows_equal(what, got, want, rb);
    free(what);
    free(got);
    free(want);
    free(fn);
    free(imat);
    free(imn);
    free(in);
}
END_TEST

/* every .deq.f32 equals our dequantization of its .bin, bit for bit */
START_TEST(dequant_bits_match_ggml)
{
    static const char *const kinds[] = {"ref", "imatA", "imatB"};
    const char *name = vec_types[_i / 3].name;
    ckpt_type t = vec_types[_i / 3].type;
    const char *kind = kinds[_i % 3];
    if (_i % 3 && !vec_types[_i / 3].has_imat)
        return;
    size_t rb = row_bytes(t);
    char *bn = tu_fmt("%s.%s.bin", name, kind);
    char *dn = tu_fmt("%s.%s.deq.f32", name, kind);
    uint8_t *bin = load(bn, N_ROWS * rb);
    uint32_t *want = load(dn, N_ROWS * N_COLS * 4);
    float *got = malloc(N_COLS * sizeof(float));
    for (int r = 0; r < N_ROWS; ++r) {
        ck_assert(ckpt_dequantize_row(t, bin + r * rb, got, N_COLS));
        for (int c = 0; c < N_COLS; ++c) {
            uint32_t g = ckpt_f32_bits(got[c]), w = want[r * N_COLS + c];
            ck_assert_msg(g == w, "%s: row %d, column %d: got %08x (%g), ggml %08x (%g)", dn, r,
                          c, g, (double)got[c], w, (double)ckpt_f32_from_bits(w));
        }
    }
    free(got);
    free(want);
    free(bin);
    free(dn);
    free(bn);
}
END_TEST

/* the per-type entry points give the same bytes as the table */
START_TEST(row_ref_equals_dispatch)
{
    float *in = load_inputs();
    static uint8_t a[N_COLS * 2], b[N_COLS * 2];
    ckpt_quantize_row_q4_K_ref(in, a, N_COLS);
    ckpt_quantize_rows_unchecked(CKPT_TYPE_Q4_K, in, b, 1, N_COLS, NULL);
    ck_assert_mem_eq(a, b, 576);
    ckpt_quantize_row_q6_K_ref(in + N_COLS, a, N_COLS);
    ckpt_quantize_rows_unchecked(CKPT_TYPE_Q6_K, in + N_COLS, b, 1, N_COLS, NULL);
    ck_assert_mem_eq(a, b, 840);
    free(in);
}
END_TEST

/* ---- types without vectors: error bounds on ggml's test data ---- */

/* ggml's synthetic data: 0.1 + 2*cos(i + offset) */
static void cos_data(float *x, int n, float off)
{
    for (int i = 0; i < n; ++i)
        x[i] = 0.1f + 2 * cosf(i + off);
}

static double rmse(const float *a, const float *b, int n)
{
    double s = 0;
    for (int i = 0; i < n; ++i) {
        double d = (double)a[i] - b[i];
        s += d * d;
    }
    return sqrt(s / n);
}

#define N_RT 4096

/* RMSE of a round trip of 4096 values; imatrix NULL or all ones */
static double round_trip(ckpt_type t, const float *x, bool weighted)
{
    static float ones[N_RT];
    for (int i = 0; i < N_RT; ++i)
        ones[i] = 1.0f;
    static uint8_t q[N_RT * 2];
    static float y[N_RT];
    ckpt_err err;
    ckpt_err_clear(&err);
    ck_assert_int_eq(ckpt_quantize_rows(t, x, q, 1, N_RT, weighted ? ones : NULL, &err), CKPT_OK);
    ck_assert(ckpt_dequantize_row(t, q, y, N_RT));
    return rmse(x, y, N_RT);
}

/*
 * Bounds: a uniform quantizer with step s has RMSE about s/sqrt(12).  On
 * this data a 32-block spans about -1.9..2.1, so s is 4/15 (q4_1), 4/31
 * (q5_1), 2.1/8 (q4_0), 2.1/16 (q5_0), 2.1/127 (q8_0); iq4_nl's 16
 * levels average the q4_0 step.  The legacy bounds are those estimates
 * plus ~10%.  The k-quant bounds are the measured errors of these kernels
 * (whose bytes equal ggml's on every vector) plus ~10%: a guard against
 * regressions in the parts the vectors cannot see (other data).
 */
static const struct {
    ckpt_type type;
    double bound;
} rt_types[] = {
    {CKPT_TYPE_Q4_1, 0.085},  {CKPT_TYPE_Q5_0, 0.042},  {CKPT_TYPE_Q5_1, 0.041},
    {CKPT_TYPE_IQ4_NL, 0.088}, {CKPT_TYPE_Q4_0, 0.083}, {CKPT_TYPE_Q8_0, 0.0053},
    {CKPT_TYPE_Q2_K, 0.33},   {CKPT_TYPE_Q3_K, 0.18},   {CKPT_TYPE_Q4_K, 0.070},
    {CKPT_TYPE_Q5_K, 0.038},  {CKPT_TYPE_Q6_K, 0.019},
};

START_TEST(round_trip_rmse_bounds)
{
    static float x[N_RT];
    ckpt_type t = rt_types[_i].type;
    for (int off = 0; off < 3; ++off) {
        cos_data(x, N_RT, 0.37f * off);
        double e_ref = round_trip(t, x, false), e_w = round_trip(t, x, true);
        ck_assert_msg(e_ref < rt_types[_i].bound, "%s: rmse %g >= %g", ckpt_type_name(t), e_ref,
                      rt_types[_i].bound);
        ck_assert_msg(e_w < rt_types[_i].bound, "%s weighted: rmse %g >= %g", ckpt_type_name(t),
                      e_w, rt_types[_i].bound);
        /* ggml's own acceptance test: sqrt(sum of squares) / n < 0.002 (2-bit: 0.0075) */
        double ggml_err = e_ref * sqrt((double)N_RT) / N_RT;
        ck_assert(ggml_err < (t == CKPT_TYPE_Q2_K ? 0.0075 : t == CKPT_TYPE_Q3_K ? 0.004 : 0.002));
    }
}
END_TEST

/* more bits, less error: q5 beats q4 on the same data */
START_TEST(round_trip_ordering)
{
    static float x[N_RT];
    cos_data(x, N_RT, 0.5f);
    ck_assert(round_trip(CKPT_TYPE_Q5_1, x, false) < round_trip(CKPT_TYPE_Q4_1, x, false));
    ck_assert(round_trip(CKPT_TYPE_Q5_0, x, false) < round_trip(CKPT_TYPE_Q4_0, x, false));
    ck_assert(round_trip(CKPT_TYPE_Q5_1, x, true) < round_trip(CKPT_TYPE_Q4_1, x, true));
    ck_assert(round_trip(CKPT_TYPE_Q5_0, x, true) < round_trip(CKPT_TYPE_Q4_0, x, true));
    /* with (unit) importance weights the legacy types search for the scale
     * instead of taking it from the extremes, and do better */
    static const ckpt_type searched[] = {CKPT_TYPE_Q4_0, CKPT_TYPE_Q4_1, CKPT_TYPE_Q5_0,
                                         CKPT_TYPE_Q5_1};
    for (int k = 0; k < 4; ++k)
        ck_assert_msg(round_trip(searched[k], x, true) < round_trip(searched[k], x, false),
                      "%s: weighted path no better than the plain one",
                      ckpt_type_name(searched[k]));
}
END_TEST

/* ---- hand-built blocks ---- */

/* q4_1: values m + d*q with q spanning 0..15 come back exactly */
START_TEST(q4_1_exact_block)
{
    float x[32], y[32];
    uint8_t q[32];
    for (int j = 0; j < 32; ++j) {
        q[j] = (uint8_t)((j * 7) % 16); /* 0 at j=0, 15 at j=9 */
        x[j] = -4.0f + 0.5f * q[j];
    }
    block_q4_1 b;
    ckpt_quantize_row_q4_1_ref(x, &b, 32);
    ck_assert_uint_eq(b.d, 0x3800); /* 0.5 */
    ck_assert_uint_eq(b.m, 0xC400); /* -4 */
    for (int j = 0; j < 16; ++j)
        ck_assert_uint_eq(b.qs[j], q[j] | q[j + 16] << 4);
    ckpt_dequantize_row_q4_1(&b, y, 32);
    for (int j = 0; j < 32; ++j)
        ck_assert(y[j] == x[j]);
}
END_TEST

/* q5_0: x = d*(q-16) with q 0..31; the 5th bits land in qh bit j */
START_TEST(q5_0_exact_block)
{
    float x[32], y[32];
    uint8_t q[32];
    for (int j = 0; j < 32; ++j) {
        q[j] = (uint8_t)((j * 13 + 5) % 32);
        if (j == 3)
            q[j] = 0; /* the largest magnitude is -16*d: d = max / -16 */
        x[j] = 0.25f * (q[j] - 16);
    }
    block_q5_0 b;
    ckpt_quantize_row_q5_0_ref(x, &b, 32);
    ck_assert_uint_eq(b.d, 0x3400); /* 0.25 */
    uint32_t qh = (uint32_t)b.qh[0] | (uint32_t)b.qh[1] << 8 | (uint32_t)b.qh[2] << 16 |
                  (uint32_t)b.qh[3] << 24;
    for (int j = 0; j < 16; ++j) {
        ck_assert_uint_eq(b.qs[j], (q[j] & 15) | (q[j + 16] & 15) << 4);
        ck_assert_uint_eq((qh >> j) & 1, q[j] >> 4);
        ck_assert_uint_eq((qh >> (j + 16)) & 1, q[j + 16] >> 4);
    }
    ckpt_dequantize_row_q5_0(&b, y, 32);
    for (int j = 0; j < 32; ++j)
        ck_assert(y[j] == x[j]);
}
END_TEST

/* q5_1: x = m + d*q with q spanning 0..31 */
START_TEST(q5_1_exact_block)
{
    float x[32], y[32];
    uint8_t q[32];
    for (int j = 0; j < 32; ++j) {
        q[j] = (uint8_t)((j * 5 + 3) % 32); /* a permutation of 0..31 */
        x[j] = -2.0f + 0.125f * q[j];
    }
    block_q5_1 b;
    ckpt_quantize_row_q5_1_ref(x, &b, 32);
    ck_assert_uint_eq(b.d, 0x3000); /* 0.125 */
    ck_assert_uint_eq(b.m, 0xC000); /* -2 */
    uint32_t qh;
    memcpy(&qh, b.qh, 4);
    for (int j = 0; j < 32; ++j)
        ck_assert_uint_eq((qh >> j) & 1, q[j] >> 4);
    ckpt_dequantize_row_q5_1(&b, y, 32);
    for (int j = 0; j < 32; ++j)
        ck_assert(y[j] == x[j]);
    /* with an imatrix the search finds the same exact fit */
    float ones[32];
    for (int j = 0; j < 32; ++j)
        ones[j] = 1;
    block_q5_1 bw;
    ckpt_quantize_q5_1(x, &bw, 1, 32, ones);
    ckpt_dequantize_row_q5_1(&bw, y, 32);
    for (int j = 0; j < 32; ++j)
        ck_assert_msg(fabsf(y[j] - x[j]) < 1e-3f, "q5_1 weighted col %d: %g vs %g", j,
                      (double)y[j], (double)x[j]);
}
END_TEST

/* iq4_nl: the table, the nibble layout, and exact recovery of table values */
START_TEST(iq4_nl_blocks)
{
    static const int8_t want_levels[16] = {-127, -104, -83, -65, -49, -35, -22, -10,
                                           1,    13,   25,  38,  53,  69,  89,  113};
    ck_assert_mem_eq(ckpt_kvalues_iq4nl, want_levels, 16);

    /* decode a hand-made block: d = 0.5, element j = level j%16 */
    block_iq4_nl b;
    b.d = 0x3800;
    for (int j = 0; j < 16; ++j)
        b.qs[j] = (uint8_t)(j | (15 - j) << 4);
    float y[32];
    ckpt_dequantize_row_iq4_nl(&b, y, 32);
    for (int j = 0; j < 16; ++j) {
        ck_assert(y[j] == 0.5f * want_levels[j]);
        ck_assert(y[j + 16] == 0.5f * want_levels[15 - j]);
    }

    /* values on the grid come back with their indices, with and without imatrix */
    float x[32], w[32];
    uint8_t idx[32];
    for (int j = 0; j < 32; ++j) {
        idx[j] = (uint8_t)((j * 3) % 16);
        x[j] = 0.01f * want_levels[idx[j]];
        w[j] = 1.0f + j % 3;
    }
    for (int weighted = 0; weighted < 2; ++weighted) {
        block_iq4_nl q;
        ckpt_quantize_iq4_nl(x, &q, 1, 32, weighted ? w : NULL);
        for (int j = 0; j < 16; ++j)
            ck_assert_uint_eq(q.qs[j], idx[j] | idx[j + 16] << 4);
        ck_assert(fabsf(ckpt_f16_to_f32(q.d) - 0.01f) < 1e-5f);
    }

    /* an all-zero block: scale 0, every index the level nearest 0 (1, index 8) */
    memset(x, 0, sizeof x);
    block_iq4_nl z;
    ckpt_quantize_iq4_nl(x, &z, 1, 32, NULL);
    ck_assert_uint_eq(z.d, 0);
    for (int j = 0; j < 16; ++j)
        ck_assert_uint_eq(z.qs[j], 0x88);
}
END_TEST

/* zero rows give zero scales and dequantize to zeros for every type */
START_TEST(zero_rows)
{
    static const ckpt_type all[] = {CKPT_TYPE_Q4_0, CKPT_TYPE_Q4_1, CKPT_TYPE_Q5_0,
                                    CKPT_TYPE_Q5_1, CKPT_TYPE_Q8_0, CKPT_TYPE_Q2_K,
                                    CKPT_TYPE_Q3_K, CKPT_TYPE_Q4_K, CKPT_TYPE_Q5_K,
                                    CKPT_TYPE_Q6_K, CKPT_TYPE_Q8_K, CKPT_TYPE_IQ4_NL};
    static float x[256], y[256], ones[256];
    static uint8_t q[1024];
    for (int i = 0; i < 256; ++i)
        ones[i] = 1;
    for (size_t k = 0; k < sizeof all / sizeof all[0]; ++k) {
        for (int weighted = 0; weighted < 2; ++weighted) {
            ckpt_err err;
            ckpt_err_clear(&err);
            ck_assert_int_eq(ckpt_quantize_rows(all[k], x, q, 1, 256, weighted ? ones : NULL, &err),
                             CKPT_OK);
            ck_assert(ckpt_dequantize_row(all[k], q, y, 256));
            for (int i = 0; i < 256; ++i)
                ck_assert_msg(y[i] == 0.0f, "%s: zero row dequantizes to %g at %d",
                              ckpt_type_name(all[k]), (double)y[i], i);
        }
    }
}
END_TEST

/* ---- the validating front end ---- */

START_TEST(checked_equals_unchecked)
{
    float *in = load_inputs();
    float *imat = load("imatrix_A.f32", N_COLS * 4);
    size_t rb = row_bytes(CKPT_TYPE_Q4_K);
    uint8_t *a = calloc(N_ROWS, rb), *b = calloc(N_ROWS, rb);
    ckpt_err err;
    ckpt_err_clear(&err);
    /* rows 0..6 are ordinary data */
    ck_assert_int_eq(ckpt_quantize_rows(CKPT_TYPE_Q4_K, in, a, 7, N_COLS, imat, &err), CKPT_OK);
    ckpt_quantize_rows_unchecked(CKPT_TYPE_Q4_K, in, b, 7, N_COLS, imat);
    ck_assert_mem_eq(a, b, 7 * rb);
    free(a);
    free(b);
    free(imat);
    free(in);
}
END_TEST

static void expect_error(ckpt_type t, const float *x, int64_t rows, int64_t n, const float *imat,
                         ckpt_status code, const char *substr)
{
    static uint8_t out[64 * 1024];
    ckpt_err err;
    ckpt_err_clear(&err);
    ck_assert_int_eq(ckpt_quantize_rows(t, x, out, rows, n, imat, &err), code);
    ck_assert_int_eq(err.code, code);
    ck_assert_msg(strstr(err.msg, substr) != NULL, "message '%s' lacks '%s'", err.msg, substr);
}

START_TEST(error_nan_and_inf_rows)
{
    static float x[3 * 256];
    cos_data(x, 3 * 256, 0);
    x[256 + 17] = NAN;
    expect_error(CKPT_TYPE_Q4_K, x, 3, 256, NULL, CKPT_E_VALUE, "row 1, column 17: value is nan");
    x[256 + 17] = 0;
    x[2 * 256 + 255] = -INFINITY;
    expect_error(CKPT_TYPE_Q8_0, x, 3, 256, NULL, CKPT_E_VALUE, "row 2, column 255: value is -inf");
    x[2 * 256 + 255] = INFINITY;
    expect_error(CKPT_TYPE_F16, x, 3, 256, NULL, CKPT_E_VALUE, "row 2, column 255: value is +inf");
    x[2 * 256 + 255] = 0;
    static float imat[256];
    imat[9] = NAN;
    expect_error(CKPT_TYPE_Q6_K, x, 3, 256, imat, CKPT_E_VALUE, "column 9 is nan");
}
END_TEST

START_TEST(error_scale_overflow)
{
    /* row 10 of the vectors (~1e7): q8_0 and q4_0 scales become f16 inf */
    float *in = load_inputs();
    expect_error(CKPT_TYPE_Q8_0, in + 9 * N_COLS, 2, N_COLS, NULL, CKPT_E_VALUE, "q8_0: row 1, block");
    expect_error(CKPT_TYPE_Q4_0, in + 10 * N_COLS, 1, N_COLS, NULL, CKPT_E_VALUE, "row 0, block 0");
    expect_error(CKPT_TYPE_Q4_K, in + 10 * N_COLS, 1, N_COLS, NULL, CKPT_E_VALUE, "inf or nan");
    /* row 7 (~1e-30) with an imatrix: the weights underflow and the scale fit gives NaN */
    float *imat = load("imatrix_A.f32", N_COLS * 4);
    expect_error(CKPT_TYPE_Q4_K, in + 7 * N_COLS, 1, N_COLS, imat, CKPT_E_VALUE, "row 0, block 0");
    /* a finite value beyond f16 range, stored as F16 */
    static float big[32];
    big[5] = 1e6f;
    expect_error(CKPT_TYPE_F16, big, 1, 32, NULL, CKPT_E_VALUE, "column 5: value 1e+06 overflows");
    free(imat);
    free(in);

    /* the scale check on its own */
    block_q4_K b;
    memset(&b, 0, sizeof b);
    int64_t bad = -1;
    ck_assert(ckpt_quant_row_scales_ok(CKPT_TYPE_Q4_K, &b, 256, &bad));
    b.dmin = 0x7c00;
    ck_assert(!ckpt_quant_row_scales_ok(CKPT_TYPE_Q4_K, &b, 256, &bad));
    ck_assert_int_eq(bad, 0);
}
END_TEST

START_TEST(error_usage)
{
    static float x[64];
    expect_error(CKPT_TYPE_Q4_K, x, 1, 64, NULL, CKPT_E_USAGE, "not a positive multiple of 256");
    expect_error(CKPT_TYPE_Q8_0, x, 1, 48, NULL, CKPT_E_USAGE, "multiple of 32");
    expect_error(CKPT_TYPE_IQ2_XXS, x, 1, 256, NULL, CKPT_E_UNSUPPORTED, "iq2_xxs");
    expect_error((ckpt_type)4, x, 1, 32, NULL, CKPT_E_UNSUPPORTED, "cannot quantize");
    ck_assert(!ckpt_quant_supported(CKPT_TYPE_Q8_1));
    ck_assert(ckpt_quant_supported(CKPT_TYPE_IQ4_NL));
    ck_assert(ckpt_quant_supported(CKPT_TYPE_BF16));
    float y[32];
    ck_assert(!ckpt_dequantize_row(CKPT_TYPE_Q4_0, x, y, 31));
    ck_assert(!ckpt_dequantize_row(CKPT_TYPE_IQ2_XS, x, y, 256));
    ck_assert_uint_eq(ckpt_quantize_rows_unchecked(CKPT_TYPE_Q6_K, x, y, 1, 32, NULL), 0);
}
END_TEST

/* the plain types convert exactly as fp16.h does */
START_TEST(plain_types)
{
    float x[8] = {1.0f, -2.5f, 65504.0f, 1e-8f, 0.1f, -0.0f, 3.0f, 1e30f};
    uint16_t h[8];
    float y[8];
    ckpt_err err;
    ckpt_err_clear(&err);
    ck_assert_int_eq(ckpt_quantize_rows(CKPT_TYPE_BF16, x, h, 1, 8, NULL, &err), CKPT_OK);
    ck_assert(ckpt_dequantize_row(CKPT_TYPE_BF16, h, y, 8));
    for (int i = 0; i < 8; ++i)
        ck_assert(y[i] == ckpt_bf16_to_f32(ckpt_f32_to_bf16(x[i])));
    ck_assert_int_eq(ckpt_quantize_rows(CKPT_TYPE_F16, x, h, 1, 7, NULL, &err), CKPT_OK);
    ck_assert(ckpt_dequantize_row(CKPT_TYPE_F16, h, y, 7));
    for (int i = 0; i < 7; ++i)
        ck_assert(y[i] == ckpt_f16_to_f32(ckpt_f32_to_f16(x[i])));
    float z[8];
    ck_assert_int_eq(ckpt_quantize_rows(CKPT_TYPE_F32, x, z, 2, 4, NULL, &err), CKPT_OK);
    ck_assert(ckpt_dequantize_row(CKPT_TYPE_F32, z, y, 8));
    ck_assert_mem_eq(y, x, sizeof x);
}
END_TEST

Suite *quant_suite(void)
{
    Suite *s = suite_create("quant");

    TCase *tc = tcase_create("vectors");
    tcase_set_timeout(tc, 30);
    tcase_add_loop_test(tc, ref_bytes_match_ggml, 0, N_VEC_TYPES);
    tcase_add_loop_test(tc, imatrix_bytes_match_ggml, 0, 2 * N_VEC_TYPES);
    tcase_add_loop_test(tc, dequant_bits_match_ggml, 0, 3 * N_VEC_TYPES);
    tcase_add_test(tc, row_ref_equals_dispatch);
    suite_add_tcase(s, tc);

    tc = tcase_create("core");
    tcase_set_timeout(tc, 30);
    tcase_add_loop_test(tc, round_trip_rmse_bounds, 0, (int)(sizeof rt_types / sizeof rt_types[0]));
    tcase_add_test(tc, round_trip_ordering);
    tcase_add_test(tc, q4_1_exact_block);
    tcase_add_test(tc, q5_0_exact_block);
    tcase_add_test(tc, q5_1_exact_block);
    tcase_add_test(tc, iq4_nl_blocks);
    tcase_add_test(tc, zero_rows);
    tcase_add_test(tc, plain_types);
    suite_add_tcase(s, tc);

    tc = tcase_create("limits");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, checked_equals_unchecked);
    tcase_add_test(tc, error_nan_and_inf_rows);
    tcase_add_test(tc, error_scale_overflow);
    tcase_add_test(tc, error_usage);
    suite_add_tcase(s, tc);
    return s;
}
