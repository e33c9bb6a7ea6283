/*
 * check_sign.c - signing and verification against outside oracles:
 * sigstore model_signing's own signatures (tests/data/vectors/model_signing)
 * must verify and must fail after any change; ckpt's signatures must verify
 * with the openssl command line over the PAE, their statements must hold
 * the digests sha256sum computes, in model_signing's order; SHA256SUMS must
 * pass `sha256sum -c`; and a 1000-flip tamper sweep must be caught every
 * time.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <openssl/evp.h>

#include "formats/b64.h"
#include "formats/gguf.h"
#include "formats/manifest.h"
#include "kernels/types.h"
#include "verify/check.h"
#include "verify/key.h"
#include "verify/sign.h"
#include "testutil.h"

/* ==== shared steps ==== */

static void put(const char *dir, const char *name, const char *text)
{
    char *p = tu_fmt("%s/%s", dir, name);
    ck_assert_int_eq(tu_write_file(p, text, strlen(text)), 0);
    free(p);
}

static void sh(const char *cmd)
{
    ck_assert_msg(tu_run(cmd, NULL, NULL) == 0, "command failed: %s", cmd);
}

/* Copy a model_signing vector folder into a scratch dir; returns the copy. */
static char *copy_vector(const char *tmp, const char *name)
{
    char *src = tu_data("vectors/model_signing"), *cmd;
    cmd = tu_fmt("cp -r '%s/%s' '%s/' && cp '%s/signing-key-pub.pem' '%s/'", src, name, tmp, src,
                 tmp);
    sh(cmd);
    free(cmd);
    free(src);
    return tu_fmt("%s/%s", tmp, name);
}

static ckpt_status verify(const char *artifact, const char *sig, const char *pub,
                          const char *ignore, ckpt_err *err)
{
    ckpt_key *k = NULL;
    ckpt_status s = ckpt_key_load_public(&k, pub, err);
    if (s != CKPT_OK)
        return s;
    const char *ign[1] = {ignore};
    struct ckpt_check_opts o = {.artifact = artifact, .sig_path = sig, .key = k, .ignore = ign,
                                .n_ignore = ignore ? 1 : 0, .threads = 1};
    struct ckpt_check_report r = {0};
    s = ckpt_check_run(&o, &r, err);
    ckpt_check_report_free(&r);
    ckpt_key_free(k);
    return s;
}

/* Make a key pair KEY (+ KEY.pub) in dir. */
static char *make_key(const char *dir, const char *name, bool ed25519)
{
    char *path = tu_fmt("%s/%s", dir, name), *pub = tu_fmt("%s.pub", path);
    ckpt_key *k = NULL;
    ck_assert_int_eq(ckpt_key_generate(&k, ed25519, NULL), CKPT_OK);
    ck_assert_int_eq(ckpt_key_write(k, path, pub, NULL, false, NULL), CKPT_OK);
    ckpt_key_free(k);
    free(pub);
    return path;
}

static ckpt_status sign(const char *key, const char *artifact, const char *source,
                        const char *const *params, size_t n_params, ckpt_err *err)
{
    struct ckpt_sign_opts o = {.key_path = key, .source_dir = source, .params = params,
                               .n_params = n_params, .artifacts = &artifact, .n_artifacts = 1,
                               .force = true, .threads = 2};
    struct ckpt_sign_done *d = NULL;
    size_t n = 0;
    ckpt_status s = ckpt_sign_run(&o, &d, &n, err);
    ckpt_sign_done_free(d, n);
    return s;
}

/* Load a bundle file as cJSON. */
static cJSON *load_json(const char *path)
{
    size_t n;
    char *t = tu_read_file(path, &n);
    ck_assert_ptr_nonnull(t);
    cJSON *j = cJSON_ParseWithLength(t, n);
    free(t);
    ck_assert_ptr_nonnull(j);
    return j;
}

static void save_json(const char *path, const cJSON *j)
{
    char *t = cJSON_PrintUnformatted(j);
    ck_assert_int_eq(tu_write_file(path, t, strlen(t)), 0);
    free(t);
}

/* Decode, flip one byte at `at`, re-encode a base64 string field in place. */
static void flip_b64(cJSON *str, size_t at)
{
    uint8_t *raw;
    size_t n;
    ck_assert_int_eq(ckpt_b64_decode(str->valuestring, strlen(str->valuestring), "t", &raw, &n,
                                     NULL), CKPT_OK);
    raw[at % n] ^= 0x20;
    char *enc;
    ck_assert_int_eq(ckpt_b64_encode(raw, n, &enc, NULL), CKPT_OK);
    cJSON_SetValuestring(str, enc);
    free(enc);
    free(raw);
}

