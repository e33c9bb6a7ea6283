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

/* Readable text of m; *out is malloc'd.  Errors: CKPT_E_NOMEM. */
ckpt_status ckpt_show_text(const struct ckpt_manifest *m, char **out, ckpt_err *err);

/* The statement as a JSON object (subject, root, serialization, resources,
 * ckpt); caller owns it.  NULL if out of memory. */
cJSON *ckpt_show_json(const struct ckpt_manifest *m);

#endif
