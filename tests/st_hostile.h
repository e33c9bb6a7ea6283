/*
 * st_hostile.h - the hostile safetensors corpus: every case of FORMATS.md
 * §1.8 plus the cJSON-specific ones (§1.7), each with the check, status and
 * message substring the reader must report.  Shared by tests/formats/check_safetensors.c
 * (in memory) and gen_hostile_st.c (files + manifest for the CLI tests),
 * so both feed the same bytes.  Header-only: a table and two builders.
 */
#ifndef CKPT_TESTS_ST_HOSTILE_H
#define CKPT_TESTS_ST_HOSTILE_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "formats/safetensors.h"

enum {
    STH_JSON, /* 8-byte N = header length, header, data_len zero bytes */
    STH_RAW,  /* the header bytes are the whole file */
    STH_N,    /* N = n_value (a lie), then header and data */
};

struct st_hostile_case {
    const char *name;   /* file stem */
    int mode;
    const char *header; /* JSON text, or raw bytes */
    size_t header_len;  /* 0: strlen(header) */
    uint64_t n_value;   /* STH_N only */
    size_t data_len;
    ckpt_st_check check;
    ckpt_status status;
    const char *msg;    /* substring of the error message */
};

#define T16(n, a, b) "\"" n "\":{\"dtype\":\"U8\",\"shape\":[16],\"data_offsets\":[" #a "," #b "]}"

