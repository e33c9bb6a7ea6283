/*
 * gen_fixtures.c - write a tiny Hugging Face model directory with random
 * weights (fixed-seed PRNG, so the bytes are the same on every run).
 *
 *   gen_fixtures [--arch mistral|mixtral] [--dtype bf16|f16|f32|f8] [--shards N]
 *                [--f8-scale block|tensor] [--no-index] [--tied] [--seed S]
 *                [--hidden H --layers L --heads A --kv-heads K --ffn F --vocab V
 *                 --experts E --top-k T] [--sliding-window W|null] OUTDIR
 *
 * Writes config.json and generation_config.json with the transformers field
 * names, and the weights with the exact HF tensor names and shapes, as
 * model.safetensors or as N shards model-0000i-of-0000N.safetensors plus
 * model.safetensors.index.json (left out with --no-index).  No tokenizer.
 * --dtype f8 writes the projection matrices as F8_E4M3 codes (random, NaN
 * codes excluded) with F32 scales, as FP8 checkpoints do: block scales
 * NAME.weight_scale_inv [ceil(out/128), ceil(in/128)] (w = q * s of the
 * block, quantization_config.weight_block_size [128, 128]) or, with
 * --f8-scale tensor, one NAME.weight_scale of shape [] (w = q * s); the
 * embeddings, lm_head, router and norms stay BF16.
 * Tensors are generated and streamed in chunks, so a 7B-shaped fixture
 * needs a few MB of memory however large the files are.  Exit 0 / 2.
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

struct opts {
    bool mixtral, tied, no_index, f8, f8_tensor;
    ckpt_dtype dtype;
    unsigned long shards, hidden, layers, heads, kv_heads, ffn, vocab, experts, top_k;
    long sliding_window; /* -1: null */
    unsigned long long seed;
};

struct gt {
    char name[128];
    int n_dims;
    uint64_t shape[2];
    bool norm;      /* ones + noise instead of small weights */
    int shard;
    ckpt_dtype dtype;
    int f8;         /* 1: F8 codes, 2: their scales */
    uint64_t fan_in; /* of the weight (for scales) */
};

#define F8_BLOCK 128

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
    fprintf(stderr, "usage: gen_fixtures [--arch mistral|mixtral] [--dtype bf16|f16|f32|f8] "
                    "[--f8-scale block|tensor] [--shards N] [--no-index] [--tied] [--seed S] [--hidden H] [--layers L] "
                    "[--heads A] [--kv-heads K] [--ffn F] [--vocab V] [--experts E] [--top-k T] "
                    "[--sliding-window W|null] OUTDIR\n");
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

static void add(struct gt *t, size_t *n, const char *name, int nd, uint64_t d0, uint64_t d1,
                bool norm)
{
    struct gt *g = &t[(*n)++];
    snprintf(g->name, sizeof g->name, "%s", name);
    g->n_dims = nd;
    g->shape[0] = d0;
    g->shape[1] = d1;
    g->norm = norm;
    g->dtype = CKPT_DT_COUNT; /* set by set_dtypes */
}

/* Tensor dtypes; with f8, each projection matrix gets its scale tensor after it. */
static struct gt *set_dtypes(const struct opts *o, struct gt *t, size_t *n)
{
    if (!o->f8) {
        for (size_t i = 0; i < *n; i++)
            t[i].dtype = o->dtype;
        return t;
    }
    struct gt *r = calloc(2 * *n, sizeof *r);
    if (!r) {
        free(t);
        return NULL;
    }
    size_t k = 0;
    for (size_t i = 0; i < *n; i++) {
        r[k] = t[i];
        r[k].dtype = CKPT_DT_BF16;
        bool proj = t[i].n_dims == 2 && strstr(t[i].name, "layers.") &&
                    !strstr(t[i].name, "block_sparse_moe.gate.");
        if (!proj) {
            k++;
            continue;
        }
        r[k].dtype = CKPT_DT_F8_E4M3;
        r[k].f8 = 1;
        struct gt *s = &r[k + 1];
        *s = t[i];
        size_t base = strlen(t[i].name) - strlen("weight");
        snprintf(s->name, sizeof s->name, "%.*s%s", (int)base, t[i].name,
                 o->f8_tensor ? "weight_scale" : "weight_scale_inv");
        s->dtype = CKPT_DT_F32;
        s->f8 = 2;
        s->fan_in = t[i].shape[1];
        if (o->f8_tensor) {
            s->n_dims = 0;
        } else {
            s->shape[0] = (t[i].shape[0] + F8_BLOCK - 1) / F8_BLOCK;
            s->shape[1] = (t[i].shape[1] + F8_BLOCK - 1) / F8_BLOCK;
        }
        k += 2;
    }
    free(t);
    *n = k;
    return r;
}

