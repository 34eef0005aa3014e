/*
 * test_prometheus.c: the Prometheus adapter without a network: the exact query_range URL it
 * builds (whole and fractional seconds, a base URL with a trailing slash) and the queries it
 * refuses; responses read into samples (values, gaps, NaN and infinities, several series, an
 * error envelope, malformed bodies, fractional timestamps, timestamps off the interval grid);
 * and the exact decimal conversion of values per metric. Includes prometheus.c to reach its
 * value parser. A measurement (measure.c) of more intervals than one query may hold is asked
 * for in chunks, one request each, and its samples concatenated.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "oracle/prometheus.c"

/* 2023-11-14T22:13:00Z, a multiple of a minute. */
#define T0          1699999980000LL
#define MAX_SAMPLES 16

typedef struct fixture {
    sl_kv source[2];
    sl_service_spec service;
    sl_objective_spec objective;
    sl_source_query q;
    sl_sample samples[MAX_SAMPLES];
    size_t n;
} fixture;

/* A prometheus service and an objective of metric m with interval iv over n intervals from
 * T0; samples set up as a caller does (start_ms set, all "no datapoint"). */
static void setup(fixture *f, sl_metric m, int64_t iv, size_t n)
{
    memset(f, 0, sizeof(*f));
    f->source[0] = (sl_kv){"url", "http://127.0.0.1:9090"};
    f->service = (sl_service_spec){"api", SL_SVC_PROMETHEUS, f->source, 1};
    f->objective.name = "uptime";
    f->objective.metric = m;
    f->objective.interval_ms = iv;
    f->objective.query = "avg_over_time(up{job=\"gw\"}[1m])";
    f->q = (sl_source_query){&f->service, &f->objective, NULL, T0, T0 + iv * (int64_t)n, T0};
    f->n = n;
    for (size_t i = 0; i < n; i++)
        f->samples[i].start_ms = T0 + iv * (int64_t)i;
    sl_samples_unknown(f->samples, n, "no datapoint");
}

static void set_body(sl_http_resp *r, long status, const char *body)
{
    sl_http_resp_init(r);
    r->status = status;
    sl_buf_put(&r->body, body, strlen(body));
}

/* Parses a 200 response with body into f's samples. */
static int parse(fixture *f, const char *body, sl_error *err)
{
    sl_http_resp r;
    int rc;

    set_body(&r, 200, body);
    rc = sl_prometheus_parse(&f->q, &r, f->samples, err);
    sl_http_resp_release(&r);
    return rc;
}

static void assert_known(const sl_sample *s, int64_t value)
{
    if (!s->known)
        fail_msg("sample at %lld unknown: %s", (long long)s->start_ms, s->reason);
    assert_int_equal(s->value, value);
}

static void assert_unknown(const sl_sample *s, const char *reason)
{
    if (s->known)
        fail_msg("sample at %lld known (%lld), expected \"%s\"", (long long)s->start_ms,
                 (long long)s->value, reason);
    assert_string_equal(s->reason, reason);
}

/* ---- requests ---- */

static void test_request_url(void **state)
{
    fixture f;
    sl_http_req r;
    sl_error err = {0};

    (void)state;
    setup(&f, SL_METRIC_AVAILABILITY, 60000, 5);
    assert_int_equal(sl_prometheus_request(&f.q, &r, &err), 0);
    assert_string_equal(r.method, "GET");
    assert_string_equal(r.url, "http://127.0.0.1:9090/api/v1/query_range"
                               "?query=avg_over_time%28up%7Bjob%3D%22gw%22%7D%5B1m%5D%29"
                               "&start=1700000040&end=1700000280&step=60s");
    assert_int_equal(r.n_headers, 1);
    assert_string_equal(r.headers[0], "Accept: application/json");
    assert_int_equal(r.body.len, 0);
    sl_http_req_release(&r);

    /* A base with a path and trailing slashes; a sub-second interval grid. */
    f.source[0].value = "https://mon.example/prom//";
    f.objective.interval_ms = 1500;
    f.objective.query = "up";
    f.q.from_ms = 3000;
    f.q.to_ms = 6000;
    assert_int_equal(sl_prometheus_request(&f.q, &r, &err), 0);
    assert_string_equal(r.url, "https://mon.example/prom/api/v1/query_range"
                               "?query=up&start=4.5&end=6&step=1500ms");
    sl_http_req_release(&r);
}

