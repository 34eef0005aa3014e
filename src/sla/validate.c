/*
 * validate.c: the rules of an agreement that span several fields.
 *
 * Intervals are anchored at the Unix epoch, so the period must start and end on every
 * objective's interval grid, duration windows must hold whole intervals and calendar months
 * (which start at UTC midnight) need intervals dividing a day. Every objective window must lie
 * inside one billing window, so that money for a window is settled once; and two penalised
 * objectives may not measure the same thing (service, metric, percentile), so that a penalty
 * is never paid twice for the same time. Counts of intervals and windows are bounded so that
 * the contract's per-window state stays small. Each rule only looks at fields that parsed.
 * All arithmetic stays within int64: times are at most year 9999 (about 2.6e14 ms).
 * Thread-safety: reentrant.
 */
#include <stdio.h>

#include "slaledger/util.h"

#include "sla_int.h"

static const char *name_of(const sl_objective_spec *o)
{
    return o->name ? o->name : "?";
}

/* Quotes a window or duration as the document wrote it ("7d", not "1w"); they parsed, so
 * their text is short and plain. fallback is used for defaults that were not written. */
static const char *as_written(const sl__ynode *n, const char *fallback)
{
    return n && n->type == SL__Y_SCALAR ? n->text : fallback;
}

/* Number of windows of kind w that meet the period [start, end). */
static int64_t window_count(const sl_agreement_spec *s, const sl_window_spec *w)
{
    if (w->kind == SL_WINDOW_MONTH)
        return sl_month_index(s->end_ms - 1) - sl_month_index(s->start_ms) + 1;
    if (w->kind == SL_WINDOW_DURATION && w->len_ms > 0)
        return sl_floordiv(s->end_ms - 1, w->len_ms) - sl_floordiv(s->start_ms, w->len_ms) + 1;
    return 1;
}

/* True when every window of kind w lies inside one billing window. */
static int window_nests(const sl_agreement_spec *s, const sl_window_spec *w)
{
    const sl_window_spec *bill = &s->billing;

    if (bill->kind == SL_WINDOW_PERIOD || window_count(s, bill) == 1)
        return 1;
    if (w->kind != SL_WINDOW_DURATION)
        return bill->kind == SL_WINDOW_MONTH && w->kind == SL_WINDOW_MONTH;
    if (bill->kind == SL_WINDOW_MONTH)
        return SL_MS_PER_DAY % w->len_ms == 0;
    return bill->len_ms % w->len_ms == 0;
}

/* The period's start and end must be multiples of the objective's interval. */
static void grid_check(sl__build *b, const sl_objective_spec *o, const sl__obj_aux *aux)
{
    const sl_agreement_spec *s = b->spec;
    char t[32];
    const char *iv = as_written(aux->interval, "?");

    if (s->start_ms % o->interval_ms != 0) {
        sl_time_format(s->start_ms, t, sizeof(t));
        sl__error(&b->ctx, b->period_start, SL_EINVAL, "spec.period.start",
                  "period start %s is not on the %s interval grid of objective '%s'", t, iv,
                  name_of(o));
    }
    if (s->end_ms % o->interval_ms != 0) {
        sl_time_format(s->end_ms, t, sizeof(t));
        sl__error(&b->ctx, b->period_end, SL_EINVAL, "spec.period.end",
                  "period end %s is not on the %s interval grid of objective '%s'", t, iv,
                  name_of(o));
    }
}

/* The window must hold whole intervals, nest in a billing window and not be too many. */
static void window_check(sl__build *b, const sl_objective_spec *o, const sl__obj_aux *aux,
                         const char *path)
{
    const sl_agreement_spec *s = b->spec;
    const char *w = as_written(aux->window, "?"), *iv = as_written(aux->interval, "?");
    char bill[32];

    if (o->window.kind == SL_WINDOW_DURATION && o->window.len_ms % o->interval_ms != 0)
        sl__error(&b->ctx, aux->window, SL_EINVAL, path,
                  "window %s of objective '%s' is not a multiple of its %s interval", w, name_of(o),
                  iv);
    if (o->window.kind == SL_WINDOW_MONTH && SL_MS_PER_DAY % o->interval_ms != 0)
        sl__error(&b->ctx, aux->window, SL_EINVAL, path,
                  "a calendar-month window needs an interval that divides 1d; objective '%s' "
                  "has %s",
                  name_of(o), iv);
    if (window_count(s, &o->window) > SL_MAX_WINDOWS)
        sl__error(&b->ctx, aux->window, SL_EINVAL, path,
                  "objective '%s' has %lld %s windows over the period; at most %d are allowed",
                  name_of(o), (long long)window_count(s, &o->window), w, SL_MAX_WINDOWS);
    if (b->billing_ok && !window_nests(s, &o->window)) {
        sl__window_format(&s->billing, bill, sizeof(bill));
        sl__error(&b->ctx, aux->window, SL_EINVAL, path,
                  "window %s of objective '%s' overlaps the %s billing windows: each objective "
                  "window must fall inside one billing window",
                  w, name_of(o), as_written(b->billing, bill));
    }
}

