/*
 * bench/oracles.c: the oracle layer under load.
 *
 * Section 1, probes. tool_targets (argv[1], or next to this binary) serves 127.0.0.1. Each of
 * BENCH_PROBE_TARGETS (default 10,000) http services, /ok?i=N, is probed every 10 s for
 * BENCH_PROBE_SECONDS (default 30), their phases spread at random over the interval (so the
 * load is steady from the first second), through one sl_fetch (max_active 256) on this one
 * thread, the way the scheduler probes: sl_probe_request, sl_fetch_add, sl_probe_judge in the
 * callback. Every probe sends "Connection: close" and so opens its own TCP connection, as
 * probes of 10,000 distinct hosts would (all targets here share one host and port, where
 * libcurl would otherwise reuse a few keep-alive connections). Printed:
 *
 *   oracles_probe_per_s          probes judged per second (target 1000/s)
 *   oracles_probe_vs_target      their ratio
 *   oracles_probe_p50_ms, _p99_ms   latency from sl_fetch_add to the verdict
 *   oracles_probe_late_p99_ms    how late probes were added after their due time
 *   oracles_probe_cpu_pct        CPU time of this process over wall time (getrusage)
 *   oracles_target_cpu_pct       the same for tool_targets (/proc/PID/stat)
 *   oracles_probe_rss_mib        peak resident set of this process
 *   oracles_probe_failures       probes judged down (must be 0 on loopback)
 *   oracles_probe_max_per_s      the limit: the same probes back to back for 3 s, no schedule
 *   oracles_probe_vs_max         achieved / limit: the share of this machine's probing
 *                                capacity that 10,000 targets at 10 s use
 *   oracles_probe_max_keepalive_per_s   the limit again with connections reused
 *
 * Section 2, the scheduler, for BENCH_SCHED_SERVICES (default 100,000) push services at 60 s
 * intervals on a fake clock (no network):
 *   sched_sync_s             taking up the agreements (copying specs, making tasks)
 *   sched_minute_cpu_s       CPU seconds of one simulated minute's work, its median
 *   sched_share_of_core_pct  that over 60 s: the share of one core scheduling takes
 *   sched_items_per_s        report items handled per CPU second
 *   sched_rss_mib            peak resident set of the process (target < 1024 MiB)
 *
 * Section 3, section 1's load through the scheduler (sl_sched on its thread, wall clock,
 * BENCH_SCHED_PROBE_TARGETS http services at 10 s, BENCH_SCHED_PROBE_SECONDS): probes/s, CPU,
 * reports, RSS (sched_probe_*).
 *
 * Without tool_targets the bench says so and exits 0; with failed probes it exits 1.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "slaledger/oracle.h"
#include "slaledger/sched.h"
#include "support/net.h"
#include "support/targets.h"

#define PROBE_PERIOD_MS  10000
#define PROBE_MAX_ACTIVE 256
#define PROBE_TIMEOUT    "5s"
#define MAX_SECONDS      3

/* ---- clocks and measurements ---- */

static int64_t mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static long env_long(const char *name, long def)
{
    const char *v = getenv(name);
    long n = v ? strtol(v, NULL, 10) : 0;
    return n > 0 ? n : def;
}

static int64_t cpu_us(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (int64_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000 + ru.ru_utime.tv_usec +
           ru.ru_stime.tv_usec;
}

static double peak_rss_mib(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_maxrss / 1024.0; /* KiB on Linux */
}

/* CPU time of another process in µs (utime + stime of /proc/PID/stat), -1 if unreadable. */
static int64_t proc_cpu_us(pid_t pid)
{
    char path[64], buf[1024];
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    const char *p = strrchr(buf, ')'); /* the command may hold spaces */
    unsigned long long ut = 0, st = 0;
    if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
        return -1;
    return (int64_t)((ut + st) * 1000000ULL / (unsigned long long)sysconf(_SC_CLK_TCK));
}

/* A growable list of latencies in µs. */
typedef struct lat {
    int64_t *v;
    size_t n, cap;
} lat;

static void lat_add(lat *l, int64_t us)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 4096;
        int64_t *v = realloc(l->v, cap * sizeof(*v));
        if (!v)
            return;
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n++] = us;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* The q-th percentile (0..100) in ms; sorts the list. */
static double lat_pct_ms(lat *l, int q)
{
    if (l->n == 0)
        return 0;
    qsort(l->v, l->n, sizeof(*l->v), cmp_i64);
    size_t i = (l->n - 1) * (size_t)q / 100;
    return (double)l->v[i] / 1000.0;
}

