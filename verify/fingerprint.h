/*
 * fingerprint.h - a behavioural fingerprint of a model: what it does on
 * fixed prompts, signed with it (predicate.ckpt.fingerprint) and checked
 * by running the artifact alone, with neither the source nor trust in the
 * file's metadata.
 *
 *   {"version":1,"tokens":N,"top_k":4,"quantum":0.0625,"tolerance":2,
 *    "prompts":[{"text":T,"ids":[prompt ids],"generated":[N greedy ids],
 *                "top":[[id,q,id,q,...] per step],"sha256":HEX},...],
 *    "isa":NAME,"semantic":S}
 *
 * Per generated step, the top_k logits of the distribution the token was
 * picked from, as (id, round(logit / quantum)) pairs; "sha256" hashes a
 * prompt's ids, generated ids and top pairs (little-endian int32s), so two
 * identical runs show one digest.  A check demands the same prompt ids and
 * the same greedy tokens, and each recorded top logit within `tolerance`
 * quanta.  "isa" and "semantic" name the kernels that made it and what
 * they compute (dispatch.h: avx2 and scalar are one semantic, "q8"; ref is
 * the f32 oracle); a check runs the default semantic too (the same on
 * every CPU), and a failure under another semantic says so.  Why a
 * tolerance: avx2 and scalar give the very same logits (tests/verify/
 * check_fingerprint.c asserts the bits and the digests), so the tolerance
 * is not for them; it lets a fingerprint made under one semantic check
 * under another where their difference is small (F32/F16/BF16 weights:
 * the f32 oracle sums without FMA, within dot.h's bound), while a damaged
 * tensor moves tokens and logits by far more.
 */
#ifndef CKPT_VERIFY_FINGERPRINT_H
#define CKPT_VERIFY_FINGERPRINT_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "../kernels/err.h"

#define CKPT_FP_VERSION 1
#define CKPT_FP_TOKENS 16      /* greedy tokens per prompt by default */
#define CKPT_FP_TOP_K 4
#define CKPT_FP_QUANTUM 0.0625 /* logit units per recorded step */
#define CKPT_FP_TOLERANCE 2    /* quanta a recorded logit may move */

struct ckpt_fp_opts {
    const char *model;             /* GGUF file or model directory */
    const char *const *prompts;    /* NULL: the built-in set (verify/compare.h) */
    size_t n_prompts;
    int64_t n_new;                 /* <= 0: CKPT_FP_TOKENS */
    int threads;                   /* <= 0: all CPUs */
    int isa;                       /* a ckpt_isa, or -1 for the default */
};

/* Run the model and describe it as above; caller owns *out.  Errors: those
 * of loading the model and tokenizer, CKPT_E_USAGE (a prompt with no
 * tokens), CKPT_E_NOMEM. */
ckpt_status ckpt_fingerprint_make(cJSON **out, const struct ckpt_fp_opts *o, ckpt_err *err);

/*
 * Run o->model on fp's prompts (o->prompts and n_new are not used) and
 * compare.  CKPT_OK: the same behaviour.  CKPT_E_MISMATCH: err names the
 * prompt (number and text) and the step, and what differs.  CKPT_E_FORMAT
 * for a malformed fingerprint; loading errors as ckpt_fingerprint_make.
 */
ckpt_status ckpt_fingerprint_check(const cJSON *fp, const struct ckpt_fp_opts *o, ckpt_err *err);

#endif
