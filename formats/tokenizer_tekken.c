/*
 * tokenizer_tekken.c - Mistral's tekken.json (mistral_common's Tekkenizer,
 * a tiktoken encoding) as a byte-level BPE ckpt_tok; tokenizer.h says what
 * is read.  The ids are the ones mistral_common and Hugging Face's
 * conversion give: the specials first (0..N-1), then vocab entry r at
 * N + r, only the first default_vocab_size - N entries (Mistral's files
 * list more pieces than the models use).  tiktoken merges the pair whose
 * joined bytes have the lowest rank; the merges derived here (every split
 * of a piece into two pieces, by the piece's rank) make Hugging Face's
 * rank-of-merge BPE do the same, and are what llama.cpp's converter writes.
 */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "b64.h"
#include "tokenizer_impl.h"

/* mistral_common's list for files without special_tokens (up to v7). */
static const char *const legacy_specials[] = {
    "<unk>", "<s>", "</s>", "[INST]", "[/INST]", "[AVAILABLE_TOOLS]", "[/AVAILABLE_TOOLS]",
    "[TOOL_RESULTS]", "[/TOOL_RESULTS]", "[TOOL_CALLS]", "[IMG]", "<pad>", "[IMG_BREAK]",
    "[IMG_END]", "[PREFIX]", "[MIDDLE]", "[SUFFIX]", "[SYSTEM_PROMPT]", "[/SYSTEM_PROMPT]",
    "[TOOL_CONTENT]",
};
#define N_LEGACY (sizeof legacy_specials / sizeof legacy_specials[0])

struct tk {
    ckpt_tok *tok;
    const char *name;
    ckpt_err *err;
    uint32_t n_special, inner;
    uint8_t **bytes; /* (inner) the raw bytes of vocab entry r */
    size_t *blen;
    char *bl;        /* scratch: a byte string in GPT-2 characters */
};

/* An integer JSON number in [lo, hi]. */
static bool json_int(const cJSON *v, double lo, double hi, uint32_t *out)
{
    if (!cJSON_IsNumber(v) || !(v->valuedouble >= lo && v->valuedouble <= hi) ||
        v->valuedouble != floor(v->valuedouble))
        return false;
    *out = (uint32_t)v->valuedouble;
    return true;
}

/* "v" and a number, as mistral_common's TokenizerVersion names them. */
static int version_number(const cJSON *v)
{
    if (!cJSON_IsString(v) || v->valuestring[0] != 'v' || !v->valuestring[1])
        return -1;
    int n = 0;
    for (const char *s = v->valuestring + 1; *s; s++) {
        if (*s < '0' || *s > '9' || n > 100000)
            return -1;
        n = n * 10 + (*s - '0');
    }
    return n;
}

/* Piece id of bytes b[0..n) of the vocabulary, or -1. */
static int32_t id_of_bytes(struct tk *k, const uint8_t *b, size_t n)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++)
        o += ckpt_tok_bytelevel_char(b[i], k->bl + o);
    int32_t id = ckpt_tok_lookup(k->tok, k->bl, o);
    return id >= (int32_t)k->n_special ? id : -1;
}

static ckpt_status add_specials(struct tk *k, const cJSON *list, int version)
{
    ckpt_tok *t = k->tok;
    uint32_t n = 0;
    ckpt_status st = CKPT_OK;
    if (!list || cJSON_IsNull(list)) {
        /* mistral_common: only files up to v7 may leave them out */
        if (version > 7)
            return ckpt_err_set(k->err, CKPT_E_FORMAT,
                                "%s: no special_tokens (version v%d files must list them)",
                                k->name, version);
        for (; n < N_LEGACY && n < k->n_special && !st; n++)
            st = ckpt_tok_build_add(t, legacy_specials[n], strlen(legacy_specials[n]), 0.0f,
                                    CKPT_TOK_CONTROL, k->name, k->err);
    } else if (!cJSON_IsArray(list))
        return ckpt_err_set(k->err, CKPT_E_FORMAT, "%s: special_tokens is not an array", k->name);
    else
        for (const cJSON *e = list->child; e && !st; e = e->next, n++) {
            const cJSON *s = cJSON_GetObjectItemCaseSensitive(e, "token_str");
            uint32_t rank;
            if (n >= k->n_special)
                return ckpt_err_set(k->err, CKPT_E_FORMAT,
                                    "%s: more special_tokens than default_num_special_tokens %u",
                                    k->name, k->n_special);
            if (!json_int(cJSON_GetObjectItemCaseSensitive(e, "rank"), 0, 1e9, &rank) ||
                rank != n || !cJSON_IsString(s) || !s->valuestring[0])
                return ckpt_err_set(k->err, CKPT_E_FORMAT,
                                    "%s: special_tokens[%u] needs rank %u and a non-empty "
                                    "token_str",
                                    k->name, n, n);
            /* is_control false (rare) still makes a special: never made from text */
            st = ckpt_tok_build_add(t, s->valuestring, strlen(s->valuestring), 0.0f,
                                    CKPT_TOK_CONTROL, k->name, k->err);
        }
    /* the rest are fillers, as mistral_common names them */
    char buf[32];
    for (; n < k->n_special && !st; n++) {
        int len = snprintf(buf, sizeof buf, "<SPECIAL_%u>", n);
        st = ckpt_tok_build_add(t, buf, (size_t)len, 0.0f, CKPT_TOK_CONTROL, k->name, k->err);
    }
    return st;
}

