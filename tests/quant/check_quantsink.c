/*
 * check_quantsink.c - the quantizer's output sinks and llama-quantize's
 * habits, against llama-quantize's own files where they can say:
 *   oracle:    one mix turned into another by --tensor-type patterns and
 *              --override-kv general.file_type gives llama-quantize's whole
 *              file of the other mix, byte for byte (Q3_K_M -> Q3_K_L and
 *              Q4_K_M -> Q4_K_S, both kits, from the model directory);
 *              --leave-output-tensor keeps output.weight's input bytes and
 *              every other tensor of llama-quantize's Q4_K_M; the
 *              fallback summary counts what quant-summary.tsv lists;
 *   semantics: first matching pattern wins, names lowercased, \d; the
 *              --override-kv syntax and types (int as u32 of |v|), a set
 *              key moves to the end; requantizing refused without the
 *              flag; llama-quantize's type ids and aliases; operands in
 *              both forms;
 *   sink:      a sink of its own sees every tensor declared before begin,
 *              with its HF name, and the f32 rows it asked for.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "formats/gguf.h"
#include "quant/overrides.h"
#include "quant/qargs.h"
#include "quant/quantize.h"
#include "quant/source.h"
#include "quant_listing.h"
#include "testutil.h"

static char *model_dir(const char *kit)
{
    char *rel = tu_fmt("models/%s", kit), *p = tu_data(rel);
    free(rel);
    return p;
}

static char *golden(const char *kit, const char *file)
{
    char *rel = tu_fmt("golden/%s/%s", kit, file), *p = tu_data(rel);
    free(rel);
    return p;
}

static struct ckpt_qsrc *open_src(const char *path)
{
    struct ckpt_qsrc *src = NULL;
    ckpt_err err = {0};
    ckpt_status st = access(path, F_OK) == 0 && strstr(path, ".gguf")
                         ? ckpt_qsrc_open_gguf(&src, path, &err)
                         : ckpt_qsrc_open_hf(&src, path, false, &err);
    ck_assert_msg(st == CKPT_OK, "%s", err.msg);
    return src;
}

/* ==== oracle ==== */

static const struct {
    const char *from, *to;
    const char *types[3];
    const char *file_type;
} morphs[] = {
    {"Q3_K_M", "Q3_K_L", {"attn_v=q5_K", "ffn_down=q5_K", "attn_output=Q5_K"},
     "general.file_type=int:13"},
    {"Q4_K_M", "Q4_K_S", {"attn_v=q5_K", "ffn_down=q4_K", NULL}, "general.file_type=int:14"},
};

/* _i: kit (bit 0) x morph (bit 1) */
START_TEST(tensor_types_make_another_mix)
{
    const char *kit = _i & 1 ? "tiny-mixtral" : "tiny-mistral";
    const size_t m = (size_t)_i >> 1;
    char *in = model_dir(kit), *dir = tu_tmpdir(), *out = tu_fmt("%s/q.gguf", dir);
    ckpt_qtt *tt = NULL;
    struct ckpt_quant_kvs kvs = {0};
    ckpt_err err = {0};
    for (int k = 0; k < 3 && morphs[m].types[k]; k++)
        ck_assert_int_eq(ckpt_qtt_add(&tt, morphs[m].types[k], &err), CKPT_OK);
    ck_assert_int_eq(ckpt_quant_kvs_add(&kvs, morphs[m].file_type, &err), CKPT_OK);
    struct ckpt_qsrc *src = open_src(in);
    struct ckpt_quant_opts o = {.mix = (ckpt_mix)ckpt_mix_parse(morphs[m].from),
                                .output_type = -1, .token_embd_type = -1, .tensor_types = tt,
                                .kv = kvs.kv, .n_kv = kvs.n, .output = out, .n_threads = 2};
    ck_assert_msg(ckpt_quant_run(src, &o, NULL, &err) == CKPT_OK, "%s", err.msg);
    char *want_name = tu_fmt("quant-%s.gguf", morphs[m].to);
    char *want = ql_summary_sha(kit, want_name), *got = ql_file_sha(out);
    ck_assert_ptr_nonnull(want);
    ck_assert_msg(strcmp(got, want) == 0, "%s: %s with patterns is not llama-quantize's %s", kit,
                  morphs[m].from, morphs[m].to);
    free(want_name);
    free(want);
    free(got);
    ckpt_qsrc_close(src);
    ckpt_qtt_free(tt);
    ckpt_quant_kvs_free(&kvs);
    free(in);
    free(out);
    tu_rmtree(dir);
    free(dir);
}
END_TEST

