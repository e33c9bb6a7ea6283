/*
 * check_convert.c - the HF -> GGUF conversion against llama.cpp's converter.
 *
 *   golden:  every kit x f32/f16/bf16: each tensor's name, type, shape and
 *            data SHA-256 as in convert-<t>.tensors.tsv, the converter's
 *            tensor order and key order (from the kit's convert-f16.gguf),
 *            every key and value of convert-<t>.kv.tsv (general.name and
 *            general.size_label included: ckpt reproduces the converter's
 *            heuristics for these names); the only extra keys are the
 *            general.source.* provenance keys.  Without them the whole file
 *            is byte for byte the converter's (quant-summary.tsv).  For
 *            tiny-mistral-tokjson the scores differ from the golden -1000s
 *            on purpose: its arrays must equal tiny-mistral's gguf-vocab.tsv.
 *   values:  fixtures converted to f32 equal their source values read here
 *            independently (Q/K permutation, expert stacking, chunking, F8
 *            block and tensor scales); -j1 and -j4 give the same bytes.
 *   errors:  each refusal, with its message, and no output left behind.
 */
#define _GNU_SOURCE
#include <check.h>
#include <cjson/cJSON.h>
#include <dirent.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "convert/convert.h"
#include "convert/modelname.h"
#include "formats/gguf.h"
#include "formats/hfdir.h"
#include "formats/le.h"
#include "kernels/fp16.h"
#include "kernels/permute.h"
#include "pyrepr.h"
#include "testutil.h"

/* tiny-llama: tiny-mistral as a LlamaForCausalLM checkpoint (tests/llama_fixture.sh),
 * checked against tiny-mistral's listings */
static const char *const kits[] = {"tiny-mistral", "tiny-mixtral", "tiny-mistral-tokjson",
                                   "tiny-llama"};
static const char *const tnames[] = {"f32", "f16", "bf16"};
static const int ttypes[] = {CKPT_TYPE_F32, CKPT_TYPE_F16, CKPT_TYPE_BF16};

/* ------------------------------------------------------------ utilities */

/* Convert input to out; returns the status, err filled. */
static ckpt_status convert(const char *input, const char *out, int type, int threads, bool prov,
                           ckpt_err *err)
{
    struct ckpt_convert_opts o = {.input = input, .output = out, .type = type,
                                  .n_threads = threads, .provenance = prov, .force = true};
    ckpt_err_clear(err);
    return ckpt_convert_run(&o, NULL, err);
}

static void convert_ok(const char *input, const char *out, int type, int threads, bool prov)
{
    ckpt_err err;
    ckpt_status s = convert(input, out, type, threads, prov, &err);
    ck_assert_msg(s == CKPT_OK, "%s: %s", input, err.msg);
}

static ckpt_gguf *open_gguf(const char *path)
{
    ckpt_gguf *g = NULL;
    ckpt_err err;
    ckpt_err_clear(&err);
    ck_assert_msg(ckpt_gguf_open(&g, path, &err) == CKPT_OK, "%s", err.msg);
    return g;
}

static bool is_source_key(const char *k) { return strncmp(k, "general.source.", 15) == 0; }

/* A kv's value as the .kv.tsv listings print it (arrays as "[N] H"). */
static void format_kv(const struct ckpt_gguf_kv *kv, struct sbuf *b)
{
    if (kv->type == CKPT_GGUF_ARRAY) {
        struct sbuf r = {0};
        sb_puts(&r, "[");
        for (uint64_t i = 0; i < kv->n; i++) {
            double d;
            int64_t v;
            if (i)
                sb_puts(&r, ", ");
            if (kv->elem_type == CKPT_GGUF_STRING)
                ck_assert(py_repr_str(&r, kv->array_str[i].str, (size_t)kv->array_str[i].len));
            else if (kv->elem_type == CKPT_GGUF_FLOAT32) {
                ck_assert(ckpt_gguf_array_f64(kv, i, &d));
                py_repr_float(&r, d);
            } else {
                ck_assert(ckpt_gguf_array_i64(kv, i, &v));
                sb_printf(&r, "%lld", (long long)v);
            }
        }
        sb_puts(&r, "]");
        char hex[65];
        ck_assert(tu_sha256_hex(r.p, r.n, hex) == 0);
        sb_printf(b, "[%llu] %.16s", (unsigned long long)kv->n, hex);
        sb_free(&r);
        return;
    }
    switch (kv->type) {
    case CKPT_GGUF_STRING: sb_put(b, kv->v.str.str, (size_t)kv->v.str.len); break;
    case CKPT_GGUF_BOOL: sb_puts(b, kv->v.u64 ? "True" : "False"); break;
    case CKPT_GGUF_FLOAT32:
    case CKPT_GGUF_FLOAT64: py_repr_float(b, kv->v.f64); break;
    case CKPT_GGUF_UINT8: case CKPT_GGUF_UINT16: case CKPT_GGUF_UINT32: case CKPT_GGUF_UINT64:
        sb_printf(b, "%llu", (unsigned long long)kv->v.u64);
        break;
    default: sb_printf(b, "%lld", (long long)kv->v.i64); break;
    }
}

static char *golden(const char *kit, const char *file)
{
    char *rel = tu_fmt("golden/%s/%s", kit, file);
    char *p = tu_data(rel);
    free(rel);
    return p;
}

static char *model(const char *kit)
{
    char *rel = tu_fmt("models/%s", kit);
    char *p = tu_data(rel);
    free(rel);
    return p;
}

/* True when dir holds no entries. */
static bool dir_empty(const char *dir)
{
    DIR *d = opendir(dir);
    ck_assert_ptr_nonnull(d);
    struct dirent *e;
    int n = 0;
    while ((e = readdir(d)) != NULL)
        n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
    closedir(d);
    return n == 0;
}

static void sh(const char *cmd)
{
    char *errs = NULL;
    int rc = tu_run(cmd, NULL, &errs);
    ck_assert_msg(rc == 0, "%s: exit %d: %s", cmd, rc, errs ? errs : "");
    free(errs);
}

