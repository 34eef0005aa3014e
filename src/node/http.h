/*
 * http.h: the node's HTTP layer over libmicrohttpd: a route table with path parameters, JSON
 * errors of one shape, request limits, bearer-token authentication through a callback, a
 * Prometheus metrics registry, and server-sent events. It knows nothing of ledgers or
 * contracts: node.c registers routes whose handlers do that.
 *
 * Threading: libmicrohttpd runs a thread pool (internal polling); handlers run on its threads,
 * concurrently, and must be thread-safe. Everything here is.
 */
#ifndef SL_NODE_HTTP_H
#define SL_NODE_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "slaledger/error.h"
#include "slaledger/util.h"

#define SL_HTTP_MAX_PARAMS 4

/** Who is calling, as the authentication callback established. */
typedef struct sl_caller {
    int authenticated;   /* 0: no or unknown token */
    char user[64];       /* token's user name; a node's name (its certificate's subject) */
    char org[64];        /* organization the token is bound to */
    unsigned role;       /* one sl_role bit; SL_ROLE_NODE: a node, never a user (SL_ROUTE_NODES) */
    int node_credential; /* authenticated by a member node's signed credential, not a token
                            of the tokens file */
    uint8_t issuer_pk[32]; /* node_credential: the organization root key that certified it */
} sl_caller;

typedef struct sl_req {
    const char *method;                     /* "GET", "POST", "PUT", ... */
    const char *path;                       /* without the query string, percent-decoded */
    const char *params[SL_HTTP_MAX_PARAMS]; /* values of the pattern's {name} segments, in order */
    size_t n_params;
    const uint8_t *body; /* NUL-terminated for convenience; body_len excludes the NUL */
    size_t body_len;
    sl_caller caller;
    void *conn; /* the libmicrohttpd connection, for sl_http_query */
} sl_req;

/** The value of query argument key (percent-decoded), "" for a key given without a value, or
 * NULL. Borrowed until the handler returns. */
const char *sl_http_query(const sl_req *r, const char *key);

typedef struct sl_resp {
    int status;               /* default 200 */
    sl_buf body;              /* JSON unless content_type says otherwise */
    const char *content_type; /* default "application/json" */
    const char *header_name;  /* one more header to send (static strings), or NULL */
    const char *header_value;
} sl_resp;

/** Sets the one error shape {"error":{"code":"EINVAL","message":...,"field":...}} and status
 * (status <= 0: sl_http_status_of(code)); returns 0 so handlers can `return sl_http_error(...)`.
 * field may be NULL (then omitted). */
