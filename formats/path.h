/*
 * path.h - the two file-name helpers every directory reader needs.
 */
#ifndef CKPT_FORMATS_PATH_H
#define CKPT_FORMATS_PATH_H

#include <stdbool.h>

/* "dir/name" as a new string (dir itself when name is empty); the caller
 * frees it.  NULL only when out of memory. */
char *ckpt_path_join(const char *dir, const char *name);

/* True if path names a regular file (following links). */
bool ckpt_path_is_file(const char *path);

#endif
