/*
 * azure.c: the Azure Monitor adapter: an OAuth2 client-credentials token from the Microsoft
 * identity platform (v2.0 endpoint), then the metrics REST API (Metrics - List, api-version
 * 2018-01-01) of one virtual machine.
 *
 * Like every adapter it is pure: builders turn a query into an sl_http_req, parsers turn an
 * sl_http_resp into a token or samples; the transport and the token cache live elsewhere
 * (request.c, measure.c). The wire format:
 *
 *   token    POST <login>/<tenant>/oauth2/v2.0/token, form-encoded grant_type=client_credentials,
 *            client_id, client_secret, scope=<management endpoint>/.default; the answer is
 *            {"token_type":"Bearer","expires_in":3599,"access_token":"..."} or, refused,
 *            {"error":"invalid_client","error_description":"AADSTS7000215: ..."}.
 *   metrics  GET <management>/subscriptions/<s>/resourceGroups/<g>/providers/
 *            Microsoft.Compute/virtualMachines/<vm>/providers/Microsoft.Insights/metrics
 *            ?api-version=2018-01-01&timespan=START/END&interval=PT1M&metricnames=<m>
 *            &aggregation=Minimum with "Authorization: Bearer <token>"; the answer is
 *            {"value":[{"name":{"value":m},"timeseries":[{"data":[{"timeStamp":T,
 *            "minimum":1.0},...]}]}]} or {"error":{"code","message"}}.
 *
 * Only availability objectives are measured: Azure publishes no per-interval response time,
 * throughput or error rate for a VM, so anything else is refused (SL_EINVAL) by the builders.
 * The metric is source.metric or VmAvailabilityMetric, always with the Minimum aggregation:
 * VmAvailabilityMetric's minimum v in [0, 1] is the interval's availability (v * 1000000 ppm,
 * rounded: 1 is up, 0 down, a fraction is converted as it is); for any other metric (e.g.
 * "Percentage CPU") a datapoint means up. A datapoint without the minimum
 * field is no datapoint (the interval stays unknown); a value outside [0, 1] makes its
 * interval unknown. Each datapoint belongs to the interval starting at its timeStamp; points
 * outside the query's range or off its grid are ignored, and where several time series cover
 * one interval the lowest value counts. Intervals are sent as ISO 8601 durations of whole
 * seconds ("PT1M", "PT1H", "P1D"); Azure itself accepts only PT1M, PT5M, PT15M, PT30M, PT1H,
 * PT6H, PT12H and P1D and refuses others (an HTTP 400, reported as SL_EIO).
 *
 * Errors: a token refusal (a JSON "error", or HTTP 401/403) is SL_EAUTH with the service's
 * error and description; HTTP 5xx and other statuses are SL_EIO. A metrics answer with HTTP
 * 401/403 (InvalidAuthenticationToken, ExpiredAuthenticationToken, AuthorizationFailed) is
 * SL_EAUTH, any other non-200 status SL_EIO, both with the code and message of ARM's
 * {"error":{...}} or the metrics API's own {"code","message"}; a metric whose errorCode is
 * not Success is SL_EIO; a body not of the documented shape is SL_EPARSE. On any error the
 * samples are left as they were.
 *
 * Ownership: requests own what they hold (the form body and the Authorization header carry
 * secrets and are wiped on release); the builders leave *out released (empty) on failure. A
 * parsed token's access_token is the caller's, wiped by sl_azure_token_release;
 * sl_azure_token_parse overwrites *out without releasing what it held (release a previous
 * token first, or parse into a fresh one) and leaves it empty ({NULL, 0}) on failure. Text from
 * responses that ends up in messages is cut short and stripped of control characters.
 * Thread-safety: reentrant.
 */
#include "slaledger/oracle.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>
#include <sodium.h>

