/*
 * compare_report.c - the comparison's report as a table for people and as
 * JSON for CI (see compare.h).  Prompts are shown on one line, escaped and
 * cut to a fixed width.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compare.h"

/* The prompt on one line in at most `cap` bytes with its NUL: newlines and
 * tabs escaped, cut on a character boundary with "..." when too long. */
static void one_line(char *dst, size_t cap, const char *s)
{
    size_t o = 0, keep = cap - 4; /* room for "..." and the NUL */
    while (*s) {
        size_t n = 1;
        while (((unsigned char)s[n] & 0xC0) == 0x80)
            n++;
        bool esc = *s == '\n' || *s == '\t';
        size_t w = esc ? 2 : n;
        if (o + w > keep) {
            memcpy(dst + o, "...", 4);
            return;
        }
        if (esc) {
            dst[o++] = '\\';
            dst[o++] = *s == '\n' ? 'n' : 't';
        } else {
            memcpy(dst + o, s, n);
            o += n;
        }
        s += n;
    }
    dst[o] = '\0';
}

/* Display width of UTF-8 text: code points (no wide-character tables). */
static int cols(const char *s)
{
    int n = 0;
    for (; *s; s++)
        n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

static void stats_line(FILE *f, const char *label, const struct ckpt_compare_stats *s)
{
    double ps = ckpt_compare_ppl(s, false), pa = ckpt_compare_ppl(s, true);
    fprintf(f, "%-8s %6lld positions   top-1 %.4f   mean KLD %.6f   max KLD %.6f   "
               "perplexity %.4f -> %.4f (%+.2f%%)\n",
            label, (long long)s->n, ckpt_compare_top1(s), ckpt_compare_mean_kld(s), s->kld_max,
            ps, pa, ps > 0 ? (pa / ps - 1) * 100 : 0.0);
}

char *ckpt_compare_report_text(const struct ckpt_compare_report *r)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f)
        return NULL;
    const struct ckpt_compare_limits *l = &r->limits;
    fprintf(f, "source   %s\nartifact %s (%s, from %s)\n", r->source, r->artifact, r->type_name,
            r->type_from);
    if (r->sliding_window > 0)
        fprintf(f, "sliding window %lld, as the source's\n", (long long)r->sliding_window);
    fprintf(f, "\n  #  %-36s %7s  %-16s %7s %10s %10s\n", "prompt", "tokens", "greedy", "top-1",
            "mean KLD", "max KLD");
    for (size_t i = 0; i < r->n_prompts; i++) {
        const struct ckpt_compare_prompt *p = &r->prompts[i];
        char pr[36], greedy[40];
        one_line(pr, sizeof pr, p->text);
        if (p->first_diff < 0)
            snprintf(greedy, sizeof greedy, "equal");
        else
            snprintf(greedy, sizeof greedy, "differ at %lld%s", (long long)p->first_diff,
                     p->near_tie ? "*" : "");
        char tokens[48];
        snprintf(tokens, sizeof tokens, "%lld+%lld", (long long)p->n_prompt, (long long)p->n_new);
        fprintf(f, "%3zu  %s%*s %7s  %-16s %7.4f %10.6f %10.6f\n", i + 1, pr, 36 - cols(pr), "",
                tokens, greedy,
                ckpt_compare_top1(&p->tf), ckpt_compare_mean_kld(&p->tf), p->tf.kld_max);
    }
    if (r->n_near_tie)
        fprintf(f, "  * the source rates the artifact's token within %g logits of its own "
                   "(a near-tie)\n", l->tie_margin);
    fprintf(f, "\n");
    struct ckpt_compare_stats prompts = r->all;
    prompts.n -= r->text.n;
    prompts.top1 -= r->text.top1;
    prompts.kld_sum -= r->text.kld_sum;
    prompts.nll_src -= r->text.nll_src;
    prompts.nll_art -= r->text.nll_art;
    if (r->has_text) {
        prompts.kld_max = 0;
        for (size_t i = 0; i < r->n_prompts; i++)
            if (r->prompts[i].tf.kld_max > prompts.kld_max)
                prompts.kld_max = r->prompts[i].tf.kld_max;
        stats_line(f, "prompts", &prompts);
        char lab[32];
        snprintf(lab, sizeof lab, "text");
        stats_line(f, lab, &r->text);
    }
    stats_line(f, "all", &r->all);
    fprintf(f, "greedy   %zu of %zu prompts equal", r->n_equal, r->n_prompts);
    if (r->n_near_tie)
        fprintf(f, ", %zu differ at a near-tie", r->n_near_tie);
    fprintf(f, "\nlimits   %stop-1 >= %.4f, mean KLD <= %.6f\n",
            l->tokens_equal > 0 ? "every greedy token equal, " : "", l->min_top1, l->max_kld);
    if (r->pass)
        fprintf(f, "PASS\n");
    else
        fprintf(f, "FAIL: %s\n", r->reason);
    if (fclose(f) != 0) {
        free(buf);
        return NULL;
    }
    return buf;
}

