/*
 * test_sched.c: the oracle scheduler with a fake clock, a fake orderer (submitted transactions
 * are collected and decoded) and a fake ledger (a set of known ids). Pushed observations are
 * the source, so no network is involved: what is checked is which intervals get reported, by
 * whom, with which values, that a push is reported by the pushing oracle only, and that
 * nothing is reported twice or lost, across restarts too (a restart is a new scheduler on the
 * same state file: the old one kept nothing anywhere else).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "slaledger/sched.h"
#include "slaledger/tx.h"
#include "support/net.h"

#define MAX_TX 64

typedef struct world {
    net n;
    int64_t now;
    sl_tx_decoded *tx[MAX_TX]; /* every submission, in order */
    size_t n_tx;
    uint8_t known[MAX_TX][SL_HASH_LEN]; /* ids the "ledger" holds */
    size_t n_known;
    sl_sched_oracle oracles[2];
    char state[256];
    sl_agreement_spec *spec;
    size_t max_tx_bytes;      /* the scheduler's; 0 for its default */
    sl_agreement_spec *spec2; /* "app2", the same terms under another name */
    char refreshed[8][80];    /* "channel/agreement" per refresh callback, "*" for everything */
    size_t n_refreshed;
    sl_sched *s;
} world;

static int64_t clock_cb(void *arg)
{
    return ((world *)arg)->now;
}

static int submit_cb(void *arg, const char *channel, const uint8_t *tx, size_t len, sl_error *err)
{
    world *w = arg;

    assert_string_equal(channel, "univie-aws");
    assert_true(w->n_tx < MAX_TX);
    assert_int_equal(sl_tx_decode(tx, len, len, &w->tx[w->n_tx], err), 0);
    assert_int_equal(sl_tx_verify_signature(w->tx[w->n_tx]), 0);
    w->n_tx++;
    return 0;
}

static int known_cb(void *arg, const char *channel, const uint8_t id[SL_HASH_LEN])
{
    world *w = arg;

    (void)channel;
    for (size_t i = 0; i < w->n_known; i++) {
        if (memcmp(w->known[i], id, SL_HASH_LEN) == 0)
            return 1;
    }
    return 0;
}

/* Records what the scheduler asked for; a refresh of app2 takes it up, as the node would. */
static void refresh_cb(void *arg, const char *channel, const char *agreement)
{
    world *w = arg;

    assert_true(w->n_refreshed < 8);
    assert_true((channel == NULL) == (agreement == NULL));
    snprintf(w->refreshed[w->n_refreshed++], sizeof(w->refreshed[0]), "%s/%s",
             channel ? channel : "*", agreement ? agreement : "*");
    if (agreement && strcmp(agreement, "app2") == 0)
        assert_int_equal(sl_sched_update(w->s, channel, agreement, w->spec2), 0);
}

/* Parses template tmpl as file name, its "PERIOD" set to the hour from NT0 (the tests' injected
 * clock), so no document here names a calendar date. */
static void parse_doc(const char *tmpl, const char *name, sl_agreement_spec **out)
{
    char start[40], end[40], period[100], text[2048];
    const char *at = strstr(tmpl, "PERIOD");
    sl_diags d = {0};

    assert_non_null(at);
    sl_time_format(NT0, start, sizeof(start));
    sl_time_format(NT0 + NHOUR, end, sizeof(end));
    snprintf(period, sizeof(period), "{start: %s, end: %s}", start, end);
    int n = snprintf(text, sizeof(text), "%.*s%s%s", (int)(at - tmpl), tmpl, period,
                     at + strlen("PERIOD"));
    assert_true(n > 0 && (size_t)n < sizeof(text));
    assert_int_equal(sl_sla_parse(text, (size_t)n, name, out, &d), 0);
}

static const char doc[] =
    "apiVersion: slaledger/v1\n"
    "kind: Agreement\n"
    "metadata: {name: app}\n"
    "spec:\n"
    "  channel: univie-aws\n"
    "  consumer: univie\n"
    "  provider: aws\n"
    "  period: PERIOD\n"
    "  fee: {amount: \"100.00\", currency: EUR}\n"
    "  grace: 1m\n"
    "  services: [{name: step1, kind: push}]\n"
    "  oracles: {members: [univie-mon, aws-mon, watchdog], policy: median, quorum: 2}\n"
    "  objectives:\n"
    "    - {name: up, service: step1, metric: availability, interval: 10s, window: 1h,\n"
    "       target: \">= 99%\"}\n"
    "    - {name: p95, service: step1, metric: response_time, percentile: 95, interval: 10s,\n"
    "       window: 1h, target: \"<= 200ms\"}\n";

