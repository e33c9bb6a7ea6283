/*
 * check_vec_dot.c - the quantized-activation dots (kernels/vec_dot.c and
 * its AVX2 siblings): for every weight type of the scalar table, on random
 * rows, the avx2 kernel returns the same bits as its scalar twin; the
 * scalar twin equals an independent double-precision dot of the
 * dequantized weights and the dequantized activations (f32 rounding
 * only); and it stays within the activation-rounding bound of the exact
 * dot with the unquantized activations,
 *
 *     |dot_q - w.x| <= sum over blocks b of 0.6 * d_b * sum_b |w|  + 1e-5 * sum |w x|
 *
 * (d_b the activation block's step: half a step of rounding, plus the f16
 * rounding of the q8_0 scale).  The AVX2 activation quantizers write the
 * bytes of the reference quantizers, zero, huge and non-finite blocks
 * included; the tile forms (four rows by 1 to CKPT_VEC_TILE_NP_MAX
 * positions) give each output the bits of the single dot, and so does the
 * K-slice tile however the row is sliced; the k-quant tiles give the bits
 * of the scalar twin on hostile blocks (values and scales at the bounds of
 * their int16 sums, zero, huge and denormal scales).
 */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/dispatch.h"
#include "kernels/dot.h"
#include "kernels/fp16.h"
#include "kernels/kernels_test.h"
#include "kernels/quant.h"
#include "kernels/vec_dot.h"

static const ckpt_type types[] = {CKPT_TYPE_Q8_0, CKPT_TYPE_Q4_0, CKPT_TYPE_Q4_1,
                                  CKPT_TYPE_Q5_0, CKPT_TYPE_Q5_1, CKPT_TYPE_IQ4_NL,
                                  CKPT_TYPE_Q2_K, CKPT_TYPE_Q3_K, CKPT_TYPE_Q4_K,
                                  CKPT_TYPE_Q5_K, CKPT_TYPE_Q6_K, CKPT_TYPE_F16,
                                  CKPT_TYPE_BF16, CKPT_TYPE_F32};
#define N_TYPES (int)(sizeof types / sizeof types[0])
static const int64_t lens[] = {256, 4096, 1536, 14336};
/* tile widths: one register tile, one of three, both, the widest */
static const int tile_np[] = {1, 2, 3, 4, 5, 7, 8, 13, CKPT_VEC_TILE_NP_MAX};

static uint32_t rng;
static float frand(void)
{
    rng = rng * 1664525u + 1013904223u;
    return (float)((rng >> 8) & 0xffffff) / 16777216.0f * 2.0f - 1.0f;
}

/* The K-slice tile of CKPT_VEC_TILE_K_ROWS rows (w8, wb bytes apart) and
 * np positions (act, ar bytes apart) in slices of `slice` elements,
 * running sums carried between calls: each value the bits of the row's
 * single dot. */
static void assert_tile_k(const struct ckpt_vec_dot *row, const uint8_t *w8, size_t wb,
                          const uint8_t *act, size_t ar, int64_t n, int np, int64_t slice)
{
    float *acc = calloc((size_t)np * CKPT_VEC_TILE_K_ROWS * CKPT_VEC_TILE_LANES, sizeof(float));
    float *v = malloc(sizeof(float) * CKPT_VEC_TILE_K_ROWS * CKPT_VEC_TILE_K_NP_MAX);
    ck_assert_ptr_nonnull(acc);
    ck_assert_ptr_nonnull(v);
    for (int64_t k0 = 0; k0 < n; k0 += slice)
        row->tile_k(w8, wb, act, ar, n, k0, n - k0 <= slice ? n : k0 + slice, np, acc, v);
    for (int r = 0; r < CKPT_VEC_TILE_K_ROWS; r++)
        for (int p = 0; p < np; p++)
            ck_assert_msg(ckpt_f32_bits(v[r * np + p]) ==
                              ckpt_f32_bits(row->dot(w8 + r * wb, act + p * ar, n)),
                          "n=%lld tile_k %d in slices of %lld: row %d position %d", (long long)n,
                          np, (long long)slice, r, p);
    free(acc);
    free(v);
}

static const struct ckpt_vec_dot *isa_row(ckpt_isa isa, ckpt_type t)
{
    const struct ckpt_kernels *k = ckpt_kernels_of(isa);
    return k ? &k->vec_dot[t] : NULL;
}

static const struct ckpt_vec_dot *avx2_row(ckpt_type t) { return isa_row(CKPT_ISA_AVX2, t); }

/* the vector ISAs of the q8 semantic, each checked against the scalar
 * twins where the CPU runs it (avx512 only where it has AVX-512) */
