/*
 * check_tokenizer.c - the tokenizer against the kits: vocabulary arrays
 * equal to llama.cpp's converter's (gguf-vocab.tsv), ids equal to
 * SentencePiece's (tokenizer.tsv) from tokenizer.model and from
 * tokenizer.json, special-token parsing, round trips, a hand-made
 * SentencePiece model for the rarer paths, and hostile inputs.
 */
#define _GNU_SOURCE
#include <check.h>
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "formats/tokenizer.h"
#include "testutil.h"

/* The five loads: (model dir, tokenizer file). */
static const struct load {
    const char *model;
    const char *file;
} LOADS[] = {
    {"tiny-mistral", "tokenizer.model"},
    {"tiny-mistral", "tokenizer.json"},
    {"tiny-mixtral", "tokenizer.model"},
    {"tiny-mixtral", "tokenizer.json"},
    {"tiny-mistral-tokjson", "tokenizer.json"},
};
#define N_LOADS ((int)(sizeof LOADS / sizeof LOADS[0]))
#define N_STRINGS 42
#define N_VOCAB 1500

static ckpt_tok *load(int i)
{
    char *rel = tu_fmt("models/%s/%s", LOADS[i].model, LOADS[i].file);
    char *cfg_rel = tu_fmt("models/%s/tokenizer_config.json", LOADS[i].model);
    char *path = tu_data(rel), *cfg = tu_data(cfg_rel);
    ckpt_tok *tok = NULL;
    ckpt_err err;
    ckpt_err_clear(&err);
    ckpt_status st = strstr(LOADS[i].file, ".model") ? ckpt_tok_load_spm(&tok, path, &err)
                                                     : ckpt_tok_load_hf_json(&tok, path, &err);
    ck_assert_msg(st == CKPT_OK, "%s: %s", rel, err.msg);
    st = ckpt_tok_apply_config(tok, cfg, &err);
    ck_assert_msg(st == CKPT_OK, "%s: %s", cfg_rel, err.msg);
    free(rel);
    free(cfg_rel);
    free(path);
    free(cfg);
    return tok;
}

static char *read_kit(const char *model, const char *file)
{
    char *rel = tu_fmt("golden/%s/%s", model, file);
    char *path = tu_data(rel);
    size_t n;
    char *s = tu_read_file(path, &n);
    ck_assert_msg(s != NULL, "cannot read %s", rel);
    free(rel);
    free(path);
    return s;
}

/* A JSON string literal -> malloc'd bytes. */
static char *json_string(const char *lit, size_t *len)
{
    cJSON *j = cJSON_Parse(lit);
    ck_assert_msg(cJSON_IsString(j), "not a JSON string: %s", lit);
    *len = strlen(j->valuestring);
    char *s = strdup(j->valuestring);
    cJSON_Delete(j);
    return s;
}

static int32_t *encode(const ckpt_tok *tok, const char *s, size_t len, unsigned flags, size_t *n)
{
    size_t cap = ckpt_tok_encode_max(len);
    int32_t *ids = malloc(cap * sizeof *ids);
    ckpt_err err;
    ckpt_err_clear(&err);
    ckpt_status st = ckpt_tok_encode(tok, s, len, flags, ids, cap, n, &err);
    ck_assert_msg(st == CKPT_OK, "encode: %s", err.msg);
    return ids;
}

static char *decode(const ckpt_tok *tok, const int32_t *ids, size_t n, size_t *len)
{
    ckpt_err err;
    ckpt_err_clear(&err);
    size_t need;
    ckpt_status st = ckpt_tok_decode(tok, ids, n, NULL, 0, &need, &err);
    ck_assert(st == CKPT_OK || st == CKPT_E_RANGE);
    char *buf = malloc(need + 1);
    ckpt_err_clear(&err);
    st = ckpt_tok_decode(tok, ids, n, buf, need + 1, len, &err);
    ck_assert_msg(st == CKPT_OK, "decode: %s", err.msg);
    ck_assert_uint_eq(*len, need);
    return buf;
}

static char *ids_str(const int32_t *ids, size_t n)
{
    char *s = calloc(1, 12 * n + 1);
    for (size_t i = 0; i < n; i++)
        sprintf(s + strlen(s), i ? " %d" : "%d", ids[i]);
    return s;
}

/* ---- the vocabulary ---- */

struct vocab_row {
    char *piece;
    float score;
    int type;
};

/* gguf-vocab.tsv of a kit (N_VOCAB rows). */
static struct vocab_row *read_vocab(const char *model)
{
    char *text = read_kit(model, "gguf-vocab.tsv"), *cur = text, *line;
    struct vocab_row *rows = calloc(N_VOCAB, sizeof *rows);
    ck_assert_str_eq(tu_next_line(&cur), "id\ttoken\tscore\ttoken_type");
    int n = 0;
    while ((line = tu_next_line(&cur))) {
        char *f[4];
        for (int k = 0; k < 4; k++) {
            f[k] = line;
            char *tab = strchr(line, '\t');
            if (tab) {
                *tab = '\0';
                line = tab + 1;
            }
        }
        ck_assert_int_eq(atoi(f[0]), n);
        ck_assert_int_lt(n, N_VOCAB);
        size_t len;
        rows[n].piece = json_string(f[1], &len);
        rows[n].score = (float)strtod(f[2], NULL);
        rows[n].type = atoi(f[3]);
        n++;
    }
    ck_assert_int_eq(n, N_VOCAB);
    free(text);
    return rows;
}

static void free_vocab(struct vocab_row *rows)
{
    for (int i = 0; i < N_VOCAB; i++)
        free(rows[i].piece);
    free(rows);
}

static bool same_bits(float a, float b) { return memcmp(&a, &b, sizeof a) == 0; }

/* From tokenizer.model + tokenizer_config.json: exactly the converter's arrays. */
START_TEST(vocab_spm_equals_gguf)
{
    int li = _i == 0 ? 0 : 2;
    ckpt_tok *tok = load(li);
    struct vocab_row *want = read_vocab(LOADS[li].model);
    ck_assert_uint_eq(ckpt_tok_n_vocab(tok), N_VOCAB);
    for (uint32_t id = 0; id < N_VOCAB; id++) {
        size_t len;
        const char *p = ckpt_tok_piece(tok, id, &len);
        ck_assert_msg(len == strlen(want[id].piece) && memcmp(p, want[id].piece, len) == 0,
                      "piece %u: '%s' vs '%s'", id, p, want[id].piece);
        ck_assert_msg(same_bits(ckpt_tok_score(tok, id), want[id].score), "score %u: %g vs %g", id,
                      (double)ckpt_tok_score(tok, id), (double)want[id].score);
        ck_assert_int_eq(ckpt_tok_type(tok, id), want[id].type);
    }
    ck_assert_ptr_null(ckpt_tok_piece(tok, N_VOCAB, NULL));
    free_vocab(want);
    ckpt_tok_free(tok);
}
END_TEST

