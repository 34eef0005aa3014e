/*
 * cloudwatch.c: the AWS CloudWatch adapter, which measures an aws.ec2 service through
 * GetMetricData in the AWS JSON 1.0 protocol (POST /, Content-Type application/x-amz-json-1.0,
 * X-Amz-Target GraniteServiceVersion20100801.GetMetricData), signed with SigV4 (sigv4.h).
 *
 * One request asks for one metric of one instance with period = the objective's interval over
 * [from, to), oldest first; a response may end with a NextToken, which the caller passes back
 * to get the next page. Each returned timestamp (Unix seconds) stands for the interval that
 * starts there; timestamps off the interval grid or outside [from, to) are ignored. Values
 * become the objective's unit by a plan fixed from the metric and the objective alone:
 *
 *   availability  StatusCheckFailed*: Maximum 0 -> up (1000000 ppm), > 0 -> down (0);
 *                 any other metric: Maximum, and a datapoint means up
 *   error_rate    a percentage metric (CPUUtilization, EBSIOBalance%, EBSByteBalance%):
 *                 Average in percent -> ppm
 *
 * Other pairs (a response time from StatusCheckFailed, say) are refused when the request is
 * built, by the SLA layer's table (sl_objective_measurable), which sl_sla_parse applies too.
 * The AWS JSON protocol writes non-finite doubles as the strings "NaN" and "Infinity": such
 * values, and any value that is not a number, leave their interval unknown. A response is checked
 * whole before any sample is written, so an error leaves the samples untouched. Errors carry AWS's
 * error type (its "__type" without the namespace) and message; authentication refusals are
 * SL_EAUTH, other HTTP errors SL_EIO.
 *
 * Secrets: the credential is borrowed and only reaches sl_sigv4_sign; the request's header
 * values and body are wiped when it is released. Pure functions, no I/O; reentrant.
 */
#include "slaledger/oracle.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "slaledger/sigv4.h"

#define CW_TARGET       "GraniteServiceVersion20100801.GetMetricData"
#define CW_CONTENT_TYPE "application/x-amz-json-1.0"
#define CW_SERVICE      "monitoring"
#define CW_QUERY_ID     "m0"
#define CW_AUTH_CAP     512
/* Latest timestamp read (9999-12-31T23:59:59Z, in seconds): beyond it, no arithmetic on the
 * value can overflow and no real datapoint exists. */
#define CW_MAX_SECONDS 253402300799.0
/* Bytes of an error body quoted in a message when it is not an AWS JSON error. */
#define CW_QUOTE 80

/* How a datapoint's value becomes a sample value. */
typedef enum cw_conv {
    CONV_STATUS_CHECK, /* 0 -> up, > 0 -> down */
    CONV_PRESENCE,     /* any datapoint -> up */
    CONV_PERCENT_PPM,  /* percent 0..100 -> ppm */
} cw_conv;

/* What one query asks CloudWatch for and how its answer is read; strings borrowed from q. */
typedef struct cw_plan {
    const char *instance;
    const char *region;
    const char *ns;
    const char *metric;
    const char *stat;
    cw_conv conv;
    int64_t period_s;
} cw_plan;

/* Where the request goes: url as sent, host and path as signed. Owned, freed by
 * endpoint_release. */
typedef struct cw_endpoint {
    char *url;
    char *host;
    char *path;
} cw_endpoint;

/* ---- the plan: what to ask for ---- */

/* CloudWatch accepts periods of 1, 5, 10 or 30 seconds (high resolution) or a multiple of
 * 60 seconds. */
static int period_ok(int64_t ms)
{
    int64_t s = ms / SL_MS_PER_SECOND;

    if (ms <= 0 || ms % SL_MS_PER_SECOND != 0)
        return 0;
    return s == 1 || s == 5 || s == 10 || s == 30 || s % 60 == 0;
}

/* Region names go into a host name and the credential scope: [a-z0-9-] only. */
static int region_ok(const char *r)
{
    if (!r || !*r)
        return 0;
    for (; *r; r++) {
        if (!((*r >= 'a' && *r <= 'z') || (*r >= '0' && *r <= '9') || *r == '-'))
            return 0;
    }
    return 1;
}

