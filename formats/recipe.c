/*
 * recipe.c - the build recipe a file carries (see recipe.h).
 */
#include "recipe.h"

#include <stdlib.h>
#include <string.h>

#include "../arch/gguf_keys.h"
#include "json_get.h"
#include "json_strict.h"
#include "mapfile.h"

#ifndef CKPT_VERSION
#define CKPT_VERSION "unknown"
#endif

static bool is_hex64(const char *s)
{
    uint8_t d[CKPT_SHA256_LEN];
    return strlen(s) == 64 && ckpt_sha256_from_hex(s, d);
}

static ckpt_status check_inputs(const cJSON *step, const char *what, ckpt_err *err)
{
    const cJSON *in = NULL, *v;
    ckpt_status s = ckpt_json_member_opt(step, "inputs", cJSON_Array, what, "recipe step", &in,
                                         err);
    for (const cJSON *i = in ? in->child : NULL; s == CKPT_OK && i; i = i->next) {
        if (!cJSON_IsObject(i))
            return ckpt_err_set(err, CKPT_E_FORMAT, "%s: recipe: an input is not an object",
                                what);
        s = ckpt_json_member(i, "role", cJSON_String, what, "recipe input", &v, err);
        if (s == CKPT_OK)
            s = ckpt_json_member(i, "name", cJSON_String, what, "recipe input", &v, err);
        if (s == CKPT_OK)
            s = ckpt_json_member(i, "sha256", cJSON_String, what, "recipe input", &v, err);
        if (s == CKPT_OK && !is_hex64(v->valuestring))
            s = ckpt_err_set(err, CKPT_E_FORMAT, "%s: recipe: input digest '%.80s' is not 64 "
                             "lowercase hex digits", what, v->valuestring);
    }
    return s;
}

static ckpt_status check(const cJSON *r, const char *what, ckpt_err *err)
{
    const cJSON *v, *steps;
    if (!cJSON_IsObject(r))
        return ckpt_err_set(err, CKPT_E_FORMAT, "%s: recipe: not a JSON object", what);
    ckpt_status s = ckpt_json_member(r, "version", cJSON_Number, what, "recipe", &v, err);
    if (s == CKPT_OK && v->valuedouble != CKPT_RECIPE_VERSION)
        s = ckpt_err_set(err, CKPT_E_FORMAT, "%s: recipe version %g; this ckpt reads version "
                         "%d (a newer ckpt wrote it?)", what, v->valuedouble, CKPT_RECIPE_VERSION);
    if (s == CKPT_OK)
        s = ckpt_json_member(r, "steps", cJSON_Array, what, "recipe", &steps, err);
    if (s != CKPT_OK)
        return s;
    int n = cJSON_GetArraySize(steps);
    if (n < 1 || n > CKPT_RECIPE_MAX_STEPS)
        return ckpt_err_set(err, CKPT_E_FORMAT, "%s: recipe has %d steps (1 to %d)", what, n,
                            CKPT_RECIPE_MAX_STEPS);
    for (const cJSON *st = steps->child; s == CKPT_OK && st; st = st->next) {
        if (!cJSON_IsObject(st))
            return ckpt_err_set(err, CKPT_E_FORMAT, "%s: recipe: a step is not an object", what);
        s = ckpt_json_member(st, "tool", cJSON_String, what, "recipe step", &v, err);
        if (s == CKPT_OK)
            s = ckpt_json_member(st, "version", cJSON_String, what, "recipe step", &v, err);
        if (s == CKPT_OK)
            s = check_inputs(st, what, err);
    }
    return s;
}

ckpt_status ckpt_recipe_parse(cJSON **out, const char *text, size_t len, const char *what,
                              ckpt_err *err)
{
    *out = NULL;
    if (len > CKPT_RECIPE_MAX_BYTES)
        return ckpt_err_set(err, CKPT_E_RANGE, "%s: recipe of %zu bytes (at most %u)", what, len,
                            CKPT_RECIPE_MAX_BYTES);
    const struct ckpt_json_limits lim = {65536, 16};
    ckpt_json *j = NULL;
    ckpt_status s = ckpt_json_parse(&j, text, len, what, &lim, NULL, err);
    if (s == CKPT_OK)
        s = check(ckpt_json_root(j), what, err);
    if (s == CKPT_OK && !(*out = cJSON_Duplicate(ckpt_json_root(j), 1)))
        s = ckpt_err_set(err, CKPT_E_NOMEM, "%s: out of memory", what);
    ckpt_json_free(j);
    return s;
}

ckpt_status ckpt_recipe_of_gguf(cJSON **out, const ckpt_gguf *g, const char *what,
                                ckpt_err *err)
{
    *out = NULL;
    const struct ckpt_gguf_kv *kv = ckpt_gguf_find_kv(g, CKPT_KEY_SOURCE_CKPT_RECIPE);
    if (!kv)
        return CKPT_OK;
    if (kv->type != CKPT_GGUF_STRING)
        return ckpt_err_set(err, CKPT_E_FORMAT, "%s: %s is a %s, not a string", what,
                            CKPT_KEY_SOURCE_CKPT_RECIPE, ckpt_gguf_type_name(kv->type));
    return ckpt_recipe_parse(out, kv->v.str.str, (size_t)kv->v.str.len, what, err);
}

