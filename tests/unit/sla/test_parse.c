/*
 * test_parse.c: valid documents become exactly the right model. Every shipped example is parsed
 * and checked field by field (units, indices, defaults); the JSON form of the AWS example must
 * give the same model as its YAML form; small documents pin down defaults, every target and
 * window syntax, oracle overrides, currencies and the window nesting rules that are accepted.
 */
#include "helpers.h"

#include <dirent.h>

/* Instants used below, in ms since the epoch (worked out independently of sl_time_parse). */
#define T_2026_12_01 1796083200000LL
#define T_2027_01_01 1798761600000LL
#define T_2027_03_01 1803859200000LL
#define T_2027_04_01 1806537600000LL
#define T_2027_12_01 1827619200000LL
#define T_2028_01_01 1830297600000LL

#define MIN  60000LL
#define HOUR 3600000LL
#define DAY  86400000LL

static void check_source(const sl_service_spec *s, const char *const *kv, size_t n)
{
    assert_int_equal(s->n_source, n);
    for (size_t i = 0; i < n; i++) {
        assert_string_equal(s->source[i].key, kv[2 * i]);
        assert_string_equal(s->source[i].value, kv[2 * i + 1]);
    }
}

static void check_tiers(const sl_penalty_spec *p, const int64_t *below_credit, size_t n)
{
    assert_int_equal(p->kind, SL_PENALTY_TIERS);
    assert_int_equal(p->n_tiers, n);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(p->tiers[i].below_ppm, below_credit[2 * i]);
        assert_int_equal(p->tiers[i].credit_ppm, below_credit[2 * i + 1]);
    }
    assert_int_equal(p->cap_kind, SL_CAP_NONE);
}

static void check_objective(const sl_objective_spec *o, const char *name, sl_metric m, uint32_t pct,
                            int64_t interval, sl_window_kind wk, int64_t wlen, sl_cmp cmp,
                            int64_t target)
{
    assert_string_equal(o->name, name);
    assert_int_equal(o->metric, m);
    assert_int_equal(o->percentile_milli, pct);
    assert_int_equal(o->interval_ms, interval);
    assert_int_equal(o->window.kind, wk);
    assert_int_equal(o->window.len_ms, wlen);
    assert_int_equal(o->cmp, cmp);
    assert_int_equal(o->target, target);
}

static void check_oracles(const sl_objective_spec *o, uint64_t mask, sl_policy p, uint32_t q)
{
    assert_int_equal(o->oracle_mask, mask);
    assert_int_equal(o->policy, p);
    assert_int_equal(o->quorum, q);
}

static void check_aws(const sl_agreement_spec *s)
{
    static const char *const src[] = {
        "credentials", "aws-main", "instance", "i-0abc123def4567890", "metric", "StatusCheckFailed",
        "namespace",   "AWS/EC2",  "region",   "eu-central-1"};
    static const int64_t tiers[] = {999900, 100000, 990000, 300000, 950000, 1000000};
    const sl_objective_spec *o = s->objectives;

    assert_string_equal(s->name, "vm-web-01");
    assert_string_equal(s->description,
                        "EC2 instance web-01 of the University of Vienna, watched through "
                        "CloudWatch");
    assert_string_equal(s->channel, "univie-aws");
    assert_string_equal(s->consumer, "univie");
    assert_string_equal(s->provider, "aws");
    assert_int_equal(s->start_ms, T_2026_12_01);
    assert_int_equal(s->end_ms, T_2027_01_01);
    assert_int_equal(s->fee, 100000);
    assert_string_equal(s->currency, "EUR");
    assert_int_equal(s->minor_units, 2);
    assert_int_equal(s->billing.kind, SL_WINDOW_MONTH);
    assert_int_equal(s->billing.len_ms, 0);
    assert_int_equal(s->grace_ms, 10 * MIN);
    assert_int_equal(s->n_services, 1);
    assert_string_equal(s->services[0].name, "web-01");
    assert_int_equal(s->services[0].kind, SL_SVC_AWS_EC2);
    check_source(&s->services[0], src, 5);
    assert_int_equal(s->n_oracles, 3);
    assert_string_equal(s->oracles[0], "univie-mon");
    assert_string_equal(s->oracles[1], "aws-mon");
    assert_string_equal(s->oracles[2], "watchdog-mon");
    assert_int_equal(s->n_objectives, 1); /* CloudWatch cannot measure a response time */
    check_objective(&o[0], "uptime", SL_METRIC_AVAILABILITY, 0, MIN, SL_WINDOW_MONTH, 0, SL_CMP_GE,
                    999900);
    assert_int_equal(o[0].service, 0);
    assert_int_equal(o[0].good_ppm, 1000000);
    assert_int_equal(o[0].unknown, SL_UNKNOWN_EXCLUDE);
    check_oracles(&o[0], 7, SL_POLICY_MEDIAN, 2);
    assert_null(o[0].query);
    assert_int_equal(s->n_penalties, 1);
    assert_int_equal(s->penalties[0].objective, 0);
    check_tiers(&s->penalties[0], tiers, 3);
}

