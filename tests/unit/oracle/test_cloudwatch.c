/*
 * test_cloudwatch.c: the CloudWatch adapter. Request building (the GetMetricData body field by
 * field, the AWS JSON 1.0 headers, a signature that sl_sigv4_sign reproduces, endpoints, and
 * refusals of sources that do not fit), response parsing (datapoints, gaps, NaN, off-grid and
 * out-of-range timestamps, malformed and wrongly shaped bodies, AWS error bodies, transport
 * failures, pagination tokens), then live exchanges with the stand-in server
 * ($SL_BUILD_DIR/tool_cloudwatch, started per test on 127.0.0.1 and stopped in its teardown):
 * an outage paged through exactly, wrong secrets, unknown keys, expired dates and the
 * scripted faults; a stand-in on a sped-up clock (--speed, --since); and its own protocol beyond
 * what the adapter sends (several queries newest first, MaxDatapoints, NextTokens bound to their
 * request, refusals of missing signatures, other operations, media types, bodies and periods),
 * since the demo and the scheduler's tests rely on it.
 */
#include <errno.h>
#include <math.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "slaledger/oracle.h"
#include "slaledger/sigv4.h"

#define AKID   "AKIDEXAMPLE"
#define SECRET "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
#define REGION "eu-central-1"
#define INST   "i-0abc123def4567890"
/* 2026-12-01T00:00:00Z */
#define T0     1796083200000LL
#define MAX_N  32
#define TARGET "GraniteServiceVersion20100801.GetMetricData"
#define CTYPE  "application/x-amz-json-1.0"
#define SPEED  600 /* the sped-up stand-in's clock: 10 of its minutes per wall second */

/* ---- fixture: one aws.ec2 service, one objective, one credential ---- */

typedef struct fx {
    sl_kv kv[8];
    sl_service_spec svc;
    sl_objective_spec obj;
    sl_credential cred;
    sl_source_query q;
    sl_sample s[MAX_N];
    size_t n;
    char endpoint[64];
} fx;

static void fx_set(fx *f, const char *key, const char *value)
{
    for (size_t i = 0; i < f->svc.n_source; i++) {
        if (strcmp(f->kv[i].key, key) == 0) {
            f->kv[i].value = (char *)value;
            return;
        }
    }
    f->kv[f->svc.n_source].key = (char *)key;
    f->kv[f->svc.n_source++].value = (char *)value;
}

/* Intervals [from, from + n * interval), all unknown "no datapoint" as a caller leaves them. */
static void fx_range(fx *f, int64_t from, size_t n)
{
    f->n = n;
    f->q.from_ms = from;
    f->q.to_ms = from + (int64_t)n * f->obj.interval_ms;
    for (size_t i = 0; i < n; i++)
        f->s[i].start_ms = from + (int64_t)i * f->obj.interval_ms;
    sl_samples_unknown(f->s, n, "no datapoint");
}

static void fx_init(fx *f, sl_metric m, int64_t interval_ms)
{
    memset(f, 0, sizeof(*f));
    f->svc.name = "web-01";
    f->svc.kind = SL_SVC_AWS_EC2;
    f->svc.source = f->kv;
    fx_set(f, "credentials", "aws-main");
    fx_set(f, "instance", INST);
    fx_set(f, "region", REGION);
    f->obj.name = "uptime";
    f->obj.metric = m;
    f->obj.interval_ms = interval_ms;
    f->cred.name = "aws-main";
    f->cred.kind = SL_CREDENTIAL_AWS;
    f->cred.access_key_id = AKID;
    f->cred.secret_access_key = SECRET;
    f->cred.region = REGION;
    f->q.service = &f->svc;
    f->q.objective = &f->obj;
    f->q.credential = &f->cred;
    f->q.now_ms = T0 + SL_MS_PER_HOUR;
    fx_range(f, T0, 5);
}

/* The value of header name in req ("Name: value" -> "value"), or NULL. */
static const char *req_header(const sl_http_req *req, const char *name)
{
    size_t n = strlen(name);

    for (size_t i = 0; i < req->n_headers; i++) {
        if (strncasecmp(req->headers[i], name, n) == 0 && req->headers[i][n] == ':')
            return req->headers[i] + n + 1 + strspn(req->headers[i] + n + 1, " ");
    }
    return NULL;
}

static json_t *req_json(const sl_http_req *req)
{
    json_t *j = json_loadb((const char *)req->body.p, req->body.len, 0, NULL);

    assert_non_null(j);
    return j;
}

/* ---- requests ---- */

static void test_request_body(void **state)
{
    sl_http_req req;
    sl_error err;
    fx f;
    (void)state;

    fx_init(&f, SL_METRIC_AVAILABILITY, 60000);
    sl_http_req_init(&req);
    assert_int_equal(sl_cloudwatch_request(&f.q, NULL, &req, &err), 0);
    assert_string_equal(req.method, "POST");
    assert_string_equal(req.url, "https://monitoring." REGION ".amazonaws.com/");
    json_t *b = req_json(&req);
    json_t *mq = json_array_get(json_object_get(b, "MetricDataQueries"), 0);
    json_t *ms = json_object_get(mq, "MetricStat"), *m = json_object_get(ms, "Metric");
    json_t *dim = json_array_get(json_object_get(m, "Dimensions"), 0);
    assert_int_equal(json_array_size(json_object_get(b, "MetricDataQueries")), 1);
    assert_string_equal(json_string_value(json_object_get(mq, "Id")), "m0");
    assert_true(json_is_true(json_object_get(mq, "ReturnData")));
    assert_string_equal(json_string_value(json_object_get(m, "Namespace")), "AWS/EC2");
    assert_string_equal(json_string_value(json_object_get(m, "MetricName")), "StatusCheckFailed");
    assert_int_equal(json_array_size(json_object_get(m, "Dimensions")), 1);
    assert_string_equal(json_string_value(json_object_get(dim, "Name")), "InstanceId");
    assert_string_equal(json_string_value(json_object_get(dim, "Value")), INST);
    assert_int_equal(json_integer_value(json_object_get(ms, "Period")), 60);
    assert_string_equal(json_string_value(json_object_get(ms, "Stat")), "Maximum");
    assert_int_equal(json_integer_value(json_object_get(b, "StartTime")), T0 / 1000);
    assert_int_equal(json_integer_value(json_object_get(b, "EndTime")), T0 / 1000 + 300);
    assert_string_equal(json_string_value(json_object_get(b, "ScanBy")), "TimestampAscending");
    assert_null(json_object_get(b, "NextToken"));
    json_decref(b);
    sl_http_req_release(&req);

    /* The next page: the same query with the token. */
    assert_int_equal(sl_cloudwatch_request(&f.q, "tok/en+1", &req, &err), 0);
    b = req_json(&req);
    assert_string_equal(json_string_value(json_object_get(b, "NextToken")), "tok/en+1");
    json_decref(b);
    sl_http_req_release(&req);
}

