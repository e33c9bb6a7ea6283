/*
 * vec_tile_k_vnni.c - the K-slice tiles (vec_dot.h) of the k-quants
 * against q8_K activations with AVX-512 VNNI: the integer GEMM of a
 * prefill step on CPUs that have vpdpbusd.
 *
 * A 512-bit register holds one qword (eight consecutive values) of each
 * of the eight rows of the tile: row r's in int32 lanes 2r and 2r+1.
 * Each 256-block of the rows is staged once (struct vstage, 3.3 KiB, in
 * L1): chunk c (elements 32c..32c+31), pair k holds elements
 * 32c+8k..32c+8k+7 of the eight rows.  A position's eight activations of
 * that pair are one qword, broadcast from memory, so one vpdpbusd adds
 * four products to each of sixteen lanes and nothing is shuffled per
 * position (the avx2 tile, vec_tile_k_avx2.c, spends four shuffles and
 * five integer operations on a quarter of that).  A lane's sum over the
 * pairs of a sub-block fits int16 (see struct vquant.G), so the row's
 * scale is applied by one vpdpwssd into the block's int32 sums; the
 * bsums terms (mins, or the offset of the signed types) are four more.
 * All of it is exact, so the block's integer sum (lanes 2r + 2r+1) is the
 * scalar twin's, and the float combination is the twin's, per block in
 * block order, eight rows in the lanes of one vector: every output has
 * the bits of ckpt_vec_dot_<type>_q8_K_ref and of the avx2 kernels.
 *
 * Compiled with -mavx512f -mavx512bw -mavx512vl -mavx512vnni beside the
 * AVX2 flags; reached only through dispatch.c's avx512 table, when the
 * CPU has AVX512_VNNI.
 */
#include "vec_dot.h"

#include <immintrin.h>
#include <stdbool.h>
#include <string.h>

#include "quant_blocks.h"
#include "vec_k_avx2.h"

#define QK_K 256
#define Q8K_QS 4
#define Q8K_BSUMS 260
#define ROWS CKPT_VEC_TILE_K_ROWS /* eight: one int32 lane a row */
/* positions a pass over the staged block: eight measured slower (25 of
 * the 32 registers live, and spills) */
#define POS 4
#define UNROLL _Pragma("GCC unroll 16")
#define INLINE static inline __attribute__((always_inline))

/* One 256-block of the eight rows, unpacked for the positions. */
struct vstage {
    __m512i w[8][4]; /* chunk c, pair k: lanes 2r, 2r+1 = row r's values 32c+8k..+7 */
    __m512i sc[16];  /* sub-block s (of 32 or 16 elements): lanes 2r, 2r+1 =
                      * row r's scale as an int16 pair (scale, 0) */
    __m512i m[4];    /* weights of the bsums: lanes 2r, 2r+1 = row r's int16
                      * pairs for the bsums of 16-element sub-blocks 4k..4k+3 */
    __m256 d, dmin;  /* rows 0..7 */
};

/* out[i] lane r = dword i of x[r]: eight rows' dwords side by side */
INLINE void transpose8(const __m256i x[8], __m256i out[8])
{
    __m256i lo[4], hi[4];
    ck_transpose4(x[0], x[1], x[2], x[3], lo);
    ck_transpose4(x[4], x[5], x[6], x[7], hi);
    UNROLL for (int i = 0; i < 4; i++) {
        out[i] = _mm256_permute2x128_si256(lo[i], hi[i], 0x20);
        out[i + 4] = _mm256_permute2x128_si256(lo[i], hi[i], 0x31);
    }
}

/* out[k] qword r = qword k of v[r]: eight rows' qwords side by side */
INLINE void transpose_q(const __m256i v[8], __m512i out[4])
{
    __m512i p[4];
    UNROLL for (int i = 0; i < 4; i++)
        p[i] = _mm512_inserti64x4(_mm512_castsi256_si512(v[2 * i]), v[2 * i + 1], 1);
    UNROLL for (int k = 0; k < 4; k++) {
        /* qword k of rows 2i and 2i+1 sit at k and 4 + k of p[i] */
        const __m512i idx = _mm512_setr_epi64(k, 4 + k, 8 + k, 12 + k, k, 4 + k, 8 + k, 12 + k);
        const __m512i lo = _mm512_permutex2var_epi64(p[0], idx, p[1]);
        const __m512i hi = _mm512_permutex2var_epi64(p[2], idx, p[3]);
        out[k] = _mm512_shuffle_i64x2(lo, hi, 0x44);
    }
}

