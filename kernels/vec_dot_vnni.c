/*
 * vec_dot_vnni.c - the single dots of q4_K, q5_K and q6_K against q8_K
 * with AVX-512 VNNI, and the four-row tiles of the k-quants and the
 * 32-element types (q8_0, the legacy types, iq4_nl) for a single position
 * (a decode step), which read four rows side by side.
 *
 * A decode step reads each weight once, and on two threads the block's
 * arithmetic, not the memory, bounded the avx2 dots (vec_dot_avx2.c):
 * q4_K 10.4 ns a block from L2, q6_K 11.9.  Here vpdpbusd sums four
 * products of the unsigned weights and signed activations into an int32
 * lane at once, where maddubs + madd took two operations and a multiply
 * by the scale a third, on 64 elements of a block at a time (512-bit
 * registers, the elements as they lie); the int32 sums of a sub-block's
 * lanes fit int16
 * (q4_K: 4 * 15 * 128, q5_K: 4 * 31 * 128, q6_K: 4 * 63 * 128, all under
 * 32767), so two chunks are packed into one register and weighted by
 * their scales in one vpdpwssd.  The scales and mins of a q4_K block are
 * unpacked with byte shuffles, and the block's two integer sums (scaled
 * quants, mins against bsums) reduced together.  Measured on the AVX-512
 * machine with 256-bit registers, one thread, block from L2: q4_K 10.4 ->
 * 7.0 ns, q6_K 11.9 -> 9.7; on the AMD machine with 512-bit registers,
 * from memory: q4_K 8.3 -> 7.1 ns, q6_K 11.0 -> 9.7.  The four-row q4_K
 * decode tile, from L2 on the AMD machine: 6.1 ns a block with the single
 * dot's sums, 4.7 with k4_scaled_split's.
 *
 * Every integer sum is exact and the float combination is the scalar
 * twin's (vec_dot.c), per block in block order: the bits of
 * ckpt_vec_dot_<type>_q8_K_ref.  Compiled with the avx2 flags and
 * -mavx512f -mavx512bw -mavx512vl -mavx512vnni; reached only through
 * dispatch.c's avx512 table, when the CPU has AVX512_VNNI.
 */
#include "vec_dot.h"

#include <immintrin.h>
#include <stdbool.h>
#include <string.h>

#include "prefetch.h"
#include "quant_blocks.h"
#include "vec_k_avx2.h"
#include "vec_q32_avx2.h"

#define QK_K 256
#define Q8K_QS 4
#define Q8K_BSUMS 260
#define UNROLL _Pragma("GCC unroll 16")
#define Q8_0_BYTES 34 /* a q8_0 activation block */

static inline float q8k_d(const uint8_t *a)
{
    float d;
    memcpy(&d, a, 4);
    return d;
}

static inline uint16_t u16_at(const uint8_t *p)
{
    uint16_t h;
    memcpy(&h, p, 2);
    return h;
}

/* lanes 0 and 1 of a block's two f16 at p (d, dmin) as floats, times dy */
static inline __m128 f16_pair_times(const uint8_t *p, float dy)
{
    uint32_t h;
    memcpy(&h, p, 4);
    return _mm_mul_ps(_mm_cvtph_ps(_mm_cvtsi32_si128((int)h)), _mm_set1_ps(dy));
}

/* The twelve packed scale bytes of a q4_K/q5_K block as sixteen bytes,
 * in every 128-bit lane of v (which holds the block's bytes 4..19 there):
 * scales 0..7, then mins 0..7 (the packing: ck_k4_scales_mins in
 * vec_k_avx2.h).  The four bytes past the twelve are dropped. */
static inline __m512i k4_unpack_scales(__m512i v)
{
    /* dwords: scale bytes 0-3, the shared 8-11, min bytes 4-7, 8-11 again */
    const __m512i a = _mm512_shuffle_epi8(
        v, _mm512_broadcast_i32x4(_mm_setr_epi8(0, 1, 2, 3, 8, 9, 10, 11, 4, 5, 6, 7, 8, 9, 10, 11)));
    /* dwords 1 and 3: the bytes whose top two bits complete scales and mins 4-7 */
    const __m512i b = _mm512_shuffle_epi8(
        v, _mm512_broadcast_i32x4(_mm_setr_epi8(-1, -1, -1, -1, 0, 1, 2, 3, -1, -1, -1, -1, 4, 5, 6,
                                                7)));
    const __m512i lo = _mm512_and_si512(
        _mm512_srlv_epi32(a, _mm512_broadcast_i32x4(_mm_setr_epi32(0, 0, 0, 4))),
        _mm512_broadcast_i32x4(_mm_setr_epi32(0x3f3f3f3f, 0x0f0f0f0f, 0x3f3f3f3f, 0x0f0f0f0f)));
    const __m512i hi = _mm512_and_si512(
        _mm512_srli_epi32(b, 2), _mm512_broadcast_i32x4(_mm_setr_epi32(0, 0x30303030, 0, 0x30303030)));
    return _mm512_or_si512(lo, hi);
}

/* the sixteen scale bytes of the block at p (p + 4: its packed twelve;
 * four bytes past them are read: the block's quants follow) in every
 * 128-bit lane */
static inline __m512i k4_scale_bytes(const uint8_t *p)
{
    return k4_unpack_scales(_mm512_broadcast_i32x4(_mm_loadu_si128((const __m128i *)(const void *)p)));
}

/* The first sixteen bytes of the q4_K/q5_K blocks of four rows rb bytes
 * apart (d, dmin and the twelve packed scale bytes), row r's in 128-bit
 * lane r: the scales of the four unpack from it at once
 * (k4_scale_bytes4), and their d and dmin come out of it with one permute
 * (k4_d_dmin4).  The q4_K decode tile on the AMD machine, two threads,
 * medians of interleaved rounds: one unpack for the four, from L2 68.2 ->
 * 69.6 GB/s, from memory 42.3 -> 43.9; d and dmin from these loads where
 * four 32-bit loads had gone through the stack (four stores and a
 * 128-bit load that no store could forward, so that each block waited
 * for the stores to retire), one thread from L1 3.8 -> 2.7 ns a row's
 * block, two from memory 1.12x. */
static inline __m512i k4_heads4(const uint8_t *p, size_t rb)
{
    __m512i v = _mm512_castsi128_si512(_mm_loadu_si128((const __m128i *)(const void *)p));
    v = _mm512_inserti32x4(v, _mm_loadu_si128((const __m128i *)(const void *)(p + rb)), 1);
    v = _mm512_inserti32x4(v, _mm_loadu_si128((const __m128i *)(const void *)(p + 2 * rb)), 2);
    v = _mm512_inserti32x4(v, _mm_loadu_si128((const __m128i *)(const void *)(p + 3 * rb)), 3);
    return v;
}

