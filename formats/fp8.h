/*
 * fp8.h - FP8 weights of a Hugging Face checkpoint (F8_E4M3 or F8_E5M2)
 * with their scale tensor, the one reader both the converter and the model
 * loader use, so that what converts also runs.  The layouts found on the hub:
 *
 *   X.weight_scale      one element ([], [1], [1, 1]): one scale for the
 *                       tensor (compressed-tensors "tensor" strategy); the
 *                       _inv spelling with one element means the same
 *   X.weight_scale      [out] or [out, 1]: one scale per row (fbgemm_fp8,
 *                       compressed-tensors "channel")
 *   X.weight_scale_inv  [ceil(out/B0), ceil(in/B1)]: one scale per B0 x B1
 *                       block (transformers' fine-grained "fp8";
 *                       quantization_config.weight_block_size, else 128 x 128
 *                       when that fits, else the block the shape implies)
 *
 * In every layout W[r][c] = f32(fp8) * scale (the "_inv" name notwithstanding,
 * the stored value multiplies).  Scales may be F32, BF16 or F16.
 */
#ifndef CKPT_FORMATS_FP8_H
#define CKPT_FORMATS_FP8_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../kernels/err.h"
#include "hfdir.h"
#include "safetensors.h"

/* Name suffixes of the scale tensors next to "X.weight", in lookup order. */
#define CKPT_FP8_SCALE_INV_SUFFIX "_scale_inv" /* X.weight_scale_inv */
#define CKPT_FP8_SCALE_SUFFIX "_scale"         /* X.weight_scale */

enum ckpt_fp8_layout {
    CKPT_FP8_PER_TENSOR = 1,
    CKPT_FP8_PER_ROW,
    CKPT_FP8_PER_BLOCK,
};

/* The decoded values of every code of both formats (E4M3, E5M2); the
 * caller keeps one and lends it to the weights it opens. */
struct ckpt_fp8_luts {
    float v[2][256];
};

void ckpt_fp8_luts_init(struct ckpt_fp8_luts *luts);

/* An FP8 weight and how its scale applies (borrowed tensors). */
struct ckpt_fp8 {
    const struct ckpt_st_tensor *w;     /* [out, in], F8_E4M3 or F8_E5M2 */
    const struct ckpt_st_tensor *scale;
    enum ckpt_fp8_layout layout;
    uint64_t block[2];                  /* PER_BLOCK: rows, cols of a block */
    const float *lut;                   /* the 256 decoded codes of w's format (borrowed) */
};

/* Is d an FP8 dtype this reader takes (F8_E4M3, F8_E5M2)? */
bool ckpt_fp8_is_fp8(ckpt_dtype d);

/*
 * Find the scale tensor of the FP8 weight w in hf (X.weight_scale_inv, then
 * X.weight_scale) and work out its layout into *out.  block (may be NULL or
 * {0, 0}) is quantization_config.weight_block_size; luts (borrowed, must
 * outlive *out) decode the codes.  Errors name `file` (for
 * messages) and the tensors: CKPT_E_FORMAT for a missing scale or a shape
 * that fits no layout, CKPT_E_UNSUPPORTED for a weight that is not a 2-D
 * FP8 tensor or a scale dtype other than F32, BF16 and F16.
 */
ckpt_status ckpt_fp8_open(struct ckpt_fp8 *out, const ckpt_hf *hf,
                          const struct ckpt_st_tensor *w, const uint32_t block[2],
                          const struct ckpt_fp8_luts *luts, const char *file, ckpt_err *err);

/* The same with the scale tensor given (`inv`: it was found under the
 * _scale_inv name, which admits one scale or blocks). */
ckpt_status ckpt_fp8_layout_of(struct ckpt_fp8 *out, const struct ckpt_st_tensor *w,
                               const struct ckpt_st_tensor *scale, bool inv,
                               const uint32_t block[2], const struct ckpt_fp8_luts *luts,
                               const char *file, ckpt_err *err);

/* Row r (w->shape[1] values) dequantized into dst.  Thread-safe; never
 * fails (the layout was checked).  Non-finite scales or NaN codes give NaN
 * values, as the checkpoint says. */
void ckpt_fp8_row(const struct ckpt_fp8 *f, uint64_t r, float *dst);

#endif
