/*
 * api.c: the node's /v1 routes. Reads come from the contract (under the ledger's lock) and the
 * stored world state; writes become transactions the node signs as the calling user and waits
 * for (submit.c). Visibility: a consumer or provider sees the agreements its organization is a
 * party to, an auditor everything on the node's channels, anyone else nothing, and what a
 * caller may not see answers 404 exactly as what does not exist. A node (role node, e.g. another
 * organization's node with its node credential) is no user: the HTTP layer answers it 403 on
 * every route not registered with SL_ROUTE_NODES (whoami is). The routes and their bodies
 * are documented in docs/api.md and /v1/openapi.json.
 *
 * Thread-safety: handlers run concurrently on the HTTP threads; they share only thread-safe
 * ledgers and orderers.
 */
#include <stdio.h>
#include <stdlib.h>
#include <errno.h>
#include <string.h>

#include <jansson.h>

#include "node/api_int.h"
#include "node/node_int.h"
#include "slaledger/oracle.h"
#include "slaledger/contract.h"
#include "slaledger/version.h"

#define COMMIT_TIMEOUT_MS 10000

/* ---- helpers ---- */

int sl__api_reply(sl_resp *resp, int status, json_t *j)
{
    if (!j)
        return SL_ENOMEM;
    char *s = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    if (!s)
        return SL_ENOMEM;
    resp->status = status;
    sl_buf_printf(&resp->body, "%s\n", s);
    free(s);
    return resp->body.err;
}

/* One parser for every JSON request body: duplicate keys are refused, since two readers of
 * {"amount":"-2.00","amount":"1.00"} may each take a different one. */
json_t *sl__api_json_body(const sl_req *req, sl_resp *resp)
{
    json_error_t je;
    json_t *j = json_loadb((const char *)req->body, req->body_len, JSON_REJECT_DUPLICATES, &je);
    if (!j)
        sl_http_error(resp, 400, SL_EINVAL, "body",
                      "the body is not valid JSON: line %d column %d: %s", je.line, je.column,
                      je.text);
    return j;
}

static int may_see(const sl_caller *c, const char *consumer, const char *provider)
{
    return (c->role & SL_ROLE_AUDITOR) || strcmp(c->org, consumer) == 0 ||
           strcmp(c->org, provider) == 0;
}

/* Whether spec has a service called name; its push agent (source.agent, or "") into agent. */
static int service_agent(const sl_agreement_spec *spec, const char *name, char *agent, size_t cap)
{
    for (size_t i = 0; i < spec->n_services; i++) {
        if (strcmp(spec->services[i].name, name) != 0)
            continue;
        const char *a = sl_source_get(&spec->services[i], "agent");
        sl_strfmt(agent, cap, "%s", a ? a : "");
        return 1;
    }
    return 0;
}

static int read_view(const sl_contract *c, void *arg)
{
    sl__agr_view *v = arg;
    sl_agreement_info info;
    if (sl_contract_agreement(c, v->name, &info) ||
        !may_see(v->caller, info.spec->consumer, info.spec->provider))
        return 0;
    if (v->service && !service_agent(info.spec, v->service, v->agent, sizeof(v->agent)))
        return 0;
    v->found = 1;
    sl_strfmt(v->consumer, sizeof(v->consumer), "%s", info.spec->consumer);
    sl_strfmt(v->provider, sizeof(v->provider), "%s", info.spec->provider);
    memcpy(v->currency, info.spec->currency, sizeof(v->currency));
    v->minor_units = info.spec->minor_units;
    memcpy(v->doc_hash, info.doc_hash, SL_HASH_LEN);
    return v->want_statement ? sl_contract_statement(c, v->name, &v->statement) : 0;
}

/* Finds agreement name on the node's channels as the caller may see it. */
sl__channel *sl__api_find_agreement(sl__node *n, const sl_caller *caller, const char *name,
                                    sl__agr_view *v, int want_statement)
{
    memset(v, 0, sizeof(*v));
    v->name = name;
    v->caller = caller;
    v->want_statement = want_statement;
    sl_buf_init(&v->statement);
    for (size_t i = 0; i < n->n_channels; i++) {
        if (sl_ledger_with_contract(n->channels[i].ledger, read_view, v) == 0 && v->found)
            return &n->channels[i];
    }
    return NULL;
}

