/*
 * model_load.c - a Hugging Face directory or a GGUF file as the weight
 * views of the reference forward pass (see model_load.h).  The readers
 * (hfdir.h, gguf.h) validate the files; this file maps names and
 * hyperparameters, and leaves the shape checks to ckpt_model_check.
 * FP8 weights are the one exception to "views, no copies": they are
 * dequantized at open into f32 buffers the weights object owns.
 */
#include "model_load.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fp8.h"
#include "gguf.h"
#include "hfdir.h"

struct ckpt_weights {
    ckpt_weights_kind kind;
    char *path;
    ckpt_hf *hf;
    ckpt_gguf *gguf;
    struct ckpt_model_config cfg;
    struct ckpt_model_weights w;
    struct ckpt_layer_views *layers; /* (n_layers) */
    struct ckpt_ffn_views *experts;  /* (n_layers, n_experts) */
    float **owned;                   /* dequantized FP8 tensors (n_owned) */
    size_t n_owned;
};

void ckpt_weights_close(ckpt_weights *w)
{
    if (!w)
        return;
    ckpt_hf_close(w->hf);
    ckpt_gguf_close(w->gguf);
    free(w->layers);
    free(w->experts);
    for (size_t i = 0; i < w->n_owned; i++)
        free(w->owned[i]);
    free(w->owned);
    free(w->path);
    free(w);
}

const struct ckpt_model_config *ckpt_weights_config(const ckpt_weights *w) { return &w->cfg; }
const struct ckpt_model_weights *ckpt_weights_views(const ckpt_weights *w) { return &w->w; }
ckpt_weights_kind ckpt_weights_get_kind(const ckpt_weights *w) { return w->kind; }
const char *ckpt_weights_path(const ckpt_weights *w) { return w->path; }

/*
 * Counts come from the file (block_count, expert_count): bound them by
 * what the file holds before anything is allocated from them.  A layer has
 * at least 6 tensors of its own; an expert of a layer is 3 tensors of an HF
 * checkpoint, or at least one byte of a stacked GGUF tensor.
 */
static ckpt_status check_counts(const ckpt_weights *W, ckpt_err *err)
{
    int64_t L = W->cfg.n_layers, E = W->cfg.n_experts;
    bool gguf = W->kind == CKPT_WEIGHTS_GGUF;
    uint64_t tensors = gguf ? ckpt_gguf_n_tensors(W->gguf) : ckpt_hf_n_tensors(W->hf);
    uint64_t experts = gguf ? ckpt_gguf_file_size(W->gguf) : tensors / 3;
    const char *lkey = gguf ? "llama.block_count" : "num_hidden_layers";
    const char *ekey = gguf ? "llama.expert_count" : "num_local_experts";
    if (L < 0 || (uint64_t)L > tensors / 6)
        return ckpt_err_set(err, CKPT_E_RANGE,
                            "%s: %s %lld needs more tensors than the %llu the file holds",
                            W->path, lkey, (long long)L, (unsigned long long)tensors);
    if (E < 0 || (L > 0 && (uint64_t)E > experts / (uint64_t)L))
        return ckpt_err_set(err, CKPT_E_RANGE,
                            "%s: %s %lld in %lld layers is more than the file can hold",
                            W->path, ekey, (long long)E, (long long)L);
    return CKPT_OK;
}

static ckpt_status alloc_layers(ckpt_weights *W, ckpt_err *err)
{
    ckpt_status st = check_counts(W, err);
    if (st != CKPT_OK)
        return st;
    int64_t L = W->cfg.n_layers, E = W->cfg.n_experts;
    W->layers = calloc((size_t)L, sizeof *W->layers);
    W->experts = calloc((size_t)(L * (E > 0 ? E : 1)), sizeof *W->experts);
    if (!W->layers || !W->experts)
        return ckpt_err_set(err, CKPT_E_NOMEM, "%s: out of memory", W->path);
    W->w.layers = W->layers;
    for (int64_t l = 0; l < L; l++)
        W->layers[l].experts = E > 0 ? W->experts + l * E : NULL;
    return CKPT_OK;
}

