/*
 * path.h - the file-name helpers every directory reader needs.
 */
#ifndef CKPT_FORMATS_PATH_H
#define CKPT_FORMATS_PATH_H

#include <stdbool.h>

/* "dir/name" as a new string (dir itself when name is empty); the caller
 * frees it.  NULL only when out of memory. */
char *ckpt_path_join(const char *dir, const char *name);

/* The directory part of a file path, as a new string the caller frees:
 * "." when there is none, "/" for a file at the root.  NULL only when out
 * of memory. */
char *ckpt_path_dirname(const char *path);

/* True if path names a regular file (following links). */
bool ckpt_path_is_file(const char *path);

#endif
