/*
 * tokenizer_bpe.c - byte-level BPE (Tekken, GPT-2): the byte alphabet, the
 * merge table, and encoding and decoding with Hugging Face tokenizers'
 * semantics (tokenizer.h, ckpt_tok_encode, says which).
 *
 * The alphabet is GPT-2's bytes_to_unicode: the 188 printable bytes
 * '!'..'~', 0xA1..0xAC and 0xAE..0xFF stand for themselves (as code
 * points), the 68 others for U+0100 upwards in byte order, so every byte
 * is one visible character and a piece is a string of such characters.
 *
 * Merges are kept by rank with an open-addressing hash from the pair of
 * piece ids to the rank.  Encoding a piece starts from one symbol per
 * byte and repeatedly joins the adjacent pair of lowest rank (leftmost on
 * equal ranks), with a min-heap of candidate pairs and lazy invalidation,
 * as Hugging Face's BPE (Word::merge_all) does.
 */
#include <stdlib.h>
#include <string.h>

#include "tokenizer_impl.h"

/* The 68 bytes that do not stand for themselves are 0x00..0x20, 0x7F..0xA0
 * and 0xAD; the n-th of them (in byte order) stands for U+0100 + n. */
static bool printable(unsigned b)
{
    return (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
}

size_t ckpt_tok_bytelevel_char(unsigned b, char buf[2])
{
    unsigned cp = printable(b) ? b : 0x100 + (b <= 0x20 ? b : b <= 0xA0 ? 33 + b - 0x7F : 67);
    if (cp < 0x80) {
        buf[0] = (char)cp;
        return 1;
    }
    buf[0] = (char)(0xC0 | cp >> 6);
    buf[1] = (char)(0x80 | (cp & 0x3F));
    return 2;
}

/* The byte a GPT-2 character (code point) stands for, or -1. */
static int char_byte(unsigned cp)
{
    if (cp < 0x100)
        return printable(cp) ? (int)cp : -1;
    if (cp >= 0x100 + 68)
        return -1;
    unsigned n = cp - 0x100;
    return n <= 0x20 ? (int)n : n < 67 ? (int)(0x7F + n - 33) : 0xAD;
}

ckpt_status ckpt_tok_bytelevel_init(ckpt_tok *t, const char *pattern, size_t len,
                                    bool ignore_merges, const char *name, ckpt_err *err)
{
    ckpt_status st = ckpt_tok_pretok_compile(&t->pre, pattern, len, name, err);
    if (st)
        return st;
    if (!(t->pattern = malloc(len + 1)))
        return ckpt_err_set(err, CKPT_E_NOMEM, "%s: out of memory", name);
    memcpy(t->pattern, pattern, len);
    t->pattern[len] = '\0';
    t->kind = CKPT_TOK_KIND_BYTE_BPE;
    t->ignore_merges = ignore_merges;
    t->byte_fallback = false;
    t->add_dummy_prefix = false;
    t->escape_ws = false;
    t->remove_extra_ws = false;
    t->model_type = 2;
    return CKPT_OK;
}

/* ---- the merge table ---- */

static uint64_t pair_hash(int32_t a, int32_t b)
{
    uint64_t h = (uint64_t)(uint32_t)a << 32 | (uint32_t)b;
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    return h;
}

/* Rank of the merge (a, b), or -1. */
static int32_t merge_rank(const ckpt_tok *t, int32_t a, int32_t b)
{
    if (!t->mslots)
        return -1;
    for (uint64_t i = pair_hash(a, b) & t->mmask;; i = (i + 1) & t->mmask) {
        int32_t r = t->mslots[i];
        if (r < 0 || (t->merges[r].a == a && t->merges[r].b == b))
            return r;
    }
}

/* Rebuild the hash with room for twice the merges. */
static bool merges_rehash(ckpt_tok *t, uint32_t want)
{
    uint32_t cap = 16;
    while (cap < 2 * want)
        cap *= 2;
    int32_t *slots = malloc((size_t)cap * sizeof *slots);
    if (!slots)
        return false;
    memset(slots, 0xff, (size_t)cap * sizeof *slots);
    free(t->mslots);
    t->mslots = slots;
    t->mmask = cap - 1;
    for (uint32_t r = 0; r < t->n_merges; r++) {
        if (t->merges[r].out < 0) /* dropped for a later rank of the same pair */
            continue;
        uint64_t i = pair_hash(t->merges[r].a, t->merges[r].b) & t->mmask;
        while (t->mslots[i] >= 0)
            i = (i + 1) & t->mmask;
        t->mslots[i] = (int32_t)r;
    }
    return true;
}

/* The hash slot holding rank r of pair (a, b) (which must be there). */
static uint64_t slot_of(const ckpt_tok *t, int32_t a, int32_t b, int32_t r)
{
    uint64_t i = pair_hash(a, b) & t->mmask;
    while (t->mslots[i] != r)
        i = (i + 1) & t->mmask;
    return i;
}

ckpt_status ckpt_tok_merge_add(ckpt_tok *t, int32_t a, int32_t b, int32_t out, bool keep_last,
                               const char *name, ckpt_err *err)
{
    int32_t old = merge_rank(t, a, b);
    if (old >= 0 && !keep_last)
        return CKPT_OK;
    if (t->n_merges >= CKPT_TOK_MAX_PIECES)
        return ckpt_err_set(err, CKPT_E_RANGE, "%s: more than %u merges", name,
                            CKPT_TOK_MAX_PIECES);
    if (t->n_merges == t->cap_merges) {
        uint32_t cap = t->cap_merges ? t->cap_merges * 2 : 1024;
        struct ckpt_tok_merge *m = realloc(t->merges, (size_t)cap * sizeof *m);
        if (!m)
            return ckpt_err_set(err, CKPT_E_NOMEM, "%s: out of memory", name);
        t->merges = m;
        t->cap_merges = cap;
    }
    int32_t r = (int32_t)t->n_merges++;
    t->merges[r] = (struct ckpt_tok_merge){a, b, out};
    if (old >= 0) { /* the pair moves to its new rank; the old entry is dropped */
        t->mslots[slot_of(t, a, b, old)] = r;
        t->merges[old].out = -1;
        t->dead_merges++;
        return CKPT_OK;
    }
    /* keep the table at most half full */
    if (!t->mslots || 2 * t->n_merges > t->mmask + 1) {
        if (!merges_rehash(t, t->n_merges))
            return ckpt_err_set(err, CKPT_E_NOMEM, "%s: out of memory", name);
    } else {
        uint64_t i = pair_hash(a, b) & t->mmask;
        while (t->mslots[i] >= 0)
            i = (i + 1) & t->mmask;
        t->mslots[i] = r;
    }
    return CKPT_OK;
}

ckpt_status ckpt_tok_merges_compact(ckpt_tok *t, const char *name, ckpt_err *err)
{
    if (!t->dead_merges)
        return CKPT_OK;
    uint32_t n = 0;
    for (uint32_t r = 0; r < t->n_merges; r++)
        if (t->merges[r].out >= 0)
            t->merges[n++] = t->merges[r];
    t->n_merges = n;
    t->dead_merges = 0;
    return merges_rehash(t, n) ? CKPT_OK
                               : ckpt_err_set(err, CKPT_E_NOMEM, "%s: out of memory", name);
}

uint32_t ckpt_tok_n_merges(const ckpt_tok *t) { return t->n_merges; }

bool ckpt_tok_merge(const ckpt_tok *t, uint32_t i, int32_t *a, int32_t *b)
{
    if (i >= t->n_merges)
        return false;
    *a = t->merges[i].a;
    *b = t->merges[i].b;
    return true;
}

/* ---- encoding ---- */

struct sym {
    int32_t id;
    int32_t prev, next; /* -1 at the ends */
    bool gone;
};

struct cand {
    int32_t rank;
    int32_t left; /* symbol index */
    int32_t l_id, r_id; /* the ids when queued: a changed side makes it stale */
};

/* Scratch of one encode call, reused by its pieces. */
struct enc {
    const ckpt_tok *tok;
    struct ckpt_tok_out *o;
    struct sym *sym;
    size_t cap_sym;
    struct ckpt_tok_heap heap; /* of struct cand */
    char *bl; /* a piece in GPT-2 characters (ignore_merges lookup) */
    size_t cap_bl;
};

/* The candidate queue's order: lowest rank first, then leftmost. */
static bool before(const void *a, const void *b)
{
    const struct cand *x = a, *y = b;
    return x->rank < y->rank || (x->rank == y->rank && x->left < y->left);
}

static bool queue_pair(struct enc *e, int32_t l)
{
    if (l < 0 || e->sym[l].next < 0)
        return true;
    int32_t a = e->sym[l].id, b = e->sym[e->sym[l].next].id;
    int32_t r = merge_rank(e->tok, a, b);
    struct cand c = {r, l, a, b};
    return r < 0 || ckpt_tok_heap_push(&e->heap, &c);
}

/* BPE of one pre-token (a ckpt_tok_piece_fn). */
static ckpt_status bpe_piece(void *ctx, const char *s, size_t len, ckpt_err *err)
{
    struct enc *e = ctx;
    const ckpt_tok *t = e->tok;
    if (t->ignore_merges) { /* the whole piece, when it is a normal piece */
        if (!ckpt_tok_grow((void **)&e->bl, &e->cap_bl, 2 * len, 1))
            return ckpt_err_set(err, CKPT_E_NOMEM, "tokenizer: out of memory");
        size_t n = 0;
        for (size_t i = 0; i < len; i++)
            n += ckpt_tok_bytelevel_char((unsigned char)s[i], e->bl + n);
        int32_t id = ckpt_tok_lookup(t, e->bl, n);
        if (id >= 0 && t->pc[id].type == CKPT_TOK_NORMAL) {
            ckpt_tok_out_emit(e->o, id);
            return CKPT_OK;
        }
    }
    if (!ckpt_tok_grow((void **)&e->sym, &e->cap_sym, len, sizeof *e->sym))
        return ckpt_err_set(err, CKPT_E_NOMEM, "tokenizer: out of memory");
    for (size_t i = 0; i < len; i++)
        e->sym[i] = (struct sym){t->char_id[(unsigned char)s[i]], (int32_t)i - 1,
                                 i + 1 < len ? (int32_t)i + 1 : -1, false};
    e->heap.n = 0;
    bool ok = true;
    for (size_t i = 0; i + 1 < len && ok; i++)
        ok = e->sym[i].id >= 0 && e->sym[i + 1].id >= 0 ? queue_pair(e, (int32_t)i) : true;
    while (ok && e->heap.n) {
        struct cand c;
        ckpt_tok_heap_pop(&e->heap, &c);
        struct sym *l = &e->sym[c.left];
        if (l->gone || l->next < 0 || l->id != c.l_id || e->sym[l->next].id != c.r_id)
            continue; /* stale: a side has been merged since the pair was queued */
        struct sym *r = &e->sym[l->next];
        l->id = t->merges[c.rank].out;
        r->gone = true;
        l->next = r->next;
        if (r->next >= 0)
            e->sym[r->next].prev = c.left;
        ok = queue_pair(e, l->prev) && queue_pair(e, c.left);
    }
    if (!ok)
        return ckpt_err_set(err, CKPT_E_NOMEM, "tokenizer: out of memory");
    for (int32_t i = len ? 0 : -1; i >= 0; i = e->sym[i].next)
        ckpt_tok_out_emit(e->o, e->sym[i].id >= 0 ? e->sym[i].id : t->unk);
    return CKPT_OK;
}

/*
 * Invalid UTF-8 -> U+FFFD, one per maximal subpart of an ill-formed
 * sequence (Unicode 15, section 3.9, table 3-8; the WHATWG decoder): a lead
 * byte and the continuation bytes that can still complete it are replaced
 * together; a byte that cannot start or continue anything alone.
 * dst has room for 3 * len bytes.  Returns the length written.
 */
static size_t to_valid_utf8(const unsigned char *s, size_t len, char *dst)
{
    size_t i = 0, o = 0;
    while (i < len) {
        unsigned c = s[i];
        size_t need = 0;
        unsigned lo = 0x80, hi = 0xBF;
        if (c < 0x80) {
            dst[o++] = (char)c;
            i++;
            continue;
        }
        if (c >= 0xC2 && c <= 0xDF)
            need = 1;
        else if (c >= 0xE0 && c <= 0xEF) {
            need = 2;
            lo = c == 0xE0 ? 0xA0 : 0x80; /* no overlongs */
            hi = c == 0xED ? 0x9F : 0xBF; /* no surrogates */
        } else if (c >= 0xF0 && c <= 0xF4) {
            need = 3;
            lo = c == 0xF0 ? 0x90 : 0x80;
            hi = c == 0xF4 ? 0x8F : 0xBF; /* nothing past U+10FFFF */
        }
        size_t k = 1;
        while (need && k <= need && i + k < len) {
            unsigned d = s[i + k];
            if (d < (k == 1 ? lo : 0x80) || d > (k == 1 ? hi : 0xBF))
                break;
            k++;
        }
        if (need && k == need + 1) { /* complete and valid */
            memcpy(dst + o, s + i, k);
            o += k;
        } else { /* the maximal subpart: the lead byte and the bytes that fit */
            memcpy(dst + o, "\xEF\xBF\xBD", 3);
            o += 3;
        }
        i += k;
    }
    return o;
}

/* The White_Space property of Unicode (PropList.txt): what lstrip and
 * rstrip swallow (Rust's char::is_whitespace, JavaScript's trim). */
static bool white_space(unsigned cp)
{
    return (cp >= 0x09 && cp <= 0x0D) || cp == 0x20 || cp == 0x85 || cp == 0xA0 ||
           cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 ||
           cp == 0x202F || cp == 0x205F || cp == 0x3000;
}

/* Code point of the valid UTF-8 character at s (n bytes long). */
static unsigned code_point(const unsigned char *s, size_t n)
{
    unsigned cp = n == 1 ? s[0] : s[0] & (0x7Fu >> n);
    for (size_t i = 1; i < n; i++)
        cp = cp << 6 | (s[i] & 0x3Fu);
    return cp;
}

static size_t char_len(unsigned char c)
{
    return c < 0x80 ? 1 : c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
}

/* Bytes of White_Space at the start of s[0..n). */
static size_t ws_prefix(const char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        size_t k = char_len((unsigned char)s[i]);
        if (!white_space(code_point((const unsigned char *)s + i, k)))
            break;
        i += k;
    }
    return i;
}