static void test_aws_ec2_vm(void **state)
{
    sl_agreement_spec *s = th_parse_source_file("examples/aws-ec2-vm.yaml");

    (void)state;
    check_aws(s);
    sl_agreement_spec_free(s);
}

static void test_azure_vm(void **state)
{
    static const char *const src[] = {"credentials",
                                      "azure-main",
                                      "metric",
                                      "VmAvailabilityMetric",
                                      "resource_group",
                                      "rg-univie-apps",
                                      "subscription",
                                      "3f2b8c1e-5d4a-4b7e-9c0f-1a2b3c4d5e6f",
                                      "tenant",
                                      "8e7d6c5b-4a39-4281-b0c1-d2e3f4a5b6c7",
                                      "vm",
                                      "app-02"};
    static const int64_t tiers[] = {999000, 100000, 990000, 250000, 950000, 1000000};
    sl_agreement_spec *s = th_parse_source_file("examples/azure-vm.yaml");

    (void)state;
    assert_string_equal(s->name, "vm-app-02");
    assert_string_equal(s->channel, "univie-azure");
    assert_string_equal(s->consumer, "univie");
    assert_string_equal(s->provider, "azure");
    assert_int_equal(s->start_ms, T_2026_12_01);
    assert_int_equal(s->end_ms, T_2027_03_01);
    assert_int_equal(s->fee, 240000);
    assert_int_equal(s->billing.kind, SL_WINDOW_MONTH);
    assert_int_equal(s->grace_ms, 15 * MIN);
    assert_int_equal(s->services[0].kind, SL_SVC_AZURE_VM);
    check_source(&s->services[0], src, 6);
    assert_int_equal(s->n_objectives, 1);
    check_objective(&s->objectives[0], "uptime", SL_METRIC_AVAILABILITY, 0, MIN, SL_WINDOW_MONTH, 0,
                    SL_CMP_GE, 999000);
    check_oracles(&s->objectives[0], 7, SL_POLICY_MEDIAN, 2);
    assert_int_equal(s->n_penalties, 1);
    check_tiers(&s->penalties[0], tiers, 3);
    sl_agreement_spec_free(s);
}

static void test_website_http(void **state)
{
    static const char *const src[] = {"expect_body",   "ok",
                                      "expect_status", "200",
                                      "method",        "GET",
                                      "timeout",       "5s",
                                      "url",           "https://shop.example.com/health"};
    static const int64_t tiers[] = {999000, 100000, 990000, 250000, 950000, 500000};
    sl_agreement_spec *s = th_parse_source_file("examples/website-http.yaml");
    const sl_objective_spec *o = s->objectives;

    (void)state;
    assert_string_equal(s->name, "shop-web");
    assert_int_equal(s->start_ms, T_2027_01_01);
    assert_int_equal(s->end_ms, T_2028_01_01);
    assert_int_equal(s->fee, 1200000);
    assert_string_equal(s->currency, "USD");
    assert_int_equal(s->grace_ms, 2 * MIN);
    assert_int_equal(s->services[0].kind, SL_SVC_HTTP);
    check_source(&s->services[0], src, 5);
    assert_int_equal(s->n_oracles, 3);
    assert_int_equal(s->n_objectives, 3);
    check_objective(&o[0], "uptime", SL_METRIC_AVAILABILITY, 0, 30000, SL_WINDOW_MONTH, 0,
                    SL_CMP_GE, 999000);
    check_oracles(&o[0], 7, SL_POLICY_K_OF_N, 2);
    check_objective(&o[1], "latency", SL_METRIC_RESPONSE_TIME, 99000, MIN, SL_WINDOW_DURATION, DAY,
                    SL_CMP_LE, 800);
    /* The two European probes; policy from the agreement, quorum a majority of the two. */
    check_oracles(&o[1], 3, SL_POLICY_K_OF_N, 2);
    check_objective(&o[2], "errors", SL_METRIC_ERROR_RATE, 0, 5 * MIN, SL_WINDOW_DURATION, DAY,
                    SL_CMP_LE, 10000);
    assert_int_equal(o[2].unknown, SL_UNKNOWN_GOOD);
    assert_int_equal(o[2].good_ppm, 0);
    assert_int_equal(s->n_penalties, 2);
    check_tiers(&s->penalties[0], tiers, 3);
    assert_int_equal(s->penalties[1].objective, 1);
    assert_int_equal(s->penalties[1].amount, 50);
    assert_int_equal(s->penalties[1].cap_kind, SL_CAP_AMOUNT);
    assert_int_equal(s->penalties[1].cap, 2000);
    sl_agreement_spec_free(s);
}

