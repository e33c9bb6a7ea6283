/*
 * rebuild.c - replay a recipe and compare (see rebuild.h).
 */
#include "rebuild.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../arch/gguf_keys.h"
#include "../convert/convert.h"
#include "../formats/filekind.h"
#include "../formats/gguf.h"
#include "../formats/path.h"
#include "../formats/outdir.h"
#include "../formats/recipe.h"
#include "../formats/safetensors.h"
#include "../quant/calib.h"
#include "../kernels/dispatch.h"
#include "../quant/imatrix.h"
#include "../quant/optimize.h"
#include "../quant/optimize_apply.h"
#include "../quant/overrides.h"
#include "../quant/quantize.h"
#include "../quant/sink_ct.h"
#include "../quant/source.h"

#ifndef CKPT_VERSION
#define CKPT_VERSION "unknown"
#endif

static const char *str_of(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static bool true_of(const cJSON *o, const char *key)
{
    return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, key));
}

static int64_t int_of(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsNumber(v) && v->valuedouble >= 1 && v->valuedouble < 1e15
               ? (int64_t)v->valuedouble : 0;
}

/* ==== recorded inputs ==== */

/* Check one recorded input found at path (NULL: not found); the report
 * gets a line for it either way. */
static ckpt_status check_input(struct ckpt_rebuild_report *r, const cJSON *in, const char *path,
                               ckpt_err *err)
{
    struct ckpt_rebuild_input *n = realloc(r->inputs, (r->n_inputs + 1) * sizeof *n);
    if (!n)
        return ckpt_err_set(err, CKPT_E_NOMEM, "out of memory");
    r->inputs = n;
    n = &r->inputs[r->n_inputs++];
    *n = (struct ckpt_rebuild_input){strdup(str_of(in, "role")), strdup(str_of(in, "name")),
                                     path ? strdup(path) : NULL, CKPT_REBUILD_INPUT_MISSING};
    if (!n->role || !n->name || (path && !n->path))
        return ckpt_err_set(err, CKPT_E_NOMEM, "out of memory");
    uint8_t want[CKPT_SHA256_LEN], got[CKPT_SHA256_LEN];
    ckpt_err herr = {0};
    if (!path || ckpt_recipe_hash_file(path, got, &herr) != CKPT_OK)
        return CKPT_OK;
    ckpt_sha256_from_hex(str_of(in, "sha256"), want); /* checked by ckpt_recipe_parse */
    n->state = memcmp(want, got, sizeof want) ? CKPT_REBUILD_INPUT_DIFFERS : CKPT_REBUILD_INPUT_OK;
    return CKPT_OK;
}

/* The conversion's inputs, relative to the model directory. */
static ckpt_status check_source_files(struct ckpt_rebuild_report *r, const cJSON *step,
                                      const char *dir, ckpt_err *err)
{
    const cJSON *ins = cJSON_GetObjectItemCaseSensitive(step, "inputs");
    ckpt_status s = CKPT_OK;
    for (const cJSON *in = ins ? ins->child : NULL; s == CKPT_OK && in; in = in->next) {
        const char *name = str_of(in, "name");
        /* a recorded name is a file of the directory, never a path out of it */
        char *p = strchr(name, '/') || !strcmp(name, "..") ? NULL : ckpt_path_join(dir, name);
        s = check_input(r, in, p && ckpt_path_is_file(p) ? p : NULL, err);
        free(p);
    }
    return s;
}

/* Where a quantization's recorded file is: as given, else at its recorded
 * name, else by its base name in SOURCE's directory or the artifact's. */
static char *find_file(const char *given, const char *recorded, const char *source,
                       const char *artifact)
{
    if (given)
        return strdup(given);
    if (ckpt_path_is_file(recorded))
        return strdup(recorded);
    const char *base = strrchr(recorded, '/') ? strrchr(recorded, '/') + 1 : recorded;
    const char *near[] = {source, artifact};
    for (int i = 0; i < 2; i++) {
        char *d = ckpt_path_is_file(near[i]) ? ckpt_path_dirname(near[i]) : strdup(near[i]);
        char *p = d ? ckpt_path_join(d, base) : NULL;
        free(d);
        if (p && ckpt_path_is_file(p))
            return p;
        free(p);
    }
    return NULL;
}

/* ==== comparing a replayed GGUF with the artifact ==== */

static bool kv_equal(const struct ckpt_gguf_kv *a, const struct ckpt_gguf_kv *b)
{
    if (strcmp(a->key, b->key) || a->type != b->type || a->n != b->n ||
        a->elem_type != b->elem_type)
        return false;
    if (a->type == CKPT_GGUF_STRING)
        return a->v.str.len == b->v.str.len && !memcmp(a->v.str.str, b->v.str.str, a->v.str.len);
    if (a->type != CKPT_GGUF_ARRAY)
        return a->v.u64 == b->v.u64;
    if (a->elem_type == CKPT_GGUF_STRING) {
        for (uint64_t i = 0; i < a->n; i++)
            if (a->array_str[i].len != b->array_str[i].len ||
                memcmp(a->array_str[i].str, b->array_str[i].str, a->array_str[i].len))
                return false;
        return true;
    }
    for (uint64_t i = 0; i < a->n; i++) { /* numbers, compared as read */
        double x, y;
        int64_t p, q;
        if (ckpt_gguf_array_f64(a, i, &x) && ckpt_gguf_array_f64(b, i, &y) ? x != y
            : ckpt_gguf_array_i64(a, i, &p) && ckpt_gguf_array_i64(b, i, &q) && p != q)
            return false;
    }
    return true;
}

/* The first key of the artifact that the replay does not have alike; when
 * the source directories' names differ, that is the likely cause: the
 * name is part of the file (general.name, general.source.ckpt.name). */
