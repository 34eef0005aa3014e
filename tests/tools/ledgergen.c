/*
 * ledgergen.c: a test tool that grows a realistic channel ledger, for the script tests that
 * audit, tamper with and crash a ledger from outside (tests/integration/ledger_*.sh).
 *
 *   tool_ledgergen DIR [--blocks N]      (N = 0: commit until killed; default 10)
 *
 * The first run creates DIR/channel.yaml, DIR/genesis.block and DIR/ledger.db (written under
 * temporary names and renamed, ledger.db last, so a run killed while creating leaves no
 * ledger.db and the next run starts over); later runs reopen the ledger. Each run then commits
 * N blocks and prints "committed H" on stdout (flushed) after each commit returns, and appends
 * the hex ids of the block's valid transactions to DIR/txids, one per line.
 *
 * Keys and certificates are the deterministic ones of tests/support/net.h (the channel is
 * univie-aws). Block H's content depends on H alone, so a run that restarts after a crash
 * commits exactly what the crashed run would have: block H is stamped NT0 + (H-1) h + 30 s;
 * agreement web-J covers hours [10 J, 10 J + 10) from NT0 and is set up in block 10 J + 1
 * (issue to the consumer, propose, accept, deposit); block H carries the three oracles' reports
 * of hour H - 2, down on odd hours so penalties are paid, with the consumer's own oracle
 * dissenting on every seventh hour (a dispute) and the watchdog reporting twice every fifth
 * hour (the second refused); a small escrow top-up every
 * 7th block and a token issue to the provider every 13th. Single-threaded; the process owns the
 * ledger while it runs. Test scaffolding: any failure prints why and exits 99.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "support/net.h"

#define MAX_TXS         16
#define AGREEMENT_HOURS 10
#define UP              1000000
#define DOWN            0

typedef struct gen {
    net n; /* keys and certificates; n.l is the open ledger */
    char dir[256];
    char db[320];
    char txids_path[320];
    FILE *txids;
    sl_buf tx[MAX_TXS];
    size_t n_tx;
    char doc[2048];
} gen;

static void die(const char *what)
{
    fprintf(stderr, "ledgergen: %s: %s\n", what, errno ? strerror(errno) : "failed");
    exit(99);
}

static void path_in(const gen *g, const char *name, char *out, size_t cap)
{
    if ((size_t)snprintf(out, cap, "%s/%s", g->dir, name) >= cap)
        die("path too long");
}

/* Writes p[0..len) to DIR/name through a temporary file and a rename. */
static void write_file(const gen *g, const char *name, const void *p, size_t len)
{
    char path[320], tmp[336];
    FILE *f;

    path_in(g, name, path, sizeof(path));
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    f = fopen(tmp, "wb");
    if (!f || fwrite(p, 1, len, f) != len || fclose(f) != 0 || rename(tmp, path) != 0)
        die(path);
}

/* channel.yaml, genesis.block, an empty txids, then ledger.db (renamed into place last). */
static void create_files(gen *g)
{
    char tmp[336], side[352];
    sl_buf doc, genesis;
    sl_error err = {0};

    sl_buf_init(&doc);
    sl_buf_init(&genesis);
    net_channel_doc(&g->n, &doc, NULL);
    if (sl_genesis_build((const char *)doc.p, doc.len, g->n.key[M_NODE], &g->n.cert[M_NODE],
                         NT0 - NHOUR, &genesis, &err))
        net_die("genesis", &err);
    write_file(g, "channel.yaml", doc.p, doc.len);
    write_file(g, "genesis.block", genesis.p, genesis.len);
    write_file(g, "txids", "", 0);
    snprintf(tmp, sizeof(tmp), "%s.tmp", g->db);
    /* Leftovers of a run killed while creating. */
    unlink(tmp);
    snprintf(side, sizeof(side), "%s-wal", tmp);
    unlink(side);
    snprintf(side, sizeof(side), "%s-shm", tmp);
    unlink(side);
    if (sl_ledger_create(tmp, genesis.p, genesis.len, &err))
        net_die("create", &err);
    snprintf(side, sizeof(side), "%s-wal", tmp);
    if (access(side, F_OK) == 0)
        die("the new ledger left a write-ahead log behind");
    errno = 0;
    if (rename(tmp, g->db) != 0)
        die(g->db);
    sl_buf_release(&doc);
    sl_buf_release(&genesis);
}

