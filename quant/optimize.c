/*
 * optimize.c - the measuring side of --optimize (optimize.h): the source's
 * next-token distributions on the first tokens of the calibration text,
 * then for each weight matrix the activation-weighted error of every
 * candidate type and one forward pass with that matrix alone quantized,
 * to calibrate how much its error moves the output.  The allocation
 * itself is in optimize_alloc.c.
 */
#include "optimize.h"

#include "../arch/arch.h"
#include "../formats/model_load.h"
#include "../formats/tokenizer.h"
#include "../kernels/model.h"
#include "../kernels/quant.h"
#include "calib.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* The types a weight matrix may get, smallest first by bits per weight;
 * those whose block does not divide a tensor's rows are skipped for it. */
static const ckpt_type candidates[] = {
    CKPT_TYPE_Q2_K, CKPT_TYPE_Q3_K, CKPT_TYPE_Q4_0, CKPT_TYPE_IQ4_NL, CKPT_TYPE_Q4_K,
    CKPT_TYPE_Q4_1, CKPT_TYPE_Q5_0, CKPT_TYPE_Q5_K, CKPT_TYPE_Q5_1, CKPT_TYPE_Q6_K,
    CKPT_TYPE_Q8_0,
};
_Static_assert(sizeof candidates / sizeof candidates[0] <= CKPT_OPT_MAX_CAND, "candidates");

#define PAD(n) (((n) + CKPT_GGUF_DEFAULT_ALIGNMENT - 1) / CKPT_GGUF_DEFAULT_ALIGNMENT * \
                CKPT_GGUF_DEFAULT_ALIGNMENT)

struct run {
    const struct ckpt_opt_opts *o;
    struct ckpt_qsrc *src;                 /* rows as the quantizer will read them */
    struct ckpt_qsrc *under;               /* the rows as stored */
    ckpt_gptq *g;                          /* --gptq: src is its wrapper; else NULL */
    const ckpt_imatrix *im;
    const struct ckpt_arch *arch;
    const struct ckpt_model_config *cfg;
    const struct ckpt_model_weights *base; /* the source's views */
    struct ckpt_model_weights w;           /* a copy, one view swapped at a time */
    struct ckpt_layer_views *layers;       /* w's layers (n_layers) */
    struct ckpt_ffn_views *experts;        /* w's experts (n_layers * n_experts) */
    ckpt_pool *pool;
    int32_t *ids;                          /* n_chunks * n_ctx tokens, BOS in front of each */
    int64_t n_chunks, n_ctx;
    float *ref_lp;                         /* (n_chunks * n_ctx, n_vocab) source log-probs */
    float *logits;                         /* (n_ctx, n_vocab) scratch */
    double *out_sq;                        /* (dim) sum of x^2 into output.weight */
    int64_t out_rows;
    int n_runs;
    uint64_t done, total;                  /* positions run, and expected (progress) */
    int isa;                               /* of the forward passes: the default */
};

/* The reference run's observer: the inputs of output.weight, which the
 * calibration's importance matrix leaves out. */
static void on_input(void *ctx, const struct ckpt_mm_input *in)
{
    struct run *r = ctx;
    if (in->weight != CKPT_MM_OUTPUT)
        return;
    for (int64_t i = 0; i < in->n; i++)
        for (int64_t j = 0; j < in->ncols; j++) {
            double x = in->x[i * in->ncols + j];
            r->out_sq[j] += x * x;
        }
    r->out_rows += in->n;
}

static void progress(struct run *r, int64_t positions)
{
    r->done += (uint64_t)positions;
    if (r->done > r->total)
        r->total = r->done;
    if (r->o->progress)
        r->o->progress(r->o->cb_ctx, "sensitivity", r->done, r->total, CKPT_PROGRESS_TOKENS);
}

/* log-softmax of n logits, in double, into lp. */
static void log_softmax(const float *x, int64_t n, float *lp)
{
    double mx = x[0], s = 0;
    for (int64_t i = 1; i < n; i++)
        mx = x[i] > mx ? x[i] : mx;
    for (int64_t i = 0; i < n; i++)
        s += exp((double)x[i] - mx);
    double lse = mx + log(s);
    for (int64_t i = 0; i < n; i++)
        lp[i] = (float)((double)x[i] - lse);
}

