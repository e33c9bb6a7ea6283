/*
 * sha256.h - SHA-256 of buffers and of whole files, many files in parallel.
 *
 * A file's digest is the plain SHA-256 of all its bytes (what sha256sum and
 * model_signing compute), so one file cannot be split across threads: the
 * hash state is a strict chain.  Parallelism is therefore across files
 * (largest first, each worker taking the next file as it frees up), and a
 * single large file runs at the speed of one core: it is read in pieces
 * that stay in L2 while they are hashed, with the kernel reading ahead
 * (POSIX_FADV_SEQUENTIAL), so resident memory is one buffer per thread.
 * Reads, not a mapping: under shadow page tables (a VM) the first touch of
 * every mapped page traps, and a mapped file hashed at 0.7 GB/s where
 * pread gave 1.4 (one thread of the AMD machine, from the page cache); a
 * file that shrinks while being read is an error, not a SIGBUS.
 */
#ifndef CKPT_FORMATS_SHA256_H
#define CKPT_FORMATS_SHA256_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../kernels/err.h"
#include "../kernels/progress.h"

#define CKPT_SHA256_LEN 32
#define CKPT_SHA256_HEX 65 /* 64 hex digits and a NUL */

/* SHA-256 of n bytes (n may be 0, data NULL then). */
ckpt_status ckpt_sha256_buf(const void *data, size_t n, uint8_t out[CKPT_SHA256_LEN],
                            ckpt_err *err);

/*
 * SHA-256 of the regular file `path`.  Symbolic links are refused
 * (O_NOFOLLOW), as are directories and special files.  *size (may be NULL)
 * gets the byte count.  Errors: CKPT_E_IO (a missing file has errno
 * ENOENT in the message), CKPT_E_UNSUPPORTED for links and special files.
 */
ckpt_status ckpt_sha256_file(const char *path, uint8_t out[CKPT_SHA256_LEN], uint64_t *size,
                             ckpt_err *err);

/* One file of a parallel run: path in, digest/size/status out. */
struct ckpt_sha256_job {
    const char *path;                 /* borrowed */
    uint8_t digest[CKPT_SHA256_LEN];  /* valid when status == CKPT_OK */
    uint64_t size;
    ckpt_status status;
    ckpt_err err;                     /* this file's error, if any */
};


/*
 * Hash every job's file on n_threads (<= 0: all CPUs).  Each job gets its
 * own status; the run itself fails only on resource errors (CKPT_E_NOMEM,
 * thread creation).  A failed job does not stop the others.
 */
ckpt_status ckpt_sha256_files(struct ckpt_sha256_job *jobs, size_t n, int n_threads,
                              ckpt_progress_fn progress, void *progress_ctx, ckpt_err *err);

/* Lowercase hex of a digest. */
void ckpt_sha256_hex(const uint8_t d[CKPT_SHA256_LEN], char hex[CKPT_SHA256_HEX]);

/* Parse exactly 64 lowercase hex digits; false otherwise. */
bool ckpt_sha256_from_hex(const char *hex, uint8_t d[CKPT_SHA256_LEN]);

#endif
