/*
 * test_azure.c: the Azure Monitor adapter. Offline: the token and metrics request builders
 * (URL, query parameters, form body, headers, refusals), the token and metrics parsers (good
 * bodies, gaps, fractions, malformed bodies, the identity platform's and ARM's error answers,
 * expires_in as a string) and token staleness. Live: the stand-in $SL_BUILD_DIR/tool_azure is
 * started on 127.0.0.1 with a scripted outage, and the adapter goes through it over the real
 * transport: token, metrics, exact samples; a wrong secret; a token that expired (--token-ttl
 * 1); an unknown VM; a fault; intervals that have not ended yet; the tool's count of issued
 * tokens on exit; and a tool on a sped-up clock (--speed, --since), by which its tokens
 * expire, its intervals end and its faults begin. Includes azure.c to reach its static ISO 8601
 * duration writer.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "oracle/azure.c"

#define T0          1704067200000LL /* 2024-01-01T00:00:00Z */
#define MINUTE      60000LL
#define TENANT      "8e7d6c5b-4a39-4281-b0c1-d2e3f4a5b6c7"
#define CLIENT      "0a1b2c3d-app"
#define SECRET      "s3cr+t/=~x y"
#define MAX_KV      10
#define LIVE_SECRET "s3cr+t/=~x%41" /* the clients file splits on spaces */
#define SPEED       600             /* the sped-up tool: 10 of its minutes per wall second */

/* ---- fixtures: a service, an objective, a credential and a query ---- */

typedef struct fixture {
    sl_kv kv[MAX_KV];
    sl_service_spec svc;
    sl_objective_spec obj;
    sl_credential cred;
    sl_source_query q;
} fixture;

static void set_kv(fixture *f, const char *key, const char *value)
{
    for (size_t i = 0; i < f->svc.n_source; i++) {
        if (strcmp(f->kv[i].key, key) == 0) {
            f->kv[i].value = (char *)value;
            return;
        }
    }
    assert_true(f->svc.n_source < MAX_KV);
    f->kv[f->svc.n_source].key = (char *)key;
    f->kv[f->svc.n_source++].value = (char *)value;
}

static void del_kv(fixture *f, const char *key)
{
    for (size_t i = 0; i < f->svc.n_source; i++) {
        if (strcmp(f->kv[i].key, key) == 0) {
            f->kv[i] = f->kv[--f->svc.n_source];
            return;
        }
    }
}

/* app-02 in rg-apps of subscription sub-1, one availability objective of 1-minute intervals,
 * the query [T0, T0 + 10 min). */
static void fixture_init(fixture *f)
{
    memset(f, 0, sizeof(*f));
    f->svc.name = (char *)"app-02";
    f->svc.kind = SL_SVC_AZURE_VM;
    f->svc.source = f->kv;
    set_kv(f, "credentials", "azure-main");
    set_kv(f, "resource_group", "rg-apps");
    set_kv(f, "subscription", "sub-1");
    set_kv(f, "tenant", TENANT);
    set_kv(f, "vm", "app-02");
    f->obj.name = (char *)"uptime";
    f->obj.metric = SL_METRIC_AVAILABILITY;
    f->obj.interval_ms = MINUTE;
    f->cred.name = (char *)"azure-main";
    f->cred.kind = SL_CREDENTIAL_AZURE;
    f->cred.tenant_id = (char *)TENANT;
    f->cred.client_id = (char *)CLIENT;
    f->cred.client_secret = (char *)SECRET;
    f->q.service = &f->svc;
    f->q.objective = &f->obj;
    f->q.credential = &f->cred;
    f->q.from_ms = T0;
    f->q.to_ms = T0 + 10 * MINUTE;
    f->q.now_ms = T0 + 60 * MINUTE;
}

/* n samples starting at from, all unknown ("no datapoint"), as a caller prepares them. */
static sl_sample *samples_new(const fixture *f, size_t *n)
{
    sl_sample *s;

    *n = (size_t)((f->q.to_ms - f->q.from_ms) / f->obj.interval_ms);
    s = calloc(*n, sizeof(*s));
    assert_non_null(s);
    for (size_t i = 0; i < *n; i++)
        s[i].start_ms = f->q.from_ms + (int64_t)i * f->obj.interval_ms;
    sl_samples_unknown(s, *n, "no datapoint");
    return s;
}

static void resp_set(sl_http_resp *r, long status, const char *body)
{
    sl_http_resp_release(r);
    r->status = status;
    sl_buf_put(&r->body, body, strlen(body));
}

static const char *header(const sl_http_req *r, const char *name)
{
    size_t n = strlen(name);

    for (size_t i = 0; i < r->n_headers; i++) {
        if (strncmp(r->headers[i], name, n) == 0 && r->headers[i][n] == ':')
            return r->headers[i] + n + 2;
    }
    return NULL;
}

static const char *body_text(sl_http_req *r)
{
    const char *s = sl_buf_cstr(&r->body);

    assert_non_null(s);
    return s;
}

/* ---- builders ---- */

static void test_token_request(void **state)
{
    fixture f;
    sl_http_req r;
    sl_error err = {0};

    (void)state;
    fixture_init(&f);
    sl_http_req_init(&r);
    assert_int_equal(sl_azure_token_request(&f.q, &r, &err), 0);
    assert_string_equal(r.method, "POST");
    assert_string_equal(r.url, "https://login.microsoftonline.com/" TENANT "/oauth2/v2.0/token");
    assert_string_equal(header(&r, "Content-Type"), "application/x-www-form-urlencoded");
    assert_string_equal(header(&r, "Accept"), "application/json");
    assert_string_equal(body_text(&r), "grant_type=client_credentials&client_id=0a1b2c3d-app"
                                       "&client_secret=s3cr%2Bt%2F%3D~x%20y"
                                       "&scope=https%3A%2F%2Fmanagement.azure.com%2F.default");
    sl_http_req_release(&r);

    /* Own endpoints, trailing slashes dropped; the scope follows the management endpoint. */
    set_kv(&f, "login_endpoint", "http://127.0.0.1:8080/");
    set_kv(&f, "endpoint", "http://127.0.0.1:8080//");
    assert_int_equal(sl_azure_token_request(&f.q, &r, &err), 0);
    assert_string_equal(r.url, "http://127.0.0.1:8080/" TENANT "/oauth2/v2.0/token");
    assert_non_null(strstr(body_text(&r), "&scope=http%3A%2F%2F127.0.0.1%3A8080%2F.default"));
    sl_http_req_release(&r);

    /* The tenant may come from the credential alone, and is percent-encoded in the path. */
    del_kv(&f, "tenant");
    f.cred.tenant_id = (char *)"contoso.onmicrosoft.com";
    assert_int_equal(sl_azure_token_request(&f.q, &r, &err), 0);
    assert_string_equal(r.url, "http://127.0.0.1:8080/contoso.onmicrosoft.com/oauth2/v2.0/token");
    sl_http_req_release(&r);
    set_kv(&f, "tenant", "a b");
    f.cred.tenant_id = NULL;
    assert_int_equal(sl_azure_token_request(&f.q, &r, &err), 0);
    assert_string_equal(r.url, "http://127.0.0.1:8080/a%20b/oauth2/v2.0/token");
    sl_http_req_release(&r);
}

