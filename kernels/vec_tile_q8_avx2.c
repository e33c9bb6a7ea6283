/*
 * vec_tile_q8_avx2.c - the four-row tiles (vec_dot.h, ckpt_vec_tile_fn) of
 * the 32-element block types paired with q8_0 activations: Q8_0 (read in
 * place) and the legacy types and IQ4_NL (each chunk of the four rows
 * unpacked once per call to signed or unsigned bytes, then the same loop).
 *
 * Every output keeps the single dot's operations: per 32-block eight lane
 * sums of four products (exact integers: the same maddubs/madd sequence
 * as vec_dot_avx2.c, so even a saturating pair of a hostile block gives
 * the same sums), then per lane acc += (d_w * d_a) * sum, or for the
 * offset types acc += (d_w * d_a) * sum + (m_w * d_a) * sum(y), separate
 * IEEE multiplies and adds in block order, and the lanes reduced as
 * vec_dot.c reduces them.  What the tile adds is only reuse: a register
 * tile of four rows by TQ_P positions keeps eight such lane accumulators
 * in flight, so each weight block's |w| (or unpacked values) serves TQ_P
 * positions and each activation load four rows.  A decode step (one
 * position) reads the four rows side by side (TQ_DECODE).  The same loop
 * over a slice of the blocks, on lanes the caller keeps, is the K-slice
 * tile (ckpt_vec_tile_k_fn): the eight lanes of the single dot are its
 * running sums.
 *
 * Compiled with -mavx2 -mfma -mf16c; reached only through the avx2 table
 * of dispatch.c, after its run-time CPU check.
 */
#include "vec_dot.h"

#include <immintrin.h>
#include <string.h>

#include "prefetch.h"
#include "quant_blocks.h"
#include "vec_q32_avx2.h"

/* Blocks of a chunk: the four rows' chunk (4 x 2 KiB of values) and the
 * activations of a register tile (TQ_P x 2.2 KiB) stay in L1 while the
 * tile passes over them. */
#define TQ_KB 64
/* Positions of a register tile: four rows by two keeps the eight
 * accumulators, the activations and the weight block in the sixteen
 * registers (by three measured slower: accumulators spill). */
#define TQ_P 2
#define Q8_BYTES 34 /* a q8_0 block: f16 scale, 32 int8 */

#define UNROLL _Pragma("GCC unroll 16")

/* The four rows' current chunk as the loop reads it: block j of row r at
 * q + r*q_row + j*q_blk (32 values: int8, or uint8 for the offset types),
 * for the signed types their magnitudes at abs[r] + j*32 (the unsigned
 * operand of the sign trick, formed once per chunk, not once per
 * position), its scale d[r][j] and offset m[r][j] widened to f32. */
struct tq_rows {
    const uint8_t *q;
    size_t q_row, q_blk;
    int offset; /* m[][] holds offsets (q4_1, q5_1) */
    float d[4][TQ_KB];
    float m[4][TQ_KB];
    _Alignas(32) uint8_t buf[4][TQ_KB * 32];
    _Alignas(32) uint8_t abs[4][TQ_KB * 32];
};

static inline float f16_at(const uint8_t *p)
{
    uint16_t h;
    memcpy(&h, p, 2);
    return _cvtsh_ss(h);
}

static inline __m256i load256(const void *p) { return _mm256_loadu_si256((const __m256i *)p); }

static inline uint64_t u16_at(const uint8_t *p)
{
    uint16_t h;
    memcpy(&h, p, 2);
    return h;
}

/* The eight f16 at p + j*stride, j < 8, widened: each inserted from
 * memory into one vector (no round trip through general registers), one
 * F16C conversion; the same values as f16_at. */
static inline __m256 scales8(const uint8_t *p, size_t stride)
{
    const uint8_t *q = p + 4 * stride;
    __m128i lo = _mm_cvtsi32_si128((int)u16_at(p));
    __m128i hi = _mm_cvtsi32_si128((int)u16_at(q));
    lo = _mm_insert_epi16(lo, (int)u16_at(p + stride), 1);
    hi = _mm_insert_epi16(hi, (int)u16_at(q + stride), 1);
    lo = _mm_insert_epi16(lo, (int)u16_at(p + 2 * stride), 2);
    hi = _mm_insert_epi16(hi, (int)u16_at(q + 2 * stride), 2);
    lo = _mm_insert_epi16(lo, (int)u16_at(p + 3 * stride), 3);
    hi = _mm_insert_epi16(hi, (int)u16_at(q + 3 * stride), 3);
    return _mm256_cvtph_ps(_mm_unpacklo_epi64(lo, hi));
}

