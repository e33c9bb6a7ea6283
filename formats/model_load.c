/*
 * model_load.c - a Hugging Face directory or a GGUF file as the weight
 * views of the reference forward pass (see model_load.h).  The readers
 * (hfdir.h, gguf.h) validate the files; this file maps names and
 * hyperparameters, and leaves the shape checks to ckpt_model_check.
 * FP8 weights and the integer weights of a compressed-tensors checkpoint
 * (ct.h) are the exceptions to "views, no copies": FP8 is dequantized at
 * open into f32 buffers the weights object owns, integer weights are
 * re-encoded as the Q8_0 / Q4_0 blocks that hold them exactly (f32 if none
 * does), which the dot products dequantize as they go.
 */
#include "model_load.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../arch/gguf_keys.h"
#include "ct.h"
#include "fp8.h"
#include "gguf.h"
#include "hfdir.h"

struct ckpt_weights {
    ckpt_weights_kind kind;
    const struct ckpt_arch *arch;     /* descriptor of the model (static) */
    uint64_t dims[CKPT_DIM_COUNT];    /* config sizes of the role table */
    char *path;
    ckpt_hf *hf;
    ckpt_gguf *gguf;
    struct ckpt_model_config cfg;
    struct ckpt_model_weights w;
    struct ckpt_layer_views *layers; /* (n_layers) */
    struct ckpt_ffn_views *experts;  /* (n_layers, n_experts) */
    struct ckpt_ct_config ct;        /* an integer compressed-tensors checkpoint, if present */
    void **owned;                    /* FP8 tensors as f32, integer ones as blocks (n_owned) */
    size_t n_owned;
};

/* True if data is one of the f32 buffers dequantized at open (heap memory:
 * releasing its pages would zero them). */
static bool owned(const ckpt_weights *w, const void *data)
{
    for (size_t i = 0; i < w->n_owned; i++)
        if ((const void *)w->owned[i] == data)
            return true;
    return false;
}

void ckpt_weights_release_bytes(void *ctx, const void *data, size_t bytes)
{
    if (data && !owned(ctx, data))
        ckpt_map_release_ptr(data, bytes);
}

/* fn(w, view) for every weight matrix a forward pass multiplies by, and
 * the token embedding when `embedding` */
static void each_matrix(const ckpt_weights *w, bool embedding,
                        void (*fn)(const ckpt_weights *, const struct ckpt_wview *))
{
    const struct ckpt_model_weights *mw = &w->w;
    if (embedding)
        fn(w, &mw->tok_embd);
    fn(w, &mw->output);
    for (int64_t l = 0; l < w->cfg.n_layers; l++) {
        const struct ckpt_layer_views *L = &mw->layers[l];
        const struct ckpt_wview *v[] = {&L->wq, &L->wk, &L->wv, &L->wo, &L->ffn.gate,
                                        &L->ffn.up, &L->ffn.down, &L->router};
        for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
            fn(w, v[i]);
        for (int64_t e = 0; L->experts && e < w->cfg.n_experts; e++) {
            fn(w, &L->experts[e].gate);
            fn(w, &L->experts[e].up);
            fn(w, &L->experts[e].down);
        }
    }
}

static void release_view(const ckpt_weights *w, const struct ckpt_wview *v)
{
    ckpt_weights_release_bytes((void *)w, v->data, v->mat_bytes * (size_t)v->ne[2]);
}

void ckpt_weights_release(const ckpt_weights *w) { each_matrix(w, true, release_view); }

static void populate_view(const ckpt_weights *w, const struct ckpt_wview *v)
{
    if (v->data && !owned(w, v->data))
        ckpt_map_populate_ptr(v->data, v->mat_bytes * (size_t)v->ne[2]);
}

void ckpt_weights_populate(const ckpt_weights *w) { each_matrix(w, false, populate_view); }

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
    char lbuf[CKPT_GGUF_KEY_MAX], ebuf[CKPT_GGUF_KEY_MAX];
    const char *lkey = gguf ? ckpt_gguf_key(lbuf, W->arch->gguf_arch, CKPT_KEY_BLOCK_COUNT)
                            : "num_hidden_layers";
    const char *ekey = gguf ? ckpt_gguf_key(ebuf, W->arch->gguf_arch, CKPT_KEY_EXPERT_COUNT)
                            : "num_local_experts";
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