/*
 * From tokenizer.json + tokenizer_config.json: pieces and types equal the
 * kit's arrays, and the scores derived from the merge ranks equal the
 * tokenizer.model scores bit for bit (tiny-mistral's kit; the tokjson kit is
 * the same tokenizer).  The tokjson kit itself has llama.cpp's -1000 for
 * every token: 1496 of 1500 scores differ from ours, all but the three
 * specials (-1000 from tokenizer_config.json in both) and piece 1259 ("▁"),
 * whose SentencePiece score happens to be -(1259 - 259) = -1000.
 */
START_TEST(vocab_json_scores_from_merges)
{
    int li = _i == 0 ? 1 : _i == 1 ? 3 : 4;
    ckpt_tok *tok = load(li);
    struct vocab_row *kit = read_vocab(LOADS[li].model);
    struct vocab_row *spm = read_vocab("tiny-mistral");
    ck_assert_uint_eq(ckpt_tok_n_vocab(tok), N_VOCAB);
    int differ_from_kit = 0;
    for (uint32_t id = 0; id < N_VOCAB; id++) {
        size_t len;
        const char *p = ckpt_tok_piece(tok, id, &len);
        ck_assert_msg(len == strlen(kit[id].piece) && memcmp(p, kit[id].piece, len) == 0,
                      "piece %u", id);
        ck_assert_int_eq(ckpt_tok_type(tok, id), kit[id].type);
        ck_assert_msg(same_bits(ckpt_tok_score(tok, id), spm[id].score), "score %u: %g vs %g", id,
                      (double)ckpt_tok_score(tok, id), (double)spm[id].score);
        differ_from_kit += !same_bits(ckpt_tok_score(tok, id), kit[id].score);
        if (li == 4)
            ck_assert(kit[id].score == -1000.0f);
    }
    ck_assert_int_eq(differ_from_kit, li == 4 ? N_VOCAB - 4 : 0);
    free_vocab(kit);
    free_vocab(spm);
    ckpt_tok_free(tok);
}
END_TEST

START_TEST(special_ids_and_flags)
{
    ckpt_tok *tok = load(_i);
    ck_assert_int_eq(ckpt_tok_bos_id(tok), 1);
    ck_assert_int_eq(ckpt_tok_eos_id(tok), 2);
    ck_assert_int_eq(ckpt_tok_unk_id(tok), 0);
    ck_assert_int_eq(ckpt_tok_pad_id(tok), -1);
    ck_assert(ckpt_tok_add_bos(tok));
    ck_assert(!ckpt_tok_add_eos(tok));
    ck_assert(ckpt_tok_byte_fallback(tok));
    ck_assert(ckpt_tok_add_dummy_prefix(tok));
    ck_assert_ptr_null(ckpt_tok_chat_template(tok));
    ck_assert_int_eq(ckpt_tok_source(tok), strstr(LOADS[_i].file, ".model") ? CKPT_TOK_SRC_SPM
                                                                          : CKPT_TOK_SRC_HF_JSON);
    ck_assert_int_eq(ckpt_tok_find(tok, "<0x0A>", 6), 13);
    ck_assert_int_eq(ckpt_tok_find(tok, "\xE2\x96\x81", 3), 1259);
    ck_assert_int_eq(ckpt_tok_find(tok, "no such piece", 13), -1);
    ckpt_tok_free(tok);
}
END_TEST

START_TEST(load_dir_prefers_model)
{
    const char *dirs[] = {"models/tiny-mistral", "models/tiny-mistral-tokjson"};
    for (int i = 0; i < 2; i++) {
        char *d = tu_data(dirs[i]);
        ckpt_tok *tok;
        ckpt_err err;
        ckpt_err_clear(&err);
        ck_assert_msg(ckpt_tok_load_dir(&tok, d, &err) == CKPT_OK, "%s", err.msg);
        ck_assert_int_eq(ckpt_tok_source(tok), i == 0 ? CKPT_TOK_SRC_SPM : CKPT_TOK_SRC_HF_JSON);
        ck_assert_int_eq(ckpt_tok_type(tok, 0), CKPT_TOK_CONTROL); /* config applied */
        ckpt_tok_free(tok);
        free(d);
    }
    ckpt_tok *tok = (ckpt_tok *)1;
    ckpt_err err;
    ckpt_err_clear(&err);
    char *d = tu_data("golden");
    ck_assert_int_eq(ckpt_tok_load_dir(&tok, d, &err), CKPT_E_IO);
    ck_assert_ptr_null(tok);
    ck_assert_ptr_nonnull(strstr(err.msg, "no tokenizer.model, tokenizer.json or tekken.json"));
    free(d);
}
END_TEST

/* ---- encoding ---- */

struct golden {
    char *text[N_STRINGS];
    size_t len[N_STRINGS];
    char *ids[N_STRINGS];
};

static struct golden *read_golden(const char *model)
{
    char *all = read_kit(model, "tokenizer.tsv"), *cur = all, *line;
    struct golden *g = calloc(1, sizeof *g);
    ck_assert_str_eq(tu_next_line(&cur), "text\tids");
    int n = 0;
    while ((line = tu_next_line(&cur))) {
        ck_assert_int_lt(n, N_STRINGS);
        char *tab = strrchr(line, '\t');
        ck_assert_ptr_nonnull(tab);
        *tab = '\0';
        g->text[n] = json_string(line, &g->len[n]);
        g->ids[n] = strdup(tab + 1);
        n++;
    }
    ck_assert_int_eq(n, N_STRINGS);
    free(all);
    return g;
}

static void free_golden(struct golden *g)
{
    for (int i = 0; i < N_STRINGS; i++) {
        free(g->text[i]);
        free(g->ids[i]);
    }
    free(g);
}

/* Every string of the kit's tokenizer.tsv, special-token parsing off. */
START_TEST(encode_equals_sentencepiece)
{
    ckpt_tok *tok = load(_i);
    struct golden *g = read_golden(LOADS[_i].model);
    for (int k = 0; k < N_STRINGS; k++) {
        size_t n;
        int32_t *ids = encode(tok, g->text[k], g->len[k], CKPT_TOK_ADD_SPECIAL, &n);
        char *got = ids_str(ids, n);
        ck_assert_msg(strcmp(got, g->ids[k]) == 0, "%s %s: \"%s\"\n got  %s\n want %s",
                      LOADS[_i].model, LOADS[_i].file, g->text[k], got, g->ids[k]);
        free(got);
        free(ids);
    }
    free_golden(g);
    ckpt_tok_free(tok);
}
END_TEST

/* The README's table with parsing on; and a special token inside text cuts
 * it in two, each part with its own dummy prefix (as llama.cpp and Hugging
 * Face's legacy Llama tokenizer do). */