/* k4_scale_bytes for the four rows of heads (k4_heads4), row r's in
 * 128-bit lane r; a lane shuffle then spreads each row's to a register of
 * its own. */
static inline __m512i k4_scale_bytes4(__m512i heads)
{
    return k4_unpack_scales(_mm512_bsrli_epi128(heads, 4));
}

/* The f16 pairs (d, dmin) of the four rows of heads, row r's in dword r */
static inline __m128i k4_d_dmin4(__m512i heads)
{
    const __m512i first = _mm512_setr_epi32(0, 4, 8, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
    return _mm512_castsi512_si128(_mm512_permutexvar_epi32(first, heads));
}

static inline __m512i load512(const void *p) { return _mm512_loadu_si512(p); }

/* a 512-bit vector of two 256-bit halves */
static inline __m512i halves(__m256i lo, __m256i hi)
{
    return _mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1);
}

/* int16 lane k: min k/2, the weight of bsums[k] (mins are bytes 8-15 of
 * both halves of sb) */
static inline __m256i k4_bsum_mins(__m256i sb)
{
    return _mm256_shuffle_epi8(sb, _mm256_setr_epi8(8, -1, 8, -1, 9, -1, 9, -1, 10, -1, 10, -1, 11,
                                                    -1, 11, -1, 12, -1, 12, -1, 13, -1, 13, -1, 14,
                                                    -1, 14, -1, 15, -1, 15, -1));
}

/* The sum of every int32 lane of s in lane 0 and of m in lane 1, as floats */
static inline __m128 sums_pair(__m256i s, __m256i m)
{
    const __m256i h = _mm256_hadd_epi32(s, m);
    __m128i t = _mm_add_epi32(_mm256_castsi256_si128(h), _mm256_extracti128_si256(h, 1));
    t = _mm_hadd_epi32(t, t);
    return _mm_cvtepi32_ps(t);
}

/* the int32 lanes of a 512-bit sum folded into eight */
static inline __m256i fold512(__m512i v)
{
    return _mm256_add_epi32(_mm512_castsi512_si256(v), _mm512_extracti64x4_epi64(v, 1));
}

/* Four 512-bit sums s[0..3] added across: dword r of each 128-bit lane of
 * the result holds a part of s[r]'s sum (six adds and unpacks of
 * neighbouring registers where hadd trees take three times the operations
 * for the same integers, exact in any order). */
static inline __m512i sum_lanes4(const __m512i s[4])
{
    const __m512i t01 = _mm512_add_epi32(_mm512_unpacklo_epi32(s[0], s[1]),
                                         _mm512_unpackhi_epi32(s[0], s[1]));
    const __m512i t23 = _mm512_add_epi32(_mm512_unpacklo_epi32(s[2], s[3]),
                                         _mm512_unpackhi_epi32(s[2], s[3]));
    return _mm512_add_epi32(_mm512_unpacklo_epi64(t01, t23), _mm512_unpackhi_epi64(t01, t23));
}

/* A 512-bit register holds the 64 values of chunks 2j and 2j+1 of a
 * q4_K/q5_K block (the low and the high nibbles of qs[32j..32j+31]), the
 * elements 64j..64j+63 in order, so one vpdpbusd meets 64 activations
 * loaded as they lie: int32 lanes 0-7 hold sub-block 2j's sums, 8-15 those
 * of 2j+1.  Two such sums packed to int16 (_mm512_packs_epi32 interleaves
 * 128-bit lanes: lanes 0-1 of the result sub-blocks 2j and 2j+2, lanes 2-3
 * 2j+1 and 2j+3) are weighted by their scales in one vpdpwssd; the byte
 * shuffle of the scale bytes (in every 128-bit lane of sb) that gives
 * those weights is k4_scales_of(sb, 4k, 4k + 2, 4k + 1, 4k + 3) for j = 2k:
 * int16 lanes 0-3 and 4-7 of 128-bit lanes 0-1 weighted by the scales of
 * sub-blocks s0 and s1, of lanes 2-3 by those of s2 and s3. */
static inline __m512i k4_scales_of(__m512i sb, int s0, int s1, int s2, int s3)
{
    const short a = (short)(s0 | 0x8000), b = (short)(s1 | 0x8000), c = (short)(s2 | 0x8000),
                d = (short)(s3 | 0x8000);
    const __m256i lo = _mm256_setr_epi16(a, a, a, a, b, b, b, b, a, a, a, a, b, b, b, b);
    const __m256i hi = _mm256_setr_epi16(c, c, c, c, d, d, d, d, c, c, c, c, d, d, d, d);
    return _mm512_shuffle_epi8(sb, halves(lo, hi));
}

/* The scaled quant sums of one q4_K or q5_K block (qh NULL: q4_K)
 * against its q8_K block, lanes to be added.  sb: the block's scale bytes
 * in every 128-bit lane (k4_scale_bytes). */
static inline __m512i k4_scaled(__m512i sb, const uint8_t *qs, const uint8_t *qh,
                                const uint8_t *a)
{
    const uint8_t *y = a + Q8K_QS;
    const __m512i m4 = _mm512_set1_epi8(0xF), one = _mm512_set1_epi8(1);
    /* the low half keeps the low nibbles, the high half shifts in the high */
    const __m512i nibble = halves(_mm256_setzero_si256(), _mm256_set1_epi16(4));
    const __m512i bits = qh ? _mm512_broadcast_i64x4(ck_load256(qh)) : _mm512_setzero_si512();
    __m512i d[4];
    UNROLL for (int j = 0; j < 4; j++) {
        const __m512i q = _mm512_broadcast_i64x4(ck_load256(qs + 32 * j));
        __m512i v = _mm512_and_si512(_mm512_srlv_epi16(q, nibble), m4);
        if (qh) { /* bit 2j of qh[l] is the fifth of chunk 2j's element l, 2j+1 of 2j+1's */
            const __m512i at = halves(_mm256_set1_epi16((short)(2 * j)),
                                      _mm256_set1_epi16((short)(2 * j + 1)));
            const __m512i hb = _mm512_and_si512(_mm512_srlv_epi16(bits, at), one);
            v = _mm512_or_si512(v, _mm512_slli_epi16(hb, 4));
        }
        d[j] = _mm512_dpbusd_epi32(_mm512_setzero_si512(), v, load512(y + 64 * j));
    }
    __m512i acc = _mm512_setzero_si512();
    UNROLL for (int k = 0; k < 2; k++)
        acc = _mm512_dpwssd_epi32(acc, _mm512_packs_epi32(d[2 * k], d[2 * k + 1]),
                                  k4_scales_of(sb, 4 * k, 4 * k + 2, 4 * k + 1, 4 * k + 3));
    return acc;
}

/* The integer sums of the block, lanes to be added: the scaled quants
 * (*sq) and the mins against the bsums (*sm). */
