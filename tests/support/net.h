/*
 * net.h: a small test network for ledger tests, tools and benchmarks. Deterministic keys (seed =
 * SHA-256 of "test/<name>"), four organizations (univie: consumer, oracle, node; aws: provider,
 * oracle, node; watchdog: oracle; bank: issuer), member certificates valid 2020..2100, the channel
 * document, its genesis, a ledger in a fresh temporary directory, and a transaction builder.
 * Any failure prints why and exits the process: this is test scaffolding, not library code.
 */
#ifndef SL_TEST_NET_H
#define SL_TEST_NET_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "slaledger/ledger.h"
#include "slaledger/tx.h"

/* 2026-12-01T00:00:00Z */
#define NT0   1796083200000LL
#define NSEC  1000LL
#define NHOUR (3600LL * NSEC)

enum { ORG_UNIVIE, ORG_AWS, ORG_WATCHDOG, ORG_BANK, N_ORGS };
enum { M_NODE, M_CONSUMER, M_PROVIDER, M_UNIVIE_MON, M_AWS_MON, M_WATCHDOG, M_ISSUER, N_MEMBERS };

typedef struct net {
    sl_key *root[N_ORGS];
    sl_key *key[N_MEMBERS];
    sl_cert cert[N_MEMBERS];
    char dir[128];
    char path[192];
    sl_buf genesis;
    sl_ledger *l;
    uint64_t nonce;
} net;

static const char *const net_orgs[N_ORGS] = {"univie", "aws", "watchdog", "bank"};

/* The wall clock in ms since the epoch, for tests whose times follow it. */
static inline int64_t net_wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static inline void net_die(const char *what, const sl_error *err)
{
    fprintf(stderr, "net: %s: %s%s%s\n", what, err ? err->field : "", err ? ": " : "",
            err ? err->msg : "failed");
    exit(99);
}

static inline sl_key *net_key(const char *name)
{
    char label[96];
    uint8_t seed[32];
    snprintf(label, sizeof(label), "test/%s", name);
    sl_sha256(label, strlen(label), seed);
    sl_key *k = NULL;
    if (sl_key_from_seed(seed, &k))
        net_die("key", NULL);
    return k;
}

static inline void net_member(net *n, int m, const char *subject, int org, sl_role role)
{
    n->key[m] = net_key(subject);
    sl_cert *c = &n->cert[m];
    memset(c, 0, sizeof(*c));
    snprintf(c->subject, sizeof(c->subject), "%s", subject);
    snprintf(c->org, sizeof(c->org), "%s", net_orgs[org]);
    c->role = role;
    sl_key_public(n->key[m], c->pk);
    c->not_before_ms = 1577836800000LL; /* 2020 */
    c->not_after_ms = 4102444800000LL;  /* 2100 */
    sl_cert_sign(c, n->root[org]);
}

static inline void net_channel_doc(net *n, sl_buf *doc, const char *extra_ordering)
{
    static const char *const roles[N_ORGS] = {"[consumer, oracle, node]",
                                              "[provider, oracle, node]", "[oracle]", "[issuer]"};
    sl_buf_printf(doc, "apiVersion: slaledger/v1\nkind: Channel\nmetadata: {name: univie-aws}\n"
                       "spec:\n  issuer: bank\n  organizations:\n");
    for (int i = 0; i < N_ORGS; i++) {
        uint8_t pk[SL_PK_LEN];
        char hex[2 * SL_PK_LEN + 1];
        sl_key_public(n->root[i], pk);
        sl_hex(pk, SL_PK_LEN, hex);
        sl_buf_printf(doc, "    - {name: %s, roles: %s, root_key: \"%s\"}\n", net_orgs[i], roles[i],
                      hex);
    }
    sl_buf_printf(doc, "  ordering: {kind: solo, max_block_txs: 500%s}\n",
                  extra_ordering ? extra_ordering : "");
}

/* The organizations' root keys and every member's key and certificate; nothing on disk. */
static inline void net_keys(net *n)
{
    memset(n, 0, sizeof(*n));
    for (int i = 0; i < N_ORGS; i++)
        n->root[i] = net_key(net_orgs[i]);
    net_member(n, M_NODE, "univie-node", ORG_UNIVIE, SL_ROLE_NODE);
    net_member(n, M_CONSUMER, "alice", ORG_UNIVIE, SL_ROLE_CONSUMER);
    net_member(n, M_PROVIDER, "bob", ORG_AWS, SL_ROLE_PROVIDER);
    net_member(n, M_UNIVIE_MON, "univie-mon", ORG_UNIVIE, SL_ROLE_ORACLE);
    net_member(n, M_AWS_MON, "aws-mon", ORG_AWS, SL_ROLE_ORACLE);
    net_member(n, M_WATCHDOG, "watchdog", ORG_WATCHDOG, SL_ROLE_ORACLE);
    net_member(n, M_ISSUER, "treasury", ORG_BANK, SL_ROLE_ISSUER);
}

/* Keys, certificates, genesis (at genesis_ms) and an open ledger in a new temporary
 * directory. */
