/*
 * cli.c - shared tool-edge behaviour (see cli.h).
 */
#define _GNU_SOURCE
#include "cli.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

void ckpt_cli_init(struct ckpt_cli *cli, const char *prog)
{
    cli->prog = prog;
    cli->level = 2;
    cli->progress = isatty(STDERR_FILENO);
    cli->last_draw = 0;
    cli->line_dirty = false;
}

double ckpt_cli_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

void ckpt_cli_progress_clear(struct ckpt_cli *cli)
{
    if (cli->line_dirty) {
        fputs("\r\033[K", stderr);
        cli->line_dirty = false;
    }
}

void ckpt_cli_msg(struct ckpt_cli *cli, int min_level, const char *fmt, ...)
{
    if (cli->level < min_level)
        return;
    ckpt_cli_progress_clear(cli);
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "%s: ", cli->prog);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

int ckpt_cli_fail(struct ckpt_cli *cli, const ckpt_err *err)
{
    ckpt_cli_progress_clear(cli);
    if (cli->level >= 1)
        fprintf(stderr, "%s: %s\n", cli->prog,
                err && err->msg[0] ? err->msg : ckpt_strstatus(err ? err->code : CKPT_E_INTERNAL));
    return ckpt_status_exit_code(err ? err->code : CKPT_E_INTERNAL);
}

int ckpt_cli_usage_error(struct ckpt_cli *cli, const char *fmt, ...)
{
    ckpt_cli_progress_clear(cli);
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "%s: ", cli->prog);
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\nTry '%s --help' for more information.\n", cli->prog);
    va_end(ap);
    return 2;
}

void ckpt_cli_progress(struct ckpt_cli *cli, const char *what, uint64_t done, uint64_t total)
{
    if (!cli->progress || cli->level < 2)
        return;
    double now = ckpt_cli_now();
    if (done < total && now - cli->last_draw < 1.0 / 6)
        return;
    cli->last_draw = now;
    double pct = total ? 100.0 * (double)done / (double)total : 100.0;
    fprintf(stderr, "\r\033[K%s: %s %.1f%%", cli->prog, what, pct);
    cli->line_dirty = true;
}

bool ckpt_cli_parse_int(const char *s, long min, long max, long *out)
{
    if (!s || !*s)
        return false;
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || *end || v < min || v > max)
        return false;
    *out = v;
    return true;
}

bool ckpt_cli_parse_double(const char *s, double *out)
{
    if (!s || !*s)
        return false;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || *end || !isfinite(v))
        return false;
    *out = v;
    return true;
}

const char *ckpt_cli_bytes(uint64_t n, char *buf, int size)
{
    static const char *units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    double v = (double)n;
    int u = 0;
    while (v >= 1024 && u < 4) {
        v /= 1024;
        u++;
    }
    if (u == 0)
        snprintf(buf, (size_t)size, "%llu B", (unsigned long long)n);
    else
        snprintf(buf, (size_t)size, "%.2f %s", v, units[u]);
    return buf;
}
