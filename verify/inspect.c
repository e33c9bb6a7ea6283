/*
 * inspect.c - the report behind ckpt-inspect (see inspect.h).
 *
 * Each input format is first turned into the same table of tensor rows
 * (name, type, shape, bytes, file offset, data view); totals, statistics
 * and both output styles are then written from that table, so a GGUF, a
 * safetensors file and a sharded model directory read alike.  Shapes are
 * printed in the order the format stores them: torch order for
 * safetensors ([out, in]), ggml order for GGUF (ne0 first, [in, out]).
 */
#define _GNU_SOURCE
#include "inspect.h"

#include <cjson/cJSON.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../arch/gguf_keys.h"
#include "../formats/ct.h"
#include "../formats/filekind.h"
#include "../formats/gguf.h"
#include "../formats/hfdir.h"
#include "../formats/le.h"
#include "../formats/safetensors.h"
#include "../kernels/fp16.h"
#include "../kernels/quant.h"
#include "../kernels/types.h"

#define MAX_SHOWN_ARRAY 8  /* array elements shown without --all */
#define MAX_SHOWN_STRING 72 /* string bytes shown without --all */

enum data_kind { KIND_GGML, KIND_SAFETENSORS };

struct tensor_row {
    const char *name;
    const char *type;       /* display name */
    const char *file;       /* shard file name (model directories), else NULL */
    int n_dims;
    uint64_t shape[8];
    uint64_t n_elements;
    uint64_t n_bytes;
    uint64_t offset;        /* absolute offset in its file */
    enum data_kind kind;
    int type_id;            /* ckpt_type or ckpt_dtype */
    const uint8_t *data;
};

struct table {
    struct tensor_row *rows;
    size_t n, cap;
};

static ckpt_status table_add(struct table *t, const struct tensor_row *r, ckpt_err *err)
{
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 64;
        struct tensor_row *p = realloc(t->rows, cap * sizeof *p);
        if (!p)
            return ckpt_err_set(err, CKPT_E_NOMEM, "out of memory");
        t->rows = p;
        t->cap = cap;
    }
    t->rows[t->n++] = *r;
    return CKPT_OK;
}

/* ---- text helpers ---- */

/* Print bytes as a quoted string, escaping control characters and quotes. */
static void print_quoted(FILE *out, const char *s, uint64_t len, bool all)
{
    uint64_t shown = (!all && len > MAX_SHOWN_STRING) ? MAX_SHOWN_STRING : len;
    fputc('"', out);
    for (uint64_t i = 0; i < shown; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\')
            fprintf(out, "\\%c", c);
        else if (c == '\n')
            fputs("\\n", out);
        else if (c == '\t')
            fputs("\\t", out);
        else if (c < 0x20 || c == 0x7f)
            fprintf(out, "\\x%02x", c);
        else
            fputc(c, out);
    }
    fputc('"', out);
    if (shown < len)
        fprintf(out, "... (%" PRIu64 " bytes)", len);
}

/* Copy bytes into a NUL-terminated string that is valid UTF-8 (invalid
 * sequences and NULs become U+FFFD) so JSON output is always valid. */
static char *utf8_clean(const char *s, uint64_t len)
{
    if (len > SIZE_MAX / 3 - 1)
        return NULL;
    char *out = malloc((size_t)len * 3 + 1), *o = out;
    if (!out)
        return NULL;
    const unsigned char *p = (const unsigned char *)s, *end = p + len;
    while (p < end) {
        unsigned char c = *p;
        int n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
        bool ok = n > 0 && (size_t)(end - p) >= (size_t)n && c != 0;
        for (int i = 1; ok && i < n; i++)
            ok = (p[i] & 0xc0) == 0x80;
        if (ok && n == 2)
            ok = c >= 0xc2;
        if (ok && n == 3) {
            uint32_t cp = ((uint32_t)(c & 0xf) << 12) | ((uint32_t)(p[1] & 0x3f) << 6) | (p[2] & 0x3f);
            ok = cp >= 0x800 && (cp < 0xd800 || cp > 0xdfff);
        }
        if (ok && n == 4) {
            uint32_t cp = ((uint32_t)(c & 7) << 18) | ((uint32_t)(p[1] & 0x3f) << 12) |
                          ((uint32_t)(p[2] & 0x3f) << 6) | (p[3] & 0x3f);
            ok = cp >= 0x10000 && cp <= 0x10ffff;
        }
        if (ok) {
            memcpy(o, p, (size_t)n);
            o += n;
            p += n;
        } else {
            memcpy(o, "\xef\xbf\xbd", 3);
            o += 3;
            p++;
        }
    }
    *o = '\0';
    return out;
}

static void print_shape(FILE *out, const struct tensor_row *r, int width)
{
    char buf[160];
    int n = snprintf(buf, sizeof buf, "[");
    for (int i = 0; i < r->n_dims && n < (int)sizeof buf; i++)
        n += snprintf(buf + n, sizeof buf - (size_t)n, "%s%" PRIu64, i ? ", " : "", r->shape[i]);
    if (n < (int)sizeof buf)
        snprintf(buf + n, sizeof buf - (size_t)n, "]");
    fprintf(out, "%-*s", width, buf);
}

/* ---- GGUF metadata ---- */

