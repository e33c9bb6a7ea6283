/*
 * manifest.c - build and check the in-toto statement of a model signature
 * (see manifest.h; field by field in man/ckpt-manifest.5).
 */
#include "manifest.h"

#include <stdlib.h>
#include <string.h>

#include "json_get.h"
#include "json_strict.h"

/* ==== building ==== */

ckpt_status ckpt_manifest_add(struct ckpt_manifest *m, const char *name,
                              const uint8_t digest[CKPT_SHA256_LEN], ckpt_err *err)
{
    if (m->n_res == m->cap_res) {
        size_t cap = m->cap_res ? 2 * m->cap_res : 16;
        struct ckpt_resource *r = realloc(m->res, cap * sizeof *r);
        if (!r)
            return ckpt_err_set(err, CKPT_E_NOMEM, "manifest: out of memory");
        m->res = r;
        m->cap_res = cap;
    }
    char *copy = strdup(name);
    if (!copy)
        return ckpt_err_set(err, CKPT_E_NOMEM, "manifest: out of memory");
    m->res[m->n_res].name = copy;
    memcpy(m->res[m->n_res].digest, digest, CKPT_SHA256_LEN);
    m->n_res++;
    return CKPT_OK;
}

ckpt_status ckpt_manifest_add_ignore(struct ckpt_manifest *m, const char *path, ckpt_err *err)
{
    /* "./x/" and "x" are the same ignore path */
    while (path[0] == '.' && path[1] == '/')
        path += 2;
    size_t len = strlen(path);
    while (len > 1 && path[len - 1] == '/')
        len--;
    for (size_t i = 0; i < m->n_ignore; i++)
        if (strlen(m->ignore[i]) == len && memcmp(m->ignore[i], path, len) == 0)
            return CKPT_OK;
    if (m->n_ignore == m->cap_ignore) {
        size_t cap = m->cap_ignore ? 2 * m->cap_ignore : 8;
        char **r = realloc(m->ignore, cap * sizeof *r);
        if (!r)
            return ckpt_err_set(err, CKPT_E_NOMEM, "manifest: out of memory");
        m->ignore = r;
        m->cap_ignore = cap;
    }
    char *copy = strndup(path, len);
    if (!copy)
        return ckpt_err_set(err, CKPT_E_NOMEM, "manifest: out of memory");
    m->ignore[m->n_ignore++] = copy;
    return CKPT_OK;
}

ckpt_status ckpt_manifest_set_subject(struct ckpt_manifest *m, const char *name, ckpt_err *err)
{
    char *copy = strdup(name);
    if (!copy)
        return ckpt_err_set(err, CKPT_E_NOMEM, "manifest: out of memory");
    free(m->subject);
    m->subject = copy;
    return CKPT_OK;
}

int ckpt_manifest_name_cmp(const char *a, const char *b)
{
    /* Comparing component lists equals comparing bytes with '/' ranked
     * below every other byte (names hold no NUL).  Python compares str by
     * code point, which is UTF-8 byte order. */
    const unsigned char *p = (const unsigned char *)a, *q = (const unsigned char *)b;
    for (;; p++, q++) {
        unsigned x = *p == '/' ? 1 : *p == 0 ? 0 : *p + 1u;
        unsigned y = *q == '/' ? 1 : *q == 0 ? 0 : *q + 1u;
        if (x != y)
            return x < y ? -1 : 1;
        if (x == 0)
            return 0;
    }
}