/* The HF tensor list, in the order transformers builds the modules. */
static struct gt *tensor_list(const struct opts *o, size_t *count)
{
    size_t per = o->mixtral ? 7 + 3 * o->experts : 9;
    struct gt *t = calloc(3 + o->layers * per, sizeof *t);
    if (!t)
        return NULL;
    size_t n = 0;
    uint64_t h = o->hidden, hd = o->hidden / o->heads, q = o->heads * hd, kv = o->kv_heads * hd;
    char nm[128];
    add(t, &n, "model.embed_tokens.weight", 2, o->vocab, h, false);
    for (unsigned long l = 0; l < o->layers; l++) {
#define L(s) (snprintf(nm, sizeof nm, "model.layers.%lu.%s", l, s), nm)
        add(t, &n, L("self_attn.q_proj.weight"), 2, q, h, false);
        add(t, &n, L("self_attn.k_proj.weight"), 2, kv, h, false);
        add(t, &n, L("self_attn.v_proj.weight"), 2, kv, h, false);
        add(t, &n, L("self_attn.o_proj.weight"), 2, h, q, false);
        if (!o->mixtral) {
            add(t, &n, L("mlp.gate_proj.weight"), 2, o->ffn, h, false);
            add(t, &n, L("mlp.up_proj.weight"), 2, o->ffn, h, false);
            add(t, &n, L("mlp.down_proj.weight"), 2, h, o->ffn, false);
        } else {
            add(t, &n, L("block_sparse_moe.gate.weight"), 2, o->experts, h, false);
            for (unsigned long e = 0; e < o->experts; e++) {
                char ex[64];
                snprintf(ex, sizeof ex, "block_sparse_moe.experts.%lu.w1.weight", e);
                add(t, &n, L(ex), 2, o->ffn, h, false);
                snprintf(ex, sizeof ex, "block_sparse_moe.experts.%lu.w2.weight", e);
                add(t, &n, L(ex), 2, h, o->ffn, false);
                snprintf(ex, sizeof ex, "block_sparse_moe.experts.%lu.w3.weight", e);
                add(t, &n, L(ex), 2, o->ffn, h, false);
            }
        }
        add(t, &n, L("input_layernorm.weight"), 1, h, 0, true);
        add(t, &n, L("post_attention_layernorm.weight"), 1, h, 0, true);
#undef L
    }
    add(t, &n, "model.norm.weight", 1, h, 0, true);
    if (!o->tied)
        add(t, &n, "lm_head.weight", 2, o->vocab, h, false);
    *count = n;
    return t;
}

static uint64_t elems(const struct gt *t)
{
    return t->n_dims == 0 ? 1 : t->shape[0] * (t->n_dims > 1 ? t->shape[1] : 1);
}

/* Stream one tensor's values, generated from (seed, tensor index). */
static ckpt_status write_tensor(ckpt_st_writer *w, const struct opts *o, const struct gt *t,
                                size_t index, uint8_t *buf, ckpt_err *err)
{
    uint64_t s = o->seed * 0x100000001B3ull + index;
    uint64_t n = elems(t);
    /* weights ~ U(-1,1)/sqrt(fan_in): activations stay O(1) through the layers */
    float scale = t->norm ? 0.1f : 1.0f / sqrtf((float)(t->n_dims > 1 ? t->shape[1] : 1));
    size_t esz = ckpt_dtype_bits(t->dtype) / 8;
    for (uint64_t done = 0; done < n;) {
        size_t k = n - done < CHUNK ? (size_t)(n - done) : CHUNK;
        for (size_t i = 0; i < k; i++) {
            float v = unit(&s) * scale + (t->norm ? 1.0f : 0.0f);
            uint8_t *p = buf + i * esz;
            if (t->f8 == 1) { /* any E4M3 code but NaN (0x7F, 0xFF) */
                uint8_t q = (uint8_t)(splitmix64(&s) >> 56);
                *p = (q & 0x7f) == 0x7f ? (uint8_t)(q - 1) : q;
            } else if (t->f8 == 2) { /* |w| up to about 448 * s */
                v = (0.5f + 0.5f * (unit(&s) + 1.0f)) / (448.0f * sqrtf((float)t->fan_in));
                memcpy(p, &v, 4);
            } else if (t->dtype == CKPT_DT_F32) {
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
    const char *dt = o->dtype == CKPT_DT_BF16 || o->f8 ? "bfloat16"
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
    fprintf(f, "  \"transformers_version\": \"4.46.3\",\n  \"use_cache\": true,\n");
    if (o->f8 && !o->f8_tensor)
        fprintf(f, "  \"quantization_config\": {\"activation_scheme\": \"dynamic\", \"fmt\": "
                   "\"e4m3\", \"quant_method\": \"fp8\", \"weight_block_size\": [%d, %d]},\n",
                F8_BLOCK, F8_BLOCK);
    else if (o->f8)
        fprintf(f, "  \"quantization_config\": {\"quant_method\": \"compressed-tensors\", "
                   "\"format\": \"float-quantized\"},\n");
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
            else if (strcmp(v, "f8") == 0)
                o->f8 = true;
            else
                return usage("--dtype is bf16, f16, f32 or f8");
        } else if (strcmp(a, "--f8-scale") == 0) {
            if (strcmp(v, "block") == 0 || strcmp(v, "tensor") == 0)
                o->f8_tensor = strcmp(v, "tensor") == 0;
            else
                return usage("--f8-scale is block or tensor");
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
    if (t)
        t = set_dtypes(&o, t, &n);
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
