/*
 * upstream.c: how a node reaches the node that orders a channel it follows, the sl_order_remote of
 * its follower (src/order/follow.c) over the node API. Submissions are POSTed as their signed
 * bytes to /v1/channels/{channel}/transactions; blocks are read from
 * /v1/channels/{channel}/blocks/{height}/raw. Every request carries a fresh node token
 * (sl_node_token_make) made for that orderer alone, so no secret is shared between the two
 * organizations. A block not cut yet (404 ENOENT) is asked for again every 25 ms until the
 * fetch's wait is over, so a block reaches a follower about 25 ms after it was cut.
 *
 * Ownership: the node owns each sl__upstream (one per followed channel) and frees it after the
 * follower. Thread-safety: submit runs on API threads, fetch on the follower's thread; each
 * request has its own curl handle, and cancel only sets a flag that the waits read.
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "node/log.h"
#include "node/node_int.h"
#include <sodium.h>

#include "slaledger/oracle.h"

#define POLL_MS    25
#define REQUEST_MS 10000

struct sl__upstream {
    sl__node *node;
    char channel[SL_IDENT_NAME_CAP];
    char audience[2 * SL_IDENT_NAME_CAP + 2]; /* the orderer node: "org/name" */
    char *url;                                /* its API base, without a trailing slash */
    atomic_int cancelled;
    int failing; /* the last fetch failed (logged once, until one succeeds); fetch's thread */
};

/* The fetch's own deadline: monotonic, so a wall-clock step neither ends nor stretches it. */
static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A request to path on the orderer, authenticated as this node. */
static int request(sl__upstream *p, const char *method, const char *path, sl_http_req *req,
                   sl_error *err)
{
    sl_buf url, token;
    sl_buf_init(&url);
    sl_buf_init(&token);
    sl_buf_printf(&url, "%s%s", p->url, path);
    int rc = url.err;
    if (!rc)
        rc = sl_node_token_make(p->node->identity.key, &p->node->identity.cert, p->audience,
                                sl__node_wall_ms(), &token);
    if (!rc)
        rc = sl_http_req_set(req, method, (const char *)url.p);
    if (!rc)
        rc = sl_http_req_header(req, "Authorization: Bearer %.*s", (int)token.len,
                                (const char *)token.p);
    req->timeout_ms = REQUEST_MS;
    sl_buf_release(&url);
    sodium_memzero(token.p, token.cap);
    sl_buf_release(&token);
    return rc ? sl_error_set(err, rc, NULL, "out of memory") : 0;
}

/* The orderer's answer as an error: its own {"error": {...}} when it sent one. */
static int answer_error(const sl__upstream *p, const sl_http_resp *resp, sl_error *err)
{
    if (resp->failed)
        return sl_error_set(err, SL_EIO, "orderer", "the orderer %s at %s cannot be reached: %s",
                            p->audience, p->url, resp->error);
    json_t *j = json_loadb((const char *)resp->body.p, resp->body.len, 0, NULL);
    json_t *e = json_object_get(j, "error");
    const char *code = json_string_value(json_object_get(e, "code"));
    const char *msg = json_string_value(json_object_get(e, "message"));
    const char *field = json_string_value(json_object_get(e, "field"));
    int rc = sl_error_set(err, sl_error_from_token(code), field ? field : "orderer",
                          "the orderer %s answered %ld: %s", p->audience, resp->status,
                          msg ? msg : "no reason given");
    json_decref(j);
    return rc;
}

static int upstream_submit(void *arg, const uint8_t *tx, size_t len, sl_error *err)
{
    sl__upstream *p = arg;
    sl_http_req req;
    sl_http_resp resp;
    char path[64 + SL_IDENT_NAME_CAP];
    sl_http_req_init(&req);
    sl_http_resp_init(&resp);
    sl_strfmt(path, sizeof(path), "/v1/channels/%s/transactions", p->channel);
    int rc = request(p, "POST", path, &req, err);
    if (!rc && sl_http_req_header(&req, "Content-Type: application/octet-stream"))
        rc = sl_error_set(err, SL_ENOMEM, NULL, "out of memory");
    if (!rc) {
        sl_buf_put(&req.body, tx, len);
        if (req.body.err)
            rc = sl_error_set(err, SL_ENOMEM, NULL, "out of memory");
    }
    if (!rc && (sl_http_perform(&req, &resp) != 0 || resp.status != 202))
        rc = answer_error(p, &resp, err);
    sl_http_req_release(&req);
    sl_http_resp_release(&resp);
    return rc;
}

