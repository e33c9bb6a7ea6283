/*
 * key.h - signing keys: generation, PEM files, the key hint, and signing
 * and verifying the DSSE PAE, through OpenSSL libcrypto.
 *
 * ECDSA on P-256 with SHA-256 is the default, the kind sigstore
 * model_signing's "key" mode verifies (it also takes P-384/SHA-384 and
 * P-521/SHA-512, which are accepted here too).  Ed25519 (PureEdDSA over the
 * PAE bytes) is offered as an option; model_signing does not verify it.
 * Private keys are PEM PKCS#8, optionally encrypted (PBES2, AES-256-CBC);
 * public keys are PEM SubjectPublicKeyInfo.
 */
#ifndef CKPT_VERIFY_KEY_H
#define CKPT_VERIFY_KEY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../kernels/err.h"
#include "../formats/sha256.h"

typedef struct ckpt_key ckpt_key;

/* Generate a key pair: ECDSA P-256, or Ed25519.  Caller owns *out. */
ckpt_status ckpt_key_generate(ckpt_key **out, bool ed25519, ckpt_err *err);

/*
 * Write the private key to `path` (mode 0600, atomically; replace only with
 * force), encrypted with `passphrase` unless it is NULL, and the public key
 * to `pub_path` (same rules, mode 0666 less the umask).  Either both files
 * appear or neither.  Errors: CKPT_E_EXISTS, CKPT_E_IO.
 */
ckpt_status ckpt_key_write(const ckpt_key *k, const char *path, const char *pub_path,
                           const char *passphrase, bool force, ckpt_err *err);

/*
 * Load a PEM private key; `passphrase` may be NULL (an encrypted key then
 * fails with a message saying so, never a terminal prompt).  Errors:
 * CKPT_E_IO, CKPT_E_FORMAT (not a key, wrong passphrase),
 * CKPT_E_UNSUPPORTED (not ECDSA P-256/384/521 or Ed25519).
 */
ckpt_status ckpt_key_load_private(ckpt_key **out, const char *path, const char *passphrase,
                                  ckpt_err *err);

/* Load a PEM public key (text before the PEM block is skipped). */
ckpt_status ckpt_key_load_public(ckpt_key **out, const char *path, ckpt_err *err);

/* "ECDSA P-256 SHA-256", "Ed25519", ... */
const char *ckpt_key_describe(const ckpt_key *k);

/* The key hint: lowercase hex SHA-256 of the public key's PEM text. */
ckpt_status ckpt_key_hint(const ckpt_key *k, char hint[CKPT_SHA256_HEX], ckpt_err *err);

/* Sign msg (private key); *sig is malloc'd: DER ECDSA or 64-byte Ed25519. */
ckpt_status ckpt_key_sign(const ckpt_key *k, const uint8_t *msg, size_t n, uint8_t **sig,
                          size_t *sig_len, ckpt_err *err);

/* CKPT_OK if sig is a valid signature of msg under k; CKPT_E_MISMATCH if
 * not (including a signature that does not even decode). */
ckpt_status ckpt_key_verify(const ckpt_key *k, const uint8_t *msg, size_t n, const uint8_t *sig,
                            size_t sig_len, ckpt_err *err);

void ckpt_key_free(ckpt_key *k);

/*
 * The first line of file `path` (without its line end) as a passphrase;
 * *out is malloc'd, free it with ckpt_key_passphrase_free (which wipes it).
 * Errors: CKPT_E_IO, CKPT_E_FORMAT (empty).
 */
ckpt_status ckpt_key_passphrase_file(const char *path, char **out, ckpt_err *err);
void ckpt_key_passphrase_free(char *p);

#endif
