/*
 * bench/idle.c: what an idle channel costs in blocks and ledger bytes per day.
 *
 * One channel with one active, funded agreement of the shape of examples/aws-ec2-vm.yaml (60 s
 * intervals, three oracles, availability per calendar month, billing per calendar month, 10 min
 * grace; here December 2026) and no reports at all, under the embedded orderer (solo) on a node
 * clock that runs BENCH_IDLE_SPEED (default 1000000) times faster than the wall, from the
 * period's start to a day after its end. Blocks are cut only for what the contract has due, so
 * the channel gets the one block that closes the month. For comparison the bench commits
 * BENCH_IDLE_EMPTY (default 2000) empty blocks directly and scales their size to the 86,400 a
 * day that the former 1 s idle heartbeat cut. Printed:
 *
 *   idle_days: simulated days            idle_blocks: blocks the orderer cut in them
 *   idle_blocks_per_day                  idle_bytes, idle_bytes_per_day (ledger file growth)
 *   heartbeat_bytes_per_block            each beside what the 1 s heartbeat made
 *
 * Ledger bytes are the database file's growth with every change checkpointed (the ledger is
 * closed before each measurement), so they come in whole pages: the one block of the idle month
 * may fit in pages already there and show as 0. No timing is measured; the clock is only made
 * fast.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "slaledger/order.h"
#include "support/net.h"

#define NDAY          (24 * NHOUR)
#define PERIOD_END_MS (NT0 + 31 * NDAY) /* 2027-01-01T00:00:00Z */
#define HEARTBEAT_DAY 86400             /* blocks a 1 s heartbeat cut per day */

typedef struct fast_clock {
    int64_t since; /* node time at mono0 */
    int64_t mono0; /* monotonic ms */
    int64_t speed; /* node ms per wall ms */
} fast_clock;

typedef struct counts {
    pthread_mutex_t mu;
    size_t blocks, closed;
    int failed;
} counts;

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t fast_now(void *arg)
{
    const fast_clock *c = arg;
    return c->since + (mono_ms() - c->mono0) * c->speed;
}

static long env_long(const char *name, long def)
{
    const char *v = getenv(name);
    return v && *v ? strtol(v, NULL, 10) : def;
}

static void on_block(void *arg, const sl_commit_info *info, const sl_error *err)
{
    counts *c = arg;
    pthread_mutex_lock(&c->mu);
    c->blocks++;
    c->failed |= err != NULL;
    for (size_t i = 0; !err && i < info->n_events; i++)
        c->closed += info->events[i].kind == SL_EV_CLOSED;
    pthread_mutex_unlock(&c->mu);
}

/* The example's agreement, with the net's oracle names. */
static size_t agreement_doc(char *doc, size_t cap)
{
    char from[40], to[40];
    sl_time_format(NT0, from, sizeof(from));
    sl_time_format(PERIOD_END_MS, to, sizeof(to));
    int w = snprintf(
        doc, cap,
        "apiVersion: slaledger/v1\nkind: Agreement\nmetadata: {name: vm-web-01}\nspec:\n"
        "  channel: univie-aws\n  consumer: univie\n  provider: aws\n"
        "  period: {start: %s, end: %s}\n  fee: {amount: \"1000.00\", currency: EUR}\n"
        "  billing: calendar-month\n  grace: 10m\n  services:\n    - name: web-01\n"
        "      kind: aws.ec2\n      source: {region: eu-central-1, instance: i-0abc123def4567890,"
        " credentials: aws-main, namespace: AWS/EC2, metric: StatusCheckFailed}\n"
        "  oracles: {members: [univie-mon, aws-mon, watchdog], policy: median, quorum: 2}\n"
        "  objectives:\n    - {name: uptime, metric: availability, interval: 60s, "
        "window: calendar-month, target: \">= 99.99%%\"}\n"
        "  penalties:\n    - objective: uptime\n      tiers:\n"
        "        - {below: 99.99%%, credit: 10%%}\n        - {below: 99.0%%, credit: 30%%}\n"
        "        - {below: 95.0%%, credit: 100%%}\n",
        from, to);
    if (w <= 0 || (size_t)w >= cap)
        net_die("agreement document too long", NULL);
    return (size_t)w;
}

