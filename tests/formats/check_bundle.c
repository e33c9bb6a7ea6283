/*
 * check_bundle.c - hostile input for the signature parsers: the strict JSON
 * layer, base64, the Sigstore bundle and the in-toto statement.  Hostile
 * statements are really signed (with a key made here), so they get past
 * the signature and reach the statement checks; none may verify, none may
 * make the verifier read a file outside the artifact directory.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <sys/stat.h>

#include "formats/b64.h"
#include "formats/bundle.h"
#include "formats/json_strict.h"
#include "formats/manifest.h"
#include "formats/sums.h"
#include "verify/check.h"
#include "verify/key.h"
#include "testutil.h"

/* ==== strict JSON ==== */

/* Through the bundle parser, as a signature file would go. */
static ckpt_status parse(const char *text, char *msg)
{
    struct ckpt_bundle b = {0};
    ckpt_err err = {0};
    ckpt_status s = ckpt_bundle_parse(text, strlen(text), "t.json", &b, &err);
    ckpt_bundle_free(&b);
    if (msg)
        strcpy(msg, err.msg);
    return s;
}

START_TEST(json_refuses_what_cjson_accepts)
{
    static const struct {
        const char *text, *msg;
    } bad[] = {
        {"{\"a\":1,\"a\":2}", "duplicate key 'a'"},
        {"{\"x\":{\"b\":[{\"k\":1,\"k\":1}]}}", "duplicate key 'k'"},
        {"{\"a\":\"x\\u0000y\"}", "\\u0000"},
        {"{\"a\\u0000\":1}", "\\u0000"},
        {"{\"a\":\"tab\there\"}", "control character"},
        {"{\"a\":\"\xc3\x28\"}", "invalid UTF-8"},
        {"{\"a\":\"\xed\xa0\x80\"}", "invalid UTF-8"}, /* a surrogate */
        {"{\"a\":\"\xc0\xaf\"}", "invalid UTF-8"},     /* overlong '/' */
        {"{\"a\":1} x", "trailing characters"},
        {"{\"a\":1}{}", "trailing characters"},
        {"{\"a\":", "invalid JSON"},
        {"", "no JSON value"},
        {"[1,2,]", "invalid JSON"},
    };
    char msg[CKPT_ERR_MSG_LEN];
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ck_assert_msg(parse(bad[i].text, msg) == CKPT_E_FORMAT, "accepted: %s", bad[i].text);
        ck_assert_msg(strstr(msg, bad[i].msg) && strstr(msg, "t.json"), "%s -> %s", bad[i].text,
                      msg);
    }
    /* well-formed JSON passes the JSON layer and fails on content only */
    ck_assert_int_eq(parse("{\"mediaType\":\"\\u00e9\xc3\xa9\",\"b\":[1,{\"a\":2}]} \n", msg),
                     CKPT_E_FORMAT);
    ck_assert_ptr_nonnull(strstr(msg, "verificationMaterial"));
    /* a NUL byte inside the given length */
    struct ckpt_bundle b = {0};
    ck_assert_int_eq(ckpt_bundle_parse("{\"a\":1}\0", 8, "t", &b, NULL), CKPT_E_FORMAT);
    /* deep nesting fails cleanly (cJSON's nesting limit), no stack overflow */
    size_t depth = 5000;
    char *deep = malloc(2 * depth + 1);
    memset(deep, '[', depth);
    memset(deep + depth, ']', depth);
    deep[2 * depth] = '\0';
    ck_assert_int_eq(parse(deep, NULL), CKPT_E_FORMAT);
    free(deep);
}
END_TEST

/* ==== base64 ==== */

