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
#include "../kernels/pool.h"
#include "metadata.h"
#include "plan.h"
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
    char path[4096];
    ckpt_status s = ckpt_source_open(&src, o->input, err);
    if (s == CKPT_OK)
        s = ckpt_plan_build(&plan, src, o->type, err);
    if (s != CKPT_OK)
        goto out;
    if (o->output)
        snprintf(path, sizeof path, "%s", o->output);
    else
        ckpt_convert_default_name(path, sizeof path, src->name, plan->out_type);
    struct ckpt_meta_opts mo = {plan->file_type, o->provenance, false};
    s = ckpt_gguf_writer_new(&w, path, o->force, err);
    if (s == CKPT_OK)
        s = ckpt_meta_add(w, src, plan, &mo, err);
    for (size_t i = 0; s == CKPT_OK && i < plan->n; i++)
        s = ckpt_gguf_writer_add_tensor(w, plan->t[i].name, plan->t[i].type, plan->t[i].n_dims,
                                        plan->t[i].ne, err);
    if (s == CKPT_OK)
        s = ckpt_pool_new(&pool, o->n_threads, err);
    if (s != CKPT_OK)
        goto out;
    for (size_t sh = 0; sh < ckpt_hf_n_shards(src->hf); sh++)
        ckpt_map_advise_sequential(ckpt_st_map(ckpt_hf_shard(src->hf, sh)));
    uint64_t size = ckpt_gguf_writer_planned_size(w);
    s = ckpt_gguf_writer_begin(w, err);
    if (s == CKPT_OK)
        s = ckpt_stream_write(w, plan, pool, o->allow_nonfinite, o->progress, o->progress_ctx,
                              err);
    if (s == CKPT_OK) {
        s = ckpt_gguf_writer_finish(w, err);
        w = NULL;
    }
    if (s == CKPT_OK && res) {
        memset(res, 0, sizeof *res);
        snprintf(res->output, sizeof res->output, "%s", path);
        snprintf(res->model, sizeof res->model, "%s", src->name);
        res->type = plan->out_type;
        res->file_type = plan->file_type;
        res->n_tensors = plan->n;
        res->file_bytes = size;
        res->source_bytes = plan->source_bytes;
        res->n_threads = ckpt_pool_size(pool);
        res->seconds = now() - t0;
    }
out:
    ckpt_gguf_writer_free(w);
    ckpt_pool_free(pool);
    ckpt_plan_free(plan);
    ckpt_source_close(src);
    return s;
}
