/*
 * check_gguf_split.c - split GGUF sets (formats/gguf_write.c, gguf_split.c)
 * against llama.cpp's layout as its Python writer defines it: which tensor
 * goes to which file (worked out by hand below from gguf-py's rule, not by
 * the writer's code), the names, the split.* keys and their types, the
 * metadata only in the first file, offsets from each file's own data
 * section; then the reader on good sets and on hostile ones.
 */
#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "formats/gguf.h"
#include "formats/sha256.h"
#include "testutil.h"

/* Tensors of F32 rows: name i, ne0 floats each (bytes = 4 * ne0). */
static const int64_t ne0s[] = {25, 25, 25, 75, 13};
#define N_T (sizeof ne0s / sizeof ne0s[0])

static void tname(char *buf, size_t i) { snprintf(buf, 16, "t%zu.weight", i); }

/* Write the 5 tensors with limits (0, 0: one file) to path, or hash them
 * into *dg (not NULL: a digest-only writer); data byte k of tensor i is
 * (i * 31 + k) & 0xff. */
static ckpt_status write_or_hash(const char *path, uint64_t max_bytes, uint64_t max_tensors,
                                 bool force, struct ckpt_gguf_digest *dg, ckpt_err *err)
{
    ckpt_gguf_writer *w;
    ckpt_status s = dg ? ckpt_gguf_writer_new_digest(&w, path, dg, err)
                       : ckpt_gguf_writer_new(&w, path, force, err);
    if (s != CKPT_OK)
        return s;
    s = ckpt_gguf_writer_set_split(w, max_bytes, max_tensors, err);
    if (s == CKPT_OK)
        s = ckpt_gguf_writer_set_str(w, "general.architecture", "llama", err);
    if (s == CKPT_OK)
        s = ckpt_gguf_writer_set_u32(w, "llama.block_count", 0, err);
    for (size_t i = 0; s == CKPT_OK && i < N_T; i++) {
        char n[16];
        tname(n, i);
        s = ckpt_gguf_writer_add_tensor(w, n, CKPT_TYPE_F32, 1, &ne0s[i], err);
    }
    if (s == CKPT_OK)
        s = ckpt_gguf_writer_begin(w, err);
    for (size_t i = 0; s == CKPT_OK && i < N_T; i++) {
        uint8_t b[400];
        for (int k = 0; k < 4 * ne0s[i]; k++)
            b[k] = (uint8_t)((i * 31 + (size_t)k) & 0xff);
        s = ckpt_gguf_writer_write(w, b, (size_t)(4 * ne0s[i]), err);
    }
    if (s == CKPT_OK)
        return ckpt_gguf_writer_finish(w, err);
    ckpt_gguf_writer_free(w);
    return s;
}

static ckpt_status write_set(const char *path, uint64_t max_bytes, uint64_t max_tensors,
                             bool force, ckpt_err *err)
{
    return write_or_hash(path, max_bytes, max_tensors, force, NULL, err);
}

static int count_files(const char *dir)
{
    DIR *d = opendir(dir);
    int n = 0;
    for (struct dirent *e; d && (e = readdir(d));)
        n += e->d_name[0] != '.';
    if (d)
        closedir(d);
    return n;
}

/* The u16/i32 value and type of a split key of one file. */
static void check_key(const ckpt_gguf *g, const char *key, ckpt_gguf_type type, int64_t want)
{
    const struct ckpt_gguf_kv *kv = ckpt_gguf_find_kv(g, key);
    ck_assert_msg(kv != NULL, "%s: no %s", ckpt_gguf_path(g), key);
    ck_assert_int_eq(kv->type, type);
    int64_t v;
    ck_assert(ckpt_gguf_array_i64(kv, 0, &v));
    ck_assert_int_eq(v, want);
}

/*
 * gguf-py's rule by hand: sizes 100, 100, 100, 300, 52 bytes, limit 250:
 * {100, 100} (a third 100 would make 300), {100} (then 400), {300} (over
 * the limit alone, but a file takes at least one tensor), {52}.
 */
