/*
 * state.c: the scheduler's durable state, one SQLite file per node: the watermark of every
 * task (the first interval it has not handled) and the outbox of signed report transactions
 * not yet seen in a ledger.
 *
 * A report is written to the outbox together with the watermarks it advances, in one SQLite
 * transaction, before it is submitted; it leaves the outbox once its ledger holds it (or it
 * expired and can never be committed). WAL with synchronous=FULL: a committed write survives
 * a power cut. Thread-safety: one thread (the scheduler's) uses a state at a time.
 */
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "oracle/sched_int.h"

struct sl__state {
    sqlite3 *db;
    sqlite3_stmt *get_wm, *set_wm, *add_out, *del_out, *list_out;
};

static const char schema[] =
    "PRAGMA journal_mode=WAL;"
    "PRAGMA synchronous=FULL;"
    "CREATE TABLE IF NOT EXISTS watermark(channel TEXT NOT NULL, agreement TEXT NOT NULL,"
    " objective TEXT NOT NULL, oracle TEXT NOT NULL, next_ms INTEGER NOT NULL,"
    " PRIMARY KEY(channel, agreement, objective, oracle)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS outbox(id BLOB PRIMARY KEY, channel TEXT NOT NULL,"
    " expires_ms INTEGER NOT NULL, tx BLOB NOT NULL);";

static int db_error(sqlite3 *db, sl_error *err, const char *what)
{
    return sl_error_set(err, SL_EIO, "state", "%s: %s", what, sqlite3_errmsg(db));
}

int sl__state_open(const char *path, sl__state **out, sl_error *err)
{
    sl__state *st = calloc(1, sizeof(*st));
    int rc = 0;

    *out = NULL;
    if (!st)
        return sl_error_set(err, SL_ENOMEM, NULL, "out of memory");
    if (sqlite3_open_v2(path, &st->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
            SQLITE_OK ||
        sqlite3_busy_timeout(st->db, 5000) != SQLITE_OK ||
        sqlite3_exec(st->db, schema, NULL, NULL, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(st->db,
                           "SELECT next_ms FROM watermark WHERE channel=?1 AND agreement=?2"
                           " AND objective=?3 AND oracle=?4",
                           -1, &st->get_wm, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(st->db, "INSERT OR REPLACE INTO watermark VALUES(?1,?2,?3,?4,?5)", -1,
                           &st->set_wm, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(st->db, "INSERT OR IGNORE INTO outbox VALUES(?1,?2,?3,?4)", -1,
                           &st->add_out, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(st->db, "DELETE FROM outbox WHERE id=?1", -1, &st->del_out, NULL) !=
            SQLITE_OK ||
        sqlite3_prepare_v2(st->db, "SELECT id, channel, expires_ms, tx FROM outbox", -1,
                           &st->list_out, NULL) != SQLITE_OK) {
        rc = db_error(st->db, err, path);
        sl__state_close(st);
        return rc;
    }
    *out = st;
    return 0;
}

void sl__state_close(sl__state *st)
{
    if (!st)
        return;
    sqlite3_finalize(st->get_wm);
    sqlite3_finalize(st->set_wm);
    sqlite3_finalize(st->add_out);
    sqlite3_finalize(st->del_out);
    sqlite3_finalize(st->list_out);
    sqlite3_close(st->db);
    free(st);
}

/* Binds the four key columns of a watermark. */
static void bind_key(sqlite3_stmt *s, const sl__task_key *k)
{
    sqlite3_bind_text(s, 1, k->channel, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, k->agreement, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 3, k->objective, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 4, k->oracle, -1, SQLITE_STATIC);
}

int sl__state_watermark(sl__state *st, const sl__task_key *k, int64_t *next_ms, sl_error *err)
{
    int rc;

    bind_key(st->get_wm, k);
    rc = sqlite3_step(st->get_wm);
    if (rc == SQLITE_ROW)
        *next_ms = sqlite3_column_int64(st->get_wm, 0);
    sqlite3_reset(st->get_wm);
    if (rc == SQLITE_ROW)
        return 0;
    if (rc == SQLITE_DONE)
        return SL_ENOENT;
    return db_error(st->db, err, "reading a watermark");
}

int sl__state_begin(sl__state *st, sl_error *err)
{
    if (sqlite3_exec(st->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
        return db_error(st->db, err, "begin");
    return 0;
}

int sl__state_commit(sl__state *st, sl_error *err)
{
    if (sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
        int rc = db_error(st->db, err, "commit");
        sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
        return rc;
    }
    return 0;
}

void sl__state_rollback(sl__state *st)
{
    sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
}

/* Runs a prepared write statement once. */
static int run(sl__state *st, sqlite3_stmt *s, sl_error *err, const char *what)
{
    int rc = sqlite3_step(s);

    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    return rc == SQLITE_DONE ? 0 : db_error(st->db, err, what);
}

int sl__state_set_watermark(sl__state *st, const sl__task_key *k, int64_t next_ms, sl_error *err)
{
    bind_key(st->set_wm, k);
    sqlite3_bind_int64(st->set_wm, 5, next_ms);
    return run(st, st->set_wm, err, "writing a watermark");
}

int sl__state_outbox_add(sl__state *st, const uint8_t id[SL_HASH_LEN], const char *channel,
                         int64_t expires_ms, const uint8_t *tx, size_t len, sl_error *err)
{
    sqlite3_bind_blob(st->add_out, 1, id, SL_HASH_LEN, SQLITE_STATIC);
    sqlite3_bind_text(st->add_out, 2, channel, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st->add_out, 3, expires_ms);
    sqlite3_bind_blob64(st->add_out, 4, tx, len, SQLITE_STATIC);
    return run(st, st->add_out, err, "writing the outbox");
}

int sl__state_outbox_del(sl__state *st, const uint8_t id[SL_HASH_LEN], sl_error *err)
{
    sqlite3_bind_blob(st->del_out, 1, id, SL_HASH_LEN, SQLITE_STATIC);
    return run(st, st->del_out, err, "deleting from the outbox");
}

int sl__state_outbox_each(sl__state *st, sl__outbox_cb cb, void *arg, sl_error *err)
{
    sl__outbox_row row;
    int rc = 0, s;

    while ((s = sqlite3_step(st->list_out)) == SQLITE_ROW) {
        const void *id = sqlite3_column_blob(st->list_out, 0);
        const unsigned char *ch = sqlite3_column_text(st->list_out, 1);
        if (!id || sqlite3_column_bytes(st->list_out, 0) != SL_HASH_LEN || !ch)
            continue; /* not ours: cannot be a row this file wrote */
        memcpy(row.id, id, SL_HASH_LEN);
        sl_strfmt(row.channel, sizeof(row.channel), "%s", (const char *)ch);
        row.expires_ms = sqlite3_column_int64(st->list_out, 2);
        row.tx = sqlite3_column_blob(st->list_out, 3);
        row.len = (size_t)sqlite3_column_bytes(st->list_out, 3);
        if ((rc = cb(arg, &row)) != 0)
            break;
    }
    if (rc == 0 && s != SQLITE_ROW && s != SQLITE_DONE)
        rc = db_error(st->db, err, "reading the outbox");
    sqlite3_reset(st->list_out);
    return rc;
}
