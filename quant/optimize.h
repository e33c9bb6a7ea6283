/*
 * optimize.h - ckpt-quant --optimize: a per-tensor choice of standard
 * block types (q2_K ... q8_0) that keeps the model's output closest to the
 * source for a size budget, measured with the reference forward pass on a
 * calibration text.
 *
 * Sensitivity.  For every weight matrix t and every candidate type T whose
 * block divides t's rows, t is encoded as the quantizer will encode it
 * (with the calibration's importance matrix) and its error is taken as
 *     e(t, T) = sum over rows and columns of h_j (w_ij - q_ij)^2,
 * h_j the mean square of input column j on the calibration text (the
 * diagonal of the input's second moment; 1 for the token embedding, which
 * is looked up, not multiplied).  Once per tensor the model is run with t
 * alone at one anchor type A (the mix's own type for t, else the nearest
 * candidate in size) and the mean KL divergence of its next-token
 * distribution from the source's is measured on the first tokens of the
 * text; the divergence predicted for any T is then
 *     d(t, T) = KLD(t, A) * e(t, T) / e(t, A),
 * a first-order model in which a tensor's contribution to the output
 * divergence grows with its activation-weighted weight error.  Once more
 * points of a tensor are measured, the prediction runs through them (a
 * power law in e between two measured types, proportional beyond).  With
 * --gptq the rows are compensated for each type first (ckpt_gptq below)
 * and e is the full (x - y) H (x - y)^T of the input second moment H.
 * Mixtral's
 * stacked experts, the attention matrices and every layer are separate
 * tensors, so each gets its own measurement; the router and the norms stay
 * in F32 as in every mix.
 *
 * Allocation.  The predicted divergences add up over tensors; the budget is
 * spent greedily on the upgrade with the largest predicted gain per byte
 * (along each tensor's lower convex hull of (bytes, divergence), then any
 * upgrade that still fits), which is optimal for convex costs and close to
 * it otherwise.  Ties go to the tensor first in the source, then to the
 * smaller type.  The types so chosen that were only predicted are then
 * measured and the budget allocated again (CKPT_OPT_ROUNDS times).
 *
 * Every number here comes from a fixed order of operations and forward
 * passes whose results do not depend on the thread count: the same model,
 * text and options give the same choice, and so the same bytes, for any
 * thread count.  The passes use the default ISA (kernels/dispatch.h): avx2,
 * or its scalar twins on a CPU without AVX2, the same bits, so every CPU
 * makes the same choice; only CKPT_ISA=ref or f64 (other semantics) may
 * resolve a near-tie otherwise.
 */
#ifndef CKPT_QUANT_OPTIMIZE_H
#define CKPT_QUANT_OPTIMIZE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../kernels/err.h"
#include "../kernels/progress.h"
#include "../kernels/types.h"
#include "imatrix.h"
#include "overrides.h"
#include "plan.h"
#include "sink.h"
#include "source.h"

#define CKPT_OPT_MAX_CAND 12    /* candidate types per tensor, at most */
#define CKPT_OPT_SENS_TOKENS 1024 /* default tokens of the text for the sensitivity runs */
#define CKPT_OPT_ROUNDS 2         /* default rounds of measuring the chosen types */

/* One candidate type of one tensor. */
struct ckpt_opt_cand {
    ckpt_type type;
    uint64_t bytes; /* the tensor's data in this type, padded as GGUF aligns it */
    double err;     /* e(t, T): activation-weighted squared error */
    double kld;     /* measured: mean KL divergence with only this tensor at this type,
                       nats; -1 if not measured */
    double pred;    /* d(t, T): the measured kld, else predicted from those measured */
    double pred0;   /* d(t, T) as predicted from the anchor alone */
};

/* One weight matrix: its candidates and the choice. */
struct ckpt_opt_tensor {
    const char *name;      /* borrowed from the source */
    size_t src_index;      /* in the source's tensor list */
    ckpt_type mix_type;    /* what the mix gives it */
    struct ckpt_opt_cand cand[CKPT_OPT_MAX_CAND]; /* by increasing bytes */
    size_t n_cand;
    size_t anchor;         /* the candidate measured first */
    size_t chosen;         /* the candidate allocated */
};

