/*
 * check_behind.c - one job in flight on a thread of its own: jobs run in
 * the order handed over, each on a copy of what was handed over; the first
 * failure stops every later job and is reported, with its message, by the
 * next wait or put; stop finishes the job in flight.
 */
#include <check.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "kernels/behind.h"

struct log {
    int64_t seen[64];
    int n;
    int64_t fail_at; /* the job that fails, or -1 */
};

struct job {
    int64_t v;
};

static ckpt_status record(void *ctx, const void *job, ckpt_err *err)
{
    struct log *l = ctx;
    const struct job *j = job;
    struct timespec ts = {0, 200000}; /* slow enough for put to find it busy */
    nanosleep(&ts, NULL);
    if (j->v == l->fail_at)
        return ckpt_err_set(err, CKPT_E_IO, "job %lld: disk full", (long long)j->v);
    l->seen[l->n++] = j->v;
    return CKPT_OK;
}

START_TEST(jobs_in_order)
{
    struct log l = {.fail_at = -1};
    ckpt_behind *b;
    ckpt_err err;
    ckpt_err_clear(&err);
    ck_assert_int_eq(ckpt_behind_start(&b, record, &l, sizeof(struct job), &err), CKPT_OK);
    for (int64_t i = 0; i < 40; i++) {
        struct job j = {i};
        ck_assert_int_eq(ckpt_behind_put(b, &j, &err), CKPT_OK);
        j.v = -5; /* the copy handed over is what runs */
    }
    ck_assert_int_eq(ckpt_behind_wait(b, &err), CKPT_OK);
    ck_assert_int_eq(l.n, 40);
    for (int i = 0; i < 40; i++)
        ck_assert_int_eq(l.seen[i], i);
    ckpt_behind_stop(b);
    ckpt_behind_stop(NULL);
}
END_TEST

START_TEST(first_failure_stops_the_rest)
{
    struct log l = {.fail_at = 3};
    ckpt_behind *b;
    ckpt_err err;
    ckpt_err_clear(&err);
    ck_assert_int_eq(ckpt_behind_start(&b, record, &l, sizeof(struct job), &err), CKPT_OK);
    ckpt_status s = CKPT_OK;
    int64_t i = 0;
    for (; i < 10 && s == CKPT_OK; i++) {
        struct job j = {i};
        s = ckpt_behind_put(b, &j, &err);
    }
    if (s == CKPT_OK)
        s = ckpt_behind_wait(b, &err);
    ck_assert_int_eq(s, CKPT_E_IO);
    ck_assert_str_eq(err.msg, "job 3: disk full");
    ck_assert_int_eq(l.n, 3); /* 0, 1, 2; nothing after the failure */
    struct job j = {20};
    ckpt_err_clear(&err);
    ck_assert_int_eq(ckpt_behind_put(b, &j, &err), CKPT_E_IO);
    ck_assert_int_eq(ckpt_behind_wait(b, NULL), CKPT_E_IO);
    ck_assert_int_eq(l.n, 3);
    ckpt_behind_stop(b);
}
END_TEST

START_TEST(stop_finishes_the_job_in_flight)
{
    struct log l = {.fail_at = -1};
    ckpt_behind *b;
    ck_assert_int_eq(ckpt_behind_start(&b, record, &l, sizeof(struct job), NULL), CKPT_OK);
    struct job j = {7};
    ck_assert_int_eq(ckpt_behind_put(b, &j, NULL), CKPT_OK);
    ckpt_behind_stop(b);
    ck_assert_int_eq(l.n, 1);
    ck_assert_int_eq(l.seen[0], 7);
}
END_TEST

Suite *behind_suite(void)
{
    Suite *s = suite_create("behind");
    TCase *tc = tcase_create("behind");
    tcase_add_test(tc, jobs_in_order);
    tcase_add_test(tc, first_failure_stops_the_rest);
    tcase_add_test(tc, stop_finishes_the_job_in_flight);
    suite_add_tcase(s, tc);
    return s;
}
