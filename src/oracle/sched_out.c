/*
 * sched_out.c: the scheduler's way out (see sched.h's "never twice"). What a round gathered is
 * signed per (channel, oracle) into report transactions, written together with the advanced
 * watermarks in one SQLite transaction to the outbox of the state file, and only then handed to
 * ordering. The outbox is checked against the ledgers every few seconds: what a ledger holds or
 * what expired leaves it, what waited too long is resubmitted (the same bytes).
 *
 * Thread-safety: called on the scheduler's thread with the scheduler's mutex held.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "oracle/sched_int.h"

static int ready_cmp(const void *x, const void *y)
{
    const ready *a = x, *b = y;
    int c = strcmp(a->t->a->channel, b->t->a->channel);

    if (c)
        return c;
    if (a->t->oracle != b->t->oracle)
        return a->t->oracle < b->t->oracle ? -1 : 1;
    if (a->t != b->t)
        return (uintptr_t)a->t < (uintptr_t)b->t ? -1 : 1;
    return (a->next_ms > b->next_ms) - (a->next_ms < b->next_ms);
}

/* The report oracle k signs on channel, without items yet. */
static void report_init(const sl_sched *s, const char *channel, uint32_t k, int64_t now, sl_tx *t)
{
    memset(t, 0, sizeof(*t));
    t->type = SL_TX_REPORT;
    sl_strfmt(t->channel, sizeof(t->channel), "%s", channel);
    t->expires_ms = now + TX_LIFETIME_MS;
    t->cert = *s->cfg.oracles[k].cert;
}

/* Signs items[0..n) into one report r (a fresh nonce), kept in the outbox and appended to txs
 * as a (u32 length, bytes) record. */
static int sign_one(sl_sched *s, sl_tx *r, uint32_t k, sl_tx_item *items, size_t n, sl_buf *tx,
                    sl_buf *txs, sl_error *err)
{
    uint8_t id[SL_HASH_LEN];
    int rc;

    randombytes_buf(&r->nonce, sizeof(r->nonce));
    r->items = items;
    r->n_items = n;
    sl_buf_reset(tx);
    rc = sl_tx_sign(r, s->cfg.oracles[k].key, tx, err);
    if (!rc) {
        sl_sha256(tx->p, tx->len, id);
        rc = sl__state_outbox_add(s->state, id, r->channel, r->expires_ms, tx->p, tx->len, err);
    }
    sl_buf_put_u32(txs, (uint32_t)tx->len);
    sl_buf_put(txs, tx->p, tx->len);
    return rc;
}

/* Signs the items of ready[from, to) (one channel and oracle) into reports of at most
 * SL_TX_MAX_ITEMS items and max_tx_bytes, as the ledger sizes them (sl_tx_size of the envelope,
 * sl_tx_item_size of each item); a single item larger than that still goes, alone. */
static int sign_group(sl_sched *s, size_t from, size_t to, int64_t now, sl_buf *txs, sl_error *err)
{
    const task *t0 = s->ready[from].t;
    sl_tx_item *items = calloc(to - from, sizeof(*items));
    sl_tx r;
    sl_buf tx;
    size_t n = 0, envelope, bytes, size;
    int rc = 0;

    report_init(s, t0->a->channel, t0->oracle, now, &r);
    envelope = bytes = sl_tx_size(&r);
    if (!items || envelope == SIZE_MAX) {
        free(items);
        return sl_error_set(err, SL_ENOMEM, NULL, "out of memory");
    }
    sl_buf_init(&tx);
    for (size_t i = from; i <= to && !rc; i++) {
        const sl_tx_item *it = i < to && s->ready[i].has_item ? &s->ready[i].item : NULL;
        size = it ? sl_tx_item_size(SL_TX_REPORT, it) : 0;
        if (size == SIZE_MAX) {
            rc = sl_error_set(err, SL_ENOMEM, NULL, "out of memory");
            break;
        }
        if (n > 0 && (!it || n == SL_TX_MAX_ITEMS || bytes + size > s->cfg.max_tx_bytes)) {
            rc = sign_one(s, &r, t0->oracle, items, n, &tx, txs, err);
            n = 0;
            bytes = envelope;
        }
        if (it) {
            items[n++] = *it;
            bytes += size;
        }
    }
    sl_buf_release(&tx);
    free(items);
    return rc ? rc : txs->err ? sl_error_set(err, SL_ENOMEM, NULL, "out of memory") : 0;
}

/* Hands each signed report to ordering; what is refused stays in the outbox for later. */
static void submit_all(sl_sched *s, const sl_buf *txs)
{
    sl_rd r;

    sl_rd_init(&r, txs->p, txs->len);
    while (r.at < r.len) {
        size_t len;
        const uint8_t *p = sl_rd_blob(&r, SL_CHANNEL_MAX_TX_BYTES, &len);
        sl_tx_decoded *d = NULL;
        sl_error err = {0};
        if (!p || sl_tx_decode(p, len, len, &d, &err) != 0)
            break;
        s->stats.transactions++;
        if (s->cfg.submit(s->cfg.arg, d->tx.channel, p, len, &err) != 0) {
            sl_sched_log_field f[] = {{"channel", d->tx.channel, 0},
                                      {"oracle", d->tx.cert.subject, 0}};
            sl__sched_sayf(s, 2, f, 2,
                           "report of %zu interval%s not accepted for ordering yet (%s); kept in "
                           "the outbox",
                           d->tx.n_items, d->tx.n_items == 1 ? "" : "s", err.msg);
        }
        sl_tx_free(d);
    }
}

