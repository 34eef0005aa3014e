/*
 * sched_obs.c: the scheduler's observed services: http services it probes and push or
 * process-step services agents push observations to. A service (`svc`) holds the observations
 * not yet turned into reports; its report tasks (`users`) read them when their intervals close,
 * and observations no reader needs any more are forgotten.
 *
 * Probes run once per period of the shortest interval of the service's objectives, at a fixed
 * random offset in the first half of the period; a probe's result is the observation of the
 * moment the probe was due. Thread-safety: everything here runs with the scheduler's mutex
 * held (probe_done and sl_sched_observe take it).
 */
#include <stdlib.h>
#include <string.h>

#include "oracle/sched_int.h"

static void svc_free(svc *v)
{
    agr *a = v->a;

    free(v->users);
    free(v->obs);
    free(v);
    sl__agr_unref(a);
}

void sl__svc_drop(sl_sched *s, svc *v)
{
    sl__sched_heap_remove(s, &v->prober);
    v->a->svcs[v->service] = NULL;
    v->dead = 1;
    if (!v->in_flight)
        svc_free(v);
}

/* The observed service (probe or push) for service i of a, made on first use; NULL (ENOMEM). */
static svc *svc_get(sl_sched *s, agr *a, uint32_t i)
{
    svc *v;

    if (a->svcs[i])
        return a->svcs[i];
    if (!(v = calloc(1, sizeof(*v))))
        return NULL;
    v->a = a;
    v->service = i;
    v->probe = a->spec->services[i].kind == SL_SVC_HTTP;
    v->prober.kind = TASK_PROBE;
    v->prober.sched = s;
    v->prober.a = a;
    v->prober.src = v;
    v->prober.heap_pos = SIZE_MAX;
    a->refs++;
    a->svcs[i] = v;
    return v;
}

/* The first interval of o still reportable at now: its end + grace lies ahead by a margin
 * that leaves time to measure and order it. */

int sl__svc_attach(sl_sched *s, task *t)
{
    const sl_objective_spec *o = sl__task_objective(t);
    svc *v = svc_get(s, t->a, o->service);

    if (!v || sl_reserve(&v->users, &v->cap_users, v->n_users + 1, sizeof(*v->users)) != 0)
        return SL_ENOMEM;
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
    for (size_t i = 0; i < a->spec->n_services; i++) {
        svc *v = a->svcs[i];
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

/* Forgets observations no reader needs any more. */
static void svc_prune(svc *v)
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
    svc_prune(v);
    return rc;
}

static void probe_done(void *arg, const sl_http_req *req, const sl_http_resp *resp)
{
    svc *v = arg;
    sl_sched *s = v->prober.sched;
    sl_probe_result r;

    (void)req;
    pthread_mutex_lock(&s->mu);
    v->in_flight = 0;
    s->stats.probes++;
    if (v->dead) {
        svc_free(v);
    } else {
        sl_probe_judge(&v->a->spec->services[v->service], resp, sl__sched_now(s), &r);
        s->stats.probes_down += !r.up;
        if (!r.up)
            sl__sched_say(s, 0, "%s/%s: probe of %s at %lld: down: %s", v->a->channel,
                          v->a->spec->name, v->a->spec->services[v->service].name,
                          (long long)v->probe_time, r.reason);
        sl_observation o = {v->probe_time, r.up, r.response_ms, -1, -1};
        if (v->n_obs < OBS_MAX &&
            sl_reserve(&v->obs, &v->cap_obs, v->n_obs + 1, sizeof(*v->obs)) == 0)
            v->obs[v->n_obs++] = o;
    }
    pthread_mutex_unlock(&s->mu);
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
        sl__sched_say(s, 1, "%s/%s: probe of %s still running after a period; skipped one",
                      v->a->channel, v->a->spec->name, v->a->spec->services[v->service].name);
    } else if (sl_probe_request(&v->a->spec->services[v->service], &req, &err) != 0) {
        sl__sched_say(s, 3, "%s/%s: cannot probe %s: %s", v->a->channel, v->a->spec->name,
                      v->a->spec->services[v->service].name, err.msg);
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

int sl_sched_observe(sl_sched *s, const char *channel, const char *agreement, const char *service,
                     const sl_observation *obs, size_t n, sl_error *err)
{
    svc *v = NULL;
    int64_t now = sl__sched_now(s), floor;
    int rc = 0;

    pthread_mutex_lock(&s->mu);
    agr *a = sl__sched_agr_find(s, channel, agreement);
    for (size_t i = 0; a && !v && i < a->spec->n_services; i++) {
        if (a->svcs[i] && !a->svcs[i]->probe && strcmp(a->spec->services[i].name, service) == 0)
            v = a->svcs[i];
    }
    if (!v) {
        rc = sl_error_set(err, SL_ENOENT, "service",
                          "no oracle of this node measures pushed observations of %s/%s/%s",
                          channel, agreement, service);
        goto out;
    }
    floor = svc_floor(v);
    for (size_t i = 0; i < n && !rc; i++) {
        if (obs[i].time_ms < 0)
            rc = sl_error_set(err, SL_EINVAL, "time", "observation %zu: negative time", i);
        else if (obs[i].time_ms < floor)
            rc = sl_error_set(err, SL_ETIME, "time",
                              "observation %zu: its interval was already reported", i);
        else if (obs[i].time_ms > now + OBS_AHEAD_MS)
            rc = sl_error_set(err, SL_ETIME, "time", "observation %zu: in the future", i);
    }
    if (!rc && v->n_obs + n > OBS_MAX)
        rc = sl_error_set(err, SL_EBUSY, "observations",
                          "more than %d observations waiting for this service", OBS_MAX);
    if (!rc && sl_reserve(&v->obs, &v->cap_obs, v->n_obs + n, sizeof(*v->obs)) != 0)
        rc = sl_error_set(err, SL_ENOMEM, NULL, "out of memory");
    if (!rc) {
        memcpy(v->obs + v->n_obs, obs, n * sizeof(*obs));
        v->n_obs += n;
    }
out:
    pthread_mutex_unlock(&s->mu);
    return rc;
}
