/*
 * test_errors.c: refused documents. A table of variants of one valid agreement, each broken in
 * one way, says which field, line, column, message and code the first diagnostic must carry;
 * further tests check that several problems are all reported, that SL_DIAGS_MAX bounds the
 * list, and the failure modes of the API itself (no diags, bad arguments, unreadable files).
 * Expected positions were worked out from the text of each variant, not from the parser.
 */
#include "helpers.h"

/* Lines are numbered for reading the table's positions. */
static const char *base_doc =
    "apiVersion: slaledger/v1\n"
    "kind: Agreement\n"
    "metadata: {name: web}\n"
    "spec:\n"
    "  channel: univie-aws\n"
    "  consumer: univie\n"
    "  provider: aws\n"
    "  period: {start: 2026-12-01T00:00:00Z, end: 2026-12-03T00:00:00Z}\n"
    "  fee: {amount: \"1000.00\", currency: EUR}\n"
    "  billing: calendar-day\n"
    "  grace: 10s\n"
    "  services:\n"
    "    - name: web\n"
    "      kind: http\n"
    "      source: {url: \"http://127.0.0.1/\"}\n"
    "  oracles: {members: [o1, o2, o3], quorum: 2}\n"
    "  objectives:\n"
    "    - {name: uptime, metric: availability, interval: 60s, window: calendar-day, target: \">= "
    "99.9%\"}\n"
    "    - {name: latency, metric: response_time, percentile: 95, interval: 60s, window: 1h, "
    "target: \"<= 300ms\"}\n"
    "  penalties:\n"
    "    - {objective: uptime, tiers: [{below: 99.9%, credit: 10%}, {below: 99.0%, credit: 30%}]}\n"
    "    - {objective: latency, per_violation: \"5.00\", cap: 50%}\n";

typedef struct err_case {
    const char *name;
    const char *from; /* replaced in base_doc (must occur exactly once) ... */
    const char *to;   /* ... by this */
    const char *field;
    int line;
    int column;
    const char *msg; /* a substring of the first diagnostic's message */
    int code;
} err_case;

