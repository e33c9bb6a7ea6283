/*
 * sink_ct.c - the compressed-tensors sink (see sink.h, sink_ct.h): a
 * model directory that vLLM and transformers load, with integer Linear
 * weights and everything else in the model's float dtype.
 *
 * The driver streams tensors in its (GGUF) order and names; this sink
 * maps each to its Hugging Face tensor(s) through the architecture
 * descriptor: Q/K rows back to Hugging Face's rotate-half order, a stack
 * of experts back to one tensor per expert.  Float tensors are taken in
 * the output dtype (the driver converts them) and streamed straight to
 * their shard.  A quantized matrix is taken as f32 rows, quantized row by
 * row here (a row's scales depend on that row only), and held encoded
 * until its last row arrives, since Q/K rows arrive permuted: memory is one
 * encoded matrix (a quarter of its f32 size for int8, an eighth for int4).
 *
 * The layout is planned at begin (every size follows from the shapes):
 * shards split as huggingface_hub's split_state_dict_into_shards_factory
 * splits a state dict (in output order, a new shard when the next tensor
 * would pass the limit, a tensor larger than the limit alone in a shard
 * of its own), named model-0000N-of-0000M.safetensors with
 * model.safetensors.index.json (metadata.total_size = the bytes of all
 * tensors), or model.safetensors alone when one shard holds everything,
 * as transformers' save_pretrained names them.  Every shard carries
 * __metadata__ {"format": "pt"}, which transformers requires, and, unless
 * --no-provenance, the recipe (formats/recipe.h) under CKPT_CT_RECIPE_KEY:
 * transformers and vLLM read "format" alone.
 */
#include "sink_ct.h"

#include "../arch/gguf_keys.h"
#include "../formats/mapfile.h"
#include "../formats/outdir.h"
#include "../formats/outfile.h"
#include "../formats/safetensors.h"
#include "../kernels/fp16.h"
#include "../kernels/permute.h"
#include "../kernels/pool.h"
#include "../kernels/quant.h"
#include "../kernels/quant_ct.h"
#include "ct_config.h"
#include "ct_gptq.h"
#include "optimize.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_SHARD ((uint64_t)5000000000) /* "5GB", as transformers reads it */

/* One tensor of the output files. */
struct otensor {
    char name[192];
    ckpt_dtype dt;
    int nd;
    uint64_t shape[2];
    uint64_t bytes;
    size_t shard;
};

/* One tensor the driver declares. */
struct dtensor {
    const char *gguf;  /* borrowed from the driver */
    int64_t cols;      /* ne[0]: input features */
    int64_t rows;      /* ne[1]: output features of one matrix */
    int64_t n_mat;     /* ne[2]*ne[3]: experts of a stack, else 1 */
    int64_t heads;     /* rows permuted over this many heads (Q/K), else 0 */
    bool quant;
    size_t first;      /* its first output tensor; per_mat of them per matrix */
    size_t per_mat;
    const float *imat; /* importance weights, n_mat slices of cols, or NULL */
};

struct csink {
    struct ckpt_qsink sink;
    struct ckpt_ct_sink_opts o;
    const struct ckpt_ct_scheme_info *scheme;
    const struct ckpt_qsink_meta *meta;
    const struct ckpt_arch *arch;
    const struct ckpt_arch_scheme *names;
    ckpt_type dt;       /* the model's float dtype (F32, F16, BF16) */
    ckpt_dtype sdt;     /* the same as a safetensors dtype */
    int64_t group;      /* columns per scale; 0 = per channel */
    int n_head, n_head_kv;
    bool search;        /* scales by the error search (observer mse / imatrix_mse), else absmax */
    struct dtensor *t;
    size_t nt, cap_t;
    struct otensor *out;
    size_t n_out, cap_out;
    size_t n_shards;
    ckpt_st_writer **w;
    ckpt_outdir *dir;
    uint64_t total_bytes;
    /* the matrix being quantized */
    uint8_t *qbuf;  /* rows x row bytes, in Hugging Face row order */
    float *sbuf;    /* rows x groups scales */
    int8_t *qrow;   /* one row of integers per thread */
    size_t qrow_cap;
    double *gbuf;   /* with gptq: 16 bytes a column per thread */
    uint8_t *sconv; /* scales in the output dtype */
    ckpt_pool *pool; /* rows of a chunk are encoded in parallel, each row by one thread */
};

