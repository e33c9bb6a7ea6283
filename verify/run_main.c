/*
 * run_main.c - ckpt-run: generate text (or token ids) from a Hugging Face
 * model directory or a GGUF file with the reference forward pass.  Greedy
 * by default; seeded sampling with --temp.  The continuation is streamed
 * to stdout; statistics go to stderr with -v.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "formats/model_load.h"
#include "formats/tokenizer.h"
#include "kernels/membw.h"
#include "kernels/model.h"
#include "kernels/ops.h"
#include "verify/run.h"
#include "verify/tokenize.h"

enum {
    OPT_IDS = 256, OPT_TOKENIZER, OPT_TEMP, OPT_TOPK, OPT_TOPP, OPT_SEED, OPT_NOEOS, OPT_SWA,
    OPT_ISA, OPT_ARGMAX, OPT_TOKENIZE, OPT_DETOKENIZE, OPT_PARSE_SPECIAL
};

static const struct option longopts[] = {
    {"prompt", required_argument, NULL, 'p'},   {"tokens", required_argument, NULL, 'n'},
    {"ids", no_argument, NULL, OPT_IDS},         {"argmax", no_argument, NULL, OPT_ARGMAX},
    {"tokenize", no_argument, NULL, OPT_TOKENIZE},
    {"detokenize", no_argument, NULL, OPT_DETOKENIZE},
    {"parse-special", no_argument, NULL, OPT_PARSE_SPECIAL},
    {"tokenizer", required_argument, NULL, OPT_TOKENIZER},
    {"temp", required_argument, NULL, OPT_TEMP}, {"top-k", required_argument, NULL, OPT_TOPK},
    {"top-p", required_argument, NULL, OPT_TOPP}, {"seed", required_argument, NULL, OPT_SEED},
    {"ignore-eos", no_argument, NULL, OPT_NOEOS},
    {"sliding-window", required_argument, NULL, OPT_SWA},
    {"isa", required_argument, NULL, OPT_ISA},
    {NULL, 0, NULL, 0},
};

static const struct ckpt_cli_tool tool = {
    .name = "ckpt-run",
    .usage = "ckpt-run [OPTION]... MODEL|- -p TEXT\n"
             "       ckpt-run --tokenize -p TEXT MODEL|TOKENIZER\n"
             "       ckpt-run --detokenize -p IDS MODEL|TOKENIZER",
    .about = "Generate a continuation of TEXT with the reference forward pass.\n"
             "MODEL is a Hugging Face model directory or a GGUF file ('-': a GGUF on\n"
             "standard input).",
    .options =
        "  -p, --prompt TEXT       the prompt (token ids with --ids)\n"
        "  -n, --tokens N          tokens to generate (default 32)\n"
        "      --ids               read and print token ids instead of text\n"
        "      --tokenize          print the token ids of TEXT on one line and exit (no\n"
        "                          weights are read: a vocab-only GGUF or a tokenizer will do)\n"
        "      --detokenize        print the text of the token ids IDS and exit (control\n"
        "                          tokens leave nothing; no weights are read)\n"
        "      --parse-special     the text of control tokens ([INST], <s>, ...) in the\n"
        "                          prompt becomes their ids (default: it stays text)\n"
        "      --argmax            with --ids: print the most likely next token after each\n"
        "                          prompt position (teacher-forced) instead of generating\n"
        "      --tokenizer PATH    tokenizer directory or file, or a GGUF (default: MODEL's\n"
        "                          directory, or the GGUF's own vocabulary)\n"
        "      --temp T            sampling temperature (default 0: greedy)\n"
        "      --top-k K           sample among the K most likely tokens\n"
        "      --top-p P           sample among the most likely tokens of mass P\n"
        "      --seed S            sampling seed (default 0)\n"
        "      --ignore-eos        do not stop at the end-of-sequence token\n"
        "      --sliding-window W  attention window (0: none; default: config.json, none\n"
        "                          for GGUF)\n"
        "      --isa ISA           forward-pass kernels: avx512, avx2 or scalar (the\n"
        "                          default semantic, q8 activations, the same bits),\n"
        "                          ref (the f32 oracle) or f64\n",
    .shortopts = "p:n:",
    .longopts = longopts,
    .common = CKPT_CLI_OUTPUT | CKPT_CLI_STDOUT | CKPT_CLI_FORCE | CKPT_CLI_REPORT,
    .output_help = "  -o, --output FILE       write the continuation to FILE, whole or not at all\n"
                   "                          ('-': standard output, the default)\n",
    .exit_status = "0 generated, 2 usage error, unreadable model or I/O error\n"
                   "(standard output included).",
};

/* Streaming state: the decoded text of prompt + generated ids is a prefix-
 * stable string, so each step prints what it adds (whole UTF-8 characters). */