static const struct st_hostile_case st_hostile_cases[] = {
    {"empty", STH_RAW, "", 0, 0, 0, CKPT_ST_HEADER_TOO_SMALL, CKPT_E_FORMAT, "too small"},
    {"seven-bytes", STH_RAW, "\x08\0\0\0\0\0\0", 7, 0, 0, CKPT_ST_HEADER_TOO_SMALL,
     CKPT_E_FORMAT, "too small"},
    {"n-max", STH_N, "{}", 0, UINT64_MAX, 0, CKPT_ST_HEADER_TOO_LARGE, CKPT_E_RANGE,
     "larger than the 100000000-byte limit"},
    {"n-100000001", STH_N, "{}", 0, 100000001, 0, CKPT_ST_HEADER_TOO_LARGE, CKPT_E_RANGE,
     "larger than the 100000000-byte limit"},
    {"n-past-eof", STH_N, "{}      ", 0, 64, 0, CKPT_ST_INVALID_HEADER_LENGTH, CKPT_E_FORMAT,
     "runs past the end of the file"},
    {"lfs-pointer", STH_RAW,
     "version https://git-lfs.github.com/spec/v1\noid sha256:"
     "4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393\nsize 14483464\n",
     0, 0, 0, CKPT_ST_LFS_POINTER, CKPT_E_FORMAT, "Git LFS pointer"},
    {"bad-utf8", STH_JSON, "{\"a\xff\":{\"dtype\":\"U8\",\"shape\":[0],\"data_offsets\":[0,0]}}", 0,
     0, 0, CKPT_ST_INVALID_HEADER, CKPT_E_FORMAT, "invalid UTF-8 at byte 3"},
    {"utf8-overlong", STH_JSON, "{\"\xc0\x80\":{}}", 0, 0, 0, CKPT_ST_INVALID_HEADER,
     CKPT_E_FORMAT, "invalid UTF-8"},
    {"utf8-surrogate", STH_JSON, "{\"\xed\xa0\x80\":{}}", 0, 0, 0, CKPT_ST_INVALID_HEADER,
     CKPT_E_FORMAT, "invalid UTF-8"},
    {"raw-nul", STH_JSON, "{\"a\0b\":{}}", 10, 0, 0, CKPT_ST_INVALID_HEADER, CKPT_E_FORMAT,
     "NUL byte"},
    {"escaped-nul-name", STH_JSON,
     "{\"w\\u0000x\":{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[0,4]}}", 0, 0, 4,
     CKPT_ST_INVALID_HEADER, CKPT_E_FORMAT, "\\u0000"},
    {"array-header", STH_JSON, "[]", 0, 0, 0, CKPT_ST_INVALID_HEADER_DESERIALIZATION,
     CKPT_E_FORMAT, "not a JSON object"},
    {"trailing-x", STH_JSON, "{}x", 0, 0, 0, CKPT_ST_INVALID_HEADER_DESERIALIZATION,
     CKPT_E_FORMAT, "trailing characters"},
    {"trailing-nbsp", STH_JSON, "{}\xc2\xa0", 0, 0, 0, CKPT_ST_INVALID_HEADER_DESERIALIZATION,
     CKPT_E_FORMAT, "invalid JSON"},
    {"bom", STH_JSON, "\xef\xbb\xbf{}", 0, 0, 0, CKPT_ST_INVALID_HEADER_DESERIALIZATION,
     CKPT_E_FORMAT, "invalid JSON"},
    {"vertical-tab", STH_JSON, "\x0b{}", 0, 0, 0, CKPT_ST_INVALID_HEADER_DESERIALIZATION,
     CKPT_E_FORMAT, "invalid JSON"},
    {"blank-header", STH_JSON, "        ", 0, 0, 0, CKPT_ST_INVALID_HEADER_DESERIALIZATION,
     CKPT_E_FORMAT, "no JSON value"},
    {"unterminated", STH_JSON, "{\"a\":{", 0, 0, 0, CKPT_ST_INVALID_HEADER_DESERIALIZATION,
     CKPT_E_FORMAT, "invalid JSON"},
    {"unterminated-string", STH_JSON, "{\"a", 0, 0, 0, CKPT_ST_INVALID_HEADER_DESERIALIZATION,
     CKPT_E_FORMAT, "unterminated string"},
    {"control-in-string", STH_JSON, "{\"a\tb\":{}}", 0, 0, 0,
     CKPT_ST_INVALID_HEADER_DESERIALIZATION, CKPT_E_FORMAT, "control character"},
    {"lone-surrogate", STH_JSON, "{\"\\ud800\":{}}", 0, 0, 0,
     CKPT_ST_INVALID_HEADER_DESERIALIZATION, CKPT_E_FORMAT, "invalid JSON"},
    {"metadata-number", STH_JSON, "{\"__metadata__\":{\"format\":1}}", 0, 0, 0,
     CKPT_ST_INVALID_HEADER_DESERIALIZATION, CKPT_E_FORMAT, "__metadata__ value of 'format'"},
    {"metadata-array", STH_JSON, "{\"__metadata__\":[]}", 0, 0, 0,
     CKPT_ST_INVALID_HEADER_DESERIALIZATION, CKPT_E_FORMAT, "__metadata__ is not an object"},
    {"metadata-twice", STH_JSON, "{\"__metadata__\":{},\"__metadata__\":{}}", 0, 0, 0,
     CKPT_ST_INVALID_HEADER_DESERIALIZATION, CKPT_E_FORMAT, "duplicate key '__metadata__'"},
    {"unknown-dtype", STH_JSON, "{\"w\":{\"dtype\":\"F17\",\"shape\":[1],\"data_offsets\":[0,2]}}",
     0, 0, 2, CKPT_ST_INVALID_HEADER_DESERIALIZATION, CKPT_E_FORMAT, "unknown dtype 'F17'"},
    {"dtype-lowercase", STH_JSON, "{\"w\":{\"dtype\":\"f32\",\"shape\":[1],\"data_offsets\":[0,4]}}",
     0, 0, 4, CKPT_ST_INVALID_HEADER_DESERIALIZATION, CKPT_E_FORMAT, "unknown dtype 'f32'"},
    {"dtype-number", STH_JSON, "{\"w\":{\"dtype\":5,\"shape\":[1],\"data_offsets\":[0,4]}}", 0, 0,
     4, CKPT_ST_INVALID_HEADER_DESERIALIZATION, CKPT_E_FORMAT, "dtype is not a string"},
    {"missing-dtype", STH_JSON, "{\"w\":{\"shape\":[1],\"data_offsets\":[0,4]}}", 0, 0, 4,
     CKPT_ST_INVALID_HEADER_DESERIALIZATION, CKPT_E_FORMAT, "missing field 'dtype'"},
    {"missing-offsets", STH_JSON, "{\"w\":{\"dtype\":\"F32\",\"shape\":[1]}}", 0, 0, 4,
     CKPT_ST_INVALID_HEADER_DESERIALIZATION, CKPT_E_FORMAT, "missing field 'data_offsets'"},
    {"tensor-not-object", STH_JSON, "{\"w\":[0,4]}", 0, 0, 4,
     CKPT_ST_INVALID_HEADER_DESERIALIZATION, CKPT_E_FORMAT, "entry is not a JSON object"},
    {"shape-not-array", STH_JSON, "{\"w\":{\"dtype\":\"F32\",\"shape\":4,\"data_offsets\":[0,4]}}",
     0, 0, 4, CKPT_ST_INVALID_HEADER_DESERIALIZATION, CKPT_E_FORMAT, "shape is not an array"},
    {"shape-negative", STH_JSON, "{\"w\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}",
     0, 0, 4, CKPT_ST_INVALID_HEADER_DESERIALIZATION, CKPT_E_FORMAT,
     "shape[0] is not a non-negative integer"},
    {"shape-fraction", STH_JSON,
     "{\"w\":{\"dtype\":\"F32\",\"shape\":[1.0],\"data_offsets\":[0,4]}}", 0, 0, 4,
     CKPT_ST_INVALID_HEADER_DESERIALIZATION, CKPT_E_FORMAT, "shape[0] is not"},
    {"shape-exponent", STH_JSON,
     "{\"w\":{\"dtype\":\"F32\",\"shape\":[1e0],\"data_offsets\":[0,4]}}", 0, 0, 4,
     CKPT_ST_INVALID_HEADER_DESERIALIZATION, CKPT_E_FORMAT, "shape[0] is not"},
    {"shape-2e64", STH_JSON,
     "{\"w\":{\"dtype\":\"U8\",\"shape\":[18446744073709551616],\"data_offsets\":[0,4]}}", 0, 0,
     4, CKPT_ST_INVALID_HEADER_DESERIALIZATION, CKPT_E_FORMAT, "below 2^64"},
    {"leading-zero", STH_JSON, "{\"w\":{\"dtype\":\"F32\",\"shape\":[01],\"data_offsets\":[0,4]}}",
     0, 0, 4, CKPT_ST_INVALID_HEADER_DESERIALIZATION, CKPT_E_FORMAT, "invalid number"},
    {"nine-dims", STH_JSON,
     "{\"w\":{\"dtype\":\"U8\",\"shape\":[1,1,1,1,1,1,1,1,1],\"data_offsets\":[0,1]}}", 0, 0, 1,
     CKPT_ST_INVALID_HEADER_DESERIALIZATION, CKPT_E_UNSUPPORTED, "9 dimensions"},
    {"offsets-negative", STH_JSON,
     "{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[-4,0]}}", 0, 0, 4,
     CKPT_ST_INVALID_HEADER_DESERIALIZATION, CKPT_E_FORMAT, "data_offsets is not a pair"},
    {"offsets-three", STH_JSON,
     "{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4,8]}}", 0, 0, 4,
     CKPT_ST_INVALID_HEADER_DESERIALIZATION, CKPT_E_FORMAT, "data_offsets is not a pair"},
    {"duplicate-tensor", STH_JSON,
     "{\"w\":{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[0,4]},"
     "\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}",
     0, 0, 4, CKPT_ST_INVALID_HEADER_DESERIALIZATION, CKPT_E_FORMAT, "duplicate key 'w'"},
    {"duplicate-field", STH_JSON,
     "{\"w\":{\"dtype\":\"U8\",\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,4]}}", 0, 0, 4,
     CKPT_ST_INVALID_HEADER_DESERIALIZATION, CKPT_E_FORMAT, "duplicate key 'dtype'"},
    {"deep-nesting", STH_JSON, NULL, 0, 0, 0, CKPT_ST_INVALID_HEADER_DESERIALIZATION,
     CKPT_E_FORMAT, "invalid JSON"},
    {"overflow-u64", STH_JSON,
     "{\"w\":{\"dtype\":\"U8\",\"shape\":[2,18446744073709551614],\"data_offsets\":[0,4]}}", 0, 0,
     4, CKPT_ST_VALIDATION_OVERFLOW, CKPT_E_RANGE, "element count of the shape overflows"},
    {"overflow-bits", STH_JSON,
     "{\"w\":{\"dtype\":\"I32\",\"shape\":[2,9223372036854775807],\"data_offsets\":[0,4]}}", 0, 0,
     4, CKPT_ST_VALIDATION_OVERFLOW, CKPT_E_RANGE, "byte size of 18446744073709551614 I32"},
    {"invalid-info", STH_JSON, "{\"w\":{\"dtype\":\"I32\",\"shape\":[2,2],\"data_offsets\":[0,4]}}",
     0, 0, 4, CKPT_ST_TENSOR_INVALID_INFO, CKPT_E_FORMAT, "hold 4 bytes but I32 [2,2] needs 16"},
    {"f4-odd", STH_JSON, "{\"w\":{\"dtype\":\"F4\",\"shape\":[3],\"data_offsets\":[0,2]}}", 0, 0, 2,
     CKPT_ST_MISALIGNED_SLICE, CKPT_E_FORMAT, "not a whole number of bytes"},
    {"offset-not-zero", STH_JSON, "{\"w\":{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[4,8]}}",
     0, 0, 8, CKPT_ST_INVALID_OFFSET, CKPT_E_FORMAT, "expected the data to start at 0"},
    {"offset-gap", STH_JSON, "{" T16("a", 0, 16) "," T16("b", 20, 36) "}", 0, 0, 36,
     CKPT_ST_INVALID_OFFSET, CKPT_E_FORMAT, "tensor 'b': invalid data_offsets [20, 36]"},
    {"offset-overlap", STH_JSON, "{" T16("a", 0, 16) "," T16("b", 8, 24) "}", 0, 0, 24,
     CKPT_ST_INVALID_OFFSET, CKPT_E_FORMAT, "tensor 'b': invalid data_offsets [8, 24]"},
    {"offset-end-before-begin", STH_JSON,
     "{\"w\":{\"dtype\":\"U8\",\"shape\":[0],\"data_offsets\":[0,0]},"
     "\"v\":{\"dtype\":\"U8\",\"shape\":[0],\"data_offsets\":[4,0]}}",
     0, 0, 4, CKPT_ST_INVALID_OFFSET, CKPT_E_FORMAT, "end before begin"},
    {"ten-at-zero", STH_JSON,
     "{" T16("t0", 0, 16) "," T16("t1", 0, 16) "," T16("t2", 0, 16) "," T16("t3", 0, 16) ","
     T16("t4", 0, 16) "," T16("t5", 0, 16) "," T16("t6", 0, 16) "," T16("t7", 0, 16) ","
     T16("t8", 0, 16) "," T16("t9", 0, 16) "}",
     0, 0, 16, CKPT_ST_INVALID_OFFSET, CKPT_E_FORMAT, "tensor 't1': invalid data_offsets [0, 16]"},
    {"trailing-bytes", STH_JSON, "{\"w\":{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[0,4]}}",
     0, 0, 6, CKPT_ST_METADATA_INCOMPLETE_BUFFER, CKPT_E_FORMAT,
     "2 unexpected bytes after the last tensor"},
    {"missing-2-bytes", STH_JSON, "{\"w\":{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[0,4]}}",
     0, 0, 2, CKPT_ST_METADATA_INCOMPLETE_BUFFER, CKPT_E_FORMAT,
     "file truncated: tensors need 4 data bytes but only 2"},
};