/* A scheduler over w's state file and clock for w->spec, logging through log (or nowhere). */
static void open_sched_logging(world *w, sl_sched_log_cb log)
{
    sl_sched_config c = {0};
    sl_error err = {0};

    c.log = log;
    c.state_path = w->state;
    c.oracles = w->oracles;
    c.n_oracles = 2;
    c.delay_ms = 2000;
    c.timeout_ms = 1000;
    c.max_tx_bytes = w->max_tx_bytes;
    c.submit = submit_cb;
    c.known = known_cb;
    c.refresh = refresh_cb;
    c.clock = clock_cb;
    c.arg = w;
    assert_int_equal(sl_sched_new(&c, &w->s, &err), 0);
    const sl_agreement_spec *one = w->spec;
    assert_int_equal(sl_sched_sync(w->s, "univie-aws", &one, 1), 0);
}

static void open_sched(world *w)
{
    open_sched_logging(w, NULL);
}

static int setup(void **state)
{
    world *w = calloc(1, sizeof(*w));

    net_init(&w->n);
    w->oracles[0] =
        (sl_sched_oracle){"univie-mon", w->n.key[M_UNIVIE_MON], &w->n.cert[M_UNIVIE_MON]};
    w->oracles[1] = (sl_sched_oracle){"aws-mon", w->n.key[M_AWS_MON], &w->n.cert[M_AWS_MON]};
    snprintf(w->state, sizeof(w->state), "%s/oracles.db", w->n.dir);
    parse_doc(doc, "app.yaml", &w->spec);
    sl_buf doc2; /* the same agreement named app2 */
    const char *at = strstr(doc, "{name: app}");
    sl_buf_init(&doc2);
    sl_buf_printf(&doc2, "%.*s{name: app2}%s", (int)(at - doc), doc, at + strlen("{name: app}"));
    assert_int_equal(doc2.err, 0);
    parse_doc((const char *)doc2.p, "app2.yaml", &w->spec2);
    sl_buf_release(&doc2);
    w->now = NT0 + 5 * NSEC;
    open_sched(w);
    *state = w;
    return 0;
}

static int teardown(void **state)
{
    world *w = *state;

    sl_sched_free(w->s);
    for (size_t i = 0; i < w->n_tx; i++)
        sl_tx_free(w->tx[i]);
    sl_agreement_spec_free(w->spec);
    sl_agreement_spec_free(w->spec2);
    net_free(&w->n);
    free(w);
    return 0;
}

/* Pushes one observation of app/step1 as local oracle k (0 univie-mon, 1 aws-mon). */
static void observe_as(world *w, int k, int64_t t, int ok, int64_t response_ms, int expect)
{
    sl_observation o = {t, ok, response_ms, -1, -1};
    sl_sched_push to = {"univie-aws", "app", "step1", w->oracles[k].cert->org, w->oracles[k].name};
    sl_error err = {0};

    assert_int_equal(sl_sched_observe(w->s, &to, &o, 1, &err), expect);
}

/* The same observation pushed by both local oracles' agents. */
static void observe(world *w, int64_t t, int ok, int64_t response_ms, int expect)
{
    observe_as(w, 0, t, ok, response_ms, expect);
    observe_as(w, 1, t, ok, response_ms, expect);
}

/* How many observations the state file keeps. */
static int stored_observations(const world *w)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *q = NULL;
    int n = -1;

    assert_int_equal(sqlite3_open_v2(w->state, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT count(*) FROM observation", -1, &q, NULL),
                     SQLITE_OK);
    if (sqlite3_step(q) == SQLITE_ROW)
        n = sqlite3_column_int(q, 0);
    sqlite3_finalize(q);
    sqlite3_close(db);
    return n;
}

/* The item of tx i for objective name, or NULL. */
static const sl_tx_item *item(const world *w, size_t i, const char *objective, int64_t start)
{
    const sl_tx *t = &w->tx[i]->tx;

    for (size_t k = 0; k < t->n_items; k++) {
        if (strcmp(t->items[k].objective, objective) == 0 && t->items[k].start_ms == start)
            return &t->items[k];
    }
    return NULL;
}