/* A fixture model in dir/name with the tiny kit's tokenizer files. */
static char *fixture(const char *dir, const char *name, const char *args)
{
    const char *bin = getenv("CKPT_TESTBIN");
    char *out = tu_fmt("%s/%s", dir, name);
    char *tok = model("tiny-mistral");
    char *cmd = tu_fmt("'%s/gen_fixtures' --vocab 1500 %s '%s' && cp '%s'/tokenizer* '%s'/",
                       bin && *bin ? bin : "build/tests", args, out, tok, out);
    sh(cmd);
    free(cmd);
    free(tok);
    return out;
}

/* ------------------------------------------------------------ golden */

/* Every tensor of g as listed in the kit's convert-<tn>.tensors.tsv
 * (name, type, shape, data SHA-256) and no other; `what` names the case. */
static void check_tensor_listing(ckpt_gguf *g, const char *listed, const char *tn,
                                 const char *what)
{
    char *file = tu_fmt("convert-%s.tensors.tsv", tn), *path = golden(listed, file);
    char *text = tu_read_file(path, NULL), *cur = text, *line;
    ck_assert_ptr_nonnull(text);
    size_t n = 0;
    while ((line = tu_next_line(&cur))) {
        char *name = strtok(line, "\t"), *type = strtok(NULL, "\t"), *shape = strtok(NULL, "\t"),
             *sha = strtok(NULL, "\t");
        const struct ckpt_gguf_tensor *t = ckpt_gguf_find_tensor(g, name);
        ck_assert_msg(t != NULL, "%s %s: tensor %s missing", what, tn, name);
        ck_assert_msg((long)t->type == atol(type), "%s %s: %s type %d, want %s", what, tn, name,
                      (int)t->type, type);
        char dims[128] = "", hex[65];
        for (uint32_t j = 0; j < t->n_dims; j++)
            snprintf(dims + strlen(dims), sizeof dims - strlen(dims), "%s%lld", j ? "," : "",
                     (long long)t->ne[j]);
        ck_assert_msg(strcmp(dims, shape) == 0, "%s %s: %s shape %s, want %s", what, tn, name,
                      dims, shape);
        ck_assert(tu_sha256_hex(t->data, t->n_bytes, hex) == 0);
        ck_assert_msg(strcmp(hex, sha) == 0, "%s %s: %s data differs", what, tn, name);
        n++;
    }
    ck_assert_uint_eq(n, ckpt_gguf_n_tensors(g));
    free(text);
    free(path);
    free(file);
}

/*
 * tiny-llama against tiny-mistral's listings: the converter registers
 * LlamaForCausalLM and MistralForCausalLM on one class (LlamaModel) and
 * writes no sliding-window key, so the only key that differs is
 * general.name, which gguf-py's metadata heuristics take from the directory
 * name ("tiny-llama" -> "Tiny Llama").
 */
START_TEST(golden_listings)
{
    const char *kit = kits[_i / 3], *tn = tnames[_i % 3];
    bool tokjson = strcmp(kit, "tiny-mistral-tokjson") == 0, llama = strcmp(kit, "tiny-llama") == 0;
    const char *listed = llama ? "tiny-mistral" : kit; /* whose listings */
    char *tmp = tu_tmpdir(), *out = tu_fmt("%s/out.gguf", tmp);
    char *in = llama ? tu_llama_fixture(tmp) : model(kit);
    ck_assert_ptr_nonnull(in);
    convert_ok(in, out, ttypes[_i % 3], 2, true);
    ckpt_gguf *g = open_gguf(out);

    /* tensors: name, type, shape, data */
    check_tensor_listing(g, listed, tn, kit);

    /* order of tensors and keys: the converter's own file of the kit */
    char *file, *text, *cur, *line, *path = golden(listed, "convert-f16.gguf");
    ckpt_gguf *ref = open_gguf(path);
    for (size_t i = 0; i < ckpt_gguf_n_tensors(ref); i++)
        ck_assert_str_eq(ckpt_gguf_tensor(g, i)->name, ckpt_gguf_tensor(ref, i)->name);
    size_t k = 0, n_source = 0;
    for (size_t i = 0; i < ckpt_gguf_n_kv(g); i++) {
        const char *key = ckpt_gguf_kv_at(g, i)->key;
        if (is_source_key(key)) {
            n_source++;
            continue;
        }
        ck_assert_msg(k < ckpt_gguf_n_kv(ref), "%s: extra key %s", kit, key);
        ck_assert_str_eq(key, ckpt_gguf_kv_at(ref, k)->key);
        k++;
    }
    ck_assert_uint_eq(k, ckpt_gguf_n_kv(ref));
    ck_assert_uint_eq(n_source, 4); /* name, config and tokenizer digests, recipe */
    ckpt_gguf_close(ref);
    free(path);

    /* values of every listed key; tokjson's scores are checked in golden_tokjson_vocab */
    file = tu_fmt("convert-%s.kv.tsv", tn);
    path = golden(tokjson ? "tiny-mistral" : listed, file);
    char *own = golden(listed, file);
    text = tu_read_file(path, NULL);
    char *own_text = tu_read_file(own, NULL);
    ck_assert_ptr_nonnull(text);
    ck_assert_ptr_nonnull(own_text);
    cur = text;
    while ((line = tu_next_line(&cur))) {
        char *tab = strchr(line, '\t');
        *tab = '\0';
        if ((tokjson || llama) && strcmp(line, "general.name") == 0)
            continue; /* the directory name differs from tiny-mistral's */
        const struct ckpt_gguf_kv *kv = ckpt_gguf_find_kv(g, line);
        ck_assert_msg(kv != NULL, "%s %s: key %s missing", kit, tn, line);
        struct sbuf b = {0};
        format_kv(kv, &b);
        ck_assert_msg(strcmp(b.p, tab + 1) == 0, "%s %s: %s = %s, want %s", kit, tn, line, b.p,
                      tab + 1);
        sb_free(&b);
    }
    if (tokjson) {
        const struct ckpt_gguf_kv *kv = ckpt_gguf_find_kv(g, "general.name");
        ck_assert_ptr_nonnull(kv);
        ck_assert_ptr_nonnull(strstr(own_text, "general.name\tTiny Mistral Tokjson\n"));
        ck_assert_str_eq(kv->v.str.str, "Tiny Mistral Tokjson");
    }
    if (llama) {
        const struct ckpt_gguf_kv *kv = ckpt_gguf_find_kv(g, "general.name");
        ck_assert_ptr_nonnull(kv);
        ck_assert_str_eq(kv->v.str.str, "Tiny Llama");
        kv = ckpt_gguf_find_kv(g, "general.architecture");
        ck_assert_str_eq(kv->v.str.str, "llama");
    }
    free(text);
    free(own_text);
    free(own);
    free(path);
    free(file);
    ckpt_gguf_close(g);
    tu_rmtree(tmp);
    free(tmp);
    free(out);
    free(in);
}
END_TEST

