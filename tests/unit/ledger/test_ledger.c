/*
 * test_ledger.c: the ledger end to end in one process: a channel's life (issue, propose,
 * accept, deposit, oracle reports, a penalty), restart by replay, a follower appending the
 * same blocks, every refusal case, inclusion proofs checked offline, and the audit.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>

#include <cmocka.h>

#include "ledger/ledger_int.h"
#include "support/net.h"

static const char *agreement_fmt =
    "apiVersion: slaledger/v1\nkind: Agreement\nmetadata: {name: %s}\n"
    "spec:\n  channel: univie-aws\n  consumer: univie\n  provider: aws\n"
    "  period: {start: 2026-12-01T00:00:00Z, end: 2026-12-01T10:00:00Z}\n"
    "  fee: {amount: \"1000.00\", currency: EUR}\n  grace: 10m\n"
    "  services: [{name: web, kind: http, source: {url: \"http://127.0.0.1/\"}}]\n"
    "  oracles: {members: [univie-mon, aws-mon, watchdog], policy: median, quorum: 2}\n"
    "  objectives:\n    - {name: uptime, metric: availability, interval: 1h, window: period, "
    "target: \">= 99.0%%\"}\n"
    "  penalties:\n    - {objective: uptime, tiers: [{below: 99.0%%, credit: 10%%}, "
    "{below: 95.0%%, credit: 30%%}]}\n";

typedef struct chan {
    net n;
    sl_buf tx[8];
    char doc[2048];
    size_t doc_len;
} chan;

typedef struct balance_q {
    const char *owner;
    int64_t v;
} balance_q;

static int read_balance(const sl_contract *c, void *arg)
{
    balance_q *q = arg;
    q->v = sl_contract_balance(c, q->owner, "EUR");
    return 0;
}

static int64_t balance_of(net *n, const char *owner)
{
    balance_q q = {owner, 0};
    assert_int_equal(sl_ledger_with_contract(n->l, read_balance, &q), 0);
    return q.v;
}

static void report(chan *ch, int slot, int m, int64_t k, int64_t value, int64_t now)
{
    sl_tx_item it = {.start_ms = NT0 + k * NHOUR, .end_ms = NT0 + (k + 1) * NHOUR, .value = value};
    snprintf(it.agreement, sizeof(it.agreement), "web");
    snprintf(it.objective, sizeof(it.objective), "uptime");
    sl_tx t = net_tx(&ch->n, m, SL_TX_REPORT, now + NHOUR);
    t.items = &it;
    t.n_items = 1;
    net_sign(&ch->n, m, &t, &ch->tx[slot]);
}

/* A channel with an active, funded agreement "web" at NT0 + 1 s. */
static void chan_setup(chan *ch)
{
    net_init(&ch->n);
    net *n = &ch->n;
    for (int i = 0; i < 8; i++)
        sl_buf_init(&ch->tx[i]);
    ch->doc_len = (size_t)snprintf(ch->doc, sizeof(ch->doc), agreement_fmt, "web");
    int64_t now = NT0 - 10 * NSEC;

    sl_tx t = net_tx(n, M_ISSUER, SL_TX_ISSUE, now + NHOUR);
    snprintf(t.to, sizeof(t.to), "univie");
    memcpy(t.currency, "EUR", 4);
    t.amount = 200000;
    net_sign(n, M_ISSUER, &t, &ch->tx[0]);
    t = net_tx(n, M_CONSUMER, SL_TX_PROPOSE, now + NHOUR);
    t.doc = (const uint8_t *)ch->doc;
    t.doc_len = ch->doc_len;
    net_sign(n, M_CONSUMER, &t, &ch->tx[1]);
    t = net_tx(n, M_PROVIDER, SL_TX_ACCEPT, now + NHOUR);
    snprintf(t.agreement, sizeof(t.agreement), "web");
    sl_sha256(ch->doc, ch->doc_len, t.doc_hash);
    net_sign(n, M_PROVIDER, &t, &ch->tx[2]);
    t = net_tx(n, M_CONSUMER, SL_TX_DEPOSIT, now + NHOUR);
    snprintf(t.agreement, sizeof(t.agreement), "web");
    t.amount = 100000;
    net_sign(n, M_CONSUMER, &t, &ch->tx[3]);
    sl_commit_info info = net_commit(n, ch->tx, 4, now);
    assert_int_equal(info.height, 1);
    assert_int_equal(info.n_valid, 4);
    assert_int_equal(balance_of(n, "univie"), 100000);
}

