/*
 * ct.c - compressed-tensors integer checkpoints (see ct.h): the
 * quantization_config, each module's tensors, and its rows dequantized.
 */
#include "ct.h"

#include "../kernels/fp16.h"
#include "../kernels/quant_ct.h"
#include "json_get.h"
#include "json_strict.h"
#include "le.h"
#include "mapfile.h"

#include <stdio.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>

/* ---- quantization_config ---- */

static bool str_is(const cJSON *v, const char *s)
{
    return cJSON_IsString(v) && strcmp(v->valuestring, s) == 0;
}

/* A number member that is an integer, or absent/null (*present false). */
static ckpt_status int_member(const cJSON *o, const char *key, const char *file,
                              const char *where, bool *present, int64_t *out, ckpt_err *err)
{
    const cJSON *v = NULL;
    ckpt_status st = ckpt_json_member_opt(o, key, cJSON_Number | cJSON_NULL, file, where, &v, err);
    *present = st == CKPT_OK && cJSON_IsNumber(v);
    if (*present) {
        if (v->valuedouble != (double)(int64_t)v->valuedouble || v->valuedouble < -1 ||
            v->valuedouble > 1e9)
            return ckpt_err_set(err, CKPT_E_FORMAT, "%s: %s.%s: %g is not a size", file, where,
                                key, v->valuedouble);
        *out = (int64_t)v->valuedouble;
    }
    return st;
}

/* The weights' QuantizationArgs. */
static ckpt_status weight_args(struct ckpt_ct_config *c, const cJSON *w, const char *file,
                               ckpt_err *err)
{
    const char *where = "quantization_config.config_groups.*.weights";
    const cJSON *v;
    bool have;
    int64_t bits = 8, group = 0;
    ckpt_status st = ckpt_json_member_opt(w, "type", cJSON_String, file, where, &v, err);
    if (st == CKPT_OK && v && !str_is(v, "int"))
        return ckpt_err_set(err, CKPT_E_UNSUPPORTED, "%s: %s.type '%s': only int weights are "
                            "read here", file, where, v->valuestring);
    if (st == CKPT_OK)
        st = int_member(w, "num_bits", file, where, &have, &bits, err);
    if (st == CKPT_OK && bits != 4 && bits != 8)
        return ckpt_err_set(err, CKPT_E_UNSUPPORTED, "%s: %s.num_bits %lld: only 4 and 8 bits are "
                            "supported", file, where, (long long)bits);
    if (st == CKPT_OK)
        st = ckpt_json_member_opt(w, "symmetric", cJSON_True | cJSON_False, file, where, &v, err);
    if (st == CKPT_OK && v && !cJSON_IsTrue(v))
        return ckpt_err_set(err, CKPT_E_UNSUPPORTED, "%s: %s.symmetric false: asymmetric weights "
                            "(zero points) are not supported", file, where);
    if (st == CKPT_OK)
        st = ckpt_json_member_opt(w, "dynamic", cJSON_True | cJSON_False | cJSON_String, file,
                                  where, &v, err);
    if (st == CKPT_OK && v && !cJSON_IsFalse(v))
        return ckpt_err_set(err, CKPT_E_UNSUPPORTED, "%s: %s.dynamic: weights quantized at run "
                            "time are not a checkpoint layout", file, where);
    if (st == CKPT_OK)
        st = ckpt_json_member_opt(w, "actorder", cJSON_True | cJSON_False | cJSON_String |
                                  cJSON_NULL, file, where, &v, err);
    if (st == CKPT_OK && v && (cJSON_IsTrue(v) || str_is(v, "group") || str_is(v, "dynamic")))
        return ckpt_err_set(err, CKPT_E_UNSUPPORTED, "%s: %s.actorder: activation-ordered groups "
                            "(weight_g_idx) are not supported", file, where);
    if (st == CKPT_OK)
        st = int_member(w, "group_size", file, where, &have, &group, err);
    if (st == CKPT_OK)
        st = ckpt_json_member_opt(w, "strategy", cJSON_String | cJSON_NULL, file, where, &v, err);
    if (st != CKPT_OK)
        return st;
    /* strategy null: inferred from group_size as QuantizationArgs does */
    const bool channel = str_is(v, "channel") || (!cJSON_IsString(v) && have && group == -1);
    const bool grouped = str_is(v, "group") || (!cJSON_IsString(v) && have && group > 0);
    if (!channel && !grouped)
        return ckpt_err_set(err, CKPT_E_UNSUPPORTED, "%s: %s.strategy '%s': only 'channel' and "
                            "'group' are supported", file, where,
                            cJSON_IsString(v) ? v->valuestring : "tensor");
    if (grouped && !(have && group > 0))
        return ckpt_err_set(err, CKPT_E_FORMAT, "%s: %s: strategy 'group' needs a positive "
                            "group_size", file, where);
    c->bits = (int)bits;
    c->group = grouped ? group : 0;
    return CKPT_OK;
}

