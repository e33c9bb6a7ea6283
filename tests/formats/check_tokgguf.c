/*
 * check_tokgguf.c - the vocabulary of a GGUF (tokenizer.ggml.*) as a
 * tokenizer: on llama.cpp's own conversions of the kit models
 * (golden/<kit>/convert-f16.gguf) every string of tokenizer.tsv encodes
 * to SentencePiece's ids (tiny-mistral, tiny-mixtral); for the vocabulary
 * converted from tokenizer.json alone (flat scores of -1000) to the ids
 * llama.cpp itself gives with that GGUF (llamacpp-tokenize.tsv).  Plus
 * malformed tokenizer metadata in small written GGUFs.
 */
#include <check.h>
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats/gguf.h"
#include "formats/tokenizer.h"
#include "testutil.h"

static char *kit_file(const char *kit, const char *file)
{
    char *path = tu_fmt("%s/golden/%s/%s", TESTDATA, kit, file);
    size_t n;
    char *s = tu_read_file(path, &n);
    ck_assert_msg(s != NULL, "cannot read %s", path);
    free(path);
    return s;
}

static ckpt_tok *load_kit(const char *kit)
{
    char *path = tu_fmt("%s/golden/%s/convert-f16.gguf", TESTDATA, kit);
    ckpt_tok *tok;
    ckpt_err err = {0};
    ck_assert_msg(ckpt_tok_load_any(&tok, path, &err) == CKPT_OK, "%s", err.msg);
    ck_assert_int_eq(ckpt_tok_source(tok), CKPT_TOK_SRC_GGUF);
    free(path);
    return tok;
}

static char *encode_str(const ckpt_tok *tok, const char *text, size_t len)
{
    size_t cap = ckpt_tok_encode_max(len), n;
    int32_t *ids = malloc(cap * sizeof *ids);
    ckpt_err err = {0};
    ck_assert_msg(ckpt_tok_encode(tok, text, len, CKPT_TOK_ADD_SPECIAL, ids, cap, &n, &err) ==
                      CKPT_OK, "%s", err.msg);
    char *s = calloc(1, 12 * n + 1);
    for (size_t i = 0; i < n; i++)
        sprintf(s + strlen(s), i ? " %d" : "%d", ids[i]);
    free(ids);
    return s;
}

/* Encode column 1 of every line of `file` (after the header) and compare
 * with column 2; returns the number of strings. */
static int compare_file(const char *kit, const char *file)
{
    ckpt_tok *tok = load_kit(kit);
    char *all = kit_file(kit, file), *line = strchr(all, '\n');
    int n = 0;
    for (line = line + 1; *line; n++) {
        char *end = strchr(line, '\n');
        if (end)
            *end = '\0';
        char *tab1 = strchr(line, '\t');
        ck_assert_ptr_nonnull(tab1);
        *tab1 = '\0';
        char *tab2 = strchr(tab1 + 1, '\t');
        if (tab2)
            *tab2 = '\0';
        cJSON *j = cJSON_Parse(line);
        ck_assert(cJSON_IsString(j));
        char *got = encode_str(tok, j->valuestring, strlen(j->valuestring));
        ck_assert_msg(strcmp(got, tab1 + 1) == 0, "%s %s: %s\n got  %s\n want %s", kit, file,
                      line, got, tab1 + 1);
        free(got);
        cJSON_Delete(j);
        line = end ? end + 1 : line + strlen(line);
    }
    free(all);
    ckpt_tok_free(tok);
    return n;
}

static const char *const KITS[] = {"tiny-mistral", "tiny-mixtral"};

START_TEST(gguf_vocab_equals_sentencepiece)
{
    ck_assert_int_eq(compare_file(KITS[_i], "tokenizer.tsv"), 42);
}
END_TEST

START_TEST(gguf_vocab_tokjson_equals_llamacpp)
{
    ck_assert_int_eq(compare_file("tiny-mistral-tokjson", "llamacpp-tokenize.tsv"), 42);
}
END_TEST