/*
 * Mistral's own layout of tiny-mistral and tiny-mixtral (params.json,
 * consolidated.safetensors with Q/K rows in Mistral's interleaved order,
 * tokenizer.model.v3) converts to the tensors llama.cpp's converter writes
 * for the Hugging Face layout of the same model: same names, types, shapes
 * and bytes, so no Q/K permutation is applied to this layout; and the same
 * llama.* hyperparameter keys.  The same for the Mistral3ForConditionalGeneration
 * wrapping of each (text_config, language_model.* tensors, a vision tower
 * left out), whose tokenizer files are the kit's: there every key listed
 * must match, as llama.cpp's converter writes the text model as "llama".
 */
START_TEST(golden_mistral_layout)
{
    const char *kit = (_i / 3) % 2 ? "tiny-mixtral" : "tiny-mistral", *tn = tnames[_i % 3];
    bool wrapped = _i >= 6;
    char *tmp = tu_tmpdir(), *out = tu_fmt("%s/out.gguf", tmp);
    char *in = wrapped ? tu_mistral3(tmp, kit) : tu_mistral_layout(tmp, kit);
    ck_assert_ptr_nonnull(in);
    convert_ok(in, out, ttypes[_i % 3], 2, true);
    ckpt_gguf *g = open_gguf(out);
    check_tensor_listing(g, kit, tn, in);
    /* the hyperparameters, from params.json: every llama.* key listed */
    char *file = tu_fmt("convert-%s.kv.tsv", tn), *path = golden(kit, file);
    char *text = tu_read_file(path, NULL), *cur = text, *line;
    ck_assert_ptr_nonnull(text);
    int n = 0;
    while ((line = tu_next_line(&cur))) {
        char *tab = strchr(line, '\t');
        *tab = '\0';
        if (!wrapped && strncmp(line, "llama.", 6) != 0)
            continue;
        const struct ckpt_gguf_kv *kv = ckpt_gguf_find_kv(g, line);
        ck_assert_msg(kv != NULL, "%s %s: key %s missing", in, tn, line);
        struct sbuf b = {0};
        format_kv(kv, &b);
        ck_assert_msg(strcmp(b.p, tab + 1) == 0, "%s %s: %s = %s, want %s", in, tn, line, b.p,
                      tab + 1);
        sb_free(&b);
        n++;
    }
    ck_assert_int_ge(n, 9);
    free(text);
    free(path);
    free(file);
    ckpt_gguf_close(g);
    tu_rmtree(tmp);
    free(in);
    free(out);
    free(tmp);
}
END_TEST

/* Without provenance keys the file is the converter's, byte for byte. */
START_TEST(golden_bytes)
{
    const char *kit = kits[_i / 3], *tn = tnames[_i % 3];
    char *tmp = tu_tmpdir(), *out = tu_fmt("%s/out.gguf", tmp), *in = model(kit);
    convert_ok(in, out, ttypes[_i % 3], 3, false);
    size_t size;
    void *bytes = tu_read_file(out, &size);
    char hex[65], *path = golden(kit, "quant-summary.tsv");
    ck_assert(tu_sha256_hex(bytes, size, hex) == 0);
    char *text = tu_read_file(path, NULL), *cur = text, *line, *want = tu_fmt("convert-%s.gguf", tn);
    bool found = false;
    while ((line = tu_next_line(&cur))) {
        char *f = strtok(line, "\t"), *nb = strtok(NULL, "\t"), *sha = strtok(NULL, "\t");
        if (f && strcmp(f, want) == 0) {
            found = true;
            ck_assert_uint_eq(strtoull(nb, NULL, 10), size);
            ck_assert_msg(strcmp(sha, hex) == 0, "%s %s: file sha256 differs", kit, tn);
        }
    }
    ck_assert(found);
    free(want);
    free(text);
    free(path);
    free(bytes);
    tu_rmtree(tmp);
    free(tmp);
    free(out);
    free(in);
}
END_TEST

/* tokenizer.json only: the arrays equal tiny-mistral's (SentencePiece's
 * scores, not the converter's flat -1000). */
START_TEST(golden_tokjson_vocab)
{
    char *tmp = tu_tmpdir(), *out = tu_fmt("%s/out.gguf", tmp), *in = model("tiny-mistral-tokjson");
    convert_ok(in, out, CKPT_TYPE_F16, 1, true);
    ckpt_gguf *g = open_gguf(out);
    const struct ckpt_gguf_kv *tok = ckpt_gguf_find_kv(g, "tokenizer.ggml.tokens"),
                              *sc = ckpt_gguf_find_kv(g, "tokenizer.ggml.scores"),
                              *ty = ckpt_gguf_find_kv(g, "tokenizer.ggml.token_type");
    ck_assert(tok && sc && ty);
    char *path = golden("tiny-mistral", "gguf-vocab.tsv");
    char *text = tu_read_file(path, NULL), *cur = text, *line;
    ck_assert_ptr_nonnull(text);
    tu_next_line(&cur); /* header */
    uint64_t n = 0, fractional = 0;
    while ((line = tu_next_line(&cur))) {
        char *id = strtok(line, "\t"), *piece = strtok(NULL, "\t"), *score = strtok(NULL, "\t"),
             *type = strtok(NULL, "\t");
        uint64_t i = strtoull(id, NULL, 10);
        ck_assert_uint_eq(i, n);
        ck_assert_uint_lt(i, tok->n);
        cJSON *js = cJSON_Parse(piece);
        ck_assert_msg(cJSON_IsString(js), "id %s", id);
        ck_assert_uint_eq(tok->array_str[i].len, strlen(js->valuestring));
        ck_assert_msg(memcmp(tok->array_str[i].str, js->valuestring, strlen(js->valuestring)) == 0,
                      "id %s: piece differs", id);
        cJSON_Delete(js);
        double d;
        int64_t t;
        ck_assert(ckpt_gguf_array_f64(sc, i, &d) && ckpt_gguf_array_i64(ty, i, &t));
        struct sbuf b = {0};
        py_repr_float(&b, d);
        ck_assert_msg(strcmp(b.p, score) == 0, "id %s: score %s, want %s", id, b.p, score);
        fractional += d != -1000.0 && d != 0.0;
        sb_free(&b);
        ck_assert_int_eq(t, atoi(type));
        n++;
    }
    ck_assert_uint_eq(n, tok->n);
    ck_assert_uint_gt(fractional, 1000); /* merge scores, not the flat -1000 */
    free(text);
    free(path);
    ckpt_gguf_close(g);
    tu_rmtree(tmp);
    free(tmp);
    free(out);
    free(in);
}
END_TEST