static size_t dtype_bytes(ckpt_dtype dt) { return ckpt_dtype_bits(dt) / 8; }

/* ---- planning ---- */

/* Room for one more of n elements of `size` bytes in *p (capacity *cap). */
static ckpt_status room(void **p, size_t *cap, size_t n, size_t size, ckpt_err *err)
{
    if (n < *cap)
        return CKPT_OK;
    const size_t c = *cap ? 2 * *cap : 64;
    void *q = realloc(*p, c * size);
    if (!q)
        return ckpt_err_set(err, CKPT_E_NOMEM, "out of memory");
    *p = q;
    *cap = c;
    return CKPT_OK;
}

/* Output tensor `suffix` of the Hugging Face module of match m (expert e). */
static ckpt_status add_out(struct csink *s, const struct ckpt_arch_match *m, int e,
                           const char *suffix, ckpt_dtype dt, int nd, uint64_t d0, uint64_t d1,
                           ckpt_err *err)
{
    void *p = s->out;
    ckpt_status st = room(&p, &s->cap_out, s->n_out, sizeof *s->out, err);
    s->out = p;
    if (st != CKPT_OK)
        return st;
    struct otensor *o = &s->out[s->n_out];
    if (!ckpt_arch_hf_name(s->names, m->role, m->layer, e, suffix, o->name, sizeof o->name))
        return ckpt_err_set(err, CKPT_E_UNSUPPORTED, "no Hugging Face name for the %s of "
                            "role %d, layer %d", suffix, (int)m->role, m->layer);
    o->dt = dt;
    o->nd = nd;
    o->shape[0] = d0;
    o->shape[1] = d1;
    o->bytes = (nd == 1 ? d0 : d0 * d1) * dtype_bytes(dt);
    s->n_out++;
    return CKPT_OK;
}

/* Row bytes of one encoded row of a quantized matrix. */
static size_t qrow_bytes(const struct csink *s, int64_t cols)
{
    return s->scheme->packed ? (size_t)ckpt_ct_packed_words(cols, s->scheme->bits) * 4
                             : (size_t)cols;
}

static int64_t groups_of(const struct csink *s, int64_t cols)
{
    return s->group > 0 ? cols / s->group : 1;
}

