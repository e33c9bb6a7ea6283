/*
 * quant_q4.c - Q4_0 (symmetric, x = d*(q-8)) and Q4_1 (x = d*q + m):
 * 32-element blocks of 4-bit quants.  Without importance weights the
 * scale comes straight from the block's extreme values; with them ggml
 * switches to a weighted search (make_qx_quants for Q4_0, make_qkx3_quants
 * for Q4_1) with weights qw * sqrt(mean(x^2 over the row) + x^2).
 */
#include "quant_blocks.h"
#include "quant_k_common.h"
#include "quant_kernels.h"

#include "fp16.h"

#include <float.h>
#include <math.h>

/* mean of x^2 over a whole row: the sigma^2 of the legacy weighted paths */
static float row_sigma2(const float *x, int64_t n)
{
    float sum_x2 = 0;
    for (int64_t j = 0; j < n; ++j)
        sum_x2 += x[j] * x[j];
    return sum_x2 / n;
}

/* ==== Q4_0 ==== */

void ckpt_quantize_row_q4_0_ref(const float *x, void *vy, int64_t k)
{
    uint8_t *y = vy;
    const int64_t nb = k / CKPT_QK4_0;
    for (int64_t i = 0; i < nb; i++, x += CKPT_QK4_0, y += sizeof(block_q4_0)) {
        block_q4_0 b;
        float amax = 0.0f, max = 0.0f; /* largest |x| and its signed value */
        for (int j = 0; j < CKPT_QK4_0; j++) {
            if (amax < fabsf(x[j])) {
                amax = fabsf(x[j]);
                max = x[j];
            }
        }
        const float d = max / -8;
        const float id = d ? 1.0f / d : 0.0f;
        b.d = ckpt_f32_to_f16(d);
        for (int j = 0; j < 16; ++j) {
            const int8_t q0 = (int8_t)ckpt_trunc_i32(x[j] * id + 8.5f);
            const int8_t q1 = (int8_t)ckpt_trunc_i32(x[j + 16] * id + 8.5f);
            const uint8_t xi0 = (uint8_t)imin(15, q0);
            const uint8_t xi1 = (uint8_t)imin(15, q1);
            b.qs[j] = (uint8_t)(xi0 | (xi1 << 4));
        }
        memcpy(y, &b, sizeof b);
    }
}

static void quantize_row_q4_0_weighted(const float *x, uint8_t *y, int64_t n_per_row,
                                       const float *qw)
{
    float weight[CKPT_QK4_0];
    int8_t L[CKPT_QK4_0];
    const float sigma2 = row_sigma2(x, n_per_row);
    const int64_t nb = n_per_row / CKPT_QK4_0;
    for (int64_t ib = 0; ib < nb; ++ib, y += sizeof(block_q4_0)) {
        const float *xb = x + CKPT_QK4_0 * ib;
        const float *w = qw + CKPT_QK4_0 * ib;
        block_q4_0 b;
        for (int j = 0; j < CKPT_QK4_0; ++j)
            weight[j] = w[j] * sqrtf(sigma2 + xb[j] * xb[j]);
        b.d = ckpt_f32_to_f16(ckpt_make_qx_quants(CKPT_QK4_0, 8, xb, L, 1, weight));
        for (int j = 0; j < 16; ++j)
            b.qs[j] = (uint8_t)(L[j] | (L[j + 16] << 4));
        memcpy(y, &b, sizeof b);
    }
}

size_t ckpt_quantize_q4_0(const float *src, void *dst, int64_t nrow, int64_t n_per_row,
                          const float *imatrix)
{
    const size_t row_bytes = (size_t)(n_per_row / CKPT_QK4_0) * sizeof(block_q4_0);
    if (!imatrix) {
        ckpt_quantize_row_q4_0_ref(src, dst, nrow * n_per_row);
    } else {
        for (int64_t r = 0; r < nrow; ++r)
            quantize_row_q4_0_weighted(src + r * n_per_row, (uint8_t *)dst + r * row_bytes,
                                       n_per_row, imatrix);
    }
    return (size_t)nrow * row_bytes;
}

