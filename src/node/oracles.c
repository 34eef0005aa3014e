/*
 * oracles.c: the node's oracles. The node holds the keys of the oracle members its config
 * lists and runs one scheduler (sched.h) for them: it tells the scheduler which agreements are
 * active on each channel (all of them at start; afterwards, each agreement a block activated or
 * closed, and only that one),
 * submits the signed reports to the channel's orderer, answers whether a ledger holds a
 * transaction (the scheduler's outbox), and routes the scheduler's log into the node's.
 * It also serves the push route, through which authenticated agents hand observations of push
 * and process-step services to the scheduler (a push is its caller's, an oracle member, same
 * organization and name, whose key the node holds, and only that oracle reports it), and the
 * seed paper's PUT, which has the scheduler measure an agreement's latest closed intervals now.
 *
 * Ownership: the node owns the scheduler and the oracle members. Thread-safety: the
 * scheduler's callbacks run on its thread and use only thread-safe ledger and orderer calls;
 * the refresh never runs on an orderer's thread, which may hold its ledger's lock: a block
 * only queues the names of the agreements it activated or closed (sl_sched_refresh_agreement),
 * and the scheduler's thread reads them at its next round.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "node/api_int.h"
#include "node/log.h"
#include "node/node_int.h"
#include "slaledger/contract.h"
#include "slaledger/sched.h"

/* ---- the scheduler's callbacks ---- */

static int submit_cb(void *arg, const char *channel, const uint8_t *tx, size_t len, sl_error *err)
{
    sl__channel *ch = sl__node_channel(arg, channel);
    uint8_t id[SL_HASH_LEN];

    if (!ch)
        return sl_error_set(err, SL_ENOENT, "channel", "this node does not serve '%s'", channel);
    return sl_orderer_submit(ch->orderer, tx, len, id, err);
}

static int known_cb(void *arg, const char *channel, const uint8_t id[SL_HASH_LEN])
{
    sl__channel *ch = sl__node_channel(arg, channel);
    sl_tx_record rec;
    sl_error err = {0};
    int rc;

    if (!ch)
        return 0; /* the channel left the config: its reports can never be ordered here */
    rc = sl_ledger_tx(ch->ledger, id, &rec, NULL, &err);
    return rc == 0 ? 1 : rc == SL_ENOENT ? 0 : rc;
}

static void log_cb(void *arg, int level, const char *msg, const sl_sched_log_field *fields,
                   size_t n_fields)
{
    static const sl_node_log_level levels[] = {SL_NODE_LOG_DEBUG, SL_NODE_LOG_INFO,
                                               SL_NODE_LOG_WARN, SL_NODE_LOG_ERROR};
    sl_node_log_level lv = levels[level < 0 ? 0 : level > 3 ? 3 : level];
    sl__log_field f[8] = {0};
    sl__node *n = arg;
    size_t k = n_fields < 8 ? n_fields : 8;

    for (size_t i = 0; i < k; i++)
        f[i] = fields[i].s ? SL__LOG_S(fields[i].key, fields[i].s)
                           : SL__LOG_I(fields[i].key, fields[i].i);
    sl__log_write(n->log, lv, msg, f, k);
}

/* Copies of the active agreements of one channel, read under the ledger's lock. */
typedef struct active {
    sl_agreement_spec **v;
    size_t n;
    int nomem;
} active;

static int read_active(const sl_contract *c, void *arg)
{
    active *a = arg;
    size_t n = sl_contract_agreement_count(c);
    sl_agreement_info info;

    a->v = calloc(n ? n : 1, sizeof(*a->v));
    if (!a->v)
        return a->nomem = 1;
    for (size_t i = 0; i < n; i++) {
        if (sl_contract_agreement_at(c, i, &info) != 0 || info.status != SL_AGR_ACTIVE)
            continue;
        if (sl_agreement_spec_dup(info.spec, &a->v[a->n]) != 0)
            return a->nomem = 1;
        a->n++;
    }
    return 0;
}

/* A copy of one agreement's terms while it is active (NULL when not), read under the
 * ledger's lock. */
typedef struct one_agreement {
    const char *name;
    sl_agreement_spec *spec;
    int nomem;
} one_agreement;

