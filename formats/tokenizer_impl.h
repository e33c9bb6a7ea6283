/*
 * tokenizer_impl.h - the inside of ckpt_tok, shared by the tokenizer's own
 * files (loaders, config, encoder, decoder) and by nobody else.
 *
 * Pieces live in one growing byte arena (each NUL-terminated, addressed by
 * offset so the arena may move); an open-addressing hash maps piece bytes to
 * ids.  Loaders add pieces, then call ckpt_tok_build_finish, which checks the
 * vocabulary and derives the lookup tables the encoder uses.
 */
#ifndef CKPT_FORMATS_TOKENIZER_IMPL_H
#define CKPT_FORMATS_TOKENIZER_IMPL_H

#include "json_strict.h"
#include "tokenizer.h"

struct ckpt_tok_piece {
    uint32_t off;   /* into arena */
    uint32_t len;   /* bytes, without the NUL */
    float score;
    uint8_t type;   /* enum ckpt_tok_type */
    uint8_t merge;  /* loader: the piece may come out of a BPE merge */
    uint8_t mergeable; /* derived: merge, and a type a merge may produce */
    uint8_t strip;  /* byte-level added tokens: CKPT_TOK_LSTRIP | CKPT_TOK_RSTRIP */
};

/* Added-token flags of tokenizer.json (byte-level BPE only): the token
 * swallows the whitespace on its left / right when matched in text. */
#define CKPT_TOK_LSTRIP 1u
#define CKPT_TOK_RSTRIP 2u

/* One merge of a byte-level BPE: left and right piece ids, the result. */
struct ckpt_tok_merge {
    int32_t a, b, out;
};

struct ckpt_tok_pretok; /* a compiled pre-tokenizer regex (tokenizer_pretok.c) */

struct ckpt_tok {
    enum ckpt_tok_source source;
    enum ckpt_tok_kind kind;
    struct ckpt_tok_piece *pc; /* (n) */
    uint32_t n, cap;
    char *arena;
    size_t arena_len, arena_cap;
    int32_t *slots;            /* hash: piece id or -1; (mask + 1) */
    uint32_t mask;

    int32_t bos, eos, unk, pad;
    bool add_bos, add_eos;
    char *chat_template;

    /* model and normalizer (SentencePiece terms) */
    int model_type;            /* 1 unigram, 2 BPE, 3 word, 4 char */
    bool byte_fallback;
    bool add_dummy_prefix;
    bool remove_extra_ws;
    bool escape_ws;
    bool ws_as_suffix;
    bool identity;             /* no precompiled normalization rules */
    bool prefix_after_special; /* dummy prefix again after a parsed special token */

    /* byte-level BPE (kind CKPT_TOK_KIND_BYTE_BPE) */
    struct ckpt_tok_pretok *pre; /* the split regex */
    char *pattern;               /* its source text as the file gives it (NUL-terminated) */
    bool ignore_merges;          /* a pre-token that is a piece is taken whole */
    struct ckpt_tok_merge *merges; /* (n_merges), by rank */
    uint32_t n_merges, cap_merges;
    int32_t *mslots;             /* hash of (a, b) -> rank, or -1; (mmask + 1) */
    uint32_t mmask;
    uint32_t dead_merges;        /* entries dropped for a later rank of their pair */

    /* derived by ckpt_tok_build_finish */
    int32_t byte_id[256];      /* id of <0xNN>, or -1 */
    int32_t *user;             /* USER_DEFINED ids (n_user) */
    uint32_t n_user;
    int32_t *special;          /* CONTROL/UNKNOWN/USER_DEFINED ids, longest first (n_special) */
    uint32_t n_special;
    bool special_first[256];   /* some special piece starts with this byte */
    int32_t char_id[256];      /* byte-level: id of the one-character piece of byte b, or -1 */
};

#define CKPT_TOK_MAX_PIECES (1u << 28)

/* A new, empty model with SentencePiece's defaults.  NULL on ENOMEM. */
ckpt_tok *ckpt_tok_build_new(enum ckpt_tok_source source);

/* Append a piece (bytes copied); its id is the old n.  CKPT_E_NOMEM or
 * CKPT_E_RANGE (too many pieces or arena past 4 GiB). */
ckpt_status ckpt_tok_build_add(ckpt_tok *tok, const void *piece, size_t len, float score, int type,
                               const char *name, ckpt_err *err);