/* ------------------------------------------------------------ values */

static float source_value(const struct ckpt_st_tensor *t, uint64_t i)
{
    switch (t->dtype) {
    case CKPT_DT_F32: return lef32dec(t->data + 4 * i);
    case CKPT_DT_F16: return ckpt_f16_to_f32(le16dec(t->data + 2 * i));
    case CKPT_DT_BF16: return ckpt_bf16_to_f32(le16dec(t->data + 2 * i));
    case CKPT_DT_F8_E4M3: return ckpt_f8_e4m3_to_f32(t->data[i]);
    case CKPT_DT_F8_E5M2: return ckpt_f8_e5m2_to_f32(t->data[i]);
    default: ck_abort_msg("dtype %s", ckpt_dtype_name(t->dtype)); return 0;
    }
}

/* Every value of an f32 GGUF equals its source value (times its F8 scale),
 * found through the documented name, permutation and stacking rules. */
static void verify_source(const char *gguf_path, const char *dir)
{
    ckpt_gguf *g = open_gguf(gguf_path);
    ckpt_hf *hf = NULL;
    ckpt_err err;
    ckpt_err_clear(&err);
    ck_assert_msg(ckpt_hf_open(&hf, dir, &err) == CKPT_OK, "%s", err.msg);
    const struct ckpt_hf_config *cfg = ckpt_hf_get_config(hf);
    uint64_t checked = 0;
    for (size_t k = 0; k < ckpt_hf_n_tensors(hf); k++) {
        const struct ckpt_st_tensor *t = ckpt_hf_tensor(hf, k, NULL);
        if (strstr(t->name, "weight_scale"))
            continue;
        struct ckpt_arch_match n = ckpt_arch_match_hf(cfg->arch, &cfg->arch->schemes[0], t->name);
        char gname[64];
        ck_assert(ckpt_arch_gguf_name(cfg->arch, n.role, n.layer, n.suffix, gname, sizeof gname));
        const struct ckpt_gguf_tensor *gt = ckpt_gguf_find_tensor(g, gname);
        ck_assert_msg(gt && gt->type == CKPT_TYPE_F32, "%s", gname);
        uint64_t rows = t->n_dims == 2 ? t->shape[0] : 1, cols = t->n_dims == 2 ? t->shape[1]
                                                                                 : t->shape[0];
        uint64_t base = n.expert >= 0 ? (uint64_t)n.expert * rows : 0;
        int64_t heads = n.role == CKPT_ROLE_ATTN_Q ? cfg->n_heads
                        : n.role == CKPT_ROLE_ATTN_K ? cfg->n_kv_heads : 0;
        char sname[200];
        size_t stem = strlen(t->name) - strlen("weight");
        snprintf(sname, sizeof sname, "%.*sweight_scale_inv", (int)stem, t->name);
        const struct ckpt_st_tensor *blk = ckpt_hf_find(hf, sname, NULL);
        snprintf(sname, sizeof sname, "%.*sweight_scale", (int)stem, t->name);
        const struct ckpt_st_tensor *one = ckpt_hf_find(hf, sname, NULL);
        ck_assert_msg((t->dtype == CKPT_DT_F8_E4M3 || t->dtype == CKPT_DT_F8_E5M2) == (blk || one),
                      "%s", t->name);
        for (uint64_t r = 0; r < rows; r++) {
            uint64_t gr = heads ? (uint64_t)ckpt_qk_gguf_row((int64_t)r, (int64_t)rows, heads) : r;
            for (uint64_t c = 0; c < cols; c++) {
                float want = source_value(t, r * cols + c);
                if (blk)
                    want *= source_value(blk, (r / 128) * blk->shape[1] + c / 128);
                if (one) /* one scale, or one per row ([out] or [out, 1]) */
                    want *= source_value(one, one->n_elements == 1 ? 0 : r);
                float got = lef32dec(gt->data + 4 * ((base + gr) * cols + c));
                if (memcmp(&got, &want, 4) != 0) /* (ck_assert per value is a syscall) */
                    ck_abort_msg("%s[%llu][%llu]: %g, want %g", t->name, (unsigned long long)r,
                                 (unsigned long long)c, got, want);
            }
        }
        checked++;
    }
    ck_assert_uint_gt(checked, 10);
    ckpt_hf_close(hf);
    ckpt_gguf_close(g);
}

/* Dense with tensors larger than one conversion chunk, and sharded Mixtral. */
START_TEST(values_and_threads)
{
    static const char *const args[] = {
        "--hidden 512 --heads 8 --kv-heads 2 --ffn 1024 --layers 1 --vocab 5000 --dtype f16",
        "--arch mixtral --shards 3 --layers 2 --experts 3",
    };
    char *tmp = tu_tmpdir(), *dir = fixture(tmp, "m", args[_i]);
    char *a = tu_fmt("%s/a.gguf", tmp), *b = tu_fmt("%s/b.gguf", tmp);
    convert_ok(dir, a, CKPT_TYPE_F32, 1, true);
    convert_ok(dir, b, CKPT_TYPE_F32, 4, true);
    verify_source(a, dir);
    size_t na, nb;
    void *da = tu_read_file(a, &na), *db = tu_read_file(b, &nb);
    ck_assert(na == nb && memcmp(da, db, na) == 0);
    free(da);
    free(db);
    convert_ok(dir, a, CKPT_TYPE_BF16, 1, true);
    convert_ok(dir, b, CKPT_TYPE_BF16, 4, true);
    da = tu_read_file(a, &na);
    db = tu_read_file(b, &nb);
    ck_assert(na == nb && memcmp(da, db, na) == 0);
    free(da);
    free(db);
    tu_rmtree(tmp);
    free(tmp);
    free(dir);
    free(a);
    free(b);
}
END_TEST

