/*
 * optimize_gptq.c - error-compensating rounding for --optimize --gptq
 * (optimize.h): a source that hands out each weight matrix's rows
 * adjusted so that, once the ordinary block encoder has rounded them,
 * the layer's output on the calibration text moves as little as possible
 * (GPTQ: Frantar et al., 2022, with k-quant blocks).
 *
 * For a matrix W (rows of n inputs) with input second moment H = X^T X / N
 * from the calibration run (damped: H + 0.01 mean(diag H) I), and U the
 * upper Cholesky factor of H^-1, each row w is walked block by block (the
 * type's block: 256 columns for k-quants, 32 for the others):
 *
 *     q = the encoder's rounding of the block (the whole row is encoded,
 *         as the quantizer will, and the block's values read back)
 *     for each column j of the block:
 *         e = (w_j - q_j) / U_jj;  w_k -= e U_jk for every k > j
 *     the block's own columns are put back as they were encoded
 *
 * so every later column absorbs, through H, the rounding error of the
 * ones before it; the block values the quantizer encodes at the end are
 * those whose rounding the compensation assumed (exactly for k-quants,
 * whose super-blocks are encoded independently; the 32-wide types with an
 * importance matrix take a row-wide statistic, so there it is close).
 * Rows are independent: any thread split gives the same floats.
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

#define DAMP 0.01 /* GPTQ's default damping, of the mean diagonal */

struct gtensor {
    int64_t n;      /* inputs (ne0); 0: not compensated */
    int64_t n_mat;  /* experts, else 1 */
    double *h;      /* (n_mat, n, n) input second moment, then kept for the error */
    int64_t *rows;  /* (n_mat) rows summed */
    float *u;       /* (n_mat, n, n) upper Cholesky factor of the damped inverse */
    int type;       /* the type rows are compensated for; -1: passed through */
    const float *im; /* importance weights (n_mat * n) or NULL */
};

struct ckpt_gptq {
    struct ckpt_qsrc src;      /* the wrapper handed out */
    struct ckpt_qsrc *under;   /* borrowed */
    struct gtensor *t;         /* (under->n_tensors) */
    const struct ckpt_arch *arch;
    size_t *by_role;           /* (n_layers * CKPT_MM_COUNT) tensor index + 1, 0: none */
    int64_t n_layers;
    bool experts;
};

/* ---- collecting H ---- */

static void on_input(void *ctx, const struct ckpt_mm_input *in)
{
    struct ckpt_gptq *g = ctx;
    int64_t l = in->weight == CKPT_MM_OUTPUT ? g->n_layers : in->layer;
    size_t k = g->by_role[l * CKPT_MM_COUNT + in->weight];
    if (!k)
        return;
    struct gtensor *t = &g->t[k - 1];
    int64_t m = in->expert >= 0 ? in->expert : 0;
    if (t->n != in->ncols || m >= t->n_mat)
        return;
    double *h = t->h + m * t->n * t->n;
    for (int64_t r = 0; r < in->n; r++) {
        const float *x = in->x + r * in->ncols;
        for (int64_t i = 0; i < t->n; i++) {
            double xi = x[i];
            if (xi == 0)
                continue;
            double *hi = h + i * t->n;
            for (int64_t j = i; j < t->n; j++) /* upper triangle; mirrored later */
                hi[j] += xi * (double)x[j];
        }
    }
    t->rows[m] += in->n;
}

/* In-place lower Cholesky factor of the n x n matrix a (row-major, full);
 * false if it is not positive definite. */
static bool cholesky(double *a, int64_t n)
{
    for (int64_t j = 0; j < n; j++) {
        double d = a[j * n + j];
        for (int64_t k = 0; k < j; k++)
            d -= a[j * n + k] * a[j * n + k];
        if (!(d > 0))
            return false;
        d = sqrt(d);
        a[j * n + j] = d;
        for (int64_t i = j + 1; i < n; i++) {
            double s = a[i * n + j];
            for (int64_t k = 0; k < j; k++)
                s -= a[i * n + k] * a[j * n + k];
            a[i * n + j] = s / d;
        }
        for (int64_t k = j + 1; k < n; k++)
            a[j * n + k] = 0;
    }
    return true;
}

