/*
 * bundle.c - Sigstore bundle v0.3 with a DSSE envelope: the PAE, strict
 * parsing and writing (see bundle.h).
 */
#include "bundle.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "b64.h"
#include "json_get.h"
#include "json_strict.h"

ckpt_status ckpt_bundle_pae(const char *payload_type, const uint8_t *payload, size_t len,
                            uint8_t **out, size_t *out_len, ckpt_err *err)
{
    *out = NULL;
    char head[128];
    size_t tlen = strlen(payload_type);
    int h = snprintf(head, sizeof head, "DSSEv1 %zu ", tlen);
    int t = snprintf(NULL, 0, " %zu ", len);
    if (h < 0 || t < 0 || (size_t)h >= sizeof head || len > SIZE_MAX - 256 - tlen)
        return ckpt_err_set(err, CKPT_E_RANGE, "pae: payload too large");
    size_t total = (size_t)h + tlen + (size_t)t + len;
    uint8_t *buf = malloc(total + 1);
    if (!buf)
        return ckpt_err_set(err, CKPT_E_NOMEM, "pae: out of memory");
    memcpy(buf, head, (size_t)h);
    memcpy(buf + h, payload_type, tlen);
    snprintf((char *)buf + (size_t)h + tlen, (size_t)t + 1, " %zu ", len);
    if (len)
        memcpy(buf + (size_t)h + tlen + (size_t)t, payload, len);
    *out = buf;
    *out_len = total;
    return CKPT_OK;
}

static ckpt_status dup_string(const cJSON *v, char **out, const char *name, ckpt_err *err)
{
    *out = strdup(v->valuestring);
    return *out ? CKPT_OK : ckpt_err_set(err, CKPT_E_NOMEM, "%s: out of memory", name);
}

static ckpt_status decode(const cJSON *v, const char *name, const char *field, uint8_t **out,
                          size_t *out_len, ckpt_err *err)
{
    char what[300];
    snprintf(what, sizeof what, "%s: %s", name, field);
    return ckpt_b64_decode(v->valuestring, strlen(v->valuestring), what, out, out_len, err);
}

static ckpt_status parse_material(const cJSON *root, const char *name, struct ckpt_bundle *b,
                                  ckpt_err *err)
{
    const cJSON *vm = NULL, *pk = NULL, *hint = NULL, *tlog = NULL, *raw = NULL;
    ckpt_status s = ckpt_json_member(root, "verificationMaterial", cJSON_Object, name,
                                     "bundle", &vm, err);
    if (s != CKPT_OK)
        return s;
    s = ckpt_json_member_opt(vm, "publicKey", cJSON_Object, name, "verificationMaterial", &pk,
                             err);
    if (s == CKPT_OK && !pk)
        return ckpt_err_set(err, CKPT_E_UNSUPPORTED,
                            "%s: not signed with a key (certificate and Sigstore identity "
                            "bundles are not supported)", name);
    if (s == CKPT_OK)
        s = ckpt_json_member_opt(pk, "hint", cJSON_String | cJSON_NULL, name, "publicKey",
                                 &hint, err);
    if (s == CKPT_OK)
        s = ckpt_json_member_opt(pk, "rawBytes", cJSON_String, name, "publicKey", &raw, err);
    if (s == CKPT_OK)
        s = ckpt_json_member_opt(pk, "keyDetails", cJSON_String, name, "publicKey", &raw, err);
    if (s == CKPT_OK)
        s = ckpt_json_member_opt(vm, "tlogEntries", cJSON_Array, name, "verificationMaterial",
                                 &tlog, err);
    if (s == CKPT_OK && cJSON_IsString(hint) && hint->valuestring[0])
        s = dup_string(hint, &b->hint, name, err);
    return s;
}