START_TEST(split_by_size)
{
    char *dir = tu_tmpdir(), *path = tu_fmt("%s/m.gguf", dir);
    ckpt_err err = {0};
    ck_assert_int_eq(write_set(path, 250, 0, false, &err), CKPT_OK);
    ck_assert_int_eq(count_files(dir), 4);
    static const size_t per_file[] = {2, 1, 1, 1};
    size_t first = 0;
    for (unsigned k = 0; k < 4; k++) {
        char *p = tu_fmt("%s/m-%05u-of-00004.gguf", dir, k + 1);
        ckpt_gguf *g;
        ck_assert_msg(ckpt_gguf_open_file(&g, p, &err) == CKPT_OK, "%s", err.msg);
        ck_assert_uint_eq(ckpt_gguf_n_tensors(g), per_file[k]);
        /* all metadata in the first file, then the three split keys; only those later */
        ck_assert_uint_eq(ckpt_gguf_n_kv(g), k == 0 ? 5 : 3);
        if (k == 0) {
            ck_assert_str_eq(ckpt_gguf_kv_at(g, 0)->key, "general.architecture");
            ck_assert_str_eq(ckpt_gguf_kv_at(g, 2)->key, "split.no");
        }
        check_key(g, "split.no", CKPT_GGUF_UINT16, k);
        check_key(g, "split.count", CKPT_GGUF_UINT16, 4);
        check_key(g, "split.tensors.count", CKPT_GGUF_INT32, N_T);
        /* offsets start over in each file, padded to 32 */
        ck_assert_uint_eq(ckpt_gguf_tensor(g, 0)->offset, 0);
        if (per_file[k] > 1)
            ck_assert_uint_eq(ckpt_gguf_tensor(g, 1)->offset, 128);
        char n[16];
        tname(n, first);
        ck_assert_str_eq(ckpt_gguf_tensor(g, 0)->name, n);
        first += per_file[k];
        ckpt_gguf_close(g);
        free(p);
    }
    tu_rmtree(dir);
    free(path);
    free(dir);
}
END_TEST

/* The set's tensors, read back through its first file, equal the single
 * file's byte for byte (tensor by tensor, SHA-256), whatever the split. */
START_TEST(split_equals_single)
{
    char *dir = tu_tmpdir(), *one = tu_fmt("%s/one.gguf", dir);
    ckpt_err err = {0};
    ck_assert_int_eq(write_set(one, 0, 0, false, &err), CKPT_OK);
    static const uint64_t limits[][2] = {{0, 1}, {0, 2}, {250, 0}, {1, 0}, {400, 3}};
    for (size_t c = 0; c < sizeof limits / sizeof limits[0]; c++) {
        char *prefix = tu_fmt("%s/s%zu", dir, c);
        ck_assert_int_eq(write_set(prefix, limits[c][0], limits[c][1], false, &err), CKPT_OK);
        ckpt_gguf *a, *b;
        ck_assert_int_eq(ckpt_gguf_open(&a, one, &err), CKPT_OK);
        char first[4096];
        DIR *d = opendir(dir);
        int n = 0;
        for (struct dirent *e; d && (e = readdir(d));)
            n += strncmp(e->d_name, prefix + strlen(dir) + 1, strlen(prefix) - strlen(dir) - 1) == 0;
        closedir(d);
        ck_assert(ckpt_gguf_split_path(first, sizeof first, prefix, 0, (unsigned)n));
        ck_assert_msg(ckpt_gguf_open(&b, first, &err) == CKPT_OK, "%s", err.msg);
        ck_assert_uint_eq(ckpt_gguf_n_parts(b), (size_t)n);
        ck_assert_uint_eq(ckpt_gguf_n_tensors(b), N_T);
        for (size_t i = 0; i < N_T; i++) {
            const struct ckpt_gguf_tensor *x = ckpt_gguf_tensor(a, i), *y = ckpt_gguf_tensor(b, i);
            char hx[65], hy[65];
            ck_assert_str_eq(x->name, y->name);
            ck_assert_ptr_eq(ckpt_gguf_find_tensor(b, x->name), y);
            tu_sha256_hex(x->data, x->n_bytes, hx);
            tu_sha256_hex(y->data, y->n_bytes, hy);
            ck_assert_str_eq(hx, hy);
        }
        ckpt_gguf_close(a);
        ckpt_gguf_close(b);
        free(prefix);
    }
    tu_rmtree(dir);
    free(one);
    free(dir);
}
END_TEST