struct ckpt_opt_result {
    struct ckpt_opt_tensor *t; /* n, in the source's order; owned */
    size_t n;
    uint64_t budget;           /* bytes the matrices may take */
    uint64_t bytes;            /* bytes they take as allocated */
    uint64_t mix_bytes;        /* bytes they take in the mix */
    double pred;               /* predicted divergence of the allocation (sum over tensors) */
    double mix_pred;           /* the same for the mix's types */
    int64_t n_positions;       /* positions scored in each sensitivity run */
    int n_runs;                /* forward passes made */
    struct ckpt_gptq *gptq;    /* with ckpt_opt_opts.gptq: the compensating source, owned,
                                  its types set to the allocation */
};

struct ckpt_opt_opts {
    ckpt_mix mix;           /* the reference size and the types of the non-matrices */
    uint64_t target_bytes;  /* > 0: tensor data of the whole file at most this */
    double target_bpw;      /* > 0: bits per weight over all tensors at most this */
    uint64_t reserve;       /* bytes kept free of the budget: metadata the optimized file
                               carries beyond the mix's (so the file stays within its size) */
    uint64_t recipe_extra;  /* bytes the run's recipe holds beyond a plain run's of the mix
                               (the caller's to set; part of the reserve) */
    int64_t n_ctx;          /* tokens per chunk of the text; <= 0: 512 */
    int64_t sens_tokens;    /* tokens for the sensitivity runs; <= 0: CKPT_OPT_SENS_TOKENS */
    int rounds;             /* allocate-and-measure rounds after the anchors; <= 0:
                               CKPT_OPT_ROUNDS */
    bool measure;           /* also measure each tensor alone at its final type */
    bool gptq;              /* error-compensating rounding (ckpt_gptq below) */
    int n_threads;          /* <= 0: all CPUs */
    ckpt_progress_fn progress; /* optional: tensors done of all */
    void *cb_ctx;
};

/*
 * Choose a type for every weight matrix of src.  `model` is the same
 * model as src, opened for the forward pass (ckpt_weights_open: a
 * directory or a GGUF; its tokenizer too); `im` the calibration's
 * importance matrix (calib.h) the quantizer will encode with; `text` the
 * calibration text.  On success *out is filled (ckpt_opt_result_free).
 * Errors: those of ckpt_weights_open, ckpt_tok_load_any, ckpt_model_new
 * and the source; CKPT_E_RANGE for a text shorter than one chunk or a
 * target below what the smallest candidates take (the message gives that
 * size); CKPT_E_FORMAT for a tensor the forward pass has no place for;
 * CKPT_E_NOMEM.
 */
ckpt_status ckpt_opt_run(struct ckpt_opt_result *out, const char *model, struct ckpt_qsrc *src,
                         const ckpt_imatrix *im, const char *text,
                         const struct ckpt_opt_opts *o, ckpt_err *err);

/*
 * The allocation alone (pure; exposed for tests): given each tensor's
 * candidates (bytes increasing, pred filled), set every chosen index so
 * that the bytes sum to at most budget, by the greedy rule above.  Sets
 * r->bytes and r->pred.  CKPT_E_RANGE when even the smallest candidates
 * do not fit (the message says how many bytes they take).
 */
ckpt_status ckpt_opt_allocate(struct ckpt_opt_result *r, ckpt_err *err);

/*
 * The allocation as --tensor-type patterns (an exact, anchored name per
 * tensor) for ckpt_quant_run: *out is a new list (ckpt_qtt_free).
 * Errors: CKPT_E_NOMEM.
 */
ckpt_status ckpt_opt_tensor_types(const struct ckpt_opt_result *r, ckpt_qtt **out,
                                  ckpt_err *err);

/* The per-tensor table (--report): name, mix type, chosen type, bytes,
 * predicted and (if measured) measured divergence, and the totals.
 * malloc'd, caller frees; NULL on out of memory. */
char *ckpt_opt_report_text(const struct ckpt_opt_result *r);

/* The keys an optimized file gets (CKPT_KEY_OPTIMIZE_*): the options that
 * shaped the choice ("mix=Q4_K_M target=mix ctx=512 sens_tokens=1024") and
 * the SHA-256 of the calibration text.  m holds the strings the keys point
 * to.  Errors: those of ckpt_sha256_file. */
struct ckpt_opt_meta {
    struct ckpt_qsink_kv kv[2];
    char options[160];
    char sha256[65];
};
ckpt_status ckpt_opt_meta_make(struct ckpt_opt_meta *m, const char *text,
                               const struct ckpt_opt_opts *o, ckpt_err *err);

/* Bytes n keys take in a GGUF header (a budget's reserve). */
uint64_t ckpt_opt_kv_bytes(const struct ckpt_qsink_kv *kv, size_t n);

