/*
 * model.c - the reference Mistral/Mixtral forward pass (see model.h).
 *
 * One call of ckpt_model_eval walks its tokens in steps of up to max_batch
 * positions.  Each step is a sequence of matrix products (weight rows split
 * across the pool, each row dotted with every position of the step) and of
 * cheap per-position operations run by the calling thread; attention is
 * split across (position, head) pairs, silu(gate) * up across elements.  Every output value has one owner
 * and a reduction order that depends only on the ISA, never on the thread
 * count or on how the tokens were grouped into steps.
 */
#define _DEFAULT_SOURCE /* madvise, MADV_POPULATE_WRITE (kv_map_ahead) */
#include "model.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "dispatch.h"
#include "ops.h"
#include "permute.h"
#include "quant.h"
#include "vec_dot.h"

/* Blocking of the K-slice tiles (mm_slice_rows): positions whose running
 * sums share one pass of the weights; the activations of one slice of the
 * rows' length for those positions, kept in L2 while the rows pass; the
 * running sums of a block of rows, kept in L2 beside them (512 KiB of L2
 * per core here). */
#define MM_PANEL_POS CKPT_VEC_TILE_K_NP_MAX
#define MM_SLICE_BYTES 262144
#define MM_ACC_FLOATS 32768

/* Activations quantized for the dots of vec_dot.h: one buffer per
 * activation type, reused by consecutive products of the same input. */
struct act_buf {
    uint8_t *data;     /* (max_batch, row bytes of the widest input) */
    size_t cap;        /* bytes */
    const float *x;    /* the input it holds (NULL: none) */
    uint64_t input;    /* ... as it was in that generation of the model's inputs */
    int64_t ldx, nx, ncols;
};

struct ckpt_model {
    struct ckpt_model_config cfg;
    const struct ckpt_model_weights *w; /* borrowed */
    ckpt_isa isa;
    const struct ckpt_kernels *k; /* isa's table */
    ckpt_pool *pool;
    bool own_pool;
    int n_threads;
    int64_t n_ctx, max_batch, n_past;
    int64_t q_dim, kv_dim; /* n_heads*head_dim, n_kv_heads*head_dim */

    float *norm_attn;  /* (n_layers, dim) */
    float *norm_ffn;   /* (n_layers, dim) */
    float *norm_out;   /* (dim) */
    float *inv_freq;   /* (head_dim/2) */
    /* The KV cache, one kv head's positions after another: (n_layers,
     * n_kv_heads, n_ctx, head_dim).  A head's keys are one contiguous run,
     * read as a stream; position-major, they were 512-byte pieces 4 KiB
     * apart, and attention took 12% of a Q4_K_M decode step at 600
     * positions. */
    float *k_cache;    /* RoPE applied */
    float *v_cache;
    int64_t kv_mapped; /* positions of every run whose pages are mapped (kv_map_ahead) */

    /* scratch for one step of B <= max_batch positions */
    float *x;          /* (B, dim) residual stream */
    float *xn;         /* (B, dim) normalized input of a block */
    float *q;          /* (B, q_dim) */
    float *k_new;      /* (B, kv_dim) the step's keys, before they go to the cache */
    float *v_new;      /* (B, kv_dim) and values */
    float *att;        /* (B, q_dim) attention output before wo */
    float *proj;       /* (B, dim) block output */
    float *ffn_a;      /* (B, ffn_dim) gate, then silu(gate) * up */
    float *ffn_b;      /* (B, ffn_dim) up */
    float *moe_x;      /* (B, dim) inputs routed to one expert */
    float *moe_y;      /* (B, dim) that expert's outputs */
    float *router;     /* (B, n_experts) router logits, then probabilities */
    int32_t *sel;      /* (B, n_experts_used) chosen experts */
    float *sel_w;      /* (B, n_experts_used) their renormalized weights */
    int32_t *rows;     /* (B) positions routed to the current expert */
    float *rows_w;     /* (B) and their weights */
    float *rope_cos;   /* (B, head_dim/2) */
    float *rope_sin;   /* (B, head_dim/2) */
    float *scores;     /* (n_threads, rep, n_ctx) attention scores per thread */
    float *tile_acc;   /* (n_threads, MM_ACC_FLOATS) running sums of the K-slice tiles */
    int64_t step_n;    /* positions in the step being computed */
    struct act_buf act_q8_0, act_q8_K; /* with the ISA's vec_dot table */
    /* Generation of the inputs of products: bumped by every product whose
     * input is new, so a buffer filled from the same address in an earlier
     * layer (the same scratch, other values) is never taken for this one. */
    uint64_t input;

    void (*release)(void *ctx, const void *data, size_t bytes); /* NULL: none */
    void *release_ctx;
    ckpt_model_observer observer; /* NULL: none */
    void *observer_ctx;
};

/* ==== views ==== */

bool ckpt_wview_init(struct ckpt_wview *v, ckpt_type t, int64_t ne0, int64_t ne1, int64_t ne2,
                     const void *data)
{
    memset(v, 0, sizeof *v);
    size_t row, mat;
    if (ne0 <= 0 || ne1 <= 0 || ne2 <= 0 || !ckpt_type_row_bytes(t, ne0, &row) ||
        __builtin_mul_overflow(row, (size_t)ne1, &mat) ||
        __builtin_mul_overflow(mat, (size_t)ne2, &(size_t){0}))
        return false;
    v->type = t;
    v->ne[0] = ne0;
    v->ne[1] = ne1;
    v->ne[2] = ne2;
    v->data = data;
    v->row_bytes = row;
    v->mat_bytes = mat;
    return true;
}

struct ckpt_wview ckpt_wview_slice(const struct ckpt_wview *v, int64_t i)
{
    struct ckpt_wview s = *v;
    s.ne[2] = 1;
    s.data = (const uint8_t *)v->data + (size_t)i * v->mat_bytes;
    return s;
}

/* ==== checks ==== */

static ckpt_status check_view(const struct ckpt_wview *v, const char *what, int64_t layer,
                              int64_t ne0, int64_t ne1, ckpt_err *err)
{
    char where[48] = "";
    if (layer >= 0)
        snprintf(where, sizeof where, "layer %lld: ", (long long)layer);
    if (!v->data)
        return ckpt_err_set(err, CKPT_E_FORMAT, "%s%s: missing", where, what);
    if (v->ne[0] != ne0 || v->ne[1] != ne1 || v->ne[2] != 1)
        return ckpt_err_set(err, CKPT_E_FORMAT,
                            "%s%s: shape (%lld, %lld, %lld), expected (%lld, %lld, 1)", where, what,
                            (long long)v->ne[0], (long long)v->ne[1], (long long)v->ne[2],
                            (long long)ne0, (long long)ne1);
    if (!ckpt_dot_supported(v->type))
        return ckpt_err_set(err, CKPT_E_UNSUPPORTED, "%s%s: tensor type %s is not supported", where,
                            what, ckpt_type_name(v->type));
    size_t rb;
    if (!ckpt_type_row_bytes(v->type, ne0, &rb) || v->row_bytes < rb)
        return ckpt_err_set(err, CKPT_E_FORMAT, "%s%s: row length %lld does not fit type %s",
                            where, what, (long long)ne0, ckpt_type_name(v->type));
    if (v->qk_heads < 0 || (v->qk_heads > 0 && (ne1 % v->qk_heads || (ne1 / v->qk_heads) % 2)))
        return ckpt_err_set(err, CKPT_E_FORMAT, "%s%s: %lld rows cannot be %d permuted heads",
                            where, what, (long long)ne1, v->qk_heads);
    return CKPT_OK;
}

