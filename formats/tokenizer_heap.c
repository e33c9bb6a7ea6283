/*
 * tokenizer_heap.c - the scratch both BPE encoders use (tokenizer_impl.h):
 * arrays that grow on demand, and the priority queue of candidate merges,
 * a binary heap of fixed-size elements ordered by the encoder's own "comes
 * first" test, in one growing array reused across the pieces of a text;
 * and the end of an encode, the same for both.
 */
#include <stdlib.h>
#include <string.h>

#include "tokenizer_impl.h"

bool ckpt_tok_grow(void **p, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap)
        return true;
    size_t n = *cap ? *cap : 64;
    while (n < need)
        n *= 2;
    void *q = realloc(*p, n * size);
    if (!q)
        return false;
    *p = q;
    *cap = n;
    return true;
}

#define AT(h, i) ((char *)(h)->v + (i) * (h)->size)

bool ckpt_tok_heap_push(struct ckpt_tok_heap *h, const void *e)
{
    if (!ckpt_tok_grow(&h->v, &h->cap, h->n + 1, h->size))
        return false;
    /* sift up: parents that e comes before move down */
    size_t i = h->n++;
    while (i > 0 && h->first(e, AT(h, (i - 1) / 2))) {
        memcpy(AT(h, i), AT(h, (i - 1) / 2), h->size);
        i = (i - 1) / 2;
    }
    memcpy(AT(h, i), e, h->size);
    return true;
}

void ckpt_tok_heap_pop(struct ckpt_tok_heap *h, void *out)
{
    memcpy(out, h->v, h->size);
    const void *last = AT(h, --h->n);
    size_t i = 0, n = h->n;
    /* sift the last element down from the root */
    for (;;) {
        size_t l = 2 * i + 1, best = i;
        const void *bc = last;
        if (l < n && h->first(AT(h, l), bc))
            best = l, bc = AT(h, l);
        if (l + 1 < n && h->first(AT(h, l + 1), bc))
            best = l + 1;
        if (best == i)
            break;
        memcpy(AT(h, i), AT(h, best), h->size);
        i = best;
    }
    if (n)
        memmove(AT(h, i), last, h->size);
}

ckpt_status ckpt_tok_out_finish(const ckpt_tok *t, struct ckpt_tok_out *o, bool eos, ckpt_status st,
                                const char *what, size_t *n_ids, ckpt_err *err)
{
    if (!st && eos && t->add_eos && t->eos >= 0)
        ckpt_tok_out_emit(o, t->eos);
    *n_ids = o->n;
    if (!st && o->no_piece)
        st = ckpt_err_set(err, CKPT_E_UNSUPPORTED,
                          "tokenizer: the text has %s that no piece covers, and the "
                          "vocabulary has no unknown token to stand for them", what);
    if (!st && o->n > o->cap)
        st = ckpt_err_set(err, CKPT_E_RANGE, "tokenizer: %zu ids do not fit in %zu", o->n, o->cap);
    return st;
}
