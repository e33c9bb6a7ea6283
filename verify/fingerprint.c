/*
 * fingerprint.c - run fixed prompts, record and check the behaviour (see
 * fingerprint.h).
 */
#include "fingerprint.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../formats/le.h"
#include "../formats/model_load.h"
#include "../formats/sha256.h"
#include "../formats/tokenizer.h"
#include "../kernels/dispatch.h"
#include "../kernels/model.h"
#include "../kernels/ops.h"
#include "compare.h"

/* One prompt's run: ids in, greedy ids and top pairs out. */
struct fp_run {
    int32_t *ids;     /* prompt ids, then the generated ones */
    int64_t n_prompt, n_new;
    int32_t *top;     /* n_new * 2 * CKPT_FP_TOP_K: (id, quantized logit) */
};

static void fp_run_free(struct fp_run *r)
{
    free(r->ids);
    free(r->top);
}

/* round(logit / quantum) as recorded (INT32_MIN: not finite or out of range). */
static int32_t quantize_logit(float x)
{
    double q = round(x / CKPT_FP_QUANTUM);
    return isfinite(q) && fabs(q) < 2e9 ? (int32_t)q : INT32_MIN;
}

/* Greedy decoding of r->n_new tokens after the prompt, from an empty cache.
 * r->top gets each step's top-k pairs; or, given want (the signed pairs,
 * ids checked against n_vocab), the logits of the signed ids, so that a
 * near-tie that swaps two ranks at the edge of the top-k is no failure. */
static ckpt_status run_prompt(ckpt_model *m, int64_t n_vocab, struct fp_run *r,
                              const int32_t *want, ckpt_err *err)
{
    float *logits = malloc(sizeof(float) * (size_t)n_vocab);
    int32_t top[CKPT_FP_TOP_K];
    if (!logits || !(r->top = malloc(sizeof(int32_t) * 2 * CKPT_FP_TOP_K * (size_t)r->n_new))) {
        free(logits);
        return ckpt_err_set(err, CKPT_E_NOMEM, "out of memory");
    }
    ckpt_model_truncate(m, 0);
    ckpt_status s = ckpt_model_eval(m, r->ids, r->n_prompt, logits, false, err);
    for (int64_t t = 0; s == CKPT_OK && t < r->n_new; t++) {
        if (want)
            for (int k = 0; k < CKPT_FP_TOP_K; k++)
                top[k] = want[(t * CKPT_FP_TOP_K + k) * 2];
        else
            ckpt_ops_topk(logits, n_vocab, CKPT_FP_TOP_K, top);
        for (int k = 0; k < CKPT_FP_TOP_K; k++) {
            int32_t *p = r->top + (t * CKPT_FP_TOP_K + k) * 2;
            p[0] = top[k];
            p[1] = top[k] >= 0 && top[k] < n_vocab ? quantize_logit(logits[top[k]]) : INT32_MIN;
        }
        int32_t next = ckpt_ops_argmax(logits, n_vocab);
        r->ids[r->n_prompt + t] = next;
        if (t + 1 < r->n_new)
            s = ckpt_model_eval(m, &next, 1, logits, false, err);
    }
    free(logits);
    return s;
}

/* SHA-256 (hex) of ids and top pairs, as little-endian int32s. */
static ckpt_status run_digest(const struct fp_run *r, char hex[CKPT_SHA256_HEX], ckpt_err *err)
{
    size_t n = (size_t)(r->n_prompt + r->n_new) + 2 * CKPT_FP_TOP_K * (size_t)r->n_new;
    uint8_t *b = malloc(4 * n), d[CKPT_SHA256_LEN];
    if (!b)
        return ckpt_err_set(err, CKPT_E_NOMEM, "out of memory");
    size_t k = 0;
    for (int64_t i = 0; i < r->n_prompt + r->n_new; i++, k++)
        le32enc(b + 4 * k, (uint32_t)r->ids[i]);
    for (int64_t i = 0; i < 2 * CKPT_FP_TOP_K * r->n_new; i++, k++)
        le32enc(b + 4 * k, (uint32_t)r->top[i]);
    ckpt_status s = ckpt_sha256_buf(b, 4 * n, d, err);
    free(b);
    if (s == CKPT_OK)
        ckpt_sha256_hex(d, hex);
    return s;
}

