/*
 * json_strict.h - cJSON with the checks cJSON leaves out, for headers and
 * config files that come from untrusted downloads.
 *
 * cJSON accepts things a strict JSON parser (serde_json, Python's json)
 * refuses or reads differently: invalid UTF-8, raw control characters in
 * strings, `\u0000` (decoded into a NUL that silently cuts C strings),
 * duplicate keys (cJSON's lookup returns the first, serde keeps the last),
 * a UTF-8 BOM, any byte <= 0x20 as whitespace, numbers such as `01`, and it
 * keeps numbers only as doubles.  ckpt_json_parse runs a lexer over the text
 * first, so that every accepted document is strict JSON, lets cJSON build
 * the tree, then rejects duplicate keys in every object and records the
 * exact value of every number token.
 *
 * cJSON converts numbers with strtod, which follows LC_NUMERIC: ckpt never
 * calls setlocale, so the "C" locale (decimal point '.') is in force.  The
 * exact integers read here come from the text and do not depend on it.
 * cJSON also records the position of its last error in a process-wide
 * variable; nothing here reads it, but parses on several threads at once
 * race on that write, so callers parse from one thread at a time.
 */
#ifndef CKPT_FORMATS_JSON_STRICT_H
#define CKPT_FORMATS_JSON_STRICT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "../kernels/err.h"

/* Why a parse failed, so callers can map it onto their own checks. */
typedef enum {
    CKPT_JSON_OK = 0,
    CKPT_JSON_BAD_ENCODING, /* not UTF-8, a NUL byte, or a \u0000 escape */
    CKPT_JSON_BAD_SYNTAX,   /* not strict JSON, trailing bytes, duplicate key */
    CKPT_JSON_TOO_BIG,      /* more values or top-level members than allowed */
} ckpt_json_fail;

/* Caps checked by the lexer before cJSON allocates anything; 0 = no cap. */
struct ckpt_json_limits {
    size_t max_values;      /* objects, arrays, strings (keys too), numbers, literals */
    size_t max_top_members; /* members of the top-level object */
};

typedef struct ckpt_json ckpt_json;

/*
 * Parse `len` bytes of `text` (no NUL terminator needed).  Leading and
 * trailing JSON whitespace (space, tab, LF, CR) is accepted, nothing else.
 * `what` prefixes error messages ("model.safetensors: header").  On success
 * the caller owns *out (ckpt_json_free); the text may be released.  On
 * failure *out is NULL, *fail (if non-NULL) says which class of problem it
 * was, and err is set: CKPT_E_FORMAT, CKPT_E_RANGE (limits) or CKPT_E_NOMEM.
 */
ckpt_status ckpt_json_parse(ckpt_json **out, const char *text, size_t len, const char *what,
                            const struct ckpt_json_limits *lim, ckpt_json_fail *fail,
                            ckpt_err *err);

/*
 * The same, but a \u0000 escape passes (cJSON then cuts that string at the
 * NUL): for documents whose strings holding one are never read, such as
 * Mistral's tekken.json, which gives the NUL byte's piece as token_str
 * "\u0000" beside its bytes in base64.
 */
ckpt_status ckpt_json_parse_nul(ckpt_json **out, const char *text, size_t len, const char *what,
                                const struct ckpt_json_limits *lim, ckpt_json_fail *fail,
                                ckpt_err *err);

/* The root value; borrowed, valid until ckpt_json_free. */
const cJSON *ckpt_json_root(const ckpt_json *j);

/* NULL is fine. */
void ckpt_json_free(ckpt_json *j);

/*
 * The exact value of a number item of this document when it was written as
 * a plain non-negative integer (no sign, fraction or exponent) that fits in
 * 64 bits.  False for anything else, including non-number items.
 */
bool ckpt_json_u64(const ckpt_json *j, const cJSON *item, uint64_t *out);

/* Number of members of an object or elements of an array (0 otherwise). */
size_t ckpt_json_count(const cJSON *item);

/*
 * True when s[0..n) is well-formed UTF-8 (no overlongs, no surrogates,
 * nothing above U+10FFFF).  On false, *bad_at is the offset of the first
 * byte of the offending sequence.
 */
bool ckpt_utf8_valid(const uint8_t *s, size_t n, size_t *bad_at);

/*
 * Copy `s` into buf (size n >= 8) for an error message: control bytes become
 * '?', and a long name is cut at a character boundary and ends in "...".
 * Returns buf.
 */
const char *ckpt_json_printable(const char *s, char *buf, size_t n);

#endif
