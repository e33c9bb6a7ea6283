/*
 * check_hfdir.c - Hugging Face model directories: config.json of the shared
 * models and its defaults and errors, the three weight layouts built with
 * gen_fixtures (single, indexed shards, bare shard series), and broken
 * directories (missing shard, bad index, path traversal, LFS pointer).
 */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "formats/hfdir.h"
#include "testutil.h"

/* ------------------------------------------------------------ helpers */

static char *gen(const char *dir, const char *args)
{
    const char *bin = getenv("CKPT_TESTBIN");
    char *out = tu_fmt("%s/%s", dir, "m");
    char *cmd = tu_fmt("'%s/gen_fixtures' %s '%s'", bin && *bin ? bin : "build/tests", args, out);
    char *errs = NULL;
    int rc = tu_run(cmd, NULL, &errs);
    ck_assert_msg(rc == 0, "%s: exit %d: %s", cmd, rc, errs ? errs : "");
    free(errs);
    free(cmd);
    return out;
}

static ckpt_hf *open_ok(const char *path)
{
    ckpt_hf *hf = NULL;
    ckpt_err err;
    ckpt_err_clear(&err);
    ck_assert_msg(ckpt_hf_open(&hf, path, &err) == CKPT_OK, "%s", err.msg);
    return hf;
}

/* Open must fail with status and a message containing `want`. */
static void open_fails(const char *path, ckpt_status status, const char *want)
{
    ckpt_hf *hf = (ckpt_hf *)1;
    ckpt_err err;
    ckpt_err_clear(&err);
    ckpt_status s = ckpt_hf_open(&hf, path, &err);
    ck_assert_msg(s == status, "status %d, want %d: %s", s, status, err.msg);
    ck_assert_ptr_null(hf);
    ck_assert_msg(strstr(err.msg, want) != NULL, "'%s' lacks '%s'", err.msg, want);
}

static void put(const char *dir, const char *name, const char *text)
{
    char *p = tu_fmt("%s/%s", dir, name);
    ck_assert_int_eq(tu_write_file(p, text, strlen(text)), 0);
    free(p);
}

static void rm(const char *dir, const char *name)
{
    char *p = tu_fmt("%s/%s", dir, name);
    ck_assert_int_eq(unlink(p), 0);
    free(p);
}

/* ------------------------------------------------- the shared models */

START_TEST(shared_mistral)
{
    static const char *const dirs[] = {"models/tiny-mistral", "models/tiny-mistral-tokjson"};
    char *path = tu_data(dirs[_i]);
    ckpt_hf *hf = open_ok(path);
    const struct ckpt_hf_config *c = ckpt_hf_get_config(hf);
    ck_assert_ptr_nonnull(c);
    ck_assert_str_eq(c->arch->hf_class, "MistralForCausalLM");
    ck_assert_str_eq(c->architecture, "MistralForCausalLM");
    ck_assert_str_eq(c->model_type, "mistral");
    ck_assert_uint_eq(c->hidden_size, 256);
    ck_assert_uint_eq(c->intermediate_size, 512);
    ck_assert_uint_eq(c->n_layers, 4);
    ck_assert_uint_eq(c->n_heads, 4);
    ck_assert_uint_eq(c->n_kv_heads, 1);
    ck_assert_uint_eq(c->head_dim, 64);
    ck_assert_uint_eq(c->vocab_size, 1500);
    ck_assert_uint_eq(c->max_position_embeddings, 2048);
    ck_assert(c->rms_norm_eps == 1e-5);
    ck_assert(c->rope_theta == 10000.0);
    ck_assert(c->has_sliding_window);
    ck_assert_uint_eq(c->sliding_window, 64);
    ck_assert(!c->tie_word_embeddings);
    ck_assert_uint_eq(c->n_experts, 0);
    ck_assert_uint_eq(c->n_experts_per_tok, 0);
    ck_assert_int_eq(c->bos_token_id, 1);
    ck_assert_int_eq(c->eos_token_id, 2);
    ck_assert_str_eq(c->torch_dtype, "bfloat16");
    ck_assert(!c->has_rope_scaling_key);
    ck_assert(!c->has_quantization_config);
    ck_assert_int_eq(ckpt_hf_get_layout(hf), CKPT_HF_LAYOUT_SINGLE);
    unsigned want = CKPT_HF_TOKENIZER_JSON | CKPT_HF_TOKENIZER_CONFIG |
                    CKPT_HF_SPECIAL_TOKENS_MAP | CKPT_HF_GENERATION_CONFIG |
                    (_i == 0 ? CKPT_HF_TOKENIZER_MODEL : 0);
    ck_assert_uint_eq(ckpt_hf_files(hf), want);
    ck_assert_uint_eq(ckpt_hf_n_shards(hf), 1);
    ck_assert_str_eq(ckpt_hf_shard_name(hf, 0), "model.safetensors");
    ck_assert_uint_eq(ckpt_hf_n_tensors(hf), 39);
    size_t shard = 9;
    const struct ckpt_st_tensor *t = ckpt_hf_find(hf, "model.layers.3.self_attn.k_proj.weight",
                                                  &shard);
    ck_assert_ptr_nonnull(t);
    ck_assert_uint_eq(shard, 0);
    ck_assert_uint_eq(t->shape[0], 64);
    ck_assert_ptr_null(ckpt_hf_find(hf, "nope", NULL));
    char *tj = ckpt_hf_file_path(hf, "tokenizer.json");
    ck_assert(access(tj, R_OK) == 0);
    free(tj);
    ck_assert_str_eq(ckpt_hf_path(hf), path);
    ckpt_hf_close(hf);
    free(path);
}
END_TEST

