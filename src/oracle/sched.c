/*
 * sched.c: the oracle scheduler (see sched.h for what it promises).
 *
 * Structures: `agr` is an active agreement (a copy of its spec); `svc` one of its services
 * that is probed or pushed to, holding the observations not yet turned into reports; `task`
 * one (agreement, objective, local oracle) with its watermark `next_ms`. Tasks sit in a
 * min-heap by the time they are next due, so a round costs O(due log n) however many tasks
 * exist. History measurements and probes run on one sl_fetch; their callbacks run on the
 * scheduler's thread inside sl_fetch_poll.
 *
 * A round: take what is due (probes to start, tasks whose next interval has closed), finish
 * tasks whose values are at hand (observations) or start their measurement (history sources),
 * poll transfers, then flush: every report item gathered this round is signed per (channel,
 * oracle) into one transaction, written with the advanced watermarks to the state file, and
 * submitted. Items of a task are never gathered twice because its watermark moves past them
 * in memory when they are gathered and on disk in the same SQLite transaction that keeps the
 * report in the outbox. sl_sched_measure_now only makes an agreement's tasks due at once and
 * lets that run go up to the latest closed interval (`now_end`) instead of stopping `delay`
 * before now; the watermark rules stay the same.
 *
 * Locking: `mu` guards agreements, services, tasks, the heap and the counters. The scheduler
 * thread holds it except while it waits in sl_fetch_poll; callbacks take it. Objects removed
 * while a transfer of theirs is in flight are only marked dead and freed by that callback.
 */
#include "slaledger/sched.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "oracle/oracle_int.h"
#include "oracle/sched_int.h"
#include "slaledger/oracle.h"
#include "slaledger/tx.h"

#define DEFAULT_DELAY_MS   10000
#define DEFAULT_TIMEOUT_MS 10000
#define DEFAULT_ACTIVE     256
#define DEFAULT_TX_BYTES   (1u << 20) /* a channel's default max_tx_bytes */
#define MAX_BATCH          1000       /* intervals asked of a history source at once */
#define BACKOFF_MIN_MS     1000
#define BACKOFF_MAX_MS     300000
#define TX_LIFETIME_MS     300000 /* a report not in a block by then is void */
#define OUTBOX_EVERY_MS    5000   /* how often the outbox is checked against the ledgers */
#define OBS_AHEAD_MS       5000   /* pushed observations may be this far in the future */
#define OBS_MAX            100000 /* observations kept per service */

typedef struct agr {
    char channel[SL_IDENT_NAME_CAP];
    sl_agreement_spec *spec;
    int live;            /* listed by the last sync of its channel */
    size_t refs;         /* the list's, and one per task and service pointing here */
    struct task **tasks; /* its report tasks */
    size_t n_tasks, cap_tasks;
    struct svc **svcs; /* by service index: the observed ones, NULL for the others */
} agr;

typedef struct task task;

typedef struct svc svc;

enum { TASK_REPORT, TASK_PROBE };

struct task {
    int kind;
    struct sl_sched *sched;
    agr *a;
    uint32_t objective; /* TASK_REPORT */
    uint32_t oracle;    /* index into the config's oracles */
    svc *src;           /* probed or pushed service (the probed one for TASK_PROBE); NULL for
                           history sources */
    int64_t next_ms;    /* first interval not handled */
    int64_t now_end;    /* sl_sched_measure_now: handle up to here without the delay; 0: none */
    int64_t due_ms;
    int64_t backoff_ms;
    size_t heap_pos; /* SIZE_MAX when not in the heap */
    int busy;        /* a measurement in flight */
    int dead;
    sl_measure m;
};

struct svc {
    agr *a;
    uint32_t service;
    int probe;          /* http: probed by this scheduler */
    int64_t period_ms;  /* probe period: the shortest interval of its tasks */
    int64_t offset_ms;  /* where in each period the probe runs (jitter, fixed per service) */
    int64_t probe_time; /* when the probe in flight was due: its observation's time */
    int in_flight;
    int dead;
    task prober;  /* TASK_PROBE: in the heap at next_probe */
    task **users; /* the report tasks reading these observations */
    size_t n_users, cap_users;
    sl_observation *obs;
    size_t n_obs, cap_obs;
};

/* One report item gathered this round, and the watermark it advances. */
typedef struct ready {
    task *t;
    int64_t prev_ms; /* the task's watermark before this entry */
    int64_t next_ms; /* ... and once this round is flushed */
    int has_item;
    sl_tx_item item;
} ready;

struct sl_sched {
    sl_sched_config cfg;
    sl__state *state;
    sl_fetch *fetch;
    sl_token_cache *tokens;
    pthread_mutex_t mu;
    agr **agrs;
    size_t n_agrs, cap_agrs;
    task **heap;
    size_t n_heap, cap_heap;
    size_t n_tasks; /* report tasks */
    ready *ready;
    size_t n_ready, cap_ready;
    int64_t *scratch;
    size_t cap_scratch;
    int64_t next_outbox;
    size_t item_budget; /* bytes of items per report: max_tx_bytes less the envelope */
    sl_sched_stats stats;
    pthread_t thread;
    int running;
    int stop;    /* atomic */
    int refresh; /* atomic: call cfg.refresh at the next round */
};

