/*
 * quant_k_avx2.c - AVX2 siblings of the batched kernels of
 * quant_k_common.c (struct ckpt_kq_kernels).  The 8 groups of a call run
 * in the 8 lanes, and each lane does the scalar search's operations in
 * the scalar order: the same sums element by element, the same rounding
 * trick, IEEE division, and no fused multiply-add: none is written here,
 * and the build's -ffp-contract=off keeps the compiler from making one
 * (GCC writes _mm256_mul_ps and _mm256_add_ps as plain vector
 * arithmetic, which it could otherwise fuse).  So every float and every
 * byte equals the scalar loop's.  A call with an inf or NaN among its
 * inputs goes through the scalar code instead: NaN payloads are where
 * packed and scalar code could part.
 *
 * Built with -mavx2 -mfma -mf16c; use only when
 * ckpt_isa_available(CKPT_ISA_AVX2).
 */
#include "quant_k_common.h"

#include "fp16.h"

#include <immintrin.h>

#define MAXN 32 /* largest group: the searches' n */

/* ---- helpers ---- */

/* Rows r[0..7] become columns. */
static inline void transpose8(__m256 r[8])
{
    const __m256 t0 = _mm256_unpacklo_ps(r[0], r[1]), t1 = _mm256_unpackhi_ps(r[0], r[1]);
    const __m256 t2 = _mm256_unpacklo_ps(r[2], r[3]), t3 = _mm256_unpackhi_ps(r[2], r[3]);
    const __m256 t4 = _mm256_unpacklo_ps(r[4], r[5]), t5 = _mm256_unpackhi_ps(r[4], r[5]);
    const __m256 t6 = _mm256_unpacklo_ps(r[6], r[7]), t7 = _mm256_unpackhi_ps(r[6], r[7]);
    const __m256 s0 = _mm256_shuffle_ps(t0, t2, _MM_SHUFFLE(1, 0, 1, 0));
    const __m256 s1 = _mm256_shuffle_ps(t0, t2, _MM_SHUFFLE(3, 2, 3, 2));
    const __m256 s2 = _mm256_shuffle_ps(t1, t3, _MM_SHUFFLE(1, 0, 1, 0));
    const __m256 s3 = _mm256_shuffle_ps(t1, t3, _MM_SHUFFLE(3, 2, 3, 2));
    const __m256 s4 = _mm256_shuffle_ps(t4, t6, _MM_SHUFFLE(1, 0, 1, 0));
    const __m256 s5 = _mm256_shuffle_ps(t4, t6, _MM_SHUFFLE(3, 2, 3, 2));
    const __m256 s6 = _mm256_shuffle_ps(t5, t7, _MM_SHUFFLE(1, 0, 1, 0));
    const __m256 s7 = _mm256_shuffle_ps(t5, t7, _MM_SHUFFLE(3, 2, 3, 2));
    r[0] = _mm256_permute2f128_ps(s0, s4, 0x20);
    r[1] = _mm256_permute2f128_ps(s1, s5, 0x20);
    r[2] = _mm256_permute2f128_ps(s2, s6, 0x20);
    r[3] = _mm256_permute2f128_ps(s3, s7, 0x20);
    r[4] = _mm256_permute2f128_ps(s0, s4, 0x31);
    r[5] = _mm256_permute2f128_ps(s1, s5, 0x31);
    r[6] = _mm256_permute2f128_ps(s2, s6, 0x31);
    r[7] = _mm256_permute2f128_ps(s3, s7, 0x31);
}

/*
 * 8 groups of n values (group g at v + g*n) into lanes: vt[i] holds
 * element i of every group, group g in lane g.  Returns false if any
 * value is inf or NaN.
 */
static bool load_lanes(int n, const float *v, __m256 *vt)
{
    __m256 finite = _mm256_castsi256_ps(_mm256_set1_epi32(-1));
    for (int c = 0; c < n; c += 8) {
        __m256 r[8];
        for (int g = 0; g < 8; ++g)
            r[g] = _mm256_loadu_ps(v + g * n + c);
        transpose8(r);
        for (int k = 0; k < 8; ++k) {
            vt[c + k] = r[k];
            /* x - x is 0 exactly when x is finite */
            finite = _mm256_and_ps(
                finite, _mm256_cmp_ps(_mm256_sub_ps(r[k], r[k]), _mm256_setzero_ps(), _CMP_EQ_OQ));
        }
    }
    return _mm256_movemask_ps(finite) == 0xff;
}

