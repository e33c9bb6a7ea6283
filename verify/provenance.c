/*
 * provenance.c - the predicate.ckpt object (see provenance.h).
 */
#include "provenance.h"

#include <string.h>

#include "../formats/json_strict.h"
#include "../formats/sha256.h"

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
