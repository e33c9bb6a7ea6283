/*
 * source.c - open the checkpoint a conversion reads (see source.h): the
 * weights through hfdir, config.json both parsed and raw, the model name,
 * and the provenance facts that can be known without reading the weights.
 */
#define _GNU_SOURCE /* realpath */
#include "source.h"
#include "../formats/hubcache.h"
#include "../formats/path.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../formats/mapfile.h"

/* Last component of a path, trailing slashes ignored, as Python's
 * Path(p).name; "." and ".." are resolved so that the name says something. */
static char *last_component(const char *path)
{
    size_t n = strlen(path);
    while (n > 1 && path[n - 1] == '/')
        n--;
    size_t b = n;
    while (b > 0 && path[b - 1] != '/')
        b--;
    char *name = strndup(path + b, n - b);
    if (name && (!*name || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)) {
        char *real = realpath(path, NULL);
        free(name);
        name = NULL;
        if (real) {
            const char *s = strrchr(real, '/');
            name = strdup(s && s[1] ? s + 1 : "model");
            free(real);
        } else
            name = strdup("model");
    }
    return name;
}

/* A multimodal wrapper's language-model config over the top-level keys,
 * as llama.cpp's converter merges text_config into its hyperparameters. */
static bool merge_text_config(cJSON *config)
{
    cJSON *sub = cJSON_DetachItemFromObjectCaseSensitive(config, "text_config");
    bool ok = true;
    for (cJSON *c = sub ? sub->child : NULL; c && ok; c = c->next) {
        cJSON *dup = cJSON_Duplicate(c, true);
        ok = dup && (cJSON_GetObjectItemCaseSensitive(config, c->string)
                         ? cJSON_ReplaceItemInObjectCaseSensitive(config, c->string, dup)
                         : cJSON_AddItemToObject(config, c->string, dup));
    }
    cJSON_Delete(sub);
    return ok;
}

static ckpt_status read_config(struct ckpt_source *src, bool parse_cfg, ckpt_err *err)
{
    char *path = ckpt_path_join(src->dir, ckpt_hf_config_file(src->hf));
    if (!path)
        return ckpt_err_set(err, CKPT_E_NOMEM, "out of memory");
    struct stat sb;
    if (stat(path, &sb) != 0) {
        ckpt_status s = ckpt_err_errno(err, CKPT_E_IO, errno, "%s", path);
        free(path);
        return s;
    }
    ckpt_map *m = NULL;
    ckpt_status s = ckpt_map_open(&m, path, err);
    if (s == CKPT_OK && parse_cfg)
        s = ckpt_hf_config_parse(&src->cfg, (const char *)m->data, m->size, path, err);
    /* Mistral's params.json: its config.json equivalent, for the keys the
     * converter looks up by name */
    char *as_config = NULL;
    bool params = strcmp(ckpt_hf_config_file(src->hf), "params.json") == 0;
    if (s == CKPT_OK && params)
        s = ckpt_hf_params_config(&as_config, (const char *)m->data, m->size, path, err);
    if (s == CKPT_OK) {
        src->config = params ? cJSON_Parse(as_config)
                             : cJSON_ParseWithLength((const char *)m->data, m->size);
        free(as_config);
        if (!src->config || !cJSON_IsObject(src->config))
            s = ckpt_err_set(err, CKPT_E_FORMAT, "%s: not a JSON object", path);
        else if (src->cfg.scheme && src->cfg.scheme->prefix[0] &&
                 !merge_text_config(src->config))
            s = ckpt_err_set(err, CKPT_E_NOMEM, "%s: out of memory", path);
    }
    if (s == CKPT_OK) {
        unsigned char md[EVP_MAX_MD_SIZE];
        unsigned int len = 0;
        if (EVP_Digest(m->data ? (const void *)m->data : "", m->size, md, &len, EVP_sha256(),
                       NULL) != 1 || len != 32)
            s = ckpt_err_set(err, CKPT_E_INTERNAL, "%s: SHA-256 failed", path);
        for (unsigned i = 0; s == CKPT_OK && i < 32; i++)
            snprintf(src->config_sha256 + 2 * i, 3, "%02x", md[i]);
    }
    ckpt_map_close(m);
    free(path);
    return s;
}

