/*
 * store.c: a channel's SQLite database.
 *
 *   meta(key, value)                 schema version, channel name, genesis block bytes
 *   blocks(height, hash, time_ms, n_tx, header)
 *   txs(height, idx, id, type, signer, org, code, reason, bytes)   bytes exactly as received
 *   state(key, value, height)        world state: wallets and agreements, JSON values
 *   history(key, height, value)      every value a key had, by block (getStateHistory)
 *   events(height, seq, idx, kind, ...)  contract events; idx -1 for the block's own tick
 *
 * The database runs in WAL mode with synchronous=FULL, and each block is written inside one
 * SQLite transaction, so after any crash a block is either wholly present or absent. Rows are
 * derived data except blocks and txs; verify.c recomputes and compares them. Thread-safety:
 * none; the ledger's lock is held around every call.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ledger/ledger_int.h"

#define SCHEMA_VERSION 1

enum { ST_BLOCK, ST_TX, ST_STATE, ST_HISTORY, ST_EVENT, ST_READ_HEADER, ST_READ_TXS, ST_COUNT };

static const char *const stmt_sql[ST_COUNT] = {
    [ST_BLOCK] = "INSERT INTO blocks(height, hash, time_ms, n_tx, header) VALUES (?,?,?,?,?)",
    [ST_TX] = "INSERT INTO txs(height, idx, id, type, signer, org, code, reason, bytes) "
              "VALUES (?,?,?,?,?,?,?,?,?)",
    [ST_STATE] = "INSERT INTO state(key, value, height) VALUES (?,?,?) ON CONFLICT(key) DO "
                 "UPDATE SET value = excluded.value, height = excluded.height",
    [ST_HISTORY] = "INSERT INTO history(key, height, value) VALUES (?,?,?)",
    [ST_EVENT] = "INSERT INTO events(height, seq, idx, kind, agreement, objective, party_from, "
                 "party_to, currency, amount, start_ms, end_ms, value, outcome, tier) "
                 "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
    [ST_READ_HEADER] = "SELECT header FROM blocks WHERE height = ?",
    [ST_READ_TXS] = "SELECT bytes, code FROM txs WHERE height = ? ORDER BY idx",
};

static const char schema_sql[] =
    "CREATE TABLE meta(key TEXT PRIMARY KEY, value BLOB NOT NULL) WITHOUT ROWID;"
    "CREATE TABLE blocks(height INTEGER PRIMARY KEY, hash BLOB NOT NULL, time_ms INTEGER NOT "
    "NULL, n_tx INTEGER NOT NULL, header BLOB NOT NULL);"
    "CREATE TABLE txs(height INTEGER NOT NULL, idx INTEGER NOT NULL, id BLOB NOT NULL, type TEXT, "
    "signer TEXT, org TEXT, code INTEGER NOT NULL, reason TEXT NOT NULL, bytes BLOB NOT NULL, "
    "PRIMARY KEY(height, idx)) WITHOUT ROWID;"
    "CREATE INDEX txs_id ON txs(id);"
    "CREATE TABLE state(key TEXT PRIMARY KEY, value TEXT NOT NULL, height INTEGER NOT NULL) "
    "WITHOUT ROWID;"
    "CREATE TABLE history(key TEXT NOT NULL, height INTEGER NOT NULL, value TEXT NOT NULL, "
    "PRIMARY KEY(key, height)) WITHOUT ROWID;"
    "CREATE TABLE events(height INTEGER NOT NULL, seq INTEGER NOT NULL, idx INTEGER NOT NULL, "
    "kind TEXT NOT NULL, agreement TEXT, objective TEXT, party_from TEXT, party_to TEXT, "
    "currency TEXT, amount INTEGER, start_ms INTEGER, end_ms INTEGER, value INTEGER, outcome "
    "TEXT, tier INTEGER, PRIMARY KEY(height, seq)) WITHOUT ROWID;"
    "CREATE INDEX events_agreement ON events(agreement, height);";

struct sl__store {
    sqlite3 *db;
    sqlite3_stmt *st[ST_COUNT];
};

static int db_fail(sqlite3 *db, sl_error *err, const char *what)
{
    return sl_error_set(err, SL_EIO, "database", "%s: %s", what,
                        db ? sqlite3_errmsg(db) : "cannot allocate a connection");
}

static int exec_sql(sqlite3 *db, const char *sql, sl_error *err)
{
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) == SQLITE_OK)
        return 0;
    int rc = sl_error_set(err, SL_EIO, "database", "%s", msg ? msg : sqlite3_errmsg(db));
    sqlite3_free(msg);
    return rc;
}

sqlite3 *sl__store_db(sl__store *s)
{
    return s->db;
}

void sl__store_close(sl__store *s)
{
    if (!s)
        return;
    for (int i = 0; i < ST_COUNT; i++)
        sqlite3_finalize(s->st[i]);
    sqlite3_close(s->db);
    free(s);
}

static int db_open(const char *path, int flags, sqlite3 **db, sl_error *err)
{
    if (sqlite3_open_v2(path, db, flags, NULL) != SQLITE_OK) {
        int rc = db_fail(*db, err, path);
        sqlite3_close(*db);
        *db = NULL;
        return rc;
    }
    sqlite3_busy_timeout(*db, 5000);
    sqlite3_extended_result_codes(*db, 1);
    return 0;
}

int sl__store_open(const char *path, int readonly, sl__store **out, sl_error *err)
{
    *out = NULL;
    struct stat st;
    if (stat(path, &st) != 0)
        return sl_error_set(err, SL_ENOENT, "path", "no ledger at %s", path);
    sl__store *s = calloc(1, sizeof(*s));
    if (!s)
        return sl_error_set(err, SL_ENOMEM, NULL, "out of memory");
    int flags = readonly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE;
    int rc = db_open(path, flags, &s->db, err);
    if (!rc && !readonly)
        rc = exec_sql(s->db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;", err);
    for (int i = 0; !rc && i < ST_COUNT; i++) {
        if (readonly && i < ST_READ_HEADER)
            continue;
        if (sqlite3_prepare_v3(s->db, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &s->st[i], NULL))
            rc = sl_error_set(err, SL_ECORRUPT, "database",
                              "%s is not a slaledger ledger, or a damaged one: %s", path,
                              sqlite3_errmsg(s->db));
    }
    sqlite3_stmt *q = NULL;
    if (!rc &&
        (sqlite3_prepare_v2(s->db, "SELECT value FROM meta WHERE key = 'schema'", -1, &q, NULL) ||
         sqlite3_step(q) != SQLITE_ROW || sqlite3_column_int(q, 0) != SCHEMA_VERSION))
        rc = sl_error_set(err, SL_ECORRUPT, "database",
                          "%s is not a slaledger ledger of schema "
                          "version %d",
                          path, SCHEMA_VERSION);
    sqlite3_finalize(q);
    if (rc) {
        sl__store_close(s);
        return rc;
    }
    *out = s;
    return 0;
}

static int bind_text(sqlite3_stmt *st, int i, const char *s)
{
    return s ? sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC) : sqlite3_bind_null(st, i);
}

/* Steps a write statement once and resets it. */
static int step_done(sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc == SQLITE_DONE ? 0 : rc;
}