static void test_request_source_keys(void **state)
{
    sl_http_req req;
    sl_error err;
    fx f;
    (void)state;

    fx_init(&f, SL_METRIC_ERROR_RATE, 300000);
    fx_set(&f, "namespace", "Custom/NS");
    fx_set(&f, "metric", "CPUUtilization");
    fx_set(&f, "endpoint", "http://127.0.0.1:8080");
    sl_http_req_init(&req);
    assert_int_equal(sl_cloudwatch_request(&f.q, NULL, &req, &err), 0);
    assert_string_equal(req.url, "http://127.0.0.1:8080/");
    assert_string_equal(req_header(&req, "Host"), "127.0.0.1:8080");
    json_t *b = req_json(&req);
    json_t *ms =
        json_object_get(json_array_get(json_object_get(b, "MetricDataQueries"), 0), "MetricStat");
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(ms, "Metric"), "Namespace")),
        "Custom/NS");
    assert_string_equal(json_string_value(json_object_get(ms, "Stat")), "Average");
    assert_int_equal(json_integer_value(json_object_get(ms, "Period")), 300);
    json_decref(b);
    sl_http_req_release(&req);

    /* A default port is not part of the Host; a path is kept. */
    fx_set(&f, "endpoint", "https://cw.example:443/proxy/cw");
    assert_int_equal(sl_cloudwatch_request(&f.q, NULL, &req, &err), 0);
    assert_string_equal(req.url, "https://cw.example:443/proxy/cw");
    assert_string_equal(req_header(&req, "Host"), "cw.example");
    sl_http_req_release(&req);
}

/* Re-signs what the request says it sends and expects the same Authorization value. */
static void check_signature(const fx *f, const sl_http_req *req, const char *token)
{
    const char *hdrs[] = {"Content-Type:application/x-amz-json-1.0",
                          "X-Amz-Target:GraniteServiceVersion20100801.GetMetricData", NULL};
    sl_sigv4_request r = {
        .method = "POST",
        .host = req_header(req, "Host"),
        .path = "/",
        .query = "",
        .headers = hdrs,
        .body = req->body.p,
        .body_len = req->body.len,
        .region = REGION,
        .service = "monitoring",
        .time_ms = f->q.now_ms,
    };
    sl_sigv4_creds c = {AKID, SECRET, token};
    char auth[512], date[SL_SIGV4_DATE_LEN + 1];

    assert_int_equal(sl_sigv4_sign(&r, &c, auth, sizeof(auth), date), 0);
    assert_string_equal(req_header(req, "Authorization"), auth);
    assert_string_equal(req_header(req, "X-Amz-Date"), date);
}

static void test_request_signature(void **state)
{
    sl_http_req req;
    sl_error err;
    fx f;
    (void)state;

    fx_init(&f, SL_METRIC_AVAILABILITY, 60000);
    sl_http_req_init(&req);
    assert_int_equal(sl_cloudwatch_request(&f.q, NULL, &req, &err), 0);
    assert_string_equal(req_header(&req, "Content-Type"), "application/x-amz-json-1.0");
    assert_string_equal(req_header(&req, "X-Amz-Target"),
                        "GraniteServiceVersion20100801.GetMetricData");
    assert_string_equal(req_header(&req, "Host"), "monitoring." REGION ".amazonaws.com");
    assert_string_equal(req_header(&req, "X-Amz-Date"), "20261201T010000Z");
    assert_null(req_header(&req, "X-Amz-Security-Token"));
    assert_non_null(strstr(req_header(&req, "Authorization"),
                           "Credential=" AKID "/20261201/" REGION "/monitoring/aws4_request"));
    assert_non_null(strstr(req_header(&req, "Authorization"),
                           "SignedHeaders=content-type;host;x-amz-date;x-amz-target,"));
    check_signature(&f, &req, NULL);
    sl_http_req_release(&req);

    /* Temporary credentials: the token is sent and signed. */
    f.cred.session_token = "FQoGZXIvYXdzEXAMPLE";
    assert_int_equal(sl_cloudwatch_request(&f.q, NULL, &req, &err), 0);
    assert_string_equal(req_header(&req, "X-Amz-Security-Token"), "FQoGZXIvYXdzEXAMPLE");
    assert_non_null(strstr(req_header(&req, "Authorization"),
                           "SignedHeaders=content-type;host;x-amz-date;x-amz-security-token;"));
    check_signature(&f, &req, "FQoGZXIvYXdzEXAMPLE");
    sl_http_req_release(&req);
}

/* Expects sl_cloudwatch_request to refuse with SL_EINVAL, a message containing what, and an
 * empty request. */
static void expect_refusal(const fx *f, const char *what)
{
    sl_http_req req;
    sl_error err = {0};

    sl_http_req_init(&req);
    assert_int_equal(sl_cloudwatch_request(&f->q, NULL, &req, &err), SL_EINVAL);
    assert_int_equal(err.code, SL_EINVAL);
    if (!strstr(err.msg, what))
        fail_msg("message \"%s\" lacks \"%s\"", err.msg, what);
    assert_null(req.url);
    assert_int_equal(req.n_headers, 0);
    assert_int_equal(req.body.len, 0);
    sl_http_req_release(&req);
}

