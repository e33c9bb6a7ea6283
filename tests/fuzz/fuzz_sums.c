/*
 * fuzz_sums.c - libFuzzer entry point for SHA256SUMS (ckpt_sums_parse and
 * ckpt_sums_check): never crash; an accepted file agrees with a statement
 * made of its own lines, and each line written back by ckpt_sums_line
 * parses to the same name and digest.
 */
#include "formats/manifest.h"
#include "formats/sums.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *copy = fuzz_copy(data, size);
    if (!copy)
        return 0;
    struct ckpt_sums_entry *e = NULL;
    size_t n = 0;
    ckpt_err err;
    ckpt_err_clear(&err);
    if (ckpt_sums_parse(copy, size, "SHA256SUMS", &e, &n, &err) != CKPT_OK) {
        if (strncmp(err.msg, "SHA256SUMS: ", 12) != 0)
            abort();
        free(copy);
        return 0;
    }
    struct ckpt_manifest m;
    memset(&m, 0, sizeof m);
    for (size_t i = 0; i < n; i++) {
        if (ckpt_manifest_add(&m, e[i].name, e[i].digest, &err) != CKPT_OK)
            abort();
        char *line = NULL;
        struct ckpt_sums_entry *back = NULL;
        size_t nb = 0;
        if (ckpt_sums_line(e[i].name, e[i].digest, &line, &err) != CKPT_OK ||
            ckpt_sums_parse(line, strlen(line), "line", &back, &nb, &err) != CKPT_OK ||
            nb != 1 || strcmp(back[0].name, e[i].name) != 0 ||
            memcmp(back[0].digest, e[i].digest, sizeof e[i].digest) != 0)
            abort();
        ckpt_sums_free(back, nb);
        free(line);
    }
    /* a name listed twice with two digests cannot agree with itself */
    ckpt_status s = ckpt_sums_check(copy, size, "SHA256SUMS", &m, NULL, &err);
    bool dup = false;
    for (size_t i = 0; i < n && !dup; i++)
        for (size_t k = i + 1; k < n && !dup; k++)
            dup = strcmp(e[i].name, e[k].name) == 0 &&
                  memcmp(e[i].digest, e[k].digest, sizeof e[i].digest) != 0;
    if ((s == CKPT_OK) == dup)
        abort();
    ckpt_manifest_free(&m);
    ckpt_sums_free(e, n);
    free(copy);
    return 0;
}
