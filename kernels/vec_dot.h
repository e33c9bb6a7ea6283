/*
 * vec_dot.h - dot products of a stored weight row with activations that
 * were quantized once per matrix product, as ggml computes them: q8_K
 * activations for the k-quants, q8_0 for Q8_0, the legacy types and
 * IQ4_NL; integer block dots, then one float combination per block.  F16
 * and BF16 rows pair with f32 activations and are widened inside the
 * fused multiply-add loop (no widened copy of the row).
 *
 * Each ISA's table (struct ckpt_kernels.vec_dot, dispatch.h) holds one row
 * per weight type: the activation type it pairs with and the kernel.  A
 * row with dot == NULL means "no such kernel: widen the row to f32 and use
 * the f32 dot" (dot.h), which is what the ref ISA does for every type: ref
 * stays the f32 oracle.  A new weight type plugs in with one row in the
 * avx2 table of dispatch.c and its scalar twin here, in
 * ckpt_vec_dot_table_ref: that table is the scalar ISA's, so the twin is
 * both what the tests hold the SIMD kernel to and the default forward pass
 * of a CPU without AVX2.
 *
 * Exactness: the integer block sums are exact, and every kernel combines
 * them in the float order its scalar reference documents, so an avx2
 * kernel returns the same bits as its _ref twin (tests/kernels/
 * check_vec_dot.c).  Against the f32-widened dot of the same row, the
 * difference is the activation's rounding: |dot_q - dot_f32| <=
 * sum over blocks of (amax_b / 254) * sum_b |w|  (half a q8 step per
 * element) plus f32 summation error.
 */
#ifndef CKPT_KERNELS_VEC_DOT_H
#define CKPT_KERNELS_VEC_DOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "types.h"

/* Dot of one weight row (n elements, any alignment) with one activation
 * row in the paired type (n elements, the same block grid). */
typedef float (*ckpt_vec_dot_fn)(const void *w, const void *act, int64_t n);

/* Dots of four weight rows w + r*row_bytes (row_bytes: the rows' stride,
 * their length or, in a decode step, a multiple of it; model.c) with np
 * (1..CKPT_VEC_TILE_NP_MAX) activation rows act + p*act_stride (bytes), in
 * the row's paired activation type (f32, q8_0 or q8_K), into
 * out[r*np + p]; each value bit for bit what the row's dot gives.  This is
 * the GEMM of a prefill step: a kernel unpacks or widens each block of the
 * four rows once and multiplies it with every position in register tiles
 * (the f32 kernels widen a block to f32 in L1; the integer kernels batch
 * the per-block reductions of several outputs), and a decode step with
 * np = 1 still shares the reductions of four rows. */
#define CKPT_VEC_TILE_NP_MAX 48
typedef void (*ckpt_vec_tile_fn)(const void *w, size_t row_bytes, const void *act,
                                 size_t act_stride, int64_t n, int np, float *out);

/* The tile over a slice [k0, k1) of the row, for CKPT_VEC_TILE_K_ROWS
 * consecutive rows, its running sums carried in acc between calls: what
 * lets a product slice the rows' length (the activations of a slice for
 * many positions stay in L2 while the rows stream past, instead of a few
 * positions' whole rows; model.c) and still give every value the single
 * dot's bits, since each running sum sees the same operations in the same
 * order.  Eight rows, not four, so that each activation read from L2
 * serves eight rows' products.  acc is the kernel's scratch for the
 * running sums, CKPT_VEC_TILE_LANES floats per output, quad k of the rows
 * (rows 4k..4k+3) in acc[k*4*np*LANES ..] (the float kernels keep output
 * (4k + r, p)'s lanes at p*4 + r in it, the four-row tile's layout; the
 * k-quants one float per output), zeroed by the caller before the call
 * with k0 = 0; k0 and k1 (< n) are multiples of CKPT_VEC_TILE_K_STEP
 * (whole blocks of every activation type); act is the positions' rows
 * from element 0; np is 1..CKPT_VEC_TILE_K_NP_MAX (a whole step of
 * positions per widened block).  The call with k1 == n finishes:
 * out[r*np + p] for the eight rows, as ckpt_vec_tile_fn.  An integer
 * kernel can adopt it with its per-block float sums as the running sums. */
