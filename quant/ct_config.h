/*
 * ct_config.h - config.json of a compressed-tensors model directory: the
 * source's own config.json (a Hugging Face source) or one made from a
 * GGUF's keys through the architecture descriptor, with the
 * quantization_config added.  Printed with two-space indents and sorted
 * keys, as transformers writes it.
 */
#ifndef CKPT_QUANT_CT_CONFIG_H
#define CKPT_QUANT_CT_CONFIG_H

#include <cJSON.h>

#include "../arch/arch.h"
#include "../formats/gguf.h"
#include "../kernels/err.h"
#include "../kernels/types.h"

/* JSON text of `root` (objects' keys sorted), two-space indents, a final
 * newline; malloc'd, NULL when out of memory.  Sorts root in place. */
char *ckpt_ct_json_print(cJSON *root);

/*
 * The config.json text: source_dir's config.json when source_dir is not
 * NULL, else one made from the GGUF keys `g` for descriptor `a` (sizes,
 * heads, eps, rope theta, experts, token ids; no sliding window, which a
 * GGUF does not record), with torch_dtype set from dt and
 * quantization_config = qc (taken over: freed here whatever happens).
 * *out is malloc'd.  Errors: CKPT_E_IO, CKPT_E_FORMAT for an unreadable
 * config.json or missing keys, CKPT_E_NOMEM.
 */
ckpt_status ckpt_ct_config_text(char **out, const char *source_dir, const ckpt_gguf *g,
                                const struct ckpt_arch *a, ckpt_type dt, cJSON *qc,
                                ckpt_err *err);

#endif
