/*
 * recipe.c - ckpt-quant's recipe step (see recipe.h).
 */
#include "recipe.h"

#include <string.h>

#include "../formats/recipe.h"
#include "../kernels/types.h"

static bool add_strings(cJSON *step, const char *key, const char *const *v, size_t n)
{
    if (n == 0)
        return true;
    cJSON *a = cJSON_AddArrayToObject(step, key), *s;
    for (size_t i = 0; a && i < n; i++)
        if (!(s = cJSON_CreateString(v[i])) || !cJSON_AddItemToArray(a, s))
            return false;
    return a != NULL;
}

ckpt_status ckpt_quant_step_fill(cJSON *step, const struct ckpt_quant_step *o, ckpt_err *err)
{
    bool ok = (o->ct_scheme ? cJSON_AddStringToObject(step, "scheme", o->ct_scheme) != NULL
                            : cJSON_AddStringToObject(step, "mix", ckpt_mix_name(o->mix)) != NULL) &&
              (!o->ct_group || (o->ct_group < 0
                                    ? cJSON_AddStringToObject(step, "group_size", "channel")
                                    : cJSON_AddNumberToObject(step, "group_size",
                                                              (double)o->ct_group))) &&
              (!o->ct_search || cJSON_AddTrueToObject(step, "scale_search")) &&
              (!o->ct_max_shard ||
               cJSON_AddNumberToObject(step, "max_shard_size", (double)o->ct_max_shard)) &&
              (!o->pure || cJSON_AddTrueToObject(step, "pure")) &&
              (o->output_type < 0 ||
               cJSON_AddStringToObject(step, "output_tensor_type",
                                       ckpt_type_name((ckpt_type)o->output_type))) &&
              (o->token_embd_type < 0 ||
               cJSON_AddStringToObject(step, "token_embedding_type",
                                       ckpt_type_name((ckpt_type)o->token_embd_type))) &&
              add_strings(step, "tensor_types", o->tensor_types, o->n_tensor_types) &&
              add_strings(step, "override_kv", o->override_kv, o->n_override_kv) &&
              (!o->leave_output || cJSON_AddTrueToObject(step, "leave_output_tensor")) &&
              (!o->allow_requantize || cJSON_AddTrueToObject(step, "allow_requantize")) &&
              (!(o->imatrix || o->calib) ||
               cJSON_AddStringToObject(step, "imatrix_name",
                                       o->imatrix_name ? o->imatrix_name : "")) &&
              (!o->calib || o->calib_ctx <= 0 ||
               cJSON_AddNumberToObject(step, "calib_ctx", (double)o->calib_ctx)) &&
              (!o->calib || o->calib_chunks <= 0 ||
               cJSON_AddNumberToObject(step, "calib_chunks", (double)o->calib_chunks)) &&
              (!o->calib || cJSON_AddStringToObject(step, "calib_model",
                                                    o->calib_on_dir ? "directory" : "gguf")) &&
              (!o->calib || !o->calib_semantic ||
               cJSON_AddStringToObject(step, "calib_semantic", o->calib_semantic)) &&
              ckpt_recipe_add_split(step, o->split_bytes, o->split_tensors) &&
              (!o->optimize || cJSON_AddTrueToObject(step, "optimize")) &&
              (!(o->target_bpw > 0) ||
               cJSON_AddNumberToObject(step, "target_bpw", o->target_bpw)) &&
              (!o->target_bytes ||
               cJSON_AddNumberToObject(step, "target_size", (double)o->target_bytes)) &&
              (!o->gptq || cJSON_AddTrueToObject(step, "gptq")) &&
              (!o->optimize || !o->isa || cJSON_AddStringToObject(step, "optimize_isa", o->isa));
    return ok ? CKPT_OK : ckpt_err_set(err, CKPT_E_NOMEM, "recipe: out of memory");
}

ckpt_status ckpt_quant_recipe(char **out, const ckpt_gguf *source_meta,
                              const struct ckpt_quant_step *o, ckpt_err *err)
{
    *out = NULL;
    cJSON *prior = NULL, *step = NULL;
    ckpt_status s = ckpt_recipe_of_gguf(&prior, source_meta, "input", err);
    if (s != CKPT_OK || !prior)
        return s;
    if (o->calib && strcmp(o->calib, "-") == 0)
        s = ckpt_err_set(err, CKPT_E_USAGE, "--calib -: a text from standard input cannot be "
                         "recorded in the output's recipe; give a file (or --no-provenance)");
    else if (!(step = ckpt_recipe_step_new("ckpt-quant")))
        s = ckpt_err_set(err, CKPT_E_NOMEM, "recipe: out of memory");
    if (s == CKPT_OK)
        s = ckpt_quant_step_fill(step, o, err);
    /* the matrix the quantizer used, and the text when something ran on it
     * (the calibration, or --optimize's measurements) */
    const char *const files[2] = {o->imatrix, o->imatrix && !o->optimize ? NULL : o->calib};
    static const char *const roles[2] = {"imatrix", "calib"};
    uint8_t d[CKPT_SHA256_LEN];
    for (int i = 0; i < 2 && s == CKPT_OK; i++)
        if (files[i] && (s = ckpt_recipe_hash_file(files[i], d, err)) == CKPT_OK)
            s = ckpt_recipe_add_input(step, roles[i], files[i], d, err);
    if (s == CKPT_OK) {
        s = ckpt_recipe_extend(out, prior, step, err);
        step = NULL;
    }
    cJSON_Delete(step);
    cJSON_Delete(prior);
    return s;
}
