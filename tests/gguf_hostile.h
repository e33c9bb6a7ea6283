/*
 * gguf_hostile.h - crafted GGUF files, built byte by byte: a valid small
 * file that uses every value type, and the hostile corpus (FORMATS.md §2.6
 * and every other check of the reader), each case with the message
 * substring the reader must report.  Shared by tests/formats/check_gguf.c and
 * tests/gen_hostile_gguf.c (which writes the corpus out for the CLI tests),
 * so it is a header of static functions.
 */
#ifndef CKPT_TESTS_GGUF_HOSTILE_H
#define CKPT_TESTS_GGUF_HOSTILE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* ---- byte builder ---- */

struct hb {
    uint8_t *p;
    size_t n, cap;
};

static void hb_put(struct hb *b, const void *src, size_t n)
{
    if (b->n + n > b->cap) {
        b->cap = (b->n + n) * 2 + 64;
        b->p = realloc(b->p, b->cap);
        if (!b->p)
            abort();
    }
    if (n)
        memcpy(b->p + b->n, src, n);
    b->n += n;
}

static void hb_u8(struct hb *b, uint8_t v) { hb_put(b, &v, 1); }
static void hb_u16(struct hb *b, uint16_t v) { hb_put(b, &v, 2); } /* LE host */
static void hb_u32(struct hb *b, uint32_t v) { hb_put(b, &v, 4); }
static void hb_u64(struct hb *b, uint64_t v) { hb_put(b, &v, 8); }
static void hb_f32(struct hb *b, float v) { hb_put(b, &v, 4); }
static void hb_f64(struct hb *b, double v) { hb_put(b, &v, 8); }
static void hb_strn(struct hb *b, const char *s, size_t n)
{
    hb_u64(b, n);
    hb_put(b, s, n);
}
static void hb_str(struct hb *b, const char *s) { hb_strn(b, s, strlen(s)); }

static void hb_zeros(struct hb *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        hb_u8(b, 0);
}

/* Pad with zeros to a multiple of a. */
static void hb_align(struct hb *b, size_t a) { hb_zeros(b, (a - b->n % a) % a); }

static void hb_header(struct hb *b, uint32_t version, uint64_t n_tensors, uint64_t n_kv)
{
    hb_put(b, "GGUF", 4);
    hb_u32(b, version);
    hb_u64(b, n_tensors);
    hb_u64(b, n_kv);
}

/* key + type (value follows) */
static void hb_kv(struct hb *b, const char *key, uint32_t type)
{
    hb_str(b, key);
    hb_u32(b, type);
}

/* tensor info with up to 4 dims */
static void hb_tensor(struct hb *b, const char *name, uint32_t n_dims, const int64_t *ne,
                      uint32_t type, uint64_t offset)
{
    hb_str(b, name);
    hb_u32(b, n_dims);
    for (uint32_t j = 0; j < n_dims; j++)
        hb_u64(b, (uint64_t)ne[j]);
    hb_u32(b, type);
    hb_u64(b, offset);
}

/* A minimal valid file: one kv, one f32 tensor "t" of 8 elements. */
static void hb_one_tensor_file(struct hb *b, uint32_t version)
{
    int64_t ne[1] = {8};
    hb_header(b, version, 1, 1);
    hb_kv(b, "general.architecture", 8);
    hb_str(b, "llama");
    hb_tensor(b, "t", 1, ne, 0, 0);
    hb_align(b, 32);
    for (int i = 0; i < 8; i++)
        hb_f32(b, (float)i);
}

/*
 * The valid small file: every value type as a scalar and as an array,
 * a string array, general.alignment 32, and four tensors (f32 1-D, an
 * empty one, q8_0 2-D, f16 3-D).  Data bytes are i*7 mod 251.
 * Returns a malloc'd buffer.
 */
