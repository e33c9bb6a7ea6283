/*
 * fuzz_gguf.c - libFuzzer entry point for the GGUF reader: parse the input
 * with ckpt_gguf_open_buffer and, when it is accepted, walk everything a
 * consumer could touch: every kv (strings, each array element through the
 * typed accessors, string arrays), the typed getters, and the first and
 * last byte of every tensor's data.  Built by `make fuzz`.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "formats/gguf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static volatile uint64_t sink;

static void walk_kv(const ckpt_gguf *g, const struct ckpt_gguf_kv *kv)
{
    uint64_t acc = strlen(kv->key) + (uint64_t)kv->type;
    if (kv->type == CKPT_GGUF_STRING && kv->v.str.len)
        acc += (uint8_t)kv->v.str.str[0] + (uint8_t)kv->v.str.str[kv->v.str.len - 1] +
               (uint8_t)kv->v.str.str[kv->v.str.len];
    if (kv->type == CKPT_GGUF_ARRAY && kv->elem_type == CKPT_GGUF_STRING) {
        for (uint64_t i = 0; i < kv->n; i++) {
            const struct ckpt_gguf_str *s = &kv->array_str[i];
            acc += s->len + (uint8_t)s->str[s->len];
            if (s->len)
                acc += (uint8_t)s->str[0];
        }
    } else {
        for (uint64_t i = 0; i <= kv->n; i++) { /* one past the end must be refused */
            double d;
            int64_t v;
            if (ckpt_gguf_array_f64(kv, i, &d))
                acc += (uint64_t)(d == d);
            if (ckpt_gguf_array_i64(kv, i, &v))
                acc += (uint64_t)v;
        }
    }
    uint32_t u32;
    uint64_t u64;
    float f;
    bool b;
    const char *s;
    ckpt_err err;
    ckpt_err_clear(&err);
    ckpt_gguf_get_u32(g, kv->key, &u32, &err);
    ckpt_err_clear(&err);
    ckpt_gguf_get_u64(g, kv->key, &u64, &err);
    ckpt_err_clear(&err);
    ckpt_gguf_get_f32(g, kv->key, &f, &err);
    ckpt_err_clear(&err);
    ckpt_gguf_get_bool(g, kv->key, &b, &err);
    ckpt_err_clear(&err);
    if (ckpt_gguf_get_str(g, kv->key, &s, &err) == CKPT_OK)
        acc += strlen(s);
    sink += acc + (ckpt_gguf_find_kv(g, kv->key) == kv);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ckpt_gguf *g;
    ckpt_err err;
    ckpt_err_clear(&err);
    if (ckpt_gguf_open_buffer(&g, "fuzz", data, size, &err) != CKPT_OK) {
        /* a rejection must explain itself */
        if (err.code == CKPT_OK || strncmp(err.msg, "fuzz: ", 6) != 0)
            __builtin_trap();
        return 0;
    }
    for (size_t i = 0; i < ckpt_gguf_n_kv(g); i++)
        walk_kv(g, ckpt_gguf_kv_at(g, i));
    uint64_t end = ckpt_gguf_data_offset(g);
    for (size_t i = 0; i < ckpt_gguf_n_tensors(g); i++) {
        const struct ckpt_gguf_tensor *t = ckpt_gguf_tensor(g, i);
        if (ckpt_gguf_find_tensor(g, t->name) != t || strlen(t->name) > CKPT_GGUF_MAX_NAME)
            __builtin_trap();
        if (t->n_bytes) {
            sink += t->data[0] + t->data[t->n_bytes - 1];
            /* the view lies inside the input */
            if (t->data < data || (uint64_t)(t->data - data) + t->n_bytes > size)
                __builtin_trap();
        }
        end = ckpt_gguf_data_offset(g) + t->offset + t->n_bytes;
    }
    if (end > size || ckpt_gguf_alignment(g) == 0 ||
        (ckpt_gguf_alignment(g) & (ckpt_gguf_alignment(g) - 1)) != 0)
        __builtin_trap();
    ckpt_gguf_close(g);
    return 0;
}
