/*
 * err.c - error records (see err.h).  Messages are truncated, never
 * overflowed; control characters from file contents are replaced by '?'
 * so a hostile name cannot rewrite the user's terminal.
 */
#include "err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void ckpt_err_clear(ckpt_err *err)
{
    if (!err)
        return;
    err->code = CKPT_OK;
    err->msg[0] = '\0';
}

static void sanitize(char *s)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c < 0x20 || c == 0x7f)
            *s = '?';
    }
}

static ckpt_status vset(ckpt_err *err, ckpt_status code, int errnum, const char *fmt, va_list ap)
{
    if (!err || err->code != CKPT_OK)
        return code;
    err->code = code;
    int n = vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    if (n < 0)
        err->msg[0] = '\0';
    if (errnum) {
        size_t len = strlen(err->msg);
        snprintf(err->msg + len, sizeof err->msg - len, ": %s", strerror(errnum));
    }
    sanitize(err->msg);
    return code;
}

ckpt_status ckpt_err_set(ckpt_err *err, ckpt_status code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vset(err, code, 0, fmt, ap);
    va_end(ap);
    return code;
}

ckpt_status ckpt_err_errno(ckpt_err *err, ckpt_status code, int errnum, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vset(err, code, errnum, fmt, ap);
    va_end(ap);
    return code;
}

const char *ckpt_strstatus(ckpt_status code)
{
    switch (code) {
    case CKPT_OK: return "ok";
    case CKPT_E_USAGE: return "usage error";
    case CKPT_E_IO: return "i/o error";
    case CKPT_E_FORMAT: return "format error";
    case CKPT_E_RANGE: return "out of range";
    case CKPT_E_NOMEM: return "out of memory";
    case CKPT_E_UNSUPPORTED: return "unsupported";
    case CKPT_E_MISMATCH: return "mismatch";
    case CKPT_E_INTERNAL: return "internal error";
    case CKPT_E_VALUE: return "bad value";
    case CKPT_E_EXISTS: return "file exists";
    }
    return "unknown status";
}

int ckpt_status_exit_code(ckpt_status code)
{
    if (code == CKPT_OK)
        return 0;
    if (code == CKPT_E_MISMATCH)
        return 1;
    return 2;
}
