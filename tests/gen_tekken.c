/*
 * gen_tekken.c - a tiny Tekken-style tokenizer, trained here, written both
 * the way Hugging Face publishes Tekken models and the way Mistral does:
 *
 *   gen_tekken TRAIN_TEXT OUT_DIR
 *
 *   tekken.json            Mistral's layout (mistral_common's Tekkenizer):
 *                          config {pattern, num_vocab_tokens,
 *                          default_vocab_size, default_num_special_tokens,
 *                          version}, vocab [{rank, token_bytes, token_str}],
 *                          special_tokens [{rank, token_str, is_control}]
 *   tokenizer.json         the Hugging Face layout transformers' Tekken
 *                          conversion writes: the specials as added tokens
 *                          0..N-1, byte-level pieces at N + rank, merges
 *                          re-derived from the ranks, Split(Tekken's regex,
 *                          Isolated) + ByteLevel(use_regex false),
 *                          ignore_merges, ByteLevel decoder
 *   tokenizer_config.json  add_bos_token, bos/eos/unk, the chat template,
 *                          added_tokens_decoder
 *
 * Training is plain byte-level BPE, written here from its definition and
 * not with ckpt's tokenizer: the text is cut by Tekken's regex (PCRE2
 * directly), each piece starts as its bytes, and the most frequent
 * adjacent pair is merged (ties: the pair of lowest ranks) until the
 * vocabulary holds 256 + MERGES pieces, then EXTRA more that only
 * tekken.json lists (its default_vocab_size cuts them off, as Mistral's
 * files list more pieces than the model uses).  Specials: Mistral's 20
 * named control tokens, the rest of the N_SPECIAL ids "<SPECIAL_n>"
 * fillers (listed in tokenizer.json, implied in tekken.json).
 * Deterministic: the same bytes on every run.  Exit 0, or 2 with a message.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "formats/b64.h"
#include "formats/mapfile.h"

#define N_SPECIAL 100
#define MERGES 1000
#define EXTRA 16
#define MAXV (256 + MERGES + EXTRA)

/* Tekken's pre-tokenizer regex, as mistral_common and Hugging Face ship it. */
static const char PATTERN[] =
    "[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]*[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]+|"
    "[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]+[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]*|"
    "\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

static const char *const NAMED[] = {
    "<unk>",      "<s>",           "</s>",           "[INST]",          "[/INST]",
    "[AVAILABLE_TOOLS]", "[/AVAILABLE_TOOLS]", "[TOOL_RESULTS]", "[/TOOL_RESULTS]",
    "[TOOL_CALLS]", "[IMG]",       "<pad>",          "[IMG_BREAK]",     "[IMG_END]",
    "[PREFIX]",   "[MIDDLE]",      "[SUFFIX]",       "[SYSTEM_PROMPT]", "[/SYSTEM_PROMPT]",
    "[TOOL_CONTENT]",
};
#define N_NAMED (sizeof NAMED / sizeof NAMED[0])

static const char CHAT_TEMPLATE[] =
    "{%- if messages[0]['role'] == 'system' %}{%- set system_message = messages[0]['content'] %}"
    "{%- set loop_messages = messages[1:] %}{%- else %}{%- set loop_messages = messages %}"
    "{%- endif %}{{- bos_token }}{%- for message in loop_messages %}"
    "{%- if message['role'] == 'user' %}{%- if loop.last and system_message is defined %}"
    "{{- '[INST]' + system_message + '\\n\\n' + message['content'] + '[/INST]' }}"
    "{%- else %}{{- '[INST]' + message['content'] + '[/INST]' }}{%- endif %}"
    "{%- elif message['role'] == 'assistant' %}{{- message['content'] + eos_token }}"
    "{%- endif %}{%- endfor %}";

struct tok {
    unsigned char *b;
    size_t n;
};
static struct tok vocab[MAXV];
static size_t nv;

struct word {
    int *s; /* symbol ranks */
    size_t n;
    long count;
};

