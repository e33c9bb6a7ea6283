/*
 * show.c - print a signed statement for people and programs (show.h).
 */
#include "show.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../formats/filekind.h"
#include "../formats/sha256.h"
#include "../quant/plan.h"
#include "artifact.h"

/* A JSON scalar as text: strings bare, the rest as JSON. */
static void put_value(FILE *f, const cJSON *v)
{
    if (cJSON_IsString(v)) {
        fputs(v->valuestring, f);
        return;
    }
    char *t = cJSON_PrintUnformatted(v);
    fputs(t ? t : "?", f);
    free(t);
}

/* Text on one line: a newline as \n, other control characters as '?'
 * (prompts span lines; a hostile name must not forge report lines). */
static void put_line_text(FILE *f, const char *t)
{
    for (; *t; t++) {
        if (*t == '\n')
            fputs("\\n", f);
        else
            fputc((unsigned char)*t < 0x20 || *t == 0x7f ? '?' : *t, f);
    }
}

/* One "DIGEST  NAME" line per object of list (sha256sum's layout), with
 * " (NOTE)" after it when note names a member. */
static void put_digests(FILE *f, const cJSON *list, const char *indent, const char *digest,
                        const char *name, const char *note)
{
    for (const cJSON *r = cJSON_IsArray(list) ? list->child : NULL; r; r = r->next) {
        const cJSON *d = cJSON_GetObjectItemCaseSensitive(r, digest);
        const cJSON *n = cJSON_GetObjectItemCaseSensitive(r, name);
        const cJSON *x = note ? cJSON_GetObjectItemCaseSensitive(r, note) : NULL;
        fprintf(f, "%s%s  ", indent, cJSON_IsString(d) ? d->valuestring : "?");
        put_line_text(f, cJSON_IsString(n) ? n->valuestring : "?");
        fprintf(f, "%s%s%s\n", cJSON_IsString(x) ? " (" : "", cJSON_IsString(x) ? x->valuestring : "",
                cJSON_IsString(x) ? ")" : "");
    }
}

/* One recipe step's options: "type f16", "mix Q4_K_M", lists space-separated. */
static void put_step_options(FILE *f, const cJSON *st)
{
    const char *sep = "";
    for (const cJSON *e = st->child; e; e = e->next) {
        if (!e->string || !strcmp(e->string, "tool") || !strcmp(e->string, "version") ||
            !strcmp(e->string, "inputs"))
            continue;
        fprintf(f, "%s%s", sep, e->string);
        sep = ", ";
        if (cJSON_IsTrue(e))
            continue;
        for (const cJSON *v = cJSON_IsArray(e) ? e->child : e; v; v = cJSON_IsArray(e) ? v->next
                                                                                     : NULL) {
            fputc(' ', f);
            put_value(f, v);
        }
    }
}

/* The recipe a GGUF carries: its steps in order, each with its inputs. */
static void put_recipe(FILE *f, const cJSON *r)
{
    const cJSON *steps = cJSON_GetObjectItemCaseSensitive(r, "steps");
    int k = 0;
    fputs("    recipe:\n", f);
    for (const cJSON *st = cJSON_IsArray(steps) ? steps->child : NULL; st; st = st->next) {
        fprintf(f, "      %d. ", ++k);
        put_value(f, cJSON_GetObjectItemCaseSensitive(st, "tool"));
        fputc(' ', f);
        put_value(f, cJSON_GetObjectItemCaseSensitive(st, "version"));
        fputs(": ", f);
        put_step_options(f, st);
        fputc('\n', f);
        put_digests(f, cJSON_GetObjectItemCaseSensitive(st, "inputs"), "         ", "sha256",
                    "name", "role");
    }
}

