/*
 * convert.h - one conversion, start to end: a Hugging Face Mistral/Mixtral
 * checkpoint (directory, or .safetensors with config.json beside it) to a
 * GGUF file with F32, F16 or BF16 weights, laid out as llama.cpp's converter
 * lays it out (source.h, plan.h, metadata.h, stream.h), written atomically
 * or streamed to standard output.
 */
#ifndef CKPT_CONVERT_CONVERT_H
#define CKPT_CONVERT_CONVERT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../kernels/err.h"
#include "../kernels/types.h"
#include "../formats/gguf.h"
#include "stream.h"

struct ckpt_convert_opts {
    const char *input;          /* model directory or FILE.safetensors */
    const char *output;         /* file, "-" for stdout, NULL: "<model>-<type>.gguf" here */
    int type;                   /* CKPT_TYPE_F32, _F16, _BF16 or CKPT_PLAN_AUTO */
    bool force;                 /* replace an existing output */
    int n_threads;              /* <= 0: every online CPU */
    bool provenance;            /* write the general.source.* keys (metadata.h) */
    bool allow_nonfinite;       /* copy NaN and ±Inf weights instead of refusing them */
    bool vocab_only;            /* metadata and vocabulary, no tensors (--vocab-only) */
    bool dry_run;               /* plan and describe, write nothing */
    uint64_t split_bytes;       /* a split set of files of at most this much tensor data */
    uint64_t split_tensors;     /* ... or this many tensors (0, 0: one file; gguf.h) */
    struct ckpt_gguf_digest *digest; /* non-NULL: hash the file into it instead of writing
                                        it (a replay, verify/rebuild.h); output unused */
    ckpt_progress_fn progress;  /* NULL: none; tensor bytes written */
    /* Called once per tensor the file holds, in file order, before any data
     * is written (NULL: none): what --dry-run lists. */
    void (*on_tensor)(void *ctx, const char *name, ckpt_type type, uint32_t n_dims,
                      const int64_t ne[4], uint64_t bytes);
    void *progress_ctx;         /* ctx of progress and on_tensor */
};

struct ckpt_convert_result {
    char output[4096];          /* the path written ("-" for stdout); a split set's first file */
    size_t n_files;             /* 1, or the files of a split set */
    char model[256];            /* the model's directory name */
    ckpt_type type;             /* output type (auto resolved) */
    uint32_t file_type;         /* general.file_type */
    size_t n_tensors;
    uint64_t file_bytes;        /* bytes of the GGUF (of every file of a split set) */
    uint64_t source_bytes;      /* tensor bytes read from the checkpoint */
    int n_threads;
    double seconds;             /* wall time of the whole conversion */
    size_t n_dropped;           /* tensors of another model left out (a vision tower) */
    const char *dropped;        /* what they are, "the vision tower" (static); NULL if none */
};

/*
 * Convert.  res (may be NULL) is filled on success (with dry_run: what
 * would be written; nothing is created).  Nothing is left
 * behind on failure (a file output is removed; bytes already sent to
 * stdout cannot be taken back).  Errors: those of ckpt_source_open,
 * ckpt_plan_build, ckpt_meta_add and ckpt_stream_write; CKPT_E_EXISTS when
 * the output exists without force.
 */
ckpt_status ckpt_convert_run(const struct ckpt_convert_opts *o, struct ckpt_convert_result *res,
                             ckpt_err *err);

/* The default output name "<model>-<type>.gguf" ("tiny-mistral-f16.gguf"). */
void ckpt_convert_default_name(char *buf, size_t size, const char *model, ckpt_type type);

#endif
