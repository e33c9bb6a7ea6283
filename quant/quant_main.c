/*
 * quant_main.c - ckpt-quant: quantize a model to one of llama-quantize's
 * mixes, byte for byte what llama-quantize writes.  Parses options, opens
 * the source, calls ckpt_quant_run, reports.
 */
#include "../arch/gguf_keys.h"
#include "../cli/cli.h"
#include "../formats/ct.h"
#include "../formats/hubcache.h"
#include "../formats/path.h"
#include "../kernels/types.h"
#include "calib.h"
#include "ct_opts.h"
#include "ct_scheme.h"
#include "imatrix.h"
#include "optimize_apply.h"
#include "overrides.h"
#include "plan.h"
#include "qargs.h"
#include "quantize.h"
#include "recipe.h"
#include "report_json.h"
#include "ct_run.h"
#include "source.h"

#include <getopt.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int cmd_quant(int argc, char **argv);

enum {
    OPT_IMATRIX = 256, OPT_PURE, OPT_OUT_TYPE, OPT_EMB_TYPE, OPT_NO_PROV, OPT_CALIB,
    OPT_CALIB_CTX, OPT_CALIB_CHUNKS, OPT_IMATRIX_OUT, OPT_TENSOR_TYPE, OPT_OVERRIDE_KV,
    OPT_LEAVE_OUTPUT, OPT_ALLOW_REQUANT, OPT_KEEP_SPLIT, OPT_GROUP_SIZE, OPT_MAX_SHARD,
    OPT_SCALE_SEARCH, OPT_OPTIMIZE, OPT_TARGET_BPW, OPT_TARGET_SIZE, OPT_REPORT, OPT_GPTQ
};

static const struct option longopts[] = {
    {"type", required_argument, NULL, 't'},
    {"imatrix", required_argument, NULL, OPT_IMATRIX},
    {"calib", required_argument, NULL, OPT_CALIB},
    {"calib-ctx", required_argument, NULL, OPT_CALIB_CTX},
    {"calib-chunks", required_argument, NULL, OPT_CALIB_CHUNKS},
    {"imatrix-out", required_argument, NULL, OPT_IMATRIX_OUT},
    {"pure", no_argument, NULL, OPT_PURE},
    {"output-tensor-type", required_argument, NULL, OPT_OUT_TYPE},
    {"token-embedding-type", required_argument, NULL, OPT_EMB_TYPE},
    {"no-provenance", no_argument, NULL, OPT_NO_PROV},
    {"tensor-type", required_argument, NULL, OPT_TENSOR_TYPE},
    {"override-kv", required_argument, NULL, OPT_OVERRIDE_KV},
    {"leave-output-tensor", no_argument, NULL, OPT_LEAVE_OUTPUT},
    {"allow-requantize", no_argument, NULL, OPT_ALLOW_REQUANT},
    {"keep-split", no_argument, NULL, OPT_KEEP_SPLIT},
    {"group-size", required_argument, NULL, OPT_GROUP_SIZE},
    {"max-shard-size", required_argument, NULL, OPT_MAX_SHARD},
    {"scale-search", no_argument, NULL, OPT_SCALE_SEARCH},
    {"optimize", no_argument, NULL, OPT_OPTIMIZE},
    {"target-bpw", required_argument, NULL, OPT_TARGET_BPW},
    {"target-size", required_argument, NULL, OPT_TARGET_SIZE},
    {"report", no_argument, NULL, OPT_REPORT},
    {"gptq", no_argument, NULL, OPT_GPTQ},
    {NULL, 0, NULL, 0},
};

static void list_mixes(FILE *f)
{
    fputs("\nMixes:\n", f);
    for (int m = 0; m < CKPT_MIX_COUNT; m++)
        fprintf(f, "  %-7s %s (%u)\n", ckpt_mix_name((ckpt_mix)m),
                ckpt_mix_describe((ckpt_mix)m), ckpt_mix_file_type((ckpt_mix)m));
    fputs("TYPE may also be the number in parentheses, or Q3_K, Q4_K, Q5_K for the _M mixes.\n",
          f);
    fputs("\ncompressed-tensors schemes (-o names a model directory for vLLM/transformers):\n", f);
    for (int c = 0; ckpt_ct_scheme_at(c); c++)
        fprintf(f, "  %-7s %s\n", ckpt_ct_scheme_at(c)->name, ckpt_ct_scheme_at(c)->about);
}

