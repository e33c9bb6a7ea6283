/*
 * safetensors.h - read and write safetensors files.
 *
 * Reader: the file is mapped, the header validated with every check of the
 * Rust reference in the same order (FORMATS.md §1.4) plus the checks cJSON
 * does not do (duplicate keys, NUL in strings, UTF-8, integer ranges), and
 * tensors are exposed as zero-copy views into the mapping.  Tensor data is
 * not aligned in general: read elements with memcpy / le*dec.
 *
 * Writer: tensors are declared first (name, dtype, shape), the header is
 * written (padded with spaces to a multiple of 8), then the data of each
 * tensor is streamed in declaration order to an atomic output (outfile.h).
 */
#ifndef CKPT_FORMATS_SAFETENSORS_H
#define CKPT_FORMATS_SAFETENSORS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../kernels/err.h"
#include "../kernels/types.h"
#include "mapfile.h"

#define CKPT_ST_MAX_HEADER 100000000u /* 100 MB, as the Rust reference */
#define CKPT_ST_MAX_DIMS 8
#define CKPT_ST_MAX_TENSORS 1000000

/*
 * Validation outcomes, one per check of the reference reader, so tests can
 * assert which check fired.  ckpt_st_open also reports them as a ckpt_status
 * (CKPT_E_FORMAT / CKPT_E_RANGE / CKPT_E_UNSUPPORTED) with a message that
 * names the file, the tensor and the check.
 */
typedef enum {
    CKPT_ST_OK = 0,
    CKPT_ST_HEADER_TOO_SMALL,          /* file < 8 bytes */
    CKPT_ST_HEADER_TOO_LARGE,          /* N > 100 MB (also: a Git LFS pointer) */
    CKPT_ST_INVALID_HEADER_LENGTH,     /* 8 + N > file size */
    CKPT_ST_INVALID_HEADER,            /* not UTF-8, or NUL inside */
    CKPT_ST_INVALID_HEADER_DESERIALIZATION, /* JSON/type errors, duplicate keys, bad numbers */
    CKPT_ST_INVALID_OFFSET,            /* offsets not contiguous from 0 / overlapping / gap */
    CKPT_ST_VALIDATION_OVERFLOW,       /* shape product or byte size overflows */
    CKPT_ST_MISALIGNED_SLICE,          /* sub-byte dtype with a non-whole byte count */
    CKPT_ST_TENSOR_INVALID_INFO,       /* end - begin != bytes implied by dtype and shape */
    CKPT_ST_METADATA_INCOMPLETE_BUFFER, /* data section size != file size (truncated/trailing) */
    CKPT_ST_LFS_POINTER,               /* the file is a Git LFS pointer, not the weights */
} ckpt_st_check;

/* Name of a check as in the Rust reference ("InvalidOffset"). */
const char *ckpt_st_check_name(ckpt_st_check c);

struct ckpt_st_tensor {
    const char *name;      /* NUL-terminated, owned by the reader */
    ckpt_dtype dtype;
    int n_dims;            /* 0 for a scalar */
    uint64_t shape[CKPT_ST_MAX_DIMS]; /* torch order: shape[n_dims-1] is contiguous */
    uint64_t n_elements;
    uint64_t begin, end;   /* data_offsets, relative to the data section */
    const uint8_t *data;   /* end - begin bytes in the mapping (NULL if empty) */
};

typedef struct ckpt_st ckpt_st;

/*
 * Open and validate `path` ("-" = stdin).  On success the caller owns *out
 * (ckpt_st_close).  On failure *out is NULL, err says which check failed;
 * if `check` is non-NULL it receives the check (CKPT_ST_OK on success).
 */
ckpt_status ckpt_st_open(ckpt_st **out, const char *path, ckpt_st_check *check, ckpt_err *err);

/* Same over bytes the caller keeps alive while the reader lives. */
ckpt_status ckpt_st_open_buffer(ckpt_st **out, const char *name, const void *data, size_t size,
                                ckpt_st_check *check, ckpt_err *err);

void ckpt_st_close(ckpt_st *st);

/* Tensors in file (offset) order; borrowed, valid until ckpt_st_close. */
size_t ckpt_st_n_tensors(const ckpt_st *st);
const struct ckpt_st_tensor *ckpt_st_tensor(const ckpt_st *st, size_t i);
const struct ckpt_st_tensor *ckpt_st_find(const ckpt_st *st, const char *name);

/* __metadata__ entries (string -> string), in header order; borrowed. */
size_t ckpt_st_n_metadata(const ckpt_st *st);
void ckpt_st_metadata(const ckpt_st *st, size_t i, const char **key, const char **value);

/* Header length N, data section offset (8 + N), file size; the path. */
uint64_t ckpt_st_header_size(const ckpt_st *st);
uint64_t ckpt_st_data_offset(const ckpt_st *st);
uint64_t ckpt_st_file_size(const ckpt_st *st);
const char *ckpt_st_path(const ckpt_st *st);
const ckpt_map *ckpt_st_map(const ckpt_st *st); /* NULL for buffer readers */

/* ---- writer ---- */

typedef struct ckpt_st_writer ckpt_st_writer;

/* Start a writer for `path` ("-" = stdout); no output is created until
 * ckpt_st_writer_begin.  Caller owns *out. */
ckpt_status ckpt_st_writer_new(ckpt_st_writer **out, const char *path, bool force, ckpt_err *err);

/* The same for file `name` of an output directory (outdir.h; a digest
 * directory hashes it), which must outlive the writer. */
typedef struct ckpt_outdir ckpt_outdir;
ckpt_status ckpt_st_writer_new_in(ckpt_st_writer **out, ckpt_outdir *dir, const char *name,
                                  ckpt_err *err);

/* Add a __metadata__ string pair (before begin). */
ckpt_status ckpt_st_writer_add_metadata(ckpt_st_writer *w, const char *key, const char *value,
                                        ckpt_err *err);

/* Declare a tensor (before begin).  Order of declaration = order of data. */
ckpt_status ckpt_st_writer_add_tensor(ckpt_st_writer *w, const char *name, ckpt_dtype dtype,
                                      int n_dims, const uint64_t *shape, ckpt_err *err);

/* Write the header.  After this, write each tensor's bytes in order. */
ckpt_status ckpt_st_writer_begin(ckpt_st_writer *w, ckpt_err *err);

/* Append bytes of the current tensor (may be called repeatedly; a tensor is
 * complete once its byte count is reached, and the next one starts). */
ckpt_status ckpt_st_writer_write(ckpt_st_writer *w, const void *data, size_t n, ckpt_err *err);

/* Check every tensor was written in full, then commit the output
 * (fsync + rename) and free w. On error the output is removed and w freed. */
ckpt_status ckpt_st_writer_finish(ckpt_st_writer *w, ckpt_err *err);

/* Abandon: remove the partial output and free.  NULL is fine. */
void ckpt_st_writer_free(ckpt_st_writer *w);

#endif