#define CKPT_VEC_TILE_LANES 8
#define CKPT_VEC_TILE_K_ROWS 8
#define CKPT_VEC_TILE_K_STEP 256
#define CKPT_VEC_TILE_K_NP_MAX 128
typedef void (*ckpt_vec_tile_k_fn)(const void *w, size_t row_bytes, const void *act,
                                   size_t act_stride, int64_t n, int64_t k0, int64_t k1, int np,
                                   float *acc, float *out);

/* Quantize n activations (n a multiple of the activation block) into dst. */
typedef void (*ckpt_act_quant_fn)(const float *x, void *dst, int64_t n);

struct ckpt_vec_dot {
    ckpt_type act;      /* CKPT_TYPE_Q8_K, CKPT_TYPE_Q8_0 or CKPT_TYPE_F32 */
    ckpt_vec_dot_fn dot; /* NULL: no kernel for this weight type */
    ckpt_vec_tile_fn tile; /* four rows by a panel of positions; NULL: dot */
    ckpt_vec_tile_k_fn tile_k; /* tile over row slices; NULL: tile on whole rows */
    bool spread; /* the tile with np = 1 reads its four rows side by side, a
                  * block of each in turn, so a decode step hands it rows far
                  * apart (model.c); false: it reads them one after another,
                  * and takes neighbouring rows */
};

/* Activation quantizers of one ISA, by activation type (q8_0 and q8_K:
 * the bytes of ggml's quantize_row_q8_0_ref / q8_K_ref in every ISA). */
struct ckpt_act_quant {
    ckpt_act_quant_fn q8_0;
    ckpt_act_quant_fn q8_K;
};

/* ==== scalar references (vec_dot.c) ==== */

/* k-quants x q8_K: per 256-block the exact integer sum, then
 * sumf += (d_w * d_a) * sumi [- (dmin_w * d_a) * summ], in block order. */
float ckpt_vec_dot_q2_K_q8_K_ref(const void *w, const void *a, int64_t n);
float ckpt_vec_dot_q3_K_q8_K_ref(const void *w, const void *a, int64_t n);
float ckpt_vec_dot_q4_K_q8_K_ref(const void *w, const void *a, int64_t n);
float ckpt_vec_dot_q5_K_q8_K_ref(const void *w, const void *a, int64_t n);
float ckpt_vec_dot_q6_K_q8_K_ref(const void *w, const void *a, int64_t n);

/* 32-element types x q8_0: per block, eight lane sums of four consecutive
 * products (lane l: elements 4l..4l+3), each lane accumulating
 * d_w * d_a * lane_sum in block order (Q4_1/Q5_1 add m_w * d_a * the lane's
 * activation sum), reduced as ckpt_vec_dot_f32 reduces its lanes. */
float ckpt_vec_dot_q8_0_q8_0_ref(const void *w, const void *a, int64_t n);
float ckpt_vec_dot_q4_0_q8_0_ref(const void *w, const void *a, int64_t n);
float ckpt_vec_dot_q4_1_q8_0_ref(const void *w, const void *a, int64_t n);
float ckpt_vec_dot_q5_0_q8_0_ref(const void *w, const void *a, int64_t n);
float ckpt_vec_dot_q5_1_q8_0_ref(const void *w, const void *a, int64_t n);
float ckpt_vec_dot_iq4_nl_q8_0_ref(const void *w, const void *a, int64_t n);

