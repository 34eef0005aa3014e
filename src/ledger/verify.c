/*
 * verify.c: the offline audit of a ledger database. Trusts nothing stored but the genesis
 * block: every header is decoded, chained and its orderer signature checked; every
 * transaction is re-validated from its bytes (signatures included, in parallel) and replayed
 * through a fresh contract; the Merkle root, results hash and state hash of each block, every
 * stored validation code, the world-state history and event rows of each block, and at the
 * end the world state itself must all match what the replay produces. The first mismatch is
 * reported with its block. Thread-safety: reentrant (its own connection and contract).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ledger/ledger_int.h"

typedef struct audit {
    sl__store *store;
    sqlite3 *db;
    sl_channel_spec *ch;
    sl_contract *c;
    sl__ids seen;
    sl__ids cc;
    int have_cc; /* cc and seen initialised */
    sl_block_header prev;
    uint8_t prev_hash[SL_HASH_LEN];
    int threads;
    sl_verify_result *res;
} audit;

static int fail(audit *a, uint64_t height, int code, const char *field, const char *fmt,
                const char *detail)
{
    a->res->bad_height = (int64_t)height;
    sl_error_set(&a->res->err, code, field, fmt, detail);
    return code;
}

/* Query helper: one integer from sql with height bound to ?1. */
static int64_t scalar(sqlite3 *db, const char *sql, uint64_t height)
{
    sqlite3_stmt *q = NULL;
    int64_t v = -1;
    if (sqlite3_prepare_v2(db, sql, -1, &q, NULL) == SQLITE_OK) {
        sqlite3_bind_int64(q, 1, (sqlite3_int64)height);
        if (sqlite3_step(q) == SQLITE_ROW)
            v = sqlite3_column_type(q, 0) == SQLITE_NULL ? -1 : sqlite3_column_int64(q, 0);
    }
    sqlite3_finalize(q);
    return v;
}

static int check_codes(audit *a, const sl__stored_block *sb, const sl__batch *b)
{
    for (size_t i = 0; i < sb->n; i++) {
        if (b->slots[i].code == sb->txs[i].code)
            continue;
        char what[160];
        sl_strfmt(what, sizeof(what), "transaction %zu is stored as %s but is %s (%s)", i,
                  sl_txcode_name(sb->txs[i].code), sl_txcode_name(b->slots[i].code),
                  b->slots[i].reason[0] ? b->slots[i].reason : "ok");
        return fail(a, sb->height, SL_ECORRUPT, "txs", "%s", what);
    }
    return 0;
}

static int check_header(audit *a, uint64_t h, const sl_block_header *hd)
{
    if (hd->height != h)
        return fail(a, h, SL_ECORRUPT, "header", "%s", "header names another height");
    if (memcmp(hd->prev, a->prev_hash, SL_HASH_LEN) != 0)
        return fail(a, h, SL_ECORRUPT, "header", "%s",
                    "previous-block hash does not match the block before (reordered, replaced "
                    "or missing block)");
    if (hd->time_ms <= a->prev.time_ms)
        return fail(a, h, SL_ECORRUPT, "header", "%s", "timestamp does not increase");
    sl_error e;
    if (sl__header_verify(a->ch, &a->cc, hd, &e))
        return fail(a, h, SL_ECORRUPT, "signature", "%s", e.msg);
    return 0;
}

/* Every derived column stored for the block (its blocks row, its txs rows, its events, its
 * history) against what the header and the replay give. */
static int check_rows(audit *a, const sl_block_header *hd, const sl__batch *b)
{
    sl__batch view = *b; /* the replay's rows and codes under the stored, signed header */
    uint8_t hash[SL_HASH_LEN];
    size_t n_events;
    const sl_event *ev = sl_contract_events(a->c, &n_events);
    sl_error e;
    view.header = *hd;
    if (sl_block_hash(hd, hash))
        return fail(a, hd->height, SL_ENOMEM, NULL, "%s", "out of memory");
    int rc = sl__store_compare(a->store, &view, hash, ev, n_events, &e);
    return rc ? fail(a, hd->height, rc, e.field, "%s", e.msg) : 0;
}

/* Re-executed figures against the header and the stored rows. */
static int check_results(audit *a, const sl__stored_block *sb, const sl_block_header *hd,
                         const sl__batch *b)
{
    uint64_t h = sb->height;
    if (sb->n != hd->n_tx)
        return fail(a, h, SL_ECORRUPT, "txs", "%s",
                    "number of stored transactions differs from "
                    "the header (added or deleted transaction)");
    if (memcmp(b->header.merkle, hd->merkle, SL_HASH_LEN) != 0)
        return fail(a, h, SL_ECORRUPT, "merkle", "%s",
                    "Merkle root does not match the stored "
                    "transactions (a transaction was altered)");
    int rc = check_codes(a, sb, b);
    if (rc)
        return rc;
    if (memcmp(b->header.results, hd->results, SL_HASH_LEN) != 0)
        return fail(a, h, SL_ECORRUPT, "results", "%s",
                    "validation results differ from the "
                    "header");
    if (memcmp(b->header.state, hd->state, SL_HASH_LEN) != 0)
        return fail(a, h, SL_ECORRUPT, "state", "%s",
                    "state hash after replay differs from the "
                    "header");
    return check_rows(a, hd, b);
}