/* Only members of a channel read its blocks and transactions (confidentiality per channel). */
int sl__api_member_of(const sl__channel *ch, const sl_caller *c)
{
    return sl_channel_org_find(sl_ledger_channel(ch->ledger), c->org) >= 0;
}

/* The local user the caller acts as, who must hold one of roles. */
const sl__member *sl__api_acting_user(sl__node *n, const sl_req *req, unsigned roles, sl_resp *resp)
{
    const sl__member *u = sl__node_user(n, req->caller.org, req->caller.user);
    if (!u) {
        sl_http_error(resp, 403, SL_EPERM, NULL, "%s of %s is not a user this node signs for",
                      req->caller.user, req->caller.org);
        return NULL;
    }
    if (!(u->cert.role & roles)) {
        sl_http_error(resp, 403, SL_EPERM, NULL, "a %s may not do this",
                      sl_role_name(u->cert.role));
        return NULL;
    }
    return u;
}

/* Reason a stored transaction got its code (for refused ones). */
static void tx_reason(sl__channel *ch, const uint8_t id[SL_HASH_LEN], char *out, size_t cap)
{
    sl_tx_record rec;
    sl_error err;
    out[0] = '\0';
    if (sl_ledger_tx(ch->ledger, id, &rec, NULL, &err) == 0)
        sl_strfmt(out, cap, "%s", rec.reason);
}

/* An error answer about transaction hex: the usual shape with a "transaction" field, so the
 * caller can look it up (GET /v1/transactions/{id}) before submitting again. */
static int tx_error(sl_resp *resp, int status, int code, const char *hex, const char *msg)
{
    resp->content_type = NULL;
    sl_buf_reset(&resp->body);
    return sl__api_reply(resp, status,
                         json_pack("{s:{s:s, s:s, s:s}}", "error", "code", sl_error_token(code),
                                   "message", msg, "transaction", hex));
}

/* The status of a submission's error: a block the node could not store (the disk is full)
 * dropped the transaction, which the caller may submit again later, whatever the cause. */
static int submit_status(int rc, const sl__submitted *s)
{
    return s->dropped || rc == SL_EIO ? 503 : sl_http_status_of(rc);
}

/* The status of a contract refusal with code: its own 4xx (403 EPERM, 404 ENOENT, 409 EFUNDS,
 * 422 ETIME ...), but never 401 (the token was good; the contract refused the signer) and never
 * 5xx (the contract decided; nothing failed). */
static int refusal_status(int code)
{
    int st = sl_http_status_of(code);
    return st == 401 ? 403 : st >= 400 && st < 500 ? st : 409;
}

int sl__api_outcome(sl_resp *resp, const char *channel, const char *agreement, int rc,
                    const sl_error *err, const sl__submitted *s, const char *reason)
{
    char hex[2 * SL_HASH_LEN + 1], msg[256];
    sl_hex(s->id, SL_HASH_LEN, hex);
    if (rc && !s->queued)
        return sl_http_error(resp, submit_status(rc, s), rc, err->field[0] ? err->field : NULL,
                             "%s", err->msg);
    if (rc)
        return tx_error(resp, submit_status(rc, s), rc, hex, err->msg);
    if (s->code != SL_TXC_VALID) {
        /* The contract's own code (EFUNDS, ESTATE, EPERM ...) says why it refused; a
         * transaction that failed validation is malformed input. */
        int code = s->code != SL_TXC_REFUSED ? SL_EINVAL : s->refusal ? s->refusal : SL_ESTATE;
        sl_strfmt(msg, sizeof(msg), "transaction %s is %s: %s", hex, sl_txcode_name(s->code),
                  reason);
        return tx_error(resp, s->code == SL_TXC_REFUSED ? refusal_status(code) : 400, code, hex,
                        msg);
    }
    return sl__api_reply(resp, 201,
                         json_pack("{s:s?, s:s, s:s, s:I, s:s, s:s}", "agreement", agreement,
                                   "channel", channel, "transaction", hex, "height",
                                   (json_int_t)s->height, "code", sl_txcode_name(s->code), "reason",
                                   reason));
}