START_TEST(gguf_vocab_fields)
{
    ckpt_tok *tok = load_kit("tiny-mistral");
    ck_assert_uint_eq(ckpt_tok_n_vocab(tok), 1500);
    ck_assert_int_eq(ckpt_tok_bos_id(tok), 1);
    ck_assert_int_eq(ckpt_tok_eos_id(tok), 2);
    ck_assert_int_eq(ckpt_tok_unk_id(tok), 0);
    ck_assert(ckpt_tok_add_bos(tok));
    ck_assert(!ckpt_tok_add_eos(tok));
    ck_assert(ckpt_tok_byte_fallback(tok));
    ck_assert(ckpt_tok_add_dummy_prefix(tok));
    ck_assert_int_eq(ckpt_tok_type(tok, 3), 6); /* <0x00> */
    /* decoding the golden prompt 0 ids gives its text back */
    static const int32_t ids[] = {1, 355, 879, 265, 1090, 1125, 308, 302, 1262,
                                  349, 273, 698, 277, 1262, 326, 828, 315};
    char buf[128];
    size_t len;
    ck_assert(ckpt_tok_decode(tok, ids, 17, buf, sizeof buf, &len, NULL) == CKPT_OK);
    ck_assert_str_eq(buf, "The kernel module is loaded at boot time and");
    ckpt_tok_free(tok);
}
END_TEST

/* ---- malformed tokenizer metadata ---- */

struct meta {
    const char *model;        /* tokenizer.ggml.model, NULL: absent */
    int n_tokens, n_scores;   /* -1: absent */
    int32_t bad_type;         /* token_type of token 1 */
    uint32_t bos;
};

static ckpt_status write_and_load(const struct meta *m, ckpt_err *err)
{
    char *dir = tu_tmpdir(), *path = tu_fmt("%s/v.gguf", dir);
    ckpt_gguf_writer *w;
    ckpt_err e = {0};
    ck_assert(ckpt_gguf_writer_new(&w, path, true, &e) == CKPT_OK);
    if (m->model)
        ck_assert(ckpt_gguf_writer_set_str(w, "tokenizer.ggml.model", m->model, &e) == CKPT_OK);
    const char *toks[] = {"<unk>", "<s>", "</s>", "a", "b", "ab"};
    float scores[] = {0, 0, 0, -1, -2, -3};
    int32_t types[] = {2, 3, 3, 1, 1, 1};
    types[1] = m->bad_type;
    if (m->n_tokens >= 0)
        ck_assert(ckpt_gguf_writer_set_str_array(w, "tokenizer.ggml.tokens", toks, NULL,
                                                 (uint64_t)m->n_tokens, &e) == CKPT_OK);
    if (m->n_scores >= 0)
        ck_assert(ckpt_gguf_writer_set_array(w, "tokenizer.ggml.scores", CKPT_GGUF_FLOAT32,
                                             scores, (uint64_t)m->n_scores, &e) == CKPT_OK);
    ck_assert(ckpt_gguf_writer_set_array(w, "tokenizer.ggml.token_type", CKPT_GGUF_INT32, types,
                                         6, &e) == CKPT_OK);
    ck_assert(ckpt_gguf_writer_set_u32(w, "tokenizer.ggml.bos_token_id", m->bos, &e) == CKPT_OK);
    ck_assert(ckpt_gguf_writer_begin(w, &e) == CKPT_OK);
    ck_assert_msg(ckpt_gguf_writer_finish(w, &e) == CKPT_OK, "%s", e.msg);
    ckpt_tok *tok = NULL;
    ckpt_status st = ckpt_tok_load_gguf(&tok, path, err);
    ckpt_tok_free(tok);
    tu_rmtree(dir);
    free(dir);
    free(path);
    return st;
}