/* Replace the bytes of piece id (the hash must be rebuilt by _finish). */
ckpt_status ckpt_tok_build_set_text(ckpt_tok *tok, uint32_t id, const void *piece, size_t len,
                                    const char *name, ckpt_err *err);

/*
 * Check and index the vocabulary: rebuild the hash (duplicate pieces are
 * CKPT_E_FORMAT), the byte-piece table, the user-defined and special lists,
 * and the mergeable flags (a loader's merge flag on a NORMAL, USER_DEFINED
 * or UNUSED piece, the pieces SentencePiece's BPE may merge into).  Special
 * ids must be < n or -1.  Safe to call again after changes.
 */
ckpt_status ckpt_tok_build_finish(ckpt_tok *tok, const char *name, ckpt_err *err);

/* Id of a piece, or -1 (also before _finish has built the hash: -1). */
int32_t ckpt_tok_lookup(const ckpt_tok *tok, const void *piece, size_t len);

/* Bytes of a piece (no bounds check: id < n). */
static inline const char *ckpt_tok_text(const ckpt_tok *tok, uint32_t id)
{
    return tok->arena + tok->pc[id].off;
}

/* Parse "<0xNN>" (either hex case); returns the byte or -1. */
int ckpt_tok_byte_piece(const char *s, size_t len);

/*
 * The tokenizer's JSON files (tokenizer.json, tokenizer_config.json), read
 * with the strict parser and a cap on the number of values, checked before
 * cJSON allocates anything: a cJSON node costs ~100 bytes whatever the text
 * was, so 10 M merges of two letters ask for over 1 GB.  The largest
 * published tokenizer.json files (Llama 3, Qwen 2) hold about 1.3 M values,
 * Mistral's tekken.json about 0.53 M.  nul_escapes accepts \u0000 (for
 * tekken.json: see ckpt_json_parse_nul).
 * Errors: CKPT_E_FORMAT ("not valid JSON"), CKPT_E_RANGE (more than
 * CKPT_TOK_JSON_MAX_VALUES values), CKPT_E_NOMEM.  The caller owns *out
 * (ckpt_json_free).
 */
ckpt_status ckpt_tok_json_parse(ckpt_json **out, const char *json, size_t len, const char *name,
                                bool nul_escapes, ckpt_err *err);

/* A JSON tokenizer file's loader (tokenizer.json, tekken.json): *out = NULL,
 * map path and hand its bytes to parse, with path as the name in messages. */
typedef ckpt_status (*ckpt_tok_json_parser)(ckpt_tok **out, const char *json, size_t len,
                                            const char *name, ckpt_err *err);
ckpt_status ckpt_tok_json_load(ckpt_tok **out, const char *path, ckpt_tok_json_parser parse,
                               ckpt_err *err);

/* ---- the scratch of the BPE encoders (tokenizer_heap.c) ---- */

/* Make room for `need` elements of `size` bytes in *p (capacity *cap,
 * doubled from 64 as needed); false when out of memory (*p unchanged). */
bool ckpt_tok_grow(void **p, size_t *cap, size_t need, size_t size);

/* A binary heap of elements of `size` bytes; first(a, b) says a pops
 * before b.  Start with {NULL, 0, 0, size, first}; free(v) at the end. */
struct ckpt_tok_heap {
    void *v;
    size_t n, cap, size;
    bool (*first)(const void *a, const void *b);
};

/* Add a copy of *e; false when out of memory (the heap is unchanged). */
bool ckpt_tok_heap_push(struct ckpt_tok_heap *h, const void *e);
/* Remove the first element into *out (n must be > 0). */
void ckpt_tok_heap_pop(struct ckpt_tok_heap *h, void *out);

/* ---- the ids both encoders emit (tokenizer_heap.c) ---- */

/* Ids go to ids[0..cap) and are counted past cap, so that a caller whose
 * buffer was too small learns the size it needs. */
struct ckpt_tok_out {
    int32_t *ids;
    size_t cap, n;
    bool no_piece; /* text no piece covers, and no <unk> to stand for it */
};

/* Emit id; -1 (an <unk> wanted where the vocabulary has none) is never an
 * id, only remembered for ckpt_tok_out_finish. */
