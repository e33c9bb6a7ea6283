/*
 * inspect_main.c - ckpt-inspect: list the tensors and metadata of
 * safetensors files, Hugging Face model directories and GGUF files.
 */
#include <stdio.h>
#include <stdlib.h>

#include "cli/cli.h"
#include "verify/inspect.h"

static const struct option longopts[] = {
    {"all", no_argument, NULL, 'a'},
    {"tensor", required_argument, NULL, 't'},
    {"summary", no_argument, NULL, 's'},
    {NULL, 0, NULL, 0},
};

static const struct ckpt_cli_tool tool = {
    .name = "ckpt-inspect",
    .usage = "ckpt-inspect [OPTION]... FILE|DIR...",
    .about = "List the format, metadata, tensors and totals of safetensors files, Hugging Face\n"
             "model directories and GGUF files. FILE may be '-' for standard input.",
    .options = "  -a, --all               print long arrays and strings in full\n"
               "  -t, --tensor NAME       print only the value statistics of tensor NAME\n"
               "                          (repeatable): min, max, mean, std, NaN and Inf\n"
               "                          counts after dequantization\n"
               "  -s, --summary           omit the tensor table (metadata and totals only)\n",
    .shortopts = "at:s",
    .longopts = longopts,
    .common = CKPT_CLI_OUTPUT | CKPT_CLI_STDOUT | CKPT_CLI_FORCE | CKPT_CLI_JSON | CKPT_CLI_REPORT,
    .output_help = "  -o, --output FILE       write the report to FILE, whole or not at all\n"
                   "                          ('-': standard output, the default)\n",
    .exit_status = "0 all inputs read, 2 usage error or an unreadable or malformed input.",
};

int main(int argc, char **argv)
{
    struct ckpt_cli cli;
    if (!ckpt_cli_init(&cli, &tool))
        return 2;
    struct ckpt_inspect_opts opts = {0};
    const char **tensors = calloc((size_t)argc, sizeof *tensors);
    if (!tensors)
        return ckpt_cli_finish(&cli, 2);
    int c;
    while ((c = ckpt_cli_getopt(&cli, argc, argv)) >= 0) {
        switch (c) {
        case 'a': opts.all = true; break;
        case 't': tensors[opts.n_stats_tensors++] = optarg; break;
        case 's': opts.no_tensors = true; break;
        }
    }
    int rc = 0;
    if (c == CKPT_CLI_EXIT)
        rc = cli.exit;
    else if (optind >= argc)
        rc = ckpt_cli_usage_error(&cli, "no input given");
    opts.stats_tensors = tensors;
    opts.json = cli.json;
    opts.quiet = cli.level < 2; /* -q: every input is still read and checked */
    for (int i = optind; c != CKPT_CLI_EXIT && i < argc && !cli.out_errno; i++) {
        ckpt_err err = {0};
        char *text;
        size_t len;
        if (ckpt_inspect_path(argv[i], &opts, &text, &len, &err) != CKPT_OK) {
            int code = ckpt_cli_fail(&cli, &err);
            rc = code > rc ? code : rc;
            continue;
        }
        if (!opts.quiet)
            ckpt_cli_write(&cli, text, len);
        if (i + 1 < argc && !opts.json && !opts.quiet)
            ckpt_cli_write(&cli, "\n", 1);
        free(text);
    }
    free(tensors);
    return ckpt_cli_finish(&cli, rc);
}
