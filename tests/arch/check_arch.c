/*
 * check_arch.c - the architecture descriptors (arch/arch.h): HF <-> GGUF
 * tensor names against the converter's own listings
 * (tests/data/golden/<kit>/convert-f32.tensors.tsv) and transformers'
 * module names, both directions, names that are no tensor of the model
 * (a name without a dot among them), and the descriptors' lookups.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "arch/arch.h"
#include "arch/gguf_keys.h"
#include "testutil.h"

static const struct ckpt_arch *mixtral(void)
{
    return ckpt_arch_by_hf_class("MixtralForCausalLM");
}

static struct ckpt_arch_match parse(const char *hf)
{
    const struct ckpt_arch *a = mixtral();
    return ckpt_arch_match_hf(a, &a->schemes[0], hf);
}

/* hf maps to gguf (NULL: hf is unknown), and back. */
static void expect(const char *hf, const char *gguf)
{
    const struct ckpt_arch *a = mixtral();
    struct ckpt_arch_match n = parse(hf);
    char buf[64], back[128];
    if (!gguf) {
        ck_assert_msg(n.role == CKPT_ROLE_UNKNOWN, "%s should be unknown", hf);
        ck_assert_ptr_null(n.suffix);
        return;
    }
    ck_assert_msg(ckpt_arch_gguf_name(a, n.role, n.layer, n.suffix, buf, sizeof buf),
                  "%s not mapped", hf);
    ck_assert_str_eq(buf, gguf);
    struct ckpt_arch_match g = ckpt_arch_match_gguf(a, gguf);
    ck_assert_int_eq(g.role, n.role);
    ck_assert_int_eq(g.layer, n.layer);
    ck_assert_str_eq(g.suffix, n.suffix);
    ck_assert(ckpt_arch_hf_name(&a->schemes[0], n.role, n.layer, n.expert, n.suffix, back,
                                sizeof back));
    ck_assert_str_eq(back, hf);
}

START_TEST(mistral_names)
{
    expect("model.embed_tokens.weight", "token_embd.weight");
    expect("model.norm.weight", "output_norm.weight");
    expect("lm_head.weight", "output.weight");
    expect("model.layers.0.input_layernorm.weight", "blk.0.attn_norm.weight");
    expect("model.layers.12.self_attn.q_proj.weight", "blk.12.attn_q.weight");
    expect("model.layers.3.self_attn.k_proj.weight", "blk.3.attn_k.weight");
    expect("model.layers.3.self_attn.v_proj.weight", "blk.3.attn_v.weight");
    expect("model.layers.3.self_attn.o_proj.weight", "blk.3.attn_output.weight");
    expect("model.layers.3.post_attention_layernorm.weight", "blk.3.ffn_norm.weight");
    expect("model.layers.3.mlp.gate_proj.weight", "blk.3.ffn_gate.weight");
    expect("model.layers.3.mlp.up_proj.weight", "blk.3.ffn_up.weight");
    expect("model.layers.3.mlp.down_proj.weight", "blk.3.ffn_down.weight");
    expect("model.layers.3.self_attn.q_proj.bias", "blk.3.attn_q.bias");
}
END_TEST

START_TEST(mixtral_names)
{
    expect("model.layers.1.block_sparse_moe.gate.weight", "blk.1.ffn_gate_inp.weight");
    expect("model.layers.1.block_sparse_moe.experts.7.w1.weight", "blk.1.ffn_gate_exps.weight");
    expect("model.layers.1.block_sparse_moe.experts.7.w2.weight", "blk.1.ffn_down_exps.weight");
    expect("model.layers.1.block_sparse_moe.experts.7.w3.weight", "blk.1.ffn_up_exps.weight");
    struct ckpt_arch_match n = parse("model.layers.2.block_sparse_moe.experts.13.w2.weight");
    ck_assert_int_eq(n.layer, 2);
    ck_assert_int_eq(n.expert, 13);
}
END_TEST

START_TEST(unknown_names)
{
    expect("model.layers.01.input_layernorm.weight", NULL);
    expect("model.layers.1.self_attn.q_proj.weightx", NULL);
    expect("model.layers.1.block_sparse_moe.experts.0.w4.weight", NULL);
    expect("model.layers..mlp.up_proj.weight", NULL);
    expect("transformer.h.0.attn.weight", NULL);
    expect("model.layers.99999999.mlp.up_proj.weight", NULL);
    ck_assert_int_eq(parse("model.layers.0.self_attn.rotary_emb.inv_freq").role,
                     CKPT_ROLE_IGNORED);
    /* names without a dot: unknown, and no suffix for a caller to trip on */
    expect("lm_head", NULL);
    expect("model", NULL);
    expect("", NULL);
    expect("weight", NULL);
    expect("model.layers.0.self_attn.q_proj", NULL);
}
END_TEST

/* Every GGUF name in llama.cpp's listings is produced by some HF name. */
START_TEST(golden_listing_names)
{
    static const char *kits[] = {"tiny-mistral", "tiny-mixtral"};
    for (size_t k = 0; k < 2; k++) {
        char *rel = tu_fmt("golden/%s/convert-f32.tensors.tsv", kits[k]);
        char *path = tu_data(rel);
        char *text = tu_read_file(path, NULL);
        ck_assert_ptr_nonnull(text);
        int lines = 0;
        for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
            char *tab = strchr(line, '\t');
            ck_assert_ptr_nonnull(tab);
            *tab = '\0';
            bool found = false;
            for (int role = CKPT_ROLE_TOKEN_EMBD; role < CKPT_ROLE_COUNT && !found; role++)
                for (int layer = 0; layer < 4 && !found; layer++) {
                    char buf[64];
                    found = ckpt_arch_gguf_name(mixtral(), (ckpt_role)role, layer, "weight", buf,
                                                sizeof buf) &&
                            strcmp(buf, line) == 0;
                }
            ck_assert_msg(found, "%s: %s not produced", kits[k], line);
            lines++;
        }
        ck_assert_int_gt(lines, 20);
        free(text);
        free(path);
        free(rel);
    }
}
END_TEST