static void print_gguf_scalar(FILE *out, const struct ckpt_gguf_kv *kv, bool all)
{
    switch (kv->type) {
    case CKPT_GGUF_UINT8: case CKPT_GGUF_UINT16: case CKPT_GGUF_UINT32: case CKPT_GGUF_UINT64:
        fprintf(out, "%" PRIu64, kv->v.u64);
        break;
    case CKPT_GGUF_INT8: case CKPT_GGUF_INT16: case CKPT_GGUF_INT32: case CKPT_GGUF_INT64:
        fprintf(out, "%" PRId64, kv->v.i64);
        break;
    case CKPT_GGUF_FLOAT32:
        fprintf(out, "%.9g", kv->v.f64);
        break;
    case CKPT_GGUF_FLOAT64:
        fprintf(out, "%.17g", kv->v.f64);
        break;
    case CKPT_GGUF_BOOL:
        fputs(kv->v.u64 ? "true" : "false", out);
        break;
    case CKPT_GGUF_STRING:
        print_quoted(out, kv->v.str.str, kv->v.str.len, all);
        break;
    default:
        fputs("?", out);
    }
}

static void print_gguf_array(FILE *out, const struct ckpt_gguf_kv *kv, bool all)
{
    uint64_t shown = (!all && kv->n > MAX_SHOWN_ARRAY) ? MAX_SHOWN_ARRAY : kv->n;
    fprintf(out, "[%s x %" PRIu64 "] ", ckpt_gguf_type_name(kv->elem_type), kv->n);
    for (uint64_t i = 0; i < shown; i++) {
        if (i)
            fputs(", ", out);
        if (kv->elem_type == CKPT_GGUF_STRING) {
            print_quoted(out, kv->array_str[i].str, kv->array_str[i].len, all);
        } else if (kv->elem_type == CKPT_GGUF_FLOAT32 || kv->elem_type == CKPT_GGUF_FLOAT64) {
            double v = 0;
            ckpt_gguf_array_f64(kv, i, &v);
            fprintf(out, kv->elem_type == CKPT_GGUF_FLOAT32 ? "%.9g" : "%.17g", v);
        } else if (kv->elem_type == CKPT_GGUF_BOOL) {
            int64_t v = 0;
            ckpt_gguf_array_i64(kv, i, &v);
            fputs(v ? "true" : "false", out);
        } else if (kv->elem_type == CKPT_GGUF_UINT64) {
            fprintf(out, "%" PRIu64, le64dec(kv->array_data + 8 * i));
        } else {
            int64_t v = 0;
            ckpt_gguf_array_i64(kv, i, &v);
            fprintf(out, "%" PRId64, v);
        }
    }
    if (shown < kv->n)
        fputs(", ...", out);
}

static cJSON *json_gguf_value(const struct ckpt_gguf_kv *kv, bool all)
{
    char num[64];
    if (kv->type == CKPT_GGUF_ARRAY) {
        uint64_t shown = (!all && kv->n > MAX_SHOWN_ARRAY) ? MAX_SHOWN_ARRAY : kv->n;
        cJSON *o = cJSON_CreateObject(), *a = cJSON_CreateArray();
        cJSON_AddStringToObject(o, "type", "array");
        cJSON_AddStringToObject(o, "elem_type", ckpt_gguf_type_name(kv->elem_type));
        cJSON_AddItemToObject(o, "count", cJSON_CreateRaw((snprintf(num, sizeof num, "%" PRIu64, kv->n), num)));
        for (uint64_t i = 0; i < shown; i++) {
            if (kv->elem_type == CKPT_GGUF_STRING) {
                char *s = utf8_clean(kv->array_str[i].str, kv->array_str[i].len);
                cJSON_AddItemToArray(a, cJSON_CreateString(s ? s : ""));
                free(s);
            } else if (kv->elem_type == CKPT_GGUF_FLOAT32 || kv->elem_type == CKPT_GGUF_FLOAT64) {
                double v = 0;
                ckpt_gguf_array_f64(kv, i, &v);
                if (isfinite(v)) {
                    snprintf(num, sizeof num, kv->elem_type == CKPT_GGUF_FLOAT32 ? "%.9g" : "%.17g", v);
                    cJSON_AddItemToArray(a, cJSON_CreateRaw(num));
                } else {
                    cJSON_AddItemToArray(a, cJSON_CreateNull());
                }
            } else if (kv->elem_type == CKPT_GGUF_BOOL) {
                int64_t v = 0;
                ckpt_gguf_array_i64(kv, i, &v);
                cJSON_AddItemToArray(a, cJSON_CreateBool(v != 0));
            } else if (kv->elem_type == CKPT_GGUF_UINT64) {
                snprintf(num, sizeof num, "%" PRIu64, le64dec(kv->array_data + 8 * i));
                cJSON_AddItemToArray(a, cJSON_CreateRaw(num));
            } else {
                int64_t v = 0;
                ckpt_gguf_array_i64(kv, i, &v);
                snprintf(num, sizeof num, "%" PRId64, v);
                cJSON_AddItemToArray(a, cJSON_CreateRaw(num));
            }
        }
        cJSON_AddItemToObject(o, "values", a);
        cJSON_AddBoolToObject(o, "truncated", shown < kv->n);
        return o;
    }
    switch (kv->type) {
    case CKPT_GGUF_UINT8: case CKPT_GGUF_UINT16: case CKPT_GGUF_UINT32: case CKPT_GGUF_UINT64:
        snprintf(num, sizeof num, "%" PRIu64, kv->v.u64);
        return cJSON_CreateRaw(num);
    case CKPT_GGUF_INT8: case CKPT_GGUF_INT16: case CKPT_GGUF_INT32: case CKPT_GGUF_INT64:
        snprintf(num, sizeof num, "%" PRId64, kv->v.i64);
        return cJSON_CreateRaw(num);
    case CKPT_GGUF_FLOAT32: case CKPT_GGUF_FLOAT64:
        if (!isfinite(kv->v.f64))
            return cJSON_CreateNull();
        snprintf(num, sizeof num, kv->type == CKPT_GGUF_FLOAT32 ? "%.9g" : "%.17g", kv->v.f64);
        return cJSON_CreateRaw(num);
    case CKPT_GGUF_BOOL:
        return cJSON_CreateBool(kv->v.u64 != 0);
    case CKPT_GGUF_STRING: {
        char *s = utf8_clean(kv->v.str.str, kv->v.str.len);
        cJSON *j = cJSON_CreateString(s ? s : "");
        free(s);
        return j;
    }
    default:
        return cJSON_CreateNull();
    }
}

