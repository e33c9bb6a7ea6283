/*
 * vocab.h - the tokenizer.* keys of a converted GGUF, as llama.cpp's
 * converter writes them for a Mistral/Mixtral checkpoint (LLAMACPP.md §c):
 * tokenizer.ggml.model "llama", .pre "default", .tokens, .scores,
 * .token_type padded to config.json's vocab_size, then the special token
 * ids, add_bos/add_eos, the chat template (gguf.SpecialVocab's order), and
 * add_space_prefix when tokenizer_config.json says add_prefix_space.
 *
 * The vocabulary comes from tokenizer.model when present, else from
 * tokenizer.json.  For tokenizer.json the scores are the ones derived from
 * its merge ranks (formats/tokenizer.h), not the converter's flat -1000, so
 * that llama.cpp tokenizes such a GGUF as SentencePiece does.
 */
#ifndef CKPT_CONVERT_VOCAB_H
#define CKPT_CONVERT_VOCAB_H

#include "../formats/gguf.h"
#include "../kernels/err.h"
#include "source.h"

/* Name of the file the vocabulary comes from ("tokenizer.model",
 * "tokenizer.model.v3", "tokenizer.json" or "tekken.json"), or NULL when
 * the model has none. */
const char *ckpt_vocab_file(const struct ckpt_source *src);

/* Whether the vocabulary is written with --mistral-format's keys
 * (ckpt_vocab_add_mistral, and <arch>.vocab_size among them): Mistral's
 * layout with a SentencePiece model. */
#include <stdbool.h>
bool ckpt_vocab_mistral_keys(const struct ckpt_source *src);

/*
 * Add the tokenizer keys to w, in the converter's order.  Errors: CKPT_E_IO
 * (no tokenizer file), the tokenizer loaders' errors, CKPT_E_RANGE (more
 * pieces than vocab_size, a negative special id), the writer's errors.
 */
ckpt_status ckpt_vocab_add(ckpt_gguf_writer *w, const struct ckpt_source *src, ckpt_err *err);

/*
 * The same for Mistral's own layout, as llama.cpp's converter writes it
 * with --mistral-format (vocab_mistral.c); ckpt_vocab_add calls it.
 */
ckpt_status ckpt_vocab_add_mistral(ckpt_gguf_writer *w, const struct ckpt_source *src,
                                   ckpt_err *err);

/* tokenizer.ggml.tokens, .scores and .token_type of tok, padded ("[PAD<id>]",
 * -10000, UNUSED) or cut to n pieces as the converter does. */
struct ckpt_tok;
ckpt_status ckpt_vocab_arrays(ckpt_gguf_writer *w, const struct ckpt_tok *tok, uint32_t n,
                              ckpt_err *err);

#endif
