/*
 * quant.c - the quantization dispatch table (one entry per type id) and
 * the validating front end ckpt_quantize_rows (see quant.h).  Block sizes
 * and byte sizes come from the type table in types.c; this table adds
 * the kernels and where each block keeps its scales.  Where a type's
 * kernel can take its scale searches from the dispatch table (the same
 * bytes in every ISA), it gets those of ckpt_kernels_get().
 */
#include "quant.h"

#include "dispatch.h"
#include "dot_kernels.h"
#include "fp16.h"
#include "quant_blocks.h"
#include "quant_k_common.h"
#include "quant_kernels.h"

#include <math.h>
#include <string.h>

enum scale_kind { SCALE_NONE, SCALE_F16, SCALE_BF16, SCALE_F32 };

/* nrow rows of n_per_row; imatrix NULL or n_per_row weights; returns bytes */
typedef size_t (*quantize_fn)(const float *src, void *dst, int64_t nrow, int64_t n_per_row,
                              const float *imatrix);
/* the same, with the scale searches of a kernel table */
typedef size_t (*quantize_kq_fn)(const float *src, void *dst, int64_t nrow, int64_t n_per_row,
                                 const float *imatrix, const struct ckpt_kq_kernels *kq);

struct quant_entry {
    quantize_fn quantize;
    void (*to_float)(const void *src, float *dst, int64_t n);
    enum scale_kind scale_kind; /* type of the scale fields of a block */
    uint8_t n_scales;           /* how many (0..2) */
    uint16_t scale_off[2];      /* their byte offsets inside the block */
    quantize_kq_fn quantize_kq; /* quantize with the searches of a kernel table; NULL if none */
};

/* ---- plain types: conversions with the quantizer signature ---- */

static size_t quantize_f32(const float *src, void *dst, int64_t nrow, int64_t n_per_row,
                           const float *imatrix)
{
    (void)imatrix;
    size_t bytes = (size_t)(nrow * n_per_row) * sizeof(float);
    if (bytes) /* an empty tensor may have no data pointer at all */
        memcpy(dst, src, bytes);
    return bytes;
}

static void f32_to_float(const void *src, float *dst, int64_t n)
{
    if (n > 0)
        memcpy(dst, src, (size_t)n * sizeof(float));
}

static size_t quantize_f16(const float *src, void *dst, int64_t nrow, int64_t n_per_row,
                           const float *imatrix)
{
    (void)imatrix;
    uint8_t *y = dst;
    for (int64_t i = 0; i < nrow * n_per_row; ++i) {
        uint16_t h = ckpt_f32_to_f16(src[i]);
        memcpy(y + 2 * i, &h, 2);
    }
    return (size_t)(nrow * n_per_row) * 2;
}

static size_t quantize_bf16(const float *src, void *dst, int64_t nrow, int64_t n_per_row,
                            const float *imatrix)
{
    (void)imatrix;
    uint8_t *y = dst;
    for (int64_t i = 0; i < nrow * n_per_row; ++i) {
        uint16_t h = ckpt_f32_to_bf16(src[i]);
        memcpy(y + 2 * i, &h, 2);
    }
    return (size_t)(nrow * n_per_row) * 2;
}

/* ---- the table ---- */

#define OFF(T, field) ((uint16_t)offsetof(T, field))