/* ==== Hugging Face directory ==== */

/* An F8_E4M3 weight with its scale tensor, dequantized into an owned f32
 * buffer (see fp8.h for the layouts). */
static ckpt_status hf_fp8_view(ckpt_weights *W, const struct ckpt_st_tensor *t,
                               struct ckpt_wview *v, ckpt_err *err)
{
    char sname[160];
    snprintf(sname, sizeof sname, "%s%s", t->name, CKPT_FP8_SCALE_SUFFIX);
    const struct ckpt_st_tensor *s = ckpt_hf_find(W->hf, sname, NULL);
    bool inv = false;
    if (!s) {
        snprintf(sname, sizeof sname, "%s%s", t->name, CKPT_FP8_SCALE_INV_SUFFIX);
        s = ckpt_hf_find(W->hf, sname, NULL);
        inv = true;
    }
    if (!s)
        return ckpt_err_set(err, CKPT_E_FORMAT, "%s: tensor '%s': FP8 weights without a "
                            "'%s%s' or '%s%s' tensor", W->path, t->name, t->name,
                            CKPT_FP8_SCALE_SUFFIX, t->name, CKPT_FP8_SCALE_INV_SUFFIX);
    if (t->n_dims != 2 || t->shape[0] > (uint64_t)INT64_MAX / 4 / (t->shape[1] ? t->shape[1] : 1))
        return ckpt_err_set(err, CKPT_E_FORMAT, "%s: tensor '%s': FP8 weights must be 2-D",
                            W->path, t->name);
    float **owned = realloc(W->owned, (W->n_owned + 1) * sizeof *owned);
    if (!owned)
        return ckpt_err_set(err, CKPT_E_NOMEM, "%s: out of memory", W->path);
    W->owned = owned;
    float *buf = malloc(sizeof(float) * (size_t)(t->n_elements ? t->n_elements : 1));
    if (!buf)
        return ckpt_err_set(err, CKPT_E_NOMEM, "%s: tensor '%s': out of memory for %llu "
                            "dequantized values", W->path, t->name,
                            (unsigned long long)t->n_elements);
    W->owned[W->n_owned++] = buf;
    ckpt_status st = ckpt_fp8_dequantize(t, s, inv, buf, W->path, err);
    if (st != CKPT_OK)
        return st;
    if (!ckpt_wview_init(v, CKPT_TYPE_F32, (int64_t)t->shape[1], (int64_t)t->shape[0], 1, buf))
        return ckpt_err_set(err, CKPT_E_FORMAT, "%s: tensor '%s': bad shape", W->path, t->name);
    return CKPT_OK;
}

static ckpt_status hf_view(ckpt_weights *W, const char *name, struct ckpt_wview *v, ckpt_err *err)
{
    const struct ckpt_st_tensor *t = ckpt_hf_find(W->hf, name, NULL);
    if (!t)
        return ckpt_err_set(err, CKPT_E_FORMAT, "%s: tensor '%s' is missing", W->path, name);
    ckpt_type type;
    switch (t->dtype) {
    case CKPT_DT_BF16: type = CKPT_TYPE_BF16; break;
    case CKPT_DT_F16: type = CKPT_TYPE_F16; break;
    case CKPT_DT_F32: type = CKPT_TYPE_F32; break;
    case CKPT_DT_F8_E4M3: return hf_fp8_view(W, t, v, err);
    default:
        return ckpt_err_set(err, CKPT_E_UNSUPPORTED, "%s: tensor '%s': dtype %s is not supported",
                            W->path, name, ckpt_dtype_name(t->dtype));
    }
    if (t->n_dims < 1 || t->n_dims > 2)
        return ckpt_err_set(err, CKPT_E_FORMAT, "%s: tensor '%s': %d dimensions, expected 1 or 2",
                            W->path, name, t->n_dims);
    /* torch [out, in] is ggml ne (in, out): rows stay contiguous */
    int64_t ne0 = (int64_t)t->shape[t->n_dims - 1], ne1 = t->n_dims == 2 ? (int64_t)t->shape[0] : 1;
    if (!ckpt_wview_init(v, type, ne0, ne1, 1, t->data))
        return ckpt_err_set(err, CKPT_E_FORMAT, "%s: tensor '%s': bad shape", W->path, name);
    return CKPT_OK;
}

