/*
 * gen_gguf_bench.c - write an F16 GGUF shaped like Mistral-7B (hidden 4096,
 * 32 heads, 8 KV heads, FFN 14336, vocab 32000) with N layers of
 * deterministic pseudo-random weights, for the quantizer benchmark.
 *
 *   gen_gguf_bench OUT.gguf [N_LAYERS [VOCAB.gguf]]   (default 1 layer)
 *
 * With VOCAB.gguf, its tokenizer.* keys are copied (a smaller vocabulary
 * fits inside the 32000 rows), so that the tools that tokenize text
 * (ckpt-verify --against, ckpt-quant --calib) can run on the model.
 * Weights are roughly normal with standard deviation 0.02 (the scale of a
 * trained model's); norms are 1.  Written row by row: memory stays small.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats/gguf.h"
#include "kernels/fp16.h"

#define H 4096
#define FF 14336
#define KV 1024
#define VOCAB 32000

struct spec {
    char name[64];
    int64_t ne[2];
};

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

/* xorshift64*, then a sum of four uniforms: close enough to normal. */
static float next_weight(void)
{
    float s = 0;
    for (int i = 0; i < 4; i++) {
        rng_state ^= rng_state >> 12;
        rng_state ^= rng_state << 25;
        rng_state ^= rng_state >> 27;
        uint64_t r = rng_state * 0x2545f4914f6cdd1dull;
        s += (float)(r >> 40) / (float)(1 << 24) - 0.5f;
    }
    return s * 0.0346f; /* 4 uniforms have variance 1/3: scale to 0.02 */
}

static int fail(const ckpt_err *err)
{
    fprintf(stderr, "gen_gguf_bench: %s\n", err->msg);
    return 2;
}

int main(int argc, char **argv)
{
    if (argc < 2 || argc > 4) {
        fprintf(stderr, "usage: gen_gguf_bench OUT.gguf [N_LAYERS [VOCAB.gguf]]\n");
        return 2;
    }
    int layers = argc >= 3 ? atoi(argv[2]) : 1;
    if (layers < 1 || layers > 64) {
        fprintf(stderr, "gen_gguf_bench: layers must be 1..64\n");
        return 2;
    }
    struct spec *t = calloc((size_t)(3 + 9 * layers), sizeof *t);
    int n = 0;
    t[n++] = (struct spec){"token_embd.weight", {H, VOCAB}};
    t[n++] = (struct spec){"output_norm.weight", {H, 1}};
    t[n++] = (struct spec){"output.weight", {H, VOCAB}};
    static const struct {
        const char *stem;
        int64_t ne0, ne1;
    } layer[] = {{"attn_norm", H, 1},  {"attn_q", H, H},     {"attn_k", H, KV},
                 {"attn_v", H, KV},    {"attn_output", H, H}, {"ffn_norm", H, 1},
                 {"ffn_gate", H, FF},  {"ffn_up", H, FF},     {"ffn_down", FF, H}};
    for (int l = 0; l < layers; l++)
        for (int k = 0; k < 9; k++, n++) {
            snprintf(t[n].name, sizeof t[n].name, "blk.%d.%s.weight", l, layer[k].stem);
            t[n].ne[0] = layer[k].ne0;
            t[n].ne[1] = layer[k].ne1;
        }

    ckpt_err err = {0};
    ckpt_gguf_writer *w = NULL;
    if (ckpt_gguf_writer_new(&w, argv[1], true, &err) != CKPT_OK)
        return fail(&err);
    if (ckpt_gguf_writer_set_str(w, "general.architecture", "llama", &err) ||
        ckpt_gguf_writer_set_str(w, "general.name", "bench-7b-shape", &err) ||
        ckpt_gguf_writer_set_u32(w, "llama.block_count", (uint32_t)layers, &err) ||
        ckpt_gguf_writer_set_u32(w, "llama.context_length", 32768, &err) ||
        ckpt_gguf_writer_set_u32(w, "llama.embedding_length", H, &err) ||
        ckpt_gguf_writer_set_u32(w, "llama.feed_forward_length", FF, &err) ||
        ckpt_gguf_writer_set_u32(w, "llama.attention.head_count", 32, &err) ||
        ckpt_gguf_writer_set_u32(w, "llama.attention.head_count_kv", 8, &err) ||
        ckpt_gguf_writer_set_f32(w, "llama.attention.layer_norm_rms_epsilon", 1e-5f, &err) ||
        ckpt_gguf_writer_set_u32(w, "general.file_type", 1, &err))
        return fail(&err);
    ckpt_gguf *v = NULL; /* the vocabulary's file, open until the header is written */
    if (argc == 4) {
        if (ckpt_gguf_open(&v, argv[3], &err) != CKPT_OK)
            return fail(&err);
        for (size_t i = 0; i < ckpt_gguf_n_kv(v); i++) {
            const struct ckpt_gguf_kv *kv = ckpt_gguf_kv_at(v, i);
            if (strncmp(kv->key, "tokenizer.", 10) == 0 &&
                ckpt_gguf_writer_copy_kv(w, kv, &err) != CKPT_OK)
                return fail(&err);
        }
    }
    for (int i = 0; i < n; i++) {
        bool norm = t[i].ne[1] == 1;
        if (ckpt_gguf_writer_add_tensor(w, t[i].name, norm ? CKPT_TYPE_F32 : CKPT_TYPE_F16,
                                        norm ? 1 : 2, t[i].ne, &err) != CKPT_OK)
            return fail(&err);
    }
    if (ckpt_gguf_writer_begin(w, &err) != CKPT_OK)
        return fail(&err);
    uint16_t *row = malloc(FF * sizeof *row);
    for (int i = 0; i < n; i++) {
        if (t[i].ne[1] == 1) {
            float one[H];
            for (int j = 0; j < H; j++)
                one[j] = 1.0f;
            if (ckpt_gguf_writer_write(w, one, sizeof one, &err) != CKPT_OK)
                return fail(&err);
            continue;
        }
        for (int64_t r = 0; r < t[i].ne[1]; r++) {
            for (int64_t j = 0; j < t[i].ne[0]; j++)
                row[j] = ckpt_f32_to_f16(next_weight());
            if (ckpt_gguf_writer_write(w, row, (size_t)t[i].ne[0] * 2, &err) != CKPT_OK)
                return fail(&err);
        }
    }
    free(row);
    free(t);
    if (ckpt_gguf_writer_finish(w, &err) != CKPT_OK)
        return fail(&err);
    ckpt_gguf_close(v);
    return 0;
}
