/*
 * inspect.h - describe a safetensors file, a Hugging Face model directory
 * or a GGUF file: format, metadata, tensor table, totals, and value
 * statistics of chosen tensors.  The report comes back as text or JSON in
 * memory; errors go to the error record, never into the report.
 */
#ifndef CKPT_VERIFY_INSPECT_H
#define CKPT_VERIFY_INSPECT_H

#include <stdbool.h>
#include <stdio.h>

#include "../kernels/err.h"

struct ckpt_inspect_opts {
    bool all;                /* print long arrays in full */
    bool json;               /* one JSON document per input */
    bool no_tensors;         /* omit the tensor table (keeps totals) */
    bool quiet;              /* read and check everything, write nothing */
    const char *const *stats_tensors; /* tensors to compute value statistics for */
    int n_stats_tensors;
};

/*
 * Inspect `path` (a file, "-" for stdin, or a directory): the report, text
 * or JSON, in *text (len bytes, NUL-terminated, caller frees; NULL on
 * failure); with stats_tensors, in text, only their statistics.  The
 * report exists whole once the input has been read, or not at all: errors
 * (unreadable or malformed input, a file of another kind, unknown tensor
 * name in stats_tensors) are returned with a message naming the file.
 */
ckpt_status ckpt_inspect_path(const char *path, const struct ckpt_inspect_opts *opts, char **text,
                              size_t *len, ckpt_err *err);

#endif