static int write_header(sl__store *s, const sl_block_header *h, const uint8_t hash[SL_HASH_LEN])
{
    sl_buf b;
    sl_buf_init(&b);
    sl_block_header_encode(h, 1, &b);
    if (b.err) {
        sl_buf_release(&b);
        return SQLITE_NOMEM;
    }
    sqlite3_stmt *st = s->st[ST_BLOCK];
    sqlite3_bind_int64(st, 1, (sqlite3_int64)h->height);
    sqlite3_bind_blob(st, 2, hash, SL_HASH_LEN, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, h->time_ms);
    sqlite3_bind_int64(st, 4, h->n_tx);
    sqlite3_bind_blob(st, 5, b.p, (int)b.len, SQLITE_STATIC);
    int rc = step_done(st);
    sl_buf_release(&b);
    return rc;
}

static int write_tx(sl__store *s, uint64_t height, size_t idx, const sl__slot *x)
{
    sqlite3_stmt *st = s->st[ST_TX];
    const sl_tx *t = x->tx ? &x->tx->tx : NULL;
    sqlite3_bind_int64(st, 1, (sqlite3_int64)height);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)idx);
    sqlite3_bind_blob(st, 3, x->id, SL_HASH_LEN, SQLITE_STATIC);
    bind_text(st, 4, t ? sl_tx_type_name(t->type) : NULL);
    bind_text(st, 5, t ? t->cert.subject : NULL);
    bind_text(st, 6, t ? t->cert.org : NULL);
    sqlite3_bind_int(st, 7, (int)x->code);
    bind_text(st, 8, x->reason);
    sqlite3_bind_blob(st, 9, x->bytes, (int)x->len, SQLITE_STATIC);
    return step_done(st);
}

