/*
 * check_quantplan.c - the per-tensor type plan of the mixes against
 * llama-quantize: every tensor of every quant-<MIX>.tensors.tsv listing
 * of the golden kits (planned from the names and shapes of the
 * converter's listing and the model's hyperparameters), and the rules as
 * LLAMACPP.md section e observed them on 32-layer dense and 8-expert
 * models; tensor order, mix names, explicit types, errors.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "quant/plan.h"
#include "quant_listing.h"
#include "testutil.h"

static const char *kits[] = {"tiny-mistral", "tiny-mistral-tokjson", "tiny-mixtral"};

static struct ckpt_qplan_model kit_model(const char *kit)
{
    const char *kv = "convert-f32.kv.tsv";
    struct ckpt_qplan_model m;
    m.n_layer = (int)ql_kv_int(kit, kv, "llama.block_count", -1);
    m.n_head = (int)ql_kv_int(kit, kv, "llama.attention.head_count", -1);
    m.n_head_kv = (int)ql_kv_int(kit, kv, "llama.attention.head_count_kv", m.n_head);
    m.n_expert = (int)ql_kv_int(kit, kv, "llama.expert_count", 0);
    ck_assert_int_gt(m.n_layer, 0);
    return m;
}

/* Plan `mix` for the tensors of golden/<kit>/<input> and compare every type
 * with golden/<kit>/<want>. */
static void check_listing(const char *kit, const char *input, const char *want, ckpt_mix mix,
                          bool imatrix)
{
    struct ql_listing in = ql_load(kit, input), out = ql_load(kit, want);
    ck_assert_uint_eq(in.n, out.n);
    struct ckpt_qplan_tensor *t = calloc(in.n, sizeof *t);
    struct ckpt_qplan_choice *c = calloc(in.n, sizeof *c);
    size_t *order = calloc(in.n, sizeof *order);
    for (size_t i = 0; i < in.n; i++) {
        t[i].name = in.t[i].name;
        memcpy(t[i].ne, in.t[i].ne, sizeof t[i].ne);
        t[i].type = (ckpt_type)in.t[i].type;
    }
    struct ckpt_qplan_model m = kit_model(kit);
    struct ckpt_qplan_opts o = {.mix = mix, .has_imatrix = imatrix, .output_type = -1,
                               .token_embd_type = -1};
    ckpt_err err = {0};
    ck_assert_msg(ckpt_qplan_make(&m, &o, t, in.n, order, c, &err) == CKPT_OK, "%s", err.msg);
    for (size_t i = 0; i < in.n; i++) {
        const struct ql_tensor *w = ql_find(&out, t[i].name);
        ck_assert_msg(w != NULL, "%s/%s: no %s", kit, want, t[i].name);
        ck_assert_msg((int)c[i].type == w->type, "%s %s: %s planned %s, llama-quantize wrote %s",
                      kit, want, t[i].name, ckpt_type_name(c[i].type),
                      ckpt_type_name((uint32_t)w->type));
        ck_assert(c[i].convert == (c[i].type != t[i].type));
    }
    free(order);
    free(c);
    free(t);
    ql_free(&in);
    ql_free(&out);
}

START_TEST(golden_mixes)
{
    static const char *names[] = {"Q8_0", "Q4_0",   "Q4_1",   "Q5_0",   "Q5_1",
                                  "Q2_K", "Q3_K_S", "Q3_K_M", "Q3_K_L", "Q4_K_S",
                                  "Q4_K_M", "Q5_K_S", "Q5_K_M", "Q6_K"};
    const char *kit = kits[_i];
    for (size_t k = 0; k < sizeof names / sizeof names[0]; k++) {
        int mix = ckpt_mix_from_name(names[k]);
        ck_assert_int_ge(mix, 0);
        char *want = tu_fmt("quant-%s.tensors.tsv", names[k]);
        check_listing(kit, "convert-f32.tensors.tsv", want, (ckpt_mix)mix, false);
        free(want);
        if (k == 5 || k == 7 || k == 10) { /* the mixes run with the imatrix too */
            want = tu_fmt("quant-%s-imatrix.tensors.tsv", names[k]);
            check_listing(kit, "convert-f32.tensors.tsv", want, (ckpt_mix)mix, true);
            free(want);
        }
    }
    check_listing(kit, "convert-f16.tensors.tsv", "quant-Q4_K_M-from-f16.tensors.tsv",
                  CKPT_MIX_Q4_K_M, false);
}
END_TEST

