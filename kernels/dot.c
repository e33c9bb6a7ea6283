/*
 * dot.c - dot products (see dot.h): the scalar kernels, the row loops over
 * dequantized chunks, and the run-time choice of ISA.  Which types a row
 * may have is quant.h's table: adding a dequantizer there adds it here.
 *
 * The reference row dot dequantizes CKPT_DOT_CHUNK elements at a time and
 * feeds the same eight-lane accumulator as ckpt_vec_dot_f32; every chunk
 * starts at a multiple of 8, so each product lands in the same lane, in the
 * same order, as in a dot over the whole dequantized row.
 */
#include "dot.h"

#include <math.h>
#include <pthread.h>
#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dot_kernels.h"
#include "quant.h"

#define LANES 8
#define ACC_GROUP 32 /* activation vectors accumulated at once by ckpt_dot_rows */

/* ==== scalar kernels ==== */

/* acc[i % 8] += a[i]*b[i]; n is a multiple of 8 except for a final chunk */
static void accumulate(float acc[LANES], const float *a, const float *b, int64_t n)
{
    int64_t i = 0;
    for (; i + LANES <= n; i += LANES)
        for (int l = 0; l < LANES; ++l)
            acc[l] += a[i + l] * b[i + l];
    for (int l = 0; i < n; ++i, ++l)
        acc[l] += a[i] * b[i];
}

static float reduce(const float acc[LANES])
{
    return ((acc[0] + acc[4]) + (acc[2] + acc[6])) + ((acc[1] + acc[5]) + (acc[3] + acc[7]));
}

float ckpt_vec_dot_f32(const float *a, const float *b, int64_t n)
{
    float acc[LANES] = {0};
    accumulate(acc, a, b, n);
    return reduce(acc);
}

double ckpt_dot_f32_f64(const float *w, const float *x, int64_t n)
{
    double sum = 0.0;
    for (int64_t i = 0; i < n; i++)
        sum += (double)w[i] * (double)x[i];
    return sum;
}

/* ==== ISA choice ==== */

static const char *const isa_names[CKPT_ISA_COUNT] = {"ref", "avx2", "f64"};

const char *ckpt_isa_name(ckpt_isa isa)
{
    return (unsigned)isa < CKPT_ISA_COUNT ? isa_names[isa] : "?";
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

bool ckpt_isa_available(ckpt_isa isa)
{
    switch (isa) {
    case CKPT_ISA_REF:
    case CKPT_ISA_F64:
        return true;
    case CKPT_ISA_AVX2:
#if defined(__x86_64__) || defined(__i386__)
        return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && cpu_has_f16c();
#else
        return false;
#endif
    default:
        return false;
    }
}

static pthread_once_t default_once = PTHREAD_ONCE_INIT;
static ckpt_isa default_isa = CKPT_ISA_REF; /* written once, under default_once */

static void pick_default(void)
{
    const char *env = getenv("CKPT_ISA");
    int want = env ? ckpt_isa_from_name(env) : -1;
    if (want >= 0 && ckpt_isa_available((ckpt_isa)want))
        default_isa = (ckpt_isa)want;
    else
        default_isa = ckpt_isa_available(CKPT_ISA_AVX2) ? CKPT_ISA_AVX2 : CKPT_ISA_REF;
}

ckpt_isa ckpt_isa_default(void)
{
    pthread_once(&default_once, pick_default);
    return default_isa;
}

/* ==== rows ==== */

bool ckpt_dot_supported(ckpt_type t)
{
    return ckpt_quant_supported(t);
}

/* One chunk as f32: F32 rows on a 4-byte boundary are used in place, and
 * avx2 widens F16/BF16 with F16C (the values are the same: widening is exact). */
static const float *chunk_f32(ckpt_isa isa, ckpt_type t, const uint8_t *src, float *buf, int64_t n)
{
    if (t == CKPT_TYPE_F32 && ((uintptr_t)src % sizeof(float)) == 0)
        return (const float *)(const void *)src;
    if (isa == CKPT_ISA_AVX2 && t == CKPT_TYPE_F16)
        ckpt_f16_to_f32_avx2(src, buf, n);
    else if (isa == CKPT_ISA_AVX2 && t == CKPT_TYPE_BF16)
        ckpt_bf16_to_f32_avx2(src, buf, n);
    else
        ckpt_dequantize_row(t, src, buf, n);
    return buf;
}

void ckpt_dot_rows(ckpt_isa isa, ckpt_type t, const void *wrow, int64_t n, const float *x,
                   int64_t ldx, int64_t m, float *out, int64_t ldo)
{
    const struct ckpt_type_traits *tr = ckpt_type_traits((uint32_t)t);
    const size_t chunk_bytes = (size_t)(CKPT_DOT_CHUNK / tr->block_elems) * tr->block_bytes;
    float buf[CKPT_DOT_CHUNK];
    for (int64_t j0 = 0; j0 < m; j0 += ACC_GROUP) {
        const int64_t mg = m - j0 < ACC_GROUP ? m - j0 : ACC_GROUP;
        float lanes[ACC_GROUP][LANES] = {{0}};
        float accf[ACC_GROUP] = {0};
        double accd[ACC_GROUP] = {0};
        const uint8_t *src = wrow;
        for (int64_t i = 0; i < n; i += CKPT_DOT_CHUNK, src += chunk_bytes) {
            const int64_t len = n - i < CKPT_DOT_CHUNK ? n - i : CKPT_DOT_CHUNK;
            const float *w = chunk_f32(isa, t, src, buf, len);
            for (int64_t j = 0; j < mg; j++) {
                const float *xj = x + (j0 + j) * ldx + i;
                if (isa == CKPT_ISA_AVX2)
                    accf[j] += ckpt_dot_f32_avx2(w, xj, len);
                else if (isa == CKPT_ISA_F64)
                    accd[j] += ckpt_dot_f32_f64(w, xj, len);
                else
                    accumulate(lanes[j], w, xj, len);
            }
        }
        for (int64_t j = 0; j < mg; j++)
            out[(j0 + j) * ldo] = isa == CKPT_ISA_AVX2  ? accf[j]
                                  : isa == CKPT_ISA_F64 ? (float)accd[j]
                                                        : reduce(lanes[j]);
    }
}

float ckpt_dot_row_isa(ckpt_isa isa, ckpt_type t, const void *wrow, const float *x, int64_t n)
{
    float r;
    ckpt_dot_rows(isa, t, wrow, n, x, 0, 1, &r, 0);
    return r;
}

float ckpt_dot_row(ckpt_type t, const void *wrow, const float *x, int64_t n)
{
    const struct ckpt_type_traits *tr = ckpt_type_traits((uint32_t)t);
    if (!tr || !ckpt_quant_supported(t) || n < 0 || n % tr->block_elems != 0)
        return NAN;
    return ckpt_dot_row_isa(CKPT_ISA_REF, t, wrow, x, n);
}
