/*
 * prometheus.c: the Prometheus adapter, which measures an objective by evaluating its PromQL
 * query over the HTTP API's /api/v1/query_range.
 *
 * The query is evaluated at every interval's end (start = from + interval, end = to, step =
 * interval), so the value at time t stands for the interval [t - interval, t); a query meant
 * for it looks back one interval (avg_over_time(up[1m]) for 1m intervals). The response must
 * hold exactly one series: none leaves every interval unknown ("no series"), several are
 * refused, because the adapter cannot know which one the agreement means. Sample values are
 * decimal strings ("1", "0.999", "1e-05", "NaN", "+Inf"); they are read as exact decimals and
 * scaled and rounded in integer arithmetic, so no locale and no binary rounding can change a
 * measurement. Values that make no sense for the metric (NaN, infinities, an availability
 * outside 0..1, a negative time) leave their interval unknown with a reason; timestamps that
 * are not the end of a requested interval are ignored.
 *
 * Credentials are not supported yet: secrets only hold AWS and Azure kinds, so a request that
 * is given one is refused rather than sent without it. Pure functions, no I/O; reentrant.
 */
#include "slaledger/oracle.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#define PROM_MAX_POINTS SL_PROMETHEUS_MAX_POINTS
/* Significant digits kept of a sample value: more than an int64 result can ever need (19)
 * plus the rounding digit, so dropping the rest never changes a result. */
#define PROM_MAX_DIGITS 40
/* Bound of exponents and timestamps (seconds): far beyond any real value, small enough that
 * no arithmetic on them overflows. */
#define PROM_MAX_EXP 1000000
#define PROM_MAX_TS  100000000000000.0 /* 1e14 s, about three million years */
/* Characters of a source's value quoted in a reason. */
#define PROM_QUOTE 40

/* ---- shared checks ---- */

/* The number of intervals of q, after checking that q is a well-formed query for this
 * adapter; 0 with *err filled otherwise. */
static size_t query_intervals(const sl_source_query *q, sl_error *err)
{
    const sl_objective_spec *o = q ? q->objective : NULL;

    if (!q || !q->service || !o) {
        sl_error_set(err, SL_EINVAL, NULL, "query without service or objective");
        return 0;
    }
    if (q->service->kind != SL_SVC_PROMETHEUS) {
        sl_error_set(err, SL_EINVAL, "kind", "service %s is of kind %s, not prometheus",
                     q->service->name, sl_service_kind_name(q->service->kind));
        return 0;
    }
    if (o->interval_ms <= 0 || q->to_ms <= q->from_ms ||
        (q->to_ms - q->from_ms) % o->interval_ms != 0) {
        sl_error_set(err, SL_EINVAL, NULL, "[from, to) is not a whole number of intervals");
        return 0;
    }
    if ((q->to_ms - q->from_ms) / o->interval_ms > PROM_MAX_POINTS) {
        sl_error_set(err, SL_EINVAL, NULL, "at most %d intervals per Prometheus query",
                     PROM_MAX_POINTS);
        return 0;
    }
    return (size_t)((q->to_ms - q->from_ms) / o->interval_ms);
}

/* ---- the request ---- */

/* Writes ms as Unix seconds, with only the fractional digits needed ("1700000060", "1.5"). */
static void put_seconds(sl_buf *b, int64_t ms)
{
    char t[32];
    int n = sl_decimal_format(ms, 3, t, sizeof(t));

    while (n > 0 && t[n - 1] == '0')
        n--;
    if (n > 0 && t[n - 1] == '.')
        n--;
    sl_buf_put(b, t, n > 0 ? (size_t)n : 0);
}

/* Appends the query_range URL of q to b. */
static void put_url(sl_buf *b, const sl_source_query *q, const char *base)
{
    const sl_objective_spec *o = q->objective;
    size_t blen = strlen(base);

    /* A base with a trailing slash must not make "//api": some proxies refuse it. */
    while (blen > 0 && base[blen - 1] == '/')
        blen--;
    sl_buf_put(b, base, blen);
    sl_buf_printf(b, "/api/v1/query_range?query=");
    sl_url_encode(b, o->query, strlen(o->query));
    sl_buf_printf(b, "&start=");
    put_seconds(b, q->from_ms + o->interval_ms);
    sl_buf_printf(b, "&end=");
    put_seconds(b, q->to_ms);
    if (o->interval_ms % SL_MS_PER_SECOND == 0)
        sl_buf_printf(b, "&step=%llds", (long long)(o->interval_ms / SL_MS_PER_SECOND));
    else
        sl_buf_printf(b, "&step=%lldms", (long long)o->interval_ms);
}