/* ---- synthetic models of real sizes ---- */

struct synth {
    struct ckpt_qplan_tensor t[400];
    char names[400][64];
    struct ckpt_qplan_choice c[400];
    size_t order[400];
    size_t n;
};

static void add(struct synth *s, const char *name, int64_t ne0, int64_t ne1, int64_t ne2)
{
    ck_assert_uint_lt(s->n, 400);
    snprintf(s->names[s->n], 64, "%s", name);
    bool f32 = ne1 == 1 || strstr(name, "ffn_gate_inp"); /* as the converter stores them */
    s->t[s->n] = (struct ckpt_qplan_tensor){s->names[s->n], {ne0, ne1, ne2, 1},
                                           f32 ? CKPT_TYPE_F32 : CKPT_TYPE_F16};
    s->n++;
}

/* Mistral-7B (32 layers, 32 heads, 8 KV heads) or Mixtral-8x7B (8 experts). */
static void build(struct synth *s, int n_layer, int n_expert, bool with_output)
{
    const int64_t H = 4096, F = 14336, KV = 1024, V = 32000;
    char n[64];
    s->n = 0;
    add(s, "token_embd.weight", H, V, 1);
    add(s, "output_norm.weight", H, 1, 1);
    if (with_output)
        add(s, "output.weight", H, V, 1);
    for (int l = n_layer - 1; l >= 0; l--) { /* any input order */
#define T(stem, a, b, c) (snprintf(n, sizeof n, "blk.%d." stem ".weight", l), add(s, n, a, b, c))
        T("attn_norm", H, 1, 1);
        T("attn_q", H, H, 1);
        T("attn_k", H, KV, 1);
        T("attn_v", H, KV, 1);
        T("attn_output", H, H, 1);
        T("ffn_norm", H, 1, 1);
        if (n_expert) {
            T("ffn_gate_inp", H, n_expert, 1);
            T("ffn_gate_exps", H, F, n_expert);
            T("ffn_down_exps", F, H, n_expert);
            T("ffn_up_exps", H, F, n_expert);
        } else {
            T("ffn_gate", H, F, 1);
            T("ffn_down", F, H, 1);
            T("ffn_up", H, F, 1);
        }
#undef T
    }
}

static ckpt_status plan(struct synth *s, int n_layer, int n_expert, ckpt_mix mix,
                        struct ckpt_qplan_opts *opts, ckpt_err *err)
{
    struct ckpt_qplan_model m = {n_layer, 32, 8, n_expert};
    struct ckpt_qplan_opts o = {.mix = mix, .output_type = -1, .token_embd_type = -1};
    if (!opts)
        opts = &o;
    opts->mix = mix;
    return ckpt_qplan_make(&m, opts, s->t, s->n, s->order, s->c, err);
}

static ckpt_type type_of(const struct synth *s, const char *name)
{
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->t[i].name, name) == 0)
            return s->c[i].type;
    ck_abort_msg("no tensor %s", name);
    return CKPT_TYPE_COUNT;
}

static ckpt_type layer_type(const struct synth *s, int l, const char *stem)
{
    char n[64];
    snprintf(n, sizeof n, "blk.%d.%s.weight", l, stem);
    return type_of(s, n);
}

/* LLAMACPP.md e: use_more_bits(i, 32) holds for 0-3, 6, 9, ..., 24, 27-31. */
static bool more_bits_32(int l)
{
    return l < 4 || l >= 27 || (l - 4) % 3 == 2;
}

