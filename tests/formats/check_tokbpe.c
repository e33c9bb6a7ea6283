/*
 * check_tokbpe.c - byte-level BPE (formats/tokenizer_bpe.c, the byte-level
 * part of tokenizer_json.c, tokenizer_tekken.c, tokenizer_pretok.c) on
 * hand-made tokenizers whose ids are worked out here from the rules
 * (GPT-2's byte alphabet from its definition, merges by rank, Hugging
 * Face's added-token rules), the Unicode standard's example of U+FFFD
 * substitution, the generated Tekken fixture in both layouts, and hostile
 * tokenizer.json / tekken.json files.  Hugging Face itself is the oracle of
 * tests/interop/t_tekken_tokenize.sh.
 */
#include <check.h>
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats/gguf.h"
#include "formats/tokenizer.h"
#include "testutil.h"

/* GPT-2's bytes_to_unicode, from its definition: the printable bytes stand
 * for themselves, the n-th other byte for U+0100 + n. */
static unsigned gpt2_char(unsigned b)
{
    unsigned n = 0;
    bool keep = (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE);
    if (keep)
        return b;
    for (unsigned c = 0; c < b; c++)
        n += !((c >= 0x21 && c <= 0x7E) || (c >= 0xA1 && c <= 0xAC) || (c >= 0xAE));
    return 0x100 + n;
}

static char *utf8(unsigned cp, char buf[4])
{
    if (cp < 0x80) {
        buf[0] = (char)cp;
        buf[1] = 0;
    } else {
        buf[0] = (char)(0xC0 | cp >> 6);
        buf[1] = (char)(0x80 | (cp & 0x3F));
        buf[2] = 0;
    }
    return buf;
}

/* The piece text of bytes s in GPT-2 characters (malloc'd). */
static char *bl(const char *s)
{
    char *o = malloc(2 * strlen(s) + 1), c[4];
    o[0] = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        strcat(o, utf8(gpt2_char(*p), c));
    return o;
}

/*
 * A byte-level tokenizer.json: ids 0..255 the byte alphabet (id b for byte
 * b), then `extra` pieces (plain bytes, turned into GPT-2 characters) from
 * 256 on, merges as "a b" of plain bytes, then `added` (a JSON array text)
 * and the pre-tokenizer and flags given.
 */
static char *make_json(const char *const *extra, size_t n_extra, const char *const *merges,
                       size_t n_merges, const char *added, const char *pre, bool ignore)
{
    cJSON *root = cJSON_CreateObject(), *model = cJSON_AddObjectToObject(root, "model");
    cJSON_AddItemToObject(root, "added_tokens", cJSON_Parse(added ? added : "[]"));
    cJSON_AddNullToObject(root, "normalizer");
    cJSON_AddItemToObject(root, "pre_tokenizer", cJSON_Parse(pre));
    cJSON_AddItemToObject(root, "decoder", cJSON_Parse("{\"type\": \"ByteLevel\"}"));
    cJSON_AddStringToObject(model, "type", "BPE");
    cJSON_AddBoolToObject(model, "ignore_merges", ignore);
    cJSON *v = cJSON_AddObjectToObject(model, "vocab");
    char c[4];
    for (unsigned b = 0; b < 256; b++)
        cJSON_AddNumberToObject(v, utf8(gpt2_char(b), c), b);
    for (size_t i = 0; i < n_extra; i++) {
        char *p = bl(extra[i]);
        cJSON_AddNumberToObject(v, p, (double)(256 + i));
        free(p);
    }
    cJSON *m = cJSON_AddArrayToObject(model, "merges");
    for (size_t i = 0; i < n_merges; i++) {
        char *sp = strchr(merges[i], ' '), a[64], *b;
        snprintf(a, sizeof a, "%.*s", (int)(sp - merges[i]), merges[i]);
        char *x = bl(a);
        b = bl(sp + 1);
        char *s = tu_fmt("%s %s", x, b);
        cJSON_AddItemToArray(m, cJSON_CreateString(s));
        free(x);
        free(b);
        free(s);
    }
    char *out = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    return out;
}

