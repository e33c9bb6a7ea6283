/*
 * tokenizer_spm.c - load tokenizer.model, a SentencePiece ModelProto.
 *
 * The fields read (sentencepiece_model.proto):
 *   ModelProto     { repeated SentencePiece pieces = 1; TrainerSpec trainer_spec = 2;
 *                    NormalizerSpec normalizer_spec = 3; }
 *   SentencePiece  { string piece = 1; float score = 2; Type type = 3 [default NORMAL]; }
 *   TrainerSpec    { ModelType model_type = 3 [default UNIGRAM];
 *                    bool treat_whitespace_as_suffix = 24; bool byte_fallback = 35;
 *                    int32 unk_id = 40, bos_id = 41 [1], eos_id = 42 [2], pad_id = 43 [-1]; }
 *   NormalizerSpec { string name = 1; bytes precompiled_charsmap = 2;
 *                    bool add_dummy_prefix = 3 [true]; bool remove_extra_whitespaces = 4 [true];
 *                    bool escape_whitespaces = 5 [true]; }
 * Everything else is skipped.  The unknown id is the one UNKNOWN piece, as
 * SentencePiece itself takes it.  SentencePiece writes the pieces first and
 * both specs after them, always: a file without either spec was cut short
 * (a truncation at a piece boundary parses cleanly otherwise, and would
 * leave a shorter vocabulary padded out by the converter).
 */
#include "tokenizer_impl.h"

#include <string.h>

#include "mapfile.h"
#include "protobuf.h"

struct spm_ctx {
    ckpt_tok *tok;
    const char *name;
    ckpt_err *err;
};

static ckpt_status bad(struct spm_ctx *c, const struct ckpt_rd *rd, const char *what)
{
    return ckpt_err_set(c->err, CKPT_E_FORMAT, "%s: %s at offset %llu", c->name, what,
                        (unsigned long long)ckpt_rd_pos(rd));
}

/* Read the value of a scalar field that must be a varint. */
static ckpt_status want_varint(struct spm_ctx *c, struct ckpt_rd *rd, uint32_t field, int wire,
                               const char *msg, uint64_t *v)
{
    if (wire != CKPT_PB_VARINT) {
        ckpt_err_set(c->err, CKPT_E_FORMAT,
                     "%s: %s field %u has wire type %d, not varint at offset %llu", c->name, msg,
                     field, wire, (unsigned long long)ckpt_rd_pos(rd));
        return CKPT_E_FORMAT;
    }
    if (!ckpt_pb_varint(rd, v))
        return bad(c, rd, "truncated or overlong varint");
    return CKPT_OK;
}

static ckpt_status want_len(struct spm_ctx *c, struct ckpt_rd *rd, uint32_t field, int wire,
                            const char *msg, struct ckpt_rd *sub)
{
    if (wire != CKPT_PB_LEN) {
        ckpt_err_set(c->err, CKPT_E_FORMAT,
                     "%s: %s field %u has wire type %d, not length-delimited at offset %llu",
                     c->name, msg, field, wire, (unsigned long long)ckpt_rd_pos(rd));
        return CKPT_E_FORMAT;
    }
    if (!ckpt_pb_len(rd, sub))
        return bad(c, rd, "length past the end of its message");
    return CKPT_OK;
}

static ckpt_status next_key(struct spm_ctx *c, struct ckpt_rd *rd, uint32_t *field, int *wire)
{
    if (!ckpt_pb_key(rd, field, wire))
        return bad(c, rd, "bad field key");
    return CKPT_OK;
}

static ckpt_status skip(struct spm_ctx *c, struct ckpt_rd *rd, uint32_t field, int wire)
{
    if (!ckpt_pb_skip(rd, field, wire))
        return bad(c, rd, "truncated or malformed field");
    return CKPT_OK;
}

