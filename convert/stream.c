/*
 * stream.c - the threaded row conversion and sequential writing of a plan's
 * tensor data (see stream.h).
 */
#include "stream.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../formats/le.h"
#include "../kernels/behind.h"
#include "../kernels/dispatch.h"
#include "../kernels/fp16.h"
#include "../kernels/permute.h"

#define CHUNK_BYTES (8u << 20) /* output bytes converted per pool run */
#define SCAN 64                 /* values per branch-free step of the checks below */

/* The first value of a thread's rows that is not finite (unless allowed)
 * or does not fit the output type. */
struct bad {
    int64_t row, col;
    float value;
    bool nonfinite;
    ckpt_status io; /* a failed read of the source rows (err), else CKPT_OK */
    ckpt_err err;
};

struct job {
    const struct ckpt_plan *plan;
    const struct ckpt_plan_tensor *t;
    int64_t row0;      /* first row of the chunk */
    size_t row_bytes;  /* output bytes per row */
    uint8_t *out;      /* chunk buffer */
    float *scratch;    /* cols floats per thread */
    int64_t cols;
    struct bad *bad;   /* per thread */
    bool check_finite; /* NaN and ±Inf are errors */
    /* with stage: the pool's items are row groups of `group` rows, each
     * thread reads its groups' source rows into stage by pread (plan.h:
     * ckpt_plan_src_span), source row stage_row0 at stage[0] */
    uint8_t *stage;
    int64_t group, stage_row0;
    size_t src_rb;
};

/*
 * Whether some value of a row may have all exponent bits set (NaN, ±Inf):
 * false proves that none has, so the exact per-value loops below run only
 * on rows that have one.  Exponent bits e all set iff (v & e) + low bit of
 * e carries into the bit above e, so a row is an OR of sums, in steps of
 * SCAN values without a branch (loops the compiler turns into vector code;
 * one test per value was a fifth of a conversion's time).
 */
static bool maybe_all_ones16(const uint8_t *p, int64_t n, uint16_t e)
{
    const uint32_t low = e & (uint32_t)-(int32_t)e; /* lowest bit of e */
    uint32_t hit = 0;
    int64_t i = 0;
    for (; i + SCAN <= n; i += SCAN)
        for (int k = 0; k < SCAN; k++)
            hit |= (le16dec(p + 2 * (i + k)) & e) + low;
    for (; i < n; i++)
        hit |= (le16dec(p + 2 * i) & e) + low;
    return hit & 0x8000u;
}

/* The same for f32 values (their bytes, p need not be aligned). */
static bool maybe_nonfinite32(const void *p, int64_t n)
{
    const uint8_t *b = p;
    uint32_t hit = 0;
    int64_t i = 0;
    for (; i + SCAN <= n; i += SCAN)
        for (int k = 0; k < SCAN; k++)
            hit |= (le32dec(b + 4 * (i + k)) & 0x7f800000u) + 0x00800000u;
    for (; i < n; i++)
        hit |= (le32dec(b + 4 * i) & 0x7f800000u) + 0x00800000u;
    return hit & 0x80000000u;
}

/* Convert one row of f32 values to f16 or bf16 (the narrowing kernels of
 * dispatch.h: the same bytes in every ISA); returns the first column that
 * overflows, or -1. */
static int64_t narrow(ckpt_type type, const float *x, uint8_t *out, int64_t n)
{
    const struct ckpt_kernels *k = ckpt_kernels_get();
    const uint16_t inf = type == CKPT_TYPE_F16 ? 0x7c00 : 0x7f80;
    (type == CKPT_TYPE_F16 ? k->f32_to_f16 : k->f32_to_bf16)(x, out, n);
    if (!maybe_all_ones16(out, n, inf))
        return -1;
    for (int64_t i = 0; i < n; i++)
        if ((le16dec(out + 2 * i) & 0x7fff) == inf && !isinf(x[i]))
            return i;
    return -1;
}

/* First column of a row of f32/f16 bytes that is NaN or ±Inf, or -1 (the
 * exponent bits all ones, read from the bytes: no value is widened). */
