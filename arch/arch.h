/*
 * arch.h - one descriptor per model architecture: what config.json class
 * it is, which config fields it reads (with its transformers defaults),
 * which GGUF architecture it becomes, which features it has, and a role
 * table saying for every tensor what it is called on both sides, its
 * shape in config terms, and how the converter treats it.
 *
 * Two tables meet here:
 *   roles   - role -> GGUF name pattern, torch shape [rows, cols] in config
 *             dimensions, Q/K permutation heads, keep-F32, expert stacking,
 *             which features require or exclude it;
 *   schemes - one per way a checkpoint spells its tensors (Hugging Face's
 *             "model.layers.N.self_attn.q_proj"; a later scheme may spell
 *             Mistral's own "layers.N.attention.wq"), each with a name
 *             prefix ("language_model." for a multimodal wrapper) and
 *             whether its Q/K rows are in rotate-half order.
 * Patterns hold "{L}" for a layer and "{E}" for an expert index; names map
 * both ways (ckpt_arch_match_* and ckpt_arch_*_name), so that a writer of
 * another checkpoint format can ask for the HF name of each role.
 *
 * Adding an architecture of the llama family is one descriptor in
 * arch_llama.c.  A new layout of the same tensors is one more scheme: for
 * Mistral's own consolidated files ("layers.{L}.attention.wq",
 * "tok_embeddings", "norm", "output", "layers.{L}.feed_forward.experts.{E}.w1")
 * with rotate_half false, since those Q/K rows are already in GGUF order; a
 * multimodal wrapper (Mistral3ForConditionalGeneration) is the HF scheme
 * with prefix "language_model." and its config read from "text_config".
 *
 * Everything is static data: descriptors are borrowed for the process.
 */
#ifndef CKPT_ARCH_ARCH_H
#define CKPT_ARCH_ARCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../kernels/features.h"

typedef enum {
    CKPT_ROLE_UNKNOWN = 0,
    CKPT_ROLE_IGNORED,       /* rotary_emb.inv_freq and other buffers the converter drops */
    CKPT_ROLE_TOKEN_EMBD,
    CKPT_ROLE_OUTPUT_NORM,
    CKPT_ROLE_OUTPUT,
    CKPT_ROLE_ATTN_NORM,
    CKPT_ROLE_ATTN_Q,
    CKPT_ROLE_ATTN_K,
    CKPT_ROLE_ATTN_V,
    CKPT_ROLE_ATTN_OUTPUT,
    CKPT_ROLE_FFN_NORM,
    CKPT_ROLE_FFN_GATE,
    CKPT_ROLE_FFN_UP,
    CKPT_ROLE_FFN_DOWN,
    CKPT_ROLE_FFN_GATE_INP,
    CKPT_ROLE_FFN_GATE_EXPS, /* expert w1 */
    CKPT_ROLE_FFN_DOWN_EXPS, /* expert w2 */
    CKPT_ROLE_FFN_UP_EXPS,   /* expert w3 */
    CKPT_ROLE_COUNT
} ckpt_role;

/* Sizes a shape is written in; values come from the model's config. */
typedef enum {
    CKPT_DIM_NONE = 0, /* no such dimension (1-D tensors have no cols) */
    CKPT_DIM_VOCAB,    /* vocab_size */
    CKPT_DIM_HIDDEN,   /* hidden_size */
    CKPT_DIM_Q,        /* num_attention_heads * head_dim */
    CKPT_DIM_KV,       /* num_key_value_heads * head_dim */
    CKPT_DIM_FFN,      /* intermediate_size (of one expert) */
    CKPT_DIM_EXPERTS,  /* num_local_experts */
    CKPT_DIM_HEADS,    /* num_attention_heads */
    CKPT_DIM_KV_HEADS, /* num_key_value_heads */
    CKPT_DIM_COUNT
} ckpt_dim;

struct ckpt_arch_role {
    ckpt_role role;
    const char *gguf;   /* GGUF name without suffix: "blk.{L}.attn_q" */
    ckpt_dim rows;      /* torch shape [rows, cols] of one (per-expert) tensor */
    ckpt_dim cols;      /* CKPT_DIM_NONE for a vector */
    ckpt_dim permute;   /* HEADS / KV_HEADS: rows permuted over that many heads; NONE */
    bool keep_f32;      /* the converter writes it F32 whatever the output type */
    bool stacked;       /* one HF tensor per expert ({E}) -> one GGUF tensor */
    bool tied_optional; /* may be absent when tie_word_embeddings */
    bool bias_ok;       /* may carry a ".bias" (with CKPT_FEAT_ATTN_BIAS), as llama.cpp allows */
    unsigned requires;  /* CKPT_FEAT_* bits the model must have for the role to exist */
    unsigned excludes;  /* ... and must not have */
};

/* A role's spelling in one scheme. */
struct ckpt_arch_name {
    ckpt_role role;
    const char *pattern; /* "model.layers.{L}.self_attn.q_proj" (suffix ".weight" etc. follows) */
};

struct ckpt_arch_scheme {
    const char *name;                    /* "hf" */
    const char *prefix;                  /* before every pattern: "" or "language_model." */
    bool rotate_half;                    /* Q/K rows in HF rotate-half order: permute them */
    const struct ckpt_arch_name *names;  /* (n_names) */
    size_t n_names;
    const char *const *ignored;          /* whole names (no suffix) dropped: (n_ignored) */
    size_t n_ignored;
    const char *dropped;                 /* what the names below are, for messages: "the vision tower" */
    const char *const *dropped_prefixes; /* other models in the checkpoint, left out: (n_dropped) */
    size_t n_dropped;
};

