/*
 * tokenizer.h - the vocabulary of a Mistral/Mixtral checkpoint, and its
 * encoding and decoding: SentencePiece-style BPE with byte fallback (kind
 * CKPT_TOK_KIND_SPM), or byte-level BPE as Tekken and GPT-2 do it (kind
 * CKPT_TOK_KIND_BYTE_BPE: a regex pre-tokenizer, merges by rank over GPT-2's
 * byte alphabet, Hugging Face's added-token rules).
 *
 * One in-memory model, ckpt_tok, loaded from tokenizer.model (SentencePiece
 * ModelProto) or from tokenizer.json (Hugging Face tokenizers), then refined
 * by tokenizer_config.json.  It holds what the GGUF converter writes as
 * tokenizer.ggml.* (pieces, scores, token types, special ids, add_bos/eos,
 * chat template) and what encoding needs.  After ckpt_tok_apply_config the
 * pieces, scores and types are exactly llama.cpp's converter's arrays for a
 * tokenizer.model source.  For a tokenizer.json source the scores are
 * derived from the merge ranks (see tokenizer_json.c), which for a
 * SentencePiece-made tokenizer.json reproduces the SentencePiece scores.
 */
#ifndef CKPT_FORMATS_TOKENIZER_H
#define CKPT_FORMATS_TOKENIZER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../kernels/err.h"

typedef struct ckpt_tok ckpt_tok;

/* Token types: the values of GGUF's tokenizer.ggml.token_type and of
 * SentencePiece's ModelProto.SentencePiece.Type. */
enum ckpt_tok_type {
    CKPT_TOK_NORMAL = 1,
    CKPT_TOK_UNKNOWN = 2,
    CKPT_TOK_CONTROL = 3,
    CKPT_TOK_USER_DEFINED = 4,
    CKPT_TOK_UNUSED = 5,
    CKPT_TOK_BYTE = 6,
};

/* Where the vocabulary came from. */
enum ckpt_tok_source {
    CKPT_TOK_SRC_SPM = 1,     /* tokenizer.model */
    CKPT_TOK_SRC_HF_JSON = 2, /* tokenizer.json */
    CKPT_TOK_SRC_GGUF = 3,    /* a GGUF's tokenizer.ggml.* arrays */
    CKPT_TOK_SRC_TEKKEN = 4,  /* Mistral's tekken.json */
};

/* How text becomes ids. */
enum ckpt_tok_kind {
    CKPT_TOK_KIND_SPM = 1,      /* SentencePiece BPE: U+2581 for spaces, best score first */
    CKPT_TOK_KIND_BYTE_BPE = 2, /* byte-level BPE: regex pieces, GPT-2 bytes, lowest merge rank */
};

/* Encode flags. */
enum {
    CKPT_TOK_ADD_SPECIAL = 1u << 0,   /* prepend BOS / append EOS as add_bos/add_eos say */
    CKPT_TOK_PARSE_SPECIAL = 1u << 1, /* text of control, unknown and user-defined pieces
                                         (e.g. "<s>") becomes their ids */
};

/* ---- loading ---- */

/*
 * Load tokenizer.model (a SentencePiece ModelProto).  Any model type loads
 * (the converter only needs the arrays); encoding needs BPE.  The caller
 * owns *out (ckpt_tok_free).  Errors: CKPT_E_IO, CKPT_E_FORMAT (malformed
 * protobuf, bad piece type, duplicate or empty piece, missing <unk>),
 * CKPT_E_RANGE, CKPT_E_NOMEM.
 */
ckpt_status ckpt_tok_load_spm(ckpt_tok **out, const char *path, ckpt_err *err);

/* Same from bytes in memory; `name` is used in messages.  Nothing is borrowed. */
ckpt_status ckpt_tok_parse_spm(ckpt_tok **out, const void *data, size_t size, const char *name,
                               ckpt_err *err);

