/*
 * plan.c - per-tensor type choice for the quantization mixes, following
 * llama-quantize's rules (LLAMACPP.md section e) branch for branch for the
 * mixes ckpt offers; see plan.h.  The IQ mixes and the Falcon-specific
 * branches are not offered and not modelled.
 */
#include "plan.h"

#include "../arch/arch.h"
#include "overrides.h"

#include <ctype.h>
#include <stdio.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct mix_info {
    const char *name;
    uint32_t file_type; /* llama_ftype */
    ckpt_type type;     /* default type */
    const char *about;
};

static const struct mix_info mixes[CKPT_MIX_COUNT] = {
    [CKPT_MIX_F32] = {"F32", 0, CKPT_TYPE_F32, "32-bit floats, no quantization"},
    [CKPT_MIX_F16] = {"F16", 1, CKPT_TYPE_F16, "16-bit floats"},
    [CKPT_MIX_BF16] = {"BF16", 32, CKPT_TYPE_BF16, "bfloat16"},
    [CKPT_MIX_Q4_0] = {"Q4_0", 2, CKPT_TYPE_Q4_0, "4.5 bits per weight, legacy"},
    [CKPT_MIX_Q4_1] = {"Q4_1", 3, CKPT_TYPE_Q4_1, "5.0 bits per weight, legacy"},
    [CKPT_MIX_Q5_0] = {"Q5_0", 8, CKPT_TYPE_Q5_0, "5.5 bits per weight, legacy"},
    [CKPT_MIX_Q5_1] = {"Q5_1", 9, CKPT_TYPE_Q5_1, "6.0 bits per weight, legacy"},
    [CKPT_MIX_Q8_0] = {"Q8_0", 7, CKPT_TYPE_Q8_0, "8.5 bits per weight, near lossless"},
    [CKPT_MIX_Q2_K] = {"Q2_K", 10, CKPT_TYPE_Q2_K, "q2_K, attn_v q4_K/q3_K, ffn_down q3_K"},
    [CKPT_MIX_Q3_K_S] = {"Q3_K_S", 11, CKPT_TYPE_Q3_K, "q3_K everywhere"},
    [CKPT_MIX_Q3_K_M] = {"Q3_K_M", 12, CKPT_TYPE_Q3_K, "q3_K, attn_v/ffn_down q5_K first, q4_K"},
    [CKPT_MIX_Q3_K_L] = {"Q3_K_L", 13, CKPT_TYPE_Q3_K, "q3_K, attn_v/attn_output/ffn_down q5_K"},
    [CKPT_MIX_Q4_K_S] = {"Q4_K_S", 14, CKPT_TYPE_Q4_K, "q4_K, first layers' attn_v/ffn_down q5_K"},
    [CKPT_MIX_Q4_K_M] = {"Q4_K_M", 15, CKPT_TYPE_Q4_K, "q4_K, half of attn_v/ffn_down q6_K"},
    [CKPT_MIX_Q5_K_S] = {"Q5_K_S", 16, CKPT_TYPE_Q5_K, "q5_K everywhere"},
    [CKPT_MIX_Q5_K_M] = {"Q5_K_M", 17, CKPT_TYPE_Q5_K, "q5_K, half of attn_v/ffn_down q6_K"},
    [CKPT_MIX_Q6_K] = {"Q6_K", 18, CKPT_TYPE_Q6_K, "6.6 bits per weight"},
};

const char *ckpt_mix_name(ckpt_mix m)
{
    return (unsigned)m < CKPT_MIX_COUNT ? mixes[m].name : "?";
}

int ckpt_mix_from_name(const char *name)
{
    for (int m = 0; m < CKPT_MIX_COUNT; m++)
        if (strcasecmp(name, mixes[m].name) == 0)
            return m;
    return -1;
}

/* llama-quantize's aliases for three mixes. */
static const struct {
    const char *name;
    ckpt_mix mix;
} aliases[] = {{"Q3_K", CKPT_MIX_Q3_K_M}, {"Q4_K", CKPT_MIX_Q4_K_M}, {"Q5_K", CKPT_MIX_Q5_K_M}};

