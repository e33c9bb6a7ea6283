/*
 * safetensors_write.c - the streaming safetensors writer (safetensors.h).
 *
 * The header is the JSON the Rust reference serializes: compact, the
 * __metadata__ map first, then one entry per tensor with the fields in the
 * order dtype, shape, data_offsets, strings escaped as serde_json does, and
 * spaces appended up to a multiple of 8 bytes.  Unlike the reference, which
 * sorts tensors by dtype and name, tensors keep their declaration order, so
 * a converter can stream them as it produces them; a caller that wants every
 * tensor aligned to its element size declares the widest dtypes first.
 */
#include "safetensors.h"
#include "json_strict.h"
#include "le.h"
#include "outdir.h"
#include "outfile.h"
#include "sha256.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct wtensor {
    char *name;
    ckpt_dtype dtype;
    int n_dims;
    uint64_t shape[CKPT_ST_MAX_DIMS];
    uint64_t nbytes;
};

struct ckpt_st_writer {
    char *path;
    bool force;
    ckpt_outdir *dir; /* borrowed: the file `name` of it, else path */
    char *name;
    struct ckpt_outdir_part *parts; /* a digest directory's: each tensor's digest */
    ckpt_out *part;                 /* the digest of tensor cur, while it is written */
    struct wtensor *t;
    size_t n, cap;
    char **meta; /* key, value, key, value ... */
    size_t n_meta, cap_meta;
    uint64_t data_size;
    ckpt_out *out;   /* open between begin and finish */
    size_t cur;      /* tensor being written */
    uint64_t left;   /* bytes still owed to tensor cur */
    bool failed;     /* a write failed: finish only cleans up */
};

/* ---- a growable byte buffer for the header ---- */

struct sbuf {
    char *p;
    size_t len, cap;
    bool oom;
};

static void sb_put(struct sbuf *b, const char *s, size_t n)
{
    if (b->oom)
        return;
    if (n > b->cap - b->len) {
        size_t cap = b->cap ? b->cap : 4096;
        while (n > cap - b->len) {
            if (cap > SIZE_MAX / 2) {
                b->oom = true;
                return;
            }
            cap *= 2;
        }
        char *p = realloc(b->p, cap);
        if (!p) {
            b->oom = true;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
}

static void sb_str(struct sbuf *b, const char *s) { sb_put(b, s, strlen(s)); }

static void sb_u64(struct sbuf *b, uint64_t v)
{
    char tmp[24];
    int n = snprintf(tmp, sizeof tmp, "%" PRIu64, v);
    sb_put(b, tmp, (size_t)n);
}

/* A JSON string as serde_json writes it: `"` and `\` escaped, the short
 * escapes for \b \f \n \r \t, other control bytes as \u00xx (lowercase),
 * everything else (DEL, non-ASCII UTF-8) verbatim. */
static void sb_json_string(struct sbuf *b, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    sb_put(b, "\"", 1);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        const char *esc = NULL;
        switch (*p) {
        case '"': esc = "\\\""; break;
        case '\\': esc = "\\\\"; break;
        case '\b': esc = "\\b"; break;
        case '\f': esc = "\\f"; break;
        case '\n': esc = "\\n"; break;
        case '\r': esc = "\\r"; break;
        case '\t': esc = "\\t"; break;
        default: break;
        }
        if (esc) {
            sb_str(b, esc);
        } else if (*p < 0x20) {
            char u[6] = {'\\', 'u', '0', '0', hex[*p >> 4], hex[*p & 15]};
            sb_put(b, u, 6);
        } else {
            sb_put(b, (const char *)p, 1);
        }
    }
    sb_put(b, "\"", 1);
}

/* ---- declaration ---- */

ckpt_status ckpt_st_writer_new(ckpt_st_writer **out, const char *path, bool force, ckpt_err *err)
{
    *out = NULL;
    ckpt_st_writer *w = calloc(1, sizeof *w);
    if (!w || !(w->path = strdup(path))) {
        free(w);
        return ckpt_err_set(err, CKPT_E_NOMEM, "%s: out of memory", path);
    }
    w->force = force;
    *out = w;
    return CKPT_OK;
}

ckpt_status ckpt_st_writer_new_in(ckpt_st_writer **out, ckpt_outdir *dir, const char *name,
                                  ckpt_err *err)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", ckpt_outdir_path(dir), name);
    ckpt_status s = ckpt_st_writer_new(out, path, false, err);
    if (s == CKPT_OK && !((*out)->name = strdup(name))) {
        ckpt_st_writer_free(*out);
        *out = NULL;
        return ckpt_err_set(err, CKPT_E_NOMEM, "%s: out of memory", path);
    }
    if (s == CKPT_OK)
        (*out)->dir = dir;
    return s;
}

