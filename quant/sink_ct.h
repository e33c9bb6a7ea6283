/*
 * sink_ct.h - a compressed-tensors model directory as the quantizer's
 * output (sink.h; the layout and its rules in sink_ct.c, the schemes in
 * ct_scheme.h): what `ckpt-quant -t W8A16|W8A8|W4A16 -o DIR` writes.
 */
#ifndef CKPT_QUANT_SINK_CT_H
#define CKPT_QUANT_SINK_CT_H

#include <stdbool.h>
#include <stdint.h>

#include "../formats/outdir.h"
#include "ct_scheme.h"
#include "imatrix.h"
#include "sink.h"

/* The shards' __metadata__ key holding the recipe (formats/recipe.h). */
#define CKPT_CT_RECIPE_KEY "ckpt.recipe"

struct ckpt_ct_sink_opts {
    const char *dir;          /* the output directory (published whole, outdir.h) */
    bool force;               /* replace an existing directory */
    int scheme;               /* ckpt_ct_scheme */
    int64_t group_size;       /* 0: the scheme's default; -1: per channel; else columns */
    uint64_t max_shard_bytes; /* 0: 5 GB, as transformers */
    const char *source_dir;   /* a Hugging Face source: its config.json is the base of the
                                 output's, its tokenizer and generation files are copied;
                                 NULL for a GGUF source (config.json made from its keys) */
    const ckpt_imatrix *imatrix; /* importance weights for the scale search, or NULL */
    bool search;              /* scales by the error search even without an imatrix */
    const struct ckpt_gptq *gptq; /* GPTQ error feedback (ct_gptq.h) for the matrices it has
                                     input second moments of, or NULL; borrowed */
    int n_threads;            /* rows encoded by this many threads (<= 0: all cores);
                                 the bytes do not depend on it */
    struct ckpt_outdir_digests *digests; /* non-NULL: hash every file into it instead
                                 of writing (a replay, formats/outdir.h); dir only names it */
};

/*
 * Open the sink (nothing is created before begin).  The model's float
 * dtype (of the scales and of every tensor not quantized) is the source's:
 * config.json's torch_dtype, or the type of a GGUF's token_embd.weight
 * (BF16 when that is quantized).  Errors: CKPT_E_USAGE (unknown scheme, a
 * torch_dtype other than float32/float16/bfloat16), CKPT_E_FORMAT /
 * CKPT_E_UNSUPPORTED when the source's keys name no architecture ckpt
 * can write Hugging Face names for, CKPT_E_NOMEM.  Later, declare fails
 * with CKPT_E_USAGE for a matrix whose row length the group size does not
 * divide, and begin with CKPT_E_EXISTS for an existing directory without
 * force.  meta is borrowed until the sink is gone.
 */
ckpt_status ckpt_qsink_open_ct(struct ckpt_qsink **out, const struct ckpt_ct_sink_opts *o,
                               const struct ckpt_qsink_meta *meta, ckpt_err *err);

#endif
