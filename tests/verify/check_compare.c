/*
 * check_compare.c - the behavioural comparison (verify/compare.h) on the
 * kit models against llama.cpp's own files: convert-f16.gguf (llama.cpp's
 * converter) must pass with every greedy token equal; quant-Q4_K_M.gguf
 * (llama-quantize) must pass its limits; GGUFs requantized from
 * convert-f16.gguf with the library's quantizers (tests/gen_requant: pure
 * Q8_0, Q6_K, Q2_K) must order
 * by KL divergence Q8_0 < Q6_K < Q4_K_M < Q2_K; a copy with damaged weights
 * must fail; a model of another shape is a mismatch.  Figures go to stderr
 * when CK_VERBOSE is set.
 */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "verify/compare.h"

/* Write dst from src with tests/gen_requant: every matrix requantized to
 * `type` (a name), the first `damage` rows of every ffn_down zeroed. */
static void requant(const char *src, const char *dst, const char *type, int damage)
{
    const char *bin = getenv("CKPT_TESTBIN");
    char *cmd = tu_fmt("'%s/gen_requant' --damage %d %s '%s' '%s'",
                       bin && *bin ? bin : "build/tests", damage, type, src, dst);
    char *err = NULL;
    ck_assert_msg(tu_run(cmd, NULL, &err) == 0, "%s: %s", cmd, err ? err : "");
    free(err);
    free(cmd);
}

static char *kit_path(const char *kit, const char *file)
{
    return file ? tu_fmt("%s/golden/%s/%s", TESTDATA, kit, file)
                : tu_fmt("%s/models/%s", TESTDATA, kit);
}

/* Compare with default limits, 16 new tokens (32 for floats), 2 threads. */
static ckpt_status compare(const char *source, const char *artifact, int64_t n_new,
                           struct ckpt_compare_report *r, ckpt_err *err)
{
    struct ckpt_compare_opts o = {.source = source, .artifact = artifact, .n_new = n_new,
                                  .limits = {-1, -1, -1, -1}, .threads = 2, .isa = -1};
    ckpt_status st = ckpt_compare_run(&o, r, err);
    if (getenv("CK_VERBOSE") && r->complete) {
        fprintf(stderr, "compare %s (%s): top-1 %.4f, mean KLD %.6f, max KLD %.6f, ppl %.4f -> "
                        "%.4f, %zu/%zu prompts equal: %s\n",
                strrchr(artifact, '/') + 1, r->type_name, ckpt_compare_top1(&r->all),
                ckpt_compare_mean_kld(&r->all), r->all.kld_max, ckpt_compare_ppl(&r->all, false),
                ckpt_compare_ppl(&r->all, true), r->n_equal, r->n_prompts,
                r->pass ? "pass" : r->reason);
    }
    return st;
}

static const char *const KITS[] = {"tiny-mistral", "tiny-mixtral"};

/* llama.cpp's F16 conversion behaves exactly like the source. */
START_TEST(f16_passes)
{
    char *src = kit_path(KITS[_i], NULL), *art = kit_path(KITS[_i], "convert-f16.gguf");
    struct ckpt_compare_report r;
    ckpt_err err = {0};
    ck_assert_msg(compare(src, art, 32, &r, &err) == CKPT_OK, "%s", err.msg);
    ck_assert(r.pass && r.complete);
    ck_assert_str_eq(r.type_name, "F16");
    ck_assert_str_eq(r.type_from, "general.file_type");
    ck_assert_uint_eq(r.n_prompts, 8);
    ck_assert_uint_eq(r.n_equal, 8);
    ck_assert_int_eq(r.limits.tokens_equal, 1);
    ck_assert_int_eq(r.all.top1, r.all.n);
    ck_assert(ckpt_compare_mean_kld(&r.all) < 1e-6);
    ck_assert_int_eq(r.sliding_window, _i == 0 ? 64 : 0);
    char *text = ckpt_compare_report_text(&r);
    ck_assert(text && strstr(text, "8 of 8 prompts equal") && strstr(text, "PASS\n"));
    cJSON *j = ckpt_compare_report_json(&r, CKPT_OK);
    ck_assert(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "pass")));
    cJSON_Delete(j);
    free(text);
    ckpt_compare_report_free(&r);
    free(src);
    free(art);
}
END_TEST

/* KLD grows as bits go: Q8_0 < Q6_K < Q4_K_M (llama-quantize's) < Q2_K;
 * each passes its type's default limits. */
