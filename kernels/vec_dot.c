/*
 * vec_dot.c - the scalar references of the quantized-activation dots and
 * of the fused F16/BF16 dots (see vec_dot.h), and the scalar table.  These
 * are the orders the AVX2 siblings reproduce bit for bit: integer block
 * sums are exact in any order, so only the float combination is written
 * out here, one block (or one lane of a block) at a time.
 */
#include "vec_dot.h"

#include <math.h>
#include <string.h>

#include "dot.h"
#include "fp16.h"
#include "quant_blocks.h"
#include "quant_k_common.h"
#include "quant_kernels.h"

#define QK_K 256
#define LANES 8

size_t ckpt_act_row_bytes(ckpt_type act, int64_t n)
{
    if (n < 0)
        return 0;
    switch (act) {
    case CKPT_TYPE_Q8_0:
        return n % CKPT_QK8_0 ? 0 : (size_t)(n / CKPT_QK8_0) * sizeof(block_q8_0);
    case CKPT_TYPE_Q8_K:
        return n % QK_K ? 0 : (size_t)(n / QK_K) * sizeof(block_q8_K);
    case CKPT_TYPE_F32:
        return (size_t)n * sizeof(float);
    default:
        return 0;
    }
}

void ckpt_act_quant_q8_0_ref(const float *x, void *dst, int64_t n)
{
    ckpt_quantize_row_q8_0_ref(x, dst, n);
}

void ckpt_act_quant_q8_K_ref(const float *x, void *dst, int64_t n)
{
    ckpt_quantize_row_q8_K_ref(x, dst, n);
}

/* ==== k-quants x q8_K ==== */

/* One q4_K or q5_K block (qh: the q5_K fifth bits, NULL for q4_K) against a
 * q8_K block: d * sumi - dmin * summ as vec_dot.h says. */
static float k4_block(const uint8_t scales[12], const uint8_t qs[128], const uint8_t *qh,
                      uint16_t d16, uint16_t dmin16, const block_q8_K *y)
{
    int32_t sumi = 0, summ = 0;
    for (int j = 0; j < 8; j++) {
        uint8_t sc, m;
        ckpt_get_scale_min_k4(j, scales, &sc, &m);
        int32_t s = 0;
        const uint8_t *q = qs + 32 * (j / 2);
        for (int l = 0; l < 32; l++) {
            int v = j % 2 ? q[l] >> 4 : q[l] & 0xF;
            if (qh)
                v += ((qh[l] >> j) & 1) * 16;
            s += v * y->qs[32 * j + l];
        }
        sumi += sc * s;
        summ += m * (y->bsums[2 * j] + y->bsums[2 * j + 1]);
    }
    const float d = ckpt_f16_to_f32(d16) * y->d, dmin = ckpt_f16_to_f32(dmin16) * y->d;
    return d * (float)sumi - dmin * (float)summ;
}

static float q4_K_block(const uint8_t *w, const block_q8_K *y)
{
    block_q4_K x;
    memcpy(&x, w, sizeof x);
    return k4_block(x.scales, x.qs, NULL, x.d, x.dmin, y);
}

static float q5_K_block(const uint8_t *w, const block_q8_K *y)
{
    block_q5_K x;
    memcpy(&x, w, sizeof x);
    return k4_block(x.scales, x.qs, x.qh, x.d, x.dmin, y);
}

static float q6_K_block(const uint8_t *w, const block_q8_K *y)
{
    block_q6_K x;
    memcpy(&x, w, sizeof x);
    int32_t sumi = 0;
    /* element e of a 128-half h: ql[64h + e%64] nibble e/64, qh[32h + e%32] bits 2*(e/32) */
    for (int e = 0; e < QK_K; e += 16) {
        int32_t s = 0;
        for (int k = e; k < e + 16; k++) {
            int h = k / 128, r = k % 128;
            int lo = x.ql[64 * h + r % 64] >> (4 * (r / 64)) & 0xF;
            int hi = x.qh[32 * h + r % 32] >> (2 * (r / 32)) & 3;
            s += ((lo | hi << 4) - 32) * y->qs[k];
        }
        sumi += x.scales[e / 16] * s;
    }
    return ckpt_f16_to_f32(x.d) * y->d * (float)sumi;
}