/* Run the text through the model with weights w: with ref, store the
 * log-probs; else return the mean KL(source || model) in *kld. */
static ckpt_status pass(struct run *r, bool ref, double *kld, ckpt_err *err)
{
    const int64_t V = r->cfg->n_vocab;
    struct ckpt_model_opts mo = {.n_ctx = r->n_ctx, .max_batch = r->n_ctx, .pool = r->pool,
                                 .isa = r->isa};
    ckpt_model *m = NULL;
    ckpt_status st = ckpt_model_new(&m, r->cfg, &r->w, &mo, err);
    if (st != CKPT_OK)
        return st;
    if (ref)
        ckpt_model_set_observer(m, on_input, r);
    double sum = 0;
    float *lq = malloc((size_t)V * sizeof *lq);
    if (!lq) {
        ckpt_model_free(m);
        return ckpt_err_set(err, CKPT_E_NOMEM, "out of memory");
    }
    for (int64_t c = 0; c < r->n_chunks && st == CKPT_OK; c++) {
        ckpt_model_truncate(m, 0);
        st = ckpt_model_eval(m, r->ids + c * r->n_ctx, r->n_ctx, r->logits, true, err);
        for (int64_t p = 0; p < r->n_ctx && st == CKPT_OK; p++) {
            float *lp = r->ref_lp + (c * r->n_ctx + p) * V;
            if (ref) {
                log_softmax(r->logits + p * V, V, lp);
                continue;
            }
            log_softmax(r->logits + p * V, V, lq);
            double k = 0;
            for (int64_t v = 0; v < V; v++)
                k += exp((double)lp[v]) * ((double)lp[v] - (double)lq[v]);
            sum += k;
        }
    }
    free(lq);
    ckpt_model_free(m);
    r->n_runs++;
    if (kld)
        *kld = sum / (double)(r->n_chunks * r->n_ctx);
    return st;
}

/* Copy the source's views into r->w (layers and experts owned by r). */
static ckpt_status copy_views(struct run *r, ckpt_err *err)
{
    const int64_t L = r->cfg->n_layers, E = r->cfg->n_experts;
    r->layers = calloc((size_t)L, sizeof *r->layers);
    r->experts = E > 0 ? calloc((size_t)(L * E), sizeof *r->experts) : NULL;
    if (!r->layers || (E > 0 && !r->experts))
        return ckpt_err_set(err, CKPT_E_NOMEM, "out of memory");
    r->w = *r->base;
    r->w.layers = r->layers;
    for (int64_t l = 0; l < L; l++) {
        r->layers[l] = r->base->layers[l];
        if (E > 0) {
            memcpy(r->experts + l * E, r->base->layers[l].experts, (size_t)E * sizeof *r->experts);
            r->layers[l].experts = r->experts + l * E;
        }
    }
    return CKPT_OK;
}

/* Point the views of tensor `name` (ne, type t, bytes at data) into r->w,
 * or back to the source's when data is NULL. */
static ckpt_status swap(struct run *r, const struct ckpt_qsrc_tensor *st, ckpt_type t,
                        const void *data, ckpt_err *err)
{
    struct ckpt_arch_match mt = ckpt_arch_match_gguf(r->arch, st->name);
    struct ckpt_model_weights *base = (struct ckpt_model_weights *)r->base;
    const int64_t n_mat = mt.spec && mt.spec->stacked ? r->cfg->n_experts : 1;
    if (!mt.spec || (mt.layer >= 0 && mt.layer >= r->cfg->n_layers) ||
        !ckpt_weights_slot(&r->w, mt.role, mt.layer < 0 ? 0 : mt.layer, 0))
        return ckpt_err_set(err, CKPT_E_FORMAT,
                            "%s: tensor '%s' has no place in the reference model",
                            r->src->name, st->name);
    const int64_t l = mt.layer < 0 ? 0 : mt.layer;
    struct ckpt_wview all;
    if (data && !ckpt_wview_init(&all, t, st->ne[0], st->ne[1], n_mat, data))
        return ckpt_err_set(err, CKPT_E_FORMAT, "%s: tensor '%s': shape does not fit %s",
                            r->src->name, st->name, ckpt_type_name(t));
    for (int64_t e = 0; e < n_mat; e++) {
        struct ckpt_wview *v = ckpt_weights_slot(&r->w, mt.role, l, e);
        const struct ckpt_wview *b = ckpt_weights_slot(base, mt.role, l, e);
        if (!data) {
            *v = *b;
            continue;
        }
        *v = n_mat > 1 ? ckpt_wview_slice(&all, e) : all;
        /* quantizer rows are in GGUF order: Q/K rows permuted over heads */
        v->qk_heads = mt.spec->permute == CKPT_DIM_HEADS      ? (int32_t)r->cfg->n_heads
                      : mt.spec->permute == CKPT_DIM_KV_HEADS ? (int32_t)r->cfg->n_kv_heads
                                                              : 0;
    }
    /* a tied output is the embedding: it follows it */
    if (mt.role == CKPT_ROLE_TOKEN_EMBD && base->output.data == base->tok_embd.data)
        r->w.output = data ? r->w.tok_embd : base->output;
    return CKPT_OK;
}

