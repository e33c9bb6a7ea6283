/*
 * model_load.h - open a model for the reference forward pass: a Hugging
 * Face directory (config.json + safetensors shards) or a GGUF file, turned
 * into the hyperparameters and weight views of kernels/model.h.  Weights
 * stay in the mapped files (views, no copies); only the small per-layer
 * tables are allocated.
 *
 * HF: hyperparameters from config.json (hfdir.h, with the transformers
 * defaults); tensors by HF name in BF16, F16 or F32, viewed in place, or
 * F8_E4M3 or F8_E5M2 with a weight_scale / weight_scale_inv tensor (fp8.h,
 * the converter's reader: per tensor, per row or per block; quant_method
 * "fp8", "fbgemm_fp8" or "compressed-tensors"), dequantized at open into f32
 * buffers owned by the weights object (4 bytes per FP8 weight of memory).  Activation scales
 * (input_scale) are ignored: activations stay f32.  The int8/int4 weights of a
 * compressed-tensors checkpoint (ct.h: W8A16, W8A8, W4A16) are re-encoded at
 * open as the Q8_0 / Q4_0 blocks that hold them exactly (1.06 / 0.56 bytes per
 * weight), which the dot products dequantize as for any GGUF; f32 when their
 * scales are not f16 values or the rows not a multiple of 32.
 *
 * GGUF (architecture "llama", as llama.cpp's converter writes Mistral and
 * Mixtral): hyperparameters from the llama.* keys, tensors by GGUF name in
 * any type the dot products support, attn_q/attn_k rows marked as being in
 * GGUF order (the forward pass un-permutes their outputs), Mixtral experts
 * as slices of the stacked ffn_{gate,up,down}_exps tensors.  A GGUF has no
 * sliding-window key, so the window comes from the caller (none by default).
 */
#ifndef CKPT_FORMATS_MODEL_LOAD_H
#define CKPT_FORMATS_MODEL_LOAD_H

#include <stdint.h>

#include "../kernels/err.h"
#include "../kernels/model.h"

typedef enum {
    CKPT_WEIGHTS_HF = 1,   /* Hugging Face directory */
    CKPT_WEIGHTS_GGUF = 2, /* GGUF file */
} ckpt_weights_kind;

struct ckpt_weights_opts {
    /* Sliding window: < 0 = what the source says (config.json; none for a
     * GGUF), 0 = none, W > 0 = query i sees keys i-W < j <= i. */
    int64_t sliding_window;
};

typedef struct ckpt_weights ckpt_weights;

/*
 * Open `path`: a directory (HF) or a file starting with the GGUF magic.
 * opts may be NULL (defaults).  The caller owns *out (ckpt_weights_close);
 * the views stay valid until then.  Errors name the file and tensor:
 * CKPT_E_IO, CKPT_E_FORMAT (a missing tensor, a shape that does not fit
 * the config, missing keys), CKPT_E_UNSUPPORTED (architecture, dtype or
 * tensor type without a kernel), CKPT_E_NOMEM.
 */
ckpt_status ckpt_weights_open(ckpt_weights **out, const char *path,
                              const struct ckpt_weights_opts *opts, ckpt_err *err);

void ckpt_weights_close(ckpt_weights *w);

/* Drop every mapped weight page from resident memory (ckpt_map_release_ptr);
 * the views stay valid and fault their bytes back in when read.  Between
 * the phases of a comparison, so that two models never need to be
 * resident at once. */
void ckpt_weights_release(const ckpt_weights *w);

/* Map the pages of every matrix a forward pass multiplies by (all but the
 * token embedding, whose rows the tokens pick) into this process now
 * (ckpt_map_populate_ptr), reading them from the file where the page
 * cache lacks them, and touch each: for a run that will read them all at
 * every step (ckpt-run), so that the timed steps meet no first-touch
 * cost (on the AMD machine, a VM, the last step of a 512-token F16
 * prefill read its first-touched matrices at 2.7 GB/s a thread where a
 * decode step reads them at 20), as llama.cpp maps a model populated and
 * warms it up before it times anything.  Not for a comparison, whose
 * memory bound needs the pages released and faulted in a tensor at a
 * time. */
void ckpt_weights_populate(const ckpt_weights *w);

/* A ckpt_model_opts.release hook, ctx the ckpt_weights the bytes belong to:
 * ckpt_map_release_ptr of mapped bytes (buffers dequantized at open are kept). */
void ckpt_weights_release_bytes(void *ctx, const void *data, size_t bytes);

/* The hyperparameters and views (borrowed, valid until close). */
const struct ckpt_model_config *ckpt_weights_config(const ckpt_weights *w);
const struct ckpt_model_weights *ckpt_weights_views(const ckpt_weights *w);

ckpt_weights_kind ckpt_weights_get_kind(const ckpt_weights *w);

/*
 * The view a tensor of role `role` (a ckpt_role, arch.h) of layer l (expert
 * e of a Mixtral layer) fills in w, or NULL for a role the forward pass
 * does not take.  l and e are not checked: they must be below the
 * config's n_layers and n_experts where the role has them.  For callers
 * that swap one tensor of a model for another version of it.
 */
struct ckpt_wview *ckpt_weights_slot(struct ckpt_model_weights *w, int role, int64_t l, int64_t e);
const char *ckpt_weights_path(const ckpt_weights *w);

#endif