static void first_key(const ckpt_gguf *art, const ckpt_gguf *rep, char *out, size_t n)
{
    const struct ckpt_gguf_kv *an = ckpt_gguf_find_kv(art, CKPT_KEY_SOURCE_CKPT_NAME);
    const struct ckpt_gguf_kv *rn = ckpt_gguf_find_kv(rep, CKPT_KEY_SOURCE_CKPT_NAME);
    if (an && rn && an->type == CKPT_GGUF_STRING && rn->type == CKPT_GGUF_STRING &&
        !kv_equal(an, rn)) {
        snprintf(out, n, "the source directory is named '%.100s', the artifact's was '%.100s' "
                 "(the name is part of the file: give a directory of that name)",
                 rn->v.str.str, an->v.str.str);
        return;
    }
    size_t na = ckpt_gguf_n_kv(art), nr = ckpt_gguf_n_kv(rep);
    for (size_t i = 0; i < na && i < nr; i++) {
        const struct ckpt_gguf_kv *a = ckpt_gguf_kv_at(art, i), *b = ckpt_gguf_kv_at(rep, i);
        if (strcmp(a->key, b->key)) {
            snprintf(out, n, "metadata key %zu: '%s' in the artifact, '%s' in the replay", i,
                     a->key, b->key);
            return;
        }
        if (!kv_equal(a, b)) {
            snprintf(out, n, "metadata key '%s': another value", a->key);
            return;
        }
    }
    if (na != nr)
        snprintf(out, n, "metadata: %zu keys in the artifact, %zu in the replay", na, nr);
    else
        snprintf(out, n, "the header (tensor table or alignment)");
}

/* Fill f->first for part k of the artifact g that differs from its
 * replay d: the first tensor of the part, then the first key. */
static ckpt_status locate(const ckpt_gguf *g, size_t k, const struct ckpt_gguf_digest_file *d,
                          struct ckpt_rebuild_file *f, ckpt_err *err)
{
    ckpt_gguf *meta = NULL;
    ckpt_status s = CKPT_OK;
    size_t n = 0; /* the part's tensors: the set's list holds them in part order */
    for (size_t i = 0; i < ckpt_gguf_n_tensors(g) && !f->first[0]; i++) {
        const struct ckpt_gguf_tensor *t = ckpt_gguf_tensor(g, i);
        if (t->part != k)
            continue;
        uint8_t h[CKPT_SHA256_LEN];
        if (n >= d->n_tensors) {
            n++;
            continue;
        }
        if (strcmp(t->name, d->names[n])) {
            snprintf(f->first, sizeof f->first, "tensor %zu: '%s' in the artifact, '%s' in "
                     "the replay", n, t->name, d->names[n]);
            break;
        }
        if ((s = ckpt_sha256_buf(t->data, (size_t)t->n_bytes, h, err)) != CKPT_OK)
            break;
        if (memcmp(h, d->tensor[n], sizeof h))
            snprintf(f->first, sizeof f->first, "tensor '%s' (%s): other bytes", t->name,
                     ckpt_type_name(t->type));
        n++;
    }
    if (s == CKPT_OK && !f->first[0] && n != d->n_tensors)
        snprintf(f->first, sizeof f->first, "%zu tensors in the artifact, %zu in the replay", n,
                 d->n_tensors);
    if (s == CKPT_OK && !f->first[0] &&
        (s = ckpt_gguf_open_buffer(&meta, "replay", d->meta, d->meta_size, err)) == CKPT_OK)
        first_key(ckpt_gguf_part(g, k), meta, f->first, sizeof f->first);
    ckpt_gguf_close(meta);
    return s;
}

/* One report entry per file of the artifact (a split set's parts, given
 * its first file), each against the replay's file of the same place. */
static ckpt_status compare(struct ckpt_rebuild_report *r, const char *artifact,
                           const struct ckpt_gguf_digest *dg, ckpt_err *err)
{
    ckpt_gguf *g = NULL;
    ckpt_status s = ckpt_gguf_open(&g, artifact, err);
    if (s != CKPT_OK)
        return s;
    const size_t n = ckpt_gguf_n_parts(g);
    if (!(r->files = calloc(n, sizeof *r->files))) {
        ckpt_gguf_close(g);
        return ckpt_err_set(err, CKPT_E_NOMEM, "out of memory");
    }
    r->n_files = n;
    for (size_t k = 0; s == CKPT_OK && k < n; k++) {
        struct ckpt_rebuild_file *f = &r->files[k];
        if (!(f->name = strdup(ckpt_gguf_path(ckpt_gguf_part(g, k))))) {
            s = ckpt_err_set(err, CKPT_E_NOMEM, "out of memory");
            break;
        }
        if ((s = ckpt_recipe_hash_file(f->name, f->want, err)) != CKPT_OK)
            break;
        if (dg->n_files != n) { /* nothing to compare with, file by file */
            snprintf(f->first, sizeof f->first, "the artifact is %zu file%s, the replay %zu", n,
                     n == 1 ? "" : "s", dg->n_files);
            continue;
        }
        memcpy(f->got, dg->files[k].file, sizeof f->got);
        f->same = !memcmp(f->want, f->got, sizeof f->want);
        if (!f->same)
            s = locate(g, k, &dg->files[k], f, err);
    }
    ckpt_gguf_close(g);
    return s;
}

/* ==== a compressed-tensors directory ==== */

/* The directory's first shard (malloc'd): model.safetensors when there is
 * one shard, else model-00001-of-NNNNN.safetensors; NULL if neither. */
static char *first_shard(const char *dir)
{
    char *p = ckpt_path_join(dir, "model.safetensors");
    if (!p || ckpt_path_is_file(p))
        return p;
    free(p);
    p = NULL;
    DIR *dd = opendir(dir);
    static const char pre[] = "model-00001-of-", suf[] = ".safetensors";
    for (struct dirent *e; !p && dd && (e = readdir(dd)) != NULL;) {
        size_t n = strlen(e->d_name);
        if (n > sizeof pre + sizeof suf && !strncmp(e->d_name, pre, sizeof pre - 1) &&
            !strcmp(e->d_name + n - (sizeof suf - 1), suf))
            p = ckpt_path_join(dir, e->d_name);
    }
    if (dd)
        closedir(dd);
    return p;
}

