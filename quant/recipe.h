/*
 * recipe.h - ckpt-quant's step of a file's recipe (formats/recipe.h): the
 * mix and every option that changes the bytes, as given, with the digest
 * of the importance matrix or calibration text.
 *
 * A quantization extends its input's recipe.  An input without one (a
 * llama.cpp conversion) gets none: the output then stays llama-quantize's
 * file byte for byte, which tests compare against.
 */
#ifndef CKPT_QUANT_RECIPE_H
#define CKPT_QUANT_RECIPE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "../formats/gguf.h"
#include "../kernels/err.h"
#include "calib.h"
#include "optimize.h"
#include "plan.h"
#include "quantize.h"
#include "sink_ct.h"

struct ckpt_quant_step {
    ckpt_mix mix;
    bool pure, leave_output, allow_requantize;
    int output_type, token_embd_type;       /* ckpt_type or -1 */
    const char *const *tensor_types;        /* --tensor-type arguments as given */
    size_t n_tensor_types;
    const char *const *override_kv;         /* --override-kv arguments as given */
    size_t n_override_kv;
    const char *imatrix;                    /* --imatrix FILE (hashed), or NULL */
    const char *imatrix_name;               /* what quantize.imatrix.file records */
    const char *calib;                      /* --calib TEXT (hashed), or NULL */
    int64_t calib_ctx, calib_chunks;        /* as given; <= 0 when not */
    bool calib_on_dir;                      /* the text ran through a model directory (its
                                               sliding window applies), not a GGUF */
    const char *calib_semantic;             /* --calib: what its forward pass computed
                                               (ckpt_isa_semantic), which the matrix
                                               depends on */
    uint64_t split_bytes, split_tensors;    /* the output's split limits (0: none) */
    bool optimize, gptq;                    /* --optimize, --gptq */
    double target_bpw;                      /* --target-bpw, or 0 */
    uint64_t target_bytes;                  /* --target-size, or 0 */
    const char *isa;                        /* --optimize: the ISA its forward passes ran on
                                               (its choice depends on it) */
    const char *ct_scheme;                  /* -t W8A16|W8A8|W4A16, recorded instead of the
                                               mix; NULL for a GGUF */
    int64_t ct_group;                       /* --group-size: 0 default, -1 channel */
    bool ct_search;                         /* --scale-search */
    uint64_t ct_max_shard;                  /* --max-shard-size in bytes (0: default) */
};

/*
 * The recipe text for an output of source_meta (the input's keys) under
 * o: the input's recipe with this step appended, or *out = NULL when the
 * input has no recipe.  Caller frees *out.  Errors: hashing a file
 * (CKPT_E_IO), a malformed input recipe (CKPT_E_FORMAT), CKPT_E_USAGE for
 * a calibration text from standard input (it cannot be recorded),
 * With --optimize and --imatrix both, the matrix and the text (which the
 * measurements ran on) are both inputs.
 * CKPT_E_NOMEM.
 */
ckpt_status ckpt_quant_recipe(char **out, const ckpt_gguf *source_meta,
                              const struct ckpt_quant_step *o, ckpt_err *err);

/*
 * Fill step (recipe_step.c) from a run of ckpt-quant on `in` under o (its
 * mix and type options, split limits, imatrix_name), --imatrix FILE (or
 * NULL), the calibration options co, --optimize's (opt, used when
 * optimize) and the compressed-tensors options ct (scheme < 0: a GGUF).  The tensor_types and override_kv arguments are the caller's
 * to set.  Strings are borrowed.
 */
void ckpt_quant_step_set(struct ckpt_quant_step *step, const char *in,
                         const struct ckpt_quant_opts *o, const char *imatrix_path,
                         const struct ckpt_calib_opts *co, const struct ckpt_opt_opts *opt,
                         bool optimize, const struct ckpt_ct_sink_opts *ct);

/* The step's options as JSON members of step (for the recipe, and for a
 * replay to compare with).  Errors: CKPT_E_NOMEM. */
ckpt_status ckpt_quant_step_fill(cJSON *step, const struct ckpt_quant_step *o, ckpt_err *err);

#endif