void ckpt_dequantize_row_q4_0(const void *vx, float *y, int64_t k)
{
    const uint8_t *x = vx;
    const int64_t nb = k / CKPT_QK4_0;
    for (int64_t i = 0; i < nb; i++, x += sizeof(block_q4_0), y += CKPT_QK4_0) {
        block_q4_0 b;
        memcpy(&b, x, sizeof b);
        const float d = ckpt_f16_to_f32(b.d);
        for (int j = 0; j < 16; ++j) {
            y[j] = ((b.qs[j] & 0x0F) - 8) * d;
            y[j + 16] = ((b.qs[j] >> 4) - 8) * d;
        }
    }
}

/* ==== Q4_1 ==== */

void ckpt_quantize_row_q4_1_ref(const float *x, void *vy, int64_t k)
{
    uint8_t *y = vy;
    const int64_t nb = k / CKPT_QK4_1;
    for (int64_t i = 0; i < nb; i++, x += CKPT_QK4_1, y += sizeof(block_q4_1)) {
        block_q4_1 b;
        float min = FLT_MAX, max = -FLT_MAX;
        for (int j = 0; j < CKPT_QK4_1; j++) {
            if (x[j] < min)
                min = x[j];
            if (x[j] > max)
                max = x[j];
        }
        const float d = (max - min) / ((1 << 4) - 1);
        const float id = d ? 1.0f / d : 0.0f;
        b.d = ckpt_f32_to_f16(d);
        b.m = ckpt_f32_to_f16(min);
        for (int j = 0; j < 16; ++j) {
            const int8_t q0 = (int8_t)ckpt_trunc_i32((x[j] - min) * id + 0.5f);
            const int8_t q1 = (int8_t)ckpt_trunc_i32((x[j + 16] - min) * id + 0.5f);
            const uint8_t xi0 = (uint8_t)imin(15, q0);
            const uint8_t xi1 = (uint8_t)imin(15, q1);
            b.qs[j] = (uint8_t)(xi0 | (xi1 << 4));
        }
        memcpy(y, &b, sizeof b);
    }
}

static void quantize_row_q4_1_weighted(const float *x, uint8_t *y, int64_t n_per_row,
                                       const float *qw)
{
    float weight[CKPT_QK4_1];
    uint8_t L[CKPT_QK4_1], Laux[CKPT_QK4_1];
    const float sigma2 = row_sigma2(x, n_per_row);
    const int64_t nb = n_per_row / CKPT_QK4_1;
    for (int64_t ib = 0; ib < nb; ++ib, y += sizeof(block_q4_1)) {
        const float *xb = x + CKPT_QK4_1 * ib;
        const float *w = qw + CKPT_QK4_1 * ib;
        block_q4_1 b;
        for (int j = 0; j < CKPT_QK4_1; ++j)
            weight[j] = w[j] * sqrtf(sigma2 + xb[j] * xb[j]);
        float min;
        float d = ckpt_make_qkx3_quants(CKPT_QK4_1, 15, xb, weight, L, &min, Laux, -0.9f, 0.05f,
                                        36, false);
        b.d = ckpt_f32_to_f16(d);
        b.m = ckpt_f32_to_f16(-min);
        for (int j = 0; j < 16; ++j)
            b.qs[j] = (uint8_t)(L[j] | (L[j + 16] << 4));
        memcpy(y, &b, sizeof b);
    }
}

size_t ckpt_quantize_q4_1(const float *src, void *dst, int64_t nrow, int64_t n_per_row,
                          const float *imatrix)
{
    const size_t row_bytes = (size_t)(n_per_row / CKPT_QK4_1) * sizeof(block_q4_1);
    if (!imatrix) {
        ckpt_quantize_row_q4_1_ref(src, dst, nrow * n_per_row);
    } else {
        for (int64_t r = 0; r < nrow; ++r)
            quantize_row_q4_1_weighted(src + r * n_per_row, (uint8_t *)dst + r * row_bytes,
                                       n_per_row, imatrix);
    }
    return (size_t)nrow * row_bytes;
}

void ckpt_dequantize_row_q4_1(const void *vx, float *y, int64_t k)
{
    const uint8_t *x = vx;
    const int64_t nb = k / CKPT_QK4_1;
    for (int64_t i = 0; i < nb; i++, x += sizeof(block_q4_1), y += CKPT_QK4_1) {
        block_q4_1 b;
        memcpy(&b, x, sizeof b);
        const float d = ckpt_f16_to_f32(b.d);
        const float m = ckpt_f16_to_f32(b.m);
        for (int j = 0; j < 16; ++j) {
            y[j] = (b.qs[j] & 0x0F) * d + m;
            y[j + 16] = (b.qs[j] >> 4) * d + m;
        }
    }
}
