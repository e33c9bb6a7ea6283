/*
 * plan.c - build the conversion plan (see plan.h): walk the checkpoint in
 * the converter's order, check each tensor against config.json, stack
 * Mixtral experts, choose output types, and count parameters the way the
 * converter's size label does.
 */
#include "plan.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../kernels/fp16.h"

/* A Hugging Face tensor in walking order. */
struct item {
    const struct ckpt_st_tensor *t;
    size_t shard;
};

struct builder {
    const struct ckpt_source *src;
    const struct ckpt_hf_config *cfg;
    const struct ckpt_arch_scheme *scheme;
    uint64_t dims[CKPT_DIM_COUNT];  /* config sizes of the role table's shapes */
    struct ckpt_plan *plan;
    size_t cap;
    struct ckpt_plan_src *experts; /* [layer][expert][w1,w2,w3] */
    uint32_t *n_experts_seen;      /* per layer */
    uint64_t expert_sum, n_expert_tensors;
    struct ckpt_ct_config ct;      /* an integer compressed-tensors checkpoint (formats/ct.h) */
    ckpt_err *err;
};

static int cmp_item(const void *a, const void *b)
{
    return strcmp(((const struct item *)a)->t->name, ((const struct item *)b)->t->name);
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcmp(s + n - k, suffix) == 0;
}

static const char *shard_path(const struct builder *b, size_t shard)
{
    return ckpt_st_path(ckpt_hf_shard(b->src->hf, shard));
}

static void shape_str(char *buf, size_t n, int nd, const uint64_t *shape)
{
    size_t o = (size_t)snprintf(buf, n, "[");
    for (int i = 0; i < nd && o < n; i++)
        o += (size_t)snprintf(buf + o, n - o, "%s%llu", i ? ", " : "",
                              (unsigned long long)shape[i]);
    if (o < n)
        snprintf(buf + o, n - o, "]");
}

/* The torch shape config.json implies for a role (rows, cols; cols 0 for 1-D). */
static void expected_shape(const struct builder *b, const struct ckpt_arch_match *n,
                           uint64_t want[2], int *nd)
{
    bool bias = strcmp(n->suffix, "bias") == 0;
    want[0] = b->dims[n->spec->rows];
    want[1] = bias ? 0 : b->dims[n->spec->cols];
    *nd = want[1] ? 2 : 1;
}

/* Is this tensor part of the declared model (and a bias allowed)? */
static bool role_expected(const struct builder *b, const struct ckpt_arch_match *n)
{
    const struct ckpt_hf_config *c = b->cfg;
    if (!n->spec || !ckpt_arch_role_present(n->spec, c->arch->features))
        return false;
    if (n->layer >= 0 && (uint32_t)n->layer >= c->n_layers)
        return false;
    if (n->expert >= 0 && (uint32_t)n->expert >= c->n_experts)
        return false;
    return strcmp(n->suffix, "bias") != 0 ||
           (n->spec->bias_ok && (c->arch->features & CKPT_FEAT_ATTN_BIAS));
}

static bool dtype_ok(ckpt_dtype d)
{
    return d == CKPT_DT_F32 || d == CKPT_DT_F16 || d == CKPT_DT_BF16 || ckpt_fp8_is_fp8(d);
}


/* A compressed-tensors integer weight: its original shape is the one checked. */
static ckpt_status check_ct(struct builder *b, const struct item *it,
                            const struct ckpt_arch_match *n, struct ckpt_plan_src *ps)
{
    char base[300];
    ckpt_status s;
    snprintf(base, sizeof base, "%.*s", (int)(strrchr(it->t->name, '.') - it->t->name),
             it->t->name);
    if ((s = ckpt_ct_open(&ps->ctw, b->src->hf, base, &b->ct, shard_path(b, it->shard),
                          b->err)) != CKPT_OK)
        return s;
    uint64_t want[2], have[2] = {ps->ctw.rows, ps->ctw.cols};
    int nd;
    expected_shape(b, n, want, &nd);
    if (nd != 2 || have[0] != want[0] || have[1] != want[1]) {
        char hs[96], es[96];
        shape_str(hs, sizeof hs, 2, have);
        shape_str(es, sizeof es, nd, want);
        return ckpt_err_set(b->err, CKPT_E_FORMAT, "%s: module '%s' has shape %s, config.json "
                            "implies %s", shard_path(b, it->shard), base, hs, es);
    }
    ps->t = it->t;
    ps->shard = ckpt_hf_shard(b->src->hf, it->shard);
    ps->ct = true;
    return CKPT_OK;
}

