/*
 * tokenizer.c - the ckpt_tok object: building it (arena, piece table, hash),
 * its accessors, and loading a model directory.  The loaders proper are in
 * tokenizer_spm.c and tokenizer_json.c, the encoder and decoder in
 * tokenizer_encode.c and tokenizer_decode.c.
 */
#include "tokenizer_impl.h"
#include "path.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* ---- building ---- */

ckpt_tok *ckpt_tok_build_new(enum ckpt_tok_source source)
{
    ckpt_tok *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->source = source;
    t->kind = CKPT_TOK_KIND_SPM;
    t->bos = t->eos = t->unk = t->pad = -1;
    /* SentencePiece's proto defaults: unigram, dummy prefix, extra whitespace
     * removed, whitespace escaped; HF's LlamaTokenizer adds BOS only */
    t->model_type = 1;
    t->add_dummy_prefix = true;
    t->remove_extra_ws = true;
    t->escape_ws = true;
    t->identity = true;
    t->prefix_after_special = true;
    t->add_bos = true;
    for (int i = 0; i < 256; i++)
        t->byte_id[i] = t->char_id[i] = -1;
    return t;
}

void ckpt_tok_free(ckpt_tok *tok)
{
    if (!tok)
        return;
    free(tok->pc);
    free(tok->arena);
    free(tok->slots);
    free(tok->user);
    free(tok->special);
    free(tok->chat_template);
    ckpt_tok_pretok_free(tok->pre);
    free(tok->pattern);
    free(tok->merges);
    free(tok->mslots);
    free(tok);
}

/* Copy bytes into the arena (NUL-terminated); *off gets their offset. */
static ckpt_status arena_put(ckpt_tok *t, const void *s, size_t len, uint32_t *off,
                             const char *name, ckpt_err *err)
{
    if (len > UINT32_MAX - 1 || t->arena_len > (size_t)UINT32_MAX - 1 - len)
        return ckpt_err_set(err, CKPT_E_RANGE, "%s: vocabulary text larger than 4 GiB", name);
    if (t->arena_len + len + 1 > t->arena_cap) {
        size_t cap = t->arena_cap ? t->arena_cap : 4096;
        while (cap < t->arena_len + len + 1)
            cap *= 2;
        char *a = realloc(t->arena, cap);
        if (!a)
            return ckpt_err_set(err, CKPT_E_NOMEM, "%s: out of memory", name);
        t->arena = a;
        t->arena_cap = cap;
    }
    if (len)
        memcpy(t->arena + t->arena_len, s, len);
    t->arena[t->arena_len + len] = '\0';
    *off = (uint32_t)t->arena_len;
    t->arena_len += len + 1;
    return CKPT_OK;
}

ckpt_status ckpt_tok_build_add(ckpt_tok *t, const void *piece, size_t len, float score, int type,
                               const char *name, ckpt_err *err)
{
    if (t->n >= CKPT_TOK_MAX_PIECES)
        return ckpt_err_set(err, CKPT_E_RANGE, "%s: more than %u pieces", name,
                            CKPT_TOK_MAX_PIECES);
    if (t->n == t->cap) {
        uint32_t cap = t->cap ? t->cap * 2 : 256;
        struct ckpt_tok_piece *pc = realloc(t->pc, (size_t)cap * sizeof *pc);
        if (!pc)
            return ckpt_err_set(err, CKPT_E_NOMEM, "%s: out of memory", name);
        t->pc = pc;
        t->cap = cap;
    }
    struct ckpt_tok_piece *p = &t->pc[t->n];
    ckpt_status st = arena_put(t, piece, len, &p->off, name, err);
    if (st)
        return st;
    p->len = (uint32_t)len;
    p->score = score;
    p->type = (uint8_t)type;
    p->merge = 0;
    p->mergeable = 0;
    p->strip = 0;
    t->n++;
    return CKPT_OK;
}

ckpt_status ckpt_tok_build_set_text(ckpt_tok *t, uint32_t id, const void *piece, size_t len,
                                    const char *name, ckpt_err *err)
{
    uint32_t off;
    ckpt_status st = arena_put(t, piece, len, &off, name, err);
    if (st)
        return st;
    t->pc[id].off = off;
    t->pc[id].len = (uint32_t)len;
    return CKPT_OK;
}

