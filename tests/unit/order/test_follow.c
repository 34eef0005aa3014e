/*
 * test_follow.c: the follower. A second ledger of the same channel follows a solo orderer
 * through an in-process remote: transactions submitted to the follower land in the orderer's
 * blocks and both copies reach the same head; an orderer that cannot be reached for a while
 * loses nothing; a block the follower refuses (re-signed by another node) halts it for good
 * with the reason, and submissions then say so; freeing cancels a fetch in progress.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>

#include <cmocka.h>
#include <pthread.h>
#include <time.h>

#include "ledger/ledger_int.h"
#include "slaledger/order.h"
#include "slaledger/wait.h"
#include "support/net.h"

/* The orderer's side: a solo orderer on the first ledger, reached in process. */
typedef struct origin {
    net n;
    sl_orderer *solo;
    pthread_mutex_t mu;
    pthread_cond_t cv; /* a block was cut, or cancel */
    int down;          /* fetch and submit fail as an unreachable orderer would */
    int cancelled;
    sl_key *forger_key; /* when set, served blocks are re-signed by this node */
    sl_cert forger;
    size_t fetches;
} origin;

static void origin_block(void *arg, const sl_commit_info *info, const sl_error *err)
{
    origin *o = arg;
    (void)info;
    assert_null(err);
    pthread_mutex_lock(&o->mu);
    pthread_cond_broadcast(&o->cv);
    pthread_mutex_unlock(&o->mu);
}

static int remote_submit(void *arg, const uint8_t *tx, size_t len, sl_error *err)
{
    origin *o = arg;
    uint8_t id[SL_HASH_LEN];
    pthread_mutex_lock(&o->mu);
    int down = o->down;
    pthread_mutex_unlock(&o->mu);
    if (down)
        return sl_error_set(err, SL_EIO, "orderer", "connection refused");
    return sl_orderer_submit(o->solo, tx, len, id, err);
}

/* Re-signs the block bytes at out[at..] as the forger's. */
static int forge(origin *o, sl_buf *out, size_t at)
{
    sl_buf orig;
    sl_buf_init(&orig);
    sl_buf_put(&orig, out->p + at, out->len - at);
    sl_block *b = NULL;
    sl_error err;
    int rc = orig.err ? orig.err : sl_block_decode(orig.p, orig.len, &b, &err);
    if (!rc)
        rc = sl__header_sign(&b->header, o->forger_key, &o->forger);
    if (!rc) {
        out->len = at;
        rc = sl__block_encode(&b->header, b->txs, b->tx_lens, b->n, out);
    }
    sl_block_free(b);
    sl_buf_release(&orig);
    return rc;
}

static int remote_fetch(void *arg, uint64_t height, int64_t wait_ms, sl_buf *out, sl_error *err)
{
    origin *o = arg;
    struct timespec at = sl_deadline_after(wait_ms);
    pthread_mutex_lock(&o->mu);
    o->fetches++;
    while (!o->cancelled && (o->down || sl_ledger_height(o->n.l, NULL) < height))
        if (pthread_cond_timedwait(&o->cv, &o->mu, &at) != 0)
            break;
    int down = o->down, cancelled = o->cancelled;
    pthread_mutex_unlock(&o->mu);
    if (down)
        return sl_error_set(err, SL_EIO, "orderer", "connection refused");
    if (cancelled || sl_ledger_height(o->n.l, NULL) < height)
        return SL_ENOENT;
    size_t len = out->len;
    int rc = sl_ledger_block(o->n.l, height, out, err);
    if (!rc && o->forger_key)
        rc = forge(o, out, len);
    return rc;
}

static void remote_cancel(void *arg)
{
    origin *o = arg;
    pthread_mutex_lock(&o->mu);
    o->cancelled = 1;
    pthread_cond_broadcast(&o->cv);
    pthread_mutex_unlock(&o->mu);
}

static void origin_start(origin *o)
{
    memset(o, 0, sizeof(*o));
    net_init_at(&o->n, net_wall_ms() - 1000);
    pthread_mutex_init(&o->mu, NULL);
    assert_int_equal(sl_cond_init_monotonic(&o->cv), 0);
    sl_order_settings set = {.timeout_ms = 2};
    sl_error err = {0};
    assert_int_equal(sl_solo_new(o->n.l, o->n.key[M_NODE], &o->n.cert[M_NODE], &set, origin_block,
                                 o, &o->solo, &err),
                     0);
}