/* F8_E4M3 and F8_E5M2 weights are dequantized with block, per-tensor and
 * per-row scales. */
START_TEST(values_f8)
{
    static const char *const args[] = {
        "--fp8 block --hidden 256 --heads 4 --kv-heads 2 --ffn 384",
        "--fp8 tensor --arch mixtral --shards 2",
        "--fp8 row --hidden 256 --heads 4 --kv-heads 2 --ffn 384",
        "--fp8 block --fp8-format e5m2 --hidden 256 --heads 4 --kv-heads 2 --ffn 384",
        "--fp8 row --fp8-format e5m2 --arch mixtral",
    };
    char *tmp = tu_tmpdir(), *dir = fixture(tmp, "m", args[_i]), *a = tu_fmt("%s/a.gguf", tmp);
    convert_ok(dir, a, CKPT_TYPE_F32, 2, true);
    verify_source(a, dir);
    /* auto picks bf16 for an F8 checkpoint */
    struct ckpt_convert_opts o = {.input = dir, .output = a, .type = CKPT_PLAN_AUTO,
                                  .n_threads = 2, .force = true};
    struct ckpt_convert_result r;
    ckpt_err err;
    ckpt_err_clear(&err);
    ck_assert_msg(ckpt_convert_run(&o, &r, &err) == CKPT_OK, "%s", err.msg);
    ck_assert_int_eq(r.type, CKPT_TYPE_BF16);
    ck_assert_uint_eq(r.file_type, 32);
    tu_rmtree(tmp);
    free(tmp);
    free(dir);
    free(a);
}
END_TEST

START_TEST(names_and_labels)
{
    struct ckpt_model_id id;
    struct ckpt_param_count pc = {7241732096, 7241732096, 0, 0};
    ckpt_model_id_derive(&id, NULL, "Mistral-7B-v0.1", &pc);
    ck_assert_str_eq(id.name, "Mistral 7B v0.1");
    ck_assert_str_eq(id.basename, "Mistral");
    ck_assert_str_eq(id.size_label, "7B");
    ck_assert_str_eq(id.version, "v0.1");
    ck_assert_str_eq(id.finetune, "");
    pc = (struct ckpt_param_count){46702792704, 1604390912, 5637144576, 8};
    ckpt_model_id_derive(&id, "mistralai/Mixtral-8x7B-Instruct-v0.1", "snapshot", &pc);
    ck_assert_str_eq(id.name, "Mixtral 8x7B Instruct v0.1");
    ck_assert_str_eq(id.organization, "Mistralai");
    ck_assert_str_eq(id.size_label, "8x7B");
    ck_assert_str_eq(id.finetune, "Instruct");
    pc = (struct ckpt_param_count){2998528, 2998528, 0, 0};
    ckpt_model_id_derive(&id, NULL, "tiny-mistral", &pc);
    ck_assert_str_eq(id.name, "Tiny Mistral");
    ck_assert_str_eq(id.basename, "");
    ck_assert_str_eq(id.size_label, "3.0M");
    char buf[64];
    ckpt_model_size_label(buf, sizeof buf, &(struct ckpt_param_count){0, 583808, 393216, 4});
    ck_assert_str_eq(buf, "4x977K");
    ckpt_model_size_label(buf, sizeof buf, &(struct ckpt_param_count){123, 0, 0, 0});
    ck_assert_str_eq(buf, "0.12K");
}
END_TEST

/* ------------------------------------------------------------ errors */

static void edit_config(const char *dir, const char *from, const char *to)
{
    char *p = tu_fmt("%s/config.json", dir);
    size_t n;
    char *s = tu_read_file(p, &n), *at = strstr(s, from);
    ck_assert_msg(at != NULL, "config.json has no %s", from);
    char *t = tu_fmt("%.*s%s%s", (int)(at - s), s, to, at + strlen(from));
    ck_assert_int_eq(tu_write_file(p, t, strlen(t)), 0);
    free(t);
    free(s);
    free(p);
}

/* A lone safetensors file with one I8 tensor, config.json beside it. */
static char *i8_model(const char *tmp)
{
    char *dir = fixture(tmp, "i8", ""), *f = tu_fmt("%s/weights.safetensors", dir);
    ckpt_st_writer *w = NULL;
    ckpt_err err;
    ckpt_err_clear(&err);
    uint64_t shape[2] = {1500, 64};
    ck_assert(ckpt_st_writer_new(&w, f, true, &err) == CKPT_OK);
    ck_assert(ckpt_st_writer_add_tensor(w, "model.embed_tokens.weight", CKPT_DT_I8, 2, shape,
                                        &err) == CKPT_OK);
    ck_assert(ckpt_st_writer_begin(w, &err) == CKPT_OK);
    uint8_t *zero = calloc(1500, 64);
    ck_assert(ckpt_st_writer_write(w, zero, 1500 * 64, &err) == CKPT_OK);
    ck_assert_msg(ckpt_st_writer_finish(w, &err) == CKPT_OK, "%s", err.msg);
    free(zero);
    free(dir);
    return f;
}

/* A value past f16's range in an f32 checkpoint. */
static void poke_large(const char *dir)
{
    char *p = tu_fmt("%s/model.safetensors", dir);
    ckpt_st *st = NULL;
    ckpt_err err;
    ckpt_err_clear(&err);
    ck_assert(ckpt_st_open(&st, p, NULL, &err) == CKPT_OK);
    const struct ckpt_st_tensor *t = ckpt_st_find(st, "model.layers.1.mlp.down_proj.weight");
    long off = (long)(ckpt_st_data_offset(st) + t->begin + 4 * 70);
    ckpt_st_close(st);
    FILE *f = fopen(p, "r+b");
    float v = 1e5f;
    ck_assert(f && fseek(f, off, SEEK_SET) == 0 && fwrite(&v, 4, 1, f) == 1 && fclose(f) == 0);
    free(p);
}

