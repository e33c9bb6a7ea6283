/*
 * dispatch.c - the kernel tables and the choice among them (see
 * dispatch.h).  The kernels themselves live with their kind: dot.c and
 * dot_avx2.c (dot_kernels.h), fp16.c, quant_k_common.c and quant_k_avx2.c
 * (quant_k_common.h).  A table names the ISA's kernel where it has one
 * and the scalar one elsewhere, so callers never test the ISA.
 */
#include "dispatch.h"

#include <pthread.h>
#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dot.h"
#include "dot_kernels.h"
#include "expf.h"
#include "quant_k_common.h"
#include "vec_dot.h"

/* One row per weight type with a quantized-activation (or fused) kernel:
 * its AVX2 sibling where there is one, else the scalar twin (the same
 * bits either way).  A new weight type plugs in here. */
static const struct ckpt_vec_dot vec_dot_avx2[CKPT_TYPE_COUNT] = {
    [CKPT_TYPE_F32] = {.act = CKPT_TYPE_F32,
                       .dot = ckpt_vec_dot_f32_f32_avx2,
                       .tile = ckpt_vec_tile_f32_avx2,
                       .tile_k = ckpt_vec_tile_k_f32_avx2,
                       .spread = true},
    [CKPT_TYPE_F16] = {.act = CKPT_TYPE_F32,
                       .dot = ckpt_vec_dot_f16_f32_avx2,
                       .tile = ckpt_vec_tile_f16_avx2,
                       .tile_k = ckpt_vec_tile_k_f16_avx2,
                       .spread = true},
    [CKPT_TYPE_BF16] = {.act = CKPT_TYPE_F32,
                       .dot = ckpt_vec_dot_bf16_f32_avx2,
                       .tile = ckpt_vec_tile_bf16_avx2,
                       .tile_k = ckpt_vec_tile_k_bf16_avx2,
                       .spread = true},
    [CKPT_TYPE_Q8_0] = {.act = CKPT_TYPE_Q8_0,
                       .dot = ckpt_vec_dot_q8_0_q8_0_avx2,
                       .tile = ckpt_vec_tile_q8_0_q8_0_avx2,
                       .tile_k = ckpt_vec_tile_k_q8_0_q8_0_avx2,
                       .spread = true},
    [CKPT_TYPE_Q4_0] = {.act = CKPT_TYPE_Q8_0,
                        .dot = ckpt_vec_dot_q4_0_q8_0_avx2,
                        .tile = ckpt_vec_tile_q4_0_q8_0_avx2,
                        .tile_k = ckpt_vec_tile_k_q4_0_q8_0_avx2,
                        .spread = true},
    [CKPT_TYPE_Q4_1] = {.act = CKPT_TYPE_Q8_0,
                        .dot = ckpt_vec_dot_q4_1_q8_0_avx2,
                        .tile = ckpt_vec_tile_q4_1_q8_0_avx2,
                        .tile_k = ckpt_vec_tile_k_q4_1_q8_0_avx2,
                        .spread = true},
    [CKPT_TYPE_Q5_0] = {.act = CKPT_TYPE_Q8_0,
                        .dot = ckpt_vec_dot_q5_0_q8_0_avx2,
                        .tile = ckpt_vec_tile_q5_0_q8_0_avx2,
                        .tile_k = ckpt_vec_tile_k_q5_0_q8_0_avx2,
                        .spread = true},
    [CKPT_TYPE_Q5_1] = {.act = CKPT_TYPE_Q8_0,
                        .dot = ckpt_vec_dot_q5_1_q8_0_avx2,
                        .tile = ckpt_vec_tile_q5_1_q8_0_avx2,
                        .tile_k = ckpt_vec_tile_k_q5_1_q8_0_avx2,
                        .spread = true},
    [CKPT_TYPE_IQ4_NL] = {.act = CKPT_TYPE_Q8_0,
                          .dot = ckpt_vec_dot_iq4_nl_q8_0_avx2,
                          .tile = ckpt_vec_tile_iq4_nl_q8_0_avx2,
                          .tile_k = ckpt_vec_tile_k_iq4_nl_q8_0_avx2,
                          .spread = true},
    [CKPT_TYPE_Q2_K] = {.act = CKPT_TYPE_Q8_K,
                       .dot = ckpt_vec_dot_q2_K_q8_K_avx2,
                       .tile = ckpt_vec_tile_q2_K_q8_K_avx2,
                       .tile_k = ckpt_vec_tile_k_q2_K_q8_K_avx2},
    [CKPT_TYPE_Q3_K] = {.act = CKPT_TYPE_Q8_K,
                       .dot = ckpt_vec_dot_q3_K_q8_K_avx2,
                       .tile = ckpt_vec_tile_q3_K_q8_K_avx2,
                       .tile_k = ckpt_vec_tile_k_q3_K_q8_K_avx2},
    [CKPT_TYPE_Q4_K] = {.act = CKPT_TYPE_Q8_K,
                       .dot = ckpt_vec_dot_q4_K_q8_K_avx2,
                       .tile = ckpt_vec_tile_q4_K_q8_K_avx2,
                       .tile_k = ckpt_vec_tile_k_q4_K_q8_K_avx2,
                       .spread = true},
    [CKPT_TYPE_Q5_K] = {.act = CKPT_TYPE_Q8_K,
                       .dot = ckpt_vec_dot_q5_K_q8_K_avx2,
                       .tile = ckpt_vec_tile_q5_K_q8_K_avx2,
                       .tile_k = ckpt_vec_tile_k_q5_K_q8_K_avx2,
                       .spread = true},
    [CKPT_TYPE_Q6_K] = {.act = CKPT_TYPE_Q8_K,
                       .dot = ckpt_vec_dot_q6_K_q8_K_avx2,
                       .tile = ckpt_vec_tile_q6_K_q8_K_avx2,
                       .tile_k = ckpt_vec_tile_k_q6_K_q8_K_avx2,
                       .spread = true},
};