static inline void k4_sums(__m512i sb, const uint8_t *qs, const uint8_t *qh, const uint8_t *a,
                           __m256i *sq, __m256i *sm)
{
    *sq = fold512(k4_scaled(sb, qs, qh, a));
    *sm = _mm256_madd_epi16(ck_load256(a + Q8K_BSUMS), k4_bsum_mins(_mm512_castsi512_si256(sb)));
}

/* The activations of a q8_K block as a decode step's q4_K sums want
 * them (k4_scaled_split): y[2k] holds elements 128k..128k+31 and
 * 128k+64..128k+95, y[2k+1] 128k+32..128k+63 and 128k+96..128k+127. */
static inline void q8k_split(const uint8_t *a, __m512i y[4])
{
    const uint8_t *q = a + Q8K_QS;
    UNROLL for (int k = 0; k < 2; k++) {
        y[2 * k] = halves(ck_load256(q + 128 * k), ck_load256(q + 128 * k + 64));
        y[2 * k + 1] = halves(ck_load256(q + 128 * k + 32), ck_load256(q + 128 * k + 96));
    }
}

/* k4_scaled of a q4_K block against activations split by q8k_split: 64
 * bytes of qs at once, whose low nibbles are sub-blocks 4k and 4k+2 and
 * high nibbles 4k+1 and 4k+3, so a block takes two loads and two
 * shifts where k4_scaled takes four of each and four masks more.  The
 * integer sums are the same, only gathered in other lanes. */
static inline __m512i k4_scaled_split(const uint8_t *w, __m512i sb, const __m512i y[4])
{
    const __m512i m4 = _mm512_set1_epi8(0xF);
    __m512i acc = _mm512_setzero_si512();
    UNROLL for (int k = 0; k < 2; k++) {
        const __m512i q = load512(w + 16 + 64 * k);
        const __m512i lo = _mm512_dpbusd_epi32(_mm512_setzero_si512(), _mm512_and_si512(q, m4),
                                               y[2 * k]);
        const __m512i hi = _mm512_dpbusd_epi32(_mm512_setzero_si512(),
                                               _mm512_and_si512(_mm512_srli_epi16(q, 4), m4),
                                               y[2 * k + 1]);
        acc = _mm512_dpwssd_epi32(acc, _mm512_packs_epi32(lo, hi),
                                  k4_scales_of(sb, 4 * k, 4 * k + 1, 4 * k + 2, 4 * k + 3));
    }
    return acc;
}

/* One block: sumf += d * sumi - dmin * summ, the twin's operations in its
 * order. */
static inline float k4_block(const uint8_t *w, const uint8_t *qs, const uint8_t *qh,
                             const uint8_t *a, float sumf)
{
    __m256i sq, sm;
    k4_sums(k4_scale_bytes(w + 4), qs, qh, a, &sq, &sm);
    /* (sumi, summ) * (d * dy, dmin * dy), then the difference */
    const __m128 t = _mm_mul_ps(f16_pair_times(w, q8k_d(a)), sums_pair(sq, sm));
    return sumf + _mm_cvtss_f32(_mm_sub_ss(t, _mm_movehdup_ps(t)));
}

float ckpt_vec_dot_q4_K_q8_K_vnni(const void *vw, const void *va, int64_t n)
{
    const uint8_t *w = vw, *a = va;
    float sumf = 0.0f;
    for (int64_t i = 0; i < n / QK_K; i++, w += sizeof(block_q4_K), a += sizeof(block_q8_K)) {
        ck_prefetch_block(w, sizeof(block_q4_K));
        sumf = k4_block(w, w + 16, NULL, a, sumf);
    }
    return sumf;
}

float ckpt_vec_dot_q5_K_q8_K_vnni(const void *vw, const void *va, int64_t n)
{
    const uint8_t *w = vw, *a = va;
    float sumf = 0.0f;
    for (int64_t i = 0; i < n / QK_K; i++, w += sizeof(block_q5_K), a += sizeof(block_q8_K)) {
        ck_prefetch_block(w, sizeof(block_q5_K));
        sumf = k4_block(w, w + 48, w + 16, a, sumf);
    }
    return sumf;
}

/* A half of a q6_K block (128 elements) in two 512-bit registers of 64
 * values in element order (the packing of ck_q6k_half, vec_k_avx2.h: the
 * first holds groups 0 and 1, the second 2 and 3), so each vpdpbusd meets
 * 64 activations as they lie: int32 lanes 4s..4s+3 hold sub-block s's sums
 * (s = 0..3 of the first, 4..7 of the second).  Packed to int16, 128-bit
 * lane L holds sub-blocks L and 4+L; Q6K_PICK is the byte shuffle of the
 * half's eight int16 scales (in every 128-bit lane) that weights them. */
static inline __m512i q6k_pick(void)
{
#define P(s) (short)(2 * (s) | (2 * (s) + 1) << 8)
#define L(s, t) P(s), P(s), P(s), P(s), P(t), P(t), P(t), P(t)
    return halves(_mm256_setr_epi16(L(0, 4), L(1, 5)), _mm256_setr_epi16(L(2, 6), L(3, 7)));
#undef L
#undef P
}

/* The exact integer sum of one q6_K block against its q8_K block, in
 * lanes to be added. */
static inline __m512i q6k_sums(const uint8_t *w, const uint8_t *a)
{
    const __m512i m4 = _mm512_set1_epi8(0xF), m30 = _mm512_set1_epi8(0x30), pick = q6k_pick();
    /* qh's two-bit fields of groups 0 and 1 (low half, high half), 2 and 3,
     * shifted to bits 4-5 of their byte: 16-bit shifts, whose bits carried
     * over from the neighbouring byte never reach bits 4-5 */
    const __m512i up01 = halves(_mm256_set1_epi16(4), _mm256_set1_epi16(2));
    const __m512i down23 = halves(_mm256_setzero_si256(), _mm256_set1_epi16(2));
    const __m256i all = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(w + 192)));
    __m512i acc = _mm512_setzero_si512();
    UNROLL for (int h = 0; h < 2; h++) {
        const __m512i ql = load512(w + 64 * h);
        const __m512i qh = _mm512_broadcast_i64x4(ck_load256(w + 128 + 32 * h));
        const __m512i hi01 = _mm512_and_si512(_mm512_sllv_epi16(qh, up01), m30);
        const __m512i hi23 = _mm512_and_si512(_mm512_srlv_epi16(qh, down23), m30);
        /* (low nibble & 0xF) | hi in one ternary-logic operation: m4 ? a : hi */
        const __m512i q01 = _mm512_ternarylogic_epi32(m4, ql, hi01, 0xCA);
        const __m512i q23 = _mm512_ternarylogic_epi32(m4, _mm512_srli_epi16(ql, 4), hi23, 0xCA);
        const uint8_t *y = a + Q8K_QS + 128 * h;
        const __m512i d01 = _mm512_dpbusd_epi32(_mm512_setzero_si512(), q01, load512(y));
        const __m512i d23 = _mm512_dpbusd_epi32(_mm512_setzero_si512(), q23, load512(y + 64));
        /* the scales of sub-blocks 8h..8h+7 in every 128-bit lane */
        const __m512i s16 = _mm512_broadcast_i32x4(h ? _mm256_extracti128_si256(all, 1)
                                                      : _mm256_castsi256_si128(all));
        acc = _mm512_dpwssd_epi32(acc, _mm512_packs_epi32(d01, d23),
                                  _mm512_shuffle_epi8(s16, pick));
    }
    /* q - 32: 32 * the scaled sums of the activations, from bsums */
    const __m256i off = _mm256_slli_epi32(_mm256_madd_epi16(ck_load256(a + Q8K_BSUMS), all), 5);
    return _mm512_sub_epi32(acc, _mm512_zextsi256_si512(off));
}