static void test_reports_closed_intervals_once_per_oracle(void **state)
{
    world *w = *state;

    observe(w, NT0 + 1 * NSEC, 1, 100, 0);
    observe(w, NT0 + 2 * NSEC, 0, -1, 0);
    observe(w, NT0 + 3 * NSEC, 1, 300, 0);
    observe(w, NT0 + 60 * NSEC, 1, 1, SL_ETIME); /* the future */
    observe(w, -1, 1, 1, SL_EINVAL);
    sl_observation o = {NT0, 1, 1, -1, -1};
    sl_sched_push nope = {"univie-aws", "app", "nope", "univie", "univie-mon"};
    sl_error err = {0};
    assert_int_equal(sl_sched_observe(w->s, &nope, &o, 1, &err), SL_ENOENT);

    sl_sched_step(w->s, 0); /* the interval has not closed: nothing */
    assert_int_equal(w->n_tx, 0);
    w->now = NT0 + 10 * NSEC + 1999; /* closed, but within the delay */
    sl_sched_step(w->s, 0);
    assert_int_equal(w->n_tx, 0);
    w->now = NT0 + 12 * NSEC;
    sl_sched_step(w->s, 0);
    assert_int_equal(w->n_tx, 2); /* one report per local oracle */
    for (size_t i = 0; i < 2; i++) {
        const sl_tx *t = &w->tx[i]->tx;
        assert_int_equal(t->type, SL_TX_REPORT);
        assert_int_equal(t->n_items, 2);
        const sl_tx_item *up = item(w, i, "up", NT0), *p95 = item(w, i, "p95", NT0);
        assert_non_null(up);
        assert_non_null(p95);
        assert_int_equal(up->end_ms, NT0 + 10 * NSEC);
        assert_int_equal(up->value, 666666); /* 2 of 3 succeeded */
        assert_int_equal(p95->value, 300);   /* nearest rank of {100, 300} */
    }
    assert_string_not_equal(w->tx[0]->tx.cert.subject, w->tx[1]->tx.cert.subject);

    /* That interval is done: late observations of it are refused, and nothing repeats. */
    observe(w, NT0 + 4 * NSEC, 1, 10, SL_ETIME);
    sl_sched_step(w->s, 0);
    assert_int_equal(w->n_tx, 2);
    sl_sched_stats st;
    sl_sched_stats_get(w->s, &st);
    assert_int_equal(st.reported, 4);
    assert_int_equal(st.transactions, 2);
}

static void test_unobserved_intervals_stay_unknown(void **state)
{
    world *w = *state;
    sl_sched_stats st;

    w->now = NT0 + 32 * NSEC; /* three intervals closed, none observed */
    sl_sched_step(w->s, 0);
    assert_int_equal(w->n_tx, 0);
    sl_sched_stats_get(w->s, &st);
    assert_int_equal(st.unknown, 3 * 2 * 2); /* intervals x objectives x oracles */
    assert_int_equal(st.reported, 0);
}

static void test_restart_never_reports_twice(void **state)
{
    world *w = *state;
    sl_sched_stats st;

    observe(w, NT0 + 1 * NSEC, 1, 50, 0);
    w->now = NT0 + 12 * NSEC;
    sl_sched_step(w->s, 0);
    assert_int_equal(w->n_tx, 2);

    /* Restart before the ledger holds either report: nothing is measured again, and the
     * outbox resubmits the very same bytes once they have waited long enough. */
    sl_sched_free(w->s);
    open_sched(w);
    sl_sched_step(w->s, 0);
    assert_int_equal(w->n_tx, 2);
    w->now += 31 * NSEC;
    sl_sched_step(w->s, 0);
    /* the resubmissions, plus this moment's (unobserved, so unreported) intervals */
    assert_int_equal(w->n_tx, 4);
    assert_memory_equal(w->tx[2]->id, w->tx[0]->id, SL_HASH_LEN);
    assert_memory_equal(w->tx[3]->id, w->tx[1]->id, SL_HASH_LEN);

    /* Once the ledger has them, the outbox empties. */
    memcpy(w->known[w->n_known++], w->tx[0]->id, SL_HASH_LEN);
    memcpy(w->known[w->n_known++], w->tx[1]->id, SL_HASH_LEN);
    w->now += 6 * NSEC;
    sl_sched_step(w->s, 0);
    sl_sched_stats_get(w->s, &st);
    assert_int_equal(st.outbox, 0);
    assert_int_equal(w->n_tx, 4);
}

