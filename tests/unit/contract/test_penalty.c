/*
 * test_penalty.c: the money rules of the contract: AWS-style tiered credits paid the moment a
 * tier becomes certain and topped up, per-violation and per-failure penalties with caps,
 * unknown intervals, billing-window settlement and period close.
 */
#include "fixture.h"

#define UP   1000000
#define DOWN 0

static const char *uptime_obj = "    - {name: uptime, metric: availability, interval: 1s, "
                                "window: period, target: \">= 99.99%\"}\n";
static const char *aws_tiers = "  penalties:\n"
                               "    - {objective: uptime, tiers: [{below: 99.99%, credit: 10%}, "
                               "{below: 99.0%, credit: 30%}, {below: 95.0%, credit: 100%}]}\n";

typedef struct tier_case {
    int64_t bad;       /* the first `bad` of 10000 one-second intervals are down */
    int64_t paid;      /* total penalty, minor units (fee 100000) */
    int tier;          /* final tier, -1 none */
    int64_t first_pay; /* index of the bad interval whose report makes the first payment */
} tier_case;

static const tier_case tier_cases[] = {
    {0, 0, -1, -1},     {1, 0, -1, -1},     {2, 10000, 0, 1},    {100, 10000, 0, 1},
    {101, 30000, 1, 1}, {500, 30000, 1, 1}, {501, 100000, 2, 1}, {10000, 100000, 2, 1},
};

static void run_tier_case(const tier_case *tc)
{
    fx_doc d = {.objectives = uptime_obj, .penalties = aws_tiers};
    sl_contract *c = fx_active(&d, 100000);
    int64_t first_pay = -1;
    for (int64_t k = 0; k < 10000; k++) {
        fx_tick(c, T0 + (k + 1) * SEC);
        fx_report_ok(c, "web", "uptime", "o1", SEC, k, k < tc->bad ? DOWN : UP);
        if (first_pay < 0 && fx_count(c, SL_EV_PENALTY, NULL))
            first_pay = k;
        sl_contract_events_clear(c);
    }
    assert_int_equal(first_pay, tc->first_pay);
    assert_int_equal(fx_bal(c, "univie"), tc->paid);
    sl_window_info w;
    assert_int_equal(sl_contract_window(c, "web", 0, 0, &w), 0);
    assert_int_equal(w.tier, tc->tier);
    assert_int_equal(w.good, 10000 - tc->bad);
    /* Window and period close: the provider gets the rest, nothing is refunded. */
    fx_tick(c, T0 + 10000 * SEC + 10 * SEC);
    assert_int_equal(fx_bal(c, "aws"), 100000 - tc->paid);
    assert_int_equal(fx_bal(c, "univie"), tc->paid);
    sl_agreement_info info;
    assert_int_equal(sl_contract_agreement(c, "web", &info), 0);
    assert_int_equal(info.status, SL_AGR_CLOSED);
    assert_int_equal(info.escrow, 0);
    fx_check(c);
    sl_contract_free(c);
}

static void test_aws_tiers_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(tier_cases) / sizeof(tier_cases[0]); i++)
        run_tier_case(&tier_cases[i]);
}

/* Penalties are paid in the operation that makes the tier certain, and topped up. */
static void test_tier_certain_moment_and_top_up(void **state)
{
    (void)state;
    fx_doc d = {.objectives = uptime_obj, .penalties = aws_tiers};
    sl_contract *c = fx_active(&d, 100000);
    const sl_event *e = NULL;
    int64_t expect[][2] = {{1, 10000}, {100, 20000}, {500, 70000}}; /* bad index, top-up */
    size_t next = 0;
    for (int64_t k = 0; k < 600; k++) {
        fx_tick(c, T0 + (k + 1) * SEC);
        fx_report_ok(c, "web", "uptime", "o1", SEC, k, DOWN);
        size_t n = fx_count(c, SL_EV_PENALTY, &e);
        if (next < 3 && k == expect[next][0]) {
            assert_int_equal(n, 1);
            assert_int_equal(e->amount, expect[next][1]);
            assert_int_equal(e->tier, (int)next);
            assert_string_equal(e->to, "univie");
            assert_int_equal(fx_count(c, SL_EV_VIOLATION, NULL), 1);
            next++;
        } else {
            assert_int_equal(n, 0);
        }
        sl_contract_events_clear(c);
    }
    assert_int_equal(next, 3);
    assert_int_equal(fx_bal(c, "univie"), 100000);
    fx_check(c);
    sl_contract_free(c);
}

