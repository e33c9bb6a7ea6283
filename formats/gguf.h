/*
 * gguf.h - read and write GGUF (v2 read, v3 read/write).
 *
 *   u32 magic "GGUF" | u32 version | u64 n_tensors | u64 n_kv
 *   n_kv x { string key | u32 type | value }        string = u64 len + bytes
 *   n_tensors x { string name | u32 n_dims | u64 ne[n_dims] | u32 type | u64 offset }
 *   zero padding to the alignment (general.alignment, default 32)
 *   tensor data, each tensor padded to the alignment
 *
 * Reader: every check of ggml's reader (FORMATS.md §2.1-2.2) against the real
 * file size before memory is touched; metadata and tensor infos are parsed
 * once into reader-owned records; tensor data is a zero-copy view.
 *
 * Writer: the whole header (metadata and tensor table) is planned first,
 * since every tensor's size follows from its type and shape; then the data
 * is streamed in one sequential pass, so the output can be a pipe.
 *
 * Split sets (llama.cpp's layout for models larger than one file):
 * <prefix>-00001-of-0000N.gguf ... <prefix>-0000N-of-0000N.gguf, each a
 * complete GGUF holding some of the tensors, in order; the first file has
 * the metadata, every file split.no (u16, 0-based), split.count (u16) and
 * split.tensors.count (i32, the set's total).  The writer writes one when
 * given limits per file; the reader reads one given its first file.
 */
#ifndef CKPT_FORMATS_GGUF_H
#define CKPT_FORMATS_GGUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../kernels/err.h"
#include "../kernels/types.h"
#include "mapfile.h"

#define CKPT_GGUF_MAGIC 0x46554747u /* "GGUF" read as a little-endian u32 */
#define CKPT_GGUF_VERSION 3
#define CKPT_GGUF_DEFAULT_ALIGNMENT 32
#define CKPT_GGUF_MAX_DIMS 4
#define CKPT_GGUF_MAX_NAME 63 /* bytes in a tensor name (ggml: < GGML_MAX_NAME) */

typedef enum {
    CKPT_GGUF_UINT8 = 0,
    CKPT_GGUF_INT8 = 1,
    CKPT_GGUF_UINT16 = 2,
    CKPT_GGUF_INT16 = 3,
    CKPT_GGUF_UINT32 = 4,
    CKPT_GGUF_INT32 = 5,
    CKPT_GGUF_FLOAT32 = 6,
    CKPT_GGUF_BOOL = 7,
    CKPT_GGUF_STRING = 8,
    CKPT_GGUF_ARRAY = 9,
    CKPT_GGUF_UINT64 = 10,
    CKPT_GGUF_INT64 = 11,
    CKPT_GGUF_FLOAT64 = 12,
    CKPT_GGUF_TYPE_COUNT
} ckpt_gguf_type;

/* "u32", "string", ... */
const char *ckpt_gguf_type_name(ckpt_gguf_type t);

/* A string as stored: bytes are NOT NUL-terminated in the file; the reader
 * keeps a NUL-terminated copy in `str` (a NUL inside is an error for keys
 * and tensor names; string values may contain one, len is authoritative). */
struct ckpt_gguf_str {
    uint64_t len;
    const char *str;
};

struct ckpt_gguf_kv {
    const char *key;             /* NUL-terminated copy */
    ckpt_gguf_type type;
    ckpt_gguf_type elem_type;    /* for ARRAY */
    uint64_t n;                  /* array element count (1 for scalars) */
    union {
        uint64_t u64;            /* UINT8..UINT64 and BOOL, widened */
        int64_t i64;             /* INT8..INT64, sign-extended */
        double f64;              /* FLOAT32/FLOAT64, widened */
        struct ckpt_gguf_str str;
    } v;                         /* scalar value */
    const uint8_t *array_data;   /* numeric arrays: n raw little-endian elements in the mapping;
                                    numeric scalars from a reader: their raw bytes (n = 1) */
    struct ckpt_gguf_str *array_str; /* string arrays: n entries, reader-owned */
};

struct ckpt_gguf_tensor {
    const char *name;            /* NUL-terminated copy */
    uint32_t n_dims;             /* 0..4; 0 (a scalar) is accepted, as ggml does */
    int64_t ne[CKPT_GGUF_MAX_DIMS]; /* ggml order (ne[0] contiguous); unused dims = 1 */
    ckpt_type type;
    uint64_t offset;             /* relative to the data section */
    uint64_t n_elements;
    uint64_t n_bytes;            /* without padding */
    const uint8_t *data;         /* n_bytes in the mapping; NULL when n_bytes == 0 */
    uint32_t part;               /* the file of a split set it is in (0: the first) */
};

