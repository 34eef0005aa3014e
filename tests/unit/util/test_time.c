/*
 * test_time.c: the calendar (Hinnant's day/date conversions, month indices), RFC 3339
 * timestamps and durations of src/util/time.c, with leap years, month and range boundaries,
 * offsets, fractions and every malformed shape we could think of.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "slaledger/error.h"
#include "slaledger/util.h"

#define T0        1796083200000LL /* 2026-12-01T00:00:00Z */
#define UNTOUCHED 0x5eed5eedLL

typedef struct civil_case {
    int64_t y;
    unsigned m, d;
    int64_t days;
} civil_case;

/* Expected day counts computed independently (Python's datetime.date). */
static const civil_case civil_cases[] = {
    {1970, 1, 1, 0},      {1969, 12, 31, -1},    {1970, 1, 2, 1},        {2000, 2, 29, 11016},
    {2000, 3, 1, 11017},  {2100, 2, 28, 47540},  {2100, 3, 1, 47541},    {2024, 2, 29, 19782},
    {2026, 12, 1, 20788}, {1, 1, 1, -719162},    {1600, 2, 29, -135081}, {9999, 12, 31, 2932896},
    {0, 3, 1, -719468},   {-1, 12, 31, -719529},
};

static void test_days_from_civil(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(civil_cases) / sizeof(civil_cases[0]); i++) {
        const civil_case *c = &civil_cases[i];
        int64_t y;
        unsigned m, d;
        assert_int_equal(sl_days_from_civil(c->y, c->m, c->d), c->days);
        sl_civil_from_days(c->days, &y, &m, &d);
        assert_int_equal(y, c->y);
        assert_int_equal(m, c->m);
        assert_int_equal(d, c->d);
    }
}

