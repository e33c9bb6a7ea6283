/*
 * qargs.h - ckpt-quant's operands, in either of the two forms people type:
 *
 *   ckpt-quant -t MIX [-o OUT] IN            ckpt's own
 *   ckpt-quant IN [OUT] TYPE [THREADS]       llama-quantize's
 *
 * In the second form TYPE is anything ckpt_mix_parse takes (a name, an
 * alias, a numeric id); when the operand after IN is a type, OUT is left
 * out and becomes ggml-model-MIX.gguf in IN's directory, as
 * llama-quantize names it; THREADS 0 means all cores.
 */
#ifndef CKPT_QUANT_QARGS_H
#define CKPT_QUANT_QARGS_H

#include <stddef.h>

#include "../kernels/err.h"

struct ckpt_quant_operands {
    const char *input;
    const char *output; /* NULL when not given */
    char *derived;      /* owned: llama-quantize's default output, or NULL */
    int mix;            /* ckpt_mix, or -1 when not given as an operand */
    int n_threads;      /* -1 when not given; 0 all cores */
};

/*
 * Read the n operands in args (what is left after the options).  have_mix:
 * -t was given, so only IN may follow.  Errors: CKPT_E_USAGE with a
 * message saying what is missing or wrong (an unknown TYPE is explained by
 * ckpt_mix_explain), CKPT_E_NOMEM.  Free with ckpt_quant_operands_free.
 */
ckpt_status ckpt_quant_operands_read(struct ckpt_quant_operands *o, int n, char *const *args,
                                     int have_mix, ckpt_err *err);

void ckpt_quant_operands_free(struct ckpt_quant_operands *o);

#endif
