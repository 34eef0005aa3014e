/*
 * slaledger/ledger.h: a channel's ledger. Hash-chained, signed blocks of transactions in a
 * SQLite database, the contract state they produce, and the audit that re-checks all of it.
 *
 * A block header holds the height, the previous header's hash, the Merkle root of its
 * transaction ids, a strictly increasing timestamp, the contract's state hash after the block,
 * a hash of the transactions' validation codes, and the orderer's certificate and signature
 * (the orderer is a node that executes the block, so it vouches for the results too). Block 0
 * (genesis) carries the channel document as its only "transaction"; its hash names the channel.
 * Every later transaction is validated in order: well formed, signer certified by a member
 * organization, role allowed for the type, signature valid, unexpired, id never seen, and then
 * applied by the contract. An invalid transaction stays in its block with a code and reason and
 * changes nothing.
 *
 * Each block is committed in one SQLite transaction (WAL, synchronous=FULL): a block is wholly
 * in the database or not at all. Opening a ledger replays its blocks into a fresh contract and
 * checks every state hash. Threading: an sl_ledger guards itself with a read-write lock (reads
 * of the contract and the world state run in parallel, commits alone); any thread may call any
 * function. Formats are documented in docs/ledger-format.md.
 */
#ifndef SLALEDGER_LEDGER_H
#define SLALEDGER_LEDGER_H

#include <stddef.h>
#include <stdint.h>

#include "slaledger/contract.h"
#include "slaledger/error.h"
#include "slaledger/ident.h"
#include "slaledger/sla.h"
#include "slaledger/tx.h"
#include "slaledger/util.h"

/* ---- Merkle trees (RFC 6962: leaf = H(0x00 || id), node = H(0x01 || left || right)) ---- */

#define SL_MERKLE_MAX_PATH 64

/** Root over n leaves (ids); the root of no leaves is SHA-256 of the empty string.
 * 0 or SL_ENOMEM (scratch of n hashes). */
int sl_merkle_root(const uint8_t (*ids)[SL_HASH_LEN], size_t n, uint8_t root[SL_HASH_LEN])
    __attribute__((warn_unused_result));

/** The audit path of leaf index among n (RFC 6962 section 2.1.1); *len receives its length.
 * SL_EINVAL when index >= n. path must hold SL_MERKLE_MAX_PATH hashes. Allocates scratch. */
int sl_merkle_path(const uint8_t (*ids)[SL_HASH_LEN], size_t n, size_t index,
                   uint8_t (*path)[SL_HASH_LEN], size_t *len);

/** 0 when path proves that id is leaf index of n under root, else SL_EAUTH. */
int sl_merkle_check(const uint8_t id[SL_HASH_LEN], size_t index, size_t n,
                    const uint8_t (*path)[SL_HASH_LEN], size_t len, const uint8_t root[SL_HASH_LEN])
    __attribute__((warn_unused_result));

/* ---- blocks ---- */

typedef struct sl_block_header {
    uint64_t height;
    uint8_t prev[SL_HASH_LEN];    /* hash of the previous header; zero for genesis */
    uint8_t merkle[SL_HASH_LEN];  /* root over the block's transaction ids */
    int64_t time_ms;              /* strictly greater than the previous block's */
    uint8_t state[SL_HASH_LEN];   /* contract state hash after applying the block */
    uint8_t results[SL_HASH_LEN]; /* SHA-256 of the n_tx validation codes, one byte each */
    uint32_t n_tx;
    sl_cert orderer;         /* the signer, a member with role node */
    uint8_t sig[SL_SIG_LEN]; /* by orderer over the encoding without sig */
} sl_block_header;

#define SL_HEADER_MAX 512

/** "SLB1", height, prev, merkle, time, state, results, n_tx, orderer cert (u32 length + bytes), and
 * (with_sig) sig. Appended to out. */
void sl_block_header_encode(const sl_block_header *h, int with_sig, sl_buf *out);
int sl_block_header_decode(const uint8_t *p, size_t len, sl_block_header *out, sl_error *err)
    __attribute__((warn_unused_result));
/** SHA-256 of the full encoding (signature included): what the next block's prev holds.
 * 0 or SL_ENOMEM. */