static const struct quant_entry quant_table[CKPT_TYPE_COUNT] = {
    [CKPT_TYPE_F32] = {quantize_f32, f32_to_float, SCALE_NONE, 0, {0, 0}, NULL},
    [CKPT_TYPE_F16] = {quantize_f16, ckpt_f16_to_f32_ref, SCALE_F16, 1, {0, 0}, NULL},
    [CKPT_TYPE_BF16] = {quantize_bf16, ckpt_bf16_to_f32_ref, SCALE_BF16, 1, {0, 0}, NULL},
    [CKPT_TYPE_Q4_0] = {ckpt_quantize_q4_0, ckpt_dequantize_row_q4_0, SCALE_F16, 1,
                        {OFF(block_q4_0, d), 0}, NULL},
    [CKPT_TYPE_Q4_1] = {ckpt_quantize_q4_1, ckpt_dequantize_row_q4_1, SCALE_F16, 2,
                        {OFF(block_q4_1, d), OFF(block_q4_1, m)}, NULL},
    [CKPT_TYPE_Q5_0] = {ckpt_quantize_q5_0, ckpt_dequantize_row_q5_0, SCALE_F16, 1,
                        {OFF(block_q5_0, d), 0}, NULL},
    [CKPT_TYPE_Q5_1] = {ckpt_quantize_q5_1, ckpt_dequantize_row_q5_1, SCALE_F16, 2,
                        {OFF(block_q5_1, d), OFF(block_q5_1, m)}, NULL},
    [CKPT_TYPE_Q8_0] = {ckpt_quantize_q8_0, ckpt_dequantize_row_q8_0, SCALE_F16, 1,
                        {OFF(block_q8_0, d), 0}, NULL},
    [CKPT_TYPE_Q2_K] = {ckpt_quantize_q2_K, ckpt_dequantize_row_q2_K, SCALE_F16, 2,
                        {OFF(block_q2_K, d), OFF(block_q2_K, dmin)}, NULL},
    [CKPT_TYPE_Q3_K] = {ckpt_quantize_q3_K, ckpt_dequantize_row_q3_K, SCALE_F16, 1,
                        {OFF(block_q3_K, d), 0}, NULL},
    [CKPT_TYPE_Q4_K] = {ckpt_quantize_q4_K, ckpt_dequantize_row_q4_K, SCALE_F16, 2,
                        {OFF(block_q4_K, d), OFF(block_q4_K, dmin)}, ckpt_quantize_q4_K_kq},
    [CKPT_TYPE_Q5_K] = {ckpt_quantize_q5_K, ckpt_dequantize_row_q5_K, SCALE_F16, 2,
                        {OFF(block_q5_K, d), OFF(block_q5_K, dmin)}, ckpt_quantize_q5_K_kq},
    [CKPT_TYPE_Q6_K] = {ckpt_quantize_q6_K, ckpt_dequantize_row_q6_K, SCALE_F16, 1,
                        {OFF(block_q6_K, d), 0}, ckpt_quantize_q6_K_kq},
    [CKPT_TYPE_Q8_K] = {ckpt_quantize_q8_K, ckpt_dequantize_row_q8_K, SCALE_F32, 1,
                        {OFF(block_q8_K, d), 0}, NULL},
    [CKPT_TYPE_IQ4_NL] = {ckpt_quantize_iq4_nl, ckpt_dequantize_row_iq4_nl, SCALE_F16, 1,
                          {OFF(block_iq4_nl, d), 0}, NULL},
};

/* The entry and traits of t, or NULL if t has no kernels. */
static const struct quant_entry *entry_of(ckpt_type t, const struct ckpt_type_traits **tr)
{
    if ((unsigned)t >= CKPT_TYPE_COUNT || !quant_table[t].quantize)
        return NULL;
    *tr = ckpt_type_traits((uint32_t)t);
    return *tr ? &quant_table[t] : NULL;
}

bool ckpt_quant_supported(ckpt_type t)
{
    const struct ckpt_type_traits *tr;
    return entry_of(t, &tr) != NULL;
}

/* Is the scale field at p finite? */
static bool scale_finite(enum scale_kind kind, const uint8_t *p)
{
    uint16_t h;
    float f;
    switch (kind) {
    case SCALE_F16:
        memcpy(&h, p, 2);
        return (h & 0x7c00) != 0x7c00;
    case SCALE_BF16:
        memcpy(&h, p, 2);
        return (h & 0x7f80) != 0x7f80;
    case SCALE_F32:
        memcpy(&f, p, 4);
        return isfinite(f);
    default:
        return true;
    }
}

bool ckpt_quant_row_scales_ok(ckpt_type t, const void *row, int64_t n, int64_t *bad_block)
{
    const struct ckpt_type_traits *tr;
    const struct quant_entry *e = entry_of(t, &tr);
    if (!e || n < 0 || n % tr->block_elems != 0)
        return false;
    const uint8_t *p = row;
    for (int64_t b = 0; b < n / tr->block_elems; ++b, p += tr->block_bytes) {
        for (int s = 0; s < e->n_scales; ++s) {
            if (!scale_finite(e->scale_kind, p + e->scale_off[s])) {
                if (bad_block)
                    *bad_block = b;
                return false;
            }
        }
    }
    return true;
}

/* Quantize with e's kernel, taking the scale searches from table k where
 * the type has a choice (the same bytes either way). */
