/*
 * json.c - strict parsing of untrusted JSON on top of cJSON (see json.h).
 */
#include "json.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Length of the valid UTF-8 sequence at p (at most `left` bytes), 0 if
 * invalid: no overlong forms, no surrogates, nothing above U+10FFFF. */
static size_t utf8_len(const unsigned char *p, size_t left)
{
    unsigned char c = p[0];
    size_t n;
    uint32_t cp, min;
    if (c < 0x80)
        return 1;
    if ((c & 0xe0) == 0xc0)
        n = 2, cp = c & 0x1f, min = 0x80;
    else if ((c & 0xf0) == 0xe0)
        n = 3, cp = c & 0x0f, min = 0x800;
    else if ((c & 0xf8) == 0xf0)
        n = 4, cp = c & 0x07, min = 0x10000;
    else
        return 0;
    if (n > left)
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return 0;
        cp = cp << 6 | (p[i] & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return n;
}

bool ckpt_json_utf8_valid(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    for (size_t i = 0; i < n;) {
        size_t k = utf8_len(p + i, n - i);
        if (k == 0)
            return false;
        i += k;
    }
    return true;
}

static int hexdigit(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* The lexical checks cJSON does not make. */
static ckpt_status scan(const unsigned char *s, size_t len, const char *name, ckpt_err *err)
{
    bool in_string = false;
    for (size_t i = 0; i < len;) {
        unsigned char c = s[i];
        if (c == 0)
            return ckpt_err_set(err, CKPT_E_FORMAT, "%s: NUL byte at offset %zu", name, i);
        if (!in_string) {
            if (c == '"')
                in_string = true;
            i++;
            continue;
        }
        if (c == '"') {
            in_string = false;
            i++;
        } else if (c < 0x20) {
            return ckpt_err_set(err, CKPT_E_FORMAT,
                                "%s: control character in a string at offset %zu", name, i);
        } else if (c == '\\') {
            if (i + 1 >= len)
                return ckpt_err_set(err, CKPT_E_FORMAT, "%s: truncated escape", name);
            if (s[i + 1] == 'u') {
                if (len - i < 6)
                    return ckpt_err_set(err, CKPT_E_FORMAT, "%s: truncated \\u escape", name);
                int v = 0;
                for (int k = 2; k < 6; k++) {
                    int d = hexdigit(s[i + (size_t)k]);
                    if (d < 0)
                        return ckpt_err_set(err, CKPT_E_FORMAT,
                                            "%s: bad \\u escape at offset %zu", name, i);
                    v = v << 4 | d;
                }
                if (v == 0)
                    return ckpt_err_set(err, CKPT_E_FORMAT,
                                        "%s: \\u0000 in a string at offset %zu", name, i);
                i += 6;
            } else {
                i += 2;
            }
        } else {
            size_t n = utf8_len(s + i, len - i);
            if (n == 0)
                return ckpt_err_set(err, CKPT_E_FORMAT, "%s: invalid UTF-8 at offset %zu",
                                    name, i);
            i += n;
        }
    }
    return CKPT_OK;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Reject an object with two members of the same name, at any depth. */
static ckpt_status no_duplicates(const cJSON *node, const char *name, ckpt_err *err)
{
    if (!cJSON_IsObject(node) && !cJSON_IsArray(node))
        return CKPT_OK;
    size_t n = 0;
    for (const cJSON *c = node->child; c; c = c->next) {
        n++;
        ckpt_status s = no_duplicates(c, name, err);
        if (s != CKPT_OK)
            return s;
    }
    if (!cJSON_IsObject(node) || n < 2)
        return CKPT_OK;
    const char **keys = malloc(n * sizeof *keys);
    if (!keys)
        return ckpt_err_set(err, CKPT_E_NOMEM, "%s: out of memory", name);
    size_t k = 0;
    for (const cJSON *c = node->child; c; c = c->next)
        keys[k++] = c->string ? c->string : "";
    qsort(keys, n, sizeof *keys, cmp_str);
    ckpt_status s = CKPT_OK;
    for (size_t i = 1; i < n && s == CKPT_OK; i++)
        if (strcmp(keys[i - 1], keys[i]) == 0)
            s = ckpt_err_set(err, CKPT_E_FORMAT, "%s: duplicate key \"%.64s\"", name, keys[i]);
    free(keys);
    return s;
}

ckpt_status ckpt_json_parse(const char *text, size_t len, const char *name, cJSON **out,
                            ckpt_err *err)
{
    *out = NULL;
    if (len > CKPT_JSON_MAX_BYTES)
        return ckpt_err_set(err, CKPT_E_RANGE, "%s: JSON document of %zu bytes is too large",
                            name, len);
    if (len == 0)
        return ckpt_err_set(err, CKPT_E_FORMAT, "%s: empty JSON document", name);
    ckpt_status s = scan((const unsigned char *)text, len, name, err);
    if (s != CKPT_OK)
        return s;
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(text, len, &end, 0);
    if (!root) {
        size_t at = end && end >= text && end <= text + len ? (size_t)(end - text) : 0;
        return ckpt_err_set(err, CKPT_E_FORMAT, "%s: invalid JSON near offset %zu", name, at);
    }
    for (const char *p = end; p < text + len; p++) {
        if (*p != ' ' && *p != '\t' && *p != '\n' && *p != '\r') {
            cJSON_Delete(root);
            return ckpt_err_set(err, CKPT_E_FORMAT, "%s: trailing data after JSON at offset %zu",
                                name, (size_t)(p - text));
        }
    }
    s = no_duplicates(root, name, err);
    if (s != CKPT_OK) {
        cJSON_Delete(root);
        return s;
    }
    *out = root;
    return CKPT_OK;
}

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
