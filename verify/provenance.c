/*
 * provenance.c - the predicate.ckpt object (see provenance.h).
 */
#include "provenance.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "../arch/gguf_keys.h"
#include "../formats/gguf.h"
#include "../formats/json_strict.h"
#include "../formats/recipe.h"
#include "../formats/safetensors.h"
#include "../formats/sha256.h"
#include "../quant/sink_ct.h"

#ifndef CKPT_VERSION
#define CKPT_VERSION "unknown"
#endif

ckpt_status ckpt_provenance_new(cJSON **out, ckpt_err *err)
{
    cJSON *ck = cJSON_CreateObject(), *tool;
    bool ok = ck && cJSON_AddNumberToObject(ck, "version", CKPT_PROVENANCE_VERSION) &&
              (tool = cJSON_AddObjectToObject(ck, "tool")) &&
              cJSON_AddStringToObject(tool, "name", "ckpt") &&
              cJSON_AddStringToObject(tool, "version", CKPT_VERSION);
    if (!ok) {
        cJSON_Delete(ck);
        *out = NULL;
        return ckpt_err_set(err, CKPT_E_NOMEM, "provenance: out of memory");
    }
    *out = ck;
    return CKPT_OK;
}

ckpt_status ckpt_provenance_add_param(cJSON *ck, const char *kv, ckpt_err *err)
{
    const char *eq = strchr(kv, '=');
    if (!eq || eq == kv)
        return ckpt_err_set(err, CKPT_E_USAGE, "--param '%s': expected KEY=VALUE", kv);
    size_t bad;
    if (!ckpt_utf8_valid((const uint8_t *)kv, strlen(kv), &bad))
        return ckpt_err_set(err, CKPT_E_USAGE, "--param: not UTF-8");
    char key[256];
    size_t kl = (size_t)(eq - kv);
    if (kl >= sizeof key)
        return ckpt_err_set(err, CKPT_E_USAGE, "--param: key longer than %zu bytes",
                            sizeof key - 1);
    memcpy(key, kv, kl);
    key[kl] = '\0';
    cJSON *params = cJSON_GetObjectItemCaseSensitive(ck, "parameters");
    if (!params && !(params = cJSON_AddObjectToObject(ck, "parameters")))
        return ckpt_err_set(err, CKPT_E_NOMEM, "provenance: out of memory");
    if (cJSON_GetObjectItemCaseSensitive(params, key))
        return ckpt_err_set(err, CKPT_E_USAGE, "--param %s given twice", key);
    if (!cJSON_AddStringToObject(params, key, eq + 1))
        return ckpt_err_set(err, CKPT_E_NOMEM, "provenance: out of memory");
    return CKPT_OK;
}

ckpt_status ckpt_provenance_set_source(cJSON *ck, const struct ckpt_manifest *src,
                                       ckpt_err *err)
{
    char hex[CKPT_SHA256_HEX];
    cJSON *s = cJSON_CreateObject(), *dig, *res;
    ckpt_sha256_hex(src->root, hex);
    bool ok = s && cJSON_AddStringToObject(s, "name", src->subject ? src->subject : "") &&
              (dig = cJSON_AddObjectToObject(s, "digest")) &&
              cJSON_AddStringToObject(dig, "sha256", hex) &&
              (res = cJSON_AddArrayToObject(s, "resources"));
    for (size_t i = 0; ok && i < src->n_res; i++) {
        cJSON *r = cJSON_CreateObject();
        ckpt_sha256_hex(src->res[i].digest, hex);
        ok = r && cJSON_AddItemToArray(res, r) &&
             cJSON_AddStringToObject(r, "name", src->res[i].name) &&
             cJSON_AddStringToObject(r, "algorithm", "sha256") &&
             cJSON_AddStringToObject(r, "digest", hex);
    }
    if (ok)
        ok = cJSON_AddItemToObject(ck, "source", s);
    if (!ok) {
        cJSON_Delete(s);
        return ckpt_err_set(err, CKPT_E_NOMEM, "provenance: out of memory");
    }
    return CKPT_OK;
}