static void expect_refused(fixture *f, const char *msg)
{
    sl_http_req r;
    sl_error err = {0};

    assert_int_equal(sl_prometheus_request(&f->q, &r, &err), SL_EINVAL);
    assert_int_equal(err.code, SL_EINVAL);
    if (!strstr(err.msg, msg))
        fail_msg("message \"%s\" lacks \"%s\"", err.msg, msg);
    assert_null(r.url);
    assert_int_equal(r.n_headers, 0);
    sl_http_req_release(&r);
}

static void test_request_refused(void **state)
{
    fixture f;
    sl_credential cred = {0};

    (void)state;
    setup(&f, SL_METRIC_AVAILABILITY, 60000, 5);
    f.objective.query = NULL;
    expect_refused(&f, "has no query");
    f.objective.query = "";
    expect_refused(&f, "has no query");

    setup(&f, SL_METRIC_AVAILABILITY, 60000, 5);
    cred.name = "prom-reader";
    f.q.credential = &cred;
    expect_refused(&f, "prometheus credentials are not supported yet");

    setup(&f, SL_METRIC_AVAILABILITY, 60000, 5);
    f.service.kind = SL_SVC_HTTP;
    expect_refused(&f, "not prometheus");

    setup(&f, SL_METRIC_AVAILABILITY, 60000, 5);
    f.service.n_source = 0;
    expect_refused(&f, "no source.url");

    setup(&f, SL_METRIC_AVAILABILITY, 60000, 5);
    f.q.to_ms += 1;
    expect_refused(&f, "whole number of intervals");
    f.q.to_ms = f.q.from_ms;
    expect_refused(&f, "whole number of intervals");

    setup(&f, SL_METRIC_AVAILABILITY, 1000, 5);
    f.q.to_ms = f.q.from_ms + 11001 * 1000LL;
    expect_refused(&f, "at most 11000 intervals");
    f.q.to_ms = f.q.from_ms + 11000 * 1000LL;
    {
        sl_http_req r;
        assert_int_equal(sl_prometheus_request(&f.q, &r, NULL), 0);
        sl_http_req_release(&r);
    }
}

/* ---- responses ---- */

static void test_parse_good(void **state)
{
    fixture f;
    sl_error err = {0};

    (void)state;
    setup(&f, SL_METRIC_AVAILABILITY, 60000, 4);
    assert_int_equal(parse(&f,
                           "{\"status\":\"success\",\"data\":{\"resultType\":\"matrix\","
                           "\"result\":[{\"metric\":{\"job\":\"gw\"},\"values\":["
                           "[1700000040,\"1\"],[1700000100,\"0.999\"],"
                           "[1700000160,\"0\"],[1700000220,\"0.9999995\"]]}]}}",
                           &err),
                     0);
    assert_known(&f.samples[0], 1000000);
    assert_known(&f.samples[1], 999000);
    assert_known(&f.samples[2], 0);
    assert_known(&f.samples[3], 1000000); /* 999999.5 rounds up */
    assert_string_equal(f.samples[0].reason, "");
}

static void test_parse_gaps_and_specials(void **state)
{
    fixture f;

    (void)state;
    setup(&f, SL_METRIC_AVAILABILITY, 60000, 6);
    assert_int_equal(parse(&f,
                           "{\"status\":\"success\",\"warnings\":[\"w\"],\"data\":{"
                           "\"resultType\":\"matrix\",\"result\":[{\"metric\":{},\"values\":["
                           "[1700000040,\"NaN\"],[1700000160,\"+Inf\"],[1700000220,\"-Inf\"],"
                           "[1700000280,\"1.5\"],[1700000340,\"abc\\n\"]]}]}}",
                           NULL),
                     0);
    assert_unknown(&f.samples[0], "value is NaN");
    assert_unknown(&f.samples[1], "no datapoint"); /* the step Prometheus left out */
    assert_unknown(&f.samples[2], "value is +Inf");
    assert_unknown(&f.samples[3], "value is -Inf");
    assert_unknown(&f.samples[4], "availability 1.5 outside 0..1");
    assert_unknown(&f.samples[5], "value \"abc?\" is not a number");
}