/* int32 lane r of x into lanes 2r and 2r+1, kept to its low 16 bits: the
 * int16 pair (x, 0) that vpdpwssd multiplies by a lane's int16 sum */
INLINE __m512i pair16(__m256i x)
{
    const __m512i dup = _mm512_setr_epi32(0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7);
    return _mm512_and_si512(_mm512_permutexvar_epi32(dup, _mm512_castsi256_si512(x)),
                            _mm512_set1_epi32(0xFFFF));
}

/* Eight f16 values (one a row, at w + r*rb + off) as floats: F16C gives
 * ckpt_f16_to_f32's value, as the single dots widen them. */
INLINE __m256 eight_f16(const uint8_t *w, size_t rb, size_t off)
{
    uint16_t h[ROWS];
    UNROLL for (int r = 0; r < ROWS; r++)
        memcpy(&h[r], w + r * rb + off, 2);
    return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(const void *)h));
}

/* One row's scales: sc[0] / sc[1] the int32 scales of sub-blocks 0..7 /
 * 8..15 (sc[1] unused with 32-element sub-blocks), m its 16 int16 bsums
 * weights (one per 16-element sub-block). */
typedef void (*row_scales_fn)(const uint8_t *b, __m256i sc[2], __m256i *m);
/* One row's chunks cpg*g .. cpg*g + cpg-1, 32 unsigned values each. */
typedef void (*row_chunks_fn)(const uint8_t *b, int g, __m256i *out);

struct vquant {
    size_t block_bytes;
    int cpg;            /* chunks a row_chunks call gives */
    bool sub16;         /* scales per 16 elements (else per 32) */
    bool sep;           /* the bsums term is the twin's separate summ */
    /* pairs summed in a lane before its scale: each pair adds four
     * products of at most vmax * 128 to a lane, and the lane's sum must
     * fit int16 for vpdpwssd: 4G * vmax * 128 <= 32767.  q4_K (vmax 15):
     * 4, a whole chunk; q5_K (31) and the two- and three-bit types: 2, a
     * 16-element half; q6_K (63): 1. */
    int G;
    int d_off, dmin_off; /* the f16 scales in the block; dmin_off < 0: none */
    row_scales_fn scales;
    row_chunks_fn chunks;
};

/* q4_K and q5_K: a scale and a min per 32 elements (ck_k4_scales_mins);
 * a min weighs both bsums of its sub-block. */
INLINE void scales_k4(const uint8_t *b, __m256i sc[2], __m256i *m)
{
    __m128i s, mn;
    ck_k4_scales_mins(b + 4, &s, &mn);
    sc[0] = _mm256_cvtepi16_epi32(s);
    *m = _mm256_set_m128i(_mm_unpackhi_epi16(mn, mn), _mm_unpacklo_epi16(mn, mn));
}

/* sixteen int8 scales, one per 16 elements, as int32 */
INLINE void scales16(__m128i v, __m256i sc[2])
{
    sc[0] = _mm256_cvtepi8_epi32(v);
    sc[1] = _mm256_cvtepi8_epi32(_mm_srli_si128(v, 8));
}

/* q6_K: the offset 32 folds into the integer sum as 32 * sc * bsums */
INLINE void scales_q6_K(const uint8_t *b, __m256i sc[2], __m256i *m)
{
    const __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(b + 192));
    scales16(v, sc);
    *m = _mm256_slli_epi16(_mm256_cvtepi8_epi16(v), 5);
}

/* q3_K: the offset 4 as 4 * sc */
INLINE void scales_q3_K(const uint8_t *b, __m256i sc[2], __m256i *m)
{
    const __m128i v = ck_q3k_scales(b + 96);
    scales16(v, sc);
    *m = _mm256_slli_epi16(_mm256_cvtepi8_epi16(v), 2);
}

/* q2_K: scale in the low nibble, min in the high one (a separate summ) */
INLINE void scales_q2_K(const uint8_t *b, __m256i sc[2], __m256i *m)
{
    const __m128i m4 = _mm_set1_epi8(0xF);
    const __m128i v = _mm_loadu_si128((const __m128i *)(const void *)b);
    scales16(_mm_and_si128(v, m4), sc);
    *m = _mm256_cvtepu8_epi16(_mm_and_si128(_mm_srli_epi16(v, 4), m4));
}

INLINE void chunks_q4_K(const uint8_t *b, int j, __m256i *out)
{
    ck_k4_chunks(b + 16, NULL, j, &out[0], &out[1]);
}

INLINE void chunks_q5_K(const uint8_t *b, int j, __m256i *out)
{
    ck_k4_chunks(b + 48, b + 16, j, &out[0], &out[1]);
}