/* Write the raw value bits `bits` (size bytes) over element `elem` of a tensor. */
static void poke_bits(const char *dir, const char *tensor, long elem, const void *bits,
                      size_t size)
{
    char *p = tu_fmt("%s/model.safetensors", dir);
    ckpt_st *st = NULL;
    ckpt_err err;
    ckpt_err_clear(&err);
    ck_assert(ckpt_st_open(&st, p, NULL, &err) == CKPT_OK);
    const struct ckpt_st_tensor *t = ckpt_st_find(st, tensor);
    long off = (long)(ckpt_st_data_offset(st) + t->begin) + elem * (long)size;
    ckpt_st_close(st);
    FILE *f = fopen(p, "r+b");
    ck_assert(f && fseek(f, off, SEEK_SET) == 0 && fwrite(bits, size, 1, f) == 1 &&
              fclose(f) == 0);
    free(p);
}

/* NaN and ±Inf weights, in every source dtype and to every output type, are
 * refused with the tensor, row and column (row 3, column 5 of a 64-wide
 * down_proj); --allow-nonfinite copies them. */
START_TEST(nonfinite_refused)
{
    static const struct {
        const char *dtype;
        uint32_t bits; /* little-endian, the low `size` bytes */
        size_t size;
        const char *value;
    } cases[] = {
        {"f32", 0x7fc00000u, 4, "nan"}, {"f32", 0xff800000u, 4, "-inf"},
        {"f16", 0x7e00u, 2, "nan"},     {"f16", 0x7c00u, 2, "inf"},
        {"bf16", 0x7fc0u, 2, "nan"},    {"bf16", 0xff80u, 2, "-inf"},
        {"bf16", 0x7f81u, 2, "nan"}, /* signalling: bf16 rows are copied, not this one */
    };
    static const int types[] = {CKPT_TYPE_F32, CKPT_TYPE_F16, CKPT_TYPE_BF16};
    char *tmp = tu_tmpdir(), *args = tu_fmt("--dtype %s", cases[_i].dtype);
    char *dir = fixture(tmp, "m", args), *out = tu_fmt("%s/x.gguf", tmp);
    const char *name = "model.layers.1.mlp.down_proj.weight";
    uint8_t b[4];
    for (size_t k = 0; k < cases[_i].size; k++)
        b[k] = (uint8_t)(cases[_i].bits >> (8 * k));
    poke_bits(dir, name, 3 * 128 + 5, b, cases[_i].size);
    for (size_t t = 0; t < sizeof types / sizeof types[0]; t++) {
        ckpt_err err;
        ckpt_status s = convert(dir, out, types[t], 2, true, &err);
        char *want = tu_fmt("tensor '%s': value %s at row 3, column 5 is not finite", name,
                            cases[_i].value);
        ck_assert_msg(s == CKPT_E_VALUE && strstr(err.msg, want) &&
                          strstr(err.msg, "--allow-nonfinite"),
                      "%s to %s: %d %s", cases[_i].dtype, ckpt_type_name(types[t]), s, err.msg);
        ck_assert_int_ne(access(out, F_OK), 0);
        free(want);
        struct ckpt_convert_opts o = {.input = dir, .output = out, .type = types[t],
                                      .n_threads = 2, .force = true, .allow_nonfinite = true};
        ckpt_err_clear(&err);
        ck_assert_msg(ckpt_convert_run(&o, NULL, &err) == CKPT_OK, "%s", err.msg);
        if (types[t] == CKPT_TYPE_BF16 && strcmp(cases[_i].dtype, "bf16") == 0) {
            /* gguf-py's bf16 rule: a NaN keeps its top bits, made quiet (| 0x40);
             * ±Inf and finite values stay as they are */
            ckpt_gguf *g = open_gguf(out);
            const struct ckpt_gguf_tensor *d = ckpt_gguf_find_tensor(g, "blk.1.ffn_down.weight");
            ck_assert_ptr_nonnull(d);
            uint32_t bits = cases[_i].bits, got = le16dec(d->data + 2 * (3 * 128 + 5));
            if ((bits & 0x7f80u) == 0x7f80u && (bits & 0x7fu))
                bits |= 0x40u;
            ck_assert_uint_eq(got, bits);
            ckpt_gguf_close(g);
        }
        ck_assert_int_eq(unlink(out), 0);
    }
    tu_rmtree(tmp);
    free(tmp), free(args), free(dir), free(out);
}
END_TEST

/* The checks find a value wherever it is in a row: rows of 200 values
 * (three steps of 64 and a tail of 8), a NaN at the first and last column
 * of each step and in the tail, from every source dtype to every output
 * type; and an f32 value beyond f16's range at the same columns refused
 * for f16 only, naming that column. */
START_TEST(checks_every_column)
{
    static const int cols[] = {0, 63, 64, 127, 130, 191, 192, 199};
    static const int types[] = {CKPT_TYPE_F32, CKPT_TYPE_F16, CKPT_TYPE_BF16};
    static const char *const dtypes[] = {"f32", "f16", "bf16"};
    static const uint32_t nan_bits[] = {0x7fc00000u, 0x7e00u, 0x7fc0u};
    const char *name = "model.layers.1.mlp.down_proj.weight";
    char *tmp = tu_tmpdir(), *out = tu_fmt("%s/x.gguf", tmp);
    for (int d = 0; d < 3; d++) {
        char *args = tu_fmt("--dtype %s --ffn 200", dtypes[d]), *sub = tu_fmt("m%d", d);
        char *dir = fixture(tmp, sub, args);
        size_t size = d == 0 ? 4 : 2;
        for (size_t c = 0; c < sizeof cols / sizeof cols[0]; c++) {
            uint8_t b[4], keep[4];
            for (size_t k = 0; k < size; k++)
                b[k] = (uint8_t)(nan_bits[d] >> (8 * k));
            char *st_path = tu_fmt("%s/model.safetensors", dir);
            size_t st_size;
            uint8_t *before = tu_read_file(st_path, &st_size);
            poke_bits(dir, name, 3 * 200 + cols[c], b, size);
            for (size_t t = 0; t < 3; t++) {
                ckpt_err err;
                ckpt_status s = convert(dir, out, types[t], 2, true, &err);
                char *want = tu_fmt("at row 3, column %d is not finite", cols[c]);
                ck_assert_msg(s == CKPT_E_VALUE && strstr(err.msg, want),
                              "%s to %s, column %d: %s", dtypes[d], ckpt_type_name(types[t]),
                              cols[c], err.msg);
                free(want);
            }
            if (d == 0) { /* 1e6 fits f32 and bf16, not f16 */
                const uint32_t big = 0x49742400u;
                for (size_t k = 0; k < 4; k++)
                    keep[k] = (uint8_t)(big >> (8 * k));
                poke_bits(dir, name, 3 * 200 + cols[c], keep, 4);
                ckpt_err err;
                ckpt_status s = convert(dir, out, CKPT_TYPE_F16, 2, true, &err);
                char *want = tu_fmt("at row 3, column %d does not fit f16", cols[c]);
                ck_assert_msg(s == CKPT_E_VALUE && strstr(err.msg, want), "column %d: %s", cols[c],
                              err.msg);
                free(want);
                ck_assert_int_eq(convert(dir, out, CKPT_TYPE_BF16, 2, true, &err), CKPT_OK);
            }
            ck_assert_int_eq(tu_write_file(st_path, before, st_size), 0); /* clean again */
            free(before);
            free(st_path);
        }
        convert_ok(dir, out, CKPT_TYPE_F16, 2, true); /* and the clean rows pass */
        free(args), free(sub), free(dir);
    }
    tu_rmtree(tmp);
    free(tmp), free(out);
}
END_TEST

