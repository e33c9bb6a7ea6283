/*
 * calib.c - importance matrices from the reference forward pass (see
 * calib.h): tokenize, run chunk by chunk with an observer on the matrix
 * products that sums x^2 per input column, then write the sums out as a
 * legacy .dat and read that back with imatrix.c, so that the quantizer
 * gets exactly what a later --imatrix of the saved file would give it.
 */
#include "calib.h"

#include "../arch/arch.h"
#include "../formats/le.h"
#include "../formats/mapfile.h"
#include "../formats/model_load.h"
#include "../formats/outfile.h"
#include "../formats/tokenizer.h"
#include "../kernels/dispatch.h"
#include "../kernels/model.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define UBATCH 512  /* positions per forward step: llama.cpp's default n_ubatch */
#define MIN_ROWS 16 /* llama-imatrix skips dense products over fewer rows */

/* The role of each observed weight, dense and with experts (GGUF names
 * from the role table: blk.N.attn_q.weight, blk.N.ffn_up_exps.weight). */
static const ckpt_role roles[CKPT_MM_COUNT][2] = {
    [CKPT_MM_ATTN_Q] = {CKPT_ROLE_ATTN_Q, CKPT_ROLE_ATTN_Q},
    [CKPT_MM_ATTN_K] = {CKPT_ROLE_ATTN_K, CKPT_ROLE_ATTN_K},
    [CKPT_MM_ATTN_V] = {CKPT_ROLE_ATTN_V, CKPT_ROLE_ATTN_V},
    [CKPT_MM_ATTN_OUTPUT] = {CKPT_ROLE_ATTN_OUTPUT, CKPT_ROLE_ATTN_OUTPUT},
    [CKPT_MM_FFN_GATE_INP] = {CKPT_ROLE_FFN_GATE_INP, CKPT_ROLE_FFN_GATE_INP},
    [CKPT_MM_FFN_GATE] = {CKPT_ROLE_FFN_GATE, CKPT_ROLE_FFN_GATE_EXPS},
    [CKPT_MM_FFN_UP] = {CKPT_ROLE_FFN_UP, CKPT_ROLE_FFN_UP_EXPS},
    [CKPT_MM_FFN_DOWN] = {CKPT_ROLE_FFN_DOWN, CKPT_ROLE_FFN_DOWN_EXPS},
    [CKPT_MM_OUTPUT] = {CKPT_ROLE_OUTPUT, CKPT_ROLE_OUTPUT},
};

int ckpt_calib_mm_role(int weight, bool experts)
{
    return weight >= 0 && weight < CKPT_MM_COUNT ? (int)roles[weight][experts] : 0;
}

/* The sums of one weight matrix (or stack of experts). */
struct acc {
    char name[64];  /* blk.N.<name>[_exps].weight; "" when the model has no such weight */
    int64_t ncols;  /* input columns (the weight's ne[0]) */
    int64_t n_mat;  /* experts, else 1 */
    double *sum2;   /* (n_mat, ncols) Σx² */
    int64_t *rows;  /* (n_mat) rows summed */
};

struct calib {
    const struct ckpt_calib_opts *o;
    struct acc *acc; /* (n_layers, CKPT_MM_COUNT) */
    int64_t n_layers;
    int64_t n_ctx;
    bool bad;        /* a non-finite activation was seen */
    struct ckpt_mm_input bad_at;
};