/* The recipe under CKPT_CT_RECIPE_KEY in the first shard's __metadata__
 * (*out NULL when there is none). */
static ckpt_status recipe_of_dir(cJSON **out, const char *dir, ckpt_err *err)
{
    *out = NULL;
    char *p = first_shard(dir);
    if (!p)
        return ckpt_err_set(err, CKPT_E_FORMAT, "%s: has neither model.safetensors nor "
                            "model-00001-of-N.safetensors: not a model directory", dir);
    ckpt_st *st = NULL;
    ckpt_status s = ckpt_st_open(&st, p, NULL, err);
    for (size_t i = 0; s == CKPT_OK && !*out && i < ckpt_st_n_metadata(st); i++) {
        const char *k, *v;
        ckpt_st_metadata(st, i, &k, &v);
        if (!strcmp(k, CKPT_CT_RECIPE_KEY))
            s = ckpt_recipe_parse(out, v, strlen(v), p, err);
    }
    ckpt_st_close(st);
    free(p);
    return s;
}

/* Where a differing shard differs first: the first tensor, in the replay's
 * order, that the artifact lacks or holds other bytes for; else its header. */
static ckpt_status locate_part(const struct ckpt_outdir_digest *rd,
                               struct ckpt_rebuild_file *f, ckpt_err *err)
{
    snprintf(f->first, sizeof f->first, "its bytes");
    if (!rd->n_parts)
        return CKPT_OK; /* a text file: no parts to name */
    ckpt_st *st = NULL;
    ckpt_err rerr = {0};
    if (ckpt_st_open(&st, f->name, NULL, &rerr) != CKPT_OK) {
        snprintf(f->first, sizeof f->first, "not a valid safetensors file (%.400s)", rerr.msg);
        return CKPT_OK;
    }
    ckpt_status s = CKPT_OK;
    bool found = false;
    for (size_t i = 0; s == CKPT_OK && !found && i < rd->n_parts; i++) {
        const struct ckpt_st_tensor *t = ckpt_st_find(st, rd->parts[i].name);
        uint8_t d[CKPT_SHA256_LEN];
        if (t && (s = ckpt_sha256_buf(t->data ? (const void *)t->data : "",
                                      (size_t)(t->end - t->begin), d, err)) != CKPT_OK)
            break;
        if ((found = !t || memcmp(d, rd->parts[i].sha256, sizeof d)))
            snprintf(f->first, sizeof f->first, "tensor '%s'%s", rd->parts[i].name,
                     t ? "" : " missing");
    }
    if (s == CKPT_OK && !found)
        snprintf(f->first, sizeof f->first, "its header (every tensor's data is identical)");
    ckpt_st_close(st);
    return s;
}

/* Each replayed file against the artifact's of the same name. */
static ckpt_status compare_dir(struct ckpt_rebuild_report *r, const char *artifact,
                               const struct ckpt_outdir_digests *cd, ckpt_err *err)
{
    if (!(r->files = calloc(cd->n + 1, sizeof *r->files)))
        return ckpt_err_set(err, CKPT_E_NOMEM, "out of memory");
    ckpt_status s = CKPT_OK;
    for (size_t k = 0; s == CKPT_OK && k < cd->n; k++) {
        struct ckpt_rebuild_file *f = &r->files[r->n_files];
        if (!(f->name = ckpt_path_join(artifact, cd->files[k]->name)))
            return ckpt_err_set(err, CKPT_E_NOMEM, "out of memory");
        r->n_files++;
        memcpy(f->got, cd->files[k]->sha256, sizeof f->got);
        if (!ckpt_path_is_file(f->name)) {
            snprintf(f->first, sizeof f->first, "missing from the artifact");
            continue;
        }
        if ((s = ckpt_recipe_hash_file(f->name, f->want, err)) != CKPT_OK)
            break;
        f->same = !memcmp(f->want, f->got, sizeof f->want);
        if (!f->same)
            s = locate_part(cd->files[k], f, err);
    }
    return s;
}

/* ==== replaying ==== */

/* A conversion to a type this ckpt converts to (f32, f16, bf16)? */
static bool float_type(const cJSON *step)
{
    const char *t = str_of(step, "type");
    int type = t ? ckpt_type_from_name(t) : -1;
    return type == CKPT_TYPE_F32 || type == CKPT_TYPE_F16 || type == CKPT_TYPE_BF16;
}

static ckpt_status replay_convert(const struct ckpt_rebuild_opts *o, const cJSON *step,
                                  struct ckpt_gguf_digest *d, ckpt_err *err)
{
    if (!float_type(step))
        return ckpt_err_set(err, CKPT_E_UNSUPPORTED, "%s: recipe: conversion to '%s' is not "
                            "one this ckpt replays", o->artifact, str_of(step, "type"));
    uint64_t split_bytes, split_tensors;
    ckpt_status s = ckpt_recipe_split_of(step, &split_bytes, &split_tensors, o->artifact, err);
    if (s != CKPT_OK)
        return s;
    struct ckpt_convert_opts co = {
        .input = o->source, .output = "replay", .type = ckpt_type_from_name(str_of(step, "type")),
        .n_threads = o->threads,
        .provenance = true, .allow_nonfinite = true_of(step, "allow_nonfinite"),
        .vocab_only = true_of(step, "vocab_only"), .split_bytes = split_bytes,
        .split_tensors = split_tensors, .digest = d, .progress = o->progress,
        .progress_ctx = o->progress_ctx};
    return ckpt_convert_run(&co, NULL, err);
}

