/*
 * fp8.h - FP8 (F8_E4M3) weights of a Hugging Face checkpoint, dequantized
 * to f32 with their scale tensor, the three layouts found on the hub:
 *
 *   X.weight_scale      scalar ([] or [1]): one scale for the tensor
 *                       (compressed-tensors "tensor" strategy)
 *   X.weight_scale      [out] or [out, 1]: one scale per row (fbgemm_fp8,
 *                       compressed-tensors "channel")
 *   X.weight_scale_inv  [ceil(out/B), ceil(in/B)]: one scale per B x B block
 *                       (transformers' fine-grained "fp8", B = 128 normally)
 *
 * In every layout W[r][c] = f32(fp8) * scale (the "_inv" name notwithstanding,
 * the stored value multiplies).  Scales may be F32, BF16 or F16.
 */
#ifndef CKPT_FORMATS_FP8_H
#define CKPT_FORMATS_FP8_H

#include <stdbool.h>
#include <stddef.h>

#include "../kernels/err.h"
#include "safetensors.h"

/* Name suffixes of the scale tensors next to "X.weight". */
#define CKPT_FP8_SCALE_SUFFIX "_scale"         /* X.weight_scale */
#define CKPT_FP8_SCALE_INV_SUFFIX "_scale_inv" /* X.weight_scale_inv */

/*
 * Dequantize the 2-D F8_E4M3 tensor w ([out, in]) with `scale` (found under
 * the name w.name + "_scale", or + "_scale_inv" when `inv` is true) into dst
 * (out * in floats, row-major).  The layout follows from the scale's shape;
 * for blocks, B is 128 when ceil(out/128) x ceil(in/128) matches the shape,
 * else the block size those dimensions imply.  Errors (naming `file` and the
 * tensors): CKPT_E_FORMAT for a shape or dtype that fits no layout,
 * CKPT_E_UNSUPPORTED for another FP8 flavour.  Non-finite scales or NaN
 * codes give NaN weights, as the checkpoint says.
 */
ckpt_status ckpt_fp8_dequantize(const struct ckpt_st_tensor *w, const struct ckpt_st_tensor *scale,
                                bool inv, float *dst, const char *file, ckpt_err *err);

#endif