static uint8_t *gguf_valid_small(size_t *size)
{
    struct hb b = {0};
    hb_header(&b, 3, 4, 29);
    hb_kv(&b, "general.architecture", 8);
    hb_str(&b, "llama");
    hb_kv(&b, "general.alignment", 4);
    hb_u32(&b, 32);
    hb_kv(&b, "t.u8", 0);
    hb_u8(&b, 200);
    hb_kv(&b, "t.i8", 1);
    hb_u8(&b, 0x80); /* -128 */
    hb_kv(&b, "t.u16", 2);
    hb_u16(&b, 65535);
    hb_kv(&b, "t.i16", 3);
    hb_u16(&b, 0x8000); /* -32768 */
    hb_kv(&b, "t.u32", 4);
    hb_u32(&b, 4000000000u);
    hb_kv(&b, "t.i32", 5);
    hb_u32(&b, (uint32_t)-7);
    hb_kv(&b, "t.f32", 6);
    hb_f32(&b, 1e-5f);
    hb_kv(&b, "t.bool", 7);
    hb_u8(&b, 1);
    hb_kv(&b, "t.str", 8);
    hb_str(&b, "h\xc3\xa9llo");
    hb_kv(&b, "t.u64", 10);
    hb_u64(&b, UINT64_MAX);
    hb_kv(&b, "t.i64", 11);
    hb_u64(&b, (uint64_t)INT64_MIN);
    hb_kv(&b, "t.f64", 12);
    hb_f64(&b, -0.0);
    hb_kv(&b, "t.str_nul", 8);
    hb_strn(&b, "a\0b", 3);
    hb_kv(&b, "t.str_empty", 8);
    hb_str(&b, "");
    static const uint32_t numeric[] = {0, 1, 2, 3, 4, 5, 6, 7, 10, 11, 12};
    static const char *const names[] = {"a.u8", "a.i8", "a.u16", "a.i16", "a.u32", "a.i32",
                                        "a.f32", "a.bool", "a.u64", "a.i64", "a.f64"};
    static const size_t sizes[] = {1, 1, 2, 2, 4, 4, 4, 1, 8, 8, 8};
    for (int k = 0; k < 11; k++) {
        hb_kv(&b, names[k], 9);
        hb_u32(&b, numeric[k]);
        hb_u64(&b, 3);
        for (int i = 0; i < 3; i++) {
            uint8_t v[8] = {0};
            if (numeric[k] == 7)
                v[0] = (uint8_t)(i & 1);
            else if (numeric[k] == 6) {
                float f = (float)i - 0.5f;
                memcpy(v, &f, 4);
            } else if (numeric[k] == 12) {
                double d = i * 0.25 - 1;
                memcpy(v, &d, 8);
            } else
                memset(v, i == 1 ? 0xff : i, sizes[k]); /* -1 / max in the middle */
            hb_put(&b, v, sizes[k]);
        }
    }
    hb_kv(&b, "a.str", 9);
    hb_u32(&b, 8);
    hb_u64(&b, 3);
    hb_str(&b, "x");
    hb_str(&b, "");
    hb_str(&b, "it's \"q\"");
    hb_kv(&b, "a.empty", 9);
    hb_u32(&b, 4);
    hb_u64(&b, 0);
    /* tensors: 40 f32 (160 B), q8_0 64x2 (136 B), f16 2x3x4 (48 B), empty f32 0x5 */
    int64_t ne1[1] = {40}, ne2[2] = {64, 2}, ne3[3] = {2, 3, 4}, ne4[2] = {0, 5};
    hb_tensor(&b, "blk.0.a", 1, ne1, 0, 0);
    hb_tensor(&b, "blk.0.empty", 2, ne4, 0, 160);
    hb_tensor(&b, "blk.0.b", 2, ne2, 8, 160);
    hb_tensor(&b, "blk.0.c", 3, ne3, 1, 160 + 160);
    hb_align(&b, 32);
    static const size_t bytes[] = {160, 136, 48};
    for (int t = 0; t < 3; t++) {
        for (size_t i = 0; i < bytes[t]; i++)
            hb_u8(&b, (uint8_t)((i * 7 + (size_t)t) % 251));
        hb_align(&b, 32);
    }
    *size = b.n;
    return b.p;
}

