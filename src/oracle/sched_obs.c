/*
 * sched_obs.c: the scheduler's observed services: http services it probes and push or
 * process-step services agents push observations to. A service (`svc`) holds the observations
 * not yet turned into reports; its report tasks (`users`) read them when their intervals close.
 * A probed service is one per agreement service, read by every local oracle named for it; a
 * pushed one is one per (service, local oracle), so what one oracle's agent pushed is reported
 * by that oracle only.
 *
 * Durable before counted: a push is written to the state file (one SQLite transaction per
 * batch) before sl_sched_observe returns; a probe's result waits in `result`, its service still
 * `in_flight` so that no reader counts the interval, until the round writes the results of all
 * finished probes in one SQLite transaction. Observations leave the state file in the SQLite
 * transaction that puts the report of their last reader's interval in the outbox (sched_out.c
 * calls sl__svc_prune), and are loaded back when a restarted scheduler makes the service again.
 *
 * Probes run once per period of the shortest interval of the service's objectives, at a fixed
 * random offset in the first half of the period; a probe's result is the observation of the
 * moment the probe was due. Thread-safety: everything here runs with the scheduler's mutex
 * held (probe_done and sl_sched_observe take it).
 */
#include <stdlib.h>
#include <string.h>

#include "oracle/sched_int.h"

#define PROBE_ORACLE "" /* the state file's oracle column of probe results: every oracle's */

static void svc_free(svc *v)
{
    agr *a = v->a;

    free(v->users);
    free(v->obs);
    free(v);
    sl__agr_unref(a);
}

/* The slot of a->svcs for service i as read by local oracle k: pushes are per oracle, a
 * probed service is one for all. */
static size_t svc_slot(const sl_sched *s, const agr *a, uint32_t i, uint32_t k)
{
    return (size_t)i * s->cfg.n_oracles + (a->spec->services[i].kind == SL_SVC_HTTP ? 0 : k);
}

static sl__obs_key svc_key(const sl_sched *s, const svc *v)
{
    sl__obs_key k = {v->a->channel, v->a->spec->name, v->a->spec->services[v->service].name,
                     v->probe ? PROBE_ORACLE : s->cfg.oracles[v->oracle].name};
    return k;
}

void sl__svc_drop(sl_sched *s, svc *v)
{
    sl__sched_heap_remove(s, &v->prober);
    v->a->svcs[svc_slot(s, v->a, v->service, v->oracle)] = NULL;
    v->dead = 1;
    if (!v->in_flight)
        svc_free(v);
}

/* The observed service (probe or push) for service i of a as oracle k reads it, made on first
 * use with what the state file kept of it. 0 with *out, SL_ENOMEM, SL_EIO. */
static int svc_get(sl_sched *s, agr *a, uint32_t i, uint32_t k, svc **out, sl_error *err)
{
    size_t slot = svc_slot(s, a, i, k);
    sl__obs_key key;
    svc *v;
    int rc;

    if ((*out = a->svcs[slot]) != NULL)
        return 0;
    if (!(v = calloc(1, sizeof(*v))))
        return sl_error_set(err, SL_ENOMEM, NULL, "out of memory");
    v->a = a;
    v->service = i;
    v->probe = a->spec->services[i].kind == SL_SVC_HTTP;
    v->oracle = v->probe ? 0 : k;
    v->prober.kind = TASK_PROBE;
    v->prober.sched = s;
    v->prober.a = a;
    v->prober.src = v;
    v->prober.heap_pos = SIZE_MAX;
    a->refs++;
    key = svc_key(s, v);
    if ((rc = sl__state_obs_load(s->state, &key, OBS_MAX, &v->obs, &v->n_obs, &v->cap_obs, err))) {
        svc_free(v);
        return rc;
    }
    a->svcs[slot] = *out = v;
    return 0;
}