/* True if no value of v[0..n) (n a multiple of 8) is inf or NaN. */
static bool all_finite(const float *v, int n)
{
    __m256 finite = _mm256_castsi256_ps(_mm256_set1_epi32(-1));
    for (int i = 0; i < n; i += 8) {
        const __m256 r = _mm256_loadu_ps(v + i);
        finite = _mm256_and_ps(finite,
                               _mm256_cmp_ps(_mm256_sub_ps(r, r), _mm256_setzero_ps(), _CMP_EQ_OQ));
    }
    return _mm256_movemask_ps(finite) == 0xff;
}

/* ckpt_nearest_int in every lane: the same bits, so the same integer. */
static inline __m256i nearest(__m256 f)
{
    const __m256 v = _mm256_add_ps(f, _mm256_set1_ps(12582912.f));
    return _mm256_sub_epi32(_mm256_and_si256(_mm256_castps_si256(v), _mm256_set1_epi32(0x007fffff)),
                            _mm256_set1_epi32(0x00400000));
}

static inline __m256i clamp(__m256i l, __m256i lo, __m256i hi)
{
    return _mm256_max_epi32(lo, _mm256_min_epi32(hi, l));
}

/* |d| for least absolute deviation, else d*d */
static inline __m256 error_term(__m256 d, bool use_mad)
{
    return use_mad ? _mm256_andnot_ps(_mm256_set1_ps(-0.f), d) : _mm256_mul_ps(d, d);
}

static inline bool any(__m256 mask) { return _mm256_movemask_ps(mask) != 0; }

/* ---- make_qkx2_quants (= make_qkx3_quants with weights), 8 groups ---- */

static void qkx_x8_avx2(int n, int nmax, const float *x, const float *w, uint8_t *L,
                        float scale[8], float the_min[8], float rmin, float rdelta, int nstep,
                        bool use_mad)
{
    __m256 xt[MAXN], wt[MAXN], xm[MAXN], lbest[MAXN], laux[MAXN];
    if (n % 8 != 0 || n > MAXN || !load_lanes(n, x, xt) || !load_lanes(n, w, wt)) {
        ckpt_kq_ref.qkx(n, nmax, x, w, L, scale, the_min, rmin, rdelta, nstep, use_mad);
        return;
    }
    const __m256 zero = _mm256_setzero_ps();
    const __m256i lo = _mm256_setzero_si256(), hi = _mm256_set1_epi32(nmax);

    __m256 min = xt[0], max = xt[0];
    __m256 sum_w = wt[0], sum_x = _mm256_mul_ps(wt[0], xt[0]);
    for (int i = 1; i < n; ++i) {
        min = _mm256_min_ps(xt[i], min); /* xt[i] < min ? xt[i] : min */
        max = _mm256_max_ps(xt[i], max); /* xt[i] > max ? xt[i] : max */
        sum_w = _mm256_add_ps(sum_w, wt[i]);
        sum_x = _mm256_add_ps(sum_x, _mm256_mul_ps(wt[i], xt[i]));
    }
    min = _mm256_blendv_ps(min, zero, _mm256_cmp_ps(min, zero, _CMP_GT_OQ));
    /* lanes whose group is flat return at once in the scalar code: they
     * take part in no update below */
    const __m256 flat = _mm256_cmp_ps(max, min, _CMP_EQ_OQ);

    __m256 iscale = _mm256_div_ps(_mm256_set1_ps((float)nmax), _mm256_sub_ps(max, min));
    __m256 sc = _mm256_div_ps(_mm256_set1_ps(1.f), iscale);
    __m256 best = zero;
    for (int i = 0; i < n; ++i) {
        xm[i] = _mm256_sub_ps(xt[i], min);
        lbest[i] = _mm256_cvtepi32_ps(clamp(nearest(_mm256_mul_ps(iscale, xm[i])), lo, hi));
        __m256 d = _mm256_sub_ps(_mm256_add_ps(_mm256_mul_ps(sc, lbest[i]), min), xt[i]);
        best = _mm256_add_ps(best, _mm256_mul_ps(wt[i], error_term(d, use_mad)));
    }
    for (int is = 0; nstep >= 1 && is <= nstep; ++is) {
        /* min moves when a step wins, and later steps start from it */
        const float num = rmin + rdelta * is + nmax;
        iscale = _mm256_div_ps(_mm256_set1_ps(num), _mm256_sub_ps(max, min));
        __m256 sum_l = zero, sum_l2 = zero, sum_xl = zero;
        for (int i = 0; i < n; ++i) {
            const __m256i li = clamp(nearest(_mm256_mul_ps(iscale, xm[i])), lo, hi);
            const __m256 l = _mm256_cvtepi32_ps(li);
            laux[i] = l;
            const __m256 wl = _mm256_mul_ps(wt[i], l);
            sum_l = _mm256_add_ps(sum_l, wl);
            sum_l2 = _mm256_add_ps(sum_l2, _mm256_mul_ps(wl, l));
            sum_xl = _mm256_add_ps(sum_xl, _mm256_mul_ps(wl, xt[i]));
        }
        const __m256 D = _mm256_sub_ps(_mm256_mul_ps(sum_w, sum_l2), _mm256_mul_ps(sum_l, sum_l));
        __m256 this_scale = _mm256_div_ps(
            _mm256_sub_ps(_mm256_mul_ps(sum_w, sum_xl), _mm256_mul_ps(sum_x, sum_l)), D);
        __m256 this_min = _mm256_div_ps(
            _mm256_sub_ps(_mm256_mul_ps(sum_l2, sum_x), _mm256_mul_ps(sum_l, sum_xl)), D);
        const __m256 pos = _mm256_cmp_ps(this_min, zero, _CMP_GT_OQ);
        this_min = _mm256_blendv_ps(this_min, zero, pos);
        this_scale = _mm256_blendv_ps(this_scale, _mm256_div_ps(sum_xl, sum_l2), pos);
        const __m256 live = _mm256_andnot_ps(flat, _mm256_cmp_ps(D, zero, _CMP_GT_OQ));
        if (!any(live))
            continue;
        __m256 cur = zero;
        for (int i = 0; i < n; ++i) {
            __m256 d = _mm256_sub_ps(_mm256_add_ps(_mm256_mul_ps(this_scale, laux[i]), this_min),
                                     xt[i]);
            cur = _mm256_add_ps(cur, _mm256_mul_ps(wt[i], error_term(d, use_mad)));
        }
        const __m256 win = _mm256_and_ps(live, _mm256_cmp_ps(cur, best, _CMP_LT_OQ));
        if (!any(win))
            continue;
        best = _mm256_blendv_ps(best, cur, win);
        sc = _mm256_blendv_ps(sc, this_scale, win);
        min = _mm256_blendv_ps(min, this_min, win);
        for (int i = 0; i < n; ++i) {
            lbest[i] = _mm256_blendv_ps(lbest[i], laux[i], win);
            xm[i] = _mm256_sub_ps(xt[i], min); /* unchanged in the other lanes */
        }
    }

    /* flat groups: L 0, scale 0, and -min of the clamped min */
    _mm256_storeu_ps(scale, _mm256_blendv_ps(sc, zero, flat));
    _mm256_storeu_ps(the_min, _mm256_xor_ps(min, _mm256_set1_ps(-0.f)));
    int32_t q[MAXN][8];
    for (int i = 0; i < n; ++i)
        _mm256_storeu_si256((__m256i *)q[i],
                            _mm256_cvttps_epi32(_mm256_blendv_ps(lbest[i], zero, flat)));
    for (int g = 0; g < 8; ++g)
        for (int i = 0; i < n; ++i)
            L[g * n + i] = (uint8_t)q[i][g];
}