/* ---- small helpers ---- */

static int64_t now_ms(const sl_sched *s)
{
    return s->cfg.clock ? s->cfg.clock(s->cfg.arg) : sl__wall_ms();
}

static void say(sl_sched *s, int level, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void say(sl_sched *s, int level, const char *fmt, ...)
{
    char msg[512];
    va_list ap;

    if (!s->cfg.log)
        return;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    s->cfg.log(s->cfg.arg, level, msg);
}

static int64_t align_down(int64_t t, int64_t step)
{
    return t - sl_floormod(t, step);
}

/* A uniformly random integer in [0, n) (n > 0, below 2^32). */
static int64_t jitter(int64_t n)
{
    return n > 1 ? (int64_t)randombytes_uniform((uint32_t)(n > UINT32_MAX ? UINT32_MAX : n)) : 0;
}

static const sl_objective_spec *objective_of(const task *t)
{
    return &t->a->spec->objectives[t->objective];
}

static sl__task_key task_key(const sl_sched *s, const task *t)
{
    sl__task_key k = {t->a->channel, t->a->spec->name, objective_of(t)->name,
                      s->cfg.oracles[t->oracle].name};
    return k;
}

/* ---- the heap of tasks by due time ---- */

static void heap_swap(sl_sched *s, size_t i, size_t j)
{
    task *x = s->heap[i];

    s->heap[i] = s->heap[j];
    s->heap[j] = x;
    s->heap[i]->heap_pos = i;
    s->heap[j]->heap_pos = j;
}

static void heap_up(sl_sched *s, size_t i)
{
    while (i > 0 && s->heap[(i - 1) / 2]->due_ms > s->heap[i]->due_ms) {
        heap_swap(s, i, (i - 1) / 2);
        i = (i - 1) / 2;
    }
}

static void heap_down(sl_sched *s, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < s->n_heap && s->heap[l]->due_ms < s->heap[m]->due_ms)
            m = l;
        if (r < s->n_heap && s->heap[r]->due_ms < s->heap[m]->due_ms)
            m = r;
        if (m == i)
            return;
        heap_swap(s, i, m);
        i = m;
    }
}

/* Puts t in the heap at due (it must not be in it). */
static int heap_push(sl_sched *s, task *t, int64_t due)
{
    if (sl_reserve(&s->heap, &s->cap_heap, s->n_heap + 1, sizeof(*s->heap)) != 0)
        return SL_ENOMEM;
    t->due_ms = due;
    t->heap_pos = s->n_heap;
    s->heap[s->n_heap++] = t;
    heap_up(s, t->heap_pos);
    return 0;
}

static void heap_remove(sl_sched *s, task *t)
{
    size_t i = t->heap_pos;

    if (i == SIZE_MAX)
        return;
    heap_swap(s, i, --s->n_heap);
    t->heap_pos = SIZE_MAX;
    if (i < s->n_heap) {
        heap_up(s, i);
        heap_down(s, i);
    }
}

/* ---- agreements, services and tasks ---- */

/* Drops one reference; the last frees the agreement (it has left the list by then). */
static void agr_unref(agr *a)
{
    if (--a->refs > 0)
        return;
    sl_agreement_spec_free(a->spec);
    free(a->tasks);
    free(a->svcs);
    free(a);
}

static void svc_free(svc *v)
{
    agr *a = v->a;

    free(v->users);
    free(v->obs);
    free(v);
    agr_unref(a);
}

static void task_free(task *t)
{
    agr *a = t->a;

    sl_measure_release(&t->m);
    free(t);
    agr_unref(a);
}

static void ptr_remove(void *arr, size_t *n, const void *p)
{
    void **v = arr;

    for (size_t i = 0; i < *n; i++) {
        if (v[i] == p) {
            v[i] = v[--*n];
            return;
        }
    }
}

/* Removes a report task; freed now, or by its callback when a measurement is in flight. */
static void task_drop(sl_sched *s, task *t)
{
    heap_remove(s, t);
    ptr_remove(t->a->tasks, &t->a->n_tasks, t);
    s->n_tasks--;
    if (t->src)
        ptr_remove(t->src->users, &t->src->n_users, t);
    s->stats.tasks = s->n_tasks;
    t->dead = 1;
    if (!t->busy)
        task_free(t);
}

static void svc_drop(sl_sched *s, svc *v)
{
    heap_remove(s, &v->prober);
    v->a->svcs[v->service] = NULL;
    v->dead = 1;
    if (!v->in_flight)
        svc_free(v);
}