static int read_one(const sl_contract *c, void *arg)
{
    one_agreement *o = arg;
    sl_agreement_info info;

    if (sl_contract_agreement(c, o->name, &info) != 0 || info.status != SL_AGR_ACTIVE)
        return 0;
    if (sl_agreement_spec_dup(info.spec, &o->spec) != 0)
        o->nomem = 1;
    return 0;
}

/* What became of one agreement named by a block's events, for the scheduler. */
static void refresh_one(sl__node *n, const char *channel, const char *agreement)
{
    sl__channel *ch = sl__node_channel(n, channel);
    one_agreement o = {agreement, NULL, 0};

    if (!ch)
        return;
    sl_ledger_with_contract(ch->ledger, read_one, &o);
    if (o.nomem)
        log_cb(n, 3, "oracle scheduler: out of memory reading an agreement", NULL, 0);
    else if (sl_sched_update(n->sched, channel, agreement, o.spec) != 0)
        log_cb(n, 3, "oracle scheduler: cannot take up the agreement", NULL, 0);
    sl_agreement_spec_free(o.spec);
}

/* Every channel's active agreements (at start-up), or one agreement a block named. */
static void refresh_cb(void *arg, const char *channel, const char *agreement)
{
    sl__node *n = arg;

    if (channel) {
        refresh_one(n, channel, agreement);
        return;
    }
    for (size_t i = 0; i < n->n_channels; i++) {
        active a = {0};
        sl_ledger_with_contract(n->channels[i].ledger, read_active, &a);
        if (a.nomem)
            log_cb(n, 3, "oracle scheduler: out of memory reading agreements", NULL, 0);
        else if (sl_sched_sync(n->sched, n->channels[i].name, (const sl_agreement_spec *const *)a.v,
                               a.n) != 0)
            log_cb(n, 3, "oracle scheduler: cannot take up the agreements", NULL, 0);
        for (size_t k = 0; k < a.n; k++)
            sl_agreement_spec_free(a.v[k]);
        free(a.v);
    }
}

/* ---- life ---- */

int sl__oracles_start(sl__node *n, const sl_node_config *cfg, const sl_secrets *secrets,
                      sl_error *err)
{
    char path[SL_NODE_PATH_MAX + 16];
    sl_sched_config sc = {0};
    int rc;

    if (n->n_oracles == 0)
        return 0;
    n->sched_oracles = calloc(n->n_oracles, sizeof(*n->sched_oracles));
    if (!n->sched_oracles)
        return sl_error_set(err, SL_ENOMEM, NULL, "out of memory");
    for (size_t i = 0; i < n->n_oracles; i++) {
        n->sched_oracles[i].name = n->oracles[i].name;
        n->sched_oracles[i].key = n->oracles[i].key;
        n->sched_oracles[i].cert = &n->oracles[i].cert;
    }
    sl_strfmt(path, sizeof(path), "%s/oracles.db", cfg->data_dir);
    sc.state_path = path;
    sc.secrets = secrets;
    sc.oracles = n->sched_oracles;
    sc.n_oracles = n->n_oracles;
    sc.delay_ms = cfg->sched_delay_ms;
    sc.timeout_ms = cfg->sched_timeout_ms;
    sc.max_active = cfg->sched_concurrency;
    sc.max_tx_bytes = SL_CHANNEL_MAX_TX_BYTES;
    for (size_t i = 0; i < n->n_channels; i++) {
        uint32_t max = sl_ledger_channel(n->channels[i].ledger)->max_tx_bytes;
        if (max < sc.max_tx_bytes)
            sc.max_tx_bytes = max;
    }
    sc.submit = submit_cb;
    sc.known = known_cb;
    sc.log = log_cb;
    sc.refresh = refresh_cb;
    sc.clock = sl__node_clock_cb;
    sc.speed = n->clock_speed;
    sc.arg = n;
    if ((rc = sl_sched_new(&sc, &n->sched, err)) != 0)
        return rc;
    sl_sched_refresh(n->sched);
    if ((rc = sl_sched_start(n->sched)) != 0)
        return sl_error_set(err, rc, NULL, "cannot start the oracle scheduler");
    return 0;
}

