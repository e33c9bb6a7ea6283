/*
 * source_gguf.c - a GGUF file as a quantizer source (see source.h): rows
 * are the stored rows widened (F16 through F16C when the CPU has it) or
 * dequantized to f32, metadata is copied key by key in file order, and
 * the pages of each written tensor are dropped from memory.
 */
#include "source.h"
#include "../arch/gguf_keys.h"

#include "../formats/mapfile.h"
#include "../kernels/dispatch.h"
#include "../kernels/quant.h"

#include <stdio.h>
#include <stdlib.h>

struct gsrc {
    struct ckpt_qsrc src;
    ckpt_gguf *g;
    struct ckpt_qsrc_tensor *t;
};

static ckpt_status g_rows(void *ctx, size_t i, int64_t row, int64_t n, float *dst, ckpt_err *err)
{
    struct gsrc *s = ctx;
    const struct ckpt_gguf_tensor *t = ckpt_gguf_tensor(s->g, i);
    size_t rb;
    if (!ckpt_type_row_bytes(t->type, t->ne[0], &rb))
        return ckpt_err_set(err, CKPT_E_INTERNAL, "%s: tensor '%s': bad row size", s->src.name,
                            t->name);
    /* the table's widening (F16C on avx2) gives the same floats, except that
     * a signalling NaN comes out quiet: the driver refuses NaN rows either way */
    const struct ckpt_kernels *k = ckpt_kernels_get();
    for (int64_t r = 0; r < n; r++) {
        const uint8_t *src = t->data + (size_t)(row + r) * rb;
        float *out = dst + r * t->ne[0];
        if (t->type == CKPT_TYPE_F16)
            k->f16_to_f32(src, out, t->ne[0]);
        else if (!ckpt_dequantize_row(t->type, src, out, t->ne[0]))
            return ckpt_err_set(err, CKPT_E_UNSUPPORTED,
                                "%s: tensor '%s': cannot read type %s", s->src.name, t->name,
                                ckpt_type_name(t->type));
    }
    return CKPT_OK;
}

static const void *g_raw(void *ctx, size_t i)
{
    struct gsrc *s = ctx;
    return ckpt_gguf_tensor(s->g, i)->data;
}

static void g_release(void *ctx, size_t i, int64_t row, int64_t n)
{
    struct gsrc *s = ctx;
    const struct ckpt_gguf_tensor *t = ckpt_gguf_tensor(s->g, i);
    const ckpt_map *m = ckpt_gguf_map(ckpt_gguf_part(s->g, t->part));
    size_t rb;
    if (m && t->data && ckpt_type_row_bytes(t->type, t->ne[0], &rb))
        ckpt_map_release(m, (size_t)(t->data - m->data) + (size_t)row * rb, (size_t)n * rb);
}

static void g_close(void *ctx)
{
    struct gsrc *s = ctx;
    ckpt_gguf_close(s->g);
    free(s->t);
    free(s);
}

static const struct ckpt_qsrc_ops gguf_ops = {g_rows, g_raw, g_release, g_close};

/* <arch>.<key> as an int; *out keeps dflt when the key is absent (unless required). */
static ckpt_status arch_int(const struct gsrc *s, const char *arch, const char *key, bool required,
                            int *out, ckpt_err *err)
{
    char full[160];
    snprintf(full, sizeof full, "%s.%s", arch, key);
    if (!ckpt_gguf_find_kv(s->g, full)) {
        if (required)
            return ckpt_err_set(err, CKPT_E_FORMAT, "%s: no %s: not a model GGUF",
                                s->src.name, full);
        return CKPT_OK;
    }
    uint32_t v;
    ckpt_status st = ckpt_gguf_get_u32(s->g, full, &v, err);
    if (st != CKPT_OK)
        return st;
    if (v > 1u << 20)
        return ckpt_err_set(err, CKPT_E_FORMAT, "%s: %s = %u is out of range", s->src.name, full,
                            v);
    *out = (int)v;
    return CKPT_OK;
}

ckpt_status ckpt_qsrc_open_gguf(struct ckpt_qsrc **out, const char *path, ckpt_err *err)
{
    *out = NULL;
    struct gsrc *s = calloc(1, sizeof *s);
    if (!s)
        return ckpt_err_set(err, CKPT_E_NOMEM, "%s: out of memory", path);
    ckpt_status st = ckpt_gguf_open(&s->g, path, err);
    if (st != CKPT_OK) {
        free(s);
        return st;
    }
    s->src.ops = &gguf_ops;
    s->src.ctx = s;
    s->src.name = ckpt_gguf_path(s->g);
    s->src.meta = s->g;
    for (size_t i = 0; i < ckpt_gguf_n_parts(s->g); i++) /* every file of a split set */
        if (ckpt_gguf_map(ckpt_gguf_part(s->g, i)))
            ckpt_map_advise_sequential(ckpt_gguf_map(ckpt_gguf_part(s->g, i)));

    const char *arch;
    struct ckpt_qplan_model *m = &s->src.model;
    m->n_layer = m->n_head = m->n_expert = 0;
    m->n_head_kv = -1;
    if ((st = ckpt_gguf_get_str(s->g, CKPT_KEY_ARCHITECTURE, &arch, err)) != CKPT_OK ||
        (st = arch_int(s, arch, "block_count", true, &m->n_layer, err)) != CKPT_OK ||
        (st = arch_int(s, arch, "attention.head_count", false, &m->n_head, err)) != CKPT_OK ||
        (st = arch_int(s, arch, "attention.head_count_kv", false, &m->n_head_kv, err)) !=
            CKPT_OK ||
        (st = arch_int(s, arch, "expert_count", false, &m->n_expert, err)) != CKPT_OK)
        goto fail;
    if (m->n_head_kv < 0)
        m->n_head_kv = m->n_head;

    size_t n = ckpt_gguf_n_tensors(s->g);
    s->t = calloc(n ? n : 1, sizeof *s->t);
    if (!s->t) {
        st = ckpt_err_set(err, CKPT_E_NOMEM, "%s: out of memory", path);
        goto fail;
    }
    for (size_t i = 0; i < n; i++) {
        const struct ckpt_gguf_tensor *t = ckpt_gguf_tensor(s->g, i);
        s->t[i] = (struct ckpt_qsrc_tensor){t->name, NULL, t->n_dims, {t->ne[0], t->ne[1],
                                            t->ne[2], t->ne[3]}, t->type};
        s->src.data_bytes += t->n_bytes;
    }
    s->src.n_tensors = n;
    s->src.tensors = s->t;
    *out = &s->src;
    return CKPT_OK;
fail:
    ckpt_gguf_close(s->g);
    free(s->t);
    free(s);
    return st;
}