static const err_case cases[] = {
    {"syntax error", "billing: calendar-day", "billing: calendar-day: x", "", 10, 24,
     "YAML syntax error", SL_EPARSE},
    {"unknown top-level field", "kind: Agreement\n", "kind: Agreement\nfoo: 1\n", "foo", 3, 1,
     "unknown field 'foo' in the document; expected one of: apiVersion, kind, metadata, spec",
     SL_EINVAL},
    {"unknown metadata field", "{name: web}", "{name: web, colour: red}", "metadata.colour", 3, 23,
     "unknown field 'colour' in metadata", SL_EINVAL},
    {"unknown spec field", "  grace: 10s\n", "  grace: 10s\n  colour: blue\n", "spec.colour", 12, 3,
     "expected one of: channel, consumer", SL_EINVAL},
    {"unknown source field", "{url: \"http://127.0.0.1/\"}",
     "{url: \"http://127.0.0.1/\", verb: GET}", "spec.services[0].source.verb", 15, 42,
     "unknown field 'verb' in spec.services[0].source; expected one of: url, method", SL_EINVAL},
    {"unknown tier field", "{below: 99.0%, credit: 30%}", "{below: 99.0%, credit: 30%, x: 1}",
     "spec.penalties[0].tiers[1].x", 21, 92, "unknown field 'x' in spec.penalties[0].tiers[1]",
     SL_EINVAL},
    {"list where mapping expected", "fee: {amount: \"1000.00\", currency: EUR}", "fee: [1000, EUR]",
     "spec.fee", 9, 8, "expected a mapping, found a list", SL_EINVAL},
    {"mapping where scalar expected", "channel: univie-aws", "channel: {a: b}", "spec.channel", 5,
     12, "expected a name, found a mapping", SL_EINVAL},
    {"scalar where list expected", "members: [o1, o2, o3]", "members: o1", "spec.oracles.members",
     16, 22, "expected a list, found 'o1'", SL_EINVAL},
    {"impossible availability", "\">= 99.9%\"", "\">= 101%\"", "spec.objectives[0].target", 18, 89,
     "impossible target: availability '101%' is above 100%", SL_EINVAL},
    {"impossible error rate",
     "metric: response_time, percentile: 95, interval: 60s, window: 1h, target: \"<= 300ms\"",
     "metric: error_rate, interval: 60s, window: 1h, target: \"<= 100.5%\"",
     "spec.objectives[1].target", 19, 78, "impossible target", SL_EINVAL},
    {"tiers out of order: below", "{below: 99.0%, credit: 30%}", "{below: 99.95%, credit: 30%}",
     "spec.penalties[0].tiers[1].below", 21, 72,
     "tiers out of order: tier 1's below 99.95% must be lower than tier 0's 99.9%", SL_EINVAL},
    {"tiers out of order: credit", "{below: 99.0%, credit: 30%}", "{below: 99.0%, credit: 5%}",
     "spec.penalties[0].tiers[1].credit", 21, 87,
     "tiers out of order: tier 1's credit 5% must be higher than tier 0's 10%", SL_EINVAL},
    {"overlapping windows", "window: 1h", "window: 7d", "spec.objectives[1].window", 19, 85,
     "window 7d of objective 'latency' overlaps the calendar-day billing windows", SL_EINVAL},
    {"month window in duration billing", "window: calendar-day, target",
     "window: calendar-month, target", "spec.objectives[0].window", 18, 67,
     "window calendar-month of objective 'uptime' overlaps the calendar-day billing windows",
     SL_EINVAL},
    {"unknown oracle", "window: 1h, target", "window: 1h, oracles: [o1, o9], target",
     "spec.objectives[1].oracles[1]", 19, 103,
     "unknown oracle 'o9'; spec.oracles.members lists: o1, o2, o3", SL_EINVAL},
    {"unknown oracle in override map", "window: 1h, target",
     "window: 1h, oracles: {members: [o2, o7], quorum: 1}, target",
     "spec.objectives[1].oracles.members[1]", 19, 113, "unknown oracle 'o7'", SL_EINVAL},
    {"unknown service", "{name: latency, metric", "{name: latency, service: db, metric",
     "spec.objectives[1].service", 19, 32,
     "unknown service 'db'; the agreement's services are: web", SL_EINVAL},
    {"unknown objective", "objective: latency", "objective: latenc", "spec.penalties[1].objective",
     22, 19, "unknown objective 'latenc'", SL_EINVAL},
    {"amount overflow", "\"1000.00\"", "\"92233720368547758.08\"", "spec.fee.amount", 9, 17,
     "is too large; at most 92233720368547758.07 EUR", SL_EOVERFLOW},
    {"too many decimals", "\"1000.00\"", "\"1000.001\"", "spec.fee.amount", 9, 17,
     "amount '1000.001' has more decimals than the 2 of EUR", SL_EINVAL},
    {"penalty amount decimals", "per_violation: \"5.00\"", "per_violation: \"5.005\"",
     "spec.penalties[1].per_violation", 22, 43, "more decimals than the 2 of EUR", SL_EINVAL},
    {"negative amount", "per_violation: \"5.00\"", "per_violation: -5",
     "spec.penalties[1].per_violation", 22, 43, "must be greater than 0", SL_EINVAL},
    {"end before start", "end: 2026-12-03T00:00:00Z", "end: 2026-11-30T00:00:00Z",
     "spec.period.end", 8, 46,
     "period end 2026-11-30T00:00:00Z is not after its start 2026-12-01T00:00:00Z", SL_EINVAL},
    {"bad time", "end: 2026-12-03T00:00:00Z", "end: 2026-12-03", "spec.period.end", 8, 46,
     "expected an RFC 3339 time", SL_EINVAL},
    {"grid misalignment", "start: 2026-12-01T00:00:00Z", "start: 2026-12-01T00:00:30Z",
     "spec.period.start", 8, 19,
     "period start 2026-12-01T00:00:30Z is not on the 60s interval grid of objective 'uptime'",
     SL_EINVAL},
    {"window not a multiple of the interval", "interval: 60s, window: 1h",
     "interval: 160s, window: 1h", "spec.objectives[1].window", 19, 86,
     "window 1h of objective 'latency' is not a multiple of its 160s interval", SL_EINVAL},
    {"wrong operator: response time", "\"<= 300ms\"", "\">= 300ms\"", "spec.objectives[1].target",
     19, 97, "wrong operator '>=' for response_time: its target must be written '<= duration'",
     SL_EINVAL},
    {"wrong operator: availability", "\">= 99.9%\"", "\"< 99.9%\"", "spec.objectives[0].target", 18,
     89, "wrong operator '<' for availability: its target must be written '>= P%'", SL_EINVAL},
    {"missing operator", "\"<= 300ms\"", "300ms", "spec.objectives[1].target", 19, 97,
     "expected a response_time target written '<= duration'", SL_EINVAL},
    {"missing required field: spec.consumer", "  consumer: univie\n", "", "spec.consumer", 5, 3,
     "missing required field 'consumer' in spec", SL_EINVAL},
    {"missing required field: objective window", "interval: 60s, window: 1h, ", "interval: 60s, ",
     "spec.objectives[1].window", 19, 7, "missing required field 'window' in spec.objectives[1]",
     SL_EINVAL},
    {"missing required field: apiVersion", "apiVersion: slaledger/v1\n", "", "apiVersion", 1, 1,
     "missing required field 'apiVersion' in the document", SL_EINVAL},
    {"required field is null", "channel: univie-aws", "channel: ~", "spec.channel", 5, 12,
     "field 'channel' is required, found null", SL_EINVAL},
    {"duplicate objective name", "{name: latency", "{name: uptime", "spec.objectives[1].name", 19,
     14, "duplicate objective name 'uptime' (also spec.objectives[0])", SL_EINVAL},
    {"duplicate oracle", "members: [o1, o2, o3]", "members: [o1, o2, o1]",
     "spec.oracles.members[2]", 16, 31, "oracle 'o1' is listed twice", SL_EINVAL},
    {"duplicate key", "  grace: 10s\n", "  grace: 10s\n  grace: 20s\n", "spec.grace", 12, 3,
     "duplicate field 'grace' in spec", SL_EINVAL},
    {"quorum above members", "quorum: 2", "quorum: 4", "spec.oracles.quorum", 16, 44,
     "quorum 4 is more than the 3 oracle members", SL_EINVAL},
    {"quorum zero", "quorum: 2", "quorum: 0", "spec.oracles.quorum", 16, 44,
     "expected an integer from 1 to 64", SL_EINVAL},
    {"provider is consumer", "provider: aws", "provider: univie", "spec.provider", 7, 13,
     "provider 'univie' is also the consumer", SL_EINVAL},
    {"bad name", "{name: web}", "{name: Web}", "metadata.name", 3, 18,
     "expected an agreement name ([a-z0-9] then [a-z0-9._-]", SL_EINVAL},
    {"per_failure on an interval metric", "per_violation: \"5.00\"", "per_failure: \"5.00\"",
     "spec.penalties[1].per_failure", 22, 41,
     "per_failure applies only to check objectives; objective 'latency' measures response_time",
     SL_EINVAL},
    {"tiers on a latency objective", "{objective: latency, per_violation: \"5.00\", cap: 50%}",
     "{objective: latency, tiers: [{below: 50%, credit: 10%}]}", "spec.penalties[1].tiers", 22, 35,
     "tiers apply only to availability objectives", SL_EINVAL},
    {"cap with tiers", "credit: 30%}]}", "credit: 30%}], cap: 10%}", "spec.penalties[0].cap", 21,
     99, "cap is not allowed with tiers", SL_EINVAL},
    {"two penalty kinds", "per_violation: \"5.00\", cap",
     "per_violation: \"5.00\", per_failure: \"1.00\", cap", "spec.penalties[1].per_failure", 22, 64,
     "expected exactly one of tiers, per_violation or per_failure, found both per_violation and "
     "per_failure",
     SL_EINVAL},
    {"two penalties for one objective", "{objective: latency,", "{objective: uptime,",
     "spec.penalties[1].objective", 22, 19,
     "objective 'uptime' already has a penalty (spec.penalties[0])", SL_EINVAL},
    {"interval too short", "interval: 60s, window: 1h", "interval: 500ms, window: 1h",
     "spec.objectives[1].interval", 19, 72, "interval 500ms is shorter than the minimum of 1s",
     SL_EINVAL},
    {"percentile on availability", "metric: availability,", "metric: availability, percentile: 90,",
     "spec.objectives[0].percentile", 18, 56,
     "percentile applies only to response_time, processing_time and delay, not to availability",
     SL_EINVAL},
    {"unknown currency", "currency: EUR", "currency: XTS", "spec.fee.minor_units", 9, 38,
     "currency XTS is not in the built-in table; give minor_units (0..6)", SL_EINVAL},
    {"unknown metric", "metric: response_time", "metric: latency", "spec.objectives[1].metric", 19,
     31, "unknown metric 'latency'; expected one of: availability, response_time", SL_EINVAL},
    {"bad url", "\"http://127.0.0.1/\"", "\"ftp://127.0.0.1/\"", "spec.services[0].source.url", 15,
     21, "ftp://127.0.0.1/ is not a valid http://, https:// or tcp://host:port URL: the scheme",
     SL_EINVAL},
    {"tcp without a port", "\"http://127.0.0.1/\"", "\"tcp://127.0.0.1\"",
     "spec.services[0].source.url", 15, 21, "URL: expected tcp://host:port", SL_EINVAL},
    {"url port out of range", "\"http://127.0.0.1/\"", "\"http://127.0.0.1:99999/\"",
     "spec.services[0].source.url", 15, 21, "Port number was not a decimal number", SL_EINVAL},
    {"url with a bad percent-encoding", "\"http://127.0.0.1/\"", "\"http://127.0.0.1/%zz\"",
     "spec.services[0].source.url", 15, 21, "a % is not followed by two hex digits", SL_EINVAL},
    {"url with a password", "\"http://127.0.0.1/\"", "\"http://u:pw@127.0.0.1/\"",
     "spec.services[0].source.url", 15, 21, "a user name or password does not belong", SL_EINVAL},
    {"url without a host", "\"http://127.0.0.1/\"", "\"http://\"", "spec.services[0].source.url",
     15, 21, "No host part", SL_EINVAL},
    {"prometheus url with space, port and bad escape",
     "kind: http\n      source: {url: \"http://127.0.0.1/\"}",
     "kind: prometheus\n      source: {url: \"http://exa mple.com:99999/%zz\"}",
     "spec.services[0].source.url", 15, 21,
     "'http://exa mple.com:99999/%zz' is not a valid http:// or https:// URL", SL_EINVAL},
    {"response time from CloudWatch", "kind: http\n      source: {url: \"http://127.0.0.1/\"}",
     "kind: aws.ec2\n      source: {region: eu-central-1, instance: i-1, credentials: aws-main}",
     "spec.objectives[1].metric", 19, 31,
     "CloudWatch metric StatusCheckFailed cannot measure objective latency (response_time)",
     SL_EINVAL},
    {"throughput from a probe",
     "metric: availability, interval: 60s, window: calendar-day, target: "
     "\">= 99.9%\"",
     "metric: throughput, interval: 60s, window: calendar-day, target: \">= 1/s\"",
     "spec.objectives[0].metric", 18, 30,
     "a service of kind http cannot measure objective uptime (throughput): its source gives "
     "availability, response_time and error_rate",
     SL_EINVAL},
    {"availability of a database", "kind: http\n      source: {url: \"http://127.0.0.1/\"}",
     "kind: postgresql\n      source: {credentials: db}", "spec.objectives[0].metric", 18, 30,
     "a service of kind postgresql cannot measure objective uptime (availability)", SL_EINVAL},
    {"cert_expiry over http", "{url: \"http://127.0.0.1/\"}",
     "{url: \"http://127.0.0.1/\", cert_expiry: 14d}", "spec.services[0].source.cert_expiry", 15,
     55, "cert_expiry needs an https:// URL", SL_EINVAL},
    {"missing source key", "kind: http", "kind: postgresql", "spec.services[0].source.url", 15, 16,
     "unknown field 'url'", SL_EINVAL},
    {"alias", "  grace: 10s\n", "  grace: &g 10s\n  billing2: *g\n", "", 12, 13,
     "aliases (*name) are not supported", SL_EPARSE},
    {"second document", "apiVersion: slaledger/v1\n", "x: 1\n---\napiVersion: slaledger/v1\n", "",
     2, 1, "a second document starts here", SL_EPARSE},
};

