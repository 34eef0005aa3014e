/*
 * slaledger/sched.h: the oracle scheduler. It decides what a node's oracles measure and when,
 * measures it, signs the measurements as report transactions and hands them to ordering.
 *
 * Work is one task per (channel, agreement, objective, local oracle named by the objective).
 * Intervals follow the objective's grid; an interval is measured only once it is closed and a
 * further `delay` has passed (sources publish late). History sources (CloudWatch, Azure
 * Monitor, Prometheus) are asked for every closed interval not yet reported, so after downtime
 * the scheduler catches up on whatever is still before its deadline (end + the agreement's
 * grace); http services are probed during each interval and pushed observations are collected
 * as they come, so intervals the node did not see stay unknown: they are not reported, and
 * the contract decides them with the other oracles' reports. Failed requests are retried with
 * exponential backoff and jitter while the deadline allows. Pushed observations are the
 * pushing oracle's own: only that oracle's tasks read them; probe results are read by every
 * local oracle named for the service.
 *
 * Never twice: before a report is submitted, the task's watermark (the first interval not yet
 * handled) and the signed transaction are written in one SQLite transaction to the state
 * file; the transaction stays in that outbox until the ledger holds it, and is resubmitted
 * (the same bytes, so the ledger's replay check makes that safe) after a restart. What a
 * probe measured and what sl_sched_observe accepted is in the state file before it is counted
 * or acknowledged, and leaves it in the SQLite transaction that puts the report of its last
 * interval in the outbox; a restart loads it back. A crash can therefore neither lose a
 * measured or acknowledged interval that is still reportable nor report one twice.
 *
 * Thread-safety: sl_sched_start runs the scheduler on its own thread; sl_sched_sync,
 * sl_sched_update, sl_sched_observe, sl_sched_measure_now and sl_sched_stats may be called from
 * any thread, sl_sched_refresh and sl_sched_refresh_agreement too, and those two never wait for
 * the scheduler. Without the thread (tests, benches), one thread calls sl_sched_step.
 */
#ifndef SLALEDGER_SCHED_H
#define SLALEDGER_SCHED_H

#include <stddef.h>
#include <stdint.h>

#include "slaledger/error.h"
#include "slaledger/ident.h"
#include "slaledger/sla.h"

typedef struct sl_sched sl_sched;

/** An oracle identity whose key this node holds. Borrowed; must outlive the scheduler. */
typedef struct sl_sched_oracle {
    const char *name; /* the certificate's subject, as agreements name it */
    const sl_key *key;
    const sl_cert *cert;
} sl_sched_oracle;

/** Submits a signed transaction to channel's ordering. 0 when queued; SL_EBUSY to try later. */
typedef int (*sl_sched_submit_cb)(void *arg, const char *channel, const uint8_t *tx, size_t len,
                                  sl_error *err);
/** 1 when the channel's ledger holds transaction id, 0 when not, < 0 when it cannot tell. */
typedef int (*sl_sched_known_cb)(void *arg, const char *channel, const uint8_t id[SL_HASH_LEN]);
/** One key=value of a log line: the string s when it is not NULL, else the integer i. */
typedef struct sl_sched_log_field {
    const char *key;
    const char *s;
    int64_t i;
} sl_sched_log_field;
/** A log line: level 0 debug, 1 info, 2 warning, 3 error; fields[0..n) say what it is about
 * (n may be 0). Everything is borrowed for the call. */
typedef void (*sl_sched_log_cb)(void *arg, int level, const char *msg,
                                const sl_sched_log_field *fields, size_t n);
/** Asked on the scheduler's thread at the start of a round, so that reading ledgers never
 * happens on the thread that commits them: after sl_sched_refresh (channel and agreement NULL)
 * to call sl_sched_sync for every channel; after sl_sched_refresh_agreement, once per name
 * asked for, to read that agreement and call sl_sched_update for it. Names are borrowed for the
 * call. */
typedef void (*sl_sched_refresh_cb)(void *arg, const char *channel, const char *agreement);
/** The clock, ms since the epoch; NULL for the wall clock. */
typedef int64_t (*sl_sched_clock_cb)(void *arg);

