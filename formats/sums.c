/*
 * sums.c - SHA256SUMS lines as coreutils writes and checks them (sums.h).
 */
#include "sums.h"

#include <stdlib.h>
#include <string.h>

#include "manifest.h"
#include "outfile.h"

static bool needs_escape(const char *name)
{
    return strpbrk(name, "\\\n\r") != NULL;
}

ckpt_status ckpt_sums_line(const char *name, const uint8_t digest[CKPT_SHA256_LEN], char **out,
                           ckpt_err *err)
{
    size_t n = strlen(name);
    char *line = malloc(2 * n + 70), *p = line;
    if (!line)
        return ckpt_err_set(err, CKPT_E_NOMEM, "SHA256SUMS: out of memory");
    bool esc = needs_escape(name);
    if (esc)
        *p++ = '\\';
    ckpt_sha256_hex(digest, p);
    p += 64;
    *p++ = ' ';
    *p++ = ' ';
    for (const char *c = name; *c; c++) {
        if (esc && (*c == '\\' || *c == '\n' || *c == '\r')) {
            *p++ = '\\';
            *p++ = *c == '\\' ? '\\' : *c == '\n' ? 'n' : 'r';
        } else {
            *p++ = *c;
        }
    }
    *p++ = '\n';
    *p = '\0';
    *out = line;
    return CKPT_OK;
}

void ckpt_sums_free(struct ckpt_sums_entry *e, size_t n)
{
    for (size_t i = 0; e && i < n; i++)
        free(e[i].name);
    free(e);
}

/* Parse one line (without its newline) into *e. */
static ckpt_status parse_line(const char *s, size_t len, const char *path, size_t lineno,
                              struct ckpt_sums_entry *e, ckpt_err *err)
{
    bool esc = len > 0 && s[0] == '\\';
    if (esc)
        s++, len--;
    char hex[CKPT_SHA256_HEX];
    if (len < 67 || (s[65] != ' ' && s[65] != '*') || s[64] != ' ')
        return ckpt_err_set(err, CKPT_E_FORMAT, "%s: line %zu is not \"<sha256>  <name>\"", path,
                            lineno);
    memcpy(hex, s, 64);
    hex[64] = '\0';
    if (!ckpt_sha256_from_hex(hex, e->digest))
        return ckpt_err_set(err, CKPT_E_FORMAT, "%s: line %zu: bad digest", path, lineno);
    const char *name = s + 66;
    size_t n = len - 66;
    char *out = malloc(n + 1), *p = out;
    if (!out)
        return ckpt_err_set(err, CKPT_E_NOMEM, "%s: out of memory", path);
    for (size_t i = 0; i < n; i++) {
        if (esc && name[i] == '\\') {
            char c = i + 1 < n ? name[++i] : 0;
            if (c != '\\' && c != 'n' && c != 'r') {
                free(out);
                return ckpt_err_set(err, CKPT_E_FORMAT, "%s: line %zu: bad escape", path,
                                    lineno);
            }
            *p++ = c == '\\' ? '\\' : c == 'n' ? '\n' : '\r';
        } else if (name[i] == '\0') {
            free(out);
            return ckpt_err_set(err, CKPT_E_FORMAT, "%s: line %zu: NUL in name", path, lineno);
        } else {
            *p++ = name[i];
        }
    }
    *p = '\0';
    e->name = out;
    return CKPT_OK;
}

ckpt_status ckpt_sums_parse(const char *text, size_t len, const char *path,
                            struct ckpt_sums_entry **out, size_t *n_out, ckpt_err *err)
{
    *out = NULL;
    *n_out = 0;
    size_t cap = 0, n = 0, lineno = 0;
    struct ckpt_sums_entry *e = NULL;
    ckpt_status s = CKPT_OK;
    for (size_t at = 0; at < len && s == CKPT_OK;) {
        const char *nl = memchr(text + at, '\n', len - at);
        size_t ll = nl ? (size_t)(nl - (text + at)) : len - at;
        lineno++;
        if (ll > 0) {
            if (n == cap) {
                size_t c2 = cap ? 2 * cap : 16;
                struct ckpt_sums_entry *r = realloc(e, c2 * sizeof *r);
                if (!r) {
                    s = ckpt_err_set(err, CKPT_E_NOMEM, "%s: out of memory", path);
                    break;
                }
                e = r;
                cap = c2;
            }
            s = parse_line(text + at, ll, path, lineno, &e[n], err);
            if (s == CKPT_OK)
                n++;
        }
        at += ll + 1;
    }
    if (s != CKPT_OK) {
        ckpt_sums_free(e, n);
        return s;
    }
    *out = e;
    *n_out = n;
    return CKPT_OK;
}

/* The signed digest of `name`, or NULL if the statement has no such file. */
static const uint8_t *signed_digest(const struct ckpt_manifest *m, const char *name,
                                    const char *file_name)
{
    if (file_name)
        return strcmp(name, file_name) == 0 && m->n_res == 1 ? m->res[0].digest : NULL;
    for (size_t i = 0; i < m->n_res; i++)
        if (strcmp(m->res[i].name, name) == 0)
            return m->res[i].digest;
    return NULL;
}

ckpt_status ckpt_sums_check(const char *text, size_t len, const char *path,
                            const struct ckpt_manifest *m, const char *file_name, ckpt_err *err)
{
    struct ckpt_sums_entry *e = NULL;
    size_t n = 0;
    ckpt_err perr = {0};
    ckpt_status s = ckpt_sums_parse(text, len, path, &e, &n, &perr);
    if (s == CKPT_E_NOMEM)
        return ckpt_err_set(err, s, "%s", perr.msg);
    if (s != CKPT_OK)
        return ckpt_err_set(err, CKPT_E_MISMATCH, "%s (it is not what was signed)", perr.msg);
    for (size_t i = 0; s == CKPT_OK && i < n; i++) {
        const uint8_t *want = signed_digest(m, e[i].name, file_name);
        if (!want && !file_name)
            s = ckpt_err_set(err, CKPT_E_MISMATCH,
                             "%s: lists '%s', which the signature does not cover", path,
                             e[i].name);
        else if (want && memcmp(want, e[i].digest, CKPT_SHA256_LEN) != 0)
            s = ckpt_err_set(err, CKPT_E_MISMATCH,
                             "%s: the digest listed for '%s' is not the signed one", path,
                             e[i].name);
    }
    ckpt_sums_free(e, n);
    return s;
}

static int by_name(const void *a, const void *b)
{
    return ckpt_manifest_name_cmp(((const struct ckpt_sums_entry *)a)->name,
                                  ((const struct ckpt_sums_entry *)b)->name);
}

ckpt_status ckpt_sums_write(const char *path, struct ckpt_sums_entry *e, size_t n, bool force,
                            ckpt_err *err)
{
    if (n > 1)
        qsort(e, n, sizeof *e, by_name);
    ckpt_out *o = NULL;
    ckpt_status s = ckpt_out_open(&o, path, force, err);
    for (size_t i = 0; s == CKPT_OK && i < n; i++) {
        char *line = NULL;
        s = ckpt_sums_line(e[i].name, e[i].digest, &line, err);
        if (s == CKPT_OK)
            s = ckpt_out_write(o, line, strlen(line), err);
        free(line);
    }
    if (s == CKPT_OK)
        return ckpt_out_commit(o, err);
    ckpt_out_abort(o);
    return s;
}