static int die(const char *what)
{
    fprintf(stderr, "gen_tekken: %s\n", what);
    return 2;
}

static int find_tok(const unsigned char *b, size_t n)
{
    for (size_t i = 0; i < nv; i++)
        if (vocab[i].n == n && memcmp(vocab[i].b, b, n) == 0)
            return (int)i;
    return -1;
}

/* The words of the training text: its regex pieces with their counts. */
static struct word *split_words(const char *text, size_t len, size_t *nw)
{
    int code;
    PCRE2_SIZE at;
    pcre2_code *re = pcre2_compile((PCRE2_SPTR)PATTERN, PCRE2_ZERO_TERMINATED,
                                   PCRE2_UTF | PCRE2_UCP, &code, &at, NULL);
    pcre2_match_data *md = re ? pcre2_match_data_create_from_pattern(re, NULL) : NULL;
    struct word *w = calloc(len + 1, sizeof *w);
    if (!md || !w)
        return NULL;
    size_t n = 0, pos = 0;
    while (pos < len && pcre2_match(re, (PCRE2_SPTR)text, len, pos, 0, md, NULL) > 0) {
        PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
        size_t s = ov[0], e = ov[1];
        if (e == s)
            break; /* the pattern has no empty matches */
        size_t k;
        for (k = 0; k < n; k++) /* count repeats */
            if (w[k].n == e - s) {
                size_t j = 0;
                while (j < w[k].n && w[k].s[j] == (unsigned char)text[s + j])
                    j++;
                if (j == w[k].n)
                    break;
            }
        if (k < n)
            w[k].count++;
        else {
            w[n].s = malloc((e - s) * sizeof(int));
            for (size_t j = s; j < e; j++)
                w[n].s[j - s] = (unsigned char)text[j];
            w[n].n = e - s;
            w[n].count = 1;
            n++;
        }
        pos = e;
    }
    pcre2_match_data_free(md);
    pcre2_code_free(re);
    *nw = n;
    return w;
}

/* One training step: merge the most frequent pair.  false when none is left. */
static bool merge_step(struct word *w, size_t nw)
{
    long best = 0;
    int ba = -1, bb = -1;
    /* pair counts in a dense table, touched only where pairs occur */
    static long counts[MAXV][MAXV];
    for (size_t i = 0; i < nw; i++)
        for (size_t j = 0; j + 1 < w[i].n; j++)
            counts[w[i].s[j]][w[i].s[j + 1]] += w[i].count;
    for (size_t i = 0; i < nw; i++)
        for (size_t j = 0; j + 1 < w[i].n; j++) {
            int a = w[i].s[j], b = w[i].s[j + 1];
            long c = counts[a][b];
            /* the most frequent; the lowest ranks win ties */
            if (c > best || (c == best && c > 0 && (a < ba || (a == ba && b < bb)))) {
                best = c;
                ba = a;
                bb = b;
            }
        }
    for (size_t i = 0; i < nw; i++)
        for (size_t j = 0; j + 1 < w[i].n; j++)
            counts[w[i].s[j]][w[i].s[j + 1]] = 0;
    if (best == 0)
        return false;
    size_t n = vocab[ba].n + vocab[bb].n;
    unsigned char *t = malloc(n);
    memcpy(t, vocab[ba].b, vocab[ba].n);
    memcpy(t + vocab[ba].n, vocab[bb].b, vocab[bb].n);
    int id = find_tok(t, n);
    if (id < 0) {
        vocab[nv] = (struct tok){t, n};
        id = (int)nv++;
    } else
        free(t);
    for (size_t i = 0; i < nw; i++) {
        size_t o = 0;
        for (size_t j = 0; j < w[i].n; j++) {
            if (j + 1 < w[i].n && w[i].s[j] == ba && w[i].s[j + 1] == bb) {
                w[i].s[o++] = id;
                j++;
            } else
                w[i].s[o++] = w[i].s[j];
        }
        w[i].n = o;
    }
    return true;
}