START_TEST(shared_mixtral)
{
    char *path = tu_data("models/tiny-mixtral");
    ckpt_hf *hf = open_ok(path);
    const struct ckpt_hf_config *c = ckpt_hf_get_config(hf);
    ck_assert_str_eq(c->arch->hf_class, "MixtralForCausalLM");
    ck_assert_str_eq(c->architecture, "MixtralForCausalLM");
    ck_assert_str_eq(c->model_type, "mixtral");
    ck_assert_uint_eq(c->hidden_size, 128);
    ck_assert_uint_eq(c->intermediate_size, 256);
    ck_assert_uint_eq(c->n_layers, 4);
    ck_assert_uint_eq(c->n_heads, 4);
    ck_assert_uint_eq(c->n_kv_heads, 2);
    ck_assert_uint_eq(c->head_dim, 32);
    ck_assert_uint_eq(c->vocab_size, 1500);
    ck_assert_uint_eq(c->max_position_embeddings, 2048);
    ck_assert(c->rms_norm_eps == 1e-5);
    ck_assert(c->rope_theta == 1e6);
    ck_assert(!c->has_sliding_window);
    ck_assert(!c->tie_word_embeddings);
    ck_assert_uint_eq(c->n_experts, 4);
    ck_assert_uint_eq(c->n_experts_per_tok, 2);
    ck_assert_int_eq(c->bos_token_id, 1);
    ck_assert_int_eq(c->eos_token_id, 2);
    ck_assert_str_eq(c->torch_dtype, "bfloat16");
    ck_assert_uint_eq(ckpt_hf_n_tensors(hf), 79);
    /* stable order: offset order within the one shard */
    uint64_t off = 0;
    for (size_t i = 0; i < ckpt_hf_n_tensors(hf); i++) {
        size_t sh = 9;
        const struct ckpt_st_tensor *t = ckpt_hf_tensor(hf, i, &sh);
        ck_assert_uint_eq(sh, 0);
        ck_assert_uint_eq(t->begin, off);
        ck_assert_ptr_eq(ckpt_hf_find(hf, t->name, NULL), t);
        off = t->end;
    }
    ck_assert_ptr_null(ckpt_hf_tensor(hf, ckpt_hf_n_tensors(hf), NULL));
    ckpt_hf_close(hf);
    free(path);
}
END_TEST

START_TEST(lone_file)
{
    char *path = tu_data("models/tiny-mixtral/model.safetensors");
    ckpt_hf *hf = open_ok(path);
    ck_assert_int_eq(ckpt_hf_get_layout(hf), CKPT_HF_LAYOUT_FILE);
    ck_assert_ptr_null(ckpt_hf_get_config(hf));
    ck_assert_uint_eq(ckpt_hf_files(hf), 0);
    ck_assert_ptr_null(ckpt_hf_file_path(hf, "config.json"));
    ck_assert_uint_eq(ckpt_hf_n_shards(hf), 1);
    ck_assert_str_eq(ckpt_hf_shard_name(hf, 0), "model.safetensors");
    ck_assert_uint_eq(ckpt_hf_n_tensors(hf), 79);
    ck_assert_ptr_nonnull(ckpt_hf_find(hf, "model.norm.weight", NULL));
    ckpt_hf_close(hf);
    ckpt_hf_close(NULL);
    free(path);
    open_fails("/nonexistent/model", CKPT_E_IO, "/nonexistent/model");
}
END_TEST

/* ------------------------------------------------------ config.json */

static ckpt_status parse(const char *text, struct ckpt_hf_config *c, ckpt_err *err)
{
    ckpt_err_clear(err);
    return ckpt_hf_config_parse(c, text, strlen(text), "dir/config.json", err);
}

#define CORE "\"hidden_size\":64,\"intermediate_size\":128,\"num_hidden_layers\":2," \
             "\"num_attention_heads\":4,\"vocab_size\":256"