static int write_event(sl__store *s, uint64_t height, size_t seq, int64_t idx, const sl_event *e)
{
    static const char *const outcomes[] = {"good", "bad", "unknown"};
    int decided = e->kind == SL_EV_DECIDED;
    sqlite3_stmt *st = s->st[ST_EVENT];
    sqlite3_bind_int64(st, 1, (sqlite3_int64)height);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)seq);
    sqlite3_bind_int64(st, 3, idx);
    bind_text(st, 4, sl_event_kind_name(e->kind));
    bind_text(st, 5, e->agreement);
    bind_text(st, 6, e->objective);
    bind_text(st, 7, e->from);
    bind_text(st, 8, e->to);
    bind_text(st, 9, e->currency);
    sqlite3_bind_int64(st, 10, e->amount);
    sqlite3_bind_int64(st, 11, e->start_ms);
    sqlite3_bind_int64(st, 12, e->end_ms);
    sqlite3_bind_int64(st, 13, e->value);
    bind_text(st, 14, decided ? outcomes[e->outcome] : NULL);
    sqlite3_bind_int(st, 15, e->tier);
    return step_done(st);
}

static int write_row(sl__store *s, uint64_t height, const sl__row *r)
{
    sqlite3_stmt *st = s->st[ST_STATE];
    bind_text(st, 1, r->key);
    bind_text(st, 2, r->value);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)height);
    int rc = step_done(st);
    if (rc)
        return rc;
    st = s->st[ST_HISTORY];
    bind_text(st, 1, r->key);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)height);
    bind_text(st, 3, r->value);
    return step_done(st);
}

static int write_all(sl__store *s, const sl__batch *b, const uint8_t hash[SL_HASH_LEN],
                     const sl_event *events, size_t n_events)
{
    uint64_t h = b->header.height;
    int rc = write_header(s, &b->header, hash);
    for (size_t i = 0; !rc && i < b->n; i++)
        rc = write_tx(s, h, i, &b->slots[i]);
    size_t tx = 0;
    for (size_t i = 0; !rc && i < n_events; i++) {
        while (tx < b->n && b->slots[tx].ev_end <= i)
            tx++;
        rc = write_event(s, h, i, i < b->ev_tick ? -1 : (int64_t)tx, &events[i]);
    }
    for (size_t i = 0; !rc && i < b->n_rows; i++)
        rc = write_row(s, h, &b->rows[i]);
    return rc;
}

int sl__store_write(sl__store *s, const sl__batch *b, const uint8_t hash[SL_HASH_LEN],
                    const sl_event *events, size_t n_events, sl_error *err)
{
    int rc = exec_sql(s->db, "BEGIN IMMEDIATE", err);
    if (rc)
        return rc;
    if (write_all(s, b, hash, events, n_events)) {
        rc = db_fail(s->db, err, "writing block");
        exec_sql(s->db, "ROLLBACK", NULL);
        return rc;
    }
    rc = exec_sql(s->db, "COMMIT", err);
    /* A COMMIT that fails (SQLITE_FULL, SQLITE_IOERR) may leave the transaction open; rolling
     * it back keeps the block's rows from being read back as stored by the rebuild that
     * follows, and lets the next block begin. */
    if (rc && !sqlite3_get_autocommit(s->db))
        exec_sql(s->db, "ROLLBACK", NULL);
    return rc;
}

