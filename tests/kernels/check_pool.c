/*
 * check_pool.c - the thread pool: every item processed exactly once, by the
 * owner the static split assigns, for any thread count; with dynamic
 * chunks, every item exactly once whatever the grain, in chunks of whole
 * grains; runs back to back
 * and apart, with spinning and with sleeping waiters.
 */
#include <check.h>
#include <stdlib.h>
#include <time.h>

#include "kernels/pool.h"

struct counts {
    int *hits;
    int *owner;
};

static void mark(void *ctx, int64_t begin, int64_t end, int thread)
{
    struct counts *c = ctx;
    for (int64_t i = begin; i < end; i++) {
        c->hits[i]++;
        c->owner[i] = thread;
    }
}

START_TEST(every_item_once)
{
    static const int threads[] = {1, 2, 3, 4, 7};
    static const int64_t sizes[] = {0, 1, 5, 64, 1001};
    for (size_t t = 0; t < sizeof threads / sizeof threads[0]; t++) {
        ckpt_pool *p;
        ck_assert_int_eq(ckpt_pool_new(&p, threads[t], NULL), CKPT_OK);
        ck_assert_int_eq(ckpt_pool_size(p), threads[t]);
        for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
            int64_t n = sizes[s];
            struct counts c = {calloc((size_t)n + 1, sizeof(int)), calloc((size_t)n + 1, sizeof(int))};
            for (int rep = 0; rep < 3; rep++)
                ckpt_pool_run(p, mark, &c, n);
            int64_t chunk = (n + threads[t] - 1) / threads[t];
            for (int64_t i = 0; i < n; i++) {
                ck_assert_int_eq(c.hits[i], 3);
                ck_assert_int_eq(c.owner[i], (int)(i / chunk));
            }
            free(c.hits);
            free(c.owner);
        }
        ckpt_pool_free(p);
    }
    ckpt_pool_free(NULL);
}
END_TEST

/* mark, and check that the chunk starts at a multiple of the grain and
 * holds whole grains unless it ends the run (the decode tiles' rows
 * depend on it) */
struct chunked {
    struct counts c;
    int64_t grain, n;
    int bad;
};

static void mark_chunk(void *ctx, int64_t begin, int64_t end, int thread)
{
    struct chunked *k = ctx;
    if (begin % k->grain || begin >= end || end > k->n || ((end - begin) % k->grain && end != k->n))
        k->bad++; /* threads race on this only when the test fails */
    mark(&k->c, begin, end, thread);
}

START_TEST(dynamic_every_item_once)
{
    static const int threads[] = {1, 2, 3, 7};
    static const int64_t sizes[] = {0, 1, 5, 64, 1001, 20011};
    static const int64_t grains[] = {0, 1, 4, 7, 5000};
    for (size_t t = 0; t < sizeof threads / sizeof threads[0]; t++) {
        ckpt_pool *p;
        ck_assert_int_eq(ckpt_pool_new(&p, threads[t], NULL), CKPT_OK);
        for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++)
            for (size_t g = 0; g < sizeof grains / sizeof grains[0]; g++) {
                int64_t n = sizes[s];
                struct chunked k = {{calloc((size_t)n + 1, sizeof(int)),
                                     calloc((size_t)n + 1, sizeof(int))},
                                    grains[g] > 0 ? grains[g] : 1, n, 0};
                for (int rep = 0; rep < 3; rep++)
                    ckpt_pool_run_dynamic(p, mark_chunk, &k, n, grains[g]);
                int64_t wrong = 0; /* one assertion a case: Check writes each */
                for (int64_t i = 0; i < n; i++)
                    wrong += k.c.hits[i] != 3 || k.c.owner[i] < 0 || k.c.owner[i] >= threads[t];
                ck_assert_int_eq(k.bad, 0);
                ck_assert_int_eq(wrong, 0);
                free(k.c.hits);
                free(k.c.owner);
            }
        ckpt_pool_free(p);
    }
}
END_TEST

/* Runs back to back, as a decode step gives them, and runs apart by more
 * than a waiter spins (pool.c, SPIN_NS: the caller's and the workers' spin,
 * then their sleep on the condition variable): no run lost or doubled,
 * with waiters that spin (threads <= CPUs) and with more threads than
 * CPUs.  mark_slowly keeps the caller (thread 0) past the spin, so the
 * workers go to sleep for the next run; mark_late keeps a worker past it,
 * so the caller sleeps until that worker is done. */
#define PAST_THE_SPIN 3000000 /* ns */
static void mark_slowly(void *ctx, int64_t begin, int64_t end, int thread)
{
    mark(ctx, begin, end, thread);
    if (thread == 0 && begin == 0) {
        const struct timespec t = {0, PAST_THE_SPIN};
        nanosleep(&t, NULL);
    }
}

static void mark_late(void *ctx, int64_t begin, int64_t end, int thread)
{
    mark(ctx, begin, end, thread);
    if (thread == 1) { /* a static run: one call per thread */
        const struct timespec t = {0, PAST_THE_SPIN};
        nanosleep(&t, NULL);
    }
}

START_TEST(hand_over_between_runs)
{
    static const int threads[] = {2, 16};
    for (size_t t = 0; t < sizeof threads / sizeof threads[0]; t++) {
        ckpt_pool *p;
        ck_assert_int_eq(ckpt_pool_new(&p, threads[t], NULL), CKPT_OK);
        const int64_t n = 37;
        struct counts c = {calloc((size_t)n, sizeof(int)), calloc((size_t)n, sizeof(int))};
        const int reps = 3000;
        for (int rep = 0; rep < reps; rep++) {
            if (rep % 100 == 99)
                ckpt_pool_run(p, mark_slowly, &c, n);
            else if (rep % 100 == 49)
                ckpt_pool_run(p, mark_late, &c, n);
            else if (rep % 2)
                ckpt_pool_run_dynamic(p, mark, &c, n, 3);
            else
                ckpt_pool_run(p, mark, &c, n);
            if (rep % 500 == 250) { /* the workers asleep before the next run */
                const struct timespec pause = {0, PAST_THE_SPIN};
                nanosleep(&pause, NULL);
            }
        }
        for (int64_t i = 0; i < n; i++)
            ck_assert_int_eq(c.hits[i], reps);
        free(c.hits);
        free(c.owner);
        ckpt_pool_free(p);
    }
}
END_TEST

Suite *pool_suite(void)
{
    Suite *s = suite_create("pool");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, every_item_once);
    tcase_add_test(tc, dynamic_every_item_once);
    tcase_add_test(tc, hand_over_between_runs);
    suite_add_tcase(s, tc);
    return s;
}
