/*
 * sched_now.c: sl_sched_measure_now (see sched.h), the seed paper's "measure it now". It only
 * makes an agreement's report tasks due at once with `now_end` set to the latest closed
 * interval; task_run (sched.c) then measures up to there instead of stopping `delay` before
 * now. The watermark is untouched here, so an interval already handled is never measured again.
 *
 * Locking: takes the scheduler's `mu` like every entry point; callable from any thread.
 */
#include <string.h>

#include "oracle/sched_int.h"

/* What sl_sched_measure_now makes of report task t at now; t becomes due at once when queued. */
static int now_one(sl_sched *s, task *t, int64_t now, sl_sched_now *e)
{
    const sl_objective_spec *o = sl__task_objective(t);
    int64_t end = sl__align_down(now, o->interval_ms);

    memset(e, 0, sizeof(*e));
    sl_strfmt(e->objective, sizeof(e->objective), "%s", o->name);
    sl_strfmt(e->oracle, sizeof(e->oracle), "%s", s->cfg.oracles[t->oracle].name);
    e->from_ms = t->next_ms;
    if (end > t->a->spec->end_ms)
        end = t->a->spec->end_ms;
    e->status = SL_SCHED_NOW_NONE;
    if (end - o->interval_ms < t->a->spec->start_ms)
        return 0;
    e->start_ms = end - o->interval_ms;
    e->end_ms = end;
    if (t->next_ms >= end)
        e->status = SL_SCHED_NOW_DONE;
    else if (t->busy)
        e->status = SL_SCHED_NOW_RUNNING;
    else if (t->now_end >= end)
        e->status = SL_SCHED_NOW_PENDING;
    if (e->status != SL_SCHED_NOW_NONE)
        return 0;
    sl__sched_heap_remove(s, t);
    if (sl__sched_heap_push(s, t, now) != 0)
        return SL_ENOMEM;
    t->now_end = end;
    e->status = SL_SCHED_NOW_QUEUED;
    return 0;
}

int sl_sched_measure_now(sl_sched *s, const char *channel, const char *agreement, sl_sched_now *out,
                         size_t cap, size_t *n, sl_error *err)
{
    int64_t now = sl__sched_now(s);
    int rc = 0;

    *n = 0;
    pthread_mutex_lock(&s->mu);
    agr *a = sl__sched_agr_find(s, channel, agreement);
    if (!a || a->n_tasks == 0) {
        rc = sl_error_set(err, SL_ENOENT, "agreement",
                          "no oracle of this node measures %s/%s (it is not active, or names "
                          "none of this node's oracles)",
                          channel, agreement);
        goto out;
    }
    for (size_t i = 0; i < a->n_tasks && !rc; i++) {
        sl_sched_now e;
        rc = now_one(s, a->tasks[i], now, &e);
        if (!rc && i < cap)
            out[i] = e;
    }
    *n = a->n_tasks;
    if (rc)
        sl_error_set(err, rc, NULL, "out of memory");
out:
    pthread_mutex_unlock(&s->mu);
    sl_fetch_wakeup(s->fetch);
    return rc;
}