/* GPT-2's byte-to-character map, from its definition. */
static void byte_chars(unsigned b, char *out, size_t *len)
{
    unsigned cp = b, n = 0;
    bool keep = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
    if (!keep) {
        for (unsigned c = 0; c < b; c++)
            n += !((c >= 33 && c <= 126) || (c >= 161 && c <= 172) || (c >= 174 && c <= 255));
        cp = 256 + n;
    }
    if (cp < 0x80) {
        out[(*len)++] = (char)cp;
    } else {
        out[(*len)++] = (char)(0xC0 | cp >> 6);
        out[(*len)++] = (char)(0x80 | (cp & 0x3F));
    }
}

static char *bl_string(const unsigned char *b, size_t n)
{
    char *s = malloc(2 * n + 1);
    size_t len = 0;
    for (size_t i = 0; i < n; i++)
        byte_chars(b[i], s, &len);
    s[len] = 0;
    return s;
}

static bool valid_utf8(const unsigned char *s, size_t n)
{
    for (size_t i = 0; i < n;) {
        unsigned c = s[i];
        size_t k = c < 0x80 ? 1 : (c >= 0xC2 && c <= 0xDF) ? 2 : (c >= 0xE0 && c <= 0xEF) ? 3
                                : (c >= 0xF0 && c <= 0xF4) ? 4 : 0;
        if (!k || i + k > n)
            return false;
        for (size_t j = 1; j < k; j++)
            if ((s[i + j] & 0xC0) != 0x80)
                return false;
        if ((c == 0xE0 && s[i + 1] < 0xA0) || (c == 0xED && s[i + 1] > 0x9F) ||
            (c == 0xF0 && s[i + 1] < 0x90) || (c == 0xF4 && s[i + 1] > 0x8F))
            return false;
        i += k;
    }
    return true;
}

static void special_name(size_t i, char *buf, size_t cap)
{
    if (i < N_NAMED)
        snprintf(buf, cap, "%s", NAMED[i]);
    else
        snprintf(buf, cap, "<SPECIAL_%zu>", i);
}

/* Mistral's files give the NUL byte's piece as "\u0000", which cJSON
 * cannot hold: a mark stands for it until the text is written. */
#define NUL_MARK "<NUL byte>"

static bool write_json(const char *dir, const char *name, cJSON *j)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    char *s = cJSON_Print(j);
    for (char *m = s ? strstr(s, "\"" NUL_MARK "\"") : NULL; m; m = strstr(m, "\"" NUL_MARK "\"")) {
        memcpy(m, "\"\\u0000\"", 8);
        memmove(m + 8, m + sizeof NUL_MARK + 1, strlen(m + sizeof NUL_MARK + 1) + 1);
    }
    FILE *f = fopen(path, "wb");
    bool ok = s && f && fputs(s, f) >= 0 && fputc('\n', f) != EOF;
    ok = f && fclose(f) == 0 && ok;
    free(s);
    cJSON_Delete(j);
    return ok;
}

