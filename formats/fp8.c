/*
 * fp8.c - F8_E4M3 weights times their scales (see fp8.h).  A 256-entry
 * table holds the decoded codes; each row is then one multiply per value.
 */
#include "fp8.h"

#include <stdio.h>
#include <string.h>

#include "../kernels/fp16.h"

/* Scale element i of t as f32 (t checked to be F32, BF16 or F16). */
static float scale_at(const struct ckpt_st_tensor *t, uint64_t i)
{
    uint16_t h;
    float f;
    switch (t->dtype) {
    case CKPT_DT_F32: memcpy(&f, t->data + 4 * i, 4); return f;
    case CKPT_DT_BF16: memcpy(&h, t->data + 2 * i, 2); return ckpt_bf16_to_f32(h);
    default: memcpy(&h, t->data + 2 * i, 2); return ckpt_f16_to_f32(h);
    }
}

/* Block size along a dimension of n elements cut into nb blocks: 128 when
 * that gives nb blocks, else ceil(n / nb) if that does; 0 if nothing fits. */
static uint64_t block_size(uint64_t n, uint64_t nb)
{
    if (nb == 0)
        return 0;
    if ((n + 127) / 128 == nb)
        return 128;
    uint64_t b = (n + nb - 1) / nb;
    return (n + b - 1) / b == nb ? b : 0;
}

ckpt_status ckpt_fp8_dequantize(const struct ckpt_st_tensor *w, const struct ckpt_st_tensor *s,
                                bool inv, float *dst, const char *file, ckpt_err *err)
{
    if (w->dtype != CKPT_DT_F8_E4M3)
        return ckpt_err_set(err, CKPT_E_UNSUPPORTED, "%s: tensor '%s': %s weights are not "
                            "supported (only F8_E4M3)", file, w->name, ckpt_dtype_name(w->dtype));
    if (w->n_dims != 2)
        return ckpt_err_set(err, CKPT_E_FORMAT, "%s: tensor '%s': FP8 weights must be 2-D", file,
                            w->name);
    if (s->dtype != CKPT_DT_F32 && s->dtype != CKPT_DT_BF16 && s->dtype != CKPT_DT_F16)
        return ckpt_err_set(err, CKPT_E_FORMAT, "%s: tensor '%s': scale dtype %s (expected F32, "
                            "BF16 or F16)", file, s->name, ckpt_dtype_name(s->dtype));
    uint64_t out = w->shape[0], in = w->shape[1], bo = 0, bi = 0;
    enum { PER_TENSOR, PER_ROW, PER_BLOCK } kind;
    if (inv) {
        if (s->n_dims != 2 || !(bo = block_size(out, s->shape[0])) ||
            !(bi = block_size(in, s->shape[1])))
            goto bad_shape;
        kind = PER_BLOCK;
    } else if (s->n_elements == 1 && s->n_dims <= 1) {
        kind = PER_TENSOR;
    } else if ((s->n_dims == 1 && s->shape[0] == out) ||
               (s->n_dims == 2 && s->shape[0] == out && s->shape[1] == 1)) {
        kind = PER_ROW;
    } else {
        goto bad_shape;
    }
    float lut[256];
    for (int c = 0; c < 256; c++)
        lut[c] = ckpt_f8_e4m3_to_f32((uint8_t)c);
    uint64_t sb_cols = kind == PER_BLOCK ? s->shape[1] : 0;
    for (uint64_t r = 0; r < out; r++) {
        const uint8_t *q = w->data + r * in;
        float *d = dst + r * in;
        if (kind == PER_BLOCK) {
            for (uint64_t c0 = 0; c0 < in; c0 += bi) {
                float sc = scale_at(s, (r / bo) * sb_cols + c0 / bi);
                uint64_t c1 = c0 + bi < in ? c0 + bi : in;
                for (uint64_t c = c0; c < c1; c++)
                    d[c] = lut[q[c]] * sc;
            }
        } else {
            float sc = scale_at(s, kind == PER_ROW ? r : 0);
            for (uint64_t c = 0; c < in; c++)
                d[c] = lut[q[c]] * sc;
        }
    }
    return CKPT_OK;
bad_shape:;
    char shape[48] = "[]";
    if (s->n_dims == 1)
        snprintf(shape, sizeof shape, "[%llu]", (unsigned long long)s->shape[0]);
    else if (s->n_dims >= 2)
        snprintf(shape, sizeof shape, "[%llu, %llu%s]", (unsigned long long)s->shape[0],
                 (unsigned long long)s->shape[1], s->n_dims > 2 ? ", ..." : "");
    return ckpt_err_set(err, CKPT_E_FORMAT, "%s: tensor '%s': shape %s does not fit weights "
                        "[%llu, %llu]", file, s->name, shape, (unsigned long long)out,
                        (unsigned long long)in);
}
