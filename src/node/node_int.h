/*
 * node_int.h: the running node's private state, shared by node.c (lifecycle), submit.c
 * (signing for local users and waiting for blocks) and api.c (the /v1 routes).
 *
 * A node serves channels; each has its ledger, its solo orderer and the node's identity. Local
 * users are members whose keys the node holds, so API callers never handle keys: the node
 * signs their transactions as them. Other organizations' nodes call it with node credentials
 * (peer.c). Ownership: the node owns everything here. Thread-safety:
 * ledgers and orderers are thread-safe; the waiter table has its own lock; everything else is
 * immutable after start.
 */
#ifndef SL_NODE_INT_H
#define SL_NODE_INT_H

#include <pthread.h>

#include "node/http.h"
#include "slaledger/ident.h"
#include "slaledger/ledger.h"
#include "slaledger/order.h"

typedef struct sl__member {
    char name[SL_IDENT_NAME_CAP];
    sl_key *key;
    sl_cert cert;
} sl__member;

typedef struct sl__upstream sl__upstream;

typedef struct sl__channel {
    char name[SL_IDENT_NAME_CAP];
    sl_ledger *ledger;
    sl_orderer *orderer;    /* solo when this node orders the channel, else a follower */
    int orders;             /* this node is the channel's orderer */
    sl__upstream *upstream; /* a follower's way to the orderer (upstream.c); NULL when it orders */
    struct sl__node *node;  /* back pointer for the block callback */
} sl__channel;

/* A request waiting for its transaction's block. */
typedef struct sl__waiter {
    uint8_t id[SL_HASH_LEN];
    int done;
    sl_txcode code;
    int refusal; /* the contract's SL_E* code when code is SL_TXC_REFUSED */
    uint64_t height;
    sl_error failed; /* failed.code != 0: its block was not committed and it was dropped */
    struct sl__waiter *next;
} sl__waiter;

/** What became of a submitted transaction (sl__node_submit). */
typedef struct sl__submitted {
    uint8_t id[SL_HASH_LEN]; /* its id, once signed */
    int queued;              /* the orderer took it: id names it in the answer, even a failed one */
    int dropped;             /* its block could not be committed: nothing of it was applied */
    sl_txcode code;          /* its validation code in its block */
    int refusal;             /* the contract's SL_E* code when code is SL_TXC_REFUSED, else 0 */
    uint64_t height;         /* its block */
} sl__submitted;

struct sl__node;

/* The seed paper's per-provider routes: which node, which provider. */
typedef struct sl__paper {
    struct sl__node *node;
    const char *provider;
} sl__paper;

typedef struct sl__node {
    char org[SL_IDENT_NAME_CAP];
    sl__member identity; /* the node itself (role node): orders blocks */
    sl__member *users;
    size_t n_users;
    sl__member *oracles; /* oracle members whose reports the node's scheduler signs */
    size_t n_oracles;
    struct sl_sched_oracle *sched_oracles;
    struct sl_sched *sched; /* NULL when the node runs no oracles */
    sl__channel *channels;
    size_t n_channels;
    sl_http *http;
    /* Guards http against the orderers' threads (block announcements) while sl_node_free
     * takes the server down: they read it under the read lock, and not once http_closing. */
    pthread_rwlock_t http_lock;
    int http_closing;
    pthread_mutex_t wait_mu;
    pthread_cond_t wait_cv;
    sl__waiter *waiters;
    sl__paper paper[2];   /* /aws/services, /azure/services */
    uint64_t nonce;       /* under wait_mu */
    uint32_t clock_speed; /* the node's clock: since + (wall - since) * speed */
    int64_t clock_since;
    /* The node's logger (log.h), owned by node.c; NULL writes through the default one. */
    struct sl__log *log;
} sl__node;

/* submit.c */
/** The wall clock in ms since the epoch (CLOCK_REALTIME). */
int64_t sl__node_wall_ms(void);
/** The node's time in ms since the epoch (see sl_node_config's clock): block timestamps,
 * transaction expiry and the oracles' intervals. */