static int leap(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* Walks every day from year -200 to 10100: each date is the successor of the previous one,
 * months have the right lengths (Feb 29 exactly in leap years), and the round trip holds. */
static void test_civil_walk(void **state)
{
    static const unsigned mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int64_t first = sl_days_from_civil(-200, 1, 1), last = sl_days_from_civil(10100, 12, 31);
    int64_t py = -201;
    unsigned pm = 12, pd = 31;
    (void)state;
    for (int64_t day = first; day <= last; day++) {
        int64_t y;
        unsigned m, d;
        sl_civil_from_days(day, &y, &m, &d);
        unsigned plen = pm == 2 && leap(py) ? 29 : mdays[pm - 1];
        if (pd < plen) {
            assert_true(y == py && m == pm && d == pd + 1);
        } else if (pm < 12) {
            assert_true(y == py && m == pm + 1 && d == 1);
        } else {
            assert_true(y == py + 1 && m == 1 && d == 1);
        }
        assert_int_equal(sl_days_from_civil(y, m, d), day);
        py = y, pm = m, pd = d;
    }
}

/* The extremes of int64 days must not overflow (UBSan watches) and still round-trip. */
static void test_civil_extremes(void **state)
{
    const int64_t ends[] = {INT64_MAX, INT64_MIN, INT64_MAX - 719468, INT64_MIN + 146096};
    (void)state;
    for (size_t i = 0; i < sizeof(ends) / sizeof(ends[0]); i++) {
        int64_t y;
        unsigned m, d;
        sl_civil_from_days(ends[i], &y, &m, &d);
        assert_true(m >= 1 && m <= 12 && d >= 1 && d <= 31);
        assert_int_equal(sl_days_from_civil(y, m, d), ends[i]);
    }
    /* Years whose day count leaves int64 saturate rather than wrap. */
    assert_int_equal(sl_days_from_civil(INT64_MAX, 12, 31), INT64_MAX);
    assert_int_equal(sl_days_from_civil(INT64_MIN, 1, 1), INT64_MIN);
}

static void test_month_index(void **state)
{
    (void)state;
    assert_int_equal(sl_month_index(0), 0);
    assert_int_equal(sl_month_index(-1), -1); /* 1969-12-31T23:59:59.999Z */
    assert_int_equal(sl_month_index(T0), 683);
    assert_int_equal(sl_month_index(T0 - 1), 682);
    assert_int_equal(sl_month_start(683), T0);
    assert_int_equal(sl_month_start(684), 1798761600000LL); /* 2027-01-01 */
    assert_int_equal(sl_month_start(0), 0);
    assert_int_equal(sl_month_start(-1), -31 * SL_MS_PER_DAY);
    /* February 2024 (leap) is 29 days, February 2100 (not leap) 28. */
    assert_int_equal(sl_month_start(650) - sl_month_start(649), 29 * SL_MS_PER_DAY);
    assert_int_equal(sl_month_start(1562) - sl_month_start(1561), 28 * SL_MS_PER_DAY);
    for (int64_t k = -30000; k <= 100000; k++) {
        int64_t start = sl_month_start(k);
        assert_int_equal(sl_month_index(start), k);
        assert_int_equal(sl_month_index(start - 1), k - 1);
    }
}

static void test_month_extremes(void **state)
{
    (void)state;
    assert_int_equal(sl_month_start(INT64_MAX), INT64_MAX);
    assert_int_equal(sl_month_start(INT64_MIN), INT64_MIN);
    int64_t hi = sl_month_index(INT64_MAX), lo = sl_month_index(INT64_MIN);
    assert_true(sl_month_start(hi) <= INT64_MAX && hi > 0);
    assert_int_equal(sl_month_index(sl_month_start(hi)), hi);
    assert_true(lo < 0);
}

typedef struct parse_case {
    const char *s;
    int64_t ms;
} parse_case;

static const parse_case time_ok[] = {
    {"1970-01-01T00:00:00Z", 0},
    {"2026-12-01T00:00:00Z", T0},
    {"2026-12-01t00:00:00z", T0},
    {"2027-01-01T00:00:00Z", 1798761600000LL},
    {"2000-02-29T00:00:00Z", 951782400000LL},
    {"2100-03-01T00:00:00Z", 4107542400000LL},
    {"2100-02-28T23:59:59Z", 4107542399000LL},
    {"2024-02-29T12:34:56Z", 1709210096000LL},
    {"9999-12-31T23:59:59.999Z", 253402300799999LL},
    {"1999-12-31T23:59:59.5Z", 946684799500LL},
    {"2026-12-01T00:00:00.123Z", T0 + 123},
    {"2026-12-01T00:00:00.1230Z", T0 + 123}, /* a zero fourth digit is exact */
    {"2026-12-01T00:00:00.000000000Z", T0},
    {"2026-12-01T00:00:00.05Z", T0 + 50},
    {"2026-12-01T01:00:00+01:00", T0},            /* east of UTC: subtract the offset */
    {"2026-11-30T19:00:00-05:00", T0},            /* west of UTC: add it */
    {"2026-12-01T00:00:00-05:30", T0 + 19800000}, /* 5.5 h later in UTC */
    {"2026-12-01T00:00:00+00:00", T0},
    {"2026-12-01T00:00:00-00:00", T0},
    {"2026-12-01T23:59:59+23:59", T0 + 59000},
};

static void test_time_parse_ok(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(time_ok) / sizeof(time_ok[0]); i++) {
        int64_t ms = UNTOUCHED;
        int rc = sl_time_parse(time_ok[i].s, strlen(time_ok[i].s), &ms);
        if (rc != 0 || ms != time_ok[i].ms)
            fprintf(stderr, "case %s: rc %d ms %lld\n", time_ok[i].s, rc, (long long)ms);
        assert_int_equal(rc, 0);
        assert_int_equal(ms, time_ok[i].ms);
    }
}

