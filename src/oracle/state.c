/*
 * state.c: the scheduler's durable state, one SQLite file per node: the watermark of every
 * task (the first interval it has not handled), the outbox of signed report transactions
 * not yet seen in a ledger, and the observations (probe results, pushed observations) of
 * intervals not yet reported.
 *
 * An observation is written before the API acknowledges it or a task counts it (a push batch
 * in one SQLite transaction, the probes of a round in another), and deleted in the SQLite
 * transaction that writes the report of its last interval to the outbox, so a crash loses
 * neither. Probe results are kept under oracle "" (every local oracle reads them), pushed
 * observations under the pushing oracle's name.
 *
 * A report is written to the outbox together with the watermarks it advances, in one SQLite
 * transaction, before it is submitted; it leaves the outbox once its ledger holds it (or it
 * expired and can never be committed). WAL with synchronous=FULL: a committed write survives
 * a power cut. The file and its -wal and -shm are the node's alone (mode 0600: they hold the
 * outbox's signed reports and what agents pushed before any ledger has it).
 * Thread-safety: one thread (the scheduler's) uses a state at a time.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "oracle/sched_int.h"

struct sl__state {
    sqlite3 *db;
    sqlite3_stmt *get_wm, *set_wm, *add_out, *del_out, *list_out;
    sqlite3_stmt *add_obs, *list_obs, *prune_obs, *drop_obs;
};

static const char schema[] =
    "PRAGMA journal_mode=WAL;"
    "PRAGMA synchronous=FULL;"
    "CREATE TABLE IF NOT EXISTS watermark(channel TEXT NOT NULL, agreement TEXT NOT NULL,"
    " objective TEXT NOT NULL, oracle TEXT NOT NULL, next_ms INTEGER NOT NULL,"
    " PRIMARY KEY(channel, agreement, objective, oracle)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS outbox(id BLOB PRIMARY KEY, channel TEXT NOT NULL,"
    " expires_ms INTEGER NOT NULL, tx BLOB NOT NULL);"
    "CREATE TABLE IF NOT EXISTS observation(channel TEXT NOT NULL, agreement TEXT NOT NULL,"
    " service TEXT NOT NULL, oracle TEXT NOT NULL, time_ms INTEGER NOT NULL, ok INTEGER NOT NULL,"
    " response_ms INTEGER NOT NULL, processing_ms INTEGER NOT NULL, delay_ms INTEGER NOT NULL);"
    "CREATE INDEX IF NOT EXISTS observation_by_time"
    " ON observation(channel, agreement, service, oracle, time_ms);";

/* Prepared once, in the order of the statement pointers of struct sl__state. */
static const char *const statements[] = {
    "SELECT next_ms FROM watermark WHERE channel=?1 AND agreement=?2 AND objective=?3"
    " AND oracle=?4",
    "INSERT OR REPLACE INTO watermark VALUES(?1,?2,?3,?4,?5)",
    "INSERT OR IGNORE INTO outbox VALUES(?1,?2,?3,?4)",
    "DELETE FROM outbox WHERE id=?1",
    "SELECT id, channel, expires_ms, tx FROM outbox",
    "INSERT INTO observation VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9)",
    "SELECT time_ms, ok, response_ms, processing_ms, delay_ms FROM observation"
    " WHERE channel=?1 AND agreement=?2 AND service=?3 AND oracle=?4 ORDER BY time_ms LIMIT ?5",
    "DELETE FROM observation WHERE channel=?1 AND agreement=?2 AND service=?3 AND oracle=?4"
    " AND time_ms<?5",
    "DELETE FROM observation WHERE channel=?1 AND agreement=?2",
};

static int db_error(sqlite3 *db, sl_error *err, const char *what)
{
    return sl_error_set(err, SL_EIO, "state", "%s: %s", what, sqlite3_errmsg(db));
}

/* The statement pointers of st, in the order of statements[]. */
static sqlite3_stmt **stmt_slot(sl__state *st, size_t i)
{
    sqlite3_stmt **slots[] = {&st->get_wm,   &st->set_wm,    &st->add_out,
                              &st->del_out,  &st->list_out,  &st->add_obs,
                              &st->list_obs, &st->prune_obs, &st->drop_obs};
    return slots[i];
}

/* Creates path with mode 0600 if it is missing, and sets 0600 on it and on the -wal and -shm
 * SQLite keeps beside it (which take the database's mode when SQLite creates them), so a
 * state file written by an older version is tightened too. */