#define DEFAULT_LOGIN      "https://login.microsoftonline.com"
#define DEFAULT_MANAGEMENT "https://management.azure.com"
#define DEFAULT_METRIC     "VmAvailabilityMetric"
#define API_VERSION        "2018-01-01"
#define AGGREGATION        "Minimum"
#define AGGREGATION_FIELD  "minimum"
#define STALE_MARGIN_MS    (5 * SL_MS_PER_MINUTE)
#define MAX_EXPIRES_IN_S   (366LL * 24 * 3600) /* longer lifetimes are not believed */
#define MAX_TOKEN_LEN      16384               /* real tokens are JWTs of 1-3 KiB */
#define MAX_SAMPLES        50000000            /* SL_MAX_INTERVALS */
#define TEXT_CAP           96                  /* bytes of service text quoted in messages */
#define MAX_TIME_MS        253402300800000LL   /* 10000-01-01: RFC 3339 ends there */

/* ---- tokens ---- */

void sl_azure_token_release(sl_azure_token *t)
{
    if (!t)
        return;
    if (t->access_token) {
        sodium_memzero(t->access_token, strlen(t->access_token));
        free(t->access_token);
    }
    t->access_token = NULL;
    t->expires_ms = 0;
}

int sl_azure_token_stale(const sl_azure_token *t, int64_t now_ms)
{
    if (!t || !t->access_token || !t->access_token[0])
        return 1;
    if (t->expires_ms < INT64_MIN + STALE_MARGIN_MS)
        return 1;
    return now_ms >= t->expires_ms - STALE_MARGIN_MS;
}

/* ---- shared checks and helpers ---- */

/* Copies at most cap - 1 bytes of service-supplied text into out, control characters as '?'. */
static void clean_text(char *out, size_t cap, const char *s)
{
    size_t i = 0;

    for (; s && s[i] && i + 1 < cap; i++)
        out[i] = ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) ? '?' : s[i];
    out[i] = '\0';
}

static int check_service(const sl_source_query *q, sl_error *err)
{
    if (!q || !q->service || !q->objective)
        return sl_error_set(err, SL_EINVAL, "query", "no service or objective");
    if (q->service->kind != SL_SVC_AZURE_VM)
        return sl_error_set(err, SL_EINVAL, "kind", "service %s is %s, not azure.vm",
                            q->service->name ? q->service->name : "?",
                            sl_service_kind_name(q->service->kind));
    return 0;
}

/* The service's source value key, or SL_EINVAL naming it. */
static int need_source(const sl_source_query *q, const char *key, const char **out, sl_error *err)
{
    *out = sl_source_get(q->service, key);
    if (!*out || !**out)
        return sl_error_set(err, SL_EINVAL, "source", "service %s has no source.%s",
                            q->service->name ? q->service->name : "?", key);
    return 0;
}

/* Appends source.key (or def) without trailing slashes. */
static void put_base(sl_buf *b, const sl_source_query *q, const char *key, const char *def)
{
    const char *u = sl_source_endpoint(q, key);
    size_t n;

    if (!u || !*u)
        u = def;
    n = strlen(u);
    while (n > 0 && u[n - 1] == '/')
        n--;
    sl_buf_put(b, u, n);
}

static void put_text(sl_buf *b, const char *s)
{
    sl_buf_put(b, s, strlen(s));
}

/* The metric the query asks for. */
static const char *metric_name(const sl_source_query *q)
{
    const char *m = sl_source_get(q->service, "metric");

    return m && *m ? m : DEFAULT_METRIC;
}

/* Every query needs an objective Azure can measure (the SLA layer's table: availability) and a
 * non-empty range aligned to its interval. */
static int check_range(const sl_source_query *q, sl_error *err)
{
    int64_t step = q->objective->interval_ms;
    int rc = sl_objective_measurable(q->service, q->objective, err);

    if (rc)
        return rc;
    if (q->objective->metric != SL_METRIC_AVAILABILITY) /* a check: run by check oracles */
        return sl_error_set(err, SL_EINVAL, "metric",
                            "Azure VM metrics measure availability only; objective %s (%s) is a "
                            "check, which check oracles report",
                            q->objective->name, sl_metric_name(q->objective->metric));
    if (step <= 0 || q->from_ms < 0 || q->to_ms > MAX_TIME_MS || q->to_ms <= q->from_ms ||
        (q->to_ms - q->from_ms) % step != 0 || (q->to_ms - q->from_ms) / step > MAX_SAMPLES)
        return sl_error_set(err, SL_EINVAL, "range",
                            "[from, to) must be a non-empty whole number of intervals");
    return 0;
}

/* ---- the token request ---- */

