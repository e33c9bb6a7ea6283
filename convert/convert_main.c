/*
 * convert_main.c - ckpt-convert: a Hugging Face Mistral/Mixtral checkpoint
 * to GGUF (F32, F16, BF16) as llama.cpp's converter writes it.  Takes the
 * converter's own spellings too (--outtype, --outfile, --vocab-only), so
 * that scripts written for convert_hf_to_gguf.py keep working.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli/cli.h"
#include "convert/convert.h"
#include "formats/ct.h"

enum { OPT_NO_PROV = 256, OPT_OUTFILE, OPT_VOCAB_ONLY, OPT_DRY_RUN, OPT_NONFINITE };

static const struct option longopts[] = {
    {"type", required_argument, NULL, 't'},
    {"outtype", required_argument, NULL, 't'},
    {"outfile", required_argument, NULL, OPT_OUTFILE},
    {"vocab-only", no_argument, NULL, OPT_VOCAB_ONLY},
    {"dry-run", no_argument, NULL, OPT_DRY_RUN},
    {"no-provenance", no_argument, NULL, OPT_NO_PROV},
    {"allow-nonfinite", no_argument, NULL, OPT_NONFINITE},
    {NULL, 0, NULL, 0},
};

static const struct ckpt_cli_tool tool = {
    .name = "ckpt-convert",
    .usage = "ckpt-convert [OPTION]... MODEL_DIR|FILE.safetensors",
    .about = "Convert a Hugging Face Mistral or Mixtral checkpoint (BF16, F16, F32, or F8 with\n"
             "scales) to GGUF, laid out as llama.cpp's convert_hf_to_gguf.py lays it out.\n"
             "A FILE.safetensors needs config.json and the tokenizer files beside it.",
    .options =
        "  -t, --type, --outtype TYPE\n"
        "                          f16 (default), bf16, f32, or auto (f16 for F16 weights,\n"
        "                          f32 for F32, bf16 for BF16 and F8)\n"
        "      --outfile FILE      the same as -o FILE\n"
        "      --vocab-only        write the metadata and the vocabulary only, no tensors\n"
        "                          (default name MODEL-vocab.gguf)\n"
        "      --dry-run           list the tensors, types and sizes that would be written;\n"
        "                          write nothing\n"
        "      --allow-nonfinite   copy NaN and Inf weights instead of refusing them\n"
        "      --no-provenance     leave out the general.source.* keys, so that the file is\n"
        "                          byte for byte the one llama.cpp's converter writes\n",
    .shortopts = "t:",
    .longopts = longopts,
    .common = CKPT_CLI_OUTPUT | CKPT_CLI_STDOUT | CKPT_CLI_FORCE | CKPT_CLI_JSON | CKPT_CLI_SPLIT,
    .output_help = "  -o, --output FILE       the GGUF to write; '-' for standard output\n"
                   "                          (default: MODEL-TYPE.gguf in the current directory);\n"
                   "                          a split set is named FILE less .gguf, then\n"
                   "                          -00001-of-0000N.gguf ...\n",
    .exit_status = "0 converted, 2 usage error, unreadable or invalid checkpoint, a value\n"
                   "that does not fit the output type, or an I/O error.",
};

/* Output types by name, as convert_hf_to_gguf.py's --outtype spells them;
 * -2: a type ckpt writes with another tool. */
static const struct {
    const char *name;
    int type;
} types[] = {
    {"auto", CKPT_PLAN_AUTO}, {"f32", CKPT_TYPE_F32}, {"f16", CKPT_TYPE_F16},
    {"bf16", CKPT_TYPE_BF16}, {"q8_0", -2},
};

static int parse_type(const char *s)
{
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
        if (strcasecmp(s, types[i].name) == 0)
            return types[i].type;
    return -3;
}

struct listing {
    struct ckpt_cli *cli;
    cJSON *json; /* --json: the tensors array, else NULL (text) */
};

static void on_tensor(void *ctx, const char *name, ckpt_type type, uint32_t n_dims,
                      const int64_t ne[4], uint64_t bytes)
{
    struct listing *l = ctx;
    if (l->json) {
        cJSON *t = cJSON_CreateObject(), *shape = cJSON_CreateArray();
        cJSON_AddStringToObject(t, "name", name);
        cJSON_AddStringToObject(t, "type", ckpt_type_name(type));
        for (uint32_t d = 0; d < n_dims; d++)
            cJSON_AddItemToArray(shape, cJSON_CreateNumber((double)ne[d]));
        cJSON_AddItemToObject(t, "shape", shape);
        cJSON_AddNumberToObject(t, "bytes", (double)bytes);
        cJSON_AddItemToArray(l->json, t);
        return;
    }
    char dims[96];
    int n = 0;
    for (uint32_t d = 0; d < n_dims; d++)
        n += snprintf(dims + n, sizeof dims - (size_t)n, d ? " x %" PRId64 : "%" PRId64, ne[d]);
    ckpt_cli_printf(l->cli, "%-32s %-5s %-22s %12" PRIu64 "\n", name, ckpt_type_name(type),
                    dims, bytes);
}