#define N_CASES (sizeof(cases) / sizeof(cases[0]))

/* Runs one case; returns the number of mismatches (printed). */
static int run_case(const err_case *c)
{
    char *doc = th_replace(base_doc, c->from, c->to);
    sl_agreement_spec *spec = (sl_agreement_spec *)1;
    sl_diags d = {0};
    int rc, bad = 0;
    const sl_error *e;

    if (!doc) {
        fprintf(stderr, "%s: '%s' does not occur exactly once\n", c->name, c->from);
        return 1;
    }
    rc = sl_sla_parse(doc, strlen(doc), "case.yaml", &spec, &d);
    e = d.n > 0 ? &d.v[0] : NULL;
    if (rc != c->code || spec != NULL || !e || e->code != c->code || e->line != c->line ||
        e->column != c->column || strcmp(e->field, c->field) != 0 || !strstr(e->msg, c->msg)) {
        fprintf(stderr, "FAIL %s: rc %d (want %d), spec %s\n  want %d:%d %s: ...%s...\n", c->name,
                rc, c->code, spec ? "set" : "NULL", c->line, c->column, c->field, c->msg);
        th_print_diags("  got", &d);
        bad = 1;
    }
    sl_diags_release(&d);
    free(doc);
    return bad;
}

static void test_table(void **state)
{
    int bad = 0;

    (void)state;
    for (size_t i = 0; i < N_CASES; i++)
        bad += run_case(&cases[i]);
    assert_int_equal(bad, 0);
}