/* The converter reads every model*.safetensors of the directory: one that is
 * not among the shards found (a stray shard, one the index leaves out) would
 * be read too, so it is an error rather than silently skipped. */
static ckpt_status check_extra_shards(const struct ckpt_source *src, ckpt_err *err)
{
    DIR *d = opendir(src->dir);
    if (!d)
        return ckpt_err_errno(err, CKPT_E_IO, errno, "%s", src->dir);
    ckpt_status s = CKPT_OK;
    struct dirent *e;
    const char *stem = ckpt_hf_weights_stem(src->hf);
    size_t n_stem = strlen(stem);
    while (s == CKPT_OK && (e = readdir(d)) != NULL) {
        size_t n = strlen(e->d_name);
        if (n < n_stem + 12 || strncmp(e->d_name, stem, n_stem) != 0 ||
            strcmp(e->d_name + n - 12, ".safetensors") != 0)
            continue;
        bool known = false;
        for (size_t i = 0; i < ckpt_hf_n_shards(src->hf) && !known; i++)
            known = strcmp(ckpt_hf_shard_name(src->hf, i), e->d_name) == 0;
        if (!known)
            s = ckpt_err_set(err, CKPT_E_FORMAT,
                             "%s: extra shard %s (not part of the checkpoint's %s)", src->dir,
                             e->d_name,
                             ckpt_hf_get_layout(src->hf) == CKPT_HF_LAYOUT_INDEXED
                                 ? "weight index"
                                 : "weights");
    }
    closedir(d);
    return s;
}

ckpt_status ckpt_source_open(struct ckpt_source **out, const char *path, ckpt_err *err)
{
    *out = NULL;
    if (strcmp(path, "-") == 0)
        return ckpt_err_set(err, CKPT_E_USAGE,
                            "-: a checkpoint cannot be read from standard input (give its "
                            "directory, or a .safetensors file with config.json beside it)");
    struct stat sb;
    if (stat(path, &sb) != 0)
        return ckpt_err_errno(err, CKPT_E_IO, errno, "%s", path);
    struct ckpt_source *src = calloc(1, sizeof *src);
    if (!src)
        return ckpt_err_set(err, CKPT_E_NOMEM, "%s: out of memory", path);
    bool is_dir = S_ISDIR(sb.st_mode);
    src->dir = is_dir ? strdup(path) : ckpt_path_dirname(path);
    src->name = last_component(src->dir);
    ckpt_status s = (src->dir && src->name) ? CKPT_OK
                                            : ckpt_err_set(err, CKPT_E_NOMEM, "out of memory");
    if (s == CKPT_OK)
        s = ckpt_hf_open(&src->hf, path, err);
    if (s == CKPT_OK && is_dir)
        src->cfg = *ckpt_hf_get_config(src->hf);
    if (s == CKPT_OK && is_dir)
        s = check_extra_shards(src, err);
    if (s == CKPT_OK)
        s = read_config(src, !is_dir, err);
    if (s != CKPT_OK) {
        ckpt_source_close(src);
        return s;
    }
    /* a hub snapshot's directory is named after the commit: the model is
     * named after its repository instead */
    struct ckpt_hub_ref ref;
    if (ckpt_hub_snapshot(src->dir, &ref)) {
        char *name = strdup(ref.name);
        if (!name) {
            ckpt_source_close(src);
            return ckpt_err_set(err, CKPT_E_NOMEM, "%s: out of memory", path);
        }
        free(src->name);
        src->name = name;
        memcpy(src->hub_repo, ref.repo, sizeof src->hub_repo);
        memcpy(src->hub_commit, ref.commit, sizeof src->hub_commit);
    }
    *out = src;
    return CKPT_OK;
}

void ckpt_source_close(struct ckpt_source *src)
{
    if (!src)
        return;
    ckpt_hf_close(src->hf);
    cJSON_Delete(src->config);
    free(src->dir);
    free(src->name);
    free(src);
}

const cJSON *ckpt_source_param(const struct ckpt_source *src, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(src->config, key);
    return v && !cJSON_IsNull(v) ? v : NULL;
}

bool ckpt_source_mistral_layout(const struct ckpt_source *src)
{
    return src->cfg.scheme && strcmp(src->cfg.scheme->name, "mistral") == 0;
}

char *ckpt_source_file(const struct ckpt_source *src, const char *name)
{
    return ckpt_path_join(src->dir, name);
}