static void test_parse_no_series(void **state)
{
    fixture f;

    (void)state;
    setup(&f, SL_METRIC_AVAILABILITY, 60000, 3);
    assert_int_equal(
        parse(&f, "{\"status\":\"success\",\"data\":{\"resultType\":\"matrix\",\"result\":[]}}",
              NULL),
        0);
    for (size_t i = 0; i < 3; i++)
        assert_unknown(&f.samples[i], "no series");
}

static void assert_untouched(const fixture *f)
{
    for (size_t i = 0; i < f->n; i++) {
        assert_int_equal(f->samples[i].start_ms, T0 + f->objective.interval_ms * (int64_t)i);
        assert_unknown(&f->samples[i], "no datapoint");
    }
}

static void test_parse_several_series(void **state)
{
    fixture f;
    sl_error err = {0};

    (void)state;
    setup(&f, SL_METRIC_AVAILABILITY, 60000, 2);
    assert_int_equal(parse(&f,
                           "{\"status\":\"success\",\"data\":{\"resultType\":\"matrix\","
                           "\"result\":[{\"metric\":{\"i\":\"a\"},\"values\":[[1700000040,\"1\"]]},"
                           "{\"metric\":{\"i\":\"b\"},\"values\":[[1700000040,\"0\"]]}]}}",
                           &err),
                     SL_EINVAL);
    assert_string_equal(err.msg, "query returned 2 series; it must return one");
    assert_untouched(&f);
}

/* A response of the given HTTP status and body: expects code and a message containing msg,
 * and samples left alone. */
static void expect_error(long status, const char *body, int code, const char *msg)
{
    fixture f;
    sl_http_resp r;
    sl_error err = {0};

    setup(&f, SL_METRIC_AVAILABILITY, 60000, 2);
    set_body(&r, status, body);
    assert_int_equal(sl_prometheus_parse(&f.q, &r, f.samples, &err), code);
    sl_http_resp_release(&r);
    if (!strstr(err.msg, msg))
        fail_msg("HTTP %ld %s: message \"%s\" lacks \"%s\"", status, body, err.msg, msg);
    assert_untouched(&f);
}

static void test_parse_errors(void **state)
{
    (void)state;
    expect_error(400,
                 "{\"status\":\"error\",\"errorType\":\"bad_data\","
                 "\"error\":\"1:14: parse error: unexpected right bracket\"}",
                 SL_EIO, "bad_data: 1:14: parse error: unexpected right bracket");
    expect_error(422, "{\"status\":\"error\",\"errorType\":\"execution\",\"error\":\"boom\"}",
                 SL_EIO, "(HTTP 422) execution: boom");
    expect_error(503, "{\"status\":\"error\",\"errorType\":\"timeout\",\"error\":\"slow\"}", SL_EIO,
                 "timeout: slow");
    expect_error(502, "<html>Bad Gateway</html>", SL_EIO, "HTTP 502");
    expect_error(401, "Unauthorized", SL_EAUTH, "HTTP 401");
    expect_error(403, "", SL_EAUTH, "HTTP 403");
    expect_error(200, "", SL_EPARSE, "not JSON");
    expect_error(200, "{\"status\":\"success\",\"data\":", SL_EPARSE, "not JSON");
    expect_error(200, "[1,2]", SL_EPARSE, "status");
    expect_error(200, "{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":[]}}",
                 SL_EPARSE, "resultType vector, not matrix");
    expect_error(200, "{\"status\":\"success\",\"data\":{\"resultType\":\"matrix\"}}", SL_EPARSE,
                 "not an array");
    expect_error(200,
                 "{\"status\":\"success\",\"data\":{\"resultType\":\"matrix\",\"result\":[{}]}}",
                 SL_EPARSE, "series without values");
    /* One malformed point refuses the whole series, including the good point before it. */
    expect_error(200,
                 "{\"status\":\"success\",\"data\":{\"resultType\":\"matrix\",\"result\":[{"
                 "\"values\":[[1700000040,\"1\"],[1700000100,1]]}]}}",
                 SL_EPARSE, "point 1 is not");
    expect_error(200,
                 "{\"status\":\"success\",\"data\":{\"resultType\":\"matrix\",\"result\":[{"
                 "\"values\":[[\"1700000040\",\"1\"]]}]}}",
                 SL_EPARSE, "point 0 is not");
    expect_error(200,
                 "{\"status\":\"success\",\"data\":{\"resultType\":\"matrix\",\"result\":[{"
                 "\"values\":[[1e300,\"1\"]]}]}}",
                 SL_EPARSE, "point 0 is not");
    expect_error(200,
                 "{\"status\":\"success\",\"data\":{\"resultType\":\"matrix\",\"result\":[{"
                 "\"values\":[[1700000040,\"1\",3]]}]}}",
                 SL_EPARSE, "point 0 is not");
}

