/*
 * check_pool.c - the thread pool: every item processed exactly once, by the
 * owner the static split assigns, for any thread count; with dynamic
 * chunks, every item exactly once whatever the grain.
 */
#include <check.h>
#include <stdlib.h>

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

START_TEST(dynamic_every_item_once)
{
    static const int threads[] = {1, 2, 3, 7};
    static const int64_t sizes[] = {0, 1, 5, 64, 1001};
    static const int64_t grains[] = {0, 1, 4, 7, 5000};
    for (size_t t = 0; t < sizeof threads / sizeof threads[0]; t++) {
        ckpt_pool *p;
        ck_assert_int_eq(ckpt_pool_new(&p, threads[t], NULL), CKPT_OK);
        for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++)
            for (size_t g = 0; g < sizeof grains / sizeof grains[0]; g++) {
                int64_t n = sizes[s];
                struct counts c = {calloc((size_t)n + 1, sizeof(int)),
                                   calloc((size_t)n + 1, sizeof(int))};
                for (int rep = 0; rep < 3; rep++)
                    ckpt_pool_run_dynamic(p, mark, &c, n, grains[g]);
                for (int64_t i = 0; i < n; i++) {
                    ck_assert_int_eq(c.hits[i], 3);
                    ck_assert(c.owner[i] >= 0 && c.owner[i] < threads[t]);
                }
                free(c.hits);
                free(c.owner);
            }
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
    suite_add_tcase(s, tc);
    return s;
}
