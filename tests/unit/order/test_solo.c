/*
 * test_solo.c: the embedded orderer. Transactions submitted from several threads all land in
 * blocks exactly once; blocks respect the count limit; flush waits for everything submitted;
 * a heartbeat cuts empty blocks on an idle channel; a full queue says busy; prechecks refuse
 * bad transactions at the door; freeing commits what is still queued; a block that cannot be
 * stored names its dropped transactions to the callback.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>

#include <cmocka.h>
#include <pthread.h>
#include <time.h>

#include "slaledger/order.h"
#include "support/net.h"

static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

typedef struct seen {
    pthread_mutex_t mu;
    size_t blocks, txs, valid, empty, max_block;
} seen;

static void on_block(void *arg, const sl_commit_info *info, const sl_error *err)
{
    seen *s = arg;
    assert_non_null(info);
    assert_null(err);
    pthread_mutex_lock(&s->mu);
    s->blocks++;
    s->txs += info->n_tx;
    s->valid += info->n_valid;
    s->empty += info->n_tx == 0;
    if (info->n_tx > s->max_block)
        s->max_block = info->n_tx;
    pthread_mutex_unlock(&s->mu);
}

/* n TIME transactions of the node, each with its own nonce. */
static sl_buf *time_txs(net *n, size_t count)
{
    sl_buf *txs = calloc(count, sizeof(*txs));
    assert_non_null(txs);
    for (size_t i = 0; i < count; i++) {
        sl_tx t = net_tx(n, M_NODE, SL_TX_TIME, wall_ms() + NHOUR);
        sl_buf_init(&txs[i]);
        net_sign(n, M_NODE, &t, &txs[i]);
    }
    return txs;
}

typedef struct job {
    sl_orderer *o;
    sl_buf *txs;
    size_t from, to;
} job;

static void *submitter(void *arg)
{
    job *j = arg;
    for (size_t i = j->from; i < j->to; i++) {
        uint8_t id[SL_HASH_LEN];
        sl_error err = {0};
        int rc;
        while ((rc = sl_orderer_submit(j->o, j->txs[i].p, j->txs[i].len, id, &err)) == SL_EBUSY)
            nanosleep(&(struct timespec){0, 100000}, NULL);
        assert_int_equal(rc, 0);
    }
    return NULL;
}

static void test_threads_and_limits(void **state)
{
    (void)state;
    net n;
    net_init_at(&n, wall_ms() - 1000);
    seen s = {.mu = PTHREAD_MUTEX_INITIALIZER};
    sl_order_settings set = {.max_txs = 50, .timeout_ms = 2};
    sl_orderer *o;
    sl_error err = {0};
    assert_int_equal(sl_solo_new(n.l, n.key[M_NODE], &n.cert[M_NODE], &set, on_block, &s, &o, &err),
                     0);
    enum { COUNT = 1200, THREADS = 4 };
    sl_buf *txs = time_txs(&n, COUNT);
    pthread_t t[THREADS];
    job j[THREADS];
    for (int i = 0; i < THREADS; i++) {
        j[i] = (job){o, txs, COUNT * i / THREADS, COUNT * (i + 1) / THREADS};
        assert_int_equal(pthread_create(&t[i], NULL, submitter, &j[i]), 0);
    }
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    assert_int_equal(sl_orderer_flush(o, &err), 0);
    assert_int_equal(s.txs, COUNT);
    assert_int_equal(s.valid, COUNT);
    assert_true(s.max_block <= 50);
    assert_true(s.blocks >= COUNT / 50);
    assert_int_equal(sl_ledger_height(n.l, NULL), s.blocks);

    /* Already in the ledger: refused at the door. */
    uint8_t id[SL_HASH_LEN];
    assert_int_equal(sl_orderer_submit(o, txs[0].p, txs[0].len, id, &err), SL_EDUP);
    assert_int_equal(sl_orderer_submit(o, (const uint8_t *)"junk", 4, id, &err), SL_EINVAL);
    sl_orderer_free(o);
    for (size_t i = 0; i < COUNT; i++)
        sl_buf_release(&txs[i]);
    free(txs);
    net_free(&n);
}

