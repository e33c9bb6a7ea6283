/*
 * gen_fixtures.c - write a tiny Hugging Face model directory with random
 * weights (fixed-seed PRNG, so the bytes are the same on every run).
 *
 *   gen_fixtures [--arch mistral|mixtral] [--dtype bf16|f16|f32] [--shards N]
 *                [--no-index] [--tied] [--seed S]
 *                [--hidden H --layers L --heads A --kv-heads K --ffn F --vocab V
 *                 --experts E --top-k T] [--sliding-window W|null] OUTDIR
 *
 * Writes config.json and generation_config.json with the transformers field
 * names, and the weights with the exact HF tensor names and shapes, as
 * model.safetensors or as N shards model-0000i-of-0000N.safetensors plus
 * model.safetensors.index.json (left out with --no-index).  No tokenizer.
 * Tensors are generated and streamed in chunks, so a 7B-shaped fixture
 * needs a few MB of memory however large the files are.
 *
 * --fp8 stores the linear weights (attention, FFN, experts; not the
 * embedding, lm_head, router or norms) as F8_E4M3 with a scale tensor per
 * weight: X.weight_scale scalar (tensor), X.weight_scale [out, 1] BF16
 * (row), or X.weight_scale_inv [ceil(out/128), ceil(in/128)] (block), and a
 * quantization_config in config.json.  --fp8-dequant writes the same model
 * with those weights as F32 holding exactly f32(fp8) * scale, the values a
 * reader must dequantize to.  --fp8-format e5m2 stores F8_E5M2 codes
 * instead of F8_E4M3 (the default, e4m3).  Exit 0 / 2.
 */
#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "formats/safetensors.h"
#include "kernels/fp16.h"

#define CHUNK 65536

enum { FP8_NONE, FP8_TENSOR, FP8_ROW, FP8_BLOCK };

struct opts {
    bool mixtral, tied, no_index, fp8_dequant, e5m2;
    int fp8;
    ckpt_dtype dtype;
    unsigned long shards, hidden, layers, heads, kv_heads, ffn, vocab, experts, top_k;
    long sliding_window; /* -1: null */
    unsigned long long seed;
};

struct gt {
    char name[176];
    int n_dims;
    uint64_t shape[2];
    bool norm;      /* ones + noise instead of small weights */
    int shard;
    int fp8;        /* 1: FP8 weight; 2: the scale tensor of the weight before it */
    ckpt_dtype dtype;
    uint64_t w_shape[2]; /* scale tensors: the weight's [out, in] */
    double w_range;      /* weight values lie in (-w_range, w_range) */
    size_t seq;          /* index among the non-scale tensors: seeds the values */
};

static uint64_t splitmix64(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* Uniform in [-1, 1). */
static float unit(uint64_t *s) { return (float)((splitmix64(s) >> 40) * 0x1p-23) - 1.0f; }

static int usage(const char *msg)
{
    if (msg)
        fprintf(stderr, "gen_fixtures: %s\n", msg);
    fprintf(stderr, "usage: gen_fixtures [--arch mistral|mixtral] [--dtype bf16|f16|f32] "
                    "[--shards N] [--no-index] [--tied] [--seed S] [--hidden H] [--layers L] "
                    "[--heads A] [--kv-heads K] [--ffn F] [--vocab V] [--experts E] [--top-k T] "
                    "[--sliding-window W|null] [--fp8 tensor|row|block [--fp8-dequant] "
                    "[--fp8-format e4m3|e5m2]] "
                    "OUTDIR\n");
    return 2;
}

static bool num(const char *s, unsigned long *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || *end || s[0] == '-' || v == 0 || v > (1ull << 30))
        return false;
    *out = (unsigned long)v;
    return true;
}

static struct gt *add(struct gt *t, size_t *n, const char *name, int nd, uint64_t d0, uint64_t d1,
                      bool norm)
{
    struct gt *g = &t[(*n)++];
    snprintf(g->name, sizeof g->name, "%s", name);
    g->n_dims = nd;
    g->shape[0] = d0;
    g->shape[1] = d1;
    g->norm = norm;
    return g;
}

