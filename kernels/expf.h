/*
 * expf.h - the forward pass's exponential: softmax's exp(x - max) and
 * SiLU's exp(-x), in scalar C and in vector registers with the same bits.
 *
 * The algorithm is the one glibc's expf has used since 2.27 (from Arm's
 * optimized routines; its FMA build, which fuses the first rounding step
 * as well): x / ln 2 * 32 = k + r with k an integer, exp(x) = 2^(k/32) *
 * 2^(r/32), 2^(k/32) from a 32-entry table and the exponent bits, 2^(r/32)
 * a cubic, all in double, then rounded to float once.  Written out here
 * with explicit fma() so that every ISA's kernel computes the very same
 * operations: the scalar one and the AVX2/AVX-512 ones agree bit for bit,
 * and on glibc all of them agree with libm's expf for every one of the
 * 2^32 inputs (`make expf-check`, tests/expf_exhaustive.c: two minutes;
 * check_ops.c samples a million inputs against libm to 1 ulp and every
 * ISA's kernels against the scalar ones bit for bit).  Before, the pass
 * called libm's expf one value at a time, 4 ns an element: 2% of a Q4_K_M
 * decode step (attention's softmax and the FFN's SiLU).  One thread on
 * the AMD machine, 4096 values: AVX-512 0.38 ns an element, AVX2 0.77;
 * the scalar kernel 8.1 (fma() is a call where the build may not assume
 * FMA), for the ISAs that exist to be portable.
 *
 * Special values as glibc: NaN in, NaN out (quieted); exp(-inf) = 0;
 * above 0x1.62e42ep6 +inf; below -0x1.9fe368p6 0; from there to
 * -0x1.9d1d9ep6 the smallest subnormal (glibc's rounded underflow); all
 * else from the formula.
 */
#ifndef CKPT_KERNELS_EXPF_H
#define CKPT_KERNELS_EXPF_H

#include <stdint.h>

/* The constants of the formula (expf.c) */
#define CKPT_EXPF_TABLE_BITS 5
extern const uint64_t ckpt_expf_table[1 << CKPT_EXPF_TABLE_BITS];
#define CKPT_EXPF_INVLN2N 0x1.71547652b82fep+5 /* 32 / ln 2 */
#define CKPT_EXPF_SHIFT 0x1.8p+52              /* rounds to an integer in the low bits */
#define CKPT_EXPF_C0 0x1.c6af84b912394p-20     /* the cubic of 2^(r/32), scaled */
#define CKPT_EXPF_C1 0x1.ebfce50fac4f3p-13
#define CKPT_EXPF_C2 0x1.62e42ff0c52d6p-6
#define CKPT_EXPF_OVER 0x1.62e42ep6f    /* above: +inf */
#define CKPT_EXPF_UNDER -0x1.9fe368p6f  /* below: 0 */
#define CKPT_EXPF_TINY -0x1.9d1d9ep6f   /* below (to UNDER): the smallest subnormal */

/* exp(x), as described above */
float ckpt_expf(float x);

/* x[i] = exp(x[i] - m) for i < n: softmax's exponentials */
void ckpt_exp_sub_ref(float *x, int64_t n, float m);
void ckpt_exp_sub_avx2(float *x, int64_t n, float m);
void ckpt_exp_sub_avx512(float *x, int64_t n, float m);

/* a[i] = silu(a[i]) * b[i] = a[i] / (1 + exp(-a[i])) * b[i] for i < n:
 * the SwiGLU of the FFN */
void ckpt_silu_mul_ref(float *a, const float *b, int64_t n);
void ckpt_silu_mul_avx2(float *a, const float *b, int64_t n);
void ckpt_silu_mul_avx512(float *a, const float *b, int64_t n);

#endif