/* A block read and checked for everything that needs no state, ready for its turn. Staging
 * block h+1 on another thread while block h executes keeps every core busy verifying
 * signatures. */
typedef struct staged {
    audit *a;
    uint64_t h;
    sl__stored_block sb;
    sl_block_header hd;
    sl__batch b;
    int rc; /* nonzero: why in e (the block is then reported by finish) */
    sl_error e;
} staged;

static void stage(staged *s)
{
    audit *a = s->a;
    memset(&s->sb, 0, sizeof(s->sb));
    memset(&s->b, 0, sizeof(s->b));
    if ((s->rc = sl__store_read(a->store, s->h, &s->sb, &s->e))) {
        if (s->e.code == SL_ENOENT)
            sl_strfmt(s->e.msg, sizeof(s->e.msg), "block is missing");
        return;
    }
    if ((s->rc = sl_block_header_decode(s->sb.header, s->sb.header_len, &s->hd, &s->e))) {
        sl_error why = s->e;
        sl_strfmt(s->e.msg, sizeof(s->e.msg), "header does not decode: %s", why.msg);
        return;
    }
    s->b.n = s->sb.n;
    if (!(s->b.slots = calloc(s->sb.n ? s->sb.n : 1, sizeof(*s->b.slots)))) {
        s->rc = sl_error_set(&s->e, SL_ENOMEM, NULL, "out of memory");
        return;
    }
    for (size_t i = 0; i < s->sb.n; i++) {
        s->b.slots[i].bytes = s->sb.txs[i].bytes;
        s->b.slots[i].len = s->sb.txs[i].len;
    }
    sl__prevalidate(a->ch, &a->cc, NULL, s->b.slots, s->sb.n, s->hd.time_ms, a->threads);
}

static void *stage_run(void *arg)
{
    stage(arg);
    return NULL;
}

static void staged_release(staged *s)
{
    for (size_t i = 0; s->b.slots && i < s->sb.n; i++)
        sl_tx_free(s->b.slots[i].tx);
    free(s->b.slots);
    s->b.slots = NULL;
    sl__batch_release(&s->b);
    sl__stored_block_release(&s->sb);
}

/* The block's turn: header chain and signature, execution, and every comparison. */
static int finish(staged *s)
{
    audit *a = s->a;
    uint64_t h = s->h;
    if (s->rc)
        return fail(a, h, s->rc == SL_ENOMEM ? SL_ENOMEM : SL_ECORRUPT,
                    s->e.field[0] ? s->e.field : "block", "%s", s->e.msg);
    int rc = check_header(a, h, &s->hd);
    if (rc)
        return rc;
    sl_error e;
    s->b.header.height = h;
    s->b.header.time_ms = s->hd.time_ms;
    sl_contract_events_clear(a->c);
    if (sl__execute(a->c, &a->seen, a->ch, &s->b, &e))
        return fail(a, h, SL_ECORRUPT, "replay", "replay failed: %s", e.msg);
    if ((rc = check_results(a, &s->sb, &s->hd, &s->b)))
        return rc;
    a->res->txs += s->sb.n;
    for (size_t i = 0; i < s->sb.n; i++)
        a->res->valid += s->b.slots[i].code == SL_TXC_VALID;
    a->prev = s->hd;
    if (sl_block_hash(&s->hd, a->prev_hash))
        return fail(a, h, SL_ENOMEM, NULL, "%s", "out of memory");
    return 0;
}

/* Blocks 1..top in order, each staged while its predecessor finishes. */
static int audit_blocks(audit *a, uint64_t top,
                        void (*progress)(void *arg, uint64_t done, uint64_t total), void *arg)
{
    staged st[2] = {{.a = a, .h = 1}, {.a = a}};
    int rc = 0, cur = 0;
    if (top >= 1)
        stage(&st[0]);
    for (uint64_t h = 1; h <= top; h++, cur ^= 1) {
        staged *next = &st[cur ^ 1];
        pthread_t t;
        int started = 0;
        if (h < top) {
            next->h = h + 1;
            started = pthread_create(&t, NULL, stage_run, next) == 0;
        }
        rc = finish(&st[cur]);
        if (started)
            pthread_join(t, NULL);
        else if (h < top)
            stage(next);
        staged_release(&st[cur]);
        a->res->blocks = h;
        if (progress && (h % 64 == 0 || h == top))
            progress(arg, h, top);
        if (rc) {
            if (h < top)
                staged_release(next);
            break;
        }
    }
    return rc;
}