/* A linear weight: FP8 with its scale tensor next to it when asked. */
static void add_linear(struct gt *t, size_t *n, const struct opts *o, const char *name,
                       uint64_t out, uint64_t in)
{
    struct gt *w = add(t, n, name, 2, out, in, false);
    if (o->fp8 == FP8_NONE)
        return;
    w->fp8 = 1;
    w->dtype = o->fp8_dequant ? CKPT_DT_F32 : o->e5m2 ? CKPT_DT_F8_E5M2 : CKPT_DT_F8_E4M3;
    w->w_range = 1.0 / sqrt((double)in);
    if (o->fp8_dequant)
        return;
    char sn[160];
    snprintf(sn, sizeof sn, "%s%s", name, o->fp8 == FP8_BLOCK ? "_scale_inv" : "_scale");
    struct gt *s = o->fp8 == FP8_TENSOR ? add(t, n, sn, 0, 1, 0, false)
                   : o->fp8 == FP8_ROW  ? add(t, n, sn, 2, out, 1, false)
                                        : add(t, n, sn, 2, (out + 127) / 128, (in + 127) / 128,
                                              false);
    s->fp8 = 2;
    s->dtype = o->fp8 == FP8_ROW ? CKPT_DT_BF16 : CKPT_DT_F32;
    s->w_shape[0] = out;
    s->w_shape[1] = in;
    s->w_range = w->w_range;
}

/* The HF tensor list, in the order transformers builds the modules. */
static struct gt *tensor_list(const struct opts *o, size_t *count)
{
    size_t per = o->mixtral ? 7 + 3 * o->experts : 9;
    struct gt *t = calloc(3 + o->layers * per * 2, sizeof *t);
    if (!t)
        return NULL;
    size_t n = 0;
    uint64_t h = o->hidden, hd = o->hidden / o->heads, q = o->heads * hd, kv = o->kv_heads * hd;
    char nm[128];
    add(t, &n, "model.embed_tokens.weight", 2, o->vocab, h, false);
    for (unsigned long l = 0; l < o->layers; l++) {
#define L(s) (snprintf(nm, sizeof nm, "model.layers.%lu.%s", l, s), nm)
        add_linear(t, &n, o, L("self_attn.q_proj.weight"), q, h);
        add_linear(t, &n, o, L("self_attn.k_proj.weight"), kv, h);
        add_linear(t, &n, o, L("self_attn.v_proj.weight"), kv, h);
        add_linear(t, &n, o, L("self_attn.o_proj.weight"), h, q);
        if (!o->mixtral) {
            add_linear(t, &n, o, L("mlp.gate_proj.weight"), o->ffn, h);
            add_linear(t, &n, o, L("mlp.up_proj.weight"), o->ffn, h);
            add_linear(t, &n, o, L("mlp.down_proj.weight"), h, o->ffn);
        } else {
            add(t, &n, L("block_sparse_moe.gate.weight"), 2, o->experts, h, false);
            for (unsigned long e = 0; e < o->experts; e++) {
                char ex[64];
                snprintf(ex, sizeof ex, "block_sparse_moe.experts.%lu.w1.weight", e);
                add_linear(t, &n, o, L(ex), o->ffn, h);
                snprintf(ex, sizeof ex, "block_sparse_moe.experts.%lu.w2.weight", e);
                add_linear(t, &n, o, L(ex), h, o->ffn);
                snprintf(ex, sizeof ex, "block_sparse_moe.experts.%lu.w3.weight", e);
                add_linear(t, &n, o, L(ex), o->ffn, h);
            }
        }
        add(t, &n, L("input_layernorm.weight"), 1, h, 0, true);
        add(t, &n, L("post_attention_layernorm.weight"), 1, h, 0, true);
#undef L
    }
    add(t, &n, "model.norm.weight", 1, h, 0, true);
    if (!o->tied)
        add(t, &n, "lm_head.weight", 2, o->vocab, h, false);
    for (size_t i = 0, seq = 0; i < n; i++) {
        if (!t[i].fp8)
            t[i].dtype = o->dtype;
        t[i].seq = t[i].fp8 == 2 ? seq - 1 : seq++;
    }
    *count = n;
    return t;
}

static uint64_t elems(const struct gt *t)
{
    return t->shape[0] * (t->n_dims > 1 ? t->shape[1] : 1);
}

