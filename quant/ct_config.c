/*
 * ct_config.c - config.json of a compressed-tensors output (see
 * ct_config.h).
 */
#include "ct_config.h"

#include "../arch/gguf_keys.h"
#include "../formats/mapfile.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Sort an object's members by key, recursively (a linked list: insertion sort). */
static void sort_keys(cJSON *o)
{
    if (!o)
        return;
    for (cJSON *c = o->child; c; c = c->next)
        sort_keys(c);
    if (!cJSON_IsObject(o))
        return;
    cJSON *sorted = NULL;
    cJSON *c = o->child;
    while (c) {
        cJSON *next = c->next;
        cJSON **p = &sorted;
        while (*p && strcmp((*p)->string, c->string) <= 0)
            p = &(*p)->next;
        c->next = *p;
        *p = c;
        c = next;
    }
    /* fix the prev links cJSON keeps (the head's prev is the tail) */
    cJSON *prev = NULL;
    for (c = sorted; c; c = c->next) {
        c->prev = prev;
        prev = c;
    }
    if (sorted)
        sorted->prev = prev;
    o->child = sorted;
}

char *ckpt_ct_json_print(cJSON *root)
{
    sort_keys(root);
    char *t = cJSON_Print(root);
    if (!t)
        return NULL;
    /* cJSON indents with tabs and puts one after each colon; a JSON string
     * never holds a raw tab (cJSON escapes it), so every tab is layout */
    size_t n = 0, tabs = 0;
    for (const char *p = t; *p; p++)
        tabs += *p == '\t';
    char *out = malloc(strlen(t) + tabs + 2);
    if (!out) {
        free(t);
        return NULL;
    }
    for (const char *p = t; *p; p++) {
        if ((*p == '{' || *p == '[') && p[1] == '\n') { /* an empty one as {} (cJSON breaks it) */
            const char *q = p + 2;
            while (*q == '\t')
                q++;
            if (*q == (*p == '{' ? '}' : ']')) {
                out[n++] = *p;
                out[n++] = *q;
                p = q;
                continue;
            }
        }
        if (*p != '\t') {
            out[n++] = *p;
        } else if (p > t && p[-1] == ':') {
            out[n++] = ' ';
        } else {
            out[n++] = ' ';
            out[n++] = ' ';
        }
    }
    out[n++] = '\n';
    out[n] = '\0';
    free(t);
    return out;
}

static const char *torch_dtype(ckpt_type dt)
{
    return dt == CKPT_TYPE_F32 ? "float32" : dt == CKPT_TYPE_F16 ? "float16" : "bfloat16";
}

/* The shortest decimal that reads back as the same f32 (GGUF stores f32). */
static double short_f32(double v)
{
    char buf[32];
    for (int p = 1; p <= 9; p++) {
        snprintf(buf, sizeof buf, "%.*g", p, v);
        if ((float)strtod(buf, NULL) == (float)v)
            return strtod(buf, NULL);
    }
    return v;
}

static ckpt_status from_source(cJSON **root, const char *dir, ckpt_err *err)
{
    char path[4096];
    if ((size_t)snprintf(path, sizeof path, "%s/config.json", dir) >= sizeof path)
        return ckpt_err_set(err, CKPT_E_USAGE, "%s: path too long", dir);
    ckpt_map *m = NULL;
    ckpt_status st = ckpt_map_open(&m, path, err);
    if (st != CKPT_OK)
        return st;
    *root = m->size ? cJSON_ParseWithLength((const char *)m->data, m->size) : NULL;
    ckpt_map_close(m);
    if (!*root || !cJSON_IsObject(*root)) {
        cJSON_Delete(*root);
        *root = NULL;
        return ckpt_err_set(err, CKPT_E_FORMAT, "%s: not a JSON object", path);
    }
    return CKPT_OK;
}

/* A config.json field from a u32/f32 GGUF key "<arch>.<suffix>". */
struct field {
    const char *json;
    const char *suffix;
    bool is_float;
    bool required;
};

static const struct field fields[] = {
    {"hidden_size", CKPT_KEY_EMBEDDING_LENGTH, false, true},
    {"intermediate_size", CKPT_KEY_FEED_FORWARD_LENGTH, false, true},
    {"num_hidden_layers", CKPT_KEY_BLOCK_COUNT, false, true},
    {"num_attention_heads", CKPT_KEY_HEAD_COUNT, false, true},
    {"num_key_value_heads", CKPT_KEY_HEAD_COUNT_KV, false, false},
    {"head_dim", CKPT_KEY_KEY_LENGTH, false, false},
    {"max_position_embeddings", CKPT_KEY_CONTEXT_LENGTH, false, false},
    {"rms_norm_eps", CKPT_KEY_RMS_EPS, true, true},
    {"rope_theta", CKPT_KEY_ROPE_FREQ_BASE, true, false},
    {"num_local_experts", CKPT_KEY_EXPERT_COUNT, false, false},
    {"num_experts_per_tok", CKPT_KEY_EXPERT_USED_COUNT, false, false},
    {"vocab_size", CKPT_KEY_VOCAB_SIZE, false, false},
};