/* Signs and submits t as user, then answers with the outcome. */
int sl__api_submit_reply(sl__node *n, sl__channel *ch, const sl__member *user, sl_tx *t,
                         const char *agreement, sl_resp *resp)
{
    sl__submitted s;
    sl_error err = {0};
    char reason[200] = "";
    int rc = sl__node_submit(n, ch, user, t, COMMIT_TIMEOUT_MS, &s, &err);
    if (!rc)
        tx_reason(ch, s.id, reason, sizeof(reason));
    return sl__api_outcome(resp, ch->name, agreement, rc, &err, &s, reason);
}

/* ---- routes ---- */

static int health(void *ctx, sl_req *req, sl_resp *resp)
{
    (void)req;
    sl__node *n = ctx;
    json_t *chs = json_array();
    for (size_t i = 0; chs && i < n->n_channels; i++) {
        uint8_t head[SL_HASH_LEN];
        char hex[2 * SL_HASH_LEN + 1];
        uint64_t h = sl_ledger_height(n->channels[i].ledger, head);
        sl_hex(head, SL_HASH_LEN, hex);
        json_array_append_new(chs, json_pack("{s:s, s:I, s:s}", "name", n->channels[i].name,
                                             "height", (json_int_t)h, "head", hex));
    }
    return sl__api_reply(resp, 200,
                         json_pack("{s:s, s:s, s:s, s:o}", "status", "ok", "version", SL_VERSION,
                                   "organization", n->org, "channels", chs));
}

/* World-state rows of one channel into a JSON array, each value tagged with its channel and
 * the block that last changed it. */
typedef struct rows_ctx {
    const char *channel;
    json_t *out;
} rows_ctx;

static int state_row(void *ctx, const char *key, const char *value, uint64_t height)
{
    (void)key;
    rows_ctx *rc = ctx;
    json_t *v = json_loads(value, 0, NULL);
    if (!v)
        return 0;
    json_object_set_new(v, "channel", json_string(rc->channel));
    json_object_set_new(v, "updated_height", json_integer((json_int_t)height));
    return json_array_append_new(rc->out, v) ? SL_ENOMEM : 0;
}

/* The agreements on every channel the caller may see (of one provider when provider is not
 * NULL), each with its parties; NULL when out of memory or the store fails. */
json_t *sl__api_visible_agreements(sl__node *n, const sl_caller *caller, const char *provider)
{
    json_t *all = json_array(), *out = json_array();
    for (size_t i = 0; all && out && i < n->n_channels; i++) {
        rows_ctx rc = {n->channels[i].name, all};
        sl_error err;
        if (sl_ledger_state(n->channels[i].ledger, "agreement/", state_row, &rc, &err)) {
            json_decref(out);
            out = NULL;
        }
    }
    size_t i;
    json_t *v;
    json_array_foreach(all, i, v)
    {
        sl__agr_view view;
        const char *name = json_string_value(json_object_get(v, "name"));
        sl__channel *ch = out ? sl__api_find_agreement(n, caller, name, &view, 0) : NULL;
        if (ch && strcmp(ch->name, json_string_value(json_object_get(v, "channel"))) == 0 &&
            (!provider || strcmp(view.provider, provider) == 0)) {
            json_object_set_new(v, "consumer", json_string(view.consumer));
            json_object_set_new(v, "provider", json_string(view.provider));
            json_object_set_new(v, "currency", json_string(view.currency));
            json_array_append(out, v);
        }
        if (ch)
            sl_buf_release(&view.statement);
    }
    json_decref(all);
    return out;
}

static int list_agreements(void *ctx, sl_req *req, sl_resp *resp)
{
    json_t *out = sl__api_visible_agreements(ctx, &req->caller, NULL);
    return out ? sl__api_reply(resp, 200, json_pack("{s:o}", "agreements", out)) : SL_ENOMEM;
}

int sl__api_show_agreement(void *ctx, sl_req *req, sl_resp *resp)
{
    sl__node *n = ctx;
    sl__agr_view v;
    sl__channel *ch = sl__api_find_agreement(n, &req->caller, req->params[0], &v, 1);
    if (!ch) {
        sl_buf_release(&v.statement);
        return sl_http_error(resp, 404, SL_ENOENT, "name", "no agreement '%s'", req->params[0]);
    }
    /* The contract's statement names the channel already. */
    int rc = v.statement.err;
    if (!rc) {
        sl_buf_put(&resp->body, v.statement.p, v.statement.len);
        rc = resp->body.err;
    }
    sl_buf_release(&v.statement);
    return rc;
}