static void test_parse_transport_failure(void **state)
{
    fixture f;
    sl_http_resp r;
    sl_error err = {0};

    (void)state;
    setup(&f, SL_METRIC_AVAILABILITY, 60000, 2);
    sl_http_resp_init(&r);
    r.failed = 1;
    sl_strfmt(r.error, sizeof(r.error), "Couldn't connect to server");
    assert_int_equal(sl_prometheus_parse(&f.q, &r, f.samples, &err), SL_EIO);
    assert_non_null(strstr(err.msg, "Couldn't connect to server"));
    assert_untouched(&f);
}

static void test_parse_fractional_timestamps(void **state)
{
    fixture f;

    (void)state;
    /* Intervals of 1.5 s: [T0, T0+1.5s), [T0+1.5s, T0+3s), [T0+3s, T0+4.5s). */
    setup(&f, SL_METRIC_AVAILABILITY, 1500, 3);
    assert_int_equal(parse(&f,
                           "{\"status\":\"success\",\"data\":{\"resultType\":\"matrix\","
                           "\"result\":[{\"metric\":{},\"values\":["
                           "[1699999981.5,\"0.25\"],[1699999982,\"0.1\"],"
                           "[1699999983.0,\"0.5\"],[1699999984.5,\"1\"],"
                           "[1699999986,\"1\"],[1699999980,\"1\"]]}]}}",
                           NULL),
                     0);
    assert_known(&f.samples[0], 250000);
    assert_known(&f.samples[1], 500000); /* 1699999983.0 is a real, not an integer */
    assert_known(&f.samples[2], 1000000);
    /* 1699999982 (off the grid), 1699999986 (after to) and 1699999980 (the start of the first
     * interval, not an end) were ignored: nothing else changed. */

    /* A timestamp that is an interval end in the requested range only after rounding to ms. */
    setup(&f, SL_METRIC_AVAILABILITY, 1500, 1);
    assert_int_equal(parse(&f,
                           "{\"status\":\"success\",\"data\":{\"resultType\":\"matrix\","
                           "\"result\":[{\"metric\":{},\"values\":[[1699999981.5004,\"1\"]]}]}}",
                           NULL),
                     0);
    assert_known(&f.samples[0], 1000000);
}

static void test_parse_sample_grid_mismatch(void **state)
{
    fixture f;

    (void)state;
    /* Samples whose start_ms disagrees with the query's grid are not written. */
    setup(&f, SL_METRIC_AVAILABILITY, 60000, 2);
    f.samples[1].start_ms += 1;
    assert_int_equal(parse(&f,
                           "{\"status\":\"success\",\"data\":{\"resultType\":\"matrix\","
                           "\"result\":[{\"metric\":{},\"values\":["
                           "[1700000040,\"1\"],[1700000100,\"1\"]]}]}}",
                           NULL),
                     0);
    assert_known(&f.samples[0], 1000000);
    assert_unknown(&f.samples[1], "no datapoint");
}

/* ---- values ---- */

typedef struct conv_case {
    sl_metric metric;
    const char *text;
    int known;
    int64_t value;      /* when known */
    const char *reason; /* when unknown */
} conv_case;

