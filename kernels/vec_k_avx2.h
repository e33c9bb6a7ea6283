/*
 * vec_k_avx2.h - unpacking helpers of the k-quant blocks in AVX2
 * registers, shared by the single dots (vec_dot_avx2.c), the four-row
 * tiles (vec_tile_k_avx2.c) and the VNNI K-slice tiles
 * (vec_tile_k_vnni.c), so each packing is decoded in one place.
 * Included only by files compiled with at least -mavx2 -mfma -mf16c
 * (*_avx2.c, *_vnni.c).
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

/* dword i of x0..x3 (per 128-bit lane) into out[i]: [x0 x1 x2 x3] dword i
 * in the low lane, dword i+4 in the high lane. */
static inline void ck_transpose4(__m256i x0, __m256i x1, __m256i x2, __m256i x3, __m256i out[4])
{
    const __m256i a = _mm256_unpacklo_epi32(x0, x1), b = _mm256_unpacklo_epi32(x2, x3);
    const __m256i c = _mm256_unpackhi_epi32(x0, x1), d = _mm256_unpackhi_epi32(x2, x3);
    out[0] = _mm256_unpacklo_epi64(a, b);
    out[1] = _mm256_unpackhi_epi64(a, b);
    out[2] = _mm256_unpacklo_epi64(c, d);
    out[3] = _mm256_unpackhi_epi64(c, d);
}

/* The two chunks 2j and 2j+1 (32 values each, in element order) of one
 * q4_K/q5_K block: the low and high nibbles of qs[32j..32j+31]; with qh
 * (q5_K), bit 2j / 2j+1 of qh[l] is the fifth bit of element l. */
static inline void ck_k4_chunks(const uint8_t *qs, const uint8_t *qh, int j, __m256i *lo,
                                __m256i *hi)
{
    const __m256i m4 = _mm256_set1_epi8(0xF), one = _mm256_set1_epi8(1);
    const __m256i q = ck_load256(qs + 32 * j);
    __m256i l = _mm256_and_si256(q, m4), h = _mm256_and_si256(_mm256_srli_epi16(q, 4), m4);
    if (qh) {
        const __m256i b = ck_load256(qh);
        l = _mm256_or_si256(l, _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(b, 2 * j), one), 4));
        h = _mm256_or_si256(h,
                            _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(b, 2 * j + 1), one), 4));
    }
    *lo = l;
    *hi = h;
}

/* Chunk 4h+k of a two-bit block: (qs[32h + l] >> 2k) & 3, plus bit 4h+k of
 * hmask[l] as 4 when hmask is given (q3_K). */
static inline __m256i ck_2bit_chunk(const uint8_t *qs, const uint8_t *hmask, int h, int k)
{
    const __m256i m3 = _mm256_set1_epi8(3), one = _mm256_set1_epi8(1);
    __m256i u = _mm256_and_si256(_mm256_srli_epi16(ck_load256(qs + 32 * h), 2 * k), m3);
    if (hmask) {
        const __m256i hb = _mm256_and_si256(_mm256_srli_epi16(ck_load256(hmask), 4 * h + k), one);
        u = _mm256_or_si256(u, _mm256_slli_epi16(hb, 2));
    }
    return u;
}

/* The 16 signed 6-bit scales of a q3_K block (scales[12], quant_blocks.h)
 * as int8: the low four bits from bytes 0..7 (nibble j / j-8), the top two
 * from bytes 8..11 (byte j % 4, bits 2(j / 4)), minus 32.  Reads the
 * twelve bytes only.  (With a loop over the sixteen, a Q3_K_M decode on
 * the avx2 kernels ran 41 tok/s; with these registers 68.) */
static inline __m128i ck_q3k_scales(const uint8_t *sc)
{
    const __m128i m4 = _mm_set1_epi8(0xF);
    const __m128i lo8 = _mm_loadl_epi64((const __m128i *)(const void *)sc);
    const __m128i lo = _mm_unpacklo_epi64(_mm_and_si128(lo8, m4),
                                          _mm_and_si128(_mm_srli_epi16(lo8, 4), m4));
    uint32_t top;
    memcpy(&top, sc + 8, 4);
    /* dword g: bytes 8..11 shifted by 2g, so byte 4g + b holds bits 2g,
     * 2g+1 of byte 8 + b in its bits 0-1 */
    const __m128i hi = _mm_and_si128(
        _mm_srlv_epi32(_mm_set1_epi32((int)top), _mm_setr_epi32(0, 2, 4, 6)), _mm_set1_epi8(3));
    return _mm_sub_epi8(_mm_or_si128(lo, _mm_slli_epi16(hi, 4)), _mm_set1_epi8(32));
}

#endif
