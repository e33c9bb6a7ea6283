/*
 * dot_avx512.c - attention's weighted sum of values (struct
 * ckpt_kernels.weighted_sum) in AVX-512 registers.  Compiled with the
 * avx512 flags; reached only through dispatch.c's avx512 table.
 */
#include "dot_kernels.h"

#include <immintrin.h>

/* ckpt_weighted_sum_f32's operations with sixteen columns a register: per
 * column, s[k] * v[k][d] rounded and then added, in increasing k, from
 * zero, so the same bits as the scalar loop and the avx2 kernel.  A head
 * of 128 columns stays in eight registers over all n rows, so each value
 * row is read once, whole, in order (the avx2 kernel passes over the rows
 * once per 64 columns).  Columns past the last 128 go to the avx2 kernel,
 * whose bits are the same. */
void ckpt_weighted_sum_f32_avx512(float *o, const float *s, const float *v, int64_t n,
                                  int64_t ldv, int64_t hd)
{
    int64_t d0 = 0;
    for (; d0 + 128 <= hd; d0 += 128) {
        __m512 a[8];
#pragma GCC unroll 8
        for (int i = 0; i < 8; i++)
            a[i] = _mm512_setzero_ps();
        for (int64_t k = 0; k < n; k++) {
            const __m512 sk = _mm512_set1_ps(s[k]);
            const float *vk = v + k * ldv + d0;
#pragma GCC unroll 8
            for (int i = 0; i < 8; i++)
                a[i] = _mm512_add_ps(a[i], _mm512_mul_ps(sk, _mm512_loadu_ps(vk + 16 * i)));
        }
#pragma GCC unroll 8
        for (int i = 0; i < 8; i++)
            _mm512_storeu_ps(o + d0 + 16 * i, a[i]);
    }
    if (d0 < hd)
        ckpt_weighted_sum_f32_avx2(o + d0, s, v + d0, n, ldv, hd - d0);
}
