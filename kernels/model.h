/*
 * model.h - the reference forward pass of Mistral and Mixtral with Hugging
 * Face transformers' semantics, over "weight views": borrowed pointers into
 * mapped checkpoint bytes of any supported type (dequantized chunk by chunk
 * inside the dot products, never whole).
 *
 * Per layer: h = x + attn(rmsnorm(x)); x = h + ffn(rmsnorm(h)); then a
 * final rmsnorm and the output projection.  Attention has grouped-query
 * heads, rotate-half RoPE, a causal mask and Mistral's optional sliding
 * window (query i sees key j iff i - W < j <= i).  The FFN is SwiGLU
 * down(silu(gate(x)) * up(x)); Mixtral routes each token through the top-k
 * experts of softmax(router(x)) with the k weights renormalized to sum 1.
 *
 * A model keeps a KV cache: ckpt_model_eval appends tokens (one or many;
 * many are computed as matrix products, in steps of max_batch positions)
 * and can return the logits of every appended position.  Work is split
 * over output rows and attention heads with one owner per value and a
 * fixed reduction order, so logits are bit-identical for any thread count
 * and any batching of the same tokens.
 *
 * Arithmetic by ISA (dispatch.h): ref and f64 widen every weight row to
 * f32 (the oracle).  avx2 does what ggml does on the CPU: for quantized
 * weights the input rows of a product are quantized once (q8_K for the
 * k-quants, q8_0 for the others) and dotted block by block in integers
 * (vec_dot.h); F32, F16 and BF16 weights keep f32 activations, so greedy
 * tokens on those types stay those of the f32 reference (the PyTorch
 * goldens), and F16 decode widens inside the fused dot, bit for bit the
 * chunked path.  Either way a value depends on its row and position only.
 *
 * An observer, when set, sees the f32 input rows of every product with a
 * weight matrix before it is computed (for importance matrices); without
 * one the forward pass does nothing more than test a pointer.
 */
#ifndef CKPT_KERNELS_MODEL_H
#define CKPT_KERNELS_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dot.h"
#include "err.h"
#include "features.h"
#include "pool.h"
#include "types.h"

/* A matrix (or a stack of matrices, or a vector) of any ggml type. */
struct ckpt_wview {
    ckpt_type type;
    int64_t ne[3];      /* ggml order: (row length = inputs, rows = outputs, matrices) */
    const void *data;   /* first row; borrowed */
    size_t row_bytes;   /* stride between rows */
    size_t mat_bytes;   /* stride between matrices along ne[2] */
    int32_t qk_heads;   /* > 0: rows are in GGUF Q/K order for this many heads */
};

/*
 * A packed view of ne0 x ne1 x ne2 elements of type t at data.  Returns
 * false if ne0 is not a multiple of the block size or a size overflows.
 */
bool ckpt_wview_init(struct ckpt_wview *v, ckpt_type t, int64_t ne0, int64_t ne1, int64_t ne2,
                     const void *data);

/* Matrix i of a stacked view (ne[2] > i), as a 2-D view. */
struct ckpt_wview ckpt_wview_slice(const struct ckpt_wview *v, int64_t i);

struct ckpt_model_config {
    unsigned features;      /* CKPT_FEAT_*: EXPERTS selects the router + experts FFN */
    int64_t n_vocab;
    int64_t dim;            /* hidden size */
    int64_t n_layers;
    int64_t n_heads;
    int64_t n_kv_heads;
    int64_t head_dim;       /* config head_dim, else dim / n_heads */
    int64_t ffn_dim;        /* intermediate size (of one expert for Mixtral) */
    int64_t n_experts;      /* with CKPT_FEAT_EXPERTS: num_local_experts; else 0 */
    int64_t n_experts_used; /* with CKPT_FEAT_EXPERTS: num_experts_per_tok */
    float rms_eps;
    float rope_theta;
    int64_t sliding_window; /* W > 0: query i sees keys i-W < j <= i; 0: no window */
    int64_t max_pos;        /* max_position_embeddings (informative; 0 if unknown) */
    int32_t bos_id, eos_id; /* -1 if unknown */
};

