/*
 * tokenize.h - ckpt-run --tokenize: the token ids a text becomes, as the
 * model is fed them, without loading any weights.
 */
#ifndef CKPT_VERIFY_TOKENIZE_H
#define CKPT_VERIFY_TOKENIZE_H

#include <stddef.h>
#include <stdint.h>

#include "../kernels/err.h"

/*
 * Encode text with the tokenizer of source (anything ckpt_tok_load_any
 * takes: a model directory, a GGUF with or without tensors, tokenizer.json,
 * tokenizer.model, tekken.json) exactly as ckpt-run encodes a prompt under flags
 * (CKPT_TOK_ADD_SPECIAL: BOS when the tokenizer adds one;
 * CKPT_TOK_PARSE_SPECIAL: control-token text becomes ids).  On success *ids
 * holds *n ids (caller frees *ids; NULL when *n is 0 is possible).
 * Errors: those of the loader and the encoder, CKPT_E_NOMEM.
 */
ckpt_status ckpt_run_tokenize(const char *source, const char *text, unsigned flags, int32_t **ids,
                              size_t *n, ckpt_err *err);

/*
 * Decode n ids with the tokenizer of source, as ckpt-run prints text
 * (control tokens leave nothing).  On success *text holds *len bytes and a
 * NUL (caller frees).  Errors: those of the loader and the decoder
 * (CKPT_E_RANGE for an id outside the vocabulary), CKPT_E_NOMEM.
 */
ckpt_status ckpt_run_detokenize(const char *source, const int32_t *ids, size_t n, char **text,
                                size_t *len, ckpt_err *err);

#endif