static ckpt_status check_tensor(struct builder *b, const struct item *it,
                                const struct ckpt_arch_match *n, struct ckpt_plan_src *ps)
{
    const struct ckpt_st_tensor *t = it->t;
    if (b->ct.present && (t->dtype == CKPT_DT_I8 || t->dtype == CKPT_DT_I32))
        return check_ct(b, it, n, ps);
    if (!dtype_ok(t->dtype))
        return ckpt_err_set(b->err, CKPT_E_UNSUPPORTED,
                            "%s: tensor '%s': dtype %s is not supported (BF16, F16, F32, or "
                            "F8_E4M3/F8_E5M2 with scales)",
                            shard_path(b, it->shard), t->name, ckpt_dtype_name(t->dtype));
    uint64_t want[2];
    int nd;
    expected_shape(b, n, want, &nd);
    if (t->n_dims != nd || t->shape[0] != want[0] || (nd == 2 && t->shape[1] != want[1])) {
        char have[96], exp[96];
        shape_str(have, sizeof have, t->n_dims, t->shape);
        shape_str(exp, sizeof exp, nd, want);
        return ckpt_err_set(b->err, CKPT_E_FORMAT,
                            "%s: tensor '%s' has shape %s, config.json implies %s",
                            shard_path(b, it->shard), t->name, have, exp);
    }
    ps->t = t;
    ps->shard = ckpt_hf_shard(b->src->hf, it->shard);
    if (!ckpt_fp8_is_fp8(t->dtype))
        return CKPT_OK;
    ps->fp8 = true;
    return ckpt_fp8_open(&ps->fp8w, b->src->hf, t, b->cfg->weight_block_size,
                         &b->plan->f8_luts, shard_path(b, it->shard), b->err);
}

static ckpt_type resolve_type(int out_type, ckpt_dtype first)
{
    if (out_type != CKPT_PLAN_AUTO)
        return (ckpt_type)out_type;
    return first == CKPT_DT_F16 ? CKPT_TYPE_F16 : first == CKPT_DT_F32 ? CKPT_TYPE_F32
                                                                       : CKPT_TYPE_BF16;
}