static void test_heartbeat_busy_and_free(void **state)
{
    (void)state;
    net n;
    net_init_at(&n, wall_ms() - 1000);
    seen s = {.mu = PTHREAD_MUTEX_INITIALIZER};
    /* Never cut by count or time within the test, but an empty block every 20 ms. */
    sl_order_settings set = {
        .max_txs = 1000, .timeout_ms = 60000, .heartbeat_ms = 20, .queue_max = 3};
    sl_orderer *o;
    sl_error err = {0};
    assert_int_equal(sl_solo_new(n.l, n.key[M_NODE], &n.cert[M_NODE], &set, on_block, &s, &o, &err),
                     0);
    nanosleep(&(struct timespec){0, 150000000}, NULL);
    pthread_mutex_lock(&s.mu);
    size_t empty = s.empty;
    pthread_mutex_unlock(&s.mu);
    assert_true(empty >= 3);

    /* Waiting transactions are cut by count, timeout or flush, never by the heartbeat: the
     * fourth finds the queue full. */
    sl_buf *txs = time_txs(&n, 4);
    uint8_t id[SL_HASH_LEN];
    int busy = 0;
    for (int i = 0; i < 4; i++) {
        int rc = sl_orderer_submit(o, txs[i].p, txs[i].len, id, &err);
        busy += rc == SL_EBUSY;
        assert_true(rc == 0 || rc == SL_EBUSY);
    }
    assert_int_equal(busy, 1);
    sl_orderer_free(o); /* commits what is queued */
    assert_int_equal(s.txs, 3);
    for (int i = 0; i < 4; i++)
        sl_buf_release(&txs[i]);
    free(txs);
    net_free(&n);
}

/* What the callback heard of a block that failed. */
typedef struct failed {
    int calls, code;
    size_t n_tx;
    uint8_t ids[4][SL_HASH_LEN];
} failed;

static void on_failed(void *arg, const sl_commit_info *info, const sl_error *err)
{
    failed *f = arg;
    assert_non_null(info);
    assert_non_null(err);
    f->calls++;
    f->code = err->code;
    f->n_tx = info->n_tx;
    assert_int_equal(info->height, 0);
    assert_int_equal(info->n_events, 0);
    for (size_t i = 0; i < info->n_tx && i < 4; i++)
        memcpy(f->ids[i], info->ids[i], SL_HASH_LEN);
}

/* A block the ledger cannot store (here: a ledger open read-only) reaches the callback with the
 * ids of its dropped transactions, so that their submitters are told at once, and flush
 * returns the error. */
static void test_failed_block_names_its_transactions(void **state)
{
    (void)state;
    net n;
    net_init_at(&n, wall_ms() - 1000);
    sl_ledger *ro = NULL;
    sl_error err = {0};
    assert_int_equal(sl_ledger_open(n.path, SL_LEDGER_READONLY, &ro, &err), 0);
    failed f = {0};
    sl_order_settings set = {.max_txs = 10, .timeout_ms = 60000};
    sl_orderer *o;
    assert_int_equal(sl_solo_new(ro, n.key[M_NODE], &n.cert[M_NODE], &set, on_failed, &f, &o, &err),
                     0);
    sl_buf *txs = time_txs(&n, 2);
    uint8_t id[2][SL_HASH_LEN];
    for (int i = 0; i < 2; i++)
        assert_int_equal(sl_orderer_submit(o, txs[i].p, txs[i].len, id[i], &err), 0);
    assert_int_equal(sl_orderer_flush(o, &err), SL_EPERM);
    assert_int_equal(f.calls, 1);
    assert_int_equal(f.code, SL_EPERM);
    assert_int_equal(f.n_tx, 2);
    assert_memory_equal(f.ids[0], id[0], SL_HASH_LEN);
    assert_memory_equal(f.ids[1], id[1], SL_HASH_LEN);
    assert_int_equal(sl_ledger_height(ro, NULL), 0);
    sl_orderer_free(o);
    sl_ledger_close(ro);
    for (int i = 0; i < 2; i++)
        sl_buf_release(&txs[i]);
    free(txs);
    net_free(&n);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_threads_and_limits),
        cmocka_unit_test(test_heartbeat_busy_and_free),
        cmocka_unit_test(test_failed_block_names_its_transactions),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
