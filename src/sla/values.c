/*
 * values.c: readers for the typed scalars of agreement documents: durations, timestamps,
 * percentages, money amounts and windows.
 *
 * Each reader converts the scalar's text with the integer parsers of util.h (no floating point)
 * and on failure records one diagnostic naming the expected form and quoting what was found,
 * then returns non-zero without writing its output. Overflow is reported as SL_EOVERFLOW,
 * every other problem as SL_EINVAL. Thread-safety: reentrant.
 */
#include <stdio.h>
#include <string.h>

#include "slaledger/util.h"

#include "sla_int.h"

/* True for a zero duration written with a unit: "0s", "0ms", "00m", ... */
static int is_zero_duration(const char *s, size_t len)
{
    static const char *const units[] = {"ms", "s", "m", "h", "d", "w"};
    size_t i = 0;

    while (i < len && s[i] == '0')
        i++;
    if (i == 0)
        return 0;
    for (size_t u = 0; u < sizeof(units) / sizeof(units[0]); u++) {
        if (strlen(units[u]) == len - i && memcmp(s + i, units[u], len - i) == 0)
            return 1;
    }
    return 0;
}

int sl__read_duration(sl__ctx *c, const sl__ynode *n, const char *path, int allow_zero,
                      int64_t *out)
{
    const char *s = sl__scalar(c, n, path, "a duration");
    int64_t v;
    int rc;
    sl__shown sh;

    if (!s)
        return -1;
    if (allow_zero && is_zero_duration(s, n->len)) {
        *out = 0;
        return 0;
    }
    rc = sl_duration_parse(s, n->len, &v);
    if (rc == SL_EOVERFLOW) {
        sl__error(c, n, SL_EOVERFLOW, path, "duration %s is too long", sl__show(s, n->len, &sh));
        return -1;
    }
    if (rc != 0) {
        sl__error(c, n, SL_EINVAL, path,
                  "expected a %sduration such as 60s, 5m, 1h30m or 7d, found %s",
                  allow_zero ? "" : "positive ", sl__show(s, n->len, &sh));
        return -1;
    }
    *out = v;
    return 0;
}

int sl__read_time(sl__ctx *c, const sl__ynode *n, const char *path, int64_t *out)
{
    const char *s = sl__scalar(c, n, path, "an RFC 3339 time");
    int64_t v;
    sl__shown sh;

    if (!s)
        return -1;
    if (sl_time_parse(s, n->len, &v) != 0) {
        sl__error(c, n, SL_EINVAL, path,
                  "expected an RFC 3339 time such as 2026-12-01T00:00:00Z (years 1970..9999), "
                  "found %s",
                  sl__show(s, n->len, &sh));
        return -1;
    }
    *out = v;
    return 0;
}

int sl__read_percent(sl__ctx *c, const sl__ynode *n, const char *path, int64_t min_ppm,
                     int64_t *out)
{
    const char *s = sl__scalar(c, n, path, "a percentage");
    int64_t v;
    int rc;
    sl__shown sh;

    if (!s)
        return -1;
    rc = sl_percent_parse(s, n->len, &v);
    if (rc != 0 || v > SL_PPM_ONE) {
        sl__error(c, n, rc == SL_EOVERFLOW ? SL_EOVERFLOW : SL_EINVAL, path,
                  "expected a percentage from 0%% to 100%% such as 99.95%% (at most 4 decimals), "
                  "found %s",
                  sl__show(s, n->len, &sh));
        return -1;
    }
    if (v < min_ppm) {
        sl__error(c, n, SL_EINVAL, path, "expected a percentage greater than 0%%, found %s",
                  sl__show(s, n->len, &sh));
        return -1;
    }
    *out = v;
    return 0;
}

/* True when s is a well-formed decimal that only has too many fractional digits. */
static int too_many_decimals(const char *s, size_t len)
{
    int64_t v;
    int rc = sl_decimal_parse(s, len, 18, &v);
    return rc == 0 || rc == SL_EOVERFLOW;
}

int sl__parse_amount(sl__ctx *c, const sl__ynode *n, const char *path, const char *s, size_t len,
                     unsigned scale, const char *cur, int64_t *out)
{
    int64_t v = 0;
    int neg = len > 0 && s[0] == '-';
    int rc = sl_decimal_parse(s, len, scale, &v);
    sl__shown sh;

    sl__show(s, len, &sh);
    if (rc == SL_EOVERFLOW && !neg) {
        char max[32];
        sl_decimal_format(INT64_MAX, scale, max, sizeof(max));
        sl__error(c, n, SL_EOVERFLOW, path, "amount %s is too large; at most %s %s", sh.s, max,
                  cur);
        return -1;
    }
    if (rc == SL_EINVAL && too_many_decimals(s, len)) {
        sl__error(c, n, SL_EINVAL, path, "amount %s has more decimals than the %u of %s", sh.s,
                  scale, cur);
        return -1;
    }
    if (rc == SL_EINVAL) {
        sl__error(c, n, SL_EINVAL, path,
                  "expected an amount such as \"1000.00\" (digits, at most %u decimals), "
                  "found %s",
                  scale, sh.s);
        return -1;
    }
    if (neg || v <= 0) {
        sl__error(c, n, SL_EINVAL, path, "amount %s must be greater than 0", sh.s);
        return -1;
    }
    *out = v;
    return 0;
}

int sl__read_amount(sl__ctx *c, const sl__ynode *n, const char *path, unsigned scale,
                    const char *cur, int64_t *out)
{
    const char *s = sl__scalar(c, n, path, "an amount");

    if (!s)
        return -1;
    return sl__parse_amount(c, n, path, s, n->len, scale, cur, out);
}

int sl__read_window(sl__ctx *c, const sl__ynode *n, const char *path, sl_window_spec *out)
{
    const char *s = sl__scalar(c, n, path, "a window");
    int64_t len;
    int rc;
    sl__shown sh;

    if (!s)
        return -1;
    if (strcmp(s, "calendar-month") == 0 || strcmp(s, "period") == 0) {
        out->kind = s[0] == 'p' ? SL_WINDOW_PERIOD : SL_WINDOW_MONTH;
        out->len_ms = 0;
        return 0;
    }
    if (strcmp(s, "calendar-day") == 0 || strcmp(s, "calendar-hour") == 0) {
        out->kind = SL_WINDOW_DURATION;
        out->len_ms = s[9] == 'd' ? SL_MS_PER_DAY : SL_MS_PER_HOUR;
        return 0;
    }
    rc = sl_duration_parse(s, n->len, &len);
    if (rc != 0) {
        sl__error(c, n, rc == SL_EOVERFLOW ? SL_EOVERFLOW : SL_EINVAL, path,
                  "expected calendar-month, calendar-day, calendar-hour, period or a duration "
                  "such as 1h or 7d, found %s",
                  sl__show(s, n->len, &sh));
        return -1;
    }
    out->kind = SL_WINDOW_DURATION;
    out->len_ms = len;
    return 0;
}

void sl__window_format(const sl_window_spec *w, char *buf, size_t cap)
{
    if (w->kind == SL_WINDOW_MONTH)
        snprintf(buf, cap, "calendar-month");
    else if (w->kind == SL_WINDOW_PERIOD)
        snprintf(buf, cap, "period");
    else if (sl_duration_format(w->len_ms, buf, cap) < 0)
        snprintf(buf, cap, "?");
}
