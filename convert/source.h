/*
 * source.h - the checkpoint a conversion reads: the weights (a Hugging Face
 * model directory, or one .safetensors file with config.json and the
 * tokenizer files beside it), the parsed config, and the raw config.json,
 * which the converter's rules need ("write this key only when config.json
 * has it").  Also the model's name as llama.cpp's converter derives it
 * (the directory name) and provenance facts: the SHA-256 of config.json
 * and, for a Hugging Face hub cache snapshot, the repository and commit.
 */
#ifndef CKPT_CONVERT_SOURCE_H
#define CKPT_CONVERT_SOURCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "../formats/hfdir.h"
#include "../kernels/err.h"

struct ckpt_source {
    ckpt_hf *hf;                      /* the weights (owned) */
    struct ckpt_hf_config cfg;        /* config.json with transformers' defaults */
    cJSON *config;                    /* config.json as written (owned) */
    char *dir;                        /* directory of config.json and the tokenizer (owned) */
    char *name;                       /* "tiny-mistral": the path's last component, or the
                                         repository's name for a hub snapshot (owned) */
    char config_sha256[65];           /* hex digest of config.json */
    char hub_repo[256];               /* "org/name" of a hub cache snapshot, else "" */
    char hub_commit[41];              /* its commit (40 hex digits), else "" */
};

/*
 * Open a model directory or a FILE.safetensors (whose directory must hold
 * config.json).  Standard input is refused: a checkpoint is more than one
 * file.  The caller owns *out (ckpt_source_close).  Errors as ckpt_hf_open,
 * plus CKPT_E_USAGE for "-" and CKPT_E_IO when config.json is missing.
 */
ckpt_status ckpt_source_open(struct ckpt_source **out, const char *path, ckpt_err *err);

void ckpt_source_close(struct ckpt_source *src);

/* config.json's value of key, or NULL when absent or null (borrowed). */
const cJSON *ckpt_source_param(const struct ckpt_source *src, const char *key);

/* True for Mistral's own layout (params.json, consolidated*.safetensors,
 * tokenizer.model.v3), which llama.cpp converts with --mistral-format. */
bool ckpt_source_mistral_layout(const struct ckpt_source *src);

/* Path of a file next to config.json (malloc'd; NULL on out of memory). */
char *ckpt_source_file(const struct ckpt_source *src, const char *name);

#endif
