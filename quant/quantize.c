/*
 * quantize.c - the quantize driver (see quantize.h): plan, declare every
 * tensor to the sink, then stream every tensor in llama-quantize's order -
 * copied as stored when the sink wants it in its stored type, otherwise
 * produced as f32 rows in chunks and encoded across the thread pool, one
 * owner per row.  A writer thread hands each encoded chunk to the sink
 * while the pool works on the next one (two output buffers, one write in
 * flight).
 */
#include "quantize.h"
#include "../arch/gguf_keys.h"

#include "../formats/outfile.h"
#include "../kernels/behind.h"
#include "../kernels/pool.h"
#include "../kernels/quant.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CHUNK_FLOATS ((int64_t)1 << 21) /* f32 values per chunk: 8 MiB */
#define COPY_BYTES ((size_t)8 << 20)     /* bytes per piece of a copied tensor */

/* ==== one chunk of rows, shared by the workers ==== */

struct slot {
    int64_t bad_row; /* first failing row of this worker's range, or -1 */
    ckpt_err err;
};

struct chunk {
    struct ckpt_qsrc *src;
    size_t ti;
    const struct ckpt_qsrc_tensor *t;
    ckpt_type type;
    ckpt_isa isa;       /* whose quantizer kernels */
    const float *imat;  /* NULL, or ne[2]*ne[3] slices of ne[0] weights */
    int64_t row0;       /* first row of the chunk within the tensor */
    float *f;           /* rows as f32 */
    uint8_t *q;         /* rows encoded */
    size_t out_rb;      /* bytes per encoded row */
    struct slot *slots; /* one per worker */
};

static const char *describe(float v)
{
    return isnan(v) ? "nan" : v > 0 ? "+inf" : "-inf";
}

/* "row 17" or, in a stack of matrices, "row 17 (matrix 2, row 5)". */
static void where(const struct ckpt_qsrc_tensor *t, int64_t row, char *buf, size_t n)
{
    if (t->ne[2] * t->ne[3] > 1)
        snprintf(buf, n, "row %lld (matrix %lld, row %lld)", (long long)row,
                 (long long)(row / t->ne[1]), (long long)(row % t->ne[1]));
    else
        snprintf(buf, n, "row %lld", (long long)row);
}

/* Index of the first inf or NaN in x[0..n), or -1: a branch-free pass
 * over the exponent bits, 64 values at a time (a loop the compiler
 * vectorizes), then a scan only when there is something to find. */
static int64_t first_non_finite(const float *x, int64_t n)
{
    uint32_t bad = 0;
    int64_t j = 0;
    for (; j + 64 <= n; j += 64) {
        uint32_t u[64];
        memcpy(u, x + j, sizeof u);
        for (int k = 0; k < 64; k++)
            bad |= (u[k] & 0x7f800000u) == 0x7f800000u;
    }
    for (; j < n; j++)
        bad |= !isfinite(x[j]);
    if (!bad)
        return -1;
    for (j = 0; j < n; j++)
        if (!isfinite(x[j]))
            return j;
    return -1;
}

