/*
 * inspect_main.c - ckpt-inspect: list the tensors and metadata of
 * safetensors files, Hugging Face model directories and GGUF files.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats/cli.h"
#include "verify/inspect.h"

static const char usage_text[] =
    "Usage: ckpt-inspect [OPTION]... FILE|DIR...\n"
    "List the format, metadata, tensors and totals of safetensors files, Hugging Face\n"
    "model directories and GGUF files. FILE may be '-' for standard input.\n"
    "\n"
    "  -a, --all            print long arrays and strings in full\n"
    "  -t, --tensor NAME    print only the value statistics of tensor NAME (repeatable):\n"
    "                       min, max, mean, std, NaN and Inf counts after dequantization\n"
    "  -s, --summary        omit the tensor table (metadata and totals only)\n"
    "      --json           one JSON document per input, for programs\n"
    "  -q, --quiet          print errors only (exit status: is every input readable)\n"
    "  -v, --verbose        more messages\n"
    "  -h, --help           print this help and exit\n"
    "  -V, --version        print the version and exit\n"
    "\n"
    "Exit status: 0 all inputs read, 2 usage error or an unreadable or malformed input.\n";

int main(int argc, char **argv)
{
    struct ckpt_cli cli;
    ckpt_cli_init(&cli, "ckpt-inspect");
    struct ckpt_inspect_opts opts = {0};
    const char **tensors = calloc((size_t)argc, sizeof *tensors);
    if (!tensors)
        return 2;
    enum { OPT_JSON = 256 };
    static const struct option longopts[] = {
        {"all", no_argument, NULL, 'a'},      {"tensor", required_argument, NULL, 't'},
        {"summary", no_argument, NULL, 's'},  {"json", no_argument, NULL, OPT_JSON},
        {"quiet", no_argument, NULL, 'q'},    {"verbose", no_argument, NULL, 'v'},
        {"help", no_argument, NULL, 'h'},     {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    int c;
    while ((c = getopt_long(argc, argv, "at:sqvhV", longopts, NULL)) != -1) {
        switch (c) {
        case 'a': opts.all = true; break;
        case 't': tensors[opts.n_stats_tensors++] = optarg; break;
        case 's': opts.no_tensors = true; break;
        case OPT_JSON: opts.json = true; break;
        case 'q': cli.level--; opts.quiet = true; break;
        case 'v': cli.level++; break;
        case 'h': fputs(usage_text, stdout); free(tensors); return 0;
        case 'V': printf("ckpt-inspect %s\n", CKPT_VERSION); free(tensors); return 0;
        default: free(tensors); return ckpt_cli_usage_error(&cli, "invalid option");
        }
    }
    if (optind >= argc) {
        free(tensors);
        return ckpt_cli_usage_error(&cli, "no input given");
    }
    opts.stats_tensors = tensors;
    int rc = 0;
    for (int i = optind; i < argc; i++) {
        ckpt_err err;
        ckpt_err_clear(&err);
        if (ckpt_inspect_path(argv[i], &opts, stdout, &err) != CKPT_OK) {
            int code = ckpt_cli_fail(&cli, &err);
            if (code > rc)
                rc = code;
        }
        if (i + 1 < argc && !opts.json && !opts.quiet)
            fputc('\n', stdout);
    }
    if (fflush(stdout) != 0) {
        perror("ckpt-inspect: stdout");
        rc = 2;
    }
    free(tensors);
    return rc;
}