#define ST_HOSTILE_N (sizeof st_hostile_cases / sizeof st_hostile_cases[0])

/* Bytes of case c (malloc'd; *size set).  NULL on out of memory. */
static inline uint8_t *st_hostile_build(const struct st_hostile_case *c, size_t *size)
{
    char *deep = NULL;
    const char *h = c->header;
    size_t hl = c->header_len;
    if (!h) { /* deep-nesting: 2000 arrays in a tensor entry (cJSON stops at 1000) */
        deep = malloc(4100);
        if (!deep)
            return NULL;
        size_t o = 0;
        deep[o++] = '{', deep[o++] = '"', deep[o++] = 'a', deep[o++] = '"', deep[o++] = ':';
        for (int i = 0; i < 2000; i++)
            deep[o++] = '[';
        for (int i = 0; i < 2000; i++)
            deep[o++] = ']';
        deep[o++] = '}';
        h = deep;
        hl = o;
    } else if (!hl) {
        hl = strlen(h);
    }
    size_t pre = c->mode == STH_RAW ? 0 : 8;
    size_t total = pre + hl + c->data_len;
    uint8_t *b = calloc(total ? total : 1, 1);
    if (b) {
        uint64_t n = c->mode == STH_N ? c->n_value : (uint64_t)hl;
        for (size_t i = 0; i < pre; i++)
            b[i] = (uint8_t)(n >> (8 * i));
        memcpy(b + pre, h, hl);
        *size = total;
    }
    free(deep);
    return b;
}