static int check_credential(const sl_source_query *q, sl_error *err)
{
    const sl_credential *c = q->credential;

    if (!c)
        return sl_error_set(err, SL_EINVAL, "credentials", "service %s needs an azure credential",
                            q->service->name ? q->service->name : "?");
    if (c->kind != SL_CREDENTIAL_AZURE || !c->client_id || !*c->client_id || !c->client_secret ||
        !*c->client_secret)
        return sl_error_set(err, SL_EINVAL, "credentials",
                            "credential %s is not an azure credential with client_id and "
                            "client_secret",
                            c->name ? c->name : "?");
    return 0;
}

/* The tenant: source.tenant and the credential's tenant_id, which must agree when both set. */
static int tenant_of(const sl_source_query *q, const char **out, sl_error *err)
{
    const char *src = sl_source_get(q->service, "tenant");
    const char *cred = q->credential->tenant_id;

    if (src && !*src)
        src = NULL;
    if (cred && !*cred)
        cred = NULL;
    if (src && cred && strcasecmp(src, cred) != 0)
        return sl_error_set(err, SL_EINVAL, "source.tenant",
                            "service tenant %s differs from tenant_id %s of credential %s", src,
                            cred, q->credential->name ? q->credential->name : "?");
    *out = src ? src : cred;
    if (!*out)
        return sl_error_set(err, SL_EINVAL, "source.tenant",
                            "neither the service nor the credential names a tenant");
    return 0;
}

static void form_field(sl_buf *b, const char *name, const char *value)
{
    if (b->len > 0)
        sl_buf_put_u8(b, '&');
    put_text(b, name);
    sl_buf_put_u8(b, '=');
    sl_url_encode(b, value, strlen(value));
}

/* The form body. Its storage is reserved up front so that no reallocation leaves a copy of
 * the secret behind in freed memory. */
static int token_body(const sl_source_query *q, sl_buf *body)
{
    const sl_credential *c = q->credential;
    sl_buf scope;
    int rc = SL_ENOMEM;

    sl_buf_init(&scope);
    put_base(&scope, q, "endpoint", DEFAULT_MANAGEMENT);
    put_text(&scope, "/.default");
    if (!sl_buf_cstr(&scope))
        goto out;
    if (sl_buf_reserve(body,
                       3 * (strlen(c->client_id) + strlen(c->client_secret) + scope.len) + 96) != 0)
        goto out;
    form_field(body, "grant_type", "client_credentials");
    form_field(body, "client_id", c->client_id);
    form_field(body, "client_secret", c->client_secret);
    form_field(body, "scope", (const char *)scope.p);
    rc = body->err ? SL_ENOMEM : 0;
out:
    sl_buf_release(&scope);
    return rc;
}

int sl_azure_token_request(const sl_source_query *q, sl_http_req *out, sl_error *err)
{
    const char *tenant = NULL;
    sl_buf url;
    int rc;

    sl_buf_init(&url);
    if ((rc = check_service(q, err)) != 0 || (rc = check_credential(q, err)) != 0 ||
        (rc = tenant_of(q, &tenant, err)) != 0)
        goto out;
    put_base(&url, q, "login_endpoint", DEFAULT_LOGIN);
    sl_buf_put_u8(&url, '/');
    sl_url_encode(&url, tenant, strlen(tenant));
    put_text(&url, "/oauth2/v2.0/token");
    rc = sl_buf_cstr(&url) ? sl_http_req_set(out, "POST", (const char *)url.p) : SL_ENOMEM;
    if (rc == 0)
        rc = sl_http_req_header(out, "Content-Type: application/x-www-form-urlencoded");
    if (rc == 0)
        rc = sl_http_req_header(out, "Accept: application/json");
    if (rc == 0)
        rc = token_body(q, &out->body);
    if (rc != 0)
        sl_error_set(err, rc, NULL, "cannot build the token request: %s", sl_strerror(rc));
out:
    if (rc != 0)
        sl_http_req_release(out);
    sl_buf_release(&url);
    return rc;
}

/* ---- the token response ---- */