/* The quantization options a step records, as ckpt-quant parsed them. */
struct qreplay {
    struct ckpt_quant_opts q;
    ckpt_qtt *tt;
    struct ckpt_quant_kvs kvs;
    ckpt_imatrix *im;
    struct ckpt_calib cal;
    char *text;                 /* the calibration text as found, for --optimize */
    struct ckpt_opt_apply opt;
    char *recipe;
};

static ckpt_status quant_options(struct qreplay *qr, const cJSON *step, ckpt_err *err)
{
    const char *mix = str_of(step, "mix"), *ot = str_of(step, "output_tensor_type"),
               *et = str_of(step, "token_embedding_type");
    /* a compressed-tensors step: the sink encodes the f32 rows it is handed */
    int m = str_of(step, "scheme") ? (int)CKPT_MIX_F32 : mix ? ckpt_mix_parse(mix) : -1;
    if (m < 0)
        return ckpt_err_set(err, CKPT_E_UNSUPPORTED, "recipe: mix '%s' is not one this ckpt "
                            "knows", mix ? mix : "");
    qr->q = (struct ckpt_quant_opts){.mix = (ckpt_mix)m, .output_type = -1,
                                     .token_embd_type = -1};
    qr->q.pure = true_of(step, "pure");
    qr->q.leave_output = true_of(step, "leave_output_tensor");
    qr->q.refuse_requantize = !true_of(step, "allow_requantize");
    if (ot && (qr->q.output_type = ckpt_type_from_name(ot)) < 0)
        return ckpt_err_set(err, CKPT_E_UNSUPPORTED, "recipe: unknown type '%s'", ot);
    if (et && (qr->q.token_embd_type = ckpt_type_from_name(et)) < 0)
        return ckpt_err_set(err, CKPT_E_UNSUPPORTED, "recipe: unknown type '%s'", et);
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(step, "tensor_types");
    ckpt_status s = CKPT_OK;
    for (const cJSON *v = cJSON_IsArray(a) ? a->child : NULL; s == CKPT_OK && v; v = v->next)
        s = cJSON_IsString(v) ? ckpt_qtt_add(&qr->tt, v->valuestring, err)
                              : ckpt_err_set(err, CKPT_E_FORMAT, "recipe: tensor_types");
    a = cJSON_GetObjectItemCaseSensitive(step, "override_kv");
    for (const cJSON *v = cJSON_IsArray(a) ? a->child : NULL; s == CKPT_OK && v; v = v->next)
        s = cJSON_IsString(v) ? ckpt_quant_kvs_add(&qr->kvs, v->valuestring, err)
                              : ckpt_err_set(err, CKPT_E_FORMAT, "recipe: override_kv");
    qr->q.tensor_types = qr->tt;
    qr->q.kv = qr->kvs.kv;
    qr->q.n_kv = qr->kvs.n;
    return s;
}

/* The importance matrix of the step: loaded, or computed from the text. */
static ckpt_status quant_imatrix(const struct ckpt_rebuild_opts *o, struct qreplay *qr,
                                 const cJSON *step, bool from_dir, struct ckpt_rebuild_report *r,
                                 ckpt_err *err)
{
    const cJSON *ins = cJSON_GetObjectItemCaseSensitive(step, "inputs");
    ckpt_status s = CKPT_OK;
    bool has_im = false; /* with --optimize, the matrix given rather than the text's */
    for (const cJSON *in = ins ? ins->child : NULL; in; in = in->next)
        has_im = has_im || !strcmp(str_of(in, "role"), "imatrix");
    for (const cJSON *in = ins ? ins->child : NULL; s == CKPT_OK && in; in = in->next) {
        const char *role = str_of(in, "role"), *name = str_of(in, "name");
        bool im = !strcmp(role, "imatrix");
        if (!im && strcmp(role, "calib"))
            continue;
        char *path = find_file(im ? o->imatrix : o->calib, name, o->source, o->artifact);
        s = check_input(r, in, path, err);
        if (s == CKPT_OK && !path)
            s = ckpt_err_set(err, CKPT_E_IO, "cannot replay: the %s %s is not found (give it "
                             "with %s FILE)", im ? "importance matrix" : "calibration text",
                             name, im ? "--imatrix" : "--calib");
        ckpt_err lerr = {0}; /* an altered matrix may no longer load: say that it differs */
        if (s == CKPT_OK && im && ckpt_imatrix_load(&qr->im, path, &lerr) != CKPT_OK)
            s = r->inputs[r->n_inputs - 1].state == CKPT_REBUILD_INPUT_DIFFERS
                    ? ckpt_err_set(err, CKPT_E_MISMATCH, "the importance matrix %s differs from "
                                   "the recorded one (and does not load: %s)", path, lerr.msg)
                    : ckpt_err_set(err, lerr.code, "%s", lerr.msg);
        /* the text ran through the quantization's input, which SOURCE must be:
         * a directory's sliding window applies, a GGUF has none */
        const char *cm = str_of(step, "calib_model");
        if (s == CKPT_OK && !im && cm && !strcmp(cm, "directory") != from_dir)
            s = ckpt_err_set(err, CKPT_E_UNSUPPORTED, "cannot replay: the calibration text ran "
                             "through a %s, SOURCE is %s; give the %s the quantization read",
                             from_dir ? "GGUF file" : "model directory",
                             from_dir ? "a directory" : "a GGUF file",
                             from_dir ? "GGUF file" : "model directory");
        if (s == CKPT_OK && !im && !(qr->text = strdup(path)))
            s = ckpt_err_set(err, CKPT_E_NOMEM, "out of memory");
        if (s == CKPT_OK && !im && !has_im) {
            /* the text's path is recorded as the dataset: read it under that name
             * when it is there */
            /* a recipe without the semantic predates it: its matrix came from the
             * f32 oracle */
            const char *sem = str_of(step, "calib_semantic");
            struct ckpt_calib_opts co = {
                .text = o->calib ? path : name, .n_ctx = int_of(step, "calib_ctx"),
                .max_chunks = int_of(step, "calib_chunks"), .n_threads = o->threads,
                .semantic = sem ? sem : "f32"};
            s = !sem && cJSON_GetObjectItemCaseSensitive(step, "calib_semantic")
                    ? ckpt_err_set(err, CKPT_E_FORMAT, "%s: recipe: calib_semantic is not a "
                                   "string", o->artifact)
                    : ckpt_calib_run(&qr->cal, o->source, &co, err);
        }
        if (im || !has_im)
            qr->q.imatrix = im ? qr->im : qr->cal.imatrix;
        qr->q.imatrix_name = str_of(step, "imatrix_name");
        free(path);
    }
    return s;
}