/* ---- make_qx_quants, rmse_type 1 (weights x^2 or qw), 8 groups ---- */

static void qx_x8_avx2(int n, int nmax, const float *x, int8_t *L, int rmse_type, const float *qw,
                       float scale[8])
{
    __m256 xt[MAXN], wt[MAXN];
    __m256i lbest[MAXN], lt[MAXN];
    if (rmse_type != 1 || n % 8 != 0 || n > MAXN || !load_lanes(n, x, xt) ||
        (qw && !load_lanes(n, qw, wt))) {
        ckpt_kq_ref.qx(n, nmax, x, L, rmse_type, qw, scale);
        return;
    }
    const __m256 zero = _mm256_setzero_ps();
    const __m256i lo = _mm256_set1_epi32(-nmax), hi = _mm256_set1_epi32(nmax - 1);
    const __m256 sign = _mm256_set1_ps(-0.f);

    __m256 max = zero, amax = zero;
    for (int i = 0; i < n; ++i) {
        if (!qw)
            wt[i] = _mm256_mul_ps(xt[i], xt[i]);
        const __m256 ax = _mm256_andnot_ps(sign, xt[i]);
        const __m256 gt = _mm256_cmp_ps(ax, amax, _CMP_GT_OQ);
        amax = _mm256_blendv_ps(amax, ax, gt);
        max = _mm256_blendv_ps(max, xt[i], gt);
    }
    const __m256 tiny = _mm256_cmp_ps(amax, _mm256_set1_ps(CKPT_GROUP_MAX_EPS), _CMP_LT_OQ);

    __m256 iscale = _mm256_div_ps(_mm256_set1_ps((float)-nmax), max);
    __m256 sumlx = zero, suml2 = zero;
    for (int i = 0; i < n; ++i) {
        lbest[i] = clamp(nearest(_mm256_mul_ps(iscale, xt[i])), lo, hi);
        const __m256 l = _mm256_cvtepi32_ps(lbest[i]);
        sumlx = _mm256_add_ps(sumlx, _mm256_mul_ps(_mm256_mul_ps(wt[i], xt[i]), l));
        suml2 = _mm256_add_ps(suml2, _mm256_mul_ps(_mm256_mul_ps(wt[i], l), l));
    }
    /* suml2 ? sumlx / suml2 : 0 (NaN counts as true, as in C) */
    __m256 sc = _mm256_and_ps(_mm256_cmp_ps(suml2, zero, _CMP_NEQ_UQ), _mm256_div_ps(sumlx, suml2));
    __m256 best = _mm256_mul_ps(sc, sumlx);
    for (int is = -9; is <= 9; ++is) {
        if (is == 0)
            continue;
        const float num = -(nmax + 0.1f * is);
        iscale = _mm256_div_ps(_mm256_set1_ps(num), max);
        sumlx = suml2 = zero;
        for (int i = 0; i < n; ++i) {
            lt[i] = clamp(nearest(_mm256_mul_ps(iscale, xt[i])), lo, hi);
            const __m256 l = _mm256_cvtepi32_ps(lt[i]);
            sumlx = _mm256_add_ps(sumlx, _mm256_mul_ps(_mm256_mul_ps(wt[i], xt[i]), l));
            suml2 = _mm256_add_ps(suml2, _mm256_mul_ps(_mm256_mul_ps(wt[i], l), l));
        }
        const __m256 win = _mm256_and_ps(
            _mm256_cmp_ps(suml2, zero, _CMP_GT_OQ),
            _mm256_cmp_ps(_mm256_mul_ps(sumlx, sumlx), _mm256_mul_ps(best, suml2), _CMP_GT_OQ));
        if (!any(win))
            continue;
        const __m256i wi = _mm256_castps_si256(win);
        for (int i = 0; i < n; ++i)
            lbest[i] = _mm256_blendv_epi8(lbest[i], lt[i], wi);
        const __m256 s = _mm256_div_ps(sumlx, suml2);
        sc = _mm256_blendv_ps(sc, s, win);
        best = _mm256_blendv_ps(best, _mm256_mul_ps(s, sumlx), win);
    }

    /* tiny groups: L 0 and scale 0; the others L + nmax */
    _mm256_storeu_ps(scale, _mm256_blendv_ps(sc, zero, tiny));
    const __m256i off = _mm256_set1_epi32(nmax);
    const __m256i ti = _mm256_castps_si256(tiny);
    int32_t q[MAXN][8];
    for (int i = 0; i < n; ++i)
        _mm256_storeu_si256((__m256i *)q[i],
                            _mm256_andnot_si256(ti, _mm256_add_epi32(lbest[i], off)));
    for (int g = 0; g < 8; ++g)
        for (int i = 0; i < n; ++i)
            L[g * n + i] = (int8_t)q[i][g];
}

