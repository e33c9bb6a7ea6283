/*
 * quant_q5.c - Q5_0 (symmetric, x = d*(q-16)) and Q5_1 (x = d*q + m):
 * 32-element blocks of 5-bit quants, the low nibbles packed as in Q4_0
 * and the 32 fifth bits in a little-endian u32.  The weighted paths
 * mirror quant_q4.c with nmax 16 and 31.
 */
#include "quant_blocks.h"
#include "quant_k_common.h"
#include "quant_kernels.h"

#include "fp16.h"

#include <float.h>
#include <math.h>

static float row_sigma2(const float *x, int64_t n)
{
    float sum_x2 = 0;
    for (int64_t j = 0; j < n; ++j)
        sum_x2 += x[j] * x[j];
    return sum_x2 / n;
}

/* Pack 32 quants (0..31) into qs nibbles and the qh bit field. */
static void pack_q5(const uint8_t *q, uint8_t qs[16], uint8_t qh_out[4])
{
    uint32_t qh = 0;
    for (int j = 0; j < 16; ++j) {
        qs[j] = (uint8_t)((q[j] & 0x0F) | ((q[j + 16] & 0x0F) << 4));
        qh |= ((q[j] & 0x10u) >> 4) << j;
        qh |= ((q[j + 16] & 0x10u) >> 4) << (j + 16);
    }
    for (int b = 0; b < 4; ++b)
        qh_out[b] = (uint8_t)(qh >> (8 * b));
}

/* Unpack element j and j+16 (0..31 each) of a q5 block. */
static inline void unpack_q5(const uint8_t qs[16], const uint8_t qh_in[4], int j, int *q0,
                             int *q1)
{
    uint32_t qh = (uint32_t)qh_in[0] | (uint32_t)qh_in[1] << 8 | (uint32_t)qh_in[2] << 16 |
                  (uint32_t)qh_in[3] << 24;
    *q0 = (qs[j] & 0x0F) | (int)(((qh >> j) << 4) & 0x10);
    *q1 = (qs[j] >> 4) | (int)((qh >> (j + 12)) & 0x10);
}

/* ==== Q5_0 ==== */

void ckpt_quantize_row_q5_0_ref(const float *x, void *vy, int64_t k)
{
    uint8_t *y = vy;
    const int64_t nb = k / CKPT_QK5_0;
    for (int64_t i = 0; i < nb; i++, x += CKPT_QK5_0, y += sizeof(block_q5_0)) {
        block_q5_0 b;
        uint8_t q[CKPT_QK5_0];
        float amax = 0.0f, max = 0.0f;
        for (int j = 0; j < CKPT_QK5_0; j++) {
            if (amax < fabsf(x[j])) {
                amax = fabsf(x[j]);
                max = x[j];
            }
        }
        const float d = max / -16;
        const float id = d ? 1.0f / d : 0.0f;
        b.d = ckpt_f32_to_f16(d);
        for (int j = 0; j < CKPT_QK5_0; ++j)
            q[j] = (uint8_t)imin(31, (int8_t)ckpt_trunc_i32(x[j] * id + 16.5f));
        pack_q5(q, b.qs, b.qh);
        memcpy(y, &b, sizeof b);
    }
}

static void quantize_row_q5_0_weighted(const float *x, uint8_t *y, int64_t n_per_row,
                                       const float *qw)
{
    float weight[CKPT_QK5_0];
    int8_t L[CKPT_QK5_0];
    uint8_t q[CKPT_QK5_0];
    const float sigma2 = row_sigma2(x, n_per_row);
    const int64_t nb = n_per_row / CKPT_QK5_0;
    for (int64_t ib = 0; ib < nb; ++ib, y += sizeof(block_q5_0)) {
        const float *xb = x + CKPT_QK5_0 * ib;
        const float *w = qw + CKPT_QK5_0 * ib;
        block_q5_0 b;
        for (int j = 0; j < CKPT_QK5_0; ++j)
            weight[j] = w[j] * sqrtf(sigma2 + xb[j] * xb[j]);
        b.d = ckpt_f32_to_f16(ckpt_make_qx_quants(CKPT_QK5_0, 16, xb, L, 1, weight));
        for (int j = 0; j < CKPT_QK5_0; ++j)
            q[j] = (uint8_t)L[j];
        pack_q5(q, b.qs, b.qh);
        memcpy(y, &b, sizeof b);
    }
}

size_t ckpt_quantize_q5_0(const float *src, void *dst, int64_t nrow, int64_t n_per_row,
                          const float *imatrix)
{
    const size_t row_bytes = (size_t)(n_per_row / CKPT_QK5_0) * sizeof(block_q5_0);
    if (!imatrix) {
        ckpt_quantize_row_q5_0_ref(src, dst, nrow * n_per_row);
    } else {
        for (int64_t r = 0; r < nrow; ++r)
            quantize_row_q5_0_weighted(src + r * n_per_row, (uint8_t *)dst + r * row_bytes,
                                       n_per_row, imatrix);
    }
    return (size_t)nrow * row_bytes;
}