static cJSON *tekken_json(void)
{
    cJSON *root = cJSON_CreateObject(), *cfg = cJSON_AddObjectToObject(root, "config");
    cJSON_AddStringToObject(cfg, "pattern", PATTERN);
    cJSON_AddNumberToObject(cfg, "num_vocab_tokens", (double)nv);
    cJSON_AddNumberToObject(cfg, "default_vocab_size", (double)(N_SPECIAL + nv - EXTRA));
    cJSON_AddNumberToObject(cfg, "default_num_special_tokens", N_SPECIAL);
    cJSON_AddStringToObject(cfg, "version", "v7");
    cJSON *v = cJSON_AddArrayToObject(root, "vocab");
    for (size_t r = 0; r < nv; r++) {
        cJSON *e = cJSON_CreateObject();
        char *b64;
        cJSON_AddNumberToObject(e, "rank", (double)r);
        if (ckpt_b64_encode(vocab[r].b, vocab[r].n, &b64, NULL) != CKPT_OK)
            return NULL;
        cJSON_AddStringToObject(e, "token_bytes", b64);
        free(b64);
        if (vocab[r].n == 1 && vocab[r].b[0] == 0) /* see write_json */
            cJSON_AddStringToObject(e, "token_str", NUL_MARK);
        else if (valid_utf8(vocab[r].b, vocab[r].n) && !memchr(vocab[r].b, 0, vocab[r].n)) {
            char *s = malloc(vocab[r].n + 1);
            memcpy(s, vocab[r].b, vocab[r].n);
            s[vocab[r].n] = 0;
            cJSON_AddStringToObject(e, "token_str", s);
            free(s);
        } else
            cJSON_AddNullToObject(e, "token_str");
        cJSON_AddItemToArray(v, e);
    }
    cJSON *sp = cJSON_AddArrayToObject(root, "special_tokens");
    for (size_t i = 0; i < N_NAMED; i++) {
        cJSON *e = cJSON_CreateObject();
        cJSON_AddNumberToObject(e, "rank", (double)i);
        cJSON_AddStringToObject(e, "token_str", NAMED[i]);
        cJSON_AddBoolToObject(e, "is_control", 1);
        cJSON_AddItemToArray(sp, e);
    }
    cJSON_AddNumberToObject(root, "version", 1);
    cJSON_AddStringToObject(root, "type", "Tekken");
    return root;
}

/* Merges from ranks, as transformers and llama.cpp re-derive them: for each
 * piece of rank >= 256, every split into two pieces of the vocabulary,
 * ordered by (rank of left, rank of right). */
static cJSON *merges_json(size_t inner)
{
    cJSON *m = cJSON_CreateArray();
    for (size_t r = 256; r < inner; r++) {
        int pl[64], pr[64];
        size_t np = 0;
        for (size_t j = 1; j < vocab[r].n && np < 64; j++) {
            int a = find_tok(vocab[r].b, j), b = find_tok(vocab[r].b + j, vocab[r].n - j);
            if (a >= 0 && b >= 0 && (size_t)a < inner && (size_t)b < inner) {
                pl[np] = a;
                pr[np++] = b;
            }
        }
        for (size_t x = 1; x < np; x++) /* insertion sort by (left, right) */
            for (size_t y = x; y > 0 && (pl[y - 1] > pl[y] ||
                                         (pl[y - 1] == pl[y] && pr[y - 1] > pr[y])); y--) {
                int t = pl[y];
                pl[y] = pl[y - 1];
                pl[y - 1] = t;
                t = pr[y];
                pr[y] = pr[y - 1];
                pr[y - 1] = t;
            }
        for (size_t k = 0; k < np; k++) {
            char *a = bl_string(vocab[pl[k]].b, vocab[pl[k]].n);
            char *b = bl_string(vocab[pr[k]].b, vocab[pr[k]].n);
            char *s = malloc(strlen(a) + strlen(b) + 2);
            sprintf(s, "%s %s", a, b);
            cJSON_AddItemToArray(m, cJSON_CreateString(s));
            free(a);
            free(b);
            free(s);
        }
    }
    return m;
}

static cJSON *added_token(size_t id, const char *content)
{
    cJSON *e = cJSON_CreateObject();
    cJSON_AddNumberToObject(e, "id", (double)id);
    cJSON_AddStringToObject(e, "content", content);
    cJSON_AddBoolToObject(e, "single_word", 0);
    cJSON_AddBoolToObject(e, "lstrip", 0);
    cJSON_AddBoolToObject(e, "rstrip", 0);
    cJSON_AddBoolToObject(e, "normalized", 0);
    cJSON_AddBoolToObject(e, "special", 1);
    return e;
}

