/*
 * expf_avx512.c - expf.h's exponential, sixteen floats at a time: the
 * formula of expf.c on two registers of eight doubles, the table looked up
 * with two two-register permutes, the special values blended in after.
 * The same operations as ckpt_expf, so the same bits.  Compiled with
 * -mavx512f -mavx512bw -mavx512vl; reached only through dispatch.c.
 */
#include "expf.h"

#include <immintrin.h>

/* exp of eight floats widened to double, rounded back to float */
static inline __m256 exp8(__m256 x, const __m512i tab[4])
{
    const __m512d xd = _mm512_cvtps_pd(x), invln2n = _mm512_set1_pd(CKPT_EXPF_INVLN2N),
                  shift = _mm512_set1_pd(CKPT_EXPF_SHIFT);
    const __m512d kd = _mm512_fmadd_pd(invln2n, xd, shift);
    const __m512i ki = _mm512_castpd_si512(kd);
    const __m512d r = _mm512_fmsub_pd(invln2n, xd, _mm512_sub_pd(kd, shift));
    /* entry ki % 32: bits 0-3 pick among sixteen in each pair of
     * registers, bit 4 picks the pair */
    const __m512i lo = _mm512_permutex2var_epi64(tab[0], ki, tab[1]),
                  hi = _mm512_permutex2var_epi64(tab[2], ki, tab[3]);
    const __mmask8 upper = _mm512_test_epi64_mask(ki, _mm512_set1_epi64(16));
    const __m512i t = _mm512_add_epi64(_mm512_mask_blend_epi64(upper, lo, hi),
                                       _mm512_slli_epi64(ki, 52 - CKPT_EXPF_TABLE_BITS));
    const __m512d z = _mm512_fmadd_pd(_mm512_set1_pd(CKPT_EXPF_C0), r, _mm512_set1_pd(CKPT_EXPF_C1));
    const __m512d r2 = _mm512_mul_pd(r, r);
    const __m512d y = _mm512_fmadd_pd(
        z, r2, _mm512_fmadd_pd(_mm512_set1_pd(CKPT_EXPF_C2), r, _mm512_set1_pd(1.0)));
    return _mm512_cvtpd_ps(_mm512_mul_pd(y, _mm512_castsi512_pd(t)));
}

static inline __m512 exp16(__m512 x, const __m512i tab[4])
{
    const __m256 lo = _mm512_castps512_ps256(x),
                 hi = _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(x), 1));
    __m512 e = _mm512_castpd_ps(_mm512_insertf64x4(
        _mm512_castps_pd(_mm512_castps256_ps512(exp8(lo, tab))), _mm256_castps_pd(exp8(hi, tab)),
        1));
    /* the special values, as ckpt_expf */
    e = _mm512_mask_mov_ps(e, _mm512_cmp_ps_mask(x, _mm512_set1_ps(CKPT_EXPF_OVER), _CMP_GT_OQ),
                           _mm512_set1_ps(__builtin_inff()));
    e = _mm512_mask_mov_ps(e, _mm512_cmp_ps_mask(x, _mm512_set1_ps(CKPT_EXPF_TINY), _CMP_LT_OQ),
                           _mm512_set1_ps(0x1p-149f));
    e = _mm512_mask_mov_ps(e, _mm512_cmp_ps_mask(x, _mm512_set1_ps(CKPT_EXPF_UNDER), _CMP_LT_OQ),
                           _mm512_setzero_ps());
    return _mm512_mask_add_ps(e, _mm512_cmp_ps_mask(x, x, _CMP_UNORD_Q), x, x);
}

static inline void load_table(__m512i tab[4])
{
    for (int i = 0; i < 4; i++)
        tab[i] = _mm512_loadu_si512(ckpt_expf_table + 8 * i);
}

void ckpt_exp_sub_avx512(float *x, int64_t n, float m)
{
    __m512i tab[4];
    load_table(tab);
    const __m512 mv = _mm512_set1_ps(m);
    for (int64_t i = 0; i < n; i += 16) {
        const __mmask16 k = n - i >= 16 ? 0xffff : (__mmask16)((1u << (n - i)) - 1);
        const __m512 v = _mm512_sub_ps(_mm512_maskz_loadu_ps(k, x + i), mv);
        _mm512_mask_storeu_ps(x + i, k, exp16(v, tab));
    }
}

void ckpt_silu_mul_avx512(float *a, const float *b, int64_t n)
{
    __m512i tab[4];
    load_table(tab);
    const __m512 one = _mm512_set1_ps(1.0f);
    const __m512i sign = _mm512_set1_epi32((int)0x80000000u);
    for (int64_t i = 0; i < n; i += 16) {
        const __mmask16 k = n - i >= 16 ? 0xffff : (__mmask16)((1u << (n - i)) - 1);
        const __m512 v = _mm512_maskz_loadu_ps(k, a + i);
        const __m512 e =
            exp16(_mm512_castsi512_ps(_mm512_xor_si512(_mm512_castps_si512(v), sign)), tab);
        const __m512 s = _mm512_div_ps(v, _mm512_add_ps(one, e));
        _mm512_mask_storeu_ps(a + i, k, _mm512_mul_ps(s, _mm512_maskz_loadu_ps(k, b + i)));
    }
}