static const ckpt_isa vector_isas[] = {CKPT_ISA_AVX2, CKPT_ISA_AVX512};

START_TEST(avx2_equals_ref_and_bounds_hold)
{
    const ckpt_type t = types[_i % N_TYPES];
    const int64_t n = lens[_i / N_TYPES];
    const struct ckpt_vec_dot *ref = &ckpt_vec_dot_table_ref[t];
    ck_assert(ref->dot != NULL);
    rng = 1234u + (uint32_t)_i;
    float *w = malloc(sizeof(float) * (size_t)n), *x = malloc(sizeof(float) * (size_t)n);
    float *wd = malloc(sizeof(float) * (size_t)n), *xd = malloc(sizeof(float) * (size_t)n);
    for (int64_t i = 0; i < n; i++) {
        w[i] = 0.1f + 2.0f * cosf((float)i + 0.3f * (float)_i) * frand();
        /* activations with a few outliers, as real hidden states have */
        x[i] = frand() * (i % 97 == 5 ? 20.0f : 1.0f);
    }
    size_t wb;
    ck_assert(ckpt_type_row_bytes(t, n, &wb));
    void *wq = malloc(wb), *xq = malloc(ckpt_act_row_bytes(ref->act, n) + 1);
    ck_assert_uint_eq(ckpt_quantize_rows_unchecked(t, w, wq, 1, n, NULL), wb);
    ck_assert(ckpt_dequantize_row(t, wq, wd, n));
    const void *act = x;
    int64_t ab = ref->act == CKPT_TYPE_Q8_K ? 256 : 32;
    if (ref->act == CKPT_TYPE_Q8_0)
        ckpt_act_quant_ref.q8_0(x, xq, n);
    else if (ref->act == CKPT_TYPE_Q8_K)
        ckpt_act_quant_ref.q8_K(x, xq, n);
    if (ref->act != CKPT_TYPE_F32) {
        ck_assert(ckpt_dequantize_row(ref->act, xq, xd, n));
        act = xq;
    } else {
        memcpy(xd, x, sizeof(float) * (size_t)n);
    }
    const float got = ref->dot(wq, act, n);

    /* the scalar twin against an independent dot of what it multiplies */
    double exact_q = 0, abs_q = 0, exact = 0, abs_x = 0, bound = 0;
    for (int64_t i = 0; i < n; i++) {
        exact_q += (double)wd[i] * xd[i];
        abs_q += fabs((double)wd[i] * xd[i]);
        exact += (double)wd[i] * x[i];
        abs_x += fabs((double)wd[i] * x[i]);
    }
    ck_assert_msg(fabs(got - exact_q) <= 1e-5 * abs_q + 1e-30, "%s n=%lld: %.9g vs %.9g",
                  ckpt_type_name(t), (long long)n, (double)got, exact_q);
    if (ref->act != CKPT_TYPE_F32) {
        for (int64_t b = 0; b < n; b += ab) {
            double amax = 0, sw = 0;
            for (int64_t i = b; i < b + ab; i++) {
                amax = fmax(amax, fabs(x[i]));
                sw += fabs(wd[i]);
            }
            bound += 0.6 * amax / 127.0 * sw;
        }
    }
    ck_assert_msg(fabs(got - exact) <= bound + 1e-5 * abs_x + 1e-30,
                  "%s n=%lld: %.9g vs unquantized %.9g, bound %g", ckpt_type_name(t),
                  (long long)n, (double)got, exact, bound);

    for (size_t vi = 0; vi < sizeof vector_isas / sizeof vector_isas[0]; vi++) {
        const struct ckpt_vec_dot *fast = isa_row(vector_isas[vi], t);
        if (!fast)
            continue;
        const char *isa = ckpt_isa_name(vector_isas[vi]);
        ck_assert_int_eq(fast->act, ref->act);
        float f = fast->dot(wq, act, n);
        ck_assert_msg(ckpt_f32_bits(f) == ckpt_f32_bits(got), "%s n=%lld: %s %.9g ref %.9g",
                      ckpt_type_name(t), (long long)n, isa, (double)f, (double)got);
        if (fast->tile) { /* tiles of any width: each value the single dot's bits */
            /* CKPT_VEC_TILE_NP_MAX activation rows, each a rotation of x
             * in the row's activation type (quantized as the forward pass
             * quantizes), and four weight rows that differ in a few bits */
            const size_t ar = ref->act == CKPT_TYPE_F32 ? sizeof(float) * (size_t)n
                                                        : ckpt_act_row_bytes(ref->act, n);
            float *xk = malloc(sizeof(float) * (size_t)n);
            uint8_t *a3 = malloc(ar * CKPT_VEC_TILE_K_NP_MAX);
            float *v = malloc(sizeof(float) * 4 * CKPT_VEC_TILE_NP_MAX);
            uint8_t *w4 = malloc(CKPT_VEC_TILE_K_ROWS * wb); /* the tile reads four */
            for (int k = 0; k < CKPT_VEC_TILE_K_NP_MAX; k++) {
                for (int64_t i = 0; i < n; i++)
                    xk[i] = x[(i + 17 * k) % n] * (k % 5 == 2 ? -3.0f : 1.0f);
                uint8_t *row = a3 + (size_t)k * ar;
                if (ref->act == CKPT_TYPE_Q8_0)
                    ckpt_act_quant_ref.q8_0(xk, row, n);
                else if (ref->act == CKPT_TYPE_Q8_K)
                    ckpt_act_quant_ref.q8_K(xk, row, n);
                else
                    memcpy(row, xk, ar);
            }
            for (int r = 0; r < CKPT_VEC_TILE_K_ROWS; r++)
                memcpy(w4 + r * wb, wq, wb);
            for (size_t b = 3; b < wb; b += 11) /* other rows, same exponents mostly */
                for (int r = 1; r < CKPT_VEC_TILE_K_ROWS; r += 2)
                    w4[r * wb + b] ^= (uint8_t)(r / 2 + 1);
            for (size_t c = 0; c < sizeof tile_np / sizeof tile_np[0]; c++) {
                const int np = tile_np[c];
                fast->tile(w4, wb, a3, ar, n, np, v);
                for (int r = 0; r < 4; r++)
                    for (int p = 0; p < np; p++)
                        ck_assert_msg(ckpt_f32_bits(v[r * np + p]) ==
                                          ckpt_f32_bits(fast->dot(w4 + r * wb, a3 + p * ar, n)),
                                      "%s %s tile %d: row %d position %d", isa,
                                      ckpt_type_name(t), np, r, p);
                for (int64_t slice = CKPT_VEC_TILE_K_STEP;
                     fast->tile_k && slice < 4 * CKPT_VEC_TILE_K_STEP;
                     slice += 2 * CKPT_VEC_TILE_K_STEP)
                    assert_tile_k(fast, w4, wb, a3, ar, n, np, slice);
            }
            if (fast->tile_k) /* the widest K-slice tile: a whole step */
                assert_tile_k(fast, w4, wb, a3, ar, n, CKPT_VEC_TILE_K_NP_MAX,
                              CKPT_VEC_TILE_K_STEP);
            { /* a decode step's spread tile: rows three row lengths apart */
                uint8_t *ws = calloc(10, wb);
                for (int r = 0; r < 4; r++)
                    memcpy(ws + (size_t)(3 * r) * wb, w4 + r * wb, wb);
                fast->tile(ws, 3 * wb, a3, ar, n, 1, v);
                for (int r = 0; r < 4; r++)
                    ck_assert_msg(ckpt_f32_bits(v[r]) ==
                                      ckpt_f32_bits(fast->dot(w4 + r * wb, a3, n)),
                                  "%s %s spread tile: row %d", isa, ckpt_type_name(t), r);
                free(ws);
            }
            free(xk);
            free(a3);
            free(v);
            free(w4);
        }
    }
    free(w);
    free(x);
    free(wd);
    free(xd);
    free(wq);
    free(xq);
}
END_TEST

