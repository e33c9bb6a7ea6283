/*
 * fuzz_safetensors.c - libFuzzer entry point over the safetensors reader:
 * any input must be accepted or rejected with a check and a message, never
 * crash, leak or read outside the buffer.  Accepted files are walked so
 * every exposed view is touched.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "formats/safetensors.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* an exact-size copy, so the sanitizer sees any read past the end */
    uint8_t *copy = malloc(size ? size : 1);
    if (!copy)
        return 0;
    if (size)
        memcpy(copy, data, size);
    ckpt_st *st = NULL;
    ckpt_st_check check;
    ckpt_err err;
    ckpt_err_clear(&err);
    if (ckpt_st_open_buffer(&st, "fuzz.safetensors", copy, size, &check, &err) == CKPT_OK) {
        if (check != CKPT_ST_OK)
            abort();
        volatile uint8_t sink = 0;
        for (size_t i = 0; i < ckpt_st_n_tensors(st); i++) {
            const struct ckpt_st_tensor *t = ckpt_st_tensor(st, i);
            if (ckpt_st_find(st, t->name) != t || t->end < t->begin)
                abort();
            if (t->end > t->begin)
                sink ^= t->data[0] ^ t->data[t->end - t->begin - 1];
        }
        for (size_t i = 0; i < ckpt_st_n_metadata(st); i++) {
            const char *k, *v;
            ckpt_st_metadata(st, i, &k, &v);
            sink ^= (uint8_t)(strlen(k) + strlen(v));
        }
        (void)sink;
        ckpt_st_close(st);
    } else if (check == CKPT_ST_OK || st != NULL || err.msg[0] == '\0' ||
               strncmp(err.msg, "fuzz.safetensors: ", 18) != 0) {
        abort(); /* every failure says which check and names the file */
    }
    free(copy);
    return 0;
}