static ckpt_status c_declare(void *ctx, size_t k, const struct ckpt_qsink_tensor *t,
                             ckpt_type *rows_type, ckpt_err *err)
{
    struct csink *s = ctx;
    (void)k;
    const struct ckpt_arch_match m = ckpt_arch_match_gguf(s->arch, t->name);
    if (!m.spec || !m.suffix)
        return ckpt_err_set(err, CKPT_E_UNSUPPORTED,
                            "tensor '%s': no Hugging Face name for it in %s", t->name,
                            s->arch->hf_class);
    void *p = s->t;
    ckpt_status st = room(&p, &s->cap_t, s->nt, sizeof *s->t, err);
    s->t = p;
    if (st != CKPT_OK)
        return st;
    struct dtensor *d = &s->t[s->nt++];
    *d = (struct dtensor){t->name, t->ne[0], t->ne[1], t->ne[2] * t->ne[3], 0, false, s->n_out,
                          1, NULL};
    d->quant = strcmp(m.suffix, "weight") == 0 && ckpt_ct_role_quantized(m.role, t->n_dims);
    if (m.spec->permute == CKPT_DIM_HEADS)
        d->heads = s->n_head;
    else if (m.spec->permute == CKPT_DIM_KV_HEADS)
        d->heads = s->n_head_kv;
    if (d->heads > 0 && (d->rows % d->heads || (d->rows / d->heads) % 2))
        return ckpt_err_set(err, CKPT_E_FORMAT, "tensor '%s': %lld rows do not split into %lld "
                            "heads of an even size", t->name, (long long)d->rows,
                            (long long)d->heads);
    if (d->n_mat > 1 && !m.spec->stacked)
        return ckpt_err_set(err, CKPT_E_UNSUPPORTED, "tensor '%s': a stack of %lld matrices "
                            "where one is expected", t->name, (long long)d->n_mat);
    if (d->quant && s->group > 0 && d->cols % s->group)
        return ckpt_err_set(err, CKPT_E_USAGE, "tensor '%s': %lld columns are not a multiple of "
                            "the group size %lld; choose a group size that divides every "
                            "row (--group-size) or per channel (--group-size channel)",
                            t->name, (long long)d->cols, (long long)s->group);
    if (d->quant && s->o.imatrix) {
        st = ckpt_imatrix_for_tensor(s->o.imatrix, t->name, d->cols, d->n_mat, &d->imat, err);
        if (st != CKPT_OK)
            return st;
    }
    for (int64_t e = 0; e < d->n_mat && st == CKPT_OK; e++) {
        const int ex = m.spec->stacked ? (int)e : -1;
        const uint64_t r = (uint64_t)d->rows, c = (uint64_t)d->cols;
        if (!d->quant) {
            st = t->n_dims == 1 ? add_out(s, &m, ex, m.suffix, s->sdt, 1, c, 0, err)
                                : add_out(s, &m, ex, m.suffix, s->sdt, 2, r, c, err);
            continue;
        }
        const uint64_t g = (uint64_t)groups_of(s, d->cols);
        if (s->scheme->packed) {
            d->per_mat = 3;
            st = add_out(s, &m, ex, "weight_packed", CKPT_DT_I32, 2, r,
                         (uint64_t)ckpt_ct_packed_words(d->cols, s->scheme->bits), err);
            if (st == CKPT_OK)
                st = add_out(s, &m, ex, "weight_scale", s->sdt, 2, r, g, err);
            if (st == CKPT_OK)
                st = add_out(s, &m, ex, "weight_shape", CKPT_DT_I64, 1, 2, 0, err);
        } else {
            d->per_mat = 2;
            st = add_out(s, &m, ex, "weight", CKPT_DT_I8, 2, r, c, err);
            if (st == CKPT_OK)
                st = add_out(s, &m, ex, "weight_scale", s->sdt, 2, r, g, err);
        }
    }
    /* floats come converted by the driver; quantized rows as f32 */
    *rows_type = d->quant ? CKPT_TYPE_F32 : s->dt;
    return st;
}

/* huggingface_hub's split: in order; a tensor over the limit alone in a
 * shard of its own (numbered before the one being filled). */
static ckpt_status plan_shards(struct csink *s, ckpt_err *err)
{
    const uint64_t max = s->o.max_shard_bytes ? s->o.max_shard_bytes : DEFAULT_SHARD;
    size_t *cur = malloc((s->n_out + 1) * sizeof *cur), n_cur = 0;
    if (!cur)
        return ckpt_err_set(err, CKPT_E_NOMEM, "out of memory");
    uint64_t cur_size = 0;
    size_t shard = 0;
    for (size_t i = 0; i < s->n_out; i++) {
        struct otensor *o = &s->out[i];
        s->total_bytes += o->bytes;
        if (o->bytes > max) {
            o->shard = shard++;
            continue;
        }
        if (cur_size + o->bytes > max) {
            for (size_t j = 0; j < n_cur; j++)
                s->out[cur[j]].shard = shard;
            shard++;
            n_cur = 0;
            cur_size = 0;
        }
        cur[n_cur++] = i;
        cur_size += o->bytes;
    }
    if (n_cur) {
        for (size_t j = 0; j < n_cur; j++)
            s->out[cur[j]].shard = shard;
        shard++;
    }
    free(cur);
    s->n_shards = shard;
    return CKPT_OK;
}

