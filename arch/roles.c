/*
 * roles.c - lookups over the descriptors and their role tables (arch.h):
 * find a descriptor, match a tensor name against the patterns of a scheme
 * or of the GGUF side, and form names back from a role.  Matching is by
 * exact text and decimal indices, so "model.layers.01..." or
 * "...q_proj.weightx" is unknown rather than silently mapped.
 */
#include "arch.h"

#include <stdio.h>
#include <string.h>

#include "gguf_keys.h"

const struct ckpt_arch *ckpt_arch_by_hf_class(const char *hf_class)
{
    for (size_t i = 0; hf_class && ckpt_arch_at(i); i++)
        if (strcmp(ckpt_arch_at(i)->hf_class, hf_class) == 0)
            return ckpt_arch_at(i);
    return NULL;
}

const struct ckpt_arch *ckpt_arch_by_model_type(const char *model_type)
{
    for (size_t i = 0; model_type && ckpt_arch_at(i); i++)
        if (strcmp(ckpt_arch_at(i)->model_type, model_type) == 0)
            return ckpt_arch_at(i);
    return NULL;
}

/* The first descriptor writing gguf_arch whose expert feature agrees: the
 * table lists Mistral before Llama, so a dense "llama" GGUF reads as
 * Mistral (the same tensors; the window is not in the file anyway). */
const struct ckpt_arch *ckpt_arch_by_gguf(const char *gguf_arch, bool experts)
{
    for (size_t i = 0; gguf_arch && ckpt_arch_at(i); i++) {
        const struct ckpt_arch *a = ckpt_arch_at(i);
        if (strcmp(a->gguf_arch, gguf_arch) == 0 &&
            !(a->features & CKPT_FEAT_EXPERTS) == !experts)
            return a;
    }
    return NULL;
}

const char *ckpt_arch_supported(char *buf, size_t n)
{
    size_t o = 0;
    if (n)
        buf[0] = '\0';
    for (size_t i = 0; ckpt_arch_at(i) && o < n; i++) {
        int k = snprintf(buf + o, n - o, "%s%s", i ? ", " : "", ckpt_arch_at(i)->hf_class);
        o += k > 0 ? (size_t)k : 0;
    }
    return buf;
}

const struct ckpt_arch_scheme *ckpt_arch_scheme_by_name(const struct ckpt_arch *a,
                                                        const char *name)
{
    for (size_t i = 0; i < a->n_schemes; i++)
        if (strcmp(a->schemes[i].name, name) == 0)
            return &a->schemes[i];
    return NULL;
}

bool ckpt_arch_dropped(const struct ckpt_arch_scheme *s, const char *name)
{
    for (size_t i = 0; i < s->n_dropped; i++)
        if (strncmp(name, s->dropped_prefixes[i], strlen(s->dropped_prefixes[i])) == 0)
            return true;
    return false;
}

const struct ckpt_arch_role *ckpt_arch_role(const struct ckpt_arch *a, ckpt_role role)
{
    for (size_t i = 0; i < a->n_roles; i++)
        if (a->roles[i].role == role)
            return &a->roles[i];
    return NULL;
}

bool ckpt_arch_role_present(const struct ckpt_arch_role *r, unsigned features)
{
    return (r->requires & features) == r->requires && !(r->excludes & features);
}

/* ==== patterns ==== */

/* Parse a decimal index without leading zeros (other than "0") at *p. */
static bool parse_index(const char **p, int *out)
{
    const char *s = *p;
    if (*s < '0' || *s > '9' || (s[0] == '0' && s[1] >= '0' && s[1] <= '9'))
        return false;
    long v = 0;
    while (*s >= '0' && *s <= '9') {
        v = v * 10 + (*s - '0');
        if (v > 1000000)
            return false;
        s++;
    }
    *out = (int)v;
    *p = s;
    return true;
}

/* Match *s against pattern (with "{L}" / "{E}"), advancing *s past it. */
static bool eat_pattern(const char **s, const char *pattern, int *layer, int *expert)
{
    const char *t = *s;
    for (const char *p = pattern; *p;) {
        if (p[0] == '{' && (p[1] == 'L' || p[1] == 'E') && p[2] == '}') {
            if (!parse_index(&t, p[1] == 'L' ? layer : expert))
                return false;
            p += 3;
        } else if (*t++ != *p++) {
            return false;
        }
    }
    *s = t;
    return true;
}

/* The rest must be ".weight" or ".bias"; returns the suffix. */
static const char *tail(const char *s)
{
    if (strcmp(s, ".weight") == 0 || strcmp(s, ".bias") == 0)
        return s + 1;
    return NULL;
}

static struct ckpt_arch_match unknown(void)
{
    return (struct ckpt_arch_match){CKPT_ROLE_UNKNOWN, -1, -1, NULL, NULL};
}

