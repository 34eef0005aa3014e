/*
 * measure.c: one measurement of a history source as a sequence of requests, and the Azure
 * token cache it draws on.
 *
 * The adapters are pure builders and parsers; this file strings them together: Azure needs a
 * bearer token first (fetched only when the cached one is stale, and fetched again once when
 * the metrics API refuses a cached token), CloudWatch may take several pages, and a Prometheus
 * range longer than SL_PROMETHEUS_MAX_POINTS intervals is asked for in consecutive chunks, one
 * request each, whose samples land side by side. Because the
 * sequence is driven from outside (next -> send -> feed), the same code runs synchronously in
 * the CLI and on the scheduler's multi-interface fetch. A measurement that fails leaves every
 * sample unknown with the failure as its reason, so a bad source never yields a value.
 * Thread-safety: an sl_measure and an sl_token_cache belong to one thread at a time.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "oracle/oracle_int.h"

#define MAX_SAMPLES 100000

enum { STAGE_START, STAGE_TOKEN, STAGE_DATA, STAGE_DONE };

/* ---- Azure tokens, per credential name ---- */

typedef struct token_entry {
    char *credential;
    sl_azure_token token;
} token_entry;

struct sl_token_cache {
    token_entry *v;
    size_t n, cap;
};

int sl_token_cache_new(sl_token_cache **out)
{
    *out = calloc(1, sizeof(**out));
    return *out ? 0 : SL_ENOMEM;
}

void sl_token_cache_free(sl_token_cache *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->n; i++) {
        sl_azure_token_release(&c->v[i].token);
        free(c->v[i].credential);
    }
    free(c->v);
    free(c);
}

/* The entry for credential name, created empty when absent; NULL on allocation failure. */
static sl_azure_token *token_slot(sl_token_cache *c, const char *name)
{
    for (size_t i = 0; i < c->n; i++) {
        if (strcmp(c->v[i].credential, name) == 0)
            return &c->v[i].token;
    }
    if (sl_reserve(&c->v, &c->cap, c->n + 1, sizeof(*c->v)) != 0)
        return NULL;
    token_entry *e = &c->v[c->n];
    memset(e, 0, sizeof(*e));
    e->credential = sl_strdup(name);
    if (!e->credential)
        return NULL;
    c->n++;
    return &e->token;
}

/* ---- the measurement ---- */

static int is_history(sl_service_kind k)
{
    return k == SL_SVC_AWS_EC2 || k == SL_SVC_AZURE_VM || k == SL_SVC_PROMETHEUS;
}

int sl_measure_init(sl_measure *m, const sl_source_query *q, sl_token_cache *tokens, sl_error *err)
{
    int64_t step = q->objective ? q->objective->interval_ms : 0;

    memset(m, 0, sizeof(*m));
    if (!q->service || !q->objective || step <= 0)
        return sl_error_set(err, SL_EINVAL, "query", "no service or objective");
    if (!is_history(q->service->kind))
        return sl_error_set(err, SL_EINVAL, "source", "a %s source keeps no history to query",
                            sl_service_kind_name(q->service->kind));
    if (q->to_ms <= q->from_ms || sl_floormod(q->from_ms, step) != 0 ||
        sl_floormod(q->to_ms, step) != 0)
        return sl_error_set(err, SL_EINVAL, "range",
                            "[from, to) must be a non-empty range "
                            "aligned to the %lld ms interval",
                            (long long)step);
    if ((q->to_ms - q->from_ms) / step > MAX_SAMPLES)
        return sl_error_set(err, SL_EINVAL, "range", "more than %d intervals at once", MAX_SAMPLES);
    m->q = *q;
    m->n = (size_t)((q->to_ms - q->from_ms) / step);
    m->samples = calloc(m->n, sizeof(*m->samples));
    if (!m->samples)
        return sl_error_set(err, SL_ENOMEM, NULL, "out of memory");
    for (size_t i = 0; i < m->n; i++)
        m->samples[i].start_ms = q->from_ms + (int64_t)i * step;
    sl_samples_unknown(m->samples, m->n, "no datapoint");
    m->tokens = tokens;
    if (!tokens && q->service->kind == SL_SVC_AZURE_VM) {
        if (sl_token_cache_new(&m->tokens) != 0)
            return sl_error_set(err, SL_ENOMEM, NULL, "out of memory");
        m->own_tokens = 1;
    }
    return 0;
}

void sl_measure_release(sl_measure *m)
{
    if (!m)
        return;
    if (m->own_tokens)
        sl_token_cache_free(m->tokens);
    free(m->samples);
    free(m->cursor);
    memset(m, 0, sizeof(*m));
}

/* Ends the measurement: every sample unknown with err's message. */
static int fail(sl_measure *m, int rc, const sl_error *err)
{
    sl_samples_unknown(m->samples, m->n, "%s", err->msg[0] ? err->msg : sl_strerror(rc));
    m->stage = STAGE_DONE;
    return rc;
}

/* The cached token of this measurement's credential; NULL when there is no cache or memory. */
static sl_azure_token *azure_token(sl_measure *m)
{
    if (!m->q.credential)
        return NULL;
    return token_slot(m->tokens, m->q.credential->name);
}

