/*
 * overrides.c - --tensor-type patterns and --override-kv values (see
 * overrides.h).
 */
#include "overrides.h"

#include "plan.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>

#define KV_MAX 127 /* llama_model_kv_override: char key[128], val_str[128] */

/* ==== --tensor-type ==== */

struct ckpt_qtt {
    regex_t re;
    int type;
    struct ckpt_qtt *next;
};

/* NAME lowercased (as llama-quantize does), \d and \w outside brackets
 * spelled as POSIX classes: std::regex (ECMAScript) knows them, regcomp
 * does not.  Caller frees. */
static char *posix_pattern(const char *name, size_t len)
{
    char *p = malloc(len * 12 + 1), *q = p;
    if (!p)
        return NULL;
    bool bracket = false;
    for (size_t i = 0; i < len; i++) {
        char c = (char)tolower((unsigned char)name[i]);
        if (!bracket && c == '\\' && i + 1 < len && (name[i + 1] == 'd' || name[i + 1] == 'w')) {
            const char *cls = name[++i] == 'd' ? "[0-9]" : "[a-z0-9_A-Z]";
            memcpy(q, cls, strlen(cls));
            q += strlen(cls);
            continue;
        }
        if (c == '\\' && i + 1 < len) { /* an escape: copy both */
            *q++ = c;
            *q++ = (char)tolower((unsigned char)name[++i]);
            continue;
        }
        if (c == '[')
            bracket = true;
        else if (c == ']')
            bracket = false;
        *q++ = c;
    }
    *q = '\0';
    return p;
}

ckpt_status ckpt_qtt_add(ckpt_qtt **list, const char *arg, ckpt_err *err)
{
    const char *eq = strchr(arg, '=');
    if (!eq)
        return ckpt_err_set(err, CKPT_E_USAGE, "--tensor-type '%s': not NAME=TYPE", arg);
    if (eq == arg)
        return ckpt_err_set(err, CKPT_E_USAGE, "--tensor-type '%s': no tensor name", arg);
    if (!eq[1])
        return ckpt_err_set(err, CKPT_E_USAGE, "--tensor-type '%s': no type", arg);
    int type = ckpt_type_from_name(eq + 1);
    if (type < 0 || !ckpt_qplan_type_storable(type))
        return ckpt_err_set(err, CKPT_E_USAGE,
                            "--tensor-type '%s': %s type '%s' (ckpt writes f32, f16, bf16, q4_0, "
                            "q4_1, q5_0, q5_1, q8_0, q2_K, q3_K, q4_K, q5_K, q6_K, iq4_nl)",
                            arg, type < 0 ? "unknown" : "cannot write", eq + 1);
    struct ckpt_qtt *t = calloc(1, sizeof *t);
    char *pat = posix_pattern(arg, (size_t)(eq - arg));
    if (!t || !pat) {
        free(t);
        free(pat);
        return ckpt_err_set(err, CKPT_E_NOMEM, "out of memory");
    }
    int rc = regcomp(&t->re, pat, REG_EXTENDED | REG_NOSUB);
    free(pat);
    if (rc != 0) {
        char why[128];
        regerror(rc, &t->re, why, sizeof why);
        free(t);
        return ckpt_err_set(err, CKPT_E_USAGE, "--tensor-type '%s': bad pattern: %s", arg, why);
    }
    t->type = type;
    while (*list) /* keep the order given: the first match wins */
        list = &(*list)->next;
    *list = t;
    return CKPT_OK;
}

int ckpt_qtt_match(const ckpt_qtt *list, const char *name)
{
    for (; list; list = list->next)
        if (regexec(&list->re, name, 0, NULL, 0) == 0)
            return list->type;
    return -1;
}

void ckpt_qtt_free(ckpt_qtt *list)
{
    while (list) {
        struct ckpt_qtt *next = list->next;
        regfree(&list->re);
        free(list);
        list = next;
    }
}

/* ==== --override-kv ==== */

static bool parse_value(char *v, struct ckpt_qsink_kv *kv)
{
    char *end;
    errno = 0;
    if (strncmp(v, "int:", 4) == 0) {
        long long x = strtoll(v + 4, &end, 10);
        if (errno || end == v + 4 || *end || llabs(x) > (long long)UINT32_MAX)
            return false;
        kv->type = CKPT_GGUF_UINT32;
        kv->v.u32 = (uint32_t)llabs(x);
    } else if (strncmp(v, "float:", 6) == 0) {
        double x = strtod(v + 6, &end);
        if (errno || end == v + 6 || *end || !isfinite(x))
            return false;
        kv->type = CKPT_GGUF_FLOAT32;
        kv->v.f32 = (float)x;
    } else if (strncmp(v, "bool:", 5) == 0) {
        if (strcmp(v + 5, "true") && strcmp(v + 5, "false"))
            return false;
        kv->type = CKPT_GGUF_BOOL;
        kv->v.b = strcmp(v + 5, "true") == 0;
    } else if (strncmp(v, "str:", 4) == 0) {
        if (strlen(v + 4) > KV_MAX)
            return false;
        kv->type = CKPT_GGUF_STRING;
        kv->v.str = v + 4;
    } else {
        return false;
    }
    return true;
}

ckpt_status ckpt_quant_kvs_add(struct ckpt_quant_kvs *l, const char *arg, ckpt_err *err)
{
    const char *eq = strchr(arg, '=');
    if (!eq || eq == arg || eq - arg > KV_MAX)
        return ckpt_err_set(err, CKPT_E_USAGE,
                            "--override-kv '%s': not KEY=TYPE:VALUE with a key of 1-%d bytes",
                            arg, KV_MAX);
    char *copy = strdup(arg);
    struct ckpt_qsink_kv *kv = realloc(l->kv, (l->n + 1) * sizeof *kv);
    if (kv)
        l->kv = kv;
    char **owned = kv ? realloc(l->owned, (l->n + 1) * sizeof *owned) : NULL;
    if (owned)
        l->owned = owned;
    if (!copy || !kv || !owned) {
        free(copy);
        return ckpt_err_set(err, CKPT_E_NOMEM, "out of memory");
    }
    copy[eq - arg] = '\0';
    kv[l->n] = (struct ckpt_qsink_kv){.key = copy};
    if (!parse_value(copy + (eq - arg) + 1, &kv[l->n])) {
        free(copy);
        return ckpt_err_set(err, CKPT_E_USAGE,
                            "--override-kv '%s': the value must be int:N, float:X, bool:true, "
                            "bool:false or str:TEXT (at most %d bytes)",
                            arg, KV_MAX);
    }
    owned[l->n++] = copy;
    return CKPT_OK;
}

void ckpt_quant_kvs_free(struct ckpt_quant_kvs *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->owned[i]);
    free(l->owned);
    free(l->kv);
    *l = (struct ckpt_quant_kvs){0};
}
