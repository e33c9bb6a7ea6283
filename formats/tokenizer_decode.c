/*
 * tokenizer_decode.c - ids back to text, as SentencePiece decodes: "▁"
 * becomes ' ', <0xNN> pieces become their byte, control pieces produce
 * nothing, <unk> shows as " ⁇ ", and the space of the dummy prefix (the
 * leading "▁" of the first piece that produces text) is dropped.  Bytes are
 * passed through as they are, so a sequence of byte pieces that is not
 * valid UTF-8 stays invalid (SentencePiece would show U+FFFD instead).
 */
#include "tokenizer_impl.h"

#include <string.h>

#define META "\xE2\x96\x81"
#define UNK_SURFACE " \xE2\x81\x87 " /* SentencePiece's default unk_surface */

struct sink {
    char *buf;
    size_t cap, n;
};

static void put(struct sink *s, const char *p, size_t n)
{
    if (s->n < s->cap)
        memcpy(s->buf + s->n, p, n <= s->cap - s->n ? n : s->cap - s->n);
    s->n += n;
}

ckpt_status ckpt_tok_decode(const ckpt_tok *t, const int32_t *ids, size_t n, char *buf,
                            size_t cap, size_t *len, ckpt_err *err)
{
    if (t->kind == CKPT_TOK_KIND_BYTE_BPE)
        return ckpt_tok_bpe_decode(t, ids, n, buf, cap, len, err);
    struct sink s = {buf, cap, 0};
    bool first = true; /* no text produced yet: a leading "▁" is the dummy prefix */
    *len = 0;
    for (size_t i = 0; i < n; i++) {
        if (ids[i] < 0 || (uint32_t)ids[i] >= t->n)
            return ckpt_err_set(err, CKPT_E_RANGE, "tokenizer: id %d at %zu is not in 0..%u",
                                ids[i], i, t->n - 1);
        const struct ckpt_tok_piece *p = &t->pc[ids[i]];
        const char *text = ckpt_tok_text(t, (uint32_t)ids[i]);
        size_t plen = p->len;
        if (p->type == CKPT_TOK_CONTROL)
            continue;
        if (p->type == CKPT_TOK_UNKNOWN) {
            put(&s, UNK_SURFACE, sizeof UNK_SURFACE - 1);
            first = false;
            continue;
        }
        if (p->type == CKPT_TOK_BYTE) {
            char b = (char)ckpt_tok_byte_piece(text, plen);
            put(&s, &b, 1);
            first = false;
            continue;
        }
        bool dummy = t->add_dummy_prefix || t->remove_extra_ws; /* as SentencePiece decides */
        if (first && dummy && plen >= 3 && memcmp(text, META, 3) == 0) {
            text += 3;
            plen -= 3;
        }
        first = false;
        /* copy, turning each "▁" into ' ' */
        size_t from = 0;
        for (size_t k = 0; k + 3 <= plen;) {
            if (memcmp(text + k, META, 3) == 0) {
                put(&s, text + from, k - from);
                put(&s, " ", 1);
                k += 3;
                from = k;
            } else
                k++;
        }
        put(&s, text + from, plen - from);
    }
    *len = s.n;
    if (s.n > cap)
        return ckpt_err_set(err, CKPT_E_RANGE, "tokenizer: %zu bytes of text do not fit in %zu",
                            s.n, cap);
    if (s.n < cap)
        buf[s.n] = '\0';
    return CKPT_OK;
}