static void chan_free(chan *ch)
{
    for (int i = 0; i < 8; i++)
        sl_buf_release(&ch->tx[i]);
    net_free(&ch->n);
}

static void test_life_replay_and_audit(void **state)
{
    (void)state;
    chan ch;
    chan_setup(&ch);
    net *n = &ch.n;
    /* Interval 0 down by two of three oracles: availability can no longer reach 99 %. */
    int64_t now = NT0 + NHOUR + NSEC;
    report(&ch, 0, M_UNIVIE_MON, 0, 0, now);
    report(&ch, 1, M_AWS_MON, 0, 0, now);
    report(&ch, 2, M_WATCHDOG, 0, 1000000, now);
    sl_commit_info info = net_commit(n, ch.tx, 3, now);
    assert_int_equal(info.n_valid, 3);
    for (int i = 0; i < 3; i++) {
        uint8_t id[SL_HASH_LEN];
        sl_sha256(ch.tx[i].p, ch.tx[i].len, id);
        assert_memory_equal(info.ids[i], id, SL_HASH_LEN);
    }
    /* Two agreeing oracles decided already; the third's dissent is recorded as a dispute. */
    assert_int_equal(info.codes[2], SL_TXC_VALID);
    size_t penalties = 0, disputes = 0;
    for (size_t i = 0; i < info.n_events; i++) {
        penalties += info.events[i].kind == SL_EV_PENALTY;
        disputes += info.events[i].kind == SL_EV_DISPUTE;
    }
    assert_true(penalties >= 1);
    assert_int_equal(disputes, 1);
    int64_t consumer = balance_of(n, "univie");
    assert_true(consumer > 100000); /* the credit arrived in the same block */

    uint8_t head[SL_HASH_LEN], head2[SL_HASH_LEN];
    uint64_t height = sl_ledger_height(n->l, head);
    assert_int_equal(height, 2);
    net_reopen(n);
    assert_int_equal(sl_ledger_height(n->l, head2), 2);
    assert_memory_equal(head, head2, SL_HASH_LEN);
    assert_int_equal(balance_of(n, "univie"), consumer);

    /* A second report of the same interval by the same oracle is refused by the contract. */
    report(&ch, 0, M_WATCHDOG, 0, 0, now + NSEC);
    sl_txcode code = net_commit1(n, &ch.tx[0], now + NSEC);
    assert_int_equal(code, SL_TXC_REFUSED);

    sl_verify_result res;
    int rc = sl_ledger_verify(n->path, NULL, NULL, &res);
    if (rc)
        fail_msg("verify: block %lld: %s", (long long)res.bad_height, res.err.msg);
    assert_int_equal(res.blocks, 3);
    assert_int_equal(res.txs, 8);
    assert_int_equal(res.valid, 7);
    chan_free(&ch);
}