struct emitter {
    bool ids_mode;
    const ckpt_tok *tok;
    int32_t *seq;      /* prompt + generated ids */
    int64_t n_seq;
    size_t printed;    /* bytes of decoded text already printed (prompt included) */
    char *buf;
    size_t cap;
    bool first;
    struct ckpt_cli *cli;
};

static size_t complete_utf8(const char *s, size_t n)
{
    size_t i = n, back = 0;
    while (i > 0 && back < 4 && ((unsigned char)s[i - 1] & 0xC0) == 0x80) {
        i--;
        back++;
    }
    if (i == 0)
        return n;
    unsigned char lead = (unsigned char)s[i - 1];
    size_t need = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
    return back + 1 >= need ? n : i - 1;
}

static bool decode_all(struct emitter *e, size_t *len)
{
    for (int tries = 0; tries < 2; tries++) {
        *len = 0;
        if (ckpt_tok_decode(e->tok, e->seq, (size_t)e->n_seq, e->buf, e->cap, len, NULL) == CKPT_OK)
            return true;
        if (*len <= e->cap) /* a failure other than room */
            return false;
        char *nb = realloc(e->buf, *len + 64);
        if (!nb)
            return false;
        e->buf = nb;
        e->cap = *len + 64;
    }
    return false;
}

/* false once standard output failed: generation stops there. */
static bool flush_text(struct emitter *e, bool all)
{
    size_t len;
    if (!decode_all(e, &len))
        return true;
    size_t upto = all ? len : complete_utf8(e->buf, len);
    if (upto > e->printed) {
        bool ok = ckpt_cli_write(e->cli, e->buf + e->printed, upto - e->printed) &&
                  ckpt_cli_flush(e->cli);
        e->printed = upto;
        return ok;
    }
    return true;
}

static bool emit(void *ctx, int32_t id)
{
    struct emitter *e = ctx;
    e->seq[e->n_seq++] = id;
    bool ok = e->ids_mode ? ckpt_cli_printf(e->cli, e->first ? "%d" : " %d", (int)id) &&
                                ckpt_cli_flush(e->cli)
                          : flush_text(e, false);
    e->first = false;
    return ok;
}

static bool parse_ids(const char *s, int32_t *ids, int64_t *n, int64_t cap)
{
    *n = 0;
    while (*s) {
        while (*s == ' ' || *s == ',' || *s == '\t' || *s == '\n')
            s++;
        if (!*s)
            break;
        char *end;
        long v = strtol(s, &end, 10);
        if (end == s || v < 0 || v > INT32_MAX || *n >= cap)
            return false;
        ids[(*n)++] = (int32_t)v;
        s = end;
    }
    return *n > 0;
}

struct params {
    const char *prompt, *tok_path;
    bool ids_mode, argmax, ignore_eos, tokenize, detokenize, parse_special;
    long n_new, top_k, seed, swa, isa;
    double temp, top_p;
};

/* --tokenize: the ids of the prompt on one line; no weights are read. */
static int print_token_ids(struct ckpt_cli *cli, const char *source, const char *text,
                           unsigned flags)
{
    ckpt_err err = {0};
    int32_t *ids;
    size_t n;
    if (ckpt_run_tokenize(source, text, flags, &ids, &n, &err) != CKPT_OK)
        return ckpt_cli_fail(cli, &err);
    for (size_t i = 0; i < n; i++)
        ckpt_cli_printf(cli, i ? " %d" : "%d", (int)ids[i]);
    ckpt_cli_write(cli, "\n", 1);
    free(ids);
    return 0;
}

