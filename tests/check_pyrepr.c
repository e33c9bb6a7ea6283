/*
 * check_pyrepr.c - Python repr() of floats and strings (pyrepr.h), used by
 * the GGUF golden listings, and its suite: known outputs of CPython's
 * repr() for the cases that matter (exponent thresholds, shortest
 * round-trip digits, quote choice, escapes).
 */
#include <check.h>

#include "pyrepr.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void sb_put(struct sbuf *b, const void *s, size_t n)
{
    if (b->n + n + 1 > b->cap) {
        b->cap = (b->n + n + 1) * 2;
        b->p = realloc(b->p, b->cap);
        if (!b->p)
            abort();
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = '\0';
}

void sb_puts(struct sbuf *b, const char *s) { sb_put(b, s, strlen(s)); }

void sb_printf(struct sbuf *b, const char *fmt, ...)
{
    char tmp[64];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n > 0)
        sb_put(b, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

void sb_free(struct sbuf *b)
{
    free(b->p);
    memset(b, 0, sizeof *b);
}

void py_repr_float(struct sbuf *b, double x)
{
    if (isnan(x)) {
        sb_puts(b, "nan");
        return;
    }
    if (isinf(x)) {
        sb_puts(b, x < 0 ? "-inf" : "inf");
        return;
    }
    if (signbit(x))
        sb_puts(b, "-");
    x = fabs(x);
    /* shortest %.*e that reads back exactly */
    char e[40];
    for (int prec = 0; prec < 17; prec++) {
        snprintf(e, sizeof e, "%.*e", prec, x);
        if (strtod(e, NULL) == x)
            break;
    }
    /* e = "d[.ddd]e[+-]XX": collect the digits and the exponent */
    char digits[24];
    size_t nd = 0;
    const char *p = e;
    for (; *p && *p != 'e'; p++)
        if (*p >= '0' && *p <= '9')
            digits[nd++] = *p;
    int exp10 = atoi(p + 1);
    while (nd > 1 && digits[nd - 1] == '0')
        nd--;
    digits[nd] = '\0';
    int decpt = exp10 + 1; /* x = 0.DIGITS * 10^decpt */
    if (x == 0)
        decpt = 1;
    if (decpt <= -4 || decpt > 16) {
        sb_put(b, digits, 1);
        if (nd > 1) {
            sb_puts(b, ".");
            sb_put(b, digits + 1, nd - 1);
        }
        sb_printf(b, "e%c%02d", exp10 < 0 ? '-' : '+', abs(exp10));
    } else if (decpt <= 0) {
        sb_puts(b, "0.");
        for (int i = 0; i < -decpt; i++)
            sb_puts(b, "0");
        sb_put(b, digits, nd);
    } else if ((size_t)decpt >= nd) {
        sb_put(b, digits, nd);
        for (size_t i = nd; i < (size_t)decpt; i++)
            sb_puts(b, "0");
        sb_puts(b, ".0");
    } else {
        sb_put(b, digits, (size_t)decpt);
        sb_puts(b, ".");
        sb_put(b, digits + decpt, nd - (size_t)decpt);
    }
}

/* Python's str.isprintable() for non-ASCII code points (see pyrepr.h for the limits). */
static bool printable(uint32_t c)
{
    static const uint32_t ranges[][2] = {
        {0x80, 0xa0},       {0xad, 0xad},       {0x600, 0x605},     {0x61c, 0x61c},
        {0x6dd, 0x6dd},     {0x70f, 0x70f},     {0x890, 0x891},     {0x8e2, 0x8e2},
        {0x1680, 0x1680},   {0x180e, 0x180e},   {0x2000, 0x200f},   {0x2028, 0x202f},
        {0x205f, 0x2064},   {0x2066, 0x206f},   {0x3000, 0x3000},   {0xd800, 0xf8ff},
        {0xfeff, 0xfeff},   {0xfff9, 0xfffb},   {0xfffe, 0xffff},   {0x110bd, 0x110bd},
        {0x110cd, 0x110cd}, {0x13430, 0x1343f}, {0x1bca0, 0x1bca3}, {0x1d173, 0x1d17a},
        {0xe0001, 0xe0001}, {0xe0020, 0xe007f}, {0xf0000, 0x10ffff},
    };
    for (size_t i = 0; i < sizeof ranges / sizeof ranges[0]; i++)
        if (c >= ranges[i][0] && c <= ranges[i][1])
            return false;
    return true;
}

/* Decode one UTF-8 sequence; 0 on malformed input. */
static size_t utf8_next(const unsigned char *s, size_t left, uint32_t *cp)
{
    unsigned char c = s[0];
    size_t n;
    uint32_t v, min;
    if (c < 0x80) {
        *cp = c;
        return 1;
    } else if ((c & 0xe0) == 0xc0) {
        n = 2, v = c & 0x1f, min = 0x80;
    } else if ((c & 0xf0) == 0xe0) {
        n = 3, v = c & 0x0f, min = 0x800;
    } else if ((c & 0xf8) == 0xf0) {
        n = 4, v = c & 0x07, min = 0x10000;
    } else {
        return 0;
    }
    if (n > left)
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        v = (v << 6) | (s[i] & 0x3f);
    }
    if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
        return 0;
    *cp = v;
    return n;
}

bool py_repr_str(struct sbuf *b, const char *s, size_t len)
{
    const unsigned char *u = (const unsigned char *)s;
    bool sq = memchr(s, '\'', len) != NULL, dq = memchr(s, '"', len) != NULL;
    char quote = (sq && !dq) ? '"' : '\'';
    sb_put(b, &quote, 1);
    for (size_t i = 0; i < len;) {
        uint32_t c;
        size_t n = utf8_next(u + i, len - i, &c);
        if (n == 0)
            return false;
        if (c == (uint32_t)quote || c == '\\') {
            sb_printf(b, "\\%c", (char)c);
        } else if (c == '\t') {
            sb_puts(b, "\\t");
        } else if (c == '\n') {
            sb_puts(b, "\\n");
        } else if (c == '\r') {
            sb_puts(b, "\\r");
        } else if (c < 0x20 || c == 0x7f) {
            sb_printf(b, "\\x%02x", (unsigned)c);
        } else if (c < 0x7f || printable(c)) {
            sb_put(b, u + i, n);
        } else if (c <= 0xff) {
            sb_printf(b, "\\x%02x", (unsigned)c);
        } else if (c <= 0xffff) {
            sb_printf(b, "\\u%04x", (unsigned)c);
        } else {
            sb_printf(b, "\\U%08x", (unsigned)c);
        }
        i += n;
    }
    sb_put(b, &quote, 1);
    return true;
}

/* ---- suite ---- */

static void expect_float(double x, const char *want)
{
    struct sbuf b = {0};
    py_repr_float(&b, x);
    ck_assert_msg(strcmp(b.p, want) == 0, "repr(%a) = %s, Python says %s", x, b.p, want);
    sb_free(&b);
}

static void expect_str(const char *s, const char *want)
{
    struct sbuf b = {0};
    ck_assert(py_repr_str(&b, s, strlen(s)));
    ck_assert_msg(strcmp(b.p, want) == 0, "repr(%s) = %s, Python says %s", s, b.p, want);
    sb_free(&b);
}

START_TEST(float_repr)
{
    expect_float(0.0, "0.0");
    expect_float(-0.0, "-0.0");
    expect_float(1.0, "1.0");
    expect_float(-1000.0, "-1000.0");
    expect_float(10000.0, "10000.0");
    expect_float(1e6, "1000000.0");
    expect_float(0.5, "0.5");
    expect_float(0.1, "0.1");
    expect_float(0.0001, "0.0001");
    expect_float(1e-5, "1e-05");
    expect_float((double)1e-5f, "9.999999747378752e-06");
    expect_float(1.5e-7, "1.5e-07");
    expect_float(1e15, "1000000000000000.0");
    expect_float(1e16, "1e+16");
    expect_float(1.2345678901234567e16, "1.2345678901234568e+16");
    expect_float(123.456, "123.456");
    expect_float(1e100, "1e+100");
    expect_float(5e-324, "5e-324");
    expect_float((double)-0.1f, "-0.10000000149011612");
    expect_float(1.0 / 0.0, "inf");
    expect_float(-1.0 / 0.0, "-inf");
    expect_float(0.0 / 0.0, "nan");
}
END_TEST

START_TEST(str_repr)
{
    expect_str("abc", "'abc'");
    expect_str("", "''");
    expect_str("it's", "\"it's\"");
    expect_str("\"", "'\"'");
    expect_str("'\"", "'\\'\"'");
    expect_str("a\\b", "'a\\\\b'");
    expect_str("\t\n\r\x1b\x7f", "'\\t\\n\\r\\x1b\\x7f'");
    expect_str("\xe2\x96\x81the", "'\xe2\x96\x81the'"); /* U+2581 is printable */
    expect_str("\xc2\xa0", "'\\xa0'");                     /* no-break space */
    expect_str("\xe2\x80\x8b", "'\\u200b'");              /* zero-width space */
    expect_str("\xf3\xa0\x80\x81", "'\\U000e0001'");     /* language tag */
    expect_str("\xea\xb0\x80", "'\xea\xb0\x80'");         /* Hangul */
    struct sbuf b = {0};
    ck_assert(!py_repr_str(&b, "\xff", 1));
    ck_assert(!py_repr_str(&b, "\xc0\x80", 2)); /* overlong NUL */
    sb_free(&b);
}
END_TEST

Suite *pyrepr_suite(void)
{
    Suite *s = suite_create("pyrepr");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, float_repr);
    tcase_add_test(tc, str_repr);
    suite_add_tcase(s, tc);
    return s;
}