static ckpt_status input_args(struct ckpt_ct_config *c, const cJSON *a, const char *file,
                              ckpt_err *err)
{
    if (!a || cJSON_IsNull(a))
        return CKPT_OK;
    const char *where = "quantization_config.config_groups.*.input_activations";
    if (!cJSON_IsObject(a))
        return ckpt_err_set(err, CKPT_E_FORMAT, "%s: %s: not an object", file, where);
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(a, "type");
    const cJSON *bits = cJSON_GetObjectItemCaseSensitive(a, "num_bits");
    const cJSON *dyn = cJSON_GetObjectItemCaseSensitive(a, "dynamic");
    if (!str_is(type, "int") || !cJSON_IsNumber(bits) || bits->valuedouble != 8 ||
        !cJSON_IsTrue(dyn))
        return ckpt_err_set(err, CKPT_E_UNSUPPORTED, "%s: %s: only dynamic int8 activations "
                            "are supported", file, where);
    c->act_int8 = true;
    return CKPT_OK;
}

static void name_scheme(struct ckpt_ct_config *c)
{
    const char *s = c->bits == 4 ? (c->act_int8 ? "" : "W4A16")
                    : c->act_int8 ? "W8A8" : "W8A16";
    snprintf(c->scheme, sizeof c->scheme, "%s", s);
}

static ckpt_status parse_qc(struct ckpt_ct_config *c, const cJSON *qc, const char *file,
                            ckpt_err *err)
{
    const char *where = "quantization_config";
    const cJSON *v, *groups;
    ckpt_status st = ckpt_json_member_opt(qc, "quant_method", cJSON_String, file, where, &v, err);
    if (st != CKPT_OK || !str_is(v, "compressed-tensors"))
        return st;
    if ((st = ckpt_json_member_opt(qc, "format", cJSON_String, file, where, &v, err)) != CKPT_OK ||
        !v) /* no format: an FP8 config of before formats were named (fp8.h) */
        return st;
    const char *f = v->valuestring;
    if (strcmp(f, "float-quantized") == 0 || strcmp(f, "naive-quantized") == 0 ||
        strcmp(f, "dense") == 0)
        return CKPT_OK; /* FP8 (fp8.h), or weights stored as they are */
    if (strcmp(f, "pack-quantized") != 0 && strcmp(f, "int-quantized") != 0)
        return ckpt_err_set(err, CKPT_E_UNSUPPORTED, "%s: %s.format '%s': compressed-tensors "
                            "formats read are pack-quantized, int-quantized and "
                            "float-quantized", file, where, f);
    if ((st = ckpt_json_member(qc, "config_groups", cJSON_Object, file, where, &groups, err)) !=
        CKPT_OK)
        return st;
    if (ckpt_json_count(groups) != 1)
        return ckpt_err_set(err, CKPT_E_UNSUPPORTED, "%s: %s.config_groups: %zu groups; one "
                            "scheme for every Linear is supported", file, where,
                            ckpt_json_count(groups));
    const cJSON *g = groups->child, *w = NULL;
    if (!cJSON_IsObject(g))
        return ckpt_err_set(err, CKPT_E_UNSUPPORTED, "%s: %s.config_groups.%s: a preset name "
                            "rather than explicit arguments", file, where, g->string);
    if ((st = ckpt_json_member(g, "weights", cJSON_Object, file, where, &w, err)) != CKPT_OK ||
        (st = weight_args(c, w, file, err)) != CKPT_OK ||
        (st = input_args(c, cJSON_GetObjectItemCaseSensitive(g, "input_activations"), file,
                         err)) != CKPT_OK)
        return st;
    c->packed = strcmp(f, "pack-quantized") == 0;
    if (!c->packed && c->bits != 8)
        return ckpt_err_set(err, CKPT_E_UNSUPPORTED, "%s: %s: int-quantized weights of %d bits",
                            file, where, c->bits);
    snprintf(c->format, sizeof c->format, "%s", f);
    name_scheme(c);
    c->present = true;
    return CKPT_OK;
}

