/*
 * b64.h - standard base64 (RFC 4648 section 4, padded), as the DSSE
 * envelope of a Sigstore bundle uses it for the payload and the signature.
 *
 * The decoder is strict, because the bundle is untrusted input: the length
 * must be a multiple of 4, only the 64 letters and final '=' padding are
 * allowed, and the unused low bits of the last letter must be zero.  So
 * every byte string has exactly one encoding, and changing any letter of an
 * encoding changes the decoded bytes or is refused.
 */
#ifndef CKPT_FORMATS_B64_H
#define CKPT_FORMATS_B64_H

#include <stddef.h>
#include <stdint.h>

#include "../kernels/err.h"

/* Encode n bytes; *out is a malloc'd NUL-terminated string (caller frees). */
ckpt_status ckpt_b64_encode(const uint8_t *data, size_t n, char **out, ckpt_err *err);

/*
 * Decode `len` characters of `text`; *out (malloc'd, caller frees, one
 * extra NUL byte after the data) and *out_len get the bytes.  `what` names
 * the field in error messages.  Errors: CKPT_E_FORMAT, CKPT_E_NOMEM.
 */
ckpt_status ckpt_b64_decode(const char *text, size_t len, const char *what, uint8_t **out,
                            size_t *out_len, ckpt_err *err);

#endif
