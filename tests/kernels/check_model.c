/*
 * check_model.c - the reference forward pass against the golden files of
 * tests/data/golden/<kit>/ref-greedy.json (an independent PyTorch float32
 * implementation of the transformers forward pass), for every kit model:
 *
 *  - from the HF directory: on every prompt (ids as given) the 32 greedy
 *    tokens equal generated_ids, including the prompt longer than the
 *    sliding window; teacher-forced on the prompt, the argmax at every
 *    position equals prompt_argmax; at every generated step the five
 *    golden top logits agree within 1e-3 relative;
 *  - from convert-f16.gguf (llama.cpp's converter; f16-rounded weights):
 *    the greedy tokens equal generated_ids on every prompt, the window
 *    given by the caller since GGUF does not record it, and without a
 *    window on the window-exceeding prompt they equal
 *    generated_ids_no_window (what llama.cpp produces);
 *  - from quant-Q4_K_M.gguf (llama-quantize): teacher-forced on the golden
 *    sequences, the top-1 agreement with the golden argmax stays above a
 *    floor (quantization changes some choices; the figure is reported);
 *  - logits are bit-identical with 1 and 2 threads.
 * Measured figures are printed on stderr when CK_VERBOSE is set.
 */
#define _GNU_SOURCE
#include <check.h>
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats/model_load.h"
#include "kernels/ops.h"
#include "testutil.h"

#define N_VOCAB_MAX 1500

struct golden {
    cJSON *root;
    const cJSON *prompts;
    int64_t window; /* 0 = none */
};

static void golden_load(struct golden *g, const char *kit)
{
    char *path = tu_fmt("%s/golden/%s/ref-greedy.json", TESTDATA, kit);
    size_t n;
    char *text = tu_read_file(path, &n);
    ck_assert_msg(text != NULL, "%s", path);
    g->root = cJSON_ParseWithLength(text, n);
    ck_assert_ptr_nonnull(g->root);
    g->prompts = cJSON_GetObjectItemCaseSensitive(g->root, "prompts");
    ck_assert(cJSON_IsArray(g->prompts));
    const cJSON *w = cJSON_GetObjectItemCaseSensitive(g->root, "sliding_window");
    g->window = cJSON_IsNumber(w) ? (int64_t)w->valuedouble : 0;
    free(text);
    free(path);
}

/* ids of a JSON array into a malloc'd array; *n gets the count. */
static int32_t *ids_of(const cJSON *p, const char *key, int64_t *n)
{
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(p, key);
    ck_assert_msg(cJSON_IsArray(a), "no %s", key);
    *n = cJSON_GetArraySize(a);
    int32_t *ids = malloc(sizeof(int32_t) * (size_t)(*n + 1));
    int64_t i = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, a) ids[i++] = (int32_t)e->valuedouble;
    return ids;
}

static ckpt_weights *open_weights(const char *kit, const char *file, int64_t window)
{
    char *path = file ? tu_fmt("%s/golden/%s/%s", TESTDATA, kit, file)
                      : tu_fmt("%s/models/%s", TESTDATA, kit);
    struct ckpt_weights_opts o = {.sliding_window = window};
    ckpt_weights *w;
    ckpt_err err = {0};
    ck_assert_msg(ckpt_weights_open(&w, path, &o, &err) == CKPT_OK, "%s", err.msg);
    free(path);
    return w;
}

static ckpt_model *new_model(ckpt_weights *w, int threads, int64_t n_ctx)
{
    struct ckpt_model_opts o = {.n_ctx = n_ctx, .n_threads = threads, .isa = -1};
    ckpt_model *m;
    ckpt_err err = {0};
    ck_assert_msg(ckpt_model_new(&m, ckpt_weights_config(w), ckpt_weights_views(w), &o, &err) ==
                      CKPT_OK,
                  "%s", err.msg);
    return m;
}

struct tally {
    int prompts, greedy_equal;          /* prompts whose N tokens all match */
    int positions, argmax_equal;        /* teacher-forced prompt positions */
    double max_rel;                     /* top-5 logits vs golden */
};

/*
 * Greedy decoding of one golden prompt: prompt_argmax compared at every
 * prompt position, each generated token against `want`, and the golden
 * top-5 logits of every step (while the tokens agree) against ours.
 */
