/*
 * options.c - a tool's set-up: the common options merged with its own, one
 * getopt_long loop, one help layout, one message for a bad option (cli.h).
 */
#define _GNU_SOURCE
#include "cli.h"

#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../formats/mapfile.h"
#include "../formats/outfile.h"

/* Codes of the long-only common options, above any tool's own codes. */
enum { OPT_JSON = 0x1000, OPT_SPLIT_SIZE, OPT_SPLIT_TENSORS };

/* The common options: which tools take them (0: all), getopt spelling, help. */
static const struct common {
    unsigned needs;
    const char *shortopt; /* NULL: long only */
    struct option lopt;
    const char *help;
} common[] = {
    {CKPT_CLI_OUTPUT, "o:", {"output", required_argument, NULL, 'o'},
     "  -o, --output FILE       write to FILE ('-': standard output)\n"},
    {CKPT_CLI_STDOUT, "c", {"stdout", no_argument, NULL, 'c'},
     "  -c, --stdout            write to standard output (the same as -o -)\n"},
    {CKPT_CLI_FORCE, "f", {"force", no_argument, NULL, 'f'},
     "  -f, --force             overwrite existing outputs; write binary data to a\n"
     "                          terminal\n"},
    {0, "j:T:", {"threads", required_argument, NULL, 'j'},
     "  -j, -T, --threads N     threads (0 = all CPUs, the default); the results are\n"
     "                          the same for any N\n"},
    {CKPT_CLI_JSON, NULL, {"json", no_argument, NULL, OPT_JSON},
     "      --json              print a JSON report on standard output\n"},
    {CKPT_CLI_SPLIT, NULL, {"split-max-size", required_argument, NULL, OPT_SPLIT_SIZE},
     "      --split-max-size SIZE\n"
     "                          write a split set (llama.cpp's -00001-of-0000N.gguf\n"
     "                          files): a new file before the tensor data would pass\n"
     "                          SIZE bytes (K, M, G: powers of 1000)\n"},
    {CKPT_CLI_SPLIT, NULL, {"split-max-tensors", required_argument, NULL, OPT_SPLIT_TENSORS},
     "      --split-max-tensors N\n"
     "                          write a split set of at most N tensors per file\n"},
    {0, "q", {"quiet", no_argument, NULL, 'q'},
     "  -q, --quiet             print errors only (twice: nothing)\n"},
    {0, "v", {"verbose", no_argument, NULL, 'v'},
     "  -v, --verbose           print more (repeatable)\n"},
    {0, "h", {"help", no_argument, NULL, 'h'},
     "  -h, --help              print this help and exit\n"},
    {0, "V", {"version", no_argument, NULL, 'V'},
     "  -V, --version           print the version and exit\n"},
};
#define N_COMMON (sizeof common / sizeof common[0])

static bool takes(const struct ckpt_cli *cli, const struct common *c)
{
    return (cli->tool->common & c->needs) == c->needs;
}

/* Build the merged tables once: ':' first so that a missing value is told
 * apart from an unknown option. */
static bool merge(struct ckpt_cli *cli)
{
    size_t n_tool = 0;
    while (cli->tool->longopts && cli->tool->longopts[n_tool].name)
        n_tool++;
    size_t slen = 2 + strlen(cli->tool->shortopts ? cli->tool->shortopts : "");
    for (size_t i = 0; i < N_COMMON; i++)
        slen += common[i].shortopt ? strlen(common[i].shortopt) : 0;
    cli->lopts = calloc(n_tool + N_COMMON + 1, sizeof *cli->lopts);
    cli->sopts = calloc(slen, 1);
    if (!cli->lopts || !cli->sopts)
        return false;
    strcpy(cli->sopts, ":");
    if (cli->tool->shortopts)
        strcat(cli->sopts, cli->tool->shortopts);
    size_t n = 0;
    for (size_t i = 0; i < n_tool; i++)
        cli->lopts[n++] = cli->tool->longopts[i];
    for (size_t i = 0; i < N_COMMON; i++) {
        if (!takes(cli, &common[i]))
            continue;
        cli->lopts[n++] = common[i].lopt;
        if (common[i].shortopt)
            strcat(cli->sopts, common[i].shortopt);
    }
    return true;
}

/* ---- an input that shrinks under its mapping (see formats/mapfile.h) ---- */

static const char *shrink_prog = "ckpt";

static void put_stderr(const char *s)
{
    size_t n = strlen(s);
    while (n > 0) {
        ssize_t w = write(STDERR_FILENO, s, n);
        if (w <= 0)
            return;
        s += w;
        n -= (size_t)w;
    }
}

/* From the SIGBUS handler, after the temporaries are gone: signal-safe calls only. */
static void on_input_shrank(const char *path)
{
    put_stderr(shrink_prog);
    put_stderr(": ");
    put_stderr(path);
    put_stderr(": file shrank while being read (changed by another process?)\n");
    _exit(2);
}

