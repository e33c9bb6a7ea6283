/*
 * check_names.c - HF -> GGUF tensor names, against the converter's own
 * listings (tests/data/golden/<kit>/convert-f32.tensors.tsv).
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "convert/names.h"
#include "testutil.h"

static void expect(const char *hf, const char *gguf)
{
    struct ckpt_hf_name n = ckpt_name_parse_hf(hf);
    char buf[64];
    if (!gguf) {
        ck_assert_msg(n.role == CKPT_ROLE_UNKNOWN, "%s should be unknown", hf);
        return;
    }
    ck_assert_msg(ckpt_name_gguf(n.role, n.layer, n.suffix, buf, sizeof buf), "%s not mapped", hf);
    ck_assert_str_eq(buf, gguf);
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
    struct ckpt_hf_name n = ckpt_name_parse_hf("model.layers.2.block_sparse_moe.experts.13.w2.weight");
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
    ck_assert_int_eq(ckpt_name_parse_hf("model.layers.0.self_attn.rotary_emb.inv_freq").role,
                     CKPT_ROLE_IGNORED);
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
                    found = ckpt_name_gguf((ckpt_role)role, layer, "weight", buf, sizeof buf) &&
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

Suite *names_suite(void)
{
    Suite *s = suite_create("names");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, mistral_names);
    tcase_add_test(tc, mixtral_names);
    tcase_add_test(tc, unknown_names);
    tcase_add_test(tc, golden_listing_names);
    suite_add_tcase(s, tc);
    return s;
}