/* Signed scale j (-32..31) of a q3_K block (as the dequantizer reads it). */
static int q3_scale(const uint8_t scales[12], int j)
{
    int lo = j < 8 ? scales[j] & 0xF : scales[j - 8] >> 4;
    int hi = (scales[8 + j % 4] >> (2 * (j / 4))) & 3;
    return (lo | hi << 4) - 32;
}

static float q3_K_block(const uint8_t *w, const block_q8_K *y)
{
    block_q3_K x;
    memcpy(&x, w, sizeof x);
    int32_t sumi = 0;
    /* element k: 2 bits at qs[32*(k/128) + k%32] >> 2*((k%128)/32), high bit
     * hmask[k%32] bit k/32 (clear: minus 4); scale of the 16 elements k/16 */
    for (int g = 0; g < 16; g++) {
        int32_t s = 0;
        for (int k = 16 * g; k < 16 * g + 16; k++) {
            int q = (x.qs[32 * (k / 128) + k % 32] >> (2 * ((k % 128) / 32))) & 3;
            q -= (x.hmask[k % 32] >> (k / 32) & 1) ? 0 : 4;
            s += q * y->qs[k];
        }
        sumi += q3_scale(x.scales, g) * s;
    }
    return ckpt_f16_to_f32(x.d) * y->d * (float)sumi;
}

static float q2_K_block(const uint8_t *w, const block_q8_K *y)
{
    block_q2_K x;
    memcpy(&x, w, sizeof x);
    int32_t sumi = 0, summ = 0;
    /* element k: qs[32*(k/128) + k%32] >> 2*((k%128)/32); scale byte k/16 */
    for (int g = 0; g < 16; g++) {
        int32_t s = 0;
        for (int k = 16 * g; k < 16 * g + 16; k++)
            s += ((x.qs[32 * (k / 128) + k % 32] >> (2 * ((k % 128) / 32))) & 3) * y->qs[k];
        sumi += (x.scales[g] & 0xF) * s;
        summ += (x.scales[g] >> 4) * y->bsums[g];
    }
    const float d = ckpt_f16_to_f32(x.d) * y->d, dmin = ckpt_f16_to_f32(x.dmin) * y->d;
    return d * (float)sumi - dmin * (float)summ;
}

/* The block sums of any k-quant (blocks of block_bytes) added in block order. */
static float dot_k(float (*block)(const uint8_t *, const block_q8_K *), size_t block_bytes,
                   const uint8_t *w, const uint8_t *a, int64_t n)
{
    float sumf = 0.0f;
    for (int64_t i = 0; i < n / QK_K; i++, w += block_bytes, a += sizeof(block_q8_K)) {
        block_q8_K y;
        memcpy(&y, a, sizeof y);
        sumf += block(w, &y);
    }
    return sumf;
}