/* The unmodified base document is valid: every case breaks exactly what it says. */
static void test_base_valid(void **state)
{
    (void)state;
    sl_agreement_spec_free(th_parse_ok(base_doc));
}

typedef struct want_diag {
    const char *field;
    int line;
    int column;
    const char *msg;
} want_diag;

static void expect_diags(const char *doc, int code, const want_diag *want, size_t n)
{
    sl_agreement_spec *spec = NULL;
    sl_diags d = {0};
    int rc = sl_sla_parse(doc, strlen(doc), NULL, &spec, &d);

    th_print_diags("diag", &d);
    assert_int_equal(rc, code);
    assert_null(spec);
    assert_int_equal(d.n, n);
    for (size_t i = 0; i < n; i++) {
        assert_string_equal(d.v[i].field, want[i].field);
        assert_int_equal(d.v[i].line, want[i].line);
        assert_int_equal(d.v[i].column, want[i].column);
        assert_non_null(strstr(d.v[i].msg, want[i].msg));
    }
    sl_diags_release(&d);
}

/* One document with problems in many places: every one is reported, in document order. */
static void test_several_errors(void **state)
{
    static const char *doc =
        "apiVersion: slaledger/v2\n"                                            /* 1 */
        "kind: Agreement\n"                                                     /* 2 */
        "metadata: {name: web, owner: me}\n"                                    /* 3 */
        "spec:\n"                                                               /* 4 */
        "  channel: univie-aws\n"                                               /* 5 */
        "  consumer: univie\n"                                                  /* 6 */
        "  provider: univie\n"                                                  /* 7 */
        "  period: {start: 2026-12-01T00:00:00Z, end: 2026-12-02T00:00:00Z}\n"  /* 8 */
        "  fee: {amount: \"1000.005\", currency: EUR}\n"                        /* 9 */
        "  services: [{name: web, kind: http, source: {url: \"http://x/\"}}]\n" /* 10 */
        "  oracles: {members: [o1, o2], quorum: 3}\n"                           /* 11 */
        "  objectives:\n"                                                       /* 12 */
        "    - {name: up, metric: availability, interval: 60s, window: 1h, target: \">= 101%\"}\n"
        "  penalties:\n"                                     /* 14 */
        "    - {objective: upp, per_violation: \"1.00\"}\n"; /* 15 */
    static const want_diag want[] = {
        {"apiVersion", 1, 13, "unsupported apiVersion 'slaledger/v2'"},
        {"metadata.owner", 3, 23, "unknown field 'owner' in metadata"},
        {"spec.provider", 7, 13, "provider 'univie' is also the consumer"},
        {"spec.fee.amount", 9, 17, "has more decimals than the 2 of EUR"},
        {"spec.oracles.quorum", 11, 40, "quorum 3 is more than the 2 oracle members"},
        {"spec.objectives[0].target", 13, 75, "impossible target"},
        {"spec.penalties[0].objective", 15, 19, "unknown objective 'upp'"},
    };
    (void)state;
    expect_diags(doc, SL_EINVAL, want, sizeof(want) / sizeof(want[0]));
}

