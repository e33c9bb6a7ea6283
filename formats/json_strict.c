/*
 * json_strict.c - strict JSON on top of cJSON (see json_strict.h).
 *
 * Three passes: UTF-8 and NUL over the raw bytes; a lexer that checks the
 * token grammar, counts values and records every number token exactly;
 * cJSON for the tree, after which number items are tied to their tokens
 * and every object is checked for duplicate keys.
 */
#include "json_strict.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct num_token {
    bool is_u64;   /* written as a plain non-negative integer that fits */
    uint64_t value;
};

struct ckpt_json {
    cJSON *root;
    struct num_token *nums; /* number tokens in document order */
    size_t n_nums;
};

/* ---- UTF-8 ---- */

bool ckpt_utf8_valid(const uint8_t *s, size_t n, size_t *bad_at)
{
    size_t i = 0;
    while (i < n) {
        uint8_t c = s[i];
        size_t need;
        uint32_t cp, min;
        if (c < 0x80) {
            i++;
            continue;
        } else if (c >= 0xC2 && c <= 0xDF) {
            need = 1, cp = c & 0x1F, min = 0x80;
        } else if (c >= 0xE0 && c <= 0xEF) {
            need = 2, cp = c & 0x0F, min = 0x800;
        } else if (c >= 0xF0 && c <= 0xF4) {
            need = 3, cp = c & 0x07, min = 0x10000;
        } else {
            goto bad;
        }
        if (n - i - 1 < need)
            goto bad;
        for (size_t k = 1; k <= need; k++) {
            if ((s[i + k] & 0xC0) != 0x80)
                goto bad;
            cp = (cp << 6) | (s[i + k] & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            goto bad;
        i += need + 1;
    }
    return true;
bad:
    if (bad_at)
        *bad_at = i;
    return false;
}

const char *ckpt_json_printable(const char *s, char *buf, size_t n)
{
    size_t len = strlen(s), take = len;
    bool cut = len + 1 > n;
    if (cut) {
        take = n - 4; /* room for "..." and the NUL */
        while (take > 0 && ((unsigned char)s[take] & 0xC0) == 0x80)
            take--; /* s[take] starts a character: cut before it */
    }
    for (size_t i = 0; i < take; i++) {
        unsigned char c = (unsigned char)s[i];
        buf[i] = (c < 0x20 || c == 0x7F) ? '?' : (char)c;
    }
    if (cut)
        memcpy(buf + take, "...", 3), take += 3;
    buf[take] = '\0';
    return buf;
}

/* ---- lexer ---- */

struct lexer {
    const uint8_t *s;
    size_t n;
    const char *what;
    const struct ckpt_json_limits *lim;
    bool allow_nul; /* ckpt_json_parse_nul: \u0000 escapes pass */
    size_t values, top_members, depth;
    struct num_token *nums;
    size_t n_nums, cap_nums;
};

static bool is_ws(uint8_t c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
static bool is_digit(uint8_t c) { return c >= '0' && c <= '9'; }
static bool is_hex(uint8_t c)
{
    return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static ckpt_status lex_fail(ckpt_json_fail *fail, ckpt_json_fail why, ckpt_err *err,
                            ckpt_status code, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static ckpt_status lex_fail(ckpt_json_fail *fail, ckpt_json_fail why, ckpt_err *err,
                            ckpt_status code, const char *fmt, ...)
{
    char msg[CKPT_ERR_MSG_LEN];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (fail)
        *fail = why;
    return ckpt_err_set(err, code, "%s", msg);
}

/* Scan a string token starting at the opening quote; return the index after
 * the closing quote, or 0 after setting an error. */
static size_t lex_string(struct lexer *lx, size_t i, ckpt_json_fail *fail, ckpt_err *err)
{
    size_t j = i + 1;
    while (j < lx->n) {
        uint8_t c = lx->s[j];
        if (c == '"')
            return j + 1;
        if (c < 0x20) {
            lex_fail(fail, CKPT_JSON_BAD_SYNTAX, err, CKPT_E_FORMAT,
                     "%s: unescaped control character in a string at byte %zu", lx->what, j);
            return 0;
        }
        if (c != '\\') {
            j++;
            continue;
        }
        if (j + 1 >= lx->n)
            break;
        uint8_t e = lx->s[j + 1];
        if (e == 'u') {
            if (lx->n - j < 6 || !is_hex(lx->s[j + 2]) || !is_hex(lx->s[j + 3]) ||
                !is_hex(lx->s[j + 4]) || !is_hex(lx->s[j + 5])) {
                lex_fail(fail, CKPT_JSON_BAD_SYNTAX, err, CKPT_E_FORMAT,
                         "%s: invalid \\u escape at byte %zu", lx->what, j);
                return 0;
            }
            if (memcmp(lx->s + j + 2, "0000", 4) == 0 && !lx->allow_nul) {
                lex_fail(fail, CKPT_JSON_BAD_ENCODING, err, CKPT_E_FORMAT,
                         "%s: \\u0000 (NUL) escape in a string at byte %zu", lx->what, j);
                return 0;
            }
            j += 6;
        } else if (strchr("\"\\/bfnrt", e) && e != '\0') {
            j += 2;
        } else {
            lex_fail(fail, CKPT_JSON_BAD_SYNTAX, err, CKPT_E_FORMAT,
                     "%s: invalid escape in a string at byte %zu", lx->what, j);
            return 0;
        }
    }
    lex_fail(fail, CKPT_JSON_BAD_SYNTAX, err, CKPT_E_FORMAT,
             "%s: unterminated string starting at byte %zu", lx->what, i);
    return 0;
}

static bool push_number(struct lexer *lx, struct num_token t)
{
    if (lx->n_nums == lx->cap_nums) {
        size_t cap = lx->cap_nums ? lx->cap_nums * 2 : 64;
        struct num_token *p = realloc(lx->nums, cap * sizeof *p);
        if (!p)
            return false;
        lx->nums = p;
        lx->cap_nums = cap;
    }
    lx->nums[lx->n_nums++] = t;
    return true;
}

/* Scan a number token: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?
 * Return the index after it, or 0 after setting an error. */
static size_t lex_number(struct lexer *lx, size_t i, ckpt_json_fail *fail, ckpt_err *err)
{
    const uint8_t *s = lx->s;
    size_t n = lx->n, j = i;
    struct num_token t = {true, 0};
    if (s[j] == '-') {
        t.is_u64 = false;
        j++;
    }
    if (j >= n || !is_digit(s[j]))
        goto bad;
    if (s[j] == '0') {
        j++;
        if (j < n && is_digit(s[j]))
            goto bad; /* leading zero */
    } else {
        while (j < n && is_digit(s[j])) {
            unsigned d = (unsigned)(s[j] - '0');
            if (t.value > (UINT64_MAX - d) / 10)
                t.is_u64 = false; /* does not fit: keep scanning the token */
            else
                t.value = t.value * 10 + d;
            j++;
        }
    }
    if (j < n && s[j] == '.') {
        t.is_u64 = false;
        j++;
        if (j >= n || !is_digit(s[j]))
            goto bad;
        while (j < n && is_digit(s[j]))
            j++;
    }
    if (j < n && (s[j] == 'e' || s[j] == 'E')) {
        t.is_u64 = false;
        j++;
        if (j < n && (s[j] == '+' || s[j] == '-'))
            j++;
        if (j >= n || !is_digit(s[j]))
            goto bad;
        while (j < n && is_digit(s[j]))
            j++;
    }
    if (j < n && (is_digit(s[j]) || strchr("+-.eE", s[j])))
        goto bad;
    if (!t.is_u64)
        t.value = 0;
    if (!push_number(lx, t)) {
        ckpt_err_set(err, CKPT_E_NOMEM, "%s: out of memory", lx->what);
        return 0;
    }
    return j;
bad:
    lex_fail(fail, CKPT_JSON_BAD_SYNTAX, err, CKPT_E_FORMAT, "%s: invalid number at byte %zu",
             lx->what, i);
    return 0;
}

static ckpt_status lex(struct lexer *lx, ckpt_json_fail *fail, ckpt_err *err)
{
    size_t i = 0;
    while (i < lx->n) {
        uint8_t c = lx->s[i];
        size_t next = i + 1;
        bool value = false;
        if (is_ws(c) || c == ',') {
            /* nothing */
        } else if (c == '{' || c == '[') {
            /* deeper than cJSON goes: cJSON would fail, and its NULL would
             * read as out of memory below */
            if (++lx->depth > CJSON_NESTING_LIMIT)
                return lex_fail(fail, CKPT_JSON_BAD_SYNTAX, err, CKPT_E_FORMAT,
                                "%s: invalid JSON at byte %zu: nested deeper than %d levels",
                                lx->what, i, CJSON_NESTING_LIMIT);
            value = true;
        } else if (c == '}' || c == ']') {
            if (lx->depth > 0)
                lx->depth--;
        } else if (c == ':') {
            if (lx->depth == 1 && ++lx->top_members > lx->lim->max_top_members &&
                lx->lim->max_top_members)
                return lex_fail(fail, CKPT_JSON_TOO_BIG, err, CKPT_E_RANGE,
                                "%s: too many top-level entries (limit reached at byte %zu)",
                                lx->what, i);
        } else if (c == '"') {
            if (!(next = lex_string(lx, i, fail, err)))
                return err ? err->code : CKPT_E_FORMAT;
            value = true;
        } else if (c == '-' || is_digit(c)) {
            if (!(next = lex_number(lx, i, fail, err)))
                return err ? err->code : CKPT_E_FORMAT;
            value = true;
        } else if (c >= 'a' && c <= 'z') {
            /* true/false/null: cJSON checks the spelling, and a stray word
             * after the value is reported as trailing characters */
            size_t j = i;
            while (j < lx->n && lx->s[j] >= 'a' && lx->s[j] <= 'z')
                j++;
            next = j;
            value = true;
        } else {
            return lex_fail(fail, CKPT_JSON_BAD_SYNTAX, err, CKPT_E_FORMAT,
                            "%s: invalid JSON: unexpected byte 0x%02x at byte %zu", lx->what, c,
                            i);
        }
        if (value && ++lx->values > lx->lim->max_values && lx->lim->max_values)
            return lex_fail(fail, CKPT_JSON_TOO_BIG, err, CKPT_E_RANGE,
                            "%s: too many JSON values (limit reached at byte %zu)", lx->what, i);
        i = next;
    }
    return CKPT_OK;
}

/* ---- tree checks ---- */

/* Tie number items to their tokens: cJSON keeps only the double, so its
 * (otherwise unused) valueint is set to the token index, in document order,
 * which is the order of a pre-order walk of the tree. */
static bool tag_numbers(cJSON *item, size_t *k, size_t n_nums)
{
    for (; item; item = item->next) {
        if (cJSON_IsNumber(item)) {
            if (*k >= n_nums || *k > (size_t)INT32_MAX)
                return false;
            item->valueint = (int)(*k)++;
        }
        if (item->child && !tag_numbers(item->child, k, n_nums))
            return false;
    }
    return true;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* First duplicate key of any object under `item` (siblings included), or NULL.
 * `scratch` is a reusable array of names. */
static const char *find_duplicate(const cJSON *item, const char ***scratch, size_t *cap, bool *oom)
{
    for (; item; item = item->next) {
        if (cJSON_IsObject(item) && item->child) {
            size_t n = ckpt_json_count(item);
            if (n > *cap) {
                const char **p = realloc(*scratch, n * sizeof *p);
                if (!p) {
                    *oom = true;
                    return NULL;
                }
                *scratch = p;
                *cap = n;
            }
            size_t k = 0;
            for (const cJSON *c = item->child; c; c = c->next)
                (*scratch)[k++] = c->string ? c->string : "";
            qsort(*scratch, n, sizeof **scratch, cmp_str);
            for (size_t i = 1; i < n; i++)
                if (strcmp((*scratch)[i - 1], (*scratch)[i]) == 0)
                    return (*scratch)[i];
        }
        if (item->child) {
            const char *d = find_duplicate(item->child, scratch, cap, oom);
            if (d || *oom)
                return d;
        }
    }
    return NULL;
}

size_t ckpt_json_count(const cJSON *item)
{
    size_t n = 0;
    if (item && (cJSON_IsObject(item) || cJSON_IsArray(item)))
        for (const cJSON *c = item->child; c; c = c->next)
            n++;
    return n;
}

/* cJSON returns NULL for bad syntax and for a failed allocation alike; its
 * allocator, wrapped once for the process, tells the two apart (per
 * thread).  The hooks keep malloc and free semantics for every cJSON user. */
static _Thread_local bool alloc_failed;
static pthread_once_t hooks_once = PTHREAD_ONCE_INIT;

static void *hook_malloc(size_t n)
{
    void *p = malloc(n);
    if (!p)
        alloc_failed = true;
    return p;
}

static void install_hooks(void)
{
    cJSON_Hooks h = {hook_malloc, free};
    cJSON_InitHooks(&h);
}

static ckpt_status parse(ckpt_json **out, const char *text, size_t len, const char *what,
                         const struct ckpt_json_limits *lim, bool allow_nul, ckpt_json_fail *fail,
                         ckpt_err *err)
{
    static const struct ckpt_json_limits no_limits = {0, 0};
    *out = NULL;
    if (fail)
        *fail = CKPT_JSON_OK;
    if (!lim)
        lim = &no_limits;
    const uint8_t *s = (const uint8_t *)text;
    size_t bad;
    if (!ckpt_utf8_valid(s, len, &bad))
        return lex_fail(fail, CKPT_JSON_BAD_ENCODING, err, CKPT_E_FORMAT,
                        "%s: invalid UTF-8 at byte %zu", what, bad);
    const void *nul = len ? memchr(s, 0, len) : NULL;
    if (nul)
        return lex_fail(fail, CKPT_JSON_BAD_ENCODING, err, CKPT_E_FORMAT,
                        "%s: NUL byte at byte %zu", what, (size_t)((const uint8_t *)nul - s));

    struct lexer lx = {.s = s, .n = len, .what = what, .lim = lim, .allow_nul = allow_nul};
    ckpt_status st = lex(&lx, fail, err);
    if (st != CKPT_OK) {
        free(lx.nums);
        if (fail && *fail == CKPT_JSON_OK)
            *fail = CKPT_JSON_BAD_SYNTAX; /* out of memory lands here too */
        return st;
    }
    size_t start = 0;
    while (start < len && is_ws(s[start]))
        start++;
    if (start == len) {
        free(lx.nums);
        return lex_fail(fail, CKPT_JSON_BAD_SYNTAX, err, CKPT_E_FORMAT,
                        "%s: no JSON value (%zu bytes of whitespace)", what, len);
    }

    const char *end = NULL;
    pthread_once(&hooks_once, install_hooks);
    alloc_failed = false;
    cJSON *root = cJSON_ParseWithLengthOpts(text, len, &end, 0);
    if (!root && alloc_failed) {
        free(lx.nums);
        if (fail)
            *fail = CKPT_JSON_BAD_SYNTAX;
        return ckpt_err_set(err, CKPT_E_NOMEM, "%s: out of memory parsing %zu bytes of JSON",
                            what, len);
    }
    if (!root) {
        free(lx.nums);
        size_t at = (end && end >= text && end <= text + len) ? (size_t)(end - text) : 0;
        return lex_fail(fail, CKPT_JSON_BAD_SYNTAX, err, CKPT_E_FORMAT,
                        "%s: invalid JSON at byte %zu", what, at);
    }
    size_t at = (size_t)(end - text);
    for (size_t i = at; i < len; i++)
        if (!is_ws(s[i])) {
            cJSON_Delete(root);
            free(lx.nums);
            return lex_fail(fail, CKPT_JSON_BAD_SYNTAX, err, CKPT_E_FORMAT,
                            "%s: trailing characters after the JSON value at byte %zu", what, i);
        }

    size_t k = 0;
    if (!tag_numbers(root, &k, lx.n_nums) || k != lx.n_nums) {
        cJSON_Delete(root);
        free(lx.nums);
        return lex_fail(fail, CKPT_JSON_BAD_SYNTAX, err, CKPT_E_FORMAT,
                        "%s: numbers could not be matched to the text (%zu)", what, k);
    }

    const char **scratch = NULL;
    size_t cap = 0;
    bool oom = false;
    const char *dup = find_duplicate(root, &scratch, &cap, &oom);
    if (dup || oom) {
        char name[128];
        if (fail)
            *fail = CKPT_JSON_BAD_SYNTAX;
        if (oom)
            ckpt_err_set(err, CKPT_E_NOMEM, "%s: out of memory", what);
        else
            ckpt_err_set(err, CKPT_E_FORMAT, "%s: duplicate key '%s'", what,
                         ckpt_json_printable(dup, name, sizeof name));
        free(scratch);
        cJSON_Delete(root);
        free(lx.nums);
        return oom ? CKPT_E_NOMEM : CKPT_E_FORMAT;
    }
    free(scratch);

    ckpt_json *j = malloc(sizeof *j);
    if (!j) {
        cJSON_Delete(root);
        free(lx.nums);
        return ckpt_err_set(err, CKPT_E_NOMEM, "%s: out of memory", what);
    }
    j->root = root;
    j->nums = lx.nums;
    j->n_nums = lx.n_nums;
    *out = j;
    return CKPT_OK;
}

const cJSON *ckpt_json_root(const ckpt_json *j) { return j->root; }

void ckpt_json_free(ckpt_json *j)
{
    if (!j)
        return;
    cJSON_Delete(j->root);
    free(j->nums);
    free(j);
}

bool ckpt_json_u64(const ckpt_json *j, const cJSON *item, uint64_t *out)
{
    if (!item || !cJSON_IsNumber(item) || item->valueint < 0 ||
        (size_t)item->valueint >= j->n_nums)
        return false;
    const struct num_token *t = &j->nums[item->valueint];
    if (!t->is_u64)
        return false;
    *out = t->value;
    return true;
}

ckpt_status ckpt_json_parse(ckpt_json **out, const char *text, size_t len, const char *what,
                            const struct ckpt_json_limits *lim, ckpt_json_fail *fail,
                            ckpt_err *err)
{
    return parse(out, text, len, what, lim, false, fail, err);
}

ckpt_status ckpt_json_parse_nul(ckpt_json **out, const char *text, size_t len, const char *what,
                                const struct ckpt_json_limits *lim, ckpt_json_fail *fail,
                                ckpt_err *err)
{
    return parse(out, text, len, what, lim, true, fail, err);
}