/* The three llama-family descriptors: found by class and model_type, all
 * "llama" in GGUF, features as transformers' modeling code has them. */
START_TEST(descriptors)
{
    static const struct {
        const char *cls, *type;
        unsigned feat_on, feat_off;
    } want[] = {
        {"MistralForCausalLM", "mistral", CKPT_FEAT_SLIDING_WINDOW, CKPT_FEAT_EXPERTS},
        {"MixtralForCausalLM", "mixtral", CKPT_FEAT_EXPERTS | CKPT_FEAT_SLIDING_WINDOW, 0},
        {"LlamaForCausalLM", "llama", 0, CKPT_FEAT_EXPERTS | CKPT_FEAT_SLIDING_WINDOW},
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        const struct ckpt_arch *a = ckpt_arch_by_hf_class(want[i].cls);
        ck_assert_ptr_nonnull(a);
        ck_assert_ptr_eq(a, ckpt_arch_by_model_type(want[i].type));
        ck_assert_str_eq(a->gguf_arch, "llama");
        ck_assert_uint_eq(a->features & want[i].feat_on, want[i].feat_on);
        ck_assert_uint_eq(a->features & want[i].feat_off, 0);
        char list[160];
        ck_assert_ptr_nonnull(strstr(ckpt_arch_supported(list, sizeof list), want[i].cls));
    }
    ck_assert_ptr_null(ckpt_arch_by_hf_class("GPT2LMHeadModel"));
    ck_assert_ptr_null(ckpt_arch_by_model_type(""));
    ck_assert_ptr_eq(ckpt_arch_by_gguf("llama", true), mixtral());
    ck_assert(!(ckpt_arch_by_gguf("llama", false)->features & CKPT_FEAT_EXPERTS));
    ck_assert_ptr_null(ckpt_arch_by_gguf("gpt2", false));
    char kb[CKPT_GGUF_KEY_MAX];
    ck_assert_str_eq(ckpt_gguf_key(kb, "llama", CKPT_KEY_HEAD_COUNT_KV),
                     "llama.attention.head_count_kv");
}
END_TEST

/* Dense roles exist without experts only; the router and experts with. */
START_TEST(roles_by_feature)
{
    const struct ckpt_arch *a = mixtral();
    ck_assert(ckpt_arch_role_present(ckpt_arch_role(a, CKPT_ROLE_FFN_GATE), 0));
    ck_assert(!ckpt_arch_role_present(ckpt_arch_role(a, CKPT_ROLE_FFN_GATE), CKPT_FEAT_EXPERTS));
    ck_assert(!ckpt_arch_role_present(ckpt_arch_role(a, CKPT_ROLE_FFN_GATE_INP), 0));
    ck_assert(ckpt_arch_role_present(ckpt_arch_role(a, CKPT_ROLE_FFN_UP_EXPS), CKPT_FEAT_EXPERTS));
    uint64_t dims[CKPT_DIM_COUNT] = {[CKPT_DIM_HEADS] = 32, [CKPT_DIM_KV_HEADS] = 8};
    ck_assert_int_eq(ckpt_arch_permute_heads(ckpt_arch_role(a, CKPT_ROLE_ATTN_Q), dims), 32);
    ck_assert_int_eq(ckpt_arch_permute_heads(ckpt_arch_role(a, CKPT_ROLE_ATTN_K), dims), 8);
    ck_assert_int_eq(ckpt_arch_permute_heads(ckpt_arch_role(a, CKPT_ROLE_ATTN_V), dims), 0);
    /* llama.cpp loads optional biases of the attention projections only */
    for (int r = CKPT_ROLE_TOKEN_EMBD; r < CKPT_ROLE_COUNT; r++)
        ck_assert_int_eq(ckpt_arch_role(a, (ckpt_role)r)->bias_ok,
                         r >= CKPT_ROLE_ATTN_Q && r <= CKPT_ROLE_ATTN_OUTPUT);
}
END_TEST

/* llama.cpp's keep-F32 rule (converter: n_dims <= 1 or *_norm.weight, the
 * MoE router; quantizer: the same names stay unquantized). */
START_TEST(keep_f32)
{
    ck_assert(ckpt_arch_keep_f32("blk.0.attn_norm.weight", 1));
    ck_assert(ckpt_arch_keep_f32("blk.0.ffn_gate_inp.weight", 2));
    ck_assert(ckpt_arch_keep_f32("blk.0.attn_q.bias", 1));
    ck_assert(ckpt_arch_keep_f32("output_norm.weight", 1));
    ck_assert(ckpt_arch_keep_f32("blk.0.attn_q_norm.weight", 2));
    ck_assert(!ckpt_arch_keep_f32("blk.0.attn_q.weight", 2));
    ck_assert(!ckpt_arch_keep_f32("blk.3.ffn_down_exps.weight", 3));
    ck_assert(!ckpt_arch_keep_f32("token_embd.weight", 2));
}
END_TEST

Suite *arch_suite(void)
{
    Suite *s = suite_create("arch");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, mistral_names);
    tcase_add_test(tc, mixtral_names);
    tcase_add_test(tc, unknown_names);
    tcase_add_test(tc, golden_listing_names);
    tcase_add_test(tc, descriptors);
    tcase_add_test(tc, roles_by_feature);
    tcase_add_test(tc, keep_f32);
    suite_add_tcase(s, tc);
    return s;
}