/* Append a planned tensor fed by n_src sources (stacked when n_src > 1). */
static ckpt_status emit(struct builder *b, const struct ckpt_arch_match *n,
                        const struct ckpt_plan_src *srcs, uint32_t n_src, bool stacked)
{
    struct ckpt_plan *p = b->plan;
    if (p->n == b->cap) {
        size_t cap = b->cap ? 2 * b->cap : 64;
        struct ckpt_plan_tensor *nt = realloc(p->t, cap * sizeof *nt);
        if (!nt)
            return ckpt_err_set(b->err, CKPT_E_NOMEM, "out of memory");
        p->t = nt;
        b->cap = cap;
    }
    struct ckpt_plan_tensor *t = &p->t[p->n];
    memset(t, 0, sizeof *t);
    t->src = malloc(n_src * sizeof *t->src);
    if (!t->src)
        return ckpt_err_set(b->err, CKPT_E_NOMEM, "out of memory");
    memcpy(t->src, srcs, n_src * sizeof *srcs);
    t->n_src = n_src;
    p->n++;
    const struct ckpt_st_tensor *s0 = srcs[0].t;
    /* a compressed-tensors weight stands for its original [out, in] */
    const int s0_dims = srcs[0].ct ? 2 : s0->n_dims;
    const uint64_t s0_shape[2] = {srcs[0].ct ? srcs[0].ctw.rows : s0->shape[0],
                                  srcs[0].ct ? srcs[0].ctw.cols : s0->shape[1]};
    for (uint32_t e = 1; e < n_src; e++)
        if (srcs[e].t->dtype != s0->dtype)
            return ckpt_err_set(b->err, CKPT_E_UNSUPPORTED,
                                "%s: tensors '%s' and '%s' have different dtypes (%s, %s); "
                                "experts of a layer must share one",
                                ckpt_st_path(srcs[e].shard), s0->name, srcs[e].t->name,
                                ckpt_dtype_name(s0->dtype), ckpt_dtype_name(srcs[e].t->dtype));
    if (!ckpt_arch_gguf_name(b->cfg->arch, n->role, n->layer, n->suffix, t->name, sizeof t->name))
        return ckpt_err_set(b->err, CKPT_E_INTERNAL, "%s: no GGUF name", s0->name);
    t->role = n->role;
    t->layer = n->layer;
    t->dtype = s0->dtype;
    if (s0_dims == 2 && s0_shape[1] == 1)
        return ckpt_err_set(b->err, CKPT_E_UNSUPPORTED,
                            "%s: tensor '%s': rows of one value are not supported",
                            ckpt_st_path(srcs[0].shard), s0->name);
    t->src_rows = s0_dims == 2 ? (int64_t)s0_shape[0] : 1;
    t->cols = s0_dims == 2 ? (int64_t)s0_shape[1] : (int64_t)s0_shape[0];

    /* torch shape, then numpy's squeeze(), then reversed into ggml order */
    uint64_t shape[3];
    int nd = 0;
    if (stacked)
        shape[nd++] = n_src;
    for (int i = 0; i < s0_dims; i++)
        shape[nd++] = s0_shape[i];
    uint64_t sq[3];
    int nsq = 0;
    for (int i = 0; i < nd; i++)
        if (shape[i] != 1)
            sq[nsq++] = shape[i];
    if (nsq == 0) {
        memcpy(sq, shape, sizeof shape);
        nsq = nd;
    }
    t->n_dims = (uint32_t)nsq;
    for (int i = 0; i < 4; i++)
        t->ne[i] = i < nsq ? (int64_t)sq[nsq - 1 - i] : 1;

    t->keep_f32 = ckpt_arch_keep_f32(t->name, (uint32_t)nsq);
    t->type = t->keep_f32 ? CKPT_TYPE_F32 : p->out_type;
    t->permute_heads = b->scheme->rotate_half ? ckpt_arch_permute_heads(n->spec, b->dims) : 0;

    uint64_t size = 1;
    for (int i = 0; i < nsq; i++)
        size *= sq[i];
    if (n->spec->stacked && nsq >= 3) {
        p->n_expert_params += size / sq[nsq - 3];
        b->expert_sum += sq[nsq - 3];
        b->n_expert_tensors++;
    } else {
        p->n_shared_params += size;
    }
    p->n_params += size;
    p->data_bytes += ckpt_plan_bytes(t);
    for (uint32_t e = 0; e < n_src; e++)
        p->source_bytes += srcs[e].t->end - srcs[e].t->begin;
    return CKPT_OK;
}

/* Index of a stacked role among the stacked roles (w1, w2, w3 order). */
static uint32_t stack_slot(const struct ckpt_arch *a, ckpt_role role, uint32_t *n_stacked)
{
    uint32_t k = 0, slot = 0;
    for (size_t i = 0; i < a->n_roles; i++)
        if (a->roles[i].stacked) {
            if (a->roles[i].role == role)
                slot = k;
            k++;
        }
    *n_stacked = k;
    return slot;
}

/* An expert tensor: keep it until the layer has all of its experts' tensors,
 * then emit one stacked tensor per stacked role, in the role table's order. */
static ckpt_status add_expert(struct builder *b, const struct ckpt_arch_match *n,
                              const struct ckpt_plan_src *ps)
{
    const struct ckpt_arch *a = b->cfg->arch;
    uint32_t E = b->cfg->n_experts, W, w = stack_slot(a, n->role, &W);
    struct ckpt_plan_src *layer = b->experts + (size_t)n->layer * E * W;
    layer[(size_t)n->expert * W + w] = *ps;
    if (++b->n_experts_seen[n->layer] < W * E)
        return CKPT_OK;
    struct ckpt_plan_src *stack = malloc(E * sizeof *stack);
    if (!stack)
        return ckpt_err_set(b->err, CKPT_E_NOMEM, "out of memory");
    ckpt_status s = CKPT_OK;
    uint32_t k = 0;
    for (size_t i = 0; i < a->n_roles && s == CKPT_OK; i++) {
        if (!a->roles[i].stacked)
            continue;
        for (uint32_t e = 0; e < E; e++)
            stack[e] = layer[(size_t)e * W + k];
        struct ckpt_arch_match sn = {a->roles[i].role, n->layer, -1, "weight", &a->roles[i]};
        s = emit(b, &sn, stack, E, true);
        k++;
    }
    free(stack);
    return s;
}