/* Try one pattern: prefix + pattern + suffix. */
static bool try_name(const char *name, const char *prefix, const char *pattern, ckpt_role role,
                     const struct ckpt_arch *a, struct ckpt_arch_match *m)
{
    struct ckpt_arch_match r = unknown();
    const char *s = name;
    if (!eat_pattern(&s, prefix, &r.layer, &r.expert) ||
        !eat_pattern(&s, pattern, &r.layer, &r.expert) || !(r.suffix = tail(s)))
        return false;
    r.role = role;
    r.spec = ckpt_arch_role(a, role);
    *m = r;
    return true;
}

struct ckpt_arch_match ckpt_arch_match_hf(const struct ckpt_arch *a,
                                          const struct ckpt_arch_scheme *sc, const char *name)
{
    struct ckpt_arch_match m = unknown();
    for (size_t i = 0; i < sc->n_names; i++)
        if (try_name(name, sc->prefix, sc->names[i].pattern, sc->names[i].role, a, &m))
            return m;
    for (size_t i = 0; i < sc->n_ignored; i++) {
        const char *s = name;
        int l, e;
        if (eat_pattern(&s, sc->prefix, &l, &e) && eat_pattern(&s, sc->ignored[i], &l, &e) &&
            !*s)
            return (struct ckpt_arch_match){CKPT_ROLE_IGNORED, -1, -1, NULL, NULL};
    }
    return m;
}

struct ckpt_arch_match ckpt_arch_match_gguf(const struct ckpt_arch *a, const char *name)
{
    struct ckpt_arch_match m = unknown();
    for (size_t i = 0; i < a->n_roles; i++)
        if (try_name(name, "", a->roles[i].gguf, a->roles[i].role, a, &m))
            return m;
    return m;
}

/* Expand pattern into buf at *o; false when it does not fit. */
static bool put(char *buf, size_t n, size_t *o, const char *pattern, int layer, int expert)
{
    for (const char *p = pattern; *p;) {
        int k;
        if (p[0] == '{' && (p[1] == 'L' || p[1] == 'E') && p[2] == '}') {
            int v = p[1] == 'L' ? layer : expert;
            if (v < 0)
                return false;
            k = snprintf(buf + *o, n - *o, "%d", v);
            p += 3;
        } else {
            k = snprintf(buf + *o, n - *o, "%c", *p++);
        }
        if (k < 0 || (size_t)k >= n - *o)
            return false;
        *o += (size_t)k;
    }
    return true;
}

static bool form(const char *prefix, const char *pattern, int layer, int expert,
                 const char *suffix, char *buf, size_t n)
{
    size_t o = 0;
    if (!pattern || !suffix || n == 0)
        return false;
    buf[0] = '\0';
    return put(buf, n, &o, prefix, layer, expert) && put(buf, n, &o, pattern, layer, expert) &&
           put(buf, n, &o, ".", -1, -1) && put(buf, n, &o, suffix, -1, -1);
}

bool ckpt_arch_hf_name(const struct ckpt_arch_scheme *s, ckpt_role role, int layer, int expert,
                       const char *suffix, char *buf, size_t n)
{
    for (size_t i = 0; i < s->n_names; i++)
        if (s->names[i].role == role)
            return form(s->prefix, s->names[i].pattern, layer, expert, suffix, buf, n);
    return false;
}

bool ckpt_arch_gguf_name(const struct ckpt_arch *a, ckpt_role role, int layer,
                         const char *suffix, char *buf, size_t n)
{
    const struct ckpt_arch_role *r = ckpt_arch_role(a, role);
    return r && form("", r->gguf, layer, -1, suffix, buf, n);
}

int64_t ckpt_arch_permute_heads(const struct ckpt_arch_role *r,
                                const uint64_t dims[CKPT_DIM_COUNT])
{
    return r && r->permute != CKPT_DIM_NONE ? (int64_t)dims[r->permute] : 0;
}

bool ckpt_arch_role_per_layer(const struct ckpt_arch_role *r)
{
    return strstr(r->gguf, "{L}") != NULL;
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcmp(s + n - k, suffix) == 0;
}

bool ckpt_arch_keep_f32(const char *gguf_name, uint32_t n_dims)
{
    if (n_dims <= 1 || !ends_with(gguf_name, ".weight"))
        return true;
    /* every descriptor shares the llama family's GGUF names */
    struct ckpt_arch_match m = ckpt_arch_match_gguf(ckpt_arch_at(0), gguf_name);
    if (m.spec)
        return m.spec->keep_f32;
    return ends_with(gguf_name, "_norm.weight");
}

/* ==== keys ==== */

const char *ckpt_gguf_key(char buf[CKPT_GGUF_KEY_MAX], const char *arch, const char *suffix)
{
    snprintf(buf, CKPT_GGUF_KEY_MAX, "%s.%s", arch, suffix);
    return buf;
}
