/*
 * fuzz_tokenizer_config.c - libFuzzer entry point for tokenizer_config.json
 * and its special tokens (ckpt_tok_parse_config) over a small fixed
 * tokenizer: never crash, a refusal names the file, and the tokenizer the
 * config leaves behind (added tokens, BOS/EOS/PAD ids, add_*_token) still
 * encodes and decodes with every id a piece.
 */
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char base_json[] =
    "{\"added_tokens\": [{\"id\": 0, \"content\": \"<unk>\", \"special\": true},"
    " {\"id\": 1, \"content\": \"<s>\", \"special\": true},"
    " {\"id\": 2, \"content\": \"</s>\", \"special\": true}],"
    " \"normalizer\": {\"type\": \"Sequence\", \"normalizers\": ["
    "  {\"type\": \"Prepend\", \"prepend\": \"\\u2581\"},"
    "  {\"type\": \"Replace\", \"pattern\": {\"String\": \" \"}, \"content\": \"\\u2581\"}]},"
    " \"model\": {\"type\": \"BPE\", \"unk_token\": \"<unk>\", \"byte_fallback\": true,"
    "  \"vocab\": {\"<unk>\": 0, \"<s>\": 1, \"</s>\": 2, \"<0x41>\": 3, \"\\u2581\": 4, \"a\": 5,"
    "   \"b\": 6, \"ab\": 7, \"\\u2581a\": 8},"
    "  \"merges\": [\"a b\", \"\\u2581 a\"]}}";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ckpt_tok *tok = NULL;
    ckpt_err err;
    ckpt_err_clear(&err);
    if (ckpt_tok_parse_hf_json(&tok, base_json, sizeof base_json - 1, "base", &err) != CKPT_OK)
        abort(); /* the fixed tokenizer must load */
    char *copy = fuzz_copy(data, size);
    if (!copy) {
        ckpt_tok_free(tok);
        return 0;
    }
    ckpt_err_clear(&err);
    if (ckpt_tok_parse_config(tok, copy, size, "tokenizer_config.json", &err) == CKPT_OK)
        fuzz_tok_workout(tok);
    else if (strncmp(err.msg, "tokenizer_config.json: ", 23) != 0)
        abort();
    ckpt_tok_free(tok);
    free(copy);
    return 0;
}
