/*
 * gen_mistral_layout.c - Mistral's own checkpoint layout made from a
 * Hugging Face Mistral / Mixtral directory, as a fixture for the reader of
 * that layout:
 *
 *   params.json              from config.json (Mistral's key names)
 *   consolidated.safetensors the same tensors under Mistral's names, with
 *                            the Q/K rows of each head put back from
 *                            transformers' rotate-half order into the
 *                            interleaved order of Mistral's reference code
 *   tokenizer.model.v3       a copy of tokenizer.model, or
 *   tekken.json              a copy of tekken.json when the source has one
 *
 *   gen_mistral_layout HF_DIR OUT_DIR
 *
 * With --mistral3 first, a Mistral3ForConditionalGeneration checkpoint
 * instead: config.json with the original as text_config and a small
 * vision_config, the tensors under "language_model." (Q/K rows untouched),
 * four small deterministic vision_tower.* / multi_modal_projector.*
 * tensors after them, and the tokenizer files copied.
 *
 * The names and the row order are written out here on their own, from
 * transformers' convert_mistral_weights_to_hf.py (its permute views a
 * matrix as [heads, hd/2, 2, cols] and swaps the middle axes), not taken
 * from the converter's tables, so that the converter is checked against
 * them.  Deterministic.  Exit 0, or 2 with a message.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "formats/safetensors.h"

static int die(const char *what)
{
    fprintf(stderr, "gen_mistral_layout: %s\n", what);
    return 2;
}

static char *slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    long len;
    if (f && fseek(f, 0, SEEK_END) == 0 && (len = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
        (buf = malloc((size_t)len + 1)) && fread(buf, 1, (size_t)len, f) == (size_t)len) {
        buf[len] = 0;
        *n = (size_t)len;
    } else {
        free(buf);
        buf = NULL;
    }
    if (f)
        fclose(f);
    return buf;
}

/* HF prefix -> Mistral prefix; matched in order, the longest first where
 * one is a prefix of another. */
static const char *const renames[][2] = {
    {"model.embed_tokens.", "tok_embeddings."},
    {"model.norm.", "norm."},
    {"lm_head.", "output."},
    {"input_layernorm.", "attention_norm."},
    {"post_attention_layernorm.", "ffn_norm."},
    {"self_attn.q_proj.", "attention.wq."},
    {"self_attn.k_proj.", "attention.wk."},
    {"self_attn.v_proj.", "attention.wv."},
    {"self_attn.o_proj.", "attention.wo."},
    {"mlp.gate_proj.", "feed_forward.w1."},
    {"mlp.down_proj.", "feed_forward.w2."},
    {"mlp.up_proj.", "feed_forward.w3."},
    {"block_sparse_moe.gate.", "feed_forward.gate."},
    {"block_sparse_moe.experts.", "feed_forward.experts."},
};

/* "model.layers.3.self_attn.q_proj.weight" -> "layers.3.attention.wq.weight" */
static void mistral_name(const char *hf, char *out, size_t n)
{
    const char *rest = hf;
    char layer[64] = "";
    if (strncmp(hf, "model.layers.", 13) == 0) {
        const char *dot = strchr(hf + 13, '.');
        snprintf(layer, sizeof layer, "layers.%.*s.", (int)(dot - (hf + 13)), hf + 13);
        rest = dot + 1;
    }
    for (size_t i = 0; i < sizeof renames / sizeof renames[0]; i++) {
        size_t k = strlen(renames[i][0]);
        if (strncmp(rest, renames[i][0], k) == 0) {
            snprintf(out, n, "%s%s%s", layer, renames[i][1], rest + k);
            return;
        }
    }
    snprintf(out, n, "%s%s", layer, rest);
}

/* config.json key -> params.json key */
static const char *const params[][2] = {
    {"hidden_size", "dim"},           {"num_hidden_layers", "n_layers"},
    {"head_dim", "head_dim"},         {"intermediate_size", "hidden_dim"},
    {"num_attention_heads", "n_heads"}, {"num_key_value_heads", "n_kv_heads"},
    {"rms_norm_eps", "norm_eps"},     {"vocab_size", "vocab_size"},
    {"rope_theta", "rope_theta"},     {"sliding_window", "sliding_window"},
    {"max_position_embeddings", "max_position_embeddings"},
};

static int write_params(const cJSON *cfg, const char *out)
{
    cJSON *p = cJSON_CreateObject();
    for (size_t i = 0; i < sizeof params / sizeof params[0]; i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(cfg, params[i][0]);
        if (v)
            cJSON_AddItemToObject(p, params[i][1], cJSON_Duplicate(v, 1));
    }
    const cJSON *ne = cJSON_GetObjectItemCaseSensitive(cfg, "num_local_experts");
    if (ne) {
        cJSON *moe = cJSON_AddObjectToObject(p, "moe");
        cJSON_AddItemToObject(moe, "num_experts", cJSON_Duplicate(ne, 1));
        cJSON_AddItemToObject(moe, "num_experts_per_tok",
                              cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(
                                                  cfg, "num_experts_per_tok"), 1));
    }
    char *text = cJSON_Print(p);
    FILE *f = fopen(out, "wb");
    int ok = text && f && fputs(text, f) >= 0 && fputc('\n', f) != EOF;
    ok = (f && fclose(f) == 0) && ok;
    free(text);
    cJSON_Delete(p);
    return ok ? 0 : die("cannot write params.json");
}