/* Every kind of bad transaction is recorded with its code and changes nothing. */
static void test_refusals(void **state)
{
    (void)state;
    chan ch;
    chan_setup(&ch);
    net *n = &ch.n;
    int64_t now = NT0 + NHOUR + NSEC;
    sl_buf *tx = ch.tx;

    report(&ch, 0, M_CONSUMER, 0, 0, now); /* consumer may not report */
    sl_tx t = net_tx(n, M_UNIVIE_MON, SL_TX_ISSUE, now + NHOUR);
    snprintf(t.to, sizeof(t.to), "univie-mon");
    memcpy(t.currency, "EUR", 4);
    t.amount = 1;
    net_sign(n, M_UNIVIE_MON, &t, &tx[1]); /* oracle may not issue */
    report(&ch, 2, M_WATCHDOG, 0, 0, now);
    tx[2].p[tx[2].len - 1] ^= 1; /* bad signature */
    report(&ch, 3, M_WATCHDOG, 0, 0, now);
    report(&ch, 4, M_AWS_MON, 0, 0, now - 3 * NHOUR); /* expired an hour ago */
    sl_buf_reset(&tx[5]);
    sl_buf_put(&tx[5], "not a transaction", 17); /* malformed */

    /* A member of an organization that is not on the channel. */
    sl_key *mroot = net_key("mallory"), *mkey = net_key("mallory-mon");
    sl_cert mc = n->cert[M_WATCHDOG];
    snprintf(mc.subject, sizeof(mc.subject), "mallory-mon");
    snprintf(mc.org, sizeof(mc.org), "mallory");
    sl_key_public(mkey, mc.pk);
    sl_cert_sign(&mc, mroot);
    t = net_tx(n, M_WATCHDOG, SL_TX_TIME, now + NHOUR);
    t.cert = mc;
    sl_error err = {0};
    sl_buf_reset(&tx[6]);
    assert_int_equal(sl_tx_sign(&t, mkey, &tx[6], &err), 0);
    /* A certificate whose signature is not its organization's. */
    t = net_tx(n, M_WATCHDOG, SL_TX_TIME, now + NHOUR);
    t.cert.not_after_ms++; /* no longer what watchdog's root signed */
    net_sign(n, M_WATCHDOG, &t, &tx[7]);

    int64_t before = balance_of(n, "univie");
    sl_commit_info info = net_commit(n, tx, 8, now);
    const sl_txcode want[8] = {SL_TXC_ROLE,        SL_TXC_ROLE,    SL_TXC_BAD_SIGNATURE,
                               SL_TXC_VALID,       SL_TXC_EXPIRED, SL_TXC_MALFORMED,
                               SL_TXC_UNKNOWN_ORG, SL_TXC_BAD_CERT};
    for (int i = 0; i < 8; i++)
        if (info.codes[i] != want[i])
            fail_msg("tx %d: %s, want %s", i, sl_txcode_name(info.codes[i]),
                     sl_txcode_name(want[i]));
    assert_int_equal(balance_of(n, "univie"), before);

    /* Replays: the valid one again, later and in the same block. */
    sl_buf again[2];
    again[0] = tx[3];
    again[1] = tx[3];
    info = net_commit(n, again, 2, now + NSEC);
    assert_int_equal(info.codes[0], SL_TXC_REPLAY);
    assert_int_equal(info.codes[1], SL_TXC_REPLAY);
    report(&ch, 0, M_AWS_MON, 0, 0, now);
    again[0] = tx[0];
    again[1] = tx[0];
    info = net_commit(n, again, 2, now + 2 * NSEC);
    assert_int_equal(info.codes[0], SL_TXC_VALID);
    assert_int_equal(info.codes[1], SL_TXC_REPLAY);

    /* The same refusals at the door (precheck) with errors that say why. */
    uint8_t id[SL_HASH_LEN];
    assert_int_equal(sl_ledger_precheck(n->l, tx[0].p, tx[0].len, now, id, &err), SL_EDUP);
    assert_int_equal(sl_ledger_precheck(n->l, tx[2].p, tx[2].len, now, id, &err), SL_EAUTH);
    assert_non_null(strstr(err.msg, "signature"));
    assert_int_equal(sl_ledger_precheck(n->l, tx[4].p, tx[4].len, now, id, &err), SL_ETIME);
    assert_int_equal(sl_ledger_precheck(n->l, tx[5].p, tx[5].len, now, id, &err), SL_EINVAL);
    assert_int_equal(sl_ledger_precheck(n->l, tx[6].p, tx[6].len, now, id, &err), SL_EAUTH);
    assert_non_null(strstr(err.msg, "mallory"));

    sl_verify_result res;
    assert_int_equal(sl_ledger_verify(n->path, NULL, NULL, &res), 0);
    sl_key_free(mroot);
    sl_key_free(mkey);
    chan_free(&ch);
}

/* A check transaction naming an interval objective reaches the contract, which refuses it
 * with the kind the objective wants; the record keeps that reason. */
static void test_check_of_an_interval_objective(void **state)
{
    (void)state;
    chan ch;
    chan_setup(&ch);
    net *n = &ch.n;
    int64_t now = NT0 + NHOUR + NSEC;
    sl_tx_item it = {.start_ms = NT0, .end_ms = NT0 + NHOUR, .value = 1};
    snprintf(it.agreement, sizeof(it.agreement), "web");
    snprintf(it.objective, sizeof(it.objective), "uptime");
    sl_tx t = net_tx(n, M_WATCHDOG, SL_TX_CHECK, now + NHOUR);
    t.items = &it;
    t.n_items = 1;
    net_sign(n, M_WATCHDOG, &t, &ch.tx[0]);
    sl_commit_info info = net_commit(n, ch.tx, 1, now);
    assert_int_equal(info.codes[0], SL_TXC_REFUSED);
    assert_int_equal(info.refusals[0], SL_EINVAL);
    sl_tx_record rec;
    sl_error err = {0};
    assert_int_equal(sl_ledger_tx(n->l, info.ids[0], &rec, NULL, &err), 0);
    if (!strstr(rec.reason, "'uptime' is an interval objective; send it in a report transaction"))
        fail_msg("reason: %s", rec.reason);
    chan_free(&ch);
}

