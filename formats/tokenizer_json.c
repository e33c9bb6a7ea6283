/*
 * tokenizer_json.c - load tokenizer.json (Hugging Face tokenizers) when it
 * describes a SentencePiece-style BPE: model.type "BPE" with vocab, merges
 * and byte_fallback, a normalizer that prepends "▁" and replaces ' ' by "▁"
 * (or a Metaspace pre-tokenizer that does the same), added_tokens.
 *
 * Scores.  tokenizer.json has no scores, only merge ranks, and llama.cpp's
 * converter writes -1000 for every token, after which llama.cpp's
 * SentencePiece-style tokenizer (best score of the merged piece first) no
 * longer tokenizes like the source.  ckpt derives scores instead: the normal
 * pieces that some merge produces, ordered by the rank of the first merge
 * producing them, get -0, -1, -2, ...; the normal pieces no merge produces
 * (single characters) follow in id order; byte, control and user-defined
 * pieces get 0.  That is how SentencePiece's BPE trainer scores its pieces
 * (a piece's score is minus its position among the merged pieces, the
 * characters after them), and Hugging Face's conversion of a SentencePiece
 * model lists the merges in the order of the merged piece's id, so for such
 * a tokenizer.json the derived scores equal the tokenizer.model scores bit
 * for bit (-0.0 included).  Encoding treats the pieces no merge produces as
 * unreachable, as Hugging Face's BPE does.
 */
#include "tokenizer_impl.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "mapfile.h"

#define META "\xE2\x96\x81" /* U+2581, SentencePiece's visible space */

struct json_ctx {
    ckpt_tok *tok;
    const char *name;
    ckpt_err *err;
    bool bytelevel; /* a byte-level BPE (see the end of this file) */
    uint32_t scored; /* derive_scores: normal pieces scored so far */
};

/* An integral JSON number in [0, max). */
static bool json_index(const cJSON *v, double max, uint32_t *out)
{
    if (!cJSON_IsNumber(v))
        return false;
    double d = v->valuedouble;
    if (!(d >= 0 && d < max) || d != floor(d))
        return false;
    *out = (uint32_t)d;
    return true;
}

static ckpt_status load_vocab(struct json_ctx *c, const cJSON *vocab)
{
    if (!cJSON_IsObject(vocab))
        return ckpt_err_set(c->err, CKPT_E_FORMAT, "%s: model.vocab is not an object", c->name);
    uint32_t n = 0;
    for (const cJSON *e = vocab->child; e; e = e->next)
        if (++n > CKPT_TOK_MAX_PIECES)
            return ckpt_err_set(c->err, CKPT_E_RANGE, "%s: more than %u pieces", c->name,
                                CKPT_TOK_MAX_PIECES);
    if (n == 0)
        return ckpt_err_set(c->err, CKPT_E_FORMAT, "%s: model.vocab is empty", c->name);
    const cJSON **by_id = calloc(n, sizeof *by_id);
    if (!by_id)
        return ckpt_err_set(c->err, CKPT_E_NOMEM, "%s: out of memory", c->name);
    ckpt_status st = CKPT_OK;
    for (const cJSON *e = vocab->child; e && !st; e = e->next) {
        uint32_t id;
        if (!json_index(e, n, &id))
            st = ckpt_err_set(c->err, CKPT_E_FORMAT,
                              "%s: model.vocab['%.40s'] is not an id in 0..%u", c->name,
                              e->string, n - 1);
        else if (by_id[id])
            st = ckpt_err_set(c->err, CKPT_E_FORMAT, "%s: model.vocab gives id %u twice", c->name,
                              id);
        else
            by_id[id] = e;
    }
    /* n distinct ids below n: every id is present */
    for (uint32_t id = 0; id < n && !st; id++) {
        const char *s = by_id[id]->string;
        size_t len = strlen(s);
        /* "<0x0A>" is a byte piece only where bytes have pieces of their own */
        int type = !c->bytelevel && ckpt_tok_byte_piece(s, len) >= 0 ? CKPT_TOK_BYTE
                                                                       : CKPT_TOK_NORMAL;
        st = ckpt_tok_build_add(c->tok, s, len, 0.0f, type, c->name, c->err);
    }
    free(by_id);
    return st;
}