/* ---- section 1: probes ---- */

/* One monitored http service with its own URL. */
typedef struct target {
    sl_service_spec svc;
    sl_kv kv[2];
    char url[64];
    int64_t phase_us; /* offset of its probes within the period */
    int64_t added_us; /* when the probe in flight was added; 0 when none */
} target;

typedef struct probe_run {
    target *t;
    size_t n;
    sl_fetch *f;
    lat latency, lateness;
    uint64_t judged, down, overrun, refused;
    int fresh; /* one connection per probe ("Connection: close") */
    char first_reason[SL_SAMPLE_REASON_CAP];
} probe_run;

static void die(const char *what)
{
    fprintf(stderr, "bench oracles: %s\n", what);
    exit(1);
}

static void targets_make(probe_run *r, size_t n, unsigned port)
{
    uint64_t x = 0x9e3779b97f4a7c15ULL; /* xorshift: the same phases on every run */

    r->t = calloc(n, sizeof(*r->t));
    if (!r->t)
        die("out of memory");
    r->n = n;
    for (size_t i = 0; i < n; i++) {
        target *t = &r->t[i];
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        snprintf(t->url, sizeof(t->url), "http://127.0.0.1:%u/ok?i=%zu", port, i);
        t->kv[0] = (sl_kv){"timeout", PROBE_TIMEOUT};
        t->kv[1] = (sl_kv){"url", t->url};
        t->svc = (sl_service_spec){
            .name = "target", .kind = SL_SVC_HTTP, .source = t->kv, .n_source = 2};
        t->phase_us = (int64_t)(x % ((uint64_t)PROBE_PERIOD_MS * 1000));
    }
}

static int by_phase(const void *a, const void *b)
{
    return cmp_i64(&((const target *)a)->phase_us, &((const target *)b)->phase_us);
}

static void judged_cb(void *arg, const sl_http_req *req, const sl_http_resp *resp);

static void probe_add(probe_run *r, target *t, int64_t due_us)
{
    sl_http_req req;
    sl_error err = {0};
    int64_t now = mono_us();

    if (t->added_us) {
        r->overrun++; /* the previous probe of this target is still running: skip */
        return;
    }
    if (sl_probe_request(&t->svc, &req, &err) != 0)
        die(err.msg);
    if (r->fresh && sl_http_req_header(&req, "Connection: close") != 0)
        die("out of memory");
    t->added_us = now;
    if (due_us)
        lat_add(&r->lateness, now - due_us);
    if (sl_fetch_add(r->f, &req, judged_cb, t) != 0) {
        sl_http_req_release(&req);
        t->added_us = 0;
        r->refused++;
    }
}

static probe_run *current; /* the run the callbacks count into */

static void judged_cb(void *arg, const sl_http_req *req, const sl_http_resp *resp)
{
    target *t = arg;
    probe_run *r = current;
    sl_probe_result res;

    (void)req;
    sl_probe_judge(&t->svc, resp, wall_ms(), &res);
    lat_add(&r->latency, mono_us() - t->added_us);
    t->added_us = 0;
    r->judged++;
    if (!res.up && r->down++ == 0)
        snprintf(r->first_reason, sizeof(r->first_reason), "%s", res.reason);
}

/* Probes every target each period for `seconds`, each at its phase. */
static void probes_scheduled(probe_run *r, long seconds)
{
    int64_t start = mono_us(), end = start + (int64_t)seconds * 1000000;
    int64_t period = (int64_t)PROBE_PERIOD_MS * 1000, round = 0;
    size_t k = 0;

    qsort(r->t, r->n, sizeof(*r->t), by_phase);
    for (;;) {
        int64_t now = mono_us();
        /* Add everything due by now, in phase order, round after round. */
        for (;;) {
            int64_t due = start + round * period + r->t[k].phase_us;
            if (due > now || due >= end)
                break;
            probe_add(r, &r->t[k], due);
            if (++k == r->n)
                k = 0, round++;
        }
        if (now >= end)
            break;
        int64_t next = start + round * period + r->t[k].phase_us;
        int64_t wait_ms = (next - mono_us() + 999) / 1000; /* round up: never spin */
        sl_fetch_poll(r->f, wait_ms < 0 ? 0 : wait_ms > 50 ? 50 : wait_ms);
    }
    while (sl_fetch_poll(r->f, 100) > 0)
        ;
}

