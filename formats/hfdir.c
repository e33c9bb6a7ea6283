/*
 * hfdir.c - opening a Hugging Face model directory (hfdir.h): find the
 * weight layout, open and cross-check every shard against the others and
 * against model.safetensors.index.json, and index tensors by name.
 */
#include "hfdir.h"
#include "path.h"
#include "filekind.h"
#include "json_strict.h"
#include "mapfile.h"
#include "outfile.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define CONFIG_MAX (16u << 20) /* config.json and the index: far above any real one */

/* The two layouts: Hugging Face's, and Mistral's own (params.json beside
 * consolidated*.safetensors and a tokenizer.model.v3). */
static const struct layout_names {
    const char *config, *stem, *spm;
} hf_names = {"config.json", "model", "tokenizer.model"},
  mistral_names = {"params.json", "consolidated", "tokenizer.model.v3"};

struct ref {
    const struct ckpt_st_tensor *t;
    size_t shard;
};

struct ckpt_hf {
    char *path;
    bool is_dir;
    ckpt_hf_layout layout;
    bool has_config;
    const struct layout_names *names;
    struct ckpt_hf_config cfg;
    unsigned files;
    size_t n_shards;
    ckpt_st **shards;
    char **shard_names;
    size_t n_tensors;
    struct ref *order;   /* shard by shard, offset order */
    struct ref *by_name; /* sorted by name */
};

static bool in_dir(const ckpt_hf *hf, const char *name)
{
    char *p = ckpt_path_join(hf->path, name);
    bool r = p && ckpt_path_is_file(p);
    free(p);
    return r;
}

/* Map a small JSON file of the model dir and parse it strictly. */
static ckpt_status read_json(const char *path, ckpt_map **map, ckpt_err *err)
{
    ckpt_status s = ckpt_map_open(map, path, err);
    if (s != CKPT_OK)
        return s;
    size_t size = (*map)->size;
    if (size > CONFIG_MAX) {
        ckpt_map_close(*map);
        *map = NULL;
        return ckpt_err_set(err, CKPT_E_RANGE, "%s: %zu bytes is too large for this file", path,
                            size);
    }
    return CKPT_OK;
}

/* config.json, else Mistral's params.json (which sets hf->names). */
static ckpt_status load_config(ckpt_hf *hf, ckpt_err *err)
{
    hf->names = !in_dir(hf, hf_names.config) && in_dir(hf, mistral_names.config) ? &mistral_names
                                                                                 : &hf_names;
    char *path = ckpt_path_join(hf->path, hf->names->config);
    if (!path)
        return ckpt_err_set(err, CKPT_E_NOMEM, "%s: out of memory", hf->path);
    if (!ckpt_path_is_file(path)) {
        ckpt_status s = ckpt_err_set(err, CKPT_E_IO, "%s: missing (a model directory needs "
                                     "config.json, or Mistral's params.json)", path);
        free(path);
        return s;
    }
    ckpt_map *m = NULL;
    ckpt_status s = read_json(path, &m, err);
    if (s == CKPT_OK)
        s = (hf->names == &mistral_names ? ckpt_hf_params_parse : ckpt_hf_config_parse)(
            &hf->cfg, (const char *)m->data, m->size, path, err);
    hf->has_config = s == CKPT_OK;
    ckpt_map_close(m);
    free(path);
    return s;
}

/* ---- shards ---- */

static ckpt_status add_shard_name(ckpt_hf *hf, const char *name, ckpt_err *err)
{
    char **p = realloc(hf->shard_names, (hf->n_shards + 1) * sizeof *p);
    if (!p)
        return ckpt_err_set(err, CKPT_E_NOMEM, "%s: out of memory", hf->path);
    hf->shard_names = p;
    if (!(p[hf->n_shards] = strdup(name)))
        return ckpt_err_set(err, CKPT_E_NOMEM, "%s: out of memory", hf->path);
    hf->n_shards++;
    return CKPT_OK;
}

