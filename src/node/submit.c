/*
 * submit.c: how the node acts for its local users. It fills in a transaction's common fields
 * (channel, a fresh nonce, an expiry, the user's certificate), signs it with the user's key,
 * submits it to the channel's orderer and waits for the block that carries it, so an API call
 * answers with the transaction's validation code. The orderer's block callback wakes waiters
 * and turns the block into server-sent events: the block itself for the channel's members, its
 * contract events for the parties involved and the members' auditors.
 *
 * Thread-safety: any API thread may submit; waiters live in a list under wait_mu and are woken
 * by broadcast on wait_cv from the orderer's thread.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "slaledger/wait.h"

#include "node/log.h"
#include "node/node_int.h"

#define TX_LIFETIME_MS (10LL * 60 * 1000)

int64_t sl__node_wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t sl__node_now(const sl__node *n)
{
    return sl_clock_fast(sl__node_wall_ms(), n->clock_since, n->clock_speed);
}

int64_t sl__node_clock_cb(void *arg)
{
    return sl__node_now(arg);
}

sl__channel *sl__node_channel(sl__node *n, const char *name)
{
    for (size_t i = 0; name && i < n->n_channels; i++)
        if (strcmp(n->channels[i].name, name) == 0)
            return &n->channels[i];
    return NULL;
}

const sl__member *sl__node_user(const sl__node *n, const char *org, const char *name)
{
    for (size_t i = 0; org && name && i < n->n_users; i++)
        if (strcmp(n->users[i].cert.org, org) == 0 && strcmp(n->users[i].name, name) == 0)
            return &n->users[i];
    return NULL;
}

static void waiter_unlink(sl__node *n, sl__waiter *w)
{
    for (sl__waiter **p = &n->waiters; *p; p = &(*p)->next)
        if (*p == w) {
            *p = w->next;
            return;
        }
}

/* Waits (wait_mu held) until w is done or the deadline passes. */
static void wait_until(sl__node *n, sl__waiter *w, int64_t timeout_ms)
{
    struct timespec ts = sl_deadline_after(timeout_ms);
    while (!w->done && pthread_cond_timedwait(&n->wait_cv, &n->wait_mu, &ts) == 0)
        ;
}

/* The error of a transaction that left the orderer's queue without a validation code. */
static int lost_error(const sl__waiter *w, int64_t timeout_ms, sl_error *err)
{
    char hex[2 * SL_HASH_LEN + 1];
    sl_hex(w->id, SL_HASH_LEN, hex);
    if (w->failed.code)
        return sl_error_set(err, w->failed.code, "transaction",
                            "transaction %s was dropped, nothing of it applied: its block could "
                            "not be stored (%s%s%s); submit it again later",
                            hex, w->failed.field, w->failed.field[0] ? ": " : "", w->failed.msg);
    return sl_error_set(err, SL_ETIME, "transaction",
                        "transaction %s not committed within %lld ms; it may still be: look it "
                        "up before submitting it again",
                        hex, (long long)timeout_ms);
}

int sl__node_submit(sl__node *n, sl__channel *ch, const sl__member *user, sl_tx *t,
                    int64_t timeout_ms, sl__submitted *out, sl_error *err)
{
    memset(out, 0, sizeof(*out));
    pthread_mutex_lock(&n->wait_mu);
    t->nonce = ++n->nonce ^ (uint64_t)sl__node_wall_ms() << 20; /* distinct across restarts too */
    pthread_mutex_unlock(&n->wait_mu);
    sl_strfmt(t->channel, sizeof(t->channel), "%s", ch->name);
    t->expires_ms = sl__node_now(n) + TX_LIFETIME_MS;
    t->cert = user->cert;
    sl_buf bytes;
    sl_buf_init(&bytes);
    int rc = sl_tx_sign(t, user->key, &bytes, err);
    if (rc)
        goto out;
    sl__waiter w = {0};
    sl_sha256(bytes.p, bytes.len, w.id);
    memcpy(out->id, w.id, SL_HASH_LEN);
    /* Enlist before submitting: the block may be cut before submit returns. */
    pthread_mutex_lock(&n->wait_mu);
    w.next = n->waiters;
    n->waiters = &w;
    pthread_mutex_unlock(&n->wait_mu);
    rc = sl_orderer_submit(ch->orderer, bytes.p, bytes.len, out->id, err);
    /* The caller is authenticated (the node signs for them); what the channel refuses is the
     * signer's membership or role there: not permitted, not "who are you". */
    if (rc == SL_EAUTH) {
        rc = SL_EPERM;
        if (err)
            err->code = rc;
    }
    pthread_mutex_lock(&n->wait_mu);
    if (!rc)
        wait_until(n, &w, timeout_ms);
    waiter_unlink(n, &w);
    pthread_mutex_unlock(&n->wait_mu);
    out->queued = !rc;
    out->dropped = !rc && w.failed.code;
    if (!rc && (!w.done || w.failed.code))
        rc = lost_error(&w, timeout_ms, err);
    out->code = w.code;
    out->refusal = w.refusal;
    out->height = w.height;
out:
    sl_buf_release(&bytes);
    return rc;
}