bool ckpt_cli_init(struct ckpt_cli *cli, const struct ckpt_cli_tool *tool)
{
    *cli = (struct ckpt_cli){.tool = tool, .prog = tool->name, .level = 2, .stdin_fd = -1};
    cli->tty = isatty(STDERR_FILENO);
    /* The cleanup handlers first (they cover SIGPIPE too), then SIGPIPE
     * ignored on top: a reader that goes away is reported as EPIPE by the
     * write that meets it, the same way in every tool, and the temporaries
     * are removed by the ordinary error path. */
    ckpt_out_install_signal_cleanup();
    signal(SIGPIPE, SIG_IGN);
    shrink_prog = tool->name;
    ckpt_map_on_shrink(on_input_shrank);
    if (!merge(cli)) {
        fprintf(stderr, "%s: out of memory\n", cli->prog);
        return false;
    }
    return true;
}

void ckpt_cli_help(const struct ckpt_cli *cli, FILE *out)
{
    const struct ckpt_cli_tool *t = cli->tool;
    fprintf(out, "Usage: %s\n%s\n", t->usage, t->about);
    if (t->options && *t->options)
        fprintf(out, "\n%s", t->options);
    fputs("\nCommon options:\n", out);
    for (size_t i = 0; i < N_COMMON; i++) {
        if (!takes(cli, &common[i]))
            continue;
        if (common[i].lopt.val == 'o' && t->output_help)
            fputs(t->output_help, out);
        else
            fputs(common[i].help, out);
    }
    fputs("      --                  end of options: what follows are operands\n", out);
    if (t->help_more)
        t->help_more(out);
    fprintf(out, "\nExit status: %s\n", t->exit_status);
}

/* A report tool's -o FILE: opened once the options are read, so that an
 * existing file without -f is refused before any work. */
static bool open_report(struct ckpt_cli *cli)
{
    if (!(cli->tool->common & CKPT_CLI_REPORT) || !cli->output || strcmp(cli->output, "-") == 0)
        return true;
    ckpt_err err = {0};
    if (ckpt_out_open(&cli->report, cli->output, cli->force, &err) == CKPT_OK)
        return true;
    cli->exit = ckpt_cli_fail(cli, &err);
    return false;
}

int ckpt_cli_getopt(struct ckpt_cli *cli, int argc, char **argv)
{
    opterr = 0;
    for (;;) {
        int c = getopt_long(argc, argv, cli->sopts, cli->lopts, NULL);
        long v;
        switch (c) {
        case 'o': cli->output = optarg; continue;
        case 'c': cli->output = "-"; continue;
        case 'f': cli->force = true; continue;
        case 'j':
        case 'T':
            if (!ckpt_cli_parse_int(optarg, 0, 4096, &v)) {
                ckpt_cli_usage_error(cli, "-%c: '%s' is not a thread count (0 = all CPUs)",
                                     c, optarg);
                return CKPT_CLI_EXIT;
            }
            cli->threads = (int)v;
            continue;
        case OPT_JSON: cli->json = true; continue;
        case OPT_SPLIT_SIZE:
            if (!ckpt_cli_parse_size(optarg, &cli->split_bytes) || cli->split_bytes == 0) {
                ckpt_cli_usage_error(cli, "--split-max-size: '%s' is not a size (a number of "
                                          "bytes, optionally followed by K, M or G)", optarg);
                return CKPT_CLI_EXIT;
            }
            continue;
        case OPT_SPLIT_TENSORS:
            if (!ckpt_cli_parse_int(optarg, 1, INT32_MAX, &v)) {
                ckpt_cli_usage_error(cli, "--split-max-tensors: '%s' is not a tensor count "
                                          "(1 or more)", optarg);
                return CKPT_CLI_EXIT;
            }
            cli->split_tensors = (uint64_t)v;
            continue;
        case 'q': cli->level--; continue;
        case 'v': cli->level++; continue;
        case 'h':
            ckpt_cli_help(cli, stdout);
            cli->exit = 0;
            return CKPT_CLI_EXIT;
        case 'V':
            printf("%s %s\n", cli->prog, CKPT_VERSION);
            cli->exit = 0;
            return CKPT_CLI_EXIT;
        case ':': /* the value was missing at the end: the option is the last word */
            ckpt_cli_usage_error(cli, "option '%s' needs a value", argv[optind - 1]);
            return CKPT_CLI_EXIT;
        case '?': /* optopt: an unknown short option; 0: a long one, the last word read */
            if (optopt)
                ckpt_cli_usage_error(cli, "unknown option '-%c'", optopt);
            else
                ckpt_cli_usage_error(cli, "unknown option '%s'", argv[optind - 1]);
            return CKPT_CLI_EXIT;
        case -1:
            return open_report(cli) ? -1 : CKPT_CLI_EXIT;
        default:
            return c;
        }
    }
}