/* A channel whose transactions may be at most 1 KiB: a 100-item report is refused. */
static void test_oversized(void **state)
{
    (void)state;
    net n;
    memset(&n, 0, sizeof(n));
    net_init(&n);
    sl_buf doc, g;
    sl_buf_init(&doc);
    sl_buf_init(&g);
    net_channel_doc(&n, &doc, ", max_tx_bytes: 1KiB");
    sl_error err = {0};
    assert_int_equal(sl_genesis_build((const char *)doc.p, doc.len, n.key[M_NODE], &n.cert[M_NODE],
                                      NT0, &g, &err),
                     0);
    char path[256];
    snprintf(path, sizeof(path), "%s/small.db", n.dir);
    sl_ledger *l;
    assert_int_equal(sl_ledger_create(path, g.p, g.len, &err), 0);
    assert_int_equal(sl_ledger_open(path, 0, &l, &err), 0);
    sl_tx_item items[100];
    memset(items, 0, sizeof(items));
    for (int i = 0; i < 100; i++) {
        snprintf(items[i].agreement, sizeof(items[i].agreement), "web");
        snprintf(items[i].objective, sizeof(items[i].objective), "uptime");
        items[i].start_ms = NT0 + i * NHOUR;
        items[i].end_ms = items[i].start_ms + NHOUR;
    }
    sl_tx t = net_tx(&n, M_WATCHDOG, SL_TX_REPORT, NT0 + NHOUR);
    t.items = items;
    t.n_items = 100;
    sl_buf tx;
    sl_buf_init(&tx);
    net_sign(&n, M_WATCHDOG, &t, &tx);
    assert_true(tx.len > 1024);
    uint8_t id[SL_HASH_LEN];
    assert_int_equal(sl_ledger_precheck(l, tx.p, tx.len, NT0, id, &err), SL_EINVAL);
    assert_non_null(strstr(err.msg, "limit"));
    const uint8_t *p = tx.p;
    sl_commit_info info;
    assert_int_equal(sl_ledger_commit(l, &p, &tx.len, 1, NT0 + NSEC, n.key[M_NODE], &n.cert[M_NODE],
                                      &info, &err),
                     0);
    assert_int_equal(info.codes[0], SL_TXC_MALFORMED);
    sl_ledger_close(l);
    sl_buf_release(&tx);
    sl_buf_release(&doc);
    sl_buf_release(&g);
    net_free(&n);
}

/* A second node follows by appending the first node's blocks; tampered blocks bounce. */
static void test_follower(void **state)
{
    (void)state;
    chan ch;
    chan_setup(&ch);
    net *n = &ch.n;
    int64_t now = NT0 + NHOUR + NSEC;
    report(&ch, 0, M_UNIVIE_MON, 0, 1000000, now);
    report(&ch, 1, M_AWS_MON, 0, 1000000, now);
    net_commit(n, ch.tx, 2, now);

    char path[256];
    snprintf(path, sizeof(path), "%s/follower.db", n->dir);
    sl_error err = {0};
    sl_ledger *f;
    assert_int_equal(sl_ledger_create(path, n->genesis.p, n->genesis.len, &err), 0);
    assert_int_equal(sl_ledger_open(path, 0, &f, &err), 0);
    sl_buf blk;
    sl_buf_init(&blk);
    assert_int_equal(sl_ledger_block(n->l, 2, &blk, &err), 0);
    assert_int_equal(sl_ledger_append(f, blk.p, blk.len, NULL, &err), SL_ECORRUPT); /* gap */
    sl_buf_reset(&blk);
    assert_int_equal(sl_ledger_block(n->l, 1, &blk, &err), 0);
    blk.p[blk.len - 5] ^= 1; /* a byte of the last transaction's signature */
    assert_int_equal(sl_ledger_append(f, blk.p, blk.len, NULL, &err), SL_ECORRUPT);
    blk.p[blk.len - 5] ^= 1;
    for (uint64_t h = 1; h <= 2; h++) {
        sl_buf_reset(&blk);
        assert_int_equal(sl_ledger_block(n->l, h, &blk, &err), 0);
        if (sl_ledger_append(f, blk.p, blk.len, NULL, &err))
            fail_msg("append %llu: %s", (unsigned long long)h, err.msg);
    }
    uint8_t a[SL_HASH_LEN], b[SL_HASH_LEN];
    assert_int_equal(sl_ledger_height(n->l, a), sl_ledger_height(f, b));
    assert_memory_equal(a, b, SL_HASH_LEN);
    sl_ledger_close(f);
    sl_buf_release(&blk);
    chan_free(&ch);
}

