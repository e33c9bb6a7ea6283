/*
 * gguf_common.c - what the GGUF reader and writer share (gguf_internal.h):
 * the value type table, padding and tensor size arithmetic with overflow
 * checks, the string set used for duplicate keys and names, and the arena
 * that holds strings copied out of a file.
 */
#include "gguf_internal.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct {
    const char *name;
    size_t size; /* 0: variable length */
} value_types[CKPT_GGUF_TYPE_COUNT] = {
    [CKPT_GGUF_UINT8] = {"u8", 1},    [CKPT_GGUF_INT8] = {"i8", 1},
    [CKPT_GGUF_UINT16] = {"u16", 2},  [CKPT_GGUF_INT16] = {"i16", 2},
    [CKPT_GGUF_UINT32] = {"u32", 4},  [CKPT_GGUF_INT32] = {"i32", 4},
    [CKPT_GGUF_FLOAT32] = {"f32", 4}, [CKPT_GGUF_BOOL] = {"bool", 1},
    [CKPT_GGUF_STRING] = {"string", 0}, [CKPT_GGUF_ARRAY] = {"array", 0},
    [CKPT_GGUF_UINT64] = {"u64", 8},  [CKPT_GGUF_INT64] = {"i64", 8},
    [CKPT_GGUF_FLOAT64] = {"f64", 8},
};

const char *ckpt_gguf_type_name(ckpt_gguf_type t)
{
    return (unsigned)t < CKPT_GGUF_TYPE_COUNT ? value_types[t].name : "?";
}

size_t ckpt_gguf_type_size(uint32_t t)
{
    return t < CKPT_GGUF_TYPE_COUNT ? value_types[t].size : 0;
}

bool ckpt_gguf_type_is_scalar(uint32_t t) { return ckpt_gguf_type_size(t) != 0; }

bool ckpt_gguf_pad(uint64_t x, uint32_t a, uint64_t *out)
{
    uint64_t r;
    if (__builtin_add_overflow(x, (uint64_t)a - 1, &r))
        return false;
    *out = r & ~((uint64_t)a - 1);
    return true;
}

bool ckpt_gguf_alignment_ok(uint64_t a)
{
    return a != 0 && (a & (a - 1)) == 0 && a <= CKPT_GGUF_MAX_ALIGNMENT;
}

bool ckpt_gguf_tensor_size(uint32_t type, uint32_t n_dims, const int64_t *ne, uint64_t *n_elements,
                           uint64_t *n_bytes, char *why, size_t why_len)
{
    const struct ckpt_type_traits *tt = ckpt_type_traits(type);
    if (!tt) {
        snprintf(why, why_len, "unknown ggml type %u", type);
        return false;
    }
    int64_t dims[CKPT_GGUF_MAX_DIMS] = {1, 1, 1, 1}, count = 1;
    for (uint32_t j = 0; j < n_dims && j < CKPT_GGUF_MAX_DIMS; j++)
        dims[j] = ne[j];
    for (int j = 0; j < CKPT_GGUF_MAX_DIMS; j++) {
        if (dims[j] < 0) {
            snprintf(why, why_len, "dimension %d is negative (%lld)", j, (long long)dims[j]);
            return false;
        }
    }
    /* A zero anywhere makes an empty tensor, whatever the other sizes are. */
    bool empty = dims[0] == 0 || dims[1] == 0 || dims[2] == 0 || dims[3] == 0;
    for (int j = 0; j < CKPT_GGUF_MAX_DIMS && !empty; j++) {
        if (__builtin_mul_overflow(count, dims[j], &count)) {
            snprintf(why, why_len, "element count of shape (%lld, %lld, %lld, %lld) overflows",
                     (long long)dims[0], (long long)dims[1], (long long)dims[2],
                     (long long)dims[3]);
            return false;
        }
    }
    if (empty)
        count = 0;
    if (dims[0] % tt->block_elems != 0) {
        snprintf(why, why_len, "row of %lld elements is not a multiple of the %s block size %lld",
                 (long long)dims[0], tt->name, (long long)tt->block_elems);
        return false;
    }
    /* ne[0] is a multiple of the block, so the block count is exact. */
    uint64_t blocks = (uint64_t)count / (uint64_t)tt->block_elems, bytes;
    if (__builtin_mul_overflow(blocks, (uint64_t)tt->block_bytes, &bytes) || bytes > SIZE_MAX) {
        snprintf(why, why_len, "size in bytes of %llu %s blocks overflows",
                 (unsigned long long)blocks, tt->name);
        return false;
    }
    *n_elements = (uint64_t)count;
    *n_bytes = bytes;
    return true;
}

