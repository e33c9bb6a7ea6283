/*
 * json_get.c - typed member lookups for untrusted JSON (see json_get.h).
 */
#include "json_get.h"

static const char *type_name(int type)
{
    switch (type) {
    case cJSON_String: return "a string";
    case cJSON_Object: return "an object";
    case cJSON_Array: return "an array";
    case cJSON_True | cJSON_False: return "a boolean";
    case cJSON_Number: return "a number";
    default: return "a value";
    }
}

ckpt_status ckpt_json_member_opt(const cJSON *obj, const char *key, int type, const char *name,
                                 const char *where, const cJSON **out, ckpt_err *err)
{
    *out = NULL;
    if (!cJSON_IsObject(obj))
        return ckpt_err_set(err, CKPT_E_FORMAT, "%s: %s is not an object", name, where);
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!v)
        return CKPT_OK;
    if (!(v->type & 0xff & type))
        return ckpt_err_set(err, CKPT_E_FORMAT, "%s: %s.%s is not %s", name, where, key,
                            type_name(type));
    *out = v;
    return CKPT_OK;
}

ckpt_status ckpt_json_member(const cJSON *obj, const char *key, int type, const char *name,
                             const char *where, const cJSON **out, ckpt_err *err)
{
    ckpt_status s = ckpt_json_member_opt(obj, key, type, name, where, out, err);
    if (s == CKPT_OK && !*out)
        s = ckpt_err_set(err, CKPT_E_FORMAT, "%s: %s has no \"%s\"", name, where, key);
    return s;
}
