/*
 * peer.c: other organizations' nodes as callers of this node's API. A request whose bearer
 * token is a node credential ("sln1.", ident.h) is authenticated here, with no secret shared:
 * the token must be made for this node (audience: its identity certificate's org/name), dated
 * within PEER_SKEW_MS of this node's wall clock, and carry a node certificate that the root key
 * of its organization, as a channel this node serves lists it, signed and that is valid now.
 *
 * Such a caller is a node, never a user: the HTTP layer refuses it on every route not flagged
 * SL_ROUTE_NODES, and the routes for nodes ask sl__node_is_member_node per channel, which
 * checks the root key that certified it (organization names are unique within a channel only,
 * so the name alone does not say which organization it is on another channel). Certificates
 * are checked at the wall clock, not the node's clock (which a demo may run fast): a credential
 * is about the moment of the request, whatever time the ledger is at.
 *
 * Thread-safety: runs on the HTTP threads; reads only what is immutable after start.
 */
#include <string.h>

#include "node/log.h"
#include "node/node_int.h"
#include "slaledger/sla.h"

/* How far a node credential's time may be from this node's wall clock, either way. */
#define PEER_SKEW_MS 60000

/* The root key that ch's genesis lists for organization org, or NULL. */
static const uint8_t *org_root(const sl__channel *ch, const char *org)
{
    const sl_channel_spec *spec = sl_ledger_channel(ch->ledger);
    int i = sl_channel_org_find(spec, org);

    return i >= 0 ? spec->orgs[i].root_pk : NULL;
}

/* Checks c against the root key of its organization on the channels that list it, at now; the
 * key that certified it into issuer. 0, or SL_EAUTH / SL_ETIME with the reason in err. */
static int peer_certified(const sl__node *n, const sl_cert *c, int64_t now, uint8_t *issuer,
                          sl_error *err)
{
    int rc =
        sl_error_set(err, SL_EAUTH, "token.cert.org",
                     "organization '%s' is not a member of any channel this node serves", c->org);

    for (size_t i = 0; i < n->n_channels; i++) {
        const uint8_t *root = org_root(&n->channels[i], c->org);
        if (!root)
            continue;
        rc = sl_cert_verify(c, root, now, err);
        if (rc == 0) {
            memcpy(issuer, root, SL_PK_LEN);
            return 0;
        }
    }
    return rc;
}

/* One line about a refused credential: malformed ones at debug (anyone can send those), those
 * of a would-be node at info, so that an operator sees why a peer is refused (clocks, audience,
 * organization). */
static void log_refused(const sl__node *n, int rc, const sl_error *err)
{
    sl_node_log_level level = rc == SL_EINVAL ? SL_NODE_LOG_DEBUG : SL_NODE_LOG_INFO;
    sl__log_field f[] = {SL__LOG_S("field", err->field), SL__LOG_S("reason", err->msg)};

    if (sl__log_enabled(n->log, level))
        sl__log_write(n->log, level, "node credential refused", f, 2);
}

int sl__node_auth_peer(const sl__node *n, const char *token, sl_caller *caller)
{
    const sl_cert *me = &n->identity.cert;
    char audience[SL_NODE_AUDIENCE_MAX + 1];
    uint8_t issuer[SL_PK_LEN];
    int64_t now = sl__node_wall_ms();
    sl_error err = {0};
    sl_cert c;
    int rc;

    sl_strfmt(audience, sizeof(audience), "%s/%s", me->org, me->subject);
    rc = sl_node_token_read(token, audience, now, PEER_SKEW_MS, &c, &err);
    if (rc == 0)
        rc = peer_certified(n, &c, now, issuer, &err);
    if (rc != 0) {
        log_refused(n, rc, &err);
        return 0;
    }
    caller->authenticated = 1;
    sl_strfmt(caller->user, sizeof(caller->user), "%s", c.subject);
    sl_strfmt(caller->org, sizeof(caller->org), "%s", c.org);
    caller->role = SL_ROLE_NODE;
    caller->node_credential = 1;
    memcpy(caller->issuer_pk, issuer, SL_PK_LEN);
    return 1;
}

int sl__node_is_member_node(const sl__node *n, const sl_caller *c, const char *channel)
{
    if (!c->authenticated || !c->node_credential || c->role != SL_ROLE_NODE || !channel)
        return 0;
    for (size_t i = 0; i < n->n_channels; i++) {
        if (strcmp(n->channels[i].name, channel) != 0)
            continue;
        const uint8_t *root = org_root(&n->channels[i], c->org);
        return root && memcmp(root, c->issuer_pk, SL_PK_LEN) == 0;
    }
    return 0;
}
