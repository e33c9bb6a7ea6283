/*
 * hfparams.c - params.json of Mistral's own checkpoint layout (hfdir.h),
 * read as the config.json transformers' conversion script would write for
 * it: each key renamed, then parsed by the config.json parser, so that both
 * layouts share one set of range and consistency checks.
 *
 * Where params.json says nothing, Mistral's reference code decides: no
 * sliding window, rope_theta 10000, untied output, one KV head per head.
 */
#include "hfdir.h"
#include "json_strict.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* params.json key -> config.json key; `need` marks the core sizes. */
static const struct {
    const char *from, *to;
    bool need;
} renames[] = {
    {"dim", "hidden_size", true},
    {"n_layers", "num_hidden_layers", true},
    {"n_heads", "num_attention_heads", true},
    {"hidden_dim", "intermediate_size", true},
    {"vocab_size", "vocab_size", true},
    {"n_kv_heads", "num_key_value_heads", false},
    {"head_dim", "head_dim", false},
    {"norm_eps", "rms_norm_eps", false},
    {"rope_theta", "rope_theta", false},
    {"sliding_window", "sliding_window", false},
    {"max_position_embeddings", "max_position_embeddings", false},
    {"max_seq_len", "max_position_embeddings", false},
    {"moe.num_experts", "num_local_experts", false},
    {"moe.num_experts_per_tok", "num_experts_per_tok", false},
};

/* "moe.num_experts" looks in the "moe" object. */
static const cJSON *lookup(const cJSON *root, const char *key)
{
    const char *dot = strchr(key, '.');
    if (!dot)
        return cJSON_GetObjectItemCaseSensitive(root, key);
    char outer[16];
    snprintf(outer, sizeof outer, "%.*s", (int)(dot - key), key);
    const cJSON *o = cJSON_GetObjectItemCaseSensitive(root, outer);
    return cJSON_IsObject(o) ? cJSON_GetObjectItemCaseSensitive(o, dot + 1) : NULL;
}

static bool add(cJSON *cfg, const char *key, cJSON *v)
{
    if (!v)
        return false;
    if (cJSON_GetObjectItemCaseSensitive(cfg, key)) { /* max_seq_len after the real key */
        cJSON_Delete(v);
        return true;
    }
    return cJSON_AddItemToObject(cfg, key, v);
}

/* The config.json equivalent of a parsed params.json, or NULL (*st set). */
static cJSON *translate(const cJSON *root, const char *name, ckpt_status *st, ckpt_err *err)
{
    if (!cJSON_IsObject(root)) {
        *st = ckpt_err_set(err, CKPT_E_FORMAT, "%s: not a JSON object", name);
        return NULL;
    }
    const cJSON *moe = cJSON_GetObjectItemCaseSensitive(root, "moe");
    bool experts = moe && !cJSON_IsNull(moe);
    if (experts && !cJSON_IsObject(moe)) {
        *st = ckpt_err_set(err, CKPT_E_FORMAT, "%s: moe: expected an object", name);
        return NULL;
    }
    cJSON *cfg = cJSON_CreateObject(), *arch = cJSON_CreateArray();
    bool ok = cfg && arch && cJSON_AddItemToObject(cfg, "architectures", arch);
    if (!ok)
        cJSON_Delete(arch);
    ok = ok && cJSON_AddItemToArray(arch, cJSON_CreateString(experts ? "MixtralForCausalLM"
                                                                      : "MistralForCausalLM"));
    for (size_t i = 0; ok && i < sizeof renames / sizeof renames[0]; i++) {
        const cJSON *v = lookup(root, renames[i].from);
        if (!v && renames[i].need) {
            cJSON_Delete(cfg);
            *st = ckpt_err_set(err, CKPT_E_FORMAT, "%s: %s: missing (required)", name,
                               renames[i].from);
            return NULL;
        }
        ok = !v || add(cfg, renames[i].to, cJSON_Duplicate(v, true));
    }
    /* Mistral's defaults where the HF config class has others */
    ok = ok && (cJSON_GetObjectItemCaseSensitive(cfg, "rope_theta") ||
                cJSON_AddNumberToObject(cfg, "rope_theta", 10000.0));
    ok = ok && (cJSON_GetObjectItemCaseSensitive(cfg, "sliding_window") ||
                cJSON_AddNullToObject(cfg, "sliding_window"));
    if (!ok) {
        cJSON_Delete(cfg);
        *st = ckpt_err_set(err, CKPT_E_NOMEM, "%s: out of memory", name);
        return NULL;
    }
    return cfg;
}

ckpt_status ckpt_hf_params_config(char **out, const char *text, size_t len, const char *name,
                                  ckpt_err *err)
{
    *out = NULL;
    const struct ckpt_json_limits lim = {1u << 20, 0};
    ckpt_json *j = NULL;
    ckpt_status s = ckpt_json_parse(&j, text, len, name, &lim, NULL, err);
    if (s != CKPT_OK)
        return s;
    cJSON *hf = translate(ckpt_json_root(j), name, &s, err);
    ckpt_json_free(j);
    if (!hf)
        return s;
    *out = cJSON_PrintUnformatted(hf);
    cJSON_Delete(hf);
    return *out ? CKPT_OK : ckpt_err_set(err, CKPT_E_NOMEM, "%s: out of memory", name);
}

ckpt_status ckpt_hf_params_parse(struct ckpt_hf_config *cfg, const char *text, size_t len,
                                 const char *name, ckpt_err *err)
{
    memset(cfg, 0, sizeof *cfg);
    char *as_config = NULL;
    ckpt_status s = ckpt_hf_params_config(&as_config, text, len, name, err);
    if (s != CKPT_OK)
        return s;
    s = ckpt_hf_config_parse(cfg, as_config, strlen(as_config), name, err);
    free(as_config);
    if (s == CKPT_OK)
        cfg->scheme = ckpt_arch_scheme_by_name(cfg->arch, "mistral");
    if (s == CKPT_OK && !cfg->scheme)
        return ckpt_err_set(err, CKPT_E_UNSUPPORTED, "%s: %s has no Mistral-layout names", name,
                            cfg->arch->hf_class);
    return s;
}