/* F32 / F16 / BF16 x f32: one 8-lane fused multiply-add accumulator over
 * the whole row (lane i%8 takes element i, in increasing i; the n%8 last
 * products added, unfused, to lanes 0..), reduced as ckpt_vec_dot_f32
 * reduces its lanes: the ref order of dot.h with FMA.  One accumulator per output is what lets a register tile of
 * rows x positions reuse every load (the prefill GEMM) and still give each
 * output the bits of the single dot.  The scalar twins use fmaf. */
float ckpt_vec_dot_f32_f32_ref(const void *w, const void *a, int64_t n);
float ckpt_vec_dot_f16_f32_ref(const void *w, const void *a, int64_t n);
float ckpt_vec_dot_bf16_f32_ref(const void *w, const void *a, int64_t n);

void ckpt_act_quant_q8_0_ref(const float *x, void *dst, int64_t n);
void ckpt_act_quant_q8_K_ref(const float *x, void *dst, int64_t n);

/* ==== AVX2 siblings (vec_dot_avx2.c; only when ckpt_isa_available(AVX2)) ==== */

float ckpt_vec_dot_q2_K_q8_K_avx2(const void *w, const void *a, int64_t n);
float ckpt_vec_dot_q3_K_q8_K_avx2(const void *w, const void *a, int64_t n);
float ckpt_vec_dot_q4_K_q8_K_avx2(const void *w, const void *a, int64_t n);
float ckpt_vec_dot_q5_K_q8_K_avx2(const void *w, const void *a, int64_t n);
float ckpt_vec_dot_q6_K_q8_K_avx2(const void *w, const void *a, int64_t n);
/* the dots of four rows rb bytes apart against one q8_K row, side by side
 * (a decode step's spread tile, vec_tile_k_avx2.c): each the dot's bits */
void ckpt_vec_decode4_q4_K_q8_K_avx2(const void *w, size_t rb, const void *a, int64_t n,
                                     float out[4]);
void ckpt_vec_decode4_q5_K_q8_K_avx2(const void *w, size_t rb, const void *a, int64_t n,
                                     float out[4]);
void ckpt_vec_decode4_q6_K_q8_K_avx2(const void *w, size_t rb, const void *a, int64_t n,
                                     float out[4]);
float ckpt_vec_dot_q8_0_q8_0_avx2(const void *w, const void *a, int64_t n);
float ckpt_vec_dot_q4_0_q8_0_avx2(const void *w, const void *a, int64_t n);
float ckpt_vec_dot_q4_1_q8_0_avx2(const void *w, const void *a, int64_t n);
float ckpt_vec_dot_q5_0_q8_0_avx2(const void *w, const void *a, int64_t n);
float ckpt_vec_dot_q5_1_q8_0_avx2(const void *w, const void *a, int64_t n);
float ckpt_vec_dot_iq4_nl_q8_0_avx2(const void *w, const void *a, int64_t n);
float ckpt_vec_dot_f32_f32_avx2(const void *w, const void *a, int64_t n);
float ckpt_vec_dot_f16_f32_avx2(const void *w, const void *a, int64_t n);
float ckpt_vec_dot_bf16_f32_avx2(const void *w, const void *a, int64_t n);
void ckpt_vec_tile_f32_avx2(const void *w, size_t row_bytes, const void *act, size_t act_stride,
                            int64_t n, int np, float *out);
void ckpt_vec_tile_f16_avx2(const void *w, size_t row_bytes, const void *act, size_t act_stride,
                            int64_t n, int np, float *out);
void ckpt_vec_tile_bf16_avx2(const void *w, size_t row_bytes, const void *act, size_t act_stride,
                             int64_t n, int np, float *out);
/* ---- four-row tiles of the 32-element types x q8_0 (vec_tile_q8_avx2.c) ---- */
void ckpt_vec_tile_q8_0_q8_0_avx2(const void *w, size_t row_bytes, const void *act,
                                  size_t act_stride, int64_t n, int np, float *out);