static ckpt_status add_vocab(struct tk *k, const cJSON *vocab)
{
    if (!cJSON_IsArray(vocab))
        return ckpt_err_set(k->err, CKPT_E_FORMAT, "%s: vocab is not an array", k->name);
    ckpt_status st = CKPT_OK;
    uint32_t r = 0;
    size_t maxlen = 1;
    for (const cJSON *e = vocab->child; e && r < k->inner && !st; e = e->next, r++) {
        const cJSON *b = cJSON_GetObjectItemCaseSensitive(e, "token_bytes");
        uint32_t rank;
        if (!json_int(cJSON_GetObjectItemCaseSensitive(e, "rank"), 0, 1e9, &rank) || rank != r ||
            !cJSON_IsString(b))
            return ckpt_err_set(k->err, CKPT_E_FORMAT,
                                "%s: vocab[%u] needs rank %u and a base64 token_bytes", k->name, r,
                                r);
        char what[320];
        snprintf(what, sizeof what, "%.256s: vocab[%u].token_bytes", k->name, r);
        st = ckpt_b64_decode(b->valuestring, strlen(b->valuestring), what, &k->bytes[r],
                             &k->blen[r], k->err);
        if (st)
            return st;
        /* tiktoken: the first 256 ranks are the single bytes, in order */
        if (k->blen[r] == 0 || (r < 256 && (k->blen[r] != 1 || k->bytes[r][0] != r)))
            return ckpt_err_set(k->err, CKPT_E_FORMAT,
                                "%s: vocab[%u] must be %s", k->name, r,
                                r < 256 ? "the single byte of its rank" : "at least one byte");
        if (k->blen[r] > maxlen)
            maxlen = k->blen[r];
    }
    if (r < k->inner)
        return ckpt_err_set(k->err, CKPT_E_FORMAT,
                            "%s: %u vocab entries, fewer than default_vocab_size - "
                            "default_num_special_tokens = %u",
                            k->name, r, k->inner);
    if (!(k->bl = malloc(2 * maxlen)))
        return ckpt_err_set(k->err, CKPT_E_NOMEM, "%s: out of memory", k->name);
    for (r = 0; r < k->inner && !st; r++) {
        size_t o = 0;
        for (size_t i = 0; i < k->blen[r]; i++)
            o += ckpt_tok_bytelevel_char(k->bytes[r][i], k->bl + o);
        st = ckpt_tok_build_add(k->tok, k->bl, o, 0.0f, CKPT_TOK_NORMAL, k->name, k->err);
    }
    return st;
}

struct split {
    int32_t a, b; /* piece ids, which order as ranks do */
};

static int by_halves(const void *x, const void *y)
{
    const struct split *p = x, *q = y;
    if (p->a != q->a)
        return p->a < q->a ? -1 : 1;
    return (p->b > q->b) - (p->b < q->b);
}

/* The merges, described at the top of this file. */
static ckpt_status derive_merges(struct tk *k)
{
    size_t cap = 0;
    struct split *v = NULL;
    ckpt_status st = CKPT_OK;
    for (uint32_t r = 256; r < k->inner && !st; r++) {
        size_t len = k->blen[r], n = 0;
        if (len - 1 > cap) {
            struct split *nv = realloc(v, (len - 1) * sizeof *v);
            if (!nv) {
                st = ckpt_err_set(k->err, CKPT_E_NOMEM, "%s: out of memory", k->name);
                break;
            }
            v = nv;
            cap = len - 1;
        }
        for (size_t j = 1; j < len; j++) {
            int32_t a = id_of_bytes(k, k->bytes[r], j);
            int32_t b = a < 0 ? -1 : id_of_bytes(k, k->bytes[r] + j, len - j);
            if (a >= 0 && b >= 0)
                v[n++] = (struct split){a, b};
        }
        if (n == 0) {
            st = ckpt_err_set(k->err, CKPT_E_FORMAT,
                              "%s: vocab[%u] is no two pieces of the vocabulary joined; no merge "
                              "can make it",
                              k->name, r);
            break;
        }
        qsort(v, n, sizeof *v, by_halves);
        int32_t out = (int32_t)(k->n_special + r);
        for (size_t i = 0; i < n && !st; i++)
            st = ckpt_tok_merge_add(k->tok, v[i].a, v[i].b, out, false, k->name, k->err);
    }
    free(v);
    return st;
}

