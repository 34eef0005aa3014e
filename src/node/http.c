/*
 * http.c: the node's HTTP server over libmicrohttpd: bearer-token authentication, request bodies
 * with a size limit, one JSON error shape, and the daemon's lifecycle. The route table lives in
 * route.c, metrics in metrics.c, server-sent events in sse.c.
 *
 * Threading model: an epoll thread pool (MHD_USE_EPOLL_INTERNAL_THREAD with
 * MHD_OPTION_THREAD_POOL_SIZE), so thousands of idle keep-alive connections cost no threads and
 * handlers run concurrently on the pool. SSE streams never block a pool thread: when a stream
 * has nothing to send its connection is suspended, and a broadcast resumes it (sse.c), which is
 * why the daemon is started with MHD_ALLOW_SUSPEND_RESUME. A connection belongs to one pool
 * thread, so a handler that blocks delays the other connections of its thread: keep them short.
 *
 * A request is handled in three phases of MHD's access callback: headers (route, auth and
 * Content-Length are checked, so 404/405/401/413, and 403 for a node on a route for users, go
 * out before any body is read), body chunks (accumulated up to max_body, the rest discarded),
 * and the final call (the handler runs).
 * The per-request state (req_ctx) is freed by MHD's request-completed callback. Requests MHD
 * itself rejects as malformed (400, 413 chunk size, 414, 431, 505) get its own short HTML
 * answer without Content-Type: libmicrohttpd 0.9.75 offers no hook for those.
 *
 * Ownership: sl_http owns everything it allocates; handlers borrow sl_req's strings until they
 * return and hand sl_resp.body's storage to the server. Thread-safety: routes are added before
 * sl_http_start and read-only afterwards; everything else is locked where it is shared.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <microhttpd.h>
#include <sodium.h>

#include "node/http_int.h"
#include "slaledger/ident.h"
#include "slaledger/sla.h"

#define DEFAULT_MAX_BODY  (1024 * 1024)
#define DEFAULT_TIMEOUT_S 30
#define DEFAULT_MAX_CONNS 1000
/* A client address may hold this many connections, so that 16 addresses are needed to fill
 * the server and one flooding address leaves the rest to everyone else. */
#define DEFAULT_PER_CLIENT 64
/* A new connection must send its request's headers without pausing this long. */
#define DEFAULT_HEADER_TIMEOUT_S 10
#define MAX_THREADS              256
#define MAX_TOKEN                1024 /* with its NUL: a shared token or a node credential */
#define UNMATCHED_LABEL          "route=\"(unmatched)\""
#define JSON_TYPE                "application/json"

_Static_assert(MAX_TOKEN > SL_NODE_TOKEN_MAX, "a node credential must fit MAX_TOKEN");

/* Past max_body a chunked upload is discarded rather than stored; after this much more the
 * connection is simply closed, so an endless upload cannot occupy a thread forever. */
#define DISCARD_LIMIT (16u * 1024 * 1024)

/* Per-request state, from the headers to MHD's request-completed callback. */
typedef struct req_ctx {
    const sl__route *route;
    sl_caller caller;
    sl_buf body;
    uint64_t discarded;
    int too_large;
    char *pbuf; /* copy of the path holding the NUL-terminated parameter values */
    size_t n_params;
    const char *params[SL_HTTP_MAX_PARAMS];
    uint64_t t0_ns;
} req_ctx;

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ---- errors and responses ---- */

int sl_http_status_of(int code)
{
    switch (code) {
    case SL_EINVAL:
    case SL_EPARSE:
        return 400;
    case SL_EAUTH:
        return 401;
    case SL_EPERM:
        return 403;
    case SL_ENOENT:
        return 404;
    case SL_EEXIST:
    case SL_EDUP:
    case SL_ESTATE:
    case SL_EFUNDS:
        return 409;
    case SL_ETIME:
        return 422;
    case SL_EBUSY:
    case SL_ENOMEM:
        return 503;
    default:
        return 500;
    }
}

/* A JSON string of s; bytes that are not valid UTF-8 become '?' rather than losing the text. */
static json_t *json_text(const char *s)
{
    json_t *j = json_string(s);
    if (j)
        return j;
    char *copy = sl_strdup(s);
    if (!copy)
        return NULL;
    for (char *c = copy; *c; c++) {
        if ((unsigned char)*c >= 0x80)
            *c = '?';
    }
    j = json_string(copy);
    free(copy);
    return j;
}

