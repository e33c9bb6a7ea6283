/*
 * quant_kernels.h - the per-type scalar reference kernels, in ggml's
 * spelling.  Most callers want the table-driven entry points of quant.h;
 * these are for tests and for code that already knows its type.
 *
 * For every type T:
 *   ckpt_quantize_row_T_ref(x, y, k)   k floats -> k/block blocks, no
 *       importance weights; the bytes equal ggml's quantize_row_T_ref.
 *   ckpt_quantize_T(src, dst, nrow, n_per_row, imatrix)
 *       nrow rows; imatrix is NULL or n_per_row weights applied to every
 *       row.  The bytes equal ggml_quantize_chunk(T, ...).  Returns the
 *       bytes written (nrow * row size).
 *   ckpt_dequantize_row_T(x, y, k)     k/block blocks -> k floats; the
 *       floats equal ggml's dequantize_row_T bit for bit.
 * k and n_per_row must be multiples of the block size (32, or 256 for the
 * k-quants); buffers must not overlap and need no alignment.  The input
 * should be finite: NaN/Inf give unspecified (but memory-safe) bytes.
 * All functions are pure and thread-safe.
 *
 * ckpt_quantize_T_kq (q4_K, q5_K, q6_K) is ckpt_quantize_T with the scale
 * searches of kq (quant_k_common.h): the same bytes with any of them; the
 * table of dispatch.h says which one this CPU runs.
 *
 * Private to kernels/ (tests reach it through kernels_test.h).
 */
#ifndef CKPT_KERNELS_QUANT_KERNELS_H
#define CKPT_KERNELS_QUANT_KERNELS_H

#include <stddef.h>
#include <stdint.h>

struct ckpt_kq_kernels;

/* q4_0 */
void ckpt_quantize_row_q4_0_ref(const float *x, void *y, int64_t k);
size_t ckpt_quantize_q4_0(const float *src, void *dst, int64_t nrow, int64_t n_per_row,
                          const float *imatrix);
void ckpt_dequantize_row_q4_0(const void *x, float *y, int64_t k);

/* q4_1 */
void ckpt_quantize_row_q4_1_ref(const float *x, void *y, int64_t k);
size_t ckpt_quantize_q4_1(const float *src, void *dst, int64_t nrow, int64_t n_per_row,
                          const float *imatrix);
void ckpt_dequantize_row_q4_1(const void *x, float *y, int64_t k);

/* q5_0 */
void ckpt_quantize_row_q5_0_ref(const float *x, void *y, int64_t k);
size_t ckpt_quantize_q5_0(const float *src, void *dst, int64_t nrow, int64_t n_per_row,
                          const float *imatrix);
void ckpt_dequantize_row_q5_0(const void *x, float *y, int64_t k);

/* q5_1 */
void ckpt_quantize_row_q5_1_ref(const float *x, void *y, int64_t k);
size_t ckpt_quantize_q5_1(const float *src, void *dst, int64_t nrow, int64_t n_per_row,
                          const float *imatrix);
void ckpt_dequantize_row_q5_1(const void *x, float *y, int64_t k);

/* q8_0: ignores imatrix, as ggml does */
void ckpt_quantize_row_q8_0_ref(const float *x, void *y, int64_t k);
size_t ckpt_quantize_q8_0(const float *src, void *dst, int64_t nrow, int64_t n_per_row,
                          const float *imatrix);
void ckpt_dequantize_row_q8_0(const void *x, float *y, int64_t k);

/* q2_K */
void ckpt_quantize_row_q2_K_ref(const float *x, void *y, int64_t k);
size_t ckpt_quantize_q2_K(const float *src, void *dst, int64_t nrow, int64_t n_per_row,
                          const float *imatrix);
void ckpt_dequantize_row_q2_K(const void *x, float *y, int64_t k);

/* q3_K */
void ckpt_quantize_row_q3_K_ref(const float *x, void *y, int64_t k);
size_t ckpt_quantize_q3_K(const float *src, void *dst, int64_t nrow, int64_t n_per_row,
                          const float *imatrix);
void ckpt_dequantize_row_q3_K(const void *x, float *y, int64_t k);

/* q4_K */
void ckpt_quantize_row_q4_K_ref(const float *x, void *y, int64_t k);
size_t ckpt_quantize_q4_K(const float *src, void *dst, int64_t nrow, int64_t n_per_row,
                          const float *imatrix);
size_t ckpt_quantize_q4_K_kq(const float *src, void *dst, int64_t nrow, int64_t n_per_row,
                          const float *imatrix, const struct ckpt_kq_kernels *kq);
void ckpt_dequantize_row_q4_K(const void *x, float *y, int64_t k);

/* q5_K */
void ckpt_quantize_row_q5_K_ref(const float *x, void *y, int64_t k);
size_t ckpt_quantize_q5_K(const float *src, void *dst, int64_t nrow, int64_t n_per_row,
                          const float *imatrix);
size_t ckpt_quantize_q5_K_kq(const float *src, void *dst, int64_t nrow, int64_t n_per_row,
                          const float *imatrix, const struct ckpt_kq_kernels *kq);
void ckpt_dequantize_row_q5_K(const void *x, float *y, int64_t k);

/* q6_K */
void ckpt_quantize_row_q6_K_ref(const float *x, void *y, int64_t k);
size_t ckpt_quantize_q6_K(const float *src, void *dst, int64_t nrow, int64_t n_per_row,
                          const float *imatrix);
size_t ckpt_quantize_q6_K_kq(const float *src, void *dst, int64_t nrow, int64_t n_per_row,
                          const float *imatrix, const struct ckpt_kq_kernels *kq);
void ckpt_dequantize_row_q6_K(const void *x, float *y, int64_t k);

/* q8_K: ignores imatrix (ggml has no weighted q8_K) */
void ckpt_quantize_row_q8_K_ref(const float *x, void *y, int64_t k);
size_t ckpt_quantize_q8_K(const float *src, void *dst, int64_t nrow, int64_t n_per_row,
                          const float *imatrix);
void ckpt_dequantize_row_q8_K(const void *x, float *y, int64_t k);

/* iq4_nl: _ref is ggml's quick path; ckpt_quantize_iq4_nl always runs the full search */
void ckpt_quantize_row_iq4_nl_ref(const float *x, void *y, int64_t k);
size_t ckpt_quantize_iq4_nl(const float *src, void *dst, int64_t nrow, int64_t n_per_row,
                            const float *imatrix);
void ckpt_dequantize_row_iq4_nl(const void *x, float *y, int64_t k);
#endif
