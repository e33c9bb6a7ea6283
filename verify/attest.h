/*
 * attest.h - what a verified artifact may carry besides its digests,
 * checked by ckpt-verify after the files, one table entry each: the
 * signed behavioural fingerprint (fingerprint.h) and the SLSA provenance
 * bundle beside the signature (slsa.h).  A new kind of attestation is a
 * new row.
 */
#ifndef CKPT_VERIFY_ATTEST_H
#define CKPT_VERIFY_ATTEST_H

#include <stdbool.h>
#include <stddef.h>

#include "check.h"

struct ckpt_attest {
    const char *key;   /* its member in a JSON report */
    const char *label; /* its name in a text report */
    /* Check it for report r (whose statement's signature held).  *present
     * false: the artifact has none (CKPT_OK).  detail (n bytes) gets what
     * an ok line shows.  CKPT_OK, CKPT_E_MISMATCH (err says what), or a
     * reader's error. */
    ckpt_status (*check)(const struct ckpt_check_report *r, const ckpt_key *key, int threads,
                         bool *present, char *detail, size_t n, ckpt_err *err);
};

/* The attestations, n_attests of them. */
extern const struct ckpt_attest ckpt_attests[];
extern const size_t ckpt_n_attests;

#endif
