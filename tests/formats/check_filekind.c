/*
 * check_filekind.c - formats/filekind.c: the kind of each file a hub
 * download and ckpt itself leave behind, told from its bytes (the files of
 * tests/data/models as the hub serves them, llama.cpp's GGUFs in
 * tests/data/golden), and the messages a tool gives for the wrong one.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "formats/filekind.h"
#include "testutil.h"

static const struct {
    const char *rel;
    ckpt_file_kind kind;
} data_files[] = {
    {"models/tiny-mistral", CKPT_KIND_DIRECTORY},
    {"models/tiny-mistral/model.safetensors", CKPT_KIND_SAFETENSORS},
    {"models/tiny-mistral/config.json", CKPT_KIND_HF_CONFIG},
    {"models/tiny-mixtral/config.json", CKPT_KIND_HF_CONFIG},
    {"models/tiny-mistral/tokenizer.json", CKPT_KIND_TOKENIZER_JSON},
    {"models/tiny-mistral/tokenizer_config.json", CKPT_KIND_TOKENIZER_CONFIG},
    {"models/tiny-mistral/tokenizer.model", CKPT_KIND_SPM_MODEL},
    {"models/tiny-mixtral/tokenizer.model", CKPT_KIND_SPM_MODEL},
    {"models/tiny-mistral/generation_config.json", CKPT_KIND_JSON},
    {"models/README.md", CKPT_KIND_TEXT},
    {"golden/tiny-mistral/convert-f16.gguf", CKPT_KIND_GGUF},
    {"golden/tiny-mixtral/quant-Q4_K_M.gguf", CKPT_KIND_GGUF},
    {"golden/tiny-mistral/SHA256SUMS", CKPT_KIND_TEXT},
    {"golden/tiny-mistral/imatrix.dat", CKPT_KIND_UNKNOWN},
};

START_TEST(test_kind_of_data_files)
{
    char *path = tu_data(data_files[_i].rel);
    ckpt_file_kind kind = CKPT_KIND_COUNT;
    ckpt_err err = {0};
    ck_assert_int_eq(ckpt_file_sniff(path, &kind, &err), CKPT_OK);
    ck_assert_msg(kind == data_files[_i].kind, "%s: kind %s, want %s", data_files[_i].rel,
                  ckpt_file_kind_name(kind), ckpt_file_kind_name(data_files[_i].kind));
    free(path);
}
END_TEST

/* Bytes written by other tools: a model_signing bundle, an index, PEM keys
 * as openssl writes them, a Git LFS pointer, a PyTorch zip. */
static const struct {
    const char *bytes;
    size_t n;
    ckpt_file_kind kind;
} heads[] = {
#define B(s, k) {s, sizeof s - 1, k}
    B("{\"mediaType\": \"application/vnd.dev.sigstore.bundle.v0.3+json\", \"verificationMaterial\"",
      CKPT_KIND_SIGSTORE_BUNDLE),
    B("{\n  \"metadata\": {\n    \"total_size\": 14483464192\n  },\n  \"weight_map\": {\n",
      CKPT_KIND_SHARD_INDEX),
    B("-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg\n",
      CKPT_KIND_PRIVATE_KEY),
    B("-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIO\n", CKPT_KIND_PRIVATE_KEY),
    B("-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE\n", CKPT_KIND_PUBLIC_KEY),
    B("version https://git-lfs.github.com/spec/v1\noid sha256:4b85\nsize 6000000\n",
      CKPT_KIND_LFS_POINTER),
    B("PK\x03\x04\x00\x00\x08\x08\x00\x00", CKPT_KIND_ZIP),
    B("\xef\xbb\xbf  [1, 2, 3]", CKPT_KIND_JSON),
    B("The capital of France is\n", CKPT_KIND_TEXT),
    B("caf\xc3\xa9 \xe2\x82\xac\n", CKPT_KIND_TEXT),
    B("\xc8", CKPT_KIND_UNKNOWN),                 /* one byte of a length, not text */
    B("\xff\xff\xff\xff\xff\xff\xff\xff{\"a\":1}", CKPT_KIND_SAFETENSORS), /* damaged length */
    B("GGUF\x03\x00\x00\x00", CKPT_KIND_GGUF),
#undef B
};

START_TEST(test_kind_of_bytes)
{
    ckpt_file_kind kind = ckpt_file_kind_of(heads[_i].bytes, heads[_i].n, heads[_i].n);
    ck_assert_msg(kind == heads[_i].kind, "case %d: kind %s, want %s", _i,
                  ckpt_file_kind_name(kind), ckpt_file_kind_name(heads[_i].kind));
    ck_assert_int_eq(ckpt_file_kind_of("", 0, 0), CKPT_KIND_EMPTY);
}
END_TEST

START_TEST(test_expect_names_the_file_and_the_fix)
{
    char *path = tu_data("models/tiny-mistral/config.json");
    ckpt_err err = {0};
    ck_assert_int_eq(ckpt_file_expect(path, CKPT_KIND_BIT(CKPT_KIND_SAFETENSORS), "weights", &err),
                     CKPT_E_FORMAT);
    char *want = tu_fmt("%s is a model's config, not weights: give the model directory", path);
    ck_assert_str_eq(err.msg, want);
    free(want);
    free(path);
    /* accepted kinds, unknown bytes and standard input pass */
    path = tu_data("models/tiny-mistral/model.safetensors");
    ck_assert_int_eq(ckpt_file_expect(path, CKPT_KIND_BIT(CKPT_KIND_SAFETENSORS), "w", NULL),
                     CKPT_OK);
    free(path);
    path = tu_data("golden/tiny-mistral/imatrix.dat");
    ck_assert_int_eq(ckpt_file_expect(path, 0, "w", NULL), CKPT_OK);
    free(path);
    ck_assert_int_eq(ckpt_file_expect("-", 0, "w", NULL), CKPT_OK);
    ckpt_err_clear(&err);
    ck_assert_int_eq(ckpt_file_expect("/nonexistent/x", 0, "w", &err), CKPT_E_IO);
    ck_assert_ptr_nonnull(strstr(err.msg, "/nonexistent/x"));
}
END_TEST

Suite *filekind_suite(void)
{
    Suite *s = suite_create("filekind");
    TCase *tc = tcase_create("core");
    tcase_add_loop_test(tc, test_kind_of_data_files, 0,
                        (int)(sizeof data_files / sizeof data_files[0]));
    tcase_add_loop_test(tc, test_kind_of_bytes, 0, (int)(sizeof heads / sizeof heads[0]));
    tcase_add_test(tc, test_expect_names_the_file_and_the_fix);
    suite_add_tcase(s, tc);
    return s;
}
