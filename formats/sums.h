/*
 * sums.h - SHA256SUMS files in the form `sha256sum -c` (GNU coreutils)
 * checks: one line per file, "<64 hex><SP><SP><name>\n".  A name holding a
 * backslash, newline or carriage return is escaped (\\, \n, \r) and its line
 * starts with a backslash, as coreutils writes and reads it.
 */
#ifndef CKPT_FORMATS_SUMS_H
#define CKPT_FORMATS_SUMS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../kernels/err.h"
#include "sha256.h"

struct ckpt_sums_entry {
    char *name;                      /* owned; relative to the file's directory */
    uint8_t digest[CKPT_SHA256_LEN];
};

/* The line for one file, with its newline; *out is malloc'd. */
ckpt_status ckpt_sums_line(const char *name, const uint8_t digest[CKPT_SHA256_LEN], char **out,
                           ckpt_err *err);

/*
 * Parse a SHA256SUMS text (untrusted; `path` prefixes messages): text or
 * binary mode lines, escaped or not.  *out (n entries) is malloc'd; free
 * with ckpt_sums_free.  Errors: CKPT_E_FORMAT naming the line.
 */
ckpt_status ckpt_sums_parse(const char *text, size_t len, const char *path,
                            struct ckpt_sums_entry **out, size_t *n, ckpt_err *err);

/*
 * Write entries sorted by name to `path` atomically (replacing an existing
 * file only with force).  Errors: CKPT_E_EXISTS, CKPT_E_IO, CKPT_E_NOMEM.
 */
ckpt_status ckpt_sums_write(const char *path, struct ckpt_sums_entry *e, size_t n, bool force,
                            ckpt_err *err);

void ckpt_sums_free(struct ckpt_sums_entry *e, size_t n);

struct ckpt_manifest;

/*
 * Check a SHA256SUMS text (`path` prefixes messages) against a verified
 * signed statement m, so that what `sha256sum -c` would accept is what the
 * signature covers.  Every line must parse.  For a directory artifact
 * (file_name NULL) every line must name a signed file and carry its signed
 * digest.  For a single file, the file's own line (name file_name), if
 * present, must carry the digest of m's one resource; lines of other files
 * are other signatures' business.  Errors: CKPT_E_MISMATCH naming the line
 * and the file (an edited SHA256SUMS is a failed check), CKPT_E_NOMEM.
 */
ckpt_status ckpt_sums_check(const char *text, size_t len, const char *path,
                            const struct ckpt_manifest *m, const char *file_name, ckpt_err *err);

#endif
