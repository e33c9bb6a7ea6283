/*
 * fuzz_model_load.c - libFuzzer entry point for the model loader over a
 * GGUF file (ckpt_weights_open: config keys, tensor views, shape checks
 * against the config): never crash, and a model it accepts builds and runs
 * one token through the reference forward pass with finite-sized buffers.
 * The input is written to a scratch file, as the loader takes a path.
 */
#include "formats/model_load.h"
#include "fuzz_util.h"
#include "kernels/model.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_put("m.gguf", data, size);
    char path[4200];
    if (snprintf(path, sizeof path, "%s/m.gguf", fuzz_dir()) >= (int)sizeof path)
        abort();
    ckpt_weights *w = NULL;
    ckpt_err err;
    ckpt_err_clear(&err);
    if (ckpt_weights_open(&w, path, NULL, &err) != CKPT_OK) {
        if (!strstr(err.msg, "m.gguf"))
            abort();
        return 0;
    }
    const struct ckpt_model_config *c = ckpt_weights_config(w);
    struct ckpt_model_opts o = {.n_ctx = 4, .max_batch = 1, .n_threads = 1, .isa = -1};
    ckpt_model *m = NULL;
    /* one token, only for models small enough to run many times a second */
    if (c->dim * (c->n_layers + 1) * (c->ffn_dim + c->n_vocab) < (int64_t)1 << 24 &&
        ckpt_model_new(&m, c, ckpt_weights_views(w), &o, &err) == CKPT_OK) {
        float *logits = malloc((size_t)c->n_vocab * sizeof *logits);
        int32_t id = 0;
        if (logits)
            ckpt_model_eval(m, &id, 1, logits, false, &err);
        free(logits);
    }
    ckpt_model_free(m);
    ckpt_weights_close(w);
    return 0;
}