static int query_ok(const sl_source_query *q, sl_error *err)
{
    const sl_objective_spec *o = q ? q->objective : NULL;

    if (!q || !q->service || !o)
        return sl_error_set(err, SL_EINVAL, NULL, "query without service or objective");
    if (q->service->kind != SL_SVC_AWS_EC2)
        return sl_error_set(err, SL_EINVAL, "kind", "service %s is of kind %s, not aws.ec2",
                            q->service->name, sl_service_kind_name(q->service->kind));
    if (!period_ok(o->interval_ms))
        return sl_error_set(err, SL_EINVAL, "interval",
                            "CloudWatch periods are 1, 5, 10, 30 s or a multiple of 60 s, not "
                            "%lld ms (objective %s)",
                            (long long)o->interval_ms, o->name);
    if (q->to_ms <= q->from_ms || (q->to_ms - q->from_ms) % o->interval_ms != 0 ||
        q->from_ms % SL_MS_PER_SECOND != 0)
        return sl_error_set(err, SL_EINVAL, NULL, "[from, to) is not a whole number of intervals");
    return 0;
}

/* Chooses statistic and conversion for the objective's metric; which pairs can be measured at
 * all is the SLA layer's table (sl_objective_measurable). */
static int plan_metric(const sl_source_query *q, cw_plan *p, sl_error *err)
{
    int rc = sl_objective_measurable(q->service, q->objective, err);

    if (rc)
        return rc;
    if (q->objective->metric == SL_METRIC_AVAILABILITY) {
        p->stat = "Maximum";
        p->conv =
            strncmp(p->metric, "StatusCheckFailed", 17) == 0 ? CONV_STATUS_CHECK : CONV_PRESENCE;
        return 0;
    }
    if (q->objective->metric == SL_METRIC_ERROR_RATE) { /* from a percentage metric */
        p->stat = "Average";
        p->conv = CONV_PERCENT_PPM;
        return 0;
    }
    return sl_error_set(err, SL_EINVAL, "metric",
                        "metric %s cannot measure objective %s (%s): it is a check, which check "
                        "oracles report",
                        p->metric, q->objective->name, sl_metric_name(q->objective->metric));
}

/* Fills p from q: which metric of which instance, and how to read it. */
static int plan_make(const sl_source_query *q, cw_plan *p, sl_error *err)
{
    const char *v;
    int rc;

    memset(p, 0, sizeof(*p));
    if ((rc = query_ok(q, err)) != 0)
        return rc;
    p->instance = sl_source_get(q->service, "instance");
    if (!p->instance || !*p->instance)
        return sl_error_set(err, SL_EINVAL, "source.instance", "service %s has no source.instance",
                            q->service->name);
    p->region = sl_source_get(q->service, "region");
    if (!p->region && q->credential)
        p->region = q->credential->region;
    if (!region_ok(p->region))
        return sl_error_set(err, SL_EINVAL, "source.region",
                            "service %s has no valid source.region", q->service->name);
    v = sl_source_get(q->service, "namespace");
    p->ns = v && *v ? v : "AWS/EC2";
    p->metric = sl_cloudwatch_metric(q->service);
    p->period_s = q->objective->interval_ms / SL_MS_PER_SECOND;
    return plan_metric(q, p, err);
}

/* ---- the request ---- */

static void endpoint_release(cw_endpoint *e)
{
    free(e->url);
    free(e->host);
    free(e->path);
    memset(e, 0, sizeof(*e));
}

/* Splits the endpoint (source.endpoint, or the region's public one) into url, host and path.
 * The host drops the scheme's default port, as HTTP clients do in their Host header. */
