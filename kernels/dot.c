/*
 * dot.c - dot products (see dot.h): the scalar kernels, and the row loops
 * over dequantized chunks, which take their per-ISA kernels from the
 * tables of dispatch.c.  Which types a row may have is quant.h's table:
 * adding a dequantizer there adds it here.
 *
 * The reference row dot dequantizes CKPT_DOT_CHUNK elements at a time and
 * feeds the same eight-lane accumulator as ckpt_vec_dot_f32; every chunk
 * starts at a multiple of 8, so each product lands in the same lane, in the
 * same order, as in a dot over the whole dequantized row.
 */
#include "dot.h"

#include <math.h>
#include <string.h>

#include "dot_kernels.h"
#include "quant.h"

#define LANES 8
#define ACC_GROUP 32 /* activation vectors accumulated at once by ckpt_dot_rows */

/* ==== scalar kernels ==== */

/* acc[i % 8] += a[i]*b[i]; n is a multiple of 8 except for a final chunk */
static void accumulate(float acc[LANES], const float *a, const float *b, int64_t n)
{
    int64_t i = 0;
    for (; i + LANES <= n; i += LANES)
        for (int l = 0; l < LANES; ++l)
            acc[l] += a[i + l] * b[i + l];
    for (int l = 0; i < n; ++i, ++l)
        acc[l] += a[i] * b[i];
}

static float reduce(const float acc[LANES])
{
    return ((acc[0] + acc[4]) + (acc[2] + acc[6])) + ((acc[1] + acc[5]) + (acc[3] + acc[7]));
}

float ckpt_vec_dot_f32(const float *a, const float *b, int64_t n)
{
    float acc[LANES] = {0};
    accumulate(acc, a, b, n);
    return reduce(acc);
}

void ckpt_dot_chunk_ref(struct ckpt_dot_acc *acc, const float *w, const float *x, int64_t n)
{
    accumulate(acc->lanes, w, x, n);
}

float ckpt_dot_sum_ref(const struct ckpt_dot_acc *acc)
{
    return reduce(acc->lanes);
}

/* The order of ckpt_dot_f32_avx2 (dot_kernels.h) with fmaf: four 8-lane
 * accumulators over 32-element steps, then 8-element steps on the first,
 * lane-wise (a0 + a1) + (a2 + a3), reduce(), and the tail added product by
 * product.  fmaf rounds once, as the FMA instruction does. */
float ckpt_dot_f32_fma(const float *w, const float *x, int64_t n)
{
    float a[4][LANES] = {{0}};
    int64_t i = 0;
    for (; i + 4 * LANES <= n; i += 4 * LANES)
        for (int r = 0; r < 4; r++)
            for (int l = 0; l < LANES; l++)
                a[r][l] = fmaf(w[i + r * LANES + l], x[i + r * LANES + l], a[r][l]);
    for (; i + LANES <= n; i += LANES)
        for (int l = 0; l < LANES; l++)
            a[0][l] = fmaf(w[i + l], x[i + l], a[0][l]);
    float s[LANES];
    for (int l = 0; l < LANES; l++)
        s[l] = (a[0][l] + a[1][l]) + (a[2][l] + a[3][l]);
    float sum = reduce(s);
    for (; i < n; i++)
        sum += w[i] * x[i];
    return sum;
}

void ckpt_dot_chunk_fma(struct ckpt_dot_acc *acc, const float *w, const float *x, int64_t n)
{
    acc->lanes[0] += ckpt_dot_f32_fma(w, x, n);
}

float ckpt_dot_sum_fma(const struct ckpt_dot_acc *acc)
{
    return acc->lanes[0];
}

double ckpt_dot_f32_f64(const float *w, const float *x, int64_t n)
{
    double sum = 0.0;
    for (int64_t i = 0; i < n; i++)
        sum += (double)w[i] * (double)x[i];
    return sum;
}

float ckpt_dot_f32_f64_f(const float *w, const float *x, int64_t n)
{
    return (float)ckpt_dot_f32_f64(w, x, n);
}