static ckpt_status check_config(const struct ckpt_model_config *c, ckpt_err *err)
{
    if (c->n_vocab <= 0 || c->dim <= 0 || c->n_layers <= 0 || c->n_heads <= 0 ||
        c->n_kv_heads <= 0 || c->head_dim <= 0 || c->ffn_dim <= 0)
        return ckpt_err_set(err, CKPT_E_FORMAT, "model config: sizes must be positive");
    if (c->n_heads % c->n_kv_heads)
        return ckpt_err_set(err, CKPT_E_FORMAT,
                            "model config: %lld attention heads not a multiple of %lld kv heads",
                            (long long)c->n_heads, (long long)c->n_kv_heads);
    if (c->head_dim % 2)
        return ckpt_err_set(err, CKPT_E_FORMAT, "model config: head_dim %lld is odd",
                            (long long)c->head_dim);
    if ((c->features & CKPT_FEAT_EXPERTS) &&
        (c->n_experts <= 0 || c->n_experts_used <= 0 || c->n_experts_used > c->n_experts))
        return ckpt_err_set(err, CKPT_E_FORMAT, "model config: %lld of %lld experts per token",
                            (long long)c->n_experts_used, (long long)c->n_experts);
    if (!(c->rms_eps >= 0) || !(c->rope_theta > 0) || c->sliding_window < 0)
        return ckpt_err_set(err, CKPT_E_FORMAT,
                            "model config: bad rms_norm_eps, rope_theta or sliding_window");
    if (c->dim > (int64_t)1 << 24 || c->n_vocab > (int64_t)1 << 31 ||
        c->n_heads * c->head_dim > (int64_t)1 << 24 || c->ffn_dim > (int64_t)1 << 26)
        return ckpt_err_set(err, CKPT_E_RANGE, "model config: sizes out of range");
    return CKPT_OK;
}

ckpt_status ckpt_model_check(const struct ckpt_model_config *c,
                             const struct ckpt_model_weights *w, ckpt_err *err)
{
    ckpt_status st = check_config(c, err);
    if (st != CKPT_OK)
        return st;
    int64_t d = c->dim, qd = c->n_heads * c->head_dim, kvd = c->n_kv_heads * c->head_dim;
#define CHECK(v, what, l, a, b)                                                                  \
    do {                                                                                         \
        if ((st = check_view(v, what, l, a, b, err)) != CKPT_OK)                                 \
            return st;                                                                           \
    } while (0)
    CHECK(&w->tok_embd, "token embedding", -1, d, c->n_vocab);
    CHECK(&w->output_norm, "output norm", -1, d, 1);
    CHECK(&w->output, "output", -1, d, c->n_vocab);
    if (!w->layers)
        return ckpt_err_set(err, CKPT_E_FORMAT, "model weights: no layers");
    for (int64_t l = 0; l < c->n_layers; l++) {
        const struct ckpt_layer_views *L = &w->layers[l];
        CHECK(&L->attn_norm, "attn_norm", l, d, 1);
        CHECK(&L->wq, "attn_q", l, d, qd);
        CHECK(&L->wk, "attn_k", l, d, kvd);
        CHECK(&L->wv, "attn_v", l, d, kvd);
        CHECK(&L->wo, "attn_output", l, qd, d);
        CHECK(&L->ffn_norm, "ffn_norm", l, d, 1);
        if (L->wq.qk_heads && L->wq.qk_heads != c->n_heads)
            return ckpt_err_set(err, CKPT_E_FORMAT, "layer %lld: attn_q permuted for %d heads",
                                (long long)l, L->wq.qk_heads);
        if (L->wk.qk_heads && L->wk.qk_heads != c->n_kv_heads)
            return ckpt_err_set(err, CKPT_E_FORMAT, "layer %lld: attn_k permuted for %d heads",
                                (long long)l, L->wk.qk_heads);
        if (c->features & CKPT_FEAT_EXPERTS) {
            CHECK(&L->router, "ffn_gate_inp", l, d, c->n_experts);
            if (!L->experts)
                return ckpt_err_set(err, CKPT_E_FORMAT, "layer %lld: no experts", (long long)l);
            for (int64_t e = 0; e < c->n_experts; e++) {
                CHECK(&L->experts[e].gate, "expert gate", l, d, c->ffn_dim);
                CHECK(&L->experts[e].up, "expert up", l, d, c->ffn_dim);
                CHECK(&L->experts[e].down, "expert down", l, c->ffn_dim, d);
            }
        } else {
            CHECK(&L->ffn.gate, "ffn_gate", l, d, c->ffn_dim);
            CHECK(&L->ffn.up, "ffn_up", l, d, c->ffn_dim);
            CHECK(&L->ffn.down, "ffn_down", l, c->ffn_dim, d);
        }
    }
#undef CHECK
    return CKPT_OK;
}

/* ==== construction ==== */

static void *alloc_f(int64_t n, bool *ok)
{
    if (n <= 0)
        n = 1;
    void *p = calloc((size_t)n, sizeof(float));
    if (!p)
        *ok = false;
    return p;
}

/* Map a fresh buffer's pages now, one write per page, so that the first
 * step does not take a fault per page of the buffers it fills (calloc
 * maps them lazily): under shadow page tables (a VM) a fault costs
 * microseconds, and the other threads wait for the one that takes it at
 * the next product.  On the AMD machine a 512-token prefill went from
 * 462-483 to 510-541 tok/s (F16) and from 702-741 to 839-896 (Q4_K_M).
 * The step's buffers only, sized by max_batch: the KV cache and the
 * scores (n_ctx long) are mapped as positions fill. */
static void map_now(void *p, size_t bytes)
{
    volatile unsigned char *c = p;
    for (size_t o = 0; o < bytes; o += 4096)
        c[o] = 0;
}

/* alloc_f for a buffer every step fills (sized by max_batch), its pages
 * mapped now */
static void *alloc_step_f(int64_t n, bool *ok)
{
    float *p = alloc_f(n, ok);
    if (p)
        map_now(p, (size_t)(n > 0 ? n : 1) * sizeof(float));
    return p;
}

/* The longest row of any weight matrix: the widest input of a product. */
static int64_t widest_input(const struct ckpt_model_config *c, int64_t q_dim)
{
    int64_t n = c->dim > c->ffn_dim ? c->dim : c->ffn_dim;
    return n > q_dim ? n : q_dim;
}

/* Room for B rows of ncols activations of type act, rounded up to whole
 * blocks (rows that do not fit the block grid never use the buffer). */
static bool alloc_act(struct act_buf *a, ckpt_type act, int64_t B, int64_t ncols)
{
    int64_t blk = act == CKPT_TYPE_Q8_K ? 256 : 32;
    size_t row = ckpt_act_row_bytes(act, (ncols + blk - 1) / blk * blk);
    if (!row || __builtin_mul_overflow(row, (size_t)B, &a->cap))
        return false;
    a->data = malloc(a->cap);
    if (a->data)
        map_now(a->data, a->cap);
    return a->data != NULL;
}

