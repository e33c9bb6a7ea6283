/*
 * hfconfig.c - config.json of a checkpoint whose architecture has a
 * descriptor (arch/arch.h; hfdir.h).
 *
 * Defaults are the descriptor's (those of transformers' config class) for
 * a key that is absent, with two deliberate choices: the core sizes
 * (hidden_size, intermediate_size, num_hidden_layers, num_attention_heads,
 * vocab_size) are required, as llama.cpp's converter requires them, rather
 * than silently taking 7B values; and an absent num_key_value_heads means
 * one KV head per attention head (what a GGUF without head_count_kv means;
 * transformers' class default would be 8).
 */
#include "hfdir.h"
#include "json_strict.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define MAX_DIM (1u << 30)

static const cJSON *get(const cJSON *obj, const char *key)
{
    /* keys are unique (json_strict), so the first match is the only one */
    for (const cJSON *c = obj->child; c; c = c->next)
        if (strcmp(c->string, key) == 0)
            return c;
    return NULL;
}

/* A size: absent -> *present = false; null -> like absent when null_ok. */
static ckpt_status get_u32(const ckpt_json *j, const cJSON *obj, const char *name,
                           const char *key, bool required, bool null_ok, uint32_t *out,
                           bool *present, ckpt_err *err)
{
    const cJSON *v = get(obj, key);
    *present = false;
    if (!v || (null_ok && cJSON_IsNull(v))) {
        if (required)
            return ckpt_err_set(err, CKPT_E_FORMAT, "%s: %s: missing (required)", name, key);
        return CKPT_OK;
    }
    uint64_t u;
    if (!ckpt_json_u64(j, v, &u))
        return ckpt_err_set(err, CKPT_E_FORMAT, "%s: %s: expected a non-negative integer", name,
                            key);
    if (u == 0 || u > MAX_DIM)
        return ckpt_err_set(err, CKPT_E_RANGE, "%s: %s: %llu is out of range (1 to %u)", name, key,
                            (unsigned long long)u, MAX_DIM);
    *out = (uint32_t)u;
    *present = true;
    return CKPT_OK;
}

/* A positive finite real; absent or null keeps *out. */
static ckpt_status get_real(const cJSON *obj, const char *name, const char *key, double *out,
                            ckpt_err *err)
{
    const cJSON *v = get(obj, key);
    if (!v || cJSON_IsNull(v))
        return CKPT_OK;
    if (!cJSON_IsNumber(v))
        return ckpt_err_set(err, CKPT_E_FORMAT, "%s: %s: expected a number", name, key);
    if (!isfinite(v->valuedouble) || !(v->valuedouble > 0))
        return ckpt_err_set(err, CKPT_E_RANGE, "%s: %s: %g is not a positive number", name, key,
                            v->valuedouble);
    *out = v->valuedouble;
    return CKPT_OK;
}

/* A token id: integer >= 0, null -> -1, a list -> its first element. */
static ckpt_status get_token(const ckpt_json *j, const cJSON *obj, const char *name,
                             const char *key, int64_t *out, ckpt_err *err)
{
    const cJSON *v = get(obj, key);
    if (!v)
        return CKPT_OK;
    if (cJSON_IsArray(v)) {
        if (!v->child) {
            *out = -1;
            return CKPT_OK;
        }
        v = v->child;
    }
    if (cJSON_IsNull(v)) {
        *out = -1;
        return CKPT_OK;
    }
    uint64_t u;
    if (!ckpt_json_u64(j, v, &u) || u > INT32_MAX)
        return ckpt_err_set(err, CKPT_E_FORMAT, "%s: %s: expected a token id", name, key);
    *out = (int64_t)u;
    return CKPT_OK;
}

/* A string copied into buf; absent or null leaves buf empty. */
static ckpt_status get_str(const cJSON *obj, const char *name, const char *key, char *buf,
                           size_t n, ckpt_err *err)
{
    const cJSON *v = get(obj, key);
    if (!v || cJSON_IsNull(v))
        return CKPT_OK;
    if (!cJSON_IsString(v))
        return ckpt_err_set(err, CKPT_E_FORMAT, "%s: %s: expected a string", name, key);
    if (strlen(v->valuestring) >= n)
        return ckpt_err_set(err, CKPT_E_RANGE, "%s: %s: longer than %zu bytes", name, key, n - 1);
    strcpy(buf, v->valuestring);
    return CKPT_OK;
}