void ckpt_dot_chunk_f64(struct ckpt_dot_acc *acc, const float *w, const float *x, int64_t n)
{
    acc->wide += ckpt_dot_f32_f64(w, x, n);
}

float ckpt_dot_sum_f64(const struct ckpt_dot_acc *acc)
{
    return (float)acc->wide;
}

void ckpt_weighted_sum_f32(float *o, const float *s, const float *v, int64_t n, int64_t ldv,
                           int64_t hd)
{
    for (int64_t d = 0; d < hd; d++)
        o[d] = 0.0f;
    for (int64_t k = 0; k < n; k++)
        for (int64_t d = 0; d < hd; d++)
            o[d] += s[k] * v[k * ldv + d];
}

void ckpt_weighted_sum_f64(float *o, const float *s, const float *v, int64_t n, int64_t ldv,
                           int64_t hd)
{
    for (int64_t d = 0; d < hd; d++) {
        double acc = 0.0;
        for (int64_t k = 0; k < n; k++)
            acc += (double)s[k] * (double)v[k * ldv + d];
        o[d] = (float)acc;
    }
}

/* ==== rows ==== */

bool ckpt_dot_supported(ckpt_type t)
{
    return ckpt_quant_supported(t);
}

/* One chunk as f32: F32 rows on a 4-byte boundary are used in place, and
 * F16/BF16 are widened by the table's kernel (F16C in avx2: the values are
 * the same, widening is exact). */
static const float *chunk_f32(const struct ckpt_kernels *k, ckpt_type t, const uint8_t *src,
                              float *buf, int64_t n)
{
    if (t == CKPT_TYPE_F32 && ((uintptr_t)src % sizeof(float)) == 0)
        return (const float *)(const void *)src;
    if (t == CKPT_TYPE_F16)
        k->f16_to_f32(src, buf, n);
    else if (t == CKPT_TYPE_BF16)
        k->bf16_to_f32(src, buf, n);
    else
        ckpt_dequantize_row(t, src, buf, n);
    return buf;
}

void ckpt_dot_rows(ckpt_isa isa, ckpt_type t, const void *wrow, int64_t n, const float *x,
                   int64_t ldx, int64_t m, float *out, int64_t ldo)
{
    const struct ckpt_kernels *k = ckpt_kernels_of(isa);
    const struct ckpt_type_traits *tr = ckpt_type_traits((uint32_t)t);
    const size_t chunk_bytes = (size_t)(CKPT_DOT_CHUNK / tr->block_elems) * tr->block_bytes;
    float buf[CKPT_DOT_CHUNK];
    for (int64_t j0 = 0; j0 < m; j0 += ACC_GROUP) {
        const int64_t mg = m - j0 < ACC_GROUP ? m - j0 : ACC_GROUP;
        struct ckpt_dot_acc acc[ACC_GROUP];
        memset(acc, 0, sizeof acc);
        const uint8_t *src = wrow;
        for (int64_t i = 0; i < n; i += CKPT_DOT_CHUNK, src += chunk_bytes) {
            const int64_t len = n - i < CKPT_DOT_CHUNK ? n - i : CKPT_DOT_CHUNK;
            const float *w = chunk_f32(k, t, src, buf, len);
            for (int64_t j = 0; j < mg; j++)
                k->dot_chunk(&acc[j], w, x + (j0 + j) * ldx + i, len);
        }
        for (int64_t j = 0; j < mg; j++)
            out[(j0 + j) * ldo] = k->dot_sum(&acc[j]);
    }
}

float ckpt_dot_row_isa(ckpt_isa isa, ckpt_type t, const void *wrow, const float *x, int64_t n)
{
    float r;
    ckpt_dot_rows(isa, t, wrow, n, x, 0, 1, &r, 0);
    return r;
}

float ckpt_dot_row(ckpt_type t, const void *wrow, const float *x, int64_t n)
{
    const struct ckpt_type_traits *tr = ckpt_type_traits((uint32_t)t);
    if (!tr || !ckpt_quant_supported(t) || n < 0 || n % tr->block_elems != 0)
        return NAN;
    return ckpt_dot_row_isa(CKPT_ISA_REF, t, wrow, x, n);
}
