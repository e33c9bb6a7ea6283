/*
 * check_fingerprint.c - the behavioural fingerprint (verify/fingerprint.h)
 * across instruction sets.  The default semantic is one on every CPU: the
 * scalar ISA and avx2 give the same logits bit for bit on the kit models
 * (F32 and Q4_K_M), hence the same fingerprints, and one made on either
 * checks on the other.  The f32 oracle (ref) is measured against the
 * default: for F32 weights the largest difference on every position of
 * every fingerprint run stays below a quarter of the recorded quantum (a
 * fingerprint checks across them); for Q4_K_M the q8 activations move
 * logits by more, bounded as a regression guard.  A copy with one damaged
 * tensor (tests/gen_damage) fails naming the prompt and step; malformed
 * fingerprints are refused.  The figures go to stderr when CK_VERBOSE is
 * set.
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
/* The largest ref-vs-default logit difference allowed on the Q4_K_M files:
 * measured 0.30 (tiny-mistral) and 0.79 (tiny-mixtral), a regression guard
 * on the activation rounding, not a fingerprint tolerance. */
#define QUANT_ORACLE_BOUND 1.0

/* Logits of every position of the n ids (a prompt and its greedy tokens,
 * teacher-forced) under isa; n_vocab * n floats, malloc'd. */
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

/* The prompt + generated ids of one fingerprint prompt; *n their count. */
static int32_t *sequence(const cJSON *p, int64_t *n)
{
    const cJSON *ids = cJSON_GetObjectItemCaseSensitive(p, "ids");
    const cJSON *gen = cJSON_GetObjectItemCaseSensitive(p, "generated");
    int64_t k = 0;
    *n = cJSON_GetArraySize(ids) + cJSON_GetArraySize(gen);
    int32_t *seq = malloc(sizeof(int32_t) * (size_t)*n);
    ck_assert_ptr_nonnull(seq);
    for (const cJSON *x = ids->child; x; x = x->next)
        seq[k++] = (int32_t)x->valuedouble;
    for (const cJSON *x = gen->child; x; x = x->next)
        seq[k++] = (int32_t)x->valuedouble;
    return seq;
}

static int64_t vocab_of(const char *path)
{
    ckpt_weights *w = NULL;
    ckpt_err err = {0};
    ck_assert_int_eq(ckpt_weights_open(&w, path, NULL, &err), CKPT_OK);
    int64_t n = ckpt_weights_config(w)->n_vocab;
    ckpt_weights_close(w);
    return n;
}

static cJSON *make_fp(const char *path, int isa)
{
    cJSON *fp = NULL;
    ckpt_err err = {0};
    struct ckpt_fp_opts o = {.model = path, .threads = 2, .isa = isa};
    ck_assert_msg(ckpt_fingerprint_make(&fp, &o, &err) == CKPT_OK, "%s", err.msg);
    return fp;
}

/* The default semantic is one on every CPU: the scalar ISA (a CPU without
 * AVX2) gives avx2's logits bit for bit on every position of every
 * fingerprint prompt, for F32 and Q4_K_M weights alike (vec_dot.h: the
 * scalar twins; dot.h: the fmaf attention dot), so the two fingerprints
 * are one: the same tokens, top logits and digests; each records its
 * kernels and their common semantic. */
START_TEST(scalar_and_avx2_give_the_same_bits)
{
    if (!ckpt_isa_available(CKPT_ISA_AVX2))
        return; /* nothing to compare with on this CPU */
    char *path = tu_data(models[_i]);
    cJSON *fa = make_fp(path, CKPT_ISA_AVX2), *fs = make_fp(path, CKPT_ISA_SCALAR);
    ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(fa, "isa")->valuestring, "avx2");
    ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(fs, "isa")->valuestring, "scalar");
    ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(fa, "semantic")->valuestring, "q8");
    ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(fs, "semantic")->valuestring, "q8");
    const cJSON *pa = cJSON_GetObjectItemCaseSensitive(fa, "prompts")->child;
    const cJSON *ps = cJSON_GetObjectItemCaseSensitive(fs, "prompts")->child;
    const int64_t n_vocab = vocab_of(path);
    int n_prompts = 0;
    for (; pa && ps; pa = pa->next, ps = ps->next, n_prompts++) {
        char *ja = cJSON_PrintUnformatted(pa), *js = cJSON_PrintUnformatted(ps);
        ck_assert_str_eq(ja, js); /* ids, generated, top logits, sha256 */
        free(ja);
        free(js);
        int64_t n;
        int32_t *seq = sequence(pa, &n);
        float *a = all_logits(path, seq, n, CKPT_ISA_AVX2);
        float *b = all_logits(path, seq, n, CKPT_ISA_SCALAR);
        ck_assert_msg(memcmp(a, b, sizeof(float) * (size_t)(n * n_vocab)) == 0,
                      "%s: scalar and avx2 logits differ", models[_i]);
        free(a);
        free(b);
        free(seq);
    }
    ck_assert(!pa && !ps && n_prompts > 0);
    /* made on avx2, checked on scalar and the other way round */
    ckpt_err err = {0};
    struct ckpt_fp_opts o = {.model = path, .threads = 1, .isa = CKPT_ISA_SCALAR};
    ck_assert_msg(ckpt_fingerprint_check(fa, &o, &err) == CKPT_OK, "%s", err.msg);
    o.isa = CKPT_ISA_AVX2;
    ck_assert_msg(ckpt_fingerprint_check(fs, &o, &err) == CKPT_OK, "%s", err.msg);
    cJSON_Delete(fa);
    cJSON_Delete(fs);
    free(path);
}
END_TEST

