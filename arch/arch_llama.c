/*
 * arch_llama.c - the llama family as llama.cpp's converter handles it
 * (convert_hf_to_gguf.py registers MistralForCausalLM, MixtralForCausalLM
 * and LlamaForCausalLM on one LlamaModel class): one role table, one
 * Hugging Face naming scheme, descriptors differing in features and config
 * defaults.  All become GGUF architecture "llama".
 */
#include "arch.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/*
 * Roles in the converter's order within a layer.  Q/K rows are permuted
 * over their own head counts (K with the KV heads); norms and the router
 * stay F32; experts are stacked as w1 (gate), w2 (down), w3 (up); the
 * attention projections may have biases (llama.cpp loads them if present).
 */
#define ROLE(r, name, rows_, cols_)                                                                \
    .role = CKPT_ROLE_##r, .gguf = name, .rows = CKPT_DIM_##rows_, .cols = CKPT_DIM_##cols_
#define DENSE .excludes = CKPT_FEAT_EXPERTS
#define MOE .requires = CKPT_FEAT_EXPERTS

static const struct ckpt_arch_role llama_roles[] = {
    {ROLE(TOKEN_EMBD, "token_embd", VOCAB, HIDDEN)},
    {ROLE(OUTPUT_NORM, "output_norm", HIDDEN, NONE), .keep_f32 = true},
    {ROLE(OUTPUT, "output", VOCAB, HIDDEN), .tied_optional = true},
    {ROLE(ATTN_NORM, "blk.{L}.attn_norm", HIDDEN, NONE), .keep_f32 = true},
    {ROLE(ATTN_Q, "blk.{L}.attn_q", Q, HIDDEN), .permute = CKPT_DIM_HEADS, .bias_ok = true},
    {ROLE(ATTN_K, "blk.{L}.attn_k", KV, HIDDEN), .permute = CKPT_DIM_KV_HEADS, .bias_ok = true},
    {ROLE(ATTN_V, "blk.{L}.attn_v", KV, HIDDEN), .bias_ok = true},
    {ROLE(ATTN_OUTPUT, "blk.{L}.attn_output", HIDDEN, Q), .bias_ok = true},
    {ROLE(FFN_NORM, "blk.{L}.ffn_norm", HIDDEN, NONE), .keep_f32 = true},
    {ROLE(FFN_GATE, "blk.{L}.ffn_gate", FFN, HIDDEN), DENSE},
    {ROLE(FFN_UP, "blk.{L}.ffn_up", FFN, HIDDEN), DENSE},
    {ROLE(FFN_DOWN, "blk.{L}.ffn_down", HIDDEN, FFN), DENSE},
    {ROLE(FFN_GATE_INP, "blk.{L}.ffn_gate_inp", EXPERTS, HIDDEN), .keep_f32 = true, MOE},
    {ROLE(FFN_GATE_EXPS, "blk.{L}.ffn_gate_exps", FFN, HIDDEN), .stacked = true, MOE},
    {ROLE(FFN_DOWN_EXPS, "blk.{L}.ffn_down_exps", HIDDEN, FFN), .stacked = true, MOE},
    {ROLE(FFN_UP_EXPS, "blk.{L}.ffn_up_exps", FFN, HIDDEN), .stacked = true, MOE},
};

#undef ROLE
#undef DENSE
#undef MOE


/* transformers' modeling_{mistral,mixtral,llama}.py names. */
static const struct ckpt_arch_name hf_names[] = {
    {CKPT_ROLE_TOKEN_EMBD, "model.embed_tokens"},
    {CKPT_ROLE_OUTPUT_NORM, "model.norm"},
    {CKPT_ROLE_OUTPUT, "lm_head"},
    {CKPT_ROLE_ATTN_NORM, "model.layers.{L}.input_layernorm"},
    {CKPT_ROLE_ATTN_Q, "model.layers.{L}.self_attn.q_proj"},
    {CKPT_ROLE_ATTN_K, "model.layers.{L}.self_attn.k_proj"},
    {CKPT_ROLE_ATTN_V, "model.layers.{L}.self_attn.v_proj"},
    {CKPT_ROLE_ATTN_OUTPUT, "model.layers.{L}.self_attn.o_proj"},
    {CKPT_ROLE_FFN_NORM, "model.layers.{L}.post_attention_layernorm"},
    {CKPT_ROLE_FFN_GATE, "model.layers.{L}.mlp.gate_proj"},
    {CKPT_ROLE_FFN_UP, "model.layers.{L}.mlp.up_proj"},
    {CKPT_ROLE_FFN_DOWN, "model.layers.{L}.mlp.down_proj"},
    {CKPT_ROLE_FFN_GATE_INP, "model.layers.{L}.block_sparse_moe.gate"},
    {CKPT_ROLE_FFN_GATE_EXPS, "model.layers.{L}.block_sparse_moe.experts.{E}.w1"},
    {CKPT_ROLE_FFN_DOWN_EXPS, "model.layers.{L}.block_sparse_moe.experts.{E}.w2"},
    {CKPT_ROLE_FFN_UP_EXPS, "model.layers.{L}.block_sparse_moe.experts.{E}.w3"},
};

