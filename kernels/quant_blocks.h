/*
 * quant_blocks.h - the on-disk block layouts of the ggml quantized types
 * ckpt writes and reads (ggml-common.h facts; FORMATS.md section 2.3).
 * Each struct is one block exactly as it sits in a GGUF file on a
 * little-endian host; f16 fields hold IEEE binary16 bits.  Kernels never
 * cast file bytes to these structs: they memcpy a block in or out.
 */
#ifndef CKPT_KERNELS_QUANT_BLOCKS_H
#define CKPT_KERNELS_QUANT_BLOCKS_H

#include <stdint.h>

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "ckpt quantization kernels assume a little-endian host"
#endif

#define CKPT_QK4_0 32
#define CKPT_QK4_1 32
#define CKPT_QK5_0 32
#define CKPT_QK5_1 32
#define CKPT_QK8_0 32
#define CKPT_QK4_NL 32
#define CKPT_QK_K_SCALE_SIZE 12 /* bytes of packed 6-bit scales in q3_K/q4_K/q5_K */

/* ==== 32-element blocks ==== */

/*
 * q4_0: 4.5 bits/weight.  x = d * (q - 8), q in 0..15.
 *   qs[j] = q[j] | q[j+16] << 4         (j = 0..15)
 */
typedef struct {
    uint16_t d;      /* f16 scale */
    uint8_t qs[16];  /* nibbles */
} block_q4_0;
_Static_assert(sizeof(block_q4_0) == 18, "q4_0 block");

/* q4_1: 5 bits/weight.  x = d * q + m, q in 0..15; nibbles as q4_0. */
typedef struct {
    uint16_t d;      /* f16 scale */
    uint16_t m;      /* f16 offset (the block minimum) */
    uint8_t qs[16];
} block_q4_1;
_Static_assert(sizeof(block_q4_1) == 20, "q4_1 block");

/*
 * q5_0: 5.5 bits/weight.  x = d * (q - 16), q in 0..31.
 *   low nibbles as q4_0; bit 4 of q[j] is bit j of the little-endian
 *   u32 qh (j = 0..31), so qh bits 0..15 belong to the low nibbles and
 *   bits 16..31 to the high nibbles.
 */
typedef struct {
    uint16_t d;      /* f16 scale */
    uint8_t qh[4];   /* 5th bits, a little-endian u32 */
    uint8_t qs[16];
} block_q5_0;
_Static_assert(sizeof(block_q5_0) == 22, "q5_0 block");

/* q5_1: 6 bits/weight.  x = d * q + m, q in 0..31; bits as q5_0. */
typedef struct {
    uint16_t d;      /* f16 scale */
    uint16_t m;      /* f16 offset */
    uint8_t qh[4];
    uint8_t qs[16];
} block_q5_1;
_Static_assert(sizeof(block_q5_1) == 24, "q5_1 block");

/* q8_0: 8.5 bits/weight.  x = d * qs[j]. */
typedef struct {
    uint16_t d;      /* f16 scale */
    int8_t qs[32];
} block_q8_0;
_Static_assert(sizeof(block_q8_0) == 34, "q8_0 block");

/*
 * iq4_nl: 4.5 bits/weight, non-linear.  x = d * kvalues[q], nibbles as
 * q4_0, kvalues = ckpt_kvalues_iq4nl (16 signed levels, -127..113).
 */
typedef struct {
    uint16_t d;      /* f16 scale */
    uint8_t qs[16];
} block_iq4_nl;
_Static_assert(sizeof(block_iq4_nl) == 18, "iq4_nl block");

/* ==== 256-element super-blocks (k-quants) ==== */

/*
 * q2_K: 2.625 bits/weight, 16 sub-blocks of 16.
 *   scales[j] = scale_j | min_j << 4   (4 bits each)
 *   x = (d * scale_j) * q - (dmin * min_j), q in 0..3
 *   element e = 128h + 32s + l (h 0..1, s 0..3, l 0..31):
 *     q = (qs[32h + l] >> 2s) & 3
 */
