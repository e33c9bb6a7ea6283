/*
 * vocab.c - tokenizer keys of a converted GGUF (see vocab.h).  The arrays
 * come from formats/tokenizer.h; the special-token keys follow
 * gguf.SpecialVocab: ids first from tokenizer_config.json's <typ>_token
 * looked up among tokenizer.json's added_tokens, then from config.json's
 * <typ>_token_id, the first found per type winning, each written in the
 * order it was found.  A tekken.json alone (Mistral's layout) gives what
 * the same tokenizer in Hugging Face's layout gives: see tekken_special.
 */
#include "vocab.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../arch/gguf_keys.h"
#include "../formats/mapfile.h"
#include "../formats/tokenizer.h"

enum { N_TYPES = 7 };
static const char *const special_types[N_TYPES] = {"bos", "eos", "unk", "sep",
                                                   "pad", "cls", "mask"};
/* GGUF keys of the ids; cls has no writer in the converter. */
static const char *const id_keys[N_TYPES] = {
    CKPT_KEY_TOK_BOS_ID, CKPT_KEY_TOK_EOS_ID, CKPT_KEY_TOK_UNK_ID,  CKPT_KEY_TOK_SEP_ID,
    CKPT_KEY_TOK_PAD_ID, NULL,                CKPT_KEY_TOK_MASK_ID};

static bool exists(const struct ckpt_source *src, const char *name)
{
    char *p = ckpt_source_file(src, name);
    struct stat sb;
    bool ok = p && stat(p, &sb) == 0 && S_ISREG(sb.st_mode);
    free(p);
    return ok;
}

const char *ckpt_vocab_file(const struct ckpt_source *src)
{
    const char *spm = ckpt_hf_spm_file(src->hf); /* tokenizer.model(.v3) */
    return exists(src, spm)                ? spm
           : exists(src, "tokenizer.json") ? "tokenizer.json"
           : exists(src, "tekken.json")    ? "tekken.json"
                                           : NULL;
}

/* The chat template written for a tekken.json model, which carries none:
 * Mistral's instruct format for Tekken models ([INST] ... [/INST], the
 * system prompt before the last user turn, EOS after each answer). */
static const char tekken_template[] =
    "{%- if messages[0]['role'] == 'system' %}{%- set system_message = messages[0]['content'] %}"
    "{%- set loop_messages = messages[1:] %}{%- else %}{%- set loop_messages = messages %}"
    "{%- endif %}{{- bos_token }}{%- for message in loop_messages %}"
    "{%- if message['role'] == 'user' %}{%- if loop.last and system_message is defined %}"
    "{{- '[INST]' + system_message + '\\n\\n' + message['content'] + '[/INST]' }}"
    "{%- else %}{{- '[INST]' + message['content'] + '[/INST]' }}{%- endif %}"
    "{%- elif message['role'] == 'assistant' %}{{- message['content'] + eos_token }}"
    "{%- endif %}{%- endfor %}";

/* A JSON file of the model dir, or NULL (*st set on a real error). */
static cJSON *load_json(const struct ckpt_source *src, const char *name, ckpt_status *st,
                        ckpt_err *err)
{
    if (!exists(src, name))
        return NULL;
    char *path = ckpt_source_file(src, name);
    ckpt_map *m = NULL;
    cJSON *j = NULL;
    *st = path ? ckpt_map_open(&m, path, err) : ckpt_err_set(err, CKPT_E_NOMEM, "out of memory");
    if (*st == CKPT_OK) {
        j = cJSON_ParseWithLength((const char *)m->data, m->size);
        if (!j || !cJSON_IsObject(j)) {
            *st = ckpt_err_set(err, CKPT_E_FORMAT, "%s: not a JSON object", path);
            cJSON_Delete(j);
            j = NULL;
        }
    }
    ckpt_map_close(m);
    free(path);
    return j;
}

struct special {
    int64_t id[N_TYPES];  /* -1: not found */
    int order[N_TYPES];   /* types in the order their ids were found */
    int n_order;
    int add[N_TYPES];     /* add_<typ>_token: -1 absent, 0/1 */
};