/* 8 blocks of 256: random, zero, one huge, NaN, +Inf, ties at 0.5 steps,
 * the largest magnitude twice with both signs, denormals */
static void act_rows(float *x)
{
    rng = 99u;
    for (int i = 0; i < 2048; i++)
        x[i] = frand() * 3.0f;
    for (int i = 256; i < 512; i++)
        x[i] = 0.0f;
    x[600] = 3.0e38f;
    x[800] = NAN;
    x[1100] = INFINITY;
    for (int i = 1280; i < 1536; i++)
        x[i] = (float)(i % 255 - 127) * 0.5f;
    x[1600] = -4.0f;
    x[1700] = 4.0f;
    for (int i = 1792; i < 2048; i++)
        x[i] = 1e-40f * (float)(i % 7 - 3);
}

START_TEST(avx2_act_quant_bytes)
{
    const struct ckpt_kernels *k = ckpt_kernels_of(CKPT_ISA_AVX2);
    if (!k)
        return;
    float x[2048];
    act_rows(x);
    uint8_t a[8 * 292 + 64], b[8 * 292 + 64];
    memset(a, 0x55, sizeof a);
    memset(b, 0x55, sizeof b);
    ckpt_act_quant_ref.q8_K(x, a, 2048);
    k->act_quant->q8_K(x, b, 2048);
    for (int blk = 0; blk < 8; blk++)
        ck_assert_msg(memcmp(a + 292 * blk, b + 292 * blk, 292) == 0, "q8_K block %d", blk);
    memset(a, 0x55, sizeof a);
    memset(b, 0x55, sizeof b);
    ckpt_act_quant_ref.q8_0(x, a, 2048);
    k->act_quant->q8_0(x, b, 2048);
    for (int blk = 0; blk < 64; blk++)
        ck_assert_msg(memcmp(a + 34 * blk, b + 34 * blk, 34) == 0, "q8_0 block %d", blk);
}
END_TEST