static int64_t first_nonfinite_raw(ckpt_type type, const uint8_t *p, int64_t n, float *value)
{
    if (type == CKPT_TYPE_F32 ? !maybe_nonfinite32(p, n) : !maybe_all_ones16(p, n, 0x7c00))
        return -1;
    for (int64_t i = 0; i < n; i++) {
        if (type == CKPT_TYPE_F32) {
            uint32_t u = le32dec(p + 4 * i);
            if ((u & 0x7f800000u) == 0x7f800000u) {
                *value = ckpt_f32_from_bits(u);
                return i;
            }
        } else {
            uint16_t h = le16dec(p + 2 * i);
            if ((h & 0x7c00) == 0x7c00) {
                *value = ckpt_f16_to_f32(h);
                return i;
            }
        }
    }
    return -1;
}

static int64_t first_nonfinite(const float *x, int64_t n)
{
    if (!maybe_nonfinite32(x, n))
        return -1;
    for (int64_t i = 0; i < n; i++)
        if (!isfinite(x[i]))
            return i;
    return -1;
}

/* Read the source rows behind chunk rows [begin, end) (whole groups) into
 * the stage; false (the error in j->bad[thread]) if the read fails. */
static bool stage_rows(struct job *j, int64_t begin, int64_t end, int thread)
{
    size_t off, len;
    int64_t sr0;
    const ckpt_map *m = ckpt_plan_src_span(j->t, j->row0 + begin, j->row0 + end, &off, &len, &sr0);
    struct bad *b = &j->bad[thread];
    ckpt_err_clear(&b->err);
    b->io = ckpt_map_read(m, off, j->stage + (size_t)(sr0 - j->stage_row0) * j->src_rb, len,
                          &b->err);
    if (b->io == CKPT_OK)
        return true;
    b->row = j->row0 + begin;
    return false;
}

static void convert_rows(void *ctx, int64_t begin, int64_t end, int thread)
{
    struct job *j = ctx;
    const bool f32 = j->t->type == CKPT_TYPE_F32;
    if (begin >= end)
        return;
    if (j->stage) { /* items are groups */
        begin *= j->group, end *= j->group;
        if (!stage_rows(j, begin, end, thread))
            return;
    }
    const bool copies = ckpt_plan_copies_rows(j->t);
    for (int64_t r = begin; r < end; r++) {
        int64_t row = j->row0 + r;
        uint8_t *out = j->out + (size_t)r * j->row_bytes;
        const uint8_t *src = j->stage ? j->stage + (size_t)(ckpt_plan_src_row(j->t, row) -
                                                            j->stage_row0) * j->src_rb
                                      : NULL;
        const uint8_t *raw = !j->stage ? ckpt_plan_row_bytes(j->t, row) : copies ? src : NULL;
        int64_t c;
        float v;
        if (raw) {
            memcpy(out, raw, j->row_bytes);
            /* finite bf16 values are their own rounding; a row with a NaN
             * or ±Inf (exponent all ones) is narrowed below instead, which
             * quiets a NaN as the converter does, or refuses it */
            if (j->t->type == CKPT_TYPE_BF16) {
                if (!maybe_all_ones16(out, j->cols, 0x7f80))
                    continue;
            } else {
                if (j->check_finite &&
                    (c = first_nonfinite_raw(j->t->type, out, j->cols, &v)) >= 0) {
                    j->bad[thread] =
                        (struct bad){.row = row, .col = c, .value = v, .nonfinite = true};
                    return;
                }
                continue;
            }
        }
        /* f32 rows are read straight into the output (the buffer is
         * malloc'd and rows are whole floats, so they are aligned) */
        float *x = f32 ? (float *)(void *)out : j->scratch + (size_t)thread * (size_t)j->cols;
        if (src)
            ckpt_plan_widen_row(j->t, src, x);
        else
            ckpt_plan_read_f32(j->plan, j->t, row, x);
        if (j->check_finite && (c = first_nonfinite(x, j->cols)) >= 0) {
            j->bad[thread] = (struct bad){.row = row, .col = c, .value = x[c], .nonfinite = true};
            return;
        }
        c = f32 ? -1 : narrow(j->t->type, x, out, j->cols);
        if (c >= 0) {
            j->bad[thread] = (struct bad){.row = row, .col = c, .value = x[c]};
            return;
        }
    }
}