#define GPT2_PRE "{\"type\": \"ByteLevel\", \"add_prefix_space\": false, \"use_regex\": true}"

static ckpt_tok *parse(const char *json)
{
    ckpt_tok *tok = NULL;
    ckpt_err err = {0};
    ck_assert_msg(ckpt_tok_parse_hf_json(&tok, json, strlen(json), "t.json", &err) == CKPT_OK,
                  "%s", err.msg);
    return tok;
}

/* The ids of text (len bytes) as "a b c". */
static char *ids_of(const ckpt_tok *tok, const char *text, size_t len, unsigned flags)
{
    int32_t ids[512];
    size_t n = 0;
    ckpt_err err = {0};
    ck_assert_msg(ckpt_tok_encode(tok, text, len, flags, ids, 512, &n, &err) == CKPT_OK, "%s",
                  err.msg);
    char *s = calloc(1, 12 * n + 1);
    for (size_t i = 0; i < n; i++)
        sprintf(s + strlen(s), i ? " %d" : "%d", ids[i]);
    return s;
}

static void expect(const ckpt_tok *tok, const char *text, unsigned flags, const char *want)
{
    char *got = ids_of(tok, text, strlen(text), flags);
    ck_assert_msg(strcmp(got, want) == 0, "'%s': got %s, want %s", text, got, want);
    free(got);
}

static const char *const EXTRA[] = {"ab", "bc", "abc", "cab"};
static const char *const MERGES[] = {"a b", "ab c", "b c"};

START_TEST(alphabet_decode)
{
    char *json = make_json(NULL, 0, NULL, 0, NULL, GPT2_PRE, false);
    ckpt_tok *tok = parse(json);
    ck_assert_int_eq(ckpt_tok_kind(tok), CKPT_TOK_KIND_BYTE_BPE);
    ck_assert_str_eq(ckpt_tok_pre_name(tok), "gpt-2");
    /* piece b decodes to byte b, for every byte */
    for (int32_t b = 0; b < 256; b++) {
        char buf[4];
        size_t len;
        ckpt_err err = {0};
        ck_assert(ckpt_tok_decode(tok, &b, 1, buf, sizeof buf, &len, &err) == CKPT_OK);
        ck_assert_uint_eq(len, 1);
        ck_assert_int_eq((unsigned char)buf[0], b);
    }
    /* and text becomes one piece per byte without merges (GPT-2's split
     * keeps " x" together, which changes nothing here) */
    expect(tok, "a \xc3\xa9\n", 0, "97 32 195 169 10");
    ckpt_tok_free(tok);
    free(json);
}
END_TEST

START_TEST(merges_by_rank)
{
    char *json = make_json(EXTRA, 4, MERGES, 3, NULL, GPT2_PRE, false);
    ckpt_tok *tok = parse(json);
    ck_assert_uint_eq(ckpt_tok_n_merges(tok), 3);
    /* abc: (a,b) rank 0 first, then (ab,c) rank 1 */
    expect(tok, "abc", 0, "258");
    /* bcab: (a,b) rank 0 beats (b,c) rank 2, then (b,c): bc ab */
    expect(tok, "bcab", 0, "257 256");
    /* cab has no merge: c + ab (ignore_merges off) */
    expect(tok, "cab", 0, "99 256");
    /* GPT-2's regex cuts " abc" apart from "ab": the space is its own byte */
    expect(tok, "ab abc", 0, "256 32 258");
    ckpt_tok_free(tok);
    free(json);
    json = make_json(EXTRA, 4, MERGES, 3, NULL, GPT2_PRE, true);
    tok = parse(json);
    expect(tok, "cab", 0, "259"); /* ignore_merges: a piece taken whole */
    ckpt_tok_free(tok);
    free(json);
    /* a pair listed twice takes its last rank, as Hugging Face's merge map
     * (filled in order) keeps it: (b,c) now comes before (a,b) */
    static const char *const twice[] = {"a b", "b c", "a b"};
    json = make_json(EXTRA, 4, twice, 3, NULL, GPT2_PRE, false);
    tok = parse(json);
    ck_assert_uint_eq(ckpt_tok_n_merges(tok), 2);
    expect(tok, "abc", 0, "97 257");
    ckpt_tok_free(tok);
    free(json);
}
END_TEST

