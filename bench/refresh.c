/*
 * bench/refresh.c: what a block that activates one agreement costs a node's oracle scheduler.
 *
 * A channel's ledger (a real one, in a temporary directory) holds BENCH_REFRESH_AGREEMENTS
 * (default 1000) active agreements, each with two push services and an availability objective
 * on each, measured by the node's one local oracle; the scheduler has them all. Then blocks
 * each activate one more agreement, and after each the scheduler is told, on this thread, the
 * two ways a node can do it (the same calls src/node/oracles.c makes):
 *
 *   full: every active agreement is read and copied under the ledger's lock and handed to
 *         sl_sched_sync (what every such block cost before; now only the start-up does this)
 *   one:  the activated agreement alone is read under the lock and handed to sl_sched_update
 *
 * The two alternate block by block, so both see about the same number of agreements. Printed
 * (wall time on one core, the median of BENCH_REFRESH_BLOCKS blocks per way, default 20):
 *
 *   refresh_startup_sync_ms   taking up the agreements at start (one full refresh)
 *   refresh_block_full_us     a block's refresh, every agreement
 *   refresh_block_one_us      a block's refresh, the activated agreement only
 *   refresh_block_speedup     full / one
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "slaledger/contract.h"
#include "slaledger/sched.h"
#include "support/net.h"

#define PER_BLOCK 32 /* agreements proposed and accepted per set-up block (64 transactions) */

static int64_t mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static long env_long(const char *name, long def)
{
    const char *v = getenv(name);
    return v && *v ? strtol(v, NULL, 10) : def;
}

static void die(const char *what, const sl_error *err)
{
    fprintf(stderr, "bench_refresh: %s%s%s\n", what, err ? ": " : "", err ? err->msg : "");
    exit(1);
}

/* ---- the ledger ---- */

typedef struct doc {
    char text[2048];
    size_t len;
} doc;

static void agreement_doc(int k, doc *d)
{
    char from[40], to[40];
    sl_time_format(NT0, from, sizeof(from));
    sl_time_format(NT0 + 24 * NHOUR, to, sizeof(to));
    d->len = (size_t)snprintf(
        d->text, sizeof(d->text),
        "apiVersion: slaledger/v1\nkind: Agreement\nmetadata: {name: agr-%06d}\n"
        "spec:\n  channel: univie-aws\n  consumer: univie\n  provider: aws\n"
        "  period: {start: %s, end: %s}\n"
        "  fee: {amount: \"10.00\", currency: EUR}\n  grace: 5m\n"
        "  oracles: {members: [univie-mon], quorum: 1}\n"
        "  services: [{name: s0, kind: push}, {name: s1, kind: push}]\n"
        "  objectives:\n"
        "    - {name: o0, service: s0, metric: availability, interval: 60s, window: 1h, "
        "target: \">= 99%%\"}\n"
        "    - {name: o1, service: s1, metric: availability, interval: 60s, window: 1h, "
        "target: \">= 99%%\"}\n",
        k, from, to);
}

/* Commits agreements [first, first + n) proposed and accepted in one block at time t; returns
 * how many ACTIVATED events it had, and the last activated agreement's name in name[cap]. */
static size_t activate(net *n, int first, int count, int64_t t, char *name, size_t cap)
{
    sl_buf tx[2 * PER_BLOCK];
    doc *d = calloc((size_t)count, sizeof(*d));
    size_t k = 0, activated = 0;

    for (int i = 0; i < count; i++) {
        agreement_doc(first + i, &d[i]);
        sl_tx p = net_tx(n, M_CONSUMER, SL_TX_PROPOSE, t + NHOUR);
        p.doc = (const uint8_t *)d[i].text;
        p.doc_len = d[i].len;
        sl_buf_init(&tx[k]);
        net_sign(n, M_CONSUMER, &p, &tx[k++]);
        sl_tx a = net_tx(n, M_PROVIDER, SL_TX_ACCEPT, t + NHOUR);
        snprintf(a.agreement, sizeof(a.agreement), "agr-%06d", first + i);
        sl_sha256(d[i].text, d[i].len, a.doc_hash);
        sl_buf_init(&tx[k]);
        net_sign(n, M_PROVIDER, &a, &tx[k++]);
    }
    sl_commit_info info = net_commit(n, tx, k, t);
    for (size_t i = 0; i < info.n_events; i++) {
        if (info.events[i].kind == SL_EV_ACTIVATED) {
            activated++;
            snprintf(name, cap, "%s", info.events[i].agreement);
        }
    }
    for (size_t i = 0; i < k; i++)
        sl_buf_release(&tx[i]);
    free(d);
    return activated;
}

/* ---- the two ways, as src/node/oracles.c reads the ledger ---- */

typedef struct active {
    sl_agreement_spec **v;
    size_t n;
} active;

static int read_active(const sl_contract *c, void *arg)
{
    active *a = arg;
    size_t n = sl_contract_agreement_count(c);
    sl_agreement_info info;

    a->v = calloc(n ? n : 1, sizeof(*a->v));
    for (size_t i = 0; a->v && i < n; i++) {
        if (sl_contract_agreement_at(c, i, &info) == 0 && info.status == SL_AGR_ACTIVE &&
            sl_agreement_spec_dup(info.spec, &a->v[a->n]) == 0)
            a->n++;
    }
    return 0;
}

