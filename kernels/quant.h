/*
 * quant.h - quantize and dequantize rows of any supported tensor type,
 * through one table indexed by type id.  The bytes are ggml's: without
 * an importance matrix those of quantize_row_<type>_ref, with one those
 * of ggml_quantize_chunk(type, ..., imatrix), which is what llama-quantize
 * writes.  Pure functions of their arguments: thread-safe, and rows can
 * be split across threads in any way without changing a byte.
 *
 * Types: F32, F16, BF16 (plain conversions), Q4_0, Q4_1, Q5_0, Q5_1,
 * Q8_0, Q2_K, Q3_K, Q4_K, Q5_K, Q6_K, Q8_K, IQ4_NL.
 */
#ifndef CKPT_KERNELS_QUANT_H
#define CKPT_KERNELS_QUANT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dispatch.h"
#include "err.h"
#include "types.h"

/* True if ckpt_quantize_rows and ckpt_dequantize_row handle type t. */
bool ckpt_quant_supported(ckpt_type t);

/*
 * Quantize n_rows rows of n_per_row floats from src into dst (n_rows
 * times ckpt_type_row_bytes(t, n_per_row) bytes, caller-provided, any
 * alignment).  imatrix is NULL or n_per_row importance weights applied
 * to every row (Q8_0, Q8_K and the plain types ignore it; IQ4_NL uses
 * ggml's full search either way).
 *
 * Errors (err names the type, and the row counted from 0 within this
 * call): CKPT_E_UNSUPPORTED for a type not listed above; CKPT_E_USAGE
 * for n_per_row not a positive multiple of the block size, n_rows < 0 or
 * NULL buffers; CKPT_E_VALUE for a NaN or Inf in an input row or in the
 * imatrix, and for a row whose stored scale comes out inf or NaN (the
 * values are too large for the f16 scale, or degenerate), i.e. a row
 * llama-quantize would reject.  On error, dst holds unspecified bytes.
 */
ckpt_status ckpt_quantize_rows(ckpt_type t, const float *src, void *dst, int64_t n_rows,
                               int64_t n_per_row, const float *imatrix, ckpt_err *err);

/*
 * The same bytes without any validation: non-finite inputs and
 * overflowing scales are written as ggml writes them.  Returns the bytes
 * written, or 0 if the type is unsupported or n_per_row is not a
 * multiple of its block size.  For tests and for replaying ggml exactly.
 */
size_t ckpt_quantize_rows_unchecked(ckpt_type t, const float *src, void *dst, int64_t n_rows,
                                    int64_t n_per_row, const float *imatrix);

/*
 * ckpt_quantize_rows_unchecked with the kernels of one ISA: CKPT_ISA_AVX2
 * takes the AVX2 sibling where a type has one (q4_K, q5_K, q6_K; the same
 * bytes: the tests hold them to it), anything else the scalar reference.
 * Returns 0 if the ISA is not available (ckpt_isa_available).  The other
 * entry points use the table of ckpt_kernels_get() (dispatch.h), so
 * CKPT_ISA=ref forces the reference.
 */
size_t ckpt_quantize_rows_isa(ckpt_isa isa, ckpt_type t, const float *src, void *dst,
                              int64_t n_rows, int64_t n_per_row, const float *imatrix);

/*
 * Dequantize one row of n elements of type t from src (any alignment)
 * into dst, bit-identical to ggml's to_float.  Returns false (and writes
 * nothing) if the type is unsupported or n is not a multiple of its
 * block size.
 */
bool ckpt_dequantize_row(ckpt_type t, const void *src, float *dst, int64_t n);

/*
 * Check the stored scales of one quantized row of n elements (the part
 * of ggml_validate_row_data that concerns scales): returns true if every
 * f16/bf16/f32 scale field is finite.  Otherwise returns false and sets
 * *bad_block (if not NULL) to the first offending block.  Plain types are
 * checked element by element.  False also for an unsupported type.
 */
bool ckpt_quant_row_scales_ok(ckpt_type t, const void *row, int64_t n, int64_t *bad_block);

#endif