static void shard_name(const struct csink *s, size_t i, char *buf, size_t n)
{
    if (s->n_shards == 1)
        snprintf(buf, n, "model.safetensors");
    else
        snprintf(buf, n, "model-%05zu-of-%05zu.safetensors", i + 1, s->n_shards);
}

static ckpt_status c_begin(void *ctx, uint64_t *planned, ckpt_err *err)
{
    struct csink *s = ctx;
    ckpt_status st = plan_shards(s, err);
    if (st != CKPT_OK)
        return st;
    *planned = s->total_bytes;
    if (!(s->w = calloc(s->n_shards + 1, sizeof *s->w)))
        return ckpt_err_set(err, CKPT_E_NOMEM, "out of memory");
    st = s->o.digests ? ckpt_outdir_open_digest(&s->dir, s->o.dir, s->o.digests, err)
                      : ckpt_outdir_open(&s->dir, s->o.dir, s->o.force, err);
    if (st != CKPT_OK)
        return st;
    char name[64];
    for (size_t i = 0; i < s->n_shards && st == CKPT_OK; i++) {
        shard_name(s, i, name, sizeof name);
        st = ckpt_st_writer_new_in(&s->w[i], s->dir, name, err);
        if (st == CKPT_OK)
            st = ckpt_st_writer_add_metadata(s->w[i], "format", "pt", err);
        /* the recipe, as a GGUF carries it, under a key the loaders ignore */
        for (size_t k = 0; st == CKPT_OK && k < s->meta->n_set; k++)
            if (!strcmp(s->meta->set[k].key, CKPT_KEY_SOURCE_CKPT_RECIPE))
                st = ckpt_st_writer_add_metadata(s->w[i], CKPT_CT_RECIPE_KEY,
                                                 s->meta->set[k].v.str, err);
    }
    for (size_t i = 0; i < s->n_out && st == CKPT_OK; i++) {
        const struct otensor *o = &s->out[i];
        st = ckpt_st_writer_add_tensor(s->w[o->shard], o->name, o->dt, o->nd, o->shape, err);
    }
    for (size_t i = 0; i < s->n_shards && st == CKPT_OK; i++)
        st = ckpt_st_writer_begin(s->w[i], err);
    /* the buffers of the largest quantized matrix */
    size_t qmax = 0, smax = 0, cmax = 0;
    for (size_t i = 0; i < s->nt; i++) {
        const struct dtensor *d = &s->t[i];
        if (!d->quant)
            continue;
        const size_t q = (size_t)d->rows * qrow_bytes(s, d->cols);
        const size_t g = (size_t)(d->rows * groups_of(s, d->cols));
        qmax = q > qmax ? q : qmax;
        smax = g > smax ? g : smax;
        cmax = (size_t)d->cols > cmax ? (size_t)d->cols : cmax;
    }
    if (st == CKPT_OK &&
        (!(s->qbuf = malloc(qmax + 1)) || !(s->sbuf = malloc((smax + 1) * sizeof *s->sbuf)) ||
         !(s->sconv = malloc((smax + 1) * 4))))
        st = ckpt_err_set(err, CKPT_E_NOMEM, "out of memory for a %zu-byte matrix", qmax);
    if (st == CKPT_OK)
        st = ckpt_pool_new(&s->pool, s->o.n_threads, err);
    s->qrow_cap = cmax + 1;
    if (st == CKPT_OK && !(s->qrow = malloc(s->qrow_cap * (size_t)ckpt_pool_size(s->pool))))
        st = ckpt_err_set(err, CKPT_E_NOMEM, "out of memory");
    if (st == CKPT_OK && s->o.gptq &&
        !(s->gbuf = malloc(2 * s->qrow_cap * (size_t)ckpt_pool_size(s->pool) * sizeof *s->gbuf)))
        st = ckpt_err_set(err, CKPT_E_NOMEM, "out of memory");
    return st;
}

/* ---- streaming ---- */

