/*
 * quantize.h - the quantizer: a source's tensors (source.h) -> a sink
 * (sink.h) under a mix; with the GGUF sink, the file llama-quantize writes
 * for the same input (its tensor order, its metadata, its bytes).
 *
 * Every tensor's type is planned first (plan.h) and declared to the sink,
 * which plans its output; then each tensor is streamed: its rows are
 * produced as f32 in bounded chunks, encoded by a thread pool whose static
 * split gives each row one owner (identical bytes for any thread count),
 * handed to the sink from a writer thread while the pool encodes the next
 * chunk, and released from memory.  Resident memory is a few chunks, not
 * the model.
 */
#ifndef CKPT_QUANT_QUANTIZE_H
#define CKPT_QUANT_QUANTIZE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../kernels/err.h"
#include "../kernels/progress.h"
#include "../kernels/types.h"
#include "imatrix.h"
#include "plan.h"
#include "sink.h"
#include "source.h"

struct ckpt_quant_opts {
    ckpt_mix mix;
    bool pure;                    /* --pure: the mix's default type for every matrix */
    int output_type;              /* ckpt_type or -1 */
    int token_embd_type;          /* ckpt_type or -1 */
    const struct ckpt_qtt *tensor_types; /* --tensor-type patterns (overrides.h), or NULL */
    bool leave_output;            /* --leave-output-tensor: output.weight copied as it is */
    bool refuse_requantize;       /* llama-quantize without --allow-requantize: an input
                                     tensor already quantized may only be copied */
    const struct ckpt_qsink_kv *kv; /* n_kv --override-kv keys for the output, in order */
    size_t n_kv;
    const ckpt_imatrix *imatrix;  /* NULL for none */
    const char *imatrix_name;     /* recorded as quantize.imatrix.file (as given) */
    const char *recipe;           /* general.source.ckpt.recipe of the output (recipe.h),
                                     or NULL for none */
    const char *output;           /* path, or "-" for stdout */
    bool force;                   /* replace an existing output */
    uint64_t split_bytes;         /* a split set of files of at most this much tensor data */
    uint64_t split_tensors;       /* ... or this many tensors (0, 0: one file; gguf.h) */
    int n_threads;                /* <= 0: all online CPUs */
    bool ref_kernels;             /* the scalar reference quantizers even where a faster
                                     sibling with the same bytes exists (default: the
                                     kernels of ckpt_isa_default()) */
    /* Optional callbacks (never called from worker threads). */
    ckpt_progress_fn progress;    /* the tensor's name, weights done of all */
    void (*message)(void *ctx, int level, const char *msg); /* 2 warning, 3 info */
    void *cb_ctx;
};

/* One output tensor, in file order. */
struct ckpt_quant_tensor {
    const char *name;             /* borrowed from the source */
    uint32_t n_dims;
    int64_t ne[4];
    ckpt_type in_type;            /* as stored in the source */
    ckpt_type type;               /* as written */
    ckpt_type wanted;             /* the rules' choice before a row-length fallback */
    bool converted;               /* re-encoded (else copied) */
    bool imatrix;                 /* quantized with importance weights */
    uint64_t bytes;               /* data bytes written */
};

struct ckpt_quant_report {
    struct ckpt_quant_tensor *t;  /* n, owned (ckpt_quant_report_free) */
    size_t n;
    uint64_t params;              /* elements of all tensors */
    uint64_t bytes_in, bytes_out; /* tensor data before and after */
    uint64_t file_bytes;          /* size of the output file (all files of a split set) */
    size_t n_files;               /* 1, or the files of a split set (ckpt_quant_run) */
    char first_file[4096];        /* the (first) file written (ckpt_quant_run) */
    size_t n_fallback;            /* tensors whose type fell back for their row length */
    size_t n_requantized;         /* already-quantized tensors re-encoded */
    int n_threads;
    double seconds;
};

/*
 * Plan and write the output of `src` under `opts`; fill *rep (may be NULL).
 * On error nothing is left at opts->output (a partial stdout stream
 * excepted), and err names the tensor and row where one is involved:
 * CKPT_E_VALUE for a NaN/Inf in an input row or a value too large for the
 * output type, CKPT_E_EXISTS for an existing output without force,
 * CKPT_E_FORMAT for an imatrix entry that does not fit its tensor,
 * CKPT_E_UNSUPPORTED for a stored type that cannot be read, CKPT_E_USAGE,
 * CKPT_E_IO, CKPT_E_NOMEM.
 */
ckpt_status ckpt_quant_run(struct ckpt_qsrc *src, const struct ckpt_quant_opts *opts,
                           struct ckpt_quant_report *rep, ckpt_err *err);

/* The metadata a sink gets for src under o: the source's keys, the mix's
 * file type, then o->kv and the quantize.imatrix.* keys llama-quantize
 * adds with an imatrix (in its order, the counts as i32), then o->recipe.  m->set points
 * into m->own; everything else is borrowed from src and o. */
struct ckpt_quant_meta {
    struct ckpt_qsink_meta meta;
    struct ckpt_qsink_kv *own; /* freed by ckpt_quant_meta_free */
};
ckpt_status ckpt_quant_meta_make(struct ckpt_quant_meta *m, const struct ckpt_qsrc *src,
                                 const struct ckpt_quant_opts *o, ckpt_err *err);
void ckpt_quant_meta_free(struct ckpt_quant_meta *m);

/*
 * ckpt_quant_run into a sink the caller opened (with ckpt_quant_meta_make's
 * metadata); opts->output and opts->force are the sink's business and not
 * looked at.  The sink is finished on success and aborted on failure:
 * either way it is gone when this returns.  CKPT_E_USAGE for an input
 * tensor already quantized under refuse_requantize (naming the tensor and
 * --allow-requantize).
 */
ckpt_status ckpt_quant_run_sink(struct ckpt_qsrc *src, const struct ckpt_quant_opts *opts,
                                struct ckpt_qsink *sink, struct ckpt_quant_report *rep,
                                ckpt_err *err);

/*
 * The tensors whose type fell back for their row length, for a summary:
 * "25 tensors fell back to another type (rows not a multiple of 256):
 * 21 q2_K->iq4_nl, 4 q3_K->iq4_nl" into buf (at most n bytes); returns
 * the count (0: buf is "").
 */
size_t ckpt_quant_report_fallbacks(const struct ckpt_quant_report *rep, char *buf, size_t n);

/* Free what a report owns; NULL is fine. */
void ckpt_quant_report_free(struct ckpt_quant_report *rep);

#endif
