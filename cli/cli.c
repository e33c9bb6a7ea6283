/*
 * cli.c - set-up, messages and value parsing shared by the tools (cli.h).
 */
#define _GNU_SOURCE
#include "cli.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../formats/gguf.h"
#include "../formats/mapfile.h"

static void vmsg(struct ckpt_cli *cli, const char *fmt, va_list ap)
{
    ckpt_cli_progress_clear(cli);
    fprintf(stderr, "%s: ", cli->prog);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
}

void ckpt_cli_msg(struct ckpt_cli *cli, int min_level, const char *fmt, ...)
{
    if (cli->level < min_level)
        return;
    va_list ap;
    va_start(ap, fmt);
    vmsg(cli, fmt, ap);
    va_end(ap);
}

void ckpt_cli_on_message(void *ctx, int level, const char *msg)
{
    ckpt_cli_msg(ctx, level, "%s", msg);
}

int ckpt_cli_fail(struct ckpt_cli *cli, const ckpt_err *err)
{
    ckpt_status code = err && err->code != CKPT_OK ? err->code : CKPT_E_INTERNAL;
    ckpt_cli_msg(cli, 1, "%s", err && err->msg[0] ? err->msg : ckpt_strstatus(code));
    return ckpt_status_exit_code(code);
}

int ckpt_cli_usage_error(struct ckpt_cli *cli, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vmsg(cli, fmt, ap);
    va_end(ap);
    fprintf(stderr, "Try '%s --help'.\n", cli->prog);
    cli->exit = 2;
    return 2;
}

int ckpt_cli_check_binary_stdout(struct ckpt_cli *cli, const char *what)
{
    if (cli->force || !isatty(STDOUT_FILENO))
        return 0;
    return ckpt_cli_usage_error(cli, "refusing to write %s to a terminal (use -o FILE, or -f)",
                                what);
}

double ckpt_cli_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
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

bool ckpt_cli_parse_size(const char *s, uint64_t *out)
{
    static const struct {
        char suffix;
        uint64_t scale;
    } units[] = {{'K', 1000}, {'M', 1000 * 1000}, {'G', 1000 * 1000 * 1000}};
    size_t len = s ? strlen(s) : 0, digits = len;
    uint64_t scale = 1;
    for (size_t i = 0; len && i < sizeof units / sizeof units[0]; i++)
        if (s[len - 1] == units[i].suffix) {
            scale = units[i].scale;
            digits = len - 1;
        }
    if (digits == 0 || digits > 19)
        return false;
    uint64_t v = 0;
    for (size_t i = 0; i < digits; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (uint64_t)(s[i] - '0'); /* 19 digits cannot wrap */
    }
    return !__builtin_mul_overflow(v, scale, out);
}

const char *ckpt_cli_bytes(uint64_t n, char *buf, int size)
{
    static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
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

const char *ckpt_cli_stdin_file(struct ckpt_cli *cli)
{
    if (cli->stdin_fd >= 0)
        return cli->stdin_path;
    ckpt_err err = {0};
    int fd = ckpt_map_spool_stdin(&err);
    if (fd < 0) {
        ckpt_cli_fail(cli, &err);
        return NULL;
    }
    cli->stdin_fd = fd;
    snprintf(cli->stdin_path, sizeof cli->stdin_path, "/dev/fd/%d", fd);
    return cli->stdin_path;
}

const char *ckpt_cli_stdin_gguf(struct ckpt_cli *cli)
{
    const char *path = ckpt_cli_stdin_file(cli);
    if (path && !ckpt_gguf_has_magic(path)) {
        ckpt_cli_msg(cli, 1, "-: standard input is not a GGUF file (a model read from standard "
                             "input must be a GGUF; give a model directory by name)");
        return NULL;
    }
    return path;
}