START_TEST(base64_is_strict_and_round_trips)
{
    uint8_t data[300];
    for (int i = 0; i < 300; i++)
        data[i] = (uint8_t)(i * 7 + 3);
    for (size_t n = 0; n <= 300; n += 1 + n / 3) {
        char *enc;
        uint8_t *dec;
        size_t dn;
        ck_assert_int_eq(ckpt_b64_encode(data, n, &enc, NULL), CKPT_OK);
        ck_assert_uint_eq(strlen(enc), (n + 2) / 3 * 4);
        ck_assert_int_eq(ckpt_b64_decode(enc, strlen(enc), "t", &dec, &dn, NULL), CKPT_OK);
        ck_assert_uint_eq(dn, n);
        ck_assert(n == 0 || memcmp(dec, data, n) == 0);
        free(enc);
        free(dec);
    }
    uint8_t *d;
    size_t dn;
    ck_assert_int_eq(ckpt_b64_decode("YQ==", 4, "t", &d, &dn, NULL), CKPT_OK); /* "a" */
    ck_assert_uint_eq(dn, 1);
    ck_assert_int_eq(d[0], 'a');
    free(d);
    static const char *const bad[] = {"YQ=", "YR==", "YWI=x", "Y===", "=YWI", "YW=I", "YW I",
                                      "YWJ-", "YWJ_", "YWJ\n"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_msg(ckpt_b64_decode(bad[i], strlen(bad[i]), "t", &d, &dn, NULL) ==
                          CKPT_E_FORMAT, "accepted %s", bad[i]);
}
END_TEST

/* ==== model_signing ordering and names ==== */

START_TEST(names_sort_like_purepath_and_stay_inside)
{
    /* sorted(..., key=PurePosixPath) in Python */
    static const char *const order[] = {"A", "a/b", "a/b/c", "a-c", "a.b", "sub/dir/c", "z"};
    for (size_t i = 0; i + 1 < 7; i++)
        for (size_t k = i + 1; k < 7; k++)
            ck_assert_msg(ckpt_manifest_name_cmp(order[i], order[k]) < 0, "%s !< %s", order[i],
                          order[k]);
    static const char *const unsafe[] = {"", ".", "..", "../x", "a/../../x", "/etc/passwd",
                                         "a//b", "./a", "a/", "a/./b", "a/.."};
    for (size_t i = 0; i < sizeof unsafe / sizeof unsafe[0]; i++)
        ck_assert_msg(!ckpt_manifest_name_safe(unsafe[i]), "safe: %s", unsafe[i]);
    ck_assert(ckpt_manifest_name_safe("a..b/.c/d.."));
}
END_TEST

START_TEST(sums_lines_round_trip)
{
    uint8_t d[32] = {1, 2, 3};
    static const char *const names[] = {"plain", "b\\s", "n\nl", "c\rr", "sp ace"};
    char *all = calloc(1, 1);
    for (int i = 0; i < 5; i++) {
        char *line;
        ck_assert_int_eq(ckpt_sums_line(names[i], d, &line, NULL), CKPT_OK);
        ck_assert_int_eq(line[0] == '\\', i >= 1 && i <= 3);
        all = realloc(all, strlen(all) + strlen(line) + 1);
        strcat(all, line);
        free(line);
    }
    struct ckpt_sums_entry *e;
    size_t n;
    ck_assert_int_eq(ckpt_sums_parse(all, strlen(all), "S", &e, &n, NULL), CKPT_OK);
    ck_assert_uint_eq(n, 5);
    for (int i = 0; i < 5; i++)
        ck_assert_str_eq(e[i].name, names[i]);
    ckpt_sums_free(e, n);
    free(all);
    ck_assert_int_eq(ckpt_sums_parse("xyz  a\n", 7, "S", &e, &n, NULL), CKPT_E_FORMAT);
}
END_TEST

/* ==== bundles ==== */

/* A real bundle of `stmt` signed with k (PAE and all). */
static char *signed_bundle(const ckpt_key *k, const char *stmt)
{
    uint8_t *pae, *sig;
    size_t pl, sl;
    char hint[65], *json;
    ck_assert_int_eq(ckpt_bundle_pae(CKPT_DSSE_INTOTO_TYPE, (const uint8_t *)stmt, strlen(stmt),
                                     &pae, &pl, NULL), CKPT_OK);
    ck_assert_int_eq(ckpt_key_sign(k, pae, pl, &sig, &sl, NULL), CKPT_OK);
    ck_assert_int_eq(ckpt_key_hint(k, hint, NULL), CKPT_OK);
    ck_assert_int_eq(ckpt_bundle_to_json((const uint8_t *)stmt, strlen(stmt), sig, sl, hint,
                                         &json, NULL), CKPT_OK);
    free(pae);
    free(sig);
    return json;
}

#define DIG_A "ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb" /* "a" */
#define ROOT_A "bf5d3affb73efd2ec6c36ad3112dd933efed63c4e1cbffcfa88e2759c144f2d8" /* its root */

START_TEST(bundle_structure_is_checked)
{
    static const struct {
        const char *json, *msg;
        ckpt_status code;
    } bad[] = {
        {"{\"mediaType\":5}", "mediaType is not a string", CKPT_E_FORMAT},
        {"[]", "not a JSON object", CKPT_E_FORMAT},
        {"{\"mediaType\":\"m\"}", "no \"verificationMaterial\"", CKPT_E_FORMAT},
        {"{\"mediaType\":\"m\",\"verificationMaterial\":{}}", "not signed with a key",
         CKPT_E_UNSUPPORTED},
        {"{\"mediaType\":\"m\",\"verificationMaterial\":{\"publicKey\":{\"hint\":3}}}",
         "hint is not", CKPT_E_FORMAT},
        {"{\"mediaType\":\"m\",\"verificationMaterial\":{\"publicKey\":{}},\"dsseEnvelope\":[]}",
         "dsseEnvelope is not an object", CKPT_E_FORMAT},
        {"{\"mediaType\":\"m\",\"verificationMaterial\":{\"publicKey\":{}},\"dsseEnvelope\":"
         "{\"payload\":\"YQ==\",\"payloadType\":\"t\",\"signatures\":[]}}",
         "exactly one signature, found 0", CKPT_E_FORMAT},
        {"{\"mediaType\":\"m\",\"verificationMaterial\":{\"publicKey\":{}},\"dsseEnvelope\":"
         "{\"payload\":\"YQ==\",\"payloadType\":\"t\",\"signatures\":[{\"sig\":\"YQ==\"},"
         "{\"sig\":\"YQ==\"}]}}", "exactly one signature, found 2", CKPT_E_FORMAT},
        {"{\"mediaType\":\"m\",\"verificationMaterial\":{\"publicKey\":{}},\"dsseEnvelope\":"
         "{\"payload\":\"YQ=\",\"payloadType\":\"t\",\"signatures\":[{\"sig\":\"YQ==\"}]}}",
         "payload: base64 length", CKPT_E_FORMAT},
        {"{\"mediaType\":\"m\",\"verificationMaterial\":{\"publicKey\":{}},\"dsseEnvelope\":"
         "{\"payload\":\"YQ==\",\"payloadType\":\"t\",\"signatures\":[{\"sig\":\"Y!==\"}]}}",
         "invalid base64", CKPT_E_FORMAT},
        {"{\"mediaType\":\"m\",\"verificationMaterial\":{\"publicKey\":{}},\"dsseEnvelope\":"
         "{\"payload\":\"YQ==\",\"payloadType\":\"t\",\"signatures\":[{\"sig\":\"YQ==\","
         "\"keyid\":7}]}}", "keyid is not", CKPT_E_FORMAT},
        {"{\"mediaType\":\"m\",\"mediaType\":\"m\"}", "duplicate key", CKPT_E_FORMAT},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct ckpt_bundle b = {0};
        ckpt_err err = {0};
        ckpt_status s = ckpt_bundle_parse(bad[i].json, strlen(bad[i].json), "x.sig", &b, &err);
        ck_assert_msg(s == bad[i].code && strstr(err.msg, bad[i].msg) && strstr(err.msg, "x.sig"),
                      "case %zu: %d %s", i, s, err.msg);
        ckpt_bundle_free(&b);
    }
    /* a size beyond the cap is refused before a byte is read */
    struct ckpt_bundle b = {0};
    ck_assert_int_eq(ckpt_bundle_parse("{}", CKPT_BUNDLE_MAX_BYTES + 1, "x.sig", &b, NULL),
                     CKPT_E_RANGE);
}
END_TEST

START_TEST(truncated_bundles_never_parse)
{
    ckpt_key *k;
    ck_assert_int_eq(ckpt_key_generate(&k, false, NULL), CKPT_OK);
    char *json = signed_bundle(k, "{\"any\":\"statement\"}");
    size_t n = strlen(json) - 1; /* without the newline */
    struct ckpt_bundle b = {0};
    ck_assert_int_eq(ckpt_bundle_parse(json, n, "x.sig", &b, NULL), CKPT_OK);
    ck_assert_str_eq((char *)b.payload, "{\"any\":\"statement\"}");
    ckpt_bundle_free(&b);
    for (size_t len = 0; len < n; len++) {
        ckpt_err err = {0};
        ck_assert_msg(ckpt_bundle_parse(json, len, "x.sig", &b, &err) != CKPT_OK, "prefix %zu",
                      len);
        ckpt_bundle_free(&b);
    }
    free(json);
    ckpt_key_free(k);
}
END_TEST

/* Sign `stmt`, write it as the signature of a directory holding file "a"
 * (content "a") and run the whole check; returns the status. */
static ckpt_status check_statement(const char *stmt, const char *media, char *msg)
{
    char *tmp = tu_tmpdir(), *m = tu_fmt("%s/m", tmp), *pub = tu_fmt("%s/k.pub", tmp);
    char *priv = tu_fmt("%s/k.pem", tmp), *sig = tu_fmt("%s/m/model.sig", tmp);
    char *secret = tu_fmt("%s/secret", tmp), *a = tu_fmt("%s/m/a", tmp);
    mkdir(m, 0755);
    ck_assert_int_eq(tu_write_file(a, "a", 1), 0);
    ck_assert_int_eq(tu_write_file(secret, "a", 1), 0); /* same bytes, outside */
    ckpt_key *k, *pk;
    ck_assert_int_eq(ckpt_key_generate(&k, false, NULL), CKPT_OK);
    ck_assert_int_eq(ckpt_key_write(k, priv, pub, NULL, false, NULL), CKPT_OK);
    char *json = signed_bundle(k, stmt);
    if (media) {
        char *at = strstr(json, CKPT_BUNDLE_MEDIA_TYPE);
        memcpy(at, media, strlen(media)); /* same length */
    }
    ck_assert_int_eq(tu_write_file(sig, json, strlen(json)), 0);
    ck_assert_int_eq(ckpt_key_load_public(&pk, pub, NULL), CKPT_OK);
    struct ckpt_check_opts o = {.artifact = m, .key = pk, .threads = 1};
    struct ckpt_check_report r = {0};
    ckpt_err err = {0};
    ckpt_status s = ckpt_check_run(&o, &r, &err);
    strcpy(msg, err.msg);
    ckpt_check_report_free(&r);
    ckpt_key_free(k);
    ckpt_key_free(pk);
    tu_rmtree(tmp);
    free(tmp), free(m), free(pub), free(priv), free(sig), free(secret), free(a), free(json);
    return s;
}

#define STMT_HEAD "{\"_type\":\"https://in-toto.io/Statement/v1\","
#define SUBJ "\"subject\":[{\"name\":\"m\",\"digest\":{\"sha256\":\"" ROOT_A "\"}}],"
#define PTYPE "\"predicateType\":\"https://model_signing/signature/v1.0\","
#define SER "\"serialization\":{\"method\":\"files\",\"hash_type\":\"sha256\"," \
            "\"allow_symlinks\":false,\"ignore_paths\":[\"model.sig\"]}"
#define RES(name) "\"resources\":[{\"name\":\"" name "\",\"algorithm\":\"sha256\",\"digest\":\"" \
                  DIG_A "\"}]"

START_TEST(hostile_statements_are_refused)
{
    char msg[CKPT_ERR_MSG_LEN];
    /* the well-formed statement verifies: the cases below differ from it in one thing */
    const char *good = STMT_HEAD SUBJ PTYPE "\"predicate\":{" SER "," RES("a") "}}";
    ck_assert_msg(check_statement(good, NULL, msg) == CKPT_OK, "%s", msg);

    static const struct {
        const char *stmt, *msg;
        ckpt_status code;
    } bad[] = {
        {STMT_HEAD "\"subject\":[{\"name\":\"m\",\"digest\":{\"sha256\":\"" ROOT_A "\"}},"
                   "{\"name\":\"n\",\"digest\":{\"sha256\":\"" ROOT_A "\"}}]," PTYPE
                   "\"predicate\":{" SER "," RES("a") "}}",
         "exactly one subject, found 2", CKPT_E_FORMAT},
        {STMT_HEAD "\"subject\":[]," PTYPE "\"predicate\":{" SER "," RES("a") "}}",
         "exactly one subject, found 0", CKPT_E_FORMAT},
        {STMT_HEAD SUBJ PTYPE "\"predicate\":{" SER "," RES("../secret") "}}", "not a relative",
         CKPT_E_FORMAT},
        {STMT_HEAD SUBJ PTYPE "\"predicate\":{" SER "," RES("/etc/passwd") "}}",
         "not a relative", CKPT_E_FORMAT},
        {STMT_HEAD SUBJ PTYPE "\"predicate\":{" SER "," RES("a/../../secret") "}}",
         "not a relative", CKPT_E_FORMAT},
        {STMT_HEAD SUBJ PTYPE "\"predicate\":{" SER ",\"resources\":[{\"name\":\"a\","
                   "\"algorithm\":\"sha256\",\"digest\":\"" DIG_A "\"},{\"name\":\"a\","
                   "\"algorithm\":\"sha256\",\"digest\":\"" DIG_A "\"}]}}",
         "listed twice", CKPT_E_FORMAT},
        {STMT_HEAD SUBJ PTYPE "\"predicate\":{" SER ",\"resources\":[{\"name\":\"a\","
                   "\"algorithm\":\"sha256\",\"digest\":\"" DIG_A "\",\"digest\":\"x\"}]}}",
         "duplicate key", CKPT_E_FORMAT},
        {STMT_HEAD SUBJ PTYPE "\"predicate\":{" SER ",\"resources\":[{\"name\":\"a\","
                   "\"algorithm\":\"sha256\",\"digest\":\"CA978112\"}]}}",
         "64 lowercase hex", CKPT_E_FORMAT},
        {STMT_HEAD SUBJ PTYPE "\"predicate\":{" SER ",\"resources\":{}}}", "not an array",
         CKPT_E_FORMAT},
        {STMT_HEAD SUBJ PTYPE "\"predicate\":{" SER ",\"resources\":[{\"name\":7}]}}",
         "name is not a string", CKPT_E_FORMAT},
        {STMT_HEAD SUBJ PTYPE "\"predicate\":{" SER ",\"resources\":[{\"name\":\"a\\u0000b\","
                   "\"algorithm\":\"sha256\",\"digest\":\"" DIG_A "\"}]}}",
         "\\u0000", CKPT_E_FORMAT},
        {STMT_HEAD SUBJ "\"predicateType\":\"https://model_signing/Digests/v0.1\","
                   "\"predicate\":{" SER "," RES("a") "}}", "predicateType", CKPT_E_UNSUPPORTED},
        {"{\"_type\":\"https://in-toto.io/Statement/v0.1\"," SUBJ PTYPE "\"predicate\":{" SER
         "," RES("a") "}}", "_type", CKPT_E_UNSUPPORTED},
        {STMT_HEAD SUBJ PTYPE "\"predicate\":{\"serialization\":{\"method\":\"shards\","
                   "\"hash_type\":\"sha256\",\"allow_symlinks\":false}," RES("a") "}}",
         "method", CKPT_E_UNSUPPORTED},
        {STMT_HEAD SUBJ PTYPE "\"predicate\":{" SER ",\"resources\":[{\"name\":\"a\","
                   "\"algorithm\":\"sha512\",\"digest\":\"" DIG_A "\"}]}}", "algorithm",
         CKPT_E_UNSUPPORTED},
        {STMT_HEAD "\"subject\":[{\"name\":\"m\",\"digest\":{\"sha256\":\"" DIG_A "\"}}],"
                   PTYPE "\"predicate\":{" SER "," RES("a") "}}",
         "does not match the listed resources", CKPT_E_MISMATCH},
        {STMT_HEAD SUBJ PTYPE "\"predicate\":{" SER "," RES("a") "}} trailing",
         "trailing characters", CKPT_E_FORMAT},
        {STMT_HEAD SUBJ PTYPE "\"predicate\":{" SER "," RES("a") "}", "invalid JSON",
         CKPT_E_FORMAT},
        {STMT_HEAD SUBJ PTYPE "\"predicate\":{" SER "," RES(".") "}}", "single file",
         CKPT_E_MISMATCH},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ckpt_status s = check_statement(bad[i].stmt, NULL, msg);
        ck_assert_msg(s == bad[i].code && strstr(msg, bad[i].msg), "case %zu: %s (%d) %s", i,
                      ckpt_strstatus(s), s, msg);
    }
    /* a wrong media type (same length, so the rest is untouched) */
    ck_assert_int_eq(check_statement(good, "application/vnd.dev.sigstore.bundle.v0.2+json", msg),
                     CKPT_E_UNSUPPORTED);
    ck_assert_ptr_nonnull(strstr(msg, "media type"));
}
END_TEST

START_TEST(huge_signature_file_is_refused_unread)
{
    char *tmp = tu_tmpdir(), *m = tu_fmt("%s/m", tmp), *sig = tu_fmt("%s/m/model.sig", tmp);
    mkdir(m, 0755);
    FILE *f = fopen(sig, "w");
    ck_assert_ptr_nonnull(f);
    /* sparse: the size is what a hostile file claims, nothing is there */
    ck_assert_int_eq(fseek(f, (long)CKPT_BUNDLE_MAX_BYTES + 16, SEEK_SET), 0);
    fputc('}', f);
    fclose(f);
    struct ckpt_manifest man = {0};
    bool no_hint;
    ckpt_err err = {0};
    ck_assert_int_eq(ckpt_check_bundle(sig, NULL, &man, &no_hint, &err), CKPT_E_RANGE);
    ck_assert_ptr_nonnull(strstr(err.msg, "too large"));
    ckpt_manifest_free(&man);
    tu_rmtree(tmp);
    free(tmp), free(m), free(sig);
}
END_TEST

Suite *bundle_suite(void)
{
    Suite *s = suite_create("bundle");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, base64_is_strict_and_round_trips);
    tcase_add_test(tc, names_sort_like_purepath_and_stay_inside);
    tcase_add_test(tc, sums_lines_round_trip);
    suite_add_tcase(s, tc);
    tc = tcase_create("corrupt");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, json_refuses_what_cjson_accepts);
    tcase_add_test(tc, bundle_structure_is_checked);
    tcase_add_test(tc, truncated_bundles_never_parse);
    tcase_add_test(tc, hostile_statements_are_refused);
    tcase_add_test(tc, huge_signature_file_is_refused_unread);
    suite_add_tcase(s, tc);
    return s;
}