/* Cuts a partial last line a killed run may have left in txids, then opens it to append. */
static void txids_open(gen *g)
{
    FILE *f = fopen(g->txids_path, "rb");
    long keep = 0, at = 0;
    int c;

    if (f) {
        while ((c = fgetc(f)) != EOF) {
            at++;
            if (c == '\n')
                keep = at;
        }
        fclose(f);
        if (keep != at && truncate(g->txids_path, keep) != 0)
            die(g->txids_path);
    }
    if (!(g->txids = fopen(g->txids_path, "ab")))
        die(g->txids_path);
}

/* ---- block content ---- */

static int64_t block_time(uint64_t h)
{
    return NT0 + ((int64_t)h - 1) * NHOUR + 30 * NSEC;
}

static sl_buf *next_slot(gen *g)
{
    if (g->n_tx >= MAX_TXS)
        net_die("too many transactions in one block", NULL);
    return &g->tx[g->n_tx++];
}

static void agreement_name(int64_t j, char *out, size_t cap)
{
    snprintf(out, cap, "web-%06lld", (long long)j);
}

static size_t agreement_doc(int64_t j, char *out, size_t cap)
{
    char name[SL_IDENT_NAME_CAP], start[32], end[32];

    agreement_name(j, name, sizeof(name));
    sl_time_format(NT0 + j * AGREEMENT_HOURS * NHOUR, start, sizeof(start));
    sl_time_format(NT0 + (j + 1) * AGREEMENT_HOURS * NHOUR, end, sizeof(end));
    return (size_t)snprintf(
        out, cap,
        "apiVersion: slaledger/v1\nkind: Agreement\nmetadata: {name: %s}\n"
        "spec:\n  channel: univie-aws\n  consumer: univie\n  provider: aws\n"
        "  period: {start: %s, end: %s}\n"
        "  fee: {amount: \"1000.00\", currency: EUR}\n  grace: 10m\n"
        "  services: [{name: web, kind: http, source: {url: \"http://127.0.0.1/\"}}]\n"
        "  oracles: {members: [univie-mon, aws-mon, watchdog], policy: median, quorum: 2}\n"
        "  objectives:\n    - {name: uptime, metric: availability, interval: 1h, window: 1h, "
        "target: \">= 99.0%%\"}\n"
        "  penalties:\n    - {objective: uptime, tiers: [{below: 99.0%%, credit: 10%%}, "
        "{below: 95.0%%, credit: 30%%}]}\n",
        name, start, end);
}

static void add_money(gen *g, int m, sl_tx_type type, const char *to_or_agreement, int64_t amount,
                      int64_t now)
{
    sl_tx t = net_tx(&g->n, m, type, now + NHOUR);

    if (type == SL_TX_ISSUE) {
        snprintf(t.to, sizeof(t.to), "%s", to_or_agreement);
        memcpy(t.currency, "EUR", 4);
    } else {
        snprintf(t.agreement, sizeof(t.agreement), "%s", to_or_agreement);
    }
    t.amount = amount;
    net_sign(&g->n, m, &t, next_slot(g));
}

/* Issue to the consumer, propose, accept and fund agreement j. */
static void add_setup(gen *g, int64_t j, int64_t now)
{
    char name[SL_IDENT_NAME_CAP];
    size_t len = agreement_doc(j, g->doc, sizeof(g->doc));
    sl_tx t;

    agreement_name(j, name, sizeof(name));
    add_money(g, M_ISSUER, SL_TX_ISSUE, "univie", 150000, now);
    t = net_tx(&g->n, M_CONSUMER, SL_TX_PROPOSE, now + NHOUR);
    t.doc = (const uint8_t *)g->doc;
    t.doc_len = len;
    net_sign(&g->n, M_CONSUMER, &t, next_slot(g));
    t = net_tx(&g->n, M_PROVIDER, SL_TX_ACCEPT, now + NHOUR);
    snprintf(t.agreement, sizeof(t.agreement), "%s", name);
    sl_sha256(g->doc, len, t.doc_hash);
    net_sign(&g->n, M_PROVIDER, &t, next_slot(g));
    add_money(g, M_CONSUMER, SL_TX_DEPOSIT, name, 100000, now);
}

static void add_report(gen *g, int m, int64_t k, int64_t value, int64_t now)
{
    sl_tx_item it = {.start_ms = NT0 + k * NHOUR, .end_ms = NT0 + (k + 1) * NHOUR, .value = value};
    sl_tx t = net_tx(&g->n, m, SL_TX_REPORT, now + NHOUR);

    agreement_name(k / AGREEMENT_HOURS, it.agreement, sizeof(it.agreement));
    snprintf(it.objective, sizeof(it.objective), "uptime");
    t.items = &it;
    t.n_items = 1;
    net_sign(&g->n, m, &t, next_slot(g));
}

