/*
 * attest.c - the attestations ckpt-verify checks after the files (see
 * attest.h).
 */
#include "attest.h"

#include <stdio.h>
#include <stdlib.h>

#include "../formats/path.h"
#include "fingerprint.h"
#include "slsa.h"

static ckpt_status fingerprint(const struct ckpt_check_report *r, const ckpt_key *key,
                               int threads, bool *present, char *detail, size_t n, ckpt_err *err)
{
    (void)key;
    const cJSON *fp = r->manifest.ckpt
                          ? cJSON_GetObjectItemCaseSensitive(r->manifest.ckpt, "fingerprint")
                          : NULL;
    if (!(*present = fp != NULL))
        return CKPT_OK;
    snprintf(detail, n, "%d prompts",
             cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(fp, "prompts")));
    const struct ckpt_fp_opts o = {.model = r->artifact, .threads = threads, .isa = -1};
    return ckpt_fingerprint_check(fp, &o, err);
}

static ckpt_status slsa(const struct ckpt_check_report *r, const ckpt_key *key, int threads,
                        bool *present, char *detail, size_t n, ckpt_err *err)
{
    (void)threads;
    char *path = ckpt_slsa_path(r->sig_path);
    if (!path)
        return ckpt_err_set(err, CKPT_E_NOMEM, "out of memory");
    ckpt_status s = CKPT_OK;
    if ((*present = ckpt_path_is_file(path))) {
        snprintf(detail, n, "%s", path);
        s = ckpt_slsa_check(path, key, &r->manifest, err);
    }
    free(path);
    return s;
}

const struct ckpt_attest ckpt_attests[] = {
    {"fingerprint", "fingerprint", fingerprint},
    {"slsa", "SLSA provenance", slsa},
};
const size_t ckpt_n_attests = sizeof ckpt_attests / sizeof ckpt_attests[0];