static ckpt_status overflow_error(const struct ckpt_plan_tensor *t, const struct bad *b,
                                  ckpt_err *err)
{
    int64_t e = b->row / t->src_rows, r = b->row % t->src_rows;
    if (t->permute_heads && t->src_rows > 1)
        r = ckpt_qk_hf_row(r, t->src_rows, t->permute_heads);
    if (b->nonfinite)
        return ckpt_err_set(err, CKPT_E_VALUE,
                            "%s: tensor '%s': value %g at row %lld, column %lld is not finite "
                            "(tensor '%s' of the output); --allow-nonfinite converts it anyway",
                            ckpt_st_path(t->src[e].shard), t->src[e].t->name, (double)b->value,
                            (long long)r, (long long)b->col, t->name);
    return ckpt_err_set(err, CKPT_E_VALUE,
                        "%s: tensor '%s': value %g at row %lld, column %lld does not fit %s "
                        "(tensor '%s' of the output); convert to bf16 or f32 instead",
                        ckpt_st_path(t->src[e].shard), t->src[e].t->name, (double)b->value,
                        (long long)r, (long long)b->col, ckpt_type_name(t->type), t->name);
}

/* A converted chunk, written by the writer thread (kernels/behind.h) while
 * the pool converts the next one into the other buffer. */
struct chunk {
    ckpt_gguf_writer *w; /* touched by that thread alone until it stops */
    const uint8_t *p;
    size_t n;
};

static ckpt_status write_chunk(void *ctx, const void *job, ckpt_err *err)
{
    const struct chunk *c = job;
    (void)ctx;
    return ckpt_gguf_writer_write(c->w, c->p, c->n, err);
}

/* Rows per chunk: about CHUNK_BYTES, whole row groups, at least one group. */
static int64_t chunk_rows(const struct ckpt_plan_tensor *t, size_t row_bytes)
{
    int64_t g = ckpt_plan_row_group(t);
    int64_t n = (int64_t)(CHUNK_BYTES / (row_bytes ? row_bytes : 1)) / g * g;
    return n > g ? n : g;
}

