/*
 * quant_ct.h - integer weights as compressed-tensors stores them (the
 * format vLLM and transformers load as quant_method "compressed-tensors"):
 * symmetric int8 or int4, one scale per output channel (row) or per group
 * of columns, packed into int32 words.  Pure functions, no files.
 *
 * The rules are compressed-tensors' own (quantization/utils/helpers.py
 * calculate_range / calculate_qparams, quant_args.py
 * round_to_quantized_type_args, compressors/pack_quantized/helpers.py
 * pack_to_int32; vllm-project/compressed-tensors 0.12):
 *
 *   range   bits b: qmin = -2^(b-1), qmax = 2^(b-1) - 1   (int8 -128..127,
 *           int4 -8..7)
 *   scale   absmax / ((qmax - qmin) / 2)  = absmax / 127.5 (int8), / 7.5 (int4),
 *           stored in the model's float dtype; a zero scale becomes that
 *           dtype's machine epsilon (so that nothing divides by zero)
 *   value   q = round_half_even(clamp(x / scale, qmin, qmax)), the quotient
 *           taken in the model's dtype (rounded to it before the clamp)
 *   dequant x' = q * scale
 *   packing (pack-quantized) q + 2^(b-1) as an unsigned b-bit field, field
 *           i of a row at bits [i*b, i*b + b) of the row's little-endian
 *           int32 words, ceil(n*b/32) words per row, unused bits zero:
 *
 *             int8:  word = (q0+128) | (q1+128) << 8 | (q2+128) << 16 | (q3+128) << 24
 *             int4:  word = (q0+8) | (q1+8) << 4 | ... | (q7+8) << 28
 *
 * compressed-tensors computes in the weight's dtype: with BF16 weights the
 * scale is an f32 quotient rounded to BF16 (what PyTorch's CPU kernels do),
 * and x / scale is rounded to BF16 too before it is rounded to an integer
 * (8 significant bits: above 64 the quotient moves in steps of 0.5).  The
 * functions below take that dtype as `dt` and do the same, so that the
 * integers equal the ones compressed-tensors writes for the same weights.
 */
#ifndef CKPT_KERNELS_QUANT_CT_H
#define CKPT_KERNELS_QUANT_CT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "types.h"

/* Largest and smallest integer of a b-bit signed symmetric scheme. */
static inline int ckpt_ct_qmax(int bits) { return (1 << (bits - 1)) - 1; }
static inline int ckpt_ct_qmin(int bits) { return -(1 << (bits - 1)); }

/* int32 words a packed row of n b-bit values takes: ceil(n * b / 32). */
int64_t ckpt_ct_packed_words(int64_t n, int bits);

/* f rounded to dtype dt (F32, F16 or BF16) and back. */
float ckpt_ct_round(float f, ckpt_type dt);

/*
 * The absmax scale of x[0..n): max|x| / ((qmax - qmin) / 2), rounded to
 * dt; 0 becomes dt's epsilon (2^-23, 2^-10, 2^-7).
 */
float ckpt_ct_scale_absmax(const float *x, int64_t n, int bits, ckpt_type dt);

/*
 * The scale minimizing sum_i w[i] * (x[i] - q_i * s)^2 over candidate
 * scales: the absmax scale first, then for k = -24, -22 .. 8 the absmax
 * scale times (1 + k / 64) and the least-squares scale of the integers that
 * candidate gives (sum w x q / sum w q^2), each rounded to dt; the first
 * of equal errors is kept.  w NULL: all weights 1.  Never worse than the
 * absmax scale on the weighted error.
 */
float ckpt_ct_scale_search(const float *x, const float *w, int64_t n, int bits,
                           ckpt_type dt);

/* q[i] = round_half_even(clamp(dt(x[i] / scale), qmin, qmax)) for i < n. */
void ckpt_ct_quantize(const float *x, int64_t n, float scale, int bits, ckpt_type dt, int8_t *q);

/* Pack q[0..n) into ckpt_ct_packed_words(n, bits) little-endian int32
 * words at dst (4 bytes each, any alignment). bits is 4 or 8. */
void ckpt_ct_pack(const int8_t *q, int64_t n, int bits, uint8_t *dst);

/* The inverse: n signed values from packed words at src (any alignment). */
void ckpt_ct_unpack(const uint8_t *src, int64_t n, int bits, int8_t *q);

/*
 * Dequantize one row of n values: y[i] = q[i] * scale[i / group]
 * (group = n for one scale per row).  The product is an f32 product of
 * the stored scale (already widened to f32) and the integer.
 */
void ckpt_ct_dequantize(const int8_t *q, const float *scale, int64_t n, int64_t group, float *y);

/*
 * One row, start to end: scales for each group of `group` values (group
 * = n: per channel) by absmax, or by ckpt_ct_scale_search when `search`
 * (w: importance weights for the n columns, or NULL for equal weights),
 * then the values.
 * scale[0 .. n/group) gets the scales (rounded to dt, as f32),
 * q[0..n) the values.  n must be a multiple of group.
 */
void ckpt_ct_quantize_row(const float *x, const float *w, bool search, int64_t n, int64_t group,
                          int bits, ckpt_type dt, float *scale, int8_t *q);

#endif