static void message(const struct ckpt_calib_opts *o, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void message(const struct ckpt_calib_opts *o, int level, const char *fmt, ...)
{
    if (!o->message)
        return;
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    o->message(o->cb_ctx, level, buf);
}

/* ==== the sums ==== */

static void free_accs(struct calib *c)
{
    for (int64_t i = 0; c->acc && i < c->n_layers * CKPT_MM_COUNT; i++) {
        free(c->acc[i].sum2);
        free(c->acc[i].rows);
    }
    free(c->acc);
    c->acc = NULL;
}

/* One accumulator per weight of every layer, sized from the config, so
 * that the observer never allocates. */
static ckpt_status alloc_accs(struct calib *c, const struct ckpt_model_config *cfg, ckpt_err *err)
{
    const bool moe = cfg->features & CKPT_FEAT_EXPERTS;
    /* the names llama-imatrix records: the GGUF names of the llama family */
    const struct ckpt_arch *arch = ckpt_arch_by_gguf("llama", moe);
    const int64_t cols[CKPT_MM_COUNT] = {
        [CKPT_MM_ATTN_Q] = cfg->dim,
        [CKPT_MM_ATTN_K] = cfg->dim,
        [CKPT_MM_ATTN_V] = cfg->dim,
        [CKPT_MM_ATTN_OUTPUT] = cfg->n_heads * cfg->head_dim,
        [CKPT_MM_FFN_GATE_INP] = moe ? cfg->dim : 0,
        [CKPT_MM_FFN_GATE] = cfg->dim,
        [CKPT_MM_FFN_UP] = cfg->dim,
        [CKPT_MM_FFN_DOWN] = cfg->ffn_dim,
        [CKPT_MM_OUTPUT] = 0, /* not collected */
    };
    c->n_layers = cfg->n_layers;
    if (!(c->acc = calloc((size_t)(c->n_layers * CKPT_MM_COUNT), sizeof *c->acc)))
        return ckpt_err_set(err, CKPT_E_NOMEM, "out of memory");
    for (int64_t l = 0; l < c->n_layers; l++)
        for (int w = 0; w < CKPT_MM_COUNT; w++) {
            struct acc *a = &c->acc[l * CKPT_MM_COUNT + w];
            if (!cols[w])
                continue;
            const struct ckpt_arch_role *r = ckpt_arch_role(arch, roles[w][moe]);
            bool exps = r && r->stacked;
            if (!ckpt_arch_gguf_name(arch, roles[w][moe], (int)l, "weight", a->name,
                                     sizeof a->name))
                return ckpt_err_set(err, CKPT_E_INTERNAL, "no GGUF name for layer %lld",
                                    (long long)l);
            a->ncols = cols[w];
            a->n_mat = exps ? cfg->n_experts : 1;
            a->sum2 = calloc((size_t)(a->n_mat * a->ncols), sizeof *a->sum2);
            a->rows = calloc((size_t)a->n_mat, sizeof *a->rows);
            if (!a->sum2 || !a->rows)
                return ckpt_err_set(err, CKPT_E_NOMEM, "out of memory");
        }
    return CKPT_OK;
}

/* The observer: add the product's input rows to its weight's sums. */
static void on_input(void *ctx, const struct ckpt_mm_input *in)
{
    struct calib *c = ctx;
    if (in->layer < 0 || (in->expert < 0 && in->n < MIN_ROWS))
        return;
    struct acc *a = &c->acc[in->layer * CKPT_MM_COUNT + in->weight];
    int64_t m = in->expert < 0 ? 0 : in->expert;
    if (!a->sum2 || in->ncols != a->ncols || m >= a->n_mat)
        return; /* not a weight this model was sized for */
    double *s = a->sum2 + m * a->ncols;
    for (int64_t r = 0; r < in->n; r++) {
        const float *x = in->x + r * in->ncols;
        for (int64_t j = 0; j < in->ncols; j++)
            s[j] += (double)x[j] * (double)x[j];
    }
    a->rows[m] += in->n;
    if (!c->bad)
        for (int64_t j = 0; j < in->ncols; j++)
            if (!isfinite(s[j])) {
                c->bad = true;
                c->bad_at = *in;
                break;
            }
}

/* ==== the legacy .dat ==== */

struct buf {
    uint8_t *p;
    size_t n, cap;
    bool oom;
};

static void put(struct buf *b, const void *data, size_t n)
{
    if (b->oom)
        return;
    if (b->cap - b->n < n) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap - b->n < n)
            cap *= 2;
        uint8_t *p = realloc(b->p, cap);
        if (!p) {
            b->oom = true;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->n, data, n);
    b->n += n;
}

