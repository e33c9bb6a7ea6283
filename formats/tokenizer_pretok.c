/*
 * tokenizer_pretok.c - the pre-tokenizer of byte-level BPE tokenizers: a
 * regex (PCRE2, UTF + UCP, JIT where available) that cuts text into the
 * pieces BPE then works on one at a time, as Hugging Face's Split
 * pre-tokenizer with behavior "Isolated" does: every match is a piece, and
 * so is every stretch of text between two matches.
 *
 * The patterns come from the tokenizer's own file and are written for
 * Oniguruma (Hugging Face tokenizers) or fancy-regex (tiktoken), where \s
 * is the Unicode White_Space property.  PCRE2's \s in UCP mode also takes
 * U+180E (MONGOLIAN VOWEL SEPARATOR, White_Space until Unicode 6.3), so \s
 * and \S are compiled as \p{White_Space} and \P{White_Space}: with that the
 * three engines agree (Hugging Face's JavaScript port rewrites \s the same
 * way before handing the pattern to JavaScript's RegExp).
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <stdlib.h>
#include <string.h>

#include "tokenizer_impl.h"

/* Longest pattern accepted: published ones are under 400 bytes. */
#define PATTERN_MAX 65536
/* Backtracking budget per match: a hostile pattern fails instead of spinning. */
#define MATCH_LIMIT 10000000u

struct ckpt_tok_pretok {
    pcre2_code *re;
    pcre2_match_context *mctx;
};

/* The published patterns, by the name llama.cpp gives them in
 * tokenizer.ggml.pre (src/llama-vocab.cpp). */
static const struct {
    const char *name, *pattern;
} known[] = {
    {"tekken",
     "[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]*[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]+|"
     "[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]+[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]*|"
     "\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"},
    /* GPT-2's, the one Hugging Face's ByteLevel pre-tokenizer applies with use_regex */
    {"gpt-2", "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+"},
};

const char *ckpt_tok_pretok_pattern(const char *name)
{
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (strcmp(known[i].name, name) == 0)
            return known[i].pattern;
    return NULL;
}

const char *ckpt_tok_pretok_name(const char *pattern)
{
    for (size_t i = 0; pattern && i < sizeof known / sizeof known[0]; i++)
        if (strcmp(known[i].pattern, pattern) == 0)
            return known[i].name;
    return NULL;
}

/* The pattern with \s and \S spelled as the White_Space property (see the
 * top of this file); other escapes are copied as they are.  NULL on ENOMEM. */
static char *rewrite_ws(const char *p, size_t len, size_t *out_len)
{
    static const char ws[] = "\\p{White_Space}", nws[] = "\\P{White_Space}";
    char *o = malloc(len * (sizeof ws - 1) / 2 + len + 1);
    if (!o)
        return NULL;
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        if (p[i] == '\\' && i + 1 < len) {
            if (p[i + 1] == 's' || p[i + 1] == 'S') {
                const char *r = p[i + 1] == 's' ? ws : nws;
                memcpy(o + n, r, sizeof ws - 1);
                n += sizeof ws - 1;
            } else { /* any other escape, \\ included, stays two characters */
                o[n++] = p[i];
                o[n++] = p[i + 1];
            }
            i++;
        } else
            o[n++] = p[i];
    }
    o[n] = '\0';
    *out_len = n;
    return o;
}

ckpt_status ckpt_tok_pretok_compile(struct ckpt_tok_pretok **out, const char *pattern, size_t len,
                                    const char *name, ckpt_err *err)
{
    *out = NULL;
    if (len == 0 || len > PATTERN_MAX)
        return ckpt_err_set(err, CKPT_E_RANGE,
                            "%s: pre-tokenizer regex of %zu bytes (1..%d expected)", name, len,
                            PATTERN_MAX);
    size_t n;
    char *src = rewrite_ws(pattern, len, &n);
    struct ckpt_tok_pretok *p = calloc(1, sizeof *p);
    if (!src || !p) {
        free(src);
        free(p);
        return ckpt_err_set(err, CKPT_E_NOMEM, "%s: out of memory", name);
    }
    int code;
    PCRE2_SIZE at;
    p->re = pcre2_compile((PCRE2_SPTR)src, n, PCRE2_UTF | PCRE2_UCP, &code, &at, NULL);
    free(src);
    if (!p->re) {
        PCRE2_UCHAR msg[160];
        pcre2_get_error_message(code, msg, sizeof msg);
        free(p);
        return ckpt_err_set(err, CKPT_E_FORMAT,
                            "%s: pre-tokenizer regex does not compile (%s, near byte %zu)", name,
                            (const char *)msg, (size_t)at);
    }
    /* JIT is an optimisation: without it (or on an unsupported CPU) the
     * interpreter gives the same matches */
    (void)pcre2_jit_compile(p->re, PCRE2_JIT_COMPLETE);
    p->mctx = pcre2_match_context_create(NULL);
    if (!p->mctx) {
        ckpt_tok_pretok_free(p);
        return ckpt_err_set(err, CKPT_E_NOMEM, "%s: out of memory", name);
    }
    pcre2_set_match_limit(p->mctx, MATCH_LIMIT);
    *out = p;
    return CKPT_OK;
}

void ckpt_tok_pretok_free(struct ckpt_tok_pretok *p)
{
    if (!p)
        return;
    pcre2_match_context_free(p->mctx);
    pcre2_code_free(p->re);
    free(p);
}

/* Length of the UTF-8 character starting with byte c (text is valid UTF-8). */
static size_t char_len(unsigned char c)
{
    return c < 0x80 ? 1 : c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
}

ckpt_status ckpt_tok_pretok_split(const struct ckpt_tok_pretok *p, const char *text, size_t len,
                                  ckpt_tok_piece_fn fn, void *ctx, ckpt_err *err)
{
    pcre2_match_data *md = pcre2_match_data_create_from_pattern(p->re, NULL);
    if (!md)
        return ckpt_err_set(err, CKPT_E_NOMEM, "tokenizer: out of memory");
    ckpt_status st = CKPT_OK;
    size_t from = 0, at = 0; /* from: start of the text not yet given out */
    while (at <= len && !st) {
        /* the text was made valid UTF-8 by the caller: no second check */
        int rc = pcre2_match(p->re, (PCRE2_SPTR)text, len, at, PCRE2_NO_UTF_CHECK, md, p->mctx);
        if (rc == PCRE2_ERROR_NOMATCH)
            break;
        if (rc < 0) {
            PCRE2_UCHAR msg[160];
            pcre2_get_error_message(rc, msg, sizeof msg);
            st = ckpt_err_set(err, rc == PCRE2_ERROR_MATCHLIMIT ? CKPT_E_RANGE : CKPT_E_FORMAT,
                              "tokenizer: pre-tokenizer regex failed at byte %zu (%s)", at,
                              (const char *)msg);
            break;
        }
        PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
        size_t s = ov[0], e = ov[1];
        if (s > from)
            st = fn(ctx, text + from, s - from, err);
        if (!st && e > s)
            st = fn(ctx, text + s, e - s, err);
        from = e;
        /* an empty match gives nothing; step over one character so the
         * search moves on, as every regex split does */
        at = e > s ? e : e < len ? e + char_len((unsigned char)text[e]) : len + 1;
    }
    if (!st && from < len)
        st = fn(ctx, text + from, len - from, err);
    pcre2_match_data_free(md);
    return st;
}