static size_t run_kernel(const struct quant_entry *e, const struct ckpt_kernels *k,
                         const float *src, void *dst, int64_t n_rows, int64_t n_per_row,
                         const float *imatrix)
{
    return e->quantize_kq ? e->quantize_kq(src, dst, n_rows, n_per_row, imatrix, k->kq)
                          : e->quantize(src, dst, n_rows, n_per_row, imatrix);
}

size_t ckpt_quantize_rows_isa(ckpt_isa isa, ckpt_type t, const float *src, void *dst,
                              int64_t n_rows, int64_t n_per_row, const float *imatrix)
{
    const struct ckpt_type_traits *tr;
    const struct quant_entry *e = entry_of(t, &tr);
    const struct ckpt_kernels *k = ckpt_kernels_of(isa);
    if (!e || !k || n_rows < 0 || n_per_row <= 0 || n_per_row % tr->block_elems != 0)
        return 0;
    return run_kernel(e, k, src, dst, n_rows, n_per_row, imatrix);
}

size_t ckpt_quantize_rows_unchecked(ckpt_type t, const float *src, void *dst, int64_t n_rows,
                                    int64_t n_per_row, const float *imatrix)
{
    return ckpt_quantize_rows_isa(ckpt_isa_default(), t, src, dst, n_rows, n_per_row, imatrix);
}

/* First non-finite value of x[0..n), or -1. */
static int64_t first_non_finite(const float *x, int64_t n)
{
    for (int64_t i = 0; i < n; ++i)
        if (!isfinite(x[i]))
            return i;
    return -1;
}

static const char *describe(float v)
{
    return isnan(v) ? "nan" : v > 0 ? "+inf" : "-inf";
}

ckpt_status ckpt_quantize_rows(ckpt_type t, const float *src, void *dst, int64_t n_rows,
                               int64_t n_per_row, const float *imatrix, ckpt_err *err)
{
    const struct ckpt_type_traits *tr;
    const struct quant_entry *e = entry_of(t, &tr);
    if (!e)
        return ckpt_err_set(err, CKPT_E_UNSUPPORTED, "cannot quantize to type %s (id %d)",
                            ckpt_type_name((uint32_t)t), (int)t);
    const char *name = tr->name;
    if (n_rows < 0 || n_per_row <= 0 || n_per_row % tr->block_elems != 0)
        return ckpt_err_set(err, CKPT_E_USAGE,
                            "%s: row length %lld is not a positive multiple of %lld", name,
                            (long long)n_per_row, (long long)tr->block_elems);
    if (n_rows > 0 && (!src || !dst))
        return ckpt_err_set(err, CKPT_E_USAGE, "%s: NULL buffer", name);
    if (imatrix) {
        int64_t c = first_non_finite(imatrix, n_per_row);
        if (c >= 0)
            return ckpt_err_set(err, CKPT_E_VALUE, "%s: importance weight of column %lld is %s",
                                name, (long long)c, describe(imatrix[c]));
    }
    const size_t row_bytes = (size_t)(n_per_row / tr->block_elems) * tr->block_bytes;
    const struct ckpt_kernels *k = ckpt_kernels_get();
    for (int64_t r = 0; r < n_rows; ++r) {
        const float *x = src + r * n_per_row;
        uint8_t *y = (uint8_t *)dst + (size_t)r * row_bytes;
        int64_t c = first_non_finite(x, n_per_row);
        if (c >= 0)
            return ckpt_err_set(err, CKPT_E_VALUE, "%s: row %lld, column %lld: value is %s",
                                name, (long long)r, (long long)c, describe(x[c]));
        run_kernel(e, k, x, y, 1, n_per_row, imatrix);
        int64_t b;
        if (!ckpt_quant_row_scales_ok(t, y, n_per_row, &b)) {
            if (tr->block_elems == 1)
                return ckpt_err_set(err, CKPT_E_VALUE,
                                    "%s: row %lld, column %lld: value %g overflows %s", name,
                                    (long long)r, (long long)b, (double)x[b], name);
            return ckpt_err_set(err, CKPT_E_VALUE,
                                "%s: row %lld, block %lld: stored scale is inf or nan (values "
                                "too large for the format, or degenerate)",
                                name, (long long)r, (long long)b);
        }
    }
    return CKPT_OK;
}

bool ckpt_dequantize_row(ckpt_type t, const void *src, float *dst, int64_t n)
{
    const struct ckpt_type_traits *tr;
    const struct quant_entry *e = entry_of(t, &tr);
    if (!e || n < 0 || n % tr->block_elems != 0)
        return false;
    e->to_float(src, dst, n);
    return true;
}