/* U, upper with U^T U = (H + damping)^-1, from H (n x n, full) into u. */
static bool factor(const double *h, int64_t n, float *u)
{
    double *a = malloc((size_t)(n * n) * sizeof *a), *inv = malloc((size_t)(n * n) * sizeof *inv);
    bool ok = a && inv;
    double mean = 0;
    for (int64_t i = 0; ok && i < n; i++)
        mean += h[i * n + i];
    mean /= (double)n;
    for (int64_t i = 0; ok && i < n * n; i++)
        a[i] = h[i];
    for (int64_t i = 0; ok && i < n; i++)
        a[i * n + i] = (a[i * n + i] > 0 ? a[i * n + i] : 1) + DAMP * (mean > 0 ? mean : 1);
    ok = ok && cholesky(a, n);
    /* inv = L^-T L^-1: column c solves L y = e_c, then L^T x = y */
    for (int64_t c = 0; ok && c < n; c++) {
        for (int64_t i = 0; i < n; i++) {
            double s = i == c ? 1 : 0;
            for (int64_t k = 0; k < i; k++)
                s -= a[i * n + k] * inv[k * n + c];
            inv[i * n + c] = s / a[i * n + i];
        }
        for (int64_t i = n - 1; i >= 0; i--) {
            double s = inv[i * n + c];
            for (int64_t k = i + 1; k < n; k++)
                s -= a[k * n + i] * inv[k * n + c];
            inv[i * n + c] = s / a[i * n + i];
        }
    }
    /* symmetrize, then the lower factor M of the inverse: U = M^T */
    for (int64_t i = 0; ok && i < n; i++)
        for (int64_t j = i + 1; j < n; j++)
            inv[i * n + j] = inv[j * n + i] = 0.5 * (inv[i * n + j] + inv[j * n + i]);
    ok = ok && cholesky(inv, n);
    for (int64_t i = 0; ok && i < n; i++)
        for (int64_t j = 0; j < n; j++)
            u[i * n + j] = (float)(j >= i ? inv[j * n + i] : 0);
    free(a);
    free(inv);
    return ok;
}

/* ---- the compensated rows ---- */

ckpt_status ckpt_gptq_walk(const float *u, int64_t n, const struct ckpt_gptq_enc *enc,
                           double *wd, float *w, float *q, ckpt_err *err)
{
    const int64_t bs = enc->block;
    for (int64_t b0 = 0; b0 < n; b0 += bs) {
        ckpt_status st = enc->start(enc->ctx, wd, b0, q, err);
        if (st != CKPT_OK)
            return st;
        for (int64_t j = b0; j < b0 + bs; j++)
            w[j] = (float)wd[j]; /* the block as it is encoded */
        for (int64_t j = b0; j < b0 + bs; j++) {
            if (enc->column) { /* rounded now, after the block's earlier columns moved it */
                w[j] = (float)wd[j];
                q[j] = enc->column(enc->ctx, j, wd[j]);
            }
            double e = (wd[j] - (double)q[j]) / (double)u[j * n + j];
            for (int64_t k = j + 1; k < n; k++)
                wd[k] -= e * (double)u[j * n + k];
        }
    }
    return CKPT_OK;
}

/* The block encoder of a GGUF type: the whole row encoded as the quantizer
 * will encode it, the block's values read back. */
struct kenc {
    ckpt_type type;
    int64_t n;
    const float *im;
    float *x;   /* (n) */
    void *enc;  /* one encoded row */
};

static ckpt_status k_start(void *ctx, const double *wd, int64_t b0, float *q, ckpt_err *err)
{
    struct kenc *k = ctx;
    const int64_t bs = ckpt_type_traits((uint32_t)k->type)->block_elems;
    for (int64_t j = 0; j < k->n; j++)
        k->x[j] = (float)wd[j];
    ckpt_status st = ckpt_quantize_rows(k->type, k->x, k->enc, 1, k->n, k->im, err);
    if (st != CKPT_OK)
        return st;
    ckpt_dequantize_row(k->type, k->enc, k->x, k->n);
    memcpy(q + b0, k->x + b0, (size_t)bs * sizeof *q);
    return CKPT_OK;
}

