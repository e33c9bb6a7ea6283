/*
 * vec_tile_k_avx2.c - four-row tiles of the k-quants against q8_K
 * activations (ckpt_vec_tile_fn, vec_dot.h): the integer GEMM of a
 * prefill step (a decode step, one position, takes the rows' single dots).
 *
 * Each 256-block of the four rows is unpacked once into a small staging
 * area (struct kstage, 2.2 KiB, in L1) laid out so that one maddubs
 * multiplies four elements of each of the four rows at once: group i of
 * chunk c (32 elements) holds dword i (elements 4i..4i+3) of rows 0..3 in
 * its low lane and dword i+4 (elements 16+4i..) in its high lane, and a
 * position's 32 activations reach it through one in-lane dword broadcast
 * (pshufd).  The int16 products of a chunk are summed before a single
 * madd by the rows' scales (the sums fit int16: see block_positions), so a
 * position costs per block 32 maddubs and 8 madd for four outputs, the
 * int32 lanes of the result already are the four rows (no horizontal sum),
 * and the bsums terms (mins, or the offset of the signed types) are four
 * more madds.  The float combination is then the scalar twin's
 * (vec_dot.c), per block in block order, four rows in the lanes of one
 * vector: the integer sums are exact in any order, so every output has
 * the bits of ckpt_vec_dot_<type>_q8_K_ref and of the single dot.
 *
 * Compiled with -mavx2 -mfma -mf16c; reached only through the avx2 table
 * of dispatch.c.
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
#define UNROLL _Pragma("GCC unroll 16")
#define INLINE static inline __attribute__((always_inline))

/* One 256-block of four weight rows, unpacked for the positions. */
struct kstage {
    __m256i w[8][4]; /* chunk c, group i: unsigned values, as above */
    __m256i sc[8];   /* chunk c: int16 scales [r0 r0 r1 r1 r2 r2 r3 r3] of its
                      * elements 0..15 (low lane) and 16..31 (high lane) */
    __m256i m[4];    /* weights of the bsums: int16 pairs (16-element
                      * sub-blocks 2i, 2i+1) of rows 0..3 in the low lane,
                      * (2i+8, 2i+9) in the high lane */
    __m128 d, dmin;  /* rows 0..3 */
};

/* v[r] lane c (int16, c < 8) to out[c] = [v0 v0 v1 v1 v2 v2 v3 v3] lane c */
INLINE void spread4(const __m128i v[4], __m128i out[8])
{
    const __m128i a = _mm_unpacklo_epi16(v[0], v[1]), b = _mm_unpacklo_epi16(v[2], v[3]);
    const __m128i c = _mm_unpackhi_epi16(v[0], v[1]), d = _mm_unpackhi_epi16(v[2], v[3]);
    const __m128i q[4] = {_mm_unpacklo_epi32(a, b), _mm_unpackhi_epi32(a, b),
                          _mm_unpacklo_epi32(c, d), _mm_unpackhi_epi32(c, d)};
    UNROLL for (int k = 0; k < 4; k++) {
        out[2 * k] = _mm_unpacklo_epi16(q[k], q[k]);
        out[2 * k + 1] = _mm_unpackhi_epi16(q[k], q[k]);
    }
}

/* The scales of the chunks' halves: lo[r] / hi[r] lane c the int16 scale
 * of elements 32c..32c+15 / 32c+16..32c+31 of row r. */
INLINE void stage_scales(const __m128i lo[4], const __m128i hi[4], struct kstage *s)
{
    __m128i l[8], h[8];
    spread4(lo, l);
    spread4(hi, h);
    UNROLL for (int c = 0; c < 8; c++)
        s->sc[c] = _mm256_set_m128i(h[c], l[c]);
}

/* Four f16 values (one per row, at w + r*rb + off) as floats: the value of
 * ckpt_f16_to_f32 (F16C), as the single dots widen them. */