/* The organizations that may see an event about agreement name: its consumer and provider. */
typedef struct parties {
    const char *agreement;
    char consumer[SL_IDENT_NAME_CAP], provider[SL_IDENT_NAME_CAP];
} parties;

static int read_parties(const sl_contract *c, void *arg)
{
    parties *p = arg;
    sl_agreement_info info;
    if (sl_contract_agreement(c, p->agreement, &info))
        return SL_ENOENT;
    sl_strfmt(p->consumer, sizeof(p->consumer), "%s", info.spec->consumer);
    sl_strfmt(p->provider, sizeof(p->provider), "%s", info.spec->provider);
    return 0;
}

static int streamed(sl_event_kind k)
{
    return k == SL_EV_VIOLATION || k == SL_EV_PENALTY || k == SL_EV_SETTLEMENT ||
           k == SL_EV_REFUND || k == SL_EV_ACTIVATED || k == SL_EV_CLOSED || k == SL_EV_DISPUTE;
}

/* The channel's member organizations into orgs, NULL-terminated: who may see its blocks. */
static void channel_members(const sl__channel *ch, const char *orgs[SL_MAX_ORGS + 1])
{
    const sl_channel_spec *spec = sl_ledger_channel(ch->ledger);
    size_t n = 0;
    for (; n < spec->n_orgs && n < SL_MAX_ORGS; n++)
        orgs[n] = spec->orgs[n].name;
    orgs[n] = NULL;
}

/* An agreement's events go to its parties and to the auditors among the channel's members,
 * never to another channel's members. */
static void broadcast_event(sl__channel *ch, const char *const *members, uint64_t height,
                            const sl_event *e)
{
    parties p = {.agreement = e->agreement};
    if (!e->agreement || sl_ledger_with_contract(ch->ledger, read_parties, &p))
        return;
    const char *orgs[] = {p.consumer, p.provider, NULL};
    sl_http_audience to = {orgs, members};
    json_t *j = json_pack(
        "{s:s, s:I, s:s, s:s, s:s?, s:I, s:s?, s:I, s:I, s:i}", "channel", ch->name, "height",
        (json_int_t)height, "kind", sl_event_kind_name(e->kind), "agreement", e->agreement,
        "objective", e->objective, "amount", (json_int_t)e->amount, "currency", e->currency,
        "start_ms", (json_int_t)e->start_ms, "end_ms", (json_int_t)e->end_ms, "tier", e->tier);
    char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;
    if (s)
        sl_http_broadcast(ch->node->http, sl_event_kind_name(e->kind), s, &to);
    free(s);
    json_decref(j);
}

