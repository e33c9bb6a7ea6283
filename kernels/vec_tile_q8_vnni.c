/*
 * vec_tile_q8_vnni.c - the K-slice tiles (vec_dot.h) of the 32-element
 * block types against q8_0 activations (Q8_0, the legacy types, IQ4_NL)
 * with AVX-512 VNNI: the integer GEMM of their prefill steps on CPUs that
 * have vpdpbusd.
 *
 * The single dot's lanes (vec_tile_q8_avx2.c, vec_dot_avx2.c): per block
 * of 32, eight int32 lane sums of four products, |w| * (y signed by w) for
 * the signed types, w * y for the offset types (q4_1, q5_1), then per lane
 * acc += (d_w * d_y) * sum, and for the offset types
 * + (m_w * d_y) * sum(y), separate IEEE multiplies and adds.
 * Here a 512-bit register holds the eight lanes of two rows (a pair) at
 * one position, so vpdpbusd forms sixteen lane sums at once where the
 * avx2 tile spends maddubs and madd on eight, and each float step
 * advances two outputs.  The values (|w| and the mask of w's negative
 * bytes, or w) and the two rows' scales are staged once per chunk of
 * blocks (in L1) for every position.  The products are exact and each
 * lane sees the twin's float operations in block order: every output has
 * the bits of ckpt_vec_dot_<type>_q8_0_ref.
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
#include "vec_q32_avx2.h"

#define Q8_BYTES 34 /* a q8_0 block: f16 scale, 32 int8 */
#define KB 32       /* blocks of a chunk: 2 pairs x 32 x 200 bytes staged, in L1 */
#define POS 4       /* positions of a register tile: 8 accumulators (6 measured no faster) */
#define UNROLL _Pragma("GCC unroll 16")
#define INLINE static inline __attribute__((always_inline))

/* A weight type: its block's bytes, its values (vec_q32_avx2.h), the
 * offset m's byte in the block (0: a signed type, no offset). */
typedef __m256i (*values_fn)(const uint8_t *b);
struct q32kind {
    size_t bytes;
    int m_at;
    values_fn values;
};

/* A chunk of a quad's blocks, staged: pair k holds rows 2k and 2k+1. */
struct q8stage {
    __m512i abs[2][KB];  /* |w| (the offset types: w) of row 2k's block j, then row 2k+1's */
    __mmask64 neg[2][KB]; /* bytes where w < 0 */
    __m512 d[2][KB];      /* d_w of row 2k in lanes 0-7, of row 2k+1 in 8-15 */
    __m512 m[2][KB];      /* the offset types' m_w, the same way */
};

INLINE float f16_at(const uint8_t *p)
{
    uint16_t h;
    memcpy(&h, p, 2);
    return _cvtsh_ss(h);
}

/* the f16 at a in lanes 0-7, at b in lanes 8-15 */
INLINE __m512 two_scales(const uint8_t *a, const uint8_t *b)
{
    return _mm512_castpd_ps(_mm512_insertf64x4(_mm512_castps_pd(_mm512_set1_ps(f16_at(a))),
                                               _mm256_castps_pd(_mm256_set1_ps(f16_at(b))), 1));
}

/* Blocks b0.. (kb of them) of the four rows at w into s. */
INLINE void stage(const struct q32kind t, const uint8_t *w, size_t rb, int64_t b0, int kb,
                  struct q8stage *s)
{
    UNROLL for (int k = 0; k < 2; k++) {
        const uint8_t *r0 = w + (size_t)(2 * k) * rb + (size_t)b0 * t.bytes;
        const uint8_t *r1 = r0 + rb;
        for (int j = 0; j < kb; j++, r0 += t.bytes, r1 += t.bytes) {
            const __m512i x =
                _mm512_inserti64x4(_mm512_castsi256_si512(t.values(r0)), t.values(r1), 1);
            s->d[k][j] = two_scales(r0, r1);
            if (t.m_at) {
                s->abs[k][j] = x;
                s->m[k][j] = two_scales(r0 + t.m_at, r1 + t.m_at);
            } else {
                s->abs[k][j] = _mm512_abs_epi8(x); /* -128 stays 0x80: 128 unsigned */
                s->neg[k][j] = _mm512_movepi8_mask(x);
            }
        }
    }
}

/* The staged chunk against P positions (q8_0 blocks of this chunk at
 * a + p*as), continuing the lanes of position p's quad at acc + 32p (a
 * pair's sixteen lanes one register). */