static void test_request_refusals(void **state)
{
    sl_credential azure = {.name = "az", .kind = SL_CREDENTIAL_AZURE};
    fx f;
    (void)state;

    fx_init(&f, SL_METRIC_AVAILABILITY, 60000);
    f.svc.kind = SL_SVC_AZURE_VM;
    expect_refusal(&f, "not aws.ec2");
    fx_init(&f, SL_METRIC_AVAILABILITY, 60000);
    f.q.credential = NULL;
    expect_refusal(&f, "needs an AWS credential");
    f.q.credential = &azure;
    expect_refusal(&f, "not an AWS access key");
    fx_init(&f, SL_METRIC_RESPONSE_TIME, 60000);
    expect_refusal(&f, "metric StatusCheckFailed cannot measure objective uptime");
    fx_init(&f, SL_METRIC_ERROR_RATE, 60000);
    expect_refusal(&f, "cannot measure");
    fx_init(&f, SL_METRIC_AVAILABILITY, 45000);
    fx_range(&f, T0, 2);
    expect_refusal(&f, "multiple of 60");
    fx_init(&f, SL_METRIC_AVAILABILITY, 60000);
    f.q.to_ms = f.q.from_ms;
    expect_refusal(&f, "whole number of intervals");
    fx_init(&f, SL_METRIC_AVAILABILITY, 60000);
    fx_set(&f, "endpoint", "ftp://cw.example/");
    expect_refusal(&f, "http(s)");
    fx_set(&f, "endpoint", "https://user@cw.example/");
    expect_refusal(&f, "no query");
    fx_init(&f, SL_METRIC_AVAILABILITY, 60000);
    fx_set(&f, "region", "eu central/1");
    expect_refusal(&f, "region");
    fx_init(&f, SL_METRIC_AVAILABILITY, 60000);
    fx_set(&f, "instance", "");
    expect_refusal(&f, "instance");
}

/* ---- responses ---- */

static int parse_body(fx *f, long status, const char *body, char **token, sl_error *err)
{
    sl_http_resp resp;
    int rc;

    sl_http_resp_init(&resp);
    resp.status = status;
    sl_buf_put(&resp.body, body, strlen(body));
    rc = sl_cloudwatch_parse(&f->q, &resp, f->s, token, err);
    sl_http_resp_release(&resp);
    return rc;
}

static void expect_known(const sl_sample *s, int64_t v)
{
    if (!s->known || s->value != v)
        fail_msg("sample at %lld: known %d value %lld (%s), expected %lld", (long long)s->start_ms,
                 s->known, (long long)s->value, s->reason, (long long)v);
}

static void expect_unknown(const sl_sample *s, const char *reason)
{
    if (s->known || !strstr(s->reason, reason))
        fail_msg("sample at %lld: known %d reason \"%s\", expected unknown \"%s\"",
                 (long long)s->start_ms, s->known, s->reason, reason);
}

static void test_parse_availability(void **state)
{
    char *token = (char *)"garbage";
    sl_error err;
    fx f;
    (void)state;

    /* T0 = 1796083200 s. Datapoints: up, down (1.0), gap, NaN, up; plus an off-grid timestamp,
     * one before the range and one after it, which must change nothing. */
    fx_init(&f, SL_METRIC_AVAILABILITY, 60000);
    assert_int_equal(parse_body(&f, 200,
                                "{\"MetricDataResults\":[{\"Id\":\"m0\",\"Label\":\"x\","
                                "\"Timestamps\":[1796083200,1796083260.0,1796083380,"
                                "1796083440,1796083230,1796083140,1796083500],"
                                "\"Values\":[0.0,1.0,\"NaN\",0,1,1,1],"
                                "\"StatusCode\":\"Complete\"}],\"Messages\":[]}",
                                &token, &err),
                     0);
    assert_null(token);
    expect_known(&f.s[0], 1000000);
    expect_known(&f.s[1], 0);
    expect_unknown(&f.s[2], "no datapoint");
    expect_unknown(&f.s[3], "not a number");
    expect_known(&f.s[4], 1000000);

    /* Another metric: a datapoint means up, whatever its value. */
    fx_init(&f, SL_METRIC_AVAILABILITY, 60000);
    fx_set(&f, "metric", "CPUUtilization");
    assert_int_equal(parse_body(&f, 200,
                                "{\"MetricDataResults\":[{\"Id\":\"m0\",\"Timestamps\":"
                                "[1796083320,1796083200],\"Values\":[87.5,null]}]}",
                                &token, &err),
                     0);
    expect_unknown(&f.s[0], "not a number");
    expect_unknown(&f.s[1], "no datapoint");
    expect_known(&f.s[2], 1000000);
}

static void test_parse_error_rate(void **state)
{
    char *token = NULL;
    sl_error err;
    fx f;
    (void)state;

    fx_init(&f, SL_METRIC_ERROR_RATE, 60000);
    fx_set(&f, "metric", "CPUUtilization");
    assert_int_equal(parse_body(&f, 200,
                                "{\"MetricDataResults\":[{\"Id\":\"m0\",\"Timestamps\":"
                                "[1796083200,1796083260,1796083320,1796083380],"
                                "\"Values\":[12.5,33.33334,150,-1]},"
                                "{\"Id\":\"other\",\"Timestamps\":[1796083440],"
                                "\"Values\":[50]}]}",
                                &token, &err),
                     0);
    expect_known(&f.s[0], 125000);
    expect_known(&f.s[1], 333333); /* 333333.4 ppm, rounded */
    expect_unknown(&f.s[2], "out of range");
    expect_unknown(&f.s[3], "out of range");
    expect_unknown(&f.s[4], "no datapoint"); /* another query's datapoint */
}

static void test_parse_pagination(void **state)
{
    char *token = NULL;
    sl_error err;
    fx f;
    (void)state;

    fx_init(&f, SL_METRIC_AVAILABILITY, 60000);
    assert_int_equal(parse_body(&f, 200,
                                "{\"MetricDataResults\":[{\"Id\":\"m0\",\"Timestamps\":"
                                "[1796083200],\"Values\":[0],\"StatusCode\":\"PartialData\"}],"
                                "\"NextToken\":\"abc/def==\"}",
                                &token, &err),
                     0);
    assert_string_equal(token, "abc/def==");
    free(token);
    expect_known(&f.s[0], 1000000);
    assert_int_equal(
        parse_body(&f, 200, "{\"MetricDataResults\":[],\"NextToken\":null}", &token, &err), 0);
    assert_null(token);
    assert_int_equal(
        parse_body(&f, 200, "{\"MetricDataResults\":[],\"NextToken\":\"\"}", &token, &err), 0);
    assert_null(token);
}

