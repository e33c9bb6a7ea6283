/*
 * compare.c - the behavioural comparison of an artifact with its source
 * (see compare.h): both models are opened once and share one thread pool;
 * per prompt the source runs once (prompt batched, then greedy steps,
 * keeping every distribution), the artifact runs greedy, then batched over
 * the source's sequence; the text, if any, is scored chunk by chunk.
 * Between the source's and the artifact's turn, the weights just used are
 * dropped from resident memory, so the peak is one model, not two.
 */
#include "compare.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../formats/gguf.h"
#include "../formats/model_load.h"
#include "../formats/tokenizer.h"
#include "../kernels/model.h"
#include "../kernels/ops.h"
#include "../kernels/pool.h"
#include "compare_impl.h"
#include "run.h"

static const char *const DEFAULT_PROMPTS[] = {
    "The capital of France is",
    "Once upon a time, in a small village by the sea,",
    "def fibonacci(n):\n    \"\"\"Return the n-th Fibonacci number.\"\"\"\n",
    "Q: What is 17 times 23?\nA:",
    "Les modèles de langage sont",
    "Ingredients:\n- 2 cups of flour\n-",
    "The planets of the solar system, in order from the Sun, are",
    "#include <stdio.h>\n\nint main(void)\n{\n",
};

const char *const *ckpt_compare_default_prompts(size_t *n)
{
    *n = sizeof DEFAULT_PROMPTS / sizeof DEFAULT_PROMPTS[0];
    return DEFAULT_PROMPTS;
}

/* ---- numbers ---- */

double ckpt_compare_kld(const float *p, const float *q, int64_t n, int32_t target,
                        double *logp_target, double *logq_target)
{
    double mp = -INFINITY, mq = -INFINITY;
    for (int64_t i = 0; i < n; i++) {
        if (p[i] > mp)
            mp = p[i];
        if (q[i] > mq)
            mq = q[i];
    }
    double sp = 0, sq = 0;
    for (int64_t i = 0; i < n; i++) {
        sp += exp((double)p[i] - mp);
        sq += exp((double)q[i] - mq);
    }
    double lzp = mp + log(sp), lzq = mq + log(sq), kl = 0;
    for (int64_t i = 0; i < n; i++) {
        double lp = (double)p[i] - lzp, lq = (double)q[i] - lzq;
        double pi = exp(lp);
        if (pi > 0)
            kl += pi * (lp - lq);
    }
    if (logp_target)
        *logp_target = target >= 0 ? (double)p[target] - lzp : 0;
    if (logq_target)
        *logq_target = target >= 0 ? (double)q[target] - lzq : 0;
    return kl > 0 ? kl : 0; /* rounding can leave a tiny negative sum for equal inputs */
}

double ckpt_compare_mean_kld(const struct ckpt_compare_stats *s)
{
    return s->n ? s->kld_sum / (double)s->n : 0;
}

double ckpt_compare_top1(const struct ckpt_compare_stats *s)
{
    return s->n ? (double)s->top1 / (double)s->n : 0;
}

double ckpt_compare_ppl(const struct ckpt_compare_stats *s, bool artifact)
{
    return s->n ? exp((artifact ? s->nll_art : s->nll_src) / (double)s->n) : 0;
}

static void stats_add(struct ckpt_compare_stats *a, const struct ckpt_compare_stats *b)
{
    a->n += b->n;
    a->top1 += b->top1;
    a->kld_sum += b->kld_sum;
    if (b->kld_max > a->kld_max)
        a->kld_max = b->kld_max;
    a->nll_src += b->nll_src;
    a->nll_art += b->nll_art;
}