int64_t sl__node_now(const sl__node *n);
/** sl__node_now as a clock callback (arg: the sl__node). */
int64_t sl__node_clock_cb(void *arg);
sl__channel *sl__node_channel(sl__node *n, const char *name);
/** The local user called name of organization org (a member is both: two organizations may
 * each have a `bob`), or NULL. */
const sl__member *sl__node_user(const sl__node *n, const char *org, const char *name);
/**
 * Signs t (common fields filled here: channel, nonce, expiry, the user's certificate) as user,
 * submits it to channel ch and waits up to timeout_ms for its block. Returns 0 with out's code,
 * refusal and height set; SL_ETIME when the block did not come in time (the transaction may
 * still be committed); the block's error (SL_EIO when storing it failed, e.g. a full disk) at
 * once when its block could not be committed and it was dropped; or the submission's error.
 * The messages of errors after out->queued name the transaction's id. SL_EPERM where the
 * channel does not admit the user (not a member, or not in that role).
 */
int sl__node_submit(sl__node *n, sl__channel *ch, const sl__member *user, sl_tx *t,
                    int64_t timeout_ms, sl__submitted *out, sl_error *err);
/** The orderer's block callback: wakes waiters (with the error when the block failed) and
 * broadcasts events. */
void sl__node_on_block(void *arg, const sl_commit_info *info, const sl_error *err);

/* oracles.c */
struct sl_node_config;
struct sl_secrets;
/** Starts the oracle scheduler when the node holds oracle keys. 0 or the error. */
int sl__oracles_start(sl__node *n, const struct sl_node_config *cfg,
                      const struct sl_secrets *secrets, sl_error *err);
/** Stops and frees the scheduler (before the orderers it submits to). */
void sl__oracles_stop(sl__node *n);
/** Tells the scheduler which agreements a block committed on channel activated or closed. */
void sl__oracles_on_block(sl__node *n, const char *channel, const sl_commit_info *info);
/** Sets the scheduler's counters in the node's metrics registry. */
void sl__oracles_metrics(sl__node *n);
/** Serves a push of observations for agreement params[0], service params[1] on channel;
 * agent is the service's only allowed pushing user, or NULL. */
int sl__oracles_push(sl__node *n, sl_req *req, sl_resp *resp, const char *channel,
                     const char *agent);
/** Serves PUT /{provider}/services/{key}: the node's oracles measure agreement `agreement` on
 * channel now (sl_sched_measure_now); 202 with what each task does, 409/422 when nothing is
 * left to measure or no oracle of the node measures it. The caller was authorized already. */
int sl__oracles_measure_now(sl__node *n, sl_resp *resp, const char *channel, const char *agreement);

/* peer.c */
/**
 * Authenticates a node credential (a bearer token starting with SL_NODE_TOKEN_PREFIX, see
 * ident.h) made for this node by another node: fills *caller (user: the node's name, org, role
 * SL_ROLE_NODE, node_credential, issuer_pk) and returns 1, or returns 0 (the reason logged:
 * debug for a malformed token, info otherwise). The signature of an sl_auth_fn's body.
 */
int sl__node_auth_peer(const sl__node *n, const char *token, sl_caller *caller);
/** 1 when c was authenticated by a node credential whose certificate the root key that
 * channel's genesis lists for c's organization signed: a node of a member organization of the
 * channel. 0 for everyone else, users included, and for a channel the node does not serve. */
int sl__node_is_member_node(const sl__node *n, const sl_caller *c, const char *channel);

/* upstream.c */
/**
 * The way to the node that orders channel (spec names it) at url, for the channel's follower:
 * fills *remote (its arg is *out) and *out, freed with sl__upstream_free after the follower.
 * 0 or SL_ENOMEM.
 */
int sl__upstream_new(sl__node *n, const char *channel, const sl_channel_spec *spec, const char *url,
                     sl__upstream **out, sl_order_remote *remote, sl_error *err);
void sl__upstream_free(sl__upstream *p);

/* console.c */
/** Registers GET /, /console/{file} and /console/vendor/{file}. 0 or SL_ENOMEM. */
int sl__console_register(sl__node *n);

/* api.c */
int sl__api_register(sl__node *n);

#endif
