/*
 * contract.c: the contract's lifecycle, its clock, agreement proposal and acceptance, events
 * and queries. Measurement handling lives in report.c, windows and money rules in window.c,
 * wallets in wallet.c, canonical state in state.c.
 *
 * Agreements are kept in an array sorted by name (canonical order for the state hash and for
 * listing) plus a hash index for lookups.
 */
#include <stdlib.h>
#include <string.h>

#include "contract/contract_int.h"

int sl_contract_new(const char *issuer, sl_contract **out)
{
    *out = NULL;
    if (!issuer || !sl_name_valid(issuer, strlen(issuer)))
        return SL_EINVAL;
    sl_contract *c = calloc(1, sizeof(*c));
    if (!c || !(c->issuer = sl_strdup(issuer))) {
        free(c);
        return SL_ENOMEM;
    }
    *out = c;
    return 0;
}

static void agreement_free(sl__agreement *a)
{
    sl__agreement_layout_release(a);
    sl_agreement_spec_free(a->spec);
    free(a);
}

void sl_contract_free(sl_contract *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->n_agrs; i++)
        agreement_free(c->agrs[i]);
    free(c->agrs);
    sl__strmap_release(&c->agr_index);
    sl__wallets_release(c);
    free(c->events);
    free(c->issuer);
    free(c);
}

int64_t sl_contract_now(const sl_contract *c)
{
    return c->now;
}

sl__agreement *sl__agreement_find(const sl_contract *c, const char *name)
{
    return name ? sl__strmap_get(&c->agr_index, name) : NULL;
}

/* ---- events ---- */

int sl__events_reserve(sl_contract *c, size_t extra)
{
    return sl_reserve(&c->events, &c->cap_events, c->n_events + extra, sizeof(*c->events));
}

sl_event *sl__event_push(sl_contract *c, sl_event_kind kind, const sl__agreement *a)
{
    sl_event *e = &c->events[c->n_events++];
    memset(e, 0, sizeof(*e));
    e->kind = kind;
    e->time_ms = c->now;
    e->tier = -1;
    e->value = -1;
    e->outcome = SL_OUTCOME_UNKNOWN;
    if (a) {
        e->agreement = a->spec->name;
        e->currency = a->spec->currency;
    }
    return e;
}

const sl_event *sl_contract_events(const sl_contract *c, size_t *n)
{
    *n = c->n_events;
    return c->events;
}

void sl_contract_events_clear(sl_contract *c)
{
    c->n_events = 0;
}

/* ---- time ---- */

int sl_contract_tick(sl_contract *c, int64_t now_ms, sl_error *err)
{
    if (now_ms < c->now)
        return sl_error_set(err, SL_ETIME, "time",
                            "time must not go backwards: %lld is before the current %lld",
                            (long long)now_ms, (long long)c->now);
    size_t need = 0;
    for (size_t i = 0; i < c->n_agrs; i++) {
        if (c->agrs[i]->status == SL_AGR_ACTIVE && c->agrs[i]->next_due <= now_ms)
            need += sl__tick_bound(c->agrs[i], now_ms);
    }
    if (sl__events_reserve(c, need))
        return sl_error_set(err, SL_ENOMEM, NULL, "out of memory");
    c->now = now_ms;
    for (size_t i = 0; i < c->n_agrs; i++) {
        sl__agreement *a = c->agrs[i];
        if (a->status == SL_AGR_ACTIVE && a->next_due <= now_ms)
            sl__agreement_tick(c, a);
    }
    return 0;
}

/* Only active agreements ever become due: a proposal whose period ended is refused by time
 * when accepted (nothing to do for it at any tick), and wallets do not change with time. An
 * agreement's next_due is a lower bound of its work due time, so most are skipped. */
int64_t sl_contract_next_due(const sl_contract *c)
{
    int64_t t = INT64_MAX;
    for (size_t i = 0; i < c->n_agrs; i++) {
        const sl__agreement *a = c->agrs[i];
        if (a->status == SL_AGR_ACTIVE && a->next_due < t) {
            int64_t w = sl__agreement_work_due(a);
            t = w < t ? w : t;
        }
    }
    return t;
}