static inline void ckpt_tok_out_emit(struct ckpt_tok_out *o, int32_t id)
{
    if (id < 0) {
        o->no_piece = true;
        return;
    }
    if (o->n < o->cap)
        o->ids[o->n] = id;
    o->n++;
}

/*
 * End an encode whose status so far is st: EOS when eos and the vocabulary
 * asks for one, *n_ids = every id counted, then the first error of: st,
 * CKPT_E_UNSUPPORTED (some `what`, "bytes" or "characters", that no piece
 * covers), CKPT_E_RANGE (more ids than cap).
 */
ckpt_status ckpt_tok_out_finish(const ckpt_tok *t, struct ckpt_tok_out *o, bool eos, ckpt_status st,
                                const char *what, size_t *n_ids, ckpt_err *err);

/* ---- byte-level BPE (tokenizer_pretok.c, tokenizer_bpe.c) ---- */

/*
 * Compile a pre-tokenizer regex (len bytes of UTF-8, as the tokenizer file
 * gives it).  Errors: CKPT_E_RANGE (empty or longer than 64 KiB),
 * CKPT_E_FORMAT (PCRE2 refuses it; the message says why), CKPT_E_NOMEM.
 */
ckpt_status ckpt_tok_pretok_compile(struct ckpt_tok_pretok **out, const char *pattern, size_t len,
                                    const char *name, ckpt_err *err);
void ckpt_tok_pretok_free(struct ckpt_tok_pretok *p);

/* Called for each piece of a split, in order; a non-OK status stops it. */
typedef ckpt_status (*ckpt_tok_piece_fn)(void *ctx, const char *s, size_t len, ckpt_err *err);

/* Split len bytes of valid UTF-8 into the matches of the regex and the
 * stretches between them (HF's "Isolated"); empty pieces are never given.
 * Errors: the callback's, CKPT_E_RANGE (a match over its backtracking
 * budget), CKPT_E_NOMEM. */
ckpt_status ckpt_tok_pretok_split(const struct ckpt_tok_pretok *p, const char *text, size_t len,
                                  ckpt_tok_piece_fn fn, void *ctx, ckpt_err *err);

/* The pattern llama.cpp knows by this tokenizer.ggml.pre name ("tekken",
 * "gpt-2"), and the name of a pattern; NULL when unknown. */
const char *ckpt_tok_pretok_pattern(const char *name);
const char *ckpt_tok_pretok_name(const char *pattern);

/* GPT-2's byte-to-character map: the UTF-8 of the character standing for
 * byte b (1 or 2 bytes) into buf; returns its length. */
size_t ckpt_tok_bytelevel_char(unsigned b, char buf[2]);

/* Make t a byte-level BPE model: pattern (copied, compiled), ignore_merges.
 * Errors: those of ckpt_tok_pretok_compile. */
ckpt_status ckpt_tok_bytelevel_init(ckpt_tok *t, const char *pattern, size_t len,
                                    bool ignore_merges, const char *name, ckpt_err *err);

/* Append merge (a, b) -> out with the next rank.  A pair listed twice
 * keeps its last rank with keep_last (Hugging Face's BPE: its merge map is
 * filled in order, later entries replacing earlier ones), its first
 * without (llama.cpp's bpe_ranks.emplace); a replaced entry stays in the
 * table, dropped, until ckpt_tok_merges_compact.  CKPT_E_NOMEM,
 * CKPT_E_RANGE. */
ckpt_status ckpt_tok_merge_add(ckpt_tok *t, int32_t a, int32_t b, int32_t out, bool keep_last,
                               const char *name, ckpt_err *err);

/* Remove the dropped entries, renumbering the ranks (their order kept). */
ckpt_status ckpt_tok_merges_compact(ckpt_tok *t, const char *name, ckpt_err *err);

/* Byte-level BPE encode / decode behind ckpt_tok_encode / ckpt_tok_decode
 * (same contracts; tokenizer.h says what differs). */
ckpt_status ckpt_tok_bpe_encode(const ckpt_tok *t, const char *text, size_t len, unsigned flags,
                                int32_t *ids, size_t cap, size_t *n_ids, ckpt_err *err);
ckpt_status ckpt_tok_bpe_decode(const ckpt_tok *t, const int32_t *ids, size_t n, char *buf,
                                size_t cap, size_t *len, ckpt_err *err);

#endif
