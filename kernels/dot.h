/*
 * dot.h - dot products for the reference forward pass: f32 x f32, and a
 * stored weight row of any supported type x f32 activations (dequantized
 * block by block, never the whole row).  Scalar reference: the summation
 * order is fixed and documented, so results are identical on every
 * machine and for every thread split; faster paths must match it.
 */
#ifndef CKPT_KERNELS_DOT_H
#define CKPT_KERNELS_DOT_H

#include <stdbool.h>

#include "types.h"

/*
 * Sum of a[i]*b[i] for i < n (n >= 0) in this fixed order: eight f32
 * partial sums, lane i%8 accumulating its products in increasing i (no
 * fused multiply-add), then reduced as
 *     ((l0 + l4) + (l2 + l6)) + ((l1 + l5) + (l3 + l7)).
 */
float ckpt_vec_dot_f32(const float *a, const float *b, int n);

/* True if ckpt_dot_row handles rows of type t (those of quant.h). */
bool ckpt_dot_supported(ckpt_type t);

/*
 * Dot product of one stored row wrow of type t (n elements, any
 * alignment) with x[0..n).  Bit-identical to dequantizing the row with
 * ckpt_dequantize_row and calling ckpt_vec_dot_f32.  Returns NaN if t is
 * not supported or n is not a multiple of its block size (check with
 * ckpt_dot_supported and the type table first).
 */
float ckpt_dot_row(ckpt_type t, const void *wrow, const float *x, int n);

#endif
