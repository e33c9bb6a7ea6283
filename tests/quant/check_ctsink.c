/*
 * check_ctsink.c - compressed-tensors model directories (quant/sink_ct.c,
 * formats/ct.c), held to oracles outside ckpt:
 *   layout:    an independent dequantizer written here from the format's
 *              definition (FORMATS.md §7: field i of a row at bits i*b of
 *              its little-endian int32 words, minus 2^(b-1), times the
 *              row's (group's) scale; I8 weights as they are) reads every
 *              quantized module of the files ckpt-quant writes, and
 *              equals ckpt's own reader (ckpt_ct_row) bit for bit; every
 *              integer is the source value divided by its scale, rounded
 *              (or clamped where the scale search clipped), in the
 *              source's row order (Q/K un-permuted, one tensor per
 *              expert); float tensors equal the source's bytes; from
 *              Mistral and Mixtral, from a model directory and from a
 *              GGUF file;
 *   schema:    config.json's quantization_config against the pydantic
 *              models of compressed-tensors (quant_config.py QuantizationConfig,
 *              quant_scheme.py QuantizationScheme, quant_args.py
 *              QuantizationArgs, config/base.py CompressionFormat;
 *              vllm-project/compressed-tensors main of 2026), field names,
 *              types, enums and validators encoded below, and what vLLM's
 *              CompressedTensorsWNA16 and W8A8Int8 schemes take;
 *   shards:    huggingface_hub's split rule and index (total_size = the
 *              bytes of every tensor; each tensor in one shard);
 *   behaviour: ckpt-verify --against on both models: W8A16 and W8A8 keep
 *              top-1 agreement >= 99% and a mean KLD within 2x that of
 *              Q8_0; W4A16 passes its own limits (the figures, and how
 *              they compare with Q4_K_M, are in README.md);
 *   hostile:   configs and modules ckpt must refuse, by status and message.
 */
#include <check.h>
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats/ct.h"
#include "formats/hfdir.h"
#include "kernels/quant.h"
#include "quant/ct_run.h"
#include "testutil.h"

/* ==== an independent safetensors reader (the test's own) ==== */

struct tt {
    char name[192];
    char dtype[8];
    int nd;
    uint64_t shape[2];
    const uint8_t *data;
};

struct files {
    uint8_t *buf[16];
    size_t n_buf;
    struct tt *t;
    size_t n;
};

static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t rd64(const uint8_t *p) { return rd32(p) | (uint64_t)rd32(p + 4) << 32; }

static void load_file(struct files *f, const char *path)
{
    size_t size;
    uint8_t *b = tu_read_file(path, &size);
    ck_assert_ptr_nonnull(b);
    ck_assert_uint_lt(f->n_buf, 16);
    f->buf[f->n_buf++] = b;
    const uint64_t hl = rd64(b);
    cJSON *h = cJSON_ParseWithLength((const char *)b + 8, (size_t)hl);
    ck_assert_ptr_nonnull(h);
    const cJSON *meta = cJSON_GetObjectItemCaseSensitive(h, "__metadata__");
    ck_assert_msg(meta && cJSON_IsString(cJSON_GetObjectItemCaseSensitive(meta, "format")) &&
                      strcmp(cJSON_GetObjectItemCaseSensitive(meta, "format")->valuestring, "pt") == 0,
                  "%s: transformers needs __metadata__.format = pt", path);
    for (const cJSON *e = h->child; e; e = e->next) {
        if (strcmp(e->string, "__metadata__") == 0)
            continue;
        f->t = realloc(f->t, (f->n + 1) * sizeof *f->t);
        struct tt *t = &f->t[f->n++];
        memset(t, 0, sizeof *t);
        snprintf(t->name, sizeof t->name, "%s", e->string);
        snprintf(t->dtype, sizeof t->dtype, "%s",
                 cJSON_GetObjectItemCaseSensitive(e, "dtype")->valuestring);
        const cJSON *sh = cJSON_GetObjectItemCaseSensitive(e, "shape");
        t->nd = cJSON_GetArraySize(sh);
        for (int i = 0; i < t->nd && i < 2; i++)
            t->shape[i] = (uint64_t)cJSON_GetArrayItem(sh, i)->valuedouble;
        const cJSON *off = cJSON_GetObjectItemCaseSensitive(e, "data_offsets");
        t->data = b + 8 + hl + (uint64_t)cJSON_GetArrayItem(off, 0)->valuedouble;
        ck_assert_uint_le(8 + hl + (uint64_t)cJSON_GetArrayItem(off, 1)->valuedouble, size);
    }
    cJSON_Delete(h);
}

/* Every shard of a directory: model.safetensors, or the index's files. */
static void load_dir(struct files *f, const char *dir)
{
    memset(f, 0, sizeof *f);
    char *one = tu_fmt("%s/model.safetensors", dir), *idx =
        tu_fmt("%s/model.safetensors.index.json", dir);
    size_t n;
    char *text = tu_read_file(idx, &n);
    if (!text) {
        load_file(f, one);
    } else {
        cJSON *j = cJSON_ParseWithLength(text, n);
        const cJSON *map = cJSON_GetObjectItemCaseSensitive(j, "weight_map");
        char seen[16][64];
        size_t ns = 0;
        for (const cJSON *e = map->child; e; e = e->next) {
            size_t k = 0;
            while (k < ns && strcmp(seen[k], e->valuestring) != 0)
                k++;
            if (k < ns)
                continue;
            snprintf(seen[ns++], sizeof seen[0], "%s", e->valuestring);
            char *p = tu_fmt("%s/%s", dir, e->valuestring);
            load_file(f, p);
            free(p);
        }
        cJSON_Delete(j);
        free(text);
    }
    free(one);
    free(idx);
}

static void free_files(struct files *f)
{
    for (size_t i = 0; i < f->n_buf; i++)
        free(f->buf[i]);
    free(f->t);
}

static const struct tt *get(const struct files *f, const char *name)
{
    for (size_t i = 0; i < f->n; i++)
        if (strcmp(f->t[i].name, name) == 0)
            return &f->t[i];
    return NULL;
}

