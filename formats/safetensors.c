/*
 * safetensors.c - the safetensors reader (safetensors.h).
 *
 * The checks run in the order of the Rust reference's read_metadata and
 * Metadata::validate (FORMATS.md §1.4), each reported as its own
 * ckpt_st_check, with the checks cJSON needs on top (json_strict.h).  Like
 * the reference, unknown fields inside a tensor object are ignored and a
 * zero-size tensor [k, k] sorted before a non-empty tensor starting at k is
 * accepted: sorting by (begin, end) puts it first and it covers no byte, so
 * no byte is shared.  Nothing is allocated before the header length has
 * been checked against the 100 MB cap and the file size.
 */
#include "safetensors.h"
#include "json_strict.h"
#include "le.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LFS_PREFIX "version https://git-lfs"

/* Values the header lexer lets through before cJSON builds the tree: a tensor
 * entry is at most 18 values (key, object, 3 field names, dtype, 2 arrays,
 * 8 dims, 2 offsets) -- more only through fields the reader ignores. */
#define MAX_JSON_VALUES (24u * CKPT_ST_MAX_TENSORS)

struct ckpt_st {
    ckpt_map *map;           /* NULL for a buffer reader */
    char *path;
    const uint8_t *base;     /* the whole file */
    size_t size;
    uint64_t n_header;       /* N */
    size_t n_tensors;
    struct ckpt_st_tensor *tensors; /* offset order */
    size_t *by_name;         /* tensor indices sorted by name */
    size_t n_meta;
    const char **meta;       /* key, value, key, value ... */
    char *arena;             /* every name and metadata string */
};

static const char *const check_names[] = {
    [CKPT_ST_OK] = "Ok",
    [CKPT_ST_HEADER_TOO_SMALL] = "HeaderTooSmall",
    [CKPT_ST_HEADER_TOO_LARGE] = "HeaderTooLarge",
    [CKPT_ST_INVALID_HEADER_LENGTH] = "InvalidHeaderLength",
    [CKPT_ST_INVALID_HEADER] = "InvalidHeader",
    [CKPT_ST_INVALID_HEADER_DESERIALIZATION] = "InvalidHeaderDeserialization",
    [CKPT_ST_INVALID_OFFSET] = "InvalidOffset",
    [CKPT_ST_VALIDATION_OVERFLOW] = "ValidationOverflow",
    [CKPT_ST_MISALIGNED_SLICE] = "MisalignedSlice",
    [CKPT_ST_TENSOR_INVALID_INFO] = "TensorInvalidInfo",
    [CKPT_ST_METADATA_INCOMPLETE_BUFFER] = "MetadataIncompleteBuffer",
    [CKPT_ST_LFS_POINTER] = "GitLfsPointer",
};

const char *ckpt_st_check_name(ckpt_st_check c)
{
    if ((unsigned)c < sizeof check_names / sizeof check_names[0] && check_names[c])
        return check_names[c];
    return "?";
}

/* A parsed entry before sorting: where its strings are in the tree. */
struct entry {
    const cJSON *item;       /* the member (string = tensor name) */
    struct ckpt_st_tensor t; /* name filled in later */
    size_t order;            /* position in the header, to keep sorting stable */
};

/* Fail with a check; the message is already in err. */
static ckpt_status fail_check(ckpt_st_check *check, ckpt_st_check c, ckpt_status s)
{
    if (check)
        *check = c;
    return s;
}

#define TNAME(t) ckpt_json_printable((t), nbuf, sizeof nbuf)

/* "[1,2,3]" into buf. */
static const char *fmt_shape(const struct ckpt_st_tensor *t, char *buf, size_t n)
{
    size_t o = 0;
    o += (size_t)snprintf(buf + o, n - o, "[");
    for (int d = 0; d < t->n_dims && o < n; d++)
        o += (size_t)snprintf(buf + o, n - o, "%s%" PRIu64, d ? "," : "", t->shape[d]);
    if (o < n)
        snprintf(buf + o, n - o, "]");
    return buf;
}