/* GET /v1/whoami: who the token speaks for. A node (a node credential) is no user: it is shown
 * as a node, with the channels it may call this node for as a member organization's node. */
static int whoami(void *ctx, sl_req *req, sl_resp *resp)
{
    const sl__node *n = ctx;
    const sl_caller *c = &req->caller;
    json_t *chs;

    if (!c->node_credential)
        return sl__api_reply(resp, 200,
                             json_pack("{s:s, s:s, s:s}", "user", c->user, "org", c->org, "role",
                                       sl_role_name(c->role)));
    chs = json_array();
    for (size_t i = 0; chs && i < n->n_channels; i++) {
        if (sl__node_is_member_node(n, c, n->channels[i].name))
            json_array_append_new(chs, json_string(n->channels[i].name));
    }
    return sl__api_reply(resp, 200,
                         json_pack("{s:s, s:s, s:s, s:o}", "node", c->user, "org", c->org, "role",
                                   sl_role_name(c->role), "channels", chs));
}

int sl__api_propose(void *ctx, sl_req *req, sl_resp *resp)
{
    return sl__api_propose_for(ctx, req, resp, NULL);
}

int sl__api_propose_for(sl__node *n, sl_req *req, sl_resp *resp, const char *provider)
{
    const sl__member *u = sl__api_acting_user(n, req, SL_ROLE_CONSUMER | SL_ROLE_PROVIDER, resp);
    if (!u)
        return 0;
    sl_agreement_spec *spec = NULL;
    sl_diags d = {0};
    if (sl_sla_parse((const char *)req->body, req->body_len, "body", &spec, &d)) {
        int rc = sl_http_error(resp, 400, d.n ? d.v[0].code : SL_EINVAL, d.n ? d.v[0].field : NULL,
                               "line %d column %d: %s", d.n ? d.v[0].line : 0,
                               d.n ? d.v[0].column : 0, d.n ? d.v[0].msg : "invalid document");
        sl_diags_release(&d);
        return rc;
    }
    char name[SL_IDENT_NAME_CAP], other[SL_IDENT_NAME_CAP];
    sl_strfmt(name, sizeof(name), "%s", spec->name);
    sl_strfmt(other, sizeof(other), "%s", provider ? spec->provider : "");
    sl__channel *ch = sl__node_channel(n, spec->channel);
    int party =
        strcmp(spec->consumer, u->cert.org) == 0 || strcmp(spec->provider, u->cert.org) == 0;
    sl_agreement_spec_free(spec);
    if (provider && strcmp(other, provider) != 0)
        return sl_http_error(resp, 400, SL_EINVAL, "spec.provider",
                             "this route takes %s agreements, not %s", provider, other);
    if (!ch)
        return sl_http_error(resp, 404, SL_ENOENT, "spec.channel",
                             "this node does not serve the agreement's channel");
    /* A channel the caller's organization is not in is not there for the caller. */
    if (!sl__api_member_of(ch, &req->caller))
        return sl_http_error(resp, 404, SL_ENOENT, "spec.channel",
                             "no channel '%s' of which '%s' is a member", ch->name,
                             req->caller.org);
    if (!party)
        return sl_http_error(resp, 403, SL_EPERM, "spec", "'%s' is neither consumer nor provider",
                             u->cert.org);
    sl_tx t = {.type = SL_TX_PROPOSE, .doc = req->body, .doc_len = req->body_len};
    return sl__api_submit_reply(n, ch, u, &t, name, resp);
}

/* POST /v1/agreements/{name}/accept and /reject: a party answers the proposal. Accepting signs
 * the document's hash, so that a party signs exactly what it read; rejecting declines it for
 * good (the proposer withdraws it, the counter-party refuses it). */