typedef struct ckpt_gguf ckpt_gguf;

/* True if the file at `path` starts with the GGUF magic (false if it cannot
 * be read); for choosing a reader before opening one. */
bool ckpt_gguf_has_magic(const char *path);

/*
 * Open and validate `path` ("-" = stdin), and when it is the first file of
 * a split set (split.count > 1), the set: the other parts are found by
 * name beside it, each checked (split.no its place, split.count and
 * split.tensors.count the first file's, no tensor named twice, the total
 * the announced one); the tensor list is then the set's, in part order,
 * each tensor's `part` saying where its data and offset are; metadata is
 * the first file's.  A later part given alone is CKPT_E_USAGE (naming the
 * first file); a missing part CKPT_E_IO; a part of another set, a bad
 * name or count CKPT_E_FORMAT.  Caller owns *out (ckpt_gguf_close).
 * Errors: CKPT_E_IO (cannot map), CKPT_E_FORMAT (malformed; the message names
 * the file, the key or tensor, and what was wrong), CKPT_E_UNSUPPORTED
 * (GGUFv1, a big-endian file, a version above 3), CKPT_E_NOMEM.
 * Bytes after the last tensor's padded end are accepted (ggml does) and
 * counted by ckpt_gguf_trailing_bytes; a missing pad after the last
 * tensor is accepted as long as its data lies inside the file.
 */
ckpt_status ckpt_gguf_open(ckpt_gguf **out, const char *path, ckpt_err *err);

/* One file alone, whatever its split.* keys say (a part of a set, as a file). */
ckpt_status ckpt_gguf_open_file(ckpt_gguf **out, const char *path, ckpt_err *err);

/* Same over bytes the caller keeps alive while the reader lives; `name`
 * is used in messages. */
ckpt_status ckpt_gguf_open_buffer(ckpt_gguf **out, const char *name, const void *data, size_t size,
                                  ckpt_err *err);

void ckpt_gguf_close(ckpt_gguf *g);

/* Files of an open reader: 1, or a split set's count.  Part 0 is g itself;
 * the layout accessors below answer for the file they are given. */
size_t ckpt_gguf_n_parts(const ckpt_gguf *g);
const ckpt_gguf *ckpt_gguf_part(const ckpt_gguf *g, size_t i);
/* Bytes of every file of the set together. */
uint64_t ckpt_gguf_set_size(const ckpt_gguf *g);

/* Name of part `no` (0-based) of a set of `count`: "<prefix>-%05u-of-%05u.gguf",
 * where prefix is `path` less a part suffix of that form or a ".gguf" it
 * ends with (so a first file's name or a plain output name both work, as
 * llama.cpp's tools take them).  false if it does not fit in size. */
bool ckpt_gguf_split_path(char *buf, size_t size, const char *path, unsigned no, unsigned count);

/* A set's first file `path` (from a file name, not "-") must be named
 * "<prefix>-00001-of-%05lld.gguf" with the set's count, since every reader
 * finds the other parts by that name.  CKPT_E_FORMAT naming path and the
 * name wanted otherwise. */
ckpt_status ckpt_gguf_split_check_first(const char *path, int64_t count, ckpt_err *err);

/* Length of that prefix: `path` less a "-NNNNN-of-NNNNN.gguf" or ".gguf" end. */
size_t ckpt_gguf_stem_len(const char *path);

uint32_t ckpt_gguf_version(const ckpt_gguf *g);
uint32_t ckpt_gguf_alignment(const ckpt_gguf *g);
uint64_t ckpt_gguf_data_offset(const ckpt_gguf *g); /* file offset of the data section */
uint64_t ckpt_gguf_file_size(const ckpt_gguf *g);
const char *ckpt_gguf_path(const ckpt_gguf *g);
const ckpt_map *ckpt_gguf_map(const ckpt_gguf *g); /* NULL for buffer readers */
/* Bytes after data_offset + the padded size of every tensor (0 if none). */
uint64_t ckpt_gguf_trailing_bytes(const ckpt_gguf *g);

/* Metadata in file order; borrowed until ckpt_gguf_close. */
size_t ckpt_gguf_n_kv(const ckpt_gguf *g);
const struct ckpt_gguf_kv *ckpt_gguf_kv_at(const ckpt_gguf *g, size_t i);
const struct ckpt_gguf_kv *ckpt_gguf_find_kv(const ckpt_gguf *g, const char *key);

/*
 * Typed getters.  Each returns CKPT_OK and the value, CKPT_E_FORMAT when the
 * key is absent (message names the key and the file), or CKPT_E_FORMAT when
 * it has another type.  Integer getters accept any integer type whose value
 * fits (CKPT_E_RANGE when it does not); ckpt_gguf_get_f32 accepts FLOAT32
 * and FLOAT64; ckpt_gguf_get_str refuses a string with an embedded NUL.
 */
