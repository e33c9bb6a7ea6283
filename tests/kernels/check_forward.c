/*
 * check_forward.c - properties of the forward pass on small random models
 * built in memory (the golden comparisons against the PyTorch reference
 * are in check_model.c): logits do not depend on the thread count, on
 * batching or on the KV cache; GGUF-ordered Q/K rows and stacked experts
 * give the same logits as HF-ordered rows and separate experts; the
 * sliding window bounds the receptive field exactly; the ISAs agree
 * closely; an observer sees the inputs of every matrix product; and bad
 * weights, ids and context sizes are refused.
 */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/fp16.h"
#include "kernels/model.h"
#include "kernels/ops.h"
#include "kernels/permute.h"
#include "kernels/quant.h"

struct synth {
    struct ckpt_model_config cfg;
    struct ckpt_model_weights w;
    struct ckpt_layer_views layers[4];
    struct ckpt_ffn_views experts[4][4];
    void *bufs[256];
    int n_bufs;
};

static uint32_t rng;
static float frand(void)
{
    rng = rng * 1664525u + 1013904223u;
    return (float)((rng >> 8) & 0xffffff) / 16777216.0f * 2.0f - 1.0f;
}

/* A rows x cols matrix (ne = (cols, rows)) of type t with random values
 * scaled by `scale`, plus `offset` (for norm weights). */
static struct ckpt_wview mat(struct synth *s, ckpt_type t, int64_t cols, int64_t rows,
                             float scale, float offset)
{
    size_t rb;
    ck_assert(ckpt_type_row_bytes(t, cols, &rb));
    float *f = malloc(sizeof(float) * (size_t)(cols * rows));
    for (int64_t i = 0; i < cols * rows; i++)
        f[i] = offset + scale * frand();
    void *q = malloc(rb * (size_t)rows);
    ck_assert_uint_eq(ckpt_quantize_rows_unchecked(t, f, q, rows, cols, NULL), rb * (size_t)rows);
    free(f);
    s->bufs[s->n_bufs++] = q;
    struct ckpt_wview v;
    ck_assert(ckpt_wview_init(&v, t, cols, rows, 1, q));
    return v;
}

static void synth_free(struct synth *s)
{
    for (int i = 0; i < s->n_bufs; i++)
        free(s->bufs[i]);
}

/* dim 64, 4 heads of 16 over 2 KV heads, FFN ffn, vocab 50; Mixtral: 4
 * experts, top 2. */
static void synth_build_ffn(struct synth *s, unsigned features, ckpt_type t, int n_layers,
                            int64_t window, uint32_t seed, int64_t ffn)
{
    memset(s, 0, sizeof *s);
    rng = seed;
    struct ckpt_model_config c = {
        .features = features, .n_vocab = 50, .dim = 64, .n_layers = n_layers, .n_heads = 4,
        .n_kv_heads = 2, .head_dim = 16, .ffn_dim = ffn, .rms_eps = 1e-5f,
        .rope_theta = 10000.0f, .sliding_window = window, .bos_id = 1, .eos_id = 2,
    };
    if (features & CKPT_FEAT_EXPERTS) {
        c.n_experts = 4;
        c.n_experts_used = 2;
    }
    s->cfg = c;
    float sd = 1.0f / 8.0f, sf = 1.0f / sqrtf((float)ffn);
    s->w.tok_embd = mat(s, t, 64, 50, 1.0f, 0.0f);
    s->w.output_norm = mat(s, CKPT_TYPE_F32, 64, 1, 0.1f, 1.0f);
    s->w.output = mat(s, t, 64, 50, sd, 0.0f);
    s->w.layers = s->layers;
    for (int l = 0; l < n_layers; l++) {
        struct ckpt_layer_views *L = &s->layers[l];
        L->attn_norm = mat(s, CKPT_TYPE_F32, 64, 1, 0.1f, 1.0f);
        L->wq = mat(s, t, 64, 64, sd * 2, 0.0f);
        L->wk = mat(s, t, 64, 32, sd * 2, 0.0f);
        L->wv = mat(s, t, 64, 32, sd, 0.0f);
        L->wo = mat(s, t, 64, 64, sd, 0.0f);
        L->ffn_norm = mat(s, CKPT_TYPE_F32, 64, 1, 0.1f, 1.0f);
        if (features & CKPT_FEAT_EXPERTS) {
            L->router = mat(s, CKPT_TYPE_F32, 64, 4, 0.5f, 0.0f);
            L->experts = s->experts[l];
            for (int e = 0; e < 4; e++) {
                L->experts[e].gate = mat(s, t, 64, ffn, sd, 0.0f);
                L->experts[e].up = mat(s, t, 64, ffn, sd, 0.0f);
                L->experts[e].down = mat(s, t, ffn, 64, sf, 0.0f);
            }
        } else {
            L->ffn.gate = mat(s, t, 64, ffn, sd, 0.0f);
            L->ffn.up = mat(s, t, 64, ffn, sd, 0.0f);
            L->ffn.down = mat(s, t, ffn, 64, sf, 0.0f);
        }
    }
}