/* IEEE half to float, from the definition (sign, 5-bit exponent, 10-bit fraction). */
static float half(uint16_t h)
{
    const int e = (h >> 10) & 31, m = h & 1023;
    const float v = e == 0 ? ldexpf((float)m, -24) : ldexpf((float)(m + 1024), e - 25);
    return (h & 0x8000) ? -v : v;
}

static float value(const char *dtype, const uint8_t *p, uint64_t i)
{
    if (strcmp(dtype, "F32") == 0) {
        uint32_t u = rd32(p + 4 * i);
        float f;
        memcpy(&f, &u, 4);
        return f;
    }
    const uint16_t h = (uint16_t)(p[2 * i] | p[2 * i + 1] << 8);
    if (strcmp(dtype, "F16") == 0)
        return half(h);
    uint32_t u = (uint32_t)h << 16; /* BF16: the top half of an f32 */
    float f;
    memcpy(&f, &u, 4);
    return f;
}

/* ==== the checks ==== */

struct scheme_want {
    int bits;
    int64_t group; /* 0: per channel */
    bool gptq;     /* integers moved by GPTQ's error feedback: not the nearest ones */
};

/* The integer of element (r, c) of a module's weight_packed (packed) or
 * I8 weight, by the format's definition. */
static int integer(const struct tt *w, bool packed, int bits, uint64_t r, uint64_t c)
{
    if (!packed)
        return (int8_t)w->data[r * w->shape[1] + c];
    const uint64_t bit = c * (uint64_t)bits;
    const uint32_t word = rd32(w->data + 4 * (r * w->shape[1] + bit / 32));
    return (int)((word >> (bit % 32)) & ((1u << bits) - 1)) - (1 << (bits - 1));
}

/*
 * Check every quantized module of out against the source src (both read
 * by the reader above) and against ckpt's reader; float tensors exactly.
 * Returns the number of quantized modules.
 */
static size_t check_layout(const char *src_dir, const char *out_dir, struct scheme_want want)
{
    struct files src, out;
    load_dir(&src, src_dir);
    load_dir(&out, out_dir);
    ckpt_hf *hf = NULL;
    ckpt_err err = {0};
    ck_assert_msg(ckpt_hf_open(&hf, out_dir, &err) == CKPT_OK, "%s", err.msg);
    struct ckpt_ct_config cfg;
    ck_assert_msg(ckpt_ct_config_load(&cfg, hf, &err) == CKPT_OK, "%s", err.msg);
    ck_assert(cfg.present);
    ck_assert_int_eq(cfg.bits, want.bits);
    ck_assert_int_eq(cfg.group, want.group);
    size_t modules = 0;
    for (size_t i = 0; i < src.n; i++) {
        const struct tt *s = &src.t[i];
        const struct tt *o = get(&out, s->name);
        if (o && strcmp(o->dtype, "I8") != 0) { /* kept in float: the same values */
            ck_assert_uint_eq(o->shape[0], s->shape[0]);
            for (uint64_t k = 0; k < s->shape[0] * (s->nd == 2 ? s->shape[1] : 1); k++)
                ck_assert_msg(value(o->dtype, o->data, k) == value(s->dtype, s->data, k),
                              "%s[%llu] differs", s->name, (unsigned long long)k);
            continue;
        }
        /* a quantized module: "X.weight" became X.weight_packed / X.weight (I8) + scales */
        char base[192], n[256];
        snprintf(base, sizeof base, "%.*s", (int)(strlen(s->name) - 7), s->name);
        snprintf(n, sizeof n, "%s.weight_scale", base);
        const struct tt *sc = get(&out, n);
        ck_assert_msg(sc != NULL, "%s: no %s", out_dir, n);
        const uint64_t rows = s->shape[0], cols = s->shape[1];
        const uint64_t group = want.group ? (uint64_t)want.group : cols;
        ck_assert_uint_eq(sc->shape[0], rows);
        ck_assert_uint_eq(sc->shape[1], cols / group);
        snprintf(n, sizeof n, "%s.weight_packed", base);
        const struct tt *packed = get(&out, n), *w = packed ? packed : o;
        ck_assert_msg(w != NULL, "%s: no weight for %s", out_dir, base);
        snprintf(n, sizeof n, "%s.weight_shape", base);
        const struct tt *shp = get(&out, n);
        if (shp) {
            ck_assert_str_eq(shp->dtype, "I64");
            ck_assert_uint_eq(rd64(shp->data), rows);
            ck_assert_uint_eq(rd64(shp->data + 8), cols);
        }
        struct ckpt_ct_weight cw;
        ck_assert_msg(ckpt_ct_open(&cw, hf, base, &cfg, out_dir, &err) == CKPT_OK, "%s", err.msg);
        float *mine = malloc(cols * sizeof *mine), *theirs = malloc(cols * sizeof *theirs),
              *blocks_f = malloc(cols * sizeof *blocks_f);
        /* what the loader keeps: ggml blocks that hold the module exactly (BF16 and
         * F16 scales are f16 values; F32 ones, from an F32 source, need not be) */
        const ckpt_type bt = ckpt_ct_block_type(&cw);
        ck_assert(bt == (want.bits == 8 ? CKPT_TYPE_Q8_0 : CKPT_TYPE_Q4_0) ||
                  (bt == CKPT_TYPE_F32 && strcmp(sc->dtype, "F32") == 0));
        size_t brb;
        ck_assert(ckpt_type_row_bytes(bt, (int64_t)cols, &brb));
        uint8_t *blocks = malloc(brb);
        const int qmax = (1 << (want.bits - 1)) - 1, qmin = -(1 << (want.bits - 1));
        for (uint64_t r = 0; r < rows; r++) {
            ckpt_ct_row(&cw, r, theirs);
            for (uint64_t c = 0; c < cols; c++) {
                const int q = integer(w, packed != NULL, want.bits, r, c);
                const float scale = value(sc->dtype, sc->data, r * (cols / group) + c / group);
                mine[c] = (float)q * scale;
                /* the integer is the source value over the scale, rounded, or clipped */
                const float x = value(s->dtype, s->data, r * cols + c), t = x / scale;
                const bool inside = t >= (float)qmin - 0.5f && t <= (float)qmax + 0.5f;
                ck_assert_msg(want.gptq || (inside ? fabsf((float)q - t) <= 0.76f
                                     : q == (t > 0 ? qmax : qmin)),
                              "%s[%llu][%llu]: %g / %g = %g stored as %d", base,
                              (unsigned long long)r, (unsigned long long)c, (double)x,
                              (double)scale, (double)t, q);
            }
            ck_assert_msg(memcmp(mine, theirs, cols * sizeof *mine) == 0,
                          "%s row %llu: ckpt's dequantization differs from the definition's",
                          base, (unsigned long long)r);
            if (bt == CKPT_TYPE_F32)
                continue;
            ckpt_ct_row_blocks(&cw, r, blocks);
            ck_assert(ckpt_dequantize_row(bt, blocks, blocks_f, (int64_t)cols));
            ck_assert_msg(memcmp(mine, blocks_f, cols * sizeof *mine) == 0,
                          "%s row %llu: the %s blocks do not hold the module exactly", base,
                          (unsigned long long)r, ckpt_type_name(bt));
        }
        free(blocks);
        free(blocks_f);
        free(mine);
        free(theirs);
        modules++;
    }
    ckpt_hf_close(hf);
    free_files(&src);
    free_files(&out);
    return modules;
}

