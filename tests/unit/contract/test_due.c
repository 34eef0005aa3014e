/*
 * test_due.c: the contract's next due time (sl_contract_next_due), which an orderer uses to cut
 * a block on an idle channel. Nothing is ever due without an active agreement; an active one is
 * due at each waiting interval's deadline, each window close, each billing close and its period
 * end (each plus the grace), and at no other time: a tick just before does nothing, a tick at it
 * does the work and moves the due time past it. An interval decided early is no longer due;
 * an agreement activated late is due at once.
 */
#include "fixture.h"

#define MIN   (60 * SEC)
#define GRACE (10 * SEC)

static const char uptime[] = "    - {name: uptime, metric: availability, interval: 60s, "
                             "window: 1h, target: \">= 99.0%\"}\n";

/* Three hours, hourly windows, billing over the whole period, 10 s grace, three oracles of
 * which two decide. */
static const fx_doc doc = {
    .length_ms = 3 * HOUR, .oracles = "{members: [o1, o2, o3], quorum: 2}", .objectives = uptime};

static size_t n_events(const sl_contract *c)
{
    size_t n;
    sl_contract_events(c, &n);
    return n;
}

/* A tick one ms before the due time does nothing; a tick at it does something and leaves the
 * next due time after it. Returns the new due time. */
static int64_t tick_at_due(sl_contract *c, int64_t due)
{
    assert_int_equal(sl_contract_next_due(c), due);
    sl_contract_events_clear(c);
    fx_tick(c, due - 1);
    assert_int_equal(n_events(c), 0);
    assert_int_equal(sl_contract_next_due(c), due);
    fx_tick(c, due);
    assert_true(n_events(c) > 0);
    int64_t next = sl_contract_next_due(c);
    assert_true(next > due);
    return next;
}

static void test_nothing_due_without_an_active_agreement(void **state)
{
    (void)state;
    sl_contract *c;
    sl_error err = {0};
    uint8_t hash[SL_HASH_LEN];
    assert_int_equal(sl_contract_new("bank", &c), 0);
    assert_int_equal(sl_contract_next_due(c), INT64_MAX);
    fx_tick(c, T0);
    assert_int_equal(sl_contract_issue(c, "bank", "univie", "EUR", 100, &err), 0);
    assert_int_equal(sl_contract_next_due(c), INT64_MAX);

    /* A proposal is never due, not even once its period is over (the tick leaves it alone;
     * accepting it is refused by time); nor is a rejected one. */
    fx_doc d = doc;
    sl_agreement_spec *spec = fx_spec(&d, hash);
    assert_int_equal(sl_contract_propose(c, "univie", spec, hash, &err), 0);
    d.name = "other";
    spec = fx_spec(&d, hash);
    assert_int_equal(sl_contract_propose(c, "univie", spec, hash, &err), 0);
    assert_int_equal(sl_contract_reject(c, "aws", "other", &err), 0);
    assert_int_equal(sl_contract_next_due(c), INT64_MAX);
    sl_contract_events_clear(c);
    fx_tick(c, T0 + 4 * HOUR);
    assert_int_equal(n_events(c), 0);
    assert_int_equal(sl_contract_next_due(c), INT64_MAX);
    sl_contract_free(c);
}

static void test_due_at_deadlines_closes_and_end(void **state)
{
    (void)state;
    sl_contract *c = fx_active(&doc, 100000);
    /* Nothing reported: the first window's close. */
    assert_int_equal(sl_contract_next_due(c), T0 + HOUR + GRACE);

    /* One report of interval 2 waits for a second: due at the interval's deadline, where it is
     * decided unknown. */
    fx_tick(c, T0 + 3 * MIN);
    fx_report_ok(c, "web", "uptime", "o1", MIN, 2, 1000000);
    int64_t next = tick_at_due(c, T0 + 3 * MIN + GRACE);
    assert_int_equal(fx_count(c, SL_EV_DECIDED, NULL), 1);

    /* Then each window close, and the period end with its settlement, refund and close. */
    assert_int_equal(next, T0 + HOUR + GRACE);
    next = tick_at_due(c, next);
    assert_int_equal(fx_count(c, SL_EV_WINDOW_CLOSED, NULL), 1);
    assert_int_equal(next, T0 + 2 * HOUR + GRACE);
    next = tick_at_due(c, next);
    assert_int_equal(next, T0 + 3 * HOUR + GRACE);
    next = tick_at_due(c, next);
    assert_int_equal(fx_count(c, SL_EV_CLOSED, NULL), 1);
    assert_int_equal(fx_count(c, SL_EV_SETTLEMENT, NULL), 1);
    assert_int_equal(next, INT64_MAX);
    fx_check(c);
    sl_contract_free(c);
}