/* The model and tokenizer of o->model, with room for the longest run. */
struct fp_ctx {
    ckpt_weights *w;
    ckpt_tok *tok;
    ckpt_model *m;
    int64_t n_vocab;
};

static ckpt_status open_ctx(struct fp_ctx *c, const struct ckpt_fp_opts *o, int64_t n_ctx,
                            ckpt_err *err)
{
    ckpt_status s = ckpt_weights_open(&c->w, o->model, NULL, err);
    if (s == CKPT_OK)
        s = ckpt_tok_load_any(&c->tok, o->model, err);
    if (s != CKPT_OK)
        return s;
    const struct ckpt_model_config *cfg = ckpt_weights_config(c->w);
    struct ckpt_model_opts mo = {.n_ctx = n_ctx, .n_threads = o->threads, .isa = o->isa};
    c->n_vocab = cfg->n_vocab;
    return ckpt_model_new(&c->m, cfg, ckpt_weights_views(c->w), &mo, err);
}

static void close_ctx(struct fp_ctx *c)
{
    ckpt_model_free(c->m);
    ckpt_tok_free(c->tok);
    ckpt_weights_close(c->w);
}

/* Encode text into r (room for n_new more ids). */
static ckpt_status encode(const struct fp_ctx *c, const char *text, int64_t n_new,
                          struct fp_run *r, ckpt_err *err)
{
    size_t len = strlen(text), cap = ckpt_tok_encode_max(len), n = 0;
    if (cap == SIZE_MAX || !(r->ids = malloc(sizeof(int32_t) * (cap + (size_t)n_new))))
        return ckpt_err_set(err, CKPT_E_NOMEM, "out of memory");
    ckpt_status s = ckpt_tok_encode(c->tok, text, len, CKPT_TOK_ADD_SPECIAL, r->ids, cap, &n, err);
    if (s == CKPT_OK && n == 0)
        s = ckpt_err_set(err, CKPT_E_USAGE, "fingerprint prompt '%.60s' encodes to no tokens",
                         text);
    r->n_prompt = (int64_t)n;
    r->n_new = n_new;
    return s;
}

static cJSON *int_array(const int32_t *v, int64_t n)
{
    cJSON *a = cJSON_CreateArray(), *x;
    for (int64_t i = 0; a && i < n; i++)
        if (!(x = cJSON_CreateNumber(v[i])) || !cJSON_AddItemToArray(a, x)) {
            cJSON_Delete(a);
            return NULL;
        }
    return a;
}

static bool add_run(cJSON *list, const char *text, const struct fp_run *r, const char *hex)
{
    cJSON *p = cJSON_CreateObject(), *top;
    bool ok = p && cJSON_AddItemToArray(list, p) && cJSON_AddStringToObject(p, "text", text) &&
              cJSON_AddItemToObject(p, "ids", int_array(r->ids, r->n_prompt)) &&
              cJSON_AddItemToObject(p, "generated", int_array(r->ids + r->n_prompt, r->n_new)) &&
              (top = cJSON_AddArrayToObject(p, "top"));
    for (int64_t t = 0; ok && t < r->n_new; t++)
        ok = cJSON_AddItemToArray(top, int_array(r->top + t * 2 * CKPT_FP_TOP_K,
                                                 2 * CKPT_FP_TOP_K));
    return ok && cJSON_AddStringToObject(p, "sha256", hex);
}

/* Which kernels ran and the semantic they compute (dispatch.h): the
 * checker names them when its own differ and the check fails. */
