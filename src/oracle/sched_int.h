/*
 * sched_int.h: what the scheduler's files share. The scheduler is split by job: sched.c keeps
 * agreements and tasks, runs rounds and history measurements; sched_obs.c keeps the observed
 * services (probes and pushed observations); sched_out.c signs what a round gathered, writes it
 * durably and submits it, and watches the outbox. state.c is the durable state, observe.c turns
 * observations into interval values.
 *
 * Locking: `mu` of struct sl_sched guards agreements, services, tasks, the heap and the
 * counters; every sl__sched_* and sl__svc_* function below is called with it held. `qmu`
 * guards only the queue of refreshes asked for, so that asking never waits for a round.
 */
#ifndef SL_ORACLE_SCHED_INT_H
#define SL_ORACLE_SCHED_INT_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "slaledger/error.h"
#include "oracle/oracle_int.h"
#include "slaledger/ident.h"
#include "slaledger/sched.h"
#include "slaledger/tx.h"
#include "slaledger/util.h"

/* ---- state.c ---- */

typedef struct sl__state sl__state;

/** Names one task's watermark; strings borrowed. */
typedef struct sl__task_key {
    const char *channel, *agreement, *objective, *oracle;
} sl__task_key;

typedef struct sl__outbox_row {
    uint8_t id[SL_HASH_LEN];
    char channel[SL_IDENT_NAME_CAP];
    int64_t expires_ms;
    const uint8_t *tx; /* valid during the callback only */
    size_t len;
} sl__outbox_row;

typedef int (*sl__outbox_cb)(void *arg, const sl__outbox_row *row);

int sl__state_open(const char *path, sl__state **out, sl_error *err);
void sl__state_close(sl__state *st);
/** 0 with *next_ms, SL_ENOENT when the task has none yet, SL_EIO. */
int sl__state_watermark(sl__state *st, const sl__task_key *k, int64_t *next_ms, sl_error *err);
int sl__state_begin(sl__state *st, sl_error *err);
int sl__state_commit(sl__state *st, sl_error *err);
void sl__state_rollback(sl__state *st);
int sl__state_set_watermark(sl__state *st, const sl__task_key *k, int64_t next_ms, sl_error *err);
int sl__state_outbox_add(sl__state *st, const uint8_t id[SL_HASH_LEN], const char *channel,
                         int64_t expires_ms, const uint8_t *tx, size_t len, sl_error *err);
int sl__state_outbox_del(sl__state *st, const uint8_t id[SL_HASH_LEN], sl_error *err);
/** Calls cb for every outbox row (cb must not change the outbox); a nonzero return stops. */
int sl__state_outbox_each(sl__state *st, sl__outbox_cb cb, void *arg, sl_error *err);

/** Names the observations of one service as one reader sees them; strings borrowed. oracle is
 * "" for probe results (every local oracle reads them), the pushing oracle's name for pushes. */
typedef struct sl__obs_key {
    const char *channel, *agreement, *service, *oracle;
} sl__obs_key;

/** Writes obs[0..n) (inside the caller's sl__state_begin/commit). 0 or SL_EIO. */
int sl__state_obs_add(sl__state *st, const sl__obs_key *k, const sl_observation *obs, size_t n,
                      sl_error *err);
/** Appends up to max stored observations of k, oldest first, to (*v, *n, *cap) (sl_reserve's
 * growing array; the caller's to free). 0, SL_ENOMEM, SL_EIO. */
int sl__state_obs_load(sl__state *st, const sl__obs_key *k, size_t max, sl_observation **v,
                       size_t *n, size_t *cap, sl_error *err);
/** Deletes the observations of k older than before_ms: no reader needs them any more. */
int sl__state_obs_prune(sl__state *st, const sl__obs_key *k, int64_t before_ms, sl_error *err);
/** Deletes every observation of an agreement (it is no longer active). */
int sl__state_obs_drop(sl__state *st, const char *channel, const char *agreement, sl_error *err);

/* ---- observe.c ---- */

/**
 * The value of one interval of an objective with metric m from the observations obs[0..n)
 * that fall in it (n > 0): availability and error rate from the share that succeeded (ppm),
 * times at percentile_milli (nearest rank; the mean when 0) over the successful observations
 * that measured them, throughput from the count over interval_ms. 1 with *value, or 0 when
 * the observations do not measure the metric (reason set). Sorts scratch[0..n) (caller's).
 */
int sl__observe_value(sl_metric m, uint32_t percentile_milli, int64_t interval_ms,
                      const sl_observation *obs, size_t n, int64_t *scratch, int64_t *value,
                      char *reason, size_t reason_cap);

/** Whether observations of a service of kind k can measure metric m at all. */
int sl__observe_can(sl_service_kind k, sl_metric m);

/* ---- the scheduler's objects (sched.c, sched_obs.c, sched_out.c) ---- */

#define TX_LIFETIME_MS  300000 /* a report not in a block by then is void */
#define OUTBOX_EVERY_MS 5000   /* how often the outbox is checked against the ledgers */
#define OBS_AHEAD_MS    5000   /* pushed observations may be this far in the future */
#define OBS_MAX         100000 /* observations kept per service */