/* config.json values an absent key takes (the transformers config class). */
struct ckpt_arch_defaults {
    double rms_norm_eps;
    double rope_theta;
    uint32_t sliding_window;    /* 0: none */
    uint32_t n_experts;         /* num_local_experts */
    uint32_t n_experts_per_tok;
};

struct ckpt_arch {
    const char *hf_class;       /* config.json "architectures"[0]: "MistralForCausalLM" */
    const char *model_type;     /* config.json "model_type": "mistral" */
    const char *gguf_arch;      /* general.architecture, and the prefix of its keys */
    unsigned features;          /* CKPT_FEAT_* */
    struct ckpt_arch_defaults defaults;
    const struct ckpt_arch_role *roles; /* (n_roles), in the converter's per-layer order */
    size_t n_roles;
    const struct ckpt_arch_scheme *schemes; /* (n_schemes); [0] is the default */
    size_t n_schemes;
};

/* The i-th descriptor known, NULL past the end (listings and tests). */
const struct ckpt_arch *ckpt_arch_at(size_t i);

/* The descriptor for an "architectures" class or a "model_type"; NULL if none. */
const struct ckpt_arch *ckpt_arch_by_hf_class(const char *hf_class);
const struct ckpt_arch *ckpt_arch_by_model_type(const char *model_type);

/*
 * The descriptor a GGUF file stands for: its general.architecture and
 * whether it has experts (llama.cpp writes Mistral, Mixtral and Llama all as
 * "llama").  NULL if no descriptor writes that architecture.
 */
const struct ckpt_arch *ckpt_arch_by_gguf(const char *gguf_arch, bool experts);

/* "MistralForCausalLM, MixtralForCausalLM, ..." (every descriptor's class)
 * into buf of size n, for messages; returns buf. */
const char *ckpt_arch_supported(char *buf, size_t n);

/* The scheme of a descriptor called name ("hf", "mistral"), or NULL. */
const struct ckpt_arch_scheme *ckpt_arch_scheme_by_name(const struct ckpt_arch *a,
                                                        const char *name);

/* Is a tensor name one the scheme leaves out whole (a vision tower)? */
bool ckpt_arch_dropped(const struct ckpt_arch_scheme *s, const char *name);

/* The role table entry of a role, or NULL when the architecture lacks it. */
const struct ckpt_arch_role *ckpt_arch_role(const struct ckpt_arch *a, ckpt_role role);

/* Does a model with these features have the role?  (requires/excludes) */
bool ckpt_arch_role_present(const struct ckpt_arch_role *r, unsigned features);

/* What a tensor name is.  layer/expert are -1 where they do not apply. */
struct ckpt_arch_match {
    ckpt_role role;               /* CKPT_ROLE_UNKNOWN when nothing matched */
    int layer;
    int expert;
    const char *suffix;           /* "weight" or "bias" (points into the name); NULL if unknown */
    const struct ckpt_arch_role *spec; /* NULL for UNKNOWN and IGNORED */
};

/*
 * Classify a checkpoint tensor name under scheme s of a: the scheme's
 * prefix, a pattern (indices in decimal without leading zeros), then
 * ".weight" or ".bias".  Anything else (a name without a dot included) is
 * CKPT_ROLE_UNKNOWN with a NULL suffix.  Never fails otherwise.
 */
struct ckpt_arch_match ckpt_arch_match_hf(const struct ckpt_arch *a,
                                          const struct ckpt_arch_scheme *s, const char *name);

/* Classify a GGUF tensor name ("blk.3.attn_q.weight") the same way. */
struct ckpt_arch_match ckpt_arch_match_gguf(const struct ckpt_arch *a, const char *name);

/*
 * Form the checkpoint name (scheme s) or GGUF name of a role into buf of
 * size n: layer/expert fill "{L}"/"{E}", suffix follows after a dot.
 * Returns false if the role has no name there or it does not fit.
 */
bool ckpt_arch_hf_name(const struct ckpt_arch_scheme *s, ckpt_role role, int layer, int expert,
                       const char *suffix, char *buf, size_t n);
bool ckpt_arch_gguf_name(const struct ckpt_arch *a, ckpt_role role, int layer,
                         const char *suffix, char *buf, size_t n);

/*
 * Heads over which a role's rows pair up for RoPE (Q: attention heads, K:
 * KV heads), given the config dims; 0 for roles RoPE does not touch.  A
 * scheme with rotate_half stores them in Hugging Face's order, which the
 * converter permutes into GGUF's; GGUF files (and schemes without
 * rotate_half) hold them in GGUF order, which the forward pass undoes.
 */
int64_t ckpt_arch_permute_heads(const struct ckpt_arch_role *r,
                                const uint64_t dims[CKPT_DIM_COUNT]);

/* Is a role's tensor one per layer ("{L}" in its name)? */
bool ckpt_arch_role_per_layer(const struct ckpt_arch_role *r);

/*
 * The keep-F32 rule of llama.cpp's converter and quantizer for a GGUF
 * tensor: vectors (n_dims <= 1), anything not a ".weight", and roles marked
 * keep_f32 (norms, the router); names outside the role table follow
 * llama.cpp's "_norm.weight" suffix rule.
 */
bool ckpt_arch_keep_f32(const char *gguf_name, uint32_t n_dims);

#endif