/* Keeps 2 * max_active probes queued for `seconds`; returns the probes judged per second. */
static double probes_flat_out(probe_run *r, long seconds)
{
    int64_t start = mono_us(), end = start + (int64_t)seconds * 1000000;
    uint64_t judged0 = r->judged;
    size_t k = 0;

    while (mono_us() < end) {
        while (sl_fetch_pending(r->f) < 2 * PROBE_MAX_ACTIVE) {
            probe_add(r, &r->t[k], 0);
            k = (k + 1) % r->n;
        }
        sl_fetch_poll(r->f, 10);
    }
    double secs = (double)(mono_us() - start) / 1e6;
    uint64_t n = r->judged - judged0;
    while (sl_fetch_poll(r->f, 100) > 0)
        ;
    return (double)n / secs;
}

/* The path of tool_targets: argv[1], or next to this executable. */
static void tool_path(int argc, char **argv, char *out, size_t cap)
{
    if (argc > 1) {
        snprintf(out, cap, "%s", argv[1]);
        return;
    }
    ssize_t n = readlink("/proc/self/exe", out, cap - 1);
    if (n <= 0)
        die("cannot read /proc/self/exe");
    out[n] = '\0';
    char *slash = strrchr(out, '/');
    snprintf(slash ? slash + 1 : out, cap - (size_t)(slash ? slash + 1 - out : 0), "tool_targets");
}

static int section_probes(const char *tool)
{
    long n = env_long("BENCH_PROBE_TARGETS", 10000), secs = env_long("BENCH_PROBE_SECONDS", 30);
    probe_run r;
    targets tg;

    memset(&r, 0, sizeof(r));
    r.fresh = 1;
    current = &r;
    if (targets_start(&tg, tool, NULL, NULL) != 0)
        die("tool_targets did not start");
    targets_make(&r, (size_t)n, tg.port);
    if (sl_fetch_new(PROBE_MAX_ACTIVE, &r.f) != 0)
        die("sl_fetch_new");

    int64_t w0 = mono_us(), c0 = cpu_us(), s0 = proc_cpu_us(tg.pid);
    probes_scheduled(&r, secs);
    int64_t w1 = mono_us(), c1 = cpu_us(), s1 = proc_cpu_us(tg.pid);
    double wall_s = (double)(w1 - w0) / 1e6, rate = (double)r.judged / wall_s;
    uint64_t down = r.down;
    printf("oracles_probe_per_s: %.0f probes/s (%ld targets every %d s, %llu probes in %.1f s)\n",
           rate, n, PROBE_PERIOD_MS / 1000, (unsigned long long)r.judged, wall_s);
    printf("oracles_probe_vs_target: %.2f (target 1000 probes/s)\n", rate / 1000.0);
    printf("oracles_probe_p50_ms: %.2f ms\n", lat_pct_ms(&r.latency, 50));
    printf("oracles_probe_p99_ms: %.2f ms\n", lat_pct_ms(&r.latency, 99));
    printf("oracles_probe_late_p99_ms: %.2f ms\n", lat_pct_ms(&r.lateness, 99));
    printf("oracles_probe_cpu_pct: %.1f %%\n", 100.0 * (double)(c1 - c0) / (double)(w1 - w0));
    if (s0 >= 0 && s1 >= 0)
        printf("oracles_target_cpu_pct: %.1f %% (tool_targets)\n",
               100.0 * (double)(s1 - s0) / (double)(w1 - w0));
    printf("oracles_probe_rss_mib: %.1f MiB (peak)\n", peak_rss_mib());
    printf("oracles_probe_failures: %llu (and %llu skipped: previous probe still running)\n",
           (unsigned long long)down, (unsigned long long)r.overrun);
    fflush(stdout);

    double max = probes_flat_out(&r, MAX_SECONDS);
    printf("oracles_probe_max_per_s: %.0f probes/s (back to back, max_active %d)\n", max,
           PROBE_MAX_ACTIVE);
    printf("oracles_probe_vs_max: %.2f\n", max > 0 ? rate / max : 0);
    fflush(stdout);
    r.fresh = 0;
    max = probes_flat_out(&r, MAX_SECONDS);
    printf("oracles_probe_max_keepalive_per_s: %.0f probes/s (connections reused)\n", max);
    fflush(stdout);

    sl_fetch_free(r.f);
    targets_stop(&tg);
    if (r.down)
        fprintf(stderr, "bench oracles: %llu probes down (first: %s): not a valid run\n",
                (unsigned long long)r.down, r.first_reason);
    int bad = r.down > 0 || r.refused > 0 || r.judged == 0;
    free(r.t);
    free(r.latency.v);
    free(r.lateness.v);
    return bad;
}