/* Expects a refusal with code rc, a message containing what, untouched samples, no token. */
static void expect_parse_error(long status, const char *body, int rc, const char *what)
{
    sl_sample before[MAX_N];
    char *token = (char *)"garbage";
    sl_error err = {0};
    fx f;

    fx_init(&f, SL_METRIC_AVAILABILITY, 60000);
    memcpy(before, f.s, sizeof(before));
    assert_int_equal(parse_body(&f, status, body, &token, &err), rc);
    assert_int_equal(err.code, rc);
    if (!strstr(err.msg, what))
        fail_msg("message \"%s\" lacks \"%s\"", err.msg, what);
    assert_null(token);
    assert_memory_equal(before, f.s, sizeof(before));
}

static void test_parse_malformed(void **state)
{
    (void)state;
    expect_parse_error(200, "", SL_EPARSE, "not JSON");
    expect_parse_error(200, "{\"MetricDataResults\":[{\"Id\":\"m0\",\"Timestamps\":[1", SL_EPARSE,
                       "not JSON");
    expect_parse_error(200, "[]", SL_EPARSE, "not a GetMetricData result");
    expect_parse_error(200, "{}", SL_EPARSE, "not a GetMetricData result");
    expect_parse_error(200, "{\"MetricDataResults\":{}}", SL_EPARSE, "not a GetMetricData");
    expect_parse_error(200, "{\"MetricDataResults\":[{\"Timestamps\":[],\"Values\":[]}]}",
                       SL_EPARSE, "without an Id");
    expect_parse_error(200, "{\"MetricDataResults\":[7]}", SL_EPARSE, "without an Id");
    expect_parse_error(200,
                       "{\"MetricDataResults\":[{\"Id\":\"m0\",\"Timestamps\":[1796083200],"
                       "\"Values\":[]}]}",
                       SL_EPARSE, "same length");
    expect_parse_error(200,
                       "{\"MetricDataResults\":[{\"Id\":\"m0\",\"Timestamps\":"
                       "[\"2026-12-01T00:00:00Z\"],\"Values\":[0]}]}",
                       SL_EPARSE, "not a number");
    expect_parse_error(200,
                       "{\"MetricDataResults\":[{\"Id\":\"m0\",\"Timestamps\":[1796083200],"
                       "\"Values\":[0]}],\"NextToken\":5}",
                       SL_EPARSE, "NextToken");
    /* A valid datapoint before a bad result must not be written either. */
    expect_parse_error(200,
                       "{\"MetricDataResults\":[{\"Id\":\"m0\",\"Timestamps\":[1796083200],"
                       "\"Values\":[1]},{\"Id\":\"m1\",\"Timestamps\":{}}]}",
                       SL_EPARSE, "same length");
    expect_parse_error(200, "{\"MetricDataResults\":[],\"MetricDataResults\":[]}", SL_EPARSE,
                       "not JSON");
}

static void test_parse_errors(void **state)
{
    (void)state;
    expect_parse_error(400,
                       "{\"__type\":\"com.amazonaws.cloudwatch#InvalidParameterValueException\","
                       "\"message\":\"The parameter Period is bad\"}",
                       SL_EIO, "HTTP 400 InvalidParameterValueException: The parameter Period");
    expect_parse_error(403,
                       "{\"__type\":\"InvalidSignatureException\",\"message\":\"The request "
                       "signature we calculated does not match\"}",
                       SL_EAUTH, "InvalidSignatureException: The request signature");
    expect_parse_error(400,
                       "{\"__type\":\"com.amazon.coral.service#UnrecognizedClientException:"
                       "http://internal.amazon.com/coral/\",\"Message\":\"bad\\ntoken\"}",
                       SL_EAUTH, "UnrecognizedClientException: bad?token");
    expect_parse_error(500, "<html>\x1b[2Jboom</html>", SL_EIO, "HTTP 500: <html>?[2Jboom");
    expect_parse_error(503, "", SL_EIO, "HTTP 503");
    expect_parse_error(200,
                       "{\"MetricDataResults\":[{\"Id\":\"m0\",\"StatusCode\":\"InternalError\","
                       "\"Messages\":[{\"Code\":\"InternalError\",\"Value\":\"try later\"}]}]}",
                       SL_EIO, "InternalError: try later");
    expect_parse_error(200,
                       "{\"MetricDataResults\":[{\"Id\":\"m0\",\"StatusCode\":\"Forbidden\"}]}",
                       SL_EAUTH, "Forbidden");
}

static void test_parse_transport_failure(void **state)
{
    sl_http_resp resp;
    char *token = NULL;
    sl_error err;
    fx f;
    (void)state;

    fx_init(&f, SL_METRIC_AVAILABILITY, 60000);
    sl_http_resp_init(&resp);
    resp.failed = 1;
    sl_strfmt(resp.error, sizeof(resp.error), "Timeout was reached");
    assert_int_equal(sl_cloudwatch_parse(&f.q, &resp, f.s, &token, &err), SL_EIO);
    assert_non_null(strstr(err.msg, "Timeout was reached"));
    expect_unknown(&f.s[0], "no datapoint");
    /* A query the adapter cannot serve is refused by the parser too. */
    fx_init(&f, SL_METRIC_DELAY, 60000);
    resp.failed = 0;
    resp.status = 200;
    assert_int_equal(sl_cloudwatch_parse(&f.q, &resp, f.s, &token, &err), SL_EINVAL);
    sl_http_resp_release(&resp);
}

/* ---- live: the stand-in server ---- */

typedef struct live {
    char dir[64];
    char keys[96];
    char script[96];
    pid_t pid;
    unsigned port;
    int64_t base;  /* a minute boundary 20 minutes ago: every interval of the test has ended */
    int64_t since; /* with a sped-up clock (--speed SPEED --since since); else -1 */
} live;