START_TEST(encode_parse_special)
{
    static const struct {
        const char *text;
        const char *ids;
    } table[] = {{"<s>", "1 1"}, {"</s>", "1 2"}, {"<unk>", "1 0"}};
    ckpt_tok *tok = load(_i);
    unsigned both = CKPT_TOK_ADD_SPECIAL | CKPT_TOK_PARSE_SPECIAL;
    for (size_t k = 0; k < 3; k++) {
        size_t n;
        int32_t *ids = encode(tok, table[k].text, strlen(table[k].text), both, &n);
        char *got = ids_str(ids, n);
        ck_assert_str_eq(got, table[k].ids);
        free(got);
        free(ids);
    }
    const char *mixed = "text <s> in the middle </s> end";
    const char *parts[] = {"text ", " in the middle ", " end"};
    size_t n, np;
    int32_t *ids = encode(tok, mixed, strlen(mixed), both, &n);
    char *got = ids_str(ids, n);
    char *want = strdup("1");
    for (int k = 0; k < 3; k++) {
        int32_t *p = encode(tok, parts[k], strlen(parts[k]), 0, &np);
        char *ps = ids_str(p, np), *w = tu_fmt("%s %s%s", want, ps, k < 2 ? (k ? " 2" : " 1") : "");
        free(want);
        want = w;
        free(ps);
        free(p);
    }
    ck_assert_str_eq(got, want);
    free(got);
    free(want);
    free(ids);
    /* without ADD_SPECIAL: no BOS */
    ids = encode(tok, "<s>", 3, CKPT_TOK_PARSE_SPECIAL, &n);
    ck_assert_uint_eq(n, 1);
    ck_assert_int_eq(ids[0], 1);
    free(ids);
    ckpt_tok_free(tok);
}
END_TEST

/*
 * decode(encode(s)) == s for every string but one: the string with U+2581
 * in it, which SentencePiece itself cannot tell from a space (it decodes to
 * the same text with that "▁" turned into ' ').
 */
START_TEST(roundtrip)
{
    ckpt_tok *tok = load(_i);
    struct golden *g = read_golden(LOADS[_i].model);
    int exceptions = 0;
    for (int k = 0; k < N_STRINGS; k++) {
        size_t n, len;
        int32_t *ids = encode(tok, g->text[k], g->len[k], CKPT_TOK_ADD_SPECIAL, &n);
        char *back = decode(tok, ids, n, &len);
        if (strstr(g->text[k], "\xE2\x96\x81")) {
            exceptions++;
            char *want = strdup(g->text[k]), *m;
            while ((m = strstr(want, "\xE2\x96\x81"))) {
                *m = ' ';
                memmove(m + 1, m + 3, strlen(m + 3) + 1);
            }
            ck_assert_str_eq(back, want);
            free(want);
        } else
            ck_assert_msg(len == g->len[k] && memcmp(back, g->text[k], len) == 0,
                          "\"%s\" came back as \"%s\"", g->text[k], back);
        free(back);
        free(ids);
    }
    ck_assert_int_eq(exceptions, 1);
    free_golden(g);
    ckpt_tok_free(tok);
}
END_TEST

START_TEST(decode_details)
{
    ckpt_tok *tok = load(0);
    size_t len;
    /* BOS/EOS vanish; <unk> (a control piece after the config) too; bytes pass through */
    int32_t ids[] = {1, 1259, 13, 2, 243, 162, 144, 152};
    char *s = decode(tok, ids, 8, &len);
    ck_assert_uint_eq(len, 5);
    ck_assert_mem_eq(s, "\n\xF0\x9F\x8D\x95", 5);
    free(s);
    /* only the first text-producing piece loses its "▁" */
    int32_t two[] = {1259, 1259};
    s = decode(tok, two, 2, &len);
    ck_assert_str_eq(s, " ");
    free(s);
    char buf[4];
    ckpt_err err;
    ckpt_err_clear(&err);
    int32_t bad[] = {5, 1500};
    ck_assert_int_eq(ckpt_tok_decode(tok, bad, 2, buf, sizeof buf, &len, &err), CKPT_E_RANGE);
    ck_assert_ptr_nonnull(strstr(err.msg, "id 1500"));
    ckpt_err_clear(&err);
    int32_t many[] = {1259, 541, 412, 457, 282, 266, 515}; /* " Hello world" */
    ck_assert_int_eq(ckpt_tok_decode(tok, many, 7, buf, sizeof buf, &len, &err), CKPT_E_RANGE);
    ck_assert_uint_eq(len, 12);
    ckpt_tok_free(tok);
}
END_TEST

START_TEST(encode_buffer_too_small)
{
    ckpt_tok *tok = load(0);
    int32_t ids[3];
    size_t n;
    ckpt_err err;
    ckpt_err_clear(&err);
    ck_assert_int_eq(ckpt_tok_encode(tok, "Hello world", 11, CKPT_TOK_ADD_SPECIAL, ids, 3, &n, &err),
                     CKPT_E_RANGE);
    ck_assert_uint_eq(n, 7);
    ck_assert_int_eq(ids[0], 1);
    ck_assert_int_eq(ids[2], 412);
    ck_assert_uint_eq(ckpt_tok_encode_max(SIZE_MAX), SIZE_MAX);
    ckpt_tok_free(tok);
}
END_TEST

/* A megabyte of prose and 200 000 identical letters: the heap keeps the
 * merge O(n log n), so this takes milliseconds, and the text comes back. */
START_TEST(encode_long_input)
{
    ckpt_tok *tok = load(_i);
    const char *para = "The license is free software; you can redistribute it and/or modify it. ";
    size_t plen = strlen(para), reps = (1u << 20) / plen, len = reps * plen;
    char *text = malloc(len + 200001);
    for (size_t i = 0; i < reps; i++)
        memcpy(text + i * plen, para, plen);
    memset(text + len, 'a', 200000);
    len += 200000;
    text[len] = '\0';
    size_t n, back_len;
    int32_t *ids = encode(tok, text, len, 0, &n);
    ck_assert_uint_lt(n, len / 2);
    char *back = decode(tok, ids, n, &back_len);
    ck_assert_uint_eq(back_len, len);
    ck_assert(memcmp(back, text, len) == 0);
    /* one paragraph encodes the same inside the long text as alone */
    size_t n1;
    int32_t *one = encode(tok, para, plen - 1, 0, &n1);
    ck_assert_mem_eq(ids, one, n1 * sizeof *one);
    free(one);
    free(back);
    free(ids);
    free(text);
    ckpt_tok_free(tok);
}
END_TEST

/*
 * Random strings from pieces of text that stress the edges (spaces,
 * multi-byte characters in and out of the vocabulary, special-token text):
 * valid UTF-8 without U+2581 must round-trip; invalid bytes must not crash
 * and come back as U+FFFD.
 */