/* The ref table's rows on a CPU with AVX2: the reference's order, in
 * vector registers (vec_dot.h, *_refx), the same bits as the scalar path. */
static const struct ckpt_vec_dot vec_dot_refx[CKPT_TYPE_COUNT] = {
    [CKPT_TYPE_F32] = {.act = CKPT_TYPE_F32,
                       .dot = ckpt_vec_dot_f32_f32_refx,
                       .tile = ckpt_vec_tile_f32_refx,
                       .tile_k = ckpt_vec_tile_k_f32_refx},
    [CKPT_TYPE_F16] = {.act = CKPT_TYPE_F32,
                       .dot = ckpt_vec_dot_f16_f32_refx,
                       .tile = ckpt_vec_tile_f16_refx,
                       .tile_k = ckpt_vec_tile_k_f16_refx},
    [CKPT_TYPE_BF16] = {.act = CKPT_TYPE_F32,
                       .dot = ckpt_vec_dot_bf16_f32_refx,
                       .tile = ckpt_vec_tile_bf16_refx,
                       .tile_k = ckpt_vec_tile_k_bf16_refx},
};

static const struct ckpt_act_quant act_quant_avx2 = {ckpt_act_quant_q8_0_avx2,
                                                     ckpt_act_quant_q8_K_avx2};

/* The scalar ISA: every kernel of the avx2 table by its scalar twin (the
 * same bits): vec_dot.c's rows for every weight type, the q8 activation
 * quantizers, the FMA attention and chunk dots of dot.c. */
