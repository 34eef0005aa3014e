/*
 * api_paper.c: the seed paper's routes, /aws/services and /azure/services. The prototype kept
 * one record per monitored service of a provider under a key. Here a key is an agreement with
 * that provider; its record is the agreement's services and statement. GET lists, POST
 * proposes an agreement document (whose provider must be the route's), GET /{key} shows one,
 * and PUT /{key} has the node's oracles measure its latest closed intervals now.
 *
 * Thread-safety: handlers run concurrently on the HTTP threads.
 */
#include <string.h>

#include "node/api_int.h"
#include "slaledger/sla.h"

static int paper_list(void *ctx, sl_req *req, sl_resp *resp)
{
    const sl__paper *p = ctx;
    json_t *out = sl__api_visible_agreements(p->node, &req->caller, p->provider);
    return out ? sl__api_reply(resp, 200,
                               json_pack("{s:s, s:o}", "provider", p->provider, "services", out))
               : SL_ENOMEM;
}

static int paper_show(void *ctx, sl_req *req, sl_resp *resp)
{
    const sl__paper *p = ctx;
    sl__agr_view v;
    sl__channel *ch = sl__api_find_agreement(p->node, &req->caller, req->params[0], &v, 0);
    int mine = ch && strcmp(v.provider, p->provider) == 0;
    if (!mine)
        return sl_http_error(resp, 404, SL_ENOENT, "key", "no %s service '%s'", p->provider,
                             req->params[0]);
    return sl__api_show_agreement(p->node, req, resp);
}

/* POST: a proposal whose provider must be the route's (the role is checked before the body is
 * parsed, so a token that may not propose cannot make the node parse a large body). */
static int paper_add(void *ctx, sl_req *req, sl_resp *resp)
{
    const sl__paper *p = ctx;
    return sl__api_propose_for(p->node, req, resp, p->provider);
}

/* PUT /{key}: the prototype's update, which fetched the service's latest closed interval from
 * the provider's monitoring and wrote it to the ledger. Here the node's oracles measure the
 * agreement's closed intervals now instead of at their scheduled time; only the agreement's
 * consumer and provider may ask, and the scheduler's watermark keeps every interval measured
 * once however often they do. */
static int paper_measure(void *ctx, sl_req *req, sl_resp *resp)
{
    const sl__paper *p = ctx;
    const sl_caller *c = &req->caller;
    sl__agr_view v;
    sl__channel *ch = sl__api_find_agreement(p->node, c, req->params[0], &v, 0);

    if (!ch || strcmp(v.provider, p->provider) != 0)
        return sl_http_error(resp, 404, SL_ENOENT, "key", "no %s service '%s'", p->provider,
                             req->params[0]);
    if (!(c->role & (SL_ROLE_CONSUMER | SL_ROLE_PROVIDER)) ||
        (strcmp(c->org, v.consumer) != 0 && strcmp(c->org, v.provider) != 0))
        return sl_http_error(resp, 403, SL_EPERM, "token",
                             "only the consumer or the provider of '%s' may have it measured",
                             req->params[0]);
    return sl__oracles_measure_now(p->node, resp, ch->name, req->params[0]);
}

int sl__api_paper_register(sl__node *n)
{
    sl_http *h = n->http;
    int rc = 0;
    static const char *const providers[2] = {"aws", "azure"};
    for (int i = 0; i < 2; i++) {
        char base[32], one[48];
        n->paper[i] = (sl__paper){n, providers[i]};
        sl_strfmt(base, sizeof(base), "/%s/services", providers[i]);
        sl_strfmt(one, sizeof(one), "/%s/services/{key}", providers[i]);
        rc |= sl_http_route(h, "GET", base, 0, paper_list, &n->paper[i]);
        rc |= sl_http_route(h, "POST", base, 0, paper_add, &n->paper[i]);
        rc |= sl_http_route(h, "GET", one, 0, paper_show, &n->paper[i]);
        rc |= sl_http_route(h, "PUT", one, 0, paper_measure, &n->paper[i]);
    }
    return rc;
}