/* The scalar ISA's table is the scalar twins: a row for every weight type
 * listed above (the k-quants, the 32-element types, IQ4_NL, F16/BF16/F32),
 * each with the activation type of the avx2 row, and no weight type that
 * avx2 dots with quantized activations and scalar would widen; the
 * reference activation quantizers (the bytes of avx2's, see above). */
START_TEST(scalar_isa_has_every_twin)
{
    const struct ckpt_kernels *k = ckpt_kernels_of(CKPT_ISA_SCALAR);
    ck_assert_ptr_nonnull(k);
    ck_assert_ptr_eq(k->vec_dot, ckpt_vec_dot_table_ref);
    ck_assert_ptr_eq(k->act_quant, &ckpt_act_quant_ref);
    /* ggml's pairing: k-quants with q8_K, 32-element blocks with q8_0 */
    for (int i = 0; i < N_TYPES; i++) {
        const ckpt_type t = types[i];
        const ckpt_type want = t == CKPT_TYPE_F32 || t == CKPT_TYPE_F16 || t == CKPT_TYPE_BF16
                                   ? CKPT_TYPE_F32
                               : ckpt_type_traits(t)->block_elems == 256 ? CKPT_TYPE_Q8_K
                                                                         : CKPT_TYPE_Q8_0;
        ck_assert_msg(k->vec_dot[t].dot != NULL, "%s", ckpt_type_name(t));
        ck_assert_int_eq(k->vec_dot[t].act, want);
    }
    const struct ckpt_vec_dot *avx2 = avx2_row(CKPT_TYPE_F32);
    for (int t = 0; avx2 && t < CKPT_TYPE_COUNT; t++) {
        const struct ckpt_vec_dot *a = avx2_row((ckpt_type)t);
        ck_assert_msg(!a->dot == !k->vec_dot[t].dot, "type %d: a row in one table only", t);
        if (a->dot)
            ck_assert_int_eq(a->act, k->vec_dot[t].act);
    }
}
END_TEST

START_TEST(act_row_bytes)
{
    ck_assert_uint_eq(ckpt_act_row_bytes(CKPT_TYPE_Q8_K, 512), 2 * 292);
    ck_assert_uint_eq(ckpt_act_row_bytes(CKPT_TYPE_Q8_0, 64), 68);
    ck_assert_uint_eq(ckpt_act_row_bytes(CKPT_TYPE_Q8_K, 100), 0);
    ck_assert_uint_eq(ckpt_act_row_bytes(CKPT_TYPE_Q4_K, 256), 0);
    ck_assert_ptr_null(ckpt_kernels_of(CKPT_ISA_F64)->vec_dot);
}
END_TEST

/* The ref table's AVX2 rows (F32/F16/BF16) give the scalar reference's
 * bits, tails and tiles included. */