INLINE void chunks_q6_K(const uint8_t *b, int h, __m256i *out)
{
    ck_q6k_half(b + 64 * h, b + 128 + 32 * h, out);
}

INLINE void chunks_q3_K(const uint8_t *b, int h, __m256i *out)
{
    UNROLL for (int k = 0; k < 4; k++)
        out[k] = ck_2bit_chunk(b + 32, b, h, k);
}

INLINE void chunks_q2_K(const uint8_t *b, int h, __m256i *out)
{
    UNROLL for (int k = 0; k < 4; k++)
        out[k] = ck_2bit_chunk(b + 16, NULL, h, k);
}

/* The eight rows' block at w (row r at w + r*rb) into s. */
INLINE void stage(const struct vquant q, const uint8_t *w, size_t rb, struct vstage *s)
{
    __m256i sc[2][ROWS], m[ROWS], t[8];
    UNROLL for (int r = 0; r < ROWS; r++) {
        __m256i two[2] = {_mm256_setzero_si256(), _mm256_setzero_si256()};
        q.scales(w + r * rb, two, &m[r]);
        sc[0][r] = two[0];
        sc[1][r] = two[1];
    }
    for (int h = 0; h < (q.sub16 ? 2 : 1); h++) {
        transpose8(sc[h], t);
        UNROLL for (int i = 0; i < 8; i++)
            s->sc[8 * h + i] = pair16(t[i]);
    }
    transpose_q(m, s->m);
    s->d = eight_f16(w, rb, (size_t)q.d_off);
    s->dmin = q.dmin_off >= 0 ? eight_f16(w, rb, (size_t)q.dmin_off) : _mm256_setzero_ps();
    for (int g = 0; g < 8 / q.cpg; g++) {
        __m256i v[ROWS][4];
        UNROLL for (int r = 0; r < ROWS; r++)
            q.chunks(w + r * rb, g, v[r]);
        UNROLL for (int k = 0; k < q.cpg; k++) {
            const __m256i x[ROWS] = {v[0][k], v[1][k], v[2][k], v[3][k],
                                     v[4][k], v[5][k], v[6][k], v[7][k]};
            transpose_q(x, s->w[g * q.cpg + k]);
        }
    }
}

/* eight activations (one qword) in every lane pair */
INLINE __m512i bcast8(const uint8_t *p)
{
    int64_t v;
    memcpy(&v, p, 8);
    return _mm512_set1_epi64(v);
}

/* lanes 2r + 2r+1 of x: row r's sum in int32 lane r */
INLINE __m256i rows_of(__m512i x)
{
    return _mm512_cvtepi64_epi32(_mm512_add_epi32(x, _mm512_srli_epi64(x, 32)));
}

/* The block's value for the eight rows at one position (q8_K block ap,
 * acc its scaled integer sums, lane pairs) added to sumf[0..7], in the
 * twin's float order: (d * dy) * sumi [- (dmin * dy) * summ]. */
INLINE void block_value(const struct vstage *s, const uint8_t *ap, __m512i acc, bool sep,
                        float *sumf)
{
    __m512i mm = _mm512_madd_epi16(s->m[0], bcast8(ap + Q8K_BSUMS));
    UNROLL for (int k = 1; k < 4; k++)
        mm = _mm512_dpwssd_epi32(mm, s->m[k], bcast8(ap + Q8K_BSUMS + 8 * k));
    const __m256i sumi = rows_of(sep ? acc : _mm512_sub_epi32(acc, mm));
    float dyf;
    memcpy(&dyf, ap, 4);
    const __m256 dy = _mm256_set1_ps(dyf);
    __m256 v = _mm256_mul_ps(_mm256_mul_ps(s->d, dy), _mm256_cvtepi32_ps(sumi));
    if (sep)
        v = _mm256_sub_ps(v,
                          _mm256_mul_ps(_mm256_mul_ps(s->dmin, dy), _mm256_cvtepi32_ps(rows_of(mm))));
    _mm256_storeu_ps(sumf, _mm256_add_ps(_mm256_loadu_ps(sumf), v));
}

/* The staged block against P positions (q8_K blocks at a + p*stride) into
 * sumf[8p + r].  Pair by pair, each staged register meets the P positions
 * in turn (one load of it for P vpdpbusd); every G pairs, a lane's sum
 * meets its row's scale in the block's sums. */