static void put_provenance(FILE *f, const cJSON *ck)
{
    const cJSON *tool = cJSON_GetObjectItemCaseSensitive(ck, "tool");
    const cJSON *params = cJSON_GetObjectItemCaseSensitive(ck, "parameters");
    const cJSON *src = cJSON_GetObjectItemCaseSensitive(ck, "source");
    const cJSON *gguf = cJSON_GetObjectItemCaseSensitive(ck, "gguf");
    fputs("provenance:\n", f);
    if (cJSON_IsObject(tool)) {
        fputs("  tool: ", f);
        put_value(f, cJSON_GetObjectItemCaseSensitive(tool, "name"));
        fputc(' ', f);
        put_value(f, cJSON_GetObjectItemCaseSensitive(tool, "version"));
        fputc('\n', f);
    }
    for (const cJSON *p = cJSON_IsObject(params) ? params->child : NULL; p; p = p->next) {
        fprintf(f, "  parameter %s = ", p->string);
        put_value(f, p);
        fputc('\n', f);
    }
    if (cJSON_IsObject(src)) {
        const cJSON *dig = cJSON_GetObjectItemCaseSensitive(src, "digest");
        fputs("  source: ", f);
        put_value(f, cJSON_GetObjectItemCaseSensitive(src, "name"));
        fputs(" (sha256 ", f);
        put_value(f, cJSON_GetObjectItemCaseSensitive(dig, "sha256"));
        fputs(")\n", f);
        put_digests(f, cJSON_GetObjectItemCaseSensitive(src, "resources"), "    ", "digest", "name",
                    NULL);
    }
    const cJSON *fp = cJSON_GetObjectItemCaseSensitive(ck, "fingerprint");
    if (cJSON_IsObject(fp)) {
        const cJSON *pr = cJSON_GetObjectItemCaseSensitive(fp, "prompts");
        fprintf(f, "  fingerprint: %d prompts, ", cJSON_GetArraySize(pr));
        put_value(f, cJSON_GetObjectItemCaseSensitive(fp, "tokens"));
        fputs(" greedy tokens each\n", f);
        put_digests(f, pr, "    ", "sha256", "text", NULL);
    }
    for (const cJSON *g = cJSON_IsArray(gguf) ? gguf->child : NULL; g; g = g->next) {
        fputs("  gguf ", f);
        put_value(f, cJSON_GetObjectItemCaseSensitive(g, "name"));
        fputs(":\n", f);
        for (const cJSON *e = g->child; e; e = e->next) {
            if (!e->string || cJSON_IsObject(e) || cJSON_IsArray(e) ||
                !strcmp(e->string, "name"))
                continue;
            /* a mix is known by its llama-quantize name, not its number */
            int mix = !strcmp(e->string, "file_type") && cJSON_IsNumber(e) && e->valuedouble >= 0
                          ? ckpt_mix_from_file_type((uint32_t)e->valuedouble)
                          : -1;
            if (mix >= 0) {
                fprintf(f, "    mix: %s (file_type %u)\n", ckpt_mix_name((ckpt_mix)mix),
                        (unsigned)e->valuedouble);
                continue;
            }
            fprintf(f, "    %s: ", e->string);
            put_value(f, e);
            fputc('\n', f);
        }
        const cJSON *tt = cJSON_GetObjectItemCaseSensitive(g, "tensor_types");
        for (const cJSON *t = cJSON_IsObject(tt) ? tt->child : NULL; t; t = t->next) {
            fprintf(f, "    tensors %s: ", t->string);
            put_value(f, t);
            fputc('\n', f);
        }
        const cJSON *md = cJSON_GetObjectItemCaseSensitive(g, "metadata");
        for (const cJSON *k = cJSON_IsObject(md) ? md->child : NULL; k; k = k->next) {
            fprintf(f, "    %s = ", k->string);
            put_value(f, k);
            fputc('\n', f);
        }
        const cJSON *r = cJSON_GetObjectItemCaseSensitive(g, "recipe");
        if (cJSON_IsObject(r))
            put_recipe(f, r);
    }
    const cJSON *sts = cJSON_GetObjectItemCaseSensitive(ck, "safetensors");
    for (const cJSON *t = cJSON_IsArray(sts) ? sts->child : NULL; t; t = t->next) {
        const cJSON *r = cJSON_GetObjectItemCaseSensitive(t, "recipe");
        fputs("  safetensors ", f);
        put_value(f, cJSON_GetObjectItemCaseSensitive(t, "name"));
        fputs(":\n", f);
        if (cJSON_IsObject(r))
            put_recipe(f, r);
    }
}