START_TEST(refx_equals_scalar_ref)
{
    static const ckpt_type ft[] = {CKPT_TYPE_F32, CKPT_TYPE_F16, CKPT_TYPE_BF16};
    static const int64_t fn[] = {1, 13, 1000, 4096};
    const struct ckpt_kernels *k = ckpt_kernels_of(CKPT_ISA_REF);
    ck_assert_ptr_null(ckpt_kernels_scalar_ref()->vec_dot);
    if (!k->vec_dot)
        return; /* no AVX2: the ref table is the scalar one */
    const ckpt_type t = ft[_i % 3];
    const int64_t n = fn[_i / 3];
    rng = 77u + (uint32_t)_i;
    const int nr = CKPT_VEC_TILE_K_ROWS; /* the four-row tile reads the first four */
    float *w = malloc(sizeof(float) * (size_t)(nr * n));
    float *x = malloc(sizeof(float) * (size_t)(CKPT_VEC_TILE_K_NP_MAX * n));
    float *v = malloc(sizeof(float) * 4 * CKPT_VEC_TILE_NP_MAX);
    for (int64_t i = 0; i < nr * n; i++)
        w[i] = frand() * (i % 11 == 3 ? 8.0f : 0.5f);
    for (int64_t i = 0; i < CKPT_VEC_TILE_K_NP_MAX * n; i++)
        x[i] = frand();
    size_t rb;
    ck_assert(ckpt_type_row_bytes(t, n, &rb));
    uint8_t *wq = malloc((size_t)nr * rb);
    ck_assert_uint_eq(ckpt_quantize_rows_unchecked(t, w, wq, nr, n, NULL), (size_t)nr * rb);
    const struct ckpt_vec_dot *row = &k->vec_dot[t];
    for (size_t c = 0; c < sizeof tile_np / sizeof tile_np[0]; c++) {
        const int np = tile_np[c];
        row->tile(wq, rb, x, sizeof(float) * (size_t)n, n, np, v);
        for (int r = 0; r < 4; r++)
            for (int p = 0; p < np; p++) {
                float want = ckpt_dot_row(t, wq + r * rb, x + p * n, n);
                ck_assert_msg(ckpt_f32_bits(v[r * np + p]) == ckpt_f32_bits(want),
                              "%s n=%lld tile %d row %d pos %d: %.9g vs %.9g", ckpt_type_name(t),
                              (long long)n, np, r, p, (double)v[r * np + p], (double)want);
                ck_assert(ckpt_f32_bits(row->dot(wq + r * rb, x + p * n, n)) ==
                          ckpt_f32_bits(want));
            }
        assert_tile_k(row, wq, rb, (const uint8_t *)x, sizeof(float) * (size_t)n, n, np,
                      CKPT_VEC_TILE_K_STEP);
    }
    assert_tile_k(row, wq, rb, (const uint8_t *)x, sizeof(float) * (size_t)n, n,
                  CKPT_VEC_TILE_K_NP_MAX, CKPT_VEC_TILE_K_STEP);
    free(w);
    free(x);
    free(v);
    free(wq);
}
END_TEST

/* Where the f16 scales of a k-quant block sit (quant_blocks.h): d, and
 * dmin (or -1 for the types without mins). */
static const struct {
    ckpt_type t;
    int d, dmin;
} k_scales[] = {{CKPT_TYPE_Q2_K, 80, 82},
                {CKPT_TYPE_Q3_K, 108, -1},
                {CKPT_TYPE_Q4_K, 0, 2},
                {CKPT_TYPE_Q5_K, 0, 2},
                {CKPT_TYPE_Q6_K, 208, -1}};

/* Block contents of the k-quant tile cases, weights and activations:
 * random bytes; every value and scale at its largest (the int16 sums of a
 * tile at their bound, activations -128 and 127); all zero; huge scales
 * (f16 65504, activation d 1e20); denormal f16 scales and tiny d. */
enum { KT_RANDOM, KT_MAX_POS, KT_MAX_NEG, KT_ZERO, KT_HUGE, KT_TINY, KT_CASES };

static const uint16_t kt_f16[KT_CASES][2] = {{0, 0},          {0x7BFF, 0x7BFF}, {0x7BFF, 0x7BFF},
                                             {0x3C00, 0x3C00}, {0x7BFF, 0x7BFF}, {0x0001, 0x0003}};

static void kt_weights(uint8_t *blk, size_t bb, int d, int dmin, int kase)
{
    for (size_t b = 0; b < bb; b++)
        blk[b] = kase == KT_MAX_POS || kase == KT_MAX_NEG ? 0xFF
                 : kase == KT_ZERO                        ? 0
                                                          : (uint8_t)(frand() * 128.0f + 128.0f);
    if (kase == KT_MAX_NEG && d == 208) /* q6_K: int8 scales, the most negative */
        memset(blk + 192, 0x80, 16);
    /* random f16 scales between 2^-8 and 2^4 unless the case fixes them */
    uint16_t hd = kt_f16[kase][0], hm = kt_f16[kase][1];
    if (kase == KT_RANDOM) {
        hd = (uint16_t)(0x1C00 + (uint16_t)((frand() + 1.0f) * 0x2000));
        hm = (uint16_t)(0x1C00 + (uint16_t)((frand() + 1.0f) * 0x2000));
    }
    memcpy(blk + d, &hd, 2);
    if (dmin >= 0)
        memcpy(blk + dmin, &hm, 2);
}

