/*
 * check.c - verify a signature bundle and the files it covers (check.h).
 */
#include "check.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../formats/mapfile.h"
#include "../formats/path.h"
#include "../formats/sums.h"
#include "../formats/tree.h"
#include "artifact.h"

static const char *const git_paths[] = {".git", ".gitattributes", ".github", ".gitignore"};

const char *ckpt_check_state_name(enum ckpt_check_state s)
{
    static const char *const names[] = {"ok", "modified", "missing", "unexpected"};
    return (unsigned)s < 4 ? names[s] : "?";
}

ckpt_status ckpt_check_envelope(const char *sig_path, const ckpt_key *key, uint8_t **payload,
                                size_t *len, bool *hint_absent, ckpt_err *err)
{
    ckpt_map *map = NULL;
    struct ckpt_bundle b = {0};
    uint8_t *pae = NULL;
    size_t pae_len = 0;
    *hint_absent = false;
    *payload = NULL;
    *len = 0;
    ckpt_status s = ckpt_map_open(&map, sig_path, err);
    if (s == CKPT_OK)
        s = ckpt_bundle_parse((const char *)map->data, map->size, sig_path, &b, err);
    if (s == CKPT_OK && strcmp(b.media_type, CKPT_BUNDLE_MEDIA_TYPE) != 0)
        s = ckpt_err_set(err, CKPT_E_UNSUPPORTED,
                         "%s: media type \"%.80s\" is not a Sigstore bundle v0.3", sig_path,
                         b.media_type);
    if (s == CKPT_OK && key) {
        char hint[CKPT_SHA256_HEX];
        s = ckpt_key_hint(key, hint, err);
        if (s == CKPT_OK && b.hint && strcmp(b.hint, hint) != 0)
            s = ckpt_err_set(err, CKPT_E_MISMATCH,
                             "%s: signed by another key (bundle key hint %.16s, this key %.16s)",
                             sig_path, b.hint, hint);
    }
    *hint_absent = s == CKPT_OK && !b.hint;
    if (s == CKPT_OK && key)
        s = ckpt_bundle_pae(b.payload_type, b.payload, b.payload_len, &pae, &pae_len, err);
    if (s == CKPT_OK && key &&
        ckpt_key_verify(key, pae, pae_len, b.sig, b.sig_len, NULL) != CKPT_OK)
        s = ckpt_err_set(err, CKPT_E_MISMATCH,
                         "%s: bad signature (the statement was altered, or another key "
                         "signed it)", sig_path);
    if (s == CKPT_OK && strcmp(b.payload_type, CKPT_DSSE_INTOTO_TYPE) != 0)
        s = ckpt_err_set(err, CKPT_E_UNSUPPORTED,
                         "%s: payload type \"%.80s\" is not an in-toto statement", sig_path,
                         b.payload_type);
    if (s == CKPT_OK) { /* the payload moves to the caller */
        *payload = b.payload;
        *len = b.payload_len;
        b.payload = NULL;
    }
    free(pae);
    ckpt_bundle_free(&b);
    ckpt_map_close(map);
    return s;
}

ckpt_status ckpt_check_bundle(const char *sig_path, const ckpt_key *key,
                              struct ckpt_manifest *m, bool *hint_absent, ckpt_err *err)
{
    uint8_t *payload = NULL;
    size_t len = 0;
    ckpt_status s = ckpt_check_envelope(sig_path, key, &payload, &len, hint_absent, err);
    if (s == CKPT_OK)
        s = ckpt_manifest_from_statement(payload, len, sig_path, m, err);
    free(payload);
    return s;
}

static ckpt_status add_file(struct ckpt_check_report *r, const char *name,
                            enum ckpt_check_state st, const uint8_t *want, const uint8_t *got,
                            ckpt_err *err)
{
    struct ckpt_check_file *f = &r->files[r->n_files];
    if (!(f->name = strdup(name)))
        return ckpt_err_set(err, CKPT_E_NOMEM, "out of memory");
    f->state = st;
    if (want)
        memcpy(f->want, want, CKPT_SHA256_LEN);
    if (got)
        memcpy(f->got, got, CKPT_SHA256_LEN);
    r->n_files++;
    r->count[st]++;
    return CKPT_OK;
}

/* The ignore paths that apply: model_signing's defaults, the signed ones,
 * the signature itself when it sits inside, and --ignore. */
