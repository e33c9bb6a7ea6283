/*
 * stdout.c - standard output with every write checked (cli.h).  The first
 * failure is remembered, later writes are skipped, and ckpt_cli_finish
 * reports it once: a report cut short by a full disk or a reader that went
 * away is an error (exit 2), never a silent success.
 */
#include "cli.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static bool failed(struct ckpt_cli *cli)
{
    if (!cli->out_errno)
        cli->out_errno = errno ? errno : EIO;
    return false;
}

bool ckpt_cli_write(struct ckpt_cli *cli, const void *buf, size_t n)
{
    if (cli->out_errno)
        return false;
    errno = 0;
    if (n && fwrite(buf, 1, n, stdout) != n)
        return failed(cli);
    return true;
}

bool ckpt_cli_printf(struct ckpt_cli *cli, const char *fmt, ...)
{
    if (cli->out_errno)
        return false;
    va_list ap;
    va_start(ap, fmt);
    errno = 0;
    int r = vfprintf(stdout, fmt, ap);
    va_end(ap);
    return r < 0 ? failed(cli) : true;
}

bool ckpt_cli_flush(struct ckpt_cli *cli)
{
    if (cli->out_errno)
        return false;
    errno = 0;
    return fflush(stdout) == 0 ? true : failed(cli);
}

bool ckpt_cli_json(struct ckpt_cli *cli, cJSON *doc)
{
    char *s = doc ? cJSON_Print(doc) : NULL;
    cJSON_Delete(doc);
    if (!s) {
        ckpt_cli_msg(cli, 1, "out of memory writing the JSON report");
        return false;
    }
    bool ok = ckpt_cli_printf(cli, "%s\n", s);
    free(s);
    return ok;
}

int ckpt_cli_finish(struct ckpt_cli *cli, int rc)
{
    ckpt_cli_progress_clear(cli);
    errno = 0;
    if (fflush(stdout) != 0 || ferror(stdout))
        failed(cli);
    errno = 0;
    if (fclose(stdout) != 0)
        failed(cli);
    if (cli->out_errno) {
        ckpt_cli_msg(cli, 1, "write error: standard output: %s", strerror(cli->out_errno));
        rc = 2;
    }
    if (cli->stdin_fd >= 0)
        close(cli->stdin_fd);
    cli->stdin_fd = -1;
    free(cli->lopts);
    free(cli->sopts);
    cli->lopts = NULL;
    cli->sopts = NULL;
    return rc;
}
