/*
 * expf_avx2.c - expf.h's exponential, eight floats at a time: the formula
 * of expf.c on two registers of four doubles, the table looked up with a
 * gather, the special values blended in after.  The same operations as
 * ckpt_expf, so the same bits.  Compiled with -mavx2 -mfma; reached only
 * through dispatch.c.
 */
#include "expf.h"

#include <immintrin.h>

/* exp of four floats widened to double, rounded back to float */
static inline __m128 exp4(__m128 x)
{
    const __m256d xd = _mm256_cvtps_pd(x), invln2n = _mm256_set1_pd(CKPT_EXPF_INVLN2N),
                  shift = _mm256_set1_pd(CKPT_EXPF_SHIFT);
    const __m256d kd = _mm256_fmadd_pd(invln2n, xd, shift);
    const __m256i ki = _mm256_castpd_si256(kd);
    const __m256d r = _mm256_fmsub_pd(invln2n, xd, _mm256_sub_pd(kd, shift));
    const __m256i idx = _mm256_and_si256(ki, _mm256_set1_epi64x((1 << CKPT_EXPF_TABLE_BITS) - 1));
    const __m256i t =
        _mm256_add_epi64(_mm256_i64gather_epi64((const long long *)ckpt_expf_table, idx, 8),
                         _mm256_slli_epi64(ki, 52 - CKPT_EXPF_TABLE_BITS));
    const __m256d z = _mm256_fmadd_pd(_mm256_set1_pd(CKPT_EXPF_C0), r, _mm256_set1_pd(CKPT_EXPF_C1));
    const __m256d r2 = _mm256_mul_pd(r, r);
    const __m256d y = _mm256_fmadd_pd(
        z, r2, _mm256_fmadd_pd(_mm256_set1_pd(CKPT_EXPF_C2), r, _mm256_set1_pd(1.0)));
    return _mm256_cvtpd_ps(_mm256_mul_pd(y, _mm256_castsi256_pd(t)));
}

static inline __m256 exp8(__m256 x)
{
    __m256 e = _mm256_set_m128(exp4(_mm256_extractf128_ps(x, 1)), exp4(_mm256_castps256_ps128(x)));
    /* the special values, as ckpt_expf */
    e = _mm256_blendv_ps(e, _mm256_set1_ps(__builtin_inff()),
                         _mm256_cmp_ps(x, _mm256_set1_ps(CKPT_EXPF_OVER), _CMP_GT_OQ));
    e = _mm256_blendv_ps(e, _mm256_set1_ps(0x1p-149f),
                         _mm256_cmp_ps(x, _mm256_set1_ps(CKPT_EXPF_TINY), _CMP_LT_OQ));
    e = _mm256_blendv_ps(e, _mm256_setzero_ps(),
                         _mm256_cmp_ps(x, _mm256_set1_ps(CKPT_EXPF_UNDER), _CMP_LT_OQ));
    return _mm256_blendv_ps(e, _mm256_add_ps(x, x), _mm256_cmp_ps(x, x, _CMP_UNORD_Q));
}

void ckpt_exp_sub_avx2(float *x, int64_t n, float m)
{
    const __m256 mv = _mm256_set1_ps(m);
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(x + i, exp8(_mm256_sub_ps(_mm256_loadu_ps(x + i), mv)));
    for (; i < n; i++)
        x[i] = ckpt_expf(x[i] - m);
}

void ckpt_silu_mul_avx2(float *a, const float *b, int64_t n)
{
    const __m256 one = _mm256_set1_ps(1.0f), sign = _mm256_set1_ps(-0.0f);
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const __m256 v = _mm256_loadu_ps(a + i);
        const __m256 s = _mm256_div_ps(v, _mm256_add_ps(one, exp8(_mm256_xor_ps(v, sign))));
        _mm256_storeu_ps(a + i, _mm256_mul_ps(s, _mm256_loadu_ps(b + i)));
    }
    for (; i < n; i++)
        a[i] = a[i] / (1.0f + ckpt_expf(-a[i])) * b[i];
}
