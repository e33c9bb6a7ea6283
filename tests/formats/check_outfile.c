/*
 * check_outfile.c - inputs that shrink under a mapping, and outputs that
 * never replace what they must not: a file that appeared meanwhile (another
 * writer), a file this run reads, or another output of this run.
 */
#define _GNU_SOURCE
#include <check.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "formats/gguf.h"
#include "formats/mapfile.h"
#include "formats/outfile.h"
#include "formats/sha256.h"
#include "quant/quantize.h"
#include "quant/source.h"
#include "testutil.h"

/* Map dir/in.bin, open dir/out.bin, cut the input, read past its new end. */
static void map_then_shrink(const char *dir)
{
    char *in = tu_fmt("%s/in.bin", dir), *out = tu_fmt("%s/out.bin", dir);
    ckpt_map *m;
    ckpt_out *o;
    if (ckpt_map_open(&m, in, NULL) != CKPT_OK || ckpt_out_open(&o, out, false, NULL))
        _exit(10);
    ckpt_out_write(o, "x", 1, NULL);
    if (truncate(in, 0) != 0)
        _exit(11);
    volatile uint8_t sum = 0;
    for (size_t i = 0; i < m->size; i += 4096)
        sum += m->data[i];
    _exit(12 + (sum & 1));
}

/* A child maps a file, opens an output, then the file shrinks and the child
 * reads past the new end: it must exit 2 naming the file, with the
 * temporary gone, instead of dying of SIGBUS. */
START_TEST(shrinking_input_is_an_error)
{
    char *dir = tu_tmpdir();
    char *in = tu_fmt("%s/in.bin", dir), *out = tu_fmt("%s/out.bin", dir);
    size_t size = 1 << 20;
    uint8_t *junk = calloc(1, size);
    ck_assert_int_eq(tu_write_file(in, junk, size), 0);
    free(junk);
    tu_expect_shrink_exit(dir, "in.bin", out, map_then_shrink, dir);
    tu_rmtree(dir);
    free(dir), free(in), free(out);
}
END_TEST

/* Open dir/in.gguf for quantizing, cut it after its header, quantize. */
static void quantize_then_shrink(const char *dir)
{
    char *in = tu_fmt("%s/in.gguf", dir), *out = tu_fmt("%s/out.gguf", dir);
    struct ckpt_qsrc *src = NULL;
    ckpt_err err = {0};
    ckpt_gguf *g;
    if (ckpt_qsrc_open_gguf(&src, in, &err) != CKPT_OK || ckpt_gguf_open(&g, in, &err))
        _exit(10);
    uint64_t data_at = ckpt_gguf_data_offset(g);
    ckpt_gguf_close(g);
    if (truncate(in, (off_t)data_at) != 0)
        _exit(11);
    struct ckpt_quant_opts o = {.mix = CKPT_MIX_Q8_0, .output_type = -1, .token_embd_type = -1,
                                .output = out, .n_threads = 2};
    _exit(ckpt_quant_run(src, &o, NULL, &err) == CKPT_OK ? 12 : 13);
}

/* The quantizer's streaming path: the GGUF input is opened (header parsed,
 * data mapped), then cut after its header before a tensor byte is read; the
 * run must end in exit 2 naming the input, with no temporary left. */
START_TEST(quant_input_shrinks_mid_run)
{
    char *dir = tu_tmpdir();
    char *golden = tu_data("golden/tiny-mistral/convert-f16.gguf");
    char *in = tu_fmt("%s/in.gguf", dir), *out = tu_fmt("%s/out.gguf", dir);
    size_t n;
    void *d = tu_read_file(golden, &n);
    ck_assert_int_eq(tu_write_file(in, d, n), 0);
    free(d);
    tu_expect_shrink_exit(dir, "in.gguf", out, quantize_then_shrink, dir);
    tu_rmtree(dir);
    free(dir), free(golden), free(in), free(out);
}
END_TEST

/* Cut the file being hashed to 0 bytes on the first progress report. */
static void cut_on_progress(void *ctx, const char *what, uint64_t done, uint64_t total,
                            ckpt_progress_unit unit)
{
    if (done > 0 && truncate((const char *)ctx, 0) != 0)
        _exit(11);
}

/* Hash dir/big.bin (three hashing chunks), cutting it after the first;
 * the hasher reads (no mapping), so the shrink comes back as the job's
 * error, which a tool reports before it drops its output, as here. */
