/*
 * report.c: oracle reports, the per-interval decision by the agreement's policy, and the
 * once-per-interval guard.
 *
 * An interval is the pair (objective, interval number) with number = start / interval_ms on the
 * epoch grid. Reports wait in the objective's pending list (sorted by interval) until the
 * policy can decide; the decision is final and sets the interval's bit in its window's bitmap,
 * after which every further report for it is refused. Deciding is a pure function of which
 * oracles reported what (decide()), evaluated early when the outcome can no longer change and
 * finally at the interval's deadline (end + grace) with whatever arrived.
 */
#include <stdlib.h>
#include <string.h>

#include "contract/contract_int.h"

#define SL_MAX_VALUE 1000000000000000LL /* 10^15: far beyond any real measurement */

typedef struct decision {
    int decided;
    sl_outcome outcome;
    int64_t value;      /* -1 for unknown */
    uint64_t good, bad; /* which oracles classified the interval good / bad */
} decision;

int64_t sl__deadline(const sl__agreement *a, const sl__objective *o, int64_t interval)
{
    return (interval + 1) * o->spec->interval_ms + a->spec->grace_ms;
}

static int classify_good(const sl_objective_spec *o, int64_t v)
{
    if (o->metric == SL_METRIC_AVAILABILITY)
        return v >= o->good_ppm;
    return o->cmp == SL_CMP_GE ? v >= o->target : v <= o->target;
}

static void sort_values(int64_t *v, int n)
{
    for (int i = 1; i < n; i++) {
        int64_t x = v[i];
        int j = i;
        for (; j > 0 && v[j - 1] > x; j--)
            v[j] = v[j - 1];
        v[j] = x;
    }
}

/* Median (mean of the middle two, floored) of the values of the oracles in mask. */
static int64_t median_of(const int64_t *values, uint64_t mask)
{
    int64_t v[SL_MAX_ORACLES];
    int n = 0;
    for (int i = 0; i < SL_MAX_ORACLES; i++) {
        if (mask & (1ULL << i))
            v[n++] = values[i];
    }
    if (n == 0)
        return -1;
    sort_values(v, n);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2; /* values <= 10^15: no overflow */
}

static int64_t extreme_of(const int64_t *values, uint64_t mask, int want_max)
{
    int64_t best = -1;
    for (int i = 0; i < SL_MAX_ORACLES; i++) {
        if ((mask & (1ULL << i)) && (best < 0 || (want_max ? values[i] > best : values[i] < best)))
            best = values[i];
    }
    return best;
}

static void settle_value(const sl_objective_spec *o, decision *d, int64_t value)
{
    d->decided = 1;
    d->value = value;
    d->outcome = classify_good(o, value) ? SL_OUTCOME_GOOD : SL_OUTCOME_BAD;
}

static void settle_unknown(decision *d)
{
    d->decided = 1;
    d->value = -1;
    d->outcome = SL_OUTCOME_UNKNOWN;
}

/* median / min / max: decide once all oracles reported, or a quorum agrees on good vs bad, or
 * at the deadline with a quorum. */
static void decide_vote(const sl__objective *o, const int64_t *values, uint64_t reported, int final,
                        decision *d)
{
    int r = __builtin_popcountll(reported), q = (int)o->spec->quorum;
    int agree = d->good == 0 || d->bad == 0;
    if (final && r < q) {
        settle_unknown(d);
        return;
    }
    if (!(r == (int)o->members || (r >= q && agree) || final))
        return;
    if (o->spec->policy == SL_POLICY_MEDIAN)
        settle_value(o->spec, d, median_of(values, reported));
    else
        settle_value(o->spec, d, extreme_of(values, reported, o->spec->policy == SL_POLICY_MAX));
}

/* all-agree: any disagreement makes the interval unknown at once; otherwise wait for every
 * oracle, or at the deadline accept a quorum that agrees. */
static void decide_all_agree(const sl__objective *o, const int64_t *values, uint64_t reported,
                             int final, decision *d)
{
    int r = __builtin_popcountll(reported);
    if (d->good && d->bad)
        settle_unknown(d);
    else if (r == (int)o->members || (final && r >= (int)o->spec->quorum))
        settle_value(o->spec, d, median_of(values, reported));
    else if (final)
        settle_unknown(d);
}