typedef struct unknown_case {
    const char *policy;
    int64_t paid;
} unknown_case;

/* 4999 good, 1 bad, 5000 never reported: the unknowns decide the tier at window close. */
static void test_unknown_intervals(void **state)
{
    (void)state;
    static const unknown_case cases[] = {{"exclude", 10000}, {"good", 0}, {"bad", 100000}};
    for (size_t i = 0; i < 3; i++) {
        char obj[256];
        snprintf(obj, sizeof(obj),
                 "    - {name: uptime, metric: availability, interval: 1s, window: period, "
                 "target: \">= 99.99%%\", unknown: %s}\n",
                 cases[i].policy);
        fx_doc d = {.objectives = obj, .penalties = aws_tiers};
        sl_contract *c = fx_active(&d, 100000);
        for (int64_t k = 0; k < 5000; k++) {
            fx_tick(c, T0 + (k + 1) * SEC);
            fx_report_ok(c, "web", "uptime", "o1", SEC, k, k == 0 ? DOWN : UP);
        }
        assert_int_equal(fx_bal(c, "univie"), 0); /* nothing certain yet */
        fx_tick(c, T0 + 10010 * SEC);
        assert_int_equal(fx_bal(c, "univie"), cases[i].paid);
        sl_window_info w;
        assert_int_equal(sl_contract_window(c, "web", 0, 0, &w), 0);
        assert_int_equal(w.unknown, 5000);
        assert_true(w.closed);
        fx_check(c);
        sl_contract_free(c);
    }
}

static void run_violations(const char *cap, int64_t reports, int64_t expect_paid)
{
    char pen[256];
    snprintf(pen, sizeof(pen),
             "  penalties:\n    - {objective: latency, per_violation: \"5.00\"%s%s}\n",
             cap ? ", cap: " : "", cap ? cap : "");
    fx_doc d = {.objectives = "    - {name: latency, metric: response_time, percentile: 95, "
                              "interval: 1s, window: period, target: \"<= 300ms\"}\n",
                .penalties = pen};
    sl_contract *c = fx_active(&d, 100000);
    for (int64_t k = 0; k < reports; k++) {
        fx_tick(c, T0 + (k + 1) * SEC);
        fx_report_ok(c, "web", "latency", "o1", SEC, k, k % 2 ? 250 : 301);
        assert_int_equal(fx_count(c, SL_EV_VIOLATION, NULL), k % 2 ? 0 : 1);
        sl_contract_events_clear(c);
    }
    assert_int_equal(fx_bal(c, "univie"), expect_paid);
    sl_window_info w;
    assert_int_equal(sl_contract_window(c, "web", 0, 0, &w), 0);
    assert_int_equal(w.violations, (reports + 1) / 2);
    fx_check(c);
    sl_contract_free(c);
}

static void test_per_violation_caps(void **state)
{
    (void)state;
    run_violations(NULL, 20, 10 * 500);    /* 10 violations x 5.00 */
    run_violations("50%", 400, 50000);     /* 200 x 5.00 = 1000.00, capped at 500.00 */
    run_violations("\"20.00\"", 40, 2000); /* capped at 20.00 */
    run_violations(NULL, 1000, 100000);    /* 500 x 5.00 = 2500.00, limited by the share */
}

static void test_per_failure_checks(void **state)
{
    (void)state;
    fx_doc d = {.end = "2026-12-01T10:00:00Z",
                .objectives = "    - {name: backups, metric: durability, interval: 1h, "
                              "window: period}\n",
                .penalties = "  penalties:\n    - {objective: backups, per_failure: \"50.00\", "
                             "cap: \"120.00\"}\n"};
    sl_contract *c = fx_active(&d, 100000);
    int64_t outcome[10] = {1, 0, 1, 0, 0, 0, 1, 1, 1, 1};
    int64_t paid[10] = {0, 5000, 5000, 10000, 12000, 12000, 12000, 12000, 12000, 12000};
    for (int64_t k = 0; k < 10; k++) {
        fx_tick(c, T0 + (k + 1) * HOUR);
        fx_report_ok(c, "web", "backups", "o1", HOUR, k, outcome[k]);
        assert_int_equal(fx_bal(c, "univie"), paid[k]);
    }
    sl_error err = {0};
    fx_tick(c, T0 + 10 * HOUR);
    assert_int_equal(fx_report(c, "web", "backups", "o1", HOUR, 9, 1, &err), SL_EDUP);
    fx_check(c);
    sl_contract_free(c);
}

