/*
 * gguf_keys.h - every GGUF key name ckpt reads or writes, one constant each
 * (spelled as llama.cpp's gguf-py constants.py spells them).
 *
 * Keys of an architecture are "<arch>.<suffix>" ("llama.block_count"):
 * the suffix is a constant here, the architecture comes from the model's
 * descriptor (arch.h), and ckpt_gguf_key() joins them.
 */
#ifndef CKPT_ARCH_GGUF_KEYS_H
#define CKPT_ARCH_GGUF_KEYS_H

#include <stddef.h>

/* general.* */
#define CKPT_KEY_ARCHITECTURE "general.architecture"
#define CKPT_KEY_TYPE "general.type"
#define CKPT_KEY_NAME "general.name"
#define CKPT_KEY_VERSION "general.version"
#define CKPT_KEY_ORGANIZATION "general.organization"
#define CKPT_KEY_FINETUNE "general.finetune"
#define CKPT_KEY_BASENAME "general.basename"
#define CKPT_KEY_SIZE_LABEL "general.size_label"
#define CKPT_KEY_FILE_TYPE "general.file_type"
#define CKPT_KEY_QUANT_VERSION "general.quantization_version"
#define CKPT_KEY_ALIGNMENT "general.alignment"
#define CKPT_KEY_SOURCE_PREFIX "general.source."
#define CKPT_KEY_SOURCE_URL "general.source.url"
#define CKPT_KEY_SOURCE_REPO_URL "general.source.repo_url"
#define CKPT_KEY_SOURCE_CKPT_NAME "general.source.ckpt.name"
#define CKPT_KEY_SOURCE_CONFIG_SHA256 "general.source.ckpt.config_sha256"
#define CKPT_KEY_SOURCE_TOKENIZER_SHA256 "general.source.ckpt.tokenizer_sha256"
#define CKPT_KEY_SOURCE_CKPT_RECIPE "general.source.ckpt.recipe" /* formats/recipe.h */

/* <arch>.* suffixes */
#define CKPT_KEY_BLOCK_COUNT "block_count"
#define CKPT_KEY_CONTEXT_LENGTH "context_length"
#define CKPT_KEY_EMBEDDING_LENGTH "embedding_length"
#define CKPT_KEY_FEED_FORWARD_LENGTH "feed_forward_length"
#define CKPT_KEY_HEAD_COUNT "attention.head_count"
#define CKPT_KEY_HEAD_COUNT_KV "attention.head_count_kv"
#define CKPT_KEY_KEY_LENGTH "attention.key_length"
#define CKPT_KEY_VALUE_LENGTH "attention.value_length"
#define CKPT_KEY_RMS_EPS "attention.layer_norm_rms_epsilon"
#define CKPT_KEY_NORM_EPS "attention.layer_norm_epsilon"
#define CKPT_KEY_ROPE_FREQ_BASE "rope.freq_base"
#define CKPT_KEY_ROPE_DIMS "rope.dimension_count"
#define CKPT_KEY_ROPE_SCALING_TYPE "rope.scaling.type"
#define CKPT_KEY_EXPERT_COUNT "expert_count"
#define CKPT_KEY_EXPERT_USED_COUNT "expert_used_count"
#define CKPT_KEY_VOCAB_SIZE "vocab_size"

/* tokenizer.ggml.* */
#define CKPT_KEY_TOK_MODEL "tokenizer.ggml.model"
#define CKPT_KEY_TOK_PRE "tokenizer.ggml.pre"
#define CKPT_KEY_TOK_TOKENS "tokenizer.ggml.tokens"
#define CKPT_KEY_TOK_SCORES "tokenizer.ggml.scores"
#define CKPT_KEY_TOK_TYPES "tokenizer.ggml.token_type"
#define CKPT_KEY_TOK_MERGES "tokenizer.ggml.merges" /* byte-level BPE: "a b" by rank */
#define CKPT_KEY_TOK_BOS_ID "tokenizer.ggml.bos_token_id"
#define CKPT_KEY_TOK_EOS_ID "tokenizer.ggml.eos_token_id"
#define CKPT_KEY_TOK_UNK_ID "tokenizer.ggml.unknown_token_id"
#define CKPT_KEY_TOK_SEP_ID "tokenizer.ggml.seperator_token_id" /* sic, as llama.cpp */
#define CKPT_KEY_TOK_PAD_ID "tokenizer.ggml.padding_token_id"
#define CKPT_KEY_TOK_MASK_ID "tokenizer.ggml.mask_token_id"
#define CKPT_KEY_TOK_ADD_BOS "tokenizer.ggml.add_bos_token"
#define CKPT_KEY_TOK_ADD_EOS "tokenizer.ggml.add_eos_token"
#define CKPT_KEY_TOK_ADD_SPACE_PREFIX "tokenizer.ggml.add_space_prefix"
#define CKPT_KEY_CHAT_TEMPLATE "tokenizer.chat_template"
#define CKPT_KEY_CHAT_TEMPLATE_PREFIX "tokenizer.chat_template." /* + a named template */
#define CKPT_KEY_CHAT_TEMPLATES "tokenizer.chat_templates"

/* quantize.* (llama-quantize's record of an importance matrix) and split.* */
#define CKPT_KEY_IMATRIX_PREFIX "quantize.imatrix."
#define CKPT_KEY_IMATRIX_FILE "quantize.imatrix.file"
#define CKPT_KEY_IMATRIX_DATASET "quantize.imatrix.dataset"
#define CKPT_KEY_IMATRIX_ENTRIES "quantize.imatrix.entries_count"
#define CKPT_KEY_IMATRIX_CHUNKS "quantize.imatrix.chunks_count"
/* ckpt-quant --optimize: its options and the calibration text's SHA-256 (ckpt's own keys;
 * llama.cpp ignores keys it does not know) */
#define CKPT_KEY_OPTIMIZE_OPTIONS "quantize.ckpt.optimize.options"
#define CKPT_KEY_OPTIMIZE_CALIB_SHA256 "quantize.ckpt.optimize.calib_sha256"
#define CKPT_KEY_SPLIT_NO "split.no"
#define CKPT_KEY_SPLIT_COUNT "split.count"
#define CKPT_KEY_SPLIT_TENSORS_COUNT "split.tensors.count"

/* Longest key ckpt_gguf_key forms, with its NUL. */
#define CKPT_GGUF_KEY_MAX 96

/*
 * "<arch>.<suffix>" into buf (CKPT_GGUF_KEY_MAX bytes); returns buf, so
 * that a call can stand where the key goes.  A key that does not fit is
 * cut (none of the constants above comes near).
 */
const char *ckpt_gguf_key(char buf[CKPT_GGUF_KEY_MAX], const char *arch, const char *suffix);

#endif