static int local_oracle(const sl_sched *s, const char *name)
{
    for (size_t i = 0; i < s->cfg.n_oracles; i++) {
        if (strcmp(s->cfg.oracles[i].name, name) == 0)
            return (int)i;
    }
    return -1;
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
static int64_t first_reportable(const sl_sched *s, const agr *a, const sl_objective_spec *o,
                                int64_t now)
{
    int64_t margin = s->cfg.timeout_ms + 2000;
    int64_t t = align_down(now + margin - a->spec->grace_ms, o->interval_ms);

    return t > a->spec->start_ms ? t : a->spec->start_ms;
}

/* The next time report task t has work: the close of its next interval plus the delay. */
static int64_t task_due(const sl_sched *s, const task *t)
{
    return t->next_ms + objective_of(t)->interval_ms + s->cfg.delay_ms;
}

/* Whether this node's oracles can measure objective o at all (logged once when not). */
static int measurable(sl_sched *s, const agr *a, const sl_objective_spec *o)
{
    const sl_service_spec *sv = &a->spec->services[o->service];
    int history =
        sv->kind == SL_SVC_AWS_EC2 || sv->kind == SL_SVC_AZURE_VM || sv->kind == SL_SVC_PROMETHEUS;

    if ((history && !sl_metric_is_check(o->metric)) || sl__observe_can(sv->kind, o->metric))
        return 1;
    say(s, 2, "%s/%s: objective %s (%s of a %s service) is not measured by this node's oracles",
        a->channel, a->spec->name, o->name, sl_metric_name(o->metric),
        sl_service_kind_name(sv->kind));
    return 0;
}

/* Links t to the observed service it reads (probe or push), widening the probe schedule. */
static int task_observe(sl_sched *s, task *t)
{
    const sl_objective_spec *o = objective_of(t);
    svc *v = svc_get(s, t->a, o->service);

    if (!v || sl_reserve(&v->users, &v->cap_users, v->n_users + 1, sizeof(*v->users)) != 0)
        return SL_ENOMEM;
    v->users[v->n_users++] = t;
    t->src = v;
    if (v->period_ms == 0 || o->interval_ms < v->period_ms)
        v->period_ms = o->interval_ms;
    return 0;
}

static int task_add(sl_sched *s, agr *a, uint32_t o, uint32_t oracle, sl_error *err)
{
    const sl_objective_spec *obj = &a->spec->objectives[o];
    sl_service_kind kind = a->spec->services[obj->service].kind;
    task *t;
    sl__task_key k;
    int rc;

    if (!measurable(s, a, obj))
        return 0;
    if (sl_reserve(&a->tasks, &a->cap_tasks, a->n_tasks + 1, sizeof(*a->tasks)) != 0 ||
        !(t = calloc(1, sizeof(*t))))
        return sl_error_set(err, SL_ENOMEM, NULL, "out of memory");
    t->kind = TASK_REPORT;
    t->sched = s;
    t->a = a;
    a->refs++;
    t->objective = o;
    t->oracle = oracle;
    t->heap_pos = SIZE_MAX;
    k = task_key(s, t);
    rc = sl__state_watermark(s->state, &k, &t->next_ms, err);
    if (rc == SL_ENOENT)
        t->next_ms = a->spec->start_ms;
    else if (rc)
        goto fail;
    if ((kind == SL_SVC_HTTP || kind == SL_SVC_PUSH || kind == SL_SVC_PROCESS_STEP) &&
        (rc = task_observe(s, t)) != 0)
        goto fail;
    if ((rc = heap_push(s, t, task_due(s, t))) != 0) {
        if (t->src)
            ptr_remove(t->src->users, &t->src->n_users, t);
        goto fail;
    }
    a->tasks[a->n_tasks++] = t;
    s->stats.tasks = ++s->n_tasks;
    return 0;
fail:
    task_free(t);
    return rc == SL_ENOMEM ? sl_error_set(err, rc, NULL, "out of memory") : rc;
}

/* Makes the tasks of a newly active agreement, and schedules its probes: each at a fixed
 * random offset inside the first half of its period, so results are in before the interval
 * closes and thousands of targets do not all fire at once. */
static int agr_tasks(sl_sched *s, agr *a, int64_t now, sl_error *err)
{
    const sl_agreement_spec *sp = a->spec;
    int rc = 0;

    for (size_t o = 0; o < sp->n_objectives && !rc; o++) {
        for (size_t i = 0; i < sp->n_oracles && !rc; i++) {
            int k = local_oracle(s, sp->oracles[i]);
            if (k >= 0 && (sp->objectives[o].oracle_mask >> i & 1))
                rc = task_add(s, a, (uint32_t)o, (uint32_t)k, err);
        }
    }
    for (size_t i = 0; i < sp->n_services && !rc; i++) {
        svc *v = a->svcs[i];
        if (!v || !v->probe || v->prober.heap_pos != SIZE_MAX)
            continue;
        v->offset_ms = jitter(v->period_ms / 2);
        if (heap_push(s, &v->prober, align_down(now, v->period_ms) + v->offset_ms) != 0)
            rc = sl_error_set(err, SL_ENOMEM, NULL, "out of memory");
    }
    return rc;
}

static agr *agr_find(const sl_sched *s, const char *channel, const char *name)
{
    for (size_t i = 0; i < s->n_agrs; i++) {
        if (strcmp(s->agrs[i]->channel, channel) == 0 && strcmp(s->agrs[i]->spec->name, name) == 0)
            return s->agrs[i];
    }
    return NULL;
}

/* Takes an agreement that is no longer active out of the list, with its tasks and services. */
static void agr_retire(sl_sched *s, size_t idx)
{
    agr *a = s->agrs[idx];

    s->agrs[idx] = s->agrs[--s->n_agrs];
    for (size_t i = a->n_tasks; i-- > 0;)
        task_drop(s, a->tasks[i]);
    for (size_t i = 0; i < a->spec->n_services; i++) {
        if (a->svcs[i])
            svc_drop(s, a->svcs[i]);
    }
    agr_unref(a); /* the list's reference */
}

static int agr_add(sl_sched *s, const char *channel, const sl_agreement_spec *spec, int64_t now,
                   sl_error *err)
{
    agr *a;
    int rc;

    if (sl_reserve(&s->agrs, &s->cap_agrs, s->n_agrs + 1, sizeof(*s->agrs)) != 0 ||
        !(a = calloc(1, sizeof(*a))))
        return sl_error_set(err, SL_ENOMEM, NULL, "out of memory");
    if (sl_agreement_spec_dup(spec, &a->spec) != 0 ||
        !(a->svcs = calloc(spec->n_services, sizeof(*a->svcs)))) {
        sl_agreement_spec_free(a->spec);
        free(a);
        return sl_error_set(err, SL_ENOMEM, NULL, "out of memory");
    }
    sl_strfmt(a->channel, sizeof(a->channel), "%s", channel);
    a->live = 1;
    a->refs = 1;
    s->agrs[s->n_agrs++] = a;
    if ((rc = agr_tasks(s, a, now, err)) != 0)
        agr_retire(s, s->n_agrs - 1);
    return rc;
}

int sl_sched_sync(sl_sched *s, const char *channel, const sl_agreement_spec *const *specs, size_t n)
{
    sl_error err = {0};
    int64_t now = now_ms(s);
    int rc = 0;

    pthread_mutex_lock(&s->mu);
    for (size_t i = 0; i < s->n_agrs; i++) {
        if (strcmp(s->agrs[i]->channel, channel) == 0)
            s->agrs[i]->live = 0;
    }
    for (size_t i = 0; i < n && !rc; i++) {
        agr *a = agr_find(s, channel, specs[i]->name);
        if (a)
            a->live = 1;
        else
            rc = agr_add(s, channel, specs[i], now, &err);
    }
    for (size_t i = s->n_agrs; i-- > 0;) {
        if (!s->agrs[i]->live && strcmp(s->agrs[i]->channel, channel) == 0)
            agr_retire(s, i);
    }
    pthread_mutex_unlock(&s->mu);
    sl_fetch_wakeup(s->fetch);
    if (rc)
        say(s, 3, "oracle scheduler: %s", err.msg[0] ? err.msg : sl_strerror(rc));
    return rc;
}

/* ---- gathering report items ---- */

/* Records that task t handled the intervals up to next_ms, with one report item when value is
 * not NULL (of the interval starting at start). */
static int gather(sl_sched *s, task *t, int64_t start, const int64_t *value, int64_t next_ms)
{
    ready *r;

    if (sl_reserve(&s->ready, &s->cap_ready, s->n_ready + 1, sizeof(*s->ready)) != 0)
        return SL_ENOMEM;
    r = &s->ready[s->n_ready++];
    memset(r, 0, sizeof(*r));
    r->t = t;
    r->prev_ms = t->next_ms;
    r->next_ms = next_ms;
    if (value) {
        const sl_objective_spec *o = objective_of(t);
        r->has_item = 1;
        sl_strfmt(r->item.agreement, sizeof(r->item.agreement), "%s", t->a->spec->name);
        sl_strfmt(r->item.objective, sizeof(r->item.objective), "%s", o->name);
        r->item.start_ms = start;
        r->item.end_ms = start + o->interval_ms;
        r->item.value = *value;
        s->stats.reported++;
    }
    t->next_ms = next_ms;
    return 0;
}

/* Turns the samples of a finished history measurement into items. */
static int gather_samples(sl_sched *s, task *t, const sl_measure *m)
{
    int64_t step = objective_of(t)->interval_ms;
    int rc = 0;

    for (size_t i = 0; i < m->n && !rc; i++) {
        const sl_sample *x = &m->samples[i];
        if (x->known && x->start_ms + step + t->a->spec->grace_ms <= now_ms(s)) {
            /* measured, but only after its deadline (retries took that long) */
            s->stats.missed++;
            rc = gather(s, t, x->start_ms, NULL, x->start_ms + step);
            continue;
        }
        if (!x->known && x->start_ms + step + s->cfg.delay_ms > now_ms(s))
            break; /* asked early (sl_sched_measure_now): the source may still publish it */
        if (!x->known) {
            s->stats.unknown++;
            say(s, 0, "%s/%s/%s: %s interval at %lld unknown: %s", t->a->channel, t->a->spec->name,
                objective_of(t)->name, s->cfg.oracles[t->oracle].name, (long long)x->start_ms,
                x->reason);
        }
        rc = gather(s, t, x->start_ms, x->known ? &x->value : NULL, x->start_ms + step);
    }
    return rc;
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

/* Values of the closed intervals [t->next_ms, end) from the observations of t's service. */
static int gather_observed(sl_sched *s, task *t, int64_t end)
{
    const sl_objective_spec *o = objective_of(t);
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
        rc = gather(s, t, a, known ? &value : NULL, a + o->interval_ms);
        i = j;
    }
    svc_prune(v);
    return rc;
}

/* ---- history measurements ---- */

static void measure_done(void *arg, const sl_http_req *req, const sl_http_resp *resp);

/* Ends t's measurement: its samples become items (rc 0), or the range is tried again after a
 * backoff with jitter (the deadline check of the next run drops what became too late). */
static void measure_end(sl_sched *s, task *t, int rc, const sl_error *err)
{
    int64_t due;

    t->busy = 0;
    if (rc == 0) {
        t->backoff_ms = 0;
        if (gather_samples(s, t, &t->m) != 0)
            say(s, 3, "oracle scheduler: out of memory");
        due = task_due(s, t);
    } else {
        s->stats.failures++;
        t->backoff_ms = t->backoff_ms ? t->backoff_ms * 2 : BACKOFF_MIN_MS;
        if (t->backoff_ms > BACKOFF_MAX_MS)
            t->backoff_ms = BACKOFF_MAX_MS;
        due = now_ms(s) + t->backoff_ms + jitter(t->backoff_ms / 5 + 1);
        say(s, 2, "%s/%s/%s: oracle %s: %s; retrying in %lld s", t->a->channel, t->a->spec->name,
            objective_of(t)->name, s->cfg.oracles[t->oracle].name,
            err->msg[0] ? err->msg : sl_strerror(rc), (long long)((due - now_ms(s)) / 1000));
    }
    sl_measure_release(&t->m);
    if (heap_push(s, t, due) != 0)
        say(s, 3, "oracle scheduler: out of memory");
}

/* Sends the next request of t's measurement, or ends it. */
static void measure_step(sl_sched *s, task *t)
{
    sl_http_req req;
    sl_error err = {0};
    int rc;

    sl_http_req_init(&req);
    t->m.q.now_ms = now_ms(s);
    rc = sl_measure_next(&t->m, &req, &err);
    if (rc == SL_EINVAL && t->m.pages == 0 && !t->m.retried) {
        /* The source cannot be asked this at all (wrong metric, period, settings): say so
         * once and leave the task idle rather than retry what can never work. */
        say(s, 3, "%s/%s/%s: oracle %s cannot measure it: %s", t->a->channel, t->a->spec->name,
            objective_of(t)->name, s->cfg.oracles[t->oracle].name, err.msg);
        sl_http_req_release(&req);
        sl_measure_release(&t->m);
        t->busy = 0;
        return;
    }
    if (rc == 1) {
        req.timeout_ms = s->cfg.timeout_ms;
        if (sl_fetch_add(s->fetch, &req, measure_done, t) == 0)
            return;
        sl_http_req_release(&req);
        rc = sl_error_set(&err, SL_ENOMEM, NULL, "out of memory");
    }
    sl_http_req_release(&req);
    measure_end(s, t, rc, &err);
}

static void measure_done(void *arg, const sl_http_req *req, const sl_http_resp *resp)
{
    task *t = arg;
    sl_sched *s = t->sched;
    sl_error err = {0};
    int rc;

    (void)req;
    pthread_mutex_lock(&s->mu);
    s->stats.requests++;
    if (t->dead) {
        t->busy = 0;
        task_free(t);
    } else {
        t->m.q.now_ms = now_ms(s);
        rc = sl_measure_feed(&t->m, resp, &err);
        if (rc)
            measure_end(s, t, rc, &err);
        else
            measure_step(s, t);
    }
    pthread_mutex_unlock(&s->mu);
}

/* Starts measuring t's closed intervals [t->next_ms, end) from its history source. */
static void measure_start(sl_sched *s, task *t, int64_t end, int64_t now)
{
    const sl_objective_spec *o = objective_of(t);
    const sl_service_spec *sv = &t->a->spec->services[o->service];
    const char *cred = sl_source_get(sv, "credentials");
    sl_source_query q = {sv, o, NULL, t->next_ms, end, now};
    sl_error err = {0};
    int rc;

    if (end - t->next_ms > (int64_t)MAX_BATCH * o->interval_ms)
        q.to_ms = t->next_ms + (int64_t)MAX_BATCH * o->interval_ms;
    if (cred && !(q.credential =
                      sl_secrets_find_for(s->cfg.secrets, cred, s->cfg.oracles[t->oracle].name))) {
        measure_end(s, t,
                    sl_error_set(&err, SL_ENOENT, "credentials",
                                 "credential '%s' is not in this node's secrets file", cred),
                    &err);
        return;
    }
    if ((rc = sl_measure_init(&t->m, &q, s->tokens, &err)) != 0) {
        measure_end(s, t, rc, &err);
        return;
    }
    t->busy = 1;
    measure_step(s, t);
}

/* ---- running what is due ---- */

/* A report task's turn: skip what is past its deadline, then handle the closed intervals. */
static void task_run(sl_sched *s, task *t, int64_t now)
{
    const sl_objective_spec *o = objective_of(t);
    const sl_agreement_spec *sp = t->a->spec;
    int64_t end = align_down(now - s->cfg.delay_ms, o->interval_ms);
    int64_t first = first_reportable(s, t->a, o, now);
    int64_t due;

    if (t->now_end > end)
        end = t->now_end;
    if (end > sp->end_ms)
        end = sp->end_ms;
    if (t->next_ms < first) {
        int64_t n = (first - t->next_ms) / o->interval_ms;
        s->stats.missed += (uint64_t)n;
        say(s, 2,
            "%s/%s/%s: oracle %s: %lld interval%s past the deadline before this node "
            "measured them; they stay unknown",
            t->a->channel, sp->name, o->name, s->cfg.oracles[t->oracle].name, (long long)n,
            n == 1 ? "" : "s");
        if (gather(s, t, 0, NULL, first) != 0)
            say(s, 3, "oracle scheduler: out of memory");
    }
    if (t->next_ms >= sp->end_ms)
        return; /* the period is over: the task has nothing left to do */
    if (t->next_ms < end && !t->src) {
        t->now_end = 0;
        measure_start(s, t, end, now);
        return;
    }
    if (t->src && t->src->in_flight && t->src->probe_time < end)
        end = align_down(t->src->probe_time, o->interval_ms); /* wait for that probe */
    if (t->next_ms < end && gather_observed(s, t, end) != 0)
        say(s, 3, "oracle scheduler: out of memory");
    if (t->next_ms >= t->now_end)
        t->now_end = 0;
    /* Waiting for a probe in flight: look again shortly rather than spin. */
    due = t->now_end ? now : task_due(s, t);
    if (heap_push(s, t, due > now ? due : now + 100) != 0)
        say(s, 3, "oracle scheduler: out of memory");
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
        sl_probe_judge(&v->a->spec->services[v->service], resp, now_ms(s), &r);
        s->stats.probes_down += !r.up;
        if (!r.up)
            say(s, 0, "%s/%s: probe of %s at %lld: down: %s", v->a->channel, v->a->spec->name,
                v->a->spec->services[v->service].name, (long long)v->probe_time, r.reason);
        sl_observation o = {v->probe_time, r.up, r.response_ms, -1, -1};
        if (v->n_obs < OBS_MAX &&
            sl_reserve(&v->obs, &v->cap_obs, v->n_obs + 1, sizeof(*v->obs)) == 0)
            v->obs[v->n_obs++] = o;
    }
    pthread_mutex_unlock(&s->mu);
}

