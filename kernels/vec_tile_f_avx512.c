/*
 * vec_tile_f_avx512.c - AVX-512 register tiles of the F32/F16/BF16 rows
 * (vec_dot.h's tile and K-slice tile), for the prefill GEMM.  A 512-bit
 * register holds the eight lanes of two rows at one position, so each
 * fused multiply-add advances two outputs: half the instructions of the
 * avx2 tile (vec_dot_avx2.c) for the same products, and 32 registers hold
 * a wider tile (tile_width).  Each lane sees the
 * avx2 tile's operations in its order, so every output has the single
 * dot's bits.  The staged block interleaves the rows of a pair eight
 * floats at a time, so one aligned load gives both rows' weights.
 * Compiled with -mavx512f -mavx512bw -mavx512vl beside the AVX2 flags; reached only through
 * dispatch.c's avx512 table, after its run-time CPU check.
 */
#include "vec_dot.h"

#include <immintrin.h>
#include <string.h>

#include "prefetch.h"
#include "vec_f_avx2.h"

#define UNROLL _Pragma("GCC unroll 16")

#define TILE_KB CK_TILE_KB

/* NP2 pairs of rows (wf: pair k's step i at k*2*TILE_KB + 2*i; pairs 2q
 * and 2q+1 are quad q) with RP positions x + p*ldx over len elements,
 * continuing the lanes of quad q at acc + q*quad, position p's row r at
 * (p*4 + r)*8 (rows 2k and 2k+1 side by side: one register).  Each
 * activation load feeds 2*NP2 rows, each weight load RP positions. */
#define BLOCK_BODY(RP, NP2)                                                                        \
    do {                                                                                           \
        __m512 lane[NP2][RP];                                                                      \
        UNROLL for (int k = 0; k < NP2; k++)                                                       \
            UNROLL for (int p = 0; p < RP; p++)                                                    \
                lane[k][p] = _mm512_loadu_ps(acc + (k / 2) * quad + (p * 4 + 2 * (k % 2)) * 8);   \
        for (int64_t i = 0; i < len; i += 8) {                                                     \
            __m512 xv[RP];                                                                         \
            UNROLL for (int p = 0; p < RP; p++)                                                    \
                xv[p] = _mm512_castpd_ps(_mm512_broadcast_f64x4(                                   \
                    _mm256_castps_pd(_mm256_loadu_ps(x + p * ldx + i))));                          \
            UNROLL for (int k = 0; k < NP2; k++) {                                                 \
                const __m512 wv = _mm512_load_ps(wf + k * 2 * TILE_KB + 2 * i);                    \
                UNROLL for (int p = 0; p < RP; p++)                                                \
                    lane[k][p] = _mm512_fmadd_ps(wv, xv[p], lane[k][p]);                           \
            }                                                                                      \
        }                                                                                          \
        UNROLL for (int k = 0; k < NP2; k++)                                                       \
            UNROLL for (int p = 0; p < RP; p++)                                                    \
                _mm512_storeu_ps(acc + (k / 2) * quad + (p * 4 + 2 * (k % 2)) * 8, lane[k][p]);   \
    } while (0)

/* The widest tile of a call: four pairs (a K-slice's two quads) by four
 * positions, or two pairs by six; 16 or 12 accumulators in registers. */
static inline int tile_width(int nq, int rem)
{
    const int most = nq == 2 ? 4 : 6;
    return rem < most ? rem : most;
}

static void tile_block(const float *wf, const float *x, int64_t ldx, int64_t len, int rp, int nq,
                       float *acc, int64_t quad)
{
    if (nq == 2) {
        switch (rp) {
        case 4: BLOCK_BODY(4, 4); break;
        case 3: BLOCK_BODY(3, 4); break;
        case 2: BLOCK_BODY(2, 4); break;
        default: BLOCK_BODY(1, 4); break;
        }
        return;
    }
    switch (rp) {
    case 6: BLOCK_BODY(6, 2); break;
    case 5: BLOCK_BODY(5, 2); break;
    case 4: BLOCK_BODY(4, 2); break;
    case 3: BLOCK_BODY(3, 2); break;
    case 2: BLOCK_BODY(2, 2); break;
    default: BLOCK_BODY(1, 2); break;
    }
}

/* Every position of the block, in the widest tiles first. */
static void pass_positions(const float *wf, const float *x, int64_t ldx, int64_t len, int np,
                           int nq, float *acc, int64_t quad)
{
    for (int p = 0, rp; p < np; p += rp) {
        rp = tile_width(nq, np - p);
        tile_block(wf, x + p * ldx, ldx, len, rp, nq, acc + p * 4 * CKPT_VEC_TILE_LANES, quad);
    }
}

/* rows 2k and 2k+1 interleaved eight floats at a time */
#define PAIR_SLOT(r, i) (((r) / 2) * 2 * TILE_KB + 2 * (i) + ((r) % 2) * 8)

/* Eight values of rows p and p + rb in the halves of one register */
static inline __m512 two_f32(const uint8_t *p, size_t rb)
{
    return _mm512_castpd_ps(_mm512_insertf64x4(_mm512_castpd256_pd512(_mm256_castps_pd(
                                                   ck_ld_f32(p))),
                                               _mm256_castps_pd(ck_ld_f32(p + rb)), 1));
}

static inline __m256i two_halves(const uint8_t *p, size_t rb)
{
    return _mm256_inserti128_si256(_mm256_castsi128_si256(_mm_loadu_si128((const __m128i *)p)),
                                   _mm_loadu_si128((const __m128i *)(p + rb)), 1);
}

static inline __m512 two_f16(const uint8_t *p, size_t rb) { return _mm512_cvtph_ps(two_halves(p, rb)); }