START_TEST(leave_output_tensor)
{
    const char *kit = "tiny-mistral";
    char *in = golden(kit, "convert-f16.gguf"), *dir = tu_tmpdir();
    char *out = tu_fmt("%s/q.gguf", dir);
    struct ckpt_qsrc *src = open_src(in);
    struct ckpt_quant_opts o = {.mix = CKPT_MIX_Q4_K_M, .output_type = CKPT_TYPE_Q8_0,
                                .token_embd_type = -1, .leave_output = true, .output = out};
    ckpt_err err = {0};
    ck_assert_msg(ckpt_quant_run(src, &o, NULL, &err) == CKPT_OK, "%s", err.msg);
    ckpt_gguf *gi = NULL, *go = NULL;
    ck_assert_int_eq(ckpt_gguf_open(&gi, in, &err), CKPT_OK);
    ck_assert_int_eq(ckpt_gguf_open(&go, out, &err), CKPT_OK);
    struct ql_listing want = ql_load(kit, "quant-Q4_K_M-from-f16.tensors.tsv");
    ck_assert_uint_eq(ckpt_gguf_n_tensors(go), want.n);
    for (size_t i = 0; i < ckpt_gguf_n_tensors(go); i++) {
        const struct ckpt_gguf_tensor *t = ckpt_gguf_tensor(go, i);
        char hex[65];
        ck_assert(tu_sha256_hex(t->data, t->n_bytes, hex) == 0);
        if (strcmp(t->name, "output.weight") == 0) { /* as the input has it */
            const struct ckpt_gguf_tensor *u = ckpt_gguf_find_tensor(gi, t->name);
            ck_assert_int_eq(t->type, u->type);
            ck_assert_uint_eq(t->n_bytes, u->n_bytes);
            ck_assert(memcmp(t->data, u->data, t->n_bytes) == 0);
        } else {
            ck_assert_str_eq(hex, ql_find(&want, t->name)->sha);
        }
    }
    ql_free(&want);
    ckpt_gguf_close(gi);
    ckpt_gguf_close(go);
    ckpt_qsrc_close(src);
    free(in);
    free(out);
    tu_rmtree(dir);
    free(dir);
}
END_TEST

/* The fallbacks column of quant-summary.tsv for `file`: count and
 * "q2_K->iq4_nl" pairs. */
static size_t golden_fallbacks(const char *kit, const char *file, size_t *pair_n,
                               const char *from, const char *to)
{
    char *path = golden(kit, "quant-summary.tsv"), *text = tu_read_file(path, NULL);
    char *pair = tu_fmt(":%s->%s", from, to);
    size_t n = 0;
    *pair_n = 0;
    for (char *cur = text, *line; (line = tu_next_line(&cur));) {
        if (strncmp(line, file, strlen(file)) != 0 || line[strlen(file)] != '\t')
            continue;
        char *col = strrchr(line, '\t') + 1;
        for (char *p = col; *p; p++)
            n += *p == ',';
        n += strcmp(col, "-") != 0;
        for (char *p = col; (p = strstr(p, pair)); p++)
            ++*pair_n;
    }
    free(pair);
    free(text);
    free(path);
    return n;
}