START_TEST(config_defaults)
{
    struct ckpt_hf_config c;
    ckpt_err err;
    ck_assert_msg(parse("{\"architectures\":[\"MistralForCausalLM\"]," CORE "}", &c, &err) ==
                      CKPT_OK, "%s", err.msg);
    ck_assert_str_eq(c.arch->hf_class, "MistralForCausalLM");
    ck_assert_uint_eq(c.n_kv_heads, 4);
    ck_assert_uint_eq(c.head_dim, 16);
    ck_assert(c.rope_theta == 10000.0);
    ck_assert(c.rms_norm_eps == 1e-6);
    ck_assert_uint_eq(c.max_position_embeddings, 131072);
    ck_assert(c.has_sliding_window);
    ck_assert_uint_eq(c.sliding_window, 4096);
    ck_assert(!c.tie_word_embeddings);
    ck_assert_int_eq(c.bos_token_id, 1);
    ck_assert_int_eq(c.eos_token_id, 2);
    ck_assert_uint_eq(c.n_experts, 0);
    ck_assert_str_eq(c.torch_dtype, "");
    ck_assert_str_eq(c.model_type, "");

    /* model_type alone picks the architecture; Mixtral defaults */
    ck_assert_msg(parse("{\"model_type\":\"mixtral\"," CORE "}", &c, &err) == CKPT_OK, "%s",
                  err.msg);
    ck_assert_str_eq(c.arch->hf_class, "MixtralForCausalLM");
    ck_assert_str_eq(c.architecture, "");
    ck_assert(c.rope_theta == 1e6);
    ck_assert(c.rms_norm_eps == 1e-5);
    ck_assert(!c.has_sliding_window);
    ck_assert_uint_eq(c.n_experts, 8);
    ck_assert_uint_eq(c.n_experts_per_tok, 2);

    /* null means "default" for head_dim and kv heads, "none" for the window */
    ck_assert_msg(parse("{\"model_type\":\"mistral\"," CORE ",\"head_dim\":null,"
                        "\"num_key_value_heads\":null,\"sliding_window\":null,"
                        "\"rope_scaling\":null,\"bos_token_id\":null,\"eos_token_id\":[7,2],"
                        "\"dtype\":\"float16\",\"tie_word_embeddings\":true,"
                        "\"quantization_config\":{\"quant_method\":\"compressed-tensors\"},"
                        "\"rope_parameters\":{\"rope_type\":\"default\",\"rope_theta\":500000}}",
                        &c, &err) == CKPT_OK,
                  "%s", err.msg);
    ck_assert_uint_eq(c.head_dim, 16);
    ck_assert_uint_eq(c.n_kv_heads, 4);
    ck_assert(!c.has_sliding_window);
    ck_assert(c.has_rope_scaling_key);
    ck_assert_int_eq(c.bos_token_id, -1);
    ck_assert_int_eq(c.eos_token_id, 7);
    ck_assert_str_eq(c.torch_dtype, "float16");
    ck_assert(c.tie_word_embeddings);
    ck_assert(c.has_quantization_config);
    ck_assert_str_eq(c.quant_method, "compressed-tensors");
    ck_assert(c.rope_theta == 500000.0);

    /* an explicit head_dim need not divide hidden (Mistral Nemo) */
    ck_assert_msg(parse("{\"model_type\":\"mistral\",\"hidden_size\":5120,"
                        "\"intermediate_size\":14336,\"num_hidden_layers\":40,"
                        "\"num_attention_heads\":32,\"num_key_value_heads\":8,\"head_dim\":128,"
                        "\"vocab_size\":131072}",
                        &c, &err) == CKPT_OK,
                  "%s", err.msg);
    ck_assert_uint_eq(c.head_dim, 128);
}
END_TEST

