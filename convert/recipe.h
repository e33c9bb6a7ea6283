/*
 * recipe.h - ckpt-convert's step of a file's recipe (formats/recipe.h):
 * the output type and options, and the SHA-256 of every file of the model
 * directory the conversion reads (the config, the weight shards and their
 * index, the tokenizer and its config), so that a replay can say which
 * input differs.
 */
#ifndef CKPT_CONVERT_RECIPE_H
#define CKPT_CONVERT_RECIPE_H

#include <stdbool.h>

#include <cjson/cJSON.h>

#include "../formats/sha256.h"
#include "../kernels/err.h"
#include "../kernels/types.h"
#include "source.h"

struct ckpt_convert_step {
    ckpt_type type;        /* the output type (f32, f16, bf16) */
    bool vocab_only;
    bool allow_nonfinite;
    int n_threads;         /* for hashing the inputs; <= 0: all CPUs */
    uint64_t split_bytes, split_tensors; /* the output's split limits (0: none) */
};

/*
 * The step (caller owns *out, cJSON_Delete).  Errors: reading or hashing a
 * file (CKPT_E_IO), CKPT_E_NOMEM.
 */
ckpt_status ckpt_convert_step_make(cJSON **out, const struct ckpt_source *src,
                                   const struct ckpt_convert_step *o, ckpt_err *err);

#endif