static void origin_stop(origin *o)
{
    sl_orderer_free(o->solo);
    sl_key_free(o->forger_key);
    net_free(&o->n);
    pthread_cond_destroy(&o->cv);
    pthread_mutex_destroy(&o->mu);
}

/* The follower's side: its own ledger of the same genesis, and what its callback heard. */
typedef struct copy {
    char path[256];
    sl_ledger *l;
    sl_orderer *f;
    pthread_mutex_t mu;
    size_t blocks, txs;
    sl_error refused;
} copy;

static void copy_block(void *arg, const sl_commit_info *info, const sl_error *err)
{
    copy *c = arg;
    pthread_mutex_lock(&c->mu);
    if (err)
        c->refused = *err;
    else {
        c->blocks++;
        c->txs += info->n_tx;
    }
    pthread_mutex_unlock(&c->mu);
}

static void copy_start(copy *c, origin *o)
{
    memset(c, 0, sizeof(*c));
    pthread_mutex_init(&c->mu, NULL);
    snprintf(c->path, sizeof(c->path), "%s/follower.db", o->n.dir);
    sl_error err = {0};
    assert_int_equal(sl_ledger_create(c->path, o->n.genesis.p, o->n.genesis.len, &err), 0);
    assert_int_equal(sl_ledger_open(c->path, 0, &c->l, &err), 0);
    sl_order_remote r = {remote_submit, remote_fetch, remote_cancel, o};
    assert_int_equal(sl_follower_new(c->l, &r, NULL, copy_block, c, &c->f, &err), 0);
}

static void copy_stop(copy *c)
{
    sl_orderer_free(c->f);
    sl_ledger_close(c->l);
    pthread_mutex_destroy(&c->mu);
}

static void submit_times(net *n, sl_orderer *to, size_t count, int want)
{
    for (size_t i = 0; i < count; i++) {
        sl_tx t = net_tx(n, M_NODE, SL_TX_TIME, net_wall_ms() + NHOUR);
        sl_buf b;
        sl_buf_init(&b);
        net_sign(n, M_NODE, &t, &b);
        uint8_t id[SL_HASH_LEN];
        sl_error err = {0};
        assert_int_equal(sl_orderer_submit(to, b.p, b.len, id, &err), want);
        sl_buf_release(&b);
    }
}

/* Waits (at most 20 s) until the follower's callback has heard of block height. */
static int reaches(copy *c, uint64_t height)
{
    for (int i = 0; i < 2000; i++) {
        pthread_mutex_lock(&c->mu);
        size_t heard = c->blocks;
        pthread_mutex_unlock(&c->mu);
        if (heard >= height)
            return 1;
        nanosleep(&(struct timespec){0, 10 * 1000000}, NULL);
    }
    return 0;
}

static void test_follows_and_submits(void **state)
{
    (void)state;
    origin o;
    origin_start(&o);
    copy c;
    copy_start(&c, &o);
    submit_times(&o.n, c.f, 40, 0);    /* through the follower */
    submit_times(&o.n, o.solo, 10, 0); /* straight to the orderer */
    sl_error err = {0};
    assert_int_equal(sl_orderer_flush(o.solo, &err), 0);
    uint8_t a[SL_HASH_LEN], b[SL_HASH_LEN];
    uint64_t h = sl_ledger_height(o.n.l, a);
    assert_true(reaches(&c, h));
    assert_int_equal(sl_ledger_height(c.l, b), h);
    assert_memory_equal(a, b, SL_HASH_LEN);
    pthread_mutex_lock(&c.mu);
    assert_int_equal(c.txs, 50);
    assert_int_equal(c.blocks, h);
    pthread_mutex_unlock(&c.mu);
    /* A bad transaction is refused by the follower's own precheck, never sent. */
    uint8_t id[SL_HASH_LEN];
    assert_int_equal(sl_orderer_submit(c.f, (const uint8_t *)"junk", 4, id, &err), SL_EINVAL);

    /* The orderer unreachable: submissions say so; blocks cut meanwhile arrive afterwards. */
    pthread_mutex_lock(&o.mu);
    o.down = 1;
    pthread_mutex_unlock(&o.mu);
    submit_times(&o.n, c.f, 1, SL_EIO);
    submit_times(&o.n, o.solo, 5, 0);
    assert_int_equal(sl_orderer_flush(o.solo, &err), 0);
    nanosleep(&(struct timespec){0, 200 * 1000000}, NULL); /* a few failed fetches */
    pthread_mutex_lock(&o.mu);
    o.down = 0;
    pthread_cond_broadcast(&o.cv);
    pthread_mutex_unlock(&o.mu);
    h = sl_ledger_height(o.n.l, a);
    assert_true(reaches(&c, h));
    sl_ledger_height(c.l, b);
    assert_memory_equal(a, b, SL_HASH_LEN);
    copy_stop(&c);

    /* The copy reopens (replaying every block) at the same head. */
    sl_ledger *again;
    assert_int_equal(sl_ledger_open(c.path, 0, &again, &err), 0);
    assert_int_equal(sl_ledger_height(again, b), h);
    assert_memory_equal(a, b, SL_HASH_LEN);
    sl_ledger_close(again);
    origin_stop(&o);
}

