/*
 * rows.c - read planned tensors row by row (see plan.h): find the source
 * row (expert stacking, Q/K permutation), widen its values to f32 (F8 rows
 * through formats/fp8.h, compressed-tensors integer rows through
 * formats/ct.h, the loader's readers too); and tell the kernel which source pages are wanted or done with.
 * Mapped data may be unaligned, so every load goes through memcpy.
 */
#include <string.h>

#include "../formats/le.h"
#include "../kernels/dispatch.h"
#include "../kernels/fp16.h"
#include "../kernels/permute.h"
#include "plan.h"

int64_t ckpt_plan_rows(const struct ckpt_plan_tensor *t) { return t->ne[1] * t->ne[2] * t->ne[3]; }

uint64_t ckpt_plan_bytes(const struct ckpt_plan_tensor *t)
{
    size_t row = 0;
    if (!ckpt_type_row_bytes(t->type, t->ne[0], &row))
        return 0;
    return (uint64_t)row * (uint64_t)ckpt_plan_rows(t);
}

int64_t ckpt_plan_row_group(const struct ckpt_plan_tensor *t)
{
    return t->permute_heads && t->src_rows > 1 ? t->src_rows / t->permute_heads : 1;
}

static size_t elem_size(ckpt_dtype d) { return ckpt_dtype_bits(d) / 8; }

/* Source tensor and source row of GGUF row `row`. */
static const struct ckpt_plan_src *locate(const struct ckpt_plan_tensor *t, int64_t row,
                                          int64_t *src_row)
{
    int64_t e = row / t->src_rows, r = row % t->src_rows;
    if (t->permute_heads && t->src_rows > 1)
        r = ckpt_qk_hf_row(r, t->src_rows, t->permute_heads);
    *src_row = r;
    return &t->src[e];
}

/* n values of dtype d (F32, F16, BF16) at p, widened (exact: the same
 * floats in every ISA of dispatch.h). */
static void widen(ckpt_dtype d, const uint8_t *p, float *dst, int64_t n)
{
    switch (d) {
    case CKPT_DT_F32:
        memcpy(dst, p, (size_t)n * 4);
        break;
    case CKPT_DT_F16:
        ckpt_kernels_get()->f16_to_f32(p, dst, n);
        break;
    default: /* BF16 */
        ckpt_kernels_get()->bf16_to_f32(p, dst, n);
        break;
    }
}

void ckpt_plan_read_f32(const struct ckpt_plan *plan, const struct ckpt_plan_tensor *t,
                        int64_t row, float *dst)
{
    size_t es = elem_size(t->dtype);
    if (t->src_rows == 1 && t->permute_heads) {
        /* a 1-D Q/K bias: its values are the rows (never F8: that is 2-D only) */
        const struct ckpt_st_tensor *s = t->src[0].t;
        for (int64_t i = 0; i < t->cols; i++)
            widen(t->dtype, s->data + (size_t)ckpt_qk_hf_row(i, t->cols, t->permute_heads) * es,
                  dst + i, 1);
        return;
    }
    int64_t r;
    const struct ckpt_plan_src *ps = locate(t, row, &r);
    if (ps->fp8)
        ckpt_fp8_row(&ps->fp8w, (uint64_t)r, dst);
    else if (ps->ct)
        ckpt_ct_row(&ps->ctw, (uint64_t)r, dst);
    else
        widen(t->dtype, ps->t->data + (size_t)r * (size_t)t->cols * es, dst, t->cols);
}

bool ckpt_plan_copies_rows(const struct ckpt_plan_tensor *t)
{
    bool same = (t->type == CKPT_TYPE_F32 && t->dtype == CKPT_DT_F32) ||
                (t->type == CKPT_TYPE_F16 && t->dtype == CKPT_DT_F16) ||
                (t->type == CKPT_TYPE_BF16 && t->dtype == CKPT_DT_BF16);
    return same && !(t->src_rows == 1 && t->permute_heads);
}

const uint8_t *ckpt_plan_row_bytes(const struct ckpt_plan_tensor *t, int64_t row)
{
    if (!ckpt_plan_copies_rows(t))
        return NULL;
    int64_t r;
    const struct ckpt_plan_src *ps = locate(t, row, &r);
    return ps->t->data + (size_t)r * (size_t)t->cols * elem_size(t->dtype);
}

/* Byte range in its shard's mapping of the source rows behind [row0, row1)
 * (one source tensor; widened to whole heads for permuted tensors). */
static const ckpt_map *span(const struct ckpt_plan_tensor *t, int64_t row0, int64_t row1,
                            size_t *off, size_t *len)
{
    if (row1 <= row0)
        return NULL;
    const struct ckpt_plan_src *ps = &t->src[row0 / t->src_rows];
    if (ps->ct) /* packed rows: not cols * dtype bytes; the pages are left to the kernel */
        return NULL;
    int64_t g = ckpt_plan_row_group(t);
    int64_t r0 = row0 % t->src_rows, r1 = r0 + (row1 - row0);
    r0 = r0 / g * g;
    r1 = (r1 + g - 1) / g * g;
    if (r1 > t->src_rows)
        r1 = t->src_rows;
    size_t rb = (size_t)t->cols * elem_size(t->dtype);
    if (t->src_rows == 1) /* 1-D: the whole tensor */
        r0 = 0, r1 = 1;
    *off = (size_t)(ckpt_st_data_offset(ps->shard) + ps->t->begin) + (size_t)r0 * rb;
    *len = (size_t)(r1 - r0) * rb;
    return ckpt_st_map(ps->shard);
}

const ckpt_map *ckpt_plan_src_span(const struct ckpt_plan_tensor *t, int64_t row0, int64_t row1,
                                   size_t *off, size_t *len, int64_t *src_row0)
{
    if (row1 <= row0 || (t->src_rows == 1 && t->permute_heads))
        return NULL;
    const struct ckpt_plan_src *ps = &t->src[row0 / t->src_rows];
    if (ps->fp8 || (t->dtype != CKPT_DT_F32 && t->dtype != CKPT_DT_F16 &&
                    t->dtype != CKPT_DT_BF16))
        return NULL;
    const ckpt_map *m = span(t, row0, row1, off, len);
    if (m) {
        int64_t g = ckpt_plan_row_group(t);
        *src_row0 = t->src_rows == 1 ? 0 : row0 % t->src_rows / g * g;
    }
    return m;
}

int64_t ckpt_plan_src_row(const struct ckpt_plan_tensor *t, int64_t row)
{
    int64_t r;
    locate(t, row, &r);
    return r;
}

size_t ckpt_plan_src_row_bytes(const struct ckpt_plan_tensor *t)
{
    return (size_t)t->cols * elem_size(t->dtype);
}

void ckpt_plan_widen_row(const struct ckpt_plan_tensor *t, const uint8_t *src, float *dst)
{
    widen(t->dtype, src, dst, t->cols);
}

void ckpt_plan_prefetch(const struct ckpt_plan_tensor *t, int64_t row0, int64_t row1)
{
    size_t off, len;
    const ckpt_map *m = span(t, row0, row1, &off, &len);
    if (m)
        ckpt_map_advise_willneed(m, off, len);
}

void ckpt_plan_release(const struct ckpt_plan_tensor *t, int64_t row0, int64_t row1)
{
    size_t off, len;
    const ckpt_map *m = span(t, row0, row1, &off, &len);
    if (m)
        ckpt_map_release(m, off, len);
}
