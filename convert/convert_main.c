/*
 * convert_main.c - ckpt-convert: a Hugging Face Mistral/Mixtral checkpoint
 * to GGUF (F32, F16, BF16) as llama.cpp's converter writes it.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "convert/convert.h"
#include "formats/cli.h"
#include "formats/outfile.h"

static const char usage_text[] =
    "Usage: ckpt-convert [OPTION]... MODEL_DIR|FILE.safetensors\n"
    "Convert a Hugging Face Mistral or Mixtral checkpoint (BF16, F16, F32, or F8 with\n"
    "scales) to GGUF, laid out as llama.cpp's convert_hf_to_gguf.py lays it out.\n"
    "A FILE.safetensors needs config.json and the tokenizer files beside it.\n"
    "\n"
    "  -t, --type TYPE      f16 (default), bf16, f32, or auto (f16 for F16 weights,\n"
    "                       f32 for F32, bf16 for BF16 and F8)\n"
    "  -o, --output FILE    the GGUF to write; '-' for standard output\n"
    "                       (default: MODEL-TYPE.gguf in the current directory)\n"
    "  -f, --force          overwrite FILE; allow GGUF bytes on a terminal\n"
    "  -j, --threads N      conversion threads (default: every CPU); the bytes written\n"
    "                       are the same for any N\n"
    "      --allow-nonfinite  copy NaN and Inf weights instead of refusing them\n"
    "      --no-provenance  leave out the general.source.* keys, so that the file is\n"
    "                       byte for byte the one llama.cpp's converter writes\n"
    "      --json           print a JSON summary on standard output (file outputs)\n"
    "  -q, --quiet          print errors only\n"
    "  -v, --verbose        more messages\n"
    "  -h, --help           print this help and exit\n"
    "  -V, --version        print the version and exit\n"
    "\n"
    "Exit status: 0 converted, 2 usage error, unreadable or invalid checkpoint, a value\n"
    "that does not fit the output type, or an I/O error.\n";

static void on_progress(void *ctx, uint64_t done, uint64_t total)
{
    ckpt_cli_progress(ctx, "converting", done, total);
}

static int parse_type(const char *s)
{
    if (strcmp(s, "auto") == 0)
        return CKPT_PLAN_AUTO;
    if (strcmp(s, "f32") == 0 || strcmp(s, "F32") == 0)
        return CKPT_TYPE_F32;
    if (strcmp(s, "f16") == 0 || strcmp(s, "F16") == 0)
        return CKPT_TYPE_F16;
    if (strcmp(s, "bf16") == 0 || strcmp(s, "BF16") == 0)
        return CKPT_TYPE_BF16;
    return -2;
}

/* A JSON string literal of s (paths are the only strings printed). */
static void json_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c < 0x20)
            fprintf(f, "\\u%04x", c);
        else
            fputc(c, f);
    }
    fputc('"', f);
}

static void print_json(const struct ckpt_convert_result *r, const char *input)
{
    printf("{\"input\": ");
    json_str(stdout, input);
    printf(", \"model\": ");
    json_str(stdout, r->model);
    printf(", \"output\": ");
    json_str(stdout, r->output);
    printf(", \"type\": \"%s\", \"file_type\": %u, \"tensors\": %zu, \"bytes\": %llu, "
           "\"source_bytes\": %llu, \"threads\": %d, \"seconds\": %.3f, \"mb_per_s\": %.1f}\n",
           ckpt_type_name(r->type), r->file_type, r->n_tensors,
           (unsigned long long)r->file_bytes, (unsigned long long)r->source_bytes, r->n_threads,
           r->seconds, r->seconds > 0 ? (double)r->source_bytes / 1e6 / r->seconds : 0.0);
}