/* Replaces b's content with {"error":{"code":..,"message":..,"field":..}} and a newline. */
static void error_json(sl_buf *b, int code, const char *field, const char *msg)
{
    json_t *e = json_object(), *o = json_object();
    char *s = NULL;

    if (!e || !o)
        goto out;
    json_object_set_new(e, "code", json_string(sl_error_token(code)));
    json_object_set_new(e, "message", json_text(msg));
    if (field)
        json_object_set_new(e, "field", json_text(field));
    json_object_set_new(o, "error", e);
    e = NULL;
    s = json_dumps(o, JSON_COMPACT);
out:
    sl_buf_reset(b);
    if (s)
        sl_buf_put(b, s, strlen(s));
    else
        sl_buf_printf(b, "{\"error\":{\"code\":\"ENOMEM\",\"message\":\"out of memory\"}}");
    sl_buf_put(b, "\n", 1);
    free(s);
    json_decref(e);
    json_decref(o);
}

int sl_http_error(sl_resp *resp, int status, int code, const char *field, const char *fmt, ...)
{
    char msg[256];
    va_list ap;

    if (fmt) {
        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
    } else {
        sl_strfmt(msg, sizeof(msg), "%s", sl_strerror(code));
    }
    resp->status = status > 0 ? status : sl_http_status_of(code);
    resp->content_type = NULL;
    error_json(&resp->body, code, field, msg);
    return 0;
}

static const char *metric_method(const char *m)
{
    static const char *const known[] = {"GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"};
    for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
        if (strcmp(m, known[i]) == 0)
            return known[i];
    }
    return "OTHER";
}

static void observe(sl_http *h, const req_ctx *x, const char *method, int status)
{
    const char *label = x && x->route ? x->route->label : UNMATCHED_LABEL;
    const char *m = x && x->route ? x->route->method : metric_method(method);
    uint64_t ns = x ? now_ns() - x->t0_ns : 0;
    sl__metrics_request(&h->metrics, label, m, status, ns);
    if (h->set.on_request) {
        sl_caller nobody = {0};
        sl_http_request_info info = {method, x && x->route ? x->route->pat.text : NULL, status, ns,
                                     x ? &x->caller : &nobody};
        h->set.on_request(h->set.on_request_ctx, &info);
    }
}

/* Queues body (whose storage MHD takes over) with status, Content-Type and one optional
 * extra header. Counted in the metrics first, so a client that has its answer sees it. */
static enum MHD_Result send_body(sl_http *h, struct MHD_Connection *c, const req_ctx *x,
                                 const char *method, int status, sl_buf *body, const char *ctype,
                                 const char *hname, const char *hvalue)
{
    struct MHD_Response *r;
    enum MHD_Result ret;

    observe(h, x, method, status);
    r = MHD_create_response_from_buffer(body->len, body->p, MHD_RESPMEM_MUST_FREE);
    if (!r) {
        sl_buf_release(body);
        return MHD_NO;
    }
    sl_buf_init(body); /* MHD frees the storage now */
    if (MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, ctype) != MHD_YES ||
        (hname && MHD_add_response_header(r, hname, hvalue) != MHD_YES)) {
        MHD_destroy_response(r);
        return MHD_NO;
    }
    ret = MHD_queue_response(c, (unsigned)status, r);
    MHD_destroy_response(r);
    return ret;
}

/* Sends the JSON error for code with an optional extra header; the message is printf-style. */
static enum MHD_Result send_error(sl_http *h, struct MHD_Connection *c, const req_ctx *x,
                                  const char *method, int status, int code, const char *hname,
                                  const char *hvalue, const char *fmt, ...)
    __attribute__((format(printf, 9, 10)));

static enum MHD_Result send_error(sl_http *h, struct MHD_Connection *c, const req_ctx *x,
                                  const char *method, int status, int code, const char *hname,
                                  const char *hvalue, const char *fmt, ...)
{
    char msg[256];
    sl_buf b;
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    sl_buf_init(&b);
    error_json(&b, code, NULL, msg);
    if (b.err) {
        sl_buf_release(&b);
        return MHD_NO;
    }
    return send_body(h, c, x, method, status, &b, JSON_TYPE, hname, hvalue);
}

/* ---- routing and authentication ---- */