static int cmp_pstr(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* "model-00002-of-00003.safetensors" (stem "model") -> 2, 3; false for any
 * other name. */
static bool series_name(const char *s, const char *stem, unsigned *k, unsigned *m)
{
    static const char mid[] = "-of-", suf[] = ".safetensors";
    size_t n = strlen(stem);
    if (strlen(s) != n + 1 + 5 + 4 + 5 + 12 || strncmp(s, stem, n) != 0 || s[n] != '-')
        return false;
    s += n + 1;
    if (strncmp(s + 5, mid, 4) != 0 || strcmp(s + 14, suf) != 0)
        return false;
    unsigned v[2] = {0, 0};
    const char *d[2] = {s, s + 9};
    for (int f = 0; f < 2; f++)
        for (int i = 0; i < 5; i++) {
            if (d[f][i] < '0' || d[f][i] > '9')
                return false;
            v[f] = v[f] * 10 + (unsigned)(d[f][i] - '0');
        }
    *k = v[0];
    *m = v[1];
    return true;
}

/* No index: the directory must hold exactly model-00001..M-of-M. */
static ckpt_status find_series(ckpt_hf *hf, ckpt_err *err)
{
    DIR *d = opendir(hf->path);
    if (!d)
        return ckpt_err_errno(err, CKPT_E_IO, errno, "%s", hf->path);
    unsigned total = 0;
    ckpt_status s = CKPT_OK;
    struct dirent *e;
    while (s == CKPT_OK && (e = readdir(d)) != NULL) {
        unsigned k, m;
        if (!series_name(e->d_name, hf->names->stem, &k, &m))
            continue;
        if (total && m != total)
            s = ckpt_err_set(err, CKPT_E_FORMAT,
                             "%s: shards of two series (%s does not match -of-%05u)", hf->path,
                             e->d_name, total);
        else if (k == 0 || k > m)
            s = ckpt_err_set(err, CKPT_E_FORMAT, "%s: %s: shard number out of range", hf->path,
                             e->d_name);
        else {
            total = m;
            s = add_shard_name(hf, e->d_name, err);
        }
    }
    closedir(d);
    if (s != CKPT_OK)
        return s;
    const char *stem = hf->names->stem;
    if (hf->n_shards == 0)
        return ckpt_err_set(err, CKPT_E_IO,
                            "%s: no weights (%s.safetensors, %s.safetensors.index.json or "
                            "%s-NNNNN-of-NNNNN.safetensors)",
                            hf->path, stem, stem, stem);
    qsort(hf->shard_names, hf->n_shards, sizeof *hf->shard_names, cmp_pstr);
    /* sorted, distinct names 1..M: the i-th must be number i+1 */
    for (unsigned i = 0; i < total; i++) {
        unsigned k = 0, m;
        if (i < hf->n_shards)
            series_name(hf->shard_names[i], stem, &k, &m);
        if (k != i + 1)
            return ckpt_err_set(err, CKPT_E_IO,
                                "%s: incomplete shard series: %s-%05u-of-%05u.safetensors is "
                                "missing",
                                hf->path, stem, i + 1, total);
    }
    hf->layout = CKPT_HF_LAYOUT_SERIES;
    return CKPT_OK;
}

/* weight_map entry, sorted by tensor name for the cross-check. */
struct wm_entry {
    const char *tensor;
    const char *shard;
};

static int cmp_wm(const void *a, const void *b)
{
    return strcmp(((const struct wm_entry *)a)->tensor, ((const struct wm_entry *)b)->tensor);
}

static int cmp_ref(const void *a, const void *b)
{
    return strcmp(((const struct ref *)a)->t->name, ((const struct ref *)b)->t->name);
}

/* Shard names from the index (validated), in name order; the weight_map
 * stays in *wm (pointing into *json) for check_index. */
static ckpt_status read_index(ckpt_hf *hf, const char *ipath, ckpt_json **json,
                              struct wm_entry **wm, size_t *n_wm, ckpt_err *err)
{
    ckpt_map *m = NULL;
    ckpt_status s = read_json(ipath, &m, err);
    if (s != CKPT_OK)
        return s;
    s = ckpt_json_parse(json, (const char *)m->data, m->size, ipath, NULL, NULL, err);
    ckpt_map_close(m);
    if (s != CKPT_OK)
        return s;
    const cJSON *root = ckpt_json_root(*json), *map = NULL;
    if (cJSON_IsObject(root))
        for (const cJSON *c = root->child; c; c = c->next)
            if (strcmp(c->string, "weight_map") == 0)
                map = c;
    if (!map || !cJSON_IsObject(map))
        return ckpt_err_set(err, CKPT_E_FORMAT, "%s: no weight_map object", ipath);
    size_t n = ckpt_json_count(map);
    *wm = malloc((n ? n : 1) * sizeof **wm);
    if (!*wm)
        return ckpt_err_set(err, CKPT_E_NOMEM, "%s: out of memory", ipath);
    char nbuf[128];
    for (const cJSON *c = map->child; c; c = c->next) {
        if (!cJSON_IsString(c))
            return ckpt_err_set(err, CKPT_E_FORMAT, "%s: weight_map: '%s' does not map to a "
                                "file name", ipath, ckpt_json_printable(c->string, nbuf, sizeof nbuf));
        const char *f = c->valuestring;
        if (!*f || strchr(f, '/') || strchr(f, '\\') || strstr(f, "..") ||
            strcmp(f, ".") == 0)
            return ckpt_err_set(err, CKPT_E_FORMAT,
                                "%s: weight_map: shard name '%s' is not a plain file name in the "
                                "model directory",
                                ipath, ckpt_json_printable(f, nbuf, sizeof nbuf));
        (*wm)[(*n_wm)++] = (struct wm_entry){c->string, f};
        bool seen = false;
        for (size_t i = 0; i < hf->n_shards && !seen; i++)
            seen = strcmp(hf->shard_names[i], f) == 0;
        if (!seen && (s = add_shard_name(hf, f, err)) != CKPT_OK)
            return s;
    }
    if (hf->n_shards == 0)
        return ckpt_err_set(err, CKPT_E_FORMAT, "%s: weight_map is empty", ipath);
    qsort(hf->shard_names, hf->n_shards, sizeof *hf->shard_names, cmp_pstr);
    for (size_t i = 0; i < hf->n_shards; i++)
        if (!in_dir(hf, hf->shard_names[i]))
            return ckpt_err_set(err, CKPT_E_IO, "%s: shard '%s' listed in weight_map is missing",
                                ipath, ckpt_json_printable(hf->shard_names[i], nbuf, sizeof nbuf));
    qsort(*wm, *n_wm, sizeof **wm, cmp_wm);
    hf->layout = CKPT_HF_LAYOUT_INDEXED;
    return CKPT_OK;
}

/* Both lists sorted by tensor name: every shard tensor listed, in its own
 * shard, and every listed tensor present. */
static ckpt_status check_index(ckpt_hf *hf, const char *ipath, const struct wm_entry *wm,
                               size_t n_wm, ckpt_err *err)
{
    char nbuf[128];
    size_t i = 0, k = 0;
    while (i < hf->n_tensors || k < n_wm) {
        int c = i == hf->n_tensors ? 1
                : k == n_wm        ? -1
                                   : strcmp(hf->by_name[i].t->name, wm[k].tensor);
        if (c < 0)
            return ckpt_err_set(err, CKPT_E_FORMAT,
                                "%s: tensor '%s' in shard %s is not listed in weight_map", ipath,
                                ckpt_json_printable(hf->by_name[i].t->name, nbuf, sizeof nbuf),
                                hf->shard_names[hf->by_name[i].shard]);
        if (c > 0)
            return ckpt_err_set(err, CKPT_E_FORMAT,
                                "%s: tensor '%s' listed in weight_map is missing from shard %s",
                                ipath, ckpt_json_printable(wm[k].tensor, nbuf, sizeof nbuf),
                                wm[k].shard);
        const char *have = hf->shard_names[hf->by_name[i].shard];
        if (strcmp(have, wm[k].shard) != 0)
            return ckpt_err_set(err, CKPT_E_FORMAT,
                                "%s: tensor '%s' is in shard %s but weight_map lists it in %s",
                                ipath, ckpt_json_printable(wm[k].tensor, nbuf, sizeof nbuf), have,
                                wm[k].shard);
        i++, k++;
    }
    return CKPT_OK;
}

/* Open every shard, then build the tensor tables; names must be unique. */
static ckpt_status open_shards(ckpt_hf *hf, ckpt_err *err)
{
    hf->shards = calloc(hf->n_shards, sizeof *hf->shards);
    if (!hf->shards)
        return ckpt_err_set(err, CKPT_E_NOMEM, "%s: out of memory", hf->path);
    size_t total = 0;
    for (size_t i = 0; i < hf->n_shards; i++) {
        char *p = hf->is_dir ? ckpt_path_join(hf->path, hf->shard_names[i]) : strdup(hf->path);
        if (!p)
            return ckpt_err_set(err, CKPT_E_NOMEM, "%s: out of memory", hf->path);
        ckpt_status s = ckpt_st_open(&hf->shards[i], p, NULL, err);
        free(p);
        if (s != CKPT_OK)
            return s;
        total += ckpt_st_n_tensors(hf->shards[i]);
    }
    hf->order = malloc((total ? total : 1) * sizeof *hf->order);
    hf->by_name = malloc((total ? total : 1) * sizeof *hf->by_name);
    if (!hf->order || !hf->by_name)
        return ckpt_err_set(err, CKPT_E_NOMEM, "%s: out of memory", hf->path);
    for (size_t i = 0; i < hf->n_shards; i++)
        for (size_t k = 0; k < ckpt_st_n_tensors(hf->shards[i]); k++)
            hf->order[hf->n_tensors++] = (struct ref){ckpt_st_tensor(hf->shards[i], k), i};
    memcpy(hf->by_name, hf->order, total * sizeof *hf->order);
    qsort(hf->by_name, total, sizeof *hf->by_name, cmp_ref);
    for (size_t i = 1; i < total; i++)
        if (strcmp(hf->by_name[i - 1].t->name, hf->by_name[i].t->name) == 0) {
            char nbuf[128];
            const struct ref *a = &hf->by_name[i - 1], *b = &hf->by_name[i];
            return ckpt_err_set(err, CKPT_E_FORMAT, "%s: tensor '%s' appears in shards %s and %s",
                                hf->path, ckpt_json_printable(a->t->name, nbuf, sizeof nbuf),
                                hf->shard_names[a->shard < b->shard ? a->shard : b->shard],
                                hf->shard_names[a->shard < b->shard ? b->shard : a->shard]);
        }
    return CKPT_OK;
}

static ckpt_status open_dir(ckpt_hf *hf, ckpt_err *err)
{
    static const struct {
        const char *name;
        unsigned bit;
    } optional[] = {
        {"tokenizer.model", CKPT_HF_TOKENIZER_MODEL},
        {"tokenizer.json", CKPT_HF_TOKENIZER_JSON},
        {"tokenizer_config.json", CKPT_HF_TOKENIZER_CONFIG},
        {"special_tokens_map.json", CKPT_HF_SPECIAL_TOKENS_MAP},
        {"generation_config.json", CKPT_HF_GENERATION_CONFIG},
        {"tekken.json", CKPT_HF_TEKKEN},
    };
    ckpt_status s = load_config(hf, err);
    if (s != CKPT_OK)
        return s;
    for (size_t i = 0; i < sizeof optional / sizeof optional[0]; i++)
        if (in_dir(hf, i == 0 ? hf->names->spm : optional[i].name))
            hf->files |= optional[i].bit;

    /* transformers looks for the single file first, then the index */
    char single[64], index[64];
    snprintf(single, sizeof single, "%s.safetensors", hf->names->stem);
    snprintf(index, sizeof index, "%s.safetensors.index.json", hf->names->stem);
    if (in_dir(hf, single)) {
        hf->layout = CKPT_HF_LAYOUT_SINGLE;
        if ((s = add_shard_name(hf, single, err)) != CKPT_OK)
            return s;
        return open_shards(hf, err);
    }
    char *ipath = ckpt_path_join(hf->path, index);
    if (!ipath)
        return ckpt_err_set(err, CKPT_E_NOMEM, "%s: out of memory", hf->path);
    if (!ckpt_path_is_file(ipath)) {
        free(ipath);
        if ((s = find_series(hf, err)) != CKPT_OK)
            return s;
        return open_shards(hf, err);
    }
    ckpt_json *json = NULL;
    struct wm_entry *wm = NULL;
    size_t n_wm = 0;
    s = read_index(hf, ipath, &json, &wm, &n_wm, err);
    if (s == CKPT_OK)
        s = open_shards(hf, err);
    if (s == CKPT_OK)
        s = check_index(hf, ipath, wm, n_wm, err);
    free(wm);
    ckpt_json_free(json);
    free(ipath);
    return s;
}

/* Every file of a model directory is input to the run, read now or later
 * (config, tokenizer, shards): no output of the run may replace one. */
static void protect_dir(const char *dir)
{
    DIR *d = opendir(dir);
    for (struct dirent *e; d && (e = readdir(d));) {
        char *p = e->d_name[0] == '.' ? NULL : ckpt_path_join(dir, e->d_name);
        if (p && ckpt_path_is_file(p))
            ckpt_out_protect(p);
        free(p);
    }
    if (d)
        closedir(d);
}

ckpt_status ckpt_hf_open(ckpt_hf **out, const char *path, ckpt_err *err)
{
    *out = NULL;
    ckpt_hf *hf = calloc(1, sizeof *hf);
    if (!hf || !(hf->path = strdup(path))) {
        free(hf);
        return ckpt_err_set(err, CKPT_E_NOMEM, "%s: out of memory", path);
    }
    hf->names = &hf_names;
    struct stat sb;
    ckpt_status s;
    if (strcmp(path, "-") != 0 && stat(path, &sb) != 0) {
        s = ckpt_err_errno(err, CKPT_E_IO, errno, "%s", path);
    } else if (strcmp(path, "-") != 0 && S_ISDIR(sb.st_mode)) {
        hf->is_dir = true;
        protect_dir(path);
        s = open_dir(hf, err);
    } else {
        hf->layout = CKPT_HF_LAYOUT_FILE;
        const char *base = strrchr(path, '/');
        s = ckpt_file_expect(path, CKPT_KIND_BIT(CKPT_KIND_SAFETENSORS), "safetensors weights",
                             err);
        if (s == CKPT_OK)
            s = add_shard_name(hf, base ? base + 1 : path, err);
        if (s == CKPT_OK)
            s = open_shards(hf, err);
    }
    if (s != CKPT_OK) {
        ckpt_hf_close(hf);
        return s;
    }
    *out = hf;
    return CKPT_OK;
}

void ckpt_hf_close(ckpt_hf *hf)
{
    if (!hf)
        return;
    for (size_t i = 0; i < hf->n_shards; i++) {
        if (hf->shards)
            ckpt_st_close(hf->shards[i]);
        free(hf->shard_names[i]);
    }
    free(hf->shards);
    free(hf->shard_names);
    free(hf->order);
    free(hf->by_name);
    free(hf->path);
    free(hf);
}

const char *ckpt_hf_path(const ckpt_hf *hf) { return hf->path; }
ckpt_hf_layout ckpt_hf_get_layout(const ckpt_hf *hf) { return hf->layout; }

const struct ckpt_hf_config *ckpt_hf_get_config(const ckpt_hf *hf)
{
    return hf->has_config ? &hf->cfg : NULL;
}

unsigned ckpt_hf_files(const ckpt_hf *hf) { return hf->files; }

const char *ckpt_hf_config_file(const ckpt_hf *hf) { return hf->names->config; }
const char *ckpt_hf_weights_stem(const ckpt_hf *hf) { return hf->names->stem; }
const char *ckpt_hf_spm_file(const ckpt_hf *hf) { return hf->names->spm; }

char *ckpt_hf_file_path(const ckpt_hf *hf, const char *name)
{
    return hf->is_dir ? ckpt_path_join(hf->path, name) : NULL;
}

size_t ckpt_hf_n_shards(const ckpt_hf *hf) { return hf->n_shards; }

const ckpt_st *ckpt_hf_shard(const ckpt_hf *hf, size_t i)
{
    return i < hf->n_shards ? hf->shards[i] : NULL;
}

const char *ckpt_hf_shard_name(const ckpt_hf *hf, size_t i)
{
    return i < hf->n_shards ? hf->shard_names[i] : NULL;
}

size_t ckpt_hf_n_tensors(const ckpt_hf *hf) { return hf->n_tensors; }

const struct ckpt_st_tensor *ckpt_hf_tensor(const ckpt_hf *hf, size_t i, size_t *shard)
{
    if (i >= hf->n_tensors)
        return NULL;
    if (shard)
        *shard = hf->order[i].shard;
    return hf->order[i].t;
}

const struct ckpt_st_tensor *ckpt_hf_find(const ckpt_hf *hf, const char *name, size_t *shard)
{
    size_t lo = 0, hi = hf->n_tensors;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(name, hf->by_name[mid].t->name);
        if (c == 0) {
            if (shard)
                *shard = hf->by_name[mid].shard;
            return hf->by_name[mid].t;
        }
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return NULL;
}