static ckpt_status hf_config(ckpt_weights *W, ckpt_err *err)
{
    const struct ckpt_hf_config *h = ckpt_hf_get_config(W->hf);
    if (!h)
        return ckpt_err_set(err, CKPT_E_UNSUPPORTED,
                            "%s: a lone safetensors file has no config.json", W->path);
    /* FP8 checkpoints are read (their weights dequantized); other
     * quantized formats are not */
    if (h->has_quantization_config && strcmp(h->quant_method, "fp8") != 0 &&
        strcmp(h->quant_method, "fbgemm_fp8") != 0 &&
        strcmp(h->quant_method, "compressed-tensors") != 0)
        return ckpt_err_set(err, CKPT_E_UNSUPPORTED,
                            "%s: quantized checkpoints (%s) are not supported by the reference "
                            "forward pass", W->path, h->quant_method[0] ? h->quant_method : "?");
    struct ckpt_model_config *c = &W->cfg;
    c->arch = h->arch == CKPT_HF_ARCH_MIXTRAL ? CKPT_ARCH_MIXTRAL : CKPT_ARCH_MISTRAL;
    c->n_vocab = h->vocab_size;
    c->dim = h->hidden_size;
    c->n_layers = h->n_layers;
    c->n_heads = h->n_heads;
    c->n_kv_heads = h->n_kv_heads;
    c->head_dim = h->head_dim;
    c->ffn_dim = h->intermediate_size;
    c->n_experts = c->arch == CKPT_ARCH_MIXTRAL ? h->n_experts : 0;
    c->n_experts_used = c->arch == CKPT_ARCH_MIXTRAL ? h->n_experts_per_tok : 0;
    c->rms_eps = (float)h->rms_norm_eps;
    c->rope_theta = (float)h->rope_theta;
    c->sliding_window = h->has_sliding_window ? h->sliding_window : 0;
    c->max_pos = (int64_t)h->max_position_embeddings;
    c->bos_id = (int32_t)h->bos_token_id;
    c->eos_id = (int32_t)h->eos_token_id;
    return CKPT_OK;
}