/* A probed service's turn: start this period's probe, schedule the next. */
static void probe_run(sl_sched *s, svc *v, int64_t now)
{
    int64_t due = v->prober.due_ms, next = due + v->period_ms;
    sl_http_req req;
    sl_error err = {0};

    if (next <= now) /* the node was busy or away: resume at the next period */
        next = align_down(now, v->period_ms) + v->period_ms + v->offset_ms;
    sl_http_req_init(&req);
    if (v->in_flight) {
        say(s, 1, "%s/%s: probe of %s still running after a period; skipped one", v->a->channel,
            v->a->spec->name, v->a->spec->services[v->service].name);
    } else if (sl_probe_request(&v->a->spec->services[v->service], &req, &err) != 0) {
        say(s, 3, "%s/%s: cannot probe %s: %s", v->a->channel, v->a->spec->name,
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
    if (heap_push(s, &v->prober, next) != 0)
        say(s, 3, "oracle scheduler: out of memory");
}

/* ---- signing, persisting and submitting what was gathered ---- */

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

/* A signed report of items[0..n) by oracle k on channel, appended to out (with its id). */
static int sign_report(sl_sched *s, const char *channel, uint32_t k, sl_tx_item *items, size_t n,
                       int64_t now, sl_buf *out, sl_error *err)
{
    sl_tx t;

    memset(&t, 0, sizeof(t));
    t.type = SL_TX_REPORT;
    sl_strfmt(t.channel, sizeof(t.channel), "%s", channel);
    randombytes_buf(&t.nonce, sizeof(t.nonce));
    t.expires_ms = now + TX_LIFETIME_MS;
    t.cert = *s->cfg.oracles[k].cert;
    t.items = items;
    t.n_items = n;
    return sl_tx_sign(&t, s->cfg.oracles[k].key, out, err);
}

/* Signs items[0..n) into one report, kept in the outbox and appended to txs as a (u32 length,
 * bytes) record. */
static int sign_one(sl_sched *s, const task *t0, sl_tx_item *items, size_t n, int64_t now,
                    sl_buf *tx, sl_buf *txs, sl_error *err)
{
    uint8_t id[SL_HASH_LEN];
    int rc;

    sl_buf_reset(tx);
    rc = sign_report(s, t0->a->channel, t0->oracle, items, n, now, tx, err);
    if (!rc) {
        sl_sha256(tx->p, tx->len, id);
        rc = sl__state_outbox_add(s->state, id, t0->a->channel, now + TX_LIFETIME_MS, tx->p,
                                  tx->len, err);
    }
    sl_buf_put_u32(txs, (uint32_t)tx->len);
    sl_buf_put(txs, tx->p, tx->len);
    return rc;
}

/* Signs the items of ready[from, to) (one channel and oracle) into reports of at most
 * SL_TX_MAX_ITEMS items and the configured size. */
static int sign_group(sl_sched *s, size_t from, size_t to, int64_t now, sl_buf *txs, sl_error *err)
{
    const task *t0 = s->ready[from].t;
    sl_tx_item *items = calloc(to - from, sizeof(*items));
    sl_buf tx;
    size_t n = 0, bytes = 0;
    int rc = 0;

    if (!items)
        return sl_error_set(err, SL_ENOMEM, NULL, "out of memory");
    sl_buf_init(&tx);
    for (size_t i = from; i <= to && !rc; i++) {
        const sl_tx_item *it = i < to && s->ready[i].has_item ? &s->ready[i].item : NULL;
        /* as tx.c encodes an item: two u32-prefixed names and three i64 */
        size_t size = it ? 8 + strlen(it->agreement) + strlen(it->objective) + 24 : 0;
        if (n > 0 && (!it || n == SL_TX_MAX_ITEMS || bytes + size > s->item_budget)) {
            rc = sign_one(s, t0, items, n, now, &tx, txs, err);
            n = 0;
            bytes = 0;
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
        if (s->cfg.submit(s->cfg.arg, d->tx.channel, p, len, &err) != 0)
            say(s, 2,
                "%s: report of %zu interval%s not accepted for ordering yet (%s); "
                "kept in the outbox",
                d->tx.channel, d->tx.n_items, d->tx.n_items == 1 ? "" : "s", err.msg);
        sl_tx_free(d);
    }
}

/* Writes every gathered item and watermark in one SQLite transaction, then submits. */
static void flush(sl_sched *s, int64_t now)
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
            sl__task_key k = task_key(s, s->ready[j].t);
            if (!rc)
                rc = sl__state_set_watermark(s->state, &k, s->ready[j].next_ms, &err);
        }
        if (!rc)
            rc = sign_group(s, i, j, now, &txs, &err);
    }
    if (!rc)
        rc = sl__state_commit(s->state, &err);
    if (rc) {
        /* Nothing was written: every task goes back to where it was, to be redone. */
        sl__state_rollback(s->state);
        for (size_t i = s->n_ready; i-- > 0;)
            s->ready[i].t->next_ms = s->ready[i].prev_ms;
        say(s, 3, "oracle scheduler: cannot record reports: %s", err.msg);
    } else {
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
        if (known == 0)
            say(s, 2,
                "%s: a report expired before it was ordered; its intervals stay unknown "
                "for this oracle",
                it->channel);
        return sl__state_outbox_del(s->state, it->id, &err);
    }
    ++*kept;
    if (known == 0 && it->expires_ms - TX_LIFETIME_MS + 30000 < now &&
        s->cfg.submit(s->cfg.arg, it->channel, it->tx, it->len, &err) == 0)
        say(s, 1, "%s: resubmitted a report from the outbox", it->channel);
    return 0;
}