START_TEST(kld_order)
{
    const char *kit = "tiny-mistral"; /* rows of 256 and 512: every k-quant applies */
    char *src = kit_path(kit, NULL), *f16 = kit_path(kit, "convert-f16.gguf");
    char *dir = tu_tmpdir();
    static const char *const types[] = {"q8_0", "q6_K", NULL, "q2_K"};
    static const char *const names[] = {"Q8_0", "Q6_K", "Q4_K_M", "Q2_K"};
    double kld[4], top1[4];
    for (int i = 0; i < 4; i++) {
        char *art = types[i] ? tu_fmt("%s/%s.gguf", dir, names[i])
                             : kit_path(kit, "quant-Q4_K_M.gguf");
        if (types[i])
            requant(f16, art, types[i], 0);
        struct ckpt_compare_report r;
        ckpt_err err = {0};
        ck_assert_msg(compare(src, art, 16, &r, &err) == CKPT_OK, "%s: %s", names[i], err.msg);
        ck_assert_str_eq(r.type_name, names[i]);
        kld[i] = ckpt_compare_mean_kld(&r.all);
        top1[i] = ckpt_compare_top1(&r.all);
        ckpt_compare_report_free(&r);
        free(art);
    }
    for (int i = 0; i < 3; i++)
        ck_assert_msg(kld[i] < kld[i + 1], "KLD %s %.6f >= %s %.6f", names[i], kld[i],
                      names[i + 1], kld[i + 1]);
    ck_assert(top1[0] >= top1[3]);
    tu_rmtree(dir);
    free(dir);
    free(src);
    free(f16);
}
END_TEST

/* Zeroed rows in every ffn_down of an F16 copy: the comparison fails. */
START_TEST(damaged_fails)
{
    char *src = kit_path(KITS[_i], NULL), *f16 = kit_path(KITS[_i], "convert-f16.gguf");
    char *dir = tu_tmpdir(), *art = tu_fmt("%s/damaged.gguf", dir);
    requant(f16, art, "f16", 16);
    struct ckpt_compare_report r;
    ckpt_err err = {0};
    ck_assert_int_eq(compare(src, art, 32, &r, &err), CKPT_E_MISMATCH);
    ck_assert(r.complete && !r.pass);
    ck_assert_msg(strstr(err.msg, "damaged.gguf: ") && strstr(err.msg, r.reason), "%s", err.msg);
    ck_assert_uint_lt(r.n_equal, r.n_prompts);
    cJSON *j = ckpt_compare_report_json(&r, CKPT_E_MISMATCH);
    ck_assert(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(j, "pass")));
    ck_assert(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(j, "reason")));
    cJSON_Delete(j);
    ckpt_compare_report_free(&r);
    tu_rmtree(dir);
    free(dir);
    free(art);
    free(src);
    free(f16);
}
END_TEST

/* Overridden limits: a Q4_K_M held to F16's standard fails; the report
 * names the limit. */
START_TEST(limits_override)
{
    char *src = kit_path("tiny-mistral", NULL);
    char *art = kit_path("tiny-mistral", "quant-Q4_K_M.gguf");
    struct ckpt_compare_opts o = {.source = src, .artifact = art, .n_new = 8,
                                  .limits = {-1, 0.999, -1, -1}, .threads = 2, .isa = -1};
    struct ckpt_compare_report r;
    ckpt_err err = {0};
    ck_assert_int_eq(ckpt_compare_run(&o, &r, &err), CKPT_E_MISMATCH);
    ck_assert_msg(strstr(r.reason, "top-1 agreement") && strstr(r.reason, "below 0.9990"), "%s",
                  r.reason);
    ckpt_compare_report_free(&r);
    o.limits = (struct ckpt_compare_limits){-1, -1, 1e-5, -1};
    ck_assert_int_eq(ckpt_compare_run(&o, &r, &err), CKPT_E_MISMATCH);
    ck_assert_msg(strstr(r.reason, "mean KL divergence"), "%s", r.reason);
    ckpt_compare_report_free(&r);
    o.limits = (struct ckpt_compare_limits){1, -1, -1, 0};
    ck_assert_int_eq(ckpt_compare_run(&o, &r, &err), CKPT_E_MISMATCH);
    ck_assert_msg(strstr(r.reason, "greedy tokens differ"), "%s", r.reason);
    ckpt_compare_report_free(&r);
    free(src);
    free(art);
}
END_TEST

/* Prompts from a file (CRLF, blank lines, escapes) and a text scored in
 * chunks: every position of every chunk is counted. */
