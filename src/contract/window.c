/*
 * window.c: window geometry, fee shares, penalties and settlement; what a tick does.
 *
 * Geometry: objective and billing windows are numbered from 0 at the period start and clipped
 * to the period. The fee is split over billing windows in proportion to their length, and a
 * billing window's share over the objective windows nested in it, so that shares always add up
 * exactly: share(w) = floor(F * end(w) / L) - floor(F * start(w) / L), times relative to the
 * enclosing span of length L.
 *
 * Money rules (docs/penalties.md): a window's penalty is `owed` by its rules (worst certain tier,
 * or violations times amount up to the cap) and paid as soon as it grows, limited by what is
 * left of its billing window's share and by the escrow. A billing window closes by paying the
 * rest of its share to the provider; the period end refunds what is left in escrow to the
 * consumer. All amounts here are bounded by the fee or the escrow, so sums cannot overflow.
 */
#include <stdlib.h>
#include <string.h>

#include "contract/contract_int.h"

static int64_t min64(int64_t a, int64_t b)
{
    return a < b ? a : b;
}

static int64_t max64(int64_t a, int64_t b)
{
    return a > b ? a : b;
}

int64_t sl__window_index(const sl_agreement_spec *s, const sl_window_spec *w, int64_t t)
{
    switch (w->kind) {
    case SL_WINDOW_DURATION:
        return sl_floordiv(t, w->len_ms) - sl_floordiv(s->start_ms, w->len_ms);
    case SL_WINDOW_MONTH:
        return sl_month_index(t) - sl_month_index(s->start_ms);
    default:
        return 0;
    }
}

static void window_bounds(const sl_agreement_spec *s, const sl_window_spec *w, int64_t idx,
                          int64_t *start, int64_t *end)
{
    int64_t b = s->start_ms, e = s->end_ms;
    if (w->kind == SL_WINDOW_DURATION) {
        b = (sl_floordiv(s->start_ms, w->len_ms) + idx) * w->len_ms;
        e = b + w->len_ms;
    } else if (w->kind == SL_WINDOW_MONTH) {
        int64_t m = sl_month_index(s->start_ms) + idx;
        b = sl_month_start(m);
        e = sl_month_start(m + 1);
    }
    *start = max64(b, s->start_ms);
    *end = min64(e, s->end_ms);
}

/* floor(total * part / whole) for 0 <= part <= whole: never overflows, never fails. */
static int64_t portion(int64_t total, int64_t part, int64_t whole)
{
    int64_t out = 0;
    (void)sl_muldiv(total, part, whole, &out);
    return out;
}

static int64_t split(int64_t total, int64_t base, int64_t len, int64_t start, int64_t end)
{
    return portion(total, end - base, len) - portion(total, start - base, len);
}

static int layout_objective(sl__agreement *a, size_t i)
{
    const sl_agreement_spec *s = a->spec;
    sl__objective *o = &a->objs[i];
    o->spec = &s->objectives[i];
    for (size_t k = 0; k < s->n_penalties; k++) {
        if (s->penalties[k].objective == i)
            o->penalty = &s->penalties[k];
    }
    o->members = (uint32_t)__builtin_popcountll(o->spec->oracle_mask);
    o->n_wins = sl__window_index(s, &o->spec->window, s->end_ms - 1) + 1;
    o->wins = calloc((size_t)o->n_wins, sizeof(*o->wins));
    if (!o->wins)
        return SL_ENOMEM;
    for (int64_t k = 0; k < o->n_wins; k++) {
        sl__window *w = &o->wins[k];
        window_bounds(s, &o->spec->window, k, &w->start_ms, &w->end_ms);
        w->intervals = (w->end_ms - w->start_ms) / o->spec->interval_ms;
        w->bill = sl__window_index(s, &s->billing, w->start_ms);
        const sl__bill *b = &a->bills[w->bill];
        w->share = split(b->alloc, b->start_ms, b->end_ms - b->start_ms, w->start_ms, w->end_ms);
        w->tier = -1;
    }
    return 0;
}

int sl__agreement_layout(sl__agreement *a)
{
    const sl_agreement_spec *s = a->spec;
    a->n_bills = sl__window_index(s, &s->billing, s->end_ms - 1) + 1;
    a->bills = calloc((size_t)a->n_bills, sizeof(*a->bills));
    a->objs = calloc(s->n_objectives, sizeof(*a->objs));
    if (!a->bills || !a->objs)
        goto fail;
    for (int64_t k = 0; k < a->n_bills; k++) {
        sl__bill *b = &a->bills[k];
        window_bounds(s, &s->billing, k, &b->start_ms, &b->end_ms);
        b->alloc = split(s->fee, s->start_ms, s->end_ms - s->start_ms, b->start_ms, b->end_ms);
    }
    for (size_t i = 0; i < s->n_objectives; i++) {
        if (layout_objective(a, i) != 0)
            goto fail;
    }
    return 0;
fail:
    sl__agreement_layout_release(a);
    return SL_ENOMEM;
}

