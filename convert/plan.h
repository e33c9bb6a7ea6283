/*
 * plan.h - which GGUF tensors a Hugging Face Mistral/Mixtral checkpoint
 * becomes, exactly as llama.cpp's converter lays them out, and how to read
 * each one row by row from the mapped shards.
 *
 * Planning checks the whole checkpoint against config.json before a byte is
 * written: every tensor the architecture needs is there with the shape the
 * config implies, nothing unexpected is, and every dtype is readable.  The
 * order is the converter's: shards in file name order, names sorted within
 * a shard, and for Mixtral the three stacked expert tensors of a layer
 * (ffn_gate_exps, ffn_down_exps, ffn_up_exps) at the point where the
 * layer's last expert tensor is read.
 *
 * Reading: row r of a planned tensor (ne[0] values) comes back as f32 in
 * GGUF order: Q/K rows permuted from Hugging Face's rotate-half layout,
 * expert e's rows at [e*ne[1], (e+1)*ne[1]), F8 weights multiplied by their
 * scales.  Rows are independent, so callers may read them from any thread;
 * pages of rows already consumed can be dropped with ckpt_plan_release.
 * ckpt-convert writes the rows as F32/F16/BF16; a quantizer may take the
 * same plan, choose its own types, and quantize the rows.
 */
#ifndef CKPT_CONVERT_PLAN_H
#define CKPT_CONVERT_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../arch/arch.h"
#include "../formats/ct.h"
#include "../formats/fp8.h"
#include "../formats/safetensors.h"
#include "../kernels/err.h"
#include "../kernels/types.h"
#include "source.h"

#define CKPT_PLAN_AUTO (-1) /* output type: f16 for F16 weights, f32 for F32, else bf16 */

/* One Hugging Face tensor feeding a planned tensor (borrowed pointers). */
struct ckpt_plan_src {
    const struct ckpt_st_tensor *t;
    const ckpt_st *shard;
    bool fp8;              /* F8 weight: rows come through fp8 (formats/fp8.h) */
    struct ckpt_fp8 fp8w;  /* its scale and layout, when fp8 */
    bool ct;               /* compressed-tensors integer weight: rows through formats/ct.h;
                              t is its weight_packed or I8 weight */
    struct ckpt_ct_weight ctw; /* its scales and original shape, when ct */
};

struct ckpt_plan_tensor {
    char name[64];              /* GGUF name, "blk.0.attn_q.weight" */
    ckpt_role role;
    int layer;                  /* -1 outside the blocks */
    uint32_t n_dims;            /* as the converter stores it (size-1 dims squeezed) */
    int64_t ne[4];              /* ggml order, unused dims 1 */
    ckpt_type type;             /* output type chosen by the plan */
    bool keep_f32;              /* the converter forces F32 (1-D, *_norm, router, bias) */
    int64_t permute_heads;      /* Q/K row permutation over this many heads; 0: none */
    ckpt_dtype dtype;           /* dtype of the source tensors */
    int64_t src_rows;           /* rows per source tensor (1 for 1-D) */
    int64_t cols;               /* values per row (= ne[0]) */
    uint32_t n_src;             /* 1, or the expert count for stacked experts */
    struct ckpt_plan_src *src;  /* (n_src), expert order */
};

struct ckpt_plan {
    size_t n;                   /* tensors, in output order */
    struct ckpt_plan_tensor *t;
    ckpt_type out_type;         /* F32, F16 or BF16 (auto resolved) */
    uint32_t file_type;         /* general.file_type (llama_ftype) of out_type */
    uint64_t data_bytes;        /* sum of the tensors' bytes, without padding */
    uint64_t source_bytes;      /* bytes of the source tensors read */
    /* the converter's parameter counts, for general.size_label */
    uint64_t n_params, n_shared_params, n_expert_params;
    uint32_t expert_count;
    size_t n_dropped;           /* tensors of other models left out (a vision tower) */
    const char *dropped;        /* what they are, "the vision tower" (static); NULL if none */
    struct ckpt_fp8_luts f8_luts; /* decode tables the F8 sources borrow */
};