void ckpt_hf_config_dims(const struct ckpt_hf_config *c, uint64_t dims[CKPT_DIM_COUNT])
{
    dims[CKPT_DIM_NONE] = 0;
    dims[CKPT_DIM_VOCAB] = c->vocab_size;
    dims[CKPT_DIM_HIDDEN] = c->hidden_size;
    dims[CKPT_DIM_Q] = (uint64_t)c->n_heads * c->head_dim;
    dims[CKPT_DIM_KV] = (uint64_t)c->n_kv_heads * c->head_dim;
    dims[CKPT_DIM_FFN] = c->intermediate_size;
    dims[CKPT_DIM_EXPERTS] = c->n_experts;
    dims[CKPT_DIM_HEADS] = c->n_heads;
    dims[CKPT_DIM_KV_HEADS] = c->n_kv_heads;
}

/*
 * Multimodal wrappers whose language model is an architecture of ours:
 * its config is the object `sub`, its tensors the scheme `scheme` (the
 * other models' tensors are left out, as llama.cpp's converter does).
 */
static const struct wrapper {
    const char *hf_class, *sub, *scheme;
} wrappers[] = {
    {"Mistral3ForConditionalGeneration", "text_config", "hf-language-model"},
};

static const struct wrapper *wrapper_of(const cJSON *root)
{
    const cJSON *a = cJSON_IsObject(root) ? get(root, "architectures") : NULL;
    if (!cJSON_IsArray(a) || !cJSON_IsString(a->child))
        return NULL;
    for (size_t i = 0; i < sizeof wrappers / sizeof wrappers[0]; i++)
        if (strcmp(a->child->valuestring, wrappers[i].hf_class) == 0)
            return &wrappers[i];
    return NULL;
}

/* The descriptor from "architectures"[0], else from "model_type". */
static ckpt_status pick_arch(struct ckpt_hf_config *cfg, const cJSON *root, const char *name,
                             ckpt_err *err)
{
    char pbuf[80], supported[160];
    const cJSON *a = get(root, "architectures");
    if (a && !cJSON_IsNull(a)) {
        if (!cJSON_IsArray(a))
            return ckpt_err_set(err, CKPT_E_FORMAT, "%s: architectures: expected a list", name);
        if (a->child) {
            if (!cJSON_IsString(a->child))
                return ckpt_err_set(err, CKPT_E_FORMAT, "%s: architectures: expected strings",
                                    name);
            const char *s = a->child->valuestring;
            if (!(cfg->arch = ckpt_arch_by_hf_class(s)))
                return ckpt_err_set(err, CKPT_E_UNSUPPORTED,
                                    "%s: unsupported architecture %s (supported: %s)", name,
                                    ckpt_json_printable(s, pbuf, sizeof pbuf),
                                    ckpt_arch_supported(supported, sizeof supported));
            snprintf(cfg->architecture, sizeof cfg->architecture, "%s", s);
            return CKPT_OK;
        }
    }
    if (!(cfg->arch = ckpt_arch_by_model_type(cfg->model_type)))
        return ckpt_err_set(err, CKPT_E_UNSUPPORTED,
                            "%s: unsupported architecture %s (supported: %s)", name,
                            cfg->model_type[0] ? cfg->model_type : "(none given)",
                            ckpt_arch_supported(supported, sizeof supported));
    return CKPT_OK;
}

/* quantization_config.weight_block_size of FP8 checkpoints: two sizes or
 * null/absent. */
static ckpt_status block_size(struct ckpt_hf_config *cfg, const ckpt_json *j, const cJSON *q,
                              const char *name, ckpt_err *err)
{
    const cJSON *bs = get(q, "weight_block_size");
    if (!bs || cJSON_IsNull(bs))
        return CKPT_OK;
    if (!cJSON_IsArray(bs) || cJSON_GetArraySize(bs) != 2)
        return ckpt_err_set(err, CKPT_E_FORMAT,
                            "%s: quantization_config.weight_block_size: expected two numbers",
                            name);
    for (int i = 0; i < 2; i++) {
        uint64_t u;
        if (!ckpt_json_u64(j, cJSON_GetArrayItem(bs, i), &u) || u < 1 || u > 65536)
            return ckpt_err_set(err, CKPT_E_FORMAT,
                                "%s: quantization_config.weight_block_size: expected two "
                                "integers from 1 to 65536", name);
        cfg->weight_block_size[i] = (uint32_t)u;
    }
    return CKPT_OK;
}

/* rope_scaling must be absent or null; newer configs carry the theta in
 * rope_parameters, whose rope_type must be "default". */
