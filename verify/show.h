/*
 * show.h - a signed statement in words, for `ckpt-verify --show`: the
 * subject, every resource, the ignore paths and the ckpt provenance
 * (tool, parameters, source files, GGUF parameters).
 */
#ifndef CKPT_VERIFY_SHOW_H
#define CKPT_VERIFY_SHOW_H

#include <cjson/cJSON.h>

#include "../formats/manifest.h"
#include "../kernels/err.h"

/* The name to show for resource i: the subject for the one file of a
 * single-file artifact, which model_signing's layout names "." (borrowed). */
const char *ckpt_show_resource_name(const struct ckpt_manifest *m, size_t i);

/*
 * The bundle --show reads for operand: operand itself when it is a Sigstore
 * bundle, else the signature of the artifact operand names (ARTIFACT.sig,
 * DIR/model.sig).  *sig is malloc'd.  Errors: CKPT_E_IO (unreadable
 * operand), CKPT_E_NOMEM, and those of ckpt_artifact_open.
 */
ckpt_status ckpt_show_sig_path(const char *operand, char **sig, ckpt_err *err);

/* Readable text of m; *out is malloc'd.  Errors: CKPT_E_NOMEM. */
ckpt_status ckpt_show_text(const struct ckpt_manifest *m, char **out, ckpt_err *err);

/* The statement as a JSON object (subject, root, serialization, resources,
 * ckpt); caller owns it.  NULL if out of memory. */
cJSON *ckpt_show_json(const struct ckpt_manifest *m);

#endif
