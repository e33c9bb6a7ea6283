/*
 * vec_dot_avx2.c - AVX2/FMA/F16C siblings of the scalar kernels of
 * vec_dot.c (see vec_dot.h).  Integer block sums with maddubs/madd, then
 * the float combination in the order of the scalar twin, so both return
 * the same bits.  Compiled with -mavx2 -mfma -mf16c; reached only through
 * the avx2 table of dispatch.c, after its run-time CPU check.
 */
#include "vec_dot.h"

#include <float.h>
#include <immintrin.h>
#include <math.h>
#include <string.h>

#include "dot.h"
#include "fp16.h"
#include "prefetch.h"
#include "quant_blocks.h"
#include "quant_k_common.h"
#include "vec_f_avx2.h"
#include "vec_k_avx2.h"
#include "vec_q32_avx2.h"

#define QK_K 256

/* Fully unrolled short loops keep per-position accumulators and unpacked
 * weights in registers (gcc -O2 unrolls nothing by itself and leaves such
 * arrays on the stack, a load and a store around every operation);
 * unrolling changes no operation and no bit. */
#define UNROLL _Pragma("GCC unroll 16")

static inline int32_t hsum_i32(__m256i v)
{
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    s = _mm_add_epi32(s, _mm_unpackhi_epi64(s, s));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x1));
    return _mm_cvtsi128_si32(s);
}

/* ((l0 + l4) + (l2 + l6)) + ((l1 + l5) + (l3 + l7)), as vec_dot.c reduces lanes */
static inline float reduce_lanes(__m256 v)
{
    __m128 h = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    h = _mm_add_ps(h, _mm_movehl_ps(h, h));
    h = _mm_add_ss(h, _mm_movehdup_ps(h));
    return _mm_cvtss_f32(h);
}

static inline __m256i load256(const void *p) { return _mm256_loadu_si256((const __m256i *)p); }

/* F16C widening: the value of ckpt_f16_to_f32 (a signalling NaN comes out quiet) */
static inline float f16_at(const uint8_t *p)
{
    uint16_t h;
    memcpy(&h, p, 2);
    return _cvtsh_ss(h);
}

/* ==== k-quants x q8_K ==== */

/* Offsets of the fields of the blocks (memcpy-free loads of the packed bytes). */
#define Q8K_D 0
#define Q8K_QS 4
#define Q8K_BSUMS 260

/* Single dots (decode: one position per weight row) read each row from
 * memory once: each block asks for its lines ahead (prefetch.h), so the
 * loads meet lines already on their way (the hardware prefetcher alone
 * kept Q4_K_M decode near 60% of the read bandwidth on the AVX2 machine).
 * The rows of a decode step follow one another, so ahead of a row's end
 * is the next row. */
static inline void prefetch_ahead(const uint8_t *w, size_t block)
{
    ck_prefetch_block(w, (unsigned)block);
}

static inline float q8k_d(const uint8_t *a)
{
    float d;
    memcpy(&d, a + Q8K_D, 4);
    return d;
}

/* The unpacked scales of a q4_K/q5_K block, in registers: the eight 6-bit
 * scales as int16 (both halves), and the eight mins as int16
 * (ck_k4_scales_mins, vec_k_avx2.h). */
struct k4_scales {
    __m256i sc;   /* int16 lanes l and 8+l: scale l */
    __m128i mins; /* int16 lane l: min l */
};

static inline void k4_unpack(const uint8_t *scales, struct k4_scales *u)
{
    __m128i sc;
    ck_k4_scales_mins(scales, &sc, &u->mins);
    u->sc = _mm256_broadcastsi128_si256(sc);
}

/* int16 broadcast of scale j from k4_scales.sc (bytes 2j, 2j+1 of each half) */
static inline __m256i k4_scale(const struct k4_scales *u, int j)
{
    const __m256i pick = _mm256_set1_epi16((short)((2 * j) | (2 * j + 1) << 8));
    return _mm256_shuffle_epi8(u->sc, pick);
}

/* sum over the 16 bsums of a q8_K block of bsum * v (exact int32) */
static inline int32_t bsums_dot(const uint8_t *a, __m256i v)
{
    return hsum_i32(_mm256_madd_epi16(load256(a + Q8K_BSUMS), v));
}

/* sum over sub-blocks j of min_j * (bsums[2j] + bsums[2j+1]) (exact) */
static inline int32_t k4_mins_dot(const uint8_t *a, const struct k4_scales *u)
{
    const __m256i b = load256(a + Q8K_BSUMS);
    const __m128i pairs =
        _mm_hadd_epi16(_mm256_castsi256_si128(b), _mm256_extracti128_si256(b, 1));
    __m128i s = _mm_madd_epi16(pairs, u->mins);
    s = _mm_add_epi32(s, _mm_unpackhi_epi64(s, s));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x1));
    return _mm_cvtsi128_si32(s);
}

/* Integer sum of the sub-block products of the 128 q4_K nibble bytes qs
 * with the activations y, scaled per sub-block. */