static void work(void *ctx, int64_t begin, int64_t end, int thread)
{
    struct chunk *c = ctx;
    struct slot *s = &c->slots[thread];
    const int64_t ne0 = c->t->ne[0];
    char at[96];
    if (c->src->ops->rows(c->src->ctx, c->ti, c->row0 + begin, end - begin, c->f + begin * ne0,
                          &s->err) != CKPT_OK) {
        s->bad_row = c->row0 + begin;
        return;
    }
    for (int64_t r = begin; r < end; r++) {
        const int64_t row = c->row0 + r;
        const float *x = c->f + r * ne0;
        uint8_t *y = c->q + (size_t)r * c->out_rb;
        const int64_t j = first_non_finite(x, ne0);
        if (j >= 0) {
            where(c->t, row, at, sizeof at);
            ckpt_err_set(&s->err, CKPT_E_VALUE, "%s: tensor '%s', %s, column %lld: value is %s",
                         c->src->name, c->t->name, at, (long long)j, describe(x[j]));
            s->bad_row = row;
            return;
        }
        const float *w = c->imat ? c->imat + (row / c->t->ne[1]) * ne0 : NULL;
        ckpt_quantize_rows_isa(c->isa, c->type, x, y, 1, ne0, w);
        int64_t b;
        if (!ckpt_quant_row_scales_ok(c->type, y, ne0, &b)) {
            where(c->t, row, at, sizeof at);
            const struct ckpt_type_traits *tr = ckpt_type_traits(c->type);
            if (tr->block_elems == 1)
                ckpt_err_set(&s->err, CKPT_E_VALUE,
                             "%s: tensor '%s', %s, column %lld: value %g overflows %s",
                             c->src->name, c->t->name, at, (long long)b, (double)x[b], tr->name);
            else
                ckpt_err_set(&s->err, CKPT_E_VALUE,
                             "%s: tensor '%s', %s, block %lld: the %s scale overflows f16 "
                             "(values too large)",
                             c->src->name, c->t->name, at, (long long)b, tr->name);
            s->bad_row = row;
            return;
        }
    }
}

/* ==== writing behind: one write in flight on a thread of its own ==== */

/* Rows [row, row + rows) of tensor k, n bytes at p, for the sink
 * (kernels/behind.h runs it on the writer thread). */
struct rows_job {
    size_t k;
    int64_t row, rows;
    const uint8_t *p;
    size_t n;
};

static ckpt_status sink_rows(void *ctx, const void *job, ckpt_err *err)
{
    struct ckpt_qsink *sink = ctx;
    const struct rows_job *j = job;
    return sink->ops->rows(sink->ctx, j->k, j->row, j->rows, j->p, j->n, err);
}

/* Queue p[0..n), rows [row, row + rows) of tensor k (which must stay
 * valid and unchanged until the next wait or write returns), after the
 * write in flight. */
static ckpt_status behind_write(ckpt_behind *b, size_t k, int64_t row, int64_t rows,
                                const uint8_t *p, size_t n, ckpt_err *err)
{
    const struct rows_job j = {k, row, rows, p, n};
    return ckpt_behind_put(b, &j, err);
}

/* ==== the run ==== */

struct run {
    struct ckpt_qsrc *src;
    const struct ckpt_quant_opts *o;
    struct ckpt_qplan_tensor *pt;
    struct ckpt_qplan_choice *pc;
    size_t *order;
    const float **imat;     /* per source tensor */
    ckpt_type *rows_type;   /* per source tensor: the type the sink takes its rows in */
    struct ckpt_qsink *sink;
    size_t k;               /* declaration index of the tensor being streamed */
    ckpt_behind *out;       /* hands the rows to the sink */
    ckpt_pool *pool;
    struct slot *slots;
    float *f;
    uint8_t *q[2];          /* encoded chunks: one being filled, one being written */
    int next_q;             /* the one to fill next */
    uint64_t done, total;   /* elements, for progress */
};