static int64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");

    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

/* Reads "listening on 127.0.0.1:PORT" from fd within 10 s. */
static unsigned read_port(int fd)
{
    char line[128];
    size_t n = 0;
    unsigned port = 0;
    struct pollfd p = {.fd = fd, .events = POLLIN};

    while (n + 1 < sizeof(line) && !memchr(line, '\n', n)) {
        if (poll(&p, 1, 10000) <= 0)
            return 0;
        ssize_t r = read(fd, line + n, sizeof(line) - 1 - n);
        if (r <= 0)
            return 0;
        n += (size_t)r;
    }
    line[n] = '\0';
    return sscanf(line, "listening on 127.0.0.1:%u", &port) == 1 ? port : 0;
}

static void live_spawn(live *l, const char *page_size)
{
    const char *build = getenv("SL_BUILD_DIR");
    char exe[512], speed[16], since[32] = "";
    const char *argv[] = {exe,    "--keys",      l->keys,   "--script", l->script, "--region",
                          REGION, "--page-size", page_size, "--port",   "0",       "--speed",
                          speed,  "--since",     since,     NULL};
    int fd[2];

    assert_non_null(build);
    snprintf(exe, sizeof(exe), "%s/tool_cloudwatch", build);
    snprintf(speed, sizeof(speed), "%d", SPEED);
    if (l->since < 0)
        argv[11] = NULL; /* the wall clock */
    else
        assert_true(sl_time_format(l->since, since, sizeof(since)) > 0);
    assert_int_equal(pipe(fd), 0);
    l->pid = fork();
    assert_true(l->pid >= 0);
    if (l->pid == 0) {
        dup2(fd[1], STDOUT_FILENO);
        close(fd[0]);
        close(fd[1]);
        execv(exe, (char *const *)argv);
        _exit(127);
    }
    close(fd[1]);
    l->port = read_port(fd[0]);
    close(fd[0]);
    if (l->port == 0) {
        /* A failed setup gets no teardown: stop the child here. */
        kill(l->pid, SIGKILL);
        waitpid(l->pid, NULL, 0);
        l->pid = 0;
        fail_msg("%s did not report its port", exe);
    }
}

/* Writes the keys file and the script (with @N replaced by base + N minutes, RFC 3339), and
 * starts the stand-in, on a sped-up clock from since unless since is -1. */
static int live_setup_script(void **state, const char *script, const char *page_size, int64_t since)
{
    live *l = calloc(1, sizeof(*l));
    char out[2048], ts[32];
    size_t n = 0;

    assert_non_null(l);
    l->base = (now_ms() / 60000) * 60000 - 20 * SL_MS_PER_MINUTE;
    l->since = since;
    snprintf(l->dir, sizeof(l->dir), "/tmp/sl-cw-XXXXXX");
    assert_non_null(mkdtemp(l->dir));
    snprintf(l->keys, sizeof(l->keys), "%s/keys", l->dir);
    snprintf(l->script, sizeof(l->script), "%s/script", l->dir);
    write_file(l->keys, "# test keys\n" AKID " " SECRET "\nAKIDTOKEN secret2 tok123\n");
    for (const char *p = script; *p && n + 32 < sizeof(out); p++) {
        if (*p != '@') {
            out[n++] = *p;
            continue;
        }
        long minutes = strtol(p + 1, (char **)&p, 10);
        p--;
        assert_true(sl_time_format(l->base + minutes * 30000, ts, sizeof(ts)) > 0);
        n += (size_t)snprintf(out + n, sizeof(out) - n, "%s", ts);
    }
    out[n] = '\0';
    write_file(l->script, out);
    *state = l;
    live_spawn(l, page_size);
    return 0;
}

static int live_teardown(void **state)
{
    live *l = *state;
    int status;

    if (!l)
        return 0;
    if (l->pid > 0) {
        kill(l->pid, SIGTERM);
        struct timespec tick = {0, 100000000L};
        for (int i = 0; i < 100 && waitpid(l->pid, &status, WNOHANG) == 0; i++)
            nanosleep(&tick, NULL);
        if (waitpid(l->pid, &status, WNOHANG) == 0) {
            kill(l->pid, SIGKILL);
            waitpid(l->pid, &status, 0);
        }
    }
    unlink(l->keys);
    unlink(l->script);
    rmdir(l->dir);
    free(l);
    return 0;
}

/* In scripts, @N is base + N half-minutes. An outage from 5.5 to 8 minutes (a partial first
 * minute, which Maximum must count as down), a gap in minute 10, CPU at 12.5 %. */
static int setup_outage(void **state)
{
    return live_setup_script(state,
                             "# an outage\n" INST " StatusCheckFailed default 0\n" INST
                             " StatusCheckFailed @11 @16 1\n" INST
                             " StatusCheckFailed @20 @22 missing\n" INST
                             " CPUUtilization default 12.5\n",
                             "4", -1);
}

static int setup_http500(void **state)
{
    return live_setup_script(state, INST " StatusCheckFailed default 0\nfault -1h +1h http500\n",
                             "100", -1);
}

static int setup_malformed(void **state)
{
    return live_setup_script(state, INST " StatusCheckFailed default 0\nfault -1h +1h malformed\n",
                             "100", -1);
}

static int setup_slow(void **state)
{
    return live_setup_script(state, INST " StatusCheckFailed default 0\nfault -1h +1h slow\n",
                             "100", -1);
}

/* A stand-in whose clock runs SPEED times the wall clock from a whole second a second or two
 * ago, so it starts 10 to 20 of its minutes past since; relative times count from since: an
 * outage from +10m to +20m, then HTTP 500 from +35m. */
static int setup_clock(void **state)
{
    return live_setup_script(state,
                             INST " StatusCheckFailed default 0\n" INST
                                  " StatusCheckFailed +10m +20m 1\nfault +35m +2h http500\n",
                             "100", (now_ms() / 1000 - 1) * 1000);
}