static int answer_proposal(sl__node *n, sl_req *req, sl_resp *resp, sl_tx_type type)
{
    const sl__member *u = sl__api_acting_user(n, req, SL_ROLE_CONSUMER | SL_ROLE_PROVIDER, resp);
    if (!u)
        return 0;
    sl__agr_view v;
    sl__channel *ch = sl__api_find_agreement(n, &req->caller, req->params[0], &v, 0);
    if (!ch)
        return sl_http_error(resp, 404, SL_ENOENT, "name", "no agreement '%s'", req->params[0]);
    sl_tx t = {.type = type};
    sl_strfmt(t.agreement, sizeof(t.agreement), "%s", req->params[0]);
    if (type == SL_TX_ACCEPT)
        memcpy(t.doc_hash, v.doc_hash, SL_HASH_LEN);
    return sl__api_submit_reply(n, ch, u, &t, req->params[0], resp);
}

static int accept(void *ctx, sl_req *req, sl_resp *resp)
{
    return answer_proposal(ctx, req, resp, SL_TX_ACCEPT);
}

static int reject(void *ctx, sl_req *req, sl_resp *resp)
{
    return answer_proposal(ctx, req, resp, SL_TX_REJECT);
}

static int deposit(void *ctx, sl_req *req, sl_resp *resp)
{
    sl__node *n = ctx;
    const sl__member *u = sl__api_acting_user(n, req, SL_ROLE_CONSUMER, resp);
    if (!u)
        return 0;
    sl__agr_view v;
    sl__channel *ch = sl__api_find_agreement(n, &req->caller, req->params[0], &v, 0);
    if (!ch)
        return sl_http_error(resp, 404, SL_ENOENT, "name", "no agreement '%s'", req->params[0]);
    json_t *body = sl__api_json_body(req, resp);
    if (!body)
        return 0;
    const char *amount = json_string_value(json_object_get(body, "amount"));
    sl_tx t = {.type = SL_TX_DEPOSIT};
    int bad = !amount || sl_decimal_parse(amount, strlen(amount), v.minor_units, &t.amount) ||
              t.amount <= 0;
    json_decref(body);
    if (bad)
        return sl_http_error(resp, 400, SL_EINVAL, "amount",
                             "expected {\"amount\": \"12.50\"}: a positive decimal string in %s "
                             "with at most %u decimals",
                             v.currency, v.minor_units);
    sl_strfmt(t.agreement, sizeof(t.agreement), "%s", req->params[0]);
    return sl__api_submit_reply(n, ch, u, &t, req->params[0], resp);
}

static int push(void *ctx, sl_req *req, sl_resp *resp)
{
    sl__node *n = ctx;
    sl__agr_view v;
    memset(&v, 0, sizeof(v));
    v.name = req->params[0];
    v.caller = &req->caller;
    v.service = req->params[1];
    sl_buf_init(&v.statement);
    for (size_t i = 0; i < n->n_channels; i++) {
        if (sl_ledger_with_contract(n->channels[i].ledger, read_view, &v) == 0 && v.found)
            return sl__oracles_push(n, req, resp, n->channels[i].name, v.agent[0] ? v.agent : NULL);
    }
    return sl_http_error(resp, 404, SL_ENOENT, "name", "no agreement '%s' with a service '%s'",
                         req->params[0], req->params[1]);
}

static int wallet(void *ctx, sl_req *req, sl_resp *resp)
{
    sl__node *n = ctx;
    const char *org = req->params[0];
    if (strcmp(org, req->caller.org) != 0 && !(req->caller.role & SL_ROLE_AUDITOR))
        return sl_http_error(resp, 404, SL_ENOENT, "org", "no wallet of '%s'", org);
    char prefix[96];
    sl_strfmt(prefix, sizeof(prefix), "wallet/%s/", org);
    json_t *out = json_array();
    for (size_t i = 0; out && i < n->n_channels; i++) {
        rows_ctx rc = {n->channels[i].name, out};
        sl_error err;
        if (sl_ledger_state(n->channels[i].ledger, prefix, state_row, &rc, &err)) {
            json_decref(out);
            return sl_http_error(resp, 500, err.code, NULL, "%s", err.msg);
        }
    }
    return sl__api_reply(resp, 200, json_pack("{s:s, s:o}", "owner", org, "balances", out));
}

/* A money request: {"amount": "12.50", "currency": "EUR", "channel": "..."}. The channel may
 * be left out on a node that serves one. Amounts have at most two decimals here. */
typedef struct money {
    char currency[4];
    int64_t amount;
    sl__channel *ch;
} money;

