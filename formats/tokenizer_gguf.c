/*
 * tokenizer_gguf.c - the vocabulary stored in a GGUF (tokenizer.ggml.*) as
 * a ckpt_tok, so that a GGUF alone is enough to turn text into ids.  The
 * arrays are what llama.cpp's converter wrote; for tokenizer.ggml.model
 * "llama" the encoder then treats them as llama.cpp's SentencePiece
 * tokenizer does: every piece may be the result of a merge, whitespace is
 * escaped as U+2581, extra whitespace is kept, and a dummy prefix is added
 * when add_space_prefix says so.  For "gpt2" (byte-level BPE) the merges
 * give the ranks and tokenizer.ggml.pre the regex, as in llama.cpp
 * (src/llama-vocab.cpp): "tekken" with ignore_merges, "gpt-2" GPT-2's
 * own without.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../arch/gguf_keys.h"
#include "gguf.h"
#include "tokenizer_impl.h"

/* The array kv `key` of strings or of numbers; absent: *out = NULL, and an
 * error only when the array is required. */
static ckpt_status array_kv(const ckpt_gguf *g, const char *key, bool strings, bool required,
                            const struct ckpt_gguf_kv **out, const char *name, ckpt_err *err)
{
    const struct ckpt_gguf_kv *kv = ckpt_gguf_find_kv(g, key);
    *out = NULL;
    if (!kv)
        return required ? ckpt_err_set(err, CKPT_E_FORMAT, "%s: no %s", name, key) : CKPT_OK;
    if (kv->type != CKPT_GGUF_ARRAY || (kv->elem_type == CKPT_GGUF_STRING) != strings)
        return ckpt_err_set(err, CKPT_E_FORMAT, "%s: %s is not an array of %s", name, key,
                            strings ? "strings" : "numbers");
    *out = kv;
    return CKPT_OK;
}

/* An optional id key: *id keeps its value when the key is absent. */
static ckpt_status opt_id(const ckpt_gguf *g, const char *key, uint32_t n, int32_t *id,
                          const char *name, ckpt_err *err)
{
    if (!ckpt_gguf_find_kv(g, key))
        return CKPT_OK;
    uint32_t v;
    ckpt_status st = ckpt_gguf_get_u32(g, key, &v, err);
    if (st)
        return st;
    if (v >= n)
        return ckpt_err_set(err, CKPT_E_FORMAT, "%s: %s = %u is outside the %u tokens", name, key,
                            v, n);
    *id = (int32_t)v;
    return CKPT_OK;
}

static ckpt_status opt_bool(const ckpt_gguf *g, const char *key, bool *v, ckpt_err *err)
{
    return ckpt_gguf_find_kv(g, key) ? ckpt_gguf_get_bool(g, key, v, err) : CKPT_OK;
}

/* tokenizer.ggml.pre of a gpt2 vocabulary: the regex, and ignore_merges. */
static ckpt_status bytelevel_pre(ckpt_tok *t, const ckpt_gguf *g, const char *name,
                                 ckpt_err *err)
{
    /* absent, llama.cpp takes "default", whose BPE split is its own mix of
     * four regexes: not one ckpt reproduces */
    const char *pre = "default";
    ckpt_status st = CKPT_OK;
    if (ckpt_gguf_find_kv(g, CKPT_KEY_TOK_PRE) &&
        (st = ckpt_gguf_get_str(g, CKPT_KEY_TOK_PRE, &pre, err)))
        return st;
    bool tekken = strcmp(pre, "tekken") == 0;
    const char *pattern = ckpt_tok_pretok_pattern(pre);
    if (!pattern)
        return ckpt_err_set(err, CKPT_E_UNSUPPORTED,
                            "%s: tokenizer.ggml.pre '%s' is not supported (ckpt knows 'tekken' "
                            "and 'gpt-2')",
                            name, pre);
    return ckpt_tok_bytelevel_init(t, pattern, strlen(pattern), tekken, name, err);
}

/* tokenizer.ggml.merges: "a b" strings, split at the first space after
 * the first byte as llama.cpp does; both halves and the joined text must
 * be tokens. */