ckpt_status ckpt_gguf_get_u32(const ckpt_gguf *g, const char *key, uint32_t *out, ckpt_err *err);
ckpt_status ckpt_gguf_get_u64(const ckpt_gguf *g, const char *key, uint64_t *out, ckpt_err *err);
ckpt_status ckpt_gguf_get_f32(const ckpt_gguf *g, const char *key, float *out, ckpt_err *err);
ckpt_status ckpt_gguf_get_bool(const ckpt_gguf *g, const char *key, bool *out, ckpt_err *err);
ckpt_status ckpt_gguf_get_str(const ckpt_gguf *g, const char *key, const char **out, ckpt_err *err);

/* Element i of a numeric array kv (or a reader's numeric scalar, i = 0),
 * widened (false if out of range / not numeric; i64: floats and u64 values
 * above INT64_MAX are refused). */
bool ckpt_gguf_array_f64(const struct ckpt_gguf_kv *kv, uint64_t i, double *out);
bool ckpt_gguf_array_i64(const struct ckpt_gguf_kv *kv, uint64_t i, int64_t *out);

/* Tensors in file order; borrowed. */
size_t ckpt_gguf_n_tensors(const ckpt_gguf *g);
const struct ckpt_gguf_tensor *ckpt_gguf_tensor(const ckpt_gguf *g, size_t i);
const struct ckpt_gguf_tensor *ckpt_gguf_find_tensor(const ckpt_gguf *g, const char *name);

/* ---- writer ---- */

typedef struct ckpt_gguf_writer ckpt_gguf_writer;

/* New writer for `path` ("-" = stdout); nothing is created until begin. */
ckpt_status ckpt_gguf_writer_new(ckpt_gguf_writer **out, const char *path, bool force,
                                 ckpt_err *err);

/*
 * What a digest-only writer leaves behind, per file it would have written
 * (one, or each part of a split set, in order): the SHA-256 of the file,
 * its metadata image (the header it has, as a GGUF without tensors: in a
 * split set, the first part's keys then split.*, a later part's split.*
 * and any general.alignment other than 32), and each of its tensors' name and data digest (without
 * padding), in file order.  Filled from begin to finish; the writer never
 * owns it.
 */
struct ckpt_gguf_digest_file {
    char *name;            /* owned: the writer's name, or the part's name from it */
    uint8_t file[32];
    uint8_t *meta;         /* owned */
    size_t meta_size;
    size_t n_tensors;
    char **names;          /* owned */
    uint8_t (*tensor)[32]; /* owned */
};

struct ckpt_gguf_digest {
    size_t n_files;
    struct ckpt_gguf_digest_file *files; /* owned */
};

/*
 * A writer whose output is hashed into *d instead of written (for
 * replaying a build): the same calls and bytes as a file writer, split
 * limits included (the parts are named from `name` as files would be, and
 * none is looked for on disk); `name` names it in messages.  d is zeroed
 * here and must outlive the writer;
 * free its contents with ckpt_gguf_digest_free (also after an error).
 */
ckpt_status ckpt_gguf_writer_new_digest(ckpt_gguf_writer **out, const char *name,
                                        struct ckpt_gguf_digest *d, ckpt_err *err);
void ckpt_gguf_digest_free(struct ckpt_gguf_digest *d);

/* Metadata, in the order given (setting a key twice is an error). Strings
 * and arrays are copied.  general.alignment may only be set as u32, a power
 * of two up to 1 GiB, and then lays out the data (default 32).  Caller
 * mistakes (empty key, duplicate, bad alignment, bool not 0/1, after
 * begin) are CKPT_E_USAGE; the message starts with the output path. */
ckpt_status ckpt_gguf_writer_set_u32(ckpt_gguf_writer *w, const char *key, uint32_t v, ckpt_err *err);
ckpt_status ckpt_gguf_writer_set_i32(ckpt_gguf_writer *w, const char *key, int32_t v, ckpt_err *err);
ckpt_status ckpt_gguf_writer_set_u64(ckpt_gguf_writer *w, const char *key, uint64_t v, ckpt_err *err);
ckpt_status ckpt_gguf_writer_set_f32(ckpt_gguf_writer *w, const char *key, float v, ckpt_err *err);
ckpt_status ckpt_gguf_writer_set_bool(ckpt_gguf_writer *w, const char *key, bool v, ckpt_err *err);
ckpt_status ckpt_gguf_writer_set_str(ckpt_gguf_writer *w, const char *key, const char *v,
                                     ckpt_err *err);