void sl__agreement_layout_release(sl__agreement *a)
{
    for (size_t i = 0; a->objs && i < a->spec->n_objectives; i++) {
        sl__objective *o = &a->objs[i];
        for (int64_t k = 0; o->wins && k < o->n_wins; k++)
            free(o->wins[k].decided);
        for (size_t k = 0; k < o->n_pending; k++)
            free(o->pending[k]);
        free(o->pending);
        free(o->wins);
    }
    free(a->objs);
    free(a->bills);
    a->objs = NULL;
    a->bills = NULL;
    a->n_bills = 0;
}

/* ---- evaluation ---- */

void sl__effective_counts(const sl__objective *o, const sl__window *w, int64_t *good, int64_t *bad,
                          int64_t *remaining)
{
    int64_t g = w->good, b = w->bad, u = w->unknown;
    *remaining = w->intervals - g - b - u;
    if (o->spec->unknown == SL_UNKNOWN_GOOD)
        g += u;
    else if (o->spec->unknown == SL_UNKNOWN_BAD)
        b += u;
    *good = g;
    *bad = b;
}

/* True when availability is below `ppm` even if every remaining interval turns out good. */
static int certainly_below(int64_t good, int64_t bad, int64_t remaining, int64_t ppm)
{
    int64_t best = good + remaining, total = good + remaining + bad;
    return total > 0 && best * SL_PPM_ONE < ppm * total;
}

/* Availability: flags the target as missed and finds the worst certain tier; returns the
 * credit owed for it (0 without tiers). Emits one violation event when things got worse. */
static int64_t availability_owed(sl_contract *c, sl__agreement *a, sl__objective *o, sl__window *w,
                                 int64_t g, int64_t b, int64_t r)
{
    const sl_penalty_spec *p = o->penalty;
    int worse = 0;
    if (!w->missed && certainly_below(g, b, r, o->spec->target))
        worse = w->missed = 1;
    for (int t = (p && p->kind == SL_PENALTY_TIERS) ? (int)p->n_tiers - 1 : -1; t > w->tier; t--) {
        if (certainly_below(g, b, r, p->tiers[t].below_ppm)) {
            w->tier = t;
            worse = 1;
            break;
        }
    }
    if (worse) {
        sl_event *e = sl__event_push(c, SL_EV_VIOLATION, a);
        e->objective = o->spec->name;
        e->start_ms = w->start_ms;
        e->end_ms = w->end_ms;
        e->tier = w->tier;
        e->value = g + b > 0 ? g * SL_PPM_ONE / (g + b) : -1;
    }
    if (!p || p->kind != SL_PENALTY_TIERS || w->tier < 0)
        return 0;
    return portion(w->share, p->tiers[w->tier].credit_ppm, SL_PPM_ONE);
}

static int64_t violations_owed(const sl__objective *o, const sl__window *w)
{
    const sl_penalty_spec *p = o->penalty;
    if (!p || p->kind == SL_PENALTY_TIERS)
        return 0;
    int64_t cap = w->share;
    if (p->cap_kind == SL_CAP_PPM)
        cap = portion(w->share, p->cap, SL_PPM_ONE);
    else if (p->cap_kind == SL_CAP_AMOUNT)
        cap = p->cap;
    int64_t owed;
    if (__builtin_mul_overflow(w->violations, p->amount, &owed) || owed > cap)
        owed = cap;
    return owed;
}

/* Pays what the window owes and has not been paid, as far as share and escrow allow. */
static void pay_penalty(sl_contract *c, sl__agreement *a, const sl__objective *o, sl__window *w)
{
    sl__bill *bill = &a->bills[w->bill];
    int64_t due = min64(w->owed - w->paid, min64(bill->alloc - bill->penalties, a->escrow));
    if (due <= 0)
        return;
    a->escrow -= due;
    a->consumer_acct->balance += due;
    a->penalties += due;
    bill->penalties += due;
    w->paid += due;
    sl_event *e = sl__event_push(c, SL_EV_PENALTY, a);
    e->objective = o->spec->name;
    e->to = a->spec->consumer;
    e->amount = due;
    e->start_ms = w->start_ms;
    e->end_ms = w->end_ms;
    e->tier = w->tier;
}

void sl__window_evaluate(sl_contract *c, sl__agreement *a, sl__objective *o, sl__window *w)
{
    int64_t g, b, r, owed;
    sl__effective_counts(o, w, &g, &b, &r);
    w->violations = b;
    if (o->spec->metric == SL_METRIC_AVAILABILITY)
        owed = max64(availability_owed(c, a, o, w, g, b, r), violations_owed(o, w));
    else
        owed = violations_owed(o, w);
    if (owed > w->owed)
        w->owed = owed;
    pay_penalty(c, a, o, w);
}

/* ---- ticks ---- */

static int64_t window_due(const sl__agreement *a, const sl__window *w)
{
    return w->end_ms + a->spec->grace_ms;
}

static size_t pending_due(const sl__agreement *a, const sl__objective *o, int64_t now)
{
    size_t k = 0;
    while (k < o->n_pending && sl__deadline(a, o, o->pending[k]->interval) <= now)
        k++;
    return k;
}