static void expect_token_refused(fixture *f, const char *field_or_text)
{
    sl_http_req r;
    sl_error err = {0};

    sl_http_req_init(&r);
    assert_int_equal(sl_azure_token_request(&f->q, &r, &err), SL_EINVAL);
    assert_int_equal(err.code, SL_EINVAL);
    if (!strstr(err.msg, field_or_text) && !strstr(err.field, field_or_text))
        fail_msg("error \"%s\" / \"%s\" does not mention %s", err.field, err.msg, field_or_text);
    assert_null(r.url);
    assert_int_equal(r.n_headers, 0);
    assert_int_equal(r.body.len, 0);
}

static void test_token_request_refusals(void **state)
{
    fixture f;

    (void)state;
    fixture_init(&f);
    f.cred.tenant_id = (char *)"11111111-2222-3333-4444-555555555555";
    expect_token_refused(&f, "differs");
    f.cred.tenant_id = (char *)"8E7D6C5B-4A39-4281-B0C1-D2E3F4A5B6C7"; /* GUIDs ignore case */
    {
        sl_http_req r;
        sl_http_req_init(&r);
        assert_int_equal(sl_azure_token_request(&f.q, &r, NULL), 0);
        sl_http_req_release(&r);
    }
    del_kv(&f, "tenant");
    f.cred.tenant_id = NULL;
    expect_token_refused(&f, "tenant");

    fixture_init(&f);
    f.q.credential = NULL;
    expect_token_refused(&f, "credential");
    fixture_init(&f);
    f.cred.kind = SL_CREDENTIAL_AWS;
    expect_token_refused(&f, "credential");
    fixture_init(&f);
    f.cred.client_secret = (char *)"";
    expect_token_refused(&f, "client_secret");
    fixture_init(&f);
    f.svc.kind = SL_SVC_AWS_EC2;
    expect_token_refused(&f, "azure.vm");
}

#define METRICS_PATH                                                                               \
    "/subscriptions/sub-1/resourceGroups/rg-apps/providers/Microsoft.Compute/virtualMachines/"     \
    "app-02/providers/Microsoft.Insights/metrics"

static void test_metrics_request(void **state)
{
    fixture f;
    sl_http_req r;
    sl_error err = {0};
    sl_azure_token tok = {(char *)"eyJ0eXAi.abc-_", T0};

    (void)state;
    fixture_init(&f);
    sl_http_req_init(&r);
    assert_int_equal(sl_azure_metrics_request(&f.q, &tok, &r, &err), 0);
    assert_string_equal(r.method, "GET");
    assert_string_equal(r.url, "https://management.azure.com" METRICS_PATH "?api-version=2018-01-01"
                               "&timespan=2024-01-01T00%3A00%3A00Z%2F2024-01-01T00%3A10%3A00Z"
                               "&interval=PT1M&metricnames=VmAvailabilityMetric"
                               "&aggregation=Minimum");
    assert_string_equal(header(&r, "Authorization"), "Bearer eyJ0eXAi.abc-_");
    assert_string_equal(header(&r, "Accept"), "application/json");
    assert_int_equal(r.body.len, 0);
    sl_http_req_release(&r);

    /* Another metric, endpoint and grain; names are percent-encoded. */
    set_kv(&f, "endpoint", "http://127.0.0.1:9/");
    set_kv(&f, "metric", "Percentage CPU");
    set_kv(&f, "vm", "vm 1");
    f.obj.interval_ms = 3600000;
    f.q.to_ms = T0 + 2 * 3600000;
    assert_int_equal(sl_azure_metrics_request(&f.q, &tok, &r, &err), 0);
    assert_string_equal(r.url, "http://127.0.0.1:9/subscriptions/sub-1/resourceGroups/rg-apps/"
                               "providers/Microsoft.Compute/virtualMachines/vm%201/providers/"
                               "Microsoft.Insights/metrics?api-version=2018-01-01"
                               "&timespan=2024-01-01T00%3A00%3A00Z%2F2024-01-01T02%3A00%3A00Z"
                               "&interval=PT1H&metricnames=Percentage%20CPU&aggregation=Minimum");
    sl_http_req_release(&r);
}

static void test_iso_duration(void **state)
{
    static const struct {
        int64_t ms;
        const char *iso;
    } cases[] = {
        {1000, "PT1S"},     {60000, "PT1M"},     {90000, "PT1M30S"}, {300000, "PT5M"},
        {3600000, "PT1H"},  {21600000, "PT6H"},  {86400000, "P1D"},  {90061000, "P1DT1H1M1S"},
        {172800000, "P2D"}, {3660000, "PT1H1M"},
    };
    char buf[40];

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        assert_true(iso_duration(cases[i].ms, buf, sizeof(buf)) > 0);
        assert_string_equal(buf, cases[i].iso);
    }
    assert_int_equal(iso_duration(1500, buf, sizeof(buf)), SL_EINVAL);
    assert_int_equal(iso_duration(0, buf, sizeof(buf)), SL_EINVAL);
    assert_int_equal(iso_duration(-60000, buf, sizeof(buf)), SL_EINVAL);
}

static void expect_metrics_refused(fixture *f, const sl_azure_token *tok, const char *text)
{
    sl_http_req r;
    sl_error err = {0};

    sl_http_req_init(&r);
    assert_int_equal(sl_azure_metrics_request(&f->q, tok, &r, &err), SL_EINVAL);
    if (!strstr(err.msg, text) && !strstr(err.field, text))
        fail_msg("error \"%s\" / \"%s\" does not mention %s", err.field, err.msg, text);
    assert_null(r.url);
    assert_int_equal(r.n_headers, 0);
}