/* The Unicode standard's example of "U+FFFD substitution of maximal
 * subparts" (chapter 3.9): 61 F1 80 80 E1 80 C2 62 80 63 80 BF 64 reads as
 * a, FFFD, FFFD, FFFD, b, FFFD, c, FFFD, FFFD, d. */
START_TEST(invalid_utf8_maximal_subparts)
{
    char *json = make_json(NULL, 0, NULL, 0, NULL, GPT2_PRE, false);
    ckpt_tok *tok = parse(json);
    static const char in[] = "\x61\xF1\x80\x80\xE1\x80\xC2\x62\x80\x63\x80\xBF\x64";
    static const char want[] = "a\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"
                               "b\xEF\xBF\xBD"
                               "c\xEF\xBF\xBD\xEF\xBF\xBD"
                               "d";
    int32_t ids[64];
    size_t n, len;
    char out[128];
    ckpt_err err = {0};
    ck_assert(ckpt_tok_encode(tok, in, sizeof in - 1, 0, ids, 64, &n, &err) == CKPT_OK);
    ck_assert(ckpt_tok_decode(tok, ids, n, out, sizeof out, &len, &err) == CKPT_OK);
    ck_assert_uint_eq(len, sizeof want - 1);
    ck_assert(memcmp(out, want, len) == 0);
    ckpt_tok_free(tok);
    free(json);
}
END_TEST

START_TEST(added_tokens_rules)
{
    const char *added =
        "[{\"id\": 260, \"content\": \"<s>\", \"special\": true},"
        " {\"id\": 261, \"content\": \"<|u|>\", \"special\": false, \"lstrip\": true, \"rstrip\": true},"
        " {\"id\": 262, \"content\": \"[X]\", \"special\": false}]";
    char *json = make_json(EXTRA, 4, MERGES, 3, added, GPT2_PRE, false);
    ckpt_tok *tok = parse(json);
    /* control text is text unless special parsing is asked for */
    expect(tok, "<s>", 0, "60 115 62");
    expect(tok, "<s>", CKPT_TOK_PARSE_SPECIAL, "260");
    /* non-special added tokens always match; lstrip/rstrip take the white
     * space (U+3000 included) around them, and only around those */
    expect(tok, "ab \xe3\x80\x80<|u|>\t\n abc", 0, "256 261 258");
    expect(tok, "ab [X] abc", 0, "256 32 262 32 258");
    /* leftmost, then longest */
    expect(tok, "[X]<|u|>", 0, "262 261");
    ckpt_tok_free(tok);
    free(json);
    /* single_word is refused */
    json = make_json(NULL, 0, NULL, 0,
                     "[{\"id\": 256, \"content\": \"w\", \"special\": false, \"single_word\": true}]",
                     GPT2_PRE, false);
    ckpt_tok *t2 = NULL;
    ckpt_err err = {0};
    ck_assert_int_eq(ckpt_tok_parse_hf_json(&t2, json, strlen(json), "t.json", &err),
                     CKPT_E_UNSUPPORTED);
    ck_assert_ptr_nonnull(strstr(err.msg, "single_word"));
    free(json);
}
END_TEST

/* The generated Tekken tokenizer: tokenizer.json and tekken.json give the
 * same vocabulary, merges and ids; control tokens only with PARSE_SPECIAL. */
