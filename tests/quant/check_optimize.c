/*
 * check_optimize.c - ckpt-quant --optimize: the allocation against an
 * exhaustive search (which it must equal where marginal allocation is
 * provably optimal: equal step costs and diminishing gains, Fox 1966, and
 * never beat anywhere), budgets it must refuse, the exact-name patterns it
 * hands the quantizer, a measured run on a tiny model that gives the same
 * choice for any thread count, and --gptq's rows lowering a layer's output
 * error computed from the inputs the forward pass recorded.
 */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats/model_load.h"
#include "formats/tokenizer.h"
#include "kernels/model.h"
#include "kernels/quant.h"
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

/* The inputs of blk.0.ffn_down, as the forward pass multiplies them. */
struct grab {
    float *x; /* (n, ncols) */
    int64_t n, ncols;
};

static void grab_down0(void *ctx, const struct ckpt_mm_input *in)
{
    struct grab *g = ctx;
    if (in->weight != CKPT_MM_FFN_DOWN || in->layer != 0)
        return;
    g->x = realloc(g->x, (size_t)((g->n + in->n) * in->ncols) * sizeof *g->x);
    memcpy(g->x + g->n * in->ncols, in->x, (size_t)(in->n * in->ncols) * sizeof *g->x);
    g->n += in->n;
    g->ncols = in->ncols;
}

/* sum over rows r and positions p of ((w_r - q_r) . x_p)^2: the output error
 * of the layer on its recorded inputs, computed from the inputs themselves */
static double out_err(const float *w, const float *q, int64_t rows, const struct grab *g)
{
    double s = 0;
    for (int64_t r = 0; r < rows; r++)
        for (int64_t p = 0; p < g->n; p++) {
            double d = 0;
            for (int64_t j = 0; j < g->ncols; j++)
                d += ((double)w[r * g->ncols + j] - (double)q[r * g->ncols + j]) *
                     (double)g->x[p * g->ncols + j];
            s += d * d;
        }
    return s;
}

/* --gptq's rows, once encoded, move blk.0.ffn_down's output on the
 * calibration tokens less than the plain rows encoded the same way, and
 * they do not depend on how the rows are split between calls. */
