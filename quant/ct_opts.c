/*
 * ct_opts.c - the compressed-tensors option checks (see ct_opts.h).
 */
#include "ct_opts.h"

#include <string.h>

#include "ct_scheme.h"

ckpt_status ckpt_ct_opts_check(const struct ckpt_ct_sink_opts *ct, const char *output,
                               bool optimize, ckpt_err *err)
{
    if (ct->scheme >= 0 && (!output || strcmp(output, "-") == 0))
        return ckpt_err_set(err, CKPT_E_USAGE, "-t %s writes a model directory: name it with "
                            "-o DIR", ckpt_ct_scheme_at(ct->scheme)->name);
    if (ct->scheme < 0 && (ct->group_size || ct->max_shard_bytes || ct->search))
        return ckpt_err_set(err, CKPT_E_USAGE, "--group-size, --max-shard-size and "
                            "--scale-search apply to the compressed-tensors schemes (W8A16, "
                            "W8A8, W4A16)");
    if (ct->scheme >= 0 && optimize)
        return ckpt_err_set(err, CKPT_E_USAGE, "--optimize chooses GGUF block types: it does "
                            "not apply to -t %s", ckpt_ct_scheme_at(ct->scheme)->name);
    return CKPT_OK;
}
