/*
 * check_rebuild.c - `ckpt-verify --rebuild` (verify/rebuild.h) on hostile
 * recipes: a GGUF whose recipe asks for what this ckpt cannot replay, or
 * is malformed in a way the recipe parser lets through (unknown tools,
 * types, mixes, patterns; input names that point out of the source
 * directory), is refused with a message and never crashes, hangs or
 * reads outside SOURCE.  The replays themselves are tested from the
 * command line (tests/cli/rebuild.sh).
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "arch/gguf_keys.h"
#include "formats/gguf.h"
#include "testutil.h"
#include "verify/rebuild.h"

#define D64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define CONVERT "{\"tool\":\"ckpt-convert\",\"version\":\"0.1.0\""

static const struct {
    const char *recipe;
    ckpt_status want; /* 0: any error */
} hostile[] = {
    {"{\"version\":1,\"steps\":[" CONVERT "}]}", CKPT_E_UNSUPPORTED},
    {"{\"version\":1,\"steps\":[" CONVERT "},{\"tool\":\"ckpt-quant\",\"version\":\"0.1.0\"}]}",
     CKPT_E_UNSUPPORTED},
    {"{\"version\":1,\"steps\":[" CONVERT ",\"type\":\"q4_K\"}]}", CKPT_E_UNSUPPORTED},
    {"{\"version\":1,\"steps\":[" CONVERT ",\"type\":\"f32\"},{\"tool\":\"ckpt-quant\","
     "\"version\":\"0.1.0\",\"mix\":\"Q9_K\"}]}", CKPT_E_UNSUPPORTED},
    {"{\"version\":1,\"steps\":[" CONVERT ",\"type\":\"f32\"},{\"tool\":\"ckpt-quant\","
     "\"version\":\"0.1.0\",\"mix\":\"Q4_K_M\",\"tensor_types\":[5]}]}", CKPT_E_FORMAT},
    {"{\"version\":1,\"steps\":[" CONVERT ",\"type\":\"f32\"},{\"tool\":\"ckpt-quant\","
     "\"version\":\"0.1.0\",\"mix\":\"Q4_K_M\",\"tensor_types\":[\"(((=q8_0\"]}]}", 0},
    {"{\"version\":1,\"steps\":[" CONVERT ",\"type\":\"f32\"},{\"tool\":\"ckpt-quant\","
     "\"version\":\"0.1.0\",\"mix\":\"Q4_K_M\",\"inputs\":[{\"role\":\"imatrix\",\"name\":"
     "\"/nonexistent/i.dat\",\"sha256\":\"" D64 "\"}]}]}", CKPT_E_IO},
    {"{\"version\":1,\"steps\":[{\"tool\":\"rm -rf /\",\"version\":\"1\"}]}",
     CKPT_E_UNSUPPORTED},
    {"{\"version\":1,\"steps\":[{\"tool\":\"ckpt-quant\",\"version\":\"1\",\"mix\":\"Q8_0\"}]}",
     CKPT_E_UNSUPPORTED},
};

/* A GGUF of one key, the recipe; no tensors. */
static void write_artifact(const char *path, const char *recipe)
{
    ckpt_gguf_writer *w = NULL;
    ckpt_err err = {0};
    ck_assert_int_eq(ckpt_gguf_writer_new(&w, path, true, &err), CKPT_OK);
    ck_assert_int_eq(ckpt_gguf_writer_set_str(w, CKPT_KEY_SOURCE_CKPT_RECIPE, recipe, &err),
                     CKPT_OK);
    ck_assert_int_eq(ckpt_gguf_writer_begin(w, &err), CKPT_OK);
    ck_assert_int_eq(ckpt_gguf_writer_finish(w, &err), CKPT_OK);
}

START_TEST(hostile_recipe_refused)
{
    char *tmp = tu_tmpdir(), *art = tu_fmt("%s/a.gguf", tmp);
    char *src = tu_data("models/tiny-mistral");
    write_artifact(art, hostile[_i].recipe);
    struct ckpt_rebuild_opts o = {.source = src, .artifact = art, .threads = 1};
    struct ckpt_rebuild_report r = {0};
    ckpt_err err = {0};
    ckpt_status s = ckpt_rebuild_run(&o, &r, &err);
    ck_assert_msg(s != CKPT_OK && err.msg[0], "%s: accepted", hostile[_i].recipe);
    ck_assert_msg(!hostile[_i].want || s == hostile[_i].want, "%s: status %d: %s",
                  hostile[_i].recipe, s, err.msg);
    /* a recorded name is looked for, never opened outside SOURCE as a source file */
    for (size_t i = 0; i < r.n_inputs; i++)
        ck_assert(!r.inputs[i].path || strncmp(r.inputs[i].path, src, strlen(src)) == 0 ||
                  strcmp(r.inputs[i].role, "source"));
    ckpt_rebuild_report_free(&r);
    tu_rmtree(tmp);
    free(src);
    free(art);
    free(tmp);
}
END_TEST

START_TEST(no_recipe_cannot_replay)
{
    char *src = tu_data("models/tiny-mistral");
    char *art = tu_data("golden/tiny-mistral/quant-Q4_K_M.gguf");
    struct ckpt_rebuild_opts o = {.source = src, .artifact = art, .threads = 1};
    struct ckpt_rebuild_report r = {0};
    ckpt_err err = {0};
    ck_assert_int_eq(ckpt_rebuild_run(&o, &r, &err), CKPT_E_UNSUPPORTED);
    ck_assert_ptr_nonnull(strstr(err.msg, "carries no recipe"));
    ckpt_rebuild_report_free(&r);
    free(src);
    free(art);
}
END_TEST

Suite *rebuild_suite(void)
{
    Suite *s = suite_create("rebuild");
    TCase *core = tcase_create("core"), *corrupt = tcase_create("corrupt");
    tcase_add_test(core, no_recipe_cannot_replay);
    tcase_add_loop_test(corrupt, hostile_recipe_refused, 0,
                        (int)(sizeof hostile / sizeof hostile[0]));
    suite_add_tcase(s, core);
    suite_add_tcase(s, corrupt);
    return s;
}