void ckpt_model_free(ckpt_model *m)
{
    if (!m)
        return;
    if (m->own_pool)
        ckpt_pool_free(m->pool);
    float *bufs[] = {m->norm_attn, m->norm_ffn, m->norm_out, m->inv_freq, m->k_cache, m->v_cache,
                     m->x, m->xn, m->q, m->k_new, m->v_new, m->att, m->proj, m->ffn_a, m->ffn_b, m->moe_x, m->moe_y,
                     m->router, m->sel_w, m->rows_w, m->rope_cos, m->rope_sin, m->scores,
                     m->tile_acc};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++)
        free(bufs[i]);
    free(m->sel);
    free(m->rows);
    free(m->act_q8_0.data);
    free(m->act_q8_K.data);
    free(m);
}

ckpt_status ckpt_model_new(ckpt_model **out, const struct ckpt_model_config *cfg,
                           const struct ckpt_model_weights *weights,
                           const struct ckpt_model_opts *opts, ckpt_err *err)
{
    *out = NULL;
    ckpt_status st = ckpt_model_check(cfg, weights, err);
    if (st != CKPT_OK)
        return st;
    if (opts->n_ctx <= 0 || opts->n_ctx > (int64_t)1 << 24)
        return ckpt_err_set(err, CKPT_E_USAGE, "context size %lld out of range",
                            (long long)opts->n_ctx);
    ckpt_isa isa = opts->isa < 0 ? ckpt_isa_default() : (ckpt_isa)opts->isa;
    const struct ckpt_kernels *k = ckpt_kernels_of(isa);
    if (!k)
        return ckpt_err_set(err, CKPT_E_UNSUPPORTED, "isa %s is not available on this cpu",
                            ckpt_isa_name(isa));

    ckpt_model *m = calloc(1, sizeof *m);
    if (!m)
        return ckpt_err_set(err, CKPT_E_NOMEM, "out of memory");
    m->cfg = *cfg;
    m->w = weights;
    m->isa = isa;
    m->k = k;
    m->n_ctx = opts->n_ctx;
    m->release = opts->release;
    m->release_ctx = opts->release_ctx;
    m->max_batch = opts->max_batch > 0 ? opts->max_batch : 128;
    if (opts->pool) {
        m->pool = opts->pool;
    } else {
        if ((st = ckpt_pool_new(&m->pool, opts->n_threads, err)) != CKPT_OK) {
            free(m);
            return st;
        }
        m->own_pool = true;
        ckpt_pool_set_spin(m->pool, CKPT_MODEL_SPIN_NS);
    }
    m->n_threads = ckpt_pool_size(m->pool);

    int64_t d = cfg->dim, L = cfg->n_layers, B = m->max_batch, half = cfg->head_dim / 2;
    int64_t E = (cfg->features & CKPT_FEAT_EXPERTS) ? cfg->n_experts : 0;
    int64_t K = (cfg->features & CKPT_FEAT_EXPERTS) ? cfg->n_experts_used : 0;
    m->q_dim = cfg->n_heads * cfg->head_dim;
    m->kv_dim = cfg->n_kv_heads * cfg->head_dim;
    int64_t cache;
    bool ok = !__builtin_mul_overflow(L * m->kv_dim, m->n_ctx, &cache);
    if (ok) {
        m->norm_attn = alloc_f(L * d, &ok);
        m->norm_ffn = alloc_f(L * d, &ok);
        m->norm_out = alloc_f(d, &ok);
        m->inv_freq = alloc_f(half, &ok);
        m->k_cache = alloc_f(cache, &ok);
        m->v_cache = alloc_f(cache, &ok);
        m->x = alloc_step_f(B * d, &ok);
        m->xn = alloc_step_f(B * d, &ok);
        m->q = alloc_step_f(B * m->q_dim, &ok);
        m->k_new = alloc_step_f(B * m->kv_dim, &ok);
        m->v_new = alloc_step_f(B * m->kv_dim, &ok);
        m->att = alloc_step_f(B * m->q_dim, &ok);
        m->proj = alloc_step_f(B * d, &ok);
        m->ffn_a = alloc_step_f(B * cfg->ffn_dim, &ok);
        m->ffn_b = alloc_step_f(B * cfg->ffn_dim, &ok);
        m->moe_x = alloc_step_f(E ? B * d : 1, &ok);
        m->moe_y = alloc_step_f(E ? B * d : 1, &ok);
        m->router = alloc_f(B * E, &ok);
        m->sel = calloc((size_t)(B * K + 1), sizeof(int32_t));
        m->sel_w = alloc_f(B * K, &ok);
        m->rows = calloc((size_t)B, sizeof(int32_t));
        m->rows_w = alloc_f(B, &ok);
        m->rope_cos = alloc_f(B * half, &ok);
        m->rope_sin = alloc_f(B * half, &ok);
        m->scores = alloc_f((int64_t)m->n_threads * (cfg->n_heads / cfg->n_kv_heads) * m->n_ctx,
                            &ok);
        m->tile_acc = alloc_step_f((int64_t)m->n_threads * MM_ACC_FLOATS, &ok);
        ok = ok && m->sel && m->rows;
        if (ok && k->vec_dot)
            ok = alloc_act(&m->act_q8_0, CKPT_TYPE_Q8_0, B, widest_input(cfg, m->q_dim)) &&
                 alloc_act(&m->act_q8_K, CKPT_TYPE_Q8_K, B, widest_input(cfg, m->q_dim));
    }
    if (!ok) {
        ckpt_model_free(m);
        return ckpt_err_set(err, CKPT_E_NOMEM, "out of memory for a %lld-position context",
                            (long long)m->n_ctx);
    }
    for (int64_t l = 0; l < L; l++) {
        ckpt_dequantize_row(weights->layers[l].attn_norm.type, weights->layers[l].attn_norm.data,
                        m->norm_attn + l * d, d);
        ckpt_dequantize_row(weights->layers[l].ffn_norm.type, weights->layers[l].ffn_norm.data,
                        m->norm_ffn + l * d, d);
    }
    ckpt_dequantize_row(weights->output_norm.type, weights->output_norm.data, m->norm_out, d);
    ckpt_ops_rope_inv_freq(m->inv_freq, cfg->head_dim, cfg->rope_theta);
    *out = m;
    return CKPT_OK;
}

const struct ckpt_model_config *ckpt_model_get_config(const ckpt_model *m) { return &m->cfg; }
int64_t ckpt_model_n_past(const ckpt_model *m) { return m->n_past; }
int64_t ckpt_model_n_ctx(const ckpt_model *m) { return m->n_ctx; }
ckpt_isa ckpt_model_isa(const ckpt_model *m) { return m->isa; }

static uint64_t view_bytes(const struct ckpt_wview *v)
{
    return v->data ? (uint64_t)v->row_bytes * (uint64_t)v->ne[1] : 0;
}