static int cmp_resource(const void *a, const void *b)
{
    return ckpt_manifest_name_cmp(((const struct ckpt_resource *)a)->name,
                                  ((const struct ckpt_resource *)b)->name);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

void ckpt_manifest_root(const struct ckpt_manifest *m, uint8_t out[CKPT_SHA256_LEN])
{
    uint8_t *all = malloc(m->n_res ? m->n_res * CKPT_SHA256_LEN : 1);
    if (!all) { /* a digest that matches nothing real */
        memset(out, 0, CKPT_SHA256_LEN);
        return;
    }
    for (size_t i = 0; i < m->n_res; i++)
        memcpy(all + i * CKPT_SHA256_LEN, m->res[i].digest, CKPT_SHA256_LEN);
    if (ckpt_sha256_buf(all, m->n_res * CKPT_SHA256_LEN, out, NULL) != CKPT_OK)
        memset(out, 0, CKPT_SHA256_LEN);
    free(all);
}

void ckpt_manifest_finish(struct ckpt_manifest *m)
{
    if (m->n_res > 1)
        qsort(m->res, m->n_res, sizeof *m->res, cmp_resource);
    if (m->n_ignore > 1)
        qsort(m->ignore, m->n_ignore, sizeof *m->ignore, cmp_str);
    ckpt_manifest_root(m, m->root);
}

bool ckpt_manifest_name_safe(const char *name)
{
    if (!name || !*name || name[0] == '/')
        return false;
    const char *p = name;
    for (;;) {
        const char *slash = strchr(p, '/');
        size_t n = slash ? (size_t)(slash - p) : strlen(p);
        if (n == 0 || (n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
            return false;
        if (!slash)
            return true;
        p = slash + 1;
    }
}

bool ckpt_manifest_is_ignored(const struct ckpt_manifest *m, const char *name)
{
    for (size_t i = 0; i < m->n_ignore; i++) {
        size_t n = strlen(m->ignore[i]);
        if (strncmp(name, m->ignore[i], n) == 0 && (name[n] == '\0' || name[n] == '/'))
            return true;
    }
    return false;
}

void ckpt_manifest_free(struct ckpt_manifest *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->n_res; i++)
        free(m->res[i].name);
    free(m->res);
    for (size_t i = 0; i < m->n_ignore; i++)
        free(m->ignore[i]);
    free(m->ignore);
    free(m->subject);
    cJSON_Delete(m->ckpt);
    memset(m, 0, sizeof *m);
}

/* ==== statement JSON out ==== */

ckpt_status ckpt_manifest_to_statement(const struct ckpt_manifest *m, char **out, size_t *len,
                                       ckpt_err *err)
{
    *out = NULL;
    char hex[CKPT_SHA256_HEX];
    cJSON *st = cJSON_CreateObject(), *subj, *one, *dig, *pred, *ser, *ign, *res;
    bool ok = st && cJSON_AddStringToObject(st, "_type", CKPT_INTOTO_STATEMENT_V1) &&
              (subj = cJSON_AddArrayToObject(st, "subject")) &&
              (one = cJSON_CreateObject()) && cJSON_AddItemToArray(subj, one) &&
              cJSON_AddStringToObject(one, "name", m->subject ? m->subject : "") &&
              (dig = cJSON_AddObjectToObject(one, "digest"));
    if (ok) {
        ckpt_sha256_hex(m->root, hex);
        ok = cJSON_AddStringToObject(dig, "sha256", hex) &&
             cJSON_AddStringToObject(st, "predicateType", CKPT_MODEL_SIGNING_V1) &&
             (pred = cJSON_AddObjectToObject(st, "predicate")) &&
             (ser = cJSON_AddObjectToObject(pred, "serialization")) &&
             cJSON_AddStringToObject(ser, "method", "files") &&
             cJSON_AddStringToObject(ser, "hash_type", "sha256") &&
             cJSON_AddFalseToObject(ser, "allow_symlinks") &&
             (ign = cJSON_AddArrayToObject(ser, "ignore_paths")) &&
             (res = cJSON_AddArrayToObject(pred, "resources"));
    }
    for (size_t i = 0; ok && i < m->n_ignore; i++) {
        cJSON *s = cJSON_CreateString(m->ignore[i]);
        ok = s && cJSON_AddItemToArray(ign, s);
    }
    for (size_t i = 0; ok && i < m->n_res; i++) {
        cJSON *r = cJSON_CreateObject();
        ckpt_sha256_hex(m->res[i].digest, hex);
        ok = r && cJSON_AddItemToArray(res, r) &&
             cJSON_AddStringToObject(r, "name", m->res[i].name) &&
             cJSON_AddStringToObject(r, "algorithm", "sha256") &&
             cJSON_AddStringToObject(r, "digest", hex);
    }
    if (ok && m->ckpt) {
        cJSON *c = cJSON_Duplicate(m->ckpt, 1);
        ok = c && cJSON_AddItemToObject(pred, "ckpt", c);
    }
    char *text = ok ? cJSON_PrintUnformatted(st) : NULL;
    cJSON_Delete(st);
    if (!text)
        return ckpt_err_set(err, CKPT_E_NOMEM, "statement: out of memory");
    *out = text;
    *len = strlen(text);
    return CKPT_OK;
}

/* ==== statement JSON in ==== */

static ckpt_status want_string(const cJSON *obj, const char *key, const char *want,
                               const char *name, const char *where, ckpt_err *err)
{
    const cJSON *v;
    ckpt_status s = ckpt_json_member(obj, key, cJSON_String, name, where, &v, err);
    if (s != CKPT_OK)
        return s;
    if (strcmp(v->valuestring, want) != 0)
        return ckpt_err_set(err, CKPT_E_UNSUPPORTED, "%s: %s.%s is \"%.80s\", expected \"%s\"",
                            name, where, key, v->valuestring, want);
    return CKPT_OK;
}

static ckpt_status get_digest(const cJSON *obj, const char *key, const char *name,
                              const char *where, uint8_t out[CKPT_SHA256_LEN], ckpt_err *err)
{
    const cJSON *v;
    ckpt_status s = ckpt_json_member(obj, key, cJSON_String, name, where, &v, err);
    if (s == CKPT_OK && !ckpt_sha256_from_hex(v->valuestring, out))
        s = ckpt_err_set(err, CKPT_E_FORMAT, "%s: %s.%s is not 64 lowercase hex digits", name,
                         where, key);
    return s;
}

/* A ".." component anywhere in a path. */
static bool has_dotdot(const char *p)
{
    for (const char *c = p; (c = strstr(c, "..")) != NULL; c += 2)
        if ((c == p || c[-1] == '/') && (c[2] == '\0' || c[2] == '/'))
            return true;
    return false;
}

static ckpt_status parse_serialization(const cJSON *pred, const char *name,
                                       struct ckpt_manifest *m, ckpt_err *err)
{
    const cJSON *ser = NULL, *sym = NULL, *ign = NULL;
    ckpt_status s = ckpt_json_member(pred, "serialization", cJSON_Object, name, "predicate",
                                     &ser, err);
    if (s == CKPT_OK)
        s = want_string(ser, "method", "files", name, "serialization", err);
    if (s == CKPT_OK)
        s = want_string(ser, "hash_type", "sha256", name, "serialization", err);
    if (s == CKPT_OK)
        s = ckpt_json_member(ser, "allow_symlinks", cJSON_True | cJSON_False, name,
                             "serialization", &sym, err);
    if (s == CKPT_OK && cJSON_IsTrue(sym))
        s = ckpt_err_set(err, CKPT_E_UNSUPPORTED,
                         "%s: signed with allow_symlinks, which ckpt does not follow", name);
    if (s == CKPT_OK)
        s = ckpt_json_member_opt(ser, "ignore_paths", cJSON_Array, name, "serialization", &ign,
                                 err);
    for (const cJSON *p = ign ? ign->child : NULL; s == CKPT_OK && p; p = p->next) {
        if (!cJSON_IsString(p))
            s = ckpt_err_set(err, CKPT_E_FORMAT, "%s: an ignore path is not a string", name);
        else if (p->valuestring[0] == '/' || has_dotdot(p->valuestring))
            s = ckpt_err_set(err, CKPT_E_FORMAT, "%s: ignore path \"%.80s\" is not relative",
                             name, p->valuestring);
        else
            s = ckpt_manifest_add_ignore(m, p->valuestring, err);
    }
    return s;
}

static ckpt_status parse_resources(const cJSON *pred, const char *name, struct ckpt_manifest *m,
                                   ckpt_err *err)
{
    const cJSON *res = NULL;
    ckpt_status s = ckpt_json_member(pred, "resources", cJSON_Array, name, "predicate", &res,
                                     err);
    size_t i = 0;
    for (const cJSON *r = res ? res->child : NULL; s == CKPT_OK && r; r = r->next, i++) {
        const cJSON *nm;
        uint8_t d[CKPT_SHA256_LEN];
        s = ckpt_json_member(r, "name", cJSON_String, name, "resource", &nm, err);
        if (s == CKPT_OK)
            s = want_string(r, "algorithm", "sha256", name, "resource", err);
        if (s == CKPT_OK)
            s = get_digest(r, "digest", name, "resource", d, err);
        if (s != CKPT_OK)
            break;
        /* "." is the one resource of a model that is a single file */
        bool single = strcmp(nm->valuestring, ".") == 0 && i == 0 && !r->next;
        if (!single && !ckpt_manifest_name_safe(nm->valuestring))
            s = ckpt_err_set(err, CKPT_E_FORMAT,
                             "%s: resource name \"%.120s\" is not a relative path inside the "
                             "model", name, nm->valuestring);
        else
            s = ckpt_manifest_add(m, nm->valuestring, d, err);
    }
    if (s == CKPT_OK && m->n_res == 0)
        s = ckpt_err_set(err, CKPT_E_FORMAT, "%s: the statement lists no resources", name);
    /* a name listed twice would make "the digest of x" ambiguous */
    if (s == CKPT_OK && m->n_res > 1) {
        struct ckpt_resource *copy = malloc(m->n_res * sizeof *copy);
        if (!copy)
            return ckpt_err_set(err, CKPT_E_NOMEM, "%s: out of memory", name);
        memcpy(copy, m->res, m->n_res * sizeof *copy);
        qsort(copy, m->n_res, sizeof *copy, cmp_resource);
        for (size_t k = 1; k < m->n_res && s == CKPT_OK; k++)
            if (strcmp(copy[k - 1].name, copy[k].name) == 0)
                s = ckpt_err_set(err, CKPT_E_FORMAT, "%s: resource \"%.120s\" listed twice",
                                 name, copy[k].name);
        free(copy);
    }
    return s;
}

/* The strict parser keeps a token index in each number's valueint; the copy
 * handed to callers is a plain cJSON tree again. */
static void plain_numbers(cJSON *n)
{
    for (; n; n = n->next) {
        if (cJSON_IsNumber(n))
            cJSON_SetNumberValue(n, n->valuedouble);
        plain_numbers(n->child);
    }
}

ckpt_status ckpt_manifest_from_statement(const uint8_t *json, size_t len, const char *name,
                                         struct ckpt_manifest *m, ckpt_err *err)
{
    ckpt_json *doc = NULL;
    const cJSON *root = NULL, *subj = NULL, *one = NULL, *sname = NULL, *dig = NULL;
    const cJSON *pred = NULL, *ck = NULL;
    ckpt_status s = ckpt_json_parse(&doc, (const char *)json, len, name, NULL, NULL, err);
    if (s == CKPT_OK)
        root = ckpt_json_root(doc);
    if (s == CKPT_OK && !cJSON_IsObject(root))
        s = ckpt_err_set(err, CKPT_E_FORMAT, "%s: the statement is not a JSON object", name);
    if (s == CKPT_OK)
        s = want_string(root, "_type", CKPT_INTOTO_STATEMENT_V1, name, "statement", err);
    if (s == CKPT_OK)
        s = want_string(root, "predicateType", CKPT_MODEL_SIGNING_V1, name, "statement", err);
    if (s == CKPT_OK)
        s = ckpt_json_member(root, "subject", cJSON_Array, name, "statement", &subj, err);
    if (s == CKPT_OK && cJSON_GetArraySize(subj) != 1)
        s = ckpt_err_set(err, CKPT_E_FORMAT, "%s: expected exactly one subject, found %d", name,
                         cJSON_GetArraySize(subj));
    if (s == CKPT_OK && !cJSON_IsObject(one = subj->child))
        s = ckpt_err_set(err, CKPT_E_FORMAT, "%s: the subject is not an object", name);
    if (s == CKPT_OK)
        s = ckpt_json_member(one, "name", cJSON_String, name, "subject", &sname, err);
    if (s == CKPT_OK)
        s = ckpt_manifest_set_subject(m, sname->valuestring, err);
    if (s == CKPT_OK)
        s = ckpt_json_member(one, "digest", cJSON_Object, name, "subject", &dig, err);
    if (s == CKPT_OK)
        s = get_digest(dig, "sha256", name, "subject.digest", m->root, err);
    if (s == CKPT_OK)
        s = ckpt_json_member(root, "predicate", cJSON_Object, name, "statement", &pred, err);
    if (s == CKPT_OK)
        s = parse_serialization(pred, name, m, err);
    if (s == CKPT_OK)
        s = parse_resources(pred, name, m, err);
    if (s == CKPT_OK)
        s = ckpt_json_member_opt(pred, "ckpt", cJSON_Object, name, "predicate", &ck, err);
    if (s == CKPT_OK && ck && !(m->ckpt = cJSON_Duplicate(ck, 1)))
        s = ckpt_err_set(err, CKPT_E_NOMEM, "%s: out of memory", name);
    if (s == CKPT_OK && m->ckpt)
        plain_numbers(m->ckpt);
    if (s == CKPT_OK) {
        uint8_t root_now[CKPT_SHA256_LEN];
        ckpt_manifest_root(m, root_now);
        if (memcmp(root_now, m->root, CKPT_SHA256_LEN) != 0)
            s = ckpt_err_set(err, CKPT_E_MISMATCH,
                             "%s: the subject digest does not match the listed resources", name);
    }
    ckpt_json_free(doc);
    return s;
}