/* The three matrices of one SwiGLU FFN (one expert of a Mixtral layer). */
struct ckpt_ffn_views {
    struct ckpt_wview gate; /* ne (dim, ffn_dim) */
    struct ckpt_wview up;   /* ne (dim, ffn_dim) */
    struct ckpt_wview down; /* ne (ffn_dim, dim) */
};

struct ckpt_layer_views {
    struct ckpt_wview attn_norm;    /* ne (dim) */
    struct ckpt_wview wq;           /* ne (dim, n_heads * head_dim) */
    struct ckpt_wview wk;           /* ne (dim, n_kv_heads * head_dim) */
    struct ckpt_wview wv;           /* ne (dim, n_kv_heads * head_dim) */
    struct ckpt_wview wo;           /* ne (n_heads * head_dim, dim) */
    struct ckpt_wview ffn_norm;     /* ne (dim) */
    struct ckpt_ffn_views ffn;      /* dense models */
    struct ckpt_wview router;       /* Mixtral: ne (dim, n_experts) */
    struct ckpt_ffn_views *experts; /* Mixtral: n_experts entries; borrowed */
};

struct ckpt_model_weights {
    struct ckpt_wview tok_embd;       /* ne (dim, n_vocab) */
    struct ckpt_wview output_norm;    /* ne (dim) */
    struct ckpt_wview output;         /* ne (dim, n_vocab); the embedding when tied */
    struct ckpt_layer_views *layers;  /* n_layers entries; borrowed */
};

/* How long the waiting threads of a pool that decodes should spin (pool.h,
 * ckpt_pool_set_spin; the model sets it on a pool of its own): a decode
 * step's runs are a few hundred microseconds apart at most, but the
 * caller's work between two tokens (logits out, the next token in) took
 * 100-200 us, past the pool's default spin, and a worker that slept there
 * had to be woken by a system call.  At 1 ms a Q4_K_M decode made 0.1
 * futex calls a token where it had made 4, and ran 1.5-3% faster
 * (alternated token by token with 100 us in one process).  A borrowed
 * pool keeps its owner's setting: a pool that also runs other work with
 * long gaps (a quantizer's) would spin through them. */
#define CKPT_MODEL_SPIN_NS 1000000

struct ckpt_model_opts {
    int64_t n_ctx;     /* KV cache capacity in positions (> 0) */
    int64_t max_batch; /* positions computed per step; <= 0: 128 (one K-slice panel) */
    int n_threads;     /* threads when pool is NULL; <= 0: all CPUs */
    ckpt_pool *pool;   /* borrowed (its owner sets its spin: CKPT_MODEL_SPIN_NS
                          for a decode loop); NULL: the model starts its own */
    int isa;           /* a ckpt_isa, or -1 for ckpt_isa_default() */
    /* NULL, or called on the calling thread after each matrix product with
     * the weight bytes it read, which the caller may drop from memory
     * (long batched passes: resident memory stays at about one tensor) */
    void (*release)(void *ctx, const void *data, size_t bytes);
    void *release_ctx;
};

typedef struct ckpt_model ckpt_model;

/*
 * Check views against a config: every tensor present, its shape, a type
 * the dot products support, row lengths that fit the type, Q/K permutation
 * head counts.  Errors: CKPT_E_FORMAT naming the tensor's role and layer,
 * CKPT_E_UNSUPPORTED for a type without a kernel.
 */
ckpt_status ckpt_model_check(const struct ckpt_model_config *cfg,
                             const struct ckpt_model_weights *weights, ckpt_err *err);

/*
 * Check the views against the config (shapes, supported types, row
 * lengths) and build a model with an empty KV cache.  The model borrows
 * `weights` (the struct and everything it points to) until ckpt_model_free;
 * norm vectors are copied to f32.  Caller owns *out.  Errors: CKPT_E_FORMAT
 * for a shape that does not fit the config, CKPT_E_UNSUPPORTED for a
 * tensor type without a kernel, CKPT_E_USAGE for bad options, CKPT_E_NOMEM.
 */