uint64_t ckpt_model_bytes_per_token(const ckpt_model *m)
{
    const struct ckpt_model_weights *w = m->w;
    uint64_t b = view_bytes(&w->output) + w->tok_embd.row_bytes;
    for (int64_t l = 0; l < m->cfg.n_layers; l++) {
        const struct ckpt_layer_views *L = &w->layers[l];
        b += view_bytes(&L->wq) + view_bytes(&L->wk) + view_bytes(&L->wv) + view_bytes(&L->wo);
        if (m->cfg.features & CKPT_FEAT_EXPERTS) {
            const struct ckpt_ffn_views *e = &L->experts[0];
            b += view_bytes(&L->router) + (uint64_t)m->cfg.n_experts_used *
                                              (view_bytes(&e->gate) + view_bytes(&e->up) +
                                               view_bytes(&e->down));
        } else {
            b += view_bytes(&L->ffn.gate) + view_bytes(&L->ffn.up) + view_bytes(&L->ffn.down);
        }
    }
    return b;
}

void ckpt_model_set_observer(ckpt_model *m, ckpt_model_observer fn, void *ctx)
{
    m->observer = fn;
    m->observer_ctx = fn ? ctx : NULL;
}

void ckpt_model_truncate(ckpt_model *m, int64_t n_past)
{
    if (n_past >= 0 && n_past < m->n_past)
        m->n_past = n_past;
}

/* ==== matrix products ==== */

struct mm_job {
    ckpt_isa isa;
    const struct ckpt_wview *w;
    const float *x;  /* (nx, ldx) */
    int64_t ldx, nx;
    float *out;      /* (nx, ldo): out[j*ldo + row] */
    int64_t ldo;
    ckpt_vec_dot_fn dot;  /* non-NULL: vec_dot.h kernel on act */
    ckpt_vec_tile_fn tile; /* with dot: its four-row tiles, or NULL */
    ckpt_vec_tile_k_fn tile_k; /* with dot: its K-slice tiles, or NULL */
    bool spread;          /* with tile: a decode step spreads its rows */
    float *acc;           /* with tile_k: (n_threads, MM_ACC_FLOATS) scratch */
    const uint8_t *act;   /* (nx, act_stride bytes): x, quantized or as is */
    size_t act_stride;
};

/* a GGUF-ordered Q/K row lands where its HF row belongs */
static int64_t out_row(const struct ckpt_wview *w, int64_t r)
{
    return w->qk_heads > 0 ? ckpt_qk_hf_row(r, w->ne[1], w->qk_heads) : r;
}

static void mm_rows(void *ctx, int64_t begin, int64_t end, int thread)
{
    const struct mm_job *j = ctx;
    const struct ckpt_wview *w = j->w;
    for (int64_t r = begin; r < end; r++)
        ckpt_dot_rows(j->isa, w->type, (const uint8_t *)w->data + (size_t)r * w->row_bytes,
                      w->ne[0], j->x, j->ldx, j->nx, j->out + out_row(w, r), j->ldo);
}

/* The tile's values v[r*np + p] of rows r0..r0+nr-1 (nr <= 8) and
 * positions p0.. into out, position by position: nr neighbouring floats of
 * each output row, so the K-slice tile's eight rows touch each output
 * line once where two scatters of four touched it twice (a 2048-position
 * Q4_K_M prefill: 3.6% of its samples in the scatter). */
static void scatter_rows(const struct mm_job *j, int64_t r0, int nr, int64_t p0, int np,
                         const float *v)
{
    int64_t dst[8];
    for (int r = 0; r < nr; r++)
        dst[r] = out_row(j->w, r0 + r);
    for (int p = 0; p < np; p++) {
        float *o = j->out + (p0 + p) * j->ldo;
        for (int r = 0; r < nr; r++)
            o[dst[r]] = v[r * np + p];
    }
}

/* Rows r0..r1 by positions p0..p1, one single dot each (the rows a tile
 * of four leaves over). */
static void single_dots(const struct mm_job *j, int64_t r0, int64_t r1, int64_t p0, int64_t p1)
{
    const struct ckpt_wview *w = j->w;
    for (int64_t r = r0; r < r1; r++)
        for (int64_t p = p0; p < p1; p++)
            j->out[p * j->ldo + out_row(w, r)] =
                j->dot((const uint8_t *)w->data + (size_t)r * w->row_bytes,
                       j->act + (size_t)p * j->act_stride, w->ne[0]);
}

#define MM_TILE_BYTES 16384 /* weight rows kept in cache while every position passes */
#define MM_PANEL_BYTES 393216 /* activations of a position panel, kept in L2 */

/* Rows r0..r1 of w against every position with the tile kernel, one
 * panel of positions at a time: the panel's activations stay in L2 while
 * the rows stream past it (all positions at once would read every
 * activation from memory again for each four rows).  Four rows by the
 * whole panel per call (the kernel widens each block of the rows once for
 * the panel), single dots for the last rows.  Every value is the row's
 * single dot: the panel size changes no bit. */
static void mm_tile_rows(const struct mm_job *j, int64_t r0, int64_t r1)
{
    const struct ckpt_wview *w = j->w;
    const uint8_t *act = j->act;
    const uint8_t *base = w->data;
    int64_t panel = MM_PANEL_BYTES / (int64_t)j->act_stride;
    panel = panel < 3 ? 3 : panel > CKPT_VEC_TILE_NP_MAX ? CKPT_VEC_TILE_NP_MAX : panel;
    float v[4 * CKPT_VEC_TILE_NP_MAX];
    for (int64_t p0 = 0; p0 < j->nx; p0 += panel) {
        const int np = (int)(j->nx - p0 < panel ? j->nx - p0 : panel);
        int64_t r = r0;
        for (; r + 4 <= r1; r += 4) {
            j->tile(base + (size_t)r * w->row_bytes, w->row_bytes, act + (size_t)p0 * j->act_stride,
                    j->act_stride, w->ne[0], np, v);
            scatter_rows(j, r, 4, p0, np, v);
        }
        single_dots(j, r, r1, p0, p0 + np);
    }
}

/* Rows r0..r1 of w against one position (a decode step), for the tiles
 * that read their four rows side by side (struct ckpt_vec_dot.spread):
 * the tile takes rows a quarter of the range apart (r, r + q, r + 2q,
 * r + 3q for r in [r0, r0 + q)), so its rows are four streams that run
 * on, row after row, through the whole range; the rows a quarter leaves
 * over go to single dots.  Four neighbouring rows (a quad) end their
 * streams every four rows, and on rows of 4096 q4_K weights (2304 bytes)
 * the memory's prefetchers and the hints never caught up: the decode
 * steps of the bench models ran 1.1-1.2x faster spread (prefetch.h,
 * ck_prefetch_row, has the figures).  A tile that reads its rows one
 * after another keeps the quads: spread, its single dots ran a Q4_K_M
 * decode 0.8x.  Every value is the row's single dot: which rows share a
 * tile changes no bit. */
static void mm_decode_rows(const struct mm_job *j, int64_t r0, int64_t r1)
{
    const struct ckpt_wview *w = j->w;
    const uint8_t *base = w->data;
    const int64_t q = (r1 - r0) / 4;
    float v[4];
    for (int64_t r = r0; r < r0 + q; r++) {
        j->tile(base + (size_t)r * w->row_bytes, (size_t)q * w->row_bytes, j->act,
                j->act_stride, w->ne[0], 1, v);
        for (int k = 0; k < 4; k++)
            j->out[out_row(w, r + k * q)] = v[k];
    }
    single_dots(j, r0 + 4 * q, r1, 0, 1);
}

