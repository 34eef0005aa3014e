/*
 * exec.c: applying a block to the contract, the same way on every node and in every replay.
 *
 * Order: tick the contract to the block time (intervals, windows and periods that fell due),
 * then each transaction that passed validate.c: expiry, replay, and the contract operation it
 * carries, acting as its signer (organizations act for consumer, provider and issuer; oracles
 * report under their own subject name). A report batch applies item by item: refused items are
 * named in the reason and the rest count; only a batch with no item applied is refused. Then
 * the world-state rows the block touched, the Merkle root, the results hash and the state hash.
 * Thread-safety: none; the ledger's lock is held.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ledger/ledger_int.h"

static int apply_propose(sl_contract *c, const sl_channel_spec *ch, const sl_tx *t, sl_error *err)
{
    sl_agreement_spec *spec = NULL;
    sl_diags diags = {0};
    int rc = sl_sla_parse((const char *)t->doc, t->doc_len, "agreement", &spec, &diags);
    if (rc) {
        if (diags.n) {
            *err = diags.v[0];
            if (diags.v[0].line)
                sl_error_set(err, rc, diags.v[0].field, "document line %d column %d: %s",
                             diags.v[0].line, diags.v[0].column, diags.v[0].msg);
        } else {
            sl_error_set(err, rc, "doc", "agreement document does not parse");
        }
        sl_diags_release(&diags);
        return rc;
    }
    if (strcmp(spec->channel, ch->name) != 0) {
        rc = sl_error_set(err, SL_EINVAL, "spec.channel", "agreement is for channel '%s', not '%s'",
                          spec->channel, ch->name);
    } else {
        uint8_t hash[SL_HASH_LEN];
        sl_sha256(t->doc, t->doc_len, hash);
        rc = sl_contract_propose(c, t->cert.org, spec, hash, err);
    }
    if (rc)
        sl_agreement_spec_free(spec);
    return rc;
}

static int apply_items(sl_contract *c, const sl_tx *t, sl__slot *s, sl_error *err)
{
    size_t refused = 0;
    sl_error first = {0};
    for (size_t i = 0; i < t->n_items; i++) {
        const sl_tx_item *it = &t->items[i];
        sl_report r = {.agreement = it->agreement,
                       .objective = it->objective,
                       .oracle = t->cert.subject,
                       .start_ms = it->start_ms,
                       .end_ms = it->end_ms,
                       .value = it->value,
                       .check = t->type == SL_TX_CHECK};
        sl_error e = {0};
        int rc = sl_contract_report(c, &r, &e);
        if (rc == SL_ENOMEM)
            return sl_error_set(err, rc, NULL, "out of memory");
        if (rc && refused++ == 0) {
            first = e;
            sl_strfmt(first.field, sizeof(first.field), "items[%zu]", i);
        }
    }
    if (refused == t->n_items) {
        *err = first;
        if (refused > 1)
            sl_strfmt(err->msg, sizeof(err->msg), "all %zu items refused; first: %s", refused,
                      first.msg);
        return first.code ? first.code : SL_EINVAL;
    }
    if (refused)
        sl_strfmt(s->reason, sizeof(s->reason), "%zu of %zu items refused; first, %s: %s", refused,
                  t->n_items, first.field, first.msg);
    return 0;
}

static int apply(sl_contract *c, const sl_channel_spec *ch, sl__slot *s, sl_error *err)
{
    const sl_tx *t = &s->tx->tx;
    const char *org = t->cert.org;
    switch (t->type) {
    case SL_TX_PROPOSE:
        return apply_propose(c, ch, t, err);
    case SL_TX_ACCEPT:
        return sl_contract_accept(c, org, t->agreement, t->doc_hash, err);
    case SL_TX_REJECT:
        return sl_contract_reject(c, org, t->agreement, err);
    case SL_TX_DEPOSIT:
        return sl_contract_deposit(c, org, t->agreement, t->amount, err);
    case SL_TX_WITHDRAW:
        return sl_contract_withdraw(c, org, t->currency, t->amount, err);
    case SL_TX_ISSUE:
        return sl_contract_issue(c, org, t->to, t->currency, t->amount, err);
    case SL_TX_REPORT:
    case SL_TX_CHECK:
        return apply_items(c, t, s, err);
    case SL_TX_TIME:
        return 0; /* the block's tick did the work */
    }
    return sl_error_set(err, SL_EINVAL, "type", "unknown transaction type");
}

