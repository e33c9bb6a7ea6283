/*
 * vec_f_avx2.h - loads of F32/F16/BF16 weights as f32, eight at a time
 * and one at a time, and the K-slice tile's driver around a register
 * tile, shared by the avx2 dots and tiles (vec_dot_avx2.c) and the avx512
 * tiles (vec_tile_f_avx512.c).  Widening is exact (F16C
 * quiets a signalling NaN, as ckpt_f16_to_f32 does).  Included only by
 * files compiled with at least -mavx2 -mfma -mf16c.
 */
#ifndef CKPT_KERNELS_VEC_F_AVX2_H
#define CKPT_KERNELS_VEC_F_AVX2_H

#include <immintrin.h>
#include <stdint.h>
#include <string.h>

#include "fp16.h"
#include "vec_dot.h"

static inline __m256 ck_ld_f32(const uint8_t *p)
{
    return _mm256_loadu_ps((const float *)(const void *)p);
}

static inline __m256 ck_ld_f16(const uint8_t *p)
{
    return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)p));
}

static inline __m256 ck_ld_bf16(const uint8_t *p)
{
    const __m256i v = _mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)p));
    return _mm256_castsi256_ps(_mm256_slli_epi32(v, 16));
}

static inline float ck_one_f32(const uint8_t *p)
{
    float f;
    memcpy(&f, p, 4);
    return f;
}

static inline float ck_one_f16(const uint8_t *p)
{
    uint16_t h;
    memcpy(&h, p, 2);
    return _cvtsh_ss(h);
}

static inline float ck_one_bf16(const uint8_t *p)
{
    uint16_t h;
    memcpy(&h, p, 2);
    return ckpt_bf16_to_f32(h);
}

/* Elements of the rows' block that a tile widens to f32 once (16 KiB for
 * eight rows, in L1) and then multiplies with every position it was
 * given. */
#define CK_TILE_KB 512

/* Stage len elements (a multiple of 8) of rows rows (w + r*row_bytes)
 * as aligned floats, eight elements of row r from element i at wf +
 * SLOT(r, i), loaded eight at a time by LD. */
#define CK_STAGE_ROWS_DEF(NAME, ES, LD, SLOT)                                                      \
    static inline void NAME(float *wf, const uint8_t *w, size_t row_bytes, int rows, int64_t len)  \
    {                                                                                              \
        for (int r = 0; r < rows; r++)                                                             \
            for (int64_t i = 0; i < len; i += 8)                                                   \
                _mm256_store_ps(wf + SLOT(r, i), LD(w + r * row_bytes + (size_t)i * ES));          \
    }

/* The lanes of nq quads of rows (4*nq rows) over elements [k0, k1)
 * (vec_dot.h, ckpt_vec_tile_k_fn): that range in blocks of CK_TILE_KB,
 * each block of the rows widened once (F16C, or the bf16 shift: exact) to
 * aligned floats by STAGE(wf, the rows at the block, row_bytes, 4*nq, len)
 * (the register tile's layout; CK_STAGE_ROWS_DEF), then PASS(wf, x, ldx, len, np, nq,
 * acc, quad) passes every position over it in register tiles, the lanes
 * carried in acc between blocks and between calls; at k1 == n, per output
 * the tail and the reduction of the single dot.  The same operations on
 * each lane as the dot, in the same order: the same bits, however the
 * caller slices the row, groups the rows or tiles the positions. */
#define CK_TILE_K_ROWS(NAME, ES, STAGE, ONE, PASS)                                                 \
    static void NAME(const void *vw, size_t row_bytes, const void *act, size_t act_stride,         \
                     int64_t n, int64_t k0, int64_t k1, int np, int nq, float *acc, float *out)    \
    {                                                                                              \
        const uint8_t *w = vw;                                                                     \
        const float *x = act;                                                                      \
        const int64_t ldx = (int64_t)(act_stride / sizeof(float));                                 \
        const int64_t quad = (int64_t)np * 4 * CKPT_VEC_TILE_LANES; /* acc floats of a quad */     \
        _Alignas(64) float wf[CKPT_VEC_TILE_K_ROWS * CK_TILE_KB];                                  \
        const int64_t n8 = n / 8 * 8, e8 = k1 < n8 ? k1 : n8;                                      \
        for (int64_t kb = k0; kb < e8; kb += CK_TILE_KB) {                                         \
            const int64_t len = e8 - kb < CK_TILE_KB ? e8 - kb : CK_TILE_KB;                       \
            STAGE(wf, w + (size_t)kb * ES, row_bytes, 4 * nq, len);                                \
            /* the next block's lines on their way while this one computes:   \
             * after the range's last block, the range of the next rows (a     \
             * GEMM's next call; a prefetch past the rows is harmless) */      \
            const uint8_t *next = kb + CK_TILE_KB < e8 ? w + (size_t)(kb + CK_TILE_KB) * ES        \
                                                       : w + 4 * nq * row_bytes + (size_t)k0 * ES; \
            for (int r = 0; r < 4 * nq; r++)                                                       \
                for (int64_t i = 0; i < CK_TILE_KB * ES; i += 64)                                  \
                    _mm_prefetch((const char *)next + r * row_bytes + i, _MM_HINT_T0);             \
            PASS(wf, x + kb, ldx, len, np, nq, acc, quad);                                         \
        }                                                                                          \
        if (k1 < n)                                                                                \
            return;                                                                                \
        for (int r = 0; r < 4 * nq; r++)                                                           \
            for (int p = 0; p < np; p++) {                                                         \
                float *l = acc + (r / 4) * quad + (p * 4 + r % 4) * CKPT_VEC_TILE_LANES;           \
                for (int64_t k = n8; k < n; k++)                                                   \
                    l[k - n8] += ONE(w + r * row_bytes + (size_t)k * ES) * x[p * ldx + k];        \
                out[r * np + p] =                                                                  \
                    ((l[0] + l[4]) + (l[2] + l[6])) + ((l[1] + l[5]) + (l[3] + l[7]));             \
            }                                                                                      \
    }

#endif
