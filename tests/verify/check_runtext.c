/*
 * check_runtext.c - ckpt-run through the text path on every kit model: each
 * golden prompt's text (ref-greedy.json) encodes to the golden prompt ids,
 * with the model directory's tokenizer and, where llama.cpp's GGUF
 * conversion kept SentencePiece's scores (not for tiny-mistral-tokjson,
 * whose GGUF scores are a flat -1000: llama.cpp, and so ckpt reading that
 * GGUF, tokenizes differently, see check_tokgguf.c), with the GGUF's
 * vocabulary; and ckpt-run MODEL_DIR -p TEXT prints
 * exactly the golden continuation (full_text after the prompt's text), i.e.
 * text -> tokenizer -> the reference's greedy ids -> text.
 */
#include <check.h>
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats/tokenizer.h"
#include "testutil.h"

static const char *const KITS[] = {"tiny-mistral", "tiny-mistral-tokjson", "tiny-mixtral"};

static ckpt_tok *load(const char *path)
{
    ckpt_tok *t;
    ckpt_err err = {0};
    ck_assert_msg(ckpt_tok_load_any(&t, path, &err) == CKPT_OK, "%s", err.msg);
    return t;
}

static bool encodes_to(const ckpt_tok *tok, const char *text, const cJSON *want)
{
    size_t len = strlen(text), cap = ckpt_tok_encode_max(len), n;
    int32_t *ids = malloc(sizeof(int32_t) * cap);
    ck_assert(ckpt_tok_encode(tok, text, len, CKPT_TOK_ADD_SPECIAL, ids, cap, &n, NULL) ==
              CKPT_OK);
    bool same = n == (size_t)cJSON_GetArraySize(want);
    for (size_t i = 0; same && i < n; i++)
        same = ids[i] == (int32_t)cJSON_GetArrayItem(want, (int)i)->valuedouble;
    free(ids);
    return same;
}

START_TEST(text_path_reproduces_golden)
{
    const char *kit = KITS[_i];
    char *model = tu_fmt("%s/models/%s", TESTDATA, kit);
    char *gguf = tu_fmt("%s/golden/%s/convert-f16.gguf", TESTDATA, kit);
    char *gpath = tu_fmt("%s/golden/%s/ref-greedy.json", TESTDATA, kit);
    size_t size;
    char *json = tu_read_file(gpath, &size);
    ck_assert_ptr_nonnull(json);
    cJSON *root = cJSON_ParseWithLength(json, size);
    const cJSON *prompts = cJSON_GetObjectItemCaseSensitive(root, "prompts"), *p;
    ckpt_tok *dir_tok = load(model), *gguf_tok = load(gguf);
    char *dir = tu_tmpdir(), *pf = tu_fmt("%s/prompt", dir), *tool = tu_tool("ckpt-run");
    int n = 0, n_gguf_equal = 0;
    cJSON_ArrayForEach(p, prompts)
    {
        const char *text = cJSON_GetObjectItemCaseSensitive(p, "text")->valuestring;
        const char *full = cJSON_GetObjectItemCaseSensitive(p, "full_text")->valuestring;
        const cJSON *ids = cJSON_GetObjectItemCaseSensitive(p, "ids");
        ck_assert_msg(encodes_to(dir_tok, text, ids), "%s: prompt %d: tokenizer ids", kit, n);
        bool flat = strcmp(kit, "tiny-mistral-tokjson") == 0;
        n_gguf_equal += encodes_to(gguf_tok, text, ids);
        ck_assert_msg(flat || encodes_to(gguf_tok, text, ids), "%s: prompt %d: GGUF vocabulary ids",
                      kit, n);
        ck_assert(strncmp(full, text, strlen(text)) == 0);
        ck_assert_int_eq(tu_write_file(pf, text, strlen(text)), 0);
        char *cmd = tu_fmt("'%s' -n 32 --ignore-eos -j 2 '%s' -p \"$(cat '%s')\"", tool, model, pf);
        char *out = NULL, *err = NULL;
        ck_assert_msg(tu_run(cmd, &out, &err) == 0, "%s: %s", cmd, err);
        char *want = tu_fmt("%s\n", full + strlen(text));
        ck_assert_msg(strcmp(out, want) == 0, "%s: prompt %d:\n got  '%s'\n want '%s'", kit, n,
                      out, want);
        free(want);
        free(out);
        free(err);
        free(cmd);
        n++;
    }
    ck_assert_int_eq(n, 11);
    if (getenv("CK_VERBOSE"))
        fprintf(stderr, "%s: GGUF vocabulary gives the golden prompt ids on %d of %d prompts\n",
                kit, n_gguf_equal, n);
    ckpt_tok_free(dir_tok);
    ckpt_tok_free(gguf_tok);
    cJSON_Delete(root);
    tu_rmtree(dir);
    free(dir);
    free(pf);
    free(tool);
    free(json);
    free(gpath);
    free(gguf);
    free(model);
}
END_TEST

Suite *runtext_suite(void)
{
    Suite *s = suite_create("runtext");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 30);
    tcase_add_loop_test(tc, text_path_reproduces_golden, 0, 3);
    suite_add_tcase(s, tc);
    return s;
}