/* FNV-1a, 64-bit: pieces are short, and this is all the hash needs to be. */
static uint64_t hash_bytes(const void *s, size_t len)
{
    const uint8_t *p = s;
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

int32_t ckpt_tok_lookup(const ckpt_tok *t, const void *piece, size_t len)
{
    if (!t->slots)
        return -1;
    for (uint64_t i = hash_bytes(piece, len) & t->mask;; i = (i + 1) & t->mask) {
        int32_t id = t->slots[i];
        if (id < 0)
            return -1;
        if (t->pc[id].len == len && memcmp(ckpt_tok_text(t, (uint32_t)id), piece, len) == 0)
            return id;
    }
}

int ckpt_tok_byte_piece(const char *s, size_t len)
{
    if (len != 6 || memcmp(s, "<0x", 3) != 0 || s[5] != '>')
        return -1;
    int v = 0;
    for (int i = 3; i < 5; i++) {
        char c = s[i];
        int d = c >= '0' && c <= '9'   ? c - '0'
                : c >= 'a' && c <= 'f' ? c - 'a' + 10
                : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                       : -1;
        if (d < 0)
            return -1;
        v = v * 16 + d;
    }
    return v;
}

struct len_id {
    uint32_t len;
    int32_t id;
};

/* Order of the special and user-defined lists: longest first (so the first
 * match at a position is the longest), then by id. */
static int longest_first(const void *a, const void *b)
{
    const struct len_id *x = a, *y = b;
    if (x->len != y->len)
        return x->len > y->len ? -1 : 1;
    return (x->id > y->id) - (x->id < y->id);
}

static bool sort_longest_first(const ckpt_tok *t, int32_t *ids, uint32_t n)
{
    if (n < 2)
        return true;
    struct len_id *v = malloc((size_t)n * sizeof *v);
    if (!v)
        return false;
    for (uint32_t i = 0; i < n; i++)
        v[i] = (struct len_id){t->pc[ids[i]].len, ids[i]};
    qsort(v, n, sizeof *v, longest_first);
    for (uint32_t i = 0; i < n; i++)
        ids[i] = v[i].id;
    free(v);
    return true;
}

ckpt_status ckpt_tok_build_finish(ckpt_tok *t, const char *name, ckpt_err *err)
{
    if (t->n == 0)
        return ckpt_err_set(err, CKPT_E_FORMAT, "%s: no pieces", name);
    int32_t *ids[] = {&t->bos, &t->eos, &t->unk, &t->pad};
    for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++)
        if (*ids[i] < -1 || *ids[i] >= (int32_t)t->n)
            return ckpt_err_set(err, CKPT_E_FORMAT, "%s: special id %d outside the %u pieces",
                                name, *ids[i], t->n);

    uint32_t cap = 16;
    while (cap < 2 * t->n)
        cap *= 2;
    free(t->slots);
    t->slots = malloc((size_t)cap * sizeof *t->slots);
    if (!t->slots)
        return ckpt_err_set(err, CKPT_E_NOMEM, "%s: out of memory", name);
    memset(t->slots, 0xff, (size_t)cap * sizeof *t->slots);
    t->mask = cap - 1;

    uint32_t n_user = 0, n_special = 0;
    for (int i = 0; i < 256; i++)
        t->byte_id[i] = -1;
    for (uint32_t id = 0; id < t->n; id++) {
        struct ckpt_tok_piece *p = &t->pc[id];
        const char *s = ckpt_tok_text(t, id);
        uint64_t h = hash_bytes(s, p->len) & t->mask;
        for (;; h = (h + 1) & t->mask) {
            int32_t o = t->slots[h];
            if (o < 0)
                break;
            if (t->pc[o].len == p->len && memcmp(ckpt_tok_text(t, (uint32_t)o), s, p->len) == 0)
                return ckpt_err_set(err, CKPT_E_FORMAT,
                                    "%s: piece %u duplicates piece %d ('%.40s')", name, id, o,
                                    s);
        }
        t->slots[h] = (int32_t)id;
        p->mergeable = p->merge && (p->type == CKPT_TOK_NORMAL ||
                                    p->type == CKPT_TOK_USER_DEFINED ||
                                    p->type == CKPT_TOK_UNUSED);
        if (p->type == CKPT_TOK_BYTE) {
            int b = ckpt_tok_byte_piece(s, p->len);
            if (b < 0)
                return ckpt_err_set(err, CKPT_E_FORMAT, "%s: byte piece %u is '%.40s', not <0xNN>",
                                    name, id, s);
            if (t->byte_id[b] < 0)
                t->byte_id[b] = (int32_t)id;
        }
        if (p->type == CKPT_TOK_USER_DEFINED)
            n_user++;
        if ((p->type == CKPT_TOK_USER_DEFINED || p->type == CKPT_TOK_CONTROL ||
             p->type == CKPT_TOK_UNKNOWN) && p->len > 0)
            n_special++;
    }

    free(t->user);
    free(t->special);
    t->user = malloc((n_user ? n_user : 1) * sizeof *t->user);
    t->special = malloc((n_special ? n_special : 1) * sizeof *t->special);
    if (!t->user || !t->special)
        return ckpt_err_set(err, CKPT_E_NOMEM, "%s: out of memory", name);
    t->n_user = t->n_special = 0;
    memset(t->special_first, 0, sizeof t->special_first);
    for (uint32_t id = 0; id < t->n; id++) {
        int ty = t->pc[id].type;
        if (ty == CKPT_TOK_USER_DEFINED && t->pc[id].len > 0)
            t->user[t->n_user++] = (int32_t)id;
        if ((ty == CKPT_TOK_USER_DEFINED || ty == CKPT_TOK_CONTROL || ty == CKPT_TOK_UNKNOWN) &&
            t->pc[id].len > 0) {
            t->special[t->n_special++] = (int32_t)id;
            t->special_first[(unsigned char)ckpt_tok_text(t, id)[0]] = true;
        }
    }
    if (!sort_longest_first(t, t->special, t->n_special) ||
        !sort_longest_first(t, t->user, t->n_user))
        return ckpt_err_set(err, CKPT_E_NOMEM, "%s: out of memory", name);
    /* byte-level BPE starts each piece from the pieces of single bytes */
    for (unsigned b = 0; b < 256 && t->kind == CKPT_TOK_KIND_BYTE_BPE; b++) {
        char c[2];
        t->char_id[b] = ckpt_tok_lookup(t, c, ckpt_tok_bytelevel_char(b, c));
    }
    return CKPT_OK;
}

