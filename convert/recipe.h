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
    uint64_t split_bytes, split_tensors; /* the output's split limits (0: none) */
};

/*
 * The files a conversion of a checkpoint reads and their SHA-256.  Hashing
 * a 7B model's shards takes a good part of a conversion, and the digests
 * sit in the header, which is written first: with `background` they are
 * hashed on a thread of their own while the conversion reads the same
 * pages (which the page cache then serves to both), the header is written
 * with placeholders of the same length, and the recipe is restated once
 * ckpt_convert_inputs_wait has the digests.  Either way, each file is
 * hashed whole through a mapping guarded against shrinking (mapfile.h), so
 * an input cut during the conversion ends it as before.
 */
struct ckpt_convert_inputs;

/*
 * The inputs of src, to hash on n_threads (<= 0: all CPUs).  The caller
 * owns *out (ckpt_convert_inputs_free), also on failure.  Errors: a file
 * that is missing (CKPT_E_IO), CKPT_E_NOMEM.
 */
ckpt_status ckpt_convert_inputs_list(struct ckpt_convert_inputs **out,
                                     const struct ckpt_source *src, int n_threads,
                                     ckpt_err *err);

/*
 * Hash them, now or with `background` on a thread of its own (started once
 * the output is open, so that a refused output is reported at once; a
 * conversion that fails later waits for the thread when it frees the
 * inputs).  Errors: hashing a file unless in the background (then
 * ckpt_convert_inputs_wait reports them), a thread that cannot start
 * (CKPT_E_NOMEM), CKPT_E_USAGE when called twice.
 */
ckpt_status ckpt_convert_inputs_hash(struct ckpt_convert_inputs *in, bool background,
                                     ckpt_err *err);

/* Wait for the digests (at once when not hashed in the background).
 * Errors: reading or hashing a file (CKPT_E_IO, CKPT_E_UNSUPPORTED). */
ckpt_status ckpt_convert_inputs_wait(struct ckpt_convert_inputs *in, ckpt_err *err);

/* Wait for a background hash if one runs, and free; NULL is fine. */
void ckpt_convert_inputs_free(struct ckpt_convert_inputs *in);

/*
 * The step (caller owns *out, cJSON_Delete), with the inputs' digests, or
 * until they are known (ckpt_convert_inputs_wait) placeholders of the same
 * length (all zero bits).  Errors: CKPT_E_NOMEM.
 */
ckpt_status ckpt_convert_step_make(cJSON **out, const struct ckpt_convert_inputs *in,
                                   const struct ckpt_convert_step *o, ckpt_err *err);

#endif
