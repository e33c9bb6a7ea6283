/*
 * sink_gguf.c - the GGUF sink (see sink.h): the file llama-quantize
 * writes.  Its metadata is decided here, from the source's keys, in
 * llama-quantize's order: gguf_set_kv copies the input's keys, then every
 * gguf_set_val_* call (quantization version, file type, the overrides)
 * removes a key of the same name and appends the new one - which is why
 * general.file_type ends up after general.quantization_version, at the
 * end, even though the input had both near the start.  The header is then
 * planned whole and the rows streamed behind it (gguf_write.c).
 */
#include "sink.h"
#include "../arch/gguf_keys.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One key of the output: from the source, or set on top of it. */
struct entry {
    const char *key;
    const struct ckpt_gguf_kv *from; /* source kv, or NULL */
    struct ckpt_qsink_kv set;        /* when from is NULL */
};

struct gsink {
    struct ckpt_qsink sink;
    ckpt_gguf_writer *w;
    const struct ckpt_qsink_meta *meta;
    bool meta_done; /* the keys go in before the first tensor */
    struct ckpt_qsink_files *files; /* or NULL */
};

/* split.* describe the input's files, not the output's (the writer adds
 * its own when it writes a split set); the input's recipe describes the
 * input (the output's own, which extends it, comes with meta->set, or
 * there is none). */
static bool skip_key(const char *key)
{
    return strcmp(key, CKPT_KEY_SPLIT_NO) == 0 || strcmp(key, CKPT_KEY_SPLIT_COUNT) == 0 ||
           strcmp(key, CKPT_KEY_SPLIT_TENSORS_COUNT) == 0 ||
           strcmp(key, CKPT_KEY_SOURCE_CKPT_RECIPE) == 0;
}

/* gguf_set_val_*: drop the key where it is, append it. */
static void set_last(struct entry *e, size_t *n, const struct ckpt_qsink_kv *kv)
{
    size_t j = 0;
    for (size_t i = 0; i < *n; i++)
        if (strcmp(e[i].key, kv->key) != 0)
            e[j++] = e[i];
    e[j++] = (struct entry){kv->key, NULL, *kv};
    *n = j;
}

static ckpt_status put(ckpt_gguf_writer *w, const struct entry *e, ckpt_err *err)
{
    const struct ckpt_qsink_kv *s = &e->set;
    if (e->from)
        return ckpt_gguf_writer_copy_kv(w, e->from, err);
    switch (s->type) {
    case CKPT_GGUF_UINT32: return ckpt_gguf_writer_set_u32(w, s->key, s->v.u32, err);
    case CKPT_GGUF_INT32: return ckpt_gguf_writer_set_i32(w, s->key, s->v.i32, err);
    case CKPT_GGUF_FLOAT32: return ckpt_gguf_writer_set_f32(w, s->key, s->v.f32, err);
    case CKPT_GGUF_BOOL: return ckpt_gguf_writer_set_bool(w, s->key, s->v.b, err);
    case CKPT_GGUF_STRING: return ckpt_gguf_writer_set_str(w, s->key, s->v.str, err);
    default:
        return ckpt_err_set(err, CKPT_E_USAGE, "key '%s': cannot set a value of type %s", s->key,
                            ckpt_gguf_type_name(s->type));
    }
}

static ckpt_status write_meta(struct gsink *s, ckpt_err *err)
{
    const struct ckpt_qsink_meta *m = s->meta;
    if (s->meta_done)
        return CKPT_OK;
    s->meta_done = true;
    const size_t n_src = m->source ? ckpt_gguf_n_kv(m->source) : 0;
    struct entry *e = calloc(n_src + m->n_set + 2, sizeof *e);
    if (!e)
        return ckpt_err_set(err, CKPT_E_NOMEM, "out of memory for %zu keys", n_src);
    size_t n = 0;
    for (size_t i = 0; i < n_src; i++) {
        const struct ckpt_gguf_kv *kv = ckpt_gguf_kv_at(m->source, i);
        if (!skip_key(kv->key))
            e[n++] = (struct entry){kv->key, kv, {0}};
    }
    const struct ckpt_qsink_kv qv = {CKPT_KEY_QUANT_VERSION, CKPT_GGUF_UINT32, {.u32 = 2}};
    const struct ckpt_qsink_kv ft = {CKPT_KEY_FILE_TYPE, CKPT_GGUF_UINT32, {.u32 = m->file_type}};
    set_last(e, &n, &qv);
    set_last(e, &n, &ft);
    for (size_t i = 0; i < m->n_set; i++)
        set_last(e, &n, &m->set[i]);
    ckpt_status st = CKPT_OK;
    for (size_t i = 0; i < n && st == CKPT_OK; i++)
        st = put(s->w, &e[i], err);
    free(e);
    return st;
}