/* ---- --mistral3 ---- */

static int copy_file(const char *from, const char *to)
{
    size_t n;
    char *text = slurp(from, &n);
    FILE *f = text ? fopen(to, "wb") : NULL;
    int ok = f && fwrite(text, 1, n, f) == n;
    ok = (f && fclose(f) == 0) && ok;
    free(text);
    return ok ? 0 : die(from);
}

static int write_mistral3_config(const char *in, const char *out)
{
    size_t n;
    char *text = slurp(in, &n);
    cJSON *text_cfg = text ? cJSON_Parse(text) : NULL;
    free(text);
    if (!text_cfg)
        return die("cannot read config.json");
    cJSON_DeleteItemFromObjectCaseSensitive(text_cfg, "architectures");
    cJSON *root = cJSON_CreateObject(), *arch = cJSON_AddArrayToObject(root, "architectures");
    cJSON_AddItemToArray(arch, cJSON_CreateString("Mistral3ForConditionalGeneration"));
    cJSON_AddStringToObject(root, "model_type", "mistral3");
    cJSON_AddItemToObject(root, "text_config", text_cfg);
    cJSON *v = cJSON_AddObjectToObject(root, "vision_config");
    cJSON_AddStringToObject(v, "model_type", "pixtral");
    cJSON_AddNumberToObject(v, "hidden_size", 8);
    cJSON_AddNumberToObject(v, "num_hidden_layers", 1);
    cJSON_AddNumberToObject(v, "patch_size", 2);
    cJSON_AddStringToObject(root, "torch_dtype", "bfloat16");
    text = cJSON_Print(root);
    cJSON_Delete(root);
    FILE *f = text ? fopen(out, "wb") : NULL;
    int ok = f && fputs(text, f) >= 0 && fputc('\n', f) != EOF;
    ok = (f && fclose(f) == 0) && ok;
    free(text);
    return ok ? 0 : die("cannot write config.json");
}

/* The vision tensors (F32, value i / 64 for element i). */
static const struct {
    const char *name;
    int n_dims;
    uint64_t shape[4];
} vision[] = {
    {"vision_tower.patch_conv.weight", 4, {8, 3, 2, 2}},
    {"vision_tower.transformer.layers.0.attention.q_proj.weight", 2, {8, 8}},
    {"multi_modal_projector.linear_1.weight", 2, {16, 8}},
    {"multi_modal_projector.norm.weight", 1, {8}},
};

static int mistral3(const char *in, const char *out)
{
    static const char *const files[] = {"tokenizer.model", "tokenizer.json", "tokenizer_config.json",
                                        "special_tokens_map.json", "generation_config.json"};
    char path[4096], to[4096];
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", in, files[i]);
        snprintf(to, sizeof to, "%s/%s", out, files[i]);
        FILE *f = fopen(path, "rb");
        if (f && fclose(f) == 0 && copy_file(path, to) != 0)
            return 2;
    }
    snprintf(path, sizeof path, "%s/config.json", in);
    snprintf(to, sizeof to, "%s/config.json", out);
    if (write_mistral3_config(path, to) != 0)
        return 2;
    ckpt_err err = {0};
    ckpt_st *st = NULL;
    ckpt_st_writer *w = NULL;
    snprintf(path, sizeof path, "%s/model.safetensors", in);
    snprintf(to, sizeof to, "%s/model.safetensors", out);
    if (ckpt_st_open(&st, path, NULL, &err) != CKPT_OK ||
        ckpt_st_writer_new(&w, to, true, &err) != CKPT_OK)
        return die(err.msg);
    size_t nt = ckpt_st_n_tensors(st), nv = sizeof vision / sizeof vision[0];
    for (size_t i = 0; i < nt; i++) {
        const struct ckpt_st_tensor *t = ckpt_st_tensor(st, i);
        char name[300];
        snprintf(name, sizeof name, "language_model.%s", t->name);
        if (ckpt_st_writer_add_tensor(w, name, t->dtype, t->n_dims, t->shape, &err) != CKPT_OK)
            return die(err.msg);
    }
    for (size_t i = 0; i < nv; i++)
        if (ckpt_st_writer_add_tensor(w, vision[i].name, CKPT_DT_F32, vision[i].n_dims,
                                      vision[i].shape, &err) != CKPT_OK)
            return die(err.msg);
    if (ckpt_st_writer_begin(w, &err) != CKPT_OK)
        return die(err.msg);
    for (size_t i = 0; i < nt; i++) {
        const struct ckpt_st_tensor *t = ckpt_st_tensor(st, i);
        if (ckpt_st_writer_write(w, t->data, (size_t)(t->end - t->begin), &err) != CKPT_OK)
            return die(err.msg);
    }
    for (size_t i = 0; i < nv; i++) {
        uint64_t n = 1;
        for (int d = 0; d < vision[i].n_dims; d++)
            n *= vision[i].shape[d];
        for (uint64_t k = 0; k < n; k++) {
            float x = (float)k / 64.0f;
            if (ckpt_st_writer_write(w, &x, sizeof x, &err) != CKPT_OK)
                return die(err.msg);
        }
    }
    if (ckpt_st_writer_finish(w, &err) != CKPT_OK)
        return die(err.msg);
    ckpt_st_close(st);
    return 0;
}

