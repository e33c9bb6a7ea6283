/*
 * dot_kernels.h - the per-ISA chunk kernels behind dot.h (the ref kernel is
 * ckpt_vec_dot_f32), for dot.c, the forward pass and the tests.  Every
 * kernel takes any n >= 0 and unaligned pointers.  The avx2 functions live
 * in dot_avx2.c (built with -mavx2 -mfma -mf16c) and may only be called
 * when ckpt_isa_available(CKPT_ISA_AVX2).
 */
#ifndef CKPT_KERNELS_DOT_KERNELS_H
#define CKPT_KERNELS_DOT_KERNELS_H

#include <stdint.h>

/* Scalar, products and sum in double. */
double ckpt_dot_f32_f64(const float *w, const float *x, int64_t n);

/* AVX2+FMA: four 8-lane FMA accumulators over 32-element steps, a fixed
 * horizontal reduction, then a sequential scalar tail. */
float ckpt_dot_f32_avx2(const float *w, const float *x, int64_t n);

/* F16C / AVX2 widening of n little-endian f16 / bf16 values (exact). */
void ckpt_f16_to_f32_avx2(const void *src, float *dst, int64_t n);
void ckpt_bf16_to_f32_avx2(const void *src, float *dst, int64_t n);

#endif