static const struct ckpt_cli_tool tool = {
    .name = "ckpt-quant",
    .usage = "ckpt-quant [OPTION]... -t MIX IN.gguf|MODEL_DIR|-\n"
             "       ckpt-quant [OPTION]... -t W8A16|W8A8|W4A16 -o OUT_DIR IN.gguf|MODEL_DIR\n"
             "       ckpt-quant [OPTION]... IN [OUT] TYPE [THREADS]   (llama-quantize's form)",
    .about = "Quantize a GGUF model (F32, F16 or BF16), or a Hugging Face model directory\n"
             "converted on the fly, to a llama-quantize mix; the output has the tensors,\n"
             "types, metadata and bytes llama-quantize writes.",
    .options = "  -t, --type MIX          the mix (below)\n"
               "      --imatrix FILE      importance matrix (llama-imatrix .dat or GGUF)\n"
               "      --calib TEXT        compute the importance matrix: the input model\n"
               "                          run over the text TEXT (as llama-imatrix does)\n"
               "      --calib-ctx N       tokens per chunk of TEXT (default 512)\n"
               "      --calib-chunks N    use at most N chunks (default: all)\n"
               "      --imatrix-out FILE  save the computed matrix (llama-imatrix .dat)\n"
               "      --pure              the mix's base type for every weight matrix\n"
               "      --output-tensor-type T     type of output.weight (q8_0, q6_K, f16, ...)\n"
               "      --token-embedding-type T   type of token_embd.weight\n"
               "      --tensor-type NAME=T       type T for the tensors whose name matches the\n"
               "                          pattern NAME (first match wins; e.g. attn_v=q8_0)\n"
               "      --override-kv KEY=TYPE:VALUE   set a metadata key (TYPE int, float,\n"
               "                          bool or str), as llama-quantize does\n"
               "      --leave-output-tensor      copy output.weight as it is\n"
               "      --allow-requantize  re-encode tensors the input has already quantized\n"
               "      --keep-split        (llama-quantize's; use --split-max-size or\n"
               "                          --split-max-tensors to write a split set)\n"
               "      --no-provenance     leave out the recipe (how the file was made) and,\n"
               "                          from a MODEL_DIR, the general.source.* keys\n"
               "      --group-size N|channel     compressed-tensors: columns per scale\n"
               "                          (default 128 for W4A16, channel for W8A16, W8A8)\n"
               "      --max-shard-size SIZE      compressed-tensors: largest shard, as\n"
               "                          transformers reads it (5GB, 500MB, 2GiB; default 5GB)\n"
               "      --scale-search      compressed-tensors: scales that minimize the error\n"
               "                          (slower; implied by --imatrix/--calib) instead of absmax\n"
               "      --optimize          with --calib: choose each weight matrix's type by its\n"
               "                          measured effect on the output, within the size of\n"
               "                          MIX (or a target below); standard types only;\n"
               "                          --imatrix FILE, if given, is used instead of the\n"
               "                          matrix computed from TEXT\n"
               "      --target-bpw B      --optimize: at most B bits per weight of tensor data\n"
               "      --target-size N     --optimize: at most N bytes of tensor data\n"
               "      --report            --optimize: print each matrix's type and predicted\n"
               "                          and measured divergence\n"
               "      --gptq              --optimize or -t W8A16|W8A8|W4A16: error-compensating\n"
               "                          rounding (GPTQ) from the inputs' second moments on TEXT\n",
    .shortopts = "t:",
    .longopts = longopts,
    .common = CKPT_CLI_OUTPUT | CKPT_CLI_STDOUT | CKPT_CLI_FORCE | CKPT_CLI_JSON | CKPT_CLI_SPLIT,
    .output_help = "  -o, --output FILE       output file, - for stdout (default: IN-MIX.gguf);\n"
                   "                          a split set is named FILE less .gguf, then\n"
                   "                          -00001-of-0000N.gguf ...\n",
    .exit_status = "0 written, 2 usage, input or output error.",
    .help_more = list_mixes,
};