ckpt_status ckpt_ct_config_parse(struct ckpt_ct_config *c, const char *text, size_t len,
                                 const char *file, ckpt_err *err)
{
    memset(c, 0, sizeof *c);
    ckpt_json *j = NULL;
    ckpt_status st = ckpt_json_parse(&j, text, len, file, NULL, NULL, err);
    if (st != CKPT_OK)
        return st;
    const cJSON *qc = NULL;
    st = ckpt_json_member_opt(ckpt_json_root(j), "quantization_config", cJSON_Object | cJSON_NULL,
                              file, "config", &qc, err);
    if (st == CKPT_OK && cJSON_IsObject(qc))
        st = parse_qc(c, qc, file, err);
    if (st != CKPT_OK)
        memset(c, 0, sizeof *c);
    ckpt_json_free(j);
    return st;
}

ckpt_status ckpt_ct_config_load(struct ckpt_ct_config *c, const ckpt_hf *hf, ckpt_err *err)
{
    memset(c, 0, sizeof *c);
    const struct ckpt_hf_config *h = ckpt_hf_get_config(hf);
    if (!h || !h->has_quantization_config || strcmp(h->quant_method, "compressed-tensors") != 0)
        return CKPT_OK;
    char path[4096];
    if ((size_t)snprintf(path, sizeof path, "%s/%s", ckpt_hf_path(hf), ckpt_hf_config_file(hf)) >=
        sizeof path)
        return ckpt_err_set(err, CKPT_E_USAGE, "%s: path too long", ckpt_hf_path(hf));
    ckpt_map *m = NULL;
    ckpt_status st = ckpt_map_open(&m, path, err);
    if (st == CKPT_OK)
        st = ckpt_ct_config_parse(c, (const char *)m->data, m->size, path, err);
    ckpt_map_close(m);
    return st;
}

bool ckpt_ct_path_scheme(const char *path, char *buf, size_t n)
{
    struct stat sb;
    char cfg[4096];
    if (stat(path, &sb) != 0)
        return false;
    if (S_ISDIR(sb.st_mode))
        snprintf(cfg, sizeof cfg, "%s/config.json", path);
    else {
        const char *slash = strrchr(path, '/');
        snprintf(cfg, sizeof cfg, "%.*sconfig.json", slash ? (int)(slash - path + 1) : 0, path);
    }
    ckpt_map *m = NULL;
    ckpt_err err = {0};
    struct ckpt_ct_config c;
    bool yes = ckpt_map_open(&m, cfg, &err) == CKPT_OK &&
               ckpt_ct_config_parse(&c, (const char *)m->data, m->size, cfg, &err) == CKPT_OK &&
               c.present;
    ckpt_map_close(m);
    if (yes)
        snprintf(buf, n, "%s", c.scheme[0] ? c.scheme : c.format);
    return yes;
}

/* ---- one module ---- */

static const char *const parts[] = {".weight_packed", ".weight_shape", ".weight_scale",
                                    ".weight_zero_point", ".weight_g_idx", ".input_scale"};

bool ckpt_ct_is_part(const char *name)
{
    const size_t n = strlen(name);
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++) {
        const size_t k = strlen(parts[i]);
        if (n > k && strcmp(name + n - k, parts[i]) == 0)
            return true;
    }
    return false;
}

static const struct ckpt_st_tensor *find(const ckpt_hf *hf, const char *base, const char *suffix)
{
    char name[512];
    if ((size_t)snprintf(name, sizeof name, "%s.%s", base, suffix) >= sizeof name)
        return NULL;
    return ckpt_hf_find(hf, name, NULL);
}

static bool float_dtype(ckpt_dtype d)
{
    return d == CKPT_DT_F32 || d == CKPT_DT_F16 || d == CKPT_DT_BF16;
}

