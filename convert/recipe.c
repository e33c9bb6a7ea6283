/*
 * recipe.c - ckpt-convert's recipe step (see recipe.h).
 */
#define _XOPEN_SOURCE 700 /* realpath */
#include "recipe.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../formats/path.h"
#include "../formats/recipe.h"
#include "vocab.h"

/* Files beside the config that the converter may read, when present
 * (tekken.json: Mistral's own tokenizer file). */
static const char *const optional_files[] = {
    "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json",
    "generation_config.json", "tekken.json",
};

static bool present(const struct ckpt_source *src, const char *name)
{
    char *p = ckpt_source_file(src, name);
    bool ok = p && ckpt_path_is_file(p);
    free(p);
    return ok;
}

static void add_once(const char **names, size_t *n, const char *name)
{
    for (size_t i = 0; i < *n; i++)
        if (strcmp(names[i], name) == 0)
            return;
    names[(*n)++] = name;
}

/* The inputs a conversion of src reads, as names relative to its directory
 * (static, src's or index's strings; the caller frees the array only). */
static ckpt_status list_inputs(const struct ckpt_source *src, char index[96], const char ***names,
                               size_t *n, ckpt_err *err)
{
    const size_t n_shards = ckpt_hf_n_shards(src->hf);
    const char **l = calloc(n_shards + 8, sizeof *l);
    *names = l;
    *n = 0;
    if (!l)
        return ckpt_err_set(err, CKPT_E_NOMEM, "out of memory");
    add_once(l, n, ckpt_hf_config_file(src->hf));
    for (size_t i = 0; i < n_shards; i++)
        add_once(l, n, ckpt_hf_shard_name(src->hf, i));
    /* the shard index, named after the weights' stem */
    snprintf(index, 96, "%s.safetensors.index.json", ckpt_hf_weights_stem(src->hf));
    if (n_shards > 1 && present(src, index))
        add_once(l, n, index);
    const char *tok = ckpt_vocab_file(src);
    if (tok)
        add_once(l, n, tok);
    for (size_t i = 0; i < sizeof optional_files / sizeof optional_files[0]; i++)
        if (present(src, optional_files[i]))
            add_once(l, n, optional_files[i]);
    return CKPT_OK;
}

/* Hash the n files in parallel, one per thread, largest first (a
 * model's shards dominate).  The hasher refuses symbolic links, and a hub
 * cache snapshot is made of them: each file is hashed at its real path. */
static ckpt_status hash_files(const struct ckpt_source *src, const char *const *names, size_t n,
                              int n_threads, struct ckpt_sha256_job *jobs, ckpt_err *err)
{
    char **real = calloc(n + 1, sizeof *real);
    ckpt_status s = real ? CKPT_OK : ckpt_err_set(err, CKPT_E_NOMEM, "out of memory");
    for (size_t i = 0; s == CKPT_OK && i < n; i++) {
        char *path = ckpt_source_file(src, names[i]);
        if (!path)
            s = ckpt_err_set(err, CKPT_E_NOMEM, "out of memory");
        else if (!(real[i] = realpath(path, NULL)))
            s = ckpt_err_errno(err, CKPT_E_IO, errno, "%s", path);
        free(path);
        jobs[i].path = real[i];
    }
    if (s == CKPT_OK)
        s = ckpt_sha256_files(jobs, n, n_threads, NULL, NULL, err);
    for (size_t i = 0; s == CKPT_OK && i < n; i++)
        if (jobs[i].status != CKPT_OK)
            s = ckpt_err_set(err, jobs[i].status, "%s", jobs[i].err.msg);
    for (size_t i = 0; real && i < n; i++)
        free(real[i]);
    free(real);
    return s;
}

ckpt_status ckpt_convert_step_make(cJSON **out, const struct ckpt_source *src,
                                   const struct ckpt_convert_step *o, ckpt_err *err)
{
    const char **names = NULL;
    char index[96];
    size_t n = 0;
    cJSON *st = ckpt_recipe_step_new("ckpt-convert");
    bool ok = st && cJSON_AddStringToObject(st, "type", ckpt_type_name(o->type)) &&
              (!o->vocab_only || cJSON_AddTrueToObject(st, "vocab_only")) &&
              (!o->allow_nonfinite || cJSON_AddTrueToObject(st, "allow_nonfinite")) &&
              ckpt_recipe_add_split(st, o->split_bytes, o->split_tensors);
    struct ckpt_sha256_job *jobs = NULL;
    ckpt_status s = ok ? list_inputs(src, index, &names, &n, err)
                       : ckpt_err_set(err, CKPT_E_NOMEM, "recipe: out of memory");
    if (s == CKPT_OK && !(jobs = calloc(n + 1, sizeof *jobs)))
        s = ckpt_err_set(err, CKPT_E_NOMEM, "out of memory");
    if (s == CKPT_OK)
        s = hash_files(src, names, n, o->n_threads, jobs, err);
    for (size_t i = 0; s == CKPT_OK && i < n; i++)
        s = ckpt_recipe_add_input(st, "source", names[i], jobs[i].digest, err);
    free(jobs);
    free(names);
    if (s != CKPT_OK) {
        cJSON_Delete(st);
        st = NULL;
    }
    *out = st;
    return s;
}
