/*
 * quant_ct.c - compressed-tensors integer weights (see quant_ct.h): the
 * scale choice, rounding, packing and dequantization of one row.  Scalar
 * code with a fixed order of operations, so the bytes never depend on the
 * build or the thread count.
 */
#include "quant_ct.h"

#include "fp16.h"

#include <math.h>
#include <string.h>

int64_t ckpt_ct_packed_words(int64_t n, int bits)
{
    return (n * bits + 31) / 32;
}

float ckpt_ct_round(float f, ckpt_type dt)
{
    switch (dt) {
    case CKPT_TYPE_BF16: return ckpt_bf16_to_f32(ckpt_f32_to_bf16(f));
    case CKPT_TYPE_F16: return ckpt_f16_to_f32(ckpt_f32_to_f16(f));
    default: return f;
    }
}

/* torch.finfo(dtype).eps: what a zero scale becomes. */
static float dtype_eps(ckpt_type dt)
{
    return dt == CKPT_TYPE_BF16 ? 0x1p-7f : dt == CKPT_TYPE_F16 ? 0x1p-10f : 0x1p-23f;
}

/* (qmax - qmin) / 2: 127.5 for int8, 7.5 for int4. */
static float half_range(int bits)
{
    return (float)(ckpt_ct_qmax(bits) - ckpt_ct_qmin(bits)) / 2.0f;
}

static float stored_scale(float s, ckpt_type dt)
{
    s = ckpt_ct_round(s, dt);
    return s == 0.0f ? dtype_eps(dt) : s;
}

float ckpt_ct_scale_absmax(const float *x, int64_t n, int bits, ckpt_type dt)
{
    float amax = 0.0f;
    for (int64_t i = 0; i < n; i++) {
        const float a = fabsf(x[i]);
        if (a > amax)
            amax = a;
    }
    return stored_scale(amax / half_range(bits), dt);
}

void ckpt_ct_quantize(const float *x, int64_t n, float scale, int bits, ckpt_type dt, int8_t *q)
{
    const float lo = (float)ckpt_ct_qmin(bits), hi = (float)ckpt_ct_qmax(bits);
    for (int64_t i = 0; i < n; i++) {
        float v = ckpt_ct_round(x[i] / scale, dt);
        v = v < lo ? lo : v > hi ? hi : v;
        q[i] = (int8_t)nearbyintf(v); /* the default rounding mode: half to even */
    }
}

/* sum w (x - q s)^2 of a candidate scale, in double (order fixed). */
static double weighted_error(const float *x, const float *w, int64_t n, float s, int bits,
                             ckpt_type dt)
{
    const float lo = (float)ckpt_ct_qmin(bits), hi = (float)ckpt_ct_qmax(bits);
    double e = 0.0;
    for (int64_t i = 0; i < n; i++) {
        float v = ckpt_ct_round(x[i] / s, dt);
        v = v < lo ? lo : v > hi ? hi : v;
        const double d = (double)x[i] - (double)(nearbyintf(v) * s);
        e += (w ? (double)w[i] : 1.0) * d * d;
    }
    return e;
}

/* The scale that fits x best for the integers s gives them: sum w x q /
 * sum w q^2 (least squares with q fixed), rounded to dt; s if none. */
static float refit(const float *x, const float *w, int64_t n, float s, int bits, ckpt_type dt)
{
    const float lo = (float)ckpt_ct_qmin(bits), hi = (float)ckpt_ct_qmax(bits);
    double num = 0.0, den = 0.0;
    for (int64_t i = 0; i < n; i++) {
        float v = ckpt_ct_round(x[i] / s, dt);
        v = v < lo ? lo : v > hi ? hi : v;
        const double q = nearbyintf(v), wi = w ? (double)w[i] : 1.0;
        num += wi * (double)x[i] * q;
        den += wi * q * q;
    }
    return den > 0.0 && num > 0.0 ? stored_scale((float)(num / den), dt) : s;
}

float ckpt_ct_scale_search(const float *x, const float *w, int64_t n, int bits, ckpt_type dt)
{
    const float base = ckpt_ct_scale_absmax(x, n, bits, dt);
    float best = base;
    double best_e = weighted_error(x, w, n, base, bits, dt);
    /* smaller scales clip the largest values but resolve the rest finer;
     * slightly larger ones can fit an outlier better after rounding; each
     * candidate's integers then get their least-squares scale */
    for (int k = -24; k <= 8; k += 2) {
        const float c = stored_scale(base * (1.0f + (float)k / 64.0f), dt);
        const float cand[2] = {c, refit(x, w, n, c, bits, dt)};
        for (int j = k == 0; j < 2; j++) {
            const double e = weighted_error(x, w, n, cand[j], bits, dt);
            if (e < best_e) {
                best_e = e;
                best = cand[j];
            }
        }
    }
    return best;
}

/*
 * Packed fields, b bits each at bit i*b of the row's words:
 *
 *   int8   |  q3+128 |  q2+128 |  q1+128 |  q0+128 |   one int32, LE
 *          31      24 23     16 15      8 7       0
 *   int4   | q7+8| q6+8| ... | q1+8| q0+8|
 *          31  28 27  24      7   4 3   0
 *
 * Both widths divide 32, so a field never straddles two words.
 */
void ckpt_ct_pack(const int8_t *q, int64_t n, int bits, uint8_t *dst)
{
    const int64_t words = ckpt_ct_packed_words(n, bits);
    const int per = 32 / bits;
    const uint32_t mask = (1u << bits) - 1, off = 1u << (bits - 1);
    for (int64_t wi = 0; wi < words; wi++) {
        uint32_t word = 0;
        for (int j = 0; j < per; j++) {
            const int64_t i = wi * per + j;
            if (i < n)
                word |= (((uint32_t)(int32_t)q[i] + off) & mask) << (j * bits);
        }
        uint8_t *p = dst + 4 * wi;
        p[0] = (uint8_t)word;
        p[1] = (uint8_t)(word >> 8);
        p[2] = (uint8_t)(word >> 16);
        p[3] = (uint8_t)(word >> 24);
    }
}

void ckpt_ct_unpack(const uint8_t *src, int64_t n, int bits, int8_t *q)
{
    const int per = 32 / bits;
    const uint32_t mask = (1u << bits) - 1, off = 1u << (bits - 1);
    for (int64_t i = 0; i < n; i++) {
        const uint8_t *p = src + 4 * (i / per);
        const uint32_t word = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
                              (uint32_t)p[3] << 24;
        const uint32_t u = (word >> ((i % per) * bits)) & mask;
        q[i] = (int8_t)((int32_t)u - (int32_t)off);
    }
}

void ckpt_ct_dequantize(const int8_t *q, const float *scale, int64_t n, int64_t group, float *y)
{
    for (int64_t i = 0; i < n; i++)
        y[i] = (float)q[i] * scale[i / group];
}

void ckpt_ct_quantize_row(const float *x, const float *w, bool search, int64_t n, int64_t group,
                          int bits, ckpt_type dt, float *scale, int8_t *q)
{
    for (int64_t g = 0; g * group < n; g++) {
        const float *xg = x + g * group;
        const float s = search ? ckpt_ct_scale_search(xg, w ? w + g * group : NULL, group, bits, dt)
                               : ckpt_ct_scale_absmax(xg, group, bits, dt);
        scale[g] = s;
        ckpt_ct_quantize(xg, group, s, bits, dt, q + g * group);
    }
}