/* weight_shape's two values (I64 or I32), which must match the packed tensor. */
static ckpt_status read_shape(const struct ckpt_st_tensor *t, uint64_t v[2], const char *file,
                              ckpt_err *err)
{
    if (t->n_dims != 1 || t->shape[0] != 2 || (t->dtype != CKPT_DT_I64 && t->dtype != CKPT_DT_I32))
        return ckpt_err_set(err, CKPT_E_FORMAT, "%s: tensor '%s': expected I64 or I32 of shape "
                            "[2]", file, t->name);
    for (int i = 0; i < 2; i++) {
        const int64_t x = t->dtype == CKPT_DT_I64 ? (int64_t)le64dec(t->data + 8 * i)
                                                  : (int32_t)le32dec(t->data + 4 * i);
        if (x <= 0 || x > (int64_t)1 << 40)
            return ckpt_err_set(err, CKPT_E_FORMAT, "%s: tensor '%s': %lld is not a dimension",
                                file, t->name, (long long)x);
        v[i] = (uint64_t)x;
    }
    return CKPT_OK;
}

ckpt_status ckpt_ct_open(struct ckpt_ct_weight *w, const ckpt_hf *hf, const char *base,
                         const struct ckpt_ct_config *c, const char *file, ckpt_err *err)
{
    memset(w, 0, sizeof *w);
    if (find(hf, base, "weight_zero_point"))
        return ckpt_err_set(err, CKPT_E_UNSUPPORTED, "%s: '%s.weight_zero_point': asymmetric "
                            "weights are not supported", file, base);
    if (find(hf, base, "weight_g_idx"))
        return ckpt_err_set(err, CKPT_E_UNSUPPORTED, "%s: '%s.weight_g_idx': activation-ordered "
                            "groups are not supported", file, base);
    w->bits = c->bits;
    w->packed = c->packed;
    w->q = find(hf, base, c->packed ? "weight_packed" : "weight");
    w->scale = find(hf, base, "weight_scale");
    if (!w->q || !w->scale)
        return ckpt_err_set(err, CKPT_E_FORMAT, "%s: module '%s': %s.%s and %s.weight_scale are "
                            "needed (%s)", file, base, base,
                            c->packed ? "weight_packed" : "weight", base, c->format);
    const struct ckpt_st_tensor *q = w->q, *s = w->scale;
    if (q->n_dims != 2 || q->dtype != (c->packed ? CKPT_DT_I32 : CKPT_DT_I8))
        return ckpt_err_set(err, CKPT_E_FORMAT, "%s: tensor '%s': expected a 2-D %s tensor, "
                            "found %d-D %s", file, q->name, c->packed ? "I32" : "I8", q->n_dims,
                            ckpt_dtype_name(q->dtype));
    w->rows = q->shape[0];
    w->cols = q->shape[1];
    if (c->packed) {
        const struct ckpt_st_tensor *sh = find(hf, base, "weight_shape");
        uint64_t v[2] = {0, 0};
        ckpt_status st;
        if (!sh)
            return ckpt_err_set(err, CKPT_E_FORMAT, "%s: '%s.weight_shape' is missing", file,
                                base);
        if ((st = read_shape(sh, v, file, err)) != CKPT_OK)
            return st;
        if (v[0] != q->shape[0] || (uint64_t)ckpt_ct_packed_words((int64_t)v[1], c->bits) !=
                                       q->shape[1])
            return ckpt_err_set(err, CKPT_E_FORMAT, "%s: tensor '%s' [%llu, %llu] does not hold "
                                "the %d-bit packing of [%llu, %llu] (weight_shape)", file,
                                q->name, (unsigned long long)q->shape[0],
                                (unsigned long long)q->shape[1], c->bits,
                                (unsigned long long)v[0], (unsigned long long)v[1]);
        w->cols = v[1];
    }
    w->group = c->group > 0 ? (uint64_t)c->group : w->cols;
    if (w->cols == 0 || w->cols % w->group)
        return ckpt_err_set(err, CKPT_E_FORMAT, "%s: module '%s': %llu columns are not a "
                            "multiple of the group size %llu", file, base,
                            (unsigned long long)w->cols, (unsigned long long)w->group);
    const uint64_t ng = w->cols / w->group;
    if (!float_dtype(s->dtype) || s->n_dims != 2 || s->shape[0] != w->rows || s->shape[1] != ng)
        return ckpt_err_set(err, CKPT_E_FORMAT, "%s: tensor '%s': expected F32, F16 or BF16 "
                            "scales of shape [%llu, %llu]", file, s->name,
                            (unsigned long long)w->rows, (unsigned long long)ng);
    return CKPT_OK;
}