/* The source the quantizer must read for the allocation: the compensating
 * wrapper of src with --gptq, else src itself.  Borrowed from r and src. */
struct ckpt_qsrc *ckpt_opt_source(const struct ckpt_opt_result *r, struct ckpt_qsrc *src);

/* ---- error-compensating rounding (optimize_gptq.c) ---- */

typedef struct ckpt_gptq ckpt_gptq;

/*
 * A wrapper of src whose rows of each weight matrix with observed inputs
 * come out compensated for the rounding of the type set for it
 * (ckpt_gptq_set_type; none: the rows pass through), the input second
 * moments taken by running `model` (ckpt_weights_open) over n_chunks
 * chunks of n_ctx tokens at ids.  im: the importance weights the encoder
 * will use.  src is borrowed for the wrapper's life.  Caller owns *out
 * (ckpt_gptq_free).  Errors: those of ckpt_weights_open and
 * ckpt_model_new, CKPT_E_NOMEM.
 */
ckpt_status ckpt_gptq_new(ckpt_gptq **out, struct ckpt_qsrc *src, const char *model,
                          const int32_t *ids, int64_t n_chunks, int64_t n_ctx,
                          const ckpt_imatrix *im, int n_threads, ckpt_err *err);

/*
 * The tokens of the text file `text` for runs of `model` (its tokenizer):
 * chunks of n_ctx tokens (<= 0: 512), each opening with BOS where the
 * model adds one, at most max_tokens in all (<= 0: CKPT_OPT_SENS_TOKENS).
 * *ids malloc'd (caller frees), *n_chunks chunks of *ctx tokens.  Errors:
 * the tokenizer's, CKPT_E_RANGE for a text shorter than one chunk.
 */
ckpt_status ckpt_opt_tokens(const char *model, const char *text, int64_t n_ctx,
                            int64_t max_tokens, int32_t **ids, int64_t *n_chunks, int64_t *ctx,
                            ckpt_err *err);

/* The wrapper as a source (borrowed; its close does nothing). */
struct ckpt_qsrc *ckpt_gptq_source(ckpt_gptq *g);

/* Tensor i's rows compensated for type (a ckpt_type), or -1: as they are. */
void ckpt_gptq_set_type(ckpt_gptq *g, size_t i, int type);

/* (x - y) H (x - y)^T for a row of matrix m of tensor i, H its input second
 * moment; -1 when the tensor has none. */
double ckpt_gptq_error(const ckpt_gptq *g, size_t i, int64_t m, const float *x, const float *y);

/* The upper Cholesky factor U (n x n, U^T U = damped H^-1) of matrix m of
 * the tensor named `name` with rows of n inputs; NULL when it has none
 * (not a weight matrix the run saw, an expert never routed to). */
const float *ckpt_gptq_factor(const ckpt_gptq *g, const char *name, int64_t m, int64_t n);

/*
 * The per-block encoder of the column walk: the GGUF block types and the
 * compressed-tensors int4/int8 group quantizer plug in here.
 */
struct ckpt_gptq_enc {
    int64_t block; /* columns per block; divides the row */
    /* At a block's start: wd[0..n) the row's values now.  Fills q[b0 ..
     * b0 + block) with the block's rounded values, or, with `column`, takes
     * what it needs (a group's scale) and leaves q to `column`. */
    ckpt_status (*start)(void *ctx, const double *wd, int64_t b0, float *q, ckpt_err *err);
    /* NULL, or column j's rounded value from its value v now (after the
     * block's earlier columns moved it): GPTQ's column-by-column rounding. */
    float (*column)(void *ctx, int64_t j, double v);
    void *ctx;
};

/*
 * GPTQ's walk over one row of n inputs: block by block, each column j's
 * rounding error e = (wd_j - q_j) / U_jj is taken out of every later
 * column k (wd_k -= e U_jk).  wd (n): the row, moved in place; w (n): the
 * values each column had when rounded (what the encoder must be handed to
 * give q back); q (n): the rounded values.  Errors: those of enc->start.
 */
ckpt_status ckpt_gptq_walk(const float *u, int64_t n, const struct ckpt_gptq_enc *enc,
                           double *wd, float *w, float *q, ckpt_err *err);

void ckpt_gptq_free(ckpt_gptq *g);

/* Free what r owns and zero it; NULL is fine. */
void ckpt_opt_result_free(struct ckpt_opt_result *r);

#endif
