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
 * SQLite transaction, so after any crash a block is either wholly present or absent. Only the
 * signed bytes (blocks.header, txs.bytes, the genesis in meta) are primary; every other column
 * is derived from them and their replay. The mapping from a block to its rows lives here once
 * (tables[] and fill_*): sl__store_write writes with it and sl__store_compare, which verify.c
 * calls for every block, checks every derived column with it. Thread-safety: none; the
 * ledger's lock is held around every call.
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

/* The tables whose rows a block writes, each with the columns derived from the block and its
 * replay (in the order fill_* produces them) and, for blocks and txs, the column of signed bytes
 * they are derived from. The statements that write and that compare these rows are built from
 * this one list, so writing and auditing cannot drift apart. */
enum { T_BLOCK, T_TX, T_EVENT, T_HISTORY, T_COUNT };
#define MAX_COLS 14

typedef struct table {
    const char *name;
    const char *const *cols;
    int n;
    const char *primary; /* signed bytes the row is derived from, or NULL */
    const char *order;   /* rows within one block */
} table;

static const char *const block_cols[] = {"hash", "time_ms", "n_tx"};
static const char *const tx_cols[] = {"idx", "id", "type", "signer", "org", "code", "reason"};
static const char *const event_cols[] = {
    "seq",      "idx",    "kind",     "agreement", "objective", "party_from", "party_to",
    "currency", "amount", "start_ms", "end_ms",    "value",     "outcome",    "tier"};
static const char *const history_cols[] = {"key", "value"};

static const table tables[T_COUNT] = {
    [T_BLOCK] = {"blocks", block_cols, 3, "header", "height"},
    [T_TX] = {"txs", tx_cols, 7, "bytes", "idx"},
    [T_EVENT] = {"events", event_cols, 14, NULL, "seq"},
    [T_HISTORY] = {"history", history_cols, 2, NULL, "key"},
};

/* Writes first (a read-only store prepares none of them), then reads, then comparisons. The
 * statements of tables[] are ST_INSERT + t and ST_COMPARE + t. */
enum {
    ST_INSERT,
    ST_STATE = ST_INSERT + T_COUNT,
    ST_READ_HEADER,
    ST_READ_TXS,
    ST_COMPARE,
    ST_COUNT = ST_COMPARE + T_COUNT
};