/* k-of-n: k = quorum oracles must classify the interval the same way. */
static void decide_k_of_n(const sl__objective *o, const int64_t *values, uint64_t reported,
                          int final, decision *d)
{
    int q = (int)o->spec->quorum, missing = (int)o->members - __builtin_popcountll(reported);
    int ng = __builtin_popcountll(d->good), nb = __builtin_popcountll(d->bad);
    if (ng >= q || nb >= q) {
        settle_value(o->spec, d, median_of(values, ng >= q ? d->good : d->bad));
        d->outcome = ng >= q ? SL_OUTCOME_GOOD : SL_OUTCOME_BAD;
    } else if (final || (ng + missing < q && nb + missing < q)) {
        settle_unknown(d);
    }
}

static decision decide(const sl__objective *o, const int64_t *values, uint64_t reported, int final)
{
    decision d = {0, SL_OUTCOME_UNKNOWN, -1, 0, 0};
    for (int i = 0; i < SL_MAX_ORACLES; i++) {
        if (reported & (1ULL << i)) {
            if (classify_good(o->spec, values[i]))
                d.good |= 1ULL << i;
            else
                d.bad |= 1ULL << i;
        }
    }
    if (o->spec->policy == SL_POLICY_ALL_AGREE)
        decide_all_agree(o, values, reported, final, &d);
    else if (o->spec->policy == SL_POLICY_K_OF_N)
        decide_k_of_n(o, values, reported, final, &d);
    else
        decide_vote(o, values, reported, final, &d);
    return d;
}

/* ---- applying a decision ---- */

int sl__bitmap_ensure(sl__window *w)
{
    if (!w->decided)
        w->decided = calloc((size_t)(w->intervals + 63) / 64, sizeof(uint64_t));
    return w->decided ? 0 : SL_ENOMEM;
}

static sl__window *window_of(const sl__agreement *a, const sl__objective *o, int64_t interval)
{
    int64_t start = interval * o->spec->interval_ms;
    return &o->wins[sl__window_index(a->spec, &o->spec->window, start)];
}

static int64_t bit_of(const sl__objective *o, const sl__window *w, int64_t interval)
{
    return interval - w->start_ms / o->spec->interval_ms;
}

static void push_interval_event(sl_contract *c, const sl__agreement *a, const sl__objective *o,
                                sl_event_kind kind, int64_t interval, const decision *d)
{
    sl_event *e = sl__event_push(c, kind, a);
    e->objective = o->spec->name;
    e->start_ms = interval * o->spec->interval_ms;
    e->end_ms = e->start_ms + o->spec->interval_ms;
    e->value = d->value;
    e->outcome = d->outcome;
    e->good_oracles = d->good;
    e->bad_oracles = d->bad;
}

/* Records a final decision. The window's bitmap must exist. Emits at most 5 events. */
static void apply_decision(sl_contract *c, sl__agreement *a, sl__objective *o, int64_t interval,
                           const decision *d)
{
    sl__window *w = window_of(a, o, interval);
    int64_t bit = bit_of(o, w, interval);
    w->decided[bit / 64] |= 1ULL << (bit % 64);
    if (d->outcome == SL_OUTCOME_GOOD)
        w->good++;
    else if (d->outcome == SL_OUTCOME_BAD)
        w->bad++;
    else
        w->unknown++;
    push_interval_event(c, a, o, SL_EV_DECIDED, interval, d);
    if (d->good && d->bad)
        push_interval_event(c, a, o, SL_EV_DISPUTE, interval, d);
    int counts_bad = d->outcome == SL_OUTCOME_BAD ||
                     (d->outcome == SL_OUTCOME_UNKNOWN && o->spec->unknown == SL_UNKNOWN_BAD);
    if (counts_bad && o->spec->metric != SL_METRIC_AVAILABILITY)
        push_interval_event(c, a, o, SL_EV_VIOLATION, interval, d);
    sl__window_evaluate(c, a, o, w);
}

void sl__decide_pending(sl_contract *c, sl__agreement *a, sl__objective *o, sl__pending *p,
                        int final)
{
    if (!p->decided) {
        decision d = decide(o, p->values, p->reported, final);
        if (d.decided)
            apply_decision(c, a, o, p->interval, &d);
    }
    free(p);
}

/* ---- intake ---- */

static int find_objective(const sl__agreement *a, const char *name)
{
    for (size_t i = 0; name && i < a->spec->n_objectives; i++) {
        if (strcmp(a->spec->objectives[i].name, name) == 0)
            return (int)i;
    }
    return -1;
}

static int find_oracle(const sl_agreement_spec *s, const char *name)
{
    for (size_t i = 0; name && i < s->n_oracles; i++) {
        if (strcmp(s->oracles[i], name) == 0)
            return (int)i;
    }
    return -1;
}

