/*
 * modelname.c - naming heuristics of llama.cpp's converter (see
 * modelname.h), written from the behaviour of gguf-py's metadata.py and
 * utility.py: model id components, title case, and the size label.
 */
#include "modelname.h"

#include <ctype.h>
#include <math.h>
#include <regex.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_PARTS 32
enum { T_BASENAME = 1, T_SIZE = 2, T_FINETUNE = 4, T_VERSION = 8, T_TYPE = 16 };

static bool full_match(const char *pattern, const char *s)
{
    regex_t re;
    if (regcomp(&re, pattern, REG_EXTENDED | REG_ICASE | REG_NOSUB) != 0)
        return false;
    bool m = regexec(&re, s, 0, NULL, 0) == 0;
    regfree(&re);
    return m;
}

static void upcase(char *s)
{
    for (; *s; s++)
        *s = (char)toupper((unsigned char)*s);
}

static bool has_digit(const char *s)
{
    for (; *s; s++)
        if (isdigit((unsigned char)*s))
            return true;
    return false;
}

static bool all_alpha(const char *s)
{
    for (; *s; s++)
        if (!isalpha((unsigned char)*s))
            return false;
    return true;
}

/* A size part ("7B", "8x7b", "7b1", "small"): normalise it, and demote it to
 * a finetune (a context length such as "32k") when it is far from the
 * parameter count. */
static unsigned size_part(char *part, uint64_t total)
{
    unsigned t = T_SIZE;
    for (char *c = part; *c; c++)
        if (*c == '_')
            *c = '.';
    size_t n = strlen(part);
    if (isdigit((unsigned char)part[n - 1]) && n >= 2) { /* bloom-7b1 -> 7.1b */
        char a = part[n - 2], d = part[n - 1];
        part[n - 2] = '.';
        part[n - 1] = d;
        part[n] = a;
        part[n + 1] = '\0';
        n++;
    }
    if (n > 1 && isdigit((unsigned char)part[n - 2]) && strchr("kmbt", part[n - 1]))
        part[n - 1] = (char)toupper((unsigned char)part[n - 1]);
    const char *scales = " KMBT", *u = strchr(scales, part[n - 1]);
    char num[64];
    snprintf(num, sizeof num, "%.*s", (int)(n - 1), part);
    char *end;
    double v = strtod(num, &end);
    if (total && *num && !*end && !isspace((unsigned char)num[0])) {
        double label = v * pow(1000.0, u && part[n - 1] ? (double)(u - scales) : -1.0);
        if (fabs(label - (double)total) > (double)(7 * total / 8)) {
            t |= T_FINETUNE;
            part[n - 1] = (char)tolower((unsigned char)part[n - 1]);
        }
    }
    return t;
}

/* Join the parts whose types include `want` (and none of `skip`). */
static void join(char *buf, size_t size, char parts[][64], const unsigned *types, int n,
                 unsigned want, unsigned skip, bool dedupe)
{
    size_t o = 0;
    buf[0] = '\0';
    for (int i = 0; i < n; i++) {
        if (!(types[i] & want) || (types[i] & skip))
            continue;
        bool dup = false;
        for (int j = 0; dedupe && j < i; j++)
            dup |= (types[j] & want) && strcmp(parts[j], parts[i]) == 0;
        if (!dup && o < size)
            o += (size_t)snprintf(buf + o, size - o, "%s%s", o ? "-" : "", parts[i]);
    }
}

struct components {
    char full[256], org[128], basename[128], finetune[128], version[64], size[64];
};

/* Metadata.get_model_id_components. */
static void components(struct components *c, const char *id, uint64_t total)
{
    memset(c, 0, sizeof *c);
    if (strchr(id, ' ')) {
        snprintf(c->full, sizeof c->full, "%s", id);
        return;
    }
    const char *slash = strchr(id, '/');
    if (slash) {
        if (slash > id && id[0] != '.')
            snprintf(c->org, sizeof c->org, "%.*s", (int)(slash - id), id);
        snprintf(c->full, sizeof c->full, "%s", slash + 1);
    } else {
        snprintf(c->full, sizeof c->full, "%s", id);
    }
    char parts[MAX_PARTS][64];
    unsigned types[MAX_PARTS] = {0};
    int n = 0;
    for (const char *p = c->full; *p && n < MAX_PARTS;) {
        size_t len = strcspn(p, "-");
        if (len > 0 && len < 60)
            snprintf(parts[n++], 64, "%.*s", (int)len, p);
        p += len + (p[len] == '-');
    }
    for (int i = 0; i < n; i++) {
        char *part = parts[i];
        if (full_match("^(v|iter)?[0-9]+([.][0-9]+)*$", part)) {
            types[i] |= T_VERSION;
        } else if (full_match("^(i?q[0-9](_[a-z0-9_])*|b?fp?(16|32))$", part)) {
            types[i] |= T_TYPE;
            upcase(part);
        } else if (i > 0 && full_match("^(([a]|[0-9]+[x])?[0-9]+([._][0-9]+)?[kmbt][0-9]?|small|"
                                       "mini|medium|large|x?xl)$",
                                       part)) {
            types[i] |= size_part(part, total);
        } else if (i > 0 && full_match("^(chat|instruct|vision|lora)$", part)) {
            types[i] |= T_FINETUNE;
        }
    }
    /* word sizes ("small") give way to a numeric one */
    bool numeric = false;
    for (int i = 0; i < n; i++)
        numeric |= (types[i] & T_SIZE) && has_digit(parts[i]);
    for (int i = 0; numeric && i < n; i++)
        if ((types[i] & T_SIZE) && all_alpha(parts[i]))
            types[i] &= ~(unsigned)T_SIZE;
    bool at_start = true;
    for (int i = 0; i < n; i++) {
        if (at_start && ((types[i] == 0 && isalpha((unsigned char)parts[i][0])) ||
                         (types[i] & T_VERSION)))
            types[i] |= T_BASENAME;
        else {
            at_start = false;
            if (types[i] == 0)
                types[i] |= T_FINETUNE;
        }
    }
    for (int i = n - 1; i >= 0; i--) { /* a trailing version is no basename */
        if ((types[i] & T_BASENAME) && types[i] != T_BASENAME)
            types[i] &= ~(unsigned)T_BASENAME;
        else
            break;
    }
    join(c->basename, sizeof c->basename, parts, types, n, T_BASENAME, 0, false);
    join(c->size, sizeof c->size, parts, types, n, T_SIZE, 0, true);
    join(c->finetune, sizeof c->finetune, parts, types, n, T_FINETUNE, 0, false);
    join(c->version, sizeof c->version, parts, types, n, T_VERSION, T_BASENAME, false);
    if (!c->size[0] && !c->finetune[0] && !c->version[0])
        c->basename[0] = '\0';
}