/* Bytes of White_Space at the end of s[0..n). */
static size_t ws_suffix(const char *s, size_t n)
{
    size_t end = n;
    while (end > 0) {
        size_t st = end - 1;
        while (st > 0 && ((unsigned char)s[st] & 0xC0) == 0x80)
            st--;
        if (!white_space(code_point((const unsigned char *)s + st, end - st)))
            break;
        end = st;
    }
    return n - end;
}

/* The added token matched at text[i], longest first, or -1: non-special
 * (USER_DEFINED) always, control and unknown ones when `specials`. */
static int32_t added_at(const ckpt_tok *t, const char *text, size_t len, size_t i, bool specials)
{
    if (!t->special_first[(unsigned char)text[i]])
        return -1;
    for (uint32_t k = 0; k < t->n_special; k++) {
        int32_t id = t->special[k];
        const struct ckpt_tok_piece *p = &t->pc[id];
        if ((p->type == CKPT_TOK_USER_DEFINED || specials) && p->len <= len - i &&
            memcmp(text + i, ckpt_tok_text(t, (uint32_t)id), p->len) == 0)
            return id;
    }
    return -1;
}

ckpt_status ckpt_tok_bpe_encode(const ckpt_tok *t, const char *text, size_t len, unsigned flags,
                                int32_t *ids, size_t cap, size_t *n_ids, ckpt_err *err)
{
    *n_ids = 0;
    if (len > (size_t)INT32_MAX / 4)
        return ckpt_err_set(err, CKPT_E_RANGE, "tokenizer: %zu bytes of text is too long", len);
    char *buf = malloc(3 * len + 1);
    if (!buf)
        return ckpt_err_set(err, CKPT_E_NOMEM, "tokenizer: out of memory");
    size_t n = to_valid_utf8((const unsigned char *)text, len, buf);
    struct ckpt_tok_out o = {ids, cap, 0, false};
    struct enc e = {.tok = t, .o = &o, .heap = {NULL, 0, 0, sizeof(struct cand), before}};
    ckpt_status st = CKPT_OK;
    bool add = (flags & CKPT_TOK_ADD_SPECIAL) != 0;
    bool specials = (flags & CKPT_TOK_PARSE_SPECIAL) != 0;
    if (add && t->add_bos && t->bos >= 0)
        ckpt_tok_out_emit(&o, t->bos);
    size_t from = 0, skip_ws = 0; /* skip_ws: the last match strips on its right */
    for (size_t i = 0; i <= n && !st;) {
        int32_t id = i < n ? added_at(t, buf, n, i, specials) : -1;
        if (i < n && id < 0) {
            i += char_len((unsigned char)buf[i]);
            continue;
        }
        /* the stretch of plain text before the match (or the end) */
        size_t s = from, end = i;
        if (skip_ws)
            s += ws_prefix(buf + s, end - s);
        if (id >= 0 && (t->pc[id].strip & CKPT_TOK_LSTRIP))
            end -= ws_suffix(buf + s, end - s);
        if (end > s)
            st = ckpt_tok_pretok_split(t->pre, buf + s, end - s, bpe_piece, &e, err);
        if (id < 0)
            break;
        ckpt_tok_out_emit(&o, id);
        i += t->pc[id].len;
        from = i;
        skip_ws = t->pc[id].strip & CKPT_TOK_RSTRIP;
    }
    st = ckpt_tok_out_finish(t, &o, add, st, "bytes", n_ids, err);
    free(buf);
    free(e.sym);
    free(e.heap.v);
    free(e.bl);
    return st;
}