static const struct {
    const char *json;
    ckpt_status status;
    const char *msg;
} bad_configs[] = {
    {"{\"architectures\":[\"GemmaForCausalLM\"]," CORE "}", CKPT_E_UNSUPPORTED,
     "dir/config.json: unsupported architecture GemmaForCausalLM (supported: "
     "MistralForCausalLM, MixtralForCausalLM"},
    {"{\"model_type\":\"gemma\"," CORE "}", CKPT_E_UNSUPPORTED, "unsupported architecture gemma"},
    {"{" CORE "}", CKPT_E_UNSUPPORTED, "unsupported architecture (none given)"},
    {"{\"model_type\":\"mistral\",\"hidden_size\":64}", CKPT_E_FORMAT,
     "intermediate_size: missing"},
    {"{\"model_type\":\"mistral\"," CORE ",\"hidden_size\":64}", CKPT_E_FORMAT,
     "duplicate key 'hidden_size'"},
    {"{\"model_type\":\"mistral\",\"hidden_size\":\"64\",\"intermediate_size\":128,"
     "\"num_hidden_layers\":2,\"num_attention_heads\":4,\"vocab_size\":256}",
     CKPT_E_FORMAT, "hidden_size: expected a non-negative integer"},
    {"{\"model_type\":\"mistral\",\"hidden_size\":64.5,\"intermediate_size\":128,"
     "\"num_hidden_layers\":2,\"num_attention_heads\":4,\"vocab_size\":256}",
     CKPT_E_FORMAT, "hidden_size: expected a non-negative integer"},
    {"{\"model_type\":\"mistral\",\"hidden_size\":0,\"intermediate_size\":128,"
     "\"num_hidden_layers\":2,\"num_attention_heads\":4,\"vocab_size\":256}",
     CKPT_E_RANGE, "hidden_size: 0 is out of range"},
    {"{\"model_type\":\"mistral\",\"hidden_size\":66,\"intermediate_size\":128,"
     "\"num_hidden_layers\":2,\"num_attention_heads\":4,\"vocab_size\":256}",
     CKPT_E_RANGE, "num_attention_heads: 4 does not divide hidden_size 66"},
    {"{\"model_type\":\"mistral\"," CORE ",\"num_key_value_heads\":3}", CKPT_E_RANGE,
     "num_key_value_heads: 3 does not divide num_attention_heads 4"},
    {"{\"model_type\":\"mixtral\"," CORE ",\"num_local_experts\":2,\"num_experts_per_tok\":3}",
     CKPT_E_RANGE, "num_experts_per_tok: 3 is more than num_local_experts 2"},
    {"{\"model_type\":\"mistral\"," CORE ",\"rope_scaling\":{\"type\":\"linear\",\"factor\":2}}",
     CKPT_E_UNSUPPORTED, "rope_scaling: RoPE scaling is not supported"},
    {"{\"model_type\":\"mistral\"," CORE ",\"rope_parameters\":{\"rope_type\":\"yarn\"}}",
     CKPT_E_UNSUPPORTED, "rope_type 'yarn' is not supported"},
    {"{\"model_type\":\"mistral\"," CORE ",\"rms_norm_eps\":0}", CKPT_E_RANGE,
     "rms_norm_eps: 0 is not a positive number"},
    {"{\"model_type\":\"mistral\"," CORE ",\"tie_word_embeddings\":\"yes\"}", CKPT_E_FORMAT,
     "tie_word_embeddings: expected true or false"},
    {"{\"model_type\":\"mistral\"," CORE ",\"sliding_window\":-1}", CKPT_E_FORMAT,
     "sliding_window: expected a non-negative integer"},
    {"{\"model_type\":\"mistral\"," CORE ",\"eos_token_id\":\"2\"}", CKPT_E_FORMAT,
     "eos_token_id: expected a token id"},
    {"{\"model_type\":\"mistral\"," CORE ",\"quantization_config\":[]}", CKPT_E_FORMAT,
     "quantization_config: expected an object"},
    {"{\"model_type\":\"mis\\u0000tral\"," CORE "}", CKPT_E_FORMAT, "\\u0000"},
    {"{\"model_type\":\"mistral\xff\"," CORE "}", CKPT_E_FORMAT, "invalid UTF-8"},
    {"[]", CKPT_E_FORMAT, "not a JSON object"},
    {"{\"model_type\":\"mistral\"," CORE "} {}", CKPT_E_FORMAT, "trailing characters"},
    {"{\"architectures\":\"MistralForCausalLM\"," CORE "}", CKPT_E_FORMAT,
     "architectures: expected a list"},
};

START_TEST(config_errors)
{
    struct ckpt_hf_config c;
    ckpt_err err;
    ckpt_status s = parse(bad_configs[_i].json, &c, &err);
    ck_assert_msg(s == bad_configs[_i].status, "case %d: %d: %s", _i, s, err.msg);
    ck_assert_msg(strncmp(err.msg, "dir/config.json: ", 17) == 0, "%s", err.msg);
    ck_assert_msg(strstr(err.msg, bad_configs[_i].msg) != NULL, "'%s' lacks '%s'", err.msg,
                  bad_configs[_i].msg);
}
END_TEST

/* --------------------------------------------------------- fixtures */