/* Finds the route for method and url: 0 (x->route, x->params set), 404, or 405 (allow set). */
static int route_find(sl_http *h, const char *url, const char *method, req_ctx *x, char *allow,
                      size_t cap)
{
    size_t off[SL_HTTP_MAX_PARAMS], len[SL_HTTP_MAX_PARAMS];
    const sl__route *r;
    int rc = sl__route_find(h, url, method, &r, off, len, allow, cap);

    if (rc != 0)
        return rc;
    x->route = r;
    x->pbuf = sl_strdup(url);
    if (!x->pbuf)
        return SL_ENOMEM;
    for (size_t k = 0; k < r->pat.n_params; k++) {
        x->pbuf[off[k] + len[k]] = '\0';
        x->params[k] = x->pbuf + off[k];
    }
    x->n_params = r->pat.n_params;
    return 0;
}

/* Copies the token of "Bearer <token>" into out: 0, or -1 for another scheme or a bad token. */
static int bearer_token(const char *v, char *out, size_t cap)
{
    size_t n;

    v += strspn(v, " \t");
    if (strncasecmp(v, "Bearer", 6) != 0 || (v[6] != ' ' && v[6] != '\t'))
        return -1;
    v += 6;
    v += strspn(v, " \t");
    n = strlen(v);
    while (n > 0 && (v[n - 1] == ' ' || v[n - 1] == '\t'))
        n--;
    if (n == 0 || n >= cap)
        return -1;
    for (size_t i = 0; i < n; i++) {
        if ((unsigned char)v[i] <= 0x20 || (unsigned char)v[i] >= 0x7f)
            return -1;
    }
    memcpy(out, v, n);
    out[n] = '\0';
    return 0;
}

/* Fills x->caller from the Authorization header. Returns 1 when the request may proceed: the
 * caller is authenticated, or the route is public (where a missing or unknown token is no error
 * and the handler sees an unauthenticated caller). */
static int authenticate(sl_http *h, struct MHD_Connection *c, req_ctx *x)
{
    const char *v = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
    char tok[MAX_TOKEN];
    sl_caller who;

    memset(&x->caller, 0, sizeof(x->caller));
    if (v && h->auth && bearer_token(v, tok, sizeof(tok)) == 0) {
        memset(&who, 0, sizeof(who));
        if (h->auth(h->auth_ctx, tok, &who) == 1) {
            who.authenticated = 1;
            who.user[sizeof(who.user) - 1] = '\0';
            who.org[sizeof(who.org) - 1] = '\0';
            x->caller = who;
        }
        sodium_memzero(tok, sizeof(tok));
    }
    return x->caller.authenticated || (x->route->flags & SL_ROUTE_PUBLIC);
}

/* 1 when the caller is a node and the route is for users: a node acts and reads for no user,
 * so it may call only the routes made for nodes (and the public ones). */
static int node_refused(const req_ctx *x)
{
    return x->caller.authenticated && x->caller.role == SL_ROLE_NODE &&
           !(x->route->flags & (SL_ROUTE_PUBLIC | SL_ROUTE_NODES));
}

/* 1 when the request announces a body longer than max_body. */
static int body_too_long(sl_http *h, struct MHD_Connection *c)
{
    const char *v = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    uint64_t n = 0;

    if (!v)
        return 0;
    for (; *v >= '0' && *v <= '9'; v++) {
        if (n > (UINT64_MAX - 9) / 10)
            return 1;
        n = n * 10 + (uint64_t)(*v - '0');
    }
    return n > h->set.max_body;
}

/* ---- the access handler ---- */

static enum MHD_Result open_stream(sl_http *h, struct MHD_Connection *c, req_ctx *x,
                                   const char *method)
{
    struct MHD_Response *r = sl__sse_open(h, c, &x->caller);
    enum MHD_Result ret;

    if (!r)
        return send_error(h, c, x, method, 503, SL_EBUSY, NULL, NULL, "%s",
                          "the server is shutting down or out of memory");
    observe(h, x, method, 200);
    ret = MHD_queue_response(c, MHD_HTTP_OK, r);
    MHD_destroy_response(r); /* frees the stream too if queueing failed */
    return ret;
}