static cJSON *envelope_item(cJSON *bundle, const char *key)
{
    cJSON *env = cJSON_GetObjectItemCaseSensitive(bundle, "dsseEnvelope");
    if (strcmp(key, "sig") == 0)
        return cJSON_GetObjectItemCaseSensitive(
            cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(env, "signatures"), 0), "sig");
    return cJSON_GetObjectItemCaseSensitive(env, key);
}

/* ==== model_signing's own signatures ==== */

static const struct vec {
    const char *dir;      /* vector folder */
    const char *file;     /* single-file artifact inside it, or NULL for the folder */
    const char *ignore;   /* what must be ignored, or NULL */
} vecs[] = {
    {"v1.1.0-elliptic-key", NULL, NULL}, /* ignore-me is in the signed ignore_paths */
    {"v1.0.1-elliptic-key", NULL, "ignore-me"},
    {"v1.0.0-elliptic-key", "signme-1", NULL},
    {"v0.3.1-elliptic-key", "signme-1", NULL},
};

START_TEST(vector_accepts_and_rejects)
{
    const struct vec *v = &vecs[_i];
    char *tmp = tu_tmpdir(), *dir = copy_vector(tmp, v->dir);
    char *pub = tu_fmt("%s/signing-key-pub.pem", tmp), *sig = tu_fmt("%s/model.sig", dir);
    char *art = v->file ? tu_fmt("%s/%s", dir, v->file) : tu_fmt("%s", dir);
    char *ign = v->ignore ? tu_fmt("%s/%s", dir, v->ignore) : NULL;
    char *signed1 = tu_fmt("%s/signme-1", dir), *keep = tu_fmt("%s/keep", tmp);
    ckpt_err err = {0};

    ck_assert_msg(verify(art, sig, pub, ign, &err) == CKPT_OK, "%s: %s", v->dir, err.msg);
    if (!v->file && !v->ignore) {
        /* the same, with --ignore given relative to the directory */
        ckpt_err_clear(&err);
        ck_assert_int_eq(verify(art, sig, pub, "ignore-me", &err), CKPT_OK);
    }
    if (v->ignore) { /* without the ignore, ignore-me is an unexpected file */
        ckpt_err_clear(&err);
        ck_assert_int_eq(verify(art, sig, pub, NULL, &err), CKPT_E_MISMATCH);
        ck_assert_ptr_nonnull(strstr(err.msg, "1 unexpected"));
    }
    /* a signed file changed */
    char *cmd = tu_fmt("cp '%s' '%s' && printf x >> '%s'", signed1, keep, signed1);
    sh(cmd);
    free(cmd);
    ckpt_err_clear(&err);
    ck_assert_int_eq(verify(art, sig, pub, ign, &err), CKPT_E_MISMATCH);
    /* a signed file removed */
    ck_assert_int_eq(unlink(signed1), 0);
    ckpt_err_clear(&err);
    ck_assert_int_ne(verify(art, sig, pub, ign, &err), CKPT_OK);
    if (!v->file)
        ck_assert_int_eq(err.code, CKPT_E_MISMATCH);
    cmd = tu_fmt("cp '%s' '%s'", keep, signed1);
    sh(cmd);
    free(cmd);
    ckpt_err_clear(&err);
    ck_assert_int_eq(verify(art, sig, pub, ign, &err), CKPT_OK);
    /* an unignored file added (directories only) */
    if (!v->file) {
        put(dir, "added", "new");
        ckpt_err_clear(&err);
        ck_assert_int_eq(verify(art, sig, pub, ign, &err), CKPT_E_MISMATCH);
        char *added = tu_fmt("%s/added", dir);
        unlink(added);
        free(added);
    }
    /* the bundle altered: payload, signature, key hint */
    char *orig = tu_fmt("%s/orig.sig", tmp);
    cmd = tu_fmt("cp '%s' '%s'", sig, orig);
    sh(cmd);
    free(cmd);
    static const char *const what[] = {"payload", "sig", "hint"};
    for (int w = 0; w < 3; w++) {
        cJSON *b = load_json(orig);
        if (w < 2) {
            flip_b64(envelope_item(b, what[w]), 40);
        } else {
            cJSON *pk = cJSON_GetObjectItemCaseSensitive(
                cJSON_GetObjectItemCaseSensitive(b, "verificationMaterial"), "publicKey");
            cJSON_DeleteItemFromObjectCaseSensitive(pk, "hint");
            cJSON_AddStringToObject(pk, "hint", "e8450dec4eb99dae995da9af1bc2cc9f76ed669ee2e744f5"
                                                "7abba763df3e3f8f");
        }
        save_json(sig, b);
        cJSON_Delete(b);
        ckpt_err_clear(&err);
        ck_assert_msg(verify(art, sig, pub, ign, &err) == CKPT_E_MISMATCH, "%s %s: %s", v->dir,
                      what[w], err.msg);
    }
    tu_rmtree(tmp);
    free(tmp), free(dir), free(pub), free(sig), free(art), free(ign), free(signed1);
    free(keep), free(orig);
}
END_TEST