/* A solo channel has one orderer (here the genesis signer, univie-node): another member node
 * can neither commit a block nor get one it signed appended, even a block whose content is
 * exactly the orderer's. */
static void test_one_orderer(void **state)
{
    (void)state;
    chan ch;
    chan_setup(&ch);
    net *n = &ch.n;
    int64_t now = NT0 + NHOUR + NSEC;
    report(&ch, 0, M_UNIVIE_MON, 0, 1000000, now);
    net_commit(n, ch.tx, 1, now);
    assert_string_equal(sl_ledger_channel(n->l)->orderer_org, "univie");
    assert_string_equal(sl_ledger_channel(n->l)->orderer_name, "univie-node");

    net aws;
    memset(&aws, 0, sizeof(aws));
    aws.root[ORG_AWS] = n->root[ORG_AWS];
    net_member(&aws, M_NODE, "aws-node", ORG_AWS, SL_ROLE_NODE);
    char path[256];
    snprintf(path, sizeof(path), "%s/aws.db", n->dir);
    sl_error err = {0};
    sl_ledger *f;
    assert_int_equal(sl_ledger_create(path, n->genesis.p, n->genesis.len, &err), 0);
    assert_int_equal(sl_ledger_open(path, 0, &f, &err), 0);
    assert_int_equal(
        sl_ledger_commit(f, NULL, NULL, 0, now, aws.key[M_NODE], &aws.cert[M_NODE], NULL, &err),
        SL_EPERM);
    assert_non_null(strstr(err.msg, "'univie-node' of 'univie'"));

    /* Block 1 as the orderer cut it, re-signed by aws-node. */
    sl_buf blk, forged;
    sl_buf_init(&blk);
    sl_buf_init(&forged);
    assert_int_equal(sl_ledger_block(n->l, 1, &blk, &err), 0);
    sl_block *b;
    assert_int_equal(sl_block_decode(blk.p, blk.len, &b, &err), 0);
    assert_int_equal(sl__header_sign(&b->header, aws.key[M_NODE], &aws.cert[M_NODE]), 0);
    assert_int_equal(sl__block_encode(&b->header, b->txs, b->tx_lens, b->n, &forged), 0);
    assert_int_equal(sl_ledger_append(f, forged.p, forged.len, NULL, &err), SL_EAUTH);
    assert_non_null(strstr(err.msg, "was cut by 'aws-node' of 'aws'"));
    assert_int_equal(sl_ledger_height(f, NULL), 0);
    assert_int_equal(sl_ledger_append(f, blk.p, blk.len, NULL, &err), 0);
    sl_block_free(b);
    sl_buf_release(&blk);
    sl_buf_release(&forged);
    sl_key_free(aws.key[M_NODE]);
    sl_ledger_close(f);
    chan_free(&ch);
}

static void test_proofs(void **state)
{
    (void)state;
    chan ch;
    chan_setup(&ch);
    net *n = &ch.n;
    int64_t now = NT0 + NHOUR + NSEC;
    report(&ch, 0, M_UNIVIE_MON, 0, 0, now);
    report(&ch, 1, M_AWS_MON, 0, 0, now);
    report(&ch, 2, M_WATCHDOG, 0, 0, now);
    net_commit(n, ch.tx, 3, now);
    net_commit(n, NULL, 0, now + NSEC); /* an empty block on top */
    uint8_t id[SL_HASH_LEN];
    sl_sha256(ch.tx[1].p, ch.tx[1].len, id);
    sl_buf proof;
    sl_buf_init(&proof);
    sl_error err = {0};
    assert_int_equal(sl_ledger_proof(n->l, id, &proof, &err), 0);
    sl_proof_info pi;
    if (sl_proof_check((const char *)proof.p, proof.len, n->genesis.p, n->genesis.len, &pi, &err))
        fail_msg("proof: %s: %s", err.field, err.msg);
    assert_memory_equal(pi.id, id, SL_HASH_LEN);
    assert_int_equal(pi.height, 2);
    assert_int_equal(pi.index, 1);
    assert_int_equal(pi.head, 3);
    assert_int_equal(pi.code, SL_TXC_VALID);
    assert_string_equal(pi.signer, "aws-mon");
    assert_int_equal(pi.type, SL_TX_REPORT);

    /* Any changed hex digit in the path, codes or headers breaks it. */
    const char *keys[] = {"\"path\":[\"", "\"codes\":\"", "\"headers\":[\"", "\"tx\":\""};
    for (size_t k = 0; k < 4; k++) {
        char *at = strstr((char *)proof.p, keys[k]);
        assert_non_null(at);
        at += strlen(keys[k]) + 2;
        *at = *at == '0' ? '1' : '0';
        assert_int_not_equal(sl_proof_check((const char *)proof.p, proof.len, n->genesis.p,
                                            n->genesis.len, &pi, &err),
                             0);
        *at = *at == '0' ? '1' : '0';
    }
    assert_int_equal(sl_ledger_proof(n->l, (uint8_t[SL_HASH_LEN]){1}, &proof, &err), SL_ENOENT);
    sl_buf_release(&proof);
    chan_free(&ch);
}