INLINE __m128 four_f16(const uint8_t *w, size_t rb, size_t off)
{
    uint16_t h[4];
    UNROLL for (int r = 0; r < 4; r++)
        memcpy(&h[r], w + r * rb + off, 2);
    return _mm_cvtph_ps(_mm_set_epi16(0, 0, 0, 0, (short)h[3], (short)h[2], (short)h[1],
                                      (short)h[0]));
}

/* The int16 scales of the 16-element sub-blocks (one byte each, int8, in
 * v[r]): chunk c's low half takes sub-block 2c, its high half 2c+1. */
INLINE void stage_scales16(const __m128i v[4], struct kstage *s)
{
    const __m128i split = _mm_setr_epi8(0, 2, 4, 6, 8, 10, 12, 14, 1, 3, 5, 7, 9, 11, 13, 15);
    __m128i even[4], odd[4];
    UNROLL for (int r = 0; r < 4; r++) {
        const __m128i e = _mm_shuffle_epi8(v[r], split);
        even[r] = _mm_cvtepi8_epi16(e);
        odd[r] = _mm_cvtepi8_epi16(_mm_srli_si128(e, 8));
    }
    stage_scales(even, odd, s);
}

/* The bsums weights of four rows (m[r] lane l: sub-block l) into s->m. */
INLINE void stage_bsums(const __m256i m[4], struct kstage *s)
{
    ck_transpose4(m[0], m[1], m[2], m[3], s->m);
}

/* One k-quant: its block, how its values are read (group g of chunks
 * cpg*g .. cpg*g + cpg-1, transposed as struct kstage.w; scales: sc, m, d
 * and dmin), and how its block value is formed (wide, sep: see
 * chunk_sum and block_value). */
struct kquant {
    size_t block_bytes;
    int cpg;
    bool wide, sep;
    void (*scales)(const uint8_t *w, size_t rb, struct kstage *s);
    void (*group)(const uint8_t *w, size_t rb, int g, __m256i x[][4]);
    ckpt_vec_dot_fn dot; /* its single dot (vec_dot_avx2.c) */
    /* its four dots side by side (vec_dot_avx2.c), or NULL */
    void (*decode4)(const void *w, size_t rb, const void *a, int64_t n, float out[4]);
};

/* q4_K (d, dmin, scales[12], qs[128]): chunk 2j takes the low nibbles of
 * qs[32j..], chunk 2j+1 the high ones; one scale and one min per chunk;
 * the mins make the separate summ of the twin's d * sumi - dmin * summ. */
INLINE void scales_q4_K(const uint8_t *w, size_t rb, struct kstage *s)
{
    __m128i sc[4];
    __m256i mins[4];
    UNROLL for (int r = 0; r < 4; r++) {
        __m128i mn;
        ck_k4_scales_mins(w + r * rb + 4, &sc[r], &mn);
        mins[r] = _mm256_set_m128i(_mm_unpackhi_epi16(mn, mn), _mm_unpacklo_epi16(mn, mn));
    }
    stage_scales(sc, sc, s);
    stage_bsums(mins, s);
    s->d = four_f16(w, rb, 0);
    s->dmin = four_f16(w, rb, 2);
}

/* chunks 2j, 2j+1 of q4_K (qh_off 0) or q5_K (its qh at qh_off) */
INLINE void group_k4(const uint8_t *w, size_t rb, size_t qs_off, size_t qh_off, int j,
                     __m256i x[][4])
{
    __m256i lo[4], hi[4];
    UNROLL for (int r = 0; r < 4; r++)
        ck_k4_chunks(w + r * rb + qs_off, qh_off ? w + r * rb + qh_off : NULL, j, &lo[r], &hi[r]);
    ck_transpose4(lo[0], lo[1], lo[2], lo[3], x[0]);
    ck_transpose4(hi[0], hi[1], hi[2], hi[3], x[1]);
}