size_t sl__tick_bound(const sl__agreement *a, int64_t now)
{
    size_t n = 2; /* refund and closed */
    for (size_t i = 0; i < a->spec->n_objectives; i++) {
        const sl__objective *o = &a->objs[i];
        n += 5 * pending_due(a, o, now);
        for (int64_t k = o->first_open; k < o->n_wins && window_due(a, &o->wins[k]) <= now; k++)
            n += 3;
    }
    for (int64_t k = a->first_open_bill; k < a->n_bills; k++)
        n += a->bills[k].end_ms + a->spec->grace_ms <= now;
    return n;
}

static void close_window(sl_contract *c, sl__agreement *a, sl__objective *o, sl__window *w)
{
    w->unknown = w->intervals - w->good - w->bad;
    w->closed = 1;
    sl__window_evaluate(c, a, o, w);
    free(w->decided);
    w->decided = NULL;
    int64_t g, b, r;
    sl__effective_counts(o, w, &g, &b, &r);
    sl_event *e = sl__event_push(c, SL_EV_WINDOW_CLOSED, a);
    e->objective = o->spec->name;
    e->start_ms = w->start_ms;
    e->end_ms = w->end_ms;
    e->value = g + b > 0 ? g * SL_PPM_ONE / (g + b) : -1;
    e->tier = w->tier;
}

static void tick_objective(sl_contract *c, sl__agreement *a, sl__objective *o)
{
    size_t due = pending_due(a, o, c->now);
    for (size_t k = 0; k < due; k++)
        sl__decide_pending(c, a, o, o->pending[k], 1);
    if (due) {
        o->n_pending -= due;
        memmove(o->pending, o->pending + due, o->n_pending * sizeof(*o->pending));
    }
    while (o->first_open < o->n_wins && window_due(a, &o->wins[o->first_open]) <= c->now)
        close_window(c, a, o, &o->wins[o->first_open++]);
}

static void settle_bill(sl_contract *c, sl__agreement *a, sl__bill *b)
{
    int64_t amount = min64(b->alloc - b->penalties, a->escrow);
    a->escrow -= amount;
    a->provider_acct->balance += amount;
    a->settled += amount;
    b->settled = amount;
    b->closed = 1;
    sl_event *e = sl__event_push(c, SL_EV_SETTLEMENT, a);
    e->to = a->spec->provider;
    e->amount = amount;
    e->start_ms = b->start_ms;
    e->end_ms = b->end_ms;
}

static void close_agreement(sl_contract *c, sl__agreement *a)
{
    if (a->escrow > 0) {
        sl_event *e = sl__event_push(c, SL_EV_REFUND, a);
        e->to = a->spec->consumer;
        e->amount = a->escrow;
        a->consumer_acct->balance += a->escrow;
        a->refunded += a->escrow;
        a->escrow = 0;
    }
    a->status = SL_AGR_CLOSED;
    sl__event_push(c, SL_EV_CLOSED, a);
}

void sl__agreement_tick(sl_contract *c, sl__agreement *a)
{
    for (size_t i = 0; i < a->spec->n_objectives; i++)
        tick_objective(c, a, &a->objs[i]);
    while (a->first_open_bill < a->n_bills &&
           a->bills[a->first_open_bill].end_ms + a->spec->grace_ms <= c->now)
        settle_bill(c, a, &a->bills[a->first_open_bill++]);
    if (a->spec->end_ms + a->spec->grace_ms <= c->now)
        close_agreement(c, a);
    a->dirty = 1;
    sl__agreement_next_due(a);
}

/* The earliest deadline of a waiting interval of o: of any (the tick drops it), or with
 * `undecided` of one still to be decided. Pending entries are sorted by interval. */
static int64_t pending_due_time(const sl__agreement *a, const sl__objective *o, int undecided)
{
    for (size_t k = 0; k < o->n_pending; k++) {
        if (!undecided || !o->pending[k]->decided)
            return sl__deadline(a, o, o->pending[k]->interval);
    }
    return INT64_MAX;
}

static int64_t due_time(const sl__agreement *a, int undecided)
{
    if (a->status != SL_AGR_ACTIVE)
        return INT64_MAX;
    int64_t t = a->spec->end_ms + a->spec->grace_ms;
    for (size_t i = 0; i < a->spec->n_objectives; i++) {
        const sl__objective *o = &a->objs[i];
        t = min64(t, pending_due_time(a, o, undecided));
        if (o->first_open < o->n_wins)
            t = min64(t, window_due(a, &o->wins[o->first_open]));
    }
    if (a->first_open_bill < a->n_bills)
        t = min64(t, a->bills[a->first_open_bill].end_ms + a->spec->grace_ms);
    return t;
}

void sl__agreement_next_due(sl__agreement *a)
{
    a->next_due = due_time(a, 0);
}

int64_t sl__agreement_work_due(const sl__agreement *a)
{
    return due_time(a, 1);
}
