/*
 * num.c: exact decimals, percentages and checked int64 arithmetic for money (minor units) and
 * ratios (parts per million).
 *
 * No floating point: decimal text is converted digit by digit into an unsigned magnitude with
 * overflow checks, and products are taken in 128 bits. The accepted decimal syntax is strict:
 * an optional '-', at least one integer digit, and if a '.' is present at least one digit after
 * it (".5" and "5." are refused). Parsers never write *out on failure; formatters leave an
 * empty string when they fail. Thread-safety: reentrant, no state.
 */
#include <limits.h>
#include <string.h>

#include "slaledger/error.h"
#include "slaledger/util.h"

/* The shape of a decimal: where its integer and fractional digits are. */
typedef struct decimal_text {
    int neg;
    size_t int_at, int_len;
    size_t frac_at, frac_len;
} decimal_text;

static size_t count_digits(const char *s, size_t len, size_t at)
{
    size_t n = 0;
    while (at + n < len && s[at + n] >= '0' && s[at + n] <= '9')
        n++;
    return n;
}

/* Checks the syntax only; 0 when s[0..len) is a decimal with at most scale decimals. */
static int decimal_scan(const char *s, size_t len, unsigned scale, decimal_text *t)
{
    size_t i = 0;

    memset(t, 0, sizeof(*t));
    if (!s)
        return SL_EINVAL;
    if (i < len && s[i] == '-') {
        t->neg = 1;
        i++;
    }
    t->int_at = i;
    t->int_len = count_digits(s, len, i);
    i += t->int_len;
    if (t->int_len == 0)
        return SL_EINVAL;
    if (i < len && s[i] == '.') {
        t->frac_at = ++i;
        t->frac_len = count_digits(s, len, i);
        i += t->frac_len;
        if (t->frac_len == 0)
            return SL_EINVAL;
    }
    if (i != len || t->frac_len > scale)
        return SL_EINVAL;
    return 0;
}

/* mag = mag * 10 + digit, reporting overflow of uint64. */
static int push_digit(uint64_t *mag, unsigned digit)
{
    return __builtin_mul_overflow(*mag, 10, mag) || __builtin_add_overflow(*mag, digit, mag);
}

int sl_decimal_parse(const char *s, size_t len, unsigned scale, int64_t *out)
{
    decimal_text t;
    uint64_t mag = 0, limit;
    int rc = decimal_scan(s, len, scale, &t);

    if (rc != 0)
        return rc;
    for (size_t k = 0; k < t.int_len; k++)
        if (push_digit(&mag, (unsigned)(s[t.int_at + k] - '0')))
            return SL_EOVERFLOW;
    for (size_t k = 0; k < scale; k++)
        if (push_digit(&mag, k < t.frac_len ? (unsigned)(s[t.frac_at + k] - '0') : 0))
            return SL_EOVERFLOW;
    /* The negative range is one larger: INT64_MIN's magnitude is INT64_MAX + 1. */
    limit = (uint64_t)INT64_MAX + (t.neg ? 1 : 0);
    if (mag > limit)
        return SL_EOVERFLOW;
    *out = t.neg ? (int64_t)(0 - mag) : (int64_t)mag;
    return 0;
}

int sl_decimal_format(int64_t v, unsigned scale, char *buf, size_t cap)
{
    /* Work on the magnitude as uint64 so that INT64_MIN needs no special case. */
    uint64_t mag = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
    size_t ndig = 0, width, len, at;
    uint64_t m;

    for (m = mag; m > 0; m /= 10)
        ndig++;
    width = ndig > (size_t)scale ? ndig : (size_t)scale + 1;
    len = (v < 0) + width + (scale > 0);
    if (cap > 0)
        buf[0] = '\0';
    if (len >= cap || len > INT_MAX)
        return SL_EINVAL;
    at = len;
    buf[at] = '\0';
    for (size_t k = 0; k < width; k++, mag /= 10) {
        if (scale > 0 && k == scale)
            buf[--at] = '.';
        buf[--at] = (char)('0' + mag % 10);
    }
    if (v < 0)
        buf[--at] = '-';
    return (int)len;
}

int sl_percent_parse(const char *s, size_t len, int64_t *out_ppm)
{
    /* ppm is the percentage with four decimals: 99.95 % = 999500 ppm. */
    if (!s || len == 0 || s[len - 1] != '%' || s[0] == '-')
        return SL_EINVAL;
    return sl_decimal_parse(s, len - 1, 4, out_ppm);
}

int sl_ppm_format(int64_t ppm, char *buf, size_t cap)
{
    char tmp[32];
    int n = sl_decimal_format(ppm, 4, tmp, sizeof(tmp));

    while (n > 0 && tmp[n - 1] == '0')
        n--;
    if (n > 0 && tmp[n - 1] == '.')
        n--;
    if (cap > 0)
        buf[0] = '\0';
    if (n <= 0 || (size_t)n + 1 >= cap)
        return SL_EINVAL;
    memcpy(buf, tmp, (size_t)n);
    buf[n] = '%';
    buf[n + 1] = '\0';
    return n + 1;
}

int sl_muldiv(int64_t a, int64_t b, int64_t c, int64_t *out)
{
    unsigned __int128 q;

    if (a < 0 || b < 0 || c <= 0)
        return SL_EINVAL;
    q = (unsigned __int128)a * (unsigned __int128)b / (unsigned __int128)c;
    if (q > (unsigned __int128)INT64_MAX)
        return SL_EOVERFLOW;
    *out = (int64_t)q;
    return 0;
}

int sl_add(int64_t a, int64_t b, int64_t *out)
{
    int64_t r;

    if (__builtin_add_overflow(a, b, &r))
        return SL_EOVERFLOW;
    *out = r;
    return 0;
}

int sl_sub(int64_t a, int64_t b, int64_t *out)
{
    int64_t r;

    if (__builtin_sub_overflow(a, b, &r))
        return SL_EOVERFLOW;
    *out = r;
    return 0;
}

/* c <= 0 breaks the contract of both functions; they return 0 rather than trap. */
int64_t sl_floordiv(int64_t a, int64_t c)
{
    int64_t q;

    if (c <= 0)
        return 0;
    q = a / c;
    if (a % c != 0 && a < 0)
        q--;
    return q;
}

int64_t sl_floormod(int64_t a, int64_t c)
{
    int64_t r;

    if (c <= 0)
        return 0;
    r = a % c;
    return r < 0 ? r + c : r;
}
