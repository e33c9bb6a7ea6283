/*
 * err.h - the one error convention of libckpt.
 *
 * Every fallible library function returns a ckpt_status and, when it fails,
 * fills a caller-provided ckpt_err with the status and a one-line message
 * ("file: what was wrong", lowercase, no trailing period).  The first error
 * set on a record wins, so the root cause survives the unwinding of callers
 * that add their own context.  A NULL ckpt_err is allowed everywhere.
 * Library code never prints and never exits; the tools print err.msg.
 */
#ifndef CKPT_KERNELS_ERR_H
#define CKPT_KERNELS_ERR_H

#include <stdbool.h>

/* Numbered once and never renumbered: tools and tests rely on the values. */
typedef enum {
    CKPT_OK = 0,
    CKPT_E_USAGE = 1,       /* bad arguments from the caller */
    CKPT_E_IO = 2,          /* open/read/write/mmap/rename failed */
    CKPT_E_FORMAT = 3,      /* the bytes of a file are malformed */
    CKPT_E_RANGE = 4,       /* a length, offset, count or size is out of range */
    CKPT_E_NOMEM = 5,       /* allocation failed */
    CKPT_E_UNSUPPORTED = 6, /* well-formed but not something ckpt handles */
    CKPT_E_MISMATCH = 7,    /* a finished check found a difference (exit 1) */
    CKPT_E_INTERNAL = 8,    /* a bug in ckpt */
    CKPT_E_VALUE = 9,       /* a value is not representable (NaN, Inf, f16 overflow) */
    CKPT_E_EXISTS = 10,     /* output exists and overwriting was not allowed */
} ckpt_status;

#define CKPT_ERR_MSG_LEN 512

typedef struct {
    ckpt_status code;
    char msg[CKPT_ERR_MSG_LEN];
} ckpt_err;

/* Reset a record to "no error". */
void ckpt_err_clear(ckpt_err *err);

/*
 * Record an error unless one is already recorded (first error wins).
 * Returns code, so callers can write `return ckpt_err_set(err, ...)`.
 */
ckpt_status ckpt_err_set(ckpt_err *err, ckpt_status code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Same, appending ": strerror(errnum)". */
ckpt_status ckpt_err_errno(ckpt_err *err, ckpt_status code, int errnum, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Short stable name of a status ("format error"). Never NULL. */
const char *ckpt_strstatus(ckpt_status code);

/* Exit code a tool uses for a status: 0 ok, 1 check failed, 2 anything else. */
int ckpt_status_exit_code(ckpt_status code);

#endif