/* The live fixture: 15 one-minute intervals from base against the stand-in. */
static void live_fx(const live *l, fx *f, sl_metric m)
{
    fx_init(f, m, 60000);
    snprintf(f->endpoint, sizeof(f->endpoint), "http://127.0.0.1:%u", l->port);
    fx_set(f, "endpoint", f->endpoint);
    fx_range(f, l->base, 15);
    f->q.now_ms = now_ms();
}

/* Pages through the whole range: request -> perform -> parse. Returns the first error, and
 * the number of pages in *pages. */
static int measure(fx *f, int64_t timeout_ms, int *pages, sl_error *err)
{
    char *token = NULL, *next;
    sl_http_resp resp;
    sl_http_req req;
    int rc;

    *pages = 0;
    sl_http_resp_init(&resp);
    do {
        next = NULL;
        sl_http_req_init(&req);
        rc = sl_cloudwatch_request(&f->q, token, &req, err);
        assert_int_equal(rc, 0);
        req.timeout_ms = timeout_ms;
        rc = sl_http_perform(&req, &resp);
        if (rc == 0 || resp.failed)
            rc = sl_cloudwatch_parse(&f->q, &resp, f->s, &next, err);
        sl_http_req_release(&req);
        free(token);
        token = next;
        (*pages)++;
    } while (rc == 0 && token && *pages < 50);
    free(token);
    sl_http_resp_release(&resp);
    return rc;
}

static void test_live_outage(void **state)
{
    live *l = *state;
    sl_error err = {0};
    int pages;
    fx f;

    live_fx(l, &f, SL_METRIC_AVAILABILITY);
    if (measure(&f, 0, &pages, &err) != 0)
        fail_msg("measure: %s", err.msg);
    /* 14 datapoints (minute 10 is a gap) at 4 per page. */
    assert_int_equal(pages, 4);
    for (size_t i = 0; i < 15; i++) {
        if (i == 10)
            expect_unknown(&f.s[i], "no datapoint");
        else
            expect_known(&f.s[i], i >= 5 && i <= 7 ? 0 : 1000000);
    }

    /* CPU as an error rate: Average 12.5 % everywhere. */
    live_fx(l, &f, SL_METRIC_ERROR_RATE);
    fx_set(&f, "metric", "CPUUtilization");
    assert_int_equal(measure(&f, 0, &pages, &err), 0);
    for (size_t i = 0; i < 15; i++)
        expect_known(&f.s[i], 125000);

    /* An instance CloudWatch knows nothing of: empty results, every interval unknown. */
    live_fx(l, &f, SL_METRIC_AVAILABILITY);
    fx_set(&f, "instance", "i-unknown");
    assert_int_equal(measure(&f, 0, &pages, &err), 0);
    assert_int_equal(pages, 1);
    for (size_t i = 0; i < 15; i++)
        expect_unknown(&f.s[i], "no datapoint");

    /* Temporary credentials with their session token. */
    live_fx(l, &f, SL_METRIC_AVAILABILITY);
    f.cred.access_key_id = "AKIDTOKEN";
    f.cred.secret_access_key = "secret2";
    f.cred.session_token = "tok123";
    assert_int_equal(measure(&f, 0, &pages, &err), 0);
    expect_known(&f.s[6], 0);
}

/* Expects the stand-in to refuse: code rc, a message containing what, samples unknown. */
static void expect_live_refusal(fx *f, int rc, const char *what)
{
    sl_error err = {0};
    int pages;

    assert_int_equal(measure(f, 0, &pages, &err), rc);
    if (!strstr(err.msg, what))
        fail_msg("message \"%s\" lacks \"%s\"", err.msg, what);
    assert_int_equal(pages, 1);
    expect_unknown(&f->s[0], "no datapoint");
}

static void test_live_refusals(void **state)
{
    live *l = *state;
    fx f;

    live_fx(l, &f, SL_METRIC_AVAILABILITY);
    f.cred.secret_access_key = "not-the-secret";
    expect_live_refusal(&f, SL_EAUTH, "InvalidSignatureException: The request signature");
    live_fx(l, &f, SL_METRIC_AVAILABILITY);
    f.cred.access_key_id = "AKIDUNKNOWN";
    expect_live_refusal(&f, SL_EAUTH, "UnrecognizedClientException");
    live_fx(l, &f, SL_METRIC_AVAILABILITY);
    f.q.now_ms -= 20 * SL_MS_PER_MINUTE;
    expect_live_refusal(&f, SL_EAUTH, "Signature expired");
    live_fx(l, &f, SL_METRIC_AVAILABILITY);
    f.q.now_ms += 20 * SL_MS_PER_MINUTE;
    expect_live_refusal(&f, SL_EAUTH, "Signature not yet current");
    live_fx(l, &f, SL_METRIC_AVAILABILITY);
    fx_set(&f, "region", "us-west-2");
    expect_live_refusal(&f, SL_EAUTH, "scoped to a valid region");
    live_fx(l, &f, SL_METRIC_AVAILABILITY);
    f.cred.access_key_id = "AKIDTOKEN";
    f.cred.secret_access_key = "secret2";
    f.cred.session_token = "wrong-token";
    expect_live_refusal(&f, SL_EAUTH, "security token included in the request is invalid");
}

/* The sped-up stand-in's clock, as the node with the same spec.clock would read it. */
static int64_t clock_now(const live *l)
{
    int64_t wall = now_ms();

    return wall <= l->since ? wall : l->since + (wall - l->since) * SPEED;
}

static void wait_clock(const live *l, int64_t t)
{
    struct timespec tick = {0, 20000000L};

    while (clock_now(l) < t)
        nanosleep(&tick, NULL);
}

/* Two and a half wall seconds make 25 of the stand-in's minutes: the outage is over and
 * served, the minutes after now are not, a request signed by the wall clock is 25 minutes
 * late; a wall second later the scripted fault has begun. */