typedef struct rows {
    int n;
    char last[256];
    uint64_t height;
} rows;

static int collect(void *ctx, const char *key, const char *value, uint64_t height)
{
    rows *r = ctx;
    r->n++;
    snprintf(r->last, sizeof(r->last), "%s=%s", key, value);
    r->height = height;
    return 0;
}

static int count_event(void *ctx, const sl_event_row *row)
{
    int *n = ctx;
    assert_string_equal(row->agreement, "web");
    (*n)++;
    return 0;
}

/* World state by prefix, a key's history and stored events, as the store keeps them. */
static void test_state_and_history(void **state)
{
    (void)state;
    chan ch;
    chan_setup(&ch);
    net *n = &ch.n;
    sl_error err = {0};
    rows r = {0};
    assert_int_equal(sl_ledger_state(n->l, "wallet/univie/", collect, &r, &err), 0);
    assert_int_equal(r.n, 1);
    assert_non_null(strstr(r.last, "\"balance\":100000"));
    memset(&r, 0, sizeof(r));
    assert_int_equal(sl_ledger_state(n->l, "agreement/", collect, &r, &err), 0);
    assert_int_equal(r.n, 1);
    assert_non_null(strstr(r.last, "\"status\":\"active\""));
    memset(&r, 0, sizeof(r));
    assert_int_equal(sl_ledger_state(n->l, "wallet/nobody/", collect, &r, &err), 0);
    assert_int_equal(r.n, 0);

    /* A penalty changes univie's wallet again: two values in its history. */
    int64_t now = NT0 + NHOUR + NSEC;
    report(&ch, 0, M_UNIVIE_MON, 0, 0, now);
    report(&ch, 1, M_AWS_MON, 0, 0, now);
    net_commit(n, ch.tx, 2, now);
    memset(&r, 0, sizeof(r));
    assert_int_equal(sl_ledger_history(n->l, "wallet/univie/EUR", collect, &r, &err), 0);
    assert_int_equal(r.n, 2);
    assert_int_equal(r.height, 2);

    /* The interval's decision and its penalty, by kind, objective and time. */
    sl_event_query q = {.agreement = "web", .from_ms = NT0, .to_ms = NT0 + NHOUR, .limit = 10};
    int n_all = 0, n_decided = 0, n_later = 0;
    assert_int_equal(sl_ledger_events(n->l, &q, count_event, &n_all, &err), 0);
    q.kind = "decided";
    q.objective = "uptime";
    assert_int_equal(sl_ledger_events(n->l, &q, count_event, &n_decided, &err), 0);
    assert_int_equal(n_decided, 1);
    assert_true(n_all > n_decided); /* violation and penalty too */
    q.from_ms = NT0 + NHOUR;
    q.to_ms = NT0 + 2 * NHOUR;
    assert_int_equal(sl_ledger_events(n->l, &q, count_event, &n_later, &err), 0);
    assert_int_equal(n_later, 0);
    chan_free(&ch);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_life_replay_and_audit),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_check_of_an_interval_objective),
        cmocka_unit_test(test_oversized),
        cmocka_unit_test(test_follower),
        cmocka_unit_test(test_one_orderer),
        cmocka_unit_test(test_proofs),
        cmocka_unit_test(test_state_and_history),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