static char *model(const char *name)
{
    char *rel = tu_fmt("models/%s", name), *p = tu_data(rel);
    free(rel);
    return p;
}

/* ckpt-quant ARGS -o DIR/NAME INPUT; returns DIR/NAME. */
static char *quant(const char *dir, const char *name, const char *args, const char *input)
{
    char *bin = tu_tool("ckpt-quant"), *out = tu_fmt("%s/%s", dir, name);
    char *cmd = tu_fmt("'%s' -q %s -o '%s' '%s'", bin, args, out, input), *er = NULL;
    const int rc = tu_run(cmd, NULL, &er);
    ck_assert_msg(rc == 0, "%s: exit %d: %s", cmd, rc, er ? er : "");
    free(er);
    free(cmd);
    free(bin);
    return out;
}

static const struct {
    const char *model, *args;
    struct scheme_want want;
    size_t modules; /* Linear modules quantized: 7 per layer, or 4 + 3 per expert */
} cases[] = {
    {"tiny-mistral", "-t W8A16", {8, 0, false}, 28},
    {"tiny-mistral", "-t W8A8", {8, 0, false}, 28},
    {"tiny-mistral", "-t W4A16", {4, 128, false}, 28},
    {"tiny-mistral", "-t W4A16 --group-size 32", {4, 32, false}, 28},
    {"tiny-mistral", "-t W4A16 --scale-search", {4, 128, false}, 28},
    {"tiny-mixtral", "-t W8A16", {8, 0, false}, 64},
    {"tiny-mixtral", "-t W8A8", {8, 0, false}, 64},
    {"tiny-mixtral", "-t W4A16", {4, 128, false}, 64},
    {"tiny-mixtral", "-t W8A16 --group-size 64", {8, 64, false}, 64},
};

START_TEST(layout_from_model_dir)
{
    char *dir = tu_tmpdir(), *src = model(cases[_i].model);
    char *out = quant(dir, "out", cases[_i].args, src);
    ck_assert_uint_eq(check_layout(src, out, cases[_i].want), cases[_i].modules);
    free(out);
    free(src);
    tu_rmtree(dir);
    free(dir);
}
END_TEST

/* From a GGUF (F32, so that every float is exact): names and Q/K order come
 * back from the architecture descriptor, config.json from the GGUF's keys. */
START_TEST(layout_from_gguf)
{
    static const char *const models[] = {"tiny-mistral", "tiny-mixtral"};
    char *dir = tu_tmpdir(), *src = model(models[_i]);
    char *gguf = tu_fmt("%s/f32.gguf", dir), *conv = tu_tool("ckpt-convert");
    char *cmd = tu_fmt("'%s' -q -t f32 -o '%s' '%s'", conv, gguf, src);
    ck_assert_int_eq(tu_run(cmd, NULL, NULL), 0);
    char *w8 = quant(dir, "w8", "-t W8A16", gguf), *w8a8 = quant(dir, "w8a8", "-t W8A8", gguf);
    ck_assert_uint_eq(check_layout(src, w8, (struct scheme_want){8, 0, false}), _i ? 64u : 28u);
    ck_assert_uint_eq(check_layout(src, w8a8, (struct scheme_want){8, 0, false}), _i ? 64u : 28u);
    free(w8);
    free(w8a8);
    char *out = quant(dir, "out", "-t W4A16", gguf);
    ck_assert_uint_eq(check_layout(src, out, (struct scheme_want){4, 128, false}), _i ? 64u : 28u);
    /* config.json: the source's model fields, from the keys */
    char *pa = tu_fmt("%s/config.json", src), *pb = tu_fmt("%s/config.json", out);
    size_t na, nb;
    char *ta = tu_read_file(pa, &na), *tb = tu_read_file(pb, &nb);
    cJSON *a = cJSON_ParseWithLength(ta, na), *b = cJSON_ParseWithLength(tb, nb);
    static const char *const keys[] = {
        "hidden_size", "intermediate_size", "num_hidden_layers", "num_attention_heads",
        "num_key_value_heads", "head_dim", "vocab_size", "rms_norm_eps", "rope_theta",
        "max_position_embeddings", "bos_token_id", "eos_token_id", "model_type"};
    for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++) {
        const cJSON *x = cJSON_GetObjectItemCaseSensitive(a, keys[k]),
                    *y = cJSON_GetObjectItemCaseSensitive(b, keys[k]);
        ck_assert_msg(y != NULL, "config.json from GGUF lacks %s", keys[k]);
        ck_assert_msg(cJSON_Compare(x, y, true), "%s differs", keys[k]);
    }
    ck_assert_str_eq(cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(b, "architectures"), 0)
                         ->valuestring,
                     cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(a, "architectures"), 0)
                         ->valuestring);
    ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(b, "torch_dtype")->valuestring, "float32");
    cJSON_Delete(a);
    cJSON_Delete(b);
    free(ta);
    free(tb);
    free(pa);
    free(pb);
    free(out);
    free(cmd);
    free(conv);
    free(gguf);
    free(src);
    tu_rmtree(dir);
    free(dir);
}
END_TEST

/* ==== schema: compressed-tensors' pydantic models, encoded ==== */

