/*
 * ct_scheme.h - the compressed-tensors schemes ckpt-quant writes (one
 * table row each), which tensors they quantize, and the
 * quantization_config they are declared by in config.json.
 *
 *   W8A16  weights int8, symmetric, per channel (or group), packed four to
 *          an int32 ("pack-quantized"); activations stay float
 *   W8A8   weights int8, symmetric, per channel, stored as I8 with their
 *          own shape ("int-quantized"); activations int8, dynamic, per token
 *   W4A16  weights int4, symmetric, per group of 128 columns (or channel),
 *          packed eight to an int32 ("pack-quantized"): vLLM's Marlin kernels
 *
 * Targets are compressed-tensors' ["Linear"]: every nn.Linear of the model,
 * less the `ignore` list: lm_head always, and the Mixtral router
 * ("re:.*block_sparse_moe.gate"), which vLLM keeps in float.  The
 * embedding and the norms are not Linear modules and stay in float.
 *
 * The config names every argument explicitly (never a preset name, whose
 * meaning changed between compressed-tensors releases): the fields of
 * QuantizationConfig / QuantizationScheme / QuantizationArgs of
 * compressed-tensors 0.12 (quantization/quant_config.py, quant_args.py).
 * The observer says how scales were chosen: "minmax" for absmax (the
 * default, and compressed-tensors' own: the same integers), "mse" for the
 * error search (kernels/quant_ct.h; --scale-search), "imatrix_mse" when an
 * importance matrix weighted that search; with "gptq_" before it when
 * GPTQ's error feedback chose the integers (ct_gptq.h; the scales of each
 * group so chosen from the group's columns at the group's start, the
 * columns in their order: "actorder" null).  vLLM reads none of it: the
 * integers and scales load as any others.
 */
#ifndef CKPT_QUANT_CT_SCHEME_H
#define CKPT_QUANT_CT_SCHEME_H

#include <stdbool.h>
#include <stdint.h>

#include <cJSON.h>

#include "../arch/arch.h"

typedef enum { CKPT_CT_W8A16, CKPT_CT_W8A8, CKPT_CT_W4A16, CKPT_CT_COUNT } ckpt_ct_scheme;

struct ckpt_ct_scheme_info {
    const char *name;        /* "W4A16" */
    int bits;                /* weight bits: 8 or 4 */
    bool packed;             /* pack-quantized (weight_packed + weight_shape); else I8 weight */
    bool act_int8;           /* dynamic per-token int8 input activations */
    const char *format;      /* CompressionFormat value */
    int64_t group;           /* default group size; 0 = per channel */
    const char *about;       /* one line for --help */
};

/* The scheme's row; NULL past the end. */
const struct ckpt_ct_scheme_info *ckpt_ct_scheme_at(int s);

/* The scheme named `name` (case-insensitive), or -1. */
int ckpt_ct_scheme_parse(const char *name);

/* Is a tensor of this role (a ".weight" of n_dims dimensions) quantized? */
bool ckpt_ct_role_quantized(ckpt_role role, uint32_t n_dims);

/* How scales are chosen, and the observer name that records it (and GPTQ). */
typedef enum { CKPT_CT_ABSMAX, CKPT_CT_SEARCH, CKPT_CT_SEARCH_IMATRIX } ckpt_ct_scales;
const char *ckpt_ct_observer(ckpt_ct_scales how, bool gptq);

/* The choice for a run with or without an importance matrix and --scale-search. */
static inline ckpt_ct_scales ckpt_ct_scales_for(bool imatrix, bool search)
{
    return imatrix ? CKPT_CT_SEARCH_IMATRIX : search ? CKPT_CT_SEARCH : CKPT_CT_ABSMAX;
}

/* Columns per scale for a requested group size (0: the scheme's default,
 * -1: per channel); 0 means per channel. */
static inline int64_t ckpt_ct_group(const struct ckpt_ct_scheme_info *s, int64_t requested)
{
    return requested == 0 ? s->group : requested < 0 ? 0 : requested;
}

/*
 * The quantization_config object for scheme s with `group` columns per
 * scale (0: per channel), for a model with or without experts, scales
 * chosen `how`, the integers by GPTQ or not.  NULL when out of memory;
 * the caller owns the object (cJSON_Delete).
 */
cJSON *ckpt_ct_quant_config(const struct ckpt_ct_scheme_info *s, int64_t group, bool experts,
                            ckpt_ct_scales how, bool gptq);

#endif