int sl__svc_attach(sl_sched *s, task *t, sl_error *err)
{
    const sl_objective_spec *o = sl__task_objective(t);
    svc *v;
    int rc = svc_get(s, t->a, o->service, t->oracle, &v, err);

    if (rc)
        return rc;
    if (sl_reserve(&v->users, &v->cap_users, v->n_users + 1, sizeof(*v->users)) != 0)
        return sl_error_set(err, SL_ENOMEM, NULL, "out of memory");
    v->users[v->n_users++] = t;
    t->src = v;
    if (v->period_ms == 0 || o->interval_ms < v->period_ms)
        v->period_ms = o->interval_ms;
    return 0;
}

/* Schedules each probe of a not yet scheduled at a fixed random offset inside the first half
 * of its period, so results are in before the interval closes and thousands of targets do not
 * all fire at once. */
int sl__svc_start_probes(sl_sched *s, agr *a, int64_t now)
{
    for (uint32_t i = 0; i < a->spec->n_services; i++) {
        svc *v = a->svcs[svc_slot(s, a, i, 0)];
        if (!v || !v->probe || v->prober.heap_pos != SIZE_MAX)
            continue;
        v->offset_ms = sl__sched_jitter(v->period_ms / 2);
        if (sl__sched_heap_push(s, &v->prober, sl__align_down(now, v->period_ms) + v->offset_ms) !=
            0)
            return SL_ENOMEM;
    }
    return 0;
}

static int obs_cmp(const void *a, const void *b)
{
    int64_t x = ((const sl_observation *)a)->time_ms, y = ((const sl_observation *)b)->time_ms;
    return (x > y) - (x < y);
}

/* The oldest interval any reader of v still needs. */
static int64_t svc_floor(const svc *v)
{
    int64_t f = INT64_MAX;

    for (size_t i = 0; i < v->n_users; i++) {
        if (v->users[i]->next_ms < f)
            f = v->users[i]->next_ms;
    }
    return f;
}

int sl__svc_prune(sl_sched *s, svc *v, sl_error *err)
{
    sl__obs_key key = svc_key(s, v);

    return v->n_users > 0 ? sl__state_obs_prune(s->state, &key, svc_floor(v), err) : 0;
}

void sl__svc_forget(svc *v)
{
    int64_t f = svc_floor(v);
    size_t k = 0;

    for (size_t i = 0; i < v->n_obs; i++) {
        if (v->obs[i].time_ms >= f)
            v->obs[k++] = v->obs[i];
    }
    v->n_obs = k;
}

int sl__svc_gather(sl_sched *s, task *t, int64_t end)
{
    const sl_objective_spec *o = sl__task_objective(t);
    svc *v = t->src;
    size_t i = 0;
    int rc = 0;

    if (sl_reserve(&s->scratch, &s->cap_scratch, v->n_obs + 1, sizeof(*s->scratch)) != 0)
        return SL_ENOMEM;
    if (v->n_obs > 1)
        qsort(v->obs, v->n_obs, sizeof(*v->obs), obs_cmp);
    while (i < v->n_obs && v->obs[i].time_ms < t->next_ms)
        i++;
    for (int64_t a = t->next_ms; a < end && !rc; a += o->interval_ms) {
        size_t j = i;
        int64_t value;
        char reason[SL_SAMPLE_REASON_CAP] = "no observation";
        while (j < v->n_obs && v->obs[j].time_ms < a + o->interval_ms)
            j++;
        int known =
            j > i && sl__observe_value(o->metric, o->percentile_milli, o->interval_ms, &v->obs[i],
                                       j - i, s->scratch, &value, reason, sizeof(reason));
        if (!known)
            s->stats.unknown++;
        rc = sl__sched_gather(s, t, a, known ? &value : NULL, a + o->interval_ms);
        i = j;
    }
    /* What the readers are done with leaves memory once the flush has written their reports
     * and deleted it from the state file (sl__svc_forget), not before: a flush that fails
     * puts the readers back, and they need the observations again. */
    return rc;
}

/* ---- probes ---- */

