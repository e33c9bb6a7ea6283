/*
 * sign.c - hash, build the statement, sign, write bundle and SHA256SUMS
 * (see sign.h).  All files of all artifacts and of the source are hashed
 * in one parallel run, so small files never wait behind a large one.
 */
#include "sign.h"
#include "../formats/path.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../formats/bundle.h"
#include "../formats/keyfile.h"
#include "../formats/manifest.h"
#include "../formats/mapfile.h"
#include "../formats/outfile.h"
#include "../formats/sums.h"
#include "../formats/tree.h"
#include "artifact.h"
#include "fingerprint.h"
#include "key.h"
#include "provenance.h"
#include "slsa.h"

/* Paths model_signing leaves out of a directory by default. */
static const char *const git_paths[] = {".git", ".gitattributes", ".github", ".gitignore"};

struct plan {
    struct ckpt_artifact a;
    const char *sig;
    char *slsa;                  /* the SLSA bundle (--slsa), or NULL */
    struct ckpt_manifest m;      /* ignore paths first, resources after hashing */
    char **names;                /* n relative names ("." for a file) */
    size_t n;
    size_t job0;                 /* index of names[0]'s job */
};

static bool exists(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0;
}

/* List an artifact's files (after its ignore paths are set). */
static ckpt_status list_files(struct plan *p, ckpt_err *err)
{
    if (p->a.n_parts) { /* a split set: its files by name */
        if (!(p->names = calloc(p->a.n_parts, sizeof *p->names)))
            return ckpt_err_set(err, CKPT_E_NOMEM, "out of memory");
        for (; p->n < p->a.n_parts; p->n++)
            if (!(p->names[p->n] = strdup(p->a.parts[p->n])))
                return ckpt_err_set(err, CKPT_E_NOMEM, "out of memory");
        return CKPT_OK;
    }
    if (!p->a.is_dir) {
        p->names = malloc(sizeof *p->names);
        if (!p->names || !(p->names[0] = strdup(".")))
            return ckpt_err_set(err, CKPT_E_NOMEM, "out of memory");
        p->n = 1;
        return CKPT_OK;
    }
    for (size_t i = 0; i < sizeof git_paths / sizeof git_paths[0]; i++) {
        ckpt_status s = ckpt_manifest_add_ignore(&p->m, git_paths[i], err);
        if (s != CKPT_OK)
            return s;
    }
    ckpt_status s = ckpt_tree_list(p->a.path, &p->m, &p->names, &p->n, err);
    if (s == CKPT_OK && p->n == 0)
        s = ckpt_err_set(err, CKPT_E_USAGE, "%s: no files to sign", p->a.path);
    return s;
}

/* Plan one artifact: its signature path, ignore paths and file list. */
static ckpt_status plan_artifact(struct plan *p, const char *path, const char *sig_path,
                                 bool force, bool slsa, ckpt_err *err)
{
    ckpt_status s = ckpt_artifact_open(&p->a, path, err);
    if (s != CKPT_OK)
        return s;
    p->sig = sig_path ? sig_path : p->a.sig;
    if (slsa && !(p->slsa = ckpt_slsa_path(p->sig)))
        return ckpt_err_set(err, CKPT_E_NOMEM, "out of memory");
    if (p->slsa && !force && exists(p->slsa))
        return ckpt_err_set(err, CKPT_E_EXISTS, "%s: already exists (use -f to overwrite)",
                            p->slsa);
    if (!p->a.is_dir)
        ckpt_out_protect(path); /* no output of this run may replace what it signs */
    for (size_t i = 0; i < p->a.n_parts; i++) {
        char *f = ckpt_path_join(p->a.dir, p->a.parts[i]);
        if (!f)
            return ckpt_err_set(err, CKPT_E_NOMEM, "out of memory");
        bool there = exists(f);
        if (there)
            ckpt_out_protect(f);
        free(f);
        if (!there)
            return ckpt_err_set(err, CKPT_E_IO, "%s: file %zu of the split set %s is missing",
                                p->a.parts[i], i + 1, path);
    }
    if (!force && exists(p->sig))
        return ckpt_err_set(err, CKPT_E_EXISTS, "%s: already exists (use -f to overwrite)",
                            p->sig);
    if (p->a.is_dir) {
        if (!force && exists(p->a.sums))
            return ckpt_err_set(err, CKPT_E_EXISTS, "%s: already exists (use -f to overwrite)",
                                p->a.sums);
        char *rel = NULL;
        if (ckpt_artifact_inside(&p->a, p->sig, &rel)) {
            s = ckpt_manifest_add_ignore(&p->m, rel, err);
            free(rel);
        }
        rel = NULL;
        if (s == CKPT_OK && p->slsa && ckpt_artifact_inside(&p->a, p->slsa, &rel)) {
            s = ckpt_manifest_add_ignore(&p->m, rel, err);
            free(rel);
        }
        if (s == CKPT_OK)
            s = ckpt_manifest_add_ignore(&p->m, CKPT_SUMS_NAME, err);
    }
    if (s == CKPT_OK)
        s = list_files(p, err);
    return s;
}