/* Headers are in: route, authenticate, check the announced length. */
static enum MHD_Result on_headers(sl_http *h, struct MHD_Connection *c, const char *url,
                                  const char *method, void **con_cls)
{
    req_ctx *x = calloc(1, sizeof(*x));
    char allow[96], shown[128];
    int rc;

    if (!x)
        return MHD_NO;
    *con_cls = x;
    /* The headers are in: from now on the connection may idle as long as any (the daemon's
     * default is the shorter header timeout). */
    MHD_set_connection_option(c, MHD_CONNECTION_OPTION_TIMEOUT, h->set.timeout_s);
    x->t0_ns = now_ns();
    sl_buf_init(&x->body);
    sl_strfmt(shown, sizeof(shown), "%s", url);
    rc = route_find(h, url, method, x, allow, sizeof(allow));
    if (rc == 404)
        return send_error(h, c, x, method, 404, SL_ENOENT, NULL, NULL, "no route for %s", shown);
    if (rc == 405)
        return send_error(h, c, x, method, 405, SL_EINVAL, MHD_HTTP_HEADER_ALLOW, allow,
                          "method %.16s is not allowed for %s", method, shown);
    if (rc != 0)
        return MHD_NO;
    if (!authenticate(h, c, x))
        return send_error(h, c, x, method, 401, SL_EAUTH, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
                          "Bearer", "%s", "a valid bearer token is required");
    if (node_refused(x))
        return send_error(h, c, x, method, 403, SL_EPERM, NULL, NULL,
                          "%s/%s is a node, not a user: a node may call only the routes for "
                          "member nodes",
                          x->caller.org, x->caller.user);
    if (body_too_long(h, c))
        return send_error(h, c, x, method, 413, SL_EINVAL, NULL, NULL,
                          "the request body exceeds %zu bytes", h->set.max_body);
    if (x->route->sse && strcmp(method, "HEAD") == 0)
        return send_body(h, c, x, method, 200, &x->body, "text/event-stream", NULL, NULL);
    if (x->route->sse)
        return open_stream(h, c, x, method);
    return MHD_YES;
}

/* A chunk of the body: keep it while within max_body, else count and discard it. */
static enum MHD_Result on_chunk(sl_http *h, req_ctx *x, const char *data, size_t *size)
{
    size_t n = *size;

    *size = 0;
    if (!x->too_large && n <= h->set.max_body - x->body.len) {
        sl_buf_put(&x->body, data, n);
        return MHD_YES;
    }
    x->too_large = 1;
    x->discarded += n;
    sl_buf_release(&x->body);
    return x->discarded > DISCARD_LIMIT ? MHD_NO : MHD_YES;
}

/* Fills the handler's resp defaults and makes a JSON body end with a newline. */
static void resp_finish(sl_resp *resp)
{
    if (resp->status < 100 || resp->status > 599)
        resp->status = 200;
    if (!resp->content_type)
        resp->content_type = JSON_TYPE;
    if (strncmp(resp->content_type, JSON_TYPE, strlen(JSON_TYPE)) == 0 && resp->body.len > 0 &&
        resp->body.p[resp->body.len - 1] != '\n')
        sl_buf_put(&resp->body, "\n", 1);
}

/* The whole request is in: run the handler. */
static enum MHD_Result on_complete(sl_http *h, struct MHD_Connection *c, req_ctx *x,
                                   const char *url, const char *method)
{
    sl_req req;
    sl_resp resp;
    int rc;

    if (x->too_large)
        return send_error(h, c, x, method, 413, SL_EINVAL, NULL, NULL,
                          "the request body exceeds %zu bytes", h->set.max_body);
    memset(&req, 0, sizeof(req));
    req.body = x->body.len ? (const uint8_t *)sl_buf_cstr(&x->body) : (const uint8_t *)"";
    if (x->body.err || !req.body)
        return send_error(h, c, x, method, 503, SL_ENOMEM, NULL, NULL, "%s", "out of memory");
    req.body_len = x->body.len;
    req.method = method;
    req.path = url;
    memcpy(req.params, x->params, sizeof(req.params));
    req.n_params = x->n_params;
    req.caller = x->caller;
    req.conn = c;
    memset(&resp, 0, sizeof(resp));
    sl_buf_init(&resp.body);
    rc = x->route->fn(x->route->ctx, &req, &resp);
    if (rc == 0 && resp.body.err)
        rc = SL_ENOMEM;
    if (rc != 0)
        sl_http_error(&resp, 0, rc, NULL, "%s", sl_strerror(rc));
    resp_finish(&resp);
    if (resp.body.err) {
        sl_buf_release(&resp.body);
        return MHD_NO; /* out of memory even for the error: close the connection */
    }
    return send_body(h, c, x, method, resp.status, &resp.body, resp.content_type, resp.header_name,
                     resp.header_value);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *data,
                                  size_t *size, void **con_cls)
{
    sl_http *h = cls;
    req_ctx *x = *con_cls;

    (void)version;
    if (!x)
        return on_headers(h, c, url, method, con_cls);
    if (*size != 0)
        return on_chunk(h, x, data, size);
    return on_complete(h, c, x, url, method);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    req_ctx *x = *con_cls;

    (void)cls;
    (void)c;
    (void)toe;
    if (!x)
        return;
    sl_buf_release(&x->body);
    free(x->pbuf);
    free(x);
    *con_cls = NULL;
}