/* out[j] = the f16 at p + j*stride, for j < kb: the scales of kb blocks. */
static void widen_scales(const uint8_t *p, size_t stride, int kb, float *out)
{
    int j = 0;
    for (; j + 8 <= kb; j += 8, p += 8 * stride)
        _mm256_storeu_ps(out + j, scales8(p, stride));
    for (; j < kb; j++, p += stride)
        out[j] = f16_at(p);
}

/* The scale products of the single dot for one position (its q8_0 blocks
 * at a) and a chunk: dd[r][j] = d[r][j] * d_a[j], and with m (the offset
 * types) dm[r][j] = m[r][j] * d_a[j]; eight blocks per multiply (the
 * same IEEE products as the single dot's scalar d_w * d_a, formed once
 * per chunk and position instead of once per output and block in the
 * loop below). */
static void scale_products(const struct tq_rows *w, const uint8_t *a, int kb,
                           float (*dd)[TQ_KB], float (*dm)[TQ_KB])
{
    int j = 0;
    for (; j + 8 <= kb; j += 8) {
        const __m256 da = scales8(a + (size_t)j * Q8_BYTES, Q8_BYTES);
        UNROLL for (int r = 0; r < 4; r++) {
            _mm256_storeu_ps(dd[r] + j, _mm256_mul_ps(_mm256_loadu_ps(w->d[r] + j), da));
            if (w->offset)
                _mm256_storeu_ps(dm[r] + j, _mm256_mul_ps(_mm256_loadu_ps(w->m[r] + j), da));
        }
    }
    for (; j < kb; j++) {
        const float da = f16_at(a + (size_t)j * Q8_BYTES);
        for (int r = 0; r < 4; r++) {
            dd[r][j] = w->d[r][j] * da;
            if (w->offset)
                dm[r][j] = w->m[r][j] * da;
        }
    }
}

/* kb blocks of the four rows by RP positions (a + p*as, q8_0 blocks),
 * continuing the lanes acc[(p*4 + r)*8 ..], with the scale products
 * dd[p][r][j] = d_w * d_a (and dm[p][r][j] = m_w * d_a) formed ahead
 * (scale_products): per output and block one broadcast and one multiply
 * by the lane sums.  OFFSET: unsigned weights and the m_w * d_a * sum(y)
 * term of q4_1/q5_1; else signed weights through the sign trick of
 * lane_sums (vec_dot_avx2.c). */
#define TQ_BODY(RP, OFFSET)                                                                        \
    do {                                                                                           \
        const __m256i ones16 = _mm256_set1_epi16(1);                                               \
        const uint8_t *q = w->q;                                                                   \
        const size_t q_row = w->q_row, q_blk = w->q_blk;                                           \
        __m256 lane[4][RP];                                                                        \
        UNROLL for (int r = 0; r < 4; r++)                                                         \
            UNROLL for (int p = 0; p < RP; p++)                                                    \
                lane[r][p] = _mm256_loadu_ps(acc + (p * 4 + r) * 8);                               \
        for (int j = 0; j < kb; j++, q += q_blk) {                                                 \
            __m256i y[RP];                                                                         \
            __m256 sy[RP];                                                                         \
            UNROLL for (int p = 0; p < RP; p++) {                                                  \
                y[p] = load256(a + p * as + (size_t)j * Q8_BYTES + 2);                             \
                if (OFFSET)                                                                        \
                    sy[p] = _mm256_cvtepi32_ps(_mm256_madd_epi16(                                  \
                        _mm256_maddubs_epi16(_mm256_set1_epi8(1), y[p]), ones16));                 \
            }                                                                                      \
            UNROLL for (int r = 0; r < 4; r++) {                                                   \
                const __m256i x = load256(q + r * q_row);                                          \
                const __m256i ax = OFFSET ? x : load256(w->abs[r] + j * 32);                       \
                UNROLL for (int p = 0; p < RP; p++) {                                              \
                    const __m256i s = OFFSET ? y[p] : _mm256_sign_epi8(y[p], x);                   \
                    const __m256 sum = _mm256_cvtepi32_ps(                                         \
                        _mm256_madd_epi16(_mm256_maddubs_epi16(ax, s), ones16));                   \
                    __m256 t = _mm256_mul_ps(_mm256_broadcast_ss(&dd[p][r][j]), sum);              \
                    if (OFFSET)                                                                    \
                        t = _mm256_add_ps(                                                         \
                            t, _mm256_mul_ps(_mm256_broadcast_ss(&dm[p][r][j]), sy[p]));           \
                    lane[r][p] = _mm256_add_ps(lane[r][p], t);                                     \
                }                                                                                  \
            }                                                                                      \
        }                                                                                          \
        UNROLL for (int r = 0; r < 4; r++)                                                         \
            UNROLL for (int p = 0; p < RP; p++)                                                    \
                _mm256_storeu_ps(acc + (p * 4 + r) * 8, lane[r][p]);                               \
    } while (0)

