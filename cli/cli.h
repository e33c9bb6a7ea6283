/*
 * cli.h - the tools' layer: what every ckpt tool shares at its edge with
 * the user.  Common options, one usage layout, messages and exit codes,
 * progress drawn on a terminal, one JSON writer, and checked standard
 * output.  This layer prints and the library below it never does: the
 * library reports through ckpt_err, returned data and the one progress
 * callback (kernels/progress.h).
 *
 * A tool describes itself once (struct ckpt_cli_tool), then loops on
 * ckpt_cli_getopt, which handles the common options itself and hands the
 * tool only its own, and ends with `return ckpt_cli_finish(&cli, rc);`,
 * which checks that everything written to standard output got there.
 *
 * Display levels: 0 silent, 1 errors, 2 default (warnings + one summary
 * line), 3 details (-v), 4 debug (-vv).  Exit codes: 0 ok, 1 a check ran
 * and failed, 2 usage, input, output or resource error.
 */
#ifndef CKPT_CLI_CLI_H
#define CKPT_CLI_CLI_H

#include <cjson/cJSON.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "../kernels/err.h"
#include "../kernels/progress.h"

/* Common options a tool may take beyond those every tool takes
 * (-j/-T N, -q, -v, -h, -V, --). */
enum {
    CKPT_CLI_OUTPUT = 1 << 0, /* -o FILE ("-": standard output) */
    CKPT_CLI_STDOUT = 1 << 1, /* -c, the same as -o - */
    CKPT_CLI_FORCE = 1 << 2,  /* -f */
    CKPT_CLI_JSON = 1 << 3,   /* --json */
    CKPT_CLI_REPORT = 1 << 4, /* -o FILE takes what goes to standard output (the report),
                                 written whole or not at all; needs CKPT_CLI_OUTPUT */
    CKPT_CLI_SPLIT = 1 << 5,  /* --split-max-size SIZE, --split-max-tensors N (a GGUF
                                 writer's split set, formats/gguf.h) */
};

/* ckpt_cli_getopt's answer when the tool should return cli->exit now
 * (after --help, --version or a usage error, already reported). */
#define CKPT_CLI_EXIT (-2)

struct ckpt_cli_tool {
    const char *name;                /* "ckpt-quant": message prefix, --version */
    const char *usage;               /* after "Usage: ": synopsis line(s) */
    const char *about;               /* what the tool does, a few lines */
    const char *options;             /* help lines of the tool's own options */
    const char *shortopts;           /* the tool's own short options (getopt syntax) */
    const struct option *longopts;   /* the tool's own long options, {0}-terminated */
    unsigned common;                 /* CKPT_CLI_* beyond the ones every tool takes */
    const char *output_help;         /* -o's help text (NULL: a generic one) */
    const char *exit_status;         /* "0 written, 2 ..." */
    void (*help_more)(FILE *out);    /* printed after the options (NULL: nothing) */
};

struct ckpt_cli {
    const struct ckpt_cli_tool *tool;
    const char *prog;     /* tool->name */
    int level;            /* display level, see above */
    int threads;          /* -j/-T; 0 = all CPUs */
    const char *output;   /* -o/-c; NULL when not given */
    bool force;           /* -f */
    bool json;            /* --json */
    uint64_t split_bytes; /* --split-max-size; 0: not given */
    uint64_t split_tensors; /* --split-max-tensors; 0: not given */
    int exit;             /* the exit code when ckpt_cli_getopt says CKPT_CLI_EXIT */
    /* progress (only when stderr is a terminal) */
    bool tty;
    double last_draw, phase_start;
    uint64_t last_done;
    bool line_dirty;
    /* standard output, or the -o FILE of a report (CKPT_CLI_REPORT) */
    int out_errno;        /* first failed write, 0 while all went well */
    struct ckpt_out *report; /* -o FILE of a report, NULL: standard output */
    ckpt_err report_err;  /* what failed writing it */
    int stdin_fd;         /* the spool of ckpt_cli_stdin_file, -1 none */
    char stdin_path[32];
    /* the merged option tables (owned) */
    struct option *lopts;
    char *sopts;
};

/*
 * Set up for `tool`: display level 2, progress iff stderr is a terminal;
 * temporaries are removed on a fatal signal and SIGPIPE is ignored, so
 * that a closed pipe is an ordinary write error (EPIPE) in every tool.
 * Returns false when out of memory (reported; exit 2).  A tool's own
 * option codes must leave the common ones alone: the letters c f h j o q T
 * v V, and codes from 0x1000 up.
 */