int sl_prometheus_request(const sl_source_query *q, sl_http_req *out, sl_error *err)
{
    const char *base, *url;
    sl_buf b;
    int rc;

    sl_http_req_init(out);
    sl_buf_init(&b);
    if (query_intervals(q, err) == 0)
        return SL_EINVAL;
    if (!q->objective->query || !q->objective->query[0])
        return sl_error_set(err, SL_EINVAL, "query", "objective %s has no query",
                            q->objective->name);
    if (q->credential)
        return sl_error_set(err, SL_EINVAL, "source.credentials",
                            "prometheus credentials are not supported yet");
    base = sl_source_get(q->service, "url");
    if (!base)
        return sl_error_set(err, SL_EINVAL, "source.url", "service %s has no source.url",
                            q->service->name);
    put_url(&b, q, base);
    url = sl_buf_cstr(&b);
    rc = url ? sl_http_req_set(out, "GET", url) : SL_ENOMEM;
    if (rc == 0)
        rc = sl_http_req_header(out, "Accept: application/json");
    if (rc != 0) {
        sl_http_req_release(out);
        sl_error_set(err, rc, NULL, "cannot build the request");
    }
    sl_buf_release(&b);
    return rc;
}

/* ---- sample values: exact decimals ---- */

typedef enum num_kind {
    NUM_FINITE,
    NUM_NAN,
    NUM_INF,
} num_kind;

/* A decimal 0.d1d2d3... * 10^pos, sign apart; no digits means zero. */
typedef struct prom_num {
    num_kind kind;
    int neg;
    char dig[PROM_MAX_DIGITS]; /* significant digits, the first non-zero */
    size_t n;
    int64_t pos;
} prom_num;

static int word_is(const char *s, size_t len, const char *word)
{
    return len == strlen(word) && strncasecmp(s, word, len) == 0;
}

/* Reads an optional exponent "e-12" at s[*i..len), saturating at PROM_MAX_EXP. */
static int read_exponent(const char *s, size_t len, size_t *i, int64_t *exp)
{
    int neg = 0;
    size_t start;

    if (*i == len)
        return 0;
    if (s[*i] != 'e' && s[*i] != 'E')
        return -1;
    (*i)++;
    if (*i < len && (s[*i] == '+' || s[*i] == '-'))
        neg = s[(*i)++] == '-';
    for (start = *i; *i < len && s[*i] >= '0' && s[*i] <= '9'; (*i)++) {
        if (*exp < PROM_MAX_EXP)
            *exp = *exp * 10 + (s[*i] - '0');
    }
    if (*i == start)
        return -1;
    if (neg)
        *exp = -*exp;
    return 0;
}

/* Reads the digits and point of a decimal mantissa at s[*i..len) into x. */
static int read_mantissa(const char *s, size_t len, size_t *i, prom_num *x)
{
    int dot = 0, any = 0;

    for (; *i < len; (*i)++) {
        char c = s[*i];
        if (c == '.' && !dot) {
            dot = 1;
            continue;
        }
        if (c < '0' || c > '9')
            break;
        any = 1;
        if (c == '0' && x->n == 0) {
            x->pos -= dot; /* a leading zero only moves the point after it */
            continue;
        }
        if (x->n < PROM_MAX_DIGITS)
            x->dig[x->n++] = c;
        x->pos += !dot;
    }
    return any ? 0 : -1;
}

/* Parses a Prometheus sample value (Go's strconv.ParseFloat syntax without hex and
 * underscores): [+-]digits[.digits][e[+-]digits], NaN, [+-]Inf. 0 or -1. */
static int num_parse(const char *s, size_t len, prom_num *x)
{
    size_t i = 0;
    int64_t exp = 0;

    memset(x, 0, sizeof(*x));
    if (len > 0 && (s[0] == '+' || s[0] == '-')) {
        x->neg = s[0] == '-';
        i = 1;
    }
    if (word_is(s + i, len - i, "inf") || word_is(s + i, len - i, "infinity")) {
        x->kind = NUM_INF;
        return 0;
    }
    if (word_is(s, len, "nan")) {
        x->kind = NUM_NAN;
        return 0;
    }
    if (read_mantissa(s, len, &i, x) != 0 || read_exponent(s, len, &i, &exp) != 0)
        return -1;
    x->pos += exp;
    return 0;
}

/* round(x * 10^scale), halves away from zero. 0 or SL_EOVERFLOW. */
static int num_scaled(const prom_num *x, unsigned scale, int64_t *out)
{
    int64_t nint = x->pos + (int64_t)scale; /* digits before the point once scaled */
    uint64_t mag = 0;

    *out = 0;
    if (x->n == 0 || nint < 0)
        return 0;
    if (nint > 19)
        return SL_EOVERFLOW;
    /* nint <= 19 < PROM_MAX_DIGITS: every digit of the integer part and the rounding digit
     * were kept, and 19 digits plus one fit a uint64. */
    for (int64_t k = 0; k < nint; k++)
        mag = mag * 10 + ((size_t)k < x->n ? (unsigned)(x->dig[k] - '0') : 0);
    if ((size_t)nint < x->n && x->dig[nint] >= '5')
        mag++;
    if (mag > (uint64_t)INT64_MAX)
        return SL_EOVERFLOW;
    *out = x->neg ? -(int64_t)mag : (int64_t)mag;
    return 0;
}

