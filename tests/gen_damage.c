/*
 * gen_damage.c - copy a GGUF with one tensor's data damaged: every 16th
 * byte of the tensor XORed with 0x55, everything else (header, metadata,
 * other tensors) byte for byte.  For testing checks that must notice a
 * damaged model without its source (the signed fingerprint).
 *
 *   gen_damage IN.gguf TENSOR OUT.gguf
 *
 * Exit 0, or 2 with a message.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats/gguf.h"
#include "formats/mapfile.h"

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: gen_damage IN.gguf TENSOR OUT.gguf\n");
        return 2;
    }
    ckpt_err err = {0};
    ckpt_map *m = NULL;
    ckpt_gguf *g = NULL;
    if (ckpt_map_open(&m, argv[1], &err) != CKPT_OK || ckpt_gguf_open(&g, argv[1], &err)) {
        fprintf(stderr, "gen_damage: %s\n", err.msg);
        ckpt_map_close(m);
        return 2;
    }
    const struct ckpt_gguf_tensor *t = ckpt_gguf_find_tensor(g, argv[2]);
    uint8_t *copy = malloc(m->size ? m->size : 1);
    int rc = 2;
    if (!t || !t->n_bytes) {
        fprintf(stderr, "gen_damage: %s: no tensor '%s' with data\n", argv[1], argv[2]);
    } else if (copy) {
        memcpy(copy, m->data, m->size);
        size_t at = (size_t)(ckpt_gguf_data_offset(g) + t->offset);
        for (uint64_t i = 0; i < t->n_bytes; i += 16)
            copy[at + i] ^= 0x55;
        FILE *f = fopen(argv[3], "wb");
        rc = f && fwrite(copy, 1, m->size, f) == m->size && fclose(f) == 0 ? 0 : 2;
        if (rc)
            fprintf(stderr, "gen_damage: %s: cannot write\n", argv[3]);
    }
    free(copy);
    ckpt_gguf_close(g);
    ckpt_map_close(m);
    return rc;
}
