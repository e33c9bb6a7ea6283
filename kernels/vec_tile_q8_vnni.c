/*
 * vec_tile_q8_vnni.c - the K-slice tile (vec_dot.h) of Q8_0 against q8_0
 * activations with AVX-512 VNNI: the integer GEMM of a Q8_0 prefill step
 * on CPUs that have vpdpbusd.
 *
 * The single dot's lanes (vec_tile_q8_avx2.c, vec_dot_avx2.c): per block
 * of 32, eight int32 lane sums of four products |w| * (y signed by w),
 * then per lane acc += (d_w * d_y) * sum, a separate multiply and add.
 * Here a 512-bit register holds the eight lanes of two rows (a pair) at
 * one position, so vpdpbusd forms sixteen lane sums at once where the
 * avx2 tile spends maddubs and madd on eight, and each float step
 * advances two outputs.  |w|, the mask of w's negative bytes and the two
 * rows' scales are staged once per chunk of blocks (in L1) for every
 * position.  The products are exact and each lane sees the twin's float
 * operations in block order: every output has the bits of
 * ckpt_vec_dot_q8_0_q8_0_ref.
 *
 * Compiled with -mavx512f -mavx512bw -mavx512vl -mavx512vnni beside the
 * AVX2 flags; reached only through dispatch.c's avx512 table, when the
 * CPU has AVX512_VNNI.
 */
#include "vec_dot.h"

#include <immintrin.h>
#include <string.h>

#define Q8_BYTES 34 /* a q8_0 block: f16 scale, 32 int8 */
#define KB 32       /* blocks of a chunk: 2 pairs x 32 x 136 bytes staged, in L1 */
#define POS 4       /* positions of a register tile: 8 accumulators (6 measured no faster) */
#define UNROLL _Pragma("GCC unroll 16")
#define INLINE static inline __attribute__((always_inline))

/* A chunk of a quad's blocks, staged: pair k holds rows 2k and 2k+1. */
struct q8stage {
    __m512i abs[2][KB];  /* |w| of row 2k's block j, then row 2k+1's */
    __mmask64 neg[2][KB]; /* bytes where w < 0 */
    __m512 d[2][KB];      /* d_w of row 2k in lanes 0-7, of row 2k+1 in 8-15 */
};

INLINE float f16_at(const uint8_t *p)
{
    uint16_t h;
    memcpy(&h, p, 2);
    return _cvtsh_ss(h);
}

/* Blocks b0.. (kb of them) of the four rows at w into s. */
static void stage(const uint8_t *w, size_t rb, int64_t b0, int kb, struct q8stage *s)
{
    UNROLL for (int k = 0; k < 2; k++) {
        const uint8_t *r0 = w + (size_t)(2 * k) * rb + (size_t)b0 * Q8_BYTES;
        const uint8_t *r1 = r0 + rb;
        for (int j = 0; j < kb; j++, r0 += Q8_BYTES, r1 += Q8_BYTES) {
            const __m512i x = _mm512_inserti64x4(
                _mm512_castsi256_si512(_mm256_loadu_si256((const __m256i *)(r0 + 2))),
                _mm256_loadu_si256((const __m256i *)(r1 + 2)), 1);
            s->abs[k][j] = _mm512_abs_epi8(x); /* -128 stays 0x80: 128 unsigned */
            s->neg[k][j] = _mm512_movepi8_mask(x);
            s->d[k][j] = _mm512_castpd_ps(_mm512_insertf64x4(
                _mm512_castps_pd(_mm512_set1_ps(f16_at(r0))),
                _mm256_castps_pd(_mm256_set1_ps(f16_at(r1))), 1));
        }
    }
}

/* The staged chunk against P positions (q8_0 blocks of this chunk at
 * a + p*as), continuing the lanes of position p's quad at acc + 32p (a
 * pair's sixteen lanes one register). */
INLINE void pass(const struct q8stage *s, int kb, const uint8_t *a, size_t as, int P, float *acc)
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
            UNROLL for (int k = 0; k < 2; k++) {
                /* y signed by w: -y where w < 0 (the wrap of -(-128) as psignb's) */
                const __m512i sy = _mm512_mask_sub_epi8(y, s->neg[k][j], _mm512_setzero_si512(), y);
                const __m512i sum = _mm512_dpbusd_epi32(_mm512_setzero_si512(), s->abs[k][j], sy);
                const __m512 dd = _mm512_mul_ps(s->d[k][j], dy);
                lane[k][p] = _mm512_add_ps(lane[k][p], _mm512_mul_ps(dd, _mm512_cvtepi32_ps(sum)));
            }
        }
    }
    UNROLL for (int p = 0; p < P; p++)
        UNROLL for (int k = 0; k < 2; k++)
            _mm512_storeu_ps(acc + 32 * p + 16 * k, lane[k][p]);
}

/* Blocks [c0, c1) of the quad at w against np positions, on its lanes
 * (output (r, p) at lanes + (p*4 + r)*8). */
static void quad_blocks(const uint8_t *w, size_t rb, const uint8_t *act, size_t as, int64_t c0,
                        int64_t c1, int np, float *lanes, struct q8stage *s)
{
    for (int64_t b0 = c0; b0 < c1; b0 += KB) {
        const int kb = (int)(c1 - b0 < KB ? c1 - b0 : KB);
        stage(w, rb, b0, kb, s);
        const uint8_t *a = act + (size_t)b0 * Q8_BYTES;
        for (int p = 0; p < np; p += POS) {
            const uint8_t *ap = a + (size_t)p * as;
            float *lp = lanes + 32 * p;
            switch (np - p >= POS ? POS : np - p) {
            case POS: pass(s, kb, ap, as, POS, lp); break;
            case 3: pass(s, kb, ap, as, 3, lp); break;
            case 2: pass(s, kb, ap, as, 2, lp); break;
            default: pass(s, kb, ap, as, 1, lp); break;
            }
        }
    }
}

_Static_assert(CKPT_VEC_TILE_LANES == 8, "the lanes of a 32-block dot");
_Static_assert(CKPT_VEC_TILE_K_STEP % 32 == 0, "slices of whole 32-blocks");
_Static_assert(CKPT_VEC_TILE_K_ROWS == 8, "two quads of rows");
void ckpt_vec_tile_k_q8_0_q8_0_vnni(const void *vw, size_t row_bytes, const void *act,
                                    size_t act_stride, int64_t n, int64_t k0, int64_t k1, int np,
                                    float *acc, float *out)
{
    const uint8_t *w = vw;
    struct q8stage s;
    for (int q = 0; q < 2; q++) {
        float *lanes = acc + (size_t)q * 4 * (size_t)np * CKPT_VEC_TILE_LANES;
        quad_blocks(w + (size_t)(4 * q) * row_bytes, row_bytes, act, act_stride, k0 / 32, k1 / 32,
                    np, lanes, &s);
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