/* The same with the K-slice tile, blocked as a GEMM: for a panel of up to
 * MM_PANEL_POS positions and a block of rows whose running sums fit
 * MM_ACC_FLOATS, the rows' length in slices whose activations for the
 * panel fit MM_SLICE_BYTES; each slice stays in L2 while the block's rows
 * pass it CKPT_VEC_TILE_K_ROWS at a time.  The weights are read from
 * memory once per panel, however long the rows (whole-row panels of a
 * 14336-long row hold 6 positions), and the activations from L3 once per
 * block.  Each running
 * sum sees its additions in the row's order: every value is the single
 * dot, whatever the blocking. */
static void mm_slice_rows(const struct mm_job *j, int64_t r0, int64_t r1, int thread)
{
    const struct ckpt_wview *w = j->w;
    const uint8_t *base = w->data;
    const int R = CKPT_VEC_TILE_K_ROWS;
    const int64_t n = w->ne[0], g1 = r0 + (r1 - r0) / R * R;
    float *acc = j->acc + (size_t)thread * MM_ACC_FLOATS;
    float v[CKPT_VEC_TILE_K_ROWS * MM_PANEL_POS];
    for (int64_t p0 = 0; p0 < j->nx; p0 += MM_PANEL_POS) {
        const int np = (int)(j->nx - p0 < MM_PANEL_POS ? j->nx - p0 : MM_PANEL_POS);
        const int64_t per_row = np * CKPT_VEC_TILE_LANES; /* floats of one row's sums */
        /* the slice's elements: MM_SLICE_BYTES of the panel's activations
         * (4 bytes an element in f32, about 1.06 in q8_0 or q8_K) */
        int64_t kc = MM_SLICE_BYTES * n / (np * (int64_t)j->act_stride);
        kc = kc < CKPT_VEC_TILE_K_STEP ? CKPT_VEC_TILE_K_STEP
                                       : kc / CKPT_VEC_TILE_K_STEP * CKPT_VEC_TILE_K_STEP;
        const int64_t rb = MM_ACC_FLOATS / per_row / R * R;
        for (int64_t b0 = r0; b0 < g1; b0 += rb) {
            const int64_t b1 = g1 - b0 < rb ? g1 : b0 + rb;
            memset(acc, 0, (size_t)((b1 - b0) * per_row) * sizeof(float));
            for (int64_t k0 = 0; k0 < n; k0 += kc) {
                const int64_t k1 = n - k0 <= kc ? n : k0 + kc;
                for (int64_t r = b0; r < b1; r += R) {
                    j->tile_k(base + (size_t)r * w->row_bytes, w->row_bytes,
                              j->act + (size_t)p0 * j->act_stride, j->act_stride, n, k0, k1, np,
                              acc + (r - b0) * per_row, v);
                    if (k1 == n)
                        scatter_rows(j, r, R, p0, np, v);
                }
            }
        }
        single_dots(j, g1, r1, p0, p0 + np);
    }
}

/* The same products through a vec_dot kernel, in tiles of weight rows
 * against all positions (a row's bytes are read from memory once per
 * step, not once per position).  Each value is one call of the kernel:
 * independent of the tiling and of the thread count. */
static void mm_rows_vec(void *ctx, int64_t begin, int64_t end, int thread)
{
    const struct mm_job *j = ctx;
    const struct ckpt_wview *w = j->w;
    /* One position (a decode step) has no activation panel to keep in L2:
     * the whole-row tile reads the rows as fast, without the K-slices'
     * running sums (about 10% of an F16 decode step). */
    if (j->tile && j->nx == 1 && j->spread) {
        mm_decode_rows(j, begin, end);
        return;
    }
    if (j->tile_k && !(j->nx == 1 && j->tile)) {
        mm_slice_rows(j, begin, end, thread);
        return;
    }
    if (j->tile) {
        mm_tile_rows(j, begin, end);
        return;
    }
    const int64_t tile = w->row_bytes >= MM_TILE_BYTES ? 1 : MM_TILE_BYTES / (int64_t)w->row_bytes;
    for (int64_t r0 = begin; r0 < end; r0 += tile) {
        const int64_t r1 = end - r0 < tile ? end : r0 + tile;
        for (int64_t p = 0; p < j->nx; p++) {
            const uint8_t *a = j->act + (size_t)p * j->act_stride;
            float *o = j->out + p * j->ldo;
            for (int64_t r = r0; r < r1; r++)
                o[out_row(w, r)] = j->dot((const uint8_t *)w->data + (size_t)r * w->row_bytes, a,
                                          w->ne[0]);
        }
    }
}

struct quant_job {
    ckpt_act_quant_fn fn;
    const float *x;
    int64_t ldx, ncols;
    uint8_t *dst;
    size_t stride;
};

static void quant_rows(void *ctx, int64_t begin, int64_t end, int thread)
{
    const struct quant_job *q = ctx;
    for (int64_t p = begin; p < end; p++)
        q->fn(q->x + p * q->ldx, q->dst + (size_t)p * q->stride, q->ncols);
}

/* x quantized to act (Q8_0 or Q8_K) in the model's buffer for that type,
 * reusing what an earlier product of the same input generation left
 * there, whole or a run of its rows (the last layer's q takes the rows of
 * k and v it needs).  NULL if the rows do not fit the buffer. */
static const uint8_t *quantized_input(ckpt_model *m, ckpt_type act, const float *x, int64_t ldx,
                                      int64_t nx, int64_t ncols, size_t *stride)
{
    struct act_buf *b = act == CKPT_TYPE_Q8_K ? &m->act_q8_K : &m->act_q8_0;
    size_t row = ckpt_act_row_bytes(act, ncols);
    if (!row || !b->data || row * (size_t)nx > b->cap)
        return NULL;
    *stride = row;
    if (b->input == m->input && b->x && b->ldx == ldx && b->ncols == ncols && x >= b->x) {
        const int64_t first = (x - b->x) / ldx;
        if (x == b->x + first * ldx && first + nx <= b->nx)
            return b->data + (size_t)first * row;
    }
    struct quant_job q = {act == CKPT_TYPE_Q8_K ? m->k->act_quant->q8_K : m->k->act_quant->q8_0,
                          x, ldx, ncols, b->data, row};
    if (nx > 1)
        ckpt_pool_run(m->pool, quant_rows, &q, nx);
    else
        quant_rows(&q, 0, 1, 0);
    b->x = x;
    b->input = m->input;
    b->ldx = ldx;
    b->nx = nx;
    b->ncols = ncols;
    return b->data;
}

/* Show the n input rows of a product with weight wt (of expert e, or -1)
 * to the observer, if there is one. */
static void observe(const ckpt_model *m, enum ckpt_mm_weight wt, int64_t layer, int64_t e,
                    const float *x, int64_t n, int64_t ncols)
{
    if (!m->observer)
        return;
    struct ckpt_mm_input in = {wt, layer, e, x, n, ncols, e >= 0 ? m->rows : NULL, m->step_n};
    m->observer(m->observer_ctx, &in);
}

