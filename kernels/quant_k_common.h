/*
 * quant_k_common.h - the scale searches shared by the quantizers (the
 * k-quants, and the legacy types when they get importance weights).
 * They reproduce ggml's reference searches operation for operation, so
 * the bytes match ggml's; they are compiled with -ffp-contract=off.
 * Private to kernels/: nothing outside the quantizers and dispatch.c
 * calls these (tests reach them through kernels_test.h).
 */
#ifndef CKPT_KERNELS_QUANT_K_COMMON_H
#define CKPT_KERNELS_QUANT_K_COMMON_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

/* A group whose largest |x| is below this counts as all zero. */
#define CKPT_GROUP_MAX_EPS 1e-15f

/*
 * Round to nearest, ties to even, by adding 1.5 * 2^23 and reading the
 * mantissa.  Exact for |f| <= 4194303; outside that the result is
 * meaningless but defined (no trap, no undefined behaviour).
 */
static inline int ckpt_nearest_int(float f)
{
    float v = f + 12582912.f;
    int32_t i;
    memcpy(&i, &v, sizeof i);
    return (i & 0x007fffff) - 0x00400000;
}

/*
 * float -> int32 truncation as x86-64's cvttss2si does it: NaN and
 * out-of-range values give INT32_MIN.  C casts of such values are
 * undefined; the legacy quantizers' casts go through this instead.
 */
static inline int32_t ckpt_trunc_i32(float f)
{
    if (!(f > -2147483904.f && f < 2147483648.f))
        return INT32_MIN;
    return (int32_t)f;
}

static inline int imin(int a, int b) { return a < b ? a : b; }
static inline int imax(int a, int b) { return a > b ? a : b; }

/* 6-bit scale and min of sub-block j (0..7) in the q4_K/q5_K packing. */
static inline void ckpt_get_scale_min_k4(int j, const uint8_t *q, uint8_t *sc, uint8_t *m)
{
    if (j < 4) {
        *sc = q[j] & 63;
        *m = q[j + 4] & 63;
    } else {
        *sc = (uint8_t)((q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4));
        *m = (uint8_t)((q[j + 4] >> 4) | ((q[j] >> 6) << 4));
    }
}

/* Pack 8 (scale, min) pairs of 6 bits into 12 bytes (inverse of the above). */
void ckpt_set_scale_min_k4(const uint8_t *ls, const uint8_t *lm, uint8_t scales[12]);

/*
 * Second pass of q4_K/q5_K: re-round the 256 values x against the stored
 * f16 super-scales (d, dmin) and 6-bit scales into L (0..nmax).  Sub-blocks
 * whose effective scale is 0 keep the L they had.
 */
void ckpt_requantize_k4(const float *x, const uint8_t scales[12], uint16_t d, uint16_t dmin,
                        int nmax, uint8_t *L);

/*
 * Symmetric fit of x[0..n) to integers in [-nmax, nmax-1] (returned in L
 * offset by +nmax).  rmse_type 0: plain rounding from the largest value;
 * 1: weights x^2 (or qw if given), and a search over 18 nearby scales.
 * Returns the scale (0 for an all-zero group).
 */
float ckpt_make_qx_quants(int n, int nmax, const float *x, int8_t *L, int rmse_type,
                          const float *qw);

/* q3_K's symmetric fit with an iterative per-element refinement (NaN if
 * every x^2 underflows, as in ggml). */
float ckpt_make_q3_quants(int n, int nmax, const float *x, int8_t *L, bool do_rmse);

/*
 * Asymmetric fit x ~ scale * L - the_min with L in [0, nmax], searching
 * nstep+1 scales from (nmax + rmin) in steps of rdelta, least squares
 * (or least absolute deviation with use_mad).  Laux is n bytes scratch.
 */
float ckpt_make_qkx2_quants(int n, int nmax, const float *x, const float *weights, uint8_t *L,
                            float *the_min, uint8_t *Laux, float rmin, float rdelta, int nstep,
                            bool use_mad);

/* The same search as used by the importance-weighted paths (weights may
 * be NULL: then x^2). */
float ckpt_make_qkx3_quants(int n, int nmax, const float *x, const float *weights, uint8_t *L,
                            float *the_min, uint8_t *Laux, float rmin, float rdelta, int nstep,
                            bool use_mad);

/*
 * Fit non-negative x[0..n) (scales or mins of sub-blocks) to integers in
 * [0, nmax] under weights qw; returns the scale: 0 for an all-zero group,
 * NaN when every weight is 0 (as in ggml).
 */
float ckpt_make_qp_quants(int n, int nmax, const float *x, uint8_t *L, const float *qw);

/* ---- the kernels a quantizer can take from a SIMD sibling ---- */

/*
 * The searches above on 8 groups of n values at once (group g is
 * x[g*n .. g*n+n), with its weights and quants at the same offsets); the
 * quantizers call them through a struct ckpt_kq_kernels so that a SIMD
 * sibling can stand in for the scalar loop.  Every sibling must give the
 * bytes and floats of the scalar loop exactly, for any input.
 *
 * qkx: scale[g] and the_min[g] of ckpt_make_qkx2_quants on group g, with
 *      its weights w (never NULL; with weights, make_qkx3_quants is the
 *      same search); n is a multiple of 8, at most 32.
 * qx:  scale[g] of ckpt_make_qx_quants(n, nmax, group g, L, rmse_type,
 *      qw ? qw + g*n : NULL); same n.
 * requantize_k4: ckpt_requantize_k4.
 */
struct ckpt_kq_kernels {
    void (*qkx)(int n, int nmax, const float *x, const float *w, uint8_t *L, float scale[8],
                float the_min[8], float rmin, float rdelta, int nstep, bool use_mad);
    void (*qx)(int n, int nmax, const float *x, int8_t *L, int rmse_type, const float *qw,
               float scale[8]);
    void (*requantize_k4)(const float *x, const uint8_t scales[12], uint16_t d, uint16_t dmin,
                          int nmax, uint8_t *L);
};

/* The scalar loops (the reference), and the AVX2 siblings (quant_k_avx2.c:
 * only when ckpt_isa_available(CKPT_ISA_AVX2)); dispatch.c's tables say
 * which one an ISA uses. */
extern const struct ckpt_kq_kernels ckpt_kq_ref;
extern const struct ckpt_kq_kernels ckpt_kq_avx2;

#endif
