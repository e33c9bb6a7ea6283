/*
 * ct_opts.h - which ckpt-quant options go with a compressed-tensors
 * scheme: the checks made before anything is read, so that a wrong
 * combination is a usage error (exit 2) with nothing written.
 */
#ifndef CKPT_QUANT_CT_OPTS_H
#define CKPT_QUANT_CT_OPTS_H

#include <stdbool.h>

#include "../kernels/err.h"
#include "sink_ct.h"

/*
 * ct as parsed (scheme < 0: a GGUF mix), the output as given (NULL: none)
 * and whether --optimize was given.  CKPT_E_USAGE, with the message to
 * show, for: a scheme without -o DIR or to stdout, the compressed-tensors
 * options without a scheme, --optimize with a scheme.
 */
ckpt_status ckpt_ct_opts_check(const struct ckpt_ct_sink_opts *ct, const char *output,
                               bool optimize, ckpt_err *err);

#endif
