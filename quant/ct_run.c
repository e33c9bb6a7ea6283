/*
 * ct_run.c - ckpt-quant's compressed-tensors runs (see ct_run.h).
 */
#define _XOPEN_SOURCE 700 /* realpath */
#include "ct_run.h"

#include "../formats/path.h"
#include "optimize.h"
#include "report_json.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

ckpt_status ckpt_ct_quant_run(struct ckpt_qsrc *src, const struct ckpt_quant_opts *opts,
                              struct ckpt_ct_sink_opts *ct, const char *in, bool model_dir,
                              const struct ckpt_calib_opts *gptq,
                              struct ckpt_quant_report *rep, ckpt_err *err)
{
    struct ckpt_quant_meta m;
    struct ckpt_qsink *sink = NULL;
    char *dir = NULL;
    ckpt_gptq *g = NULL;
    int32_t *ids = NULL;
    ckpt_status st = ckpt_quant_meta_make(&m, src, opts, err);
    if (st == CKPT_OK && gptq) {
        const int64_t ctx = gptq->n_ctx > 0 ? gptq->n_ctx : CKPT_CALIB_CTX;
        int64_t n_chunks = 0, n_ctx = 0;
        st = ckpt_opt_tokens(in, gptq->text, ctx, gptq->max_chunks > 0 ? gptq->max_chunks * ctx : INT64_MAX,
                             &ids, &n_chunks, &n_ctx, err);
        if (st == CKPT_OK)
            st = ckpt_gptq_new(&g, src, in, ids, n_chunks, n_ctx, opts->imatrix, opts->n_threads,
                               err);
        ct->gptq = g;
    }
    if (st == CKPT_OK && model_dir) /* its config and tokenizer files go along */
        ct->source_dir = ckpt_path_is_file(in) ? (dir = ckpt_path_dirname(in)) : in;
    ct->dir = opts->output;
    ct->force = opts->force;
    ct->imatrix = opts->imatrix;
    ct->n_threads = opts->n_threads;
    if (st == CKPT_OK)
        st = ckpt_qsink_open_ct(&sink, ct, &m.meta, err);
    if (st == CKPT_OK)
        st = ckpt_quant_run_sink(src, opts, sink, rep, err);
    if (st == CKPT_OK && rep) /* the driver counts the f32 rows it handed over; the files hold this */
        rep->bytes_out = rep->file_bytes;
    ckpt_quant_meta_free(&m);
    ckpt_gptq_free(g);
    ct->gptq = NULL;
    free(ids);
    free(dir);
    return st;
}

cJSON *ckpt_ct_report_json(const struct ckpt_quant_report *rep,
                           const struct ckpt_quant_opts *opts, const char *in,
                           const struct ckpt_ct_sink_opts *ct, bool gptq)
{
    cJSON *j = ckpt_quant_report_json(rep, opts, in);
    const struct ckpt_ct_scheme_info *s = ckpt_ct_scheme_at(ct->scheme);
    if (!j || !s)
        return j;
    cJSON_DeleteItemFromObjectCaseSensitive(j, "mix");
    cJSON_DeleteItemFromObjectCaseSensitive(j, "file_type");
    cJSON *c = cJSON_AddObjectToObject(j, "compressed_tensors");
    cJSON_AddStringToObject(c, "scheme", s->name);
    cJSON_AddStringToObject(c, "format", s->format);
    cJSON_AddNumberToObject(c, "bits", s->bits);
    cJSON_AddNumberToObject(c, "group_size", (double)ckpt_ct_group(s, ct->group_size));
    cJSON_AddStringToObject(c, "observer",
                            ckpt_ct_observer(ckpt_ct_scales_for(opts->imatrix != NULL,
                                                                ct->search),
                                             gptq));
    return j;
}

bool ckpt_ct_parse_size(const char *s, uint64_t *out)
{
    static const struct {
        const char *unit;
        double mult;
    } units[] = {{"GiB", 1073741824.0}, {"MiB", 1048576.0}, {"KiB", 1024.0},
                 {"GB", 1e9}, {"MB", 1e6}, {"KB", 1e3}, {"", 1.0}};
    char *end;
    const double v = strtod(s, &end);
    if (end == s || !(v > 0))
        return false;
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
        if (strcmp(end, units[i].unit) == 0 && v * units[i].mult < 1.8e19) {
            *out = (uint64_t)(v * units[i].mult);
            return *out > 0;
        }
    return false;
}

bool ckpt_ct_inside(const char *path, const char *dir)
{
    char a[PATH_MAX], b[PATH_MAX];
    if (!path || strcmp(path, "-") == 0 || !realpath(dir, b))
        return false;
    char *slash = NULL, *copy = strdup(path);
    /* a file that does not exist yet (--imatrix-out): its directory */
    const bool ok = copy && (realpath(copy, a) ||
                             ((slash = strrchr(copy, '/')) && (*slash = '\0', realpath(copy, a))));
    free(copy);
    const size_t n = strlen(b);
    return ok && strncmp(a, b, n) == 0 && (a[n] == '/' || a[n] == '\0');
}