/*
 * A digest-only writer of a split set hashes, per part, exactly what the
 * file writer writes there: its SHA-256 is coreutils' of the part, its
 * metadata image is the part's header up to the tensor infos with a zero
 * tensor count, its tensors' digests those of the part's tensor data; and
 * nothing appears on disk.
 */
START_TEST(split_digest_per_part)
{
    static const uint64_t limits[][2] = {{0, 0}, {0, 2}, {250, 0}, {1, 0}};
    for (size_t c = 0; c < sizeof limits / sizeof limits[0]; c++) {
        char *dir = tu_tmpdir(), *out = tu_fmt("%s/d.gguf", dir);
        ckpt_err err = {0};
        struct ckpt_gguf_digest dg;
        ck_assert_msg(write_or_hash(out, limits[c][0], limits[c][1], false, &dg, &err) ==
                      CKPT_OK, "%s", err.msg);
        ck_assert_int_eq(count_files(dir), 0);
        ck_assert_int_eq(write_set(out, limits[c][0], limits[c][1], false, &err), CKPT_OK);
        ck_assert_uint_eq(dg.n_files, (size_t)count_files(dir));
        for (size_t k = 0; k < dg.n_files; k++) {
            const struct ckpt_gguf_digest_file *f = &dg.files[k];
            char *path = dg.n_files == 1 ? strdup(out) : malloc(4096), *cmd, *sum = NULL;
            char hex[CKPT_SHA256_HEX];
            if (dg.n_files > 1)
                ck_assert(ckpt_gguf_split_path(path, 4096, out, (unsigned)k,
                                               (unsigned)dg.n_files));
            ck_assert_str_eq(f->name, path);
            cmd = tu_fmt("sha256sum '%s'", path);
            ck_assert_int_eq(tu_run(cmd, &sum, NULL), 0);
            ckpt_sha256_hex(f->file, hex);
            ck_assert_msg(strncmp(sum, hex, 64) == 0, "%s: %.64s, digest %s", path, sum, hex);
            size_t size;
            uint8_t *b = tu_read_file(path, &size);
            ck_assert(b && f->meta_size >= 24 && f->meta_size <= size);
            uint8_t zero[8] = {0};
            ck_assert(memcmp(f->meta, b, 8) == 0 && memcmp(f->meta + 8, zero, 8) == 0 &&
                      memcmp(f->meta + 16, b + 16, f->meta_size - 16) == 0);
            ckpt_gguf *g;
            ck_assert_int_eq(ckpt_gguf_open_file(&g, path, &err), CKPT_OK);
            ck_assert_uint_eq(f->n_tensors, ckpt_gguf_n_tensors(g));
            for (size_t i = 0; i < f->n_tensors; i++) {
                const struct ckpt_gguf_tensor *t = ckpt_gguf_tensor(g, i);
                char th[65];
                tu_sha256_hex(t->data, t->n_bytes, th);
                ckpt_sha256_hex(f->tensor[i], hex);
                ck_assert_str_eq(f->names[i], t->name);
                ck_assert_str_eq(th, hex);
            }
            ckpt_gguf_close(g);
            free(b);
            free(sum);
            free(cmd);
            free(path);
        }
        ckpt_gguf_digest_free(&dg);
        tu_rmtree(dir);
        free(out);
        free(dir);
    }
}
END_TEST

/* Limits that make one file: the plain name and no split.* (gguf-py). */
START_TEST(split_one_file)
{
    char *dir = tu_tmpdir(), *path = tu_fmt("%s/m.gguf", dir);
    ckpt_err err = {0};
    ck_assert_int_eq(write_set(path, 1u << 20, 100, false, &err), CKPT_OK);
    ck_assert_int_eq(count_files(dir), 1);
    ckpt_gguf *g;
    ck_assert_int_eq(ckpt_gguf_open(&g, path, &err), CKPT_OK);
    ck_assert_ptr_null(ckpt_gguf_find_kv(g, "split.count"));
    ckpt_gguf_close(g);
    tu_rmtree(dir);
    free(path);
    free(dir);
}
END_TEST

/* An existing later file is refused before anything is written; -f
 * replaces; standard output cannot take a set. */
