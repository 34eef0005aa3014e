/*
 * bench/ledger.c: signed transactions end to end on this machine. Transactions are signed
 * beforehand; then submitter threads hand them to the embedded orderer (precheck: decode,
 * certificate, role, signature), which orders them into blocks that the ledger validates,
 * applies to the contract and commits to SQLite (WAL, synchronous=FULL). Printed:
 *
 *   ledger_tx_per_s            one-item oracle reports, one signature each (target 25,000)
 *   ledger_measurements_per_s  reports of 1000 items each (target 200,000)
 *   ledger_verify_tx_per_s     `ledger verify` over the resulting ledger (target 30,000)
 *
 * and, measured in the same run, the limits they sit under: Ed25519 verifications per second
 * on one core and on all cores, and SQLite row inserts per second. Ratios are printed beside.
 * Sizes: BENCH_TXS (default 60000) single reports, BENCH_BATCHES (default 200) batches.
 */
#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "slaledger/order.h"
#include "support/net.h"

#define N_AGR 200
#define BATCH 1000

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static long env_long(const char *name, long def)
{
    const char *v = getenv(name);
    long n = v ? strtol(v, NULL, 10) : 0;
    return n > 0 ? n : def;
}

static int cpus(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : (int)n;
}

/* ---- the machine's limits ---- */

typedef struct verify_job {
    const uint8_t *pk, *sig, *msg;
    long n;
} verify_job;

static void *verify_loop(void *arg)
{
    verify_job *j = arg;
    for (long i = 0; i < j->n; i++)
        if (sl_sig_verify(j->pk, j->msg, 200, j->sig))
            abort();
    return NULL;
}

static double ed25519_verify_rate(int threads)
{
    sl_key *k = net_key("bench");
    uint8_t pk[SL_PK_LEN], sig[SL_SIG_LEN], msg[200] = {1};
    sl_key_public(k, pk);
    sl_key_sign(k, msg, sizeof(msg), sig);
    sl_key_free(k);
    long per = 6000;
    pthread_t t[64];
    verify_job j = {pk, sig, msg, per};
    double t0 = now_s();
    for (int i = 0; i < threads; i++)
        pthread_create(&t[i], NULL, verify_loop, &j);
    for (int i = 0; i < threads; i++)
        pthread_join(t[i], NULL);
    return (double)(per * threads) / (now_s() - t0);
}

/* Rows of a transaction-sized blob per second into a WAL database, one commit per 500 rows
 * with synchronous=FULL, as the ledger writes them. */