/* What llama-quantize offers and ckpt does not write, with its ids. */
static const struct {
    const char *name;
    int id; /* llama_ftype, -1 when it has none of its own */
} foreign[] = {
    {"IQ2_XXS", 19}, {"IQ2_XS", 20}, {"Q2_K_S", 21}, {"IQ3_XS", 22},   {"IQ3_XXS", 23},
    {"IQ1_S", 24},   {"IQ4_NL", 25}, {"IQ3_S", 26},  {"IQ3_M", 27},    {"IQ2_S", 28},
    {"IQ2_M", 29},   {"IQ4_XS", 30}, {"IQ1_M", 31},  {"TQ1_0", 36},    {"TQ2_0", 37},
    {"MXFP4_MOE", 38}, {"COPY", -1},
};

int ckpt_mix_parse(const char *arg)
{
    int m = ckpt_mix_from_name(arg);
    if (m >= 0)
        return m;
    for (size_t i = 0; i < sizeof aliases / sizeof aliases[0]; i++)
        if (strcasecmp(arg, aliases[i].name) == 0)
            return (int)aliases[i].mix;
    char *end;
    errno = 0;
    long id = strtol(arg, &end, 10);
    if (errno || end == arg || *end || !isdigit((unsigned char)arg[0]))
        return -1;
    for (m = 0; m < CKPT_MIX_COUNT; m++)
        if ((long)mixes[m].file_type == id)
            return m;
    return -1;
}

char *ckpt_mix_explain(const char *arg, char *buf, size_t n)
{
    size_t k = 0;
    char *end;
    long id = strtol(arg, &end, 10);
    const bool numeric = end != arg && !*end;
    int f = -1;
    for (size_t i = 0; i < sizeof foreign / sizeof foreign[0] && f < 0; i++)
        if (numeric ? foreign[i].id == id : strcasecmp(arg, foreign[i].name) == 0)
            f = (int)i;
    if (f >= 0)
        k = (size_t)snprintf(buf, n, "llama-quantize's %s is not produced by ckpt; ",
                             foreign[f].name);
    else
        k = (size_t)snprintf(buf, n, "unknown mix '%s'; ", arg);
    k += (size_t)snprintf(buf + (k < n ? k : n), k < n ? n - k : 0, "valid:");
    for (int m = 0; m < CKPT_MIX_COUNT; m++)
        k += (size_t)snprintf(buf + (k < n ? k : n), k < n ? n - k : 0, " %s (%u)",
                              mixes[m].name, mixes[m].file_type);
    k += (size_t)snprintf(buf + (k < n ? k : n), k < n ? n - k : 0,
                          ", aliases Q3_K, Q4_K, Q5_K; not made by ckpt:");
    for (size_t i = 0; i < sizeof foreign / sizeof foreign[0]; i++)
        k += (size_t)snprintf(buf + (k < n ? k : n), k < n ? n - k : 0, "%s%s",
                              i ? ", " : " ", foreign[i].name);
    return buf;
}

uint32_t ckpt_mix_file_type(ckpt_mix m)
{
    return (unsigned)m < CKPT_MIX_COUNT ? mixes[m].file_type : 0;
}

int ckpt_mix_from_file_type(uint32_t file_type)
{
    for (int m = 0; m < CKPT_MIX_COUNT; m++)
        if (mixes[m].file_type == file_type)
            return m;
    return -1;
}

ckpt_type ckpt_mix_default_type(ckpt_mix m)
{
    return (unsigned)m < CKPT_MIX_COUNT ? mixes[m].type : CKPT_TYPE_F32;
}

const char *ckpt_mix_describe(ckpt_mix m)
{
    return (unsigned)m < CKPT_MIX_COUNT ? mixes[m].about : NULL;
}

