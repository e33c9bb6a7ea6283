/*
 * fp8.c - FP8 weights times their scales (see fp8.h).  A 256-entry table
 * per format holds the decoded codes; each row is then one lookup and one
 * multiply per value.  Mapped data may be unaligned, so scales load
 * through the little-endian helpers.
 */
#include "fp8.h"

#include <stdio.h>
#include <string.h>

#include "../kernels/fp16.h"
#include "le.h"

void ckpt_fp8_luts_init(struct ckpt_fp8_luts *luts)
{
    for (int c = 0; c < 256; c++) {
        luts->v[0][c] = ckpt_f8_e4m3_to_f32((uint8_t)c);
        luts->v[1][c] = ckpt_f8_e5m2_to_f32((uint8_t)c);
    }
}

bool ckpt_fp8_is_fp8(ckpt_dtype d) { return d == CKPT_DT_F8_E4M3 || d == CKPT_DT_F8_E5M2; }

/* Scale element i of t as f32 (t checked to be F32, BF16 or F16). */
static float scale_at(const struct ckpt_st_tensor *t, uint64_t i)
{
    switch (t->dtype) {
    case CKPT_DT_F32: return ckpt_f32_from_bits(le32dec(t->data + 4 * i));
    case CKPT_DT_BF16: return ckpt_bf16_to_f32(le16dec(t->data + 2 * i));
    default: return ckpt_f16_to_f32(le16dec(t->data + 2 * i));
    }
}

/* Block size along a dimension of n elements cut into nb blocks: `given`
 * when set and it gives nb blocks; else 128 when that does, else ceil(n /
 * nb) if that does; 0 if nothing fits. */
static uint64_t block_size(uint64_t n, uint64_t nb, uint64_t given)
{
    if (nb == 0)
        return 0;
    if (given)
        return (n + given - 1) / given == nb ? given : 0;
    if ((n + 127) / 128 == nb)
        return 128;
    uint64_t b = (n + nb - 1) / nb;
    return (n + b - 1) / b == nb ? b : 0;
}

static ckpt_status bad_shape(const struct ckpt_st_tensor *w, const struct ckpt_st_tensor *s,
                             bool inv, const char *file, ckpt_err *err)
{
    char shape[64] = "[]";
    size_t o = 1;
    for (int i = 0; i < s->n_dims && o < sizeof shape; i++)
        o += (size_t)snprintf(shape + o, sizeof shape - o, "%s%llu", i ? ", " : "",
                              (unsigned long long)s->shape[i]);
    if (o < sizeof shape)
        snprintf(shape + o, sizeof shape - o, "]");
    if (s->n_dims == 0)
        snprintf(shape, sizeof shape, "[]");
    return ckpt_err_set(err, CKPT_E_FORMAT,
                        "%s: tensor '%s': shape %s does not fit weights [%llu, %llu] (%s)", file,
                        s->name, shape, (unsigned long long)w->shape[0],
                        (unsigned long long)w->shape[1],
                        inv ? "blocks of weight_block_size, or one scale"
                            : "one scale, or one per row");
}

ckpt_status ckpt_fp8_layout_of(struct ckpt_fp8 *out, const struct ckpt_st_tensor *w,
                               const struct ckpt_st_tensor *s, bool inv, const uint32_t block[2],
                               const struct ckpt_fp8_luts *luts, const char *file, ckpt_err *err)
{
    memset(out, 0, sizeof *out);
    if (!ckpt_fp8_is_fp8(w->dtype))
        return ckpt_err_set(err, CKPT_E_UNSUPPORTED, "%s: tensor '%s': %s is not an FP8 dtype "
                            "(F8_E4M3, F8_E5M2)", file, w->name, ckpt_dtype_name(w->dtype));
    if (w->n_dims != 2)
        return ckpt_err_set(err, CKPT_E_UNSUPPORTED,
                            "%s: tensor '%s': %s is supported for 2-D weights only", file, w->name,
                            ckpt_dtype_name(w->dtype));
    if (s->dtype != CKPT_DT_F32 && s->dtype != CKPT_DT_BF16 && s->dtype != CKPT_DT_F16)
        return ckpt_err_set(err, CKPT_E_UNSUPPORTED,
                            "%s: tensor '%s': scale dtype %s is not supported (F32, BF16, F16)",
                            file, s->name, ckpt_dtype_name(s->dtype));
    uint64_t rows = w->shape[0], cols = w->shape[1];
    out->w = w;
    out->scale = s;
    out->lut = luts->v[w->dtype == CKPT_DT_F8_E5M2];
    if (s->n_elements == 1) {
        out->layout = CKPT_FP8_PER_TENSOR;
    } else if (!inv && ((s->n_dims == 1 && s->shape[0] == rows) ||
                        (s->n_dims == 2 && s->shape[0] == rows && s->shape[1] == 1))) {
        out->layout = CKPT_FP8_PER_ROW;
    } else if (inv && s->n_dims == 2 &&
               (out->block[0] = block_size(rows, s->shape[0], block ? block[0] : 0)) &&
               (out->block[1] = block_size(cols, s->shape[1], block ? block[1] : 0))) {
        out->layout = CKPT_FP8_PER_BLOCK;
    } else {
        return bad_shape(w, s, inv, file, err);
    }
    return CKPT_OK;
}

ckpt_status ckpt_fp8_open(struct ckpt_fp8 *out, const ckpt_hf *hf, const struct ckpt_st_tensor *w,
                          const uint32_t block[2], const struct ckpt_fp8_luts *luts,
                          const char *file, ckpt_err *err)
{
    static const char *const suffixes[] = {CKPT_FP8_SCALE_INV_SUFFIX, CKPT_FP8_SCALE_SUFFIX};
    char name[320];
    for (int k = 0; k < 2; k++) {
        snprintf(name, sizeof name, "%s%s", w->name, suffixes[k]);
        const struct ckpt_st_tensor *s = ckpt_hf_find(hf, name, NULL);
        if (s)
            return ckpt_fp8_layout_of(out, w, s, k == 0, block, luts, file, err);
    }
    return ckpt_err_set(err, CKPT_E_FORMAT,
                        "%s: tensor '%s' is %s but has no '%s%s' or '%s%s' tensor", file, w->name,
                        ckpt_dtype_name(w->dtype), w->name, CKPT_FP8_SCALE_INV_SUFFIX, w->name,
                        CKPT_FP8_SCALE_SUFFIX);
}

void ckpt_fp8_row(const struct ckpt_fp8 *f, uint64_t r, float *dst)
{
    uint64_t cols = f->w->shape[1];
    const uint8_t *q = f->w->data + r * cols;
    if (f->layout == CKPT_FP8_PER_BLOCK) {
        uint64_t base = (r / f->block[0]) * f->scale->shape[1];
        for (uint64_t c0 = 0; c0 < cols; c0 += f->block[1]) {
            float sc = scale_at(f->scale, base + c0 / f->block[1]);
            uint64_t c1 = c0 + f->block[1] < cols ? c0 + f->block[1] : cols;
            for (uint64_t c = c0; c < c1; c++)
                dst[c] = f->lut[q[c]] * sc;
        }
        return;
    }
    float sc = scale_at(f->scale, f->layout == CKPT_FP8_PER_ROW ? r : 0);
    for (uint64_t c = 0; c < cols; c++)
        dst[c] = f->lut[q[c]] * sc;
}