START_TEST(dense_32_layers)
{
    static struct synth s;
    build(&s, 32, 0, true);
    ckpt_err err = {0};
    ck_assert_int_eq(plan(&s, 32, 0, CKPT_MIX_Q4_K_M, NULL, &err), CKPT_OK);
    for (int l = 0; l < 32; l++) {
        ckpt_type want = more_bits_32(l) ? CKPT_TYPE_Q6_K : CKPT_TYPE_Q4_K;
        ck_assert_int_eq(layer_type(&s, l, "attn_v"), want);
        ck_assert_int_eq(layer_type(&s, l, "ffn_down"), want);
        ck_assert_int_eq(layer_type(&s, l, "attn_q"), CKPT_TYPE_Q4_K);
        ck_assert_int_eq(layer_type(&s, l, "attn_norm"), CKPT_TYPE_F32);
    }
    ck_assert_int_eq(type_of(&s, "output.weight"), CKPT_TYPE_Q6_K);
    ck_assert_int_eq(type_of(&s, "token_embd.weight"), CKPT_TYPE_Q4_K);

    ck_assert_int_eq(plan(&s, 32, 0, CKPT_MIX_Q4_K_S, NULL, &err), CKPT_OK);
    for (int l = 0; l < 32; l++) {
        ckpt_type want = l < 4 ? CKPT_TYPE_Q5_K : CKPT_TYPE_Q4_K;
        ck_assert_int_eq(layer_type(&s, l, "attn_v"), want);
        ck_assert_int_eq(layer_type(&s, l, "ffn_down"), want);
    }
    ck_assert_int_eq(plan(&s, 32, 0, CKPT_MIX_Q3_K_M, NULL, &err), CKPT_OK);
    for (int l = 0; l < 32; l++) {
        ckpt_type want = l < 2 ? CKPT_TYPE_Q5_K : CKPT_TYPE_Q4_K;
        ck_assert_int_eq(layer_type(&s, l, "attn_v"), want);
        ck_assert_int_eq(layer_type(&s, l, "ffn_down"), want);
        ck_assert_int_eq(layer_type(&s, l, "attn_output"), CKPT_TYPE_Q4_K);
        ck_assert_int_eq(layer_type(&s, l, "ffn_up"), CKPT_TYPE_Q3_K);
    }
    ck_assert_int_eq(plan(&s, 32, 0, CKPT_MIX_Q2_K, NULL, &err), CKPT_OK);
    for (int l = 0; l < 32; l++) {
        ck_assert_int_eq(layer_type(&s, l, "attn_v"), CKPT_TYPE_Q4_K); /* n_gqa 4 */
        ck_assert_int_eq(layer_type(&s, l, "ffn_down"), CKPT_TYPE_Q3_K);
        ck_assert_int_eq(layer_type(&s, l, "attn_output"), CKPT_TYPE_Q3_K);
        ck_assert_int_eq(layer_type(&s, l, "ffn_gate"), CKPT_TYPE_Q2_K);
    }
    ck_assert_int_eq(type_of(&s, "output.weight"), CKPT_TYPE_Q6_K);
    ck_assert_int_eq(plan(&s, 32, 0, CKPT_MIX_Q8_0, NULL, &err), CKPT_OK);
    ck_assert_int_eq(type_of(&s, "output.weight"), CKPT_TYPE_Q8_0);
    ck_assert_int_eq(layer_type(&s, 5, "attn_v"), CKPT_TYPE_Q8_0);
}
END_TEST

START_TEST(mixtral_8_experts)
{
    static struct synth s;
    build(&s, 32, 8, true);
    ckpt_err err = {0};
    static const ckpt_mix ks[] = {CKPT_MIX_Q2_K,   CKPT_MIX_Q3_K_S, CKPT_MIX_Q3_K_M,
                                  CKPT_MIX_Q3_K_L, CKPT_MIX_Q4_K_S, CKPT_MIX_Q4_K_M,
                                  CKPT_MIX_Q5_K_S, CKPT_MIX_Q5_K_M, CKPT_MIX_Q6_K};
    for (size_t k = 0; k < sizeof ks / sizeof ks[0]; k++) {
        ck_assert_int_eq(plan(&s, 32, 8, ks[k], NULL, &err), CKPT_OK);
        for (int l = 0; l < 32; l++) {
            ck_assert_int_eq(layer_type(&s, l, "attn_v"), CKPT_TYPE_Q8_0);
            ck_assert_int_eq(layer_type(&s, l, "attn_k"), CKPT_TYPE_Q8_0);
            ck_assert_int_eq(layer_type(&s, l, "ffn_gate_inp"), CKPT_TYPE_F32);
        }
        ck_assert_int_eq(type_of(&s, "output.weight"), CKPT_TYPE_Q6_K);
    }
    ck_assert_int_eq(plan(&s, 32, 8, CKPT_MIX_Q4_K_M, NULL, &err), CKPT_OK);
    for (int l = 0; l < 32; l++) {
        ck_assert_int_eq(layer_type(&s, l, "attn_output"), CKPT_TYPE_Q5_K);
        ck_assert_int_eq(layer_type(&s, l, "ffn_down_exps"),
                         more_bits_32(l) ? CKPT_TYPE_Q6_K : CKPT_TYPE_Q4_K);
        ck_assert_int_eq(layer_type(&s, l, "ffn_up_exps"), CKPT_TYPE_Q4_K);
    }
    ck_assert_int_eq(plan(&s, 32, 8, CKPT_MIX_Q2_K, NULL, &err), CKPT_OK);
    ck_assert_int_eq(layer_type(&s, 7, "attn_output"), CKPT_TYPE_Q5_K);
    ck_assert_int_eq(plan(&s, 32, 8, CKPT_MIX_Q5_K_M, NULL, &err), CKPT_OK);
    ck_assert_int_eq(layer_type(&s, 7, "attn_output"), CKPT_TYPE_Q5_K);
    ck_assert_int_eq(plan(&s, 32, 8, CKPT_MIX_Q6_K, NULL, &err), CKPT_OK);
    ck_assert_int_eq(layer_type(&s, 7, "attn_output"), CKPT_TYPE_Q6_K);
    ck_assert_int_eq(plan(&s, 32, 8, CKPT_MIX_Q8_0, NULL, &err), CKPT_OK);
    ck_assert_int_eq(type_of(&s, "output.weight"), CKPT_TYPE_Q8_0);
}
END_TEST

