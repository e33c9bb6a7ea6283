/*
 * tokenizer_encode.c - text to ids, with SentencePiece's BPE semantics.
 *
 *   1. (PARSE_SPECIAL) cut the text at the texts of control, unknown and
 *      user-defined pieces; those become their ids, the rest is encoded.
 *   2. normalize each piece of text: ' ' -> U+2581, a dummy U+2581 in front,
 *      invalid UTF-8 bytes -> U+FFFD, extra spaces removed if the model says.
 *   3. split into characters (user-defined pieces count as one character).
 *   4. merge: repeatedly join the adjacent pair whose joined text is a piece
 *      with the best score, leftmost first on equal scores.  A max-heap of
 *      candidate pairs with lazy invalidation makes this O(n log n).
 *   5. a result that is an UNUSED piece is split back into the parts it was
 *      merged from; text with no piece becomes <0xNN> byte pieces (byte
 *      fallback) or one <unk> per run of unknown text.
 */
#include "tokenizer_impl.h"

#include <stdlib.h>
#include <string.h>

#define META "\xE2\x96\x81"     /* U+2581 */
#define REPLACEMENT "\xEF\xBF\xBD" /* U+FFFD */

struct sym {
    uint32_t start, len; /* bytes of the normalized text; len 0 once merged away */
    int32_t prev, next;  /* neighbours, -1 at the ends */
    int32_t node;        /* merge-tree node if the symbol is an UNUSED piece, else -1 */
};

struct cand {
    float score;
    uint32_t left, right; /* symbol indices */
    uint32_t len;         /* joined length, to detect stale candidates */
    int32_t id;
};

struct node {
    uint32_t start, len;
    int32_t l, r; /* children, -1 for a leaf */
};

/* Scratch of one encode call; arrays grow on demand and are reused by
 * the fragments of the text. */
struct enc {
    const ckpt_tok *tok;
    char *buf; /* normalized text of the current fragment (blen bytes) */
    size_t blen, cap_buf;
    struct sym *sym;
    size_t cap_sym;
    struct ckpt_tok_heap heap; /* of struct cand */
    struct node *nodes;
    size_t nnodes, cap_nodes;
    int32_t *stack;
    size_t cap_stack;
    bool nomem;
};

/* Length of the valid UTF-8 character at s (n bytes left), or 0 if invalid:
 * overlong forms, surrogates and code points past U+10FFFF are invalid. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
    unsigned c = s[0];
    if (c < 0x80)
        return 1;
    size_t len;
    uint32_t cp, min;
    if ((c & 0xe0) == 0xc0)
        len = 2, cp = c & 0x1f, min = 0x80;
    else if ((c & 0xf0) == 0xe0)
        len = 3, cp = c & 0x0f, min = 0x800;
    else if ((c & 0xf8) == 0xf0)
        len = 4, cp = c & 0x07, min = 0x10000;
    else
        return 0;
    if (len > n)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = cp << 6 | (s[i] & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return len;
}

/* Step 2: normalize text[0..len) into e->buf. */
static void normalize(struct enc *e, const char *text, size_t len, bool prefix)
{
    const ckpt_tok *t = e->tok;
    const unsigned char *s = (const unsigned char *)text;
    const char *space = t->escape_ws ? META : " ";
    size_t slen = t->escape_ws ? 3 : 1;
    size_t i = 0, o = 0;
    if (t->remove_extra_ws)
        while (i < len && s[i] == ' ')
            i++;
    e->blen = 0;
    if (i == len)
        return; /* nothing (or only spaces): no dummy prefix either */
    if (prefix && t->add_dummy_prefix) {
        memcpy(e->buf, space, slen);
        o = slen;
    }
    bool prev_space = false;
    while (i < len) {
        size_t n = utf8_len(s + i, len - i);
        if (n == 0) { /* SentencePiece: one bad byte -> U+FFFD */
            memcpy(e->buf + o, REPLACEMENT, 3);
            o += 3;
            i++;
            prev_space = false;
        } else if (s[i] == ' ') {
            if (!(t->remove_extra_ws && prev_space)) {
                memcpy(e->buf + o, space, slen);
                o += slen;
            }
            i++;
            prev_space = true;
        } else {
            memcpy(e->buf + o, s + i, n);
            o += n;
            i += n;
            prev_space = false;
        }
    }
    if (t->remove_extra_ws)
        while (o >= slen && memcmp(e->buf + o - slen, space, slen) == 0)
            o -= slen;
    e->blen = o;
}

/* The candidate queue's order: best score first, then leftmost. */
static bool better(const void *x, const void *y)
{
    const struct cand *a = x, *b = y;
    return a->score > b->score || (a->score == b->score && a->left < b->left);
}

