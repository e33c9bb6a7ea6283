/*
 * quant_q4_K.c - Q4_K: 256-element super-blocks of 8 sub-blocks of 32
 * 4-bit quants, x = (d*sc)*q - (dmin*m) with 6-bit sc and m per sub-block.
 *
 * Reference path: weights av + |x| (av = rms of the sub-block),
 * make_qkx2_quants(rmin -1, step 0.1, 20 steps), sc and m mapped to 0..63
 * relative to their largest value.  Weighted path (sigma^2 = 2*mean x^2
 * over the super-block): make_qkx3_quants, then make_qp_quants for the 8
 * scales and the 8 mins (make_qkx3_quants with weights is the same search
 * as make_qkx2_quants).  Both finish with ckpt_requantize_k4.  The 8
 * sub-block searches of a super-block are one struct ckpt_kq_kernels call:
 * the scalar loop for the ckpt_quantize_*_q4_K entries, whichever the
 * dispatch table holds for ckpt_quantize_q4_K_kq (the same bytes).
 */
#include "quant_blocks.h"
#include "quant_k_common.h"
#include "quant_kernels.h"

#include "fp16.h"

#include <math.h>

#define QK_K 256

/* Pack 256 quants (0..15): elements l and l+32 of each 64 share a byte. */
static void pack_q4_K(const uint8_t *L, uint8_t *q)
{
    for (int j = 0; j < QK_K; j += 64, q += 32)
        for (int l = 0; l < 32; ++l)
            q[l] = (uint8_t)(L[j + l] | (L[j + l + 32] << 4));
}

/* nb super-blocks without importance weights; s is the scale search. */
static void quantize_q4_K_plain(const float *x, uint8_t *y, int64_t nb,
                                const struct ckpt_kq_kernels *s)
{
    uint8_t L[QK_K], ls[QK_K / 32], lm[QK_K / 32];
    float weights[QK_K], mins[QK_K / 32], scales[QK_K / 32];

    for (int64_t i = 0; i < nb; i++, x += QK_K, y += sizeof(block_q4_K)) {
        block_q4_K b;
        for (int j = 0; j < QK_K / 32; ++j) {
            float sum_x2 = 0;
            for (int l = 0; l < 32; ++l)
                sum_x2 += x[32 * j + l] * x[32 * j + l];
            const float av_x = sqrtf(sum_x2 / 32);
            for (int l = 0; l < 32; ++l)
                weights[32 * j + l] = av_x + fabsf(x[32 * j + l]);
        }
        s->qkx(32, 15, x, weights, L, scales, mins, -1.f, 0.1f, 20, false);
        float max_scale = 0, max_min = 0;
        for (int j = 0; j < QK_K / 32; ++j) {
            if (scales[j] > max_scale)
                max_scale = scales[j];
            if (mins[j] > max_min)
                max_min = mins[j];
        }
        const float inv_scale = max_scale > 0 ? 63.f / max_scale : 0.f;
        const float inv_min = max_min > 0 ? 63.f / max_min : 0.f;
        for (int j = 0; j < QK_K / 32; ++j) {
            /* ggml truncates to a byte before clamping */
            ls[j] = (uint8_t)imin(63, (uint8_t)ckpt_nearest_int(inv_scale * scales[j]));
            lm[j] = (uint8_t)imin(63, (uint8_t)ckpt_nearest_int(inv_min * mins[j]));
        }
        ckpt_set_scale_min_k4(ls, lm, b.scales);
        b.d = ckpt_f32_to_f16(max_scale / 63.f);
        b.dmin = ckpt_f32_to_f16(max_min / 63.f);
        s->requantize_k4(x, b.scales, b.d, b.dmin, 15, L);
        pack_q4_K(L, b.qs);
        memcpy(y, &b, sizeof b);
    }
}

