/*
 * check_optimize.c - ckpt-quant --optimize: the allocation against an
 * exhaustive search (which it must equal where marginal allocation is
 * provably optimal: equal step costs and diminishing gains, Fox 1966, and
 * never beat anywhere), budgets it must refuse, the exact-name patterns it
 * hands the quantizer, and a measured run on a tiny model that gives the
 * same choice for any thread count.
 */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "quant/calib.h"
#include "quant/optimize.h"
#include "quant/overrides.h"
#include "quant/source.h"
#include "testutil.h"

/* A small deterministic generator (numbers only need to be repeatable). */
static uint32_t lcg(uint32_t *s)
{
    *s = *s * 1664525u + 1013904223u;
    return *s >> 8;
}

static double unit(uint32_t *s)
{
    return (double)lcg(s) / (double)(1u << 24);
}

/* The least sum of pred over all choices within budget (exhaustive). */
static double best_sum(const struct ckpt_opt_result *r, size_t i, uint64_t left)
{
    if (i == r->n)
        return 0;
    double best = INFINITY;
    for (size_t k = 0; k < r->t[i].n_cand; k++) {
        const struct ckpt_opt_cand *c = &r->t[i].cand[k];
        if (c->bytes > left)
            continue;
        double v = c->pred + best_sum(r, i + 1, left - c->bytes);
        best = v < best ? v : best;
    }
    return best;
}

/* n tensors of m candidates; unit: every step costs 100 bytes and the
 * gains shrink step by step (convex); else random sizes and divergences. */
static void make(struct ckpt_opt_result *r, struct ckpt_opt_tensor *t, size_t n, size_t m,
                 bool unit_steps, uint32_t *s)
{
    memset(r, 0, sizeof *r);
    r->t = t;
    r->n = n;
    for (size_t i = 0; i < n; i++) {
        memset(&t[i], 0, sizeof t[i]);
        t[i].name = "x";
        t[i].n_cand = m;
        uint64_t b = 100 + (unit_steps ? 0 : lcg(s) % 300);
        double d = 1 + 10 * unit(s), gain = d / 2;
        for (size_t k = 0; k < m; k++) {
            t[i].cand[k] = (struct ckpt_opt_cand){.bytes = b, .pred = d, .kld = -1};
            b += unit_steps ? 100 : 1 + lcg(s) % 200;
            if (unit_steps) {
                d -= gain;
                gain *= 0.2 + 0.7 * unit(s);
            } else {
                d *= 0.3 + 0.8 * unit(s); /* not even monotonic */
            }
        }
    }
}

START_TEST(alloc_optimal_for_diminishing_gains)
{
    uint32_t s = 12345;
    struct ckpt_opt_tensor t[5];
    struct ckpt_opt_result r;
    ckpt_err err = {0};
    for (int trial = 0; trial < 200; trial++) {
        size_t n = 2 + lcg(&s) % 4, m = 2 + lcg(&s) % 4;
        make(&r, t, n, m, true, &s);
        r.budget = 100 * (n + lcg(&s) % (n * m));
        ck_assert_int_eq(ckpt_opt_allocate(&r, &err), CKPT_OK);
        ck_assert_uint_le(r.bytes, r.budget);
        ck_assert_double_eq_tol(r.pred, best_sum(&r, 0, r.budget), 1e-9);
    }
}
END_TEST

START_TEST(alloc_within_budget_never_beats_exhaustive)
{
    uint32_t s = 777;
    struct ckpt_opt_tensor t[5];
    struct ckpt_opt_result r;
    ckpt_err err = {0};
    for (int trial = 0; trial < 200; trial++) {
        size_t n = 2 + lcg(&s) % 4, m = 2 + lcg(&s) % 5;
        make(&r, t, n, m, false, &s);
        uint64_t least = 0, most = 0;
        double smallest = 0;
        for (size_t i = 0; i < n; i++) {
            least += t[i].cand[0].bytes;
            most += t[i].cand[m - 1].bytes;
            smallest += t[i].cand[0].pred;
        }
        r.budget = least + lcg(&s) % (most - least + 1);
        ck_assert_int_eq(ckpt_opt_allocate(&r, &err), CKPT_OK);
        uint64_t sum = 0;
        double pred = 0;
        for (size_t i = 0; i < n; i++) {
            sum += t[i].cand[t[i].chosen].bytes;
            pred += t[i].cand[t[i].chosen].pred;
        }
        ck_assert_uint_eq(sum, r.bytes);
        ck_assert_uint_le(r.bytes, r.budget);
        ck_assert_double_eq_tol(pred, r.pred, 1e-12);
        ck_assert(r.pred <= smallest + 1e-12);
        ck_assert(r.pred >= best_sum(&r, 0, r.budget) - 1e-12);
    }
}
END_TEST

