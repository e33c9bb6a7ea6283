/*
 * outdir.h - an output directory that appears whole or not at all (a model
 * directory: shards, an index, config.json, tokenizer files).
 *
 * Files are written into a fresh temporary directory beside the target
 * (".NAME.tmp-XXXXXX", so the final rename stays on one filesystem), each
 * through outfile.h as usual; ckpt_outdir_commit fsyncs the directory and
 * renames it into place.  An existing target is replaced only with
 * `force` (the caller refuses a target that is its input): the old
 * directory is first renamed aside, the new one renamed in, and only then
 * is the old one removed, so a failure leaves either the old directory or
 * the new one, never a mix.  ckpt_outdir_abort removes the temporary
 * directory and what was written into it.  The directory is flat: only
 * regular files directly inside it are written and removed.
 */
#ifndef CKPT_FORMATS_OUTDIR_H
#define CKPT_FORMATS_OUTDIR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../kernels/err.h"
#include "outfile.h"

typedef struct ckpt_outdir ckpt_outdir;

/*
 * Start an output directory at `path` (not "-").  Errors: CKPT_E_EXISTS
 * for an existing path without force (or a path that is not a directory,
 * even with force), CKPT_E_IO when the parent is not writable,
 * CKPT_E_NOMEM.  The caller owns *out: exactly one of commit / abort
 * must follow.
 */
ckpt_status ckpt_outdir_open(ckpt_outdir **out, const char *path, bool force, ckpt_err *err);

/* A directory replayed without touching the disk: each file's name and
 * the SHA-256 of its bytes, in the order the files were opened.  The
 * caller owns it (ckpt_outdir_digests_free); it outlives the outdir. */
struct ckpt_outdir_part {
    char name[256];
    uint8_t sha256[CKPT_OUT_DIGEST_LEN];
};
struct ckpt_outdir_digest {
    char name[256];
    uint8_t sha256[CKPT_OUT_DIGEST_LEN];
    struct ckpt_outdir_part *parts; /* a shard's tensor data, in file order (owned) */
    size_t n_parts;
};
struct ckpt_outdir_digests {
    struct ckpt_outdir_digest **files; /* each owned, so digests stay put */
    size_t n;
};

/*
 * The same directory, hashed instead of written: every file opened with
 * ckpt_outdir_out_open is a digest output (outfile.h) whose name and
 * digest are appended to *into.  `path` only names it in messages;
 * nothing is created, commit and abort just free d.  Errors: CKPT_E_NOMEM.
 */
ckpt_status ckpt_outdir_open_digest(ckpt_outdir **out, const char *path,
                                    struct ckpt_outdir_digests *into, ckpt_err *err);

/* Open file `name` of d for writing: a new file in the temporary directory,
 * or a digest output for a digest directory.  Commit or abort *out as
 * outfile.h says.  Errors: those of ckpt_out_open / ckpt_out_open_digest,
 * CKPT_E_USAGE for a path too long. */
ckpt_status ckpt_outdir_out_open(ckpt_outdir *d, const char *name, ckpt_out **out,
                                 ckpt_err *err);

/* For a digest directory: n parts (zeroed) of the file opened last, for
 * a writer to name and hash its pieces into, so that a difference can be
 * located; NULL for a directory written to disk, or out of memory. */
struct ckpt_outdir_part *ckpt_outdir_parts(ckpt_outdir *d, size_t n);

void ckpt_outdir_digests_free(struct ckpt_outdir_digests *ds);

/* The path of file `name` inside the temporary directory into buf (n
 * bytes); false if it does not fit. */
bool ckpt_outdir_file(const ckpt_outdir *d, const char *name, char *buf, size_t n);

/* The final path given to open. */
const char *ckpt_outdir_path(const ckpt_outdir *d);

/* fsync the directory, rename it into place (replacing the old one with
 * force), and free d.  On error the temporary directory is removed. */
ckpt_status ckpt_outdir_commit(ckpt_outdir *d, ckpt_err *err);

/* Remove the temporary directory and its files, and free d.  NULL is fine. */
void ckpt_outdir_abort(ckpt_outdir *d);

#endif
