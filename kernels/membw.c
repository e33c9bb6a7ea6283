/*
 * membw.c - the memory read probe (see membw.h).  Each thread sums its
 * share as 64-bit words in four independent chains, each over its own
 * quarter of the share: four streams of misses in flight per thread, as
 * the decode kernels keep (one stream measured 28-30 GB/s here where an
 * F16 decode step read 38, so the bound it gave was no bound), each a
 * line ahead of itself (AHEAD_WORDS).  The sums
 * are kept so that the compiler cannot drop the reads.
 */
#include "membw.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PASSES 3
/* Each stream asks for its line 1 KiB on, once a line, as the F16 decode
 * tile does (vec_dot_avx2.c, FOUR_AHEAD): the probe must read at least as
 * fast as the kernels it bounds (without, it read 21-23 GB/s on the
 * AVX-512 machine where a decode step read 23-26). */
#define LINE_WORDS 8
#define AHEAD_WORDS 128
#define MAX_THREADS 1024

struct probe {
    const uint64_t *words;
    int64_t n_words;
    uint64_t sums[MAX_THREADS];
};

static void read_share(void *ctx, int64_t begin, int64_t end, int thread)
{
    struct probe *p = ctx;
    uint64_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    const int64_t q = (end - begin) / 4;
    const uint64_t *a = p->words + begin, *b = a + q, *c = b + q, *d = c + q;
    int64_t i = 0;
    for (; i + LINE_WORDS <= q; i += LINE_WORDS) {
        __builtin_prefetch(a + i + AHEAD_WORDS);
        __builtin_prefetch(b + i + AHEAD_WORDS);
        __builtin_prefetch(c + i + AHEAD_WORDS);
        __builtin_prefetch(d + i + AHEAD_WORDS);
        for (int k = 0; k < LINE_WORDS; k++) {
            s0 += a[i + k];
            s1 += b[i + k];
            s2 += c[i + k];
            s3 += d[i + k];
        }
    }
    for (; i < q; i++) {
        s0 += a[i];
        s1 += b[i];
        s2 += c[i];
        s3 += d[i];
    }
    for (i = begin + 4 * q; i < end; i++)
        s0 += p->words[i];
    p->sums[thread] += s0 ^ s1 ^ s2 ^ s3;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

ckpt_status ckpt_membw_read(ckpt_pool *pool, size_t bytes, double *out, ckpt_err *err)
{
    *out = 0;
    struct probe *p = calloc(1, sizeof *p);
    uint64_t *w = malloc(bytes < 64 ? 64 : bytes);
    if (!p || !w) {
        free(p);
        free(w);
        return ckpt_err_set(err, CKPT_E_NOMEM, "out of memory for a %zu-byte read probe", bytes);
    }
    memset(w, 1, bytes); /* resident, and not the zero page */
    p->words = w;
    p->n_words = (int64_t)(bytes / sizeof *w);
    double best = 0;
    for (int k = 0; k < PASSES; k++) {
        double t0 = now();
        ckpt_pool_run(pool, read_share, p, p->n_words);
        double dt = now() - t0;
        if (dt > 0 && (double)bytes / dt > best)
            best = (double)bytes / dt;
    }
    *out = best;
    free(w);
    free(p);
    return CKPT_OK;
}