static int value_check(const sl_objective_spec *o, int64_t v, sl_error *err)
{
    int64_t max = SL_MAX_VALUE;
    if (o->metric == SL_METRIC_AVAILABILITY || o->metric == SL_METRIC_ERROR_RATE)
        max = SL_PPM_ONE;
    else if (sl_metric_is_check(o->metric))
        max = 1;
    if (v < 0 || v > max)
        return sl_error_set(err, SL_EINVAL, "value", "%s value %lld is outside 0..%lld",
                            sl_metric_name(o->metric), (long long)v, (long long)max);
    return 0;
}

static int interval_check(const sl_contract *c, const sl__agreement *a, const sl__objective *o,
                          const sl_report *r, sl_error *err)
{
    const sl_agreement_spec *s = a->spec;
    int64_t len = o->spec->interval_ms;
    if (r->end_ms - r->start_ms != len || sl_floormod(r->start_ms, len) != 0)
        return sl_error_set(err, SL_EINVAL, "interval",
                            "[%lld, %lld) is not one %lld ms interval of the objective's grid",
                            (long long)r->start_ms, (long long)r->end_ms, (long long)len);
    if (r->start_ms < s->start_ms || r->end_ms > s->end_ms)
        return sl_error_set(err, SL_EINVAL, "interval", "interval is outside the period of '%s'",
                            s->name);
    /* A decision is final: say so even when the interval is also past its deadline. Before
     * the deadline, sl_contract_report still records a decided interval's later reports. */
    int64_t interval = r->start_ms / len;
    const sl__window *w = window_of(a, o, interval);
    int64_t bit = bit_of(o, w, interval);
    if (w->closed || ((w->decided && (w->decided[bit / 64] >> (bit % 64) & 1)) &&
                      c->now >= r->end_ms + s->grace_ms))
        return sl_error_set(err, SL_EDUP, "interval", "interval already decided");
    if (r->end_ms > c->now)
        return sl_error_set(err, SL_ETIME, "interval",
                            "interval is not over yet (ends %lld, now %lld)", (long long)r->end_ms,
                            (long long)c->now);
    if (c->now >= r->end_ms + s->grace_ms)
        return sl_error_set(err, SL_ETIME, "interval",
                            "too late: reports for this interval closed at %lld",
                            (long long)(r->end_ms + s->grace_ms));
    return 0;
}

/* Interval measurements must name interval objectives and check results check objectives. An
 * objective the agreement lacks is left to report_check to name. */
static int kind_check(const sl__agreement *a, const sl_report *r, sl_error *err)
{
    int oi = find_objective(a, r->objective);
    if (oi < 0)
        return 0;
    int check = sl_metric_is_check(a->spec->objectives[oi].metric);
    if (check == (r->check != 0))
        return 0;
    return sl_error_set(err, SL_EINVAL, "objective",
                        "'%s' is %s objective; send it in a %s transaction", r->objective,
                        check ? "a check" : "an interval", check ? "check" : "report");
}

static int report_check(const sl_contract *c, const sl_report *r, sl__agreement **ap,
                        sl__objective **op, int *oracle, sl_error *err)
{
    sl__agreement *a = sl__agreement_find(c, r->agreement);
    if (!a)
        return sl_error_set(err, SL_ENOENT, "agreement", "no agreement named '%s'",
                            r->agreement ? r->agreement : "");
    int rc = kind_check(a, r, err);
    if (rc)
        return rc;
    if (a->status != SL_AGR_ACTIVE)
        return sl_error_set(err, SL_ESTATE, "agreement", "agreement '%s' is %s, not active",
                            a->spec->name, sl_agreement_status_name(a->status));
    int oi = find_objective(a, r->objective);
    if (oi < 0)
        return sl_error_set(err, SL_ENOENT, "objective", "'%s' has no objective '%s'",
                            a->spec->name, r->objective ? r->objective : "");
    *oracle = find_oracle(a->spec, r->oracle);
    if (*oracle < 0 || !(a->spec->objectives[oi].oracle_mask & (1ULL << *oracle)))
        return sl_error_set(err, SL_EPERM, "oracle", "'%s' is not an oracle of objective '%s'",
                            r->oracle ? r->oracle : "", r->objective);
    *ap = a;
    *op = &a->objs[oi];
    rc = interval_check(c, a, *op, r, err);
    return rc ? rc : value_check((*op)->spec, r->value, err);
}