static bool utf8_ok(const char *s)
{
    return ckpt_utf8_valid((const uint8_t *)s, strlen(s), NULL);
}

ckpt_status ckpt_st_writer_add_metadata(ckpt_st_writer *w, const char *key, const char *value,
                                        ckpt_err *err)
{
    char nbuf[128];
    if (w->out || w->failed)
        return ckpt_err_set(err, CKPT_E_USAGE, "%s: metadata added after the header was written",
                            w->path);
    if (!utf8_ok(key) || !utf8_ok(value))
        return ckpt_err_set(err, CKPT_E_USAGE, "%s: metadata '%s': not valid UTF-8", w->path,
                            ckpt_json_printable(key, nbuf, sizeof nbuf));
    for (size_t i = 0; i < w->n_meta; i++)
        if (strcmp(w->meta[2 * i], key) == 0)
            return ckpt_err_set(err, CKPT_E_USAGE, "%s: metadata '%s': duplicate key", w->path,
                                ckpt_json_printable(key, nbuf, sizeof nbuf));
    if (w->n_meta == w->cap_meta) {
        size_t cap = w->cap_meta ? 2 * w->cap_meta : 4;
        char **p = realloc(w->meta, cap * 2 * sizeof *p);
        if (!p)
            return ckpt_err_set(err, CKPT_E_NOMEM, "%s: out of memory", w->path);
        w->meta = p;
        w->cap_meta = cap;
    }
    char *k = strdup(key), *v = strdup(value);
    if (!k || !v) {
        free(k);
        free(v);
        return ckpt_err_set(err, CKPT_E_NOMEM, "%s: out of memory", w->path);
    }
    w->meta[2 * w->n_meta] = k;
    w->meta[2 * w->n_meta + 1] = v;
    w->n_meta++;
    return CKPT_OK;
}

ckpt_status ckpt_st_writer_add_tensor(ckpt_st_writer *w, const char *name, ckpt_dtype dtype,
                                      int n_dims, const uint64_t *shape, ckpt_err *err)
{
    char nbuf[128];
    const char *pn = ckpt_json_printable(name, nbuf, sizeof nbuf);
    if (w->out || w->failed)
        return ckpt_err_set(err, CKPT_E_USAGE, "%s: tensor '%s' added after the header was written",
                            w->path, pn);
    if ((unsigned)dtype >= CKPT_DT_COUNT)
        return ckpt_err_set(err, CKPT_E_USAGE, "%s: tensor '%s': unknown dtype %d", w->path, pn,
                            (int)dtype);
    if (n_dims < 0 || n_dims > CKPT_ST_MAX_DIMS)
        return ckpt_err_set(err, CKPT_E_USAGE, "%s: tensor '%s': %d dimensions (0 to %d allowed)",
                            w->path, pn, n_dims, CKPT_ST_MAX_DIMS);
    if (strcmp(name, "__metadata__") == 0 || !utf8_ok(name))
        return ckpt_err_set(err, CKPT_E_USAGE, "%s: tensor '%s': name not allowed", w->path, pn);
    uint64_t nel = 1, nbits, end;
    for (int d = 0; d < n_dims; d++)
        if (__builtin_mul_overflow(nel, shape[d], &nel))
            return ckpt_err_set(err, CKPT_E_RANGE, "%s: tensor '%s': element count overflows",
                                w->path, pn);
    if (__builtin_mul_overflow(nel, (uint64_t)ckpt_dtype_bits(dtype), &nbits) ||
        __builtin_add_overflow(w->data_size, nbits / 8, &end))
        return ckpt_err_set(err, CKPT_E_RANGE, "%s: tensor '%s': byte size overflows", w->path,
                            pn);
    if (nbits % 8)
        return ckpt_err_set(err, CKPT_E_USAGE,
                            "%s: tensor '%s': %" PRIu64 " elements of %s are not whole bytes",
                            w->path, pn, nel, ckpt_dtype_name(dtype));
    if (w->n == w->cap) {
        size_t cap = w->cap ? 2 * w->cap : 64;
        struct wtensor *p = realloc(w->t, cap * sizeof *p);
        if (!p)
            return ckpt_err_set(err, CKPT_E_NOMEM, "%s: out of memory", w->path);
        w->t = p;
        w->cap = cap;
    }
    struct wtensor *t = &w->t[w->n];
    memset(t, 0, sizeof *t);
    if (!(t->name = strdup(name)))
        return ckpt_err_set(err, CKPT_E_NOMEM, "%s: out of memory", w->path);
    t->dtype = dtype;
    t->n_dims = n_dims;
    for (int d = 0; d < n_dims; d++)
        t->shape[d] = shape[d];
    t->nbytes = nbits / 8;
    w->data_size = end;
    w->n++;
    return CKPT_OK;
}