static inline __m256i q4k_sums(const __m256i lo[4], const __m256i hi[4], const uint8_t *y,
                               const struct k4_scales *u)
{
    __m256i acc = _mm256_setzero_si256();
    UNROLL for (int j = 0; j < 4; j++) {
        __m256i p0 = _mm256_maddubs_epi16(lo[j], load256(y + 64 * j));
        __m256i p1 = _mm256_maddubs_epi16(hi[j], load256(y + 64 * j + 32));
        p0 = _mm256_madd_epi16(p0, k4_scale(u, 2 * j));
        p1 = _mm256_madd_epi16(p1, k4_scale(u, 2 * j + 1));
        acc = _mm256_add_epi32(acc, _mm256_add_epi32(p0, p1));
    }
    return acc;
}

/* A q4_K (q5 false) or q5_K block's scales and mins unpacked into *u and
 * its scaled quant sums against the q8_K block a (the quants after q5_K's
 * fifth bits, which it adds as 16): the integer part of the block's term,
 * shared by the dot and the four-row decode kernel, and inlined into
 * each (as a call it also tested q5 at run time: the q5_K decode 5%
 * slower). */
static inline __attribute__((always_inline)) __m256i
k4_quant_sums(const uint8_t *w, const uint8_t *a, bool q5, struct k4_scales *u)
{
    k4_unpack(w + 4, u);
    __m256i lo[4], hi[4];
    UNROLL for (int j = 0; j < 4; j++)
        ck_k4_chunks(w + (q5 ? 48 : 16), q5 ? w + 16 : NULL, j, &lo[j], &hi[j]);
    return q4k_sums(lo, hi, a + Q8K_QS, u);
}

/* The q4_K and q5_K dots: per block d * sumi - dmin * summ, added in block
 * order (the twin's float steps); inlined into each. */
static inline __attribute__((always_inline)) float k4_dot(const uint8_t *w, const uint8_t *a,
                                                          int64_t n, size_t bs, bool q5)
{
    float sumf = 0.0f;
    for (int64_t i = 0; i < n / QK_K; i++, w += bs, a += sizeof(block_q8_K)) {
        prefetch_ahead(w, bs);
        struct k4_scales u;
        const int32_t sumi = hsum_i32(k4_quant_sums(w, a, q5, &u));
        const int32_t summ = k4_mins_dot(a, &u);
        const float dy = q8k_d(a);
        const float d = f16_at(w) * dy, dmin = f16_at(w + 2) * dy;
        sumf += d * (float)sumi - dmin * (float)summ;
    }
    return sumf;
}

float ckpt_vec_dot_q4_K_q8_K_avx2(const void *w, const void *a, int64_t n)
{
    return k4_dot(w, a, n, sizeof(block_q4_K), false);
}

float ckpt_vec_dot_q5_K_q8_K_avx2(const void *w, const void *a, int64_t n)
{
    return k4_dot(w, a, n, sizeof(block_q5_K), true);
}

/* The scale pairs of the sixteen int16 scales in all: per group of 32
 * elements g, scale 2g in the 16-bit lanes 0..7 and 2g+1 in lanes 8..15
 * (the madd weights of its two sub-blocks), by byte shuffles, not sixteen
 * scalar broadcasts (which made the q6_K dot half as fast as its
 * unpacking and products allow). */
static inline void scale_pairs(__m256i all, __m256i pairs[8])
{
    const __m256i lo = _mm256_permute4x64_epi64(all, 0x44);
    const __m256i hi = _mm256_permute4x64_epi64(all, 0xEE);
    UNROLL for (int g = 0; g < 4; g++) {
        const short even = (short)((4 * g) | (4 * g + 1) << 8), odd = (short)(even + 0x0202);
        const __m256i pick = _mm256_set_m128i(_mm_set1_epi16(odd), _mm_set1_epi16(even));
        pairs[g] = _mm256_shuffle_epi8(lo, pick);
        pairs[g + 4] = _mm256_shuffle_epi8(hi, pick);
    }
}

/* The scales of a q6_K block: their pairs, and all 16 as int16 lanes to
 * pair with the bsums. */
static inline void q6k_scales(const uint8_t *w, __m256i pairs[8], __m256i *all)
{
    *all = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(w + 192)));
    scale_pairs(*all, pairs);
}

/* A q6_K block's scaled quant sums against the q8_K block a, and its
 * sixteen scales as int16 in *all (for the bsums term of q - 32): shared
 * by the dot and the four-row decode kernel, inlined into each. */
static inline __attribute__((always_inline)) __m256i
q6k_quant_sums(const uint8_t *w, const uint8_t *a, __m256i *all)
{
    __m256i pairs[8];
    q6k_scales(w, pairs, all);
    __m256i acc = _mm256_setzero_si256();
    UNROLL for (int h = 0; h < 2; h++) { /* unrolled: q and pairs stay in registers */
        __m256i q[4];
        ck_q6k_half(w + 64 * h, w + 128 + 32 * h, q);
        UNROLL for (int g = 0; g < 4; g++) {
            const __m256i y = load256(a + Q8K_QS + 128 * h + 32 * g);
            const __m256i p = _mm256_maddubs_epi16(q[g], y);
            acc = _mm256_add_epi32(acc, _mm256_madd_epi16(p, pairs[4 * h + g]));
        }
    }
    return acc;
}

