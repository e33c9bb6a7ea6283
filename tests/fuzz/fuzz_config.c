/*
 * fuzz_config.c - libFuzzer entry point over the config.json parser
 * (ckpt_hf_config_parse): never crash, and a success must describe a
 * consistent model.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "formats/hfdir.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *copy = malloc(size ? size : 1);
    if (!copy)
        return 0;
    if (size)
        memcpy(copy, data, size);
    struct ckpt_hf_config c;
    ckpt_err err;
    ckpt_err_clear(&err);
    if (ckpt_hf_config_parse(&c, copy, size, "config.json", &err) == CKPT_OK) {
        if (c.hidden_size == 0 || c.n_heads == 0 || c.n_kv_heads == 0 ||
            c.n_heads % c.n_kv_heads != 0 || c.head_dim == 0 ||
            ((c.arch->features & CKPT_FEAT_EXPERTS) && c.n_experts_per_tok > c.n_experts) ||
            !(c.rms_norm_eps > 0) || !(c.rope_theta > 0))
            abort();
    } else if (strncmp(err.msg, "config.json: ", 13) != 0) {
        abort();
    }
    free(copy);
    return 0;
}
