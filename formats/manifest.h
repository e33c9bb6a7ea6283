/*
 * manifest.h - the signed statement of a model: an in-toto Statement v1
 * whose predicate is sigstore model_signing's v1.0 manifest (one resource
 * per file with its SHA-256, the root digest over them as the subject, the
 * serialization that produced them), plus ckpt's own provenance object
 * under predicate.ckpt, which model_signing verifiers ignore.
 *
 *   {"_type":"https://in-toto.io/Statement/v1",
 *    "subject":[{"name":MODEL,"digest":{"sha256":ROOT}}],
 *    "predicateType":"https://model_signing/signature/v1.0",
 *    "predicate":{"serialization":{"method":"files","hash_type":"sha256",
 *                                  "allow_symlinks":false,"ignore_paths":[...]},
 *                 "resources":[{"name":PATH,"algorithm":"sha256","digest":HEX},...],
 *                 "ckpt":{...}}}
 *
 * ROOT is the SHA-256 of the raw 32-byte digests of the resources in the
 * order listed.  Resource names are POSIX paths relative to the model
 * directory, or "." for a model that is a single file.  man/ckpt-manifest.5
 * has the whole format.
 */
#ifndef CKPT_FORMATS_MANIFEST_H
#define CKPT_FORMATS_MANIFEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "../kernels/err.h"
#include "sha256.h"

#define CKPT_INTOTO_STATEMENT_V1 "https://in-toto.io/Statement/v1"
#define CKPT_MODEL_SIGNING_V1 "https://model_signing/signature/v1.0"

struct ckpt_resource {
    char *name;                      /* owned */
    uint8_t digest[CKPT_SHA256_LEN];
};

struct ckpt_manifest {
    char *subject;                   /* model name (informational); owned */
    uint8_t root[CKPT_SHA256_LEN];   /* subject digest */
    struct ckpt_resource *res;       /* n_res entries, owned */
    size_t n_res, cap_res;
    char **ignore;                   /* serialization.ignore_paths, owned */
    size_t n_ignore, cap_ignore;
    cJSON *ckpt;                     /* predicate.ckpt or NULL; owned */
};

/* Append a resource / an ignore path (copied).  Errors: CKPT_E_NOMEM. */
ckpt_status ckpt_manifest_add(struct ckpt_manifest *m, const char *name,
                              const uint8_t digest[CKPT_SHA256_LEN], ckpt_err *err);
ckpt_status ckpt_manifest_add_ignore(struct ckpt_manifest *m, const char *path, ckpt_err *err);

/* Set the subject name (copied). */
ckpt_status ckpt_manifest_set_subject(struct ckpt_manifest *m, const char *name, ckpt_err *err);

/*
 * Order of resource names as model_signing sorts them (Python's
 * PurePosixPath order: component by component, so "a/b" < "a.b"); <0, 0, >0.
 */
int ckpt_manifest_name_cmp(const char *a, const char *b);

/* Sort the resources (ckpt_manifest_name_cmp) and the ignore paths (strcmp),
 * then set root from the sorted resources. */
void ckpt_manifest_finish(struct ckpt_manifest *m);

/* Root digest over the resources in their current order. */
void ckpt_manifest_root(const struct ckpt_manifest *m, uint8_t out[CKPT_SHA256_LEN]);

/*
 * A safe resource name: a relative POSIX path of non-empty components, none
 * of them "." or "..", no leading or trailing '/'.  (The single-file name
 * "." is checked separately by the statement parser.)
 */
bool ckpt_manifest_name_safe(const char *name);

/* True if relative path `name` is `ignore` or lies under it. */
bool ckpt_manifest_is_ignored(const struct ckpt_manifest *m, const char *name);

/* Compact statement JSON of m (as finished); *out is malloc'd, NUL-terminated. */
ckpt_status ckpt_manifest_to_statement(const struct ckpt_manifest *m, char **out, size_t *len,
                                       ckpt_err *err);

/*
 * Parse and check a statement (untrusted bytes; `name` prefixes messages):
 * statement type, predicate type, exactly one subject with a sha256 digest,
 * serialization "files"/"sha256" without symlinks, resources with safe
 * unique names and sha256 digests, and the root digest recomputed from the
 * resources in the order listed.  Errors: CKPT_E_FORMAT (malformed),
 * CKPT_E_UNSUPPORTED (another predicate or serialization), CKPT_E_MISMATCH
 * (the root digest does not match the resources).  m must be zeroed; free
 * it with ckpt_manifest_free in every case.
 */
ckpt_status ckpt_manifest_from_statement(const uint8_t *json, size_t len, const char *name,
                                         struct ckpt_manifest *m, ckpt_err *err);

/* Release what m owns and zero it. */
void ckpt_manifest_free(struct ckpt_manifest *m);

#endif
