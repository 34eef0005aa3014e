/*
 * slaledger/order.h: ordering. Transactions go in, signed blocks come out, in one order that
 * every node of the channel applies.
 *
 * One interface (sl_orderer and its ops) with one backend per kind: `solo`, the embedded
 * in-process orderer built here, and later `etcd`. A backend only decides *which* transactions
 * form the next block and *when*; the ledger validates, executes, signs and stores the block
 * (sl_ledger_commit), and followers check it (sl_ledger_append). So a new backend touches
 * neither the ledger nor the contract.
 *
 * Submitting prechecks the transaction (decode, certificate, role, signature, expiry, replay)
 * on the caller's thread, so API threads verify signatures in parallel; the commit then skips
 * signatures it already verified. Thread-safety: every function may be called from any thread.
 */
#ifndef SLALEDGER_ORDER_H
#define SLALEDGER_ORDER_H

#include <stddef.h>
#include <stdint.h>

#include "slaledger/error.h"
#include "slaledger/ident.h"
#include "slaledger/ledger.h"

/**
 * When to cut a block: whichever comes first of a full block, the timeout of the oldest waiting
 * transaction, and a flush. With no transaction waiting, a block is cut only when the node's
 * clock reaches the contract's next due time (sl_ledger_next_due), never on an idle timer.
 * Zero fields take the channel's settings.
 */
typedef struct sl_order_settings {
    uint32_t max_txs;   /* transactions per block */
    uint32_t max_bytes; /* bytes of transactions per block */
    int64_t timeout_ms; /* after the oldest waiting transaction arrived */
    size_t queue_max;   /* waiting transactions before submit says SL_EBUSY (default 100000) */
    /* The node's clock (ms since the epoch) for block timestamps, expiry checks and due times;
     * NULL for the wall clock. A demo runs it faster than the wall (sl_node_config's clock). */
    int64_t (*clock)(void *arg);
    void *clock_arg;
    /* How many times faster than the wall that clock runs (0 or 1: as fast), so that a wait
     * for a due time in node time becomes the right wait on the wall. */
    uint32_t clock_speed;
} sl_order_settings;

/**
 * Called on the orderer's thread after each block, with info always set. err is NULL when the
 * block was committed. When it could not be (err says why: SL_EIO when storing failed, e.g. a
 * full disk), nothing of it is applied and its transactions are dropped: info then holds only
 * n_tx and their ids (height 0, no codes, refusals or events), so that their submitters can be
 * told at once and resubmit. Must not block for long.
 */
typedef void (*sl_block_cb)(void *arg, const sl_commit_info *info, const sl_error *err);

typedef struct sl_orderer sl_orderer;

typedef struct sl_orderer_ops {
    const char *name;
    int (*submit)(sl_orderer *o, const uint8_t *tx, size_t len, uint8_t id[SL_HASH_LEN],
                  sl_error *err);
    int (*flush)(sl_orderer *o, sl_error *err);
    void (*free)(sl_orderer *o);
} sl_orderer_ops;

/** Backends start with this member. */
struct sl_orderer {
    const sl_orderer_ops *ops;
};

/**
 * Prechecks tx (see sl_ledger_precheck) and queues a copy for the next block; *id receives its
 * id. SL_EBUSY when the queue is full; the precheck's error otherwise.
 */
int sl_orderer_submit(sl_orderer *o, const uint8_t *tx, size_t len, uint8_t id[SL_HASH_LEN],
                      sl_error *err) __attribute__((warn_unused_result));

/** Cuts a block now with what is queued and returns once everything submitted before the call
 * is committed (or failed: the commit's error). */
int sl_orderer_flush(sl_orderer *o, sl_error *err);

/** Stops the orderer (committing what is queued first) and frees it. Accepts NULL. */
void sl_orderer_free(sl_orderer *o);

/**
 * The embedded orderer: a thread that cuts blocks from the queue of ledger l and commits them,
 * signed with key (borrowed; must outlive the orderer) and cert, a node of a member
 * organization. cb (may be NULL) hears of every block.
 */
int sl_solo_new(sl_ledger *l, const sl_key *key, const sl_cert *cert,
                const sl_order_settings *settings, sl_block_cb cb, void *arg, sl_orderer **out,
                sl_error *err) __attribute__((warn_unused_result));

/**
 * How a follower reaches its channel's orderer: the node implements it over the node API, a
 * test in process. submit is called from submitters' threads, fetch from the follower's thread,
 * cancel from sl_orderer_free's: each must be thread-safe.
 */
typedef struct sl_order_remote {
    /** Hands signed transaction bytes to the orderer: 0 once it queued them, else its error
     * (a precheck's refusal, SL_EBUSY) or SL_EIO when it cannot be reached. */
    int (*submit)(void *arg, const uint8_t *tx, size_t len, sl_error *err);
    /** Appends the bytes of block height (sl_ledger_block's form) to out, waiting up to wait_ms
     * for it to be cut: 0, SL_ENOENT when it was not cut in time, or another error (the
     * follower pauses and asks again). */
    int (*fetch)(void *arg, uint64_t height, int64_t wait_ms, sl_buf *out, sl_error *err);
    /** Makes a fetch in progress return soon (may be NULL: free then waits for it). */
    void (*cancel)(void *arg);
    void *arg;
} sl_order_remote;

/**
 * The ordering backend of a member node that does not order the channel of ledger l: its
 * submissions go to the orderer through remote (after the local precheck), and a thread
 * fetches the orderer's blocks in order and appends each (sl_ledger_append re-checks and
 * re-executes it); cb hears of each one. A block this node refuses halts the follower: it
 * applies nothing more, cb hears the reason (err set, info.height the refused block, n_tx 0),
 * and submissions fail with SL_ESTATE. Flush waits (at most 30 s) until a block arrives. The
 * ledger and remote are borrowed and must outlive the follower; settings.clock is the node's.
 */
int sl_follower_new(sl_ledger *l, const sl_order_remote *remote, const sl_order_settings *settings,
                    sl_block_cb cb, void *arg, sl_orderer **out, sl_error *err)
    __attribute__((warn_unused_result));

#endif
