/*
 * dispatch.h - the one place that decides which instruction set computes:
 * one table of kernels per ISA, and the process-wide choice among them.
 * Dot products (dot.c, the forward pass), quantizers (quant.c) and f16
 * widening (readers of F16 tensors) take their kernels from a table, never
 * from a CPU test of their own.
 *
 * ISAs, each one semantic (what the forward pass computes) and its kernels:
 *   ref     the f32 oracle: activations stay f32, every weight row is
 *           widened and dotted in the documented order of dot.h; on a CPU
 *           with AVX2 its F32/F16/BF16 row dots run in vector registers in
 *           the very same order (vec_dot.h, *_refx: the same bits), and
 *           ckpt_kernels_scalar_ref() (dot_kernels.h) gives the scalar
 *           table.  What the reference tests use, by name, and what
 *           --calib ran on before it recorded its semantic;
 *   avx2    AVX2/FMA/F16C: the same floats and bytes as ref where dot.h and
 *           quant.h say so (widening, narrowing and quantizers); the
 *           forward pass pairs quantized weights with activations
 *           quantized once per product to q8_K / q8_0 (vec_dot.h), as ggml
 *           does, and dots f32 rows with FMA;
 *   scalar  the avx2 semantic in portable C: every kernel of the avx2
 *           table replaced by its scalar twin (vec_dot.c's _ref rows for
 *           every weight type, the q8 activation quantizers, the FMA
 *           attention dot of dot.h), so a forward pass gives the very
 *           bits of avx2 for every weight type, on any CPU;
 *   f64     scalar, dot products and attention sums in double;
 *   avx512  avx2 with AVX-512F register tiles for the F32/F16/BF16 rows of
 *           a prefill (vec_tile_f_avx512.c) and, where the CPU has
 *           AVX512_VNNI, vpdpbusd K-slice tiles for the k-quants
 *           (vec_tile_k_vnni.c): the avx2 semantic and bits.
 * The default is avx512 when the CPU has AVX-512F/BW/VL, else avx2 when
 * it has AVX2+FMA+F16C, else scalar: one result on every CPU (a
 * fingerprint signed on one machine holds on another).  The environment
 * variable CKPT_ISA=ref|avx2|avx512|scalar|f64
 * overrides it (an unknown or unavailable name is ignored).  Decided once,
 * under pthread_once, which also fills the avx512 table from the avx2 one;
 * after it the tables are only read, so every function here is
 * thread-safe.
 */
#ifndef CKPT_KERNELS_DISPATCH_H
#define CKPT_KERNELS_DISPATCH_H

#include <stdbool.h>
#include <stdint.h>

typedef enum {
    CKPT_ISA_REF = 0,
    CKPT_ISA_AVX2 = 1,
    CKPT_ISA_F64 = 2,
    CKPT_ISA_SCALAR = 3, /* appended: the values are stable */
    CKPT_ISA_AVX512 = 4,
    CKPT_ISA_COUNT
} ckpt_isa;

struct ckpt_kq_kernels; /* quant_k_common.h, private to kernels/ */
struct ckpt_vec_dot;    /* vec_dot.h */
struct ckpt_act_quant;  /* vec_dot.h */

/* The running sum of one dot product, fed chunk after chunk in row order;
 * zero-initialise it.  Each ISA uses the fields it needs. */
struct ckpt_dot_acc {
    float lanes[8];
    double wide;
};