/* A decided interval's reports are kept until its deadline (a dissent would be a dispute), but
 * that deadline is not due: the tick would only forget them, and any later tick does. */
static void test_decided_interval_is_not_due(void **state)
{
    (void)state;
    sl_contract *c = fx_active(&doc, 100000);
    fx_tick(c, T0 + MIN);
    fx_report_ok(c, "web", "uptime", "o1", MIN, 0, 1000000);
    assert_int_equal(sl_contract_next_due(c), T0 + MIN + GRACE);
    fx_report_ok(c, "web", "uptime", "o2", MIN, 0, 1000000);
    assert_int_equal(fx_count(c, SL_EV_DECIDED, NULL), 1);
    assert_int_equal(sl_contract_next_due(c), T0 + HOUR + GRACE);
    fx_report_ok(c, "web", "uptime", "o3", MIN, 0, 1000000);
    assert_int_equal(sl_contract_next_due(c), T0 + HOUR + GRACE);

    /* A later interval waiting for its second report is due again, though an earlier decided
     * one sorts before it. */
    fx_tick(c, T0 + 2 * MIN);
    fx_report_ok(c, "web", "uptime", "o3", MIN, 1, 0);
    assert_int_equal(sl_contract_next_due(c), T0 + 2 * MIN + GRACE);

    /* Its tick forgets both; a dissent after the deadline is refused either way. */
    sl_contract_events_clear(c);
    fx_tick(c, T0 + 2 * MIN + GRACE);
    assert_int_equal(fx_count(c, SL_EV_DECIDED, NULL), 1);
    sl_error err = {0};
    assert_int_equal(fx_report(c, "web", "uptime", "o1", MIN, 0, 0, &err), SL_EDUP);
    assert_int_equal(sl_contract_next_due(c), T0 + HOUR + GRACE);
    sl_contract_free(c);
}

/* The minimum over agreements, and an agreement activated after one of its windows closed is
 * due at once: the next tick closes that window. */
static void test_late_activation_due_at_once(void **state)
{
    (void)state;
    sl_contract *c = fx_active(&doc, 0);
    sl_error err = {0};
    uint8_t hash[SL_HASH_LEN];
    fx_tick(c, T0 + 90 * MIN);
    assert_int_equal(sl_contract_next_due(c), T0 + 2 * HOUR + GRACE);
    fx_doc d = doc;
    d.name = "late";
    sl_agreement_spec *spec = fx_spec(&d, hash);
    assert_int_equal(sl_contract_propose(c, "univie", spec, hash, &err), 0);
    assert_int_equal(sl_contract_next_due(c), T0 + 2 * HOUR + GRACE);
    assert_int_equal(sl_contract_accept(c, "aws", "late", hash, &err), 0);
    assert_int_equal(sl_contract_next_due(c), T0 + HOUR + GRACE);
    sl_contract_events_clear(c);
    fx_tick(c, T0 + 90 * MIN + 1);
    const sl_event *e = NULL;
    assert_int_equal(fx_count(c, SL_EV_WINDOW_CLOSED, &e), 1);
    assert_string_equal(e->agreement, "late");
    assert_int_equal(sl_contract_next_due(c), T0 + 2 * HOUR + GRACE);
    sl_contract_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nothing_due_without_an_active_agreement),
        cmocka_unit_test(test_due_at_deadlines_closes_and_end),
        cmocka_unit_test(test_decided_interval_is_not_due),
        cmocka_unit_test(test_late_activation_due_at_once),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
