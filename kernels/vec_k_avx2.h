/*
 * vec_k_avx2.h - unpacking helpers of the k-quant blocks in AVX2
 * registers, shared by the single dots (vec_dot_avx2.c) and the four-row
 * tiles (vec_tile_k_avx2.c), so each packing is decoded in one place.
 * Included only by files compiled with -mavx2 -mfma -mf16c (*_avx2.c).
 */
#ifndef CKPT_KERNELS_VEC_K_AVX2_H
#define CKPT_KERNELS_VEC_K_AVX2_H

#include <immintrin.h>
#include <stdint.h>
#include <string.h>

static inline __m256i ck_load256(const void *p) { return _mm256_loadu_si256((const __m256i *)p); }

/* The 12 packed bytes of a q4_K/q5_K block's scales and mins as two
 * vectors of eight int16 (lane j: scale j, min j).  The packing
 * (quant_blocks.h): bytes 0..3 hold scales 0..3 in their low 6 bits,
 * bytes 4..7 mins 0..3; bytes 8..11 hold the low 4 bits of scale 4+k (low
 * nibble) and min 4+k (high nibble), whose top 2 bits are the top 2 bits
 * of bytes k and 4+k. */
static inline void ck_k4_scales_mins(const uint8_t *scales, __m128i *sc, __m128i *mins)
{
    uint32_t v[3];
    memcpy(v, scales, 12);
    const uint32_t lo6 = 0x3f3f3f3fu, lo4 = 0x0f0f0f0fu, lo2 = 0x03030303u;
    const uint32_t sc_lo = v[0] & lo6, mn_lo = v[1] & lo6;
    const uint32_t sc_hi = (v[2] & lo4) | ((v[0] >> 6) & lo2) << 4;
    const uint32_t mn_hi = ((v[2] >> 4) & lo4) | ((v[1] >> 6) & lo2) << 4;
    *sc = _mm_cvtepu8_epi16(_mm_set_epi32(0, 0, (int)sc_hi, (int)sc_lo));
    *mins = _mm_cvtepu8_epi16(_mm_set_epi32(0, 0, (int)mn_hi, (int)mn_lo));
}

/* The 6-bit values (0..63) of one 128-element half of a q6_K block, in
 * four groups of 32 (element order). */
static inline void ck_q6k_half(const uint8_t *ql, const uint8_t *qh, __m256i q[4])
{
    const __m256i m4 = _mm256_set1_epi8(0xF), m2 = _mm256_set1_epi8(3);
    const __m256i bh = ck_load256(qh);
    const __m256i l0 = ck_load256(ql), l1 = ck_load256(ql + 32);
    q[0] = _mm256_or_si256(_mm256_and_si256(l0, m4),
                           _mm256_slli_epi16(_mm256_and_si256(bh, m2), 4));
    q[1] = _mm256_or_si256(_mm256_and_si256(l1, m4),
                           _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(bh, 2), m2), 4));
    q[2] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l0, 4), m4),
                           _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(bh, 4), m2), 4));
    q[3] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l1, 4), m4),
                           _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(bh, 6), m2), 4));
}

#endif