static void test_metrics_request_refusals(void **state)
{
    fixture f;
    sl_azure_token tok = {(char *)"t", T0}, none = {0};

    (void)state;
    fixture_init(&f);
    f.obj.metric = SL_METRIC_RESPONSE_TIME;
    expect_metrics_refused(&f, &tok, "availability only");
    fixture_init(&f);
    f.obj.interval_ms = 1500;
    f.q.to_ms = T0 + 15000;
    expect_metrics_refused(&f, &tok, "whole number of seconds");
    fixture_init(&f);
    f.q.to_ms = T0 + 90000; /* 1.5 intervals */
    expect_metrics_refused(&f, &tok, "range");
    fixture_init(&f);
    f.q.to_ms = f.q.from_ms;
    expect_metrics_refused(&f, &tok, "range");
    fixture_init(&f);
    expect_metrics_refused(&f, &none, "token");
    expect_metrics_refused(&f, NULL, "token");
    del_kv(&f, "subscription");
    expect_metrics_refused(&f, &tok, "subscription");
    fixture_init(&f);
    set_kv(&f, "metric", "A,B");
    expect_metrics_refused(&f, &tok, "comma");
    fixture_init(&f);
    f.svc.kind = SL_SVC_PROMETHEUS;
    expect_metrics_refused(&f, &tok, "azure.vm");
}

/* ---- the token parser and staleness ---- */

static void test_token_parse(void **state)
{
    sl_http_resp r;
    sl_azure_token t = {0};
    sl_error err = {0};
    const int64_t now = T0;

    (void)state;
    sl_http_resp_init(&r);
    resp_set(&r, 200,
             "{\"token_type\":\"Bearer\",\"expires_in\":3599,\"ext_expires_in\":3599,"
             "\"access_token\":\"eyJ0eXAiOiJKV1Qi.eyJhdWQi.sig-_\"}");
    assert_int_equal(sl_azure_token_parse(&r, now, &t, &err), 0);
    assert_string_equal(t.access_token, "eyJ0eXAiOiJKV1Qi.eyJhdWQi.sig-_");
    assert_int_equal(t.expires_ms, now + 3599000);
    sl_azure_token_release(&t);
    assert_null(t.access_token);

    /* expires_in as a string, as older endpoints and some proxies send it; "bearer" in lower
     * case; a real number that is whole. */
    resp_set(&r, 200, "{\"token_type\":\"bearer\",\"expires_in\":\"3600\",\"access_token\":\"x\"}");
    assert_int_equal(sl_azure_token_parse(&r, now, &t, &err), 0);
    assert_int_equal(t.expires_ms, now + 3600000);
    sl_azure_token_release(&t);
    resp_set(&r, 200, "{\"token_type\":\"Bearer\",\"expires_in\":60.0,\"access_token\":\"x\"}");
    assert_int_equal(sl_azure_token_parse(&r, now, &t, &err), 0);
    assert_int_equal(t.expires_ms, now + 60000);
    sl_azure_token_release(&t);
    sl_http_resp_release(&r);
}

static void expect_token_parse(long status, const char *body, int code, const char *text)
{
    sl_http_resp r;
    sl_azure_token t = {0};
    sl_error err = {0};

    sl_http_resp_init(&r);
    resp_set(&r, status, body);
    assert_int_equal(sl_azure_token_parse(&r, T0, &t, &err), code);
    assert_null(t.access_token);
    assert_int_equal(t.expires_ms, 0);
    if (!strstr(err.msg, text))
        fail_msg("\"%s\" does not mention %s (body %s)", err.msg, text, body);
    sl_http_resp_release(&r);
}

static void test_token_parse_errors(void **state)
{
    sl_http_resp r;
    sl_azure_token t = {0};

    (void)state;
    expect_token_parse(401,
                       "{\"error\":\"invalid_client\",\"error_description\":\"AADSTS7000215: "
                       "Invalid client secret provided.\",\"error_codes\":[7000215]}",
                       SL_EAUTH, "AADSTS7000215");
    expect_token_parse(400,
                       "{\"error\":\"unauthorized_client\",\"error_description\":\"AADSTS700016: "
                       "Application not found.\"}",
                       SL_EAUTH, "unauthorized_client");
    expect_token_parse(400, "{\"error\":\"invalid_scope\",\"error_description\":\"a\\nb\"}",
                       SL_EAUTH, "a?b"); /* control characters never reach messages */
    expect_token_parse(401, "", SL_EAUTH, "HTTP 401");
    expect_token_parse(503, "{\"error\":\"temporarily_unavailable\"}", SL_EIO, "HTTP 503");
    expect_token_parse(404, "<html>", SL_EIO, "HTTP 404");
    expect_token_parse(200, "not json", SL_EPARSE, "not a JSON object");
    expect_token_parse(200, "[]", SL_EPARSE, "not a JSON object");
    expect_token_parse(200, "{\"expires_in\":3599,\"access_token\":\"x\"}", SL_EPARSE, "Bearer");
    expect_token_parse(200, "{\"token_type\":\"MAC\",\"expires_in\":3599,\"access_token\":\"x\"}",
                       SL_EPARSE, "Bearer");
    expect_token_parse(200, "{\"token_type\":\"Bearer\",\"access_token\":\"x\"}", SL_EPARSE,
                       "expires_in");
    static const char *const bad_expiry[] = {
        "0",    "-5", "1.5", "\"\"", "\"12a\"", "\"-1\"", "null", "99999999999", "\"99999999999\"",
        "1e300"};
    for (size_t i = 0; i < sizeof(bad_expiry) / sizeof(bad_expiry[0]); i++) {
        char body[160];
        sl_strfmt(body, sizeof(body),
                  "{\"token_type\":\"Bearer\",\"expires_in\":%s,\"access_token\":\"x\"}",
                  bad_expiry[i]);
        expect_token_parse(200, body, SL_EPARSE, "expires_in");
    }
    expect_token_parse(200, "{\"token_type\":\"Bearer\",\"expires_in\":1,\"access_token\":\"\"}",
                       SL_EPARSE, "access_token");
    expect_token_parse(200, "{\"token_type\":\"Bearer\",\"expires_in\":1,\"access_token\":\"a b\"}",
                       SL_EPARSE, "access_token");
    expect_token_parse(200, "{\"token_type\":\"Bearer\",\"expires_in\":1,\"access_token\":7}",
                       SL_EPARSE, "access_token");
    expect_token_parse(200,
                       "{\"token_type\":\"Bearer\",\"token_type\":\"Bearer\",\"expires_in\":1,"
                       "\"access_token\":\"x\"}",
                       SL_EPARSE, "not a JSON object"); /* duplicate keys are refused */

    /* A transport failure. */
    sl_http_resp_init(&r);
    r.failed = 1;
    sl_strfmt(r.error, sizeof(r.error), "Connection refused");
    sl_error err = {0};
    assert_int_equal(sl_azure_token_parse(&r, T0, &t, &err), SL_EIO);
    assert_non_null(strstr(err.msg, "Connection refused"));
    assert_null(t.access_token);
    sl_http_resp_release(&r);
}

