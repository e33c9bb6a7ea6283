/*
 * fp16.h - scalar conversions between f32 and the narrow float formats
 * (IEEE binary16, bfloat16, OCP FP8 E4M3/E5M2).  f32 -> f16/bf16 round to
 * nearest even exactly as ggml does (so GGUF bytes match), with ggml's NaN
 * rules: f16 NaN -> 0x7E00 with the sign kept; bf16 NaN -> quiet, payload
 * kept.  All functions are pure and thread-safe.
 */
#ifndef CKPT_KERNELS_FP16_H
#define CKPT_KERNELS_FP16_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

static inline uint32_t ckpt_f32_bits(float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}

static inline float ckpt_f32_from_bits(uint32_t u)
{
    float f;
    memcpy(&f, &u, 4);
    return f;
}

float ckpt_f16_to_f32(uint16_t h);
uint16_t ckpt_f32_to_f16(float f);

static inline float ckpt_bf16_to_f32(uint16_t h)
{
    return ckpt_f32_from_bits((uint32_t)h << 16);
}

uint16_t ckpt_f32_to_bf16(float f);

/* OCP FP8: E4M3 "fn" (no inf, 0x7F/0xFF NaN) and E5M2 (IEEE-like). */
float ckpt_f8_e4m3_to_f32(uint8_t v);
float ckpt_f8_e5m2_to_f32(uint8_t v);

/* True if |f| rounds to f16 infinity (finite input too large for f16). */
static inline int ckpt_f32_overflows_f16(float f)
{
    uint32_t x = ckpt_f32_bits(f) & 0x7fffffffu;
    return x >= 0x477ff000u && x <= 0x7f800000u && x != 0x7f800000u;
}

/* Row conversions; n elements, buffers must not overlap. */
void ckpt_f16_to_f32_row(const uint16_t *src, float *dst, size_t n);
void ckpt_f32_to_f16_row(const float *src, uint16_t *dst, size_t n);
void ckpt_bf16_to_f32_row(const uint16_t *src, float *dst, size_t n);
void ckpt_f32_to_bf16_row(const float *src, uint16_t *dst, size_t n);

#endif
