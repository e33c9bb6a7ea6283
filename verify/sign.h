/*
 * sign.h - ckpt-sign's work: hash the artifacts (and the source), build each
 * artifact's statement with its provenance, sign the DSSE PAE, and write
 * the Sigstore bundle and SHA256SUMS (layout in artifact.h).
 */
#ifndef CKPT_VERIFY_SIGN_H
#define CKPT_VERIFY_SIGN_H

#include <stdbool.h>
#include <stddef.h>

#include "../formats/sha256.h"
#include "../kernels/err.h"

struct ckpt_sign_opts {
    const char *key_path;             /* PEM private key */
    const char *passphrase;           /* NULL: key not encrypted */
    const char *source_dir;           /* NULL: no source recorded */
    const char *const *params;        /* "k=v" strings */
    size_t n_params;
    const char *const *artifacts;     /* files and directories */
    size_t n_artifacts;
    const char *sig_path;             /* -o; only with one artifact; NULL: default */
    bool force;                       /* replace existing signatures */
    bool insecure_key_perms;          /* use a key readable by group or others */
    bool fingerprint;                 /* run each artifact and record its behaviour
                                         (fingerprint.h) */
    const char *const *fp_prompts;    /* NULL: the built-in prompts */
    size_t n_fp_prompts;
    int64_t fp_tokens;                /* <= 0: the default */
    bool slsa;                        /* also an SLSA provenance bundle (slsa.h) */
    int threads;                      /* <= 0: all CPUs */
    ckpt_progress_fn progress;        /* may be NULL */
    void *progress_ctx;
};

/* One signed artifact, for the tool's summary. */
struct ckpt_sign_done {
    char *artifact, *sig, *sums;      /* owned */
    char *slsa;                       /* owned; NULL without --slsa */
    size_t n_files;
    uint64_t bytes;
    char root[CKPT_SHA256_HEX];
    char key[48];                     /* key description */
};

/*
 * Sign every artifact.  Nothing is hashed before every output is known to
 * be writable (an existing signature without force fails at once).
 * *done (n_done entries) lists what was signed, also on error; free with
 * ckpt_sign_done_free.  Errors: CKPT_E_USAGE, CKPT_E_EXISTS, CKPT_E_IO,
 * CKPT_E_FORMAT (key), CKPT_E_UNSUPPORTED (links, special files).
 */
ckpt_status ckpt_sign_run(const struct ckpt_sign_opts *o, struct ckpt_sign_done **done,
                          size_t *n_done, ckpt_err *err);

void ckpt_sign_done_free(struct ckpt_sign_done *d, size_t n);

#endif