cJSON *ckpt_recipe_step_new(const char *tool)
{
    cJSON *st = cJSON_CreateObject();
    if (st && cJSON_AddStringToObject(st, "tool", tool) &&
        cJSON_AddStringToObject(st, "version", CKPT_VERSION))
        return st;
    cJSON_Delete(st);
    return NULL;
}

ckpt_status ckpt_recipe_add_input(cJSON *step, const char *role, const char *name,
                                  const uint8_t digest[CKPT_SHA256_LEN], ckpt_err *err)
{
    char hex[CKPT_SHA256_HEX];
    ckpt_sha256_hex(digest, hex);
    cJSON *in = cJSON_GetObjectItemCaseSensitive(step, "inputs"), *o;
    if (!in)
        in = cJSON_AddArrayToObject(step, "inputs");
    bool ok = in && (o = cJSON_CreateObject()) && cJSON_AddItemToArray(in, o) &&
              cJSON_AddStringToObject(o, "role", role) &&
              cJSON_AddStringToObject(o, "name", name) &&
              cJSON_AddStringToObject(o, "sha256", hex);
    return ok ? CKPT_OK : ckpt_err_set(err, CKPT_E_NOMEM, "recipe: out of memory");
}

static const char *const split_keys[2] = {"split_max_size", "split_max_tensors"};

bool ckpt_recipe_add_split(cJSON *step, uint64_t max_bytes, uint64_t max_tensors)
{
    const uint64_t v[2] = {max_bytes, max_tensors};
    for (int i = 0; i < 2; i++)
        if (v[i] && !cJSON_AddNumberToObject(step, split_keys[i], (double)v[i]))
            return false;
    return true;
}

ckpt_status ckpt_recipe_split_of(const cJSON *step, uint64_t *max_bytes, uint64_t *max_tensors,
                                 const char *what, ckpt_err *err)
{
    uint64_t *v[2] = {max_bytes, max_tensors};
    for (int i = 0; i < 2; i++) {
        const cJSON *n = cJSON_GetObjectItemCaseSensitive(step, split_keys[i]);
        *v[i] = 0;
        if (!n)
            continue;
        /* 2^53: every whole number up to it is exact in the JSON double */
        if (!cJSON_IsNumber(n) || !(n->valuedouble >= 1 && n->valuedouble <= 9007199254740992.0) ||
            n->valuedouble != (double)(uint64_t)n->valuedouble)
            return ckpt_err_set(err, CKPT_E_FORMAT, "%s: recipe: %s is not a whole number "
                                "from 1 to 2^53", what, split_keys[i]);
        *v[i] = (uint64_t)n->valuedouble;
    }
    return CKPT_OK;
}

ckpt_status ckpt_recipe_extend(char **out, const cJSON *prior, cJSON *step, ckpt_err *err)
{
    *out = NULL;
    cJSON *r = prior ? cJSON_Duplicate(prior, 1) : cJSON_CreateObject(), *steps;
    if (r && !prior && (!cJSON_AddNumberToObject(r, "version", CKPT_RECIPE_VERSION) ||
                        !cJSON_AddArrayToObject(r, "steps"))) {
        cJSON_Delete(r);
        r = NULL;
    }
    steps = r ? cJSON_GetObjectItemCaseSensitive(r, "steps") : NULL;
    if (!steps || !step) {
        cJSON_Delete(r);
        cJSON_Delete(step);
        return ckpt_err_set(err, CKPT_E_NOMEM, "recipe: out of memory");
    }
    if (cJSON_GetArraySize(steps) >= CKPT_RECIPE_MAX_STEPS) {
        cJSON_Delete(r);
        cJSON_Delete(step);
        return ckpt_err_set(err, CKPT_E_RANGE, "recipe: the input was made in %d steps already "
                            "(at most %d are recorded)", CKPT_RECIPE_MAX_STEPS,
                            CKPT_RECIPE_MAX_STEPS);
    }
    cJSON_AddItemToArray(steps, step);
    *out = cJSON_PrintUnformatted(r);
    cJSON_Delete(r);
    return *out ? CKPT_OK : ckpt_err_set(err, CKPT_E_NOMEM, "recipe: out of memory");
}

const cJSON *ckpt_recipe_last(const cJSON *recipe)
{
    const cJSON *steps = cJSON_GetObjectItemCaseSensitive(recipe, "steps");
    int n = cJSON_GetArraySize(steps);
    return n > 0 ? cJSON_GetArrayItem(steps, n - 1) : NULL;
}

int ckpt_recipe_n_steps(const cJSON *recipe)
{
    return cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(recipe, "steps"));
}

ckpt_status ckpt_recipe_hash_file(const char *path, uint8_t d[CKPT_SHA256_LEN], ckpt_err *err)
{
    ckpt_map *m = NULL;
    ckpt_status s = ckpt_map_open(&m, path, err);
    if (s == CKPT_OK)
        s = ckpt_sha256_buf(m->size ? m->data : NULL, m->size, d, err);
    ckpt_map_close(m);
    return s;
}
