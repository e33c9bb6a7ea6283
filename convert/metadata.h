/*
 * metadata.h - every key/value pair of a GGUF converted from a Hugging Face
 * Mistral/Mixtral checkpoint, in the order llama.cpp's converter writes them
 * (LLAMACPP.md §b): general.architecture "llama", general.type, the naming
 * keys, the llama.* hyperparameters (each only when config.json has it, as
 * the converter does), general.file_type, llama.vocab_size,
 * llama.rope.dimension_count, the tokenizer keys (vocab.h), and
 * general.quantization_version.
 *
 * Where config.json leaves out a key that llama.cpp needs, or whose
 * llama.cpp default differs from transformers' (context length, RMS norm
 * epsilon; Mixtral's rope_theta and expert counts), the transformers
 * default is written instead of nothing, so the file always loads and
 * means what the checkpoint means.
 *
 * Provenance (unless turned off) sits where the converter puts
 * general.source.*, after the naming keys:
 *   general.source.url, general.source.repo_url  (standard; only for a hub
 *       cache snapshot: https://huggingface.co/ORG/NAME[/tree/COMMIT])
 *   general.source.ckpt.name                 model directory name
 *   general.source.ckpt.config_sha256        SHA-256 (hex) of config.json
 *   general.source.ckpt.tokenizer_sha256     SHA-256 (hex) of the tokenizer file used
 *   general.source.ckpt.recipe               how the file was made, with the digest of
 *                                            every input (convert/recipe.h)
 */
#ifndef CKPT_CONVERT_METADATA_H
#define CKPT_CONVERT_METADATA_H

#include <stdbool.h>
#include <stdint.h>

#include "../formats/gguf.h"
#include "../kernels/err.h"
#include "plan.h"
#include "recipe.h"
#include "source.h"

struct ckpt_meta_opts {
    uint32_t file_type;   /* general.file_type (llama_ftype) */
    bool provenance;      /* write the general.source.* keys above */
    bool vocab_only;      /* a file without tensors, as the converter's --vocab-only writes
                             it: no parameters counted, hence no general.size_label */
    ckpt_type out_type;   /* the weights' type, for the recipe */
    bool allow_nonfinite; /* recorded in the recipe */
    struct ckpt_convert_inputs *inputs; /* the recipe's inputs (recipe.h); NULL: hashed
                                           by ckpt_meta_add, on every CPU */
    uint64_t split_bytes, split_tensors; /* the output's split limits, for the recipe */
};

/*
 * Add all keys to w (before ckpt_gguf_writer_begin).  Errors: reading
 * config/tokenizer files (CKPT_E_IO, CKPT_E_FORMAT, CKPT_E_RANGE), the
 * writer's errors.
 */
ckpt_status ckpt_meta_add(ckpt_gguf_writer *w, const struct ckpt_source *src,
                          const struct ckpt_plan *plan, const struct ckpt_meta_opts *o,
                          ckpt_err *err);

/*
 * Once the data is written: wait for the recipe's inputs hashed in the
 * background (recipe.h) and restate the recipe with their digests in place
 * of the placeholders ckpt_meta_add wrote (the same length, so nothing
 * moves; gguf.h: ckpt_gguf_writer_restate_str).  Errors: hashing an input,
 * the writer's.
 */
ckpt_status ckpt_meta_restate_recipe(ckpt_gguf_writer *w, const struct ckpt_source *src,
                                     const struct ckpt_meta_opts *o, ckpt_err *err);

#endif