/* expires_in as Microsoft sends it (a number) or as some proxies do (a string of digits). */
static int expires_in(const json_t *v, int64_t *out)
{
    const char *s;
    double d;

    if (json_is_integer(v)) {
        *out = json_integer_value(v);
    } else if (json_is_real(v)) {
        d = json_real_value(v);
        if (!(d >= 1 && d <= (double)MAX_EXPIRES_IN_S) || d != (double)(int64_t)d)
            return SL_EPARSE;
        *out = (int64_t)d;
    } else if (json_is_string(v)) {
        s = json_string_value(v);
        if (json_string_length(v) < 1 || json_string_length(v) > 10 ||
            strspn(s, "0123456789") != json_string_length(v))
            return SL_EPARSE;
        *out = strtoll(s, NULL, 10);
    } else {
        return SL_EPARSE;
    }
    return *out >= 1 && *out <= MAX_EXPIRES_IN_S ? 0 : SL_EPARSE;
}

/* A token goes into a header: printable ASCII without spaces only. */
static int token_valid(const json_t *v)
{
    size_t n = json_string_length(v);
    const char *s = json_string_value(v);

    if (!s || n < 1 || n > MAX_TOKEN_LEN)
        return 0;
    for (size_t i = 0; i < n; i++) {
        if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f)
            return 0;
    }
    return 1;
}

/* A refusal by the identity platform: {"error": "...", "error_description": "AADSTS...: ..."}. */
static int token_refusal(long status, const json_t *root, sl_error *err)
{
    const char *e = json_string_value(json_object_get(root, "error"));
    const char *d = json_string_value(json_object_get(root, "error_description"));
    char code[TEXT_CAP], desc[2 * TEXT_CAP];

    clean_text(code, sizeof(code), e ? e : "");
    clean_text(desc, sizeof(desc), d ? d : "");
    if (status >= 500 || (!e && status != 401 && status != 403))
        return sl_error_set(err, SL_EIO, "token", "Azure login: HTTP %ld %s %s", status, code,
                            desc);
    return sl_error_set(err, SL_EAUTH, "token", "Azure login refused (HTTP %ld): %s: %s", status,
                        e ? code : "unauthorized", desc);
}

static int token_read(const json_t *root, int64_t now_ms, sl_azure_token *out, sl_error *err)
{
    const char *type = json_string_value(json_object_get(root, "token_type"));
    const json_t *tok = json_object_get(root, "access_token");
    int64_t secs = 0;

    if (!type || strcasecmp(type, "Bearer") != 0)
        return sl_error_set(err, SL_EPARSE, "token_type",
                            "token response: token_type is not "
                            "Bearer");
    if (expires_in(json_object_get(root, "expires_in"), &secs) != 0)
        return sl_error_set(err, SL_EPARSE, "expires_in",
                            "token response: expires_in is not 1..%lld seconds",
                            (long long)MAX_EXPIRES_IN_S);
    if (!json_is_string(tok) || !token_valid(tok))
        return sl_error_set(err, SL_EPARSE, "access_token",
                            "token response: access_token missing or not a printable token");
    if (sl_add(now_ms, secs * SL_MS_PER_SECOND, &out->expires_ms) != 0)
        return sl_error_set(err, SL_EPARSE, "expires_in", "token response: expiry overflows");
    out->access_token = sl_strndup(json_string_value(tok), json_string_length(tok));
    if (!out->access_token)
        return sl_error_set(err, SL_ENOMEM, NULL, "out of memory");
    return 0;
}

int sl_azure_token_parse(const sl_http_resp *resp, int64_t now_ms, sl_azure_token *out,
                         sl_error *err)
{
    json_t *root = NULL;
    int rc;

    if (!out)
        return sl_error_set(err, SL_EINVAL, NULL, "no token to fill");
    out->access_token = NULL;
    out->expires_ms = 0;
    if (!resp)
        return sl_error_set(err, SL_EINVAL, NULL, "no response");
    if (resp->failed) {
        rc = sl_error_set(err, SL_EIO, "token", "Azure login: %s", resp->error);
        goto out;
    }
    if (resp->body.len > 0)
        root = json_loadb((const char *)resp->body.p, resp->body.len, JSON_REJECT_DUPLICATES, NULL);
    if (resp->status != 200 || json_is_string(json_object_get(root, "error"))) {
        rc = token_refusal(resp->status, root, err);
        goto out;
    }
    if (!json_is_object(root)) {
        rc = sl_error_set(err, SL_EPARSE, "token", "token response is not a JSON object");
        goto out;
    }
    rc = token_read(root, now_ms, out, err);
out:
    json_decref(root);
    if (rc != 0)
        sl_azure_token_release(out);
    return rc;
}

