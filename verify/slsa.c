/*
 * slsa.c - SLSA Provenance v1 for a signed artifact (see slsa.h).
 */
#include "slsa.h"

#include <stdlib.h>
#include <string.h>

#include "../formats/json_get.h"
#include "../formats/json_strict.h"
#include "../formats/sha256.h"
#include "check.h"
#include "show.h"

#ifndef CKPT_VERSION
#define CKPT_VERSION "unknown"
#endif

#define INTOTO_STATEMENT "https://in-toto.io/Statement/v1"

char *ckpt_slsa_path(const char *sig_path)
{
    size_t n = strlen(sig_path);
    if (n > 4 && strcmp(sig_path + n - 4, ".sig") == 0)
        n -= 4;
    char *p = malloc(n + sizeof CKPT_SLSA_SUFFIX);
    if (p) {
        memcpy(p, sig_path, n);
        memcpy(p + n, CKPT_SLSA_SUFFIX, sizeof CKPT_SLSA_SUFFIX);
    }
    return p;
}

static cJSON *descriptor(const char *name, const char *hex, const char *role)
{
    cJSON *d = cJSON_CreateObject(), *dig, *ann;
    if (d && cJSON_AddStringToObject(d, "name", name) &&
        (dig = cJSON_AddObjectToObject(d, "digest")) &&
        cJSON_AddStringToObject(dig, "sha256", hex) &&
        (!role || ((ann = cJSON_AddObjectToObject(d, "annotations")) &&
                   cJSON_AddStringToObject(ann, "role", role))))
        return d;
    cJSON_Delete(d);
    return NULL;
}

static bool add(cJSON *arr, cJSON *item)
{
    if (item && cJSON_AddItemToArray(arr, item))
        return true;
    cJSON_Delete(item);
    return false;
}

/* Every input of every recipe, and the --source files. */
static bool dependencies(cJSON *deps, const cJSON *ck)
{
    const cJSON *g, *st, *in, *src = cJSON_GetObjectItemCaseSensitive(ck, "source");
    const cJSON *gguf = cJSON_GetObjectItemCaseSensitive(ck, "gguf");
    for (g = cJSON_IsArray(gguf) ? gguf->child : NULL; g; g = g->next) {
        const cJSON *r = cJSON_GetObjectItemCaseSensitive(g, "recipe");
        const cJSON *steps = cJSON_GetObjectItemCaseSensitive(r, "steps");
        for (st = cJSON_IsArray(steps) ? steps->child : NULL; st; st = st->next) {
            const cJSON *ins = cJSON_GetObjectItemCaseSensitive(st, "inputs");
            for (in = cJSON_IsArray(ins) ? ins->child : NULL; in; in = in->next)
                if (!add(deps, descriptor(
                                   cJSON_GetObjectItemCaseSensitive(in, "name")->valuestring,
                                   cJSON_GetObjectItemCaseSensitive(in, "sha256")->valuestring,
                                   cJSON_GetObjectItemCaseSensitive(in, "role")->valuestring)))
                    return false;
        }
    }
    const cJSON *res = cJSON_GetObjectItemCaseSensitive(src, "resources");
    for (const cJSON *r = cJSON_IsArray(res) ? res->child : NULL; r; r = r->next)
        if (!add(deps, descriptor(cJSON_GetObjectItemCaseSensitive(r, "name")->valuestring,
                                  cJSON_GetObjectItemCaseSensitive(r, "digest")->valuestring,
                                  "source")))
            return false;
    return true;
}

static bool external(cJSON *ext, const cJSON *ck)
{
    const cJSON *gguf = cJSON_GetObjectItemCaseSensitive(ck, "gguf");
    const cJSON *params = cJSON_GetObjectItemCaseSensitive(ck, "parameters");
    cJSON *recipes = NULL;
    for (const cJSON *g = cJSON_IsArray(gguf) ? gguf->child : NULL; g; g = g->next) {
        const cJSON *r = cJSON_GetObjectItemCaseSensitive(g, "recipe");
        const cJSON *n = cJSON_GetObjectItemCaseSensitive(g, "name");
        if (!r || !cJSON_IsString(n))
            continue;
        if (!recipes && !(recipes = cJSON_AddObjectToObject(ext, "recipes")))
            return false;
        if (!cJSON_AddItemToObject(recipes, n->valuestring, cJSON_Duplicate(r, 1)))
            return false;
    }
    return !params || cJSON_AddItemToObject(ext, "parameters", cJSON_Duplicate(params, 1));
}