/* Read one tensor object into e->t (dtype, shape, offsets). */
static ckpt_status parse_tensor(const ckpt_json *j, const char *path, struct entry *e,
                                ckpt_st_check *check, ckpt_err *err)
{
    char nbuf[128];
    const char *name = e->item->string;
    const cJSON *obj = e->item;
    const ckpt_st_check D = CKPT_ST_INVALID_HEADER_DESERIALIZATION;
    if (!cJSON_IsObject(obj)) {
        ckpt_err_set(err, CKPT_E_FORMAT, "%s: tensor '%s': entry is not a JSON object", path,
                     TNAME(name));
        return fail_check(check, D, CKPT_E_FORMAT);
    }
    const cJSON *dtype = NULL, *shape = NULL, *offs = NULL;
    for (const cJSON *f = obj->child; f; f = f->next) {
        if (strcmp(f->string, "dtype") == 0)
            dtype = f;
        else if (strcmp(f->string, "shape") == 0)
            shape = f;
        else if (strcmp(f->string, "data_offsets") == 0)
            offs = f;
    }
    const char *missing = !dtype ? "dtype" : !shape ? "shape" : !offs ? "data_offsets" : NULL;
    if (missing) {
        ckpt_err_set(err, CKPT_E_FORMAT, "%s: tensor '%s': missing field '%s'", path,
                     TNAME(name), missing);
        return fail_check(check, D, CKPT_E_FORMAT);
    }
    if (!cJSON_IsString(dtype)) {
        ckpt_err_set(err, CKPT_E_FORMAT, "%s: tensor '%s': dtype is not a string", path,
                     TNAME(name));
        return fail_check(check, D, CKPT_E_FORMAT);
    }
    int dt = ckpt_dtype_from_name(dtype->valuestring);
    if (dt < 0) {
        char dbuf[64];
        ckpt_err_set(err, CKPT_E_FORMAT, "%s: tensor '%s': unknown dtype '%s'", path,
                     TNAME(name), ckpt_json_printable(dtype->valuestring, dbuf, sizeof dbuf));
        return fail_check(check, D, CKPT_E_FORMAT);
    }
    e->t.dtype = (ckpt_dtype)dt;
    if (!cJSON_IsArray(shape)) {
        ckpt_err_set(err, CKPT_E_FORMAT, "%s: tensor '%s': shape is not an array", path,
                     TNAME(name));
        return fail_check(check, D, CKPT_E_FORMAT);
    }
    size_t nd = ckpt_json_count(shape);
    if (nd > CKPT_ST_MAX_DIMS) {
        ckpt_err_set(err, CKPT_E_UNSUPPORTED,
                     "%s: tensor '%s': shape has %zu dimensions (at most %d supported)", path,
                     TNAME(name), nd, CKPT_ST_MAX_DIMS);
        return fail_check(check, D, CKPT_E_UNSUPPORTED);
    }
    e->t.n_dims = (int)nd;
    int d = 0;
    for (const cJSON *v = shape->child; v; v = v->next, d++)
        if (!ckpt_json_u64(j, v, &e->t.shape[d])) {
            ckpt_err_set(err, CKPT_E_FORMAT,
                         "%s: tensor '%s': shape[%d] is not a non-negative integer below 2^64",
                         path, TNAME(name), d);
            return fail_check(check, D, CKPT_E_FORMAT);
        }
    if (!cJSON_IsArray(offs) || ckpt_json_count(offs) != 2 ||
        !ckpt_json_u64(j, offs->child, &e->t.begin) ||
        !ckpt_json_u64(j, offs->child->next, &e->t.end)) {
        ckpt_err_set(err, CKPT_E_FORMAT,
                     "%s: tensor '%s': data_offsets is not a pair of non-negative integers",
                     path, TNAME(name));
        return fail_check(check, D, CKPT_E_FORMAT);
    }
    return CKPT_OK;
}

static int cmp_entry(const void *a, const void *b)
{
    const struct entry *x = a, *y = b;
    if (x->t.begin != y->t.begin)
        return x->t.begin < y->t.begin ? -1 : 1;
    if (x->t.end != y->t.end)
        return x->t.end < y->t.end ? -1 : 1;
    return x->order < y->order ? -1 : x->order > y->order;
}