typedef struct sl_sched_config {
    const char *state_path;    /* the SQLite file of watermarks and the outbox */
    const sl_secrets *secrets; /* credentials, borrowed; NULL when there are none */
    const sl_sched_oracle *oracles;
    size_t n_oracles;
    int64_t delay_ms;    /* after an interval's end, before measuring it (< 0: 10 s; 0: at once,
                            for sources that publish at once, such as pushes) */
    int64_t timeout_ms;  /* per request (default 10 s) */
    size_t max_active;   /* concurrent transfers (default 256) */
    size_t max_tx_bytes; /* largest report transaction the channels take (default 1 MiB) */
    sl_sched_submit_cb submit;
    sl_sched_known_cb known;
    sl_sched_log_cb log;         /* may be NULL */
    sl_sched_refresh_cb refresh; /* may be NULL */
    sl_sched_clock_cb clock;
    uint32_t speed; /* how much faster than the wall the clock runs (0 or 1: as fast); waits
                       and probe time limits are converted to wall time with it */
    void *arg;      /* for every callback */
} sl_sched_config;

/**
 * Opens (creating) the state file and resubmits what its outbox holds that the ledgers lack.
 * *out is freed with sl_sched_free. SL_EIO with the SQLite message, SL_ENOMEM, SL_EINVAL for
 * a config without submit or known.
 */
int sl_sched_new(const sl_sched_config *cfg, sl_sched **out, sl_error *err)
    __attribute__((warn_unused_result));

/**
 * Tells the scheduler which agreements are active on channel (replacing what it knew of the
 * channel): specs are copied. Tasks are made for every objective naming one of the local
 * oracles; agreements no longer listed lose their tasks. 0 or SL_ENOMEM.
 */
int sl_sched_sync(sl_sched *s, const char *channel, const sl_agreement_spec *const *specs, size_t n)
    __attribute__((warn_unused_result));

/**
 * What became of one agreement on channel: spec is its terms while it is active (copied), NULL
 * once it is not (closed, or never active). A new active agreement gets its tasks (as
 * sl_sched_sync makes them); one the scheduler has already keeps its tasks, watermarks and
 * work in flight as they are, since an active agreement's terms never change; a NULL spec
 * drops the agreement's tasks and observations. No other agreement is touched. 0, SL_EINVAL
 * (spec names another agreement) or SL_ENOMEM.
 */
int sl_sched_update(sl_sched *s, const char *channel, const char *agreement,
                    const sl_agreement_spec *spec) __attribute__((warn_unused_result));

/** Asks for a refresh of every agreement (see sl_sched_refresh_cb) at the start of the next
 * round: cheap and lock-free, so a block callback may call it. */
void sl_sched_refresh(sl_sched *s);

/** Asks for a refresh of agreement on channel (see sl_sched_refresh_cb) at the start of the
 * next round, once however often it is asked before then. Cheap: it takes only the queue's own
 * lock, never the scheduler's, so a block callback holding its ledger's lock may call it. When
 * the queue cannot grow (memory), a refresh of everything is asked instead. */
void sl_sched_refresh_agreement(sl_sched *s, const char *channel, const char *agreement);

/** One observation of a push or process-step service, from an authenticated agent. Fields
 * not measured are -1. */
typedef struct sl_observation {
    int64_t time_ms;
    int ok;                /* the request or step succeeded */
    int64_t response_ms;   /* response time */
    int64_t processing_ms; /* processing time */
    int64_t delay_ms;      /* delay (queueing, waiting) */
} sl_observation;

/** Where pushed observations go and who pushes them; strings borrowed. */
typedef struct sl_sched_push {
    const char *channel, *agreement, *service;
    const char *org, *oracle; /* the pushing oracle member: organization and name */
} sl_sched_push;

/**
 * Records observations of service to->service of agreement to->agreement on to->channel,
 * pushed by the local oracle (to->org, to->oracle): only that oracle's tasks read them. They
 * are written to the state file (one SQLite transaction) before this returns 0. SL_EPERM when
 * that oracle is not one of this node's or does not measure the service, SL_ENOENT when no
 * task of this node measures that service (not active, not a push/process-step service, or no
 * local oracle named), SL_ETIME for an observation of an interval already handled or in the
 * future (more than 5 s ahead), SL_EINVAL for a negative time, SL_EBUSY when too many wait,
 * SL_EIO when they cannot be written, SL_ENOMEM. All or nothing.
 */
