/*
 * tree.h - the files of a model directory, as model_signing sees them:
 * every regular file below the directory, named by its POSIX path relative
 * to it, minus the ignored paths.  Directories themselves are not listed
 * (an empty one is invisible).  Symbolic links and special files are
 * refused rather than followed, so a signature never covers, and a
 * verifier never reads, anything outside the directory.
 */
#ifndef CKPT_FORMATS_TREE_H
#define CKPT_FORMATS_TREE_H

#include <stddef.h>

#include "../kernels/err.h"
#include "manifest.h"

#define CKPT_TREE_MAX_DEPTH 64

/*
 * List `dir` recursively into *names (n entries, malloc'd strings sorted as
 * model_signing sorts them; free with ckpt_tree_free).  A path p is skipped
 * when ckpt_manifest_is_ignored(ignore, p); `ignore` may be NULL.  Errors:
 * CKPT_E_IO, CKPT_E_UNSUPPORTED (a symbolic link, socket, device or FIFO,
 * or a name that is not UTF-8), CKPT_E_RANGE (deeper than
 * CKPT_TREE_MAX_DEPTH).
 */
ckpt_status ckpt_tree_list(const char *dir, const struct ckpt_manifest *ignore, char ***names,
                           size_t *n, ckpt_err *err);

void ckpt_tree_free(char **names, size_t n);

#endif