static int endpoint_parse(const char *src, const char *region, cw_endpoint *e, sl_error *err)
{
    char def[128];
    const char *url = src, *auth, *slash;
    size_t alen;

    memset(e, 0, sizeof(*e));
    if (!url) {
        sl_strfmt(def, sizeof(def), "https://monitoring.%s.amazonaws.com/", region);
        url = def;
    }
    if (strncmp(url, "https://", 8) == 0)
        auth = url + 8;
    else if (strncmp(url, "http://", 7) == 0)
        auth = url + 7;
    else
        return sl_error_set(err, SL_EINVAL, "source.endpoint", "not an http(s) URL");
    if (strpbrk(url, "?#@ \t\r\n"))
        return sl_error_set(err, SL_EINVAL, "source.endpoint",
                            "an endpoint has no query, fragment, user or blanks");
    slash = strchr(auth, '/');
    alen = slash ? (size_t)(slash - auth) : strlen(auth);
    if (alen == 0)
        return sl_error_set(err, SL_EINVAL, "source.endpoint", "no host in the endpoint");
    if (auth == url + 8 && alen > 4 && strncmp(auth + alen - 4, ":443", 4) == 0)
        alen -= 4;
    else if (auth == url + 7 && alen > 3 && strncmp(auth + alen - 3, ":80", 3) == 0)
        alen -= 3;
    e->host = sl_strndup(auth, alen);
    e->path = sl_strdup(slash ? slash : "/");
    if (slash) {
        e->url = sl_strdup(url);
    } else if ((e->url = malloc(strlen(url) + 2)) != NULL) {
        sl_strfmt(e->url, strlen(url) + 2, "%s/", url);
    }
    if (!e->host || !e->path || !e->url)
        return sl_error_set(err, SL_ENOMEM, NULL, "out of memory");
    return 0;
}

/* True when s can be a JSON string (valid UTF-8, no NUL). */
static int utf8_ok(const char *s)
{
    json_t *j = json_string(s);

    json_decref(j);
    return j != NULL;
}

/* The GetMetricData body as compact JSON text (caller frees), or NULL. */
static char *body_text(const sl_source_query *q, const cw_plan *p, const char *next_token)
{
    json_int_t start = (json_int_t)(q->from_ms / SL_MS_PER_SECOND);
    json_int_t end = (json_int_t)((q->to_ms + SL_MS_PER_SECOND - 1) / SL_MS_PER_SECOND);
    json_t *body;
    char *text;

    body = json_pack("{s:[{s:s, s:{s:{s:s, s:s, s:[{s:s, s:s}]}, s:I, s:s}, s:b}], s:I, s:I, "
                     "s:s, s:s*}",
                     "MetricDataQueries", "Id", CW_QUERY_ID, "MetricStat", "Metric", "Namespace",
                     p->ns, "MetricName", p->metric, "Dimensions", "Name", "InstanceId", "Value",
                     p->instance, "Period", (json_int_t)p->period_s, "Stat", p->stat, "ReturnData",
                     1, "StartTime", start, "EndTime", end, "ScanBy", "TimestampAscending",
                     "NextToken", next_token);
    if (!body)
        return NULL;
    text = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    return text;
}

/* Signs the request and adds its headers to out. */
static int sign_into(const sl_source_query *q, const cw_plan *p, const cw_endpoint *e,
                     sl_http_req *out)
{
    static const char *const signed_hdrs[] = {"Content-Type:" CW_CONTENT_TYPE,
                                              "X-Amz-Target:" CW_TARGET, NULL};
    const sl_credential *c = q->credential;
    sl_sigv4_request r = {
        .method = "POST",
        .host = e->host,
        .path = e->path,
        .query = "",
        .headers = signed_hdrs,
        .body = out->body.p,
        .body_len = out->body.len,
        .region = p->region,
        .service = CW_SERVICE,
        .time_ms = q->now_ms,
    };
    const char *token = c->session_token && *c->session_token ? c->session_token : NULL;
    sl_sigv4_creds creds = {c->access_key_id, c->secret_access_key, token};
    char auth[CW_AUTH_CAP], date[SL_SIGV4_DATE_LEN + 1];
    int rc = sl_sigv4_sign(&r, &creds, auth, sizeof(auth), date);

    if (rc == 0)
        rc = sl_http_req_header(out, "Host: %s", e->host);
    if (rc == 0)
        rc = sl_http_req_header(out, "X-Amz-Date: %s", date);
    if (rc == 0 && token)
        rc = sl_http_req_header(out, "X-Amz-Security-Token: %s", token);
    if (rc == 0)
        rc = sl_http_req_header(out, "Content-Type: " CW_CONTENT_TYPE);
    if (rc == 0)
        rc = sl_http_req_header(out, "X-Amz-Target: " CW_TARGET);
    if (rc == 0)
        rc = sl_http_req_header(out, "Authorization: %s", auth);
    /* libcurl would otherwise wait for a 100 Continue before sending a large body. */
    if (rc == 0)
        rc = sl_http_req_header(out, "Expect:");
    return rc;
}