/*
 * Plan the conversion of src to out_type (CKPT_TYPE_F32, _F16, _BF16 or
 * CKPT_PLAN_AUTO).  The caller owns *out (ckpt_plan_free); it borrows from
 * src, which must outlive it.  Errors (the message names the tensor and the
 * file): CKPT_E_FORMAT (missing or unexpected tensor, shape that does not
 * match config.json, a scale without its weight), CKPT_E_UNSUPPORTED
 * (dtype), CKPT_E_USAGE (out_type), CKPT_E_NOMEM.
 */
ckpt_status ckpt_plan_build(struct ckpt_plan **out, const struct ckpt_source *src, int out_type,
                            ckpt_err *err);

void ckpt_plan_free(struct ckpt_plan *plan);

/* Rows of a tensor: ne[1] * ne[2] * ne[3]. */
int64_t ckpt_plan_rows(const struct ckpt_plan_tensor *t);

/* Bytes of the output tensor (type and shape). */
uint64_t ckpt_plan_bytes(const struct ckpt_plan_tensor *t);

/* Rows that belong together for reading and releasing: a whole head for
 * permuted tensors (ne[1] / heads), else 1. */
int64_t ckpt_plan_row_group(const struct ckpt_plan_tensor *t);

/* Row `row` as ne[0] f32 values into dst.  Thread-safe; never fails (the
 * plan checked every size). */
void ckpt_plan_read_f32(const struct ckpt_plan *plan, const struct ckpt_plan_tensor *t,
                        int64_t row, float *dst);

/* The source bytes of row `row` when they can be copied as they are (the
 * source dtype is the output type and values do not move within the row),
 * else NULL.  For BF16, only finite values are their own rounding (the
 * converter quiets a NaN): a row with a NaN must be read with
 * ckpt_plan_read_f32 and narrowed instead. */
const uint8_t *ckpt_plan_row_bytes(const struct ckpt_plan_tensor *t, int64_t row);

/*
 * Reading a run of rows by pread instead of through the mapping (a
 * streaming converter touches each source byte once; see ckpt_map_read).
 * For rows [row0, row1) of one source tensor, whole row groups, of a
 * tensor whose rows are plain F32/F16/BF16 values (not F8, not
 * compressed-tensors, not a 1-D Q/K bias): the shard's map and the byte
 * range of the source rows behind them, which start at source row
 * *src_row0; NULL for any other tensor.  In that range, GGUF row `row`
 * lies at (ckpt_plan_src_row(t, row) - *src_row0) source rows of
 * ckpt_plan_src_row_bytes(t) bytes; ckpt_plan_widen_row reads it as f32
 * and ckpt_plan_copies_rows tells whether its bytes are the output's.
 */
const ckpt_map *ckpt_plan_src_span(const struct ckpt_plan_tensor *t, int64_t row0, int64_t row1,
                                   size_t *off, size_t *len, int64_t *src_row0);
int64_t ckpt_plan_src_row(const struct ckpt_plan_tensor *t, int64_t row);
size_t ckpt_plan_src_row_bytes(const struct ckpt_plan_tensor *t);
void ckpt_plan_widen_row(const struct ckpt_plan_tensor *t, const uint8_t *src, float *dst);
bool ckpt_plan_copies_rows(const struct ckpt_plan_tensor *t);

/* Hint that rows [row0, row1) will be read soon / drop their pages now that
 * they are consumed (best effort: reading them again still works). */
void ckpt_plan_prefetch(const struct ckpt_plan_tensor *t, int64_t row0, int64_t row1);
void ckpt_plan_release(const struct ckpt_plan_tensor *t, int64_t row0, int64_t row1);

/* llama_ftype of F32 / F16 / BF16 (0, 1, 32); UINT32_MAX for other types. */
uint32_t ckpt_plan_file_type(ckpt_type type);

#endif