/* The FP8 scale of weight element (r, c): the range / 448 times a factor in
 * [1, 2) that varies by tensor, row or 128 x 128 block, rounded to bf16 so
 * that F32 and BF16 scale tensors hold the same value. */
static float fp8_scale(const struct opts *o, double range, uint64_t r, uint64_t c)
{
    uint64_t k = o->fp8 == FP8_ROW     ? r % 7
                 : o->fp8 == FP8_BLOCK ? ((r / 128) * 3 + c / 128) % 5
                                       : 2;
    return ckpt_bf16_to_f32(ckpt_f32_to_bf16((float)(range / 448.0 * (1.0 + (double)k / 8.0))));
}

static float fp8_decode(bool e5m2, uint8_t c)
{
    return e5m2 ? ckpt_f8_e5m2_to_f32(c) : ckpt_f8_e4m3_to_f32(c);
}

/* f32 -> F8_E4M3 (fn) or F8_E5M2: the nearest code, ties to the even code,
 * saturating at the largest finite value (+-448, +-57344). */
static uint8_t to_fp8(float x, bool e5m2)
{
    /* codes 0..top: the non-negative finite values, increasing */
    static float val[2][0x7f];
    const int top = e5m2 ? 0x7b : 0x7e;
    float *v = val[e5m2];
    if (v[1] == 0)
        for (int c = 0; c <= top; c++)
            v[c] = fp8_decode(e5m2, (uint8_t)c);
    uint8_t sign = signbit(x) ? 0x80 : 0;
    float a = fabsf(x);
    if (isnan(a))
        return 0x7f;
    int lo = 0, hi = top; /* the last code <= a, by bisection */
    if (a >= v[hi])
        return sign | (uint8_t)top;
    while (hi - lo > 1) {
        int mid = (lo + hi) / 2;
        if (v[mid] <= a)
            lo = mid;
        else
            hi = mid;
    }
    float dl = a - v[lo], dh = v[hi] - a;
    return sign | (uint8_t)(dl < dh || (dl == dh && !(lo & 1)) ? lo : hi);
}

/* Stream one tensor's values, generated from (seed, tensor index). */
static ckpt_status write_tensor(ckpt_st_writer *w, const struct opts *o, const struct gt *t,
                                size_t index, uint8_t *buf, ckpt_err *err)
{
    uint64_t s = o->seed * 0x100000001B3ull + t->seq;
    uint64_t n = elems(t);
    /* weights ~ U(-1,1)/sqrt(fan_in): activations stay O(1) through the layers */
    float scale = t->norm ? 0.1f : 1.0f / sqrtf((float)(t->n_dims > 1 ? t->shape[1] : 1));
    size_t esz = ckpt_dtype_bits(t->dtype) / 8;
    for (uint64_t done = 0; done < n;) {
        size_t k = n - done < CHUNK ? (size_t)(n - done) : CHUNK;
        for (size_t i = 0; i < k; i++) {
            float v = unit(&s) * scale + (t->norm ? 1.0f : 0.0f);
            uint8_t *p = buf + i * esz;
            uint64_t idx = done + i;
            if (t->fp8 == 1) { /* FP8 weight, or its exact dequantized value */
                uint64_t r = idx / t->shape[1], c = idx % t->shape[1];
                float sc = fp8_scale(o, t->w_range, r, c);
                uint8_t q = to_fp8(v / sc, o->e5m2);
                v = fp8_decode(o->e5m2, q) * sc;
                if (t->dtype != CKPT_DT_F32)
                    *p = q;
                else
                    memcpy(p, &v, 4);
                continue;
            }
            if (t->fp8 == 2) { /* a scale: element idx of the scale tensor */
                uint64_t r = 0, c = 0;
                if (o->fp8 == FP8_ROW)
                    r = idx;
                else if (o->fp8 == FP8_BLOCK)
                    r = idx / t->shape[1] * 128, c = idx % t->shape[1] * 128;
                v = fp8_scale(o, t->w_range, r, c);
            }
            if (t->dtype == CKPT_DT_F32) {
                memcpy(p, &v, 4);
            } else {
                uint16_t h = t->dtype == CKPT_DT_BF16 ? ckpt_f32_to_bf16(v) : ckpt_f32_to_f16(v);
                memcpy(p, &h, 2);
            }
        }
        ckpt_status st = ckpt_st_writer_write(w, buf, k * esz, err);
        if (st != CKPT_OK)
            return st;
        done += k;
    }
    return CKPT_OK;
}