/* ==== ckpt's signatures, checked by openssl, sha256sum and cJSON ==== */

/* Lowercase hex SHA-256 of a file as sha256sum prints it. */
static void sha256sum(const char *path, char hex[65])
{
    char *cmd = tu_fmt("sha256sum '%s'", path), *out = NULL;
    ck_assert_int_eq(tu_run(cmd, &out, NULL), 0);
    ck_assert_ptr_nonnull(out);
    memcpy(hex, out, 64);
    hex[64] = '\0';
    free(out);
    free(cmd);
}

static const char *str_at(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    ck_assert_msg(cJSON_IsString(v), "%s is not a string", k);
    return v->valuestring;
}

/* Write pae.bin and the decoded signature from a bundle, PAE built here from
 * DSSE's definition (not with ckpt's code); returns the statement. */
static cJSON *split_bundle(const char *sig, const char *dir, char **payload_out, size_t *plen)
{
    cJSON *b = load_json(sig);
    ck_assert_str_eq(str_at(b, "mediaType"), "application/vnd.dev.sigstore.bundle.v0.3+json");
    uint8_t *payload, *s;
    size_t n, sn;
    const char *pl = envelope_item(b, "payload")->valuestring;
    const char *sg = envelope_item(b, "sig")->valuestring;
    ck_assert_int_eq(ckpt_b64_decode(pl, strlen(pl), "p", &payload, &n, NULL), CKPT_OK);
    ck_assert_int_eq(ckpt_b64_decode(sg, strlen(sg), "s", &s, &sn, NULL), CKPT_OK);
    ck_assert_str_eq(str_at(cJSON_GetObjectItemCaseSensitive(b, "dsseEnvelope"), "payloadType"),
                     "application/vnd.in-toto+json");
    char *head = tu_fmt("DSSEv1 28 application/vnd.in-toto+json %zu ", n);
    size_t hl = strlen(head);
    uint8_t *pae = malloc(hl + n);
    memcpy(pae, head, hl);
    memcpy(pae + hl, payload, n);
    char *pp = tu_fmt("%s/pae.bin", dir), *sp = tu_fmt("%s/sig.bin", dir);
    ck_assert_int_eq(tu_write_file(pp, pae, hl + n), 0);
    ck_assert_int_eq(tu_write_file(sp, s, sn), 0);
    cJSON *st = cJSON_ParseWithLength((const char *)payload, n);
    ck_assert_ptr_nonnull(st);
    *payload_out = (char *)payload;
    *plen = n;
    free(head), free(pae), free(pp), free(sp), free(s);
    cJSON_Delete(b);
    return st;
}