static ckpt_status g_rows(void *ctx, size_t i, int64_t row, int64_t n, float *dst, ckpt_err *err)
{
    struct ckpt_gptq *g = ctx;
    ckpt_status st = g->under->ops->rows(g->under->ctx, i, row, n, dst, err);
    const struct gtensor *t = &g->t[i];
    if (st != CKPT_OK || t->type < 0 || !t->u)
        return st;
    const int64_t ne1 = g->under->tensors[i].ne[1];
    size_t rb;
    ckpt_type_row_bytes((uint32_t)t->type, t->n, &rb);
    struct kenc k = {(ckpt_type)t->type, t->n, NULL, malloc((size_t)t->n * sizeof(float)),
                     malloc(rb)};
    struct ckpt_gptq_enc enc = {ckpt_type_traits((uint32_t)t->type)->block_elems, k_start, NULL,
                                &k};
    float *q = malloc((size_t)t->n * sizeof *q);
    double *wd = malloc((size_t)t->n * sizeof *wd);
    if (!q || !wd || !k.x || !k.enc)
        st = ckpt_err_set(err, CKPT_E_NOMEM, "out of memory");
    for (int64_t r = 0; r < n && st == CKPT_OK; r++) {
        const int64_t m = (row + r) / ne1;
        float *w = dst + r * t->n;
        k.im = t->im ? t->im + m * t->n : NULL;
        for (int64_t j = 0; j < t->n; j++)
            wd[j] = w[j];
        st = ckpt_gptq_walk(t->u + m * t->n * t->n, t->n, &enc, wd, w, q, err);
    }
    free(q);
    free(wd);
    free(k.x);
    free(k.enc);
    return st;
}

static const void *g_raw(void *ctx, size_t i)
{
    struct ckpt_gptq *g = ctx;
    return g->t[i].type >= 0 && g->t[i].u ? NULL : g->under->ops->raw(g->under->ctx, i);
}

static void g_release(void *ctx, size_t i, int64_t row, int64_t n)
{
    struct ckpt_gptq *g = ctx;
    g->under->ops->release(g->under->ctx, i, row, n);
}

static void g_close(void *ctx)
{
    (void)ctx; /* the wrapper is freed with ckpt_gptq_free */
}

static const struct ckpt_qsrc_ops gptq_ops = {g_rows, g_raw, g_release, g_close};

/* ---- building ---- */

static ckpt_status index_roles(struct ckpt_gptq *g, ckpt_err *err)
{
    const struct ckpt_qsrc *s = g->under;
    g->by_role = calloc((size_t)((g->n_layers + 1) * CKPT_MM_COUNT), sizeof *g->by_role);
    if (!g->by_role)
        return ckpt_err_set(err, CKPT_E_NOMEM, "out of memory");
    for (size_t i = 0; i < s->n_tensors; i++) {
        struct ckpt_arch_match mt = ckpt_arch_match_gguf(g->arch, s->tensors[i].name);
        if (!mt.spec || mt.layer >= g->n_layers)
            continue;
        for (int w = 0; w < CKPT_MM_COUNT; w++)
            if (ckpt_calib_mm_role(w, g->experts) == (int)mt.role &&
                (w == CKPT_MM_OUTPUT) == (mt.layer < 0))
                g->by_role[(mt.layer < 0 ? g->n_layers : mt.layer) * CKPT_MM_COUNT + w] = i + 1;
    }
    return CKPT_OK;
}