static void test_live_clock(void **state)
{
    live *l = *state;
    int64_t m0 = l->since / 60000 * 60000, before, after;
    sl_error err = {0};
    int pages;
    fx f;

    wait_clock(l, l->since + 25 * SL_MS_PER_MINUTE);
    live_fx(l, &f, SL_METRIC_AVAILABILITY);
    fx_range(&f, m0, MAX_N);
    expect_live_refusal(&f, SL_EAUTH, "Signature expired");

    live_fx(l, &f, SL_METRIC_AVAILABILITY);
    fx_range(&f, m0, MAX_N);
    f.q.now_ms = before = clock_now(l);
    if (measure(&f, 0, &pages, &err) != 0)
        fail_msg("measure: %s", err.msg);
    after = clock_now(l);
    for (size_t i = 0; i < MAX_N; i++) {
        int64_t from = m0 + (int64_t)i * 60000, to = from + 60000;
        int down = from < l->since + 20 * SL_MS_PER_MINUTE && to > l->since + 10 * SL_MS_PER_MINUTE;
        if (to <= before)
            expect_known(&f.s[i], down ? 0 : 1000000);
        else if (to > after)
            expect_unknown(&f.s[i], "no datapoint");
    }

    wait_clock(l, l->since + 36 * SL_MS_PER_MINUTE);
    live_fx(l, &f, SL_METRIC_AVAILABILITY);
    f.q.now_ms = clock_now(l);
    expect_live_refusal(&f, SL_EIO, "HTTP 500 InternalServiceFault");
}

static void test_live_http500(void **state)
{
    fx f;

    live_fx(*state, &f, SL_METRIC_AVAILABILITY);
    expect_live_refusal(&f, SL_EIO, "HTTP 500 InternalServiceFault");
}

static void test_live_malformed(void **state)
{
    fx f;

    live_fx(*state, &f, SL_METRIC_AVAILABILITY);
    expect_live_refusal(&f, SL_EPARSE, "not JSON");
}

static void test_live_slow(void **state)
{
    sl_error err = {0};
    int pages;
    fx f;

    /* Answered 3 s late: a 1 s timeout fails the transfer; a patient client gets the data. */
    live_fx(*state, &f, SL_METRIC_AVAILABILITY);
    assert_int_equal(measure(&f, 1000, &pages, &err), SL_EIO);
    expect_unknown(&f.s[0], "no datapoint");
    live_fx(*state, &f, SL_METRIC_AVAILABILITY);
    assert_int_equal(measure(&f, 8000, &pages, &err), 0);
    expect_known(&f.s[14], 1000000);
}

/* ---- live: the stand-in's protocol beyond what the adapter sends ---- */

/* Sends body (signed with the test key unless unsigned_) with the given target and content
 * type to the stand-in; returns the HTTP status, the parsed body in *out (caller frees). */
static long raw_call(const live *l, const char *body, const char *target, const char *ctype,
                     int unsigned_, json_t **out)
{
    char host[32], url[64], h1[128], h2[128], auth[512], date[SL_SIGV4_DATE_LEN + 1];
    const char *hdrs[] = {h1, h2, NULL};
    sl_sigv4_creds c = {AKID, SECRET, NULL};
    sl_http_resp resp;
    sl_http_req req;
    long status;

    snprintf(host, sizeof(host), "127.0.0.1:%u", l->port);
    snprintf(url, sizeof(url), "http://%s/", host);
    snprintf(h1, sizeof(h1), "Content-Type:%s", ctype);
    snprintf(h2, sizeof(h2), "X-Amz-Target:%s", target);
    sl_sigv4_request r = {
        .method = "POST",
        .host = host,
        .path = "/",
        .query = "",
        .headers = hdrs,
        .body = (const uint8_t *)body,
        .body_len = strlen(body),
        .region = REGION,
        .service = "monitoring",
        .time_ms = now_ms(),
    };
    assert_int_equal(sl_sigv4_sign(&r, &c, auth, sizeof(auth), date), 0);
    sl_http_req_init(&req);
    sl_http_resp_init(&resp);
    assert_int_equal(sl_http_req_set(&req, "POST", url), 0);
    assert_int_equal(sl_http_req_header(&req, "X-Amz-Date: %s", date), 0);
    assert_int_equal(sl_http_req_header(&req, "Content-Type: %s", ctype), 0);
    assert_int_equal(sl_http_req_header(&req, "X-Amz-Target: %s", target), 0);
    if (!unsigned_)
        assert_int_equal(sl_http_req_header(&req, "Authorization: %s", auth), 0);
    sl_buf_put(&req.body, body, strlen(body));
    assert_int_equal(sl_http_perform(&req, &resp), 0);
    *out = json_loadb((const char *)resp.body.p, resp.body.len, 0, NULL);
    assert_non_null(*out);
    status = resp.status;
    sl_http_req_release(&req);
    sl_http_resp_release(&resp);
    return status;
}

/* Two queries (StatusCheckFailed per minute, CPU per 5 minutes) over the 15 minutes of the
 * outage script, newest first, at most 3 datapoints per page. */
static char *two_queries(const live *l, int64_t start_ms, const char *token)
{
    json_t *b = json_pack(
        "{s:[{s:s, s:{s:{s:s, s:s, s:[{s:s, s:s}]}, s:i, s:s}},"
        " {s:s, s:{s:{s:s, s:s, s:[{s:s, s:s}]}, s:i, s:s}, s:b}],"
        " s:I, s:I, s:s, s:i, s:s*}",
        "MetricDataQueries", "Id", "m0", "MetricStat", "Metric", "Namespace", "AWS/EC2",
        "MetricName", "StatusCheckFailed", "Dimensions", "Name", "InstanceId", "Value", INST,
        "Period", 60, "Stat", "Maximum", "Id", "c1", "MetricStat", "Metric", "Namespace", "AWS/EC2",
        "MetricName", "CPUUtilization", "Dimensions", "Name", "InstanceId", "Value", INST, "Period",
        300, "Stat", "Average", "ReturnData", 1, "StartTime", (json_int_t)(start_ms / 1000),
        "EndTime", (json_int_t)(l->base / 1000 + 900), "ScanBy", "TimestampDescending",
        "MaxDatapoints", 3, "NextToken", token);
    char *text = json_dumps(b, JSON_COMPACT);

    json_decref(b);
    assert_non_null(text);
    return text;
}