static const struct ckpt_kernels tables[CKPT_ISA_COUNT] = {
    [CKPT_ISA_REF] = {.isa = CKPT_ISA_REF,
                      .dot_chunk = ckpt_dot_chunk_ref,
                      .dot_sum = ckpt_dot_sum_ref,
                      .dot_f32 = ckpt_vec_dot_f32,
                      .weighted_sum = ckpt_weighted_sum_f32,
                      .f16_to_f32 = ckpt_f16_to_f32_ref,
                      .bf16_to_f32 = ckpt_bf16_to_f32_ref,
                      .f32_to_f16 = ckpt_f32_to_f16_ref,
                      .f32_to_bf16 = ckpt_f32_to_bf16_ref,
                      .kq = &ckpt_kq_ref,
                      .exp_sub = ckpt_exp_sub_ref,
                      .silu_mul = ckpt_silu_mul_ref},
    [CKPT_ISA_AVX2] = {.isa = CKPT_ISA_AVX2,
                       .dot_chunk = ckpt_dot_chunk_avx2,
                       .dot_sum = ckpt_dot_sum_avx2,
                       .dot_f32 = ckpt_dot_f32_avx2,
                       .weighted_sum = ckpt_weighted_sum_f32_avx2,
                       .f16_to_f32 = ckpt_f16_to_f32_avx2,
                       .bf16_to_f32 = ckpt_bf16_to_f32_avx2,
                       .f32_to_f16 = ckpt_f32_to_f16_avx2,
                       .f32_to_bf16 = ckpt_f32_to_bf16_avx2,
                       .kq = &ckpt_kq_avx2,
                       .vec_dot = vec_dot_avx2,
                       .act_quant = &act_quant_avx2,
                       .exp_sub = ckpt_exp_sub_avx2,
                       .silu_mul = ckpt_silu_mul_avx2},
    [CKPT_ISA_F64] = {.isa = CKPT_ISA_F64,
                      .dot_chunk = ckpt_dot_chunk_f64,
                      .dot_sum = ckpt_dot_sum_f64,
                      .dot_f32 = ckpt_dot_f32_f64_f,
                      .weighted_sum = ckpt_weighted_sum_f64,
                      .f16_to_f32 = ckpt_f16_to_f32_ref,
                      .bf16_to_f32 = ckpt_bf16_to_f32_ref,
                      .f32_to_f16 = ckpt_f32_to_f16_ref,
                      .f32_to_bf16 = ckpt_f32_to_bf16_ref,
                      .kq = &ckpt_kq_ref,
                      .exp_sub = ckpt_exp_sub_ref,
                      .silu_mul = ckpt_silu_mul_ref},
    [CKPT_ISA_SCALAR] = {.isa = CKPT_ISA_SCALAR,
                         .dot_chunk = ckpt_dot_chunk_fma,
                         .dot_sum = ckpt_dot_sum_fma,
                         .dot_f32 = ckpt_dot_f32_fma,
                         .weighted_sum = ckpt_weighted_sum_f32,
                         .f16_to_f32 = ckpt_f16_to_f32_ref,
                         .bf16_to_f32 = ckpt_bf16_to_f32_ref,
                         .f32_to_f16 = ckpt_f32_to_f16_ref,
                         .f32_to_bf16 = ckpt_f32_to_bf16_ref,
                         .kq = &ckpt_kq_ref,
                         .vec_dot = ckpt_vec_dot_table_ref,
                         .act_quant = &ckpt_act_quant_ref,
                         .exp_sub = ckpt_exp_sub_ref,
                         .silu_mul = ckpt_silu_mul_ref},
};

/* ref with its F32/F16/BF16 row dots in AVX2 registers (same bits) */
static const struct ckpt_kernels ref_avx2 = {.isa = CKPT_ISA_REF,
                                             .dot_chunk = ckpt_dot_chunk_ref,
                                             .dot_sum = ckpt_dot_sum_ref,
                                             .dot_f32 = ckpt_vec_dot_f32,
                                             .weighted_sum = ckpt_weighted_sum_f32,
                                             .f16_to_f32 = ckpt_f16_to_f32_ref,
                                             .bf16_to_f32 = ckpt_bf16_to_f32_ref,
                                             .f32_to_f16 = ckpt_f32_to_f16_ref,
                                             .f32_to_bf16 = ckpt_f32_to_bf16_ref,
                                             .kq = &ckpt_kq_ref,
                                             .vec_dot = vec_dot_refx,
                                             .exp_sub = ckpt_exp_sub_avx2,
                                             .silu_mul = ckpt_silu_mul_avx2};

/* avx512: the avx2 kernels with AVX-512 register tiles for the F32, F16
 * and BF16 rows (vec_tile_f_avx512.c) and, where the CPU has AVX512_VNNI,
 * vpdpbusd K-slice tiles for the k-quants (vec_tile_k_vnni.c) and the
 * 32-element types (vec_tile_q8_vnni.c), and vpdpbusd single dots of
 * q4_K, q5_K and q6_K, the decode tiles of the k-quants and of the
 * 32-element types (vec_dot_vnni.c); attention's scores of four heads and
 * its weighted sum in AVX-512 registers (dot_avx512.c): the same bits.
 * Filled once by decide(), from the avx2 rows. */
static struct ckpt_vec_dot vec_dot_avx512[CKPT_TYPE_COUNT];
static struct ckpt_kernels avx512;

/* AVX512_VNNI: asked only where the avx512 table is used (after
 * cpu_runs(AVX512)), so a CPU without AVX-512 never reaches it. */
static bool cpu_has_vnni(void)
{
#if defined(__x86_64__) || defined(__i386__)
    return __builtin_cpu_supports("avx512vnni");
#else
    return false;
#endif
}

