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
    fuzz_tok_file(ckpt_tok_parse_tekken, "tekken.json", data, size);
    return 0;
}