static ckpt_status bytelevel_merges(ckpt_tok *t, const ckpt_gguf *g, const char *name,
                                    ckpt_err *err)
{
    const struct ckpt_gguf_kv *kv = ckpt_gguf_find_kv(g, CKPT_KEY_TOK_MERGES);
    if (!kv || kv->type != CKPT_GGUF_ARRAY || kv->elem_type != CKPT_GGUF_STRING)
        return ckpt_err_set(err, CKPT_E_FORMAT, "%s: no %s array of strings (a gpt2 vocabulary "
                            "needs it)", name, CKPT_KEY_TOK_MERGES);
    if (kv->n > CKPT_TOK_MAX_PIECES)
        return ckpt_err_set(err, CKPT_E_RANGE, "%s: %llu merges", name,
                            (unsigned long long)kv->n);
    char *joined = NULL;
    size_t cap = 0;
    ckpt_status st = CKPT_OK;
    for (uint64_t i = 0; i < kv->n && !st; i++) {
        const struct ckpt_gguf_str *m = &kv->array_str[i];
        const char *sp = m->len > 1 ? memchr(m->str + 1, ' ', (size_t)m->len - 1) : NULL;
        if (!sp || sp + 1 == m->str + m->len) {
            st = ckpt_err_set(err, CKPT_E_FORMAT, "%s: merge %llu is not \"a b\"", name,
                              (unsigned long long)i);
            break;
        }
        size_t la = (size_t)(sp - m->str), lb = (size_t)m->len - la - 1;
        if (la + lb > cap) {
            char *nb = realloc(joined, 2 * (la + lb));
            if (!nb) {
                st = ckpt_err_set(err, CKPT_E_NOMEM, "%s: out of memory", name);
                break;
            }
            joined = nb;
            cap = 2 * (la + lb);
        }
        memcpy(joined, m->str, la);
        memcpy(joined + la, sp + 1, lb);
        int32_t a = ckpt_tok_lookup(t, m->str, la), b = ckpt_tok_lookup(t, sp + 1, lb);
        int32_t out = ckpt_tok_lookup(t, joined, la + lb);
        if (a < 0 || b < 0 || out < 0)
            st = ckpt_err_set(err, CKPT_E_FORMAT,
                              "%s: merge %llu uses or makes a piece not among the tokens", name,
                              (unsigned long long)i);
        else
            st = ckpt_tok_merge_add(t, a, b, out, false, name, err); /* llama.cpp: first wins */
    }
    free(joined);
    return st;
}

