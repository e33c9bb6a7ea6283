/*
 * dot.h - dot products for the reference forward pass: f32 x f32, and a
 * stored weight row of any supported type (those of quant.h) x f32
 * activations, dequantized a chunk at a time into a stack buffer, never
 * the whole row.
 *
 * Four ISAs compute them (dispatch.h), each in an order fixed by the ISA
 * alone, so a result never depends on the thread count or on the batch
 * size:
 *   ref   scalar f32, the documented eight-lane order of ckpt_vec_dot_f32
 *         over the whole dequantized row (the oracle);
 *   avx2  AVX2/FMA/F16C, rows in chunks of CKPT_DOT_CHUNK elements with
 *         four 8-lane FMA accumulators each, chunk sums added in row
 *         order; within 4e-6 * sum|w x| of ref (tests/kernels/check_dot.c);
 *   scalar  avx2's order in portable C (fmaf, dot_kernels.h): avx2's bits;
 *   f64   scalar, products and sums in double, rounded to f32 once.
 */
#ifndef CKPT_KERNELS_DOT_H
#define CKPT_KERNELS_DOT_H

#include <stdbool.h>
#include <stdint.h>

#include "dispatch.h"
#include "types.h"

#define CKPT_DOT_CHUNK 256 /* elements converted at once: a multiple of every block size */

/*
 * Sum of a[i]*b[i] for i < n (n >= 0) in this fixed order: eight f32
 * partial sums, lane i%8 accumulating its products in increasing i (no
 * fused multiply-add), then reduced as
 *     ((l0 + l4) + (l2 + l6)) + ((l1 + l5) + (l3 + l7)).
 */
float ckpt_vec_dot_f32(const float *a, const float *b, int64_t n);

/* True if ckpt_dot_row handles rows of type t (those of quant.h). */
bool ckpt_dot_supported(ckpt_type t);

/*
 * Reference dot product of one stored row wrow of type t (n elements, any
 * alignment) with x[0..n).  Bit-identical to dequantizing the row with
 * ckpt_dequantize_row and calling ckpt_vec_dot_f32.  Returns NaN if t is
 * not supported or n is not a multiple of its block size (check with
 * ckpt_dot_supported and the type table first).
 */
float ckpt_dot_row(ckpt_type t, const void *wrow, const float *x, int64_t n);

/* Same with an explicit ISA (ref gives ckpt_dot_row); the ISA must be
 * available, t supported and n a multiple of the block size. */
float ckpt_dot_row_isa(ckpt_isa isa, ckpt_type t, const void *wrow, const float *x, int64_t n);

/*
 * One stored row against m activation vectors: out[j*ldo] = row . x[j*ldx]
 * for j < m.  Each chunk of the row is dequantized once and used for all m
 * vectors; out[j*ldo] is bit-identical to ckpt_dot_row_isa on x + j*ldx.
 * Same preconditions as ckpt_dot_row_isa.
 */
void ckpt_dot_rows(ckpt_isa isa, ckpt_type t, const void *wrow, int64_t n, const float *x,
                   int64_t ldx, int64_t m, float *out, int64_t ldo);

#endif