START_TEST(openssl_verifies_and_statement_is_model_signing)
{
    char *tmp = tu_tmpdir(), *key = make_key(tmp, "k.pem", false);
    char *m = tu_fmt("%s/model", tmp), *src = tu_fmt("%s/src", tmp), *cmd;
    cmd = tu_fmt("mkdir -p '%s/a' '%s/sub/dir' '%s/.git' '%s' && printf 1 > '%s/a/b' && "
                 "printf 22 > '%s/a.b' && printf 333 > '%s/a-c' && printf 4 > '%s/sub/dir/c' && "
                 "printf 5 > '%s/z' && printf g > '%s/.git/config' && printf s > '%s/config.json'",
                 m, m, m, src, m, m, m, m, m, m, src);
    sh(cmd);
    free(cmd);
    static const char *const params[] = {"quant=Q4_K_M", "imatrix=none"};
    ckpt_err err = {0};
    ck_assert_msg(sign(key, m, src, params, 2, &err) == CKPT_OK, "%s", err.msg);

    char *sig = tu_fmt("%s/model.sig", m), *payload;
    size_t plen;
    cJSON *st = split_bundle(sig, tmp, &payload, &plen);
    /* 1. openssl verifies the signature over the PAE */
    char *out = NULL;
    cmd = tu_fmt("openssl dgst -sha256 -verify '%s.pub' -signature '%s/sig.bin' '%s/pae.bin'",
                 key, tmp, tmp);
    ck_assert_int_eq(tu_run(cmd, &out, NULL), 0);
    ck_assert_ptr_nonnull(strstr(out, "Verified OK"));
    free(out), free(cmd);
    /* 2. the key hint is the SHA-256 of the PEM public key */
    char *pem = tu_fmt("%s/pub.pem", tmp), hex[65];
    cmd = tu_fmt("openssl pkey -pubin -in '%s.pub' -out '%s'", key, pem);
    sh(cmd);
    free(cmd);
    sha256sum(pem, hex);
    cJSON *b = load_json(sig);
    ck_assert_str_eq(str_at(cJSON_GetObjectItemCaseSensitive(
                                cJSON_GetObjectItemCaseSensitive(b, "verificationMaterial"),
                                "publicKey"), "hint"), hex);
    cJSON_Delete(b);
    /* 3. the statement, field by field (FORMATS.md 3.1) */
    ck_assert_str_eq(str_at(st, "_type"), "https://in-toto.io/Statement/v1");
    ck_assert_str_eq(str_at(st, "predicateType"), "https://model_signing/signature/v1.0");
    cJSON *subj = cJSON_GetObjectItemCaseSensitive(st, "subject");
    ck_assert_int_eq(cJSON_GetArraySize(subj), 1);
    ck_assert_str_eq(str_at(subj->child, "name"), "model");
    cJSON *pred = cJSON_GetObjectItemCaseSensitive(st, "predicate");
    cJSON *ser = cJSON_GetObjectItemCaseSensitive(pred, "serialization");
    ck_assert_str_eq(str_at(ser, "method"), "files");
    ck_assert_str_eq(str_at(ser, "hash_type"), "sha256");
    ck_assert(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(ser, "allow_symlinks")));
    cJSON *ign = cJSON_GetObjectItemCaseSensitive(ser, "ignore_paths");
    const char *want_ign[] = {".git", ".gitattributes", ".github", ".gitignore", "SHA256SUMS",
                              "model.sig"};
    ck_assert_int_eq(cJSON_GetArraySize(ign), 6);
    for (int i = 0; i < 6; i++)
        ck_assert_str_eq(cJSON_GetArrayItem(ign, i)->valuestring, want_ign[i]);
    /* resources in Python PurePosixPath order, digests as sha256sum says */
    const char *order[] = {"a/b", "a-c", "a.b", "sub/dir/c", "z"};
    cJSON *res = cJSON_GetObjectItemCaseSensitive(pred, "resources");
    ck_assert_int_eq(cJSON_GetArraySize(res), 5);
    uint8_t cat[5 * 32];
    for (int i = 0; i < 5; i++) {
        cJSON *r = cJSON_GetArrayItem(res, i);
        ck_assert_str_eq(str_at(r, "name"), order[i]);
        ck_assert_str_eq(str_at(r, "algorithm"), "sha256");
        char *f = tu_fmt("%s/%s", m, order[i]);
        sha256sum(f, hex);
        free(f);
        ck_assert_str_eq(str_at(r, "digest"), hex);
        for (int k = 0; k < 32; k++)
            sscanf(hex + 2 * k, "%2hhx", &cat[i * 32 + k]);
    }
    /* root = SHA-256 of the raw digests in listed order (EVP, not ckpt) */
    uint8_t root[32];
    unsigned rl;
    EVP_Digest(cat, sizeof cat, root, &rl, EVP_sha256(), NULL);
    char roothex[65];
    for (int k = 0; k < 32; k++)
        sprintf(roothex + 2 * k, "%02x", root[k]);
    ck_assert_str_eq(str_at(cJSON_GetObjectItemCaseSensitive(subj->child, "digest"), "sha256"),
                     roothex);
    /* provenance */
    cJSON *ck = cJSON_GetObjectItemCaseSensitive(pred, "ckpt");
    ck_assert_int_eq(cJSON_GetObjectItemCaseSensitive(ck, "version")->valueint, 1);
    cJSON *tool = cJSON_GetObjectItemCaseSensitive(ck, "tool");
    ck_assert_str_eq(str_at(tool, "name"), "ckpt");
    ck_assert_str_eq(str_at(tool, "version"), CKPT_VERSION);
    cJSON *pa = cJSON_GetObjectItemCaseSensitive(ck, "parameters");
    ck_assert_str_eq(str_at(pa, "quant"), "Q4_K_M");
    ck_assert_str_eq(str_at(pa, "imatrix"), "none");
    cJSON *so = cJSON_GetObjectItemCaseSensitive(ck, "source");
    ck_assert_str_eq(str_at(so, "name"), "src");
    cJSON *sr = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(so, "resources"), 0);
    ck_assert_str_eq(str_at(sr, "name"), "config.json");
    char *cj = tu_fmt("%s/config.json", src);
    sha256sum(cj, hex);
    ck_assert_str_eq(str_at(sr, "digest"), hex);
    /* 4. ckpt-verify agrees, and refuses another key */
    char *pub = tu_fmt("%s.pub", key), *other = make_key(tmp, "other.pem", false);
    char *opub = tu_fmt("%s.pub", other);
    ckpt_err_clear(&err);
    ck_assert_msg(verify(m, NULL, pub, NULL, &err) == CKPT_OK, "%s", err.msg);
    ckpt_err_clear(&err);
    ck_assert_int_eq(verify(m, NULL, opub, NULL, &err), CKPT_E_MISMATCH);
    ck_assert_ptr_nonnull(strstr(err.msg, "another key"));
    cJSON_Delete(st);
    tu_rmtree(tmp);
    free(tmp), free(key), free(m), free(src), free(sig), free(payload), free(pem), free(cj);
    free(pub), free(other), free(opub);
}
END_TEST