/* Numeric array: n elements of elem_type, raw little-endian in `data`. */
/*
 * Replace the value of the string key, set before begin, by v of the same
 * length, in the file already begun: a value known only once the data is
 * written (the digests of inputs hashed beside the conversion) takes the
 * place of a placeholder of its length, so no offset moves.  Only while
 * the first file is open (a single file, or a set's first part before its
 * last tensor) and only in a file written through a temporary
 * (outfile.h: ckpt_out_patch).  Errors: CKPT_E_USAGE (no such string key,
 * another length, a stream or digest output, too late), CKPT_E_IO; an I/O
 * failure leaves the writer failed.
 */
ckpt_status ckpt_gguf_writer_restate_str(ckpt_gguf_writer *w, const char *key, const char *v,
                                         ckpt_err *err);
ckpt_status ckpt_gguf_writer_set_array(ckpt_gguf_writer *w, const char *key,
                                       ckpt_gguf_type elem_type, const void *data, uint64_t n,
                                       ckpt_err *err);
/* String array: n NUL-terminated strings (lens may be NULL => strlen). */
ckpt_status ckpt_gguf_writer_set_str_array(ckpt_gguf_writer *w, const char *key,
                                           const char *const *strs, const uint64_t *lens,
                                           uint64_t n, ckpt_err *err);
/* Copy a kv from a reader unchanged (used when requantizing). */
ckpt_status ckpt_gguf_writer_copy_kv(ckpt_gguf_writer *w, const struct ckpt_gguf_kv *kv,
                                     ckpt_err *err);

/* Declare a tensor (ggml order shape, n_dims 0..4 stored as given, as
 * llama.cpp's Python writer does); order of declaration = order of data.
 * CKPT_E_USAGE for a bad name (1..63 bytes, unique), shape or type. */
ckpt_status ckpt_gguf_writer_add_tensor(ckpt_gguf_writer *w, const char *name, ckpt_type type,
                                        uint32_t n_dims, const int64_t *ne, ckpt_err *err);

/*
 * Write a split set: a new file whenever the current one has max_tensors
 * tensors or the next tensor's bytes would take its tensor data over
 * max_bytes (0: no such limit; a file holds at least one tensor), as
 * llama.cpp's converter (--split-max-size, --split-max-tensors) does.
 * When that makes more than one file, they are named by
 * ckpt_gguf_split_path from the writer's path, none appears until all
 * are complete (finish publishes them; an existing one is refused
 * before anything is written, unless force), and standard output is
 * refused; one file is written as without limits.  Before begin.
 */
ckpt_status ckpt_gguf_writer_set_split(ckpt_gguf_writer *w, uint64_t max_bytes,
                                       uint64_t max_tensors, ckpt_err *err);

/* Files the output will take with the tensors added so far (1 without limits). */
size_t ckpt_gguf_writer_n_parts(const ckpt_gguf_writer *w);

/* After begin: the files being written, in order (NULL past the end). */
size_t ckpt_gguf_writer_part_count(const ckpt_gguf_writer *w);
const char *ckpt_gguf_writer_part_path(const ckpt_gguf_writer *w, size_t i);

/* Total bytes the output will have, every file of a split set together
 * (valid after all adds; UINT64_MAX on overflow). */
uint64_t ckpt_gguf_writer_planned_size(const ckpt_gguf_writer *w);

/*
 * The metadata set so far as a GGUF image without tensors (header and
 * kvs, no data): for keeping a list of keys built with the setters above
 * and reading it back with ckpt_gguf_open_buffer.  Nothing is written to
 * the output.  Caller frees *out.  Errors: CKPT_E_NOMEM.
 */
ckpt_status ckpt_gguf_writer_meta_image(const ckpt_gguf_writer *w, uint8_t **out, size_t *size,
                                        ckpt_err *err);

/* Open the output and write header, kvs, tensor infos and padding. */
ckpt_status ckpt_gguf_writer_begin(ckpt_gguf_writer *w, ckpt_err *err);

/* Append bytes of the current tensor; after its n_bytes, padding is written
 * and the next tensor starts (one call may span tensors).  Bytes beyond the
 * last tensor are CKPT_E_USAGE; any failure leaves the writer failed, and
 * finish then removes the partial output. */
ckpt_status ckpt_gguf_writer_write(ckpt_gguf_writer *w, const void *data, size_t n, ckpt_err *err);

/* Check all tensors complete; commit the output; free w (also on error). */
ckpt_status ckpt_gguf_writer_finish(ckpt_gguf_writer *w, ckpt_err *err);

/* Abandon: remove the partial output and free.  NULL is fine. */
void ckpt_gguf_writer_free(ckpt_gguf_writer *w);

#endif