/* ---- the metrics request ---- */

/* Writes ms (whole seconds, > 0) as an ISO 8601 duration: 60000 -> "PT1M", 90000 -> "PT1M30S",
 * 86400000 -> "P1D". SL_EINVAL otherwise. */
static int iso_duration(int64_t ms, char *buf, size_t cap)
{
    int64_t s = ms / SL_MS_PER_SECOND;
    int64_t part[4] = {s / 86400, s / 3600 % 24, s / 60 % 60, s % 60};
    static const char unit[4] = {'D', 'H', 'M', 'S'};
    size_t n = 1;

    if (ms <= 0 || ms % SL_MS_PER_SECOND != 0 || cap < 40)
        return SL_EINVAL;
    buf[0] = 'P';
    buf[1] = '\0';
    for (int i = 0; i < 4; i++) {
        if (i == 1 && (part[1] || part[2] || part[3]))
            n += (size_t)snprintf(buf + n, cap - n, "T");
        if (part[i])
            n += (size_t)snprintf(buf + n, cap - n, "%lld%c", (long long)part[i], unit[i]);
    }
    return (int)n;
}

/* Appends "&name=value" with value percent-encoded. */
static void query_param(sl_buf *b, const char *name, const char *value)
{
    sl_buf_put_u8(b, '&');
    put_text(b, name);
    sl_buf_put_u8(b, '=');
    sl_url_encode(b, value, strlen(value));
}

/* Appends "/<literal>/<encoded value>". */
static void path_segment(sl_buf *b, const char *literal, const char *value)
{
    put_text(b, literal);
    sl_url_encode(b, value, strlen(value));
}

/* The metrics URL, with the resource path and every query parameter. */
static int metrics_url(const sl_source_query *q, sl_buf *url, sl_error *err)
{
    const char *sub, *group, *vm, *metric = metric_name(q);
    char from[32], to[32], span[72], grain[40];
    int rc;

    if ((rc = need_source(q, "subscription", &sub, err)) != 0 ||
        (rc = need_source(q, "resource_group", &group, err)) != 0 ||
        (rc = need_source(q, "vm", &vm, err)) != 0)
        return rc;
    if (strchr(metric, ',') != NULL)
        return sl_error_set(err, SL_EINVAL, "source.metric",
                            "metric names with a comma cannot be asked for");
    if (iso_duration(q->objective->interval_ms, grain, sizeof(grain)) < 0)
        return sl_error_set(err, SL_EINVAL, "interval",
                            "interval %lld ms is not a whole number of seconds",
                            (long long)q->objective->interval_ms);
    if (sl_time_format(q->from_ms, from, sizeof(from)) < 0 ||
        sl_time_format(q->to_ms, to, sizeof(to)) < 0)
        return sl_error_set(err, SL_EINVAL, "range", "[from, to) is out of range");
    sl_strfmt(span, sizeof(span), "%s/%s", from, to);
    put_base(url, q, "endpoint", DEFAULT_MANAGEMENT);
    path_segment(url, "/subscriptions/", sub);
    path_segment(url, "/resourceGroups/", group);
    path_segment(url, "/providers/Microsoft.Compute/virtualMachines/", vm);
    put_text(url, "/providers/Microsoft.Insights/metrics?api-version=" API_VERSION);
    query_param(url, "timespan", span);
    query_param(url, "interval", grain);
    query_param(url, "metricnames", metric);
    query_param(url, "aggregation", AGGREGATION);
    return sl_buf_cstr(url) ? 0 : SL_ENOMEM;
}