static bool record_isa(cJSON *fp, ckpt_isa isa)
{
    return cJSON_AddStringToObject(fp, "isa", ckpt_isa_name(isa)) &&
           cJSON_AddStringToObject(fp, "semantic", ckpt_isa_semantic(isa));
}

ckpt_status ckpt_fingerprint_make(cJSON **out, const struct ckpt_fp_opts *o, ckpt_err *err)
{
    *out = NULL;
    size_t np = o->n_prompts;
    const char *const *texts = o->prompts ? o->prompts : ckpt_compare_default_prompts(&np);
    const int64_t n_new = o->n_new > 0 ? o->n_new : CKPT_FP_TOKENS;
    struct fp_ctx c = {0};
    struct fp_run *runs = calloc(np, sizeof *runs);
    cJSON *fp = cJSON_CreateObject(), *list = NULL;
    ckpt_status s = runs && fp && cJSON_AddNumberToObject(fp, "version", CKPT_FP_VERSION) &&
                    cJSON_AddNumberToObject(fp, "tokens", (double)n_new) &&
                    cJSON_AddNumberToObject(fp, "top_k", CKPT_FP_TOP_K) &&
                    cJSON_AddNumberToObject(fp, "quantum", CKPT_FP_QUANTUM) &&
                    cJSON_AddNumberToObject(fp, "tolerance", CKPT_FP_TOLERANCE) &&
                    (list = cJSON_AddArrayToObject(fp, "prompts"))
                        ? CKPT_OK : ckpt_err_set(err, CKPT_E_NOMEM, "out of memory");
    /* tokenizer first, to size the cache for the longest prompt */
    if (s == CKPT_OK)
        s = ckpt_tok_load_any(&c.tok, o->model, err);
    int64_t longest = 0;
    for (size_t i = 0; s == CKPT_OK && i < np; i++) {
        s = encode(&c, texts[i], n_new, &runs[i], err);
        if (runs[i].n_prompt > longest)
            longest = runs[i].n_prompt;
    }
    ckpt_tok_free(c.tok);
    c.tok = NULL;
    if (s == CKPT_OK)
        s = open_ctx(&c, o, longest + n_new, err);
    if (s == CKPT_OK && !record_isa(fp, ckpt_model_isa(c.m)))
        s = ckpt_err_set(err, CKPT_E_NOMEM, "out of memory");
    for (size_t i = 0; s == CKPT_OK && i < np; i++) {
        char hex[CKPT_SHA256_HEX];
        s = run_prompt(c.m, c.n_vocab, &runs[i], NULL, err);
        if (s == CKPT_OK)
            s = run_digest(&runs[i], hex, err);
        if (s == CKPT_OK && !add_run(list, texts[i], &runs[i], hex))
            s = ckpt_err_set(err, CKPT_E_NOMEM, "out of memory");
    }
    for (size_t i = 0; runs && i < np; i++)
        fp_run_free(&runs[i]);
    free(runs);
    close_ctx(&c);
    if (s != CKPT_OK)
        cJSON_Delete(fp);
    else
        *out = fp;
    return s;
}

/* ==== checking ==== */

/* n int32s of a JSON array of integers, or false. */
static bool ints(const cJSON *a, int32_t *v, int64_t n)
{
    if (!cJSON_IsArray(a) || cJSON_GetArraySize(a) != n)
        return false;
    int64_t i = 0;
    for (const cJSON *x = a->child; x; x = x->next, i++) {
        if (!cJSON_IsNumber(x) || x->valuedouble != floor(x->valuedouble) ||
            x->valuedouble < INT32_MIN || x->valuedouble > INT32_MAX)
            return false;
        v[i] = (int32_t)x->valuedouble;
    }
    return true;
}

static ckpt_status bad(const char *what, ckpt_err *err)
{
    return ckpt_err_set(err, CKPT_E_FORMAT, "signed fingerprint: %s", what);
}