static void hash_then_shrink(const char *dir)
{
    char *in = tu_fmt("%s/big.bin", dir), *out = tu_fmt("%s/out.bin", dir);
    ckpt_out *o;
    if (ckpt_out_open(&o, out, false, NULL) != CKPT_OK)
        _exit(10);
    struct ckpt_sha256_job job = {.path = in};
    if (ckpt_sha256_files(&job, 1, 1, cut_on_progress, in, NULL) == CKPT_OK &&
        job.status != CKPT_OK) {
        dprintf(STDERR_FILENO, "test: %s\n", job.err.msg);
        ckpt_out_abort(o);
        _exit(2);
    }
    _exit(12);
}

/* The hashing path of ckpt-sign and ckpt-verify. */
START_TEST(hashed_input_shrinks_mid_run)
{
    char *dir = tu_tmpdir();
    char *in = tu_fmt("%s/big.bin", dir), *out = tu_fmt("%s/out.bin", dir);
    size_t size = (size_t)20 << 20;
    uint8_t *junk = calloc(1, size);
    ck_assert_int_eq(tu_write_file(in, junk, size), 0);
    free(junk);
    tu_expect_shrink_exit(dir, "big.bin", out, hash_then_shrink, dir);
    tu_rmtree(dir);
    free(dir), free(in), free(out);
}
END_TEST

static ckpt_status write_text(const char *path, const char *text, bool force, ckpt_out **keep)
{
    ckpt_out *o;
    ckpt_status s = ckpt_out_open(&o, path, force, NULL);
    if (s != CKPT_OK)
        return s;
    ckpt_out_write(o, text, strlen(text), NULL);
    if (keep) {
        *keep = o;
        return CKPT_OK;
    }
    return ckpt_out_commit(o, NULL);
}

/* Two writers of one new name, neither with force: the one that publishes
 * second fails instead of silently replacing the other one's file (the
 * other writer is another process, here played by a plain write). */
START_TEST(second_writer_does_not_replace)
{
    char *dir = tu_tmpdir();
    char *path = tu_fmt("%s/out.gguf", dir);
    ckpt_out *b;
    ck_assert_int_eq(write_text(path, "second", false, &b), CKPT_OK);
    ck_assert_int_eq(tu_write_file(path, "first", 5), 0);
    ckpt_err err = {0};
    ck_assert_int_eq(ckpt_out_commit(b, &err), CKPT_E_EXISTS);
    ck_assert_msg(strstr(err.msg, "out.gguf"), "%s", err.msg);
    char *got = tu_read_file(path, NULL);
    ck_assert_str_eq(got, "first");
    ck_assert_int_eq(tu_temps_in(dir), 0);
    free(got);
    tu_rmtree(dir);
    free(dir), free(path);
}
END_TEST

/* The byte at offset i of large_output_whole's file. */
static uint8_t big_byte(size_t i) { return (uint8_t)(i * 2654435761u >> 24); }

/* Whether the filesystem of dir takes O_DIRECT writes. */
static bool dir_takes_direct(const char *dir)
{
    char *probe = tu_fmt("%s/direct.probe", dir);
    int fd = open(probe, O_WRONLY | O_CREAT | O_DIRECT, 0600);
    bool ok = fd >= 0;
    if (fd >= 0)
        close(fd);
    unlink(probe);
    free(probe);
    return ok;
}

/* Pages of path's bytes [from, to) in the page cache (from page-aligned). */
static size_t cached_pages(const char *path, size_t from, size_t to)
{
    int fd = open(path, O_RDONLY);
    ck_assert_int_ge(fd, 0);
    void *p = mmap(NULL, to - from, PROT_READ, MAP_SHARED, fd, (off_t)from);
    ck_assert_ptr_ne(p, MAP_FAILED);
    size_t n = (to - from + 4095) / 4096, hits = 0;
    unsigned char *v = malloc(n);
    ck_assert_int_eq(mincore(p, to - from, v), 0);
    for (size_t i = 0; i < n; i++)
        hits += v[i] & 1;
    free(v);
    munmap(p, to - from);
    close(fd);
    return hits;
}

/* An output of 150 MiB, written in pieces of odd sizes (its write-back is
 * started every 64 MiB while it is made, and past 64 MiB its whole buffers
 * are written around the page cache), then patched before, across and
 * after that line and in its unwritten tail: every byte where it belongs,
 * and where the filesystem takes direct writes, no page of the direct part
 * left in the cache. */