/* Queue the pair (l, r) if its joined text is a piece a merge may make. */
static void try_pair(struct enc *e, int32_t l, int32_t r)
{
    if (l < 0 || r < 0)
        return;
    const struct sym *a = &e->sym[l], *b = &e->sym[r];
    int32_t id = ckpt_tok_lookup(e->tok, e->buf + a->start, a->len + b->len);
    if (id < 0 || !e->tok->pc[id].mergeable)
        return;
    struct cand c = {e->tok->pc[id].score, (uint32_t)l, (uint32_t)r, a->len + b->len, id};
    if (!ckpt_tok_heap_push(&e->heap, &c))
        e->nomem = true;
}

static int32_t new_node(struct enc *e, uint32_t start, uint32_t len, int32_t l, int32_t r)
{
    /* the stack of the output walk holds at most one entry per node, plus one */
    if (!ckpt_tok_grow((void **)&e->nodes, &e->cap_nodes, e->nnodes + 1, sizeof *e->nodes) ||
        !ckpt_tok_grow((void **)&e->stack, &e->cap_stack, e->nnodes + 2, sizeof *e->stack))
        return -2;
    e->nodes[e->nnodes] = (struct node){start, len, l, r};
    return (int32_t)e->nnodes++;
}

/* The node standing for symbol s (a leaf unless s was merged into UNUSED). */
static int32_t node_of(struct enc *e, const struct sym *s)
{
    return s->node >= 0 ? s->node : new_node(e, s->start, s->len, -1, -1);
}

/* Step 5 for one piece of text with no UNUSED structure left. */
static void emit_text(struct enc *e, struct ckpt_tok_out *o, uint32_t start, uint32_t len,
                      int32_t id, bool *prev_unk)
{
    const ckpt_tok *t = e->tok;
    if (id >= 0) {
        ckpt_tok_out_emit(o, id);
        *prev_unk = false;
    } else if (t->byte_fallback) {
        for (uint32_t i = 0; i < len; i++) {
            int32_t b = t->byte_id[(unsigned char)e->buf[start + i]];
            ckpt_tok_out_emit(o, b >= 0 ? b : t->unk);
        }
        *prev_unk = false;
    } else if (!*prev_unk) { /* a run of unknown text is one <unk> */
        ckpt_tok_out_emit(o, t->unk);
        *prev_unk = true;
    }
}

/* Steps 3-5 on e->buf. */
static ckpt_status bpe(struct enc *e, struct ckpt_tok_out *o, ckpt_err *err)
{
    const ckpt_tok *t = e->tok;
    int32_t ns = 0;
    if (!ckpt_tok_grow((void **)&e->sym, &e->cap_sym, e->blen, sizeof *e->sym))
        return ckpt_err_set(err, CKPT_E_NOMEM, "tokenizer: out of memory");
    for (uint32_t i = 0; i < e->blen;) {
        uint32_t n = 0;
        for (uint32_t k = 0; k < t->n_user && !n; k++) {
            const struct ckpt_tok_piece *p = &t->pc[t->user[k]];
            const char *u = ckpt_tok_text(t, (uint32_t)t->user[k]);
            if (p->len <= e->blen - i && memcmp(e->buf + i, u, p->len) == 0)
                n = p->len;
        }
        if (!n) {
            n = (uint32_t)utf8_len((const unsigned char *)e->buf + i, e->blen - i);
            if (!n) /* normalize() wrote valid UTF-8 only */
                return ckpt_err_set(err, CKPT_E_INTERNAL,
                                    "tokenizer: invalid UTF-8 after normalization");
        }
        e->sym[ns] = (struct sym){i, n, ns - 1, -1, -1};
        if (ns > 0)
            e->sym[ns - 1].next = ns;
        ns++;
        i += n;
    }
    e->heap.n = 0;
    e->nnodes = 0;
    for (int32_t i = 0; i + 1 < ns; i++)
        try_pair(e, i, i + 1);
    while (e->heap.n && !e->nomem) {
        struct cand c;
        ckpt_tok_heap_pop(&e->heap, &c);
        struct sym *l = &e->sym[c.left], *r = &e->sym[c.right];
        if (l->len == 0 || r->len == 0 || l->len + r->len != c.len || l->next != (int32_t)c.right)
            continue; /* stale: one side has changed since the pair was queued */
        int32_t node = -1;
        if (t->pc[c.id].type == CKPT_TOK_UNUSED) {
            int32_t a = node_of(e, l), b = node_of(e, r);
            node = a < -1 || b < -1 ? -2 : new_node(e, l->start, c.len, a, b);
            if (node < -1)
                return ckpt_err_set(err, CKPT_E_NOMEM, "tokenizer: out of memory");
        }
        l->len = c.len;
        l->node = node;
        r->len = 0;
        l->next = r->next;
        if (r->next >= 0)
            e->sym[r->next].prev = (int32_t)c.left;
        try_pair(e, l->prev, (int32_t)c.left);
        try_pair(e, (int32_t)c.left, l->next);
    }
    if (e->nomem)
        return ckpt_err_set(err, CKPT_E_NOMEM, "tokenizer: out of memory");

    bool prev_unk = false;
    for (int32_t i = ns ? 0 : -1; i >= 0; i = e->sym[i].next) {
        const struct sym *s = &e->sym[i];
        if (s->node < 0) {
            int32_t id = ckpt_tok_lookup(t, e->buf + s->start, s->len);
            emit_text(e, o, s->start, s->len, id, &prev_unk);
            continue;
        }
        /* an UNUSED piece: emit the parts it was merged from, depth first */
        size_t sp = 0;
        e->stack[sp++] = s->node;
        while (sp) {
            const struct node *nd = &e->nodes[e->stack[--sp]];
            int32_t id = ckpt_tok_lookup(t, e->buf + nd->start, nd->len);
            if (nd->l >= 0 && id >= 0 && t->pc[id].type == CKPT_TOK_UNUSED) {
                e->stack[sp++] = nd->r;
                e->stack[sp++] = nd->l;
            } else
                emit_text(e, o, nd->start, nd->len, id, &prev_unk);
        }
    }
    return CKPT_OK;
}

