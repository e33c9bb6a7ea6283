/*
 * vec_q32_avx2.h - the weight values of the 32-element block types in AVX2
 * registers, for the single dots (vec_dot_avx2.c) and the tiles
 * (vec_tile_q8_avx2.c, vec_tile_q8_vnni.c) alike.  Private to kernels/;
 * only for files built with -mavx2.
 */
#ifndef CKPT_KERNELS_VEC_Q32_AVX2_H
#define CKPT_KERNELS_VEC_Q32_AVX2_H

#include <immintrin.h>
#include <stdint.h>
#include <string.h>

#include "quant_blocks.h"

/* The 32 nibbles of a 16-byte q4-style block in element order: low
 * nibbles are elements 0..15, high nibbles 16..31. */
static inline __m256i nibbles32(const uint8_t *qs)
{
    const __m128i m4 = _mm_set1_epi8(0xF);
    const __m128i b = _mm_loadu_si128((const __m128i *)qs);
    return _mm256_set_m128i(_mm_and_si128(_mm_srli_epi16(b, 4), m4), _mm_and_si128(b, m4));
}

/* 0x10 in byte j where bit j of the little-endian u32 at p is set (the
 * 5th bits of q5_0/q5_1). */
static inline __m256i fifth_bits(const uint8_t *p)
{
    uint32_t x;
    memcpy(&x, p, 4);
    const __m256i spread = _mm256_set_epi64x(0x0303030303030303, 0x0202020202020202,
                                             0x0101010101010101, 0x0000000000000000);
    const __m256i bit = _mm256_set1_epi64x((long long)0x8040201008040201ull);
    const __m256i b = _mm256_and_si256(_mm256_shuffle_epi8(_mm256_set1_epi32((int)x), spread), bit);
    return _mm256_and_si256(_mm256_cmpeq_epi8(b, bit), _mm256_set1_epi8(0x10));
}

/* The values of one block, as the single dots of vec_dot_avx2.c form them:
 * signed for q8_0, q4_0, q5_0 and iq4_nl, unsigned for q4_1 and q5_1. */
static inline __m256i values_q8_0(const uint8_t *b)
{
    return _mm256_loadu_si256((const __m256i *)(b + 2));
}
static inline __m256i values_q4_0(const uint8_t *b)
{
    return _mm256_sub_epi8(nibbles32(b + 2), _mm256_set1_epi8(8));
}
static inline __m256i values_q4_1(const uint8_t *b) { return nibbles32(b + 4); }
static inline __m256i values_q5_0(const uint8_t *b)
{
    return _mm256_sub_epi8(_mm256_or_si256(nibbles32(b + 6), fifth_bits(b + 2)),
                           _mm256_set1_epi8(16));
}
static inline __m256i values_q5_1(const uint8_t *b)
{
    return _mm256_or_si256(nibbles32(b + 8), fifth_bits(b + 4));
}
static inline __m256i values_iq4_nl(const uint8_t *b)
{
    const __m256i levels =
        _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)ckpt_kvalues_iq4nl));
    return _mm256_shuffle_epi8(levels, nibbles32(b + 2));
}

#endif
