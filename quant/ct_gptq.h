/*
 * ct_gptq.h - the compressed-tensors int4/int8 group quantizer as the
 * per-block encoder of GPTQ's column walk (optimize.h ckpt_gptq_walk): how
 * llm-compressor's GPTQModifier makes the checkpoints vLLM serves.
 *
 * A group's scale is chosen when the walk reaches the group, from the
 * group's columns as the earlier groups' errors have moved them
 * (llm-compressor's actorder None with static groups off); each column is
 * then rounded with that scale in turn, its error fed to every later
 * column, those of its own group included.
 */
#ifndef CKPT_QUANT_CT_GPTQ_H
#define CKPT_QUANT_CT_GPTQ_H

#include <stdbool.h>
#include <stdint.h>

#include "../kernels/types.h"

/*
 * ckpt_ct_quantize_row's output (kernels/quant_ct.h: scale[n / group],
 * q[n]) for row x of n inputs, compensated through u (n x n, the upper
 * Cholesky factor of the damped inverse input second moment,
 * ckpt_gptq_factor).  imp: importance weights for the scale search, or
 * NULL; search: the error search, else absmax.  scratch: room for
 * 16 * n bytes, 8-aligned.  Deterministic: depends on the row only.
 * Cannot fail (this encoder never does).
 */
void ckpt_ct_gptq_row(const float *u, const float *x, const float *imp, bool search, int64_t n,
                      int64_t group, int bits, ckpt_type dt, float *scale, int8_t *q,
                      void *scratch);

#endif