/* Issue, propose, accept and deposit in one block at time t. */
static void activate(net *n, int64_t t)
{
    char doc[4096];
    size_t len = agreement_doc(doc, sizeof(doc));
    if (net_activate(n, doc, len, "vm-web-01", 100000, t) != 4)
        net_die("activation", NULL);
}

/* The ledger's size on disk with everything checkpointed: closing it folds the WAL in. */
static int64_t ledger_bytes(net *n)
{
    struct stat st;
    sl_ledger_close(n->l);
    n->l = NULL;
    if (stat(n->path, &st) != 0)
        net_die("stat", NULL);
    net_reopen(n);
    return (int64_t)st.st_size;
}

/* Runs the orderer on the fast clock from the period's start until a day after its end. */
static size_t run_idle(net *n, int64_t speed)
{
    static counts c = {.mu = PTHREAD_MUTEX_INITIALIZER};
    fast_clock clk = {NT0, mono_ms(), speed};
    sl_order_settings set = {.clock = fast_now, .clock_arg = &clk, .clock_speed = (uint32_t)speed};
    sl_orderer *o = NULL;
    sl_error err = {0};
    if (sl_solo_new(n->l, n->key[M_NODE], &n->cert[M_NODE], &set, on_block, &c, &o, &err))
        net_die("solo", &err);
    while (fast_now(&clk) < PERIOD_END_MS + NDAY)
        nanosleep(&(struct timespec){0, 10000000}, NULL);
    sl_orderer_free(o);
    if (c.failed || c.closed != 1)
        net_die("the agreement did not close in one block", NULL);
    return c.blocks;
}

/* Bytes per empty block: `count` of them committed directly, a second apart. */
static double empty_block_bytes(net *n, long count)
{
    int64_t before = ledger_bytes(n);
    int64_t t = PERIOD_END_MS + 2 * NDAY;
    for (long i = 0; i < count; i++)
        net_commit(n, NULL, 0, t + i * 1000);
    return (double)(ledger_bytes(n) - before) / (double)count;
}

int main(void)
{
    int64_t speed = env_long("BENCH_IDLE_SPEED", 1000000);
    long empties = env_long("BENCH_IDLE_EMPTY", 2000);
    net n;

    if (speed < 1 || speed > UINT32_MAX || empties < 1) {
        fprintf(stderr, "bench_idle: BENCH_IDLE_SPEED 1..2^32-1, BENCH_IDLE_EMPTY >= 1\n");
        return 2;
    }
    net_init_at(&n, NT0 - NHOUR);
    activate(&n, NT0 - 60 * 1000);
    int64_t before = ledger_bytes(&n);
    size_t blocks = run_idle(&n, speed);
    int64_t grown = ledger_bytes(&n) - before;
    double days = (double)(PERIOD_END_MS + NDAY - NT0) / (double)NDAY;
    double per_empty = empty_block_bytes(&n, empties);

    printf("idle_days: %.0f days (one agreement shaped like examples/aws-ec2-vm.yaml, no "
           "reports)\n",
           days);
    printf("idle_blocks: %zu blocks (a 1 s heartbeat: %.0f)\n", blocks, days * HEARTBEAT_DAY);
    printf("idle_blocks_per_day: %.3f blocks (a 1 s heartbeat: %d)\n", (double)blocks / days,
           HEARTBEAT_DAY);
    printf("idle_bytes: %lld bytes in %.0f days (a 1 s heartbeat: %.0f)\n", (long long)grown, days,
           per_empty * HEARTBEAT_DAY * days);
    printf("idle_bytes_per_day: %.0f bytes (a 1 s heartbeat: %.0f)\n", (double)grown / days,
           per_empty * HEARTBEAT_DAY);
    printf("heartbeat_bytes_per_block: %.0f bytes (mean over %ld empty blocks)\n", per_empty,
           empties);
    net_free(&n);
    return 0;
}