static ckpt_status g_declare(void *ctx, size_t k, const struct ckpt_qsink_tensor *t,
                             ckpt_type *rows_type, ckpt_err *err)
{
    struct gsink *s = ctx;
    ckpt_status st;
    (void)k; /* the writer keeps declaration order */
    if ((st = write_meta(s, err)) != CKPT_OK)
        return st;
    *rows_type = t->type;
    return ckpt_gguf_writer_add_tensor(s->w, t->name, t->type, t->n_dims, t->ne, err);
}

static ckpt_status g_begin(void *ctx, uint64_t *planned, ckpt_err *err)
{
    struct gsink *s = ctx;
    ckpt_status st;
    if ((st = write_meta(s, err)) != CKPT_OK) /* a model without tensors */
        return st;
    *planned = ckpt_gguf_writer_planned_size(s->w);
    st = ckpt_gguf_writer_begin(s->w, err);
    if (st == CKPT_OK && s->files) {
        s->files->n = ckpt_gguf_writer_part_count(s->w);
        snprintf(s->files->first, sizeof s->files->first, "%s",
                 ckpt_gguf_writer_part_path(s->w, 0));
    }
    return st;
}

static ckpt_status g_rows(void *ctx, size_t k, int64_t row, int64_t n, const void *data,
                          size_t size, ckpt_err *err)
{
    (void)k; /* the writer streams in declaration order already */
    (void)row;
    (void)n;
    struct gsink *s = ctx;
    return ckpt_gguf_writer_write(s->w, data, size, err);
}

static ckpt_status g_finish(void *ctx, ckpt_err *err)
{
    struct gsink *s = ctx;
    ckpt_status st = ckpt_gguf_writer_finish(s->w, err);
    free(s);
    return st;
}

static void g_abort(void *ctx)
{
    struct gsink *s = ctx;
    ckpt_gguf_writer_free(s->w);
    free(s);
}

static const struct ckpt_qsink_ops gguf_ops = {g_declare, g_begin, g_rows, g_finish, g_abort};

/* The sink around a writer for files (digest NULL) or for a digest. */
static ckpt_status open_sink(struct ckpt_qsink **out, const char *path, bool force,
                             uint64_t max_bytes, uint64_t max_tensors,
                             struct ckpt_qsink_files *files, const struct ckpt_qsink_meta *meta,
                             struct ckpt_gguf_digest *digest, ckpt_err *err)
{
    *out = NULL;
    struct gsink *s = calloc(1, sizeof *s);
    if (!s)
        return ckpt_err_set(err, CKPT_E_NOMEM, "%s: out of memory", path);
    ckpt_status st = digest ? ckpt_gguf_writer_new_digest(&s->w, path, digest, err)
                            : ckpt_gguf_writer_new(&s->w, path, force, err);
    if (st == CKPT_OK)
        st = ckpt_gguf_writer_set_split(s->w, max_bytes, max_tensors, err);
    if (st != CKPT_OK) {
        ckpt_gguf_writer_free(s->w);
        free(s);
        return st;
    }
    s->files = files;
    s->meta = meta;
    s->sink = (struct ckpt_qsink){&gguf_ops, s};
    *out = &s->sink;
    return CKPT_OK;
}

ckpt_status ckpt_qsink_open_gguf(struct ckpt_qsink **out, const char *path, bool force,
                                 const struct ckpt_qsink_meta *meta, ckpt_err *err)
{
    return open_sink(out, path, force, 0, 0, NULL, meta, NULL, err);
}

ckpt_status ckpt_qsink_open_gguf_split(struct ckpt_qsink **out, const char *path, bool force,
                                       uint64_t max_bytes, uint64_t max_tensors,
                                       struct ckpt_qsink_files *files,
                                       const struct ckpt_qsink_meta *meta, ckpt_err *err)
{
    return open_sink(out, path, force, max_bytes, max_tensors, files, meta, NULL, err);
}

ckpt_status ckpt_qsink_open_gguf_digest(struct ckpt_qsink **out, const char *name,
                                        uint64_t max_bytes, uint64_t max_tensors,
                                        const struct ckpt_qsink_meta *meta,
                                        struct ckpt_gguf_digest *digest, ckpt_err *err)
{
    return open_sink(out, name, false, max_bytes, max_tensors, NULL, meta, digest, err);
}