static void fill_avx512(void)
{
    memcpy(vec_dot_avx512, vec_dot_avx2, sizeof vec_dot_avx512);
    vec_dot_avx512[CKPT_TYPE_F32].tile = ckpt_vec_tile_f32_avx512;
    vec_dot_avx512[CKPT_TYPE_F32].tile_k = ckpt_vec_tile_k_f32_avx512;
    vec_dot_avx512[CKPT_TYPE_F16].tile = ckpt_vec_tile_f16_avx512;
    vec_dot_avx512[CKPT_TYPE_F16].tile_k = ckpt_vec_tile_k_f16_avx512;
    vec_dot_avx512[CKPT_TYPE_BF16].tile = ckpt_vec_tile_bf16_avx512;
    vec_dot_avx512[CKPT_TYPE_BF16].tile_k = ckpt_vec_tile_k_bf16_avx512;
    if (cpu_has_vnni()) {
        vec_dot_avx512[CKPT_TYPE_Q2_K].tile_k = ckpt_vec_tile_k_q2_K_q8_K_vnni;
        vec_dot_avx512[CKPT_TYPE_Q3_K].tile_k = ckpt_vec_tile_k_q3_K_q8_K_vnni;
        vec_dot_avx512[CKPT_TYPE_Q4_K].tile_k = ckpt_vec_tile_k_q4_K_q8_K_vnni;
        vec_dot_avx512[CKPT_TYPE_Q5_K].tile_k = ckpt_vec_tile_k_q5_K_q8_K_vnni;
        vec_dot_avx512[CKPT_TYPE_Q6_K].tile_k = ckpt_vec_tile_k_q6_K_q8_K_vnni;
        vec_dot_avx512[CKPT_TYPE_Q4_K].dot = ckpt_vec_dot_q4_K_q8_K_vnni;
        vec_dot_avx512[CKPT_TYPE_Q4_K].tile = ckpt_vec_tile_q4_K_q8_K_vnni;
        vec_dot_avx512[CKPT_TYPE_Q5_K].dot = ckpt_vec_dot_q5_K_q8_K_vnni;
        vec_dot_avx512[CKPT_TYPE_Q5_K].tile = ckpt_vec_tile_q5_K_q8_K_vnni;
        vec_dot_avx512[CKPT_TYPE_Q6_K].dot = ckpt_vec_dot_q6_K_q8_K_vnni;
        vec_dot_avx512[CKPT_TYPE_Q6_K].tile = ckpt_vec_tile_q6_K_q8_K_vnni;
        vec_dot_avx512[CKPT_TYPE_Q2_K].tile = ckpt_vec_tile_q2_K_q8_K_vnni;
        vec_dot_avx512[CKPT_TYPE_Q3_K].tile = ckpt_vec_tile_q3_K_q8_K_vnni;
        vec_dot_avx512[CKPT_TYPE_Q2_K].spread = true; /* rows side by side */
        vec_dot_avx512[CKPT_TYPE_Q3_K].spread = true;
        vec_dot_avx512[CKPT_TYPE_Q4_K].spread = true;
        vec_dot_avx512[CKPT_TYPE_Q5_K].spread = true;
        vec_dot_avx512[CKPT_TYPE_Q6_K].spread = true;
        vec_dot_avx512[CKPT_TYPE_Q8_0].tile = ckpt_vec_tile_q8_0_q8_0_vnni;
        vec_dot_avx512[CKPT_TYPE_Q4_0].tile = ckpt_vec_tile_q4_0_q8_0_vnni;
        vec_dot_avx512[CKPT_TYPE_Q4_1].tile = ckpt_vec_tile_q4_1_q8_0_vnni;
        vec_dot_avx512[CKPT_TYPE_Q5_0].tile = ckpt_vec_tile_q5_0_q8_0_vnni;
        vec_dot_avx512[CKPT_TYPE_Q5_1].tile = ckpt_vec_tile_q5_1_q8_0_vnni;
        vec_dot_avx512[CKPT_TYPE_IQ4_NL].tile = ckpt_vec_tile_iq4_nl_q8_0_vnni;
        vec_dot_avx512[CKPT_TYPE_Q8_0].tile_k = ckpt_vec_tile_k_q8_0_q8_0_vnni;
        vec_dot_avx512[CKPT_TYPE_Q4_0].tile_k = ckpt_vec_tile_k_q4_0_q8_0_vnni;
        vec_dot_avx512[CKPT_TYPE_Q4_1].tile_k = ckpt_vec_tile_k_q4_1_q8_0_vnni;
        vec_dot_avx512[CKPT_TYPE_Q5_0].tile_k = ckpt_vec_tile_k_q5_0_q8_0_vnni;
        vec_dot_avx512[CKPT_TYPE_Q5_1].tile_k = ckpt_vec_tile_k_q5_1_q8_0_vnni;
        vec_dot_avx512[CKPT_TYPE_IQ4_NL].tile_k = ckpt_vec_tile_k_iq4_nl_q8_0_vnni;
    }
    avx512 = tables[CKPT_ISA_AVX2];
    avx512.isa = CKPT_ISA_AVX512;
    avx512.scores4 = ckpt_scores4_f32_avx512;
    avx512.weighted_sum = ckpt_weighted_sum_f32_avx512;
    avx512.weighted_sum2 = ckpt_weighted_sum2_f32_avx512;
    avx512.weighted_sum4 = ckpt_weighted_sum4_f32_avx512;
    avx512.exp_sub = ckpt_exp_sub_avx512;
    avx512.silu_mul = ckpt_silu_mul_avx512;
    avx512.vec_dot = vec_dot_avx512;
}

