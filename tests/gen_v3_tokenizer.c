/*
 * gen_v3_tokenizer.c - a Mistral "v3" SentencePiece model directory made
 * from a Hugging Face Mistral / Mixtral directory with a v1-style
 * tokenizer, as a fixture for control tokens: the vocabulary of Mistral 7B
 * v0.3 (and Mixtral 8x22B, Codestral 22B) keeps v0.1's pieces after 768
 * low ids,
 *
 *   0 <unk>  1 <s>  2 </s>
 *   3 [INST]  4 [/INST]  5 [TOOL_CALLS]  6 [AVAILABLE_TOOLS]
 *   7 [/AVAILABLE_TOOLS]  8 [TOOL_RESULTS]  9 [/TOOL_RESULTS]
 *   10 [control_8] ... 767 [control_765]       (the id less 2)
 *   768 <0x00> ...                              (the old id 3 on)
 *
 * and this writes the same shift into every file, as Hugging Face ships
 * such a model:
 *
 *   tokenizer.model        the ModelProto with 765 CONTROL pieces (score 0)
 *                          inserted after </s>, every other byte as it was
 *   tokenizer.json         vocab ids shifted, the control pieces added to the
 *                          BPE vocab and to added_tokens (special, not
 *                          normalized); merges unchanged
 *   tokenizer_config.json  added_tokens_decoder for all 768 low ids
 *   config.json            vocab_size + 765
 *   model.safetensors      embed_tokens and lm_head with 765 new rows at
 *                          3..767 (deterministic, small), the old rows
 *                          after them; every other tensor unchanged
 *
 * so the model computes what it computed before on text without control
 * tokens.  Other files are copied.  Deterministic.
 *
 *   gen_v3_tokenizer HF_DIR OUT_DIR          Exit 0, or 2 with a message.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "formats/mapfile.h"
#include "formats/protobuf.h"
#include "formats/safetensors.h"
#include "kernels/fp16.h"

#define FIRST 3    /* first control id */
#define N_CTRL 765 /* ids 3..767 */

static const char *const named[] = {"[INST]",          "[/INST]",       "[TOOL_CALLS]",
                                    "[AVAILABLE_TOOLS]", "[/AVAILABLE_TOOLS]", "[TOOL_RESULTS]",
                                    "[/TOOL_RESULTS]"};

static int die(const char *what)
{
    fprintf(stderr, "gen_v3_tokenizer: %s\n", what);
    return 2;
}

/* The piece of control id (3..767). */
static void control(int id, char *buf, size_t n)
{
    if (id - FIRST < (int)(sizeof named / sizeof named[0]))
        snprintf(buf, n, "%s", named[id - FIRST]);
    else
        snprintf(buf, n, "[control_%d]", id - 2);
}

/* A whole file, NUL-terminated (through the library's bounded reader). */
static char *slurp(const char *path, size_t *n)
{
    ckpt_map *m = NULL;
    if (ckpt_map_open(&m, path, NULL) != CKPT_OK)
        return NULL;
    char *buf = malloc(m->size + 1);
    if (buf) {
        if (m->size)
            memcpy(buf, m->data, m->size);
        buf[m->size] = 0;
        *n = m->size;
    }
    ckpt_map_close(m);
    return buf;
}

static int spit(const char *path, const void *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    int ok = f && fwrite(p, 1, n, f) == n;
    ok = (f && fclose(f) == 0) && ok;
    return ok ? 0 : die(path);
}

static char *join(const char *dir, const char *name)
{
    static char buf[2][4096];
    static int k;
    k ^= 1;
    snprintf(buf[k], sizeof buf[k], "%s/%s", dir, name);
    return buf[k];
}

/* ---- tokenizer.model ---- */

static size_t put_varint(uint8_t *b, uint64_t v)
{
    size_t n = 0;
    do {
        b[n++] = (uint8_t)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
        v >>= 7;
    } while (v);
    return n;
}

/* One SentencePiece message { piece = 1; score = 2; type = 3 (CONTROL) }
 * as field 1 of the ModelProto. */
static size_t control_piece(uint8_t *b, const char *piece)
{
    uint8_t m[64];
    size_t len = strlen(piece), n = 0;
    m[n++] = 0x0a; /* field 1, length-delimited */
    n += put_varint(m + n, len);
    memcpy(m + n, piece, len);
    n += len;
    m[n++] = 0x15; /* field 2, fixed32: score 0 */
    memset(m + n, 0, 4);
    n += 4;
    m[n++] = 0x18; /* field 3, varint */
    m[n++] = 3;    /* CONTROL */
    size_t o = 0;
    b[o++] = 0x0a; /* ModelProto field 1 */
    o += put_varint(b + o, n);
    memcpy(b + o, m, n);
    return o + n;
}