static ckpt_status put(struct csink *s, size_t oi, const void *p, size_t n, ckpt_err *err)
{
    return ckpt_st_writer_write(s->w[s->out[oi].shard], p, n, err);
}

/* Matrix e of d is complete: its integers, scales and shape. */
static ckpt_status flush_matrix(struct csink *s, const struct dtensor *d, int64_t e,
                                ckpt_err *err)
{
    const size_t oi = d->first + (size_t)e * d->per_mat;
    const size_t ns = (size_t)(d->rows * groups_of(s, d->cols));
    ckpt_status st = put(s, oi, s->qbuf, (size_t)d->rows * qrow_bytes(s, d->cols), err);
    if (st != CKPT_OK)
        return st;
    st = ckpt_quantize_rows(s->dt, s->sbuf, s->sconv, 1, (int64_t)ns, NULL, err);
    if (st == CKPT_OK)
        st = put(s, oi + 1, s->sconv, ns * dtype_bytes(s->sdt), err);
    if (st == CKPT_OK && s->scheme->packed) {
        uint8_t shape[16];
        const uint64_t v[2] = {(uint64_t)d->rows, (uint64_t)d->cols};
        for (int i = 0; i < 16; i++)
            shape[i] = (uint8_t)(v[i / 8] >> (8 * (i % 8)));
        st = put(s, oi + 2, shape, sizeof shape, err);
    }
    return st;
}

/* Rows [r0 + begin, r0 + end) of one matrix of d, from f32 rows at x. */
struct enc {
    struct csink *s;
    const struct dtensor *d;
    const float *x;
    int64_t r0;
    const float *u; /* GPTQ's factor for the matrix, or NULL */
};

static void encode(void *ctx, int64_t begin, int64_t end, int thread)
{
    const struct enc *c = ctx;
    struct csink *s = c->s;
    const struct dtensor *d = c->d;
    const size_t rb = qrow_bytes(s, d->cols);
    const int64_t ng = groups_of(s, d->cols);
    const int64_t group = s->group > 0 ? s->group : d->cols;
    int8_t *qrow = s->qrow + (size_t)thread * s->qrow_cap;
    for (int64_t i = begin; i < end; i++) {
        const int64_t r = c->r0 + i, e = r / d->rows, lr = r % d->rows;
        const int64_t hr = d->heads ? ckpt_qk_hf_row(lr, d->rows, d->heads) : lr;
        const float *imp = d->imat ? d->imat + e * d->cols : NULL;
        if (c->u)
            ckpt_ct_gptq_row(c->u, c->x + i * d->cols, imp, s->search, d->cols, group,
                             s->scheme->bits, s->dt, s->sbuf + hr * ng, qrow,
                             s->gbuf + (size_t)thread * 2 * s->qrow_cap);
        else
            ckpt_ct_quantize_row(c->x + i * d->cols, imp, s->search, d->cols, group,
                                 s->scheme->bits, s->dt, s->sbuf + hr * ng, qrow);
        uint8_t *dst = s->qbuf + (size_t)hr * rb;
        if (s->scheme->packed)
            ckpt_ct_pack(qrow, d->cols, s->scheme->bits, dst);
        else
            memcpy(dst, qrow, (size_t)d->cols);
    }
}

static ckpt_status c_rows(void *ctx, size_t k, int64_t row, int64_t n, const void *data,
                          size_t size, ckpt_err *err)
{
    struct csink *s = ctx;
    const struct dtensor *d = &s->t[k];
    if (!d->quant) {
        /* rows in order: matrix after matrix, each its own tensor */
        const uint8_t *p = data;
        const size_t rb = size / (size_t)n;
        ckpt_status st = CKPT_OK;
        for (int64_t r = row; r < row + n && st == CKPT_OK; r++, p += rb)
            st = put(s, d->first + (size_t)(r / (d->rows ? d->rows : 1)), p, rb, err);
        return st;
    }
    /* piece by piece within one matrix (the buffer holds one), written when complete */
    const float *x = data;
    for (int64_t r = row; r < row + n;) {
        const int64_t e = r / d->rows, end_m = (e + 1) * d->rows;
        const int64_t m = (end_m < row + n ? end_m : row + n) - r;
        struct enc c = {s, d, x + (r - row) * d->cols, r,
                        ckpt_gptq_factor(s->o.gptq, d->gguf, e, d->cols)};
        ckpt_pool_run(s->pool, encode, &c, m);
        r += m;
        if (r == end_m) {
            ckpt_status st = flush_matrix(s, d, e, err);
            if (st != CKPT_OK)
                return st;
        }
    }
    return CKPT_OK;
}

