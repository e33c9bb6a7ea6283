/*
 * ct_scheme.c - the compressed-tensors schemes and their config (see
 * ct_scheme.h).
 */
#include "ct_scheme.h"

#include <stddef.h>
#include <strings.h>

static const struct ckpt_ct_scheme_info schemes[CKPT_CT_COUNT] = {
    [CKPT_CT_W8A16] = {"W8A16", 8, true, false, "pack-quantized", 0,
                       "int8 weights per channel, packed; float activations"},
    [CKPT_CT_W8A8] = {"W8A8", 8, false, true, "int-quantized", 0,
                      "int8 weights per channel; int8 activations per token (dynamic)"},
    [CKPT_CT_W4A16] = {"W4A16", 4, true, false, "pack-quantized", 128,
                       "int4 weights per group of 128, packed (Marlin); float activations"},
};

const struct ckpt_ct_scheme_info *ckpt_ct_scheme_at(int s)
{
    return s >= 0 && s < CKPT_CT_COUNT ? &schemes[s] : NULL;
}

int ckpt_ct_scheme_parse(const char *name)
{
    for (int s = 0; s < CKPT_CT_COUNT; s++)
        if (strcasecmp(name, schemes[s].name) == 0)
            return s;
    return -1;
}

/* The Linear modules targets ["Linear"] reaches, and what `ignore` takes
 * back out (ignored[] below).  Everything else is not a Linear. */
static const ckpt_role linear_roles[] = {
    CKPT_ROLE_ATTN_Q, CKPT_ROLE_ATTN_K, CKPT_ROLE_ATTN_V, CKPT_ROLE_ATTN_OUTPUT,
    CKPT_ROLE_FFN_GATE, CKPT_ROLE_FFN_UP, CKPT_ROLE_FFN_DOWN,
    CKPT_ROLE_FFN_GATE_EXPS, CKPT_ROLE_FFN_DOWN_EXPS, CKPT_ROLE_FFN_UP_EXPS,
};

/* Linear modules left in float, as the ignore list names them. */
static const struct {
    const char *pattern;
    bool experts_only;
} ignored[] = {
    {"lm_head", false},
    {"re:.*block_sparse_moe.gate", true}, /* the router: vLLM runs it in float */
};

bool ckpt_ct_role_quantized(ckpt_role role, uint32_t n_dims)
{
    if (n_dims < 2)
        return false;
    for (size_t i = 0; i < sizeof linear_roles / sizeof linear_roles[0]; i++)
        if (linear_roles[i] == role)
            return true;
    return false;
}

/* QuantizationArgs with every field spelled out. */
static cJSON *args(int bits, const char *strategy, int64_t group, bool dynamic,
                   const char *observer)
{
    cJSON *a = cJSON_CreateObject();
    if (!a)
        return NULL;
    cJSON_AddNullToObject(a, "actorder");
    cJSON_AddNullToObject(a, "block_structure");
    cJSON_AddBoolToObject(a, "dynamic", dynamic);
    if (group > 0)
        cJSON_AddNumberToObject(a, "group_size", (double)group);
    else
        cJSON_AddNullToObject(a, "group_size");
    cJSON_AddNumberToObject(a, "num_bits", bits);
    if (observer)
        cJSON_AddStringToObject(a, "observer", observer);
    else
        cJSON_AddNullToObject(a, "observer"); /* dynamic: none (quant_args.py) */
    cJSON_AddItemToObject(a, "observer_kwargs", cJSON_CreateObject());
    cJSON_AddNullToObject(a, "scale_dtype");
    cJSON_AddStringToObject(a, "strategy", strategy);
    cJSON_AddBoolToObject(a, "symmetric", true);
    cJSON_AddStringToObject(a, "type", "int");
    cJSON_AddNullToObject(a, "zp_dtype");
    return a;
}

const char *ckpt_ct_observer(ckpt_ct_scales how, bool gptq)
{
    static const char *const names[2][3] = {{"minmax", "mse", "imatrix_mse"},
                                            {"gptq_minmax", "gptq_mse", "gptq_imatrix_mse"}};
    return names[gptq][how];
}

cJSON *ckpt_ct_quant_config(const struct ckpt_ct_scheme_info *s, int64_t group, bool experts,
                            ckpt_ct_scales how, bool gptq)
{
    cJSON *qc = cJSON_CreateObject(), *groups = cJSON_CreateObject(),
          *g0 = cJSON_CreateObject(), *targets = cJSON_CreateArray(),
          *ign = cJSON_CreateArray();
    cJSON *w = args(s->bits, group > 0 ? "group" : "channel", group, false,
                    ckpt_ct_observer(how, gptq));
    cJSON *in = s->act_int8 ? args(8, "token", 0, true, NULL) : cJSON_CreateNull();
    if (!qc || !groups || !g0 || !targets || !ign || !w || !in) {
        cJSON_Delete(qc);
        cJSON_Delete(groups);
        cJSON_Delete(g0);
        cJSON_Delete(targets);
        cJSON_Delete(ign);
        cJSON_Delete(w);
        cJSON_Delete(in);
        return NULL;
    }
    cJSON_AddItemToArray(targets, cJSON_CreateString("Linear"));
    cJSON_AddItemToObject(g0, "input_activations", in);
    cJSON_AddNullToObject(g0, "output_activations");
    cJSON_AddItemToObject(g0, "targets", targets);
    cJSON_AddItemToObject(g0, "weights", w);
    cJSON_AddItemToObject(groups, "group_0", g0);
    for (size_t i = 0; i < sizeof ignored / sizeof ignored[0]; i++)
        if (experts || !ignored[i].experts_only)
            cJSON_AddItemToArray(ign, cJSON_CreateString(ignored[i].pattern));
    cJSON_AddItemToObject(qc, "config_groups", groups);
    cJSON_AddStringToObject(qc, "format", s->format);
    cJSON_AddNullToObject(qc, "global_compression_ratio");
    cJSON_AddItemToObject(qc, "ignore", ign);
    cJSON_AddNullToObject(qc, "kv_cache_scheme");
    cJSON_AddStringToObject(qc, "quant_method", "compressed-tensors");
    cJSON_AddStringToObject(qc, "quantization_status", "compressed");
    return qc;
}