static ckpt_status parse(struct tk *k, const cJSON *root)
{
    ckpt_tok *t = k->tok;
    const cJSON *cfg = cJSON_GetObjectItemCaseSensitive(root, "config");
    const cJSON *pat = cJSON_GetObjectItemCaseSensitive(cfg, "pattern");
    const cJSON *vocab = cJSON_GetObjectItemCaseSensitive(root, "vocab");
    uint32_t vsize, nspecial;
    if (!cJSON_IsObject(cfg) || !cJSON_IsString(pat) ||
        !json_int(cJSON_GetObjectItemCaseSensitive(cfg, "default_vocab_size"), 1,
                  CKPT_TOK_MAX_PIECES, &vsize) ||
        !json_int(cJSON_GetObjectItemCaseSensitive(cfg, "default_num_special_tokens"), 0,
                  CKPT_TOK_MAX_PIECES, &nspecial))
        return ckpt_err_set(k->err, CKPT_E_FORMAT,
                            "%s: config needs pattern, default_vocab_size and "
                            "default_num_special_tokens",
                            k->name);
    int version = version_number(cJSON_GetObjectItemCaseSensitive(cfg, "version"));
    if (version < 0)
        return ckpt_err_set(k->err, CKPT_E_UNSUPPORTED,
                            "%s: config.version is not a version mistral_common names (vN)",
                            k->name);
    if (vsize < nspecial + 256)
        return ckpt_err_set(k->err, CKPT_E_FORMAT,
                            "%s: default_vocab_size %u leaves fewer than 256 pieces after %u "
                            "special tokens",
                            k->name, vsize, nspecial);
    /* the vocabulary cannot hold more entries than the file holds values */
    int nv = cJSON_GetArraySize(vocab);
    if (!cJSON_IsArray(vocab) || (uint32_t)nv < vsize - nspecial)
        return ckpt_err_set(k->err, CKPT_E_FORMAT,
                            "%s: vocab holds %d entries, fewer than default_vocab_size - "
                            "default_num_special_tokens = %u",
                            k->name, nv, vsize - nspecial);
    k->n_special = nspecial;
    k->inner = vsize - nspecial;
    k->bytes = calloc(k->inner, sizeof *k->bytes);
    k->blen = calloc(k->inner, sizeof *k->blen);
    if (!k->bytes || !k->blen)
        return ckpt_err_set(k->err, CKPT_E_NOMEM, "%s: out of memory", k->name);
    ckpt_status st =
        add_specials(k, cJSON_GetObjectItemCaseSensitive(root, "special_tokens"), version);
    if (!st)
        st = add_vocab(k, vocab);
    if (!st)
        st = ckpt_tok_bytelevel_init(t, pat->valuestring, strlen(pat->valuestring), true,
                                     k->name, k->err);
    if (!st) /* the hash (duplicate pieces are refused here), for the merges */
        st = ckpt_tok_build_finish(t, k->name, k->err);
    if (!st)
        st = derive_merges(k);
    if (st)
        return st;
    t->bos = ckpt_tok_lookup(t, "<s>", 3);
    t->eos = ckpt_tok_lookup(t, "</s>", 4);
    t->unk = ckpt_tok_lookup(t, "<unk>", 5);
    t->pad = ckpt_tok_lookup(t, "<pad>", 5);
    t->add_bos = true;
    t->add_eos = false;
    return ckpt_tok_build_finish(t, k->name, k->err);
}

ckpt_status ckpt_tok_parse_tekken(ckpt_tok **out, const char *json, size_t len, const char *name,
                                  ckpt_err *err)
{
    *out = NULL;
    ckpt_json *doc = NULL;
    ckpt_status st = ckpt_tok_json_parse(&doc, json, len, name, true, err);
    if (st)
        return st;
    struct tk k = {ckpt_tok_build_new(CKPT_TOK_SRC_TEKKEN), name, err, 0, 0, NULL, NULL, NULL};
    const cJSON *root = ckpt_json_root(doc);
    if (!k.tok)
        st = ckpt_err_set(err, CKPT_E_NOMEM, "%s: out of memory", name);
    else if (!cJSON_IsObject(root))
        st = ckpt_err_set(err, CKPT_E_FORMAT, "%s: not a JSON object", name);
    else
        st = parse(&k, root);
    for (uint32_t r = 0; k.bytes && r < k.inner; r++)
        free(k.bytes[r]);
    free(k.bytes);
    free(k.blen);
    free(k.bl);
    ckpt_json_free(doc);
    if (st) {
        ckpt_tok_free(k.tok);
        return st;
    }
    *out = k.tok;
    return CKPT_OK;
}

ckpt_status ckpt_tok_load_tekken(ckpt_tok **out, const char *path, ckpt_err *err)
{
    return ckpt_tok_json_load(out, path, ckpt_tok_parse_tekken, err);
}