int sl_azure_metrics_request(const sl_source_query *q, const sl_azure_token *token,
                             sl_http_req *out, sl_error *err)
{
    sl_buf url;
    int rc;

    sl_buf_init(&url);
    if ((rc = check_service(q, err)) != 0 || (rc = check_range(q, err)) != 0)
        goto out;
    if (!token || !token->access_token || !*token->access_token) {
        rc = sl_error_set(err, SL_EINVAL, "token", "no bearer token");
        goto out;
    }
    if ((rc = metrics_url(q, &url, err)) != 0)
        goto out;
    rc = sl_http_req_set(out, "GET", (const char *)url.p);
    if (rc == 0)
        rc = sl_http_req_header(out, "Authorization: Bearer %s", token->access_token);
    if (rc == 0)
        rc = sl_http_req_header(out, "Accept: application/json");
    if (rc != 0)
        sl_error_set(err, rc, NULL, "cannot build the metrics request: %s", sl_strerror(rc));
out:
    if (rc != 0)
        sl_http_req_release(out);
    sl_buf_release(&url);
    return rc;
}

/* ---- the metrics response ---- */

enum { PT_NONE, PT_KNOWN, PT_BAD };

/* What one parse found per interval, applied to the samples only when the whole body parsed. */
typedef struct point {
    int64_t value;
    int state;
} point;

typedef struct parse_ctx {
    const sl_source_query *q;
    const char *metric;
    int is_vm_availability;
    point *pts;
    size_t n;
    sl_error *err;
} parse_ctx;

static int bad_body(parse_ctx *c, const char *what)
{
    return sl_error_set(c->err, SL_EPARSE, "metrics", "metrics response: %s", what);
}

/* The datapoint's value in ppm; PT_BAD for a VmAvailabilityMetric value outside [0, 1]. */
static int point_value(const parse_ctx *c, double v, int64_t *ppm)
{
    if (!c->is_vm_availability) {
        *ppm = SL_PPM_ONE; /* a datapoint means the VM reported: up */
        return PT_KNOWN;
    }
    if (!(v >= 0.0 && v <= 1.0))
        return PT_BAD;
    *ppm = (int64_t)(v * (double)SL_PPM_ONE + 0.5);
    return PT_KNOWN;
}

/* Records one datapoint {"timeStamp": T, "minimum": v} in the interval starting at T. */
static int read_point(parse_ctx *c, const json_t *d)
{
    const char *ts = json_string_value(json_object_get(d, "timeStamp"));
    const json_t *v = json_object_get(d, AGGREGATION_FIELD);
    int64_t t, step = c->q->objective->interval_ms, ppm = 0;
    point *p;
    int state;

    if (!json_is_object(d) || !ts || sl_time_parse(ts, strlen(ts), &t) != 0)
        return bad_body(c, "a datapoint without a valid timeStamp");
    if (!v || json_is_null(v))
        return 0; /* no value for the aggregation asked for: no datapoint */
    if (!json_is_number(v))
        return bad_body(c, "a datapoint value that is not a number");
    if (t < c->q->from_ms || t >= c->q->to_ms || (t - c->q->from_ms) % step != 0)
        return 0;
    p = &c->pts[(t - c->q->from_ms) / step];
    state = point_value(c, json_number_value(v), &ppm);
    if (p->state == PT_BAD)
        return 0;
    if (state == PT_BAD || p->state == PT_NONE || ppm < p->value) {
        p->state = state;
        p->value = ppm;
    }
    return 0;
}

static int read_series(parse_ctx *c, const json_t *ts)
{
    const json_t *data = json_object_get(ts, "data");
    size_t i;
    json_t *d;

    if (!json_is_object(ts))
        return bad_body(c, "a time series that is not an object");
    if (!data)
        return 0; /* a series without data: nothing measured */
    if (!json_is_array(data))
        return bad_body(c, "\"data\" is not an array");
    json_array_foreach(data, i, d)
    {
        int rc = read_point(c, d);
        if (rc != 0)
            return rc;
    }
    return 0;
}

/* Checks one metric's name and errorCode; 1 when it is the metric asked for. */
static int metric_matches(parse_ctx *c, const json_t *m, int *rc)
{
    const json_t *name = json_object_get(m, "name");
    const char *value = json_string_value(json_object_get(name, "value"));
    const char *code = json_string_value(json_object_get(m, "errorCode"));
    char ccode[TEXT_CAP], cmsg[2 * TEXT_CAP];

    *rc = 0;
    if (!json_is_object(m)) {
        *rc = bad_body(c, "a metric that is not an object");
        return 0;
    }
    if (value && strcasecmp(value, c->metric) != 0)
        return 0;
    if (code && strcmp(code, "Success") != 0) {
        clean_text(ccode, sizeof(ccode), code);
        clean_text(cmsg, sizeof(cmsg), json_string_value(json_object_get(m, "errorMessage")));
        *rc = sl_error_set(c->err, SL_EIO, "metrics", "Azure Monitor: %s: %s", ccode, cmsg);
        return 0;
    }
    return 1;
}