int sl_block_hash(const sl_block_header *h, uint8_t out[SL_HASH_LEN])
    __attribute__((warn_unused_result));

/** Validation result of one transaction in a block. */
typedef enum sl_txcode {
    SL_TXC_VALID = 0,
    SL_TXC_MALFORMED = 1,     /* does not decode, or exceeds the channel's size limit */
    SL_TXC_WRONG_CHANNEL = 2, /* addressed to another channel */
    SL_TXC_UNKNOWN_ORG = 3,   /* the certificate's organization is not a member */
    SL_TXC_BAD_CERT = 4,      /* certificate signature invalid, or not valid at block time */
    SL_TXC_ROLE = 5,          /* role not allowed for the type, or not granted to the org */
    SL_TXC_BAD_SIGNATURE = 6, /* transaction signature invalid */
    SL_TXC_EXPIRED = 7,       /* block time is past the transaction's expiry */
    SL_TXC_REPLAY = 8,        /* id already in the ledger */
    SL_TXC_REFUSED = 9,       /* the contract refused it (reason says why) */
} sl_txcode;

const char *sl_txcode_name(sl_txcode c);

/* ---- genesis ---- */

/**
 * Builds a genesis block (header + the channel document) for the channel document text
 * doc[0..len), signed by orderer_key whose certificate orderer_cert must be issued by a member
 * organization with the node role. Appended to out as block bytes (see sl_block_encode).
 */
int sl_genesis_build(const char *doc, size_t len, const sl_key *orderer_key,
                     const sl_cert *orderer_cert, int64_t time_ms, sl_buf *out, sl_error *err)
    __attribute__((warn_unused_result));

/**
 * Block bytes, the transport and file form: u32 header length, header, u32 n, then n times
 * (u32 length, transaction bytes).
 */
typedef struct sl_block {
    sl_block_header header;
    const uint8_t **txs; /* borrowed from the decoded bytes */
    size_t *tx_lens;
    size_t n;
} sl_block;

int sl_block_decode(const uint8_t *p, size_t len, sl_block **out, sl_error *err)
    __attribute__((warn_unused_result));
void sl_block_free(sl_block *b);

/* ---- the ledger ---- */

typedef struct sl_ledger sl_ledger;

/** Creates a ledger database at path (must not exist) holding the genesis block bytes. */
int sl_ledger_create(const char *path, const uint8_t *genesis, size_t len, sl_error *err)
    __attribute__((warn_unused_result));

enum {
    SL_LEDGER_READONLY = 1 << 0,
};

/**
 * Opens a ledger: checks the genesis, replays every committed block into a fresh contract and
 * compares each block's state hash (SL_ECORRUPT names the first block that differs). *out is
 * freed with sl_ledger_close.
 */
int sl_ledger_open(const char *path, unsigned flags, sl_ledger **out, sl_error *err)
    __attribute__((warn_unused_result));
void sl_ledger_close(sl_ledger *l);

/** The channel document of the genesis (borrowed) and the channel's name. */
const sl_channel_spec *sl_ledger_channel(const sl_ledger *l);
/** Height of the last committed block (0: only genesis) and its header hash. */
uint64_t sl_ledger_height(sl_ledger *l, uint8_t head[SL_HASH_LEN]);

/**
 * When the contract next has something to do (sl_contract_next_due): the block time at which
 * an orderer should cut a block even when no transaction waits, so that deadlines pass and
 * windows and periods close on an idle channel. INT64_MAX when nothing will ever be due; a time
 * at or before the head's when something is due at once. While a failed commit has left the
 * ledger to be rebuilt (a full disk), INT64_MIN: the next commit rebuilds it first.
 */
int64_t sl_ledger_next_due(sl_ledger *l);

/**
 * Checks a transaction before it is ordered (what the API does on submit): decodes, verifies
 * certificate chain, role and signature, expiry against now_ms, and that its id is new. Returns
 * 0 and the id, or SL_EINVAL / SL_EAUTH / SL_ETIME / SL_EDUP with the reason. Passing does not
 * promise the block will accept it (the contract decides then).
 */
int sl_ledger_precheck(sl_ledger *l, const uint8_t *tx, size_t len, int64_t now_ms,
                       uint8_t id[SL_HASH_LEN], sl_error *err) __attribute__((warn_unused_result));