/* Score rows 0..n-1 of src/art logits against targets[0..n-1]. */
static void score(struct ckpt_compare_stats *s, const float *src, const float *art, int64_t n,
                  int64_t V, const int32_t *targets)
{
    for (int64_t t = 0; t < n; t++) {
        const float *p = src + t * V, *q = art + t * V;
        double lp, lq, kl = ckpt_compare_kld(p, q, V, targets[t], &lp, &lq);
        s->n++;
        s->top1 += ckpt_ops_argmax(p, V) == ckpt_ops_argmax(q, V);
        s->kld_sum += kl;
        if (kl > s->kld_max)
            s->kld_max = kl;
        s->nll_src -= lp;
        s->nll_art -= lq;
    }
}

/* ---- the run ---- */

struct ctx {
    const struct ckpt_compare_opts *o;
    struct ckpt_compare_report *r;
    ckpt_err *err;
    ckpt_weights *ws, *wa;
    ckpt_model *ms, *ma;
    ckpt_pool *pool;
    ckpt_tok *tok;
    int64_t V, n_new, n_ctx;
    float *ls, *la; /* (n_ctx, V) logits of source and artifact */
    int32_t *seq;   /* (n_ctx + n_new) */
    uint64_t done, total;
};

static void tick(struct ctx *c, const char *what, uint64_t steps)
{
    c->done += steps;
    if (c->o->progress)
        c->o->progress(c->o->progress_ctx, what, c->done, c->total, CKPT_PROGRESS_TOKENS);
}

/* Same architecture and shapes, or the comparison means nothing. */
static ckpt_status same_shape(struct ctx *c)
{
    const struct ckpt_model_config *s = ckpt_weights_config(c->ws), *a = ckpt_weights_config(c->wa);
    static const char *const names[] = {"vocabulary", "hidden size", "layers", "heads",
                                        "kv heads", "head size", "ffn size", "experts",
                                        "experts per token"};
    int64_t sv[] = {s->n_vocab, s->dim, s->n_layers, s->n_heads, s->n_kv_heads, s->head_dim,
                    s->ffn_dim, s->n_experts, s->n_experts_used};
    int64_t av[] = {a->n_vocab, a->dim, a->n_layers, a->n_heads, a->n_kv_heads, a->head_dim,
                    a->ffn_dim, a->n_experts, a->n_experts_used};
    for (size_t i = 0; i < sizeof sv / sizeof sv[0]; i++)
        if (sv[i] != av[i])
            return ckpt_err_set(c->err, CKPT_E_MISMATCH, "%s: %s %lld, but the source has %lld",
                                c->o->artifact, names[i], (long long)av[i], (long long)sv[i]);
    return CKPT_OK;
}

static ckpt_status open_all(struct ctx *c)
{
    const struct ckpt_compare_opts *o = c->o;
    struct ckpt_compare_report *r = c->r;
    ckpt_status st = ckpt_weights_open(&c->ws, o->source, NULL, c->err);
    if (st)
        return st;
    bool gguf = ckpt_gguf_has_magic(o->artifact);
    /* a GGUF records no window: it gets the source's */
    struct ckpt_weights_opts wo = {.sliding_window =
                                       gguf ? ckpt_weights_config(c->ws)->sliding_window : -1};
    if ((st = ckpt_weights_open(&c->wa, o->artifact, &wo, c->err)) ||
        (st = same_shape(c)) ||
        (st = ckpt_compare_artifact_type(o->artifact, gguf, r, c->err)))
        return st;
    r->sliding_window = ckpt_weights_config(c->ws)->sliding_window;
    if (ckpt_weights_get_kind(c->ws) == CKPT_WEIGHTS_HF)
        st = ckpt_tok_load_dir(&c->tok, o->source, c->err);
    else
        st = ckpt_tok_load_any(&c->tok, o->source, c->err);
    if (st)
        return st;
    c->V = ckpt_weights_config(c->ws)->n_vocab;
    if ((int64_t)ckpt_tok_n_vocab(c->tok) > c->V)
        return ckpt_err_set(c->err, CKPT_E_FORMAT, "%s: the tokenizer has %u tokens, the model "
                            "%lld", o->source, ckpt_tok_n_vocab(c->tok), (long long)c->V);
    if ((st = ckpt_pool_new(&c->pool, o->threads, c->err)) == CKPT_OK)
        ckpt_pool_set_spin(c->pool, CKPT_MODEL_SPIN_NS); /* it serves the two models alone */
    return st;
}

