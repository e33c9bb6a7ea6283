/*
 * hubcache.h - the Hugging Face hub cache, as huggingface_hub lays it out:
 * .../models--ORG--NAME/snapshots/COMMIT/ holds the files of one revision,
 * each a symlink into ../../blobs/.  A model found there is named after its
 * repository (ORG/NAME), not after the commit directory, and nothing ckpt
 * makes by default is written into the cache.
 */
#ifndef CKPT_FORMATS_HUBCACHE_H
#define CKPT_FORMATS_HUBCACHE_H

#include <stdbool.h>

struct ckpt_hub_ref {
    char repo[256];   /* "mistralai/Mistral-7B-v0.1" */
    char name[256];   /* "Mistral-7B-v0.1" */
    char commit[41];  /* 40 hex digits */
};

/*
 * True when path (a directory, or a file whose directory is meant) lies in
 * a snapshot of a hub cache, at its top or below; ref is then filled.  The
 * directory is resolved (realpath), so a link to a snapshot counts; the
 * file itself is not, since in a snapshot it links into blobs/.
 */
bool ckpt_hub_snapshot(const char *path, struct ckpt_hub_ref *ref);

/*
 * The default output for input `in` and a tag ("Q4_K_M"), as a new string
 * the caller frees (NULL when out of memory): "IN-TAG.gguf" next to the
 * input, with a trailing ".gguf" (a split set's "-00001-of-0000N.gguf") or
 * "/" of IN dropped; but for an input in
 * a hub cache snapshot, "NAME-TAG.gguf" in the current directory, where
 * NAME is the repository's name for the snapshot itself and the file's
 * name (without .gguf) for a file in it (or in the cache's blobs/).
 */
char *ckpt_hub_default_output(const char *in, const char *tag);

#endif