static void probe_done(void *arg, const sl_http_req *req, const sl_http_resp *resp)
{
    svc *v = arg;
    sl_sched *s = v->prober.sched;
    sl_probe_result r;

    (void)req;
    pthread_mutex_lock(&s->mu);
    s->stats.probes++;
    if (v->dead) {
        v->in_flight = 0;
        svc_free(v);
    } else {
        sl_probe_judge(&v->a->spec->services[v->service], resp, sl__sched_now(s), &r);
        s->stats.probes_down += !r.up;
        if (!r.up) {
            char at[40];
            sl_time_format(v->probe_time, at, sizeof(at));
            sl__sched_svc_say(s, v, 0, "probe at %s: down: %s", at, r.reason);
        }
        /* Still in flight for its readers until the round has written it (sl__svc_save_probes).
         * Without memory for the list the result is lost, as it would be without the probe. */
        v->result = (sl_observation){v->probe_time, r.up, r.response_ms, -1, -1};
        if (sl_reserve(&s->unsaved, &s->cap_unsaved, s->n_unsaved + 1, sizeof(*s->unsaved)) == 0)
            s->unsaved[s->n_unsaved++] = v;
        else
            v->in_flight = 0;
    }
    pthread_mutex_unlock(&s->mu);
}

/* Writes the results of the finished probes of s->unsaved (live services only). */
static int save_results(sl_sched *s, sl_error *err)
{
    int rc = sl__state_begin(s->state, err);

    for (size_t i = 0; i < s->n_unsaved && !rc; i++) {
        svc *v = s->unsaved[i];
        sl__obs_key key = svc_key(s, v);
        if (!v->dead)
            rc = sl__state_obs_add(s->state, &key, &v->result, 1, err);
    }
    if (!rc)
        return sl__state_commit(s->state, err);
    sl__state_rollback(s->state);
    return rc;
}

void sl__svc_save_probes(sl_sched *s)
{
    sl_error err = {0};
    size_t k = 0;
    int rc;

    if (s->n_unsaved == 0)
        return;
    rc = save_results(s, &err);
    if (rc)
        sl__sched_say(s, 3,
                      "oracle scheduler: cannot record %zu probe result%s (kept; readers wait): %s",
                      s->n_unsaved, s->n_unsaved == 1 ? "" : "s", err.msg);
    for (size_t i = 0; i < s->n_unsaved; i++) {
        svc *v = s->unsaved[i];
        if (v->dead) {
            v->in_flight = 0;
            svc_free(v);
        } else if (rc) {
            s->unsaved[k++] = v;
        } else {
            v->in_flight = 0;
            if (v->n_obs < OBS_MAX &&
                sl_reserve(&v->obs, &v->cap_obs, v->n_obs + 1, sizeof(*v->obs)) == 0)
                v->obs[v->n_obs++] = v->result;
        }
    }
    s->n_unsaved = k;
}

void sl__svc_probe_run(sl_sched *s, svc *v, int64_t now)
{
    int64_t due = v->prober.due_ms, next = due + v->period_ms;
    sl_http_req req;
    sl_error err = {0};

    if (next <= now) /* the node was busy or away: resume at the next period */
        next = sl__align_down(now, v->period_ms) + v->period_ms + v->offset_ms;
    sl_http_req_init(&req);
    if (v->in_flight) {
        sl__sched_svc_say(s, v, 1, "probe still running after a period; skipped one");
    } else if (sl_probe_request(&v->a->spec->services[v->service], &req, &err) != 0) {
        sl__sched_svc_say(s, v, 3, "cannot probe: %s", err.msg);
    } else {
        int64_t period_wall = v->period_ms / (int64_t)s->cfg.speed;
        if (period_wall < 1)
            period_wall = 1;
        if (req.timeout_ms <= 0 || req.timeout_ms > period_wall)
            req.timeout_ms = period_wall; /* a probe never outlives its period */
        v->probe_time = due;
        if (sl_fetch_add(s->fetch, &req, probe_done, v) == 0)
            v->in_flight = 1;
    }
    sl_http_req_release(&req);
    if (sl__sched_heap_push(s, &v->prober, next) != 0)
        sl__sched_say(s, 3, "oracle scheduler: out of memory");
}

/* ---- pushes ---- */

/* The local oracle that is (org, name), or -1. */
static int pushing_oracle(const sl_sched *s, const char *org, const char *name)
{
    for (size_t i = 0; i < s->cfg.n_oracles; i++) {
        const sl_sched_oracle *o = &s->cfg.oracles[i];
        if (strcmp(o->name, name) == 0 && strcmp(o->cert->org, org) == 0)
            return (int)i;
    }
    return -1;
}