ckpt_status ckpt_model_new(ckpt_model **out, const struct ckpt_model_config *cfg,
                           const struct ckpt_model_weights *weights,
                           const struct ckpt_model_opts *opts, ckpt_err *err);

void ckpt_model_free(ckpt_model *m);

/* The configuration the model was built with (borrowed). */
const struct ckpt_model_config *ckpt_model_get_config(const ckpt_model *m);

/* Positions in the KV cache, and its capacity. */
int64_t ckpt_model_n_past(const ckpt_model *m);
int64_t ckpt_model_n_ctx(const ckpt_model *m);

/* Bytes of weights one decode step reads: every matrix once (with
 * experts, n_experts_used of them per layer), one embedding row. */
uint64_t ckpt_model_bytes_per_token(const ckpt_model *m);

/* The ISA the dot products use. */
ckpt_isa ckpt_model_isa(const ckpt_model *m);

/* Forget cached positions from n_past on (0 empties the cache). */
void ckpt_model_truncate(ckpt_model *m, int64_t n_past);

/*
 * Append n tokens at positions n_past .. n_past+n-1 and run them through the
 * model.  logits: NULL for none; else n * n_vocab floats (all = true: row t
 * is the distribution after ids[t]) or n_vocab floats (all = false: after
 * the last id).  Errors: CKPT_E_RANGE when an id is out of the vocabulary
 * or the cache would overflow (nothing is appended then).
 */
ckpt_status ckpt_model_eval(ckpt_model *m, const int32_t *ids, int64_t n, float *logits, bool all,
                            ckpt_err *err);

/* ==== observing the matrix products ==== */

/* The weight matrices the forward pass multiplies by.  llama.cpp names them
 * blk.N.<name>.weight with the names given here (ffn_*_exps for the stacked
 * experts of a Mixtral layer) and output.weight. */
enum ckpt_mm_weight {
    CKPT_MM_ATTN_Q,       /* attn_q */
    CKPT_MM_ATTN_K,       /* attn_k */
    CKPT_MM_ATTN_V,       /* attn_v */
    CKPT_MM_ATTN_OUTPUT,  /* attn_output */
    CKPT_MM_FFN_GATE_INP, /* ffn_gate_inp: the Mixtral router */
    CKPT_MM_FFN_GATE,     /* ffn_gate, or one expert of ffn_gate_exps */
    CKPT_MM_FFN_UP,       /* ffn_up, or one expert of ffn_up_exps */
    CKPT_MM_FFN_DOWN,     /* ffn_down, or one expert of ffn_down_exps */
    CKPT_MM_OUTPUT,       /* output (computed only for the positions logits are asked for) */
    CKPT_MM_COUNT
};

/* The inputs of one matrix product. */
struct ckpt_mm_input {
    enum ckpt_mm_weight weight;
    int64_t layer;      /* 0-based; -1 for CKPT_MM_OUTPUT */
    int64_t expert;     /* an expert of a Mixtral layer's FFN; -1 for any other weight */
    const float *x;     /* (n, ncols), row after row; borrowed for the call */
    int64_t n, ncols;
    const int32_t *pos; /* experts: the step row (0 .. n_step-1) each row was routed from;
                           NULL otherwise (row i is step row i) */
    int64_t n_step;     /* positions computed in this step */
};

/* Called on the thread that runs ckpt_model_eval, in the order the
 * products are computed: per layer q, k, v, attention output, [router],
 * then gate, up, down (per expert in index order, experts without rows
 * skipped); output last. */
typedef void (*ckpt_model_observer)(void *ctx, const struct ckpt_mm_input *in);

/* Set (fn != NULL) or clear the observer; ctx is handed to fn as is. */
void ckpt_model_set_observer(ckpt_model *m, ckpt_model_observer fn, void *ctx);

#endif