/* Metadata::validate: walk tensors in offset order from 0. */
static ckpt_status validate(struct ckpt_st *st, struct entry *ents, size_t n,
                            uint64_t *covered, ckpt_st_check *check, ckpt_err *err)
{
    char nbuf[128];
    uint64_t start = 0;
    for (size_t i = 0; i < n; i++) {
        struct ckpt_st_tensor *t = &ents[i].t;
        const char *name = ents[i].item->string;
        if (t->begin != start || t->end < t->begin) {
            if (t->end < t->begin)
                ckpt_err_set(err, CKPT_E_FORMAT,
                             "%s: tensor '%s': invalid data_offsets [%" PRIu64 ", %" PRIu64
                             "]: end before begin",
                             st->path, TNAME(name), t->begin, t->end);
            else
                ckpt_err_set(err, CKPT_E_FORMAT,
                             "%s: tensor '%s': invalid data_offsets [%" PRIu64 ", %" PRIu64
                             "]: expected the data to start at %" PRIu64
                             " (tensors must be contiguous, without gaps or overlaps)",
                             st->path, TNAME(name), t->begin, t->end, start);
            return fail_check(check, CKPT_ST_INVALID_OFFSET, CKPT_E_FORMAT);
        }
        start = t->end;
        uint64_t nel = 1, nbits;
        for (int d = 0; d < t->n_dims; d++)
            if (__builtin_mul_overflow(nel, t->shape[d], &nel)) {
                ckpt_err_set(err, CKPT_E_RANGE,
                             "%s: tensor '%s': element count of the shape overflows 64 bits",
                             st->path, TNAME(name));
                return fail_check(check, CKPT_ST_VALIDATION_OVERFLOW, CKPT_E_RANGE);
            }
        if (__builtin_mul_overflow(nel, (uint64_t)ckpt_dtype_bits(t->dtype), &nbits)) {
            ckpt_err_set(err, CKPT_E_RANGE,
                         "%s: tensor '%s': byte size of %" PRIu64 " %s elements overflows 64 bits",
                         st->path, TNAME(name), nel, ckpt_dtype_name(t->dtype));
            return fail_check(check, CKPT_ST_VALIDATION_OVERFLOW, CKPT_E_RANGE);
        }
        if (nbits % 8 != 0) {
            ckpt_err_set(err, CKPT_E_FORMAT,
                         "%s: tensor '%s': %" PRIu64 " elements of %s are not a whole number "
                         "of bytes (misaligned slice)",
                         st->path, TNAME(name), nel, ckpt_dtype_name(t->dtype));
            return fail_check(check, CKPT_ST_MISALIGNED_SLICE, CKPT_E_FORMAT);
        }
        if (t->end - t->begin != nbits / 8) {
            char sbuf[200];
            ckpt_err_set(err, CKPT_E_FORMAT,
                         "%s: tensor '%s': data_offsets [%" PRIu64 ", %" PRIu64 "] hold %" PRIu64
                         " bytes but %s %s needs %" PRIu64,
                         st->path, TNAME(name), t->begin, t->end, t->end - t->begin,
                         ckpt_dtype_name(t->dtype), fmt_shape(t, sbuf, sizeof sbuf), nbits / 8);
            return fail_check(check, CKPT_ST_TENSOR_INVALID_INFO, CKPT_E_FORMAT);
        }
        t->n_elements = nel;
    }
    *covered = start;
    return CKPT_OK;
}

