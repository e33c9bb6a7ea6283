/*
 * compare_type.c - what kind of artifact is being compared, and the limits
 * it is held to.  The kind is general.file_type when a GGUF has it (the
 * llama_ftype numbering: the mix names of llama-quantize), else the type
 * holding most weight bytes; for a model directory, its compressed-tensors
 * scheme (W8A16, W8A8, W4A16: int8 held to Q8_0's limits, int4 to
 * Q4_K_M's), else its dominant dtype.
 *
 * The defaults (README.md, "Comparing an artifact with its source") come
 * from the published llama.cpp figures (top-1 agreement and mean KLD
 * against F16: Q8_0 97.7-98.8% / 0.0004-0.0014, Q6_K 96-97.5% / 0.002-0.005,
 * Q4_K_M 92-95% / 0.013-0.031, Q2_K 71-86% / 0.11-0.45 on Llama 2/3 8B)
 * with about 3x room on KLD for other models and prompts.  The bundled tiny
 * Mistral measures (16 tokens on the built-in prompts): Q8_0 0.997 / 0.00004,
 * Q6_K 0.976 / 0.0005, Q4_K_M 0.935 / 0.0042, Q2_K 0.70 / 0.144, and F16
 * 1.0 / 0: float artifacts must reproduce every greedy token.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "../arch/gguf_keys.h"
#include "../formats/ct.h"
#include "../formats/gguf.h"
#include "../formats/hfdir.h"
#include "compare.h"
#include "compare_impl.h"

/* llama_ftype -> name (llama.h; FORMATS.md §2.4). */
static const struct {
    uint32_t ftype;
    const char *name;
} FTYPES[] = {
    {0, "F32"},     {1, "F16"},     {2, "Q4_0"},    {3, "Q4_1"},    {7, "Q8_0"},
    {8, "Q5_0"},    {9, "Q5_1"},    {10, "Q2_K"},   {11, "Q3_K_S"}, {12, "Q3_K_M"},
    {13, "Q3_K_L"}, {14, "Q4_K_S"}, {15, "Q4_K_M"}, {16, "Q5_K_S"}, {17, "Q5_K_M"},
    {18, "Q6_K"},   {21, "Q2_K_S"}, {25, "IQ4_NL"}, {32, "BF16"},
};

/* Limits per type name: tokens equal, min top-1, max mean KLD. */
static const struct {
    const char *names; /* space-separated */
    int tokens_equal;
    double min_top1, max_kld;
} LIMITS[] = {
    {"F32 F16 BF16", 1, 0.98, 0.001},
    {"Q8_0 FP8 W8A16 W8A8", 0, 0.95, 0.005},
    {"Q6_K", 0, 0.92, 0.02},
    {"Q5_K_M Q5_K_S Q5_K Q5_0 Q5_1", 0, 0.90, 0.04},
    {"Q4_K_M Q4_K_S Q4_K Q4_0 Q4_1 IQ4_NL W4A16", 0, 0.80, 0.10},
    {"Q3_K_L Q3_K_M Q3_K_S Q3_K", 0, 0.70, 0.30},
    {"Q2_K Q2_K_S", 0, 0.55, 0.60},
};

#define TIE_MARGIN 0.02 /* logits; near-ties a change of f32 summation order can flip */

/* Is name (any case) one of the space-separated words of list? */
static bool in_list(const char *list, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = list; *p;) {
        size_t len = strcspn(p, " ");
        if (len == n && strncasecmp(p, name, n) == 0)
            return true;
        p += len;
        p += strspn(p, " ");
    }
    return false;
}

struct ckpt_compare_limits ckpt_compare_default_limits(const char *type_name)
{
    size_t n = sizeof LIMITS / sizeof LIMITS[0], pick = n - 1; /* unknown: the loosest */
    for (size_t i = 0; i < n; i++)
        if (in_list(LIMITS[i].names, type_name))
            pick = i;
    return (struct ckpt_compare_limits){LIMITS[pick].tokens_equal, LIMITS[pick].min_top1,
                                        LIMITS[pick].max_kld, TIE_MARGIN};
}

