/*
 * hfdir.h - a Hugging Face model directory as a hub download leaves it:
 * config.json (Mistral / Mixtral), the weights as model.safetensors, as
 * shards listed by model.safetensors.index.json, or as a complete series
 * model-NNNNN-of-MMMMM.safetensors, and the tokenizer files next to them.
 * Mistral's own layout is read the same way: params.json instead of
 * config.json, "consolidated" instead of "model" in the weight names,
 * tokenizer.model.v3 as the SentencePiece model (tekken.json is refused).
 * A lone FILE.safetensors (or "-") is also a "model": one shard, no config.
 *
 * Every shard is opened with the safetensors reader; tensor names must be
 * unique across shards and agree with the index.  Tensors are then found by
 * name, or walked in a stable order (shards in name order, each in offset
 * order).  config.json is parsed with the strict JSON rules of the reader
 * (no duplicate keys, no NUL, valid UTF-8) and with the defaults of the
 * transformers configuration classes where a key is absent.
 */
#ifndef CKPT_FORMATS_HFDIR_H
#define CKPT_FORMATS_HFDIR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../arch/arch.h"
#include "../kernels/err.h"
#include "safetensors.h"

/* config.json, with defaults filled in.  Sizes are capped at 2^30. */
struct ckpt_hf_config {
    const struct ckpt_arch *arch; /* descriptor of the architecture (static) */
    const struct ckpt_arch_scheme *scheme; /* how the tensors are named (static): "hf", or
                                              "mistral" for params.json */
    char architecture[64];      /* "architectures"[0], or "" when absent */
    char model_type[32];        /* "" when absent */
    uint32_t hidden_size;
    uint32_t intermediate_size; /* FFN width (per expert for Mixtral) */
    uint32_t n_layers;          /* num_hidden_layers */
    uint32_t n_heads;           /* num_attention_heads */
    uint32_t n_kv_heads;        /* num_key_value_heads; absent/null: n_heads */
    uint32_t head_dim;          /* absent/null: hidden_size / n_heads */
    uint32_t vocab_size;
    uint64_t max_position_embeddings; /* default 131072 (4096 * 32) */
    double rms_norm_eps;        /* default: the descriptor's */
    double rope_theta;          /* default: the descriptor's */
    bool has_sliding_window;    /* false: null, absent without a default, or no window feature */
    uint32_t sliding_window;    /* absent: the descriptor's default (4096 for Mistral) */
    bool tie_word_embeddings;   /* default false */
    uint32_t n_experts;         /* num_local_experts; 0 without the experts feature */
    uint32_t n_experts_per_tok; /* num_experts_per_tok; 0 without the experts feature */
    int64_t bos_token_id;       /* default 1; -1 when null */
    int64_t eos_token_id;       /* default 2; -1 when null; first of a list */
    char torch_dtype[16];       /* "bfloat16"; also read from "dtype"; "" if absent */
    bool has_rope_scaling_key;  /* "rope_scaling": null was present (non-null is refused) */
    bool has_quantization_config;
    char quant_method[32];      /* quantization_config.quant_method, "" if absent */
    uint32_t weight_block_size[2]; /* quantization_config.weight_block_size; {0, 0} if absent */
};

/*
 * Parse config.json text (len bytes; no NUL needed).  `name` prefixes
 * messages ("model/config.json").  Errors: CKPT_E_FORMAT (bad JSON or a key
 * of the wrong type), CKPT_E_RANGE (a value out of range or inconsistent),
 * CKPT_E_UNSUPPORTED (another architecture, rope scaling).  cfg is fully
 * written on success and unspecified on failure.
 */
ckpt_status ckpt_hf_config_parse(struct ckpt_hf_config *cfg, const char *text, size_t len,
                                 const char *name, ckpt_err *err);

/*
 * Parse Mistral's params.json (dim, n_layers, head_dim, hidden_dim, n_heads,
 * n_kv_heads, norm_eps, vocab_size, rope_theta, sliding_window, moe,
 * max_position_embeddings / max_seq_len) into the same record, with the
 * "mistral" naming scheme.  Errors as ckpt_hf_config_parse; messages about
 * a value's range use the config.json name of its key.
 */
ckpt_status ckpt_hf_params_parse(struct ckpt_hf_config *cfg, const char *text, size_t len,
                                 const char *name, ckpt_err *err);

/* The config.json text params.json stands for (what ckpt_hf_params_parse
 * parses), into *out (malloc'd, NUL-terminated; the caller frees). */