/* ---- header and data ---- */

static int cmp_pstr(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The header JSON, padded with spaces to a multiple of 8; caller frees. */
static ckpt_status build_header(ckpt_st_writer *w, struct sbuf *b, ckpt_err *err)
{
    sb_put(b, "{", 1);
    if (w->n_meta) {
        sb_str(b, "\"__metadata__\":{");
        for (size_t i = 0; i < w->n_meta; i++) {
            if (i)
                sb_put(b, ",", 1);
            sb_json_string(b, w->meta[2 * i]);
            sb_put(b, ":", 1);
            sb_json_string(b, w->meta[2 * i + 1]);
        }
        sb_put(b, "}", 1);
    }
    uint64_t off = 0;
    for (size_t i = 0; i < w->n; i++) {
        const struct wtensor *t = &w->t[i];
        if (i || w->n_meta)
            sb_put(b, ",", 1);
        sb_json_string(b, t->name);
        sb_str(b, ":{\"dtype\":\"");
        sb_str(b, ckpt_dtype_name(t->dtype));
        sb_str(b, "\",\"shape\":[");
        for (int d = 0; d < t->n_dims; d++) {
            if (d)
                sb_put(b, ",", 1);
            sb_u64(b, t->shape[d]);
        }
        sb_str(b, "],\"data_offsets\":[");
        sb_u64(b, off);
        sb_put(b, ",", 1);
        sb_u64(b, off + t->nbytes);
        sb_str(b, "]}");
        off += t->nbytes;
    }
    sb_put(b, "}", 1);
    while (!b->oom && b->len % 8)
        sb_put(b, " ", 1);
    if (b->oom)
        return ckpt_err_set(err, CKPT_E_NOMEM, "%s: out of memory for the header", w->path);
    if (b->len > CKPT_ST_MAX_HEADER)
        return ckpt_err_set(err, CKPT_E_RANGE,
                            "%s: header would be %zu bytes, above the %u-byte limit", w->path,
                            b->len, CKPT_ST_MAX_HEADER);
    return CKPT_OK;
}

ckpt_status ckpt_st_writer_begin(ckpt_st_writer *w, ckpt_err *err)
{
    if (w->out || w->failed)
        return ckpt_err_set(err, CKPT_E_USAGE, "%s: header already written", w->path);
    /* Duplicate names would make a header every strict reader rejects. */
    char **names = malloc((w->n ? w->n : 1) * sizeof *names);
    if (!names)
        return ckpt_err_set(err, CKPT_E_NOMEM, "%s: out of memory", w->path);
    for (size_t i = 0; i < w->n; i++)
        names[i] = w->t[i].name;
    qsort(names, w->n, sizeof *names, cmp_pstr);
    for (size_t i = 1; i < w->n; i++)
        if (strcmp(names[i - 1], names[i]) == 0) {
            char nbuf[128];
            ckpt_err_set(err, CKPT_E_USAGE, "%s: tensor '%s' declared twice", w->path,
                         ckpt_json_printable(names[i], nbuf, sizeof nbuf));
            free(names);
            return CKPT_E_USAGE;
        }
    free(names);

    struct sbuf b = {0};
    ckpt_status s = build_header(w, &b, err);
    if (s == CKPT_OK)
        s = w->dir ? ckpt_outdir_out_open(w->dir, w->name, &w->out, err)
                   : ckpt_out_open(&w->out, w->path, w->force, err);
    if (s == CKPT_OK) {
        uint8_t n8[8];
        le64enc(n8, (uint64_t)b.len);
        if ((s = ckpt_out_write(w->out, n8, 8, err)) == CKPT_OK)
            s = ckpt_out_write(w->out, b.p, b.len, err);
        if (s != CKPT_OK)
            w->failed = true;
    }
    free(b.p);
    w->cur = 0;
    w->left = w->n ? w->t[0].nbytes : 0;
    if (s == CKPT_OK && w->dir && (w->parts = ckpt_outdir_parts(w->dir, w->n)))
        for (size_t i = 0; s == CKPT_OK && i < w->n; i++) {
            snprintf(w->parts[i].name, sizeof w->parts[i].name, "%s", w->t[i].name);
            if (!w->t[i].nbytes) /* never written: the digest of nothing */
                s = ckpt_sha256_buf("", 0, w->parts[i].sha256, err);
        }
    return s;
}

/* Move past finished (and zero-size) tensors. */
static void skip_done(ckpt_st_writer *w)
{
    while (w->cur < w->n && w->left == 0) {
        w->cur++;
        w->left = w->cur < w->n ? w->t[w->cur].nbytes : 0;
    }
}

ckpt_status ckpt_st_writer_write(ckpt_st_writer *w, const void *data, size_t n, ckpt_err *err)
{
    if (!w->out || w->failed)
        return ckpt_err_set(err, CKPT_E_USAGE, "%s: data written before the header", w->path);
    const uint8_t *p = data;
    while (n > 0) {
        skip_done(w);
        if (w->cur >= w->n) {
            w->failed = true;
            return ckpt_err_set(err, CKPT_E_USAGE, "%s: %zu bytes more than the tensors declared",
                                w->path, n);
        }
        size_t take = w->left < n ? (size_t)w->left : n;
        ckpt_status s = CKPT_OK;
        if (w->parts && !w->part) /* a tensor starts */
            s = ckpt_out_open_digest(&w->part, w->parts[w->cur].name,
                                     w->parts[w->cur].sha256, err);
        if (s == CKPT_OK && w->part)
            s = ckpt_out_write(w->part, p, take, err);
        if (s == CKPT_OK && w->part && take == w->left) {
            s = ckpt_out_commit(w->part, err);
            w->part = NULL;
        }
        if (s == CKPT_OK)
            s = ckpt_out_write(w->out, p, take, err);
        if (s != CKPT_OK) {
            w->failed = true;
            return s;
        }
        p += take;
        n -= take;
        w->left -= take;
    }
    return CKPT_OK;
}

ckpt_status ckpt_st_writer_finish(ckpt_st_writer *w, ckpt_err *err)
{
    ckpt_status s = CKPT_OK;
    if (!w->out && !w->failed) {
        s = ckpt_err_set(err, CKPT_E_USAGE, "%s: finished before the header was written",
                         w->path);
    } else if (w->failed) {
        s = ckpt_err_set(err, CKPT_E_IO, "%s: an earlier write failed", w->path);
    } else {
        skip_done(w);
        if (w->cur < w->n) {
            char nbuf[128];
            const struct wtensor *t = &w->t[w->cur];
            s = ckpt_err_set(err, CKPT_E_USAGE,
                             "%s: tensor '%s': %" PRIu64 " of %" PRIu64 " bytes written", w->path,
                             ckpt_json_printable(t->name, nbuf, sizeof nbuf),
                             t->nbytes - w->left, t->nbytes);
        }
    }
    if (s == CKPT_OK) {
        s = ckpt_out_commit(w->out, err);
        w->out = NULL; /* commit frees it, on success and on failure */
    }
    ckpt_st_writer_free(w);
    return s;
}

void ckpt_st_writer_free(ckpt_st_writer *w)
{
    if (!w)
        return;
    ckpt_out_abort(w->out);
    for (size_t i = 0; i < w->n; i++)
        free(w->t[i].name);
    for (size_t i = 0; i < 2 * w->n_meta; i++)
        free(w->meta[i]);
    free(w->t);
    free(w->meta);
    free(w->path);
    free(w->name);
    ckpt_out_abort(w->part);
    free(w);
}