/* Cross-field rules still run beside field errors, and overflow keeps its own code. */
static void test_overflow_code_first(void **state)
{
    char *doc = th_replace(base_doc, "\"1000.00\"", "\"99999999999999999999\"");
    char *doc2 = th_replace(doc, "window: 1h", "window: 7d");
    static const want_diag want[] = {
        {"spec.fee.amount", 9, 17, "is too large"},
        {"spec.objectives[1].window", 19, 85, "overlaps the calendar-day billing windows"},
    };
    (void)state;
    expect_diags(doc2, SL_EOVERFLOW, want, 2);
    free(doc);
    free(doc2);
}

/* Two penalised objectives on the same service, metric and percentile could pay twice. */
static void test_penalty_overlap(void **state)
{
    /* Lines 20 (the new objective) to 24 (the latency penalty, now penalties[2]). */
    char *doc = th_replace(base_doc, "  penalties:\n",
                           "    - {name: latency2, metric: response_time, percentile: 95, "
                           "interval: 30s, window: 1h, target: \"<= 500ms\"}\n"
                           "  penalties:\n"
                           "    - {objective: latency2, per_violation: \"1.00\"}\n");
    static const want_diag want[] = {
        {"spec.penalties[2].objective", 24, 19,
         "objectives 'latency' and 'latency2' (penalised by spec.penalties[0]) measure the same "
         "service, metric and percentile"},
    };
    sl_agreement_spec *spec;
    char *ok;

    (void)state;
    assert_non_null(doc);
    expect_diags(doc, SL_EINVAL, want, 1);
    /* A different percentile measures something else: no overlap. */
    ok = th_replace(doc, "percentile: 95, interval: 30s", "percentile: 99, interval: 30s");
    spec = th_parse_ok(ok);
    assert_int_equal(spec->n_penalties, 3);
    sl_agreement_spec_free(spec);
    free(ok);
    free(doc);
}