static void put_i32(struct buf *b, int32_t v)
{
    uint8_t q[4];
    le32enc(q, (uint32_t)v);
    put(b, q, 4);
}

static void put_f32(struct buf *b, float v)
{
    uint32_t u;
    memcpy(&u, &v, 4);
    put_i32(b, (int32_t)u);
}

static int by_name(const void *a, const void *b)
{
    return strcmp((*(const struct acc *const *)a)->name, (*(const struct acc *const *)b)->name);
}

/* Entries sorted by name, each value mean·ncall with ncall = the chunk
 * count (llama.cpp's layout; the reader divides ncall out again). */
static ckpt_status write_dat(struct calib *c, struct ckpt_calib *out, ckpt_err *err)
{
    const struct ckpt_calib_opts *o = c->o;
    size_t n = 0, total = (size_t)(c->n_layers * CKPT_MM_COUNT);
    struct acc **e = malloc(total * sizeof *e);
    if (!e)
        return ckpt_err_set(err, CKPT_E_NOMEM, "out of memory");
    for (size_t i = 0; i < total; i++) {
        struct acc *a = &c->acc[i];
        int64_t seen = 0;
        for (int64_t m = 0; a->sum2 && m < a->n_mat; m++)
            seen += a->rows[m] > 0;
        if (seen == 0)
            continue; /* no data: no entry */
        if (seen < a->n_mat) {
            out->n_partial++;
            message(o, 2, "%s: %lld of %lld experts never routed to, given uniform weights",
                    a->name, (long long)(a->n_mat - seen), (long long)a->n_mat);
        }
        e[n++] = a;
    }
    if (n == 0) {
        free(e);
        return ckpt_err_set(err, CKPT_E_RANGE,
                            "%s: nothing collected: chunks of %lld tokens are too short (products "
                            "over fewer than %d rows are skipped)",
                            o->text, (long long)c->n_ctx, MIN_ROWS);
    }
    qsort(e, n, sizeof *e, by_name);

    struct buf b = {0};
    const int32_t ncall = out->n_chunks;
    put_i32(&b, (int32_t)n);
    for (size_t i = 0; i < n; i++) {
        const struct acc *a = e[i];
        put_i32(&b, (int32_t)strlen(a->name));
        put(&b, a->name, strlen(a->name));
        put_i32(&b, ncall);
        put_i32(&b, (int32_t)(a->n_mat * a->ncols));
        for (int64_t m = 0; m < a->n_mat; m++)
            for (int64_t j = 0; j < a->ncols; j++) {
                float mean = a->rows[m] ? (float)(a->sum2[m * a->ncols + j] / (double)a->rows[m])
                                        : 1.0f;
                put_f32(&b, mean * (float)ncall);
            }
    }
    put_i32(&b, out->n_chunks);
    put_i32(&b, (int32_t)strlen(o->text));
    put(&b, o->text, strlen(o->text));
    free(e);
    if (b.oom) {
        free(b.p);
        return ckpt_err_set(err, CKPT_E_NOMEM, "out of memory for the imatrix");
    }
    out->dat = b.p;
    out->dat_size = b.n;
    return ckpt_imatrix_load_buffer(&out->imatrix, o->text, b.p, b.n, err);
}

/* ==== the run ==== */

/* The ISA that computes `semantic` here (NULL: the default one): the
 * default ISA when it does, else the first available that does (ref is
 * the only f32 one, scalar runs q8 on any CPU); -1 if none. */