/* The same with FFN 96. */
static void synth_build(struct synth *s, unsigned features, ckpt_type t, int n_layers, int64_t window,
                        uint32_t seed)
{
    synth_build_ffn(s, features, t, n_layers, window, seed, 96);
}

static ckpt_model *new_model(struct synth *s, int threads, int64_t max_batch, int isa)
{
    struct ckpt_model_opts o = {.n_ctx = 64, .max_batch = max_batch, .n_threads = threads,
                                .isa = isa};
    ckpt_model *m;
    ckpt_err err = {0};
    ck_assert_msg(ckpt_model_new(&m, &s->cfg, &s->w, &o, &err) == CKPT_OK, "%s", err.msg);
    return m;
}

#define T 24
static const int32_t ids[T] = {1, 7, 3, 9, 4, 22, 49, 0, 13, 13, 13, 2,
                               5, 8, 31, 17, 40, 6, 11, 12, 45, 3, 30, 21};

/* All logits of ids, in one call. */
static float *run_all(ckpt_model *m, const int32_t *tok, int64_t n)
{
    float *lg = malloc(sizeof(float) * (size_t)(n * 50));
    ck_assert_int_eq(ckpt_model_eval(m, tok, n, lg, true, NULL), CKPT_OK);
    return lg;
}

static void assert_same(const float *a, const float *b, int64_t n)
{
    ck_assert_msg(memcmp(a, b, sizeof(float) * (size_t)n) == 0, "logits differ");
}

/* Loop index: 0 Mistral, 1 Mixtral. */
START_TEST(batch_cache_and_threads_do_not_matter)
{
    unsigned features = _i ? CKPT_FEAT_EXPERTS : 0;
    struct synth s;
    synth_build(&s, features, CKPT_TYPE_BF16, 3, 0, 42);
    ckpt_model *m = new_model(&s, 1, 64, -1);
    float *all = run_all(m, ids, T);
    ck_assert_int_eq(ckpt_model_n_past(m), T);

    /* one token at a time through the cache, last logits only */
    ckpt_model_truncate(m, 0);
    float one[50];
    for (int t = 0; t < T; t++) {
        ck_assert_int_eq(ckpt_model_eval(m, ids + t, 1, one, false, NULL), CKPT_OK);
        assert_same(one, all + t * 50, 50);
    }
    /* a prefix, then the rest from a truncated cache */
    ckpt_model_truncate(m, 10);
    float *rest = run_all(m, ids + 10, T - 10);
    assert_same(rest, all + 10 * 50, (T - 10) * 50);
    free(rest);
    ckpt_model_free(m);

    /* three threads, steps of 5 positions */
    m = new_model(&s, 3, 5, -1);
    float *j3 = run_all(m, ids, T);
    assert_same(j3, all, T * 50);
    free(j3);
    /* positions whose logits nobody asks for stop at the last layer's
     * keys and values: a prefix without logits, then steps of 5 asking
     * for the last position's only */
    ckpt_model_truncate(m, 0);
    ck_assert_int_eq(ckpt_model_eval(m, ids, 7, NULL, false, NULL), CKPT_OK);
    ck_assert_int_eq(ckpt_model_eval(m, ids + 7, 6, one, false, NULL), CKPT_OK);
    assert_same(one, all + 12 * 50, 50);
    ck_assert_int_eq(ckpt_model_eval(m, ids + 13, T - 13, one, false, NULL), CKPT_OK);
    assert_same(one, all + (T - 1) * 50, 50);
    ckpt_model_free(m);
    free(all);
    synth_free(&s);
}
END_TEST