bool ckpt_qplan_type_storable(int type)
{
    const struct ckpt_type_traits *tr = ckpt_type_traits((uint32_t)type);
    if (!tr || type < 0)
        return false;
    /* what ckpt can write: the kernels' types except the activation-only q8_K */
    static const ckpt_type ok[] = {CKPT_TYPE_F32,  CKPT_TYPE_F16,  CKPT_TYPE_BF16, CKPT_TYPE_Q4_0,
                                   CKPT_TYPE_Q4_1, CKPT_TYPE_Q5_0, CKPT_TYPE_Q5_1, CKPT_TYPE_Q8_0,
                                   CKPT_TYPE_Q2_K, CKPT_TYPE_Q3_K, CKPT_TYPE_Q4_K, CKPT_TYPE_Q5_K,
                                   CKPT_TYPE_Q6_K, CKPT_TYPE_IQ4_NL};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
        if ((int)ok[i] == type)
            return true;
    return false;
}

/* ==== names ==== */

/* Layer of "blk.N." as sscanf("blk.%d.") reads it; false if there is none. */
static bool parse_layer(const char *name, int *layer)
{
    if (strncmp(name, "blk.", 4) != 0)
        return false;
    const char *p = name + 4;
    while (isspace((unsigned char)*p))
        p++;
    char *end;
    errno = 0;
    long v = strtol(p, &end, 10);
    if (end == p || errno == ERANGE || v < -2147483647L - 1 || v > 2147483647L)
        return false;
    *layer = (int)v;
    return true;
}

int ckpt_qplan_compare_names(const char *a, const char *b)
{
    int la = -1, lb = -1;
    parse_layer(a, &la);
    parse_layer(b, &lb);
    if (la != lb)
        return la < lb ? -1 : 1;
    return strcmp(a, b);
}

static bool has(const char *s, const char *part)
{
    return strstr(s, part) != NULL;
}

/* ggml_n_dims: trailing dims of size 1 do not count, at least 1. */
static int n_dims_of(const int64_t ne[4])
{
    for (int i = 3; i >= 1; i--)
        if (ne[i] != 1)
            return i + 1;
    return 1;
}

bool ckpt_qplan_is_matrix(const struct ckpt_qplan_tensor *t)
{
    /* llama-quantize also leaves these two of other architectures alone */
    return !ckpt_arch_keep_f32(t->name, (uint32_t)n_dims_of(t->ne)) &&
           strcmp(t->name, "position_embd.weight") != 0 &&
           strcmp(t->name, "token_types.weight") != 0;
}

/* ==== the rules ==== */

struct state {
    const struct ckpt_qplan_model *m;
    const struct ckpt_qplan_opts *o;
    bool has_output;
    int n_attention_wv, i_attention_wv;
    int i_ffn_down, i_ffn_gate, i_ffn_up;
};

static bool use_more_bits(int i, int n)
{
    return i < n / 8 || i >= 7 * n / 8 || (i - n / 8) % 3 == 2;
}

static int64_t block_of(ckpt_type t)
{
    const struct ckpt_type_traits *tr = ckpt_type_traits((uint32_t)t);
    return tr ? tr->block_elems : 1;
}

/* Layer index for an ffn rule: the running counter for dense models, the
 * number in the name for MoE models (whose experts are not consecutive). */
static ckpt_status layer_of(const struct state *s, int counter, const char *name, int *layer,
                            ckpt_err *err)
{
    *layer = counter;
    if (s->m->n_expert <= 1)
        return CKPT_OK;
    if (!parse_layer(name, layer))
        return ckpt_err_set(err, CKPT_E_FORMAT, "tensor '%s': cannot read its layer number",
                            name);
    if (*layer < 0 || *layer >= s->m->n_layer)
        return ckpt_err_set(err, CKPT_E_FORMAT, "tensor '%s': layer %d is not below %d", name,
                            *layer, s->m->n_layer);
    return CKPT_OK;
}

