/*
 * dot.c - weight-row dot products (see dot.h): the type table (how a chunk
 * of each type becomes f32), the scalar chunk kernels, and the run-time
 * choice of ISA.  Adding a quantized type is one line in `to_f32_table`.
 */
#include "dot.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dot_kernels.h"
#include "fp16.h"

/* ==== conversion of a chunk to f32, per type ==== */

typedef void (*to_f32_fn)(const void *src, float *dst, int64_t n);

static void f32_to_f32(const void *src, float *dst, int64_t n)
{
    memcpy(dst, src, (size_t)n * sizeof(float));
}

static void f16_to_f32(const void *src, float *dst, int64_t n)
{
    const uint8_t *p = src;
    for (int64_t i = 0; i < n; i++)
        dst[i] = ckpt_f16_to_f32((uint16_t)(p[2 * i] | (p[2 * i + 1] << 8)));
}

static void bf16_to_f32(const void *src, float *dst, int64_t n)
{
    const uint8_t *p = src;
    for (int64_t i = 0; i < n; i++)
        dst[i] = ckpt_bf16_to_f32((uint16_t)(p[2 * i] | (p[2 * i + 1] << 8)));
}

/* Indexed by ggml type id; NULL = not supported. */
static const to_f32_fn to_f32_table[CKPT_TYPE_COUNT] = {
    [CKPT_TYPE_F32] = f32_to_f32,
    [CKPT_TYPE_F16] = f16_to_f32,
    [CKPT_TYPE_BF16] = bf16_to_f32,
};

bool ckpt_dot_supports(ckpt_type t)
{
    return (unsigned)t < CKPT_TYPE_COUNT && to_f32_table[t] != NULL;
}

void ckpt_dot_to_f32(ckpt_type t, const void *row, float *out, int64_t n)
{
    to_f32_table[t](row, out, n);
}

/* ==== scalar chunk kernels ==== */

float ckpt_dot_f32_ref(const float *w, const float *x, int64_t n)
{
    float sum = 0.0f;
    for (int64_t i = 0; i < n; i++)
        sum += w[i] * x[i];
    return sum;
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

bool ckpt_isa_available(ckpt_isa isa)
{
    switch (isa) {
    case CKPT_ISA_REF:
    case CKPT_ISA_F64:
        return true;
    case CKPT_ISA_AVX2:
#if defined(__x86_64__) || defined(__i386__)
        return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
               __builtin_cpu_supports("f16c");
#else
        return false;
#endif
    default:
        return false;
    }
}

static pthread_once_t default_once = PTHREAD_ONCE_INIT;
static ckpt_isa default_isa = CKPT_ISA_REF; /* written once under default_once */

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

/* Convert one chunk; F32 rows on a 4-byte boundary are used in place. */
static const float *chunk_f32(ckpt_isa isa, ckpt_type t, const uint8_t *src, float *buf, int64_t n)
{
    if (t == CKPT_TYPE_F32 && ((uintptr_t)src % sizeof(float)) == 0)
        return (const float *)(const void *)src;
    if (isa == CKPT_ISA_AVX2 && t == CKPT_TYPE_F16)
        ckpt_f16_to_f32_avx2(src, buf, n);
    else if (isa == CKPT_ISA_AVX2 && t == CKPT_TYPE_BF16)
        ckpt_bf16_to_f32_avx2(src, buf, n);
    else
        to_f32_table[t](src, buf, n);
    return buf;
}

#define ACC_GROUP 32 /* activation vectors accumulated at once */

void ckpt_dot_rows(ckpt_isa isa, ckpt_type t, const void *row, int64_t n, const float *x,
                   int64_t ldx, int64_t m, float *out, int64_t ldo)
{
    const struct ckpt_type_traits *tr = ckpt_type_traits(t);
    int64_t chunk = CKPT_DOT_CHUNK;
    size_t chunk_bytes = (size_t)(chunk / tr->block_elems) * tr->block_bytes;
    float buf[CKPT_DOT_CHUNK];
    for (int64_t j0 = 0; j0 < m; j0 += ACC_GROUP) {
        int64_t mg = m - j0 < ACC_GROUP ? m - j0 : ACC_GROUP;
        float accf[ACC_GROUP] = {0};
        double accd[ACC_GROUP] = {0};
        const uint8_t *src = row;
        for (int64_t i = 0; i < n; i += chunk, src += chunk_bytes) {
            int64_t len = n - i < chunk ? n - i : chunk;
            const float *w = chunk_f32(isa, t, src, buf, len);
            for (int64_t j = 0; j < mg; j++) {
                const float *xj = x + (j0 + j) * ldx + i;
                if (isa == CKPT_ISA_F64)
                    accd[j] += ckpt_dot_f32_f64(w, xj, len);
                else if (isa == CKPT_ISA_AVX2)
                    accf[j] += ckpt_dot_f32_avx2(w, xj, len);
                else
                    accf[j] += ckpt_dot_f32_ref(w, xj, len);
            }
        }
        for (int64_t j = 0; j < mg; j++)
            out[(j0 + j) * ldo] = isa == CKPT_ISA_F64 ? (float)accd[j] : accf[j];
    }
}

float ckpt_dot_row_isa(ckpt_isa isa, ckpt_type t, const void *row, const float *x, int64_t n)
{
    float r;
    ckpt_dot_rows(isa, t, row, n, x, 0, 1, &r, 0);
    return r;
}

float ckpt_dot_row(ckpt_type t, const void *row, const float *x, int64_t n)
{
    return ckpt_dot_row_isa(ckpt_isa_default(), t, row, x, n);
}
