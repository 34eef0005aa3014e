/*
 * http_int.h: private structures of the HTTP layer, shared by http.c (daemon, auth, responses),
 * route.c (the route table), metrics.c (the Prometheus registry) and sse.c (server-sent event
 * streams).
 *
 * Ownership: an sl_http owns its routes, its metrics registry and its stream list; streams are
 * owned by libmicrohttpd's responses and unlink themselves when MHD frees them. The route table
 * is written before sl_http_start only and read-only afterwards, so request threads read it
 * without a lock. The registry and the stream list each have their own mutex.
 */
#ifndef SL_NODE_HTTP_INT_H
#define SL_NODE_HTTP_INT_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "node/http.h"

struct MHD_Daemon;
struct MHD_Connection;
struct MHD_Response;

/* ---- routes ---- */

/** One segment of a route pattern: a literal, or a {name} parameter. */
typedef struct sl__seg {
    const char *s; /* points into the route's pattern copy; not NUL-terminated */
    size_t len;
    int param;
} sl__seg;

/** A compiled pattern: "/" has one empty literal segment; "/a/{b}" has "a" and {b}. */
typedef struct sl__pattern {
    char *text; /* owned copy of the pattern */
    sl__seg *segs;
    size_t n_segs;
    size_t n_params;
} sl__pattern;

/** Parses pattern into p (owned; sl__pattern_release). SL_EINVAL for a pattern that does not
 * start with '/', has a malformed or empty {name}, or more than SL_HTTP_MAX_PARAMS params. */
int sl__pattern_compile(sl__pattern *p, const char *pattern);
void sl__pattern_release(sl__pattern *p);

/**
 * Matches path (len bytes, need not be NUL-terminated) against p. On a match returns 1 and
 * fills off[i] / len[i] with the position of the i-th parameter value inside path; 0 otherwise.
 */
int sl__pattern_match(const sl__pattern *p, const char *path, size_t path_len,
                      size_t off[SL_HTTP_MAX_PARAMS], size_t len[SL_HTTP_MAX_PARAMS]);

typedef struct sl__route {
    char method[16];
    sl__pattern pat;
    unsigned flags;
    int sse;
    sl_route_fn fn;
    void *ctx;
    char *label; /* `route="<pattern>"`, escaped for the exposition format */
} sl__route;

/**
 * Finds the route for method and path: 0 with *route set and off/len giving each parameter's
 * place in path, 404 when no pattern matches, or 405 when only other methods do (allow then
 * lists them, comma-separated, within cap). HEAD matches a GET route and is allowed wherever
 * GET is. The route is borrowed from h's table.
 */
int sl__route_find(const sl_http *h, const char *path, const char *method, const sl__route **route,
                   size_t off[SL_HTTP_MAX_PARAMS], size_t len[SL_HTTP_MAX_PARAMS], char *allow,
                   size_t cap);

/* ---- metrics ---- */

typedef struct sl__family sl__family;
typedef struct sl__series sl__series;

typedef struct sl__metrics {
    pthread_mutex_t mu;
    sl__family *fam;
    size_t n_fam, cap_fam;
    sl__series **series; /* insertion order */
    size_t n_series, cap_series;
    uint32_t *slots; /* open addressing: index + 1 into series, 0 = empty */
    size_t n_slots;  /* power of two, at least twice n_series */
} sl__metrics;

int sl__metrics_init(sl__metrics *m);
void sl__metrics_release(sl__metrics *m);
/** `name="value"` with value escaped for the exposition format (\\, \", \n); caller frees.
 * NULL when out of memory. */
char *sl__metrics_label(const char *name, const char *value);
/** Records one answered request: the requests counter and the latency histogram. */
void sl__metrics_request(sl__metrics *m, const char *route_label, const char *method, int status,
                         uint64_t ns);

/* ---- server-sent events ---- */

typedef struct sl__stream sl__stream;

typedef struct sl__sse {
    pthread_mutex_t mu;
    pthread_cond_t wake;    /* heartbeat thread: closing or interval elapsed */
    pthread_cond_t drained; /* a stream was freed */
    sl__stream *head;
    size_t n;
    uint64_t dropped; /* streams dropped for overflowing their queue */
    int closing;
    int thread_started;
    pthread_t thread;
} sl__sse;

/** Heartbeat interval and per-stream queue bound; tests lower them. */
extern unsigned sl__http_heartbeat_ms;
extern size_t sl__http_sse_queue_max;

int sl__sse_init(sl__sse *s);
/** Starts the heartbeat thread. */
int sl__sse_start(sl_http *h);
/** Ends every stream and joins the heartbeat thread; waits a moment (bounded) for the streams
 * to send what is queued and their last chunk. Call before MHD_stop_daemon, which must not see
 * suspended connections. */
void sl__sse_stop(sl_http *h);
void sl__sse_release(sl__sse *s);
/** Creates the endless response of a new stream for conn; NULL when closing or out of memory.
 * The caller queues it and drops its reference. */
struct MHD_Response *sl__sse_open(sl_http *h, struct MHD_Connection *conn, const sl_caller *caller);
/** Open streams right now. */
size_t sl__sse_count(sl_http *h);

/* ---- the server ---- */

struct sl_http {
    sl_http_settings set;
    sl_auth_fn auth;
    void *auth_ctx;
    sl__route *routes;
    size_t n_routes, cap_routes;
    struct MHD_Daemon *d;
    sl__metrics metrics;
    sl__sse sse;
    pthread_mutex_t log_mu; /* guards log */
    char log[160];          /* libmicrohttpd's last message, for start errors */
};

#endif