static bool one_of(const char *s, const char *const *set)
{
    for (; *set; set++)
        if (strcmp(s, *set) == 0)
            return true;
    return false;
}

static const char *const FORMATS[] = {
    "dense", "sparse-bitmask", "sparse-24-bitmask", "int-quantized", "float-quantized",
    "naive-quantized", "pack-quantized", "marlin-24", "mixed-precision",
    "nvfp4-pack-quantized", "mxfp4-pack-quantized", "mxfp8-quantized", NULL};
static const char *const STRATEGIES[] = {"tensor", "channel", "group", "block", "token",
                                         "tensor_group", "attn_head", NULL};
static const char *const STATUSES[] = {"initialized", "calibration", "frozen", "compressed",
                                       "decompressed", NULL};
static const char *const ACTORDERS[] = {"group", "weight", "dynamic", "static", NULL};

static bool is_int(const cJSON *v)
{
    return cJSON_IsNumber(v) && v->valuedouble == (double)(long long)v->valuedouble;
}

/* QuantizationArgs (extra="forbid") and its model validator. */
static void check_args(const cJSON *a, bool activation)
{
    static const char *const fields[] = {"num_bits", "type", "symmetric", "group_size",
                                         "strategy", "block_structure", "dynamic", "actorder",
                                         "scale_dtype", "zp_dtype", "observer",
                                         "observer_kwargs", NULL};
    ck_assert(cJSON_IsObject(a));
    for (const cJSON *e = a->child; e; e = e->next)
        ck_assert_msg(one_of(e->string, fields), "QuantizationArgs forbids '%s'", e->string);
    const cJSON *nb = cJSON_GetObjectItemCaseSensitive(a, "num_bits"),
                *ty = cJSON_GetObjectItemCaseSensitive(a, "type"),
                *sy = cJSON_GetObjectItemCaseSensitive(a, "symmetric"),
                *gs = cJSON_GetObjectItemCaseSensitive(a, "group_size"),
                *st = cJSON_GetObjectItemCaseSensitive(a, "strategy"),
                *bs = cJSON_GetObjectItemCaseSensitive(a, "block_structure"),
                *dy = cJSON_GetObjectItemCaseSensitive(a, "dynamic"),
                *ao = cJSON_GetObjectItemCaseSensitive(a, "actorder"),
                *ob = cJSON_GetObjectItemCaseSensitive(a, "observer"),
                *ok = cJSON_GetObjectItemCaseSensitive(a, "observer_kwargs");
    ck_assert(!nb || is_int(nb));
    ck_assert(!ty || (cJSON_IsString(ty) && (strcmp(ty->valuestring, "int") == 0 ||
                                             strcmp(ty->valuestring, "float") == 0)));
    ck_assert(!sy || cJSON_IsBool(sy));
    ck_assert(!gs || cJSON_IsNull(gs) || (is_int(gs) && gs->valuedouble >= -1));
    ck_assert(!st || cJSON_IsNull(st) ||
              (cJSON_IsString(st) && one_of(st->valuestring, STRATEGIES)));
    ck_assert(!bs || cJSON_IsNull(bs) || (cJSON_IsArray(bs) && cJSON_GetArraySize(bs) == 2));
    ck_assert(!dy || cJSON_IsBool(dy) || (cJSON_IsString(dy) && strcmp(dy->valuestring, "local") == 0));
    ck_assert(!ao || cJSON_IsNull(ao) || cJSON_IsBool(ao) ||
              (cJSON_IsString(ao) && one_of(ao->valuestring, ACTORDERS)));
    ck_assert(!ob || cJSON_IsNull(ob) || cJSON_IsString(ob));
    ck_assert(!ok || cJSON_IsObject(ok));
    /* validate_model_after */
    const char *strategy = cJSON_IsString(st) ? st->valuestring : NULL;
    const long long group = is_int(gs) ? (long long)gs->valuedouble : 0;
    const bool dynamic = dy && !cJSON_IsFalse(dy);
    ck_assert_msg(strategy, "explicit strategy expected");
    if (strcmp(strategy, "token") == 0)
        ck_assert_msg(dynamic, "static token quantization is refused");
    if (strcmp(strategy, "group") == 0 || strcmp(strategy, "tensor_group") == 0)
        ck_assert_msg(group > 0, "group strategy needs group_size > 0");
    if (group > 0)
        ck_assert_msg(strcmp(strategy, "group") == 0 || strcmp(strategy, "tensor_group") == 0,
                      "group_size requires strategy group");
    ck_assert_msg((strcmp(strategy, "block") == 0) == (bs && cJSON_IsArray(bs)),
                  "block strategy and block_structure go together");
    if (dynamic)
        ck_assert(one_of(strategy, (const char *const[]){"token", "tensor", "tensor_group",
                                                         "group", NULL}));
    if (activation) { /* QuantizationScheme's rules for input activations */
        ck_assert(one_of(strategy, (const char *const[]){"token", "tensor", "group",
                                                         "tensor_group", "attn_head", NULL}));
        ck_assert_msg(!ao || cJSON_IsNull(ao), "actorder on activations is refused");
    }
}

/* What vLLM takes: CompressedTensorsWNA16 (pack-quantized, 4/8 bits,
 * symmetric, channel or group 32/64/128, no activations) and
 * CompressedTensorsW8A8Int8 (int8 channel weights, dynamic token int8). */
static void check_vllm(const cJSON *qc, const cJSON *g)
{
    const char *format = cJSON_GetObjectItemCaseSensitive(qc, "format")->valuestring;
    const cJSON *w = cJSON_GetObjectItemCaseSensitive(g, "weights"),
                *in = cJSON_GetObjectItemCaseSensitive(g, "input_activations");
    const int bits = cJSON_GetObjectItemCaseSensitive(w, "num_bits")->valueint;
    const char *strategy = cJSON_GetObjectItemCaseSensitive(w, "strategy")->valuestring;
    const cJSON *gs = cJSON_GetObjectItemCaseSensitive(w, "group_size");
    ck_assert(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(w, "symmetric")));
    if (strcmp(format, "pack-quantized") == 0) {
        ck_assert(bits == 4 || bits == 8);
        ck_assert(cJSON_IsNull(in));
        ck_assert(strcmp(strategy, "channel") == 0 ||
                  (strcmp(strategy, "group") == 0 &&
                   (gs->valueint == 32 || gs->valueint == 64 || gs->valueint == 128)));
    } else {
        ck_assert_str_eq(format, "int-quantized");
        ck_assert_int_eq(bits, 8);
        ck_assert_str_eq(strategy, "channel");
        ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(in, "strategy")->valuestring, "token");
        ck_assert(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(in, "dynamic")));
    }
}