static int isa_of(const char *semantic)
{
    const ckpt_isa def = ckpt_isa_default();
    if (!semantic || strcmp(semantic, ckpt_isa_semantic(def)) == 0)
        return (int)def;
    for (int i = 0; i < CKPT_ISA_COUNT; i++)
        if (ckpt_isa_available((ckpt_isa)i) &&
            strcmp(semantic, ckpt_isa_semantic((ckpt_isa)i)) == 0)
            return i;
    return -1;
}

ckpt_status ckpt_calib_tokenize(const ckpt_tok *tok, const char *path, int32_t **ids,
                                size_t *n_ids, ckpt_err *err)
{
    *ids = NULL;
    ckpt_map *map = NULL;
    ckpt_status st = ckpt_map_open(&map, path, err);
    if (st != CKPT_OK)
        return st;
    ckpt_out_protect(path); /* an input of the run to its end */
    const char *text = map->size ? (const char *)map->data : "";
    size_t len = map->size;
    if (len > 0 && text[len - 1] == '\n')
        len--;
    if (len == 0) {
        st = ckpt_err_set(err, CKPT_E_RANGE, "%s: the calibration text is empty", path);
        goto out;
    }
    size_t cap = ckpt_tok_encode_max(len);
    if (cap == SIZE_MAX || !(*ids = malloc((cap + 1) * sizeof **ids))) {
        st = ckpt_err_set(err, CKPT_E_NOMEM, "%s: out of memory for the tokens", path);
        goto out;
    }
    const bool bos = ckpt_tok_add_bos(tok) && ckpt_tok_bos_id(tok) >= 0;
    if ((st = ckpt_tok_encode(tok, text, len, 0, *ids + bos, cap, n_ids, err)) != CKPT_OK)
        goto out;
    if (bos)
        (*ids)[0] = ckpt_tok_bos_id(tok);
    *n_ids += bos;
out:
    if (st != CKPT_OK) {
        free(*ids);
        *ids = NULL;
    }
    ckpt_map_close(map);
    return st;
}