static ckpt_status set_special(struct special *sp, int typ, const cJSON *v, uint32_t n_vocab,
                               const char *what, ckpt_err *err)
{
    if (!cJSON_IsNumber(v) || v->valuedouble != (double)(int64_t)v->valuedouble)
        return CKPT_OK; /* not an int: ignored */
    if (v->valuedouble < 0)
        return ckpt_err_set(err, CKPT_E_RANGE, "%s: invalid value for special token type %s: %g",
                            what, special_types[typ], v->valuedouble);
    if (v->valuedouble >= n_vocab || sp->id[typ] >= 0)
        return CKPT_OK;
    sp->id[typ] = (int64_t)v->valuedouble;
    sp->order[sp->n_order++] = typ;
    return CKPT_OK;
}

/* gguf.SpecialVocab over tokenizer.json, tokenizer_config.json, config.json. */
static ckpt_status special_vocab(struct special *sp, const struct ckpt_source *src,
                                 const cJSON *tcfg, uint32_t n_vocab, ckpt_err *err)
{
    for (int i = 0; i < N_TYPES; i++)
        sp->id[i] = -1, sp->add[i] = -1;
    sp->n_order = 0;
    ckpt_status st = CKPT_OK;
    cJSON *tj = tcfg ? load_json(src, "tokenizer.json", &st, err) : NULL;
    const cJSON *added = tj ? cJSON_GetObjectItemCaseSensitive(tj, "added_tokens") : NULL;
    for (int typ = 0; st == CKPT_OK && tcfg && typ < N_TYPES; typ++) {
        char key[32];
        snprintf(key, sizeof key, "add_%s_token", special_types[typ]);
        const cJSON *a = cJSON_GetObjectItemCaseSensitive(tcfg, key);
        if (cJSON_IsBool(a))
            sp->add[typ] = cJSON_IsTrue(a);
        snprintf(key, sizeof key, "%s_token", special_types[typ]);
        const cJSON *e = cJSON_GetObjectItemCaseSensitive(tcfg, key);
        if (cJSON_IsObject(e))
            e = cJSON_GetObjectItemCaseSensitive(e, "content");
        if (!cJSON_IsString(e))
            continue;
        const cJSON *tok, *list = cJSON_IsArray(added) ? added : NULL;
        cJSON_ArrayForEach(tok, list) {
            const cJSON *c = cJSON_GetObjectItemCaseSensitive(tok, "content");
            if (cJSON_IsString(c) && strcmp(c->valuestring, e->valuestring) == 0) {
                st = set_special(sp, typ, cJSON_GetObjectItemCaseSensitive(tok, "id"), n_vocab,
                                 "tokenizer.json", err);
                break;
            }
        }
    }
    cJSON_Delete(tj);
    for (int typ = 0; st == CKPT_OK && typ < N_TYPES; typ++) {
        char key[32];
        snprintf(key, sizeof key, "%s_token_id", special_types[typ]);
        st = set_special(sp, typ, ckpt_source_param(src, key), n_vocab, "config.json", err);
    }
    return st;
}

/* tokenizer.chat_template, or a list of named templates as GGUFWriter
 * writes it: the named ones, their name list, then the default. */