/* More problems than SL_DIAGS_MAX: the list is full, the rest counted as dropped. */
static void test_diags_max(void **state)
{
    sl_buf b;
    sl_agreement_spec *spec = NULL;
    sl_diags d = {0};

    (void)state;
    sl_buf_init(&b);
    sl_buf_printf(&b, "apiVersion: slaledger/v1\nkind: Agreement\nmetadata: {name: x}\n");
    for (int i = 0; i < 150; i++)
        sl_buf_printf(&b, "bogus%d: %d\n", i, i);
    assert_non_null(sl_buf_cstr(&b));
    assert_int_equal(sl_sla_parse((const char *)b.p, b.len, NULL, &spec, &d), SL_EINVAL);
    assert_null(spec);
    assert_int_equal(d.n, SL_DIAGS_MAX);
    assert_int_equal(d.dropped, 151 - SL_DIAGS_MAX); /* 150 unknown fields + missing spec */
    assert_string_equal(d.v[0].field, "bogus0");
    assert_int_equal(d.v[0].line, 4);
    sl_diags_release(&d);
    sl_buf_release(&b);
}

/* No diags list: the code is still right and nothing leaks. */
static void test_null_diags(void **state)
{
    char *doc = th_replace(base_doc, "\">= 99.9%\"", "\">= 101%\"");
    sl_agreement_spec *spec = NULL;

    (void)state;
    assert_int_equal(sl_sla_parse(doc, strlen(doc), NULL, &spec, NULL), SL_EINVAL);
    assert_null(spec);
    assert_int_equal(sl_sla_parse("a: [", 4, NULL, &spec, NULL), SL_EPARSE);
    assert_null(spec);
    free(doc);
}

static void expect_one(const char *doc, int code, const char *field, int line, int column,
                       const char *msg)
{
    const want_diag w = {field, line, column, msg};
    expect_diags(doc, code, &w, 1);
}

/* Absurd durations must be refused, never overflow (UBSan would trap here). */
static void test_huge_durations(void **state)
{
    char *doc =
        th_replace(base_doc, "interval: 60s, window: 1h", "interval: 15000000000w, window: 1h");
    char *doc2 = th_replace(base_doc, "grace: 10s", "grace: 9223371000000000s");
    char *doc3 = th_replace(base_doc, "grace: 10s", "grace: 99999999999999999999s");
    static const want_diag want[] = {
        {"spec.period.start", 8, 19, "is not on the 15000000000w interval grid"},
        {"spec.period.end", 8, 46, "is not on the 15000000000w interval grid"},
        {"spec.objectives[1].window", 19, 94, "is not a multiple of its 15000000000w interval"},
    };

    (void)state;
    expect_diags(doc, SL_EINVAL, want, 3);
    expect_one(doc2, SL_EOVERFLOW, "spec.grace", 11, 10,
               "grace 9223371000000000s is too long: the period's end plus grace is out of range");
    expect_one(doc3, SL_EOVERFLOW, "spec.grace", 11, 10, "is too long");
    free(doc);
    free(doc2);
    free(doc3);
}