/* Compare one prompt's run with its record. */
static ckpt_status check_prompt(struct fp_ctx *c, const cJSON *p, size_t k, int64_t n_new,
                                ckpt_err *err)
{
    const cJSON *text = cJSON_GetObjectItemCaseSensitive(p, "text");
    if (!cJSON_IsString(text))
        return bad("a prompt without text", err);
    struct fp_run r = {0};
    ckpt_status s = encode(c, text->valuestring, n_new, &r, err);
    int32_t *want = s == CKPT_OK ? malloc(sizeof(int32_t) * (size_t)(r.n_prompt + n_new))
                                 : NULL;
    int32_t *top = s == CKPT_OK ? malloc(sizeof(int32_t) * 2 * CKPT_FP_TOP_K * (size_t)n_new)
                                : NULL;
    if (s == CKPT_OK && (!want || !top))
        s = ckpt_err_set(err, CKPT_E_NOMEM, "out of memory");
    const cJSON *tops = cJSON_GetObjectItemCaseSensitive(p, "top");
    if (s == CKPT_OK && (!cJSON_IsArray(tops) || cJSON_GetArraySize(tops) != n_new))
        s = bad("top logits", err);
    int64_t t = 0;
    for (const cJSON *st = tops ? tops->child : NULL; s == CKPT_OK && st; st = st->next, t++)
        if (!ints(st, top + t * 2 * CKPT_FP_TOP_K, 2 * CKPT_FP_TOP_K))
            s = bad("top logits", err);
    if (s == CKPT_OK && !ints(cJSON_GetObjectItemCaseSensitive(p, "ids"), want, r.n_prompt))
        s = ckpt_err_set(err, CKPT_E_MISMATCH, "prompt %zu ('%.40s'): the tokenizer gives "
                         "other ids than signed", k + 1, text->valuestring);
    for (int64_t i = 0; s == CKPT_OK && i < r.n_prompt; i++)
        if (want[i] != r.ids[i])
            s = ckpt_err_set(err, CKPT_E_MISMATCH, "prompt %zu ('%.40s'): prompt token %lld is "
                             "%d, signed %d", k + 1, text->valuestring, (long long)i, r.ids[i],
                             want[i]);
    if (s == CKPT_OK && (int64_t)(r.n_prompt + n_new) > ckpt_model_n_ctx(c->m))
        s = bad("a prompt longer than the others", err);
    if (s == CKPT_OK)
        s = run_prompt(c->m, c->n_vocab, &r, top, err);
    if (s == CKPT_OK && !ints(cJSON_GetObjectItemCaseSensitive(p, "generated"), want, n_new))
        s = bad("generated ids", err);
    /* step by step, so that the first difference is the one named: the token,
     * then each signed top id's logit within the tolerance */
    for (int64_t g = 0; s == CKPT_OK && g < n_new; g++) {
        if (want[g] != r.ids[r.n_prompt + g]) {
            s = ckpt_err_set(err, CKPT_E_MISMATCH, "prompt %zu ('%.40s'), step %lld: token %d, "
                             "signed %d", k + 1, text->valuestring, (long long)g + 1,
                             r.ids[r.n_prompt + g], want[g]);
            break;
        }
        for (int64_t i = g * CKPT_FP_TOP_K; s == CKPT_OK && i < (g + 1) * CKPT_FP_TOP_K; i++) {
            int32_t id = top[2 * i], signed_q = top[2 * i + 1], q = r.top[2 * i + 1];
            if (q == INT32_MIN || signed_q == INT32_MIN ||
                llabs((long long)q - signed_q) > CKPT_FP_TOLERANCE)
                s = ckpt_err_set(err, CKPT_E_MISMATCH, "prompt %zu ('%.40s'), step %lld: the "
                                 "logit of token %d is %g, signed %g (tolerance %g)", k + 1,
                                 text->valuestring, (long long)g + 1, id, q * CKPT_FP_QUANTUM,
                                 signed_q * CKPT_FP_QUANTUM, CKPT_FP_TOLERANCE * CKPT_FP_QUANTUM);
        }
    }
    free(want);
    free(top);
    fp_run_free(&r);
    return s;
}