static void check_config(const char *dir, bool experts)
{
    char *p = tu_fmt("%s/config.json", dir);
    size_t n;
    char *text = tu_read_file(p, &n);
    cJSON *root = cJSON_ParseWithLength(text, n);
    ck_assert_ptr_nonnull(root);
    const cJSON *qc = cJSON_GetObjectItemCaseSensitive(root, "quantization_config");
    ck_assert(cJSON_IsObject(qc));
    static const char *const fields[] = {"config_groups", "quant_method", "kv_cache_scheme",
                                         "format", "quantization_status",
                                         "global_compression_ratio", "ignore", NULL};
    for (const cJSON *e = qc->child; e; e = e->next)
        ck_assert_msg(one_of(e->string, fields), "QuantizationConfig has no '%s'", e->string);
    ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(qc, "quant_method")->valuestring,
                     "compressed-tensors");
    ck_assert(one_of(cJSON_GetObjectItemCaseSensitive(qc, "format")->valuestring, FORMATS));
    ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(qc, "quantization_status")->valuestring,
                     "compressed");
    ck_assert(one_of("compressed", STATUSES));
    ck_assert(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(qc, "kv_cache_scheme")));
    const cJSON *gcr = cJSON_GetObjectItemCaseSensitive(qc, "global_compression_ratio");
    ck_assert(!gcr || cJSON_IsNull(gcr) || cJSON_IsNumber(gcr));
    /* ignore: lm_head, and Mixtral's router as vLLM expects */
    const cJSON *ign = cJSON_GetObjectItemCaseSensitive(qc, "ignore");
    ck_assert(cJSON_IsArray(ign));
    ck_assert_str_eq(cJSON_GetArrayItem(ign, 0)->valuestring, "lm_head");
    ck_assert_int_eq(cJSON_GetArraySize(ign), experts ? 2 : 1);
    if (experts)
        ck_assert_str_eq(cJSON_GetArrayItem(ign, 1)->valuestring, "re:.*block_sparse_moe.gate");
    const cJSON *groups = cJSON_GetObjectItemCaseSensitive(qc, "config_groups");
    ck_assert(cJSON_IsObject(groups));
    for (const cJSON *g = groups->child; g; g = g->next) {
        static const char *const sf[] = {"targets", "weights", "input_activations",
                                         "output_activations", "format", NULL};
        ck_assert(cJSON_IsObject(g)); /* explicit, never a preset name */
        for (const cJSON *e = g->child; e; e = e->next)
            ck_assert_msg(one_of(e->string, sf), "QuantizationScheme forbids '%s'", e->string);
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(g, "targets");
        ck_assert(cJSON_IsArray(t) && cJSON_GetArraySize(t) == 1);
        ck_assert_str_eq(cJSON_GetArrayItem(t, 0)->valuestring, "Linear");
        check_args(cJSON_GetObjectItemCaseSensitive(g, "weights"), false);
        const cJSON *in = cJSON_GetObjectItemCaseSensitive(g, "input_activations");
        if (!cJSON_IsNull(in))
            check_args(in, true);
        ck_assert(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(g, "output_activations")));
        check_vllm(qc, g);
    }
    cJSON_Delete(root);
    free(text);
    free(p);
}

START_TEST(config_schema)
{
    static const char *const schemes[] = {"W8A16", "W8A8", "W4A16"};
    char *dir = tu_tmpdir();
    for (int m = 0; m < 2; m++) {
        char *src = model(m ? "tiny-mixtral" : "tiny-mistral");
        for (int s = 0; s < 3; s++) {
            char *name = tu_fmt("%d-%s", m, schemes[s]), *args = tu_fmt("-t %s", schemes[s]);
            char *out = quant(dir, name, args, src);
            check_config(out, m == 1);
            free(out);
            free(args);
            free(name);
        }
        free(src);
    }
    tu_rmtree(dir);
    free(dir);
}
END_TEST

/* ==== shards ==== */

START_TEST(shards_and_index)
{
    char *dir = tu_tmpdir(), *src = model("tiny-mixtral");
    /* 100 kB: the embedding and lm_head (384 kB each) exceed it and get shards of their own */
    char *out = quant(dir, "sh", "-t W4A16 --max-shard-size 100KB", src);
    char *ip = tu_fmt("%s/model.safetensors.index.json", out);
    size_t n;
    char *text = tu_read_file(ip, &n);
    ck_assert_ptr_nonnull(text);
    cJSON *j = cJSON_ParseWithLength(text, n);
    const uint64_t total = (uint64_t)cJSON_GetObjectItemCaseSensitive(
                               cJSON_GetObjectItemCaseSensitive(j, "metadata"), "total_size")
                               ->valuedouble;
    struct files f;
    load_dir(&f, out);
    uint64_t sum = 0;
    for (size_t i = 0; i < f.n; i++) {
        uint64_t elems = f.t[i].nd == 1 ? f.t[i].shape[0] : f.t[i].shape[0] * f.t[i].shape[1];
        const int bytes = strcmp(f.t[i].dtype, "I64") == 0   ? 8
                          : strcmp(f.t[i].dtype, "I32") == 0 ? 4
                          : strcmp(f.t[i].dtype, "F32") == 0 ? 4
                          : strcmp(f.t[i].dtype, "I8") == 0  ? 1
                                                              : 2;
        sum += elems * (uint64_t)bytes;
    }
    ck_assert_uint_eq(sum, total);
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(j, "weight_map")),
                     (int)f.n);
    /* every shard named model-0000N-of-0000M, none over the limit unless alone */
    const int m = (int)f.n_buf;
    ck_assert_int_gt(m, 3);
    for (int i = 1; i <= m; i++) {
        char *p = tu_fmt("%s/model-%05d-of-%05d.safetensors", out, i, m);
        size_t sz;
        void *b = tu_read_file(p, &sz);
        ck_assert_msg(b != NULL, "%s missing", p);
        free(b);
        free(p);
    }
    char *one = tu_fmt("%s/model.safetensors", out);
    size_t sz;
    ck_assert_ptr_null(tu_read_file(one, &sz));
    free(one);
    free_files(&f);
    cJSON_Delete(j);
    free(text);
    free(ip);
    /* the same weights as one file */
    char *whole = quant(dir, "one", "-t W4A16", src);
    ck_assert_uint_eq(check_layout(src, out, (struct scheme_want){4, 128, false}), 64);
    free(whole);
    free(out);
    free(src);
    tu_rmtree(dir);
    free(dir);
}
END_TEST