START_TEST(fixture_defaults_open)
{
    /* the generator's defaults, each architecture, through ckpt_hf_open */
    char *tmp = tu_tmpdir();
    char *dir = gen(tmp, _i ? "--arch mixtral" : "");
    ckpt_hf *hf = open_ok(dir);
    const struct ckpt_hf_config *c = ckpt_hf_get_config(hf);
    ck_assert_str_eq(c->arch->hf_class, _i ? "MixtralForCausalLM" : "MistralForCausalLM");
    ck_assert_uint_eq(c->hidden_size, 64);
    ck_assert_uint_eq(c->n_layers, 2);
    ck_assert_uint_eq(c->n_heads, 4);
    ck_assert_uint_eq(c->n_kv_heads, 2);
    ck_assert_uint_eq(c->head_dim, 16);
    ck_assert_uint_eq(c->intermediate_size, 128);
    ck_assert_uint_eq(c->vocab_size, 256);
    ck_assert_uint_eq(c->n_experts, _i ? 4 : 0);
    ck_assert_uint_eq(c->n_experts_per_tok, _i ? 2 : 0);
    ck_assert(c->has_sliding_window == !_i);
    ck_assert_uint_eq(ckpt_hf_files(hf), CKPT_HF_GENERATION_CONFIG);
    ck_assert_uint_eq(ckpt_hf_n_tensors(hf), _i ? 3 + 2 * (7 + 12) : 3 + 2 * 9);
    const char *must[] = {"model.embed_tokens.weight", "lm_head.weight", "model.norm.weight",
                          "model.layers.1.input_layernorm.weight",
                          "model.layers.1.post_attention_layernorm.weight",
                          "model.layers.1.self_attn.o_proj.weight",
                          _i ? "model.layers.1.block_sparse_moe.experts.3.w2.weight"
                             : "model.layers.1.mlp.down_proj.weight"};
    for (size_t k = 0; k < sizeof must / sizeof must[0]; k++) {
        const struct ckpt_st_tensor *t = ckpt_hf_find(hf, must[k], NULL);
        ck_assert_msg(t != NULL, "%s", must[k]);
        ck_assert_int_eq(t->dtype, CKPT_DT_BF16);
    }
    const struct ckpt_st_tensor *t = ckpt_hf_find(hf, "model.layers.0.self_attn.k_proj.weight",
                                                  NULL);
    ck_assert_uint_eq(t->shape[0], 32);
    ck_assert_uint_eq(t->shape[1], 64);
    if (_i) {
        t = ckpt_hf_find(hf, "model.layers.0.block_sparse_moe.gate.weight", NULL);
        ck_assert_uint_eq(t->shape[0], 4);
        t = ckpt_hf_find(hf, "model.layers.0.block_sparse_moe.experts.0.w2.weight", NULL);
        ck_assert_uint_eq(t->shape[0], 64);
        ck_assert_uint_eq(t->shape[1], 128);
    }
    ckpt_hf_close(hf);

    /* absent keys in a directory's config.json take the class defaults */
    put(dir, "config.json",
        _i ? "{\"architectures\":[\"MixtralForCausalLM\"]," CORE ",\"num_key_value_heads\":2}"
           : "{\"architectures\":[\"MistralForCausalLM\"]," CORE ",\"num_key_value_heads\":2}");
    hf = open_ok(dir);
    c = ckpt_hf_get_config(hf);
    ck_assert(c->rope_theta == (_i ? 1e6 : 1e4));
    ck_assert(c->has_sliding_window == !_i);
    ck_assert_uint_eq(c->n_experts, _i ? 8 : 0);
    ckpt_hf_close(hf);
    free(dir);
    tu_rmtree(tmp);
    free(tmp);
}
END_TEST

START_TEST(fixture_options)
{
    char *tmp = tu_tmpdir();
    char *dir = gen(tmp, "--dtype f32 --tied --hidden 32 --layers 1 --heads 2 --kv-heads 1 "
                         "--ffn 48 --vocab 40 --sliding-window null --seed 7");
    ckpt_hf *hf = open_ok(dir);
    const struct ckpt_hf_config *c = ckpt_hf_get_config(hf);
    ck_assert(c->tie_word_embeddings);
    ck_assert(!c->has_sliding_window);
    ck_assert_str_eq(c->torch_dtype, "float32");
    ck_assert_ptr_null(ckpt_hf_find(hf, "lm_head.weight", NULL));
    const struct ckpt_st_tensor *t = ckpt_hf_find(hf, "model.layers.0.mlp.up_proj.weight", NULL);
    ck_assert_int_eq(t->dtype, CKPT_DT_F32);
    ck_assert_uint_eq(t->shape[0], 48);
    /* norms are near 1, weights near 0 */
    t = ckpt_hf_find(hf, "model.norm.weight", NULL);
    for (uint64_t i = 0; i < t->n_elements; i++) {
        float v;
        memcpy(&v, t->data + 4 * i, 4);
        ck_assert(v > 0.85f && v < 1.15f);
    }
    ckpt_hf_close(hf);
    free(dir);
    /* bad options are refused */
    const char *bin = getenv("CKPT_TESTBIN");
    char *cmd = tu_fmt("'%s/gen_fixtures' --heads 3 '%s/x'", bin && *bin ? bin : "build/tests",
                       tmp);
    ck_assert_int_eq(tu_run(cmd, NULL, NULL), 2);
    free(cmd);
    tu_rmtree(tmp);
    free(tmp);
}
END_TEST