static void greedy_one(ckpt_model *m, const cJSON *p, const char *want_key, struct tally *t)
{
    int64_t n_prompt, n_new, n_am;
    int32_t *ids = ids_of(p, "ids", &n_prompt);
    int32_t *want = ids_of(p, want_key, &n_new);
    int32_t *am = ids_of(p, "prompt_argmax", &n_am);
    ck_assert_int_eq(n_am, n_prompt);
    const cJSON *steps = cJSON_GetObjectItemCaseSensitive(p, "steps");
    int64_t V = ckpt_model_get_config(m)->n_vocab;
    float *lg = malloc(sizeof(float) * (size_t)(n_prompt * V));
    ckpt_model_truncate(m, 0);
    ck_assert_int_eq(ckpt_model_eval(m, ids, n_prompt, lg, true, NULL), CKPT_OK);
    for (int64_t i = 0; i < n_prompt; i++) {
        t->positions++;
        t->argmax_equal += ckpt_ops_argmax(lg + i * V, V) == am[i];
    }
    float *last = lg + (n_prompt - 1) * V;
    bool same = true;
    for (int64_t k = 0; k < n_new; k++) {
        int32_t tok = ckpt_ops_argmax(last, V);
        if (tok != want[k])
            same = false;
        if (same && strcmp(want_key, "generated_ids") == 0) {
            const cJSON *top5 = cJSON_GetObjectItemCaseSensitive(
                cJSON_GetArrayItem(steps, (int)k), "top5");
            const cJSON *e;
            cJSON_ArrayForEach(e, top5)
            {
                int id = (int)cJSON_GetArrayItem(e, 0)->valuedouble;
                double gold = cJSON_GetArrayItem(e, 1)->valuedouble;
                double rel = fabs(last[id] - gold) / fmax(fabs(gold), 1.0);
                t->max_rel = fmax(t->max_rel, rel);
            }
        }
        if (!same)
            break;
        if (k + 1 < n_new)
            ck_assert_int_eq(ckpt_model_eval(m, &tok, 1, last, false, NULL), CKPT_OK);
    }
    t->prompts++;
    t->greedy_equal += same;
    free(lg);
    free(ids);
    free(want);
    free(am);
}

static bool exceeds_window(const cJSON *p)
{
    return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(p, "exceeds_window"));
}

static void report(const char *kit, const char *src, const struct tally *t)
{
    if (getenv("CK_VERBOSE"))
        fprintf(stderr,
                "model %s %s: greedy %d/%d prompts, prompt argmax %d/%d, top-5 max rel %.3g\n",
                kit, src, t->greedy_equal, t->prompts, t->argmax_equal, t->positions, t->max_rel);
}

static const char *const kits[] = {"tiny-mistral", "tiny-mixtral", "tiny-mistral-tokjson"};

/* Loop index: kit. */
START_TEST(hf_dir_matches_golden)
{
    struct golden g;
    golden_load(&g, kits[_i]);
    ckpt_weights *w = open_weights(kits[_i], NULL, -1);
    ck_assert_int_eq(ckpt_weights_get_kind(w), CKPT_WEIGHTS_HF);
    ck_assert_int_eq(ckpt_weights_config(w)->sliding_window, g.window);
    ckpt_model *m = new_model(w, 2, 256);
    struct tally t = {0};
    const cJSON *p;
    cJSON_ArrayForEach(p, g.prompts) greedy_one(m, p, "generated_ids", &t);
    report(kits[_i], "hf", &t);
    ck_assert_int_eq(t.greedy_equal, t.prompts);
    ck_assert_int_eq(t.argmax_equal, t.positions);
    ck_assert_msg(t.max_rel <= 1e-3, "top-5 logits: max relative error %g", t.max_rel);
    ckpt_model_free(m);
    ckpt_weights_close(w);
    cJSON_Delete(g.root);
}
END_TEST

/*
 * tiny-mistral as LlamaForCausalLM (tests/llama_fixture.sh): a Mistral block
 * without a sliding window.  Every prompt that fits the golden's 64-token
 * window gives the golden tokens; the prompt that exceeds it must differ
 * from the windowed golden (the window is not applied) and give what no
 * window gives (generated_ids_no_window).
 */
