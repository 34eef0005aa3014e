/*
 * query.c: read-only lookups of stored blocks and transactions for the command line, the API
 * and auditors: a block's validation codes (sl_ledger_block_codes) and where a transaction sits
 * and what became of it (sl_ledger_tx).
 *
 * Both read the txs table of the store (store.c) directly with statements prepared per call;
 * nothing here writes. Heights beyond the ledger's head are refused even if rows exist (they
 * could only be left over from tampering), so answers always agree with the replayed head.
 * Thread-safety: every function takes the ledger's lock shared (statements prepared per call
 * may run on one connection from several threads; SQLite serializes them).
 */
#include <stdlib.h>
#include <string.h>

#include "ledger/ledger_int.h"

static int db_error(sqlite3 *db, sl_error *err)
{
    return sl_error_set(err, SL_EIO, "database", "%s", sqlite3_errmsg(db));
}

/* Appends the codes of block height; the ledger's lock is held. */
static int read_codes(sl_ledger *l, uint64_t height, sl_buf *out, sl_error *err)
{
    sqlite3 *db = sl__store_db(l->store);
    sqlite3_stmt *q = NULL;
    int rc = 0, step;

    if (sqlite3_prepare_v2(db, "SELECT code FROM txs WHERE height = ?1 ORDER BY idx", -1, &q,
                           NULL) != SQLITE_OK)
        return db_error(db, err);
    sqlite3_bind_int64(q, 1, (sqlite3_int64)height);
    while ((step = sqlite3_step(q)) == SQLITE_ROW)
        sl_buf_put_u8(out, (uint8_t)sqlite3_column_int(q, 0));
    if (step != SQLITE_DONE)
        rc = db_error(db, err);
    else if (out->err)
        rc = sl_error_set(err, SL_ENOMEM, NULL, "out of memory");
    sqlite3_finalize(q);
    return rc;
}

int sl_ledger_block_codes(sl_ledger *l, uint64_t height, sl_buf *out, sl_error *err)
{
    int rc;

    pthread_rwlock_rdlock(&l->mu);
    if (height > l->head.height)
        rc = sl_error_set(err, SL_ENOENT, "height", "no block %llu: the head is block %llu",
                          (unsigned long long)height, (unsigned long long)l->head.height);
    else
        rc = read_codes(l, height, out, err);
    pthread_rwlock_unlock(&l->mu);
    return rc;
}

/* Copies the current row of q (height, idx, code, reason, bytes, copies) into rec and bytes. */
static int fill_record(sqlite3_stmt *q, const uint8_t id[SL_HASH_LEN], sl_tx_record *rec,
                       sl_buf *bytes, sl_error *err)
{
    const void *p = sqlite3_column_blob(q, 4);
    size_t len = (size_t)sqlite3_column_bytes(q, 4);
    const char *reason = (const char *)sqlite3_column_text(q, 3);
    uint8_t got[SL_HASH_LEN];

    rec->height = (uint64_t)sqlite3_column_int64(q, 0);
    rec->index = (uint64_t)sqlite3_column_int64(q, 1);
    rec->code = (sl_txcode)sqlite3_column_int(q, 2);
    sl_strfmt(rec->reason, sizeof(rec->reason), "%s", reason ? reason : "");
    rec->copies = (uint32_t)sqlite3_column_int64(q, 5);
    sl_sha256(p, len, got);
    if (memcmp(got, id, SL_HASH_LEN) != 0)
        return sl_error_set(err, SL_ECORRUPT, "txs",
                            "block %llu transaction %llu: stored bytes do not hash to its id",
                            (unsigned long long)rec->height, (unsigned long long)rec->index);
    if (bytes) {
        sl_buf_put(bytes, p, len);
        if (bytes->err)
            return sl_error_set(err, SL_ENOMEM, NULL, "out of memory");
    }
    return 0;
}

/* The ledger's lock is held. The ORDER BY matches sl_ledger_proof's choice of occurrence. */
static int find_tx(sl_ledger *l, const uint8_t id[SL_HASH_LEN], sl_tx_record *rec, sl_buf *bytes,
                   sl_error *err)
{
    sqlite3 *db = sl__store_db(l->store);
    sqlite3_stmt *q = NULL;
    int rc, step;

    if (sqlite3_prepare_v2(db,
                           "SELECT height, idx, code, reason, bytes, count(*) OVER () FROM txs "
                           "WHERE id = ?1 AND height <= ?2 ORDER BY code != 0, height, idx "
                           "LIMIT 1",
                           -1, &q, NULL) != SQLITE_OK)
        return db_error(db, err);
    sqlite3_bind_blob(q, 1, id, SL_HASH_LEN, SQLITE_STATIC);
    sqlite3_bind_int64(q, 2, (sqlite3_int64)l->head.height);
    step = sqlite3_step(q);
    if (step == SQLITE_ROW)
        rc = fill_record(q, id, rec, bytes, err);
    else if (step == SQLITE_DONE)
        rc = sl_error_set(err, SL_ENOENT, "id", "no such transaction in the ledger");
    else
        rc = db_error(db, err);
    sqlite3_finalize(q);
    return rc;
}