struct added {
    uint32_t id;
    const char *content;
    bool special;
    uint8_t strip; /* CKPT_TOK_LSTRIP | CKPT_TOK_RSTRIP */
};

/* An optional boolean field of an added token: absent is false. */
static bool opt_flag(const cJSON *e, const char *key, bool *ok)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(e, key);
    if (v && !cJSON_IsBool(v))
        *ok = false;
    return cJSON_IsTrue(v);
}

static int by_id(const void *a, const void *b)
{
    const struct added *x = a, *y = b;
    return (x->id > y->id) - (x->id < y->id);
}

/*
 * added_tokens: special ones become CONTROL; ones past the base vocabulary
 * are appended (their ids must continue it without gaps), USER_DEFINED unless
 * special.  A listed id inside the base vocabulary takes the listed text.
 */
static ckpt_status load_added(struct json_ctx *c, const cJSON *arr)
{
    if (!arr || cJSON_IsNull(arr))
        return CKPT_OK;
    if (!cJSON_IsArray(arr))
        return ckpt_err_set(c->err, CKPT_E_FORMAT, "%s: added_tokens is not an array", c->name);
    int n = cJSON_GetArraySize(arr);
    if (n == 0)
        return CKPT_OK;
    struct added *v = calloc((size_t)n, sizeof *v);
    if (!v)
        return ckpt_err_set(c->err, CKPT_E_NOMEM, "%s: out of memory", c->name);
    ckpt_status st = CKPT_OK;
    int i = 0;
    for (const cJSON *e = arr->child; e && !st; e = e->next, i++) {
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(e, "id");
        const cJSON *content = cJSON_GetObjectItemCaseSensitive(e, "content");
        const cJSON *special = cJSON_GetObjectItemCaseSensitive(e, "special");
        if (!json_index(id, CKPT_TOK_MAX_PIECES, &v[i].id) || !cJSON_IsString(content) ||
            content->valuestring[0] == '\0' || (special && !cJSON_IsBool(special)))
            st = ckpt_err_set(c->err, CKPT_E_FORMAT,
                              "%s: added_tokens[%d] needs an integer id, a non-empty content "
                              "and a boolean special",
                              c->name, i);
        else {
            v[i].content = content->valuestring;
            v[i].special = cJSON_IsTrue(special);
            bool ok = true;
            v[i].strip = (uint8_t)((opt_flag(e, "lstrip", &ok) ? CKPT_TOK_LSTRIP : 0) |
                                   (opt_flag(e, "rstrip", &ok) ? CKPT_TOK_RSTRIP : 0));
            bool single = opt_flag(e, "single_word", &ok);
            /* "normalized" only matters with a normalizer, which a byte-level
             * tokenizer here has not; the SentencePiece path matches added
             * tokens its own way and ignores all four flags */
            (void)opt_flag(e, "normalized", &ok);
            if (!ok)
                st = ckpt_err_set(c->err, CKPT_E_FORMAT,
                                  "%s: added_tokens[%d] has a flag that is not a boolean", c->name,
                                  i);
            else if (c->bytelevel && single)
                st = ckpt_err_set(c->err, CKPT_E_UNSUPPORTED,
                                  "%s: added token '%.40s' is single_word, which is not supported "
                                  "(Hugging Face's Rust and JavaScript tokenizers disagree on it)",
                                  c->name, v[i].content);
        }
    }
    if (!st)
        qsort(v, (size_t)n, sizeof *v, by_id);
    ckpt_tok *t = c->tok;
    for (i = 0; i < n && !st; i++) {
        size_t len = strlen(v[i].content);
        if (i > 0 && v[i].id == v[i - 1].id)
            st = ckpt_err_set(c->err, CKPT_E_FORMAT, "%s: added_tokens lists id %u twice", c->name,
                              v[i].id);
        else if (v[i].id < t->n) {
            struct ckpt_tok_piece *p = &t->pc[v[i].id];
            if (p->len != len || memcmp(ckpt_tok_text(t, v[i].id), v[i].content, len) != 0)
                st = ckpt_tok_build_set_text(t, v[i].id, v[i].content, len, c->name, c->err);
            if (v[i].special)
                p->type = CKPT_TOK_CONTROL;
            else if (c->bytelevel) /* matched in text as an added token */
                p->type = CKPT_TOK_USER_DEFINED;
            p->strip = c->bytelevel ? v[i].strip : 0;
        } else if (v[i].id == t->n) {
            st = ckpt_tok_build_add(t, v[i].content, len, 0.0f,
                                    v[i].special ? CKPT_TOK_CONTROL : CKPT_TOK_USER_DEFINED,
                                    c->name, c->err);
            if (!st)
                t->pc[t->n - 1].strip = c->bytelevel ? v[i].strip : 0;
        }
        else
            st = ckpt_err_set(c->err, CKPT_E_FORMAT,
                              "%s: added token id %u leaves a gap after the %u pieces", c->name,
                              v[i].id, t->n);
    }
    free(v);
    return st;
}