/* Encode one stretch of plain text. */
static ckpt_status fragment(struct enc *e, struct ckpt_tok_out *o, const char *text, size_t len,
                            bool prefix, ckpt_err *err)
{
    /* at most 3 bytes per input byte (' ' -> U+2581, bad byte -> U+FFFD), and a prefix */
    if (!ckpt_tok_grow((void **)&e->buf, &e->cap_buf, 3 * len + 3, 1))
        return ckpt_err_set(err, CKPT_E_NOMEM, "tokenizer: out of memory");
    normalize(e, text, len, prefix);
    return e->blen ? bpe(e, o, err) : CKPT_OK;
}

size_t ckpt_tok_encode_max(size_t len)
{
    return len > (SIZE_MAX - 3) / 3 ? SIZE_MAX : 3 * len + 3;
}

/* Does a special piece start at text[i]?  Returns its id, or -1. */
static int32_t special_at(const ckpt_tok *t, const char *text, size_t len, size_t i)
{
    if (!t->special_first[(unsigned char)text[i]])
        return -1;
    for (uint32_t k = 0; k < t->n_special; k++) {
        const struct ckpt_tok_piece *p = &t->pc[t->special[k]];
        const char *s = ckpt_tok_text(t, (uint32_t)t->special[k]);
        if (p->len <= len - i && s[0] == text[i] && memcmp(text + i, s, p->len) == 0)
            return t->special[k];
    }
    return -1;
}

ckpt_status ckpt_tok_encode(const ckpt_tok *t, const char *text, size_t len, unsigned flags,
                            int32_t *ids, size_t cap, size_t *n_ids, ckpt_err *err)
{
    *n_ids = 0;
    if (t->kind == CKPT_TOK_KIND_BYTE_BPE)
        return ckpt_tok_bpe_encode(t, text, len, flags, ids, cap, n_ids, err);
    if (t->model_type != 2)
        return ckpt_err_set(err, CKPT_E_UNSUPPORTED,
                            "tokenizer: model type %d is not BPE; only BPE models can encode",
                            t->model_type);
    if (!t->identity || t->ws_as_suffix)
        return ckpt_err_set(err, CKPT_E_UNSUPPORTED,
                            "tokenizer: only the identity normalization with a whitespace prefix "
                            "is supported");
    /* normalized text: at most 3 bytes per input byte, plus a prefix */
    if (len > (size_t)INT32_MAX / 4)
        return ckpt_err_set(err, CKPT_E_RANGE, "tokenizer: %zu bytes of text is too long", len);
    struct ckpt_tok_out o = {ids, cap, 0, false};
    struct enc e = {.tok = t, .heap = {NULL, 0, 0, sizeof(struct cand), better}};
    ckpt_status st = CKPT_OK;
    bool specials = (flags & CKPT_TOK_ADD_SPECIAL) != 0;
    if (specials && t->add_bos && t->bos >= 0)
        ckpt_tok_out_emit(&o, t->bos);
    size_t from = 0;
    bool at_start = true;
    if (flags & CKPT_TOK_PARSE_SPECIAL) {
        for (size_t i = 0; i < len && !st;) {
            int32_t id = special_at(t, text, len, i);
            if (id < 0) {
                i++;
                continue;
            }
            st = fragment(&e, &o, text + from, i - from, at_start || t->prefix_after_special, err);
            ckpt_tok_out_emit(&o, id);
            i += t->pc[id].len;
            from = i;
            at_start = false;
        }
    }
    if (!st)
        st = fragment(&e, &o, text + from, len - from, at_start || t->prefix_after_special, err);
    st = ckpt_tok_out_finish(t, &o, specials, st, "characters", n_ids, err);
    free(e.buf);
    free(e.sym);
    free(e.heap.v);
    free(e.nodes);
    free(e.stack);
    return st;
}