/* The products (d * dy) * sumi of four blocks `stride` bytes apart (w the
 * first; d the f16 at d_at of each) with integer sums s[0..3], in lanes
 * 0-3: each the twin's operations (q6_K, q3_K) */
static inline __m128 d_sumi4(const uint8_t *w, size_t stride, size_t d_at, const __m512i s[4],
                             __m128 dy)
{
    const __m512i t = sum_lanes4(s);
    const __m256i h = fold512(t);
    const __m128i sums = _mm_add_epi32(_mm256_castsi256_si128(h), _mm256_extracti128_si256(h, 1));
    const __m128i dh = _mm_setr_epi16((short)u16_at(w + d_at), (short)u16_at(w + stride + d_at),
                                      (short)u16_at(w + 2 * stride + d_at),
                                      (short)u16_at(w + 3 * stride + d_at), 0, 0, 0, 0);
    return _mm_mul_ps(_mm_mul_ps(_mm_cvtph_ps(dh), dy), _mm_cvtepi32_ps(sums));
}

float ckpt_vec_dot_q6_K_q8_K_vnni(const void *vw, const void *va, int64_t n)
{
    const uint8_t *w = vw, *a = va;
    const int64_t nb = n / QK_K;
    const size_t bw = sizeof(block_q6_K), ba = sizeof(block_q8_K);
    float sumf = 0.0f;
    int64_t i = 0;
    /* four blocks at once: their sums reduced together and the four
     * products (d * dy) * sumi formed in the lanes of one register, each
     * the twin's operations, added to sumf in block order (one thread of
     * the AMD machine: 10.4 -> 9.5 ns a block; the same for q4_K measured
     * slower) */
    for (; i + 4 <= nb; i += 4, w += 4 * bw, a += 4 * ba) {
        ck_prefetch_block(w, 4 * sizeof(block_q6_K));
        __m512i s[4];
        UNROLL for (int b = 0; b < 4; b++)
            s[b] = q6k_sums(w + b * bw, a + b * ba);
        const __m128 dy = _mm_setr_ps(q8k_d(a), q8k_d(a + ba), q8k_d(a + 2 * ba), q8k_d(a + 3 * ba));
        const __m128 t = d_sumi4(w, bw, 208, s, dy);
        sumf += _mm_cvtss_f32(t);
        sumf += _mm_cvtss_f32(_mm_shuffle_ps(t, t, 1));
        sumf += _mm_cvtss_f32(_mm_movehl_ps(t, t));
        sumf += _mm_cvtss_f32(_mm_shuffle_ps(t, t, 3));
    }
    for (; i < nb; i++, w += bw, a += ba) {
        ck_prefetch_block(w, sizeof(block_q6_K));
        const int32_t sumi = _mm512_reduce_add_epi32(q6k_sums(w, a));
        sumf += _cvtsh_ss(u16_at(w + 208)) * q8k_d(a) * (float)sumi;
    }
    return sumf;
}

/* ==== 32-element types x q8_0, four rows against one position (a decode
 * step) ====
 * The avx2 decode kernel's lanes (vec_tile_q8_avx2.c), two rows to a
 * 512-bit register: each block of a row is eight int32 lane sums of four
 * products, times the float d_w * d_y (the four rows' scales widened at
 * once), for the offset types q4_1 and q5_1 plus (m_w * d_y) times the
 * lane sums of y, added to the lane: the same operations per lane in the
 * same order, so the same bits.  The two rows' values are formed in one
 * register (q32_two), unsigned: q8_0's by one vpdpbusd of |w| with y
 * signed by w; q4_0's, q5_0's and iq4_nl's with a bias b (8, 16, 128)
 * that leaves each lane's (w + b) . y, from which b times the lane sums of
 * y (one vpdpbusd a block, shared by the four rows) is taken again: each
 * lane's integer the avx2 kernel's, exactly.  Against the values of one
 * row at a time, signed: the q4_0 decode tile on rows of 4096, two
 * threads, from L2 36-38 -> 39-50 GB/s; the decode steps of the bench
 * model at Q4_0 1.2x, at IQ4_NL 1.25x, Q5_0 1.1x. */

/* the 32 values of the blocks at p and p + rb (16 bytes of nibbles at
 * `at` in each: low nibbles elements 0-15, high 16-31), row p's in the low
 * half, unsigned 0..15 */
static inline __m512i nibbles_two(const uint8_t *p, size_t rb, int at)
{
    const __m256i t = _mm256_inserti128_si256(
        _mm256_castsi128_si256(_mm_loadu_si128((const __m128i *)(const void *)(p + at))),
        _mm_loadu_si128((const __m128i *)(const void *)(p + rb + at)), 1);
    /* each row's sixteen bytes twice, the second copy shifted down a nibble */
    const __m512i z =
        _mm512_permutexvar_epi64(_mm512_setr_epi64(0, 1, 0, 1, 2, 3, 2, 3), _mm512_castsi256_si512(t));
    return _mm512_and_si512(_mm512_srlv_epi64(z, _mm512_setr_epi64(0, 0, 4, 4, 0, 0, 4, 4)),
                            _mm512_set1_epi8(0xF));
}

static inline __m512i fifth_two(const uint8_t *p, size_t rb, int at)
{
    return _mm512_inserti64x4(_mm512_castsi256_si512(fifth_bits(p + at)), fifth_bits(p + rb + at), 1);
}

/* two rows' values as decode_q32 takes them: q8_0 signed; the others
 * unsigned, biased by q32_bias */