/* Split one merge ("a b", or ["a", "b"] in newer files) into its halves. */
static bool merge_halves(const cJSON *m, char *buf, size_t cap, const char **a, const char **b)
{
    if (cJSON_IsString(m)) {
        const char *s = m->valuestring, *sp = strchr(s, ' ');
        size_t len = strlen(s);
        if (!sp || sp == s || !sp[1] || strchr(sp + 1, ' ') || len + 1 > cap)
            return false;
        memcpy(buf, s, len + 1);
        buf[sp - s] = '\0';
        *a = buf;
        *b = buf + (sp - s) + 1;
        return true;
    }
    if (cJSON_IsArray(m) && cJSON_GetArraySize(m) == 2 && cJSON_IsString(m->child) &&
        cJSON_IsString(m->child->next)) {
        *a = m->child->valuestring;
        *b = m->child->next->valuestring;
        return **a && **b;
    }
    return false;
}

/* Called with each merge of model.merges as piece ids, in rank order. */
typedef ckpt_status (*merge_fn)(struct json_ctx *c, uint32_t rank, int32_t a, int32_t b,
                                int32_t out);

/* Each merge ("a b", or ["a", "b"] in newer files) as piece ids; one whose
 * parts or result are not pieces is refused, as Hugging Face refuses it. */
static ckpt_status each_merge(struct json_ctx *c, const cJSON *merges, merge_fn fn)
{
    ckpt_tok *t = c->tok;
    if (!cJSON_IsArray(merges))
        return ckpt_err_set(c->err, CKPT_E_FORMAT, "%s: model.merges is not an array", c->name);
    char *buf = NULL;
    size_t cap = 0;
    ckpt_status st = CKPT_OK;
    uint32_t rank = 0;
    for (const cJSON *m = merges->child; m && !st; m = m->next, rank++) {
        /* buf holds the halves of a "a b" string, then the joined pair */
        size_t need = 1;
        if (cJSON_IsString(m))
            need += strlen(m->valuestring);
        else if (cJSON_IsArray(m) && cJSON_GetArraySize(m) == 2 && cJSON_IsString(m->child) &&
                 cJSON_IsString(m->child->next))
            need += strlen(m->child->valuestring) + strlen(m->child->next->valuestring);
        if (2 * need > cap) {
            char *nb = realloc(buf, 2 * need);
            if (!nb) {
                st = ckpt_err_set(c->err, CKPT_E_NOMEM, "%s: out of memory", c->name);
                break;
            }
            buf = nb;
            cap = 2 * need;
        }
        const char *a, *b;
        if (!merge_halves(m, buf, need, &a, &b)) {
            st = ckpt_err_set(c->err, CKPT_E_FORMAT,
                              "%s: merge %u is not \"a b\" or [\"a\", \"b\"]", c->name, rank);
            break;
        }
        size_t la = strlen(a), lb = strlen(b);
        char *pair = buf + need;
        memcpy(pair, a, la);
        memcpy(pair + la, b, lb);
        int32_t ia = ckpt_tok_lookup(t, a, la), ib = ckpt_tok_lookup(t, b, lb);
        int32_t ip = ckpt_tok_lookup(t, pair, la + lb);
        if (ia < 0 || ib < 0 || ip < 0)
            st = ckpt_err_set(c->err, CKPT_E_FORMAT,
                              "%s: merge %u ('%.40s' '%.40s') uses or makes a piece not in the "
                              "vocabulary",
                              c->name, rank, a, b);
        else
            st = fn(c, rank, ia, ib, ip);
    }
    free(buf);
    return st;
}

