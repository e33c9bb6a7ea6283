/*
 * pool.c - the worker pool (see pool.h).  The caller publishes a run by
 * bumping an atomic generation and waits for an atomic count of busy
 * workers; the caller runs slice 0 itself (or, dynamic, takes chunks like
 * the workers, from one atomic counter).
 *
 * A dynamic run hands out chunks that shrink as the run goes, each a
 * 1/(2 * threads) share of the items left (at least the grain): few
 * chunks, while the last ones stay as small as the grain, so a thread
 * slowed by the machine's other load holds the others up by at most one
 * grain.  A decode tile pays at each chunk's start for its streams' first
 * lines, missed with no hint ahead: with a fixed grain of 1/64 of a run
 * that was some thousand chunk starts a Q8_0 decode step of the bench
 * model, and these chunks gave 1.02-1.10x its tok/s (Q4_K_M 1.02-1.10x;
 * alternated by two tokens in one process; the same 512-token prefill
 * 1.00-1.06x).  A 1/threads share measured 0.96x of this one, 1/(4 *
 * threads) the same.
 *
 * A waiter spins (ckpt_pool_set_spin: 100 us unless its owner says
 * otherwise) watching the atomic it waits on before it sleeps on a
 * condition variable: a decode step is some twenty runs of a few hundred
 * microseconds each, and a futex wake-up between every two of them cost
 * 5-10% of a Q4_K_M decode (44-50 against 49-55 tok/s at 2 threads).  The
 * mutex is taken only around sleeping and waking a sleeper: a run where
 * nobody sleeps makes no system call.  (With the mutex taken on every
 * run, a worker that saw the new generation while the caller still held
 * it slept on the mutex's futex: 10 futex calls a decoded token, 4 without
 * it; 1-2% of a Q4_K_M decode, measured by alternating the two from token
 * to token in one process.)  No spinning when the pool has more threads
 * than the machine has CPUs: a spinner would then hold the CPU its
 * partner needs.
 *
 * Why no wake-up is lost: a sleeper announces itself (sleepers, caller_
 * sleeping) before it tests the atomic it waits on, and the waker changes
 * that atomic before it tests the announcement, all sequentially
 * consistent, so one of the two sees the other; the test and the wait of
 * a sleeper and the wake-up are under the mutex.
 */
#include "pool.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#define SPIN_NS 100000 /* 100 us: the default of ckpt_pool_set_spin */
#define STOP UINT64_MAX   /* the generation that tells the workers to end */

struct ckpt_pool {
    int n_threads;
    pthread_t *workers;
    pthread_mutex_t lock;
    pthread_cond_t work_ready;
    pthread_cond_t work_done;
    atomic_ullong generation; /* bumped for each run */
    atomic_int pending;       /* workers still busy in this generation */
    atomic_int sleepers;      /* workers asleep on work_ready, or about to be */
    atomic_bool caller_sleeping; /* the caller is asleep on work_done, or about to be */
    bool spin;                /* waiters spin before sleeping */
    atomic_llong spin_ns;     /* ... for up to this long (ckpt_pool_set_spin) */
    ckpt_pool_fn fn;
    void *ctx;
    int64_t n_items;
    int64_t grain;            /* > 0: dynamic, chunks of at least this many items */
    atomic_llong next_item;   /* dynamic: the first item not yet handed out */
};

struct worker_arg {
    ckpt_pool *pool;
    int index;
};

int ckpt_pool_default_threads(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}

static void run_slice(ckpt_pool *p, int t)
{
    if (p->grain > 0) {
        const int64_t n = p->n_items, g = p->grain, shares = 2 * (int64_t)p->n_threads;
        long long begin = atomic_load(&p->next_item);
        while (begin < n) {
            /* a share of what is left, in whole grains: chunks start at
             * multiples of the grain */
            int64_t size = (n - begin) / shares / g * g;
            if (size < g)
                size = g;
            /* on failure, begin becomes the item another thread left */
            if (atomic_compare_exchange_weak(&p->next_item, &begin, begin + size)) {
                p->fn(p->ctx, begin, n - begin > size ? begin + size : n, t);
                begin = atomic_load(&p->next_item);
            }
        }
        return;
    }
    int64_t n = p->n_items, nt = p->n_threads;
    int64_t chunk = (n + nt - 1) / nt;
    int64_t begin = chunk * t, end = begin + chunk;
    if (end > n)
        end = n;
    if (begin < end)
        p->fn(p->ctx, begin, end, t);
}

static int64_t now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

/* Spin while no new generation has come, at most spin_ns. */
static void spin_for_work(ckpt_pool *p, uint64_t seen)
{
    if (!p->spin)
        return;
    const int64_t until = now_ns() + atomic_load_explicit(&p->spin_ns, memory_order_relaxed);
    for (unsigned i = 1; atomic_load(&p->generation) == seen; i++) {
        cpu_relax();
        if (i % 64 == 0 && now_ns() > until)
            return;
    }
}

/* Spin while workers of this generation are busy, at most spin_ns. */
static void spin_for_workers(ckpt_pool *p)
{
    if (!p->spin)
        return;
    const int64_t until = now_ns() + atomic_load_explicit(&p->spin_ns, memory_order_relaxed);
    for (unsigned i = 1; atomic_load(&p->pending) > 0; i++) {
        cpu_relax();
        if (i % 64 == 0 && now_ns() > until)
            return;
    }
}

