/*
 * sched.c: the oracle scheduler (see sched.h for what it promises): agreements, their tasks,
 * the rounds and the history measurements. Observed services (probes, pushes) are in
 * sched_obs.c, signing and the outbox in sched_out.c; the structures they share in sched_int.h.
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
 * report in the outbox. sl_sched_measure_now (sched_now.c) only makes an agreement's tasks due
 * at once and lets that run go up to the latest closed interval (`now_end`) instead of stopping
 * `delay` before now; the watermark rules stay the same.
 *
 * Agreements arrive whole at start-up (sl_sched_sync per channel) and one at a time afterwards
 * (sl_sched_update), which touches no other agreement's tasks. A round starts by asking the
 * owner (cfg.refresh) about what sl_sched_refresh or sl_sched_refresh_agreement queued.
 *
 * Locking: `mu` guards agreements, services, tasks, the heap and the counters. The scheduler
 * thread holds it except while it waits in sl_fetch_poll and while it calls cfg.refresh;
 * callbacks take it. `qmu` guards only the refresh queue and is never held with `mu`. Objects
 * removed while a transfer of theirs is in flight are only marked dead and freed by that
 * callback.
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

/* ---- small helpers ---- */

int64_t sl__sched_now(const sl_sched *s)
{
    return s->cfg.clock ? s->cfg.clock(s->cfg.arg) : sl__wall_ms();
}

static void vsay(sl_sched *s, int level, const sl_sched_log_field *f, size_t n, const char *fmt,
                 va_list ap)
{
    char msg[512];

    if (!s->cfg.log)
        return;
    vsnprintf(msg, sizeof(msg), fmt, ap);
    s->cfg.log(s->cfg.arg, level, msg, f, n);
}

void sl__sched_say(sl_sched *s, int level, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsay(s, level, NULL, 0, fmt, ap);
    va_end(ap);
}

void sl__sched_sayf(sl_sched *s, int level, const sl_sched_log_field *f, size_t n, const char *fmt,
                    ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsay(s, level, f, n, fmt, ap);
    va_end(ap);
}

void sl__sched_task_say(sl_sched *s, const task *t, int level, const char *fmt, ...)
{
    sl_sched_log_field f[] = {{"channel", t->a->channel, 0},
                              {"agreement", t->a->spec->name, 0},
                              {"objective", sl__task_objective(t)->name, 0},
                              {"oracle", s->cfg.oracles[t->oracle].name, 0}};
    va_list ap;

    va_start(ap, fmt);
    vsay(s, level, f, sizeof(f) / sizeof(f[0]), fmt, ap);
    va_end(ap);
}

void sl__sched_svc_say(sl_sched *s, const svc *v, int level, const char *fmt, ...)
{
    sl_sched_log_field f[] = {{"channel", v->a->channel, 0},
                              {"agreement", v->a->spec->name, 0},
                              {"service", v->a->spec->services[v->service].name, 0}};
    va_list ap;

    va_start(ap, fmt);
    vsay(s, level, f, sizeof(f) / sizeof(f[0]), fmt, ap);
    va_end(ap);
}

void sl__sched_log(sl_sched *s, int level, const char *msg, const sl_sched_log_field *fields,
                   size_t n)
{
    if (s->cfg.log)
        s->cfg.log(s->cfg.arg, level, msg, fields, n);
}

int64_t sl__sched_jitter(int64_t n)
{
    return n > 1 ? (int64_t)randombytes_uniform((uint32_t)(n > UINT32_MAX ? UINT32_MAX : n)) : 0;
}

