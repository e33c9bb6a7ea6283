/*
 * quant_iq4_nl.c - IQ4_NL: 32-element blocks of 4-bit indices into a
 * fixed non-linear table of 16 levels, one f16 scale.  llama-quantize
 * falls back to it for Q2_K/Q3_K rows that are not a multiple of 256.
 *
 * ckpt_quantize_iq4_nl (ggml's quantize_iq4_nl, the path llama-quantize
 * takes, with or without an imatrix): weights x^2, or qw*sqrt(sigma^2 +
 * x^2) with sigma^2 = 2*mean x^2 over the block; a least-squares scale,
 * improved over 15 trial scales; a last pass re-picks every index
 * against that (unrounded) scale.  ckpt_quantize_row_iq4_nl_ref is
 * ggml's quick path: one fit, no search, no last pass (an all-zero block
 * gets index 0 there, where ggml leaves whatever the previous block had).
 */
#include "quant_blocks.h"
#include "quant_k_common.h"
#include "quant_kernels.h"

#include "fp16.h"

#include <math.h>

const int8_t ckpt_kvalues_iq4nl[16] = {
    -127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113,
};

/* Index of the level nearest to x in the ascending table val[0..n). */
static int best_index_int8(int n, const int8_t *val, float x)
{
    if (x <= val[0])
        return 0;
    if (x >= val[n - 1])
        return n - 1;
    int ml = 0, mu = n - 1;
    while (mu - ml > 1) {
        int mav = (ml + mu) / 2;
        if (x < val[mav])
            mu = mav;
        else
            ml = mav;
    }
    return x - val[mu - 1] < val[mu] - x ? mu - 1 : mu;
}

/*
 * One block of 32.  qw: NULL or the block's 32 importance weights.
 * ntry > 0: full search (ggml ntry 7); ntry <= 0: the quick path.
 */
static void quantize_block_iq4_nl(const float *x, block_iq4_nl *b, const float *qw, int ntry)
{
    const int8_t *values = ckpt_kvalues_iq4nl;
    float weight[CKPT_QK4_NL];
    uint8_t L[CKPT_QK4_NL];

    float sigma2 = 0;
    for (int j = 0; j < CKPT_QK4_NL; ++j)
        sigma2 += x[j] * x[j];
    sigma2 *= 2.f / CKPT_QK4_NL;

    if (qw) {
        for (int j = 0; j < CKPT_QK4_NL; ++j)
            weight[j] = qw[j] * sqrtf(sigma2 + x[j] * x[j]);
    } else {
        for (int j = 0; j < CKPT_QK4_NL; ++j)
            weight[j] = x[j] * x[j];
    }
    float amax = 0, max = 0;
    for (int j = 0; j < CKPT_QK4_NL; ++j) {
        if (fabsf(x[j]) > amax) {
            amax = fabsf(x[j]);
            max = x[j];
        }
    }
    float scale = 0;
    memset(L, 0, sizeof L);
    if (amax >= CKPT_GROUP_MAX_EPS) {
        float d = ntry > 0 ? -max / values[0] : max / values[0];
        float id = 1 / d;
        float sumqx = 0, sumq2 = 0;
        for (int j = 0; j < CKPT_QK4_NL; ++j) {
            const int l = best_index_int8(16, values, id * x[j]);
            L[j] = (uint8_t)l;
            const float q = values[l];
            sumqx += weight[j] * q * x[j];
            sumq2 += weight[j] * q * q;
        }
        d = sumqx / sumq2; /* NaN if every weight is 0, as in ggml */
        float best = d * sumqx;
        for (int itry = -ntry; itry <= ntry; ++itry) {
            id = (itry + values[0]) / max;
            sumqx = sumq2 = 0;
            for (int j = 0; j < CKPT_QK4_NL; ++j) {
                const float q = values[best_index_int8(16, values, id * x[j])];
                sumqx += weight[j] * q * x[j];
                sumq2 += weight[j] * q * q;
            }
            if (sumq2 > 0 && sumqx * sumqx > best * sumq2) {
                d = sumqx / sumq2;
                best = d * sumqx;
            }
        }
        scale = d;
    }
    b->d = ckpt_f32_to_f16(scale);
    if (ntry > 0) {
        const float id = scale ? 1 / scale : 0;
        for (int j = 0; j < CKPT_QK4_NL; ++j)
            L[j] = (uint8_t)best_index_int8(16, values, id * x[j]);
    }
    for (int j = 0; j < 16; ++j)
        b->qs[j] = (uint8_t)(L[j] | (L[16 + j] << 4));
}

void ckpt_quantize_row_iq4_nl_ref(const float *x, void *vy, int64_t k)
{
    uint8_t *y = vy;
    for (int64_t i = 0; i < k / CKPT_QK4_NL; ++i, x += CKPT_QK4_NL, y += sizeof(block_iq4_nl)) {
        block_iq4_nl b;
        quantize_block_iq4_nl(x, &b, NULL, -1);
        memcpy(y, &b, sizeof b);
    }
}

size_t ckpt_quantize_iq4_nl(const float *src, void *dst, int64_t nrow, int64_t n_per_row,
                            const float *imatrix)
{
    const int64_t nb = n_per_row / CKPT_QK4_NL;
    uint8_t *y = dst;
    for (int64_t r = 0; r < nrow; ++r) {
        for (int64_t i = 0; i < nb; ++i, src += CKPT_QK4_NL, y += sizeof(block_iq4_nl)) {
            block_iq4_nl b;
            quantize_block_iq4_nl(src, &b, imatrix ? imatrix + CKPT_QK4_NL * i : NULL, 7);
            memcpy(y, &b, sizeof b);
        }
    }
    return (size_t)(nrow * nb) * sizeof(block_iq4_nl);
}

void ckpt_dequantize_row_iq4_nl(const void *vx, float *y, int64_t k)
{
    const uint8_t *x = vx;
    for (int64_t i = 0; i < k / CKPT_QK4_NL; ++i, x += sizeof(block_iq4_nl), y += CKPT_QK4_NL) {
        block_iq4_nl b;
        memcpy(&b, x, sizeof b);
        const float d = ckpt_f16_to_f32(b.d);
        for (int j = 0; j < 16; ++j) {
            y[j] = d * ckpt_kvalues_iq4nl[b.qs[j] & 0xf];
            y[j + 16] = d * ckpt_kvalues_iq4nl[b.qs[j] >> 4];
        }
    }
}