int main(int argc, char **argv)
{
    struct ckpt_cli cli;
    ckpt_cli_init(&cli, "ckpt-convert");
    struct ckpt_convert_opts o = {.type = CKPT_TYPE_F16, .provenance = true};
    bool json = false;
    long threads = 0;
    enum { OPT_JSON = 256, OPT_NO_PROV, OPT_NONFINITE };
    static const struct option longopts[] = {
        {"type", required_argument, NULL, 't'},   {"output", required_argument, NULL, 'o'},
        {"force", no_argument, NULL, 'f'},        {"threads", required_argument, NULL, 'j'},
        {"no-provenance", no_argument, NULL, OPT_NO_PROV},
        {"allow-nonfinite", no_argument, NULL, OPT_NONFINITE},
        {"json", no_argument, NULL, OPT_JSON},    {"quiet", no_argument, NULL, 'q'},
        {"verbose", no_argument, NULL, 'v'},      {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},      {NULL, 0, NULL, 0},
    };
    int c;
    while ((c = getopt_long(argc, argv, "t:o:fj:qvhV", longopts, NULL)) != -1) {
        switch (c) {
        case 't':
            if ((o.type = parse_type(optarg)) == -2)
                return ckpt_cli_usage_error(&cli, "-t: '%s' is not f32, f16, bf16 or auto",
                                            optarg);
            break;
        case 'o': o.output = optarg; break;
        case 'f': o.force = true; break;
        case 'j':
            if (!ckpt_cli_parse_int(optarg, 1, 1024, &threads))
                return ckpt_cli_usage_error(&cli, "-j: '%s' is not a thread count (1-1024)",
                                            optarg);
            break;
        case OPT_NO_PROV: o.provenance = false; break;
        case OPT_NONFINITE: o.allow_nonfinite = true; break;
        case OPT_JSON: json = true; break;
        case 'q': cli.level--; break;
        case 'v': cli.level++; break;
        case 'h': fputs(usage_text, stdout); return 0;
        case 'V': printf("ckpt-convert %s\n", CKPT_VERSION); return 0;
        default: return ckpt_cli_usage_error(&cli, "invalid option");
        }
    }
    if (optind >= argc)
        return ckpt_cli_usage_error(&cli, "no model given");
    if (optind + 1 < argc)
        return ckpt_cli_usage_error(&cli, "one model at a time ('%s' is extra)", argv[optind + 1]);
    o.input = argv[optind];
    bool to_stdout = o.output && strcmp(o.output, "-") == 0;
    if (to_stdout && json)
        return ckpt_cli_usage_error(&cli, "--json needs a file output (standard output carries "
                                          "the GGUF)");
    if (to_stdout && !o.force && isatty(STDOUT_FILENO))
        return ckpt_cli_usage_error(&cli, "refusing to write GGUF bytes to a terminal (use -o "
                                          "FILE, or -f)");
    o.n_threads = (int)threads;
    if (cli.progress && cli.level >= 2) {
        o.progress = on_progress;
        o.progress_ctx = &cli;
    }
    /* temporaries go on a fatal signal; a closed pipe is an ordinary error (EPIPE) */
    ckpt_out_install_signal_cleanup();
    signal(SIGPIPE, SIG_IGN);

    struct ckpt_convert_result r;
    ckpt_err err;
    ckpt_err_clear(&err);
    if (ckpt_convert_run(&o, &r, &err) != CKPT_OK)
        return ckpt_cli_fail(&cli, &err);
    ckpt_cli_progress_clear(&cli);
    char size[32];
    ckpt_cli_msg(&cli, 2, "%s -> %s%s: %s, %zu tensors, %s in %.2f s (%.0f MB/s read)", o.input,
                 to_stdout ? "standard output" : r.output, o.output ? "" : " (default name)",
                 ckpt_type_name(r.type), r.n_tensors, ckpt_cli_bytes(r.file_bytes, size, 32),
                 r.seconds, r.seconds > 0 ? (double)r.source_bytes / 1e6 / r.seconds : 0.0);
    if (json)
        print_json(&r, o.input);
    if (fflush(stdout) != 0) {
        perror("ckpt-convert: stdout");
        return 2;
    }
    return 0;
}