static void refresh_full(net *n, sl_sched *s)
{
    active a = {0};

    sl_ledger_with_contract(n->l, read_active, &a);
    if (sl_sched_sync(s, "univie-aws", (const sl_agreement_spec *const *)a.v, a.n) != 0)
        die("sync", NULL);
    for (size_t i = 0; i < a.n; i++)
        sl_agreement_spec_free(a.v[i]);
    free(a.v);
}

typedef struct one {
    const char *name;
    sl_agreement_spec *spec;
} one;

static int read_one(const sl_contract *c, void *arg)
{
    one *o = arg;
    sl_agreement_info info;

    if (sl_contract_agreement(c, o->name, &info) == 0 && info.status == SL_AGR_ACTIVE)
        return sl_agreement_spec_dup(info.spec, &o->spec); /* o->spec stays NULL on failure */
    return 0;
}

static void refresh_one(net *n, sl_sched *s, const char *name)
{
    one o = {name, NULL};

    sl_ledger_with_contract(n->l, read_one, &o);
    if (!o.spec || sl_sched_update(s, "univie-aws", name, o.spec) != 0)
        die("update", NULL);
    sl_agreement_spec_free(o.spec);
}

/* ---- the scheduler ---- */

static int64_t clock_cb(void *arg)
{
    (void)arg;
    return NT0 + 30 * NSEC;
}

static int submit_cb(void *arg, const char *channel, const uint8_t *tx, size_t len, sl_error *err)
{
    (void)arg, (void)channel, (void)tx, (void)len, (void)err;
    return 0;
}

static int known_cb(void *arg, const char *channel, const uint8_t id[SL_HASH_LEN])
{
    (void)arg, (void)channel, (void)id;
    return 1;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

int main(void)
{
    int agreements = (int)env_long("BENCH_REFRESH_AGREEMENTS", 1000);
    int blocks = (int)env_long("BENCH_REFRESH_BLOCKS", 20);
    int64_t *full = calloc((size_t)blocks, sizeof(*full));
    int64_t *single = calloc((size_t)blocks, sizeof(*single));
    int64_t t = NT0 - 30 * 60 * NSEC, t0;
    char name[SL_IDENT_NAME_CAP], state[256];
    sl_sched_config c = {0};
    sl_sched_oracle o;
    sl_sched *s = NULL;
    sl_sched_stats st;
    sl_error err = {0};
    net n;

    net_init(&n);
    for (int k = 0; k < agreements; k += PER_BLOCK, t += NSEC) {
        int count = agreements - k < PER_BLOCK ? agreements - k : PER_BLOCK;
        if (activate(&n, k, count, t, name, sizeof(name)) != (size_t)count)
            die("set-up block: not every agreement became active", NULL);
    }
    o = (sl_sched_oracle){"univie-mon", n.key[M_UNIVIE_MON], &n.cert[M_UNIVIE_MON]};
    snprintf(state, sizeof(state), "%s/oracles.db", n.dir);
    c.state_path = state;
    c.oracles = &o;
    c.n_oracles = 1;
    c.submit = submit_cb;
    c.known = known_cb;
    c.clock = clock_cb;
    if (sl_sched_new(&c, &s, &err) != 0)
        die("scheduler", &err);
    t0 = mono_us();
    refresh_full(&n, s);
    printf("refresh_startup_sync_ms: %.1f ms (%d agreements, %d tasks)\n",
           (double)(mono_us() - t0) / 1000.0, agreements, 2 * agreements);

    for (int b = 0; b < 2 * blocks; b++, t += NSEC) {
        if (activate(&n, agreements + b, 1, t, name, sizeof(name)) != 1)
            die("block: the agreement did not become active", NULL);
        t0 = mono_us();
        if (b % 2 == 0)
            refresh_full(&n, s);
        else
            refresh_one(&n, s, name);
        (b % 2 == 0 ? full : single)[b / 2] = mono_us() - t0;
    }
    sl_sched_stats_get(s, &st);
    if (st.tasks != (uint64_t)(2 * (agreements + 2 * blocks)))
        die("the scheduler lost count of its tasks", NULL);
    qsort(full, (size_t)blocks, sizeof(*full), cmp_i64);
    qsort(single, (size_t)blocks, sizeof(*single), cmp_i64);
    printf("refresh_block_full_us: %lld us (every active agreement read and synced; median of "
           "%d blocks)\n",
           (long long)full[blocks / 2], blocks);
    printf("refresh_block_one_us: %lld us (the activated agreement only; median of %d blocks)\n",
           (long long)single[blocks / 2], blocks);
    printf("refresh_block_speedup: %.0f\n",
           single[blocks / 2] > 0 ? (double)full[blocks / 2] / (double)single[blocks / 2] : 0.0);
    sl_sched_free(s);
    net_free(&n);
    free(full);
    free(single);
    return 0;
}