START_TEST(ed25519_and_single_files)
{
    char *tmp = tu_tmpdir(), *key = make_key(tmp, "ed.pem", true);
    char *a = tu_fmt("%s/a.gguf", tmp), *b = tu_fmt("%s/b.gguf", tmp), *cmd;
    put(tmp, "a.gguf", "not a GGUF file");
    put(tmp, "b.gguf", "second");
    ckpt_err err = {0};
    ck_assert_msg(sign(key, a, NULL, NULL, 0, &err) == CKPT_OK, "%s", err.msg);
    ck_assert_int_eq(sign(key, b, NULL, NULL, 0, &err), CKPT_OK);
    /* openssl verifies the Ed25519 signature over the PAE */
    char *sig = tu_fmt("%s.sig", a), *payload, *out = NULL;
    size_t plen;
    cJSON *st = split_bundle(sig, tmp, &payload, &plen);
    cmd = tu_fmt("openssl pkeyutl -verify -pubin -inkey '%s.pub' -rawin -in '%s/pae.bin' "
                 "-sigfile '%s/sig.bin'", key, tmp, tmp);
    ck_assert_int_eq(tu_run(cmd, &out, NULL), 0);
    ck_assert_ptr_nonnull(strstr(out, "Signature Verified Successfully"));
    free(out), free(cmd);
    /* a single file is signed the way model_signing signs one: resource "." */
    cJSON *res = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(st, "predicate"),
                                                  "resources");
    ck_assert_int_eq(cJSON_GetArraySize(res), 1);
    ck_assert_str_eq(str_at(res->child, "name"), ".");
    ck_assert_str_eq(str_at(cJSON_GetObjectItemCaseSensitive(st, "subject")->child, "name"),
                     "a.gguf");
    /* SHA256SUMS beside them holds both, and sha256sum -c agrees */
    cmd = tu_fmt("cd '%s' && sha256sum -c --strict SHA256SUMS && test $(wc -l < SHA256SUMS) = 2",
                 tmp);
    sh(cmd);
    free(cmd);
    char *pub = tu_fmt("%s.pub", key);
    ck_assert_int_eq(verify(a, NULL, pub, NULL, &err), CKPT_OK);
    ck_assert_int_eq(verify(b, NULL, pub, NULL, &err), CKPT_OK);
    /* the signature of a is not one of b */
    ckpt_err_clear(&err);
    ck_assert_int_eq(verify(b, sig, pub, NULL, &err), CKPT_E_MISMATCH);
    cJSON_Delete(st);
    tu_rmtree(tmp);
    free(tmp), free(key), free(a), free(b), free(sig), free(payload), free(pub);
}
END_TEST

START_TEST(sha256sums_with_escaped_names)
{
    char *tmp = tu_tmpdir(), *key = make_key(tmp, "k.pem", false);
    char *m = tu_fmt("%s/m", tmp), *cmd;
    mkdir(m, 0755);
    put(m, "plain", "p");
    put(m, "back\\slash", "b");
    put(m, "new\nline", "n");
    put(m, "space name", "s");
    ckpt_err err = {0};
    ck_assert_msg(sign(key, m, NULL, NULL, 0, &err) == CKPT_OK, "%s", err.msg);
    cmd = tu_fmt("cd '%s' && sha256sum -c --strict SHA256SUMS", m);
    char *out = NULL;
    ck_assert_int_eq(tu_run(cmd, &out, NULL), 0);
    ck_assert_ptr_nonnull(strstr(out, "back\\slash: OK"));
    free(out);
    /* the escaped lines are exactly what sha256sum itself writes */
    char *cmp = tu_fmt("cd '%s' && sha256sum -- plain 'back\\slash' \"$(printf 'new\\nline')\" "
                       "'space name' | sort > ../mine && sort SHA256SUMS > ../theirs && "
                       "cmp ../mine ../theirs", m);
    sh(cmp);
    put(m, "new\nline", "changed");
    ck_assert_int_eq(tu_run(cmd, NULL, NULL), 1);
    put(m, "new\nline", "n");
    put(m, "back\\slash", "B");
    ck_assert_int_eq(tu_run(cmd, NULL, NULL), 1);
    tu_rmtree(tmp);
    free(tmp), free(key), free(m), free(cmd), free(cmp);
}
END_TEST

