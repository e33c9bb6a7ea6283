/*
 * fuzz_tekken.c - libFuzzer entry point for Mistral's tekken.json
 * (ckpt_tok_parse_tekken): never crash, a refusal names the file, and an
 * accepted tokenizer encodes (its pre-tokenizer regex too, which comes
 * from the input) and decodes with every id a piece.
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
    if (ckpt_tok_parse_tekken(&tok, copy, size, "tekken.json", &err) == CKPT_OK)
        fuzz_tok_workout(tok);
    else if (strncmp(err.msg, "tekken.json: ", 13) != 0)
        abort();
    ckpt_tok_free(tok);
    free(copy);
    return 0;
}
