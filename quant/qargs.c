/*
 * qargs.c - ckpt-quant's operands in ckpt's or llama-quantize's form (see
 * qargs.h).
 */
#include "qargs.h"

#include "plan.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* llama-quantize's default: [IN's directory/]ggml-model-MIX.gguf. */
static char *llama_default_output(const char *in, int mix)
{
    const char *slash = strrchr(in, '/');
    const int dir = slash ? (int)(slash - in + 1) : 0;
    const size_t len = (size_t)dir + strlen(ckpt_mix_name((ckpt_mix)mix)) + 32;
    char *out = malloc(len);
    if (out)
        snprintf(out, len, "%.*sggml-model-%s.gguf", dir, in, ckpt_mix_name((ckpt_mix)mix));
    return out;
}

static ckpt_status threads(const char *s, int *out, ckpt_err *err)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < 0 || v > 1024)
        return ckpt_err_set(err, CKPT_E_USAGE, "'%s' is not a thread count (0-1024, 0: all cores)",
                            s);
    *out = (int)v;
    return CKPT_OK;
}

static ckpt_status mix_of(const char *s, int *out, ckpt_err *err)
{
    char why[1024];
    if ((*out = ckpt_mix_parse(s)) >= 0)
        return CKPT_OK;
    return ckpt_err_set(err, CKPT_E_USAGE, "%s", ckpt_mix_explain(s, why, sizeof why));
}

ckpt_status ckpt_quant_operands_read(struct ckpt_quant_operands *o, int n, char *const *args,
                                     int have_mix, ckpt_err *err)
{
    *o = (struct ckpt_quant_operands){.mix = -1, .n_threads = -1};
    if (n == 0)
        return ckpt_err_set(err, CKPT_E_USAGE, "no input given");
    o->input = args[0];
    if (have_mix || n == 1) {
        if (n > 1)
            return ckpt_err_set(err, CKPT_E_USAGE,
                                "one input only (with -t; llama-quantize's form is "
                                "IN [OUT] TYPE [THREADS] without -t)");
        return have_mix ? CKPT_OK
                        : ckpt_err_set(err, CKPT_E_USAGE, "no mix given (-t MIX, or IN OUT TYPE)");
    }
    int k = 1;
    if ((o->mix = ckpt_mix_parse(args[1])) >= 0) { /* IN TYPE [THREADS] */
        k = 2;
        if (!(o->derived = llama_default_output(o->input, o->mix)))
            return ckpt_err_set(err, CKPT_E_NOMEM, "out of memory");
        o->output = o->derived;
    } else { /* IN OUT TYPE [THREADS] */
        o->output = args[1];
        if (n < 3)
            return ckpt_err_set(err, CKPT_E_USAGE, "'%s': not a mix, and no TYPE follows it as "
                                "an output file", args[1]);
        ckpt_status st = mix_of(args[2], &o->mix, err);
        if (st != CKPT_OK)
            return st;
        k = 3;
    }
    if (k < n) {
        ckpt_status st = threads(args[k], &o->n_threads, err);
        if (st != CKPT_OK)
            return st;
        k++;
    }
    if (k < n)
        return ckpt_err_set(err, CKPT_E_USAGE, "too many operands from '%s' on (IN [OUT] TYPE "
                            "[THREADS])", args[k]);
    return CKPT_OK;
}

void ckpt_quant_operands_free(struct ckpt_quant_operands *o)
{
    free(o->derived);
    o->derived = NULL;
}