static cJSON *ids_json(const int32_t *ids, int64_t n)
{
    cJSON *a = cJSON_CreateArray();
    for (int64_t i = 0; a && i < n; i++)
        cJSON_AddItemToArray(a, cJSON_CreateNumber(ids[i]));
    return a;
}

static cJSON *stats_json(const struct ckpt_compare_stats *s)
{
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    cJSON_AddNumberToObject(o, "positions", (double)s->n);
    cJSON_AddNumberToObject(o, "top1", ckpt_compare_top1(s));
    cJSON_AddNumberToObject(o, "mean_kld", ckpt_compare_mean_kld(s));
    cJSON_AddNumberToObject(o, "max_kld", s->kld_max);
    cJSON_AddNumberToObject(o, "ppl_source", ckpt_compare_ppl(s, false));
    cJSON_AddNumberToObject(o, "ppl_artifact", ckpt_compare_ppl(s, true));
    return o;
}

cJSON *ckpt_compare_report_json(const struct ckpt_compare_report *r, ckpt_status status)
{
    cJSON *o = cJSON_CreateObject(), *lim, *ps;
    if (!o)
        return NULL;
    cJSON_AddStringToObject(o, "source", r->source ? r->source : "");
    cJSON_AddStringToObject(o, "artifact", r->artifact ? r->artifact : "");
    cJSON_AddStringToObject(o, "type", r->type_name);
    cJSON_AddStringToObject(o, "type_from", r->type_from);
    cJSON_AddNumberToObject(o, "sliding_window", (double)r->sliding_window);
    if ((lim = cJSON_AddObjectToObject(o, "limits"))) {
        cJSON_AddBoolToObject(lim, "tokens_equal", r->limits.tokens_equal > 0);
        cJSON_AddNumberToObject(lim, "min_top1", r->limits.min_top1);
        cJSON_AddNumberToObject(lim, "max_kld", r->limits.max_kld);
        cJSON_AddNumberToObject(lim, "tie_margin", r->limits.tie_margin);
    }
    if ((ps = cJSON_AddArrayToObject(o, "prompts")))
        for (size_t i = 0; i < r->n_prompts; i++) {
            const struct ckpt_compare_prompt *p = &r->prompts[i];
            cJSON *j = cJSON_CreateObject();
            if (!j)
                break;
            cJSON_AddStringToObject(j, "text", p->text);
            cJSON_AddNumberToObject(j, "n_prompt", (double)p->n_prompt);
            cJSON_AddBoolToObject(j, "tokens_equal", p->first_diff < 0);
            cJSON_AddNumberToObject(j, "first_diff", (double)p->first_diff);
            cJSON_AddBoolToObject(j, "near_tie", p->near_tie);
            cJSON_AddItemToObject(j, "source_ids", ids_json(p->src_ids, p->n_new));
            cJSON_AddItemToObject(j, "artifact_ids", ids_json(p->art_ids, p->n_new));
            cJSON_AddItemToObject(j, "teacher_forced", stats_json(&p->tf));
            cJSON_AddItemToArray(ps, j);
        }
    if (r->has_text) {
        cJSON_AddItemToObject(o, "text", stats_json(&r->text));
        cJSON_AddNumberToObject(o, "text_chunks", (double)r->text_chunks);
    }
    cJSON_AddItemToObject(o, "all", stats_json(&r->all));
    cJSON_AddNumberToObject(o, "prompts_equal", (double)r->n_equal);
    cJSON_AddNumberToObject(o, "prompts_near_tie", (double)r->n_near_tie);
    cJSON_AddBoolToObject(o, "pass", status == CKPT_OK && r->pass);
    if (status == CKPT_E_MISMATCH && r->reason[0])
        cJSON_AddStringToObject(o, "reason", r->reason);
    return o;
}
