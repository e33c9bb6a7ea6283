/*
 * gen_gguf_bench.c - write an F16 GGUF shaped like Mistral-7B (hidden 4096,
 * 32 heads, 8 KV heads, FFN 14336, vocab 32000) with N layers of
 * deterministic pseudo-random weights, for the quantizer benchmark.
 *
 *   gen_gguf_bench OUT.gguf [N_LAYERS]      (default 1 layer)
 * Weights are roughly normal with standard deviation 0.02 (the scale of a
 * trained model's); norms are 1.  Written row by row: memory stays small.
 *
 * The vocabulary is a made-up SentencePiece one of the same 32000 tokens
 * (<unk>, <s>, </s>, the 256 byte tokens, every printable ASCII character
 * with and without the word marker, then filler words), so that tools
 * that tokenize text (ckpt-verify --against, ckpt-quant --calib) and
 * llama.cpp itself (make bench) run on the model.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arch/gguf_keys.h"
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

/* The SentencePiece vocabulary described above, written as llama.cpp's
 * converter writes one (model "llama"). */
static ckpt_status write_vocab(ckpt_gguf_writer *w, ckpt_err *err)
{
    enum { NORMAL = 1, UNKNOWN = 2, CONTROL = 3, BYTE = 6 };
    char **tok = calloc(VOCAB, sizeof *tok);
    float *score = calloc(VOCAB, sizeof *score);
    int32_t *type = calloc(VOCAB, sizeof *type);
    ckpt_status st = CKPT_E_NOMEM;
    if (!tok || !score || !type)
        goto out;
    int n = 0;
    const char *special[] = {"<unk>", "<s>", "</s>"};
    for (int i = 0; i < 3; i++, n++) {
        tok[n] = strdup(special[i]);
        type[n] = i ? CONTROL : UNKNOWN;
    }
    for (int b = 0; b < 256; b++, n++) {
        tok[n] = malloc(8);
        if (tok[n])
            snprintf(tok[n], 8, "<0x%02X>", b);
        type[n] = BYTE;
    }
    for (int c = 33; c < 127; c++)
        for (int marked = 0; marked < 2; marked++, n++) {
            tok[n] = malloc(8);
            if (tok[n])
                snprintf(tok[n], 8, "%s%c", marked ? "\xe2\x96\x81" : "", c);
            type[n] = NORMAL;
            score[n] = -(float)n;
        }
    for (int k = 0; n < VOCAB; k++, n++) {
        tok[n] = malloc(16);
        if (tok[n])
            snprintf(tok[n], 16, "\xe2\x96\x81w%05d", k);
        type[n] = NORMAL;
        score[n] = -(float)n;
    }
    for (int i = 0; i < VOCAB; i++)
        if (!tok[i])
            goto out;
    if ((st = ckpt_gguf_writer_set_str(w, CKPT_KEY_TOK_MODEL, "llama", err)) ||
        (st = ckpt_gguf_writer_set_str_array(w, CKPT_KEY_TOK_TOKENS, (const char *const *)tok,
                                              NULL, VOCAB, err)) ||
        (st = ckpt_gguf_writer_set_array(w, CKPT_KEY_TOK_SCORES, CKPT_GGUF_FLOAT32, score, VOCAB,
                                          err)) ||
        (st = ckpt_gguf_writer_set_array(w, CKPT_KEY_TOK_TYPES, CKPT_GGUF_INT32, type, VOCAB,
                                          err)) ||
        (st = ckpt_gguf_writer_set_u32(w, CKPT_KEY_TOK_BOS_ID, 1, err)) ||
        (st = ckpt_gguf_writer_set_u32(w, CKPT_KEY_TOK_EOS_ID, 2, err)) ||
        (st = ckpt_gguf_writer_set_u32(w, CKPT_KEY_TOK_UNK_ID, 0, err)) ||
        (st = ckpt_gguf_writer_set_bool(w, CKPT_KEY_TOK_ADD_BOS, true, err)))
        goto out;
    st = CKPT_OK;
out:
    if (st == CKPT_E_NOMEM && err && !err->msg[0])
        ckpt_err_set(err, CKPT_E_NOMEM, "out of memory");
    for (int i = 0; tok && i < VOCAB; i++)
        free(tok[i]);
    free(tok);
    free(score);
    free(type);
    return st;
}

static int fail(const ckpt_err *err)
{
    fprintf(stderr, "gen_gguf_bench: %s\n", err->msg);
    return 2;
}

int main(int argc, char **argv)
{
    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: gen_gguf_bench OUT.gguf [N_LAYERS]\n");
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
        ckpt_gguf_writer_set_u32(w, "general.file_type", 1, &err) || write_vocab(w, &err))
        return fail(&err);
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
    return 0;
}
