/*
 * time.c: the proleptic Gregorian calendar in UTC, RFC 3339 timestamps and durations, all in
 * integer milliseconds since the Unix epoch (no leap seconds, no wall clock, no locale).
 *
 * The day/date conversions are Howard Hinnant's days_from_civil / civil_from_days
 * (http://howardhinnant.github.io/date_algorithms.html), exact for every int64 day count.
 * Results that cannot be represented (months or years so far away that their millisecond or
 * day count leaves int64) saturate to INT64_MIN / INT64_MAX instead of wrapping. Timestamps are
 * parsed only when the instant falls in UTC years 1970..9999 and formatted for years 0..9999
 * (four digits), so every parsed instant formats back. Parsers never write *out on failure;
 * formatters leave an empty string when they fail. Thread-safety: reentrant, no state.
 */
#include <stdio.h>
#include <string.h>

#include "slaledger/error.h"
#include "slaledger/util.h"

#define TIME_MAX_MS 253402300799999LL /* 9999-12-31T23:59:59.999Z */

static int64_t sat64(__int128 v)
{
    if (v > INT64_MAX)
        return INT64_MAX;
    if (v < INT64_MIN)
        return INT64_MIN;
    return (int64_t)v;
}

int64_t sl_days_from_civil(int64_t y, unsigned m, unsigned d)
{
    /* 128-bit so that any int64 year is exact until the final saturation. */
    __int128 yy = (__int128)y - (m <= 2);
    __int128 era = (yy >= 0 ? yy : yy - 399) / 400;
    __int128 yoe = yy - era * 400;                                  /* [0, 399] */
    __int128 doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1; /* [0, 365] */
    __int128 doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;           /* [0, 146096] */
    return sat64(era * 146097 + doe - 719468);
}

void sl_civil_from_days(int64_t days, int64_t *y, unsigned *m, unsigned *d)
{
    /* Hinnant shifts the epoch to 0000-03-01 by adding 719468; split days into whole eras
     * first so the shift cannot overflow. */
    int64_t z = sl_floormod(days, 146097) + 719468;
    int64_t era = sl_floordiv(days, 146097) + z / 146097;
    int64_t doe = z % 146097;                                            /* [0, 146096] */
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365; /* [0, 399] */
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);               /* [0, 365] */
    int64_t mp = (5 * doy + 2) / 153;                                    /* [0, 11] */

    *d = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
    *m = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

int64_t sl_month_index(int64_t ms)
{
    int64_t y;
    unsigned m, d;

    sl_civil_from_days(sl_floordiv(ms, SL_MS_PER_DAY), &y, &m, &d);
    return (y - 1970) * 12 + (int64_t)m - 1;
}

int64_t sl_month_start(int64_t idx)
{
    int64_t y = 1970 + sl_floordiv(idx, 12);
    unsigned m = (unsigned)sl_floormod(idx, 12) + 1;
    return sat64((__int128)sl_days_from_civil(y, m, 1) * SL_MS_PER_DAY);
}