INLINE void group_q4_K(const uint8_t *w, size_t rb, int j, __m256i x[][4])
{
    group_k4(w, rb, 16, 0, j, x);
}

/* q5_K (d, dmin, scales[12], qh[32], qs[128]): q4_K's scales and nibbles,
 * plus the fifth bits (values 0..31) */
INLINE void group_q5_K(const uint8_t *w, size_t rb, int j, __m256i x[][4])
{
    group_k4(w, rb, 48, 16, j, x);
}

/* q6_K (ql[128], qh[64], scales[16] int8, d): values 0..63 and one scale
 * per 16 elements; the offset 32 is folded into the twin's exact integer
 * sum: sumi = sum sc * (q . y) - 32 * sum sc * bsums. */
INLINE void scales_q6_K(const uint8_t *w, size_t rb, struct kstage *s)
{
    __m128i v[4];
    __m256i off[4];
    UNROLL for (int r = 0; r < 4; r++) {
        v[r] = _mm_loadu_si128((const __m128i *)(const void *)(w + r * rb + 192));
        off[r] = _mm256_slli_epi16(_mm256_cvtepi8_epi16(v[r]), 5);
    }
    stage_scales16(v, s);
    stage_bsums(off, s);
    s->d = four_f16(w, rb, 208);
    s->dmin = _mm_setzero_ps();
}

/* chunks 4h .. 4h+3 of q6_K: the 128-element half h */
INLINE void group_q6_K(const uint8_t *w, size_t rb, int h, __m256i x[][4])
{
    __m256i q[4][4];
    UNROLL for (int r = 0; r < 4; r++)
        ck_q6k_half(w + r * rb + 64 * h, w + r * rb + 128 + 32 * h, q[r]);
    UNROLL for (int g = 0; g < 4; g++)
        ck_transpose4(q[0][g], q[1][g], q[2][g], q[3][g], x[g]);
}

/* q3_K (hmask[32], qs[64], scales[12], d): u = low2 | high << 2 in 0..7,
 * q = u - 4, so the offset folds into sumi as for q6_K with 4 * sc;
 * signed 6-bit scales, one per 16 elements (quant_blocks.h). */
INLINE void scales_q3_K(const uint8_t *w, size_t rb, struct kstage *s)
{
    __m128i v[4];
    __m256i off[4];
    UNROLL for (int r = 0; r < 4; r++) {
        v[r] = ck_q3k_scales(w + r * rb + 96);
        off[r] = _mm256_slli_epi16(_mm256_cvtepi8_epi16(v[r]), 2);
    }
    stage_scales16(v, s);
    stage_bsums(off, s);
    s->d = four_f16(w, rb, 108);
    s->dmin = _mm_setzero_ps();
}

/* two-bit fields of the 128-element half h: chunk 4h + k is
 * (qs[32h + l] >> 2k) & 3; q3_K adds bit 4h + k of hmask[l] as 4 */
INLINE void group_2bit(const uint8_t *w, size_t rb, size_t qs_off, bool hmask, int h,
                       __m256i x[][4])
{
    UNROLL for (int k = 0; k < 4; k++) {
        __m256i u[4];
        UNROLL for (int r = 0; r < 4; r++)
            u[r] = ck_2bit_chunk(w + r * rb + qs_off, hmask ? w + r * rb : NULL, h, k);
        ck_transpose4(u[0], u[1], u[2], u[3], x[k]);
    }
}

INLINE void group_q3_K(const uint8_t *w, size_t rb, int h, __m256i x[][4])
{
    group_2bit(w, rb, 32, true, h, x);
}

/* q2_K (scales[16]: scale low nibble, min high nibble; qs[64]; d, dmin):
 * values 0..3, sub-blocks of 16, mins kept apart as for q4_K */
