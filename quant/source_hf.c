/*
 * source_hf.c - a Hugging Face model directory as a quantizer source (see
 * source.h): the converter's plan at F32 (convert/plan.h) lists the
 * tensors llama.cpp's converter writes for --outtype f32, Q/K rows
 * permuted and experts stacked; rows are read as f32 straight from the
 * shards and the metadata is the converter's (convert/metadata.h), kept
 * as the keys of an f32 conversion would read back.  Converting and
 * quantizing in one pass thus gives the bytes of an f32 conversion
 * quantized, with no intermediate file.  At F16 or BF16 (a replay of a
 * conversion to that type followed by a quantization) each row is rounded
 * through the type its tensor would have had in that file, which is what
 * reading that file gives back.
 */
#include "source.h"

#include "../convert/metadata.h"
#include "../convert/plan.h"
#include "../convert/source.h"
#include "../formats/filekind.h"
#include "../formats/mapfile.h"
#include "../kernels/fp16.h"

#include <stdlib.h>

struct hsrc {
    struct ckpt_qsrc src;
    struct ckpt_source *cs;
    struct ckpt_plan *plan;
    struct ckpt_qsrc_tensor *t;
    uint8_t *meta_image; /* the converter's keys as a GGUF header, read by meta */
    ckpt_gguf *meta;
};

static ckpt_status h_rows(void *ctx, size_t i, int64_t row, int64_t n, float *dst, ckpt_err *err)
{
    (void)err; /* the plan checked every size: reading cannot fail */
    struct hsrc *s = ctx;
    const struct ckpt_plan_tensor *t = &s->plan->t[i];
    for (int64_t r = 0; r < n; r++) {
        float *x = dst + r * t->ne[0];
        ckpt_plan_read_f32(s->plan, t, row + r, x);
        /* the values an F16/BF16 file of this conversion holds */
        if (t->type == CKPT_TYPE_F16)
            for (int64_t k = 0; k < t->ne[0]; k++)
                x[k] = ckpt_f16_to_f32(ckpt_f32_to_f16(x[k]));
        else if (t->type == CKPT_TYPE_BF16)
            for (int64_t k = 0; k < t->ne[0]; k++)
                x[k] = ckpt_bf16_to_f32(ckpt_f32_to_bf16(x[k]));
    }
    return CKPT_OK;
}

static const void *h_raw(void *ctx, size_t i)
{
    (void)ctx;
    (void)i;
    return NULL; /* stored as BF16/F16/F8 in the shards: always re-encoded */
}

static void h_release(void *ctx, size_t i, int64_t row, int64_t n)
{
    struct hsrc *s = ctx;
    ckpt_plan_release(&s->plan->t[i], row, row + n);
}

/* The keys llama.cpp's converter writes for --outtype f32, set on a writer
 * that never opens its output, and read back as a GGUF reader's list. */
static ckpt_status load_meta(struct hsrc *s, const char *path, const struct ckpt_qsrc_hf_opts *o,
                             ckpt_err *err)
{
    ckpt_gguf_writer *w = NULL;
    struct ckpt_meta_opts mo = {.file_type = s->plan->file_type, .provenance = o->provenance,
                                .out_type = s->plan->out_type,
                                .allow_nonfinite = o->allow_nonfinite,
                                .split_bytes = o->split_bytes,
                                .split_tensors = o->split_tensors};
    size_t size = 0;
    ckpt_status st = ckpt_gguf_writer_new(&w, path, false, err);
    if (st == CKPT_OK)
        st = ckpt_meta_add(w, s->cs, s->plan, &mo, err);
    if (st == CKPT_OK)
        st = ckpt_gguf_writer_meta_image(w, &s->meta_image, &size, err);
    if (st == CKPT_OK)
        st = ckpt_gguf_open_buffer(&s->meta, path, s->meta_image, size, err);
    ckpt_gguf_writer_free(w);
    return st;
}

static void h_close(void *ctx)
{
    struct hsrc *s = ctx;
    ckpt_gguf_close(s->meta);
    free(s->meta_image);
    ckpt_plan_free(s->plan);
    ckpt_source_close(s->cs);
    free(s->t);
    free(s);
}

static const struct ckpt_qsrc_ops hf_ops = {h_rows, h_raw, h_release, h_close};

bool ckpt_qsrc_is_model_dir(const char *path)
{
    ckpt_file_kind k;
    return ckpt_file_sniff(path, &k, NULL) == CKPT_OK &&
           (k == CKPT_KIND_DIRECTORY || k == CKPT_KIND_SAFETENSORS);
}

ckpt_status ckpt_qsrc_open_hf(struct ckpt_qsrc **out, const char *path, bool provenance,
                              ckpt_err *err)
{
    const struct ckpt_qsrc_hf_opts o = {.type = CKPT_TYPE_F32, .provenance = provenance};
    return ckpt_qsrc_open_hf_as(out, path, &o, err);
}

ckpt_status ckpt_qsrc_open_hf_as(struct ckpt_qsrc **out, const char *path,
                                 const struct ckpt_qsrc_hf_opts *o, ckpt_err *err)
{
    *out = NULL;
    struct hsrc *s = calloc(1, sizeof *s);
    if (!s)
        return ckpt_err_set(err, CKPT_E_NOMEM, "%s: out of memory", path);
    ckpt_status st = ckpt_source_open(&s->cs, path, err);
    if (st == CKPT_OK)
        st = ckpt_plan_build(&s->plan, s->cs, o->type, err);
    if (st == CKPT_OK && !(s->t = calloc(s->plan->n + 1, sizeof *s->t)))
        st = ckpt_err_set(err, CKPT_E_NOMEM, "%s: out of memory", path);
    if (st == CKPT_OK)
        st = load_meta(s, path, o, err);
    if (st != CKPT_OK) {
        h_close(s);
        return st;
    }
    const struct ckpt_plan *p = s->plan;
    for (size_t i = 0; i < p->n; i++) {
        const struct ckpt_plan_tensor *t = &p->t[i];
        s->t[i] = (struct ckpt_qsrc_tensor){t->name, t->n_src ? t->src[0].t->name : NULL,
                                            t->n_dims, {t->ne[0], t->ne[1], t->ne[2], t->ne[3]},
                                            t->type};
    }
    for (size_t sh = 0; sh < ckpt_hf_n_shards(s->cs->hf); sh++)
        ckpt_map_advise_sequential(ckpt_st_map(ckpt_hf_shard(s->cs->hf, sh)));
    const struct ckpt_hf_config *cfg = &s->cs->cfg;
    s->src = (struct ckpt_qsrc){
        .ops = &hf_ops,
        .ctx = s,
        .name = ckpt_hf_path(s->cs->hf),
        .n_tensors = p->n,
        .tensors = s->t,
        .model = {(int)cfg->n_layers, (int)cfg->n_heads, (int)cfg->n_kv_heads,
                  (int)cfg->n_experts},
        .data_bytes = p->source_bytes,
        .meta = s->meta,
    };
    *out = &s->src;
    return CKPT_OK;
}
