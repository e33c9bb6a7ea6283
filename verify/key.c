/*
 * key.c - key pairs, PEM files, the key hint, signatures (see key.h).
 */
#include "key.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "../formats/filekind.h"
#include "../formats/outfile.h"

#define KEY_FILE_MAX (1u << 20)

struct ckpt_key {
    EVP_PKEY *pkey;
    const char *md;   /* digest for ECDSA; NULL for Ed25519 */
    const char *desc;
};

/* Append OpenSSL's first queued reason to a message, then clear the queue. */
static ckpt_status ossl_fail(ckpt_err *err, ckpt_status code, const char *what)
{
    unsigned long e = ERR_peek_error();
    char buf[160] = "";
    if (e)
        ERR_error_string_n(e, buf, sizeof buf);
    ERR_clear_error();
    return ckpt_err_set(err, code, "%s%s%s", what, buf[0] ? ": " : "", buf);
}

/* Classify a loaded key; takes ownership of pkey. */
static ckpt_status wrap(EVP_PKEY *pkey, const char *path, ckpt_key **out, ckpt_err *err)
{
    ckpt_key *k = calloc(1, sizeof *k);
    if (!k) {
        EVP_PKEY_free(pkey);
        return ckpt_err_set(err, CKPT_E_NOMEM, "%s: out of memory", path);
    }
    k->pkey = pkey;
    if (EVP_PKEY_is_a(pkey, "ED25519")) {
        k->desc = "Ed25519";
    } else if (EVP_PKEY_is_a(pkey, "EC")) {
        char curve[64] = "";
        size_t len = 0;
        EVP_PKEY_get_utf8_string_param(pkey, "group", curve, sizeof curve, &len);
        if (strcmp(curve, "prime256v1") == 0 || strcmp(curve, "P-256") == 0)
            k->md = "SHA256", k->desc = "ECDSA P-256 SHA-256";
        else if (strcmp(curve, "secp384r1") == 0 || strcmp(curve, "P-384") == 0)
            k->md = "SHA384", k->desc = "ECDSA P-384 SHA-384";
        else if (strcmp(curve, "secp521r1") == 0 || strcmp(curve, "P-521") == 0)
            k->md = "SHA512", k->desc = "ECDSA P-521 SHA-512";
    }
    if (!k->desc) {
        ckpt_key_free(k);
        return ckpt_err_set(err, CKPT_E_UNSUPPORTED,
                            "%s: unsupported key type (ECDSA P-256/P-384/P-521 or Ed25519)",
                            path);
    }
    *out = k;
    return CKPT_OK;
}

ckpt_status ckpt_key_generate(ckpt_key **out, bool ed25519, ckpt_err *err)
{
    *out = NULL;
    EVP_PKEY *p = ed25519 ? EVP_PKEY_Q_keygen(NULL, NULL, "ED25519")
                          : EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    if (!p)
        return ossl_fail(err, CKPT_E_INTERNAL, "key generation failed");
    return wrap(p, "new key", out, err);
}

void ckpt_key_free(ckpt_key *k)
{
    if (!k)
        return;
    EVP_PKEY_free(k->pkey);
    free(k);
}

const char *ckpt_key_describe(const ckpt_key *k) { return k->desc; }

/* Commit the bytes of a memory BIO to an already opened output. */
static ckpt_status put_bio(ckpt_out *o, BIO *bio, ckpt_err *err)
{
    char *data = NULL;
    long n = BIO_get_mem_data(bio, &data);
    if (n <= 0)
        return ckpt_err_set(err, CKPT_E_INTERNAL, "%s: PEM encoding failed", ckpt_out_path(o));
    return ckpt_out_write(o, data, (size_t)n, err);
}

ckpt_status ckpt_key_write(const ckpt_key *k, const char *path, const char *pub_path,
                           const char *passphrase, bool force, ckpt_err *err)
{
    ckpt_out *priv = NULL, *pub = NULL;
    /* secmem BIOs wipe their buffer when freed */
    BIO *pb = BIO_new(BIO_s_secmem()), *ub = BIO_new(BIO_s_mem());
    ckpt_status s = CKPT_OK;
    if (!pb || !ub)
        s = ckpt_err_set(err, CKPT_E_NOMEM, "%s: out of memory", path);
    int ok = 0;
    if (s == CKPT_OK && passphrase)
        ok = PEM_write_bio_PKCS8PrivateKey(pb, k->pkey, EVP_aes_256_cbc(), passphrase,
                                           (int)strlen(passphrase), NULL, NULL);
    else if (s == CKPT_OK)
        ok = PEM_write_bio_PrivateKey(pb, k->pkey, NULL, NULL, 0, NULL, NULL);
    if (s == CKPT_OK && (!ok || !PEM_write_bio_PUBKEY(ub, k->pkey)))
        s = ossl_fail(err, CKPT_E_INTERNAL, "PEM encoding failed");
    if (s == CKPT_OK)
        s = ckpt_out_open(&priv, path, force, err);
    if (s == CKPT_OK)
        s = ckpt_out_open(&pub, pub_path, force, err);
    if (s == CKPT_OK) {
        ckpt_out_set_mode(priv, 0600);
        s = put_bio(priv, pb, err);
    }
    if (s == CKPT_OK)
        s = put_bio(pub, ub, err);
    /* both or neither: the public key first, removed again if the private
     * one cannot be committed */
    if (s == CKPT_OK) {
        s = ckpt_out_commit(pub, err);
        pub = NULL;
        if (s == CKPT_OK) {
            s = ckpt_out_commit(priv, err);
            priv = NULL;
            if (s != CKPT_OK)
                unlink(pub_path);
        }
    }
    ckpt_out_abort(priv);
    ckpt_out_abort(pub);
    BIO_free(pb);
    BIO_free(ub);
    return s;
}