static void test_downtime_past_the_deadline_is_missed(void **state)
{
    world *w = *state;
    sl_sched_stats st;

    /* Ten minutes in, with a one-minute grace: the early intervals cannot be reported any
     * more; the scheduler skips them (unknown) and measures from the first it still can. */
    w->now = NT0 + 600 * NSEC;
    sl_sched_step(w->s, 0);
    sl_sched_stats_get(w->s, &st);
    assert_true(st.missed >= 2 * 2 * 50);
    observe(w, NT0 + 590 * NSEC, 1, 20, 0); /* still open for the interval at 590 s */
    w->now = NT0 + 603 * NSEC;
    sl_sched_step(w->s, 0);
    assert_int_equal(w->n_tx, 2);
    assert_non_null(item(w, 0, "up", NT0 + 590 * NSEC));
    assert_int_equal(item(w, 0, "up", NT0 + 590 * NSEC)->value, 1000000);
}

static void test_agreement_leaving_drops_its_tasks(void **state)
{
    world *w = *state;
    sl_sched_stats st;

    sl_sched_stats_get(w->s, &st);
    assert_int_equal(st.tasks, 4);
    assert_int_equal(sl_sched_sync(w->s, "univie-aws", NULL, 0), 0);
    sl_sched_stats_get(w->s, &st);
    assert_int_equal(st.tasks, 0);
    observe(w, NT0 + 1 * NSEC, 1, 1, SL_ENOENT);
}

/* Reports are filled up to max_tx_bytes exactly as the ledger sizes them: with room for three
 * items (of either objective) and six gathered per oracle, each oracle signs two reports. */
static void test_reports_fill_max_tx_bytes(void **state)
{
    world *w = *state;
    sl_tx_item up = {.agreement = "app", .objective = "up"};
    sl_tx_item p95 = {.agreement = "app", .objective = "p95"};
    size_t envelope = 0, least = SIZE_MAX;

    for (int k = 0; k < 2; k++) {
        sl_tx r = {.type = SL_TX_REPORT, .channel = "univie-aws", .cert = *w->oracles[k].cert};
        size_t n = sl_tx_size(&r);
        envelope = n > envelope ? n : envelope;
        least = n < least ? n : least;
    }
    size_t s_up = sl_tx_item_size(SL_TX_REPORT, &up), s_p95 = sl_tx_item_size(SL_TX_REPORT, &p95);
    sl_sched_free(w->s);
    w->max_tx_bytes = envelope + 3 * s_p95;
    assert_true(s_p95 > s_up && least + 4 * s_up > w->max_tx_bytes); /* no fourth item fits */
    open_sched(w);

    for (int64_t k = 0; k < 3; k++) {
        w->now = NT0 + (10 * k + 1) * NSEC;
        observe(w, w->now, 1, 100, 0);
    }
    w->now = NT0 + 32 * NSEC;
    sl_sched_step(w->s, 0);
    assert_int_equal(w->n_tx, 4);
    for (size_t i = 0; i < w->n_tx; i++) {
        assert_int_equal(w->tx[i]->tx.n_items, 3);
        assert_true(w->tx[i]->len <= w->max_tx_bytes);
        assert_int_equal(w->tx[i]->len, sl_tx_size(&w->tx[i]->tx));
    }
}

/* Pushes one observation of app2/step1 as local oracle k. */
static void observe_app2(world *w, int k, int64_t t, int expect)
{
    sl_observation o = {t, 1, 10, -1, -1};
    sl_sched_push to = {"univie-aws", "app2", "step1", w->oracles[k].cert->org, w->oracles[k].name};
    sl_error err = {0};

    assert_int_equal(sl_sched_observe(w->s, &to, &o, 1, &err), expect);
}

/* sl_sched_update adds one agreement, keeps one it has, drops one: the others' tasks and the
 * observations they wait on are untouched. */