/* ---- publishing ---- */

static ckpt_status write_text(struct csink *s, const char *name, const char *text, ckpt_err *err)
{
    ckpt_out *o = NULL;
    ckpt_status st = ckpt_outdir_out_open(s->dir, name, &o, err);
    if (st == CKPT_OK)
        st = ckpt_out_write(o, text, strlen(text), err);
    if (st == CKPT_OK)
        return ckpt_out_commit(o, err);
    ckpt_out_abort(o);
    return st;
}

/* The files a model directory carries beside its weights, copied as they are. */
static const char *const copied_files[] = {
    "generation_config.json", "tokenizer.json", "tokenizer.model", "tokenizer_config.json",
    "special_tokens_map.json", "added_tokens.json", "chat_template.jinja", "tekken.json",
};

static ckpt_status copy_files(struct csink *s, ckpt_err *err)
{
    if (!s->o.source_dir)
        return CKPT_OK;
    ckpt_status st = CKPT_OK;
    for (size_t i = 0; i < sizeof copied_files / sizeof copied_files[0] && st == CKPT_OK; i++) {
        char src[4096];
        snprintf(src, sizeof src, "%s/%s", s->o.source_dir, copied_files[i]);
        ckpt_map *m = NULL;
        ckpt_err ignore = {0};
        if (ckpt_map_open(&m, src, &ignore) != CKPT_OK)
            continue; /* not in the source */
        ckpt_out *o = NULL;
        st = ckpt_outdir_out_open(s->dir, copied_files[i], &o, err);
        if (st == CKPT_OK && m->size)
            st = ckpt_out_write(o, m->data, m->size, err);
        if (st == CKPT_OK)
            st = ckpt_out_commit(o, err);
        else
            ckpt_out_abort(o);
        ckpt_map_close(m);
    }
    return st;
}

/* model.safetensors.index.json, keys sorted, as transformers writes it. */
static ckpt_status write_index(struct csink *s, ckpt_err *err)
{
    if (s->n_shards == 1)
        return CKPT_OK;
    cJSON *root = cJSON_CreateObject(), *meta = cJSON_CreateObject(),
          *map = cJSON_CreateObject();
    ckpt_status st = CKPT_OK;
    size_t *ord = malloc((s->n_out + 1) * sizeof *ord);
    if (!root || !meta || !map || !ord) {
        cJSON_Delete(root);
        cJSON_Delete(meta);
        cJSON_Delete(map);
        free(ord);
        return ckpt_err_set(err, CKPT_E_NOMEM, "out of memory");
    }
    cJSON_AddNumberToObject(meta, "total_size", (double)s->total_bytes);
    cJSON_AddItemToObject(root, "metadata", meta);
    cJSON_AddItemToObject(root, "weight_map", map);
    for (size_t i = 0; i < s->n_out; i++) { /* insertion sort by name: a few thousand */
        size_t j = i;
        while (j > 0 && strcmp(s->out[ord[j - 1]].name, s->out[i].name) > 0) {
            ord[j] = ord[j - 1];
            j--;
        }
        ord[j] = i;
    }
    char name[64];
    for (size_t i = 0; i < s->n_out; i++) {
        shard_name(s, s->out[ord[i]].shard, name, sizeof name);
        cJSON_AddStringToObject(map, s->out[ord[i]].name, name);
    }
    free(ord);
    char *text = ckpt_ct_json_print(root);
    cJSON_Delete(root);
    if (!text)
        return ckpt_err_set(err, CKPT_E_NOMEM, "out of memory");
    st = write_text(s, "model.safetensors.index.json", text, err);
    free(text);
    return st;
}