START_TEST(large_output_whole)
{
    char *dir = tu_tmpdir();
    char *path = tu_fmt("%s/big.gguf", dir);
    const size_t total = (size_t)150 << 20, piece = 999983; /* a prime: pieces straddle */
    const size_t patch_at[] = {5, ((size_t)64 << 20) - 7, ((size_t)100 << 20) + 1, total - 11};
    const char patch[] = "patched-bytes";
    uint8_t *buf = malloc(piece);
    ck_assert_ptr_nonnull(buf);
    ckpt_out *o;
    ckpt_err err = {0};
    ck_assert_int_eq(ckpt_out_open(&o, path, false, &err), CKPT_OK);
    for (size_t at = 0; at < total; at += piece) {
        size_t n = total - at < piece ? total - at : piece;
        for (size_t i = 0; i < n; i++)
            buf[i] = big_byte(at + i);
        ck_assert_int_eq(ckpt_out_write(o, buf, n, &err), CKPT_OK);
    }
    for (size_t k = 0; k < sizeof patch_at / sizeof *patch_at; k++)
        ck_assert_int_eq(ckpt_out_patch(o, patch_at[k], patch, 10, &err), CKPT_OK);
    ck_assert_int_eq(ckpt_out_commit(o, &err), CKPT_OK);
    if (dir_takes_direct(dir)) /* from 68 MiB to the patch at 100: never cached */
        ck_assert_uint_eq(cached_pages(path, (size_t)68 << 20, (size_t)100 << 20), 0);
    size_t size;
    uint8_t *got = tu_read_file(path, &size);
    ck_assert_uint_eq(size, total);
    for (size_t k = 0; k < sizeof patch_at / sizeof *patch_at; k++)
        ck_assert_mem_eq(got + patch_at[k], patch, 10);
    size_t bad = 0;
    for (size_t i = 0; i < total; i++) {
        bool patched = false;
        for (size_t k = 0; k < sizeof patch_at / sizeof *patch_at; k++)
            patched |= i >= patch_at[k] && i < patch_at[k] + 10;
        bad += !patched && got[i] != big_byte(i);
    }
    ck_assert_uint_eq(bad, 0);
    ck_assert_int_eq(tu_temps_in(dir), 0);
    free(got), free(buf);
    tu_rmtree(dir);
    free(dir), free(path);
}
END_TEST

/* With force an existing file is replaced, but never one this run has
 * open as an input, nor another name (hard link) of it, nor a file the run
 * holds (a key, a written importance matrix); a closed input is free. */
START_TEST(inputs_of_the_run_are_kept)
{
    char *dir = tu_tmpdir();
    char *in = tu_fmt("%s/in.bin", dir), *ln = tu_fmt("%s/link.bin", dir);
    char *other = tu_fmt("%s/other.bin", dir), *key = tu_fmt("%s/key.pem", dir);
    ck_assert_int_eq(tu_write_file(in, "input", 5), 0);
    ck_assert_int_eq(tu_write_file(other, "old", 3), 0);
    ck_assert_int_eq(tu_write_file(key, "key", 3), 0);
    ck_assert_int_eq(link(in, ln), 0);
    ckpt_map *m;
    ck_assert_int_eq(ckpt_map_open(&m, in, NULL), CKPT_OK);
    ckpt_err err = {0};
    ckpt_out *o;
    ck_assert_int_eq(ckpt_out_open(&o, in, true, &err), CKPT_E_USAGE);
    ck_assert_msg(strstr(err.msg, "in.bin: is also an input"), "%s", err.msg);
    ck_assert_int_eq(write_text(ln, "x", true, NULL), CKPT_E_USAGE);
    ck_assert_int_eq(write_text(other, "new", true, NULL), CKPT_OK);
    /* an output opened before the input was */
    ckpt_map *m2;
    ck_assert_int_eq(write_text(other, "newer", true, &o), CKPT_OK);
    ck_assert_int_eq(ckpt_map_open(&m2, other, NULL), CKPT_OK);
    ck_assert_int_eq(ckpt_out_commit(o, NULL), CKPT_E_USAGE);
    ckpt_map_close(m2);
    char *got = tu_read_file(in, NULL);
    ck_assert_str_eq(got, "input");
    free(got);
    ckpt_map_close(m);
    ck_assert_int_eq(write_text(in, "rewritten", true, NULL), CKPT_OK);
    ckpt_out_protect(key);
    ck_assert_int_eq(write_text(key, "x", true, NULL), CKPT_E_USAGE);
    got = tu_read_file(key, NULL);
    ck_assert_str_eq(got, "key");
    free(got);
    ck_assert_int_eq(tu_temps_in(dir), 0);
    tu_rmtree(dir);
    free(dir), free(in), free(ln), free(other), free(key);
}
END_TEST

Suite *outfile_suite(void)
{
    Suite *s = suite_create("outfile");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, shrinking_input_is_an_error);
    tcase_add_test(tc, quant_input_shrinks_mid_run);
    tcase_add_test(tc, hashed_input_shrinks_mid_run);
    tcase_add_test(tc, second_writer_does_not_replace);
    tcase_add_test(tc, large_output_whole);
    tcase_add_test(tc, inputs_of_the_run_are_kept);
    suite_add_tcase(s, tc);
    return s;
}