void ckpt_dequantize_row_q5_0(const void *vx, float *y, int64_t k)
{
    const uint8_t *x = vx;
    const int64_t nb = k / CKPT_QK5_0;
    for (int64_t i = 0; i < nb; i++, x += sizeof(block_q5_0), y += CKPT_QK5_0) {
        block_q5_0 b;
        memcpy(&b, x, sizeof b);
        const float d = ckpt_f16_to_f32(b.d);
        for (int j = 0; j < 16; ++j) {
            int q0, q1;
            unpack_q5(b.qs, b.qh, j, &q0, &q1);
            y[j] = (q0 - 16) * d;
            y[j + 16] = (q1 - 16) * d;
        }
    }
}

/* ==== Q5_1 ==== */

void ckpt_quantize_row_q5_1_ref(const float *x, void *vy, int64_t k)
{
    uint8_t *y = vy;
    const int64_t nb = k / CKPT_QK5_1;
    for (int64_t i = 0; i < nb; i++, x += CKPT_QK5_1, y += sizeof(block_q5_1)) {
        block_q5_1 b;
        uint8_t q[CKPT_QK5_1];
        float min = FLT_MAX, max = -FLT_MAX;
        for (int j = 0; j < CKPT_QK5_1; j++) {
            if (x[j] < min)
                min = x[j];
            if (x[j] > max)
                max = x[j];
        }
        const float d = (max - min) / ((1 << 5) - 1);
        const float id = d ? 1.0f / d : 0.0f;
        b.d = ckpt_f32_to_f16(d);
        b.m = ckpt_f32_to_f16(min);
        for (int j = 0; j < CKPT_QK5_1; ++j) /* no clamp: (x-min)*id <= 31 + rounding */
            q[j] = (uint8_t)ckpt_trunc_i32((x[j] - min) * id + 0.5f);
        pack_q5(q, b.qs, b.qh);
        memcpy(y, &b, sizeof b);
    }
}

static void quantize_row_q5_1_weighted(const float *x, uint8_t *y, int64_t n_per_row,
                                       const float *qw)
{
    float weight[CKPT_QK5_1];
    uint8_t L[CKPT_QK5_1], Laux[CKPT_QK5_1];
    const float sigma2 = row_sigma2(x, n_per_row);
    const int64_t nb = n_per_row / CKPT_QK5_1;
    for (int64_t ib = 0; ib < nb; ++ib, y += sizeof(block_q5_1)) {
        const float *xb = x + CKPT_QK5_1 * ib;
        const float *w = qw + CKPT_QK5_1 * ib;
        block_q5_1 b;
        for (int j = 0; j < CKPT_QK5_1; ++j)
            weight[j] = w[j] * sqrtf(sigma2 + xb[j] * xb[j]);
        float min;
        float d = ckpt_make_qkx3_quants(CKPT_QK5_1, 31, xb, weight, L, &min, Laux, -0.9f, 0.05f,
                                        36, false);
        b.d = ckpt_f32_to_f16(d);
        b.m = ckpt_f32_to_f16(-min);
        pack_q5(L, b.qs, b.qh);
        memcpy(y, &b, sizeof b);
    }
}

size_t ckpt_quantize_q5_1(const float *src, void *dst, int64_t nrow, int64_t n_per_row,
                          const float *imatrix)
{
    const size_t row_bytes = (size_t)(n_per_row / CKPT_QK5_1) * sizeof(block_q5_1);
    if (!imatrix) {
        ckpt_quantize_row_q5_1_ref(src, dst, nrow * n_per_row);
    } else {
        for (int64_t r = 0; r < nrow; ++r)
            quantize_row_q5_1_weighted(src + r * n_per_row, (uint8_t *)dst + r * row_bytes,
                                       n_per_row, imatrix);
    }
    return (size_t)nrow * row_bytes;
}

void ckpt_dequantize_row_q5_1(const void *vx, float *y, int64_t k)
{
    const uint8_t *x = vx;
    const int64_t nb = k / CKPT_QK5_1;
    for (int64_t i = 0; i < nb; i++, x += sizeof(block_q5_1), y += CKPT_QK5_1) {
        block_q5_1 b;
        memcpy(&b, x, sizeof b);
        const float d = ckpt_f16_to_f32(b.d);
        const float m = ckpt_f16_to_f32(b.m);
        for (int j = 0; j < 16; ++j) {
            int q0, q1;
            unpack_q5(b.qs, b.qh, j, &q0, &q1);
            y[j] = q0 * d + m;
            y[j + 16] = q1 * d + m;
        }
    }
}
