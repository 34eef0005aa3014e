/*
 * ledger_int.h: private structures of the ledger subsystem, shared by its files.
 *
 *   block.c     header and block encodings, genesis
 *   validate.c  the checks of a transaction that need no ledger state (run in parallel)
 *   exec.c      applying a block to the contract: expiry, replay, contract operations, rows
 *   store.c     the SQLite database: schema, writing a block, reading blocks back
 *   ledger.c    open (replay), commit, append, precheck, queries
 *   verify.c    the offline audit;  proof.c  inclusion proofs
 *
 * Ownership: the ledger owns its contract, channel spec, store and caches. A block being
 * executed lives in an sl__batch that the caller owns. Thread-safety: sl_ledger's mutex guards
 * the contract, the store and the head; the id sets (sl__ids) have locks of their own, so
 * validation threads and submitters use them while a block commits. The channel spec is
 * immutable once the ledger is open.
 */
#ifndef SL_LEDGER_INT_H
#define SL_LEDGER_INT_H

#include <pthread.h>
#include <stdint.h>

#include <sqlite3.h>

#include "slaledger/ledger.h"

/* A transaction may not claim to stay valid longer than this past the block that carries it,
 * so replay protection only has to remember ids for this long. */
#define SL__TX_MAX_LIFETIME_MS (24LL * 3600 * 1000)

/* ---- a set of 32-byte ids with an expiry each (replay protection, verified signatures) ---- */

typedef struct sl__idset {
    uint8_t (*ids)[SL_HASH_LEN];
    int64_t *expires; /* 0 marks an empty slot */
    size_t cap;       /* power of two */
    size_t n;
} sl__idset;

void sl__idset_release(sl__idset *s);
int sl__idset_has(const sl__idset *s, const uint8_t id[SL_HASH_LEN]);
/** Adds id (no-op if present). expires must be > 0. 0 or SL_ENOMEM. */
int sl__idset_add(sl__idset *s, const uint8_t id[SL_HASH_LEN], int64_t expires);
/** Removes one id; no-op if absent. */
void sl__idset_del(sl__idset *s, const uint8_t id[SL_HASH_LEN]);
/** Drops every id whose expiry is before now (rebuilds the table). */
int sl__idset_prune(sl__idset *s, int64_t now);

/* ---- the same with its own lock, for sets that several threads use ---- */

typedef struct sl__ids {
    pthread_mutex_t mu;
    sl__idset set;
} sl__ids;

int sl__ids_init(sl__ids *s);
void sl__ids_release(sl__ids *s);
int sl__ids_has(sl__ids *s, const uint8_t id[SL_HASH_LEN]);
int sl__ids_add(sl__ids *s, const uint8_t id[SL_HASH_LEN], int64_t expires);
void sl__ids_del(sl__ids *s, const uint8_t id[SL_HASH_LEN]);
/** Prunes expired ids once the set holds more than `over` of them. */
int sl__ids_prune(sl__ids *s, int64_t now, size_t over);

/* ---- one transaction of a block on its way through validation and execution ---- */

typedef struct sl__slot {
    const uint8_t *bytes; /* borrowed */
    size_t len;
    uint8_t id[SL_HASH_LEN];
    sl_tx_decoded *tx; /* NULL when malformed */
    sl_txcode code;
    int refusal;     /* the contract's SL_E* code when code is SL_TXC_REFUSED */
    int sig_checked; /* signature already verified (precheck), skip it */
    size_t ev_end;   /* contract events of the block up to and including this transaction */
    char reason[200];
} sl__slot;

/* Rows of world state a block changed: key -> JSON value. */
typedef struct sl__row {
    char key[160];
    char *value; /* JSON text, owned */
} sl__row;

typedef struct sl__batch {
    sl_block_header header; /* filled progressively: time, then merkle, results, state */
    sl__slot *slots;
    size_t n;
    size_t ev_tick; /* contract events from the block's tick, before any transaction */
    int skip_rows;  /* replaying: the world-state rows are already stored */
    sl__row *rows;  /* world state the block changed, sorted by key */
    size_t n_rows, cap_rows;
} sl__batch;

/* ---- the ledger ---- */

typedef struct sl__store sl__store;

struct sl_ledger {
    /* Readers of the contract and of SQLite through statements prepared per call share it;
     * commits, and users of the store's shared prepared statements, hold it alone. */
    pthread_rwlock_t mu;
    unsigned flags;
    sl__store *store;
    sl_channel_spec *channel;
    uint8_t *genesis; /* genesis block bytes */
    size_t genesis_len;
    sl_block_header genesis_header;
    sl_block_header head;
    uint8_t head_hash[SL_HASH_LEN];
    sl_contract *contract;
    sl__ids seen;       /* ids of unexpired transactions already in blocks */
    sl__ids prechecked; /* ids whose signature precheck verified, until committed */
    sl__ids certs;      /* certificate encodings (with their org key) whose signature verified */
    int threads;        /* for validating a block's transactions in parallel */
    int broken;         /* a failed commit left the contract ahead of the store; rebuild first */
    /* results of the last commit, for sl_commit_info */
    sl_txcode *codes;
    size_t cap_codes;
    uint8_t (*ids)[SL_HASH_LEN];
    size_t cap_ids;
    int *refusals;
    size_t cap_refusals;
};

