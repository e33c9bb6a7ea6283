/*
 * fp16.c - narrow float conversions (see fp16.h).  Written with integer
 * arithmetic only, so the result does not depend on the FPU mode or on
 * compiler flags.
 */
#include "fp16.h"

#include "dot_kernels.h"

float ckpt_f16_to_f32(uint16_t h)
{
    uint32_t sign = (uint32_t)(h & 0x8000) << 16;
    uint32_t exp = (h >> 10) & 0x1f;
    uint32_t mant = h & 0x3ff;
    if (exp == 0x1f) /* inf or NaN: keep the payload */
        return ckpt_f32_from_bits(sign | 0x7f800000u | (mant << 13));
    if (exp != 0)
        return ckpt_f32_from_bits(sign | ((exp + 112) << 23) | (mant << 13));
    if (mant == 0)
        return ckpt_f32_from_bits(sign);
    /* subnormal f16: normalise into an f32 normal */
    int e = -1;
    do {
        mant <<= 1;
        e++;
    } while (!(mant & 0x400));
    return ckpt_f32_from_bits(sign | ((uint32_t)(112 - e) << 23) | ((mant & 0x3ff) << 13));
}

/* Round the integer m right by `shift` bits, to nearest, ties to even. */
static inline uint32_t round_shift(uint32_t m, unsigned shift)
{
    uint32_t q = m >> shift;
    uint32_t rem = m & ((1u << shift) - 1);
    uint32_t half = 1u << (shift - 1);
    if (rem > half || (rem == half && (q & 1)))
        q++;
    return q;
}

uint16_t ckpt_f32_to_f16(float f)
{
    uint32_t w = ckpt_f32_bits(f);
    uint16_t sign = (uint16_t)((w >> 16) & 0x8000);
    uint32_t x = w & 0x7fffffffu;
    if (x > 0x7f800000u) /* NaN of either kind */
        return sign | 0x7e00;
    if (x >= 0x477ff000u) /* 65520 and up (and inf) round to inf */
        return sign | 0x7c00;
    if (x >= 0x38800000u) { /* f16 normal range: 2^-14 and up */
        uint32_t exp = (x >> 23) - 112;
        /* the carry of a rounded-up mantissa moves into the exponent */
        return sign | (uint16_t)round_shift((exp << 23) | (x & 0x7fffff), 13);
    }
    if (x < 0x33000000u) /* below 2^-25 (a tie at 2^-25 goes to even 0 too) */
        return sign;
    uint32_t mant = (x & 0x7fffff) | 0x800000;
    unsigned shift = 126 - (x >> 23); /* 14..24: units of 2^-24 */
    return sign | (uint16_t)round_shift(mant, shift);
}

uint16_t ckpt_f32_to_bf16(float f)
{
    uint32_t u = ckpt_f32_bits(f);
    if ((u & 0x7fffffffu) > 0x7f800000u)
        return (uint16_t)((u >> 16) | 0x40);
    return (uint16_t)((u + 0x7fff + ((u >> 16) & 1)) >> 16);
}

float ckpt_f8_e4m3_to_f32(uint8_t v)
{
    uint32_t sign = (uint32_t)(v & 0x80) << 24;
    uint32_t exp = (v >> 3) & 0xf, mant = v & 7;
    if (exp == 0xf && mant == 7)
        return ckpt_f32_from_bits(sign | 0x7fc00000u);
    if (exp == 0) { /* subnormal: mant * 2^-9 */
        float m = (float)mant * (1.0f / 512.0f);
        return sign ? -m : m;
    }
    return ckpt_f32_from_bits(sign | ((exp + 120) << 23) | (mant << 20));
}

float ckpt_f8_e5m2_to_f32(uint8_t v)
{
    /* E5M2 is the top byte of an IEEE binary16 */
    return ckpt_f16_to_f32((uint16_t)(v << 8));
}

void ckpt_f16_to_f32_row(const uint16_t *src, float *dst, size_t n)
{
    for (size_t i = 0; i < n; i++)
        dst[i] = ckpt_f16_to_f32(src[i]);
}

void ckpt_f32_to_f16_row(const float *src, uint16_t *dst, size_t n)
{
    for (size_t i = 0; i < n; i++)
        dst[i] = ckpt_f32_to_f16(src[i]);
}

void ckpt_bf16_to_f32_row(const uint16_t *src, float *dst, size_t n)
{
    for (size_t i = 0; i < n; i++)
        dst[i] = ckpt_bf16_to_f32(src[i]);
}

void ckpt_f32_to_bf16_row(const float *src, uint16_t *dst, size_t n)
{
    for (size_t i = 0; i < n; i++)
        dst[i] = ckpt_f32_to_bf16(src[i]);
}

/* n 2-byte values from src (any alignment), widened one by one by f */
static void widen_row(const void *src, float *dst, int64_t n, float (*f)(uint16_t))
{
    const uint8_t *x = src;
    for (int64_t i = 0; i < n; ++i) {
        uint16_t h;
        memcpy(&h, x + 2 * i, 2);
        dst[i] = f(h);
    }
}

void ckpt_f16_to_f32_ref(const void *src, float *dst, int64_t n)
{
    widen_row(src, dst, n, ckpt_f16_to_f32);
}

void ckpt_bf16_to_f32_ref(const void *src, float *dst, int64_t n)
{
    widen_row(src, dst, n, ckpt_bf16_to_f32);
}

void ckpt_f32_to_f16_ref(const float *src, void *dst, int64_t n)
{
    uint8_t *d = dst;
    for (int64_t i = 0; i < n; i++) {
        uint16_t h = ckpt_f32_to_f16(src[i]);
        memcpy(d + 2 * i, &h, 2);
    }
}

void ckpt_f32_to_bf16_ref(const float *src, void *dst, int64_t n)
{
    uint8_t *d = dst;
    for (int64_t i = 0; i < n; i++) {
        uint16_t h = ckpt_f32_to_bf16(src[i]);
        memcpy(d + 2 * i, &h, 2);
    }
}
