/*
 * follow.c: the follower, the ordering backend of a member node that does not order the
 * channel. Its users' transactions go to the channel's orderer (sl_order_remote.submit, after
 * the local precheck, so bad input is refused here with the same errors as on the orderer),
 * and one thread fetches the orderer's blocks in height order (sl_order_remote.fetch) and
 * appends each with sl_ledger_append, which re-checks the block's chain, orderer, signatures
 * and transactions and re-executes it: a block whose results or state differ from what this
 * node computes is never applied.
 *
 * A block this node refuses halts the follower for good: it applies nothing more of the
 * channel (it would serve a fork otherwise), refuses submissions with the reason, and tells the
 * block callback. An orderer that cannot be reached is retried with a growing pause (50 ms to
 * 5 s) and nothing is lost: the next fetch asks for the same height.
 *
 * Ownership: the follower borrows the ledger and the remote (both outlive it). Thread-safety:
 * submit and flush from any thread; the remote's functions are called from the submitters'
 * threads (submit) and the follower's thread (fetch, cancel from free).
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <pthread.h>

#include "order/order_int.h"
#include "slaledger/wait.h"

#define FETCH_WAIT_MS  10000 /* one fetch waits this long for a block to be cut */
#define RETRY_FIRST_MS 50
#define RETRY_MAX_MS   5000
#define FLUSH_MAX_MS   30000

typedef struct follower {
    sl_orderer base;
    sl_ledger *ledger;
    sl_order_remote remote;
    sl_order_settings set;
    sl_block_cb cb;
    void *cb_arg;

    pthread_mutex_t mu;
    pthread_cond_t cv; /* a block was applied, the follower halted, or it is stopping */
    pthread_t thread;
    int stopping;
    int halted;       /* a block was refused: nothing more is applied */
    sl_error halt;    /* why */
    uint64_t applied; /* blocks applied since start, for flush */
} follower;

static int follow_submit(sl_orderer *o, const uint8_t *tx, size_t len, uint8_t id[SL_HASH_LEN],
                         sl_error *err)
{
    follower *f = (follower *)o;
    pthread_mutex_lock(&f->mu);
    int halted = f->halted;
    sl_error why = f->halt;
    pthread_mutex_unlock(&f->mu);
    if (halted)
        return sl_error_set(err, SL_ESTATE, "channel",
                            "this node stopped applying channel '%s' (%s); nothing is submitted "
                            "until an operator has looked",
                            sl_ledger_channel(f->ledger)->name, why.msg);
    int rc = sl_ledger_precheck(f->ledger, tx, len, sl__order_now(&f->set), id, err);
    if (!rc)
        rc = f->remote.submit(f->remote.arg, tx, len, err);
    return rc;
}

/* Sleeps up to ms unless stopping (lock held). */
static void pause_locked(follower *f, int64_t ms)
{
    struct timespec at = sl_deadline_after(ms);
    while (!f->stopping && pthread_cond_timedwait(&f->cv, &f->mu, &at) == 0)
        ;
}

/* Appends one fetched block; a refusal halts the follower. */
static void apply(follower *f, const sl_buf *block, uint64_t height)
{
    sl_commit_info info;
    sl_error err = {0};
    int rc = sl_ledger_append(f->ledger, block->p, block->len, &info, &err);
    if (rc == SL_ENOMEM || rc == SL_EIO) {
        /* Our own trouble, not the block's: the same height is fetched again. */
        sl_commit_info none = {.height = height};
        if (f->cb)
            f->cb(f->cb_arg, &none, &err);
        pthread_mutex_lock(&f->mu);
        pause_locked(f, RETRY_MAX_MS);
        pthread_mutex_unlock(&f->mu);
        return;
    }
    if (rc) {
        sl_error why;
        sl_error_set(&why, rc, "block", "block %llu from the orderer was refused: %s%s%s",
                     (unsigned long long)height, err.field, err.field[0] ? ": " : "", err.msg);
        sl_commit_info none = {.height = height};
        pthread_mutex_lock(&f->mu);
        f->halted = 1;
        f->halt = why;
        pthread_cond_broadcast(&f->cv);
        pthread_mutex_unlock(&f->mu);
        if (f->cb)
            f->cb(f->cb_arg, &none, &why);
        return;
    }
    if (f->cb)
        f->cb(f->cb_arg, &info, NULL);
    pthread_mutex_lock(&f->mu);
    f->applied++;
    pthread_cond_broadcast(&f->cv);
    pthread_mutex_unlock(&f->mu);
}