static ckpt_status from_gguf(cJSON **out, const ckpt_gguf *g, const struct ckpt_arch *a,
                             ckpt_err *err)
{
    cJSON *root = cJSON_CreateObject(), *archs = cJSON_CreateArray();
    if (!root || !archs) {
        cJSON_Delete(root);
        cJSON_Delete(archs);
        return ckpt_err_set(err, CKPT_E_NOMEM, "out of memory");
    }
    cJSON_AddItemToArray(archs, cJSON_CreateString(a->hf_class));
    cJSON_AddItemToObject(root, "architectures", archs);
    cJSON_AddStringToObject(root, "model_type", a->model_type);
    cJSON_AddStringToObject(root, "hidden_act", "silu");
    char key[CKPT_GGUF_KEY_MAX];
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        const struct ckpt_gguf_kv *kv = ckpt_gguf_find_kv(g, ckpt_gguf_key(key, a->gguf_arch,
                                                                            fields[i].suffix));
        double v;
        if (kv && fields[i].is_float && (kv->type == CKPT_GGUF_FLOAT32 ||
                                         kv->type == CKPT_GGUF_FLOAT64))
            v = short_f32(kv->v.f64);
        else if (kv && !fields[i].is_float && kv->type == CKPT_GGUF_UINT32)
            v = (double)kv->v.u64;
        else if (fields[i].required) {
            cJSON_Delete(root);
            return ckpt_err_set(err, CKPT_E_FORMAT, "%s: no %s to make config.json's %s of",
                                ckpt_gguf_path(g), key, fields[i].json);
        } else
            continue;
        cJSON_AddNumberToObject(root, fields[i].json, v);
    }
    if (!cJSON_GetObjectItemCaseSensitive(root, "vocab_size")) {
        /* the vocabulary's length, else the embedding's rows */
        const struct ckpt_gguf_kv *tok = ckpt_gguf_find_kv(g, CKPT_KEY_TOK_TOKENS);
        char name[64];
        const struct ckpt_gguf_tensor *e =
            ckpt_arch_gguf_name(a, CKPT_ROLE_TOKEN_EMBD, -1, "weight", name, sizeof name)
                ? ckpt_gguf_find_tensor(g, name) : NULL;
        if (tok || e)
            cJSON_AddNumberToObject(root, "vocab_size", tok ? (double)tok->n : (double)e->ne[1]);
    }
    static const struct {
        const char *json, *key;
    } ids[] = {{"bos_token_id", CKPT_KEY_TOK_BOS_ID}, {"eos_token_id", CKPT_KEY_TOK_EOS_ID}};
    for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) {
        const struct ckpt_gguf_kv *kv = ckpt_gguf_find_kv(g, ids[i].key);
        if (kv && kv->type == CKPT_GGUF_UINT32)
            cJSON_AddNumberToObject(root, ids[i].json, (double)kv->v.u64);
    }
    /* a GGUF does not record the window: none, which is what it runs with */
    cJSON_AddNullToObject(root, "sliding_window");
    cJSON_AddBoolToObject(root, "tie_word_embeddings", false);
    *out = root;
    return CKPT_OK;
}

ckpt_status ckpt_ct_config_text(char **out, const char *source_dir, const ckpt_gguf *g,
                                const struct ckpt_arch *a, ckpt_type dt, cJSON *qc,
                                ckpt_err *err)
{
    *out = NULL;
    cJSON *root = NULL;
    ckpt_status st = source_dir ? from_source(&root, source_dir, err) : from_gguf(&root, g, a, err);
    if (st != CKPT_OK) {
        cJSON_Delete(qc);
        return st;
    }
    cJSON_DeleteItemFromObjectCaseSensitive(root, "quantization_config");
    cJSON_DeleteItemFromObjectCaseSensitive(root, "torch_dtype");
    cJSON_DeleteItemFromObjectCaseSensitive(root, "dtype");
    cJSON_AddStringToObject(root, "torch_dtype", torch_dtype(dt));
    cJSON_AddItemToObject(root, "quantization_config", qc);
    *out = ckpt_ct_json_print(root);
    cJSON_Delete(root);
    return *out ? CKPT_OK : ckpt_err_set(err, CKPT_E_NOMEM, "out of memory");
}
