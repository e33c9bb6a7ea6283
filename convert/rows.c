/*
 * rows.c - read planned tensors row by row (see plan.h): find the source
 * row (expert stacking, Q/K permutation), widen its values to f32, apply F8
 * scales; and tell the kernel which source pages are wanted or done with.
 * Mapped data may be unaligned, so every load goes through memcpy.
 */
#include <string.h>

#include "../formats/le.h"
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

static float load_scale(const struct ckpt_st_tensor *s, uint64_t i)
{
    const uint8_t *p = s->data + i * elem_size(s->dtype);
    switch (s->dtype) {
    case CKPT_DT_BF16: return ckpt_bf16_to_f32(le16dec(p));
    case CKPT_DT_F16: return ckpt_f16_to_f32(le16dec(p));
    default: return ckpt_f32_from_bits(le32dec(p));
    }
}

/* Values [c0, c0+n) of a row in dtype d, widened. */
static void widen(ckpt_dtype d, const uint8_t *p, float *dst, int64_t n, const float *lut)
{
    switch (d) {
    case CKPT_DT_F32:
        memcpy(dst, p, (size_t)n * 4);
        break;
    case CKPT_DT_F16:
        for (int64_t i = 0; i < n; i++)
            dst[i] = ckpt_f16_to_f32(le16dec(p + 2 * i));
        break;
    case CKPT_DT_BF16:
        for (int64_t i = 0; i < n; i++)
            dst[i] = ckpt_bf16_to_f32(le16dec(p + 2 * i));
        break;
    default: /* F8 */
        for (int64_t i = 0; i < n; i++)
            dst[i] = lut[p[i]];
        break;
    }
}

void ckpt_plan_read_f32(const struct ckpt_plan *plan, const struct ckpt_plan_tensor *t,
                        int64_t row, float *dst)
{
    const float *lut = plan->f8_lut[t->dtype == CKPT_DT_F8_E5M2];
    size_t es = elem_size(t->dtype);
    if (t->src_rows == 1 && t->permute_heads) {
        /* a 1-D Q/K bias: its values are the rows */
        const struct ckpt_st_tensor *s = t->src[0].t;
        for (int64_t i = 0; i < t->cols; i++)
            widen(t->dtype, s->data + (size_t)ckpt_qk_hf_row(i, t->cols, t->permute_heads) * es,
                  dst + i, 1, lut);
        return;
    }
    int64_t r;
    const struct ckpt_plan_src *ps = locate(t, row, &r);
    widen(t->dtype, ps->t->data + (size_t)r * (size_t)t->cols * es, dst, t->cols, lut);
    switch (ps->scale_kind) {
    case CKPT_SCALE_NONE: break;
    case CKPT_SCALE_TENSOR:
    case CKPT_SCALE_ROW: {
        float s = load_scale(ps->scale, ps->scale_kind == CKPT_SCALE_ROW ? (uint64_t)r : 0);
        for (int64_t i = 0; i < t->cols; i++)
            dst[i] *= s;
        break;
    }
    case CKPT_SCALE_BLOCK: {
        int64_t b0 = plan->f8_block[0], b1 = plan->f8_block[1];
        uint64_t base = (uint64_t)(r / b0) * ps->scale->shape[1];
        for (int64_t c0 = 0; c0 < t->cols; c0 += b1) {
            float s = load_scale(ps->scale, base + (uint64_t)(c0 / b1));
            int64_t c1 = c0 + b1 < t->cols ? c0 + b1 : t->cols;
            for (int64_t i = c0; i < c1; i++)
                dst[i] *= s;
        }
        break;
    }
    }
}

const uint8_t *ckpt_plan_row_bytes(const struct ckpt_plan_tensor *t, int64_t row)
{
    bool same = (t->type == CKPT_TYPE_F32 && t->dtype == CKPT_DT_F32) ||
                (t->type == CKPT_TYPE_F16 && t->dtype == CKPT_DT_F16);
    if (!same || (t->src_rows == 1 && t->permute_heads))
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