/* ---- value statistics ---- */

struct stats {
    uint64_t count, nan, inf;
    double min, max, sum, sumsq;
};

static void stats_add(struct stats *s, double v)
{
    if (isnan(v)) {
        s->nan++;
        return;
    }
    if (isinf(v)) {
        s->inf++;
        return;
    }
    if (s->count == 0 || v < s->min)
        s->min = v;
    if (s->count == 0 || v > s->max)
        s->max = v;
    s->sum += v;
    s->sumsq += v * v;
    s->count++;
}

/* One safetensors element as a double; false for dtypes without a value view. */
static bool st_element(int dt, const uint8_t *p, uint64_t i, double *v)
{
    switch (dt) {
    case CKPT_DT_F32: *v = lef32dec(p + 4 * i); return true;
    case CKPT_DT_F16: *v = ckpt_f16_to_f32(le16dec(p + 2 * i)); return true;
    case CKPT_DT_BF16: *v = ckpt_bf16_to_f32(le16dec(p + 2 * i)); return true;
    case CKPT_DT_F64: { uint64_t u = le64dec(p + 8 * i); double d; memcpy(&d, &u, 8); *v = d; return true; }
    case CKPT_DT_F8_E4M3: *v = ckpt_f8_e4m3_to_f32(p[i]); return true;
    case CKPT_DT_F8_E5M2: *v = ckpt_f8_e5m2_to_f32(p[i]); return true;
    case CKPT_DT_BOOL: case CKPT_DT_U8: *v = p[i]; return true;
    case CKPT_DT_I8: *v = (int8_t)p[i]; return true;
    case CKPT_DT_U16: *v = le16dec(p + 2 * i); return true;
    case CKPT_DT_I16: *v = (int16_t)le16dec(p + 2 * i); return true;
    case CKPT_DT_U32: *v = le32dec(p + 4 * i); return true;
    case CKPT_DT_I32: *v = (int32_t)le32dec(p + 4 * i); return true;
    case CKPT_DT_U64: *v = (double)le64dec(p + 8 * i); return true;
    case CKPT_DT_I64: *v = (double)(int64_t)le64dec(p + 8 * i); return true;
    default: return false;
    }
}

static ckpt_status tensor_stats(const char *path, const struct tensor_row *r, struct stats *s,
                                ckpt_err *err)
{
    memset(s, 0, sizeof *s);
    if (r->kind == KIND_SAFETENSORS) {
        double v;
        if (r->n_elements && !st_element(r->type_id, r->data, 0, &v))
            return ckpt_err_set(err, CKPT_E_UNSUPPORTED, "%s: tensor '%s': no value statistics for dtype %s",
                                path, r->name, r->type);
        for (uint64_t i = 0; i < r->n_elements; i++) {
            st_element(r->type_id, r->data, i, &v);
            stats_add(s, v);
        }
        return CKPT_OK;
    }
    /* GGUF: dequantize row by row (ne0 elements each) */
    uint64_t row_len = r->shape[0];
    size_t row_bytes;
    if (row_len == 0 || r->n_elements == 0)
        return CKPT_OK;
    if (!ckpt_type_row_bytes((uint32_t)r->type_id, (int64_t)row_len, &row_bytes) ||
        !ckpt_quant_supported((ckpt_type)r->type_id))
        return ckpt_err_set(err, CKPT_E_UNSUPPORTED, "%s: tensor '%s': no value statistics for type %s",
                            path, r->name, r->type);
    float *buf = malloc(row_len * sizeof *buf);
    if (!buf)
        return ckpt_err_set(err, CKPT_E_NOMEM, "%s: out of memory", path);
    uint64_t n_rows = r->n_elements / row_len;
    for (uint64_t row = 0; row < n_rows; row++) {
        ckpt_dequantize_row((ckpt_type)r->type_id, r->data + row * row_bytes, buf, (int64_t)row_len);
        for (uint64_t i = 0; i < row_len; i++)
            stats_add(s, buf[i]);
    }
    free(buf);
    return CKPT_OK;
}

/* ---- collecting the table ---- */

static ckpt_status add_st_tensors(struct table *t, const ckpt_st *st, const char *file, ckpt_err *err)
{
    for (size_t i = 0; i < ckpt_st_n_tensors(st); i++) {
        const struct ckpt_st_tensor *x = ckpt_st_tensor(st, i);
        struct tensor_row r = {
            .name = x->name, .type = ckpt_dtype_name(x->dtype), .file = file, .n_dims = x->n_dims,
            .n_elements = x->n_elements, .n_bytes = x->end - x->begin,
            .offset = ckpt_st_data_offset(st) + x->begin, .kind = KIND_SAFETENSORS,
            .type_id = (int)x->dtype, .data = x->data,
        };
        for (int d = 0; d < x->n_dims; d++)
            r.shape[d] = x->shape[d];
        if (table_add(t, &r, err) != CKPT_OK)
            return err->code;
    }
    return CKPT_OK;
}