/* Read a small file whole into a secure-heap buffer (wiped on free). */
static ckpt_status slurp(const char *path, char **out, size_t *len, ckpt_err *err)
{
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f)
        return ckpt_err_errno(err, CKPT_E_IO, errno, "%s", path);
    char *buf = OPENSSL_secure_malloc(KEY_FILE_MAX + 1);
    if (!buf) {
        fclose(f);
        return ckpt_err_set(err, CKPT_E_NOMEM, "%s: out of memory", path);
    }
    size_t n = fread(buf, 1, KEY_FILE_MAX + 1, f);
    bool bad = ferror(f);
    fclose(f);
    if (bad || n > KEY_FILE_MAX) {
        ckpt_file_kind kind = bad ? CKPT_KIND_UNKNOWN : ckpt_file_kind_of(buf, n, n);
        OPENSSL_secure_clear_free(buf, KEY_FILE_MAX + 1);
        if (kind != CKPT_KIND_UNKNOWN && kind != CKPT_KIND_TEXT) /* a model given for a key */
            return ckpt_file_refuse(path, kind, "a key file", err);
        return bad ? ckpt_err_set(err, CKPT_E_IO, "%s: read error", path)
                   : ckpt_err_set(err, CKPT_E_RANGE, "%s: too large for a key file", path);
    }
    buf[n] = '\0';
    *out = buf;
    *len = n;
    return CKPT_OK;
}

struct pass {
    const char *pass;
    bool asked;
};

/* Passphrase callback: never prompts; remembers that one was wanted. */
static int pass_cb(char *buf, int size, int rwflag, void *u)
{
    struct pass *p = u;
    p->asked = true;
    if (!p->pass)
        return -1;
    size_t n = strlen(p->pass);
    if (n > (size_t)size)
        return -1;
    memcpy(buf, p->pass, n);
    return (int)n;
}

/* A key file OpenSSL refused: when it is another kind of file (the other
 * half of the pair, a bundle, a model), say which instead of the decoder's
 * text.  CKPT_OK when the kind says nothing more than OpenSSL would. */
static ckpt_status wrong_kind(const char *path, const char *text, size_t len, bool want_public,
                              ckpt_err *err)
{
    ckpt_file_kind kind = ckpt_file_kind_of(text, len, len);
    if (kind == CKPT_KIND_PRIVATE_KEY && want_public)
        return ckpt_err_set(err, CKPT_E_FORMAT,
                            "%s is a private key: give the public key (ckpt-sign --keygen "
                            "wrote %s.pub)", path, path);
    if (kind == CKPT_KIND_PUBLIC_KEY && !want_public)
        return ckpt_err_set(err, CKPT_E_FORMAT,
                            "%s is a public key: give the private key (ckpt-sign --keygen wrote "
                            "it as the name without .pub)", path);
    if (kind == CKPT_KIND_TEXT || kind == CKPT_KIND_PRIVATE_KEY || kind == CKPT_KIND_PUBLIC_KEY ||
        kind == CKPT_KIND_UNKNOWN)
        return CKPT_OK; /* a damaged key: OpenSSL's reason is the useful one */
    return ckpt_file_refuse(path, kind, want_public ? "a PEM public key" : "a PEM private key",
                            err);
}

ckpt_status ckpt_key_load_private(ckpt_key **out, const char *path, const char *passphrase,
                                  ckpt_err *err)
{
    *out = NULL;
    char *text;
    size_t len;
    ckpt_status s = slurp(path, &text, &len, err);
    if (s != CKPT_OK)
        return s;
    BIO *bio = BIO_new_mem_buf(text, (int)len);
    struct pass p = {passphrase, false};
    EVP_PKEY *pkey = bio ? PEM_read_bio_PrivateKey(bio, NULL, pass_cb, &p) : NULL;
    BIO_free(bio);
    if (!pkey && !p.asked && (s = wrong_kind(path, text, len, false, err)) != CKPT_OK)
        ERR_clear_error();
    OPENSSL_secure_clear_free(text, KEY_FILE_MAX + 1);
    if (s != CKPT_OK)
        return s;
    if (!pkey) {
        if (p.asked && !passphrase) {
            ERR_clear_error();
            return ckpt_err_set(err, CKPT_E_FORMAT,
                                "%s: the key is encrypted (use --passphrase-file or "
                                "--passphrase-env)", path);
        }
        char what[600];
        snprintf(what, sizeof what, "%s: %s", path,
                 p.asked ? "cannot decrypt the private key (wrong passphrase?)"
                         : "not a PEM private key");
        return ossl_fail(err, CKPT_E_FORMAT, what);
    }
    return wrap(pkey, path, out, err);
}