/* An existing directory only with -f; a failure leaves nothing behind. */
START_TEST(directory_published_whole)
{
    char *dir = tu_tmpdir(), *src = model("tiny-mistral");
    char *out = quant(dir, "o", "-t W8A16", src);
    char *bin = tu_tool("ckpt-quant");
    char *cmd = tu_fmt("'%s' -q -t W8A16 -o '%s' '%s'", bin, out, src), *er = NULL;
    ck_assert_int_eq(tu_run(cmd, NULL, &er), 2);
    ck_assert_ptr_nonnull(strstr(er, "already exists"));
    free(er);
    free(cmd);
    cmd = tu_fmt("'%s' -q -f -t W4A16 -o '%s' '%s'", bin, out, src);
    ck_assert_int_eq(tu_run(cmd, NULL, NULL), 0);
    ck_assert_uint_eq(check_layout(src, out, (struct scheme_want){4, 128, false}), 28);
    free(cmd);
    /* a group size that does not divide the rows: refused, nothing written */
    char *bad = tu_fmt("%s/bad", dir);
    cmd = tu_fmt("'%s' -q -t W4A16 --group-size 96 -o '%s' '%s'", bin, bad, src);
    er = NULL;
    ck_assert_int_eq(tu_run(cmd, NULL, &er), 2);
    ck_assert_ptr_nonnull(strstr(er, "not a multiple of the group size 96"));
    char *ls = tu_fmt("ls -A '%s' | grep -c . ", dir), *lo = NULL;
    tu_run(ls, &lo, NULL);
    ck_assert_str_eq(lo, "1\n"); /* only o/: no bad/, no temporary */
    free(lo);
    free(ls);
    free(er);
    free(cmd);
    free(bad);
    free(bin);
    free(out);
    free(src);
    tu_rmtree(dir);
    free(dir);
}
END_TEST

/* ==== behaviour ==== */

static void figures(const char *src, const char *art, double *top1, double *kld)
{
    char *bin = tu_tool("ckpt-verify"), *text = tu_data("golden/tiny-mistral/calib.txt");
    char *cmd = tu_fmt("'%s' -j 2 --json --against '%s' --text '%s' '%s'", bin, src, text, art),
         *out = NULL;
    ck_assert_int_eq(tu_run(cmd, &out, NULL), 0);
    cJSON *j = cJSON_Parse(out);
    const cJSON *all = cJSON_GetObjectItemCaseSensitive(j, "all");
    *top1 = cJSON_GetObjectItemCaseSensitive(all, "top1")->valuedouble;
    *kld = cJSON_GetObjectItemCaseSensitive(all, "mean_kld")->valuedouble;
    cJSON_Delete(j);
    free(out);
    free(cmd);
    free(text);
    free(bin);
}

START_TEST(behaviour_against_source)
{
    static const char *const models[] = {"tiny-mistral", "tiny-mixtral"};
    char *dir = tu_tmpdir(), *src = model(models[_i]);
    char *q8 = quant(dir, "q8.gguf", "-t Q8_0", src);
    double q8_top1, q8_kld, top1, kld;
    figures(src, q8, &q8_top1, &q8_kld);
    static const char *const schemes[] = {"W8A16", "W8A8"};
    for (int s = 0; s < 2; s++) {
        char *args = tu_fmt("-t %s", schemes[s]), *out = quant(dir, schemes[s], args, src);
        figures(src, out, &top1, &kld);
        ck_assert_msg(top1 >= 0.99, "%s %s: top-1 %.4f", models[_i], schemes[s], top1);
        ck_assert_msg(kld <= 2 * q8_kld, "%s %s: mean KLD %.6f > 2 x Q8_0's %.6f", models[_i],
                      schemes[s], kld, q8_kld);
        free(out);
        free(args);
    }
    char *w4 = quant(dir, "w4", "-t W4A16", src);
    figures(src, w4, &top1, &kld);
    ck_assert_msg(top1 >= 0.80 && kld <= 0.10, "%s W4A16: top-1 %.4f, mean KLD %.6f",
                  models[_i], top1, kld);
    free(w4);
    free(q8);
    free(src);
    tu_rmtree(dir);
    free(dir);
}
END_TEST

/* GPTQ's error feedback with the int4 group quantizer (--gptq): on a text
 * other than the calibration text, W4A16 g128 within 2x Q4_K_M's mean KLD
 * and below plain W4A16 g128's; the files still dequantize by the
 * definition bit for bit; the bytes do not depend on -j. */