static double sqlite_insert_rate(const char *dir)
{
    char path[256];
    snprintf(path, sizeof(path), "%s/limit.db", dir);
    sqlite3 *db;
    sqlite3_stmt *st;
    uint8_t blob[300] = {7};
    const long rows = 100000;
    if (sqlite3_open(path, &db) ||
        sqlite3_exec(db,
                     "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; CREATE TABLE t(h "
                     "INTEGER, i INTEGER, id BLOB, b BLOB, PRIMARY KEY(h, i)) WITHOUT ROWID",
                     NULL, NULL, NULL) ||
        sqlite3_prepare_v2(db, "INSERT INTO t VALUES (?,?,?,?)", -1, &st, NULL))
        net_die("sqlite limit", NULL);
    double t0 = now_s();
    for (long i = 0; i < rows; i++) {
        if (i % 500 == 0)
            sqlite3_exec(db, i ? "COMMIT; BEGIN" : "BEGIN", NULL, NULL, NULL);
        sqlite3_bind_int64(st, 1, i / 500);
        sqlite3_bind_int64(st, 2, i % 500);
        sqlite3_bind_blob(st, 3, &i, sizeof(i), SQLITE_STATIC);
        sqlite3_bind_blob(st, 4, blob, sizeof(blob), SQLITE_STATIC);
        if (sqlite3_step(st) != SQLITE_DONE)
            net_die("sqlite insert", NULL);
        sqlite3_reset(st);
    }
    sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
    double rate = (double)rows / (now_s() - t0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return rate;
}

/* ---- the channel ---- */

typedef struct bench {
    net n;
    int64_t start; /* period start of every agreement: an hour-aligned time an hour ago */
    atomic_long valid, committed;
} bench;

static void on_block(void *arg, const sl_commit_info *info, const sl_error *err)
{
    bench *b = arg;
    if (err)
        net_die("block", err);
    b->valid += (long)info->n_valid;
    b->committed += (long)info->n_tx;
}

/* Issues money and opens N_AGR one-oracle agreements with 1 s intervals over three hours. */
static void open_agreements(bench *b)
{
    net *n = &b->n;
    b->start = (wall_ms() / NHOUR - 1) * NHOUR;
    char start[32], end[32];
    sl_time_format(b->start, start, sizeof(start));
    sl_time_format(b->start + 3 * NHOUR, end, sizeof(end));
    sl_buf tx[64];
    for (int i = 0; i < 64; i++)
        sl_buf_init(&tx[i]);
    int64_t exp = wall_ms() + NHOUR;
    sl_tx t = net_tx(n, M_ISSUER, SL_TX_ISSUE, exp);
    snprintf(t.to, sizeof(t.to), "univie");
    memcpy(t.currency, "EUR", 4);
    t.amount = 100000000;
    net_sign(n, M_ISSUER, &t, &tx[0]);
    net_commit(n, tx, 1, wall_ms());
    for (int a = 0; a < N_AGR; a++) {
        char doc[2048];
        int len = snprintf(
            doc, sizeof(doc),
            "apiVersion: slaledger/v1\nkind: Agreement\nmetadata: {name: b%d}\nspec:\n"
            "  channel: univie-aws\n  consumer: univie\n  provider: aws\n"
            "  period: {start: %s, end: %s}\n  fee: {amount: \"100.00\", currency: EUR}\n"
            "  grace: 3h\n  services: [{name: web, kind: http, source: {url: \"http://h/\"}}]\n"
            "  oracles: {members: [watchdog], policy: median, quorum: 1}\n  objectives:\n"
            "    - {name: uptime, metric: availability, interval: 1s, window: 1h, "
            "target: \">= 99.0%%\"}\n  penalties:\n"
            "    - {objective: uptime, tiers: [{below: 99.0%%, credit: 10%%}]}\n",
            a, start, end);
        t = net_tx(n, M_CONSUMER, SL_TX_PROPOSE, exp);
        t.doc = (const uint8_t *)doc;
        t.doc_len = (size_t)len;
        net_sign(n, M_CONSUMER, &t, &tx[0]);
        t = net_tx(n, M_PROVIDER, SL_TX_ACCEPT, exp);
        snprintf(t.agreement, sizeof(t.agreement), "b%d", a);
        sl_sha256(doc, (size_t)len, t.doc_hash);
        net_sign(n, M_PROVIDER, &t, &tx[1]);
        t = net_tx(n, M_CONSUMER, SL_TX_DEPOSIT, exp);
        snprintf(t.agreement, sizeof(t.agreement), "b%d", a);
        t.amount = 10000;
        net_sign(n, M_CONSUMER, &t, &tx[2]);
        if (net_commit(n, tx, 3, wall_ms()).n_valid != 3)
            net_die("agreement setup", NULL);
    }
    for (int i = 0; i < 64; i++)
        sl_buf_release(&tx[i]);
}

/* Signs report k: `items` consecutive intervals of one agreement, starting after `skip`
 * intervals of it. Agreements are used round-robin. */
static void sign_report(bench *b, long k, int items, long skip, sl_buf *out)
{
    sl_tx_item it[BATCH];
    int a = (int)(k % N_AGR);
    long first = skip + (k / N_AGR) * items;
    for (int i = 0; i < items; i++) {
        snprintf(it[i].agreement, sizeof(it[i].agreement), "b%d", a);
        snprintf(it[i].objective, sizeof(it[i].objective), "uptime");
        it[i].start_ms = b->start + (first + i) * NSEC;
        it[i].end_ms = it[i].start_ms + NSEC;
        it[i].value = (first + i) % 1000 == 999 ? 0 : 1000000; /* an outage now and then */
        it[i].detail = NULL;
        it[i].detail_len = 0;
    }
    sl_tx t = net_tx(&b->n, M_WATCHDOG, SL_TX_REPORT, wall_ms() + NHOUR);
    t.items = it;
    t.n_items = (size_t)items;
    sl_buf_init(out);
    net_sign(&b->n, M_WATCHDOG, &t, out);
}

typedef struct submit_job {
    sl_orderer *o;
    sl_buf *txs;
    long from, to;
} submit_job;

static void *submit_loop(void *arg)
{
    submit_job *j = arg;
    for (long i = j->from; i < j->to; i++) {
        uint8_t id[SL_HASH_LEN];
        sl_error err = {0};
        int rc;
        while ((rc = sl_orderer_submit(j->o, j->txs[i].p, j->txs[i].len, id, &err)) == SL_EBUSY)
            nanosleep(&(struct timespec){0, 200000}, NULL);
        if (rc)
            net_die("submit", &err);
    }
    return NULL;
}

/* Submits txs[0..n) from `threads` threads through a solo orderer; returns the seconds until
 * the last block is committed. */
static double run_orderer(bench *b, sl_buf *txs, long n, int threads)
{
    sl_orderer *o;
    sl_error err = {0};
    if (sl_solo_new(b->n.l, b->n.key[M_NODE], &b->n.cert[M_NODE], NULL, on_block, b, &o, &err))
        net_die("solo", &err);
    pthread_t t[64];
    submit_job j[64];
    double t0 = now_s();
    for (int i = 0; i < threads; i++) {
        j[i] = (submit_job){o, txs, n * i / threads, n * (i + 1) / threads};
        pthread_create(&t[i], NULL, submit_loop, &j[i]);
    }
    for (int i = 0; i < threads; i++)
        pthread_join(t[i], NULL);
    if (sl_orderer_flush(o, &err))
        net_die("flush", &err);
    double s = now_s() - t0;
    sl_orderer_free(o);
    return s;
}

static sl_buf *sign_all(bench *b, long n, int items, long skip)
{
    sl_buf *txs = calloc((size_t)n, sizeof(*txs));
    if (!txs)
        net_die("out of memory", NULL);
    for (long k = 0; k < n; k++)
        sign_report(b, k, items, skip, &txs[k]);
    return txs;
}

static void free_all(sl_buf *txs, long n)
{
    for (long k = 0; k < n; k++)
        sl_buf_release(&txs[k]);
    free(txs);
}

int main(void)
{
    long n_single = env_long("BENCH_TXS", 60000), n_batch = env_long("BENCH_BATCHES", 200);
    int threads = cpus();
    if (n_single / N_AGR + (n_batch / N_AGR + 1) * BATCH > 3600)
        net_die("BENCH_TXS/BENCH_BATCHES: more intervals than an hour holds", NULL);
    static bench b;
    net_init_at(&b.n, wall_ms() - 1000);
    double verify1 = ed25519_verify_rate(1), verify_all = ed25519_verify_rate(threads);
    double inserts = sqlite_insert_rate(b.n.dir);
    printf("machine_cores: %d\n", threads);
    printf("limit_ed25519_verify_per_s_1core: %.0f\n", verify1);
    printf("limit_ed25519_verify_per_s_all_cores: %.0f\n", verify_all);
    printf("limit_sqlite_inserts_per_s: %.0f\n", inserts);

    open_agreements(&b);
    sl_buf *single = sign_all(&b, n_single, 1, 0);
    b.valid = b.committed = 0;
    double s = run_orderer(&b, single, n_single, threads);
    if (b.valid != n_single)
        fprintf(stderr, "warning: %ld of %ld single reports valid\n", (long)b.valid, n_single);
    double tps = (double)n_single / s;
    printf("ledger_tx_per_s: %.0f (%ld signed one-item reports, %.2f s; target 25000, "
           "%.2f of the all-core signature limit)\n",
           tps, n_single, s, tps / verify_all);
    free_all(single, n_single);

    long skip = n_single / N_AGR + 1;
    sl_buf *batches = sign_all(&b, n_batch, BATCH, skip);
    b.valid = b.committed = 0;
    s = run_orderer(&b, batches, n_batch, threads);
    if (b.valid != n_batch)
        fprintf(stderr, "warning: %ld of %ld batches valid\n", (long)b.valid, n_batch);
    printf("ledger_measurements_per_s: %.0f (%ld reports of %d items, %.2f s; target 200000)\n",
           (double)n_batch * BATCH / s, n_batch, BATCH, s);
    free_all(batches, n_batch);

    sl_verify_result res;
    double t0 = now_s();
    if (sl_ledger_verify(b.n.path, NULL, NULL, &res))
        net_die("verify", &res.err);
    s = now_s() - t0;
    printf("ledger_verify_tx_per_s: %.0f (%llu transactions in %llu blocks, %.2f s; target "
           "30000, %.2f of the all-core signature limit)\n",
           (double)res.txs / s, (unsigned long long)res.txs, (unsigned long long)res.blocks, s,
           (double)res.txs / s / verify_all);
    net_free(&b.n);
    return 0;
}
