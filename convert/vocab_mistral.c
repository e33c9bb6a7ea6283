/*
 * vocab_mistral.c - the tokenizer keys of a GGUF converted from Mistral's
 * own layout, as llama.cpp's converter writes them with --mistral-format
 * (LlamaModel._set_vocab_mistral over mistral_common's SentencePiece
 * tokenizer, gguf-py's MistralVocab).  The directory has no
 * tokenizer_config.json, so everything comes from tokenizer.model.v3:
 *
 *   tokenizer.ggml.model       "llama" (no .pre: the converter sets one for Tekken only)
 *   bos / eos / unknown ids    the model's trainer spec
 *   padding id                 its pad id, or EOS when it has none (-1)
 *   tokens, scores, token_type the pieces as the model holds them
 *   <arch>.vocab_size          the number of pieces (set here, not with the
 *                              other hyperparameters, in this layout)
 *   add_bos_token true, add_eos_token false
 *   chat_template              the name of llama.cpp's built-in template for
 *                              the tokenizer's version: "mistral-v3" (the
 *                              converter's community template for a v3
 *                              SentencePiece tokenizer)
 */
#include "vocab.h"

#include <stdlib.h>
#include <string.h>

#include "../arch/gguf_keys.h"
#include "../formats/tokenizer.h"

/* The template name per SentencePiece tokenizer version (the .vN suffix of
 * its file; mistral_common's TokenizerVersion). */
static const struct {
    const char *file;
    const char *template_name;
} templates[] = {
    {"tokenizer.model.v3", "mistral-v3"},
};

static const char *template_for(const char *file)
{
    for (size_t i = 0; i < sizeof templates / sizeof templates[0]; i++)
        if (strcmp(templates[i].file, file) == 0)
            return templates[i].template_name;
    return NULL;
}

ckpt_status ckpt_vocab_add_mistral(ckpt_gguf_writer *w, const struct ckpt_source *src,
                                   ckpt_err *err)
{
    const char *file = ckpt_vocab_file(src);
    if (!file || strcmp(file, "tokenizer.json") == 0)
        return ckpt_err_set(err, CKPT_E_IO, "%s: no %s (Mistral's layout keeps its vocabulary "
                            "there)", src->dir, ckpt_hf_spm_file(src->hf));
    char *path = ckpt_source_file(src, file);
    ckpt_tok *tok = NULL;
    ckpt_status st = path ? ckpt_tok_load_spm(&tok, path, err)
                          : ckpt_err_set(err, CKPT_E_NOMEM, "out of memory");
    const uint32_t n = st == CKPT_OK ? ckpt_tok_n_vocab(tok) : 0;
    const int32_t bos = st == CKPT_OK ? ckpt_tok_bos_id(tok) : -1;
    const int32_t eos = st == CKPT_OK ? ckpt_tok_eos_id(tok) : -1;
    const int32_t unk = st == CKPT_OK ? ckpt_tok_unk_id(tok) : -1;
    const int32_t pad = st == CKPT_OK && ckpt_tok_pad_id(tok) >= 0 ? ckpt_tok_pad_id(tok) : eos;
    if (st == CKPT_OK && (bos < 0 || eos < 0 || unk < 0 || (uint32_t)bos >= n ||
                          (uint32_t)eos >= n || (uint32_t)unk >= n))
        st = ckpt_err_set(err, CKPT_E_FORMAT,
                          "%s: bos %d, eos %d, unk %d: the model needs all three among its %u "
                          "pieces",
                          path, bos, eos, unk, n);
    char kb[CKPT_GGUF_KEY_MAX];
    const char *tmpl = template_for(file);
    if (st == CKPT_OK)
        st = ckpt_gguf_writer_set_str(w, CKPT_KEY_TOK_MODEL, "llama", err);
    if (st == CKPT_OK)
        st = ckpt_gguf_writer_set_u32(w, CKPT_KEY_TOK_BOS_ID, (uint32_t)bos, err);
    if (st == CKPT_OK)
        st = ckpt_gguf_writer_set_u32(w, CKPT_KEY_TOK_EOS_ID, (uint32_t)eos, err);
    if (st == CKPT_OK)
        st = ckpt_gguf_writer_set_u32(w, CKPT_KEY_TOK_UNK_ID, (uint32_t)unk, err);
    if (st == CKPT_OK)
        st = ckpt_gguf_writer_set_u32(w, CKPT_KEY_TOK_PAD_ID, (uint32_t)pad, err);
    if (st == CKPT_OK)
        st = ckpt_vocab_arrays(w, tok, n, err);
    if (st == CKPT_OK)
        st = ckpt_gguf_writer_set_u32(
            w, ckpt_gguf_key(kb, src->cfg.arch->gguf_arch, CKPT_KEY_VOCAB_SIZE), n, err);
    if (st == CKPT_OK)
        st = ckpt_gguf_writer_set_bool(w, CKPT_KEY_TOK_ADD_BOS, true, err);
    if (st == CKPT_OK)
        st = ckpt_gguf_writer_set_bool(w, CKPT_KEY_TOK_ADD_EOS, false, err);
    if (st == CKPT_OK && tmpl)
        st = ckpt_gguf_writer_set_str(w, CKPT_KEY_CHAT_TEMPLATE, tmpl, err);
    ckpt_tok_free(tok);
    free(path);
    return st;
}
