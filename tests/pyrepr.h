/*
 * pyrepr.h - Python's repr() of floats and strings, the pieces of the lists of GGUF values,
 * enough to recompute the `[N] H` array digests and the float values of
 * the golden *.kv.tsv listings (tests/data/golden/README.md).
 *
 *   float: the shortest string that reads back to the same double;
 *          exponent form when the decimal point position is <= -4 or > 16
 *          ("1e-05", "9.999999747378752e-06", "1e+16"), else "10000.0";
 *   str:   single quotes unless the text has ' and no "; \\ \n \r \t, the
 *          quote, \xNN for other C0 controls and DEL; non-ASCII code points
 *          kept unless not printable (\xNN, \uNNNN, \UNNNNNNNN).  Printable
 *          follows Python for controls, separators, format characters,
 *          surrogates and private use; code points unassigned in Unicode
 *          (category Cn) are not recognised and would be kept as they are.
 */
#ifndef CKPT_TESTS_PYREPR_H
#define CKPT_TESTS_PYREPR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sbuf {
    char *p; /* NUL-terminated */
    size_t n, cap;
};

void sb_put(struct sbuf *b, const void *s, size_t n);
void sb_puts(struct sbuf *b, const char *s);
void sb_printf(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sb_free(struct sbuf *b);

/* repr(float(x)) */
void py_repr_float(struct sbuf *b, double x);

/* repr(s) for UTF-8 bytes; false if s is not valid UTF-8. */
bool py_repr_str(struct sbuf *b, const char *s, size_t len);

#endif