INLINE void scales_q2_K(const uint8_t *w, size_t rb, struct kstage *s)
{
    const __m128i m4 = _mm_set1_epi8(0xF);
    __m128i v[4];
    __m256i mins[4];
    UNROLL for (int r = 0; r < 4; r++) {
        const __m128i b = _mm_loadu_si128((const __m128i *)(const void *)(w + r * rb));
        v[r] = _mm_and_si128(b, m4);
        mins[r] = _mm256_cvtepu8_epi16(_mm_and_si128(_mm_srli_epi16(b, 4), m4));
    }
    stage_scales16(v, s);
    stage_bsums(mins, s);
    s->d = four_f16(w, rb, 80);
    s->dmin = four_f16(w, rb, 82);
}

INLINE void group_q2_K(const uint8_t *w, size_t rb, int h, __m256i x[][4])
{
    group_2bit(w, rb, 16, false, h, x);
}

/* The int32 sums of one chunk (its four transposed groups x) with a
 * position's 32 activations y, scaled: lanes [r0 r1 r2 r3] of the low
 * half | of the high half.  wide: values up to 63, so only two maddubs
 * (four products of at most 63 * 128 per int16 lane) are summed before a
 * madd; otherwise (values up to 31: eight products) all four. */
INLINE __m256i chunk_sum(const __m256i x[4], __m256i sc, __m256i y, bool wide)
{
    const __m256i t0 = _mm256_maddubs_epi16(x[0], _mm256_shuffle_epi32(y, 0x00));
    const __m256i t1 = _mm256_maddubs_epi16(x[1], _mm256_shuffle_epi32(y, 0x55));
    const __m256i t2 = _mm256_maddubs_epi16(x[2], _mm256_shuffle_epi32(y, 0xAA));
    const __m256i t3 = _mm256_maddubs_epi16(x[3], _mm256_shuffle_epi32(y, 0xFF));
    if (wide)
        return _mm256_add_epi32(_mm256_madd_epi16(_mm256_add_epi16(t0, t1), sc),
                                _mm256_madd_epi16(_mm256_add_epi16(t2, t3), sc));
    return _mm256_madd_epi16(_mm256_add_epi16(_mm256_add_epi16(t0, t1), _mm256_add_epi16(t2, t3)),
                             sc);
}

/* The block's value for the four rows at one position (q8_K block ap, acc
 * its scaled integer sums from chunk_sum) added to sumf[0..3], in the
 * twin's float order.  sep: the bsums term is the separate summ of
 * d * sumi - dmin * summ; otherwise it is subtracted from sumi. */
INLINE void block_value(const struct kstage *s, const uint8_t *ap, __m256i acc, bool sep,
                        float *sumf)
{
    const __m256i b = ck_load256(ap + Q8K_BSUMS);
    const __m256i mm =
        _mm256_add_epi32(_mm256_add_epi32(_mm256_madd_epi16(s->m[0], _mm256_shuffle_epi32(b, 0x00)),
                                          _mm256_madd_epi16(s->m[1], _mm256_shuffle_epi32(b, 0x55))),
                         _mm256_add_epi32(_mm256_madd_epi16(s->m[2], _mm256_shuffle_epi32(b, 0xAA)),
                                          _mm256_madd_epi16(s->m[3], _mm256_shuffle_epi32(b, 0xFF))));
    const __m256i t = sep ? acc : _mm256_sub_epi32(acc, mm);
    const __m128i sumi = _mm_add_epi32(_mm256_castsi256_si128(t), _mm256_extracti128_si256(t, 1));
    float dyf;
    memcpy(&dyf, ap, 4);
    const __m128 dy = _mm_set1_ps(dyf);
    __m128 v = _mm_mul_ps(_mm_mul_ps(s->d, dy), _mm_cvtepi32_ps(sumi));
    if (sep) {
        const __m128i summ =
            _mm_add_epi32(_mm256_castsi256_si128(mm), _mm256_extracti128_si256(mm, 1));
        v = _mm_sub_ps(v, _mm_mul_ps(_mm_mul_ps(s->dmin, dy), _mm_cvtepi32_ps(summ)));
    }
    _mm_storeu_ps(sumf, _mm_add_ps(_mm_loadu_ps(sumf), v));
}

