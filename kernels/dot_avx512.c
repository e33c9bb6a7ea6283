/*
 * dot_avx512.c - attention's scores of four heads against a run of keys
 * (struct ckpt_kernels.scores4) and its weighted sums of values, of one
 * head and of two and four that share the values (.weighted_sum,
 * .weighted_sum2, .weighted_sum4),
 * in AVX-512 registers.  Compiled with the
 * avx512 flags; reached only through dispatch.c's avx512 table.
 */
#include "dot_kernels.h"

#include <immintrin.h>

/* ckpt_weighted_sum_f32's operations with sixteen columns a register, for
 * nh heads (1, 2 or 4; a constant where it is inlined) that share the
 * values: per column, s[k] * v[k][d] rounded and then added, in
 * increasing k, from zero, so the same bits as the scalar loop and the
 * avx2 kernel, however the columns are grouped.  A pass holds R registers
 * of columns for each head over all n rows, so each value row is read
 * once a pass, in order, for all nh heads (the avx2 kernel passes over the
 * rows once per 64 columns and head). */
static inline __attribute__((always_inline)) void
sums_pass(int nh, int R, float *const o[4], const float *const s[4], const float *v, int64_t n,
          int64_t ldv, int64_t d0)
{
    __m512 a[4][8];
#pragma GCC unroll 4
    for (int h = 0; h < nh; h++)
#pragma GCC unroll 8
        for (int i = 0; i < R; i++)
            a[h][i] = _mm512_setzero_ps();
    for (int64_t k = 0; k < n; k++) {
        const float *vk = v + k * ldv + d0;
#pragma GCC unroll 8
        for (int i = 0; i < R; i++) {
            const __m512 vv = _mm512_loadu_ps(vk + 16 * i);
#pragma GCC unroll 4
            for (int h = 0; h < nh; h++)
                a[h][i] = _mm512_add_ps(a[h][i], _mm512_mul_ps(_mm512_set1_ps(s[h][k]), vv));
        }
    }
#pragma GCC unroll 4
    for (int h = 0; h < nh; h++)
#pragma GCC unroll 8
        for (int i = 0; i < R; i++)
            _mm512_storeu_ps(o[h] + d0 + 16 * i, a[h][i]);
}

/* The passes of nh heads: 128 columns (eight registers a head) for one or
 * two heads, 112 (seven) for four (28 accumulators, two of which GCC keeps
 * on the stack beside the four weights and the value; six a head with a
 * pass of two after measured the same); then passes of sixteen columns;
 * columns past the last sixteen go to the avx2 kernel, whose bits are the
 * same. */
static inline __attribute__((always_inline)) void
weighted_sums(int nh, float *const o[4], const float *const s[4], const float *v, int64_t n,
              int64_t ldv, int64_t hd)
{
    const int R = nh == 4 ? 7 : 8;
    int64_t d0 = 0;
    for (; d0 + 16 * R <= hd; d0 += 16 * R)
        sums_pass(nh, R, o, s, v, n, ldv, d0);
    for (; d0 + 16 <= hd; d0 += 16)
        sums_pass(nh, 1, o, s, v, n, ldv, d0);
    for (int h = 0; d0 < hd && h < nh; h++)
        ckpt_weighted_sum_f32_avx2(o[h] + d0, s[h], v + d0, n, ldv, hd - d0);
}

void ckpt_weighted_sum_f32_avx512(float *o, const float *s, const float *v, int64_t n,
                                  int64_t ldv, int64_t hd)
{
    float *const out[4] = {o};
    const float *const w[4] = {s};
    weighted_sums(1, out, w, v, n, ldv, hd);
}

/* Two heads that share their values (oa from sa, ob from sb): each value
 * row read once a pass for the two.  Four heads of a kv head, two at a
 * time, on one thread of the AMD machine: values from L2 1.27x, from L3
 * 1.6x, from memory 1.17x against a head at a time. */
void ckpt_weighted_sum2_f32_avx512(float *oa, float *ob, const float *sa, const float *sb,
                                   const float *v, int64_t n, int64_t ldv, int64_t hd)
{
    float *const out[4] = {oa, ob};
    const float *const w[4] = {sa, sb};
    weighted_sums(2, out, w, v, n, ldv, hd);
}