/* A merge's share of the scores described at the top of this file: the
 * piece it makes, the first time, gets the next score. */
static ckpt_status score_merge(struct json_ctx *c, uint32_t rank, int32_t a, int32_t b,
                               int32_t out)
{
    struct ckpt_tok_piece *p = &c->tok->pc[out];
    if (p->type == CKPT_TOK_NORMAL && !p->merge) {
        p->merge = 1;
        p->score = -(float)c->scored++; /* the first is -0.0, as SentencePiece stores it */
    }
    return CKPT_OK;
}

/* The scores described at the top of this file, and the merge flags. */
static ckpt_status derive_scores(struct json_ctx *c, const cJSON *merges)
{
    ckpt_tok *t = c->tok;
    c->scored = 0;
    ckpt_status st = each_merge(c, merges, score_merge);
    for (uint32_t id = 0; id < t->n && !st; id++)
        if (t->pc[id].type == CKPT_TOK_NORMAL && !t->pc[id].merge)
            t->pc[id].score = -(float)c->scored++;
    return st;
}

static bool str_is(const cJSON *v, const char *s)
{
    return cJSON_IsString(v) && strcmp(v->valuestring, s) == 0;
}

static ckpt_status unsupported(struct json_ctx *c, const char *what, const cJSON *type)
{
    return ckpt_err_set(c->err, CKPT_E_UNSUPPORTED, "%s: %s '%.40s' is not supported", c->name,
                        what, cJSON_IsString(type) ? type->valuestring : "?");
}

/* One normalizer: Prepend "▁" (dummy prefix) or Replace ' ' -> "▁". */
static ckpt_status one_normalizer(struct json_ctx *c, const cJSON *n, bool *prepend, bool *escape)
{
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(n, "type");
    if (str_is(type, "Prepend") && str_is(cJSON_GetObjectItemCaseSensitive(n, "prepend"), META)) {
        *prepend = true;
        return CKPT_OK;
    }
    if (str_is(type, "Replace")) {
        const cJSON *pat = cJSON_GetObjectItemCaseSensitive(n, "pattern");
        if (str_is(cJSON_GetObjectItemCaseSensitive(pat, "String"), " ") &&
            str_is(cJSON_GetObjectItemCaseSensitive(n, "content"), META)) {
            *escape = true;
            return CKPT_OK;
        }
    }
    return unsupported(c, "normalizer", type);
}

