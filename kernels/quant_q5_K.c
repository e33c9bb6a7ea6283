/*
 * quant_q5_K.c - Q5_K: Q4_K's layout plus a fifth bit per quant (qh),
 * q in 0..31.  Reference path: make_qkx2_quants(rmin -0.5, step 0.1,
 * 15 steps); weighted path as Q4_K's with nmax 31.  The sub-block
 * searches go through struct ckpt_kq_kernels as in quant_q4_K.c.
 */
#include "quant_blocks.h"
#include "quant_k_common.h"
#include "quant_kernels.h"

#include "fp16.h"

#include <math.h>

#define QK_K 256

/* Split 256 quants (0..31) into nibbles (as q4_K) and the qh bit planes. */
static void pack_q5_K(const uint8_t *L, block_q5_K *b)
{
    uint8_t *ql = b->qs;
    uint8_t m1 = 1, m2 = 2;
    memset(b->qh, 0, sizeof b->qh);
    for (int n = 0; n < QK_K; n += 64, ql += 32) {
        for (int j = 0; j < 32; ++j) {
            int l1 = L[n + j], l2 = L[n + j + 32];
            if (l1 > 15) {
                l1 -= 16;
                b->qh[j] |= m1;
            }
            if (l2 > 15) {
                l2 -= 16;
                b->qh[j] |= m2;
            }
            ql[j] = (uint8_t)(l1 | (l2 << 4));
        }
        m1 = (uint8_t)(m1 << 2);
        m2 = (uint8_t)(m2 << 2);
    }
}

/* nb super-blocks without importance weights; s is the scale search. */
static void quantize_q5_K_plain(const float *x, uint8_t *y, int64_t nb,
                                const struct ckpt_kq_kernels *s)
{
    uint8_t L[QK_K], ls[QK_K / 32], lm[QK_K / 32];
    float weights[QK_K], mins[QK_K / 32], scales[QK_K / 32];

    for (int64_t i = 0; i < nb; i++, x += QK_K, y += sizeof(block_q5_K)) {
        block_q5_K b;
        for (int j = 0; j < QK_K / 32; ++j) {
            float sum_x2 = 0;
            for (int l = 0; l < 32; ++l)
                sum_x2 += x[32 * j + l] * x[32 * j + l];
            const float av_x = sqrtf(sum_x2 / 32);
            for (int l = 0; l < 32; ++l)
                weights[32 * j + l] = av_x + fabsf(x[32 * j + l]);
        }
        s->qkx(32, 31, x, weights, L, scales, mins, -0.5f, 0.1f, 15, false);
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
            ls[j] = (uint8_t)imin(63, (uint8_t)ckpt_nearest_int(inv_scale * scales[j]));
            lm[j] = (uint8_t)imin(63, (uint8_t)ckpt_nearest_int(inv_min * mins[j]));
        }
        ckpt_set_scale_min_k4(ls, lm, b.scales);
        b.d = ckpt_f32_to_f16(max_scale / 63.f);
        b.dmin = ckpt_f32_to_f16(max_min / 63.f);
        s->requantize_k4(x, b.scales, b.d, b.dmin, 31, L);
        pack_q5_K(L, &b);
        memcpy(y, &b, sizeof b);
    }
}

/* One row with importance weights qw_row (n_per_row of them). */
static void quantize_q5_K_weighted(const float *x, uint8_t *y, int64_t n_per_row,
                                   const float *qw_row, const struct ckpt_kq_kernels *s)
{
    const int64_t nb = n_per_row / QK_K;
    uint8_t L[QK_K], Ls[QK_K / 32], Lm[QK_K / 32];
    float weights[QK_K], sw[QK_K / 32], mins[QK_K / 32], scales[QK_K / 32];

    for (int64_t i = 0; i < nb; i++, x += QK_K, y += sizeof(block_q5_K)) {
        block_q5_K b;
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
        s->qkx(32, 31, x, weights, L, scales, mins, -0.9f, 0.05f, 36, false);
        const float d_block = ckpt_make_qp_quants(QK_K / 32, 63, scales, Ls, sw);
        const float m_block = ckpt_make_qp_quants(QK_K / 32, 63, mins, Lm, sw);
        for (int j = 0; j < QK_K / 32; ++j) { /* q5_K clamps here, q4_K does not */
            Ls[j] = (uint8_t)imin(63, Ls[j]);
            Lm[j] = (uint8_t)imin(63, Lm[j]);
        }
        ckpt_set_scale_min_k4(Ls, Lm, b.scales);
        b.d = ckpt_f32_to_f16(d_block);
        b.dmin = ckpt_f32_to_f16(m_block);
        s->requantize_k4(x, b.scales, b.d, b.dmin, 31, L);
        pack_q5_K(L, &b);
        memcpy(y, &b, sizeof b);
    }
}

size_t ckpt_quantize_q5_K_kq(const float *src, void *dst, int64_t nrow, int64_t n_per_row,
                          const float *imatrix, const struct ckpt_kq_kernels *s)
{
    const size_t row_bytes = (size_t)(n_per_row / QK_K) * sizeof(block_q5_K);
    if (!imatrix) {
        quantize_q5_K_plain(src, dst, nrow * n_per_row / QK_K, s);
    } else {
        for (int64_t r = 0; r < nrow; ++r)
            quantize_q5_K_weighted(src + r * n_per_row, (uint8_t *)dst + r * row_bytes,
                                   n_per_row, imatrix, s);
    }
    return (size_t)nrow * row_bytes;
}

void ckpt_quantize_row_q5_K_ref(const float *x, void *y, int64_t k)
{
    quantize_q5_K_plain(x, y, k / QK_K, &ckpt_kq_ref);
}

size_t ckpt_quantize_q5_K(const float *src, void *dst, int64_t nrow, int64_t n_per_row,
                          const float *imatrix)
{
    return ckpt_quantize_q5_K_kq(src, dst, nrow, n_per_row, imatrix, &ckpt_kq_ref);
}

void ckpt_dequantize_row_q5_K(const void *vx, float *y, int64_t k)
{
    const uint8_t *x = vx;
    const int64_t nb = k / QK_K;
    for (int64_t i = 0; i < nb; i++, x += sizeof(block_q5_K)) {
        block_q5_K b;
        memcpy(&b, x, sizeof b);
        const float d = ckpt_f16_to_f32(b.d);
        const float min = ckpt_f16_to_f32(b.dmin);
        const uint8_t *ql = b.qs;
        unsigned u1 = 1, u2 = 2;
        for (int is = 0; is < 8; is += 2, ql += 32, u1 <<= 2, u2 <<= 2) {
            uint8_t sc, m;
            ckpt_get_scale_min_k4(is, b.scales, &sc, &m);
            const float d1 = d * sc, m1 = min * m;
            ckpt_get_scale_min_k4(is + 1, b.scales, &sc, &m);
            const float d2 = d * sc, m2 = min * m;
            for (int l = 0; l < 32; ++l)
                *y++ = d1 * ((ql[l] & 0xF) + (b.qh[l] & u1 ? 16 : 0)) - m1;
            for (int l = 0; l < 32; ++l)
                *y++ = d2 * ((ql[l] >> 4) + (b.qh[l] & u2 ? 16 : 0)) - m2;
        }
    }
}
