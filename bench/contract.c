/*
 * bench/contract.c: how fast the contract applies measurements, in memory, on one core.
 *
 * M agreements (each: one availability objective with tiered credits, 60 s intervals over one
 * day, an outage now and then so penalties are paid) receive every interval's reports in time
 * order, with a clock tick per interval as a node would do per block. Two runs: one oracle per
 * agreement (every report decides an interval), and three oracles with a 2-of-3 median (two
 * agreeing reports decide; the third finds the interval decided and is refused). Prints
 * "name: value unit" lines. Usage: bench_contract [agreements] (default 2000).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "slaledger/contract.h"

#define T0        1796083200000LL /* 2026-12-01T00:00:00Z */
#define INTERVAL  60000LL
#define INTERVALS 1440

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what, const sl_error *err)
{
    fprintf(stderr, "bench_contract: %s: %s\n", what, err ? err->msg : "");
    exit(1);
}

static void add_agreement(sl_contract *c, const char *name, int oracles)
{
    char text[2048];
    snprintf(text, sizeof(text),
             "apiVersion: slaledger/v1\nkind: Agreement\nmetadata: {name: %s}\nspec:\n"
             "  channel: bench\n  consumer: univie\n  provider: aws\n"
             "  period: {start: 2026-12-01T00:00:00Z, end: 2026-12-02T00:00:00Z}\n"
             "  fee: {amount: \"10.00\", currency: EUR}\n  grace: 5m\n"
             "  services: [{name: vm, kind: aws.ec2, source: {region: eu-central-1, "
             "instance: i-1, credentials: aws-main}}]\n"
             "  oracles: {members: [%s], policy: median, quorum: %d}\n"
             "  objectives: [{name: uptime, metric: availability, interval: 60s, "
             "window: calendar-day, target: \">= 99.9%%\"}]\n"
             "  penalties: [{objective: uptime, tiers: [{below: 99.9%%, credit: 10%%}, "
             "{below: 99%%, credit: 30%%}]}]\n",
             name, oracles == 1 ? "o1" : "o1, o2, o3", oracles == 1 ? 1 : 2);
    sl_agreement_spec *spec;
    sl_diags d = {0};
    uint8_t hash[SL_HASH_LEN];
    sl_error err = {0};
    if (sl_sla_parse(text, strlen(text), NULL, &spec, &d) != 0)
        die(d.n ? d.v[0].msg : "parse", NULL);
    sl_sha256(text, strlen(text), hash);
    if (sl_contract_propose(c, "univie", spec, hash, &err) ||
        sl_contract_accept(c, "aws", name, hash, &err) ||
        sl_contract_issue(c, "bank", "univie", "EUR", 1000, &err) ||
        sl_contract_deposit(c, "univie", name, 1000, &err))
        die("setup", &err);
}

/* Returns reports applied per second; *decided receives the decided intervals. */
static double run(int m, int oracles, long *applied, long *decided, double *hash_ms)
{
    static const char *names[] = {"o1", "o2", "o3"};
    sl_contract *c;
    sl_error err = {0};
    if (sl_contract_new("bank", &c) != 0)
        die("new", NULL);
    char(*agr)[16] = calloc((size_t)m, sizeof(*agr));
    for (int i = 0; i < m; i++) {
        snprintf(agr[i], sizeof(agr[i]), "agr-%06d", i);
        add_agreement(c, agr[i], oracles);
    }
    *applied = *decided = 0;
    double t = now_s();
    for (int64_t k = 0; k < INTERVALS; k++) {
        if (sl_contract_tick(c, T0 + (k + 1) * INTERVAL, &err))
            die("tick", &err);
        for (int i = 0; i < m; i++) {
            int down = (k + i) % 97 == 0; /* about one minute in a hundred */
            for (int o = 0; o < oracles; o++) {
                sl_report r = {agr[i],
                               "uptime",
                               names[o],
                               T0 + k * INTERVAL,
                               T0 + (k + 1) * INTERVAL,
                               down ? 0 : 1000000,
                               0};
                int rc = sl_contract_report(c, &r, &err);
                if (rc && rc != SL_EDUP)
                    die("report", &err);
                *applied += rc == 0;
            }
            *decided += 1;
        }
        sl_contract_events_clear(c);
    }
    double elapsed = now_s() - t;
    uint8_t h[SL_HASH_LEN];
    double th = now_s();
    if (sl_contract_state_hash(c, h))
        die("hash", NULL);
    *hash_ms = (now_s() - th) * 1e3;
    if (sl_contract_check(c, &err))
        die("invariants", &err);
    sl_contract_free(c);
    free(agr);
    return (double)*applied / elapsed;
}

int main(int argc, char **argv)
{
    int m = argc > 1 ? (int)strtol(argv[1], NULL, 10) : 2000;
    if (m <= 0) {
        fprintf(stderr, "usage: bench_contract [agreements > 0]\n");
        return 2;
    }
    long applied, decided;
    double hash_ms;
    double rate1 = run(m, 1, &applied, &decided, &hash_ms);
    printf("contract_agreements: %d\n", m);
    printf("contract_measurements_1_oracle: %.0f /s (%ld measurements)\n", rate1, applied);
    printf("contract_state_hash_full: %.2f ms (%d dirty agreements)\n", hash_ms, m);
    double rate3 = run(m, 3, &applied, &decided, &hash_ms);
    printf("contract_measurements_3_oracles_median: %.0f /s (%ld accepted reports)\n", rate3,
           applied);
    printf("contract_decided_intervals_3_oracles: %.0f /s\n",
           rate3 * (double)decided / (double)applied);
    printf("contract_target: 2000000 /s, ratio %.2f\n", rate1 / 2e6);
    return 0;
}
