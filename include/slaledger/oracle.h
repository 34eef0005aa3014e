/*
 * slaledger/oracle.h: where measurements come from.
 *
 * An oracle measures closed intervals of a service from its source and signs what it measured
 * as report transactions (tx.h). This header is the source side: the HTTP requests adapters
 * build and the responses they read (one libcurl-based transport, synchronous or through the
 * multi interface for thousands of concurrent probes), and one adapter per source kind:
 *
 *   AWS CloudWatch   GetMetricData (AWS JSON 1.0 protocol) signed with SigV4 (sigv4.h)
 *   Azure Monitor    OAuth2 client-credentials token, then the metrics REST API
 *   Prometheus       /api/v1/query_range with the objective's PromQL, step = interval
 *   HTTP probe       GET/HEAD with conditions on status, body, response time; TCP connect;
 *                    TLS certificate expiry
 *
 * Adapters are pure: they turn a query into a request and a response into samples, and never
 * do I/O themselves, so they are unit-tested without a network and fuzzed. Bad source data
 * (malformed bodies, missing datapoints, NaN, HTTP errors, timeouts) becomes an unknown sample
 * with a reason, never a crash or a wrong value.
 *
 * Units of sample values are those of sl_metric (sla.h): availability in ppm of the interval
 * the service was up, times in milliseconds, throughput in milli-requests per second, error
 * rate in ppm.
 *
 * Thread-safety: requests, responses and adapters are reentrant; an sl_fetch belongs to one
 * thread at a time.
 */
#ifndef SLALEDGER_ORACLE_H
#define SLALEDGER_ORACLE_H

#include <stddef.h>
#include <stdint.h>

#include "slaledger/error.h"
#include "slaledger/sla.h"
#include "slaledger/util.h"

/* ---- HTTP transport ---- */

#define SL_HTTP_MAX_BODY           (8u << 20) /* bytes of a response body kept; more fails the call */
#define SL_HTTP_MAX_HEADERS        16
#define SL_HTTP_DEFAULT_TIMEOUT_MS 10000

/** What a request measures besides the HTTP exchange itself. */
typedef enum sl_http_mode {
    SL_HTTP_EXCHANGE,     /* a full request and response (the default) */
    SL_HTTP_CONNECT_ONLY, /* tcp://host:port: only open the TCP connection */
} sl_http_mode;

/** One HTTP request. Everything is owned by the request; released by sl_http_req_release,
 * which wipes header values and the body (they may hold tokens and signatures). */
typedef struct sl_http_req {
    char method[8];                     /* "GET", "HEAD", "POST" */
    char *url;                          /* http://, https:// or (SL_HTTP_CONNECT_ONLY) tcp:// */
    char *headers[SL_HTTP_MAX_HEADERS]; /* "Name: value" */
    size_t n_headers;
    sl_buf body;        /* sent when len > 0 */
    int64_t timeout_ms; /* whole transfer; 0 means SL_HTTP_DEFAULT_TIMEOUT_MS */
    sl_http_mode mode;
    int want_cert; /* https: record the server certificate's expiry */
    int insecure;  /* tests only: do not verify the server certificate (never set by
                      adapters; a probe reports verification failures as down) */
} sl_http_req;

/** The outcome of one request. Released by sl_http_resp_release. */
typedef struct sl_http_resp {
    long status;            /* HTTP status; 0 when no response came (see error) */
    sl_buf body;            /* the response body, at most SL_HTTP_MAX_BODY bytes */
    int64_t connect_ms;     /* time to connect (TCP, and TLS for https); -1 unknown */
    int64_t total_ms;       /* time until the whole response arrived; -1 unknown */
    int64_t cert_expiry_ms; /* want_cert: the leaf certificate's notAfter; -1 unknown */
    int failed;             /* transport failure (connect, TLS, timeout, too large) */
    char error[160];        /* why it failed; "" otherwise */
} sl_http_resp;

void sl_http_req_init(sl_http_req *r);
/** Sets method and url (copied). 0, SL_EINVAL (method longer than 7 bytes), SL_ENOMEM. */
int sl_http_req_set(sl_http_req *r, const char *method, const char *url);
/** Adds a header "Name: value" from printf-style arguments. SL_EOVERFLOW beyond
 * SL_HTTP_MAX_HEADERS, SL_EINVAL for CR or LF in the result, SL_ENOMEM. */