static void kt_act(block_q8_K *y, int kase)
{
    static const float dy[KT_CASES] = {0.0f, 0.5f, 0.5f, 0.0f, 1e20f, 1e-30f};
    y->d = kase == KT_RANDOM ? (frand() + 1.5f) * 0.01f : dy[kase];
    for (int e = 0; e < 256; e++)
        y->qs[e] = kase == KT_MAX_POS  ? 127
                   : kase == KT_MAX_NEG ? -128
                   : kase == KT_ZERO    ? 0
                                        : (int8_t)(frand() * 128.0f);
    if (kase == KT_MAX_NEG) /* both signs in one block, still at the extremes */
        for (int e = 0; e < 256; e += 3)
            y->qs[e] = 127;
    for (int g = 0; g < 16; g++) {
        int sum = 0;
        for (int e = 16 * g; e < 16 * g + 16; e++)
            sum += y->qs[e];
        y->bsums[g] = (int16_t)sum;
    }
}

/* Every k-quant tile of every vector ISA against the scalar twin itself,
 * on hostile blocks: eight independent rows, of one block and of the
 * longest rows (14336); the four-row tile at every width and the K-slice
 * tile over the eight rows at widths up to a whole step, in slices of one
 * and of three blocks; each value the twin's bits. */
START_TEST(k_tiles_equal_scalar_twin)
{
    const int kase = _i % KT_CASES;
    const int64_t n = _i / KT_CASES ? 14336 : 256;
    const int64_t nb = n / 256;
    const int R = CKPT_VEC_TILE_K_ROWS, NPK = CKPT_VEC_TILE_K_NP_MAX;
    for (size_t k = 0; k < sizeof k_scales / sizeof k_scales[0]; k++) {
        const ckpt_type t = k_scales[k].t;
        rng = 4321u + (uint32_t)_i;
        const size_t bb = ckpt_type_traits(t)->block_bytes, rb = bb * (size_t)nb;
        const size_t ar = sizeof(block_q8_K) * (size_t)nb + 3; /* rows at odd offsets */
        uint8_t *w = malloc((size_t)R * rb + 1), *a = malloc(ar * (size_t)NPK);
        float *v = malloc(sizeof(float) * (size_t)R * (size_t)NPK);
        float *acc = malloc(sizeof(float) * (size_t)R * (size_t)NPK * CKPT_VEC_TILE_LANES);
        float *want = malloc(sizeof(float) * (size_t)R * (size_t)NPK);
        for (int r = 0; r < R; r++)
            for (int64_t b = 0; b < nb; b++)
                kt_weights(w + 1 + r * rb + (size_t)b * bb, bb, k_scales[k].d, k_scales[k].dmin,
                           kase);
        for (int p = 0; p < NPK; p++)
            for (int64_t b = 0; b < nb; b++) {
                block_q8_K y;
                kt_act(&y, kase);
                memcpy(a + (size_t)p * ar + (size_t)b * sizeof y, &y, sizeof y);
            }
        for (int r = 0; r < R; r++)
            for (int p = 0; p < NPK; p++)
                want[r * NPK + p] = ckpt_vec_dot_table_ref[t].dot(w + 1 + r * rb, a + p * ar, n);
        for (size_t vi = 0; vi < sizeof vector_isas / sizeof vector_isas[0]; vi++) {
            const struct ckpt_vec_dot *fast = isa_row(vector_isas[vi], t);
            const char *isa = ckpt_isa_name(vector_isas[vi]);
            for (size_t c = 0; fast && fast->tile && c < sizeof tile_np / sizeof tile_np[0]; c++) {
                const int np = tile_np[c];
                fast->tile(w + 1, rb, a, ar, n, np, v);
                for (int r = 0; r < 4; r++)
                    for (int p = 0; p < np; p++)
                        ck_assert_msg(ckpt_f32_bits(v[r * np + p]) ==
                                          ckpt_f32_bits(want[r * NPK + p]),
                                      "%s %s case %d n=%lld tile %d row %d pos %d: %.9g vs %.9g",
                                      isa, ckpt_type_name(t), kase, (long long)n, np, r, p,
                                      (double)v[r * np + p], (double)want[r * NPK + p]);
            }
            static const int k_np[] = {1, 2, 3, 4, 5, 7, 8, 9, 13, CKPT_VEC_TILE_K_NP_MAX};
            for (size_t c = 0; fast && fast->tile_k && c < sizeof k_np / sizeof k_np[0]; c++)
                for (int64_t slice = 256; slice <= 768; slice += 512) {
                    const int np = k_np[c];
                    memset(acc, 0, sizeof(float) * (size_t)R * (size_t)np * CKPT_VEC_TILE_LANES);
                    for (int64_t k0 = 0; k0 < n; k0 += slice)
                        fast->tile_k(w + 1, rb, a, ar, n, k0, n - k0 <= slice ? n : k0 + slice, np,
                                     acc, v);
                    for (int r = 0; r < R; r++)
                        for (int p = 0; p < np; p++)
                            ck_assert_msg(ckpt_f32_bits(v[r * np + p]) ==
                                              ckpt_f32_bits(want[r * NPK + p]),
                                          "%s %s case %d n=%lld tile_k %d slice %lld row %d pos "
                                          "%d: %.9g vs %.9g",
                                          isa, ckpt_type_name(t), kase, (long long)n, np,
                                          (long long)slice, r, p, (double)v[r * np + p],
                                          (double)want[r * NPK + p]);
                }
        }
        free(w);
        free(a);
        free(v);
        free(acc);
        free(want);
    }
}
END_TEST