static void test_token_stale(void **state)
{
    sl_azure_token t = {0};
    char *text = sl_strdup("tok");

    (void)state;
    assert_true(sl_azure_token_stale(NULL, T0));
    assert_true(sl_azure_token_stale(&t, T0)); /* absent */
    t.access_token = text;
    t.expires_ms = T0 + 10 * MINUTE;
    assert_false(sl_azure_token_stale(&t, T0));
    assert_false(sl_azure_token_stale(&t, T0 + 5 * MINUTE - 1));
    assert_true(sl_azure_token_stale(&t, T0 + 5 * MINUTE)); /* expiring within 5 minutes */
    assert_true(sl_azure_token_stale(&t, T0 + 10 * MINUTE));
    assert_true(sl_azure_token_stale(&t, T0 + 60 * MINUTE));
    t.expires_ms = INT64_MIN;
    assert_true(sl_azure_token_stale(&t, T0));
    sl_azure_token_release(&t);
    assert_null(t.access_token);
    assert_int_equal(t.expires_ms, 0);
    sl_azure_token_release(&t); /* twice is fine */
    sl_azure_token_release(NULL);
}

/* ---- the metrics parser ---- */

/* A metrics body for VmAvailabilityMetric with the given data array contents. */
static char *metrics_body(const char *name, const char *data)
{
    char *b = malloc(4096);

    assert_non_null(b);
    sl_strfmt(b, 4096,
              "{\"cost\":0,\"timespan\":\"2024-01-01T00:00:00Z/2024-01-01T00:10:00Z\","
              "\"interval\":\"PT1M\",\"value\":[{\"id\":\"/x\",\"type\":\"Microsoft.Insights/"
              "metrics\",\"name\":{\"value\":\"%s\",\"localizedValue\":\"%s\"},\"unit\":"
              "\"Count\",\"timeseries\":[{\"metadatavalues\":[],\"data\":[%s]}],\"errorCode\":"
              "\"Success\"}],\"namespace\":\"Microsoft.Compute/virtualMachines\","
              "\"resourceregion\":\"westeurope\"}",
              name, name, data);
    return b;
}

/* The datapoints of test_metrics_parse, one per line of the data array. */
static const char *const parse_points[] = {
    "{\"timeStamp\":\"2024-01-01T00:00:00Z\",\"minimum\":1.0,\"average\":1.0}",
    "{\"timeStamp\":\"2024-01-01T00:01:00Z\",\"minimum\":1}",
    "{\"timeStamp\":\"2024-01-01T00:02:00Z\",\"minimum\":0.0}",
    "{\"timeStamp\":\"2024-01-01T00:03:00Z\",\"average\":1.0}", /* not the aggregate asked */
    "{\"timeStamp\":\"2024-01-01T00:04:00Z\",\"minimum\":0.5}",
    "{\"timeStamp\":\"2024-01-01T00:05:00Z\",\"minimum\":null}",
    "{\"timeStamp\":\"2024-01-01T00:06:00Z\",\"minimum\":2}",
    "{\"timeStamp\":\"2024-01-01T00:07:00Z\",\"minimum\":-0.1}",
    "{\"timeStamp\":\"2024-01-01T00:08:30Z\",\"minimum\":0}", /* off the grid */
    "{\"timeStamp\":\"2024-01-01T00:10:00Z\",\"minimum\":0}", /* past the range */
    "{\"timeStamp\":\"2023-12-31T23:59:00Z\",\"minimum\":0}", /* before it */
    "{\"timeStamp\":\"2024-01-01T00:09:00.000Z\",\"minimum\":1}",
};

static void test_metrics_parse(void **state)
{
    fixture f;
    sl_http_resp r;
    sl_error err = {0};
    size_t n;
    sl_sample *s;
    char data[2048] = "";
    char *body;

    (void)state;
    for (size_t i = 0; i < sizeof(parse_points) / sizeof(parse_points[0]); i++) {
        if (i > 0)
            strncat(data, ",", sizeof(data) - strlen(data) - 1);
        strncat(data, parse_points[i], sizeof(data) - strlen(data) - 1);
    }
    body = metrics_body("VmAvailabilityMetric", data);
    fixture_init(&f);
    s = samples_new(&f, &n);
    sl_http_resp_init(&r);
    resp_set(&r, 200, body);
    assert_int_equal(sl_azure_metrics_parse(&f.q, &r, s, &err), 0);
    assert_int_equal(n, 10);
    const struct {
        int known;
        int64_t value;
        const char *reason;
    } want[10] = {
        {1, 1000000, ""},       {1, 1000000, ""},       {1, 0, ""},
        {0, 0, "no datapoint"}, {1, 500000, ""},        {0, 0, "no datapoint"},
        {0, 0, "outside 0..1"}, {0, 0, "outside 0..1"}, {0, 0, "no datapoint"},
        {1, 1000000, ""},
    };
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(s[i].start_ms, T0 + (int64_t)i * MINUTE);
        assert_int_equal(s[i].known, want[i].known);
        if (want[i].known)
            assert_int_equal(s[i].value, want[i].value);
        else if (!strstr(s[i].reason, want[i].reason))
            fail_msg("sample %zu: reason \"%s\", want \"%s\"", i, s[i].reason, want[i].reason);
    }
    free(body);
    free(s);
    sl_http_resp_release(&r);
}

