/*
 * test_submit.c: what a caller hears of a write (submit.c and the answer api.c builds from it).
 * A transaction whose block could not be stored fails at once with the block's error, not
 * after the commit timeout; one that is not committed in time names its id; a contract refusal
 * answers with the contract's code (EFUNDS for a wallet that holds too little). The first two
 * use an orderer stand-in that drops or keeps what it is given; the last a real ledger and
 * solo orderer.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <time.h>

#include <cmocka.h>
#include <jansson.h>

#include "node/api_int.h"
#include "node/node_int.h"
#include "support/net.h"
#include "slaledger/wait.h"

/* An orderer stand-in: keeps what it is given and never cuts a block, or fails the block
 * at once as a full disk would (the solo orderer's callback with the dropped ids). */
typedef struct fake {
    sl_orderer base;
    sl__channel *ch;
    int fail;
} fake;

static int fake_submit(sl_orderer *o, const uint8_t *tx, size_t len, uint8_t id[SL_HASH_LEN],
                       sl_error *err)
{
    (void)err;
    fake *f = (fake *)o;
    sl_sha256(tx, len, id);
    if (f->fail) {
        uint8_t ids[1][SL_HASH_LEN];
        memcpy(ids[0], id, SL_HASH_LEN);
        sl_commit_info info = {.n_tx = 1, .ids = (const uint8_t(*)[SL_HASH_LEN])ids};
        sl_error e = {0};
        sl_error_set(&e, SL_EIO, "database", "database or disk is full");
        sl__node_on_block(f->ch, &info, &e);
    }
    return 0;
}

static int fake_flush(sl_orderer *o, sl_error *err)
{
    (void)o;
    (void)err;
    return 0;
}

static void fake_free(sl_orderer *o)
{
    (void)o;
}

static const sl_orderer_ops fake_ops = {"fake", fake_submit, fake_flush, fake_free};

typedef struct world {
    net nt;
    sl__node n;
    sl__channel ch;
    sl__member alice;
    fake orderer;
} world;

static world *world_new(int with_solo)
{
    world *w = calloc(1, sizeof(*w));
    assert_non_null(w);
    net_init_at(&w->nt, net_wall_ms() - NHOUR);
    pthread_mutex_init(&w->n.wait_mu, NULL);
    assert_int_equal(sl_cond_init_monotonic(&w->n.wait_cv), 0);
    pthread_rwlock_init(&w->n.http_lock, NULL);
    w->alice =
        (sl__member){.name = "alice", .key = w->nt.key[M_CONSUMER], .cert = w->nt.cert[M_CONSUMER]};
    w->ch = (sl__channel){.name = "univie-aws", .ledger = w->nt.l, .node = &w->n};
    w->orderer = (fake){.base = {&fake_ops}, .ch = &w->ch};
    w->ch.orderer = &w->orderer.base;
    if (with_solo) {
        sl_order_settings set = {.timeout_ms = 10};
        sl_error err = {0};
        assert_int_equal(sl_solo_new(w->nt.l, w->nt.key[M_NODE], &w->nt.cert[M_NODE], &set,
                                     sl__node_on_block, &w->ch, &w->ch.orderer, &err),
                         0);
    }
    return w;
}

static void world_free(world *w)
{
    if (w->ch.orderer != &w->orderer.base)
        sl_orderer_free(w->ch.orderer);
    pthread_cond_destroy(&w->n.wait_cv);
    pthread_mutex_destroy(&w->n.wait_mu);
    pthread_rwlock_destroy(&w->n.http_lock);
    net_free(&w->nt);
    free(w);
}

static sl_tx withdraw_tx(int64_t amount)
{
    sl_tx t;
    memset(&t, 0, sizeof(t));
    t.type = SL_TX_WITHDRAW;
    t.amount = amount;
    memcpy(t.currency, "EUR", 4);
    return t;
}

/* The answer's body as JSON (the caller frees it). */
static json_t *answer(const sl_resp *r)
{
    json_t *j = json_loadb((const char *)r->body.p, r->body.len, 0, NULL);
    assert_non_null(j);
    return j;
}