static void outbox_check(sl_sched *s, int64_t now)
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
        say(s, 3, "oracle scheduler: outbox: %s", l.nomem ? "out of memory" : err.msg);
    s->stats.outbox = (uint64_t)kept;
}

/* ---- the public face ---- */

int sl_sched_new(const sl_sched_config *cfg, sl_sched **out, sl_error *err)
{
    sl_sched *s;
    int rc;

    *out = NULL;
    if (!cfg || !cfg->submit || !cfg->known || !cfg->state_path)
        return sl_error_set(err, SL_EINVAL, "scheduler", "state_path, submit and known needed");
    if (!(s = calloc(1, sizeof(*s))))
        return sl_error_set(err, SL_ENOMEM, NULL, "out of memory");
    s->cfg = *cfg;
    if (s->cfg.delay_ms < 0)
        s->cfg.delay_ms = DEFAULT_DELAY_MS;
    if (s->cfg.timeout_ms <= 0)
        s->cfg.timeout_ms = DEFAULT_TIMEOUT_MS;
    if (s->cfg.max_active == 0)
        s->cfg.max_active = DEFAULT_ACTIVE;
    if (s->cfg.speed == 0)
        s->cfg.speed = 1;
    if (s->cfg.max_tx_bytes == 0)
        s->cfg.max_tx_bytes = DEFAULT_TX_BYTES;
    /* The envelope: type, channel, nonce, expiry, the certificate, the count, the signature. */
    s->item_budget = s->cfg.max_tx_bytes > 2048 ? s->cfg.max_tx_bytes - 1024 : 1024;
    pthread_mutex_init(&s->mu, NULL);
    rc = sl__state_open(cfg->state_path, &s->state, err);
    if (!rc &&
        (sl_fetch_new(s->cfg.max_active, &s->fetch) != 0 || sl_token_cache_new(&s->tokens) != 0))
        rc = sl_error_set(err, SL_ENOMEM, NULL, "out of memory");
    if (rc) {
        sl_sched_free(s);
        return rc;
    }
    *out = s;
    return 0;
}