/* ---- decoding ---- */

/* The bytes piece p stands for into dst (room for p's length): its GPT-2
 * characters mapped back, or its own bytes when a character is not one of
 * them (HF's ByteLevel decoder).  Returns the length. */
static size_t piece_bytes(const char *p, size_t len, char *dst)
{
    size_t o = 0;
    for (size_t i = 0; i < len;) {
        size_t k = char_len((unsigned char)p[i]);
        int b = -1;
        if (k <= 2 && i + k <= len)
            b = char_byte(code_point((const unsigned char *)p + i, k));
        if (b < 0) {
            memcpy(dst, p, len);
            return len;
        }
        dst[o++] = (char)b;
        i += k;
    }
    return o;
}

ckpt_status ckpt_tok_bpe_decode(const ckpt_tok *t, const int32_t *ids, size_t n, char *buf,
                                size_t cap, size_t *len, ckpt_err *err)
{
    size_t o = 0;
    char tmp[256];
    *len = 0;
    for (size_t i = 0; i < n; i++) {
        if (ids[i] < 0 || (uint32_t)ids[i] >= t->n)
            return ckpt_err_set(err, CKPT_E_RANGE, "tokenizer: id %d at %zu is not in 0..%u",
                                ids[i], i, t->n - 1);
        const struct ckpt_tok_piece *p = &t->pc[ids[i]];
        if (p->type == CKPT_TOK_CONTROL)
            continue;
        const char *s = ckpt_tok_text(t, (uint32_t)ids[i]);
        /* a piece decodes to at most its own length: straight into buf
         * when that fits, else through scratch, to count what is needed */
        if (o + p->len <= cap)
            o += piece_bytes(s, p->len, buf + o);
        else if (p->len <= sizeof tmp) {
            size_t k = piece_bytes(s, p->len, tmp);
            if (o < cap)
                memcpy(buf + o, tmp, k <= cap - o ? k : cap - o);
            o += k;
        } else {
            char *big = malloc(p->len);
            if (!big)
                return ckpt_err_set(err, CKPT_E_NOMEM, "tokenizer: out of memory");
            size_t k = piece_bytes(s, p->len, big);
            if (o < cap)
                memcpy(buf + o, big, k <= cap - o ? k : cap - o);
            o += k;
            free(big);
        }
    }
    *len = o;
    if (o > cap)
        return ckpt_err_set(err, CKPT_E_RANGE, "tokenizer: %zu bytes of text do not fit in %zu",
                            o, cap);
    if (o < cap)
        buf[o] = '\0';
    return CKPT_OK;
}