/* The tiles of the 32-element types at their edges: a single block, odd
 * block counts on both sides of the tiles' 64-block chunks, the longest
 * rows; weight blocks of zeros (d = 0) and a huge one; activation blocks
 * of zeros, huge, infinite and denormal values.  Each output of a tile of
 * any width is the avx2 single dot's bits and the scalar twin's, and so
 * is each output of the K-slice tile, whatever the slicing. */
static const ckpt_type q32_types[] = {CKPT_TYPE_Q8_0, CKPT_TYPE_Q4_0, CKPT_TYPE_Q4_1,
                                      CKPT_TYPE_Q5_0, CKPT_TYPE_Q5_1, CKPT_TYPE_IQ4_NL};
static const int64_t q32_lens[] = {32, 96, 2016, 2080, 4128, 14336};
#define N_Q32 (int)(sizeof q32_types / sizeof q32_types[0])

START_TEST(tile32_edges)
{
    const ckpt_type t = q32_types[_i % N_Q32];
    const int64_t n = q32_lens[_i / N_Q32];
    const struct ckpt_vec_dot *fast = avx2_row(t), *ref = &ckpt_vec_dot_table_ref[t];
    if (!fast)
        return; /* no AVX2 on this CPU */
    ck_assert_msg(fast->tile != NULL, "%s has no tile", ckpt_type_name(t));
    const int64_t nb = n / 32;
    rng = 4242u + (uint32_t)_i;
    const int nr = CKPT_VEC_TILE_K_ROWS; /* the four-row tile reads the first four */
    float *w = malloc(sizeof(float) * (size_t)(nr * n)), *x = malloc(sizeof(float) * (size_t)n);
    const float shift = t == CKPT_TYPE_Q4_1 || t == CKPT_TYPE_Q5_1 ? 0.5f : 0.0f;
    for (int64_t i = 0; i < nr * n; i++) {
        const int64_t b = i % n / 32;
        w[i] = b % 7 == 3 ? 0.0f : frand() * (b % 11 == 5 ? 6.0e4f : 1.0f) + shift;
    }
    size_t wb, ar = ckpt_act_row_bytes(CKPT_TYPE_Q8_0, n);
    ck_assert(ckpt_type_row_bytes(t, n, &wb));
    uint8_t *wq = malloc((size_t)nr * wb), *a = malloc(ar * CKPT_VEC_TILE_K_NP_MAX);
    ck_assert_uint_eq(ckpt_quantize_rows_unchecked(t, w, wq, nr, n, NULL), (size_t)nr * wb);
    for (int p = 0; p < CKPT_VEC_TILE_K_NP_MAX; p++) {
        for (int64_t i = 0; i < n; i++) {
            const int64_t b = i / 32 + p;
            x[i] = frand() * (p % 3 == 1 ? 100.0f : 1.0f);
            if (b % 5 == 1)
                x[i] = 0.0f;
            else if (b % 9 == 4)
                x[i] = (i % 2 ? -3.0e38f : 3.0e38f) * frand();
            else if (b % 13 == 6)
                x[i] = 1e-40f * (float)(i % 7 - 3);
        }
        if (nb > 2 && p % 4 == 3)
            x[(p * 37) % n] = p % 8 == 3 ? INFINITY : -INFINITY;
        ckpt_act_quant_ref.q8_0(x, a + (size_t)p * ar, n);
    }
    float *v = malloc(sizeof(float) * 4 * CKPT_VEC_TILE_NP_MAX);
    for (size_t c = 0; c < sizeof tile_np / sizeof tile_np[0]; c++) {
        const int np = tile_np[c];
        fast->tile(wq, wb, a, ar, n, np, v);
        for (int r = 0; r < 4; r++)
            for (int p = 0; p < np; p++) {
                const uint8_t *wr = wq + r * wb, *ap = a + (size_t)p * ar;
                const uint32_t got = ckpt_f32_bits(v[r * np + p]);
                ck_assert_msg(got == ckpt_f32_bits(fast->dot(wr, ap, n)),
                              "%s n=%lld tile %d row %d pos %d: not the single dot",
                              ckpt_type_name(t), (long long)n, np, r, p);
                ck_assert_msg(got == ckpt_f32_bits(ref->dot(wr, ap, n)),
                              "%s n=%lld tile %d row %d pos %d: not the scalar twin",
                              ckpt_type_name(t), (long long)n, np, r, p);
            }
        /* the K-slice tile in one-step slices and in slices of three
         * steps (odd lengths end in a partial slice; short rows are one) */
        ck_assert_msg(fast->tile_k != NULL, "%s has no K-slice tile", ckpt_type_name(t));
        assert_tile_k(fast, wq, wb, a, ar, n, np, CKPT_VEC_TILE_K_STEP);
        assert_tile_k(fast, wq, wb, a, ar, n, np, 3 * CKPT_VEC_TILE_K_STEP);
    }
    assert_tile_k(fast, wq, wb, a, ar, n, CKPT_VEC_TILE_K_NP_MAX, CKPT_VEC_TILE_K_STEP);
    free(w);
    free(x);
    free(wq);
    free(a);
    free(v);
}
END_TEST