static void test_syntax_errors(void **state)
{
    (void)state;
    /* JSON with a missing comma; libfyaml points into the next key's string. */
    expect_one("{\n  \"apiVersion\": \"slaledger/v1\",\n  \"kind\": \"Agreement\"\n"
               "  \"metadata\": {}\n}\n",
               SL_EPARSE, "", 4, 4, "missing comma in flow mapping");
    /* An unterminated flow sequence. */
    expect_one("apiVersion: slaledger/v1\nkind: [Agreement\n", SL_EPARSE, "", 3, 1,
               "YAML syntax error");
    /* A tab used for indentation. */
    expect_one("spec:\n\tchannel: x\n", SL_EPARSE, "", 2, 1, "tab");
    /* Bytes libfyaml must never see: invalid UTF-8 (after '%' it would loop forever, elsewhere
     * end the document silently) and control characters. Columns count characters. */
    expect_one("apiVersion: slaledger/v1\nkind: \xff\n", SL_EPARSE, "", 2, 7,
               "invalid UTF-8 byte 0xff");
    expect_one("%\xff\xff", SL_EPARSE, "", 1, 2, "invalid UTF-8 byte 0xff");
    expect_one("a: \xc3\xa9\x01", SL_EPARSE, "", 1, 5, "control character 0x01");
    expect_one("a: b\fc: d\n", SL_EPARSE, "", 1, 5, "control character 0x0c");
    expect_one("a: \xc0\xaf", SL_EPARSE, "", 1, 4, "invalid UTF-8 byte 0xc0");     /* overlong */
    expect_one("a: \xed\xa0\x80", SL_EPARSE, "", 1, 4, "invalid UTF-8 byte 0xed"); /* surrogate */
    expect_one("a: \xf4\x90\x80\x80", SL_EPARSE, "", 1, 4, "byte 0xf4");           /* > U+10FFFF */
    expect_one("a: \xe2\x82", SL_EPARSE, "", 1, 4, "byte 0xe2");                   /* truncated */
    /* Runs of escaped apostrophes make libfyaml 0.7.12 leak: refused; one '' is fine. */
    expect_one("a: 'x''''y'\n", SL_EPARSE, "", 1, 9, "four or more apostrophes in a row");
    /* An unquoted target starts a folded block scalar: the message says to quote it. */
    expect_one("target: >= 99.95%\n", SL_EPARSE, "", 1, 10, "must be quoted");
}

static void test_structure_errors(void **state)
{
    char deep[256];
    size_t n = 0;

    (void)state;
    expect_one("", SL_EINVAL, "", 1, 1, "the document is empty");
    expect_one("# nothing but a comment\n", SL_EINVAL, "", 1, 1, "the document is empty");
    expect_one("- a\n- b\n", SL_EINVAL, "", 1, 1, "expected a mapping, found a list");
    expect_one("? [a, b]\n: c\n", SL_EPARSE, "", 1, 3, "a mapping key must be a plain string");
    for (int i = 0; i < 40; i++)
        deep[n++] = '[';
    for (int i = 0; i < 40; i++)
        deep[n++] = ']';
    deep[n] = '\0';
    expect_one(deep, SL_EPARSE, "", 1, 33, "nested too deeply");
}

/* The peak resident memory (kB) since the last call, or -1 where /proc cannot say: writing 5
 * to clear_refs resets VmHWM. */
static long peak_kb_reset(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kb = -1;

    while (f && fgets(line, sizeof(line), f)) {
        if (strncmp(line, "VmHWM:", 6) == 0)
            kb = strtol(line + 6, NULL, 10);
    }
    if (f)
        fclose(f);
    f = fopen("/proc/self/clear_refs", "w");
    if (!f || fputs("5", f) < 0)
        kb = -1;
    if (f && fclose(f) != 0)
        kb = -1;
    return kb;
}

