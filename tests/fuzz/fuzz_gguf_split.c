/*
 * fuzz_gguf_split.c - libFuzzer entry point for split GGUF sets
 * (ckpt_gguf_open following a set from its first file, gguf_split.c):
 * the input is up to three files separated by FUZZ_SEP, written as
 * m-00001-of-00003.gguf .. m-00003-of-00003.gguf (fewer parts: the later
 * names are missing, as a missing part is).  Never crash; a refusal
 * explains itself; an accepted set lists each tensor once, from a part
 * that exists, with its data inside that part.
 */
#include "formats/gguf.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static volatile uint8_t sink;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *part[3];
    size_t len[3];
    size_t n = fuzz_split(data, size, part, len, 3);
    char name[64];
    for (size_t i = 0; i < 3; i++) {
        if (snprintf(name, sizeof name, "m-%05zu-of-00003.gguf", i + 1) >= (int)sizeof name)
            abort();
        fuzz_put(name, i < n ? (const void *)part[i] : NULL, i < n ? len[i] : 0);
    }
    char path[4200];
    if (snprintf(path, sizeof path, "%s/m-00001-of-00003.gguf", fuzz_dir()) >= (int)sizeof path)
        abort();
    ckpt_gguf *g;
    ckpt_err err;
    ckpt_err_clear(&err);
    if (ckpt_gguf_open(&g, path, &err) != CKPT_OK) {
        if (err.code == CKPT_OK || !err.msg[0])
            __builtin_trap();
        return 0;
    }
    for (size_t i = 0; i < ckpt_gguf_n_tensors(g); i++) {
        const struct ckpt_gguf_tensor *t = ckpt_gguf_tensor(g, i);
        const ckpt_gguf *p = ckpt_gguf_part(g, t->part);
        if (!p || ckpt_gguf_find_tensor(g, t->name) != t)
            __builtin_trap();
        if (t->n_bytes) {
            const ckpt_map *m = ckpt_gguf_map(p);
            if (!m || t->data < m->data || (uint64_t)(t->data - m->data) + t->n_bytes > m->size)
                __builtin_trap();
            sink ^= t->data[0] ^ t->data[t->n_bytes - 1];
        }
    }
    ckpt_gguf_close(g);
    return 0;
}