static cJSON *tokenizer_json(size_t inner)
{
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "version", "1.0");
    cJSON_AddNullToObject(root, "truncation");
    cJSON_AddNullToObject(root, "padding");
    cJSON *added = cJSON_AddArrayToObject(root, "added_tokens");
    char name[32];
    for (size_t i = 0; i < N_SPECIAL; i++) {
        special_name(i, name, sizeof name);
        cJSON_AddItemToArray(added, added_token(i, name));
    }
    cJSON_AddNullToObject(root, "normalizer");
    cJSON *pre = cJSON_AddObjectToObject(root, "pre_tokenizer");
    cJSON_AddStringToObject(pre, "type", "Sequence");
    cJSON *list = cJSON_AddArrayToObject(pre, "pretokenizers");
    cJSON *split = cJSON_CreateObject();
    cJSON_AddStringToObject(split, "type", "Split");
    cJSON_AddStringToObject(cJSON_AddObjectToObject(split, "pattern"), "Regex", PATTERN);
    cJSON_AddStringToObject(split, "behavior", "Isolated");
    cJSON_AddBoolToObject(split, "invert", 0);
    cJSON_AddItemToArray(list, split);
    cJSON *bl = cJSON_CreateObject();
    cJSON_AddStringToObject(bl, "type", "ByteLevel");
    cJSON_AddBoolToObject(bl, "add_prefix_space", 0);
    cJSON_AddBoolToObject(bl, "trim_offsets", 1);
    cJSON_AddBoolToObject(bl, "use_regex", 0);
    cJSON_AddItemToArray(list, bl);
    /* what transformers saves once add_bos_token has set the template */
    cJSON *pp = cJSON_AddObjectToObject(root, "post_processor");
    cJSON_AddStringToObject(pp, "type", "TemplateProcessing");
    cJSON *single = cJSON_AddArrayToObject(pp, "single");
    cJSON *bos = cJSON_CreateObject(), *seq = cJSON_CreateObject();
    cJSON *st = cJSON_AddObjectToObject(bos, "SpecialToken");
    cJSON_AddStringToObject(st, "id", "<s>");
    cJSON_AddNumberToObject(st, "type_id", 0);
    cJSON *sq = cJSON_AddObjectToObject(seq, "Sequence");
    cJSON_AddStringToObject(sq, "id", "A");
    cJSON_AddNumberToObject(sq, "type_id", 0);
    cJSON_AddItemToArray(single, bos);
    cJSON_AddItemToArray(single, seq);
    cJSON *pair = cJSON_AddArrayToObject(pp, "pair");
    cJSON_AddItemToArray(pair, cJSON_Duplicate(bos, 1));
    cJSON_AddItemToArray(pair, cJSON_Duplicate(seq, 1));
    cJSON *bos2 = cJSON_Duplicate(bos, 1), *seq2 = cJSON_Duplicate(seq, 1);
    cJSON_ReplaceItemInObject(cJSON_GetObjectItem(bos2, "SpecialToken"), "type_id",
                              cJSON_CreateNumber(1));
    cJSON_ReplaceItemInObject(cJSON_GetObjectItem(seq2, "Sequence"), "id", cJSON_CreateString("B"));
    cJSON_ReplaceItemInObject(cJSON_GetObjectItem(seq2, "Sequence"), "type_id",
                              cJSON_CreateNumber(1));
    cJSON_AddItemToArray(pair, bos2);
    cJSON_AddItemToArray(pair, seq2);
    cJSON *spt = cJSON_AddObjectToObject(cJSON_AddObjectToObject(pp, "special_tokens"), "<s>");
    cJSON_AddStringToObject(spt, "id", "<s>");
    cJSON_AddItemToObject(spt, "ids", cJSON_CreateIntArray((const int[]){1}, 1));
    cJSON *tl = cJSON_AddArrayToObject(spt, "tokens");
    cJSON_AddItemToArray(tl, cJSON_CreateString("<s>"));
    cJSON *dec = cJSON_AddObjectToObject(root, "decoder");
    cJSON_AddStringToObject(dec, "type", "ByteLevel");
    cJSON_AddBoolToObject(dec, "add_prefix_space", 1);
    cJSON_AddBoolToObject(dec, "trim_offsets", 1);
    cJSON_AddBoolToObject(dec, "use_regex", 1);
    cJSON *model = cJSON_AddObjectToObject(root, "model");
    cJSON_AddStringToObject(model, "type", "BPE");
    cJSON_AddNullToObject(model, "dropout");
    cJSON_AddNullToObject(model, "unk_token");
    cJSON_AddNullToObject(model, "continuing_subword_prefix");
    cJSON_AddNullToObject(model, "end_of_word_suffix");
    cJSON_AddBoolToObject(model, "fuse_unk", 0);
    cJSON_AddBoolToObject(model, "byte_fallback", 0);
    cJSON_AddBoolToObject(model, "ignore_merges", 1);
    cJSON *v = cJSON_AddObjectToObject(model, "vocab");
    for (size_t i = 0; i < N_SPECIAL; i++) {
        special_name(i, name, sizeof name);
        cJSON_AddNumberToObject(v, name, (double)i);
    }
    for (size_t r = 0; r < inner; r++) {
        char *s = bl_string(vocab[r].b, vocab[r].n);
        cJSON_AddNumberToObject(v, s, (double)(N_SPECIAL + r));
        free(s);
    }
    cJSON_AddItemToObject(model, "merges", merges_json(inner));
    return root;
}