/* ---- section 2: the scheduler ----
 *
 * What scheduling costs for BENCH_SCHED_SERVICES (default 100,000) services at 60 s
 * intervals, without any network: they are push services and each gets one observation per
 * interval, so every simulated minute the scheduler finds that many intervals due, aggregates
 * them, signs them into report transactions, writes the watermarks and reports to its SQLite
 * state in one transaction and hands them to a submit callback that only counts. A fake clock
 * runs ten minutes.
 */

#define PER_AGREEMENT 250
#define MINUTES       10

typedef struct sched_bench {
    int64_t now;
    uint64_t txs, bytes;
} sched_bench;

static int64_t sched_clock_cb(void *arg)
{
    return ((sched_bench *)arg)->now;
}

static int sched_submit_cb(void *arg, const char *channel, const uint8_t *tx, size_t len,
                           sl_error *err)
{
    sched_bench *b = arg;

    (void)channel, (void)tx, (void)err;
    b->txs++;
    b->bytes += len;
    return 0;
}

static int sched_known_cb(void *arg, const char *channel, const uint8_t id[SL_HASH_LEN])
{
    (void)arg, (void)channel, (void)id;
    return 1; /* the "ledger" holds every report at once: the outbox empties */
}

static double cpu_s_now(void)
{
    struct rusage ru;

    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

/* Agreement <prefix><k> over [start, start + period): `services` services (push ones, or
 * http services of tool_targets at `port` with distinct URLs when port is not 0), each with
 * one availability objective at `interval`. */
static sl_agreement_spec *bench_agreement(const char *prefix, int k, int services, int64_t start,
                                          int64_t period, const char *interval, unsigned port)
{
    size_t cap = 4096 + (size_t)services * 200, n;
    char *text = malloc(cap), from[40], to[40];
    sl_agreement_spec *spec = NULL;
    sl_diags d = {0};

    sl_time_format(start, from, sizeof(from));
    sl_time_format(start + period, to, sizeof(to));
    n = (size_t)snprintf(text, cap,
                         "apiVersion: slaledger/v1\nkind: Agreement\nmetadata: {name: %s%d}\n"
                         "spec:\n  channel: univie-aws\n  consumer: univie\n  provider: aws\n"
                         "  period: {start: %s, end: %s}\n"
                         "  fee: {amount: \"10.00\", currency: EUR}\n  grace: 5m\n"
                         "  oracles: {members: [univie-mon], quorum: 1}\n  services:\n",
                         prefix, k, from, to);
    for (int i = 0; i < services; i++) {
        if (port)
            n += (size_t)snprintf(text + n, cap - n,
                                  "    - {name: s%d, kind: http, source: {url: "
                                  "\"http://127.0.0.1:%u/ok?i=%d\", timeout: 5s}}\n",
                                  i, port, k * PER_AGREEMENT + i);
        else
            n += (size_t)snprintf(text + n, cap - n, "    - {name: s%d, kind: push}\n", i);
    }
    n += (size_t)snprintf(text + n, cap - n, "  objectives:\n");
    for (int i = 0; i < services; i++)
        n += (size_t)snprintf(text + n, cap - n,
                              "    - {name: o%d, service: s%d, metric: availability, interval: "
                              "%s, window: 1h, target: \">= 99%%\"}\n",
                              i, i, interval);
    if (sl_sla_parse(text, n, NULL, &spec, &d) != 0) {
        fprintf(stderr, "bench_oracles: agreement: %s\n", d.n ? d.v[0].msg : "invalid");
        exit(1);
    }
    free(text);
    return spec;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static int section_sched(void)
{
    int services = (int)env_long("BENCH_SCHED_SERVICES", 100000);
    int n_agr = (services + PER_AGREEMENT - 1) / PER_AGREEMENT;
    sl_agreement_spec **specs = calloc((size_t)n_agr, sizeof(*specs));
    sched_bench b = {NT0 + 30 * NSEC, 0, 0};
    net n;
    sl_sched_oracle o;
    sl_sched_config c = {0};
    sl_sched *s = NULL;
    sl_error err = {0};
    char state[256];
    double minute[MINUTES], t;
    struct rusage ru;

    net_init(&n);
    o = (sl_sched_oracle){"univie-mon", n.key[M_UNIVIE_MON], &n.cert[M_UNIVIE_MON]};
    /* This bench measures the scheduler's CPU. Each push below is one durable SQLite
     * transaction, as the API's are: on a disk that is one fsync per service and minute,
     * which would make the run take hours without changing the CPU measured; so the state
     * lives in memory-backed /dev/shm when there is one. */
    if (access("/dev/shm", W_OK) == 0)
        snprintf(state, sizeof(state), "/dev/shm/bench_oracles_%ld.db", (long)getpid());
    else
        snprintf(state, sizeof(state), "%s/oracles.db", n.dir);
    c.state_path = state;
    c.oracles = &o;
    c.n_oracles = 1;
    c.delay_ms = 5000;
    c.submit = sched_submit_cb;
    c.known = sched_known_cb;
    c.clock = sched_clock_cb;
    c.arg = &b;
    for (int k = 0; k < n_agr; k++)
        specs[k] =
            bench_agreement("a", k, k == n_agr - 1 ? services - k * PER_AGREEMENT : PER_AGREEMENT,
                            NT0, 24 * NHOUR, "60s", 0);
    if (sl_sched_new(&c, &s, &err) != 0) {
        fprintf(stderr, "bench_oracles: %s\n", err.msg);
        return 1;
    }
    t = cpu_s_now();
    if (sl_sched_sync(s, "univie-aws", (const sl_agreement_spec *const *)specs, (size_t)n_agr) != 0)
        return 1;
    printf("sched_sync_s: %.3f s (%d services in %d agreements)\n", cpu_s_now() - t, services,
           n_agr);

    for (int m = 0; m < MINUTES; m++) {
        /* One observation per service in this minute, as agents would push them. */
        sl_observation ob = {NT0 + m * 60 * NSEC + 30 * NSEC, 1, 100, -1, -1};
        b.now = ob.time_ms;
        for (int k = 0; k < n_agr; k++) {
            for (size_t i = 0; i < specs[k]->n_services; i++) {
                sl_sched_push to = {"univie-aws", specs[k]->name, specs[k]->services[i].name,
                                    "univie", "univie-mon"};
                if (sl_sched_observe(s, &to, &ob, 1, &err) != 0) {
                    fprintf(stderr, "bench_oracles: observe: %s\n", err.msg);
                    return 1;
                }
            }
        }
        b.now = NT0 + (m + 1) * 60 * NSEC + 5 * NSEC;
        t = cpu_s_now();
        sl_sched_step(s, 0);
        minute[m] = cpu_s_now() - t;
    }
    sl_sched_stats st;
    sl_sched_stats_get(s, &st);
    double total = 0;
    for (int m = 0; m < MINUTES; m++)
        total += minute[m];
    qsort(minute, MINUTES, sizeof(*minute), cmp_double);
    printf("sched_minute_cpu_s: %.3f s (median of %d simulated minutes)\n", minute[MINUTES / 2],
           MINUTES);
    printf("sched_share_of_core_pct: %.2f %%\n", minute[MINUTES / 2] / 60.0 * 100.0);
    printf("sched_items_per_s: %.0f items/s (%llu items in %llu transactions, %.1f MiB)\n",
           (double)st.reported / total, (unsigned long long)st.reported, (unsigned long long)b.txs,
           (double)b.bytes / 1048576.0);
    getrusage(RUSAGE_SELF, &ru);
    printf("sched_rss_mib: %.1f MiB (peak; target < 1024)\n", (double)ru.ru_maxrss / 1024.0);
    sl_sched_free(s);
    if (strncmp(state, "/dev/shm/", 9) == 0) {
        char side[280];
        unlink(state);
        snprintf(side, sizeof(side), "%s-wal", state);
        unlink(side);
        snprintf(side, sizeof(side), "%s-shm", state);
        unlink(side);
    }
    for (int k = 0; k < n_agr; k++)
        sl_agreement_spec_free(specs[k]);
    free(specs);
    net_free(&n);
    return st.reported == (uint64_t)services * MINUTES ? 0 : 1;
}

/* ---- section 3: the scheduler probing ----
 *
 * The whole path of section 1 through the scheduler instead of a bare fetch:
 * BENCH_SCHED_PROBE_TARGETS (default 10,000) http services of tool_targets in agreements of
 * 250, availability at 10 s intervals, for BENCH_SCHED_PROBE_SECONDS (default 30) of wall
 * clock on the scheduler's own thread, reports signed and written to its state and counted.
 */

static int section_sched_probes(const char *tool)
{
    int services = (int)env_long("BENCH_SCHED_PROBE_TARGETS", 10000);
    long secs = env_long("BENCH_SCHED_PROBE_SECONDS", 30);
    int n_agr = (services + PER_AGREEMENT - 1) / PER_AGREEMENT;
    sl_agreement_spec **specs = calloc((size_t)n_agr, sizeof(*specs));
    sched_bench b = {0, 0, 0};
    targets tg;
    net n;
    sl_sched_oracle o;
    sl_sched_config c = {0};
    sl_sched *s = NULL;
    sl_sched_stats st;
    sl_error err = {0};
    char state[256];

    if (targets_start(&tg, tool, NULL, NULL) != 0)
        die("tool_targets did not start");
    net_init(&n);
    o = (sl_sched_oracle){"univie-mon", n.key[M_UNIVIE_MON], &n.cert[M_UNIVIE_MON]};
    snprintf(state, sizeof(state), "%s/oracles.db", n.dir);
    c.state_path = state;
    c.oracles = &o;
    c.n_oracles = 1;
    c.delay_ms = 2000;
    c.max_active = PROBE_MAX_ACTIVE;
    c.submit = sched_submit_cb;
    c.known = sched_known_cb;
    c.arg = &b;
    for (int k = 0; k < n_agr; k++)
        specs[k] =
            bench_agreement("p", k, k == n_agr - 1 ? services - k * PER_AGREEMENT : PER_AGREEMENT,
                            wall_ms() / 3600000 * 3600000, 2 * NHOUR, "10s", tg.port);
    if (sl_sched_new(&c, &s, &err) != 0 ||
        sl_sched_sync(s, "univie-aws", (const sl_agreement_spec *const *)specs, (size_t)n_agr) ||
        sl_sched_start(s) != 0)
        die("scheduler");
    /* The first period probes everything at once (the current interval): measure after it. */
    sleep(10);
    sl_sched_stats_get(s, &st);
    uint64_t probes0 = st.probes;
    int64_t w0 = mono_us(), c0 = cpu_us();
    sleep((unsigned)secs);
    int64_t w1 = mono_us(), c1 = cpu_us();
    sl_sched_stats_get(s, &st);
    sl_sched_free(s);
    targets_stop(&tg);
    printf("sched_probe_per_s: %.0f probes/s (%d services every 10 s, through the scheduler)\n",
           (double)(st.probes - probes0) / ((double)(w1 - w0) / 1e6), services);
    printf("sched_probe_down: %llu\n", (unsigned long long)st.probes_down);
    printf("sched_probe_cpu_pct: %.1f %% (scheduler, probes, signing, state)\n",
           100.0 * (double)(c1 - c0) / (double)(w1 - w0));
    printf("sched_probe_reported: %llu intervals in %llu transactions\n",
           (unsigned long long)st.reported, (unsigned long long)b.txs);
    printf("sched_probe_rss_mib: %.1f MiB (peak)\n", peak_rss_mib());
    for (int k = 0; k < n_agr; k++)
        sl_agreement_spec_free(specs[k]);
    free(specs);
    net_free(&n);
    return st.probes == 0 || st.probes_down > 0;
}

int main(int argc, char **argv)
{
    char tool[4096];
    int bad = 0;

    tool_path(argc, argv, tool, sizeof(tool));
    if (access(tool, X_OK) != 0) {
        fprintf(stderr, "bench_oracles: no tool_targets at %s (build the tool_targets target)\n",
                tool);
        return 1;
    }
    bad |= section_probes(tool);
    bad |= section_sched();
    bad |= section_sched_probes(tool);
    return bad;
}
