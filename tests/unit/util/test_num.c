/*
 * test_num.c: exact decimals, percentages, ppm formatting, 128-bit muldiv, checked add/sub and
 * floor division of src/util/num.c, at the edges of int64 and of the accepted syntax.
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

#define UNTOUCHED 0x5eed5eedLL

typedef struct dec_case {
    const char *s;
    unsigned scale;
    int rc;
    int64_t v;
} dec_case;

static const dec_case dec_cases[] = {
    {"1000.00", 2, 0, 100000},
    {"1000", 2, 0, 100000},
    {"1000.5", 2, 0, 100050},
    {"0", 2, 0, 0},
    {"-0", 2, 0, 0},
    {"-0.5", 2, 0, -50},
    {"-0.05", 2, 0, -5},
    {"0.01", 2, 0, 1},
    {"007.50", 2, 0, 750},
    {"5", 0, 0, 5},
    {"123.4567", 4, 0, 1234567},
    {"9223372036854775807", 0, 0, INT64_MAX},
    {"-9223372036854775808", 0, 0, INT64_MIN},
    {"92233720368547758.07", 2, 0, INT64_MAX},
    {"-92233720368547758.08", 2, 0, INT64_MIN},
    {"0.0000000000000000001", 19, 0, 1},
    {"0", 40, 0, 0}, /* a scale beyond int64's digits is fine while the value fits */
    /* range */
    {"9223372036854775808", 0, SL_EOVERFLOW, 0},
    {"-9223372036854775809", 0, SL_EOVERFLOW, 0},
    {"92233720368547758.08", 2, SL_EOVERFLOW, 0},
    {"-92233720368547758.09", 2, SL_EOVERFLOW, 0},
    {"92233720368547759", 2, SL_EOVERFLOW, 0},
    {"99999999999999999999999999", 0, SL_EOVERFLOW, 0},
    {"1", 19, SL_EOVERFLOW, 0},
    /* syntax */
    {"1.234", 2, SL_EINVAL, 0}, /* too many decimals, even though the value is representable */
    {"1.000", 2, SL_EINVAL, 0}, /* trailing zeros count too: the author wrote three places */
    {"1.5", 0, SL_EINVAL, 0},
    {".5", 2, SL_EINVAL, 0}, /* decision: an integer digit is required */
    {"5.", 2, SL_EINVAL, 0}, /* decision: a '.' must be followed by a digit */
    {"-.5", 2, SL_EINVAL, 0},
    {"", 2, SL_EINVAL, 0},
    {"-", 2, SL_EINVAL, 0},
    {".", 2, SL_EINVAL, 0},
    {"+1", 2, SL_EINVAL, 0},
    {"--1", 2, SL_EINVAL, 0},
    {" 1", 2, SL_EINVAL, 0},
    {"1 ", 2, SL_EINVAL, 0},
    {"1e3", 2, SL_EINVAL, 0},
    {"1,5", 2, SL_EINVAL, 0},
    {"1.2.3", 2, SL_EINVAL, 0},
    {"0x10", 2, SL_EINVAL, 0},
    {"1_000", 2, SL_EINVAL, 0},
};

static void test_decimal_parse(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(dec_cases) / sizeof(dec_cases[0]); i++) {
        const dec_case *c = &dec_cases[i];
        int64_t v = UNTOUCHED;
        int rc = sl_decimal_parse(c->s, strlen(c->s), c->scale, &v);
        if (rc != c->rc)
            fprintf(stderr, "case '%s' scale %u: rc %d\n", c->s, c->scale, rc);
        assert_int_equal(rc, c->rc);
        assert_int_equal(v, c->rc == 0 ? c->v : UNTOUCHED);
    }
}

static void test_decimal_parse_len(void **state)
{
    int64_t v = 0;
    (void)state;
    assert_int_equal(sl_decimal_parse("12.345", 4, 2, &v), 0); /* "12.3" */
    assert_int_equal(v, 1230);
    assert_int_equal(sl_decimal_parse("12.345", 3, 2, &v), SL_EINVAL); /* "12." */
    assert_int_equal(sl_decimal_parse(NULL, 0, 2, &v), SL_EINVAL);
}

typedef struct fmt_case {
    int64_t v;
    unsigned scale;
    const char *s;
} fmt_case;

static const fmt_case dec_fmt[] = {
    {100000, 2, "1000.00"},
    {0, 2, "0.00"},
    {0, 0, "0"},
    {5, 2, "0.05"},
    {-5, 2, "-0.05"},
    {-50, 2, "-0.50"},
    {-100, 2, "-1.00"},
    {7, 0, "7"},
    {-7, 0, "-7"},
    {1234567, 4, "123.4567"},
    {INT64_MAX, 0, "9223372036854775807"},
    {INT64_MIN, 0, "-9223372036854775808"},
    {INT64_MAX, 2, "92233720368547758.07"},
    {INT64_MIN, 2, "-92233720368547758.08"},
    {INT64_MIN, 19, "-0.9223372036854775808"},
    {1, 21, "0.000000000000000000001"},
};

