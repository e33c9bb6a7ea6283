/*
 * fuzz_tokenizer_spm.c - libFuzzer entry point for tokenizer.model, the
 * SentencePiece protobuf (ckpt_tok_parse_spm): never crash, a refusal
 * names the file, and an accepted model encodes and decodes.
 */
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *copy = fuzz_copy(data, size);
    if (!copy)
        return 0;
    ckpt_tok *tok = NULL;
    ckpt_err err;
    ckpt_err_clear(&err);
    if (ckpt_tok_parse_spm(&tok, copy, size, "tokenizer.model", &err) == CKPT_OK)
        fuzz_tok_workout(tok);
    else if (strncmp(err.msg, "tokenizer.model: ", 17) != 0)
        abort();
    ckpt_tok_free(tok);
    free(copy);
    return 0;
}
