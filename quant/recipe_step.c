/*
 * recipe_step.c - a ckpt-quant run's recipe step from its options (see
 * recipe.h).
 */
#include "recipe.h"

#include "../kernels/dispatch.h"
#include "ct_scheme.h"
#include "source.h"

void ckpt_quant_step_set(struct ckpt_quant_step *step, const char *in,
                         const struct ckpt_quant_opts *o, const char *imatrix_path,
                         const struct ckpt_calib_opts *co, const struct ckpt_opt_opts *opt,
                         bool optimize, const struct ckpt_ct_sink_opts *ct)
{
    step->mix = o->mix;
    step->pure = o->pure;
    step->leave_output = o->leave_output;
    step->allow_requantize = !o->refuse_requantize;
    step->output_type = o->output_type;
    step->token_embd_type = o->token_embd_type;
    step->imatrix = imatrix_path;
    step->calib = co->text;
    step->imatrix_name = imatrix_path ? imatrix_path : o->imatrix_name;
    step->calib_ctx = co->n_ctx;
    step->calib_chunks = co->max_chunks;
    step->calib_on_dir = co->text && ckpt_qsrc_is_model_dir(in);
    step->calib_semantic = co->semantic ? co->semantic : ckpt_isa_semantic(ckpt_isa_default());
    step->split_bytes = o->split_bytes;
    step->split_tensors = o->split_tensors;
    step->optimize = optimize;
    step->gptq = opt->gptq;
    step->target_bpw = opt->target_bpw;
    step->target_bytes = opt->target_bytes;
    step->isa = ckpt_isa_name(ckpt_isa_default());
    step->ct_scheme = ct->scheme >= 0 ? ckpt_ct_scheme_at(ct->scheme)->name : NULL;
    step->ct_group = ct->group_size;
    step->ct_search = ct->search;
    step->ct_max_shard = ct->max_shard_bytes;
}