static ckpt_status write_config(struct csink *s, ckpt_err *err)
{
    const bool experts = (s->arch->features & CKPT_FEAT_EXPERTS) != 0;
    cJSON *qc = ckpt_ct_quant_config(s->scheme, s->group, experts,
                                     ckpt_ct_scales_for(s->o.imatrix != NULL, s->o.search),
                                     s->o.gptq != NULL);
    if (!qc)
        return ckpt_err_set(err, CKPT_E_NOMEM, "out of memory");
    char *text = NULL;
    ckpt_status st = ckpt_ct_config_text(&text, s->o.source_dir, s->meta->source, s->arch,
                                         s->dt, qc, err);
    if (st == CKPT_OK)
        st = write_text(s, "config.json", text, err);
    free(text);
    return st;
}

static void c_free(struct csink *s)
{
    for (size_t i = 0; s->w && i < s->n_shards; i++)
        ckpt_st_writer_free(s->w[i]);
    free(s->w);
    ckpt_outdir_abort(s->dir);
    free(s->t);
    free(s->out);
    free(s->qbuf);
    free(s->sbuf);
    free(s->qrow);
    free(s->gbuf);
    free(s->sconv);
    ckpt_pool_free(s->pool);
    free(s);
}

static ckpt_status c_finish(void *ctx, ckpt_err *err)
{
    struct csink *s = ctx;
    ckpt_status st = CKPT_OK;
    for (size_t i = 0; i < s->n_shards && st == CKPT_OK; i++) {
        st = ckpt_st_writer_finish(s->w[i], err);
        s->w[i] = NULL; /* freed by finish, whatever the result */
    }
    if (st == CKPT_OK)
        st = write_index(s, err);
    if (st == CKPT_OK)
        st = write_config(s, err);
    if (st == CKPT_OK)
        st = copy_files(s, err);
    if (st == CKPT_OK) {
        st = ckpt_outdir_commit(s->dir, err);
        s->dir = NULL;
    }
    c_free(s);
    return st;
}

static void c_abort(void *ctx) { c_free(ctx); }

static const struct ckpt_qsink_ops ct_ops = {c_declare, c_begin, c_rows, c_finish, c_abort};

/* The model facts the names and the Q/K order need, from the source's keys. */
static ckpt_status model_facts(struct csink *s, ckpt_err *err)
{
    const ckpt_gguf *g = s->meta->source;
    const char *arch = NULL;
    char key[CKPT_GGUF_KEY_MAX];
    uint32_t v = 0;
    if (!g || ckpt_gguf_get_str(g, CKPT_KEY_ARCHITECTURE, &arch, err) != CKPT_OK)
        return ckpt_err_set(err, CKPT_E_FORMAT, "the source has no %s", CKPT_KEY_ARCHITECTURE);
    ckpt_err ignore = {0};
    const bool experts =
        ckpt_gguf_get_u32(g, ckpt_gguf_key(key, arch, CKPT_KEY_EXPERT_COUNT), &v, &ignore) ==
            CKPT_OK && v > 0;
    if (!(s->arch = ckpt_arch_by_gguf(arch, experts)))
        return ckpt_err_set(err, CKPT_E_UNSUPPORTED, "architecture '%s'%s: no Hugging Face "
                            "class to write", arch, experts ? " with experts" : "");
    s->names = &s->arch->schemes[0];
    if (ckpt_gguf_get_u32(g, ckpt_gguf_key(key, arch, CKPT_KEY_HEAD_COUNT), &v, err) != CKPT_OK)
        return CKPT_E_FORMAT;
    s->n_head = (int)v;
    s->n_head_kv = s->n_head;
    if (ckpt_gguf_get_u32(g, ckpt_gguf_key(key, arch, CKPT_KEY_HEAD_COUNT_KV), &v, &ignore) ==
        CKPT_OK)
        s->n_head_kv = (int)v;
    return CKPT_OK;
}