static inline __m512i two_q8_0(const uint8_t *p, size_t rb)
{
    return _mm512_inserti64x4(_mm512_castsi256_si512(values_q8_0(p)), values_q8_0(p + rb), 1);
}
static inline __m512i two_q4_0(const uint8_t *p, size_t rb) { return nibbles_two(p, rb, 2); }
static inline __m512i two_q4_1(const uint8_t *p, size_t rb) { return nibbles_two(p, rb, 4); }
static inline __m512i two_q5_0(const uint8_t *p, size_t rb)
{
    return _mm512_or_si512(nibbles_two(p, rb, 6), fifth_two(p, rb, 2));
}
static inline __m512i two_q5_1(const uint8_t *p, size_t rb)
{
    return _mm512_or_si512(nibbles_two(p, rb, 8), fifth_two(p, rb, 4));
}
static inline __m512i two_iq4_nl(const uint8_t *p, size_t rb)
{
    /* the levels plus 128, unsigned (the bias) */
    const __m512i levels = _mm512_add_epi8(
        _mm512_broadcast_i32x4(_mm_loadu_si128((const __m128i *)(const void *)ckpt_kvalues_iq4nl)),
        _mm512_set1_epi8(-128));
    return _mm512_shuffle_epi8(levels, nibbles_two(p, rb, 2));
}

typedef __m512i (*q32_two_fn)(const uint8_t *p, size_t rb);

/* a row pair's block p (and p + rb) against y: lane += scale * sum
 * [+ mscale * ysum]; bias_y: the bias times y's lane sums (bias > 0) */
static inline __attribute__((always_inline)) void
q32_pair(q32_two_fn two, int bias, bool offset, const uint8_t *p, size_t rb, __m512i y,
         __m512i bias_y, __m512 scale, __m512 mscale, __m512 ysum, __m512 *lane)
{
    const __m512i x = two(p, rb);
    __m512i d;
    if (bias > 0)
        d = _mm512_sub_epi32(_mm512_dpbusd_epi32(_mm512_setzero_si512(), x, y), bias_y);
    else if (offset)
        d = _mm512_dpbusd_epi32(_mm512_setzero_si512(), x, y);
    else
        d = _mm512_dpbusd_epi32(_mm512_setzero_si512(), _mm512_abs_epi8(x),
                                _mm512_mask_sub_epi8(y, _mm512_movepi8_mask(x), _mm512_setzero_si512(), y));
    __m512 t = _mm512_mul_ps(scale, _mm512_cvtepi32_ps(d));
    if (offset)
        t = _mm512_add_ps(t, _mm512_mul_ps(mscale, ysum));
    *lane = _mm512_add_ps(*lane, t);
}

/* the f16 at p of four rows rb bytes apart, as floats times dy */
static inline __m128 four_f16_times(const uint8_t *p, size_t rb, float dy)
{
    __m128i h = _mm_cvtsi32_si128(u16_at(p));
    h = _mm_insert_epi16(h, u16_at(p + rb), 1);
    h = _mm_insert_epi16(h, u16_at(p + 2 * rb), 2);
    h = _mm_insert_epi16(h, u16_at(p + 3 * rb), 3);
    return _mm_mul_ps(_mm_cvtph_ps(h), _mm_set1_ps(dy));
}

/* blocks of bs bytes, d at byte 0, m at byte m_at (0: none); values by
 * two, biased by bias (0: q8_0's signed values or an offset type's) */
static inline __attribute__((always_inline)) void
decode_q32(q32_two_fn two, int bias, size_t bs, int m_at, const uint8_t *w, size_t rb,
           const uint8_t *act, int64_t n, float out[4])
{
    const bool offset = m_at != 0;
    const __m512i pick01 = halves(_mm256_set1_epi32(0), _mm256_set1_epi32(1));
    const __m512i pick23 = halves(_mm256_set1_epi32(2), _mm256_set1_epi32(3));
    __m512 lane01 = _mm512_setzero_ps(), lane23 = _mm512_setzero_ps();
    for (int64_t j = 0; j < n / 32; j++, w += bs, act += Q8_0_BYTES) {
        const bool ahead = (j * bs) % 64 < bs; /* once per line of each row */
        if (ahead) {
            ck_prefetch_row(w);
            ck_prefetch_row(w + rb);
        }
        const __m512i y = _mm512_broadcast_i64x4(ck_load256(act + 2));
        const float dy = _cvtsh_ss(u16_at(act));
        const __m512 d = _mm512_castps128_ps512(four_f16_times(w, rb, dy));
        const __m512 m = offset ? _mm512_castps128_ps512(four_f16_times(w + m_at, rb, dy))
                                : _mm512_setzero_ps();
        const __m512i ysum_i = bias > 0 || offset ? _mm512_dpbusd_epi32(_mm512_setzero_si512(),
                                                                        _mm512_set1_epi8(1), y)
                                                  : _mm512_setzero_si512();
        /* the biases are powers of two */
        const __m512i bias_y = bias > 0 ? _mm512_slli_epi32(ysum_i, (unsigned)__builtin_ctz((unsigned)bias))
                                        : _mm512_setzero_si512();
        const __m512 ysum = offset ? _mm512_cvtepi32_ps(ysum_i) : _mm512_setzero_ps();
        q32_pair(two, bias, offset, w, rb, y, bias_y, _mm512_permutexvar_ps(pick01, d),
                 _mm512_permutexvar_ps(pick01, m), ysum, &lane01);
        if (ahead) {
            ck_prefetch_row(w + 2 * rb);
            ck_prefetch_row(w + 3 * rb);
        }
        q32_pair(two, bias, offset, w + 2 * rb, rb, y, bias_y, _mm512_permutexvar_ps(pick23, d),
                 _mm512_permutexvar_ps(pick23, m), ysum, &lane23);
    }
    float l[32];
    _mm512_storeu_ps(l, lane01);
    _mm512_storeu_ps(l + 16, lane23);
    for (int r = 0; r < 4; r++) {
        const float *lr = l + 8 * r;
        out[r] = ((lr[0] + lr[4]) + (lr[2] + lr[6])) + ((lr[1] + lr[5]) + (lr[3] + lr[7]));
    }
}

