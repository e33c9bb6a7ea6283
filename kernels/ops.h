/*
 * ops.h - the element-wise and per-vector operations of the reference
 * forward pass, scalar and in f32, written to follow Hugging Face
 * transformers' Mistral/Mixtral code step by step (the order of rounding
 * matters for token-for-token agreement): RMSNorm, rotate-half RoPE,
 * softmax, SiLU, top-k and argmax.
 */
#ifndef CKPT_KERNELS_OPS_H
#define CKPT_KERNELS_OPS_H

#include <stdint.h>

/*
 * RMSNorm as HF: var = mean(x^2) in f32 (squares summed in index order,
 * then divided by n); y = x * (1 / sqrt(var + eps)); out = w * y.
 * out may equal x.  w may be NULL (no weight).
 */
void ckpt_ops_rmsnorm(float *out, const float *x, const float *w, int64_t n, float eps);

/*
 * RoPE inverse frequencies as HF computes them in f32:
 * inv_freq[i] = 1 / theta^((float)(2i) / (float)head_dim), i < head_dim/2.
 */
void ckpt_ops_rope_inv_freq(float *inv_freq, int64_t head_dim, float theta);

/*
 * cos/sin of one position for the first half of a head (the second half
 * repeats it): angle[i] = (float)pos * inv_freq[i] in f32.
 */
void ckpt_ops_rope_cos_sin(float *cos_out, float *sin_out, const float *inv_freq, int64_t half,
                           int64_t pos);

/*
 * Rotate-half RoPE of one head vector v (2*half values) in place:
 * v' = v * cos + rotate_half(v) * sin, rotate_half(v) = (-v[half:], v[:half]).
 */
void ckpt_ops_rope_apply(float *v, const float *cos_h, const float *sin_h, int64_t half);

/* Softmax in place: m = max, e_i = exp(x_i - m), x_i = e_i / sum(e), the
 * sum in index order; exp is expf.h's ckpt_expf. */
void ckpt_ops_softmax(float *x, int64_t n);

/* The same with the exponentials of exp_sub (a dispatch table's, x[i] =
 * exp(x[i] - m): the same bits in every ISA). */
void ckpt_ops_softmax_with(float *x, int64_t n, void (*exp_sub)(float *x, int64_t n, float m));

/* SiLU: x / (1 + exp(-x)), exp as above (the forward pass takes its
 * tables' silu_mul, the same bits). */
float ckpt_ops_silu(float x);

/*
 * Indices of the k largest values in descending order; ties go to the
 * lowest index (a value strictly greater displaces an earlier one).
 * NaN never wins over a number.  k <= n.
 */
void ckpt_ops_topk(const float *x, int64_t n, int k, int32_t *idx);

/* Index of the largest value (lowest index on ties). */
int32_t ckpt_ops_argmax(const float *x, int64_t n);

#endif