/** What one committed block did, for the caller (node events, metrics). Owned by the ledger;
 * valid until the next commit. */
typedef struct sl_commit_info {
    uint64_t height;
    uint8_t hash[SL_HASH_LEN];
    int64_t time_ms;
    size_t n_tx;
    const sl_txcode *codes;            /* per transaction */
    const uint8_t (*ids)[SL_HASH_LEN]; /* per transaction */
    /* Per transaction: the contract's SL_E* code for a refused one (SL_EFUNDS, SL_ESTATE, ...),
     * 0 for every other; NULL when the block was not committed. Not stored: a transaction's
     * record keeps its reason text only. */
    const int *refusals;
    size_t n_valid;
    const sl_event *events; /* contract events of the block, in order */
    size_t n_events;
} sl_commit_info;

/**
 * The orderer's path: validates and applies txs (n byte strings) as block height+1 with
 * timestamp time_ms (raised to previous + 1 if not greater), signs it with key/cert, and commits
 * it in one SQLite transaction. Invalid transactions are recorded, not refused. Returns 0,
 * or an error with nothing committed (SL_EIO from SQLite, SL_ENOMEM). *info may be NULL.
 */
int sl_ledger_commit(sl_ledger *l, const uint8_t *const *txs, const size_t *lens, size_t n,
                     int64_t time_ms, const sl_key *key, const sl_cert *cert, sl_commit_info *info,
                     sl_error *err) __attribute__((warn_unused_result));

/**
 * The follower's path: verifies a block made by another node's orderer (chain, Merkle root,
 * orderer certificate and signature), re-executes it and commits it only if the state hash
 * matches. SL_ECORRUPT or SL_EAUTH with the reason; nothing committed then.
 */
int sl_ledger_append(sl_ledger *l, const uint8_t *block, size_t len, sl_commit_info *info,
                     sl_error *err) __attribute__((warn_unused_result));

/** Block bytes of height h, appended to out. SL_ENOENT beyond the head. */
int sl_ledger_block(sl_ledger *l, uint64_t height, sl_buf *out, sl_error *err);

/**
 * Runs fn with the contract (read only) under the ledger's lock, so the caller sees one
 * consistent state. fn must not call back into the ledger.
 */
int sl_ledger_with_contract(sl_ledger *l, int (*fn)(const sl_contract *c, void *arg), void *arg);

/* ---- queries of stored blocks and transactions (for the CLI, API and auditors) ---- */

/**
 * The stored validation codes of block height's transactions, one byte (an sl_txcode) per
 * transaction in block order, appended to out; the number appended is the block's n_tx (1 for
 * the genesis, whose channel document counts as valid). SL_ENOENT beyond the head, SL_EIO
 * from SQLite, SL_ENOMEM. The codes are as stored: sl_ledger_open checked them by replay,
 * sl_ledger_verify re-checks them against each header's results hash.
 */
int sl_ledger_block_codes(sl_ledger *l, uint64_t height, sl_buf *out, sl_error *err);

/** Where one transaction sits in the ledger and what became of it. */
typedef struct sl_tx_record {
    uint64_t height;  /* its block */
    uint64_t index;   /* its position in the block */
    sl_txcode code;   /* its validation code */
    char reason[200]; /* why it is not valid (or which report items were refused); "" if none */
    uint32_t copies;  /* times these exact bytes were submitted (replays are recorded too) */
} sl_tx_record;

/**
 * Looks up transaction id. When the same bytes sit in several blocks (a replay is recorded
 * with code replay), the occurrence is the one sl_ledger_proof proves: the valid one, else the
 * first. Fills *rec and, when bytes is not NULL, appends the transaction's stored bytes to it.
 * SL_ENOENT for an unknown id, SL_ECORRUPT when the stored bytes no longer hash to id, SL_EIO
 * from SQLite, SL_ENOMEM. *rec is zeroed on failure.
 */
int sl_ledger_tx(sl_ledger *l, const uint8_t id[SL_HASH_LEN], sl_tx_record *rec, sl_buf *bytes,
                 sl_error *err);

/**
 * World state now: calls fn for every key starting with prefix ("wallet/univie/",
 * "agreement/"), in key order, with its JSON value and the block that last changed it. fn
 * returning nonzero stops the walk and becomes the return value. Keys are described in
 * docs/ledger-format.md ("The store").
 */