static ckpt_status parse_piece(struct spm_ctx *c, struct ckpt_rd *rd)
{
    const uint8_t *text = NULL;
    size_t len = 0;
    float score = 0.0f;
    uint64_t type = CKPT_TOK_NORMAL;
    uint64_t at = ckpt_rd_pos(rd);
    ckpt_status st = CKPT_OK;
    while (st == CKPT_OK && ckpt_rd_left(rd)) {
        uint32_t f;
        int w;
        struct ckpt_rd sub;
        uint32_t bits;
        if ((st = next_key(c, rd, &f, &w)))
            break;
        switch (f) {
        case 1:
            if ((st = want_len(c, rd, f, w, "piece", &sub)) == CKPT_OK) {
                text = sub.p;
                len = ckpt_rd_left(&sub);
            }
            break;
        case 2:
            if (w != CKPT_PB_FIXED32)
                st = bad(c, rd, "piece score is not a fixed32 float");
            else if (!ckpt_pb_fixed32(rd, &bits))
                st = bad(c, rd, "truncated piece score");
            else
                memcpy(&score, &bits, sizeof score);
            break;
        case 3: st = want_varint(c, rd, f, w, "piece", &type); break;
        default: st = skip(c, rd, f, w); break;
        }
    }
    if (st)
        return st;
    if (!text || len == 0)
        return ckpt_err_set(c->err, CKPT_E_FORMAT, "%s: piece %u at offset %llu is empty", c->name,
                            c->tok->n, (unsigned long long)at);
    if (type < CKPT_TOK_NORMAL || type > CKPT_TOK_BYTE)
        return ckpt_err_set(c->err, CKPT_E_FORMAT, "%s: piece %u has type %llu, not 1..6", c->name,
                            c->tok->n, (unsigned long long)type);
    if (type == CKPT_TOK_UNKNOWN) {
        if (c->tok->unk >= 0)
            return ckpt_err_set(c->err, CKPT_E_FORMAT, "%s: pieces %d and %u are both <unk>",
                                c->name, c->tok->unk, c->tok->n);
        c->tok->unk = (int32_t)c->tok->n;
    }
    st = ckpt_tok_build_add(c->tok, text, len, score, (int)type, c->name, c->err);
    if (st == CKPT_OK)
        c->tok->pc[c->tok->n - 1].merge = 1; /* SentencePiece merges into any piece */
    return st;
}

/* int32 fields travel as 64-bit two's complement varints. */
static int32_t as_int32(uint64_t v) { return (int32_t)(uint32_t)v; }

static ckpt_status parse_trainer(struct spm_ctx *c, struct ckpt_rd *rd, int32_t ids[3])
{
    ckpt_tok *t = c->tok;
    ckpt_status st = CKPT_OK;
    while (st == CKPT_OK && ckpt_rd_left(rd)) {
        uint32_t f;
        int w;
        uint64_t v;
        if ((st = next_key(c, rd, &f, &w)))
            break;
        switch (f) {
        case 3:
        case 24:
        case 35:
        case 41:
        case 42:
        case 43:
            if ((st = want_varint(c, rd, f, w, "trainer_spec", &v)))
                break;
            if (f == 3)
                t->model_type = (int)(v > 100 ? 100 : v);
            else if (f == 24)
                t->ws_as_suffix = v != 0;
            else if (f == 35)
                t->byte_fallback = v != 0;
            else
                ids[f - 41] = as_int32(v);
            break;
        default: st = skip(c, rd, f, w); break;
        }
    }
    return st;
}