/* What an observer records: every product's inputs, copied. */
struct seen {
    struct ckpt_mm_input in[256];
    float *x[256];
    int32_t *pos[256];
    int n;
};

static void record(void *ctx, const struct ckpt_mm_input *in)
{
    struct seen *s = ctx;
    ck_assert_int_lt(s->n, 256);
    size_t nx = (size_t)(in->n * in->ncols);
    s->in[s->n] = *in;
    s->x[s->n] = malloc(nx * sizeof(float));
    memcpy(s->x[s->n], in->x, nx * sizeof(float));
    s->pos[s->n] = NULL;
    if (in->pos) {
        s->pos[s->n] = malloc((size_t)in->n * sizeof(int32_t));
        memcpy(s->pos[s->n], in->pos, (size_t)in->n * sizeof(int32_t));
    }
    s->n++;
}

/* Loop index: 0 Mistral, 1 Mixtral.  The observer sees each product's
 * inputs in order, and the logits do not change. */
START_TEST(observer_sees_every_product)
{
    unsigned features = _i ? CKPT_FEAT_EXPERTS : 0;
    struct synth sy;
    synth_build(&sy, features, CKPT_TYPE_BF16, 2, 0, 7);
    ckpt_model *m = new_model(&sy, 2, 64, -1);
    float *plain = run_all(m, ids, T);
    static struct seen s;
    memset(&s, 0, sizeof s);
    ckpt_model_truncate(m, 0);
    ckpt_model_set_observer(m, record, &s);
    float *seen = run_all(m, ids, T);
    assert_same(plain, seen, T * 50);

    int k = 0;
    for (int64_t l = 0; l < 2; l++) {
        const enum ckpt_mm_weight attn[] = {CKPT_MM_ATTN_Q, CKPT_MM_ATTN_K, CKPT_MM_ATTN_V,
                                            CKPT_MM_ATTN_OUTPUT};
        for (int a = 0; a < 4; a++, k++) {
            ck_assert_int_eq(s.in[k].weight, attn[a]);
            ck_assert_int_eq(s.in[k].layer, l);
            ck_assert_int_eq(s.in[k].expert, -1);
            ck_assert_int_eq(s.in[k].n, T);
            ck_assert_int_eq(s.in[k].ncols, 64);
            ck_assert_int_eq(s.in[k].n_step, T);
            ck_assert_ptr_null(s.pos[k]);
        }
        /* q, k and v share their input: the normalized residual */
        ck_assert_mem_eq(s.x[k - 4], s.x[k - 3], sizeof(float) * T * 64);
        ck_assert_mem_eq(s.x[k - 4], s.x[k - 2], sizeof(float) * T * 64);
        if (l == 0) { /* rmsnorm of the embeddings, by hand */
            float e[64], w[64], want[64];
            for (int t = 0; t < T; t++) {
                ckpt_dequantize_row(CKPT_TYPE_BF16, (const uint8_t *)sy.w.tok_embd.data +
                                    (size_t)ids[t] * sy.w.tok_embd.row_bytes, e, 64);
                ckpt_dequantize_row(CKPT_TYPE_F32, sy.layers[0].attn_norm.data, w, 64);
                ckpt_ops_rmsnorm(want, e, w, 64, 1e-5f);
                ck_assert_mem_eq(want, s.x[0] + t * 64, sizeof want);
            }
        }
        if (!(features & CKPT_FEAT_EXPERTS)) {
            const enum ckpt_mm_weight ffn[] = {CKPT_MM_FFN_GATE, CKPT_MM_FFN_UP,
                                               CKPT_MM_FFN_DOWN};
            for (int f = 0; f < 3; f++, k++) {
                ck_assert_int_eq(s.in[k].weight, ffn[f]);
                ck_assert_int_eq(s.in[k].layer, l);
                ck_assert_int_eq(s.in[k].n, T);
                ck_assert_int_eq(s.in[k].ncols, f == 2 ? 96 : 64);
            }
            continue;
        }
        /* Mixtral: the router over every position, then each expert over the
         * positions routed to it, two per position in all */
        int router = k++;
        ck_assert_int_eq(s.in[router].weight, CKPT_MM_FFN_GATE_INP);
        ck_assert_int_eq(s.in[router].n, T);
        int routed[T] = {0}, last_e = -1;
        while (k < s.n && s.in[k].layer == l && s.in[k].expert >= 0) {
            ck_assert_int_gt(s.in[k].expert, last_e);
            last_e = (int)s.in[k].expert;
            for (int f = 0; f < 3; f++) {
                const struct ckpt_mm_input *in = &s.in[k + f];
                ck_assert_int_eq(in->weight, CKPT_MM_FFN_GATE + f);
                ck_assert_int_eq(in->expert, last_e);
                ck_assert_int_eq(in->n, s.in[k].n);
                ck_assert_ptr_nonnull(s.pos[k + f]);
            }
            for (int64_t r = 0; r < s.in[k].n; r++) {
                int32_t p = s.pos[k][r];
                ck_assert(p >= 0 && p < T);
                routed[p]++;
                ck_assert_mem_eq(s.x[k] + r * 64, s.x[router] + p * 64, sizeof(float) * 64);
            }
            k += 3;
        }
        for (int t = 0; t < T; t++)
            ck_assert_int_eq(routed[t], 2);
    }
    ck_assert_int_eq(s.in[k].weight, CKPT_MM_OUTPUT);
    ck_assert_int_eq(s.in[k].layer, -1);
    ck_assert_int_eq(s.in[k].n, T);
    ck_assert_int_eq(k + 1, s.n);

    /* cleared: nothing more is seen */
    ckpt_model_set_observer(m, NULL, NULL);
    ckpt_model_truncate(m, 0);
    free(run_all(m, ids, 3));
    ck_assert_int_eq(k + 1, s.n);
    for (int i = 0; i < s.n; i++) {
        free(s.x[i]);
        free(s.pos[i]);
    }
    free(plain);
    free(seen);
    ckpt_model_free(m);
    synth_free(&sy);
}
END_TEST