/* F8 companions: a scale goes with its weight, an activation scale is dropped. */
static int companion(const char *name)
{
    return ends_with(name, ".weight_scale_inv") || ends_with(name, ".weight_scale")   ? 1
           : ends_with(name, ".input_scale") || ends_with(name, ".activation_scale") ? 2
                                                                                      : 0;
}

static ckpt_status walk(struct builder *b, struct item *items, size_t n_items)
{
    for (size_t i = 0; i < n_items; i++) {
        const struct ckpt_st_tensor *t = items[i].t;
        char as_weight[300]; /* "X.weight_packed" is matched as the module's "X.weight" */
        const char *match_name = t->name;
        if (b->ct.present && ckpt_ct_is_part(t->name)) {
            const size_t n = strlen(t->name);
            if (!ends_with(t->name, ".weight_packed"))
                continue; /* scales, shapes: read with their weight (ct.h checks them) */
            snprintf(as_weight, sizeof as_weight, "%.*s", (int)(n - strlen("_packed")), t->name);
            match_name = as_weight;
        } else if (companion(t->name)) {
            char base[300];
            snprintf(base, sizeof base, "%.*s.weight", (int)(strrchr(t->name, '.') - t->name),
                     t->name);
            if (ckpt_hf_find(b->src->hf, base, NULL))
                continue;
            return ckpt_err_set(b->err, CKPT_E_FORMAT,
                                "%s: unexpected tensor '%s' (no weight '%s' for it)",
                                shard_path(b, items[i].shard), t->name, base);
        }
        if (ckpt_arch_dropped(b->scheme, t->name)) {
            b->plan->n_dropped++;
            b->plan->dropped = b->scheme->dropped;
            continue;
        }
        struct ckpt_arch_match n = ckpt_arch_match_hf(b->cfg->arch, b->scheme, match_name);
        if (n.role == CKPT_ROLE_IGNORED)
            continue;
        /* an unknown name (one without a dot included) stops here, before
         * anything looks at its suffix */
        if (!role_expected(b, &n))
            return ckpt_err_set(b->err, CKPT_E_FORMAT,
                                "%s: unexpected tensor '%s' for %s with %u layers%s (rename or "
                                "remove it)",
                                shard_path(b, items[i].shard), t->name, b->cfg->arch->hf_class,
                                b->cfg->n_layers,
                                b->cfg->arch->features & CKPT_FEAT_EXPERTS ? " and its experts"
                                                                           : "");
        struct ckpt_plan_src ps = {0};
        ckpt_status s = check_tensor(b, &items[i], &n, &ps);
        if (s == CKPT_OK)
            s = n.expert >= 0 ? add_expert(b, &n, &ps) : emit(b, &n, &ps, 1, false);
        if (s != CKPT_OK)
            return s;
    }
    return CKPT_OK;
}

/* The first weight of a role missing from the checkpoint, into name. */
static bool find_missing(const struct builder *b, const struct ckpt_arch_role *r, char *name,
                         size_t size)
{
    const struct ckpt_hf_config *c = b->cfg;
    bool per_layer = ckpt_arch_role_per_layer(r);
    uint32_t n_l = per_layer ? c->n_layers : 1, n_e = r->stacked ? c->n_experts : 1;
    for (uint32_t l = 0; l < n_l; l++)
        for (uint32_t e = 0; e < n_e; e++)
            if (ckpt_arch_hf_name(b->scheme, r->role, per_layer ? (int)l : -1,
                                  r->stacked ? (int)e : -1, "weight", name, size) &&
                !ckpt_hf_find(b->src->hf, name, NULL) &&
                !(b->ct.present && ckpt_arch_hf_name(b->scheme, r->role,
                                                     per_layer ? (int)l : -1,
                                                     r->stacked ? (int)e : -1, "weight_packed",
                                                     name, size) &&
                  ckpt_hf_find(b->src->hf, name, NULL)))
                return true;
    return false;
}

