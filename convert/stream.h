/*
 * stream.h - write the tensor data of a conversion plan to a GGUF writer:
 * tensor by tensor in plan order, each in chunks of rows converted by the
 * thread pool (every row has one owner, so the bytes do not depend on the
 * thread count), after which the chunk's source pages are dropped, and
 * written in order by a writer thread while the pool converts the next
 * chunk (kernels/behind.h).  Resident memory stays at two chunk buffers
 * plus the pages being converted, whatever the size of the model.
 */
#ifndef CKPT_CONVERT_STREAM_H
#define CKPT_CONVERT_STREAM_H

#include <stdint.h>

#include "../formats/gguf.h"
#include "../kernels/err.h"
#include "../kernels/progress.h"
#include "../kernels/pool.h"
#include "plan.h"


/*
 * Write every planned tensor's data to w (after ckpt_gguf_writer_begin),
 * converting to each tensor's type (F32, F16 or BF16).  Errors: CKPT_E_VALUE
 * when a value is NaN or ±Inf (unless allow_nonfinite: a model with them
 * produces garbage, and llama.cpp only finds out at run time) or does not
 * fit the output type (the message names the tensor, its source and the
 * position), the writer's errors (CKPT_E_IO for a full
 * disk or a closed pipe), CKPT_E_NOMEM, CKPT_E_UNSUPPORTED for other types.
 */
ckpt_status ckpt_stream_write(ckpt_gguf_writer *w, const struct ckpt_plan *plan, ckpt_pool *pool,
                              bool allow_nonfinite, ckpt_progress_fn progress,
                              void *progress_ctx, ckpt_err *err);

#endif