/* Same weights whichever way they are split. */
START_TEST(sharded_layouts)
{
    static const char *const args[] = {"--arch mixtral --shards 2",
                                       "--arch mixtral --shards 3",
                                       "--arch mixtral --shards 3 --no-index",
                                       "--arch mixtral --shards 2 --no-index"};
    static const ckpt_hf_layout layouts[] = {CKPT_HF_LAYOUT_INDEXED, CKPT_HF_LAYOUT_INDEXED,
                                             CKPT_HF_LAYOUT_SERIES, CKPT_HF_LAYOUT_SERIES};
    static const size_t shards[] = {2, 3, 3, 2};
    char *tmp1 = tu_tmpdir(), *tmp2 = tu_tmpdir();
    char *single = gen(tmp1, "--arch mixtral");
    char *split = gen(tmp2, args[_i]);
    ckpt_hf *a = open_ok(single), *b = open_ok(split);
    ck_assert_int_eq(ckpt_hf_get_layout(b), layouts[_i]);
    ck_assert_uint_eq(ckpt_hf_n_shards(b), shards[_i]);
    char want[64];
    snprintf(want, sizeof want, "model-00002-of-%05zu.safetensors", shards[_i]);
    ck_assert_str_eq(ckpt_hf_shard_name(b, 1), want);
    ck_assert_uint_eq(ckpt_hf_n_tensors(a), ckpt_hf_n_tensors(b));
    size_t last_shard = 0;
    for (size_t i = 0; i < ckpt_hf_n_tensors(b); i++) {
        size_t sh;
        const struct ckpt_st_tensor *tb = ckpt_hf_tensor(b, i, &sh);
        ck_assert_uint_ge(sh, last_shard); /* shard by shard */
        last_shard = sh;
        const struct ckpt_st_tensor *ta = ckpt_hf_find(a, tb->name, NULL);
        ck_assert_ptr_nonnull(ta);
        ck_assert_uint_eq(ta->end - ta->begin, tb->end - tb->begin);
        ck_assert(memcmp(ta->data, tb->data, ta->end - ta->begin) == 0);
        size_t fs;
        ck_assert_ptr_eq(ckpt_hf_find(b, tb->name, &fs), tb);
        ck_assert_uint_eq(fs, sh);
    }
    ck_assert_uint_eq(last_shard, shards[_i] - 1);
    ckpt_hf_close(a);
    ckpt_hf_close(b);
    free(single);
    free(split);
    tu_rmtree(tmp1);
    tu_rmtree(tmp2);
    free(tmp1);
    free(tmp2);
}
END_TEST

/* ------------------------------------------------- broken directories */

/* Rewrite the index of a 3-shard fixture from its real contents, with one
 * change: drop `skip`, list `dup` twice, move `move` to shard 1, add an
 * extra line. */
static void rewrite_index(const char *dir, const char *skip, const char *dup, const char *move,
                          const char *extra)
{
    ckpt_hf *hf = open_ok(dir);
    size_t cap = 1 << 16, o = 0;
    bool first = true;
    char *j = malloc(cap);
    o += (size_t)snprintf(j + o, cap - o, "{\"metadata\":{\"total_size\":1},\"weight_map\":{");
    for (size_t i = 0; i < ckpt_hf_n_tensors(hf); i++) {
        size_t sh;
        const struct ckpt_st_tensor *t = ckpt_hf_tensor(hf, i, &sh);
        if (skip && strcmp(t->name, skip) == 0)
            continue;
        const char *file = ckpt_hf_shard_name(hf, move && !strcmp(t->name, move) ? (sh + 1) % 3
                                                                                  : sh);
        for (int k = 0; k < (dup && !strcmp(t->name, dup) ? 2 : 1); k++) {
            o += (size_t)snprintf(j + o, cap - o, "%s\"%s\":\"%s\"", first ? "" : ",", t->name,
                                  file);
            first = false;
        }
    }
    if (extra)
        o += (size_t)snprintf(j + o, cap - o, ",%s", extra);
    snprintf(j + o, cap - o, "}}");
    ckpt_hf_close(hf);
    put(dir, "model.safetensors.index.json", j);
    free(j);
}

enum { B_MISSING_SHARD, B_MISSING_SERIES, B_TWICE, B_WRONG_SHARD, B_UNLISTED, B_GHOST,
       B_TRAVERSAL, B_ABSOLUTE, B_SUBDIR, B_LFS, B_DUP_ACROSS, B_NO_CONFIG, B_NO_WEIGHTS,
       B_SERIES_MIX, B_BAD_CONFIG, B_COUNT };