static int credential_ok(const sl_source_query *q, sl_error *err)
{
    const sl_credential *c = q->credential;

    if (!c)
        return sl_error_set(err, SL_EINVAL, "source.credentials",
                            "service %s needs an AWS credential", q->service->name);
    if (c->kind != SL_CREDENTIAL_AWS || !c->access_key_id || !c->secret_access_key)
        return sl_error_set(err, SL_EINVAL, "source.credentials",
                            "credential %s is not an AWS access key", c->name ? c->name : "?");
    return 0;
}

int sl_cloudwatch_request(const sl_source_query *q, const char *next_token, sl_http_req *out,
                          sl_error *err)
{
    cw_endpoint e = {0};
    char *text = NULL;
    cw_plan p;
    int rc;

    sl_http_req_init(out);
    if ((rc = plan_make(q, &p, err)) != 0 || (rc = credential_ok(q, err)) != 0)
        goto out;
    if (!utf8_ok(p.instance) || !utf8_ok(p.ns) || !utf8_ok(p.metric) ||
        (next_token && !utf8_ok(next_token))) {
        rc = sl_error_set(err, SL_EINVAL, "source", "source values must be UTF-8 text");
        goto out;
    }
    if ((rc = endpoint_parse(sl_source_endpoint(q, "endpoint"), p.region, &e, err)) != 0)
        goto out;
    text = body_text(q, &p, next_token);
    if (!text) {
        rc = sl_error_set(err, SL_ENOMEM, NULL, "out of memory");
        goto out;
    }
    sl_buf_put(&out->body, text, strlen(text));
    rc = out->body.err ? out->body.err : sl_http_req_set(out, "POST", e.url);
    if (rc == 0)
        rc = sign_into(q, &p, &e, out);
    if (rc != 0)
        sl_error_set(err, rc, NULL, "cannot build the signed CloudWatch request");
out:
    if (rc != 0)
        sl_http_req_release(out);
    free(text);
    endpoint_release(&e);
    return rc;
}

/* ---- errors ---- */

/* Copies at most n bytes of s into out[cap], control characters as '?', so a message from
 * the network cannot rewrite a terminal line. */
static void put_clean(char *out, size_t cap, const char *s, size_t n)
{
    size_t i;

    for (i = 0; i + 1 < cap && i < n && s[i]; i++)
        out[i] = ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) ? '?' : s[i];
    out[i] = '\0';
}

/* The error's type without its namespace ("com.amazon.coral.service#X" -> "X") and without
 * a ":http://..." suffix, as the AWS JSON protocol says clients must read it. */
static void error_type(const char *raw, char *out, size_t cap)
{
    const char *hash = strrchr(raw, '#');
    const char *s = hash ? hash + 1 : raw;
    const char *colon = strchr(s, ':');

    put_clean(out, cap, s, colon ? (size_t)(colon - s) : strlen(s));
}

static int is_auth_type(const char *type)
{
    static const char *const auth[] = {
        "UnrecognizedClient",   "InvalidSignature",
        "IncompleteSignature",  "MissingAuthenticationToken",
        "InvalidClientTokenId", "SignatureDoesNotMatch",
        "AccessDenied",         "ExpiredToken",
        "AuthFailure",          "NotAuthorized",
    };

    for (size_t i = 0; i < sizeof(auth) / sizeof(auth[0]); i++) {
        if (strncmp(type, auth[i], strlen(auth[i])) == 0)
            return 1;
    }
    return 0;
}