static ckpt_status load_normalizers(struct json_ctx *c, const cJSON *root)
{
    ckpt_tok *t = c->tok;
    bool prepend = false, escape = false;
    ckpt_status st = CKPT_OK;
    const cJSON *n = cJSON_GetObjectItemCaseSensitive(root, "normalizer");
    if (n && !cJSON_IsNull(n)) {
        const cJSON *type = cJSON_GetObjectItemCaseSensitive(n, "type");
        if (str_is(type, "Sequence")) {
            const cJSON *list = cJSON_GetObjectItemCaseSensitive(n, "normalizers");
            if (!cJSON_IsArray(list))
                return ckpt_err_set(c->err, CKPT_E_FORMAT,
                                    "%s: normalizer.normalizers is not an array", c->name);
            for (const cJSON *e = list->child; e && !st; e = e->next)
                st = one_normalizer(c, e, &prepend, &escape);
        } else
            st = one_normalizer(c, n, &prepend, &escape);
    }
    const cJSON *pre = cJSON_GetObjectItemCaseSensitive(root, "pre_tokenizer");
    if (!st && pre && !cJSON_IsNull(pre)) {
        const cJSON *type = cJSON_GetObjectItemCaseSensitive(pre, "type");
        if (!str_is(type, "Metaspace"))
            return unsupported(c, "pre_tokenizer", type);
        const cJSON *repl = cJSON_GetObjectItemCaseSensitive(pre, "replacement");
        const cJSON *scheme = cJSON_GetObjectItemCaseSensitive(pre, "prepend_scheme");
        const cJSON *aps = cJSON_GetObjectItemCaseSensitive(pre, "add_prefix_space");
        if (repl && !str_is(repl, META))
            return unsupported(c, "Metaspace replacement", repl);
        /* splitting at every "▁" is not what SentencePiece does */
        if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(pre, "split")))
            return ckpt_err_set(c->err, CKPT_E_UNSUPPORTED,
                                "%s: Metaspace pre_tokenizer with split is not supported", c->name);
        escape = true;
        if (str_is(scheme, "first")) {
            prepend = true;
            t->prefix_after_special = false;
        } else if (str_is(scheme, "always") || (!scheme && !cJSON_IsFalse(aps)))
            prepend = true;
        else if (!str_is(scheme, "never") && scheme)
            return unsupported(c, "Metaspace prepend_scheme", scheme);
    }
    t->add_dummy_prefix = prepend;
    t->escape_ws = escape;
    t->remove_extra_ws = false;
    return st;
}

/* post_processor TemplateProcessing: a leading special token is BOS, a
 * trailing one EOS.  Without a post-processor nothing is added. */
static ckpt_status load_template(struct json_ctx *c, const cJSON *root)
{
    ckpt_tok *t = c->tok;
    const cJSON *pp = cJSON_GetObjectItemCaseSensitive(root, "post_processor");
    t->add_bos = t->add_eos = false;
    if (!str_is(cJSON_GetObjectItemCaseSensitive(pp, "type"), "TemplateProcessing"))
        return CKPT_OK;
    const cJSON *single = cJSON_GetObjectItemCaseSensitive(pp, "single");
    if (!cJSON_IsArray(single) || !single->child)
        return CKPT_OK;
    const cJSON *ends[2] = {single->child, single->child};
    while (ends[1]->next)
        ends[1] = ends[1]->next;
    for (int i = 0; i < 2; i++) {
        const cJSON *sp = cJSON_GetObjectItemCaseSensitive(ends[i], "SpecialToken");
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(sp, "id");
        if (!cJSON_IsString(id))
            continue;
        /* the name refers to post_processor.special_tokens, which gives the ids */
        const cJSON *ent = cJSON_GetObjectItemCaseSensitive(
            cJSON_GetObjectItemCaseSensitive(pp, "special_tokens"), id->valuestring);
        const cJSON *ids = cJSON_GetObjectItemCaseSensitive(ent, "ids");
        uint32_t u;
        int32_t tid = ckpt_tok_lookup(t, id->valuestring, strlen(id->valuestring));
        if (cJSON_IsArray(ids) && cJSON_GetArraySize(ids) == 1 && json_index(ids->child, t->n, &u))
            tid = (int32_t)u;
        if (tid < 0)
            return ckpt_err_set(c->err, CKPT_E_FORMAT,
                                "%s: post_processor names '%.40s', not a piece", c->name,
                                id->valuestring);
        if (i == 0) {
            t->add_bos = true;
            t->bos = tid;
        } else if (ends[1] != ends[0]) {
            t->add_eos = true;
            t->eos = tid;
        }
    }
    return CKPT_OK;
}

/* ---- byte-level BPE (Tekken, GPT-2) ---- */

/*
 * Is the pre-tokenizer a byte-level one?  *pattern gets its split regex
 * (not NUL-terminated; *plen bytes) and c->bytelevel is set; anything that
 * is not ByteLevel-based leaves both alone for the SentencePiece path.
 * Supported: Sequence[Split(Regex, Isolated, invert false),
 * ByteLevel(add_prefix_space false, use_regex false)], as Hugging Face's
 * conversion writes Tekken, and ByteLevel(add_prefix_space false,
 * use_regex true), GPT-2's own regex.  add_prefix_space must be given:
 * Rust's default is true and JavaScript's false.
 */
