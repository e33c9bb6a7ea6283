/*
 * testutil.h - small helpers shared by the Check suites: test data paths,
 * whole-file reads, scratch directories, and running a tool with its
 * stdout/stderr captured.
 */
#ifndef CKPT_TESTS_TESTUTIL_H
#define CKPT_TESTS_TESTUTIL_H

#include <stddef.h>
#include <stdint.h>

/* Path under tests/data (TESTDATA).  Returns a malloc'd string. */
char *tu_data(const char *rel);

/* Read a whole file; NULL on error.  *size gets the length; the buffer has
 * a NUL after the last byte.  Caller frees. */
void *tu_read_file(const char *path, size_t *size);

/* Write a whole file; 0 on success. */
int tu_write_file(const char *path, const void *data, size_t size);

/* A fresh scratch directory (malloc'd path), removed by tu_rmtree. */
char *tu_tmpdir(void);
void tu_rmtree(const char *path);

/* Path of a built tool: $CKPT_BIN/name (malloc'd). */
char *tu_tool(const char *name);

/*
 * Run `cmd` with /bin/sh; capture stdout and stderr (malloc'd, NUL-ended,
 * may be NULL pointers if not wanted).  Returns the exit status (0-255) or
 * -1 if the command could not run or died of a signal (128+sig reported
 * as -1 too, so a crash never passes for an error exit).
 */
int tu_run(const char *cmd, char **out, char **errout);

/* Lowercase hex SHA-256 of n bytes (OpenSSL EVP directly, independent of
 * the library's own hasher); returns 0, or -1 if OpenSSL failed. */
int tu_sha256_hex(const void *data, size_t n, char hex[65]);

/* Next line of a NUL-terminated buffer, cut in place; NULL at the end. */
char *tu_next_line(char **cursor);

/* tests/llama_fixture.sh: tiny-mistral as a LlamaForCausalLM checkpoint in
 * dir/tiny-llama (malloc'd path); NULL if the script failed. */
char *tu_llama_fixture(const char *dir);

/* Mistral's own layout of the kit model `kit` (tests/gen_mistral_layout.c:
 * params.json, consolidated.safetensors, tokenizer.model.v3) in dir/kit,
 * keeping the kit's directory name; malloc'd path, NULL on failure. */
char *tu_mistral_layout(const char *dir, const char *kit);

/* The kit model wrapped as Mistral3ForConditionalGeneration (gen_mistral_layout
 * --mistral3) in dir/kit; malloc'd path, NULL on failure. */
char *tu_mistral3(const char *dir, const char *kit);

/* Number of ".ckpt-tmp-*" files (outfile.h's temporaries) in dir. */
int tu_temps_in(const char *dir);

/* Run child(arg) in a child process with stderr going to dir/stderr and
 * the tools' shrink handler set (mapfile.h); it must exit with status 2
 * (not die of a signal) and say "<file>: file shrank while being read",
 * and dir must hold no temporary and no out. */
void tu_expect_shrink_exit(const char *dir, const char *file, const char *out,
                           void (*child)(const char *), const char *arg);

/* printf into a malloc'd string. */
char *tu_fmt(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* tests/data/vectors/ggml-quants/NAME, which must be exactly `want` bytes
 * (asserted); caller frees. */
void *tu_ggml_vector(const char *name, size_t want);

#endif