sl__task_key sl__sched_task_key(const sl_sched *s, const task *t)
{
    sl__task_key k = {t->a->channel, t->a->spec->name, sl__task_objective(t)->name,
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

int sl__sched_heap_push(sl_sched *s, task *t, int64_t due)
{
    if (sl_reserve(&s->heap, &s->cap_heap, s->n_heap + 1, sizeof(*s->heap)) != 0)
        return SL_ENOMEM;
    t->due_ms = due;
    t->heap_pos = s->n_heap;
    s->heap[s->n_heap++] = t;
    heap_up(s, t->heap_pos);
    return 0;
}

void sl__sched_heap_remove(sl_sched *s, task *t)
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

void sl__agr_unref(agr *a)
{
    if (--a->refs > 0)
        return;
    sl_agreement_spec_free(a->spec);
    free(a->tasks);
    free(a->svcs);
    free(a);
}

static void task_free(task *t)
{
    agr *a = t->a;

    sl_measure_release(&t->m);
    free(t);
    sl__agr_unref(a);
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
    sl__sched_heap_remove(s, t);
    ptr_remove(t->a->tasks, &t->a->n_tasks, t);
    s->n_tasks--;
    if (t->src)
        ptr_remove(t->src->users, &t->src->n_users, t);
    s->stats.tasks = s->n_tasks;
    t->dead = 1;
    if (!t->busy)
        task_free(t);
}

static int local_oracle(const sl_sched *s, const char *name)
{
    for (size_t i = 0; i < s->cfg.n_oracles; i++) {
        if (strcmp(s->cfg.oracles[i].name, name) == 0)
            return (int)i;
    }
    return -1;
}

/* The first interval of o still reportable at now: its end + grace lies ahead by a margin
 * that leaves time to measure and order it. */
static int64_t first_reportable(const sl_sched *s, const agr *a, const sl_objective_spec *o,
                                int64_t now)
{
    int64_t margin = s->cfg.timeout_ms + 2000;
    int64_t t = sl__align_down(now + margin - a->spec->grace_ms, o->interval_ms);

    return t > a->spec->start_ms ? t : a->spec->start_ms;
}

/* The next time report task t has work: the close of its next interval plus the delay. */
static int64_t task_due(const sl_sched *s, const task *t)
{
    return t->next_ms + sl__task_objective(t)->interval_ms + s->cfg.delay_ms;
}

/* Whether this node's oracles can measure objective o at all (logged once when not). */
static int measurable(sl_sched *s, const agr *a, const sl_objective_spec *o)
{
    const sl_service_spec *sv = &a->spec->services[o->service];
    int history =
        sv->kind == SL_SVC_AWS_EC2 || sv->kind == SL_SVC_AZURE_VM || sv->kind == SL_SVC_PROMETHEUS;

    if ((history && !sl_metric_is_check(o->metric)) || sl__observe_can(sv->kind, o->metric))
        return 1;
    sl_sched_log_field f[] = {
        {"channel", a->channel, 0}, {"agreement", a->spec->name, 0}, {"objective", o->name, 0}};
    sl__sched_sayf(s, 2, f, 3, "objective (%s of a %s service) not measured by this node's oracles",
                   sl_metric_name(o->metric), sl_service_kind_name(sv->kind));
    return 0;
}

/* How many entries an agreement's svcs has: one per service and local oracle (sched_obs.c). */
static size_t svc_slots(const sl_sched *s, const sl_agreement_spec *sp)
{
    return (sp->n_services ? sp->n_services : 1) * (s->cfg.n_oracles ? s->cfg.n_oracles : 1);
}

/* Logs a catch-up line of t (info) with its context and the fields extra[0..n). */
static void catchup_say(sl_sched *s, const task *t, const char *msg,
                        const sl_sched_log_field *extra, size_t n)
{
    sl_sched_log_field f[8] = {
        {"channel", t->a->channel, 0},
        {"agreement", t->a->spec->name, 0},
        {"objective", sl__task_objective(t)->name, 0},
        {"oracle", s->cfg.oracles[t->oracle].name, 0},
    };

    for (size_t i = 0; i < n && i < 4; i++)
        f[4 + i] = extra[i];
    sl__sched_log(s, 1, msg, f, 4 + (n < 4 ? n : 4));
}

/* A task that starts (the node started, or its agreement became active) with closed intervals
 * it has not handled: says how many it is catching up on, and remembers where that ends. */
static void catchup_begin(sl_sched *s, task *t, int64_t now)
{
    const sl_objective_spec *o = sl__task_objective(t);
    int64_t end = sl__align_down(now - s->cfg.delay_ms, o->interval_ms);
    int64_t first = first_reportable(s, t->a, o, now);
    int64_t from = t->next_ms > first ? t->next_ms : first;
    char from_s[32], to_s[32];

    if (end > t->a->spec->end_ms)
        end = t->a->spec->end_ms;
    if (from >= end)
        return;
    t->catchup_to = end;
    t->catchup_n = (end - from) / o->interval_ms;
    t->catchup_reported = 0;
    sl_time_format(from, from_s, sizeof(from_s));
    sl_time_format(end, to_s, sizeof(to_s));
    sl_sched_log_field f[] = {{"intervals", NULL, t->catchup_n},
                              {"missed", NULL, (from - t->next_ms) / o->interval_ms},
                              {"from", from_s, 0},
                              {"to", to_s, 0}};
    catchup_say(s, t, "oracle catching up", f, 4);
}

/* Says that t has handled every interval it was catching up on. */
static void catchup_end(sl_sched *s, task *t)
{
    sl_sched_log_field f[] = {{"intervals", NULL, t->catchup_n},
                              {"reported", NULL, t->catchup_reported}};

    t->catchup_to = 0;
    catchup_say(s, t, "oracle caught up", f, 2);
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
    k = sl__sched_task_key(s, t);
    rc = sl__state_watermark(s->state, &k, &t->next_ms, err);
    if (rc == SL_ENOENT)
        t->next_ms = a->spec->start_ms;
    else if (rc)
        goto fail;
    if ((kind == SL_SVC_HTTP || kind == SL_SVC_PUSH || kind == SL_SVC_PROCESS_STEP) &&
        (rc = sl__svc_attach(s, t, err)) != 0)
        goto fail;
    if ((rc = sl__sched_heap_push(s, t, task_due(s, t))) != 0) {
        if (t->src)
            ptr_remove(t->src->users, &t->src->n_users, t);
        goto fail;
    }
    a->tasks[a->n_tasks++] = t;
    s->stats.tasks = ++s->n_tasks;
    catchup_begin(s, t, sl__sched_now(s));
    return 0;
fail:
    task_free(t);
    return rc == SL_ENOMEM ? sl_error_set(err, rc, NULL, "out of memory") : rc;
}

/* Makes the tasks of a newly active agreement, and schedules its probes. */
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
    if (!rc && sl__svc_start_probes(s, a, now) != 0)
        rc = sl_error_set(err, SL_ENOMEM, NULL, "out of memory");
    return rc;
}

agr *sl__sched_agr_find(const sl_sched *s, const char *channel, const char *name)
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
    for (size_t i = 0; i < svc_slots(s, a->spec); i++) {
        if (a->svcs[i])
            sl__svc_drop(s, a->svcs[i]);
    }
    sl__agr_unref(a); /* the list's reference */
}