/* Two days, daily billing: day one's share is eaten by penalties, day two settles in full. */
static void test_billing_windows(void **state)
{
    (void)state;
    fx_doc d = {.end = "2026-12-03T00:00:00Z",
                .billing = "calendar-day",
                .grace = "5m",
                .objectives = "    - {name: uptime, metric: availability, interval: 1h, "
                              "window: calendar-day, target: \">= 99.0%\"}\n",
                .penalties = "  penalties:\n    - {objective: uptime, tiers: [{below: 99.0%, "
                             "credit: 30%}, {below: 95.0%, credit: 100%}]}\n"};
    sl_contract *c = fx_active(&d, 100000);
    const sl_event *e = NULL;
    fx_tick(c, T0 + HOUR);
    fx_report_ok(c, "web", "uptime", "o1", HOUR, 0, DOWN); /* 23/24 at best: below 99 % */
    assert_int_equal(fx_bal(c, "univie"), 15000);
    fx_tick(c, T0 + 2 * HOUR);
    fx_report_ok(c, "web", "uptime", "o1", HOUR, 1, DOWN); /* 22/24 at best: below 95 % */
    assert_int_equal(fx_bal(c, "univie"), 50000);
    sl_contract_events_clear(c);
    fx_tick(c, T0 + 24 * HOUR + 5 * 60 * SEC); /* day one closes */
    assert_int_equal(fx_count(c, SL_EV_SETTLEMENT, &e), 1);
    assert_int_equal(e->amount, 0);
    assert_int_equal(fx_count(c, SL_EV_WINDOW_CLOSED, &e), 1);
    assert_int_equal(e->value, 0); /* no interval of day one was reported good */
    for (int64_t k = 24; k < 48; k++) {
        fx_tick(c, T0 + (k + 1) * HOUR);
        fx_report_ok(c, "web", "uptime", "o1", HOUR, k, UP);
    }
    sl_contract_events_clear(c);
    fx_tick(c, T0 + 48 * HOUR + 5 * 60 * SEC);
    assert_int_equal(fx_count(c, SL_EV_SETTLEMENT, &e), 1);
    assert_int_equal(e->amount, 50000);
    assert_int_equal(fx_count(c, SL_EV_CLOSED, NULL), 1);
    assert_int_equal(fx_bal(c, "aws"), 50000);
    assert_int_equal(fx_bal(c, "univie"), 50000);
    fx_check(c);
    sl_contract_free(c);
}

/* An escrow holding less than the fee limits penalties and settlements; the statement shows
 * the shortfall. An over-deposit is refunded at period end. */
static void test_escrow_limits_and_refund(void **state)
{
    (void)state;
    fx_doc d = {.objectives = uptime_obj, .penalties = aws_tiers};
    sl_contract *c = fx_active(&d, 30000);
    for (int64_t k = 0; k < 600; k++) {
        fx_tick(c, T0 + (k + 1) * SEC);
        fx_report_ok(c, "web", "uptime", "o1", SEC, k, DOWN);
    }
    assert_int_equal(fx_bal(c, "univie"), 30000); /* owed 100000, escrow held 30000 */
    fx_tick(c, T0 + 10010 * SEC);
    assert_int_equal(fx_bal(c, "aws"), 0);
    sl_buf b;
    sl_buf_init(&b);
    assert_int_equal(sl_contract_statement(c, "web", &b), 0);
    const char *s = sl_buf_cstr(&b);
    assert_non_null(strstr(s, "\"status\":\"closed\""));
    assert_non_null(strstr(s, "\"penalties\":\"300.00\""));
    assert_non_null(strstr(s, "\"owed\":\"1000.00\""));
    sl_buf_release(&b);
    fx_check(c);
    sl_contract_free(c);

    c = fx_active(&d, 150000); /* 500.00 more than the fee */
    fx_tick(c, T0 + 10010 * SEC);
    assert_int_equal(fx_bal(c, "aws"), 100000);
    assert_int_equal(fx_bal(c, "univie"), 50000);
    fx_check(c);
    sl_contract_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_aws_tiers_table),
        cmocka_unit_test(test_tier_certain_moment_and_top_up),
        cmocka_unit_test(test_unknown_intervals),
        cmocka_unit_test(test_per_violation_caps),
        cmocka_unit_test(test_per_failure_checks),
        cmocka_unit_test(test_billing_windows),
        cmocka_unit_test(test_escrow_limits_and_refund),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
