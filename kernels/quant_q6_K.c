/*
 * quant_q6_K.c - Q6_K: 256-element super-blocks of 16 sub-blocks of 16
 * signed 6-bit quants (-32..31), an int8 scale per sub-block and one f16
 * super-scale.  Both paths fit each sub-block with make_qx_quants (nmax
 * 32); the weighted path passes the importance weights themselves (no
 * sigma^2 term).  A super-block whose largest scale is below 1e-15 is
 * written as all zero bytes.  The sub-block searches go 8 at a time
 * through struct ckpt_kq_kernels (scalar, or the AVX2 sibling: same bytes).
 */
#include "quant_blocks.h"
#include "quant_k_common.h"
#include "quant_kernels.h"

#include "fp16.h"

#include <math.h>

#define QK_K 256

/* One super-block; qw is NULL (reference) or the 256 weights of this
 * block; s is the scale search (8 sub-blocks a call). */
static void quantize_block_q6_K(const float *x, block_q6_K *b, const float *qw,
                                const struct ckpt_kq_kernels *s)
{
    int8_t L[QK_K];
    float scales[QK_K / 16];
    float max_scale = 0, max_abs_scale = 0;

    for (int h = 0; h < QK_K; h += 128)
        s->qx(16, 32, x + h, L + h, 1, qw ? qw + h : NULL, scales + h / 16);
    for (int ib = 0; ib < QK_K / 16; ++ib) {
        const float scale = scales[ib];
        if (fabsf(scale) > max_abs_scale) {
            max_abs_scale = fabsf(scale);
            max_scale = scale;
        }
    }
    if (max_abs_scale < CKPT_GROUP_MAX_EPS) {
        memset(b, 0, sizeof *b);
        return;
    }
    const float iscale = -128.f / max_scale;
    b->d = ckpt_f32_to_f16(1 / iscale);
    for (int ib = 0; ib < QK_K / 16; ++ib)
        b->scales[ib] = (int8_t)imin(127, ckpt_nearest_int(iscale * scales[ib]));

    const float dall = ckpt_f16_to_f32(b->d);
    for (int j = 0; j < QK_K / 16; ++j) {
        const float d = dall * b->scales[j];
        if (!d)
            continue;
        for (int ii = 0; ii < 16; ++ii) {
            int l = ckpt_nearest_int(x[16 * j + ii] / d);
            L[16 * j + ii] = (int8_t)(imax(-32, imin(31, l)) + 32);
        }
    }

    /* per 128: ql holds low nibbles of (l, l+64) and (l+32, l+96); qh the
     * high 2 bits of l, l+32, l+64, l+96 */
    uint8_t *ql = b->ql, *qh = b->qh;
    for (int j = 0; j < QK_K; j += 128, ql += 64, qh += 32) {
        for (int l = 0; l < 32; ++l) {
            const uint8_t q1 = L[j + l + 0] & 0xF, q2 = L[j + l + 32] & 0xF;
            const uint8_t q3 = L[j + l + 64] & 0xF, q4 = L[j + l + 96] & 0xF;
            ql[l] = (uint8_t)(q1 | (q3 << 4));
            ql[l + 32] = (uint8_t)(q2 | (q4 << 4));
            qh[l] = (uint8_t)((L[j + l] >> 4) | ((L[j + l + 32] >> 4) << 2) |
                              ((L[j + l + 64] >> 4) << 4) | ((L[j + l + 96] >> 4) << 6));
        }
    }
}

size_t ckpt_quantize_q6_K_kq(const float *src, void *dst, int64_t nrow, int64_t n_per_row,
                          const float *imatrix, const struct ckpt_kq_kernels *s)
{
    const int64_t nb = n_per_row / QK_K;
    uint8_t *y = dst;
    for (int64_t r = 0; r < nrow; ++r) {
        for (int64_t i = 0; i < nb; ++i, src += QK_K, y += sizeof(block_q6_K)) {
            block_q6_K b;
            quantize_block_q6_K(src, &b, imatrix ? imatrix + QK_K * i : NULL, s);
            memcpy(y, &b, sizeof b);
        }
    }
    return (size_t)nrow * (size_t)nb * sizeof(block_q6_K);
}

void ckpt_quantize_row_q6_K_ref(const float *x, void *y, int64_t k)
{
    ckpt_quantize_q6_K_kq(x, y, 1, k, NULL, &ckpt_kq_ref);
}

size_t ckpt_quantize_q6_K(const float *src, void *dst, int64_t nrow, int64_t n_per_row,
                          const float *imatrix)
{
    return ckpt_quantize_q6_K_kq(src, dst, nrow, n_per_row, imatrix, &ckpt_kq_ref);
}

void ckpt_dequantize_row_q6_K(const void *vx, float *y, int64_t k)
{
    const uint8_t *x = vx;
    for (int64_t i = 0; i < k / QK_K; i++, x += sizeof(block_q6_K)) {
        block_q6_K b;
        memcpy(&b, x, sizeof b);
        const float d = ckpt_f16_to_f32(b.d);
        const uint8_t *ql = b.ql, *qh = b.qh;
        const int8_t *sc = b.scales;
        for (int n = 0; n < QK_K; n += 128, y += 128, ql += 64, qh += 32, sc += 8) {
            for (int l = 0; l < 32; ++l) {
                const int is = l / 16;
                const int q1 = ((ql[l] & 0xF) | (((qh[l] >> 0) & 3) << 4)) - 32;
                const int q2 = ((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32;
                const int q3 = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
                const int q4 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
                y[l + 0] = d * sc[is + 0] * q1;
                y[l + 32] = d * sc[is + 2] * q2;
                y[l + 64] = d * sc[is + 4] * q3;
                y[l + 96] = d * sc[is + 6] * q4;
            }
        }
    }
}
