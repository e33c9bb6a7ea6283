/*
 * sink.h - where the quantizer's output goes.  The driver (quantize.h)
 * decides each tensor's type and produces its rows; a sink turns them into
 * files.  A sink owns everything about the output format: its layout, its
 * metadata (made from the source's read-only metadata, sink_meta below)
 * and how it is published.  GGUF is one sink (sink_gguf.c); a sink that
 * writes a directory of several files (safetensors shards, an index,
 * config.json) fits the same calls.
 *
 * The life of a sink, always in this order, all from one thread at a time:
 *
 *   declare  x n   every output tensor, in output order, before anything is
 *                  written: a sink can plan its whole layout (GGUF writes
 *                  its header first, so it can stream to a pipe).  The sink
 *                  answers in which type it wants the tensor's rows: the
 *                  chosen type (encoded blocks), or another one such as F32
 *                  for a sink that encodes rows itself.
 *   begin          all tensors are known: plan, open the output.
 *   rows     x m   every row of every tensor, tensor after tensor in
 *                  declaration order, rows in order, in the type declare
 *                  asked for; possibly from a writer thread (never two
 *                  calls at once).
 *   finish         flush and publish (atomically); frees the sink.
 *   abort          anything short of finish: remove what was written and
 *                  free.  After finish or abort the sink is gone.
 */
#ifndef CKPT_QUANT_SINK_H
#define CKPT_QUANT_SINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../formats/gguf.h"
#include "../kernels/err.h"
#include "../kernels/types.h"

/* One output tensor as the driver declares it. */
struct ckpt_qsink_tensor {
    const char *name;    /* output (GGUF) name; borrowed until the sink is gone */
    const char *hf_name; /* the Hugging Face tensor it comes from (first of a stack),
                            or NULL when the source has none (a GGUF input) */
    uint32_t n_dims;     /* ggml_n_dims of ne */
    int64_t ne[4];       /* ggml order, unused dims 1 */
    ckpt_type type;      /* the type the plan chose */
    ckpt_type in_type;   /* the type the source stores it in */
    bool matrix;         /* a weight matrix (the mix applies); else a norm, router, ... */
};

struct ckpt_qsink_ops {
    /* Declare tensor k (0, 1, ... in output order); *rows_type = the type
     * rows() will receive it in. */
    ckpt_status (*declare)(void *ctx, size_t k, const struct ckpt_qsink_tensor *t,
                           ckpt_type *rows_type, ckpt_err *err);
    /* All declared: open the output; *planned = bytes it will take (0 if
     * not known in advance). */
    ckpt_status (*begin)(void *ctx, uint64_t *planned, ckpt_err *err);
    /* Rows [row, row + n) of tensor k, `size` bytes at data. */
    ckpt_status (*rows)(void *ctx, size_t k, int64_t row, int64_t n, const void *data,
                        size_t size, ckpt_err *err);
    /* Commit the output; the sink is freed whatever the result. */
    ckpt_status (*finish)(void *ctx, ckpt_err *err);
    /* Remove anything written and free; after begin, or before it. */
    void (*abort)(void *ctx);
};

struct ckpt_qsink {
    const struct ckpt_qsink_ops *ops;
    void *ctx;
};

/* A key the output gets on top of the source's, by llama-quantize's rule
 * for gguf_set_val_*: an existing key of that name is dropped from its
 * place, and the key is appended. */
struct ckpt_qsink_kv {
    const char *key;
    ckpt_gguf_type type; /* UINT32, INT32, FLOAT32, BOOL or STRING */
    union {
        uint32_t u32;
        int32_t i32;
        float f32;
        bool b;
        const char *str;
    } v;
};

/*
 * The output's metadata as a sink receives it: the source's keys
 * (read-only, the source's order), what the quantization adds, and the
 * user's overrides.  Everything is borrowed until the sink is gone.
 */
struct ckpt_qsink_meta {
    const ckpt_gguf *source;          /* the source's keys (a GGUF reader's list) */
    uint32_t file_type;               /* general.file_type (llama_ftype) of the result */
    const struct ckpt_qsink_kv *set;  /* n_set keys to set, in order: --override-kv
                                         keys, then quantize.imatrix.* */
    size_t n_set;
};

/*
 * A GGUF sink writing `path` ("-" = stdout; an existing file only with
 * force): the file llama-quantize writes.  Metadata: the source's keys in
 * their order without split.* (a split input's, which describe its files), then general.quantization_version (2) and
 * general.file_type, then meta->set, each moved to the end if it was
 * there already.  Rows are taken in the declared type.  Caller owns *out
 * until finish or abort.  Errors: CKPT_E_NOMEM.
 */
ckpt_status ckpt_qsink_open_gguf(struct ckpt_qsink **out, const char *path, bool force,
                                 const struct ckpt_qsink_meta *meta, ckpt_err *err);

/* What a GGUF sink wrote, known from begin on: 1 file (`path`), or a split set. */
struct ckpt_qsink_files {
    size_t n;
    char first[4096]; /* the (first) file's name */
};

/*
 * The same writing a split set under these limits (gguf.h,
 * ckpt_gguf_writer_set_split; 0, 0: one file), llama-quantize's metadata
 * in the first file with split.* after it.  *files (NULL: not wanted) is
 * filled at begin.
 */
ckpt_status ckpt_qsink_open_gguf_split(struct ckpt_qsink **out, const char *path, bool force,
                                       uint64_t max_bytes, uint64_t max_tensors,
                                       struct ckpt_qsink_files *files,
                                       const struct ckpt_qsink_meta *meta, ckpt_err *err);

/*
 * The GGUF sink's bytes, hashed instead of written (for replaying a build,
 * verify/rebuild.h): the same writer, so the same bytes, split set or one
 * file as the limits say, with each file's and each tensor's digest left
 * in *digest (formats/gguf.h; free its contents with
 * ckpt_gguf_digest_free).  `name` names it in messages.
 */
ckpt_status ckpt_qsink_open_gguf_digest(struct ckpt_qsink **out, const char *name,
                                        uint64_t max_bytes, uint64_t max_tensors,
                                        const struct ckpt_qsink_meta *meta,
                                        struct ckpt_gguf_digest *digest, ckpt_err *err);

#endif