static inline __m512 two_bf16(const uint8_t *p, size_t rb)
{
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(two_halves(p, rb)), 16));
}

/* The block of the rows in the tile's layout, a pair of rows sixteen
 * floats (one register, one aligned store) at a time: half the
 * conversions and stores of staging row by row. */
#define STAGE_PAIRS_DEF(NAME, ES, TWO)                                                             \
    static inline void NAME(float *wf, const uint8_t *w, size_t rb, int rows, int64_t len)         \
    {                                                                                              \
        for (int r = 0; r < rows; r += 2)                                                          \
            for (int64_t i = 0; i < len; i += 8)                                                   \
                _mm512_store_ps(wf + PAIR_SLOT(r, i), TWO(w + r * rb + (size_t)i * ES, rb));       \
    }
STAGE_PAIRS_DEF(stage_f32, 4, two_f32)
STAGE_PAIRS_DEF(stage_f16, 2, two_f16)
STAGE_PAIRS_DEF(stage_bf16, 2, two_bf16)
#undef STAGE_PAIRS_DEF

/* Four rows against one position (a decode step): the avx2 four-row
 * kernel's (vec_dot_avx2.c) lanes, two rows to a register, so half its
 * multiply-adds and conversions (with the memory's lines on their way,
 * prefetch.h, the arithmetic bounded it: 23 GB/s of F16 rows on one thread
 * of the AMD machine, where the probe read 26-31).  Each lane sees the
 * single dot's operations in its order: the same bits. */
#define FOUR_ROWS_DEF(NAME, ES, TWO, ONE)                                                          \
    static void NAME(const uint8_t *w, size_t rb, const float *x, int64_t n, float *out)           \
    {                                                                                              \
        __m512 lane01 = _mm512_setzero_ps(), lane23 = _mm512_setzero_ps();                         \
        int64_t i = 0;                                                                             \
        for (; i + 8 <= n; i += 8) {                                                               \
            const __m512 xv =                                                                      \
                _mm512_castpd_ps(_mm512_broadcast_f64x4(_mm256_castps_pd(_mm256_loadu_ps(x + i)))); \
            const bool ahead = (i * ES) % 64 == 0; /* once per line of each row */                 \
            if (ahead) {                                                                           \
                ck_prefetch_row(w + (size_t)i * ES);                                               \
                ck_prefetch_row(w + rb + (size_t)i * ES);                                          \
            }                                                                                      \
            lane01 = _mm512_fmadd_ps(TWO(w + (size_t)i * ES, rb), xv, lane01);                     \
            if (ahead) {                                                                           \
                ck_prefetch_row(w + 2 * rb + (size_t)i * ES);                                      \
                ck_prefetch_row(w + 3 * rb + (size_t)i * ES);                                      \
            }                                                                                      \
            lane23 = _mm512_fmadd_ps(TWO(w + 2 * rb + (size_t)i * ES, rb), xv, lane23);            \
        }                                                                                          \
        float l[32];                                                                               \
        _mm512_storeu_ps(l, lane01);                                                               \
        _mm512_storeu_ps(l + 16, lane23);                                                          \
        for (int r = 0; r < 4; r++) {                                                              \
            float *lr = l + 8 * r;                                                                 \
            for (int64_t k = i; k < n; k++)                                                        \
                lr[k - i] += ONE(w + r * rb + (size_t)k * ES) * x[k];                              \
            out[r] = ((lr[0] + lr[4]) + (lr[2] + lr[6])) + ((lr[1] + lr[5]) + (lr[3] + lr[7]));   \
        }                                                                                          \
    }
FOUR_ROWS_DEF(four_f32, 4, two_f32, ck_one_f32)
FOUR_ROWS_DEF(four_f16, 2, two_f16, ck_one_f16)
FOUR_ROWS_DEF(four_bf16, 2, two_bf16, ck_one_bf16)
#undef FOUR_ROWS_DEF

/* The public tiles: the K-slice tile over two quads; the whole-row tile
 * over one, a single position through the four-row kernel above. */
#define ROW_KERNELS(T, ES, ONE)                                                                    \
    CK_TILE_K_ROWS(tile_k_rows_##T, ES, stage_##T, ONE, pass_positions)                            \
    void ckpt_vec_tile_k_##T##_avx512(const void *w, size_t row_bytes, const void *act,            \
                                      size_t act_stride, int64_t n, int64_t k0, int64_t k1,        \
                                      int np, float *acc, float *out)                              \
    {                                                                                              \
        tile_k_rows_##T(w, row_bytes, act, act_stride, n, k0, k1, np, CKPT_VEC_TILE_K_ROWS / 4,    \
                        acc, out);                                                                 \
    }                                                                                              \
    void ckpt_vec_tile_##T##_avx512(const void *w, size_t row_bytes, const void *act,              \
                                    size_t act_stride, int64_t n, int np, float *out)              \
    {                                                                                              \
        if (np == 1) {                                                                             \
            four_##T(w, row_bytes, act, n, out);                                                   \
            return;                                                                                \
        }                                                                                          \
        float acc[CKPT_VEC_TILE_NP_MAX * 4 * CKPT_VEC_TILE_LANES];                                 \
        memset(acc, 0, (size_t)np * 4 * CKPT_VEC_TILE_LANES * sizeof(float));                     \
        tile_k_rows_##T(w, row_bytes, act, act_stride, n, 0, n, np, 1, acc, out);                  \
    }

ROW_KERNELS(f32, 4, ck_one_f32)
ROW_KERNELS(f16, 2, ck_one_f16)
ROW_KERNELS(bf16, 2, ck_one_bf16)
