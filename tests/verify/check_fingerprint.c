/*
 * check_fingerprint.c - the behavioural fingerprint (verify/fingerprint.h)
 * across instruction sets: the scalar reference and the AVX2 kernels give
 * logits that differ in the last bits only (measured here on the kit
 * models: the largest difference on every position of every fingerprint
 * run must stay below a quarter of the recorded quantum, so rounding can
 * move a recorded value by one quantum at most, well inside the
 * tolerance); a fingerprint made on one ISA checks on the other; a copy
 * with one damaged tensor (tests/gen_damage) fails naming the prompt and
 * step; malformed fingerprints are refused.  The figures go to stderr when
 * CK_VERBOSE is set.
 */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats/model_load.h"
#include "formats/tokenizer.h"
#include "kernels/dispatch.h"
#include "kernels/model.h"
#include "testutil.h"
#include "verify/compare.h"
#include "verify/fingerprint.h"

static const char *const models[] = {"models/tiny-mistral", "models/tiny-mixtral",
                                      "golden/tiny-mistral/quant-Q4_K_M.gguf",
                                      "golden/tiny-mixtral/quant-Q4_K_M.gguf"};
#define N_MODELS (sizeof models / sizeof models[0])

/* Logits of every position of prompt + 16 greedy tokens (teacher-forced on
 * the reference ISA's tokens) under isa; n_vocab * n floats, malloc'd. */
static float *all_logits(const char *path, const int32_t *ids, int64_t n, int isa)
{
    ckpt_weights *w = NULL;
    ckpt_model *m = NULL;
    ckpt_err err = {0};
    ck_assert_int_eq(ckpt_weights_open(&w, path, NULL, &err), CKPT_OK);
    const struct ckpt_model_config *cfg = ckpt_weights_config(w);
    struct ckpt_model_opts mo = {.n_ctx = n, .n_threads = 2, .isa = isa};
    ck_assert_int_eq(ckpt_model_new(&m, cfg, ckpt_weights_views(w), &mo, &err), CKPT_OK);
    float *lg = malloc(sizeof(float) * (size_t)n * (size_t)cfg->n_vocab);
    ck_assert_ptr_nonnull(lg);
    ck_assert_int_eq(ckpt_model_eval(m, ids, n, lg, true, &err), CKPT_OK);
    ckpt_model_free(m);
    ckpt_weights_close(w);
    return lg;
}

START_TEST(isa_difference_below_quantum)
{
    if (!ckpt_isa_available(CKPT_ISA_AVX2))
        return; /* nothing to compare with on this CPU */
    char *path = tu_data(models[_i]);
    cJSON *fp = NULL;
    ckpt_err err = {0};
    struct ckpt_fp_opts o = {.model = path, .threads = 2, .isa = CKPT_ISA_REF};
    ck_assert_int_eq(ckpt_fingerprint_make(&fp, &o, &err), CKPT_OK);
    double worst = 0;
    int64_t n_vocab = 0;
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(fp, "prompts");
    for (const cJSON *p = list->child; p; p = p->next) {
        const cJSON *ids = cJSON_GetObjectItemCaseSensitive(p, "ids");
        const cJSON *gen = cJSON_GetObjectItemCaseSensitive(p, "generated");
        int64_t n = cJSON_GetArraySize(ids) + cJSON_GetArraySize(gen), k = 0;
        int32_t *seq = malloc(sizeof(int32_t) * (size_t)n);
        for (const cJSON *x = ids->child; x; x = x->next)
            seq[k++] = (int32_t)x->valuedouble;
        for (const cJSON *x = gen->child; x; x = x->next)
            seq[k++] = (int32_t)x->valuedouble;
        float *a = all_logits(path, seq, n, CKPT_ISA_REF);
        float *b = all_logits(path, seq, n, CKPT_ISA_AVX2);
        ckpt_weights *w = NULL;
        ck_assert_int_eq(ckpt_weights_open(&w, path, NULL, &err), CKPT_OK);
        n_vocab = ckpt_weights_config(w)->n_vocab;
        ckpt_weights_close(w);
        for (int64_t i = 0; i < n * n_vocab; i++)
            if (fabs((double)a[i] - (double)b[i]) > worst)
                worst = fabs((double)a[i] - (double)b[i]);
        free(a);
        free(b);
        free(seq);
    }
    if (getenv("CK_VERBOSE"))
        fprintf(stderr, "fingerprint %s: largest ref-vs-avx2 logit difference %.3g (quantum %g)\n",
                models[_i], worst, CKPT_FP_QUANTUM);
    ck_assert_msg(worst < CKPT_FP_QUANTUM / 4, "%s: logits differ by %g across ISAs", models[_i],
                  worst);
    /* made on ref, checked on avx2 */
    o.isa = CKPT_ISA_AVX2;
    ck_assert_msg(ckpt_fingerprint_check(fp, &o, &err) == CKPT_OK, "%s", err.msg);
    cJSON_Delete(fp);
    free(path);
}
END_TEST

