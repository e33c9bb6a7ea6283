/*
 * recipe.h - how a file was made, as ckpt records it inside the file: the
 * GGUF key general.source.ckpt.recipe holds a JSON text (compact, in a
 * fixed member order, no timestamps: the same build gives the same bytes)
 *
 *   {"version":1,"steps":[STEP,...]}
 *   STEP = {"tool":"ckpt-convert"|"ckpt-quant","version":"0.1.0",
 *           ...the options of that tool that shaped the bytes...,
 *           "inputs":[{"role":R,"name":N,"sha256":HEX},...]}
 *
 * Steps are in the order they ran: a file quantized from a ckpt-convert
 * output carries the conversion first and the quantization after it (a
 * tool that reads a file with a recipe appends its own step; it never
 * copies the input's recipe unchanged, since that would describe another
 * file).  ckpt-convert's step: "type" (f32, f16, bf16), "vocab_only" and
 * "allow_nonfinite" (only when true), inputs of role "source" (every file
 * of the model directory it read).  ckpt-quant's step: "mix" (llama.cpp's
 * name, Q4_K_M), then only what was given: "pure", "output_tensor_type",
 * "token_embedding_type", "tensor_types" and "override_kv" (the arguments
 * as typed, in order), "leave_output_tensor", "allow_requantize",
 * "imatrix_name" (recorded in quantize.imatrix.file), "calib_ctx",
 * "calib_chunks", "calib_model" ("directory" or "gguf": what the text ran
 * through, since a directory's sliding window applies and a GGUF has
 * none), "calib_semantic" (what the forward pass over the text computed,
 * kernels/dispatch.h's semantic name: "q8" by default; a recipe without it
 * predates it and ran on "f32", the ref ISA), "optimize", "target_bpw", "target_size", "gptq" and
 * "optimize_isa" (the ISA --optimize's forward passes ran on: its choice
 * depends on it), with inputs of role "imatrix" and/or "calib" (the text;
 * both with --optimize and --imatrix).  A compressed-tensors output's step
 * has "scheme" (W8A16, W8A8, W4A16) instead of "mix", and "group_size" (a
 * number or "channel"), "scale_search" and "max_shard_size" when given;
 * the text is in every shard's __metadata__ under "ckpt.recipe"
 * (quant/sink_ct.h), which transformers and vLLM ignore.
 *
 * ckpt-sign lifts the recipe into the signed predicate; ckpt-verify
 * --rebuild replays it (verify/rebuild.h).
 */
#ifndef CKPT_FORMATS_RECIPE_H
#define CKPT_FORMATS_RECIPE_H

#include <stdint.h>

#include <cjson/cJSON.h>

#include "../kernels/err.h"
#include "gguf.h"
#include "sha256.h"

#define CKPT_RECIPE_VERSION 1
#define CKPT_RECIPE_MAX_BYTES (1u << 20) /* far above any real recipe */
#define CKPT_RECIPE_MAX_STEPS 16

/*
 * Parse and check a recipe text: strict JSON, the shape above (version 1,
 * 1..16 steps, each with a tool and version string, inputs with a role,
 * a name and 64 lowercase hex digits).  `what` names the text in
 * messages.  Caller owns *out (cJSON_Delete).  Errors: CKPT_E_FORMAT,
 * CKPT_E_RANGE (too big), CKPT_E_NOMEM.
 */
ckpt_status ckpt_recipe_parse(cJSON **out, const char *text, size_t len, const char *what,
                              ckpt_err *err);

/* The recipe of a GGUF (parsed and checked), or *out = NULL when it has
 * none.  Errors: those of ckpt_recipe_parse, CKPT_E_FORMAT for a key that
 * is not a string. */
ckpt_status ckpt_recipe_of_gguf(cJSON **out, const ckpt_gguf *g, const char *what,
                                ckpt_err *err);

/*
 * A step's split limits (--split-max-size in bytes, --split-max-tensors;
 * 0: not given), byte-changing options of convert and quant alike:
 * recorded as "split_max_size" and "split_max_tensors", each only when
 * given.  add: false if out of memory.  of: CKPT_E_FORMAT for a value
 * that is not a whole number from 1 to 2^53 (`what` names the recipe).
 */
bool ckpt_recipe_add_split(cJSON *step, uint64_t max_bytes, uint64_t max_tensors);
ckpt_status ckpt_recipe_split_of(const cJSON *step, uint64_t *max_bytes, uint64_t *max_tensors,
                                 const char *what, ckpt_err *err);

/* A new step of `tool`, with this build's version; NULL if out of memory. */
cJSON *ckpt_recipe_step_new(const char *tool);

/* Append {"role","name","sha256"} to step's inputs. */
ckpt_status ckpt_recipe_add_input(cJSON *step, const char *role, const char *name,
                                  const uint8_t digest[CKPT_SHA256_LEN], ckpt_err *err);

/*
 * The compact text of `prior` (a recipe, or NULL for none) with `step`
 * appended; step is consumed.  Caller frees *out.  Errors: CKPT_E_RANGE
 * (too many steps), CKPT_E_NOMEM.
 */
ckpt_status ckpt_recipe_extend(char **out, const cJSON *prior, cJSON *step, ckpt_err *err);

/* SHA-256 of the file at path (symbolic links followed: a hub cache
 * snapshot is made of them).  Errors: CKPT_E_IO, CKPT_E_NOMEM. */
ckpt_status ckpt_recipe_hash_file(const char *path, uint8_t d[CKPT_SHA256_LEN], ckpt_err *err);

/* The last step; borrowed. */
const cJSON *ckpt_recipe_last(const cJSON *recipe);

/* Number of steps. */
int ckpt_recipe_n_steps(const cJSON *recipe);

#endif
