/*
 * sched_int.h: what the scheduler's files share: the durable state (state.c) and the
 * aggregation of observations into interval values (observe.c), both used by sched.c.
 */
#ifndef SL_ORACLE_SCHED_INT_H
#define SL_ORACLE_SCHED_INT_H

#include <stddef.h>
#include <stdint.h>

#include "slaledger/error.h"
#include "slaledger/ident.h"
#include "slaledger/sched.h"
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

#endif