static const char *time_bad[] = {
    "",
    "2026-13-01T00:00:00Z",      /* month 13 */
    "2026-00-01T00:00:00Z",      /* month 0 */
    "2026-02-30T00:00:00Z",      /* no such day */
    "2026-02-29T00:00:00Z",      /* 2026 is not a leap year */
    "2100-02-29T00:00:00Z",      /* divisible by 100, not by 400 */
    "2026-04-31T00:00:00Z",      /* April has 30 days */
    "2026-12-00T00:00:00Z",      /* day 0 */
    "2026-12-01T00:00:00",       /* missing Z */
    "2026-12-01T00:00:00Zx",     /* trailing garbage */
    "2026-12-01T00:00:00Z ",     /* trailing space */
    " 2026-12-01T00:00:00Z",     /* leading space */
    "2026-12-01 00:00:00Z",      /* space for T */
    "2026-12-01",                /* date only */
    "2026-12-01T24:00:00Z",      /* hour 24 */
    "2026-12-01T00:60:00Z",      /* minute 60 */
    "2026-12-31T23:59:60Z",      /* leap second: not representable */
    "2026-12-01T00:00:00.1234Z", /* below a millisecond */
    "2026-12-01T00:00:00.0001Z",
    "2026-12-01T00:00:00.Z",     /* dot without digits */
    "2026-12-01T00:00:00+0100",  /* offset without colon */
    "2026-12-01T00:00:00+01",    /* offset without minutes */
    "2026-12-01T00:00:00+24:00", /* offset hour out of range */
    "2026-12-01T00:00:00+01:60",
    "2026-12-01T00:00:00+01:00Z",
    "26-12-01T00:00:00Z",    /* two-digit year */
    "+2026-12-01T00:00:00Z", /* expanded year */
    "2026-1-01T00:00:00Z",   /* one-digit month */
    "2026-12-01T0:00:00Z",
    "2026/12/01T00:00:00Z",
    "1969-12-31T23:59:59Z", /* before 1970 */
    "0000-01-01T00:00:00Z",
    "1970-01-01T00:30:00+01:00", /* 1969 in UTC */
    "9999-12-31T23:00:00-01:00", /* year 10000 in UTC */
    "2026-12-0aT00:00:00Z",
    "2026-12-01T00:00:00\xef\xbc\xba", /* fullwidth Z */
};

static void test_time_parse_bad(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(time_bad) / sizeof(time_bad[0]); i++) {
        int64_t ms = UNTOUCHED;
        int rc = sl_time_parse(time_bad[i], strlen(time_bad[i]), &ms);
        if (rc != SL_EINVAL)
            fprintf(stderr, "case '%s' accepted: %lld\n", time_bad[i], (long long)ms);
        assert_int_equal(rc, SL_EINVAL);
        assert_int_equal(ms, UNTOUCHED);
    }
}

/* The length bounds the parse: no NUL is needed, and nothing past len is read. */
static void test_time_parse_len(void **state)
{
    const char text[] = "2026-12-01T00:00:00Z2027-01-01T00:00:00Z";
    int64_t ms = 0;
    (void)state;
    assert_int_equal(sl_time_parse(text, 20, &ms), 0);
    assert_int_equal(ms, T0);
    assert_int_equal(sl_time_parse(text + 20, 20, &ms), 0);
    assert_int_equal(ms, 1798761600000LL);
    assert_int_equal(sl_time_parse(text, 19, &ms), SL_EINVAL);
    assert_int_equal(sl_time_parse(text, 0, &ms), SL_EINVAL);
    assert_int_equal(sl_time_parse(NULL, 0, &ms), SL_EINVAL);
}

static const parse_case time_fmt[] = {
    {"1970-01-01T00:00:00Z", 0},
    {"2026-12-01T00:00:00Z", T0},
    {"2026-12-01T00:00:00.001Z", T0 + 1},
    {"2026-12-01T00:00:00.500Z", T0 + 500},
    {"2024-02-29T12:34:56Z", 1709210096000LL},
    {"9999-12-31T23:59:59.999Z", 253402300799999LL},
    {"1969-12-31T23:59:59.999Z", -1},
    {"0000-01-01T00:00:00Z", -62167219200000LL},
};

static void test_time_format(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(time_fmt) / sizeof(time_fmt[0]); i++) {
        char buf[25];
        int n = sl_time_format(time_fmt[i].ms, buf, sizeof(buf));
        assert_string_equal(buf, time_fmt[i].s);
        assert_int_equal(n, (int)strlen(time_fmt[i].s));
    }
}