static void test_update_one_agreement(void **state)
{
    world *w = *state;
    sl_sched_stats st;

    observe(w, NT0 + 1 * NSEC, 0, -1, 0); /* app's interval 0, pending */
    assert_int_equal(sl_sched_update(w->s, "univie-aws", "app2", w->spec2), 0);
    sl_sched_stats_get(w->s, &st);
    assert_int_equal(st.tasks, 8);
    observe_app2(w, 0, NT0 + 2 * NSEC, 0);
    observe_app2(w, 1, NT0 + 2 * NSEC, 0);
    assert_int_equal(stored_observations(w), 4);

    /* app again: it is kept as it is, not made anew. */
    assert_int_equal(sl_sched_update(w->s, "univie-aws", "app", w->spec), 0);
    sl_sched_stats_get(w->s, &st);
    assert_int_equal(st.tasks, 8);
    assert_int_equal(sl_sched_update(w->s, "univie-aws", "app", w->spec2), SL_EINVAL);

    /* app2 closes: its tasks and observations go, app's stay. */
    assert_int_equal(sl_sched_update(w->s, "univie-aws", "app2", NULL), 0);
    assert_int_equal(sl_sched_update(w->s, "univie-aws", "nope", NULL), 0);
    sl_sched_stats_get(w->s, &st);
    assert_int_equal(st.tasks, 4);
    assert_int_equal(stored_observations(w), 2);
    observe_app2(w, 0, NT0 + 3 * NSEC, SL_ENOENT);

    w->now = NT0 + 12 * NSEC;
    sl_sched_step(w->s, 0);
    assert_int_equal(w->n_tx, 2);
    for (size_t i = 0; i < 2; i++) {
        assert_int_equal(w->tx[i]->tx.n_items, 1); /* up; p95 had no successful request */
        assert_non_null(item(w, i, "up", NT0));
        assert_int_equal(item(w, i, "up", NT0)->value, 0);
    }
}

/* Refreshes asked for are made at the next round on the scheduler's thread, each agreement
 * once; a refresh of everything stands for the names asked with it. */
static void test_refresh_queue(void **state)
{
    world *w = *state;
    sl_sched_stats st;

    sl_sched_refresh_agreement(w->s, "univie-aws", "app2");
    sl_sched_refresh_agreement(w->s, "univie-aws", "app");
    sl_sched_refresh_agreement(w->s, "univie-aws", "app2");
    assert_int_equal(w->n_refreshed, 0);
    sl_sched_step(w->s, 0);
    assert_int_equal(w->n_refreshed, 2);
    assert_string_equal(w->refreshed[0], "univie-aws/app2");
    assert_string_equal(w->refreshed[1], "univie-aws/app");
    sl_sched_stats_get(w->s, &st);
    assert_int_equal(st.tasks, 8); /* the callback took app2 up */
    sl_sched_step(w->s, 0);
    assert_int_equal(w->n_refreshed, 2);

    sl_sched_refresh_agreement(w->s, "univie-aws", "app");
    sl_sched_refresh(w->s);
    sl_sched_step(w->s, 0);
    assert_int_equal(w->n_refreshed, 3);
    assert_string_equal(w->refreshed[2], "*/*");
}

/* sl_sched_measure_now for every task into out[0..4), which must be all of them. */
static void measure_now(world *w, sl_sched_now out[4], sl_sched_now_status want)
{
    sl_error err = {0};
    size_t n = 0;

    assert_int_equal(sl_sched_measure_now(w->s, "univie-aws", "app", out, 4, &n, &err), 0);
    assert_int_equal(n, 4); /* two objectives, two local oracles */
    for (size_t i = 0; i < n; i++)
        assert_int_equal(out[i].status, want);
}

static void test_measure_now_reports_at_once_and_never_twice(void **state)
{
    world *w = *state;
    sl_sched_now v[4];
    sl_error err = {0};
    size_t n = 0;

    measure_now(w, v, SL_SCHED_NOW_NONE); /* 5 s in: no interval has closed */
    assert_int_equal(sl_sched_measure_now(w->s, "univie-aws", "nope", v, 4, &n, &err), SL_ENOENT);
    assert_int_equal(sl_sched_measure_now(w->s, "other", "app", v, 4, &n, &err), SL_ENOENT);
    observe(w, NT0 + 1 * NSEC, 1, 100, 0);
    /* The interval has closed, but the delay (2 s) has not passed. */
    w->now = NT0 + 10 * NSEC + 500;
    observe(w, NT0 + 10 * NSEC + 100, 1, 100, 0); /* the next interval's */
    sl_sched_step(w->s, 0);
    assert_int_equal(w->n_tx, 0);

    measure_now(w, v, SL_SCHED_NOW_QUEUED);
    assert_int_equal(v[0].start_ms, NT0);
    assert_int_equal(v[0].end_ms, NT0 + 10 * NSEC);
    assert_int_equal(v[0].from_ms, NT0);
    measure_now(w, v, SL_SCHED_NOW_PENDING); /* asked twice before it ran: still once */
    sl_sched_step(w->s, 0);
    assert_int_equal(w->n_tx, 2); /* one report per oracle, now rather than at 12 s */
    for (size_t i = 0; i < 2; i++) {
        assert_int_equal(w->tx[i]->tx.n_items, 2);
        assert_int_equal(item(w, i, "up", NT0)->value, 1000000);
    }

    /* Measured: asking again changes nothing, late pushes are refused, the schedule agrees. */
    measure_now(w, v, SL_SCHED_NOW_DONE);
    observe(w, NT0 + 5 * NSEC, 0, -1, SL_ETIME);
    w->now = NT0 + 13 * NSEC;
    sl_sched_step(w->s, 0);
    assert_int_equal(w->n_tx, 2);
    sl_sched_stats st;
    sl_sched_stats_get(w->s, &st);
    assert_int_equal(st.reported, 4);

    /* The next interval, measured on time by the schedule, is not measured again either. */
    w->now = NT0 + 22 * NSEC;
    sl_sched_step(w->s, 0);
    assert_int_equal(w->n_tx, 4);
    assert_non_null(item(w, 2, "up", NT0 + 10 * NSEC));
    measure_now(w, v, SL_SCHED_NOW_DONE);
    assert_int_equal(v[0].start_ms, NT0 + 10 * NSEC);
    sl_sched_step(w->s, 0);
    assert_int_equal(w->n_tx, 4);
}