START_TEST(fixture_layouts_agree)
{
    char *dir = tu_tmpdir();
    const char *bin = getenv("CKPT_TESTBIN");
    char *cmd = tu_fmt("'%s/gen_tekken' '%s/tekken/train.txt' '%s'", bin && *bin ? bin : "build/tests",
                       TESTDATA, dir);
    ck_assert_int_eq(tu_run(cmd, NULL, NULL), 0);
    char *pj = tu_fmt("%s/tokenizer.json", dir), *pt = tu_fmt("%s/tekken.json", dir);
    ckpt_tok *a = NULL, *b = NULL;
    ckpt_err err = {0};
    ck_assert_msg(ckpt_tok_load_hf_json(&a, pj, &err) == CKPT_OK, "%s", err.msg);
    ck_assert_msg(ckpt_tok_load_tekken(&b, pt, &err) == CKPT_OK, "%s", err.msg);
    ck_assert_uint_eq(ckpt_tok_n_vocab(a), 1356);
    ck_assert_uint_eq(ckpt_tok_n_vocab(b), 1356);
    for (uint32_t i = 0; i < 1356; i++) {
        size_t la, lb;
        const char *x = ckpt_tok_piece(a, i, &la), *y = ckpt_tok_piece(b, i, &lb);
        ck_assert_msg(la == lb && memcmp(x, y, la) == 0, "piece %u", i);
        ck_assert_int_eq(ckpt_tok_type(a, i), ckpt_tok_type(b, i));
    }
    ck_assert_uint_eq(ckpt_tok_n_merges(a), ckpt_tok_n_merges(b));
    for (uint32_t i = 0; i < ckpt_tok_n_merges(a); i++) {
        int32_t p, q, r, s;
        ck_assert(ckpt_tok_merge(a, i, &p, &q) && ckpt_tok_merge(b, i, &r, &s));
        ck_assert_msg(p == r && q == s, "merge %u", i);
    }
    ck_assert_str_eq(ckpt_tok_pre_name(a), "tekken");
    ck_assert_str_eq(ckpt_tok_pre_name(b), "tekken");
    ck_assert_int_eq(ckpt_tok_bos_id(b), 1);
    ck_assert_int_eq(ckpt_tok_eos_id(b), 2);
    static const char *const texts[] = {"[INST] Größe 12345 東京 😀 [/INST]", "  \n\nx</s>"};
    for (size_t i = 0; i < 2; i++)
        for (unsigned f = 0; f <= CKPT_TOK_PARSE_SPECIAL; f += CKPT_TOK_PARSE_SPECIAL) {
            char *x = ids_of(a, texts[i], strlen(texts[i]), f | CKPT_TOK_ADD_SPECIAL);
            char *y = ids_of(b, texts[i], strlen(texts[i]), f | CKPT_TOK_ADD_SPECIAL);
            ck_assert_str_eq(x, y);
            /* without special parsing no id below 100 (the specials) but BOS */
            if (!f)
                for (char *p = strchr(x, ' '); p; p = strchr(p + 1, ' '))
                    ck_assert_msg(atoi(p + 1) >= 100, "%s: %s", texts[i], x);
            free(x);
            free(y);
        }
    ckpt_tok_free(a);
    ckpt_tok_free(b);
    free(pj);
    free(pt);
    free(cmd);
    tu_rmtree(dir);
    free(dir);
}
END_TEST

/* A backtracking bomb in a file's regex ends in an error, not a hang. */
START_TEST(regex_budget)
{
    char *json = make_json(NULL, 0, NULL, 0, NULL,
                           "{\"type\": \"Sequence\", \"pretokenizers\": [{\"type\": \"Split\","
                           " \"pattern\": {\"Regex\": \"(a+)+$\"}, \"behavior\": \"Isolated\","
                           " \"invert\": false}, {\"type\": \"ByteLevel\", \"add_prefix_space\":"
                           " false, \"use_regex\": false}]}",
                           false);
    ckpt_tok *tok = parse(json);
    ck_assert_ptr_null(ckpt_tok_pre_name(tok)); /* llama.cpp has no name for it */
    char text[64];
    memset(text, 'a', 40);
    strcpy(text + 40, "b");
    int32_t ids[256];
    size_t n;
    ckpt_err err = {0};
    ck_assert_int_eq(ckpt_tok_encode(tok, text, strlen(text), 0, ids, 256, &n, &err),
                     CKPT_E_RANGE);
    ck_assert_ptr_nonnull(strstr(err.msg, "pre-tokenizer regex"));
    ckpt_tok_free(tok);
    free(json);
}
END_TEST