static void test_refused_block_halts(void **state)
{
    (void)state;
    origin o;
    origin_start(&o);
    copy c;
    copy_start(&c, &o);
    submit_times(&o.n, o.solo, 3, 0);
    sl_error err = {0};
    assert_int_equal(sl_orderer_flush(o.solo, &err), 0);
    uint64_t good = sl_ledger_height(o.n.l, NULL);
    assert_true(reaches(&c, good));

    /* From now on the orderer's blocks arrive re-signed by aws's node: a fork. */
    pthread_mutex_lock(&o.mu);
    o.forger_key = net_key("aws-node");
    memset(&o.forger, 0, sizeof(o.forger));
    snprintf(o.forger.subject, sizeof(o.forger.subject), "aws-node");
    snprintf(o.forger.org, sizeof(o.forger.org), "aws");
    o.forger.role = SL_ROLE_NODE;
    sl_key_public(o.forger_key, o.forger.pk);
    o.forger.not_before_ms = o.n.cert[M_NODE].not_before_ms;
    o.forger.not_after_ms = o.n.cert[M_NODE].not_after_ms;
    sl_cert_sign(&o.forger, o.n.root[ORG_AWS]);
    pthread_mutex_unlock(&o.mu);
    submit_times(&o.n, o.solo, 1, 0);
    assert_int_equal(sl_orderer_flush(o.solo, &err), 0);

    for (int i = 0; i < 2000; i++) {
        pthread_mutex_lock(&c.mu);
        int heard = c.refused.code != 0;
        pthread_mutex_unlock(&c.mu);
        if (heard)
            break;
        nanosleep(&(struct timespec){0, 10 * 1000000}, NULL);
    }
    pthread_mutex_lock(&c.mu);
    assert_int_equal(c.refused.code, SL_EAUTH);
    assert_non_null(strstr(c.refused.msg, "was refused"));
    assert_non_null(strstr(c.refused.msg, "'aws-node' of 'aws'"));
    pthread_mutex_unlock(&c.mu);
    assert_int_equal(sl_ledger_height(c.l, NULL), good);
    submit_times(&o.n, c.f, 1, SL_ESTATE);
    assert_int_equal(sl_orderer_flush(c.f, &err), SL_EAUTH);
    copy_stop(&c);
    origin_stop(&o);
}

/* Freeing a follower whose fetch waits for a block that never comes returns at once. */
static void test_free_cancels(void **state)
{
    (void)state;
    origin o;
    origin_start(&o);
    copy c;
    copy_start(&c, &o);
    for (int i = 0; i < 500; i++) {
        pthread_mutex_lock(&o.mu);
        size_t n = o.fetches;
        pthread_mutex_unlock(&o.mu);
        if (n)
            break;
        nanosleep(&(struct timespec){0, 10 * 1000000}, NULL);
    }
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    copy_stop(&c);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    int64_t took = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
    assert_true(took < 5000); /* the fetch waits 10 s unless cancelled */
    origin_stop(&o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_follows_and_submits),
        cmocka_unit_test(test_refused_block_halts),
        cmocka_unit_test(test_free_cancels),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