START_TEST(llama_without_window)
{
    struct golden g;
    golden_load(&g, "tiny-mistral");
    char *tmp = tu_tmpdir(), *dir = tu_llama_fixture(tmp);
    ck_assert_ptr_nonnull(dir);
    struct ckpt_weights_opts o = {.sliding_window = -1};
    ckpt_weights *w;
    ckpt_err err = {0};
    ck_assert_msg(ckpt_weights_open(&w, dir, &o, &err) == CKPT_OK, "%s", err.msg);
    ck_assert_int_eq(ckpt_weights_config(w)->sliding_window, 0);
    ckpt_model *m = new_model(w, 2, 256);
    struct tally in = {0}, out = {0}, none = {0};
    const cJSON *p;
    cJSON_ArrayForEach(p, g.prompts)
    {
        if (!exceeds_window(p)) {
            greedy_one(m, p, "generated_ids", &in);
            continue;
        }
        greedy_one(m, p, "generated_ids", &out);
        greedy_one(m, p, "generated_ids_no_window", &none);
    }
    report("tiny-llama", "hf", &in);
    ck_assert_int_gt(in.prompts, 0);
    ck_assert_int_eq(in.greedy_equal, in.prompts);
    ck_assert_int_eq(in.argmax_equal, in.positions);
    ck_assert_msg(in.max_rel <= 1e-3, "top-5 logits: max relative error %g", in.max_rel);
    ck_assert_int_gt(out.prompts, 0);
    ck_assert_int_eq(out.greedy_equal, 0);
    ck_assert_int_eq(none.greedy_equal, none.prompts);
    ckpt_model_free(m);
    ckpt_weights_close(w);
    cJSON_Delete(g.root);
    tu_rmtree(tmp);
    free(tmp);
    free(dir);
}
END_TEST

/* Loop index: kit (the tokjson kit has no GGUF of its own). */
START_TEST(f16_gguf_matches_golden)
{
    struct golden g;
    golden_load(&g, kits[_i]);
    ckpt_weights *w = open_weights(kits[_i], "convert-f16.gguf", g.window);
    ck_assert_int_eq(ckpt_weights_get_kind(w), CKPT_WEIGHTS_GGUF);
    ckpt_model *m = new_model(w, 2, 256);
    struct tally t = {0};
    const cJSON *p;
    cJSON_ArrayForEach(p, g.prompts) greedy_one(m, p, "generated_ids", &t);
    report(kits[_i], "f16.gguf", &t);
    ck_assert_int_eq(t.greedy_equal, t.prompts);
    ckpt_model_free(m);
    ckpt_weights_close(w);

    /* no window (the GGUF default): what llama.cpp does on the long prompt */
    w = open_weights(kits[_i], "convert-f16.gguf", -1);
    ck_assert_int_eq(ckpt_weights_config(w)->sliding_window, 0);
    m = new_model(w, 2, 256);
    struct tally nw = {0};
    cJSON_ArrayForEach(p, g.prompts)
    {
        if (exceeds_window(p))
            greedy_one(m, p, "generated_ids_no_window", &nw);
    }
    if (g.window)
        ck_assert_int_eq(nw.prompts, 1);
    ck_assert_int_eq(nw.greedy_equal, nw.prompts);
    ckpt_model_free(m);
    ckpt_weights_close(w);
    cJSON_Delete(g.root);
}
END_TEST

/* Loop index: kit.  Teacher-forced on ids + generated_ids. */
START_TEST(q4_k_m_gguf_agreement)
{
    struct golden g;
    golden_load(&g, kits[_i]);
    ckpt_weights *w = open_weights(kits[_i], "quant-Q4_K_M.gguf", g.window);
    ckpt_model *m = new_model(w, 2, 256);
    int64_t V = ckpt_weights_config(w)->n_vocab;
    int agree = 0, total = 0;
    const cJSON *p;
    cJSON_ArrayForEach(p, g.prompts)
    {
        int64_t n_prompt, n_new, n_am;
        int32_t *ids = ids_of(p, "ids", &n_prompt);
        int32_t *gen = ids_of(p, "generated_ids", &n_new);
        int32_t *am = ids_of(p, "prompt_argmax", &n_am);
        int64_t n = n_prompt + n_new - 1; /* the last generated id is never fed */
        int32_t *seq = malloc(sizeof(int32_t) * (size_t)n);
        memcpy(seq, ids, sizeof(int32_t) * (size_t)n_prompt);
        memcpy(seq + n_prompt, gen, sizeof(int32_t) * (size_t)(n_new - 1));
        float *lg = malloc(sizeof(float) * (size_t)(n * V));
        ckpt_model_truncate(m, 0);
        ck_assert_int_eq(ckpt_model_eval(m, seq, n, lg, true, NULL), CKPT_OK);
        for (int64_t i = 0; i < n; i++) {
            int32_t want = i < n_prompt ? am[i] : gen[i - n_prompt + 1];
            agree += ckpt_ops_argmax(lg + i * V, V) == want;
            total++;
        }
        free(seq);
        free(lg);
        free(ids);
        free(gen);
        free(am);
    }
    if (getenv("CK_VERBOSE"))
        fprintf(stderr, "model %s Q4_K_M.gguf: teacher-forced top-1 %d/%d (%.1f%%)\n", kits[_i],
                agree, total, 100.0 * agree / total);
    ck_assert_msg(agree >= total * 3 / 4, "top-1 agreement %d/%d", agree, total);
    ckpt_model_free(m);
    ckpt_weights_close(w);
    cJSON_Delete(g.root);
}
END_TEST