static void test_decimal_format(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(dec_fmt) / sizeof(dec_fmt[0]); i++) {
        const fmt_case *c = &dec_fmt[i];
        char buf[64];
        int64_t back = 0;
        int n = sl_decimal_format(c->v, c->scale, buf, sizeof(buf));
        assert_string_equal(buf, c->s);
        assert_int_equal(n, (int)strlen(c->s));
        assert_int_equal(sl_decimal_parse(buf, (size_t)n, c->scale, &back), 0);
        assert_int_equal(back, c->v);
    }
}

static void test_decimal_format_cap(void **state)
{
    char buf[8];
    (void)state;
    assert_int_equal(sl_decimal_format(100000, 2, buf, 8), 7); /* "1000.00" + NUL */
    assert_int_equal(sl_decimal_format(100000, 2, buf, 7), SL_EINVAL);
    assert_string_equal(buf, "");
    assert_int_equal(sl_decimal_format(-5, 2, buf, 6), 5); /* "-0.05" */
    assert_int_equal(sl_decimal_format(-5, 2, buf, 5), SL_EINVAL);
    assert_int_equal(sl_decimal_format(1, 0, buf, 0), SL_EINVAL);
}

static const dec_case pct_cases[] = {
    {"100%", 0, 0, 1000000},
    {"99.95%", 0, 0, 999500},
    {"99.9999%", 0, 0, 999999},
    {"0.0001%", 0, 0, 1},
    {"0%", 0, 0, 0},
    {"98%", 0, 0, 980000},
    {"250%", 0, 0, 2500000}, /* above 100 % is the caller's to refuse */
    {"922337203685477.5807%", 0, 0, INT64_MAX},
    {"922337203685477.5808%", 0, SL_EOVERFLOW, 0},
    {"99.99999%", 0, SL_EINVAL, 0}, /* below 1 ppm */
    {"abc%", 0, SL_EINVAL, 0},
    {"99.95", 0, SL_EINVAL, 0}, /* '%' required */
    {"%", 0, SL_EINVAL, 0},
    {"", 0, SL_EINVAL, 0},
    {"-1%", 0, SL_EINVAL, 0},
    {"-0%", 0, SL_EINVAL, 0},
    {"99.95 %", 0, SL_EINVAL, 0},
    {" 99.95%", 0, SL_EINVAL, 0},
    {"99.95%%", 0, SL_EINVAL, 0},
    {".5%", 0, SL_EINVAL, 0},
    {"5.%", 0, SL_EINVAL, 0},
};

static void test_percent_parse(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(pct_cases) / sizeof(pct_cases[0]); i++) {
        const dec_case *c = &pct_cases[i];
        int64_t v = UNTOUCHED;
        int rc = sl_percent_parse(c->s, strlen(c->s), &v);
        if (rc != c->rc)
            fprintf(stderr, "case '%s': rc %d\n", c->s, rc);
        assert_int_equal(rc, c->rc);
        assert_int_equal(v, c->rc == 0 ? c->v : UNTOUCHED);
    }
    int64_t v = 0;
    assert_int_equal(sl_percent_parse(NULL, 0, &v), SL_EINVAL);
}

static const fmt_case ppm_fmt[] = {
    {999500, 0, "99.95%"},
    {1000000, 0, "100%"},
    {0, 0, "0%"},
    {1, 0, "0.0001%"},
    {999999, 0, "99.9999%"},
    {100000, 0, "10%"},
    {105000, 0, "10.5%"},
    {2500000, 0, "250%"},
    {-5000, 0, "-0.5%"},
    {INT64_MAX, 0, "922337203685477.5807%"},
};

static void test_ppm_format(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(ppm_fmt) / sizeof(ppm_fmt[0]); i++) {
        const fmt_case *c = &ppm_fmt[i];
        char buf[32];
        int n = sl_ppm_format(c->v, buf, sizeof(buf));
        assert_string_equal(buf, c->s);
        assert_int_equal(n, (int)strlen(c->s));
    }
    char buf[8];
    assert_int_equal(sl_ppm_format(999500, buf, 7), 6);
    assert_int_equal(sl_ppm_format(999500, buf, 6), SL_EINVAL);
    assert_string_equal(buf, "");
    /* Every ppm from 0 to 100 % survives format and parse. */
    for (int64_t p = 0; p <= SL_PPM_ONE; p++) {
        char s[32];
        int64_t back = -1;
        int n = sl_ppm_format(p, s, sizeof(s));
        assert_int_equal(sl_percent_parse(s, (size_t)n, &back), 0);
        assert_int_equal(back, p);
    }
}