static ckpt_type rule_output(const struct state *s, ckpt_type t, const int64_t ne[4])
{
    if (s->o->output_type >= 0)
        return (ckpt_type)s->o->output_type;
    if (ne[0] % block_of(t) != 0)
        return CKPT_TYPE_Q8_0;
    return t == CKPT_TYPE_Q8_0 ? t : CKPT_TYPE_Q6_K;
}

static ckpt_type rule_attn_v(struct state *s, ckpt_type t)
{
    const ckpt_mix mix = s->o->mix;
    const int n_gqa = s->m->n_head_kv > 0 ? s->m->n_head / s->m->n_head_kv : 0;
    const int i = s->i_attention_wv;
    if (mix == CKPT_MIX_Q2_K)
        t = n_gqa >= 4 ? CKPT_TYPE_Q4_K : CKPT_TYPE_Q3_K;
    else if (mix == CKPT_MIX_Q3_K_M)
        t = i < 2 ? CKPT_TYPE_Q5_K : CKPT_TYPE_Q4_K;
    else if (mix == CKPT_MIX_Q3_K_L)
        t = CKPT_TYPE_Q5_K;
    else if ((mix == CKPT_MIX_Q4_K_M || mix == CKPT_MIX_Q5_K_M) &&
             use_more_bits(i, s->n_attention_wv))
        t = CKPT_TYPE_Q6_K;
    else if (mix == CKPT_MIX_Q4_K_S && i < 4)
        t = CKPT_TYPE_Q5_K;
    /* llama.cpp's 70B: 80 layers, grouped-query attention, not 8 experts */
    bool is_70b = s->m->n_expert != 8 && s->m->n_layer == 80 && s->m->n_head != s->m->n_head_kv;
    if (is_70b && (t == CKPT_TYPE_Q3_K || t == CKPT_TYPE_Q4_K))
        t = CKPT_TYPE_Q5_K;
    if (s->m->n_expert == 8)
        t = CKPT_TYPE_Q8_0;
    s->i_attention_wv++;
    return t;
}

static ckpt_type rule_ffn_down(const struct state *s, ckpt_type t, int i, int n)
{
    switch (s->o->mix) {
    case CKPT_MIX_Q2_K:
        return CKPT_TYPE_Q3_K;
    case CKPT_MIX_Q3_K_M:
        return i < n / 16 ? CKPT_TYPE_Q5_K : CKPT_TYPE_Q4_K;
    case CKPT_MIX_Q3_K_L:
        return CKPT_TYPE_Q5_K;
    case CKPT_MIX_Q4_K_M:
    case CKPT_MIX_Q5_K_M:
        return use_more_bits(i, n) ? CKPT_TYPE_Q6_K : t;
    case CKPT_MIX_Q4_K_S:
        return i < n / 8 ? CKPT_TYPE_Q5_K : t;
    case CKPT_MIX_Q4_0:
        return s->o->has_imatrix && i < n / 8 ? CKPT_TYPE_Q4_1 : t;
    case CKPT_MIX_Q5_0:
        return s->o->has_imatrix && i < n / 8 ? CKPT_TYPE_Q5_1 : t;
    default:
        return t;
    }
}

static ckpt_type rule_attn_output(const struct state *s, ckpt_type t)
{
    const ckpt_mix mix = s->o->mix;
    if (s->m->n_expert == 8) {
        if (mix == CKPT_MIX_Q2_K || mix == CKPT_MIX_Q3_K_S || mix == CKPT_MIX_Q3_K_M ||
            mix == CKPT_MIX_Q4_K_S || mix == CKPT_MIX_Q4_K_M)
            return CKPT_TYPE_Q5_K;
        return t;
    }
    if (mix == CKPT_MIX_Q2_K)
        return CKPT_TYPE_Q3_K;
    if (mix == CKPT_MIX_Q3_K_M)
        return CKPT_TYPE_Q4_K;
    if (mix == CKPT_MIX_Q3_K_L)
        return CKPT_TYPE_Q5_K;
    return t;
}