/* The grain of a product's rows, the smallest chunk a thread is handed
 * (the pool's chunks shrink to it): 1/32 of a thread's share (a thread
 * slowed by other load leaves its later chunks to the others, and the
 * last chunk, which one thread computes while the others wait, is 1/64 of
 * gate and up at 2 threads: 3.5 ms of a 64-position F16 step of
 * Mistral-7B width where 1/16 was 14 ms; 1/16 and 1/64 of a share decoded
 * no faster), in multiples of the K-slice tile's rows (the four-row tiles
 * take them as two quads). */
static int64_t mm_grain(int64_t rows, int n_threads)
{
    const int64_t g = rows / (32 * (int64_t)n_threads);
    return g < CKPT_VEC_TILE_K_ROWS ? CKPT_VEC_TILE_K_ROWS
                                    : g / CKPT_VEC_TILE_K_ROWS * CKPT_VEC_TILE_K_ROWS;
}

/* The product out[j][row] = w[row] . x[j] for the nx vectors of x, ready to
 * run: its kernel chosen and its input quantized if the kernel wants it.
 * same_x: x holds what it held for the previous product (its quantized
 * copy can be reused). */
static struct mm_job mm_prepare(ckpt_model *m, const struct ckpt_wview *w, const float *x,
                                int64_t ldx, int64_t nx, float *out, int64_t ldo, bool same_x)
{
    struct mm_job j = {.isa = m->isa, .w = w, .x = x, .ldx = ldx, .nx = nx, .out = out, .ldo = ldo};
    if (!same_x)
        m->input++; /* even for a product that quantizes nothing: x has new values */
    const struct ckpt_vec_dot *vd = m->k->vec_dot ? &m->k->vec_dot[w->type] : NULL;
    if (vd && vd->dot) {
        if (vd->act == CKPT_TYPE_F32) {
            j.act = (const uint8_t *)x;
            j.act_stride = (size_t)ldx * sizeof(float);
        } else {
            j.act = quantized_input(m, vd->act, x, ldx, nx, w->ne[0], &j.act_stride);
        }
        if (j.act) {
            j.dot = vd->dot;
            j.tile = vd->tile;
            j.tile_k = vd->tile_k;
            j.spread = vd->spread;
            j.acc = m->tile_acc;
        }
    }
    return j;
}

struct mm_group {
    const struct mm_job *jobs;
    int n;
};

/* Items are the rows of the group's products, one after the other. */
static void mm_group_rows(void *ctx, int64_t begin, int64_t end, int thread)
{
    const struct mm_group *g = ctx;
    int64_t base = 0;
    for (int k = 0; k < g->n && base < end; k++) {
        const struct mm_job *j = &g->jobs[k];
        const int64_t rows = j->w->ne[1];
        const int64_t b = begin > base ? begin - base : 0;
        const int64_t e = end - base < rows ? end - base : rows;
        if (b < e)
            (j->dot ? mm_rows_vec : mm_rows)((void *)j, b, e, thread);
        base += rows;
    }
}

/* Run n prepared products that share nothing but their input in one pass
 * of the pool (q, k and v; gate and up): one wake-up of the threads, not
 * n.  Each value is still one row's product: independent of the split. */
static void matmuls(ckpt_model *m, const struct mm_job *jobs, int n)
{
    int64_t rows = 0;
    for (int k = 0; k < n; k++)
        rows += jobs[k].w->ne[1];
    struct mm_group g = {jobs, n};
    ckpt_pool_run_dynamic(m->pool, mm_group_rows, &g, rows, mm_grain(rows, m->n_threads));
    for (int k = 0; m->release && k < n; k++) {
        const struct ckpt_wview *w = jobs[k].w;
        m->release(m->release_ctx, w->data, (size_t)w->ne[1] * w->row_bytes);
    }
}

/* out[j][row] = w[row] . x[j] for the nx vectors of x, rows split across the
 * pool (same_x as for mm_prepare). */
static void matmul(ckpt_model *m, const struct ckpt_wview *w, const float *x, int64_t ldx,
                   int64_t nx, float *out, int64_t ldo, bool same_x)
{
    const struct mm_job j = mm_prepare(m, w, x, ldx, nx, out, ldo, same_x);
    matmuls(m, &j, 1);
}

/* ==== attention ==== */

struct att_job {
    ckpt_model *m;
    int64_t layer, pos0, first; /* positions from first on, of the step at pos0 */
    int64_t nq;                 /* ... nq of them */
};

/* Items are (position, kv head) pairs, kv-head-major: the query heads
 * that share a kv head go together on one thread, scored four at a time
 * against each key where the table has scores4 (else one dot_f32 call
 * each), and their values summed two heads at a time where it has
 * weighted_sum2 (else one by one); consecutive items (taken
 * by both threads) read the same kv head's keys and values, so a run that
 * fits L2 is read from memory once for many positions (position-major, a
 * thread's next item read another head's: a 2048-position Q4_K_M prefill
 * spent 0.34 of the GEMM tile's samples in attention, kv-head-major 0.29).
 * Every score and sum is the one kernel call it was per (position, head):
 * the grouping and the order change no bit. */
static void att_items(void *ctx, int64_t begin, int64_t end, int thread)
{
    const struct att_job *j = ctx;
    ckpt_model *m = j->m;
    const struct ckpt_model_config *c = &m->cfg;
    const int64_t hd = c->head_dim, rep = c->n_heads / c->n_kv_heads, W = c->sliding_window;
    const int64_t run = m->n_ctx * hd; /* one kv head's cache */
    float *s = m->scores + (int64_t)thread * rep * m->n_ctx;
    const float scale = (float)sqrt((double)hd);
    for (int64_t it = begin; it < end; it++) {
        const int64_t t = j->first + it % j->nq, kvh = it / j->nq;
        const int64_t p = j->pos0 + t, lo = W > 0 && p - W + 1 > 0 ? p - W + 1 : 0, n = p - lo + 1;
        const float *kc = m->k_cache + (j->layer * c->n_kv_heads + kvh) * run;
        const float *vc = m->v_cache + (j->layer * c->n_kv_heads + kvh) * run;
        const float *q = m->q + t * m->q_dim + kvh * rep * hd;
        int64_t h4 = 0; /* heads scored four at a time */
        for (; m->k->scores4 && h4 + 4 <= rep; h4 += 4)
            m->k->scores4(q + h4 * hd, hd, kc + lo * hd, hd, n, hd, scale, s + h4 * m->n_ctx,
                          m->n_ctx);
        for (int64_t k = lo; k <= p; k++)
            for (int64_t h = h4; h < rep; h++)
                s[h * m->n_ctx + k - lo] = m->k->dot_f32(q + h * hd, kc + k * hd, hd) / scale;
        float *o = m->att + t * m->q_dim + kvh * rep * hd;
        for (int64_t h = 0; h < rep; h++)
            ckpt_ops_softmax_with(s + h * m->n_ctx, n, m->k->exp_sub);
        int64_t h2 = 0; /* heads summed four, then two at a time */
        for (; m->k->weighted_sum4 && h2 + 4 <= rep; h2 += 4) {
            float *const o4[4] = {o + h2 * hd, o + (h2 + 1) * hd, o + (h2 + 2) * hd,
                                  o + (h2 + 3) * hd};
            const float *const s4[4] = {s + h2 * m->n_ctx, s + (h2 + 1) * m->n_ctx,
                                        s + (h2 + 2) * m->n_ctx, s + (h2 + 3) * m->n_ctx};
            m->k->weighted_sum4(o4, s4, vc + lo * hd, n, hd, hd);
        }
        for (; m->k->weighted_sum2 && h2 + 2 <= rep; h2 += 2)
            m->k->weighted_sum2(o + h2 * hd, o + (h2 + 1) * hd, s + h2 * m->n_ctx,
                                s + (h2 + 1) * m->n_ctx, vc + lo * hd, n, hd, hd);
        for (int64_t h = h2; h < rep; h++)
            m->k->weighted_sum(o + h * hd, s + h * m->n_ctx, vc + lo * hd, n, hd, hd);
    }
}