static ckpt_status bytelevel_pre(struct json_ctx *c, const cJSON *pre, const char **pattern,
                                 size_t *plen)
{
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(pre, "type");
    const cJSON *bl = NULL, *split = NULL;
    if (str_is(type, "ByteLevel"))
        bl = pre;
    else if (str_is(type, "Sequence")) {
        const cJSON *list = cJSON_GetObjectItemCaseSensitive(pre, "pretokenizers");
        if (!cJSON_IsArray(list))
            return ckpt_err_set(c->err, CKPT_E_FORMAT,
                                "%s: pre_tokenizer.pretokenizers is not an array", c->name);
        if (cJSON_GetArraySize(list) == 2 &&
            str_is(cJSON_GetObjectItemCaseSensitive(list->child, "type"), "Split") &&
            str_is(cJSON_GetObjectItemCaseSensitive(list->child->next, "type"), "ByteLevel")) {
            split = list->child;
            bl = list->child->next;
        } else
            return ckpt_err_set(c->err, CKPT_E_UNSUPPORTED,
                                "%s: pre_tokenizer 'Sequence' is supported as [Split, ByteLevel] "
                                "(byte-level BPE, as Tekken) only",
                                c->name);
    } else
        return CKPT_OK;
    const cJSON *aps = cJSON_GetObjectItemCaseSensitive(bl, "add_prefix_space");
    const cJSON *ur = cJSON_GetObjectItemCaseSensitive(bl, "use_regex");
    bool use_regex = !cJSON_IsFalse(ur); /* default true in both implementations */
    if (!cJSON_IsFalse(aps))
        return ckpt_err_set(c->err, CKPT_E_UNSUPPORTED,
                            "%s: ByteLevel pre_tokenizer needs add_prefix_space false (a prefix "
                            "space is not supported)",
                            c->name);
    if (split) {
        const cJSON *pat = cJSON_GetObjectItemCaseSensitive(split, "pattern");
        const cJSON *re = cJSON_GetObjectItemCaseSensitive(pat, "Regex");
        if (!cJSON_IsString(re) ||
            !str_is(cJSON_GetObjectItemCaseSensitive(split, "behavior"), "Isolated") ||
            cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(split, "invert")) || use_regex)
            return ckpt_err_set(c->err, CKPT_E_UNSUPPORTED,
                                "%s: byte-level pre_tokenizer: only Split with a Regex, behavior "
                                "Isolated, invert false, then ByteLevel with use_regex false is "
                                "supported",
                                c->name);
        *pattern = re->valuestring;
        *plen = strlen(re->valuestring);
    } else if (use_regex) {
        *pattern = ckpt_tok_pretok_pattern("gpt-2");
        *plen = strlen(*pattern);
    } else
        return ckpt_err_set(c->err, CKPT_E_UNSUPPORTED,
                            "%s: ByteLevel pre_tokenizer without a regex is not supported",
                            c->name);
    c->bytelevel = true;
    return CKPT_OK;
}

/* A merge of a byte-level BPE, kept by rank (a pair listed twice at its
 * last one, as Hugging Face's BPE keeps it). */
static ckpt_status add_merge(struct json_ctx *c, uint32_t rank, int32_t a, int32_t b, int32_t out)
{
    return ckpt_tok_merge_add(c->tok, a, b, out, true, c->name, c->err);
}

/* The rest of a byte-level tokenizer.json: no normalizer, decoder
 * ByteLevel, no byte fallback, ignore_merges, the merges, the regex. */