struct ckpt_kernels {
    ckpt_isa isa;
    /* acc += w[0..n) . x[0..n), one chunk of a row (n >= 0, any alignment) */
    void (*dot_chunk)(struct ckpt_dot_acc *acc, const float *w, const float *x, int64_t n);
    /* the finished dot product of the chunks fed to acc */
    float (*dot_sum)(const struct ckpt_dot_acc *acc);
    /* a[0..n) . b[0..n) in one go (attention scores) */
    float (*dot_f32)(const float *a, const float *b, int64_t n);
    /* s[d*lds + j] = dot_f32(q + d*ldq, k + j*ldk, n) / div for the four
     * heads d < 4 and the nk keys j, the same bits (the scores of four
     * heads that share their keys); NULL: dot_f32 calls */
    void (*scores4)(const float *q, int64_t ldq, const float *k, int64_t ldk, int64_t nk,
                    int64_t n, float div, float *s, int64_t lds);
    /* o[d] = sum over k < n of s[k] * v[k*ldv + d], for d < hd, k in order
     * (attention's weighted sum of values) */
    void (*weighted_sum)(float *o, const float *s, const float *v, int64_t n, int64_t ldv,
                         int64_t hd);
    /* weighted_sum of oa from sa and of ob from sb over the same v, the
     * same bits; NULL: two weighted_sum calls */
    void (*weighted_sum2)(float *oa, float *ob, const float *sa, const float *sb, const float *v,
                          int64_t n, int64_t ldv, int64_t hd);
    /* weighted_sum of o[h] from s[h], h < 4, over the same v, the same
     * bits; NULL: weighted_sum2 (or weighted_sum) calls */
    void (*weighted_sum4)(float *const o[4], const float *const s[4], const float *v, int64_t n,
                          int64_t ldv, int64_t hd);
    /* n little-endian f16 / bf16 values to f32: exact, the same floats in
     * every ISA (F16C quiets a signalling NaN) */
    void (*f16_to_f32)(const void *src, float *dst, int64_t n);
    void (*bf16_to_f32)(const void *src, float *dst, int64_t n);
    /* n f32 values to little-endian f16 / bf16 (any alignment): the bytes
     * of ckpt_f32_to_f16 / ckpt_f32_to_bf16 in every ISA (the converter's
     * output) */
    void (*f32_to_f16)(const float *src, void *dst, int64_t n);
    void (*f32_to_bf16)(const float *src, void *dst, int64_t n);
    /* the quantizers' scale searches: the same bytes in every ISA */
    const struct ckpt_kq_kernels *kq;
    /* dots with activations quantized once per product, indexed by weight
     * type (CKPT_TYPE_COUNT rows; .dot NULL: the widened f32 path); NULL
     * for the whole ISA in f64 and in ref off AVX2 (the f32 oracle), see
     * vec_dot.h */
    const struct ckpt_vec_dot *vec_dot;
    const struct ckpt_act_quant *act_quant; /* with vec_dot */
    /* x[i] = exp(x[i] - m), softmax's exponentials, and a[i] = silu(a[i])
     * * b[i], the FFN's SwiGLU: the bits of expf.h's ckpt_expf in every
     * ISA */
    void (*exp_sub)(float *x, int64_t n, float m);
    void (*silu_mul)(float *a, const float *b, int64_t n);
};

/* The table of the default ISA (see above).  Never NULL. */
const struct ckpt_kernels *ckpt_kernels_get(void);

/* The table of isa, or NULL if this CPU cannot run it (or isa is unknown). */
const struct ckpt_kernels *ckpt_kernels_of(ckpt_isa isa);

/* The default ISA: ckpt_kernels_get()->isa. */
ckpt_isa ckpt_isa_default(void);

/* True if this CPU can run the ISA's kernels. */
bool ckpt_isa_available(ckpt_isa isa);

/* "ref", "avx2", "f64", "scalar" ("?" for anything else). */
const char *ckpt_isa_name(ckpt_isa isa);

/* The semantic an ISA computes, as a short name: "q8" (avx2 and scalar:
 * quantized weights with q8 activations, the same bits), "f32" (ref, the
 * oracle), "f64"; "?" for anything else.  Two ISAs with one semantic give
 * the same logits. */
const char *ckpt_isa_semantic(ckpt_isa isa);

/* ISA from its name, case-insensitive; -1 if unknown. */
int ckpt_isa_from_name(const char *name);

#endif