/* The row-length fallback: a type whose block divides ne[0]. */
static ckpt_type fallback(ckpt_type t, int64_t ne0)
{
    if (ne0 % block_of(t) == 0)
        return t;
    switch (t) {
    case CKPT_TYPE_Q2_K:
    case CKPT_TYPE_Q3_K:
        t = CKPT_TYPE_IQ4_NL;
        break;
    case CKPT_TYPE_Q4_K:
        t = CKPT_TYPE_Q5_0;
        break;
    case CKPT_TYPE_Q5_K:
        t = CKPT_TYPE_Q5_1;
        break;
    case CKPT_TYPE_Q6_K:
        t = CKPT_TYPE_Q8_0;
        break;
    default: /* llama-quantize gives up here; F16 always fits */
        return CKPT_TYPE_F16;
    }
    return ne0 % block_of(t) == 0 ? t : CKPT_TYPE_F16;
}

/* llama_tensor_get_type: the rules' type for one matrix, counters advanced. */
static ckpt_status rules(struct state *s, const struct ckpt_qplan_tensor *t, ckpt_type *out,
                         ckpt_err *err)
{
    const char *name = t->name;
    ckpt_type nt = ckpt_mix_default_type(s->o->mix);
    int layer;
    ckpt_status st = CKPT_OK;

    if (strcmp(name, "output.weight") == 0 ||
        (!s->has_output && strcmp(name, "token_embd.weight") == 0)) {
        nt = rule_output(s, nt, t->ne);
    } else if (strcmp(name, "token_embd.weight") == 0) {
        if (s->o->token_embd_type >= 0)
            nt = (ckpt_type)s->o->token_embd_type;
    } else if (has(name, "attn_v.weight")) {
        nt = rule_attn_v(s, nt);
    } else if (has(name, "attn_k.weight")) {
        if (s->m->n_expert == 8)
            nt = CKPT_TYPE_Q8_0;
    } else if (has(name, "attn_q.weight")) {
        /* only the IQ mixes change it */
    } else if (has(name, "ffn_down")) {
        if ((st = layer_of(s, s->i_ffn_down, name, &layer, err)) != CKPT_OK)
            return st;
        nt = rule_ffn_down(s, nt, layer, s->m->n_layer);
        s->i_ffn_down++;
    } else if (has(name, "attn_output.weight")) {
        nt = rule_attn_output(s, nt);
    } else if (has(name, "ffn_gate")) {
        /* only IQ3_XS changes it, but the layer is still read (and checked) */
        if ((st = layer_of(s, s->i_ffn_gate, name, &layer, err)) != CKPT_OK)
            return st;
        s->i_ffn_gate++;
    } else if (has(name, "ffn_up")) {
        if ((st = layer_of(s, s->i_ffn_up, name, &layer, err)) != CKPT_OK)
            return st;
        s->i_ffn_up++;
    }
    *out = nt;
    return CKPT_OK;
}

/* An explicit type must be storable and divide the row length. */
static ckpt_status check_explicit(const char *flag, int type, const struct ckpt_qplan_tensor *t,
                                  ckpt_err *err)
{
    if (!ckpt_qplan_type_storable(type))
        return ckpt_err_set(err, CKPT_E_USAGE, "%s: type %s cannot be written", flag,
                            ckpt_type_name((uint32_t)type));
    if (t->ne[0] % block_of((ckpt_type)type) != 0)
        return ckpt_err_set(err, CKPT_E_USAGE,
                            "%s %s: row length %lld of tensor '%s' is not a multiple of %lld",
                            flag, ckpt_type_name((uint32_t)type), (long long)t->ne[0], t->name,
                            (long long)block_of((ckpt_type)type));
    return CKPT_OK;
}

/* ==== the whole model ==== */