/* --optimize chooses the same types only where its forward passes give
 * the bits they gave: an ISA of the same semantic (avx512, avx2 and
 * scalar are one, dispatch.h), checked before anything is measured. */
static ckpt_status optimize_isa(const cJSON *step, ckpt_err *err)
{
    const char *isa = str_of(step, "optimize_isa");
    const char *here = ckpt_isa_name(ckpt_isa_default());
    const int k = isa ? ckpt_isa_from_name(isa) : -1;
    if (k < 0 || strcmp(ckpt_isa_semantic((ckpt_isa)k), ckpt_isa_semantic(ckpt_isa_default()))) {
        bool runs = k >= 0 && ckpt_isa_available((ckpt_isa)k);
        return ckpt_err_set(err, CKPT_E_UNSUPPORTED, "cannot replay: --optimize measured on %s, "
                            "this machine runs %s%s%s%s", isa ? isa : "an unrecorded ISA", here,
                            runs ? " (this CPU has it too: replay with CKPT_ISA=" : "",
                            runs ? isa : "", runs ? ")" : "");
    }
    return CKPT_OK;
}

/* --optimize as recorded: the same measurements on the same text. */
static ckpt_status replay_optimize(const struct ckpt_rebuild_opts *o, const cJSON *step,
                                   struct qreplay *qr, struct ckpt_qsrc *src, ckpt_err *err)
{
    if (!qr->text)
        return ckpt_err_set(err, CKPT_E_FORMAT, "%s: recipe: --optimize without the "
                            "calibration text it measured on", o->artifact);
    const cJSON *bpw = cJSON_GetObjectItemCaseSensitive(step, "target_bpw");
    if (bpw && !(cJSON_IsNumber(bpw) && bpw->valuedouble > 0 && bpw->valuedouble <= 32))
        return ckpt_err_set(err, CKPT_E_FORMAT, "%s: recipe: target_bpw is not a number of "
                            "bits per weight (above 0, at most 32)", o->artifact);
    qr->opt.opts.target_bpw = bpw ? bpw->valuedouble : 0;
    qr->opt.opts.target_bytes = (uint64_t)int_of(step, "target_size");
    qr->opt.opts.gptq = true_of(step, "gptq");
    qr->opt.opts.n_threads = o->threads;
    return ckpt_opt_apply(&qr->opt, o->source, src, &qr->q, qr->text, int_of(step, "calib_ctx"),
                          int_of(step, "calib_chunks"), err);
}

/* -t SCHEME --gptq as recorded: the second moments of the same text, in
 * the same chunks, as ckpt_ct_quant_run computes them. */
static ckpt_status replay_ct_gptq(ckpt_gptq **g, const struct ckpt_rebuild_opts *o,
                                  const cJSON *step, const struct qreplay *qr,
                                  struct ckpt_qsrc *src, ckpt_err *err)
{
    if (!qr->text)
        return ckpt_err_set(err, CKPT_E_FORMAT, "%s: recipe: --gptq without the calibration "
                            "text it measured on", o->artifact);
    const int64_t ctx = int_of(step, "calib_ctx") > 0 ? int_of(step, "calib_ctx")
                                                       : CKPT_CALIB_CTX;
    const int64_t chunks = int_of(step, "calib_chunks");
    int64_t n_chunks = 0, n_ctx = 0;
    int32_t *ids = NULL;
    ckpt_status s = ckpt_opt_tokens(o->source, qr->text, ctx,
                                    chunks > 0 ? chunks * ctx : INT64_MAX, &ids, &n_chunks,
                                    &n_ctx, err);
    if (s == CKPT_OK)
        s = ckpt_gptq_new(g, src, o->source, ids, n_chunks, n_ctx, qr->q.imatrix, o->threads,
                          err);
    free(ids);
    return s;
}

/* The compressed-tensors sink of a recorded step, hashing into cd. */
static ckpt_status ct_sink(struct ckpt_qsink **sink, const struct ckpt_rebuild_opts *o,
                           const cJSON *step, const char *source_dir, const ckpt_imatrix *im,
                           const ckpt_gptq *gptq, const struct ckpt_qsink_meta *meta,
                           struct ckpt_outdir_digests *cd, ckpt_err *err)
{
    const char *scheme = str_of(step, "scheme"), *group = str_of(step, "group_size");
    struct ckpt_ct_sink_opts ct = {
        .dir = o->artifact, .scheme = ckpt_ct_scheme_parse(scheme),
        .group_size = group && !strcmp(group, "channel") ? -1 : int_of(step, "group_size"),
        .max_shard_bytes = (uint64_t)int_of(step, "max_shard_size"), .source_dir = source_dir,
        .imatrix = im, .search = true_of(step, "scale_search"), .n_threads = o->threads,
        .gptq = gptq, .digests = cd};
    if (ct.scheme < 0)
        return ckpt_err_set(err, CKPT_E_UNSUPPORTED, "recipe: compressed-tensors scheme '%s' "
                            "is not one this ckpt knows", scheme);
    return ckpt_qsink_open_ct(sink, &ct, meta, err);
}

/* from_dir: the conversion step the directory goes through first, or NULL
 * for a GGUF source.  cd: a compressed-tensors step, replayed into cd;
 * else a GGUF, into d. */