/* A regular file that only -f may replace (checked before a calibration
 * run, not to find out after it; the writers check again). */
static bool kept_file(const char *path, bool force)
{
    struct stat st;
    return !force && strcmp(path, "-") && stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* --calib: the importance matrix of the input model over a text, saved to
 * imatrix_out (if not NULL); its imatrix goes into o. */
static ckpt_status calibrate(struct ckpt_cli *cli, const char *in, struct ckpt_calib_opts *co,
                             const char *imatrix_out, struct ckpt_quant_opts *o,
                             struct ckpt_calib *cal, ckpt_err *err)
{
    const char *kept = kept_file(o->output, o->force) ? o->output : imatrix_out;
    if (kept && kept_file(kept, o->force))
        return ckpt_err_set(err, CKPT_E_EXISTS, "%s: already exists (use -f to overwrite)", kept);
    co->n_threads = o->n_threads;
    co->progress = ckpt_cli_progress(cli);
    co->message = ckpt_cli_on_message;
    co->cb_ctx = cli;
    double t0 = ckpt_cli_now();
    ckpt_status st = ckpt_calib_run(cal, in, co, err);
    if (st != CKPT_OK)
        return st;
    ckpt_cli_msg(cli, 2, "%s: importance matrix of %zu entries from %d chunks of %lld tokens "
                 "(%lld in the text, semantic %s), %.2f s",
                 co->text, ckpt_imatrix_n_entries(cal->imatrix), (int)cal->n_chunks,
                 (long long)(co->n_ctx > 0 ? co->n_ctx : CKPT_CALIB_CTX),
                 (long long)cal->n_tokens, cal->semantic, ckpt_cli_now() - t0);
    if (imatrix_out && (st = ckpt_calib_save(cal, imatrix_out, o->force, err)) != CKPT_OK)
        return st;
    o->imatrix = cal->imatrix;
    o->imatrix_name = imatrix_out ? imatrix_out : co->text;
    return CKPT_OK;
}

static bool same_file(const char *a, const char *b)
{
    struct stat sa, sb;
    return strcmp(a, "-") && strcmp(b, "-") && stat(a, &sa) == 0 && stat(b, &sb) == 0 &&
           sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

static bool parse_type(const char *s, int *out)
{
    int t = ckpt_type_from_name(s);
    if (t < 0 || !ckpt_qplan_type_storable(t))
        return false;
    *out = t;
    return true;
}

static void summary(struct ckpt_cli *cli, const struct ckpt_quant_report *rep,
                    const struct ckpt_quant_opts *o, const char *in, const char *what)
{
    char a[32], b[32], fb[512], files[48] = "";
    if (ckpt_quant_report_fallbacks(rep, fb, sizeof fb))
        ckpt_cli_msg(cli, 2, "%s", fb);
    double bpw = rep->params ? 8.0 * (double)rep->bytes_out / (double)rep->params : 0;
    double mbs = rep->seconds > 0 ? (double)rep->bytes_in / rep->seconds / 1e6 : 0;
    if (rep->n_files > 1)
        snprintf(files, sizeof files, " (and %zu more files)", rep->n_files - 1);
    ckpt_cli_msg(cli, 2, "%s -> %s%s: %s, %zu tensors, %s -> %s (%.2f bits per weight), %.2f s, "
                 "%.0f MB/s, %d threads",
                 in, rep->first_file[0] ? rep->first_file : o->output, files, what, rep->n,
                 ckpt_cli_bytes(rep->bytes_in, a, 32),
                 ckpt_cli_bytes(rep->bytes_out, b, 32), bpw, rep->seconds, mbs, rep->n_threads);
    for (size_t i = 0; cli->level >= 3 && i < rep->n; i++) {
        const struct ckpt_quant_tensor *t = &rep->t[i];
        ckpt_cli_msg(cli, 3, "  %-32s %-7s -> %-7s%s%s", t->name, ckpt_type_name(t->in_type),
                     ckpt_type_name(t->type), t->type != t->wanted ? " (fallback)" : "",
                     t->imatrix ? " (imatrix)" : "");
    }
}

/* What --optimize adds to a run. */
struct optimize {
    bool on, report;
    struct ckpt_opt_apply a;
};

/* --optimize: measure, allocate, set o's types and keys; say what came of it. */
static ckpt_status optimize(struct ckpt_cli *cli, const char *in, struct ckpt_qsrc *src,
                            struct ckpt_quant_opts *o, const struct ckpt_calib_opts *co,
                            struct optimize *op, ckpt_err *err)
{
    const struct ckpt_opt_result *res = &op->a.res;
    op->a.opts.n_threads = o->n_threads;
    op->a.opts.measure = op->report;
    op->a.opts.progress = ckpt_cli_progress(cli);
    op->a.opts.cb_ctx = cli;
    double t0 = ckpt_cli_now();
    ckpt_status st = ckpt_opt_apply(&op->a, in, src, o, co->text, co->n_ctx, co->max_chunks, err);
    if (st != CKPT_OK)
        return st;
    ckpt_cli_msg(cli, 2, "%s: %zu weight matrices placed in %llu of %llu bytes (the mix: %llu), "
                 "predicted divergence %.6f (the mix: %.6f), %d runs of %lld positions, %.2f s",
                 in, res->n, (unsigned long long)res->bytes,
                 (unsigned long long)res->budget, (unsigned long long)res->mix_bytes,
                 res->pred, res->mix_pred, res->n_runs,
                 (long long)res->n_positions, ckpt_cli_now() - t0);
    if (op->report) {
        char *txt = ckpt_opt_report_text(res);
        if (!txt)
            return ckpt_err_set(err, CKPT_E_NOMEM, "out of memory");
        if (strcmp(o->output, "-") == 0 || cli->json)
            ckpt_cli_msg(cli, 1, "%s", txt);
        else
            ckpt_cli_printf(cli, "%s", txt);
        free(txt);
    }
    return CKPT_OK;
}

/* The output's recipe: the input's, with this run as its last step. */
static ckpt_status recipe(struct ckpt_quant_step *step, const char *in,
                          const struct ckpt_quant_opts *o, const char *imatrix_path,
                          const struct ckpt_calib_opts *co, struct optimize *op,
                          const struct ckpt_ct_sink_opts *ct, const struct ckpt_qsrc *src,
                          char **out, ckpt_err *err)
{
    ckpt_quant_step_set(step, in, o, imatrix_path, co, &op->a.opts, op->on, ct);
    ckpt_status st = ckpt_quant_recipe(out, src->meta, step, err);
    if (st != CKPT_OK || !op->on)
        return st;
    /* --optimize keeps the file within the plain mix's size, whose recipe
     * has no calibration, optimize options or hashed text: reserve the
     * difference */
    struct ckpt_quant_step plain = *step;
    plain.calib = NULL;
    plain.imatrix_name = imatrix_path;
    plain.optimize = plain.gptq = false;
    plain.target_bpw = 0;
    plain.target_bytes = 0;
    char *plain_text = NULL;
    if ((st = ckpt_quant_recipe(&plain_text, src->meta, &plain, err)) != CKPT_OK)
        return st;
    const size_t full = strlen(*out), base = strlen(plain_text);
    op->a.opts.recipe_extra = full > base ? full - base : 0;
    free(plain_text);
    return CKPT_OK;
}

static int quantize(struct ckpt_cli *cli, const char *in, struct ckpt_quant_opts *o,
                    const char *imatrix_path, struct ckpt_calib_opts *co,
                    const char *imatrix_out, bool provenance, struct ckpt_ct_sink_opts *ct,
                    struct optimize *op, struct ckpt_quant_step *step)
{
    ckpt_err uerr = {0};
    if (ckpt_ct_opts_check(ct, o->output, op->on, &uerr) != CKPT_OK ||
        ckpt_opt_apply_check(&op->a, op->on, op->report, co->text != NULL, ct->scheme >= 0,
                             o, &uerr) != CKPT_OK)
        return ckpt_cli_usage_error(cli, "%s", uerr.msg);
    if (co->text && imatrix_path && !op->on)
        return ckpt_cli_usage_error(cli, "--calib and --imatrix exclude each other "
                                    "(but with --optimize)");
    if (!co->text && (co->n_ctx || co->max_chunks || imatrix_out))
        return ckpt_cli_usage_error(cli, "--calib-ctx, --calib-chunks and --imatrix-out need "
                                    "--calib");
    if (co->text && strcmp(in, "-") == 0)
        return ckpt_cli_usage_error(cli, "--calib needs the input model as a file or "
                                    "directory, not standard input");
    if (imatrix_out && strcmp(imatrix_out, "-") == 0)
        return ckpt_cli_usage_error(cli, "--imatrix-out needs a file name");
    char *derived = NULL;
    if (!o->output)
        o->output = strcmp(in, "-") == 0 ? "-" : (derived = ckpt_hub_default_output(in, ckpt_mix_name(o->mix)));
    if (!o->output)
        return ckpt_cli_usage_error(cli, "out of memory");
    int rc = 2;
    ckpt_err err = {0};
    struct ckpt_qsrc *src = NULL;
    ckpt_imatrix *im = NULL;
    struct ckpt_calib cal = {0};
    struct ckpt_quant_report rep = {0};
    char *recipe_text = NULL;
    const bool to_stdout = strcmp(o->output, "-") == 0;
    if (cli->json && to_stdout)
        rc = ckpt_cli_usage_error(cli, "--json needs an output file (stdout carries the model)");
    else if (to_stdout && ckpt_cli_check_binary_stdout(cli, "a model"))
        rc = 2;
    else if (same_file(in, o->output) ||
             (ct->scheme >= 0 && (ckpt_ct_inside(in, o->output) ||
                                  ckpt_ct_inside(imatrix_path, o->output) ||
                                  ckpt_ct_inside(imatrix_out, o->output))))
        rc = ckpt_cli_usage_error(cli, "%s: the output would replace an input", o->output);
    else if (imatrix_path && ckpt_imatrix_load(&im, imatrix_path, &err) != CKPT_OK)
        rc = ckpt_cli_fail(cli, &err);
    else if (co->text && !im && calibrate(cli, in, co, imatrix_out, o, &cal, &err) != CKPT_OK)
        rc = ckpt_cli_fail(cli, &err);
    else if ((ckpt_qsrc_is_model_dir(in) ? ckpt_qsrc_open_hf(&src, in, provenance, &err)
                               : ckpt_qsrc_open_gguf(&src, in, &err)) != CKPT_OK)
        rc = ckpt_cli_fail(cli, &err);
    else if (provenance && recipe(step, in, o, imatrix_path, co, op, ct, src, &recipe_text, &err) != CKPT_OK)
        rc = ckpt_cli_fail(cli, &err);
    else {
        if (im) {
            o->imatrix = im;
            o->imatrix_name = imatrix_path;
        }
        char scheme[32];
        if (ckpt_qsrc_is_model_dir(in) && ckpt_ct_path_scheme(in, scheme, sizeof scheme))
            ckpt_cli_msg(cli, 2, "warning: %s is already quantized (compressed-tensors %s): "
                         "requantizing its dequantized weights loses more precision; start "
                         "from the original model if you can", in, scheme);
        o->recipe = recipe_text;
        o->progress = ckpt_cli_progress(cli);
        o->message = ckpt_cli_on_message;
        o->cb_ctx = cli;
        if (op->on && optimize(cli, in, src, o, co, op, &err) != CKPT_OK) {
            rc = ckpt_cli_fail(cli, &err);
        } else if ((ct->scheme < 0
                        ? ckpt_quant_run(ckpt_opt_apply_source(&op->a, src), o, &rep, &err)
                        : ckpt_ct_quant_run(src, o, ct, in, ckpt_qsrc_is_model_dir(in),
                                            op->a.opts.gptq ? co : NULL, &rep, &err)) !=
                   CKPT_OK) {
            rc = ckpt_cli_fail(cli, &err);
        } else {
            summary(cli, &rep, o, in,
                    ct->scheme >= 0 ? ckpt_ct_scheme_at(ct->scheme)->name : ckpt_mix_name(o->mix));
            rc = cli->json && !ckpt_cli_json(cli, ckpt_ct_report_json(&rep, o, in, ct, op->a.opts.gptq)) ? 2 : 0;
        }
    }
    ckpt_quant_report_free(&rep);
    ckpt_qsrc_close(src);
    ckpt_imatrix_free(im);
    ckpt_calib_free(&cal);
    ckpt_opt_apply_free(&op->a);
    free(recipe_text);
    free(derived);
    return rc;
}

int cmd_quant(int argc, char **argv)
{
    struct ckpt_cli cli;
    if (!ckpt_cli_init(&cli, &tool))
        return 2;
    struct ckpt_quant_opts o = {.mix = CKPT_MIX_COUNT, .output_type = -1, .token_embd_type = -1};
    struct ckpt_ct_sink_opts ct = {.scheme = -1};
    const char *imatrix_path = NULL, *imatrix_out = NULL;
    struct ckpt_calib_opts co = {0};
    bool provenance = true;
    ckpt_qtt *tensor_types = NULL;
    struct ckpt_quant_kvs kvs = {0};
    struct ckpt_quant_operands ops = {0};
    struct optimize op = {0};
    struct ckpt_quant_step step = {0};
    const char **tt_args = calloc((size_t)argc + 1, sizeof *tt_args);
    const char **kv_args = calloc((size_t)argc + 1, sizeof *kv_args);
    ckpt_err err = {0};
    char why[1024];
    long l;
    int c = 0, rc = -1;
    o.refuse_requantize = true;
    if (!tt_args || !kv_args)
        rc = ckpt_cli_usage_error(&cli, "out of memory");
    step.tensor_types = tt_args;
    step.override_kv = kv_args;
    while (rc < 0 && !err.code && (c = ckpt_cli_getopt(&cli, argc, argv)) >= 0) {
        switch (c) {
        case 't':
            if ((ct.scheme = ckpt_ct_scheme_parse(optarg)) >= 0) {
                o.mix = CKPT_MIX_F32; /* the sink encodes; the driver hands it rows */
                break;
            }
            if ((l = ckpt_mix_parse(optarg)) < 0)
                rc = ckpt_cli_usage_error(&cli, "%s", ckpt_mix_explain(optarg, why, sizeof why));
            o.mix = (ckpt_mix)l;
            break;
        case OPT_IMATRIX: imatrix_path = optarg; break;
        case OPT_GROUP_SIZE:
            if (strcmp(optarg, "channel") == 0)
                ct.group_size = -1;
            else if (ckpt_cli_parse_int(optarg, 1, 1L << 20, &l))
                ct.group_size = l;
            else
                rc = ckpt_cli_usage_error(&cli, "--group-size: '%s' is neither a column count "
                                          "nor 'channel'", optarg);
            break;
        case OPT_SCALE_SEARCH: ct.search = true; break;
        case OPT_MAX_SHARD:
            if (!ckpt_ct_parse_size(optarg, &ct.max_shard_bytes))
                rc = ckpt_cli_usage_error(&cli, "--max-shard-size: '%s' is not a size (5GB, "
                                          "500MB, 2GiB or bytes)", optarg);
            break;
        case OPT_CALIB: co.text = optarg; break;
        case OPT_CALIB_CTX:
            if (!ckpt_cli_parse_int(optarg, 1, 1L << 20, &l))
                rc = ckpt_cli_usage_error(&cli, "--calib-ctx: '%s' is not a token count "
                                          "(1-1048576)", optarg);
            co.n_ctx = l;
            break;
        case OPT_CALIB_CHUNKS:
            if (!ckpt_cli_parse_int(optarg, 1, INT32_MAX, &l))
                rc = ckpt_cli_usage_error(&cli, "--calib-chunks: '%s' is not a chunk count",
                                          optarg);
            co.max_chunks = l;
            break;
        case OPT_IMATRIX_OUT: imatrix_out = optarg; break;
        case OPT_PURE: o.pure = true; break;
        case OPT_OUT_TYPE:
            if (!parse_type(optarg, &o.output_type))
                rc = ckpt_cli_usage_error(&cli, "--output-tensor-type: unknown type '%s'",
                                          optarg);
            break;
        case OPT_EMB_TYPE:
            if (!parse_type(optarg, &o.token_embd_type))
                rc = ckpt_cli_usage_error(&cli, "--token-embedding-type: unknown type '%s'",
                                          optarg);
            break;
        case OPT_NO_PROV: provenance = false; break;
        case OPT_TENSOR_TYPE:
            ckpt_qtt_add(&tensor_types, optarg, &err);
            tt_args[step.n_tensor_types++] = optarg;
            break;
        case OPT_OVERRIDE_KV:
            ckpt_quant_kvs_add(&kvs, optarg, &err);
            kv_args[step.n_override_kv++] = optarg;
            break;
        case OPT_LEAVE_OUTPUT: o.leave_output = true; break;
        case OPT_ALLOW_REQUANT: o.refuse_requantize = false; break;
        case OPT_OPTIMIZE: op.on = true; break;
        case OPT_REPORT: op.report = true; break;
        case OPT_GPTQ: op.a.opts.gptq = true; break;
        case OPT_TARGET_BPW:
            if (!ckpt_cli_parse_double(optarg, &op.a.opts.target_bpw) ||
                !(op.a.opts.target_bpw > 0 && op.a.opts.target_bpw <= 32))
                rc = ckpt_cli_usage_error(&cli, "--target-bpw: '%s' is not a number of bits "
                                          "per weight (above 0, at most 32)", optarg);
            break;
        case OPT_TARGET_SIZE:
            if (!ckpt_cli_parse_int(optarg, 1, LONG_MAX, &l))
                rc = ckpt_cli_usage_error(&cli, "--target-size: '%s' is not a byte count",
                                          optarg);
            op.a.opts.target_bytes = (uint64_t)l;
            break;
        case OPT_KEEP_SPLIT:
            ckpt_err_set(&err, CKPT_E_USAGE, "--keep-split: not applicable (the split of the "
                         "input is not kept); write a split set with --split-max-size or "
                         "--split-max-tensors");
            break;
        }
    }
    if (rc < 0 && c == CKPT_CLI_EXIT)
        rc = cli.exit;
    /* llama-quantize's operands (IN [OUT] TYPE [THREADS]) or ckpt's (-t MIX IN) */
    if (rc < 0 && !err.code)
        ckpt_quant_operands_read(&ops, argc - optind, argv + optind, o.mix != CKPT_MIX_COUNT,
                                 &err);
    if (rc < 0 && !err.code) {
        if (ops.mix >= 0)
            o.mix = (ckpt_mix)ops.mix;
        o.output = cli.output;
        if (ops.output && o.output && !ops.derived)
            ckpt_err_set(&err, CKPT_E_USAGE, "-o and an OUT operand: give the output once");
        if (!o.output)
            o.output = ops.output; /* IN TYPE alone: llama-quantize's name, unless -o */
        o.n_threads = cli.threads;
        if (ops.n_threads >= 0 && o.n_threads)
            ckpt_err_set(&err, CKPT_E_USAGE, "-j and a THREADS operand: give the threads once");
        if (ops.n_threads > 0)
            o.n_threads = ops.n_threads;
        o.force = cli.force;
        o.split_bytes = cli.split_bytes;
        o.split_tensors = cli.split_tensors;
        o.tensor_types = tensor_types;
        o.kv = kvs.kv;
        o.n_kv = kvs.n;
        if (ct.scheme >= 0 && (o.split_bytes || o.split_tensors) && !err.code)
            ckpt_err_set(&err, CKPT_E_USAGE, "--split-max-size and --split-max-tensors split a "
                         "GGUF; a compressed-tensors directory is sharded with --max-shard-size");
    }
    if (rc < 0 && err.code)
        rc = ckpt_cli_usage_error(&cli, "%s", err.msg);
    if (rc < 0)
        rc = quantize(&cli, ops.input, &o, imatrix_path, &co, imatrix_out, provenance, &ct,
                      &op, &step);
    free(tt_args);
    free(kv_args);
    ckpt_qtt_free(tensor_types);
    ckpt_quant_kvs_free(&kvs);
    ckpt_quant_operands_free(&ops);
    return ckpt_cli_finish(&cli, rc);
}

int main(int argc, char **argv)
{
    return cmd_quant(argc, argv);
}