/* block.c */
int sl__block_encode(const sl_block_header *h, const uint8_t *const *txs, const size_t *lens,
                     size_t n, sl_buf *out);
/** Parses the channel document of a genesis block and checks the genesis header and orderer. */
int sl__genesis_open(const uint8_t *p, size_t len, sl_channel_spec **channel,
                     sl_block_header *header, sl_error *err);
/** Sets h->orderer to cert and signs h with key (which must match cert). */
int sl__header_sign(sl_block_header *h, const sl_key *key, const sl_cert *cert);
int sl__results_hash(const sl__slot *slots, size_t n, uint8_t out[SL_HASH_LEN]);
int sl__merkle_of(const sl__slot *slots, size_t n, uint8_t out[SL_HASH_LEN]);
/** Checks that the orderer certificate chains to a member with the node role at time, and the
 * header signature. */
int sl__header_verify(const sl_channel_spec *ch, sl__ids *cc, const sl_block_header *h,
                      sl_error *err);

/* validate.c */
/** Checks cert against the channel at time: member org, role granted, signature (cached). */
int sl__cert_admit(const sl_channel_spec *ch, sl__ids *cc, const sl_cert *cert, int64_t time_ms,
                   sl_txcode *code, char *reason, size_t cap);
/** Steps that need no ledger state, for slots[0..n): size, decode, channel, certificate, role,
 * signature (skipped for slots already marked sig_checked and ids in `verified`, which may be
 * NULL and is only read). Spreads the work over up to `threads` threads. Sets
 * code/reason/tx/id. */
int sl__prevalidate(const sl_channel_spec *ch, sl__ids *cc, sl__ids *verified, sl__slot *slots,
                    size_t n, int64_t time_ms, int threads);

/* exec.c */
/** Ticks the contract to the block time, then expiry, replay and contract for each slot
 * whose prevalidation passed. Fills rows and the header's state and results hashes. Events
 * stay in the contract (sl_contract_events) until the caller clears them. */
int sl__execute(sl_contract *c, sl__ids *seen, const sl_channel_spec *ch, sl__batch *b,
                sl_error *err);
void sl__batch_release(sl__batch *b);
/** The JSON value of a world-state key now: "wallet/<org>/<cur>" or "agreement/<name>". */
char *sl__state_value(const sl_contract *c, const char *key);

/* store.c */
int sl__store_create(const char *path, const uint8_t *genesis, size_t len,
                     const sl_block_header *gh, sl_error *err);
int sl__store_open(const char *path, int readonly, sl__store **out, sl_error *err);
void sl__store_close(sl__store *s);
/** Writes block b (header hash `hash`) and its rows and the contract's events in one SQLite
 * transaction. */
int sl__store_write(sl__store *s, const sl__batch *b, const uint8_t hash[SL_HASH_LEN],
                    const sl_event *events, size_t n_events, sl_error *err);
/** Compares the rows stored for block b (header b->header, whose hash is `hash`) with the rows
 * sl__store_write writes for it and these events: the derived columns of its blocks row (hash,
 * time_ms, n_tx), every column of its txs rows but their bytes, every column of its events and,
 * unless b->skip_rows, its history rows; no row may be missing or extra. 0 when all agree;
 * SL_ECORRUPT at the first difference, err naming the table, the row, the column and the stored
 * and derived values (field "<table>.<column>"); SL_EIO from SQLite. */
int sl__store_compare(sl__store *s, const sl__batch *b, const uint8_t hash[SL_HASH_LEN],
                      const sl_event *events, size_t n_events, sl_error *err)
    __attribute__((warn_unused_result));
/** The same for block 0, from the genesis bytes and their decoded header. */
int sl__store_compare_genesis(sl__store *s, const uint8_t *genesis, size_t len,
                              const sl_block_header *gh, sl_error *err)
    __attribute__((warn_unused_result));
/** The world state against the replay: every state row's value must be value_cb(arg, key) (a
 * string the callee frees, NULL for out of memory) and its height the last block whose history
 * has the key, and every key of the history must have a row. Errors as sl__store_compare. */
int sl__store_compare_state(sl__store *s, char *(*value_cb)(void *arg, const char *key), void *arg,
                            sl_error *err) __attribute__((warn_unused_result));
int sl__store_genesis(sl__store *s, uint8_t **bytes, size_t *len, sl_error *err);
int64_t sl__store_height(sl__store *s); /* -1 on error */

/** One stored block read back: header bytes and its transactions with stored codes. */
typedef struct sl__stored_tx {
    uint8_t *bytes; /* owned */
    size_t len;
    sl_txcode code;
} sl__stored_tx;

typedef struct sl__stored_block {
    uint64_t height;
    uint8_t *header; /* owned */
    size_t header_len;
    sl__stored_tx *txs;
    size_t n, cap;
} sl__stored_block;

int sl__store_read(sl__store *s, uint64_t height, sl__stored_block *out, sl_error *err);
void sl__stored_block_release(sl__stored_block *b);
sqlite3 *sl__store_db(sl__store *s);

#endif