void ckpt_model_title(char *buf, size_t size, const char *id)
{
    size_t o = 0;
    buf[0] = '\0';
    for (const char *p = id; *p;) {
        while (*p == ' ' || *p == '-' || *p == '\t' || *p == '\n')
            p++;
        size_t len = strcspn(p, " -\t\n");
        if (!len)
            break;
        char w[256];
        snprintf(w, sizeof w, "%.*s", (int)(len < 255 ? len : 255), p);
        p += len;
        bool cased = false, lower = true;
        for (char *c = w; *c; c++) {
            cased |= isalpha((unsigned char)*c) != 0;
            lower &= !isupper((unsigned char)*c);
        }
        if (cased && lower && !full_match("^(v[0-9]+([.][0-9]+)*|[0-9].*)$", w)) {
            bool start = true; /* str.title(): a letter after a non-letter is upper */
            for (char *c = w; *c; c++) {
                *c = (char)(start ? toupper((unsigned char)*c) : tolower((unsigned char)*c));
                start = !isalpha((unsigned char)*c);
            }
        }
        if (o < size)
            o += (size_t)snprintf(buf + o, size - o, "%s%s", o ? " " : "", w);
    }
}

/* utility.py model_weight_count_rounded_notation(n, min_digits=2). */
static void rounded_notation(char *buf, size_t size, uint64_t n)
{
    double v = (double)n, s;
    const char *suffix;
    if (v > 1e12)
        s = v * 1e-12, suffix = "T";
    else if (v > 1e9)
        s = v * 1e-9, suffix = "B";
    else if (v > 1e6)
        s = v * 1e-6, suffix = "M";
    else
        s = v * 1e-3, suffix = "K";
    char digits[64];
    snprintf(digits, sizeof digits, "%.0f", nearbyint(s)); /* round(): half to even */
    const char *d = digits;
    while (*d == '0')
        d++;
    int fix = 2 - (int)strlen(d);
    snprintf(buf, size, "%.*f%s", fix > 0 ? fix : 0, s, suffix);
}

void ckpt_model_size_label(char *buf, size_t size, const struct ckpt_param_count *pc)
{
    if (pc->expert_count > 0) {
        char n[48];
        rounded_notation(n, sizeof n, pc->shared + pc->expert);
        snprintf(buf, size, "%ux%s", pc->expert_count, n);
    } else {
        rounded_notation(buf, size, pc->total);
    }
}

static void fill(char *dst, size_t size, const char *v)
{
    size_t n = strlen(v);
    if (!dst[0] && n) {
        if (n >= size)
            n = size - 1;
        memcpy(dst, v, n);
        dst[n] = '\0';
    }
}

void ckpt_model_id_derive(struct ckpt_model_id *id, const char *name_or_path,
                          const char *dir_name, const struct ckpt_param_count *pc)
{
    memset(id, 0, sizeof *id);
    const char *ids[2] = {NULL, dir_name};
    if (name_or_path) {
        int slashes = 0;
        for (const char *p = name_or_path; *p; p++)
            slashes += *p == '/';
        if (slashes <= 1)
            ids[0] = name_or_path;
    }
    for (int k = 0; k < 2; k++) {
        if (!ids[k])
            continue;
        struct components c;
        components(&c, ids[k], pc->total);
        char title[256];
        if (!id->name[0] && c.full[0]) {
            ckpt_model_title(title, sizeof title, c.full);
            fill(id->name, sizeof id->name, title);
        }
        if (!id->organization[0] && c.org[0]) {
            ckpt_model_title(title, sizeof title, c.org);
            fill(id->organization, sizeof id->organization, title);
        }
        fill(id->basename, sizeof id->basename, c.basename);
        fill(id->finetune, sizeof id->finetune, c.finetune);
        fill(id->version, sizeof id->version, c.version);
        fill(id->size_label, sizeof id->size_label, c.size);
    }
    if (!id->name[0])
        fill(id->name, sizeof id->name, dir_name);
    if (!id->size_label[0] && pc->total > 0)
        ckpt_model_size_label(id->size_label, sizeof id->size_label, pc);
}
