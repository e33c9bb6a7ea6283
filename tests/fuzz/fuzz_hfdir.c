/*
 * fuzz_hfdir.c - libFuzzer entry point for a Hugging Face model directory
 * (ckpt_hf_open: config.json, model.safetensors.index.json, one or two
 * shards; see fuzz_model_dir for how one input becomes those files): never
 * crash, and in an accepted directory every tensor's first and last byte
 * can be read.
 */
#include "formats/hfdir.h"
#include "formats/safetensors.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static volatile uint8_t sink;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *dir = fuzz_model_dir(data, size);
    ckpt_hf *hf = NULL;
    ckpt_err err;
    ckpt_err_clear(&err);
    if (ckpt_hf_open(&hf, dir, &err) != CKPT_OK)
        return 0;
    for (size_t i = 0; i < ckpt_hf_n_tensors(hf); i++) {
        size_t shard;
        const struct ckpt_st_tensor *t = ckpt_hf_tensor(hf, i, &shard);
        if (!t || shard >= ckpt_hf_n_shards(hf) || ckpt_hf_find(hf, t->name, NULL) != t)
            abort();
        if (t->end > t->begin)
            sink ^= t->data[0] ^ t->data[t->end - t->begin - 1];
    }
    ckpt_hf_close(hf);
    return 0;
}