void ckpt_vec_tile_q4_0_q8_0_avx2(const void *w, size_t row_bytes, const void *act,
                                  size_t act_stride, int64_t n, int np, float *out);
void ckpt_vec_tile_q4_1_q8_0_avx2(const void *w, size_t row_bytes, const void *act,
                                  size_t act_stride, int64_t n, int np, float *out);
void ckpt_vec_tile_q5_0_q8_0_avx2(const void *w, size_t row_bytes, const void *act,
                                  size_t act_stride, int64_t n, int np, float *out);
void ckpt_vec_tile_q5_1_q8_0_avx2(const void *w, size_t row_bytes, const void *act,
                                  size_t act_stride, int64_t n, int np, float *out);
void ckpt_vec_tile_iq4_nl_q8_0_avx2(const void *w, size_t row_bytes, const void *act,
                                    size_t act_stride, int64_t n, int np, float *out);
/* their K-slice tiles (the same file: the same loop on the caller's lanes) */
void ckpt_vec_tile_k_q8_0_q8_0_avx2(const void *w, size_t row_bytes, const void *act,
                                    size_t act_stride, int64_t n, int64_t k0, int64_t k1, int np,
                                    float *acc, float *out);
void ckpt_vec_tile_k_q4_0_q8_0_avx2(const void *w, size_t row_bytes, const void *act,
                                    size_t act_stride, int64_t n, int64_t k0, int64_t k1, int np,
                                    float *acc, float *out);
void ckpt_vec_tile_k_q4_1_q8_0_avx2(const void *w, size_t row_bytes, const void *act,
                                    size_t act_stride, int64_t n, int64_t k0, int64_t k1, int np,
                                    float *acc, float *out);
void ckpt_vec_tile_k_q5_0_q8_0_avx2(const void *w, size_t row_bytes, const void *act,
                                    size_t act_stride, int64_t n, int64_t k0, int64_t k1, int np,
                                    float *acc, float *out);
void ckpt_vec_tile_k_q5_1_q8_0_avx2(const void *w, size_t row_bytes, const void *act,
                                    size_t act_stride, int64_t n, int64_t k0, int64_t k1, int np,
                                    float *acc, float *out);
void ckpt_vec_tile_k_iq4_nl_q8_0_avx2(const void *w, size_t row_bytes, const void *act,
                                      size_t act_stride, int64_t n, int64_t k0, int64_t k1,
                                      int np, float *acc, float *out);
/* The ref ISA's order (dot.h: eight lanes, lane i%8 taking w[i]*x[i]
 * rounded then added, no fused multiply-add; the n%8 last products in
 * lanes 0.., then ckpt_vec_dot_f32's reduction) with AVX2 registers: the
 * same bits as the scalar reference, several times faster.  What the ref
 * table uses for F32/F16/BF16 rows on a CPU with AVX2, so that file
 * bytes that depend on the forward pass (importance matrices) stay the
 * reference's on every machine. */
float ckpt_vec_dot_f32_f32_refx(const void *w, const void *a, int64_t n);
float ckpt_vec_dot_f16_f32_refx(const void *w, const void *a, int64_t n);
float ckpt_vec_dot_bf16_f32_refx(const void *w, const void *a, int64_t n);
void ckpt_vec_tile_f32_refx(const void *w, size_t row_bytes, const void *act, size_t act_stride,
                            int64_t n, int np, float *out);
void ckpt_vec_tile_f16_refx(const void *w, size_t row_bytes, const void *act, size_t act_stride,
                            int64_t n, int np, float *out);
void ckpt_vec_tile_bf16_refx(const void *w, size_t row_bytes, const void *act, size_t act_stride,
                             int64_t n, int np, float *out);
/* The K-slice tiles of the F32/F16/BF16 rows (vec_dot_avx2.c, from the
 * same macros as the tiles above: fused in avx2, the ref order in refx). */
void ckpt_vec_tile_k_f32_avx2(const void *w, size_t row_bytes, const void *act, size_t act_stride,
                              int64_t n, int64_t k0, int64_t k1, int np, float *acc, float *out);