START_TEST(gguf_vocab_corrupt)
{
    static const struct {
        struct meta m;
        ckpt_status want;
        const char *msg;
    } cases[] = {
        {{"bert", 6, 6, 3, 1}, CKPT_E_UNSUPPORTED, "'bert' is not supported"},
        /* byte-level BPE needs its merges */
        {{"gpt2", 6, 6, 3, 1}, CKPT_E_FORMAT, "no tokenizer.ggml.merges"},
        {{NULL, 6, 6, 3, 1}, CKPT_E_FORMAT, "tokenizer.ggml.model"},
        {{"llama", -1, 6, 3, 1}, CKPT_E_FORMAT, "no tokenizer.ggml.tokens"},
        {{"llama", 6, 5, 3, 1}, CKPT_E_FORMAT, "6 tokens but 5 scores"},
        {{"llama", 6, 6, 9, 1}, CKPT_E_FORMAT, "token 1 has type 9"},
        {{"llama", 6, 6, 3, 6}, CKPT_E_FORMAT, "bos_token_id = 6 is outside"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ckpt_err err = {0};
        ck_assert_int_eq(write_and_load(&cases[i].m, &err), cases[i].want);
        ck_assert_msg(strstr(err.msg, cases[i].msg), "case %zu: %s", i, err.msg);
    }
}
END_TEST

/* A vocabulary with no <unk> and no byte pieces cannot stand for text it
 * has no piece for: encoding it fails instead of yielding id -1 (which the
 * model would have used as an embedding row; found by fuzz_tokenizer_gguf). */
START_TEST(gguf_vocab_without_unk)
{
    char *dir = tu_tmpdir(), *path = tu_fmt("%s/v.gguf", dir);
    ckpt_gguf_writer *w;
    ckpt_err e = {0};
    ck_assert(ckpt_gguf_writer_new(&w, path, true, &e) == CKPT_OK);
    const char *toks[] = {"<s>", "</s>", "\xe2\x96\x81", "a", "b", "ab"}; /* U+2581: the space */
    float scores[] = {0, 0, -1, -1, -2, -3};
    int32_t types[] = {3, 3, 1, 1, 1, 1};
    ck_assert(ckpt_gguf_writer_set_str(w, "tokenizer.ggml.model", "llama", &e) == CKPT_OK);
    ck_assert(ckpt_gguf_writer_set_str_array(w, "tokenizer.ggml.tokens", toks, NULL, 6, &e) ==
              CKPT_OK);
    ck_assert(ckpt_gguf_writer_set_array(w, "tokenizer.ggml.scores", CKPT_GGUF_FLOAT32, scores, 6,
                                         &e) == CKPT_OK);
    ck_assert(ckpt_gguf_writer_set_array(w, "tokenizer.ggml.token_type", CKPT_GGUF_INT32, types,
                                         6, &e) == CKPT_OK);
    ck_assert(ckpt_gguf_writer_begin(w, &e) == CKPT_OK);
    ck_assert_msg(ckpt_gguf_writer_finish(w, &e) == CKPT_OK, "%s", e.msg);
    ckpt_tok *tok = NULL;
    ck_assert_msg(ckpt_tok_load_gguf(&tok, path, &e) == CKPT_OK, "%s", e.msg);
    ck_assert_int_lt(ckpt_tok_unk_id(tok), 0);
    int32_t ids[16];
    size_t n = 0;
    ck_assert_msg(ckpt_tok_encode(tok, "ab", 2, 0, ids, 16, &n, &e) == CKPT_OK, "%s", e.msg);
    ck_assert_msg(ckpt_tok_encode(tok, "abc", 3, 0, ids, 16, &n, &e) == CKPT_E_UNSUPPORTED,
                  "an id for 'c': n=%zu", n);
    ck_assert_msg(strstr(e.msg, "no unknown token"), "%s", e.msg);
    ckpt_tok_free(tok);
    tu_rmtree(dir);
    free(dir);
    free(path);
}
END_TEST

Suite *tokgguf_suite(void)
{
    Suite *s = suite_create("tokgguf");
    TCase *tc = tcase_create("core");
    tcase_add_loop_test(tc, gguf_vocab_equals_sentencepiece, 0, 2);
    tcase_add_test(tc, gguf_vocab_tokjson_equals_llamacpp);
    tcase_add_test(tc, gguf_vocab_fields);
    suite_add_tcase(s, tc);
    tc = tcase_create("corrupt");
    tcase_add_test(tc, gguf_vocab_corrupt);
    tcase_add_test(tc, gguf_vocab_without_unk);
    suite_add_tcase(s, tc);
    return s;
}