static void test_prometheus(void **state)
{
    static const char *const src[] = {"url", "http://prometheus.internal:9090"};
    static const int64_t tiers[] = {995000, 100000, 980000, 300000};
    sl_agreement_spec *s = th_parse_source_file("examples/prometheus.yaml");
    const sl_objective_spec *o = s->objectives;
    const sl_penalty_spec *p = s->penalties;

    (void)state;
    assert_int_equal(s->start_ms, T_2027_01_01);
    assert_int_equal(s->end_ms, T_2027_04_01);
    assert_int_equal(s->fee, 450000);
    assert_string_equal(s->currency, "JPY");
    assert_int_equal(s->minor_units, 0);
    assert_int_equal(s->services[0].kind, SL_SVC_PROMETHEUS);
    check_source(&s->services[0], src, 1);
    assert_int_equal(s->n_objectives, 4);
    check_objective(&o[0], "uptime", SL_METRIC_AVAILABILITY, 0, MIN, SL_WINDOW_MONTH, 0, SL_CMP_GE,
                    995000);
    assert_int_equal(o[0].good_ppm, 990000);
    check_oracles(&o[0], 3, SL_POLICY_MIN, 2);
    assert_string_equal(o[0].query, "avg_over_time(up{job=\"gateway\"}[1m])");
    check_objective(&o[1], "throughput", SL_METRIC_THROUGHPUT, 0, 5 * MIN, SL_WINDOW_DURATION, DAY,
                    SL_CMP_GE, 250000);
    assert_string_equal(o[1].query, "sum(rate(http_requests_total{job=\"gateway\"}[5m]))");
    check_objective(&o[2], "p999", SL_METRIC_RESPONSE_TIME, 99900, 5 * MIN, SL_WINDOW_DURATION, DAY,
                    SL_CMP_LE, 1500);
    assert_string_equal(o[2].query, "histogram_quantile(0.999, sum by (le) "
                                    "(rate(http_request_duration_seconds_bucket{job=\"gateway\"}"
                                    "[5m])))");
    check_objective(&o[3], "errors", SL_METRIC_ERROR_RATE, 0, 5 * MIN, SL_WINDOW_DURATION, DAY,
                    SL_CMP_LE, 5000);
    assert_int_equal(s->n_penalties, 3);
    check_tiers(&p[0], tiers, 2);
    assert_int_equal(p[1].objective, 1);
    assert_int_equal(p[1].kind, SL_PENALTY_PER_VIOLATION);
    assert_int_equal(p[1].amount, 500);
    assert_int_equal(p[1].cap_kind, SL_CAP_PPM);
    assert_int_equal(p[1].cap, 250000);
    assert_int_equal(p[2].objective, 3);
    assert_int_equal(p[2].amount, 300);
    assert_int_equal(p[2].cap_kind, SL_CAP_AMOUNT);
    assert_int_equal(p[2].cap, 20000);
    sl_agreement_spec_free(s);
}

static void test_backup_checks(void **state)
{
    static const char *const src[] = {"credentials", "orders-db-canary", "database", "orders"};
    sl_agreement_spec *s = th_parse_source_file("examples/backup-checks.yaml");
    const sl_objective_spec *o = s->objectives;
    const sl_penalty_spec *p = s->penalties;

    (void)state;
    assert_int_equal(s->start_ms, T_2026_12_01);
    assert_int_equal(s->end_ms, T_2027_12_01);
    assert_int_equal(s->fee, 600000);
    assert_string_equal(s->currency, "CHF");
    assert_int_equal(s->grace_ms, HOUR);
    assert_int_equal(s->services[0].kind, SL_SVC_POSTGRESQL);
    check_source(&s->services[0], src, 2);
    check_objective(&o[0], "canary", SL_METRIC_DURABILITY, 0, HOUR, SL_WINDOW_DURATION, DAY,
                    SL_CMP_GE, 1);
    assert_int_equal(o[0].service, 0);
    assert_int_equal(o[0].good_ppm, 0);
    check_oracles(&o[0], 7, SL_POLICY_ALL_AGREE, 3);
    check_objective(&o[1], "checksums", SL_METRIC_INTEGRITY, 0, 6 * HOUR, SL_WINDOW_MONTH, 0,
                    SL_CMP_GE, 1);
    assert_int_equal(p[0].kind, SL_PENALTY_PER_FAILURE);
    assert_int_equal(p[0].amount, 2500);
    assert_int_equal(p[0].cap_kind, SL_CAP_AMOUNT);
    assert_int_equal(p[0].cap, 20000);
    assert_int_equal(p[1].objective, 1);
    assert_int_equal(p[1].kind, SL_PENALTY_PER_FAILURE);
    assert_int_equal(p[1].amount, 5000);
    assert_int_equal(p[1].cap_kind, SL_CAP_PPM);
    assert_int_equal(p[1].cap, 500000);
    sl_agreement_spec_free(s);
}

/* Every agreement in examples/ parses, whatever is added later (channel-*.yaml are channel
 * documents, checked by test_channel.c). */