static int own_file(const char *path, sl_error *err)
{
    static const char *const suffix[] = {"", "-wal", "-shm"};
    char p[4096];

    for (size_t i = 0; i < sizeof(suffix) / sizeof(suffix[0]); i++) {
        sl_strfmt(p, sizeof(p), "%s%s", path, suffix[i]);
        int fd = open(p, O_RDWR | O_CLOEXEC | O_NOFOLLOW | (i == 0 ? O_CREAT : 0), 0600);
        if (fd < 0 && (i == 0 || errno != ENOENT))
            return sl_error_set(err, SL_EIO, NULL, "%s: %s", p, strerror(errno));
        if (fd >= 0 && fchmod(fd, 0600) != 0) {
            int e = errno;
            close(fd);
            return sl_error_set(err, SL_EIO, NULL, "%s: cannot make it 0600: %s", p, strerror(e));
        }
        if (fd >= 0)
            close(fd);
    }
    return 0;
}

int sl__state_open(const char *path, sl__state **out, sl_error *err)
{
    sl__state *st = calloc(1, sizeof(*st));
    int ok;

    *out = NULL;
    if (!st)
        return sl_error_set(err, SL_ENOMEM, NULL, "out of memory");
    if ((ok = own_file(path, err)) != 0) {
        free(st);
        return ok;
    }
    ok = sqlite3_open_v2(path, &st->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) ==
             SQLITE_OK &&
         sqlite3_busy_timeout(st->db, 5000) == SQLITE_OK &&
         sqlite3_exec(st->db, schema, NULL, NULL, NULL) == SQLITE_OK;
    for (size_t i = 0; ok && i < sizeof(statements) / sizeof(statements[0]); i++)
        ok = sqlite3_prepare_v2(st->db, statements[i], -1, stmt_slot(st, i), NULL) == SQLITE_OK;
    if (!ok) {
        int rc = db_error(st->db, err, path);
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
    for (size_t i = 0; i < sizeof(statements) / sizeof(statements[0]); i++)
        sqlite3_finalize(*stmt_slot(st, i));
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

/* Binds the four key columns of a service's observations. */
static void bind_obs_key(sqlite3_stmt *s, const sl__obs_key *k)
{
    sqlite3_bind_text(s, 1, k->channel, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, k->agreement, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 3, k->service, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 4, k->oracle, -1, SQLITE_STATIC);
}

int sl__state_obs_add(sl__state *st, const sl__obs_key *k, const sl_observation *obs, size_t n,
                      sl_error *err)
{
    int rc = 0;

    for (size_t i = 0; i < n && !rc; i++) {
        bind_obs_key(st->add_obs, k);
        sqlite3_bind_int64(st->add_obs, 5, obs[i].time_ms);
        sqlite3_bind_int(st->add_obs, 6, obs[i].ok != 0);
        sqlite3_bind_int64(st->add_obs, 7, obs[i].response_ms);
        sqlite3_bind_int64(st->add_obs, 8, obs[i].processing_ms);
        sqlite3_bind_int64(st->add_obs, 9, obs[i].delay_ms);
        rc = run(st, st->add_obs, err, "writing an observation");
    }
    return rc;
}

int sl__state_obs_load(sl__state *st, const sl__obs_key *k, size_t max, sl_observation **v,
                       size_t *n, size_t *cap, sl_error *err)
{
    sqlite3_stmt *q = st->list_obs;
    int rc = 0, s;

    bind_obs_key(q, k);
    sqlite3_bind_int64(q, 5, (sqlite3_int64)max);
    while ((s = sqlite3_step(q)) == SQLITE_ROW) {
        if (sl_reserve(v, cap, *n + 1, sizeof(**v)) != 0) {
            rc = sl_error_set(err, SL_ENOMEM, NULL, "out of memory");
            break;
        }
        (*v)[(*n)++] = (sl_observation){sqlite3_column_int64(q, 0), sqlite3_column_int(q, 1),
                                        sqlite3_column_int64(q, 2), sqlite3_column_int64(q, 3),
                                        sqlite3_column_int64(q, 4)};
    }
    if (!rc && s != SQLITE_DONE)
        rc = db_error(st->db, err, "reading observations");
    sqlite3_reset(q);
    sqlite3_clear_bindings(q);
    return rc;
}

int sl__state_obs_prune(sl__state *st, const sl__obs_key *k, int64_t before_ms, sl_error *err)
{
    bind_obs_key(st->prune_obs, k);
    sqlite3_bind_int64(st->prune_obs, 5, before_ms);
    return run(st, st->prune_obs, err, "deleting reported observations");
}

int sl__state_obs_drop(sl__state *st, const char *channel, const char *agreement, sl_error *err)
{
    sqlite3_bind_text(st->drop_obs, 1, channel, -1, SQLITE_STATIC);
    sqlite3_bind_text(st->drop_obs, 2, agreement, -1, SQLITE_STATIC);
    return run(st, st->drop_obs, err, "deleting an agreement's observations");
}