static cJSON *result_json(const struct ckpt_convert_result *r, const char *input, cJSON *plan)
{
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "input", input);
    cJSON_AddStringToObject(j, "model", r->model);
    cJSON_AddStringToObject(j, "output", r->output);
    cJSON_AddStringToObject(j, "type", ckpt_type_name(r->type));
    cJSON_AddNumberToObject(j, "file_type", r->file_type);
    cJSON_AddNumberToObject(j, "files", (double)r->n_files);
    cJSON_AddNumberToObject(j, "tensors", (double)r->n_tensors);
    cJSON_AddNumberToObject(j, "bytes", (double)r->file_bytes);
    cJSON_AddNumberToObject(j, "source_bytes", (double)r->source_bytes);
    cJSON_AddNumberToObject(j, "threads", r->n_threads);
    cJSON_AddNumberToObject(j, "seconds", r->seconds);
    cJSON_AddNumberToObject(j, "mb_per_s",
                            r->seconds > 0 ? (double)r->source_bytes / 1e6 / r->seconds : 0.0);
    if (plan) {
        cJSON_AddBoolToObject(j, "dry_run", true);
        cJSON_AddItemToObject(j, "plan", plan);
    }
    return j;
}

static int run(struct ckpt_cli *cli, struct ckpt_convert_opts *o)
{
    const bool to_stdout = o->output && strcmp(o->output, "-") == 0;
    if (to_stdout && cli->json && !o->dry_run)
        return ckpt_cli_usage_error(cli, "--json needs a file output (standard output carries "
                                         "the GGUF)");
    if (to_stdout && !o->dry_run && ckpt_cli_check_binary_stdout(cli, "GGUF bytes"))
        return 2;
    struct listing l = {cli, o->dry_run && cli->json ? cJSON_CreateArray() : NULL};
    if (o->dry_run) {
        o->on_tensor = on_tensor;
        o->progress_ctx = &l;
    } else {
        o->progress = ckpt_cli_progress(cli);
        o->progress_ctx = cli;
    }
    struct ckpt_convert_result r;
    ckpt_err err = {0};
    char scheme[32];
    if (o->input && ckpt_ct_path_scheme(o->input, scheme, sizeof scheme))
        ckpt_cli_msg(cli, 2, "warning: %s is already quantized (compressed-tensors %s): its "
                     "weights are converted as they dequantize, not as the original model's",
                     o->input, scheme);
    if (ckpt_convert_run(o, &r, &err) != CKPT_OK) {
        cJSON_Delete(l.json);
        return ckpt_cli_fail(cli, &err);
    }
    char size[32], files[48] = "";
    if (r.n_files > 1)
        snprintf(files, sizeof files, " (and %zu more files)", r.n_files - 1);
    if (r.n_dropped)
        ckpt_cli_msg(cli, 2, "%s (%zu tensors) is left out: the GGUF holds the language model, "
                     "as llama.cpp's converter writes the text model", r.dropped, r.n_dropped);
    if (o->dry_run)
        ckpt_cli_msg(cli, 2, "%s would write %s%s%s: %s, %zu tensors, %s (nothing written)",
                     o->input, to_stdout ? "standard output" : r.output, files,
                     o->output ? "" : " (default name)", ckpt_type_name(r.type), r.n_tensors,
                     ckpt_cli_bytes(r.file_bytes, size, 32));
    else
        ckpt_cli_msg(cli, 2, "%s -> %s%s%s: %s, %zu tensors, %s in %.2f s (%.0f MB/s read)",
                     o->input, to_stdout ? "standard output" : r.output, files,
                     o->output ? "" : " (default name)", ckpt_type_name(r.type), r.n_tensors,
                     ckpt_cli_bytes(r.file_bytes, size, 32), r.seconds,
                     r.seconds > 0 ? (double)r.source_bytes / 1e6 / r.seconds : 0.0);
    if (cli->json)
        return ckpt_cli_json(cli, result_json(&r, o->input, l.json)) ? 0 : 2;
    if (o->dry_run)
        ckpt_cli_printf(cli, "%zu tensors, %" PRIu64 " bytes in all\n", r.n_tensors,
                        r.file_bytes);
    return 0;
}

int main(int argc, char **argv)
{
    struct ckpt_cli cli;
    if (!ckpt_cli_init(&cli, &tool))
        return 2;
    struct ckpt_convert_opts o = {.type = CKPT_TYPE_F16, .provenance = true};
    int c;
    while ((c = ckpt_cli_getopt(&cli, argc, argv)) >= 0) {
        switch (c) {
        case 't':
            if ((o.type = parse_type(optarg)) == -3)
                return ckpt_cli_finish(&cli, ckpt_cli_usage_error(
                    &cli, "-t: '%s' is not f32, f16, bf16 or auto", optarg));
            if (o.type == -2)
                return ckpt_cli_finish(&cli, ckpt_cli_usage_error(
                    &cli, "-t %s: convert to f16 (or bf16, f32) and quantize with ckpt-quant "
                          "-t Q8_0, which writes llama.cpp's bytes", optarg));
            break;
        case OPT_OUTFILE: cli.output = optarg; break;
        case OPT_VOCAB_ONLY: o.vocab_only = true; break;
        case OPT_DRY_RUN: o.dry_run = true; break;
        case OPT_NO_PROV: o.provenance = false; break;
        case OPT_NONFINITE: o.allow_nonfinite = true; break;
        }
    }
    if (c == CKPT_CLI_EXIT)
        return ckpt_cli_finish(&cli, cli.exit);
    int rc;
    if (optind >= argc)
        rc = ckpt_cli_usage_error(&cli, "no model given");
    else if (optind + 1 < argc)
        rc = ckpt_cli_usage_error(&cli, "one model at a time ('%s' is extra)", argv[optind + 1]);
    else {
        o.input = argv[optind];
        o.output = cli.output;
        o.force = cli.force;
        o.n_threads = cli.threads;
        o.split_bytes = cli.split_bytes;
        o.split_tensors = cli.split_tensors;
        rc = run(&cli, &o);
    }
    return ckpt_cli_finish(&cli, rc);
}
