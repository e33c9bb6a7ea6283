/*
 * imatrix.h - importance matrices for quantization, as llama-quantize
 * reads them: llama.cpp's legacy binary ".dat" (llama-imatrix's output up
 * to 2025) and the newer GGUF imatrix (NAME.in_sum2 / NAME.counts
 * tensors).  The format is recognised from the first bytes.
 *
 * Each entry is the mean of x^2 per input column of a weight tensor, over
 * the activations seen during calibration: Σx²/count, which the legacy
 * file stores multiplied by its call count (divided out on load) and the
 * GGUF file stores as separate sums and counts.  A tensor with experts
 * has one slice of ne[0] values per expert, expert-major.  In a GGUF
 * imatrix an expert that was never routed (count 0) gets weights of 1.0
 * for its slice - a neutral, uniform importance, which is what newer
 * llama-quantize does; legacy files leave such a tensor out altogether.
 */
#ifndef CKPT_QUANT_IMATRIX_H
#define CKPT_QUANT_IMATRIX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../kernels/err.h"

typedef struct ckpt_imatrix ckpt_imatrix;

/*
 * Load `path` ("-" = stdin).  Every count, length and size is checked
 * against what the file holds; entry names must be unique; a NaN or
 * infinite value is an error naming the entry.  Caller owns *out.
 * Errors: CKPT_E_IO, CKPT_E_FORMAT (message names the file and the entry
 * or field), CKPT_E_VALUE (non-finite value or count), CKPT_E_NOMEM.
 */
ckpt_status ckpt_imatrix_load(ckpt_imatrix **out, const char *path, ckpt_err *err);

/* The same over `size` bytes at `data` (copied what is needed; `name` is
 * used in messages). */
ckpt_status ckpt_imatrix_load_buffer(ckpt_imatrix **out, const char *name, const void *data,
                                     size_t size, ckpt_err *err);

/* NULL is fine. */
void ckpt_imatrix_free(ckpt_imatrix *im);

/* The device and inode of the file a matrix was loaded from (false for a
 * buffer): a run that uses it keeps outputs off that file. */
bool ckpt_imatrix_file(const ckpt_imatrix *im, uint64_t *dev, uint64_t *ino);

/* Number of entries. */
size_t ckpt_imatrix_n_entries(const ckpt_imatrix *im);

/* Entry i (0-based, in file order): its tensor name; *values / *n get the
 * weights (borrowed until ckpt_imatrix_free). */
const char *ckpt_imatrix_entry(const ckpt_imatrix *im, size_t i, const float **values, size_t *n);

/* The calibration text's name as recorded (the first dataset of a GGUF
 * imatrix), or NULL if the file has none. */
const char *ckpt_imatrix_dataset(const ckpt_imatrix *im);

/* Chunks the calibration ran over as recorded (0 if the file has none). */
int32_t ckpt_imatrix_chunks(const ckpt_imatrix *im);

/*
 * The weights for tensor `name` of row length ne0 with n_mat matrices
 * (ne[2]: experts, else 1), as llama-quantize picks them: *out = NULL when
 * there is no entry (the tensor is quantized without weights), or the
 * n_mat*ne0 values, matrix m's slice at m*ne0.  An entry of another size
 * is an error (CKPT_E_FORMAT naming both sizes), except for
 * token_embd.weight, whose entry (if any) is ignored as llama-quantize
 * does.
 */
ckpt_status ckpt_imatrix_for_tensor(const ckpt_imatrix *im, const char *name, int64_t ne0,
                                    int64_t n_mat, const float **out, ckpt_err *err);

#endif