/* --detokenize: the text of the ids of the prompt; no weights are read. */
static int print_text(struct ckpt_cli *cli, const char *source, const char *prompt)
{
    ckpt_err err = {0};
    size_t cap = strlen(prompt) / 2 + 2, len;
    int64_t n;
    int32_t *ids = malloc(sizeof *ids * cap);
    char *text = NULL;
    if (!ids) {
        ckpt_err_set(&err, CKPT_E_NOMEM, "out of memory");
        return ckpt_cli_fail(cli, &err);
    }
    if (!parse_ids(prompt, ids, &n, (int64_t)cap)) {
        free(ids);
        return ckpt_cli_usage_error(cli, "--detokenize: the prompt must be token ids separated "
                                         "by spaces or commas");
    }
    int rc = 0;
    if (ckpt_run_detokenize(source, ids, (size_t)n, &text, &len, &err) != CKPT_OK)
        rc = ckpt_cli_fail(cli, &err);
    else
        ckpt_cli_write(cli, text, len);
    free(text);
    free(ids);
    return rc;
}

/* Load MODEL, encode the prompt, generate (or score) and print. */
#define PROBE_BYTES ((size_t)256 << 20)

/* -v: the weights a decode step reads, the rate generation read them at,
 * and that rate against what this machine's memory gives (a short probe
 * with as many threads). */
static void report_bandwidth(struct ckpt_cli *cli, const ckpt_model *m, double tok_s)
{
    const double per_token = (double)ckpt_model_bytes_per_token(m), got = per_token * tok_s;
    ckpt_pool *pool = NULL;
    ckpt_err err = {0};
    double bw = 0;
    if (ckpt_pool_new(&pool, cli->threads, &err) == CKPT_OK)
        ckpt_membw_read(pool, PROBE_BYTES, &bw, &err);
    ckpt_pool_free(pool);
    if (bw > 0)
        ckpt_cli_msg(cli, 3,
                     "decode read %.3f GB of weights per token: %.2f GB/s, %.0f%% of the %.2f GB/s "
                     "this machine's memory read in a probe",
                     per_token / 1e9, got / 1e9, 100.0 * got / bw, bw / 1e9);
    else
        ckpt_cli_msg(cli, 3, "decode read %.3f GB of weights per token: %.2f GB/s (%s)",
                     per_token / 1e9, got / 1e9, err.msg);
}

