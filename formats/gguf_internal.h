/*
 * gguf_internal.h - pieces shared by the GGUF reader and writer: value type
 * sizes, limits, overflow-checked padding, name checks, a string set for
 * duplicate detection and lookups, and an arena for strings copied out of
 * a file.  Not part of the public API.
 */
#ifndef CKPT_FORMATS_GGUF_INTERNAL_H
#define CKPT_FORMATS_GGUF_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gguf.h"

#define CKPT_GGUF_MAX_STRING (1ull << 30)     /* bytes (ggml's GGUF_MAX_STRING_LENGTH) */
#define CKPT_GGUF_MAX_ALIGNMENT (1u << 30)    /* bytes; anything larger is hostile */
#define CKPT_GGUF_MAX_KEY 65535               /* bytes in a key (GGUF spec) */

/*
 * Smallest possible encodings, used to reject counts that cannot fit in the
 * bytes that remain before anything is allocated:
 *   kv          = u64 key len + 1 key byte + u32 type + 1 value byte      = 14
 *   tensor info = u64 name len + 1 name byte + u32 n_dims (0) + u32 type
 *                 + u64 offset                                           = 25
 */
#define CKPT_GGUF_MIN_KV_BYTES 14u
#define CKPT_GGUF_MIN_TENSOR_INFO_BYTES 25u

struct ckpt_gguf_set {
    const char **keys; /* borrowed NUL-terminated strings; NULL = empty slot */
    size_t *idx;
    size_t cap;        /* power of two or 0 */
    size_t n;
};

struct ckpt_gguf_arena_block;
struct ckpt_gguf_arena {
    struct ckpt_gguf_arena_block *head;
};

/* An open GGUF: the bytes (mapped or the caller's) and what was parsed from them. */
struct ckpt_gguf {
    char *path;                   /* name used in messages; owned */
    ckpt_map *map;                /* NULL for buffer readers */
    const uint8_t *data;          /* size bytes */
    size_t size;
    uint32_t version;
    uint32_t alignment;
    uint64_t data_offset;         /* file offset of the data section */
    uint64_t data_size;           /* sum of the padded tensor sizes */
    uint64_t trailing;            /* bytes after data_offset + data_size */
    struct ckpt_gguf_kv *kvs;     /* n_kv, file order */
    size_t n_kv;
    struct ckpt_gguf_tensor *tensors; /* n_tensors, file order */
    size_t n_tensors;
    struct ckpt_gguf_set kv_set;      /* key -> index */
    struct ckpt_gguf_set tensor_set;  /* name -> index */
    struct ckpt_gguf_arena arena;     /* keys, names, strings, string arrays */
    /* a split set opened from its first file (gguf_split.c): parts[0] is
     * this file, parts[k] part k, owned; tensors then lists every part's,
     * names borrowed from the part's arena.  NULL for a single file. */
    struct ckpt_gguf **parts;
    size_t n_parts;
};

/* Bytes of one value of a fixed-size type; 0 for STRING, ARRAY and invalid ids. */
size_t ckpt_gguf_type_size(uint32_t t);

/* True for the fixed-size types (everything but STRING and ARRAY). */
bool ckpt_gguf_type_is_scalar(uint32_t t);

/* x rounded up to a multiple of the power of two a; false on overflow. */
bool ckpt_gguf_pad(uint64_t x, uint32_t a, uint64_t *out);

/* True if a is an acceptable alignment: a power of two, 1..CKPT_GGUF_MAX_ALIGNMENT. */
bool ckpt_gguf_alignment_ok(uint64_t a);

/*
 * Tensor element count and byte size from type and shape (ne[0..n_dims),
 * missing dims are 1).  Fills a short reason into `why` and returns false
 * when a dimension is negative, the element count or byte size overflows,
 * the type is unknown, or ne[0] is not a multiple of the block size.
 */
bool ckpt_gguf_tensor_size(uint32_t type, uint32_t n_dims, const int64_t *ne, uint64_t *n_elements,
                           uint64_t *n_bytes, char *why, size_t why_len);

/* ---- string set: names -> index, open addressing, grows as needed ---- */

/* Insert s with index i.  Returns 0, 1 if s is already present (*dup gets
 * its index), or -1 when out of memory. */
int ckpt_gguf_set_add(struct ckpt_gguf_set *set, const char *s, size_t i, size_t *dup);

/* Index of s, or SIZE_MAX. */
size_t ckpt_gguf_set_find(const struct ckpt_gguf_set *set, const char *s);

void ckpt_gguf_set_free(struct ckpt_gguf_set *set);

/* ---- arena: many small allocations freed at once ---- */

/* n bytes aligned for any scalar type; NULL when out of memory. */
void *ckpt_gguf_arena_alloc(struct ckpt_gguf_arena *a, size_t n);

/* NUL-terminated copy of n bytes; NULL when out of memory. */
char *ckpt_gguf_arena_strndup(struct ckpt_gguf_arena *a, const void *s, size_t n);

void ckpt_gguf_arena_free(struct ckpt_gguf_arena *a);

#endif
