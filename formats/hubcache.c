/*
 * hubcache.c - recognise a Hugging Face hub cache snapshot (see hubcache.h).
 */
#define _GNU_SOURCE /* realpath */
#include "hubcache.h"
#include "gguf.h"
#include "path.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static bool all_hex(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return false;
    return true;
}

/* The directory a path means: itself, or the directory of a file. */
static char *real_dir(const char *path)
{
    struct stat sb;
    if (stat(path, &sb) == 0 && S_ISDIR(sb.st_mode))
        return realpath(path, NULL);
    char *dir = ckpt_path_dirname(path);
    char *real = dir ? realpath(dir, NULL) : NULL;
    free(dir);
    return real;
}

bool ckpt_hub_snapshot(const char *path, struct ckpt_hub_ref *ref)
{
    char *real = real_dir(path);
    if (!real)
        return false;
    bool found = false;
    /* look for ".../models--ORG--NAME/snapshots/COMMIT" followed by "/" or the end */
    for (char *p = strstr(real, "/models--"); p && !found; p = strstr(p + 1, "/models--")) {
        const char *repo = p + 9, *end = strchr(repo, '/');
        if (!end || strncmp(end, "/snapshots/", 11) != 0)
            continue;
        const char *commit = end + 11;
        if (!all_hex(commit, 40) || (commit[40] != '\0' && commit[40] != '/'))
            continue;
        const char *sep = strstr(repo, "--");
        if (!sep || sep >= end || sep == repo || sep + 2 >= end)
            continue; /* a repository without an owner ("models--gpt2") */
        int org = (int)(sep - repo), name = (int)(end - sep - 2);
        if (org + name + 2 > (int)sizeof ref->repo)
            continue;
        snprintf(ref->repo, sizeof ref->repo, "%.*s/%.*s", org, repo, name, sep + 2);
        snprintf(ref->name, sizeof ref->name, "%.*s", name, sep + 2);
        snprintf(ref->commit, sizeof ref->commit, "%.40s", commit);
        found = true;
    }
    free(real);
    return found;
}

/* A file of blobs/ named by its hash, reached without its snapshot link. */
static bool in_blobs(const char *path)
{
    char *real = real_dir(path);
    size_t n = real ? strlen(real) : 0;
    bool in = n > 6 && strcmp(real + n - 6, "/blobs") == 0 && strstr(real, "/models--");
    free(real);
    return in;
}

char *ckpt_hub_default_output(const char *in, const char *tag)
{
    struct ckpt_hub_ref ref;
    struct stat sb;
    const char *base = in;
    size_t n = strlen(in);
    while (n > 1 && in[n - 1] == '/')
        n--;
    if (in_blobs(in)) {
        const char *slash = strrchr(in, '/');
        base = slash ? slash + 1 : in;
        n = strlen(base);
    } else if (ckpt_hub_snapshot(in, &ref)) {
        if (stat(in, &sb) == 0 && S_ISDIR(sb.st_mode)) {
            base = ref.name;
            n = strlen(base);
        } else {
            const char *slash = strrchr(in, '/');
            base = slash ? slash + 1 : in;
            n = strlen(base);
        }
    }
    /* "m.gguf" and a split set's "m-00001-of-00003.gguf" both give "m" */
    char *stem = strndup(base, n);
    if (!stem)
        return NULL;
    n = ckpt_gguf_stem_len(stem);
    free(stem);
    size_t len = n + strlen(tag) + 8;
    char *out = malloc(len);
    if (out)
        snprintf(out, len, "%.*s-%s.gguf", (int)n, base, tag);
    return out;
}