/* An agreement is no longer active: its observations will never be reported. */
static void agr_forget(sl_sched *s, size_t idx)
{
    sl_error err = {0};

    if (sl__state_obs_drop(s->state, s->agrs[idx]->channel, s->agrs[idx]->spec->name, &err) != 0)
        sl__sched_say(s, 3, "oracle scheduler: %s", err.msg);
    agr_retire(s, idx);
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
        !(a->svcs = calloc(svc_slots(s, spec), sizeof(*a->svcs)))) {
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
    int64_t now = sl__sched_now(s);
    int rc = 0;

    pthread_mutex_lock(&s->mu);
    for (size_t i = 0; i < s->n_agrs; i++) {
        if (strcmp(s->agrs[i]->channel, channel) == 0)
            s->agrs[i]->live = 0;
    }
    for (size_t i = 0; i < n && !rc; i++) {
        agr *a = sl__sched_agr_find(s, channel, specs[i]->name);
        if (a)
            a->live = 1;
        else
            rc = agr_add(s, channel, specs[i], now, &err);
    }
    for (size_t i = s->n_agrs; i-- > 0;) {
        if (!s->agrs[i]->live && strcmp(s->agrs[i]->channel, channel) == 0)
            agr_forget(s, i);
    }
    pthread_mutex_unlock(&s->mu);
    sl_fetch_wakeup(s->fetch);
    if (rc)
        sl__sched_say(s, 3, "oracle scheduler: %s", err.msg[0] ? err.msg : sl_strerror(rc));
    return rc;
}