/* Several time series (dimensions) for one interval: the lowest counts; a bad value in any
 * keeps the interval unknown. Other metrics in the answer are ignored. */
static void test_metrics_parse_series(void **state)
{
    fixture f;
    sl_http_resp r;
    size_t n;
    sl_sample *s;
    const char *body =
        "{\"value\":[{\"name\":{\"value\":\"Percentage CPU\"},\"timeseries\":[{\"data\":["
        "{\"timeStamp\":\"2024-01-01T00:00:00Z\",\"minimum\":0}]}]},"
        "{\"name\":{\"value\":\"vmavailabilitymetric\"},\"timeseries\":["
        "{\"data\":[{\"timeStamp\":\"2024-01-01T00:00:00Z\",\"minimum\":1},"
        "{\"timeStamp\":\"2024-01-01T00:01:00Z\",\"minimum\":0.25},"
        "{\"timeStamp\":\"2024-01-01T00:02:00Z\",\"minimum\":7}]},"
        "{\"data\":[{\"timeStamp\":\"2024-01-01T00:00:00Z\",\"minimum\":0.75},"
        "{\"timeStamp\":\"2024-01-01T00:01:00Z\",\"minimum\":1},"
        "{\"timeStamp\":\"2024-01-01T00:02:00Z\",\"minimum\":1}]},{}]}]}";

    (void)state;
    fixture_init(&f);
    s = samples_new(&f, &n);
    sl_http_resp_init(&r);
    resp_set(&r, 200, body);
    assert_int_equal(sl_azure_metrics_parse(&f.q, &r, s, NULL), 0);
    assert_true(s[0].known);
    assert_int_equal(s[0].value, 750000);
    assert_true(s[1].known);
    assert_int_equal(s[1].value, 250000);
    assert_false(s[2].known);
    assert_false(s[3].known);

    /* Any other metric: a datapoint means up, whatever its value; no datapoint stays unknown. */
    set_kv(&f, "metric", "Percentage CPU");
    free(s);
    s = samples_new(&f, &n);
    assert_int_equal(sl_azure_metrics_parse(&f.q, &r, s, NULL), 0);
    assert_true(s[0].known);
    assert_int_equal(s[0].value, 1000000);
    assert_false(s[1].known);
    assert_string_equal(s[1].reason, "no datapoint");
    free(s);
    sl_http_resp_release(&r);
}

/* A refused body leaves every sample as it was. */
static void expect_metrics_parse(long status, const char *body, int code, const char *text)
{
    fixture f;
    sl_http_resp r;
    sl_error err = {0};
    size_t n;
    sl_sample *s;

    fixture_init(&f);
    s = samples_new(&f, &n);
    sl_http_resp_init(&r);
    resp_set(&r, status, body);
    assert_int_equal(sl_azure_metrics_parse(&f.q, &r, s, &err), code);
    if (!strstr(err.msg, text))
        fail_msg("\"%s\" does not mention %s (body %s)", err.msg, text, body);
    for (size_t i = 0; i < n; i++) {
        assert_false(s[i].known);
        assert_string_equal(s[i].reason, "no datapoint");
    }
    free(s);
    sl_http_resp_release(&r);
}

static void test_metrics_parse_errors(void **state)
{
    (void)state;
    expect_metrics_parse(401,
                         "{\"error\":{\"code\":\"InvalidAuthenticationToken\",\"message\":\"The "
                         "access token is invalid.\"}}",
                         SL_EAUTH, "InvalidAuthenticationToken");
    expect_metrics_parse(401,
                         "{\"error\":{\"code\":\"ExpiredAuthenticationToken\",\"message\":\"The "
                         "access token expiry UTC time is earlier than current UTC time.\"}}",
                         SL_EAUTH, "ExpiredAuthenticationToken");
    expect_metrics_parse(403,
                         "{\"error\":{\"code\":\"AuthorizationFailed\",\"message\":\"no "
                         "access\"}}",
                         SL_EAUTH, "AuthorizationFailed");
    expect_metrics_parse(401, "", SL_EAUTH, "HTTP 401");
    expect_metrics_parse(404,
                         "{\"error\":{\"code\":\"ResourceNotFound\",\"message\":\"The Resource "
                         "was not found.\"}}",
                         SL_EIO, "ResourceNotFound");
    expect_metrics_parse(400, "{\"code\":\"BadRequest\",\"message\":\"Invalid interval\"}", SL_EIO,
                         "Invalid interval");
    expect_metrics_parse(500, "<html>oops</html>", SL_EIO, "HTTP 500");
    expect_metrics_parse(200,
                         "{\"value\":[{\"name\":{\"value\":\"VmAvailabilityMetric\"},"
                         "\"errorCode\":\"Throttled\",\"errorMessage\":\"slow down\"}]}",
                         SL_EIO, "Throttled");
    expect_metrics_parse(200, "", SL_EPARSE, "not JSON");
    expect_metrics_parse(200, "{\"value\":[{\"timeseries\":[{\"data\":[{\"timeStamp", SL_EPARSE,
                         "not JSON");
    expect_metrics_parse(200, "[]", SL_EPARSE, "not a JSON object");
    expect_metrics_parse(200, "{\"cost\":0}", SL_EPARSE, "value");
    expect_metrics_parse(200, "{\"value\":[7]}", SL_EPARSE, "metric");
    expect_metrics_parse(200, "{\"value\":[{}]}", SL_EPARSE, "timeseries");
    expect_metrics_parse(200, "{\"value\":[{\"timeseries\":[1]}]}", SL_EPARSE, "time series");
    expect_metrics_parse(200, "{\"value\":[{\"timeseries\":[{\"data\":{}}]}]}", SL_EPARSE, "data");
    expect_metrics_parse(200, "{\"value\":[{\"timeseries\":[{\"data\":[{\"minimum\":1}]}]}]}",
                         SL_EPARSE, "timeStamp");
    expect_metrics_parse(200,
                         "{\"value\":[{\"timeseries\":[{\"data\":[{\"timeStamp\":\"yesterday\","
                         "\"minimum\":1}]}]}]}",
                         SL_EPARSE, "timeStamp");
    expect_metrics_parse(200,
                         "{\"value\":[{\"timeseries\":[{\"data\":[{\"timeStamp\":\"2024-01-01T00:"
                         "00:00Z\",\"minimum\":\"1\"}]}]}]}",
                         SL_EPARSE, "not a number");
    /* Error text is cut and cleaned of control characters. */
    expect_metrics_parse(500, "{\"error\":{\"code\":\"X\\u0007Y\",\"message\":\"m\"}}", SL_EIO,
                         "X?Y");

    /* A transport failure, and a query the parser cannot serve. */
    fixture f;
    sl_http_resp r;
    sl_error err = {0};
    size_t n;
    sl_sample *s;

    fixture_init(&f);
    s = samples_new(&f, &n);
    sl_http_resp_init(&r);
    r.failed = 1;
    sl_strfmt(r.error, sizeof(r.error), "Timeout was reached");
    assert_int_equal(sl_azure_metrics_parse(&f.q, &r, s, &err), SL_EIO);
    assert_non_null(strstr(err.msg, "Timeout was reached"));
    r.failed = 0;
    f.obj.metric = SL_METRIC_THROUGHPUT;
    assert_int_equal(sl_azure_metrics_parse(&f.q, &r, s, &err), SL_EINVAL);
    assert_int_equal(sl_azure_metrics_parse(&f.q, NULL, s, &err), SL_EINVAL);
    assert_false(s[0].known);
    free(s);
    sl_http_resp_release(&r);
}