/* ---- conversion per metric ---- */

/* Copies up to PROM_QUOTE bytes of a source's text for a reason, printable ASCII only. */
static void quote(const char *s, size_t len, char out[PROM_QUOTE + 1])
{
    size_t n = len < PROM_QUOTE ? len : PROM_QUOTE;

    for (size_t i = 0; i < n; i++)
        out[i] = s[i] >= 0x20 && s[i] < 0x7f ? s[i] : '?';
    out[n] = '\0';
}

/* Where a fraction 0..1 is expected (availability, error rate): ppm, or a reason. */
static void set_fraction(sl_sample *s, const char *what, int64_t ppm, const char *text)
{
    if (ppm < 0 || ppm > SL_PPM_ONE) {
        sl_samples_unknown(s, 1, "%s %s outside 0..1", what, text);
        return;
    }
    s->known = 1;
    s->value = ppm;
    s->reason[0] = '\0';
}

/* Stores value v (scaled to the metric's unit) into s, or a reason it cannot be. */
static void set_value(sl_sample *s, sl_metric m, int64_t v, const char *text)
{
    if (m == SL_METRIC_AVAILABILITY) {
        set_fraction(s, "availability", v, text);
    } else if (m == SL_METRIC_ERROR_RATE) {
        set_fraction(s, "error rate", v, text);
    } else if (sl_metric_is_check(m)) {
        if (v != 0 && v != SL_PPM_ONE) {
            sl_samples_unknown(s, 1, "check value %s is neither 0 nor 1", text);
            return;
        }
        s->known = 1;
        s->value = v == SL_PPM_ONE;
        s->reason[0] = '\0';
    } else if (v < 0) {
        sl_samples_unknown(s, 1, "%s %s is negative", sl_metric_name(m), text);
    } else {
        s->known = 1;
        s->value = v;
        s->reason[0] = '\0';
    }
}

/* Powers of ten from the source's unit to the metric's: fractions to ppm, seconds to ms,
 * per second to milli per second, checks read as fractions (1 passed, 0 failed). */
static unsigned metric_scale(sl_metric m)
{
    switch (m) {
    case SL_METRIC_RESPONSE_TIME:
    case SL_METRIC_PROCESSING_TIME:
    case SL_METRIC_DELAY:
    case SL_METRIC_THROUGHPUT:
        return 3;
    default:
        return 6;
    }
}

/* Turns one value string into sample s for metric m. */
static void convert(sl_sample *s, sl_metric m, const char *text, size_t len)
{
    char q[PROM_QUOTE + 1];
    prom_num x;
    int64_t v;

    quote(text, len, q);
    if (num_parse(text, len, &x) != 0) {
        sl_samples_unknown(s, 1, "value \"%s\" is not a number", q);
        return;
    }
    if (x.kind == NUM_NAN) {
        sl_samples_unknown(s, 1, "value is NaN");
        return;
    }
    if (x.kind == NUM_INF) {
        sl_samples_unknown(s, 1, "value is %cInf", x.neg ? '-' : '+');
        return;
    }
    if (num_scaled(&x, metric_scale(m), &v) != 0) {
        sl_samples_unknown(s, 1, "value %s out of range", q);
        return;
    }
    set_value(s, m, v, q);
}

/* ---- the response ---- */

/* A JSON timestamp in seconds (integer or fractional) in ms; -1 when it is not one. */
static int ts_ms_of(const json_t *v, int64_t *out)
{
    double d;

    if (json_is_integer(v)) {
        json_int_t s = json_integer_value(v);
        if (s < -(json_int_t)PROM_MAX_TS || s > (json_int_t)PROM_MAX_TS)
            return -1;
        *out = (int64_t)s * SL_MS_PER_SECOND;
        return 0;
    }
    if (!json_is_real(v))
        return -1;
    d = json_real_value(v);
    if (!isfinite(d) || d < -PROM_MAX_TS || d > PROM_MAX_TS)
        return -1;
    d *= 1000.0;
    *out = (int64_t)(d < 0 ? d - 0.5 : d + 0.5);
    return 0;
}