static long cfg_int(const cJSON *cfg, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(cfg, key);
    return cJSON_IsNumber(v) ? (long)v->valuedouble : 0;
}

int main(int argc, char **argv)
{
    if (argc == 4 && strcmp(argv[1], "--mistral3") == 0)
        return mistral3(argv[2], argv[3]);
    if (argc != 3)
        return die("usage: gen_mistral_layout [--mistral3] HF_DIR OUT_DIR");
    char path[4096], out[4096];
    size_t n;
    snprintf(path, sizeof path, "%s/config.json", argv[1]);
    char *text = slurp(path, &n);
    cJSON *cfg = text ? cJSON_Parse(text) : NULL;
    free(text);
    if (!cfg)
        return die("cannot read config.json");
    snprintf(out, sizeof out, "%s/params.json", argv[2]);
    if (write_params(cfg, out) != 0)
        return 2;
    long heads = cfg_int(cfg, "num_attention_heads"), kv = cfg_int(cfg, "num_key_value_heads");
    cJSON_Delete(cfg);

    /* Mistral ships Tekken tokenizers as tekken.json, SentencePiece ones as .v3 */
    snprintf(path, sizeof path, "%s/tekken.json", argv[1]);
    snprintf(out, sizeof out, "%s/tekken.json", argv[2]);
    text = slurp(path, &n);
    if (!text) {
        snprintf(path, sizeof path, "%s/tokenizer.model", argv[1]);
        snprintf(out, sizeof out, "%s/tokenizer.model.v3", argv[2]);
        text = slurp(path, &n);
    }
    FILE *f = text ? fopen(out, "wb") : NULL;
    int ok = f && fwrite(text, 1, n, f) == n;
    ok = (f && fclose(f) == 0) && ok;
    free(text);
    if (!ok)
        return die("cannot copy tokenizer.model or tekken.json");

    ckpt_err err = {0};
    ckpt_st *st = NULL;
    ckpt_st_writer *w = NULL;
    snprintf(path, sizeof path, "%s/model.safetensors", argv[1]);
    snprintf(out, sizeof out, "%s/consolidated.safetensors", argv[2]);
    if (ckpt_st_open(&st, path, NULL, &err) != CKPT_OK ||
        ckpt_st_writer_new(&w, out, true, &err) != CKPT_OK)
        return die(err.msg);
    size_t nt = ckpt_st_n_tensors(st);
    for (size_t i = 0; i < nt; i++) {
        const struct ckpt_st_tensor *t = ckpt_st_tensor(st, i);
        char name[256];
        mistral_name(t->name, name, sizeof name);
        if (ckpt_st_writer_add_tensor(w, name, t->dtype, t->n_dims, t->shape, &err) != CKPT_OK)
            return die(err.msg);
    }
    if (ckpt_st_writer_begin(w, &err) != CKPT_OK)
        return die(err.msg);
    for (size_t i = 0; i < nt; i++) {
        const struct ckpt_st_tensor *t = ckpt_st_tensor(st, i);
        size_t bytes = (size_t)(t->end - t->begin);
        long h = strstr(t->name, "q_proj.weight") ? heads : strstr(t->name, "k_proj.weight") ? kv : 0;
        if (!h) {
            if (ckpt_st_writer_write(w, t->data, bytes, &err) != CKPT_OK)
                return die(err.msg);
            continue;
        }
        /* Mistral row (head, 2j + i) is HF row (head, i * hd/2 + j) */
        long rows = (long)t->shape[0], hd = rows / h, half = hd / 2;
        size_t rb = bytes / (size_t)rows;
        for (long r = 0; r < rows; r++) {
            long head = r / hd, j = (r % hd) / 2, k = r % 2;
            long src = head * hd + k * half + j;
            if (ckpt_st_writer_write(w, t->data + (size_t)src * rb, rb, &err) != CKPT_OK)
                return die(err.msg);
        }
    }
    if (ckpt_st_writer_finish(w, &err) != CKPT_OK)
        return die(err.msg);
    ckpt_st_close(st);
    return 0;
}