/*
 * A valid file used for the truncation sweep: metadata, an F32 [2,3], a
 * zero-size U8 [0] and a BF16 scalar (header 184 bytes, data 26).
 */
static inline uint8_t *st_hostile_valid(size_t *size, size_t *header_end)
{
    static const char h[] =
        "{\"__metadata__\":{\"format\":\"pt\"},"
        "\"a\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,24]},"
        "\"e\":{\"dtype\":\"U8\",\"shape\":[0],\"data_offsets\":[24,24]},"
        "\"s\":{\"dtype\":\"BF16\",\"shape\":[],\"data_offsets\":[24,26]}}";
    size_t hl = sizeof h - 1, padded = (hl + 7) / 8 * 8;
    size_t total = 8 + padded + 26;
    uint8_t *b = malloc(total);
    if (!b)
        return NULL;
    for (size_t i = 0; i < 8; i++)
        b[i] = (uint8_t)((uint64_t)padded >> (8 * i));
    memcpy(b + 8, h, hl);
    memset(b + 8 + hl, ' ', padded - hl);
    for (size_t i = 0; i < 26; i++)
        b[8 + padded + i] = (uint8_t)(i * 7 + 1);
    *size = total;
    *header_end = 8 + padded;
    return b;
}

/* Expected check for the valid file cut to `len` bytes. */
static inline ckpt_st_check st_hostile_trunc_check(size_t len, size_t header_end)
{
    return len < 8            ? CKPT_ST_HEADER_TOO_SMALL
           : len < header_end ? CKPT_ST_INVALID_HEADER_LENGTH
                              : CKPT_ST_METADATA_INCOMPLETE_BUFFER;
}

static inline const char *st_hostile_trunc_msg(ckpt_st_check c)
{
    return c == CKPT_ST_HEADER_TOO_SMALL        ? "too small for a safetensors header"
           : c == CKPT_ST_INVALID_HEADER_LENGTH ? "runs past the end of the file"
                                                : "file truncated";
}

#endif