static int money_parse(sl__node *n, const sl_req *req, money *m, sl_resp *resp)
{
    json_t *body = sl__api_json_body(req, resp);
    if (!body)
        return 0;
    const char *amount = json_string_value(json_object_get(body, "amount"));
    const char *cur = json_string_value(json_object_get(body, "currency"));
    const char *chan = json_string_value(json_object_get(body, "channel"));
    int ok = amount && cur && strlen(cur) == 3 &&
             sl_decimal_parse(amount, strlen(amount), 2, &m->amount) == 0 && m->amount > 0;
    if (ok)
        memcpy(m->currency, cur, 4);
    m->ch = chan ? sl__node_channel(n, chan) : n->n_channels == 1 ? &n->channels[0] : NULL;
    json_decref(body);
    if (!ok)
        return sl_http_error(resp, 400, SL_EINVAL, "amount",
                             "expected {\"amount\": \"12.50\", \"currency\": \"EUR\", "
                             "\"channel\": ...} with a positive amount of at most 2 decimals");
    if (!m->ch)
        return sl_http_error(resp, 400, SL_EINVAL, "channel", "name one of the node's channels");
    return 1;
}

/* POST /v1/wallets/{org}/issue: the issuer creates tokens in org's wallet. */
static int issue(void *ctx, sl_req *req, sl_resp *resp)
{
    sl__node *n = ctx;
    const sl__member *u = sl__api_acting_user(n, req, SL_ROLE_ISSUER, resp);
    money m;
    if (!u || money_parse(n, req, &m, resp) != 1)
        return 0;
    sl_tx t = {.type = SL_TX_ISSUE, .amount = m.amount};
    /* A longer name would be cut to another organization's; the transaction checks the rest. */
    if (strlen(req->params[0]) >= sizeof(t.to))
        return sl_http_error(resp, 400, SL_EINVAL, "org", "a name has at most %zu bytes",
                             sizeof(t.to) - 1);
    memcpy(t.currency, m.currency, 4);
    sl_strfmt(t.to, sizeof(t.to), "%s", req->params[0]);
    return sl__api_submit_reply(n, m.ch, u, &t, NULL, resp);
}

/* POST /v1/wallets/{org}/withdraw: the owner redeems tokens. */
static int withdraw(void *ctx, sl_req *req, sl_resp *resp)
{
    sl__node *n = ctx;
    const sl__member *u =
        sl__api_acting_user(n, req, SL_ROLE_CONSUMER | SL_ROLE_PROVIDER | SL_ROLE_ISSUER, resp);
    money m;
    if (!u || money_parse(n, req, &m, resp) != 1)
        return 0;
    if (strcmp(req->params[0], u->cert.org) != 0)
        return sl_http_error(resp, 404, SL_ENOENT, "org", "no wallet of '%s'", req->params[0]);
    sl_tx t = {.type = SL_TX_WITHDRAW, .amount = m.amount};
    memcpy(t.currency, m.currency, 4);
    return sl__api_submit_reply(n, m.ch, u, &t, NULL, resp);
}

/* A query argument as a time (RFC 3339) or a count; *out keeps its default when absent. */
static int query_time(const sl_req *req, const char *key, int64_t *out, sl_resp *resp)
{
    const char *v = sl_http_query(req, key);
    if (v && sl_time_parse(v, strlen(v), out))
        return sl_http_error(resp, 400, SL_EINVAL, key, "expected an RFC 3339 time, found '%s'", v);
    return 1;
}

/* A decimal integer 0..max with nothing around it: 0, or -1. */
int sl__api_count_parse(const char *v, int64_t max, int64_t *out)
{
    char *end;
    if (!v || *v < '0' || *v > '9')
        return -1;
    errno = 0;
    long long n = strtoll(v, &end, 10);
    if (errno || *end != '\0' || n > max)
        return -1;
    *out = n;
    return 0;
}

int sl__api_query_count(const sl_req *req, const char *key, int64_t max, int64_t *out,
                        sl_resp *resp)
{
    const char *v = sl_http_query(req, key);
    if (!v)
        return 1;
    if (sl__api_count_parse(v, max, out) != 0)
        return sl_http_error(resp, 400, SL_EINVAL, key, "expected an integer 0..%lld, found '%s'",
                             (long long)max, v);
    return 1;
}