START_TEST(alloc_free_upgrade_and_refusal)
{
    struct ckpt_opt_tensor t[2] = {0};
    struct ckpt_opt_result r = {.t = t, .n = 2};
    ckpt_err err = {0};
    for (int i = 0; i < 2; i++) {
        t[i].n_cand = 3;
        t[i].cand[0] = (struct ckpt_opt_cand){.bytes = 144, .pred = 2.0};
        t[i].cand[1] = (struct ckpt_opt_cand){.bytes = 144, .pred = 1.5}; /* same size, better */
        t[i].cand[2] = (struct ckpt_opt_cand){.bytes = 176, .pred = 0.5};
    }
    r.budget = 288 + 31; /* no room for a step of 32 */
    ck_assert_int_eq(ckpt_opt_allocate(&r, &err), CKPT_OK);
    ck_assert_uint_eq(t[0].chosen, 1);
    ck_assert_uint_eq(t[1].chosen, 1);
    ck_assert_uint_eq(r.bytes, 288);
    r.budget = 288 + 32; /* one step: the first tensor takes it (ties: source order) */
    ck_assert_int_eq(ckpt_opt_allocate(&r, &err), CKPT_OK);
    ck_assert_uint_eq(t[0].chosen, 2);
    ck_assert_uint_eq(t[1].chosen, 1);
    r.budget = 287;
    ck_assert_int_eq(ckpt_opt_allocate(&r, &err), CKPT_E_RANGE);
    ck_assert_ptr_nonnull(strstr(err.msg, "smallest types take 288: raise the target"));
}
END_TEST

START_TEST(patterns_match_one_name)
{
    struct ckpt_opt_tensor t[3] = {0};
    const char *names[3] = {"blk.1.attn_q.weight", "blk.11.attn_q.weight", "output.weight"};
    const ckpt_type types[3] = {CKPT_TYPE_Q3_K, CKPT_TYPE_Q6_K, CKPT_TYPE_Q8_0};
    for (int i = 0; i < 3; i++) {
        t[i].name = names[i];
        t[i].n_cand = 1;
        t[i].cand[0].type = types[i];
    }
    struct ckpt_opt_result r = {.t = t, .n = 3};
    ckpt_qtt *tt = NULL;
    ckpt_err err = {0};
    ck_assert_int_eq(ckpt_opt_tensor_types(&r, &tt, &err), CKPT_OK);
    for (int i = 0; i < 3; i++)
        ck_assert_int_eq(ckpt_qtt_match(tt, names[i]), types[i]);
    ck_assert_int_eq(ckpt_qtt_match(tt, "blk.1.attn_qXweight"), -1);
    ck_assert_int_eq(ckpt_qtt_match(tt, "blk.1.attn_q.weight.bias"), -1);
    ck_assert_int_eq(ckpt_qtt_match(tt, "xoutput.weight"), -1);
    ckpt_qtt_free(tt);
}
END_TEST

/* A measured run on tiny-mixtral (32 tokens): the choice is within the
 * mix's size and the same, divergences to the bit, for 1 and 2 threads. */
START_TEST(measured_run_any_threads)
{
    const char *model = TESTDATA "/models/tiny-mixtral";
    const char *text = TESTDATA "/fidelity/calib.txt";
    struct ckpt_calib cal = {0};
    struct ckpt_calib_opts co = {.text = text, .n_ctx = 32, .max_chunks = 1, .n_threads = 1};
    ckpt_err err = {0};
    ck_assert_msg(ckpt_calib_run(&cal, model, &co, &err) == CKPT_OK, "%s", err.msg);
    struct ckpt_opt_result res[2];
    for (int j = 0; j < 2; j++) {
        struct ckpt_qsrc *src = NULL;
        ck_assert_msg(ckpt_qsrc_open_hf(&src, model, false, &err) == CKPT_OK, "%s", err.msg);
        struct ckpt_opt_opts o = {.mix = CKPT_MIX_Q3_K_M, .n_ctx = 32, .sens_tokens = 32,
                                  .rounds = 1, .n_threads = j + 1};
        ck_assert_msg(ckpt_opt_run(&res[j], model, src, cal.imatrix, text, &o, &err) ==
                          CKPT_OK, "%s", err.msg);
        ckpt_qsrc_close(src);
        ck_assert_uint_eq(res[j].n, 30); /* 4 layers x (4 attention + 3 experts) + 2 */
        ck_assert_uint_le(res[j].bytes, res[j].budget);
        ck_assert_uint_le(res[j].budget, res[j].mix_bytes);
        ck_assert(res[j].pred < res[j].mix_pred);
    }
    for (size_t i = 0; i < res[0].n; i++) {
        const struct ckpt_opt_tensor *a = &res[0].t[i], *b = &res[1].t[i];
        ck_assert_uint_eq(a->src_index, b->src_index); /* names went with the sources */
        ck_assert_uint_eq(a->chosen, b->chosen);
        for (size_t k = 0; k < a->n_cand; k++)
            ck_assert(memcmp(&a->cand[k], &b->cand[k], sizeof a->cand[k]) == 0);
    }
    ckpt_opt_result_free(&res[0]);
    ckpt_opt_result_free(&res[1]);
    ckpt_calib_free(&cal);
}
END_TEST

Suite *optimize_suite(void)
{
    Suite *s = suite_create("optimize");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, alloc_optimal_for_diminishing_gains);
    tcase_add_test(tc, alloc_within_budget_never_beats_exhaustive);
    tcase_add_test(tc, patterns_match_one_name);
    tcase_add_test(tc, measured_run_any_threads);
    suite_add_tcase(s, tc);
    tc = tcase_create("limits");
    tcase_add_test(tc, alloc_free_upgrade_and_refusal);
    suite_add_tcase(s, tc);
    return s;
}