void ckpt_vec_tile_k_f16_avx2(const void *w, size_t row_bytes, const void *act, size_t act_stride,
                              int64_t n, int64_t k0, int64_t k1, int np, float *acc, float *out);
void ckpt_vec_tile_k_bf16_avx2(const void *w, size_t row_bytes, const void *act,
                               size_t act_stride, int64_t n, int64_t k0, int64_t k1, int np,
                               float *acc, float *out);
void ckpt_vec_tile_k_f32_refx(const void *w, size_t row_bytes, const void *act, size_t act_stride,
                              int64_t n, int64_t k0, int64_t k1, int np, float *acc, float *out);
void ckpt_vec_tile_k_f16_refx(const void *w, size_t row_bytes, const void *act, size_t act_stride,
                              int64_t n, int64_t k0, int64_t k1, int np, float *acc, float *out);
void ckpt_vec_tile_k_bf16_refx(const void *w, size_t row_bytes, const void *act,
                               size_t act_stride, int64_t n, int64_t k0, int64_t k1, int np,
                               float *acc, float *out);
void ckpt_act_quant_q8_0_avx2(const float *x, void *dst, int64_t n);
void ckpt_act_quant_q8_K_avx2(const float *x, void *dst, int64_t n);

/* ==== AVX-512 tiles of the F32/F16/BF16 rows (vec_tile_f_avx512.c; only
 * when ckpt_isa_available(AVX512)): the avx2 tiles' values ==== */

void ckpt_vec_tile_f32_avx512(const void *w, size_t row_bytes, const void *act, size_t act_stride,
                              int64_t n, int np, float *out);
void ckpt_vec_tile_f16_avx512(const void *w, size_t row_bytes, const void *act, size_t act_stride,
                              int64_t n, int np, float *out);
void ckpt_vec_tile_bf16_avx512(const void *w, size_t row_bytes, const void *act,
                               size_t act_stride, int64_t n, int np, float *out);
void ckpt_vec_tile_k_f32_avx512(const void *w, size_t row_bytes, const void *act,
                                size_t act_stride, int64_t n, int64_t k0, int64_t k1, int np,
                                float *acc, float *out);
void ckpt_vec_tile_k_f16_avx512(const void *w, size_t row_bytes, const void *act,
                                size_t act_stride, int64_t n, int64_t k0, int64_t k1, int np,
                                float *acc, float *out);
void ckpt_vec_tile_k_bf16_avx512(const void *w, size_t row_bytes, const void *act,
                                 size_t act_stride, int64_t n, int64_t k0, int64_t k1, int np,
                                 float *acc, float *out);

/* ==== K-slice tiles of the k-quants with AVX-512 VNNI (vec_tile_k_vnni.c;
 * only in the avx512 table, on a CPU with AVX512_VNNI): the avx2 tiles'
 * values, eight rows in the lanes of one register ==== */

void ckpt_vec_tile_k_q2_K_q8_K_vnni(const void *w, size_t row_bytes, const void *act,
                                    size_t act_stride, int64_t n, int64_t k0, int64_t k1, int np,
                                    float *acc, float *out);
void ckpt_vec_tile_k_q3_K_q8_K_vnni(const void *w, size_t row_bytes, const void *act,
                                    size_t act_stride, int64_t n, int64_t k0, int64_t k1, int np,
                                    float *acc, float *out);
void ckpt_vec_tile_k_q4_K_q8_K_vnni(const void *w, size_t row_bytes, const void *act,
                                    size_t act_stride, int64_t n, int64_t k0, int64_t k1, int np,
                                    float *acc, float *out);
void ckpt_vec_tile_k_q5_K_q8_K_vnni(const void *w, size_t row_bytes, const void *act,
                                    size_t act_stride, int64_t n, int64_t k0, int64_t k1, int np,
                                    float *acc, float *out);