/* An HTTP error: the AWS error type and message when the body is an AWS JSON error, else the
 * start of the body. SL_EAUTH for 401, 403 and authentication types, SL_EIO otherwise. */
static int http_error(const sl_http_resp *resp, sl_error *err)
{
    char type[96] = "", msg[160] = "";
    json_t *root = json_loadb((const char *)resp->body.p, resp->body.len, 0, NULL);
    json_t *t = json_object_get(root, "__type"), *m = json_object_get(root, "message");
    int rc;

    if (!m)
        m = json_object_get(root, "Message");
    if (json_is_string(t))
        error_type(json_string_value(t), type, sizeof(type));
    if (json_is_string(m))
        put_clean(msg, sizeof(msg), json_string_value(m), strlen(json_string_value(m)));
    else if (!json_is_string(t) && resp->body.len > 0)
        put_clean(msg, sizeof(msg), (const char *)resp->body.p,
                  resp->body.len < CW_QUOTE ? resp->body.len : CW_QUOTE);
    json_decref(root);
    rc = (resp->status == 401 || resp->status == 403 || is_auth_type(type)) ? SL_EAUTH : SL_EIO;
    return sl_error_set(err, rc, NULL, "CloudWatch: HTTP %ld%s%s%s%s", resp->status,
                        type[0] ? " " : "", type, msg[0] ? ": " : "", msg);
}

/* ---- the response ---- */

/* A result's own failure (StatusCode InternalError or Forbidden), with its first message. */
static int result_status(const json_t *r, sl_error *err)
{
    const char *code = json_string_value(json_object_get(r, "StatusCode"));
    const json_t *m = json_array_get(json_object_get(r, "Messages"), 0);
    const char *text = json_string_value(json_object_get(m, "Value"));
    char clean[120];

    if (!code || (strcmp(code, "InternalError") != 0 && strcmp(code, "Forbidden") != 0))
        return 0;
    put_clean(clean, sizeof(clean), text ? text : "", text ? strlen(text) : 0);
    return sl_error_set(err, strcmp(code, "Forbidden") == 0 ? SL_EAUTH : SL_EIO, "StatusCode",
                        "CloudWatch: result %s%s%s", code, clean[0] ? ": " : "", clean);
}

/* Checks one element of MetricDataResults: parallel Timestamps (numbers) and Values arrays. */
static int result_check(const json_t *r, sl_error *err)
{
    const json_t *ts = json_object_get(r, "Timestamps"), *vs = json_object_get(r, "Values");
    size_t i;
    json_t *t;

    if (!json_is_object(r) || !json_is_string(json_object_get(r, "Id")))
        return sl_error_set(err, SL_EPARSE, "MetricDataResults", "a result without an Id");
    if ((ts && !json_is_array(ts)) || (vs && !json_is_array(vs)) ||
        json_array_size(ts) != json_array_size(vs))
        return sl_error_set(err, SL_EPARSE, "MetricDataResults",
                            "Timestamps and Values are not arrays of the same length");
    json_array_foreach(ts, i, t)
    {
        if (!json_is_number(t))
            return sl_error_set(err, SL_EPARSE, "MetricDataResults",
                                "a timestamp that is not a number");
    }
    return result_status(r, err);
}

/* Checks the whole body's shape and reads NextToken into *token (owned by the caller). */
static int body_check(const json_t *root, char **token, sl_error *err)
{
    const json_t *results = json_object_get(root, "MetricDataResults");
    const json_t *next = json_object_get(root, "NextToken");
    const json_t *r;
    size_t i;
    int rc;

    if (!json_is_object(root) || !json_is_array(results))
        return sl_error_set(err, SL_EPARSE, "MetricDataResults", "not a GetMetricData result");
    json_array_foreach(results, i, r)
    {
        if ((rc = result_check(r, err)) != 0)
            return rc;
    }
    if (next && !json_is_null(next) && !json_is_string(next))
        return sl_error_set(err, SL_EPARSE, "NextToken", "NextToken is not a string");
    if (json_is_string(next) && json_string_length(next) > 0) {
        *token = sl_strndup(json_string_value(next), json_string_length(next));
        if (!*token)
            return sl_error_set(err, SL_ENOMEM, NULL, "out of memory");
    }
    return 0;
}