/* The worker's wait for a generation other than seen (or the end). */
static void wait_for_work(ckpt_pool *p, uint64_t seen)
{
    spin_for_work(p, seen);
    if (atomic_load(&p->generation) != seen)
        return;
    pthread_mutex_lock(&p->lock);
    atomic_fetch_add(&p->sleepers, 1);
    while (atomic_load(&p->generation) == seen)
        pthread_cond_wait(&p->work_ready, &p->lock);
    atomic_fetch_sub(&p->sleepers, 1);
    pthread_mutex_unlock(&p->lock);
}

static void *worker_main(void *arg)
{
    struct worker_arg *wa = arg;
    ckpt_pool *p = wa->pool;
    int index = wa->index;
    free(wa);
    uint64_t seen = 0;
    for (;;) {
        wait_for_work(p, seen);
        seen = atomic_load(&p->generation);
        if (seen == STOP)
            return NULL;
        run_slice(p, index);
        /* the last one out wakes the caller if it sleeps */
        if (atomic_fetch_sub(&p->pending, 1) == 1 && atomic_load(&p->caller_sleeping)) {
            pthread_mutex_lock(&p->lock);
            pthread_cond_signal(&p->work_done);
            pthread_mutex_unlock(&p->lock);
        }
    }
}

ckpt_status ckpt_pool_new(ckpt_pool **out, int n_threads, ckpt_err *err)
{
    *out = NULL;
    if (n_threads <= 0)
        n_threads = ckpt_pool_default_threads();
    if (n_threads > 1024)
        return ckpt_err_set(err, CKPT_E_USAGE, "too many threads: %d (at most 1024)", n_threads);
    ckpt_pool *p = calloc(1, sizeof *p);
    if (!p)
        return ckpt_err_set(err, CKPT_E_NOMEM, "out of memory creating thread pool");
    p->n_threads = n_threads;
    p->spin = n_threads <= ckpt_pool_default_threads();
    atomic_init(&p->spin_ns, SPIN_NS);
    atomic_init(&p->next_item, 0);
    atomic_init(&p->generation, 0);
    atomic_init(&p->pending, 0);
    atomic_init(&p->sleepers, 0);
    atomic_init(&p->caller_sleeping, false);
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->work_ready, NULL);
    pthread_cond_init(&p->work_done, NULL);
    p->workers = calloc((size_t)n_threads, sizeof *p->workers);
    if (!p->workers) {
        ckpt_pool_free(p);
        return ckpt_err_set(err, CKPT_E_NOMEM, "out of memory creating thread pool");
    }
    for (int i = 1; i < n_threads; i++) {
        struct worker_arg *wa = malloc(sizeof *wa);
        if (wa) {
            wa->pool = p;
            wa->index = i;
        }
        if (!wa || pthread_create(&p->workers[i], NULL, worker_main, wa) != 0) {
            free(wa);
            p->n_threads = i; /* join the ones that started */
            ckpt_pool_free(p);
            return ckpt_err_set(err, CKPT_E_NOMEM, "cannot start worker thread %d", i);
        }
    }
    *out = p;
    return CKPT_OK;
}

int ckpt_pool_size(const ckpt_pool *p) { return p->n_threads; }

void ckpt_pool_set_spin(ckpt_pool *p, int64_t ns)
{
    atomic_store_explicit(&p->spin_ns, ns > 0 ? ns : 0, memory_order_relaxed);
}

static void run(ckpt_pool *p, ckpt_pool_fn fn, void *ctx, int64_t n_items, int64_t grain)
{
    if (n_items <= 0)
        return;
    if (p->n_threads == 1) {
        fn(ctx, 0, n_items, 0);
        return;
    }
    /* the workers read these after they see the new generation */
    p->fn = fn;
    p->ctx = ctx;
    p->n_items = n_items;
    p->grain = grain;
    atomic_store(&p->next_item, 0);
    atomic_store(&p->pending, p->n_threads - 1);
    atomic_fetch_add(&p->generation, 1);
    if (atomic_load(&p->sleepers) > 0) {
        pthread_mutex_lock(&p->lock);
        pthread_cond_broadcast(&p->work_ready);
        pthread_mutex_unlock(&p->lock);
    }

    run_slice(p, 0);

    spin_for_workers(p);
    if (atomic_load(&p->pending) > 0) {
        pthread_mutex_lock(&p->lock);
        atomic_store(&p->caller_sleeping, true);
        while (atomic_load(&p->pending) > 0)
            pthread_cond_wait(&p->work_done, &p->lock);
        atomic_store(&p->caller_sleeping, false);
        pthread_mutex_unlock(&p->lock);
    }
}

void ckpt_pool_run(ckpt_pool *p, ckpt_pool_fn fn, void *ctx, int64_t n_items)
{
    run(p, fn, ctx, n_items, 0);
}

void ckpt_pool_run_dynamic(ckpt_pool *p, ckpt_pool_fn fn, void *ctx, int64_t n_items,
                           int64_t grain)
{
    run(p, fn, ctx, n_items, grain > 0 ? grain : 1);
}

void ckpt_pool_free(ckpt_pool *p)
{
    if (!p)
        return;
    if (p->workers) {
        pthread_mutex_lock(&p->lock);
        atomic_store(&p->generation, STOP);
        pthread_cond_broadcast(&p->work_ready);
        pthread_mutex_unlock(&p->lock);
        for (int i = 1; i < p->n_threads; i++)
            pthread_join(p->workers[i], NULL);
        free(p->workers);
    }
    pthread_mutex_destroy(&p->lock);
    pthread_cond_destroy(&p->work_ready);
    pthread_cond_destroy(&p->work_done);
    free(p);
}