static const char *const isa_names[CKPT_ISA_COUNT] = {"ref", "avx2", "f64", "scalar", "avx512"};

const char *ckpt_isa_name(ckpt_isa isa)
{
    return (unsigned)isa < CKPT_ISA_COUNT ? isa_names[isa] : "?";
}

static const char *const isa_semantics[CKPT_ISA_COUNT] = {"f32", "q8", "f64", "q8", "q8"};

const char *ckpt_isa_semantic(ckpt_isa isa)
{
    return (unsigned)isa < CKPT_ISA_COUNT ? isa_semantics[isa] : "?";
}

int ckpt_isa_from_name(const char *name)
{
    for (int i = 0; i < CKPT_ISA_COUNT; i++)
        if (name && strcasecmp(name, isa_names[i]) == 0)
            return i;
    return -1;
}

#if defined(__x86_64__) || defined(__i386__)
/* F16C is CPUID leaf 1, ECX bit 29 (asked directly: not every compiler's
 * __builtin_cpu_supports knows the name). */
static bool cpu_has_f16c(void)
{
    unsigned a, b, c, d;
    return __get_cpuid(1, &a, &b, &c, &d) && (c & (1u << 29));
}
#endif

/* Asked once: CPUID is slow (in a virtual machine it traps to the host). */
static bool cpu_runs(ckpt_isa isa)
{
    switch (isa) {
    case CKPT_ISA_REF:
    case CKPT_ISA_F64:
    case CKPT_ISA_SCALAR:
        return true;
    case CKPT_ISA_AVX2:
#if defined(__x86_64__) || defined(__i386__)
        return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && cpu_has_f16c();
#else
        return false;
#endif
    case CKPT_ISA_AVX512:
#if defined(__x86_64__) || defined(__i386__)
        /* the builtin also asks whether the OS saves the 512-bit state */
        return cpu_runs(CKPT_ISA_AVX2) && __builtin_cpu_supports("avx512f") &&
               __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl");
#else
        return false;
#endif
    default:
        return false;
    }
}

static pthread_once_t once = PTHREAD_ONCE_INIT;
/* written once, under once */
static bool available[CKPT_ISA_COUNT];
static const struct ckpt_kernels *default_table;
static const struct ckpt_kernels *ref_table; /* tables[REF], or ref_avx2 */

static const struct ckpt_kernels *table_of(ckpt_isa isa)
{
    return isa == CKPT_ISA_REF ? ref_table : isa == CKPT_ISA_AVX512 ? &avx512 : &tables[isa];
}

static void decide(void)
{
    for (int i = 0; i < CKPT_ISA_COUNT; i++)
        available[i] = cpu_runs((ckpt_isa)i);
    fill_avx512();
    ref_table = available[CKPT_ISA_AVX2] ? &ref_avx2 : &tables[CKPT_ISA_REF];
    const char *env = getenv("CKPT_ISA");
    int want = env ? ckpt_isa_from_name(env) : -1;
    if (want < 0 || !available[want])
        want = available[CKPT_ISA_AVX512] ? CKPT_ISA_AVX512
               : available[CKPT_ISA_AVX2] ? CKPT_ISA_AVX2
                                          : CKPT_ISA_SCALAR;
    default_table = table_of((ckpt_isa)want);
}

bool ckpt_isa_available(ckpt_isa isa)
{
    pthread_once(&once, decide);
    return (unsigned)isa < CKPT_ISA_COUNT && available[isa];
}

const struct ckpt_kernels *ckpt_kernels_of(ckpt_isa isa)
{
    if (!ckpt_isa_available(isa))
        return NULL;
    return table_of(isa);
}

const struct ckpt_kernels *ckpt_kernels_scalar_ref(void)
{
    return &tables[CKPT_ISA_REF];
}

const struct ckpt_kernels *ckpt_kernels_get(void)
{
    pthread_once(&once, decide);
    return default_table;
}

ckpt_isa ckpt_isa_default(void)
{
    return ckpt_kernels_get()->isa;
}
