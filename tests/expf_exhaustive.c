/*
 * expf_exhaustive.c - every one of the 2^32 floats through expf.h's
 * exponential: the scalar ckpt_expf against libm's expf (equal bits, NaN
 * for NaN, on glibc 2.27 or later, whose algorithm it writes out), and
 * every vector kernel of this CPU (exp_sub, silu_mul) against the scalar
 * kernels.  About two minutes on two cores: `make expf-check`, not part of
 * `make test` (check_ops.c samples a million of them).  Exit 1 on any
 * difference.
 */
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/dispatch.h"
#include "kernels/expf.h"

#define BLOCK (1u << 20)
#define THREADS 2

struct part {
    uint64_t from, to;
    uint64_t libm_diff, kernel_diff;
};

static int same(float a, float b)
{
    return memcmp(&a, &b, sizeof a) == 0 || (isnan(a) && isnan(b));
}

static void *run(void *arg)
{
    struct part *p = arg;
    float *x = malloc(BLOCK * sizeof *x), *r = malloc(BLOCK * sizeof *r),
          *g = malloc(BLOCK * sizeof *g), *ones = malloc(BLOCK * sizeof *ones);
    if (!x || !r || !g || !ones) {
        p->libm_diff = UINT64_MAX;
        return NULL;
    }
    for (uint32_t i = 0; i < BLOCK; i++)
        ones[i] = 1.0f;
    for (uint64_t base = p->from; base < p->to; base += BLOCK) {
        for (uint32_t i = 0; i < BLOCK; i++) {
            uint32_t u = (uint32_t)(base + i);
            memcpy(&x[i], &u, sizeof u);
            if (!same(ckpt_expf(x[i]), expf(x[i])))
                p->libm_diff++;
        }
        for (int isa = 0; isa < CKPT_ISA_COUNT; isa++) {
            const struct ckpt_kernels *k = ckpt_kernels_of((ckpt_isa)isa);
            if (!k || k->exp_sub == ckpt_exp_sub_ref)
                continue;
            memcpy(r, x, BLOCK * sizeof *x);
            memcpy(g, x, BLOCK * sizeof *x);
            ckpt_exp_sub_ref(r, BLOCK, 0.0f);
            k->exp_sub(g, BLOCK, 0.0f);
            for (uint32_t i = 0; i < BLOCK; i++)
                p->kernel_diff += !same(r[i], g[i]);
            memcpy(r, x, BLOCK * sizeof *x);
            memcpy(g, x, BLOCK * sizeof *x);
            ckpt_silu_mul_ref(r, ones, BLOCK);
            k->silu_mul(g, ones, BLOCK);
            for (uint32_t i = 0; i < BLOCK; i++)
                p->kernel_diff += !same(r[i], g[i]);
        }
    }
    free(x);
    free(r);
    free(g);
    free(ones);
    return NULL;
}

int main(void)
{
    struct part parts[THREADS];
    pthread_t th[THREADS];
    const uint64_t all = (uint64_t)1 << 32, share = all / THREADS;
    for (int t = 0; t < THREADS; t++) {
        parts[t] = (struct part){share * (uint64_t)t, share * (uint64_t)(t + 1), 0, 0};
        if (pthread_create(&th[t], NULL, run, &parts[t]) != 0) {
            fprintf(stderr, "expf_exhaustive: cannot start a thread\n");
            return 2;
        }
    }
    uint64_t libm = 0, kernels = 0;
    for (int t = 0; t < THREADS; t++) {
        pthread_join(th[t], NULL);
        libm += parts[t].libm_diff;
        kernels += parts[t].kernel_diff;
    }
    printf("expf over all 2^32 floats: %llu differ from libm's expf, %llu vector results "
           "differ from the scalar kernels (ISA %s)\n",
           (unsigned long long)libm, (unsigned long long)kernels,
           ckpt_isa_name(ckpt_isa_default()));
    return libm || kernels ? 1 : 0;
}