INLINE void block_positions(const struct vstage *s, const uint8_t *a, size_t stride, int P, int G,
                            bool sub16, bool sep, float *sumf)
{
    /* two running sums a position, alternate steps: a chain of 32
     * dependent vpdpwssd (q6_K) would bound the pass by their latency */
    __m512i acc[2][POS];
    UNROLL for (int p = 0; p < P; p++)
        acc[0][p] = acc[1][p] = _mm512_setzero_si512();
    UNROLL for (int c = 0; c < 8; c++)
        UNROLL for (int k0 = 0; k0 < 4; k0 += G) {
            __m512i t[POS];
            UNROLL for (int k = k0; k < k0 + G; k++) {
                const __m512i wv = s->w[c][k];
                UNROLL for (int p = 0; p < P; p++) {
                    const __m512i y = bcast8(a + (size_t)p * stride + Q8K_QS + 32 * c + 8 * k);
                    t[p] = _mm512_dpbusd_epi32(k == k0 ? _mm512_setzero_si512() : t[p], wv, y);
                }
            }
            const __m512i sc = s->sc[sub16 ? 2 * c + k0 / 2 : c];
            const int step = (4 * c + k0) / G % 2;
            UNROLL for (int p = 0; p < P; p++)
                acc[step][p] = _mm512_dpwssd_epi32(acc[step][p], t[p], sc);
        }
    UNROLL for (int p = 0; p < P; p++)
        block_value(s, a + (size_t)p * stride, _mm512_add_epi32(acc[0][p], acc[1][p]), sep,
                    sumf + ROWS * p);
}

/* The K-slice tile: the running sums are the twin's per-output float sum,
 * output (r, p) at acc[8p + r]; at k1 == n they are the values. */
INLINE void tile_slice(const struct vquant q, const void *vw, size_t rb, const void *act,
                       size_t stride, int64_t n, int64_t k0, int64_t k1, int np, float *acc,
                       float *out)
{
    const uint8_t *w = vw;
    struct vstage s;
    for (int64_t i = k0 / QK_K; i < k1 / QK_K; i++) {
        const uint8_t *wb = w + (size_t)i * q.block_bytes;
        /* the rows' next blocks on their way while this one is used */
        for (int r = 0; r < ROWS; r++)
            for (size_t o = 0; o < q.block_bytes; o += 64)
                _mm_prefetch((const char *)wb + (size_t)r * rb + q.block_bytes + o, _MM_HINT_T0);
        stage(q, wb, rb, &s);
        const uint8_t *a = (const uint8_t *)act + (size_t)i * sizeof(block_q8_K);
        for (int p = 0; p < np; p += POS) {
            const uint8_t *ap = a + (size_t)p * stride;
            float *sp = acc + ROWS * p;
            switch (np - p >= POS ? POS : np - p) {
            case POS: block_positions(&s, ap, stride, POS, q.G, q.sub16, q.sep, sp); break;
            case 3: block_positions(&s, ap, stride, 3, q.G, q.sub16, q.sep, sp); break;
            case 2: block_positions(&s, ap, stride, 2, q.G, q.sub16, q.sep, sp); break;
            default: block_positions(&s, ap, stride, 1, q.G, q.sub16, q.sep, sp); break;
            }
        }
    }
    if (k1 < n)
        return;
    for (int r = 0; r < ROWS; r++)
        for (int p = 0; p < np; p++)
            out[r * np + p] = acc[ROWS * p + r];
}

#define TILE_K(name, blk, cpg, sub16, sep, G, d_off, dmin_off, scales)                            \
    static const struct vquant vq_##name = {sizeof(blk), cpg,      sub16,  sep,          G,       \
                                            d_off,       dmin_off, scales, chunks_##name};         \
    void ckpt_vec_tile_k_##name##_q8_K_vnni(const void *w, size_t row_bytes, const void *act,      \
                                            size_t act_stride, int64_t n, int64_t k0, int64_t k1,  \
                                            int np, float *acc, float *out)                        \
    {                                                                                              \
        tile_slice(vq_##name, w, row_bytes, act, act_stride, n, k0, k1, np, acc, out);             \
    }
TILE_K(q2_K, block_q2_K, 4, true, true, 2, 80, 82, scales_q2_K)
TILE_K(q3_K, block_q3_K, 4, true, false, 2, 108, -1, scales_q3_K)
TILE_K(q4_K, block_q4_K, 2, false, true, 4, 0, 2, scales_k4)
TILE_K(q5_K, block_q5_K, 2, false, true, 2, 0, 2, scales_k4)
TILE_K(q6_K, block_q6_K, 4, true, false, 1, 208, -1, scales_q6_K)
#undef TILE_K
