/*
 * test_report.c: oracle reports: every aggregation policy (median, min, max, all-agree,
 * k-of-n) including disputes, missing, late and repeating oracles, and the once-per-interval
 * guard that makes a penalty impossible to pay twice for the same time.
 */
#include "fixture.h"

#define UP   1000000
#define DOWN 0

static const char *uptime = "    - {name: uptime, metric: availability, interval: 1s, "
                            "window: period, target: \">= 99.0%\"}\n";
static const char *latency = "    - {name: latency, metric: response_time, percentile: 95, "
                             "interval: 1s, window: period, target: \"<= 300ms\"}\n";

static sl_contract *three_oracles(const char *policy, int quorum, const char *objectives)
{
    static char oracles[128];
    snprintf(oracles, sizeof(oracles), "{members: [o1, o2, o3], policy: %s, quorum: %d}", policy,
             quorum);
    fx_doc d = {.oracles = oracles, .objectives = objectives};
    sl_contract *c = fx_active(&d, 0);
    fx_tick(c, T0 + 5 * SEC);
    return c;
}

/* The DECIDED event of the last operation, or NULL. */
static const sl_event *decided(const sl_contract *c)
{
    const sl_event *e = NULL;
    return fx_count(c, SL_EV_DECIDED, &e) ? e : NULL;
}

static void test_median_agreeing_quorum_decides_early(void **state)
{
    (void)state;
    sl_contract *c = three_oracles("median", 2, uptime);
    sl_error err = {0};
    fx_report_ok(c, "web", "uptime", "o1", SEC, 0, UP);
    assert_null(decided(c));
    fx_report_ok(c, "web", "uptime", "o2", SEC, 0, UP);
    const sl_event *e = decided(c);
    assert_non_null(e);
    assert_int_equal(e->outcome, SL_OUTCOME_GOOD);
    assert_int_equal(e->value, UP);
    assert_int_equal(e->good_oracles, 3);
    assert_int_equal(fx_count(c, SL_EV_DISPUTE, NULL), 0);
    /* The third, late oracle is still heard before the deadline: its dissent is recorded as a
     * dispute, and changes neither the decision nor the money; it cannot report twice. */
    sl_contract_events_clear(c);
    fx_report_ok(c, "web", "uptime", "o3", SEC, 0, DOWN);
    const sl_event *dsp = NULL;
    assert_int_equal(fx_count(c, SL_EV_DISPUTE, &dsp), 1);
    assert_int_equal(dsp->outcome, SL_OUTCOME_GOOD);
    assert_int_equal(dsp->good_oracles, 3);
    assert_int_equal(dsp->bad_oracles, 4);
    assert_null(decided(c));
    sl_window_info w;
    assert_int_equal(sl_contract_window(c, "web", 0, 0, &w), 0);
    assert_int_equal(w.good, 1);
    assert_int_equal(w.bad, 0);
    assert_int_equal(fx_report(c, "web", "uptime", "o3", SEC, 0, DOWN, &err), SL_EDUP);
    assert_non_null(strstr(err.msg, "already reported"));
    sl_contract_free(c);
}

static void test_median_outvotes_a_liar(void **state)
{
    (void)state;
    sl_contract *c = three_oracles("median", 2, uptime);
    fx_report_ok(c, "web", "uptime", "o1", SEC, 1, DOWN); /* the liar reports first */
    fx_report_ok(c, "web", "uptime", "o2", SEC, 1, UP);
    assert_null(decided(c)); /* a quorum, but it disagrees: wait for the third */
    fx_report_ok(c, "web", "uptime", "o3", SEC, 1, UP);
    const sl_event *e = decided(c), *d = NULL;
    assert_non_null(e);
    assert_int_equal(e->outcome, SL_OUTCOME_GOOD);
    assert_int_equal(e->value, UP);
    assert_int_equal(fx_count(c, SL_EV_DISPUTE, &d), 1);
    assert_int_equal(d->bad_oracles, 1);  /* o1 */
    assert_int_equal(d->good_oracles, 6); /* o2, o3 */
    sl_contract_free(c);
}