/* Deletes the observations the gathered items were the last to need, in the SQLite
 * transaction that puts their reports in the outbox (ready is sorted: a task's entries are
 * adjacent). */
static int prune_observed(sl_sched *s, sl_error *err)
{
    int rc = 0;

    for (size_t i = 0; i < s->n_ready && !rc; i++) {
        if (s->ready[i].t->src && (i == 0 || s->ready[i - 1].t != s->ready[i].t))
            rc = sl__svc_prune(s, s->ready[i].t->src, err);
    }
    return rc;
}

void sl__sched_flush(sl_sched *s, int64_t now)
{
    sl_buf txs;
    sl_error err = {0};
    int rc;

    if (s->n_ready == 0)
        return;
    sl_buf_init(&txs);
    qsort(s->ready, s->n_ready, sizeof(*s->ready), ready_cmp);
    rc = sl__state_begin(s->state, &err);
    for (size_t i = 0, j; i < s->n_ready && !rc; i = j) {
        for (j = i; j < s->n_ready && s->ready[j].t->oracle == s->ready[i].t->oracle &&
                    strcmp(s->ready[j].t->a->channel, s->ready[i].t->a->channel) == 0;
             j++) {
            sl__task_key k = sl__sched_task_key(s, s->ready[j].t);
            if (!rc)
                rc = sl__state_set_watermark(s->state, &k, s->ready[j].next_ms, &err);
        }
        if (!rc)
            rc = sign_group(s, i, j, now, &txs, &err);
    }
    if (!rc)
        rc = prune_observed(s, &err);
    if (!rc)
        rc = sl__state_commit(s->state, &err);
    if (rc) {
        /* Nothing was written: every task goes back to where it was, to be redone. */
        sl__state_rollback(s->state);
        for (size_t i = s->n_ready; i-- > 0;)
            s->ready[i].t->next_ms = s->ready[i].prev_ms;
        sl__sched_say(s, 3, "oracle scheduler: cannot record reports: %s", err.msg);
    } else {
        for (size_t i = 0; i < s->n_ready; i++) {
            if (s->ready[i].t->src && (i == 0 || s->ready[i - 1].t != s->ready[i].t))
                sl__svc_forget(s->ready[i].t->src);
        }
        submit_all(s, &txs);
    }
    s->n_ready = 0;
    sl_buf_release(&txs);
}

/* ---- the outbox ---- */

typedef struct outbox_item {
    uint8_t id[SL_HASH_LEN];
    char channel[SL_IDENT_NAME_CAP];
    int64_t expires_ms;
    uint8_t *tx;
    size_t len;
} outbox_item;

typedef struct outbox_list {
    outbox_item *v;
    size_t n, cap;
    int nomem;
} outbox_list;

static int outbox_collect(void *arg, const sl__outbox_row *row)
{
    outbox_list *l = arg;
    outbox_item *it;

    if (sl_reserve(&l->v, &l->cap, l->n + 1, sizeof(*l->v)) != 0)
        return l->nomem = 1;
    it = &l->v[l->n];
    memcpy(it->id, row->id, SL_HASH_LEN);
    memcpy(it->channel, row->channel, sizeof(it->channel));
    it->expires_ms = row->expires_ms;
    it->len = row->len;
    it->tx = malloc(row->len ? row->len : 1);
    if (!it->tx)
        return l->nomem = 1;
    memcpy(it->tx, row->tx, row->len);
    l->n++;
    return 0;
}

/* One outbox entry: gone once its ledger holds it or it expired; resubmitted when it has
 * waited too long (it was dropped, or the node restarted before ordering it). */
static int outbox_one(sl_sched *s, const outbox_item *it, int64_t now, int *kept)
{
    sl_error err = {0};
    int known = s->cfg.known(s->cfg.arg, it->channel, it->id);

    if (known == 1 || (known == 0 && it->expires_ms < now)) {
        if (known == 0) {
            sl_sched_log_field f[] = {{"channel", it->channel, 0}};
            sl__sched_sayf(s, 2, f, 1,
                           "a report expired before it was ordered; its intervals stay unknown "
                           "for its oracle");
        }
        return sl__state_outbox_del(s->state, it->id, &err);
    }
    ++*kept;
    if (known == 0 && it->expires_ms - TX_LIFETIME_MS + 30000 < now &&
        s->cfg.submit(s->cfg.arg, it->channel, it->tx, it->len, &err) == 0)
        sl__sched_say(s, 1, "%s: resubmitted a report from the outbox", it->channel);
    return 0;
}

void sl__sched_outbox_check(sl_sched *s, int64_t now)
{
    outbox_list l = {0};
    sl_error err = {0};
    int kept = 0, rc = sl__state_outbox_each(s->state, outbox_collect, &l, &err);

    for (size_t i = 0; i < l.n && !rc; i++)
        rc = outbox_one(s, &l.v[i], now, &kept);
    for (size_t i = 0; i < l.n; i++)
        free(l.v[i].tx);
    free(l.v);
    if (rc || l.nomem)
        sl__sched_say(s, 3, "oracle scheduler: outbox: %s", l.nomem ? "out of memory" : err.msg);
    s->stats.outbox = (uint64_t)kept;
}
