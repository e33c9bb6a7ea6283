/*
 * quant_q2_K.c - Q2_K: 256-element super-blocks of 16 sub-blocks of 16
 * 2-bit quants, each sub-block with a 4-bit scale and a 4-bit min that
 * are themselves scaled by the f16 pair (d, dmin).
 *
 * Reference path: make_qkx2_quants per sub-block (weights |x|, least
 * absolute deviation), scales and mins mapped to 0..15 relative to their
 * largest value.  Weighted path: make_qkx3_quants per sub-block, then
 * make_qp_quants for the scales and the mins.  Both re-round every
 * element against the f16-rounded scales, skipping sub-blocks whose
 * effective scale is 0 (they keep the first-pass quants).
 */
#include "quant_blocks.h"
#include "quant_k_common.h"
#include "quant_kernels.h"

#include "fp16.h"

#include <math.h>

#define QK_K 256

/* Second pass: re-round x against the stored scales, then pack L into qs. */
static void requantize_and_pack(const float *x, block_q2_K *b, uint8_t *L)
{
    const float dall = ckpt_f16_to_f32(b->d);
    const float mall = ckpt_f16_to_f32(b->dmin);
    for (int j = 0; j < QK_K / 16; ++j) {
        const float d = dall * (b->scales[j] & 0xF);
        if (!d)
            continue;
        const float dm = mall * (b->scales[j] >> 4);
        for (int ii = 0; ii < 16; ++ii) {
            int l = ckpt_nearest_int((x[16 * j + ii] + dm) / d);
            L[16 * j + ii] = (uint8_t)imax(0, imin(3, l));
        }
    }
    /* four 2-bit quants per byte: elements l, l+32, l+64, l+96 of each 128 */
    for (int j = 0; j < QK_K; j += 128)
        for (int l = 0; l < 32; ++l)
            b->qs[j / 4 + l] = (uint8_t)(L[j + l] | (L[j + l + 32] << 2) | (L[j + l + 64] << 4) |
                                         (L[j + l + 96] << 6));
}

void ckpt_quantize_row_q2_K_ref(const float *x, void *vy, int64_t k)
{
    uint8_t *y = vy;
    const int64_t nb = k / QK_K;
    uint8_t L[QK_K], Laux[16];
    float weights[16], mins[QK_K / 16], scales[QK_K / 16];
    const float q4scale = 15.f;

    for (int64_t i = 0; i < nb; i++, x += QK_K, y += sizeof(block_q2_K)) {
        block_q2_K b;
        float max_scale = 0, max_min = 0; /* mins are subtracted: scales are >= 0 */
        for (int j = 0; j < QK_K / 16; ++j) {
            for (int l = 0; l < 16; ++l)
                weights[l] = fabsf(x[16 * j + l]);
            scales[j] = ckpt_make_qkx2_quants(16, 3, x + 16 * j, weights, L + 16 * j, &mins[j],
                                              Laux, -0.5f, 0.1f, 15, true);
            if (scales[j] > max_scale)
                max_scale = scales[j];
            if (mins[j] > max_min)
                max_min = mins[j];
        }
        if (max_scale > 0) {
            const float iscale = q4scale / max_scale;
            for (int j = 0; j < QK_K / 16; ++j)
                b.scales[j] = (uint8_t)ckpt_nearest_int(iscale * scales[j]);
            b.d = ckpt_f32_to_f16(max_scale / q4scale);
        } else {
            memset(b.scales, 0, sizeof b.scales);
            b.d = ckpt_f32_to_f16(0.f);
        }
        if (max_min > 0) {
            const float iscale = q4scale / max_min;
            for (int j = 0; j < QK_K / 16; ++j)
                b.scales[j] |= (uint8_t)((unsigned)ckpt_nearest_int(iscale * mins[j]) << 4);
            b.dmin = ckpt_f32_to_f16(max_min / q4scale);
        } else {
            b.dmin = ckpt_f32_to_f16(0.f);
        }
        requantize_and_pack(x, &b, L);
        memcpy(y, &b, sizeof b);
    }
}

static void quantize_row_q2_K_weighted(const float *x, uint8_t *y, int64_t n_per_row,
                                       const float *qw_row)
{
    const int64_t nb = n_per_row / QK_K;
    uint8_t L[QK_K], Laux[16], Ls[QK_K / 16], Lm[QK_K / 16];
    float mins[QK_K / 16], scales[QK_K / 16], sw[QK_K / 16], weight[16];

    for (int64_t i = 0; i < nb; i++, x += QK_K, y += sizeof(block_q2_K)) {
        block_q2_K b;
        memset(sw, 0, sizeof sw);
        float sumx2 = 0;
        for (int j = 0; j < QK_K; ++j)
            sumx2 += x[j] * x[j];
        const float sigma2 = sumx2 / QK_K;
        for (int j = 0; j < QK_K / 16; ++j) {
            const float *qw = qw_row + QK_K * i + 16 * j;
            for (int l = 0; l < 16; ++l)
                weight[l] = qw[l] * sqrtf(sigma2 + x[16 * j + l] * x[16 * j + l]);
            for (int l = 0; l < 16; ++l)
                sw[j] += weight[l];
            scales[j] = ckpt_make_qkx3_quants(16, 3, x + 16 * j, weight, L + 16 * j, &mins[j],
                                              Laux, -0.9f, 0.05f, 36, false);
        }
        const float dm = ckpt_make_qp_quants(QK_K / 16, 15, scales, Ls, sw);
        const float mm = ckpt_make_qp_quants(QK_K / 16, 15, mins, Lm, sw);
        b.d = ckpt_f32_to_f16(dm);
        b.dmin = ckpt_f32_to_f16(mm);
        for (int j = 0; j < QK_K / 16; ++j)
            b.scales[j] = (uint8_t)(Ls[j] | (Lm[j] << 4));
        requantize_and_pack(x, &b, L);
        memcpy(y, &b, sizeof b);
    }
}

size_t ckpt_quantize_q2_K(const float *src, void *dst, int64_t nrow, int64_t n_per_row,
                          const float *imatrix)
{
    const size_t row_bytes = (size_t)(n_per_row / QK_K) * sizeof(block_q2_K);
    if (!imatrix) {
        ckpt_quantize_row_q2_K_ref(src, dst, nrow * n_per_row);
    } else {
        for (int64_t r = 0; r < nrow; ++r)
            quantize_row_q2_K_weighted(src + r * n_per_row, (uint8_t *)dst + r * row_bytes,
                                       n_per_row, imatrix);
    }
    return (size_t)nrow * row_bytes;
}

void ckpt_dequantize_row_q2_K(const void *vx, float *y, int64_t k)
{
    const uint8_t *x = vx;
    const int64_t nb = k / QK_K;
    for (int64_t i = 0; i < nb; i++, x += sizeof(block_q2_K)) {
        block_q2_K b;
        memcpy(&b, x, sizeof b);
        const float d = ckpt_f16_to_f32(b.d);
        const float min = ckpt_f16_to_f32(b.dmin);
        const uint8_t *q = b.qs;
        int is = 0;
        for (int n = 0; n < QK_K; n += 128, q += 32) {
            for (int shift = 0; shift < 8; shift += 2) {
                for (int half = 0; half < 2; ++half) { /* sub-blocks of 16 */
                    const uint8_t sc = b.scales[is++];
                    const float dl = d * (sc & 0xF), ml = min * (sc >> 4);
                    for (int l = 0; l < 16; ++l)
                        *y++ = dl * ((q[16 * half + l] >> shift) & 3) - ml;
                }
            }
        }
    }
}