static void shard_file(char *buf, size_t n, int i, unsigned long total)
{
    if (total == 1)
        snprintf(buf, n, "model.safetensors");
    else
        snprintf(buf, n, "model-%05d-of-%05lu.safetensors", i + 1, total);
}

/* Tensors go to shards by cumulative bytes, in order; never an empty shard. */
static void assign_shards(struct gt *t, size_t n, const struct opts *o)
{
    uint64_t total = 0, before = 0;
    for (size_t i = 0; i < n; i++)
        total += elems(&t[i]);
    for (size_t i = 0; i < n; i++) {
        t[i].shard = (int)((double)before / (double)total * (double)o->shards);
        if (t[i].shard >= (int)o->shards)
            t[i].shard = (int)o->shards - 1;
        before += elems(&t[i]);
    }
    for (unsigned long s = 0; s < o->shards; s++) {
        bool used = false;
        for (size_t i = 0; i < n; i++)
            used |= t[i].shard == (int)s;
        if (!used) { /* a tensor larger than a share: split by count instead */
            for (size_t i = 0; i < n; i++)
                t[i].shard = (int)(i * o->shards / n);
            return;
        }
    }
}

static int write_json_files(const char *dir, const struct opts *o, const struct gt *t, size_t n)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/config.json", dir);
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    const char *dt = o->dtype == CKPT_DT_BF16 ? "bfloat16"
                     : o->dtype == CKPT_DT_F16 ? "float16"
                                               : "float32";
    fprintf(f, "{\n  \"architectures\": [\n    \"%s\"\n  ],\n", o->mixtral ? "MixtralForCausalLM"
                                                                         : "MistralForCausalLM");
    fprintf(f, "  \"attention_dropout\": 0.0,\n  \"bos_token_id\": 1,\n  \"eos_token_id\": 2,\n");
    fprintf(f, "  \"head_dim\": %lu,\n  \"hidden_act\": \"silu\",\n  \"hidden_size\": %lu,\n",
            o->hidden / o->heads, o->hidden);
    fprintf(f, "  \"initializer_range\": 0.02,\n  \"intermediate_size\": %lu,\n", o->ffn);
    fprintf(f, "  \"max_position_embeddings\": 2048,\n  \"model_type\": \"%s\",\n",
            o->mixtral ? "mixtral" : "mistral");
    fprintf(f, "  \"num_attention_heads\": %lu,\n", o->heads);
    if (o->mixtral)
        fprintf(f, "  \"num_experts_per_tok\": %lu,\n", o->top_k);
    fprintf(f, "  \"num_hidden_layers\": %lu,\n  \"num_key_value_heads\": %lu,\n", o->layers,
            o->kv_heads);
    if (o->mixtral)
        fprintf(f, "  \"num_local_experts\": %lu,\n", o->experts);
    fprintf(f, "  \"rms_norm_eps\": 1e-05,\n  \"rope_theta\": %s,\n",
            o->mixtral ? "1000000.0" : "10000.0");
    if (o->sliding_window < 0)
        fprintf(f, "  \"sliding_window\": null,\n");
    else
        fprintf(f, "  \"sliding_window\": %ld,\n", o->sliding_window);
    fprintf(f, "  \"tie_word_embeddings\": %s,\n  \"torch_dtype\": \"%s\",\n",
            o->tied ? "true" : "false", dt);
    if (o->fp8 != FP8_NONE && !o->fp8_dequant)
        fprintf(f, "  \"quantization_config\": {\n    \"quant_method\": \"%s\"%s\n  },\n",
                o->fp8 == FP8_BLOCK ? "fp8"
                : o->fp8 == FP8_ROW ? "fbgemm_fp8"
                                    : "compressed-tensors",
                o->fp8 == FP8_BLOCK ? ",\n    \"weight_block_size\": [128, 128]" : "");
    fprintf(f, "  \"transformers_version\": \"4.46.3\",\n  \"use_cache\": true,\n");
    fprintf(f, "  \"vocab_size\": %lu\n}\n", o->vocab);
    if (fclose(f) != 0)
        return -1;

    snprintf(path, sizeof path, "%s/generation_config.json", dir);
    if (!(f = fopen(path, "w")))
        return -1;
    fprintf(f, "{\n  \"_from_model_config\": true,\n  \"bos_token_id\": 1,\n  \"eos_token_id\": 2,"
               "\n  \"transformers_version\": \"4.46.3\"\n}\n");
    if (fclose(f) != 0)
        return -1;

    if (o->shards == 1 || o->no_index)
        return 0;
    snprintf(path, sizeof path, "%s/model.safetensors.index.json", dir);
    if (!(f = fopen(path, "w")))
        return -1;
    uint64_t total = 0;
    for (size_t i = 0; i < n; i++)
        total += elems(&t[i]) * (ckpt_dtype_bits(t[i].dtype) / 8);
    fprintf(f, "{\n  \"metadata\": {\n    \"total_size\": %llu\n  },\n  \"weight_map\": {",
            (unsigned long long)total);
    for (size_t i = 0; i < n; i++) {
        char sf[64];
        shard_file(sf, sizeof sf, t[i].shard, o->shards);
        fprintf(f, "%s\n    \"%s\": \"%s\"", i ? "," : "", t[i].name, sf);
    }
    fprintf(f, "\n  }\n}\n");
    return fclose(f) == 0 ? 0 : -1;
}