void ckpt_vec_tile_k_q6_K_q8_K_vnni(const void *w, size_t row_bytes, const void *act,
                                    size_t act_stride, int64_t n, int64_t k0, int64_t k1, int np,
                                    float *acc, float *out);

/* The K-slice tiles of the 32-element types with AVX-512 VNNI
 * (vec_tile_q8_vnni.c; only in the avx512 table, on a CPU with
 * AVX512_VNNI): the avx2 tiles' values, two rows in the lanes of one
 * register */
void ckpt_vec_tile_k_q8_0_q8_0_vnni(const void *w, size_t row_bytes, const void *act,
                                    size_t act_stride, int64_t n, int64_t k0, int64_t k1, int np,
                                    float *acc, float *out);
void ckpt_vec_tile_k_q4_0_q8_0_vnni(const void *w, size_t row_bytes, const void *act,
                                    size_t act_stride, int64_t n, int64_t k0, int64_t k1, int np,
                                    float *acc, float *out);
void ckpt_vec_tile_k_q4_1_q8_0_vnni(const void *w, size_t row_bytes, const void *act,
                                    size_t act_stride, int64_t n, int64_t k0, int64_t k1, int np,
                                    float *acc, float *out);
void ckpt_vec_tile_k_q5_0_q8_0_vnni(const void *w, size_t row_bytes, const void *act,
                                    size_t act_stride, int64_t n, int64_t k0, int64_t k1, int np,
                                    float *acc, float *out);
void ckpt_vec_tile_k_q5_1_q8_0_vnni(const void *w, size_t row_bytes, const void *act,
                                    size_t act_stride, int64_t n, int64_t k0, int64_t k1, int np,
                                    float *acc, float *out);
void ckpt_vec_tile_k_iq4_nl_q8_0_vnni(const void *w, size_t row_bytes, const void *act,
                                      size_t act_stride, int64_t n, int64_t k0, int64_t k1, int np,
                                      float *acc, float *out);

/* ==== single dots of q4_K, q5_K and q6_K and four-row tiles of the
 * k-quants with AVX-512 VNNI (vec_dot_vnni.c; only in the avx512 table, on a CPU with
 * AVX512_VNNI): the bits of the scalar twins; the tiles take a single
 * position through these dots, more through the avx2 tiles ==== */

float ckpt_vec_dot_q4_K_q8_K_vnni(const void *w, const void *a, int64_t n);
float ckpt_vec_dot_q5_K_q8_K_vnni(const void *w, const void *a, int64_t n);
float ckpt_vec_dot_q6_K_q8_K_vnni(const void *w, const void *a, int64_t n);
void ckpt_vec_tile_q2_K_q8_K_vnni(const void *w, size_t row_bytes, const void *act,
                                  size_t act_stride, int64_t n, int np, float *out);
void ckpt_vec_tile_q3_K_q8_K_vnni(const void *w, size_t row_bytes, const void *act,
                                  size_t act_stride, int64_t n, int np, float *out);
void ckpt_vec_tile_q4_K_q8_K_vnni(const void *w, size_t row_bytes, const void *act,
                                  size_t act_stride, int64_t n, int np, float *out);
void ckpt_vec_tile_q5_K_q8_K_vnni(const void *w, size_t row_bytes, const void *act,
                                  size_t act_stride, int64_t n, int np, float *out);
void ckpt_vec_tile_q6_K_q8_K_vnni(const void *w, size_t row_bytes, const void *act,
                                  size_t act_stride, int64_t n, int np, float *out);
/* The 32-element types' four-row tiles: a single position with vpdpbusd,
 * two rows to a register; more through the avx2 tile */
void ckpt_vec_tile_q8_0_q8_0_vnni(const void *w, size_t row_bytes, const void *act,
                                  size_t act_stride, int64_t n, int np, float *out);
