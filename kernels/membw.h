/*
 * membw.h - how fast this machine reads memory: the bound a decode step,
 * which reads every weight once per token, can at best reach.  A probe,
 * not a benchmark: about a tenth of a second.
 */
#ifndef CKPT_KERNELS_MEMBW_H
#define CKPT_KERNELS_MEMBW_H

#include <stddef.h>

#include "err.h"
#include "pool.h"

/*
 * Read `bytes` of freshly written memory with the pool's threads (each its
 * contiguous share, as a decode step reads its rows), three times in
 * each of four ways of prefetching (membw.c); return the best rate in
 * bytes per second in *out.  Errors: CKPT_E_NOMEM.
 */
ckpt_status ckpt_membw_read(ckpt_pool *pool, size_t bytes, double *out, ckpt_err *err);

#endif