static int event_row_json(void *ctx, const sl_event_row *r)
{
    json_t *arr = ctx;
    char start[40], end[40];
    sl_time_format(r->start_ms, start, sizeof(start));
    sl_time_format(r->end_ms, end, sizeof(end));
    json_t *j = json_pack("{s:s, s:I, s:s?, s:s, s:s, s:I, s:s?, s:s?, s:s?, s:I}", "kind", r->kind,
                          "height", (json_int_t)r->height, "objective", r->objective, "start",
                          start, "end", end, "value", (json_int_t)r->value, "outcome", r->outcome,
                          "to", r->to, "currency", r->currency, "amount", (json_int_t)r->amount);
    if (j && r->tier >= 0)
        json_object_set_new(j, "tier", json_integer(r->tier));
    if (j) {
        char hex[2 * SL_HASH_LEN + 1];
        if (r->tx_id)
            sl_hex(r->tx_id, SL_HASH_LEN, hex);
        json_object_set_new(j, "transaction", r->tx_id ? json_string(hex) : json_null());
    }
    return json_array_append_new(arr, j) ? SL_ENOMEM : 0;
}

/* GET /v1/agreements/{name}/events?kind=&objective=&from=&to=&limit=&offset= and, with kind
 * fixed to "decided", /history: the measurement history. */
static int events_of(sl__node *n, sl_req *req, sl_resp *resp, const char *kind)
{
    sl__agr_view v;
    sl__channel *ch = sl__api_find_agreement(n, &req->caller, req->params[0], &v, 0);
    if (!ch)
        return sl_http_error(resp, 404, SL_ENOENT, "name", "no agreement '%s'", req->params[0]);
    sl_event_query q = {.agreement = req->params[0],
                        .objective = sl_http_query(req, "objective"),
                        .kind = kind ? kind : sl_http_query(req, "kind"),
                        .from_ms = INT64_MIN,
                        .to_ms = INT64_MAX,
                        .limit = 100};
    if (query_time(req, "from", &q.from_ms, resp) != 1 ||
        query_time(req, "to", &q.to_ms, resp) != 1 ||
        sl__api_query_count(req, "limit", 1000, &q.limit, resp) != 1 ||
        sl__api_query_count(req, "offset", INT64_MAX / 2, &q.offset, resp) != 1)
        return 0;
    json_t *arr = json_array();
    sl_error err;
    if (!arr || sl_ledger_events(ch->ledger, &q, event_row_json, arr, &err)) {
        json_decref(arr);
        return SL_ENOMEM;
    }
    return sl__api_reply(resp, 200,
                         json_pack("{s:s, s:I, s:I, s:o}", "agreement", req->params[0], "limit",
                                   (json_int_t)q.limit, "offset", (json_int_t)q.offset, "events",
                                   arr));
}

static int history(void *ctx, sl_req *req, sl_resp *resp)
{
    return events_of(ctx, req, resp, "decided");
}

static int events(void *ctx, sl_req *req, sl_resp *resp)
{
    return events_of(ctx, req, resp, NULL);
}

/* GET /v1/agreements/{name}/services: each service with its objectives. */
typedef struct services_ctx {
    const char *name;
    json_t *out;
} services_ctx;

static int read_services(const sl_contract *c, void *arg)
{
    services_ctx *sc = arg;
    sl_agreement_info info;
    if (sl_contract_agreement(c, sc->name, &info))
        return SL_ENOENT;
    const sl_agreement_spec *s = info.spec;
    for (size_t i = 0; i < s->n_services; i++) {
        json_t *objs = json_array();
        for (size_t k = 0; objs && k < s->n_objectives; k++)
            if (s->objectives[k].service == i)
                json_array_append_new(objs,
                                      json_pack("{s:s, s:s}", "name", s->objectives[k].name,
                                                "metric", sl_metric_name(s->objectives[k].metric)));
        json_array_append_new(sc->out, json_pack("{s:s, s:s, s:o}", "name", s->services[i].name,
                                                 "kind", sl_service_kind_name(s->services[i].kind),
                                                 "objectives", objs));
    }
    return 0;
}

