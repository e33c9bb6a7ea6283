/*
 * check_recipe.c - the build recipe a GGUF carries (formats/recipe.c):
 * hostile texts are refused with a message naming the text and the
 * problem; a recipe grows by one step per tool and reads back as written.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "formats/recipe.h"
#include "testutil.h"

#define D64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

START_TEST(recipe_refuses_hostile_text)
{
    static const struct {
        const char *text, *msg;
    } bad[] = {
        {"[]", "not a JSON object"},
        {"{\"steps\":[]}", "version"},
        {"{\"version\":2,\"steps\":[{\"tool\":\"a\",\"version\":\"1\"}]}", "recipe version 2"},
        {"{\"version\":1}", "steps"},
        {"{\"version\":1,\"steps\":[]}", "0 steps"},
        {"{\"version\":1,\"steps\":{}}", "steps"},
        {"{\"version\":1,\"steps\":[1]}", "not an object"},
        {"{\"version\":1,\"steps\":[{\"version\":\"1\"}]}", "tool"},
        {"{\"version\":1,\"steps\":[{\"tool\":1,\"version\":\"1\"}]}", "tool"},
        {"{\"version\":1,\"steps\":[{\"tool\":\"a\"}]}", "version"},
        {"{\"version\":1,\"steps\":[{\"tool\":\"a\",\"version\":\"1\",\"inputs\":{}}]}", "inputs"},
        {"{\"version\":1,\"steps\":[{\"tool\":\"a\",\"version\":\"1\",\"inputs\":[3]}]}",
         "not an object"},
        {"{\"version\":1,\"steps\":[{\"tool\":\"a\",\"version\":\"1\",\"inputs\":[{\"role\":\"s\","
         "\"name\":\"x\"}]}]}", "sha256"},
        {"{\"version\":1,\"steps\":[{\"tool\":\"a\",\"version\":\"1\",\"inputs\":[{\"role\":\"s\","
         "\"name\":\"x\",\"sha256\":\"ABC\"}]}]}", "not 64 lowercase hex"},
        {"{\"version\":1,\"steps\":[{\"tool\":\"a\",\"tool\":\"b\",\"version\":\"1\"}]}",
         "duplicate key"},
        {"{\"version\":1,\"steps\":[{\"tool\":\"a\",\"version\":\"1\"}]} x", "trailing"},
        {"{\"version\":1,\"steps\":[{\"tool\":\"a\xff\",\"version\":\"1\"}]}", "UTF-8"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cJSON *r = (cJSON *)1;
        ckpt_err err = {0};
        ck_assert_msg(ckpt_recipe_parse(&r, bad[i].text, strlen(bad[i].text), "t.gguf", &err) !=
                          CKPT_OK, "accepted: %s", bad[i].text);
        ck_assert_ptr_null(r);
        ck_assert_msg(strstr(err.msg, bad[i].msg) && strstr(err.msg, "t.gguf"), "%s -> %s",
                      bad[i].text, err.msg);
    }
}
END_TEST

START_TEST(recipe_refuses_too_many_steps_and_bytes)
{
    char *t = malloc(CKPT_RECIPE_MAX_BYTES + 2);
    ck_assert_ptr_nonnull(t);
    memset(t, ' ', CKPT_RECIPE_MAX_BYTES + 1);
    cJSON *r = NULL;
    ckpt_err err = {0};
    ck_assert_int_eq(ckpt_recipe_parse(&r, t, CKPT_RECIPE_MAX_BYTES + 1, "big", &err),
                     CKPT_E_RANGE);
    free(t);
    err = (ckpt_err){0};
    /* 17 steps */
    char buf[4096] = "{\"version\":1,\"steps\":[";
    for (int i = 0; i <= CKPT_RECIPE_MAX_STEPS; i++)
        strcat(buf, i ? ",{\"tool\":\"a\",\"version\":\"1\"}" : "{\"tool\":\"a\",\"version\":\"1\"}");
    strcat(buf, "]}");
    ck_assert_int_eq(ckpt_recipe_parse(&r, buf, strlen(buf), "many", &err), CKPT_E_FORMAT);
    ck_assert_msg(strstr(err.msg, "17 steps"), "%s", err.msg);
}
END_TEST

START_TEST(recipe_grows_one_step_per_tool)
{
    uint8_t d[CKPT_SHA256_LEN];
    ck_assert(ckpt_sha256_from_hex(D64, d));
    cJSON *st = ckpt_recipe_step_new("ckpt-convert"), *r = NULL, *r2 = NULL;
    ck_assert_ptr_nonnull(st);
    ckpt_err err = {0};
    ck_assert_int_eq(ckpt_recipe_add_input(st, "source", "config.json", d, &err), CKPT_OK);
    char *t1 = NULL, *t2 = NULL;
    ck_assert_int_eq(ckpt_recipe_extend(&t1, NULL, st, &err), CKPT_OK);
    ck_assert_str_eq(t1, "{\"version\":1,\"steps\":[{\"tool\":\"ckpt-convert\",\"version\":\""
                         CKPT_VERSION "\",\"inputs\":[{\"role\":\"source\",\"name\":"
                         "\"config.json\",\"sha256\":\"" D64 "\"}]}]}");
    ck_assert_int_eq(ckpt_recipe_parse(&r, t1, strlen(t1), "t1", &err), CKPT_OK);
    ck_assert_int_eq(ckpt_recipe_n_steps(r), 1);
    ck_assert_int_eq(ckpt_recipe_extend(&t2, r, ckpt_recipe_step_new("ckpt-quant"), &err),
                     CKPT_OK);
    ck_assert_int_eq(ckpt_recipe_parse(&r2, t2, strlen(t2), "t2", &err), CKPT_OK);
    ck_assert_int_eq(ckpt_recipe_n_steps(r2), 2);
    ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(ckpt_recipe_last(r2), "tool")->valuestring,
                     "ckpt-quant");
    cJSON_Delete(r);
    cJSON_Delete(r2);
    free(t1);
    free(t2);
}
END_TEST

Suite *recipe_suite(void)
{
    Suite *s = suite_create("recipe");
    TCase *core = tcase_create("core"), *corrupt = tcase_create("corrupt");
    tcase_add_test(core, recipe_grows_one_step_per_tool);
    tcase_add_test(corrupt, recipe_refuses_hostile_text);
    tcase_add_test(corrupt, recipe_refuses_too_many_steps_and_bytes);
    suite_add_tcase(s, core);
    suite_add_tcase(s, corrupt);
    return s;
}