static int write_model(const char *in, const char *out)
{
    size_t n;
    uint8_t *src = (uint8_t *)slurp(in, &n);
    if (!src)
        return die("cannot read tokenizer.model");
    uint8_t *dst = malloc(n + (size_t)N_CTRL * 64);
    struct ckpt_rd rd;
    ckpt_rd_init(&rd, src, n);
    size_t o = 0, pieces = 0;
    while (dst && ckpt_rd_left(&rd) > 0) {
        size_t at = ckpt_rd_pos(&rd);
        uint32_t field;
        int wire;
        if (!ckpt_pb_key(&rd, &field, &wire) || !ckpt_pb_skip(&rd, field, wire))
            return die("tokenizer.model: not a ModelProto");
        memcpy(dst + o, src + at, ckpt_rd_pos(&rd) - at);
        o += ckpt_rd_pos(&rd) - at;
        if (field == 1 && ++pieces == FIRST)
            for (int id = FIRST; id < FIRST + N_CTRL; id++) {
                char p[32];
                control(id, p, sizeof p);
                o += control_piece(dst + o, p);
            }
    }
    int rc = dst && pieces > FIRST ? spit(out, dst, o) : die("tokenizer.model: too few pieces");
    free(src);
    free(dst);
    return rc;
}

/* ---- tokenizer.json, tokenizer_config.json, config.json ---- */

static cJSON *read_json(const char *path)
{
    size_t n;
    char *t = slurp(path, &n);
    cJSON *j = t ? cJSON_ParseWithLength(t, n) : NULL;
    free(t);
    return j;
}

static int write_json(const char *path, const cJSON *j)
{
    char *t = cJSON_Print(j);
    int rc = t ? spit(path, t, strlen(t)) : die("out of memory");
    free(t);
    return rc;
}

static cJSON *added_token(int id, const char *content, bool with_id)
{
    cJSON *a = cJSON_CreateObject();
    if (with_id)
        cJSON_AddNumberToObject(a, "id", id);
    cJSON_AddStringToObject(a, "content", content);
    cJSON_AddBoolToObject(a, "single_word", false);
    cJSON_AddBoolToObject(a, "lstrip", false);
    cJSON_AddBoolToObject(a, "rstrip", false);
    cJSON_AddBoolToObject(a, "normalized", false);
    cJSON_AddBoolToObject(a, "special", true);
    return a;
}

static int write_tokenizer_json(const char *in, const char *out)
{
    cJSON *j = read_json(in);
    cJSON *model = j ? cJSON_GetObjectItemCaseSensitive(j, "model") : NULL;
    cJSON *vocab = model ? cJSON_GetObjectItemCaseSensitive(model, "vocab") : NULL;
    cJSON *added = j ? cJSON_GetObjectItemCaseSensitive(j, "added_tokens") : NULL;
    if (!cJSON_IsObject(vocab) || !cJSON_IsArray(added))
        return die("tokenizer.json: no BPE vocab or added_tokens");
    cJSON *e;
    cJSON_ArrayForEach(e, vocab)
        if (e->valuedouble >= FIRST)
            cJSON_SetNumberValue(e, e->valuedouble + N_CTRL);
    cJSON_ArrayForEach(e, added) {
        cJSON *id = cJSON_GetObjectItemCaseSensitive(e, "id");
        if (cJSON_IsNumber(id) && id->valuedouble >= FIRST)
            cJSON_SetNumberValue(id, id->valuedouble + N_CTRL);
    }
    for (int id = FIRST; id < FIRST + N_CTRL; id++) {
        char p[32];
        control(id, p, sizeof p);
        cJSON_AddNumberToObject(vocab, p, id);
        cJSON_AddItemToArray(added, added_token(id, p, true));
    }
    int rc = write_json(out, j);
    cJSON_Delete(j);
    return rc;
}

static int write_tokenizer_config(const char *in, const char *out)
{
    cJSON *j = read_json(in);
    cJSON *dec = j ? cJSON_GetObjectItemCaseSensitive(j, "added_tokens_decoder") : NULL;
    if (!cJSON_IsObject(dec))
        return die("tokenizer_config.json: no added_tokens_decoder");
    for (int id = FIRST; id < FIRST + N_CTRL; id++) {
        char p[32], key[16];
        control(id, p, sizeof p);
        snprintf(key, sizeof key, "%d", id);
        cJSON_AddItemToObject(dec, key, added_token(id, p, false));
    }
    int rc = write_json(out, j);
    cJSON_Delete(j);
    return rc;
}