/* ---- string set ---- */

static uint64_t hash_str(const char *s)
{
    uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
    return h;
}

static size_t slot_of(const char *const *keys, size_t cap, const char *s)
{
    size_t i = (size_t)hash_str(s) & (cap - 1);
    while (keys[i] && strcmp(keys[i], s) != 0)
        i = (i + 1) & (cap - 1);
    return i;
}

static int grow(struct ckpt_gguf_set *set)
{
    size_t cap = set->cap ? set->cap * 2 : 64;
    const char **keys = calloc(cap, sizeof *keys);
    size_t *idx = calloc(cap, sizeof *idx);
    if (!keys || !idx || cap < set->cap) {
        free(keys);
        free(idx);
        return -1;
    }
    for (size_t i = 0; i < set->cap; i++) {
        if (set->keys[i]) {
            size_t j = slot_of(keys, cap, set->keys[i]);
            keys[j] = set->keys[i];
            idx[j] = set->idx[i];
        }
    }
    free(set->keys);
    free(set->idx);
    set->keys = keys;
    set->idx = idx;
    set->cap = cap;
    return 0;
}

int ckpt_gguf_set_add(struct ckpt_gguf_set *set, const char *s, size_t i, size_t *dup)
{
    /* keep the load at most 1/2 so probes stay short */
    if ((set->n + 1) * 2 > set->cap && grow(set) != 0)
        return -1;
    size_t j = slot_of(set->keys, set->cap, s);
    if (set->keys[j]) {
        if (dup)
            *dup = set->idx[j];
        return 1;
    }
    set->keys[j] = s;
    set->idx[j] = i;
    set->n++;
    return 0;
}

size_t ckpt_gguf_set_find(const struct ckpt_gguf_set *set, const char *s)
{
    if (set->cap == 0)
        return SIZE_MAX;
    size_t j = slot_of(set->keys, set->cap, s);
    return set->keys[j] ? set->idx[j] : SIZE_MAX;
}

void ckpt_gguf_set_free(struct ckpt_gguf_set *set)
{
    free(set->keys);
    free(set->idx);
    memset(set, 0, sizeof *set);
}

/* ---- arena ---- */

#define ARENA_BLOCK (64u << 10)

struct ckpt_gguf_arena_block {
    struct ckpt_gguf_arena_block *next;
    size_t used, cap;
    max_align_t data[];
};

void *ckpt_gguf_arena_alloc(struct ckpt_gguf_arena *a, size_t n)
{
    const size_t al = _Alignof(max_align_t);
    size_t need;
    if (__builtin_add_overflow(n, al - 1, &need))
        return NULL;
    need &= ~(al - 1);
    struct ckpt_gguf_arena_block *b = a->head;
    if (!b || b->cap - b->used < need) {
        size_t cap = need > ARENA_BLOCK ? need : ARENA_BLOCK, total;
        if (__builtin_add_overflow(cap, sizeof *b, &total))
            return NULL;
        b = malloc(total);
        if (!b)
            return NULL;
        b->used = 0;
        b->cap = cap;
        /* a big one-off block goes behind the current one, which keeps its room */
        if (a->head && need > ARENA_BLOCK) {
            b->next = a->head->next;
            a->head->next = b;
        } else {
            b->next = a->head;
            a->head = b;
        }
    }
    void *p = (char *)b->data + b->used;
    b->used += need;
    return p;
}

char *ckpt_gguf_arena_strndup(struct ckpt_gguf_arena *a, const void *s, size_t n)
{
    if (n == SIZE_MAX)
        return NULL;
    char *p = ckpt_gguf_arena_alloc(a, n + 1);
    if (!p)
        return NULL;
    if (n)
        memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

void ckpt_gguf_arena_free(struct ckpt_gguf_arena *a)
{
    while (a->head) {
        struct ckpt_gguf_arena_block *next = a->head->next;
        free(a->head);
        a->head = next;
    }
}

bool ckpt_gguf_has_magic(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return false;
    unsigned char m[4] = {0};
    size_t n = fread(m, 1, 4, f);
    fclose(f);
    return n == 4 && memcmp(m, "GGUF", 4) == 0;
}