static int logged_errors;

static char error_msg[256], error_fields[256];

/* Counts error lines and keeps the last one ("key=value ..." for its fields); the test asserts
 * after the scheduler has let go of its lock. */
static void count_errors(void *arg, int level, const char *msg, const sl_sched_log_field *f,
                         size_t n)
{
    size_t len = 0;

    (void)arg;
    if (level != 3)
        return;
    logged_errors++;
    snprintf(error_msg, sizeof(error_msg), "%s", msg);
    error_fields[0] = '\0';
    for (size_t i = 0; i < n && len < sizeof(error_fields); i++)
        len += (size_t)snprintf(error_fields + len, sizeof(error_fields) - len, "%s%s=%s",
                                i ? " " : "", f[i].key, f[i].s ? f[i].s : "");
}

static void test_unmeasurable_objective_is_left_idle(void **state)
{
    static const char ec2[] =
        "apiVersion: slaledger/v1\nkind: Agreement\nmetadata: {name: vm}\nspec:\n"
        "  channel: univie-aws\n  consumer: univie\n  provider: aws\n"
        "  period: PERIOD\n"
        "  fee: {amount: \"100.00\", currency: EUR}\n  grace: 1m\n"
        "  services: [{name: vm, kind: aws.ec2, source: {region: eu-central-1, instance: i-1,\n"
        "    credentials: aws-main, endpoint: \"http://127.0.0.1:9/\"}}]\n"
        "  oracles: {members: [univie-mon], quorum: 1}\n"
        "  objectives: [{name: up, metric: availability, interval: 2s, window: 1h,\n"
        "    target: \">= 99%\"}]\n";
    static const char secrets[] =
        "apiVersion: slaledger/v1\nkind: Secrets\nmetadata: {name: s}\nspec:\n"
        "  credentials:\n    - {name: aws-main, kind: aws, access_key_id: AKID,\n"
        "       secret_access_key: secret, region: eu-central-1}\n";
    world *w = *state;
    sl_agreement_spec *spec = NULL;
    sl_secrets *sec = NULL;
    sl_sched_config c = {0};
    sl_error err = {0};
    sl_diags d = {0};

    /* CloudWatch has no 2 s period: the request cannot be built, and saying so once is
     * better than retrying for ever. */
    parse_doc(ec2, "vm.yaml", &spec);
    assert_int_equal(sl_secrets_parse(secrets, sizeof(secrets) - 1, "s.yaml", &sec, &d), 0);
    sl_sched_free(w->s);
    c.state_path = w->state;
    c.secrets = sec;
    c.oracles = w->oracles;
    c.n_oracles = 1;
    c.submit = submit_cb;
    c.known = known_cb;
    c.clock = clock_cb;
    c.log = count_errors;
    c.arg = w;
    assert_int_equal(sl_sched_new(&c, &w->s, &err), 0);
    const sl_agreement_spec *one = spec;
    assert_int_equal(sl_sched_sync(w->s, "univie-aws", &one, 1), 0);
    logged_errors = 0;
    for (int i = 0; i < 5; i++) {
        w->now += 30 * NSEC;
        sl_sched_step(w->s, 0);
    }
    assert_int_equal(logged_errors, 1);
    assert_non_null(strstr(error_msg, "cannot measure it"));
    /* What the line is about is in fields (the JSON log's keys), not in the message. */
    assert_string_equal(error_fields,
                        "channel=univie-aws agreement=vm objective=up oracle=univie-mon");
    assert_null(strstr(error_msg, "univie-aws"));
    assert_int_equal(w->n_tx, 0);
    sl_sched_free(w->s);
    w->s = NULL;
    sl_secrets_free(sec);
    sl_agreement_spec_free(spec);
}

