/*
 * run.h - generation with the reference model: greedy decoding, or
 * sampling (temperature, top-k, top-p) from a seeded PRNG, so that a run
 * is repeatable.  Tokens are handed to a callback as they are produced;
 * the caller decodes and prints them.  Used by ckpt-run.
 */
#ifndef CKPT_VERIFY_RUN_H
#define CKPT_VERIFY_RUN_H

#include <stdbool.h>
#include <stdint.h>

#include "../kernels/err.h"
#include "../kernels/model.h"

struct ckpt_run_opts {
    int64_t n_new;     /* tokens to generate */
    float temperature; /* <= 0: greedy (argmax, lowest id on ties) */
    int top_k;         /* keep the k most likely tokens; <= 0: all */
    float top_p;       /* keep the smallest most-likely set with mass >= top_p; >= 1: all */
    uint64_t seed;     /* PRNG seed for sampling */
    int32_t stop_id;   /* stop after generating this id (EOS); < 0: never stop early */
};

struct ckpt_run_stats {
    int64_t n_prompt, n_gen; /* tokens evaluated / generated */
    double prompt_s, gen_s;  /* wall seconds for the prompt, for the generation */
    uint32_t logits_hash;    /* h = h*5 + bits over every distribution sampled from */
};

/* Called with each generated id; return false to stop. */
typedef bool (*ckpt_run_emit_fn)(void *ctx, int32_t id);

/*
 * Evaluate the prompt (from an empty cache; n_prompt >= 1), then generate
 * up to o->n_new tokens, calling emit for each.  The model's context must
 * hold n_prompt + n_new positions.  stats may be NULL.  Errors: those of
 * ckpt_model_eval, CKPT_E_NOMEM.
 */
ckpt_status ckpt_run_generate(ckpt_model *m, const int32_t *prompt, int64_t n_prompt,
                              const struct ckpt_run_opts *o, ckpt_run_emit_fn emit, void *ctx,
                              struct ckpt_run_stats *stats, ckpt_err *err);

/*
 * Pick the next token from n logits: argmax when o->temperature <= 0, else
 * a draw from softmax(logits / T) restricted by top_k and top_p, using and
 * advancing *rng.  order is scratch for n indices.  Deterministic for a
 * given state.
 */
int32_t ckpt_run_pick(const float *logits, int64_t n, const struct ckpt_run_opts *o,
                      uint64_t *rng, int32_t *order);

#endif