/* n copies of unit after head, NUL-terminated; the caller frees. */
static char *repeat(const char *head, const char *unit, size_t n)
{
    size_t hl = strlen(head), ul = strlen(unit);
    char *s = malloc(hl + ul * n + 1);

    assert_non_null(s);
    memcpy(s, head, hl);
    for (size_t i = 0; i < n; i++)
        memcpy(s + hl + i * ul, unit, ul);
    s[hl + ul * n] = '\0';
    return s;
}

/* 1 MiB of "[" cost libfyaml ~350 MB before the depth check saw its first event: the text is
 * refused where the 33rd level opens, and the parse stays small (ASan's overhead included). */
static void test_deep_flow_is_cheap(void **state)
{
    char *deep = repeat("", "[", 1u << 20);
    char *flat = repeat("[", "1, ", 350000);
    char *scalar = repeat("a: ", "x", 100000);
    long before, peak;

    (void)state;
    before = peak_kb_reset();
    expect_one(deep, SL_EPARSE, "", 1, 33, "nested too deeply for an agreement: more than 32");
    peak = peak_kb_reset();
    if (before > 0 && peak > 0)
        assert_true(peak - before < 100 * 1024);
    /* A flat flow list at the root may be a key, so it is scanned whole: refused where it
     * starts once it runs past 64 KiB. So is a scalar that long. */
    expect_one(flat, SL_EPARSE, "", 1, 1, "more than 64 KiB from here");
    expect_one(scalar, SL_EPARSE, "", 1, 4, "more than 64 KiB from here");
    free(deep);
    free(flat);
    free(scalar);
}

/* A NUL byte inside the given length is refused, not taken as the end of the text. */
static void test_nul_byte(void **state)
{
    static const char doc[] = "apiVersion: slaledger/v1\nkind: Agree\0ment\n";
    sl_agreement_spec *spec = NULL;
    sl_diags d = {0};

    (void)state;
    assert_int_equal(sl_sla_parse(doc, sizeof(doc) - 1, NULL, &spec, &d), SL_EPARSE);
    assert_null(spec);
    assert_int_equal(d.n, 1);
    assert_int_equal(d.v[0].line, 2);
    assert_int_equal(d.v[0].column, 12);
    assert_non_null(strstr(d.v[0].msg, "control character 0x00"));
    sl_diags_release(&d);
}

static void test_bad_arguments(void **state)
{
    sl_agreement_spec *spec = (sl_agreement_spec *)1;
    sl_diags d = {0};

    (void)state;
    assert_int_equal(sl_sla_parse(NULL, 5, NULL, &spec, &d), SL_EINVAL);
    assert_null(spec);
    assert_int_equal(sl_sla_parse("a: 1", 4, NULL, NULL, &d), SL_EINVAL);
    assert_int_equal(d.n, 2);
    sl_diags_release(&d);
    sl_agreement_spec_free(NULL);
}

static void test_unreadable_file(void **state)
{
    sl_agreement_spec *spec = (sl_agreement_spec *)1;
    sl_diags d = {0};
    char *dir = th_source_path("examples");

    (void)state;
    assert_int_equal(sl_sla_parse_file("/nonexistent/agreement.yaml", &spec, &d), SL_EIO);
    assert_null(spec);
    assert_int_equal(d.n, 1);
    assert_int_equal(d.v[0].code, SL_EIO);
    assert_int_equal(d.v[0].line, 0);
    assert_non_null(strstr(d.v[0].msg, "/nonexistent/agreement.yaml"));
    assert_non_null(strstr(d.v[0].msg, "No such file"));
    /* A directory opens but cannot be read. */
    assert_int_equal(sl_sla_parse_file(dir, &spec, &d), SL_EIO);
    assert_int_equal(d.n, 2);
    sl_diags_release(&d);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_base_valid),       cmocka_unit_test(test_table),
        cmocka_unit_test(test_several_errors),   cmocka_unit_test(test_overflow_code_first),
        cmocka_unit_test(test_penalty_overlap),  cmocka_unit_test(test_diags_max),
        cmocka_unit_test(test_null_diags),       cmocka_unit_test(test_syntax_errors),
        cmocka_unit_test(test_structure_errors), cmocka_unit_test(test_deep_flow_is_cheap),
        cmocka_unit_test(test_nul_byte),         cmocka_unit_test(test_bad_arguments),
        cmocka_unit_test(test_huge_durations),   cmocka_unit_test(test_unreadable_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