/* Expiry and replay, then the contract. Sets the slot's code and reason. */
static int execute_one(sl_contract *c, sl__ids *seen, const sl_channel_spec *ch, sl__slot *s,
                       int64_t now)
{
    const sl_tx *t = &s->tx->tx;
    if (now > t->expires_ms) {
        s->code = SL_TXC_EXPIRED;
        sl_strfmt(s->reason, sizeof(s->reason), "expired at %lld, block time %lld",
                  (long long)t->expires_ms, (long long)now);
        return 0;
    }
    if (t->expires_ms - now > SL__TX_MAX_LIFETIME_MS) {
        s->code = SL_TXC_EXPIRED;
        sl_strfmt(s->reason, sizeof(s->reason), "expiry %lld is more than 24 h after block time",
                  (long long)t->expires_ms);
        return 0;
    }
    if (sl__ids_has(seen, s->id)) {
        s->code = SL_TXC_REPLAY;
        sl_strfmt(s->reason, sizeof(s->reason), "transaction is already in the ledger");
        return 0;
    }
    if (sl__ids_add(seen, s->id, t->expires_ms))
        return SL_ENOMEM;
    sl_error e = {0};
    int rc = apply(c, ch, s, &e);
    if (rc == SL_ENOMEM)
        return rc;
    if (rc) {
        s->code = SL_TXC_REFUSED;
        s->refusal = rc;
        sl_strfmt(s->reason, sizeof(s->reason), "%s%s%s", e.field, e.field[0] ? ": " : "", e.msg);
    }
    return 0;
}

/* ---- world state rows ---- */

static int touches_agreement(sl_event_kind k)
{
    return k == SL_EV_PROPOSED || k == SL_EV_ACTIVATED || k == SL_EV_REJECTED ||
           k == SL_EV_DEPOSITED || k == SL_EV_PENALTY || k == SL_EV_SETTLEMENT ||
           k == SL_EV_REFUND || k == SL_EV_CLOSED;
}

static int moves_money(sl_event_kind k)
{
    return k == SL_EV_ISSUED || k == SL_EV_WITHDRAWN || k == SL_EV_DEPOSITED ||
           k == SL_EV_PENALTY || k == SL_EV_SETTLEMENT || k == SL_EV_REFUND;
}

static int row_add(sl__batch *b, const char *kind, const char *name, const char *currency)
{
    char key[sizeof(b->rows[0].key)];
    if (currency)
        sl_strfmt(key, sizeof(key), "%s/%s/%s", kind, name, currency);
    else
        sl_strfmt(key, sizeof(key), "%s/%s", kind, name);
    for (size_t i = 0; i < b->n_rows; i++)
        if (strcmp(b->rows[i].key, key) == 0)
            return 0;
    if (sl_reserve(&b->rows, &b->cap_rows, b->n_rows + 1, sizeof(*b->rows)))
        return SL_ENOMEM;
    sl__row *r = &b->rows[b->n_rows++];
    memcpy(r->key, key, sizeof(key));
    r->value = NULL;
    return 0;
}

static int row_cmp(const void *a, const void *b)
{
    return strcmp(((const sl__row *)a)->key, ((const sl__row *)b)->key);
}