int sl_ledger_state(sl_ledger *l, const char *prefix,
                    int (*fn)(void *ctx, const char *key, const char *value, uint64_t height),
                    void *ctx, sl_error *err);

/** Every value key has had, oldest first, with the block that set it (getStateHistory). */
int sl_ledger_history(sl_ledger *l, const char *key,
                      int (*fn)(void *ctx, const char *key, const char *value, uint64_t height),
                      void *ctx, sl_error *err);

/** Which stored contract events to read (sl_ledger_events). */
typedef struct sl_event_query {
    const char *agreement; /* required */
    const char *objective; /* NULL: every objective */
    const char *kind;      /* an sl_event_kind_name ("decided", "penalty", ...), NULL: all */
    int64_t from_ms;       /* events whose [start, end) overlaps [from, to) */
    int64_t to_ms;
    int64_t limit;  /* rows at most */
    int64_t offset; /* rows to skip first */
} sl_event_query;

/** One stored event; strings borrowed for the callback's duration, NULL when absent. */
typedef struct sl_event_row {
    uint64_t height, seq;
    int64_t tx_index;     /* -1: the block's own tick */
    const uint8_t *tx_id; /* the transaction that caused it (SL_HASH_LEN bytes); NULL for a tick */
    const char *kind, *agreement, *objective, *from, *to, *currency, *outcome;
    int64_t amount, start_ms, end_ms, value;
    int tier;
} sl_event_row;

/**
 * Calls fn for each stored event matching q, in ledger order (measurement history, violations,
 * penalties, settlements of an agreement). fn returning nonzero stops and is returned.
 */
int sl_ledger_events(sl_ledger *l, const sl_event_query *q,
                     int (*fn)(void *ctx, const sl_event_row *row), void *ctx, sl_error *err);

/* ---- audit ---- */

typedef struct sl_verify_result {
    uint64_t blocks;    /* blocks checked */
    uint64_t txs;       /* transactions checked */
    uint64_t valid;     /* of which valid */
    int64_t bad_height; /* first bad block, -1 when all is well */
    sl_error err;       /* why */
} sl_verify_result;

/**
 * Audits the ledger at path from genesis without trusting anything stored but the genesis:
 * recomputes every header hash, the chain, Merkle roots, orderer and transaction signatures,
 * re-validates and replays all transactions, compares every stored validation code and state
 * hash, and at the end the stored world state and history. progress (may be NULL) is called
 * now and then with the blocks done and the total. Returns 0 when all is well, SL_ECORRUPT
 * with the first bad block in *res, or SL_EIO when the file cannot be read.
 */
int sl_ledger_verify(const char *path, void (*progress)(void *arg, uint64_t done, uint64_t total),
                     void *arg, sl_verify_result *res) __attribute__((warn_unused_result));

/**
 * Writes an inclusion proof of transaction id as JSON (appended to out): the transaction bytes,
 * its block's height and index, the Merkle audit path, the block's validation codes, and the
 * headers from its block to the current head. SL_ENOENT for an unknown id.
 */
int sl_ledger_proof(sl_ledger *l, const uint8_t id[SL_HASH_LEN], sl_buf *out, sl_error *err);

/** What a checked proof shows. */
typedef struct sl_proof_info {
    uint8_t id[SL_HASH_LEN];
    uint64_t height; /* block of the transaction */
    uint64_t index;  /* its position in the block */
    uint64_t head;   /* height of the signed head the chain reaches */
    sl_txcode code;  /* its validation code, proven through the header's results hash */
    char signer[SL_IDENT_NAME_CAP];
    char org[SL_IDENT_NAME_CAP];
    sl_tx_type type;
} sl_proof_info;

/**
 * Verifies a proof offline with nothing but the channel's genesis block bytes: transaction
 * signature and certificate against the genesis members, Merkle path to the block's root,
 * each header's orderer signature and the hash chain up to the head. SL_EAUTH / SL_EINVAL
 * with the reason.
 */
int sl_proof_check(const char *json, size_t len, const uint8_t *genesis, size_t genesis_len,
                   sl_proof_info *out, sl_error *err) __attribute__((warn_unused_result));

#endif
