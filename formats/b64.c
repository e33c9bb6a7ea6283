/*
 * b64.c - strict standard base64 (see b64.h).
 */
#include "b64.h"

#include <stdbool.h>
#include <stdlib.h>

static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

ckpt_status ckpt_b64_encode(const uint8_t *data, size_t n, char **out, ckpt_err *err)
{
    *out = NULL;
    if (n > (SIZE_MAX - 1) / 4 * 3 - 3)
        return ckpt_err_set(err, CKPT_E_RANGE, "base64: input too large");
    char *s = malloc((n + 2) / 3 * 4 + 1), *p = s;
    if (!s)
        return ckpt_err_set(err, CKPT_E_NOMEM, "base64: out of memory");
    size_t i = 0;
    for (; i + 3 <= n; i += 3) {
        uint32_t v = (uint32_t)data[i] << 16 | (uint32_t)data[i + 1] << 8 | data[i + 2];
        *p++ = alphabet[v >> 18];
        *p++ = alphabet[v >> 12 & 63];
        *p++ = alphabet[v >> 6 & 63];
        *p++ = alphabet[v & 63];
    }
    if (n - i == 1) {
        uint32_t v = (uint32_t)data[i] << 16;
        *p++ = alphabet[v >> 18];
        *p++ = alphabet[v >> 12 & 63];
        *p++ = '=';
        *p++ = '=';
    } else if (n - i == 2) {
        uint32_t v = (uint32_t)data[i] << 16 | (uint32_t)data[i + 1] << 8;
        *p++ = alphabet[v >> 18];
        *p++ = alphabet[v >> 12 & 63];
        *p++ = alphabet[v >> 6 & 63];
        *p++ = '=';
    }
    *p = '\0';
    *out = s;
    return CKPT_OK;
}

static int value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

ckpt_status ckpt_b64_decode(const char *text, size_t len, const char *what, uint8_t **out,
                            size_t *out_len, ckpt_err *err)
{
    *out = NULL;
    *out_len = 0;
    if (len % 4 != 0)
        return ckpt_err_set(err, CKPT_E_FORMAT, "%s: base64 length %zu is not a multiple of 4",
                            what, len);
    size_t pad = 0;
    if (len >= 4 && text[len - 1] == '=')
        pad = text[len - 2] == '=' ? 2 : 1;
    uint8_t *buf = malloc(len / 4 * 3 + 1), *p = buf;
    if (!buf)
        return ckpt_err_set(err, CKPT_E_NOMEM, "%s: out of memory", what);
    for (size_t i = 0; i < len; i += 4) {
        bool last = i + 4 == len;
        int v[4];
        for (int k = 0; k < 4; k++) {
            size_t at = i + (size_t)k;
            v[k] = (last && at >= len - pad) ? 0 : value((unsigned char)text[at]);
            if (v[k] < 0) {
                free(buf);
                return ckpt_err_set(err, CKPT_E_FORMAT, "%s: invalid base64 character at %zu",
                                    what, at);
            }
        }
        uint32_t w = (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 | (uint32_t)v[2] << 6 |
                     (uint32_t)v[3];
        size_t keep = last ? 3 - pad : 3;
        /* the bits under the padding must be zero: one encoding per value */
        if ((pad == 1 && last && (w & 0xff)) || (pad == 2 && last && (w & 0xffff))) {
            free(buf);
            return ckpt_err_set(err, CKPT_E_FORMAT, "%s: non-canonical base64 padding", what);
        }
        p[0] = (uint8_t)(w >> 16);
        if (keep > 1)
            p[1] = (uint8_t)(w >> 8);
        if (keep > 2)
            p[2] = (uint8_t)w;
        p += keep;
    }
    *p = 0;
    *out = buf;
    *out_len = (size_t)(p - buf);
    return CKPT_OK;
}