static ckpt_status new_models(struct ctx *c)
{
    struct ckpt_model_opts mo = {.n_ctx = c->n_ctx, .pool = c->pool, .isa = c->o->isa};
    ckpt_status st = ckpt_model_new(&c->ms, ckpt_weights_config(c->ws), ckpt_weights_views(c->ws),
                                    &mo, c->err);
    if (st == CKPT_OK)
        st = ckpt_model_new(&c->ma, ckpt_weights_config(c->wa), ckpt_weights_views(c->wa), &mo,
                            c->err);
    size_t rows = (size_t)c->n_ctx, V = (size_t)c->V;
    if (st == CKPT_OK && (!(c->ls = malloc(sizeof(float) * rows * V)) ||
                          !(c->la = malloc(sizeof(float) * rows * V)) ||
                          !(c->seq = malloc(sizeof(int32_t) * (rows + (size_t)c->n_new)))))
        st = ckpt_err_set(c->err, CKPT_E_NOMEM, "out of memory for %lld x %lld logits",
                          (long long)rows, (long long)V);
    return st;
}

struct collect {
    int32_t *ids;
    int64_t n;
};

static bool collect(void *ctx, int32_t id)
{
    struct collect *k = ctx;
    k->ids[k->n++] = id;
    return true;
}

/* One prompt: greedy on both, then teacher-forced on the source's tokens. */
static ckpt_status run_prompt(struct ctx *c, struct ckpt_compare_prompt *p)
{
    int64_t P = p->n_prompt, N = c->n_new, V = c->V, L = P + N;
    ckpt_status st;
    /* source: prompt batched (all rows), then greedy steps; row t predicts seq[t+1] */
    ckpt_model_truncate(c->ms, 0);
    if ((st = ckpt_model_eval(c->ms, c->seq, P, c->ls, true, c->err)))
        return st;
    tick(c, "source", (uint64_t)P);
    for (int64_t k = 0; k < N; k++) {
        int32_t t = ckpt_ops_argmax(c->ls + (P - 1 + k) * V, V);
        p->src_ids[k] = c->seq[P + k] = t;
        if (k + 1 < N && (st = ckpt_model_eval(c->ms, &t, 1, c->ls + (P + k) * V, false, c->err)))
            return st;
        tick(c, "source", 1);
    }
    /* one model resident at a time: the source's pages go before the artifact runs */
    ckpt_weights_release(c->ws);
    /* artifact: its own greedy continuation */
    struct ckpt_run_opts ro = {.n_new = N, .temperature = 0, .stop_id = -1};
    struct collect k = {p->art_ids, 0};
    if ((st = ckpt_run_generate(c->ma, c->seq, P, &ro, collect, &k, NULL, c->err)))
        return st;
    tick(c, "artifact", (uint64_t)(P + N));
    p->first_diff = -1;
    for (int64_t i = 0; i < N && p->first_diff < 0; i++)
        if (p->art_ids[i] != p->src_ids[i]) {
            const float *row = c->ls + (P - 1 + i) * V;
            p->first_diff = i;
            p->diff_gap = (double)row[p->src_ids[i]] - (double)row[p->art_ids[i]];
        }
    /* artifact teacher-forced on the source's sequence */
    ckpt_model_truncate(c->ma, 0);
    if ((st = ckpt_model_eval(c->ma, c->seq, L - 1, c->la, true, c->err)))
        return st;
    tick(c, "artifact", (uint64_t)(L - 1));
    ckpt_weights_release(c->wa);
    score(&p->tf, c->ls, c->la, L - 1, V, c->seq + 1);
    return CKPT_OK;
}