/* A failure across semantics may be the semantics' own difference (a
 * quantized model's logits move with q8 activations): say so after err's
 * message, and name an ISA of this CPU with the signed semantic. */
static void note_semantics(ckpt_err *err, const char *isa, const char *sem, ckpt_isa mine)
{
    if (strcmp(sem, ckpt_isa_semantic(mine)) == 0)
        return;
    int same = -1;
    for (int i = CKPT_ISA_COUNT - 1; i >= 0; i--)
        if (ckpt_isa_available((ckpt_isa)i) && strcmp(sem, ckpt_isa_semantic((ckpt_isa)i)) == 0)
            same = i == (int)ckpt_isa_default() || same < 0 ? i : same;
    size_t len = strlen(err->msg);
    snprintf(err->msg + len, sizeof err->msg - len,
             "; signed under isa %.16s (semantic %.16s), checked under %s (%s)%s%s", isa, sem,
             ckpt_isa_name(mine), ckpt_isa_semantic(mine),
             same >= 0 ? ": check with CKPT_ISA=" : "",
             same >= 0 ? ckpt_isa_name((ckpt_isa)same) : "");
}

ckpt_status ckpt_fingerprint_check(const cJSON *fp, const struct ckpt_fp_opts *o, ckpt_err *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(fp, "version");
    const cJSON *n = cJSON_GetObjectItemCaseSensitive(fp, "tokens");
    const cJSON *k = cJSON_GetObjectItemCaseSensitive(fp, "top_k");
    const cJSON *q = cJSON_GetObjectItemCaseSensitive(fp, "quantum");
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(fp, "prompts");
    if (!cJSON_IsNumber(v) || v->valuedouble != CKPT_FP_VERSION)
        return bad("unknown version", err);
    if (!cJSON_IsNumber(n) || n->valuedouble < 1 || n->valuedouble > 4096 ||
        !cJSON_IsNumber(k) || k->valuedouble != CKPT_FP_TOP_K || !cJSON_IsNumber(q) ||
        q->valuedouble != CKPT_FP_QUANTUM || !cJSON_IsArray(list) ||
        cJSON_GetArraySize(list) < 1 || cJSON_GetArraySize(list) > 4096)
        return bad("tokens, top_k, quantum or prompts out of range", err);
    const int64_t n_new = (int64_t)n->valuedouble;
    /* the cache holds the longest signed prompt */
    int64_t longest = 0;
    for (const cJSON *p = list->child; p; p = p->next) {
        int64_t len = cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(p, "ids"));
        if (len > longest)
            longest = len;
    }
    if (longest < 1 || longest > (1 << 20))
        return bad("prompt ids", err);
    /* optional (fingerprints made before they were recorded lack them) */
    const cJSON *isa = cJSON_GetObjectItemCaseSensitive(fp, "isa");
    const cJSON *sem = cJSON_GetObjectItemCaseSensitive(fp, "semantic");
    if ((isa && !cJSON_IsString(isa)) || (sem && !cJSON_IsString(sem)))
        return bad("isa or semantic not a string", err);
    struct fp_ctx c = {0};
    ckpt_status s = open_ctx(&c, o, longest + n_new, err);
    size_t i = 0;
    for (const cJSON *p = list->child; s == CKPT_OK && p; p = p->next, i++)
        s = check_prompt(&c, p, i, n_new, err);
    if (s == CKPT_E_MISMATCH && sem && isa)
        note_semantics(err, isa->valuestring, sem->valuestring, ckpt_model_isa(c.m));
    close_ctx(&c);
    return s;
}