/* Rows of a matrix moved into GGUF Q/K order (a copy of the view's data). */
static struct ckpt_wview permuted(struct synth *s, const struct ckpt_wview *v, int heads)
{
    uint8_t *p = malloc(v->row_bytes * (size_t)v->ne[1]);
    for (int64_t r = 0; r < v->ne[1]; r++)
        memcpy(p + (size_t)r * v->row_bytes,
               (const uint8_t *)v->data + (size_t)ckpt_qk_hf_row(r, v->ne[1], heads) * v->row_bytes,
               v->row_bytes);
    s->bufs[s->n_bufs++] = p;
    struct ckpt_wview out = *v;
    out.data = p;
    out.qk_heads = heads;
    return out;
}

START_TEST(gguf_layout_gives_the_same_logits)
{
    struct synth s;
    synth_build(&s, CKPT_FEAT_EXPERTS, CKPT_TYPE_F16, 2, 0, 7);
    ckpt_model *m = new_model(&s, 2, 64, -1);
    float *want = run_all(m, ids, T);
    ckpt_model_free(m);

    /* Q/K rows in GGUF order, experts stacked in one [in, out, E] block each */
    struct synth g = s;
    g.w.layers = g.layers;
    for (int l = 0; l < 2; l++) {
        g.layers[l].wq = permuted(&s, &s.layers[l].wq, 4);
        g.layers[l].wk = permuted(&s, &s.layers[l].wk, 2);
        g.layers[l].experts = g.experts[l];
        for (int k = 0; k < 3; k++) {
            const struct ckpt_wview *e0 = k == 0   ? &s.experts[l][0].gate
                                          : k == 1 ? &s.experts[l][0].up
                                                   : &s.experts[l][0].down;
            size_t mb = e0->mat_bytes;
            uint8_t *stack = malloc(mb * 4);
            s.bufs[s.n_bufs++] = stack;
            for (int e = 0; e < 4; e++) {
                const struct ckpt_ffn_views *f = &s.experts[l][e];
                const struct ckpt_wview *src = k == 0 ? &f->gate : k == 1 ? &f->up : &f->down;
                memcpy(stack + mb * (size_t)e, src->data, mb);
            }
            struct ckpt_wview st;
            ck_assert(ckpt_wview_init(&st, e0->type, e0->ne[0], e0->ne[1], 4, stack));
            for (int e = 0; e < 4; e++) {
                struct ckpt_ffn_views *f = &g.experts[l][e];
                *(k == 0 ? &f->gate : k == 1 ? &f->up : &f->down) = ckpt_wview_slice(&st, e);
            }
        }
    }
    m = new_model(&g, 2, 7, -1);
    float *got = run_all(m, ids, T);
    assert_same(got, want, T * 50);
    free(got);
    free(want);
    ckpt_model_free(m);
    synth_free(&s);
}
END_TEST