static void test_every_example(void **state)
{
    char *dir = th_source_path("examples");
    DIR *d = opendir(dir);
    struct dirent *e;
    char rel[300];
    int n = 0;

    (void)state;
    assert_non_null(d);
    while ((e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name);
        if (len < 5 ||
            (strcmp(e->d_name + len - 5, ".yaml") != 0 &&
             strcmp(e->d_name + len - 5, ".json") != 0) ||
            strncmp(e->d_name, "channel-", 8) == 0)
            continue;
        snprintf(rel, sizeof(rel), "examples/%s", e->d_name);
        sl_agreement_spec_free(th_parse_source_file(rel));
        n++;
    }
    closedir(d);
    free(dir);
    assert_true(n >= 6);
}

static void assert_str_same(const char *a, const char *b)
{
    if (!a || !b)
        assert_ptr_equal(a, b);
    else
        assert_string_equal(a, b);
}

static void assert_objectives_same(const sl_objective_spec *a, const sl_objective_spec *b)
{
    assert_str_same(a->name, b->name);
    assert_int_equal(a->service, b->service);
    assert_int_equal(a->metric, b->metric);
    assert_int_equal(a->percentile_milli, b->percentile_milli);
    assert_int_equal(a->interval_ms, b->interval_ms);
    assert_int_equal(a->window.kind, b->window.kind);
    assert_int_equal(a->window.len_ms, b->window.len_ms);
    assert_int_equal(a->cmp, b->cmp);
    assert_int_equal(a->target, b->target);
    assert_int_equal(a->good_ppm, b->good_ppm);
    assert_int_equal(a->unknown, b->unknown);
    assert_int_equal(a->oracle_mask, b->oracle_mask);
    assert_int_equal(a->policy, b->policy);
    assert_int_equal(a->quorum, b->quorum);
    assert_str_same(a->query, b->query);
}

static void assert_penalties_same(const sl_penalty_spec *a, const sl_penalty_spec *b)
{
    assert_int_equal(a->objective, b->objective);
    assert_int_equal(a->kind, b->kind);
    assert_int_equal(a->n_tiers, b->n_tiers);
    for (size_t t = 0; t < a->n_tiers; t++) {
        assert_int_equal(a->tiers[t].below_ppm, b->tiers[t].below_ppm);
        assert_int_equal(a->tiers[t].credit_ppm, b->tiers[t].credit_ppm);
    }
    assert_int_equal(a->amount, b->amount);
    assert_int_equal(a->cap_kind, b->cap_kind);
    assert_int_equal(a->cap, b->cap);
}

/* Two specs are equal field by field (the comparison the contract's state hash relies on). */
static void assert_specs_same(const sl_agreement_spec *a, const sl_agreement_spec *b)
{
    assert_str_same(a->name, b->name);
    assert_str_same(a->description, b->description);
    assert_str_same(a->channel, b->channel);
    assert_str_same(a->consumer, b->consumer);
    assert_str_same(a->provider, b->provider);
    assert_int_equal(a->start_ms, b->start_ms);
    assert_int_equal(a->end_ms, b->end_ms);
    assert_int_equal(a->fee, b->fee);
    assert_string_equal(a->currency, b->currency);
    assert_int_equal(a->minor_units, b->minor_units);
    assert_int_equal(a->billing.kind, b->billing.kind);
    assert_int_equal(a->billing.len_ms, b->billing.len_ms);
    assert_int_equal(a->grace_ms, b->grace_ms);
    assert_int_equal(a->n_services, b->n_services);
    for (size_t i = 0; i < a->n_services; i++) {
        assert_str_same(a->services[i].name, b->services[i].name);
        assert_int_equal(a->services[i].kind, b->services[i].kind);
        assert_int_equal(a->services[i].n_source, b->services[i].n_source);
        for (size_t k = 0; k < a->services[i].n_source; k++) {
            assert_string_equal(a->services[i].source[k].key, b->services[i].source[k].key);
            assert_string_equal(a->services[i].source[k].value, b->services[i].source[k].value);
        }
    }
    assert_int_equal(a->n_oracles, b->n_oracles);
    for (size_t i = 0; i < a->n_oracles; i++)
        assert_string_equal(a->oracles[i], b->oracles[i]);
    assert_int_equal(a->n_objectives, b->n_objectives);
    for (size_t i = 0; i < a->n_objectives; i++)
        assert_objectives_same(&a->objectives[i], &b->objectives[i]);
    assert_int_equal(a->n_penalties, b->n_penalties);
    for (size_t i = 0; i < a->n_penalties; i++)
        assert_penalties_same(&a->penalties[i], &b->penalties[i]);
}