static ckpt_status add_gguf_tensors(struct table *t, const ckpt_gguf *g, ckpt_err *err)
{
    for (size_t i = 0; i < ckpt_gguf_n_tensors(g); i++) {
        const struct ckpt_gguf_tensor *x = ckpt_gguf_tensor(g, i);
        const ckpt_gguf *part = ckpt_gguf_part(g, x->part); /* its file in a split set */
        struct tensor_row r = {
            .name = x->name, .type = ckpt_type_name(x->type), .n_dims = (int)x->n_dims,
            .file = ckpt_gguf_n_parts(g) > 1 ? ckpt_gguf_path(part) : NULL,
            .n_elements = x->n_elements, .n_bytes = x->n_bytes,
            .offset = ckpt_gguf_data_offset(part) + x->offset, .kind = KIND_GGML,
            .type_id = (int)x->type, .data = x->data,
        };
        for (uint32_t d = 0; d < x->n_dims; d++)
            r.shape[d] = (uint64_t)x->ne[d];
        if (table_add(t, &r, err) != CKPT_OK)
            return err->code;
    }
    return CKPT_OK;
}

/* ---- writing the report ---- */

struct type_count {
    const char *type;
    uint64_t tensors, elements, bytes;
};

static size_t histogram(const struct table *t, struct type_count *h, size_t cap)
{
    size_t n = 0;
    for (size_t i = 0; i < t->n; i++) {
        size_t j = 0;
        while (j < n && strcmp(h[j].type, t->rows[i].type) != 0)
            j++;
        if (j == n) {
            if (n == cap)
                continue;
            h[n++] = (struct type_count){t->rows[i].type, 0, 0, 0};
        }
        h[j].tensors++;
        h[j].elements += t->rows[i].n_elements;
        h[j].bytes += t->rows[i].n_bytes;
    }
    return n;
}

static const struct tensor_row *find_row(const struct table *t, const char *name)
{
    for (size_t i = 0; i < t->n; i++)
        if (strcmp(t->rows[i].name, name) == 0)
            return &t->rows[i];
    return NULL;
}

static ckpt_status write_text_tensors(FILE *out, const char *path, const struct table *t,
                                      const struct ckpt_inspect_opts *o, const char *shape_label,
                                      ckpt_err *err)
{
    size_t w = 4;
    bool files = false;
    for (size_t i = 0; i < t->n; i++) {
        size_t l = strlen(t->rows[i].name);
        w = l > w ? l : w;
        files |= t->rows[i].file != NULL;
    }
    if (!o->no_tensors) {
        fprintf(out, "tensors: %zu\n  %-*s  %-7s  %-22s  %12s  %12s%s\n", t->n, (int)w, "name", "type",
                shape_label, "bytes", "offset", files ? "  file" : "");
        for (size_t i = 0; i < t->n; i++) {
            const struct tensor_row *r = &t->rows[i];
            fprintf(out, "  %-*s  %-7s  ", (int)w, r->name, r->type);
            print_shape(out, r, 22);
            fprintf(out, "  %12" PRIu64 "  %12" PRIu64 "%s%s\n", r->n_bytes, r->offset,
                    r->file ? "  " : "", r->file ? r->file : "");
        }
    }
    uint64_t params = 0, bytes = 0;
    for (size_t i = 0; i < t->n; i++) {
        params += t->rows[i].n_elements;
        bytes += t->rows[i].n_bytes;
    }
    struct type_count h[64];
    size_t nh = histogram(t, h, 64);
    fprintf(out, "totals: %" PRIu64 " parameters, %" PRIu64 " bytes, %.4f bits per weight\n", params,
            bytes, params ? 8.0 * (double)bytes / (double)params : 0.0);
    fputs("types:", out);
    for (size_t i = 0; i < nh; i++)
        fprintf(out, "%s %s %" PRIu64, i ? "," : "", h[i].type, h[i].tensors);
    fputc('\n', out);
    return CKPT_OK;
}

/* Every -t name must be a tensor of the input: checked before any
 * statistics are computed, so an unknown name fails at once. */
static ckpt_status check_stats_names(const char *path, const struct table *t,
                                     const struct ckpt_inspect_opts *o, ckpt_err *err)
{
    for (int k = 0; k < o->n_stats_tensors; k++)
        if (!find_row(t, o->stats_tensors[k]))
            return ckpt_err_set(err, CKPT_E_USAGE, "%s: no tensor named '%s'", path,
                                o->stats_tensors[k]);
    return CKPT_OK;
}

/* -t NAME in text: only the statistics lines, nothing else of the report. */
static ckpt_status write_text_stats(FILE *out, const char *path, const struct table *t,
                                    const struct ckpt_inspect_opts *o, ckpt_err *err)
{
    ckpt_status st = check_stats_names(path, t, o, err);
    for (int k = 0; st == CKPT_OK && k < o->n_stats_tensors; k++) {
        const struct tensor_row *r = find_row(t, o->stats_tensors[k]);
        struct stats s;
        if ((st = tensor_stats(path, r, &s, err)) != CKPT_OK)
            break;
        double mean = s.count ? s.sum / (double)s.count : 0;
        double var = s.count ? s.sumsq / (double)s.count - mean * mean : 0;
        fprintf(out, "stats %s: elements %" PRIu64 ", min %.9g, max %.9g, mean %.9g, std %.9g, nan %" PRIu64
                ", inf %" PRIu64 "\n", r->name, r->n_elements, s.min, s.max, mean, var > 0 ? sqrt(var) : 0.0,
                s.nan, s.inf);
    }
    return st;
}

