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
};

struct ckpt_tok {
    enum ckpt_tok_source source;
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

    /* derived by ckpt_tok_build_finish */
    int32_t byte_id[256];      /* id of <0xNN>, or -1 */
    int32_t *user;             /* USER_DEFINED ids (n_user) */
    uint32_t n_user;
    int32_t *special;          /* CONTROL/UNKNOWN/USER_DEFINED ids, longest first (n_special) */
    uint32_t n_special;
    bool special_first[256];   /* some special piece starts with this byte */
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
 * published tokenizer.json files (Llama 3, Qwen 2) hold about 1.3 M values.
 * Errors: CKPT_E_FORMAT ("not valid JSON"), CKPT_E_RANGE (more than
 * CKPT_TOK_JSON_MAX_VALUES values), CKPT_E_NOMEM.  The caller owns *out
 * (ckpt_json_free).
 */
ckpt_status ckpt_tok_json_parse(ckpt_json **out, const char *json, size_t len, const char *name,
                                ckpt_err *err);

#endif
