/*
 * solo.c: the embedded orderer. Submitters queue prechecked transactions; one cutter thread
 * takes them in arrival order and commits a block whenever the block is full (count or bytes),
 * the oldest waiting transaction has waited the timeout, or a flush asks. With nothing waiting
 * it cuts an empty block only when the contract has something due (sl_ledger_next_due: a
 * report deadline, a window, billing or period close), so that an idle channel still settles;
 * otherwise an idle channel grows by no block at all.
 *
 * Block timestamps are the node's clock in ms (the wall clock unless settings.clock says
 * otherwise; the ledger raises a timestamp that does not increase), so a block cut once the
 * node's clock reached the due time is stamped at or after it and its tick does the due work.
 * Transaction deadlines are monotonic wall time whatever the node's clock; the wait for a due
 * time is the node-time distance divided by settings.clock_speed, at most DUE_SLEEP_MAX_MS of
 * monotonic time at once and recomputed on waking, so a step of the wall clock delays a due
 * block by at most that. The due time is read from the ledger after every block (a block can
 * change it: an agreement activated, a report waiting) and cached in `due`; the orderer is the
 * ledger's only writer. After a failed block an empty one is retried no sooner than
 * RETRY_MS later.
 *
 * The queue owns copies of the transaction bytes until their block is committed. Counters
 * `queued` and `done` number transactions, so flush waits for exactly what was submitted before
 * it. Thread-safety: one mutex guards the queue, counters and `due`; the commit and the ledger
 * reads run outside it so submitters are never blocked by SQLite.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <pthread.h>

#include "order/order_int.h"
#include "slaledger/wait.h"

#define DUE_SLEEP_MAX_MS 60000 /* longest single wait for a due time (monotonic ms) */
#define RETRY_MS         1000  /* after a failed block, before an empty one is tried again */

typedef struct pending_tx {
    uint8_t *bytes;
    size_t len;
    int64_t arrived; /* monotonic ms */
} pending_tx;

typedef struct solo {
    sl_orderer base;
    sl_ledger *ledger;
    const sl_key *key;
    sl_cert cert;
    sl_order_settings set;
    sl_block_cb cb;
    void *cb_arg;

    pthread_mutex_t mu;
    pthread_cond_t wake;    /* the cutter: something to do */
    pthread_cond_t done_cv; /* flushers: a block was committed */
    pthread_t thread;
    pending_tx *q; /* ring buffer */
    size_t cap, head, n, bytes;
    uint64_t queued, done; /* transactions ever queued / committed or failed */
    uint64_t flush_to;     /* cut at once until done reaches this */
    int stopping;
    sl_error last_err;
    uint64_t last_err_at; /* value of done when last_err was set, 0 for none */
    int64_t due;          /* node time at which the contract next has work (sl_ledger_next_due) */
    int64_t retry_at;     /* monotonic ms before which no empty block is cut (after a failure) */
} solo;