/* Sum over rows of h_j (x_ij - y_ij)^2; h NULL: weights 1. */
static double weighted_err(const float *x, const float *y, int64_t n, const float *h)
{
    double s = 0;
    for (int64_t j = 0; j < n; j++) {
        double d = (double)x[j] - (double)y[j];
        s += (h ? (double)h[j] : 1.0) * d * d;
    }
    return s;
}

/* Encode rows (n_mat matrices of nr rows x ne0) as type t with the
 * importance weights im (per matrix, or NULL) into q, and return the error
 * of the result against ref: (x - y) H (x - y)^T with the input second
 * moment H where --gptq has it, else weighted by h (per matrix; NULL: 1). */
static ckpt_status encode(const struct run *r, size_t ti, ckpt_type t, const float *rows,
                          const float *ref, int64_t ne0, int64_t nr, int64_t n_mat,
                          const float *im, const float *h, void *q, float *tmp, double *e,
                          ckpt_err *err)
{
    size_t rb;
    ckpt_type_row_bytes(t, ne0, &rb);
    *e = 0;
    for (int64_t m = 0; m < n_mat; m++) {
        const float *x = rows + m * nr * ne0;
        unsigned char *qm = (unsigned char *)q + (size_t)(m * nr) * rb;
        ckpt_status st = ckpt_quantize_rows(t, x, qm, nr, ne0, im ? im + m * ne0 : NULL, err);
        if (st != CKPT_OK)
            return st;
        for (int64_t i = 0; i < nr; i++) {
            const float *xr = ref + (m * nr + i) * ne0;
            ckpt_dequantize_row(t, qm + (size_t)i * rb, tmp, ne0);
            double eh = r->g ? ckpt_gptq_error(r->g, ti, m, xr, tmp) : -1;
            *e += eh >= 0 ? eh : weighted_err(xr, tmp, ne0, h ? h + m * ne0 : NULL);
        }
    }
    return CKPT_OK;
}

/* Candidate k of tensor ot encoded, alone in the model: its measured
 * divergence into ot->cand[k].kld. */
static ckpt_status measure_cand(struct run *r, struct ckpt_opt_tensor *ot, size_t k,
                                ckpt_err *err)
{
    const struct ckpt_qsrc_tensor *st = &r->src->tensors[ot->src_index];
    const int64_t ne0 = st->ne[0], n_mat = st->ne[2] * st->ne[3], nr = st->ne[1];
    const ckpt_type t = ot->cand[k].type;
    size_t rb;
    ckpt_type_row_bytes(t, ne0, &rb);
    float *x = malloc((size_t)(nr * n_mat * ne0) * sizeof *x);
    void *q = malloc((size_t)(nr * n_mat) * rb);
    const float *im = NULL;
    ckpt_status s = CKPT_OK;
    if (!x || !q)
        s = ckpt_err_set(err, CKPT_E_NOMEM, "%s: out of memory for tensor '%s'", r->src->name,
                         st->name);
    if (r->g)
        ckpt_gptq_set_type(r->g, ot->src_index, (int)t);
    if (s == CKPT_OK)
        s = r->src->ops->rows(r->src->ctx, ot->src_index, 0, nr * n_mat, x, err);
    if (r->g)
        ckpt_gptq_set_type(r->g, ot->src_index, -1);
    if (s == CKPT_OK)
        s = ckpt_imatrix_for_tensor(r->im, st->name, ne0, n_mat, &im, err);
    for (int64_t m = 0; m < n_mat && s == CKPT_OK; m++)
        s = ckpt_quantize_rows(t, x + m * nr * ne0, (unsigned char *)q + (size_t)(m * nr) * rb,
                               nr, ne0, im ? im + m * ne0 : NULL, err);
    if (s == CKPT_OK && (s = swap(r, st, t, q, err)) == CKPT_OK) {
        double kld = 0;
        s = pass(r, false, &kld, err);
        ot->cand[k].kld = kld > 0 ? kld : 0; /* >= 0 but for rounding */
        ckpt_status s2 = swap(r, st, t, NULL, err);
        s = s != CKPT_OK ? s : s2;
    }
    free(x);
    free(q);
    return s;
}