static const conv_case conv_cases[] = {
    {SL_METRIC_AVAILABILITY, "1", 1, 1000000, NULL},
    {SL_METRIC_AVAILABILITY, "0", 1, 0, NULL},
    {SL_METRIC_AVAILABILITY, "0.999", 1, 999000, NULL},
    {SL_METRIC_AVAILABILITY, "0.99995", 1, 999950, NULL},
    {SL_METRIC_AVAILABILITY, "0.9999994999", 1, 999999, NULL},
    {SL_METRIC_AVAILABILITY, "0.0000005", 1, 1, NULL},
    {SL_METRIC_AVAILABILITY, "1e-05", 1, 10, NULL},
    {SL_METRIC_AVAILABILITY, "1E-3", 1, 1000, NULL},
    {SL_METRIC_AVAILABILITY, "9.9999e-1", 1, 999990, NULL},
    {SL_METRIC_AVAILABILITY, "1e-07", 1, 0, NULL},
    {SL_METRIC_AVAILABILITY, ".5", 1, 500000, NULL},
    {SL_METRIC_AVAILABILITY, "-0", 1, 0, NULL},
    {SL_METRIC_AVAILABILITY, "+0.25", 1, 250000, NULL},
    {SL_METRIC_AVAILABILITY, "0000.5000", 1, 500000, NULL},
    {SL_METRIC_AVAILABILITY, "1.0000000000000002", 1, 1000000, NULL},
    {SL_METRIC_AVAILABILITY, "0.33333333333333333333333333333333333333333333333333", 1, 333333,
     NULL},
    {SL_METRIC_AVAILABILITY, "0.66666666666666666666666666666666666666666666666666", 1, 666667,
     NULL},
    {SL_METRIC_AVAILABILITY, "1.5", 0, 0, "availability 1.5 outside 0..1"},
    {SL_METRIC_AVAILABILITY, "-0.1", 0, 0, "availability -0.1 outside 0..1"},
    {SL_METRIC_AVAILABILITY, "1.0000005", 0, 0, "availability 1.0000005 outside 0..1"},
    {SL_METRIC_AVAILABILITY, "NaN", 0, 0, "value is NaN"},
    {SL_METRIC_AVAILABILITY, "nan", 0, 0, "value is NaN"},
    {SL_METRIC_AVAILABILITY, "+Inf", 0, 0, "value is +Inf"},
    {SL_METRIC_AVAILABILITY, "Inf", 0, 0, "value is +Inf"},
    {SL_METRIC_AVAILABILITY, "-Inf", 0, 0, "value is -Inf"},
    {SL_METRIC_AVAILABILITY, "-infinity", 0, 0, "value is -Inf"},
    {SL_METRIC_RESPONSE_TIME, "0.25", 1, 250, NULL},
    {SL_METRIC_RESPONSE_TIME, "0.2505", 1, 251, NULL},
    {SL_METRIC_RESPONSE_TIME, "0.2504999", 1, 250, NULL},
    {SL_METRIC_RESPONSE_TIME, "0.0004", 1, 0, NULL},
    {SL_METRIC_RESPONSE_TIME, "1e-3", 1, 1, NULL},
    {SL_METRIC_RESPONSE_TIME, "12.", 1, 12000, NULL},
    {SL_METRIC_RESPONSE_TIME, "9223372036854775.807", 1, INT64_MAX, NULL},
    {SL_METRIC_RESPONSE_TIME, "9223372036854775.808", 0, 0,
     "value 9223372036854775.808 out of range"},
    {SL_METRIC_RESPONSE_TIME, "1e30", 0, 0, "value 1e30 out of range"},
    {SL_METRIC_RESPONSE_TIME, "1e999999999999", 0, 0, "value 1e999999999999 out of range"},
    {SL_METRIC_RESPONSE_TIME, "1e-999999999999", 1, 0, NULL},
    {SL_METRIC_RESPONSE_TIME, "-0.5", 0, 0, "response_time -0.5 is negative"},
    {SL_METRIC_PROCESSING_TIME, "3.2e1", 1, 32000, NULL},
    {SL_METRIC_DELAY, "0.0015", 1, 2, NULL},
    {SL_METRIC_THROUGHPUT, "250", 1, 250000, NULL},
    {SL_METRIC_THROUGHPUT, "123.4567", 1, 123457, NULL},
    {SL_METRIC_THROUGHPUT, "2.5e+2", 1, 250000, NULL},
    {SL_METRIC_THROUGHPUT, "-1", 0, 0, "throughput -1 is negative"},
    {SL_METRIC_ERROR_RATE, "0.005", 1, 5000, NULL},
    {SL_METRIC_ERROR_RATE, "0", 1, 0, NULL},
    {SL_METRIC_ERROR_RATE, "2", 0, 0, "error rate 2 outside 0..1"},
    {SL_METRIC_DURABILITY, "1", 1, 1, NULL},
    {SL_METRIC_INTEGRITY, "0", 1, 0, NULL},
    {SL_METRIC_DELETION, "0.5", 0, 0, "check value 0.5 is neither 0 nor 1"},
    {SL_METRIC_AVAILABILITY, "", 0, 0, "value \"\" is not a number"},
    {SL_METRIC_AVAILABILITY, ".", 0, 0, "value \".\" is not a number"},
    {SL_METRIC_AVAILABILITY, "1e", 0, 0, "value \"1e\" is not a number"},
    {SL_METRIC_AVAILABILITY, "1e+", 0, 0, "value \"1e+\" is not a number"},
    {SL_METRIC_AVAILABILITY, "e5", 0, 0, "value \"e5\" is not a number"},
    {SL_METRIC_AVAILABILITY, "0x1", 0, 0, "value \"0x1\" is not a number"},
    {SL_METRIC_AVAILABILITY, "1_0", 0, 0, "value \"1_0\" is not a number"},
    {SL_METRIC_AVAILABILITY, "1.2.3", 0, 0, "value \"1.2.3\" is not a number"},
    {SL_METRIC_AVAILABILITY, " 1", 0, 0, "value \" 1\" is not a number"},
    {SL_METRIC_AVAILABILITY, "1 ", 0, 0, "value \"1 \" is not a number"},
    {SL_METRIC_AVAILABILITY, "--1", 0, 0, "value \"--1\" is not a number"},
    {SL_METRIC_AVAILABILITY, "+NaN", 0, 0, "value \"+NaN\" is not a number"},
    {SL_METRIC_AVAILABILITY, "1,5", 0, 0, "value \"1,5\" is not a number"},
};

