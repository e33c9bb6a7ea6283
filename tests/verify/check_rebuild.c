/*
 * check_rebuild.c - `ckpt-verify --rebuild` (verify/rebuild.h) on hostile
 * recipes: a GGUF whose recipe asks for what this ckpt cannot replay, or
 * is malformed in a way the recipe parser lets through (unknown tools,
 * types, mixes, patterns; input names that point out of the source
 * directory), is refused with a message and never crashes, hangs or
 * reads outside SOURCE.  The replays themselves are tested from the
 * command line (tests/cli/rebuild.sh, rebuild_split.sh); here, a split
 * set's report: one entry per part, each replay digest coreutils' of the
 * part, and a changed part named with its first differing tensor.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "arch/gguf_keys.h"
#include "formats/gguf.h"
#include "formats/sha256.h"
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
    /* split limits that no option could have given */
    {"{\"version\":1,\"steps\":[" CONVERT ",\"type\":\"f32\",\"split_max_size\":-1}]}",
     CKPT_E_FORMAT},
    {"{\"version\":1,\"steps\":[" CONVERT ",\"type\":\"f32\",\"split_max_tensors\":\"2\"}]}",
     CKPT_E_FORMAT},
    {"{\"version\":1,\"steps\":[" CONVERT ",\"type\":\"f32\",\"split_max_tensors\":2.5}]}",
     CKPT_E_FORMAT},
    {"{\"version\":1,\"steps\":[" CONVERT ",\"type\":\"f32\",\"split_max_size\":1e300}]}",
     CKPT_E_FORMAT},
    {"{\"version\":1,\"steps\":[" CONVERT ",\"type\":\"f32\"},{\"tool\":\"ckpt-quant\","
     "\"version\":\"0.1.0\",\"mix\":\"Q8_0\",\"split_max_tensors\":0}]}", CKPT_E_FORMAT},
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

/* The replay digest of each part is coreutils' sha256sum of that part. */
static void check_sums(const struct ckpt_rebuild_report *r)
{
    for (size_t k = 0; k < r->n_files; k++) {
        char *cmd = tu_fmt("sha256sum '%s'", r->files[k].name), *sum = NULL;
        char hex[CKPT_SHA256_HEX];
        ck_assert_int_eq(tu_run(cmd, &sum, NULL), 0);
        ckpt_sha256_hex(r->files[k].got, hex);
        ck_assert_msg(strncmp(sum, hex, 64) == 0, "%s: %.64s, replay %s", r->files[k].name, sum,
                      hex);
        free(sum);
        free(cmd);
    }
}

START_TEST(split_set_by_part)
{
    char *tmp = tu_tmpdir(), *src = tu_data("models/tiny-mistral"), *tool = tu_tool("ckpt-convert");
    char *cmd = tu_fmt("'%s' -q -t f16 --split-max-tensors 8 '%s' -o '%s/c.gguf'", tool, src, tmp);
    ck_assert_int_eq(tu_run(cmd, NULL, NULL), 0);
    char first[4096], last[4096];
    ckpt_gguf *g = NULL;
    ckpt_err err = {0};
    char *prefix = tu_fmt("%s/c.gguf", tmp);
    /* how many files the limit makes follows from the model: find the first one */
    size_t n = 0;
    for (unsigned c = 2; c < 100 && !n; c++) {
        ckpt_gguf_split_path(first, sizeof first, prefix, 0, c);
        if (access(first, F_OK) == 0)
            n = c;
    }
    ck_assert_uint_gt(n, 2);
    ck_assert_int_eq(ckpt_gguf_open(&g, first, &err), CKPT_OK);
    ck_assert_uint_eq(ckpt_gguf_n_parts(g), n);
    ckpt_gguf_close(g);

    struct ckpt_rebuild_opts o = {.source = src, .artifact = first, .threads = 1};
    struct ckpt_rebuild_report r = {0};
    ck_assert_msg(ckpt_rebuild_run(&o, &r, &err) == CKPT_OK, "%s", err.msg);
    ck_assert_uint_eq(r.n_files, n);
    for (size_t k = 0; k < n; k++) {
        char want[4096];
        ckpt_gguf_split_path(want, sizeof want, prefix, (unsigned)k, (unsigned)n);
        ck_assert_str_eq(r.files[k].name, want);
        ck_assert(r.files[k].same);
    }
    check_sums(&r);
    ckpt_rebuild_report_free(&r);

    /* one byte of the last part's last tensor: that part, that tensor */
    ckpt_gguf_split_path(last, sizeof last, prefix, (unsigned)n - 1, (unsigned)n);
    size_t size;
    uint8_t *b = tu_read_file(last, &size);
    ck_assert(b && size > 64);
    ckpt_gguf *p = NULL;
    ck_assert_int_eq(ckpt_gguf_open_file(&p, last, &err), CKPT_OK);
    const struct ckpt_gguf_tensor *t = ckpt_gguf_tensor(p, ckpt_gguf_n_tensors(p) - 1);
    char *name = strdup(t->name);
    size_t at = (size_t)(ckpt_gguf_data_offset(p) + t->offset + t->n_bytes / 2);
    ckpt_gguf_close(p);
    b[at] ^= 1;
    ck_assert_int_eq(tu_write_file(last, b, size), 0);
    r = (struct ckpt_rebuild_report){0};
    ck_assert_int_eq(ckpt_rebuild_run(&o, &r, &err), CKPT_E_MISMATCH);
    ck_assert_msg(strstr(err.msg, last) && strstr(err.msg, name), "%s", err.msg);
    ck_assert_uint_eq(r.n_files, n);
    for (size_t k = 0; k + 1 < n; k++)
        ck_assert(r.files[k].same);
    ck_assert(!r.files[n - 1].same);
    char *want = tu_fmt("tensor '%s'", name);
    ck_assert_msg(strncmp(r.files[n - 1].first, want, strlen(want)) == 0, "%s",
                  r.files[n - 1].first);
    ckpt_rebuild_report_free(&r);
    free(want);
    free(name);
    free(b);
    free(prefix);
    free(cmd);
    free(tool);
    free(src);
    tu_rmtree(tmp);
    free(tmp);
}
END_TEST

Suite *rebuild_suite(void)
{
    Suite *s = suite_create("rebuild");
    TCase *core = tcase_create("core"), *corrupt = tcase_create("corrupt");
    tcase_add_test(core, no_recipe_cannot_replay);
    tcase_add_test(core, split_set_by_part);
    tcase_add_loop_test(corrupt, hostile_recipe_refused, 0,
                        (int)(sizeof hostile / sizeof hostile[0]));
    suite_add_tcase(s, core);
    suite_add_tcase(s, corrupt);
    return s;
}
