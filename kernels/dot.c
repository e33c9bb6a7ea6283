/*
 * dot.c - reference dot products (see dot.h).  The row dot product
 * dequantizes one block (or 256 plain values) at a time into a stack
 * buffer and feeds the same eight-lane accumulator as ckpt_vec_dot_f32;
 * every chunk starts at a multiple of 8, so each product lands in the
 * same lane, in the same order, as in a dot over the whole dequantized row.
 */
#include "dot.h"

#include <math.h>
#include <stdint.h>

#include "quant.h"

#define LANES 8
#define CHUNK 256 /* the largest block, and the chunk for plain types */

/* acc[i % 8] += a[i]*b[i]; n is a multiple of 8 except for a final chunk */
static void accumulate(float acc[LANES], const float *a, const float *b, int n)
{
    int i = 0;
    for (; i + LANES <= n; i += LANES)
        for (int l = 0; l < LANES; ++l)
            acc[l] += a[i + l] * b[i + l];
    for (int l = 0; i < n; ++i, ++l)
        acc[l] += a[i] * b[i];
}

static float reduce(const float acc[LANES])
{
    return ((acc[0] + acc[4]) + (acc[2] + acc[6])) + ((acc[1] + acc[5]) + (acc[3] + acc[7]));
}

float ckpt_vec_dot_f32(const float *a, const float *b, int n)
{
    float acc[LANES] = {0};
    accumulate(acc, a, b, n);
    return reduce(acc);
}

bool ckpt_dot_supported(ckpt_type t)
{
    return ckpt_quant_supported(t);
}

float ckpt_dot_row(ckpt_type t, const void *wrow, const float *x, int n)
{
    const struct ckpt_type_traits *tr = ckpt_type_traits((uint32_t)t);
    if (!tr || !ckpt_quant_supported(t) || n < 0 || n % tr->block_elems != 0)
        return NAN;
    /* whole blocks per chunk: one for the quantized types, 256 plain values */
    const int step = tr->block_elems > 1 ? (int)tr->block_elems : CHUNK;
    const size_t step_bytes = (size_t)(step / tr->block_elems) * tr->block_bytes;
    const uint8_t *w = wrow;
    float buf[CHUNK];
    float acc[LANES] = {0};
    for (int i = 0; i < n; i += step, w += step_bytes) {
        const int len = n - i < step ? n - i : step;
        ckpt_dequantize_row(t, w, buf, len);
        accumulate(acc, buf, x + i, len);
    }
    return reduce(acc);
}
