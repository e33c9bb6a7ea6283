/*
 * names.h - Hugging Face tensor names of Mistral/Mixtral checkpoints and
 * the GGUF (llama architecture) names they become.
 *
 *   model.embed_tokens.weight                      token_embd.weight
 *   model.norm.weight                              output_norm.weight
 *   lm_head.weight                                 output.weight
 *   model.layers.N.input_layernorm.weight          blk.N.attn_norm.weight
 *   model.layers.N.self_attn.{q,k,v,o}_proj.weight blk.N.attn_{q,k,v,output}.weight
 *   model.layers.N.post_attention_layernorm.weight blk.N.ffn_norm.weight
 *   model.layers.N.mlp.{gate,up,down}_proj.weight  blk.N.ffn_{gate,up,down}.weight
 *   model.layers.N.block_sparse_moe.gate.weight    blk.N.ffn_gate_inp.weight
 *   model.layers.N.block_sparse_moe.experts.X.w1   blk.N.ffn_gate_exps.weight (stacked over X)
 *                                          ...w2   blk.N.ffn_down_exps.weight
 *                                          ...w3   blk.N.ffn_up_exps.weight
 */
#ifndef CKPT_CONVERT_NAMES_H
#define CKPT_CONVERT_NAMES_H

#include <stdbool.h>

typedef enum {
    CKPT_ROLE_UNKNOWN = 0,
    CKPT_ROLE_IGNORED,      /* rotary_emb.inv_freq and other buffers the converter drops */
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

/* What an HF tensor name is.  layer/expert are -1 where they do not apply. */
struct ckpt_hf_name {
    ckpt_role role;
    int layer;
    int expert;
    const char *suffix; /* "weight" or "bias" etc. (points into the input name) */
};

/* Classify an HF tensor name.  Unknown names give CKPT_ROLE_UNKNOWN. */
struct ckpt_hf_name ckpt_name_parse_hf(const char *name);

/*
 * GGUF name of a role ("blk.3.attn_q.weight") into buf (>= 64 bytes).
 * Returns false if the role has no GGUF name or it does not fit.
 */
bool ckpt_name_gguf(ckpt_role role, int layer, const char *suffix, char *buf, int size);

/* Short GGUF stem of a role ("attn_q", "ffn_gate_exps"), or NULL. */
const char *ckpt_role_stem(ckpt_role role);

#endif