/* ---- live: the stand-in ---- */

typedef struct tool {
    pid_t pid;
    int out_fd;
    unsigned port;
    char base[64];
    char err_path[512];
} tool;

static char tmpdir[256];

static void write_file(const char *name, const char *text)
{
    char path[512];
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
    f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

/* Reads the "listening on 127.0.0.1:PORT" line, waiting at most 10 s. */
static unsigned read_port(int fd)
{
    char buf[256];
    size_t len = 0;
    struct pollfd p = {.fd = fd, .events = POLLIN};
    const char *at;

    for (int waited = 0; waited < 10000 && !memchr(buf, '\n', len); waited += 50) {
        if (poll(&p, 1, 50) <= 0)
            continue;
        ssize_t got = read(fd, buf + len, sizeof(buf) - 1 - len);
        if (got <= 0)
            break;
        len += (size_t)got;
    }
    buf[len] = '\0';
    at = strstr(buf, "listening on 127.0.0.1:");
    return at ? (unsigned)strtoul(at + 23, NULL, 10) : 0;
}

/* Starts tool_azure with the clients file, script and extra arguments (NULL-terminated). */
static void tool_start(tool *t, const char *name, const char *script, ...)
{
    const char *build = getenv("SL_BUILD_DIR");
    char exe[512], clients[512], scr[512];
    const char *argv[16];
    size_t n = 0;
    int out[2];
    va_list ap;

    if (!build)
        fail_msg("SL_BUILD_DIR is not set; run the test through ctest");
    snprintf(exe, sizeof(exe), "%s/tool_azure", build);
    snprintf(clients, sizeof(clients), "%s/clients", tmpdir);
    snprintf(scr, sizeof(scr), "%s/%s", tmpdir, script);
    snprintf(t->err_path, sizeof(t->err_path), "%s/%s.err", tmpdir, name);
    argv[n++] = exe;
    argv[n++] = "--clients";
    argv[n++] = clients;
    argv[n++] = "--script";
    argv[n++] = scr;
    va_start(ap, script);
    for (const char *a = va_arg(ap, const char *); a && n < 14; a = va_arg(ap, const char *))
        argv[n++] = a;
    va_end(ap);
    argv[n] = NULL;
    assert_int_equal(pipe(out), 0);
    t->pid = fork();
    assert_true(t->pid >= 0);
    if (t->pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGTERM); /* never outlive a test that failed half-way */
        int fd = open(t->err_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        dup2(out[1], 1);
        if (fd >= 0)
            dup2(fd, 2);
        close(out[0]);
        execv(exe, (char *const *)argv);
        _exit(127);
    }
    close(out[1]);
    t->out_fd = out[0];
    t->port = read_port(t->out_fd);
    if (t->port == 0) {
        kill(t->pid, SIGKILL);
        waitpid(t->pid, NULL, 0);
        fail_msg("%s did not start (see %s)", exe, t->err_path);
    }
    snprintf(t->base, sizeof(t->base), "http://127.0.0.1:%u", t->port);
}

/* SIGTERM, then waits at most 10 s (SIGKILL after); returns the exit status. */
static int tool_stop(tool *t)
{
    int status = -1;

    kill(t->pid, SIGTERM);
    for (int i = 0; i < 200; i++) {
        if (waitpid(t->pid, &status, WNOHANG) == t->pid)
            break;
        struct timespec ts = {0, 50 * 1000000L};
        nanosleep(&ts, NULL);
        if (i == 199) {
            kill(t->pid, SIGKILL);
            waitpid(t->pid, &status, 0);
        }
    }
    close(t->out_fd);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* The count of issued tokens the tool printed on exit; -1 if absent. */
static long tokens_issued(const tool *t)
{
    char buf[8192];
    FILE *f = fopen(t->err_path, "r");
    size_t n;
    const char *at;

    if (!f)
        return -1;
    n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    at = strstr(buf, "tokens issued: ");
    return at ? strtol(at + 15, NULL, 10) : -1;
}

static void live_fixture(fixture *f, const tool *t)
{
    fixture_init(f);
    set_kv(f, "endpoint", t->base);
    set_kv(f, "login_endpoint", t->base);
    f->cred.client_secret = (char *)LIVE_SECRET;
}

/* Token request -> transport -> parse. */
static int fetch_token(const fixture *f, sl_azure_token *tok, sl_error *err)
{
    sl_http_req req;
    sl_http_resp resp;
    int rc;

    sl_http_req_init(&req);
    sl_http_resp_init(&resp);
    assert_int_equal(sl_azure_token_request(&f->q, &req, err), 0);
    assert_int_equal(sl_http_perform(&req, &resp), 0);
    rc = sl_azure_token_parse(&resp, f->q.now_ms, tok, err);
    sl_http_req_release(&req);
    sl_http_resp_release(&resp);
    return rc;
}

/* Metrics request -> transport -> parse into s. */
static int fetch_metrics(const fixture *f, const sl_azure_token *tok, sl_sample *s, sl_error *err)
{
    sl_http_req req;
    sl_http_resp resp;
    int rc;

    sl_http_req_init(&req);
    sl_http_resp_init(&resp);
    assert_int_equal(sl_azure_metrics_request(&f->q, tok, &req, err), 0);
    rc = sl_http_perform(&req, &resp);
    if (rc == 0)
        rc = sl_azure_metrics_parse(&f->q, &resp, s, err);
    sl_http_req_release(&req);
    sl_http_resp_release(&resp);
    return rc;
}

static int64_t wall_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The outage: down 00:02-00:04 and half of 00:06, silent 00:08-00:09 (in 2024, long over). */
static void live_outage(const tool *t)
{
    static const int64_t want[10] = {1000000, 1000000, 0,       0,  1000000,
                                     1000000, 0,       1000000, -1, 1000000};
    fixture f;
    sl_azure_token tok = {0};
    sl_error err = {0};
    size_t n;
    sl_sample *s;

    live_fixture(&f, t);
    f.q.now_ms = wall_now_ms();
    assert_int_equal(fetch_token(&f, &tok, &err), 0);
    assert_false(sl_azure_token_stale(&tok, f.q.now_ms));
    assert_int_equal(tok.expires_ms, f.q.now_ms + 3599000);
    s = samples_new(&f, &n);
    if (fetch_metrics(&f, &tok, s, &err) != 0)
        fail_msg("metrics: %s", err.msg);
    for (size_t i = 0; i < n; i++) {
        if (want[i] < 0) {
            assert_false(s[i].known);
            assert_string_equal(s[i].reason, "no datapoint");
        } else {
            assert_true(s[i].known);
            assert_int_equal(s[i].value, want[i]);
        }
    }

    /* Percentage CPU: reported except 00:03-00:05, so those intervals are unknown. */
    set_kv(&f, "metric", "Percentage CPU");
    sl_samples_unknown(s, n, "no datapoint");
    assert_int_equal(fetch_metrics(&f, &tok, s, &err), 0);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(s[i].known, i != 3 && i != 4);

    /* An unknown VM is a 404 from ARM: an I/O error, not a value. */
    set_kv(&f, "vm", "app-99");
    assert_int_equal(fetch_metrics(&f, &tok, s, &err), SL_EIO);
    assert_non_null(strstr(err.msg, "ResourceNotFound"));
    free(s);
    sl_azure_token_release(&tok);
}

/* Hour intervals around now: those that ended are measured, the current and the next not. */
static void live_not_ended(const tool *t)
{
    fixture f;
    sl_azure_token tok = {0};
    sl_error err = {0};
    size_t n;
    sl_sample *s;
    int64_t before = wall_now_ms(), hour = 3600000;

    live_fixture(&f, t);
    f.obj.interval_ms = hour;
    f.q.from_ms = before / hour * hour - 2 * hour;
    f.q.to_ms = f.q.from_ms + 4 * hour;
    f.q.now_ms = before;
    assert_int_equal(fetch_token(&f, &tok, &err), 0);
    s = samples_new(&f, &n);
    assert_int_equal(fetch_metrics(&f, &tok, s, &err), 0);
    assert_true(s[0].known && s[0].value == 1000000);
    assert_true(s[1].known && s[1].value == 1000000);
    if (wall_now_ms() / hour == before / hour) /* unless the hour turned meanwhile */
        assert_false(s[2].known);
    assert_false(s[3].known);
    free(s);
    sl_azure_token_release(&tok);
}

static void live_wrong_secret(const tool *t)
{
    fixture f;
    sl_azure_token tok = {0};
    sl_error err = {0};

    live_fixture(&f, t);
    f.cred.client_secret = (char *)"not the secret";
    assert_int_equal(fetch_token(&f, &tok, &err), SL_EAUTH);
    assert_non_null(strstr(err.msg, "invalid_client"));
    assert_non_null(strstr(err.msg, "AADSTS7000215"));
    assert_null(tok.access_token);
    f.cred.client_secret = (char *)LIVE_SECRET;
    f.cred.client_id = (char *)"someone-else";
    assert_int_equal(fetch_token(&f, &tok, &err), SL_EAUTH);
    assert_non_null(strstr(err.msg, "AADSTS700016"));
}

/* A token issued for one second: stale at once, and refused by the API once it expired; a
 * token the service never issued is refused too. */
static void live_expired(const tool *t)
{
    fixture f;
    sl_azure_token tok = {0}, forged = {(char *)"forged", 0};
    sl_error err = {0};
    size_t n;
    sl_sample *s;
    struct timespec wait = {1, 300 * 1000000L};

    live_fixture(&f, t);
    f.q.now_ms = wall_now_ms();
    assert_int_equal(fetch_token(&f, &tok, &err), 0);
    assert_true(sl_azure_token_stale(&tok, f.q.now_ms));
    nanosleep(&wait, NULL);
    s = samples_new(&f, &n);
    assert_int_equal(fetch_metrics(&f, &tok, s, &err), SL_EAUTH);
    assert_non_null(strstr(err.msg, "ExpiredAuthenticationToken"));
    assert_false(s[0].known);
    forged.expires_ms = f.q.now_ms + 3600000;
    assert_int_equal(fetch_metrics(&f, &forged, s, &err), SL_EAUTH);
    assert_non_null(strstr(err.msg, "InvalidAuthenticationToken"));
    assert_false(s[0].known);
    free(s);
    sl_azure_token_release(&tok);
}

/* Azure Monitor failing: an HTTP 500 is an I/O error, and the samples stay unknown. */
static void live_fault(const tool *t)
{
    fixture f;
    sl_azure_token tok = {0};
    sl_error err = {0};
    size_t n;
    sl_sample *s;

    live_fixture(&f, t);
    f.q.now_ms = wall_now_ms();
    assert_int_equal(fetch_token(&f, &tok, &err), 0);
    s = samples_new(&f, &n);
    assert_int_equal(fetch_metrics(&f, &tok, s, &err), SL_EIO);
    assert_non_null(strstr(err.msg, "InternalServerError"));
    for (size_t i = 0; i < n; i++)
        assert_false(s[i].known);
    free(s);
    sl_azure_token_release(&tok);
}

/* The sped-up tool's clock, as a node with the same spec.clock reads it. */
static int64_t clock_now(int64_t since)
{
    int64_t wall = wall_now_ms();

    return wall <= since ? wall : since + (wall - since) * SPEED;
}

static void wait_clock(int64_t since, int64_t t)
{
    struct timespec tick = {0, 20 * 1000000L};

    while (clock_now(since) < t)
        nanosleep(&tick, NULL);
}

/* The tool runs SPEED times the wall clock from since, a second or two before it started, so
 * it starts 10 to 20 of its minutes past since. Its token of 300 s (half a wall second)
 * serves at once and expires by its clock; relative times count from since (the outage
 * +10m..+20m); the minutes that ended by its clock are measured, later ones not; its fault
 * begins at +40m. About three wall seconds in all. */
static void live_clock(const tool *t, int64_t since)
{
    fixture f;
    sl_azure_token tok = {0};
    sl_error err = {0};
    int64_t m0 = since / MINUTE * MINUTE, before, after;
    size_t n;
    sl_sample *s;

    live_fixture(&f, t);
    f.q.from_ms = m0;
    f.q.to_ms = m0 + 32 * MINUTE;
    s = samples_new(&f, &n);
    f.q.now_ms = clock_now(since);
    assert_int_equal(fetch_token(&f, &tok, &err), 0);
    assert_int_equal(tok.expires_ms, f.q.now_ms + 300000);
    assert_int_equal(fetch_metrics(&f, &tok, s, &err), 0);
    wait_clock(since, tok.expires_ms + MINUTE > since + 30 * MINUTE ? tok.expires_ms + MINUTE
                                                                    : since + 30 * MINUTE);
    assert_int_equal(fetch_metrics(&f, &tok, s, &err), SL_EAUTH);
    assert_non_null(strstr(err.msg, "ExpiredAuthenticationToken"));
    sl_azure_token_release(&tok);

    f.q.now_ms = before = clock_now(since);
    assert_int_equal(fetch_token(&f, &tok, &err), 0);
    sl_samples_unknown(s, n, "no datapoint");
    if (fetch_metrics(&f, &tok, s, &err) != 0)
        fail_msg("metrics: %s", err.msg);
    after = clock_now(since);
    for (size_t i = 0; i < n; i++) {
        int64_t from = m0 + (int64_t)i * MINUTE, to = from + MINUTE;
        int down = from < since + 20 * MINUTE && to > since + 10 * MINUTE;
        if (to <= before)
            assert_true(s[i].known && s[i].value == (down ? 0 : 1000000));
        else if (to > after)
            assert_false(s[i].known);
    }
    sl_azure_token_release(&tok);

    wait_clock(since, since + 41 * MINUTE);
    f.q.now_ms = clock_now(since);
    assert_int_equal(fetch_token(&f, &tok, &err), 0);
    assert_int_equal(fetch_metrics(&f, &tok, s, &err), SL_EIO);
    assert_non_null(strstr(err.msg, "InternalServerError"));
    free(s);
    sl_azure_token_release(&tok);
}

/* Removes the live test's directory, also after a failed assertion (atexit). */
static void remove_tmpdir(void)
{
    char cmd[600];

    if (!tmpdir[0])
        return;
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
    if (system(cmd) == 0)
        tmpdir[0] = '\0';
}

static void test_live(void **state)
{
    char dir[] = "/tmp/sl-azure-XXXXXX", since_text[32], speed_text[16];
    int64_t since;
    tool t;

    (void)state;
    assert_non_null(mkdtemp(dir));
    snprintf(tmpdir, sizeof(tmpdir), "%s", dir);
    atexit(remove_tmpdir);
    write_file("clients", "# tenant client secret\n" TENANT " " CLIENT " " LIVE_SECRET "\n");
    write_file("script", "app-02 VmAvailabilityMetric default 1\n"
                         "app-02 VmAvailabilityMetric 2024-01-01T00:02:00Z +4m 0\n"
                         "app-02 VmAvailabilityMetric 2024-01-01T00:06:00Z +6m30s 0\n"
                         "app-02 VmAvailabilityMetric 2024-01-01T00:08:00Z +9m missing\n"
                         "app-02 Percentage CPU default 37.5\n"
                         "app-02 Percentage CPU 2024-01-01T00:03:00Z 2024-01-01T00:05:00Z "
                         "missing\n");
    write_file("faulty", "app-02 VmAvailabilityMetric default 1\nfault -1h +1h http500\n");
    write_file("clock", "app-02 VmAvailabilityMetric default 1\n"
                        "app-02 VmAvailabilityMetric +10m +20m 0\nfault +40m +2h http500\n");

    tool_start(&t, "main", "script", "--start", "2024-01-01T00:00:00Z", (char *)NULL);
    live_outage(&t);
    live_not_ended(&t);
    live_wrong_secret(&t);
    assert_int_equal(tool_stop(&t), 0);
    assert_int_equal(tokens_issued(&t), 2); /* one per successful fetch_token */

    /* A token that lives one second: stale at once, refused once expired. */
    tool_start(&t, "short", "script", "--start", "2024-01-01T00:00:00Z", "--token-ttl", "1",
               (char *)NULL);
    live_expired(&t);
    assert_int_equal(tool_stop(&t), 0);

    tool_start(&t, "faulty", "faulty", (char *)NULL);
    live_fault(&t);
    assert_int_equal(tool_stop(&t), 0);
    assert_int_equal(tokens_issued(&t), 1);

    /* A month in minutes: the tool on a clock SPEED times the wall clock. */
    since = (wall_now_ms() / 1000 - 1) * 1000;
    assert_true(sl_time_format(since, since_text, sizeof(since_text)) > 0);
    snprintf(speed_text, sizeof(speed_text), "%d", SPEED);
    tool_start(&t, "clock", "clock", "--speed", speed_text, "--since", since_text, "--token-ttl",
               "300", (char *)NULL);
    live_clock(&t, since);
    assert_int_equal(tool_stop(&t), 0);
    assert_int_equal(tokens_issued(&t), 3);
    remove_tmpdir();
    assert_int_equal(tmpdir[0], '\0');
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_token_request),
        cmocka_unit_test(test_token_request_refusals),
        cmocka_unit_test(test_metrics_request),
        cmocka_unit_test(test_iso_duration),
        cmocka_unit_test(test_metrics_request_refusals),
        cmocka_unit_test(test_token_parse),
        cmocka_unit_test(test_token_parse_errors),
        cmocka_unit_test(test_token_stale),
        cmocka_unit_test(test_metrics_parse),
        cmocka_unit_test(test_metrics_parse_series),
        cmocka_unit_test(test_metrics_parse_errors),
        cmocka_unit_test(test_live),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