static void test_deadline_decides_with_what_arrived(void **state)
{
    (void)state;
    sl_contract *c = three_oracles("median", 2, uptime);
    fx_report_ok(c, "web", "uptime", "o1", SEC, 2, UP); /* below quorum */
    fx_report_ok(c, "web", "uptime", "o1", SEC, 3, UP); /* quorum, disagreeing */
    fx_report_ok(c, "web", "uptime", "o2", SEC, 3, DOWN);
    sl_contract_events_clear(c);
    fx_tick(c, T0 + 3 * SEC + 10 * SEC - 1); /* interval 2 ends at 3 s, grace 10 s */
    assert_null(decided(c));
    fx_tick(c, T0 + 3 * SEC + 10 * SEC);
    const sl_event *e = decided(c);
    assert_non_null(e);
    assert_int_equal(e->start_ms, T0 + 2 * SEC);
    assert_int_equal(e->outcome, SL_OUTCOME_UNKNOWN);
    sl_contract_events_clear(c);
    fx_tick(c, T0 + 4 * SEC + 10 * SEC);
    e = decided(c);
    assert_non_null(e);
    assert_int_equal(e->outcome, SL_OUTCOME_BAD); /* median of up and down: 50 % */
    assert_int_equal(fx_count(c, SL_EV_DISPUTE, NULL), 1);
    sl_window_info w;
    assert_int_equal(sl_contract_window(c, "web", 0, 0, &w), 0);
    assert_int_equal(w.unknown, 1);
    assert_int_equal(w.bad, 1);
    sl_contract_free(c);
}

static void test_min_and_max(void **state)
{
    (void)state;
    static const struct {
        const char *policy;
        int64_t value;
        sl_outcome outcome;
    } cases[] = {{"min", 100, SL_OUTCOME_GOOD},
                 {"max", 400, SL_OUTCOME_BAD},
                 {"median", 200, SL_OUTCOME_GOOD}};
    for (size_t i = 0; i < 3; i++) {
        sl_contract *c = three_oracles(cases[i].policy, 2, latency);
        fx_report_ok(c, "web", "latency", "o1", SEC, 0, 100);
        fx_report_ok(c, "web", "latency", "o2", SEC, 0, 400);
        assert_null(decided(c));
        fx_report_ok(c, "web", "latency", "o3", SEC, 0, 200);
        const sl_event *e = decided(c);
        assert_non_null(e);
        assert_int_equal(e->value, cases[i].value);
        assert_int_equal(e->outcome, cases[i].outcome);
        assert_int_equal(fx_count(c, SL_EV_VIOLATION, NULL), cases[i].outcome == SL_OUTCOME_BAD);
        sl_contract_free(c);
    }
}

static void test_all_agree(void **state)
{
    (void)state;
    sl_contract *c = three_oracles("all-agree", 2, uptime);
    fx_report_ok(c, "web", "uptime", "o1", SEC, 0, UP);
    fx_report_ok(c, "web", "uptime", "o2", SEC, 0, UP);
    assert_null(decided(c)); /* waits for every oracle */
    fx_report_ok(c, "web", "uptime", "o3", SEC, 0, UP);
    assert_int_equal(decided(c)->outcome, SL_OUTCOME_GOOD);
    sl_contract_events_clear(c);
    fx_report_ok(c, "web", "uptime", "o1", SEC, 1, UP);
    fx_report_ok(c, "web", "uptime", "o2", SEC, 1, DOWN);
    assert_int_equal(decided(c)->outcome, SL_OUTCOME_UNKNOWN); /* disagreement: at once */
    assert_int_equal(fx_count(c, SL_EV_DISPUTE, NULL), 1);
    sl_contract_events_clear(c);
    fx_report_ok(c, "web", "uptime", "o1", SEC, 2, UP); /* two agree, third never comes */
    fx_report_ok(c, "web", "uptime", "o3", SEC, 2, UP);
    fx_tick(c, T0 + 13 * SEC);
    assert_int_equal(decided(c)->outcome, SL_OUTCOME_GOOD);
    sl_contract_free(c);
}