/*
 * Load tokenizer.json: model.type "BPE" with vocab and merges, byte_fallback,
 * added_tokens, and a normalizer / pre-tokenizer that amounts to
 * SentencePiece's (Prepend "▁" + Replace " " -> "▁", or Metaspace without
 * split).  Scores are derived from the merge ranks.  Or a byte-level BPE
 * (kind CKPT_TOK_KIND_BYTE_BPE): no normalizer, pre_tokenizer
 * Sequence[Split(Regex, Isolated, invert false), ByteLevel(add_prefix_space
 * false, use_regex false)] (Tekken) or ByteLevel(add_prefix_space false,
 * use_regex true) (GPT-2's pattern), BPE without byte_fallback, with or
 * without ignore_merges, decoder ByteLevel; added tokens keep their lstrip
 * and rstrip (single_word is refused: Hugging Face's Rust and JavaScript
 * implementations disagree on it).  Errors as above, plus
 * CKPT_E_UNSUPPORTED for other models, normalizers and pre-tokenizers.
 */
ckpt_status ckpt_tok_load_hf_json(ckpt_tok **out, const char *path, ckpt_err *err);
ckpt_status ckpt_tok_parse_hf_json(ckpt_tok **out, const char *json, size_t len, const char *name,
                                   ckpt_err *err);

/*
 * Load Mistral's tekken.json (mistral_common's Tekkenizer): config.pattern,
 * default_vocab_size, default_num_special_tokens; special_tokens [{rank,
 * token_str, is_control}] at ids 0..num_special-1 (missing ranks filled
 * with "<SPECIAL_N>", and the 20 of mistral_common's list when the file has
 * none, as versions up to v7 allow); vocab [{rank, token_bytes (base64),
 * token_str}] cut to default_vocab_size - num_special entries, entry r at
 * id num_special + r, the first 256 being the single bytes.  Merges are
 * derived from the ranks as llama.cpp's converter and transformers do
 * (MistralVocab.extract_vocab_merges_from_model): for each piece of rank
 * r >= 256, every split into two pieces of the vocabulary, ordered by the
 * ranks of the halves, all ordered by r.  BOS is <s>, EOS </s>, UNK <unk>;
 * add_bos yes, add_eos no.  Errors: CKPT_E_IO, CKPT_E_FORMAT (bad JSON,
 * ranks out of order, bad base64, duplicate pieces, a piece no merge
 * makes), CKPT_E_RANGE, CKPT_E_UNSUPPORTED (an unknown version), CKPT_E_NOMEM.
 */
ckpt_status ckpt_tok_load_tekken(ckpt_tok **out, const char *path, ckpt_err *err);
ckpt_status ckpt_tok_parse_tekken(ckpt_tok **out, const char *json, size_t len, const char *name,
                                  ckpt_err *err);

/*
 * Apply tokenizer_config.json the way llama.cpp's converter does:
 * add_bos_token / add_eos_token, bos/eos/unk/pad_token (a string or an
 * object with "content") looked up among the pieces, chat_template (a string,
 * or the entry named "default" of a list), and added_tokens_decoder: each
 * listed id gets its content as piece, score -1000, and type CONTROL when
 * "special" is true or the text looks special (<|...|>, <pad>, <mask>, ...),
 * USER_DEFINED otherwise.  Ids past the end extend the vocabulary (gaps are
 * filled with "[PAD<id>]", score -10000, UNUSED, as the converter pads).
 * On error tok may be partly updated.  Errors: CKPT_E_IO, CKPT_E_FORMAT,
 * CKPT_E_RANGE (an id more than 2^20 past the end), CKPT_E_NOMEM.
 */
ckpt_status ckpt_tok_apply_config(ckpt_tok *tok, const char *path, ckpt_err *err);
ckpt_status ckpt_tok_parse_config(ckpt_tok *tok, const char *json, size_t len, const char *name,
                                  ckpt_err *err);

/*
 * Load the tokenizer of a Hugging Face model directory: tokenizer.model when
 * present (as llama.cpp's converter prefers it), tokenizer.json otherwise,
 * then tokenizer_config.json when present; in Mistral's layout,
 * tokenizer.model.v3 or tekken.json.  Errors: as the loaders, and
 * CKPT_E_IO when neither tokenizer file exists.
 */