static void test_conversion(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(conv_cases) / sizeof(conv_cases[0]); i++) {
        const conv_case *c = &conv_cases[i];
        sl_sample s = {.start_ms = 0, .value = -7, .known = 0, .reason = "no datapoint"};
        convert(&s, c->metric, c->text, strlen(c->text));
        if (c->known && (!s.known || s.value != c->value))
            fail_msg("%s \"%s\": expected %lld, got %s %lld (%s)", sl_metric_name(c->metric),
                     c->text, (long long)c->value, s.known ? "known" : "unknown",
                     (long long)s.value, s.reason);
        if (!c->known && (s.known || strcmp(s.reason, c->reason) != 0))
            fail_msg("%s \"%s\": expected unknown \"%s\", got %s %lld (%s)",
                     sl_metric_name(c->metric), c->text, c->reason, s.known ? "known" : "unknown",
                     (long long)s.value, s.reason);
        if (c->known)
            assert_string_equal(s.reason, "");
    }
}

/* A value through the whole parser: the response body carries it as a JSON string. */
static void test_conversion_through_parse(void **state)
{
    static const struct {
        sl_metric m;
        const char *json_value;
        int64_t want;
    } cases[] = {
        {SL_METRIC_RESPONSE_TIME, "\"0.1234\"", 123},
        {SL_METRIC_PROCESSING_TIME, "\"75\"", 75000},
        {SL_METRIC_DELAY, "\"2e-3\"", 2},
        {SL_METRIC_THROUGHPUT, "\"0.5\"", 500},
        {SL_METRIC_ERROR_RATE, "\"1e-4\"", 100},
        {SL_METRIC_AVAILABILITY, "\"0.5\"", 500000},
    };
    char body[256];

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        fixture f;
        setup(&f, cases[i].m, 300000, 1);
        snprintf(body, sizeof(body),
                 "{\"status\":\"success\",\"data\":{\"resultType\":\"matrix\",\"result\":[{"
                 "\"metric\":{},\"values\":[[1700000280,%s]]}]}}",
                 cases[i].json_value);
        assert_int_equal(parse(&f, body, NULL), 0);
        assert_known(&f.samples[0], cases[i].want);
    }
}