static ckpt_status tokenize(struct ctx *c, const char *text, size_t len, unsigned flags,
                            int32_t **ids, size_t *n)
{
    size_t cap = ckpt_tok_encode_max(len);
    if (cap == SIZE_MAX || !(*ids = malloc(sizeof(int32_t) * (cap ? cap : 1))))
        return ckpt_err_set(c->err, CKPT_E_NOMEM, "out of memory");
    return ckpt_tok_encode(c->tok, text, len, flags, *ids, cap, n, c->err);
}

static ckpt_status read_text(const char *path, char **out, size_t *len, ckpt_err *err)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return ckpt_err_errno(err, CKPT_E_IO, errno, "%s", path);
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        n += fread(buf + n, 1, cap - n, f);
        if (n < cap)
            break;
        char *nb = realloc(buf, cap * 2);
        if (!nb) {
            free(buf);
            buf = NULL;
            break;
        }
        buf = nb;
        cap *= 2;
    }
    bool bad = ferror(f);
    fclose(f);
    if (!buf)
        return ckpt_err_set(err, CKPT_E_NOMEM, "%s: out of memory", path);
    if (bad) {
        free(buf);
        return ckpt_err_set(err, CKPT_E_IO, "%s: read error", path);
    }
    *out = buf;
    *len = n;
    return CKPT_OK;
}

ckpt_status ckpt_compare_read_prompts(const char *path, char ***out, size_t *n, ckpt_err *err)
{
    char *buf;
    size_t len;
    *out = NULL;
    *n = 0;
    ckpt_status st = read_text(path, &buf, &len, err);
    if (st)
        return st;
    if (memchr(buf, 0, len)) {
        free(buf);
        return ckpt_err_set(err, CKPT_E_FORMAT, "%s: a NUL byte in the prompts", path);
    }
    size_t cap = 1;
    for (size_t i = 0; i < len; i++)
        cap += buf[i] == '\n';
    char **list = calloc(cap, sizeof *list);
    for (size_t i = 0; list && i < len;) {
        size_t e = i;
        while (e < len && buf[e] != '\n')
            e++;
        size_t end = e > i && buf[e - 1] == '\r' ? e - 1 : e;
        if (end > i) {
            char *p = malloc(end - i + 1), *q = p;
            if (!p) {
                ckpt_compare_prompts_free(list, *n);
                list = NULL;
                break;
            }
            for (size_t k = i; k < end; k++) {
                char ch = buf[k];
                if (ch == '\\' && k + 1 < end && strchr("nt\\", buf[k + 1])) {
                    k++;
                    ch = buf[k] == 'n' ? '\n' : buf[k] == 't' ? '\t' : '\\';
                }
                *q++ = ch;
            }
            *q = '\0';
            list[(*n)++] = p;
        }
        i = e + 1;
    }
    free(buf);
    if (!list) {
        *n = 0;
        return ckpt_err_set(err, CKPT_E_NOMEM, "%s: out of memory", path);
    }
    if (*n == 0) {
        free(list);
        return ckpt_err_set(err, CKPT_E_FORMAT, "%s: no prompts (one per line)", path);
    }
    *out = list;
    return CKPT_OK;
}

void ckpt_compare_prompts_free(char **prompts, size_t n)
{
    for (size_t i = 0; prompts && i < n; i++)
        free(prompts[i]);
    free(prompts);
}