static void test_time_format_limits(void **state)
{
    char buf[64];
    (void)state;
    /* 25 bytes is enough for the longest form, one less is not. */
    assert_int_equal(sl_time_format(253402300799999LL, buf, 25), 24);
    assert_int_equal(sl_time_format(253402300799999LL, buf, 24), SL_EINVAL);
    assert_string_equal(buf, "");
    assert_int_equal(sl_time_format(T0, buf, 21), 20);
    assert_int_equal(sl_time_format(T0, buf, 20), SL_EINVAL);
    assert_int_equal(sl_time_format(T0, buf, 0), SL_EINVAL);
    /* Years outside 0000..9999 have no four-digit form. */
    assert_int_equal(sl_time_format(253402300800000LL, buf, sizeof(buf)), SL_EINVAL);
    assert_int_equal(sl_time_format(-62167219200001LL, buf, sizeof(buf)), SL_EINVAL);
    assert_int_equal(sl_time_format(INT64_MAX, buf, sizeof(buf)), SL_EINVAL);
    assert_int_equal(sl_time_format(INT64_MIN, buf, sizeof(buf)), SL_EINVAL);
}

/* Every millisecond-aligned instant formats and parses back to itself. */
static void test_time_roundtrip(void **state)
{
    (void)state;
    for (int64_t ms = 0; ms <= 253402300799999LL; ms += 999983LL * 1009 + 7) {
        char buf[25];
        int64_t back = -1;
        int n = sl_time_format(ms, buf, sizeof(buf));
        assert_true(n > 0);
        assert_int_equal(sl_time_parse(buf, (size_t)n, &back), 0);
        assert_int_equal(back, ms);
    }
}

static const parse_case dur_ok[] = {
    {"60s", 60000},
    {"1h30m", 5400000},
    {"500ms", 500},
    {"1ms", 1},
    {"1d", 86400000},
    {"2w", 1209600000},
    {"1w1d1h1m1s1ms", 694861001},
    {"90m", 5400000},
    {"0h5m", 300000}, /* a zero part is allowed; only the total must be positive */
    {"1m500ms", 60500},
    {"9223372036854775807ms", INT64_MAX},
    {"15250284452w3d7h12m55s807ms", INT64_MAX},
};

static void test_duration_parse_ok(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(dur_ok) / sizeof(dur_ok[0]); i++) {
        int64_t ms = UNTOUCHED;
        assert_int_equal(sl_duration_parse(dur_ok[i].s, strlen(dur_ok[i].s), &ms), 0);
        assert_int_equal(ms, dur_ok[i].ms);
    }
}

typedef struct bad_case {
    const char *s;
    int rc;
} bad_case;

static const bad_case dur_bad[] = {
    {"", SL_EINVAL},
    {"0s", SL_EINVAL}, /* zero */
    {"0h0m", SL_EINVAL},
    {"-5s", SL_EINVAL}, /* negative */
    {"+5s", SL_EINVAL},
    {"1h1h", SL_EINVAL},  /* unit twice */
    {"30m1h", SL_EINVAL}, /* smallest first */
    {"1s1m", SL_EINVAL},
    {"1ms1s", SL_EINVAL},
    {"60", SL_EINVAL},   /* no unit */
    {"s", SL_EINVAL},    /* no number */
    {"1h30", SL_EINVAL}, /* trailing number */
    {"1y", SL_EINVAL},   /* unknown unit */
    {"1H", SL_EINVAL},   /* units are lower case */
    {"1 h", SL_EINVAL},
    {"1h ", SL_EINVAL},
    {"1.5h", SL_EINVAL},
    {"1mss", SL_EINVAL},
    {"9223372036854775808ms", SL_EOVERFLOW},
    {"99999999999999999999s", SL_EOVERFLOW},
    {"15250284453w", SL_EOVERFLOW},
    {"15250284452w3d7h12m55s808ms", SL_EOVERFLOW},
    {"9223372036854776s", SL_EOVERFLOW},
};