ckpt_status ckpt_tok_load_dir(ckpt_tok **out, const char *dir, ckpt_err *err);

/*
 * Load the vocabulary a GGUF carries (tokenizer.ggml.model "llama", i.e.
 * SentencePiece BPE; or "gpt2", byte-level BPE with tokenizer.ggml.merges
 * and tokenizer.ggml.pre "tekken" (ignore_merges, as llama.cpp sets it) or
 * "gpt-2" (GPT-2's pattern)): tokens, scores, token_type, the bos/eos/unknown/
 * padding ids, add_bos_token / add_eos_token (llama.cpp's defaults when
 * absent: BOS yes, EOS no), add_space_prefix (default true) and
 * chat_template.  Encoding then follows the scores as stored, which is
 * what llama.cpp does with the same file: for a vocabulary converted from
 * tokenizer.json the converter writes a flat -1000 and merges become
 * leftmost-first.  ckpt_tok_from_gguf borrows nothing from g.  Errors:
 * CKPT_E_FORMAT (missing or mistyped arrays, lengths that differ, a bad
 * token type or id), CKPT_E_UNSUPPORTED (another tokenizer model),
 * CKPT_E_NOMEM, and for _load_gguf those of ckpt_gguf_open.
 */
struct ckpt_gguf;
ckpt_status ckpt_tok_from_gguf(ckpt_tok **out, const struct ckpt_gguf *g, ckpt_err *err);
ckpt_status ckpt_tok_load_gguf(ckpt_tok **out, const char *path, ckpt_err *err);

/*
 * Load a tokenizer from a path of any kind, told by its bytes: a model
 * directory (ckpt_tok_load_dir), a GGUF file (vocab-only ones too), a
 * tokenizer.json or a SentencePiece tokenizer.model; for the weights or
 * config.json of a model directory, that directory.  Another kind of file
 * (a bundle, a key, text) is CKPT_E_FORMAT naming what it is.
 */
ckpt_status ckpt_tok_load_any(ckpt_tok **out, const char *path, ckpt_err *err);

/* Free a model; NULL is fine. */
void ckpt_tok_free(ckpt_tok *tok);

/* ---- the vocabulary (all borrowed, valid until ckpt_tok_free) ---- */

uint32_t ckpt_tok_n_vocab(const ckpt_tok *tok);
/* Piece bytes of id (NUL-terminated; *len, if not NULL, gets the length
 * without the NUL, since a piece may hold NUL bytes).  NULL for a bad id. */
const char *ckpt_tok_piece(const ckpt_tok *tok, uint32_t id, size_t *len);
/* Score and type of id; 0 / 0 for a bad id. */
float ckpt_tok_score(const ckpt_tok *tok, uint32_t id);
int ckpt_tok_type(const ckpt_tok *tok, uint32_t id);
/* Id of the piece with exactly these bytes, or -1. */
int32_t ckpt_tok_find(const ckpt_tok *tok, const char *piece, size_t len);

/* Special ids, -1 when the model has none. */
int32_t ckpt_tok_bos_id(const ckpt_tok *tok);
int32_t ckpt_tok_eos_id(const ckpt_tok *tok);
int32_t ckpt_tok_unk_id(const ckpt_tok *tok);
int32_t ckpt_tok_pad_id(const ckpt_tok *tok);
bool ckpt_tok_add_bos(const ckpt_tok *tok);
bool ckpt_tok_add_eos(const ckpt_tok *tok);
/* The chat template of tokenizer_config.json, or NULL. */
const char *ckpt_tok_chat_template(const ckpt_tok *tok);
enum ckpt_tok_source ckpt_tok_source(const ckpt_tok *tok);
enum ckpt_tok_kind ckpt_tok_kind(const ckpt_tok *tok);
/* Byte-level BPE: tokenizer.ggml.pre for the model's regex ("tekken",
 * "gpt-2"), or NULL for a pattern llama.cpp has no name for. */
const char *ckpt_tok_pre_name(const ckpt_tok *tok);
/* Byte-level BPE: the merges by rank (0 for other kinds); merge i as its
 * two piece ids.  false for a bad index. */