/* The transactions of block h, a function of h alone. */
static void build_block(gen *g, uint64_t h)
{
    int64_t now = block_time(h), k = (int64_t)h - 2;
    char name[SL_IDENT_NAME_CAP];

    g->n_tx = 0;
    g->n.nonce = h * MAX_TXS;
    if ((h - 1) % AGREEMENT_HOURS == 0)
        add_setup(g, (int64_t)(h - 1) / AGREEMENT_HOURS, now);
    if (k >= 0) {
        int64_t v = k % 2 ? DOWN : UP;
        add_report(g, M_UNIVIE_MON, k, k % 7 == 3 ? UP + DOWN - v : v, now);
        add_report(g, M_AWS_MON, k, v, now);
        add_report(g, M_WATCHDOG, k, v, now);
        if (k % 5 == 1) /* an oracle that reports twice: refused */
            add_report(g, M_WATCHDOG, k, v, now);
    }
    agreement_name((int64_t)(h - 1) / AGREEMENT_HOURS, name, sizeof(name));
    if (h % 7 == 0)
        add_money(g, M_CONSUMER, SL_TX_DEPOSIT, name, 1000, now);
    if (h % 13 == 0)
        add_money(g, M_ISSUER, SL_TX_ISSUE, "aws", 50000, now);
}

/* ---- committing ---- */

static void record_valid(gen *g, const sl_commit_info *info)
{
    char hex[2 * SL_HASH_LEN + 1];
    uint8_t id[SL_HASH_LEN];

    for (size_t i = 0; i < info->n_tx; i++) {
        if (info->codes[i] != SL_TXC_VALID)
            continue;
        sl_sha256(g->tx[i].p, g->tx[i].len, id);
        sl_hex(id, SL_HASH_LEN, hex);
        fprintf(g->txids, "%s\n", hex);
    }
    if (fflush(g->txids) != 0)
        die(g->txids_path);
}

static void commit_next(gen *g)
{
    uint64_t h = sl_ledger_height(g->n.l, NULL) + 1;
    sl_commit_info info;

    build_block(g, h);
    info = net_commit(&g->n, g->tx, g->n_tx, block_time(h));
    if (info.height != h)
        net_die("committed at an unexpected height", NULL);
    record_valid(g, &info);
    printf("committed %llu\n", (unsigned long long)h);
    if (fflush(stdout) != 0)
        die("stdout");
}

static void parse_args(int argc, char **argv, gen *g, uint64_t *blocks)
{
    char *end = NULL;

    *blocks = 10;
    if (argc == 4 && strcmp(argv[2], "--blocks") == 0 && argv[3][0] >= '0' && argv[3][0] <= '9') {
        errno = 0;
        *blocks = strtoull(argv[3], &end, 10);
        if (errno || *end != '\0')
            argc = 0;
    }
    if ((argc != 2 && argc != 4) || argv[1][0] == '-' ||
        (size_t)snprintf(g->dir, sizeof(g->dir), "%s", argv[1]) >= sizeof(g->dir)) {
        fprintf(stderr, "usage: tool_ledgergen DIR [--blocks N]   (N = 0: until killed)\n");
        exit(2);
    }
}

int main(int argc, char **argv)
{
    static gen g; /* large; zeroed */
    uint64_t blocks;
    sl_error err = {0};

    parse_args(argc, argv, &g, &blocks);
    if (mkdir(g.dir, 0755) != 0 && errno != EEXIST)
        die(g.dir);
    net_keys(&g.n);
    for (int i = 0; i < MAX_TXS; i++)
        sl_buf_init(&g.tx[i]);
    path_in(&g, "ledger.db", g.db, sizeof(g.db));
    path_in(&g, "txids", g.txids_path, sizeof(g.txids_path));
    if (access(g.db, F_OK) != 0)
        create_files(&g);
    if (sl_ledger_open(g.db, 0, &g.n.l, &err))
        net_die("open", &err);
    txids_open(&g);
    for (uint64_t i = 0; blocks == 0 || i < blocks; i++)
        commit_next(&g);
    fclose(g.txids);
    sl_ledger_close(g.n.l);
    for (int i = 0; i < N_ORGS; i++)
        sl_key_free(g.n.root[i]);
    for (int i = 0; i < N_MEMBERS; i++)
        sl_key_free(g.n.key[i]);
    for (int i = 0; i < MAX_TXS; i++)
        sl_buf_release(&g.tx[i]);
    return 0;
}