static int run(struct ckpt_cli *cli, const char *model_path, const struct params *p)
{
    const char *prompt = p->prompt, *tok_path = p->tok_path;
    const bool ids_mode = p->ids_mode, argmax = p->argmax;
    /* the prompt as the model is fed it: BOS as the tokenizer says, control
     * token text parsed only when asked */
    const unsigned flags = CKPT_TOK_ADD_SPECIAL | (p->parse_special ? CKPT_TOK_PARSE_SPECIAL : 0);
    const long n_new = p->n_new;
    if (strcmp(model_path, "-") == 0) {
        /* a GGUF on stdin: spooled, then both the weights and the vocabulary read it */
        if (!(model_path = ckpt_cli_stdin_gguf(cli)))
            return 2;
    }
    ckpt_err err = {0};
    if (p->tokenize)
        return print_token_ids(cli, tok_path ? tok_path : model_path, prompt, flags);
    if (p->detokenize)
        return print_text(cli, tok_path ? tok_path : model_path, prompt);
    ckpt_weights *w = NULL;
    ckpt_tok *tok = NULL;
    ckpt_model *m = NULL;
    int32_t *seq = NULL;
    struct emitter em = {.ids_mode = ids_mode, .first = true, .cli = cli};
    int rc = 2;
    struct ckpt_weights_opts wo = {.sliding_window = p->swa};
    if (ckpt_weights_open(&w, model_path, &wo, &err) != CKPT_OK)
        goto fail;
    ckpt_weights_populate(w); /* every step reads every matrix: no first-touch faults in them */
    const struct ckpt_model_config *cfg = ckpt_weights_config(w);
    size_t plen = strlen(prompt), cap = ids_mode ? plen / 2 + 2 : ckpt_tok_encode_max(plen);
    if (cap == SIZE_MAX || !(seq = malloc(sizeof(int32_t) * (cap + (size_t)n_new + 1)))) {
        ckpt_err_set(&err, CKPT_E_NOMEM, "out of memory");
        goto fail;
    }
    int64_t n_prompt = 0;
    if (ids_mode) {
        if (!parse_ids(prompt, seq, &n_prompt, (int64_t)cap)) {
            rc = ckpt_cli_usage_error(cli, "--ids: the prompt must be token ids separated by "
                                            "spaces or commas");
            goto out;
        }
    } else {
        size_t n_ids;
        if (ckpt_tok_load_any(&tok, tok_path ? tok_path : model_path, &err) != CKPT_OK ||
            ckpt_tok_encode(tok, prompt, plen, flags, seq, cap, &n_ids, &err) != CKPT_OK)
            goto fail;
        n_prompt = (int64_t)n_ids;
        if (n_prompt == 0) {
            rc = ckpt_cli_usage_error(cli, "the prompt encodes to no tokens");
            goto out;
        }
    }
    struct ckpt_model_opts mo = {.n_ctx = n_prompt + (argmax ? 0 : n_new),
                                 .n_threads = cli->threads,
                                 .isa = (int)p->isa};
    if (ckpt_model_new(&m, cfg, ckpt_weights_views(w), &mo, &err) != CKPT_OK)
        goto fail;
    em.tok = tok;
    em.seq = seq;
    em.n_seq = n_prompt;
    if (!ids_mode) { /* the prompt's own text is not printed again */
        size_t len;
        if (decode_all(&em, &len))
            em.printed = len;
    }
    struct ckpt_run_opts ro = {.n_new = n_new, .temperature = (float)p->temp,
                               .top_k = (int)p->top_k, .top_p = (float)p->top_p,
                               .seed = (uint64_t)p->seed,
                               .stop_id = p->ignore_eos ? -1 : cfg->eos_id};
    struct ckpt_run_stats rs;
    if (argmax) { /* teacher-forced: one batched evaluation, every row */
        float *lg = malloc(sizeof(float) * (size_t)n_prompt * (size_t)cfg->n_vocab);
        if (!lg || ckpt_model_eval(m, seq, n_prompt, lg, true, &err) != CKPT_OK) {
            free(lg);
            ckpt_err_set(&err, CKPT_E_NOMEM, "out of memory");
            goto fail;
        }
        for (int64_t t = 0; t < n_prompt; t++)
            ckpt_cli_printf(cli, t ? " %d" : "%d",
                            (int)ckpt_ops_argmax(lg + t * cfg->n_vocab, cfg->n_vocab));
        free(lg);
        ckpt_cli_printf(cli, "\n");
        rc = 0;
        goto out;
    }
    if (n_new > 0 && ckpt_run_generate(m, seq, n_prompt, &ro, emit, &em, &rs, &err) != CKPT_OK &&
        !cli->out_errno) /* a reader that went away stops generation: finish reports it */
        goto fail;
    if (!ids_mode)
        flush_text(&em, true);
    ckpt_cli_printf(cli, "\n");
    if (n_new > 0 && !cli->out_errno)
        ckpt_cli_msg(cli, 3,
                     "prompt %lld tokens in %.3f s (%.1f tok/s); generated %lld tokens in %.3f s "
                     "(%.1f tok/s); isa %s (%s), threads %d; logits #%08x",
                     (long long)rs.n_prompt, rs.prompt_s, rs.n_prompt / (rs.prompt_s + 1e-12),
                     (long long)rs.n_gen, rs.gen_s,
                     rs.n_gen > 1 ? (rs.n_gen - 1) / (rs.gen_s + 1e-12) : 0.0,
                     ckpt_isa_name(ckpt_model_isa(m)), ckpt_isa_semantic(ckpt_model_isa(m)),
                     cli->threads > 0 ? cli->threads : ckpt_pool_default_threads(),
                     rs.logits_hash);
    if (n_new > 1 && !cli->out_errno && cli->level >= 3)
        report_bandwidth(cli, m, (double)(rs.n_gen - 1) / (rs.gen_s + 1e-12));
    rc = 0;
    goto out;
fail:
    rc = ckpt_cli_fail(cli, &err);
out:
    ckpt_model_free(m);
    ckpt_tok_free(tok);
    ckpt_weights_close(w);
    free(seq);
    free(em.buf);
    return rc;
}

