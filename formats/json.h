/*
 * json.h - cJSON made safe for untrusted documents, plus typed lookups.
 *
 * cJSON 1.7.15 accepts things a verifier must not: duplicate keys (the
 * first one wins in lookups, so two readers can disagree on a document),
 * \u0000 inside strings (cut short as C strings), raw control characters,
 * invalid UTF-8 and trailing garbage.  ckpt_json_parse scans the text for
 * those first, then parses with cJSON and walks the tree for duplicates.
 */
#ifndef CKPT_FORMATS_JSON_H
#define CKPT_FORMATS_JSON_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "../kernels/err.h"

/* Largest document accepted (a signature bundle of a model with a million
 * files stays well below it). */
#define CKPT_JSON_MAX_BYTES ((size_t)256 << 20)

/*
 * Parse `len` bytes of `text` (need not be NUL-terminated) as one JSON
 * value.  `name` (the file, or "file: field") prefixes messages.  Refused
 * with CKPT_E_FORMAT: syntax errors, a NUL byte or \u0000, raw control
 * characters in strings, invalid UTF-8, duplicate keys in an object,
 * anything but whitespace after the value.  CKPT_E_RANGE: over
 * CKPT_JSON_MAX_BYTES.  The caller owns *out (cJSON_Delete).
 */
ckpt_status ckpt_json_parse(const char *text, size_t len, const char *name, cJSON **out,
                            ckpt_err *err);

/* True if s[0..n) is valid UTF-8 (no overlong forms, surrogates or code
 * points above U+10FFFF). */
bool ckpt_json_utf8_valid(const char *s, size_t n);

/*
 * Member `key` of object `obj`, required to exist and to have cJSON type
 * `type` (cJSON_String, cJSON_Object, cJSON_Array, cJSON_True|cJSON_False
 * for a boolean).  `where` names the object in messages.  Errors:
 * CKPT_E_FORMAT.
 */
ckpt_status ckpt_json_member(const cJSON *obj, const char *key, int type, const char *name,
                             const char *where, const cJSON **out, ckpt_err *err);

/* Same, but absence is fine (*out = NULL, CKPT_OK); a wrong type is not. */
ckpt_status ckpt_json_member_opt(const cJSON *obj, const char *key, int type, const char *name,
                                 const char *where, const cJSON **out, ckpt_err *err);

#endif