/* Every row of every table belongs to a block that exists: none before the genesis, none
 * after the head (left over from truncation, or slipped in to be served). */
static int audit_heights(audit *a, uint64_t top)
{
    static const char *const tables[] = {"blocks", "txs", "events", "history", "state"};
    for (size_t i = 0; i < sizeof(tables) / sizeof(tables[0]); i++) {
        char sql[96];
        sl_strfmt(sql, sizeof(sql), "SELECT max(height) FROM %s", tables[i]);
        if (scalar(a->db, sql, 0) > (int64_t)top)
            return fail(a, top + 1, SL_ECORRUPT, tables[i],
                        "%s rows refer to blocks after the last one (blocks were truncated)",
                        tables[i]);
        sl_strfmt(sql, sizeof(sql), "SELECT count(*) FROM %s WHERE height < 0", tables[i]);
        if (scalar(a->db, sql, 0) != 0)
            return fail(a, 0, SL_ECORRUPT, tables[i],
                        "%s rows refer to blocks before the genesis (negative heights)", tables[i]);
    }
    return 0;
}

static char *state_value_cb(void *arg, const char *key)
{
    return sl__state_value(arg, key);
}

/* After the last block: the world state is the replay's, and nothing refers to other blocks. */
static int audit_end(audit *a, uint64_t top)
{
    sl_error e;
    int rc = audit_heights(a, top);
    if (!rc && (rc = sl__store_compare_state(a->store, state_value_cb, a->c, &e)))
        rc = fail(a, top, rc, e.field, "%s", e.msg);
    return rc;
}

static int audit_genesis(audit *a, const uint8_t *g, size_t glen)
{
    /* Block 0's row must be the genesis header, and its rows those the genesis writes. */
    sl__stored_block sb;
    sl_block_header h0;
    uint8_t hash0[SL_HASH_LEN];
    sl_error e;
    int rc = sl__store_read(a->store, 0, &sb, &e);
    if (!rc) {
        if (sl_block_header_decode(sb.header, sb.header_len, &h0, &e) ||
            sl_block_hash(&h0, hash0) || memcmp(hash0, a->prev_hash, SL_HASH_LEN) != 0)
            rc = SL_ECORRUPT;
        sl__stored_block_release(&sb);
    }
    if (rc)
        return fail(a, 0, SL_ECORRUPT, "genesis", "%s", "block 0 differs from the genesis");
    if ((rc = sl__store_compare_genesis(a->store, g, glen, &a->prev, &e)))
        return fail(a, 0, rc, e.field, "%s", e.msg);
    return 0;
}

static int audit_open(audit *a, const char *path)
{
    sl_error e;
    uint8_t *g = NULL;
    size_t glen;
    int rc = sl__store_open(path, 1, &a->store, &e);
    if (rc) {
        a->res->err = e;
        return rc == SL_ENOENT ? SL_EIO : rc;
    }
    a->db = sl__store_db(a->store);
    /* One read transaction for the whole audit: a consistent snapshot even while a node keeps
     * committing (WAL readers never block the writer). */
    if (sqlite3_exec(a->db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
        return fail(a, 0, SL_EIO, "database", "%s", sqlite3_errmsg(a->db));
    if (sl__store_genesis(a->store, &g, &glen, &e) ||
        sl__genesis_open(g, glen, &a->ch, &a->prev, &e)) {
        free(g);
        return fail(a, 0, SL_ECORRUPT, "genesis", "genesis: %s", e.msg);
    }
    if (sl_block_hash(&a->prev, a->prev_hash) ||
        sl_contract_new(a->ch->orgs[a->ch->issuer].name, &a->c) || sl__ids_init(&a->cc) ||
        sl__ids_init(&a->seen))
        rc = fail(a, 0, SL_ENOMEM, NULL, "%s", "out of memory");
    else
        a->have_cc = 1;
    if (!rc)
        rc = audit_genesis(a, g, glen);
    free(g);
    return rc;
}

int sl_ledger_verify(const char *path, void (*progress)(void *arg, uint64_t done, uint64_t total),
                     void *arg, sl_verify_result *res)
{
    memset(res, 0, sizeof(*res));
    res->bad_height = -1;
    audit a = {.res = res, .threads = (int)sysconf(_SC_NPROCESSORS_ONLN)};
    int rc = audit_open(&a, path);
    int64_t top = rc ? -1 : sl__store_height(a.store);
    if (!rc && top >= 1)
        rc = audit_blocks(&a, (uint64_t)top, progress, arg);
    if (!rc && top >= 0)
        rc = audit_end(&a, (uint64_t)top);
    sl_contract_free(a.c);
    sl_channel_spec_free(a.ch);
    if (a.have_cc) {
        sl__ids_release(&a.seen);
        sl__ids_release(&a.cc);
    }
    sl__store_close(a.store);
    return rc;
}