/* Reads point k of a series' values ([ts, "value"]); SL_EPARSE when malformed. */
static int read_point(const json_t *values, size_t k, int64_t *ts_ms, const json_t **text,
                      sl_error *err)
{
    const json_t *p = json_array_get(values, k);

    if (!json_is_array(p) || json_array_size(p) != 2 || ts_ms_of(json_array_get(p, 0), ts_ms) ||
        !json_is_string(json_array_get(p, 1)))
        return sl_error_set(err, SL_EPARSE, "data.result[0].values",
                            "point %zu is not [unix time, \"value\"]", k);
    *text = json_array_get(p, 1);
    return 0;
}

/* The sample standing for the interval that ends at ts_ms, or NULL when none does. */
static sl_sample *sample_ending(const sl_source_query *q, sl_sample *samples, int64_t ts_ms)
{
    int64_t iv = q->objective->interval_ms, start = ts_ms - iv;
    sl_sample *s;

    if (start < q->from_ms || start >= q->to_ms || (start - q->from_ms) % iv != 0)
        return NULL;
    s = &samples[(start - q->from_ms) / iv];
    return s->start_ms == start ? s : NULL;
}

/* Checks every point of the one series, then converts them, so that a malformed response
 * leaves the samples untouched. */
static int read_series(const sl_source_query *q, const json_t *series, sl_sample *samples,
                       sl_error *err)
{
    const json_t *values = json_object_get(series, "values"), *text;
    int64_t ts;
    int rc;

    if (!json_is_object(series) || !json_is_array(values))
        return sl_error_set(err, SL_EPARSE, "data.result[0]", "series without values");
    for (size_t k = 0; k < json_array_size(values); k++) {
        if ((rc = read_point(values, k, &ts, &text, err)) != 0)
            return rc;
    }
    for (size_t k = 0; k < json_array_size(values); k++) {
        sl_sample *s;
        if (read_point(values, k, &ts, &text, err) != 0 || !(s = sample_ending(q, samples, ts)))
            continue;
        convert(s, q->objective->metric, json_string_value(text), json_string_length(text));
    }
    return 0;
}

/* The refusal of an error envelope {"status": "error", "errorType", "error"}. */
static int envelope_error(const json_t *root, long status, sl_error *err)
{
    const char *type = json_string_value(json_object_get(root, "errorType"));
    const char *msg = json_string_value(json_object_get(root, "error"));

    return sl_error_set(err, SL_EIO, "error", "prometheus error (HTTP %ld) %s: %s", status,
                        type ? type : "unknown", msg ? msg : "no message");
}

/* Checks HTTP status and the envelope and finds data.result; a failure's code otherwise. */
static int read_envelope(const sl_http_resp *resp, const json_t *root, const json_t **result,
                         sl_error *err)
{
    const char *status = json_string_value(json_object_get(root, "status"));
    const json_t *data = json_object_get(root, "data");
    const char *type = json_string_value(json_object_get(data, "resultType"));

    if (resp->status == 401 || resp->status == 403)
        return sl_error_set(err, SL_EAUTH, NULL, "HTTP %ld from prometheus", resp->status);
    if (status && strcmp(status, "error") == 0)
        return envelope_error(root, resp->status, err);
    if (resp->status < 200 || resp->status > 299)
        return sl_error_set(err, SL_EIO, NULL, "HTTP %ld from prometheus", resp->status);
    if (!root)
        return sl_error_set(err, SL_EPARSE, NULL, "response is not JSON");
    if (!status || strcmp(status, "success") != 0)
        return sl_error_set(err, SL_EPARSE, "status", "status is not \"success\"");
    if (!type || strcmp(type, "matrix") != 0)
        return sl_error_set(err, SL_EPARSE, "data.resultType", "resultType %.32s, not matrix",
                            type ? type : "missing");
    *result = json_object_get(data, "result");
    if (!json_is_array(*result))
        return sl_error_set(err, SL_EPARSE, "data.result", "result is not an array");
    return 0;
}

int sl_prometheus_parse(const sl_source_query *q, const sl_http_resp *resp, sl_sample *samples,
                        sl_error *err)
{
    const json_t *result = NULL;
    json_t *root = NULL;
    size_t n = query_intervals(q, err), series;
    int rc;

    if (n == 0)
        return SL_EINVAL;
    if (resp->failed || resp->status == 0)
        return sl_error_set(err, SL_EIO, NULL, "no response from prometheus: %s",
                            resp->error[0] ? resp->error : "unknown error");
    if (resp->body.len > 0)
        root = json_loadb((const char *)resp->body.p, resp->body.len, 0, NULL);
    if ((rc = read_envelope(resp, root, &result, err)) != 0)
        goto out;
    series = json_array_size(result);
    if (series == 0)
        sl_samples_unknown(samples, n, "no series");
    else if (series > 1)
        rc = sl_error_set(err, SL_EINVAL, "data.result",
                          "query returned %zu series; it must return one", series);
    else
        rc = read_series(q, json_array_get(result, 0), samples, err);
out:
    json_decref(root);
    return rc;
}