START_TEST(random_roundtrip)
{
    static const char *const bits[] = {"a", "b", "the", " ", "  ", "\n", "\t", "é", "\xED\x95\x9C",
                                       "\xF0\x9F\x8D\x95", "<s>", "</s", "<unk>", "0", ".", "ing"};
    ckpt_tok *tok = load(_i);
    uint32_t seed = 12345;
    char text[256];
    for (int round = 0; round < 2000; round++) {
        size_t len = 0;
        int parts = (int)((seed = seed * 1103515245u + 12345u) >> 16) % 12;
        for (int k = 0; k < parts; k++) {
            const char *b = bits[((seed = seed * 1103515245u + 12345u) >> 16) % 16];
            memcpy(text + len, b, strlen(b));
            len += strlen(b);
        }
        bool bad = round % 7 == 0 && len > 0;
        if (bad)
            text[((seed = seed * 1103515245u + 12345u) >> 16) % len] = '\xff';
        unsigned flags = round % 2 ? CKPT_TOK_PARSE_SPECIAL : 0;
        size_t n, back_len;
        int32_t *ids = encode(tok, text, len, flags, &n);
        char *back = decode(tok, ids, n, &back_len);
        if (!bad && !flags)
            ck_assert_msg(back_len == len && memcmp(back, text, len) == 0, "round %d: \"%.*s\"",
                          round, (int)len, text);
        if (bad && !flags)
            ck_assert_ptr_nonnull(strstr(back, "\xEF\xBF\xBD"));
        free(back);
        free(ids);
    }
    ckpt_tok_free(tok);
}
END_TEST

/* ---- a hand-made SentencePiece model ---- */

struct pb {
    uint8_t *p;
    size_t n;
};

static void pb_raw(struct pb *b, const void *p, size_t n)
{
    b->p = realloc(b->p, b->n + n + 1);
    memcpy(b->p + b->n, p, n);
    b->n += n;
}

static void pb_varint(struct pb *b, uint64_t v)
{
    uint8_t t[10];
    int n = 0;
    do {
        t[n] = (uint8_t)(v & 0x7f);
        v >>= 7;
        if (v)
            t[n] |= 0x80;
        n++;
    } while (v);
    pb_raw(b, t, (size_t)n);
}

static void pb_key(struct pb *b, uint32_t field, int wire) { pb_varint(b, (uint64_t)field << 3 | (unsigned)wire); }

static void pb_bytes(struct pb *b, uint32_t field, const void *p, size_t n)
{
    pb_key(b, field, 2);
    pb_varint(b, n);
    pb_raw(b, p, n);
}

static void pb_sub(struct pb *b, uint32_t field, struct pb *sub)
{
    pb_bytes(b, field, sub->p, sub->n);
    free(sub->p);
    *sub = (struct pb){0};
}

static void pb_piece(struct pb *b, const char *piece, float score, int type)
{
    struct pb s = {0};
    pb_bytes(&s, 1, piece, strlen(piece));
    pb_key(&s, 2, 5);
    pb_raw(&s, &score, 4);
    if (type != 1) {
        pb_key(&s, 3, 0);
        pb_varint(&s, (uint64_t)type);
    }
    pb_sub(b, 1, &s);
}

#define U2581 "\xE2\x96\x81"

/* BPE, no byte fallback, extra whitespace removed; "ab" is UNUSED (merged,
 * then split back), "<sep>" is user-defined, "<0x7A>" a lone byte piece. */
static struct pb tiny_model(int model_type, bool byte_fallback, const char *charsmap)
{
    struct pb b = {0}, t = {0}, n = {0};
    pb_piece(&b, "<unk>", 0, 2);
    pb_piece(&b, "<s>", 0, 3);
    pb_piece(&b, "</s>", 0, 3);
    pb_piece(&b, "abc", -2, 1);
    pb_piece(&b, "ab", -1, 5);
    pb_piece(&b, U2581 "a", -3, 1);
    pb_piece(&b, U2581, -10, 1);
    pb_piece(&b, "a", -11, 1);
    pb_piece(&b, "b", -12, 1);
    pb_piece(&b, "c", -13, 1);
    pb_piece(&b, "<sep>", 0, 4);
    pb_piece(&b, "<0x7A>", 0, 6);
    pb_key(&t, 3, 0);
    pb_varint(&t, (uint64_t)model_type);
    pb_key(&t, 35, 0);
    pb_varint(&t, byte_fallback);
    pb_key(&t, 43, 0);
    pb_varint(&t, UINT64_MAX); /* pad_id -1, as a 10-byte varint */
    pb_key(&t, 50, 1);         /* an unknown fixed64 field */
    pb_raw(&t, "12345678", 8);
    pb_sub(&b, 2, &t);
    pb_bytes(&n, 1, "identity", 8);
    if (charsmap)
        pb_bytes(&n, 2, charsmap, strlen(charsmap));
    pb_key(&n, 4, 0);
    pb_varint(&n, 1);
    pb_sub(&b, 3, &n);
    /* an unknown group holding a nested group, skipped whole */
    pb_key(&b, 9, 3);
    pb_key(&b, 10, 3);
    pb_key(&b, 1, 0);
    pb_varint(&b, 7);
    pb_key(&b, 10, 4);
    pb_key(&b, 9, 4);
    return b;
}

static ckpt_tok *parse_tiny(struct pb *b)
{
    ckpt_tok *tok;
    ckpt_err err;
    ckpt_err_clear(&err);
    ck_assert_msg(ckpt_tok_parse_spm(&tok, b->p, b->n, "tiny.model", &err) == CKPT_OK, "%s",
                  err.msg);
    return tok;
}

static void expect_ids(const ckpt_tok *tok, const char *text, unsigned flags, const char *want)
{
    size_t n;
    int32_t *ids = encode(tok, text, strlen(text), flags, &n);
    char *got = ids_str(ids, n);
    ck_assert_msg(strcmp(got, want) == 0, "\"%s\": got %s, want %s", text, got, want);
    free(got);
    free(ids);
}

