/*
 * optimize_alloc.c - the budget side of --optimize (optimize.h): spend a
 * byte budget over the weight matrices by predicted divergence saved per
 * byte, and hand the result to the quantizer as exact-name --tensor-type
 * patterns.  Pure logic over the candidates ckpt_opt_run measured.
 */
#include "optimize.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Is a jump of `cost` bytes saving `gain` a better deal than the best so
 * far (best_gain over best_cost)?  A jump that costs nothing and saves
 * something beats any that costs bytes.  Cross-multiplied: no division by
 * a zero cost, and exact for equal ratios, which keep the earlier jump. */
static bool better(double gain, int64_t cost, double best_gain, int64_t best_cost)
{
    if (best_cost < 0) /* no jump yet */
        return true;
    if (cost <= 0 || best_cost <= 0)
        return cost <= 0 && (best_cost > 0 || gain > best_gain);
    return gain * (double)best_cost > best_gain * (double)cost;
}

ckpt_status ckpt_opt_allocate(struct ckpt_opt_result *r, ckpt_err *err)
{
    uint64_t used = 0;
    for (size_t i = 0; i < r->n; i++) {
        struct ckpt_opt_tensor *t = &r->t[i];
        t->chosen = 0; /* the fewest bytes; among equals the lowest divergence */
        for (size_t k = 1; k < t->n_cand && t->cand[k].bytes == t->cand[0].bytes; k++)
            if (t->cand[k].pred < t->cand[t->chosen].pred)
                t->chosen = k;
        used += t->cand[t->chosen].bytes;
    }
    if (used > r->budget)
        return ckpt_err_set(err, CKPT_E_RANGE,
                            "the target leaves %llu bytes for the weight matrices; their "
                            "smallest types take %llu: raise the target",
                            (unsigned long long)r->budget, (unsigned long long)used);
    for (;;) {
        size_t bi = 0, bk = 0;
        double best_gain = 0;
        int64_t best_cost = -1;
        for (size_t i = 0; i < r->n; i++) {
            const struct ckpt_opt_tensor *t = &r->t[i];
            const struct ckpt_opt_cand *c = &t->cand[t->chosen];
            for (size_t k = 0; k < t->n_cand; k++) {
                const struct ckpt_opt_cand *d = &t->cand[k];
                double gain = c->pred - d->pred;
                int64_t cost = (int64_t)d->bytes - (int64_t)c->bytes;
                if (gain <= 0 || (cost > 0 && (uint64_t)cost > r->budget - used))
                    continue;
                if (better(gain, cost, best_gain, best_cost)) {
                    bi = i, bk = k;
                    best_gain = gain;
                    best_cost = cost < 0 ? 0 : cost;
                }
            }
        }
        if (best_cost < 0)
            break; /* nothing that fits saves anything */
        struct ckpt_opt_tensor *t = &r->t[bi];
        used = used - t->cand[t->chosen].bytes + t->cand[bk].bytes;
        t->chosen = bk;
    }
    r->bytes = used;
    r->pred = 0;
    for (size_t i = 0; i < r->n; i++)
        r->pred += r->t[i].cand[r->t[i].chosen].pred;
    return CKPT_OK;
}

ckpt_status ckpt_opt_tensor_types(const struct ckpt_opt_result *r, ckpt_qtt **out, ckpt_err *err)
{
    *out = NULL;
    for (size_t i = 0; i < r->n; i++) {
        /* "^blk\.0\.attn_q\.weight$=q4_K": the name as an anchored pattern */
        const char *name = r->t[i].name;
        const char *type = ckpt_type_name(r->t[i].cand[r->t[i].chosen].type);
        size_t n = 2 * strlen(name) + strlen(type) + 4;
        char *arg = malloc(n), *p = arg;
        if (!arg) {
            ckpt_qtt_free(*out);
            *out = NULL;
            return ckpt_err_set(err, CKPT_E_NOMEM, "out of memory");
        }
        *p++ = '^';
        for (const char *s = name; *s; s++) {
            if (strchr(".[]()*+?{}|^$\\", *s))
                *p++ = '\\';
            *p++ = *s;
        }
        snprintf(p, n - (size_t)(p - arg), "$=%s", type);
        ckpt_status st = ckpt_qtt_add(out, arg, err);
        free(arg);
        if (st != CKPT_OK) {
            ckpt_qtt_free(*out);
            *out = NULL;
            return st;
        }
    }
    return CKPT_OK;
}

/* Append to a growing string; false on out of memory (the string is freed). */
static bool addf(char **s, size_t *len, size_t *cap, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static bool addf(char **s, size_t *len, size_t *cap, const char *fmt, ...)
{
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int k = vsnprintf(*s ? *s + *len : NULL, *s ? *cap - *len : 0, fmt, ap);
        va_end(ap);
        if (k < 0) {
            free(*s);
            *s = NULL;
            return false;
        }
        if (*s && *len + (size_t)k < *cap) {
            *len += (size_t)k;
            return true;
        }
        size_t ncap = (*cap ? *cap * 2 : 4096) + (size_t)k;
        char *ns = realloc(*s, ncap);
        if (!ns) {
            free(*s);
            *s = NULL;
            return false;
        }
        if (!*s)
            ns[0] = '\0';
        *s = ns;
        *cap = ncap;
    }
}

char *ckpt_opt_report_text(const struct ckpt_opt_result *r)
{
    char *s = NULL;
    size_t len = 0, cap = 0;
    double p0 = 0, meas = 0;
    bool all = true;
    if (!addf(&s, &len, &cap, "%-28s %-7s %-7s %10s %12s %12s %12s\n", "tensor", "mix", "chosen",
              "bytes", "anchor", "predicted", "measured"))
        return NULL;
    for (size_t i = 0; i < r->n; i++) {
        const struct ckpt_opt_tensor *t = &r->t[i];
        const struct ckpt_opt_cand *c = &t->cand[t->chosen], *a = &t->cand[t->anchor];
        char m[32] = "-", an[40];
        if (c->kld >= 0)
            snprintf(m, sizeof m, "%.6f", c->kld);
        snprintf(an, sizeof an, "%s %.6f", ckpt_type_name(a->type), a->kld);
        p0 += c->pred0;
        meas += c->kld >= 0 ? c->kld : 0;
        all = all && c->kld >= 0;
        if (!addf(&s, &len, &cap, "%-28s %-7s %-7s %10llu %16s %12.6f %12s\n", t->name,
                  ckpt_type_name(t->mix_type), ckpt_type_name(c->type),
                  (unsigned long long)c->bytes, an, c->pred0, m))
            return NULL;
    }
    char ms[32] = "-";
    if (all)
        snprintf(ms, sizeof ms, "%.6f", meas);
    if (!addf(&s, &len, &cap,
              "matrices: %llu bytes (the mix %llu, budget %llu); sum of divergences: predicted "
              "from the anchors %.6f, measured %s, allocated on %.6f (the mix %.6f); %lld "
              "positions, %d forward passes\n",
              (unsigned long long)r->bytes, (unsigned long long)r->mix_bytes,
              (unsigned long long)r->budget, p0, ms, r->pred, r->mix_pred,
              (long long)r->n_positions, r->n_runs))
        return NULL;
    return s;
}

struct ckpt_qsrc *ckpt_opt_source(const struct ckpt_opt_result *r, struct ckpt_qsrc *src)
{
    return r->gptq ? ckpt_gptq_source(r->gptq) : src;
}

void ckpt_opt_result_free(struct ckpt_opt_result *r)
{
    if (!r)
        return;
    ckpt_gptq_free(r->gptq);
    free(r->t);
    memset(r, 0, sizeof *r);
}