float ckpt_vec_dot_q6_K_q8_K_avx2(const void *vw, const void *va, int64_t n)
{
    const uint8_t *w = vw, *a = va;
    float sumf = 0.0f;
    for (int64_t i = 0; i < n / QK_K; i++, w += sizeof(block_q6_K), a += sizeof(block_q8_K)) {
        prefetch_ahead(w, sizeof(block_q6_K));
        __m256i all;
        const __m256i acc = q6k_quant_sums(w, a, &all);
        /* q - 32: 32 * the scaled sums of the activations, from bsums */
        const int32_t sumi = hsum_i32(acc) - 32 * bsums_dot(a, all);
        sumf += f16_at(w + 208) * q8k_d(a) * (float)sumi;
    }
    return sumf;
}

/* Four rows rb bytes apart against one position (a decode step), block by
 * block side by side: four streams of the weights in flight where a row
 * after a row kept one, each row's line asked for ahead in its stream
 * (prefetch.h, ck_prefetch_row), and each row's sum the single dot's, in
 * its block order: the same bits.  The four rows' integer sums are
 * reduced together (exact in any order) and the float steps of the four
 * taken in the lanes of one register (the dot's operations, lane by
 * lane). */

/* the sums of v[0..3]'s int32 lanes, row r in lane r */
static inline __m128i hsum4_i32(const __m256i v[4])
{
    const __m256i t = _mm256_hadd_epi32(_mm256_hadd_epi32(v[0], v[1]), _mm256_hadd_epi32(v[2], v[3]));
    return _mm_add_epi32(_mm256_castsi256_si128(t), _mm256_extracti128_si256(t, 1));
}

/* the same for four vectors of four int32 lanes */
static inline __m128i hsum4_i32x4(const __m128i v[4])
{
    return _mm_hadd_epi32(_mm_hadd_epi32(v[0], v[1]), _mm_hadd_epi32(v[2], v[3]));
}

/* the four rows' f16 at byte `at` of their blocks, as floats (exact) */
static inline __m128 f16_at4(const uint8_t *w, size_t rb, size_t at)
{
    uint16_t h[4];
    for (int r = 0; r < 4; r++)
        memcpy(&h[r], w + (size_t)r * rb + at, 2);
    return _mm_cvtph_ps(_mm_loadl_epi64((const __m128i *)(const void *)h));
}

/* q4_K (q5 false) and q5_K: inlined into each, the q4_K loop without the
 * fifth bits */
static inline __attribute__((always_inline)) void
decode4_k4(const uint8_t *w, size_t rb, const uint8_t *a, int64_t n, size_t bs, bool q5,
           float out[4])
{
    __m128 sumf = _mm_setzero_ps();
    for (int64_t i = 0; i < n / QK_K; i++, w += bs, a += sizeof(block_q8_K)) {
        __m256i acc[4];
        __m128i m[4];
        const __m256i b = load256(a + Q8K_BSUMS);
        const __m128i pairs =
            _mm_hadd_epi16(_mm256_castsi256_si128(b), _mm256_extracti128_si256(b, 1));
        UNROLL for (int r = 0; r < 4; r++) {
            const uint8_t *wr = w + (size_t)r * rb;
            ck_prefetch_row_block(wr, bs);
            struct k4_scales u;
            acc[r] = k4_quant_sums(wr, a, q5, &u);
            m[r] = _mm_madd_epi16(pairs, u.mins); /* k4_mins_dot's terms */
        }
        const __m128 dy = _mm_set1_ps(q8k_d(a));
        const __m128 d = _mm_mul_ps(f16_at4(w, rb, 0), dy), dmin = _mm_mul_ps(f16_at4(w, rb, 2), dy);
        const __m128 t = _mm_sub_ps(_mm_mul_ps(d, _mm_cvtepi32_ps(hsum4_i32(acc))),
                                    _mm_mul_ps(dmin, _mm_cvtepi32_ps(hsum4_i32x4(m))));
        sumf = _mm_add_ps(sumf, t);
    }
    _mm_storeu_ps(out, sumf);
}

void ckpt_vec_decode4_q4_K_q8_K_avx2(const void *w, size_t rb, const void *a, int64_t n,
                                     float out[4])
{
    decode4_k4(w, rb, a, n, sizeof(block_q4_K), false, out);
}

void ckpt_vec_decode4_q5_K_q8_K_avx2(const void *w, size_t rb, const void *a, int64_t n,
                                     float out[4])
{
    decode4_k4(w, rb, a, n, sizeof(block_q5_K), true, out);
}

void ckpt_vec_decode4_q6_K_q8_K_avx2(const void *vw, size_t rb, const void *va, int64_t n,
                                     float out[4])
{
    const uint8_t *w = vw, *a = va;
    __m128 sumf = _mm_setzero_ps();
    for (int64_t i = 0; i < n / QK_K; i++, w += sizeof(block_q6_K), a += sizeof(block_q8_K)) {
        __m256i acc[4], bs[4];
        const __m256i bsums = load256(a + Q8K_BSUMS);
        UNROLL for (int r = 0; r < 4; r++) {
            const uint8_t *wr = w + (size_t)r * rb;
            ck_prefetch_row_block(wr, sizeof(block_q6_K));
            __m256i all;
            acc[r] = q6k_quant_sums(wr, a, &all);
            bs[r] = _mm256_madd_epi16(bsums, all); /* bsums_dot's terms */
        }
        /* q - 32: the dot's hsum(acc) - 32 * bsums_dot, row by row in the lanes */
        const __m128i sumi = _mm_sub_epi32(hsum4_i32(acc), _mm_slli_epi32(hsum4_i32(bs), 5));
        const __m128 d = _mm_mul_ps(f16_at4(w, rb, 208), _mm_set1_ps(q8k_d(a)));
        sumf = _mm_add_ps(sumf, _mm_mul_ps(d, _mm_cvtepi32_ps(sumi)));
    }
    _mm_storeu_ps(out, sumf);
}