/* The text: BOS + up to ctx-1 tokens per chunk, both models batched. */
static ckpt_status run_text(struct ctx *c, const int32_t *ids, size_t n_ids, int64_t ctx)
{
    int32_t bos = ckpt_tok_bos_id(c->tok);
    int64_t body = bos >= 0 ? ctx - 1 : ctx;
    ckpt_status st;
    for (size_t at = 0; at < n_ids; at += (size_t)body) {
        int64_t m = (int64_t)(n_ids - at) < body ? (int64_t)(n_ids - at) : body, L = 0;
        if (bos >= 0)
            c->seq[L++] = bos;
        memcpy(c->seq + L, ids + at, sizeof(int32_t) * (size_t)m);
        L += m;
        if (L < 2)
            break;
        ckpt_model_truncate(c->ms, 0);
        ckpt_model_truncate(c->ma, 0);
        if ((st = ckpt_model_eval(c->ms, c->seq, L - 1, c->ls, true, c->err)))
            return st;
        tick(c, "source", (uint64_t)(L - 1));
        ckpt_weights_release(c->ws);
        if ((st = ckpt_model_eval(c->ma, c->seq, L - 1, c->la, true, c->err)))
            return st;
        tick(c, "artifact", (uint64_t)(L - 1));
        ckpt_weights_release(c->wa);
        score(&c->r->text, c->ls, c->la, L - 1, c->V, c->seq + 1);
        c->r->text_chunks++;
    }
    return CKPT_OK;
}

static void decide(struct ctx *c)
{
    struct ckpt_compare_report *r = c->r;
    const struct ckpt_compare_limits *l = &r->limits;
    r->complete = true;
    r->pass = true;
    for (size_t i = 0; i < r->n_prompts; i++) {
        struct ckpt_compare_prompt *p = &r->prompts[i];
        stats_add(&r->all, &p->tf);
        if (p->first_diff < 0) {
            r->n_equal++;
            continue;
        }
        p->near_tie = p->diff_gap < l->tie_margin;
        r->n_near_tie += p->near_tie;
        if (l->tokens_equal > 0 && !p->near_tie && r->pass) {
            r->pass = false;
            snprintf(r->reason, sizeof r->reason,
                     "prompt %zu: greedy tokens differ from token %lld on (source margin %.4f)",
                     i + 1, (long long)p->first_diff, p->diff_gap);
        }
    }
    stats_add(&r->all, &r->text);
    double top1 = ckpt_compare_top1(&r->all), kld = ckpt_compare_mean_kld(&r->all);
    if (r->pass && top1 < l->min_top1) {
        r->pass = false;
        snprintf(r->reason, sizeof r->reason, "top-1 agreement %.4f below %.4f", top1,
                 l->min_top1);
    }
    if (r->pass && !(kld <= l->max_kld)) {
        r->pass = false;
        snprintf(r->reason, sizeof r->reason, "mean KL divergence %.6f above %.6f", kld,
                 l->max_kld);
    }
}