static ckpt_status parse_envelope(const cJSON *root, const char *name, struct ckpt_bundle *b,
                                  ckpt_err *err)
{
    const cJSON *env = NULL, *payload = NULL, *ptype = NULL, *sigs = NULL, *sig = NULL;
    const cJSON *keyid = NULL;
    ckpt_status s = ckpt_json_member_opt(root, "dsseEnvelope", cJSON_Object, name, "bundle",
                                         &env, err);
    if (s == CKPT_OK && !env)
        return ckpt_err_set(err, CKPT_E_UNSUPPORTED, "%s: the bundle holds no DSSE envelope",
                            name);
    if (s == CKPT_OK)
        s = ckpt_json_member(env, "payload", cJSON_String, name, "dsseEnvelope", &payload, err);
    if (s == CKPT_OK)
        s = ckpt_json_member(env, "payloadType", cJSON_String, name, "dsseEnvelope", &ptype,
                             err);
    if (s == CKPT_OK)
        s = ckpt_json_member(env, "signatures", cJSON_Array, name, "dsseEnvelope", &sigs, err);
    if (s == CKPT_OK && cJSON_GetArraySize(sigs) != 1)
        s = ckpt_err_set(err, CKPT_E_FORMAT, "%s: expected exactly one signature, found %d",
                         name, cJSON_GetArraySize(sigs));
    if (s == CKPT_OK && !cJSON_IsObject(sigs->child))
        s = ckpt_err_set(err, CKPT_E_FORMAT, "%s: the signature is not an object", name);
    if (s == CKPT_OK)
        s = ckpt_json_member(sigs->child, "sig", cJSON_String, name, "signature", &sig, err);
    if (s == CKPT_OK)
        s = ckpt_json_member_opt(sigs->child, "keyid", cJSON_String | cJSON_NULL, name,
                                 "signature", &keyid, err);
    if (s == CKPT_OK)
        s = dup_string(ptype, &b->payload_type, name, err);
    if (s == CKPT_OK)
        s = decode(payload, name, "dsseEnvelope.payload", &b->payload, &b->payload_len, err);
    if (s == CKPT_OK)
        s = decode(sig, name, "signature", &b->sig, &b->sig_len, err);
    if (s == CKPT_OK && b->sig_len == 0)
        s = ckpt_err_set(err, CKPT_E_FORMAT, "%s: the signature is empty", name);
    return s;
}

ckpt_status ckpt_bundle_parse(const char *json, size_t len, const char *name,
                              struct ckpt_bundle *b, ckpt_err *err)
{
    if (len > CKPT_BUNDLE_MAX_BYTES)
        return ckpt_err_set(err, CKPT_E_RANGE, "%s: %zu bytes is too large for a signature",
                            name, len);
    ckpt_json *doc = NULL;
    const cJSON *root = NULL, *mt = NULL;
    ckpt_status s = ckpt_json_parse(&doc, json, len, name, NULL, NULL, err);
    if (s == CKPT_OK)
        root = ckpt_json_root(doc);
    if (s == CKPT_OK && !cJSON_IsObject(root))
        s = ckpt_err_set(err, CKPT_E_FORMAT, "%s: the bundle is not a JSON object", name);
    if (s == CKPT_OK)
        s = ckpt_json_member(root, "mediaType", cJSON_String, name, "bundle", &mt, err);
    if (s == CKPT_OK)
        s = dup_string(mt, &b->media_type, name, err);
    if (s == CKPT_OK)
        s = parse_material(root, name, b, err);
    if (s == CKPT_OK)
        s = parse_envelope(root, name, b, err);
    ckpt_json_free(doc);
    return s;
}

ckpt_status ckpt_bundle_to_json(const uint8_t *payload, size_t payload_len, const uint8_t *sig,
                                size_t sig_len, const char *hint, char **out, ckpt_err *err)
{
    *out = NULL;
    char *p64 = NULL, *s64 = NULL, *text = NULL;
    ckpt_status s = ckpt_b64_encode(payload, payload_len, &p64, err);
    if (s == CKPT_OK)
        s = ckpt_b64_encode(sig, sig_len, &s64, err);
    cJSON *root = s == CKPT_OK ? cJSON_CreateObject() : NULL, *vm, *pk, *env, *sigs, *one;
    bool ok = root && cJSON_AddStringToObject(root, "mediaType", CKPT_BUNDLE_MEDIA_TYPE) &&
              (vm = cJSON_AddObjectToObject(root, "verificationMaterial")) &&
              (pk = cJSON_AddObjectToObject(vm, "publicKey")) &&
              cJSON_AddStringToObject(pk, "hint", hint) &&
              cJSON_AddArrayToObject(vm, "tlogEntries") &&
              (env = cJSON_AddObjectToObject(root, "dsseEnvelope")) &&
              cJSON_AddStringToObject(env, "payload", p64) &&
              cJSON_AddStringToObject(env, "payloadType", CKPT_DSSE_INTOTO_TYPE) &&
              (sigs = cJSON_AddArrayToObject(env, "signatures")) &&
              (one = cJSON_CreateObject()) && cJSON_AddItemToArray(sigs, one) &&
              cJSON_AddStringToObject(one, "sig", s64) &&
              cJSON_AddStringToObject(one, "keyid", "");
    if (ok)
        text = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    free(p64);
    free(s64);
    if (s != CKPT_OK)
        return s;
    size_t n = text ? strlen(text) : 0;
    char *line = text ? realloc(text, n + 2) : NULL;
    if (!line) {
        free(text);
        return ckpt_err_set(err, CKPT_E_NOMEM, "bundle: out of memory");
    }
    line[n] = '\n';
    line[n + 1] = '\0';
    *out = line;
    return CKPT_OK;
}

void ckpt_bundle_free(struct ckpt_bundle *b)
{
    if (!b)
        return;
    free(b->media_type);
    free(b->hint);
    free(b->payload_type);
    free(b->payload);
    free(b->sig);
    memset(b, 0, sizeof *b);
}
