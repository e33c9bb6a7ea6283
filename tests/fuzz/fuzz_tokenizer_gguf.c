/*
 * fuzz_tokenizer_gguf.c - libFuzzer entry point for a GGUF vocabulary read
 * as a tokenizer (ckpt_gguf_open_buffer, then ckpt_tok_from_gguf): never
 * crash, and an accepted tokenizer encodes and decodes with every id a
 * piece.
 */
#include "formats/gguf.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *copy = fuzz_copy(data, size);
    if (!copy)
        return 0;
    ckpt_gguf *g = NULL;
    ckpt_tok *tok = NULL;
    ckpt_err err;
    ckpt_err_clear(&err);
    if (ckpt_gguf_open_buffer(&g, "vocab.gguf", copy, size, &err) == CKPT_OK &&
        ckpt_tok_from_gguf(&tok, g, &err) == CKPT_OK)
        fuzz_tok_workout(tok);
    ckpt_tok_free(tok);
    ckpt_gguf_close(g);
    free(copy);
    return 0;
}