static ckpt_status run(struct ctx *c)
{
    const struct ckpt_compare_opts *o = c->o;
    struct ckpt_compare_report *r = c->r;
    ckpt_status st = open_all(c);
    if (st)
        return st;
    struct ckpt_compare_limits d = ckpt_compare_default_limits(r->type_name);
    r->limits.tokens_equal = o->limits.tokens_equal >= 0 ? o->limits.tokens_equal : d.tokens_equal;
    r->limits.min_top1 = o->limits.min_top1 >= 0 ? o->limits.min_top1 : d.min_top1;
    r->limits.max_kld = o->limits.max_kld >= 0 ? o->limits.max_kld : d.max_kld;
    r->limits.tie_margin = o->limits.tie_margin >= 0 ? o->limits.tie_margin : d.tie_margin;

    size_t np = o->prompts ? o->n_prompts : 0;
    const char *const *texts = o->prompts ? o->prompts : ckpt_compare_default_prompts(&np);
    if (np == 0)
        return ckpt_err_set(c->err, CKPT_E_USAGE, "no prompts");
    if (!(r->prompts = calloc(np, sizeof *r->prompts)))
        return ckpt_err_set(c->err, CKPT_E_NOMEM, "out of memory");
    r->n_prompts = np;
    c->n_new = o->n_new > 0 ? o->n_new : 32;
    int64_t text_ctx = o->text_ctx > 1 ? o->text_ctx : 512;

    /* tokenize everything first: sizes fix the context, steps the progress */
    int32_t **pids = calloc(np, sizeof *pids), *tids = NULL;
    size_t n_tids = 0;
    char *text = NULL;
    if (!pids)
        return ckpt_err_set(c->err, CKPT_E_NOMEM, "out of memory");
    c->n_ctx = o->text_path ? text_ctx : 2;
    for (size_t i = 0; i < np; i++) {
        struct ckpt_compare_prompt *p = &r->prompts[i];
        size_t n;
        if (!(p->text = strdup(texts[i])) ||
            !(p->src_ids = calloc((size_t)c->n_new, sizeof(int32_t))) ||
            !(p->art_ids = calloc((size_t)c->n_new, sizeof(int32_t)))) {
            st = ckpt_err_set(c->err, CKPT_E_NOMEM, "out of memory");
            goto out;
        }
        p->n_new = c->n_new;
        if ((st = tokenize(c, texts[i], strlen(texts[i]), CKPT_TOK_ADD_SPECIAL, &pids[i], &n)))
            goto out;
        if (n == 0) {
            st = ckpt_err_set(c->err, CKPT_E_USAGE, "prompt %zu encodes to no tokens", i + 1);
            goto out;
        }
        p->n_prompt = (int64_t)n;
        if (p->n_prompt + c->n_new > c->n_ctx)
            c->n_ctx = p->n_prompt + c->n_new;
        c->total += (uint64_t)(2 * (p->n_prompt + c->n_new) + p->n_prompt + c->n_new - 1);
    }
    if (o->text_path) {
        size_t len = 0;
        r->has_text = true;
        if ((st = read_text(o->text_path, &text, &len, c->err)) ||
            (st = tokenize(c, text, len, 0, &tids, &n_tids)))
            goto out;
        c->total += 2 * (uint64_t)n_tids;
    }
    if ((st = new_models(c)))
        goto out;
    for (size_t i = 0; i < np; i++) {
        memcpy(c->seq, pids[i], sizeof(int32_t) * (size_t)r->prompts[i].n_prompt);
        if ((st = run_prompt(c, &r->prompts[i])))
            goto out;
    }
    if (tids && (st = run_text(c, tids, n_tids, text_ctx)))
        goto out;
    decide(c);
    if (!r->pass)
        st = ckpt_err_set(c->err, CKPT_E_MISMATCH, "%s: %s", o->artifact, r->reason);
out:
    for (size_t i = 0; i < np; i++)
        free(pids[i]);
    free(pids);
    free(tids);
    free(text);
    return st;
}

ckpt_status ckpt_compare_run(const struct ckpt_compare_opts *o, struct ckpt_compare_report *r,
                             ckpt_err *err)
{
    memset(r, 0, sizeof *r);
    if (!o->source || !o->artifact)
        return ckpt_err_set(err, CKPT_E_USAGE, "a source and an artifact are needed");
    if (!(r->source = strdup(o->source)) || !(r->artifact = strdup(o->artifact)))
        return ckpt_err_set(err, CKPT_E_NOMEM, "out of memory");
    struct ctx c = {.o = o, .r = r, .err = err};
    ckpt_status st = run(&c);
    ckpt_model_free(c.ms);
    ckpt_model_free(c.ma);
    ckpt_pool_free(c.pool);
    ckpt_weights_close(c.ws);
    ckpt_weights_close(c.wa);
    ckpt_tok_free(c.tok);
    free(c.ls);
    free(c.la);
    free(c.seq);
    return st;
}

void ckpt_compare_report_free(struct ckpt_compare_report *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->n_prompts; i++) {
        free(r->prompts[i].text);
        free(r->prompts[i].src_ids);
        free(r->prompts[i].art_ids);
    }
    free(r->prompts);
    free(r->source);
    free(r->artifact);
    memset(r, 0, sizeof *r);
}