/* ==== one step of nt positions starting at pos0 ====
 *
 * The blocks take `first`: the positions before it need no output from
 * this layer on (the step's last layer, where only the positions whose
 * logits are asked for go on; the others leave their keys and values in
 * the cache and stop).  Rows keep their index t in every buffer. */

static void rmsnorm_rows(const ckpt_model *m, const float *w, int64_t first, int64_t nt)
{
    for (int64_t t = first; t < nt; t++)
        ckpt_ops_rmsnorm(m->xn + t * m->cfg.dim, m->x + t * m->cfg.dim, w, m->cfg.dim,
                         m->cfg.rms_eps);
}

/*
 * Map the pages of the KV cache's runs up to position `need` before a step
 * writes them, more at a time as positions fill (64, then doubling, up to
 * n_ctx): the cache is calloc'd and its pages mapped as written, and a
 * decode step's first write to a page of a run was a fault, 13 us each
 * under this VM's shadow page tables: a layer's 16 runs (kv heads, keys
 * and values) each reach a new page every 8 positions, 2 faults a layer a
 * token, taken on the caller while the workers waited (36 us a layer a
 * token: 1% of a Q4_K_M decode step of the bench model).
 * MADV_POPULATE_WRITE maps a range in one call at 4.4 us a page; where
 * the kernel has no such advice the pages keep being mapped as written.  Page-aligned inward, as the
 * runs are not: a page shared with the previous position is mapped
 * already, one shared with the next is left to a write.
 */
static void kv_map_ahead(ckpt_model *m, int64_t need)
{
#ifdef MADV_POPULATE_WRITE
    if (need <= m->kv_mapped)
        return;
    int64_t to = m->kv_mapped < 32 ? 64 : 2 * m->kv_mapped;
    if (to < need)
        to = need;
    if (to > m->n_ctx)
        to = m->n_ctx;
    const int64_t hd = m->cfg.head_dim, runs = m->cfg.n_layers * m->cfg.n_kv_heads;
    const uintptr_t page = 4096;
    for (int64_t r = 0; r < 2 * runs; r++) {
        float *run = (r < runs ? m->k_cache : m->v_cache) + (r % runs) * m->n_ctx * hd;
        uintptr_t b = (uintptr_t)(run + m->kv_mapped * hd), e = (uintptr_t)(run + to * hd);
        b = (b + page - 1) & ~(page - 1);
        e &= ~(page - 1);
        if (b < e)
            (void)madvise((void *)b, e - b, MADV_POPULATE_WRITE);
    }
    m->kv_mapped = to;
#else
    (void)m, (void)need;
#endif
}

/* RoPE and the cache of one layer's step: items are (position t, kv head
 * h) pairs.  Item (t, h) rotates k_new's head h at t and, from `first` on,
 * q's heads of h's group at t, then copies the key and value into h's run
 * of the cache (after its earlier positions).  Every value is the one
 * rotation or copy it was when the calling thread did all of them, as it
 * did before: 20-40 us a layer of a decode step while the workers
 * waited. */
struct rope_job {
    ckpt_model *m;
    int64_t l, pos0, first;
};

static void rope_cache_items(void *ctx, int64_t begin, int64_t end, int thread)
{
    const struct rope_job *j = ctx;
    ckpt_model *m = j->m;
    const struct ckpt_model_config *c = &m->cfg;
    const int64_t hd = c->head_dim, half = hd / 2, nkv = c->n_kv_heads, rep = c->n_heads / nkv;
    for (int64_t it = begin; it < end; it++) {
        const int64_t t = it / nkv, h = it % nkv;
        const float *cs = m->rope_cos + t * half, *sn = m->rope_sin + t * half;
        for (int64_t qh = h * rep; t >= j->first && qh < (h + 1) * rep; qh++)
            ckpt_ops_rope_apply(m->q + t * m->q_dim + qh * hd, cs, sn, half);
        float *k = m->k_new + t * m->kv_dim + h * hd;
        ckpt_ops_rope_apply(k, cs, sn, half);
        const int64_t at = ((j->l * nkv + h) * m->n_ctx + j->pos0 + t) * hd;
        memcpy(m->k_cache + at, k, (size_t)hd * sizeof(float));
        memcpy(m->v_cache + at, m->v_new + t * m->kv_dim + h * hd, (size_t)hd * sizeof(float));
    }
}

static void attention_block(ckpt_model *m, int64_t l, int64_t pos0, int64_t first, int64_t nt)
{
    const struct ckpt_model_config *c = &m->cfg;
    const struct ckpt_layer_views *L = &m->w->layers[l];
    int64_t d = c->dim;

    rmsnorm_rows(m, m->norm_attn + l * d, 0, nt);
    observe(m, CKPT_MM_ATTN_Q, l, -1, m->xn, nt, d);
    observe(m, CKPT_MM_ATTN_K, l, -1, m->xn, nt, d);
    observe(m, CKPT_MM_ATTN_V, l, -1, m->xn, nt, d);
    /* k first: q of fewer rows reuses rows of its quantized input */
    const int64_t nq = nt - first;
    struct mm_job qkv[3] = {mm_prepare(m, &L->wk, m->xn, d, nt, m->k_new, m->kv_dim, false),
                            mm_prepare(m, &L->wv, m->xn, d, nt, m->v_new, m->kv_dim, true)};
    if (nq > 0)
        qkv[2] = mm_prepare(m, &L->wq, m->xn + first * d, d, nq, m->q + first * m->q_dim,
                            m->q_dim, true);
    matmuls(m, qkv, nq > 0 ? 3 : 2);
    const struct rope_job rj = {m, l, pos0, first};
    ckpt_pool_run(m->pool, rope_cache_items, (void *)&rj, nt * c->n_kv_heads);
    if (nq == 0)
        return;
    struct att_job j = {m, l, pos0, first, nq};
    ckpt_pool_run_dynamic(m->pool, att_items, &j, nq * c->n_kv_heads, 1);
    observe(m, CKPT_MM_ATTN_OUTPUT, l, -1, m->att, nt, m->q_dim);
    matmul(m, &L->wo, m->att + first * m->q_dim, m->q_dim, nq, m->proj + first * d, d, false);
    for (int64_t i = first * d; i < nt * d; i++)
        m->x[i] = m->x[i] + m->proj[i];
}

struct glu_job {
    float *a;       /* gate, then silu(gate) * up */
    const float *b; /* up */
    void (*silu_mul)(float *a, const float *b, int64_t n); /* the ISA's */
};

/* Items are elements of the (nx, ffn_dim) gate and up. */
static void glu_items(void *ctx, int64_t begin, int64_t end, int thread)
{
    const struct glu_job *g = ctx;
    g->silu_mul(g->a + begin, g->b + begin, end - begin);
}