/* ---- proposal and acceptance ---- */

static int party_of(const sl_agreement_spec *s, const char *actor)
{
    if (actor && strcmp(actor, s->consumer) == 0)
        return 1;
    if (actor && strcmp(actor, s->provider) == 0)
        return 2;
    return 0;
}

static size_t agreement_slot(const sl_contract *c, const char *name)
{
    size_t lo = 0, hi = c->n_agrs;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (strcmp(c->agrs[mid]->spec->name, name) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static int agreements_reserve(sl_contract *c)
{
    if (sl_reserve(&c->agrs, &c->cap_agrs, c->n_agrs + 1, sizeof(*c->agrs)))
        return SL_ENOMEM;
    return sl__strmap_reserve(&c->agr_index, 1);
}

static int propose_check(const sl_contract *c, const char *actor, const sl_agreement_spec *s,
                         sl_error *err)
{
    if (sl__agreement_find(c, s->name))
        return sl_error_set(err, SL_EEXIST, "metadata.name", "an agreement named '%s' exists",
                            s->name);
    if (!party_of(s, actor))
        return sl_error_set(err, SL_EPERM, "actor",
                            "'%s' is neither the consumer nor the provider of '%s'",
                            actor ? actor : "", s->name);
    if (c->now >= s->end_ms)
        return sl_error_set(err, SL_ETIME, "spec.period.end", "the period of '%s' is already over",
                            s->name);
    return 0;
}

int sl_contract_propose(sl_contract *c, const char *actor, sl_agreement_spec *spec,
                        const uint8_t doc_hash[SL_HASH_LEN], sl_error *err)
{
    int rc = propose_check(c, actor, spec, err);
    if (rc)
        return rc;
    sl__agreement *a = calloc(1, sizeof(*a));
    if (!a || agreements_reserve(c) || sl__events_reserve(c, 1) ||
        sl__account_get(c, spec->consumer, spec->currency, &a->consumer_acct) ||
        sl__account_get(c, spec->provider, spec->currency, &a->provider_acct) ||
        sl__supply_reserve(c, spec->currency)) {
        free(a);
        return sl_error_set(err, SL_ENOMEM, NULL, "out of memory");
    }
    a->spec = spec;
    memcpy(a->doc_hash, doc_hash, SL_HASH_LEN);
    a->status = SL_AGR_PROPOSED;
    a->activated_ms = -1;
    a->consumer_signed = party_of(spec, actor) == 1;
    a->provider_signed = party_of(spec, actor) == 2;
    a->next_due = INT64_MAX;
    a->dirty = 1;
    size_t at = agreement_slot(c, spec->name);
    memmove(c->agrs + at + 1, c->agrs + at, (c->n_agrs - at) * sizeof(*c->agrs));
    c->agrs[at] = a;
    c->n_agrs++;
    sl__strmap_put(&c->agr_index, spec->name, a);
    sl__event_push(c, SL_EV_PROPOSED, a)->from =
        party_of(spec, actor) == 1 ? spec->consumer : spec->provider;
    return 0;
}

static int decision_check(const sl_contract *c, const sl__agreement *a, const char *name,
                          const char *actor, sl_error *err)
{
    if (!a)
        return sl_error_set(err, SL_ENOENT, "agreement", "no agreement named '%s'",
                            name ? name : "");
    int party = party_of(a->spec, actor);
    if (!party)
        return sl_error_set(err, SL_EPERM, "actor", "'%s' is not a party to '%s'",
                            actor ? actor : "", a->spec->name);
    if (a->status != SL_AGR_PROPOSED)
        return sl_error_set(err, SL_ESTATE, "agreement", "agreement '%s' is %s, not proposed",
                            a->spec->name, sl_agreement_status_name(a->status));
    if (c->now >= a->spec->end_ms)
        return sl_error_set(err, SL_ETIME, "spec.period.end", "the period of '%s' is already over",
                            a->spec->name);
    return 0;
}

int sl_contract_accept(sl_contract *c, const char *actor, const char *agreement,
                       const uint8_t doc_hash[SL_HASH_LEN], sl_error *err)
{
    sl__agreement *a = sl__agreement_find(c, agreement);
    int rc = decision_check(c, a, agreement, actor, err);
    if (rc)
        return rc;
    int party = party_of(a->spec, actor);
    if ((party == 1 && a->consumer_signed) || (party == 2 && a->provider_signed))
        return sl_error_set(err, SL_EDUP, "actor", "'%s' already signed '%s'", actor,
                            a->spec->name);
    if (memcmp(doc_hash, a->doc_hash, SL_HASH_LEN) != 0)
        return sl_error_set(err, SL_EINVAL, "doc_hash",
                            "the accepted document differs from the proposed '%s'", a->spec->name);
    if (sl__agreement_layout(a) || sl__events_reserve(c, 1))
        return sl_error_set(err, SL_ENOMEM, NULL, "out of memory");
    a->consumer_signed = a->provider_signed = 1;
    a->status = SL_AGR_ACTIVE;
    a->activated_ms = c->now;
    a->dirty = 1;
    sl__agreement_next_due(a);
    sl__event_push(c, SL_EV_ACTIVATED, a)->from =
        party == 1 ? a->spec->consumer : a->spec->provider;
    return 0;
}

int sl_contract_reject(sl_contract *c, const char *actor, const char *agreement, sl_error *err)
{
    sl__agreement *a = sl__agreement_find(c, agreement);
    int rc = decision_check(c, a, agreement, actor, err);
    if (rc)
        return rc;
    if (sl__events_reserve(c, 1))
        return sl_error_set(err, SL_ENOMEM, NULL, "out of memory");
    a->status = SL_AGR_REJECTED;
    a->dirty = 1;
    sl__event_push(c, SL_EV_REJECTED, a)->from =
        party_of(a->spec, actor) == 1 ? a->spec->consumer : a->spec->provider;
    return 0;
}

/* ---- queries ---- */

int64_t sl_contract_balance(const sl_contract *c, const char *owner, const char *currency)
{
    const sl__account *a = sl__account_find(c, owner, currency);
    return a ? a->balance : 0;
}

int64_t sl_contract_supply(const sl_contract *c, const char *currency)
{
    const sl__supply *s = sl__supply_find(c, currency);
    return s ? s->total : 0;
}

static void fill_info(const sl__agreement *a, sl_agreement_info *out)
{
    out->name = a->spec->name;
    out->status = a->status;
    out->spec = a->spec;
    memcpy(out->doc_hash, a->doc_hash, SL_HASH_LEN);
    out->consumer_signed = a->consumer_signed;
    out->provider_signed = a->provider_signed;
    out->activated_ms = a->activated_ms;
    out->escrow = a->escrow;
    out->deposited = a->deposited;
    out->penalties = a->penalties;
    out->settled = a->settled;
    out->refunded = a->refunded;
}

int sl_contract_agreement(const sl_contract *c, const char *name, sl_agreement_info *out)
{
    const sl__agreement *a = sl__agreement_find(c, name);
    if (!a)
        return SL_ENOENT;
    fill_info(a, out);
    return 0;
}

size_t sl_contract_agreement_count(const sl_contract *c)
{
    return c->n_agrs;
}

int sl_contract_agreement_at(const sl_contract *c, size_t i, sl_agreement_info *out)
{
    if (i >= c->n_agrs)
        return SL_ENOENT;
    fill_info(c->agrs[i], out);
    return 0;
}

const char *sl_agreement_status_name(sl_agreement_status s)
{
    static const char *const names[] = {"proposed", "active", "closed", "rejected"};
    return (unsigned)s < sizeof(names) / sizeof(names[0]) ? names[s] : "?";
}

const char *sl_event_kind_name(sl_event_kind k)
{
    static const char *const names[] = {
        "issued",  "withdrawn", "proposed", "activated",     "rejected",   "deposited", "decided",
        "dispute", "violation", "penalty",  "window_closed", "settlement", "refund",    "closed",
    };
    return (unsigned)k < sizeof(names) / sizeof(names[0]) ? names[k] : "?";
}
