/*
 * ct_gptq.c - GPTQ with the compressed-tensors group quantizer (see
 * ct_gptq.h).
 */
#include "ct_gptq.h"

#include "../kernels/quant_ct.h"
#include "optimize.h"

struct genc {
    const float *imp;
    bool search;
    int64_t group;
    int bits;
    ckpt_type dt;
    float *scale; /* (n / group) */
    int8_t *q;    /* (n) */
};

static ckpt_status g_start(void *ctx, const double *wd, int64_t b0, float *q, ckpt_err *err)
{
    struct genc *g = ctx;
    (void)err;
    float *x = q + b0; /* the group's values now; column overwrites them in turn */
    for (int64_t j = 0; j < g->group; j++)
        x[j] = (float)wd[b0 + j];
    g->scale[b0 / g->group] =
        g->search ? ckpt_ct_scale_search(x, g->imp ? g->imp + b0 : NULL, g->group, g->bits,
                                         g->dt)
                  : ckpt_ct_scale_absmax(x, g->group, g->bits, g->dt);
    return CKPT_OK;
}

static float g_column(void *ctx, int64_t j, double v)
{
    struct genc *g = ctx;
    const float x = (float)v, s = g->scale[j / g->group];
    ckpt_ct_quantize(&x, 1, s, g->bits, g->dt, g->q + j);
    return (float)g->q[j] * s; /* as ckpt_ct_dequantize */
}

void ckpt_ct_gptq_row(const float *u, const float *x, const float *imp, bool search, int64_t n,
                      int64_t group, int bits, ckpt_type dt, float *scale, int8_t *q,
                      void *scratch)
{
    double *wd = scratch;
    float *w = (float *)(wd + n), *qf = w + n;
    struct genc g = {imp, search, group, bits, dt, scale, q};
    const struct ckpt_gptq_enc enc = {group, g_start, g_column, &g};
    for (int64_t j = 0; j < n; j++)
        wd[j] = x[j];
    (void)ckpt_gptq_walk(u, n, &enc, wd, w, qf, NULL); /* g_start never fails */
}