static ckpt_status hf_load(ckpt_weights *W, ckpt_err *err)
{
    ckpt_status st = ckpt_hf_open(&W->hf, W->path, err);
    if (st == CKPT_OK)
        st = hf_config(W, err);
    if (st == CKPT_OK)
        st = alloc_layers(W, err);
    if (st != CKPT_OK)
        return st;
    const struct ckpt_hf_config *h = ckpt_hf_get_config(W->hf);
    char name[128];
#define VIEW(dst, ...)                                                                           \
    do {                                                                                         \
        snprintf(name, sizeof name, __VA_ARGS__);                                                \
        if ((st = hf_view(W, name, dst, err)) != CKPT_OK)                                        \
            return st;                                                                           \
    } while (0)
    VIEW(&W->w.tok_embd, "model.embed_tokens.weight");
    VIEW(&W->w.output_norm, "model.norm.weight");
    if (ckpt_hf_find(W->hf, "lm_head.weight", NULL) || !h->tie_word_embeddings)
        VIEW(&W->w.output, "lm_head.weight");
    else
        W->w.output = W->w.tok_embd;
    for (int64_t l = 0; l < W->cfg.n_layers; l++) {
        struct ckpt_layer_views *L = &W->layers[l];
        const char *p = "model.layers";
        long long n = (long long)l;
        VIEW(&L->attn_norm, "%s.%lld.input_layernorm.weight", p, n);
        VIEW(&L->wq, "%s.%lld.self_attn.q_proj.weight", p, n);
        VIEW(&L->wk, "%s.%lld.self_attn.k_proj.weight", p, n);
        VIEW(&L->wv, "%s.%lld.self_attn.v_proj.weight", p, n);
        VIEW(&L->wo, "%s.%lld.self_attn.o_proj.weight", p, n);
        VIEW(&L->ffn_norm, "%s.%lld.post_attention_layernorm.weight", p, n);
        if (W->cfg.arch == CKPT_ARCH_MIXTRAL) {
            VIEW(&L->router, "%s.%lld.block_sparse_moe.gate.weight", p, n);
            for (int64_t e = 0; e < W->cfg.n_experts; e++) {
                long long x = (long long)e;
                const char *ex = "block_sparse_moe.experts";
                VIEW(&L->experts[e].gate, "%s.%lld.%s.%lld.w1.weight", p, n, ex, x);
                VIEW(&L->experts[e].down, "%s.%lld.%s.%lld.w2.weight", p, n, ex, x);
                VIEW(&L->experts[e].up, "%s.%lld.%s.%lld.w3.weight", p, n, ex, x);
            }
        } else {
            VIEW(&L->ffn.gate, "%s.%lld.mlp.gate_proj.weight", p, n);
            VIEW(&L->ffn.up, "%s.%lld.mlp.up_proj.weight", p, n);
            VIEW(&L->ffn.down, "%s.%lld.mlp.down_proj.weight", p, n);
        }
    }
#undef VIEW
    return CKPT_OK;
}

/* ==== GGUF ==== */

static bool has_key(const ckpt_gguf *g, const char *key)
{
    return ckpt_gguf_find_kv(g, key) != NULL;
}

/* An optional token id key, -1 when absent or not a u32. */
static int32_t opt_id(const ckpt_gguf *g, const char *key)
{
    uint32_t v;
    if (!has_key(g, key) || ckpt_gguf_get_u32(g, key, &v, NULL) != CKPT_OK || v > INT32_MAX)
        return -1;
    return (int32_t)v;
}

static ckpt_status gguf_u32(ckpt_weights *W, const char *key, int64_t dflt, int64_t *out,
                            ckpt_err *err)
{
    uint32_t v;
    if (dflt >= 0 && !has_key(W->gguf, key)) {
        *out = dflt;
        return CKPT_OK;
    }
    ckpt_status st = ckpt_gguf_get_u32(W->gguf, key, &v, err);
    *out = v;
    return st;
}