static ckpt_status chat_template(ckpt_gguf_writer *w, const cJSON *v, ckpt_err *err)
{
    if (cJSON_IsString(v))
        return ckpt_gguf_writer_set_str(w, CKPT_KEY_CHAT_TEMPLATE, v->valuestring, err);
    if (!cJSON_IsArray(v))
        return CKPT_OK;
    const char *def = NULL, *names[64];
    char keys[64][96];
    uint64_t n = 0;
    ckpt_status st = CKPT_OK;
    const cJSON *e;
    cJSON_ArrayForEach(e, v) {
        const cJSON *nm = cJSON_GetObjectItemCaseSensitive(e, "name");
        const cJSON *tp = cJSON_GetObjectItemCaseSensitive(e, "template");
        if (!cJSON_IsString(nm) || !nm->valuestring[0] || !cJSON_IsString(tp))
            continue;
        if (strcmp(nm->valuestring, "default") == 0) {
            def = tp->valuestring;
            continue;
        }
        if (n == 64)
            break;
        char *k = keys[n];
        int o = snprintf(k, sizeof keys[0], CKPT_KEY_CHAT_TEMPLATE_PREFIX);
        for (const char *c = nm->valuestring; *c && o < (int)sizeof keys[0] - 1; c++)
            k[o++] = ((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
                      (*c >= '0' && *c <= '9')) ? *c : '_';
        k[o] = '\0';
        names[n++] = k + strlen(CKPT_KEY_CHAT_TEMPLATE_PREFIX);
        if ((st = ckpt_gguf_writer_set_str(w, k, tp->valuestring, err)) != CKPT_OK)
            return st;
    }
    if (n)
        st = ckpt_gguf_writer_set_str_array(w, CKPT_KEY_CHAT_TEMPLATES, names, NULL, n, err);
    if (st == CKPT_OK && def)
        st = ckpt_gguf_writer_set_str(w, CKPT_KEY_CHAT_TEMPLATE, def, err);
    return st;
}

ckpt_status ckpt_vocab_arrays(ckpt_gguf_writer *w, const ckpt_tok *tok, uint32_t n, ckpt_err *err)
{
    const char **strs = calloc(n ? n : 1, sizeof *strs);
    uint64_t *lens = calloc(n ? n : 1, sizeof *lens);
    float *scores = calloc(n ? n : 1, sizeof *scores);
    int32_t *types = calloc(n ? n : 1, sizeof *types);
    char *pads = NULL;
    uint32_t have = ckpt_tok_n_vocab(tok);
    ckpt_status st = CKPT_OK;
    if (have < n)
        pads = malloc((size_t)(n - have) * 20);
    if (!strs || !lens || !scores || !types || (have < n && !pads)) {
        st = ckpt_err_set(err, CKPT_E_NOMEM, "out of memory");
        goto out;
    }
    for (uint32_t i = 0; i < n; i++) {
        if (i < have) {
            size_t len;
            strs[i] = ckpt_tok_piece(tok, i, &len);
            lens[i] = len;
            scores[i] = ckpt_tok_score(tok, i);
            types[i] = ckpt_tok_type(tok, i);
        } else {
            char *p = pads + (size_t)(i - have) * 20;
            lens[i] = (uint64_t)snprintf(p, 20, "[PAD%u]", i);
            strs[i] = p;
            scores[i] = -10000.0f;
            types[i] = CKPT_TOK_UNUSED;
        }
    }
    st = ckpt_gguf_writer_set_str_array(w, CKPT_KEY_TOK_TOKENS, strs, lens, n, err);
    if (st == CKPT_OK)
        st = ckpt_gguf_writer_set_array(w, CKPT_KEY_TOK_SCORES, CKPT_GGUF_FLOAT32, scores, n,
                                        err);
    if (st == CKPT_OK)
        st = ckpt_gguf_writer_set_array(w, CKPT_KEY_TOK_TYPES, CKPT_GGUF_INT32, types, n,
                                        err);
out:
    free(strs);
    free(lens);
    free(scores);
    free(types);
    free(pads);
    return st;
}

/* tokens / token_type of a byte-level BPE as _set_vocab_gpt2 writes them
 * (no scores), padded to n with "[PAD<id>]" UNUSED as get_vocab_base does,
 * then the merges as SpecialVocab writes them ("a b", by rank). */
static ckpt_status bytelevel_arrays(ckpt_gguf_writer *w, const ckpt_tok *tok, uint32_t n,
                                    ckpt_err *err)
{
    const char *pre = ckpt_tok_pre_name(tok);
    if (!pre) /* llama.cpp splits text with the regex its pre name selects */
        return ckpt_err_set(err, CKPT_E_UNSUPPORTED,
                            "the tokenizer's pre-tokenizer regex is neither Tekken's nor GPT-2's, "
                            "and llama.cpp knows no other by name");
    uint32_t have = ckpt_tok_n_vocab(tok), nm = ckpt_tok_n_merges(tok);
    size_t cap = (n > nm ? n : nm) ? (n > nm ? n : nm) : 1;
    const char **strs = calloc(cap, sizeof *strs);
    uint64_t *lens = calloc(cap, sizeof *lens);
    int32_t *types = calloc(cap, sizeof *types);
    char *pads = have < n ? malloc((size_t)(n - have) * 20) : NULL;
    char *mbuf = NULL;
    ckpt_status st = CKPT_OK;
    if (!strs || !lens || !types || (have < n && !pads)) {
        st = ckpt_err_set(err, CKPT_E_NOMEM, "out of memory");
        goto out;
    }
    for (uint32_t i = 0; i < n; i++) {
        size_t len;
        if (i < have) {
            strs[i] = ckpt_tok_piece(tok, i, &len);
            types[i] = ckpt_tok_type(tok, i);
        } else {
            char *p = pads + (size_t)(i - have) * 20;
            len = (size_t)snprintf(p, 20, "[PAD%u]", i);
            strs[i] = p;
            types[i] = CKPT_TOK_UNUSED;
        }
        lens[i] = len;
    }
    if ((st = ckpt_gguf_writer_set_str(w, CKPT_KEY_TOK_MODEL, "gpt2", err)) ||
        (st = ckpt_gguf_writer_set_str(w, CKPT_KEY_TOK_PRE, pre, err)) ||
        (st = ckpt_gguf_writer_set_str_array(w, CKPT_KEY_TOK_TOKENS, strs, lens, n, err)) ||
        (st = ckpt_gguf_writer_set_array(w, CKPT_KEY_TOK_TYPES, CKPT_GGUF_INT32, types, n, err)))
        goto out;
    /* the merges, each "a b" in one buffer (its length first, then the text) */
    size_t total = 0, o = 0;
    for (int pass = 0; pass < 2; pass++) {
        for (uint32_t i = 0; i < nm; i++) {
            int32_t a, b;
            size_t la, lb;
            ckpt_tok_merge(tok, i, &a, &b);
            const char *pa = ckpt_tok_piece(tok, (uint32_t)a, &la);
            const char *pb = ckpt_tok_piece(tok, (uint32_t)b, &lb);
            if (pass == 0) {
                total += la + lb + 1;
                continue;
            }
            strs[i] = mbuf + o;
            lens[i] = la + lb + 1;
            memcpy(mbuf + o, pa, la);
            mbuf[o + la] = ' ';
            memcpy(mbuf + o + la + 1, pb, lb);
            o += la + lb + 1;
        }
        if (pass == 0 && nm && !(mbuf = malloc(total))) {
            st = ckpt_err_set(err, CKPT_E_NOMEM, "out of memory");
            goto out;
        }
    }
    if (nm)
        st = ckpt_gguf_writer_set_str_array(w, CKPT_KEY_TOK_MERGES, strs, lens, nm, err);
out:
    free(strs);
    free(lens);
    free(types);
    free(pads);
    free(mbuf);
    return st;
}

/*
 * The special keys of a tekken.json model without tokenizer_config.json:
 * what SpecialVocab finds for the same tokenizer in Hugging Face's layout,
 * whose tokenizer_config.json names <s>, </s> and <unk> (in that order)
 * and sets add_bos_token and not add_eos_token, as mistral_common encodes.
 */
static void tekken_special(struct special *sp, const ckpt_tok *tok, uint32_t n_vocab)
{
    int32_t ids[3] = {ckpt_tok_bos_id(tok), ckpt_tok_eos_id(tok), ckpt_tok_unk_id(tok)};
    for (int i = 0; i < N_TYPES; i++)
        sp->id[i] = -1, sp->add[i] = -1;
    sp->n_order = 0;
    for (int typ = 0; typ < 3; typ++) /* bos, eos, unk: the first of special_types */
        if (ids[typ] >= 0 && (uint32_t)ids[typ] < n_vocab) {
            sp->id[typ] = ids[typ];
            sp->order[sp->n_order++] = typ;
        }
    sp->add[0] = 1;
    sp->add[1] = 0;
}

bool ckpt_vocab_mistral_keys(const struct ckpt_source *src)
{
    /* Mistral's layout with a SentencePiece model has keys of its own; with
     * tekken.json it gives what the Hugging Face layout of the same
     * tokenizer gives */
    const char *file = ckpt_vocab_file(src);
    return ckpt_source_mistral_layout(src) && !(file && strcmp(file, "tekken.json") == 0);
}

/* the SentencePiece vocabulary of a Hugging Face directory: model "llama",
 * pre "default", then the arrays */
static ckpt_status spm_arrays(ckpt_gguf_writer *w, const ckpt_tok *tok, uint32_t n, ckpt_err *err)
{
    ckpt_status st = ckpt_gguf_writer_set_str(w, CKPT_KEY_TOK_MODEL, "llama", err);
    if (st == CKPT_OK)
        st = ckpt_gguf_writer_set_str(w, CKPT_KEY_TOK_PRE, "default", err);
    return st == CKPT_OK ? ckpt_vocab_arrays(w, tok, n, err) : st;
}

ckpt_status ckpt_vocab_add(ckpt_gguf_writer *w, const struct ckpt_source *src, ckpt_err *err)
{
    if (ckpt_vocab_mistral_keys(src))
        return ckpt_vocab_add_mistral(w, src, err);
    const char *file = ckpt_vocab_file(src);
    if (!file)
        return ckpt_err_set(err, CKPT_E_IO,
                            "%s: neither tokenizer.model nor tokenizer.json nor tekken.json (the "
                            "GGUF needs the vocabulary)", src->dir);
    char *path = ckpt_source_file(src, file);
    ckpt_tok *tok = NULL;
    cJSON *tcfg = NULL;
    bool tekken = strcmp(file, "tekken.json") == 0;
    ckpt_status st = !path ? ckpt_err_set(err, CKPT_E_NOMEM, "out of memory")
                     : tekken ? ckpt_tok_load_tekken(&tok, path, err)
                     : strcmp(file, "tokenizer.json") != 0 ? ckpt_tok_load_spm(&tok, path, err)
                                                            : ckpt_tok_load_hf_json(&tok, path, err);
    uint32_t n = src->cfg.vocab_size;
    if (st == CKPT_OK && ckpt_tok_n_vocab(tok) > n)
        st = ckpt_err_set(err, CKPT_E_RANGE,
                          "%s: %u pieces, more than vocab_size %u of config.json", path,
                          ckpt_tok_n_vocab(tok), n);
    if (st == CKPT_OK)
        tcfg = load_json(src, "tokenizer_config.json", &st, err);
    if (st == CKPT_OK && tcfg) {
        /* added_tokens_decoder ids past vocab_size are dropped (ckpt_vocab_arrays cuts them) */
        char *cpath = ckpt_source_file(src, "tokenizer_config.json");
        st = cpath ? ckpt_tok_apply_config(tok, cpath, err)
                   : ckpt_err_set(err, CKPT_E_NOMEM, "out of memory");
        free(cpath);
    }
    bool bytelevel = st == CKPT_OK && ckpt_tok_kind(tok) == CKPT_TOK_KIND_BYTE_BPE;
    if (st == CKPT_OK)
        st = bytelevel ? bytelevel_arrays(w, tok, n, err) : spm_arrays(w, tok, n, err);
    struct special sp;
    if (st == CKPT_OK && tekken && !tcfg)
        tekken_special(&sp, tok, n);
    else if (st == CKPT_OK)
        st = special_vocab(&sp, src, tcfg, n, err);
    for (int i = 0; st == CKPT_OK && i < sp.n_order; i++)
        if (id_keys[sp.order[i]])
            st = ckpt_gguf_writer_set_u32(w, id_keys[sp.order[i]], (uint32_t)sp.id[sp.order[i]],
                                          err);
    if (st == CKPT_OK && sp.add[0] >= 0)
        st = ckpt_gguf_writer_set_bool(w, CKPT_KEY_TOK_ADD_BOS, sp.add[0] == 1, err);
    if (st == CKPT_OK && sp.add[1] >= 0)
        st = ckpt_gguf_writer_set_bool(w, CKPT_KEY_TOK_ADD_EOS, sp.add[1] == 1, err);
    if (st == CKPT_OK && tcfg)
        st = chat_template(w, cJSON_GetObjectItemCaseSensitive(tcfg, "chat_template"), err);
    else if (st == CKPT_OK && tekken)
        st = ckpt_gguf_writer_set_str(w, CKPT_KEY_CHAT_TEMPLATE, tekken_template, err);
    const cJSON *asp = tcfg ? cJSON_GetObjectItemCaseSensitive(tcfg, "add_prefix_space") : NULL;
    if (st == CKPT_OK && asp)
        st = ckpt_gguf_writer_set_bool(w, CKPT_KEY_TOK_ADD_SPACE_PREFIX, cJSON_IsTrue(asp),
                                       err);
    cJSON_Delete(tcfg);
    ckpt_tok_free(tok);
    free(path);
    return st;
}