/* ==== GGUF parameters ==== */

/* Starts with "GGUF"?  Unreadable files are left to the hasher to report. */
static bool is_gguf(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return false;
    char magic[4];
    bool yes = read(fd, magic, 4) == 4 && memcmp(magic, "GGUF", 4) == 0;
    close(fd);
    return yes;
}

/* A scalar kv value as JSON (integers beyond 2^53 as decimal strings, so no
 * digit is lost to a double). */
static cJSON *scalar(ckpt_gguf_type t, const struct ckpt_gguf_kv *kv)
{
    char buf[32];
    switch (t) {
    case CKPT_GGUF_BOOL: return cJSON_CreateBool(kv->v.u64 != 0);
    case CKPT_GGUF_STRING: return cJSON_CreateString(kv->v.str.str);
    case CKPT_GGUF_FLOAT32:
    case CKPT_GGUF_FLOAT64: return cJSON_CreateNumber(kv->v.f64);
    case CKPT_GGUF_INT8:
    case CKPT_GGUF_INT16:
    case CKPT_GGUF_INT32:
    case CKPT_GGUF_INT64:
        if (kv->v.i64 > (1ll << 53) || kv->v.i64 < -(1ll << 53)) {
            snprintf(buf, sizeof buf, "%lld", (long long)kv->v.i64);
            return cJSON_CreateString(buf);
        }
        return cJSON_CreateNumber((double)kv->v.i64);
    default:
        if (kv->v.u64 > (1ull << 53)) {
            snprintf(buf, sizeof buf, "%llu", (unsigned long long)kv->v.u64);
            return cJSON_CreateString(buf);
        }
        return cJSON_CreateNumber((double)kv->v.u64);
    }
}

/* A kv as JSON: scalars as themselves, string arrays as arrays, other
 * arrays by their element type and count. */
static cJSON *kv_value(const struct ckpt_gguf_kv *kv)
{
    if (kv->type != CKPT_GGUF_ARRAY)
        return scalar(kv->type, kv);
    if (kv->elem_type == CKPT_GGUF_STRING && kv->n <= 256) {
        cJSON *a = cJSON_CreateArray();
        for (uint64_t i = 0; a && i < kv->n; i++) {
            cJSON *s = cJSON_CreateString(kv->array_str[i].str);
            if (!s || !cJSON_AddItemToArray(a, s)) {
                cJSON_Delete(a);
                return NULL;
            }
        }
        return a;
    }
    char buf[64];
    snprintf(buf, sizeof buf, "array of %llu %s", (unsigned long long)kv->n,
             ckpt_gguf_type_name(kv->elem_type));
    return cJSON_CreateString(buf);
}

static bool wanted_key(const char *key)
{
    return strncmp(key, CKPT_KEY_IMATRIX_PREFIX, strlen(CKPT_KEY_IMATRIX_PREFIX)) == 0 ||
           strncmp(key, CKPT_KEY_SOURCE_PREFIX, strlen(CKPT_KEY_SOURCE_PREFIX)) == 0;
}

