/*
 * slsa.h - the build's provenance as SLSA sees it: an in-toto Statement v1
 * with predicateType https://slsa.dev/provenance/v1, signed into its own
 * Sigstore bundle beside the model_signing one (`ckpt-sign --slsa`), so
 * that supply-chain tools that read SLSA understand what ckpt records:
 *
 *   subject              every signed file with its SHA-256 (the artifact's
 *                        own name for a single file)
 *   buildDefinition
 *     buildType          CKPT_SLSA_BUILD_TYPE
 *     externalParameters {"recipes":{FILE: recipe (formats/recipe.h)},
 *                         "parameters":{--param k=v}}   (each when present)
 *     resolvedDependencies  every input a recipe names and every file of
 *                        --source: {name, digest{sha256}, annotations{role}}
 *   runDetails
 *     builder            {id: CKPT_SLSA_BUILDER_ID, version{ckpt: VERSION}}
 *     metadata           {} - no invocation id or times, so that signing the
 *                        same build twice gives the same statement
 *
 * The bundle is SIG without a trailing ".sig", plus ".slsa.sigstore.json"
 * (".sigstore.json" is the name Sigstore clients give a bundle):
 * model.q4.gguf.slsa.sigstore.json beside model.q4.gguf.sig.
 */
#ifndef CKPT_VERIFY_SLSA_H
#define CKPT_VERIFY_SLSA_H

#include "../formats/manifest.h"
#include "../kernels/err.h"
#include "key.h"

#define CKPT_SLSA_PREDICATE_TYPE "https://slsa.dev/provenance/v1"
#define CKPT_SLSA_BUILD_TYPE "urn:ckpt:build-type:recipe:v1"
#define CKPT_SLSA_BUILDER_ID "urn:ckpt:builder:ckpt"
#define CKPT_SLSA_SUFFIX ".slsa.sigstore.json"

/* The SLSA bundle's path for a signature path (malloc'd; NULL if out of
 * memory). */
char *ckpt_slsa_path(const char *sig_path);

/*
 * The statement for a signed manifest m (its resources, subject name and
 * predicate.ckpt), compact JSON; caller frees *out.  Errors: CKPT_E_NOMEM.
 */
ckpt_status ckpt_slsa_statement(const struct ckpt_manifest *m, char **out, size_t *len,
                                ckpt_err *err);

/*
 * Check the SLSA bundle at path against key and the verified manifest m:
 * the signature, the statement and predicate types, the build type, and
 * subjects that are exactly m's files and digests (m's files were re-hashed
 * by the integrity check, so this ties the SLSA claims to the bytes).
 * CKPT_OK, CKPT_E_MISMATCH (named), or the reader's errors.
 */
ckpt_status ckpt_slsa_check(const char *path, const ckpt_key *key, const struct ckpt_manifest *m,
                            ckpt_err *err);

#endif