/* down(silu(gate(x)) * up(x)) for nx rows of x into y (nx, dim): the FFN
 * of layer l, or its expert e (>= 0, rows routed as m->rows says). */
static void swiglu(ckpt_model *m, const struct ckpt_ffn_views *f, int64_t l, int64_t e,
                   const float *x, int64_t nx, float *y)
{
    int64_t d = m->cfg.dim, F = m->cfg.ffn_dim;
    observe(m, CKPT_MM_FFN_GATE, l, e, x, nx, d);
    observe(m, CKPT_MM_FFN_UP, l, e, x, nx, d);
    const struct mm_job gate_up[2] = {mm_prepare(m, &f->gate, x, d, nx, m->ffn_a, F, false),
                                      mm_prepare(m, &f->up, x, d, nx, m->ffn_b, F, true)};
    matmuls(m, gate_up, 2);
    /* an exp per element, nx * 14336 of them: split across the pool */
    struct glu_job g = {m->ffn_a, m->ffn_b, m->k->silu_mul};
    ckpt_pool_run(m->pool, glu_items, &g, nx * F);
    observe(m, CKPT_MM_FFN_DOWN, l, e, m->ffn_a, nx, F);
    matmul(m, &f->down, m->ffn_a, F, nx, y, d, false);
}

static void route(ckpt_model *m, int64_t first, int64_t nt)
{
    int64_t E = m->cfg.n_experts, K = m->cfg.n_experts_used;
    for (int64_t t = first; t < nt; t++) {
        float *p = m->router + t * E;
        int32_t *sel = m->sel + t * K;
        float *w = m->sel_w + t * K;
        ckpt_ops_softmax_with(p, E, m->k->exp_sub);
        ckpt_ops_topk(p, E, (int)K, sel);
        float sum = 0.0f;
        for (int64_t k = 0; k < K; k++)
            sum += p[sel[k]];
        for (int64_t k = 0; k < K; k++)
            w[k] = p[sel[k]] / sum;
    }
}

static void moe_block(ckpt_model *m, int64_t l, int64_t first, int64_t nt)
{
    const struct ckpt_layer_views *L = &m->w->layers[l];
    int64_t d = m->cfg.dim, E = m->cfg.n_experts, K = m->cfg.n_experts_used;
    observe(m, CKPT_MM_FFN_GATE_INP, l, -1, m->xn, nt, d);
    matmul(m, &L->router, m->xn + first * d, d, nt - first, m->router + first * E, E, false);
    route(m, first, nt);
    memset(m->proj + first * d, 0, (size_t)((nt - first) * d) * sizeof(float));
    /* experts in index order, each over the positions that chose it, as HF */
    for (int64_t e = 0; e < E; e++) {
        int64_t n = 0;
        for (int64_t t = first; t < nt; t++)
            for (int64_t k = 0; k < K; k++)
                if (m->sel[t * K + k] == e) {
                    m->rows[n] = (int32_t)t;
                    m->rows_w[n] = m->sel_w[t * K + k];
                    memcpy(m->moe_x + n * d, m->xn + t * d, (size_t)d * sizeof(float));
                    n++;
                }
        if (n == 0)
            continue;
        swiglu(m, &L->experts[e], l, e, m->moe_x, n, m->moe_y);
        for (int64_t i = 0; i < n; i++) {
            float *acc = m->proj + m->rows[i] * d;
            const float *y = m->moe_y + i * d;
            for (int64_t c = 0; c < d; c++)
                acc[c] = acc[c] + y[c] * m->rows_w[i];
        }
    }
}

static void ffn_block(ckpt_model *m, int64_t l, int64_t first, int64_t nt)
{
    int64_t d = m->cfg.dim;
    if (first == nt)
        return;
    rmsnorm_rows(m, m->norm_ffn + l * d, first, nt);
    if (m->cfg.features & CKPT_FEAT_EXPERTS)
        moe_block(m, l, first, nt);
    else
        swiglu(m, &m->w->layers[l].ffn, l, -1, m->xn + first * d, nt - first,
               m->proj + first * d);
    for (int64_t i = first * d; i < nt * d; i++)
        m->x[i] = m->x[i] + m->proj[i];
}

static void step(ckpt_model *m, const int32_t *ids, int64_t nt, float *logits, bool all)
{
    const struct ckpt_model_config *c = &m->cfg;
    const struct ckpt_model_weights *w = m->w;
    int64_t d = c->dim, half = c->head_dim / 2, pos0 = m->n_past;
    m->step_n = nt;
    kv_map_ahead(m, pos0 + nt);
    for (int64_t t = 0; t < nt; t++) {
        ckpt_dequantize_row(w->tok_embd.type,
                        (const uint8_t *)w->tok_embd.data + (size_t)ids[t] * w->tok_embd.row_bytes,
                        m->x + t * d, d);
        ckpt_ops_rope_cos_sin(m->rope_cos + t * half, m->rope_sin + t * half, m->inv_freq, half,
                              pos0 + t);
    }
    /* the positions the last layer carries on: those whose logits are
     * asked for (all of them for an observer, which sees every product) */
    const int64_t keep = all || m->observer ? nt : logits ? 1 : 0;
    for (int64_t l = 0; l < c->n_layers; l++) {
        const int64_t first = l == c->n_layers - 1 ? nt - keep : 0;
        attention_block(m, l, pos0, first, nt);
        ffn_block(m, l, first, nt);
    }
    m->n_past += nt;
    if (!logits)
        return;
    /* final norm and output projection of the positions asked for */
    int64_t first = all ? 0 : nt - 1;
    for (int64_t t = first; t < nt; t++)
        ckpt_ops_rmsnorm(m->xn + t * d, m->x + t * d, m->norm_out, d, c->rms_eps);
    observe(m, CKPT_MM_OUTPUT, -1, -1, m->xn + first * d, nt - first, d);
    matmul(m, &w->output, m->xn + first * d, d, nt - first, logits, c->n_vocab, false);
}

ckpt_status ckpt_model_eval(ckpt_model *m, const int32_t *ids, int64_t n, float *logits, bool all,
                            ckpt_err *err)
{
    if (n <= 0)
        return ckpt_err_set(err, CKPT_E_USAGE, "no tokens to evaluate");
    if (n > m->n_ctx - m->n_past)
        return ckpt_err_set(err, CKPT_E_RANGE,
                            "context full: %lld positions cached, %lld more do not fit in %lld",
                            (long long)m->n_past, (long long)n, (long long)m->n_ctx);
    for (int64_t i = 0; i < n; i++)
        if (ids[i] < 0 || ids[i] >= m->cfg.n_vocab)
            return ckpt_err_set(err, CKPT_E_RANGE, "token id %ld out of range (vocabulary %lld)",
                                (long)ids[i], (long long)m->cfg.n_vocab);
    for (int64_t done = 0; done < n; done += m->max_batch) {
        int64_t nt = n - done < m->max_batch ? n - done : m->max_batch;
        bool last = done + nt == n;
        float *lg = NULL;
        if (logits && all)
            lg = logits + done * m->cfg.n_vocab;
        else if (logits && last)
            lg = logits;
        step(m, ids + done, nt, lg, all);
    }
    return CKPT_OK;
}