static void test_duration_parse_bad(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(dur_bad) / sizeof(dur_bad[0]); i++) {
        int64_t ms = UNTOUCHED;
        int rc = sl_duration_parse(dur_bad[i].s, strlen(dur_bad[i].s), &ms);
        if (rc != dur_bad[i].rc)
            fprintf(stderr, "case '%s': rc %d\n", dur_bad[i].s, rc);
        assert_int_equal(rc, dur_bad[i].rc);
        assert_int_equal(ms, UNTOUCHED);
    }
    int64_t ms = 0;
    assert_int_equal(sl_duration_parse("1h30m", 2, &ms), 0); /* len bounds the text */
    assert_int_equal(ms, SL_MS_PER_HOUR);
    assert_int_equal(sl_duration_parse(NULL, 0, &ms), SL_EINVAL);
}

static const parse_case dur_fmt[] = {
    {"0s", 0},
    {"1ms", 1},
    {"500ms", 500},
    {"1s", 1000},
    {"1m", 60000},
    {"1h30m", 5400000},
    {"1d", 86400000},
    {"1w", 604800000},
    {"4w2d", 30 * 86400000LL},
    {"1h1s", 3601000},
    {"1w1d1h1m1s1ms", 694861001},
    {"15250284452w3d7h12m55s807ms", INT64_MAX},
};

static void test_duration_format(void **state)
{
    char buf[64];
    (void)state;
    for (size_t i = 0; i < sizeof(dur_fmt) / sizeof(dur_fmt[0]); i++) {
        int n = sl_duration_format(dur_fmt[i].ms, buf, sizeof(buf));
        assert_string_equal(buf, dur_fmt[i].s);
        assert_int_equal(n, (int)strlen(dur_fmt[i].s));
        int64_t back = 0;
        if (dur_fmt[i].ms > 0) {
            assert_int_equal(sl_duration_parse(buf, (size_t)n, &back), 0);
            assert_int_equal(back, dur_fmt[i].ms);
        }
    }
    assert_int_equal(sl_duration_format(-1, buf, sizeof(buf)), SL_EINVAL);
    assert_int_equal(sl_duration_format(5400000, buf, 6), 5); /* "1h30m" fits exactly */
    assert_int_equal(sl_duration_format(5400000, buf, 5), SL_EINVAL);
    assert_string_equal(buf, "");
    assert_int_equal(sl_duration_format(0, buf, 3), 2);
    assert_int_equal(sl_duration_format(0, buf, 2), SL_EINVAL);
}

/* A sped-up clock: the wall before since, since + elapsed x speed after, capped at the end of
 * year 9999; speed 0 and 1 are the wall itself. */
static void test_clock_fast(void **state)
{
    (void)state;
    assert_int_equal(sl_clock_fast(5000, 10000, 60), 5000);
    assert_int_equal(sl_clock_fast(10000, 10000, 60), 10000);
    assert_int_equal(sl_clock_fast(10001, 10000, 60), 10060);
    assert_int_equal(sl_clock_fast(12000, 10000, 60), 130000);
    assert_int_equal(sl_clock_fast(12000, 10000, 1), 12000);
    assert_int_equal(sl_clock_fast(12000, 10000, 0), 12000);
    assert_int_equal(sl_clock_fast(SL_TIME_MAX_MS / 2, 0, 100000), SL_TIME_MAX_MS);
    assert_int_equal(sl_clock_fast(INT64_MAX, 0, 100000), SL_TIME_MAX_MS);
    char buf[32];
    assert_true(sl_time_format(SL_TIME_MAX_MS, buf, sizeof(buf)) > 0);
    assert_string_equal(buf, "9999-12-31T23:59:59.999Z");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_days_from_civil),    cmocka_unit_test(test_civil_walk),
        cmocka_unit_test(test_civil_extremes),     cmocka_unit_test(test_month_index),
        cmocka_unit_test(test_month_extremes),     cmocka_unit_test(test_time_parse_ok),
        cmocka_unit_test(test_time_parse_bad),     cmocka_unit_test(test_time_parse_len),
        cmocka_unit_test(test_time_format),        cmocka_unit_test(test_time_format_limits),
        cmocka_unit_test(test_time_roundtrip),     cmocka_unit_test(test_duration_parse_ok),
        cmocka_unit_test(test_duration_parse_bad), cmocka_unit_test(test_duration_format),
        cmocka_unit_test(test_clock_fast),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