START_TEST(broken_dirs)
{
    char *tmp = tu_tmpdir();
    char *dir = gen(tmp, _i == B_MISSING_SERIES || _i == B_SERIES_MIX ? "--shards 3 --no-index"
                                                                       : "--shards 3");
    const char *s2 = "model-00002-of-00003.safetensors";
    const char *q = "model.layers.0.self_attn.q_proj.weight";
    switch (_i) {
    case B_MISSING_SHARD:
        rm(dir, s2);
        open_fails(dir, CKPT_E_IO, "model.safetensors.index.json: shard "
                                   "'model-00002-of-00003.safetensors' listed in weight_map is "
                                   "missing");
        break;
    case B_MISSING_SERIES:
        rm(dir, s2);
        open_fails(dir, CKPT_E_IO,
                   "incomplete shard series: model-00002-of-00003.safetensors is missing");
        break;
    case B_TWICE:
        rewrite_index(dir, NULL, q, NULL, NULL);
        open_fails(dir, CKPT_E_FORMAT, "duplicate key 'model.layers.0.self_attn.q_proj.weight'");
        break;
    case B_WRONG_SHARD:
        rewrite_index(dir, NULL, NULL, q, NULL);
        open_fails(dir, CKPT_E_FORMAT,
                   "tensor 'model.layers.0.self_attn.q_proj.weight' is in shard "
                   "model-00001-of-00003.safetensors but weight_map lists it in "
                   "model-00002-of-00003.safetensors");
        break;
    case B_UNLISTED:
        rewrite_index(dir, q, NULL, NULL, NULL);
        open_fails(dir, CKPT_E_FORMAT, "tensor 'model.layers.0.self_attn.q_proj.weight' in shard "
                                       "model-00001-of-00003.safetensors is not listed");
        break;
    case B_GHOST:
        rewrite_index(dir, NULL, NULL, NULL, "\"ghost\":\"model-00003-of-00003.safetensors\"");
        open_fails(dir, CKPT_E_FORMAT, "tensor 'ghost' listed in weight_map is missing from "
                                       "shard model-00003-of-00003.safetensors");
        break;
    case B_TRAVERSAL:
        rewrite_index(dir, NULL, NULL, NULL, "\"x\":\"../model-00001-of-00003.safetensors\"");
        open_fails(dir, CKPT_E_FORMAT, "shard name '../model-00001-of-00003.safetensors' is not "
                                       "a plain file name");
        break;
    case B_ABSOLUTE:
        rewrite_index(dir, NULL, NULL, NULL, "\"x\":\"/etc/passwd\"");
        open_fails(dir, CKPT_E_FORMAT, "shard name '/etc/passwd' is not a plain file name");
        break;
    case B_SUBDIR:
        rewrite_index(dir, NULL, NULL, NULL, "\"x\":\"sub/a.safetensors\"");
        open_fails(dir, CKPT_E_FORMAT, "'sub/a.safetensors' is not a plain file name");
        break;
    case B_LFS:
        put(dir, s2, "version https://git-lfs.github.com/spec/v1\noid sha256:0000\nsize 9\n");
        open_fails(dir, CKPT_E_FORMAT,
                   "model-00002-of-00003.safetensors: file is a Git LFS pointer, not the tensor "
                   "data (fetch the weights with `git lfs pull`)");
        break;
    case B_DUP_ACROSS: {
        /* the same tensor in two shards of a bare series */
        rm(dir, "model.safetensors.index.json");
        char *p = tu_fmt("%s/%s", dir, s2);
        ckpt_st_writer *w;
        ck_assert_int_eq(ckpt_st_writer_new(&w, p, true, NULL), CKPT_OK);
        uint64_t shape[1] = {2};
        ck_assert_int_eq(ckpt_st_writer_add_tensor(w, "model.norm.weight", CKPT_DT_BF16, 1, shape,
                                                   NULL),
                         CKPT_OK);
        ck_assert_int_eq(ckpt_st_writer_begin(w, NULL), CKPT_OK);
        ck_assert_int_eq(ckpt_st_writer_write(w, "\0\0\0\0", 4, NULL), CKPT_OK);
        ck_assert_int_eq(ckpt_st_writer_finish(w, NULL), CKPT_OK);
        free(p);
        open_fails(dir, CKPT_E_FORMAT, "tensor 'model.norm.weight' appears in shards "
                                       "model-00002-of-00003.safetensors and "
                                       "model-00003-of-00003.safetensors");
        break;
    }
    case B_NO_CONFIG:
        rm(dir, "config.json");
        open_fails(dir, CKPT_E_IO, "config.json: missing");
        break;
    case B_NO_WEIGHTS:
        rm(dir, "model.safetensors.index.json");
        rm(dir, "model-00001-of-00003.safetensors");
        rm(dir, s2);
        rm(dir, "model-00003-of-00003.safetensors");
        open_fails(dir, CKPT_E_IO, "no weights");
        break;
    case B_SERIES_MIX: {
        char *a = tu_fmt("%s/model-00003-of-00003.safetensors", dir);
        char *b = tu_fmt("%s/model-00003-of-00004.safetensors", dir);
        ck_assert_int_eq(rename(a, b), 0);
        free(a);
        free(b);
        open_fails(dir, CKPT_E_FORMAT, "shards of two series");
        break;
    }
    case B_BAD_CONFIG:
        put(dir, "config.json", "{\"architectures\":[\"GPT2LMHeadModel\"]}");
        open_fails(dir, CKPT_E_UNSUPPORTED, "config.json: unsupported architecture "
                                            "GPT2LMHeadModel (supported: MistralForCausalLM, "
                                            "MixtralForCausalLM");
        break;
    }
    free(dir);
    tu_rmtree(tmp);
    free(tmp);
}
END_TEST

/*
 * Mistral's params.json: renamed keys, Mistral's defaults where absent (no
 * window, theta 10000), moe -> Mixtral, max_seq_len as the context, the
 * "mistral" scheme without rotate-half; a missing size is named by its
 * params.json key.  And a Mistral3ForConditionalGeneration config.json:
 * text_config read, names under language_model.
 */