bool ckpt_cli_init(struct ckpt_cli *cli, const struct ckpt_cli_tool *tool);

/*
 * getopt_long over the tool's options and the common ones.  Returns the
 * tool's option code (optarg as getopt sets it), -1 at the end of the
 * options (optind is the first operand), or CKPT_CLI_EXIT.
 */
int ckpt_cli_getopt(struct ckpt_cli *cli, int argc, char **argv);

/* Print the help text to out. */
void ckpt_cli_help(const struct ckpt_cli *cli, FILE *out);

/*
 * End of a tool: clear progress, flush and close standard output.  A
 * failed write anywhere on it (full disk, closed pipe) is reported once
 * ("prog: write error: standard output: Broken pipe") and makes the exit
 * code 2.  A report's -o FILE is put in place when rc is 0 or 1 (a check
 * that failed still has its report) and removed otherwise.  Frees what
 * ckpt_cli_init took.  Returns the exit code.
 */
int ckpt_cli_finish(struct ckpt_cli *cli, int rc);

/* ---- messages (stderr) ---- */

/* "prog: message" if level >= min_level. */
void ckpt_cli_msg(struct ckpt_cli *cli, int min_level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Print the error record ("prog: msg") and return its exit code. */
int ckpt_cli_fail(struct ckpt_cli *cli, const ckpt_err *err);

/* "prog: msg" + "Try 'prog --help'."; returns 2. */
int ckpt_cli_usage_error(struct ckpt_cli *cli, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* A library message callback (level, text) that goes through ckpt_cli_msg;
 * ctx is the struct ckpt_cli. */
void ckpt_cli_on_message(void *ctx, int level, const char *msg);

/* ---- progress ---- */

/* The callback to give the library (ctx: the struct ckpt_cli), or NULL
 * when nothing would be drawn (stderr not a terminal, or -q). */
ckpt_progress_fn ckpt_cli_progress(const struct ckpt_cli *cli);
/* Clear the progress line (messages do it themselves). */
void ckpt_cli_progress_clear(struct ckpt_cli *cli);

/* ---- standard output (or -o FILE of a report): every write checked ---- */

/* false once any write to stdout failed (the rest is skipped then, and
 * ckpt_cli_finish reports it). */
bool ckpt_cli_write(struct ckpt_cli *cli, const void *buf, size_t n);
bool ckpt_cli_printf(struct ckpt_cli *cli, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Push what is buffered (streamed output such as generated text). */
bool ckpt_cli_flush(struct ckpt_cli *cli);
/* The one JSON writer: doc printed once (indented, then a newline), then
 * deleted.  NULL doc: out of memory, reported.  false on any failure. */
bool ckpt_cli_json(struct ckpt_cli *cli, cJSON *doc);

/* -o - / -c: refuse binary data on a terminal unless -f (a usage error,
 * returns 2), else 0. */
int ckpt_cli_check_binary_stdout(struct ckpt_cli *cli, const char *what);

/*
 * A name for standard input that any reader can open, stat and map more
 * than once: stdin is spooled to an unlinked temporary file (nothing is
 * left behind) and "/dev/fd/N" of it is returned (owned by cli, valid
 * until ckpt_cli_finish).  For tools whose readers need a real file (the
 * model loader sniffs, then maps).  NULL on error (reported).
 */
const char *ckpt_cli_stdin_file(struct ckpt_cli *cli);
/* The same for a model: standard input must hold a GGUF (a model directory
 * cannot come through a pipe); anything else is reported, NULL. */
const char *ckpt_cli_stdin_gguf(struct ckpt_cli *cli);

/* ---- values ---- */

/* Checked parsing: the whole string, in range.  false on error. */
bool ckpt_cli_parse_int(const char *s, long min, long max, long *out);
bool ckpt_cli_parse_double(const char *s, double *out);
/* A byte count as llama.cpp's converter takes --split-max-size: digits,
 * optionally followed by K, M or G (10^3, 10^6, 10^9). */
bool ckpt_cli_parse_size(const char *s, uint64_t *out);

/* Monotonic seconds. */
double ckpt_cli_now(void);

/* A byte count as "1.23 GiB" into buf (>= 32 bytes). */
const char *ckpt_cli_bytes(uint64_t n, char *buf, int size);

#endif