/* Metrics of a committed block: blocks, transactions by validation code, money paid out. */
static void count_block(sl_http *h, const char *channel, const sl_commit_info *info)
{
    char labels[160];
    sl_strfmt(labels, sizeof(labels), "channel=\"%s\"", channel);
    sl_http_count(h, "slaledger_blocks_total", "Blocks committed.", labels, 1);
    size_t by_code[SL_TXC_REFUSED + 1] = {0};
    for (size_t i = 0; i < info->n_tx; i++)
        if ((unsigned)info->codes[i] <= SL_TXC_REFUSED)
            by_code[info->codes[i]]++;
    for (int c = 0; c <= SL_TXC_REFUSED; c++) {
        if (!by_code[c])
            continue;
        sl_strfmt(labels, sizeof(labels), "channel=\"%s\",code=\"%s\"", channel,
                  sl_txcode_name((sl_txcode)c));
        sl_http_count(h, "slaledger_transactions_total",
                      "Transactions in committed blocks, by validation code.", labels, by_code[c]);
    }
    for (size_t i = 0; i < info->n_events; i++) {
        const sl_event *e = &info->events[i];
        const char *name = e->kind == SL_EV_PENALTY      ? "slaledger_penalties_paid_total"
                           : e->kind == SL_EV_SETTLEMENT ? "slaledger_settlements_paid_total"
                                                         : NULL;
        if (!name || e->amount <= 0)
            continue;
        sl_strfmt(labels, sizeof(labels), "channel=\"%s\",currency=\"%s\"", channel,
                  e->currency ? e->currency : "");
        sl_http_count(h, name,
                      e->kind == SL_EV_PENALTY
                          ? "Penalties paid from escrow to consumers, minor units."
                          : "Settlements paid from escrow to providers, minor units.",
                      labels, (uint64_t)e->amount);
    }
}

/* Wakes the waiters of the block's transactions: with their codes, or with err when the block
 * was not committed. */
static void wake_waiters(sl__node *n, const sl_commit_info *info, const sl_error *err)
{
    pthread_mutex_lock(&n->wait_mu);
    for (sl__waiter *w = n->waiters; w; w = w->next)
        for (size_t i = 0; !w->done && i < info->n_tx; i++) {
            if (memcmp(w->id, info->ids[i], SL_HASH_LEN) != 0)
                continue;
            w->done = 1;
            if (err) {
                w->failed = *err;
                if (!w->failed.code)
                    w->failed.code = SL_EIO;
                continue;
            }
            w->code = info->codes[i];
            w->refusal = info->refusals ? info->refusals[i] : 0;
            w->height = info->height;
        }
    pthread_cond_broadcast(&n->wait_cv);
    pthread_mutex_unlock(&n->wait_mu);
}

/* Counts the block in the metrics and broadcasts it and its events to the channel's members.
 * Called under http_lock. */
static void announce_block(sl__channel *ch, const sl_commit_info *info)
{
    sl__node *n = ch->node;
    count_block(n->http, ch->name, info);
    char block[160];
    sl_strfmt(block, sizeof(block), "{\"channel\":\"%s\",\"height\":%llu,\"tx\":%zu,\"valid\":%zu}",
              ch->name, (unsigned long long)info->height, info->n_tx, info->n_valid);
    /* A block is news of the channel: only its members read the channel's blocks. */
    const char *members[SL_MAX_ORGS + 1];
    channel_members(ch, members);
    sl_http_audience to = {members, NULL};
    sl_http_broadcast(n->http, "block", block, &to);
    for (size_t i = 0; i < info->n_events; i++)
        if (streamed(info->events[i].kind))
            broadcast_event(ch, members, info->height, &info->events[i]);
}

void sl__node_on_block(void *arg, const sl_commit_info *info, const sl_error *err)
{
    sl__channel *ch = arg;
    sl__node *n = ch->node;
    if (err || !info) {
        sl__log_field f[] = {SL__LOG_S("channel", ch->name),
                             SL__LOG_S("error", err ? err->msg : "unknown error"),
                             SL__LOG_I("dropped", info ? info->n_tx : 0)};
        sl__log_write(n->log, SL_NODE_LOG_ERROR, "block not committed", f, 3);
        if (err && info)
            wake_waiters(n, info, err);
        return;
    }
    wake_waiters(n, info, NULL);
    sl__oracles_on_block(n, ch->name, info);
    /* The server may be going away (sl_node_free): it is used under the read lock only, and
     * not at all once closing. */
    pthread_rwlock_rdlock(&n->http_lock);
    if (n->http && !n->http_closing)
        announce_block(ch, info);
    pthread_rwlock_unlock(&n->http_lock);
}
