/*
 * gen_requant.c - write a test GGUF from another: every matrix but the
 * Mixtral router requantized to one type with the library's quantizers
 * (dequantize each row, quantize it again), general.file_type set to match;
 * everything else copied.  --damage N zeroes the first N rows of every
 * ffn_down (of every expert), to make an artifact that no longer behaves
 * like its source.
 *
 *   gen_requant [--damage N] q8_0|q6_K|q4_K|q2_K|f16|... IN.gguf OUT.gguf
 *
 * Exit 0, or 2 with a message.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats/gguf.h"
#include "kernels/quant.h"

/* llama_ftype of a pure-type file (FORMATS.md §2.4); 0 when none fits. */
static uint32_t ftype_of(ckpt_type t)
{
    static const struct {
        ckpt_type t;
        uint32_t ftype;
    } map[] = {{CKPT_TYPE_F32, 0},   {CKPT_TYPE_F16, 1},   {CKPT_TYPE_Q4_0, 2},
               {CKPT_TYPE_Q4_1, 3},  {CKPT_TYPE_Q8_0, 7},  {CKPT_TYPE_Q5_0, 8},
               {CKPT_TYPE_Q5_1, 9},  {CKPT_TYPE_Q2_K, 10}, {CKPT_TYPE_Q3_K, 12},
               {CKPT_TYPE_Q4_K, 15}, {CKPT_TYPE_Q5_K, 17}, {CKPT_TYPE_Q6_K, 18},
               {CKPT_TYPE_IQ4_NL, 25}, {CKPT_TYPE_BF16, 32}};
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (map[i].t == t)
            return map[i].ftype;
    return 0;
}

static int fail(const ckpt_err *e)
{
    fprintf(stderr, "gen_requant: %s\n", e->msg);
    return 2;
}

int main(int argc, char **argv)
{
    long damage = 0;
    int a = 1;
    if (argc > 2 && strcmp(argv[1], "--damage") == 0) {
        damage = strtol(argv[2], NULL, 10);
        a = 3;
    }
    if (argc - a != 3 || ckpt_type_from_name(argv[a]) < 0) {
        fprintf(stderr, "usage: gen_requant [--damage N] TYPE IN.gguf OUT.gguf\n");
        return 2;
    }
    ckpt_type type = (ckpt_type)ckpt_type_from_name(argv[a]);
    ckpt_gguf *g;
    ckpt_gguf_writer *w;
    ckpt_err e = {0};
    if (ckpt_gguf_open(&g, argv[a + 1], &e) || ckpt_gguf_writer_new(&w, argv[a + 2], true, &e))
        return fail(&e);
    for (size_t i = 0; i < ckpt_gguf_n_kv(g); i++) {
        const struct ckpt_gguf_kv *kv = ckpt_gguf_kv_at(g, i);
        ckpt_status st = strcmp(kv->key, "general.file_type") == 0
                             ? ckpt_gguf_writer_set_u32(w, kv->key, ftype_of(type), &e)
                             : ckpt_gguf_writer_copy_kv(w, kv, &e);
        if (st)
            return fail(&e);
    }
    size_t n = ckpt_gguf_n_tensors(g);
    ckpt_type *types = calloc(n, sizeof *types);
    for (size_t i = 0; i < n; i++) {
        const struct ckpt_gguf_tensor *t = ckpt_gguf_tensor(g, i);
        bool matrix = t->n_dims >= 2 && !strstr(t->name, "ffn_gate_inp");
        types[i] = matrix ? type : t->type;
        if (ckpt_gguf_writer_add_tensor(w, t->name, types[i], t->n_dims, t->ne, &e))
            return fail(&e);
    }
    if (ckpt_gguf_writer_begin(w, &e))
        return fail(&e);
    for (size_t i = 0; i < n; i++) {
        const struct ckpt_gguf_tensor *t = ckpt_gguf_tensor(g, i);
        int64_t ne0 = t->ne[0], rows = (int64_t)(t->n_elements / (uint64_t)ne0);
        bool hurt = damage > 0 && strstr(t->name, "ffn_down");
        size_t in_row, out_row;
        if (!ckpt_type_row_bytes(t->type, ne0, &in_row) ||
            !ckpt_type_row_bytes(types[i], ne0, &out_row)) {
            fprintf(stderr, "gen_requant: %s: rows of %lld do not fit %s\n", t->name,
                    (long long)ne0, ckpt_type_name(types[i]));
            return 2;
        }
        float *f = malloc(sizeof(float) * (size_t)ne0);
        uint8_t *q = malloc(out_row);
        for (int64_t r = 0; r < rows; r++) {
            const uint8_t *src = t->data + (size_t)r * in_row;
            ckpt_status st;
            if (types[i] == t->type && !hurt) {
                st = ckpt_gguf_writer_write(w, src, in_row, &e);
            } else {
                if (!ckpt_dequantize_row(t->type, src, f, ne0)) {
                    fprintf(stderr, "gen_requant: %s: cannot read %s\n", t->name,
                            ckpt_type_name(t->type));
                    return 2;
                }
                if (hurt && r % t->ne[1] < damage)
                    memset(f, 0, sizeof(float) * (size_t)ne0);
                st = ckpt_quantize_rows(types[i], f, q, 1, ne0, NULL, &e);
                if (st == CKPT_OK)
                    st = ckpt_gguf_writer_write(w, q, out_row, &e);
            }
            if (st)
                return fail(&e);
        }
        free(f);
        free(q);
    }
    if (ckpt_gguf_writer_finish(w, &e))
        return fail(&e);
    free(types);
    ckpt_gguf_close(g);
    return 0;
}