void sl_sched_refresh(sl_sched *s)
{
    __atomic_store_n(&s->refresh, 1, __ATOMIC_RELEASE);
    sl_fetch_wakeup(s->fetch);
}

void sl_sched_step(sl_sched *s, int64_t wait_ms)
{
    int64_t now, w;

    if (__atomic_exchange_n(&s->refresh, 0, __ATOMIC_ACQ_REL) && s->cfg.refresh)
        s->cfg.refresh(s->cfg.arg);
    pthread_mutex_lock(&s->mu);
    now = now_ms(s);
    while (s->n_heap > 0 && s->heap[0]->due_ms <= now) {
        task *t = s->heap[0];
        heap_remove(s, t);
        if (t->kind == TASK_PROBE)
            probe_run(s, t->src, now);
        else
            task_run(s, t, now);
    }
    if (now >= s->next_outbox) {
        outbox_check(s, now);
        s->next_outbox = now + OUTBOX_EVERY_MS;
    }
    flush(s, now);
    /* due times are the node's clock; the poll waits wall time */
    w = s->n_heap > 0 ? (s->heap[0]->due_ms - now) / (int64_t)s->cfg.speed : wait_ms;
    pthread_mutex_unlock(&s->mu);
    sl_fetch_poll(s->fetch, w < 0 ? 0 : w < wait_ms ? w : wait_ms);
    pthread_mutex_lock(&s->mu);
    flush(s, now_ms(s));
    pthread_mutex_unlock(&s->mu);
}