/* Integer sum of half h of a q2_K block (its qs at qs): four groups of 32
 * two-bit values (ck_2bit_chunk) times the activations y, each 16-element
 * sub-block g times its scale: pairs[4*h + j] holds the scales of
 * sub-blocks 8h+2j, 8h+2j+1. */
static inline __m256i q2k_half(const uint8_t *qs, int h, const uint8_t *y, const __m256i *pairs)
{
    __m256i acc = _mm256_setzero_si256();
    UNROLL for (int j = 0; j < 4; j++) {
        const __m256i q = ck_2bit_chunk(qs, NULL, h, j);
        const __m256i p = _mm256_maddubs_epi16(q, load256(y + 32 * j));
        acc = _mm256_add_epi32(acc, _mm256_madd_epi16(p, pairs[j]));
    }
    return acc;
}

/* q2_K: per block sumi = sum_g sc_g * (q . y)_g and summ = sum_g m_g *
 * bsums_g (exact), then the scalar twin's d * sumi - dmin * summ. */
float ckpt_vec_dot_q2_K_q8_K_avx2(const void *vw, const void *va, int64_t n)
{
    const uint8_t *w = vw, *a = va;
    float sumf = 0.0f;
    for (int64_t i = 0; i < n / QK_K; i++, w += sizeof(block_q2_K), a += sizeof(block_q8_K)) {
        prefetch_ahead(w, sizeof(block_q2_K));
        const __m128i sc8 = _mm_loadu_si128((const __m128i *)w);
        const __m128i m4 = _mm_set1_epi8(0xF);
        const __m256i mins = _mm256_cvtepu8_epi16(_mm_and_si128(_mm_srli_epi16(sc8, 4), m4));
        __m256i pairs[8];
        scale_pairs(_mm256_cvtepu8_epi16(_mm_and_si128(sc8, m4)), pairs);
        const __m256i acc =
            _mm256_add_epi32(q2k_half(w + 16, 0, a + Q8K_QS, pairs),
                             q2k_half(w + 16, 1, a + Q8K_QS + 128, pairs + 4));
        const int32_t sumi = hsum_i32(acc), summ = bsums_dot(a, mins);
        const float dy = q8k_d(a);
        const float d = f16_at(w + 80) * dy, dmin = f16_at(w + 82) * dy;
        sumf += d * (float)sumi - dmin * (float)summ;
    }
    return sumf;
}

/* q3_K: with u = low2 | high << 2 (0..7), q = u - 4, so per sub-block
 * (q . y)_g = (u . y)_g - 4 * bsums_g: sumi = sum_g sc_g * (u . y)_g -
 * 4 * sum_g sc_g * bsums_g (exact), then the scalar twin's
 * (d_w * d_a) * sumi.  q3k_prepare unpacks a block once: the eight
 * groups of 32 u values, the scale pairs and the 16 scales. */
static inline void q3k_prepare(const uint8_t *w, __m256i u[8], __m256i pairs[8], __m256i *all)
{
    *all = _mm256_cvtepi8_epi16(ck_q3k_scales(w + 96));
    scale_pairs(*all, pairs);
    UNROLL for (int G = 0; G < 8; G++) /* group G = 4h + j: bit G of hmask, as 4 */
        u[G] = ck_2bit_chunk(w + 32, w, G / 4, G % 4);
}

/* sumi of one q3_K block with the q8_K block at a */
static inline int32_t q3k_sumi(const __m256i u[8], const __m256i pairs[8], __m256i all,
                               const uint8_t *a)
{
    __m256i acc = _mm256_setzero_si256();
    UNROLL for (int G = 0; G < 8; G++) {
        const __m256i p = _mm256_maddubs_epi16(u[G], load256(a + Q8K_QS + 32 * G));
        acc = _mm256_add_epi32(acc, _mm256_madd_epi16(p, pairs[G]));
    }
    return hsum_i32(acc) - 4 * bsums_dot(a, all);
}

float ckpt_vec_dot_q3_K_q8_K_avx2(const void *vw, const void *va, int64_t n)
{
    const uint8_t *w = vw, *a = va;
    float sumf = 0.0f;
    for (int64_t i = 0; i < n / QK_K; i++, w += sizeof(block_q3_K), a += sizeof(block_q8_K)) {
        prefetch_ahead(w, sizeof(block_q3_K));
        __m256i u[8], pairs[8], all;
        q3k_prepare(w, u, pairs, &all);
        sumf += f16_at(w + 108) * q8k_d(a) * (float)q3k_sumi(u, pairs, all, a);
    }
    return sumf;
}

/* ==== 32-element blocks x q8_0 ==== */

/* Eight lane sums of four products each, of signed x and signed y. */
static inline __m256 lane_sums(__m256i x, __m256i y)
{
    const __m256i ax = _mm256_sign_epi8(x, x), sy = _mm256_sign_epi8(y, x);
    const __m256i p = _mm256_madd_epi16(_mm256_maddubs_epi16(ax, sy), _mm256_set1_epi16(1));
    return _mm256_cvtepi32_ps(p);
}