/* The candidates of one tensor, sorted by bytes, with their errors; the
 * anchor (the mix's type, else the nearest in size) measured. */
static ckpt_status candidates_of(struct run *r, struct ckpt_opt_tensor *ot, ckpt_err *err)
{
    const struct ckpt_qsrc_tensor *st = &r->src->tensors[ot->src_index];
    const int64_t ne0 = st->ne[0], n_mat = st->ne[2] * st->ne[3], nr = st->ne[1];
    const int64_t rows = nr * n_mat;
    float *x = NULL, *xg = NULL, *tmp = NULL, *h = NULL;
    void *q = NULL;
    const float *im = NULL;
    ckpt_status s = CKPT_OK;
    size_t rb8;
    ckpt_type_row_bytes(CKPT_TYPE_Q8_0, ne0, &rb8); /* the largest candidate */
    if (!(x = malloc((size_t)(rows * ne0) * sizeof *x)) ||
        (r->g && !(xg = malloc((size_t)(rows * ne0) * sizeof *xg))) ||
        !(tmp = malloc((size_t)ne0 * sizeof *tmp)) || !(q = malloc((size_t)rows * rb8))) {
        s = ckpt_err_set(err, CKPT_E_NOMEM, "%s: out of memory for tensor '%s'", r->src->name,
                         st->name);
        goto out;
    }
    if ((s = r->under->ops->rows(r->under->ctx, ot->src_index, 0, rows, x, err)) != CKPT_OK ||
        (s = ckpt_imatrix_for_tensor(r->im, st->name, ne0, n_mat, &im, err)) != CKPT_OK)
        goto out;
    /* h: the importance matrix where there is one, the output's inputs as
     * observed, else uniform (the embedding, a lookup) */
    if (!im && strcmp(st->name, "output.weight") == 0 && r->out_rows > 0 &&
        ne0 == r->cfg->dim) {
        if (!(h = malloc((size_t)ne0 * sizeof *h))) {
            s = ckpt_err_set(err, CKPT_E_NOMEM, "out of memory");
            goto out;
        }
        for (int64_t j = 0; j < ne0; j++)
            h[j] = (float)(r->out_sq[j] / (double)r->out_rows);
    }
    ot->n_cand = 0;
    for (size_t k = 0; k < sizeof candidates / sizeof candidates[0]; k++) {
        size_t rb;
        if (!ckpt_type_row_bytes(candidates[k], ne0, &rb) || !ckpt_dot_supported(candidates[k]))
            continue;
        struct ckpt_opt_cand *c = &ot->cand[ot->n_cand++];
        *c = (struct ckpt_opt_cand){.type = candidates[k],
                                    .bytes = PAD((uint64_t)rb * (uint64_t)rows), .kld = -1};
        const float *in = x;
        if (r->g) { /* the rows as compensated for this type */
            ckpt_gptq_set_type(r->g, ot->src_index, (int)c->type);
            s = r->src->ops->rows(r->src->ctx, ot->src_index, 0, rows, xg, err);
            ckpt_gptq_set_type(r->g, ot->src_index, -1);
            if (s != CKPT_OK)
                goto out;
            in = xg;
        }
        if ((s = encode(r, ot->src_index, c->type, in, x, ne0, nr, n_mat, im, h ? h : im, q, tmp,
                        &c->err, err)) != CKPT_OK)
            goto out;
    }
    if (ot->n_cand == 0) {
        s = ckpt_err_set(err, CKPT_E_FORMAT, "%s: tensor '%s': no candidate type divides its "
                         "rows of %lld", r->src->name, st->name, (long long)ne0);
        goto out;
    }
    /* by bytes, stable: equal sizes keep the table's order */
    for (size_t i = 1; i < ot->n_cand; i++)
        for (size_t j = i; j > 0 && ot->cand[j].bytes < ot->cand[j - 1].bytes; j--) {
            struct ckpt_opt_cand c = ot->cand[j];
            ot->cand[j] = ot->cand[j - 1];
            ot->cand[j - 1] = c;
        }
    size_t mb;
    ckpt_type_row_bytes(ot->mix_type, ne0, &mb);
    const uint64_t mix_bytes = PAD((uint64_t)mb * (uint64_t)rows);
    uint64_t best = UINT64_MAX;
    for (size_t k = 0; k < ot->n_cand; k++) {
        uint64_t d = ot->cand[k].bytes > mix_bytes ? ot->cand[k].bytes - mix_bytes
                                                   : mix_bytes - ot->cand[k].bytes;
        if (ot->cand[k].type == ot->mix_type)
            d = 0, best = 1;
        if (d < best) {
            best = d;
            ot->anchor = k;
        }
    }
    s = measure_cand(r, ot, ot->anchor, err);
out:
    free(x);
    free(xg);
    free(tmp);
    free(h);
    free(q);
    return s;
}