/* Buffers older exports saved with the weights; the converter drops them. */
static const char *const hf_ignored[] = {"model.layers.{L}.self_attn.rotary_emb.inv_freq"};

/*
 * Mistral's own consolidated files (params.json beside them): w1 is the
 * gate, w2 down, w3 up.  Their Q/K rows are in the interleaved order GGUF
 * uses (the permute of transformers' conversion script was never applied),
 * so the scheme is not rotate-half.
 */
static const struct ckpt_arch_name mistral_names[] = {
    {CKPT_ROLE_TOKEN_EMBD, "tok_embeddings"},
    {CKPT_ROLE_OUTPUT_NORM, "norm"},
    {CKPT_ROLE_OUTPUT, "output"},
    {CKPT_ROLE_ATTN_NORM, "layers.{L}.attention_norm"},
    {CKPT_ROLE_ATTN_Q, "layers.{L}.attention.wq"},
    {CKPT_ROLE_ATTN_K, "layers.{L}.attention.wk"},
    {CKPT_ROLE_ATTN_V, "layers.{L}.attention.wv"},
    {CKPT_ROLE_ATTN_OUTPUT, "layers.{L}.attention.wo"},
    {CKPT_ROLE_FFN_NORM, "layers.{L}.ffn_norm"},
    {CKPT_ROLE_FFN_GATE, "layers.{L}.feed_forward.w1"},
    {CKPT_ROLE_FFN_UP, "layers.{L}.feed_forward.w3"},
    {CKPT_ROLE_FFN_DOWN, "layers.{L}.feed_forward.w2"},
    {CKPT_ROLE_FFN_GATE_INP, "layers.{L}.feed_forward.gate"},
    {CKPT_ROLE_FFN_GATE_EXPS, "layers.{L}.feed_forward.experts.{E}.w1"},
    {CKPT_ROLE_FFN_DOWN_EXPS, "layers.{L}.feed_forward.experts.{E}.w2"},
    {CKPT_ROLE_FFN_UP_EXPS, "layers.{L}.feed_forward.experts.{E}.w3"},
};

/*
 * Mistral3ForConditionalGeneration: the language model's HF names under
 * "language_model.", beside a vision tower and its projector, which
 * llama.cpp's converter leaves out of the text model's GGUF.
 */
static const char *const vision_prefixes[] = {"vision_tower.", "multi_modal_projector."};

static const struct ckpt_arch_scheme hf_schemes[] = {
    {"hf", "", true, hf_names, ARRAY_LEN(hf_names), hf_ignored, ARRAY_LEN(hf_ignored), NULL,
     NULL, 0},
    {"hf-language-model", "language_model.", true, hf_names, ARRAY_LEN(hf_names), hf_ignored,
     ARRAY_LEN(hf_ignored), "the vision tower", vision_prefixes, ARRAY_LEN(vision_prefixes)},
    {"mistral", "", false, mistral_names, ARRAY_LEN(mistral_names), NULL, 0, NULL, NULL, 0},
};

#define LLAMA_FAMILY                                                                               \
    .gguf_arch = "llama", .roles = llama_roles, .n_roles = ARRAY_LEN(llama_roles),                 \
    .schemes = hf_schemes, .n_schemes = ARRAY_LEN(hf_schemes)

/*
 * MistralConfig: window 4096; MixtralConfig: 8 experts, top 2, theta 1e6,
 * no window unless given; LlamaConfig: no window at all (Llama's attention
 * has none, so a stray sliding_window key is not honoured).
 */
static const struct ckpt_arch archs[] = {
    {.hf_class = "MistralForCausalLM", .model_type = "mistral", LLAMA_FAMILY,
     .features = CKPT_FEAT_SLIDING_WINDOW | CKPT_FEAT_TIED_EMBD | CKPT_FEAT_ATTN_BIAS,
     .defaults = {.rms_norm_eps = 1e-6, .rope_theta = 10000.0, .sliding_window = 4096}},
    {.hf_class = "MixtralForCausalLM", .model_type = "mixtral", LLAMA_FAMILY,
     .features = CKPT_FEAT_EXPERTS | CKPT_FEAT_SLIDING_WINDOW | CKPT_FEAT_TIED_EMBD |
                 CKPT_FEAT_ATTN_BIAS,
     .defaults = {.rms_norm_eps = 1e-5, .rope_theta = 1e6, .n_experts = 8,
                  .n_experts_per_tok = 2}},
    {.hf_class = "LlamaForCausalLM", .model_type = "llama", LLAMA_FAMILY,
     .features = CKPT_FEAT_TIED_EMBD | CKPT_FEAT_ATTN_BIAS,
     .defaults = {.rms_norm_eps = 1e-6, .rope_theta = 10000.0}},
};

const struct ckpt_arch *ckpt_arch_at(size_t i) { return i < ARRAY_LEN(archs) ? &archs[i] : NULL; }