START_TEST(expert_layer_errors)
{
    static struct synth s;
    build(&s, 2, 8, true);
    snprintf(s.names[s.n - 1], 64, "blk.7.ffn_up_exps.weight");
    ckpt_err err = {0};
    ck_assert_int_eq(plan(&s, 2, 8, CKPT_MIX_Q4_K_M, NULL, &err), CKPT_E_FORMAT);
    ck_assert_ptr_nonnull(strstr(err.msg, "blk.7.ffn_up_exps.weight"));
    snprintf(s.names[s.n - 1], 64, "ffn_up_exps.weight");
    ckpt_err_clear(&err);
    ck_assert_int_eq(plan(&s, 2, 8, CKPT_MIX_Q4_K_M, NULL, &err), CKPT_E_FORMAT);
    ck_assert_ptr_nonnull(strstr(err.msg, "layer"));
}
END_TEST

START_TEST(order_by_layer_then_name)
{
    static struct synth s;
    build(&s, 12, 0, true);
    ckpt_err err = {0};
    ck_assert_int_eq(plan(&s, 12, 0, CKPT_MIX_Q4_K_M, NULL, &err), CKPT_OK);
    ck_assert_str_eq(s.t[s.order[0]].name, "output.weight");
    ck_assert_str_eq(s.t[s.order[1]].name, "output_norm.weight");
    ck_assert_str_eq(s.t[s.order[2]].name, "token_embd.weight");
    ck_assert_str_eq(s.t[s.order[3]].name, "blk.0.attn_k.weight");
    ck_assert_str_eq(s.t[s.order[3 + 9]].name, "blk.1.attn_k.weight");
    ck_assert_str_eq(s.t[s.order[3 + 9 * 2]].name, "blk.2.attn_k.weight"); /* not blk.10 */
    ck_assert_str_eq(s.t[s.order[s.n - 1]].name, "blk.11.ffn_up.weight");
    ck_assert_int_lt(ckpt_qplan_compare_names("blk.9.x", "blk.10.x"), 0);
    ck_assert_int_lt(ckpt_qplan_compare_names("zzz", "blk.0.a"), 0);
    ck_assert_int_eq(ckpt_qplan_compare_names("blk.3.a", "blk.3.a"), 0);
}
END_TEST

START_TEST(mix_table)
{
    static const struct {
        const char *name;
        uint32_t ftype;
        ckpt_type type;
    } want[] = {
        {"F32", 0, CKPT_TYPE_F32},      {"F16", 1, CKPT_TYPE_F16},     {"BF16", 32, CKPT_TYPE_BF16},
        {"Q4_0", 2, CKPT_TYPE_Q4_0},    {"Q4_1", 3, CKPT_TYPE_Q4_1},   {"Q5_0", 8, CKPT_TYPE_Q5_0},
        {"Q5_1", 9, CKPT_TYPE_Q5_1},    {"Q8_0", 7, CKPT_TYPE_Q8_0},   {"Q2_K", 10, CKPT_TYPE_Q2_K},
        {"Q3_K_S", 11, CKPT_TYPE_Q3_K}, {"Q3_K_M", 12, CKPT_TYPE_Q3_K},
        {"Q3_K_L", 13, CKPT_TYPE_Q3_K}, {"Q4_K_S", 14, CKPT_TYPE_Q4_K},
        {"q4_k_m", 15, CKPT_TYPE_Q4_K}, {"Q5_K_S", 16, CKPT_TYPE_Q5_K},
        {"Q5_K_M", 17, CKPT_TYPE_Q5_K}, {"Q6_K", 18, CKPT_TYPE_Q6_K},
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        int m = ckpt_mix_from_name(want[i].name);
        ck_assert_msg(m >= 0, "%s", want[i].name);
        ck_assert_uint_eq(ckpt_mix_file_type((ckpt_mix)m), want[i].ftype);
        ck_assert_int_eq(ckpt_mix_default_type((ckpt_mix)m), want[i].type);
        ck_assert_ptr_nonnull(ckpt_mix_describe((ckpt_mix)m));
    }
    ck_assert_int_eq(ckpt_mix_from_name("Q4_K"), -1);
    ck_assert_int_eq(ckpt_mix_from_name("IQ2_XXS"), -1);
    ck_assert_int_eq(ckpt_mix_from_name(""), -1);
}
END_TEST