static void test_push_is_reported_by_the_pushing_oracle_only(void **state)
{
    static const char other[] =
        "apiVersion: slaledger/v1\nkind: Agreement\nmetadata: {name: solo}\nspec:\n"
        "  channel: univie-aws\n  consumer: univie\n  provider: aws\n"
        "  period: PERIOD\n"
        "  fee: {amount: \"100.00\", currency: EUR}\n  grace: 1m\n"
        "  services: [{name: step1, kind: push}]\n"
        "  oracles: {members: [univie-mon, watchdog], quorum: 1}\n"
        "  objectives: [{name: up, service: step1, metric: availability, interval: 10s,\n"
        "    window: 1h, target: \">= 99%\"}]\n";
    world *w = *state;
    sl_agreement_spec *solo = NULL;
    sl_observation o = {NT0 + 1 * NSEC, 0, 10, -1, -1};
    sl_error err = {0};

    /* aws-mon's agent says the step failed; univie-mon's agent says nothing. */
    observe_as(w, 1, NT0 + 1 * NSEC, 0, 10, 0);
    w->now = NT0 + 12 * NSEC;
    sl_sched_step(w->s, 0);
    assert_int_equal(w->n_tx, 1);
    assert_string_equal(w->tx[0]->tx.cert.subject, "aws-mon");
    assert_int_equal(item(w, 0, "up", NT0)->value, 0);

    /* Not one of this node's oracles: the same name in another organization, or no key. */
    sl_sched_push forged = {"univie-aws", "app", "step1", "aws", "univie-mon"};
    assert_int_equal(sl_sched_observe(w->s, &forged, &o, 1, &err), SL_EPERM);
    assert_non_null(strstr(err.msg, "univie-mon"));
    sl_sched_push stranger = {"univie-aws", "app", "step1", "watchdog", "watchdog"};
    assert_int_equal(sl_sched_observe(w->s, &stranger, &o, 1, &err), SL_EPERM);

    /* A local oracle the agreement does not name for the service. */
    parse_doc(other, "solo.yaml", &solo);
    const sl_agreement_spec *both[] = {w->spec, solo};
    assert_int_equal(sl_sched_sync(w->s, "univie-aws", both, 2), 0);
    sl_sched_push aws_solo = {"univie-aws", "solo", "step1", "aws", "aws-mon"};
    o.time_ms = w->now;
    assert_int_equal(sl_sched_observe(w->s, &aws_solo, &o, 1, &err), SL_EPERM);
    assert_non_null(strstr(err.msg, "does not measure"));
    sl_sched_push univie_solo = {"univie-aws", "solo", "step1", "univie", "univie-mon"};
    assert_int_equal(sl_sched_observe(w->s, &univie_solo, &o, 1, &err), 0);
    sl_agreement_spec_free(solo);
}

static void test_restart_keeps_acknowledged_observations(void **state)
{
    world *w = *state;

    /* Acknowledged, then the node dies before the interval closes: the observations are in
     * the state file, so the restarted scheduler reports them. */
    observe_as(w, 0, NT0 + 1 * NSEC, 1, 100, 0);
    observe_as(w, 0, NT0 + 2 * NSEC, 0, -1, 0);
    observe_as(w, 0, NT0 + 3 * NSEC, 1, 300, 0);
    assert_int_equal(stored_observations(w), 3);
    sl_sched_free(w->s);
    w->now = NT0 + 12 * NSEC;
    open_sched(w);
    sl_sched_step(w->s, 0);
    assert_int_equal(w->n_tx, 1);
    assert_string_equal(w->tx[0]->tx.cert.subject, "univie-mon");
    assert_int_equal(item(w, 0, "up", NT0)->value, 666666);
    assert_int_equal(item(w, 0, "p95", NT0)->value, 300);

    /* Reported (the report is in the outbox): the observations are gone from the state file,
     * and a further restart neither reports them again nor refuses new ones. */
    assert_int_equal(stored_observations(w), 0);
    sl_sched_free(w->s);
    open_sched(w);
    observe_as(w, 0, NT0 + 4 * NSEC, 1, 10, SL_ETIME);
    observe_as(w, 0, NT0 + 11 * NSEC, 1, 10, 0);
    w->now = NT0 + 22 * NSEC;
    sl_sched_step(w->s, 0);
    assert_int_equal(w->n_tx, 2);
    assert_null(item(w, 1, "up", NT0));
    assert_int_equal(item(w, 1, "up", NT0 + 10 * NSEC)->value, 1000000);
}