static ckpt_status rope(struct ckpt_hf_config *cfg, const cJSON *root, const char *name,
                        ckpt_err *err)
{
    const cJSON *rs = get(root, "rope_scaling");
    if (rs) {
        if (!cJSON_IsNull(rs))
            return ckpt_err_set(err, CKPT_E_UNSUPPORTED,
                                "%s: rope_scaling: RoPE scaling is not supported", name);
        cfg->has_rope_scaling_key = true;
    }
    ckpt_status s = get_real(root, name, "rope_theta", &cfg->rope_theta, err);
    const cJSON *rp = get(root, "rope_parameters");
    if (s != CKPT_OK || !rp || cJSON_IsNull(rp))
        return s;
    if (!cJSON_IsObject(rp))
        return ckpt_err_set(err, CKPT_E_FORMAT, "%s: rope_parameters: expected an object", name);
    char type[32] = "";
    if ((s = get_str(rp, name, "rope_type", type, sizeof type, err)) != CKPT_OK)
        return s;
    if (type[0] && strcmp(type, "default") != 0)
        return ckpt_err_set(err, CKPT_E_UNSUPPORTED,
                            "%s: rope_parameters: rope_type '%s' is not supported", name, type);
    return get_real(rp, name, "rope_theta", &cfg->rope_theta, err);
}

static ckpt_status parse_root(struct ckpt_hf_config *cfg, const ckpt_json *j, const cJSON *root,
                              const char *name, ckpt_err *err)
{
    ckpt_status s;
    bool present, has_kv, has_hd;
    if (!cJSON_IsObject(root))
        return ckpt_err_set(err, CKPT_E_FORMAT, "%s: not a JSON object", name);
#define TRY(x)                                                                                     \
    do {                                                                                           \
        if ((s = (x)) != CKPT_OK)                                                                  \
            return s;                                                                              \
    } while (0)
    TRY(get_str(root, name, "model_type", cfg->model_type, sizeof cfg->model_type, err));
    TRY(pick_arch(cfg, root, name, err));
    const struct ckpt_arch_defaults *d = &cfg->arch->defaults;
    const unsigned feat = cfg->arch->features;
    const bool experts = feat & CKPT_FEAT_EXPERTS;

    cfg->max_position_embeddings = 4096 * 32;
    cfg->rms_norm_eps = d->rms_norm_eps;
    cfg->rope_theta = d->rope_theta;
    cfg->has_sliding_window = d->sliding_window > 0;
    cfg->sliding_window = d->sliding_window;
    cfg->n_experts = d->n_experts;
    cfg->n_experts_per_tok = d->n_experts_per_tok;
    cfg->bos_token_id = 1;
    cfg->eos_token_id = 2;

    TRY(get_u32(j, root, name, "hidden_size", true, false, &cfg->hidden_size, &present, err));
    TRY(get_u32(j, root, name, "intermediate_size", true, false, &cfg->intermediate_size,
                &present, err));
    TRY(get_u32(j, root, name, "num_hidden_layers", true, false, &cfg->n_layers, &present, err));
    TRY(get_u32(j, root, name, "num_attention_heads", true, false, &cfg->n_heads, &present, err));
    TRY(get_u32(j, root, name, "vocab_size", true, false, &cfg->vocab_size, &present, err));
    TRY(get_u32(j, root, name, "num_key_value_heads", false, true, &cfg->n_kv_heads, &has_kv,
                err));
    TRY(get_u32(j, root, name, "head_dim", false, true, &cfg->head_dim, &has_hd, err));
    uint32_t mpe = 0;
    TRY(get_u32(j, root, name, "max_position_embeddings", false, true, &mpe, &present, err));
    if (present)
        cfg->max_position_embeddings = mpe;
    TRY(get_real(root, name, "rms_norm_eps", &cfg->rms_norm_eps, err));
    TRY(rope(cfg, root, name, err));

    /* an architecture without windowed attention ignores the key, as
     * transformers' config class does */
    const cJSON *sw = feat & CKPT_FEAT_SLIDING_WINDOW ? get(root, "sliding_window") : NULL;
    if (sw && cJSON_IsNull(sw)) {
        cfg->has_sliding_window = false;
        cfg->sliding_window = 0;
    } else if (sw) {
        TRY(get_u32(j, root, name, "sliding_window", false, false, &cfg->sliding_window,
                    &present, err));
        cfg->has_sliding_window = true;
    }
    const cJSON *tie = get(root, "tie_word_embeddings");
    if (tie && !cJSON_IsNull(tie)) {
        if (!cJSON_IsBool(tie))
            return ckpt_err_set(err, CKPT_E_FORMAT, "%s: tie_word_embeddings: expected true or "
                                "false", name);
        cfg->tie_word_embeddings = cJSON_IsTrue(tie);
    }
    if (experts) {
        TRY(get_u32(j, root, name, "num_local_experts", false, true, &cfg->n_experts, &present,
                    err));
        TRY(get_u32(j, root, name, "num_experts_per_tok", false, true, &cfg->n_experts_per_tok,
                    &present, err));
    }
    TRY(get_token(j, root, name, "bos_token_id", &cfg->bos_token_id, err));
    TRY(get_token(j, root, name, "eos_token_id", &cfg->eos_token_id, err));
    TRY(get_str(root, name, "torch_dtype", cfg->torch_dtype, sizeof cfg->torch_dtype, err));
    if (!cfg->torch_dtype[0])
        TRY(get_str(root, name, "dtype", cfg->torch_dtype, sizeof cfg->torch_dtype, err));

    const cJSON *q = get(root, "quantization_config");
    if (q && !cJSON_IsNull(q)) {
        if (!cJSON_IsObject(q))
            return ckpt_err_set(err, CKPT_E_FORMAT, "%s: quantization_config: expected an object",
                                name);
        cfg->has_quantization_config = true;
        TRY(get_str(q, name, "quant_method", cfg->quant_method, sizeof cfg->quant_method, err));
        TRY(block_size(cfg, j, q, name, err));
    }
#undef TRY

    /* consistency */
    if (!has_kv)
        cfg->n_kv_heads = cfg->n_heads;
    if (cfg->n_heads % cfg->n_kv_heads != 0)
        return ckpt_err_set(err, CKPT_E_RANGE,
                            "%s: num_key_value_heads: %u does not divide num_attention_heads %u",
                            name, cfg->n_kv_heads, cfg->n_heads);
    if (!has_hd) {
        if (cfg->hidden_size % cfg->n_heads != 0)
            return ckpt_err_set(err, CKPT_E_RANGE,
                                "%s: num_attention_heads: %u does not divide hidden_size %u "
                                "(and head_dim is not given)",
                                name, cfg->n_heads, cfg->hidden_size);
        cfg->head_dim = cfg->hidden_size / cfg->n_heads;
    }
    if (cfg->head_dim % 2 != 0)
        return ckpt_err_set(err, CKPT_E_RANGE, "%s: head_dim: %u is odd (RoPE rotates pairs)",
                            name, cfg->head_dim);
    if ((uint64_t)cfg->n_heads * cfg->head_dim > MAX_DIM)
        return ckpt_err_set(err, CKPT_E_RANGE, "%s: num_attention_heads * head_dim is too large",
                            name);
    if (experts && cfg->n_experts_per_tok > cfg->n_experts)
        return ckpt_err_set(err, CKPT_E_RANGE,
                            "%s: num_experts_per_tok: %u is more than num_local_experts %u", name,
                            cfg->n_experts_per_tok, cfg->n_experts);
    return CKPT_OK;
}