ckpt_status ckpt_provenance_add_gguf(cJSON *ck, const char *name, const char *path,
                                     ckpt_err *err)
{
    if (!is_gguf(path))
        return CKPT_OK;
    ckpt_gguf *g = NULL;
    ckpt_status s = ckpt_gguf_open(&g, path, err);
    if (s != CKPT_OK)
        return s;
    cJSON *o = cJSON_CreateObject(), *types = NULL, *meta = NULL, *list;
    bool ok = o && cJSON_AddStringToObject(o, "name", name) &&
              cJSON_AddNumberToObject(o, "version", ckpt_gguf_version(g));
    const struct ckpt_gguf_kv *ft = ckpt_gguf_find_kv(g, CKPT_KEY_FILE_TYPE);
    if (ok && ft && ft->type != CKPT_GGUF_ARRAY && ft->type != CKPT_GGUF_STRING)
        ok = cJSON_AddItemToObject(o, "file_type", scalar(ft->type, ft));
    if (ok)
        ok = (types = cJSON_AddObjectToObject(o, "tensor_types")) &&
             (meta = cJSON_AddObjectToObject(o, "metadata"));
    /* tensors per type, types in order of first appearance */
    for (size_t i = 0; ok && i < ckpt_gguf_n_tensors(g); i++) {
        const char *tn = ckpt_type_name(ckpt_gguf_tensor(g, i)->type);
        cJSON *c = cJSON_GetObjectItemCaseSensitive(types, tn);
        if (c)
            cJSON_SetNumberValue(c, c->valuedouble + 1);
        else
            ok = cJSON_AddNumberToObject(types, tn, 1) != NULL;
    }
    /* the recipe as JSON, not as the string the file holds it in */
    cJSON *recipe = NULL;
    ckpt_status rs = ok ? ckpt_recipe_of_gguf(&recipe, g, path, err) : CKPT_OK;
    if (rs != CKPT_OK) {
        ckpt_gguf_close(g);
        cJSON_Delete(o);
        return rs;
    }
    if (ok && recipe)
        ok = cJSON_AddItemToObject(o, "recipe", recipe);
    else
        cJSON_Delete(recipe);
    for (size_t i = 0; ok && i < ckpt_gguf_n_kv(g); i++) {
        const struct ckpt_gguf_kv *kv = ckpt_gguf_kv_at(g, i);
        if (!wanted_key(kv->key) || strcmp(kv->key, CKPT_KEY_SOURCE_CKPT_RECIPE) == 0)
            continue;
        cJSON *v = kv_value(kv);
        ok = v && cJSON_AddItemToObject(meta, kv->key, v);
    }
    ckpt_gguf_close(g);
    list = cJSON_GetObjectItemCaseSensitive(ck, "gguf");
    if (ok && !list)
        ok = (list = cJSON_AddArrayToObject(ck, "gguf")) != NULL;
    if (ok)
        ok = cJSON_AddItemToArray(list, o);
    if (!ok) {
        cJSON_Delete(o);
        return ckpt_err_set(err, CKPT_E_NOMEM, "%s: out of memory", path);
    }
    return CKPT_OK;
}

ckpt_status ckpt_provenance_add_st_recipe(cJSON *ck, const char *name, const char *path,
                                          ckpt_err *err)
{
    static const char ext[] = ".safetensors";
    size_t n = strlen(path);
    if (n < sizeof ext || strcmp(path + n - (sizeof ext - 1), ext))
        return CKPT_OK;
    ckpt_st *st = NULL;
    cJSON *recipe = NULL, *o = NULL, *list;
    ckpt_status s = ckpt_st_open(&st, path, NULL, err);
    for (size_t i = 0; s == CKPT_OK && !recipe && i < ckpt_st_n_metadata(st); i++) {
        const char *k, *v;
        ckpt_st_metadata(st, i, &k, &v);
        if (!strcmp(k, CKPT_CT_RECIPE_KEY))
            s = ckpt_recipe_parse(&recipe, v, strlen(v), path, err);
    }
    ckpt_st_close(st);
    if (s != CKPT_OK || !recipe)
        return s;
    list = cJSON_GetObjectItemCaseSensitive(ck, "safetensors");
    bool ok = (list || (list = cJSON_AddArrayToObject(ck, "safetensors"))) &&
              (o = cJSON_CreateObject()) && cJSON_AddItemToArray(list, o) &&
              cJSON_AddStringToObject(o, "name", name) && cJSON_AddItemToObject(o, "recipe", recipe);
    if (!ok) {
        if (!o)
            cJSON_Delete(recipe);
        return ckpt_err_set(err, CKPT_E_NOMEM, "%s: out of memory", path);
    }
    return CKPT_OK;
}