START_TEST(spm_rare_paths)
{
    struct pb b = tiny_model(2, false, NULL);
    ckpt_tok *tok = parse_tiny(&b);
    ck_assert_uint_eq(ckpt_tok_n_vocab(tok), 12);
    ck_assert_int_eq(ckpt_tok_pad_id(tok), -1);
    ck_assert(!ckpt_tok_byte_fallback(tok));
    expect_ids(tok, "abc", 0, "6 3");          /* a+b -> ab (UNUSED), ab+c -> abc */
    expect_ids(tok, "ab", 0, "6 7 8");         /* ab is UNUSED: split back into a b */
    expect_ids(tok, "a", 0, "5");              /* ▁a */
    expect_ids(tok, "  a   b  ", 0, "5 6 8"); /* extra whitespace removed */
    expect_ids(tok, "   ", 0, "");             /* only spaces: nothing, no dummy prefix */
    expect_ids(tok, "b<sep>a", 0, "6 8 10 7"); /* user-defined piece is one symbol */
    expect_ids(tok, "bzzéb", 0, "6 8 0 8");    /* one <unk> per unknown run, no bytes */
    expect_ids(tok, "b\xff", 0, "6 8 0");      /* a bad byte is U+FFFD, unknown here */
    expect_ids(tok, "<s>b", CKPT_TOK_PARSE_SPECIAL | CKPT_TOK_ADD_SPECIAL, "1 1 6 8");
    expect_ids(tok, "b<sep>", CKPT_TOK_PARSE_SPECIAL, "6 8 10");
    size_t len;
    int32_t ids[] = {1, 6, 7, 0, 8, 2};
    char *s = decode(tok, ids, 6, &len);
    ck_assert_str_eq(s, "a \xE2\x81\x87 b"); /* <unk> shows as SentencePiece's " ⁇ " */
    free(s);
    ckpt_tok_free(tok);
    free(b.p);

    b = tiny_model(2, true, NULL); /* byte fallback: z has a byte piece, é has none */
    tok = parse_tiny(&b);
    expect_ids(tok, "bz\xC3\xA9", 0, "6 8 11 0 0");
    ckpt_tok_free(tok);
    free(b.p);

    /* loads, but cannot encode: unigram; precompiled normalization rules */
    for (int k = 0; k < 2; k++) {
        b = k ? tiny_model(2, true, "rules") : tiny_model(1, true, NULL);
        tok = parse_tiny(&b);
        int32_t out[8];
        ckpt_err err;
        ckpt_err_clear(&err);
        ck_assert_int_eq(ckpt_tok_encode(tok, "a", 1, 0, out, 8, &len, &err), CKPT_E_UNSUPPORTED);
        ckpt_tok_free(tok);
        free(b.p);
    }
}
END_TEST

static ckpt_status config(ckpt_tok *tok, const char *json, ckpt_err *err)
{
    ckpt_err_clear(err);
    return ckpt_tok_parse_config(tok, json, strlen(json), "tokenizer_config.json", err);
}

START_TEST(config_rules)
{
    struct pb b = tiny_model(2, false, NULL);
    ckpt_tok *tok = parse_tiny(&b);
    ckpt_err err;
    ck_assert_int_eq(config(tok,
                            "{\"add_bos_token\": false, \"add_eos_token\": true,"
                            " \"chat_template\": [{\"name\": \"tool_use\", \"template\": \"T\"},"
                            "                     {\"name\": \"default\", \"template\": \"D\"}],"
                            " \"eos_token\": {\"content\": \"<sep>\"}, \"pad_token\": \"<s>\","
                            " \"unk_token\": \"not a piece\","
                            " \"added_tokens_decoder\": {"
                            "   \"14\": {\"content\": \"<|im_start|>\", \"special\": false},"
                            "   \"13\": {\"content\": \"my" U2581 "word\", \"special\": false},"
                            "   \"2\": {\"content\": \"</s>\", \"special\": true}}}",
                            &err),
                     CKPT_OK);
    ck_assert(!ckpt_tok_add_bos(tok));
    ck_assert(ckpt_tok_add_eos(tok));
    ck_assert_str_eq(ckpt_tok_chat_template(tok), "D");
    ck_assert_int_eq(ckpt_tok_eos_id(tok), 10);
    ck_assert_int_eq(ckpt_tok_pad_id(tok), 1);
    ck_assert_int_eq(ckpt_tok_unk_id(tok), 0); /* unknown names are ignored */
    ck_assert_uint_eq(ckpt_tok_n_vocab(tok), 15);
    ck_assert_str_eq(ckpt_tok_piece(tok, 12, NULL), "[PAD12]");
    ck_assert(ckpt_tok_score(tok, 12) == -10000.0f);
    ck_assert_int_eq(ckpt_tok_type(tok, 12), CKPT_TOK_UNUSED);
    ck_assert_str_eq(ckpt_tok_piece(tok, 13, NULL), "my word");
    ck_assert_int_eq(ckpt_tok_type(tok, 13), CKPT_TOK_USER_DEFINED);
    ck_assert_int_eq(ckpt_tok_type(tok, 14), CKPT_TOK_CONTROL); /* looks special */
    ck_assert(ckpt_tok_score(tok, 2) == -1000.0f);
    ck_assert_int_eq(ckpt_tok_type(tok, 2), CKPT_TOK_CONTROL);
    /* added tokens are parsed as specials; EOS is appended */
    expect_ids(tok, "b<|im_start|>b", CKPT_TOK_PARSE_SPECIAL | CKPT_TOK_ADD_SPECIAL,
               "6 8 14 6 8 10");
    ck_assert_int_eq(config(tok, "{\"chat_template\": \"{{ messages }}\"}", &err), CKPT_OK);
    ck_assert_str_eq(ckpt_tok_chat_template(tok), "{{ messages }}");

    static const struct {
        const char *json;
        ckpt_status st;
        const char *msg;
    } bad[] = {
        {"{\"add_bos_token\": \"yes\"}", CKPT_E_FORMAT, "add_bos_token is not a boolean"},
        {"{\"added_tokens_decoder\": {\"x1\": {\"content\": \"a\"}}}", CKPT_E_FORMAT, "is not an id"},
        {"{\"added_tokens_decoder\": {\"-1\": {\"content\": \"a\"}}}", CKPT_E_FORMAT, "is not an id"},
        {"{\"added_tokens_decoder\": {\"99999999\": {\"content\": \"a\"}}}", CKPT_E_RANGE, "far past"},
        {"{\"added_tokens_decoder\": {\"3\": {\"special\": true}}}", CKPT_E_FORMAT, "needs a non-empty content"},
        {"{\"added_tokens_decoder\": {\"3\": {\"content\": \"b\"}}}", CKPT_E_FORMAT, "duplicates"},
        {"{\"added_tokens_decoder\": []}", CKPT_E_FORMAT, "not an object"},
        {"{\"chat_template\": 3}", CKPT_E_FORMAT, "chat_template"},
        {"[1, 2]", CKPT_E_FORMAT, "not a JSON object"},
        {"{\"add_bos_token\": tru", CKPT_E_FORMAT, "not valid JSON"},
    };
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        ckpt_tok_free(tok);
        tok = parse_tiny(&b);
        ck_assert_int_eq(config(tok, bad[k].json, &err), bad[k].st);
        ck_assert_msg(strstr(err.msg, bad[k].msg) && strstr(err.msg, "tokenizer_config.json"),
                      "%s -> %s", bad[k].json, err.msg);
    }
    ckpt_tok_free(tok);
    free(b.p);
}
END_TEST