static void on_log(void *cls, const char *fmt, va_list ap)
{
    sl_http *h = cls;

    pthread_mutex_lock(&h->log_mu);
    vsnprintf(h->log, sizeof(h->log), fmt, ap);
    h->log[strcspn(h->log, "\r\n")] = '\0';
    pthread_mutex_unlock(&h->log_mu);
}

const char *sl_http_query(const sl_req *r, const char *key)
{
    const char *v = NULL;
    size_t n = 0;

    if (!r || !r->conn || !key)
        return NULL;
    if (MHD_lookup_connection_value_n(r->conn, MHD_GET_ARGUMENT_KIND, key, strlen(key), &v, &n) !=
        MHD_YES)
        return NULL;
    return v ? v : "";
}

/* ---- lifecycle ---- */

static unsigned online_cpus(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : n > MAX_THREADS ? MAX_THREADS : (unsigned)n;
}

static void settings_apply(sl_http_settings *out, const sl_http_settings *in)
{
    memset(out, 0, sizeof(*out));
    if (in)
        *out = *in;
    if (!out->max_body)
        out->max_body = DEFAULT_MAX_BODY;
    if (!out->timeout_s)
        out->timeout_s = DEFAULT_TIMEOUT_S;
    if (!out->threads)
        out->threads = online_cpus();
    if (out->threads > MAX_THREADS)
        out->threads = MAX_THREADS;
    if (!out->max_connections)
        out->max_connections = DEFAULT_MAX_CONNS;
    if (!out->max_per_client)
        out->max_per_client = DEFAULT_PER_CLIENT;
    if (out->max_per_client > out->max_connections)
        out->max_per_client = out->max_connections;
    if (!out->header_timeout_s)
        out->header_timeout_s = DEFAULT_HEADER_TIMEOUT_S;
    if (out->header_timeout_s > out->timeout_s)
        out->header_timeout_s = out->timeout_s;
    /* MHD splits the connection limit over its workers: each needs at least one. */
    if (out->threads > out->max_connections)
        out->threads = out->max_connections;
}

int sl_http_new(const sl_http_settings *s, sl_auth_fn auth, void *auth_ctx, sl_http **out,
                sl_error *err)
{
    sl_http *h = NULL;
    int rc = SL_ENOMEM, inited = 0;

    *out = NULL;
    h = calloc(1, sizeof(*h));
    if (!h)
        goto out;
    settings_apply(&h->set, s);
    h->auth = auth;
    h->auth_ctx = auth_ctx;
    if (pthread_mutex_init(&h->log_mu, NULL) != 0)
        goto out;
    inited = 1;
    if (sl__metrics_init(&h->metrics) != 0)
        goto out;
    inited = 2;
    if (sl__sse_init(&h->sse) != 0)
        goto out;
    *out = h;
    return 0;
out:
    if (inited >= 2)
        sl__metrics_release(&h->metrics);
    if (inited >= 1)
        pthread_mutex_destroy(&h->log_mu);
    free(h);
    return sl_error_set(err, rc, NULL, "cannot create the HTTP server: out of memory");
}

/* Parses addr:port into ss; *v6 tells the family. */
static int addr_parse(const char *addr, uint16_t port, struct sockaddr_storage *ss, int *v6)
{
    struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;

    memset(ss, 0, sizeof(*ss));
    *v6 = 0;
    if (addr && inet_pton(AF_INET, addr, &a4->sin_addr) == 1) {
        a4->sin_family = AF_INET;
        a4->sin_port = htons(port);
        return 0;
    }
    if (addr && inet_pton(AF_INET6, addr, &a6->sin6_addr) == 1) {
        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons(port);
        *v6 = 1;
        return 0;
    }
    return SL_EINVAL;
}

static int hex_val(char c)
{
    return c >= '0' && c <= '9'   ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                  : -1;
}

/* Percent-decoding of paths and query values, in place, except that %00 stays as written: a
 * NUL would end the string early, so "/v1/agreements/web%00junk" would act on "web". */