static ckpt_status bytelevel_model(struct json_ctx *c, const cJSON *root, const cJSON *model,
                                   const char *pattern, size_t plen)
{
    const cJSON *norm = cJSON_GetObjectItemCaseSensitive(root, "normalizer");
    if (norm && !cJSON_IsNull(norm))
        return unsupported(c, "normalizer (with a byte-level pre_tokenizer)",
                           cJSON_GetObjectItemCaseSensitive(norm, "type"));
    const cJSON *dec = cJSON_GetObjectItemCaseSensitive(root, "decoder");
    if (!str_is(cJSON_GetObjectItemCaseSensitive(dec, "type"), "ByteLevel"))
        return unsupported(c, "decoder (with a byte-level pre_tokenizer)",
                           cJSON_GetObjectItemCaseSensitive(dec, "type"));
    if (c->tok->byte_fallback)
        return ckpt_err_set(c->err, CKPT_E_UNSUPPORTED,
                            "%s: byte_fallback with a byte-level pre_tokenizer is not supported",
                            c->name);
    const cJSON *im = cJSON_GetObjectItemCaseSensitive(model, "ignore_merges");
    if (im && !cJSON_IsBool(im))
        return ckpt_err_set(c->err, CKPT_E_FORMAT, "%s: model.ignore_merges is not a boolean",
                            c->name);
    ckpt_status st = ckpt_tok_bytelevel_init(c->tok, pattern, plen, cJSON_IsTrue(im), c->name,
                                             c->err);
    if (!st)
        st = each_merge(c, cJSON_GetObjectItemCaseSensitive(model, "merges"), add_merge);
    return st ? st : ckpt_tok_merges_compact(c->tok, c->name, c->err);
}

static ckpt_status parse_root(struct json_ctx *c, const cJSON *root)
{
    ckpt_tok *t = c->tok;
    const cJSON *model = cJSON_GetObjectItemCaseSensitive(root, "model");
    if (!cJSON_IsObject(model))
        return ckpt_err_set(c->err, CKPT_E_FORMAT, "%s: no model object", c->name);
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(model, "type");
    const cJSON *merges = cJSON_GetObjectItemCaseSensitive(model, "merges");
    /* older files leave the type out; a BPE model is the one with merges */
    if (type ? !str_is(type, "BPE") : !merges)
        return unsupported(c, "model type", type);
    const cJSON *dropout = cJSON_GetObjectItemCaseSensitive(model, "dropout");
    if (dropout && !cJSON_IsNull(dropout))
        return ckpt_err_set(c->err, CKPT_E_UNSUPPORTED, "%s: BPE dropout is not supported",
                            c->name);
    const char *affixes[] = {"continuing_subword_prefix", "end_of_word_suffix"};
    for (int i = 0; i < 2; i++) {
        const cJSON *a = cJSON_GetObjectItemCaseSensitive(model, affixes[i]);
        if (a && !cJSON_IsNull(a) && !str_is(a, ""))
            return ckpt_err_set(c->err, CKPT_E_UNSUPPORTED, "%s: BPE %s is not supported", c->name,
                                affixes[i]);
    }
    if (!merges)
        return ckpt_err_set(c->err, CKPT_E_FORMAT, "%s: model.merges is missing", c->name);
    const cJSON *bf = cJSON_GetObjectItemCaseSensitive(model, "byte_fallback");
    if (bf && !cJSON_IsBool(bf) && !cJSON_IsNull(bf))
        return ckpt_err_set(c->err, CKPT_E_FORMAT, "%s: model.byte_fallback is not a boolean",
                            c->name);
    t->byte_fallback = cJSON_IsTrue(bf);
    t->model_type = 2;

    const char *pattern = NULL;
    size_t plen = 0;
    const cJSON *pre = cJSON_GetObjectItemCaseSensitive(root, "pre_tokenizer");
    ckpt_status st = pre && !cJSON_IsNull(pre) ? bytelevel_pre(c, pre, &pattern, &plen) : CKPT_OK;
    if (!st)
        st = load_vocab(c, cJSON_GetObjectItemCaseSensitive(model, "vocab"));
    if (!st)
        st = load_added(c, cJSON_GetObjectItemCaseSensitive(root, "added_tokens"));
    if (!st) /* the hash, for the lookups below */
        st = ckpt_tok_build_finish(t, c->name, c->err);
    if (!st && c->bytelevel)
        st = bytelevel_model(c, root, model, pattern, plen);
    if (!st && !c->bytelevel)
        st = derive_scores(c, merges);
    if (!st && !c->bytelevel)
        st = load_normalizers(c, root);
    if (!st)
        st = load_template(c, root);
    if (st)
        return st;

    const cJSON *unk = cJSON_GetObjectItemCaseSensitive(model, "unk_token");
    if (cJSON_IsString(unk)) {
        t->unk = ckpt_tok_lookup(t, unk->valuestring, strlen(unk->valuestring));
        if (t->unk < 0)
            return ckpt_err_set(c->err, CKPT_E_FORMAT, "%s: unk_token '%.40s' is not a piece",
                                c->name, unk->valuestring);
    } else if (unk && !cJSON_IsNull(unk))
        return ckpt_err_set(c->err, CKPT_E_FORMAT, "%s: model.unk_token is not a string", c->name);
    if (t->bos < 0)
        t->bos = ckpt_tok_lookup(t, "<s>", 3);
    if (t->eos < 0)
        t->eos = ckpt_tok_lookup(t, "</s>", 4);
    return ckpt_tok_build_finish(t, c->name, c->err);
}

