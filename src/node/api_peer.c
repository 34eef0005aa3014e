/*
 * api_peer.c: the routes the member nodes of a channel call on each other (src/node/peer.c is
 * the calling side). A follower reads the channel's blocks as the signed bytes the orderer
 * stored (GET .../blocks/{height}/raw, which members' auditors may read too, to check their own
 * copy), and hands its users' signed transactions to the node that orders the channel (POST
 * .../transactions). Only a member node may submit; a node that does not order the channel
 * says which node does. Anyone who is not a member gets 404, as for a channel that does not
 * exist.
 *
 * Thread-safety: handlers run concurrently on the HTTP threads over thread-safe ledgers and
 * orderers.
 */
#include <string.h>

#include <jansson.h>

#include "node/api_int.h"

/* A member user (by organization, as every user route) or a member organization's node (by
 * the root key that certified it). */
static int may_read(const sl__node *n, const sl__channel *ch, const sl_caller *c)
{
    if (c->role == SL_ROLE_NODE)
        return sl__node_is_member_node(n, c, ch->name);
    return sl__api_member_of(ch, c);
}

/* GET /v1/channels/{channel}/blocks/{height}/raw: the block's bytes (sl_ledger_block). */
static int raw_block(void *ctx, sl_req *req, sl_resp *resp)
{
    sl__node *n = ctx;
    sl__channel *ch = sl__node_channel(n, req->params[0]);
    int64_t h = -1;
    sl_error err = {0};
    if (!ch || !may_read(n, ch, &req->caller))
        return sl_http_error(resp, 404, SL_ENOENT, "channel", "no channel '%s'", req->params[0]);
    if (sl__api_count_parse(req->params[1], INT64_MAX / 2, &h) != 0)
        return sl_http_error(resp, 400, SL_EINVAL, "height", "expected a block height");
    if (sl_ledger_block(ch->ledger, (uint64_t)h, &resp->body, &err) != 0) {
        sl_buf_reset(&resp->body);
        return sl_http_error(resp, err.code == SL_ENOENT ? 404 : 500, err.code, "height", "%s",
                             err.msg);
    }
    resp->content_type = "application/octet-stream";
    return 0;
}

/* POST /v1/channels/{channel}/transactions: a member node's signed transaction, queued for the
 * next block when this node orders the channel. 202 with its id: the submitter learns its
 * outcome from the block, as every member does. */
static int submit(void *ctx, sl_req *req, sl_resp *resp)
{
    sl__node *n = ctx;
    sl__channel *ch = sl__node_channel(n, req->params[0]);
    uint8_t id[SL_HASH_LEN];
    char hex[2 * SL_HASH_LEN + 1];
    sl_error err = {0};
    if (!ch || !may_read(n, ch, &req->caller))
        return sl_http_error(resp, 404, SL_ENOENT, "channel", "no channel '%s'", req->params[0]);
    if (req->caller.role != SL_ROLE_NODE)
        return sl_http_error(resp, 403, SL_EPERM, NULL,
                             "only a member node hands transactions to the orderer; %s of %s "
                             "is a %s user",
                             req->caller.user, req->caller.org, sl_role_name(req->caller.role));
    const sl_channel_spec *spec = sl_ledger_channel(ch->ledger);
    if (!ch->orders)
        return sl_http_error(resp, 409, SL_ESTATE, "channel",
                             "this node does not order channel '%s': %s of %s does", ch->name,
                             spec->orderer_name ? spec->orderer_name : "its etcd cluster",
                             spec->orderer_org ? spec->orderer_org : "the members");
    int rc = sl_orderer_submit(ch->orderer, req->body, req->body_len, id, &err);
    if (rc)
        return sl_http_error(resp, 0, rc, err.field[0] ? err.field : NULL, "%s", err.msg);
    sl_hex(id, SL_HASH_LEN, hex);
    return sl__api_reply(resp, 202,
                         json_pack("{s:s, s:s}", "channel", ch->name, "transaction", hex));
}

int sl__api_peer_register(sl__node *n)
{
    sl_http *h = n->http;
    int rc = 0;
    rc |= sl_http_route(h, "GET", "/v1/channels/{channel}/blocks/{height}/raw", SL_ROUTE_NODES,
                        raw_block, n);
    rc |=
        sl_http_route(h, "POST", "/v1/channels/{channel}/transactions", SL_ROUTE_NODES, submit, n);
    return rc ? SL_ENOMEM : 0;
}
