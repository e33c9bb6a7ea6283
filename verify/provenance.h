/*
 * provenance.h - the `ckpt` object ckpt-sign puts in the signed predicate
 * (predicate.ckpt; model_signing verifiers ignore fields they do not know):
 *
 *   {"version":1,
 *    "tool":{"name":"ckpt","version":"0.1.0"},
 *    "parameters":{"k":"v",...},                 --param k=v, as given
 *    "source":{"name":DIR,"digest":{"sha256":ROOT},   --source DIR, hashed
 *              "resources":[{"name","algorithm","digest"},...]},
 *    "gguf":[{"name":FILE,"version":3,"file_type":15,
 *             "tensor_types":{"q4_K":97,...},"metadata":{KEY:VALUE,...},
 *             "recipe":{...}},...],
 *    "safetensors":[{"name":FILE,"recipe":{...}},...]}
 *
 * "source" uses the same resource form and root rule as the model itself.
 * "gguf" holds, for each signed file that is a GGUF, what shaped its bytes:
 * general.file_type, the count of tensors per type, and the
 * quantize.imatrix.* and general.source.* metadata, and the recipe the file
 * carries (formats/recipe.h: every step, option and input digest; what
 * `ckpt-verify --rebuild` replays), as JSON.
 *
 * "safetensors" holds, for each signed .safetensors file whose __metadata__
 * carries a recipe (a compressed-tensors shard, quant/sink_ct.h), that
 * recipe as JSON.
 *
 * Reserved, not written yet (a reader must not give them another meaning):
 * "fingerprint" (greedy tokens of fixed prompts, checked by running the
 * artifact).
 */
#ifndef CKPT_VERIFY_PROVENANCE_H
#define CKPT_VERIFY_PROVENANCE_H

#include <cjson/cJSON.h>

#include "../formats/manifest.h"
#include "../kernels/err.h"

#define CKPT_PROVENANCE_VERSION 1

/* A new object with version and tool; caller owns *out (cJSON_Delete). */
ckpt_status ckpt_provenance_new(cJSON **out, ckpt_err *err);

/* Add a "k=v" parameter.  Errors: CKPT_E_USAGE (no '=', empty or
 * repeated key, not UTF-8). */
ckpt_status ckpt_provenance_add_param(cJSON *ck, const char *kv, ckpt_err *err);

/* Record the hashed source directory (resources, root, subject name). */
ckpt_status ckpt_provenance_set_source(cJSON *ck, const struct ckpt_manifest *src,
                                       ckpt_err *err);

/*
 * If the file at `path` starts with the GGUF magic, read its header and
 * append what shaped its bytes under "gguf", named `name`: the GGUF
 * version, general.file_type, the number of tensors per type, and the
 * quantize.imatrix.* and general.source.* keys.  Other files are left
 * alone.  A file that says GGUF but does not parse is an error (the GGUF
 * reader's) rather than signed with half its provenance.
 */
ckpt_status ckpt_provenance_add_gguf(cJSON *ck, const char *name, const char *path,
                                     ckpt_err *err);

/*
 * If the file at `path` is named *.safetensors and its __metadata__
 * carries a recipe, append {"name","recipe"} under "safetensors".  Other
 * files, and shards without one, are left alone.  A shard that does not
 * parse, or whose recipe does not, is an error (the reader's).
 */
ckpt_status ckpt_provenance_add_st_recipe(cJSON *ck, const char *name, const char *path,
                                          ckpt_err *err);

#endif