#define DECODE_Q32(T, BIAS, M_AT)                                                                  \
    static void decode_##T(const uint8_t *w, size_t rb, const uint8_t *act, int64_t n,            \
                           float out[4])                                                           \
    {                                                                                              \
        decode_q32(two_##T, BIAS, sizeof(block_##T), M_AT, w, rb, act, n, out);                    \
    }
DECODE_Q32(q8_0, 0, 0)
DECODE_Q32(q4_0, 8, 0)
DECODE_Q32(q4_1, 0, 2)
DECODE_Q32(q5_0, 16, 0)
DECODE_Q32(q5_1, 0, 2)
DECODE_Q32(iq4_nl, 128, 0)
#undef DECODE_Q32

/* ==== k-quants, four rows against one position (a decode step) ====
 * The four rows advance side by side, a block of each at a time: four
 * streams of the memory's lines in flight where a row after a row kept
 * one, and the activation block read once for the four.  The int32 sums
 * of the four blocks are reduced together (integer sums: exact in any
 * order) and each row's float steps are the single dot's, in the lanes of
 * one register, added to that row's sum in block order: every output has
 * the single dot's bits. */

/* (sumi_0, summ_0, sumi_1, summ_1 | sumi_2, summ_2, sumi_3, summ_3) as
 * floats, from s and m whose 128-bit lanes each hold a part of row r's
 * sumi (s) and summ (m) in dword r (the layout sum_lanes4 leaves): the
 * 128-bit lanes folded, then the two interleaved. */
static inline __m256 sums_mins4(__m512i s, __m512i m)
{
    /* the 128-bit lanes folded: [s (rows 0-3), m (rows 0-3)] */
    const __m512i z = _mm512_add_epi32(_mm512_shuffle_i32x4(s, m, _MM_SHUFFLE(1, 0, 1, 0)),
                                       _mm512_shuffle_i32x4(s, m, _MM_SHUFFLE(3, 2, 3, 2)));
    const __m512i zz = _mm512_shuffle_i32x4(z, z, _MM_SHUFFLE(3, 1, 2, 0));
    const __m256i sm =
        _mm256_add_epi32(_mm512_castsi512_si256(zz), _mm512_extracti64x4_epi64(zz, 1));
    return _mm256_cvtepi32_ps(
        _mm256_permutevar8x32_epi32(sm, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7)));
}

/* The integer sums of four rows' blocks as the float steps want them:
 * (sumi_0, summ_0, sumi_1, summ_1 | sumi_2, summ_2, sumi_3, summ_3).
 * acc[r]: row r's scaled quant sums (k4_scaled, any lanes); s4: the
 * rows' scale bytes (k4_scale_bytes4); a: the q8_K block.  The mins of
 * the four meet the bsums' pair sums (a sub-block's two; at most 2 * 16 *
 * 128 each, an int16) in one multiply, whose 128-bit lane L holds rows
 * 0-3's terms of sub-blocks 2L and 2L+1 in its dwords: the layout the
 * quant sums are left in by sum_lanes4, so one fold of the 128-bit
 * lanes reduces both.  Exact integer sums, so the same values as a row at
 * a time (there, one register's sum per row and two hadd trees: the q4_K
 * decode tile from L1 1.05x). */
static inline __m256 k4_four_sums(const __m512i acc[4], __m512i s4, const uint8_t *a)
{
    const __m512i mins16 = _mm512_broadcast_i32x4(
        _mm_setr_epi8(8, -1, 9, -1, 10, -1, 11, -1, 12, -1, 13, -1, 14, -1, 15, -1));
    const __m512i transpose =
        _mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
    const __m512i spread = _mm512_setr_epi32(0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3);
    /* int16 pair L of lane r: row r's mins 2L, 2L+1; moved to dword 4L + r */
    const __m512i mins = _mm512_permutexvar_epi32(transpose, _mm512_shuffle_epi8(s4, mins16));
    const __m256i pair = _mm256_madd_epi16(ck_load256(a + Q8K_BSUMS), _mm256_set1_epi16(1));
    const __m128i b2 =
        _mm_packs_epi32(_mm256_castsi256_si128(pair), _mm256_extracti128_si256(pair, 1));
    const __m512i m =
        _mm512_madd_epi16(mins, _mm512_permutexvar_epi32(spread, _mm512_castsi128_si512(b2)));
    /* dword r of each 128-bit lane: a part of row r's quant sum */
    return sums_mins4(sum_lanes4(acc), m);
}

/* q4_K (qh_at < 0) and q5_K: the quants at qs_at, the fifth bits at qh_at
 * of each bs-byte block (inlined into each: the q4_K loop without q5_K's
 * tests) */
static inline __attribute__((always_inline)) void
decode_k4(const uint8_t *w, size_t rb, const uint8_t *a, int64_t n, size_t bs, int qs_at,
          int qh_at, float out[4])
{
    __m256 sumf = _mm256_setzero_ps(); /* row r in lane 2r */
    for (int64_t i = 0; i < n / QK_K; i++, w += bs, a += sizeof(block_q8_K)) {
        __m512i acc[4];
        /* the four rows' scales unpacked at once, then row r's spread to
         * every lane of sb[r] */
        const __m512i heads = k4_heads4(w, rb);
        const __m512i s4 = k4_scale_bytes4(heads);
        const __m512i sb[4] = {_mm512_shuffle_i32x4(s4, s4, 0x00), _mm512_shuffle_i32x4(s4, s4, 0x55),
                               _mm512_shuffle_i32x4(s4, s4, 0xAA), _mm512_shuffle_i32x4(s4, s4, 0xFF)};
        if (qh_at < 0) { /* q4_K: the activations split once for the four rows */
            __m512i y[4];
            q8k_split(a, y);
            UNROLL for (int r = 0; r < 4; r++) {
                ck_prefetch_row_block(w + r * rb, bs);
                acc[r] = k4_scaled_split(w + r * rb, sb[r], y);
            }
        } else {
            UNROLL for (int r = 0; r < 4; r++) {
                const uint8_t *b = w + r * rb;
                ck_prefetch_row_block(b, bs);
                acc[r] = k4_scaled(sb[r], b + qs_at, b + qh_at, a);
            }
        }
        /* (sumi, summ) * (d * dy, dmin * dy) per row, then the difference */
        const __m256 dd =
            _mm256_mul_ps(_mm256_cvtph_ps(k4_d_dmin4(heads)), _mm256_set1_ps(q8k_d(a)));
        const __m256 t = _mm256_mul_ps(dd, k4_four_sums(acc, s4, a));
        sumf = _mm256_add_ps(sumf, _mm256_sub_ps(t, _mm256_movehdup_ps(t)));
    }
    float l[8];
    _mm256_storeu_ps(l, sumf);
    for (int r = 0; r < 4; r++)
        out[r] = l[2 * r];
}

static void decode_q6_K(const uint8_t *w, size_t rb, const uint8_t *a, int64_t n, float out[4])
{
    const size_t bs = sizeof(block_q6_K);
    __m128 sumf = _mm_setzero_ps(); /* row r in lane r */
    for (int64_t i = 0; i < n / QK_K; i++, w += bs, a += sizeof(block_q8_K)) {
        __m512i s[4];
        UNROLL for (int r = 0; r < 4; r++) {
            ck_prefetch_row_block(w + r * rb, bs);
            s[r] = q6k_sums(w + r * rb, a);
        }
        /* the four rows' blocks against one activation block */
        sumf = _mm_add_ps(sumf, d_sumi4(w, rb, 208, s, _mm_set1_ps(q8k_d(a))));
    }
    _mm_storeu_ps(out, sumf);
}