ckpt_status ckpt_gptq_new(ckpt_gptq **out, struct ckpt_qsrc *src, const char *model,
                          const int32_t *ids, int64_t n_chunks, int64_t n_ctx,
                          const ckpt_imatrix *im, int n_threads, ckpt_err *err)
{
    *out = NULL;
    struct ckpt_gptq *g = calloc(1, sizeof *g);
    ckpt_weights *w = NULL;
    ckpt_model *m = NULL;
    ckpt_status st = CKPT_OK;
    if (!g || !(g->t = calloc(src->n_tensors, sizeof *g->t))) {
        st = ckpt_err_set(err, CKPT_E_NOMEM, "out of memory");
        goto out;
    }
    g->under = src;
    g->src = *src;
    g->src.ops = &gptq_ops;
    g->src.ctx = g;
    if ((st = ckpt_weights_open(&w, model, NULL, err)) != CKPT_OK)
        goto out;
    const struct ckpt_model_config *cfg = ckpt_weights_config(w);
    g->n_layers = cfg->n_layers;
    g->experts = cfg->n_experts > 0;
    g->arch = ckpt_arch_by_gguf("llama", g->experts);
    if (!g->arch) {
        st = ckpt_err_set(err, CKPT_E_UNSUPPORTED, "%s: no architecture descriptor", model);
        goto out;
    }
    if ((st = index_roles(g, err)) != CKPT_OK)
        goto out;
    for (size_t i = 0; i < src->n_tensors; i++)
        g->t[i].type = -1;
    for (size_t k = 0; k < (size_t)((g->n_layers + 1) * CKPT_MM_COUNT); k++) {
        if (!g->by_role[k] || g->t[g->by_role[k] - 1].h)
            continue;
        struct gtensor *t = &g->t[g->by_role[k] - 1];
        const struct ckpt_qsrc_tensor *s = &src->tensors[g->by_role[k] - 1];
        t->n = s->ne[0];
        t->n_mat = s->ne[2] * s->ne[3];
        t->h = calloc((size_t)(t->n_mat * t->n * t->n), sizeof *t->h);
        t->rows = calloc((size_t)t->n_mat, sizeof *t->rows);
        if (!t->h || !t->rows) {
            st = ckpt_err_set(err, CKPT_E_NOMEM, "%s: out of memory for the second moments "
                              "of '%s'", model, s->name);
            goto out;
        }
        if ((st = ckpt_imatrix_for_tensor(im, s->name, t->n, t->n_mat, &t->im, err)) != CKPT_OK)
            goto out;
    }
    struct ckpt_model_opts mo = {.n_ctx = n_ctx, .max_batch = n_ctx, .n_threads = n_threads,
                                 .isa = -1};
    if ((st = ckpt_model_new(&m, cfg, ckpt_weights_views(w), &mo, err)) != CKPT_OK)
        goto out;
    ckpt_model_set_observer(m, on_input, g);
    for (int64_t c = 0; c < n_chunks && st == CKPT_OK; c++) {
        ckpt_model_truncate(m, 0);
        /* logits of the last position only, but output.weight sees every
         * row it multiplies: ask for all */
        float *logits = malloc((size_t)(n_ctx * cfg->n_vocab) * sizeof *logits);
        if (!logits) {
            st = ckpt_err_set(err, CKPT_E_NOMEM, "out of memory");
            break;
        }
        st = ckpt_model_eval(m, ids + c * n_ctx, n_ctx, logits, true, err);
        free(logits);
    }
    for (size_t i = 0; i < src->n_tensors && st == CKPT_OK; i++) {
        struct gtensor *t = &g->t[i];
        if (!t->h)
            continue;
        for (int64_t mm = 0; mm < t->n_mat; mm++) {
            double *h = t->h + mm * t->n * t->n;
            double inv = t->rows[mm] > 0 ? 1.0 / (double)t->rows[mm] : 0;
            for (int64_t a = 0; a < t->n; a++)
                for (int64_t b = a; b < t->n; b++)
                    h[b * t->n + a] = h[a * t->n + b] = h[a * t->n + b] * inv;
        }
        if (!(t->u = malloc((size_t)(t->n_mat * t->n * t->n) * sizeof *t->u))) {
            st = ckpt_err_set(err, CKPT_E_NOMEM, "out of memory");
            break;
        }
        for (int64_t mm = 0; mm < t->n_mat; mm++)
            if (t->rows[mm] == 0 || !factor(t->h + mm * t->n * t->n, t->n, t->u + mm * t->n * t->n)) {
                /* an expert never routed to, or a singular moment: no compensation */
                free(t->u);
                t->u = NULL;
                break;
            }
    }
out:
    ckpt_model_free(m);
    ckpt_weights_close(w);
    if (st != CKPT_OK)
        ckpt_gptq_free(g);
    else
        *out = g;
    return st;
}

struct ckpt_qsrc *ckpt_gptq_source(ckpt_gptq *g)
{
    return &g->src;
}

void ckpt_gptq_set_type(ckpt_gptq *g, size_t i, int type)
{
    if (i < g->under->n_tensors)
        g->t[i].type = type;
}

double ckpt_gptq_error(const ckpt_gptq *g, size_t i, int64_t m, const float *x, const float *y)
{
    const struct gtensor *t = &g->t[i];
    if (!t->u || m >= t->n_mat)
        return -1;
    const double *h = t->h + m * t->n * t->n;
    double s = 0;
    for (int64_t a = 0; a < t->n; a++) {
        double da = (double)x[a] - (double)y[a], r = 0;
        if (da == 0)
            continue;
        for (int64_t b = 0; b < t->n; b++)
            r += h[a * t->n + b] * ((double)x[b] - (double)y[b]);
        s += da * r;
    }
    return s;
}

const float *ckpt_gptq_factor(const ckpt_gptq *g, const char *name, int64_t m, int64_t n)
{
    for (size_t i = 0; g && i < g->under->n_tensors; i++)
        if (strcmp(g->under->tensors[i].name, name) == 0) {
            const struct gtensor *t = &g->t[i];
            return t->u && t->n == n && m >= 0 && m < t->n_mat ? t->u + m * n * n : NULL;
        }
    return NULL;
}

void ckpt_gptq_free(ckpt_gptq *g)
{
    if (!g)
        return;
    for (size_t i = 0; g->t && i < g->under->n_tensors; i++) {
        free(g->t[i].h);
        free(g->t[i].rows);
        free(g->t[i].u);
    }
    free(g->t);
    free(g->by_role);
    free(g);
}