/* Copy names and metadata strings into one arena; fill tensors and indices. */
static ckpt_status build_tables(struct ckpt_st *st, struct entry *ents, size_t n,
                                const cJSON *meta, ckpt_err *err)
{
    size_t total = 0;
    size_t n_meta = ckpt_json_count(meta);
    for (size_t i = 0; i < n; i++)
        total += strlen(ents[i].item->string) + 1;
    for (const cJSON *m = meta ? meta->child : NULL; m; m = m->next)
        total += strlen(m->string) + strlen(m->valuestring) + 2;
    st->arena = malloc(total ? total : 1);
    st->tensors = calloc(n ? n : 1, sizeof *st->tensors);
    st->by_name = malloc((n ? n : 1) * sizeof *st->by_name);
    st->meta = malloc((n_meta ? n_meta : 1) * 2 * sizeof *st->meta);
    if (!st->arena || !st->tensors || !st->by_name || !st->meta)
        return ckpt_err_set(err, CKPT_E_NOMEM, "%s: out of memory for %zu tensors", st->path, n);
    char *p = st->arena;
#define ARENA_COPY(dst, s)                                                                         \
    do {                                                                                           \
        size_t len_ = strlen(s) + 1;                                                               \
        memcpy(p, (s), len_);                                                                      \
        (dst) = p;                                                                                 \
        p += len_;                                                                                 \
    } while (0)
    for (size_t i = 0; i < n; i++) {
        st->tensors[i] = ents[i].t;
        ARENA_COPY(st->tensors[i].name, ents[i].item->string);
        uint64_t len = st->tensors[i].end - st->tensors[i].begin;
        st->tensors[i].data = len ? st->base + 8 + st->n_header + st->tensors[i].begin : NULL;
        st->by_name[i] = i;
    }
    size_t k = 0;
    for (const cJSON *m = meta ? meta->child : NULL; m; m = m->next, k++) {
        ARENA_COPY(st->meta[2 * k], m->string);
        ARENA_COPY(st->meta[2 * k + 1], m->valuestring);
    }
#undef ARENA_COPY
    st->n_tensors = n;
    st->n_meta = n_meta;
    return CKPT_OK;
}

/* by_name: qsort's comparator cannot see the tensor array, so sort
 * (name, index) pairs and keep the indices. */
struct name_ix {
    const char *name;
    size_t ix;
};

static int cmp_name_ix(const void *a, const void *b)
{
    return strcmp(((const struct name_ix *)a)->name, ((const struct name_ix *)b)->name);
}

static ckpt_status sort_names(struct ckpt_st *st, ckpt_err *err)
{
    struct name_ix *v = malloc((st->n_tensors ? st->n_tensors : 1) * sizeof *v);
    if (!v)
        return ckpt_err_set(err, CKPT_E_NOMEM, "%s: out of memory", st->path);
    for (size_t i = 0; i < st->n_tensors; i++)
        v[i] = (struct name_ix){st->tensors[i].name, i};
    qsort(v, st->n_tensors, sizeof *v, cmp_name_ix);
    for (size_t i = 0; i < st->n_tensors; i++)
        st->by_name[i] = v[i].ix;
    free(v);
    return CKPT_OK;
}

