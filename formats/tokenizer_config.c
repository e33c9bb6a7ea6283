/*
 * tokenizer_config.c - apply tokenizer_config.json to a loaded vocabulary,
 * with the semantics of llama.cpp's converter (convert_hf_to_gguf.py,
 * _create_vocab_sentencepiece and gguf.SpecialVocab): the flags add_bos_token
 * and add_eos_token, the special token names, the chat template, and
 * added_tokens_decoder, whose entries become score -1000 and type CONTROL
 * (special or special-looking) or USER_DEFINED.  That is why a Mistral
 * <unk> ends up CONTROL with score -1000 in the GGUF.
 */
#include "tokenizer_impl.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mapfile.h"

#define CONFIG_MAX_GROWTH (1u << 20) /* ids this far past the vocabulary, at most */

struct cfg_ctx {
    ckpt_tok *tok;
    const char *name;
    ckpt_err *err;
};

static bool starts_ends(const char *s, const char *pre, const char *suf)
{
    size_t n = strlen(s), a = strlen(pre), b = strlen(suf);
    return n >= a + b && memcmp(s, pre, a) == 0 && memcmp(s + n - b, suf, b) == 0;
}

/* The converter's list of added tokens that are control tokens even when
 * not flagged special (does_token_look_special). */
static bool looks_special(const char *s)
{
    static const char *const exact[] = {"<pad>", "<mask>", "<2mass>", "[@BOS@]"};
    for (size_t i = 0; i < sizeof exact / sizeof exact[0]; i++)
        if (strcmp(s, exact[i]) == 0)
            return true;
    return starts_ends(s, "<|", "|>") || starts_ends(s, "<\xEF\xBD\x9C", "\xEF\xBD\x9C>") ||
           starts_ends(s, "<unused", ">");
}

/* Strict decimal id ("0".."4294967295", no sign, no spaces). */
static bool parse_id(const char *s, uint64_t *out)
{
    uint64_t v = 0;
    if (!*s || strlen(s) > 10)
        return false;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return false;
        v = v * 10 + (uint64_t)(*s - '0');
    }
    *out = v;
    return true;
}

/* Grow the vocabulary to n pieces with the converter's fillers. */
static ckpt_status grow_to(struct cfg_ctx *c, uint32_t n)
{
    char buf[32];
    ckpt_status st = CKPT_OK;
    while (c->tok->n < n && !st) {
        int len = snprintf(buf, sizeof buf, "[PAD%u]", c->tok->n);
        st = ckpt_tok_build_add(c->tok, buf, (size_t)len, -10000.0f, CKPT_TOK_UNUSED, c->name,
                                c->err);
    }
    return st;
}

static ckpt_status added_decoder(struct cfg_ctx *c, const cJSON *dec)
{
    ckpt_tok *t = c->tok;
    if (!dec || cJSON_IsNull(dec))
        return CKPT_OK;
    if (!cJSON_IsObject(dec))
        return ckpt_err_set(c->err, CKPT_E_FORMAT, "%s: added_tokens_decoder is not an object",
                            c->name);
    ckpt_status st = CKPT_OK;
    for (const cJSON *e = dec->child; e && !st; e = e->next) {
        uint64_t id;
        const cJSON *content = cJSON_GetObjectItemCaseSensitive(e, "content");
        const cJSON *special = cJSON_GetObjectItemCaseSensitive(e, "special");
        if (!parse_id(e->string, &id))
            return ckpt_err_set(c->err, CKPT_E_FORMAT,
                                "%s: added_tokens_decoder key '%.40s' is not an id", c->name,
                                e->string);
        if (!cJSON_IsString(content) || !content->valuestring[0] ||
            (special && !cJSON_IsBool(special)))
            return ckpt_err_set(c->err, CKPT_E_FORMAT,
                                "%s: added_tokens_decoder[%s] needs a non-empty content and a "
                                "boolean special",
                                c->name, e->string);
        if (id >= (uint64_t)t->n + CONFIG_MAX_GROWTH)
            return ckpt_err_set(c->err, CKPT_E_RANGE,
                                "%s: added token id %llu is far past the %u pieces", c->name,
                                (unsigned long long)id, t->n);
        const char *s = content->valuestring;
        bool control = cJSON_IsTrue(special) || looks_special(s);
        size_t len = strlen(s);
        char *text = malloc(len + 1);
        if (!text)
            return ckpt_err_set(c->err, CKPT_E_NOMEM, "%s: out of memory", c->name);
        /* user-defined text is matched before whitespace is escaped, so the
         * converter writes its "▁" as plain spaces */
        size_t o = 0;
        for (size_t i = 0; i < len; i++) {
            if (!control && i + 3 <= len && memcmp(s + i, "\xE2\x96\x81", 3) == 0) {
                text[o++] = ' ';
                i += 2;
            } else
                text[o++] = s[i];
        }
        st = grow_to(c, (uint32_t)id);
        if (!st && id == t->n)
            st = ckpt_tok_build_add(t, text, o, 0.0f, CKPT_TOK_NORMAL, c->name, c->err);
        else if (!st && (t->pc[id].len != o || memcmp(ckpt_tok_text(t, (uint32_t)id), text, o)))
            st = ckpt_tok_build_set_text(t, (uint32_t)id, text, o, c->name, c->err);
        free(text);
        if (!st) {
            t->pc[id].score = -1000.0f;
            t->pc[id].type = control ? CKPT_TOK_CONTROL : CKPT_TOK_USER_DEFINED;
        }
    }
    return st;
}