static size_t unescape(void *cls, struct MHD_Connection *c, char *s)
{
    (void)cls;
    (void)c;
    size_t w = 0;
    for (size_t r = 0; s[r]; r++) {
        int hi = s[r] == '%' ? hex_val(s[r + 1]) : -1;
        int lo = hi >= 0 ? hex_val(s[r + 2]) : -1;
        if (lo >= 0 && (hi | lo) != 0) {
            s[w++] = (char)(hi << 4 | lo);
            r += 2;
        } else {
            s[w++] = s[r];
        }
    }
    s[w] = '\0';
    return w;
}

/* Connection limits against slow or flooding clients (slowloris): a connection starts with the
 * short header timeout, raised to the idle timeout once its headers are in (on_headers), and
 * one client address may hold max_per_client of the max_connections, so a flood from one
 * address leaves the rest to health checks and authenticated clients. libmicrohttpd closes a
 * connection over the per-address limit at once. Its timeouts count idle time, not time since
 * the connection opened: a client trickling a byte now and then keeps its connection, but only
 * up to its address's limit. */
static struct MHD_Daemon *daemon_start(sl_http *h, struct sockaddr_storage *ss, int v6)
{
    unsigned flags = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
    /* The logger goes first so it also hears about the options that follow. A pool of one is
     * no pool: MHD then runs its single internal polling thread. */
    struct MHD_OptionItem opts[] = {
        {MHD_OPTION_EXTERNAL_LOGGER, (intptr_t)on_log, h},
        {MHD_OPTION_SOCK_ADDR, 0, ss},
        {MHD_OPTION_CONNECTION_TIMEOUT, (intptr_t)h->set.header_timeout_s, NULL},
        {MHD_OPTION_CONNECTION_LIMIT, (intptr_t)h->set.max_connections, NULL},
        {MHD_OPTION_PER_IP_CONNECTION_LIMIT, (intptr_t)h->set.max_per_client, NULL},
        {MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)on_completed, h},
        {MHD_OPTION_UNESCAPE_CALLBACK, (intptr_t)unescape, NULL},
        {h->set.threads > 1 ? MHD_OPTION_THREAD_POOL_SIZE : MHD_OPTION_END,
         (intptr_t)h->set.threads, NULL},
        {MHD_OPTION_END, 0, NULL},
    };

    if (v6)
        flags |= MHD_USE_IPv6;
    return MHD_start_daemon(flags, 0, NULL, NULL, on_request, h, MHD_OPTION_ARRAY, opts,
                            MHD_OPTION_END);
}

int sl_http_start(sl_http *h, const char *addr, uint16_t port, uint16_t *bound, sl_error *err)
{
    struct sockaddr_storage ss;
    const union MHD_DaemonInfo *info;
    int v6, rc;

    if (!h || h->d)
        return sl_error_set(err, SL_ESTATE, NULL, "the HTTP server is already started");
    if (addr_parse(addr, port, &ss, &v6) != 0)
        return sl_error_set(err, SL_EINVAL, "addr", "%s is not an IPv4 or IPv6 address",
                            addr ? addr : "(null)");
    rc = sl__sse_start(h);
    if (rc != 0)
        return sl_error_set(err, rc, NULL, "cannot start the event-stream heartbeat thread");
    h->d = daemon_start(h, &ss, v6);
    if (!h->d) {
        sl__sse_stop(h);
        pthread_mutex_lock(&h->log_mu);
        sl_error_set(err, SL_EIO, "addr", "cannot listen on %s port %u: %s", addr, (unsigned)port,
                     h->log[0] ? h->log : "libmicrohttpd refused to start");
        pthread_mutex_unlock(&h->log_mu);
        return SL_EIO;
    }
    info = MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_BIND_PORT);
    if (bound)
        *bound = info ? info->port : port;
    return 0;
}

void sl_http_free(sl_http *h)
{
    MHD_socket listen = MHD_INVALID_SOCKET;

    if (!h)
        return;
    /* Stop accepting, then end the streams: MHD_stop_daemon must not find suspended
     * connections. The quiesced listening socket is ours to close, after the threads are gone. */
    if (h->d)
        listen = MHD_quiesce_daemon(h->d);
    sl__sse_stop(h);
    if (h->d)
        MHD_stop_daemon(h->d);
    if (listen != MHD_INVALID_SOCKET)
        close(listen);
    for (size_t i = 0; i < h->n_routes; i++) {
        sl__pattern_release(&h->routes[i].pat);
        free(h->routes[i].label);
    }
    free(h->routes);
    sl__sse_release(&h->sse);
    sl__metrics_release(&h->metrics);
    pthread_mutex_destroy(&h->log_mu);
    free(h);
}