/* ---- ckpt_requantize_k4: 32 divisions of a sub-block at once ---- */

/* A block with inf or NaN goes through the scalar code: (x + dm) / dj may
 * meet two NaNs there, and which payload wins depends on operand order. */

static void requantize_k4_avx2(const float *x, const uint8_t scales[12], uint16_t d,
                               uint16_t dmin, int nmax, uint8_t *L)
{
    if (!all_finite(x, 256)) {
        ckpt_requantize_k4(x, scales, d, dmin, nmax, L);
        return;
    }
    const float dall = ckpt_f16_to_f32(d), mall = ckpt_f16_to_f32(dmin);
    const __m256i lo = _mm256_setzero_si256(), hi = _mm256_set1_epi32(nmax);
    const __m256i order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
    for (int j = 0; j < 8; ++j) {
        uint8_t sc, m;
        ckpt_get_scale_min_k4(j, scales, &sc, &m);
        const float dj = dall * sc;
        if (!dj)
            continue;
        const __m256 vd = _mm256_set1_ps(dj), vm = _mm256_set1_ps(mall * m);
        __m256i l[4];
        for (int k = 0; k < 4; ++k) {
            const __m256 v = _mm256_add_ps(_mm256_loadu_ps(x + 32 * j + 8 * k), vm);
            l[k] = clamp(nearest(_mm256_div_ps(v, vd)), lo, hi);
        }
        /* 0..nmax fits a byte: pack, then undo the per-128-bit interleave */
        const __m256i b = _mm256_packus_epi16(_mm256_packs_epi32(l[0], l[1]),
                                              _mm256_packs_epi32(l[2], l[3]));
        _mm256_storeu_si256((__m256i *)(L + 32 * j), _mm256_permutevar8x32_epi32(b, order));
    }
}

const struct ckpt_kq_kernels ckpt_kq_avx2 = {qkx_x8_avx2, qx_x8_avx2, requantize_k4_avx2};