int sl__store_create(const char *path, const uint8_t *genesis, size_t len,
                     const sl_block_header *gh, sl_error *err)
{
    struct stat st;
    if (stat(path, &st) == 0)
        return sl_error_set(err, SL_EEXIST, "path", "%s already exists", path);
    /* Channel data is for members only: the database and its WAL files are the owner's. */
    int fd = open(path, O_RDWR | O_CREAT | O_EXCL, 0600);
    if (fd < 0)
        return sl_error_set(err, SL_EIO, "path", "%s: %s", path, strerror(errno));
    close(fd);
    sqlite3 *db = NULL;
    int rc = db_open(path, SQLITE_OPEN_READWRITE, &db, err);
    if (rc) {
        remove(path);
        return rc;
    }
    sl__store s = {.db = db};
    rc = exec_sql(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; BEGIN", err);
    if (!rc)
        rc = exec_sql(db, schema_sql, err);
    for (int i = 0; !rc && i < ST_READ_HEADER; i++)
        if (sqlite3_prepare_v2(db, stmt_sql[i], -1, &s.st[i], NULL))
            rc = db_fail(db, err, "preparing");
    sqlite3_stmt *m = NULL;
    if (!rc && sqlite3_prepare_v2(db,
                                  "INSERT INTO meta(key, value) VALUES ('schema', ?1), "
                                  "('genesis', ?2)",
                                  -1, &m, NULL) == SQLITE_OK) {
        sqlite3_bind_int(m, 1, SCHEMA_VERSION);
        sqlite3_bind_blob(m, 2, genesis, (int)len, SQLITE_STATIC);
        if (step_done(m))
            rc = db_fail(db, err, "writing genesis");
    } else if (!rc) {
        rc = db_fail(db, err, "writing genesis");
    }
    sqlite3_finalize(m);
    if (!rc) {
        uint8_t hash[SL_HASH_LEN];
        sl__slot slot = {.code = SL_TXC_VALID};
        sl__batch b = {.header = *gh, .slots = &slot, .n = 1};
        /* Block 0's one "transaction" is the channel document inside the genesis bytes. */
        sl_block *blk = NULL;
        rc = sl_block_decode(genesis, len, &blk, err);
        if (!rc) {
            slot.bytes = blk->txs[0];
            slot.len = blk->tx_lens[0];
            sl_sha256(slot.bytes, slot.len, slot.id);
            rc = sl_block_hash(gh, hash);
        }
        if (!rc && write_all(&s, &b, hash, NULL, 0))
            rc = db_fail(db, err, "writing genesis");
        sl_block_free(blk);
    }
    if (!rc)
        rc = exec_sql(db, "COMMIT", err);
    for (int i = 0; i < ST_COUNT; i++)
        sqlite3_finalize(s.st[i]);
    sqlite3_close(db);
    if (rc)
        remove(path);
    return rc;
}

int sl__store_genesis(sl__store *s, uint8_t **bytes, size_t *len, sl_error *err)
{
    sqlite3_stmt *q = NULL;
    int rc =
        sqlite3_prepare_v2(s->db, "SELECT value FROM meta WHERE key = 'genesis'", -1, &q, NULL);
    *bytes = NULL;
    if (rc || sqlite3_step(q) != SQLITE_ROW) {
        sqlite3_finalize(q);
        return sl_error_set(err, SL_ECORRUPT, "database", "the genesis block is missing");
    }
    *len = (size_t)sqlite3_column_bytes(q, 0);
    *bytes = malloc(*len ? *len : 1);
    if (*bytes && *len)
        memcpy(*bytes, sqlite3_column_blob(q, 0), *len);
    sqlite3_finalize(q);
    return *bytes ? 0 : sl_error_set(err, SL_ENOMEM, NULL, "out of memory");
}

int64_t sl__store_height(sl__store *s)
{
    sqlite3_stmt *q = NULL;
    int64_t h = -1;
    if (sqlite3_prepare_v2(s->db, "SELECT max(height) FROM blocks", -1, &q, NULL) == SQLITE_OK &&
        sqlite3_step(q) == SQLITE_ROW && sqlite3_column_type(q, 0) != SQLITE_NULL)
        h = sqlite3_column_int64(q, 0);
    sqlite3_finalize(q);
    return h;
}

static uint8_t *copy_column(sqlite3_stmt *q, int col, size_t *len)
{
    *len = (size_t)sqlite3_column_bytes(q, col);
    uint8_t *p = malloc(*len ? *len : 1);
    if (p && *len)
        memcpy(p, sqlite3_column_blob(q, col), *len);
    return p;
}

static int read_txs(sl__store *s, uint64_t height, sl__stored_block *b)
{
    sqlite3_stmt *q = s->st[ST_READ_TXS];
    sqlite3_bind_int64(q, 1, (sqlite3_int64)height);
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        if (sl_reserve(&b->txs, &b->cap, b->n + 1, sizeof(*b->txs))) {
            rc = SQLITE_NOMEM;
            break;
        }
        sl__stored_tx *t = &b->txs[b->n];
        t->code = (sl_txcode)sqlite3_column_int(q, 1);
        if (!(t->bytes = copy_column(q, 0, &t->len))) {
            rc = SQLITE_NOMEM;
            break;
        }
        b->n++;
    }
    sqlite3_reset(q);
    return rc == SQLITE_DONE ? 0 : rc;
}

int sl__store_read(sl__store *s, uint64_t height, sl__stored_block *out, sl_error *err)
{
    memset(out, 0, sizeof(*out));
    out->height = height;
    sqlite3_stmt *q = s->st[ST_READ_HEADER];
    sqlite3_bind_int64(q, 1, (sqlite3_int64)height);
    int rc = sqlite3_step(q);
    if (rc == SQLITE_ROW)
        out->header = copy_column(q, 0, &out->header_len);
    sqlite3_reset(q);
    if (rc == SQLITE_DONE)
        return sl_error_set(err, SL_ENOENT, "height", "no block %llu", (unsigned long long)height);
    if (rc != SQLITE_ROW || !out->header || read_txs(s, height, out)) {
        sl__stored_block_release(out);
        return db_fail(s->db, err, "reading block");
    }
    return 0;
}

void sl__stored_block_release(sl__stored_block *b)
{
    for (size_t i = 0; i < b->n; i++)
        free(b->txs[i].bytes);
    free(b->txs);
    free(b->header);
    memset(b, 0, sizeof(*b));
}