START_TEST(params_and_wrapper)
{
    static const char dense[] = "{\"dim\":64,\"n_layers\":2,\"head_dim\":8,\"hidden_dim\":96,"
                                "\"n_heads\":4,\"n_kv_heads\":2,\"norm_eps\":1e-05,"
                                "\"vocab_size\":256,\"max_seq_len\":512}";
    static const char moe[] = "{\"dim\":64,\"n_layers\":2,\"hidden_dim\":96,\"n_heads\":4,"
                              "\"vocab_size\":256,\"rope_theta\":1e6,\"sliding_window\":null,"
                              "\"moe\":{\"num_experts\":4,\"num_experts_per_tok\":2}}";
    struct ckpt_hf_config c;
    ckpt_err err = {0};
    ck_assert_msg(ckpt_hf_params_parse(&c, dense, strlen(dense), "p.json", &err) == CKPT_OK,
                  "%s", err.msg);
    ck_assert_str_eq(c.arch->hf_class, "MistralForCausalLM");
    ck_assert_str_eq(c.scheme->name, "mistral");
    ck_assert(!c.scheme->rotate_half);
    ck_assert_uint_eq(c.hidden_size, 64);
    ck_assert_uint_eq(c.intermediate_size, 96);
    ck_assert_uint_eq(c.n_kv_heads, 2);
    ck_assert_uint_eq(c.head_dim, 8);
    ck_assert_uint_eq(c.max_position_embeddings, 512);
    ck_assert(c.rope_theta == 10000.0);
    ck_assert(c.rms_norm_eps == 1e-5);
    ck_assert(!c.has_sliding_window);
    struct ckpt_arch_match m = ckpt_arch_match_hf(c.arch, c.scheme, "layers.1.feed_forward.w3.weight");
    ck_assert_int_eq(m.role, CKPT_ROLE_FFN_UP);
    ck_assert_int_eq(m.layer, 1);

    ck_assert_msg(ckpt_hf_params_parse(&c, moe, strlen(moe), "p.json", &err) == CKPT_OK, "%s",
                  err.msg);
    ck_assert_str_eq(c.arch->hf_class, "MixtralForCausalLM");
    ck_assert_uint_eq(c.n_experts, 4);
    ck_assert_uint_eq(c.n_experts_per_tok, 2);
    ck_assert_uint_eq(c.n_kv_heads, 4);
    ck_assert(c.rope_theta == 1e6);
    m = ckpt_arch_match_hf(c.arch, c.scheme, "layers.0.feed_forward.experts.3.w2.weight");
    ck_assert_int_eq(m.role, CKPT_ROLE_FFN_DOWN_EXPS);
    ck_assert_int_eq(m.expert, 3);

    static const char nodim[] = "{\"n_layers\":2,\"hidden_dim\":96,\"n_heads\":4,\"vocab_size\":8}";
    ck_assert_int_eq(ckpt_hf_params_parse(&c, nodim, strlen(nodim), "p.json", &err),
                     CKPT_E_FORMAT);
    ck_assert_str_eq(err.msg, "p.json: dim: missing (required)");

    struct ckpt_hf_config w;
    ck_assert_msg(parse("{\"architectures\":[\"Mistral3ForConditionalGeneration\"],"
                        "\"text_config\":{\"model_type\":\"mistral\"," CORE "},"
                        "\"vision_config\":{\"hidden_size\":8}}", &w, &err) == CKPT_OK,
                  "%s", err.msg);
    ck_assert_str_eq(w.arch->hf_class, "MistralForCausalLM");
    ck_assert_str_eq(w.scheme->prefix, "language_model.");
    ck_assert(w.scheme->rotate_half);
    ck_assert_uint_eq(w.hidden_size, 64);
    ck_assert(ckpt_arch_dropped(w.scheme, "vision_tower.patch_conv.weight"));
    ck_assert(!ckpt_arch_dropped(w.scheme, "language_model.model.norm.weight"));
    ck_assert_int_eq(parse("{\"architectures\":[\"Mistral3ForConditionalGeneration\"]}", &w, &err),
                     CKPT_E_FORMAT);
}
END_TEST

Suite *hfdir_suite(void)
{
    Suite *s = suite_create("hfdir");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 30);
    tcase_add_loop_test(tc, shared_mistral, 0, 2);
    tcase_add_test(tc, shared_mixtral);
    tcase_add_test(tc, lone_file);
    tcase_add_test(tc, config_defaults);
    tcase_add_test(tc, params_and_wrapper);
    tcase_add_loop_test(tc, fixture_defaults_open, 0, 2);
    tcase_add_test(tc, fixture_options);
    tcase_add_loop_test(tc, sharded_layouts, 0, 4);
    suite_add_tcase(s, tc);

    tc = tcase_create("corrupt");
    tcase_set_timeout(tc, 30);
    tcase_add_loop_test(tc, config_errors, 0, (int)(sizeof bad_configs / sizeof bad_configs[0]));
    tcase_add_loop_test(tc, broken_dirs, 0, B_COUNT);
    suite_add_tcase(s, tc);
    return s;
}
