/*
 * recipe.c - ckpt-convert's recipe step (see recipe.h).
 */
#define _XOPEN_SOURCE 700 /* realpath */
#include "recipe.h"

#include <errno.h>
#include <pthread.h>
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

struct ckpt_convert_inputs {
    const char **names;           /* relative to the model directory (list_inputs) */
    char index[96];               /* the shard index's name, which names may point to */
    char **real;                  /* each at its real path */
    struct ckpt_sha256_job *jobs; /* paths and digests */
    size_t n;
    int n_threads;
    pthread_t thread;
    bool running;                 /* the thread was started and not yet joined */
    bool done;                    /* the digests are in jobs (status) */
    ckpt_status status;           /* of the run, then the first failed job's */
    ckpt_err err;
};

/* Hash every input, largest first, on in->n_threads; the first failure
 * is in->status / in->err.  The hasher refuses symbolic links, and a hub
 * cache snapshot is made of them: each file is hashed at its real path. */
static void hash_all(struct ckpt_convert_inputs *in)
{
    in->status = ckpt_sha256_files(in->jobs, in->n, in->n_threads, NULL, NULL, &in->err);
    for (size_t i = 0; in->status == CKPT_OK && i < in->n; i++)
        if (in->jobs[i].status != CKPT_OK)
            in->status = ckpt_err_set(&in->err, in->jobs[i].status, "%s", in->jobs[i].err.msg);
    in->done = true;
}

static void *hash_thread(void *arg)
{
    hash_all(arg);
    return NULL;
}

ckpt_status ckpt_convert_inputs_list(struct ckpt_convert_inputs **out,
                                     const struct ckpt_source *src, int n_threads, ckpt_err *err)
{
    struct ckpt_convert_inputs *in = calloc(1, sizeof *in);
    *out = in;
    if (!in)
        return ckpt_err_set(err, CKPT_E_NOMEM, "out of memory");
    in->n_threads = n_threads;
    ckpt_status s = list_inputs(src, in->index, &in->names, &in->n, err);
    if (s == CKPT_OK && (!(in->real = calloc(in->n + 1, sizeof *in->real)) ||
                         !(in->jobs = calloc(in->n + 1, sizeof *in->jobs))))
        s = ckpt_err_set(err, CKPT_E_NOMEM, "out of memory");
    for (size_t i = 0; s == CKPT_OK && i < in->n; i++) {
        char *path = ckpt_source_file(src, in->names[i]);
        if (!path)
            s = ckpt_err_set(err, CKPT_E_NOMEM, "out of memory");
        else if (!(in->real[i] = realpath(path, NULL)))
            s = ckpt_err_errno(err, CKPT_E_IO, errno, "%s", path);
        free(path);
        in->jobs[i].path = in->real[i];
    }
    return s;
}

ckpt_status ckpt_convert_inputs_hash(struct ckpt_convert_inputs *in, bool background,
                                     ckpt_err *err)
{
    if (in->running || in->done)
        return ckpt_err_set(err, CKPT_E_USAGE, "the inputs are hashed already");
    if (!background)
        return ckpt_convert_inputs_wait(in, err);
    int rc = pthread_create(&in->thread, NULL, hash_thread, in);
    if (rc != 0)
        return ckpt_err_errno(err, CKPT_E_NOMEM, rc, "cannot start a thread to hash the inputs");
    in->running = true;
    return CKPT_OK;
}

ckpt_status ckpt_convert_inputs_wait(struct ckpt_convert_inputs *in, ckpt_err *err)
{
    if (in->running) {
        pthread_join(in->thread, NULL);
        in->running = false;
    }
    if (!in->done)
        hash_all(in);
    if (in->status != CKPT_OK)
        return ckpt_err_set(err, in->status, "%s", in->err.msg);
    return CKPT_OK;
}

void ckpt_convert_inputs_free(struct ckpt_convert_inputs *in)
{
    if (!in)
        return;
    if (in->running)
        pthread_join(in->thread, NULL);
    for (size_t i = 0; in->real && i < in->n; i++)
        free(in->real[i]);
    free(in->real);
    free(in->jobs);
    free(in->names);
    free(in);
}

ckpt_status ckpt_convert_step_make(cJSON **out, const struct ckpt_convert_inputs *in,
                                   const struct ckpt_convert_step *o, ckpt_err *err)
{
    static const uint8_t placeholder[CKPT_SHA256_LEN]; /* as long as any digest */
    cJSON *st = ckpt_recipe_step_new("ckpt-convert");
    bool ok = st && cJSON_AddStringToObject(st, "type", ckpt_type_name(o->type)) &&
              (!o->vocab_only || cJSON_AddTrueToObject(st, "vocab_only")) &&
              (!o->allow_nonfinite || cJSON_AddTrueToObject(st, "allow_nonfinite")) &&
              ckpt_recipe_add_split(st, o->split_bytes, o->split_tensors);
    ckpt_status s = ok ? CKPT_OK : ckpt_err_set(err, CKPT_E_NOMEM, "recipe: out of memory");
    const bool known = in->done && in->status == CKPT_OK;
    for (size_t i = 0; s == CKPT_OK && i < in->n; i++)
        s = ckpt_recipe_add_input(st, "source", in->names[i],
                                  known ? in->jobs[i].digest : placeholder, err);
    if (s != CKPT_OK) {
        cJSON_Delete(st);
        st = NULL;
    }
    *out = st;
    return s;
}