static void test_json_same_model(void **state)
{
    sl_agreement_spec *y = th_parse_source_file("examples/aws-ec2-vm.yaml");
    sl_agreement_spec *j = th_parse_source_file("examples/aws-ec2-vm.json");

    (void)state;
    check_aws(j);
    assert_specs_same(y, j);
    sl_agreement_spec_free(y);
    sl_agreement_spec_free(j);
}

/* A small agreement: 1 day, four oracles, one push service; %s: extra spec lines (fee, ...),
 * objectives (list items) and an optional penalties block. */
static const char *mini_fmt = "apiVersion: slaledger/v1\n"
                              "kind: Agreement\n"
                              "metadata: {name: t}\n"
                              "spec:\n"
                              "  channel: c\n"
                              "  consumer: a\n"
                              "  provider: b\n"
                              "  period: {start: 2026-12-01T00:00:00Z, end: %s}\n"
                              "%s"
                              "  services: [{name: s, kind: push}]\n"
                              "  oracles: %s\n"
                              "  objectives:\n%s"
                              "%s";

typedef struct mini {
    const char *end;     /* default 2026-12-02T00:00:00Z */
    const char *extra;   /* default the fee 10 EUR */
    const char *oracles; /* default {members: [o1, o2, o3, o4]} */
    const char *objectives;
    const char *penalties;
} mini;

static char *mini_doc(const mini *m)
{
    char *text = malloc(8192);

    assert_non_null(text);
    snprintf(text, 8192, mini_fmt, m->end ? m->end : "2026-12-02T00:00:00Z",
             m->extra ? m->extra : "  fee: {amount: \"10\", currency: EUR}\n",
             m->oracles ? m->oracles : "{members: [o1, o2, o3, o4]}", m->objectives,
             m->penalties ? m->penalties : "");
    return text;
}

static sl_agreement_spec *mini_ok(const mini *m)
{
    char *text = mini_doc(m);
    sl_agreement_spec *s = th_parse_ok(text);

    free(text);
    return s;
}

static void test_defaults(void **state)
{
    mini m = {.objectives = "    - {name: up, metric: availability, interval: 1m, window: 1h, "
                            "target: \">=99%\"}\n"};
    sl_agreement_spec *s = mini_ok(&m);
    const sl_objective_spec *o = &s->objectives[0];

    (void)state;
    assert_null(s->description);
    assert_int_equal(s->fee, 1000);
    assert_int_equal(s->billing.kind, SL_WINDOW_PERIOD);
    assert_int_equal(s->billing.len_ms, 0);
    assert_int_equal(s->grace_ms, 10 * MIN);
    assert_int_equal(s->services[0].kind, SL_SVC_PUSH);
    assert_int_equal(s->services[0].n_source, 0);
    assert_int_equal(s->n_penalties, 0);
    assert_int_equal(o->service, 0);
    assert_int_equal(o->target, 990000);
    assert_int_equal(o->good_ppm, 1000000);
    assert_int_equal(o->unknown, SL_UNKNOWN_EXCLUDE);
    /* Four members: median of all of them, quorum a strict majority (3). */
    check_oracles(o, 15, SL_POLICY_MEDIAN, 3);
    assert_null(o->query);
    sl_agreement_spec_free(s);
}

static void test_targets(void **state)
{
    mini m = {
        .objectives =
            "    - {name: a, metric: throughput, interval: 1m, window: 1h, target: \">= 100/s\"}\n"
            "    - {name: b, metric: throughput, interval: 1m, window: 1h, target: \">=100 "
            "req/s\"}\n"
            "    - {name: c, metric: throughput, interval: 1m, window: 1h, target: \">= 0.5/s\"}\n"
            "    - {name: d, metric: throughput, interval: 1m, window: 1h, target: \">= "
            "2.125req/s\"}\n"
            "    - {name: e, metric: response_time, interval: 1m, window: 1h, target: \"<=2s\"}\n"
            "    - {name: f, metric: delay, percentile: 50, interval: 1m, window: 1h, target: \"<= "
            "1m30s\"}\n"
            "    - {name: g, metric: processing_time, percentile: 99.999, interval: 1m, window: "
            "1h, target: \"<=  2h\"}\n"
            "    - {name: h, metric: error_rate, interval: 1m, window: 1h, target: \"<= 0.1%\"}\n"
            "    - {name: i, metric: availability, interval: 1m, window: 1h, target: \">= "
            "99.9999%\", good: 95.5%}\n"
            "    - {name: j, metric: confidentiality, interval: 1m, window: 1h, target: pass}\n"
            "    - {name: k, metric: retention, interval: 1m, window: 1h}\n"
            "    - {name: l, metric: deletion, interval: 1m, window: 1h, unknown: bad}\n"};
    static const int64_t want[] = {100000,  100000, 500,    2125, 2000, 90000,
                                   7200000, 1000,   999999, 1,    1,    1};
    static const sl_cmp cmp[] = {SL_CMP_GE, SL_CMP_GE, SL_CMP_GE, SL_CMP_GE, SL_CMP_LE, SL_CMP_LE,
                                 SL_CMP_LE, SL_CMP_LE, SL_CMP_GE, SL_CMP_GE, SL_CMP_GE, SL_CMP_GE};
    sl_agreement_spec *s = mini_ok(&m);

    (void)state;
    assert_int_equal(s->n_objectives, 12);
    for (size_t i = 0; i < 12; i++) {
        assert_int_equal(s->objectives[i].target, want[i]);
        assert_int_equal(s->objectives[i].cmp, cmp[i]);
    }
    assert_int_equal(s->objectives[5].percentile_milli, 50000);
    assert_int_equal(s->objectives[6].percentile_milli, 99999);
    assert_int_equal(s->objectives[8].good_ppm, 955000);
    assert_int_equal(s->objectives[9].metric, SL_METRIC_CONFIDENTIALITY);
    assert_int_equal(s->objectives[11].unknown, SL_UNKNOWN_BAD);
    for (size_t i = 9; i < 12; i++)
        assert_true(sl_metric_is_check(s->objectives[i].metric));
    assert_false(sl_metric_is_check(SL_METRIC_ERROR_RATE));
    sl_agreement_spec_free(s);
}