/* Stable merge sort of tensor indexes by ckpt_qplan_compare_names (no globals). */
static void sort_order(const struct ckpt_qplan_tensor *t, size_t *order, size_t *tmp, size_t n)
{
    if (n < 2)
        return;
    size_t h = n / 2;
    sort_order(t, order, tmp, h);
    sort_order(t, order + h, tmp, n - h);
    size_t i = 0, j = h, k = 0;
    while (i < h && j < n)
        tmp[k++] = ckpt_qplan_compare_names(t[order[j]].name, t[order[i]].name) < 0 ? order[j++]
                                                                                   : order[i++];
    while (i < h)
        tmp[k++] = order[i++];
    while (j < n)
        tmp[k++] = order[j++];
    memcpy(order, tmp, n * sizeof *order);
}

ckpt_status ckpt_qplan_make(const struct ckpt_qplan_model *model,
                            const struct ckpt_qplan_opts *opts, const struct ckpt_qplan_tensor *t,
                            size_t n, size_t *order, struct ckpt_qplan_choice *choice,
                            ckpt_err *err)
{
    if ((unsigned)opts->mix >= CKPT_MIX_COUNT)
        return ckpt_err_set(err, CKPT_E_USAGE, "unknown quantization mix %d", (int)opts->mix);
    if (opts->output_type >= 0 && !ckpt_qplan_type_storable(opts->output_type))
        return ckpt_err_set(err, CKPT_E_USAGE, "--output-tensor-type: type %s cannot be written",
                            ckpt_type_name((uint32_t)opts->output_type));
    if (opts->token_embd_type >= 0 && !ckpt_qplan_type_storable(opts->token_embd_type))
        return ckpt_err_set(err, CKPT_E_USAGE,
                            "--token-embedding-type: type %s cannot be written",
                            ckpt_type_name((uint32_t)opts->token_embd_type));

    struct state s = {.m = model, .o = opts};
    for (size_t i = 0; i < n; i++) {
        order[i] = i;
        if (has(t[i].name, "attn_v.weight") || has(t[i].name, "attn_qkv.weight") ||
            has(t[i].name, "attn_kv_b.weight"))
            s.n_attention_wv++;
        else if (strcmp(t[i].name, "output.weight") == 0)
            s.has_output = true;
    }
    size_t *tmp = n ? malloc(n * sizeof *tmp) : NULL;
    if (n && !tmp)
        return ckpt_err_set(err, CKPT_E_NOMEM, "out of memory planning %zu tensors", n);
    sort_order(t, order, tmp, n);
    free(tmp);

    const ckpt_type def = ckpt_mix_default_type(opts->mix);
    const bool quantized = ckpt_type_traits((uint32_t)def)->is_quantized;
    for (size_t k = 0; k < n; k++) {
        const struct ckpt_qplan_tensor *ti = &t[order[k]];
        struct ckpt_qplan_choice *c = &choice[order[k]];
        c->matrix = ckpt_qplan_is_matrix(ti) &&
                    !(opts->leave_output && strcmp(ti->name, "output.weight") == 0);
        c->type = c->wanted = ti->type;
        if (c->matrix) {
            ckpt_type nt = def;
            const int manual = quantized ? ckpt_qtt_match(opts->tensor_types, ti->name) : -1;
            if (manual >= 0) {
                nt = (ckpt_type)manual;
            } else if (quantized && !opts->pure) {
                ckpt_status st = rules(&s, ti, &nt, err);
                if (st != CKPT_OK)
                    return st;
            }
            c->wanted = nt;
            nt = fallback(nt, ti->ne[0]);
            if (opts->token_embd_type >= 0 && strcmp(ti->name, "token_embd.weight") == 0) {
                ckpt_status st = check_explicit("--token-embedding-type", opts->token_embd_type,
                                                ti, err);
                if (st != CKPT_OK)
                    return st;
                nt = c->wanted = (ckpt_type)opts->token_embd_type;
            }
            if (opts->output_type >= 0 && strcmp(ti->name, "output.weight") == 0) {
                ckpt_status st = check_explicit("--output-tensor-type", opts->output_type, ti, err);
                if (st != CKPT_OK)
                    return st;
                nt = c->wanted = (ckpt_type)opts->output_type;
            }
            c->type = nt;
        }
        c->convert = c->type != ti->type;
    }
    return CKPT_OK;
}