static cJSON *json_number_u64(uint64_t v)
{
    char num[32];
    snprintf(num, sizeof num, "%" PRIu64, v);
    return cJSON_CreateRaw(num);
}

static ckpt_status json_tensors(cJSON *root, const char *path, const struct table *t,
                                const struct ckpt_inspect_opts *o, ckpt_err *err)
{
    uint64_t params = 0, bytes = 0;
    cJSON *arr = cJSON_AddArrayToObject(root, "tensors");
    for (size_t i = 0; i < t->n; i++) {
        const struct tensor_row *r = &t->rows[i];
        params += r->n_elements;
        bytes += r->n_bytes;
        if (o->no_tensors)
            continue;
        cJSON *j = cJSON_CreateObject();
        cJSON_AddStringToObject(j, "name", r->name);
        cJSON_AddStringToObject(j, "type", r->type);
        cJSON *sh = cJSON_AddArrayToObject(j, "shape");
        for (int d = 0; d < r->n_dims; d++)
            cJSON_AddItemToArray(sh, json_number_u64(r->shape[d]));
        cJSON_AddItemToObject(j, "elements", json_number_u64(r->n_elements));
        cJSON_AddItemToObject(j, "bytes", json_number_u64(r->n_bytes));
        cJSON_AddItemToObject(j, "offset", json_number_u64(r->offset));
        if (r->file)
            cJSON_AddStringToObject(j, "file", r->file);
        cJSON_AddItemToArray(arr, j);
    }
    cJSON *tot = cJSON_AddObjectToObject(root, "totals");
    cJSON_AddItemToObject(tot, "tensors", json_number_u64(t->n));
    cJSON_AddItemToObject(tot, "parameters", json_number_u64(params));
    cJSON_AddItemToObject(tot, "bytes", json_number_u64(bytes));
    cJSON_AddNumberToObject(tot, "bits_per_weight", params ? 8.0 * (double)bytes / (double)params : 0.0);
    struct type_count h[64];
    size_t nh = histogram(t, h, 64);
    cJSON *types = cJSON_AddObjectToObject(tot, "types");
    for (size_t i = 0; i < nh; i++)
        cJSON_AddItemToObject(types, h[i].type, json_number_u64(h[i].tensors));
    if (o->n_stats_tensors) {
        ckpt_status cs = check_stats_names(path, t, o, err);
        if (cs != CKPT_OK)
            return cs;
        cJSON *st = cJSON_AddObjectToObject(root, "stats");
        for (int k = 0; k < o->n_stats_tensors; k++) {
            const struct tensor_row *r = find_row(t, o->stats_tensors[k]);
            if (!r)
                return ckpt_err_set(err, CKPT_E_USAGE, "%s: no tensor named '%s'", path,
                                    o->stats_tensors[k]);
            struct stats s;
            if (tensor_stats(path, r, &s, err) != CKPT_OK)
                return err->code;
            double mean = s.count ? s.sum / (double)s.count : 0;
            double var = s.count ? s.sumsq / (double)s.count - mean * mean : 0;
            cJSON *j = cJSON_AddObjectToObject(st, r->name);
            cJSON_AddItemToObject(j, "elements", json_number_u64(r->n_elements));
            cJSON_AddNumberToObject(j, "min", s.min);
            cJSON_AddNumberToObject(j, "max", s.max);
            cJSON_AddNumberToObject(j, "mean", mean);
            cJSON_AddNumberToObject(j, "std", var > 0 ? sqrt(var) : 0.0);
            cJSON_AddItemToObject(j, "nan", json_number_u64(s.nan));
            cJSON_AddItemToObject(j, "inf", json_number_u64(s.inf));
        }
    }
    return CKPT_OK;
}

static ckpt_status emit_json(FILE *out, cJSON *root, const char *path, ckpt_err *err)
{
    char *s = cJSON_PrintUnformatted(root);
    if (!s)
        return ckpt_err_set(err, CKPT_E_NOMEM, "%s: out of memory", path);
    fprintf(out, "%s\n", s);
    free(s);
    return CKPT_OK;
}