/* Four heads that share their values (o[h] from s[h]), as Mistral's
 * groups of four query heads to a kv head do: the values read once for the
 * four (twice, the second time from cache, two at a time).  A Q4_K_M
 * decode step of the bench model, alternated against two at a time:
 * 1.03-1.06x at 3000 positions (a kv head's values, 1.5 MB, no longer fit
 * L2 for the second pair), about 1.01x at 600. */
void ckpt_weighted_sum4_f32_avx512(float *const o[4], const float *const s[4], const float *v,
                                   int64_t n, int64_t ldv, int64_t hd)
{
    weighted_sums(4, o, s, v, n, ldv, hd);
}

/* The dots of dot 2p and 2p+1's accumulators acc[p][0..3] (eight lanes of
 * each in the halves of a register) reduced by ckpt_dot_f32_avx2's tree,
 * (a0 + a1) + (a2 + a3), then the 128-bit halves, then lanes 0 + 2 and
 * 1 + 3, then those two, all four dots at once: dot d in lane d. */
static inline __m128 reduce4(__m512 acc[2][4])
{
    __m512 s[2];
#pragma GCC unroll 2
    for (int p = 0; p < 2; p++)
        s[p] = _mm512_add_ps(_mm512_add_ps(acc[p][0], acc[p][1]),
                             _mm512_add_ps(acc[p][2], acc[p][3]));
    /* dot d's 128-bit halves added in 128-bit lane d */
    __m512 h = _mm512_add_ps(_mm512_shuffle_f32x4(s[0], s[1], _MM_SHUFFLE(2, 0, 2, 0)),
                             _mm512_shuffle_f32x4(s[0], s[1], _MM_SHUFFLE(3, 1, 3, 1)));
    h = _mm512_add_ps(h, _mm512_permute_ps(h, _MM_SHUFFLE(3, 2, 3, 2)));
    h = _mm512_add_ps(h, _mm512_movehdup_ps(h));
    return _mm512_castps512_ps128(_mm512_permutexvar_ps(
        _mm512_setr_epi32(0, 4, 8, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0), h));
}

#define SCORES_MAX_N 256
#define SCORES_AHEAD 16 /* keys */

/* s[d*lds + j] = (q_d . k_j) / div for the four heads q_d = q + d*ldq and
 * the nk keys k_j = k + j*ldk, each dot with the bits of
 * ckpt_dot_f32_avx2 (the avx512 table's dot_f32): its four eight-lane
 * accumulators, the same multiply-adds in each lane in the same order,
 * its reduction tree (reduce4) and its scalar tail, then the one
 * division.  A 512-bit register holds one accumulator of two heads (a
 * pair, one in each 256-bit half), so each multiply-add advances two
 * dots; the heads are laid out in pairs once per call (qp), so a pair's
 * eight floats are one load, and two keys go together, so each load of a
 * pair serves both.  A 2048-position Q4_K_M prefill on the AMD machine:
 * attention's samples against the GEMM tile's 0.44 -> 0.34 (dot_f32
 * calls, four per key, each reducing alone). */