static ckpt_status replay_quant(const struct ckpt_rebuild_opts *o, const cJSON *step,
                                const cJSON *from_dir, struct ckpt_rebuild_report *r,
                                struct ckpt_gguf_digest *d, struct ckpt_outdir_digests *cd,
                                ckpt_err *err)
{
    char *sdir = NULL; /* a directory source's config and tokenizer files go along */
    ckpt_gptq *gptq = NULL; /* -t SCHEME --gptq: the recorded run's factors */
    struct qreplay qr = {0};
    struct ckpt_qsrc *src = NULL;
    struct ckpt_quant_meta m = {0};
    struct ckpt_qsink *sink = NULL;
    cJSON *prior = NULL;
    uint64_t split_bytes, split_tensors;
    ckpt_status s = true_of(step, "optimize") ? optimize_isa(step, err) : CKPT_OK;
    if (s == CKPT_OK)
        s = quant_options(&qr, step, err);
    if (s == CKPT_OK)
        s = ckpt_recipe_split_of(step, &split_bytes, &split_tensors, o->artifact, err);
    if (s == CKPT_OK)
        s = quant_imatrix(o, &qr, step, from_dir != NULL, r, err);
    if (s == CKPT_OK && from_dir) {
        struct ckpt_qsrc_hf_opts ho = {
            .type = ckpt_type_from_name(str_of(from_dir, "type")), .provenance = true,
            .allow_nonfinite = true_of(from_dir, "allow_nonfinite")};
        s = ckpt_recipe_split_of(from_dir, &ho.split_bytes, &ho.split_tensors, o->artifact, err);
        if (s == CKPT_OK)
            s = ckpt_qsrc_open_hf_as(&src, o->source, &ho, err);
    } else if (s == CKPT_OK) {
        s = ckpt_qsrc_open_gguf(&src, o->source, err);
    }
    /* the output's recipe: the source's, then the recorded step as it is */
    if (s == CKPT_OK)
        s = ckpt_recipe_of_gguf(&prior, src->meta, o->source, err);
    if (s == CKPT_OK)
        s = ckpt_recipe_extend(&qr.recipe, prior, cJSON_Duplicate(step, 1), err);
    qr.q.recipe = qr.recipe;
    qr.q.n_threads = o->threads;
    if (s == CKPT_OK && true_of(step, "optimize"))
        s = replay_optimize(o, step, &qr, src, err);
    if (s == CKPT_OK)
        s = ckpt_quant_meta_make(&m, src, &qr.q, err);
    if (s == CKPT_OK && cd && from_dir &&
        !(sdir = ckpt_path_is_file(o->source) ? ckpt_path_dirname(o->source) : strdup(o->source)))
        s = ckpt_err_set(err, CKPT_E_NOMEM, "out of memory");
    if (s == CKPT_OK && cd && true_of(step, "gptq"))
        s = replay_ct_gptq(&gptq, o, step, &qr, src, err);
    if (s == CKPT_OK && cd)
        s = ct_sink(&sink, o, step, sdir, qr.q.imatrix, gptq, &m.meta, cd, err);
    else if (s == CKPT_OK)
        s = ckpt_qsink_open_gguf_digest(&sink, "replay", split_bytes, split_tensors, &m.meta, d,
                                        err);
    if (s == CKPT_OK)
        s = ckpt_quant_run_sink(ckpt_opt_apply_source(&qr.opt, src), &qr.q, sink, NULL, err);
    ckpt_quant_meta_free(&m);
    ckpt_gptq_free(gptq);
    free(sdir);
    ckpt_opt_apply_free(&qr.opt);
    free(qr.text);
    cJSON_Delete(prior);
    ckpt_qsrc_close(src);
    ckpt_qtt_free(qr.tt);
    ckpt_quant_kvs_free(&qr.kvs);
    ckpt_imatrix_free(qr.im);
    ckpt_calib_free(&qr.cal);
    free(qr.recipe);
    return s;
}

static void describe(struct ckpt_rebuild_report *r, const cJSON *steps, int from)
{
    size_t len = 0;
    int k = 0;
    for (const cJSON *st = steps->child; st; st = st->next, k++) {
        if (k < from)
            continue;
        const char *what = str_of(st, "mix") ? str_of(st, "mix")
                           : str_of(st, "scheme") ? str_of(st, "scheme") : str_of(st, "type");
        /* an optimized step's target is named: it alone decides the types */
        const cJSON *bpw = cJSON_GetObjectItemCaseSensitive(st, "target_bpw");
        char opt[128] = "", bpws[40] = "", size[40] = "";
        if (cJSON_IsNumber(bpw))
            snprintf(bpws, sizeof bpws, " --target-bpw %.15g", bpw->valuedouble);
        if (int_of(st, "target_size"))
            snprintf(size, sizeof size, " --target-size %lld", (long long)int_of(st, "target_size"));
        if (true_of(st, "optimize"))
            snprintf(opt, sizeof opt, " --optimize%s%s%s", bpws, size,
                     true_of(st, "gptq") ? " --gptq" : "");
        len += (size_t)snprintf(r->steps + len, len < sizeof r->steps ? sizeof r->steps - len : 0,
                                "%s%s %s%s", k > from ? ", then " : "", str_of(st, "tool"),
                                what ? what : "", opt);
        if (len >= sizeof r->steps)
            break;
    }
}

/* Which steps SOURCE starts from: 0 for a model directory, else the number
 * of steps its own recipe records (which must be the artifact's first). */