const char *ckpt_show_resource_name(const struct ckpt_manifest *m, size_t i)
{
    /* model_signing names the one file of a single-file artifact "." */
    if (m->n_res == 1 && strcmp(m->res[0].name, ".") == 0 && m->subject && m->subject[0])
        return m->subject;
    return m->res[i].name;
}

ckpt_status ckpt_show_sig_path(const char *operand, char **sig, ckpt_err *err)
{
    *sig = NULL;
    ckpt_file_kind kind;
    ckpt_status s = ckpt_file_sniff(operand, &kind, err);
    if (s == CKPT_OK && kind == CKPT_KIND_SIGSTORE_BUNDLE) {
        if (!(*sig = strdup(operand)))
            s = ckpt_err_set(err, CKPT_E_NOMEM, "out of memory");
        return s;
    }
    if (s != CKPT_OK)
        return s;
    struct ckpt_artifact a; /* an artifact: its signature's usual place */
    if ((s = ckpt_artifact_open(&a, operand, err)) == CKPT_OK) {
        *sig = a.sig;
        a.sig = NULL;
    }
    ckpt_artifact_free(&a);
    return s;
}

ckpt_status ckpt_show_text(const struct ckpt_manifest *m, char **out, ckpt_err *err)
{
    *out = NULL;
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f)
        return ckpt_err_set(err, CKPT_E_NOMEM, "out of memory");
    char hex[CKPT_SHA256_HEX];
    ckpt_sha256_hex(m->root, hex);
    fprintf(f, "subject: %s\nroot sha256: %s\nserialization: files, sha256\n",
            m->subject ? m->subject : "", hex);
    for (size_t i = 0; i < m->n_ignore; i++)
        fprintf(f, "ignored: %s\n", m->ignore[i]);
    fprintf(f, "resources: %zu\n", m->n_res);
    for (size_t i = 0; i < m->n_res; i++) {
        ckpt_sha256_hex(m->res[i].digest, hex);
        fprintf(f, "  %s  %s\n", hex, ckpt_show_resource_name(m, i));
    }
    if (m->ckpt)
        put_provenance(f, m->ckpt);
    else
        fputs("provenance: none (not signed by ckpt)\n", f);
    if (fclose(f) != 0 || !buf) {
        free(buf);
        return ckpt_err_set(err, CKPT_E_NOMEM, "out of memory");
    }
    *out = buf;
    return CKPT_OK;
}

cJSON *ckpt_show_json(const struct ckpt_manifest *m)
{
    char hex[CKPT_SHA256_HEX];
    cJSON *j = cJSON_CreateObject(), *ign, *res;
    ckpt_sha256_hex(m->root, hex);
    bool ok = j && cJSON_AddStringToObject(j, "subject", m->subject ? m->subject : "") &&
              cJSON_AddStringToObject(j, "root_sha256", hex) &&
              (ign = cJSON_AddArrayToObject(j, "ignore_paths")) &&
              (res = cJSON_AddArrayToObject(j, "resources"));
    for (size_t i = 0; ok && i < m->n_ignore; i++) {
        cJSON *s = cJSON_CreateString(m->ignore[i]);
        ok = s && cJSON_AddItemToArray(ign, s);
    }
    for (size_t i = 0; ok && i < m->n_res; i++) {
        cJSON *r = cJSON_CreateObject();
        ckpt_sha256_hex(m->res[i].digest, hex);
        ok = r && cJSON_AddItemToArray(res, r) &&
             cJSON_AddStringToObject(r, "name", m->res[i].name) &&
             cJSON_AddStringToObject(r, "digest", hex);
    }
    if (ok) {
        cJSON *c = m->ckpt ? cJSON_Duplicate(m->ckpt, 1) : cJSON_CreateNull();
        ok = c && cJSON_AddItemToObject(j, "ckpt", c);
    }
    if (!ok) {
        cJSON_Delete(j);
        return NULL;
    }
    return j;
}