/* ==== tamper sweep ==== */

static uint64_t rng(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* A byte range of a file that the sweep may flip. */
struct region {
    char *path;
    size_t off, len;
};

START_TEST(tamper_sweep)
{
    char *tmp = tu_tmpdir(), *key = make_key(tmp, "k.pem", false);
    char *m = tu_fmt("%s/m", tmp), *pub = tu_fmt("%s.pub", key);
    mkdir(m, 0755);
    uint64_t seed = 0x5eed5eed12345ull;
    static const char *const files[] = {"w1.bin", "w2.bin", "tok.json"};
    for (int f = 0; f < 3; f++) {
        char buf[700];
        for (size_t i = 0; i < sizeof buf - 1; i++)
            buf[i] = (char)('!' + rng(&seed) % 90);
        buf[sizeof buf - 1] = '\0';
        put(m, files[f], buf);
    }
    ckpt_err err = {0};
    ck_assert_int_eq(sign(key, m, NULL, NULL, 0, &err), CKPT_OK);
    ckpt_key *k = NULL;
    ck_assert_int_eq(ckpt_key_load_public(&k, pub, NULL), CKPT_OK);

    /* regions: the three files, and the payload and signature text of the bundle */
    struct region reg[5];
    for (int f = 0; f < 3; f++)
        reg[f] = (struct region){tu_fmt("%s/%s", m, files[f]), 0, 699};
    char *sig = tu_fmt("%s/model.sig", m);
    size_t blen;
    char *bundle = tu_read_file(sig, &blen);
    const char *p = strstr(bundle, "\"payload\":\"") + 11, *s = strstr(bundle, "\"sig\":\"") + 7;
    reg[3] = (struct region){tu_fmt("%s", sig), (size_t)(p - bundle), strcspn(p, "\"")};
    reg[4] = (struct region){tu_fmt("%s", sig), (size_t)(s - bundle), strcspn(s, "\"")};
    free(bundle);
    size_t total = 0;
    for (int r = 0; r < 5; r++)
        total += reg[r].len;

    int by_code[3] = {0};
    for (int flip = 0; flip < 1000; flip++) {
        size_t at = rng(&seed) % total;
        int r = 0;
        while (at >= reg[r].len)
            at -= reg[r++].len;
        uint8_t x = (uint8_t)(1 + rng(&seed) % 255);
        size_t n;
        uint8_t *data = tu_read_file(reg[r].path, &n);
        data[reg[r].off + at] ^= x;
        ck_assert_int_eq(tu_write_file(reg[r].path, data, n), 0);
        struct ckpt_check_opts o = {.artifact = m, .key = k, .threads = 1};
        struct ckpt_check_report rep = {0};
        ckpt_err e = {0};
        ckpt_status st = ckpt_check_run(&o, &rep, &e);
        ckpt_check_report_free(&rep);
        int code = ckpt_status_exit_code(st);
        ck_assert_msg(code != 0, "flip %d (region %d, byte %zu, ^%02x) not detected", flip, r,
                      at, x);
        if (r < 3) /* a changed model byte is a finished check that failed */
            ck_assert_msg(st == CKPT_E_MISMATCH, "flip %d: %s", flip, e.msg);
        by_code[code]++;
        data[reg[r].off + at] ^= x;
        ck_assert_int_eq(tu_write_file(reg[r].path, data, n), 0);
        free(data);
    }
    ck_assert_int_eq(by_code[1] + by_code[2], 1000);
    ck_assert_int_gt(by_code[1], 0);
    /* all restored: verifies again; a wrong key does not */
    ck_assert_int_eq(verify(m, NULL, pub, NULL, &err), CKPT_OK);
    char *other = make_key(tmp, "o.pem", false), *opub = tu_fmt("%s.pub", other);
    ck_assert_int_eq(verify(m, NULL, opub, NULL, &err), CKPT_E_MISMATCH);
    ckpt_key_free(k);
    for (int r = 0; r < 5; r++)
        free(reg[r].path);
    tu_rmtree(tmp);
    free(tmp), free(key), free(m), free(pub), free(sig), free(other), free(opub);
}
END_TEST

/* ==== GGUF parameters in the provenance ==== */

static cJSON *signed_ckpt_field(const char *key, const char *artifact, const char *sig)
{
    ckpt_err err = {0};
    ck_assert_msg(sign(key, artifact, NULL, NULL, 0, &err) == CKPT_OK, "%s", err.msg);
    struct ckpt_manifest m = {0};
    bool no_hint;
    ck_assert_int_eq(ckpt_check_bundle(sig, NULL, &m, &no_hint, NULL), CKPT_OK);
    cJSON *ck = cJSON_DetachItemFromObjectCaseSensitive(m.ckpt, "gguf");
    ckpt_manifest_free(&m);
    ck_assert_ptr_nonnull(ck);
    return ck;
}

START_TEST(gguf_parameters_are_recorded)
{
    char *tmp = tu_tmpdir(), *key = make_key(tmp, "k.pem", false);
    /* the golden Q4_K_M file: counts per type as llama.cpp's listing gives them */
    char *src = tu_data("golden/tiny-mistral/quant-Q4_K_M.gguf");
    char *q = tu_fmt("%s/q.gguf", tmp), *qsig = tu_fmt("%s/q.gguf.sig", tmp);
    char *cmd = tu_fmt("cp '%s' '%s'", src, q);
    sh(cmd);
    cJSON *g = signed_ckpt_field(key, q, qsig);
    ck_assert_int_eq(cJSON_GetArraySize(g), 1);
    cJSON *e = g->child;
    ck_assert_str_eq(str_at(e, "name"), "q.gguf");
    ck_assert_int_eq(cJSON_GetObjectItemCaseSensitive(e, "version")->valueint, 3);
    ck_assert_int_eq(cJSON_GetObjectItemCaseSensitive(e, "file_type")->valueint, 15);
    char *tsv = tu_data("golden/tiny-mistral/quant-Q4_K_M.tensors.tsv");
    char *text = tu_read_file(tsv, NULL);
    int want[64] = {0}, n_types = 0;
    for (char *line = text; line && *line;) {
        int t = atoi(strchr(line, '\t') + 1);
        if (t >= 0 && t < 64 && want[t]++ == 0)
            n_types++;
        line = strchr(line, '\n');
        line = line ? line + 1 : NULL;
    }
    cJSON *types = cJSON_GetObjectItemCaseSensitive(e, "tensor_types");
    ck_assert_int_eq(cJSON_GetArraySize(types), n_types);
    for (int t = 0; t < 64; t++)
        if (want[t])
            ck_assert_int_eq(cJSON_GetObjectItemCaseSensitive(types, ckpt_type_name((uint32_t)t))
                                 ->valueint, want[t]);
    cJSON_Delete(g);

    /* a GGUF with importance-matrix and source keys, made with the writer */
    char *w = tu_fmt("%s/imx.gguf", tmp), *wsig = tu_fmt("%s/imx.gguf.sig", tmp);
    ckpt_gguf_writer *gw;
    int64_t ne[1] = {32};
    float data[32] = {0};
    ck_assert_int_eq(ckpt_gguf_writer_new(&gw, w, false, NULL), CKPT_OK);
    ck_assert_int_eq(ckpt_gguf_writer_set_u32(gw, "general.file_type", 7, NULL), CKPT_OK);
    ck_assert_int_eq(ckpt_gguf_writer_set_str(gw, "general.name", "x", NULL), CKPT_OK);
    ck_assert_int_eq(ckpt_gguf_writer_set_str(gw, "general.source.url", "https://example.org/m",
                                              NULL), CKPT_OK);
    ck_assert_int_eq(ckpt_gguf_writer_set_str(gw, "quantize.imatrix.file", "imatrix.dat", NULL),
                     CKPT_OK);
    ck_assert_int_eq(ckpt_gguf_writer_set_i32(gw, "quantize.imatrix.entries_count", 28, NULL),
                     CKPT_OK);
    ck_assert_int_eq(ckpt_gguf_writer_add_tensor(gw, "t", CKPT_TYPE_F32, 1, ne, NULL), CKPT_OK);
    ck_assert_int_eq(ckpt_gguf_writer_begin(gw, NULL), CKPT_OK);
    ck_assert_int_eq(ckpt_gguf_writer_write(gw, data, sizeof data, NULL), CKPT_OK);
    ck_assert_int_eq(ckpt_gguf_writer_finish(gw, NULL), CKPT_OK);
    g = signed_ckpt_field(key, w, wsig);
    e = g->child;
    ck_assert_int_eq(cJSON_GetObjectItemCaseSensitive(e, "file_type")->valueint, 7);
    cJSON *md = cJSON_GetObjectItemCaseSensitive(e, "metadata");
    ck_assert_int_eq(cJSON_GetArraySize(md), 3); /* general.name is not provenance */
    ck_assert_str_eq(str_at(md, "general.source.url"), "https://example.org/m");
    ck_assert_str_eq(str_at(md, "quantize.imatrix.file"), "imatrix.dat");
    ck_assert_int_eq(cJSON_GetObjectItemCaseSensitive(md, "quantize.imatrix.entries_count")
                         ->valueint, 28);
    cJSON_Delete(g);
    /* a file that says GGUF but is not one is refused, not signed half-described */
    put(tmp, "bad.gguf", "GGUFnot really");
    char *bad = tu_fmt("%s/bad.gguf", tmp);
    ckpt_err err = {0};
    ck_assert_int_ne(sign(key, bad, NULL, NULL, 0, &err), CKPT_OK);
    ck_assert_ptr_nonnull(strstr(err.msg, "bad.gguf"));
    tu_rmtree(tmp);
    free(tmp), free(key), free(src), free(q), free(qsig), free(cmd), free(tsv), free(text);
    free(w), free(wsig), free(bad);
}
END_TEST

/* ==== keys ==== */

START_TEST(keygen_files_and_passphrases)
{
    char *tmp = tu_tmpdir(), *cmd, *out = NULL, *errout = NULL;
    char *tool = tu_tool("ckpt-sign");
    put(tmp, "pass", "correct horse\n");
    cmd = tu_fmt("cd '%s' && '%s' --keygen --passphrase-file pass -o enc.pem", tmp, tool);
    sh(cmd);
    free(cmd);
    char *enc = tu_fmt("%s/enc.pem", tmp);
    struct stat st;
    ck_assert_int_eq(stat(enc, &st), 0);
    ck_assert_int_eq(st.st_mode & 0777, 0600);
    /* openssl reads it with the passphrase, as an EC P-256 key */
    cmd = tu_fmt("openssl pkey -in '%s' -passin pass:'correct horse' -noout -text", enc);
    ck_assert_int_eq(tu_run(cmd, &out, NULL), 0);
    ck_assert_ptr_nonnull(strstr(out, "P-256"));
    free(out), free(cmd);
    ckpt_key *k = NULL;
    ckpt_err err = {0};
    ck_assert_int_eq(ckpt_key_load_private(&k, enc, NULL, &err), CKPT_E_FORMAT);
    ck_assert_ptr_nonnull(strstr(err.msg, "encrypted"));
    ckpt_err_clear(&err);
    ck_assert_int_eq(ckpt_key_load_private(&k, enc, "wrong", &err), CKPT_E_FORMAT);
    ck_assert_int_eq(ckpt_key_load_private(&k, enc, "correct horse", NULL), CKPT_OK);
    ckpt_key_free(k);
    /* no overwrite without -f; the environment variable works too */
    cmd = tu_fmt("cd '%s' && '%s' --keygen -o enc.pem", tmp, tool);
    ck_assert_int_eq(tu_run(cmd, NULL, &errout), 2);
    ck_assert_ptr_nonnull(strstr(errout, "already exists"));
    free(errout), free(cmd);
    cmd = tu_fmt("cd '%s' && mkdir m && echo x > m/f && CKPT_PW='correct horse' '%s' -k enc.pem "
                 "--passphrase-env CKPT_PW m && test -f m/model.sig", tmp, tool);
    sh(cmd);
    free(cmd);
    cmd = tu_fmt("cd '%s' && '%s' -k enc.pem --passphrase-file pass m", tmp, tool);
    ck_assert_int_eq(tu_run(cmd, NULL, &errout), 2);
    ck_assert_ptr_nonnull(strstr(errout, "model.sig: already exists"));
    free(errout), free(cmd);
    tu_rmtree(tmp);
    free(tmp), free(enc), free(tool);
}
END_TEST

Suite *sign_suite(void)
{
    Suite *s = suite_create("sign");
    TCase *tc = tcase_create("vectors");
    tcase_add_loop_test(tc, vector_accepts_and_rejects, 0, sizeof vecs / sizeof vecs[0]);
    suite_add_tcase(s, tc);
    tc = tcase_create("oracles");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, openssl_verifies_and_statement_is_model_signing);
    tcase_add_test(tc, ed25519_and_single_files);
    tcase_add_test(tc, sha256sums_with_escaped_names);
    tcase_add_test(tc, keygen_files_and_passphrases);
    tcase_add_test(tc, gguf_parameters_are_recorded);
    suite_add_tcase(s, tc);
    tc = tcase_create("tamper");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, tamper_sweep);
    suite_add_tcase(s, tc);
    return s;
}
