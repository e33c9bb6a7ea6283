/*
 * overrides.h - llama-quantize's two ways for a user to overrule the
 * defaults, parsed as llama-quantize parses them:
 *
 *   --tensor-type NAME=TYPE   a tensor whose name matches the pattern NAME
 *                             gets TYPE.  NAME is lowercased and searched
 *                             as a regular expression anywhere in the
 *                             tensor name (std::regex_search), so "attn_v"
 *                             is a substring match and "blk\.[0-3]\.ffn_.*"
 *                             a pattern; the first pattern given that
 *                             matches wins (llama.cpp's src/llama-quant.cpp).
 *                             Patterns are POSIX extended expressions here,
 *                             with \d and \w as ECMAScript reads them.
 *   --override-kv KEY=TYPE:VALUE
 *                             TYPE int, float, bool (true/false) or str (at
 *                             most 127 bytes); the key (at most 127 bytes)
 *                             is set in the output, where llama-quantize
 *                             writes an int as a u32 of its absolute value
 *                             (llama.cpp PR 14182: hyperparameters are u32).
 */
#ifndef CKPT_QUANT_OVERRIDES_H
#define CKPT_QUANT_OVERRIDES_H

#include <stddef.h>

#include "../kernels/err.h"
#include "sink.h"

/* ---- --tensor-type ---- */

typedef struct ckpt_qtt ckpt_qtt;

/*
 * Add "NAME=TYPE" to *list (NULL starts a new list; caller frees it with
 * ckpt_qtt_free).  TYPE is a ggml type name, any case ("q8_0", "Q6_K"),
 * that ckpt writes.  Errors: CKPT_E_USAGE naming the argument and what is
 * wrong (no '=', empty name, a type unknown or not written, a bad
 * pattern), CKPT_E_NOMEM.
 */
ckpt_status ckpt_qtt_add(ckpt_qtt **list, const char *arg, ckpt_err *err);

/* The type of the first pattern that matches `name`, or -1 (also for a
 * NULL list). */
int ckpt_qtt_match(const ckpt_qtt *list, const char *name);

/* NULL is fine. */
void ckpt_qtt_free(ckpt_qtt *list);

/* ---- --override-kv ---- */

struct ckpt_quant_kvs {
    struct ckpt_qsink_kv *kv; /* n, in the order given; strings owned by the list */
    size_t n;
    char **owned;             /* n parsed copies the keys and strings point into */
};

/*
 * Add "KEY=TYPE:VALUE" to l (zero it first; free with ckpt_quant_kvs_free).
 * Errors: CKPT_E_USAGE naming the argument and what is wrong, CKPT_E_NOMEM.
 */
ckpt_status ckpt_quant_kvs_add(struct ckpt_quant_kvs *l, const char *arg, ckpt_err *err);

/* Free and zero; a zeroed list is fine. */
void ckpt_quant_kvs_free(struct ckpt_quant_kvs *l);

#endif