int sl_ledger_tx(sl_ledger *l, const uint8_t id[SL_HASH_LEN], sl_tx_record *rec, sl_buf *bytes,
                 sl_error *err)
{
    size_t mark = bytes ? bytes->len : 0;
    int rc;

    memset(rec, 0, sizeof(*rec));
    pthread_rwlock_rdlock(&l->mu);
    rc = find_tx(l, id, rec, bytes, err);
    pthread_rwlock_unlock(&l->mu);
    if (rc) {
        memset(rec, 0, sizeof(*rec));
        if (bytes && !bytes->err)
            bytes->len = mark; /* nothing half-appended */
    }
    return rc;
}

/* ---- world state and its history ---- */

static int each_row(sl_ledger *l, const char *sql, const char *arg,
                    int (*fn)(void *ctx, const char *key, const char *value, uint64_t height),
                    void *ctx, sl_error *err)
{
    sqlite3 *db = sl__store_db(l->store);
    sqlite3_stmt *q = NULL;
    int rc = 0, step;

    pthread_rwlock_rdlock(&l->mu);
    if (sqlite3_prepare_v2(db, sql, -1, &q, NULL) != SQLITE_OK) {
        rc = db_error(db, err);
        goto out;
    }
    sqlite3_bind_text(q, 1, arg, -1, SQLITE_STATIC);
    sqlite3_bind_int64(q, 2, (sqlite3_int64)l->head.height);
    while (!rc && (step = sqlite3_step(q)) == SQLITE_ROW)
        rc = fn(ctx, (const char *)sqlite3_column_text(q, 0),
                (const char *)sqlite3_column_text(q, 1), (uint64_t)sqlite3_column_int64(q, 2));
    if (!rc && step != SQLITE_DONE)
        rc = db_error(db, err);
out:
    sqlite3_finalize(q);
    pthread_rwlock_unlock(&l->mu);
    return rc;
}

int sl_ledger_state(sl_ledger *l, const char *prefix,
                    int (*fn)(void *ctx, const char *key, const char *value, uint64_t height),
                    void *ctx, sl_error *err)
{
    /* A range scan of the primary key: keys are ASCII, so every key with the prefix sorts
     * below the prefix followed by the highest code point. */
    return each_row(l,
                    "SELECT key, value, height FROM state WHERE key >= ?1 AND "
                    "key < ?1 || char(1114111) AND height <= ?2 ORDER BY key",
                    prefix, fn, ctx, err);
}

int sl_ledger_history(sl_ledger *l, const char *key,
                      int (*fn)(void *ctx, const char *key, const char *value, uint64_t height),
                      void *ctx, sl_error *err)
{
    return each_row(l,
                    "SELECT key, value, height FROM history WHERE key = ?1 AND height <= ?2 "
                    "ORDER BY height",
                    key, fn, ctx, err);
}

/* ---- events ---- */

int sl_ledger_events(sl_ledger *l, const sl_event_query *q,
                     int (*fn)(void *ctx, const sl_event_row *row), void *ctx, sl_error *err)
{
    static const char sql[] =
        "SELECT height, seq, idx, kind, agreement, objective, party_from, party_to, currency, "
        "amount, start_ms, end_ms, value, outcome, tier, "
        "(SELECT id FROM txs WHERE txs.height = events.height AND txs.idx = events.idx) "
        "FROM events "
        "WHERE agreement = ?1 AND (?2 IS NULL OR objective = ?2) AND (?3 IS NULL OR kind = ?3) "
        "AND end_ms > ?4 AND start_ms < ?5 AND height <= ?6 "
        "ORDER BY height, seq LIMIT ?7 OFFSET ?8";
    sqlite3 *db = sl__store_db(l->store);
    sqlite3_stmt *st = NULL;
    int rc = 0, step;

    pthread_rwlock_rdlock(&l->mu);
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
        rc = db_error(db, err);
        goto out;
    }
    sqlite3_bind_text(st, 1, q->agreement, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, q->objective, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, q->kind, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, q->from_ms);
    sqlite3_bind_int64(st, 5, q->to_ms);
    sqlite3_bind_int64(st, 6, (sqlite3_int64)l->head.height);
    sqlite3_bind_int64(st, 7, q->limit);
    sqlite3_bind_int64(st, 8, q->offset);
    while (!rc && (step = sqlite3_step(st)) == SQLITE_ROW) {
        sl_event_row r = {
            .height = (uint64_t)sqlite3_column_int64(st, 0),
            .seq = (uint64_t)sqlite3_column_int64(st, 1),
            .tx_index = sqlite3_column_int64(st, 2),
            .kind = (const char *)sqlite3_column_text(st, 3),
            .agreement = (const char *)sqlite3_column_text(st, 4),
            .objective = (const char *)sqlite3_column_text(st, 5),
            .from = (const char *)sqlite3_column_text(st, 6),
            .to = (const char *)sqlite3_column_text(st, 7),
            .currency = (const char *)sqlite3_column_text(st, 8),
            .amount = sqlite3_column_int64(st, 9),
            .start_ms = sqlite3_column_int64(st, 10),
            .end_ms = sqlite3_column_int64(st, 11),
            .value = sqlite3_column_int64(st, 12),
            .outcome = (const char *)sqlite3_column_text(st, 13),
            .tier = sqlite3_column_int(st, 14),
        };
        if (sqlite3_column_bytes(st, 15) == SL_HASH_LEN)
            r.tx_id = sqlite3_column_blob(st, 15);
        rc = fn(ctx, &r);
    }
    if (!rc && step != SQLITE_DONE)
        rc = db_error(db, err);
out:
    sqlite3_finalize(st);
    pthread_rwlock_unlock(&l->mu);
    return rc;
}