static ckpt_status ignores(const struct ckpt_check_opts *o, const struct ckpt_artifact *a,
                           const char *sig, const struct ckpt_manifest *signed_m,
                           struct ckpt_manifest *ign, ckpt_err *err)
{
    ckpt_status s = CKPT_OK;
    char *rel = NULL;
    for (size_t i = 0; s == CKPT_OK && i < sizeof git_paths / sizeof git_paths[0]; i++)
        s = ckpt_manifest_add_ignore(ign, git_paths[i], err);
    for (size_t i = 0; s == CKPT_OK && i < signed_m->n_ignore; i++)
        s = ckpt_manifest_add_ignore(ign, signed_m->ignore[i], err);
    if (s == CKPT_OK && ckpt_artifact_inside(a, sig, &rel))
        s = ckpt_manifest_add_ignore(ign, rel, err);
    free(rel);
    for (size_t i = 0; s == CKPT_OK && i < o->n_ignore; i++) {
        /* a path as given (DIR/README.md), or one relative to the directory */
        if (ckpt_artifact_inside(a, o->ignore[i], &rel))
            s = ckpt_manifest_add_ignore(ign, rel, err);
        else if (ckpt_manifest_name_safe(o->ignore[i]))
            s = ckpt_manifest_add_ignore(ign, o->ignore[i], err);
        else
            s = ckpt_err_set(err, CKPT_E_USAGE, "--ignore %s: not a path inside %s",
                             o->ignore[i], a->path);
        free(rel);
        rel = NULL;
    }
    return s;
}

static int cmp_resource(const void *x, const void *y)
{
    return ckpt_manifest_name_cmp(((const struct ckpt_resource *)x)->name,
                                  ((const struct ckpt_resource *)y)->name);
}

/* The files of a split set that exist, by base name, in order (a missing
 * one is then reported missing against the manifest). */
static ckpt_status list_set(const struct ckpt_artifact *a, char ***names, size_t *n,
                            ckpt_err *err)
{
    *n = 0;
    if (!(*names = calloc(a->n_parts, sizeof **names)))
        return ckpt_err_set(err, CKPT_E_NOMEM, "out of memory");
    for (size_t i = 0; i < a->n_parts; i++) {
        char *f = ckpt_path_join(a->dir, a->parts[i]);
        bool there = f && ckpt_path_is_file(f);
        free(f);
        if (there && !((*names)[(*n)++] = strdup(a->parts[i])))
            return ckpt_err_set(err, CKPT_E_NOMEM, "out of memory");
    }
    return CKPT_OK;
}

/* Compare a directory (or a split set's files) with the signed manifest. */
static ckpt_status check_dir(const struct ckpt_check_opts *o, const struct ckpt_artifact *a,
                             const char *sig, struct ckpt_check_report *r, ckpt_err *err)
{
    const char *base = a->n_parts ? a->dir : a->path;
    struct ckpt_manifest ign = {0};
    const struct ckpt_manifest *m = &r->manifest;
    char **names = NULL, **paths = NULL;
    size_t n = 0;
    struct ckpt_sha256_job *jobs = NULL;
    struct ckpt_resource *want = malloc(m->n_res * sizeof *want);
    ckpt_status s = want ? CKPT_OK : ckpt_err_set(err, CKPT_E_NOMEM, "out of memory");
    if (s == CKPT_OK && m->n_res == 1 && strcmp(m->res[0].name, ".") == 0)
        s = ckpt_err_set(err, CKPT_E_MISMATCH, "%s: signs a single file, not %s", sig,
                         a->n_parts ? "a split set" : "a directory");
    if (s == CKPT_OK && a->n_parts)
        s = list_set(a, &names, &n, err);
    else if (s == CKPT_OK)
        s = ignores(o, a, sig, m, &ign, err);
    if (s == CKPT_OK && !a->n_parts)
        s = ckpt_tree_list(a->path, &ign, &names, &n, err);
    if (s == CKPT_OK && (!(jobs = calloc(n + 1, sizeof *jobs)) ||
                         !(paths = calloc(n + 1, sizeof *paths)) ||
                         !(r->files = calloc(n + m->n_res + 1, sizeof *r->files))))
        s = ckpt_err_set(err, CKPT_E_NOMEM, "out of memory");
    for (size_t i = 0; s == CKPT_OK && i < n; i++) {
        size_t la = strlen(base), ln = strlen(names[i]);
        if (!(paths[i] = malloc(la + ln + 2))) {
            s = ckpt_err_set(err, CKPT_E_NOMEM, "out of memory");
            break;
        }
        snprintf(paths[i], la + ln + 2, "%s/%s", base, names[i]);
        jobs[i].path = paths[i];
    }
    if (s == CKPT_OK)
        s = ckpt_sha256_files(jobs, n, o->threads, o->progress, o->progress_ctx, err);
    for (size_t i = 0; s == CKPT_OK && i < n; i++)
        if (jobs[i].status != CKPT_OK)
            s = ckpt_err_set(err, jobs[i].status, "%s", jobs[i].err.msg);
    if (s == CKPT_OK) {
        memcpy(want, m->res, m->n_res * sizeof *want);
        qsort(want, m->n_res, sizeof *want, cmp_resource);
    }
    /* merge two sorted name lists */
    for (size_t i = 0, k = 0; s == CKPT_OK && (i < n || k < m->n_res);) {
        int c = i == n ? 1 : k == m->n_res ? -1 : ckpt_manifest_name_cmp(names[i], want[k].name);
        if (c < 0) {
            s = add_file(r, names[i], CKPT_CHECK_UNEXPECTED, NULL, jobs[i].digest, err);
            i++;
        } else if (c > 0) {
            s = add_file(r, want[k].name, CKPT_CHECK_MISSING, want[k].digest, NULL, err);
            k++;
        } else {
            bool same = memcmp(jobs[i].digest, want[k].digest, CKPT_SHA256_LEN) == 0;
            s = add_file(r, names[i], same ? CKPT_CHECK_OK : CKPT_CHECK_MODIFIED,
                         want[k].digest, jobs[i].digest, err);
            i++, k++;
        }
    }
    for (size_t i = 0; paths && i < n; i++)
        free(paths[i]);
    free(paths);
    free(jobs);
    free(want);
    ckpt_tree_free(names, n);
    ckpt_manifest_free(&ign);
    return s;
}

