/*
 * dot.h - dot products of one weight row, stored in any supported ggml
 * type, with f32 activations: the inner loop of every matrix product of
 * the reference forward pass.
 *
 * A row is taken in chunks of CKPT_DOT_CHUNK elements.  Each chunk is
 * converted to f32 (an exact widening for F16/BF16, block-by-block
 * dequantization for quantized types) into a small stack buffer, dotted
 * with the activations by the ISA's chunk kernel, and the chunk sums are
 * added in row order.  Every addition happens in an order fixed by the ISA
 * alone, so a result never depends on the thread count or the batch size.
 *
 * ISAs: "ref" (scalar, f32 accumulation, the oracle), "avx2" (AVX2/FMA/F16C,
 * within the bound documented in tests/check_dot.c of ref) and "f64"
 * (scalar, double accumulation, for strict runs).  The default is avx2 when
 * the CPU has it, else ref; the environment variable CKPT_ISA=ref|avx2|f64
 * overrides it.
 */
#ifndef CKPT_KERNELS_DOT_H
#define CKPT_KERNELS_DOT_H

#include <stdbool.h>
#include <stdint.h>

#include "types.h"

#define CKPT_DOT_CHUNK 256 /* elements per chunk: a multiple of every block size */

typedef enum {
    CKPT_ISA_REF = 0,
    CKPT_ISA_AVX2 = 1,
    CKPT_ISA_F64 = 2,
    CKPT_ISA_COUNT
} ckpt_isa;

/* "ref", "avx2", "f64". */
const char *ckpt_isa_name(ckpt_isa isa);

/* ISA from its name; -1 if unknown. */
int ckpt_isa_from_name(const char *name);

/* True if this CPU can run the ISA's kernels. */
bool ckpt_isa_available(ckpt_isa isa);

/*
 * The process-wide default ISA: CKPT_ISA from the environment if it names
 * an available ISA, else avx2 if the CPU has AVX2+FMA+F16C, else ref.
 * Decided once (thread-safe).
 */
ckpt_isa ckpt_isa_default(void);

/* True if rows of type t can be converted and dotted (F32, F16, BF16 and
 * every quantized type with a dequantizer). */
bool ckpt_dot_supports(ckpt_type t);

/*
 * Convert n elements of a row of type t to f32 (n a multiple of the block
 * size; row needs no alignment).  The values are exact for F32/F16/BF16 and
 * equal ggml's dequantizer for quantized types.  t must be supported.
 */
void ckpt_dot_to_f32(ckpt_type t, const void *row, float *out, int64_t n);

/* Dot product of a row of type t (n elements) with x, default ISA. */
float ckpt_dot_row(ckpt_type t, const void *row, const float *x, int64_t n);

/* Same with an explicit ISA (which must be available). */
float ckpt_dot_row_isa(ckpt_isa isa, ckpt_type t, const void *row, const float *x, int64_t n);

/*
 * One weight row against m activation vectors: out[j*ldo] = row . x[j*ldx]
 * for j in [0, m).  Each chunk of the row is converted once and used for all
 * m vectors; out[j*ldo] is bit-identical to ckpt_dot_row_isa on x[j*ldx].
 */
void ckpt_dot_rows(ckpt_isa isa, ckpt_type t, const void *row, int64_t n, const float *x,
                   int64_t ldx, int64_t m, float *out, int64_t ldo);

#endif
