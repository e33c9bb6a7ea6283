/*
 * convert.c - ckpt_convert_run (see convert.h): open, plan, describe the
 * file (keys and tensor table), then stream the data through the pool.
 */
#include "convert.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "../formats/gguf.h"
#include "../formats/mapfile.h"
#include "../formats/outfile.h"
#include "../kernels/pool.h"
#include "metadata.h"
#include "plan.h"
#include "recipe.h"
#include "source.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

void ckpt_convert_default_name(char *buf, size_t size, const char *model, ckpt_type type)
{
    snprintf(buf, size, "%s-%s.gguf", model, ckpt_type_name(type));
}

ckpt_status ckpt_convert_run(const struct ckpt_convert_opts *o, struct ckpt_convert_result *res,
                             ckpt_err *err)
{
    double t0 = now();
    struct ckpt_source *src = NULL;
    struct ckpt_plan *plan = NULL;
    ckpt_gguf_writer *w = NULL;
    ckpt_pool *pool = NULL;
    struct ckpt_convert_inputs *inputs = NULL;
    char path[4096];
    ckpt_status s = ckpt_source_open(&src, o->input, err);
    if (s == CKPT_OK)
        s = ckpt_plan_build(&plan, src, o->type, err);
    if (s != CKPT_OK)
        goto out;
    if (o->output)
        snprintf(path, sizeof path, "%s", o->output);
    else if (o->vocab_only)
        snprintf(path, sizeof path, "%s-vocab.gguf", src->name);
    else
        ckpt_convert_default_name(path, sizeof path, src->name, plan->out_type);
    /* The recipe's digests are hashed beside the conversion and restated
     * in the header once known, when the header can still be patched then:
     * a single file written through a temporary (not stdout, a FIFO, a
     * device or a digest; not a split set, whose first part is sealed
     * before the last is written). */
    const bool defer = !o->dry_run && !o->digest && !o->split_bytes && !o->split_tensors &&
                       !ckpt_out_path_is_stream(path);
    if (o->provenance && (s = ckpt_convert_inputs_list(&inputs, src, o->n_threads, err)) ==
                             CKPT_OK && !defer)
        s = ckpt_convert_inputs_hash(inputs, false, err);
    if (s != CKPT_OK)
        goto out;
    struct ckpt_meta_opts mo = {plan->file_type, o->provenance,      o->vocab_only,
                                plan->out_type,  o->allow_nonfinite, inputs,
                                o->split_bytes,  o->split_tensors};
    const size_t n_tensors = o->vocab_only ? 0 : plan->n;
    s = o->digest ? ckpt_gguf_writer_new_digest(&w, path, o->digest, err)
                  : ckpt_gguf_writer_new(&w, path, o->force, err);
    if (s == CKPT_OK)
        s = ckpt_gguf_writer_set_split(w, o->split_bytes, o->split_tensors, err);
    if (s == CKPT_OK)
        s = ckpt_meta_add(w, src, plan, &mo, err);
    for (size_t i = 0; s == CKPT_OK && i < n_tensors; i++) {
        const struct ckpt_plan_tensor *t = &plan->t[i];
        s = ckpt_gguf_writer_add_tensor(w, t->name, t->type, t->n_dims, t->ne, err);
        size_t row = 0; /* the writer accepted the shape, so the row size is defined */
        if (s == CKPT_OK && o->on_tensor && ckpt_type_row_bytes(t->type, t->ne[0], &row))
            o->on_tensor(o->progress_ctx, t->name, t->type, t->n_dims, t->ne,
                         (uint64_t)row * (uint64_t)(t->ne[1] * t->ne[2] * t->ne[3]));
    }
    if (s == CKPT_OK && !o->dry_run)
        s = ckpt_pool_new(&pool, o->n_threads, err);
    if (s != CKPT_OK)
        goto out;
    uint64_t size = ckpt_gguf_writer_planned_size(w);
    const size_t n_files = ckpt_gguf_writer_n_parts(w);
    char first[sizeof path];
    if (n_files > 1 && !ckpt_gguf_split_path(first, sizeof first, path, 0, (unsigned)n_files)) {
        s = ckpt_err_set(err, CKPT_E_USAGE, "%s: name too long for a split set", path);
        goto out;
    }
    if (!o->dry_run) {
        for (size_t sh = 0; sh < ckpt_hf_n_shards(src->hf); sh++)
            ckpt_map_advise_sequential(ckpt_st_map(ckpt_hf_shard(src->hf, sh)));
        s = ckpt_gguf_writer_begin(w, err);
        if (s == CKPT_OK && inputs && defer)
            s = ckpt_convert_inputs_hash(inputs, true, err);
        if (s == CKPT_OK && n_tensors)
            s = ckpt_stream_write(w, plan, pool, o->allow_nonfinite, o->progress,
                                      o->progress_ctx, err);
        if (s == CKPT_OK && inputs && defer)
            s = ckpt_meta_restate_recipe(w, src, &mo, err);
        if (s == CKPT_OK) {
            s = ckpt_gguf_writer_finish(w, err);
            w = NULL;
        }
    }
    if (s == CKPT_OK && res) {
        memset(res, 0, sizeof *res);
        snprintf(res->output, sizeof res->output, "%s", n_files > 1 ? first : path);
        snprintf(res->model, sizeof res->model, "%s", src->name);
        res->n_files = n_files;
        res->type = plan->out_type;
        res->file_type = plan->file_type;
        res->n_tensors = n_tensors;
        res->file_bytes = size;
        res->source_bytes = n_tensors ? plan->source_bytes : 0;
        res->n_threads = pool ? ckpt_pool_size(pool) : 0;
        res->seconds = now() - t0;
        res->n_dropped = plan->n_dropped;
        res->dropped = plan->dropped;
    }
out:
    ckpt_gguf_writer_free(w);
    ckpt_convert_inputs_free(inputs);
    ckpt_pool_free(pool);
    ckpt_plan_free(plan);
    ckpt_source_close(src);
    return s;
}