static void test_windows_and_grace(void **state)
{
    mini m = {.extra = "  fee: {amount: \"10\", currency: EUR}\n  billing: calendar-day\n"
                       "  grace: 0s\n",
              .end = "2026-12-03T00:00:00Z",
              .objectives =
                  "    - {name: a, metric: availability, interval: 1m, window: calendar-hour, "
                  "target: \">= 99%\"}\n"
                  "    - {name: b, metric: availability, interval: 1m, window: calendar-day, "
                  "target: \">= 99%\"}\n"
                  "    - {name: c, metric: availability, interval: 1m, window: 6h, "
                  "target: \">= 99%\"}\n"
                  "    - {name: d, metric: availability, interval: 1m, window: 1h30m, "
                  "target: \">= 99%\"}\n"};
    sl_agreement_spec *s = mini_ok(&m);

    (void)state;
    assert_int_equal(s->grace_ms, 0);
    assert_int_equal(s->billing.kind, SL_WINDOW_DURATION);
    assert_int_equal(s->billing.len_ms, DAY);
    assert_int_equal(s->objectives[0].window.len_ms, HOUR);
    assert_int_equal(s->objectives[1].window.len_ms, DAY);
    assert_int_equal(s->objectives[2].window.len_ms, 6 * HOUR);
    assert_int_equal(s->objectives[3].window.len_ms, 90 * MIN);
    sl_agreement_spec_free(s);
}

/* Window nesting that is accepted: see docs/sla-format.md. */
static void test_nesting_accepted(void **state)
{
    static const char *const cases[][3] = {
        /* billing, objective window, period end */
        {"calendar-month", "6h", "2027-02-01T00:00:00Z"},
        {"calendar-month", "calendar-month", "2027-02-01T00:00:00Z"},
        {"calendar-day", "calendar-hour", "2026-12-03T00:00:00Z"},
        {"7d", "1d", "2026-12-15T00:00:00Z"},
        {"period", "calendar-month", "2027-02-01T00:00:00Z"},
        {"period", "7d", "2027-02-01T00:00:00Z"},
        /* The whole period lies in one billing window: anything nests. */
        {"calendar-month", "period", "2026-12-20T00:00:00Z"},
        {"30d", "calendar-month", "2026-12-03T00:00:00Z"},
    };
    char extra[128], obj[160];

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        snprintf(extra, sizeof(extra), "  fee: {amount: \"10\", currency: EUR}\n  billing: %s\n",
                 cases[i][0]);
        snprintf(obj, sizeof(obj),
                 "    - {name: a, metric: availability, interval: 1h, window: %s, "
                 "target: \">= 99%%\"}\n",
                 cases[i][1]);
        mini m = {.extra = extra, .end = cases[i][2], .objectives = obj};
        sl_agreement_spec_free(mini_ok(&m));
    }
}

static void test_oracle_overrides(void **state)
{
    mini m = {.oracles = "{members: [o1, o2, o3, o4], policy: max, quorum: 1}",
              .objectives = "    - {name: a, metric: availability, interval: 1m, window: 1h, "
                            "target: \">= 99%\"}\n"
                            "    - {name: b, metric: availability, interval: 1m, window: 1h, "
                            "target: \">= 99%\", oracles: [o2, o4]}\n"
                            "    - {name: c, metric: availability, interval: 1m, window: 1h, "
                            "target: \">= 99%\", oracles: {members: [o1, o2, o3], policy: k-of-n, "
                            "quorum: 2}}\n"
                            "    - {name: d, metric: availability, interval: 1m, window: 1h, "
                            "target: \">= 99%\", oracles: {members: [o4]}}\n"};
    sl_agreement_spec *s = mini_ok(&m);

    (void)state;
    check_oracles(&s->objectives[0], 15, SL_POLICY_MAX, 1);
    check_oracles(&s->objectives[1], 10, SL_POLICY_MAX, 2);
    check_oracles(&s->objectives[2], 7, SL_POLICY_K_OF_N, 2);
    check_oracles(&s->objectives[3], 8, SL_POLICY_MAX, 1);
    assert_string_equal(sl_policy_name(s->objectives[2].policy), "k-of-n");
    sl_agreement_spec_free(s);
}