/* Where the view of each role goes: the model, a layer, or one expert. */
enum { AT_MODEL = 1, AT_LAYER, AT_EXPERT };
static const struct {
    unsigned char at;
    size_t off;
} slots[CKPT_ROLE_COUNT] = {
    [CKPT_ROLE_TOKEN_EMBD] = {AT_MODEL, offsetof(struct ckpt_model_weights, tok_embd)},
    [CKPT_ROLE_OUTPUT_NORM] = {AT_MODEL, offsetof(struct ckpt_model_weights, output_norm)},
    [CKPT_ROLE_OUTPUT] = {AT_MODEL, offsetof(struct ckpt_model_weights, output)},
    [CKPT_ROLE_ATTN_NORM] = {AT_LAYER, offsetof(struct ckpt_layer_views, attn_norm)},
    [CKPT_ROLE_ATTN_Q] = {AT_LAYER, offsetof(struct ckpt_layer_views, wq)},
    [CKPT_ROLE_ATTN_K] = {AT_LAYER, offsetof(struct ckpt_layer_views, wk)},
    [CKPT_ROLE_ATTN_V] = {AT_LAYER, offsetof(struct ckpt_layer_views, wv)},
    [CKPT_ROLE_ATTN_OUTPUT] = {AT_LAYER, offsetof(struct ckpt_layer_views, wo)},
    [CKPT_ROLE_FFN_NORM] = {AT_LAYER, offsetof(struct ckpt_layer_views, ffn_norm)},
    [CKPT_ROLE_FFN_GATE] = {AT_LAYER, offsetof(struct ckpt_layer_views, ffn.gate)},
    [CKPT_ROLE_FFN_UP] = {AT_LAYER, offsetof(struct ckpt_layer_views, ffn.up)},
    [CKPT_ROLE_FFN_DOWN] = {AT_LAYER, offsetof(struct ckpt_layer_views, ffn.down)},
    [CKPT_ROLE_FFN_GATE_INP] = {AT_LAYER, offsetof(struct ckpt_layer_views, router)},
    [CKPT_ROLE_FFN_GATE_EXPS] = {AT_EXPERT, offsetof(struct ckpt_ffn_views, gate)},
    [CKPT_ROLE_FFN_DOWN_EXPS] = {AT_EXPERT, offsetof(struct ckpt_ffn_views, down)},
    [CKPT_ROLE_FFN_UP_EXPS] = {AT_EXPERT, offsetof(struct ckpt_ffn_views, up)},
};

struct ckpt_wview *ckpt_weights_slot(struct ckpt_model_weights *w, int role, int64_t l, int64_t e)
{
    if (role < 0 || role >= CKPT_ROLE_COUNT)
        return NULL;
    unsigned char *base = slots[role].at == AT_MODEL   ? (unsigned char *)w
                          : slots[role].at == AT_LAYER  ? (unsigned char *)&w->layers[l]
                          : slots[role].at == AT_EXPERT ? (unsigned char *)&w->layers[l].experts[e]
                                                        : NULL;
    return base ? (struct ckpt_wview *)(base + slots[role].off) : NULL;
}

static struct ckpt_wview *slot(ckpt_weights *W, ckpt_role role, int64_t l, int64_t e)
{
    return ckpt_weights_slot(&W->w, role, l, e);
}

/* Reads one tensor by name into a view (hf_view, gguf_view). */
typedef ckpt_status (*view_fn)(ckpt_weights *W, const char *name, struct ckpt_wview *v,
                               ckpt_err *err);

/* Does the file hold a tensor of this name? */
typedef bool (*has_fn)(const ckpt_weights *W, const char *name);

/* The tied output: absent when tie_word_embeddings (HF) or simply absent
 * (GGUF, as llama.cpp falls back to the embedding). */
static bool output_tied(const ckpt_weights *W, const struct ckpt_arch_role *r, const char *name,
                        has_fn has, bool tied)
{
    return r->tied_optional && tied && !has(W, name);
}

/* ==== Hugging Face directory ==== */

/* Fills row r of a tensor the loader holds itself. */
typedef void (*row_fn)(const void *ctx, uint64_t r, void *dst);

