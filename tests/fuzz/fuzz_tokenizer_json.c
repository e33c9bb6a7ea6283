/*
 * fuzz_tokenizer_json.c - libFuzzer entry point for tokenizer.json
 * (ckpt_tok_parse_hf_json): never crash, a refusal names the file, and an
 * accepted tokenizer encodes and decodes with every id a piece.
 */
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *copy = fuzz_copy(data, size);
    if (!copy)
        return 0;
    ckpt_tok *tok = NULL;
    ckpt_err err;
    ckpt_err_clear(&err);
    if (ckpt_tok_parse_hf_json(&tok, copy, size, "tokenizer.json", &err) == CKPT_OK)
        fuzz_tok_workout(tok);
    else if (strncmp(err.msg, "tokenizer.json: ", 16) != 0)
        abort();
    ckpt_tok_free(tok);
    free(copy);
    return 0;
}