static int read_metric(parse_ctx *c, const json_t *m)
{
    const json_t *series;
    size_t i;
    json_t *ts;
    int rc;

    if (!metric_matches(c, m, &rc))
        return rc;
    series = json_object_get(m, "timeseries");
    if (!json_is_array(series))
        return bad_body(c, "a metric without a \"timeseries\" array");
    json_array_foreach(series, i, ts)
    {
        if ((rc = read_series(c, ts)) != 0)
            return rc;
    }
    return 0;
}

static int read_metrics(parse_ctx *c, const json_t *root)
{
    const json_t *value = json_object_get(root, "value");
    size_t i;
    json_t *m;

    if (!json_is_object(root))
        return bad_body(c, "not a JSON object");
    if (!json_is_array(value))
        return bad_body(c, "no \"value\" array");
    json_array_foreach(value, i, m)
    {
        int rc = read_metric(c, m);
        if (rc != 0)
            return rc;
    }
    return 0;
}

/* An error answer: {"error": {"code", "message"}} (ARM) or {"code", "message"} (the metrics
 * API's own ErrorResponse). 401 and 403 are refusals of the token: SL_EAUTH. */
static int metrics_error(long status, const json_t *root, sl_error *err)
{
    const json_t *e =
        json_is_object(json_object_get(root, "error")) ? json_object_get(root, "error") : root;
    char code[TEXT_CAP], msg[2 * TEXT_CAP];

    clean_text(code, sizeof(code), json_string_value(json_object_get(e, "code")));
    clean_text(msg, sizeof(msg), json_string_value(json_object_get(e, "message")));
    return sl_error_set(err, status == 401 || status == 403 ? SL_EAUTH : SL_EIO, "metrics",
                        "Azure Monitor: HTTP %ld %s: %s", status, code[0] ? code : "error", msg);
}

static void apply_points(const parse_ctx *c, sl_sample *samples)
{
    for (size_t i = 0; i < c->n; i++) {
        if (c->pts[i].state == PT_KNOWN) {
            samples[i].known = 1;
            samples[i].value = c->pts[i].value;
            samples[i].reason[0] = '\0';
        } else if (c->pts[i].state == PT_BAD) {
            sl_samples_unknown(&samples[i], 1, "%s value outside 0..1", c->metric);
        }
    }
}

int sl_azure_metrics_parse(const sl_source_query *q, const sl_http_resp *resp, sl_sample *samples,
                           sl_error *err)
{
    parse_ctx c = {.q = q, .err = err};
    json_t *root = NULL;
    int rc;

    if (!resp || !samples)
        return sl_error_set(err, SL_EINVAL, NULL, "no response or samples");
    if ((rc = check_service(q, err)) != 0 || (rc = check_range(q, err)) != 0)
        return rc;
    if (resp->failed)
        return sl_error_set(err, SL_EIO, "metrics", "Azure Monitor: %s", resp->error);
    if (resp->body.len > 0)
        root = json_loadb((const char *)resp->body.p, resp->body.len, JSON_REJECT_DUPLICATES, NULL);
    if (resp->status != 200) {
        rc = metrics_error(resp->status, root, err);
        goto out;
    }
    c.metric = metric_name(q);
    c.is_vm_availability = strcasecmp(c.metric, DEFAULT_METRIC) == 0;
    c.n = (size_t)((q->to_ms - q->from_ms) / q->objective->interval_ms);
    c.pts = calloc(c.n, sizeof(*c.pts));
    if (!c.pts) {
        rc = sl_error_set(err, SL_ENOMEM, NULL, "out of memory");
        goto out;
    }
    rc = root ? read_metrics(&c, root) : bad_body(&c, "not JSON");
    if (rc == 0)
        apply_points(&c, samples);
out:
    free(c.pts);
    json_decref(root);
    return rc;
}