static void sample_unknown(sl_sample *s, const char *reason)
{
    s->known = 0;
    s->value = 0;
    sl_strfmt(s->reason, sizeof(s->reason), "%s", reason);
}

static void sample_known(sl_sample *s, int64_t v)
{
    s->known = 1;
    s->value = v;
    s->reason[0] = '\0';
}

/* Rounds a non-negative double within int64 range to the nearest integer (without libm). */
static int64_t round_half_up(double x)
{
    return (int64_t)(x + 0.5);
}

/* Converts one datapoint value by the plan. */
static void put_value(const cw_plan *p, const json_t *v, sl_sample *s)
{
    double x = json_number_value(v);

    if (!json_is_number(v) || !isfinite(x)) {
        sample_unknown(s, "value is not a number");
        return;
    }
    switch (p->conv) {
    case CONV_STATUS_CHECK:
        if (x < 0)
            sample_unknown(s, "negative status check value");
        else
            sample_known(s, x == 0 ? SL_PPM_ONE : 0);
        return;
    case CONV_PRESENCE:
        sample_known(s, SL_PPM_ONE);
        return;
    case CONV_PERCENT_PPM:
        if (x < 0 || x > 100)
            sample_unknown(s, "percentage out of range");
        else
            sample_known(s, round_half_up(x * 10000.0));
        return;
    }
}

/* Writes the datapoints of one checked result into the samples of the intervals they start. */
static void result_apply(const sl_source_query *q, const cw_plan *p, const json_t *r,
                         sl_sample *samples)
{
    const json_t *ts = json_object_get(r, "Timestamps"), *vs = json_object_get(r, "Values");
    int64_t step = q->objective->interval_ms;
    json_t *t;
    size_t i;

    json_array_foreach(ts, i, t)
    {
        double sec = json_number_value(t);
        int64_t ms;

        if (!(sec >= 0 && sec <= CW_MAX_SECONDS))
            continue;
        ms = round_half_up(sec * 1000.0);
        if (ms < q->from_ms || ms >= q->to_ms || (ms - q->from_ms) % step != 0)
            continue;
        put_value(p, json_array_get(vs, i), &samples[(ms - q->from_ms) / step]);
    }
}

int sl_cloudwatch_parse(const sl_source_query *q, const sl_http_resp *resp, sl_sample *samples,
                        char **next_token, sl_error *err)
{
    char *token = NULL, why[JSON_ERROR_TEXT_LENGTH];
    json_t *root = NULL, *r;
    json_error_t jerr;
    cw_plan p;
    size_t i;
    int rc;

    if (next_token)
        *next_token = NULL;
    if ((rc = plan_make(q, &p, err)) != 0)
        goto out;
    if (!resp || !samples || !next_token) {
        rc = sl_error_set(err, SL_EINVAL, NULL, "no response, samples or token to fill");
        goto out;
    }
    if (resp->failed || resp->status == 0) {
        rc = sl_error_set(err, SL_EIO, NULL, "CloudWatch: no response: %s", resp->error);
        goto out;
    }
    if (resp->status != 200) {
        rc = http_error(resp, err);
        goto out;
    }
    root = json_loadb((const char *)resp->body.p, resp->body.len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root) {
        put_clean(why, sizeof(why), jerr.text, sizeof(jerr.text));
        rc = sl_error_set(err, SL_EPARSE, NULL, "CloudWatch: body is not JSON (line %d: %s)",
                          jerr.line, why);
        goto out;
    }
    if ((rc = body_check(root, &token, err)) != 0)
        goto out;
    json_array_foreach(json_object_get(root, "MetricDataResults"), i, r)
    {
        if (strcmp(json_string_value(json_object_get(r, "Id")), CW_QUERY_ID) == 0)
            result_apply(q, &p, r, samples);
    }
    *next_token = token;
    token = NULL;
out:
    free(token);
    json_decref(root);
    return rc;
}