static ckpt_status inspect_gguf(const char *path, const ckpt_map *m,
                                const struct ckpt_inspect_opts *o, FILE *out, ckpt_err *err)
{
    ckpt_gguf *g = NULL;
    struct table t = {0};
    cJSON *root = NULL;
    ckpt_status s = ckpt_gguf_open_buffer(&g, path, m->data, m->size, err);
    if (s != CKPT_OK)
        return s;
    /* the first file of a split set stands for the set (a later part is
     * shown alone, as the file it is) */
    const struct ckpt_gguf_kv *no = ckpt_gguf_find_kv(g, CKPT_KEY_SPLIT_NO);
    const struct ckpt_gguf_kv *count = ckpt_gguf_find_kv(g, CKPT_KEY_SPLIT_COUNT);
    int64_t v;
    if (count && ckpt_gguf_array_i64(count, 0, &v) && v > 1 &&
        (!no || (ckpt_gguf_array_i64(no, 0, &v) && v == 0))) {
        ckpt_gguf_close(g);
        if ((s = ckpt_gguf_open(&g, path, err)) != CKPT_OK)
            return s;
    }
    if ((s = add_gguf_tensors(&t, g, err)) != CKPT_OK)
        goto out;
    if (o->json) {
        root = cJSON_CreateObject();
        cJSON_AddStringToObject(root, "file", path);
        cJSON_AddStringToObject(root, "format", "gguf");
        cJSON_AddItemToObject(root, "version", json_number_u64(ckpt_gguf_version(g)));
        cJSON_AddItemToObject(root, "alignment", json_number_u64(ckpt_gguf_alignment(g)));
        cJSON_AddItemToObject(root, "data_offset", json_number_u64(ckpt_gguf_data_offset(g)));
        cJSON_AddItemToObject(root, "file_size", json_number_u64(ckpt_gguf_file_size(g)));
        if (ckpt_gguf_n_parts(g) > 1) {
            cJSON *files = cJSON_AddArrayToObject(root, "split_files");
            for (size_t i = 0; i < ckpt_gguf_n_parts(g); i++)
                cJSON_AddItemToArray(files, cJSON_CreateString(ckpt_gguf_path(ckpt_gguf_part(g, i))));
            cJSON_AddItemToObject(root, "split_size", json_number_u64(ckpt_gguf_set_size(g)));
        }
        cJSON *md = cJSON_AddArrayToObject(root, "metadata");
        for (size_t i = 0; i < ckpt_gguf_n_kv(g); i++) {
            const struct ckpt_gguf_kv *kv = ckpt_gguf_kv_at(g, i);
            cJSON *j = cJSON_CreateObject();
            cJSON_AddStringToObject(j, "key", kv->key);
            cJSON_AddStringToObject(j, "type", ckpt_gguf_type_name(kv->type));
            cJSON_AddItemToObject(j, "value", json_gguf_value(kv, o->all));
            cJSON_AddItemToArray(md, j);
        }
        if ((s = json_tensors(root, path, &t, o, err)) == CKPT_OK)
            s = emit_json(out, root, path, err);
        goto out;
    }
    if (o->n_stats_tensors) {
        s = write_text_stats(out, path, &t, o, err);
        goto out;
    }
    fprintf(out, "%s: GGUF v%u, alignment %u, %zu metadata keys, %zu tensors, %" PRIu64 " bytes\n", path,
            ckpt_gguf_version(g), ckpt_gguf_alignment(g), ckpt_gguf_n_kv(g), ckpt_gguf_n_tensors(g),
            ckpt_gguf_file_size(g));
    if (ckpt_gguf_n_parts(g) > 1)
        fprintf(out, "split set: %zu files, %" PRIu64 " bytes in all; tensors list their file\n",
                ckpt_gguf_n_parts(g), ckpt_gguf_set_size(g));
    fputs("metadata:\n", out);
    for (size_t i = 0; i < ckpt_gguf_n_kv(g); i++) {
        const struct ckpt_gguf_kv *kv = ckpt_gguf_kv_at(g, i);
        fprintf(out, "  %s = ", kv->key);
        if (kv->type == CKPT_GGUF_ARRAY)
            print_gguf_array(out, kv, o->all);
        else
            print_gguf_scalar(out, kv, o->all);
        if (kv->type != CKPT_GGUF_ARRAY)
            fprintf(out, " (%s)", ckpt_gguf_type_name(kv->type));
        fputc('\n', out);
    }
    s = write_text_tensors(out, path, &t, o, "shape (ggml ne)", err);
out:
    cJSON_Delete(root);
    free(t.rows);
    ckpt_gguf_close(g);
    return s;
}

static void json_st_metadata(cJSON *root, const ckpt_st *st)
{
    cJSON *md = cJSON_AddObjectToObject(root, "metadata");
    for (size_t i = 0; i < ckpt_st_n_metadata(st); i++) {
        const char *k, *v;
        ckpt_st_metadata(st, i, &k, &v);
        cJSON_AddStringToObject(md, k, v);
    }
}

static void text_st_metadata(FILE *out, const ckpt_st *st, bool all)
{
    if (ckpt_st_n_metadata(st) == 0)
        return;
    fputs("metadata:\n", out);
    for (size_t i = 0; i < ckpt_st_n_metadata(st); i++) {
        const char *k, *v;
        ckpt_st_metadata(st, i, &k, &v);
        fprintf(out, "  %s = ", k);
        print_quoted(out, v, strlen(v), all);
        fputc('\n', out);
    }
}

static ckpt_status inspect_safetensors(const char *path, const ckpt_map *m,
                                       const struct ckpt_inspect_opts *o, FILE *out, ckpt_err *err)
{
    ckpt_st *st = NULL;
    struct table t = {0};
    cJSON *root = NULL;
    ckpt_status s = ckpt_st_open_buffer(&st, path, m->data, m->size, NULL, err);
    if (s != CKPT_OK)
        return s;
    if ((s = add_st_tensors(&t, st, NULL, err)) != CKPT_OK)
        goto out;
    if (o->json) {
        root = cJSON_CreateObject();
        cJSON_AddStringToObject(root, "file", path);
        cJSON_AddStringToObject(root, "format", "safetensors");
        cJSON_AddItemToObject(root, "header_size", json_number_u64(ckpt_st_header_size(st)));
        cJSON_AddItemToObject(root, "file_size", json_number_u64(ckpt_st_file_size(st)));
        json_st_metadata(root, st);
        if ((s = json_tensors(root, path, &t, o, err)) == CKPT_OK)
            s = emit_json(out, root, path, err);
        goto out;
    }
    if (o->n_stats_tensors) {
        s = write_text_stats(out, path, &t, o, err);
        goto out;
    }
    fprintf(out, "%s: safetensors, header %" PRIu64 " bytes, %zu tensors, %" PRIu64 " bytes\n", path,
            ckpt_st_header_size(st), ckpt_st_n_tensors(st), ckpt_st_file_size(st));
    text_st_metadata(out, st, o->all);
    s = write_text_tensors(out, path, &t, o, "shape", err);
out:
    cJSON_Delete(root);
    free(t.rows);
    ckpt_st_close(st);
    return s;
}

/* ---- Hugging Face model directories ---- */