static void *follow_main(void *arg)
{
    follower *f = arg;
    sl_buf block;
    int64_t retry = RETRY_FIRST_MS;
    sl_buf_init(&block);
    pthread_mutex_lock(&f->mu);
    while (!f->stopping && !f->halted) {
        pthread_mutex_unlock(&f->mu);
        uint64_t next = sl_ledger_height(f->ledger, NULL) + 1;
        sl_error err = {0};
        sl_buf_reset(&block);
        int rc = f->remote.fetch(f->remote.arg, next, FETCH_WAIT_MS, &block, &err);
        if (!rc && block.err)
            rc = SL_ENOMEM;
        if (!rc) {
            apply(f, &block, next);
            retry = RETRY_FIRST_MS;
        }
        pthread_mutex_lock(&f->mu);
        if (rc && rc != SL_ENOENT) {
            pause_locked(f, retry);
            retry = retry * 2 > RETRY_MAX_MS ? RETRY_MAX_MS : retry * 2;
        }
    }
    pthread_mutex_unlock(&f->mu);
    sl_buf_release(&block);
    return NULL;
}

/* The orderer's queue is elsewhere: a flush waits until a block has been applied after the
 * call, so whatever the orderer had cut by then is here, or until it is clear none will be. */
static int follow_flush(sl_orderer *o, sl_error *err)
{
    follower *f = (follower *)o;
    struct timespec at = sl_deadline_after(FLUSH_MAX_MS);
    int rc = 0;
    pthread_mutex_lock(&f->mu);
    uint64_t from = f->applied;
    while (f->applied == from && !f->halted && !f->stopping && rc == 0)
        rc = pthread_cond_timedwait(&f->cv, &f->mu, &at);
    if (f->halted) {
        if (err)
            *err = f->halt;
        rc = f->halt.code;
    } else if (f->applied == from)
        rc = sl_error_set(err, SL_ETIME, "orderer", "no block came from the orderer in %d s",
                          FLUSH_MAX_MS / 1000);
    else
        rc = 0;
    pthread_mutex_unlock(&f->mu);
    return rc;
}

static void follow_free(sl_orderer *o)
{
    follower *f = (follower *)o;
    pthread_mutex_lock(&f->mu);
    f->stopping = 1;
    pthread_cond_broadcast(&f->cv);
    pthread_mutex_unlock(&f->mu);
    if (f->remote.cancel)
        f->remote.cancel(f->remote.arg);
    pthread_join(f->thread, NULL);
    pthread_cond_destroy(&f->cv);
    pthread_mutex_destroy(&f->mu);
    free(f);
}

static const sl_orderer_ops follow_ops = {"follower", follow_submit, follow_flush, follow_free};

int sl_follower_new(sl_ledger *l, const sl_order_remote *remote, const sl_order_settings *settings,
                    sl_block_cb cb, void *arg, sl_orderer **out, sl_error *err)
{
    *out = NULL;
    if (!remote || !remote->submit || !remote->fetch)
        return sl_error_set(err, SL_EINVAL, "remote", "a follower needs a way to its orderer");
    follower *f = calloc(1, sizeof(*f));
    if (!f)
        return sl_error_set(err, SL_ENOMEM, NULL, "out of memory");
    *f = (follower){.base = {&follow_ops}, .ledger = l, .remote = *remote, .cb = cb, .cb_arg = arg};
    if (settings)
        f->set = *settings;
    if (pthread_mutex_init(&f->mu, NULL) != 0) {
        free(f);
        return sl_error_set(err, SL_ENOMEM, NULL, "cannot start the follower");
    }
    if (sl_cond_init_monotonic(&f->cv) != 0) {
        pthread_mutex_destroy(&f->mu);
        free(f);
        return sl_error_set(err, SL_ENOMEM, NULL, "cannot start the follower");
    }
    if (pthread_create(&f->thread, NULL, follow_main, f) != 0) {
        pthread_cond_destroy(&f->cv);
        pthread_mutex_destroy(&f->mu);
        free(f);
        return sl_error_set(err, SL_ENOMEM, NULL, "cannot start the follower thread");
    }
    *out = &f->base;
    return 0;
}