static size_t agr_index(const sl_sched *s, const char *channel, const char *name)
{
    size_t i = 0;

    while (i < s->n_agrs &&
           (strcmp(s->agrs[i]->channel, channel) != 0 || strcmp(s->agrs[i]->spec->name, name) != 0))
        i++;
    return i;
}

int sl_sched_update(sl_sched *s, const char *channel, const char *agreement,
                    const sl_agreement_spec *spec)
{
    sl_error err = {0};
    int64_t now = sl__sched_now(s);
    size_t i;
    int rc = 0;

    if (spec && strcmp(spec->name, agreement) != 0)
        return SL_EINVAL;
    pthread_mutex_lock(&s->mu);
    i = agr_index(s, channel, agreement);
    if (!spec && i < s->n_agrs)
        agr_forget(s, i);
    else if (spec && i == s->n_agrs)
        rc = agr_add(s, channel, spec, now, &err);
    pthread_mutex_unlock(&s->mu);
    sl_fetch_wakeup(s->fetch);
    if (rc)
        sl__sched_say(s, 3, "oracle scheduler: %s", err.msg[0] ? err.msg : sl_strerror(rc));
    return rc;
}

/* ---- refreshes asked for ---- */

void sl_sched_refresh(sl_sched *s)
{
    __atomic_store_n(&s->refresh, 1, __ATOMIC_RELEASE);
    sl_fetch_wakeup(s->fetch);
}

/* Whether the queue (qmu held) has the name already. */
static int queued(const sl_sched *s, const char *channel, const char *agreement)
{
    for (size_t i = 0; i < s->n_queue; i++) {
        if (strcmp(s->queue[i].agreement, agreement) == 0 &&
            strcmp(s->queue[i].channel, channel) == 0)
            return 1;
    }
    return 0;
}

void sl_sched_refresh_agreement(sl_sched *s, const char *channel, const char *agreement)
{
    refresh_name *q;

    pthread_mutex_lock(&s->qmu);
    if (strlen(channel) >= sizeof(q->channel) || strlen(agreement) >= sizeof(q->agreement) ||
        sl_reserve(&s->queue, &s->cap_queue, s->n_queue + 1, sizeof(*s->queue)) != 0) {
        __atomic_store_n(&s->refresh, 1, __ATOMIC_RELEASE);
    } else if (!queued(s, channel, agreement)) {
        q = &s->queue[s->n_queue++];
        sl_strfmt(q->channel, sizeof(q->channel), "%s", channel);
        sl_strfmt(q->agreement, sizeof(q->agreement), "%s", agreement);
    }
    pthread_mutex_unlock(&s->qmu);
    sl_fetch_wakeup(s->fetch);
}

/* Calls cfg.refresh for what was asked since the last round: everything, or each agreement
 * queued. The queue is taken whole first, so a name asked for meanwhile waits for the next
 * round, whose reading is then later than the block that asked. */
static void refresh_run(sl_sched *s)
{
    refresh_name *q;
    size_t n;

    pthread_mutex_lock(&s->qmu);
    q = s->queue;
    n = s->n_queue;
    s->queue = NULL;
    s->n_queue = s->cap_queue = 0;
    pthread_mutex_unlock(&s->qmu);
    if (__atomic_exchange_n(&s->refresh, 0, __ATOMIC_ACQ_REL)) {
        if (s->cfg.refresh)
            s->cfg.refresh(s->cfg.arg, NULL, NULL); /* covers every queued name */
    } else {
        for (size_t i = 0; i < n && s->cfg.refresh; i++)
            s->cfg.refresh(s->cfg.arg, q[i].channel, q[i].agreement);
    }
    free(q);
}

