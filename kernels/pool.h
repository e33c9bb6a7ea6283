/*
 * pool.h - a fixed pool of worker threads for data-parallel loops.
 *
 * ckpt_pool_run splits [0, n_items) statically into one contiguous range
 * per thread (thread t gets [t*chunk, (t+1)*chunk)), so each item has one
 * fixed owner and results never depend on scheduling.  Callers that want
 * results independent of the thread count as well must make each item's
 * computation self-contained (no cross-item reductions), which is how the
 * quantizer and the forward pass use it.
 */
#ifndef CKPT_KERNELS_POOL_H
#define CKPT_KERNELS_POOL_H

#include <stdint.h>

#include "err.h"

typedef struct ckpt_pool ckpt_pool;

/* Work callback: process items [begin, end) on worker `thread` (0-based). */
typedef void (*ckpt_pool_fn)(void *ctx, int64_t begin, int64_t end, int thread);

/* Number of online CPUs (at least 1). */
int ckpt_pool_default_threads(void);

/*
 * Start a pool of n_threads (<= 0: all online CPUs; the calling thread
 * counts as one, so n_threads-1 workers are created).  Caller owns *out.
 */
ckpt_status ckpt_pool_new(ckpt_pool **out, int n_threads, ckpt_err *err);

/* Threads in the pool (including the caller). */
int ckpt_pool_size(const ckpt_pool *p);

/*
 * How long a waiting thread spins before it sleeps (ns; default 100 us):
 * a run that starts within it costs no wake-up.  A caller whose runs come
 * with gaps of up to a millisecond between them (the forward pass, whose
 * decode step ends with serial work) sets more, one whose gaps are long
 * (a converter waiting for its writer) keeps the default, as a spinner
 * holds a CPU the others could use.
 */
void ckpt_pool_set_spin(ckpt_pool *p, int64_t ns);

/* Run fn over [0, n_items) split across the pool; returns when all done.
 * Not reentrant: one run at a time per pool. */
void ckpt_pool_run(ckpt_pool *p, ckpt_pool_fn fn, void *ctx, int64_t n_items);

/* Stop and join the workers; NULL is fine. */
void ckpt_pool_free(ckpt_pool *p);

/*
 * Like ckpt_pool_run, but the items go in chunks to whichever thread asks
 * next: a thread the machine's other load has descheduled does not hold
 * the others up.  Chunks start at multiples of `grain` (>= 1) and hold a
 * whole number of grains (the last one may end early, at n_items); they
 * shrink from a share of the run to one grain as the run goes (pool.c).
 * Which thread computes an item, and in which chunk, varies from run to
 * run, so fn must make each item's result depend on the item alone
 * (per-thread scratch is fine; per-thread sums are not).
 */
void ckpt_pool_run_dynamic(ckpt_pool *p, ckpt_pool_fn fn, void *ctx, int64_t n_items,
                           int64_t grain);

#endif