/* ---- q2_K and q3_K: sixteen sub-blocks of 16 two-bit values ----
 * Chunk s of half h (elements 128h + 32s .. +31) is (qs[32h + l] >> 2s) &
 * 3; a 512-bit register holds chunks 2j and 2j+1, elements 128h + 64j ..
 * +63 in order, so one vpdpbusd meets 64 activations as they lie: int32
 * lane i holds four products of sub-block 8h + 4j + i/4.  Packed to int16
 * (each lane at most 4 * 7 * 128), the two registers of a half put
 * sub-blocks 8h + L and 8h + 4 + L in 128-bit lane L, weighted by their
 * scales (k16_scales_of) in one vpdpwssd.  Exact integer sums: the twins'
 * values in any order. */

/* int16 lane w of 128-bit lane L: the word of sc16 (a row's sixteen, one
 * per sub-block, from word base on) for sub-block 8h + L + 4 * (w / 4) */
static inline __m512i k16_scales_of(__m512i sc16, int base, int h)
{
#define A(L) (short)(base + 8 * h + (L))
#define B(L) (short)(base + 8 * h + 4 + (L))
#define LANE(L) A(L), A(L), A(L), A(L), B(L), B(L), B(L), B(L)
    const __m512i idx = halves(_mm256_setr_epi16(LANE(0), LANE(1)), _mm256_setr_epi16(LANE(2), LANE(3)));
#undef LANE
#undef B
#undef A
    return _mm512_permutexvar_epi16(idx, sc16);
}

/* chunks 2j and 2j+1 of the two-bit half q (qs[32h..32h+31] in both
 * 256-bit halves), one per half */
static inline __m512i two_bit_pair(__m512i q, int j)
{
    const __m512i shift = halves(_mm256_set1_epi16((short)(4 * j)), _mm256_set1_epi16((short)(4 * j + 2)));
    return _mm512_and_si512(_mm512_srlv_epi16(q, shift), _mm512_set1_epi8(3));
}

/* The scaled sums of a two-bit block's values u (two_bit_pair; with hm,
 * q3_K's high bits as 4) against its q8_K block y, the scales the words
 * base.. of sc16: lanes to be added */
static inline __m512i k16_scaled(const uint8_t *qs, const __m512i *hm, __m512i sc16, int base,
                                 const uint8_t *y)
{
    __m512i acc = _mm512_setzero_si512();
    UNROLL for (int h = 0; h < 2; h++) {
        const __m512i q = _mm512_broadcast_i64x4(ck_load256(qs + 32 * h));
        __m512i d[2];
        UNROLL for (int j = 0; j < 2; j++) {
            __m512i u = two_bit_pair(q, j);
            if (hm) { /* q3_K: bit G = 4h + 2j (+1 in the high half) of hmask[l], as 4 */
                const int G = 4 * h + 2 * j;
                const __m512i b =
                    G >= 2 ? _mm512_srlv_epi16(*hm, halves(_mm256_set1_epi16((short)(G - 2)),
                                                           _mm256_set1_epi16((short)(G - 1))))
                           : _mm512_sllv_epi16(*hm, halves(_mm256_set1_epi16((short)(2 - G)),
                                                           _mm256_set1_epi16((short)(1 - G))));
                u = _mm512_ternarylogic_epi32(u, b, _mm512_set1_epi8(4), 0xF8); /* u | (b & 4) */
            }
            d[j] = _mm512_dpbusd_epi32(_mm512_setzero_si512(), u, load512(y + 128 * h + 64 * j));
        }
        acc = _mm512_dpwssd_epi32(acc, _mm512_packs_epi32(d[0], d[1]), k16_scales_of(sc16, base, h));
    }
    return acc;
}

/* The sixteen signed scales of four q3_K blocks rb bytes apart (w the
 * first) as int16: rows 0 and 1 in words 0-15 and 16-31 of sc[0], rows 2
 * and 3 of sc[1].  Each row's scales[12] (quant_blocks.h) in a 128-bit
 * lane: the low four bits from bytes 0-7 (nibble j, j - 8), the top two
 * from bytes 8-11 (byte j % 4, bits 2(j / 4)), minus 32.  The loads stay
 * inside the blocks (bytes 94-109, the scales at 2-13). */
static inline void q3k_scales4(const uint8_t *w, size_t rb, __m512i sc[2])
{
    __m512i v = _mm512_castsi128_si512(_mm_loadu_si128((const __m128i *)(const void *)(w + 94)));
    v = _mm512_inserti32x4(v, _mm_loadu_si128((const __m128i *)(const void *)(w + rb + 94)), 1);
    v = _mm512_inserti32x4(v, _mm_loadu_si128((const __m128i *)(const void *)(w + 2 * rb + 94)), 2);
    v = _mm512_inserti32x4(v, _mm_loadu_si128((const __m128i *)(const void *)(w + 3 * rb + 94)), 3);
    v = _mm512_bsrli_epi128(v, 2);
    const __m512i m4 = _mm512_set1_epi8(0xF);
    const __m512i lo = _mm512_unpacklo_epi64(_mm512_and_si512(v, m4),
                                             _mm512_and_si512(_mm512_srli_epi16(v, 4), m4));
    /* dword g of a lane: bytes 8-11 shifted by 2g, so byte 4g + b holds
     * bits 2g, 2g+1 of byte 8 + b in its bits 0-1 */
    const __m512i top = _mm512_shuffle_epi32(v, _MM_PERM_CCCC);
    const __m512i hi = _mm512_and_si512(
        _mm512_srlv_epi32(top, _mm512_broadcast_i32x4(_mm_setr_epi32(0, 2, 4, 6))), _mm512_set1_epi8(3));
    const __m512i s8 = _mm512_sub_epi8(_mm512_or_si512(lo, _mm512_slli_epi16(hi, 4)), _mm512_set1_epi8(32));
    sc[0] = _mm512_cvtepi8_epi16(_mm512_castsi512_si256(s8));
    sc[1] = _mm512_cvtepi8_epi16(_mm512_extracti64x4_epi64(s8, 1));
}

/* q3_K: with u = low2 | high << 2 (0..7) and q = u - 4, a block's sum is
 * sum_g sc_g (u . y)_g - 4 sum_g sc_g bsums_g; the four rows' scales are
 * unpacked at once (q3k_scales4; the tile on rows of 4096 from L2, two
 * threads, 1.1x against a row at a time), and the second term of two rows
 * in one multiply-add, each row's eight dwords subtracted from its sums
 * under a mask. */