int sl_http_error(sl_resp *resp, int status, int code, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/** The HTTP status for an SL_E* code (EINVAL 400, EPARSE 400, EAUTH 401, EPERM 403, ENOENT 404,
 * EEXIST 409, EDUP 409, ESTATE 409, EFUNDS 409, ETIME 422, EBUSY 503, ENOMEM 503, others 500). */
int sl_http_status_of(int code);

/** A route handler. Returns 0 (resp filled) or an SL_E* code (turned into an error response
 * with sl_http_status_of). ctx is the route's registration argument. */
typedef int (*sl_route_fn)(void *ctx, sl_req *req, sl_resp *resp);

enum {
    SL_ROUTE_PUBLIC = 1 << 0, /* no token needed (health, metrics, openapi) */
    SL_ROUTE_NODES = 1 << 1,  /* callers with role node may call it: every other route that
                                 needs a token answers them 403, since a node is not a user */
};

/** One answered request, as told to sl_http_settings.on_request. Borrowed for the call. */
typedef struct sl_http_request_info {
    const char *method;      /* as the client sent it */
    const char *route;       /* the matched route's pattern, or NULL when none matched */
    int status;              /* the status sent */
    uint64_t ns;             /* from the headers' arrival to the answer */
    const sl_caller *caller; /* authenticated == 0 before or without authentication */
} sl_http_request_info;

/** Called once per answered request on the request's thread, where the metrics are counted;
 * must be thread-safe and quick. */
typedef void (*sl_http_request_cb)(void *ctx, const sl_http_request_info *info);

/** Server settings; zero fields take the defaults in brackets. */
typedef struct sl_http_settings {
    size_t max_body;               /* bytes [1 MiB] */
    unsigned timeout_s;            /* per connection idle timeout [30] */
    unsigned header_timeout_s;     /* idle timeout until a request's headers are in [10] */
    unsigned threads;              /* [online cpus] */
    unsigned max_connections;      /* [1000] */
    unsigned max_per_client;       /* connections per client address [64] */
    sl_http_request_cb on_request; /* told of every answered request [none] */
    void *on_request_ctx;          /* its first argument */
} sl_http_settings;

/** Authenticates a bearer token: fills *caller and returns 1, or 0 for an unknown token. */
typedef int (*sl_auth_fn)(void *ctx, const char *token, sl_caller *caller);

typedef struct sl_http sl_http;

int sl_http_new(const sl_http_settings *s, sl_auth_fn auth, void *auth_ctx, sl_http **out,
                sl_error *err) __attribute__((warn_unused_result));

/**
 * Adds a route: method and a pattern of literal segments and {name} segments
 * ("/v1/agreements/{name}"). Routes are matched in the order added. Before start only.
 */
int sl_http_route(sl_http *h, const char *method, const char *pattern, unsigned flags,
                  sl_route_fn fn, void *ctx);

/** The i-th route added: its method and pattern (borrowed), or 0 past the last. For checking
 * the route table against the API's description. */
int sl_http_route_at(const sl_http *h, size_t i, const char **method, const char **pattern);

/** Listens on addr:port (port 0: any free port; *bound receives the port). */
int sl_http_start(sl_http *h, const char *addr, uint16_t port, uint16_t *bound, sl_error *err)
    __attribute__((warn_unused_result));

/** Stops accepting, closes connections (SSE streams end), joins threads. Accepts NULL. */
void sl_http_free(sl_http *h);

/* ---- metrics (Prometheus text format at the route the node registers) ---- */

/** Adds v to counter `name` with labels (e.g. "route=\"/v1/agreements\",status=\"200\"" or
 * ""), creating it; help is used when the family is first seen. Thread-safe. */
void sl_http_count(sl_http *h, const char *name, const char *help, const char *labels, uint64_t v);
/** Sets counter `name` to total, a count kept elsewhere that never decreases. Thread-safe. */
void sl_http_count_set(sl_http *h, const char *name, const char *help, const char *labels,
                       uint64_t total);
/** Sets gauge `name`. */
void sl_http_gauge(sl_http *h, const char *name, const char *help, const char *labels, int64_t v);
/** Writes every metric in Prometheus text exposition format 0.0.4 (appended). The server
 * itself keeps slaledger_http_requests_total{route,method,status} and
 * slaledger_http_request_seconds (histogram by route). */
void sl_http_metrics(sl_http *h, sl_buf *out);

/* ---- server-sent events ---- */

/** Registers method GET at pattern as an SSE stream: clients get every event broadcast from
 * then on (flags as for sl_http_route), a comment line at once and every 15 s as heartbeat.
 * A slow client whose queue exceeds a limit (1 MiB) is dropped. */
int sl_http_sse_route(sl_http *h, const char *pattern, unsigned flags);

/** Who may see a broadcast event: callers of an organization in orgs, and callers with the
 * auditor role of an organization in auditors. Both are NULL-terminated lists, or NULL for
 * none; no role sees past them. */
typedef struct sl_http_audience {
    const char *const *orgs;
    const char *const *auditors;
} sl_http_audience;

/** Sends `event: name` with `data: json` (one line) to every open stream whose caller is in
 * the audience `to`, or to every stream when `to` is NULL. Thread-safe. */
void sl_http_broadcast(sl_http *h, const char *name, const char *json, const sl_http_audience *to);

#endif