/* Predicted divergences of every candidate from those measured: between
 * two measured candidates a power law in the error through both (straight
 * in log-log), beyond them proportional to the error from the nearest. */
static void predict(struct ckpt_opt_tensor *ot)
{
    for (size_t k = 0; k < ot->n_cand; k++) {
        struct ckpt_opt_cand *c = &ot->cand[k];
        if (c->kld >= 0) {
            c->pred = c->kld;
            continue;
        }
        const struct ckpt_opt_cand *lo = NULL, *hi = NULL; /* nearest below/above in error */
        for (size_t j = 0; j < ot->n_cand; j++) {
            const struct ckpt_opt_cand *m = &ot->cand[j];
            if (m->kld < 0)
                continue;
            if (m->err <= c->err && (!lo || m->err > lo->err))
                lo = m;
            if (m->err >= c->err && (!hi || m->err < hi->err))
                hi = m;
        }
        if (lo && hi && lo->err > 0 && hi->err > lo->err && lo->kld > 0 && hi->kld > 0) {
            double p = log(hi->kld / lo->kld) / log(hi->err / lo->err);
            c->pred = lo->kld * pow(c->err / lo->err, p);
            continue;
        }
        const struct ckpt_opt_cand *n = lo ? lo : hi;
        if (lo && hi && hi->err - c->err < c->err - lo->err)
            n = hi;
        c->pred = n->err > 0 ? n->kld * c->err / n->err : n->kld;
    }
}

/* The tokens of the sensitivity runs: whole chunks from the text's start. */
ckpt_status ckpt_opt_tokens(const char *model, const char *text, int64_t n_ctx,
                            int64_t max_tokens, int32_t **ids_out, int64_t *n_chunks,
                            int64_t *ctx_out, ckpt_err *err)
{
    ckpt_tok *tok = NULL;
    int32_t *ids = NULL;
    size_t n_ids = 0;
    ckpt_status st = ckpt_tok_load_any(&tok, model, err);
    if (st == CKPT_OK)
        st = ckpt_calib_tokenize(tok, text, &ids, &n_ids, err);
    if (st != CKPT_OK)
        goto out;
    const int64_t want = max_tokens > 0 ? max_tokens : CKPT_OPT_SENS_TOKENS;
    int64_t ctx = n_ctx > 0 ? n_ctx : 512;
    if (ctx > want)
        ctx = want;
    int64_t chunks = (int64_t)n_ids / ctx;
    if (chunks > want / ctx)
        chunks = want / ctx;
    if (chunks == 0) {
        st = ckpt_err_set(err, CKPT_E_RANGE, "%s: the text has %zu tokens, fewer than one "
                          "chunk of %lld", text, n_ids, (long long)ctx);
        goto out;
    }
    const bool bos = ckpt_tok_add_bos(tok) && ckpt_tok_bos_id(tok) >= 0;
    for (int64_t c = 0; bos && c < chunks; c++)
        ids[c * ctx] = ckpt_tok_bos_id(tok);
    *ids_out = ids;
    *n_chunks = chunks;
    *ctx_out = ctx;
    ids = NULL;
out:
    free(ids);
    ckpt_tok_free(tok);
    return st;
}