START_TEST(fallback_summary)
{
    char *in = golden("tiny-mixtral", "convert-f16.gguf"), *dir = tu_tmpdir();
    char *out = tu_fmt("%s/q.gguf", dir);
    struct ckpt_qsrc *src = open_src(in);
    struct ckpt_quant_opts o = {.mix = CKPT_MIX_Q2_K, .output_type = -1, .token_embd_type = -1,
                                .output = out};
    struct ckpt_quant_report rep;
    ckpt_err err = {0};
    ck_assert_msg(ckpt_quant_run(src, &o, &rep, &err) == CKPT_OK, "%s", err.msg);
    size_t n2, n3;
    const size_t want = golden_fallbacks("tiny-mixtral", "quant-Q2_K.gguf", &n2, "q2_K", "iq4_nl");
    golden_fallbacks("tiny-mixtral", "quant-Q2_K.gguf", &n3, "q3_K", "iq4_nl");
    ck_assert_uint_eq(want, 25);
    ck_assert_uint_eq(rep.n_fallback, want);
    char buf[512], *line = tu_fmt("%zu tensors fell back to another type (rows not a multiple "
                                  "of 256): %zu q2_K->iq4_nl, %zu q3_K->iq4_nl", want, n2, n3);
    ck_assert_uint_eq(ckpt_quant_report_fallbacks(&rep, buf, sizeof buf), want);
    ck_assert_str_eq(buf, line);
    free(line);
    ckpt_quant_report_free(&rep);
    /* none: no line */
    o.mix = CKPT_MIX_Q8_0;
    o.force = true;
    ck_assert_int_eq(ckpt_quant_run(src, &o, &rep, &err), CKPT_OK);
    ck_assert_uint_eq(ckpt_quant_report_fallbacks(&rep, buf, sizeof buf), 0);
    ck_assert_str_eq(buf, "");
    ckpt_quant_report_free(&rep);
    ckpt_qsrc_close(src);
    free(in);
    free(out);
    tu_rmtree(dir);
    free(dir);
}
END_TEST

/* ==== semantics ==== */