static void assert_error(const sl_resp *r, int status, const char *code, const char *hex)
{
    assert_int_equal(r->status, status);
    json_t *j = answer(r);
    json_t *e = json_object_get(j, "error");
    assert_string_equal(json_string_value(json_object_get(e, "code")), code);
    assert_string_equal(json_string_value(json_object_get(e, "transaction")), hex);
    assert_non_null(strstr(json_string_value(json_object_get(e, "message")), hex));
    json_decref(j);
}

static void test_failed_block_answers_at_once(void **state)
{
    (void)state;
    world *w = world_new(0);
    w->orderer.fail = 1;
    sl_tx t = withdraw_tx(100);
    sl__submitted s;
    sl_error err = {0};
    int64_t t0 = net_wall_ms();
    int rc = sl__node_submit(&w->n, &w->ch, &w->alice, &t, 10000, &s, &err);
    assert_int_equal(rc, SL_EIO);
    assert_true(net_wall_ms() - t0 < 2000); /* not the commit timeout */
    assert_true(s.queued);
    assert_true(s.dropped);
    char hex[2 * SL_HASH_LEN + 1];
    sl_hex(s.id, SL_HASH_LEN, hex);
    assert_non_null(strstr(err.msg, hex));
    assert_non_null(strstr(err.msg, "database or disk is full"));
    assert_null(w->n.waiters);

    sl_resp r = {0};
    sl_buf_init(&r.body);
    assert_int_equal(sl__api_outcome(&r, "univie-aws", NULL, rc, &err, &s, ""), 0);
    assert_error(&r, 503, "EIO", hex);
    sl_buf_release(&r.body);
    world_free(w);
}

static void test_timeout_names_the_transaction(void **state)
{
    (void)state;
    world *w = world_new(0);
    sl_tx t = withdraw_tx(100);
    sl__submitted s;
    sl_error err = {0};
    int rc = sl__node_submit(&w->n, &w->ch, &w->alice, &t, 50, &s, &err);
    assert_int_equal(rc, SL_ETIME);
    assert_true(s.queued);
    assert_false(s.dropped);
    char hex[2 * SL_HASH_LEN + 1];
    sl_hex(s.id, SL_HASH_LEN, hex);
    assert_non_null(strstr(err.msg, hex));
    assert_non_null(strstr(err.msg, "not committed within 50 ms"));

    sl_resp r = {0};
    sl_buf_init(&r.body);
    assert_int_equal(sl__api_outcome(&r, "univie-aws", NULL, rc, &err, &s, ""), 0);
    assert_error(&r, 422, "ETIME", hex);
    sl_buf_release(&r.body);
    world_free(w);
}

static void test_refusal_keeps_the_contract_code(void **state)
{
    (void)state;
    world *w = world_new(1);
    sl_tx t = withdraw_tx(90000);
    sl__submitted s;
    sl_error err = {0};
    assert_int_equal(sl__node_submit(&w->n, &w->ch, &w->alice, &t, 10000, &s, &err), 0);
    assert_int_equal(s.code, SL_TXC_REFUSED);
    assert_int_equal(s.refusal, SL_EFUNDS);
    assert_true(s.height >= 1);
    char hex[2 * SL_HASH_LEN + 1];
    sl_hex(s.id, SL_HASH_LEN, hex);

    sl_resp r = {0};
    sl_buf_init(&r.body);
    const char *reason = "amount: wallet of 'univie' holds 0.00 EUR, less than 900.00 EUR";
    assert_int_equal(sl__api_outcome(&r, "univie-aws", NULL, 0, &err, &s, reason), 0);
    assert_error(&r, 409, "EFUNDS", hex);
    json_t *j = answer(&r);
    const char *msg = json_string_value(json_object_get(json_object_get(j, "error"), "message"));
    assert_non_null(strstr(msg, "is refused: amount: wallet of 'univie' holds 0.00 EUR"));
    json_decref(j);
    sl_buf_release(&r.body);

    /* The stored reason is what the contract said, in the currency's units. */
    sl_tx_record rec;
    assert_int_equal(sl_ledger_tx(w->nt.l, s.id, &rec, NULL, &err), 0);
    assert_string_equal(rec.reason, reason);
    world_free(w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_failed_block_answers_at_once),
        cmocka_unit_test(test_timeout_names_the_transaction),
        cmocka_unit_test(test_refusal_keeps_the_contract_code),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