static unsigned file_mode(const char *path, const char *suffix)
{
    char p[4200];
    struct stat st;

    snprintf(p, sizeof(p), "%s%s", path, suffix);
    assert_int_equal(stat(p, &st), 0);
    return (unsigned)st.st_mode & 0777;
}

/* The state file holds what agents pushed and signed reports not yet in a ledger: it and its
 * -wal and -shm are the node's alone, also when an older version left them readable. */
static void test_state_file_is_private(void **state)
{
    world *w = *state;

    observe_as(w, 0, NT0 + 1 * NSEC, 1, 100, 0);
    assert_int_equal(file_mode(w->state, ""), 0600);
    assert_int_equal(file_mode(w->state, "-wal"), 0600);
    assert_int_equal(file_mode(w->state, "-shm"), 0600);
    sl_sched_free(w->s);
    assert_int_equal(chmod(w->state, 0644), 0);
    open_sched(w);
    assert_int_equal(file_mode(w->state, ""), 0600);
}

/* The catch-up lines logged: message and fields, as "msg k=v ..." strings. */
static char logged[16][256];
static size_t n_logged;

static void keep_info(void *arg, int level, const char *msg, const sl_sched_log_field *f, size_t n)
{
    char *line;
    size_t len;

    (void)arg;
    if (level != 1 || strncmp(msg, "oracle ca", 9) != 0 || n_logged == 16)
        return;
    line = logged[n_logged++];
    snprintf(line, sizeof(logged[0]), "%s", msg);
    for (size_t i = 0; i < n; i++) {
        len = strlen(line);
        if (f[i].s)
            snprintf(line + len, sizeof(logged[0]) - len, " %s=%s", f[i].key, f[i].s);
        else
            snprintf(line + len, sizeof(logged[0]) - len, " %s=%lld", f[i].key, (long long)f[i].i);
    }
}

static size_t count_logged(const char *needle)
{
    size_t k = 0;

    for (size_t i = 0; i < n_logged; i++)
        k += strstr(logged[i], needle) != NULL;
    return k;
}

static void test_catch_up_is_logged(void **state)
{
    world *w = *state;

    w->now = NT0 + 12 * NSEC;
    sl_sched_step(w->s, 0); /* handles the first interval */
    sl_sched_free(w->s);

    /* Down for 88 s with a one-minute grace: of the intervals since, three are past their
     * deadline and five can still be reported. */
    w->now = NT0 + 100 * NSEC;
    n_logged = 0;
    open_sched_logging(w, keep_info);
    /* one per task: two objectives, two oracles */
    assert_int_equal(count_logged("oracle catching up channel=univie-aws agreement=app"), 4);
    char from[40], to[40], want[200];
    sl_time_format(NT0 + 40 * NSEC, from, sizeof(from));
    sl_time_format(NT0 + 90 * NSEC, to, sizeof(to));
    snprintf(want, sizeof(want), "objective=p95 oracle=aws-mon intervals=5 missed=3 from=%s to=%s",
             from, to);
    assert_int_equal(count_logged(want), 1);
    assert_int_equal(count_logged("oracle caught up"), 0);
    sl_sched_step(w->s, 0);
    assert_int_equal(count_logged("oracle caught up"), 4);
    assert_int_equal(count_logged("objective=up oracle=univie-mon intervals=5 reported=0"), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_reports_closed_intervals_once_per_oracle, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_unobserved_intervals_stay_unknown, setup, teardown),
        cmocka_unit_test_setup_teardown(test_restart_never_reports_twice, setup, teardown),
        cmocka_unit_test_setup_teardown(test_downtime_past_the_deadline_is_missed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_agreement_leaving_drops_its_tasks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unmeasurable_objective_is_left_idle, setup, teardown),
        cmocka_unit_test_setup_teardown(test_push_is_reported_by_the_pushing_oracle_only, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_restart_keeps_acknowledged_observations, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_catch_up_is_logged, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reports_fill_max_tx_bytes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_update_one_agreement, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refresh_queue, setup, teardown),
        cmocka_unit_test_setup_teardown(test_state_file_is_private, setup, teardown),
        cmocka_unit_test_setup_teardown(test_measure_now_reports_at_once_and_never_twice, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