/* The loop of one weight kind for each register tile width (TQ_P = 2). */
_Static_assert(TQ_P == 2, "TQ_BLOCK_FN dispatches widths 1 and 2");
#define TQ_BLOCK_FN(NAME, OFFSET)                                                                  \
    static void NAME(const struct tq_rows *w, const uint8_t *a, size_t as,                         \
                     const float (*dd)[4][TQ_KB], const float (*dm)[4][TQ_KB], int kb,             \
                     int rp, float *acc)                                                           \
    {                                                                                              \
        if (rp == 2)                                                                               \
            TQ_BODY(2, OFFSET);                                                                    \
        else                                                                                       \
            TQ_BODY(1, OFFSET);                                                                    \
    }
TQ_BLOCK_FN(tq_block_signed, 0)
TQ_BLOCK_FN(tq_block_offset, 1)

/* Fills rows->q.. for blocks b0..b0+kb of the four rows at w. */
typedef void (*tq_prepare_fn)(const uint8_t *w, size_t row_bytes, int64_t b0, int kb,
                              struct tq_rows *rows);
typedef void (*tq_block_fn)(const struct tq_rows *w, const uint8_t *a, size_t as,
                            const float (*dd)[4][TQ_KB], const float (*dm)[4][TQ_KB], int kb,
                            int rp, float *acc);

/* The four rows' dots with one position (a decode step): out[r]. */
typedef void (*tq_decode_fn)(const uint8_t *w, size_t row_bytes, const uint8_t *act, int64_t n,
                             float out[4]);

/* Blocks [c0, c1) of the four rows against np positions, continuing the
 * lanes of output (r, p) at acc + (p*4 + r)*8: chunk by chunk, the rows
 * prepared once, then every position passes in register tiles of TQ_P
 * (the last tile narrower).  Each lane sees its blocks in order, so the
 * chunking (and the slicing of tile_k) changes no bit. */
static void tile32_blocks(tq_prepare_fn prepare, tq_block_fn block, const uint8_t *w,
                          size_t row_bytes, const uint8_t *act, size_t act_stride, int64_t c0,
                          int64_t c1, int np, float *acc)
{
    float dd[TQ_P][4][TQ_KB], dm[TQ_P][4][TQ_KB];
    struct tq_rows rows;
    for (int64_t b0 = c0; b0 < c1; b0 += TQ_KB) {
        const int kb = (int)(c1 - b0 < TQ_KB ? c1 - b0 : TQ_KB);
        prepare(w, row_bytes, b0, kb, &rows);
        for (int p = 0; p < np; p += TQ_P) {
            const int rp = np - p < TQ_P ? np - p : TQ_P;
            const uint8_t *a = act + (size_t)p * act_stride + (size_t)b0 * Q8_BYTES;
            for (int k = 0; k < rp; k++)
                scale_products(&rows, a + k * act_stride, kb, dd[k], dm[k]);
            block(&rows, a, act_stride, (const float(*)[4][TQ_KB])dd,
                  (const float(*)[4][TQ_KB])dm, kb, rp, acc + p * 4 * 8);
        }
    }
}

/* out[r*np + p]: the lanes of each output reduced as the single dot
 * reduces them. */
static void tile32_finish(const float *acc, int np, float *out)
{
    for (int p = 0; p < np; p++)
        for (int r = 0; r < 4; r++) {
            const float *l = acc + (p * 4 + r) * 8;
            out[r * np + p] = ((l[0] + l[4]) + (l[2] + l[6])) + ((l[1] + l[5]) + (l[3] + l[7]));
        }
}

/* The tile of four rows and np positions (ckpt_vec_tile_fn): the whole
 * row's blocks, then the reduction; one position is a decode step. */
static void tile32(tq_prepare_fn prepare, tq_block_fn block, tq_decode_fn decode,
                   const uint8_t *w, size_t row_bytes, const uint8_t *act, size_t act_stride,
                   int64_t n, int np, float *out)
{
    if (np == 1) {
        decode(w, row_bytes, act, n, out);
        return;
    }
    float acc[CKPT_VEC_TILE_NP_MAX * 4 * 8];
    memset(acc, 0, (size_t)np * 4 * 8 * sizeof(float));
    tile32_blocks(prepare, block, w, row_bytes, act, act_stride, 0, n / 32, np, acc);
    tile32_finish(acc, np, out);
}