/* With 2 layers and window W, position p depends on tokens p-2(W-1)..p only. */
START_TEST(sliding_window_bounds_the_receptive_field)
{
    struct synth s;
    synth_build(&s, 0, CKPT_TYPE_F32, 2, 4, 3);
    int32_t other[T];
    memcpy(other, ids, sizeof other);
    other[0] = 33;
    ckpt_model *m = new_model(&s, 2, 64, -1);
    float *a = run_all(m, ids, T);
    ckpt_model_truncate(m, 0);
    float *b = run_all(m, other, T);
    ck_assert(memcmp(a + 6 * 50, b + 6 * 50, 50 * sizeof(float)) != 0);
    assert_same(a + 7 * 50, b + 7 * 50, (T - 7) * 50);
    /* a window longer than the sequence masks nothing */
    ckpt_model_free(m);
    s.cfg.sliding_window = T;
    m = new_model(&s, 1, 64, -1);
    float *c = run_all(m, ids, T);
    ckpt_model_free(m);
    s.cfg.sliding_window = 0;
    m = new_model(&s, 1, 64, -1);
    float *d = run_all(m, ids, T);
    assert_same(c, d, T * 50);
    ck_assert(memcmp(a + 7 * 50, d + 7 * 50, 50 * sizeof(float)) != 0);
    ckpt_model_free(m);
    free(a);
    free(b);
    free(c);
    free(d);
    synth_free(&s);
}
END_TEST

START_TEST(isas_agree_closely)
{
    struct synth s;
    synth_build(&s, CKPT_FEAT_EXPERTS, CKPT_TYPE_BF16, 3, 0, 11);
    float *lg[CKPT_ISA_COUNT] = {0};
    for (int isa = 0; isa < CKPT_ISA_COUNT; isa++) {
        if (!ckpt_isa_available((ckpt_isa)isa))
            continue;
        ckpt_model *m = new_model(&s, 2, 64, isa);
        ck_assert_int_eq(ckpt_model_isa(m), isa);
        lg[isa] = run_all(m, ids, T);
        ckpt_model_free(m);
    }
    for (int isa = 0; isa < CKPT_ISA_COUNT; isa++) {
        if (!lg[isa] || isa == CKPT_ISA_F64)
            continue;
        double worst = 0;
        for (int i = 0; i < T * 50; i++)
            worst = fmax(worst, fabs((double)lg[isa][i] - lg[CKPT_ISA_F64][i]) /
                                    fmax(1.0, fabs(lg[CKPT_ISA_F64][i])));
        ck_assert_msg(worst < 1e-4, "%s vs f64: %g", ckpt_isa_name((ckpt_isa)isa), worst);
        free(lg[isa]);
    }
    free(lg[CKPT_ISA_F64]);
    synth_free(&s);
}
END_TEST

/* a (avx2) and b (scalar) give the same logits for ids, bit for bit;
 * both models are freed. */
static void assert_same_logits(ckpt_model *a, ckpt_model *b, ckpt_type t)
{
    float *la = run_all(a, ids, T), *lb = run_all(b, ids, T);
    ck_assert_msg(memcmp(la, lb, sizeof(float) * T * 50) == 0, "%s: scalar and avx2 differ",
                  ckpt_type_name(t));
    ckpt_model_free(a);
    ckpt_model_free(b);
    free(la);
    free(lb);
}