void sl__oracles_stop(sl__node *n)
{
    sl_sched_free(n->sched);
    n->sched = NULL;
    free(n->sched_oracles);
    n->sched_oracles = NULL;
}

void sl__oracles_on_block(sl__node *n, const char *channel, const sl_commit_info *info)
{
    if (!n->sched)
        return;
    for (size_t i = 0; i < info->n_events; i++) {
        const sl_event *e = &info->events[i];
        if ((e->kind == SL_EV_ACTIVATED || e->kind == SL_EV_CLOSED) && e->agreement)
            sl_sched_refresh_agreement(n->sched, channel, e->agreement);
    }
}

void sl__oracles_metrics(sl__node *n)
{
    static const struct {
        const char *name, *help;
        size_t off;
    } counters[] = {
        {"slaledger_oracle_probes_total", "HTTP probes finished.",
         offsetof(sl_sched_stats, probes)},
        {"slaledger_oracle_probes_down_total", "HTTP probes that found the service down.",
         offsetof(sl_sched_stats, probes_down)},
        {"slaledger_oracle_requests_total", "Requests to history sources finished.",
         offsetof(sl_sched_stats, requests)},
        {"slaledger_oracle_failures_total", "Source requests that failed (then retried).",
         offsetof(sl_sched_stats, failures)},
        {"slaledger_oracle_reported_total", "Intervals put into submitted reports.",
         offsetof(sl_sched_stats, reported)},
        {"slaledger_oracle_unknown_total", "Intervals handled without a value.",
         offsetof(sl_sched_stats, unknown)},
        {"slaledger_oracle_missed_total", "Intervals past their deadline before measured.",
         offsetof(sl_sched_stats, missed)},
        {"slaledger_oracle_transactions_total", "Report transactions submitted.",
         offsetof(sl_sched_stats, transactions)},
    };
    sl_sched_stats st;

    if (!n->sched || !n->http)
        return;
    sl_sched_stats_get(n->sched, &st);
    for (size_t i = 0; i < sizeof(counters) / sizeof(counters[0]); i++) {
        uint64_t v;
        memcpy(&v, (const char *)&st + counters[i].off, sizeof(v));
        sl_http_count_set(n->http, counters[i].name, counters[i].help, "", v);
    }
    sl_http_gauge(n->http, "slaledger_oracle_tasks", "Oracle tasks scheduled.", "",
                  (int64_t)st.tasks);
    sl_http_gauge(n->http, "slaledger_oracle_outbox", "Signed reports not yet in a ledger.", "",
                  (int64_t)st.outbox);
}

/* ---- POST /v1/agreements/{name}/services/{service}/observations ---- */

/* A time member: "time" (RFC 3339) or "time_ms" (integer). */
static int obs_time(json_t *o, int64_t *out)
{
    json_t *t = json_object_get(o, "time");
    json_t *ms = json_object_get(o, "time_ms");

    if (json_is_string(t))
        return sl_time_parse(json_string_value(t), json_string_length(t), out);
    if (json_is_integer(ms)) {
        *out = json_integer_value(ms);
        return 0;
    }
    return SL_EINVAL;
}

/* A duration member in ms: absent is -1, anything but a non-negative integer is an error. */
static int obs_ms(json_t *o, const char *key, int64_t *out)
{
    json_t *v = json_object_get(o, key);

    *out = -1;
    if (!v)
        return 0;
    if (!json_is_integer(v) || json_integer_value(v) < 0 ||
        json_integer_value(v) > 86400000LL * 365)
        return SL_EINVAL;
    *out = json_integer_value(v);
    return 0;
}

