/*
 * check_runtokenize.c - `ckpt-run --tokenize -p TEXT SOURCE`, run as a user
 * runs it, on every string of the kits' tokenizer listings: a model
 * directory, a tokenizer.model and a tokenizer.json give SentencePiece's ids
 * (golden/<kit>/tokenizer.tsv); llama.cpp's GGUFs, and a vocab-only GGUF
 * (the same metadata, no tensors), give the ids llama.cpp itself gives with
 * that GGUF (golden/<kit>/llamacpp-tokenize.tsv).
 */
#include <check.h>
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats/gguf.h"
#include "testutil.h"

/* TEXT as one shell word. */
static char *shell_quote(const char *s)
{
    char *q = malloc(4 * strlen(s) + 3), *o = q;
    *o++ = '\'';
    for (; *s; s++) {
        if (*s == '\'') {
            memcpy(o, "'\\''", 4);
            o += 4;
        } else {
            *o++ = *s;
        }
    }
    *o++ = '\'';
    *o = '\0';
    return q;
}

/* Run the tool on every line of golden/<kit>/<tsv> against source; returns
 * the number of strings compared. */
static int compare(const char *source, const char *kit, const char *tsv)
{
    char *tool = tu_tool("ckpt-run"), *path = tu_fmt("%s/golden/%s/%s", TESTDATA, kit, tsv);
    size_t size;
    char *all = tu_read_file(path, &size), *cur = all;
    ck_assert_msg(all != NULL, "cannot read %s", path);
    tu_next_line(&cur); /* header */
    int n = 0;
    for (char *line; (line = tu_next_line(&cur)) != NULL; n++) {
        char *tab = strchr(line, '\t');
        ck_assert_ptr_nonnull(tab);
        *tab = '\0';
        char *want = tab + 1, *tab2 = strchr(want, '\t');
        if (tab2)
            *tab2 = '\0';
        cJSON *j = cJSON_Parse(line);
        ck_assert(cJSON_IsString(j));
        char *q = shell_quote(j->valuestring);
        char *cmd = tu_fmt("'%s' --tokenize -p %s '%s'", tool, q, source);
        char *out = NULL, *errout = NULL;
        int rc = tu_run(cmd, &out, &errout);
        ck_assert_msg(rc == 0, "%s: exit %d: %s", cmd, rc, errout);
        size_t len = strlen(out);
        ck_assert_msg(len > 0 && out[len - 1] == '\n' && !strchr(out, '\n')[1],
                      "%s: not one line: %s", cmd, out);
        out[len - 1] = '\0';
        ck_assert_msg(strcmp(out, want) == 0, "%s %s on %s: %s\n got  %s\n want %s", kit, tsv,
                      source, line, out, want);
        free(out);
        free(errout);
        free(cmd);
        free(q);
        cJSON_Delete(j);
    }
    free(all);
    free(path);
    free(tool);
    return n;
}

START_TEST(model_dir_gives_sentencepiece_ids)
{
    char *m = tu_data("models/tiny-mistral");
    ck_assert_int_eq(compare(m, "tiny-mistral", "tokenizer.tsv"), 42);
    free(m);
}
END_TEST

START_TEST(tokenizer_files_give_sentencepiece_ids)
{
    char *spm = tu_data("models/tiny-mixtral/tokenizer.model");
    char *json = tu_data("models/tiny-mistral-tokjson/tokenizer.json");
    ck_assert_int_eq(compare(spm, "tiny-mixtral", "tokenizer.tsv"), 42);
    ck_assert_int_eq(compare(json, "tiny-mistral-tokjson", "tokenizer.tsv"), 42);
    free(spm);
    free(json);
}
END_TEST

START_TEST(gguf_gives_llamacpp_ids)
{
    static const char *kits[] = {"tiny-mistral", "tiny-mistral-tokjson", "tiny-mixtral"};
    char *g = tu_fmt("%s/golden/%s/convert-f16.gguf", TESTDATA, kits[_i]);
    ck_assert_int_eq(compare(g, kits[_i], "llamacpp-tokenize.tsv"), 42);
    free(g);
}
END_TEST

/* Every key of llama.cpp's conversion, no tensor: what a vocab-only
 * conversion holds. */
START_TEST(vocab_only_gguf_gives_llamacpp_ids)
{
    char *src = tu_fmt("%s/golden/tiny-mistral-tokjson/convert-f16.gguf", TESTDATA);
    char *dir = tu_tmpdir(), *path = tu_fmt("%s/vocab.gguf", dir);
    ckpt_gguf *g = NULL;
    ckpt_gguf_writer *w = NULL;
    ckpt_err err = {0};
    ck_assert_msg(ckpt_gguf_open(&g, src, &err) == CKPT_OK, "%s", err.msg);
    ck_assert(ckpt_gguf_writer_new(&w, path, true, &err) == CKPT_OK);
    for (size_t i = 0; i < ckpt_gguf_n_kv(g); i++)
        ck_assert_msg(ckpt_gguf_writer_copy_kv(w, ckpt_gguf_kv_at(g, i), &err) == CKPT_OK, "%s",
                      err.msg);
    ck_assert(ckpt_gguf_writer_begin(w, &err) == CKPT_OK);
    ck_assert_msg(ckpt_gguf_writer_finish(w, &err) == CKPT_OK, "%s", err.msg);
    ckpt_gguf_close(g);
    ck_assert_int_eq(compare(path, "tiny-mistral-tokjson", "llamacpp-tokenize.tsv"), 42);
    tu_rmtree(dir);
    free(dir);
    free(path);
    free(src);
}
END_TEST

/* Not a tokenizer: named for what it is, exit 2, nothing on stdout. */
START_TEST(other_files_are_named)
{
    char *tool = tu_tool("ckpt-run"), *readme = tu_data("models/README.md");
    char *cmd = tu_fmt("'%s' --tokenize -p hi '%s'", tool, readme);
    char *out = NULL, *errout = NULL;
    ck_assert_int_eq(tu_run(cmd, &out, &errout), 2);
    ck_assert_str_eq(out, "");
    ck_assert_msg(strstr(errout, "README.md is a text file, not a tokenizer") != NULL, "%s",
                  errout);
    free(out);
    free(errout);
    free(cmd);
    free(readme);
    free(tool);
}
END_TEST

Suite *runtokenize_suite(void)
{
    Suite *s = suite_create("runtokenize");
    TCase *tc = tcase_create("golden");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, model_dir_gives_sentencepiece_ids);
    tcase_add_test(tc, tokenizer_files_give_sentencepiece_ids);
    tcase_add_loop_test(tc, gguf_gives_llamacpp_ids, 0, 3);
    tcase_add_test(tc, vocab_only_gguf_gives_llamacpp_ids);
    tcase_add_test(tc, other_files_are_named);
    suite_add_tcase(s, tc);
    return s;
}