START_TEST(gptq_within_twice_q4_k_m)
{
    char *dir = tu_tmpdir(), *src = model("tiny-mistral");
    char *calib = tu_data("fidelity/calib.txt");
    char *q4 = quant(dir, "q4.gguf", "-t Q4_K_M", src), *plain = quant(dir, "w4", "-t W4A16", src);
    char *args = tu_fmt("-j 2 -t W4A16 --gptq --calib '%s' --calib-chunks 2", calib);
    char *g = quant(dir, "w4g", args, src);
    double q4_top1, q4_kld, p_top1, p_kld, top1, kld;
    figures(src, q4, &q4_top1, &q4_kld);
    figures(src, plain, &p_top1, &p_kld);
    figures(src, g, &top1, &kld);
    ck_assert_msg(kld <= 2 * q4_kld, "W4A16 --gptq: mean KLD %.6f > 2 x Q4_K_M's %.6f", kld,
                  q4_kld);
    ck_assert_msg(kld < p_kld, "W4A16 --gptq: mean KLD %.6f, not below plain W4A16's %.6f", kld,
                  p_kld);
    ck_assert_uint_eq(check_layout(src, g, (struct scheme_want){4, 128, true}), 28);
    /* recorded: the observer names GPTQ; the columns in their order (actorder null) */
    char *cfg = tu_fmt("%s/config.json", g);
    size_t n = 0;
    char *text = tu_read_file(cfg, &n);
    cJSON *j = cJSON_ParseWithLength(text, n);
    const cJSON *w = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(
            cJSON_GetObjectItemCaseSensitive(
                cJSON_GetObjectItemCaseSensitive(j, "quantization_config"), "config_groups"),
            "group_0"),
        "weights");
    const cJSON *ob = cJSON_GetObjectItemCaseSensitive(w, "observer");
    ck_assert(cJSON_IsString(ob));
    ck_assert_str_eq(ob->valuestring, "gptq_imatrix_mse");
    ck_assert(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(w, "actorder")));
    cJSON_Delete(j);
    /* any thread count: the same bytes (a short calibration keeps it quick) */
    char *a1 = tu_fmt("-j 1 -t W4A16 --gptq --calib '%s' --calib-chunks 1 --calib-ctx 128", calib),
         *a2 = tu_fmt("-j 2 -t W4A16 --gptq --calib '%s' --calib-chunks 1 --calib-ctx 128", calib);
    char *o1 = quant(dir, "j1", a1, src), *o2 = quant(dir, "j2", a2, src);
    char *cmp = tu_fmt("cmp '%s/model.safetensors' '%s/model.safetensors'", o1, o2);
    ck_assert_int_eq(tu_run(cmp, NULL, NULL), 0);
    free(cmp);
    free(o1);
    free(o2);
    free(a1);
    free(a2);
    free(text);
    free(cfg);
    free(g);
    free(args);
    free(plain);
    free(q4);
    free(calib);
    free(src);
    tu_rmtree(dir);
    free(dir);
}
END_TEST

/* ==== hostile configs and modules ==== */

static const struct {
    const char *json;
    ckpt_status st;
    const char *msg;
} bad_configs[] = {
    {"{\"quantization_config\":{\"quant_method\":\"compressed-tensors\",\"format\":\"marlin-24\","
     "\"config_groups\":{}}}", CKPT_E_UNSUPPORTED, "format 'marlin-24'"},
    {"{\"quantization_config\":{\"quant_method\":\"compressed-tensors\",\"format\":\"pack-quantized\","
     "\"config_groups\":{\"g\":{\"targets\":[\"Linear\"],\"weights\":{\"num_bits\":4,"
     "\"symmetric\":false,\"strategy\":\"group\",\"group_size\":128}}}}}",
     CKPT_E_UNSUPPORTED, "asymmetric"},
    {"{\"quantization_config\":{\"quant_method\":\"compressed-tensors\",\"format\":\"pack-quantized\","
     "\"config_groups\":{\"g\":{\"targets\":[\"Linear\"],\"weights\":{\"num_bits\":2,"
     "\"strategy\":\"channel\"}}}}}", CKPT_E_UNSUPPORTED, "num_bits 2"},
    {"{\"quantization_config\":{\"quant_method\":\"compressed-tensors\",\"format\":\"pack-quantized\","
     "\"config_groups\":{\"g\":{\"targets\":[\"Linear\"],\"weights\":{\"num_bits\":4,"
     "\"strategy\":\"group\",\"group_size\":128,\"actorder\":\"group\"}}}}}",
     CKPT_E_UNSUPPORTED, "actorder"},
    {"{\"quantization_config\":{\"quant_method\":\"compressed-tensors\",\"format\":\"pack-quantized\","
     "\"config_groups\":{\"g\":{\"targets\":[\"Linear\"],\"weights\":{\"num_bits\":4,"
     "\"strategy\":\"group\"}}}}}", CKPT_E_FORMAT, "positive group_size"},
    {"{\"quantization_config\":{\"quant_method\":\"compressed-tensors\",\"format\":\"pack-quantized\","
     "\"config_groups\":{\"g\":{\"targets\":[\"Linear\"],\"weights\":{\"num_bits\":4,"
     "\"strategy\":\"tensor\"}}}}}", CKPT_E_UNSUPPORTED, "strategy 'tensor'"},
    {"{\"quantization_config\":{\"quant_method\":\"compressed-tensors\",\"format\":\"pack-quantized\","
     "\"config_groups\":{\"a\":{\"weights\":{}},\"b\":{\"weights\":{}}}}}",
     CKPT_E_UNSUPPORTED, "2 groups"},
    {"{\"quantization_config\":{\"quant_method\":\"compressed-tensors\",\"format\":\"pack-quantized\","
     "\"config_groups\":{\"W4A16\":[\"Linear\"]}}}", CKPT_E_UNSUPPORTED, "preset"},
    {"{\"quantization_config\":{\"quant_method\":\"compressed-tensors\",\"format\":7}}",
     CKPT_E_FORMAT, "format"},
    {"{\"quantization_config\":{\"quant_method\":\"compressed-tensors\",\"format\":\"int-quantized\","
     "\"config_groups\":{\"g\":{\"targets\":[\"Linear\"],\"weights\":{\"num_bits\":8,"
     "\"strategy\":\"channel\",\"group_size\":1e300}}}}}", CKPT_E_FORMAT, "not a size"},
    {"{\"quantization_config\":{\"quant_method\":\"compressed-tensors\",\"format\":\"int-quantized\","
     "\"config_groups\":{\"g\":{\"targets\":[\"Linear\"],\"weights\":{\"num_bits\":8,"
     "\"strategy\":\"channel\"},\"input_activations\":{\"num_bits\":8,\"type\":\"float\","
     "\"dynamic\":true}}}}}", CKPT_E_UNSUPPORTED, "activations"},
};

START_TEST(config_refused)
{
    struct ckpt_ct_config c;
    ckpt_err err = {0};
    const char *j = bad_configs[_i].json;
    ck_assert_int_eq(ckpt_ct_config_parse(&c, j, strlen(j), "config.json", &err),
                     bad_configs[_i].st);
    ck_assert_msg(strstr(err.msg, bad_configs[_i].msg), "message '%s' lacks '%s'", err.msg,
                  bad_configs[_i].msg);
    ck_assert(!c.present);
}
END_TEST