static size_t pending_slot(const sl__objective *o, int64_t interval)
{
    size_t lo = 0, hi = o->n_pending;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (o->pending[mid]->interval < interval)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static int pending_reserve(sl__objective *o)
{
    return sl_reserve(&o->pending, &o->cap_pending, o->n_pending + 1, sizeof(*o->pending));
}

static void pending_insert(sl__agreement *a, sl__objective *o, size_t at, sl__pending *p)
{
    memmove(o->pending + at + 1, o->pending + at, (o->n_pending - at) * sizeof(*o->pending));
    o->pending[at] = p;
    o->n_pending++;
    int64_t due = sl__deadline(a, o, p->interval);
    if (due < a->next_due)
        a->next_due = due;
}

/* A report for an interval decided early, before its deadline: recorded, and when it
 * classifies the interval otherwise than the decision, a dispute naming every oracle's side.
 * The decision, the counts and the money stay as they are. */
static int late_report(sl_contract *c, sl__agreement *a, sl__objective *o, sl__pending *p,
                       int oracle, int64_t value, sl_error *err)
{
    uint64_t bit = 1ULL << oracle;
    int good = classify_good(o->spec, value);

    if (sl__events_reserve(c, 1))
        return sl_error_set(err, SL_ENOMEM, NULL, "out of memory");
    a->dirty = 1;
    p->reported |= bit;
    p->values[oracle] = value;
    if ((good && p->outcome == SL_OUTCOME_BAD) || (!good && p->outcome == SL_OUTCOME_GOOD)) {
        decision d = decide(o, p->values, p->reported, 0);
        d.outcome = p->outcome;
        push_interval_event(c, a, o, SL_EV_DISPUTE, p->interval, &d);
    }
    return 0;
}

int sl_contract_report(sl_contract *c, const sl_report *r, sl_error *err)
{
    sl__agreement *a = NULL;
    sl__objective *o = NULL;
    int oracle = 0;
    int rc = report_check(c, r, &a, &o, &oracle, err);
    if (rc)
        return rc;
    int64_t interval = r->start_ms / o->spec->interval_ms;
    sl__window *w = window_of(a, o, interval);
    size_t at = pending_slot(o, interval);
    sl__pending *p =
        at < o->n_pending && o->pending[at]->interval == interval ? o->pending[at] : NULL;
    if (p && (p->reported & (1ULL << oracle)))
        return sl_error_set(err, SL_EDUP, "oracle", "'%s' already reported this interval",
                            r->oracle);
    if (p && p->decided)
        return late_report(c, a, o, p, oracle, r->value, err);
    int64_t bit = bit_of(o, w, interval);
    if (!p && w->decided && (w->decided[bit / 64] >> (bit % 64) & 1))
        return sl_error_set(err, SL_EDUP, "interval", "interval already decided");

    int64_t values[SL_MAX_ORACLES] = {0};
    uint64_t reported = 1ULL << oracle;
    if (p) {
        memcpy(values, p->values, a->spec->n_oracles * sizeof(*values));
        reported |= p->reported;
    }
    values[oracle] = r->value;
    decision d = decide(o, values, reported, 0);

    /* Once every oracle has reported there is nobody left to hear: no entry is kept. */
    int keep = !d.decided || __builtin_popcountll(reported) < (int)o->members;
    sl__pending *fresh = NULL;
    if (!p && keep) {
        fresh = calloc(1, sizeof(*fresh) + a->spec->n_oracles * sizeof(int64_t));
        if (!fresh || pending_reserve(o)) {
            free(fresh);
            return sl_error_set(err, SL_ENOMEM, NULL, "out of memory");
        }
    }
    if (sl__bitmap_ensure(w) || sl__events_reserve(c, 5)) {
        free(fresh);
        return sl_error_set(err, SL_ENOMEM, NULL, "out of memory");
    }

    a->dirty = 1;
    if (!keep) {
        if (p) {
            free(p);
            o->n_pending--;
            memmove(o->pending + at, o->pending + at + 1,
                    (o->n_pending - at) * sizeof(*o->pending));
        }
        apply_decision(c, a, o, interval, &d);
        return 0;
    }
    if (!p) {
        fresh->interval = interval;
        pending_insert(a, o, at, fresh);
        p = fresh;
    }
    p->reported = reported;
    p->values[oracle] = r->value;
    if (d.decided) {
        /* kept until the deadline: later reports are recorded, a dissent disputed */
        p->decided = 1;
        p->outcome = d.outcome;
        apply_decision(c, a, o, interval, &d);
    }
    return 0;
}
