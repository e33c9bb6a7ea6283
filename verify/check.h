/*
 * check.h - ckpt-verify's integrity check: bundle -> key hint -> signature
 * over the DSSE PAE -> payload, statement and predicate types -> exactly one
 * subject -> root digest recomputed from the resources -> every file of the
 * artifact re-hashed and compared, each reported as ok, modified, missing
 * or unexpected.  Everything is checked before anything is reported (git's
 * "check all, then report"), and no path from the bundle is ever opened:
 * the artifact directory is listed and its names compared with the signed
 * ones, so a hostile resource name cannot make the verifier read outside it.
 */
#ifndef CKPT_VERIFY_CHECK_H
#define CKPT_VERIFY_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "../formats/bundle.h"
#include "../formats/manifest.h"
#include "../formats/sha256.h"
#include "../kernels/err.h"
#include "key.h"

enum ckpt_check_state {
    CKPT_CHECK_OK,
    CKPT_CHECK_MODIFIED,   /* signed, present, other bytes */
    CKPT_CHECK_MISSING,    /* signed, not present (or ignored) */
    CKPT_CHECK_UNEXPECTED, /* present, not signed, not ignored */
};

struct ckpt_check_file {
    char *name;                        /* resource name; owned */
    enum ckpt_check_state state;
    uint8_t want[CKPT_SHA256_LEN];     /* signed digest (not for UNEXPECTED) */
    uint8_t got[CKPT_SHA256_LEN];      /* digest now (OK and MODIFIED) */
};

struct ckpt_check_opts {
    const char *artifact;              /* file or directory */
    const char *sig_path;              /* NULL: ARTIFACT.sig or DIR/model.sig */
    const ckpt_key *key;               /* the signer's public key */
    const char *const *ignore;         /* --ignore paths */
    size_t n_ignore;
    int threads;
    ckpt_progress_fn progress;
    void *progress_ctx;
};

struct ckpt_check_report {
    char *artifact, *sig_path;          /* owned */
    bool hint_absent;                   /* the bundle names no key (older signer) */
    bool signature_ok;                  /* signature and statement are good */
    struct ckpt_manifest manifest;      /* the signed statement (when parsed) */
    char *name;                         /* the artifact's name now (its subject
                                           name, were it signed now); owned */
    bool name_differs;                  /* signed under another name: the bytes
                                           were signed, the name was not checked */
    struct ckpt_check_file *files;      /* sorted by name */
    size_t n_files;
    size_t count[4];                    /* files per state */
};

/*
 * Run the check; the report is filled as far as the check got (zero it
 * first, free it with ckpt_check_report_free in every case).  CKPT_OK: the
 * signature is good and every file is as signed.  CKPT_E_MISMATCH: a
 * finished check found a bad signature, another key, or changed files.
 * Other codes: the artifact, signature or key could not be read or is
 * malformed (exit 2).
 */
ckpt_status ckpt_check_run(const struct ckpt_check_opts *o, struct ckpt_check_report *r,
                           ckpt_err *err);

/*
 * Read a bundle file and check its envelope: media type, key hint and
 * signature (skipped when key is NULL), payload type.  *payload (malloc'd,
 * NUL after its len bytes) is the signed statement, not yet parsed.
 */
ckpt_status ckpt_check_envelope(const char *sig_path, const ckpt_key *key, uint8_t **payload,
                                size_t *len, bool *hint_absent, ckpt_err *err);

/*
 * Read a bundle file and check it up to the statement: media type, key hint
 * and signature (skipped when key is NULL: for --show), payload type,
 * statement.  *hint_absent tells if the bundle names no key.
 */
ckpt_status ckpt_check_bundle(const char *sig_path, const ckpt_key *key,
                              struct ckpt_manifest *m, bool *hint_absent, ckpt_err *err);

void ckpt_check_report_free(struct ckpt_check_report *r);

/* "ok", "modified", "missing", "unexpected". */
const char *ckpt_check_state_name(enum ckpt_check_state s);

/* The report as a JSON object (caller owns it); status/err say how the
 * check ended.  NULL if out of memory. */
cJSON *ckpt_check_report_json(const struct ckpt_check_report *r, ckpt_status status,
                              const ckpt_err *err);

#endif