/* Symmetric 32-blocks (q8_0, q4_0, q5_0, iq4_nl): per block the signed
 * values (vec_q32_avx2.h), then per lane acc += (d_w * d_a) * lane_sum, as
 * the scalar twin. */
#define SYMMETRIC_DOT(T)                                                                           \
    float ckpt_vec_dot_##T##_q8_0_avx2(const void *vw, const void *va, int64_t n)                 \
    {                                                                                              \
        const uint8_t *w = vw, *a = va;                                                            \
        __m256 acc = _mm256_setzero_ps();                                                          \
        for (int64_t i = 0; i < n / 32; i++, w += sizeof(block_##T), a += sizeof(block_q8_0)) {    \
            prefetch_ahead(w, sizeof(block_##T));                                                  \
            const __m256 dd = _mm256_set1_ps(f16_at(w) * f16_at(a));                               \
            acc = _mm256_add_ps(acc, _mm256_mul_ps(dd, lane_sums(values_##T(w), load256(a + 2)))); \
        }                                                                                          \
        return reduce_lanes(acc);                                                                  \
    }
SYMMETRIC_DOT(q8_0)
SYMMETRIC_DOT(q4_0)
SYMMETRIC_DOT(q5_0)
SYMMETRIC_DOT(iq4_nl)
#undef SYMMETRIC_DOT

/* Blocks with an offset (q4_1, q5_1): unsigned q, so per lane
 * acc += (d_w * d_a) * sum(q y) + (m_w * d_a) * sum(y), the scalar twin's
 * expression. */
static inline __m256 offset_block(__m256 acc, __m256i q, const uint8_t *w, const uint8_t *a)
{
    const __m256i y = load256(a + 2), ones16 = _mm256_set1_epi16(1);
    const __m256i s = _mm256_madd_epi16(_mm256_maddubs_epi16(q, y), ones16);
    const __m256i sy = _mm256_madd_epi16(_mm256_maddubs_epi16(_mm256_set1_epi8(1), y), ones16);
    const float dy = f16_at(a);
    const __m256 dd = _mm256_set1_ps(f16_at(w) * dy), md = _mm256_set1_ps(f16_at(w + 2) * dy);
    return _mm256_add_ps(acc, _mm256_add_ps(_mm256_mul_ps(dd, _mm256_cvtepi32_ps(s)),
                                            _mm256_mul_ps(md, _mm256_cvtepi32_ps(sy))));
}

float ckpt_vec_dot_q4_1_q8_0_avx2(const void *vw, const void *va, int64_t n)
{
    const uint8_t *w = vw, *a = va;
    __m256 acc = _mm256_setzero_ps();
    for (int64_t i = 0; i < n / 32; i++, w += sizeof(block_q4_1), a += sizeof(block_q8_0)) {
        prefetch_ahead(w, sizeof(block_q4_1));
        acc = offset_block(acc, values_q4_1(w), w, a);
    }
    return reduce_lanes(acc);
}

float ckpt_vec_dot_q5_1_q8_0_avx2(const void *vw, const void *va, int64_t n)
{
    const uint8_t *w = vw, *a = va;
    __m256 acc = _mm256_setzero_ps();
    for (int64_t i = 0; i < n / 32; i++, w += sizeof(block_q5_1), a += sizeof(block_q8_0)) {
        prefetch_ahead(w, sizeof(block_q5_1));
        acc = offset_block(acc, values_q5_1(w), w, a);
    }
    return reduce_lanes(acc);
}

/* ==== F32 / F16 / BF16 x f32 ==== */

/* One accumulator per (row, position) over 8-element steps, MAC(acc, w, x)
 * adding each step (fused or not), the n%8 last products added to lanes
 * 0.. in order, the lanes reduced as vec_dot.c does (vec_dot.h).  The
 * single dot: ES-byte elements, LD widens 8 of them, ONE one. */
#define DOT_BODY(ES, LD, ONE, MAC)                                                                 \
    do {                                                                                           \
        __m256 lane = _mm256_setzero_ps();                                                         \
        int64_t i = 0;                                                                             \
        for (; i + 8 <= n; i += 8)                                                                 \
            lane = MAC(lane, LD(w + (size_t)i * ES), _mm256_loadu_ps(x + i));                     \
        float l[8];                                                                                \
        _mm256_storeu_ps(l, lane);                                                                 \
        for (int64_t k = i; k < n; k++)                                                            \
            l[k - i] += ONE(w + (size_t)k * ES) * x[k];                                            \
        return ((l[0] + l[4]) + (l[2] + l[6])) + ((l[1] + l[5]) + (l[3] + l[7]));                 \
    } while (0)

#define TILE_KB CK_TILE_KB /* the widened block (vec_f_avx2.h) */

/* Four rows of the widened block wf (TILE_KB floats apart) with RP
 * positions x + p*ldx over len elements (a multiple of 8), continuing the
 * lanes acc[(p*4 + r)*8 ..] in registers: each weight load feeds RP
 * products, each activation load four. */
#define TILE_BLOCK_BODY(RP, MAC)                                                                   \
    do {                                                                                           \
        __m256 lane[4][RP];                                                                        \
        UNROLL for (int r = 0; r < 4; r++)                                                         \
            UNROLL for (int p = 0; p < RP; p++)                                                    \
                lane[r][p] = _mm256_loadu_ps(acc + (p * 4 + r) * 8);                               \
        for (int64_t i = 0; i < len; i += 8) {                                                     \
            __m256 xv[RP];                                                                         \
            UNROLL for (int p = 0; p < RP; p++)                                                    \
                xv[p] = _mm256_loadu_ps(x + p * ldx + i);                                          \
            UNROLL for (int r = 0; r < 4; r++) {                                                   \
                const __m256 wv = _mm256_loadu_ps(wf + r * TILE_KB + i);                          \
                UNROLL for (int p = 0; p < RP; p++)                                                \
                    lane[r][p] = MAC(lane[r][p], wv, xv[p]);                                       \
            }                                                                                      \
        }                                                                                          \
        UNROLL for (int r = 0; r < 4; r++)                                                         \
            UNROLL for (int p = 0; p < RP; p++)                                                    \
                _mm256_storeu_ps(acc + (p * 4 + r) * 8, lane[r][p]);                               \
    } while (0)

/* The register tile's width for the rem positions left: three, but two
 * twos for the last four (a single position runs its four rows' sums at
 * the FMA latency, not its throughput). */
static inline int tile_width(int rem)
{
    return rem == 4 || rem == 2 ? 2 : rem >= 3 ? 3 : 1;
}

/* avx2: fused multiply-add; ref (the *_refx kernels): multiply, round, add */
static inline __m256 mac_fma(__m256 acc, __m256 w, __m256 x)
{
    return _mm256_fmadd_ps(w, x, acc);
}

static inline __m256 mac_ref(__m256 acc, __m256 w, __m256 x)
{
    return _mm256_add_ps(acc, _mm256_mul_ps(w, x));
}

/* The register tile of each width (tile_width) for one MAC. */
#define TILE_BLOCK_FN(NAME, MAC)                                                                   \
    static void NAME(const float *wf, const float *x, int64_t ldx, int64_t len, int rp,            \
                     float *acc)                                                                   \
    {                                                                                              \
        if (rp == 3)                                                                               \
            TILE_BLOCK_BODY(3, MAC);                                                               \
        else if (rp == 2)                                                                          \
            TILE_BLOCK_BODY(2, MAC);                                                               \
        else                                                                                       \
            TILE_BLOCK_BODY(1, MAC);                                                               \
    }
TILE_BLOCK_FN(tile_block_fma, mac_fma)
TILE_BLOCK_FN(tile_block_ref, mac_ref)
#undef TILE_BLOCK_FN

/* Every position of the block over the nq quads (CK_TILE_K_ROWS's PASS):
 * register tiles of tile_width, each tile's activations meeting every
 * quad while they are in L1. */
#define PASS_FN(NAME, BLOCK)                                                                       \
    static void NAME(const float *wf, const float *x, int64_t ldx, int64_t len, int np, int nq,    \
                     float *acc, int64_t quad)                                                     \
    {                                                                                              \
        for (int p = 0, rp; p < np; p += rp) {                                                     \
            rp = tile_width(np - p);                                                               \
            for (int q = 0; q < nq; q++)                                                           \
                BLOCK(wf + q * 4 * TILE_KB, x + p * ldx, ldx, len, rp,                             \
                      acc + q * quad + p * 4 * CKPT_VEC_TILE_LANES);                               \
        }                                                                                          \
    }
PASS_FN(pass_fma, tile_block_fma)
PASS_FN(pass_ref, tile_block_ref)
#undef PASS_FN

/* each row's block of TILE_KB floats after the other's */
#define ROW_SLOT(r, i) ((r) * TILE_KB + (i))

/* The K-slice tile (vec_dot.h): two quads of rows per call, so each
 * position tile's activations, read from L2, serve eight rows. */
#define TILE_K_PUB(TILE_K, TILE_K_ROWS)                                                            \
    void TILE_K(const void *vw, size_t row_bytes, const void *act, size_t act_stride, int64_t n,   \
                int64_t k0, int64_t k1, int np, float *acc, float *out)                            \
    {                                                                                              \
        TILE_K_ROWS(vw, row_bytes, act, act_stride, n, k0, k1, np, CKPT_VEC_TILE_K_ROWS / 4, acc,  \
                    out);                                                                          \
    }

/* Four rows against one position (a decode step), each weight read once
 * and widened in registers, without the staging a shared block pays for:
 * four streams of the weights in flight (38 GB/s of an F16 decode on the
 * AVX2 machine, where the staged tile drew 23) and four chains of MACs to
 * hide their latency.  Each row asks for its line ahead in its stream
 * (prefetch.h, ck_prefetch_row), once per line: on the AVX-512 machine an
 * F16 decode went from 18.4-19.2 to 20.3-23.0 tok/s with a near hint
 * (512 to 2048 bytes on measured alike, 4096 worse); on the AVX2 machine
 * an earlier software prefetch had measured slower (17 against 33
 * tok/s), and these are not measured there.  Each lane sees
 * the single dot's operations in its order: the same bits. */

#define FOUR_ROWS_DEF(FOUR_ROWS, ES, LD, ONE, MAC)                                                 \
    static void FOUR_ROWS(const uint8_t *w, size_t rb, const float *x, int64_t n, float *out)      \
    {                                                                                              \
        __m256 lane[4];                                                                            \
        UNROLL for (int r = 0; r < 4; r++)                                                         \
            lane[r] = _mm256_setzero_ps();                                                         \
        int64_t i = 0;                                                                             \
        for (; i + 8 <= n; i += 8) {                                                               \
            const __m256 xv = _mm256_loadu_ps(x + i);                                              \
            const bool ahead = (i * ES) % 64 == 0; /* once per line of each row */                 \
            UNROLL for (int r = 0; r < 4; r++) {                                                   \
                if (ahead)                                                                         \
                    ck_prefetch_row(w + r * rb + (size_t)i * ES);                                  \
                lane[r] = MAC(lane[r], LD(w + r * rb + (size_t)i * ES), xv);                       \
            }                                                                                      \
        }                                                                                          \
        for (int r = 0; r < 4; r++) {                                                              \
            float l[8];                                                                            \
            _mm256_storeu_ps(l, lane[r]);                                                          \
            for (int64_t k = i; k < n; k++)                                                        \
                l[k - i] += ONE(w + r * rb + (size_t)k * ES) * x[k];                               \
            out[r] = ((l[0] + l[4]) + (l[2] + l[6])) + ((l[1] + l[5]) + (l[3] + l[7]));           \
        }                                                                                          \
    }

/* The whole-row tile of four rows (vec_dot.h): one quad over [0, n). */
#define TILE_DEF(TILE, TILE_K_ROWS, FOUR_ROWS)                                                     \
    void TILE(const void *vw, size_t row_bytes, const void *act, size_t act_stride, int64_t n,     \
              int np, float *out)                                                                  \
    {                                                                                              \
        if (np == 1) {                                                                             \
            FOUR_ROWS(vw, row_bytes, act, n, out);                                                 \
            return;                                                                                \
        }                                                                                          \
        float acc[CKPT_VEC_TILE_NP_MAX * 4 * CKPT_VEC_TILE_LANES];                                 \
        memset(acc, 0, (size_t)np * 4 * CKPT_VEC_TILE_LANES * sizeof(float));                     \
        TILE_K_ROWS(vw, row_bytes, act, act_stride, n, 0, n, np, 1, acc, out);                     \
    }

/* The single dot and the tiles of one element type, in the same order. */
#define ROW_KERNELS(DOT, TILE, TILE_K, MAC, PASS, ES, LD, ONE)                                    \
    float DOT(const void *vw, const void *va, int64_t n)                                           \
    {                                                                                              \
        const uint8_t *w = vw;                                                                     \
        const float *x = va;                                                                       \
        DOT_BODY(ES, LD, ONE, MAC);                                                                \
    }                                                                                              \
    CK_STAGE_ROWS_DEF(TILE_K##_stage, ES, LD, ROW_SLOT)                                            \
    CK_TILE_K_ROWS(TILE_K##_rows, ES, TILE_K##_stage, ONE, PASS)                                   \
    TILE_K_PUB(TILE_K, TILE_K##_rows)                                                              \
    FOUR_ROWS_DEF(TILE##_four, ES, LD, ONE, MAC)                                                   \
    TILE_DEF(TILE, TILE_K##_rows, TILE##_four)

ROW_KERNELS(ckpt_vec_dot_f32_f32_avx2, ckpt_vec_tile_f32_avx2, ckpt_vec_tile_k_f32_avx2,
            mac_fma, pass_fma, 4, ck_ld_f32, ck_one_f32)
ROW_KERNELS(ckpt_vec_dot_f16_f32_avx2, ckpt_vec_tile_f16_avx2, ckpt_vec_tile_k_f16_avx2,
            mac_fma, pass_fma, 2, ck_ld_f16, ck_one_f16)
ROW_KERNELS(ckpt_vec_dot_bf16_f32_avx2, ckpt_vec_tile_bf16_avx2, ckpt_vec_tile_k_bf16_avx2,
            mac_fma, pass_fma, 2, ck_ld_bf16, ck_one_bf16)
ROW_KERNELS(ckpt_vec_dot_f32_f32_refx, ckpt_vec_tile_f32_refx, ckpt_vec_tile_k_f32_refx,
            mac_ref, pass_ref, 4, ck_ld_f32, ck_one_f32)
ROW_KERNELS(ckpt_vec_dot_f16_f32_refx, ckpt_vec_tile_f16_refx, ckpt_vec_tile_k_f16_refx,
            mac_ref, pass_ref, 2, ck_ld_f16, ck_one_f16)
ROW_KERNELS(ckpt_vec_dot_bf16_f32_refx, ckpt_vec_tile_bf16_refx, ckpt_vec_tile_k_bf16_refx,
            mac_ref, pass_ref, 2, ck_ld_bf16, ck_one_bf16)
#undef ROW_KERNELS
#undef TILE_DEF
#undef FOUR_ROWS_DEF
#undef ROW_SLOT
#undef TILE_BLOCK_BODY
#undef DOT_BODY
#undef TILE_KB
#undef UNROLL

/* ==== activation quantizers (the bytes of the _ref quantizers) ==== */

static inline float hmax_ps(__m256 v)
{
    __m128 m = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    m = _mm_max_ps(m, _mm_movehl_ps(m, m));
    m = _mm_max_ss(m, _mm_movehdup_ps(m));
    return _mm_cvtss_f32(m);
}

/* 32 int32 lanes (four vectors, in element order) to 32 int8 at dst. */
static inline void store_i8x32(uint8_t *dst, __m256i i0, __m256i i1, __m256i i2, __m256i i3)
{
    const __m256i p01 = _mm256_packs_epi32(i0, i1), p23 = _mm256_packs_epi32(i2, i3);
    __m256i p = _mm256_packs_epi16(p01, p23);
    /* packs work per 128-bit half: put the 4-byte groups back in order */
    p = _mm256_permutevar8x32_epi32(p, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
    _mm256_storeu_si256((__m256i *)dst, p);
}

void ckpt_act_quant_q8_K_avx2(const float *x, void *vy, int64_t k)
{
    uint8_t *y = vy;
    const __m256 sign = _mm256_set1_ps(-0.0f);
    for (int64_t b = 0; b < k / QK_K; b++, x += QK_K, y += sizeof(block_q8_K)) {
        __m256 mx = _mm256_setzero_ps(), nan = _mm256_setzero_ps();
        for (int j = 0; j < QK_K; j += 8) {
            const __m256 v = _mm256_loadu_ps(x + j);
            mx = _mm256_max_ps(mx, _mm256_andnot_ps(sign, v));
            nan = _mm256_or_ps(nan, _mm256_cmp_ps(v, v, _CMP_UNORD_Q));
        }
        const float amax = hmax_ps(mx);
        if (!(amax > 0.0f && amax <= FLT_MAX) || _mm256_movemask_ps(nan)) {
            /* all zero, infinite or NaN: the reference's own path */
            ckpt_act_quant_q8_K_ref(x, y, QK_K);
            continue;
        }
        int first = 0; /* the first element of largest magnitude, sign and all */
        while (first < QK_K && !(x[first] == amax || x[first] == -amax))
            first++;
        const float iscale = first < QK_K ? -127.f / x[first] : 0.0f;
        if (!(fabsf(iscale) <= FLT_MAX && iscale != 0.0f)) { /* denormal rows: as the reference */
            ckpt_act_quant_q8_K_ref(x, y, QK_K);
            continue;
        }
        const __m256 is = _mm256_set1_ps(iscale);
        const __m256i lim = _mm256_set1_epi32(127);
        for (int j = 0; j < QK_K; j += 32) {
            __m256i v[4];
            for (int r = 0; r < 4; r++)
                v[r] = _mm256_min_epi32(
                    lim, _mm256_cvtps_epi32(_mm256_mul_ps(is, _mm256_loadu_ps(x + j + 8 * r))));
            store_i8x32(y + Q8K_QS + j, v[0], v[1], v[2], v[3]);
        }
        for (int j = 0; j < QK_K / 16; j++) {
            const __m128i q = _mm_loadu_si128((const __m128i *)(y + Q8K_QS + 16 * j));
            const __m256i w16 = _mm256_cvtepi8_epi16(q);
            const __m256i s32 = _mm256_madd_epi16(w16, _mm256_set1_epi16(1));
            const int16_t s = (int16_t)hsum_i32(s32);
            memcpy(y + Q8K_BSUMS + 2 * j, &s, 2);
        }
        const float d = 1 / iscale;
        memcpy(y + Q8K_D, &d, 4);
    }
}

void ckpt_act_quant_q8_0_avx2(const float *x, void *vy, int64_t k)
{
    uint8_t *y = vy;
    const __m256 sign = _mm256_set1_ps(-0.0f), half = _mm256_set1_ps(0.5f);
    const __m256 one = _mm256_set1_ps(1.0f);
    for (int64_t b = 0; b < k / 32; b++, x += 32, y += sizeof(block_q8_0)) {
        __m256 v[4], mx = _mm256_setzero_ps(), nan = _mm256_setzero_ps();
        for (int r = 0; r < 4; r++) {
            v[r] = _mm256_loadu_ps(x + 8 * r);
            mx = _mm256_max_ps(mx, _mm256_andnot_ps(sign, v[r]));
            nan = _mm256_or_ps(nan, _mm256_cmp_ps(v[r], v[r], _CMP_UNORD_Q));
        }
        const float amax = hmax_ps(mx);
        if (!(amax <= FLT_MAX) || _mm256_movemask_ps(nan)) { /* the reference's own path */
            ckpt_act_quant_q8_0_ref(x, y, 32);
            continue;
        }
        const float d = amax / ((1 << 7) - 1);
        const float id = d ? 1.0f / d : 0.0f;
        if (!(id <= FLT_MAX)) { /* denormal blocks: as the reference */
            ckpt_act_quant_q8_0_ref(x, y, 32);
            continue;
        }
        const uint16_t dh = ckpt_f32_to_f16(d);
        memcpy(y, &dh, 2);
        const __m256 ids = _mm256_set1_ps(id);
        __m256i q[4];
        for (int r = 0; r < 4; r++) {
            /* roundf: truncate, then step away from zero when |frac| >= 1/2 */
            const __m256 p = _mm256_mul_ps(v[r], ids);
            const __m256 t = _mm256_round_ps(p, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
            const __m256 frac = _mm256_andnot_ps(sign, _mm256_sub_ps(p, t));
            const __m256 up = _mm256_and_ps(_mm256_cmp_ps(frac, half, _CMP_GE_OQ),
                                            _mm256_or_ps(one, _mm256_and_ps(sign, p)));
            q[r] = _mm256_cvttps_epi32(_mm256_add_ps(t, up));
        }
        store_i8x32(y + 2, q[0], q[1], q[2], q[3]);
    }
}
