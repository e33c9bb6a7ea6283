/*
 * progress.h - the one way long library calls report how far they are.
 *
 * A caller that wants progress sets a function and a context in the
 * options of the call; the library calls it with what is being done, how
 * much of it is done, the total, and the unit both counts are in.  The
 * library never draws anything: the tools decide whether and how to show
 * it (on a terminal only, rate-limited).  Calls come one at a time, but
 * not necessarily from the calling thread (hashing reports from workers
 * under a lock); a callback must not call back into the library.
 */
#ifndef CKPT_KERNELS_PROGRESS_H
#define CKPT_KERNELS_PROGRESS_H

#include <stdint.h>

typedef enum {
    CKPT_PROGRESS_BYTES,   /* bytes read, hashed or written */
    CKPT_PROGRESS_TOKENS,  /* token positions through the forward pass */
    CKPT_PROGRESS_WEIGHTS, /* tensor elements quantized or converted */
} ckpt_progress_unit;

/* what: a short label or a tensor name, borrowed for the call only;
 * done <= total; total may be 0 when unknown. */
typedef void (*ckpt_progress_fn)(void *ctx, const char *what, uint64_t done, uint64_t total,
                                 ckpt_progress_unit unit);

#endif