static void decode_q3_K(const uint8_t *w, size_t rb, const uint8_t *a, int64_t n, float out[4])
{
    const size_t bs = sizeof(block_q3_K);
    __m128 sumf = _mm_setzero_ps(); /* row r in lane r */
    for (int64_t i = 0; i < n / QK_K; i++, w += bs, a += sizeof(block_q8_K)) {
        __m512i sc[2], off[2], s[4];
        q3k_scales4(w, rb, sc);
        const __m512i bsums = _mm512_broadcast_i64x4(ck_load256(a + Q8K_BSUMS));
        UNROLL for (int k = 0; k < 2; k++) /* rows 2k, 2k+1 in dwords 0-7, 8-15 */
            off[k] = _mm512_slli_epi32(_mm512_madd_epi16(bsums, sc[k]), 2);
        UNROLL for (int r = 0; r < 4; r++) {
            const uint8_t *b = w + r * rb;
            ck_prefetch_row_block(b, bs);
            const __m512i hm = _mm512_broadcast_i64x4(ck_load256(b));
            const __m512i acc = k16_scaled(b + 32, &hm, sc[r / 2], 16 * (r % 2), a + Q8K_QS);
            s[r] = _mm512_mask_sub_epi32(acc, r % 2 ? 0xFF00 : 0x00FF, acc, off[r / 2]);
        }
        sumf = _mm_add_ps(sumf, d_sumi4(w, rb, 108, s, _mm_set1_ps(q8k_d(a))));
    }
    _mm_storeu_ps(out, sumf);
}

/* The f16 pairs (d, dmin) at `at` of four blocks rb bytes apart, row r's
 * in dword r (one 32-bit load a row, into the register: no stores for a
 * later load to wait on, as k4_heads4 explains) */
static inline __m128i d_dmin4(const uint8_t *w, size_t rb, size_t at)
{
    uint32_t p0, p1, p2, p3;
    memcpy(&p0, w + at, 4);
    memcpy(&p1, w + rb + at, 4);
    memcpy(&p2, w + 2 * rb + at, 4);
    memcpy(&p3, w + 3 * rb + at, 4);
    __m128i v = _mm_cvtsi32_si128((int)p0);
    v = _mm_insert_epi32(v, (int)p1, 1);
    v = _mm_insert_epi32(v, (int)p2, 2);
    return _mm_insert_epi32(v, (int)p3, 3);
}

/* q2_K: the scales in the low nibbles of bytes 0-15, the mins in the high
 * ones; sumi against the values, summ = sum_g m_g bsums_g, then the twin's
 * (d * dy) * sumi - (dmin * dy) * summ, four rows in the lanes of one
 * register (as decode_k4).  The four rows' scale bytes are unpacked at
 * once (k4_heads4: the first sixteen bytes of each block), two rows to a
 * register of int16. */
static void decode_q2_K(const uint8_t *w, size_t rb, const uint8_t *a, int64_t n, float out[4])
{
    const size_t bs = sizeof(block_q2_K);
    const __m512i m4 = _mm512_set1_epi8(0xF);
    __m256 sumf = _mm256_setzero_ps(); /* row r in lane 2r */
    for (int64_t i = 0; i < n / QK_K; i++, w += bs, a += sizeof(block_q8_K)) {
        const __m512i heads = k4_heads4(w, rb);
        const __m512i sc8 = _mm512_and_si512(heads, m4);
        const __m512i mn8 = _mm512_and_si512(_mm512_srli_epi16(heads, 4), m4);
        /* rows 2k, 2k+1: scales in words 0-15, 16-31 of sc[k]; their
         * mins against the bsums in dwords 0-7, 8-15 of mm[k] */
        const __m512i sc[2] = {_mm512_cvtepu8_epi16(_mm512_castsi512_si256(sc8)),
                               _mm512_cvtepu8_epi16(_mm512_extracti64x4_epi64(sc8, 1))};
        const __m512i bsums = _mm512_broadcast_i64x4(ck_load256(a + Q8K_BSUMS));
        const __m512i mm[2] = {
            _mm512_madd_epi16(bsums, _mm512_cvtepu8_epi16(_mm512_castsi512_si256(mn8))),
            _mm512_madd_epi16(bsums, _mm512_cvtepu8_epi16(_mm512_extracti64x4_epi64(mn8, 1)))};
        __m512i acc[4], mins[4];
        UNROLL for (int r = 0; r < 4; r++) {
            const uint8_t *b = w + r * rb;
            ck_prefetch_row_block(b, bs);
            mins[r] = _mm512_maskz_mov_epi32(r % 2 ? 0xFF00 : 0x00FF, mm[r / 2]);
            acc[r] = k16_scaled(b + 16, NULL, sc[r / 2], 16 * (r % 2), a + Q8K_QS);
        }
        const __m256 dd = _mm256_mul_ps(_mm256_cvtph_ps(d_dmin4(w, rb, 80)), _mm256_set1_ps(q8k_d(a)));
        const __m256 t = _mm256_mul_ps(dd, sums_mins4(sum_lanes4(acc), sum_lanes4(mins)));
        sumf = _mm256_add_ps(sumf, _mm256_sub_ps(t, _mm256_movehdup_ps(t)));
    }
    float l[8];
    _mm256_storeu_ps(l, sumf);
    for (int r = 0; r < 4; r++)
        out[r] = l[2 * r];
}

static void decode_q4_K(const uint8_t *w, size_t rb, const uint8_t *a, int64_t n, float out[4])
{
    decode_k4(w, rb, a, n, sizeof(block_q4_K), 16, -1, out);
}

static void decode_q5_K(const uint8_t *w, size_t rb, const uint8_t *a, int64_t n, float out[4])
{
    decode_k4(w, rb, a, n, sizeof(block_q5_K), 48, 16, out);
}

/* The four-row tiles: a single position through the decode kernels above,
 * more than one through the avx2 tile, whose values are the same. */
#define TILE_VNNI(T, ACT)                                                                          \
    void ckpt_vec_tile_##T##_##ACT##_vnni(const void *w, size_t row_bytes, const void *act,        \
                                          size_t act_stride, int64_t n, int np, float *out)        \
    {                                                                                              \
        if (np > 1)                                                                                \
            ckpt_vec_tile_##T##_##ACT##_avx2(w, row_bytes, act, act_stride, n, np, out);           \
        else                                                                                       \
            decode_##T(w, row_bytes, act, n, out);                                                 \
    }
TILE_VNNI(q2_K, q8_K)
TILE_VNNI(q3_K, q8_K)
TILE_VNNI(q4_K, q8_K)
TILE_VNNI(q5_K, q8_K)
TILE_VNNI(q6_K, q8_K)
TILE_VNNI(q8_0, q8_0)
TILE_VNNI(q4_0, q8_0)
TILE_VNNI(q4_1, q8_0)
TILE_VNNI(q5_0, q8_0)
TILE_VNNI(q5_1, q8_0)
TILE_VNNI(iq4_nl, q8_0)
#undef TILE_VNNI