INLINE void pass(const struct q8stage *s, int kb, const uint8_t *a, size_t as, int P, bool offset,
                 float *acc)
{
    __m512 lane[2][POS];
    UNROLL for (int p = 0; p < P; p++)
        UNROLL for (int k = 0; k < 2; k++)
            lane[k][p] = _mm512_loadu_ps(acc + 32 * p + 16 * k);
    for (int j = 0; j < kb; j++) {
        UNROLL for (int p = 0; p < P; p++) {
            const uint8_t *b = a + (size_t)p * as + (size_t)j * Q8_BYTES;
            const __m512i y = _mm512_broadcast_i64x4(_mm256_loadu_si256((const __m256i *)(b + 2)));
            const __m512 dy = _mm512_set1_ps(f16_at(b));
            /* the offset types: the lane sums of y, as floats */
            const __m512 ysum = offset ? _mm512_cvtepi32_ps(_mm512_dpbusd_epi32(
                                             _mm512_setzero_si512(), _mm512_set1_epi8(1), y))
                                       : _mm512_setzero_ps();
            UNROLL for (int k = 0; k < 2; k++) {
                /* y signed by w: -y where w < 0 (the wrap of -(-128) as psignb's) */
                const __m512i sy =
                    offset ? y : _mm512_mask_sub_epi8(y, s->neg[k][j], _mm512_setzero_si512(), y);
                const __m512i sum = _mm512_dpbusd_epi32(_mm512_setzero_si512(), s->abs[k][j], sy);
                const __m512 dd = _mm512_mul_ps(s->d[k][j], dy);
                __m512 t = _mm512_mul_ps(dd, _mm512_cvtepi32_ps(sum));
                if (offset)
                    t = _mm512_add_ps(t, _mm512_mul_ps(_mm512_mul_ps(s->m[k][j], dy), ysum));
                lane[k][p] = _mm512_add_ps(lane[k][p], t);
            }
        }
    }
    UNROLL for (int p = 0; p < P; p++)
        UNROLL for (int k = 0; k < 2; k++)
            _mm512_storeu_ps(acc + 32 * p + 16 * k, lane[k][p]);
}

/* Blocks [c0, c1) of the quad at w against np positions, on its lanes
 * (output (r, p) at lanes + (p*4 + r)*8). */
INLINE void quad_blocks(const struct q32kind t, const uint8_t *w, size_t rb, const uint8_t *act,
                        size_t as, int64_t c0, int64_t c1, int np, float *lanes, struct q8stage *s)
{
    const bool offset = t.m_at != 0;
    for (int64_t b0 = c0; b0 < c1; b0 += KB) {
        const int kb = (int)(c1 - b0 < KB ? c1 - b0 : KB);
        stage(t, w, rb, b0, kb, s);
        const uint8_t *a = act + (size_t)b0 * Q8_BYTES;
        for (int p = 0; p < np; p += POS) {
            const uint8_t *ap = a + (size_t)p * as;
            float *lp = lanes + 32 * p;
            switch (np - p >= POS ? POS : np - p) {
            case POS: pass(s, kb, ap, as, POS, offset, lp); break;
            case 3: pass(s, kb, ap, as, 3, offset, lp); break;
            case 2: pass(s, kb, ap, as, 2, offset, lp); break;
            default: pass(s, kb, ap, as, 1, offset, lp); break;
            }
        }
    }
}

_Static_assert(CKPT_VEC_TILE_LANES == 8, "the lanes of a 32-block dot");
_Static_assert(CKPT_VEC_TILE_K_STEP % 32 == 0, "slices of whole 32-blocks");
_Static_assert(CKPT_VEC_TILE_K_ROWS == 8, "two quads of rows");
INLINE void tile_slice(const struct q32kind t, const void *vw, size_t row_bytes, const void *act,
                       size_t act_stride, int64_t n, int64_t k0, int64_t k1, int np, float *acc,
                       float *out)
{
    const uint8_t *w = vw;
    struct q8stage s;
    for (int q = 0; q < 2; q++) {
        float *lanes = acc + (size_t)q * 4 * (size_t)np * CKPT_VEC_TILE_LANES;
        quad_blocks(t, w + (size_t)(4 * q) * row_bytes, row_bytes, act, act_stride, k0 / 32,
                    k1 / 32, np, lanes, &s);
        if (k1 < n)
            continue;
        /* the lanes reduced as the single dot reduces them */
        for (int p = 0; p < np; p++)
            for (int r = 0; r < 4; r++) {
                const float *l = lanes + (p * 4 + r) * 8;
                out[(size_t)(4 * q + r) * (size_t)np + (size_t)p] =
                    ((l[0] + l[4]) + (l[2] + l[6])) + ((l[1] + l[5]) + (l[3] + l[7]));
            }
    }
}

#define TILE_K(T, BLK, M_AT)                                                                       \
    void ckpt_vec_tile_k_##T##_q8_0_vnni(const void *w, size_t row_bytes, const void *act,         \
                                         size_t act_stride, int64_t n, int64_t k0, int64_t k1,     \
                                         int np, float *acc, float *out)                           \
    {                                                                                              \
        const struct q32kind t = {sizeof(BLK), M_AT, values_##T};                                  \
        tile_slice(t, w, row_bytes, act, act_stride, n, k0, k1, np, acc, out);                     \
    }
TILE_K(q8_0, block_q8_0, 0)
TILE_K(q4_0, block_q4_0, 0)
TILE_K(q4_1, block_q4_1, 2)
TILE_K(q5_0, block_q5_0, 0)
TILE_K(q5_1, block_q5_1, 2)
TILE_K(iq4_nl, block_iq4_nl, 0)
#undef TILE_K