static void plan_free(struct plan *p)
{
    free(p->slsa);
    ckpt_artifact_free(&p->a);
    ckpt_manifest_free(&p->m);
    ckpt_tree_free(p->names, p->n);
}

/* Take the digests of p's jobs into its manifest; a failed job fails all. */
static ckpt_status collect(struct plan *p, const struct ckpt_sha256_job *jobs, uint64_t *bytes,
                           ckpt_err *err)
{
    *bytes = 0;
    for (size_t i = 0; i < p->n; i++) {
        const struct ckpt_sha256_job *j = &jobs[p->job0 + i];
        if (j->status != CKPT_OK)
            return ckpt_err_set(err, j->status, "%s", j->err.msg);
        ckpt_status s = ckpt_manifest_add(&p->m, p->names[i], j->digest, err);
        if (s != CKPT_OK)
            return s;
        *bytes += j->size;
    }
    ckpt_manifest_finish(&p->m);
    return ckpt_manifest_set_subject(&p->m, p->a.name, err);
}

/* SHA256SUMS of a single file (or of a split set's files): its line
 * replaces any line for the same name in the directory's SHA256SUMS, so
 * signing files one by one builds it up. */
static ckpt_status write_file_sums(const struct plan *p, bool force, ckpt_err *err)
{
    struct ckpt_sums_entry *e = NULL;
    size_t n = 0;
    ckpt_status s = CKPT_OK;
    if (exists(p->a.sums)) {
        ckpt_map *map = NULL;
        ckpt_err perr = {0};
        s = ckpt_map_open(&map, p->a.sums, err);
        if (s == CKPT_OK && ckpt_sums_parse((const char *)map->data, map->size, p->a.sums, &e,
                                            &n, &perr) != CKPT_OK && !force)
            s = ckpt_err_set(err, CKPT_E_FORMAT, "%s (use -f to replace it)", perr.msg);
        ckpt_map_close(map);
        if (s != CKPT_OK)
            return s;
    }
    /* the signed files: the one file (resource ".") or the set's (by name) */
    const char *base = ckpt_artifact_basename(p->a.path);
    const size_t n_new = p->a.n_parts ? p->m.n_res : 1;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        bool replaced = false;
        for (size_t j = 0; j < n_new && !replaced; j++)
            replaced = strcmp(e[i].name, p->a.n_parts ? p->m.res[j].name : base) == 0;
        if (replaced)
            free(e[i].name);
        else
            e[k++] = e[i];
    }
    struct ckpt_sums_entry *r = realloc(e, (k + n_new) * sizeof *e);
    if (!r) {
        ckpt_sums_free(e, k);
        return ckpt_err_set(err, CKPT_E_NOMEM, "out of memory");
    }
    for (size_t j = 0; j < n_new; j++, k++) {
        if (!(r[k].name = strdup(p->a.n_parts ? p->m.res[j].name : base))) {
            ckpt_sums_free(r, k);
            return ckpt_err_set(err, CKPT_E_NOMEM, "out of memory");
        }
        memcpy(r[k].digest, p->m.res[j].digest, CKPT_SHA256_LEN);
    }
    s = ckpt_sums_write(p->a.sums, r, k, true, err);
    ckpt_sums_free(r, k);
    return s;
}

static ckpt_status write_dir_sums(const struct plan *p, bool force, ckpt_err *err)
{
    struct ckpt_sums_entry *e = calloc(p->m.n_res, sizeof *e);
    if (!e)
        return ckpt_err_set(err, CKPT_E_NOMEM, "out of memory");
    for (size_t i = 0; i < p->m.n_res; i++) {
        e[i].name = p->m.res[i].name; /* borrowed */
        memcpy(e[i].digest, p->m.res[i].digest, CKPT_SHA256_LEN);
    }
    ckpt_status s = ckpt_sums_write(p->a.sums, e, p->m.n_res, force, err);
    free(e);
    return s;
}