START_TEST(float_mixes_keep_norms)
{
    static struct synth s;
    build(&s, 2, 8, true);
    ckpt_err err = {0};
    ck_assert_int_eq(plan(&s, 2, 8, CKPT_MIX_BF16, NULL, &err), CKPT_OK);
    ck_assert_int_eq(type_of(&s, "output.weight"), CKPT_TYPE_BF16);
    ck_assert_int_eq(layer_type(&s, 1, "attn_v"), CKPT_TYPE_BF16);
    ck_assert_int_eq(layer_type(&s, 1, "ffn_gate_inp"), CKPT_TYPE_F32);
    ck_assert_int_eq(layer_type(&s, 1, "ffn_norm"), CKPT_TYPE_F32);
    ck_assert_int_eq(plan(&s, 2, 8, CKPT_MIX_F16, NULL, &err), CKPT_OK);
    for (size_t i = 0; i < s.n; i++)
        ck_assert(!s.c[i].convert); /* the input is already F16 + F32 */
    ck_assert_int_eq(plan(&s, 2, 8, CKPT_MIX_F32, NULL, &err), CKPT_OK);
    ck_assert_int_eq(layer_type(&s, 0, "ffn_up_exps"), CKPT_TYPE_F32);
    ck_assert(s.c[0].convert && s.c[0].matrix);
}
END_TEST

START_TEST(pure_explicit_tied)
{
    static struct synth s;
    build(&s, 4, 0, true);
    ckpt_err err = {0};
    struct ckpt_qplan_opts o = {.pure = true, .output_type = -1, .token_embd_type = -1};
    ck_assert_int_eq(plan(&s, 4, 0, CKPT_MIX_Q4_K_M, &o, &err), CKPT_OK);
    for (size_t i = 0; i < s.n; i++)
        ck_assert_int_eq(s.c[i].type, s.c[i].matrix ? CKPT_TYPE_Q4_K : CKPT_TYPE_F32);

    o = (struct ckpt_qplan_opts){.output_type = CKPT_TYPE_Q8_0, .token_embd_type = CKPT_TYPE_Q6_K};
    ck_assert_int_eq(plan(&s, 4, 0, CKPT_MIX_Q4_K_M, &o, &err), CKPT_OK);
    ck_assert_int_eq(type_of(&s, "output.weight"), CKPT_TYPE_Q8_0);
    ck_assert_int_eq(type_of(&s, "token_embd.weight"), CKPT_TYPE_Q6_K);
    o.pure = true;
    ck_assert_int_eq(plan(&s, 4, 0, CKPT_MIX_F16, &o, &err), CKPT_OK);
    ck_assert_int_eq(type_of(&s, "output.weight"), CKPT_TYPE_Q8_0);
    ck_assert_int_eq(layer_type(&s, 2, "attn_q"), CKPT_TYPE_F16);

    o = (struct ckpt_qplan_opts){.output_type = CKPT_TYPE_Q8_K, .token_embd_type = -1};
    ck_assert_int_eq(plan(&s, 4, 0, CKPT_MIX_Q4_K_M, &o, &err), CKPT_E_USAGE);

    /* tied embeddings: token_embd takes output's rule */
    build(&s, 4, 0, false);
    o = (struct ckpt_qplan_opts){.output_type = -1, .token_embd_type = -1};
    ck_assert_int_eq(plan(&s, 4, 0, CKPT_MIX_Q4_K_M, &o, &err), CKPT_OK);
    ck_assert_int_eq(type_of(&s, "token_embd.weight"), CKPT_TYPE_Q6_K);
}
END_TEST