void ckpt_scores4_f32_avx512(const float *q, int64_t ldq, const float *k, int64_t ldk,
                             int64_t nk, int64_t n, float div, float *s, int64_t lds)
{
    if (n > SCORES_MAX_N) {
        for (int64_t j = 0; j < nk; j++)
            for (int d = 0; d < 4; d++)
                s[d * lds + j] = ckpt_dot_f32_avx2(q + d * ldq, k + j * ldk, n) / div;
        return;
    }
    const int64_t n8 = n / 8 * 8, n32 = n / 32 * 32;
    /* pair p's chunk c (elements 8c..8c+7 of heads 2p, 2p+1) at qp[p][c] */
    __m512 qp[2][SCORES_MAX_N / 8];
    for (int p = 0; p < 2; p++)
        for (int64_t c = 0; c < n8 / 8; c++)
            qp[p][c] = _mm512_castpd_ps(_mm512_insertf64x4(
                _mm512_castpd256_pd512(_mm256_castps_pd(_mm256_loadu_ps(q + 2 * p * ldq + 8 * c))),
                _mm256_castps_pd(_mm256_loadu_ps(q + (2 * p + 1) * ldq + 8 * c)), 1));
#define KEY(kj, i) _mm512_castpd_ps(_mm512_broadcast_f64x4(_mm256_castps_pd(_mm256_loadu_ps((kj) + (i)))))
#define UNROLL _Pragma("GCC unroll 4")
    /* the two keys of a step are j and j + half: two streams of keys, where
     * neighbouring keys made one (a thread streaming one run from memory
     * keeps too few of its lines in flight) */
    const int64_t half = (nk + 1) / 2;
    for (int64_t j = 0; j < half; j++) {
        const int nj = j + half < nk ? 2 : 1;
        const float *k0 = k + j * ldk, *k1 = k + (j + (nj - 1) * half) * ldk;
        /* the keys SCORES_AHEAD on asked for, in both streams: a decode
         * step's keys come from memory (the cache of every layer and head
         * outgrows L3), and there, without the hints, pairs of keys read
         * at 10 GB/s on one thread of the AMD machine, with them at 35
         * (four dot_f32 calls a key: 19); from L2 (a prefill's keys) the
         * same either way.  A hint past the keys is harmless. */
        for (int t = 0; t < 2; t++)
            for (int64_t o = 0; o < n; o += 16)
                __builtin_prefetch(k + (j + t * half + SCORES_AHEAD) * ldk + o, 0, 3);
        __m512 acc[2][2][4]; /* key, pair, accumulator */
        UNROLL for (int t = 0; t < 2; t++)
            UNROLL for (int p = 0; p < 2; p++)
                UNROLL for (int a = 0; a < 4; a++)
                    acc[t][p][a] = _mm512_setzero_ps();
        int64_t i = 0;
        for (; i < n32; i += 32) {
            UNROLL for (int a = 0; a < 4; a++) {
                const __m512 x0 = KEY(k0, i + 8 * a), x1 = KEY(k1, i + 8 * a);
                const __m512 q0 = qp[0][i / 8 + a], q1 = qp[1][i / 8 + a];
                acc[0][0][a] = _mm512_fmadd_ps(q0, x0, acc[0][0][a]);
                acc[0][1][a] = _mm512_fmadd_ps(q1, x0, acc[0][1][a]);
                acc[1][0][a] = _mm512_fmadd_ps(q0, x1, acc[1][0][a]);
                acc[1][1][a] = _mm512_fmadd_ps(q1, x1, acc[1][1][a]);
            }
        }
        for (; i < n8; i += 8) {
            const __m512 x0 = KEY(k0, i), x1 = KEY(k1, i);
            acc[0][0][0] = _mm512_fmadd_ps(qp[0][i / 8], x0, acc[0][0][0]);
            acc[0][1][0] = _mm512_fmadd_ps(qp[1][i / 8], x0, acc[0][1][0]);
            acc[1][0][0] = _mm512_fmadd_ps(qp[0][i / 8], x1, acc[1][0][0]);
            acc[1][1][0] = _mm512_fmadd_ps(qp[1][i / 8], x1, acc[1][1][0]);
        }
        float dot[2][4];
        if (n8 == n) { /* both keys' dots divided at once */
            _mm_storeu_ps(dot[0], _mm_div_ps(reduce4(acc[0]), _mm_set1_ps(div)));
            _mm_storeu_ps(dot[1], _mm_div_ps(reduce4(acc[1]), _mm_set1_ps(div)));
            for (int t = 0; t < nj; t++)
                for (int d = 0; d < 4; d++)
                    s[d * lds + j + t * half] = dot[t][d];
            continue;
        }
        _mm_storeu_ps(dot[0], reduce4(acc[0]));
        _mm_storeu_ps(dot[1], reduce4(acc[1]));
        for (int t = 0; t < nj; t++) {
            const float *kt = t ? k1 : k0;
            for (int d = 0; d < 4; d++) {
                for (int64_t e = n8; e < n; e++)
                    dot[t][d] += q[d * ldq + e] * kt[e];
                s[d * lds + j + t * half] = dot[t][d] / div;
            }
        }
    }
#undef UNROLL
#undef KEY
}