/* The part of the range the next Prometheus request covers: the *count intervals (at most
 * SL_PROMETHEUS_MAX_POINTS) after the m->done already measured. */
static sl_source_query prometheus_chunk(const sl_measure *m, size_t *count)
{
    sl_source_query q = m->q;
    int64_t step = q.objective->interval_ms;
    size_t left = m->n - m->done;

    *count = left < SL_PROMETHEUS_MAX_POINTS ? left : SL_PROMETHEUS_MAX_POINTS;
    q.from_ms = m->q.from_ms + (int64_t)m->done * step;
    q.to_ms = q.from_ms + (int64_t)*count * step;
    return q;
}

static int next_request(sl_measure *m, sl_http_req *req, sl_error *err)
{
    sl_azure_token *tok;
    sl_source_query chunk;
    size_t count;

    switch (m->q.service->kind) {
    case SL_SVC_AWS_EC2:
        return sl_cloudwatch_request(&m->q, m->cursor, req, err);
    case SL_SVC_PROMETHEUS:
        chunk = prometheus_chunk(m, &count);
        return sl_prometheus_request(&chunk, req, err);
    case SL_SVC_AZURE_VM:
        tok = azure_token(m);
        if (!tok)
            return sl_error_set(err, SL_EINVAL, "credentials", "no Azure credential");
        if (sl_azure_token_stale(tok, m->q.now_ms)) {
            m->stage = STAGE_TOKEN;
            return sl_azure_token_request(&m->q, req, err);
        }
        return sl_azure_metrics_request(&m->q, tok, req, err);
    default:
        return sl_error_set(err, SL_EINVAL, "source", "no adapter");
    }
}

int sl_measure_next(sl_measure *m, sl_http_req *req, sl_error *err)
{
    int rc;

    if (m->stage == STAGE_DONE)
        return 0;
    m->stage = STAGE_DATA;
    rc = next_request(m, req, err);
    return rc ? fail(m, rc, err) : 1;
}

/* Reads a token response into the cache. */
static int feed_token(sl_measure *m, const sl_http_resp *resp, sl_error *err)
{
    sl_azure_token *tok = azure_token(m);
    sl_azure_token fresh = {0};
    int rc;

    if (!tok)
        return sl_error_set(err, SL_ENOMEM, NULL, "out of memory");
    rc = sl_azure_token_parse(resp, m->q.now_ms, &fresh, err);
    if (rc)
        return rc;
    sl_azure_token_release(tok);
    *tok = fresh;
    return 0;
}

/* Reads a data response; sets the stage to done unless another page or a retry follows. */
static int feed_data(sl_measure *m, const sl_http_resp *resp, sl_error *err)
{
    char *cursor = NULL;
    sl_source_query chunk;
    size_t count;
    int rc;

    switch (m->q.service->kind) {
    case SL_SVC_AWS_EC2:
        rc = sl_cloudwatch_parse(&m->q, resp, m->samples, &cursor, err);
        free(m->cursor);
        m->cursor = cursor;
        if (!rc && cursor && ++m->pages >= SL_MEASURE_MAX_PAGES)
            rc = sl_error_set(err, SL_EIO, "NextToken", "more than %d pages", SL_MEASURE_MAX_PAGES);
        if (!rc && !cursor)
            m->stage = STAGE_DONE;
        return rc;
    case SL_SVC_PROMETHEUS:
        chunk = prometheus_chunk(m, &count);
        rc = sl_prometheus_parse(&chunk, resp, m->samples + m->done, err);
        if (!rc && (m->done += count) == m->n)
            m->stage = STAGE_DONE;
        return rc;
    default:
        rc = sl_azure_metrics_parse(&m->q, resp, m->samples, err);
        if (rc == SL_EAUTH && !m->retried) {
            /* The cached token may have been revoked early: fetch a new one, once. */
            m->retried = 1;
            sl_azure_token_release(azure_token(m));
            return 0;
        }
        if (!rc)
            m->stage = STAGE_DONE;
        return rc;
    }
}

int sl_measure_feed(sl_measure *m, const sl_http_resp *resp, sl_error *err)
{
    int rc;

    if (m->stage == STAGE_DONE)
        return 0;
    if (resp->failed) {
        rc = sl_error_set(err, SL_EIO, "source", "%s", resp->error);
    } else if (m->stage == STAGE_TOKEN) {
        rc = feed_token(m, resp, err);
        m->stage = STAGE_DATA;
    } else {
        rc = feed_data(m, resp, err);
    }
    return rc ? fail(m, rc, err) : 0;
}

int sl_measure_run(sl_measure *m, sl_error *err)
{
    sl_http_req req;
    sl_http_resp resp;
    int rc;

    sl_http_resp_init(&resp);
    for (;;) {
        sl_http_req_init(&req);
        m->q.now_ms = sl__wall_ms();
        rc = sl_measure_next(m, &req, err);
        if (rc <= 0)
            break;
        sl_http_perform(&req, &resp); /* a failure is in resp and ends the measurement */
        sl_http_req_release(&req);
        rc = sl_measure_feed(m, &resp, err);
        if (rc)
            break;
    }
    sl_http_req_release(&req);
    sl_http_resp_release(&resp);
    return rc;
}