START_TEST(fallbacks)
{
    /* rows of 128: nothing 256-wide fits; explicit types must divide */
    static struct synth s;
    s.n = 0;
    add(&s, "output.weight", 128, 1500, 1);
    add(&s, "token_embd.weight", 128, 1500, 1);
    add(&s, "blk.0.attn_v.weight", 128, 64, 1);
    add(&s, "blk.0.attn_q.weight", 96, 64, 1);
    ckpt_err err = {0};
    struct ckpt_qplan_opts o = {.pure = true, .output_type = -1, .token_embd_type = -1};
    ck_assert_int_eq(plan(&s, 1, 0, CKPT_MIX_Q5_K_S, &o, &err), CKPT_OK);
    ck_assert_int_eq(type_of(&s, "blk.0.attn_v.weight"), CKPT_TYPE_Q5_1);
    ck_assert_int_eq(s.c[2].wanted, CKPT_TYPE_Q5_K);
    ck_assert_int_eq(type_of(&s, "blk.0.attn_q.weight"), CKPT_TYPE_Q5_1);
    ck_assert_int_eq(plan(&s, 1, 0, CKPT_MIX_Q2_K, &o, &err), CKPT_OK);
    ck_assert_int_eq(type_of(&s, "blk.0.attn_q.weight"), CKPT_TYPE_IQ4_NL);
    s.t[3].ne[0] = 48; /* neither 256 nor 32 divides: F16 */
    ck_assert_int_eq(plan(&s, 1, 0, CKPT_MIX_Q6_K, &o, &err), CKPT_OK);
    ck_assert_int_eq(type_of(&s, "blk.0.attn_q.weight"), CKPT_TYPE_F16);
    ck_assert_int_eq(plan(&s, 1, 0, CKPT_MIX_Q4_0, &o, &err), CKPT_OK);
    ck_assert_int_eq(type_of(&s, "blk.0.attn_q.weight"), CKPT_TYPE_F16);

    o = (struct ckpt_qplan_opts){.output_type = CKPT_TYPE_Q6_K, .token_embd_type = -1};
    ck_assert_int_eq(plan(&s, 1, 0, CKPT_MIX_Q4_0, &o, &err), CKPT_E_USAGE);
    ck_assert_ptr_nonnull(strstr(err.msg, "output.weight"));
}
END_TEST

START_TEST(imatrix_bumps_legacy_ffn_down)
{
    static struct synth s;
    build(&s, 16, 0, true);
    ckpt_err err = {0};
    struct ckpt_qplan_opts o = {.has_imatrix = true, .output_type = -1, .token_embd_type = -1};
    ck_assert_int_eq(plan(&s, 16, 0, CKPT_MIX_Q4_0, &o, &err), CKPT_OK);
    for (int l = 0; l < 16; l++)
        ck_assert_int_eq(layer_type(&s, l, "ffn_down"), l < 2 ? CKPT_TYPE_Q4_1 : CKPT_TYPE_Q4_0);
    ck_assert_int_eq(plan(&s, 16, 0, CKPT_MIX_Q5_0, &o, &err), CKPT_OK);
    ck_assert_int_eq(layer_type(&s, 1, "ffn_down"), CKPT_TYPE_Q5_1);
    o.has_imatrix = false;
    ck_assert_int_eq(plan(&s, 16, 0, CKPT_MIX_Q4_0, &o, &err), CKPT_OK);
    ck_assert_int_eq(layer_type(&s, 0, "ffn_down"), CKPT_TYPE_Q4_0);
}
END_TEST

Suite *quantplan_suite(void)
{
    Suite *s = suite_create("quantplan");
    TCase *tc = tcase_create("golden");
    tcase_add_loop_test(tc, golden_mixes, 0, 3);
    suite_add_tcase(s, tc);
    tc = tcase_create("rules");
    tcase_add_test(tc, dense_32_layers);
    tcase_add_test(tc, mixtral_8_experts);
    tcase_add_test(tc, order_by_layer_then_name);
    tcase_add_test(tc, mix_table);
    tcase_add_test(tc, float_mixes_keep_norms);
    tcase_add_test(tc, pure_explicit_tied);
    tcase_add_test(tc, fallbacks);
    tcase_add_test(tc, imatrix_bumps_legacy_ffn_down);
    suite_add_tcase(s, tc);
    tc = tcase_create("errors");
    tcase_add_test(tc, expert_layer_errors);
    suite_add_tcase(s, tc);
    return s;
}