ckpt_status ckpt_tok_json_parse(ckpt_json **out, const char *json, size_t len, const char *name,
                                bool nul_escapes, ckpt_err *err)
{
    static const struct ckpt_json_limits lim = {CKPT_TOK_JSON_MAX_VALUES, 0};
    ckpt_err inner = {0};
    ckpt_status st = nul_escapes ? ckpt_json_parse_nul(out, json, len, name, &lim, NULL, &inner)
                                 : ckpt_json_parse(out, json, len, name, &lim, NULL, &inner);
    if (st == CKPT_OK)
        return st;
    /* inner messages start with the name; keep one "name: " */
    size_t skip = strncmp(inner.msg, name, strlen(name)) == 0 ? strlen(name) : 0;
    const char *why = inner.msg + skip + (inner.msg[skip] == ':' ? 2 : 0);
    if (st == CKPT_E_FORMAT)
        return ckpt_err_set(err, st, "%s: not valid JSON (%s)", name, why);
    if (st == CKPT_E_RANGE)
        return ckpt_err_set(err, st, "%s: %s; more than %zu values is not a tokenizer ckpt reads",
                            name, why, CKPT_TOK_JSON_MAX_VALUES);
    return ckpt_err_set(err, st, "%s", inner.msg);
}

ckpt_status ckpt_tok_parse_hf_json(ckpt_tok **out, const char *json, size_t len, const char *name,
                                   ckpt_err *err)
{
    *out = NULL;
    ckpt_json *doc = NULL;
    ckpt_status st = ckpt_tok_json_parse(&doc, json, len, name, false, err);
    if (st != CKPT_OK)
        return st;
    const cJSON *root = ckpt_json_root(doc);
    struct json_ctx c = {ckpt_tok_build_new(CKPT_TOK_SRC_HF_JSON), name, err, false, 0};
    if (!c.tok)
        st = ckpt_err_set(err, CKPT_E_NOMEM, "%s: out of memory", name);
    else if (!cJSON_IsObject(root))
        st = ckpt_err_set(err, CKPT_E_FORMAT, "%s: not a JSON object", name);
    else
        st = parse_root(&c, root);
    ckpt_json_free(doc);
    if (st) {
        ckpt_tok_free(c.tok);
        return st;
    }
    *out = c.tok;
    return CKPT_OK;
}

ckpt_status ckpt_tok_json_load(ckpt_tok **out, const char *path, ckpt_tok_json_parser parse,
                               ckpt_err *err)
{
    *out = NULL;
    ckpt_map *m;
    ckpt_status st = ckpt_map_open(&m, path, err);
    if (st)
        return st;
    st = parse(out, (const char *)m->data, m->size, path, err);
    ckpt_map_close(m);
    return st;
}

ckpt_status ckpt_tok_load_hf_json(ckpt_tok **out, const char *path, ckpt_err *err)
{
    return ckpt_tok_json_load(out, path, ckpt_tok_parse_hf_json, err);
}