/* Loop index: 0 HF dir, 1 Q4_K_M GGUF (both kits). */
START_TEST(threads_do_not_change_logits)
{
    for (int k = 0; k < 2; k++) {
        struct golden g;
        golden_load(&g, kits[k]);
        ckpt_weights *w = open_weights(kits[k], _i ? "quant-Q4_K_M.gguf" : NULL, g.window);
        int64_t n, V = ckpt_weights_config(w)->n_vocab;
        int32_t *ids = ids_of(cJSON_GetArrayItem(g.prompts, 10), "ids", &n);
        float *lg[2];
        for (int j = 0; j < 2; j++) {
            ckpt_model *m = new_model(w, j + 1, n);
            lg[j] = malloc(sizeof(float) * (size_t)(n * V));
            ck_assert_int_eq(ckpt_model_eval(m, ids, n, lg[j], true, NULL), CKPT_OK);
            ckpt_model_free(m);
        }
        ck_assert(memcmp(lg[0], lg[1], sizeof(float) * (size_t)(n * V)) == 0);
        free(lg[0]);
        free(lg[1]);
        free(ids);
        ckpt_weights_close(w);
        cJSON_Delete(g.root);
    }
}
END_TEST

START_TEST(load_errors)
{
    ckpt_weights *w;
    ckpt_err err = {0};
    ck_assert_int_ne(ckpt_weights_open(&w, "/nonexistent/model", NULL, &err), CKPT_OK);
    ck_assert_ptr_null(w);
    ck_assert_msg(strstr(err.msg, "/nonexistent/model"), "%s", err.msg);
    /* a lone safetensors file has no config */
    char *st = tu_data("models/tiny-mistral/model.safetensors");
    ckpt_err_clear(&err);
    ck_assert_int_eq(ckpt_weights_open(&w, st, NULL, &err), CKPT_E_UNSUPPORTED);
    ck_assert_msg(strstr(err.msg, "config.json"), "%s", err.msg);
    free(st);
}
END_TEST

/* A count from the file larger than the file can hold fails before any
 * allocation sized by it (2^31 layers once asked for 1.39 TB). */
START_TEST(counts_bounded_by_file)
{
    static const char *const keys[] = {"llama.block_count", "llama.expert_count"};
    char *src = tu_data(_i ? "golden/tiny-mixtral/convert-f16.gguf"
                           : "golden/tiny-mistral/convert-f16.gguf");
    size_t n;
    uint8_t *d = tu_read_file(src, &n);
    ck_assert_ptr_nonnull(d);
    const char *key = keys[_i];
    size_t klen = strlen(key);
    uint8_t *at = memmem(d, n, key, klen);
    ck_assert_ptr_nonnull(at);
    ck_assert_int_eq(at[klen], 4); /* GGUF_TYPE_UINT32 */
    static const uint8_t huge[4] = {0x00, 0x00, 0x00, 0x80}; /* 2^31 */
    memcpy(at + klen + 4, huge, 4);
    char *dir = tu_tmpdir(), *path = tu_fmt("%s/m.gguf", dir);
    ck_assert_int_eq(tu_write_file(path, d, n), 0);
    ckpt_weights *w;
    ckpt_err err = {0};
    ck_assert_int_eq(ckpt_weights_open(&w, path, NULL, &err), CKPT_E_RANGE);
    ck_assert_msg(strstr(err.msg, key) && strstr(err.msg, "m.gguf"), "%s", err.msg);
    tu_rmtree(dir);
    free(dir), free(path), free(d), free(src);
}
END_TEST

Suite *model_suite(void)
{
    Suite *s = suite_create("model");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, hf_dir_matches_golden, 0, 3);
    tcase_add_loop_test(tc, f16_gguf_matches_golden, 0, 2);
    tcase_add_test(tc, llama_without_window);
    tcase_add_loop_test(tc, q4_k_m_gguf_agreement, 0, 2);
    tcase_add_loop_test(tc, threads_do_not_change_logits, 0, 2);
    suite_add_tcase(s, tc);
    tc = tcase_create("limits");
    tcase_add_test(tc, load_errors);
    tcase_add_loop_test(tc, counts_bounded_by_file, 0, 2);
    suite_add_tcase(s, tc);
    return s;
}