static void check_fee(const char *fee, int64_t amount, const char *cur, unsigned minor)
{
    char extra[128];
    mini m = {.extra = extra,
              .objectives = "    - {name: a, metric: durability, interval: 1h, window: 1d}\n",
              .penalties = "  penalties: [{objective: a, per_failure: \"1\", cap: 50%}]\n"};
    sl_agreement_spec *s;

    snprintf(extra, sizeof(extra), "  fee: %s\n", fee);
    s = mini_ok(&m);
    assert_int_equal(s->fee, amount);
    assert_string_equal(s->currency, cur);
    assert_int_equal(s->minor_units, minor);
    /* Amounts elsewhere use the same minor units: "1" is 10^minor. */
    assert_int_equal(s->penalties[0].amount, minor == 0 ? 1 : minor == 2 ? 100 : 1000);
    sl_agreement_spec_free(s);
}

static void test_currencies(void **state)
{
    (void)state;
    check_fee("{amount: \"1000.00\", currency: EUR}", 100000, "EUR", 2);
    check_fee("{amount: 1000.5, currency: USD}", 100050, "USD", 2);
    check_fee("{amount: 1000, currency: JPY}", 1000, "JPY", 0);
    check_fee("{amount: \"1.234\", currency: KWD}", 1234, "KWD", 3);
    check_fee("{amount: \"2.5\", currency: XTS, minor_units: 3}", 2500, "XTS", 3);
    check_fee("{amount: \"7\", currency: EUR, minor_units: 2}", 700, "EUR", 2);
}

/* Metadata labels and descriptions are accepted; service names and enum names round-trip. */
static void test_names(void **state)
{
    static const char *const kinds[] = {"aws.ec2", "azure.vm",   "http",        "prometheus",
                                        "push",    "postgresql", "process-step"};
    static const char *const metrics[] = {"availability",    "response_time", "throughput",
                                          "processing_time", "delay",         "error_rate",
                                          "durability",      "integrity",     "confidentiality",
                                          "retention",       "deletion"};
    static const char *const policies[] = {"median", "min", "max", "all-agree", "k-of-n"};

    (void)state;
    for (int i = 0; i < 7; i++)
        assert_string_equal(sl_service_kind_name((sl_service_kind)i), kinds[i]);
    for (int i = 0; i < 11; i++)
        assert_string_equal(sl_metric_name((sl_metric)i), metrics[i]);
    for (int i = 0; i < 5; i++)
        assert_string_equal(sl_policy_name((sl_policy)i), policies[i]);
    assert_string_equal(sl_metric_name((sl_metric)99), "unknown");
}

/* Non-ASCII text is kept byte for byte. */
static void test_utf8_text(void **state)
{
    mini m = {.extra = "  fee: {amount: \"10\", currency: EUR}\n",
              .objectives = "    - {name: a, metric: availability, interval: 1m, window: 1h, "
                            "target: \">= 99%\", query: \"up{site=\\\"Z\xc3\xbcrich\\\"}\"}\n"};
    char *text = mini_doc(&m), *doc;
    sl_agreement_spec *s;

    (void)state;
    doc = th_replace(text, "metadata: {name: t}",
                     "metadata: {name: t, description: \"Universit\xc3\xa4t Wien \xe2\x82\xac\"}");
    s = th_parse_ok(doc);
    assert_string_equal(s->description, "Universit\xc3\xa4t Wien \xe2\x82\xac");
    assert_string_equal(s->objectives[0].query, "up{site=\"Z\xc3\xbcrich\"}");
    sl_agreement_spec_free(s);
    free(doc);
    /* Escaped apostrophes are fine, as long as no more than three apostrophes are in a row. */
    doc = th_replace(text, "metadata: {name: t}",
                     "metadata: {name: t, description: 'the customer''s VM'''}");
    s = th_parse_ok(doc);
    assert_string_equal(s->description, "the customer's VM'");
    sl_agreement_spec_free(s);
    free(doc);
    free(text);
}

static void test_process_step_service(void **state)
{
    static const char *const src[] = {"application", "TaxiOrdering", "step", "S1"};
    mini m = {.extra = "  fee: {amount: \"10\", currency: EUR}\n",
              .objectives = "    - {name: a, metric: processing_time, interval: 1m, window: 1h, "
                            "target: \"<= 2s\"}\n"};
    char *text = mini_doc(&m), *doc;
    sl_agreement_spec *s;

    (void)state;
    doc = th_replace(text, "{name: s, kind: push}",
                     "{name: s1, kind: process-step, source: {step: S1, "
                     "application: TaxiOrdering}}");
    s = th_parse_ok(doc);
    assert_int_equal(s->services[0].kind, SL_SVC_PROCESS_STEP);
    check_source(&s->services[0], src, 2);
    sl_agreement_spec_free(s);
    free(doc);
    free(text);
}

