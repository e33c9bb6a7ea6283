/*
 * behind.c - one job in flight on a thread of its own (see behind.h).
 */
#include "behind.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

struct ckpt_behind {
    ckpt_behind_fn fn;
    void *ctx;
    size_t job_size;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t cv;
    bool pending;      /* a job is handed over and not finished */
    bool stop;
    ckpt_status st;    /* the first failure; no job runs after one */
    ckpt_err err;
    void *job;         /* the job handed over (malloc'd: aligned for any type) */
};

static void *behind_main(void *arg)
{
    ckpt_behind *b = arg;
    pthread_mutex_lock(&b->lock);
    for (;;) {
        while (!b->pending && !b->stop)
            pthread_cond_wait(&b->cv, &b->lock);
        if (!b->pending)
            break;
        const bool failed = b->st != CKPT_OK;
        pthread_mutex_unlock(&b->lock);
        ckpt_err e = {0};
        ckpt_status st = failed ? CKPT_OK : b->fn(b->ctx, b->job, &e);
        pthread_mutex_lock(&b->lock);
        if (st != CKPT_OK) {
            b->st = st;
            b->err = e;
        }
        b->pending = false;
        pthread_cond_broadcast(&b->cv);
    }
    pthread_mutex_unlock(&b->lock);
    return NULL;
}

ckpt_status ckpt_behind_start(ckpt_behind **out, ckpt_behind_fn fn, void *ctx, size_t job_size,
                              ckpt_err *err)
{
    ckpt_behind *b = calloc(1, sizeof *b);
    *out = NULL;
    if (!b || !(b->job = malloc(job_size ? job_size : 1))) {
        free(b);
        return ckpt_err_set(err, CKPT_E_NOMEM, "out of memory");
    }
    b->fn = fn;
    b->ctx = ctx;
    b->job_size = job_size;
    if (pthread_mutex_init(&b->lock, NULL) != 0) {
        free(b->job);
        free(b);
        return ckpt_err_set(err, CKPT_E_NOMEM, "cannot create a lock");
    }
    if (pthread_cond_init(&b->cv, NULL) != 0) {
        pthread_mutex_destroy(&b->lock);
        free(b->job);
        free(b);
        return ckpt_err_set(err, CKPT_E_NOMEM, "cannot create a condition variable");
    }
    if (pthread_create(&b->thread, NULL, behind_main, b) != 0) {
        pthread_cond_destroy(&b->cv);
        pthread_mutex_destroy(&b->lock);
        free(b->job);
        free(b);
        return ckpt_err_set(err, CKPT_E_NOMEM, "cannot start the writer thread");
    }
    *out = b;
    return CKPT_OK;
}

/* Wait with the lock held. */
static ckpt_status settle(ckpt_behind *b, ckpt_err *err)
{
    while (b->pending)
        pthread_cond_wait(&b->cv, &b->lock);
    if (b->st != CKPT_OK)
        ckpt_err_set(err, b->st, "%s", b->err.msg);
    return b->st;
}

ckpt_status ckpt_behind_wait(ckpt_behind *b, ckpt_err *err)
{
    pthread_mutex_lock(&b->lock);
    ckpt_status st = settle(b, err);
    pthread_mutex_unlock(&b->lock);
    return st;
}

ckpt_status ckpt_behind_put(ckpt_behind *b, const void *job, ckpt_err *err)
{
    pthread_mutex_lock(&b->lock);
    ckpt_status st = settle(b, err);
    if (st == CKPT_OK) {
        memcpy(b->job, job, b->job_size);
        b->pending = true;
        pthread_cond_broadcast(&b->cv);
    }
    pthread_mutex_unlock(&b->lock);
    return st;
}

void ckpt_behind_stop(ckpt_behind *b)
{
    if (!b)
        return;
    pthread_mutex_lock(&b->lock);
    b->stop = true;
    pthread_cond_broadcast(&b->cv);
    pthread_mutex_unlock(&b->lock);
    pthread_join(b->thread, NULL);
    pthread_cond_destroy(&b->cv);
    pthread_mutex_destroy(&b->lock);
    free(b->job);
    free(b);
}