/* The scalar ISA is the avx2 semantic in portable C (dispatch.h): the
 * same logits, bit for bit, for every weight type the synthetic model
 * takes (blocks of 32; the k-quants: check_fingerprint.c on the kit's
 * Q4_K_M files), dense and with experts. */
START_TEST(scalar_is_avx2_bit_for_bit)
{
    static const ckpt_type wt[] = {CKPT_TYPE_F32,  CKPT_TYPE_F16,  CKPT_TYPE_BF16,
                                   CKPT_TYPE_Q8_0, CKPT_TYPE_Q4_0, CKPT_TYPE_Q4_1,
                                   CKPT_TYPE_Q5_0, CKPT_TYPE_Q5_1, CKPT_TYPE_IQ4_NL};
    if (!ckpt_isa_available(CKPT_ISA_AVX2))
        return; /* nothing to compare with on this CPU */
    const ckpt_type t = wt[_i % 9];
    struct synth s;
    synth_build(&s, _i < 9 ? 0 : CKPT_FEAT_EXPERTS, t, 2, 0, 17 + (uint32_t)_i);
    ckpt_model *a = new_model(&s, 2, 64, CKPT_ISA_AVX2), *b = new_model(&s, 1, 3, CKPT_ISA_SCALAR);
    assert_same_logits(a, b, t);
    synth_free(&s);
}
END_TEST

/* An FFN of 2724 (longer than the slices model.c cuts a row into for 24
 * positions, more rows than one block of running sums, four rows over the
 * K-slice tile's eight and four elements over its 8-lane steps): the sliced
 * products of F32/F16/BF16 rows give the scalar ISA's bits too, at 1 and
 * 2 threads. */
START_TEST(sliced_products_keep_the_bits)
{
    static const ckpt_type wt[] = {CKPT_TYPE_F32, CKPT_TYPE_F16, CKPT_TYPE_BF16};
    /* avx2's tiles, then avx512's (its own F32/F16/BF16 register tiles) */
    const ckpt_isa isa = _i < 3 ? CKPT_ISA_AVX2 : CKPT_ISA_AVX512;
    if (!ckpt_isa_available(isa))
        return;
    struct synth s;
    synth_build_ffn(&s, 0, wt[_i % 3], 1, 0, 5 + (uint32_t)_i, 2724);
    ckpt_model *a = new_model(&s, 1 + _i % 2, 64, isa);
    ckpt_model *b = new_model(&s, 1, 3, CKPT_ISA_SCALAR);
    assert_same_logits(a, b, wt[_i % 3]);
    synth_free(&s);
}
END_TEST

/* Quantized weights go through the same code: Q8_0 stays near F32. */
START_TEST(quantized_weights_run)
{
    struct synth f, q;
    synth_build(&f, 0, CKPT_TYPE_F32, 2, 0, 5);
    synth_build(&q, 0, CKPT_TYPE_Q8_0, 2, 0, 5);
    ckpt_model *mf = new_model(&f, 1, 64, -1), *mq = new_model(&q, 2, 3, -1);
    float *a = run_all(mf, ids, T), *b = run_all(mq, ids, T);
    double worst = 0;
    for (int i = 0; i < T * 50; i++)
        worst = fmax(worst, fabs((double)a[i] - b[i]));
    ck_assert_msg(worst > 0 && worst < 0.05, "q8_0 vs f32 logits: %g", worst);
    ckpt_model_free(mf);
    ckpt_model_free(mq);
    free(a);
    free(b);
    synth_free(&f);
    synth_free(&q);
}
END_TEST

/* Products of one layer that quantize their input and products beside
 * them that do not (Q8_0 k, v and up beside F32 q and gate): each quantized
 * product sees this layer's input, never the copy an earlier layer left
 * at the same scratch address.  Stays near all-F32 over three layers. */