/* Appends the datapoints of result id in page to ts[*n], checking values. */
static void collect(const json_t *page, const char *id, double value_or_nan, int64_t *ts, size_t *n,
                    size_t *in_page)
{
    const json_t *r;
    size_t i;

    json_array_foreach(json_object_get(page, "MetricDataResults"), i, r)
    {
        const json_t *t = json_object_get(r, "Timestamps"), *v = json_object_get(r, "Values");
        if (strcmp(json_string_value(json_object_get(r, "Id")), id) != 0)
            continue;
        assert_int_equal(json_array_size(t), json_array_size(v));
        for (size_t j = 0; j < json_array_size(t); j++) {
            ts[(*n)++] = (int64_t)(json_number_value(json_array_get(t, j)) * 1000.0);
            if (!isnan(value_or_nan))
                assert_true(json_number_value(json_array_get(v, j)) == value_or_nan);
            (*in_page)++;
        }
    }
}

static void test_live_standin_paging(void **state)
{
    live *l = *state;
    int64_t m0[64], c1[64];
    size_t n0 = 0, n1 = 0;
    char *body, *token = NULL;
    json_t *page;
    int pages = 0;

    do {
        size_t in_page = 0;
        body = two_queries(l, l->base, token);
        assert_int_equal(raw_call(l, body, TARGET, CTYPE, 0, &page), 200);
        free(body);
        collect(page, "m0", NAN, m0, &n0, &in_page);
        collect(page, "c1", 12.5, c1, &n1, &in_page);
        assert_true(in_page <= 3);
        free(token);
        token = sl_strdup(json_string_value(json_object_get(page, "NextToken")));
        json_decref(page);
        pages++;
    } while (token && pages < 20);
    assert_int_equal(pages, 6); /* 14 + 3 datapoints, 3 per page */
    assert_int_equal(n0, 14);
    assert_int_equal(n1, 3);
    for (size_t i = 0; i + 1 < n0; i++)
        assert_true(m0[i] > m0[i + 1]);
    assert_int_equal(m0[0], l->base + 14 * 60000);
    assert_int_equal(c1[2], l->base);
}

/* Expects the stand-in to refuse body (signed unless unsigned_) with status and type. */
static void expect_standin_error(const live *l, const char *body, const char *target,
                                 const char *ctype, int unsigned_, long status, const char *type)
{
    json_t *page;

    assert_int_equal(raw_call(l, body, target, ctype, unsigned_, &page), status);
    assert_string_equal(json_string_value(json_object_get(page, "__type")), type);
    assert_non_null(json_string_value(json_object_get(page, "message")));
    json_decref(page);
}

static void test_live_standin_refusals(void **state)
{
    live *l = *state;
    char *body, *token;
    json_t *page;

    /* A token continues only the request it came from. */
    body = two_queries(l, l->base, NULL);
    assert_int_equal(raw_call(l, body, TARGET, CTYPE, 0, &page), 200);
    free(body);
    token = sl_strdup(json_string_value(json_object_get(page, "NextToken")));
    assert_non_null(token);
    json_decref(page);
    body = two_queries(l, l->base + 60000, token);
    free(token);
    expect_standin_error(l, body, TARGET, CTYPE, 0, 400, "InvalidNextToken");

    /* What CloudWatch refuses. */
    expect_standin_error(l, body, TARGET, CTYPE, 1, 403, "MissingAuthenticationTokenException");
    expect_standin_error(l, body, "GraniteServiceVersion20100801.ListMetrics", CTYPE, 0, 400,
                         "UnknownOperationException");
    expect_standin_error(l, body, TARGET, "application/json", 0, 400, "SerializationException");
    free(body);
    expect_standin_error(l, "{\"MetricDataQueries\":", TARGET, CTYPE, 0, 400,
                         "SerializationException");
    assert_int_equal(raw_call(l,
                              "{\"MetricDataQueries\":[{\"Id\":\"m0\",\"MetricStat\":{\"Metric\":"
                              "{\"Namespace\":\"AWS/EC2\",\"MetricName\":\"CPUUtilization\"},"
                              "\"Period\":45,\"Stat\":\"Average\"}}],\"StartTime\":0,"
                              "\"EndTime\":60}",
                              TARGET, CTYPE, 0, &page),
                     400);
    assert_non_null(strstr(json_string_value(json_object_get(page, "message")), "Period"));
    json_decref(page);
    assert_int_equal(raw_call(l,
                              "{\"MetricDataQueries\":[{\"Id\":\"m0\",\"MetricStat\":{\"Metric\":"
                              "{\"Namespace\":\"AWS/EC2\",\"MetricName\":\"CPUUtilization\"},"
                              "\"Period\":60,\"Stat\":\"Average\"}}],\"StartTime\":120,"
                              "\"EndTime\":60}",
                              TARGET, CTYPE, 0, &page),
                     400);
    assert_non_null(strstr(json_string_value(json_object_get(page, "message")), "StartTime"));
    json_decref(page);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_request_body),
        cmocka_unit_test(test_request_source_keys),
        cmocka_unit_test(test_request_signature),
        cmocka_unit_test(test_request_refusals),
        cmocka_unit_test(test_parse_availability),
        cmocka_unit_test(test_parse_error_rate),
        cmocka_unit_test(test_parse_pagination),
        cmocka_unit_test(test_parse_malformed),
        cmocka_unit_test(test_parse_errors),
        cmocka_unit_test(test_parse_transport_failure),
        cmocka_unit_test_setup_teardown(test_live_outage, setup_outage, live_teardown),
        cmocka_unit_test_setup_teardown(test_live_refusals, setup_outage, live_teardown),
        cmocka_unit_test_setup_teardown(test_live_standin_paging, setup_outage, live_teardown),
        cmocka_unit_test_setup_teardown(test_live_standin_refusals, setup_outage, live_teardown),
        cmocka_unit_test_setup_teardown(test_live_http500, setup_http500, live_teardown),
        cmocka_unit_test_setup_teardown(test_live_malformed, setup_malformed, live_teardown),
        cmocka_unit_test_setup_teardown(test_live_slow, setup_slow, live_teardown),
        cmocka_unit_test_setup_teardown(test_live_clock, setup_clock, live_teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