static inline void net_init_at(net *n, int64_t genesis_ms)
{
    net_keys(n);
    snprintf(n->dir, sizeof(n->dir), "/tmp/sl-ledger-test-XXXXXX");
    if (!mkdtemp(n->dir))
        net_die("mkdtemp", NULL);
    snprintf(n->path, sizeof(n->path), "%s/univie-aws.db", n->dir);
    sl_buf doc;
    sl_buf_init(&doc);
    net_channel_doc(n, &doc, NULL);
    sl_buf_init(&n->genesis);
    sl_error err = {0};
    int rc = sl_genesis_build((const char *)doc.p, doc.len, n->key[M_NODE], &n->cert[M_NODE],
                              genesis_ms, &n->genesis, &err);
    if (rc)
        net_die("genesis", &err);
    sl_buf_release(&doc);
    if (sl_ledger_create(n->path, n->genesis.p, n->genesis.len, &err) ||
        sl_ledger_open(n->path, 0, &n->l, &err))
        net_die("ledger", &err);
}

/* The same, with genesis an hour before NT0 (the tests' fixed clock). */
static inline void net_init(net *n)
{
    net_init_at(n, NT0 - NHOUR);
}

static inline void net_reopen(net *n)
{
    sl_error err = {0};
    sl_ledger_close(n->l);
    n->l = NULL;
    if (sl_ledger_open(n->path, 0, &n->l, &err))
        net_die("reopen", &err);
}

static inline void net_free(net *n)
{
    sl_ledger_close(n->l);
    for (int i = 0; i < N_ORGS; i++)
        sl_key_free(n->root[i]);
    for (int i = 0; i < N_MEMBERS; i++)
        sl_key_free(n->key[i]);
    sl_buf_release(&n->genesis);
    char cmd[256];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", n->dir);
    if (system(cmd) != 0)
        net_die("rm", NULL);
}

/* A transaction of member m with the common fields filled in; the caller sets the body. */
static inline sl_tx net_tx(net *n, int m, sl_tx_type type, int64_t expires)
{
    sl_tx t;
    memset(&t, 0, sizeof(t));
    t.type = type;
    snprintf(t.channel, sizeof(t.channel), "univie-aws");
    t.nonce = ++n->nonce;
    t.expires_ms = expires;
    t.cert = n->cert[m];
    return t;
}

/* Signs t with member m's key into out (reset first). */
static inline void net_sign(net *n, int m, const sl_tx *t, sl_buf *out)
{
    sl_error err = {0};
    sl_buf_reset(out);
    if (sl_tx_sign(t, n->key[m], out, &err))
        net_die("sign", &err);
}

/* Commits the given transactions as one block at time t; returns the commit info. */
static inline sl_commit_info net_commit(net *n, sl_buf *txs, size_t k, int64_t t)
{
    const uint8_t *p[64];
    size_t lens[64];
    if (k > 64)
        net_die("net_commit: more than 64 transactions", NULL);
    for (size_t i = 0; i < k; i++) {
        p[i] = txs[i].p;
        lens[i] = txs[i].len;
    }
    sl_commit_info info;
    sl_error err = {0};
    if (sl_ledger_commit(n->l, p, lens, k, t, n->key[M_NODE], &n->cert[M_NODE], &info, &err))
        net_die("commit", &err);
    return info;
}

/* Makes agreement `name` (document doc[0..len)) active in one block at time t: the bank issues
 * `escrow` EUR minor units to univie, univie proposes, aws accepts, univie deposits them.
 * Returns how many of the four transactions were valid. */
static inline size_t net_activate(net *n, const char *doc, size_t len, const char *name,
                                  int64_t escrow, int64_t t)
{
    sl_buf tx[4];
    for (int i = 0; i < 4; i++)
        sl_buf_init(&tx[i]);
    sl_tx x = net_tx(n, M_ISSUER, SL_TX_ISSUE, t + NHOUR);
    snprintf(x.to, sizeof(x.to), "univie");
    memcpy(x.currency, "EUR", 4);
    x.amount = escrow;
    net_sign(n, M_ISSUER, &x, &tx[0]);
    x = net_tx(n, M_CONSUMER, SL_TX_PROPOSE, t + NHOUR);
    x.doc = (const uint8_t *)doc;
    x.doc_len = len;
    net_sign(n, M_CONSUMER, &x, &tx[1]);
    x = net_tx(n, M_PROVIDER, SL_TX_ACCEPT, t + NHOUR);
    snprintf(x.agreement, sizeof(x.agreement), "%s", name);
    sl_sha256(doc, len, x.doc_hash);
    net_sign(n, M_PROVIDER, &x, &tx[2]);
    x = net_tx(n, M_CONSUMER, SL_TX_DEPOSIT, t + NHOUR);
    snprintf(x.agreement, sizeof(x.agreement), "%s", name);
    x.amount = escrow;
    net_sign(n, M_CONSUMER, &x, &tx[3]);
    size_t valid = net_commit(n, tx, 4, t).n_valid;
    for (int i = 0; i < 4; i++)
        sl_buf_release(&tx[i]);
    return valid;
}

/* Commits one transaction and returns its validation code. */
static inline sl_txcode net_commit1(net *n, sl_buf *tx, int64_t t)
{
    return net_commit(n, tx, 1, t).codes[0];
}

#endif
