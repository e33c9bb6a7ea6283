/*
 * fuzz_util.h - what the libFuzzer entry points share: one scratch
 * directory per process for the readers that take a path (a model
 * directory, a GGUF file), splitting one input into several files, and a
 * tokenizer workout that touches every piece a caller could.
 */
#ifndef CKPT_TESTS_FUZZ_UTIL_H
#define CKPT_TESTS_FUZZ_UTIL_H

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "formats/tokenizer.h"

/* The input in a buffer of exactly its size (so ASan sees any overread),
 * or NULL when out of memory; the caller frees it. */
static inline void *fuzz_copy(const uint8_t *data, size_t size)
{
    void *p = malloc(size ? size : 1);
    if (p && size)
        memcpy(p, data, size);
    return p;
}

static char fuzz_path[4096];

/* Remove dir and what is in it, two levels deep (all fuzz_dir holds). */
static inline void fuzz_rmtree(const char *dir, int depth)
{
    DIR *d = opendir(dir);
    for (struct dirent *e; d && (e = readdir(d));) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        char p[4400];
        if (snprintf(p, sizeof p, "%s/%s", dir, e->d_name) >= (int)sizeof p)
            continue;
        if (unlink(p) != 0 && depth > 0)
            fuzz_rmtree(p, depth - 1);
    }
    if (d)
        closedir(d);
    rmdir(dir);
}

static inline void fuzz_cleanup(void) { fuzz_rmtree(fuzz_path, 1); }

/* A scratch directory made once per process (under $TMPDIR), removed when
 * the fuzzer exits. */
static inline const char *fuzz_dir(void)
{
    if (!fuzz_path[0]) {
        const char *t = getenv("TMPDIR");
        if (snprintf(fuzz_path, sizeof fuzz_path, "%s/ckpt-fuzz-XXXXXX", t && *t ? t : "/tmp") >=
                (int)sizeof fuzz_path ||
            !mkdtemp(fuzz_path))
            abort();
        atexit(fuzz_cleanup);
    }
    return fuzz_path;
}

/* Write n bytes to fuzz_dir()/name, or remove it when p is NULL. */
static inline void fuzz_put(const char *name, const void *p, size_t n)
{
    char path[4200];
    if (snprintf(path, sizeof path, "%s/%s", fuzz_dir(), name) >= (int)sizeof path)
        abort();
    unlink(path);
    if (!p)
        return;
    FILE *f = fopen(path, "wb");
    if (!f || (n && fwrite(p, 1, n, f) != n) || fclose(f) != 0)
        abort();
}

#define FUZZ_SEP "\n--8<--\n"

/* First FUZZ_SEP in [p, end), or NULL (memmem is not in C11). */
static inline const uint8_t *fuzz_find_sep(const uint8_t *p, const uint8_t *end)
{
    size_t sl = strlen(FUZZ_SEP);
    for (; (size_t)(end - p) >= sl; p++)
        if (memcmp(p, FUZZ_SEP, sl) == 0)
            return p;
    return NULL;
}

/* Split data at FUZZ_SEP into at most max parts; returns how many. */
static inline size_t fuzz_split(const uint8_t *data, size_t size, const uint8_t **part,
                                size_t *len, size_t max)
{
    size_t n = 0, sl = strlen(FUZZ_SEP);
    const uint8_t *p = data, *end = data + size;
    while (n < max) {
        const uint8_t *q = n + 1 < max ? fuzz_find_sep(p, end) : NULL;
        part[n] = p;
        len[n] = q ? (size_t)(q - p) : (size_t)(end - p);
        n++;
        if (!q)
            break;
        p = q + sl;
    }
    return n;
}

/* Encode and decode a few strings through an accepted tokenizer: every id
 * must be a piece, and nothing may crash. */