START_TEST(gptq_lowers_output_error)
{
    const char *model = TESTDATA "/models/tiny-mistral";
    const char *text = TESTDATA "/fidelity/calib.txt";
    ckpt_err err = {0};
    ckpt_tok *tok = NULL;
    int32_t *ids = NULL;
    size_t n_ids = 0;
    const int64_t ctx = 64, chunks = 1;
    ck_assert_msg(ckpt_tok_load_any(&tok, model, &err) == CKPT_OK, "%s", err.msg);
    ck_assert_msg(ckpt_calib_tokenize(tok, text, &ids, &n_ids, &err) == CKPT_OK, "%s", err.msg);
    ck_assert_int_ge((int64_t)n_ids, ctx * chunks);
    struct ckpt_calib cal = {0};
    struct ckpt_calib_opts co = {.text = text, .n_ctx = ctx, .max_chunks = chunks, .n_threads = 1};
    ck_assert_msg(ckpt_calib_run(&cal, model, &co, &err) == CKPT_OK, "%s", err.msg);
    /* the layer's inputs, recorded from the forward pass */
    ckpt_weights *w = NULL;
    ckpt_model *m = NULL;
    struct grab g = {0};
    ck_assert_msg(ckpt_weights_open(&w, model, NULL, &err) == CKPT_OK, "%s", err.msg);
    struct ckpt_model_opts mo = {.n_ctx = ctx, .max_batch = ctx, .n_threads = 1, .isa = -1};
    ck_assert(ckpt_model_new(&m, ckpt_weights_config(w), ckpt_weights_views(w), &mo, &err) ==
              CKPT_OK);
    ckpt_model_set_observer(m, grab_down0, &g);
    for (int64_t c = 0; c < chunks; c++) {
        ckpt_model_truncate(m, 0);
        ck_assert(ckpt_model_eval(m, ids + c * ctx, ctx, NULL, false, &err) == CKPT_OK);
    }
    ck_assert_int_eq(g.n, ctx * chunks);

    struct ckpt_qsrc *src = NULL;
    ckpt_gptq *gp = NULL;
    ck_assert_msg(ckpt_qsrc_open_hf(&src, model, false, &err) == CKPT_OK, "%s", err.msg);
    ck_assert_msg(ckpt_gptq_new(&gp, src, model, ids, chunks, ctx, cal.imatrix, 1, &err) ==
                      CKPT_OK, "%s", err.msg);
    size_t i = 0;
    while (strcmp(src->tensors[i].name, "blk.0.ffn_down.weight"))
        i++;
    const int64_t ne0 = src->tensors[i].ne[0], rows = src->tensors[i].ne[1];
    ck_assert_int_eq(ne0, g.ncols);
    const float *im = NULL;
    ck_assert(ckpt_imatrix_for_tensor(cal.imatrix, src->tensors[i].name, ne0, 1, &im, &err) ==
              CKPT_OK);
    const ckpt_type types[] = {CKPT_TYPE_Q3_K, CKPT_TYPE_Q4_K};
    size_t rb;
    float *orig = malloc((size_t)(rows * ne0) * sizeof *orig);
    float *comp = malloc((size_t)(rows * ne0) * sizeof *comp);
    float *half = malloc((size_t)(rows * ne0) * sizeof *half);
    float *deq = malloc((size_t)(rows * ne0) * sizeof *deq);
    ckpt_type_row_bytes(CKPT_TYPE_Q8_0, ne0, &rb);
    void *q = malloc((size_t)rows * rb);
    struct ckpt_qsrc *gs = ckpt_gptq_source(gp);
    ck_assert(src->ops->rows(src->ctx, i, 0, rows, orig, &err) == CKPT_OK);
    for (size_t k = 0; k < 2; k++) {
        ckpt_gptq_set_type(gp, i, (int)types[k]);
        ck_assert(gs->ops->rows(gs->ctx, i, 0, rows, comp, &err) == CKPT_OK);
        ck_assert(gs->ops->rows(gs->ctx, i, 0, 7, half, &err) == CKPT_OK);
        ck_assert(gs->ops->rows(gs->ctx, i, 7, rows - 7, half + 7 * ne0, &err) == CKPT_OK);
        ck_assert(memcmp(comp, half, (size_t)(rows * ne0) * sizeof *comp) == 0);
        double e[2];
        const float *in[2] = {orig, comp};
        for (int v = 0; v < 2; v++) {
            ckpt_type_row_bytes(types[k], ne0, &rb);
            ck_assert(ckpt_quantize_rows(types[k], in[v], q, rows, ne0, im, &err) == CKPT_OK);
            for (int64_t r = 0; r < rows; r++)
                ckpt_dequantize_row(types[k], (unsigned char *)q + (size_t)r * rb, deq + r * ne0,
                                    ne0);
            e[v] = out_err(orig, deq, rows, &g);
        }
        ck_assert_msg(e[1] < 0.9 * e[0], "%s: output error %g compensated, %g plain",
                      ckpt_type_name(types[k]), e[1], e[0]);
    }
    free(orig);
    free(comp);
    free(half);
    free(deq);
    free(q);
    free(g.x);
    free(ids);
    ckpt_gptq_free(gp);
    ckpt_qsrc_close(src);
    ckpt_model_free(m);
    ckpt_weights_close(w);
    ckpt_tok_free(tok);
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
    suite_add_tcase(s, tc);
    tc = tcase_create("measured"); /* forward passes on the tiny models */
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, measured_run_any_threads);
    tcase_add_test(tc, gptq_lowers_output_error);
    suite_add_tcase(s, tc);
    tc = tcase_create("limits");
    tcase_add_test(tc, alloc_free_upgrade_and_refusal);
    suite_add_tcase(s, tc);
    return s;
}
