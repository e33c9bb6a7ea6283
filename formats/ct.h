/*
 * ct.h - integer weights of a compressed-tensors checkpoint (quant_method
 * "compressed-tensors", format "int-quantized" or "pack-quantized": what
 * `ckpt-quant -t W8A16|W8A8|W4A16` writes, and what llm-compressor writes
 * for the same schemes), read so that every tool takes them: the loader
 * and the converter dequantize rows through ckpt_ct_row.
 *
 * Per Linear module X (compressed-tensors compressors/pack_quantized,
 * naive_quantized; the formulas in kernels/quant_ct.h):
 *
 *   pack-quantized  X.weight_packed  I32 [out, ceil(in * bits / 32)]
 *                   X.weight_shape   I64 or I32 [2] = {out, in}
 *                   X.weight_scale   F32/F16/BF16 [out, in / group] ([out, 1] per channel)
 *   int-quantized   X.weight         I8 [out, in]
 *                   X.weight_scale   as above
 *
 *   W[r][c] = q[r][c] * scale[r][c / group]
 *
 * What the quantization_config must say, checked against compressed-tensors'
 * QuantizationArgs rules: one config group whose weights are type "int",
 * 4 or 8 bits, symmetric, strategy "channel" or "group" with a positive
 * group_size, static (dynamic false), actorder none or "weight" (which
 * leaves the layout alone); input activations none, or int8 dynamic (the
 * reference forward pass keeps activations in f32).  A format or argument
 * outside these is CKPT_E_UNSUPPORTED naming it; "float-quantized"
 * checkpoints are FP8, read by fp8.h instead.
 */
#ifndef CKPT_FORMATS_CT_H
#define CKPT_FORMATS_CT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../kernels/err.h"
#include "hfdir.h"
#include "safetensors.h"

/* A checkpoint's scheme, from its quantization_config. */
struct ckpt_ct_config {
    bool present;     /* an integer compressed-tensors checkpoint (else all below is 0) */
    bool packed;      /* pack-quantized; else int-quantized */
    int bits;         /* 4 or 8 */
    int64_t group;    /* columns per scale; 0 = per channel */
    bool act_int8;    /* dynamic per-token int8 input activations declared */
    char format[32];  /* "pack-quantized" */
    char scheme[16];  /* what ckpt calls it: "W4A16", "W8A8", "W8A16" ("" if none fits) */
};

/*
 * Read config.json text (len bytes) for a compressed-tensors integer
 * scheme.  A config without quantization_config, or with another
 * quant_method, or compressed-tensors FP8 ("float-quantized",
 * "naive-quantized" with float weights) or "dense" (weights stored as
 * they are) gives present = false and CKPT_OK.  Errors name `file` and the field: CKPT_E_FORMAT (bad JSON, a
 * field of the wrong type), CKPT_E_UNSUPPORTED (a format, strategy, bit
 * width, asymmetry, group ordering or several config groups ckpt cannot
 * read).
 */
ckpt_status ckpt_ct_config_parse(struct ckpt_ct_config *c, const char *text, size_t len,
                                 const char *file, ckpt_err *err);

/* The same for a model directory's config.json (none: present = false). */
ckpt_status ckpt_ct_config_load(struct ckpt_ct_config *c, const ckpt_hf *hf, ckpt_err *err);

/*
 * Is `path` (a model directory, or a .safetensors file beside config.json)
 * an integer compressed-tensors checkpoint?  Its scheme name into buf (n
 * bytes) when it is; false for anything else, unreadable included (the
 * tools then fail on opening it, with the reason).  For the warning that
 * a converted or requantized input was already quantized.
 */
bool ckpt_ct_path_scheme(const char *path, char *buf, size_t n);

/* One integer weight and its scales (borrowed tensors of the checkpoint). */
struct ckpt_ct_weight {
    const struct ckpt_st_tensor *q;     /* weight_packed (I32) or weight (I8) */
    const struct ckpt_st_tensor *scale; /* [rows, groups] */
    uint64_t rows, cols;                /* the original [out, in] */
    uint64_t group;                     /* columns per scale (cols when per channel) */
    int bits;
    bool packed;
};

/* Is `name` one of the tensors a compressed-tensors module adds beside
 * (or instead of) its ".weight": weight_packed, weight_shape,
 * weight_scale, weight_zero_point, weight_g_idx, input_scale? */
bool ckpt_ct_is_part(const char *name);

/*
 * The integer weight of module `base` ("model.layers.0.self_attn.q_proj")
 * under config c: every tensor found, typed and sized against the others
 * and against the remaining bytes (shape products are checked by the
 * safetensors reader).  Errors name `file` and the tensor: CKPT_E_FORMAT
 * (missing, wrong dtype or shape, weight_shape disagreeing with the packed
 * size), CKPT_E_UNSUPPORTED (a zero point or g_idx: asymmetric or
 * activation-ordered groups).
 */
ckpt_status ckpt_ct_open(struct ckpt_ct_weight *w, const ckpt_hf *hf, const char *base,
                         const struct ckpt_ct_config *c, const char *file, ckpt_err *err);

/* Row r (cols values) dequantized into dst.  Thread-safe, never fails. */
void ckpt_ct_row(const struct ckpt_ct_weight *w, uint64_t r, float *dst);

/*
 * The ggml block type that holds w exactly, so that the forward pass keeps
 * it as compact integers and dequantizes inside its dot products: Q8_0 for
 * int8 (d = scale, q as is), Q4_0 for int4 (d = scale, q + 8 in the
 * nibbles), when the columns and the group are multiples of 32 and every
 * scale is an f16 value (a BF16 scale of a trained model is: 8 significant
 * bits within f16's range).  Either way W[r][c] = f32(d) * q, the very
 * products ckpt_ct_row gives.  CKPT_TYPE_F32 when no block type fits.
 */
ckpt_type ckpt_ct_block_type(const struct ckpt_ct_weight *w);

/* Row r as blocks of ckpt_ct_block_type(w) into dst (ckpt_type_row_bytes
 * of them).  Thread-safe, never fails. */
void ckpt_ct_row_blocks(const struct ckpt_ct_weight *w, uint64_t r, void *dst);

#endif
