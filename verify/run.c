/*
 * run.c - greedy decoding and seeded sampling over the reference model
 * (see run.h).  The PRNG is splitmix64: tiny, and the same stream on every
 * machine, so a seed names one output.
 */
#include "run.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../kernels/fp16.h"
#include "../kernels/ops.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static uint64_t splitmix64(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* qsort has no context argument: sort (logit, id) pairs instead. */
struct cand {
    float logit;
    int32_t id;
};

static int by_logit_desc(const void *a, const void *b)
{
    const struct cand *x = a, *y = b;
    if (x->logit != y->logit) {
        if (isnan(x->logit))
            return 1;
        if (isnan(y->logit))
            return -1;
        return x->logit > y->logit ? -1 : 1;
    }
    return (x->id > y->id) - (x->id < y->id);
}

int32_t ckpt_run_pick(const float *logits, int64_t n, const struct ckpt_run_opts *o,
                      uint64_t *rng, int32_t *order)
{
    if (o->temperature <= 0)
        return ckpt_ops_argmax(logits, n);
    struct cand *c = malloc(sizeof *c * (size_t)n);
    if (!c) /* no memory for sampling: fall back to the most likely token */
        return ckpt_ops_argmax(logits, n);
    for (int64_t i = 0; i < n; i++)
        c[i] = (struct cand){logits[i], (int32_t)i};
    qsort(c, (size_t)n, sizeof *c, by_logit_desc);
    int64_t k = o->top_k > 0 && o->top_k < n ? o->top_k : n;
    double *p = malloc(sizeof *p * (size_t)k), sum = 0;
    if (!p) {
        int32_t best = c[0].id;
        free(c);
        return best;
    }
    for (int64_t i = 0; i < k; i++) {
        p[i] = exp(((double)c[i].logit - c[0].logit) / o->temperature);
        if (!(p[i] >= 0))
            p[i] = 0;
        sum += p[i];
        order[i] = c[i].id;
    }
    if (o->top_p < 1) { /* smallest prefix with mass >= top_p */
        double cum = 0;
        int64_t keep = 0;
        while (keep < k && (keep == 0 || cum < o->top_p * sum))
            cum += p[keep++];
        k = keep;
        sum = cum;
    }
    double u = (double)(splitmix64(rng) >> 11) * 0x1p-53 * sum, acc = 0;
    int32_t pick = order[k - 1];
    for (int64_t i = 0; i < k; i++) {
        acc += p[i];
        if (u < acc) {
            pick = order[i];
            break;
        }
    }
    free(p);
    free(c);
    return pick;
}

/* NaN or Inf logits mean NaN or Inf weights (or an overflow): every token
 * picked from them would be noise, so stop instead of printing it. */
static ckpt_status check_logits(const float *lg, int64_t n, int64_t pos, ckpt_err *err)
{
    for (int64_t i = 0; i < n; i++)
        if (!isfinite(lg[i]))
            return ckpt_err_set(err, CKPT_E_VALUE,
                                "logit %lld at position %lld is %g: the model computes "
                                "non-finite values (NaN or Inf weights?)",
                                (long long)i, (long long)pos, (double)lg[i]);
    return CKPT_OK;
}

/* h = h * 5 + bits, over the n logits in order (mod 2^32): four
 * interleaved chains weighted by 5^4 a step, joined by 5^3 .. 5^0, give
 * each logit the weight 5^(n-1-i) the one chain gives it, so the same
 * value in a quarter of the dependent steps (the one chain took 26 us of
 * each decoded token's 7-8 ms, for 32000 logits). */
static uint32_t hash_logits(uint32_t h, const float *lg, int64_t n)
{
    uint32_t a[4] = {0, 0, 0, 0}, pow = 1; /* pow: 5^(4 * steps) */
    int64_t i = 0;
    for (; i + 4 <= n; i += 4) {
        for (int l = 0; l < 4; l++)
            a[l] = a[l] * 625u + ckpt_f32_bits(lg[i + l]);
        pow *= 625u;
    }
    h = h * pow + a[0] * 125u + a[1] * 25u + a[2] * 5u + a[3];
    for (; i < n; i++)
        h = h * 5u + ckpt_f32_bits(lg[i]);
    return h;
}

ckpt_status ckpt_run_generate(ckpt_model *m, const int32_t *prompt, int64_t n_prompt,
                              const struct ckpt_run_opts *o, ckpt_run_emit_fn emit, void *ctx,
                              struct ckpt_run_stats *stats, ckpt_err *err)
{
    struct ckpt_run_stats s = {0};
    s.logits_hash = 0;
    int64_t V = ckpt_model_get_config(m)->n_vocab;
    float *lg = malloc(sizeof(float) * (size_t)V);
    int32_t *order = malloc(sizeof(int32_t) * (size_t)V);
    ckpt_status st = CKPT_OK;
    if (!lg || !order) {
        st = ckpt_err_set(err, CKPT_E_NOMEM, "out of memory");
        goto out;
    }
    uint64_t rng = o->seed;
    ckpt_model_truncate(m, 0);
    double t0 = now();
    if ((st = ckpt_model_eval(m, prompt, n_prompt, lg, false, err)) != CKPT_OK ||
        (st = check_logits(lg, V, n_prompt - 1, err)) != CKPT_OK)
        goto out;
    s.n_prompt = n_prompt;
    s.prompt_s = now() - t0;
    t0 = now();
    for (int64_t k = 0; k < o->n_new; k++) {
        s.logits_hash = hash_logits(s.logits_hash, lg, V);
        int32_t tok = ckpt_run_pick(lg, V, o, &rng, order);
        s.n_gen++;
        bool go_on = emit ? emit(ctx, tok) : true;
        if (!go_on || tok == o->stop_id || k + 1 == o->n_new)
            break;
        if ((st = ckpt_model_eval(m, &tok, 1, lg, false, err)) != CKPT_OK ||
            (st = check_logits(lg, V, n_prompt + k, err)) != CKPT_OK)
            goto out;
    }
    s.gen_s = now() - t0;
out:
    if (stats)
        *stats = s;
    free(lg);
    free(order);
    return st;
}