/* ---- hostile tokenizer.model ---- */

static void expect_spm_error(const void *p, size_t n, ckpt_status want, const char *msg)
{
    ckpt_tok *tok = (ckpt_tok *)1;
    ckpt_err err;
    ckpt_err_clear(&err);
    ckpt_status st = ckpt_tok_parse_spm(&tok, p, n, "bad.model", &err);
    ck_assert_msg(st == want && strstr(err.msg, msg) && strstr(err.msg, "bad.model"),
                  "want %d '%s', got %d '%s'", want, msg, st, err.msg);
    ck_assert_ptr_null(tok);
}

START_TEST(spm_truncated)
{
    char *path = tu_data("models/tiny-mistral/tokenizer.model");
    size_t size;
    uint8_t *data = tu_read_file(path, &size);
    ck_assert_uint_eq(size, 20907);
    int errors = 0;
    for (size_t cut = 0; cut < size; cut += cut < 64 ? 1 : 97) {
        uint8_t *copy = malloc(cut ? cut : 1); /* exact size, so ASan sees overreads */
        memcpy(copy, data, cut);
        ckpt_tok *tok;
        ckpt_err err;
        ckpt_err_clear(&err);
        ckpt_status st = ckpt_tok_parse_spm(&tok, copy, cut, "cut.model", &err);
        /* every cut is an error, a cut between two pieces too (it parses
         * cleanly but lacks the specs SentencePiece writes after them) */
        ck_assert_msg(st == CKPT_E_FORMAT && strstr(err.msg, "cut.model"), "cut %zu: %d %s", cut,
                      st, err.msg);
        errors++;
        free(copy);
    }
    ck_assert_int_gt(errors, 100);
    /* the cut the converter took for a whole file (it padded the vocabulary) */
    expect_spm_error(data, 5467, CKPT_E_FORMAT, "no trainer_spec after");
    free(data);
    free(path);
}
END_TEST

/* "[\"a b\", ... n times ]" inside a tokenizer.json skeleton; malloc'd. */
static char *many_merges(size_t n, size_t *len)
{
    static const char head[] = "{\"model\": {\"type\": \"BPE\", \"vocab\": {}, \"merges\": [";
    char *s = malloc(sizeof head + 6 * n + 8), *p = s;
    memcpy(p, head, sizeof head - 1);
    p += sizeof head - 1;
    for (size_t i = 0; i < n; i++) {
        memcpy(p, i ? ",\"a b\"" : " \"a b\"", 6);
        p += 6;
    }
    memcpy(p, "]}}", 3);
    *len = (size_t)(p + 3 - s);
    return s;
}

/* 10 M merges once took 1.18 GB of cJSON nodes: the value cap refuses the
 * file before cJSON allocates anything. */
START_TEST(json_value_cap)
{
    size_t len;
    char *s = many_merges(CKPT_TOK_JSON_MAX_VALUES, &len);
    struct rusage before, after;
    getrusage(RUSAGE_SELF, &before);
    ckpt_tok *tok;
    ckpt_err err = {0};
    ck_assert_int_eq(ckpt_tok_parse_hf_json(&tok, s, len, "big.json", &err), CKPT_E_RANGE);
    getrusage(RUSAGE_SELF, &after);
    ck_assert_msg(strstr(err.msg, "big.json: too many JSON values"), "%s", err.msg);
    ck_assert_msg(after.ru_maxrss - before.ru_maxrss < 64 * 1024, "peak grew by %ld KiB",
                  after.ru_maxrss - before.ru_maxrss);
    free(s);
}
END_TEST

/* An allocation failing inside cJSON is "out of memory", not "not valid
 * JSON" (a child process with an address-space limit; not under ASan,
 * whose shadow memory needs the address space). */
START_TEST(json_out_of_memory)
{
#if defined(__SANITIZE_ADDRESS__)
    return;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
    return;
#endif
#endif
    size_t len;
    char *s = many_merges(2 << 20, &len);
    fflush(NULL);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        long pages = 0;
        FILE *f = fopen("/proc/self/statm", "r");
        if (!f || fscanf(f, "%ld", &pages) != 1)
            _exit(10);
        fclose(f);
        struct rlimit rl;
        rl.rlim_cur = rl.rlim_max = (rlim_t)pages * (rlim_t)sysconf(_SC_PAGESIZE) + (32u << 20);
        if (setrlimit(RLIMIT_AS, &rl) != 0)
            _exit(11);
        ckpt_tok *tok;
        ckpt_err err = {0};
        ckpt_status st = ckpt_tok_parse_hf_json(&tok, s, len, "big.json", &err);
        _exit(st == CKPT_E_NOMEM && strstr(err.msg, "big.json: out of memory") ? 0
              : st == CKPT_E_FORMAT                                            ? 12
                                                                               : 13);
    }
    int status;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child: %d", status);
    free(s);
}
END_TEST