/* The K-slice tile (ckpt_vec_tile_k_fn): for each quad of its rows, the
 * slice's blocks on the caller's running lanes (the eight lanes of the
 * single dot are its CKPT_VEC_TILE_LANES running sums, laid out as the
 * contract's quads), the reduction after the last. */
_Static_assert(CKPT_VEC_TILE_LANES == 8, "the lanes of a 32-block dot");
_Static_assert(CKPT_VEC_TILE_K_STEP % 32 == 0, "slices of whole 32-blocks");
_Static_assert(CKPT_VEC_TILE_K_ROWS % 4 == 0, "quads of rows");
static void tile32_k(tq_prepare_fn prepare, tq_block_fn block, const uint8_t *w,
                     size_t row_bytes, const uint8_t *act, size_t act_stride, int64_t n,
                     int64_t k0, int64_t k1, int np, float *acc, float *out)
{
    for (int q = 0; q < CKPT_VEC_TILE_K_ROWS / 4; q++) {
        float *lanes = acc + (size_t)q * 4 * (size_t)np * CKPT_VEC_TILE_LANES;
        tile32_blocks(prepare, block, w + (size_t)(4 * q) * row_bytes, row_bytes, act,
                      act_stride, k0 / 32, k1 / 32, np, lanes);
        if (k1 == n)
            tile32_finish(lanes, np, out + (size_t)(4 * q) * (size_t)np);
    }
}

/* ==== Q8_0: the values read in place ==== */

static void prepare_q8_0(const uint8_t *w, size_t row_bytes, int64_t b0, int kb,
                         struct tq_rows *rows)
{
    const uint8_t *blk = w + (size_t)b0 * Q8_BYTES;
    rows->q = blk + 2;
    rows->q_row = row_bytes;
    rows->q_blk = Q8_BYTES;
    rows->offset = 0;
    for (int r = 0; r < 4; r++) {
        widen_scales(blk + r * row_bytes, Q8_BYTES, kb, rows->d[r]);
        for (int j = 0; j < kb; j++) {
            const __m256i x = load256(rows->q + r * row_bytes + (size_t)j * Q8_BYTES);
            _mm256_store_si256((__m256i *)(rows->abs[r] + j * 32), _mm256_sign_epi8(x, x));
        }
    }
}


/* ==== the packed types: unpacked once per chunk into rows->buf; decode ==== */

/* A decode step has nothing to reuse but the activation block: the four
 * rows are read side by side, block by block, each with the single dot's
 * operations (its scale product formed as a scalar, as the single dot
 * forms it), so four streams are in flight where the single dot has one
 * (in a one-thread measurement of 8192 rows of 4096 Q8_0 weights, out of
 * cache, 1.4x to 1.6x the single dot); each block of a row asks for
 * its row's line ahead in its stream (prefetch.h, ck_prefetch_row: with
 * 256 bytes ahead, four rows kept 1 KiB in flight per thread, and a Q8_0
 * decode read 19 GB/s of the AMD machine's 50). */
#define TQ_DECODE(NAME, BLK, VALUES, M_AT)                                                         \
    static void NAME(const uint8_t *w, size_t row_bytes, const uint8_t *act, int64_t n,           \
                     float out[4])                                                                 \
    {                                                                                              \
        const __m256i ones16 = _mm256_set1_epi16(1);                                               \
        __m256 lane[4];                                                                            \
        UNROLL for (int r = 0; r < 4; r++)                                                         \
            lane[r] = _mm256_setzero_ps();                                                         \
        for (int64_t j = 0; j < n / 32; j++, w += sizeof(BLK), act += Q8_BYTES) {                  \
            const __m256i y = load256(act + 2);                                                    \
            const float dy = f16_at(act);                                                          \
            const __m256 sy = _mm256_cvtepi32_ps(                                                  \
                _mm256_madd_epi16(_mm256_maddubs_epi16(_mm256_set1_epi8(1), y), ones16));          \
            UNROLL for (int r = 0; r < 4; r++) {                                                   \
                const uint8_t *b = w + r * row_bytes;                                              \
                ck_prefetch_row(b);                                                                \
                const __m256i x = VALUES(b);                                                       \
                const __m256i ax = M_AT ? x : _mm256_sign_epi8(x, x);                              \
                const __m256i s = M_AT ? y : _mm256_sign_epi8(y, x);                               \
                const __m256 sum = _mm256_cvtepi32_ps(                                             \
                    _mm256_madd_epi16(_mm256_maddubs_epi16(ax, s), ones16));                       \
                __m256 t = _mm256_mul_ps(_mm256_set1_ps(f16_at(b) * dy), sum);                     \
                if (M_AT)                                                                          \
                    t = _mm256_add_ps(t,                                                           \
                                      _mm256_mul_ps(_mm256_set1_ps(f16_at(b + M_AT) * dy), sy));   \
                lane[r] = _mm256_add_ps(lane[r], t);                                               \
            }                                                                                      \
        }                                                                                          \
        float l[8];                                                                                \
        for (int r = 0; r < 4; r++) {                                                              \
            _mm256_storeu_ps(l, lane[r]);                                                          \
            out[r] = ((l[0] + l[4]) + (l[2] + l[6])) + ((l[1] + l[5]) + (l[3] + l[7]));            \
        }                                                                                          \
    }