static ckpt_status fill(ckpt_tok *t, const ckpt_gguf *g, const char *name, ckpt_err *err)
{
    const char *model;
    ckpt_status st = ckpt_gguf_get_str(g, CKPT_KEY_TOK_MODEL, &model, err);
    if (st)
        return st;
    bool gpt2 = strcmp(model, "gpt2") == 0;
    if (strcmp(model, "llama") != 0 && !gpt2)
        return ckpt_err_set(err, CKPT_E_UNSUPPORTED,
                            "%s: tokenizer.ggml.model '%s' is not supported (expected 'llama' or "
                            "'gpt2')",
                            name, model);
    const struct ckpt_gguf_kv *tokens, *scores, *types;
    /* llama.cpp takes scores and types as optional (0 and NORMAL) */
    if ((st = array_kv(g, CKPT_KEY_TOK_TOKENS, true, true, &tokens, name, err)) ||
        (st = array_kv(g, CKPT_KEY_TOK_SCORES, false, false, &scores, name, err)) ||
        (st = array_kv(g, CKPT_KEY_TOK_TYPES, false, false, &types, name, err)))
        return st;
    uint64_t n = tokens->n;
    if (n == 0 || n > CKPT_TOK_MAX_PIECES)
        return ckpt_err_set(err, CKPT_E_FORMAT, "%s: tokenizer.ggml.tokens holds %llu tokens",
                            name, (unsigned long long)n);
    if ((scores && scores->n != n) || (types && types->n != n))
        return ckpt_err_set(err, CKPT_E_FORMAT,
                            "%s: %llu tokens but %llu scores and %llu token types", name,
                            (unsigned long long)n, (unsigned long long)(scores ? scores->n : n),
                            (unsigned long long)(types ? types->n : n));
    bool any_byte = false;
    for (uint64_t i = 0; i < n; i++) {
        double score = 0;
        int64_t type = CKPT_TOK_NORMAL;
        if (scores && !ckpt_gguf_array_f64(scores, i, &score))
            return ckpt_err_set(err, CKPT_E_FORMAT, "%s: tokenizer.ggml.scores[%llu] is not a "
                                "number", name, (unsigned long long)i);
        if (types && !ckpt_gguf_array_i64(types, i, &type))
            return ckpt_err_set(err, CKPT_E_FORMAT, "%s: tokenizer.ggml.token_type[%llu] is not "
                                "an integer", name, (unsigned long long)i);
        if (type < CKPT_TOK_NORMAL || type > CKPT_TOK_BYTE)
            return ckpt_err_set(err, CKPT_E_FORMAT, "%s: token %llu has type %lld", name,
                                (unsigned long long)i, (long long)type);
        const struct ckpt_gguf_str *s = &tokens->array_str[i];
        if ((st = ckpt_tok_build_add(t, s->str, (size_t)s->len, (float)score, (int)type, name,
                                     err)))
            return st;
        t->pc[t->n - 1].merge = 1; /* llama.cpp may merge into any piece */
        any_byte |= type == CKPT_TOK_BYTE;
    }
    t->model_type = 2; /* BPE */
    t->byte_fallback = any_byte;
    t->remove_extra_ws = false;
    t->escape_ws = true;
    t->add_bos = true;
    t->add_eos = false;
    uint32_t nv = (uint32_t)n;
    if ((st = opt_id(g, CKPT_KEY_TOK_BOS_ID, nv, &t->bos, name, err)) ||
        (st = opt_id(g, CKPT_KEY_TOK_EOS_ID, nv, &t->eos, name, err)) ||
        (st = opt_id(g, CKPT_KEY_TOK_UNK_ID, nv, &t->unk, name, err)) ||
        (st = opt_id(g, CKPT_KEY_TOK_PAD_ID, nv, &t->pad, name, err)) ||
        (st = opt_bool(g, CKPT_KEY_TOK_ADD_BOS, &t->add_bos, err)) ||
        (st = opt_bool(g, CKPT_KEY_TOK_ADD_EOS, &t->add_eos, err)) ||
        (st = opt_bool(g, CKPT_KEY_TOK_ADD_SPACE_PREFIX, &t->add_dummy_prefix, err)))
        return st;
    if (ckpt_gguf_find_kv(g, CKPT_KEY_CHAT_TEMPLATE)) {
        const char *tmpl;
        if ((st = ckpt_gguf_get_str(g, CKPT_KEY_CHAT_TEMPLATE, &tmpl, err)))
            return st;
        if (!(t->chat_template = strdup(tmpl)))
            return ckpt_err_set(err, CKPT_E_NOMEM, "%s: out of memory", name);
    }
    /* the hash first (merges are looked up), the regex after */
    if (gpt2 && ((st = ckpt_tok_build_finish(t, name, err)) ||
                 (st = bytelevel_merges(t, g, name, err)) ||
                 (st = bytelevel_pre(t, g, name, err))))
        return st;
    if ((st = ckpt_tok_build_finish(t, name, err)))
        return st;
    if (t->unk < 0 && !gpt2)
        t->unk = ckpt_tok_lookup(t, "<unk>", 5);
    return CKPT_OK;
}

ckpt_status ckpt_tok_from_gguf(ckpt_tok **out, const ckpt_gguf *g, ckpt_err *err)
{
    *out = NULL;
    const char *name = ckpt_gguf_path(g) ? ckpt_gguf_path(g) : "gguf";
    ckpt_tok *t = ckpt_tok_build_new(CKPT_TOK_SRC_GGUF);
    if (!t)
        return ckpt_err_set(err, CKPT_E_NOMEM, "%s: out of memory", name);
    ckpt_status st = fill(t, g, name, err);
    if (st) {
        ckpt_tok_free(t);
        return st;
    }
    *out = t;
    return CKPT_OK;
}

ckpt_status ckpt_tok_load_gguf(ckpt_tok **out, const char *path, ckpt_err *err)
{
    *out = NULL;
    ckpt_gguf *g;
    ckpt_status st = ckpt_gguf_open(&g, path, err);
    if (st)
        return st;
    st = ckpt_tok_from_gguf(out, g, err);
    ckpt_gguf_close(g);
    return st;
}