/* "Q4_K" from "q4_K": the type name upper-cased. */
static void upper_name(char *dst, size_t cap, const char *s)
{
    size_t i = 0;
    for (; s[i] && i + 1 < cap; i++)
        dst[i] = (char)(s[i] >= 'a' && s[i] <= 'z' ? s[i] - 32 : s[i]);
    dst[i] = '\0';
}

static ckpt_status gguf_type(const char *path, struct ckpt_compare_report *r, ckpt_err *err)
{
    ckpt_gguf *g;
    ckpt_status st = ckpt_gguf_open(&g, path, err);
    if (st)
        return st;
    uint32_t ft;
    if (ckpt_gguf_find_kv(g, CKPT_KEY_FILE_TYPE) &&
        ckpt_gguf_get_u32(g, CKPT_KEY_FILE_TYPE, &ft, NULL) == CKPT_OK) {
        for (size_t i = 0; i < sizeof FTYPES / sizeof FTYPES[0]; i++)
            if (FTYPES[i].ftype == ft) {
                snprintf(r->type_name, sizeof r->type_name, "%s", FTYPES[i].name);
                snprintf(r->type_from, sizeof r->type_from, CKPT_KEY_FILE_TYPE);
                ckpt_gguf_close(g);
                return CKPT_OK;
            }
    }
    /* the type holding the most bytes among matrices */
    uint64_t bytes[CKPT_TYPE_COUNT] = {0};
    for (size_t i = 0; i < ckpt_gguf_n_tensors(g); i++) {
        const struct ckpt_gguf_tensor *t = ckpt_gguf_tensor(g, i);
        if (t->n_dims >= 2 && (unsigned)t->type < CKPT_TYPE_COUNT)
            bytes[t->type] += t->n_bytes;
    }
    int best = 0;
    for (int t = 1; t < CKPT_TYPE_COUNT; t++)
        if (bytes[t] > bytes[best])
            best = t;
    upper_name(r->type_name, sizeof r->type_name, ckpt_type_name((uint32_t)best));
    snprintf(r->type_from, sizeof r->type_from, "dominant tensor type");
    ckpt_gguf_close(g);
    return CKPT_OK;
}

static ckpt_status hf_type(const char *path, struct ckpt_compare_report *r, ckpt_err *err)
{
    ckpt_hf *hf;
    ckpt_status st = ckpt_hf_open(&hf, path, err);
    if (st)
        return st;
    struct ckpt_ct_config ct;
    if ((st = ckpt_ct_config_load(&ct, hf, err)) != CKPT_OK || (ct.present && ct.scheme[0])) {
        snprintf(r->type_name, sizeof r->type_name, "%s", ct.scheme);
        snprintf(r->type_from, sizeof r->type_from, "quantization_config");
        ckpt_hf_close(hf);
        return st;
    }
    uint64_t bytes[CKPT_DT_COUNT] = {0};
    for (size_t i = 0; i < ckpt_hf_n_tensors(hf); i++) {
        const struct ckpt_st_tensor *t = ckpt_hf_tensor(hf, i, NULL);
        if (t->n_dims >= 2 && (unsigned)t->dtype < CKPT_DT_COUNT)
            bytes[t->dtype] += t->end - t->begin;
    }
    int best = 0;
    for (int d = 1; d < CKPT_DT_COUNT; d++)
        if (bytes[d] > bytes[best])
            best = d;
    snprintf(r->type_name, sizeof r->type_name, "%s",
             best == CKPT_DT_F8_E4M3 ? "FP8" : ckpt_dtype_name((ckpt_dtype)best));
    snprintf(r->type_from, sizeof r->type_from, "dtype");
    ckpt_hf_close(hf);
    return CKPT_OK;
}

ckpt_status ckpt_compare_artifact_type(const char *path, bool is_gguf,
                                       struct ckpt_compare_report *r, ckpt_err *err)
{
    return is_gguf ? gguf_type(path, r, err) : hf_type(path, r, err);
}