static ckpt_status start_step(const struct ckpt_rebuild_opts *o, const cJSON *steps, int *from,
                              bool *dir, ckpt_err *err)
{
    ckpt_file_kind kind;
    ckpt_status s = ckpt_file_sniff(o->source, &kind, err);
    if (s != CKPT_OK)
        return s;
    *dir = kind == CKPT_KIND_DIRECTORY || kind == CKPT_KIND_SAFETENSORS;
    *from = 0;
    if (*dir)
        return CKPT_OK;
    if (kind != CKPT_KIND_GGUF)
        return ckpt_err_set(err, CKPT_E_USAGE, "%s: is a %s; SOURCE is a model directory or a "
                            "GGUF file", o->source, ckpt_file_kind_name(kind));
    ckpt_gguf *g = NULL;
    cJSON *sr = NULL;
    s = ckpt_gguf_open(&g, o->source, err);
    if (s == CKPT_OK)
        s = ckpt_recipe_of_gguf(&sr, g, o->source, err);
    ckpt_gguf_close(g);
    if (s == CKPT_OK && !sr)
        s = ckpt_err_set(err, CKPT_E_UNSUPPORTED, "%s: carries no recipe, so it cannot be "
                         "shown to be the artifact's input; give the model directory",
                         o->source);
    int n = s == CKPT_OK ? ckpt_recipe_n_steps(sr) : 0;
    if (s == CKPT_OK && n >= cJSON_GetArraySize(steps))
        s = ckpt_err_set(err, CKPT_E_UNSUPPORTED, "%s: made in %d steps, the artifact in %d: "
                         "not an input of it", o->source, n, cJSON_GetArraySize(steps));
    const cJSON *ss = sr ? cJSON_GetObjectItemCaseSensitive(sr, "steps") : NULL;
    for (int i = 0; s == CKPT_OK && i < n; i++)
        if (!cJSON_Compare(cJSON_GetArrayItem(ss, i), cJSON_GetArrayItem(steps, i), 1))
            s = ckpt_err_set(err, CKPT_E_MISMATCH, "%s: its step %d (%s) is not the "
                             "artifact's: not the file the artifact was made from", o->source,
                             i + 1, str_of(cJSON_GetArrayItem(ss, i), "tool"));
    cJSON_Delete(sr);
    *from = n;
    return s;
}

ckpt_status ckpt_rebuild_run(const struct ckpt_rebuild_opts *o, struct ckpt_rebuild_report *r,
                             ckpt_err *err)
{
    ckpt_gguf *g = NULL;
    struct ckpt_gguf_digest d = {0};
    struct ckpt_outdir_digests cd = {0};
    ckpt_file_kind kind;
    /* a model directory: a compressed-tensors output, its recipe in its first shard */
    const bool ct = ckpt_file_sniff(o->artifact, &kind, NULL) == CKPT_OK &&
                    kind == CKPT_KIND_DIRECTORY;
    ckpt_status s = ct ? CKPT_OK : ckpt_gguf_open(&g, o->artifact, err);
    if (s == CKPT_OK)
        s = ct ? recipe_of_dir(&r->recipe, o->artifact, err)
               : ckpt_recipe_of_gguf(&r->recipe, g, o->artifact, err);
    ckpt_gguf_close(g);
    if (s == CKPT_OK && ct && r->recipe && !str_of(ckpt_recipe_last(r->recipe), "scheme"))
        return ckpt_err_set(err, CKPT_E_UNSUPPORTED, "%s: its recipe's last step made no "
                            "compressed-tensors directory: nothing to replay", o->artifact);
    if (s == CKPT_OK && !r->recipe)
        return ckpt_err_set(err, CKPT_E_UNSUPPORTED, "%s: carries no recipe (made with "
                            "--no-provenance, or by another tool): nothing to replay",
                            o->artifact);
    if (s != CKPT_OK)
        return s;
    const cJSON *steps = cJSON_GetObjectItemCaseSensitive(r->recipe, "steps");
    const int n = cJSON_GetArraySize(steps);
    int from = 0;
    bool dir = false;
    s = start_step(o, steps, &from, &dir, err);
    if (s != CKPT_OK)
        return s;
    describe(r, steps, from);
    const cJSON *first = cJSON_GetArrayItem(steps, from), *last = ckpt_recipe_last(r->recipe);
    snprintf(r->recorded_version, sizeof r->recorded_version, "%s", str_of(last, "version"));
    const char *t0 = str_of(first, "tool"), *tl = str_of(last, "tool");
    if (dir && (strcmp(t0, "ckpt-convert") || n > 2))
        return ckpt_err_set(err, CKPT_E_UNSUPPORTED, "%s: the recipe does not start with a "
                            "conversion this ckpt replays in one pass (%s)", o->artifact, r->steps);
    char *sdir = dir && ckpt_path_is_file(o->source) ? ckpt_path_dirname(o->source)
                                                      : strdup(o->source);
    if (!sdir)
        return ckpt_err_set(err, CKPT_E_NOMEM, "out of memory");
    if (dir)
        s = check_source_files(r, first, sdir, err);
    free(sdir);
    if (s == CKPT_OK && dir && n == 1)
        s = replay_convert(o, first, &d, err);
    else if (s == CKPT_OK && !strcmp(tl, "ckpt-quant") && from == n - 1)
        s = replay_quant(o, last, NULL, r, &d, ct ? &cd : NULL, err);
    else if (s == CKPT_OK && !strcmp(tl, "ckpt-quant") && dir && n == 2 && float_type(first) &&
             !true_of(first, "vocab_only"))
        s = replay_quant(o, last, first, r, &d, ct ? &cd : NULL, err); /* convert, then quantize */
    else if (s == CKPT_OK)
        s = ckpt_err_set(err, CKPT_E_UNSUPPORTED, "%s: cannot replay %s in one pass from %s: "
                         "replay the first step to a file (its recipe is checked) and give that "
                         "as SOURCE", o->artifact, r->steps, o->source);
    if (s == CKPT_OK)
        s = ct ? compare_dir(r, o->artifact, &cd, err) : compare(r, o->artifact, &d, err);
    ckpt_gguf_digest_free(&d);
    ckpt_outdir_digests_free(&cd);
    if (s != CKPT_OK)
        return s;
    r->complete = true;
    /* the first file that differs (the only one, unless a split set) */
    size_t k = 0;
    while (k + 1 < r->n_files && r->files[k].same)
        k++;
    const struct ckpt_rebuild_file *f = &r->files[k];
    char where[640];
    snprintf(where, sizeof where, "%s%s%s", r->n_files > 1 ? f->name : "",
             r->n_files > 1 ? ": " : "", f->first);
    /* an input other than the recorded one fails the check even when the
     * bytes come out the same: the recipe's claim about its inputs is false */
    for (size_t i = 0; i < r->n_inputs; i++) {
        const struct ckpt_rebuild_input *in = &r->inputs[i];
        if (in->state == CKPT_REBUILD_INPUT_OK)
            continue;
        if (f->same)
            return ckpt_err_set(err, CKPT_E_MISMATCH, "%s: replays identical, but the %s %s "
                                "is %s", o->artifact, in->role, in->path ? in->path : in->name,
                                in->state == CKPT_REBUILD_INPUT_MISSING
                                    ? "missing" : "not the recorded one");
        return ckpt_err_set(err, CKPT_E_MISMATCH, "%s: differs from its replay (%s); the %s %s "
                            "is %s", o->artifact, where, in->role,
                            in->path ? in->path : in->name,
                            in->state == CKPT_REBUILD_INPUT_MISSING ? "missing"
                                                                    : "not the recorded one");
    }
    if (f->same)
        return CKPT_OK;
    if (strcmp(r->recorded_version, CKPT_VERSION))
        return ckpt_err_set(err, CKPT_E_UNSUPPORTED, "%s: made by ckpt %s, replayed by ckpt %s, "
                            "whose bytes differ (%s): replay with ckpt %s", o->artifact,
                            r->recorded_version, CKPT_VERSION, where, r->recorded_version);
    return ckpt_err_set(err, CKPT_E_MISMATCH, "%s: differs from its replay: %s", o->artifact,
                        where);
}

