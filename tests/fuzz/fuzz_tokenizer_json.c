/*
 * fuzz_tokenizer_json.c - libFuzzer entry point for tokenizer.json
 * (ckpt_tok_parse_hf_json): never crash, a refusal names the file, and an
 * accepted tokenizer encodes and decodes with every id a piece.
 */
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_tok_file(ckpt_tok_parse_hf_json, "tokenizer.json", data, size);
    return 0;
}