/* read_metadata + validate over st->base / st->size. */
static ckpt_status parse(struct ckpt_st *st, ckpt_st_check *check, ckpt_err *err)
{
    const char *path = st->path;
    const ckpt_st_check D = CKPT_ST_INVALID_HEADER_DESERIALIZATION;
    if (st->size < 8) {
        ckpt_err_set(err, CKPT_E_FORMAT,
                     "%s: file is %zu bytes, too small for a safetensors header (need 8)", path,
                     st->size);
        return fail_check(check, CKPT_ST_HEADER_TOO_SMALL, CKPT_E_FORMAT);
    }
    uint64_t n = le64dec(st->base);
    if (n > CKPT_ST_MAX_HEADER || n > SIZE_MAX - 8) {
        size_t lp = sizeof LFS_PREFIX - 1;
        if (st->size >= lp && memcmp(st->base, LFS_PREFIX, lp) == 0) {
            ckpt_err_set(err, CKPT_E_FORMAT,
                         "%s: file is a Git LFS pointer, not the tensor data "
                         "(fetch the weights with `git lfs pull`)",
                         path);
            return fail_check(check, CKPT_ST_LFS_POINTER, CKPT_E_FORMAT);
        }
        ckpt_err_set(err, CKPT_E_RANGE,
                     "%s: header length %" PRIu64 " is larger than the %u-byte limit", path, n,
                     CKPT_ST_MAX_HEADER);
        return fail_check(check, CKPT_ST_HEADER_TOO_LARGE, CKPT_E_RANGE);
    }
    if (n > st->size - 8) {
        ckpt_err_set(err, CKPT_E_FORMAT,
                     "%s: header length %" PRIu64 " runs past the end of the file (%zu bytes; "
                     "truncated?)",
                     path, n, st->size);
        return fail_check(check, CKPT_ST_INVALID_HEADER_LENGTH, CKPT_E_FORMAT);
    }
    st->n_header = n;

    char what[CKPT_ERR_MSG_LEN];
    snprintf(what, sizeof what, "%s: header", path);
    const struct ckpt_json_limits lim = {MAX_JSON_VALUES, CKPT_ST_MAX_TENSORS + 1};
    ckpt_json_fail jf;
    ckpt_json *j = NULL;
    ckpt_status s = ckpt_json_parse(&j, (const char *)st->base + 8, (size_t)n, what, &lim, &jf,
                                    err);
    if (s != CKPT_OK)
        return fail_check(check,
                          jf == CKPT_JSON_BAD_ENCODING ? CKPT_ST_INVALID_HEADER
                          : jf == CKPT_JSON_TOO_BIG    ? CKPT_ST_HEADER_TOO_LARGE
                                                       : D,
                          s);

    struct entry *ents = NULL;
    const cJSON *root = ckpt_json_root(j), *meta = NULL;
    if (!cJSON_IsObject(root)) {
        ckpt_err_set(err, CKPT_E_FORMAT, "%s: header is not a JSON object", path);
        s = fail_check(check, D, CKPT_E_FORMAT);
        goto out;
    }
    size_t n_members = ckpt_json_count(root), n_t = 0;
    ents = calloc(n_members ? n_members : 1, sizeof *ents);
    if (!ents) {
        s = ckpt_err_set(err, CKPT_E_NOMEM, "%s: out of memory", path);
        goto out;
    }
    for (const cJSON *m = root->child; m; m = m->next) {
        if (strcmp(m->string, "__metadata__") == 0) {
            if (cJSON_IsNull(m))
                continue; /* Option<HashMap>: null is "no metadata" */
            if (!cJSON_IsObject(m)) {
                ckpt_err_set(err, CKPT_E_FORMAT, "%s: header: __metadata__ is not an object",
                             path);
                s = fail_check(check, D, CKPT_E_FORMAT);
                goto out;
            }
            for (const cJSON *kv = m->child; kv; kv = kv->next)
                if (!cJSON_IsString(kv)) {
                    char nbuf[128];
                    ckpt_err_set(err, CKPT_E_FORMAT,
                                 "%s: header: __metadata__ value of '%s' is not a string", path,
                                 TNAME(kv->string));
                    s = fail_check(check, D, CKPT_E_FORMAT);
                    goto out;
                }
            meta = m;
            continue;
        }
        ents[n_t].item = m;
        ents[n_t].order = n_t;
        if ((s = parse_tensor(j, path, &ents[n_t], check, err)) != CKPT_OK)
            goto out;
        n_t++;
    }
    if (n_t > CKPT_ST_MAX_TENSORS) {
        ckpt_err_set(err, CKPT_E_RANGE, "%s: header declares %zu tensors (limit %d)", path, n_t,
                     CKPT_ST_MAX_TENSORS);
        s = fail_check(check, CKPT_ST_HEADER_TOO_LARGE, CKPT_E_RANGE);
        goto out;
    }
    qsort(ents, n_t, sizeof *ents, cmp_entry);
    uint64_t covered = 0, data_size = st->size - 8 - n;
    if ((s = validate(st, ents, n_t, &covered, check, err)) != CKPT_OK)
        goto out;
    if (covered != data_size) {
        if (covered < data_size)
            ckpt_err_set(err, CKPT_E_FORMAT,
                         "%s: %" PRIu64 " unexpected bytes after the last tensor (data section "
                         "is %" PRIu64 " bytes, tensors cover %" PRIu64 ")",
                         path, data_size - covered, data_size, covered);
        else
            ckpt_err_set(err, CKPT_E_FORMAT,
                         "%s: file truncated: tensors need %" PRIu64 " data bytes but only %" PRIu64
                         " are present (incomplete download?)",
                         path, covered, data_size);
        s = fail_check(check, CKPT_ST_METADATA_INCOMPLETE_BUFFER, CKPT_E_FORMAT);
        goto out;
    }
    if ((s = build_tables(st, ents, n_t, meta, err)) != CKPT_OK ||
        (s = sort_names(st, err)) != CKPT_OK)
        goto out;
    if (check)
        *check = CKPT_ST_OK;
out:
    free(ents);
    ckpt_json_free(j);
    return s;
}

