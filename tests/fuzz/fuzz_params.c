/*
 * fuzz_params.c - libFuzzer entry point over Mistral's params.json
 * (ckpt_hf_params_config, ckpt_hf_params_parse): never crash; a success
 * must describe a consistent model with the Mistral naming scheme, and an
 * error must name the file.
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
    ckpt_err err;
    ckpt_err_clear(&err);
    char *cfg_text = NULL;
    if (ckpt_hf_params_config(&cfg_text, copy, size, "params.json", &err) == CKPT_OK &&
        (!cfg_text || !memchr(cfg_text, '\0', strlen(cfg_text) + 1)))
        abort();
    free(cfg_text);
    struct ckpt_hf_config c;
    ckpt_err_clear(&err);
    if (ckpt_hf_params_parse(&c, copy, size, "params.json", &err) == CKPT_OK) {
        if (c.hidden_size == 0 || c.n_heads == 0 || c.n_kv_heads == 0 ||
            c.n_heads % c.n_kv_heads != 0 || c.head_dim == 0 || !c.scheme ||
            ((c.arch->features & CKPT_FEAT_EXPERTS) && c.n_experts_per_tok > c.n_experts) ||
            !(c.rms_norm_eps > 0) || !(c.rope_theta > 0))
            abort();
    } else if (strncmp(err.msg, "params.json: ", 13) != 0) {
        abort();
    }
    free(copy);
    return 0;
}