/* A statement signed into a bundle file: PAE -> signature -> bundle. */
static ckpt_status write_bundle(const char *stmt, size_t stmt_len, const ckpt_key *key,
                                const char *hint, const char *path, bool force, ckpt_err *err)
{
    char *json = NULL;
    uint8_t *pae = NULL, *sig = NULL;
    size_t pae_len = 0, sig_len = 0;
    ckpt_out *out = NULL;
    ckpt_status s = ckpt_bundle_pae(CKPT_DSSE_INTOTO_TYPE, (const uint8_t *)stmt, stmt_len, &pae,
                                    &pae_len, err);
    if (s == CKPT_OK)
        s = ckpt_key_sign(key, pae, pae_len, &sig, &sig_len, err);
    if (s == CKPT_OK)
        s = ckpt_bundle_to_json((const uint8_t *)stmt, stmt_len, sig, sig_len, hint, &json,
                                err);
    if (s == CKPT_OK)
        s = ckpt_out_open(&out, path, force, err);
    if (s == CKPT_OK)
        s = ckpt_out_write(out, json, strlen(json), err);
    if (s == CKPT_OK) {
        s = ckpt_out_commit(out, err);
        out = NULL;
    }
    ckpt_out_abort(out);
    free(pae);
    free(sig);
    free(json);
    return s;
}

/* The model_signing bundle, the SLSA one (--slsa), SHA256SUMS. */
static ckpt_status sign_one(struct plan *p, const ckpt_key *key, const char *hint, bool force,
                            ckpt_err *err)
{
    char *stmt = NULL;
    size_t stmt_len = 0;
    ckpt_status s = ckpt_manifest_to_statement(&p->m, &stmt, &stmt_len, err);
    if (s == CKPT_OK)
        s = write_bundle(stmt, stmt_len, key, hint, p->sig, force, err);
    free(stmt);
    stmt = NULL;
    if (s == CKPT_OK && p->slsa)
        s = ckpt_slsa_statement(&p->m, &stmt, &stmt_len, err);
    if (s == CKPT_OK && p->slsa)
        s = write_bundle(stmt, stmt_len, key, hint, p->slsa, force, err);
    free(stmt);
    if (s == CKPT_OK)
        s = p->a.is_dir ? write_dir_sums(p, force, err) : write_file_sums(p, force, err);
    return s;
}

/* Build the provenance object shared by all artifacts of this run. */
static ckpt_status provenance(const struct ckpt_sign_opts *o, struct plan *src,
                              const struct ckpt_sha256_job *jobs, cJSON **out, ckpt_err *err)
{
    ckpt_status s = ckpt_provenance_new(out, err);
    for (size_t i = 0; s == CKPT_OK && i < o->n_params; i++)
        s = ckpt_provenance_add_param(*out, o->params[i], err);
    uint64_t bytes;
    if (s == CKPT_OK && src)
        s = collect(src, jobs, &bytes, err);
    if (s == CKPT_OK && src)
        s = ckpt_provenance_set_source(*out, &src->m, err);
    return s;
}

/* Run the artifact on the fingerprint prompts; its behaviour goes into the
 * predicate. */
static ckpt_status add_fingerprint(const struct ckpt_sign_opts *o, struct plan *p, ckpt_err *err)
{
    const struct ckpt_fp_opts fo = {.model = p->a.path, .prompts = o->fp_prompts,
                                    .n_prompts = o->n_fp_prompts, .n_new = o->fp_tokens,
                                    .threads = o->threads, .isa = -1};
    cJSON *fp = NULL;
    ckpt_status s = ckpt_fingerprint_make(&fp, &fo, err);
    if (s == CKPT_OK && !cJSON_AddItemToObject(p->m.ckpt, "fingerprint", fp)) {
        cJSON_Delete(fp);
        s = ckpt_err_set(err, CKPT_E_NOMEM, "out of memory");
    }
    return s;
}