START_TEST(json_hostile)
{
    static const struct {
        const char *pre, *decoder, *merge, *model_extra;
        ckpt_status want;
        const char *msg;
    } cases[] = {
        {"{\"type\": \"Sequence\", \"pretokenizers\": [{\"type\": \"Split\", \"pattern\": "
         "{\"Regex\": \"(\"}, \"behavior\": \"Isolated\"}, {\"type\": \"ByteLevel\", "
         "\"add_prefix_space\": false, \"use_regex\": false}]}",
         NULL, NULL, NULL, CKPT_E_FORMAT, "does not compile"},
        {"{\"type\": \"Sequence\", \"pretokenizers\": [{\"type\": \"Split\", \"pattern\": "
         "{\"Regex\": \"a\"}, \"behavior\": \"Removed\"}, {\"type\": \"ByteLevel\", "
         "\"add_prefix_space\": false, \"use_regex\": false}]}",
         NULL, NULL, NULL, CKPT_E_UNSUPPORTED, "Isolated"},
        {"{\"type\": \"Sequence\", \"pretokenizers\": [{\"type\": \"Split\", \"pattern\": "
         "{\"Regex\": \"\"}, \"behavior\": \"Isolated\"}, {\"type\": \"ByteLevel\", "
         "\"add_prefix_space\": false, \"use_regex\": false}]}",
         NULL, NULL, NULL, CKPT_E_RANGE, "regex of 0 bytes"},
        {"{\"type\": \"Sequence\", \"pretokenizers\": [{\"type\": \"Digits\"}]}", NULL, NULL, NULL,
         CKPT_E_UNSUPPORTED, "[Split, ByteLevel]"},
        {"{\"type\": \"ByteLevel\", \"add_prefix_space\": true}", NULL, NULL, NULL,
         CKPT_E_UNSUPPORTED, "add_prefix_space false"},
        {"{\"type\": \"ByteLevel\", \"add_prefix_space\": false, \"use_regex\": false}", NULL, NULL,
         NULL, CKPT_E_UNSUPPORTED, "without a regex"},
        {GPT2_PRE, "{\"type\": \"Metaspace\"}", NULL, NULL, CKPT_E_UNSUPPORTED, "decoder"},
        {GPT2_PRE, NULL, "a zz", NULL, CKPT_E_FORMAT, "not in the vocabulary"},
        {GPT2_PRE, NULL, "ab", NULL, CKPT_E_FORMAT, "is not \"a b\""},
        {GPT2_PRE, NULL, NULL, "\"byte_fallback\": true", CKPT_E_UNSUPPORTED, "byte_fallback"},
        {GPT2_PRE, NULL, NULL, "\"ignore_merges\": 1", CKPT_E_FORMAT, "ignore_merges"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *json = make_json(NULL, 0, NULL, 0, NULL, cases[i].pre, false);
        cJSON *root = cJSON_Parse(json), *model = cJSON_GetObjectItem(root, "model");
        if (cases[i].decoder)
            cJSON_ReplaceItemInObject(root, "decoder", cJSON_Parse(cases[i].decoder));
        if (cases[i].merge)
            cJSON_AddItemToArray(cJSON_GetObjectItem(model, "merges"),
                                 cJSON_CreateString(cases[i].merge));
        if (cases[i].model_extra) {
            char *o = tu_fmt("{%s}", cases[i].model_extra);
            cJSON *x = cJSON_Parse(o);
            cJSON_DeleteItemFromObject(model, x->child->string);
            cJSON_AddItemToObject(model, x->child->string, cJSON_Duplicate(x->child, 1));
            cJSON_Delete(x);
            free(o);
        }
        free(json);
        json = cJSON_PrintUnformatted(root);
        cJSON_Delete(root);
        ckpt_tok *tok = (ckpt_tok *)1;
        ckpt_err err = {0};
        ck_assert_int_eq(ckpt_tok_parse_hf_json(&tok, json, strlen(json), "bad.json", &err),
                         cases[i].want);
        ck_assert_ptr_null(tok);
        ck_assert_msg(strstr(err.msg, cases[i].msg), "case %zu: %s", i, err.msg);
        ck_assert_msg(strncmp(err.msg, "bad.json: ", 10) == 0, "case %zu: %s", i, err.msg);
        free(json);
    }
}
END_TEST

/* A small tekken.json: 256 bytes and "ab", "abc"; edits make it hostile. */
static cJSON *small_tekken(void)
{
    cJSON *root = cJSON_CreateObject(), *cfg = cJSON_AddObjectToObject(root, "config");
    cJSON_AddStringToObject(cfg, "pattern", "\\p{L}+|\\s+|.");
    cJSON_AddNumberToObject(cfg, "default_vocab_size", 4 + 258);
    cJSON_AddNumberToObject(cfg, "default_num_special_tokens", 4);
    cJSON_AddStringToObject(cfg, "version", "v7");
    cJSON *v = cJSON_AddArrayToObject(root, "vocab");
    static const char *const b64[] = {"YWI=", "YWJj"}; /* "ab", "abc" */
    for (int r = 0; r < 258; r++) {
        cJSON *e = cJSON_CreateObject();
        char buf[8];
        unsigned char byte = (unsigned char)r;
        static const char al[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        buf[0] = al[byte >> 2];
        buf[1] = al[(byte & 3) << 4];
        strcpy(buf + 2, "==");
        cJSON_AddNumberToObject(e, "rank", r);
        cJSON_AddStringToObject(e, "token_bytes", r < 256 ? buf : b64[r - 256]);
        cJSON_AddNullToObject(e, "token_str");
        cJSON_AddItemToArray(v, e);
    }
    cJSON *sp = cJSON_AddArrayToObject(root, "special_tokens");
    static const char *const names[] = {"<unk>", "<s>", "</s>"};
    for (int i = 0; i < 3; i++) {
        cJSON *e = cJSON_CreateObject();
        cJSON_AddNumberToObject(e, "rank", i);
        cJSON_AddStringToObject(e, "token_str", names[i]);
        cJSON_AddBoolToObject(e, "is_control", 1);
        cJSON_AddItemToArray(sp, e);
    }
    return root;
}

static ckpt_status parse_tekken(cJSON *root, ckpt_tok **tok, ckpt_err *err)
{
    char *json = cJSON_PrintUnformatted(root);
    ckpt_status st = ckpt_tok_parse_tekken(tok, json, strlen(json), "tekken.json", err);
    free(json);
    return st;
}

START_TEST(tekken_small)
{
    cJSON *root = small_tekken();
    ckpt_tok *tok = NULL;
    ckpt_err err = {0};
    ck_assert_msg(parse_tekken(root, &tok, &err) == CKPT_OK, "%s", err.msg);
    ck_assert_uint_eq(ckpt_tok_n_vocab(tok), 262);
    size_t len;
    ck_assert_str_eq(ckpt_tok_piece(tok, 3, &len), "<SPECIAL_3>"); /* the filler */
    /* merges of "abc": every split into pieces, by rank: (a, bc) is none,
     * (ab, c) is one */
    ck_assert_uint_eq(ckpt_tok_n_merges(tok), 2);
    int32_t a, b;
    ck_assert(ckpt_tok_merge(tok, 0, &a, &b) && a == 4 + 'a' && b == 4 + 'b');
    ck_assert(ckpt_tok_merge(tok, 1, &a, &b) && a == 4 + 256 && b == 4 + 'c');
    expect(tok, "abc ab", CKPT_TOK_ADD_SPECIAL, "1 261 36 260");
    ckpt_tok_free(tok);
    cJSON_Delete(root);
}
END_TEST

START_TEST(tekken_hostile)
{
    static const struct {
        const char *path, *value; /* "config.x" or "vocab.N.x" or "special_tokens" */
        ckpt_status want;
        const char *msg;
    } cases[] = {
        {"config.version", "\"seven\"", CKPT_E_UNSUPPORTED, "config.version"},
        {"config.default_vocab_size", "100", CKPT_E_FORMAT, "fewer than 256"},
        {"config.default_vocab_size", "1000", CKPT_E_FORMAT, "fewer than default_vocab_size"},
        {"config.default_num_special_tokens", "-1", CKPT_E_FORMAT, "config needs"},
        {"config.pattern", "\"[\"", CKPT_E_FORMAT, "does not compile"},
        {"vocab.5.rank", "6", CKPT_E_FORMAT, "vocab[5] needs rank 5"},
        {"vocab.5.token_bytes", "\"!!\"", CKPT_E_FORMAT, "vocab[5].token_bytes"},
        {"vocab.5.token_bytes", "\"Bg==\"", CKPT_E_FORMAT, "single byte of its rank"},
        {"vocab.257.token_bytes", "\"YWI=\"", CKPT_E_FORMAT, "duplicates"},
        {"vocab.257.token_bytes", "\"eHl6\"", CKPT_E_FORMAT, "no merge"},
        {"special_tokens", "[{\"rank\": 1, \"token_str\": \"<s>\"}]", CKPT_E_FORMAT, "rank 0"},
        {"special_tokens", "[{\"rank\": 0, \"token_str\": \"a\"}, {\"rank\": 1, \"token_str\": "
                           "\"b\"}, {\"rank\": 2, \"token_str\": \"c\"}, {\"rank\": 3, "
                           "\"token_str\": \"d\"}, {\"rank\": 4, \"token_str\": \"e\"}]",
         CKPT_E_FORMAT, "more special_tokens"},
        {"config.version!", "\"v13\"", CKPT_E_FORMAT, "must list them"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cJSON *root = small_tekken();
        char path[64];
        snprintf(path, sizeof path, "%s", cases[i].path);
        bool drop_specials = path[strlen(path) - 1] == '!';
        if (drop_specials) {
            path[strlen(path) - 1] = 0;
            cJSON_DeleteItemFromObject(root, "special_tokens");
        }
        cJSON *parent = root, *val = cJSON_Parse(cases[i].value);
        char *key = path, *dot;
        while ((dot = strchr(key, '.'))) {
            *dot = 0;
            parent = cJSON_IsArray(parent) ? cJSON_GetArrayItem(parent, atoi(key))
                                           : cJSON_GetObjectItem(parent, key);
            key = dot + 1;
        }
        cJSON_ReplaceItemInObject(parent, key, val);
        ckpt_tok *tok = (ckpt_tok *)1;
        ckpt_err err = {0};
        ck_assert_int_eq(parse_tekken(root, &tok, &err), cases[i].want);
        ck_assert_ptr_null(tok);
        ck_assert_msg(strstr(err.msg, cases[i].msg), "case %zu: %s", i, err.msg);
        ck_assert_msg(strncmp(err.msg, "tekken.json: ", 13) == 0, "case %zu: %s", i, err.msg);
        cJSON_Delete(root);
    }
}
END_TEST

/* A gpt2 GGUF vocabulary of tok written with tokenizer.ggml.pre `pre` and
 * its merges (one extra merge `bad` when not NULL), loaded back. */
static ckpt_status gguf_roundtrip(const ckpt_tok *tok, const char *pre, const char *bad,
                                  ckpt_tok **out, ckpt_err *err)
{
    char *dir = tu_tmpdir(), *path = tu_fmt("%s/v.gguf", dir);
    uint32_t n = ckpt_tok_n_vocab(tok), nm = ckpt_tok_n_merges(tok);
    const char **toks = calloc(n, sizeof *toks), **merges = calloc(nm + 1, sizeof *merges);
    int32_t *types = calloc(n, sizeof *types);
    for (uint32_t i = 0; i < n; i++) {
        toks[i] = ckpt_tok_piece(tok, i, NULL);
        types[i] = ckpt_tok_type(tok, i);
    }
    for (uint32_t i = 0; i < nm; i++) {
        int32_t a, b;
        ckpt_tok_merge(tok, i, &a, &b);
        merges[i] = tu_fmt("%s %s", ckpt_tok_piece(tok, (uint32_t)a, NULL),
                           ckpt_tok_piece(tok, (uint32_t)b, NULL));
    }
    if (bad)
        merges[nm] = tu_fmt("%s", bad);
    ckpt_gguf_writer *w;
    ckpt_err e = {0};
    ck_assert(ckpt_gguf_writer_new(&w, path, true, &e) == CKPT_OK);
    ck_assert(ckpt_gguf_writer_set_str(w, "tokenizer.ggml.model", "gpt2", &e) == CKPT_OK);
    ck_assert(ckpt_gguf_writer_set_str(w, "tokenizer.ggml.pre", pre, &e) == CKPT_OK);
    ck_assert(ckpt_gguf_writer_set_str_array(w, "tokenizer.ggml.tokens", toks, NULL, n, &e) ==
              CKPT_OK);
    ck_assert(ckpt_gguf_writer_set_array(w, "tokenizer.ggml.token_type", CKPT_GGUF_INT32, types,
                                         n, &e) == CKPT_OK);
    ck_assert(ckpt_gguf_writer_set_str_array(w, "tokenizer.ggml.merges", merges, NULL,
                                             nm + (bad != NULL), &e) == CKPT_OK);
    ck_assert(ckpt_gguf_writer_set_u32(w, "tokenizer.ggml.bos_token_id", 1, &e) == CKPT_OK);
    ck_assert(ckpt_gguf_writer_begin(w, &e) == CKPT_OK);
    ck_assert_msg(ckpt_gguf_writer_finish(w, &e) == CKPT_OK, "%s", e.msg);
    ckpt_status st = ckpt_tok_load_gguf(out, path, err);
    for (uint32_t i = 0; i <= nm; i++)
        free((void *)merges[i]);
    free(merges);
    free(toks);
    free(types);
    tu_rmtree(dir);
    free(dir);
    free(path);
    return st;
}

/* The GGUF form of a byte-level vocabulary encodes as its source does;
 * llama.cpp's "default" pre (its own mix of regexes) and a merge of
 * unknown pieces are refused. */
START_TEST(gguf_bytelevel)
{
    cJSON *root = small_tekken();
    ckpt_tok *src = NULL, *tok = NULL;
    ckpt_err err = {0};
    ck_assert(parse_tekken(root, &src, &err) == CKPT_OK);
    ck_assert_msg(gguf_roundtrip(src, "tekken", NULL, &tok, &err) == CKPT_OK, "%s", err.msg);
    ck_assert_int_eq(ckpt_tok_kind(tok), CKPT_TOK_KIND_BYTE_BPE);
    ck_assert_str_eq(ckpt_tok_pre_name(tok), "tekken");
    ck_assert_uint_eq(ckpt_tok_n_merges(tok), ckpt_tok_n_merges(src));
    expect(tok, "abc ab <s>", CKPT_TOK_ADD_SPECIAL, "1 261 36 260 36 64 119 66");
    expect(tok, "abc ab <s>", CKPT_TOK_ADD_SPECIAL | CKPT_TOK_PARSE_SPECIAL, "1 261 36 260 36 1");
    ckpt_tok_free(tok);
    tok = (ckpt_tok *)1;
    ck_assert_int_eq(gguf_roundtrip(src, "default", NULL, &tok, &err), CKPT_E_UNSUPPORTED);
    ck_assert_ptr_null(tok);
    ck_assert_ptr_nonnull(strstr(err.msg, "tokenizer.ggml.pre 'default'"));
    ckpt_err_clear(&err);
    ck_assert_int_eq(gguf_roundtrip(src, "tekken", "zz q", &tok, &err), CKPT_E_FORMAT);
    ck_assert_ptr_nonnull(strstr(err.msg, "not among the tokens"));
    ckpt_tok_free(src);
    cJSON_Delete(root);
}
END_TEST

Suite *tokbpe_suite(void)
{
    Suite *s = suite_create("tokbpe");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, alphabet_decode);
    tcase_add_test(tc, merges_by_rank);
    tcase_add_test(tc, invalid_utf8_maximal_subparts);
    tcase_add_test(tc, added_tokens_rules);
    tcase_add_test(tc, fixture_layouts_agree);
    tcase_add_test(tc, tekken_small);
    tcase_add_test(tc, gguf_bytelevel);
    suite_add_tcase(s, tc);
    tc = tcase_create("corrupt");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, regex_budget);
    tcase_add_test(tc, json_hostile);
    tcase_add_test(tc, tekken_hostile);
    suite_add_tcase(s, tc);
    return s;
}