START_TEST(errors)
{
    static const struct {
        const char *what, *gen, *from, *to, *shell;
        int type;
        ckpt_status code;
        const char *msg;
    } cases[] = {
        {"missing shard", "--shards 3", NULL, NULL, "rm %s/model-00002-of-00003.safetensors",
         CKPT_TYPE_F16, CKPT_E_IO, "model-00002-of-00003.safetensors"},
        {"extra shard", "--shards 2", NULL, NULL,
         "cp %s/model-00001-of-00002.safetensors %s/model-00003-of-00003.safetensors",
         CKPT_TYPE_F16, CKPT_E_FORMAT, "extra shard model-00003-of-00003.safetensors"},
        {"missing tensor", "", "\"num_hidden_layers\": 2", "\"num_hidden_layers\": 3", NULL,
         CKPT_TYPE_F16, CKPT_E_FORMAT, "tensor 'model.layers.2.input_layernorm.weight' is missing"},
        {"unexpected tensor", "", "\"num_hidden_layers\": 2", "\"num_hidden_layers\": 1", NULL,
         CKPT_TYPE_F16, CKPT_E_FORMAT, "unexpected tensor 'model.layers.1."},
        {"shape", "", "\"intermediate_size\": 128", "\"intermediate_size\": 96", NULL,
         CKPT_TYPE_F16, CKPT_E_FORMAT, "tensor 'model.layers.0.mlp.down_proj.weight' has shape [64, 128], config.json "
         "implies [64, 96]"},
        {"architecture", "", "MistralForCausalLM", "GemmaForCausalLM", NULL, CKPT_TYPE_F16,
         CKPT_E_UNSUPPORTED, "unsupported architecture GemmaForCausalLM"},
        {"no tokenizer", "", NULL, NULL, "rm %s/tokenizer.model %s/tokenizer.json", CKPT_TYPE_F16,
         CKPT_E_IO, "neither tokenizer.model nor tokenizer.json nor tekken.json"},
        {"f16 overflow", "--dtype f32", NULL, NULL, NULL, CKPT_TYPE_F16, CKPT_E_VALUE,
         "tensor 'model.layers.1.mlp.down_proj.weight': value 100000 at row 0, column 70 does not "
         "fit f16 (tensor 'blk.1.ffn_down.weight' of the output); convert to bf16 or f32"},
        {"dtype", NULL, NULL, NULL, NULL, CKPT_TYPE_F16, CKPT_E_UNSUPPORTED,
         "tensor 'model.embed_tokens.weight': dtype I8 is not supported"},
        /* a name without a dot (the header keeps its length: JSON spaces) */
        {"name without a dot", "", NULL, NULL,
         "sed -i 's/\"lm_head[.]weight\"/\"lm_head\"       /' %s/model.safetensors",
         CKPT_TYPE_F16, CKPT_E_FORMAT, "model.safetensors: unexpected tensor 'lm_head' for "
         "MistralForCausalLM"},
    };
    char *tmp = tu_tmpdir(), *outdir = tu_fmt("%s/out", tmp), *out = tu_fmt("%s/x.gguf", outdir);
    ck_assert_int_eq(mkdir(outdir, 0777), 0);
    char *dir = cases[_i].gen ? fixture(tmp, "m", cases[_i].gen) : i8_model(tmp);
    if (cases[_i].from)
        edit_config(dir, cases[_i].from, cases[_i].to);
    if (cases[_i].shell) {
        char *cmd = tu_fmt(cases[_i].shell, dir, dir);
        sh(cmd);
        free(cmd);
    }
    if (cases[_i].code == CKPT_E_VALUE)
        poke_large(dir);
    ckpt_err err;
    ckpt_status s = convert(dir, out, cases[_i].type, 2, true, &err);
    ck_assert_msg(s == cases[_i].code, "%s: status %d (%s)", cases[_i].what, (int)s, err.msg);
    ck_assert_msg(strstr(err.msg, cases[_i].msg) != NULL, "%s: message '%s' lacks '%s'",
                  cases[_i].what, err.msg, cases[_i].msg);
    ck_assert_int_eq(ckpt_status_exit_code(s), 2);
    ck_assert_msg(dir_empty(outdir), "%s: output left behind", cases[_i].what);
    if (cases[_i].code == CKPT_E_VALUE) /* bf16 holds it */
        convert_ok(dir, out, CKPT_TYPE_BF16, 2, true);
    tu_rmtree(tmp);
    free(tmp);
    free(outdir);
    free(out);
    free(dir);
}
END_TEST

/* An existing output is kept unless forced. */
START_TEST(errors_exists)
{
    char *tmp = tu_tmpdir(), *out = tu_fmt("%s/x.gguf", tmp), *in = model("tiny-mixtral");
    ck_assert_int_eq(tu_write_file(out, "keep", 4), 0);
    ckpt_err err;
    ckpt_err_clear(&err);
    struct ckpt_convert_opts keep = {.input = in, .output = out, .type = CKPT_TYPE_F16};
    ck_assert_int_eq(ckpt_convert_run(&keep, NULL, &err), CKPT_E_EXISTS);
    ck_assert_ptr_nonnull(strstr(err.msg, "already exists"));
    size_t n;
    char *s = tu_read_file(out, &n);
    ck_assert(n == 4 && memcmp(s, "keep", 4) == 0);
    free(s);
    struct ckpt_convert_opts o = {.input = in, .output = out, .type = CKPT_TYPE_F16,
                                  .force = true};
    ckpt_err_clear(&err);
    ck_assert_msg(ckpt_convert_run(&o, NULL, &err) == CKPT_OK, "%s", err.msg);
    ckpt_gguf_close(open_gguf(out));
    tu_rmtree(tmp);
    free(tmp);
    free(out);
    free(in);
}
END_TEST

