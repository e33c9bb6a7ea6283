/*
 * quant_q3_K.c - Q3_K: 256-element super-blocks of 16 sub-blocks of 16
 * signed 3-bit quants (-4..3), each sub-block with a signed 6-bit scale
 * under one f16 super-scale.  The low 2 bits of each quant are packed
 * like Q2_K, the high bit goes to hmask.
 *
 * Reference path: make_q3_quants per sub-block, scales mapped to -32..31
 * relative to the largest |scale|.  Weighted path (sigma^2 = 2*mean x^2):
 * make_qx_quants per sub-block and again for the 16 scales.
 */
#include "quant_blocks.h"
#include "quant_k_common.h"
#include "quant_kernels.h"

#include "fp16.h"

#include <math.h>

#define QK_K 256

/* Store 6-bit value l (0..63) as scale j of a q3_K block (scales zeroed first). */
static void put_scale(uint8_t scales[12], int j, int l)
{
    if (j < 8)
        scales[j] = (uint8_t)(l & 0xF);
    else
        scales[j - 8] |= (uint8_t)((l & 0xF) << 4);
    scales[j % 4 + 8] |= (uint8_t)(((unsigned)l >> 4) << (2 * (j / 4)));
}

/* Signed scale j (-32..31) of a q3_K block. */
static int get_scale(const uint8_t scales[12], int j)
{
    int lo = j < 8 ? scales[j] & 0xF : scales[j - 8] >> 4;
    int hi = (scales[8 + j % 4] >> (2 * (j / 4))) & 3;
    return (lo | hi << 4) - 32;
}

/* Second pass against the stored scales, then split into hmask and qs. */
static void requantize_and_pack(const float *x, block_q3_K *b, int8_t *L)
{
    const float dall = ckpt_f16_to_f32(b->d);
    for (int j = 0; j < QK_K / 16; ++j) {
        const float d = dall * (int8_t)get_scale(b->scales, j);
        if (!d)
            continue;
        for (int ii = 0; ii < 16; ++ii) {
            int l = ckpt_nearest_int(x[16 * j + ii] / d);
            L[16 * j + ii] = (int8_t)(imax(-4, imin(3, l)) + 4);
        }
    }
    /* high bit of element e -> bit e/32 of hmask[e%32] */
    memset(b->hmask, 0, sizeof b->hmask);
    for (int j = 0; j < QK_K; ++j) {
        if (L[j] > 3) {
            b->hmask[j % 32] |= (uint8_t)(1u << (j / 32));
            L[j] = (int8_t)(L[j] - 4);
        }
    }
    for (int j = 0; j < QK_K; j += 128)
        for (int l = 0; l < 32; ++l)
            b->qs[j / 4 + l] = (uint8_t)(L[j + l] | (L[j + l + 32] << 2) | (L[j + l + 64] << 4) |
                                         (L[j + l + 96] << 6));
}

void ckpt_quantize_row_q3_K_ref(const float *x, void *vy, int64_t k)
{
    uint8_t *y = vy;
    const int64_t nb = k / QK_K;
    int8_t L[QK_K];
    float scales[QK_K / 16];

    for (int64_t i = 0; i < nb; i++, x += QK_K, y += sizeof(block_q3_K)) {
        block_q3_K b;
        float max_scale = 0, amax = 0;
        for (int j = 0; j < QK_K / 16; ++j) {
            scales[j] = ckpt_make_q3_quants(16, 4, x + 16 * j, L + 16 * j, true);
            const float scale = fabsf(scales[j]);
            if (scale > amax) {
                amax = scale;
                max_scale = scales[j];
            }
        }
        memset(b.scales, 0, sizeof b.scales);
        if (max_scale) {
            const float iscale = -32.f / max_scale;
            for (int j = 0; j < QK_K / 16; ++j) {
                /* ggml keeps the rounded value in an int8 before clamping */
                int8_t l = (int8_t)ckpt_nearest_int(iscale * scales[j]);
                put_scale(b.scales, j, imax(-32, imin(31, l)) + 32);
            }
            b.d = ckpt_f32_to_f16(1 / iscale);
        } else {
            b.d = ckpt_f32_to_f16(0.f);
        }
        requantize_and_pack(x, &b, L);
        memcpy(y, &b, sizeof b);
    }
}

static void quantize_row_q3_K_weighted(const float *x, uint8_t *y, int64_t n_per_row,
                                       const float *qw_row)
{
    const int64_t nb = n_per_row / QK_K;
    int8_t L[QK_K], Ls[QK_K / 16];
    float scales[QK_K / 16], weight[16], sw[QK_K / 16];

    for (int64_t i = 0; i < nb; i++, x += QK_K, y += sizeof(block_q3_K)) {
        block_q3_K b;
        float sumx2 = 0;
        for (int j = 0; j < QK_K; ++j)
            sumx2 += x[j] * x[j];
        const float sigma2 = 2 * sumx2 / QK_K;
        for (int j = 0; j < QK_K / 16; ++j) {
            const float *qw = qw_row + QK_K * i + 16 * j;
            for (int l = 0; l < 16; ++l)
                weight[l] = qw[l] * sqrtf(sigma2 + x[16 * j + l] * x[16 * j + l]);
            float sumw = 0;
            for (int l = 0; l < 16; ++l)
                sumw += weight[l];
            sw[j] = sumw;
            scales[j] = ckpt_make_qx_quants(16, 4, x + 16 * j, L + 16 * j, 1, weight);
        }
        memset(b.scales, 0, sizeof b.scales);
        const float d_block = ckpt_make_qx_quants(QK_K / 16, 32, scales, Ls, 1, sw);
        for (int j = 0; j < QK_K / 16; ++j)
            put_scale(b.scales, j, Ls[j]);
        b.d = ckpt_f32_to_f16(d_block);
        requantize_and_pack(x, &b, L);
        memcpy(y, &b, sizeof b);
    }
}

size_t ckpt_quantize_q3_K(const float *src, void *dst, int64_t nrow, int64_t n_per_row,
                          const float *imatrix)
{
    const size_t row_bytes = (size_t)(n_per_row / QK_K) * sizeof(block_q3_K);
    if (!imatrix) {
        ckpt_quantize_row_q3_K_ref(src, dst, nrow * n_per_row);
    } else {
        for (int64_t r = 0; r < nrow; ++r)
            quantize_row_q3_K_weighted(src + r * n_per_row, (uint8_t *)dst + r * row_bytes,
                                       n_per_row, imatrix);
    }
    return (size_t)nrow * row_bytes;
}

void ckpt_dequantize_row_q3_K(const void *vx, float *y, int64_t k)
{
    const uint8_t *x = vx;
    const int64_t nb = k / QK_K;
    for (int64_t i = 0; i < nb; i++, x += sizeof(block_q3_K)) {
        block_q3_K b;
        memcpy(&b, x, sizeof b);
        const float d_all = ckpt_f16_to_f32(b.d);
        const uint8_t *q = b.qs;
        unsigned m = 1; /* hmask bit of the current 32-element group */
        int is = 0;
        for (int n = 0; n < QK_K; n += 128, q += 32) {
            for (int shift = 0; shift < 8; shift += 2, m <<= 1) {
                for (int half = 0; half < 2; ++half) {
                    const float dl = d_all * get_scale(b.scales, is++);
                    for (int l = 16 * half; l < 16 * half + 16; ++l)
                        *y++ = dl * (((q[l] >> shift) & 3) - ((b.hmask[l] & m) ? 0 : 4));
                }
            }
        }
    }
}
