/*
 * types.h - the type tables: every ggml tensor type (ids equal the GGUF
 * on-disk ids) and every safetensors dtype.  These tables are the one
 * source of truth for names, block sizes and byte sizes; nothing else in
 * ckpt hard-codes them.
 */
#ifndef CKPT_KERNELS_TYPES_H
#define CKPT_KERNELS_TYPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ggml type ids as stored in GGUF tensor infos (ggml.h enum ggml_type). */
typedef enum {
    CKPT_TYPE_F32 = 0,
    CKPT_TYPE_F16 = 1,
    CKPT_TYPE_Q4_0 = 2,
    CKPT_TYPE_Q4_1 = 3,
    /* 4, 5: removed (Q4_2, Q4_3) */
    CKPT_TYPE_Q5_0 = 6,
    CKPT_TYPE_Q5_1 = 7,
    CKPT_TYPE_Q8_0 = 8,
    CKPT_TYPE_Q8_1 = 9,
    CKPT_TYPE_Q2_K = 10,
    CKPT_TYPE_Q3_K = 11,
    CKPT_TYPE_Q4_K = 12,
    CKPT_TYPE_Q5_K = 13,
    CKPT_TYPE_Q6_K = 14,
    CKPT_TYPE_Q8_K = 15,
    CKPT_TYPE_IQ2_XXS = 16,
    CKPT_TYPE_IQ2_XS = 17,
    CKPT_TYPE_IQ3_XXS = 18,
    CKPT_TYPE_IQ1_S = 19,
    CKPT_TYPE_IQ4_NL = 20,
    CKPT_TYPE_IQ3_S = 21,
    CKPT_TYPE_IQ2_S = 22,
    CKPT_TYPE_IQ4_XS = 23,
    CKPT_TYPE_I8 = 24,
    CKPT_TYPE_I16 = 25,
    CKPT_TYPE_I32 = 26,
    CKPT_TYPE_I64 = 27,
    CKPT_TYPE_F64 = 28,
    CKPT_TYPE_IQ1_M = 29,
    CKPT_TYPE_BF16 = 30,
    /* 31, 32, 33: removed (Q4_0_4_4, Q4_0_4_8, Q4_0_8_8) */
    CKPT_TYPE_TQ1_0 = 34,
    CKPT_TYPE_TQ2_0 = 35,
    /* 36, 37, 38: removed (IQ4_NL_4_4, IQ4_NL_4_8, IQ4_NL_8_8) */
    CKPT_TYPE_MXFP4 = 39,
    CKPT_TYPE_COUNT = 40,
} ckpt_type;

#define CKPT_QK_K 256 /* elements in a k-quant super-block */

struct ckpt_type_traits {
    const char *name;     /* ggml spelling: "q4_K", "f16"; NULL for a removed id */
    int64_t block_elems;  /* elements per block (1 for plain types) */
    size_t block_bytes;   /* bytes per block */
    bool is_quantized;    /* block-quantized (needs general.quantization_version) */
};

/* Traits of a type id, or NULL if the id is unknown or removed. */
const struct ckpt_type_traits *ckpt_type_traits(uint32_t type);

/* Name of a type id ("q4_K"), or "?" for an unknown id. */
const char *ckpt_type_name(uint32_t type);

/* Type id from a name, case-insensitive ("Q4_K", "q4_k", "bf16"); -1 if none. */
int ckpt_type_from_name(const char *name);

/*
 * Byte size of a row of n elements of a type.  Returns false if the type is
 * unknown or n is not a multiple of the block size or the size overflows.
 */
bool ckpt_type_row_bytes(uint32_t type, int64_t n, size_t *out);

/* ---- safetensors dtypes ---- */

typedef enum {
    CKPT_DT_BOOL, CKPT_DT_F4, CKPT_DT_F6_E2M3, CKPT_DT_F6_E3M2, CKPT_DT_U8, CKPT_DT_I8,
    CKPT_DT_F8_E5M2, CKPT_DT_F8_E4M3, CKPT_DT_F8_E8M0, CKPT_DT_F8_E4M3FNUZ, CKPT_DT_F8_E5M2FNUZ,
    CKPT_DT_I16, CKPT_DT_U16, CKPT_DT_F16, CKPT_DT_BF16, CKPT_DT_I32, CKPT_DT_U32, CKPT_DT_F32,
    CKPT_DT_C64, CKPT_DT_F64, CKPT_DT_I64, CKPT_DT_U64,
    CKPT_DT_COUNT
} ckpt_dtype;

/* Name as written in a safetensors header ("BF16"). */
const char *ckpt_dtype_name(ckpt_dtype dt);

/* Size of one element in bits (4, 6, 8, ... 64). */
unsigned ckpt_dtype_bits(ckpt_dtype dt);

/* Dtype from its exact header name; -1 if unknown. */
int ckpt_dtype_from_name(const char *name);

#endif
