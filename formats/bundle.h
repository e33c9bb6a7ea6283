/*
 * bundle.h - the signature file: a Sigstore bundle v0.3 (JSON) holding a
 * DSSE envelope, in the form sigstore model_signing writes in its "key"
 * mode.
 *
 *   {"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json",
 *    "verificationMaterial":{"publicKey":{"hint":HEX},"tlogEntries":[]},
 *    "dsseEnvelope":{"payload":BASE64(statement),
 *                    "payloadType":"application/vnd.in-toto+json",
 *                    "signatures":[{"sig":BASE64(signature),"keyid":""}]}}
 *
 * HINT is the SHA-256 of the signer's public key as PEM SubjectPublicKeyInfo
 * text.  The signature is over the DSSE pre-authentication encoding (PAE)
 *
 *   "DSSEv1" SP len(type) SP type SP len(payload) SP payload
 *
 * with lengths in ASCII decimal, never over the base64 text.
 */
#ifndef CKPT_FORMATS_BUNDLE_H
#define CKPT_FORMATS_BUNDLE_H

#include <stddef.h>
#include <stdint.h>

#include "../kernels/err.h"

#define CKPT_BUNDLE_MEDIA_TYPE "application/vnd.dev.sigstore.bundle.v0.3+json"
#define CKPT_DSSE_INTOTO_TYPE "application/vnd.in-toto+json"
#define CKPT_BUNDLE_MAX_BYTES ((size_t)256 << 20)

struct ckpt_bundle {
    char *media_type;     /* owned strings */
    char *hint;           /* NULL: the bundle names no key (older model_signing) */
    char *payload_type;
    uint8_t *payload;     /* decoded statement bytes, NUL after the end */
    size_t payload_len;
    uint8_t *sig;         /* decoded signature (DER ECDSA, or 64-byte Ed25519) */
    size_t sig_len;
};

/*
 * The PAE of a payload: *out is malloc'd (caller frees), *out_len its size.
 * Errors: CKPT_E_NOMEM, CKPT_E_RANGE.
 */
ckpt_status ckpt_bundle_pae(const char *payload_type, const uint8_t *payload, size_t len,
                            uint8_t **out, size_t *out_len, ckpt_err *err);

/*
 * Parse bundle JSON (untrusted; `name` prefixes messages).  Checks the
 * structure and types, decodes the base64 fields strictly, and requires
 * exactly one signature; it does not judge the values (media type, payload
 * type, hint): the verifier does, so it can say which one failed.  Bundles
 * with certificates or transparency-log entries are CKPT_E_UNSUPPORTED.
 * Errors: CKPT_E_FORMAT, CKPT_E_RANGE, CKPT_E_NOMEM.  b must be zeroed;
 * free it with ckpt_bundle_free in every case.
 */
ckpt_status ckpt_bundle_parse(const char *json, size_t len, const char *name,
                              struct ckpt_bundle *b, ckpt_err *err);

/* Bundle JSON (one line and a newline) for a payload, signature and key
 * hint.  *out is malloc'd, NUL-terminated. */
ckpt_status ckpt_bundle_to_json(const uint8_t *payload, size_t payload_len, const uint8_t *sig,
                                size_t sig_len, const char *hint, char **out, ckpt_err *err);

/* Release what b owns and zero it; NULL is fine. */
void ckpt_bundle_free(struct ckpt_bundle *b);

#endif
