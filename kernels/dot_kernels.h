/*
 * dot_kernels.h - the per-ISA kernels that dispatch.c puts in its tables
 * (struct ckpt_kernels; the ref f32 dot is ckpt_vec_dot_f32 of dot.h).
 * Every kernel takes any n >= 0 and unaligned pointers.  The avx2
 * functions live in dot_avx2.c (built with -mavx2 -mfma -mf16c) and may
 * only be called when ckpt_isa_available(CKPT_ISA_AVX2).
 *
 * Private to kernels/: everything else goes through dispatch.h (tests
 * reach this header through kernels_test.h).
 */
#ifndef CKPT_KERNELS_DOT_KERNELS_H
#define CKPT_KERNELS_DOT_KERNELS_H

#include <stdint.h>

#include "dispatch.h"

/* ref: acc->lanes[i % 8] += w[i]*x[i] (the order of ckpt_vec_dot_f32; a
 * chunk of a row starts at a multiple of 8), reduced as ckpt_vec_dot_f32. */
void ckpt_dot_chunk_ref(struct ckpt_dot_acc *acc, const float *w, const float *x, int64_t n);
float ckpt_dot_sum_ref(const struct ckpt_dot_acc *acc);

/* f64: products and sums in double (acc->wide), rounded to f32 once. */
double ckpt_dot_f32_f64(const float *w, const float *x, int64_t n);
float ckpt_dot_f32_f64_f(const float *w, const float *x, int64_t n);
void ckpt_dot_chunk_f64(struct ckpt_dot_acc *acc, const float *w, const float *x, int64_t n);
float ckpt_dot_sum_f64(const struct ckpt_dot_acc *acc);

/* AVX2+FMA: four 8-lane FMA accumulators over 32-element steps, a fixed
 * horizontal reduction, then a sequential scalar tail; a row's chunk sums
 * are added in f32, in row order (acc->lanes[0]). */
float ckpt_dot_f32_avx2(const float *w, const float *x, int64_t n);
void ckpt_dot_chunk_avx2(struct ckpt_dot_acc *acc, const float *w, const float *x, int64_t n);
float ckpt_dot_sum_avx2(const struct ckpt_dot_acc *acc);

/* scalar: the twins of the three above, the same bits with fmaf (the
 * scalar ISA's kernels, on any CPU). */
float ckpt_dot_f32_fma(const float *w, const float *x, int64_t n);
void ckpt_dot_chunk_fma(struct ckpt_dot_acc *acc, const float *w, const float *x, int64_t n);
float ckpt_dot_sum_fma(const struct ckpt_dot_acc *acc);

/* Attention's weighted sum (struct ckpt_kernels.weighted_sum) in f32, and
 * in double rounded once. */
void ckpt_weighted_sum_f32(float *o, const float *s, const float *v, int64_t n, int64_t ldv,
                           int64_t hd);
void ckpt_weighted_sum_f64(float *o, const float *s, const float *v, int64_t n, int64_t ldv,
                           int64_t hd);
/* The f32 weighted sum in AVX2 and in AVX-512 registers: its bits
 * (dot_avx2.c, dot_avx512.c). */
void ckpt_weighted_sum_f32_avx2(float *o, const float *s, const float *v, int64_t n, int64_t ldv,
                                int64_t hd);
void ckpt_weighted_sum_f32_avx512(float *o, const float *s, const float *v, int64_t n,
                                  int64_t ldv, int64_t hd);
/* Two heads' weighted sums over the same values (struct
 * ckpt_kernels.weighted_sum2), each with the bits of one (dot_avx512.c). */
void ckpt_weighted_sum2_f32_avx512(float *oa, float *ob, const float *sa, const float *sb,
                                   const float *v, int64_t n, int64_t ldv, int64_t hd);
/* The same for four heads (struct ckpt_kernels.weighted_sum4). */
void ckpt_weighted_sum4_f32_avx512(float *const o[4], const float *const s[4], const float *v,
                                   int64_t n, int64_t ldv, int64_t hd);

/* Attention's scores of four heads against nk keys (struct
 * ckpt_kernels.scores4), each dot with ckpt_dot_f32_avx2's bits, in
 * AVX-512 registers (dot_avx512.c). */
void ckpt_scores4_f32_avx512(const float *q, int64_t ldq, const float *k, int64_t ldk,
                             int64_t nk, int64_t n, float div, float *s, int64_t lds);

/* Widening of n little-endian f16 / bf16 values (exact): scalar (fp16.c)
 * and F16C / AVX2. */
void ckpt_f16_to_f32_ref(const void *src, float *dst, int64_t n);
void ckpt_bf16_to_f32_ref(const void *src, float *dst, int64_t n);
void ckpt_f16_to_f32_avx2(const void *src, float *dst, int64_t n);

/* Narrowing of n f32 values to little-endian f16 / bf16, rounding to
 * nearest even, NaN as ckpt_f32_to_f16/bf16 write it: scalar (fp16.c) and
 * F16C / AVX2 (groups of eight holding a NaN take the scalar path). */
void ckpt_f32_to_f16_ref(const float *src, void *dst, int64_t n);
void ckpt_f32_to_bf16_ref(const float *src, void *dst, int64_t n);
void ckpt_f32_to_f16_avx2(const float *src, void *dst, int64_t n);
void ckpt_f32_to_bf16_avx2(const float *src, void *dst, int64_t n);
void ckpt_bf16_to_f32_avx2(const void *src, float *dst, int64_t n);

/* The ref table with scalar code only (ckpt_kernels_of(CKPT_ISA_REF) may
 * put AVX2 kernels of the same bits in it): for tests. */
const struct ckpt_kernels *ckpt_kernels_scalar_ref(void);

#endif