START_TEST(damaged_tensor_fails_naming_prompt_and_step)
{
    char *tmp = tu_tmpdir(), *src = tu_data("golden/tiny-mistral/quant-Q4_K_M.gguf");
    char *bad = tu_fmt("%s/bad.gguf", tmp);
    const char *bin = getenv("CKPT_TESTBIN");
    char *cmd = tu_fmt("'%s/gen_damage' '%s' blk.1.ffn_down.weight '%s'",
                       bin && *bin ? bin : "build/tests", src, bad);
    ck_assert_int_eq(tu_run(cmd, NULL, NULL), 0);
    cJSON *fp = NULL;
    ckpt_err err = {0};
    struct ckpt_fp_opts o = {.model = src, .threads = 2, .isa = -1};
    ck_assert_int_eq(ckpt_fingerprint_make(&fp, &o, &err), CKPT_OK);
    ck_assert_int_eq(ckpt_fingerprint_check(fp, &o, &err), CKPT_OK);
    o.model = bad;
    ck_assert_int_eq(ckpt_fingerprint_check(fp, &o, &err), CKPT_E_MISMATCH);
    ck_assert_msg(strstr(err.msg, "prompt ") && strstr(err.msg, "step "), "%s", err.msg);
    cJSON_Delete(fp);
    tu_rmtree(tmp);
    free(cmd);
    free(bad);
    free(src);
    free(tmp);
}
END_TEST

START_TEST(malformed_fingerprint_refused)
{
    static const char *const bad[] = {
        "{}",
        "{\"version\":2,\"tokens\":4,\"top_k\":4,\"quantum\":0.0625,\"prompts\":[{}]}",
        "{\"version\":1,\"tokens\":0,\"top_k\":4,\"quantum\":0.0625,\"prompts\":[{}]}",
        "{\"version\":1,\"tokens\":4,\"top_k\":3,\"quantum\":0.0625,\"prompts\":[{}]}",
        "{\"version\":1,\"tokens\":4,\"top_k\":4,\"quantum\":0.0625,\"prompts\":[]}",
        "{\"version\":1,\"tokens\":4,\"top_k\":4,\"quantum\":0.0625,\"prompts\":[{\"ids\":[]}]}",
        "{\"version\":1,\"tokens\":4,\"top_k\":4,\"quantum\":0.0625,\"prompts\":[{\"ids\":[1],"
        "\"text\":7}]}",
        "{\"version\":1,\"tokens\":4,\"top_k\":4,\"quantum\":0.0625,\"prompts\":[{\"ids\":[1],"
        "\"text\":\"a\",\"generated\":[1,2]}]}",
    };
    char *path = tu_data("golden/tiny-mistral/quant-Q4_K_M.gguf");
    struct ckpt_fp_opts o = {.model = path, .threads = 1, .isa = -1};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cJSON *fp = cJSON_Parse(bad[i]);
        ckpt_err err = {0};
        ckpt_status s = ckpt_fingerprint_check(fp, &o, &err);
        ck_assert_msg(s == CKPT_E_FORMAT || s == CKPT_E_MISMATCH, "%s: %d %s", bad[i], s,
                      err.msg);
        cJSON_Delete(fp);
    }
    free(path);
}
END_TEST

Suite *fingerprint_suite(void)
{
    Suite *s = suite_create("fingerprint");
    TCase *core = tcase_create("core"), *corrupt = tcase_create("corrupt");
    tcase_set_timeout(core, 120);
    tcase_add_loop_test(core, isa_difference_below_quantum, 0, N_MODELS);
    tcase_add_test(core, damaged_tensor_fails_naming_prompt_and_step);
    tcase_add_test(corrupt, malformed_fingerprint_refused);
    suite_add_tcase(s, core);
    suite_add_tcase(s, corrupt);
    return s;
}