static int collect_rows(const sl_contract *c, sl__batch *b)
{
    size_t n;
    const sl_event *ev = sl_contract_events(c, &n);
    for (size_t i = 0; i < n; i++) {
        const sl_event *e = &ev[i];
        int rc = 0;
        if (e->agreement && touches_agreement(e->kind))
            rc = row_add(b, "agreement", e->agreement, NULL);
        if (!rc && moves_money(e->kind) && e->from)
            rc = row_add(b, "wallet", e->from, e->currency);
        if (!rc && moves_money(e->kind) && e->to)
            rc = row_add(b, "wallet", e->to, e->currency);
        if (rc)
            return rc;
    }
    if (b->n_rows > 1)
        qsort(b->rows, b->n_rows, sizeof(*b->rows), row_cmp);
    for (size_t i = 0; i < b->n_rows; i++)
        if (!(b->rows[i].value = sl__state_value(c, b->rows[i].key)))
            return SL_ENOMEM;
    return 0;
}

char *sl__state_value(const sl_contract *c, const char *key)
{
    sl_buf out;
    sl_buf_init(&out);
    char owner[SL_IDENT_NAME_CAP], cur[8];
    sl_agreement_info a;
    if (strncmp(key, "wallet/", 7) == 0 && sscanf(key + 7, "%63[^/]/%7s", owner, cur) == 2) {
        sl_buf_printf(&out, "{\"owner\":\"%s\",\"currency\":\"%s\",\"balance\":%lld}", owner, cur,
                      (long long)sl_contract_balance(c, owner, cur));
    } else if (strncmp(key, "agreement/", 10) == 0 && sl_contract_agreement(c, key + 10, &a) == 0) {
        char hash[2 * SL_HASH_LEN + 1];
        sl_hex(a.doc_hash, SL_HASH_LEN, hash);
        sl_buf_printf(&out,
                      "{\"name\":\"%s\",\"status\":\"%s\",\"doc_hash\":\"%s\",\"escrow\":%lld,"
                      "\"deposited\":%lld,\"penalties\":%lld,\"settled\":%lld,\"refunded\":%lld}",
                      a.name, sl_agreement_status_name(a.status), hash, (long long)a.escrow,
                      (long long)a.deposited, (long long)a.penalties, (long long)a.settled,
                      (long long)a.refunded);
    } else {
        sl_buf_printf(&out, "null");
    }
    const char *s = sl_buf_cstr(&out);
    char *v = s ? sl_strdup(s) : NULL;
    sl_buf_release(&out);
    return v;
}

void sl__batch_release(sl__batch *b)
{
    for (size_t i = 0; i < b->n_rows; i++)
        free(b->rows[i].value);
    free(b->rows);
    b->rows = NULL;
    b->n_rows = b->cap_rows = 0;
}

int sl__execute(sl_contract *c, sl__ids *seen, const sl_channel_spec *ch, sl__batch *b,
                sl_error *err)
{
    int64_t now = b->header.time_ms;
    int rc = sl_contract_tick(c, now, err);
    if (rc)
        return rc;
    if ((rc = sl__ids_prune(seen, now, 65536)))
        return sl_error_set(err, rc, NULL, "out of memory");
    sl_contract_events(c, &b->ev_tick);
    for (size_t i = 0; i < b->n; i++) {
        sl__slot *s = &b->slots[i];
        if (s->code == SL_TXC_VALID && (rc = execute_one(c, seen, ch, s, now)))
            return sl_error_set(err, rc, NULL, "out of memory");
        sl_contract_events(c, &s->ev_end);
    }
    if ((!b->skip_rows && (rc = collect_rows(c, b))) ||
        (rc = sl__merkle_of(b->slots, b->n, b->header.merkle)) ||
        (rc = sl__results_hash(b->slots, b->n, b->header.results)) ||
        (rc = sl_contract_state_hash(c, b->header.state)))
        return sl_error_set(err, rc, NULL, "out of memory");
    b->header.n_tx = (uint32_t)b->n;
    return 0;
}