int sl_http_req_header(sl_http_req *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sl_http_req_release(sl_http_req *r);

void sl_http_resp_init(sl_http_resp *r);
void sl_http_resp_release(sl_http_resp *r);

/**
 * Performs req synchronously (libcurl easy interface) and fills resp (which must be
 * initialised; its previous content is replaced). No redirects are followed, only the
 * request's scheme is allowed, and certificates are verified unless req->insecure. Returns 0
 * when the exchange happened (whatever the status), or SL_EIO with resp->failed and
 * resp->error set; SL_ENOMEM.
 */
int sl_http_perform(const sl_http_req *req, sl_http_resp *resp);

/** Percent-encodes s (RFC 3986 unreserved characters stay) and appends it to out. */
void sl_url_encode(sl_buf *out, const char *s, size_t len);

/*
 * Many requests at once through libcurl's multi interface, driven by the thread that owns the
 * sl_fetch: add requests, then call sl_fetch_poll repeatedly; each finished request's callback
 * runs inside sl_fetch_poll on that thread and may add further requests (pagination, a token
 * then the call that needs it).
 */
typedef struct sl_fetch sl_fetch;

/** Called once per request added: resp is valid during the call only; req is the request as
 * added (its ownership stays with the fetch, which releases it after the call). */
typedef void (*sl_fetch_cb)(void *arg, const sl_http_req *req, const sl_http_resp *resp);

/** A fetch running at most max_active transfers at once (more wait in a queue). */
int sl_fetch_new(size_t max_active, sl_fetch **out) __attribute__((warn_unused_result));
/** Takes ownership of *req (left initialised and empty) and queues it. 0, SL_ENOMEM. */
int sl_fetch_add(sl_fetch *f, sl_http_req *req, sl_fetch_cb cb, void *arg)
    __attribute__((warn_unused_result));
/** Runs transfers for up to wait_ms (returns earlier once a transfer finished or
 * sl_fetch_wakeup was called) and calls the callbacks of finished ones. Returns the number of
 * requests still queued or active. */
size_t sl_fetch_poll(sl_fetch *f, int64_t wait_ms);
/** Makes a concurrent sl_fetch_poll return early; the only function callable from another
 * thread. */
void sl_fetch_wakeup(sl_fetch *f);
/** Requests queued or active. */
size_t sl_fetch_pending(const sl_fetch *f);
/** Cancels what is pending (callbacks run with resp->failed and error "cancelled") and frees.
 * Accepts NULL. */
void sl_fetch_free(sl_fetch *f);

/* ---- samples: what an adapter makes of a response ---- */

#define SL_SAMPLE_REASON_CAP 120

/** The measurement of one interval [start_ms, start_ms + interval). */
typedef struct sl_sample {
    int64_t start_ms;
    int64_t value; /* in the objective's unit; meaningful when known */
    int known;
    char reason[SL_SAMPLE_REASON_CAP]; /* why unknown ("no datapoint", "HTTP 500", ...) */
} sl_sample;

/** Sets every sample of s[0..n) to unknown with the given reason (start_ms untouched). */
void sl_samples_unknown(sl_sample *s, size_t n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/**
 * What a history source is asked for: the intervals [from_ms, to_ms) of one objective, whose
 * length is objective->interval_ms and which are aligned to it. Samples passed with a query
 * hold (to_ms - from_ms) / interval_ms entries whose start_ms the caller has set, all unknown
 * ("no datapoint") on entry; a parser fills in what the response says.
 */
typedef struct sl_source_query {
    const sl_service_spec *service;
    const sl_objective_spec *objective;
    const sl_credential *credential; /* from the node's secrets; NULL when the source has none */
    int64_t from_ms;
    int64_t to_ms;
    int64_t now_ms; /* the request's time (signatures, token expiry) */
} sl_source_query;

/** The value of source key `key` of a service, or NULL. */
const char *sl_source_get(const sl_service_spec *s, const char *key);

/** Where q's requests go for key "endpoint" or "login_endpoint": the credential's value when
 * it has one (a node's own route to the API: a private endpoint, a stand-in), else the
 * service's source key, else NULL (the adapter's public default). */
const char *sl_source_endpoint(const sl_source_query *q, const char *key);

/* ---- AWS CloudWatch (cloudwatch.c) ---- */

/**
 * Builds the signed GetMetricData request for q (service kind aws.ec2): POST to
 * source.endpoint or https://monitoring.<region>.amazonaws.com/, AWS JSON 1.0, one metric
 * query for source.instance (namespace source.namespace or AWS/EC2, metric source.metric or
 * StatusCheckFailed; Maximum for availability, Average otherwise, period = interval) over
 * [from, to). next_token continues a previous page (NULL for the first). SL_EINVAL with the
 * reason in *err when the source or credential does not fit (wrong kind, missing key).
 */
int sl_cloudwatch_request(const sl_source_query *q, const char *next_token, sl_http_req *out,
                          sl_error *err) __attribute__((warn_unused_result));
/**
 * Reads a GetMetricData response into samples (see sl_source_query) and *next_token (a new
 * string the caller frees, NULL on the last page). Availability: StatusCheckFailed* 0 is up
 * (1000000 ppm), > 0 down (0); any other metric: a datapoint means up. Other metrics: the
 * value converted to the objective's unit. SL_EPARSE for a body that is not a GetMetricData
 * result, SL_EIO for an HTTP error (the AWS error code and message in *err); samples are then
 * untouched.
 */
int sl_cloudwatch_parse(const sl_source_query *q, const sl_http_resp *resp, sl_sample *samples,
                        char **next_token, sl_error *err) __attribute__((warn_unused_result));

/* ---- Azure Monitor (azure.c) ---- */

/** A bearer token and when it expires. */
typedef struct sl_azure_token {
    char *access_token; /* owned, wiped on release */
    int64_t expires_ms;
} sl_azure_token;

void sl_azure_token_release(sl_azure_token *t);
/** True when t must be fetched again at now_ms (absent, or expiring within 5 minutes). */
int sl_azure_token_stale(const sl_azure_token *t, int64_t now_ms);

/**
 * Builds the client-credentials token request for q's credential: POST to
 * source.login_endpoint or https://login.microsoftonline.com, /<tenant>/oauth2/v2.0/token,
 * scope <management endpoint>/.default.
 */
int sl_azure_token_request(const sl_source_query *q, sl_http_req *out, sl_error *err)
    __attribute__((warn_unused_result));
/** Reads a token response (expires_in counted from now_ms). SL_EAUTH with the service's error
 * description for a refusal, SL_EPARSE for a malformed body. */
int sl_azure_token_parse(const sl_http_resp *resp, int64_t now_ms, sl_azure_token *out,
                         sl_error *err) __attribute__((warn_unused_result));
/**
 * Builds the metrics request for q (service kind azure.vm) with the bearer token: GET
 * <source.endpoint or https://management.azure.com>/subscriptions/<s>/resourceGroups/<g>/
 * providers/Microsoft.Compute/virtualMachines/<vm>/providers/Microsoft.Insights/metrics with
 * timespan, interval (ISO 8601), metricnames (source.metric or VmAvailabilityMetric) and
 * aggregation (Minimum for availability, Average otherwise).
 */
int sl_azure_metrics_request(const sl_source_query *q, const sl_azure_token *token,
                             sl_http_req *out, sl_error *err) __attribute__((warn_unused_result));
/** Reads a metrics response into samples. Availability: VmAvailabilityMetric 1 is up, 0 down;
 * other metrics (Percentage CPU): a datapoint means up. SL_EPARSE, SL_EAUTH (401/403), SL_EIO. */
int sl_azure_metrics_parse(const sl_source_query *q, const sl_http_resp *resp, sl_sample *samples,
                           sl_error *err) __attribute__((warn_unused_result));

/* ---- Prometheus (prometheus.c) ---- */

/* Prometheus refuses range queries of more than this many points per series; sl_measure splits
 * longer ranges into requests of at most this many intervals. */
#define SL_PROMETHEUS_MAX_POINTS 11000

/**
 * Builds GET <source.url>/api/v1/query_range?query=<objective query>&start=<from+interval>
 * &end=<to>&step=<interval>: the expression evaluated at each interval's end stands for the
 * interval. SL_EINVAL when the objective has no query or the range holds more than
 * SL_PROMETHEUS_MAX_POINTS intervals.
 */
int sl_prometheus_request(const sl_source_query *q, sl_http_req *out, sl_error *err)
    __attribute__((warn_unused_result));
/** Reads a query_range response (one series; several are an error) into samples. Values:
 * availability a fraction 0..1 -> ppm; times in seconds -> ms; throughput per second ->
 * milli-per-second; error rate a fraction -> ppm. NaN, Inf and missing steps stay unknown. */
int sl_prometheus_parse(const sl_source_query *q, const sl_http_resp *resp, sl_sample *samples,
                        sl_error *err) __attribute__((warn_unused_result));

/* ---- HTTP probes (probe.c) ---- */

/** The outcome of one probe. */
typedef struct sl_probe_result {
    int up;
    int64_t response_ms;               /* -1 when no response */
    char reason[SL_SAMPLE_REASON_CAP]; /* why down; "" when up */
} sl_probe_result;

/** Builds the probe request of an http service: source.url (http, https or tcp://host:port),
 * method (GET), timeout (default 10 s); want_cert when source.cert_expiry is set. */
int sl_probe_request(const sl_service_spec *s, sl_http_req *out, sl_error *err)
    __attribute__((warn_unused_result));
/** Judges a probe's response against the service's conditions at now_ms: a response came,
 * status == expect_status (default: any 2xx/3xx), body contains expect_body, and the
 * certificate expires later than now + cert_expiry. */
void sl_probe_judge(const sl_service_spec *s, const sl_http_resp *resp, int64_t now_ms,
                    sl_probe_result *out);

/* ---- measuring a history source: its adapter's requests, in order ---- */

/** The Azure tokens of a node, one per credential name; used by one thread at a time. */
typedef struct sl_token_cache sl_token_cache;

int sl_token_cache_new(sl_token_cache **out) __attribute__((warn_unused_result));
/** Wipes every token and frees. Accepts NULL. */
void sl_token_cache_free(sl_token_cache *c);

/**
 * One measurement of a history source (aws.ec2, azure.vm, prometheus): the samples of the
 * intervals [q.from_ms, q.to_ms) and the sequence of requests it takes to get them (an Azure
 * token when the cached one is stale, pages of CloudWatch results, one Prometheus request per
 * SL_PROMETHEUS_MAX_POINTS intervals, their samples concatenated). Drive it with
 * sl_measure_next and sl_measure_feed, through sl_fetch or synchronously with sl_measure_run.
 */
typedef struct sl_measure {
    sl_source_query q;  /* strings borrowed; q.now_ms may be advanced between steps */
    sl_sample *samples; /* (to - from) / interval entries, owned */
    size_t n;
    /* private */
    sl_token_cache *tokens;
    int own_tokens;
    int stage;
    int retried;
    int pages;
    char *cursor;
    size_t done; /* prometheus: intervals already asked for, in chunks from the start */
} sl_measure;

#define SL_MEASURE_MAX_PAGES 100

/**
 * Prepares a measurement of q: samples allocated with their start times, all unknown ("no
 * datapoint"). tokens (may be NULL: no caching across measurements) is borrowed. SL_EINVAL
 * with the reason in *err for a source kind that keeps no history or a range that is empty,
 * unaligned or longer than 100000 intervals; SL_ENOMEM. Released with sl_measure_release in
 * any case.
 */
int sl_measure_init(sl_measure *m, const sl_source_query *q, sl_token_cache *tokens, sl_error *err)
    __attribute__((warn_unused_result));
void sl_measure_release(sl_measure *m);
/** 1 with *req (initialised by the caller) holding the next request to send, 0 when the
 * samples are final, or the adapter's error (then every sample is unknown with its reason). */
int sl_measure_next(sl_measure *m, sl_http_req *req, sl_error *err)
    __attribute__((warn_unused_result));
/** Reads the response to the request sl_measure_next gave. 0, or the error that ends the
 * measurement (every sample unknown with the reason); a transport failure is SL_EIO. */
int sl_measure_feed(sl_measure *m, const sl_http_resp *resp, sl_error *err)
    __attribute__((warn_unused_result));
/** Runs the whole measurement with sl_http_perform, reading the wall clock for q.now_ms. */
int sl_measure_run(sl_measure *m, sl_error *err) __attribute__((warn_unused_result));

#endif