START_TEST(tensor_type_patterns)
{
    ckpt_qtt *tt = NULL;
    ckpt_err err = {0};
    ck_assert_int_eq(ckpt_qtt_add(&tt, "ATTN=q8_0", &err), CKPT_OK);
    ck_assert_int_eq(ckpt_qtt_add(&tt, "attn_v=q4_0", &err), CKPT_OK);
    ck_assert_int_eq(ckpt_qtt_add(&tt, "blk\\.\\d+\\.ffn_(up|gate)=q6_K", &err), CKPT_OK);
    ck_assert_int_eq(ckpt_qtt_match(tt, "blk.3.attn_v.weight"), CKPT_TYPE_Q8_0); /* first wins */
    ck_assert_int_eq(ckpt_qtt_match(tt, "blk.12.ffn_gate_exps.weight"), CKPT_TYPE_Q6_K);
    ck_assert_int_eq(ckpt_qtt_match(tt, "blk.1.ffn_down.weight"), -1);
    ck_assert_int_eq(ckpt_qtt_match(NULL, "output.weight"), -1);
    static const char *bad[][2] = {
        {"attn_v", "not NAME=TYPE"},      {"=q8_0", "no tensor name"},
        {"attn_v=", "no type"},           {"attn_v=q9_K", "unknown type 'q9_K'"},
        {"attn_v=iq2_xs", "cannot write"}, {"blk.(=q8_0", "bad pattern"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ckpt_err_clear(&err);
        ck_assert_int_eq(ckpt_qtt_add(&tt, bad[i][0], &err), CKPT_E_USAGE);
        ck_assert_msg(strstr(err.msg, bad[i][1]) && strstr(err.msg, bad[i][0]), "%s", err.msg);
    }
    ckpt_qtt_free(tt);
}
END_TEST

START_TEST(override_kv_syntax)
{
    struct ckpt_quant_kvs l = {0};
    ckpt_err err = {0};
    static const char *good[] = {"a.int=int:-7", "a.float=float:0.5", "a.yes=bool:true",
                                 "a.no=bool:false", "general.name=str:x=y:z", "e=str:"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        ck_assert_msg(ckpt_quant_kvs_add(&l, good[i], &err) == CKPT_OK, "%s", err.msg);
    ck_assert_uint_eq(l.n, 6);
    ck_assert_str_eq(l.kv[0].key, "a.int");
    ck_assert_int_eq(l.kv[0].type, CKPT_GGUF_UINT32); /* llama.cpp: u32 of |v| */
    ck_assert_uint_eq(l.kv[0].v.u32, 7);
    ck_assert_int_eq(l.kv[1].type, CKPT_GGUF_FLOAT32);
    ck_assert(l.kv[1].v.f32 == 0.5f);
    ck_assert(l.kv[2].type == CKPT_GGUF_BOOL && l.kv[2].v.b && !l.kv[3].v.b);
    ck_assert_str_eq(l.kv[4].key, "general.name");
    ck_assert_str_eq(l.kv[4].v.str, "x=y:z");
    ck_assert_str_eq(l.kv[5].v.str, "");
    char long_str[200];
    memset(long_str, 'x', sizeof long_str);
    memcpy(long_str, "k=str:", 6);
    long_str[6 + 128] = '\0'; /* 128 bytes of value: one too many */
    const char *bad[] = {"novalue", "=int:1", "k=int", "k=int:x", "k=uint:1", "k=bool:yes",
                         "k=float:nan", long_str};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ckpt_err_clear(&err);
        ck_assert_int_eq(ckpt_quant_kvs_add(&l, bad[i], &err), CKPT_E_USAGE);
        ck_assert_ptr_nonnull(strstr(err.msg, "--override-kv"));
    }
    ck_assert_uint_eq(l.n, 6);
    ckpt_quant_kvs_free(&l);
}
END_TEST

/* A set key leaves its place and comes after file_type, in the order given;
 * a new one is appended after it. */
START_TEST(override_kv_moves_key)
{
    char *in = golden("tiny-mistral", "convert-f16.gguf"), *dir = tu_tmpdir();
    char *out = tu_fmt("%s/q.gguf", dir);
    struct ckpt_quant_kvs l = {0};
    ckpt_err err = {0};
    ck_assert_int_eq(ckpt_quant_kvs_add(&l, "general.name=str:renamed", &err), CKPT_OK);
    ck_assert_int_eq(ckpt_quant_kvs_add(&l, "x.flag=bool:true", &err), CKPT_OK);
    struct ckpt_qsrc *src = open_src(in);
    struct ckpt_quant_opts o = {.mix = CKPT_MIX_Q8_0, .output_type = -1, .token_embd_type = -1,
                                .kv = l.kv, .n_kv = l.n, .output = out};
    ck_assert_msg(ckpt_quant_run(src, &o, NULL, &err) == CKPT_OK, "%s", err.msg);
    ckpt_gguf *g = NULL;
    ck_assert_int_eq(ckpt_gguf_open(&g, out, &err), CKPT_OK);
    const size_t n = ckpt_gguf_n_kv(g);
    ck_assert_uint_eq(n, ckpt_gguf_n_kv(src->meta) + 1);
    ck_assert_str_eq(ckpt_gguf_kv_at(g, n - 4)->key, "general.quantization_version");
    ck_assert_str_eq(ckpt_gguf_kv_at(g, n - 3)->key, "general.file_type");
    ck_assert_str_eq(ckpt_gguf_kv_at(g, n - 2)->key, "general.name");
    ck_assert_str_eq(ckpt_gguf_kv_at(g, n - 2)->v.str.str, "renamed");
    ck_assert_str_eq(ckpt_gguf_kv_at(g, n - 1)->key, "x.flag");
    ckpt_gguf_close(g);
    ckpt_qsrc_close(src);
    ckpt_quant_kvs_free(&l);
    free(in);
    free(out);
    tu_rmtree(dir);
    free(dir);
}
END_TEST

START_TEST(requantize_refused)
{
    char *in = golden("tiny-mistral", "quant-Q4_K_M.gguf"), *dir = tu_tmpdir();
    char *out = tu_fmt("%s/q.gguf", dir);
    struct ckpt_qsrc *src = open_src(in);
    struct ckpt_quant_opts o = {.mix = CKPT_MIX_Q6_K, .output_type = -1, .token_embd_type = -1,
                                .refuse_requantize = true, .output = out};
    ckpt_err err = {0};
    ck_assert_int_eq(ckpt_quant_run(src, &o, NULL, &err), CKPT_E_USAGE);
    ck_assert_ptr_nonnull(strstr(err.msg, "--allow-requantize"));
    ck_assert_ptr_nonnull(strstr(err.msg, "already quantized"));
    ck_assert_int_ne(access(out, F_OK), 0);
    o.mix = CKPT_MIX_Q4_K_M; /* the input's own mix: every tensor copied, nothing refused */
    ck_assert_msg(ckpt_quant_run(src, &o, NULL, &err) == CKPT_OK, "%s", err.msg);
    ckpt_qsrc_close(src);
    free(in);
    free(out);
    tu_rmtree(dir);
    free(dir);
}
END_TEST

/* llama-quantize's QUANT_OPTIONS: names, aliases, ids (llama_ftype). */
START_TEST(mix_names_and_ids)
{
    static const struct {
        const char *arg;
        int mix;
    } cases[] = {
        {"15", CKPT_MIX_Q4_K_M}, {"7", CKPT_MIX_Q8_0},   {"0", CKPT_MIX_F32},
        {"1", CKPT_MIX_F16},     {"32", CKPT_MIX_BF16},  {"2", CKPT_MIX_Q4_0},
        {"10", CKPT_MIX_Q2_K},   {"12", CKPT_MIX_Q3_K_M}, {"18", CKPT_MIX_Q6_K},
        {"q4_k", CKPT_MIX_Q4_K_M}, {"Q5_K", CKPT_MIX_Q5_K_M}, {"Q3_K", CKPT_MIX_Q3_K_M},
        {"q5_k_s", CKPT_MIX_Q5_K_S}, {"30", -1}, {"IQ4_XS", -1}, {"99", -1}, {"15x", -1},
        {"-15", -1}, {"", -1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        ck_assert_msg(ckpt_mix_parse(cases[i].arg) == cases[i].mix, "'%s'", cases[i].arg);
    char buf[1024];
    ck_assert_ptr_nonnull(strstr(ckpt_mix_explain("30", buf, sizeof buf), "IQ4_XS"));
    ck_assert_ptr_nonnull(strstr(buf, "not produced by ckpt"));
    ck_assert_ptr_nonnull(strstr(ckpt_mix_explain("iq2_xxs", buf, sizeof buf), "IQ2_XXS"));
    ckpt_mix_explain("Q4_K_X", buf, sizeof buf);
    ck_assert_ptr_nonnull(strstr(buf, "unknown mix 'Q4_K_X'"));
    ck_assert_ptr_nonnull(strstr(buf, "Q4_K_M (15)"));
    ck_assert_ptr_nonnull(strstr(buf, "TQ1_0"));
    ck_assert_ptr_nonnull(strstr(buf, "MXFP4_MOE"));
    ckpt_mix_explain("Q4_K_X", buf, 20); /* truncated, terminated */
    ck_assert_uint_eq(strlen(buf), 19);
}
END_TEST

START_TEST(operands)
{
    struct ckpt_quant_operands o;
    ckpt_err err = {0};
    char *a1[] = {"m/in.gguf", "out.gguf", "Q4_K_M", "3"};
    ck_assert_int_eq(ckpt_quant_operands_read(&o, 4, a1, 0, &err), CKPT_OK);
    ck_assert_str_eq(o.output, "out.gguf");
    ck_assert_int_eq(o.mix, CKPT_MIX_Q4_K_M);
    ck_assert_int_eq(o.n_threads, 3);
    ckpt_quant_operands_free(&o);
    char *a2[] = {"m/in.gguf", "7"};
    ck_assert_int_eq(ckpt_quant_operands_read(&o, 2, a2, 0, &err), CKPT_OK);
    ck_assert_str_eq(o.output, "m/ggml-model-Q8_0.gguf"); /* llama-quantize's name */
    ck_assert_int_eq(o.n_threads, -1);
    ckpt_quant_operands_free(&o);
    char *a3[] = {"in.gguf"};
    ck_assert_int_eq(ckpt_quant_operands_read(&o, 1, a3, 1, &err), CKPT_OK);
    ck_assert_ptr_null(o.output);
    ck_assert_int_eq(o.mix, -1);
    ckpt_quant_operands_free(&o);
    static const struct {
        int n, have_mix;
        const char *args[5];
        const char *msg;
    } bad[] = {
        {0, 0, {NULL}, "no input"},
        {1, 0, {"in"}, "no mix"},
        {2, 1, {"in", "out"}, "one input only"},
        {2, 0, {"in", "out"}, "no TYPE"},
        {3, 0, {"in", "out", "IQ1_S"}, "not produced by ckpt"},
        {4, 0, {"in", "out", "Q8_0", "x"}, "not a thread count"},
        {5, 0, {"in", "out", "Q8_0", "2", "extra"}, "too many operands"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ckpt_err_clear(&err);
        ck_assert_int_eq(ckpt_quant_operands_read(&o, bad[i].n, (char *const *)bad[i].args,
                                                  bad[i].have_mix, &err),
                         CKPT_E_USAGE);
        ck_assert_msg(strstr(err.msg, bad[i].msg), "%zu: %s", i, err.msg);
        ckpt_quant_operands_free(&o);
    }
}
END_TEST

/* ==== a sink of its own ==== */

struct probe {
    size_t declared, rows_calls, next_k;
    bool begun, finished, in_order, hf_names;
    uint64_t *bytes, *want;
};

static ckpt_status p_declare(void *ctx, size_t k, const struct ckpt_qsink_tensor *t,
                             ckpt_type *rows_type, ckpt_err *err)
{
    struct probe *p = ctx;
    p->in_order &= k == p->declared++ && !p->begun;
    p->hf_names &= t->hf_name && (strncmp(t->hf_name, "model.", 6) == 0 ||
                                  strcmp(t->hf_name, "lm_head.weight") == 0);
    /* f32 rows of every matrix, the chosen type otherwise */
    *rows_type = t->matrix ? CKPT_TYPE_F32 : t->type;
    size_t rb;
    ckpt_type_row_bytes(*rows_type, t->ne[0], &rb);
    p->want[k] = rb * (uint64_t)(t->ne[1] * t->ne[2] * t->ne[3]);
    return CKPT_OK;
}

static ckpt_status p_begin(void *ctx, uint64_t *planned, ckpt_err *err)
{
    struct probe *p = ctx;
    p->begun = true;
    *planned = 0;
    return CKPT_OK;
}

static ckpt_status p_rows(void *ctx, size_t k, int64_t row, int64_t n, const void *data,
                          size_t size, ckpt_err *err)
{
    struct probe *p = ctx;
    p->in_order &= p->begun && k >= p->next_k;
    p->next_k = k;
    p->bytes[k] += size;
    p->rows_calls++;
    return CKPT_OK;
}

static ckpt_status p_finish(void *ctx, ckpt_err *err)
{
    ((struct probe *)ctx)->finished = true;
    return CKPT_OK;
}

static void p_abort(void *ctx)
{
    (void)ctx;
}

START_TEST(custom_sink)
{
    static const struct ckpt_qsink_ops ops = {p_declare, p_begin, p_rows, p_finish, p_abort};
    char *in = model_dir("tiny-mixtral");
    struct ckpt_qsrc *src = open_src(in);
    struct probe p = {.in_order = true, .hf_names = true};
    p.bytes = calloc(src->n_tensors, sizeof *p.bytes);
    p.want = calloc(src->n_tensors, sizeof *p.want);
    struct ckpt_qsink sink = {&ops, &p};
    struct ckpt_quant_opts o = {.mix = CKPT_MIX_Q4_K_M, .output_type = -1, .token_embd_type = -1,
                                .n_threads = 2};
    struct ckpt_quant_report rep;
    ckpt_err err = {0};
    ck_assert_msg(ckpt_quant_run_sink(src, &o, &sink, &rep, &err) == CKPT_OK, "%s", err.msg);
    ck_assert(p.finished && p.in_order && p.hf_names);
    ck_assert_uint_eq(p.declared, src->n_tensors);
    for (size_t k = 0; k < p.declared; k++)
        ck_assert_uint_eq(p.bytes[k], p.want[k]);
    ck_assert_uint_eq(rep.n_fallback, 25); /* the plan is the sink's to see, not to change */
    ckpt_quant_report_free(&rep);
    free(p.bytes);
    free(p.want);
    ckpt_qsrc_close(src);
    free(in);
}
END_TEST

Suite *quantsink_suite(void)
{
    Suite *s = suite_create("quantsink");
    TCase *tc = tcase_create("oracle");
    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, tensor_types_make_another_mix, 0, 4);
    tcase_add_test(tc, leave_output_tensor);
    tcase_add_test(tc, fallback_summary);
    suite_add_tcase(s, tc);
    tc = tcase_create("semantics");
    tcase_add_test(tc, tensor_type_patterns);
    tcase_add_test(tc, override_kv_syntax);
    tcase_add_test(tc, override_kv_moves_key);
    tcase_add_test(tc, requantize_refused);
    tcase_add_test(tc, mix_names_and_ids);
    tcase_add_test(tc, operands);
    suite_add_tcase(s, tc);
    tc = tcase_create("sink");
    tcase_add_test(tc, custom_sink);
    suite_add_tcase(s, tc);
    return s;
}
