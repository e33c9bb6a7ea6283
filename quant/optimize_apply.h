/*
 * optimize_apply.h - --optimize applied to a quantization's options: the
 * measured choice (optimize.h) set as the run's tensor types, and the keys
 * an optimized file records appended to its keys.  ckpt-quant and
 * ckpt-verify --rebuild both go through here, so a replay makes the same
 * file as the run it replays.
 */
#ifndef CKPT_QUANT_OPTIMIZE_APPLY_H
#define CKPT_QUANT_OPTIMIZE_APPLY_H

#include "optimize.h"
#include "quantize.h"

/* One application; zero it, set opts' target_bpw, target_bytes, gptq,
 * measure, n_threads and progress, free it with ckpt_opt_apply_free. */
struct ckpt_opt_apply {
    struct ckpt_opt_opts opts;
    struct ckpt_opt_result res;
    struct ckpt_opt_meta meta;
    ckpt_qtt *types;              /* the choice, as --tensor-type patterns; owned */
    struct ckpt_qsink_kv *kv;     /* q's keys, then meta's; owned */
};

/*
 * Measure and choose for src (model: the same model for the forward
 * pass, as ckpt_opt_run takes it) on the calibration text `text`, in
 * chunks of n_ctx tokens (<= 0: the default), at most max_chunks of them
 * (<= 0: no bound; it bounds the sensitivity runs as it bounds the
 * calibration), then point q's tensor types and keys at the result (they
 * stay a's: q must not outlive a).  q's mix, imatrix and imatrix_name are
 * read.  Errors: those of ckpt_opt_run and ckpt_opt_meta_make,
 * CKPT_E_NOMEM.
 */
ckpt_status ckpt_opt_apply(struct ckpt_opt_apply *a, const char *model, struct ckpt_qsrc *src,
                           struct ckpt_quant_opts *q, const char *text, int64_t n_ctx,
                           int64_t max_chunks, ckpt_err *err);

/*
 * Which options go with --optimize, checked before anything is read: on
 * (--optimize given), report (--report), a's opts as parsed (gptq and the
 * targets), calib (--calib given) and q's type options.  CKPT_E_USAGE,
 * with the message to show, for --optimize without --calib, its options
 * without it (--gptq is also valid with a compressed-tensors scheme,
 * ct_scheme, and always needs --calib), the type options it excludes, or
 * both targets.
 */
ckpt_status ckpt_opt_apply_check(const struct ckpt_opt_apply *a, bool on, bool report,
                                 bool calib, bool ct_scheme, const struct ckpt_quant_opts *q,
                                 ckpt_err *err);

/* The source the quantizer reads: ckpt_opt_source of the result. */
struct ckpt_qsrc *ckpt_opt_apply_source(const struct ckpt_opt_apply *a, struct ckpt_qsrc *src);

/* Free what a owns; a zeroed a is fine. */
void ckpt_opt_apply_free(struct ckpt_opt_apply *a);

#endif
