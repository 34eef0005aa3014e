/*
 * api_int.h: what the node's route files share. api.c holds the agreement, wallet and history
 * routes and the helpers below; api_ledger.c the ledger's blocks and transactions; api_paper.c
 * the seed paper's per-provider routes. Handlers run concurrently on the HTTP threads.
 */
#ifndef SL_NODE_API_INT_H
#define SL_NODE_API_INT_H

#include <jansson.h>

#include "node/node_int.h"
#include "slaledger/contract.h"

/* What the API needs of one agreement, copied out of the contract under its lock. */
typedef struct sl__agr_view {
    const char *name;
    const sl_caller *caller;
    int found;
    char consumer[SL_IDENT_NAME_CAP], provider[SL_IDENT_NAME_CAP];
    char currency[4];
    unsigned minor_units;
    uint8_t doc_hash[SL_HASH_LEN];
    sl_buf statement; /* filled when want_statement */
    int want_statement;
    const char *service; /* when set: found only with that service, whose push agent is: */
    char agent[SL_IDENT_NAME_CAP]; /* "" when any oracle-role token may push */
} sl__agr_view;

/** Answers status with j as the body (j is consumed; NULL means out of memory). */
int sl__api_reply(sl_resp *resp, int status, json_t *j);
/** The request body as JSON with duplicate keys refused (every route that reads a JSON body
 * uses this); NULL after answering 400 with the line and column. The caller owns the value. */
json_t *sl__api_json_body(const sl_req *req, sl_resp *resp);
/** Finds agreement name on the node's channels as the caller may see it, filling v; its
 * channel, or NULL. v->statement is initialised either way (release it). */
sl__channel *sl__api_find_agreement(sl__node *n, const sl_caller *caller, const char *name,
                                    sl__agr_view *v, int want_statement);
/** Whether the caller's organization is a member of ch (only members read its ledger). */
int sl__api_member_of(const sl__channel *ch, const sl_caller *c);
/** The local user the caller acts as, who must hold one of roles; NULL after answering 403. */
const sl__member *sl__api_acting_user(sl__node *n, const sl_req *req, unsigned roles,
                                      sl_resp *resp);
/**
 * Answers with what became of a submitted transaction on channel (rc and err from
 * sl__node_submit, reason its stored reason): 201 with its id and block; its validation
 * failure (400) or the contract's refusal with the contract's code (409 EFUNDS, ESTATE ...);
 * 422 ETIME when it was not committed in time, 503 EIO when its block could not be stored.
 * Errors about a queued transaction carry its id as "transaction".
 */
int sl__api_outcome(sl_resp *resp, const char *channel, const char *agreement, int rc,
                    const sl_error *err, const sl__submitted *s, const char *reason);
/** Signs and submits t as user on ch, then answers with the outcome. */
int sl__api_submit_reply(sl__node *n, sl__channel *ch, const sl__member *user, sl_tx *t,
                         const char *agreement, sl_resp *resp);
/** A decimal integer 0..max with nothing around it into *out: 0, or -1. */
int sl__api_count_parse(const char *v, int64_t max, int64_t *out);
/** Query argument key as a count 0..max into *out (kept when absent): 1, or not 1 after
 * answering 400. */
int sl__api_query_count(const sl_req *req, const char *key, int64_t max, int64_t *out,
                        sl_resp *resp);
/** The agreements the caller may see (of one provider unless NULL); caller owns the array. */
json_t *sl__api_visible_agreements(sl__node *n, const sl_caller *caller, const char *provider);
/** GET /v1/agreements/{name} and POST /v1/agreements, for the routes that reuse them. */
int sl__api_show_agreement(void *ctx, sl_req *req, sl_resp *resp);
int sl__api_propose(void *ctx, sl_req *req, sl_resp *resp);
/** POST of an agreement document, whose provider must be provider unless it is NULL (the seed
 * paper's per-provider routes). The caller's role is checked before the body is parsed, once. */
int sl__api_propose_for(sl__node *n, sl_req *req, sl_resp *resp, const char *provider);

/** Registers the ledger routes (api_ledger.c) and the seed paper's (api_paper.c). */
int sl__api_ledger_register(sl__node *n);
int sl__api_paper_register(sl__node *n);
/** api_peer.c: the routes member nodes call on each other. */
int sl__api_peer_register(sl__node *n);

#endif