START_TEST(prompts_and_text)
{
    char *dir = tu_tmpdir(), *pf = tu_fmt("%s/prompts.txt", dir), *tf = tu_fmt("%s/t.txt", dir);
    static const char body[] =
        "first line\r\n\n  second\\twith a tab\\nand a newline\nthird \\\\ x\n";
    ck_assert_int_eq(tu_write_file(pf, body, sizeof body - 1), 0);
    char **p;
    size_t n;
    ckpt_err err = {0};
    ck_assert(ckpt_compare_read_prompts(pf, &p, &n, &err) == CKPT_OK);
    ck_assert_uint_eq(n, 3);
    ck_assert_str_eq(p[0], "first line");
    ck_assert_str_eq(p[1], "  second\twith a tab\nand a newline");
    ck_assert_str_eq(p[2], "third \\ x");
    /* 300 words: several chunks of 64 tokens */
    char *text = calloc(1, 4096);
    for (int i = 0; i < 300; i++)
        strcat(text, i % 7 ? "word " : "the end. ");
    ck_assert_int_eq(tu_write_file(tf, text, strlen(text)), 0);
    char *src = kit_path("tiny-mistral", NULL), *art = kit_path("tiny-mistral", "convert-f16.gguf");
    struct ckpt_compare_opts o = {.source = src, .artifact = art, .n_new = 4,
                                  .prompts = (const char *const *)p, .n_prompts = n,
                                  .text_path = tf, .text_ctx = 64,
                                  .limits = {-1, -1, -1, -1}, .threads = 1, .isa = -1};
    struct ckpt_compare_report r;
    ck_assert_msg(ckpt_compare_run(&o, &r, &err) == CKPT_OK, "%s", err.msg);
    ck_assert(r.has_text);
    ck_assert_int_gt(r.text_chunks, 2);
    /* chunk k holds BOS + up to 63 tokens and scores one position fewer */
    ck_assert_int_eq(r.text.n + r.text_chunks, r.text.n / 63 * 64 + r.text.n % 63 + 1);
    ck_assert_int_eq(r.all.n, r.text.n + r.prompts[0].tf.n + r.prompts[1].tf.n +
                                  r.prompts[2].tf.n);
    ck_assert_int_eq(r.prompts[0].tf.n, r.prompts[0].n_prompt + 4 - 1);
    ck_assert_str_eq(r.prompts[1].text, "  second\twith a tab\nand a newline");
    char *t = ckpt_compare_report_text(&r);
    ck_assert(t && strstr(t, "second\\twith a tab\\nand") && strstr(t, "text "));
    free(t);
    ckpt_compare_report_free(&r);
    /* a file without prompts */
    ck_assert_int_eq(tu_write_file(pf, "\n\r\n", 3), 0);
    ckpt_compare_prompts_free(p, n);
    ck_assert_int_eq(ckpt_compare_read_prompts(pf, &p, &n, &err), CKPT_E_FORMAT);
    ck_assert_msg(strstr(err.msg, "no prompts"), "%s", err.msg);
    tu_rmtree(dir);
    free(text);
    free(dir);
    free(pf);
    free(tf);
    free(src);
    free(art);
}
END_TEST

/* A model of another shape is a mismatch, found before any run. */
START_TEST(other_model_mismatch)
{
    char *src = kit_path("tiny-mistral", NULL), *art = kit_path("tiny-mixtral", "convert-f16.gguf");
    struct ckpt_compare_report r;
    ckpt_err err = {0};
    ck_assert_int_eq(compare(src, art, 4, &r, &err), CKPT_E_MISMATCH);
    ck_assert(!r.complete);
    ck_assert_msg(strstr(err.msg, "hidden size 128, but the source has 256"), "%s", err.msg);
    ckpt_compare_report_free(&r);
    ckpt_err_clear(&err);
    ck_assert_int_eq(compare(src, "/nonexistent.gguf", 4, &r, &err), CKPT_E_IO);
    ckpt_compare_report_free(&r);
    free(src);
    free(art);
}
END_TEST

/* KL divergence against values worked out by hand. */
START_TEST(kld_values)
{
    static const float a[3] = {1, 2, 3}, b[3] = {3, 2, 1}, u[2] = {0, 0}, v[2] = {0, 2};
    double lp, lq;
    ck_assert(ckpt_compare_kld(a, a, 3, 2, &lp, &lq) == 0);
    ck_assert(lp == lq);
    /* p = (1/2, 1/2), q = (1, e^2)/(1 + e^2): KL = log((1+e^2)/(2e)) */
    double want = log((1 + exp(2.0)) / (2 * exp(1.0)));
    ck_assert(fabs(ckpt_compare_kld(u, v, 2, 1, &lp, &lq) - want) < 1e-15);
    ck_assert(fabs(lp - log(0.5)) < 1e-15 && fabs(lq - (2 - log(1 + exp(2.0)))) < 1e-15);
    ck_assert(ckpt_compare_kld(a, b, 3, -1, NULL, NULL) > 0);
    /* defaults by type */
    ck_assert_int_eq(ckpt_compare_default_limits("bf16").tokens_equal, 1);
    ck_assert_int_eq(ckpt_compare_default_limits("Q8_0").tokens_equal, 0);
    ck_assert(ckpt_compare_default_limits("Q8_0").min_top1 >
              ckpt_compare_default_limits("Q4_K_M").min_top1);
    ck_assert(ckpt_compare_default_limits("Q4_K_M").max_kld <
              ckpt_compare_default_limits("Q2_K").max_kld);
    ck_assert(ckpt_compare_default_limits("mystery").max_kld ==
              ckpt_compare_default_limits("Q2_K").max_kld);
}
END_TEST

Suite *compare_suite(void)
{
    Suite *s = suite_create("compare");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 30);
    tcase_add_loop_test(tc, f16_passes, 0, 2);
    tcase_add_test(tc, kld_order);
    tcase_add_loop_test(tc, damaged_fails, 0, 2);
    tcase_add_test(tc, limits_override);
    tcase_add_test(tc, prompts_and_text);
    tcase_add_test(tc, kld_values);
    suite_add_tcase(s, tc);
    tc = tcase_create("corrupt");
    tcase_add_test(tc, other_model_mismatch);
    suite_add_tcase(s, tc);
    return s;
}