ckpt_status ckpt_slsa_statement(const struct ckpt_manifest *m, char **out, size_t *len,
                                ckpt_err *err)
{
    *out = NULL;
    char hex[CKPT_SHA256_HEX];
    cJSON *st = cJSON_CreateObject(), *subj, *pred, *bd, *ext, *deps, *rd, *b, *ver;
    bool ok = st && cJSON_AddStringToObject(st, "_type", INTOTO_STATEMENT) &&
              (subj = cJSON_AddArrayToObject(st, "subject")) &&
              cJSON_AddStringToObject(st, "predicateType", CKPT_SLSA_PREDICATE_TYPE) &&
              (pred = cJSON_AddObjectToObject(st, "predicate")) &&
              (bd = cJSON_AddObjectToObject(pred, "buildDefinition")) &&
              cJSON_AddStringToObject(bd, "buildType", CKPT_SLSA_BUILD_TYPE) &&
              (ext = cJSON_AddObjectToObject(bd, "externalParameters")) &&
              (deps = cJSON_AddArrayToObject(bd, "resolvedDependencies")) &&
              (rd = cJSON_AddObjectToObject(pred, "runDetails")) &&
              (b = cJSON_AddObjectToObject(rd, "builder")) &&
              cJSON_AddStringToObject(b, "id", CKPT_SLSA_BUILDER_ID) &&
              (ver = cJSON_AddObjectToObject(b, "version")) &&
              cJSON_AddStringToObject(ver, "ckpt", CKPT_VERSION) &&
              cJSON_AddObjectToObject(rd, "metadata");
    for (size_t i = 0; ok && i < m->n_res; i++) {
        ckpt_sha256_hex(m->res[i].digest, hex);
        ok = add(subj, descriptor(ckpt_show_resource_name(m, i), hex, NULL));
    }
    if (ok && m->ckpt)
        ok = external(ext, m->ckpt) && dependencies(deps, m->ckpt);
    if (ok)
        ok = (*out = cJSON_PrintUnformatted(st)) != NULL;
    cJSON_Delete(st);
    if (!ok)
        return ckpt_err_set(err, CKPT_E_NOMEM, "out of memory");
    *len = strlen(*out);
    return CKPT_OK;
}

/* The subjects of a parsed statement against m's resources, in order. */
static ckpt_status check_subjects(const cJSON *subj, const struct ckpt_manifest *m,
                                  const char *path, ckpt_err *err)
{
    char hex[CKPT_SHA256_HEX];
    if (!cJSON_IsArray(subj) || (size_t)cJSON_GetArraySize(subj) != m->n_res)
        return ckpt_err_set(err, CKPT_E_MISMATCH, "%s: %d subjects, the signed artifact has %zu "
                            "files", path, cJSON_GetArraySize(subj), m->n_res);
    size_t i = 0;
    for (const cJSON *s = subj->child; s; s = s->next, i++) {
        const cJSON *n = cJSON_GetObjectItemCaseSensitive(s, "name");
        const cJSON *d = cJSON_GetObjectItemCaseSensitive(
            cJSON_GetObjectItemCaseSensitive(s, "digest"), "sha256");
        ckpt_sha256_hex(m->res[i].digest, hex);
        if (!cJSON_IsString(n) || !cJSON_IsString(d) ||
            strcmp(n->valuestring, ckpt_show_resource_name(m, i)) ||
            strcmp(d->valuestring, hex))
            return ckpt_err_set(err, CKPT_E_MISMATCH, "%s: subject %zu is not the signed file "
                                "'%s' with its digest", path, i + 1,
                                ckpt_show_resource_name(m, i));
    }
    return CKPT_OK;
}

ckpt_status ckpt_slsa_check(const char *path, const ckpt_key *key, const struct ckpt_manifest *m,
                            ckpt_err *err)
{
    uint8_t *payload = NULL;
    size_t len = 0;
    bool no_hint;
    ckpt_json *j = NULL;
    const cJSON *v;
    ckpt_status s = ckpt_check_envelope(path, key, &payload, &len, &no_hint, err);
    if (s == CKPT_OK)
        s = ckpt_json_parse(&j, (const char *)payload, len, path, NULL, NULL, err);
    const cJSON *st = j ? ckpt_json_root(j) : NULL;
    if (s == CKPT_OK)
        s = ckpt_json_member(st, "_type", cJSON_String, path, "statement", &v, err);
    if (s == CKPT_OK && strcmp(v->valuestring, INTOTO_STATEMENT))
        s = ckpt_err_set(err, CKPT_E_UNSUPPORTED, "%s: not an in-toto Statement v1", path);
    if (s == CKPT_OK)
        s = ckpt_json_member(st, "predicateType", cJSON_String, path, "statement", &v, err);
    if (s == CKPT_OK && strcmp(v->valuestring, CKPT_SLSA_PREDICATE_TYPE))
        s = ckpt_err_set(err, CKPT_E_UNSUPPORTED, "%s: predicate type \"%.80s\" is not SLSA "
                         "Provenance v1", path, v->valuestring);
    const cJSON *bt = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(st, "predicate"),
                                         "buildDefinition"),
        "buildType");
    if (s == CKPT_OK && (!cJSON_IsString(bt) || strcmp(bt->valuestring, CKPT_SLSA_BUILD_TYPE)))
        s = ckpt_err_set(err, CKPT_E_UNSUPPORTED, "%s: build type is not ckpt's (%s)", path,
                         CKPT_SLSA_BUILD_TYPE);
    if (s == CKPT_OK)
        s = check_subjects(cJSON_GetObjectItemCaseSensitive(st, "subject"), m, path, err);
    ckpt_json_free(j);
    free(payload);
    return s;
}