static ckpt_status load_tokens(struct run *r, const char *model, const char *text, ckpt_err *err)
{
    return ckpt_opt_tokens(model, text, r->o->n_ctx, r->o->sens_tokens, &r->ids, &r->n_chunks,
                           &r->n_ctx, err);
}

/* The mix's choice for every tensor, the matrices into out->t, and the budget. */
static ckpt_status plan(struct run *r, struct ckpt_opt_result *out, ckpt_err *err)
{
    const struct ckpt_qsrc *src = r->src;
    struct ckpt_qplan_tensor *pt = calloc(src->n_tensors, sizeof *pt);
    struct ckpt_qplan_choice *ch = calloc(src->n_tensors, sizeof *ch);
    size_t *order = calloc(src->n_tensors, sizeof *order);
    out->t = calloc(src->n_tensors, sizeof *out->t);
    ckpt_status st = CKPT_OK;
    if (!pt || !ch || !order || !out->t) {
        st = ckpt_err_set(err, CKPT_E_NOMEM, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < src->n_tensors; i++)
        pt[i] = (struct ckpt_qplan_tensor){src->tensors[i].name,
                                           {src->tensors[i].ne[0], src->tensors[i].ne[1],
                                            src->tensors[i].ne[2], src->tensors[i].ne[3]},
                                           src->tensors[i].type};
    struct ckpt_qplan_opts po = {.mix = r->o->mix, .has_imatrix = true, .output_type = -1,
                                 .token_embd_type = -1};
    if ((st = ckpt_qplan_make(&src->model, &po, pt, src->n_tensors, order, ch, err)) != CKPT_OK)
        goto out;
    uint64_t all = 0, fixed = 0, params = 0;
    for (size_t i = 0; i < src->n_tensors; i++) {
        const struct ckpt_qsrc_tensor *t = &src->tensors[i];
        size_t rb;
        ckpt_type_row_bytes(ch[i].type, t->ne[0], &rb);
        uint64_t b = PAD((uint64_t)rb * (uint64_t)(t->ne[1] * t->ne[2] * t->ne[3]));
        all += b;
        params += (uint64_t)(t->ne[0] * t->ne[1] * t->ne[2] * t->ne[3]);
        if (!ch[i].matrix || !ch[i].convert) {
            fixed += b;
            continue;
        }
        out->t[out->n++] = (struct ckpt_opt_tensor){.name = t->name, .src_index = i,
                                                    .mix_type = ch[i].type};
        out->mix_bytes += b;
    }
    uint64_t target = r->o->target_bytes > 0  ? r->o->target_bytes
                      : r->o->target_bpw > 0 ? (uint64_t)(r->o->target_bpw * (double)params / 8)
                                             : all;
    if (target < fixed + r->o->reserve)
        st = ckpt_err_set(err, CKPT_E_RANGE, "the target of %llu bytes of tensor data is below "
                          "what the tensors kept as they are take (%llu): raise the target",
                          (unsigned long long)target, (unsigned long long)(fixed + r->o->reserve));
    else
        out->budget = target - fixed - r->o->reserve;
out:
    free(pt);
    free(ch);
    free(order);
    return st;
}

ckpt_status ckpt_opt_run(struct ckpt_opt_result *out, const char *model, struct ckpt_qsrc *src,
                         const ckpt_imatrix *im, const char *text,
                         const struct ckpt_opt_opts *o, ckpt_err *err)
{
    memset(out, 0, sizeof *out);
    struct run r = {.o = o, .src = src, .under = src, .im = im, .isa = -1};
    ckpt_weights *w = NULL;
    ckpt_status st;
    if ((st = plan(&r, out, err)) != CKPT_OK ||
        (st = ckpt_weights_open(&w, model, NULL, err)) != CKPT_OK ||
        (st = load_tokens(&r, model, text, err)) != CKPT_OK ||
        (st = ckpt_pool_new(&r.pool, o->n_threads, err)) != CKPT_OK)
        goto out;
    if (o->gptq) {
        if ((st = ckpt_gptq_new(&r.g, src, model, r.ids, r.n_chunks, r.n_ctx, im, o->n_threads,
                                err)) != CKPT_OK)
            goto out;
        r.src = ckpt_gptq_source(r.g);
    }
    r.cfg = ckpt_weights_config(w);
    r.base = ckpt_weights_views(w);
    r.arch = ckpt_arch_by_gguf("llama", r.cfg->n_experts > 0);
    if (!r.arch) {
        st = ckpt_err_set(err, CKPT_E_UNSUPPORTED, "%s: no architecture descriptor", model);
        goto out;
    }
    const int64_t V = r.cfg->n_vocab, P = r.n_chunks * r.n_ctx;
    if ((st = copy_views(&r, err)) != CKPT_OK)
        goto out;
    if (!(r.ref_lp = malloc((size_t)(P * V) * sizeof *r.ref_lp)) ||
        !(r.logits = malloc((size_t)(r.n_ctx * V) * sizeof *r.logits)) ||
        !(r.out_sq = calloc((size_t)r.cfg->dim, sizeof *r.out_sq))) {
        st = ckpt_err_set(err, CKPT_E_NOMEM, "out of memory for %lld positions of %lld logits",
                          (long long)P, (long long)V);
        goto out;
    }
    out->n_positions = P;
    if ((st = pass(&r, true, NULL, err)) != CKPT_OK)
        goto out;
    /* expected passes, for progress: anchors, then up to one per tensor a round */
    const int rounds = o->rounds > 0 ? o->rounds : CKPT_OPT_ROUNDS;
    r.total = (uint64_t)out->n * (uint64_t)(1 + rounds + (o->measure ? 1 : 0)) * (uint64_t)P;
    for (size_t i = 0; i < out->n; i++) {
        if ((st = candidates_of(&r, &out->t[i], err)) != CKPT_OK)
            goto out;
        predict(&out->t[i]);
        for (size_t k = 0; k < out->t[i].n_cand; k++)
            out->t[i].cand[k].pred0 = out->t[i].cand[k].pred;
        progress(&r, P);
    }
    /* allocate, measure what was chosen on a prediction only, again */
    for (int round = 0;; round++) {
        if ((st = ckpt_opt_allocate(out, err)) != CKPT_OK)
            goto out;
        bool final = round == rounds;
        size_t n_new = 0;
        for (size_t i = 0; i < out->n; i++) {
            struct ckpt_opt_tensor *t = &out->t[i];
            if (t->cand[t->chosen].kld >= 0 || (final && !o->measure))
                continue;
            if ((st = measure_cand(&r, t, t->chosen, err)) != CKPT_OK)
                goto out;
            n_new++;
            progress(&r, P);
            if (!final)
                predict(t);
        }
        if (final || n_new == 0)
            break;
    }
    for (size_t i = 0; i < out->n; i++) {
        const struct ckpt_opt_tensor *t = &out->t[i];
        for (size_t k = 0; k < t->n_cand; k++)
            if (t->cand[k].type == t->mix_type)
                out->mix_pred += t->cand[k].pred;
    }
    for (size_t i = 0; r.g && i < out->n; i++)
        ckpt_gptq_set_type(r.g, out->t[i].src_index, (int)out->t[i].cand[out->t[i].chosen].type);
    out->gptq = r.g;
    r.g = NULL;
out:
    out->n_runs = r.n_runs;
    ckpt_gptq_free(r.g);
    if (st != CKPT_OK)
        ckpt_opt_result_free(out);
    free(r.ids);
    free(r.ref_lp);
    free(r.logits);
    free(r.out_sq);
    free(r.layers);
    free(r.experts);
    ckpt_pool_free(r.pool);
    ckpt_weights_close(w);
    return st;
}
