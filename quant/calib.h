/*
 * calib.h - an importance matrix computed with the reference forward pass
 * (kernels/model.h) over a calibration text, the way llama-imatrix
 * computes one, for the quantizer and as a legacy .dat file.
 *
 * The text (one trailing newline dropped, as llama.cpp reads -f files) is
 * tokenized with the model's tokenizer, BOS first when the tokenizer adds
 * one, and cut into chunks of n_ctx tokens; a tail shorter than a chunk is
 * not used.  Each chunk starts with BOS in place of its first token and
 * runs from an empty cache, in pieces of at most 512 positions
 * (llama.cpp's default micro-batch).  For every weight matrix blk.N.*
 * the inputs of its product are summed as x^2 per column, with the number
 * of rows; a product over fewer than 16 rows is skipped, except for the
 * experts of a Mixtral layer, which get the rows routed to them in any
 * number.  output.weight is not collected.  The router (ffn_gate_inp) is,
 * as llama-imatrix does, though the quantizer keeps it in f32.
 *
 * Entry values are the mean of x^2 per column (per expert for *_exps,
 * expert-major).  An expert that no row was routed to gets 1.0 for its
 * slice, as a GGUF imatrix's zero-count experts do in imatrix.h and as
 * newer llama-imatrix writes legacy files; llama-imatrix of early 2025
 * dropped such a tensor's entry instead (it was then quantized without
 * weights).  Sums are kept in double.  The forward pass computes the
 * default semantic (dispatch.h: q8, whose avx2 and scalar kernels give the
 * same bits on every CPU), so the result depends neither on the machine
 * nor on the thread count; it is what --optimize and --gptq measure with,
 * and the semantic the fast kernels serve.  Matrices computed before the
 * semantic was recorded came from the f32 oracle (the ref ISA): a replay
 * asks for it by name.  The model runs as model_load.h opens it: a directory's
 * sliding window applies (a GGUF has none, nor does llama.cpp), which
 * matters only for chunks longer than the window.
 */
#ifndef CKPT_QUANT_CALIB_H
#define CKPT_QUANT_CALIB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../kernels/err.h"
#include "../kernels/progress.h"
#include "imatrix.h"

#define CKPT_CALIB_CTX 512 /* default tokens per chunk, llama-imatrix's */

struct ckpt_calib_opts {
    const char *text;   /* calibration text path ("-" = stdin); recorded as the dataset */
    int64_t n_ctx;      /* tokens per chunk; <= 0: CKPT_CALIB_CTX */
    int64_t max_chunks; /* use at most this many chunks; <= 0: all */
    int n_threads;      /* <= 0: all online CPUs */
    const char *semantic; /* what the forward pass computes (ckpt_isa_semantic: "q8",
                             "f32", "f64"); NULL: the default ISA's */
    /* Optional callbacks, called from the calling thread. */
    ckpt_progress_fn progress; /* tokens of the chunks run */
    void (*message)(void *ctx, int level, const char *msg); /* 2 warning, 3 info */
    void *cb_ctx;
};

struct ckpt_calib {
    ckpt_imatrix *imatrix; /* owned: the entries as the quantizer takes them */
    uint8_t *dat;          /* owned: the same as llama.cpp's legacy .dat (dat_size bytes);
                              imatrix is what ckpt_imatrix_load reads from these bytes */
    size_t dat_size;
    int64_t n_tokens;      /* tokens of the whole text, BOS included */
    int32_t n_chunks;      /* chunks run */
    size_t n_partial;      /* entries with an expert no row was routed to */
    const char *semantic;  /* static: the semantic the forward pass computed */
};

/*
 * Compute the importance matrix of the model at `model` (a Hugging Face
 * directory or a GGUF file, ckpt_weights_open; the tokenizer comes from
 * the same place) over o->text.  On success *out owns what it points to
 * (ckpt_calib_free).  Errors: those of ckpt_weights_open, ckpt_tok_load_any
 * and ckpt_model_new; CKPT_E_IO for an unreadable text, CKPT_E_RANGE for a
 * text shorter than one chunk, CKPT_E_USAGE for bad options,
 * CKPT_E_UNSUPPORTED for a semantic no ISA of this CPU computes,
 * CKPT_E_VALUE for a non-finite activation, CKPT_E_NOMEM.
 */
ckpt_status ckpt_calib_run(struct ckpt_calib *out, const char *model,
                           const struct ckpt_calib_opts *o, ckpt_err *err);

/* Write c->dat to `path` whole or not at all (formats/outfile.h; an
 * existing file only with force).  Errors: CKPT_E_EXISTS, CKPT_E_IO. */
ckpt_status ckpt_calib_save(const struct ckpt_calib *c, const char *path, bool force,
                            ckpt_err *err);

/* Free what c owns and zero it; NULL is fine. */
void ckpt_calib_free(struct ckpt_calib *c);

/*
 * The tokens of the text file at `path` as the calibration reads them (one
 * trailing newline dropped; BOS first when the tokenizer adds one).
 * *ids is malloc'd (caller frees), *n_ids their number.  Errors:
 * CKPT_E_IO, CKPT_E_RANGE for an empty text, CKPT_E_NOMEM, and those of
 * ckpt_tok_encode.
 */
struct ckpt_tok;
ckpt_status ckpt_calib_tokenize(const struct ckpt_tok *tok, const char *path, int32_t **ids,
                                size_t *n_ids, ckpt_err *err);

/* The role (a ckpt_role, arch.h) of the weight an observed product
 * multiplies by (an enum ckpt_mm_weight, kernels/model.h), in a model with
 * experts or without; 0 (unknown) out of range. */
int ckpt_calib_mm_role(int weight, bool experts);

#endif