static int parse_args(int argc, char **argv, struct opts *o, const char **dir)
{
    *o = (struct opts){.dtype = CKPT_DT_BF16, .shards = 1, .hidden = 64, .layers = 2, .heads = 4,
                       .kv_heads = 2, .ffn = 128, .vocab = 256, .experts = 4, .top_k = 2,
                       .sliding_window = -2, .seed = 1};
    *dir = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        unsigned long *target = NULL;
        if (strcmp(a, "--tied") == 0) {
            o->tied = true;
            continue;
        }
        if (strcmp(a, "--fp8-dequant") == 0) {
            o->fp8_dequant = true;
            continue;
        }
        if (strcmp(a, "--no-index") == 0) {
            o->no_index = true;
            continue;
        }
        if (a[0] != '-' || strcmp(a, "-") == 0) {
            if (*dir)
                return usage("more than one OUTDIR");
            *dir = a;
            continue;
        }
        if (!v)
            return usage("option needs a value");
        i++;
        if (strcmp(a, "--arch") == 0) {
            if (strcmp(v, "mistral") != 0 && strcmp(v, "mixtral") != 0)
                return usage("--arch is mistral or mixtral");
            o->mixtral = strcmp(v, "mixtral") == 0;
        } else if (strcmp(a, "--dtype") == 0) {
            if (strcmp(v, "bf16") == 0)
                o->dtype = CKPT_DT_BF16;
            else if (strcmp(v, "f16") == 0)
                o->dtype = CKPT_DT_F16;
            else if (strcmp(v, "f32") == 0)
                o->dtype = CKPT_DT_F32;
            else
                return usage("--dtype is bf16, f16 or f32");
        } else if (strcmp(a, "--fp8") == 0) {
            if (strcmp(v, "tensor") == 0)
                o->fp8 = FP8_TENSOR;
            else if (strcmp(v, "row") == 0)
                o->fp8 = FP8_ROW;
            else if (strcmp(v, "block") == 0)
                o->fp8 = FP8_BLOCK;
            else
                return usage("--fp8 is tensor, row or block");
        } else if (strcmp(a, "--fp8-format") == 0) {
            if (strcmp(v, "e4m3") != 0 && strcmp(v, "e5m2") != 0)
                return usage("--fp8-format is e4m3 or e5m2");
            o->e5m2 = strcmp(v, "e5m2") == 0;
        } else if (strcmp(a, "--sliding-window") == 0) {
            unsigned long w;
            if (strcmp(v, "null") == 0)
                o->sliding_window = -1;
            else if (num(v, &w))
                o->sliding_window = (long)w;
            else
                return usage("--sliding-window is a positive number or null");
        } else if (strcmp(a, "--seed") == 0) {
            unsigned long s;
            if (!num(v, &s))
                return usage("--seed is a positive number");
            o->seed = s;
        } else {
            static const struct {
                const char *flag;
                size_t off;
            } nums[] = {
                {"--shards", offsetof(struct opts, shards)},
                {"--hidden", offsetof(struct opts, hidden)},
                {"--layers", offsetof(struct opts, layers)},
                {"--heads", offsetof(struct opts, heads)},
                {"--kv-heads", offsetof(struct opts, kv_heads)},
                {"--ffn", offsetof(struct opts, ffn)},
                {"--vocab", offsetof(struct opts, vocab)},
                {"--experts", offsetof(struct opts, experts)},
                {"--top-k", offsetof(struct opts, top_k)},
            };
            for (size_t k = 0; k < sizeof nums / sizeof nums[0]; k++)
                if (strcmp(a, nums[k].flag) == 0)
                    target = (unsigned long *)((char *)o + nums[k].off);
            if (!target)
                return usage("unknown option");
            if (!num(v, target))
                return usage("sizes are positive numbers");
        }
    }
    if (!*dir)
        return usage("no OUTDIR");
    if (o->sliding_window == -2)
        o->sliding_window = o->mixtral ? -1 : 4096;
    if (o->hidden % o->heads || o->heads % o->kv_heads || (o->hidden / o->heads) % 2)
        return usage("heads must divide hidden (into an even head size), kv-heads divide heads");
    if (o->fp8_dequant && o->fp8 == FP8_NONE)
        return usage("--fp8-dequant needs --fp8");
    if (o->mixtral && o->top_k > o->experts)
        return usage("top-k is at most experts");
    return 0;
}