int main(int argc, char **argv)
{
    struct ckpt_cli cli;
    if (!ckpt_cli_init(&cli, &tool))
        return 2;
    struct params p = {.n_new = 32, .swa = -1, .isa = -1, .top_p = 1};
    long v;
    int c;
    bool ok = true;
    while (ok && (c = ckpt_cli_getopt(&cli, argc, argv)) >= 0) {
        const char *a = optarg;
        switch (c) {
        case 'p': p.prompt = a; break;
        case 'n': ok = ckpt_cli_parse_int(a, 0, 1 << 20, &p.n_new); break;
        case OPT_IDS: p.ids_mode = true; break;
        case OPT_ARGMAX: p.argmax = true; break;
        case OPT_TOKENIZE: p.tokenize = true; break;
        case OPT_DETOKENIZE: p.detokenize = true; break;
        case OPT_PARSE_SPECIAL: p.parse_special = true; break;
        case OPT_TOKENIZER: p.tok_path = a; break;
        case OPT_TEMP: ok = ckpt_cli_parse_double(a, &p.temp) && p.temp >= 0; break;
        case OPT_TOPK: ok = ckpt_cli_parse_int(a, 0, 1L << 30, &p.top_k); break;
        case OPT_TOPP:
            ok = ckpt_cli_parse_double(a, &p.top_p) && p.top_p > 0 && p.top_p <= 1;
            break;
        case OPT_SEED: ok = ckpt_cli_parse_int(a, 0, LONG_MAX, &p.seed); break;
        case OPT_NOEOS: p.ignore_eos = true; break;
        case OPT_SWA: ok = ckpt_cli_parse_int(a, 0, 1L << 30, &p.swa); break;
        case OPT_ISA:
            v = ckpt_isa_from_name(a);
            ok = v >= 0 && ckpt_isa_available((ckpt_isa)v);
            p.isa = v;
            break;
        }
        if (!ok) { /* the option is the word before its value, or the word holding both */
            const char *opt = argv[optind - 1] == a ? argv[optind - 2] : argv[optind - 1];
            return ckpt_cli_finish(&cli, ckpt_cli_usage_error(&cli, "bad value '%s' for %s", a,
                                                              opt));
        }
    }
    if (c == CKPT_CLI_EXIT)
        return ckpt_cli_finish(&cli, cli.exit);
    if (optind != argc - 1)
        return ckpt_cli_finish(&cli, ckpt_cli_usage_error(&cli, optind < argc
                                                                    ? "one MODEL expected"
                                                                    : "no MODEL given"));
    if (!p.prompt)
        return ckpt_cli_finish(&cli, ckpt_cli_usage_error(&cli, "no prompt given (-p TEXT)"));
    if (p.argmax && !p.ids_mode)
        return ckpt_cli_finish(&cli, ckpt_cli_usage_error(&cli, "--argmax needs --ids"));
    if (p.tokenize && p.detokenize)
        return ckpt_cli_finish(&cli, ckpt_cli_usage_error(&cli, "--tokenize and --detokenize "
                                                                "exclude each other"));
    return ckpt_cli_finish(&cli, run(&cli, argv[optind], &p));
}
