/*
 * quantize.h - the quantizer: a source's tensors -> a GGUF file of a mix,
 * the file llama-quantize writes for the same input (its tensor order,
 * its metadata, its bytes).
 *
 * The whole output header is planned first (types from plan.h, sizes
 * follow), then each tensor is streamed: its rows are produced as f32 in
 * bounded chunks, quantized by a thread pool whose static split gives
 * each row one owner (identical bytes for any thread count), written, and
 * released from memory.  Resident memory is a few chunks, not the model.
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
#include "source.h"

struct ckpt_quant_opts {
    ckpt_mix mix;
    bool pure;                    /* --pure: the mix's default type for every matrix */
    int output_type;              /* ckpt_type or -1 */
    int token_embd_type;          /* ckpt_type or -1 */
    const ckpt_imatrix *imatrix;  /* NULL for none */
    const char *imatrix_name;     /* recorded as quantize.imatrix.file (as given) */
    const char *output;           /* path, or "-" for stdout */
    bool force;                   /* replace an existing output */
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
    uint64_t file_bytes;          /* size of the output file */
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

/* Free what a report owns; NULL is fine. */
void ckpt_quant_report_free(struct ckpt_quant_report *rep);

#endif
