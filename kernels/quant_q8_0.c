/*
 * quant_q8_0.c - Q8_0: blocks of 32 int8 values with one f16 scale.
 * The reference rounds with roundf (half away from zero), unlike the
 * k-quants; importance weights are ignored, as in ggml.
 */
#include "quant_blocks.h"
#include "quant_k_common.h"
#include "quant_kernels.h"

#include "fp16.h"

#include <math.h>

void ckpt_quantize_row_q8_0_ref(const float *x, void *vy, int64_t k)
{
    uint8_t *y = vy;
    const int64_t nb = k / CKPT_QK8_0;
    for (int64_t i = 0; i < nb; i++, x += CKPT_QK8_0, y += sizeof(block_q8_0)) {
        block_q8_0 b;
        float amax = 0.0f;
        for (int j = 0; j < CKPT_QK8_0; j++)
            amax = amax > fabsf(x[j]) ? amax : fabsf(x[j]);
        const float d = amax / ((1 << 7) - 1);
        const float id = d ? 1.0f / d : 0.0f;
        b.d = ckpt_f32_to_f16(d);
        for (int j = 0; j < CKPT_QK8_0; ++j)
            b.qs[j] = (int8_t)ckpt_trunc_i32(roundf(x[j] * id));
        memcpy(y, &b, sizeof b);
    }
}

size_t ckpt_quantize_q8_0(const float *src, void *dst, int64_t nrow, int64_t n_per_row,
                          const float *imatrix)
{
    (void)imatrix;
    ckpt_quantize_row_q8_0_ref(src, dst, nrow * n_per_row);
    return (size_t)(nrow * (n_per_row / CKPT_QK8_0)) * sizeof(block_q8_0);
}

void ckpt_dequantize_row_q8_0(const void *vx, float *y, int64_t k)
{
    const uint8_t *x = vx;
    const int64_t nb = k / CKPT_QK8_0;
    for (int64_t i = 0; i < nb; i++, x += sizeof(block_q8_0), y += CKPT_QK8_0) {
        block_q8_0 b;
        memcpy(&b, x, sizeof b);
        const float d = ckpt_f16_to_f32(b.d);
        for (int j = 0; j < CKPT_QK8_0; ++j)
            y[j] = b.qs[j] * d;
    }
}
