/*
 * str.c: string copies, SHA-256 and hex encoding.
 *
 * The copies are the caller's to free(). SHA-256 is libsodium's crypto_hash_sha256, which needs
 * no sodium_init() and keeps no state. Thread-safety: reentrant.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "slaledger/util.h"

char *sl_strdup(const char *s)
{
    if (!s)
        return NULL;
    return sl_strndup(s, strlen(s));
}

char *sl_strndup(const char *s, size_t n)
{
    char *p;

    if ((!s && n > 0) || n == SIZE_MAX)
        return NULL;
    p = malloc(n + 1);
    if (!p)
        return NULL;
    if (n > 0)
        memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

void sl_sha256(const void *data, size_t len, uint8_t out[SL_HASH_LEN])
{
    crypto_hash_sha256(out, data, (unsigned long long)len);
}

void sl_hex(const uint8_t *data, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";

    for (size_t k = 0; k < n; k++) {
        out[2 * k] = digits[data[k] >> 4];
        out[2 * k + 1] = digits[data[k] & 0x0f];
    }
    out[2 * n] = '\0';
}

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int sl_unhex(const char *s, size_t len, uint8_t *out, size_t n)
{
    if (n > SIZE_MAX / 2 || len != 2 * n)
        return SL_EINVAL;
    for (size_t i = 0; i < len; i++)
        if (hex_digit(s[i]) < 0)
            return SL_EINVAL;
    for (size_t i = 0; i < n; i++)
        out[i] = (uint8_t)(hex_digit(s[2 * i]) << 4 | hex_digit(s[2 * i + 1]));
    return 0;
}

void sl_strfmt(char *out, size_t cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(out, cap, fmt, ap);
    va_end(ap);
}