#define DOT_K(name, blk)                                                                           \
    float ckpt_vec_dot_##name##_q8_K_ref(const void *w, const void *a, int64_t n)                  \
    {                                                                                              \
        return dot_k(name##_block, sizeof(blk), w, a, n);                                          \
    }
DOT_K(q2_K, block_q2_K)
DOT_K(q3_K, block_q3_K)
DOT_K(q4_K, block_q4_K)
DOT_K(q5_K, block_q5_K)
DOT_K(q6_K, block_q6_K)
#undef DOT_K

/* ==== 32-element blocks x q8_0 ==== */

static float reduce_lanes(const float l[LANES])
{
    return ((l[0] + l[4]) + (l[2] + l[6])) + ((l[1] + l[5]) + (l[3] + l[7]));
}

/* The weights' integer values of one 32-block (and its f16 scale and
 * offset: m is 0 for the symmetric types). */
typedef void (*unpack32_fn)(const uint8_t *blk, int8_t q[32], float *d, float *m);

static void unpack_q8_0(const uint8_t *blk, int8_t q[32], float *d, float *m)
{
    block_q8_0 b;
    memcpy(&b, blk, sizeof b);
    memcpy(q, b.qs, 32);
    *d = ckpt_f16_to_f32(b.d);
    *m = 0.0f;
}

static void unpack_q4_0(const uint8_t *blk, int8_t q[32], float *d, float *m)
{
    block_q4_0 b;
    memcpy(&b, blk, sizeof b);
    for (int j = 0; j < 16; j++) {
        q[j] = (int8_t)((b.qs[j] & 0xF) - 8);
        q[j + 16] = (int8_t)((b.qs[j] >> 4) - 8);
    }
    *d = ckpt_f16_to_f32(b.d);
    *m = 0.0f;
}

static void unpack_q4_1(const uint8_t *blk, int8_t q[32], float *d, float *m)
{
    block_q4_1 b;
    memcpy(&b, blk, sizeof b);
    for (int j = 0; j < 16; j++) {
        q[j] = (int8_t)(b.qs[j] & 0xF);
        q[j + 16] = (int8_t)(b.qs[j] >> 4);
    }
    *d = ckpt_f16_to_f32(b.d);
    *m = ckpt_f16_to_f32(b.m);
}

/* q5_0/q5_1: element j < 16 takes bit j of qh, element j + 16 bit j + 16 */
static void unpack_q5(const uint8_t qs[16], const uint8_t qh_in[4], int off, int8_t q[32])
{
    uint32_t qh;
    memcpy(&qh, qh_in, 4);
    for (int j = 0; j < 16; j++) {
        q[j] = (int8_t)(((qs[j] & 0xF) | ((qh >> j & 1) << 4)) - off);
        q[j + 16] = (int8_t)(((qs[j] >> 4) | ((qh >> (j + 16) & 1) << 4)) - off);
    }
}

static void unpack_q5_0(const uint8_t *blk, int8_t q[32], float *d, float *m)
{
    block_q5_0 b;
    memcpy(&b, blk, sizeof b);
    unpack_q5(b.qs, b.qh, 16, q);
    *d = ckpt_f16_to_f32(b.d);
    *m = 0.0f;
}

static void unpack_q5_1(const uint8_t *blk, int8_t q[32], float *d, float *m)
{
    block_q5_1 b;
    memcpy(&b, blk, sizeof b);
    unpack_q5(b.qs, b.qh, 0, q);
    *d = ckpt_f16_to_f32(b.d);
    *m = ckpt_f16_to_f32(b.m);
}

static void unpack_iq4_nl(const uint8_t *blk, int8_t q[32], float *d, float *m)
{
    block_iq4_nl b;
    memcpy(&b, blk, sizeof b);
    for (int j = 0; j < 16; j++) {
        q[j] = ckpt_kvalues_iq4nl[b.qs[j] & 0xF];
        q[j + 16] = ckpt_kvalues_iq4nl[b.qs[j] >> 4];
    }
    *d = ckpt_f16_to_f32(b.d);
    *m = 0.0f;
}

/* The lane order of vec_dot.h for any 32-block type of block_bytes bytes;
 * offset: the type has m (q4_1, q5_1).  The symmetric types have no m term
 * at all, not a zero one: 0 * d_a is NaN where d_a overflowed f16 (an
 * activation block beyond 65504 * 127), and the SIMD dots add no such term. */
static float dot32(unpack32_fn unpack, size_t block_bytes, bool offset, const uint8_t *w,
                   const uint8_t *a, int64_t n)
{
    float acc[LANES] = {0};
    for (int64_t i = 0; i < n / 32; i++, w += block_bytes, a += sizeof(block_q8_0)) {
        int8_t q[32];
        float d, m;
        unpack(w, q, &d, &m);
        block_q8_0 y;
        memcpy(&y, a, sizeof y);
        const float dy = ckpt_f16_to_f32(y.d);
        const float dd = d * dy, md = m * dy;
        for (int l = 0; l < LANES; l++) {
            int32_t s = 0, sy = 0;
            for (int k = 4 * l; k < 4 * l + 4; k++) {
                s += q[k] * y.qs[k];
                sy += y.qs[k];
            }
            acc[l] += offset ? dd * (float)s + md * (float)sy : dd * (float)s;
        }
    }
    return reduce_lanes(acc);
}

#define DOT32(name, unpack, blk, offset)                                                           \
    float ckpt_vec_dot_##name##_q8_0_ref(const void *w, const void *a, int64_t n)                  \
    {                                                                                              \
        return dot32(unpack, sizeof(blk), offset, w, a, n);                                        \
    }
DOT32(q8_0, unpack_q8_0, block_q8_0, false)
DOT32(q4_0, unpack_q4_0, block_q4_0, false)
DOT32(q4_1, unpack_q4_1, block_q4_1, true)
DOT32(q5_0, unpack_q5_0, block_q5_0, false)
DOT32(q5_1, unpack_q5_1, block_q5_1, true)
DOT32(iq4_nl, unpack_iq4_nl, block_iq4_nl, false)
#undef DOT32

/* ==== F16 / BF16 x f32 ==== */

typedef float (*widen_fn)(const uint8_t *p);

static float widen_f16(const uint8_t *p)
{
    uint16_t h;
    memcpy(&h, p, 2);
    return ckpt_f16_to_f32(h);
}

static float widen_bf16(const uint8_t *p)
{
    uint16_t h;
    memcpy(&h, p, 2);
    return ckpt_bf16_to_f32(h);
}

static float widen_f32(const uint8_t *p)
{
    float f;
    memcpy(&f, p, 4);
    return f;
}

/* The order of vec_dot.h for f32 activations, lane by lane with fmaf. */
static float dot_lanes(widen_fn widen, size_t esize, const uint8_t *w, const float *x, int64_t n)
{
    float acc[LANES] = {0};
    int64_t i = 0;
    for (; i + LANES <= n; i += LANES)
        for (int l = 0; l < LANES; l++)
            acc[l] = fmaf(widen(w + esize * (size_t)(i + l)), x[i + l], acc[l]);
    for (int l = 0; i < n; i++, l++)
        acc[l] += widen(w + esize * (size_t)i) * x[i];
    return reduce_lanes(acc);
}

float ckpt_vec_dot_f32_f32_ref(const void *w, const void *a, int64_t n)
{
    return dot_lanes(widen_f32, 4, w, a, n);
}

float ckpt_vec_dot_f16_f32_ref(const void *w, const void *a, int64_t n)
{
    return dot_lanes(widen_f16, 2, w, a, n);
}

float ckpt_vec_dot_bf16_f32_ref(const void *w, const void *a, int64_t n)
{
    return dot_lanes(widen_bf16, 2, w, a, n);
}

/* ==== the scalar table ==== */

const struct ckpt_vec_dot ckpt_vec_dot_table_ref[CKPT_TYPE_COUNT] = {
    [CKPT_TYPE_F32] = {.act = CKPT_TYPE_F32, .dot = ckpt_vec_dot_f32_f32_ref},
    [CKPT_TYPE_F16] = {.act = CKPT_TYPE_F32, .dot = ckpt_vec_dot_f16_f32_ref},
    [CKPT_TYPE_BF16] = {.act = CKPT_TYPE_F32, .dot = ckpt_vec_dot_bf16_f32_ref},
    [CKPT_TYPE_Q8_0] = {.act = CKPT_TYPE_Q8_0, .dot = ckpt_vec_dot_q8_0_q8_0_ref},
    [CKPT_TYPE_Q4_0] = {.act = CKPT_TYPE_Q8_0, .dot = ckpt_vec_dot_q4_0_q8_0_ref},
    [CKPT_TYPE_Q4_1] = {.act = CKPT_TYPE_Q8_0, .dot = ckpt_vec_dot_q4_1_q8_0_ref},
    [CKPT_TYPE_Q5_0] = {.act = CKPT_TYPE_Q8_0, .dot = ckpt_vec_dot_q5_0_q8_0_ref},
    [CKPT_TYPE_Q5_1] = {.act = CKPT_TYPE_Q8_0, .dot = ckpt_vec_dot_q5_1_q8_0_ref},
    [CKPT_TYPE_IQ4_NL] = {.act = CKPT_TYPE_Q8_0, .dot = ckpt_vec_dot_iq4_nl_q8_0_ref},
    [CKPT_TYPE_Q2_K] = {.act = CKPT_TYPE_Q8_K, .dot = ckpt_vec_dot_q2_K_q8_K_ref},
    [CKPT_TYPE_Q3_K] = {.act = CKPT_TYPE_Q8_K, .dot = ckpt_vec_dot_q3_K_q8_K_ref},
    [CKPT_TYPE_Q4_K] = {.act = CKPT_TYPE_Q8_K, .dot = ckpt_vec_dot_q4_K_q8_K_ref},
    [CKPT_TYPE_Q5_K] = {.act = CKPT_TYPE_Q8_K, .dot = ckpt_vec_dot_q5_K_q8_K_ref},
    [CKPT_TYPE_Q6_K] = {.act = CKPT_TYPE_Q8_K, .dot = ckpt_vec_dot_q6_K_q8_K_ref},
};

const struct ckpt_act_quant ckpt_act_quant_ref = {ckpt_act_quant_q8_0_ref,
                                                  ckpt_act_quant_q8_K_ref};