static int is_leap(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static unsigned days_in_month(int64_t y, unsigned m)
{
    static const unsigned mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap(y) ? 29 : mdays[m - 1];
}

/* ---- RFC 3339 ---- */

/* A cursor over borrowed text; every reader fails (returns -1) instead of running past len. */
typedef struct cursor {
    const char *s;
    size_t len;
    size_t i;
} cursor;

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Reads exactly n digits. */
static int read_fixed(cursor *c, size_t n, int64_t *out)
{
    int64_t v = 0;

    if (c->len - c->i < n)
        return -1;
    for (size_t k = 0; k < n; k++) {
        char ch = c->s[c->i + k];
        if (!is_digit(ch))
            return -1;
        v = v * 10 + (ch - '0');
    }
    c->i += n;
    *out = v;
    return 0;
}

/* Reads one of the two spellings of a separator character. */
static int read_char(cursor *c, char a, char b)
{
    if (c->i >= c->len || (c->s[c->i] != a && c->s[c->i] != b))
        return -1;
    c->i++;
    return 0;
}

/* Reads "YYYY-MM-DD" and checks it is a real date in 1970..9999; *days since the epoch. */
static int read_date(cursor *c, int64_t *days)
{
    int64_t y, m, d;

    if (read_fixed(c, 4, &y) || read_char(c, '-', '-') || read_fixed(c, 2, &m) ||
        read_char(c, '-', '-') || read_fixed(c, 2, &d))
        return -1;
    if (y < 1970 || m < 1 || m > 12 || d < 1 || d > days_in_month(y, (unsigned)m))
        return -1;
    *days = sl_days_from_civil(y, (unsigned)m, (unsigned)d);
    return 0;
}

/* Reads "HH:MM:SS"; *ms into the day. Leap second 60 is not representable and is refused. */
static int read_clock(cursor *c, int64_t *ms)
{
    int64_t h, mi, s;

    if (read_fixed(c, 2, &h) || read_char(c, ':', ':') || read_fixed(c, 2, &mi) ||
        read_char(c, ':', ':') || read_fixed(c, 2, &s))
        return -1;
    if (h > 23 || mi > 59 || s > 59)
        return -1;
    *ms = h * SL_MS_PER_HOUR + mi * SL_MS_PER_MINUTE + s * SL_MS_PER_SECOND;
    return 0;
}

/* Reads an optional ".digits"; digits after the third must be zero. *ms is the fraction. */
static int read_fraction(cursor *c, int64_t *ms)
{
    size_t n = 0;
    int64_t v = 0;

    *ms = 0;
    if (c->i >= c->len || c->s[c->i] != '.')
        return 0;
    c->i++;
    for (; c->i < c->len && is_digit(c->s[c->i]); c->i++, n++) {
        int dig = c->s[c->i] - '0';
        if (n >= 3 && dig != 0)
            return -1;
        if (n < 3)
            v = v * 10 + dig;
    }
    if (n == 0)
        return -1;
    for (; n < 3; n++)
        v *= 10;
    *ms = v;
    return 0;
}

/* Reads "Z" or "+HH:MM" / "-HH:MM"; *ms is the offset to subtract to reach UTC. */
static int read_offset(cursor *c, int64_t *ms)
{
    int64_t h, mi, sign;

    if (read_char(c, 'Z', 'z') == 0) {
        *ms = 0;
        return 0;
    }
    if (c->i >= c->len || (c->s[c->i] != '+' && c->s[c->i] != '-'))
        return -1;
    sign = c->s[c->i++] == '-' ? -1 : 1;
    if (read_fixed(c, 2, &h) || read_char(c, ':', ':') || read_fixed(c, 2, &mi))
        return -1;
    if (h > 23 || mi > 59)
        return -1;
    *ms = sign * (h * SL_MS_PER_HOUR + mi * SL_MS_PER_MINUTE);
    return 0;
}

int sl_time_parse(const char *s, size_t len, int64_t *out_ms)
{
    cursor c = {s, len, 0};
    int64_t days, clock, frac, off, ms;

    if (!s || read_date(&c, &days) || read_char(&c, 'T', 't') || read_clock(&c, &clock) ||
        read_fraction(&c, &frac) || read_offset(&c, &off) || c.i != len)
        return SL_EINVAL;
    ms = days * SL_MS_PER_DAY + clock + frac - off;
    /* An offset can move a 1970 or 9999 local time out of the formattable UTC range. */
    if (ms < 0 || ms > TIME_MAX_MS)
        return SL_EINVAL;
    *out_ms = ms;
    return 0;
}

int sl_time_format(int64_t ms, char *buf, size_t cap)
{
    int64_t day = sl_floordiv(ms, SL_MS_PER_DAY), rem = sl_floormod(ms, SL_MS_PER_DAY);
    int64_t y, sec = rem / SL_MS_PER_SECOND, milli = rem % SL_MS_PER_SECOND;
    unsigned m, d;
    char frac[5] = "";
    int n;

    if (cap > 0)
        buf[0] = '\0';
    sl_civil_from_days(day, &y, &m, &d);
    if (y < 0 || y > 9999)
        return SL_EINVAL;
    if (milli != 0) {
        frac[0] = '.';
        frac[1] = (char)('0' + milli / 100);
        frac[2] = (char)('0' + milli / 10 % 10);
        frac[3] = (char)('0' + milli % 10);
    }
    n = snprintf(buf, cap, "%04d-%02u-%02uT%02d:%02d:%02d%sZ", (int)y, m, d, (int)(sec / 3600),
                 (int)(sec / 60 % 60), (int)(sec % 60), frac);
    if (n < 0 || (size_t)n >= cap) {
        if (cap > 0)
            buf[0] = '\0';
        return SL_EINVAL;
    }
    return n;
}

/* ---- durations ---- */

/* Units largest first; a duration must use them in this order, each at most once. */
static const struct unit {
    const char *name;
    size_t len;
    int64_t ms;
} units[] = {
    {"w", 1, 7 * SL_MS_PER_DAY}, {"d", 1, SL_MS_PER_DAY},    {"h", 1, SL_MS_PER_HOUR},
    {"m", 1, SL_MS_PER_MINUTE},  {"s", 1, SL_MS_PER_SECOND}, {"ms", 2, 1},
};

#define N_UNITS (sizeof(units) / sizeof(units[0]))

/* Reads the longest unit name at the cursor ("ms" rather than "m"); its index or -1. */
static int read_unit(cursor *c)
{
    int best = -1;

    for (size_t k = 0; k < N_UNITS; k++) {
        const struct unit *u = &units[k];
        if (c->len - c->i >= u->len && memcmp(c->s + c->i, u->name, u->len) == 0 &&
            (best < 0 || u->len > units[best].len))
            best = (int)k;
    }
    if (best >= 0)
        c->i += units[best].len;
    return best;
}

/* Reads one "<digits><unit>" part whose unit must be smaller than *last; adds it to *total. */
static int read_part(cursor *c, int *last, int64_t *total)
{
    int64_t v = 0;
    size_t start = c->i;
    int u, overflow = 0;

    for (; c->i < c->len && is_digit(c->s[c->i]); c->i++) {
        overflow |= __builtin_mul_overflow(v, 10, &v);
        overflow |= __builtin_add_overflow(v, c->s[c->i] - '0', &v);
    }
    if (c->i == start)
        return SL_EINVAL;
    u = read_unit(c);
    if (u < 0 || u <= *last)
        return SL_EINVAL;
    *last = u;
    if (overflow || __builtin_mul_overflow(v, units[u].ms, &v) ||
        __builtin_add_overflow(*total, v, total))
        return SL_EOVERFLOW;
    return 0;
}

int sl_duration_parse(const char *s, size_t len, int64_t *out_ms)
{
    cursor c = {s, len, 0};
    int64_t total = 0;
    int last = -1, rc;

    if (!s || len == 0)
        return SL_EINVAL;
    while (c.i < len) {
        rc = read_part(&c, &last, &total);
        if (rc != 0)
            return rc;
    }
    if (total <= 0)
        return SL_EINVAL;
    *out_ms = total;
    return 0;
}

int sl_duration_format(int64_t ms, char *buf, size_t cap)
{
    size_t n = 0;
    int w;

    if (ms < 0 || cap < 3) {
        if (cap > 0)
            buf[0] = '\0';
        return SL_EINVAL;
    }
    if (ms == 0)
        return snprintf(buf, cap, "0s");
    for (size_t k = 0; k < N_UNITS; k++) {
        if (ms < units[k].ms)
            continue;
        w = snprintf(buf + n, cap - n, "%lld%s", (long long)(ms / units[k].ms), units[k].name);
        if (w < 0 || (size_t)w >= cap - n) {
            buf[0] = '\0';
            return SL_EINVAL;
        }
        n += (size_t)w;
        ms %= units[k].ms;
    }
    return (int)n;
}

int64_t sl_clock_fast(int64_t wall_ms, int64_t since_ms, uint32_t speed)
{
    if (speed <= 1 || wall_ms <= since_ms)
        return wall_ms;
    if (since_ms >= SL_TIME_MAX_MS || wall_ms - since_ms > (SL_TIME_MAX_MS - since_ms) / speed)
        return SL_TIME_MAX_MS;
    return since_ms + (wall_ms - since_ms) * (int64_t)speed;
}
