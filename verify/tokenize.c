/*
 * tokenize.c - text to ids for ckpt-run --tokenize (see tokenize.h).
 */
#include "tokenize.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../formats/tokenizer.h"

ckpt_status ckpt_run_tokenize(const char *source, const char *text, FILE *out, ckpt_err *err)
{
    ckpt_tok *tok = NULL;
    int32_t *ids = NULL;
    size_t len = strlen(text), cap = ckpt_tok_encode_max(len), n = 0;
    ckpt_status s = ckpt_tok_load_any(&tok, source, err);
    if (s == CKPT_OK && (cap == SIZE_MAX || !(ids = malloc(sizeof *ids * (cap ? cap : 1)))))
        s = ckpt_err_set(err, CKPT_E_NOMEM, "out of memory");
    /* the flags of ckpt-run's prompt, so that the ids shown are the ids fed */
    if (s == CKPT_OK)
        s = ckpt_tok_encode(tok, text, len, CKPT_TOK_ADD_SPECIAL, ids, cap, &n, err);
    for (size_t i = 0; s == CKPT_OK && i < n; i++)
        if (fprintf(out, i ? " %d" : "%d", (int)ids[i]) < 0)
            s = ckpt_err_set(err, CKPT_E_IO, "cannot write the token ids");
    if (s == CKPT_OK && fputc('\n', out) == EOF)
        s = ckpt_err_set(err, CKPT_E_IO, "cannot write the token ids");
    free(ids);
    ckpt_tok_free(tok);
    return s;
}
