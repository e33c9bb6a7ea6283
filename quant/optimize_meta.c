/*
 * optimize_meta.c - what an optimized file records about how it was made
 * (optimize.h): the options that shaped the choice and the calibration
 * text's digest, so that the same bytes can be made again and checked.
 */
#include "optimize.h"

#include "../arch/gguf_keys.h"
#include "../formats/sha256.h"

#include <stdio.h>
#include <string.h>

ckpt_status ckpt_opt_meta_make(struct ckpt_opt_meta *m, const char *text,
                               const struct ckpt_opt_opts *o, ckpt_err *err)
{
    memset(m, 0, sizeof *m);
    uint8_t d[CKPT_SHA256_LEN];
    ckpt_status st = ckpt_sha256_file(text, d, NULL, err);
    if (st != CKPT_OK)
        return st;
    ckpt_sha256_hex(d, m->sha256);
    char target[64] = "mix";
    if (o->target_bytes > 0)
        snprintf(target, sizeof target, "size:%llu", (unsigned long long)o->target_bytes);
    else if (o->target_bpw > 0)
        snprintf(target, sizeof target, "bpw:%.17g", o->target_bpw);
    snprintf(m->options, sizeof m->options, "mix=%s target=%s ctx=%lld sens_tokens=%lld%s",
             ckpt_mix_name(o->mix), target, (long long)(o->n_ctx > 0 ? o->n_ctx : 512),
             (long long)(o->sens_tokens > 0 ? o->sens_tokens : CKPT_OPT_SENS_TOKENS),
             o->gptq ? " gptq" : "");
    m->kv[0] = (struct ckpt_qsink_kv){CKPT_KEY_OPTIMIZE_OPTIONS, CKPT_GGUF_STRING,
                                      {.str = m->options}};
    m->kv[1] = (struct ckpt_qsink_kv){CKPT_KEY_OPTIMIZE_CALIB_SHA256, CKPT_GGUF_STRING,
                                      {.str = m->sha256}};
    return CKPT_OK;
}

uint64_t ckpt_opt_kv_bytes(const struct ckpt_qsink_kv *kv, size_t n)
{
    uint64_t b = 0;
    for (size_t i = 0; i < n; i++) /* key: u64 length + bytes; u32 type; the value */
        b += 8 + strlen(kv[i].key) + 4 +
             (kv[i].type == CKPT_GGUF_STRING ? 8 + strlen(kv[i].v.str) : 4);
    return b;
}
