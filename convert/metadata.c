/*
 * metadata.c - the general.* and <arch>.* keys of a converted GGUF (the
 * descriptor's GGUF architecture, "llama" for the whole llama family), in
 * the converter's order (see metadata.h), then the tokenizer keys (vocab.c).
 */
#include "metadata.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../arch/gguf_keys.h"
#include "../formats/mapfile.h"
#include "../formats/recipe.h"
#include "modelname.h"
#include "recipe.h"
#include "vocab.h"

#define TRY(x)                                                                                     \
    do {                                                                                           \
        ckpt_status s_ = (x);                                                                      \
        if (s_ != CKPT_OK)                                                                         \
            return s_;                                                                             \
    } while (0)

static ckpt_status set_str_if(ckpt_gguf_writer *w, const char *key, const char *v, ckpt_err *err)
{
    return v[0] ? ckpt_gguf_writer_set_str(w, key, v, err) : CKPT_OK;
}

/* SHA-256 (hex) of a file of the model directory. */
static ckpt_status file_sha256(const struct ckpt_source *src, const char *name, char hex[65],
                               ckpt_err *err)
{
    char *path = ckpt_source_file(src, name);
    ckpt_map *m = NULL;
    ckpt_status s = path ? ckpt_map_open(&m, path, err)
                         : ckpt_err_set(err, CKPT_E_NOMEM, "out of memory");
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (s == CKPT_OK && (EVP_Digest(m->data ? (const void *)m->data : "", m->size, md, &len,
                                    EVP_sha256(), NULL) != 1 || len != 32))
        s = ckpt_err_set(err, CKPT_E_INTERNAL, "%s: SHA-256 failed", path);
    for (unsigned i = 0; s == CKPT_OK && i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", md[i]);
    ckpt_map_close(m);
    free(path);
    return s;
}

/* The recipe: this conversion as the first step.  set: a new key, else
 * the key restated (the digests in place of their placeholders). */
static ckpt_status recipe(ckpt_gguf_writer *w, const struct ckpt_source *src,
                          const struct ckpt_meta_opts *o, bool set, ckpt_err *err)
{
    const struct ckpt_convert_step cs = {o->out_type, o->vocab_only, o->allow_nonfinite,
                                         o->split_bytes, o->split_tensors};
    struct ckpt_convert_inputs *own = NULL;
    cJSON *step = NULL;
    char *text = NULL;
    ckpt_status s = CKPT_OK;
    if (!o->inputs && (s = ckpt_convert_inputs_list(&own, src, 0, err)) == CKPT_OK)
        s = ckpt_convert_inputs_hash(own, false, err);
    if (s == CKPT_OK)
        s = ckpt_convert_step_make(&step, o->inputs ? o->inputs : own, &cs, err);
    if (s == CKPT_OK)
        s = ckpt_recipe_extend(&text, NULL, step, err);
    if (s == CKPT_OK)
        s = (set ? ckpt_gguf_writer_set_str : ckpt_gguf_writer_restate_str)(
            w, CKPT_KEY_SOURCE_CKPT_RECIPE, text, err);
    free(text);
    ckpt_convert_inputs_free(own);
    return s;
}

ckpt_status ckpt_meta_restate_recipe(ckpt_gguf_writer *w, const struct ckpt_source *src,
                                     const struct ckpt_meta_opts *o, ckpt_err *err)
{
    if (!o->inputs)
        return ckpt_err_set(err, CKPT_E_USAGE, "recipe restated without its inputs");
    ckpt_status s = ckpt_convert_inputs_wait(o->inputs, err);
    return s == CKPT_OK ? recipe(w, src, o, false, err) : s;
}

static ckpt_status provenance(ckpt_gguf_writer *w, const struct ckpt_source *src,
                              const struct ckpt_meta_opts *o, ckpt_err *err)
{
    if (src->hub_repo[0]) {
        char url[512];
        snprintf(url, sizeof url, "https://huggingface.co/%s/tree/%s", src->hub_repo,
                 src->hub_commit);
        TRY(ckpt_gguf_writer_set_str(w, CKPT_KEY_SOURCE_URL, url, err));
        snprintf(url, sizeof url, "https://huggingface.co/%s", src->hub_repo);
        TRY(ckpt_gguf_writer_set_str(w, CKPT_KEY_SOURCE_REPO_URL, url, err));
    }
    TRY(ckpt_gguf_writer_set_str(w, CKPT_KEY_SOURCE_CKPT_NAME, src->name, err));
    TRY(ckpt_gguf_writer_set_str(w, CKPT_KEY_SOURCE_CONFIG_SHA256, src->config_sha256,
                                 err));
    const char *tok = ckpt_vocab_file(src);
    if (tok) {
        char hex[65];
        TRY(file_sha256(src, tok, hex, err));
        TRY(ckpt_gguf_writer_set_str(w, CKPT_KEY_SOURCE_TOKENIZER_SHA256, hex, err));
    }
    return recipe(w, src, o, true, err);
}

/* Metadata.set_gguf_meta_model: the naming keys, then the source keys. */
static ckpt_status general(ckpt_gguf_writer *w, const struct ckpt_source *src,
                           const struct ckpt_plan *plan, const struct ckpt_meta_opts *o,
                           ckpt_err *err)
{
    const cJSON *nop = ckpt_source_param(src, "_name_or_path");
    struct ckpt_param_count pc = {plan->n_params, plan->n_shared_params, plan->n_expert_params,
                                  plan->expert_count};
    if (o->vocab_only)
        pc = (struct ckpt_param_count){0};
    struct ckpt_model_id id;
    /* a hub snapshot stands for its repository, which names the model as
     * the converter names one given by its hub id ("org/name") */
    ckpt_model_id_derive(&id, cJSON_IsString(nop) ? nop->valuestring : NULL,
                         src->hub_repo[0] ? src->hub_repo : src->name, &pc);
    TRY(ckpt_gguf_writer_set_str(w, CKPT_KEY_NAME, id.name, err));
    TRY(set_str_if(w, CKPT_KEY_VERSION, id.version, err));
    TRY(set_str_if(w, CKPT_KEY_ORGANIZATION, id.organization, err));
    TRY(set_str_if(w, CKPT_KEY_FINETUNE, id.finetune, err));
    TRY(set_str_if(w, CKPT_KEY_BASENAME, id.basename, err));
    TRY(set_str_if(w, CKPT_KEY_SIZE_LABEL, id.size_label, err));
    return o->provenance ? provenance(w, src, o, err) : CKPT_OK;
}

/* Model.set_gguf_parameters + LlamaModel.set_gguf_parameters. */
static ckpt_status hparams(ckpt_gguf_writer *w, const struct ckpt_source *src,
                           const struct ckpt_meta_opts *o, ckpt_err *err)
{
    const struct ckpt_hf_config *c = &src->cfg;
    bool moe = c->arch->features & CKPT_FEAT_EXPERTS;
    char kb[CKPT_GGUF_KEY_MAX];
#define HAS(k) (ckpt_source_param(src, k) != NULL)
#define K(suffix) ckpt_gguf_key(kb, c->arch->gguf_arch, suffix)
    TRY(ckpt_gguf_writer_set_u32(w, K(CKPT_KEY_BLOCK_COUNT), c->n_layers, err));
    TRY(ckpt_gguf_writer_set_u32(w, K(CKPT_KEY_CONTEXT_LENGTH),
                                 (uint32_t)(c->max_position_embeddings > UINT32_MAX
                                                ? UINT32_MAX
                                                : c->max_position_embeddings),
                                 err));
    TRY(ckpt_gguf_writer_set_u32(w, K(CKPT_KEY_EMBEDDING_LENGTH), c->hidden_size, err));
    TRY(ckpt_gguf_writer_set_u32(w, K(CKPT_KEY_FEED_FORWARD_LENGTH), c->intermediate_size, err));
    TRY(ckpt_gguf_writer_set_u32(w, K(CKPT_KEY_HEAD_COUNT), c->n_heads, err));
    if (HAS("num_key_value_heads"))
        TRY(ckpt_gguf_writer_set_u32(w, K(CKPT_KEY_HEAD_COUNT_KV), c->n_kv_heads, err));
    if (HAS("rope_theta") || c->rope_theta != 10000.0)
        TRY(ckpt_gguf_writer_set_f32(w, K(CKPT_KEY_ROPE_FREQ_BASE), (float)c->rope_theta, err));
    TRY(ckpt_gguf_writer_set_f32(w, K(CKPT_KEY_RMS_EPS),
                                 (float)c->rms_norm_eps, err));
    static const char *const eps_keys[] = {"layer_norm_eps", "layer_norm_epsilon", "norm_epsilon"};
    for (int i = 0; i < 3; i++) {
        const cJSON *v = ckpt_source_param(src, eps_keys[i]);
        if (cJSON_IsNumber(v)) {
            TRY(ckpt_gguf_writer_set_f32(w, K(CKPT_KEY_NORM_EPS),
                                         (float)v->valuedouble, err));
            break;
        }
    }
    if (HAS("num_local_experts") || moe)
        TRY(ckpt_gguf_writer_set_u32(w, K(CKPT_KEY_EXPERT_COUNT), c->n_experts, err));
    if (HAS("num_experts_per_tok") || moe)
        TRY(ckpt_gguf_writer_set_u32(w, K(CKPT_KEY_EXPERT_USED_COUNT), c->n_experts_per_tok, err));
    if (HAS("head_dim")) {
        TRY(ckpt_gguf_writer_set_u32(w, K(CKPT_KEY_KEY_LENGTH), c->head_dim, err));
        TRY(ckpt_gguf_writer_set_u32(w, K(CKPT_KEY_VALUE_LENGTH), c->head_dim, err));
    }
#undef HAS
    TRY(ckpt_gguf_writer_set_u32(w, CKPT_KEY_FILE_TYPE, o->file_type, err));
    /* --mistral-format writes it with the vocabulary instead (vocab_mistral.c) */
    if (!ckpt_vocab_mistral_keys(src))
        TRY(ckpt_gguf_writer_set_u32(w, K(CKPT_KEY_VOCAB_SIZE), c->vocab_size, err));
    return ckpt_gguf_writer_set_u32(w, K(CKPT_KEY_ROPE_DIMS), c->head_dim, err);
#undef K
}

ckpt_status ckpt_meta_add(ckpt_gguf_writer *w, const struct ckpt_source *src,
                          const struct ckpt_plan *plan, const struct ckpt_meta_opts *o,
                          ckpt_err *err)
{
    TRY(ckpt_gguf_writer_set_str(w, CKPT_KEY_ARCHITECTURE, src->cfg.arch->gguf_arch, err));
    TRY(ckpt_gguf_writer_set_str(w, CKPT_KEY_TYPE, "model", err));
    TRY(general(w, src, plan, o, err));
    TRY(hparams(w, src, o, err));
    TRY(ckpt_vocab_add(w, src, err));
    return ckpt_gguf_writer_set_u32(w, CKPT_KEY_QUANT_VERSION, 2, err);
}