static ckpt_status gguf_config(ckpt_weights *W, ckpt_err *err)
{
    const ckpt_gguf *g = W->gguf;
    struct ckpt_model_config *c = &W->cfg;
    const char *arch;
    ckpt_status st = ckpt_gguf_get_str(g, "general.architecture", &arch, err);
    if (st != CKPT_OK)
        return st;
    if (strcmp(arch, "llama") != 0)
        return ckpt_err_set(err, CKPT_E_UNSUPPORTED,
                            "%s: architecture '%s' is not supported (expected 'llama')", W->path,
                            arch);
    const struct ckpt_gguf_tensor *emb = ckpt_gguf_find_tensor(g, "token_embd.weight");
    if (!emb)
        return ckpt_err_set(err, CKPT_E_FORMAT, "%s: tensor 'token_embd.weight' is missing",
                            W->path);
    int64_t rope_dims;
    if ((st = gguf_u32(W, "llama.block_count", -1, &c->n_layers, err)) ||
        (st = gguf_u32(W, "llama.embedding_length", -1, &c->dim, err)) ||
        (st = gguf_u32(W, "llama.feed_forward_length", -1, &c->ffn_dim, err)) ||
        (st = gguf_u32(W, "llama.attention.head_count", -1, &c->n_heads, err)) ||
        (st = gguf_u32(W, "llama.attention.head_count_kv", c->n_heads, &c->n_kv_heads, err)) ||
        (st = gguf_u32(W, "llama.expert_count", 0, &c->n_experts, err)) ||
        (st = gguf_u32(W, "llama.expert_used_count", 0, &c->n_experts_used, err)) ||
        (st = gguf_u32(W, "llama.vocab_size", emb->ne[1], &c->n_vocab, err)) ||
        (st = gguf_u32(W, "llama.context_length", 0, &c->max_pos, err)))
        return st;
    if (c->n_heads == 0)
        return ckpt_err_set(err, CKPT_E_FORMAT, "%s: llama.attention.head_count is 0", W->path);
    if ((st = gguf_u32(W, "llama.attention.key_length", c->dim / c->n_heads, &c->head_dim, err)) ||
        (st = gguf_u32(W, "llama.rope.dimension_count", c->head_dim, &rope_dims, err)))
        return st;
    if (rope_dims != c->head_dim)
        return ckpt_err_set(err, CKPT_E_UNSUPPORTED,
                            "%s: rope over %lld of %lld head dimensions is not supported", W->path,
                            (long long)rope_dims, (long long)c->head_dim);
    const char *scaling;
    if (has_key(g, "llama.rope.scaling.type") &&
        ckpt_gguf_get_str(g, "llama.rope.scaling.type", &scaling, NULL) == CKPT_OK &&
        strcmp(scaling, "none") != 0)
        return ckpt_err_set(err, CKPT_E_UNSUPPORTED, "%s: rope scaling '%s' is not supported",
                            W->path, scaling);
    if ((st = ckpt_gguf_get_f32(g, "llama.attention.layer_norm_rms_epsilon", &c->rms_eps, err)))
        return st;
    c->rope_theta = 10000.0f;
    if (has_key(g, "llama.rope.freq_base") &&
        (st = ckpt_gguf_get_f32(g, "llama.rope.freq_base", &c->rope_theta, err)))
        return st;
    c->bos_id = opt_id(g, "tokenizer.ggml.bos_token_id");
    c->eos_id = opt_id(g, "tokenizer.ggml.eos_token_id");
    c->arch = c->n_experts > 0 ? CKPT_ARCH_MIXTRAL : CKPT_ARCH_MISTRAL;
    c->sliding_window = 0; /* not recorded in GGUF */
    return CKPT_OK;
}

static ckpt_status gguf_view(ckpt_weights *W, const char *name, struct ckpt_wview *v, ckpt_err *err)
{
    const struct ckpt_gguf_tensor *t = ckpt_gguf_find_tensor(W->gguf, name);
    if (!t)
        return ckpt_err_set(err, CKPT_E_FORMAT, "%s: tensor '%s' is missing", W->path, name);
    if (t->ne[3] != 1 || !ckpt_wview_init(v, t->type, t->ne[0], t->ne[1], t->ne[2], t->data))
        return ckpt_err_set(err, CKPT_E_FORMAT, "%s: tensor '%s': bad shape", W->path, name);
    return CKPT_OK;
}