START_TEST(split_outputs)
{
    char *dir = tu_tmpdir(), *path = tu_fmt("%s/m.gguf", dir);
    char *p3 = tu_fmt("%s/m-00003-of-00005.gguf", dir);
    ckpt_err err = {0};
    ck_assert_int_eq(tu_write_file(p3, "keep", 4), 0);
    ck_assert_int_eq(write_set(path, 0, 1, false, &err), CKPT_E_EXISTS);
    ck_assert_ptr_nonnull(strstr(err.msg, "m-00003-of-00005.gguf"));
    ck_assert_int_eq(count_files(dir), 1); /* nothing else, no temporary either */
    DIR *d = opendir(dir);
    for (struct dirent *e; (e = readdir(d));)
        ck_assert_msg(strncmp(e->d_name, ".ckpt-tmp", 9) != 0, "temporary left: %s", e->d_name);
    closedir(d);
    ckpt_err_clear(&err);
    ck_assert_int_eq(write_set(path, 0, 1, true, &err), CKPT_OK);
    ck_assert_int_eq(count_files(dir), 5);
    ckpt_err_clear(&err);
    ck_assert_int_eq(write_set("-", 0, 1, true, &err), CKPT_E_USAGE);
    ck_assert_ptr_nonnull(strstr(err.msg, "standard output"));
    tu_rmtree(dir);
    free(p3);
    free(path);
    free(dir);
}
END_TEST

/* Names: a plain name, a first file's name, a prefix. */
START_TEST(split_names)
{
    char b[64];
    ck_assert(ckpt_gguf_split_path(b, sizeof b, "a/m.gguf", 0, 3));
    ck_assert_str_eq(b, "a/m-00001-of-00003.gguf");
    ck_assert(ckpt_gguf_split_path(b, sizeof b, "a/m-00001-of-00003.gguf", 2, 3));
    ck_assert_str_eq(b, "a/m-00003-of-00003.gguf");
    ck_assert(ckpt_gguf_split_path(b, sizeof b, "m", 11, 12));
    ck_assert_str_eq(b, "m-00012-of-00012.gguf");
    ck_assert(!ckpt_gguf_split_path(b, 8, "m", 0, 2));
}
END_TEST

/* ---- hostile sets ---- */

static int copy_file(const char *from, const char *to)
{
    size_t n;
    void *p = tu_read_file(from, &n);
    int rc = p ? tu_write_file(to, p, n) : -1;
    free(p);
    return rc;
}

/* A file with hand-set split keys (u16, u16, i32) and the given tensors. */
static void write_part(const char *path, int no, int count, int total, const char *const *names,
                       size_t n)
{
    ckpt_gguf_writer *w;
    ckpt_err err = {0};
    ck_assert_int_eq(ckpt_gguf_writer_new(&w, path, true, &err), CKPT_OK);
    struct ckpt_gguf_kv kv[3] = {
        {.key = "split.no", .type = CKPT_GGUF_UINT16, .n = 1, .v.u64 = (uint64_t)no},
        {.key = "split.count", .type = CKPT_GGUF_UINT16, .n = 1, .v.u64 = (uint64_t)count},
        {.key = "split.tensors.count", .type = CKPT_GGUF_INT32, .n = 1, .v.u64 = (uint64_t)total},
    };
    for (int i = 0; i < 3; i++)
        ck_assert_int_eq(ckpt_gguf_writer_copy_kv(w, &kv[i], &err), CKPT_OK);
    const int64_t ne = 8;
    for (size_t i = 0; i < n; i++)
        ck_assert_int_eq(ckpt_gguf_writer_add_tensor(w, names[i], CKPT_TYPE_F32, 1, &ne, &err),
                         CKPT_OK);
    ck_assert_int_eq(ckpt_gguf_writer_begin(w, &err), CKPT_OK);
    float z[8] = {0};
    for (size_t i = 0; i < n; i++)
        ck_assert_int_eq(ckpt_gguf_writer_write(w, z, sizeof z, &err), CKPT_OK);
    ck_assert_int_eq(ckpt_gguf_writer_finish(w, &err), CKPT_OK);
}

/* ckpt_gguf_open(first) fails with code and a message holding `what`. */
static void refused(const char *first, ckpt_status code, const char *what)
{
    ckpt_gguf *g = (ckpt_gguf *)1;
    ckpt_err err = {0};
    ck_assert_int_eq(ckpt_gguf_open(&g, first, &err), code);
    ck_assert_ptr_null(g);
    ck_assert_msg(strstr(err.msg, what) != NULL, "'%s' lacks '%s'", err.msg, what);
}