void ckpt_vec_tile_q4_0_q8_0_vnni(const void *w, size_t row_bytes, const void *act,
                                  size_t act_stride, int64_t n, int np, float *out);
void ckpt_vec_tile_q4_1_q8_0_vnni(const void *w, size_t row_bytes, const void *act,
                                  size_t act_stride, int64_t n, int np, float *out);
void ckpt_vec_tile_q5_0_q8_0_vnni(const void *w, size_t row_bytes, const void *act,
                                  size_t act_stride, int64_t n, int np, float *out);
void ckpt_vec_tile_q5_1_q8_0_vnni(const void *w, size_t row_bytes, const void *act,
                                  size_t act_stride, int64_t n, int np, float *out);
void ckpt_vec_tile_iq4_nl_q8_0_vnni(const void *w, size_t row_bytes, const void *act,
                                    size_t act_stride, int64_t n, int np, float *out);

/* ==== k-quant tiles (vec_tile_k_avx2.c; only when ckpt_isa_available(AVX2)) ==== */

/* ckpt_vec_tile_fn of the k-quants against q8_K: each block of the four
 * rows unpacked once for the panel; every value the bits of the single dot. */
void ckpt_vec_tile_q2_K_q8_K_avx2(const void *w, size_t row_bytes, const void *act,
                                  size_t act_stride, int64_t n, int np, float *out);
void ckpt_vec_tile_q3_K_q8_K_avx2(const void *w, size_t row_bytes, const void *act,
                                  size_t act_stride, int64_t n, int np, float *out);
void ckpt_vec_tile_q4_K_q8_K_avx2(const void *w, size_t row_bytes, const void *act,
                                  size_t act_stride, int64_t n, int np, float *out);
void ckpt_vec_tile_q5_K_q8_K_avx2(const void *w, size_t row_bytes, const void *act,
                                  size_t act_stride, int64_t n, int np, float *out);
void ckpt_vec_tile_q6_K_q8_K_avx2(const void *w, size_t row_bytes, const void *act,
                                  size_t act_stride, int64_t n, int np, float *out);
/* Their K-slice tiles (ckpt_vec_tile_k_fn): the same staging, two quads
 * of rows per block, every position of the step over them. */
void ckpt_vec_tile_k_q2_K_q8_K_avx2(const void *w, size_t row_bytes, const void *act,
                                    size_t act_stride, int64_t n, int64_t k0, int64_t k1, int np,
                                    float *acc, float *out);
void ckpt_vec_tile_k_q3_K_q8_K_avx2(const void *w, size_t row_bytes, const void *act,
                                    size_t act_stride, int64_t n, int64_t k0, int64_t k1, int np,
                                    float *acc, float *out);
void ckpt_vec_tile_k_q4_K_q8_K_avx2(const void *w, size_t row_bytes, const void *act,
                                    size_t act_stride, int64_t n, int64_t k0, int64_t k1, int np,
                                    float *acc, float *out);
void ckpt_vec_tile_k_q5_K_q8_K_avx2(const void *w, size_t row_bytes, const void *act,
                                    size_t act_stride, int64_t n, int64_t k0, int64_t k1, int np,
                                    float *acc, float *out);
void ckpt_vec_tile_k_q6_K_q8_K_avx2(const void *w, size_t row_bytes, const void *act,
                                    size_t act_stride, int64_t n, int64_t k0, int64_t k1, int np,
                                    float *acc, float *out);

/* The scalar table (every type above with its _ref kernel): the scalar
 * ISA's (dispatch.h), and what the tests hold the avx2 rows to. */
extern const struct ckpt_vec_dot ckpt_vec_dot_table_ref[CKPT_TYPE_COUNT];
extern const struct ckpt_act_quant ckpt_act_quant_ref;

/* Bytes of n activations of type act (q8_0, q8_K, f32); 0 if n does not fit
 * the block size or act is another type. */
size_t ckpt_act_row_bytes(ckpt_type act, int64_t n);

#endif