/* A value string with an embedded NUL is not a number, and the reason stays printable. */
static void test_value_with_nul(void **state)
{
    sl_sample s = {0};

    (void)state;
    convert(&s, SL_METRIC_AVAILABILITY, "1\0x", 3);
    assert_int_equal(s.known, 0);
    assert_string_equal(s.reason, "value \"1?x\" is not a number");
}

/* ---- measurements longer than Prometheus allows per query ---- */

/* Answers the request of one chunk [from, from + count intervals) of 60 s intervals: "1" at
 * its first interval's end, "0" at its last. Checks the URL asks for exactly that chunk. */
static void answer_chunk(sl_measure *m, const sl_http_req *req, size_t done, size_t count)
{
    char want[160], body[256];
    long long first = T0 / 1000 + (long long)(done + 1) * 60;
    long long last = T0 / 1000 + (long long)(done + count) * 60;
    sl_http_resp r;
    sl_error err = {0};

    snprintf(want, sizeof(want), "&start=%lld&end=%lld&step=60s", first, last);
    if (!strstr(req->url, want))
        fail_msg("request %s does not ask for %s", req->url, want);
    snprintf(body, sizeof(body),
             "{\"status\":\"success\",\"data\":{\"resultType\":\"matrix\",\"result\":"
             "[{\"metric\":{},\"values\":[[%lld,\"1\"],[%lld,\"0\"]]}]}}",
             first, last);
    set_body(&r, 200, body);
    assert_int_equal(sl_measure_feed(m, &r, &err), 0);
    sl_http_resp_release(&r);
}

static void test_measure_splits_long_ranges(void **state)
{
    const size_t n = 2 * SL_PROMETHEUS_MAX_POINTS + 5, chunks[] = {11000, 11000, 5};
    size_t requests = 0, done = 0;
    fixture f;
    sl_measure m;
    sl_error err = {0};

    (void)state;
    setup(&f, SL_METRIC_AVAILABILITY, 60000, 1);
    f.q.to_ms = T0 + 60000 * (int64_t)n;
    assert_int_equal(sl_measure_init(&m, &f.q, NULL, &err), 0);
    for (;;) {
        sl_http_req req;
        sl_http_req_init(&req);
        int rc = sl_measure_next(&m, &req, &err);
        if (rc == 0) {
            sl_http_req_release(&req);
            break;
        }
        if (rc != 1 || requests >= 3)
            fail_msg("request %zu: rc %d (%s)", requests, rc, err.msg);
        answer_chunk(&m, &req, done, chunks[requests]);
        done += chunks[requests++];
        sl_http_req_release(&req);
    }
    assert_int_equal(requests, 3);
    assert_int_equal(m.n, n);
    /* The chunks' samples sit side by side: known at each chunk's edges, unknown between. */
    for (size_t i = 0, at = 0; i < 3; at += chunks[i++]) {
        assert_known(&m.samples[at], 1000000);
        assert_known(&m.samples[at + chunks[i] - 1], 0);
        if (chunks[i] > 2)
            assert_unknown(&m.samples[at + 1], "no datapoint");
    }
    for (size_t i = 0; i < n; i++)
        assert_int_equal(m.samples[i].start_ms, T0 + 60000 * (int64_t)i);
    sl_measure_release(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_request_url),
        cmocka_unit_test(test_request_refused),
        cmocka_unit_test(test_parse_good),
        cmocka_unit_test(test_parse_gaps_and_specials),
        cmocka_unit_test(test_parse_no_series),
        cmocka_unit_test(test_parse_several_series),
        cmocka_unit_test(test_parse_errors),
        cmocka_unit_test(test_parse_transport_failure),
        cmocka_unit_test(test_parse_fractional_timestamps),
        cmocka_unit_test(test_parse_sample_grid_mismatch),
        cmocka_unit_test(test_conversion),
        cmocka_unit_test(test_conversion_through_parse),
        cmocka_unit_test(test_value_with_nul),
        cmocka_unit_test(test_measure_splits_long_ranges),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
