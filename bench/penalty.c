/*
 * bench/penalty.c: breach-to-penalty latency on the embedded node's parts, wall clock.
 *
 * A ledger with the embedded orderer (solo, 5 ms block timeout) and the oracle scheduler with
 * one local oracle, delay 0: agents push observations of BENCH_PENALTY_AGREEMENTS (default
 * 200) push services, one agreement each, 1 s intervals, 10 s windows. Each agreement has one
 * failed interval per window, at its own second, and a tiered availability credit that the
 * first failure makes certain (9 of 10 good is below every tier). For each breach the bench
 * takes the time from the end of the breaching interval (wall clock) to the commit of the
 * block that holds the penalty, as the orderer's block callback sees it, for
 * BENCH_PENALTY_SECONDS (default 30). Printed:
 *
 *   penalty_latency_p50_ms, _p99_ms, _max_ms   (target p99 < 100 ms)
 *   penalty_breaches                           breaches measured
 *
 * The path measured: the scheduler's timer, aggregation, signing, the state write (SQLite,
 * synchronous=FULL), the orderer's precheck and block timeout, validation, the contract and
 * the block commit (SQLite again). A real source adds its own publication delay (the node's
 * scheduler.delay) on top.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "slaledger/contract.h"
#include "slaledger/order.h"
#include "slaledger/sched.h"
#include "support/net.h"

typedef struct bench {
    net n;
    sl_orderer *o;
    pthread_mutex_t mu;
    int64_t *lat; /* ms, one per breach */
    size_t n_lat, cap_lat;
} bench;

static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void nap_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};
    nanosleep(&ts, NULL);
}

static long env_long(const char *name, long def)
{
    const char *v = getenv(name);
    return v && *v ? strtol(v, NULL, 10) : def;
}

/* Penalties in a block: each one's breach is the bad interval decided for the same
 * agreement in the same block. */
static void on_block(void *arg, const sl_commit_info *info, const sl_error *err)
{
    bench *b = arg;
    int64_t now = wall_ms();

    if (err) {
        fprintf(stderr, "bench_penalty: block failed: %s\n", err ? err->msg : "");
        return;
    }
    pthread_mutex_lock(&b->mu);
    for (size_t i = 0; i < info->n_events; i++) {
        const sl_event *p = &info->events[i];
        if (p->kind != SL_EV_PENALTY)
            continue;
        for (size_t k = 0; k < info->n_events; k++) {
            const sl_event *d = &info->events[k];
            if (d->kind == SL_EV_DECIDED && d->outcome == SL_OUTCOME_BAD &&
                strcmp(d->agreement, p->agreement) == 0 &&
                sl_reserve(&b->lat, &b->cap_lat, b->n_lat + 1, sizeof(*b->lat)) == 0) {
                b->lat[b->n_lat++] = now - d->end_ms;
                break;
            }
        }
    }
    pthread_mutex_unlock(&b->mu);
}

static int submit_cb(void *arg, const char *channel, const uint8_t *tx, size_t len, sl_error *err)
{
    bench *b = arg;
    uint8_t id[SL_HASH_LEN];

    (void)channel;
    return sl_orderer_submit(b->o, tx, len, id, err);
}

static int known_cb(void *arg, const char *channel, const uint8_t id[SL_HASH_LEN])
{
    bench *b = arg;
    sl_tx_record rec;
    sl_error err = {0};

    (void)channel;
    return sl_ledger_tx(b->n.l, id, &rec, NULL, &err) == 0;
}

static char *agreement_doc(int a, int64_t start, size_t *len)
{
    char from[40], to[40], *doc = malloc(2048);

    sl_time_format(start, from, sizeof(from));
    sl_time_format(start + 3600 * 1000, to, sizeof(to));
    *len = (size_t)snprintf(
        doc, 2048,
        "apiVersion: slaledger/v1\nkind: Agreement\nmetadata: {name: p%d}\nspec:\n"
        "  channel: univie-aws\n  consumer: univie\n  provider: aws\n"
        "  period: {start: %s, end: %s}\n  fee: {amount: \"3600.00\", currency: EUR}\n"
        "  billing: 10s\n  grace: 30s\n  services: [{name: app, kind: push}]\n"
        "  oracles: {members: [univie-mon], quorum: 1}\n  objectives:\n"
        "    - {name: up, metric: availability, interval: 1s, window: 10s, target: \">= 99%%\"}\n"
        "  penalties:\n    - {objective: up, tiers: [{below: 99%%, credit: 50%%}]}\n",
        a, from, to);
    return doc;
}

