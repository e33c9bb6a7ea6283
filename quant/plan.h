/*
 * plan.h - which type each tensor of a model gets under a quantization
 * mix, by llama-quantize's names and rules (llama_tensor_get_type of
 * llama.cpp c392e50), and the order in which it writes the tensors.
 *
 * A mix (Q4_K_M, Q3_K_S, ...) has a default type; a handful of tensors get
 * more bits by name and layer (output, attn_v, attn_k, attn_output,
 * ffn_down), and a type whose block does not divide a tensor's row length
 * falls back to one that does (Q2_K/Q3_K -> IQ4_NL, Q4_K -> Q5_0,
 * Q5_K -> Q5_1, Q6_K -> Q8_0, then F16), as tiny models show.  Only weight matrices are ever
 * converted: 1-D tensors, norms and the MoE router (ffn_gate_inp) keep the
 * type they come in.  F32, F16 and BF16 are plain retypings of the same
 * set of tensors.  Pure logic: no files, no allocation.
 */
#ifndef CKPT_QUANT_PLAN_H
#define CKPT_QUANT_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../kernels/err.h"
#include "../kernels/types.h"

/* The mixes, by llama-quantize's names. */
typedef enum {
    CKPT_MIX_F32,
    CKPT_MIX_F16,
    CKPT_MIX_BF16,
    CKPT_MIX_Q4_0,
    CKPT_MIX_Q4_1,
    CKPT_MIX_Q5_0,
    CKPT_MIX_Q5_1,
    CKPT_MIX_Q8_0,
    CKPT_MIX_Q2_K,
    CKPT_MIX_Q3_K_S,
    CKPT_MIX_Q3_K_M,
    CKPT_MIX_Q3_K_L,
    CKPT_MIX_Q4_K_S,
    CKPT_MIX_Q4_K_M,
    CKPT_MIX_Q5_K_S,
    CKPT_MIX_Q5_K_M,
    CKPT_MIX_Q6_K,
    CKPT_MIX_COUNT
} ckpt_mix;

/* "Q4_K_M"; "?" for a value out of range. */
const char *ckpt_mix_name(ckpt_mix m);

/* Mix from its name, case-insensitive ("q4_k_m"); -1 if none. */
int ckpt_mix_from_name(const char *name);

/*
 * Mix as llama-quantize's type argument names it: a name as above, one of
 * its aliases Q3_K, Q4_K, Q5_K (the _M mixes), or its numeric id, the
 * llama_ftype (15 = Q4_K_M, 7 = Q8_0, 0 = F32); -1 if none.
 */
int ckpt_mix_parse(const char *arg);

/*
 * Why `arg` is not a mix, for a message: "llama-quantize's IQ4_XS (30) is
 * not produced by ckpt" for a type llama-quantize knows, else "unknown
 * mix"; then the mixes ckpt makes and the llama.cpp types it never writes.
 * Writes at most n bytes to buf (NUL-terminated); returns buf.
 */
char *ckpt_mix_explain(const char *arg, char *buf, size_t n);

/* general.file_type of the mix (llama_ftype: Q4_K_M 15, F16 1, BF16 32). */
uint32_t ckpt_mix_file_type(ckpt_mix m);

/* The mix whose general.file_type this is; -1 if none. */
int ckpt_mix_from_file_type(uint32_t file_type);

/* The type most tensors of the mix get (Q4_K for Q4_K_S/M). */
ckpt_type ckpt_mix_default_type(ckpt_mix m);

/* One line per mix, "Q4_K_M  ..." - what it is, for --help.  NULL past the end. */
const char *ckpt_mix_describe(ckpt_mix m);

/* The model facts the rules look at (from the GGUF metadata or config.json). */
struct ckpt_qplan_model {
    int n_layer;   /* <arch>.block_count */
    int n_head;    /* <arch>.attention.head_count */
    int n_head_kv; /* <arch>.attention.head_count_kv, or n_head when absent */
    int n_expert;  /* <arch>.expert_count, 0 for a dense model */
};

struct ckpt_qtt; /* --tensor-type patterns, overrides.h */

struct ckpt_qplan_opts {
    ckpt_mix mix;
    bool pure;            /* every weight matrix gets the default type */
    bool has_imatrix;     /* an importance matrix with at least one entry is used */
    int output_type;      /* ckpt_type for output.weight, or -1 for the rules */
    int token_embd_type;  /* ckpt_type for token_embd.weight, or -1 for the rules */
    const struct ckpt_qtt *tensor_types; /* NULL, or patterns whose type replaces the rules'
                                            (and --pure's) for the matrices they match */
    bool leave_output;    /* --leave-output-tensor: output.weight is copied as it is */
};

/* A tensor as the plan sees it: name, ggml shape (unused dims 1), stored type. */
struct ckpt_qplan_tensor {
    const char *name;
    int64_t ne[4];
    ckpt_type type;
};

/* What the plan decided for one tensor. */
struct ckpt_qplan_choice {
    ckpt_type type;   /* the type written */
    ckpt_type wanted; /* the rules' choice before the row-length fallback (== type if none) */
    bool matrix;      /* a weight matrix (converted to the mix's types); else copied */
    bool convert;     /* type differs from the stored type: rows are re-encoded */
};

/*
 * Plan a whole model.  t[0..n) are the tensors in any order; on success
 * order[0..n) holds their indexes in the order llama-quantize writes them
 * (ckpt_qplan_compare_names) and choice[i] is the decision for t[i].  The
 * per-layer counters of the rules advance in that order, as in
 * llama-quantize.  The fallback chain applies to the rules' choice, and
 * also under `pure` and to types that have no chain of their own (Q4_0 ..
 * Q8_0, which go to F16): llama-quantize stops with an error there, ckpt
 * writes a valid file instead.  Explicit output/token types are taken as
 * given.  A --tensor-type pattern, in a quantized mix, replaces the rules
 * for the tensors it matches (whose counters then do not advance, as in
 * llama-quantize); the fallback chain still applies to its type.
 *
 * Errors: CKPT_E_USAGE for an explicit output/token type that is not a
 * storable type or does not divide the row length (message names the
 * tensor); CKPT_E_FORMAT, in a model with experts, for an ffn tensor whose
 * layer cannot be read from its name or is not below n_layer;
 * CKPT_E_NOMEM.
 */
ckpt_status ckpt_qplan_make(const struct ckpt_qplan_model *model,
                            const struct ckpt_qplan_opts *opts, const struct ckpt_qplan_tensor *t,
                            size_t n, size_t *order, struct ckpt_qplan_choice *choice,
                            ckpt_err *err);

/*
 * llama-quantize's tensor order: by the layer number of "blk.N." (tensors
 * outside the blocks count as -1 and come first), then by strcmp.
 * Returns <0, 0, >0 like strcmp.
 */
int ckpt_qplan_compare_names(const char *a, const char *b);

/* Is this a tensor llama-quantize converts at all (a weight matrix)? */
bool ckpt_qplan_is_matrix(const struct ckpt_qplan_tensor *t);

/* True for the types an explicit --output-tensor-type / --token-embedding-type may name. */
bool ckpt_qplan_type_storable(int type);

#endif
