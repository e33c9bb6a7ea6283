/*
 * quant_q8_K.c - Q8_K: 256 int8 values with an f32 scale and the sums of
 * each 16 quants (bsums), the activation type the k-quant dot products
 * pair with.  Never written to model files; ggml has no weighted variant.
 */
#include "quant_blocks.h"
#include "quant_k_common.h"
#include "quant_kernels.h"

#include <math.h>

#define QK_K 256

void ckpt_quantize_row_q8_K_ref(const float *x, void *vy, int64_t k)
{
    uint8_t *y = vy;
    for (int64_t i = 0; i < k / QK_K; i++, x += QK_K, y += sizeof(block_q8_K)) {
        block_q8_K b;
        float max = 0, amax = 0;
        for (int j = 0; j < QK_K; ++j) {
            if (fabsf(x[j]) > amax) {
                amax = fabsf(x[j]);
                max = x[j];
            }
        }
        if (!amax) { /* ggml leaves bsums unwritten here; we write zeros */
            memset(&b, 0, sizeof b);
            memcpy(y, &b, sizeof b);
            continue;
        }
        const float iscale = -127.f / max;
        for (int j = 0; j < QK_K; ++j)
            b.qs[j] = (int8_t)imin(127, ckpt_nearest_int(iscale * x[j]));
        for (int j = 0; j < QK_K / 16; ++j) {
            int sum = 0;
            for (int ii = 0; ii < 16; ++ii)
                sum += b.qs[j * 16 + ii];
            b.bsums[j] = (int16_t)sum;
        }
        b.d = 1 / iscale;
        memcpy(y, &b, sizeof b);
    }
}

size_t ckpt_quantize_q8_K(const float *src, void *dst, int64_t nrow, int64_t n_per_row,
                          const float *imatrix)
{
    (void)imatrix;
    ckpt_quantize_row_q8_K_ref(src, dst, nrow * n_per_row);
    return (size_t)(nrow * (n_per_row / QK_K)) * sizeof(block_q8_K);
}

void ckpt_dequantize_row_q8_K(const void *vx, float *y, int64_t k)
{
    const uint8_t *x = vx;
    for (int64_t i = 0; i < k / QK_K; i++, x += sizeof(block_q8_K)) {
        block_q8_K b;
        memcpy(&b, x, sizeof b);
        for (int j = 0; j < QK_K; ++j)
            *y++ = b.d * b.qs[j];
    }
}
