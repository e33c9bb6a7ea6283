/*
 * behind.h - one job in flight on a thread of its own: a producer hands a
 * job over (a chunk it has just made) and makes the next one while the
 * thread runs fn on it (writes it out).  Jobs run one at a time, in the
 * order handed over; after the first failure none runs, and the producer
 * learns of it at its next wait or put.  What writes a converted or
 * quantized file behind its conversion.
 */
#ifndef CKPT_KERNELS_BEHIND_H
#define CKPT_KERNELS_BEHIND_H

#include <stddef.h>

#include "err.h"

typedef struct ckpt_behind ckpt_behind;

/* Run one job (job_size bytes, as handed to ckpt_behind_put). */
typedef ckpt_status (*ckpt_behind_fn)(void *ctx, const void *job, ckpt_err *err);

/* Start the thread.  The caller owns *out (ckpt_behind_stop).  Errors:
 * CKPT_E_NOMEM (memory, or a thread that cannot start). */
ckpt_status ckpt_behind_start(ckpt_behind **out, ckpt_behind_fn fn, void *ctx, size_t job_size,
                              ckpt_err *err);

/* Wait until no job is in flight; the first failure so far, its message
 * copied into err. */
ckpt_status ckpt_behind_wait(ckpt_behind *b, ckpt_err *err);

/* Wait for the job in flight, then hand over a copy of *job; what the job
 * points to must stay valid and unchanged until the next wait or put
 * returns.  Errors: the first failure so far (the job is not run). */
ckpt_status ckpt_behind_put(ckpt_behind *b, const void *job, ckpt_err *err);

/* Finish the job in flight, join the thread and free; NULL is fine. */
void ckpt_behind_stop(ckpt_behind *b);

#endif