/* ---- gathering report items ---- */

int sl__sched_gather(sl_sched *s, task *t, int64_t start, const int64_t *value, int64_t next_ms)
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
        const sl_objective_spec *o = sl__task_objective(t);
        r->has_item = 1;
        sl_strfmt(r->item.agreement, sizeof(r->item.agreement), "%s", t->a->spec->name);
        sl_strfmt(r->item.objective, sizeof(r->item.objective), "%s", o->name);
        r->item.start_ms = start;
        r->item.end_ms = start + o->interval_ms;
        r->item.value = *value;
        s->stats.reported++;
        t->catchup_reported++;
    }
    t->next_ms = next_ms;
    if (t->catchup_to && next_ms >= t->catchup_to)
        catchup_end(s, t);
    return 0;
}

/* Turns the samples of a finished history measurement into items. */
static int gather_samples(sl_sched *s, task *t, const sl_measure *m)
{
    int64_t step = sl__task_objective(t)->interval_ms;
    int rc = 0;

    for (size_t i = 0; i < m->n && !rc; i++) {
        const sl_sample *x = &m->samples[i];
        if (x->known && x->start_ms + step + t->a->spec->grace_ms <= sl__sched_now(s)) {
            /* measured, but only after its deadline (retries took that long) */
            s->stats.missed++;
            rc = sl__sched_gather(s, t, x->start_ms, NULL, x->start_ms + step);
            continue;
        }
        if (!x->known && x->start_ms + step + s->cfg.delay_ms > sl__sched_now(s))
            break; /* asked early (sl_sched_measure_now): the source may still publish it */
        if (!x->known) {
            s->stats.unknown++;
            char at[40];
            sl_time_format(x->start_ms, at, sizeof(at));
            sl__sched_task_say(s, t, 0, "interval at %s unknown: %s", at, x->reason);
        }
        rc = sl__sched_gather(s, t, x->start_ms, x->known ? &x->value : NULL, x->start_ms + step);
    }
    return rc;
}

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
            sl__sched_say(s, 3, "oracle scheduler: out of memory");
        due = task_due(s, t);
    } else {
        s->stats.failures++;
        t->backoff_ms = t->backoff_ms ? t->backoff_ms * 2 : BACKOFF_MIN_MS;
        if (t->backoff_ms > BACKOFF_MAX_MS)
            t->backoff_ms = BACKOFF_MAX_MS;
        due = sl__sched_now(s) + t->backoff_ms + sl__sched_jitter(t->backoff_ms / 5 + 1);
        sl__sched_task_say(s, t, 2, "%s; retrying in %lld s",
                           err->msg[0] ? err->msg : sl_strerror(rc),
                           (long long)((due - sl__sched_now(s)) / 1000));
    }
    sl_measure_release(&t->m);
    if (sl__sched_heap_push(s, t, due) != 0)
        sl__sched_say(s, 3, "oracle scheduler: out of memory");
}