/* The torch dtypes a model directory may be in, and ours for each. */
static const struct {
    const char *torch;
    ckpt_type type;
    ckpt_dtype dt;
} dtypes[] = {
    {"bfloat16", CKPT_TYPE_BF16, CKPT_DT_BF16},
    {"float16", CKPT_TYPE_F16, CKPT_DT_F16},
    {"float32", CKPT_TYPE_F32, CKPT_DT_F32},
};

/* The model's float dtype: config.json's torch_dtype, or a GGUF's embedding's type. */
static ckpt_status pick_dtype(struct csink *s, ckpt_err *err)
{
    ckpt_type t = CKPT_TYPE_BF16;
    if (s->o.source_dir) {
        cJSON *cfg = NULL;
        char path[4096];
        snprintf(path, sizeof path, "%s/config.json", s->o.source_dir);
        ckpt_map *m = NULL;
        ckpt_status st = ckpt_map_open(&m, path, err);
        if (st != CKPT_OK)
            return st;
        cfg = m->size ? cJSON_ParseWithLength((const char *)m->data, m->size) : NULL;
        ckpt_map_close(m);
        const cJSON *d = cJSON_GetObjectItemCaseSensitive(cfg, "torch_dtype");
        if (!cJSON_IsString(d))
            d = cJSON_GetObjectItemCaseSensitive(cfg, "dtype");
        bool known = !cJSON_IsString(d);
        for (size_t i = 0; !known && i < sizeof dtypes / sizeof dtypes[0]; i++)
            if (strcmp(d->valuestring, dtypes[i].torch) == 0) {
                t = dtypes[i].type;
                known = true;
            }
        if (!known)
            st = ckpt_err_set(err, CKPT_E_USAGE, "%s: torch_dtype '%s': only float32, float16 "
                              "and bfloat16 models can be written", path, d->valuestring);
        cJSON_Delete(cfg);
        if (st != CKPT_OK)
            return st;
    } else {
        char name[64];
        const struct ckpt_gguf_tensor *e =
            ckpt_arch_gguf_name(s->arch, CKPT_ROLE_TOKEN_EMBD, -1, "weight", name, sizeof name)
                ? ckpt_gguf_find_tensor(s->meta->source, name) : NULL;
        for (size_t i = 0; e && i < sizeof dtypes / sizeof dtypes[0]; i++)
            if (e->type == dtypes[i].type)
                t = e->type;
    }
    for (size_t i = 0; i < sizeof dtypes / sizeof dtypes[0]; i++)
        if (dtypes[i].type == t) {
            s->dt = t;
            s->sdt = dtypes[i].dt;
        }
    return CKPT_OK;
}

ckpt_status ckpt_qsink_open_ct(struct ckpt_qsink **out, const struct ckpt_ct_sink_opts *o,
                               const struct ckpt_qsink_meta *meta, ckpt_err *err)
{
    *out = NULL;
    const struct ckpt_ct_scheme_info *sc = ckpt_ct_scheme_at(o->scheme);
    if (!sc)
        return ckpt_err_set(err, CKPT_E_USAGE, "unknown compressed-tensors scheme");
    struct csink *s = calloc(1, sizeof *s);
    if (!s)
        return ckpt_err_set(err, CKPT_E_NOMEM, "%s: out of memory", o->dir);
    s->o = *o;
    s->scheme = sc;
    s->meta = meta;
    s->group = ckpt_ct_group(sc, o->group_size);
    s->search = ckpt_ct_scales_for(o->imatrix != NULL, o->search) != CKPT_CT_ABSMAX;
    ckpt_status st = model_facts(s, err);
    if (st == CKPT_OK)
        st = pick_dtype(s, err);
    if (st != CKPT_OK) {
        c_free(s);
        return st;
    }
    s->sink = (struct ckpt_qsink){&ct_ops, s};
    *out = &s->sink;
    return CKPT_OK;
}
