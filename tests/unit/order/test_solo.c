/*
 * test_solo.c: the embedded orderer. Transactions submitted from several threads all land in
 * blocks exactly once; blocks respect the count limit; flush waits for everything submitted;
 * with nothing waiting, blocks are cut only at the contract's due times (an idle channel
 * without an agreement grows by none; with one, a block comes at each deadline and close, by
 * the node's clock, and none between); a full queue says busy; prechecks refuse bad
 * transactions at the door; freeing commits what is still queued; a block that cannot be
 * stored names its dropped transactions to the callback.
 *
 * The due-time tests run the orderer on a clock the test moves by hand (settings.clock), with
 * a clock speed so high that every wait for a due time is a millisecond of the wall: the
 * orderer looks again each millisecond, and the test decides what time it finds.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdatomic.h>
#include <stdint.h>

#include <cmocka.h>
#include <pthread.h>
#include <time.h>

#include "slaledger/order.h"
#include "slaledger/wait.h"
#include "support/net.h"

#define NMIN (60 * NSEC)
#define NDAY (24 * NHOUR)

typedef struct seen {
    pthread_mutex_t mu;
    pthread_cond_t cv; /* a block was committed */
    size_t blocks, txs, valid, empty, max_block;
    int64_t last_time;  /* the last block's timestamp */
    size_t last_events; /* contract events of the last block */
    size_t last_kinds[SL_EV_CLOSED + 1];
} seen;

static void seen_init(seen *s)
{
    memset(s, 0, sizeof(*s));
    pthread_mutex_init(&s->mu, NULL);
    assert_int_equal(sl_cond_init_monotonic(&s->cv), 0);
}

static void seen_release(seen *s)
{
    pthread_cond_destroy(&s->cv);
    pthread_mutex_destroy(&s->mu);
}

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
    s->last_time = info->time_ms;
    s->last_events = info->n_events;
    memset(s->last_kinds, 0, sizeof(s->last_kinds));
    for (size_t i = 0; i < info->n_events; i++)
        s->last_kinds[info->events[i].kind]++;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
}

/* Waits until `blocks` blocks were committed or ms passed; returns how many were. */
static size_t wait_blocks(seen *s, size_t blocks, int64_t ms)
{
    struct timespec until = sl_deadline_after(ms);
    pthread_mutex_lock(&s->mu);
    while (s->blocks < blocks && pthread_cond_timedwait(&s->cv, &s->mu, &until) == 0)
        ;
    size_t n = s->blocks;
    pthread_mutex_unlock(&s->mu);
    return n;
}

/* A clock the test sets; the orderer reads it as the node's. */
typedef struct fake_clock {
    _Atomic int64_t now;
} fake_clock;

static int64_t fake_now(void *arg)
{
    return atomic_load(&((fake_clock *)arg)->now);
}

/* Settings for the fake clock: the speed makes every wait for a due time 1 ms of the wall. */
static sl_order_settings on_fake_clock(fake_clock *c)
{
    return (sl_order_settings){.clock = fake_now, .clock_arg = c, .clock_speed = 1000000000};
}

/* Sets the clock to t and gives the orderer 50 ms (50 looks at the clock) in which no block
 * may come: the count stays `blocks`. */
static void quiet_at(seen *s, fake_clock *c, int64_t t, size_t blocks)
{
    atomic_store(&c->now, t);
    assert_int_equal(wait_blocks(s, blocks + 1, 50), blocks);
}

/* Sets the clock to t and waits (bounded) for block number `blocks`, which must be stamped t. */
static void block_at(seen *s, fake_clock *c, int64_t t, size_t blocks)
{
    atomic_store(&c->now, t);
    assert_int_equal(wait_blocks(s, blocks, 10000), blocks);
    pthread_mutex_lock(&s->mu);
    assert_int_equal(s->last_time, t);
    pthread_mutex_unlock(&s->mu);
}