/* A rows x cols tensor of `type` filled row by row into an owned buffer. */
static ckpt_status owned_view(ckpt_weights *W, const char *name, uint64_t rows, uint64_t cols,
                              ckpt_type type, row_fn fill, const void *ctx, struct ckpt_wview *v,
                              ckpt_err *err)
{
    size_t rb = 0;
    if (cols == 0 || !ckpt_type_row_bytes(type, (int64_t)cols, &rb) ||
        rows > (uint64_t)INT64_MAX / rb)
        return ckpt_err_set(err, CKPT_E_FORMAT, "%s: tensor '%s': too large", W->path, name);
    void **owned = realloc(W->owned, (W->n_owned + 1) * sizeof *owned);
    if (!owned)
        return ckpt_err_set(err, CKPT_E_NOMEM, "%s: out of memory", W->path);
    W->owned = owned;
    uint8_t *buf = malloc(rows ? (size_t)rows * rb : 1);
    if (!buf)
        return ckpt_err_set(err, CKPT_E_NOMEM, "%s: tensor '%s': out of memory for %llu "
                            "bytes", W->path, name, (unsigned long long)(rows * rb));
    W->owned[W->n_owned++] = buf;
    for (uint64_t r = 0; r < rows; r++)
        fill(ctx, r, buf + r * rb);
    if (!ckpt_wview_init(v, type, (int64_t)cols, (int64_t)rows, 1, buf))
        return ckpt_err_set(err, CKPT_E_FORMAT, "%s: tensor '%s': bad shape", W->path, name);
    return CKPT_OK;
}

static void fp8_fill(const void *ctx, uint64_t r, void *dst) { ckpt_fp8_row(ctx, r, dst); }
static void ct_fill(const void *ctx, uint64_t r, void *dst) { ckpt_ct_row(ctx, r, dst); }
static void ct_fill_blocks(const void *ctx, uint64_t r, void *dst)
{
    ckpt_ct_row_blocks(ctx, r, dst);
}

/* An FP8 weight with its scale tensor, through the converter's reader (fp8.h). */
static ckpt_status hf_fp8_view(ckpt_weights *W, const struct ckpt_st_tensor *t,
                               struct ckpt_wview *v, ckpt_err *err)
{
    struct ckpt_fp8_luts luts;
    struct ckpt_fp8 f;
    ckpt_fp8_luts_init(&luts);
    ckpt_status st = ckpt_fp8_open(&f, W->hf, t, ckpt_hf_get_config(W->hf)->weight_block_size,
                                   &luts, W->path, err);
    if (st != CKPT_OK)
        return st;
    return owned_view(W, t->name, t->shape[0], t->shape[1], CKPT_TYPE_F32, fp8_fill, &f, v, err);
}

/* The integer weight of module "X" for tensor name "X.weight" (ct.h). */
static ckpt_status hf_ct_view(ckpt_weights *W, const char *name, struct ckpt_wview *v,
                              ckpt_err *err)
{
    char base[192];
    const size_t n = strlen(name) - strlen(".weight");
    snprintf(base, sizeof base, "%.*s", (int)n, name);
    struct ckpt_ct_weight cw;
    ckpt_status st = ckpt_ct_open(&cw, W->hf, base, &W->ct, W->path, err);
    if (st != CKPT_OK)
        return st;
    /* as Q8_0 / Q4_0 blocks when they hold it exactly (dequantized in the dot
     * products, a quarter of f32's memory or less), else as f32 */
    const ckpt_type bt = ckpt_ct_block_type(&cw);
    return owned_view(W, name, cw.rows, cw.cols, bt, bt == CKPT_TYPE_F32 ? ct_fill : ct_fill_blocks,
                      &cw, v, err);
}

/* Is name the ".weight" of a module a compressed-tensors checkpoint stores as integers? */
static bool ct_module(const ckpt_weights *W, const char *name, const struct ckpt_st_tensor *t)
{
    const size_t n = strlen(name);
    return W->ct.present && n > 7 && strcmp(name + n - 7, ".weight") == 0 &&
           (t ? t->dtype == CKPT_DT_I8 : true);
}

