/*
 * tokenizer_any.c - ckpt_tok_load_any (see tokenizer.h): the loader is
 * chosen by what the file is (formats/filekind.c), not by its name, and a
 * file that holds no tokenizer is named for what it is.
 */
#include <stdlib.h>
#include <string.h>

#include "filekind.h"
#include "path.h"
#include "tokenizer.h"

ckpt_status ckpt_tok_load_any(ckpt_tok **out, const char *path, ckpt_err *err)
{
    *out = NULL;
    ckpt_file_kind kind;
    ckpt_status s = ckpt_file_sniff(path, &kind, err);
    if (s != CKPT_OK)
        return s;
    switch (kind) {
    case CKPT_KIND_DIRECTORY: return ckpt_tok_load_dir(out, path, err);
    case CKPT_KIND_GGUF: return ckpt_tok_load_gguf(out, path, err);
    case CKPT_KIND_TEKKEN_JSON: return ckpt_tok_load_tekken(out, path, err);
    case CKPT_KIND_TOKENIZER_JSON:
    case CKPT_KIND_JSON: return ckpt_tok_load_hf_json(out, path, err);
    case CKPT_KIND_SPM_MODEL:
    case CKPT_KIND_UNKNOWN: return ckpt_tok_load_spm(out, path, err);
    case CKPT_KIND_SAFETENSORS:
    case CKPT_KIND_HF_CONFIG: { /* a file of a model directory: its tokenizer */
        char *dir = ckpt_path_dirname(path);
        s = dir ? ckpt_tok_load_dir(out, dir, err)
                : ckpt_err_set(err, CKPT_E_NOMEM, "%s: out of memory", path);
        free(dir);
        return s;
    }
    default:
        return ckpt_file_refuse(path, kind,
                                "a tokenizer (a model directory, a GGUF, tokenizer.json, "
                                "tekken.json or tokenizer.model)",
                                err);
    }
}
