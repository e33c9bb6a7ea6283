/*
 * source.h - where the quantizer's tensors come from.  A source lists its
 * tensors (name, ggml shape, stored type), produces any rows of one as
 * f32, shows its metadata read-only (what the output makes of it is the
 * sink's business, sink.h), and lets go of a tensor once it has been
 * written.  The driver (quantize.h) never sees the file
 * format behind it: a GGUF file (F32/F16/BF16 or already quantized,
 * source_gguf.c) and a Hugging Face model directory converted on the fly
 * (source_hf.c) are both sources.
 */
#ifndef CKPT_QUANT_SOURCE_H
#define CKPT_QUANT_SOURCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../formats/gguf.h"
#include "../kernels/err.h"
#include "../kernels/types.h"
#include "plan.h"

struct ckpt_qsrc_tensor {
    const char *name;
    const char *hf_name; /* the Hugging Face tensor it is made of (the first expert's for a
                            stack), or NULL for a GGUF source */
    uint32_t n_dims;
    int64_t ne[4]; /* ggml order, unused dims 1; rows are ne[1]*ne[2]*ne[3] rows of ne[0] */
    ckpt_type type; /* as stored; a tensor the plan keeps in this type is copied */
};

struct ckpt_qsrc_ops {
    /*
     * Rows [row, row + n) of tensor i as f32 into dst (n * ne[0] floats).
     * Called from several threads at once for disjoint rows.  Errors name
     * the source, the tensor and the problem.
     */
    ckpt_status (*rows)(void *ctx, size_t i, int64_t row, int64_t n, float *dst, ckpt_err *err);
    /* The stored bytes of tensor i (in its stored type), or NULL if the
     * source has none to copy (the rows are then re-encoded). */
    const void *(*raw)(void *ctx, size_t i);
    /* Rows [row, row + n) of tensor i have been written: release what holds
     * them in memory (best effort). */
    void (*release)(void *ctx, size_t i, int64_t row, int64_t n);
    void (*close)(void *ctx);
};

struct ckpt_qsrc {
    const struct ckpt_qsrc_ops *ops;
    void *ctx;
    const char *name;                       /* for messages: the path given */
    size_t n_tensors;
    const struct ckpt_qsrc_tensor *tensors; /* n_tensors, in the source's order */
    struct ckpt_qplan_model model;           /* what the mix rules look at */
    uint64_t data_bytes;                    /* bytes of tensor data as stored */
    const ckpt_gguf *meta;                  /* the source's metadata keys, in its order: a
                                               GGUF's own, or those llama.cpp's converter
                                               writes for a model directory; read-only */
};

/*
 * Open a GGUF file ("-" = stdin, spooled) as a source.  Model facts come
 * from <general.architecture>.block_count (required),
 * .attention.head_count, .attention.head_count_kv and .expert_count.
 * The first file of a split set stands for the set (ckpt_gguf_open).
 * Caller owns *out (ckpt_qsrc_close).  Errors: those of ckpt_gguf_open,
 * CKPT_E_FORMAT for missing or unusable model keys.
 */
ckpt_status ckpt_qsrc_open_gguf(struct ckpt_qsrc **out, const char *path, ckpt_err *err);

/* A Hugging Face model, which ckpt_qsrc_open_hf opens: a directory, or a
 * .safetensors file (beside config.json), told by the bytes, not the name. */
bool ckpt_qsrc_is_model_dir(const char *path);

/*
 * Open a Hugging Face model directory (or FILE.safetensors with config.json
 * beside it) as a source: the tensors, order and metadata of llama.cpp's
 * converter at --outtype f32 (convert/plan.h, convert/metadata.h), so the
 * result equals converting to an f32 GGUF and quantizing that.
 * `provenance` adds the converter's general.source.* keys.  Caller owns
 * *out.  Errors: those of ckpt_source_open and ckpt_plan_build.
 */
ckpt_status ckpt_qsrc_open_hf(struct ckpt_qsrc **out, const char *path, bool provenance,
                              ckpt_err *err);

/*
 * The same at another conversion type: as if the directory were converted
 * to `type` (CKPT_TYPE_F32, _F16 or _BF16) and that file quantized (rows
 * rounded through each tensor's type in such a file; its metadata and
 * recipe, allow_nonfinite recorded as given).  For replaying a recipe in
 * one pass (verify/rebuild.h).
 */
struct ckpt_qsrc_hf_opts {
    int type;
    bool provenance;
    bool allow_nonfinite;
    uint64_t split_bytes, split_tensors; /* the conversion's split limits, for its recipe */
};
ckpt_status ckpt_qsrc_open_hf_as(struct ckpt_qsrc **out, const char *path,
                                 const struct ckpt_qsrc_hf_opts *o, ckpt_err *err);

/* Close any source; NULL is fine. */
static inline void ckpt_qsrc_close(struct ckpt_qsrc *src)
{
    if (src)
        src->ops->close(src->ctx);
}

#endif
