/*
 * fuzz_imatrix.c - libFuzzer entry point for importance matrices, both
 * llama-imatrix's legacy .dat and the GGUF form (ckpt_imatrix_load_buffer):
 * never crash, and every entry of an accepted matrix can be looked up for a
 * tensor of its own size.
 */
#include "fuzz_util.h"
#include "quant/imatrix.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static volatile float sink;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *copy = fuzz_copy(data, size);
    if (!copy)
        return 0;
    ckpt_imatrix *im = NULL;
    ckpt_err err;
    ckpt_err_clear(&err);
    if (ckpt_imatrix_load_buffer(&im, "imatrix", copy, size, &err) == CKPT_OK) {
        const char *ds = ckpt_imatrix_dataset(im);
        if (ds)
            sink += (float)strlen(ds);
        for (size_t i = 0; i < ckpt_imatrix_n_entries(im); i++) {
            const float *v, *w;
            size_t n;
            const char *name = ckpt_imatrix_entry(im, i, &v, &n);
            if (!name || (n && !v))
                abort();
            if (n)
                sink += v[0] + v[n - 1];
            ckpt_err_clear(&err);
            if (n && ckpt_imatrix_for_tensor(im, name, (int64_t)n, 1, &w, &err) == CKPT_OK && w)
                sink += w[n - 1];
        }
    } else if (!strstr(err.msg, "imatrix")) {
        abort();
    }
    ckpt_imatrix_free(im);
    free(copy);
    return 0;
}