static const char *const stmt_sql[ST_COUNT] = {
    [ST_STATE] = "INSERT INTO state(key, value, height) VALUES (?,?,?) ON CONFLICT(key) DO "
                 "UPDATE SET value = excluded.value, height = excluded.height",
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

/* The SQL of statement i: a fixed text, or built from tables[]. */
static void stmt_text(int i, sl_buf *sql)
{
    if (stmt_sql[i]) {
        sl_buf_printf(sql, "%s", stmt_sql[i]);
        return;
    }
    int cmp = i >= ST_COMPARE;
    const table *t = &tables[cmp ? i - ST_COMPARE : i - ST_INSERT];
    sl_buf_printf(sql, cmp ? "SELECT " : "INSERT INTO %s(height, ", t->name);
    for (int k = 0; k < t->n; k++)
        sl_buf_printf(sql, "%s%s", k ? ", " : "", t->cols[k]);
    if (cmp) {
        sl_buf_printf(sql, " FROM %s WHERE height = ?1 ORDER BY %s", t->name, t->order);
        return;
    }
    if (t->primary)
        sl_buf_printf(sql, ", %s", t->primary);
    sl_buf_printf(sql, ") VALUES (?");
    for (int k = 0; k < t->n + (t->primary != NULL); k++)
        sl_buf_printf(sql, ", ?");
    sl_buf_printf(sql, ")");
}

static int prepare(sqlite3 *db, int i, unsigned flags, sqlite3_stmt **st)
{
    sl_buf sql;
    sl_buf_init(&sql);
    stmt_text(i, &sql);
    const char *text = sl_buf_cstr(&sql);
    int rc = text ? sqlite3_prepare_v3(db, text, -1, flags, st, NULL) : SQLITE_NOMEM;
    sl_buf_release(&sql);
    return rc;
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
        if (prepare(s->db, i, SQLITE_PREPARE_PERSISTENT, &s->st[i]))
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

/* ---- rows of a block: one mapping, used to write them and to compare them ---- */

/* One column value as SQLite holds it. */
typedef struct cell {
    int type; /* SQLITE_INTEGER, SQLITE_TEXT, SQLITE_BLOB, SQLITE_NULL; SQLITE_FLOAT is text */
    int64_t i;
    const void *p; /* text (not terminated) or blob, borrowed */
    size_t len;
} cell;

static cell cell_int(int64_t v)
{
    return (cell){SQLITE_INTEGER, v, NULL, 0};
}

static cell cell_text(const char *s)
{
    return s ? (cell){SQLITE_TEXT, 0, s, strlen(s)} : (cell){SQLITE_NULL, 0, NULL, 0};
}

static cell cell_blob(const void *p, size_t len)
{
    return (cell){SQLITE_BLOB, 0, p, len};
}

static int fill_block(const sl_block_header *h, const uint8_t hash[SL_HASH_LEN], cell *c)
{
    c[0] = cell_blob(hash, SL_HASH_LEN);
    c[1] = cell_int(h->time_ms);
    c[2] = cell_int(h->n_tx);
    return 3;
}

static int fill_tx(size_t idx, const sl__slot *x, cell *c)
{
    const sl_tx *t = x->tx ? &x->tx->tx : NULL;
    c[0] = cell_int((int64_t)idx);
    c[1] = cell_blob(x->id, SL_HASH_LEN);
    c[2] = cell_text(t ? sl_tx_type_name(t->type) : NULL);
    c[3] = cell_text(t ? t->cert.subject : NULL);
    c[4] = cell_text(t ? t->cert.org : NULL);
    c[5] = cell_int(x->code);
    c[6] = cell_text(x->reason);
    return 7;
}

/* idx is the transaction that raised the event, -1 for the block's own tick. */
static int fill_event(size_t seq, int64_t idx, const sl_event *e, cell *c)
{
    static const char *const outcomes[] = {"good", "bad", "unknown"};
    c[0] = cell_int((int64_t)seq);
    c[1] = cell_int(idx);
    c[2] = cell_text(sl_event_kind_name(e->kind));
    c[3] = cell_text(e->agreement);
    c[4] = cell_text(e->objective);
    c[5] = cell_text(e->from);
    c[6] = cell_text(e->to);
    c[7] = cell_text(e->currency);
    c[8] = cell_int(e->amount);
    c[9] = cell_int(e->start_ms);
    c[10] = cell_int(e->end_ms);
    c[11] = cell_int(e->value);
    c[12] = cell_text(e->kind == SL_EV_DECIDED ? outcomes[e->outcome] : NULL);
    c[13] = cell_int(e->tier);
    return 14;
}

static int fill_history(const sl__row *r, cell *c)
{
    c[0] = cell_text(r->key);
    c[1] = cell_text(r->value);
    return 2;
}

/* The transaction of b that raised event i: -1 for the tick, else the first slot whose events
 * reach past i. */
static int64_t event_tx(const sl__batch *b, size_t i)
{
    if (i < b->ev_tick)
        return -1;
    size_t tx = 0;
    while (tx < b->n && b->slots[tx].ev_end <= i)
        tx++;
    return (int64_t)tx;
}

static void bind_col(sqlite3_stmt *st, int i, const cell *c)
{
    if (c->type == SQLITE_INTEGER)
        sqlite3_bind_int64(st, i, c->i);
    else if (c->type == SQLITE_TEXT)
        sqlite3_bind_text(st, i, c->p, (int)c->len, SQLITE_STATIC);
    else if (c->type == SQLITE_BLOB)
        sqlite3_bind_blob(st, i, c->p, (int)c->len, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, i);
}

/* Steps a write statement once and resets it. */
static int step_done(sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc == SQLITE_DONE ? 0 : rc;
}

/* One row of table t at height: its derived columns, then its signed bytes if it has any. */
static int insert(sl__store *s, int t, uint64_t height, const cell *c, const void *primary,
                  size_t primary_len)
{
    sqlite3_stmt *st = s->st[ST_INSERT + t];
    sqlite3_bind_int64(st, 1, (sqlite3_int64)height);
    for (int k = 0; k < tables[t].n; k++)
        bind_col(st, 2 + k, &c[k]);
    if (tables[t].primary)
        sqlite3_bind_blob(st, 2 + tables[t].n, primary, (int)primary_len, SQLITE_STATIC);
    return step_done(st);
}

static int write_header(sl__store *s, const sl_block_header *h, const uint8_t hash[SL_HASH_LEN])
{
    sl_buf b;
    cell c[MAX_COLS];
    sl_buf_init(&b);
    sl_block_header_encode(h, 1, &b);
    fill_block(h, hash, c);
    int rc = b.err ? SQLITE_NOMEM : insert(s, T_BLOCK, h->height, c, b.p, b.len);
    sl_buf_release(&b);
    return rc;
}

static int write_row(sl__store *s, uint64_t height, const sl__row *r)
{
    sqlite3_stmt *st = s->st[ST_STATE];
    sqlite3_bind_text(st, 1, r->key, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, r->value, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)height);
    int rc = step_done(st);
    cell c[MAX_COLS];
    fill_history(r, c);
    return rc ? rc : insert(s, T_HISTORY, height, c, NULL, 0);
}

static int write_all(sl__store *s, const sl__batch *b, const uint8_t hash[SL_HASH_LEN],
                     const sl_event *events, size_t n_events)
{
    uint64_t h = b->header.height;
    cell c[MAX_COLS];
    int rc = write_header(s, &b->header, hash);
    for (size_t i = 0; !rc && i < b->n; i++) {
        fill_tx(i, &b->slots[i], c);
        rc = insert(s, T_TX, h, c, b->slots[i].bytes, b->slots[i].len);
    }
    for (size_t i = 0; !rc && i < n_events; i++) {
        fill_event(i, event_tx(b, i), &events[i], c);
        rc = insert(s, T_EVENT, h, c, NULL, 0);
    }
    for (size_t i = 0; !rc && i < b->n_rows; i++)
        rc = write_row(s, h, &b->rows[i]);
    return rc;
}

/* ---- comparing the stored rows of a block with the rows it derives ---- */

static cell cell_read(sqlite3_stmt *q, int k)
{
    cell c = {sqlite3_column_type(q, k), 0, NULL, 0};
    if (c.type == SQLITE_INTEGER)
        c.i = sqlite3_column_int64(q, k);
    else if (c.type == SQLITE_BLOB)
        c.p = sqlite3_column_blob(q, k);
    else if (c.type != SQLITE_NULL)
        c.p = sqlite3_column_text(q, k); /* text, and a real shown as text */
    c.len = (size_t)sqlite3_column_bytes(q, k);
    return c;
}

static int cell_equal(const cell *a, const cell *b)
{
    if (a->type != b->type)
        return 0;
    if (a->type == SQLITE_INTEGER)
        return a->i == b->i;
    return a->len == b->len && (a->len == 0 || memcmp(a->p, b->p, a->len) == 0);
}

/* A value for a message, short enough that stored and derived fit in one: long text from a
 * little before where it differs from `other`, blobs as their first bytes in hex. */
static void cell_show(const cell *c, const cell *other, char *out, size_t cap)
{
    enum { SHOW = 40 };
    if (c->type == SQLITE_NULL) {
        sl_strfmt(out, cap, "NULL");
    } else if (c->type == SQLITE_INTEGER) {
        sl_strfmt(out, cap, "%lld", (long long)c->i);
    } else if (c->type == SQLITE_BLOB) {
        char hex[2 * 8 + 1];
        size_t n = c->len < 8 ? c->len : 8;
        sl_hex(c->p, n, hex);
        sl_strfmt(out, cap, "x'%s%s'", hex, c->len > n ? "..." : "");
    } else {
        const char *s = c->p, *o = other->type == SQLITE_TEXT ? other->p : "";
        size_t at = 0, olen = other->type == SQLITE_TEXT ? other->len : 0;
        while (at < c->len && at < olen && s[at] == o[at])
            at++;
        size_t from = c->len > SHOW && at > SHOW / 2 ? at - SHOW / 2 : 0;
        size_t n = c->len - from < SHOW ? c->len - from : SHOW;
        sl_strfmt(out, cap, "'%s%.*s%s'", from ? "..." : "", (int)n, s + from,
                  from + n < c->len ? "..." : "");
    }
}

/* Where a row is, for a message: history rows by key, block rows by height, others by place. */
static void row_name(int t, uint64_t height, size_t i, const cell *key, char *out, size_t cap)
{
    if (t == T_HISTORY && key->type == SQLITE_TEXT)
        sl_strfmt(out, cap, "history row '%.*s'", (int)(key->len < 160 ? key->len : 160),
                  (const char *)key->p);
    else if (t != T_BLOCK && key->type == SQLITE_INTEGER)
        sl_strfmt(out, cap, "%s row %lld", tables[t].name, (long long)key->i);
    else
        sl_strfmt(out, cap, "%s row %llu", tables[t].name,
                  (unsigned long long)(t == T_BLOCK ? height : i));
}

/* Compares the current row of q, row i of table t, with the derived columns want. */
static int compare_row(sqlite3_stmt *q, int t, uint64_t height, size_t i, const cell *want,
                       sl_error *err)
{
    for (int k = 0; k < tables[t].n; k++) {
        cell got = cell_read(q, k);
        if (cell_equal(&got, &want[k]))
            continue;
        char where[200], a[64], b[64], field[64];
        row_name(t, height, i, &want[0], where, sizeof(where));
        cell_show(&got, &want[k], a, sizeof(a));
        cell_show(&want[k], &got, b, sizeof(b));
        sl_strfmt(field, sizeof(field), "%s.%s", tables[t].name, tables[t].cols[k]);
        return sl_error_set(err, SL_ECORRUPT, field, "%s: %s is %s, the replay gives %s", where,
                            tables[t].cols[k], a, b);
    }
    return 0;
}

/* Source of the derived rows of one table of one block. */
typedef struct derived {
    const sl__batch *b;
    const uint8_t *hash;
    const sl_event *events;
} derived;

static void derive(const derived *d, int t, size_t i, cell *c)
{
    if (t == T_BLOCK)
        fill_block(&d->b->header, d->hash, c);
    else if (t == T_TX)
        fill_tx(i, &d->b->slots[i], c);
    else if (t == T_EVENT)
        fill_event(i, event_tx(d->b, i), &d->events[i], c);
    else
        fill_history(&d->b->rows[i], c);
}

/* Rows of a table other than blocks come in the order of their first column: a stored key past
 * the derived one means that row is missing, one before it a row the replay does not write.
 * 0 when they are equal or of different types. */
static int key_order(int t, const cell *got, const cell *want)
{
    if (t == T_BLOCK || got->type != want->type || cell_equal(got, want))
        return 0;
    if (got->type == SQLITE_INTEGER)
        return got->i < want->i ? -1 : 1;
    size_t n = got->len < want->len ? got->len : want->len;
    int c = n ? memcmp(got->p, want->p, n) : 0;
    return c ? c : got->len < want->len ? -1 : 1;
}

static int row_missing(int t, uint64_t height, size_t i, const cell *key, size_t n, sl_error *err)
{
    char where[200];
    row_name(t, height, i, key, where, sizeof(where));
    return sl_error_set(err, SL_ECORRUPT, tables[t].name,
                        "%s is missing (the replay writes %zu rows)", where, n);
}

static int row_extra(int t, uint64_t height, size_t i, const cell *key, size_t n, sl_error *err)
{
    char where[200];
    row_name(t, height, i, key, where, sizeof(where));
    return sl_error_set(err, SL_ECORRUPT, tables[t].name,
                        "%s is not written by the replay (it writes %zu rows)", where, n);
}

/* The n rows of table t stored at height must be exactly the derived ones, in order. */
static int compare_table(sl__store *s, int t, uint64_t height, size_t n, const derived *d,
                         sl_error *err)
{
    sqlite3_stmt *q = s->st[ST_COMPARE + t];
    cell want[MAX_COLS], key;
    int rc = 0, step = SQLITE_ROW;
    sqlite3_bind_int64(q, 1, (sqlite3_int64)height);
    for (size_t i = 0; !rc && i < n; i++) {
        derive(d, t, i, want);
        if ((step = sqlite3_step(q)) == SQLITE_DONE)
            rc = row_missing(t, height, i, &want[0], n, err);
        if (step != SQLITE_ROW)
            break;
        key = cell_read(q, 0);
        int order = key_order(t, &key, &want[0]);
        if (order > 0)
            rc = row_missing(t, height, i, &want[0], n, err);
        else if (order < 0)
            rc = row_extra(t, height, i, &key, n, err);
        else
            rc = compare_row(q, t, height, i, want, err);
    }
    if (!rc && step == SQLITE_ROW && (step = sqlite3_step(q)) == SQLITE_ROW) {
        key = cell_read(q, 0);
        rc = row_extra(t, height, n, &key, n, err);
    }
    if (!rc && step != SQLITE_ROW && step != SQLITE_DONE)
        rc = db_fail(s->db, err, "reading block");
    sqlite3_reset(q);
    return rc;
}

int sl__store_compare(sl__store *s, const sl__batch *b, const uint8_t hash[SL_HASH_LEN],
                      const sl_event *events, size_t n_events, sl_error *err)
{
    const derived d = {b, hash, events};
    uint64_t h = b->header.height;
    int rc = compare_table(s, T_BLOCK, h, 1, &d, err);
    if (!rc)
        rc = compare_table(s, T_TX, h, b->n, &d, err);
    if (!rc)
        rc = compare_table(s, T_EVENT, h, n_events, &d, err);
    if (!rc && !b->skip_rows)
        rc = compare_table(s, T_HISTORY, h, b->n_rows, &d, err);
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

/* One world-state row, the current row of q (key, value, height, last history height). */
static int compare_state_row(sqlite3_stmt *q, char *(*value_cb)(void *arg, const char *key),
                             void *arg, sl_error *err)
{
    const char *key = (const char *)sqlite3_column_text(q, 0);
    char *want = value_cb(arg, key ? key : "");
    if (!want)
        return sl_error_set(err, SL_ENOMEM, NULL, "out of memory");
    cell got[2] = {cell_read(q, 1), cell_read(q, 2)}, exp[2] = {cell_text(want), cell_read(q, 3)};
    static const char *const what[2] = {"value", "height"};
    int rc = 0;
    for (int k = 0; !rc && k < 2; k++) {
        if (cell_equal(&got[k], &exp[k]))
            continue;
        char a[64], b[64], field[32];
        cell_show(&got[k], &exp[k], a, sizeof(a));
        cell_show(&exp[k], &got[k], b, sizeof(b));
        sl_strfmt(field, sizeof(field), "state.%s", what[k]);
        rc = sl_error_set(err, SL_ECORRUPT, field, "state row '%.100s': %s is %s, the %s gives %s",
                          key ? key : "", what[k], a, k ? "history" : "replay", b);
    }
    free(want);
    return rc;
}

int sl__store_compare_state(sl__store *s, char *(*value_cb)(void *arg, const char *key), void *arg,
                            sl_error *err)
{
    sqlite3_stmt *q = NULL;
    int rc = 0, step;
    if (sqlite3_prepare_v2(s->db,
                           "SELECT key, value, height, (SELECT max(height) FROM history h "
                           "WHERE h.key = state.key) FROM state ORDER BY key",
                           -1, &q, NULL))
        return db_fail(s->db, err, "reading the world state");
    while (!rc && (step = sqlite3_step(q)) == SQLITE_ROW)
        rc = compare_state_row(q, value_cb, arg, err);
    if (!rc && step != SQLITE_DONE)
        rc = db_fail(s->db, err, "reading the world state");
    sqlite3_finalize(q);
    if (rc)
        return rc;
    /* A key the history has must be in the world state too. */
    if (sqlite3_prepare_v2(s->db, "SELECT key FROM history EXCEPT SELECT key FROM state LIMIT 1",
                           -1, &q, NULL))
        return db_fail(s->db, err, "reading the world state");
    if ((step = sqlite3_step(q)) == SQLITE_ROW)
        rc = sl_error_set(err, SL_ECORRUPT, "state",
                          "state row '%.100s' is missing (the history has the key)",
                          (const char *)sqlite3_column_text(q, 0));
    else if (step != SQLITE_DONE)
        rc = db_fail(s->db, err, "reading the world state");
    sqlite3_finalize(q);
    return rc;
}

/* Block 0 as the rows it writes: its one "transaction" is the channel document inside the
 * genesis bytes. b points into slot, and slot into blk, which the caller frees. */
typedef struct genesis_rows {
    sl__slot slot;
    sl__batch b;
    uint8_t hash[SL_HASH_LEN];
    sl_block *blk;
} genesis_rows;

static int genesis_rows_init(genesis_rows *g, const uint8_t *genesis, size_t len,
                             const sl_block_header *gh, sl_error *err)
{
    memset(g, 0, sizeof(*g));
    g->slot.code = SL_TXC_VALID;
    g->b.header = *gh;
    g->b.slots = &g->slot;
    g->b.n = 1;
    int rc = sl_block_decode(genesis, len, &g->blk, err);
    if (rc)
        return rc;
    g->slot.bytes = g->blk->txs[0];
    g->slot.len = g->blk->tx_lens[0];
    sl_sha256(g->slot.bytes, g->slot.len, g->slot.id);
    if ((rc = sl_block_hash(gh, g->hash))) {
        sl_block_free(g->blk);
        g->blk = NULL;
        return sl_error_set(err, rc, NULL, "out of memory");
    }
    return 0;
}

int sl__store_compare_genesis(sl__store *s, const uint8_t *genesis, size_t len,
                              const sl_block_header *gh, sl_error *err)
{
    genesis_rows g;
    int rc = genesis_rows_init(&g, genesis, len, gh, err);
    if (!rc)
        rc = sl__store_compare(s, &g.b, g.hash, NULL, 0, err);
    sl_block_free(g.blk);
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
        if (prepare(db, i, 0, &s.st[i]))
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
    genesis_rows g;
    if (!rc && !(rc = genesis_rows_init(&g, genesis, len, gh, err))) {
        if (write_all(&s, &g.b, g.hash, NULL, 0))
            rc = db_fail(db, err, "writing genesis");
        sl_block_free(g.blk);
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
