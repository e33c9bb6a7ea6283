/*
 * stdout.c - standard output with every write checked (cli.h).  The first
 * failure is remembered, later writes are skipped, and ckpt_cli_finish
 * reports it once: a report cut short by a full disk or a reader that went
 * away is an error (exit 2), never a silent success.  A report sent to
 * -o FILE goes through formats/outfile.h instead: a temporary, renamed
 * into place at the end.
 */
#include "cli.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../formats/outfile.h"

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
    if (cli->report) {
        if (ckpt_out_write(cli->report, buf, n, &cli->report_err) == CKPT_OK)
            return true;
        cli->out_errno = EIO; /* the message is in report_err */
        return false;
    }
    errno = 0;
    if (n && fwrite(buf, 1, n, stdout) != n)
        return failed(cli);
    return true;
}

bool ckpt_cli_printf(struct ckpt_cli *cli, const char *fmt, ...)
{
    char small[512], *buf = small;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0)
        return failed(cli);
    if ((size_t)n >= sizeof small) {
        if (!(buf = malloc((size_t)n + 1))) {
            errno = ENOMEM;
            return failed(cli);
        }
        va_start(ap, fmt);
        vsnprintf(buf, (size_t)n + 1, fmt, ap);
        va_end(ap);
    }
    bool ok = ckpt_cli_write(cli, buf, (size_t)n);
    if (buf != small)
        free(buf);
    return ok;
}

bool ckpt_cli_flush(struct ckpt_cli *cli)
{
    if (cli->out_errno)
        return false;
    if (cli->report) /* written whole at the end */
        return true;
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

/* The report's -o FILE: in place when the tool ran to its end, else gone. */
static void end_report(struct ckpt_cli *cli, int *rc)
{
    if (!cli->report)
        return;
    if (cli->out_errno || *rc > 1) {
        ckpt_out_abort(cli->report);
    } else if (ckpt_out_commit(cli->report, &cli->report_err) != CKPT_OK) {
        cli->out_errno = EIO;
    }
    cli->report = NULL;
    if (cli->out_errno) {
        ckpt_cli_fail(cli, &cli->report_err);
        cli->out_errno = 0; /* reported */
        *rc = 2;
    }
}

int ckpt_cli_finish(struct ckpt_cli *cli, int rc)
{
    ckpt_cli_progress_clear(cli);
    end_report(cli, &rc);
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