/* The f32 oracle (ref) against the default semantic, teacher-forced on the
 * default's tokens: the largest logit difference over every position of
 * every fingerprint prompt.  F32 weights: the two differ only in the
 * summation (FMA or not), far below a quarter of the quantum, so a
 * fingerprint checks across them.  Q4_K_M weights: the default quantizes
 * activations to q8, the oracle does not; that difference is measured
 * and bounded here, and a cross-semantic check is not promised. */
START_TEST(oracle_vs_default_measured)
{
    char *path = tu_data(models[_i]);
    const bool quantized = strstr(models[_i], "quant-") != NULL;
    cJSON *fp = make_fp(path, -1);
    const int64_t n_vocab = vocab_of(path);
    double worst = 0;
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(fp, "prompts");
    for (const cJSON *p = list->child; p; p = p->next) {
        int64_t n;
        int32_t *seq = sequence(p, &n);
        float *a = all_logits(path, seq, n, CKPT_ISA_REF);
        float *b = all_logits(path, seq, n, -1);
        for (int64_t i = 0; i < n * n_vocab; i++)
            worst = fmax(worst, fabs((double)a[i] - (double)b[i]));
        free(a);
        free(b);
        free(seq);
    }
    if (getenv("CK_VERBOSE"))
        fprintf(stderr, "fingerprint %s: largest ref-vs-%s logit difference %.3g (quantum %g)\n",
                models[_i], ckpt_isa_name(ckpt_isa_default()), worst, CKPT_FP_QUANTUM);
    if (!quantized) {
        ck_assert_msg(worst < CKPT_FP_QUANTUM / 4, "%s: logits differ by %g across semantics",
                      models[_i], worst);
        ckpt_err err = {0};
        struct ckpt_fp_opts o = {.model = path, .threads = 2, .isa = CKPT_ISA_REF};
        ck_assert_msg(ckpt_fingerprint_check(fp, &o, &err) == CKPT_OK, "%s", err.msg);
    } else {
        ck_assert_msg(worst > 0 && worst < QUANT_ORACLE_BOUND, "%s: q8 activations moved logits "
                      "by %g", models[_i], worst);
    }
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
    ck_assert_msg(!strstr(err.msg, "signed under"), "same semantic: %s", err.msg);
    /* fingerprints made before isa and semantic were recorded still check */
    cJSON_DeleteItemFromObjectCaseSensitive(fp, "isa");
    cJSON_DeleteItemFromObjectCaseSensitive(fp, "semantic");
    o.model = src;
    ck_assert_msg(ckpt_fingerprint_check(fp, &o, &err) == CKPT_OK, "%s", err.msg);
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
        "{\"version\":1,\"tokens\":4,\"top_k\":4,\"quantum\":0.0625,\"prompts\":[{\"ids\":[1],"
        "\"text\":\"a\"}],\"isa\":7,\"semantic\":\"q8\"}",
        "{\"version\":1,\"tokens\":4,\"top_k\":4,\"quantum\":0.0625,\"prompts\":[{\"ids\":[1],"
        "\"text\":\"a\"}],\"isa\":\"avx2\",\"semantic\":[]}",
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
    tcase_add_loop_test(core, scalar_and_avx2_give_the_same_bits, 0, N_MODELS);
    tcase_add_loop_test(core, oracle_vs_default_measured, 0, N_MODELS);
    tcase_add_test(core, damaged_tensor_fails_naming_prompt_and_step);
    tcase_add_test(corrupt, malformed_fingerprint_refused);
    suite_add_tcase(s, core);
    suite_add_tcase(s, corrupt);
    return s;
}