static cJSON *config_json(void)
{
    cJSON *root = cJSON_CreateObject();
    cJSON_AddBoolToObject(root, "add_bos_token", 1);
    cJSON_AddBoolToObject(root, "add_eos_token", 0);
    cJSON *dec = cJSON_AddObjectToObject(root, "added_tokens_decoder");
    char name[32], id[16];
    for (size_t i = 0; i < N_SPECIAL; i++) {
        special_name(i, name, sizeof name);
        snprintf(id, sizeof id, "%zu", i);
        cJSON *e = added_token(i, name);
        cJSON_DeleteItemFromObject(e, "id");
        cJSON_AddItemToObject(dec, id, e);
    }
    cJSON_AddStringToObject(root, "bos_token", "<s>");
    cJSON_AddStringToObject(root, "chat_template", CHAT_TEMPLATE);
    cJSON_AddBoolToObject(root, "clean_up_tokenization_spaces", 0);
    cJSON_AddStringToObject(root, "eos_token", "</s>");
    cJSON_AddNumberToObject(root, "model_max_length", 1024);
    cJSON_AddStringToObject(root, "tokenizer_class", "PreTrainedTokenizerFast");
    cJSON_AddStringToObject(root, "unk_token", "<unk>");
    return root;
}

int main(int argc, char **argv)
{
    if (argc != 3)
        return die("usage: gen_tekken TRAIN_TEXT OUT_DIR");
    size_t nw;
    ckpt_map *text;
    ckpt_err err = {0};
    if (ckpt_map_open(&text, argv[1], &err) != CKPT_OK)
        return die(err.msg);
    struct word *w = split_words((const char *)text->data, text->size, &nw);
    if (!w)
        return die("out of memory");
    for (unsigned b = 0; b < 256; b++) {
        vocab[b].b = malloc(1);
        vocab[b].b[0] = (unsigned char)b;
        vocab[b].n = 1;
    }
    nv = 256;
    while (nv < MAXV)
        if (!merge_step(w, nw))
            return die("the training text is too small for the merges asked");
    bool ok = write_json(argv[2], "tekken.json", tekken_json()) &&
              write_json(argv[2], "tokenizer.json", tokenizer_json(MAXV - EXTRA)) &&
              write_json(argv[2], "tokenizer_config.json", config_json());
    for (size_t i = 0; i < nw; i++)
        free(w[i].s);
    free(w);
    ckpt_map_close(text);
    for (size_t i = 0; i < nv; i++)
        free(vocab[i].b);
    return ok ? 0 : die("cannot write the tokenizer files");
}