/* The staged block against P positions (q8_K blocks at a + p*stride) into
 * sumf[4p + r]. */
INLINE void block_positions(const struct kstage *s, const uint8_t *a, size_t stride, int P,
                            bool wide, bool sep, float *sumf)
{
    __m256i acc[4];
    UNROLL for (int p = 0; p < P; p++)
        acc[p] = _mm256_setzero_si256();
    UNROLL for (int c = 0; c < 8; c++)
        UNROLL for (int p = 0; p < P; p++) {
            const __m256i y = ck_load256(a + (size_t)p * stride + Q8K_QS + 32 * c);
            acc[p] = _mm256_add_epi32(acc[p], chunk_sum(s->w[c], s->sc[c], y, wide));
            /* keep each sum a running register: gcc otherwise reassociates
             * the unrolled sums into a tree and spills every chunk's
             * terms to the stack (measured 3% slower on q4_K, 10% on q6_K) */
            __asm__("" : "+x"(acc[p]));
        }
    UNROLL for (int p = 0; p < P; p++)
        block_value(s, a + (size_t)p * stride, acc[p], sep, sumf + 4 * p);
}

/* Blocks b0..b1 of nq quads of rows (4*nq rows) against np positions,
 * added to the running sums: quad k's sum of row r at position p in
 * sums[k * quad + 4p + r].  Block by block, each quad staged once and
 * every position passed over the quads four at a time (the positions'
 * activations, just read, meet the second quad in L1). */
INLINE void tile_blocks(const struct kquant q, const uint8_t *w, size_t rb, const uint8_t *act,
                        size_t stride, int64_t b0, int64_t b1, int np, int nq, float *sums,
                        int64_t quad)
{
    struct kstage s[CKPT_VEC_TILE_K_ROWS / 4];
    for (int64_t i = b0; i < b1; i++) {
        const uint8_t *a = act + (size_t)i * sizeof(block_q8_K);
        for (int k = 0; k < nq; k++) {
            const uint8_t *wb = w + (size_t)(4 * k) * rb + (size_t)i * q.block_bytes;
            /* the rows' next blocks on their way while this one is staged
             * and used (past a slice's end: the next slice's first) */
            for (int r = 0; r < 4; r++)
                for (size_t o = 0; o < q.block_bytes; o += 64)
                    _mm_prefetch((const char *)wb + (size_t)r * rb + q.block_bytes + o,
                                 _MM_HINT_T0);
            q.scales(wb, rb, &s[k]);
            for (int g = 0; g < 8 / q.cpg; g++)
                q.group(wb, rb, g, &s[k].w[g * q.cpg]);
        }
        for (int p = 0; p < np; p += 4) {
            const uint8_t *ap = a + (size_t)p * stride;
            for (int k = 0; k < nq; k++) {
                float *sp = sums + k * quad + 4 * p;
                if (np - p >= 4)
                    block_positions(&s[k], ap, stride, 4, q.wide, q.sep, sp);
                else if (np - p == 3)
                    block_positions(&s[k], ap, stride, 3, q.wide, q.sep, sp);
                else if (np - p == 2)
                    block_positions(&s[k], ap, stride, 2, q.wide, q.sep, sp);
                else
                    block_positions(&s[k], ap, stride, 1, q.wide, q.sep, sp);
            }
        }
    }
}

/* The four-row tile of one k-quant over whole rows; a single position
 * through the rows' dots. */