static ckpt_status check_file(const struct ckpt_check_opts *o, const struct ckpt_artifact *a,
                              const char *sig, struct ckpt_check_report *r, ckpt_err *err)
{
    const struct ckpt_manifest *m = &r->manifest;
    if (m->n_res != 1 || strcmp(m->res[0].name, ".") != 0)
        return ckpt_err_set(err, CKPT_E_MISMATCH,
                            "%s: signs a directory of %zu files, not the single file %s", sig,
                            m->n_res, a->path);
    if (!(r->files = calloc(1, sizeof *r->files)))
        return ckpt_err_set(err, CKPT_E_NOMEM, "out of memory");
    struct ckpt_sha256_job job = {.path = a->path};
    ckpt_status s = ckpt_sha256_files(&job, 1, 1, o->progress, o->progress_ctx, err);
    if (s == CKPT_OK && job.status != CKPT_OK)
        s = ckpt_err_set(err, job.status, "%s", job.err.msg);
    if (s == CKPT_OK) {
        bool same = memcmp(job.digest, m->res[0].digest, CKPT_SHA256_LEN) == 0;
        /* the signed name is "." (model_signing's layout); people see the file's */
        s = add_file(r, a->name, same ? CKPT_CHECK_OK : CKPT_CHECK_MODIFIED, m->res[0].digest,
                     job.digest, err);
    }
    return s;
}

/* A split set's lines in SHA256SUMS: each line naming a signed file must
 * carry its signed digest (lines of other files are other signatures'). */
static ckpt_status check_set_sums(const ckpt_map *map, const struct ckpt_artifact *a,
                                  const struct ckpt_manifest *m, ckpt_err *err)
{
    struct ckpt_sums_entry *e = NULL;
    size_t n = 0;
    ckpt_status s = ckpt_sums_parse((const char *)map->data, map->size, a->sums, &e, &n, err);
    for (size_t i = 0; s == CKPT_OK && i < n; i++)
        for (size_t k = 0; s == CKPT_OK && k < m->n_res; k++)
            if (strcmp(e[i].name, m->res[k].name) == 0 &&
                memcmp(e[i].digest, m->res[k].digest, CKPT_SHA256_LEN) != 0)
                s = ckpt_err_set(err, CKPT_E_MISMATCH,
                                 "%s: the line for %s differs from the signature", a->sums,
                                 e[i].name);
    ckpt_sums_free(e, n);
    return s;
}

/* SHA256SUMS, outside the signature, must say what the signature says:
 * people check it with sha256sum alone. */
static ckpt_status check_sums(const struct ckpt_artifact *a, const struct ckpt_manifest *m,
                              ckpt_err *err)
{
    if (!a->sums || !ckpt_path_is_file(a->sums))
        return CKPT_OK;
    ckpt_map *map = NULL;
    ckpt_status s = ckpt_map_open(&map, a->sums, err);
    if (s == CKPT_OK && a->n_parts)
        s = check_set_sums(map, a, m, err);
    else if (s == CKPT_OK)
        s = ckpt_sums_check((const char *)map->data, map->size, a->sums, m,
                            a->is_dir ? NULL : ckpt_artifact_basename(a->path), err);
    ckpt_map_close(map);
    return s;
}