START_TEST(spm_hostile)
{
    expect_spm_error("", 0, CKPT_E_FORMAT, "no pieces");
    static const uint8_t varint11[] = {0x0a, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01};
    expect_spm_error(varint11, sizeof varint11, CKPT_E_FORMAT, "length past the end");
    static const uint8_t key_overlong[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f};
    expect_spm_error(key_overlong, sizeof key_overlong, CKPT_E_FORMAT, "bad field key");
    static const uint8_t field0[] = {0x00, 0x01};
    expect_spm_error(field0, sizeof field0, CKPT_E_FORMAT, "bad field key at offset 0");
    static const uint8_t wire7[] = {0x0f};
    expect_spm_error(wire7, sizeof wire7, CKPT_E_FORMAT, "bad field key");
    static const uint8_t huge[] = {0x0a, 0x80, 0x80, 0x80, 0x80, 0x80, 0x20}; /* 2^40 */
    expect_spm_error(huge, sizeof huge, CKPT_E_FORMAT, "length past the end");
    static const uint8_t end_group[] = {0x4c}; /* end group 9 with no start */
    expect_spm_error(end_group, sizeof end_group, CKPT_E_FORMAT, "truncated or malformed");
    static const uint8_t open_group[] = {0x4b, 0x08, 0x01}; /* group 9 never closed */
    expect_spm_error(open_group, sizeof open_group, CKPT_E_FORMAT, "truncated or malformed");
    uint8_t deep[2 * 70];
    for (int i = 0; i < 70; i++)
        deep[i] = 0x4b, deep[139 - i] = 0x4c;
    expect_spm_error(deep, sizeof deep, CKPT_E_FORMAT, "truncated or malformed");
    static const uint8_t pieces_wire[] = {0x08, 0x01}; /* pieces as a varint */
    expect_spm_error(pieces_wire, sizeof pieces_wire, CKPT_E_FORMAT, "not length-delimited");

    struct pb b = {0}, s = {0};
    pb_bytes(&s, 1, "x", 1);
    pb_key(&s, 2, 0); /* score as a varint */
    pb_varint(&s, 1);
    pb_sub(&b, 1, &s);
    expect_spm_error(b.p, b.n, CKPT_E_FORMAT, "score is not a fixed32");
    free(b.p);
    b = (struct pb){0};
    pb_bytes(&s, 1, "x", 1);
    pb_key(&s, 2, 5);
    pb_raw(&s, "\0\0", 2); /* a score cut short inside its piece */
    pb_sub(&b, 1, &s);
    expect_spm_error(b.p, b.n, CKPT_E_FORMAT, "truncated piece score");
    free(b.p);
    b = (struct pb){0};
    pb_piece(&b, "<unk>", 0, 2);
    pb_piece(&b, "x", 0, 9);
    expect_spm_error(b.p, b.n, CKPT_E_FORMAT, "type 9");
    free(b.p);
    b = (struct pb){0};
    pb_piece(&b, "<unk>", 0, 2);
    pb_piece(&b, "", 0, 1);
    expect_spm_error(b.p, b.n, CKPT_E_FORMAT, "is empty");
    free(b.p);
    b = (struct pb){0};
    pb_piece(&b, "<unk>", 0, 2);
    pb_piece(&b, "<s>", 0, 3);
    pb_piece(&b, "</s>", 0, 3);
    pb_piece(&b, "x", 0, 1);
    pb_piece(&b, "x", 0, 1);
    expect_spm_error(b.p, b.n, CKPT_E_FORMAT, "piece 4 duplicates piece 3");
    free(b.p);
    b = (struct pb){0};
    pb_piece(&b, "<unk>", 0, 2);
    pb_piece(&b, "<s>", 0, 3);
    pb_piece(&b, "</s>", 0, 3);
    pb_piece(&b, "<unk2>", 0, 2);
    expect_spm_error(b.p, b.n, CKPT_E_FORMAT, "both <unk>");
    free(b.p);
    b = (struct pb){0};
    pb_piece(&b, "<s>", 0, 3);
    pb_piece(&b, "</s>", 0, 3);
    pb_piece(&b, "x", 0, 1);
    expect_spm_error(b.p, b.n, CKPT_E_FORMAT, "no <unk>");
    free(b.p);
    b = (struct pb){0};
    pb_piece(&b, "<unk>", 0, 2);
    pb_piece(&b, "<s>", 0, 3);
    pb_piece(&b, "</s>", 0, 3);
    pb_piece(&b, "<0xZZ>", 0, 6);
    expect_spm_error(b.p, b.n, CKPT_E_FORMAT, "not <0xNN>");
    free(b.p);
    b = (struct pb){0};
    pb_piece(&b, "<unk>", 0, 2);
    pb_piece(&b, "<s>", 0, 3);
    pb_piece(&b, "</s>", 0, 3);
    pb_key(&s, 42, 0);
    pb_varint(&s, 5000); /* eos_id past the end */
    pb_sub(&b, 2, &s);
    expect_spm_error(b.p, b.n, CKPT_E_FORMAT, "special id 5000");
    free(b.p);
    char *missing = tu_data("models/no-such-model/tokenizer.model");
    ckpt_tok *tok;
    ckpt_err err;
    ckpt_err_clear(&err);
    ck_assert_int_eq(ckpt_tok_load_spm(&tok, missing, &err), CKPT_E_IO);
    free(missing);
}
END_TEST

/* ---- hostile tokenizer.json ---- */

START_TEST(json_hostile)
{
    static const struct {
        const char *json;
        ckpt_status st;
        const char *msg;
    } bad[] = {
        {"", CKPT_E_FORMAT, "not valid JSON"},
        {"[]", CKPT_E_FORMAT, "not a JSON object"},
        {"{}", CKPT_E_FORMAT, "no model object"},
        {"{\"model\": {\"type\": \"Unigram\", \"vocab\": []}}", CKPT_E_UNSUPPORTED, "model type 'Unigram'"},
        {"{\"model\": {\"vocab\": {\"a\": 0}}}", CKPT_E_UNSUPPORTED, "model type"},
        {"{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0}}}", CKPT_E_FORMAT, "merges is missing"},
        {"{\"model\": {\"type\": \"BPE\", \"vocab\": [], \"merges\": []}}", CKPT_E_FORMAT, "vocab is not an object"},
        {"{\"model\": {\"type\": \"BPE\", \"vocab\": {}, \"merges\": []}}", CKPT_E_FORMAT, "vocab is empty"},
        {"{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": -1}, \"merges\": []}}", CKPT_E_FORMAT, "not an id"},
        {"{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0.5}, \"merges\": []}}", CKPT_E_FORMAT, "not an id"},
        {"{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0, \"b\": 2}, \"merges\": []}}", CKPT_E_FORMAT, "not an id"},
        {"{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0, \"b\": 0}, \"merges\": []}}", CKPT_E_FORMAT, "id 0 twice"},
        {"{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0, \"b\": 1}, \"merges\": {}}}", CKPT_E_FORMAT, "merges is not an array"},
        {"{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0, \"b\": 1}, \"merges\": [\"a b\"]}}", CKPT_E_FORMAT, "merge 0 ('a' 'b')"},
        {"{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0, \"ab\": 1}, \"merges\": [\"ab\"]}}", CKPT_E_FORMAT, "merge 0 is not"},
        {"{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0, \"ab\": 1}, \"merges\": [[\"a\"]]}}", CKPT_E_FORMAT, "merge 0 is not"},
        {"{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0}, \"merges\": [], \"dropout\": 0.1}}", CKPT_E_UNSUPPORTED, "dropout"},
        {"{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0}, \"merges\": [], \"byte_fallback\": 1}}", CKPT_E_FORMAT, "byte_fallback"},
        {"{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0}, \"merges\": [], \"unk_token\": \"<unk>\"}}", CKPT_E_FORMAT, "unk_token '<unk>' is not a piece"},
        {"{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0}, \"merges\": []},"
         " \"added_tokens\": [{\"id\": 5, \"content\": \"<x>\", \"special\": true}]}", CKPT_E_FORMAT, "gap"},
        {"{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0}, \"merges\": []},"
         " \"added_tokens\": [{\"id\": 1, \"special\": true}]}", CKPT_E_FORMAT, "added_tokens[0]"},
        {"{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0}, \"merges\": []},"
         " \"added_tokens\": [{\"id\": 1, \"content\": \"a\"}]}", CKPT_E_FORMAT, "duplicates"},
        {"{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0}, \"merges\": []},"
         " \"normalizer\": {\"type\": \"NFKC\"}}", CKPT_E_UNSUPPORTED, "normalizer 'NFKC'"},
        {"{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0}, \"merges\": []},"
         " \"pre_tokenizer\": {\"type\": \"ByteLevel\"}}", CKPT_E_UNSUPPORTED, "ByteLevel pre_tokenizer needs add_prefix_space false"},
        {"{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0}, \"merges\": []},"
         " \"pre_tokenizer\": {\"type\": \"Metaspace\", \"replacement\": \"\\u2581\", \"split\": true}}",
         CKPT_E_UNSUPPORTED, "split"},
    };
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        ckpt_tok *tok = (ckpt_tok *)1;
        ckpt_err err;
        ckpt_err_clear(&err);
        ckpt_status st = ckpt_tok_parse_hf_json(&tok, bad[k].json, strlen(bad[k].json), "bad.json", &err);
        ck_assert_msg(st == bad[k].st && strstr(err.msg, bad[k].msg) && strstr(err.msg, "bad.json"),
                      "#%zu: want %d '%s', got %d '%s'", k, bad[k].st, bad[k].msg, st, err.msg);
        ck_assert_ptr_null(tok);
    }
    /* the real file cut anywhere is invalid JSON, never a crash */
    char *path = tu_data("models/tiny-mistral/tokenizer.json");
    size_t size;
    char *data = tu_read_file(path, &size);
    for (size_t cut = 0; cut < size; cut += 4099) {
        char *copy = malloc(cut ? cut : 1);
        memcpy(copy, data, cut);
        ckpt_tok *tok;
        ckpt_err err;
        ckpt_err_clear(&err);
        ck_assert_int_eq(ckpt_tok_parse_hf_json(&tok, copy, cut, "cut.json", &err), CKPT_E_FORMAT);
        free(copy);
    }
    free(data);
    free(path);
}
END_TEST