static float scale_at(const struct ckpt_st_tensor *s, uint64_t i)
{
    switch (s->dtype) {
    case CKPT_DT_F32: return ckpt_f32_from_bits(le32dec(s->data + 4 * i));
    case CKPT_DT_F16: return ckpt_f16_to_f32(le16dec(s->data + 2 * i));
    default: return ckpt_bf16_to_f32(le16dec(s->data + 2 * i));
    }
}

void ckpt_ct_row(const struct ckpt_ct_weight *w, uint64_t r, float *dst)
{
    const uint64_t ng = w->cols / w->group;
    int8_t q[256];
    for (uint64_t c0 = 0; c0 < w->cols; c0 += 256) {
        const uint64_t n = w->cols - c0 < 256 ? w->cols - c0 : 256;
        if (w->packed) /* 256 values start on a word boundary for 4 and 8 bits */
            ckpt_ct_unpack(w->q->data + r * w->q->shape[1] * 4 + c0 * (uint64_t)w->bits / 8,
                           (int64_t)n, w->bits, q);
        else
            memcpy(q, w->q->data + r * w->cols + c0, n);
        /* each stretch of the chunk that shares one scale */
        for (uint64_t i = 0; i < n;) {
            const uint64_t g = (c0 + i) / w->group;
            uint64_t end = (g + 1) * w->group - c0;
            end = end < n ? end : n;
            const float sc = scale_at(w->scale, r * ng + g);
            ckpt_ct_dequantize(q + i, &sc, (int64_t)(end - i), (int64_t)(end - i), dst + c0 + i);
            i = end;
        }
    }
}

/* ---- as ggml blocks ---- */

#define BLOCK 32 /* values per Q8_0 / Q4_0 block */

ckpt_type ckpt_ct_block_type(const struct ckpt_ct_weight *w)
{
    if (w->cols % BLOCK || w->group % BLOCK)
        return CKPT_TYPE_F32;
    const uint64_t n = w->rows * (w->cols / w->group);
    for (uint64_t i = 0; i < n; i++) {
        const float s = scale_at(w->scale, i);
        if (ckpt_f16_to_f32(ckpt_f32_to_f16(s)) != s)
            return CKPT_TYPE_F32;
    }
    return w->bits == 8 ? CKPT_TYPE_Q8_0 : CKPT_TYPE_Q4_0;
}

/*
 * One block per 32 values, its f16 scale first (little-endian):
 *   Q8_0  d | q[0] .. q[31]                       (34 bytes)
 *   Q4_0  d | (q[j] + 8) | (q[j+16] + 8) << 4     (18 bytes, j = 0..15)
 */
void ckpt_ct_row_blocks(const struct ckpt_ct_weight *w, uint64_t r, void *dst)
{
    const uint64_t ng = w->cols / w->group;
    uint8_t *out = dst;
    int8_t q[BLOCK];
    for (uint64_t c0 = 0; c0 < w->cols; c0 += BLOCK) {
        if (w->packed)
            ckpt_ct_unpack(w->q->data + r * w->q->shape[1] * 4 + c0 * (uint64_t)w->bits / 8,
                           BLOCK, w->bits, q);
        else
            memcpy(q, w->q->data + r * w->cols + c0, BLOCK);
        const uint16_t d = ckpt_f32_to_f16(scale_at(w->scale, r * ng + c0 / w->group));
        *out++ = (uint8_t)d;
        *out++ = (uint8_t)(d >> 8);
        if (w->bits == 8) {
            memcpy(out, q, BLOCK);
            out += BLOCK;
        } else {
            for (int j = 0; j < BLOCK / 2; j++)
                *out++ = (uint8_t)((q[j] + 8) | (q[j + BLOCK / 2] + 8) << 4);
        }
    }
}