START_TEST(split_hostile)
{
    char *dir = tu_tmpdir(), *a = tu_fmt("%s/a.gguf", dir), *b = tu_fmt("%s/b.gguf", dir);
    char *a1 = tu_fmt("%s/a-00001-of-00003.gguf", dir), *a2 = tu_fmt("%s/a-00002-of-00003.gguf", dir),
         *a3 = tu_fmt("%s/a-00003-of-00003.gguf", dir);
    ckpt_err err = {0};
    /* a later part alone: names the first */
    ck_assert_int_eq(write_set(a, 0, 2, false, &err), CKPT_OK); /* 3 files */
    refused(a2, CKPT_E_USAGE, "a-00001-of-00003.gguf");
    /* the first file under another name: the others cannot be found */
    char *renamed = tu_fmt("%s/first.gguf", dir);
    ck_assert_int_eq(copy_file(a1, renamed), 0);
    refused(renamed, CKPT_E_FORMAT, "-00001-of-00003.gguf");
    /* a part copied over another: split.no says where it belongs */
    char *save = tu_fmt("%s/save", dir);
    ck_assert_int_eq(copy_file(a3, save), 0);
    ck_assert_int_eq(copy_file(a2, a3), 0);
    refused(a1, CKPT_E_FORMAT, "split.no is 1");
    /* a plain GGUF in a part's place */
    ck_assert_int_eq(write_set(a3, 0, 0, true, &err), CKPT_OK);
    refused(a1, CKPT_E_FORMAT, "no split.no: not a file of a split set");
    /* a missing part */
    unlink(a3);
    refused(a1, CKPT_E_IO, "part 3 of 3");
    ck_assert_int_eq(copy_file(save, a3), 0);
    ckpt_gguf *g;
    ck_assert_int_eq(ckpt_gguf_open(&g, a1, &err), CKPT_OK);
    ckpt_gguf_close(g);
    /* a part of a set of another count (b: 5 files of 1 tensor) */
    ck_assert_int_eq(write_set(b, 0, 1, false, &err), CKPT_OK);
    char *b2 = tu_fmt("%s/b-00002-of-00005.gguf", dir);
    ck_assert_int_eq(copy_file(b2, a2), 0);
    refused(a1, CKPT_E_FORMAT, "split.count is 5");
    /* tensor counts that do not add up, and a tensor in two parts */
    static const char *const one[] = {"x"}, *const two[] = {"y", "z"}, *const dup[] = {"x"};
    char *c1 = tu_fmt("%s/c-00001-of-00002.gguf", dir), *c2 = tu_fmt("%s/c-00002-of-00002.gguf", dir);
    write_part(c1, 0, 2, 4, one, 1);
    write_part(c2, 1, 2, 4, two, 2);
    refused(c1, CKPT_E_FORMAT, "hold 3 tensors");
    write_part(c1, 0, 2, 5, one, 1);
    refused(c1, CKPT_E_FORMAT, "split.tensors.count is 4");
    write_part(c1, 0, 2, 2, one, 1);
    write_part(c2, 1, 2, 2, dup, 1);
    refused(c1, CKPT_E_FORMAT, "tensor 'x' is also in");
    /* split.no not below split.count */
    write_part(c1, 2, 2, 2, one, 1);
    refused(c1, CKPT_E_FORMAT, "split.no 2 of split.count 2");
    tu_rmtree(dir);
    free(c1), free(c2), free(b2), free(save), free(renamed);
    free(a), free(b), free(a1), free(a2), free(a3), free(dir);
}
END_TEST

Suite *gguf_split_suite(void)
{
    Suite *s = suite_create("gguf_split");
    TCase *w = tcase_create("writer");
    tcase_add_test(w, split_by_size);
    tcase_add_test(w, split_equals_single);
    tcase_add_test(w, split_one_file);
    tcase_add_test(w, split_outputs);
    tcase_add_test(w, split_names);
    tcase_add_test(w, split_digest_per_part);
    suite_add_tcase(s, w);
    TCase *r = tcase_create("reader");
    tcase_add_test(r, split_hostile);
    suite_add_tcase(s, r);
    return s;
}