uint32_t ckpt_tok_n_merges(const ckpt_tok *tok);
bool ckpt_tok_merge(const ckpt_tok *tok, uint32_t i, int32_t *a, int32_t *b);
bool ckpt_tok_byte_fallback(const ckpt_tok *tok);
bool ckpt_tok_add_dummy_prefix(const ckpt_tok *tok);

/* ---- encoding and decoding ---- */

/* Most ids encoding `len` bytes of text can give (3 per byte + prefix, BOS,
 * EOS); SIZE_MAX if that does not fit a size_t. */
size_t ckpt_tok_encode_max(size_t len);

/*
 * Encode len bytes of text (any bytes; invalid UTF-8 becomes U+FFFD as in
 * SentencePiece) into at most cap ids.  *n_ids gets the number of ids the
 * text needs, also when they do not fit (then CKPT_E_RANGE).  SentencePiece
 * BPE: ' ' becomes U+2581, a dummy "▁" is prepended when the model says so
 * (after each special token too, when PARSE_SPECIAL splits the text),
 * characters are merged greedily by the best score of the merged piece
 * (leftmost on ties), and characters outside the vocabulary become <0xNN>
 * byte pieces (or <unk> without byte fallback).  Errors: CKPT_E_RANGE,
 * CKPT_E_UNSUPPORTED (not a BPE model, or a normalization other than
 * identity), CKPT_E_NOMEM.
 *
 * Byte-level BPE follows Hugging Face tokenizers instead: invalid UTF-8 is
 * first replaced by U+FFFD, one per maximal ill-formed subsequence (the
 * WHATWG/Unicode "substitution of maximal subparts": what JavaScript's
 * TextDecoder does to bytes before @huggingface/tokenizers sees a string;
 * Rust's tokenizers take only valid UTF-8 (&str), and Python callers get
 * there with bytes.decode(errors="replace"), which replaces the same way).
 * Then added tokens are cut out of the text, leftmost and longest first:
 * non-special ones (USER_DEFINED) always, as HF does, and control ones only
 * with PARSE_SPECIAL (HF's default; without it they are plain text, so a
 * control id never comes out of text, as with mistral_common); lstrip /
 * rstrip swallow the White_Space next to a match.  Each stretch between
 * them is split by the regex, each piece is mapped to GPT-2's byte
 * characters and, unless ignore_merges finds it whole among the normal
 * pieces, merged pair by pair, lowest merge rank first (leftmost on ties).
 */
ckpt_status ckpt_tok_encode(const ckpt_tok *tok, const char *text, size_t len, unsigned flags,
                            int32_t *ids, size_t cap, size_t *n_ids, ckpt_err *err);

/*
 * Decode ids to text into buf (cap bytes; a NUL follows when there is room).
 * *len gets the number of bytes the text needs, also when they do not fit
 * (then CKPT_E_RANGE).  "▁" becomes ' ', <0xNN> pieces become raw bytes,
 * control pieces (BOS, EOS) vanish, <unk> becomes " ⁇ " (SentencePiece's
 * surface), and the leading space of the first piece is dropped when the
 * model adds a dummy prefix.  Byte-level BPE: control pieces vanish too
 * (HF's skip_special_tokens), every other piece gives the bytes its GPT-2
 * characters stand for (a piece with a character outside that alphabet,
 * such as an added token, gives its own UTF-8, as HF's ByteLevel decoder
 * does).  The bytes are returned as they are, also when they are not valid
 * UTF-8 (a cut multi-byte character); HF would show U+FFFD there.
 * Errors: CKPT_E_RANGE (bad id or buffer).
 */
ckpt_status ckpt_tok_decode(const ckpt_tok *tok, const int32_t *ids, size_t n, char *buf,
                            size_t cap, size_t *len, ckpt_err *err);

/* Most JSON values a tokenizer.json or tokenizer_config.json may hold
 * (see ckpt_tok_json_parse): a bound on the memory a hostile file costs. */
#define CKPT_TOK_JSON_MAX_VALUES ((size_t)4 << 20)

#endif
