/*
 * tokenize.c - text to ids for ckpt-run --tokenize (see tokenize.h).
 */
#include "tokenize.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../formats/tokenizer.h"

ckpt_status ckpt_run_tokenize(const char *source, const char *text, unsigned flags, int32_t **out,
                              size_t *n, ckpt_err *err)
{
    ckpt_tok *tok = NULL;
    int32_t *ids = NULL;
    size_t len = strlen(text), cap = ckpt_tok_encode_max(len);
    *out = NULL;
    *n = 0;
    ckpt_status s = ckpt_tok_load_any(&tok, source, err);
    if (s == CKPT_OK && (cap == SIZE_MAX || !(ids = malloc(sizeof *ids * (cap ? cap : 1)))))
        s = ckpt_err_set(err, CKPT_E_NOMEM, "out of memory");
    /* the flags of ckpt-run's prompt, so that the ids shown are the ids fed */
    if (s == CKPT_OK)
        s = ckpt_tok_encode(tok, text, len, flags, ids, cap, n, err);
    ckpt_tok_free(tok);
    if (s != CKPT_OK) {
        free(ids);
        *n = 0;
        return s;
    }
    *out = ids;
    return CKPT_OK;
}

ckpt_status ckpt_run_detokenize(const char *source, const int32_t *ids, size_t n, char **text,
                                size_t *len, ckpt_err *err)
{
    ckpt_tok *tok = NULL;
    char *buf = NULL;
    *text = NULL;
    *len = 0;
    ckpt_status s = ckpt_tok_load_any(&tok, source, err);
    /* first ask how long the text is, then decode into a buffer that fits */
    if (s == CKPT_OK) {
        s = ckpt_tok_decode(tok, ids, n, NULL, 0, len, err);
        if (s == CKPT_E_RANGE && *len > 0) {
            ckpt_err_clear(err);
            s = CKPT_OK;
        }
    }
    if (s == CKPT_OK && !(buf = malloc(*len + 1)))
        s = ckpt_err_set(err, CKPT_E_NOMEM, "out of memory");
    if (s == CKPT_OK)
        s = ckpt_tok_decode(tok, ids, n, buf, *len + 1, len, err);
    ckpt_tok_free(tok);
    if (s != CKPT_OK) {
        free(buf);
        *len = 0;
        return s;
    }
    *text = buf;
    return CKPT_OK;
}