ckpt_status ckpt_calib_run(struct ckpt_calib *out, const char *model,
                           const struct ckpt_calib_opts *o, ckpt_err *err)
{
    memset(out, 0, sizeof *out);
    const int64_t n_ctx = o->n_ctx > 0 ? o->n_ctx : CKPT_CALIB_CTX;
    if (!o->text)
        return ckpt_err_set(err, CKPT_E_USAGE, "no calibration text");
    if (n_ctx > (int64_t)1 << 20)
        return ckpt_err_set(err, CKPT_E_USAGE, "chunk of %lld tokens is too large",
                            (long long)n_ctx);
    const int isa = isa_of(o->semantic);
    if (isa < 0)
        return ckpt_err_set(err, CKPT_E_UNSUPPORTED, "the importance matrix cannot be measured "
                            "on semantic '%.32s': no forward pass of this ckpt computes it "
                            "(recorded by a newer one?)", o->semantic);
    struct calib c = {.o = o, .n_ctx = n_ctx};
    ckpt_weights *w = NULL;
    ckpt_tok *tok = NULL;
    ckpt_model *m = NULL;
    int32_t *ids = NULL, *chunk = NULL;
    size_t n_ids = 0;
    ckpt_status st;
    if ((st = ckpt_weights_open(&w, model, NULL, err)) != CKPT_OK ||
        (st = ckpt_tok_load_any(&tok, model, err)) != CKPT_OK ||
        (st = ckpt_calib_tokenize(tok, o->text, &ids, &n_ids, err)) != CKPT_OK)
        goto out;
    out->n_tokens = (int64_t)n_ids;
    int64_t n_chunks = (int64_t)n_ids / n_ctx;
    if (o->max_chunks > 0 && n_chunks > o->max_chunks)
        n_chunks = o->max_chunks;
    if (n_chunks == 0) {
        st = ckpt_err_set(err, CKPT_E_RANGE,
                          "%s: the text has %zu tokens, fewer than one chunk of %lld", o->text,
                          n_ids, (long long)n_ctx);
        goto out;
    }
    if (n_chunks > INT32_MAX) {
        st = ckpt_err_set(err, CKPT_E_RANGE, "%s: too many chunks", o->text);
        goto out;
    }
    const struct ckpt_model_config *cfg = ckpt_weights_config(w);
    struct ckpt_model_opts mo = {.n_ctx = n_ctx,
                                 .max_batch = n_ctx < UBATCH ? n_ctx : UBATCH,
                                 .n_threads = o->n_threads,
                                 .isa = isa,
                                 /* each tensor is read once per step: keep one resident */
                                 .release = ckpt_weights_release_bytes,
                                 .release_ctx = w};
    if ((st = ckpt_model_new(&m, cfg, ckpt_weights_views(w), &mo, err)) != CKPT_OK ||
        (st = alloc_accs(&c, cfg, err)) != CKPT_OK)
        goto out;
    if (!(chunk = malloc((size_t)n_ctx * sizeof *chunk))) {
        st = ckpt_err_set(err, CKPT_E_NOMEM, "out of memory");
        goto out;
    }
    message(o, 3, "%s: %zu tokens, %lld chunks of %lld", o->text, n_ids, (long long)n_chunks,
            (long long)n_ctx);
    ckpt_model_set_observer(m, on_input, &c);
    const bool bos = ckpt_tok_add_bos(tok) && ckpt_tok_bos_id(tok) >= 0;
    for (int64_t i = 0; i < n_chunks; i++) {
        memcpy(chunk, ids + i * n_ctx, (size_t)n_ctx * sizeof *chunk);
        if (bos)
            chunk[0] = ckpt_tok_bos_id(tok);
        ckpt_model_truncate(m, 0);
        for (int64_t at = 0; at < n_ctx; at += UBATCH) {
            int64_t n = n_ctx - at < UBATCH ? n_ctx - at : UBATCH;
            if ((st = ckpt_model_eval(m, chunk + at, n, NULL, false, err)) != CKPT_OK)
                goto out;
        }
        if (c.bad) {
            st = ckpt_err_set(err, CKPT_E_VALUE, "%s: chunk %lld: non-finite input to %s",
                              o->text, (long long)i,
                              c.acc[c.bad_at.layer * CKPT_MM_COUNT + c.bad_at.weight].name);
            goto out;
        }
        if (o->progress)
            o->progress(o->cb_ctx, "calibration", (uint64_t)((i + 1) * n_ctx),
                        (uint64_t)(n_chunks * n_ctx), CKPT_PROGRESS_TOKENS);
    }
    out->n_chunks = (int32_t)n_chunks;
    out->semantic = ckpt_isa_semantic((ckpt_isa)isa);
    st = write_dat(&c, out, err);
out:
    if (st != CKPT_OK)
        ckpt_calib_free(out);
    free(chunk);
    free(ids);
    free_accs(&c);
    ckpt_model_free(m);
    ckpt_tok_free(tok);
    ckpt_weights_close(w);
    return st;
}

ckpt_status ckpt_calib_save(const struct ckpt_calib *c, const char *path, bool force,
                            ckpt_err *err)
{
    ckpt_out *f = NULL;
    ckpt_status st = ckpt_out_open(&f, path, force, err);
    if (st != CKPT_OK)
        return st;
    if ((st = ckpt_out_write(f, c->dat, c->dat_size, err)) != CKPT_OK) {
        ckpt_out_abort(f);
        return st;
    }
    if ((st = ckpt_out_commit(f, err)) == CKPT_OK)
        ckpt_out_protect(path); /* the model output must not replace it (-o X --imatrix-out X) */
    return st;
}

void ckpt_calib_free(struct ckpt_calib *c)
{
    if (!c)
        return;
    ckpt_imatrix_free(c->imatrix);
    free(c->dat);
    memset(c, 0, sizeof *c);
}