/* Every tensor the architecture needs must have been planned. */
static ckpt_status check_complete(struct builder *b)
{
    const struct ckpt_hf_config *c = b->cfg;
    char name[160];
    for (size_t i = 0; i < c->arch->n_roles; i++) {
        const struct ckpt_arch_role *r = &c->arch->roles[i];
        if (!ckpt_arch_role_present(r, c->arch->features) ||
            (r->tied_optional && c->tie_word_embeddings))
            continue;
        if (find_missing(b, r, name, sizeof name))
            return ckpt_err_set(b->err, CKPT_E_FORMAT,
                                "%s: tensor '%s' is missing (%s with %u layers needs it)",
                                ckpt_hf_path(b->src->hf), name, c->arch->hf_class, c->n_layers);
    }
    return CKPT_OK;
}

ckpt_status ckpt_plan_build(struct ckpt_plan **out, const struct ckpt_source *src, int out_type,
                            ckpt_err *err)
{
    *out = NULL;
    if (out_type != CKPT_PLAN_AUTO && out_type != CKPT_TYPE_F32 && out_type != CKPT_TYPE_F16 &&
        out_type != CKPT_TYPE_BF16)
        return ckpt_err_set(err, CKPT_E_USAGE, "output type %s is not f32, f16 or bf16",
                            ckpt_type_name((uint32_t)out_type));
    const ckpt_hf *hf = src->hf;
    struct builder b = {.src = src, .cfg = &src->cfg, .scheme = src->cfg.scheme,
                        .err = err};
    ckpt_hf_config_dims(&src->cfg, b.dims);
    struct item *items = NULL;
    size_t n_items = ckpt_hf_n_tensors(hf), k = 0;
    b.plan = calloc(1, sizeof *b.plan);
    items = calloc(n_items ? n_items : 1, sizeof *items);
    b.n_experts_seen = calloc(src->cfg.n_layers + 1, sizeof *b.n_experts_seen);
    uint32_t n_stacked;
    stack_slot(src->cfg.arch, CKPT_ROLE_UNKNOWN, &n_stacked);
    b.experts = calloc((size_t)src->cfg.n_layers * src->cfg.n_experts * n_stacked + 1,
                       sizeof *b.experts);
    ckpt_status s = CKPT_OK;
    if (!b.plan || !items || !b.n_experts_seen || !b.experts) {
        s = ckpt_err_set(err, CKPT_E_NOMEM, "out of memory");
        goto out;
    }
    /* shards in name order, each sorted by tensor name (safe_open().keys()) */
    for (size_t sh = 0; sh < ckpt_hf_n_shards(hf); sh++) {
        const ckpt_st *st = ckpt_hf_shard(hf, sh);
        size_t first = k;
        for (size_t i = 0; i < ckpt_st_n_tensors(st); i++)
            items[k++] = (struct item){ckpt_st_tensor(st, i), sh};
        qsort(items + first, k - first, sizeof *items, cmp_item);
    }
    ckpt_dtype first = CKPT_DT_BF16;
    for (size_t i = 0; i < k; i++)
        if (!companion(items[i].t->name) && !ckpt_ct_is_part(items[i].t->name) &&
            items[i].t->dtype != CKPT_DT_I8) {
            first = items[i].t->dtype;
            break;
        }
    b.plan->out_type = resolve_type(out_type, first);
    b.plan->file_type = ckpt_plan_file_type(b.plan->out_type);
    ckpt_fp8_luts_init(&b.plan->f8_luts);
    s = ckpt_ct_config_load(&b.ct, hf, err);
    if (s == CKPT_OK)
        s = walk(&b, items, k);
    if (s == CKPT_OK)
        s = check_complete(&b);
    if (s == CKPT_OK)
        b.plan->expert_count =
            b.n_expert_tensors ? (uint32_t)(b.expert_sum / b.n_expert_tensors) : 0;
out:
    free(items);
    free(b.n_experts_seen);
    free(b.experts);
    if (s != CKPT_OK) {
        ckpt_plan_free(b.plan);
        return s;
    }
    *out = b.plan;
    return CKPT_OK;
}

void ckpt_plan_free(struct ckpt_plan *plan)
{
    if (!plan)
        return;
    for (size_t i = 0; i < plan->n; i++)
        free(plan->t[i].src);
    free(plan->t);
    free(plan);
}

uint32_t ckpt_plan_file_type(ckpt_type type)
{
    return type == CKPT_TYPE_F32 ? 0 : type == CKPT_TYPE_F16 ? 1 : type == CKPT_TYPE_BF16 ? 32
                                                                                       : UINT32_MAX;
}