/* Metaspace instead of the normalizer pair, merges as [a, b] pairs, and an
 * added non-special token past the vocabulary. */
START_TEST(json_metaspace_variant)
{
    const char *json =
        "{\"model\": {\"type\": \"BPE\", \"byte_fallback\": true, \"unk_token\": \"<unk>\","
        "  \"vocab\": {\"<unk>\": 0, \"<s>\": 1, \"</s>\": 2, \"<0x7A>\": 3, \"" U2581 "a\": 4,"
        "              \"ab\": 5, \"" U2581 "\": 6, \"a\": 7, \"b\": 8},"
        "  \"merges\": [[\"" U2581 "\", \"a\"], [\"a\", \"b\"]]},"
        " \"added_tokens\": [{\"id\": 0, \"content\": \"<unk>\", \"special\": true},"
        "                    {\"id\": 1, \"content\": \"<s>\", \"special\": true},"
        "                    {\"id\": 9, \"content\": \"<x>\", \"special\": false}],"
        " \"normalizer\": null,"
        " \"pre_tokenizer\": {\"type\": \"Metaspace\", \"replacement\": \"\\u2581\","
        "                     \"prepend_scheme\": \"first\", \"split\": false},"
        " \"post_processor\": {\"type\": \"TemplateProcessing\","
        "   \"single\": [{\"SpecialToken\": {\"id\": \"<s>\", \"type_id\": 0}},"
        "                {\"Sequence\": {\"id\": \"A\", \"type_id\": 0}}],"
        "   \"special_tokens\": {\"<s>\": {\"id\": \"<s>\", \"ids\": [1], \"tokens\": [\"<s>\"]}}}}";
    ckpt_tok *tok;
    ckpt_err err;
    ckpt_err_clear(&err);
    ck_assert_msg(ckpt_tok_parse_hf_json(&tok, json, strlen(json), "v.json", &err) == CKPT_OK, "%s",
                  err.msg);
    ck_assert_uint_eq(ckpt_tok_n_vocab(tok), 10);
    ck_assert(ckpt_tok_add_bos(tok) && !ckpt_tok_add_eos(tok));
    ck_assert_int_eq(ckpt_tok_bos_id(tok), 1);
    ck_assert_int_eq(ckpt_tok_eos_id(tok), 2);
    ck_assert_int_eq(ckpt_tok_type(tok, 9), CKPT_TOK_USER_DEFINED);
    ck_assert_int_eq(ckpt_tok_type(tok, 2), CKPT_TOK_NORMAL); /* not listed as added */
    ck_assert_int_eq(ckpt_tok_type(tok, 3), CKPT_TOK_BYTE);
    /* scores: merged pieces by first rank, then the rest of the normal ones */
    float want[] = {0, 0, -2, 0, -0.0f, -1, -3, -4, -5, 0};
    for (uint32_t id = 0; id < 10; id++)
        ck_assert_msg(memcmp(&want[id], &(float){ckpt_tok_score(tok, id)}, 4) == 0, "score %u: %g",
                      id, (double)ckpt_tok_score(tok, id));
    /* prefix only at the very start ("first"); "<x>" is matched as one piece */
    expect_ids(tok, "ab<x>ab", CKPT_TOK_ADD_SPECIAL, "1 4 8 9 5");
    expect_ids(tok, "ab<s>ab", CKPT_TOK_PARSE_SPECIAL, "4 8 1 5");
    expect_ids(tok, "z", 0, "6 3");
    ckpt_tok_free(tok);
}
END_TEST

Suite *tokenizer_suite(void)
{
    Suite *s = suite_create("tokenizer");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 30);
    tcase_add_loop_test(tc, vocab_spm_equals_gguf, 0, 2);
    tcase_add_loop_test(tc, vocab_json_scores_from_merges, 0, 3);
    tcase_add_loop_test(tc, special_ids_and_flags, 0, N_LOADS);
    tcase_add_test(tc, load_dir_prefers_model);
    tcase_add_loop_test(tc, encode_equals_sentencepiece, 0, N_LOADS);
    tcase_add_loop_test(tc, encode_parse_special, 0, N_LOADS);
    tcase_add_loop_test(tc, roundtrip, 0, N_LOADS);
    tcase_add_test(tc, decode_details);
    tcase_add_test(tc, json_metaspace_variant);
    tcase_add_test(tc, spm_rare_paths);
    tcase_add_test(tc, config_rules);
    suite_add_tcase(s, tc);

    tc = tcase_create("limits");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, encode_buffer_too_small);
    tcase_add_loop_test(tc, encode_long_input, 0, 2);
    tcase_add_loop_test(tc, random_roundtrip, 0, 2);
    suite_add_tcase(s, tc);

    tc = tcase_create("corrupt");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, spm_truncated);
    tcase_add_test(tc, spm_hostile);
    tcase_add_test(tc, json_value_cap);
    tcase_add_test(tc, json_out_of_memory);
    tcase_add_test(tc, json_hostile);
    suite_add_tcase(s, tc);
    return s;
}