/* by bit of ckpt_hf_files */
static const char *tokenizer_files[CKPT_HF_N_FILE_BITS] = {
    "tokenizer.model",         "tokenizer.json",         "tokenizer_config.json",
    "special_tokens_map.json", "generation_config.json", "tekken.json"};

static void json_hf_config(cJSON *root, const struct ckpt_hf_config *c)
{
    cJSON *j = cJSON_AddObjectToObject(root, "config");
    cJSON_AddStringToObject(j, "architecture", c->arch->hf_class);
    cJSON_AddItemToObject(j, "hidden_size", json_number_u64(c->hidden_size));
    cJSON_AddItemToObject(j, "intermediate_size", json_number_u64(c->intermediate_size));
    cJSON_AddItemToObject(j, "num_hidden_layers", json_number_u64(c->n_layers));
    cJSON_AddItemToObject(j, "num_attention_heads", json_number_u64(c->n_heads));
    cJSON_AddItemToObject(j, "num_key_value_heads", json_number_u64(c->n_kv_heads));
    cJSON_AddItemToObject(j, "head_dim", json_number_u64(c->head_dim));
    cJSON_AddItemToObject(j, "vocab_size", json_number_u64(c->vocab_size));
    cJSON_AddItemToObject(j, "max_position_embeddings", json_number_u64(c->max_position_embeddings));
    cJSON_AddNumberToObject(j, "rms_norm_eps", c->rms_norm_eps);
    cJSON_AddNumberToObject(j, "rope_theta", c->rope_theta);
    if (c->has_sliding_window)
        cJSON_AddItemToObject(j, "sliding_window", json_number_u64(c->sliding_window));
    else
        cJSON_AddNullToObject(j, "sliding_window");
    cJSON_AddBoolToObject(j, "tie_word_embeddings", c->tie_word_embeddings);
    if (c->arch->features & CKPT_FEAT_EXPERTS) {
        cJSON_AddItemToObject(j, "num_local_experts", json_number_u64(c->n_experts));
        cJSON_AddItemToObject(j, "num_experts_per_tok", json_number_u64(c->n_experts_per_tok));
    }
    cJSON_AddNumberToObject(j, "bos_token_id", (double)c->bos_token_id);
    cJSON_AddNumberToObject(j, "eos_token_id", (double)c->eos_token_id);
    if (c->torch_dtype[0])
        cJSON_AddStringToObject(j, "torch_dtype", c->torch_dtype);
    if (c->has_quantization_config)
        cJSON_AddStringToObject(j, "quant_method", c->quant_method);
}

static void text_hf_config(FILE *out, const struct ckpt_hf_config *c)
{
    fprintf(out, "config: %s, hidden %u, layers %u, heads %u (kv %u, head_dim %u), ffn %u, vocab %u\n",
            c->arch->hf_class, c->hidden_size, c->n_layers, c->n_heads, c->n_kv_heads,
            c->head_dim, c->intermediate_size, c->vocab_size);
    fprintf(out, "  rms_norm_eps %g, rope_theta %g, context %" PRIu64 ", sliding_window ", c->rms_norm_eps,
            c->rope_theta, c->max_position_embeddings);
    if (c->has_sliding_window)
        fprintf(out, "%u", c->sliding_window);
    else
        fputs("none", out);
    fprintf(out, ", tied embeddings %s", c->tie_word_embeddings ? "yes" : "no");
    if (c->arch->features & CKPT_FEAT_EXPERTS)
        fprintf(out, ", experts %u (top %u)", c->n_experts, c->n_experts_per_tok);
    fprintf(out, "\n  bos %" PRId64 ", eos %" PRId64 "%s%s%s%s\n", c->bos_token_id, c->eos_token_id,
            c->torch_dtype[0] ? ", dtype " : "", c->torch_dtype,
            c->has_quantization_config ? ", quantization " : "", c->quant_method);
}

/* An integer compressed-tensors checkpoint's scheme (formats/ct.h), in words. */
static void ct_describe(const struct ckpt_ct_config *c, char *buf, size_t n)
{
    char g[32] = "per channel";
    if (c->group > 0)
        snprintf(g, sizeof g, "groups of %lld", (long long)c->group);
    snprintf(buf, n, "%s (compressed-tensors %s): int%d weights, symmetric, %s; %s activations",
             c->scheme[0] ? c->scheme : "?", c->format, c->bits, g,
             c->act_int8 ? "int8 dynamic per-token" : "float");
}