/* Reads item i of the body into *ob; the field at fault in field[cap] on failure. */
static int obs_parse(json_t *o, size_t i, sl_observation *ob, char *field, size_t cap)
{
    static const char *const keys[] = {"time",        "time_ms",       "ok",
                                       "response_ms", "processing_ms", "delay_ms"};
    const char *key;
    json_t *v;
    int known;

    json_object_foreach(o, key, v)
    {
        known = 0;
        for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++)
            known |= strcmp(key, keys[k]) == 0;
        if (!known) {
            sl_strfmt(field, cap, "observations[%zu].%s", i, key);
            return SL_EINVAL;
        }
    }
    sl_strfmt(field, cap, "observations[%zu].time", i);
    if (obs_time(o, &ob->time_ms) != 0)
        return SL_EINVAL;
    sl_strfmt(field, cap, "observations[%zu].ok", i);
    v = json_object_get(o, "ok");
    if (v && !json_is_boolean(v))
        return SL_EINVAL;
    ob->ok = !v || json_is_true(v);
    sl_strfmt(field, cap, "observations[%zu]", i);
    return obs_ms(o, "response_ms", &ob->response_ms) ||
                   obs_ms(o, "processing_ms", &ob->processing_ms) ||
                   obs_ms(o, "delay_ms", &ob->delay_ms)
               ? SL_EINVAL
               : 0;
}

#define MAX_PUSH 10000

/* Reads the observations of list into obs[0..count); 0, or the answer to a bad one. */
static int push_parse(json_t *list, sl_observation *obs, size_t count, sl_resp *resp)
{
    char field[64];

    for (size_t i = 0; i < count; i++) {
        if (!json_is_object(json_array_get(list, i)) ||
            obs_parse(json_array_get(list, i), i, &obs[i], field, sizeof(field)) != 0) {
            sl_http_error(resp, 400, SL_EINVAL, field,
                          "expected {\"time\": RFC 3339 or \"time_ms\", \"ok\": true|false, "
                          "\"response_ms\", \"processing_ms\", \"delay_ms\": integers >= 0}");
            return SL_EINVAL;
        }
    }
    return 0;
}

static int push_reply(sl__node *n, sl_req *req, sl_resp *resp, const char *channel, json_t *list)
{
    size_t count = json_array_size(list);
    sl_observation *obs = calloc(count, sizeof(*obs));
    sl_sched_push to = {channel, req->params[0], req->params[1], req->caller.org, req->caller.user};
    sl_error err = {0};

    if (!obs)
        return sl_http_error(resp, 500, SL_ENOMEM, NULL, "out of memory");
    if (push_parse(list, obs, count, resp) == 0) {
        if (sl_sched_observe(n->sched, &to, obs, count, &err) != 0) {
            sl_http_error(resp, sl_http_status_of(err.code), err.code, err.field, "%s", err.msg);
        } else {
            resp->status = 202;
            sl_buf_printf(&resp->body, "{\"accepted\":%zu}", count);
        }
    }
    free(obs);
    return resp->body.err;
}

/* The oracle member of this node the caller is: the same organization and name. NULL when the
 * node holds no key of that oracle. */
static const sl__member *caller_oracle(const sl__node *n, const sl_caller *c)
{
    for (size_t i = 0; i < n->n_oracles; i++) {
        if (strcmp(n->oracles[i].name, c->user) == 0 && strcmp(n->oracles[i].cert.org, c->org) == 0)
            return &n->oracles[i];
    }
    return NULL;
}

int sl__oracles_push(sl__node *n, sl_req *req, sl_resp *resp, const char *channel,
                     const char *agent)
{
    json_t *body, *list;
    int rc;

    if (!(req->caller.role & SL_ROLE_ORACLE))
        return sl_http_error(resp, 403, SL_EPERM, "token",
                             "observations are pushed with an oracle-role token");
    if (!n->sched)
        return sl_http_error(resp, 404, SL_ENOENT, "service", "this node runs no oracles");
    /* A push speaks for one oracle: the caller's own, which this node must sign for. */
    if (!caller_oracle(n, &req->caller))
        return sl_http_error(resp, 403, SL_EPERM, "token",
                             "'%s' of %s is not an oracle this node holds the key of, so it "
                             "cannot push observations here",
                             req->caller.user, req->caller.org);
    if (agent && strcmp(agent, req->caller.user) != 0)
        return sl_http_error(resp, 403, SL_EPERM, "token",
                             "service %s takes observations from agent '%s' only", req->params[1],
                             agent);
    body = sl__api_json_body(req, resp);
    if (!body)
        return 0;
    list = json_object_get(body, "observations");
    if (!json_is_array(list) || json_array_size(list) == 0 || json_array_size(list) > MAX_PUSH)
        rc = sl_http_error(resp, 400, SL_EINVAL, "observations",
                           "expected {\"observations\": [...]} with 1 to %d entries", MAX_PUSH);
    else
        rc = push_reply(n, req, resp, channel, list);
    json_decref(body);
    return rc;
}