static int64_t clock_ms(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int grow(solo *s)
{
    size_t cap = s->cap ? s->cap * 2 : 1024;
    pending_tx *q = malloc(cap * sizeof(*q));
    if (!q)
        return SL_ENOMEM;
    for (size_t i = 0; i < s->n; i++)
        q[i] = s->q[(s->head + i) % s->cap];
    free(s->q);
    s->q = q;
    s->cap = cap;
    s->head = 0;
    return 0;
}

static int solo_submit(sl_orderer *o, const uint8_t *tx, size_t len, uint8_t id[SL_HASH_LEN],
                       sl_error *err)
{
    solo *s = (solo *)o;
    int rc = sl_ledger_precheck(s->ledger, tx, len, sl__order_now(&s->set), id, err);
    if (rc)
        return rc;
    uint8_t *copy = malloc(len ? len : 1);
    if (!copy)
        return sl_error_set(err, SL_ENOMEM, NULL, "out of memory");
    memcpy(copy, tx, len);
    pthread_mutex_lock(&s->mu);
    if (s->stopping)
        rc = sl_error_set(err, SL_ESTATE, "orderer", "the orderer is stopping");
    else if (s->n >= s->set.queue_max)
        rc =
            sl_error_set(err, SL_EBUSY, "orderer", "%zu transactions are waiting; try again", s->n);
    else if (s->n == s->cap && grow(s))
        rc = sl_error_set(err, SL_ENOMEM, NULL, "out of memory");
    if (!rc) {
        s->q[(s->head + s->n) % s->cap] = (pending_tx){copy, len, clock_ms(CLOCK_MONOTONIC)};
        s->n++;
        s->bytes += len;
        s->queued++;
        if (s->n == 1 || s->n >= s->set.max_txs || s->bytes >= s->set.max_bytes)
            pthread_cond_signal(&s->wake);
    }
    pthread_mutex_unlock(&s->mu);
    if (rc)
        free(copy);
    return rc;
}

/* With nothing waiting: how long (monotonic ms) until the contract's due time comes by the
 * node's clock, 0 if it has, -1 if nothing is ever due. Called with the lock held. */
static int64_t time_to_due(const solo *s, int64_t now)
{
    if (s->due == INT64_MAX)
        return -1;
    if (now < s->retry_at)
        return s->retry_at - now;
    int64_t node = sl__order_now(&s->set);
    if (node >= s->due)
        return 0;
    int64_t speed = s->set.clock_speed > 1 ? s->set.clock_speed : 1;
    int64_t left = s->due - node;
    int64_t wall = left / speed + (left % speed != 0); /* rounded up: never wake too early */
    return wall < DUE_SLEEP_MAX_MS ? wall : DUE_SLEEP_MAX_MS;
}

/* How long the cutter may still sleep (monotonic ms) before it must look again; 0 to cut now,
 * -1 to sleep until woken. Called with the lock held. */
static int64_t time_to_cut(const solo *s, int64_t now)
{
    if (s->n >= s->set.max_txs || s->bytes >= s->set.max_bytes || s->stopping ||
        (s->flush_to > s->done && s->n > 0))
        return 0;
    if (s->n > 0) {
        int64_t due = s->q[s->head].arrived + s->set.timeout_ms;
        return due > now ? due - now : 0;
    }
    return time_to_due(s, now);
}

static void sleep_on(solo *s, int64_t ms)
{
    if (ms < 0) {
        pthread_cond_wait(&s->wake, &s->mu);
        return;
    }
    struct timespec ts = sl_deadline_after(ms);
    pthread_cond_timedwait(&s->wake, &s->mu, &ts);
}

/* Takes the next block's transactions off the queue (lock held). */
static size_t take(solo *s, const uint8_t **txs, size_t *lens, pending_tx *taken)
{
    size_t k = 0, bytes = 0;
    while (k < s->n && k < s->set.max_txs) {
        pending_tx *p = &s->q[(s->head + k) % s->cap];
        if (k > 0 && bytes + p->len > s->set.max_bytes)
            break;
        bytes += p->len;
        taken[k] = *p;
        txs[k] = p->bytes;
        lens[k] = p->len;
        k++;
    }
    s->head = (s->head + k) % (s->cap ? s->cap : 1);
    s->n -= k;
    s->bytes -= bytes;
    return k;
}

/* What the block callback hears of a block that could not be committed: the ids of its
 * transactions, which are dropped, so their submitters learn of it at once. */
static void failed_info(const uint8_t **txs, const size_t *lens, size_t k,
                        uint8_t (*ids)[SL_HASH_LEN], sl_commit_info *info)
{
    for (size_t i = 0; i < k; i++)
        sl_sha256(txs[i], lens[i], ids[i]);
    *info = (sl_commit_info){.n_tx = k, .ids = (const uint8_t(*)[SL_HASH_LEN])ids};
}

static void commit_block(solo *s, const uint8_t **txs, size_t *lens, pending_tx *taken,
                         uint8_t (*ids)[SL_HASH_LEN], size_t k)
{
    sl_commit_info info;
    sl_error err = {0};
    int rc = sl_ledger_commit(s->ledger, txs, lens, k, sl__order_now(&s->set), s->key, &s->cert,
                              &info, &err);
    if (rc)
        failed_info(txs, lens, k, ids, &info);
    if (s->cb)
        s->cb(s->cb_arg, &info, rc ? &err : NULL);
    for (size_t i = 0; i < k; i++)
        free(taken[i].bytes);
    int64_t due = sl_ledger_next_due(s->ledger);
    pthread_mutex_lock(&s->mu);
    s->done += k;
    s->due = due;
    if (rc) {
        s->last_err = err;
        s->last_err_at = s->done;
        s->retry_at = clock_ms(CLOCK_MONOTONIC) + RETRY_MS;
    }
    pthread_cond_broadcast(&s->done_cv);
}

static void *cutter(void *arg)
{
    solo *s = arg;
    size_t max = s->set.max_txs;
    const uint8_t **txs = malloc(max * sizeof(*txs));
    size_t *lens = malloc(max * sizeof(*lens));
    pending_tx *taken = malloc(max * sizeof(*taken));
    uint8_t(*ids)[SL_HASH_LEN] = malloc(max * sizeof(*ids));
    pthread_mutex_lock(&s->mu);
    while (txs && lens && taken && ids) {
        int64_t wait = time_to_cut(s, clock_ms(CLOCK_MONOTONIC));
        if (s->stopping && s->n == 0)
            break;
        if (wait != 0) {
            sleep_on(s, wait);
            continue;
        }
        size_t k = take(s, txs, lens, taken);
        pthread_mutex_unlock(&s->mu);
        commit_block(s, txs, lens, taken, ids, k); /* returns with the lock held */
    }
    if (!(txs && lens && taken && ids)) { /* cannot work: fail everything and every flush */
        sl_error_set(&s->last_err, SL_ENOMEM, NULL, "orderer out of memory");
        s->last_err_at = UINT64_MAX;
        s->stopping = 1;
        pthread_cond_broadcast(&s->done_cv);
    }
    pthread_mutex_unlock(&s->mu);
    free(txs);
    free(lens);
    free(taken);
    free(ids);
    return NULL;
}

static int solo_flush(sl_orderer *o, sl_error *err)
{
    solo *s = (solo *)o;
    pthread_mutex_lock(&s->mu);
    uint64_t target = s->queued, from = s->done;
    if (target > s->flush_to)
        s->flush_to = target;
    pthread_cond_signal(&s->wake);
    while (s->done < target && !(s->stopping && s->last_err_at == UINT64_MAX))
        pthread_cond_wait(&s->done_cv, &s->mu);
    int rc = 0;
    if (s->last_err_at > from) {
        if (err)
            *err = s->last_err;
        rc = s->last_err.code ? s->last_err.code : SL_EIO;
    }
    pthread_mutex_unlock(&s->mu);
    return rc;
}

static void solo_free(sl_orderer *o)
{
    solo *s = (solo *)o;
    pthread_mutex_lock(&s->mu);
    s->stopping = 1;
    pthread_cond_signal(&s->wake);
    pthread_mutex_unlock(&s->mu);
    pthread_join(s->thread, NULL);
    for (size_t i = 0; i < s->n; i++)
        free(s->q[(s->head + i) % s->cap].bytes);
    free(s->q);
    pthread_cond_destroy(&s->wake);
    pthread_cond_destroy(&s->done_cv);
    pthread_mutex_destroy(&s->mu);
    free(s);
}

static const sl_orderer_ops solo_ops = {"solo", solo_submit, solo_flush, solo_free};

static void settings_from_channel(sl_order_settings *set, const sl_channel_spec *ch)
{
    if (!set->max_txs)
        set->max_txs = ch->max_block_txs;
    if (!set->max_bytes)
        set->max_bytes = ch->max_block_bytes;
    if (!set->timeout_ms)
        set->timeout_ms = ch->block_timeout_ms;
    if (!set->queue_max)
        set->queue_max = 100000;
}

int sl_solo_new(sl_ledger *l, const sl_key *key, const sl_cert *cert,
                const sl_order_settings *settings, sl_block_cb cb, void *arg, sl_orderer **out,
                sl_error *err)
{
    *out = NULL;
    uint8_t pk[SL_PK_LEN];
    sl_key_public(key, pk);
    if (memcmp(pk, cert->pk, SL_PK_LEN) != 0 || cert->role != SL_ROLE_NODE)
        return sl_error_set(err, SL_EINVAL, "cert",
                            "the orderer needs a node certificate for "
                            "its own key");
    solo *s = calloc(1, sizeof(*s));
    if (!s)
        return sl_error_set(err, SL_ENOMEM, NULL, "out of memory");
    *s = (solo){
        .base = {&solo_ops}, .ledger = l, .key = key, .cert = *cert, .cb = cb, .cb_arg = arg};
    if (settings)
        s->set = *settings;
    settings_from_channel(&s->set, sl_ledger_channel(l));
    s->due = sl_ledger_next_due(l);
    if (pthread_mutex_init(&s->mu, NULL) || sl_cond_init_monotonic(&s->wake) ||
        pthread_cond_init(&s->done_cv, NULL) || pthread_create(&s->thread, NULL, cutter, s) != 0) {
        free(s); /* a partly initialised pthread object holds no resources on Linux */
        return sl_error_set(err, SL_ENOMEM, NULL, "cannot start the orderer thread");
    }
    *out = &s->base;
    return 0;
}