ckpt_status ckpt_hf_params_config(char **out, const char *text, size_t len, const char *name,
                                  ckpt_err *err);

/* The config sizes a role table's shapes are written in (arch.h). */
void ckpt_hf_config_dims(const struct ckpt_hf_config *cfg, uint64_t dims[CKPT_DIM_COUNT]);

typedef enum {
    CKPT_HF_LAYOUT_FILE = 1,   /* a lone .safetensors file, no config */
    CKPT_HF_LAYOUT_SINGLE,     /* dir with model.safetensors */
    CKPT_HF_LAYOUT_INDEXED,    /* dir with model.safetensors.index.json */
    CKPT_HF_LAYOUT_SERIES,     /* dir with model-NNNNN-of-MMMMM.safetensors only */
} ckpt_hf_layout;

/* Optional files found next to the weights (bits of ckpt_hf_files). */
enum {
    CKPT_HF_TOKENIZER_MODEL = 1 << 0,    /* tokenizer.model (.v3): SentencePiece */
    CKPT_HF_TOKENIZER_JSON = 1 << 1,     /* tokenizer.json */
    CKPT_HF_TOKENIZER_CONFIG = 1 << 2,   /* tokenizer_config.json */
    CKPT_HF_SPECIAL_TOKENS_MAP = 1 << 3, /* special_tokens_map.json */
    CKPT_HF_GENERATION_CONFIG = 1 << 4,  /* generation_config.json */
    CKPT_HF_TEKKEN = 1 << 5,             /* tekken.json: Mistral's byte-level BPE */
};
#define CKPT_HF_N_FILE_BITS 6

typedef struct ckpt_hf ckpt_hf;

/*
 * Open a model directory or a single safetensors file ("-" = stdin).  A
 * directory needs config.json and one of the three weight layouts; every
 * shard is validated.  The caller owns *out (ckpt_hf_close).  Errors name
 * the file: CKPT_E_IO (missing files), CKPT_E_FORMAT / CKPT_E_RANGE (bad
 * config, shards, index), CKPT_E_UNSUPPORTED (architecture), CKPT_E_NOMEM.
 */
ckpt_status ckpt_hf_open(ckpt_hf **out, const char *path, ckpt_err *err);

void ckpt_hf_close(ckpt_hf *hf);

/* The path given to ckpt_hf_open, and the layout found there. */
const char *ckpt_hf_path(const ckpt_hf *hf);
ckpt_hf_layout ckpt_hf_get_layout(const ckpt_hf *hf);

/* The parsed config, or NULL for a lone file; borrowed. */
const struct ckpt_hf_config *ckpt_hf_get_config(const ckpt_hf *hf);

/* CKPT_HF_* bits of the optional files present. */
unsigned ckpt_hf_files(const ckpt_hf *hf);

/*
 * File names of the directory's layout: Hugging Face's ("config.json",
 * weights "model*.safetensors", "tokenizer.model") or Mistral's own
 * ("params.json", "consolidated*.safetensors", "tokenizer.model.v3").
 * Static strings; the Hugging Face ones for a lone file.
 */
const char *ckpt_hf_config_file(const ckpt_hf *hf);
const char *ckpt_hf_weights_stem(const ckpt_hf *hf);
const char *ckpt_hf_spm_file(const ckpt_hf *hf); /* the CKPT_HF_TOKENIZER_MODEL file */

/* Path of a file in the model directory (malloc'd, caller frees); NULL for
 * a lone file or on out of memory. */
char *ckpt_hf_file_path(const ckpt_hf *hf, const char *name);

/* Shards in name order; readers and names are borrowed. */
size_t ckpt_hf_n_shards(const ckpt_hf *hf);
const ckpt_st *ckpt_hf_shard(const ckpt_hf *hf, size_t i);
const char *ckpt_hf_shard_name(const ckpt_hf *hf, size_t i); /* file name, no directory */

/* All tensors: shard by shard, each in offset order.  *shard (if non-NULL)
 * gets the shard index.  Borrowed until ckpt_hf_close; NULL past the end. */
size_t ckpt_hf_n_tensors(const ckpt_hf *hf);
const struct ckpt_st_tensor *ckpt_hf_tensor(const ckpt_hf *hf, size_t i, size_t *shard);

/* A tensor by name across shards, or NULL. */
const struct ckpt_st_tensor *ckpt_hf_find(const ckpt_hf *hf, const char *name, size_t *shard);

#endif
