/*
 * fuzz_bundle.c - libFuzzer entry point over what ckpt-verify reads from an
 * untrusted signature file: the Sigstore bundle (JSON + strict base64) and,
 * from the same bytes, the in-toto statement parser.  Never crash; a parsed
 * statement never names a file outside the artifact ("." alone is the
 * single signed file itself).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "formats/bundle.h"
#include "formats/manifest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ckpt_err err;
    struct ckpt_bundle b;
    memset(&b, 0, sizeof b);
    ckpt_err_clear(&err);
    ckpt_bundle_parse((const char *)data, size, "model.sig", &b, &err);
    ckpt_bundle_free(&b);

    struct ckpt_manifest m;
    memset(&m, 0, sizeof m);
    ckpt_err_clear(&err);
    if (ckpt_manifest_from_statement(data, size, "statement", &m, &err) == CKPT_OK) {
        /* a single-file statement has the one resource "." */
        bool single = m.n_res == 1 && strcmp(m.res[0].name, ".") == 0;
        for (size_t i = 0; i < m.n_res && !single; i++)
            if (!ckpt_manifest_name_safe(m.res[i].name))
                abort();
    }
    ckpt_manifest_free(&m);
    return 0;
}
