/*
 * cli.h - what every ckpt tool shares at its edge with the user: display
 * levels, progress on a terminal only, checked number parsing, and the
 * exit-code mapping.  The library proper never prints; the tools route
 * messages through here (stderr only; stdout carries data or reports).
 *
 * Display levels: 0 silent, 1 errors, 2 default (warnings + one summary
 * line), 3 progress and details (-v), 4 debug (-vv).
 */
#ifndef CKPT_FORMATS_CLI_H
#define CKPT_FORMATS_CLI_H

#include <stdbool.h>
#include <stdint.h>

#include "../kernels/err.h"

struct ckpt_cli {
    const char *prog;     /* "ckpt-convert", used as message prefix */
    int level;            /* display level, see above */
    bool progress;        /* draw progress (stderr is a terminal, level >= 2) */
    double last_draw;     /* seconds, for rate limiting */
    bool line_dirty;      /* a progress line is on screen */
};

/* Initialise with the program name; progress on iff stderr is a TTY. */
void ckpt_cli_init(struct ckpt_cli *cli, const char *prog);

/* Print "prog: message" to stderr if level >= min_level. */
void ckpt_cli_msg(struct ckpt_cli *cli, int min_level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Print the error record ("prog: msg") and return the exit code for it. */
int ckpt_cli_fail(struct ckpt_cli *cli, const ckpt_err *err);

/* Usage error: "prog: msg" + "Try 'prog --help'." to stderr, returns 2. */
int ckpt_cli_usage_error(struct ckpt_cli *cli, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Progress: "what done/total (pct%)", at most 6 redraws per second. */
void ckpt_cli_progress(struct ckpt_cli *cli, const char *what, uint64_t done, uint64_t total);
/* Clear the progress line (before any other message and at the end). */
void ckpt_cli_progress_clear(struct ckpt_cli *cli);

/* Checked parsing: whole string, range-checked.  false on error. */
bool ckpt_cli_parse_int(const char *s, long min, long max, long *out);
bool ckpt_cli_parse_double(const char *s, double *out);

/* Monotonic seconds. */
double ckpt_cli_now(void);

/* Format a byte count as "1.23 GiB" into buf (>= 32 bytes). */
const char *ckpt_cli_bytes(uint64_t n, char *buf, int size);

#endif