typedef struct agr {
    char channel[SL_IDENT_NAME_CAP];
    sl_agreement_spec *spec;
    int live;            /* listed by the last sync of its channel */
    size_t refs;         /* the list's, and one per task and service pointing here */
    struct task **tasks; /* its report tasks */
    size_t n_tasks, cap_tasks;
    struct svc **svcs; /* by service and local oracle (svc_slot): the observed ones */
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
    int64_t catchup_to; /* catching up on the intervals before this; 0 when not */
    int64_t catchup_n;  /* ... this many of them */
    int64_t catchup_reported; /* ... of which it has reported so far */
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
    uint32_t oracle;       /* the local oracle whose pushes these are; every oracle's for a probe */
    int probe;             /* http: probed by this scheduler */
    int64_t period_ms;     /* probe period: the shortest interval of its tasks */
    int64_t offset_ms;     /* where in each period the probe runs (jitter, fixed per service) */
    int64_t probe_time;    /* when the probe in flight was due: its observation's time */
    int in_flight;         /* a probe running, or its result not yet in the state file */
    sl_observation result; /* that result, once the probe is done */
    int dead;
    task prober;  /* TASK_PROBE: in the heap at next_probe */
    task **users; /* the report tasks reading these observations */
    size_t n_users, cap_users;
    sl_observation *obs;
    size_t n_obs, cap_obs;
};

/* An agreement whose refresh was asked for (sl_sched_refresh_agreement). */
typedef struct refresh_name {
    char channel[SL_IDENT_NAME_CAP];
    char agreement[SL_IDENT_NAME_CAP];
} refresh_name;

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
    svc **unsaved; /* probed services whose result waits to be written */
    size_t n_unsaved, cap_unsaved;
    int64_t *scratch;
    size_t cap_scratch;
    int64_t next_outbox;
    sl_sched_stats stats;
    pthread_t thread;
    int running;
    int stop;    /* atomic */
    int refresh; /* atomic: call cfg.refresh for everything at the next round */
    /* Agreements to call cfg.refresh for at the next round; guarded by qmu alone, which is
     * never held while taking mu or calling out. */
    pthread_mutex_t qmu;
    refresh_name *queue;
    size_t n_queue, cap_queue;
};

static inline int64_t sl__align_down(int64_t t, int64_t step)
{
    return t - sl_floormod(t, step);
}

static inline const sl_objective_spec *sl__task_objective(const task *t)
{
    return &t->a->spec->objectives[t->objective];
}

/* sched.c */
/** The scheduler's clock (ms since the epoch). */
int64_t sl__sched_now(const sl_sched *s);
/** Log lines through the config's log callback (level 0 debug .. 3 error). What a line is
 * about goes into fields, never into the message: sl__sched_sayf with any fields,
 * sl__sched_task_say with a task's (channel, agreement, objective, oracle), sl__sched_svc_say
 * with an observed service's (channel, agreement, service); sl__sched_say is for the
 * scheduler as a whole. */
void sl__sched_sayf(sl_sched *s, int level, const sl_sched_log_field *f, size_t n, const char *fmt,
                    ...) __attribute__((format(printf, 5, 6)));
void sl__sched_task_say(sl_sched *s, const task *t, int level, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void sl__sched_svc_say(sl_sched *s, const svc *v, int level, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void sl__sched_say(sl_sched *s, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/** A log line with fields (see sl_sched_log_cb). */
void sl__sched_log(sl_sched *s, int level, const char *msg, const sl_sched_log_field *fields,
                   size_t n);
/** A uniformly random integer in [0, n) (n > 0, below 2^32). */
int64_t sl__sched_jitter(int64_t n);
/** The durable key of t's watermark. */
sl__task_key sl__sched_task_key(const sl_sched *s, const task *t);
/** Puts t in the heap at due (it must not be in it). 0 or SL_ENOMEM. */
int sl__sched_heap_push(sl_sched *s, task *t, int64_t due);
void sl__sched_heap_remove(sl_sched *s, task *t);
/** The agreement name on channel, or NULL. */
agr *sl__sched_agr_find(const sl_sched *s, const char *channel, const char *name);
/** Drops one reference; the last frees the agreement (it has left the list by then). */
void sl__agr_unref(agr *a);
/** Records that task t handled the intervals up to next_ms, with one report item when value
 * is not NULL (of the interval starting at start). 0 or SL_ENOMEM. */
int sl__sched_gather(sl_sched *s, task *t, int64_t start, const int64_t *value, int64_t next_ms);

/* sched_obs.c */
/** Links report task t to the observed service it reads (probe or push), made on first use
 * with the observations the state file kept, widening the probe schedule. 0, SL_ENOMEM,
 * SL_EIO. */
int sl__svc_attach(sl_sched *s, task *t, sl_error *err);
/** Schedules the probes of a's probed services not yet scheduled. 0 or SL_ENOMEM. */
int sl__svc_start_probes(sl_sched *s, agr *a, int64_t now);
/** Takes v out of its agreement; freed now, or by its probe's callback. */
void sl__svc_drop(sl_sched *s, svc *v);
/** Values of t's closed intervals [t->next_ms, end) from its service's observations. */
int sl__svc_gather(sl_sched *s, task *t, int64_t end);
/** Deletes from the state file the observations of v no reader needs any more (inside the
 * caller's SQLite transaction); sl__svc_forget then drops them from memory. */
int sl__svc_prune(sl_sched *s, svc *v, sl_error *err);
void sl__svc_forget(svc *v);
/** Writes the results of the probes finished since the last call, in one SQLite transaction,
 * and only then lets their readers count them. Frees services dropped meanwhile. */
void sl__svc_save_probes(sl_sched *s);
/** A probed service's turn: start this period's probe, schedule the next. */
void sl__svc_probe_run(sl_sched *s, svc *v, int64_t now);

/* sched_out.c */
/** Signs every gathered item into reports, writes them with the advanced watermarks in one
 * SQLite transaction, then submits them; on failure every task goes back to where it was. */
void sl__sched_flush(sl_sched *s, int64_t now);
/** Drops outbox entries their ledgers hold (or that expired), resubmits the ones waiting too
 * long, and counts the rest. */
void sl__sched_outbox_check(sl_sched *s, int64_t now);

#endif