static ckpt_status parse_normalizer(struct spm_ctx *c, struct ckpt_rd *rd)
{
    ckpt_tok *t = c->tok;
    ckpt_status st = CKPT_OK;
    while (st == CKPT_OK && ckpt_rd_left(rd)) {
        uint32_t f;
        int w;
        uint64_t v;
        struct ckpt_rd sub;
        if ((st = next_key(c, rd, &f, &w)))
            break;
        switch (f) {
        case 2:
            /* precompiled rules (nmt_nfkc and friends); empty means identity */
            if ((st = want_len(c, rd, f, w, "normalizer_spec", &sub)) == CKPT_OK)
                t->identity = ckpt_rd_left(&sub) == 0;
            break;
        case 3:
        case 4:
        case 5:
            if ((st = want_varint(c, rd, f, w, "normalizer_spec", &v)))
                break;
            if (f == 3)
                t->add_dummy_prefix = v != 0;
            else if (f == 4)
                t->remove_extra_ws = v != 0;
            else
                t->escape_ws = v != 0;
            break;
        default: st = skip(c, rd, f, w); break;
        }
    }
    return st;
}

ckpt_status ckpt_tok_parse_spm(ckpt_tok **out, const void *data, size_t size, const char *name,
                               ckpt_err *err)
{
    *out = NULL;
    struct spm_ctx c = {ckpt_tok_build_new(CKPT_TOK_SRC_SPM), name, err};
    if (!c.tok)
        return ckpt_err_set(err, CKPT_E_NOMEM, "%s: out of memory", name);
    int32_t ids[3] = {1, 2, -1}; /* bos, eos, pad: the proto defaults */
    bool seen[4] = {false};      /* by field number: pieces, trainer_spec, normalizer_spec */
    struct ckpt_rd rd;
    ckpt_rd_init(&rd, data, size);
    ckpt_status st = CKPT_OK;
    while (st == CKPT_OK && ckpt_rd_left(&rd)) {
        uint32_t f;
        int w;
        struct ckpt_rd sub;
        if ((st = next_key(&c, &rd, &f, &w)))
            break;
        if (f < 4)
            seen[f] = true;
        switch (f) {
        case 1:
            if ((st = want_len(&c, &rd, f, w, "model", &sub)) == CKPT_OK)
                st = parse_piece(&c, &sub);
            break;
        case 2:
            if ((st = want_len(&c, &rd, f, w, "model", &sub)) == CKPT_OK)
                st = parse_trainer(&c, &sub, ids);
            break;
        case 3:
            if ((st = want_len(&c, &rd, f, w, "model", &sub)) == CKPT_OK)
                st = parse_normalizer(&c, &sub);
            break;
        default: st = skip(&c, &rd, f, w); break;
        }
    }
    if (st == CKPT_OK && c.tok->n == 0)
        st = ckpt_err_set(err, CKPT_E_FORMAT, "%s: no pieces (not a SentencePiece model?)", name);
    if (st == CKPT_OK && c.tok->unk < 0)
        st = ckpt_err_set(err, CKPT_E_FORMAT, "%s: no <unk> piece", name);
    if (st == CKPT_OK) {
        /* -1 means "none"; an id past the end is an error in _finish */
        c.tok->bos = ids[0] < 0 ? -1 : ids[0];
        c.tok->eos = ids[1] < 0 ? -1 : ids[1];
        c.tok->pad = ids[2] < 0 ? -1 : ids[2];
        st = ckpt_tok_build_finish(c.tok, name, err);
    }
    if (st == CKPT_OK && (!seen[2] || !seen[3]))
        st = ckpt_err_set(err, CKPT_E_FORMAT,
                          "%s: no %s after %u pieces (the file is truncated; download it again)",
                          name, !seen[2] ? "trainer_spec" : "normalizer_spec", ckpt_tok_n_vocab(c.tok));

    if (st) {
        ckpt_tok_free(c.tok);
        return st;
    }
    *out = c.tok;
    return CKPT_OK;
}

ckpt_status ckpt_tok_load_spm(ckpt_tok **out, const char *path, ckpt_err *err)
{
    *out = NULL;
    ckpt_map *m;
    ckpt_status st = ckpt_map_open(&m, path, err);
    if (st)
        return st;
    st = ckpt_tok_parse_spm(out, m->data, m->size, path, err);
    ckpt_map_close(m);
    return st;
}
