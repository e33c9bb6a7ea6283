/*
 * dot_avx2.c - AVX2/FMA/F16C siblings of the scalar chunk kernels of dot.c
 * (see dot_kernels.h).  Compiled with -mavx2 -mfma -mf16c; called only
 * through the avx2 table of dispatch.c, after its run-time CPU check.
 */
#include "dot_kernels.h"

#include <immintrin.h>
#include <stdbool.h>
#include <string.h>

float ckpt_dot_f32_avx2(const float *w, const float *x, int64_t n)
{
    __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
    __m256 a2 = _mm256_setzero_ps(), a3 = _mm256_setzero_ps();
    int64_t i = 0;
    for (; i + 32 <= n; i += 32) {
        a0 = _mm256_fmadd_ps(_mm256_loadu_ps(w + i), _mm256_loadu_ps(x + i), a0);
        a1 = _mm256_fmadd_ps(_mm256_loadu_ps(w + i + 8), _mm256_loadu_ps(x + i + 8), a1);
        a2 = _mm256_fmadd_ps(_mm256_loadu_ps(w + i + 16), _mm256_loadu_ps(x + i + 16), a2);
        a3 = _mm256_fmadd_ps(_mm256_loadu_ps(w + i + 24), _mm256_loadu_ps(x + i + 24), a3);
    }
    for (; i + 8 <= n; i += 8)
        a0 = _mm256_fmadd_ps(_mm256_loadu_ps(w + i), _mm256_loadu_ps(x + i), a0);
    __m256 s = _mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3));
    __m128 h = _mm_add_ps(_mm256_castps256_ps128(s), _mm256_extractf128_ps(s, 1));
    h = _mm_add_ps(h, _mm_movehl_ps(h, h));
    h = _mm_add_ss(h, _mm_movehdup_ps(h));
    float sum = _mm_cvtss_f32(h);
    for (; i < n; i++)
        sum += w[i] * x[i];
    return sum;
}

void ckpt_dot_chunk_avx2(struct ckpt_dot_acc *acc, const float *w, const float *x, int64_t n)
{
    acc->lanes[0] += ckpt_dot_f32_avx2(w, x, n);
}

float ckpt_dot_sum_avx2(const struct ckpt_dot_acc *acc)
{
    return acc->lanes[0];
}

void ckpt_f16_to_f32_avx2(const void *src, float *dst, int64_t n)
{
    const unsigned char *p = src;
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(dst + i, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(p + 2 * i))));
    for (; i < n; i++) {
        unsigned short h;
        memcpy(&h, p + 2 * i, 2);
        dst[i] = _cvtsh_ss(h);
    }
}

void ckpt_bf16_to_f32_avx2(const void *src, float *dst, int64_t n)
{
    const unsigned char *p = src;
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256i v = _mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)(p + 2 * i)));
        _mm256_storeu_ps(dst + i, _mm256_castsi256_ps(_mm256_slli_epi32(v, 16)));
    }
    for (; i < n; i++) {
        unsigned short h;
        memcpy(&h, p + 2 * i, 2);
        unsigned int u = (unsigned int)h << 16;
        memcpy(dst + i, &u, 4);
    }
}

/* Eight values with a NaN among them go through the scalar path: F16C
 * keeps a NaN's payload bits, ckpt_f32_to_f16 writes one quiet NaN. */
static inline bool any_nan(__m256 v)
{
    return _mm256_movemask_ps(_mm256_cmp_ps(v, v, _CMP_UNORD_Q)) != 0;
}

void ckpt_f32_to_f16_avx2(const float *src, void *dst, int64_t n)
{
    unsigned char *d = dst;
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const __m256 v = _mm256_loadu_ps(src + i);
        if (any_nan(v))
            ckpt_f32_to_f16_ref(src + i, d + 2 * i, 8);
        else
            _mm_storeu_si128((__m128i *)(d + 2 * i),
                             _mm256_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
    }
    ckpt_f32_to_f16_ref(src + i, d + 2 * i, n - i);
}

void ckpt_f32_to_bf16_avx2(const float *src, void *dst, int64_t n)
{
    unsigned char *d = dst;
    const __m256i bias = _mm256_set1_epi32(0x7fff), one = _mm256_set1_epi32(1);
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const __m256 v = _mm256_loadu_ps(src + i);
        if (any_nan(v)) {
            ckpt_f32_to_bf16_ref(src + i, d + 2 * i, 8);
            continue;
        }
        /* round to nearest even on the bits: u + 0x7fff + (bit 16 of u), then >> 16 */
        const __m256i u = _mm256_castps_si256(v);
        const __m256i r = _mm256_add_epi32(
            u, _mm256_add_epi32(bias, _mm256_and_si256(_mm256_srli_epi32(u, 16), one)));
        const __m256i h = _mm256_srli_epi32(r, 16);
        const __m128i packed =
            _mm_packus_epi32(_mm256_castsi256_si128(h), _mm256_extracti128_si256(h, 1));
        _mm_storeu_si128((__m128i *)(d + 2 * i), packed);
    }
    ckpt_f32_to_bf16_ref(src + i, d + 2 * i, n - i);
}

/* ckpt_weighted_sum_f32's operations with eight columns per register: per
 * column, s[k] * v[k][d] rounded and then added, in increasing k, from
 * zero; 64 columns at a time stay in registers over all n rows of v.  The
 * same operations on every column as the scalar loop: the same bits. */
void ckpt_weighted_sum_f32_avx2(float *o, const float *s, const float *v, int64_t n, int64_t ldv,
                                int64_t hd)
{
    int64_t d0 = 0;
    for (; d0 + 64 <= hd; d0 += 64) {
        __m256 a[8];
#pragma GCC unroll 8
        for (int i = 0; i < 8; i++)
            a[i] = _mm256_setzero_ps();
        for (int64_t k = 0; k < n; k++) {
            const __m256 sk = _mm256_broadcast_ss(s + k);
            const float *vk = v + k * ldv + d0;
#pragma GCC unroll 8
            for (int i = 0; i < 8; i++)
                a[i] = _mm256_add_ps(a[i], _mm256_mul_ps(sk, _mm256_loadu_ps(vk + 8 * i)));
        }
#pragma GCC unroll 8
        for (int i = 0; i < 8; i++)
            _mm256_storeu_ps(o + d0 + 8 * i, a[i]);
    }
    for (; d0 + 8 <= hd; d0 += 8) {
        __m256 a = _mm256_setzero_ps();
        for (int64_t k = 0; k < n; k++)
            a = _mm256_add_ps(a, _mm256_mul_ps(_mm256_broadcast_ss(s + k),
                                               _mm256_loadu_ps(v + k * ldv + d0)));
        _mm256_storeu_ps(o + d0, a);
    }
    for (; d0 < hd; d0++) {
        float a = 0.0f;
        for (int64_t k = 0; k < n; k++)
            a += s[k] * v[k * ldv + d0];
        o[d0] = a;
    }
}