ckpt_status ckpt_check_run(const struct ckpt_check_opts *o, struct ckpt_check_report *r,
                           ckpt_err *err)
{
    struct ckpt_artifact a;
    ckpt_status s = ckpt_artifact_open(&a, o->artifact, err);
    const char *sig = o->sig_path ? o->sig_path : a.sig;
    if (!(r->artifact = strdup(o->artifact)) || (sig && !(r->sig_path = strdup(sig))))
        s = ckpt_err_set(err, CKPT_E_NOMEM, "out of memory");
    struct stat sb;
    if (s == CKPT_OK && !o->sig_path && stat(sig, &sb) != 0 && errno == ENOENT)
        s = ckpt_err_set(err, CKPT_E_IO,
                         "%s: no signature %s %s (sign it with ckpt-sign, or name the "
                         "signature with -s SIG)", sig, a.is_dir ? "in" : "next to", a.path);
    if (s == CKPT_OK && !(r->name = strdup(a.name)))
        s = ckpt_err_set(err, CKPT_E_NOMEM, "out of memory");
    if (s == CKPT_OK)
        s = ckpt_check_bundle(sig, o->key, &r->manifest, &r->hint_absent, err);
    r->signature_ok = s == CKPT_OK;
    /* The subject name is informational in model_signing: a signature moved
     * to the same bytes under another name still verifies, so say so. */
    if (s == CKPT_OK)
        r->name_differs = !r->manifest.subject || strcmp(r->manifest.subject, a.name) != 0;
    if (s == CKPT_OK)
        s = a.is_dir || a.n_parts ? check_dir(o, &a, sig, r, err) : check_file(o, &a, sig, r, err);
    if (s == CKPT_OK && r->count[CKPT_CHECK_OK] != r->n_files)
        s = ckpt_err_set(err, CKPT_E_MISMATCH,
                         "%s: %zu modified, %zu missing, %zu unexpected file(s)", a.path,
                         r->count[CKPT_CHECK_MODIFIED], r->count[CKPT_CHECK_MISSING],
                         r->count[CKPT_CHECK_UNEXPECTED]);
    if (s == CKPT_OK)
        s = check_sums(&a, &r->manifest, err);
    ckpt_artifact_free(&a);
    return s;
}

void ckpt_check_report_free(struct ckpt_check_report *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->n_files; i++)
        free(r->files[i].name);
    free(r->files);
    free(r->artifact);
    free(r->sig_path);
    free(r->name);
    ckpt_manifest_free(&r->manifest);
    memset(r, 0, sizeof *r);
}

cJSON *ckpt_check_report_json(const struct ckpt_check_report *r, ckpt_status status,
                              const ckpt_err *err)
{
    char hex[CKPT_SHA256_HEX];
    cJSON *j = cJSON_CreateObject(), *files;
    bool ok = j && cJSON_AddStringToObject(j, "artifact", r->artifact ? r->artifact : "") &&
              cJSON_AddStringToObject(j, "signature", r->sig_path ? r->sig_path : "") &&
              cJSON_AddBoolToObject(j, "verified", status == CKPT_OK) &&
              cJSON_AddBoolToObject(j, "signature_ok", r->signature_ok) &&
              cJSON_AddBoolToObject(j, "key_hint_absent", r->hint_absent) &&
              cJSON_AddStringToObject(j, "status", ckpt_strstatus(status));
    if (ok && status != CKPT_OK)
        ok = cJSON_AddStringToObject(j, "error", err && err->msg[0] ? err->msg : "") != NULL;
    if (ok && r->signature_ok) {
        ckpt_sha256_hex(r->manifest.root, hex);
        ok = cJSON_AddStringToObject(j, "subject", r->manifest.subject) &&
             cJSON_AddStringToObject(j, "root_sha256", hex) &&
             cJSON_AddBoolToObject(j, "subject_matches_name", !r->name_differs);
    }
    if (ok)
        ok = (files = cJSON_AddArrayToObject(j, "files")) != NULL;
    for (size_t i = 0; ok && i < r->n_files; i++) {
        const struct ckpt_check_file *f = &r->files[i];
        cJSON *o = cJSON_CreateObject();
        ok = o && cJSON_AddItemToArray(files, o) &&
             cJSON_AddStringToObject(o, "name", f->name) &&
             cJSON_AddStringToObject(o, "status", ckpt_check_state_name(f->state));
        if (ok && f->state != CKPT_CHECK_UNEXPECTED) {
            ckpt_sha256_hex(f->want, hex);
            ok = cJSON_AddStringToObject(o, "expected", hex) != NULL;
        }
        if (ok && (f->state == CKPT_CHECK_OK || f->state == CKPT_CHECK_MODIFIED)) {
            ckpt_sha256_hex(f->got, hex);
            ok = cJSON_AddStringToObject(o, "actual", hex) != NULL;
        }
    }
    if (!ok) {
        cJSON_Delete(j);
        return NULL;
    }
    return j;
}