static ckpt_status finish_open(struct ckpt_st *st, ckpt_st **out, ckpt_st_check *check,
                               ckpt_err *err)
{
    ckpt_status s = parse(st, check, err);
    if (s != CKPT_OK) {
        if (check && *check == CKPT_ST_OK)
            *check = CKPT_ST_INVALID_HEADER_DESERIALIZATION; /* out of memory on the way */
        ckpt_st_close(st);
        return s;
    }
    *out = st;
    return CKPT_OK;
}

ckpt_status ckpt_st_open(ckpt_st **out, const char *path, ckpt_st_check *check, ckpt_err *err)
{
    *out = NULL;
    if (check)
        *check = CKPT_ST_OK;
    struct ckpt_st *st = calloc(1, sizeof *st);
    if (!st || !(st->path = strdup(path))) {
        free(st);
        return ckpt_err_set(err, CKPT_E_NOMEM, "%s: out of memory", path);
    }
    ckpt_status s = ckpt_map_open(&st->map, path, err);
    if (s != CKPT_OK) {
        ckpt_st_close(st);
        return s;
    }
    st->base = st->map->data;
    st->size = st->map->size;
    return finish_open(st, out, check, err);
}

ckpt_status ckpt_st_open_buffer(ckpt_st **out, const char *name, const void *data, size_t size,
                                ckpt_st_check *check, ckpt_err *err)
{
    *out = NULL;
    if (check)
        *check = CKPT_ST_OK;
    struct ckpt_st *st = calloc(1, sizeof *st);
    if (!st || !(st->path = strdup(name))) {
        free(st);
        return ckpt_err_set(err, CKPT_E_NOMEM, "%s: out of memory", name);
    }
    st->base = size ? data : NULL;
    st->size = size;
    return finish_open(st, out, check, err);
}

void ckpt_st_close(ckpt_st *st)
{
    if (!st)
        return;
    ckpt_map_close(st->map);
    free(st->path);
    free(st->tensors);
    free(st->by_name);
    free(st->meta);
    free(st->arena);
    free(st);
}

size_t ckpt_st_n_tensors(const ckpt_st *st) { return st->n_tensors; }

const struct ckpt_st_tensor *ckpt_st_tensor(const ckpt_st *st, size_t i)
{
    return i < st->n_tensors ? &st->tensors[i] : NULL;
}

const struct ckpt_st_tensor *ckpt_st_find(const ckpt_st *st, const char *name)
{
    size_t lo = 0, hi = st->n_tensors;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const struct ckpt_st_tensor *t = &st->tensors[st->by_name[mid]];
        int c = strcmp(name, t->name);
        if (c == 0)
            return t;
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return NULL;
}

size_t ckpt_st_n_metadata(const ckpt_st *st) { return st->n_meta; }

void ckpt_st_metadata(const ckpt_st *st, size_t i, const char **key, const char **value)
{
    if (i >= st->n_meta) {
        *key = *value = NULL;
        return;
    }
    *key = st->meta[2 * i];
    *value = st->meta[2 * i + 1];
}

uint64_t ckpt_st_header_size(const ckpt_st *st) { return st->n_header; }
uint64_t ckpt_st_data_offset(const ckpt_st *st) { return 8 + st->n_header; }
uint64_t ckpt_st_file_size(const ckpt_st *st) { return st->size; }
const char *ckpt_st_path(const ckpt_st *st) { return st->path; }
const ckpt_map *ckpt_st_map(const ckpt_st *st) { return st->map; }