INLINE void tile_rows(const struct kquant q, const void *vw, size_t rb, const void *va,
                      size_t stride, int64_t n, int np, float *out)
{
    const uint8_t *w = vw;
    /* A single position (a decode step) reads each weight byte once
     * whatever the kernel: staging would only add work.  Where the type
     * has them, its four dots side by side (the table spreads its rows,
     * dispatch.c: four streams of the weights); else the dots one after
     * the other (four neighbouring rows side by side had measured slower
     * on the AVX2 machine, 42 against 58 tok/s of a Q4_K_M decode). */
    if (np == 1) {
        if (q.decode4) {
            q.decode4(w, rb, va, n, out);
            return;
        }
        for (int r = 0; r < 4; r++)
            out[r] = q.dot(w + r * rb, va, n);
        return;
    }
    float sumf[4 * CKPT_VEC_TILE_NP_MAX];
    memset(sumf, 0, sizeof(float) * 4 * (size_t)np);
    tile_blocks(q, w, rb, va, stride, 0, n / QK_K, np, 1, sumf, 0);
    for (int r = 0; r < 4; r++)
        for (int p = 0; p < np; p++)
            out[r * np + p] = sumf[4 * p + r];
}

/* The K-slice tile (vec_dot.h) of one k-quant: the running sums are the
 * twin's per-output float sum, kept in the first 4*np floats of each
 * quad's part of acc; at k1 == n they are the values. */
INLINE void tile_slice(const struct kquant q, const void *w, size_t rb, const void *act,
                       size_t stride, int64_t n, int64_t k0, int64_t k1, int np, float *acc,
                       float *out)
{
    const int nq = CKPT_VEC_TILE_K_ROWS / 4;
    const int64_t quad = (int64_t)np * 4 * CKPT_VEC_TILE_LANES;
    tile_blocks(q, w, rb, act, stride, k0 / QK_K, k1 / QK_K, np, nq, acc, quad);
    if (k1 < n)
        return;
    for (int r = 0; r < 4 * nq; r++)
        for (int p = 0; p < np; p++)
            out[r * np + p] = acc[(r / 4) * quad + 4 * p + r % 4];
}

#define TILE_K(name, blk, cpg, wide, sep, scales, dot, decode4)                                   \
    static const struct kquant kq_##name = {sizeof(blk), cpg, wide, sep, scales, group_##name,     \
                                            dot, decode4};                                         \
    void ckpt_vec_tile_##name##_q8_K_avx2(const void *w, size_t row_bytes, const void *act,        \
                                          size_t act_stride, int64_t n, int np, float *out)        \
    {                                                                                              \
        tile_rows(kq_##name, w, row_bytes, act, act_stride, n, np, out);                           \
    }                                                                                              \
    void ckpt_vec_tile_k_##name##_q8_K_avx2(const void *w, size_t row_bytes, const void *act,      \
                                            size_t act_stride, int64_t n, int64_t k0, int64_t k1,  \
                                            int np, float *acc, float *out)                        \
    {                                                                                              \
        tile_slice(kq_##name, w, row_bytes, act, act_stride, n, k0, k1, np, acc, out);             \
    }
TILE_K(q2_K, block_q2_K, 4, false, true, scales_q2_K, ckpt_vec_dot_q2_K_q8_K_avx2, NULL)
TILE_K(q3_K, block_q3_K, 4, false, false, scales_q3_K, ckpt_vec_dot_q3_K_q8_K_avx2, NULL)
TILE_K(q4_K, block_q4_K, 2, false, true, scales_q4_K, ckpt_vec_dot_q4_K_q8_K_avx2,
       ckpt_vec_decode4_q4_K_q8_K_avx2)
/* q5_K: q4_K's scales and mins */
TILE_K(q5_K, block_q5_K, 2, false, true, scales_q4_K, ckpt_vec_dot_q5_K_q8_K_avx2,
       ckpt_vec_decode4_q5_K_q8_K_avx2)
TILE_K(q6_K, block_q6_K, 4, true, false, scales_q6_K, ckpt_vec_dot_q6_K_q8_K_avx2,
       ckpt_vec_decode4_q6_K_q8_K_avx2)
#undef TILE_K