/* The pushed service to->service of a (NULL: not active) as oracle k (-1: not local) reads
 * it: 0 with *out, or SL_EPERM, SL_ENOENT. */
static int push_target(const sl_sched *s, const agr *a, const sl_sched_push *to, int k, svc **out,
                       sl_error *err)
{
    int others = 0;

    *out = NULL;
    for (uint32_t i = 0; a && k >= 0 && i < a->spec->n_services; i++) {
        if (a->spec->services[i].kind == SL_SVC_HTTP ||
            strcmp(a->spec->services[i].name, to->service) != 0)
            continue;
        if ((*out = a->svcs[svc_slot(s, a, i, (uint32_t)k)]) != NULL)
            return 0;
        for (uint32_t j = 0; j < s->cfg.n_oracles; j++)
            others |= a->svcs[svc_slot(s, a, i, j)] != NULL;
    }
    if (k < 0)
        return sl_error_set(err, SL_EPERM, "token",
                            "'%s' of %s is not an oracle this node holds the key of, so it "
                            "cannot push observations here",
                            to->oracle, to->org);
    if (others)
        return sl_error_set(err, SL_EPERM, "token",
                            "oracle '%s' of %s does not measure %s/%s/%s: only the oracles the "
                            "agreement names for it may push",
                            to->oracle, to->org, to->channel, to->agreement, to->service);
    return sl_error_set(err, SL_ENOENT, "service",
                        "no oracle of this node measures pushed observations of %s/%s/%s",
                        to->channel, to->agreement, to->service);
}

/* Whether every observation may be taken now: 0, or the error for the first that may not. */
static int push_check(const svc *v, const sl_observation *obs, size_t n, int64_t now, sl_error *err)
{
    int64_t floor = svc_floor(v);

    for (size_t i = 0; i < n; i++) {
        if (obs[i].time_ms < 0)
            return sl_error_set(err, SL_EINVAL, "time", "observation %zu: negative time", i);
        if (obs[i].time_ms < floor)
            return sl_error_set(err, SL_ETIME, "time",
                                "observation %zu: its interval was already reported", i);
        if (obs[i].time_ms > now + OBS_AHEAD_MS)
            return sl_error_set(err, SL_ETIME, "time", "observation %zu: in the future", i);
    }
    if (v->n_obs + n > OBS_MAX)
        return sl_error_set(err, SL_EBUSY, "observations",
                            "more than %d observations waiting for this service", OBS_MAX);
    return 0;
}

/* Writes obs[0..n) of v in one SQLite transaction. */
static int push_save(sl_sched *s, const svc *v, const sl_observation *obs, size_t n, sl_error *err)
{
    sl__obs_key key = svc_key(s, v);
    int rc = sl__state_begin(s->state, err);

    if (!rc && !(rc = sl__state_obs_add(s->state, &key, obs, n, err)))
        return sl__state_commit(s->state, err);
    sl__state_rollback(s->state);
    return rc;
}

int sl_sched_observe(sl_sched *s, const sl_sched_push *to, const sl_observation *obs, size_t n,
                     sl_error *err)
{
    int64_t now = sl__sched_now(s);
    svc *v;
    int rc;

    pthread_mutex_lock(&s->mu);
    rc = push_target(s, sl__sched_agr_find(s, to->channel, to->agreement), to,
                     pushing_oracle(s, to->org, to->oracle), &v, err);
    if (!rc && (rc = push_check(v, obs, n, now, err)) == 0 &&
        sl_reserve(&v->obs, &v->cap_obs, v->n_obs + n, sizeof(*v->obs)) != 0)
        rc = sl_error_set(err, SL_ENOMEM, NULL, "out of memory");
    /* Durable before it is acknowledged: the 202 promises the interval will be reported. */
    if (!rc && (rc = push_save(s, v, obs, n, err)) == 0) {
        memcpy(v->obs + v->n_obs, obs, n * sizeof(*obs));
        v->n_obs += n;
    }
    pthread_mutex_unlock(&s->mu);
    return rc;
}
