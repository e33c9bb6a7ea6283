/*
 * optimize_apply.c - --optimize applied to a run's options (see
 * optimize_apply.h).
 */
#include "optimize_apply.h"

#include <stdlib.h>
#include <string.h>

#include "../arch/gguf_keys.h"
#include "calib.h"

ckpt_status ckpt_opt_apply(struct ckpt_opt_apply *a, const char *model, struct ckpt_qsrc *src,
                           struct ckpt_quant_opts *q, const char *text, int64_t n_ctx,
                           int64_t max_chunks, ckpt_err *err)
{
    struct ckpt_opt_opts *oo = &a->opts;
    oo->mix = q->mix;
    oo->n_ctx = n_ctx;
    const int64_t ctx = n_ctx > 0 ? n_ctx : CKPT_CALIB_CTX;
    if (max_chunks > 0 && max_chunks < CKPT_OPT_SENS_TOKENS / ctx)
        oo->sens_tokens = max_chunks * ctx;
    ckpt_status st = ckpt_opt_meta_make(&a->meta, text, oo, err);
    if (st != CKPT_OK)
        return st;
    /* room for what a plain run of the mix does not write: the importance
     * matrix's keys and ours, the recipe's longer last step, and the
     * header's alignment */
    const char *ds = ckpt_imatrix_dataset(q->imatrix);
    struct ckpt_qsink_kv im_kv[] = {
        {CKPT_KEY_IMATRIX_FILE, CKPT_GGUF_STRING, {.str = q->imatrix_name ? q->imatrix_name : ""}},
        {CKPT_KEY_IMATRIX_DATASET, CKPT_GGUF_STRING, {.str = ds ? ds : ""}},
        {CKPT_KEY_IMATRIX_ENTRIES, CKPT_GGUF_INT32, {.i32 = 0}},
        {CKPT_KEY_IMATRIX_CHUNKS, CKPT_GGUF_INT32, {.i32 = 0}},
    };
    oo->reserve = ckpt_opt_kv_bytes(im_kv, 4) + ckpt_opt_kv_bytes(a->meta.kv, 2) + 32 +
                  oo->recipe_extra;
    if ((st = ckpt_opt_run(&a->res, model, src, q->imatrix, text, oo, err)) != CKPT_OK ||
        (st = ckpt_opt_tensor_types(&a->res, &a->types, err)) != CKPT_OK)
        return st;
    if (!(a->kv = calloc(q->n_kv + 2, sizeof *a->kv)))
        return ckpt_err_set(err, CKPT_E_NOMEM, "out of memory");
    if (q->n_kv)
        memcpy(a->kv, q->kv, q->n_kv * sizeof *a->kv);
    memcpy(a->kv + q->n_kv, a->meta.kv, sizeof a->meta.kv);
    q->kv = a->kv;
    q->n_kv += 2;
    q->tensor_types = a->types;
    return CKPT_OK;
}

ckpt_status ckpt_opt_apply_check(const struct ckpt_opt_apply *a, bool on, bool report,
                                 bool calib, bool ct_scheme, const struct ckpt_quant_opts *q,
                                 ckpt_err *err)
{
    const struct ckpt_opt_opts *oo = &a->opts;
    if (on && !calib)
        return ckpt_err_set(err, CKPT_E_USAGE, "--optimize needs --calib TEXT");
    /* --gptq also rounds the compressed-tensors schemes */
    if (!on && (report || (oo->gptq && !ct_scheme) || oo->target_bpw > 0 ||
                oo->target_bytes > 0))
        return ckpt_err_set(err, CKPT_E_USAGE, "--report, --gptq, --target-bpw and "
                            "--target-size need --optimize (--gptq: or -t W8A16|W8A8|W4A16)");
    if (oo->gptq && !calib)
        return ckpt_err_set(err, CKPT_E_USAGE, "--gptq needs --calib TEXT");
    if (on && (q->pure || q->tensor_types || q->output_type >= 0 || q->token_embd_type >= 0 ||
               q->leave_output))
        return ckpt_err_set(err, CKPT_E_USAGE, "--optimize chooses every matrix's type: it "
                            "excludes --pure, --tensor-type, --output-tensor-type, "
                            "--token-embedding-type and --leave-output-tensor");
    if (oo->target_bpw > 0 && oo->target_bytes > 0)
        return ckpt_err_set(err, CKPT_E_USAGE, "--target-bpw and --target-size exclude each "
                            "other");
    return CKPT_OK;
}

struct ckpt_qsrc *ckpt_opt_apply_source(const struct ckpt_opt_apply *a, struct ckpt_qsrc *src)
{
    return ckpt_opt_source(&a->res, src);
}

void ckpt_opt_apply_free(struct ckpt_opt_apply *a)
{
    ckpt_opt_result_free(&a->res);
    ckpt_qtt_free(a->types);
    free(a->kv);
    a->types = NULL;
    a->kv = NULL;
}