ckpt_status ckpt_stream_write(ckpt_gguf_writer *w, const struct ckpt_plan *plan, ckpt_pool *pool,
                              bool allow_nonfinite, ckpt_progress_fn progress,
                              void *progress_ctx, ckpt_err *err)
{
    size_t buf_bytes = 0, stage_bytes = 0;
    int64_t max_cols = 1;
    for (size_t i = 0; i < plan->n; i++) {
        const struct ckpt_plan_tensor *t = &plan->t[i];
        size_t rb;
        if ((t->type != CKPT_TYPE_F32 && t->type != CKPT_TYPE_F16 &&
             t->type != CKPT_TYPE_BF16) ||
            !ckpt_type_row_bytes(t->type, t->ne[0], &rb))
            return ckpt_err_set(err, CKPT_E_UNSUPPORTED, "tensor '%s': type %s is not written here",
                                t->name, ckpt_type_name(t->type));
        int64_t n = chunk_rows(t, rb);
        if (n > ckpt_plan_rows(t))
            n = ckpt_plan_rows(t);
        if ((size_t)n * rb > buf_bytes)
            buf_bytes = (size_t)n * rb;
        if ((size_t)n * ckpt_plan_src_row_bytes(t) > stage_bytes)
            stage_bytes = (size_t)n * ckpt_plan_src_row_bytes(t);
        if (t->cols > max_cols)
            max_cols = t->cols;
    }
    int nth = ckpt_pool_size(pool);
    /* two chunk buffers: one being converted, one being written */
    uint8_t *bufs[2] = {malloc(buf_bytes ? buf_bytes : 1), malloc(buf_bytes ? buf_bytes : 1)};
    float *scratch = malloc((size_t)nth * (size_t)max_cols * sizeof *scratch);
    struct bad *bad = malloc((size_t)nth * sizeof *bad);
    /* the source rows of a chunk, read rather than touched through the
     * mapping (plan.h, ckpt_plan_src_span) */
    uint8_t *stage = malloc(stage_bytes ? stage_bytes : 1);
    ckpt_behind *q = NULL;
    ckpt_status s = !bufs[0] || !bufs[1] || !scratch || !bad || !stage
                        ? ckpt_err_set(err, CKPT_E_NOMEM, "out of memory (%zu bytes of buffers)",
                                       2 * buf_bytes)
                        : ckpt_behind_start(&q, write_chunk, NULL, sizeof(struct chunk), err);
    if (s != CKPT_OK) {
        free(bufs[0]);
        free(bufs[1]);
        free(scratch);
        free(bad);
        free(stage);
        return s;
    }
    uint64_t done = 0, pending = 0; /* bytes written; bytes of the chunk handed over */
    int cur = 0;
    for (size_t i = 0; i < plan->n && s == CKPT_OK; i++) {
        const struct ckpt_plan_tensor *t = &plan->t[i];
        size_t rb;
        ckpt_type_row_bytes(t->type, t->ne[0], &rb);
        int64_t rows = ckpt_plan_rows(t), per = chunk_rows(t, rb);
        struct job j = {plan, t, 0, rb, NULL, scratch, t->cols, bad, !allow_nonfinite,
                        NULL, ckpt_plan_row_group(t), 0, ckpt_plan_src_row_bytes(t)};
        for (int64_t r0 = 0; r0 < rows && s == CKPT_OK;) {
            /* never across two stacked experts: one source tensor per chunk */
            int64_t src_end = (r0 / t->src_rows + 1) * t->src_rows;
            int64_t r1 = r0 + per < src_end ? r0 + per : src_end;
            if (r1 > rows)
                r1 = rows;
            if (r1 < rows)
                ckpt_plan_prefetch(t, r1, r1 + per < rows ? r1 + per : rows);
            for (int k = 0; k < nth; k++)
                bad[k].row = -1, bad[k].io = CKPT_OK;
            j.row0 = r0;
            j.out = bufs[cur];
            size_t off, len;
            j.stage = ckpt_plan_src_span(t, r0, r1, &off, &len, &j.stage_row0) ? stage : NULL;
            ckpt_pool_run(pool, convert_rows, &j, j.stage ? (r1 - r0) / j.group : r1 - r0);
            ckpt_plan_release(t, r0, r1); /* the chunk buffer holds what is needed */
            const struct bad *first = NULL;
            for (int k = 0; k < nth; k++)
                if (bad[k].row >= 0 && (!first || bad[k].row < first->row))
                    first = &bad[k];
            /* the previous chunk's fate first: it came before this one */
            if ((s = ckpt_behind_wait(q, err)) != CKPT_OK)
                break;
            done += pending;
            if (pending && progress)
                progress(progress_ctx, "converting", done, plan->data_bytes, CKPT_PROGRESS_BYTES);
            pending = 0;
            if (first && first->io != CKPT_OK) {
                s = first->io;
                if (err)
                    *err = first->err;
                break;
            }
            if (first) {
                s = overflow_error(t, first, err);
                break;
            }
            pending = (uint64_t)(r1 - r0) * rb;
            const struct chunk c = {w, bufs[cur], (size_t)pending};
            if ((s = ckpt_behind_put(q, &c, err)) != CKPT_OK)
                break;
            cur ^= 1;
            r0 = r1;
        }
        for (uint32_t e = 0; e < t->n_src; e++) /* pages at chunk edges */
            ckpt_plan_release(t, (int64_t)e * t->src_rows, (int64_t)(e + 1) * t->src_rows);
    }
    ckpt_status ws = ckpt_behind_wait(q, s == CKPT_OK ? err : NULL);
    if (s == CKPT_OK && (s = ws) == CKPT_OK && pending && progress)
        progress(progress_ctx, "converting", done + pending, plan->data_bytes,
                 CKPT_PROGRESS_BYTES);
    ckpt_behind_stop(q);
    free(bufs[0]);
    free(bufs[1]);
    free(scratch);
    free(bad);
    free(stage);
    return s;
}
