/*
 * json_get.h - typed member lookups in a parsed untrusted JSON document
 * (parse it with ckpt_json_parse from json_strict.h first: duplicate keys,
 * NUL and invalid UTF-8 are refused there).  Every lookup names the file
 * and the field in its message, so a malformed bundle says what is wrong.
 */
#ifndef CKPT_FORMATS_JSON_GET_H
#define CKPT_FORMATS_JSON_GET_H

#include <cjson/cJSON.h>

#include "../kernels/err.h"

/*
 * Member `key` of object `obj`, required to exist and to have cJSON type
 * `type` (cJSON_String, cJSON_Object, cJSON_Array, cJSON_True|cJSON_False
 * for a boolean; types may be or-ed, e.g. cJSON_String|cJSON_NULL).
 * `name` (the file) and `where` (the object) go into messages.  Errors:
 * CKPT_E_FORMAT.
 */
ckpt_status ckpt_json_member(const cJSON *obj, const char *key, int type, const char *name,
                             const char *where, const cJSON **out, ckpt_err *err);

/* Same, but absence is fine (*out = NULL, CKPT_OK); a wrong type is not. */
ckpt_status ckpt_json_member_opt(const cJSON *obj, const char *key, int type, const char *name,
                                 const char *where, const cJSON **out, ckpt_err *err);

#endif