START_TEST(config_not_ours)
{
    /* FP8 and other methods are left to their readers */
    static const char *const ok[] = {
        "{}", "{\"quantization_config\":null}",
        "{\"quantization_config\":{\"quant_method\":\"fp8\"}}",
        ("{\"quantization_config\":{\"quant_method\":\"compressed-tensors\","
         "\"format\":\"float-quantized\"}}"),
        "{\"quantization_config\":{\"quant_method\":\"compressed-tensors\"}}",
        "{\"quantization_config\":{\"quant_method\":\"compressed-tensors\",\"format\":\"dense\"}}"};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        struct ckpt_ct_config c;
        ckpt_err err = {0};
        ck_assert_int_eq(ckpt_ct_config_parse(&c, ok[i], strlen(ok[i]), "c", &err), CKPT_OK);
        ck_assert(!c.present);
    }
}
END_TEST

/* A written checkpoint with one tensor damaged: each refused by name. */
START_TEST(module_refused)
{
    char *dir = tu_tmpdir(), *src = model("tiny-mistral");
    char *out = quant(dir, "o", "-t W4A16", src);
    ckpt_hf *hf = NULL;
    ckpt_err err = {0};
    ck_assert_int_eq(ckpt_hf_open(&hf, out, &err), CKPT_OK);
    struct ckpt_ct_config c;
    ck_assert_int_eq(ckpt_ct_config_load(&c, hf, &err), CKPT_OK);
    struct ckpt_ct_weight w;
    /* a module that is not there */
    ck_assert_int_eq(ckpt_ct_open(&w, hf, "model.layers.9.mlp.up_proj", &c, "x", &err),
                     CKPT_E_FORMAT);
    ck_assert_ptr_nonnull(strstr(err.msg, "weight_packed"));
    /* the config says 8 bits: the packed width no longer fits weight_shape */
    struct ckpt_ct_config c8 = c;
    c8.bits = 8;
    err = (ckpt_err){0};
    ck_assert_int_eq(ckpt_ct_open(&w, hf, "model.layers.0.mlp.up_proj", &c8, "x", &err),
                     CKPT_E_FORMAT);
    ck_assert_ptr_nonnull(strstr(err.msg, "does not hold the 8-bit packing"));
    /* another group size: the scales do not fit */
    struct ckpt_ct_config cg = c;
    cg.group = 64;
    err = (ckpt_err){0};
    ck_assert_int_eq(ckpt_ct_open(&w, hf, "model.layers.0.mlp.up_proj", &cg, "x", &err),
                     CKPT_E_FORMAT);
    ck_assert_ptr_nonnull(strstr(err.msg, "weight_scale"));
    /* int-quantized wants an I8 weight */
    struct ckpt_ct_config ci = c;
    ci.packed = false;
    ci.bits = 8;
    err = (ckpt_err){0};
    ck_assert_int_eq(ckpt_ct_open(&w, hf, "model.layers.0.mlp.up_proj", &ci, "x", &err),
                     CKPT_E_FORMAT);
    ckpt_hf_close(hf);
    free(out);
    free(src);
    tu_rmtree(dir);
    free(dir);
}
END_TEST

START_TEST(shard_sizes_and_inputs)
{
    uint64_t v = 0;
    ck_assert(ckpt_ct_parse_size("5GB", &v) && v == 5000000000ull);
    ck_assert(ckpt_ct_parse_size("2GiB", &v) && v == 2147483648ull);
    ck_assert(ckpt_ct_parse_size("500MB", &v) && v == 500000000ull);
    ck_assert(ckpt_ct_parse_size("100KB", &v) && v == 100000ull);
    ck_assert(ckpt_ct_parse_size("12345", &v) && v == 12345ull);
    ck_assert(!ckpt_ct_parse_size("5XB", &v));
    ck_assert(!ckpt_ct_parse_size("-1GB", &v));
    ck_assert(!ckpt_ct_parse_size("GB", &v));
    ck_assert(!ckpt_ct_parse_size("0", &v));
    char *dir = tu_tmpdir(), *sub = tu_fmt("%s/a", dir), *f = tu_fmt("%s/a/x.gguf", dir);
    char *mk = tu_fmt("mkdir -p '%s' && printf x > '%s'", sub, f);
    ck_assert_int_eq(tu_run(mk, NULL, NULL), 0);
    ck_assert(ckpt_ct_inside(f, dir));
    ck_assert(ckpt_ct_inside(sub, sub));
    char *later = tu_fmt("%s/a/not-yet.dat", dir);
    ck_assert(ckpt_ct_inside(later, sub)); /* a file to be written: by its directory */
    ck_assert(!ckpt_ct_inside(dir, sub));
    ck_assert(!ckpt_ct_inside(NULL, dir));
    ck_assert(!ckpt_ct_inside("-", dir));
    free(later);
    free(mk);
    free(f);
    free(sub);
    tu_rmtree(dir);
    free(dir);
}
END_TEST

Suite *ctsink_suite(void)
{
    Suite *s = suite_create("ctsink");
    TCase *tc = tcase_create("layout");
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, layout_from_model_dir, 0, sizeof cases / sizeof cases[0]);
    tcase_add_loop_test(tc, layout_from_gguf, 0, 2);
    tcase_add_test(tc, shards_and_index);
    tcase_add_test(tc, directory_published_whole);
    suite_add_tcase(s, tc);
    tc = tcase_create("schema");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, config_schema);
    suite_add_tcase(s, tc);
    tc = tcase_create("behaviour");
    tcase_set_timeout(tc, 300);
    tcase_add_loop_test(tc, behaviour_against_source, 0, 2);
    tcase_add_test(tc, gptq_within_twice_q4_k_m);
    suite_add_tcase(s, tc);
    tc = tcase_create("corrupt");
    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, config_refused, 0, sizeof bad_configs / sizeof bad_configs[0]);
    tcase_add_test(tc, config_not_ours);
    tcase_add_test(tc, shard_sizes_and_inputs);
    tcase_add_test(tc, module_refused);
    suite_add_tcase(s, tc);
    return s;
}