int main(int argc, char **argv)
{
    struct opts o;
    const char *dir;
    if (parse_args(argc, argv, &o, &dir) != 0)
        return 2;
    if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
        fprintf(stderr, "gen_fixtures: %s: %s\n", dir, strerror(errno));
        return 2;
    }
    size_t n;
    struct gt *t = tensor_list(&o, &n);
    uint8_t *buf = malloc(CHUNK * 4);
    if (!t || !buf) {
        fprintf(stderr, "gen_fixtures: out of memory\n");
        return 2;
    }
    if (o.shards > n) {
        free(t);
        free(buf);
        return usage("more shards than tensors");
    }
    assign_shards(t, n, &o);
    ckpt_err err;
    ckpt_err_clear(&err);
    ckpt_status s = CKPT_OK;
    for (unsigned long sh = 0; sh < o.shards && s == CKPT_OK; sh++) {
        char path[4096], sf[64];
        shard_file(sf, sizeof sf, (int)sh, o.shards);
        snprintf(path, sizeof path, "%s/%s", dir, sf);
        ckpt_st_writer *w = NULL;
        s = ckpt_st_writer_new(&w, path, true, &err);
        if (s == CKPT_OK)
            s = ckpt_st_writer_add_metadata(w, "format", "pt", &err);
        for (size_t i = 0; i < n && s == CKPT_OK; i++)
            if (t[i].shard == (int)sh)
                s = ckpt_st_writer_add_tensor(w, t[i].name, t[i].dtype, t[i].n_dims, t[i].shape,
                                              &err);
        if (s == CKPT_OK)
            s = ckpt_st_writer_begin(w, &err);
        for (size_t i = 0; i < n && s == CKPT_OK; i++)
            if (t[i].shard == (int)sh)
                s = write_tensor(w, &o, &t[i], i, buf, &err);
        if (s == CKPT_OK)
            s = ckpt_st_writer_finish(w, &err);
        else
            ckpt_st_writer_free(w);
    }
    if (s == CKPT_OK && write_json_files(dir, &o, t, n) != 0) {
        fprintf(stderr, "gen_fixtures: %s: cannot write the JSON files: %s\n", dir,
                strerror(errno));
        s = CKPT_E_IO;
    } else if (s != CKPT_OK) {
        fprintf(stderr, "gen_fixtures: %s\n", err.msg);
    }
    free(t);
    free(buf);
    return s == CKPT_OK ? 0 : 2;
}