static inline void fuzz_tok_workout(const ckpt_tok *tok)
{
    static const char *const texts[] = {"Hello world", " \xc3\xa9t\xc3\xa9  <s>x</s>\n\t",
                                        "\xff\xfe broken", ""};
    uint32_t n = ckpt_tok_n_vocab(tok);
    for (size_t t = 0; t < sizeof texts / sizeof texts[0]; t++) {
        size_t len = strlen(texts[t]), cap = ckpt_tok_encode_max(len), got = 0;
        int32_t *ids = malloc((cap ? cap : 1) * sizeof *ids);
        ckpt_err err;
        ckpt_err_clear(&err);
        if (ids && ckpt_tok_encode(tok, texts[t], len,
                                   CKPT_TOK_PARSE_SPECIAL | CKPT_TOK_ADD_SPECIAL, ids, cap, &got,
                                   &err) == CKPT_OK) {
            for (size_t i = 0; i < got; i++)
                if (ids[i] < 0 || (uint32_t)ids[i] >= n)
                    abort();
            char buf[4096];
            size_t out;
            ckpt_tok_decode(tok, ids, got, buf, sizeof buf, &out, &err);
        }
        free(ids);
    }
    for (uint32_t id = 0; id < n; id += 1 + n / 64) {
        size_t len;
        const char *p = ckpt_tok_piece(tok, id, &len);
        if (!p || p[len] != '\0')
            abort();
    }
}

/*
 * A model directory from one input: "config.json SEP index SEP shard1 SEP
 * shard2".  With an empty index the one shard is model.safetensors;
 * otherwise the shards are model-0000i-of-0000N.safetensors.  Returns the
 * directory (fuzz_dir()/model), emptied of the previous input first.
 */
/* The body of a tokenizer-file target: parse the input as the file
 * `name` with parse; an accepted tokenizer gets fuzz_tok_workout, a
 * refusal must name the file (abort otherwise, so the fuzzer reports it). */
typedef ckpt_status (*fuzz_tok_parse_fn)(ckpt_tok **out, const char *json, size_t len,
                                         const char *name, ckpt_err *err);

static inline void fuzz_tok_file(fuzz_tok_parse_fn parse, const char *name, const uint8_t *data,
                                 size_t size)
{
    char *copy = fuzz_copy(data, size);
    if (!copy)
        return;
    ckpt_tok *tok = NULL;
    ckpt_err err;
    ckpt_err_clear(&err);
    const size_t nl = strlen(name);
    if (parse(&tok, copy, size, name, &err) == CKPT_OK)
        fuzz_tok_workout(tok);
    else if (strncmp(err.msg, name, nl) != 0 || strncmp(err.msg + nl, ": ", 2) != 0)
        abort();
    ckpt_tok_free(tok);
    free(copy);
}

static inline const char *fuzz_model_dir(const uint8_t *data, size_t size)
{
    static const char *const names[] = {
        "model/config.json", "model/model.safetensors.index.json", "model/model.safetensors",
        "model/model-00001-of-00001.safetensors", "model/model-00001-of-00002.safetensors",
        "model/model-00002-of-00002.safetensors"};
    static char dir[4200];
    if (snprintf(dir, sizeof dir, "%s/model", fuzz_dir()) >= (int)sizeof dir)
        abort();
    mkdir(dir, 0700);
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        fuzz_put(names[i], NULL, 0);
    const uint8_t *part[4];
    size_t len[4];
    size_t n = fuzz_split(data, size, part, len, 4);
    fuzz_put(names[0], part[0], len[0]);
    size_t shards = n > 2 ? n - 2 : 0;
    if (n < 2 || len[1] == 0) {
        if (shards)
            fuzz_put(names[2], part[2], len[2]);
        return dir;
    }
    fuzz_put(names[1], part[1], len[1]);
    for (size_t i = 0; i < shards; i++)
        fuzz_put(names[shards == 1 ? 3 : 4 + i], part[2 + i], len[2 + i]);
    return dir;
}

#endif