int sl_sched_observe(sl_sched *s, const sl_sched_push *to, const sl_observation *obs, size_t n,
                     sl_error *err) __attribute__((warn_unused_result));

/** What sl_sched_measure_now found for one task (an objective and a local oracle). */
typedef enum sl_sched_now_status {
    SL_SCHED_NOW_QUEUED = 1, /* due now: [from_ms, end_ms) is measured and reported at once */
    SL_SCHED_NOW_PENDING,    /* an earlier call queued it and it has not run yet */
    SL_SCHED_NOW_RUNNING,    /* a request to its history source is in flight; its result is
                                reported when it ends, later intervals by the schedule */
    SL_SCHED_NOW_DONE,       /* the latest closed interval was measured already (reported, or
                                found unknown): it is never measured twice */
    SL_SCHED_NOW_NONE,       /* no interval of the objective has closed yet */
} sl_sched_now_status;

typedef struct sl_sched_now {
    char objective[SL_IDENT_NAME_CAP];
    char oracle[SL_IDENT_NAME_CAP];
    int64_t from_ms;  /* the first interval not yet measured (the task's watermark) */
    int64_t start_ms; /* the latest closed interval [start_ms, end_ms) (both 0 for NONE) */
    int64_t end_ms;
    sl_sched_now_status status;
} sl_sched_now;

/**
 * Measures the closed intervals of agreement `agreement` on channel that its tasks have not
 * handled yet, up to the latest closed one, now rather than `delay` after they close: every
 * such task becomes due at once and its report is signed and submitted as the schedule's
 * would be (asynchronously, on the scheduler's thread). The watermark keeps its promise: an
 * interval already handled is not measured again (SL_SCHED_NOW_DONE). Observed services
 * (probes, pushes) use what the node holds; a push for an interval measured this way is
 * refused afterwards as already reported. A history source is asked at once too, but an
 * interval it has no value for yet, within `delay` of its close, is left to the schedule
 * rather than recorded unknown.
 * Fills out[0..cap) with one entry per task and sets *n to the number of tasks (which may
 * exceed cap). 0, or SL_ENOENT when no task of this node measures the agreement (not active
 * on channel, or no objective names a local oracle), or SL_ENOMEM.
 */
int sl_sched_measure_now(sl_sched *s, const char *channel, const char *agreement, sl_sched_now *out,
                         size_t cap, size_t *n, sl_error *err) __attribute__((warn_unused_result));

/** Counters since start, for /metrics and the bench. */
typedef struct sl_sched_stats {
    uint64_t tasks;        /* current */
    uint64_t probes;       /* probes finished */
    uint64_t probes_down;  /* ... that found the service down */
    uint64_t requests;     /* history-source requests finished */
    uint64_t failures;     /* ... that failed (retried while the deadline allows) */
    uint64_t reported;     /* intervals put into submitted reports */
    uint64_t unknown;      /* intervals handled without a value (not reported) */
    uint64_t missed;       /* intervals past their deadline before they could be measured */
    uint64_t transactions; /* report transactions submitted */
    uint64_t outbox;       /* transactions waiting in the outbox */
} sl_sched_stats;

void sl_sched_stats_get(sl_sched *s, sl_sched_stats *out);

/** Runs the scheduler on its own thread until sl_sched_stop. 0, SL_EBUSY (running), SL_ENOMEM. */
int sl_sched_start(sl_sched *s) __attribute__((warn_unused_result));
/** Stops the thread (in-flight requests are cancelled; nothing measured is lost). */
void sl_sched_stop(sl_sched *s);

/** One round without the thread: does what is due, waits up to wait_ms for transfers. */
void sl_sched_step(sl_sched *s, int64_t wait_ms);

/** Stops, closes the state file, frees. Accepts NULL. */
void sl_sched_free(sl_sched *s);

#endif