static ckpt_status hf_view(ckpt_weights *W, const char *name, struct ckpt_wview *v, ckpt_err *err)
{
    const struct ckpt_st_tensor *t = ckpt_hf_find(W->hf, name, NULL);
    if (ct_module(W, name, t))
        return hf_ct_view(W, name, v, err);
    if (!t)
        return ckpt_err_set(err, CKPT_E_FORMAT, "%s: tensor '%s' is missing", W->path, name);
    ckpt_type type;
    switch (t->dtype) {
    case CKPT_DT_BF16: type = CKPT_TYPE_BF16; break;
    case CKPT_DT_F16: type = CKPT_TYPE_F16; break;
    case CKPT_DT_F32: type = CKPT_TYPE_F32; break;
    case CKPT_DT_F8_E4M3:
    case CKPT_DT_F8_E5M2: return hf_fp8_view(W, t, v, err);
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
    W->arch = h->arch;
    ckpt_hf_config_dims(h, W->dims);
    c->features = h->arch->features;
    bool experts = c->features & CKPT_FEAT_EXPERTS;
    c->n_vocab = h->vocab_size;
    c->dim = h->hidden_size;
    c->n_layers = h->n_layers;
    c->n_heads = h->n_heads;
    c->n_kv_heads = h->n_kv_heads;
    c->head_dim = h->head_dim;
    c->ffn_dim = h->intermediate_size;
    c->n_experts = experts ? h->n_experts : 0;
    c->n_experts_used = experts ? h->n_experts_per_tok : 0;
    c->rms_eps = (float)h->rms_norm_eps;
    c->rope_theta = (float)h->rope_theta;
    c->sliding_window = h->has_sliding_window ? h->sliding_window : 0;
    c->max_pos = (int64_t)h->max_position_embeddings;
    c->bos_id = (int32_t)h->bos_token_id;
    c->eos_id = (int32_t)h->eos_token_id;
    return CKPT_OK;
}

static bool hf_has(const ckpt_weights *W, const char *name)
{
    return ckpt_hf_find(W->hf, name, NULL) != NULL;
}

/* Name of a role's tensor in a checkpoint scheme, or in GGUF (scheme NULL). */
static bool role_name(const ckpt_weights *W, const struct ckpt_arch_scheme *sc, ckpt_role role,
                      int64_t l, int64_t e, char *name, size_t n)
{
    return sc ? ckpt_arch_hf_name(sc, role, (int)l, (int)e, "weight", name, n)
              : ckpt_arch_gguf_name(W->arch, role, (int)l, "weight", name, n);
}

static ckpt_status gguf_view(ckpt_weights *W, const char *name, struct ckpt_wview *v,
                             ckpt_err *err);
static bool gguf_has(const ckpt_weights *W, const char *name);

/*
 * Every role of the architecture into its view, named by scheme sc (NULL:
 * GGUF names, experts stacked).  Q/K rows stored in GGUF order are marked
 * with their head count, so the forward pass undoes the permutation.
 */
static ckpt_status load_roles(ckpt_weights *W, const struct ckpt_arch_scheme *sc, bool tied,
                              ckpt_err *err)
{
    view_fn view = sc ? hf_view : gguf_view;
    has_fn has = sc ? hf_has : gguf_has;
    bool gguf_order = !sc || !sc->rotate_half;
    char name[192];
    ckpt_status st;
    for (size_t i = 0; i < W->arch->n_roles; i++) {
        const struct ckpt_arch_role *r = &W->arch->roles[i];
        if (!ckpt_arch_role_present(r, W->cfg.features))
            continue;
        int64_t n_l = ckpt_arch_role_per_layer(r) ? W->cfg.n_layers : 1;
        int64_t n_e = r->stacked && sc ? W->cfg.n_experts : 1;
        for (int64_t l = 0; l < n_l; l++) {
            int64_t layer = ckpt_arch_role_per_layer(r) ? l : -1;
            for (int64_t e = 0; e < n_e; e++) {
                if (!role_name(W, sc, r->role, layer, r->stacked && sc ? e : -1, name,
                               sizeof name))
                    return ckpt_err_set(err, CKPT_E_INTERNAL, "%s: no name for a role", W->path);
                if (output_tied(W, r, name, has, tied || !sc)) {
                    W->w.output = W->w.tok_embd;
                    continue;
                }
                if (r->stacked && !sc) { /* one GGUF tensor holds every expert */
                    struct ckpt_wview all;
                    if ((st = view(W, name, &all, err)) != CKPT_OK)
                        return st;
                    if (all.ne[2] != W->cfg.n_experts)
                        return ckpt_err_set(err, CKPT_E_FORMAT,
                                            "%s: tensor '%s' does not hold %lld experts",
                                            W->path, name, (long long)W->cfg.n_experts);
                    for (int64_t x = 0; x < W->cfg.n_experts; x++)
                        *slot(W, r->role, l, x) = ckpt_wview_slice(&all, x);
                    continue;
                }
                struct ckpt_wview *v = slot(W, r->role, l, e);
                if (!v) /* a role the forward pass has no place for */
                    return ckpt_err_set(err, CKPT_E_UNSUPPORTED,
                                        "%s: tensor '%s' has no place in the reference model",
                                        W->path, name);
                if ((st = view(W, name, v, err)) != CKPT_OK)
                    return st;
                if (gguf_order)
                    v->qk_heads = (int32_t)ckpt_arch_permute_heads(r, W->dims);
            }
        }
    }
    return CKPT_OK;
}

static ckpt_status hf_load(ckpt_weights *W, ckpt_err *err)
{
    ckpt_status st = ckpt_hf_open(&W->hf, W->path, err);
    if (st == CKPT_OK)
        st = hf_config(W, err);
    if (st == CKPT_OK)
        st = ckpt_ct_config_load(&W->ct, W->hf, err);
    if (st == CKPT_OK)
        st = alloc_layers(W, err);
    if (st != CKPT_OK)
        return st;
    const struct ckpt_hf_config *h = ckpt_hf_get_config(W->hf);
    return load_roles(W, h->scheme, h->tie_word_embeddings, err);
}

/* ==== GGUF ==== */

/* The role table's dims from the hyperparameters read from the keys. */
static void model_dims(const struct ckpt_model_config *c, uint64_t dims[CKPT_DIM_COUNT])
{
    dims[CKPT_DIM_NONE] = 0;
    dims[CKPT_DIM_VOCAB] = (uint64_t)c->n_vocab;
    dims[CKPT_DIM_HIDDEN] = (uint64_t)c->dim;
    dims[CKPT_DIM_Q] = (uint64_t)(c->n_heads * c->head_dim);
    dims[CKPT_DIM_KV] = (uint64_t)(c->n_kv_heads * c->head_dim);
    dims[CKPT_DIM_FFN] = (uint64_t)c->ffn_dim;
    dims[CKPT_DIM_EXPERTS] = (uint64_t)c->n_experts;
    dims[CKPT_DIM_HEADS] = (uint64_t)c->n_heads;
    dims[CKPT_DIM_KV_HEADS] = (uint64_t)c->n_kv_heads;
}

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

/* The <arch>.* keys into the config; the descriptor from the architecture
 * and whether the file declares experts. */
static ckpt_status gguf_config(ckpt_weights *W, ckpt_err *err)
{
    const ckpt_gguf *g = W->gguf;
    struct ckpt_model_config *c = &W->cfg;
    const char *a;
    char kb[CKPT_GGUF_KEY_MAX];
#define K(suffix) ckpt_gguf_key(kb, a, suffix)
    ckpt_status st = ckpt_gguf_get_str(g, CKPT_KEY_ARCHITECTURE, &a, err);
    if (st != CKPT_OK)
        return st;
    if (!ckpt_arch_by_gguf(a, false))
        return ckpt_err_set(err, CKPT_E_UNSUPPORTED,
                            "%s: architecture '%s' is not supported (expected 'llama')", W->path,
                            a);
    /* the vocabulary size falls back to the embedding's rows, as in llama.cpp */
    char emb_name[64];
    ckpt_arch_gguf_name(ckpt_arch_by_gguf(a, false), CKPT_ROLE_TOKEN_EMBD, -1, "weight", emb_name,
                        sizeof emb_name);
    const struct ckpt_gguf_tensor *emb = ckpt_gguf_find_tensor(g, emb_name);
    if (!emb)
        return ckpt_err_set(err, CKPT_E_FORMAT, "%s: tensor '%s' is missing", W->path, emb_name);
    int64_t rope_dims;
    if ((st = gguf_u32(W, K(CKPT_KEY_BLOCK_COUNT), -1, &c->n_layers, err)) ||
        (st = gguf_u32(W, K(CKPT_KEY_EMBEDDING_LENGTH), -1, &c->dim, err)) ||
        (st = gguf_u32(W, K(CKPT_KEY_FEED_FORWARD_LENGTH), -1, &c->ffn_dim, err)) ||
        (st = gguf_u32(W, K(CKPT_KEY_HEAD_COUNT), -1, &c->n_heads, err)) ||
        (st = gguf_u32(W, K(CKPT_KEY_HEAD_COUNT_KV), c->n_heads, &c->n_kv_heads, err)) ||
        (st = gguf_u32(W, K(CKPT_KEY_EXPERT_COUNT), 0, &c->n_experts, err)) ||
        (st = gguf_u32(W, K(CKPT_KEY_EXPERT_USED_COUNT), 0, &c->n_experts_used, err)) ||
        (st = gguf_u32(W, K(CKPT_KEY_VOCAB_SIZE), emb->ne[1], &c->n_vocab, err)) ||
        (st = gguf_u32(W, K(CKPT_KEY_CONTEXT_LENGTH), 0, &c->max_pos, err)))
        return st;
    if (c->n_heads == 0)
        return ckpt_err_set(err, CKPT_E_FORMAT, "%s: %s is 0", W->path, K(CKPT_KEY_HEAD_COUNT));
    if ((st = gguf_u32(W, K(CKPT_KEY_KEY_LENGTH), c->dim / c->n_heads, &c->head_dim, err)) ||
        (st = gguf_u32(W, K(CKPT_KEY_ROPE_DIMS), c->head_dim, &rope_dims, err)))
        return st;
    if (rope_dims != c->head_dim)
        return ckpt_err_set(err, CKPT_E_UNSUPPORTED,
                            "%s: rope over %lld of %lld head dimensions is not supported", W->path,
                            (long long)rope_dims, (long long)c->head_dim);
    const char *scaling;
    if (has_key(g, K(CKPT_KEY_ROPE_SCALING_TYPE)) &&
        ckpt_gguf_get_str(g, K(CKPT_KEY_ROPE_SCALING_TYPE), &scaling, NULL) == CKPT_OK &&
        strcmp(scaling, "none") != 0)
        return ckpt_err_set(err, CKPT_E_UNSUPPORTED, "%s: rope scaling '%s' is not supported",
                            W->path, scaling);
    if ((st = ckpt_gguf_get_f32(g, K(CKPT_KEY_RMS_EPS), &c->rms_eps, err)))
        return st;
    c->rope_theta = 10000.0f;
    if (has_key(g, K(CKPT_KEY_ROPE_FREQ_BASE)) &&
        (st = ckpt_gguf_get_f32(g, K(CKPT_KEY_ROPE_FREQ_BASE), &c->rope_theta, err)))
        return st;
#undef K
    c->bos_id = opt_id(g, CKPT_KEY_TOK_BOS_ID);
    c->eos_id = opt_id(g, CKPT_KEY_TOK_EOS_ID);
    W->arch = ckpt_arch_by_gguf(a, c->n_experts > 0);
    if (!W->arch)
        return ckpt_err_set(err, CKPT_E_UNSUPPORTED, "%s: '%s' with%s experts is not supported",
                            W->path, a, c->n_experts > 0 ? "" : "out");
    c->features = W->arch->features;
    c->sliding_window = 0; /* not recorded in GGUF */
    model_dims(c, W->dims);
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

static bool gguf_has(const ckpt_weights *W, const char *name)
{
    return ckpt_gguf_find_tensor(W->gguf, name) != NULL;
}

static ckpt_status gguf_load(ckpt_weights *W, ckpt_err *err)
{
    ckpt_status st = ckpt_gguf_open(&W->gguf, W->path, err);
    if (st == CKPT_OK)
        st = gguf_config(W, err);
    if (st == CKPT_OK)
        st = alloc_layers(W, err);
    return st == CKPT_OK ? load_roles(W, NULL, true, err) : st;
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