static int write_config(const char *in, const char *out)
{
    cJSON *j = read_json(in);
    cJSON *v = j ? cJSON_GetObjectItemCaseSensitive(j, "vocab_size") : NULL;
    if (!cJSON_IsNumber(v))
        return die("config.json: no vocab_size");
    cJSON_SetNumberValue(v, v->valuedouble + N_CTRL);
    int rc = write_json(out, j);
    cJSON_Delete(j);
    return rc;
}

/* ---- model.safetensors ---- */

static bool vocab_rows(const char *name)
{
    return strcmp(name, "model.embed_tokens.weight") == 0 || strcmp(name, "lm_head.weight") == 0;
}

/* Row r of the new rows: small values from a fixed LCG, stored as t's dtype. */
static int new_rows(ckpt_st_writer *w, const struct ckpt_st_tensor *t, ckpt_err *err)
{
    uint64_t cols = t->shape[1];
    uint32_t x = 12345u;
    for (uint64_t k = 0; k < (uint64_t)N_CTRL * cols; k++) {
        x = x * 1664525u + 1013904223u;
        float f = ((float)(x >> 8) / 16777216.0f - 0.5f) * 0.05f;
        uint16_t h = t->dtype == CKPT_DT_BF16 ? ckpt_f32_to_bf16(f) : ckpt_f32_to_f16(f);
        if (t->dtype == CKPT_DT_F32 ? ckpt_st_writer_write(w, &f, 4, err)
                                    : ckpt_st_writer_write(w, &h, 2, err))
            return die(err->msg);
    }
    return 0;
}

static int write_weights(const char *in, const char *out)
{
    ckpt_err err = {0};
    ckpt_st *st = NULL;
    ckpt_st_writer *w = NULL;
    if (ckpt_st_open(&st, in, NULL, &err) != CKPT_OK ||
        ckpt_st_writer_new(&w, out, true, &err) != CKPT_OK)
        return die(err.msg);
    for (size_t i = 0; i < ckpt_st_n_metadata(st); i++) {
        const char *k, *v;
        ckpt_st_metadata(st, i, &k, &v);
        if (ckpt_st_writer_add_metadata(w, k, v, &err) != CKPT_OK)
            return die(err.msg);
    }
    size_t nt = ckpt_st_n_tensors(st);
    for (size_t i = 0; i < nt; i++) {
        const struct ckpt_st_tensor *t = ckpt_st_tensor(st, i);
        uint64_t shape[CKPT_ST_MAX_DIMS];
        memcpy(shape, t->shape, sizeof shape);
        if (vocab_rows(t->name)) {
            if (t->n_dims != 2 || shape[0] < FIRST)
                return die("embedding is not a matrix");
            shape[0] += N_CTRL;
        }
        if (ckpt_st_writer_add_tensor(w, t->name, t->dtype, t->n_dims, shape, &err) != CKPT_OK)
            return die(err.msg);
    }
    if (ckpt_st_writer_begin(w, &err) != CKPT_OK)
        return die(err.msg);
    for (size_t i = 0; i < nt; i++) {
        const struct ckpt_st_tensor *t = ckpt_st_tensor(st, i);
        size_t bytes = (size_t)(t->end - t->begin);
        if (!vocab_rows(t->name)) {
            if (ckpt_st_writer_write(w, t->data, bytes, &err) != CKPT_OK)
                return die(err.msg);
            continue;
        }
        size_t row = bytes / (size_t)t->shape[0];
        if (ckpt_st_writer_write(w, t->data, FIRST * row, &err) != CKPT_OK || new_rows(w, t, &err) ||
            ckpt_st_writer_write(w, t->data + FIRST * row, bytes - FIRST * row, &err) != CKPT_OK)
            return die(err.msg[0] ? err.msg : "write");
    }
    if (ckpt_st_writer_finish(w, &err) != CKPT_OK)
        return die(err.msg);
    ckpt_st_close(st);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 3)
        return die("usage: gen_v3_tokenizer HF_DIR OUT_DIR");
    const char *in = argv[1], *out = argv[2];
    static const char *const copied[] = {"generation_config.json", "special_tokens_map.json"};
    for (size_t i = 0; i < sizeof copied / sizeof copied[0]; i++) {
        size_t n;
        char *t = slurp(join(in, copied[i]), &n);
        if (t && spit(join(out, copied[i]), t, n))
            return 2;
        free(t);
    }
    char from[4096];
#define STEP(fn, name)                                                                        \
    do {                                                                                     \
        snprintf(from, sizeof from, "%s", join(in, name));                                   \
        if (fn(from, join(out, name)))                                                       \
            return 2;                                                                        \
    } while (0)
    STEP(write_model, "tokenizer.model");
    STEP(write_tokenizer_json, "tokenizer.json");
    STEP(write_tokenizer_config, "tokenizer_config.json");
    STEP(write_config, "config.json");
    STEP(write_weights, "model.safetensors");
#undef STEP
    return 0;
}