static void say(const struct ckpt_quant_opts *o, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void say(const struct ckpt_quant_opts *o, int level, const char *fmt, ...)
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

static uint64_t n_rows_of(const struct ckpt_qsrc_tensor *t)
{
    return (uint64_t)t->ne[1] * (uint64_t)t->ne[2] * (uint64_t)t->ne[3];
}

/* ggml_n_dims: trailing dims of size 1 are not written, at least 1. */
static uint32_t n_dims_of(const int64_t ne[4])
{
    for (uint32_t i = 3; i >= 1; i--)
        if (ne[i] != 1)
            return i + 1;
    return 1;
}

/* Every tensor to the sink, in output order; then begin. */
static ckpt_status declare(struct run *r, uint64_t *planned, ckpt_err *err)
{
    ckpt_status st;
    for (size_t k = 0; k < r->src->n_tensors; k++) {
        const size_t i = r->order[k];
        const struct ckpt_qsrc_tensor *t = &r->src->tensors[i];
        const struct ckpt_qsink_tensor d = {t->name, t->hf_name, n_dims_of(t->ne),
                                            {t->ne[0], t->ne[1], t->ne[2], t->ne[3]},
                                            r->pc[i].type, t->type, r->pc[i].matrix};
        if ((st = r->sink->ops->declare(r->sink->ctx, k, &d, &r->rows_type[i], err)) != CKPT_OK)
            return st;
        if (!ckpt_quant_supported(r->rows_type[i]))
            return ckpt_err_set(err, CKPT_E_UNSUPPORTED, "tensor '%s': cannot write type %s",
                                t->name, ckpt_type_name(r->rows_type[i]));
    }
    return r->sink->ops->begin(r->sink->ctx, planned, err);
}

/* Whether tensor i goes to the sink as stored (else its rows are encoded). */
static bool copied(const struct run *r, size_t i)
{
    return r->rows_type[i] == r->src->tensors[i].type && r->src->ops->raw(r->src->ctx, i);
}

static void progress(struct run *r, const char *name, uint64_t add)
{
    r->done += add;
    if (r->o->progress)
        r->o->progress(r->o->cb_ctx, name, r->done, r->total, CKPT_PROGRESS_WEIGHTS);
}

/* A tensor whose type does not change: its stored bytes, in pieces. */
static ckpt_status copy_tensor(struct run *r, size_t i, ckpt_err *err)
{
    const struct ckpt_qsrc_tensor *t = &r->src->tensors[i];
    const uint8_t *p = r->src->ops->raw(r->src->ctx, i);
    size_t rb;
    if (!ckpt_type_row_bytes(t->type, t->ne[0], &rb))
        return ckpt_err_set(err, CKPT_E_INTERNAL, "tensor '%s': bad row size", t->name);
    const int64_t rows = (int64_t)n_rows_of(t);
    const int64_t per = rb >= COPY_BYTES || rb == 0 ? 1 : (int64_t)(COPY_BYTES / rb);
    for (int64_t row = 0; row < rows; row += per) {
        int64_t n = rows - row < per ? rows - row : per;
        ckpt_status st =
            behind_write(r->out, r->k, row, n, p + (size_t)row * rb, (size_t)n * rb, err);
        if (st == CKPT_OK)
            st = ckpt_behind_wait(r->out, err); /* before the pages are released */
        if (st != CKPT_OK)
            return st;
        r->src->ops->release(r->src->ctx, i, row, n);
        progress(r, t->name, (uint64_t)(n * t->ne[0]));
    }
    return CKPT_OK;
}

/* A tensor re-encoded: chunks of rows through the pool. */
static ckpt_status convert_tensor(struct run *r, size_t i, ckpt_err *err)
{
    const struct ckpt_qsrc_tensor *t = &r->src->tensors[i];
    const ckpt_type type = r->rows_type[i];
    size_t out_rb;
    if (!ckpt_type_row_bytes(type, t->ne[0], &out_rb))
        return ckpt_err_set(err, CKPT_E_INTERNAL, "tensor '%s': bad row size", t->name);
    const int64_t rows = (int64_t)n_rows_of(t);
    const int64_t per = t->ne[0] >= CHUNK_FLOATS || t->ne[0] == 0 ? 1 : CHUNK_FLOATS / t->ne[0];
    const int nth = ckpt_pool_size(r->pool);
    const ckpt_isa isa = r->o->ref_kernels ? CKPT_ISA_REF : ckpt_isa_default();
    struct chunk c = {r->src, i, t, type, isa, r->imat[i], 0, r->f, NULL, out_rb, r->slots};
    for (int64_t row = 0; row < rows; row += per) {
        const int64_t n = rows - row < per ? rows - row : per;
        c.row0 = row;
        c.q = r->q[r->next_q]; /* the other one may still be being written */
        r->next_q ^= 1;
        for (int k = 0; k < nth; k++) {
            r->slots[k].bad_row = -1;
            ckpt_err_clear(&r->slots[k].err);
        }
        ckpt_pool_run(r->pool, work, &c, n);
        /* the first failing row wins, whatever the thread count */
        const struct slot *bad = NULL;
        for (int k = 0; k < nth; k++)
            if (r->slots[k].bad_row >= 0 && (!bad || r->slots[k].bad_row < bad->bad_row))
                bad = &r->slots[k];
        if (bad)
            return ckpt_err_set(err, bad->err.code ? bad->err.code : CKPT_E_INTERNAL, "%s",
                                bad->err.msg);
        ckpt_status st = behind_write(r->out, r->k, row, n, c.q, (size_t)n * out_rb, err);
        if (st != CKPT_OK)
            return st;
        r->src->ops->release(r->src->ctx, i, row, n);
        progress(r, t->name, (uint64_t)(n * t->ne[0]));
    }
    return CKPT_OK;
}

/* Everything that can be refused is refused here, before any output exists. */
static ckpt_status prepare(struct run *r, struct ckpt_quant_report *rep, ckpt_err *err)
{
    struct ckpt_qsrc *src = r->src;
    const struct ckpt_quant_opts *o = r->o;
    const size_t n = src->n_tensors;
    for (size_t i = 0; i < n; i++) {
        const struct ckpt_qsrc_tensor *t = &src->tensors[i];
        r->pt[i] = (struct ckpt_qplan_tensor){t->name, {t->ne[0], t->ne[1], t->ne[2], t->ne[3]},
                                              t->type};
    }
    struct ckpt_qplan_opts po = {o->mix, o->pure,
                                 o->imatrix && ckpt_imatrix_n_entries(o->imatrix) > 0,
                                 o->output_type, o->token_embd_type, o->tensor_types,
                                 o->leave_output};
    ckpt_status st = ckpt_qplan_make(&src->model, &po, r->pt, n, r->order, r->pc, err);
    if (st != CKPT_OK)
        return st;
    const char *requant = NULL;
    for (size_t k = 0; k < n; k++) {
        const size_t i = r->order[k];
        const struct ckpt_qsrc_tensor *t = &src->tensors[i];
        const struct ckpt_qplan_choice *c = &r->pc[i];
        struct ckpt_quant_tensor *q = &rep->t[k];
        *q = (struct ckpt_quant_tensor){t->name, n_dims_of(t->ne), {t->ne[0], t->ne[1], t->ne[2],
                                        t->ne[3]}, t->type, c->type, c->wanted, c->convert,
                                        false, 0};
        size_t rb;
        if (!ckpt_type_row_bytes(c->type, t->ne[0], &rb))
            return ckpt_err_set(err, CKPT_E_INTERNAL, "tensor '%s': no row size for %s", t->name,
                                ckpt_type_name(c->type));
        q->bytes = rb * n_rows_of(t);
        rep->bytes_out += q->bytes;
        rep->params += (uint64_t)t->ne[0] * n_rows_of(t);
        rep->n_fallback += c->matrix && c->type != c->wanted;
        if (!c->convert && src->ops->raw(src->ctx, i))
            continue;
        if (!ckpt_quant_supported(t->type))
            return ckpt_err_set(err, CKPT_E_UNSUPPORTED, "%s: tensor '%s': cannot read type %s",
                                src->name, t->name, ckpt_type_name(t->type));
        if (!ckpt_quant_supported(c->type))
            return ckpt_err_set(err, CKPT_E_UNSUPPORTED, "tensor '%s': cannot write type %s",
                                t->name, ckpt_type_name(c->type));
        if (ckpt_type_traits(t->type)->is_quantized && c->convert) {
            if (o->refuse_requantize)
                return ckpt_err_set(err, CKPT_E_USAGE,
                                    "%s: tensor '%s' is already quantized (%s): requantizing "
                                    "loses precision; start from F32/F16/BF16, or allow it "
                                    "with --allow-requantize",
                                    src->name, t->name, ckpt_type_name(t->type));
            rep->n_requantized++;
            requant = ckpt_type_name(t->type);
        }
        if (c->matrix && c->convert && o->imatrix) {
            st = ckpt_imatrix_for_tensor(o->imatrix, t->name, t->ne[0], t->ne[2] * t->ne[3],
                                         &r->imat[i], err);
            if (st != CKPT_OK)
                return st;
            q->imatrix = r->imat[i] != NULL;
            if (!r->imat[i])
                say(o, 3, "%s: no importance weights, quantized without", t->name);
        }
    }
    if (requant)
        say(o, 2, "%s: %zu tensors are already quantized (%s...): requantizing them loses "
                  "precision; start from F32/F16/BF16 if you can",
            src->name, rep->n_requantized, requant);
    return CKPT_OK;
}

/* The chunk buffers, for the largest chunk any encoded tensor needs in
 * the type the sink takes it in. */
static ckpt_status buffers(struct run *r, ckpt_err *err)
{
    size_t max_floats = 0, max_out = 0;
    for (size_t i = 0; i < r->src->n_tensors; i++) {
        const struct ckpt_qsrc_tensor *t = &r->src->tensors[i];
        size_t rb;
        if (copied(r, i))
            continue;
        if (!ckpt_type_row_bytes(r->rows_type[i], t->ne[0], &rb))
            return ckpt_err_set(err, CKPT_E_INTERNAL, "tensor '%s': no row size for %s",
                                t->name, ckpt_type_name(r->rows_type[i]));
        const int64_t per = t->ne[0] >= CHUNK_FLOATS || t->ne[0] == 0 ? 1 : CHUNK_FLOATS / t->ne[0];
        const int64_t rows = (int64_t)n_rows_of(t) < per ? (int64_t)n_rows_of(t) : per;
        if ((size_t)(rows * t->ne[0]) > max_floats)
            max_floats = (size_t)(rows * t->ne[0]);
        if ((size_t)rows * rb > max_out)
            max_out = (size_t)rows * rb;
    }
    r->f = malloc(max_floats ? max_floats * sizeof *r->f : 1);
    r->q[0] = malloc(max_out ? max_out : 1);
    r->q[1] = malloc(max_out ? max_out : 1);
    if (!r->f || !r->q[0] || !r->q[1])
        return ckpt_err_set(err, CKPT_E_NOMEM, "out of memory for %zu-value chunks", max_floats);
    return CKPT_OK;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

ckpt_status ckpt_quant_run_sink(struct ckpt_qsrc *src, const struct ckpt_quant_opts *opts,
                                struct ckpt_qsink *sink, struct ckpt_quant_report *rep,
                                ckpt_err *err)
{
    const double t0 = now();
    struct ckpt_quant_report local = {0};
    if (!rep)
        rep = &local;
    memset(rep, 0, sizeof *rep);
    const size_t n = src->n_tensors;
    struct run r = {.src = src, .o = opts, .sink = sink};
    ckpt_status st = CKPT_OK;
    uint64_t im_dev, im_ino; /* the matrix stays an input to the end */
    const bool im_file = ckpt_imatrix_file(opts->imatrix, &im_dev, &im_ino);
    if (im_file)
        ckpt_out_protect_id(im_dev, im_ino);
    r.pt = calloc(n + 1, sizeof *r.pt);
    r.pc = calloc(n + 1, sizeof *r.pc);
    r.order = calloc(n + 1, sizeof *r.order);
    r.imat = calloc(n + 1, sizeof *r.imat);
    r.rows_type = calloc(n + 1, sizeof *r.rows_type);
    rep->t = calloc(n + 1, sizeof *rep->t);
    rep->n = n;
    if (!r.pt || !r.pc || !r.order || !r.imat || !r.rows_type || !rep->t) {
        st = ckpt_err_set(err, CKPT_E_NOMEM, "out of memory planning %zu tensors", n);
        goto out;
    }
    rep->bytes_in = src->data_bytes;
    if ((st = prepare(&r, rep, err)) != CKPT_OK)
        goto out;
    r.total = rep->params;
    if ((st = ckpt_pool_new(&r.pool, opts->n_threads, err)) != CKPT_OK)
        goto out;
    rep->n_threads = ckpt_pool_size(r.pool);
    if (!(r.slots = calloc((size_t)rep->n_threads, sizeof *r.slots))) {
        st = ckpt_err_set(err, CKPT_E_NOMEM, "out of memory");
        goto out;
    }
    if ((st = declare(&r, &rep->file_bytes, err)) != CKPT_OK ||
        (st = buffers(&r, err)) != CKPT_OK ||
        (st = ckpt_behind_start(&r.out, sink_rows, sink, sizeof(struct rows_job), err)) !=
            CKPT_OK)
        goto out;
    for (r.k = 0; r.k < n && st == CKPT_OK; r.k++) {
        const size_t i = r.order[r.k];
        st = copied(&r, i) ? copy_tensor(&r, i, err) : convert_tensor(&r, i, err);
        src->ops->release(src->ctx, i, 0, (int64_t)n_rows_of(&src->tensors[i]));
    }
    if (st == CKPT_OK)
        st = ckpt_behind_wait(r.out, err);
    ckpt_behind_stop(r.out);
    r.out = NULL;
    if (st == CKPT_OK) {
        st = sink->ops->finish(sink->ctx, err);
        sink = NULL;
    }
out:
    if (im_file)
        ckpt_out_unprotect_id(im_dev, im_ino);
    ckpt_behind_stop(r.out);
    if (sink)
        sink->ops->abort(sink->ctx);
    ckpt_pool_free(r.pool);
    free(r.slots);
    free(r.f);
    free(r.q[0]);
    free(r.q[1]);
    free(r.rows_type);
    free(r.imat);
    free(r.order);
    free(r.pc);
    free(r.pt);
    rep->seconds = now() - t0;
    if (st != CKPT_OK || rep == &local)
        ckpt_quant_report_free(rep);
    return st;
}

ckpt_status ckpt_quant_meta_make(struct ckpt_quant_meta *m, const struct ckpt_qsrc *src,
                                 const struct ckpt_quant_opts *o, ckpt_err *err)
{
    *m = (struct ckpt_quant_meta){{src->meta, ckpt_mix_file_type(o->mix), NULL, 0}, NULL};
    if (!(m->own = calloc(o->n_kv + 5, sizeof *m->own)))
        return ckpt_err_set(err, CKPT_E_NOMEM, "out of memory");
    size_t n = 0;
    for (size_t i = 0; i < o->n_kv; i++)
        m->own[n++] = o->kv[i];
    if (o->imatrix) { /* llama-quantize adds these after the user's overrides */
        const char *ds = ckpt_imatrix_dataset(o->imatrix);
        const size_t entries = ckpt_imatrix_n_entries(o->imatrix);
        const int32_t chunks = ckpt_imatrix_chunks(o->imatrix);
        m->own[n++] = (struct ckpt_qsink_kv){CKPT_KEY_IMATRIX_FILE, CKPT_GGUF_STRING,
                                             {.str = o->imatrix_name ? o->imatrix_name : ""}};
        if (ds)
            m->own[n++] = (struct ckpt_qsink_kv){CKPT_KEY_IMATRIX_DATASET, CKPT_GGUF_STRING,
                                                 {.str = ds}};
        m->own[n++] = (struct ckpt_qsink_kv){
            CKPT_KEY_IMATRIX_ENTRIES, CKPT_GGUF_INT32,
            {.i32 = entries > INT32_MAX ? INT32_MAX : (int32_t)entries}};
        if (chunks > 0)
            m->own[n++] = (struct ckpt_qsink_kv){CKPT_KEY_IMATRIX_CHUNKS,
                                                 CKPT_GGUF_INT32, {.i32 = chunks}};
    }
    if (o->recipe)
        m->own[n++] = (struct ckpt_qsink_kv){CKPT_KEY_SOURCE_CKPT_RECIPE, CKPT_GGUF_STRING,
                                             {.str = o->recipe}};
    m->meta.set = m->own;
    m->meta.n_set = n;
    return CKPT_OK;
}

void ckpt_quant_meta_free(struct ckpt_quant_meta *m)
{
    free(m->own);
    m->own = NULL;
}

ckpt_status ckpt_quant_run(struct ckpt_qsrc *src, const struct ckpt_quant_opts *opts,
                           struct ckpt_quant_report *rep, ckpt_err *err)
{
    struct ckpt_quant_meta m;
    struct ckpt_qsink *sink = NULL;
    struct ckpt_qsink_files files = {1, ""};
    ckpt_status st = ckpt_quant_meta_make(&m, src, opts, err);
    if (st == CKPT_OK)
        st = ckpt_qsink_open_gguf_split(&sink, opts->output, opts->force, opts->split_bytes,
                                        opts->split_tensors, &files, &m.meta, err);
    if (st == CKPT_OK)
        st = ckpt_quant_run_sink(src, opts, sink, rep, err);
    if (st == CKPT_OK && rep) {
        rep->n_files = files.n;
        memcpy(rep->first_file, files.first, sizeof files.first);
    }
    else if (rep)
        memset(rep, 0, sizeof *rep);
    ckpt_quant_meta_free(&m);
    return st;
}

/* "q2_K->iq4_nl" pairs and how often each occurs, in order of appearance. */
struct pair {
    ckpt_type from, to;
    size_t n;
};

size_t ckpt_quant_report_fallbacks(const struct ckpt_quant_report *rep, char *buf, size_t n)
{
    struct pair pairs[16];
    size_t np = 0, count = 0;
    int64_t block = 0; /* the block the rows missed, if all share one; else -1 */
    if (n)
        buf[0] = '\0';
    for (size_t i = 0; i < rep->n; i++) {
        const struct ckpt_quant_tensor *t = &rep->t[i];
        if (t->type == t->wanted) /* only a matrix's plan has a wanted type of its own */
            continue;
        count++;
        const int64_t b = ckpt_type_traits(t->wanted)->block_elems;
        block = block == 0 || block == b ? b : -1;
        size_t j = 0;
        while (j < np && !(pairs[j].from == t->wanted && pairs[j].to == t->type))
            j++;
        if (j == np && np < sizeof pairs / sizeof pairs[0])
            pairs[np++] = (struct pair){t->wanted, t->type, 0};
        if (j < np)
            pairs[j].n++;
    }
    if (!count)
        return 0;
    char why[48] = "the block size";
    if (block > 0)
        snprintf(why, sizeof why, "%lld", (long long)block);
    size_t k = (size_t)snprintf(buf, n, "%zu tensor%s fell back to another type (rows not a "
                                "multiple of %s):", count, count == 1 ? "" : "s", why);
    for (size_t j = 0; j < np; j++)
        k += (size_t)snprintf(buf + (k < n ? k : n), k < n ? n - k : 0, "%s %zu %s->%s",
                              j ? "," : "", pairs[j].n, ckpt_type_name(pairs[j].from),
                              ckpt_type_name(pairs[j].to));
    return count;
}

void ckpt_quant_report_free(struct ckpt_quant_report *rep)
{
    if (!rep)
        return;
    free(rep->t);
    rep->t = NULL;
    rep->n = 0;
}