/* ---- accessors ---- */

uint32_t ckpt_tok_n_vocab(const ckpt_tok *t) { return t->n; }

const char *ckpt_tok_piece(const ckpt_tok *t, uint32_t id, size_t *len)
{
    if (id >= t->n)
        return NULL;
    if (len)
        *len = t->pc[id].len;
    return ckpt_tok_text(t, id);
}

float ckpt_tok_score(const ckpt_tok *t, uint32_t id) { return id < t->n ? t->pc[id].score : 0.0f; }
int ckpt_tok_type(const ckpt_tok *t, uint32_t id) { return id < t->n ? t->pc[id].type : 0; }

int32_t ckpt_tok_find(const ckpt_tok *t, const char *piece, size_t len)
{
    return ckpt_tok_lookup(t, piece, len);
}

int32_t ckpt_tok_bos_id(const ckpt_tok *t) { return t->bos; }
int32_t ckpt_tok_eos_id(const ckpt_tok *t) { return t->eos; }
int32_t ckpt_tok_unk_id(const ckpt_tok *t) { return t->unk; }
int32_t ckpt_tok_pad_id(const ckpt_tok *t) { return t->pad; }
bool ckpt_tok_add_bos(const ckpt_tok *t) { return t->add_bos; }
bool ckpt_tok_add_eos(const ckpt_tok *t) { return t->add_eos; }
const char *ckpt_tok_chat_template(const ckpt_tok *t) { return t->chat_template; }
enum ckpt_tok_source ckpt_tok_source(const ckpt_tok *t) { return t->source; }
enum ckpt_tok_kind ckpt_tok_kind(const ckpt_tok *t) { return t->kind; }
const char *ckpt_tok_pre_name(const ckpt_tok *t) { return ckpt_tok_pretok_name(t->pattern); }
bool ckpt_tok_byte_fallback(const ckpt_tok *t) { return t->byte_fallback; }
bool ckpt_tok_add_dummy_prefix(const ckpt_tok *t) { return t->add_dummy_prefix; }

/* ---- a model directory ---- */

ckpt_status ckpt_tok_load_dir(ckpt_tok **out, const char *dir, ckpt_err *err)
{
    *out = NULL;
    ckpt_status st = CKPT_OK;
    ckpt_tok *tok = NULL;
    /* Mistral's own layout names its SentencePiece model tokenizer.model.v3 */
    char *spm = ckpt_path_join(dir, "tokenizer.model");
    if (spm && !ckpt_path_is_file(spm)) {
        free(spm);
        spm = ckpt_path_join(dir, "tokenizer.model.v3");
    }
    char *hf = ckpt_path_join(dir, "tokenizer.json");
    char *cfg = ckpt_path_join(dir, "tokenizer_config.json");
    char *tekken = ckpt_path_join(dir, "tekken.json");
    if (!spm || !hf || !cfg || !tekken) {
        st = ckpt_err_set(err, CKPT_E_NOMEM, "%s: out of memory", dir);
        goto out;
    }
    if (ckpt_path_is_file(spm))
        st = ckpt_tok_load_spm(&tok, spm, err);
    else if (ckpt_path_is_file(hf))
        st = ckpt_tok_load_hf_json(&tok, hf, err);
    else if (ckpt_path_is_file(tekken)) /* Mistral's layout */
        st = ckpt_tok_load_tekken(&tok, tekken, err);
    else
        st = ckpt_err_set(err, CKPT_E_IO,
                          "%s: no tokenizer.model, tokenizer.json or tekken.json", dir);
    if (st == CKPT_OK && ckpt_path_is_file(cfg))
        st = ckpt_tok_apply_config(tok, cfg, err);
out:
    if (st == CKPT_OK)
        *out = tok;
    else
        ckpt_tok_free(tok);
    free(spm);
    free(hf);
    free(cfg);
    free(tekken);
    return st;
}