/* n TIME transactions of the node, each with its own nonce. */
static sl_buf *time_txs(net *n, size_t count)
{
    sl_buf *txs = calloc(count, sizeof(*txs));
    assert_non_null(txs);
    for (size_t i = 0; i < count; i++) {
        sl_tx t = net_tx(n, M_NODE, SL_TX_TIME, net_wall_ms() + NHOUR);
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
    net_init_at(&n, net_wall_ms() - 1000);
    seen s;
    seen_init(&s);
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
    seen_release(&s);
    net_free(&n);
}

static void test_busy_and_free(void **state)
{
    (void)state;
    net n;
    net_init_at(&n, net_wall_ms() - 1000);
    seen s;
    seen_init(&s);
    /* Never cut by count or time within the test. */
    sl_order_settings set = {.max_txs = 1000, .timeout_ms = 60000, .queue_max = 3};
    sl_orderer *o;
    sl_error err = {0};
    assert_int_equal(sl_solo_new(n.l, n.key[M_NODE], &n.cert[M_NODE], &set, on_block, &s, &o, &err),
                     0);

    /* Waiting transactions are cut by count, timeout or flush: the fourth finds the queue
     * full. */
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
    assert_int_equal(s.empty, 0);
    for (int i = 0; i < 4; i++)
        sl_buf_release(&txs[i]);
    free(txs);
    seen_release(&s);
    net_free(&n);
}

/* Without an agreement nothing is ever due: a month of the node's clock passes without a block.
 * A transaction still gets its block within the block timeout, though the clock stands still
 * (transaction deadlines are the wall's), and no block follows it. */
static void test_idle_channel_cuts_nothing(void **state)
{
    (void)state;
    net n;
    net_init(&n);
    seen s;
    seen_init(&s);
    fake_clock c = {NT0};
    sl_order_settings set = on_fake_clock(&c);
    sl_orderer *o;
    sl_error err = {0};
    assert_int_equal(sl_solo_new(n.l, n.key[M_NODE], &n.cert[M_NODE], &set, on_block, &s, &o, &err),
                     0);
    for (int day = 1; day <= 30; day++) {
        atomic_store(&c.now, NT0 + day * NDAY);
        assert_int_equal(wait_blocks(&s, 1, 5), 0);
    }
    quiet_at(&s, &c, NT0 + 31 * NDAY, 0);
    assert_int_equal(sl_ledger_height(n.l, NULL), 0);

    int64_t now = NT0 + 31 * NDAY;
    sl_tx t = net_tx(&n, M_NODE, SL_TX_TIME, now + NHOUR);
    sl_buf tx;
    sl_buf_init(&tx);
    net_sign(&n, M_NODE, &t, &tx);
    uint8_t id[SL_HASH_LEN];
    assert_int_equal(sl_orderer_submit(o, tx.p, tx.len, id, &err), 0);
    assert_int_equal(wait_blocks(&s, 1, 10000), 1);
    assert_int_equal(s.txs, 1);
    assert_int_equal(s.last_time, now);
    quiet_at(&s, &c, now + NDAY, 1);
    sl_orderer_free(o);
    assert_int_equal(s.blocks, 1);
    sl_buf_release(&tx);
    seen_release(&s);
    net_free(&n);
}

/* Three hours from NT0 in hourly windows of 60 s intervals, 10 s grace, two of three oracles
 * decide. */
static void agreement_doc(char *doc, size_t cap, size_t *len)
{
    char from[40], to[40];
    sl_time_format(NT0, from, sizeof(from));
    sl_time_format(NT0 + 3 * NHOUR, to, sizeof(to));
    int w = snprintf(
        doc, cap,
        "apiVersion: slaledger/v1\nkind: Agreement\nmetadata: {name: web}\nspec:\n"
        "  channel: univie-aws\n  consumer: univie\n  provider: aws\n"
        "  period: {start: %s, end: %s}\n  fee: {amount: \"1000.00\", currency: EUR}\n"
        "  grace: 10s\n  services: [{name: web, kind: http, source: {url: "
        "\"http://127.0.0.1/\"}}]\n"
        "  oracles: {members: [univie-mon, aws-mon, watchdog], policy: median, quorum: 2}\n"
        "  objectives:\n    - {name: uptime, metric: availability, interval: 60s, window: 1h, "
        "target: \">= 99.0%%\"}\n",
        from, to);
    assert_true(w > 0 && (size_t)w < cap);
    *len = (size_t)w;
}

/* Issue, propose, accept and deposit, committed directly at time t. */
static void activate(net *n, int64_t t)
{
    char doc[2048];
    size_t len;
    agreement_doc(doc, sizeof(doc), &len);
    assert_int_equal(net_activate(n, doc, len, "web", 100000, t), 4);
}

/* One oracle's report of interval k (60 s from NT0), signed at now. */
static void report_tx(net *n, int64_t k, int64_t now, sl_buf *out)
{
    sl_tx_item it = {.start_ms = NT0 + k * NMIN, .end_ms = NT0 + (k + 1) * NMIN, .value = 1000000};
    snprintf(it.agreement, sizeof(it.agreement), "web");
    snprintf(it.objective, sizeof(it.objective), "uptime");
    sl_tx t = net_tx(n, M_UNIVIE_MON, SL_TX_REPORT, now + NHOUR);
    t.items = &it;
    t.n_items = 1;
    net_sign(n, M_UNIVIE_MON, &t, out);
}

/* With an active agreement, empty blocks come when the node's clock reaches what is due (a
 * window's close, a waiting interval's deadline, the period's end), stamped with that time so
 * that their tick does the work, and never between. */
static void test_blocks_at_due_times(void **state)
{
    (void)state;
    net n;
    net_init(&n);
    activate(&n, NT0 - 10 * NSEC);
    seen s;
    seen_init(&s);
    fake_clock c = {NT0 - 5 * NSEC};
    sl_order_settings set = on_fake_clock(&c);
    sl_orderer *o;
    sl_error err = {0};
    assert_int_equal(sl_solo_new(n.l, n.key[M_NODE], &n.cert[M_NODE], &set, on_block, &s, &o, &err),
                     0);

    /* The first window closes at 1 h + grace; nothing before. */
    int64_t due = NT0 + NHOUR + 10 * NSEC;
    quiet_at(&s, &c, NT0 + 30 * NMIN, 0);
    quiet_at(&s, &c, due - 1, 0);
    block_at(&s, &c, due, 1);
    assert_int_equal(s.last_kinds[SL_EV_WINDOW_CLOSED], 1);
    assert_int_equal(s.empty, 1);

    /* A report gets its block within the block timeout; one report of two needed waits, so its
     * interval's deadline is due, where it is decided. */
    int64_t now = NT0 + 66 * NMIN;
    sl_buf tx;
    sl_buf_init(&tx);
    report_tx(&n, 65, now, &tx);
    atomic_store(&c.now, now);
    uint8_t id[SL_HASH_LEN];
    assert_int_equal(sl_orderer_submit(o, tx.p, tx.len, id, &err), 0);
    assert_int_equal(wait_blocks(&s, 2, 10000), 2);
    assert_int_equal(s.valid, 1);
    assert_int_equal(s.last_time, now);
    due = now + 10 * NSEC;
    quiet_at(&s, &c, due - 1, 2);
    block_at(&s, &c, due, 3);
    assert_int_equal(s.last_kinds[SL_EV_DECIDED], 1);

    /* The next is the second window's close: a clock that jumps past it gets one block, stamped
     * when the orderer saw it, which does the due work. */
    quiet_at(&s, &c, NT0 + 2 * NHOUR + 10 * NSEC - 1, 3);
    block_at(&s, &c, NT0 + 2 * NHOUR + 30 * NMIN, 4);
    assert_int_equal(s.last_kinds[SL_EV_WINDOW_CLOSED], 1);

    /* The period's end closes the agreement; after that nothing is ever due. */
    quiet_at(&s, &c, NT0 + 3 * NHOUR + 10 * NSEC - 1, 4);
    block_at(&s, &c, NT0 + 3 * NHOUR + 10 * NSEC, 5);
    assert_int_equal(s.last_kinds[SL_EV_CLOSED], 1);
    assert_int_equal(s.last_kinds[SL_EV_SETTLEMENT], 1);
    quiet_at(&s, &c, NT0 + 30 * NDAY, 5);
    sl_orderer_free(o);
    assert_int_equal(s.blocks, 5);
    assert_int_equal(s.empty, 4);
    sl_buf_release(&tx);
    seen_release(&s);
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
    net_init_at(&n, net_wall_ms() - 1000);
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
        cmocka_unit_test(test_busy_and_free),
        cmocka_unit_test(test_idle_channel_cuts_nothing),
        cmocka_unit_test(test_blocks_at_due_times),
        cmocka_unit_test(test_failed_block_names_its_transactions),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