typedef struct muldiv_case {
    int64_t a, b, c;
    int rc;
    int64_t v;
} muldiv_case;

static const muldiv_case muldiv_cases[] = {
    {6, 7, 3, 0, 14},
    {7, 1, 2, 0, 3}, /* floor */
    {0, INT64_MAX, 1, 0, 0},
    {INT64_MAX, INT64_MAX, INT64_MAX, 0, INT64_MAX},
    {INT64_MAX, 2, 2, 0, INT64_MAX}, /* the product exceeds int64, the result does not */
    {INT64_MAX, INT64_MAX - 1, INT64_MAX, 0, INT64_MAX - 1},
    {INT64_MAX, 1000000, 1000001, 0, 9223362813491962315LL},
    {3037000500LL, 3037000500LL, 1, SL_EOVERFLOW, 0}, /* 9.22337203700025e18 > INT64_MAX */
    {3037000499LL, 3037000499LL, 1, 0, 9223372030926249001LL},
    {INT64_MAX, 2, 1, SL_EOVERFLOW, 0},
    {INT64_MAX, INT64_MAX, INT64_MAX - 1, SL_EOVERFLOW, 0},
    {100000, 999500, SL_PPM_ONE, 0, 99950},
    {-1, 1, 1, SL_EINVAL, 0},
    {1, -1, 1, SL_EINVAL, 0},
    {1, 1, 0, SL_EINVAL, 0},
    {1, 1, -1, SL_EINVAL, 0},
};

static void test_muldiv(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(muldiv_cases) / sizeof(muldiv_cases[0]); i++) {
        const muldiv_case *c = &muldiv_cases[i];
        int64_t v = UNTOUCHED;
        int rc = sl_muldiv(c->a, c->b, c->c, &v);
        if (rc != c->rc || (rc == 0 && v != c->v))
            fprintf(stderr, "case %zu: rc %d v %lld\n", i, rc, (long long)v);
        assert_int_equal(rc, c->rc);
        assert_int_equal(v, c->rc == 0 ? c->v : UNTOUCHED);
    }
}

static void test_add_sub(void **state)
{
    int64_t v = UNTOUCHED;
    (void)state;
    assert_int_equal(sl_add(INT64_MAX - 1, 1, &v), 0);
    assert_int_equal(v, INT64_MAX);
    assert_int_equal(sl_add(INT64_MIN, -1, &v), SL_EOVERFLOW);
    assert_int_equal(sl_add(INT64_MAX, 1, &v), SL_EOVERFLOW);
    assert_int_equal(v, INT64_MAX); /* untouched */
    assert_int_equal(sl_add(INT64_MAX, INT64_MIN, &v), 0);
    assert_int_equal(v, -1);
    assert_int_equal(sl_sub(INT64_MIN + 1, 1, &v), 0);
    assert_int_equal(v, INT64_MIN);
    assert_int_equal(sl_sub(INT64_MIN, 1, &v), SL_EOVERFLOW);
    assert_int_equal(sl_sub(0, INT64_MIN, &v), SL_EOVERFLOW);
    assert_int_equal(sl_sub(-1, INT64_MIN, &v), 0);
    assert_int_equal(v, INT64_MAX);
    assert_int_equal(sl_sub(INT64_MAX, -1, &v), SL_EOVERFLOW);
}

typedef struct floor_case {
    int64_t a, c, q, r;
} floor_case;

static const floor_case floor_cases[] = {
    {7, 2, 3, 1},
    {-7, 2, -4, 1},
    {-8, 2, -4, 0},
    {0, 5, 0, 0},
    {-1, 86400000, -1, 86399999},
    {-86400000, 86400000, -1, 0},
    {INT64_MIN, 1, INT64_MIN, 0},
    {INT64_MIN, 10, -922337203685477581LL, 2},
    {INT64_MAX, 10, 922337203685477580LL, 7},
    {INT64_MIN, INT64_MAX, -2, INT64_MAX - 1},
};

static void test_floor(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(floor_cases) / sizeof(floor_cases[0]); i++) {
        const floor_case *c = &floor_cases[i];
        assert_int_equal(sl_floordiv(c->a, c->c), c->q);
        assert_int_equal(sl_floormod(c->a, c->c), c->r);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_decimal_parse),  cmocka_unit_test(test_decimal_parse_len),
        cmocka_unit_test(test_decimal_format), cmocka_unit_test(test_decimal_format_cap),
        cmocka_unit_test(test_percent_parse),  cmocka_unit_test(test_ppm_format),
        cmocka_unit_test(test_muldiv),         cmocka_unit_test(test_add_sub),
        cmocka_unit_test(test_floor),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