/* A special token name: a string, or an object with "content"; NULL if absent. */
static const char *token_name(const cJSON *v)
{
    if (cJSON_IsString(v))
        return v->valuestring;
    const cJSON *content = cJSON_GetObjectItemCaseSensitive(v, "content");
    return cJSON_IsString(content) ? content->valuestring : NULL;
}

static ckpt_status chat_template(struct cfg_ctx *c, const cJSON *v)
{
    const char *s = NULL;
    if (!v || cJSON_IsNull(v))
        return CKPT_OK;
    if (cJSON_IsString(v))
        s = v->valuestring;
    else if (cJSON_IsArray(v)) {
        /* [{"name": ..., "template": ...}]: the GGUF key holds the "default" one */
        for (const cJSON *e = v->child; e; e = e->next) {
            const cJSON *nm = cJSON_GetObjectItemCaseSensitive(e, "name");
            const cJSON *tp = cJSON_GetObjectItemCaseSensitive(e, "template");
            if (cJSON_IsString(nm) && strcmp(nm->valuestring, "default") == 0 &&
                cJSON_IsString(tp))
                s = tp->valuestring;
        }
        if (!s)
            return CKPT_OK;
    } else
        return ckpt_err_set(c->err, CKPT_E_FORMAT, "%s: chat_template is not a string or a list",
                            c->name);
    char *dup = malloc(strlen(s) + 1);
    if (!dup)
        return ckpt_err_set(c->err, CKPT_E_NOMEM, "%s: out of memory", c->name);
    strcpy(dup, s);
    free(c->tok->chat_template);
    c->tok->chat_template = dup;
    return CKPT_OK;
}

static ckpt_status parse_root(struct cfg_ctx *c, const cJSON *root)
{
    ckpt_tok *t = c->tok;
    const char *flags[] = {"add_bos_token", "add_eos_token"};
    bool *dst[] = {&t->add_bos, &t->add_eos};
    for (int i = 0; i < 2; i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, flags[i]);
        if (cJSON_IsBool(v))
            *dst[i] = cJSON_IsTrue(v);
        else if (v && !cJSON_IsNull(v))
            return ckpt_err_set(c->err, CKPT_E_FORMAT, "%s: %s is not a boolean", c->name,
                                flags[i]);
    }
    const cJSON *dec = cJSON_GetObjectItemCaseSensitive(root, "added_tokens_decoder");
    ckpt_status st = added_decoder(c, dec);
    if (!st)
        st = chat_template(c, cJSON_GetObjectItemCaseSensitive(root, "chat_template"));
    if (!st) /* the hash, for the name lookups below */
        st = ckpt_tok_build_finish(t, c->name, c->err);
    if (st)
        return st;
    const char *names[] = {"bos_token", "eos_token", "unk_token", "pad_token"};
    int32_t *ids[] = {&t->bos, &t->eos, &t->unk, &t->pad};
    for (int i = 0; i < 4; i++) {
        const char *s = token_name(cJSON_GetObjectItemCaseSensitive(root, names[i]));
        int32_t id = s ? ckpt_tok_lookup(t, s, strlen(s)) : -1;
        if (id >= 0) /* a name that is no piece is ignored, as the converter does */
            *ids[i] = id;
    }
    return CKPT_OK;
}

ckpt_status ckpt_tok_parse_config(ckpt_tok *tok, const char *json, size_t len, const char *name,
                                  ckpt_err *err)
{
    ckpt_json *doc = NULL;
    ckpt_status st = ckpt_tok_json_parse(&doc, json, len, name, false, err);
    if (st != CKPT_OK)
        return st;
    const cJSON *root = ckpt_json_root(doc);
    struct cfg_ctx c = {tok, name, err};
    st = cJSON_IsObject(root) ? parse_root(&c, root)
                              : ckpt_err_set(err, CKPT_E_FORMAT, "%s: not a JSON object", name);
    ckpt_json_free(doc);
    return st;
}

ckpt_status ckpt_tok_apply_config(ckpt_tok *tok, const char *path, ckpt_err *err)
{
    ckpt_map *m;
    ckpt_status st = ckpt_map_open(&m, path, err);
    if (st)
        return st;
    st = ckpt_tok_parse_config(tok, (const char *)m->data, m->size, path, err);
    ckpt_map_close(m);
    return st;
}