/* ---- the hostile corpus ---- */

struct gguf_hostile {
    const char *name;   /* file name */
    const char *expect; /* substring of the reader's message */
    uint8_t *data;      /* malloc'd */
    size_t size;
};

/* A file with one kv whose key is `key` and whose bytes after the type are in tail. */
static void hb_kv_file(struct hb *b, const char *key, uint32_t type)
{
    hb_header(b, 3, 0, 1);
    hb_kv(b, key, type);
}

/* Header with one tensor info; the caller appends dims etc. */
static void hb_tensor_file(struct hb *b, uint64_t n_tensors)
{
    hb_header(b, 3, n_tensors, 0);
}

/* One tensor "t" with the given shape and type at offset 0, plus its data (capped). */
static void hb_shape_case(struct hb *b, uint32_t n_dims, const int64_t *ne, uint32_t type)
{
    hb_tensor_file(b, 1);
    hb_tensor(b, "t", n_dims, ne, type, 0);
    hb_align(b, 32);
    hb_zeros(b, 64);
}

/* Fill case i; false when i is past the end of the corpus. */
static bool gguf_hostile_make(int i, struct gguf_hostile *h)
{
    struct hb b = {0};
    int64_t ne[4] = {8, 1, 1, 1};
    h->name = NULL;
    switch (i) {
    case 0: h->name = "empty"; h->expect = "the file is empty"; hb_u8(&b, 0); b.n = 0; break;
    case 1: h->name = "short"; h->expect = "only 2 bytes"; hb_put(&b, "GG", 2); break;
    case 2: h->name = "bad-magic"; h->expect = "bad magic 47 47 55 58";
        hb_put(&b, "GGUX\3\0\0\0", 8); hb_zeros(&b, 16); break;
    case 3: h->name = "safetensors"; h->expect = "looks like a safetensors file";
        hb_u64(&b, 2); hb_put(&b, "{}", 2); break;
    case 4: h->name = "lfs-pointer"; h->expect = "Git LFS pointer";
        hb_put(&b, "version https://git-lfs.github.com/spec/v1\noid sha256:00\nsize 12\n",
               strlen("version https://git-lfs.github.com/spec/v1\noid sha256:00\nsize 12\n"));
        break;
    case 5: h->name = "zip"; h->expect = "zip"; hb_put(&b, "PK\3\4", 4); hb_zeros(&b, 30); break;
    case 6: h->name = "version-0"; h->expect = "unsupported GGUF version 0";
        hb_header(&b, 0, 0, 0); break;
    case 7: h->name = "version-1"; h->expect = "GGUFv1 is no longer supported";
        hb_header(&b, 1, 0, 0); break;
    case 8: h->name = "version-4"; h->expect = "unsupported GGUF version 4";
        hb_header(&b, 4, 0, 0); break;
    case 9: h->name = "version-byteswapped"; h->expect = "big-endian";
        hb_header(&b, 0x03000000u, 0, 0); break;
    case 10: h->name = "truncated-counts"; h->expect = "truncated at offset 8 of 12 reading the tensor count";
        hb_put(&b, "GGUF\3\0\0\0\0\0\0\0", 12); break;
    case 11: h->name = "n-kv-ffffffff"; h->expect = "key/value count 4294967295 cannot fit";
        hb_header(&b, 3, 0, 0xffffffffu); hb_zeros(&b, 40); break;
    case 12: h->name = "n-tensors-2p63"; h->expect = "tensor count 9223372036854775808 cannot fit";
        hb_header(&b, 3, 1ull << 63, 0); hb_zeros(&b, 40); break;
    case 13: h->name = "n-tensors-wraps"; h->expect = "tensor count 2097865012304223517 cannot fit";
        hb_header(&b, 3, 0x1D1D1D1D1D1D1D1Dull, 0); hb_zeros(&b, 40); break;
    case 14: h->name = "n-tensors-after-kv"; h->expect = "tensor count 2 cannot fit in the 10 bytes left after the metadata";
        hb_header(&b, 3, 2, 1); hb_kv(&b, "general.architecture", 8);
        hb_str(&b, "012345678901234567890123456789"); hb_zeros(&b, 10); break;
    case 15: h->name = "key-len-max"; h->expect = "key 0: string length 18446744073709551615 is over the 1 GiB limit";
        hb_header(&b, 3, 0, 1); hb_u64(&b, UINT64_MAX); hb_zeros(&b, 16); break;
    case 16: h->name = "key-len-past-eof"; h->expect = "key 0: string length 100 exceeds the 16 bytes left";
        hb_header(&b, 3, 0, 1); hb_u64(&b, 100); hb_zeros(&b, 16); break;
    case 17: h->name = "key-empty"; h->expect = "key 0 is empty";
        hb_header(&b, 3, 0, 1); hb_u64(&b, 0); hb_u32(&b, 0); hb_u8(&b, 1); hb_zeros(&b, 8); break;
    case 18: h->name = "key-nul"; h->expect = "key 0 ('tokenizer.chat_template...') contains a NUL byte";
        hb_header(&b, 3, 0, 1); hb_strn(&b, "tokenizer.chat_template\0x", 25); hb_u32(&b, 0);
        hb_u8(&b, 1); break;
    case 19: h->name = "key-duplicate"; h->expect = "duplicate key 'a.b' (keys 0 and 1)";
        hb_header(&b, 3, 0, 2); hb_kv(&b, "a.b", 0); hb_u8(&b, 1); hb_kv(&b, "a.b", 0);
        hb_u8(&b, 2); break;
    case 20: h->name = "value-type-13"; h->expect = "key 'a.b': invalid value type 13";
        hb_kv_file(&b, "a.b", 13); hb_zeros(&b, 8); break;
    case 21: h->name = "value-type-negative"; h->expect = "key 'a.b': invalid value type 4294967295";
        hb_kv_file(&b, "a.b", 0xffffffffu); hb_zeros(&b, 8); break;
    case 22: h->name = "string-len-max"; h->expect = "the value of key 'a.b': string length 18446744073709551615 is over the 1 GiB limit";
        hb_kv_file(&b, "a.b", 8); hb_u64(&b, UINT64_MAX); hb_zeros(&b, 8); break;
    case 23: h->name = "string-len-past-eof"; h->expect = "the value of key 'a.b': string length 9 exceeds the 8 bytes left";
        hb_kv_file(&b, "a.b", 8); hb_u64(&b, 9); hb_zeros(&b, 8); break;
    case 24: h->name = "array-u64-2p62"; h->expect = "key 'a.b': array of 4611686018427387904 u64 cannot fit";
        hb_kv_file(&b, "a.b", 9); hb_u32(&b, 10); hb_u64(&b, 1ull << 62); hb_zeros(&b, 64); break;
    case 25: h->name = "array-str-count-wraps"; h->expect = "key 'a.b': array of 2305843009213693953 strings cannot fit";
        hb_kv_file(&b, "a.b", 9); hb_u32(&b, 8); hb_u64(&b, (1ull << 61) + 1); hb_zeros(&b, 64); break;
    case 26: h->name = "array-nested"; h->expect = "key 'a.b': nested arrays (array of arrays) are not supported";
        hb_kv_file(&b, "a.b", 9); hb_u32(&b, 9); hb_u64(&b, 1); hb_u32(&b, 0); hb_u64(&b, 1);
        hb_u8(&b, 0); break;
    case 27: h->name = "array-elem-type-99"; h->expect = "key 'a.b': invalid array element type 99";
        hb_kv_file(&b, "a.b", 9); hb_u32(&b, 99); hb_u64(&b, 1); hb_zeros(&b, 8); break;
    case 28: h->name = "array-str-element-past-eof"; h->expect = "key 'a.b' element 1: string length 1000 exceeds the 8 bytes left";
        hb_kv_file(&b, "a.b", 9); hb_u32(&b, 8); hb_u64(&b, 2); hb_str(&b, "ok"); hb_u64(&b, 1000);
        hb_zeros(&b, 8); break;
    case 29: h->name = "bool-2"; h->expect = "key 'a.b': bool value 2 is not 0 or 1";
        hb_kv_file(&b, "a.b", 7); hb_u8(&b, 2); break;
    case 30: h->name = "bool-array-2"; h->expect = "key 'a.b': bool element 1 is 2, not 0 or 1";
        hb_kv_file(&b, "a.b", 9); hb_u32(&b, 7); hb_u64(&b, 3); hb_u8(&b, 1); hb_u8(&b, 2);
        hb_u8(&b, 0); break;
    case 31: h->name = "alignment-0"; h->expect = "general.alignment 0 is not a power of two";
        hb_kv_file(&b, "general.alignment", 4); hb_u32(&b, 0); break;
    case 32: h->name = "alignment-3"; h->expect = "general.alignment 3 is not a power of two";
        hb_kv_file(&b, "general.alignment", 4); hb_u32(&b, 3); break;
    case 33: h->name = "alignment-2p31"; h->expect = "general.alignment 2147483648 is larger than 1 GiB";
        hb_kv_file(&b, "general.alignment", 4); hb_u32(&b, 1u << 31); break;
    case 34: h->name = "alignment-int32"; h->expect = "general.alignment must be u32, not i32";
        hb_kv_file(&b, "general.alignment", 5); hb_u32(&b, 32); break;
    case 35: h->name = "alignment-u64"; h->expect = "general.alignment must be u32, not u64";
        hb_kv_file(&b, "general.alignment", 10); hb_u64(&b, 32); break;
    case 36: h->name = "tensor-name-64"; h->expect = "tensor 0: name of 64 bytes is longer than 63";
        hb_tensor_file(&b, 1);
        hb_tensor(&b, "0123456789012345678901234567890123456789012345678901234567890123", 1, ne, 0, 0);
        hb_align(&b, 32); hb_zeros(&b, 32); break;
    case 37: h->name = "tensor-name-empty"; h->expect = "tensor 0 has an empty name";
        hb_tensor_file(&b, 1); hb_tensor(&b, "", 1, ne, 0, 0); hb_zeros(&b, 64); break;
    case 38: h->name = "tensor-name-nul"; h->expect = "tensor 0: name contains a NUL byte";
        hb_tensor_file(&b, 1); hb_strn(&b, "a\0b", 3); hb_u32(&b, 1); hb_u64(&b, 8); hb_u32(&b, 0);
        hb_u64(&b, 0); hb_zeros(&b, 64); break;
    case 39: h->name = "tensor-name-duplicate"; h->expect = "duplicate tensor name 't' (tensors 0 and 1)";
        hb_tensor_file(&b, 2); hb_tensor(&b, "t", 1, ne, 0, 0); hb_tensor(&b, "t", 1, ne, 0, 32);
        hb_align(&b, 32); hb_zeros(&b, 64); break;
    case 40: h->name = "n-dims-5"; h->expect = "tensor 't': 5 dimensions (at most 4)";
        hb_tensor_file(&b, 1); hb_str(&b, "t"); hb_u32(&b, 5); hb_zeros(&b, 64); break;
    case 41: h->name = "n-dims-ffffffff"; h->expect = "tensor 't': 4294967295 dimensions (at most 4)";
        hb_tensor_file(&b, 1); hb_str(&b, "t"); hb_u32(&b, 0xffffffffu); hb_zeros(&b, 64); break;
    case 42: h->name = "ne-negative"; h->expect = "tensor 't': dimension 1 is negative (-1)";
        ne[1] = -1; hb_shape_case(&b, 2, ne, 0); break;
    case 43: h->name = "ne-int64max-2"; h->expect = "tensor 't': element count of shape (9223372036854775807, 2, 1, 1) overflows";
        ne[0] = INT64_MAX; ne[1] = 2; hb_shape_case(&b, 2, ne, 24 /* i8 */); break;
    case 44: h->name = "ne-4x2p62"; h->expect = "tensor 't': element count of shape (4611686018427387904, 2, 1, 1) overflows";
        ne[0] = 1ll << 62; ne[1] = 2; hb_shape_case(&b, 2, ne, 0); break;
    case 45: h->name = "bytes-overflow"; h->expect = "tensor 't': size in bytes of 4611686018427387904 f32 blocks overflows";
        ne[0] = 1ll << 62; hb_shape_case(&b, 1, ne, 0); break;
    case 46: h->name = "type-4"; h->expect = "tensor 't': unknown ggml type 4";
        hb_shape_case(&b, 1, ne, 4); break;
    case 47: h->name = "type-31"; h->expect = "tensor 't': unknown ggml type 31";
        hb_shape_case(&b, 1, ne, 31); break;
    case 48: h->name = "type-99"; h->expect = "tensor 't': unknown ggml type 99";
        hb_shape_case(&b, 1, ne, 99); break;
    case 49: h->name = "type-negative"; h->expect = "tensor 't': unknown ggml type 4294967295";
        hb_shape_case(&b, 1, ne, 0xffffffffu); break;
    case 50: h->name = "q4k-row-100"; h->expect = "tensor 't': row of 100 elements is not a multiple of the q4_K block size 256";
        ne[0] = 100; hb_shape_case(&b, 1, ne, 12); break;
    case 51: h->name = "offset-unaligned"; h->expect = "tensor 'u': data offset 16, expected 32";
        hb_tensor_file(&b, 2); ne[0] = 4; hb_tensor(&b, "t", 1, ne, 0, 0);
        hb_tensor(&b, "u", 1, ne, 0, 16); hb_align(&b, 32); hb_zeros(&b, 64); break;
    case 52: h->name = "offset-out-of-order"; h->expect = "tensor 't': data offset 32, expected 0";
        hb_tensor_file(&b, 2); hb_tensor(&b, "t", 1, ne, 0, 32); hb_tensor(&b, "u", 1, ne, 0, 0);
        hb_align(&b, 32); hb_zeros(&b, 64); break;
    case 53: h->name = "offset-huge"; h->expect = "tensor 't': data offset 18446744073709551584, expected 0";
        hb_tensor_file(&b, 1); hb_tensor(&b, "t", 1, ne, 0, UINT64_MAX - 31); hb_align(&b, 32);
        hb_zeros(&b, 32); break;
    case 54: h->name = "data-past-eof"; h->expect = "tensor 't': data of 32 bytes at offset 128 extends past the end of the file (159 bytes)";
        hb_one_tensor_file(&b, 3); b.n -= 1; break;
    case 55: h->name = "data-huge"; h->expect = "tensor 't': data of 4194304 bytes at offset 64 extends past the end of the file";
        hb_tensor_file(&b, 1); ne[0] = 1 << 20; hb_tensor(&b, "t", 1, ne, 0, 0); hb_align(&b, 32);
        hb_zeros(&b, 64); break;
    case 56: h->name = "data-section-past-eof"; h->expect = "data section at offset 64 starts past the end of the file (57 bytes)";
        hb_tensor_file(&b, 1); hb_tensor(&b, "t", 1, ne, 0, 0); break;
    case 57: h->name = "tensor-info-truncated"; h->expect = "truncated at offset 45 of 49 reading the shape of tensor 't'";
        hb_tensor_file(&b, 1); hb_str(&b, "t"); hb_u32(&b, 2); hb_u64(&b, 8); hb_zeros(&b, 4); break;
    case 58: h->name = "value-truncated"; h->expect = "truncated at offset 39 of 41 reading the value of key 'a.b'";
        hb_kv_file(&b, "a.b", 4); hb_u16(&b, 1); break;
    case 59: h->name = "get-type-truncated"; h->expect = "reading the type of key 'a.b'";
        hb_header(&b, 3, 0, 1); hb_str(&b, "a.b"); hb_zeros(&b, 3); break;
    default: return false;
    }
    h->data = b.p ? b.p : malloc(1);
    h->size = b.n;
    return true;
}

#endif