/* Issue, propose, accept and fund every agreement, committed directly. */
static sl_agreement_spec **setup(bench *b, int n_agr, int64_t start)
{
    sl_agreement_spec **specs = calloc((size_t)n_agr, sizeof(*specs));
    int64_t exp = wall_ms() + 3600 * 1000;
    sl_buf tx[3];

    for (int i = 0; i < 3; i++)
        sl_buf_init(&tx[i]);
    sl_tx t = net_tx(&b->n, M_ISSUER, SL_TX_ISSUE, exp);
    snprintf(t.to, sizeof(t.to), "univie");
    memcpy(t.currency, "EUR", 4);
    t.amount = (int64_t)n_agr * 360000;
    net_sign(&b->n, M_ISSUER, &t, &tx[0]);
    net_commit(&b->n, tx, 1, wall_ms());
    for (int a = 0; a < n_agr; a++) {
        size_t len;
        char *doc = agreement_doc(a, start, &len);
        sl_diags d = {0};
        if (sl_sla_parse(doc, len, NULL, &specs[a], &d) != 0)
            net_die("agreement", NULL);
        t = net_tx(&b->n, M_CONSUMER, SL_TX_PROPOSE, exp);
        t.doc = (const uint8_t *)doc;
        t.doc_len = len;
        net_sign(&b->n, M_CONSUMER, &t, &tx[0]);
        t = net_tx(&b->n, M_PROVIDER, SL_TX_ACCEPT, exp);
        snprintf(t.agreement, sizeof(t.agreement), "p%d", a);
        sl_sha256(doc, len, t.doc_hash);
        net_sign(&b->n, M_PROVIDER, &t, &tx[1]);
        t = net_tx(&b->n, M_CONSUMER, SL_TX_DEPOSIT, exp);
        snprintf(t.agreement, sizeof(t.agreement), "p%d", a);
        t.amount = 360000;
        net_sign(&b->n, M_CONSUMER, &t, &tx[2]);
        if (net_commit(&b->n, tx, 3, wall_ms()).n_valid != 3)
            net_die("agreement setup", NULL);
        free(doc);
    }
    for (int i = 0; i < 3; i++)
        sl_buf_release(&tx[i]);
    return specs;
}

static int cmp_i64(const void *x, const void *y)
{
    int64_t a = *(const int64_t *)x, c = *(const int64_t *)y;
    return (a > c) - (a < c);
}

/* Pushes second `sec`'s observation of every agreement: failed for the agreements whose
 * breach falls in this second of the window. */
static void push_second(sl_sched *s, sl_agreement_spec **specs, int n_agr, int64_t sec)
{
    sl_error err = {0};

    for (int a = 0; a < n_agr; a++) {
        sl_observation o = {sec * 1000 + 100, (sec % 10) != (a % 10), 5, -1, -1};
        sl_sched_push to = {"univie-aws", specs[a]->name, "app", "univie", "univie-mon"};
        if (sl_sched_observe(s, &to, &o, 1, &err) != 0) {
            fprintf(stderr, "bench_penalty: observe: %s\n", err.msg);
            exit(1);
        }
    }
}

int main(void)
{
    int n_agr = (int)env_long("BENCH_PENALTY_AGREEMENTS", 200);
    long secs = env_long("BENCH_PENALTY_SECONDS", 30);
    static bench b;
    sl_sched_oracle orc;
    sl_sched_config c = {0};
    sl_sched *s = NULL;
    sl_error err = {0};
    char state[256];
    int64_t start = (wall_ms() / 10000 + 1) * 10000;

    pthread_mutex_init(&b.mu, NULL);
    net_init_at(&b.n, wall_ms() - 3600 * 1000);
    sl_agreement_spec **specs = setup(&b, n_agr, start);
    if (sl_solo_new(b.n.l, b.n.key[M_NODE], &b.n.cert[M_NODE], NULL, on_block, &b, &b.o, &err))
        net_die("solo", &err);
    orc = (sl_sched_oracle){"univie-mon", b.n.key[M_UNIVIE_MON], &b.n.cert[M_UNIVIE_MON]};
    snprintf(state, sizeof(state), "%s/oracles.db", b.n.dir);
    c.state_path = state;
    c.oracles = &orc;
    c.n_oracles = 1;
    c.delay_ms = 0;
    c.submit = submit_cb;
    c.known = known_cb;
    c.arg = &b;
    if (sl_sched_new(&c, &s, &err) != 0 ||
        sl_sched_sync(s, "univie-aws", (const sl_agreement_spec *const *)specs, (size_t)n_agr) ||
        sl_sched_start(s) != 0)
        net_die("scheduler", &err);
    /* Each second's observations go in during that second; the scheduler reports the
     * interval the moment it ends. */
    while (wall_ms() < start)
        nap_ms(1);
    for (int64_t sec = start / 1000; sec < start / 1000 + secs; sec++) {
        push_second(s, specs, n_agr, sec);
        while (wall_ms() < (sec + 1) * 1000)
            nap_ms(1);
    }
    sleep(1);
    sl_sched_free(s);
    sl_orderer_free(b.o);
    qsort(b.lat, b.n_lat, sizeof(*b.lat), cmp_i64);
    if (b.n_lat == 0) {
        fprintf(stderr, "bench_penalty: no penalty measured\n");
        return 1;
    }
    printf("penalty_breaches: %zu (%d agreements, one breach each per 10 s window)\n", b.n_lat,
           n_agr);
    printf("penalty_latency_p50_ms: %lld ms\n", (long long)b.lat[b.n_lat / 2]);
    printf("penalty_latency_p99_ms: %lld ms (target < 100)\n",
           (long long)b.lat[b.n_lat * 99 / 100]);
    printf("penalty_latency_max_ms: %lld ms\n", (long long)b.lat[b.n_lat - 1]);
    for (int a = 0; a < n_agr; a++)
        sl_agreement_spec_free(specs[a]);
    free(specs);
    free(b.lat);
    net_free(&b.n);
    return 0;
}