ckpt_status ckpt_sign_run(const struct ckpt_sign_opts *o, struct ckpt_sign_done **done,
                          size_t *n_done, ckpt_err *err)
{
    *done = NULL;
    *n_done = 0;
    if (o->n_artifacts == 0)
        return ckpt_err_set(err, CKPT_E_USAGE, "no artifact to sign");
    if (o->sig_path && o->n_artifacts > 1)
        return ckpt_err_set(err, CKPT_E_USAGE, "-o names one signature, but %zu artifacts "
                            "were given (each gets its own)", o->n_artifacts);
    size_t np = o->n_artifacts + (o->source_dir ? 1 : 0), n_jobs = 0;
    struct plan *plans = calloc(np, sizeof *plans);
    struct plan *src = o->source_dir ? &plans[o->n_artifacts] : NULL;
    struct ckpt_sha256_job *jobs = NULL;
    char **paths = NULL;
    ckpt_key *key = NULL;
    cJSON *prov = NULL;
    char hint[CKPT_SHA256_HEX];
    ckpt_status s = plans ? CKPT_OK : ckpt_err_set(err, CKPT_E_NOMEM, "out of memory");
    ckpt_out_protect(o->key_path); /* no output of this run may replace the key */
    /* loaded first, so that a file of another kind (a public key, a model) is
     * named as such; then its permissions, before anything is signed */
    if (s == CKPT_OK)
        s = ckpt_key_load_private(&key, o->key_path, o->passphrase, err);
    if (s == CKPT_OK && !o->insecure_key_perms)
        s = ckpt_keyfile_check_perms(o->key_path, err);
    if (s == CKPT_OK)
        s = ckpt_key_hint(key, hint, err);
    for (size_t i = 0; s == CKPT_OK && i < o->n_artifacts; i++)
        s = plan_artifact(&plans[i], o->artifacts[i], o->sig_path, o->force, o->slsa, err);
    if (s == CKPT_OK && src) {
        s = ckpt_artifact_open(&src->a, o->source_dir, err);
        if (s == CKPT_OK)
            s = list_files(src, err);
    }
    for (size_t i = 0; s == CKPT_OK && i < np; i++) {
        plans[i].job0 = n_jobs;
        n_jobs += plans[i].n;
    }
    if (s == CKPT_OK && (!(jobs = calloc(n_jobs, sizeof *jobs)) ||
                         !(paths = calloc(n_jobs, sizeof *paths))))
        s = ckpt_err_set(err, CKPT_E_NOMEM, "out of memory");
    for (size_t i = 0; s == CKPT_OK && i < np; i++) {
        for (size_t k = 0; s == CKPT_OK && k < plans[i].n; k++) {
            size_t j = plans[i].job0 + k;
            const struct ckpt_artifact *a = &plans[i].a;
            paths[j] = a->is_dir     ? ckpt_path_join(a->path, plans[i].names[k])
                       : a->n_parts ? ckpt_path_join(a->dir, plans[i].names[k])
                                     : strdup(a->path);
            if (!paths[j])
                s = ckpt_err_set(err, CKPT_E_NOMEM, "out of memory");
            jobs[j].path = paths[j];
        }
    }
    if (s == CKPT_OK)
        s = ckpt_sha256_files(jobs, n_jobs, o->threads, o->progress, o->progress_ctx, err);
    if (s == CKPT_OK)
        s = provenance(o, src, jobs, &prov, err);
    if (s == CKPT_OK && !(*done = calloc(o->n_artifacts, sizeof **done)))
        s = ckpt_err_set(err, CKPT_E_NOMEM, "out of memory");
    for (size_t i = 0; s == CKPT_OK && i < o->n_artifacts; i++) {
        struct plan *p = &plans[i];
        struct ckpt_sign_done *d = &(*done)[i];
        s = collect(p, jobs, &d->bytes, err);
        if (s == CKPT_OK && !(p->m.ckpt = cJSON_Duplicate(prov, 1)))
            s = ckpt_err_set(err, CKPT_E_NOMEM, "out of memory");
        /* GGUF files carry their own parameters: record them (a split
         * set's are in its first file, which opens as the whole set) */
        for (size_t k = 0; s == CKPT_OK && k < (p->a.n_parts ? 1 : p->n); k++)
            s = ckpt_provenance_add_gguf(p->m.ckpt,
                                         p->a.is_dir || p->a.n_parts ? p->names[k] : p->a.name,
                                         paths[p->job0 + k], err);
        /* so do compressed-tensors shards, in their __metadata__ */
        for (size_t k = 0; s == CKPT_OK && p->a.is_dir && k < p->n; k++)
            s = ckpt_provenance_add_st_recipe(p->m.ckpt, p->names[k], paths[p->job0 + k], err);
        if (s == CKPT_OK && o->fingerprint)
            s = add_fingerprint(o, p, err);
        if (s == CKPT_OK)
            s = sign_one(p, key, hint, o->force, err);
        if (s != CKPT_OK)
            break;
        d->artifact = strdup(p->a.path);
        d->sig = strdup(p->sig);
        d->slsa = p->slsa ? strdup(p->slsa) : NULL;
        d->sums = strdup(p->a.sums);
        d->n_files = p->m.n_res;
        ckpt_sha256_hex(p->m.root, d->root);
        snprintf(d->key, sizeof d->key, "%s", ckpt_key_describe(key));
        *n_done = i + 1;
    }
    for (size_t i = 0; paths && i < n_jobs; i++)
        free(paths[i]);
    free(paths);
    free(jobs);
    for (size_t i = 0; plans && i < np; i++)
        plan_free(&plans[i]);
    free(plans);
    cJSON_Delete(prov);
    ckpt_key_free(key);
    return s;
}

void ckpt_sign_done_free(struct ckpt_sign_done *d, size_t n)
{
    for (size_t i = 0; d && i < n; i++) {
        free(d[i].artifact);
        free(d[i].sig);
        free(d[i].slsa);
        free(d[i].sums);
    }
    free(d);
}
