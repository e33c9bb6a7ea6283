/*
 * types.c - the ggml type table and the safetensors dtype table.
 * Block sizes follow ggml-common.h; removed ids have no entry, so a file
 * that names one is rejected like ggml rejects it (block size 0).
 */
#include "types.h"

#include <string.h>
#include <strings.h>

static const struct ckpt_type_traits type_table[CKPT_TYPE_COUNT] = {
    [CKPT_TYPE_F32] = {"f32", 1, 4, false},
    [CKPT_TYPE_F16] = {"f16", 1, 2, false},
    [CKPT_TYPE_Q4_0] = {"q4_0", 32, 18, true},
    [CKPT_TYPE_Q4_1] = {"q4_1", 32, 20, true},
    [CKPT_TYPE_Q5_0] = {"q5_0", 32, 22, true},
    [CKPT_TYPE_Q5_1] = {"q5_1", 32, 24, true},
    [CKPT_TYPE_Q8_0] = {"q8_0", 32, 34, true},
    [CKPT_TYPE_Q8_1] = {"q8_1", 32, 36, true},
    [CKPT_TYPE_Q2_K] = {"q2_K", 256, 84, true},
    [CKPT_TYPE_Q3_K] = {"q3_K", 256, 110, true},
    [CKPT_TYPE_Q4_K] = {"q4_K", 256, 144, true},
    [CKPT_TYPE_Q5_K] = {"q5_K", 256, 176, true},
    [CKPT_TYPE_Q6_K] = {"q6_K", 256, 210, true},
    [CKPT_TYPE_Q8_K] = {"q8_K", 256, 292, true},
    [CKPT_TYPE_IQ2_XXS] = {"iq2_xxs", 256, 66, true},
    [CKPT_TYPE_IQ2_XS] = {"iq2_xs", 256, 74, true},
    [CKPT_TYPE_IQ3_XXS] = {"iq3_xxs", 256, 98, true},
    [CKPT_TYPE_IQ1_S] = {"iq1_s", 256, 50, true},
    [CKPT_TYPE_IQ4_NL] = {"iq4_nl", 32, 18, true},
    [CKPT_TYPE_IQ3_S] = {"iq3_s", 256, 110, true},
    [CKPT_TYPE_IQ2_S] = {"iq2_s", 256, 82, true},
    [CKPT_TYPE_IQ4_XS] = {"iq4_xs", 256, 136, true},
    [CKPT_TYPE_I8] = {"i8", 1, 1, false},
    [CKPT_TYPE_I16] = {"i16", 1, 2, false},
    [CKPT_TYPE_I32] = {"i32", 1, 4, false},
    [CKPT_TYPE_I64] = {"i64", 1, 8, false},
    [CKPT_TYPE_F64] = {"f64", 1, 8, false},
    [CKPT_TYPE_IQ1_M] = {"iq1_m", 256, 56, true},
    [CKPT_TYPE_BF16] = {"bf16", 1, 2, false},
    [CKPT_TYPE_TQ1_0] = {"tq1_0", 256, 54, true},
    [CKPT_TYPE_TQ2_0] = {"tq2_0", 256, 66, true},
    [CKPT_TYPE_MXFP4] = {"mxfp4", 32, 17, true},
};

const struct ckpt_type_traits *ckpt_type_traits(uint32_t type)
{
    if (type >= CKPT_TYPE_COUNT || type_table[type].name == NULL)
        return NULL;
    return &type_table[type];
}

const char *ckpt_type_name(uint32_t type)
{
    const struct ckpt_type_traits *t = ckpt_type_traits(type);
    return t ? t->name : "?";
}

int ckpt_type_from_name(const char *name)
{
    for (int i = 0; i < CKPT_TYPE_COUNT; i++)
        if (type_table[i].name && strcasecmp(type_table[i].name, name) == 0)
            return i;
    return -1;
}

bool ckpt_type_row_bytes(uint32_t type, int64_t n, size_t *out)
{
    const struct ckpt_type_traits *t = ckpt_type_traits(type);
    if (!t || n < 0 || n % t->block_elems != 0)
        return false;
    uint64_t blocks = (uint64_t)(n / t->block_elems), bytes;
    if (__builtin_mul_overflow(blocks, (uint64_t)t->block_bytes, &bytes) || bytes > SIZE_MAX)
        return false;
    *out = (size_t)bytes;
    return true;
}

/* Enum order is the safetensors alignment order (tensor.rs enum Dtype). */
static const struct {
    const char *name;
    unsigned bits;
} dtype_table[CKPT_DT_COUNT] = {
    [CKPT_DT_BOOL] = {"BOOL", 8},       [CKPT_DT_F4] = {"F4", 4},
    [CKPT_DT_F6_E2M3] = {"F6_E2M3", 6}, [CKPT_DT_F6_E3M2] = {"F6_E3M2", 6},
    [CKPT_DT_U8] = {"U8", 8},           [CKPT_DT_I8] = {"I8", 8},
    [CKPT_DT_F8_E5M2] = {"F8_E5M2", 8}, [CKPT_DT_F8_E4M3] = {"F8_E4M3", 8},
    [CKPT_DT_F8_E8M0] = {"F8_E8M0", 8}, [CKPT_DT_F8_E4M3FNUZ] = {"F8_E4M3FNUZ", 8},
    [CKPT_DT_F8_E5M2FNUZ] = {"F8_E5M2FNUZ", 8},
    [CKPT_DT_I16] = {"I16", 16},        [CKPT_DT_U16] = {"U16", 16},
    [CKPT_DT_F16] = {"F16", 16},        [CKPT_DT_BF16] = {"BF16", 16},
    [CKPT_DT_I32] = {"I32", 32},        [CKPT_DT_U32] = {"U32", 32},
    [CKPT_DT_F32] = {"F32", 32},        [CKPT_DT_C64] = {"C64", 64},
    [CKPT_DT_F64] = {"F64", 64},        [CKPT_DT_I64] = {"I64", 64},
    [CKPT_DT_U64] = {"U64", 64},
};

const char *ckpt_dtype_name(ckpt_dtype dt)
{
    return (unsigned)dt < CKPT_DT_COUNT ? dtype_table[dt].name : "?";
}

unsigned ckpt_dtype_bits(ckpt_dtype dt)
{
    return (unsigned)dt < CKPT_DT_COUNT ? dtype_table[dt].bits : 0;
}

int ckpt_dtype_from_name(const char *name)
{
    for (int i = 0; i < CKPT_DT_COUNT; i++)
        if (strcmp(dtype_table[i].name, name) == 0)
            return i;
    return -1;
}