int sl_sched_observe(sl_sched *s, const char *channel, const char *agreement, const char *service,
                     const sl_observation *obs, size_t n, sl_error *err)
{
    svc *v = NULL;
    int64_t now = now_ms(s), floor;
    int rc = 0;

    pthread_mutex_lock(&s->mu);
    agr *a = agr_find(s, channel, agreement);
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

/* What sl_sched_measure_now makes of report task t at now; t becomes due at once when queued. */
static int now_one(sl_sched *s, task *t, int64_t now, sl_sched_now *e)
{
    const sl_objective_spec *o = objective_of(t);
    int64_t end = align_down(now, o->interval_ms);

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
    heap_remove(s, t);
    if (heap_push(s, t, now) != 0)
        return SL_ENOMEM;
    t->now_end = end;
    e->status = SL_SCHED_NOW_QUEUED;
    return 0;
}

int sl_sched_measure_now(sl_sched *s, const char *channel, const char *agreement, sl_sched_now *out,
                         size_t cap, size_t *n, sl_error *err)
{
    int64_t now = now_ms(s);
    int rc = 0;

    *n = 0;
    pthread_mutex_lock(&s->mu);
    agr *a = agr_find(s, channel, agreement);
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

void sl_sched_stats_get(sl_sched *s, sl_sched_stats *out)
{
    pthread_mutex_lock(&s->mu);
    *out = s->stats;
    pthread_mutex_unlock(&s->mu);
}

static void *sched_thread(void *arg)
{
    sl_sched *s = arg;

    while (!__atomic_load_n(&s->stop, __ATOMIC_ACQUIRE))
        sl_sched_step(s, 1000);
    return NULL;
}

int sl_sched_start(sl_sched *s)
{
    if (s->running)
        return SL_EBUSY;
    __atomic_store_n(&s->stop, 0, __ATOMIC_RELEASE);
    if (pthread_create(&s->thread, NULL, sched_thread, s) != 0)
        return SL_ENOMEM;
    s->running = 1;
    return 0;
}

void sl_sched_stop(sl_sched *s)
{
    if (!s || !s->running)
        return;
    __atomic_store_n(&s->stop, 1, __ATOMIC_RELEASE);
    sl_fetch_wakeup(s->fetch);
    pthread_join(s->thread, NULL);
    s->running = 0;
}

void sl_sched_free(sl_sched *s)
{
    if (!s)
        return;
    sl_sched_stop(s);
    /* Whatever has a transfer in flight is freed by its callback when the fetch cancels it. */
    pthread_mutex_lock(&s->mu);
    while (s->n_agrs > 0)
        agr_retire(s, s->n_agrs - 1);
    pthread_mutex_unlock(&s->mu);
    sl_fetch_free(s->fetch);
    sl_token_cache_free(s->tokens);
    sl__state_close(s->state);
    free(s->agrs);
    free(s->heap);
    free(s->ready);
    free(s->scratch);
    pthread_mutex_destroy(&s->mu);
    free(s);
}