/* ------------------------------------------------------------ recipe */

/*
 * A file output's recipe is written with placeholders while the inputs are
 * hashed beside the conversion, then restated: every input's digest must
 * be the SHA-256 of that file computed here, none left a placeholder, and
 * the file must equal the one streamed to a pipe, whose header is written
 * after the hashing as before (the same bytes whichever way).
 */
START_TEST(recipe_digests_restated)
{
    char *tmp = tu_tmpdir(), *out = tu_fmt("%s/out.gguf", tmp);
    char *in = fixture(tmp, "m", "--layers 2 --shards 2 --dtype bf16");
    convert_ok(in, out, CKPT_TYPE_F16, 2, true);
    ckpt_gguf *g = open_gguf(out);
    const struct ckpt_gguf_kv *kv = ckpt_gguf_find_kv(g, "general.source.ckpt.recipe");
    ck_assert_ptr_nonnull(kv);
    cJSON *r = cJSON_ParseWithLength(kv->v.str.str, kv->v.str.len);
    ck_assert_ptr_nonnull(r);
    const cJSON *steps = cJSON_GetObjectItemCaseSensitive(r, "steps");
    const cJSON *inputs = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(steps, 0), "inputs");
    ck_assert_int_ge(cJSON_GetArraySize(inputs), 5); /* config, 2 shards, index, tokenizer */
    int shards = 0;
    for (const cJSON *i = inputs ? inputs->child : NULL; i; i = i->next) {
        const char *name = cJSON_GetObjectItemCaseSensitive(i, "name")->valuestring;
        const char *got = cJSON_GetObjectItemCaseSensitive(i, "sha256")->valuestring;
        char *path = tu_fmt("%s/%s", in, name), want[65];
        size_t n;
        void *data = tu_read_file(path, &n);
        ck_assert_ptr_nonnull(data);
        ck_assert_int_eq(tu_sha256_hex(data, n, want), 0);
        ck_assert_msg(strcmp(got, want) == 0, "%s: recipe says %s, file is %s", name, got, want);
        shards += strstr(name, ".safetensors") && !strstr(name, ".json");
        free(data);
        free(path);
    }
    ck_assert_int_eq(shards, 2);
    cJSON_Delete(r);
    ckpt_gguf_close(g);
    char *tool = tu_tool("ckpt-convert");
    char *cmd = tu_fmt("'%s' -q -j 2 -t f16 -o - '%s' | cmp - '%s'", tool, in, out);
    sh(cmd);
    free(cmd);
    free(tool);
    tu_rmtree(tmp);
    free(tmp);
    free(out);
    free(in);
}
END_TEST

/* The progress callback of the child below: cut the first shard to nothing
 * once the first chunk is written. */
static void cut_shard(void *ctx, const char *what, uint64_t done, uint64_t total,
                      ckpt_progress_unit unit)
{
    static bool cut;
    if (!cut && strcmp(what, "converting") == 0) {
        cut = true;
        if (truncate(ctx, 0) != 0)
            _exit(11);
    }
}

/*
 * An input cut while the conversion (and the hashing beside it) reads it:
 * the run ends with exit 2 and the file named, with no temporary and no
 * output left, as it did when the inputs were hashed before the
 * conversion.  The rows and the hash are read with pread, so the cut
 * comes back as the run's error (reported here as a tool reports it); a
 * read through the mapping would end in the shrink handler instead.
 */
/* The child: convert dir/m to dir/out/x.gguf with a progress callback
 * that cuts the first shard. */
static void convert_then_cut(const char *dir)
{
    char *in = tu_fmt("%s/m", dir), *out = tu_fmt("%s/out/x.gguf", dir);
    char *shard = tu_fmt("%s/model-00001-of-00002.safetensors", in);
    struct ckpt_convert_opts o = {.input = in, .output = out, .type = CKPT_TYPE_F32,
                                  .n_threads = 2, .provenance = true,
                                  .progress = cut_shard, .progress_ctx = shard};
    ckpt_err err;
    ckpt_err_clear(&err);
    if (ckpt_convert_run(&o, NULL, &err) == CKPT_OK)
        _exit(12);
    dprintf(STDERR_FILENO, "test: %s\n", err.msg);
    _exit(2);
}

START_TEST(input_cut_mid_conversion)
{
    char *tmp = tu_tmpdir(), *out = tu_fmt("%s/out/x.gguf", tmp);
    char *in = fixture(tmp, "m", "--layers 2 --shards 2 --dtype bf16");
    char *outdir = tu_fmt("%s/out", tmp);
    ck_assert_int_eq(mkdir(outdir, 0700), 0);
    tu_expect_shrink_exit(outdir, "model-00001-of-00002.safetensors", out, convert_then_cut,
                          tmp);
    tu_rmtree(tmp);
    free(tmp), free(out), free(in), free(outdir);
}
END_TEST

Suite *convert_suite(void)
{
    Suite *s = suite_create("convert");
    TCase *tc = tcase_create("golden");
    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, golden_listings, 0, 12);
    tcase_add_loop_test(tc, golden_mistral_layout, 0, 12);
    tcase_add_loop_test(tc, golden_bytes, 0, 6); /* tokjson's scores differ on purpose */
    tcase_add_test(tc, golden_tokjson_vocab);
    suite_add_tcase(s, tc);
    tc = tcase_create("values");
    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, values_and_threads, 0, 2);
    tcase_add_loop_test(tc, values_f8, 0, 5);
    tcase_add_test(tc, names_and_labels);
    suite_add_tcase(s, tc);
    tc = tcase_create("errors");
    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, nonfinite_refused, 0, 7);
    tcase_add_test(tc, checks_every_column);
    tcase_add_loop_test(tc, errors, 0, 10);
    tcase_add_test(tc, errors_exists);
    tcase_add_test(tc, recipe_digests_restated);
    tcase_add_test(tc, input_cut_mid_conversion);
    suite_add_tcase(s, tc);
    return s;
}