static ckpt_status inspect_model_dir(const char *path, const struct ckpt_inspect_opts *o, FILE *out,
                                     ckpt_err *err)
{
    ckpt_hf *hf = NULL;
    struct table t = {0};
    cJSON *root = NULL;
    struct ckpt_ct_config ct;
    char scheme[256] = "";
    ckpt_status s = ckpt_hf_open(&hf, path, err);
    if (s == CKPT_OK && (s = ckpt_ct_config_load(&ct, hf, err)) != CKPT_OK)
        ckpt_hf_close(hf);
    if (s != CKPT_OK)
        return s;
    if (ct.present)
        ct_describe(&ct, scheme, sizeof scheme);
    for (size_t i = 0; i < ckpt_hf_n_shards(hf); i++)
        if ((s = add_st_tensors(&t, ckpt_hf_shard(hf, i), ckpt_hf_shard_name(hf, i), err)) != CKPT_OK)
            goto out;
    const struct ckpt_hf_config *cfg = ckpt_hf_get_config(hf);
    unsigned files = ckpt_hf_files(hf);
    static const char *layouts[] = {"", "file", "model.safetensors", "indexed shards", "shard series"};
    /* a single file by its own name: consolidated.safetensors in Mistral's layout */
    const char *layout = ckpt_hf_get_layout(hf) == CKPT_HF_LAYOUT_SINGLE ? ckpt_hf_shard_name(hf, 0)
                                                                         : layouts[ckpt_hf_get_layout(hf)];
    if (o->json) {
        root = cJSON_CreateObject();
        cJSON_AddStringToObject(root, "file", path);
        cJSON_AddStringToObject(root, "format", "huggingface");
        cJSON_AddStringToObject(root, "layout", layout);
        if (cfg)
            json_hf_config(root, cfg);
        if (ct.present) {
            cJSON *q = cJSON_AddObjectToObject(root, "scheme");
            cJSON_AddStringToObject(q, "name", ct.scheme);
            cJSON_AddStringToObject(q, "format", ct.format);
            cJSON_AddNumberToObject(q, "bits", ct.bits);
            cJSON_AddNumberToObject(q, "group_size", (double)ct.group);
            cJSON_AddBoolToObject(q, "int8_activations", ct.act_int8);
            cJSON_AddStringToObject(q, "description", scheme);
        }
        cJSON *sh = cJSON_AddArrayToObject(root, "shards");
        for (size_t i = 0; i < ckpt_hf_n_shards(hf); i++)
            cJSON_AddItemToArray(sh, cJSON_CreateString(ckpt_hf_shard_name(hf, i)));
        cJSON *tf = cJSON_AddArrayToObject(root, "files");
        for (unsigned b = 0; b < CKPT_HF_N_FILE_BITS; b++)
            if (files & (1u << b))
                cJSON_AddItemToArray(tf, cJSON_CreateString(b ? tokenizer_files[b]
                                                               : ckpt_hf_spm_file(hf)));
        if ((s = json_tensors(root, path, &t, o, err)) == CKPT_OK)
            s = emit_json(out, root, path, err);
        goto out;
    }
    if (o->n_stats_tensors) {
        s = write_text_stats(out, path, &t, o, err);
        goto out;
    }
    bool own = strcmp(ckpt_hf_config_file(hf), "params.json") == 0;
    fprintf(out, "%s: %s, %s, %zu shard%s, %zu tensors\n", path,
            own ? "Mistral model (Mistral's own layout)" : "Hugging Face model",
            layout, ckpt_hf_n_shards(hf), ckpt_hf_n_shards(hf) == 1 ? "" : "s",
            t.n);
    if (cfg)
        text_hf_config(out, cfg);
    if (ct.present)
        fprintf(out, "scheme: %s\n", scheme);
    fputs("files:", out);
    for (size_t i = 0; i < ckpt_hf_n_shards(hf); i++)
        fprintf(out, " %s", ckpt_hf_shard_name(hf, i));
    for (unsigned b = 0; b < CKPT_HF_N_FILE_BITS; b++)
        if (files & (1u << b))
            fprintf(out, " %s", b ? tokenizer_files[b] : ckpt_hf_spm_file(hf));
    fputc('\n', out);
    s = write_text_tensors(out, path, &t, o, "shape", err);
out:
    cJSON_Delete(root);
    free(t.rows);
    ckpt_hf_close(hf);
    return s;
}

/* ---- dispatch ---- */

static ckpt_status inspect_any(const char *path, const struct ckpt_inspect_opts *o, FILE *out,
                               ckpt_err *err)
{
    struct stat sb;
    if (strcmp(path, "-") != 0 && stat(path, &sb) == 0 && S_ISDIR(sb.st_mode))
        return inspect_model_dir(path, o, out, err);
    /* Map once and sniff, so "-" (spooled stdin) works for both formats. */
    ckpt_map *m = NULL;
    ckpt_status s = ckpt_map_open(&m, path, err);
    if (s != CKPT_OK)
        return s;
    /* A name ending in .gguf is held to the GGUF format (a wrong magic is
     * an error, not a cue to try safetensors); otherwise the magic decides. */
    size_t len = strlen(path);
    bool named_gguf = len >= 5 && strcmp(path + len - 5, ".gguf") == 0;
    ckpt_file_kind kind = ckpt_file_kind_of(m->data, m->size < 65536 ? m->size : 65536, m->size);
    if (named_gguf || kind == CKPT_KIND_GGUF)
        s = inspect_gguf(path, m, o, out, err);
    else if (kind == CKPT_KIND_SAFETENSORS || kind == CKPT_KIND_UNKNOWN ||
             kind == CKPT_KIND_EMPTY)
        s = inspect_safetensors(path, m, o, out, err);
    else
        s = ckpt_file_refuse(path, kind, "a model (GGUF, safetensors or a model directory)", err);
    ckpt_map_close(m);
    return s;
}

ckpt_status ckpt_inspect_path(const char *path, const struct ckpt_inspect_opts *o, char **text,
                              size_t *len, ckpt_err *err)
{
    /* The report is built in memory: the library never writes to the
     * caller's streams, and a failed report leaves nothing half-printed. */
    *text = NULL;
    *len = 0;
    char *buf = NULL;
    size_t n = 0;
    FILE *out = open_memstream(&buf, &n);
    if (!out)
        return ckpt_err_set(err, CKPT_E_NOMEM, "%s: out of memory", path);
    ckpt_status s = inspect_any(path, o, out, err);
    if (fclose(out) != 0 && s == CKPT_OK)
        s = ckpt_err_set(err, CKPT_E_NOMEM, "%s: out of memory for the report", path);
    if (s != CKPT_OK) {
        free(buf);
        return s;
    }
    *text = buf;
    *len = n;
    return CKPT_OK;
}
