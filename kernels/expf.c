/*
 * expf.c - the scalar exponential and its loops (see expf.h).  fma() is
 * the exactly rounded fused multiply-add of C99, so this computes what the
 * vector kernels compute with their FMA instructions, on any CPU.
 */
#include "expf.h"

#include <math.h>
#include <string.h>

/* 2^(i/32) as double bits, less i << 47: the exponent of 2^(k/32) is added
 * back from k's bits (expf.h) */
const uint64_t ckpt_expf_table[1 << CKPT_EXPF_TABLE_BITS] = {
    0x3ff0000000000000, 0x3fefd9b0d3158574, 0x3fefb5586cf9890f, 0x3fef9301d0125b51,
    0x3fef72b83c7d517b, 0x3fef54873168b9aa, 0x3fef387a6e756238, 0x3fef1e9df51fdee1,
    0x3fef06fe0a31b715, 0x3feef1a7373aa9cb, 0x3feedea64c123422, 0x3feece086061892d,
    0x3feebfdad5362a27, 0x3feeb42b569d4f82, 0x3feeab07dd485429, 0x3feea47eb03a5585,
    0x3feea09e667f3bcd, 0x3fee9f75e8ec5f74, 0x3feea11473eb0187, 0x3feea589994cce13,
    0x3feeace5422aa0db, 0x3feeb737b0cdc5e5, 0x3feec49182a3f090, 0x3feed503b23e255d,
    0x3feee89f995ad3ad, 0x3feeff76f2fb5e47, 0x3fef199bdd85529c, 0x3fef3720dcef9069,
    0x3fef5818dcfba487, 0x3fef7c97337b9b5f, 0x3fefa4afa2a490da, 0x3fefd0765b6e4540,
};

static uint64_t bits64(double d)
{
    uint64_t u;
    memcpy(&u, &d, sizeof u);
    return u;
}

static double from_bits64(uint64_t u)
{
    double d;
    memcpy(&d, &u, sizeof d);
    return d;
}

float ckpt_expf(float x)
{
    uint32_t u;
    memcpy(&u, &x, sizeof u);
    if (((u >> 20) & 0x7ff) >= 0x42b) { /* |x| >= 88, or NaN */
        if (x != x)
            return x + x;
        if (x > CKPT_EXPF_OVER)
            return INFINITY;
        if (x < CKPT_EXPF_UNDER)
            return 0.0f;
        if (x < CKPT_EXPF_TINY)
            return 0x1p-149f;
    }
    const double xd = (double)x;
    const double kd = fma(CKPT_EXPF_INVLN2N, xd, CKPT_EXPF_SHIFT);
    const uint64_t ki = bits64(kd);
    const double r = fma(CKPT_EXPF_INVLN2N, xd, -(kd - CKPT_EXPF_SHIFT));
    const double s =
        from_bits64(ckpt_expf_table[ki % (1u << CKPT_EXPF_TABLE_BITS)] +
                    (ki << (52 - CKPT_EXPF_TABLE_BITS)));
    const double z = fma(CKPT_EXPF_C0, r, CKPT_EXPF_C1);
    const double r2 = r * r;
    const double y = fma(z, r2, fma(CKPT_EXPF_C2, r, 1.0));
    return (float)(y * s);
}

void ckpt_exp_sub_ref(float *x, int64_t n, float m)
{
    for (int64_t i = 0; i < n; i++)
        x[i] = ckpt_expf(x[i] - m);
}

void ckpt_silu_mul_ref(float *a, const float *b, int64_t n)
{
    for (int64_t i = 0; i < n; i++)
        a[i] = a[i] / (1.0f + ckpt_expf(-a[i])) * b[i];
}