static void interval_count_check(sl__build *b, const sl_objective_spec *o, const sl__obj_aux *aux,
                                 size_t i)
{
    const sl_agreement_spec *s = b->spec;
    int64_t len = s->end_ms - s->start_ms; /* both within years 1970..9999: no overflow */
    int64_t n = len / o->interval_ms + (len % o->interval_ms != 0);
    char path[SL__PATH_MAX];

    if (n <= SL_MAX_INTERVALS)
        return;
    snprintf(path, sizeof(path), "spec.objectives[%zu].interval", i);
    sl__error(&b->ctx, aux->interval, SL_EINVAL, path,
              "objective '%s' has %lld intervals of %s over the period; at most %d are allowed",
              name_of(o), (long long)n, as_written(aux->interval, "?"), SL_MAX_INTERVALS);
}

static void billing_check(sl__build *b)
{
    const sl_agreement_spec *s = b->spec;
    int64_t n = window_count(s, &s->billing);
    char bill[32];

    if (n <= SL_MAX_WINDOWS)
        return;
    sl__window_format(&s->billing, bill, sizeof(bill));
    sl__error(&b->ctx, b->billing, SL_EINVAL, "spec.billing",
              "the period has %lld %s billing windows; at most %d are allowed", (long long)n,
              as_written(b->billing, bill), SL_MAX_WINDOWS);
}

/* The objective of penalty j when it and its service, metric and percentile parsed. */
static const sl_objective_spec *penalised(const sl__build *b, size_t j)
{
    uint32_t k = b->spec->penalties[j].objective;

    if (!b->pen_aux[j].objective_ok || !b->obj_aux[k].overlap_ok)
        return NULL;
    return &b->spec->objectives[k];
}

/* Two penalised objectives measuring the same thing could pay twice for the same time. */
static void overlap_check(sl__build *b)
{
    char path[SL__PATH_MAX];

    for (size_t j = 0; j < b->spec->n_penalties; j++) {
        const sl_objective_spec *oj = penalised(b, j), *oi = NULL;
        size_t i;
        for (i = 0; oj && i < j; i++) {
            oi = penalised(b, i);
            if (oi && oi->service == oj->service && oi->metric == oj->metric &&
                oi->percentile_milli == oj->percentile_milli)
                break;
        }
        if (!oj || i == j)
            continue;
        snprintf(path, sizeof(path), "spec.penalties[%zu].objective", j);
        sl__error(&b->ctx, b->pen_aux[j].objective, SL_EINVAL, path,
                  "objectives '%s' and '%s' (penalised by spec.penalties[%zu]) measure the same "
                  "service, metric and percentile: a penalty could be paid twice for the same "
                  "time",
                  name_of(oj), name_of(oi), i);
    }
}

/* Deadlines are interval ends plus grace, so period end + grace must be representable. */
static void grace_check(sl__build *b)
{
    int64_t deadline;

    if (b->grace && sl_add(b->spec->end_ms, b->spec->grace_ms, &deadline) != 0)
        sl__error(&b->ctx, b->grace, SL_EOVERFLOW, "spec.grace",
                  "grace %s is too long: the period's end plus grace is out of range",
                  as_written(b->grace, "?"));
}

void sl__validate(sl__build *b)
{
    const sl_agreement_spec *s = b->spec;
    char path[SL__PATH_MAX];

    if (b->period_ok)
        grace_check(b);
    if (b->period_ok && b->billing_ok)
        billing_check(b);
    for (size_t i = 0; b->period_ok && i < s->n_objectives; i++) {
        if (!b->obj_aux[i].grid_ok)
            continue;
        grid_check(b, &s->objectives[i], &b->obj_aux[i]);
        snprintf(path, sizeof(path), "spec.objectives[%zu].window", i);
        window_check(b, &s->objectives[i], &b->obj_aux[i], path);
        interval_count_check(b, &s->objectives[i], &b->obj_aux[i], i);
    }
    overlap_check(b);
}