static ckpt_status gguf_load(ckpt_weights *W, ckpt_err *err)
{
    ckpt_status st = ckpt_gguf_open(&W->gguf, W->path, err);
    if (st == CKPT_OK)
        st = gguf_config(W, err);
    if (st == CKPT_OK)
        st = alloc_layers(W, err);
    if (st != CKPT_OK)
        return st;
    char name[96];
#define VIEW(dst, ...)                                                                           \
    do {                                                                                         \
        snprintf(name, sizeof name, __VA_ARGS__);                                                \
        if ((st = gguf_view(W, name, dst, err)) != CKPT_OK)                                      \
            return st;                                                                           \
    } while (0)
    VIEW(&W->w.tok_embd, "token_embd.weight");
    VIEW(&W->w.output_norm, "output_norm.weight");
    if (ckpt_gguf_find_tensor(W->gguf, "output.weight"))
        VIEW(&W->w.output, "output.weight");
    else
        W->w.output = W->w.tok_embd; /* tied, as llama.cpp falls back */
    for (int64_t l = 0; l < W->cfg.n_layers; l++) {
        struct ckpt_layer_views *L = &W->layers[l];
        long long n = (long long)l;
        VIEW(&L->attn_norm, "blk.%lld.attn_norm.weight", n);
        VIEW(&L->wq, "blk.%lld.attn_q.weight", n);
        VIEW(&L->wk, "blk.%lld.attn_k.weight", n);
        VIEW(&L->wv, "blk.%lld.attn_v.weight", n);
        VIEW(&L->wo, "blk.%lld.attn_output.weight", n);
        VIEW(&L->ffn_norm, "blk.%lld.ffn_norm.weight", n);
        L->wq.qk_heads = (int32_t)W->cfg.n_heads;
        L->wk.qk_heads = (int32_t)W->cfg.n_kv_heads;
        if (W->cfg.arch == CKPT_ARCH_MIXTRAL) {
            struct ckpt_wview gate, up, down;
            VIEW(&L->router, "blk.%lld.ffn_gate_inp.weight", n);
            VIEW(&gate, "blk.%lld.ffn_gate_exps.weight", n);
            VIEW(&up, "blk.%lld.ffn_up_exps.weight", n);
            VIEW(&down, "blk.%lld.ffn_down_exps.weight", n);
            if (gate.ne[2] != W->cfg.n_experts || up.ne[2] != W->cfg.n_experts ||
                down.ne[2] != W->cfg.n_experts)
                return ckpt_err_set(err, CKPT_E_FORMAT,
                                    "%s: layer %lld: stacked experts do not hold %lld experts",
                                    W->path, n, (long long)W->cfg.n_experts);
            for (int64_t e = 0; e < W->cfg.n_experts; e++) {
                L->experts[e].gate = ckpt_wview_slice(&gate, e);
                L->experts[e].up = ckpt_wview_slice(&up, e);
                L->experts[e].down = ckpt_wview_slice(&down, e);
            }
        } else {
            VIEW(&L->ffn.gate, "blk.%lld.ffn_gate.weight", n);
            VIEW(&L->ffn.up, "blk.%lld.ffn_up.weight", n);
            VIEW(&L->ffn.down, "blk.%lld.ffn_down.weight", n);
        }
    }
#undef VIEW
    return CKPT_OK;
}

/* ==== entry ==== */

ckpt_status ckpt_weights_open(ckpt_weights **out, const char *path,
                              const struct ckpt_weights_opts *opts, ckpt_err *err)
{
    *out = NULL;
    ckpt_weights *W = calloc(1, sizeof *W);
    if (!W || !(W->path = strdup(path))) {
        free(W);
        return ckpt_err_set(err, CKPT_E_NOMEM, "%s: out of memory", path);
    }
    struct stat sb;
    ckpt_status st;
    if (stat(path, &sb) == 0 && !S_ISDIR(sb.st_mode) && ckpt_gguf_has_magic(path)) {
        W->kind = CKPT_WEIGHTS_GGUF;
        st = gguf_load(W, err);
    } else {
        W->kind = CKPT_WEIGHTS_HF;
        st = hf_load(W, err);
    }
    if (st == CKPT_OK && opts && opts->sliding_window >= 0)
        W->cfg.sliding_window = opts->sliding_window;
    if (st == CKPT_OK) {
        ckpt_err inner = {0};
        if ((st = ckpt_model_check(&W->cfg, &W->w, &inner)) != CKPT_OK)
            ckpt_err_set(err, st, "%s: %s", path, inner.msg);
    }
    if (st != CKPT_OK) {
        ckpt_weights_close(W);
        return st;
    }
    *out = W;
    return CKPT_OK;
}