/* Sends the next request of t's measurement, or ends it. */
static void measure_step(sl_sched *s, task *t)
{
    sl_http_req req;
    sl_error err = {0};
    int rc;

    sl_http_req_init(&req);
    t->m.q.now_ms = sl__sched_now(s);
    rc = sl_measure_next(&t->m, &req, &err);
    if (rc == SL_EINVAL && t->m.pages == 0 && !t->m.retried) {
        /* The source cannot be asked this at all (wrong metric, period, settings): say so
         * once and leave the task idle rather than retry what can never work. */
        sl__sched_task_say(s, t, 3, "oracle cannot measure it: %s", err.msg);
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
        t->m.q.now_ms = sl__sched_now(s);
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
    const sl_objective_spec *o = sl__task_objective(t);
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
    const sl_objective_spec *o = sl__task_objective(t);
    const sl_agreement_spec *sp = t->a->spec;
    int64_t end = sl__align_down(now - s->cfg.delay_ms, o->interval_ms);
    int64_t first = first_reportable(s, t->a, o, now);
    int64_t due;

    if (t->now_end > end)
        end = t->now_end;
    if (end > sp->end_ms)
        end = sp->end_ms;
    if (t->next_ms < first) {
        int64_t n = (first - t->next_ms) / o->interval_ms;
        s->stats.missed += (uint64_t)n;
        sl__sched_task_say(s, t, 2,
                           "%lld interval%s past the deadline before this node measured them; "
                           "they stay unknown",
                           (long long)n, n == 1 ? "" : "s");
        if (sl__sched_gather(s, t, 0, NULL, first) != 0)
            sl__sched_say(s, 3, "oracle scheduler: out of memory");
    }
    if (t->next_ms >= sp->end_ms)
        return; /* the period is over: the task has nothing left to do */
    if (t->next_ms < end && !t->src) {
        t->now_end = 0;
        measure_start(s, t, end, now);
        return;
    }
    if (t->src && t->src->in_flight && t->src->probe_time < end)
        end = sl__align_down(t->src->probe_time, o->interval_ms); /* wait for that probe */
    if (t->next_ms < end && sl__svc_gather(s, t, end) != 0)
        sl__sched_say(s, 3, "oracle scheduler: out of memory");
    if (t->next_ms >= t->now_end)
        t->now_end = 0;
    /* Waiting for a probe in flight: look again shortly rather than spin. */
    due = t->now_end ? now : task_due(s, t);
    if (sl__sched_heap_push(s, t, due > now ? due : now + 100) != 0)
        sl__sched_say(s, 3, "oracle scheduler: out of memory");
}

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
    pthread_mutex_init(&s->mu, NULL);
    pthread_mutex_init(&s->qmu, NULL);
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

void sl_sched_step(sl_sched *s, int64_t wait_ms)
{
    int64_t now, w;

    refresh_run(s);
    pthread_mutex_lock(&s->mu);
    sl__svc_save_probes(s); /* before their readers run */
    now = sl__sched_now(s);
    while (s->n_heap > 0 && s->heap[0]->due_ms <= now) {
        task *t = s->heap[0];
        sl__sched_heap_remove(s, t);
        if (t->kind == TASK_PROBE)
            sl__svc_probe_run(s, t->src, now);
        else
            task_run(s, t, now);
    }
    if (now >= s->next_outbox) {
        sl__sched_outbox_check(s, now);
        s->next_outbox = now + OUTBOX_EVERY_MS;
    }
    sl__sched_flush(s, now);
    /* due times are the node's clock; the poll waits wall time */
    w = s->n_heap > 0 ? (s->heap[0]->due_ms - now) / (int64_t)s->cfg.speed : wait_ms;
    pthread_mutex_unlock(&s->mu);
    sl_fetch_poll(s->fetch, w < 0 ? 0 : w < wait_ms ? w : wait_ms);
    pthread_mutex_lock(&s->mu);
    sl__svc_save_probes(s);
    sl__sched_flush(s, sl__sched_now(s));
    pthread_mutex_unlock(&s->mu);
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
    sl__svc_save_probes(s); /* what the probes found is kept for the next start */
    while (s->n_agrs > 0)
        agr_retire(s, s->n_agrs - 1);
    sl__svc_save_probes(s); /* frees what could not be saved */
    pthread_mutex_unlock(&s->mu);
    sl_fetch_free(s->fetch);
    sl_token_cache_free(s->tokens);
    sl__state_close(s->state);
    free(s->agrs);
    free(s->heap);
    free(s->ready);
    free(s->unsaved);
    free(s->scratch);
    free(s->queue);
    pthread_mutex_destroy(&s->mu);
    pthread_mutex_destroy(&s->qmu);
    free(s);
}