ckpt_status ckpt_key_load_public(ckpt_key **out, const char *path, ckpt_err *err)
{
    *out = NULL;
    char *text;
    size_t len;
    ckpt_status s = slurp(path, &text, &len, err);
    if (s != CKPT_OK)
        return s;
    BIO *bio = BIO_new_mem_buf(text, (int)len);
    EVP_PKEY *pkey = bio ? PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL) : NULL;
    BIO_free(bio);
    if (!pkey && (s = wrong_kind(path, text, len, true, err)) != CKPT_OK)
        ERR_clear_error();
    OPENSSL_secure_clear_free(text, KEY_FILE_MAX + 1);
    if (s != CKPT_OK)
        return s;
    if (!pkey) {
        char what[600];
        snprintf(what, sizeof what, "%s: not a PEM public key", path);
        return ossl_fail(err, CKPT_E_FORMAT, what);
    }
    return wrap(pkey, path, out, err);
}

ckpt_status ckpt_key_hint(const ckpt_key *k, char hint[CKPT_SHA256_HEX], ckpt_err *err)
{
    BIO *b = BIO_new(BIO_s_mem());
    char *data = NULL;
    long n = 0;
    if (!b || !PEM_write_bio_PUBKEY(b, k->pkey) || (n = BIO_get_mem_data(b, &data)) <= 0) {
        BIO_free(b);
        return ossl_fail(err, CKPT_E_INTERNAL, "public key encoding failed");
    }
    uint8_t d[CKPT_SHA256_LEN];
    ckpt_status s = ckpt_sha256_buf(data, (size_t)n, d, err);
    BIO_free(b);
    if (s == CKPT_OK)
        ckpt_sha256_hex(d, hint);
    return s;
}

ckpt_status ckpt_key_sign(const ckpt_key *k, const uint8_t *msg, size_t n, uint8_t **sig,
                          size_t *sig_len, ckpt_err *err)
{
    *sig = NULL;
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    size_t len = 0;
    uint8_t *buf = NULL;
    ckpt_status s = CKPT_OK;
    if (!c || EVP_DigestSignInit_ex(c, NULL, k->md, NULL, NULL, k->pkey, NULL) != 1 ||
        EVP_DigestSign(c, NULL, &len, msg, n) != 1 || !(buf = malloc(len)) ||
        EVP_DigestSign(c, buf, &len, msg, n) != 1) {
        free(buf);
        buf = NULL;
        s = ossl_fail(err, CKPT_E_INTERNAL, "signing failed");
    }
    EVP_MD_CTX_free(c);
    *sig = buf;
    *sig_len = len;
    return s;
}

ckpt_status ckpt_key_verify(const ckpt_key *k, const uint8_t *msg, size_t n, const uint8_t *sig,
                            size_t sig_len, ckpt_err *err)
{
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    if (!c)
        return ckpt_err_set(err, CKPT_E_NOMEM, "out of memory");
    int rc = EVP_DigestVerifyInit_ex(c, NULL, k->md, NULL, NULL, k->pkey, NULL);
    if (rc == 1)
        rc = EVP_DigestVerify(c, sig, sig_len, msg, n);
    EVP_MD_CTX_free(c);
    ERR_clear_error();
    if (rc != 1)
        return ckpt_err_set(err, CKPT_E_MISMATCH, "the signature does not verify with this key");
    return CKPT_OK;
}

ckpt_status ckpt_key_passphrase_file(const char *path, char **out, ckpt_err *err)
{
    *out = NULL;
    char *text;
    size_t len;
    ckpt_status s = slurp(path, &text, &len, err);
    if (s != CKPT_OK)
        return s;
    size_t n = 0;
    while (n < len && text[n] != '\n' && text[n] != '\r' && text[n] != '\0')
        n++;
    if (n == 0) {
        OPENSSL_secure_clear_free(text, KEY_FILE_MAX + 1);
        return ckpt_err_set(err, CKPT_E_FORMAT, "%s: the passphrase is empty", path);
    }
    char *p = OPENSSL_secure_malloc(n + 1);
    if (p) {
        memcpy(p, text, n);
        p[n] = '\0';
    }
    OPENSSL_secure_clear_free(text, KEY_FILE_MAX + 1);
    if (!p)
        return ckpt_err_set(err, CKPT_E_NOMEM, "%s: out of memory", path);
    *out = p;
    return CKPT_OK;
}

void ckpt_key_passphrase_free(char *p)
{
    if (p)
        OPENSSL_secure_clear_free(p, strlen(p) + 1);
}
