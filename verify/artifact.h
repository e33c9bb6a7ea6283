/*
 * artifact.h - what ckpt-sign and ckpt-verify operate on: a model that is
 * one file or one directory, and where its signature and SHA256SUMS live.
 *
 *   FILE  -> FILE.sig, and SHA256SUMS in FILE's directory (one line per
 *            signed file of that directory, merged with the lines there)
 *   DIR   -> DIR/model.sig and DIR/SHA256SUMS (all of DIR's files); both
 *            are left out of the signed manifest (serialization.ignore_paths)
 *
 *   SET   -> the first file of a split GGUF set (NAME-00001-of-0000N.gguf,
 *            split.count N): FIRST.sig names every file of the set by its
 *            base name (the layout of a directory manifest, over these
 *            files only), and their lines go into SHA256SUMS beside them
 *
 * Several files given together are several artifacts, each with its own
 * signature: a set of files that belong together is a directory.
 */
#ifndef CKPT_VERIFY_ARTIFACT_H
#define CKPT_VERIFY_ARTIFACT_H

#include <stdbool.h>
#include <stddef.h>

#include "../kernels/err.h"

#define CKPT_DIR_SIGNATURE "model.sig"
#define CKPT_SUMS_NAME "SHA256SUMS"

struct ckpt_artifact {
    char *path;     /* as given */
    bool is_dir;
    char *real;     /* realpath of the artifact */
    char *name;     /* subject name: the base name of real */
    char *sig;      /* default signature path */
    char *sums;     /* SHA256SUMS path */
    char **parts;   /* SET: the base names of its files in order, n_parts >= 2;
                       else NULL */
    size_t n_parts;
    char *dir;      /* SET: the directory of its files */
};

/*
 * Resolve `path`: a directory or a regular file; a symbolic link is refused
 * (model_signing does not follow them either).  A GGUF file that is the
 * first of a split set is the SET (its files need not all exist: a missing
 * one is for the caller to report).  Errors: CKPT_E_IO, CKPT_E_UNSUPPORTED,
 * CKPT_E_FORMAT (a later file of a set, or a first file not named as one).
 * Free with ckpt_artifact_free.
 */
ckpt_status ckpt_artifact_open(struct ckpt_artifact *a, const char *path, ckpt_err *err);

void ckpt_artifact_free(struct ckpt_artifact *a);

/*
 * If `path` (relative to the working directory, or absolute; it need not
 * exist, but its parent must) lies inside directory artifact a, set *rel to
 * its path relative to a (malloc'd) and return true; false otherwise.
 */
bool ckpt_artifact_inside(const struct ckpt_artifact *a, const char *path, char **rel);

/* Base name of a path (a pointer into it; trailing slashes ignored only
 * when path is "dir/"-like, which callers avoid). */
const char *ckpt_artifact_basename(const char *path);

/* Directory part of a path ("." when there is none); malloc'd. */
char *ckpt_artifact_dirname(const char *path);

#endif