/* ---- PUT /aws/services/{key}, PUT /azure/services/{key} ---- */

static const char *now_status_name(sl_sched_now_status st)
{
    switch (st) {
    case SL_SCHED_NOW_QUEUED:
        return "queued";
    case SL_SCHED_NOW_PENDING:
        return "pending";
    case SL_SCHED_NOW_RUNNING:
        return "running";
    case SL_SCHED_NOW_DONE:
        return "already_measured";
    case SL_SCHED_NOW_NONE:
        break;
    }
    return "not_closed";
}

static json_t *now_json(const sl_sched_now *e)
{
    char from[40], start[40], end[40];

    sl_time_format(e->from_ms, from, sizeof(from));
    sl_time_format(e->start_ms, start, sizeof(start));
    sl_time_format(e->end_ms, end, sizeof(end));
    return json_pack("{s:s, s:s, s:s, s:s, s:s?, s:s?}", "objective", e->objective, "oracle",
                     e->oracle, "status", now_status_name(e->status), "from", from, "start",
                     e->status == SL_SCHED_NOW_NONE ? NULL : start, "end",
                     e->status == SL_SCHED_NOW_NONE ? NULL : end);
}

/* The answer when nothing was queued now: what the first task says, as an error. */
static int now_refusal(sl_resp *resp, const char *agreement, const sl_sched_now *v, size_t n)
{
    char start[40], end[40];

    for (size_t i = 0; i < n; i++) {
        if (v[i].status != SL_SCHED_NOW_DONE)
            continue;
        sl_time_format(v[i].start_ms, start, sizeof(start));
        sl_time_format(v[i].end_ms, end, sizeof(end));
        return sl_http_error(resp, 409, SL_EDUP, "key",
                             "%s: the latest closed interval of %s, %s to %s, was already "
                             "measured by oracle %s; an interval is never measured twice",
                             agreement, v[i].objective, start, end, v[i].oracle);
    }
    return sl_http_error(resp, 422, SL_ETIME, "key", "%s: no interval has closed yet", agreement);
}

int sl__oracles_measure_now(sl__node *n, sl_resp *resp, const char *channel, const char *agreement)
{
    size_t cap =
        SL_MAX_OBJECTIVES * (n->n_oracles < SL_MAX_ORACLES ? n->n_oracles : SL_MAX_ORACLES);
    sl_sched_now *v = n->sched ? calloc(cap, sizeof(*v)) : NULL;
    json_t *list = json_array();
    size_t count = 0, queued = 0;
    sl_error err = {0};
    int rc = 0;

    if (!n->sched) {
        rc = sl_http_error(resp, 409, SL_ESTATE, "key",
                           "this node runs no oracles: it cannot measure %s", agreement);
        goto out;
    }
    if (!v || !list) {
        rc = SL_ENOMEM;
        goto out;
    }
    if (sl_sched_measure_now(n->sched, channel, agreement, v, cap, &count, &err) != 0) {
        rc = sl_http_error(resp, err.code == SL_ENOENT ? 409 : 0,
                           err.code == SL_ENOENT ? SL_ESTATE : err.code, err.field, "%s", err.msg);
        goto out;
    }
    if (count > cap)
        count = cap;
    for (size_t i = 0; i < count; i++) {
        queued += v[i].status == SL_SCHED_NOW_QUEUED || v[i].status == SL_SCHED_NOW_PENDING ||
                  v[i].status == SL_SCHED_NOW_RUNNING;
        if (json_array_append_new(list, now_json(&v[i])) != 0) {
            rc = SL_ENOMEM;
            goto out;
        }
    }
    if (!queued) {
        rc = now_refusal(resp, agreement, v, count);
        goto out;
    }
    rc = sl__api_reply(resp, 202,
                       json_pack("{s:s, s:s, s:O}", "agreement", agreement, "channel", channel,
                                 "measurements", list));
out:
    json_decref(list);
    free(v);
    return rc;
}