TQ_DECODE(decode_q8_0, block_q8_0, values_q8_0, 0)
TQ_DECODE(decode_q4_0, block_q4_0, values_q4_0, 0)
TQ_DECODE(decode_q4_1, block_q4_1, values_q4_1, 2)
TQ_DECODE(decode_q5_0, block_q5_0, values_q5_0, 0)
TQ_DECODE(decode_q5_1, block_q5_1, values_q5_1, 2)
TQ_DECODE(decode_iq4_nl, block_iq4_nl, values_iq4_nl, 0)

/* prepare for a type of BLK blocks: values from VALUES, d at byte 0 and,
 * if M_AT is not 0, m at byte M_AT */
#define TQ_PREPARE(NAME, BLK, VALUES, M_AT)                                                        \
    static void NAME(const uint8_t *w, size_t row_bytes, int64_t b0, int kb,                       \
                     struct tq_rows *rows)                                                         \
    {                                                                                              \
        rows->q = rows->buf[0];                                                                    \
        rows->q_row = sizeof rows->buf[0];                                                         \
        rows->q_blk = 32;                                                                          \
        rows->offset = M_AT != 0;                                                                  \
        for (int r = 0; r < 4; r++)                                                                \
            for (int j = 0; j < kb; j++) {                                                         \
                const uint8_t *blk = w + r * row_bytes + (size_t)(b0 + j) * sizeof(BLK);           \
                const __m256i x = VALUES(blk);                                                     \
                __m256i *mag = (__m256i *)(rows->abs[r] + j * 32);                                 \
                _mm256_store_si256((__m256i *)(rows->buf[r] + j * 32), x);                         \
                rows->d[r][j] = f16_at(blk);                                                       \
                if (M_AT)                                                                          \
                    rows->m[r][j] = f16_at(blk + M_AT);                                            \
                else                                                                               \
                    _mm256_store_si256(mag, _mm256_sign_epi8(x, x));                               \
            }                                                                                      \
    }

#define TQ_TILE(NAME, PREPARE, BLOCK, DECODE)                                                      \
    void ckpt_vec_tile_##NAME##_q8_0_avx2(const void *w, size_t row_bytes, const void *act,        \
                                          size_t act_stride, int64_t n, int np, float *out)        \
    {                                                                                              \
        tile32(PREPARE, BLOCK, DECODE, w, row_bytes, act, act_stride, n, np, out);                 \
    }                                                                                              \
    void ckpt_vec_tile_k_##NAME##_q8_0_avx2(const void *w, size_t row_bytes, const void *act,      \
                                            size_t act_stride, int64_t n, int64_t k0, int64_t k1,  \
                                            int np, float *acc, float *out)                        \
    {                                                                                              \
        tile32_k(PREPARE, BLOCK, w, row_bytes, act, act_stride, n, k0, k1, np, acc, out);          \
    }

TQ_PREPARE(prepare_q4_0, block_q4_0, values_q4_0, 0)
TQ_PREPARE(prepare_q4_1, block_q4_1, values_q4_1, 2)
TQ_PREPARE(prepare_q5_0, block_q5_0, values_q5_0, 0)
TQ_PREPARE(prepare_q5_1, block_q5_1, values_q5_1, 2)
TQ_PREPARE(prepare_iq4_nl, block_iq4_nl, values_iq4_nl, 0)
TQ_TILE(q8_0, prepare_q8_0, tq_block_signed, decode_q8_0)
TQ_TILE(q4_0, prepare_q4_0, tq_block_signed, decode_q4_0)
TQ_TILE(q4_1, prepare_q4_1, tq_block_offset, decode_q4_1)
TQ_TILE(q5_0, prepare_q5_0, tq_block_signed, decode_q5_0)
TQ_TILE(q5_1, prepare_q5_1, tq_block_offset, decode_q5_1)
TQ_TILE(iq4_nl, prepare_iq4_nl, tq_block_signed, decode_iq4_nl)