ckpt_status ckpt_hf_config_parse(struct ckpt_hf_config *cfg, const char *text, size_t len,
                                 const char *name, ckpt_err *err)
{
    memset(cfg, 0, sizeof *cfg);
    const struct ckpt_json_limits lim = {1u << 20, 0};
    ckpt_json *j = NULL;
    ckpt_status s = ckpt_json_parse(&j, text, len, name, &lim, NULL, err);
    if (s != CKPT_OK)
        return s;
    const cJSON *root = ckpt_json_root(j);
    const struct wrapper *w = wrapper_of(root);
    const cJSON *sub = w ? get(root, w->sub) : NULL;
    if (w && !cJSON_IsObject(sub))
        s = ckpt_err_set(err, CKPT_E_FORMAT, "%s: %s: expected an object (the %s's language "
                         "model)", name, w->sub, w->hf_class);
    else
        s = parse_root(cfg, j, w ? sub : root, name, err);
    ckpt_json_free(j);
    if (s == CKPT_OK)
        cfg->scheme = w ? ckpt_arch_scheme_by_name(cfg->arch, w->scheme) : &cfg->arch->schemes[0];
    if (s == CKPT_OK && !cfg->scheme)
        s = ckpt_err_set(err, CKPT_E_UNSUPPORTED, "%s: a %s around a %s is not supported", name,
                         w->hf_class, cfg->arch->hf_class);
    return s;
}