void ckpt_rebuild_report_free(struct ckpt_rebuild_report *r)
{
    if (!r)
        return;
    cJSON_Delete(r->recipe);
    for (size_t i = 0; i < r->n_inputs; i++) {
        free(r->inputs[i].role);
        free(r->inputs[i].name);
        free(r->inputs[i].path);
    }
    free(r->inputs);
    for (size_t i = 0; i < r->n_files; i++)
        free(r->files[i].name);
    free(r->files);
    memset(r, 0, sizeof *r);
}

static const char *input_state(enum ckpt_rebuild_input_state s)
{
    static const char *const names[] = {"ok", "differs from the recorded digest", "missing"};
    return names[s];
}

char *ckpt_rebuild_report_text(const struct ckpt_rebuild_report *r, const char *artifact)
{
    char *buf = NULL, hex[CKPT_SHA256_HEX];
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f)
        return NULL;
    fprintf(f, "%s: replayed %s\n", artifact, r->steps);
    if (strcmp(r->recorded_version, CKPT_VERSION))
        fprintf(f, "  recorded by ckpt %s, replayed by ckpt %s\n", r->recorded_version,
                CKPT_VERSION);
    for (size_t i = 0; i < r->n_inputs; i++) {
        const struct ckpt_rebuild_input *in = &r->inputs[i];
        bool moved = in->path && strcmp(in->path, in->name) && strcmp(in->role, "source");
        fprintf(f, "  input %s %s%s%s%s: %s\n", in->role, in->name, moved ? " (read from " : "",
                moved ? in->path : "", moved ? ")" : "", input_state(in->state));
    }
    for (size_t i = 0; i < r->n_files; i++) {
        ckpt_sha256_hex(r->files[i].got, hex);
        if (r->files[i].same)
            fprintf(f, "  %s: identical (sha256 %s)\n", r->files[i].name, hex);
        else
            fprintf(f, "  %s: DIFFERS: %s (replay sha256 %s)\n", r->files[i].name,
                    r->files[i].first, hex);
    }
    if (fclose(f) != 0) {
        free(buf);
        return NULL;
    }
    return buf;
}

cJSON *ckpt_rebuild_report_json(const struct ckpt_rebuild_report *r, ckpt_status status,
                                const ckpt_err *err)
{
    char hex[CKPT_SHA256_HEX];
    cJSON *j = cJSON_CreateObject(), *ins, *files;
    bool ok = j && cJSON_AddBoolToObject(j, "identical", status == CKPT_OK) &&
              cJSON_AddStringToObject(j, "replayed", r->steps) &&
              (status == CKPT_OK || cJSON_AddStringToObject(j, "error", err->msg)) &&
              (ins = cJSON_AddArrayToObject(j, "inputs")) &&
              (files = cJSON_AddArrayToObject(j, "files"));
    for (size_t i = 0; ok && i < r->n_inputs; i++) {
        cJSON *o = cJSON_CreateObject();
        ok = o && cJSON_AddItemToArray(ins, o) &&
             cJSON_AddStringToObject(o, "role", r->inputs[i].role) &&
             cJSON_AddStringToObject(o, "name", r->inputs[i].name) &&
             cJSON_AddStringToObject(o, "state", input_state(r->inputs[i].state));
    }
    for (size_t i = 0; ok && i < r->n_files; i++) {
        cJSON *o = cJSON_CreateObject();
        ok = o && cJSON_AddItemToArray(files, o) &&
             cJSON_AddStringToObject(o, "name", r->files[i].name) &&
             cJSON_AddBoolToObject(o, "identical", r->files[i].same);
        ckpt_sha256_hex(r->files[i].want, hex);
        ok = ok && cJSON_AddStringToObject(o, "sha256", hex);
        ckpt_sha256_hex(r->files[i].got, hex);
        ok = ok && cJSON_AddStringToObject(o, "replay_sha256", hex) &&
             (r->files[i].same || cJSON_AddStringToObject(o, "first_difference",
                                                          r->files[i].first));
    }
    if (!ok) {
        cJSON_Delete(j);
        return NULL;
    }
    return j;
}