START_TEST(mixed_types_quantize_their_own_inputs)
{
    struct synth f, q;
    synth_build(&f, 0, CKPT_TYPE_F32, 3, 0, 9);
    synth_build(&q, 0, CKPT_TYPE_Q8_0, 3, 0, 9);
    ckpt_model *mf = new_model(&f, 1, 64, -1);
    float *a = run_all(mf, ids, T);
    ckpt_model_free(mf);
    for (int l = 0; l < 3; l++) {
        f.layers[l].wk = q.layers[l].wk;
        f.layers[l].wv = q.layers[l].wv;
        f.layers[l].ffn.up = q.layers[l].ffn.up;
    }
    ckpt_model *mm = new_model(&f, 2, 64, -1);
    float *b = run_all(mm, ids, T);
    double worst = 0;
    for (int i = 0; i < T * 50; i++)
        worst = fmax(worst, fabs((double)a[i] - b[i]));
    ck_assert_msg(worst > 0 && worst < 0.05, "mixed vs f32 logits: %g", worst);
    ckpt_model_free(mm);
    free(a);
    free(b);
    synth_free(&f);
    synth_free(&q);
}
END_TEST

START_TEST(refuses_bad_input)
{
    struct synth s;
    synth_build(&s, 0, CKPT_TYPE_F32, 2, 0, 9);
    struct ckpt_model_opts o = {.n_ctx = 8, .n_threads = 1, .isa = -1};
    ckpt_model *m;
    ckpt_err err = {0};

    s.layers[1].wk.ne[1] = 48;
    ck_assert_int_eq(ckpt_model_new(&m, &s.cfg, &s.w, &o, &err), CKPT_E_FORMAT);
    ck_assert_ptr_null(m);
    ck_assert_msg(strstr(err.msg, "layer 1: attn_k: shape (64, 48, 1)"), "%s", err.msg);
    s.layers[1].wk.ne[1] = 32;

    ckpt_err_clear(&err);
    s.layers[0].wv.type = CKPT_TYPE_Q8_1;
    ck_assert_int_eq(ckpt_model_new(&m, &s.cfg, &s.w, &o, &err), CKPT_E_UNSUPPORTED);
    ck_assert_msg(strstr(err.msg, "q8_1"), "%s", err.msg);
    s.layers[0].wv.type = CKPT_TYPE_F32;

    ckpt_err_clear(&err);
    s.cfg.n_kv_heads = 3;
    ck_assert_int_eq(ckpt_model_new(&m, &s.cfg, &s.w, &o, &err), CKPT_E_FORMAT);
    s.cfg.n_kv_heads = 2;

    ckpt_err_clear(&err);
    ck_assert_int_eq(ckpt_model_new(&m, &s.cfg, &s.w, &o, &err), CKPT_OK);
    int32_t bad[2] = {3, 50};
    ck_assert_int_eq(ckpt_model_eval(m, bad, 2, NULL, false, &err), CKPT_E_RANGE);
    ck_assert_int_eq(ckpt_model_n_past(m), 0);
    ck_assert_int_eq(ckpt_model_eval(m, ids, 8, NULL, false, NULL), CKPT_OK);
    ckpt_err_clear(&err);
    ck_assert_int_eq(ckpt_model_eval(m, ids, 1, NULL, false, &err), CKPT_E_RANGE);
    ck_assert_msg(strstr(err.msg, "context full"), "%s", err.msg);
    ck_assert_int_eq(ckpt_model_n_past(m), 8);
    ckpt_model_free(m);
    ckpt_model_free(NULL);
    synth_free(&s);
}
END_TEST

Suite *forward_suite(void)
{
    Suite *s = suite_create("forward");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 30);
    tcase_add_loop_test(tc, batch_cache_and_threads_do_not_matter, 0, 2);
    tcase_add_loop_test(tc, observer_sees_every_product, 0, 2);
    tcase_add_test(tc, gguf_layout_gives_the_same_logits);
    tcase_add_test(tc, sliding_window_bounds_the_receptive_field);
    tcase_add_test(tc, isas_agree_closely);
    tcase_add_loop_test(tc, scalar_is_avx2_bit_for_bit, 0, 18);
    tcase_add_loop_test(tc, sliced_products_keep_the_bits, 0, 6);
    tcase_add_test(tc, quantized_weights_run);
    tcase_add_test(tc, mixed_types_quantize_their_own_inputs);
    suite_add_tcase(s, tc);
    tc = tcase_create("limits");
    tcase_add_test(tc, refuses_bad_input);
    suite_add_tcase(s, tc);
    return s;
}
