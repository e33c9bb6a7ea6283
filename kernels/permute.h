/*
 * permute.h - the Q/K row order of the GGUF llama architecture.
 *
 * Hugging Face stores each attention head's query/key rows in rotate-half
 * order (row j of the first half pairs with row j of the second half);
 * ggml's llama RoPE pairs adjacent rows.  The converter therefore moves
 * rows, per head of hd rows (half = hd/2):
 *
 *     gguf_row[h*hd + 2*j + i] = hf_row[h*hd + i*half + j]    i in {0,1}
 *
 * K uses the number of KV heads.  Whole rows move; values are untouched.
 */
#ifndef CKPT_KERNELS_PERMUTE_H
#define CKPT_KERNELS_PERMUTE_H

#include <stdint.h>

/* HF row that lands at GGUF row `gguf_row` (n_rows rows, n_head heads). */
static inline int64_t ckpt_qk_hf_row(int64_t gguf_row, int64_t n_rows, int64_t n_head)
{
    int64_t hd = n_rows / n_head, half = hd / 2;
    int64_t h = gguf_row / hd, r = gguf_row % hd;
    return h * hd + (r % 2) * half + r / 2;
}

/* GGUF row that HF row `hf_row` lands at (the inverse). */
static inline int64_t ckpt_qk_gguf_row(int64_t hf_row, int64_t n_rows, int64_t n_head)
{
    int64_t hd = n_rows / n_head, half = hd / 2;
    int64_t h = hf_row / hd, r = hf_row % hd;
    return h * hd + 2 * (r % half) + r / half;
}

#endif
