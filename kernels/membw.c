/*
 * membw.c - the memory read probe (see membw.h).  Each thread sums its
 * share as 64-bit words in four independent chains, each over its own
 * quarter of the share: four streams of misses in flight per thread, as
 * the decode kernels keep (one stream measured 28-30 GB/s here where an
 * F16 decode step read 38, so the bound it gave was no bound).  The
 * probe must read at least as fast as the kernels it bounds, on every
 * machine, so it reads the buffer in each of four ways and keeps the
 * fastest: the streams' lines asked for as the single dots ask
 * (prefetch.h: 31.9 GB/s on the AVX-512 machine, 39-46 on the AMD one),
 * as the decode tiles ask (ck_prefetch_row), with a near hint alone
 * (28.2 there, 54-60 here), and with the hardware prefetcher alone
 * (21-23 there).  The sums are kept so that the compiler
 * cannot drop the reads.
 */
#include "membw.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "prefetch.h"

#define PASSES 3
#define LINE_WORDS 8
#define MAX_THREADS 1024

/* how a probe pass asks for its lines ahead */
enum ahead { AHEAD_DOTS, AHEAD_ROWS, AHEAD_NEAR, AHEAD_NONE, AHEAD_COUNT };

struct probe {
    enum ahead ahead;
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
        if (p->ahead == AHEAD_DOTS) {
            ck_prefetch_stream(a + i);
            ck_prefetch_stream(b + i);
            ck_prefetch_stream(c + i);
            ck_prefetch_stream(d + i);
        } else if (p->ahead == AHEAD_ROWS) {
            ck_prefetch_row(a + i);
            ck_prefetch_row(b + i);
            ck_prefetch_row(c + i);
            ck_prefetch_row(d + i);
        } else if (p->ahead == AHEAD_NEAR) {
            __builtin_prefetch(a + i + CK_AHEAD_NEAR / 8, 0, 3);
            __builtin_prefetch(b + i + CK_AHEAD_NEAR / 8, 0, 3);
            __builtin_prefetch(c + i + CK_AHEAD_NEAR / 8, 0, 3);
            __builtin_prefetch(d + i + CK_AHEAD_NEAR / 8, 0, 3);
        }
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
    for (int k = 0; k < PASSES * AHEAD_COUNT; k++) {
        p->ahead = (enum ahead)(k % AHEAD_COUNT);
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