typedef struct {
    uint8_t scales[16];
    uint8_t qs[64];
    uint16_t d;      /* f16 super-scale of the scales */
    uint16_t dmin;   /* f16 super-scale of the mins */
} block_q2_K;
_Static_assert(sizeof(block_q2_K) == 84, "q2_K block");

/*
 * q3_K: 3.4375 bits/weight, 16 sub-blocks of 16, signed 6-bit scales.
 *   scale j (0..15), stored +32:
 *     low 4 bits : j < 8 ? scales[j] & 15 : scales[j-8] >> 4
 *     high 2 bits: (scales[8 + j%4] >> 2*(j/4)) & 3
 *
 *        byte:   0 .. 7             8 .. 11
 *              +-------------+  +----------------------------+
 *   bits 7..4  | lo(j+8)     |  | hi(j+12) hi(j+8)           |
 *   bits 3..0  | lo(j)       |  | hi(j+4)  hi(j)   (2 bits)  |
 *              +-------------+  +----------------------------+
 *   q = low2 - (high bit set ? 0 : 4), in -4..3; low2 laid out as in q2_K;
 *   the high bit of element e is bit e/32 of hmask[e%32].
 *   x = (d * (scale - 32)) * q
 */
typedef struct {
    uint8_t hmask[32];
    uint8_t qs[64];
    uint8_t scales[12];
    uint16_t d;      /* f16 super-scale */
} block_q3_K;
_Static_assert(sizeof(block_q3_K) == 110, "q3_K block");

/*
 * q4_K: 4.5 bits/weight, 8 sub-blocks of 32, 6-bit scale sc and min m.
 *
 *   byte   0..3 : sc[0..3] in bits 5..0, sc[4..7] bits 5..4 in bits 7..6
 *   byte   4..7 : m[0..3]  in bits 5..0, m[4..7]  bits 5..4 in bits 7..6
 *   byte  8..11 : sc[4..7] bits 3..0 in bits 3..0, m[4..7] bits 3..0 in 7..4
 *
 *   x = (d * sc) * q - (dmin * m), q in 0..15
 *   element e = 64c + 32t + l: nibble t (0 low, 1 high) of qs[32c + l]
 */
typedef struct {
    uint16_t d;      /* f16 super-scale of the scales */
    uint16_t dmin;   /* f16 super-scale of the mins */
    uint8_t scales[12];
    uint8_t qs[128];
} block_q4_K;
_Static_assert(sizeof(block_q4_K) == 144, "q4_K block");

/*
 * q5_K: 5.5 bits/weight.  Scales and low nibbles as q4_K; the 5th bit of
 * element e = 64c + 32t + l is bit (2c + t) of qh[l].
 *   x = (d * sc) * (nibble + 16 * bit) - (dmin * m)
 */
typedef struct {
    uint16_t d;
    uint16_t dmin;
    uint8_t scales[12];
    uint8_t qh[32];
    uint8_t qs[128];
} block_q5_K;
_Static_assert(sizeof(block_q5_K) == 176, "q5_K block");

/*
 * q6_K: 6.5625 bits/weight, 16 sub-blocks of 16, int8 scales.
 *   element e = 128h + 32k + l (h 0..1, k 0..3, l 0..31):
 *     low 4 : (ql[64h + 32(k&1) + l] >> 4(k>>1)) & 15
 *     high 2: (qh[32h + l] >> 2k) & 3
 *   q = (low | high << 4) - 32;  x = (d * scales[e/16]) * q
 */
typedef struct {
    uint8_t ql[128];
    uint8_t qh[64];
    int8_t scales[16];
    uint16_t d;      /* f16 super-scale */
} block_q6_K;
_Static_assert(sizeof(block_q6_K) == 210, "q6_K block");

/*
 * q8_K: 9.125 bits/weight, the intermediate/activation type.
 *   x = d * qs[e]; bsums[i] = sum of qs[16i .. 16i+15].
 */
typedef struct {
    float d;         /* f32 scale */
    int8_t qs[256];
    int16_t bsums[16];
} block_q8_K;
_Static_assert(sizeof(block_q8_K) == 292, "q8_K block");

/* The 16 levels of iq4_nl (and iq4_xs), ascending. */
extern const int8_t ckpt_kvalues_iq4nl[16];

#endif