/* Every vector ISA's F32/F16/BF16 tiles (the decode kernels at a single
 * position among them) over lengths with tails and short rows: each value
 * the bits of the same table's single dot. */
START_TEST(float_tiles_with_tails)
{
    static const ckpt_type ft[] = {CKPT_TYPE_F32, CKPT_TYPE_F16, CKPT_TYPE_BF16};
    static const int64_t fn[] = {1, 13, 1000, 4099};
    const ckpt_type t = ft[_i % 3];
    const int64_t n = fn[_i / 3];
    rng = 991u + (uint32_t)_i;
    float *w = malloc(sizeof(float) * (size_t)(4 * n));
    float *x = malloc(sizeof(float) * (size_t)(CKPT_VEC_TILE_NP_MAX * n));
    float *v = malloc(sizeof(float) * 4 * CKPT_VEC_TILE_NP_MAX);
    for (int64_t i = 0; i < 4 * n; i++)
        w[i] = frand() * (i % 7 == 5 ? 16.0f : 0.25f);
    for (int64_t i = 0; i < CKPT_VEC_TILE_NP_MAX * n; i++)
        x[i] = frand();
    size_t rb;
    ck_assert(ckpt_type_row_bytes(t, n, &rb));
    uint8_t *wq = malloc(4 * rb);
    ck_assert_uint_eq(ckpt_quantize_rows_unchecked(t, w, wq, 4, n, NULL), 4 * rb);
    for (size_t vi = 0; vi < sizeof vector_isas / sizeof vector_isas[0]; vi++) {
        const struct ckpt_vec_dot *fast = isa_row(vector_isas[vi], t);
        if (!fast || !fast->tile)
            continue;
        for (size_t c = 0; c < sizeof tile_np / sizeof tile_np[0]; c++) {
            const int np = tile_np[c];
            fast->tile(wq, rb, x, sizeof(float) * (size_t)n, n, np, v);
            for (int r = 0; r < 4; r++)
                for (int p = 0; p < np; p++)
                    ck_assert_msg(ckpt_f32_bits(v[r * np + p]) ==
                                      ckpt_f32_bits(fast->dot(wq + r * rb, x + p * n, n)),
                                  "%s %s n=%lld tile %d: row %d position %d",
                                  ckpt_isa_name(vector_isas[vi]), ckpt_type_name(t),
                                  (long long)n, np, r, p);
        }
    }
    free(w);
    free(x);
    free(v);
    free(wq);
}
END_TEST

Suite *vec_dot_suite(void)
{
    Suite *s = suite_create("vec_dot");
    TCase *tc = tcase_create("core");
    tcase_add_loop_test(tc, avx2_equals_ref_and_bounds_hold, 0, 4 * N_TYPES);
    tcase_add_test(tc, avx2_act_quant_bytes);
    tcase_add_loop_test(tc, refx_equals_scalar_ref, 0, 12);
    tcase_add_loop_test(tc, float_tiles_with_tails, 0, 12);
    tcase_add_test(tc, act_row_bytes);
    tcase_add_loop_test(tc, k_tiles_equal_scalar_twin, 0, 2 * KT_CASES);
    tcase_add_test(tc, scalar_isa_has_every_twin);
    tcase_add_loop_test(tc, tile32_edges, 0, N_Q32 * (int)(sizeof q32_lens / sizeof q32_lens[0]));
    suite_add_tcase(s, tc);
    return s;
}