static int services(void *ctx, sl_req *req, sl_resp *resp)
{
    sl__node *n = ctx;
    sl__agr_view v;
    sl__channel *ch = sl__api_find_agreement(n, &req->caller, req->params[0], &v, 0);
    if (!ch)
        return sl_http_error(resp, 404, SL_ENOENT, "name", "no agreement '%s'", req->params[0]);
    services_ctx sc = {req->params[0], json_array()};
    if (!sc.out || sl_ledger_with_contract(ch->ledger, read_services, &sc)) {
        json_decref(sc.out);
        return SL_ENOMEM;
    }
    return sl__api_reply(resp, 200,
                         json_pack("{s:s, s:o}", "agreement", req->params[0], "services", sc.out));
}

/* docs/openapi.json, embedded by the build. */
extern const unsigned char sl__openapi[];
extern const unsigned long sl__openapi_len;

static int openapi(void *ctx, sl_req *req, sl_resp *resp)
{
    (void)ctx;
    (void)req;
    sl_buf_put(&resp->body, sl__openapi, sl__openapi_len);
    return resp->body.err;
}

/* ---- the seed paper's routes: /aws/services and /azure/services ----
 *
 * The prototype kept one record per monitored service of a provider under a key. Here a key is
 * an agreement with that provider; its record is the agreement's services and statement.
 * GET lists, POST proposes an agreement document (whose provider must be the route's), and
 * GET /{key} shows one. */

static int metrics(void *ctx, sl_req *req, sl_resp *resp)
{
    (void)req;
    sl__node *n = ctx;
    for (size_t i = 0; i < n->n_channels; i++) {
        char labels[96];
        sl_strfmt(labels, sizeof(labels), "channel=\"%s\"", n->channels[i].name);
        sl_http_gauge(n->http, "slaledger_block_height", "Height of the last committed block.",
                      labels, (int64_t)sl_ledger_height(n->channels[i].ledger, NULL));
    }
    sl__oracles_metrics(n);
    resp->content_type = "text/plain; version=0.0.4";
    sl_http_metrics(n->http, &resp->body);
    return resp->body.err;
}

int sl__api_register(sl__node *n)
{
    sl_http *h = n->http;
    int rc = 0;
    rc |= sl__console_register(n);
    rc |= sl_http_route(h, "GET", "/v1/health", SL_ROUTE_PUBLIC, health, n);
    rc |= sl_http_route(h, "GET", "/metrics", SL_ROUTE_PUBLIC, metrics, n);
    rc |= sl_http_route(h, "GET", "/v1/openapi.json", SL_ROUTE_PUBLIC, openapi, n);
    rc |= sl_http_route(h, "GET", "/v1/whoami", SL_ROUTE_NODES, whoami, n);
    rc |= sl_http_route(h, "GET", "/v1/agreements", 0, list_agreements, n);
    rc |= sl_http_route(h, "POST", "/v1/agreements", 0, sl__api_propose, n);
    rc |= sl_http_route(h, "GET", "/v1/agreements/{name}", 0, sl__api_show_agreement, n);
    rc |= sl_http_route(h, "POST", "/v1/agreements/{name}/accept", 0, accept, n);
    rc |= sl_http_route(h, "POST", "/v1/agreements/{name}/reject", 0, reject, n);
    rc |= sl_http_route(h, "POST", "/v1/agreements/{name}/deposit", 0, deposit, n);
    rc |= sl_http_route(h, "GET", "/v1/agreements/{name}/services", 0, services, n);
    rc |= sl_http_route(h, "GET", "/v1/agreements/{name}/history", 0, history, n);
    rc |= sl_http_route(h, "GET", "/v1/agreements/{name}/events", 0, events, n);
    rc |= sl_http_route(h, "POST", "/v1/agreements/{name}/services/{service}/observations", 0, push,
                        n);
    rc |= sl_http_route(h, "GET", "/v1/wallets/{org}", 0, wallet, n);
    rc |= sl_http_route(h, "POST", "/v1/wallets/{org}/issue", 0, issue, n);
    rc |= sl_http_route(h, "POST", "/v1/wallets/{org}/withdraw", 0, withdraw, n);
    rc |= sl__api_ledger_register(n);
    rc |= sl__api_paper_register(n);
    rc |= sl__api_peer_register(n);
    rc |= sl_http_sse_route(h, "/v1/events", 0);
    return rc ? SL_ENOMEM : 0;
}