static void test_k_of_n(void **state)
{
    (void)state;
    sl_contract *c = three_oracles("k-of-n", 2, uptime);
    fx_report_ok(c, "web", "uptime", "o1", SEC, 0, UP);
    fx_report_ok(c, "web", "uptime", "o2", SEC, 0, DOWN);
    assert_null(decided(c));
    fx_report_ok(c, "web", "uptime", "o3", SEC, 0, DOWN);
    const sl_event *e = decided(c);
    assert_int_equal(e->outcome, SL_OUTCOME_BAD);
    assert_int_equal(e->value, DOWN);
    assert_int_equal(fx_count(c, SL_EV_DISPUTE, NULL), 1);
    sl_contract_free(c);

    c = three_oracles("k-of-n", 3, uptime); /* unanimity: one dissent settles it */
    fx_report_ok(c, "web", "uptime", "o1", SEC, 0, UP);
    fx_report_ok(c, "web", "uptime", "o2", SEC, 0, DOWN);
    assert_int_equal(decided(c)->outcome, SL_OUTCOME_UNKNOWN);
    sl_contract_free(c);
}

static void test_guard_refusals(void **state)
{
    (void)state;
    sl_contract *c = three_oracles("median", 2, uptime);
    sl_error err = {0};
    sl_buf before, after;
    sl_buf_init(&before);
    sl_buf_init(&after);
    fx_report_ok(c, "web", "uptime", "o1", SEC, 0, UP);
    assert_int_equal(sl_contract_serialize(c, &before), 0);

    struct {
        sl_report r;
        int code;
        const char *needle;
    } cases[] = {
        {{"web", "uptime", "o1", T0, T0 + SEC, UP, 0}, SL_EDUP, "already reported"},
        {{"web", "uptime", "o1", T0 + 500, T0 + 1500, UP, 0}, SL_EINVAL, "grid"},
        {{"web", "uptime", "o2", T0, T0 + 2 * SEC, UP, 0}, SL_EINVAL, "grid"},
        {{"web", "uptime", "o2", T0 - SEC, T0, UP, 0}, SL_EINVAL, "outside the period"},
        {{"web", "uptime", "o2", T0 + 5 * SEC, T0 + 6 * SEC, UP, 0}, SL_ETIME, "not over"},
        {{"web", "uptime", "mallory", T0, T0 + SEC, UP, 0}, SL_EPERM, "not an oracle"},
        {{"web", "uptime", "univie", T0, T0 + SEC, UP, 0}, SL_EPERM, "not an oracle"},
        {{"web", "nope", "o2", T0, T0 + SEC, UP, 0}, SL_ENOENT, "no objective"},
        {{"nope", "uptime", "o2", T0, T0 + SEC, UP, 0}, SL_ENOENT, "no agreement"},
        {{"web", "uptime", "o2", T0, T0 + SEC, UP + 1, 0}, SL_EINVAL, "outside"},
        {{"web", "uptime", "o2", T0, T0 + SEC, -1, 0}, SL_EINVAL, "outside"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        memset(&err, 0, sizeof(err));
        assert_int_equal(sl_contract_report(c, &cases[i].r, &err), cases[i].code);
        assert_int_equal(err.code, cases[i].code);
        if (!strstr(err.msg, cases[i].needle))
            fail_msg("case %zu: '%s' lacks '%s'", i, err.msg, cases[i].needle);
    }
    assert_int_equal(sl_contract_serialize(c, &after), 0);
    assert_int_equal(before.len, after.len);
    assert_memory_equal(before.p, after.p, before.len);

    /* Decided intervals and intervals past their deadline are closed for good. */
    fx_report_ok(c, "web", "uptime", "o2", SEC, 0, UP);
    fx_report_ok(c, "web", "uptime", "o3", SEC, 0, UP); /* late, agreeing: recorded */
    assert_int_equal(fx_report(c, "web", "uptime", "o2", SEC, 0, UP, &err), SL_EDUP);
    fx_tick(c, T0 + 12 * SEC); /* interval 1 ends at 2 s; grace 10 s */
    assert_int_equal(fx_report(c, "web", "uptime", "o1", SEC, 0, UP, &err), SL_EDUP);
    assert_int_equal(fx_report(c, "web", "uptime", "o1", SEC, 1, UP, &err), SL_ETIME);
    assert_non_null(strstr(err.msg, "too late"));
    fx_report_ok(c, "web", "uptime", "o1", SEC, 2, UP);
    sl_buf_release(&before);
    sl_buf_release(&after);
    sl_contract_free(c);
}

/* An objective may restrict which of the agreement's oracles count for it. */
static void test_objective_oracle_subset(void **state)
{
    (void)state;
    sl_contract *c = three_oracles(
        "median", 2,
        "    - {name: uptime, metric: availability, interval: 1s, window: period, "
        "target: \">= 99.0%\", oracles: {members: [o2, o3], policy: max, quorum: 2}}\n");
    sl_error err = {0};
    assert_int_equal(fx_report(c, "web", "uptime", "o1", SEC, 0, UP, &err), SL_EPERM);
    fx_report_ok(c, "web", "uptime", "o3", SEC, 0, DOWN);
    assert_null(decided(c));
    fx_report_ok(c, "web", "uptime", "o2", SEC, 0, UP);
    assert_int_equal(decided(c)->outcome, SL_OUTCOME_GOOD);
    sl_contract_free(c);
}

/* A check result for an interval objective, or an interval measurement for a check objective,
 * is refused with the kind the objective wants, before anything else about it, and changes
 * nothing. */
static void test_kind_mismatch_refused(void **state)
{
    (void)state;
    sl_contract *c = three_oracles("median", 2,
                                   "    - {name: uptime, metric: availability, interval: 1s, "
                                   "window: period, target: \">= 99.0%\"}\n"
                                   "    - {name: backups, metric: durability, interval: 1s, "
                                   "window: period}\n");
    sl_error err = {0};
    sl_buf before, after;
    sl_buf_init(&before);
    sl_buf_init(&after);
    assert_int_equal(sl_contract_serialize(c, &before), 0);

    sl_report as_check = {"web", "uptime", "o1", T0, T0 + SEC, UP, 1};
    assert_int_equal(sl_contract_report(c, &as_check, &err), SL_EINVAL);
    assert_int_equal(err.code, SL_EINVAL);
    assert_string_equal(err.field, "objective");
    assert_string_equal(err.msg,
                        "'uptime' is an interval objective; send it in a report transaction");
    sl_report as_report = {"web", "backups", "mallory", T0, T0 + SEC, 1, 0};
    memset(&err, 0, sizeof(err));
    assert_int_equal(sl_contract_report(c, &as_report, &err), SL_EINVAL);
    assert_string_equal(err.field, "objective");
    assert_string_equal(err.msg, "'backups' is a check objective; send it in a check transaction");
    assert_int_equal(sl_contract_serialize(c, &after), 0);
    assert_int_equal(before.len, after.len);
    assert_memory_equal(before.p, after.p, before.len);

    /* Each in its own kind is taken. */
    as_check.check = 0;
    assert_int_equal(sl_contract_report(c, &as_check, &err), 0);
    as_report.oracle = "o1";
    as_report.check = 1;
    assert_int_equal(sl_contract_report(c, &as_report, &err), 0);
    sl_buf_release(&before);
    sl_buf_release(&after);
    sl_contract_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_median_agreeing_quorum_decides_early),
        cmocka_unit_test(test_median_outvotes_a_liar),
        cmocka_unit_test(test_deadline_decides_with_what_arrived),
        cmocka_unit_test(test_min_and_max),
        cmocka_unit_test(test_all_agree),
        cmocka_unit_test(test_k_of_n),
        cmocka_unit_test(test_guard_refusals),
        cmocka_unit_test(test_objective_oracle_subset),
        cmocka_unit_test(test_kind_mismatch_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