/* One row with importance weights qw_row (n_per_row of them). */
static void quantize_q4_K_weighted(const float *x, uint8_t *y, int64_t n_per_row,
                                   const float *qw_row, const struct ckpt_kq_kernels *s)
{
    const int64_t nb = n_per_row / QK_K;
    uint8_t L[QK_K], Ls[QK_K / 32], Lm[QK_K / 32];
    float weights[QK_K], sw[QK_K / 32], mins[QK_K / 32], scales[QK_K / 32];

    for (int64_t i = 0; i < nb; i++, x += QK_K, y += sizeof(block_q4_K)) {
        block_q4_K b;
        float sum_x2 = 0;
        for (int l = 0; l < QK_K; ++l)
            sum_x2 += x[l] * x[l];
        const float sigma2 = 2 * sum_x2 / QK_K;
        for (int j = 0; j < QK_K / 32; ++j) {
            const float *qw = qw_row + QK_K * i + 32 * j;
            float *wj = weights + 32 * j;
            for (int l = 0; l < 32; ++l)
                wj[l] = qw[l] * sqrtf(sigma2 + x[32 * j + l] * x[32 * j + l]);
            float sumw = 0;
            for (int l = 0; l < 32; ++l)
                sumw += wj[l];
            sw[j] = sumw;
        }
        s->qkx(32, 15, x, weights, L, scales, mins, -0.9f, 0.05f, 36, false);
        const float d_block = ckpt_make_qp_quants(QK_K / 32, 63, scales, Ls, sw);
        const float m_block = ckpt_make_qp_quants(QK_K / 32, 63, mins, Lm, sw);
        ckpt_set_scale_min_k4(Ls, Lm, b.scales);
        b.d = ckpt_f32_to_f16(d_block);
        b.dmin = ckpt_f32_to_f16(m_block);
        s->requantize_k4(x, b.scales, b.d, b.dmin, 15, L);
        pack_q4_K(L, b.qs);
        memcpy(y, &b, sizeof b);
    }
}

size_t ckpt_quantize_q4_K_kq(const float *src, void *dst, int64_t nrow, int64_t n_per_row,
                          const float *imatrix, const struct ckpt_kq_kernels *s)
{
    const size_t row_bytes = (size_t)(n_per_row / QK_K) * sizeof(block_q4_K);
    if (!imatrix) {
        quantize_q4_K_plain(src, dst, nrow * n_per_row / QK_K, s);
    } else {
        for (int64_t r = 0; r < nrow; ++r)
            quantize_q4_K_weighted(src + r * n_per_row, (uint8_t *)dst + r * row_bytes,
                                   n_per_row, imatrix, s);
    }
    return (size_t)nrow * row_bytes;
}

void ckpt_quantize_row_q4_K_ref(const float *x, void *y, int64_t k)
{
    quantize_q4_K_plain(x, y, k / QK_K, &ckpt_kq_ref);
}

size_t ckpt_quantize_q4_K(const float *src, void *dst, int64_t nrow, int64_t n_per_row,
                          const float *imatrix)
{
    return ckpt_quantize_q4_K_kq(src, dst, nrow, n_per_row, imatrix, &ckpt_kq_ref);
}

void ckpt_dequantize_row_q4_K(const void *vx, float *y, int64_t k)
{
    const uint8_t *x = vx;
    const int64_t nb = k / QK_K;
    for (int64_t i = 0; i < nb; i++, x += sizeof(block_q4_K)) {
        block_q4_K b;
        memcpy(&b, x, sizeof b);
        const float d = ckpt_f16_to_f32(b.d);
        const float min = ckpt_f16_to_f32(b.dmin);
        const uint8_t *q = b.qs;
        for (int is = 0; is < 8; is += 2, q += 32) {
            uint8_t sc, m;
            ckpt_get_scale_min_k4(is, b.scales, &sc, &m);
            const float d1 = d * sc, m1 = min * m;
            ckpt_get_scale_min_k4(is + 1, b.scales, &sc, &m);
            const float d2 = d * sc, m2 = min * m;
            for (int l = 0; l < 32; ++l)
                *y++ = d1 * (q[l] & 0xF) - m1;
            for (int l = 0; l < 32; ++l)
                *y++ = d2 * (q[l] >> 4) - m2;
        }
    }
}