/* Sleeps ms unless cancelled; returns whether it was. */
static int pause_unless_cancelled(sl__upstream *p, int64_t ms)
{
    for (int64_t slept = 0; slept < ms && !atomic_load(&p->cancelled); slept += 5)
        nanosleep(&(struct timespec){0, 5 * 1000000}, NULL);
    return atomic_load(&p->cancelled);
}

/* Logs the first failure of a run of failed fetches and the first success after one. */
static int note(sl__upstream *p, int rc, const sl_error *err)
{
    int failed = rc != 0 && rc != SL_ENOENT;
    if (failed == p->failing)
        return rc;
    p->failing = failed;
    sl__log_field f[] = {SL__LOG_S("channel", p->channel), SL__LOG_S("orderer", p->audience),
                         SL__LOG_S("url", p->url), SL__LOG_S("error", failed ? err->msg : "")};
    if (failed)
        sl__log_write(p->node->log, SL_NODE_LOG_WARN, "cannot fetch blocks from the orderer", f, 4);
    else
        sl__log_write(p->node->log, SL_NODE_LOG_INFO, "fetching blocks from the orderer again", f,
                      3);
    return rc;
}

static int upstream_fetch(void *arg, uint64_t height, int64_t wait_ms, sl_buf *out, sl_error *err)
{
    sl__upstream *p = arg;
    char path[96 + SL_IDENT_NAME_CAP];
    int64_t until = mono_ms() + wait_ms;
    sl_strfmt(path, sizeof(path), "/v1/channels/%s/blocks/%llu/raw", p->channel,
              (unsigned long long)height);
    for (;;) {
        sl_http_req req;
        sl_http_resp resp;
        sl_http_req_init(&req);
        sl_http_resp_init(&resp);
        int rc = request(p, "GET", path, &req, err);
        if (!rc && sl_http_perform(&req, &resp) != 0)
            rc = answer_error(p, &resp, err);
        else if (!rc && resp.status == 200) {
            sl_buf_put(out, resp.body.p, resp.body.len);
            rc = out->err ? sl_error_set(err, SL_ENOMEM, NULL, "out of memory") : 0;
        } else if (!rc)
            rc = answer_error(p, &resp, err);
        sl_http_req_release(&req);
        sl_http_resp_release(&resp);
        /* An unknown channel is 404 too: the orderer does not serve it to this node. */
        if (rc == SL_ENOENT && strcmp(err->field, "height") != 0)
            rc = SL_EPERM;
        if (rc != SL_ENOENT || mono_ms() + POLL_MS > until || pause_unless_cancelled(p, POLL_MS))
            return note(p, rc, err);
    }
}

static void upstream_cancel(void *arg)
{
    sl__upstream *p = arg;
    atomic_store(&p->cancelled, 1);
}

int sl__upstream_new(sl__node *n, const char *channel, const sl_channel_spec *spec, const char *url,
                     sl__upstream **out, sl_order_remote *remote, sl_error *err)
{
    *out = NULL;
    sl__upstream *p = calloc(1, sizeof(*p));
    if (!p || !(p->url = strdup(url))) {
        free(p);
        return sl_error_set(err, SL_ENOMEM, NULL, "out of memory");
    }
    size_t len = strlen(p->url);
    while (len > 0 && p->url[len - 1] == '/')
        p->url[--len] = '\0';
    p->node = n;
    sl_strfmt(p->channel, sizeof(p->channel), "%s", channel);
    sl_strfmt(p->audience, sizeof(p->audience), "%s/%s", spec->orderer_org, spec->orderer_name);
    atomic_init(&p->cancelled, 0);
    *remote = (sl_order_remote){upstream_submit, upstream_fetch, upstream_cancel, p};
    *out = p;
    return 0;
}

void sl__upstream_free(sl__upstream *p)
{
    if (!p)
        return;
    free(p->url);
    free(p);
}
