/*
 * ct_run.h - ckpt-quant's compressed-tensors runs, apart from its main:
 * the quantizer driven into the compressed-tensors sink (sink_ct.h), the
 * --json summary of such a run, --max-shard-size's sizes, and the check
 * that a directory replaced with -f holds none of the run's inputs.
 */
#ifndef CKPT_QUANT_CT_RUN_H
#define CKPT_QUANT_CT_RUN_H

#include <stdbool.h>
#include <stdint.h>

#include <cJSON.h>

#include "calib.h"
#include "quantize.h"
#include "sink_ct.h"

/*
 * Quantize src (opened from `in`; `model_dir`: a Hugging Face model, whose
 * config and tokenizer files go along) into the directory opts->output
 * under ct (its dir, force, imatrix and n_threads are filled from opts).
 * gptq: the calibration text (its chunks as --calib-chunks/--calib-ctx
 * say, all of them by default, as for the importance matrix) whose input second
 * moments GPTQ compensates the rounding for (ct_gptq.h), or NULL.
 * rep as ckpt_quant_run_sink's, with bytes_out the bytes the files hold.
 * Errors: those of ckpt_qsink_open_ct and ckpt_quant_run_sink, and with
 * gptq those of ckpt_opt_tokens and ckpt_gptq_new.
 */
ckpt_status ckpt_ct_quant_run(struct ckpt_qsrc *src, const struct ckpt_quant_opts *opts,
                              struct ckpt_ct_sink_opts *ct, const char *in, bool model_dir,
                              const struct ckpt_calib_opts *gptq,
                              struct ckpt_quant_report *rep, ckpt_err *err);

/* The --json summary of such a run (ckpt_quant_report_json's, the scheme
 * in place of the F32 mix the driver runs under; gptq: the run had GPTQ's
 * error feedback); caller owns it. */
cJSON *ckpt_ct_report_json(const struct ckpt_quant_report *rep,
                           const struct ckpt_quant_opts *opts, const char *in,
                           const struct ckpt_ct_sink_opts *ct, bool gptq);

/* A size as transformers' convert_file_size_to_int reads it: GB/MB/KB are
 * powers of 10, GiB/MiB/KiB powers of 2, a bare number is bytes.  False
 * for anything else or 0. */
bool ckpt_ct_parse_size(const char *s, uint64_t *out);

/* Is `path` (NULL or "-": no; a file not made yet: its directory) inside
 * directory `dir`, or `dir` itself? */
bool ckpt_ct_inside(const char *path, const char *dir);

#endif