/* The one table of what each kind of source measures (sl_objective_measurable), cell by cell;
 * rows are sl_service_kind, columns sl_metric (availability .. error_rate, then the checks,
 * which check oracles report for any kind of service). */
static void test_measurable_table(void **state)
{
    static const char *const want[] = {
        "10000011111", /* aws.ec2 with the default StatusCheckFailed: no error rate */
        "10000011111", /* azure.vm */
        "11000111111", /* http */
        "11111111111", /* prometheus */
        "11111111111", /* push */
        "00000011111", /* postgresql */
        "11111111111", /* process-step */
    };
    sl_kv cpu = {"metric", "CPUUtilization"};
    sl_service_spec svc = {.name = "s"};
    sl_objective_spec obj = {.name = "o"};
    sl_error e;

    (void)state;
    for (int k = SL_SVC_AWS_EC2; k <= SL_SVC_PROCESS_STEP; k++) {
        for (int m = SL_METRIC_AVAILABILITY; m <= SL_METRIC_DELETION; m++) {
            svc.kind = (sl_service_kind)k;
            obj.metric = (sl_metric)m;
            memset(&e, 0, sizeof(e));
            int rc = sl_objective_measurable(&svc, &obj, &e);
            if ((rc == 0) != (want[k][m] == '1'))
                fail_msg("%s / %s: rc %d (%s)", sl_service_kind_name(svc.kind),
                         sl_metric_name(obj.metric), rc, e.msg);
            if (rc != 0)
                assert_string_equal(e.field, "metric");
        }
    }
    /* aws.ec2: a percentage metric gives an error rate, and still availability */
    svc.kind = SL_SVC_AWS_EC2;
    svc.source = &cpu;
    svc.n_source = 1;
    obj.metric = SL_METRIC_ERROR_RATE;
    assert_int_equal(sl_objective_measurable(&svc, &obj, NULL), 0);
    obj.metric = SL_METRIC_AVAILABILITY;
    assert_int_equal(sl_objective_measurable(&svc, &obj, NULL), 0);
    obj.metric = SL_METRIC_RESPONSE_TIME;
    assert_int_equal(sl_objective_measurable(&svc, &obj, &e), SL_EINVAL);
    assert_non_null(strstr(e.msg, "CloudWatch metric CPUUtilization cannot measure objective o"));
}

/* URLs that curl's parser accepts and that carry nothing a ledger must not hold. */
static void test_urls_accepted(void **state)
{
    static const char *const urls[] = {
        "http://127.0.0.1:9090/",     "https://prometheus.internal:9090/api?x=%2F&y=1",
        "http://[::1]:9090/",         "http://localhost",
        "https://example.com/a%20b/", "http://127.0.0.1:65535/",
    };
    static const char base[] =
        "apiVersion: slaledger/v1\nkind: Agreement\nmetadata: {name: p}\nspec:\n"
        "  channel: c\n  consumer: a\n  provider: b\n"
        "  period: PERIOD\n"
        "  fee: {amount: \"10\", currency: EUR}\n"
        "  services: [{name: s, kind: prometheus, source: {url: \"URL\"}}]\n"
        "  oracles: {members: [o1]}\n"
        "  objectives: [{name: up, metric: availability, interval: 1m, window: 1h,\n"
        "    target: \">= 99%\", query: \"up\"}]\n";

    (void)state;
    for (size_t i = 0; i < sizeof(urls) / sizeof(*urls); i++) {
        char *dated = th_with_period(base);
        char *doc = th_replace(dated, "URL", urls[i]);
        sl_agreement_spec *s = th_parse_ok(doc);
        assert_string_equal(s->services[0].source[0].value, urls[i]);
        sl_agreement_spec_free(s);
        free(doc);
        free(dated);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_aws_ec2_vm),       cmocka_unit_test(test_azure_vm),
        cmocka_unit_test(test_website_http),     cmocka_unit_test(test_prometheus),
        cmocka_unit_test(test_backup_checks),    cmocka_unit_test(test_every_example),
        cmocka_unit_test(test_json_same_model),  cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_targets),          cmocka_unit_test(test_windows_and_grace),
        cmocka_unit_test(test_nesting_accepted), cmocka_unit_test(test_oracle_overrides),
        cmocka_unit_test(test_currencies),       cmocka_unit_test(test_names),
        cmocka_unit_test(test_utf8_text),        cmocka_unit_test(test_process_step_service),
        cmocka_unit_test(test_measurable_table), cmocka_unit_test(test_urls_accepted),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
