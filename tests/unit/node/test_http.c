/*
 * test_http.c: the node's HTTP layer against a real libmicrohttpd server on 127.0.0.1:0, driven
 * by libcurl and raw sockets. Routing and path parameters, the 404/405/401/413 answers, 403 for
 * a caller with role node on a route not for nodes, and the one JSON error shape (parsed with
 * jansson), the auth callback and the caller a handler sees, eight keep-alive clients at once, the
 * metrics text (counts rise by exactly the requests made, histogram buckets are cumulative),
 * server-sent events in order with org filtering, heartbeats and dropping of a client that does not
 * read, hostile input, and shutdown with requests and streams in flight.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>

#include <cmocka.h>
#include <curl/curl.h>
#include <errno.h>
#include <jansson.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "node/http.h"
#include "node/http_int.h"
#include "slaledger/ident.h"
#include "slaledger/sla.h"
#include "slaledger/wait.h"

/* ---- the server under test ---- */

typedef struct srv {
    sl_http *h;
    uint16_t port;
    char base[64];
} srv;

static atomic_int auth_calls;

static int auth_cb(void *ctx, const char *token, sl_caller *caller)
{
    static const struct {
        const char *tok, *user, *org;
        unsigned role;
    } known[] = {{"tok-univie", "alice", "univie", SL_ROLE_CONSUMER},
                 {"tok-aws", "bob", "aws", SL_ROLE_PROVIDER},
                 {"tok-audit", "carol", "audit", SL_ROLE_AUDITOR},
                 {"tok-node", "aws-node", "aws", SL_ROLE_NODE}};
    (void)ctx;
    atomic_fetch_add(&auth_calls, 1);
    /* A token as long as the longest node credential reaches the callback. */
    if (strlen(token) == SL_NODE_TOKEN_MAX && strspn(token, "n") == SL_NODE_TOKEN_MAX) {
        snprintf(caller->user, sizeof(caller->user), "long-node");
        snprintf(caller->org, sizeof(caller->org), "aws");
        caller->role = SL_ROLE_NODE;
        return 1;
    }
    for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
        if (strcmp(token, known[i].tok) == 0) {
            snprintf(caller->user, sizeof(caller->user), "%s", known[i].user);
            snprintf(caller->org, sizeof(caller->org), "%s", known[i].org);
            caller->role = known[i].role;
            return 1;
        }
    }
    return 0;
}

static void put_json(sl_resp *resp, json_t *o)
{
    char *s = json_dumps(o, JSON_COMPACT);
    assert_non_null(s);
    sl_buf_put(&resp->body, s, strlen(s));
    free(s);
    json_decref(o);
}

static int h_hello(void *ctx, sl_req *req, sl_resp *resp)
{
    (void)ctx;
    (void)req;
    sl_buf_printf(&resp->body, "{\"hello\":\"world\"}"); /* no newline: the server adds it */
    return 0;
}

/* Echoes everything the handler sees. */
static int h_echo(void *ctx, sl_req *req, sl_resp *resp)
{
    json_t *p = json_array();
    const char *q = sl_http_query(req, "q");
    (void)ctx;
    for (size_t i = 0; i < req->n_params; i++)
        json_array_append_new(p, json_string(req->params[i]));
    assert_int_equal(req->body[req->body_len], '\0');
    put_json(resp,
             json_pack("{s:s, s:s, s:o, s:s*, s:I, s:b, s:s, s:s, s:I}", "method", req->method,
                       "path", req->path, "params", p, "q", q, "len", (json_int_t)req->body_len,
                       "auth", req->caller.authenticated, "user", req->caller.user, "org",
                       req->caller.org, "role", (json_int_t)req->caller.role));
    return 0;
}

static int h_empty(void *ctx, sl_req *req, sl_resp *resp)
{
    (void)ctx;
    (void)req;
    resp->status = 204;
    return 0;
}

static int h_dup(void *ctx, sl_req *req, sl_resp *resp)
{
    (void)ctx;
    (void)req;
    sl_buf_printf(&resp->body, "partial"); /* replaced by the error */
    return SL_EDUP;
}

static int h_field(void *ctx, sl_req *req, sl_resp *resp)
{
    (void)ctx;
    (void)req;
    return sl_http_error(resp, 422, SL_EINVAL, "spec.fee", "amount %s is not a number", "x\"y");
}

static int h_text(void *ctx, sl_req *req, sl_resp *resp)
{
    (void)ctx;
    (void)req;
    resp->status = 201;
    resp->content_type = "text/plain";
    sl_buf_printf(&resp->body, "plain");
    return 0;
}

static atomic_int slow_in_flight;

static int h_slow(void *ctx, sl_req *req, sl_resp *resp)
{
    (void)ctx;
    (void)req;
    atomic_fetch_add(&slow_in_flight, 1);
    nanosleep(&(struct timespec){0, 200 * 1000000L}, NULL);
    sl_buf_printf(&resp->body, "{\"slow\":true}");
    atomic_fetch_sub(&slow_in_flight, 1);
    return 0;
}

static int h_metrics(void *ctx, sl_req *req, sl_resp *resp)
{
    (void)req;
    resp->content_type = "text/plain; version=0.0.4";
    sl_http_metrics(ctx, &resp->body);
    return 0;
}

static void srv_start(srv *s, const sl_http_settings *set)
{
    sl_error err = {0};
    assert_int_equal(sl_http_new(set, auth_cb, NULL, &s->h, &err), 0);
    sl_http *h = s->h;
    assert_int_equal(sl_http_route(h, "GET", "/", SL_ROUTE_PUBLIC, h_hello, NULL), 0);
    assert_int_equal(sl_http_route(h, "GET", "/health", SL_ROUTE_PUBLIC, h_echo, NULL), 0);
    assert_int_equal(sl_http_route(h, "GET", "/metrics", SL_ROUTE_PUBLIC, h_metrics, h), 0);
    assert_int_equal(sl_http_route(h, "GET", "/v1/hello", 0, h_hello, NULL), 0);
    assert_int_equal(sl_http_route(h, "GET", "/v1/items", 0, h_echo, NULL), 0);
    assert_int_equal(sl_http_route(h, "POST", "/v1/items", 0, h_echo, NULL), 0);
    assert_int_equal(sl_http_route(h, "GET", "/v1/items/{id}", 0, h_echo, NULL), 0);
    assert_int_equal(sl_http_route(h, "DELETE", "/v1/items/{id}", 0, h_echo, NULL), 0);
    assert_int_equal(sl_http_route(h, "GET", "/v1/items/new", 0, h_hello, NULL), 0);
    assert_int_equal(sl_http_route(h, "GET", "/v1/a/{x}/b/{y}", 0, h_echo, NULL), 0);
    assert_int_equal(sl_http_route(h, "GET", "/v1/{a}/{b}/{c}/{d}", 0, h_echo, NULL), 0);
    assert_int_equal(sl_http_route(h, "POST", "/v1/echo", 0, h_echo, NULL), 0);
    assert_int_equal(sl_http_route(h, "GET", "/v1/dup", 0, h_dup, NULL), 0);
    assert_int_equal(sl_http_route(h, "GET", "/v1/field", 0, h_field, NULL), 0);
    assert_int_equal(sl_http_route(h, "GET", "/v1/text", 0, h_text, NULL), 0);
    assert_int_equal(sl_http_route(h, "DELETE", "/v1/empty", 0, h_empty, NULL), 0);
    assert_int_equal(sl_http_route(h, "GET", "/v1/slow", SL_ROUTE_PUBLIC, h_slow, NULL), 0);
    assert_int_equal(sl_http_route(h, "POST", "/v1/nodes", SL_ROUTE_NODES, h_echo, NULL), 0);
    assert_int_equal(sl_http_sse_route(h, "/v1/events", 0), 0);
    assert_int_equal(sl_http_start(h, "127.0.0.1", 0, &s->port, &err), 0);
    assert_true(s->port > 0);
    snprintf(s->base, sizeof(s->base), "http://127.0.0.1:%u", (unsigned)s->port);
}

static srv *srv_new(const sl_http_settings *set)
{
    srv *s = calloc(1, sizeof(*s));
    assert_non_null(s);
    srv_start(s, set);
    return s;
}

static void srv_free(srv *s)
{
    sl_http_free(s->h);
    free(s);
}

/* ---- a libcurl client ---- */

typedef struct hres {
    long status;
    sl_buf body;
    char ctype[128];
    char allow[128];
    char www[128];
    long connects;
    CURLcode rc;
} hres;

static size_t on_body(char *p, size_t sz, size_t n, void *arg)
{
    sl_buf_put(arg, p, sz * n);
    return sz * n;
}

static void header_copy(char *dst, size_t cap, const char *line, size_t len, const char *name)
{
    size_t nl = strlen(name);
    if (len <= nl || strncasecmp(line, name, nl) != 0)
        return;
    line += nl;
    len -= nl;
    while (len > 0 && *line == ' ')
        line++, len--;
    while (len > 0 && (line[len - 1] == '\r' || line[len - 1] == '\n'))
        len--;
    snprintf(dst, cap, "%.*s", (int)len, line);
}

static size_t on_header(char *p, size_t sz, size_t n, void *arg)
{
    hres *r = arg;
    header_copy(r->ctype, sizeof(r->ctype), p, sz * n, "Content-Type:");
    header_copy(r->allow, sizeof(r->allow), p, sz * n, "Allow:");
    header_copy(r->www, sizeof(r->www), p, sz * n, "WWW-Authenticate:");
    return sz * n;
}

/* One request on curl handle c (kept alive between calls). token and body may be NULL. */
static CURLcode http_do(CURL *c, const char *method, const char *url, const char *token,
                        const char *body, size_t blen, hres *r)
{
    struct curl_slist *hdrs = NULL;
    char auth[1200];

    memset(r, 0, sizeof(*r));
    sl_buf_init(&r->body);
    curl_easy_reset(c);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &r->body);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, r);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 20L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    if (token) {
        snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token);
        hdrs = curl_slist_append(hdrs, auth);
    }
    if (body) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)blen);
    }
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
    r->rc = curl_easy_perform(c);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
    curl_easy_getinfo(c, CURLINFO_NUM_CONNECTS, &r->connects);
    curl_slist_free_all(hdrs);
    sl_buf_cstr(&r->body);
    return r->rc;
}

/* A request on a fresh handle that must succeed at the transport level. */
static void get(srv *s, const char *method, const char *path, const char *token, hres *r)
{
    char url[512];
    CURL *c = curl_easy_init();
    snprintf(url, sizeof(url), "%s%s", s->base, path);
    assert_int_equal(http_do(c, method, url, token, NULL, 0, r), CURLE_OK);
    curl_easy_cleanup(c);
}

static json_t *body_json(const hres *r)
{
    json_error_t jerr;
    assert_true(r->body.len > 0);
    assert_int_equal(r->body.p[r->body.len - 1], '\n');
    assert_string_equal(r->ctype, "application/json");
    json_t *j = json_loadb((const char *)r->body.p, r->body.len, 0, &jerr);
    assert_non_null(j);
    return j;
}

/* Asserts the one error shape with code; returns the error object's field or NULL. */
static void assert_error(const hres *r, long status, const char *code, const char *field)
{
    json_t *j = body_json(r), *e = json_object_get(j, "error");
    assert_int_equal(r->status, status);
    assert_int_equal(json_object_size(j), 1);
    assert_true(json_is_object(e));
    assert_string_equal(json_string_value(json_object_get(e, "code")), code);
    assert_true(json_is_string(json_object_get(e, "message")));
    assert_true(strlen(json_string_value(json_object_get(e, "message"))) > 0);
    if (field)
        assert_string_equal(json_string_value(json_object_get(e, "field")), field);
    else
        assert_null(json_object_get(e, "field"));
    json_decref(j);
}

static const char *jstr(json_t *j, const char *key)
{
    const char *v = json_string_value(json_object_get(j, key));
    assert_non_null(v);
    return v;
}

/* ---- routing ---- */

static void test_patterns(void **state)
{
    sl__pattern p;
    size_t off[SL_HTTP_MAX_PARAMS], len[SL_HTTP_MAX_PARAMS];
    (void)state;

    assert_int_equal(sl__pattern_compile(&p, "/v1/a/{x}/b/{y}"), 0);
    assert_int_equal(p.n_params, 2);
    assert_true(sl__pattern_match(&p, "/v1/a/1/b/22", 12, off, len));
    assert_int_equal(off[0], 6);
    assert_int_equal(len[0], 1);
    assert_int_equal(off[1], 10);
    assert_int_equal(len[1], 2);
    assert_false(sl__pattern_match(&p, "/v1/a/1/b/22/", 13, off, len));
    assert_false(sl__pattern_match(&p, "/v1/a//b/22", 11, off, len));
    assert_false(sl__pattern_match(&p, "/v1/a/1/b", 9, off, len));
    assert_false(sl__pattern_match(&p, "/v1/a/1/B/2", 11, off, len));
    assert_false(sl__pattern_match(&p, "", 0, off, len));
    assert_false(sl__pattern_match(&p, "v1/a/1/b/2", 10, off, len));
    sl__pattern_release(&p);

    assert_int_equal(sl__pattern_compile(&p, "/"), 0);
    assert_true(sl__pattern_match(&p, "/", 1, off, len));
    assert_false(sl__pattern_match(&p, "//", 2, off, len));
    assert_false(sl__pattern_match(&p, "/a", 2, off, len));
    sl__pattern_release(&p);

    assert_int_equal(sl__pattern_compile(&p, "/v1/agreements"), 0);
    assert_true(sl__pattern_match(&p, "/v1/agreements", 14, off, len));
    assert_false(sl__pattern_match(&p, "/v1/agreements/", 15, off, len));
    assert_false(sl__pattern_match(&p, "/v1/agreement", 13, off, len));
    assert_false(sl__pattern_match(&p, "/v1/agreementsx", 15, off, len));
    sl__pattern_release(&p);

    static const char *const bad[] = {
        "", "v1", "/v1/", "/v1//x", "/{}", "/{a}/{b}/{c}/{d}/{e}", "/a{b}", "/{a", "/a b", "/{a}}"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(sl__pattern_compile(&p, bad[i]), SL_EINVAL);
    assert_int_equal(sl__pattern_compile(&p, NULL), SL_EINVAL);
}

static void test_route_api(void **state)
{
    sl_http *h = NULL;
    sl_error err = {0};
    uint16_t port = 0, port2 = 0;
    (void)state;

    sl_http_free(NULL);
    assert_int_equal(sl_http_new(NULL, NULL, NULL, &h, &err), 0);
    assert_int_equal(sl_http_route(h, "get", "/x", 0, h_hello, NULL), SL_EINVAL);
    assert_int_equal(sl_http_route(h, "GET", "x", 0, h_hello, NULL), SL_EINVAL);
    assert_int_equal(sl_http_route(h, "GET", "/x", 0, NULL, NULL), SL_EINVAL);
    assert_int_equal(sl_http_route(h, "", "/x", 0, h_hello, NULL), SL_EINVAL);
    assert_int_equal(sl_http_route(h, "GET", "/{a}/{b}/{c}/{d}/{e}", 0, h_hello, NULL), SL_EINVAL);
    assert_int_equal(sl_http_route(h, "GET", "/x", 0, h_hello, NULL), 0);
    assert_int_equal(sl_http_start(h, "not-an-address", 0, &port, &err), SL_EINVAL);
    assert_int_equal(err.code, SL_EINVAL);
    assert_int_equal(sl_http_start(h, "127.0.0.1", 0, &port, &err), 0);
    assert_true(port > 0);
    assert_int_equal(sl_http_start(h, "127.0.0.1", 0, &port, &err), SL_ESTATE);
    assert_int_equal(sl_http_route(h, "GET", "/y", 0, h_hello, NULL), SL_ESTATE);

    /* The same port again: the second server cannot listen and says so. */
    sl_http *h2 = NULL;
    assert_int_equal(sl_http_new(NULL, NULL, NULL, &h2, &err), 0);
    memset(&err, 0, sizeof(err));
    assert_int_equal(sl_http_start(h2, "127.0.0.1", port, &port2, &err), SL_EIO);
    assert_int_equal(err.code, SL_EIO);
    assert_true(strlen(err.msg) > 0);
    sl_http_free(h2);
    sl_http_free(h);
}

static void test_status_and_error_shape(void **state)
{
    sl_resp r;
    json_error_t jerr;
    (void)state;

    assert_int_equal(sl_http_status_of(SL_EINVAL), 400);
    assert_int_equal(sl_http_status_of(SL_EAUTH), 401);
    assert_int_equal(sl_http_status_of(SL_EPERM), 403);
    assert_int_equal(sl_http_status_of(SL_ENOENT), 404);
    assert_int_equal(sl_http_status_of(SL_EEXIST), 409);
    assert_int_equal(sl_http_status_of(SL_EDUP), 409);
    assert_int_equal(sl_http_status_of(SL_ESTATE), 409);
    assert_int_equal(sl_http_status_of(SL_EFUNDS), 409);
    assert_int_equal(sl_http_status_of(SL_ETIME), 422);
    assert_int_equal(sl_http_status_of(SL_EBUSY), 503);
    assert_int_equal(sl_http_status_of(SL_ENOMEM), 503);
    assert_int_equal(sl_http_status_of(SL_EIO), 500);
    assert_int_equal(sl_http_status_of(SL_ECORRUPT), 500);

    memset(&r, 0, sizeof(r));
    sl_buf_init(&r.body);
    sl_buf_printf(&r.body, "old content");
    assert_int_equal(sl_http_error(&r, 0, SL_ENOENT, NULL, "no agreement %s", "vm-1"), 0);
    assert_int_equal(r.status, 404);
    assert_string_equal(sl_buf_cstr(&r.body),
                        "{\"error\":{\"code\":\"ENOENT\",\"message\":\"no agreement vm-1\"}}\n");
    assert_int_equal(sl_http_error(&r, 400, SL_EINVAL, "spec.fee", "bad \xff byte"), 0);
    json_t *j = json_loads(sl_buf_cstr(&r.body), 0, &jerr);
    assert_non_null(j);
    json_t *e = json_object_get(j, "error");
    assert_string_equal(jstr(e, "code"), "EINVAL");
    assert_string_equal(jstr(e, "field"), "spec.fee");
    assert_string_equal(jstr(e, "message"), "bad ? byte");
    json_decref(j);
    sl_buf_release(&r.body);
}

static void test_routing_and_params(void **state)
{
    srv *s = srv_new(NULL);
    hres r;
    json_t *j;
    (void)state;

    get(s, "GET", "/", NULL, &r);
    assert_int_equal(r.status, 200);
    j = body_json(&r); /* checks the newline the server appended */
    assert_string_equal(jstr(j, "hello"), "world");
    json_decref(j);
    sl_buf_release(&r.body);

    get(s, "GET", "/v1/a/one/b/two?q=a%26b", "tok-univie", &r);
    assert_int_equal(r.status, 200);
    j = body_json(&r);
    assert_string_equal(jstr(j, "path"), "/v1/a/one/b/two");
    assert_string_equal(jstr(j, "q"), "a&b");
    assert_int_equal(json_array_size(json_object_get(j, "params")), 2);
    assert_string_equal(json_string_value(json_array_get(json_object_get(j, "params"), 0)), "one");
    assert_string_equal(json_string_value(json_array_get(json_object_get(j, "params"), 1)), "two");
    json_decref(j);
    sl_buf_release(&r.body);

    /* Percent-decoded parameters. */
    get(s, "GET", "/v1/a/h%C3%A9/b/x%20y", "tok-univie", &r);
    assert_int_equal(r.status, 200);
    j = body_json(&r);
    assert_string_equal(json_string_value(json_array_get(json_object_get(j, "params"), 0)),
                        "h\xc3\xa9");
    assert_string_equal(json_string_value(json_array_get(json_object_get(j, "params"), 1)), "x y");
    assert_null(json_object_get(j, "q"));
    json_decref(j);
    sl_buf_release(&r.body);

    /* Four parameters, the most a pattern may have. */
    get(s, "GET", "/v1/p/q/r/s", "tok-univie", &r);
    assert_int_equal(r.status, 200);
    j = body_json(&r);
    assert_int_equal(json_array_size(json_object_get(j, "params")), 4);
    assert_string_equal(json_string_value(json_array_get(json_object_get(j, "params"), 3)), "s");
    json_decref(j);
    sl_buf_release(&r.body);

    /* Routes match in the order added: {id} comes before the literal "new". */
    get(s, "GET", "/v1/items/new", "tok-univie", &r);
    assert_int_equal(r.status, 200);
    j = body_json(&r);
    assert_string_equal(json_string_value(json_array_get(json_object_get(j, "params"), 0)), "new");
    json_decref(j);
    sl_buf_release(&r.body);

    /* Trailing slash, empty segment, too few or too many segments: no route. */
    static const char *const nope[] = {"/v1/hello/", "/v1/a/one/b/",          "/v1/a//b/two",
                                       "/v1/a/one",  "/v1/a/one/b/two/three", "/V1/hello",
                                       "/nothing"};
    for (size_t i = 0; i < sizeof(nope) / sizeof(nope[0]); i++) {
        get(s, "GET", nope[i], "tok-univie", &r);
        assert_error(&r, 404, "ENOENT", NULL);
        sl_buf_release(&r.body);
    }

    /* Another route's method on the same path. */
    get(s, "DELETE", "/v1/items/7", "tok-univie", &r);
    assert_int_equal(r.status, 200);
    j = body_json(&r);
    assert_string_equal(jstr(j, "method"), "DELETE");
    json_decref(j);
    sl_buf_release(&r.body);
    srv_free(s);
}

static void test_errors(void **state)
{
    srv *s = srv_new(NULL);
    hres r;
    (void)state;

    get(s, "GET", "/v1/missing", NULL, &r);
    assert_error(&r, 404, "ENOENT", NULL);
    sl_buf_release(&r.body);

    get(s, "PATCH", "/v1/items", "tok-univie", &r);
    assert_error(&r, 405, "EINVAL", NULL);
    assert_string_equal(r.allow, "GET, HEAD, POST");
    sl_buf_release(&r.body);

    get(s, "POST", "/v1/items/3", NULL, &r);
    assert_error(&r, 405, "EINVAL", NULL);
    assert_string_equal(r.allow, "GET, HEAD, DELETE");
    sl_buf_release(&r.body);

    get(s, "GET", "/v1/hello", NULL, &r);
    assert_error(&r, 401, "EAUTH", NULL);
    assert_int_equal(strncmp(r.www, "Bearer", 6), 0);
    sl_buf_release(&r.body);

    get(s, "GET", "/v1/hello", "tok-nobody", &r);
    assert_error(&r, 401, "EAUTH", NULL);
    assert_int_equal(strncmp(r.www, "Bearer", 6), 0);
    sl_buf_release(&r.body);

    get(s, "GET", "/v1/dup", "tok-univie", &r);
    assert_error(&r, 409, "EDUP", NULL);
    sl_buf_release(&r.body);

    get(s, "GET", "/v1/field", "tok-univie", &r);
    assert_error(&r, 422, "EINVAL", "spec.fee");
    assert_non_null(strstr((const char *)r.body.p, "amount x\\\"y is not a number"));
    sl_buf_release(&r.body);

    get(s, "GET", "/v1/text", "tok-univie", &r);
    assert_int_equal(r.status, 201);
    assert_string_equal(r.ctype, "text/plain");
    assert_string_equal((const char *)r.body.p, "plain");
    sl_buf_release(&r.body);

    get(s, "DELETE", "/v1/empty", "tok-univie", &r);
    assert_int_equal(r.status, 204);
    assert_int_equal(r.body.len, 0);
    assert_string_equal(r.ctype, "application/json");
    sl_buf_release(&r.body);
    srv_free(s);
}

/* Sends an Authorization header of our own choosing. */
static void get_with_header(srv *s, const char *path, const char *header, hres *r)
{
    char url[256];
    CURL *c = curl_easy_init();
    struct curl_slist *hdrs = curl_slist_append(NULL, header);
    snprintf(url, sizeof(url), "%s%s", s->base, path);
    memset(r, 0, sizeof(*r));
    sl_buf_init(&r->body);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &r->body);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, r);
    assert_int_equal(curl_easy_perform(c), CURLE_OK);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
    sl_buf_cstr(&r->body);
    curl_slist_free_all(hdrs);
    curl_easy_cleanup(c);
}

static void test_auth(void **state)
{
    srv *s = srv_new(NULL);
    hres r;
    json_t *j;
    char url[128];
    CURL *c = curl_easy_init();
    (void)state;

    int before = atomic_load(&auth_calls);
    snprintf(url, sizeof(url), "%s/v1/echo", s->base);
    assert_int_equal(http_do(c, "POST", url, "tok-aws", "{\"x\":1}", 7, &r), CURLE_OK);
    assert_int_equal(r.status, 200);
    j = body_json(&r);
    assert_true(json_is_true(json_object_get(j, "auth")));
    assert_string_equal(jstr(j, "user"), "bob");
    assert_string_equal(jstr(j, "org"), "aws");
    assert_int_equal(json_integer_value(json_object_get(j, "role")), SL_ROLE_PROVIDER);
    assert_int_equal(json_integer_value(json_object_get(j, "len")), 7);
    json_decref(j);
    sl_buf_release(&r.body);
    assert_int_equal(atomic_load(&auth_calls), before + 1);

    /* A public route needs no token; with a good one the handler still learns who calls. */
    get(s, "GET", "/health", NULL, &r);
    assert_int_equal(r.status, 200);
    j = body_json(&r);
    assert_true(json_is_false(json_object_get(j, "auth")));
    assert_string_equal(jstr(j, "user"), "");
    json_decref(j);
    sl_buf_release(&r.body);
    get(s, "GET", "/health", "tok-audit", &r);
    j = body_json(&r);
    assert_true(json_is_true(json_object_get(j, "auth")));
    assert_string_equal(jstr(j, "user"), "carol");
    json_decref(j);
    sl_buf_release(&r.body);
    get(s, "GET", "/health", "tok-wrong", &r);
    assert_int_equal(r.status, 200);
    sl_buf_release(&r.body);

    /* Scheme is case-insensitive; other schemes and malformed headers are no token. */
    get_with_header(s, "/v1/hello", "Authorization: bearer   tok-univie  ", &r);
    assert_int_equal(r.status, 200);
    sl_buf_release(&r.body);
    static const char *const bad[] = {
        "Authorization: Basic dG9rLXVuaXZpZQ==", "Authorization: Bearer",
        "Authorization: Bearertok-univie", "Authorization: Bearer tok univie", "Authorization:"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        get_with_header(s, "/v1/hello", bad[i], &r);
        assert_error(&r, 401, "EAUTH", NULL);
        sl_buf_release(&r.body);
    }
    curl_easy_cleanup(c);
    srv_free(s);
}

/* A caller with role node is no user: it gets 403 on every route that needs a token but is not
 * for nodes, before its body is read; routes for nodes and public ones serve it, and users may
 * call the routes for nodes too (their handlers decide). */
static void test_node_callers(void **state)
{
    srv *s = srv_new(NULL);
    char url[128], long_tok[SL_NODE_TOKEN_MAX + 1];
    size_t big_len = 2 * 1024 * 1024;
    char *big = malloc(big_len);
    CURL *c = curl_easy_init();
    hres r;
    json_t *j;
    (void)state;

    snprintf(url, sizeof(url), "%s/v1/nodes", s->base);
    assert_int_equal(http_do(c, "POST", url, "tok-node", "{}", 2, &r), CURLE_OK);
    assert_int_equal(r.status, 200);
    j = body_json(&r);
    assert_string_equal(jstr(j, "user"), "aws-node");
    assert_int_equal(json_integer_value(json_object_get(j, "role")), SL_ROLE_NODE);
    json_decref(j);
    sl_buf_release(&r.body);
    assert_int_equal(http_do(c, "POST", url, "tok-univie", "{}", 2, &r), CURLE_OK);
    assert_int_equal(r.status, 200);
    sl_buf_release(&r.body);
    static const char *const user_routes[] = {"/v1/hello", "/v1/items", "/v1/items/7",
                                              "/v1/events"};
    for (size_t i = 0; i < sizeof(user_routes) / sizeof(user_routes[0]); i++) {
        get(s, "GET", user_routes[i], "tok-node", &r);
        assert_error(&r, 403, "EPERM", NULL);
        assert_non_null(strstr((const char *)r.body.p, "aws/aws-node is a node, not a user"));
        sl_buf_release(&r.body);
    }
    get(s, "GET", "/health", "tok-node", &r);
    assert_int_equal(r.status, 200);
    sl_buf_release(&r.body);
    /* Refused with the headers: a body larger than the limit changes nothing. */
    assert_non_null(big);
    memset(big, 'x', big_len);
    snprintf(url, sizeof(url), "%s/v1/echo", s->base);
    assert_int_equal(http_do(c, "POST", url, "tok-node", big, big_len, &r), CURLE_OK);
    assert_error(&r, 403, "EPERM", NULL);
    sl_buf_release(&r.body);
    free(big);
    /* The longest node credential fits the server's token buffer. */
    memset(long_tok, 'n', SL_NODE_TOKEN_MAX);
    long_tok[SL_NODE_TOKEN_MAX] = '\0';
    snprintf(url, sizeof(url), "%s/v1/nodes", s->base);
    assert_int_equal(http_do(c, "POST", url, long_tok, "{}", 2, &r), CURLE_OK);
    assert_int_equal(r.status, 200);
    sl_buf_release(&r.body);
    curl_easy_cleanup(c);
    srv_free(s);
}

/* ---- raw sockets, for what curl will not send ---- */

/* A connected socket; rcvbuf > 0 shrinks the receive buffer before the handshake. */
static int raw_connect(uint16_t port, int rcvbuf)
{
    struct sockaddr_in a;
    struct timeval tv = {10, 0};
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    if (rcvbuf > 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
    assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    return fd;
}

/* Sends data (a failing send is fine: the server may close early) and reads until close. */
static void raw_exchange(uint16_t port, const void *data, size_t len, sl_buf *out)
{
    int fd = raw_connect(port, 0);
    const char *p = data;
    char buf[4096];
    ssize_t n;

    while (len > 0 && (n = send(fd, p, len, MSG_NOSIGNAL)) > 0) {
        p += n;
        len -= (size_t)n;
    }
    shutdown(fd, SHUT_WR);
    while ((n = recv(fd, buf, sizeof(buf), 0)) > 0)
        sl_buf_put(out, buf, (size_t)n);
    sl_buf_cstr(out);
    close(fd);
}

static int raw_status(const sl_buf *b)
{
    unsigned v = 0;
    if (b->len < 12 || sscanf((const char *)b->p, "HTTP/1.%*c %3u", &v) != 1)
        return 0;
    return (int)v;
}

static void assert_alive(srv *s)
{
    hres r;
    get(s, "GET", "/health", NULL, &r);
    assert_int_equal(r.status, 200);
    sl_buf_release(&r.body);
}

static void test_body_limits(void **state)
{
    sl_http_settings set = {.max_body = 1024, .threads = 2};
    srv *s = srv_new(&set);
    char url[128], *big = malloc(10 * 1024 * 1024);
    CURL *c = curl_easy_init();
    hres r;
    json_t *j;
    (void)state;

    assert_non_null(big);
    memset(big, 'a', 10 * 1024 * 1024);
    snprintf(url, sizeof(url), "%s/v1/echo", s->base);
    assert_int_equal(http_do(c, "POST", url, "tok-univie", big, 1024, &r), CURLE_OK);
    assert_int_equal(r.status, 200);
    j = body_json(&r);
    assert_int_equal(json_integer_value(json_object_get(j, "len")), 1024);
    json_decref(j);
    sl_buf_release(&r.body);

    assert_int_equal(http_do(c, "POST", url, "tok-univie", big, 1025, &r), CURLE_OK);
    assert_error(&r, 413, "EINVAL", NULL);
    sl_buf_release(&r.body);

    assert_int_equal(http_do(c, "POST", url, "tok-univie", big, 10 * 1024 * 1024, &r), CURLE_OK);
    assert_error(&r, 413, "EINVAL", NULL);
    sl_buf_release(&r.body);

    assert_int_equal(http_do(c, "POST", url, "tok-univie", "", 0, &r), CURLE_OK);
    assert_int_equal(r.status, 200);
    j = body_json(&r);
    assert_int_equal(json_integer_value(json_object_get(j, "len")), 0);
    json_decref(j);
    sl_buf_release(&r.body);

    /* Chunked bodies have no length up front: within the limit they arrive whole... */
    static const char chunked_ok[] = "POST /v1/echo HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
                                     "tok-univie\r\nTransfer-Encoding: chunked\r\nConnection: "
                                     "close\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n";
    sl_buf raw;
    sl_buf_init(&raw);
    raw_exchange(s->port, chunked_ok, strlen(chunked_ok), &raw);
    assert_int_equal(raw_status(&raw), 200);
    assert_non_null(strstr((const char *)raw.p, "\"len\":11"));
    sl_buf_release(&raw);

    /* ...and beyond it they are discarded and answered with 413. */
    sl_buf req;
    sl_buf_init(&req);
    sl_buf_printf(&req, "POST /v1/echo HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer tok-univie\r\n"
                        "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n");
    for (int i = 0; i < 5; i++) {
        sl_buf_printf(&req, "3e8\r\n");
        sl_buf_put(&req, big, 1000);
        sl_buf_printf(&req, "\r\n");
    }
    sl_buf_printf(&req, "0\r\n\r\n");
    sl_buf_init(&raw);
    raw_exchange(s->port, req.p, req.len, &raw);
    assert_int_equal(raw_status(&raw), 413);
    assert_non_null(strstr((const char *)raw.p, "\"code\":\"EINVAL\""));
    sl_buf_release(&raw);
    sl_buf_release(&req);

    /* A body announced too long is refused before it is sent. */
    static const char announced[] = "POST /v1/echo HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
                                    "tok-univie\r\nContent-Length: 99999999999999999999\r\n\r\nab";
    sl_buf_init(&raw);
    raw_exchange(s->port, announced, strlen(announced), &raw);
    assert_true(raw_status(&raw) == 413 || raw_status(&raw) == 400);
    sl_buf_release(&raw);

    assert_alive(s);
    free(big);
    curl_easy_cleanup(c);
    srv_free(s);
}

/* ---- concurrency ---- */

typedef struct worker {
    srv *s;
    int id;
    int n;
    int bad;
    long connects;
} worker;

static void *worker_main(void *arg)
{
    worker *w = arg;
    CURL *c = curl_easy_init();
    char url[256], want[64];
    json_error_t jerr;
    hres r;

    for (int i = 0; i < w->n; i++) {
        snprintf(url, sizeof(url), "%s/v1/a/t%d/b/%d?q=%d", w->s->base, w->id, i, i * 7);
        http_do(c, "GET", url, "tok-univie", NULL, 0, &r);
        w->connects += r.connects;
        json_t *j =
            r.rc == CURLE_OK ? json_loadb((const char *)r.body.p, r.body.len, 0, &jerr) : NULL;
        json_t *p = json_object_get(j, "params");
        snprintf(want, sizeof(want), "t%d", w->id);
        const char *p0 = json_string_value(json_array_get(p, 0));
        const char *p1 = json_string_value(json_array_get(p, 1));
        const char *q = json_string_value(json_object_get(j, "q"));
        char si[16], sq[16];
        snprintf(si, sizeof(si), "%d", i);
        snprintf(sq, sizeof(sq), "%d", i * 7);
        if (r.status != 200 || !p0 || !p1 || !q || strcmp(p0, want) || strcmp(p1, si) ||
            strcmp(q, sq) || strcmp(r.ctype, "application/json"))
            w->bad++;
        json_decref(j);
        sl_buf_release(&r.body);
    }
    curl_easy_cleanup(c);
    return NULL;
}

static void test_concurrency(void **state)
{
    sl_http_settings set = {.threads = 4};
    srv *s = srv_new(&set);
    pthread_t t[8];
    worker w[8];
    (void)state;

    for (int i = 0; i < 8; i++) {
        w[i] = (worker){.s = s, .id = i, .n = 200};
        assert_int_equal(pthread_create(&t[i], NULL, worker_main, &w[i]), 0);
    }
    for (int i = 0; i < 8; i++) {
        pthread_join(t[i], NULL);
        assert_int_equal(w[i].bad, 0);
        assert_int_equal(w[i].connects, 1); /* one connection, kept alive for 200 requests */
    }
    srv_free(s);
}

/* ---- metrics ---- */

/* The value of the sample line that starts with `series ` (-1 when absent). */
static double metric(const char *text, const char *series)
{
    size_t n = strlen(series);
    for (const char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
        if (strncmp(l, series, n) == 0 && l[n] == ' ')
            return strtod(l + n + 1, NULL);
    }
    return -1;
}

static char *scrape(srv *s)
{
    hres r;
    get(s, "GET", "/metrics", NULL, &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.ctype, "text/plain; version=0.0.4");
    return (char *)r.body.p;
}

static size_t count_lines(const char *text, const char *line)
{
    size_t n = 0, len = strlen(line);
    for (const char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
        n += strncmp(l, line, len) == 0 && l[len] == '\n';
    return n;
}

/* Every family's samples are contiguous and families appear in name order. */
static void assert_sorted(const char *text)
{
    char prev[256] = "", cur[256];
    for (const char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
        if (strncmp(l, "# TYPE ", 7) != 0)
            continue;
        sscanf(l + 7, "%255s", cur);
        assert_true(strcmp(prev, cur) < 0);
        snprintf(prev, sizeof(prev), "%s", cur);
    }
}

static void test_metrics(void **state)
{
    srv *s = srv_new(NULL);
    hres r;
    static const char *const le[] = {"0.001", "0.005", "0.01", "0.05", "0.1",
                                     "0.5",   "1",     "5",    "+Inf"};
    const char *ok = "slaledger_http_requests_total{route=\"/v1/hello\",method=\"GET\",status="
                     "\"200\"}";
    const char *nf = "slaledger_http_requests_total{route=\"(unmatched)\",method=\"GET\",status="
                     "\"404\"}";
    const char *un = "slaledger_http_requests_total{route=\"/v1/hello\",method=\"GET\",status="
                     "\"401\"}";
    (void)state;

    get(s, "GET", "/v1/hello", "tok-univie", &r); /* so the series exist */
    sl_buf_release(&r.body);
    char *t0 = scrape(s);
    double ok0 = metric(t0, ok), cnt0 = metric(t0, "slaledger_http_request_seconds_count{route=\""
                                                   "/v1/hello\"}");
    double nf0 = metric(t0, nf);
    assert_true(ok0 >= 1);
    for (int i = 0; i < 5; i++) {
        get(s, "GET", "/v1/hello", "tok-univie", &r);
        sl_buf_release(&r.body);
    }
    for (int i = 0; i < 3; i++) {
        get(s, "GET", "/v1/nowhere", "tok-univie", &r);
        sl_buf_release(&r.body);
    }
    get(s, "GET", "/v1/hello", NULL, &r);
    sl_buf_release(&r.body);
    sl_http_count(s->h, "slaledger_test_total", "A test counter.", "kind=\"b\"", 2);
    sl_http_count(s->h, "slaledger_test_total", "ignored", "kind=\"a\"", 3);
    sl_http_count(s->h, "slaledger_test_total", NULL, "kind=\"a\"", 4);
    sl_http_gauge(s->h, "slaledger_test_total", "kind clash: ignored", "", 9);
    sl_http_gauge(s->h, "slaledger_test_gauge", "A test gauge.", "", 5);
    sl_http_gauge(s->h, "slaledger_test_gauge", NULL, "", -12);
    sl_http_count(s->h, "bad name", "ignored", "", 1);
    sl_http_count(s->h, "slaledger_test_bad", "ignored", "x=\"1\"\n", 1);

    char *t1 = scrape(s);
    assert_true(metric(t1, ok) == ok0 + 5);
    assert_true(metric(t1, nf) == (nf0 < 0 ? 0 : nf0) + 3);
    assert_true(metric(t1, un) == 1);
    assert_true(metric(t1, "slaledger_test_total{kind=\"a\"}") == 7);
    assert_true(metric(t1, "slaledger_test_total{kind=\"b\"}") == 2);
    assert_true(metric(t1, "slaledger_test_gauge") == -12);
    assert_true(metric(t1, "slaledger_test_total") < 0);
    assert_null(strstr(t1, "bad name"));
    assert_null(strstr(t1, "slaledger_test_bad"));
    assert_int_equal(count_lines(t1, "# HELP slaledger_test_total A test counter."), 1);
    assert_int_equal(count_lines(t1, "# TYPE slaledger_test_total counter"), 1);
    assert_int_equal(count_lines(t1, "# TYPE slaledger_test_gauge gauge"), 1);
    assert_int_equal(count_lines(t1, "# TYPE slaledger_http_requests_total counter"), 1);
    assert_int_equal(count_lines(t1, "# TYPE slaledger_http_request_seconds histogram"), 1);
    assert_true(strstr(t1, "slaledger_test_total{kind=\"a\"}") <
                strstr(t1, "slaledger_test_total{kind=\"b\"}"));
    assert_sorted(t1);

    /* The histogram of /v1/hello: 6 more observations, cumulative buckets, +Inf == count. */
    char name[160];
    double prev = 0, cnt = metric(t1, "slaledger_http_request_seconds_count{route=\"/v1/hello\"}");
    assert_true(cnt == cnt0 + 6);
    for (size_t i = 0; i < sizeof(le) / sizeof(le[0]); i++) {
        snprintf(name, sizeof(name),
                 "slaledger_http_request_seconds_bucket{route=\"/v1/hello\",le=\"%s\"}", le[i]);
        double v = metric(t1, name);
        assert_true(v >= prev);
        prev = v;
    }
    assert_true(prev == cnt);
    double sum = metric(t1, "slaledger_http_request_seconds_sum{route=\"/v1/hello\"}");
    assert_true(sum >= 0 && sum < 5 * cnt);
    free(t0);
    free(t1);
    srv_free(s);
}

/* ---- server-sent events ---- */

typedef struct sse_client {
    char url[128];
    const char *token;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    sl_buf got;
    int done;
    CURLcode rc;
    pthread_t thread;
} sse_client;

static size_t sse_write(char *p, size_t sz, size_t n, void *arg)
{
    sse_client *c = arg;
    pthread_mutex_lock(&c->mu);
    sl_buf_put(&c->got, p, sz * n);
    sl_buf_cstr(&c->got);
    pthread_cond_broadcast(&c->cv);
    pthread_mutex_unlock(&c->mu);
    return sz * n;
}

static void *sse_main(void *arg)
{
    sse_client *c = arg;
    CURL *h = curl_easy_init();
    char auth[128];
    hres r;
    struct curl_slist *hdrs = NULL;

    memset(&r, 0, sizeof(r));
    snprintf(auth, sizeof(auth), "Authorization: Bearer %s", c->token);
    hdrs = curl_slist_append(hdrs, auth);
    curl_easy_setopt(h, CURLOPT_URL, c->url);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, sse_write);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, c);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, &r);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, 60L);
    CURLcode rc = curl_easy_perform(h);
    pthread_mutex_lock(&c->mu);
    c->rc = rc;
    c->done = 1;
    if (strcmp(r.ctype, "text/event-stream") != 0)
        c->done = 2; /* wrong content type: the test fails on it */
    pthread_cond_broadcast(&c->cv);
    pthread_mutex_unlock(&c->mu);
    curl_slist_free_all(hdrs);
    curl_easy_cleanup(h);
    return NULL;
}

static sse_client *sse_connect(srv *s, const char *token)
{
    sse_client *c = calloc(1, sizeof(*c));
    assert_non_null(c);
    snprintf(c->url, sizeof(c->url), "%s/v1/events", s->base);
    c->token = token;
    pthread_mutex_init(&c->mu, NULL);
    assert_int_equal(sl_cond_init_monotonic(&c->cv), 0);
    sl_buf_init(&c->got);
    assert_int_equal(pthread_create(&c->thread, NULL, sse_main, c), 0);
    return c;
}

/* Waits (at most 10 s) until the stream has received needle `times` times; returns whether. */
static int sse_wait(sse_client *c, const char *needle, size_t times)
{
    struct timespec at = sl_deadline_after(10000);
    int ok = 0;
    pthread_mutex_lock(&c->mu);
    for (;;) {
        size_t n = 0;
        for (const char *p = c->got.p ? (const char *)c->got.p : ""; (p = strstr(p, needle));
             p += strlen(needle))
            n++;
        if ((ok = n >= times) || c->done || pthread_cond_timedwait(&c->cv, &c->mu, &at) != 0)
            break;
    }
    pthread_mutex_unlock(&c->mu);
    return ok;
}

static void sse_join(sse_client *c)
{
    pthread_join(c->thread, NULL);
    pthread_mutex_destroy(&c->mu);
    pthread_cond_destroy(&c->cv);
    sl_buf_release(&c->got);
    free(c);
}

/* The events in c's stream, comments removed, as "name=data;" pairs. */
static void sse_events(sse_client *c, char *out, size_t cap)
{
    size_t used = 0;
    out[0] = '\0';
    pthread_mutex_lock(&c->mu);
    const char *p = c->got.p ? (const char *)c->got.p : "";
    while (*p) {
        const char *end = strstr(p, "\n\n");
        if (!end)
            break;
        if (*p != ':') {
            char name[64] = "", data[256] = "";
            sscanf(p, "event: %63[^\n]\ndata: %255[^\n]", name, data);
            used += (size_t)snprintf(out + used, cap - used, "%s=%s;", name, data);
        }
        p = end + 2;
    }
    pthread_mutex_unlock(&c->mu);
}

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void test_sse(void **state)
{
    sl_http_settings set = {.threads = 2};
    srv *s = srv_new(&set);
    static const char *const aws_only[] = {"aws", NULL};
    static const char *const univie_and_x[] = {"x", "univie", NULL};
    static const char *const audit_only[] = {"audit", NULL};
    const sl_http_audience aws = {aws_only, NULL}, univie = {univie_and_x, NULL};
    const sl_http_audience aws_audited = {aws_only, audit_only};
    const sl_http_audience aws_auditors = {NULL, aws_only};
    char ev[1024];
    (void)state;

    sse_client *u = sse_connect(s, "tok-univie");
    sse_client *a = sse_connect(s, "tok-audit");
    /* The first comment arrives once the stream is registered. */
    assert_true(sse_wait(u, ":\n\n", 1));
    assert_true(sse_wait(a, ":\n\n", 1));
    assert_int_equal(sl__sse_count(s->h), 2);

    sl_http_broadcast(s->h, "one", "{\"i\":1}", NULL);
    sl_http_broadcast(s->h, "secret", "{\"i\":99}", &aws);
    sl_http_broadcast(s->h, "two", "{\"i\":2}", &univie);
    sl_http_broadcast(s->h, "audited", "{\"i\":4}", &aws_audited);
    sl_http_broadcast(s->h, "other", "{\"i\":5}", &aws_auditors);
    sl_http_broadcast(s->h, "three", "{\"i\":3}", NULL);
    assert_true(sse_wait(u, "event: three\n", 1));
    assert_true(sse_wait(a, "event: three\n", 1));
    sse_events(u, ev, sizeof(ev));
    assert_string_equal(ev, "one={\"i\":1};two={\"i\":2};three={\"i\":3};");
    /* The auditor sees what is for its organization's auditors, and nothing else: the role
     * does not reach past the audience (another channel's blocks, say). */
    sse_events(a, ev, sizeof(ev));
    assert_string_equal(ev, "one={\"i\":1};audited={\"i\":4};three={\"i\":3};");
    pthread_mutex_lock(&u->mu);
    assert_non_null(strstr((const char *)u->got.p, "event: one\ndata: {\"i\":1}\n\n"));
    pthread_mutex_unlock(&u->mu);

    /* Several lines of data stay one event; a newline in the name cannot split it. */
    sl_http_broadcast(s->h, "multi\nline", "{\"a\":1,\n\"b\":2}\n", NULL);
    assert_true(sse_wait(u, "event: multiline\ndata: {\"a\":1,\ndata: \"b\":2}\n\n", 1));

    /* Unauthenticated clients get 401 on a non-public stream. */
    hres r;
    get(s, "GET", "/v1/events", NULL, &r);
    assert_error(&r, 401, "EAUTH", NULL);
    sl_buf_release(&r.body);

    int64_t t0 = mono_ms();
    sl_http_free(s->h);
    assert_true(mono_ms() - t0 < 2000);
    s->h = NULL;
    sse_wait(u, "never", 1);
    sse_wait(a, "never", 1);
    assert_int_equal(u->done, 1);
    assert_int_equal(a->done, 1);
    /* The streams ended cleanly: the last chunk was sent before the connections closed. */
    assert_int_equal(u->rc, CURLE_OK);
    assert_int_equal(a->rc, CURLE_OK);
    sse_join(u);
    sse_join(a);
    free(s);
}

static void test_sse_heartbeat_and_drop(void **state)
{
    /* A client that reads nothing is closed by the idle timeout once its queue is dropped. */
    sl_http_settings set = {.threads = 2, .timeout_s = 1};
    unsigned old_hb = sl__http_heartbeat_ms;
    size_t old_max = sl__http_sse_queue_max;
    (void)state;

    sl__http_heartbeat_ms = 50;
    sl__http_sse_queue_max = 64 * 1024;
    srv *s = srv_new(&set);
    sse_client *u = sse_connect(s, "tok-univie");
    assert_true(sse_wait(u, ":\n\n", 4)); /* the first comment and three heartbeats */

    /* A client that never reads: its queue overflows and the server drops it. */
    int fd = raw_connect(s->port, 4096);
    static const char req[] = "GET /v1/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
                              "tok-aws\r\n\r\n";
    assert_int_equal(send(fd, req, strlen(req), MSG_NOSIGNAL), (ssize_t)strlen(req));
    for (int i = 0; i < 200 && sl__sse_count(s->h) < 2; i++)
        nanosleep(&(struct timespec){0, 10 * 1000000L}, NULL);
    assert_int_equal(sl__sse_count(s->h), 2);
    char blob[1100];
    memset(blob, 'x', sizeof(blob) - 3);
    blob[0] = '"';
    blob[sizeof(blob) - 3] = '"';
    blob[sizeof(blob) - 2] = '\0';
    static const char *const aws_only[] = {"aws", NULL};
    const sl_http_audience aws = {aws_only, NULL};
    for (int i = 0; i < 20000 && sl__sse_count(s->h) > 1; i++) {
        sl_http_broadcast(s->h, "fill", blob, &aws);
        if (i % 64 == 0)
            nanosleep(&(struct timespec){0, 1000000L}, NULL);
    }
    for (int i = 0; i < 500 && sl__sse_count(s->h) > 1; i++)
        nanosleep(&(struct timespec){0, 10 * 1000000L}, NULL);
    assert_int_equal(sl__sse_count(s->h), 1);
    close(fd);

    /* The reading client is unaffected and the drop is counted. */
    sl_http_broadcast(s->h, "after", "{}", NULL);
    assert_true(sse_wait(u, "event: after\n", 1));
    char *text = scrape(s);
    assert_true(metric(text, "slaledger_http_sse_dropped_total") == 1);
    assert_true(metric(text, "slaledger_http_sse_streams") == 1);
    free(text);

    srv_free(s);
    sse_join(u);
    sl__http_heartbeat_ms = old_hb;
    sl__http_sse_queue_max = old_max;
}

/* ---- hostile input ---- */

static void test_hostile_input(void **state)
{
    /* A short idle timeout: MHD waits for the rest of a truncated request until then. */
    sl_http_settings set = {.threads = 2, .max_body = 4096, .timeout_s = 1};
    srv *s = srv_new(&set);
    sl_buf req, out;
    (void)state;

    static const char *const small[] = {
        "GET /v1/a/%zz/b/% HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer tok-univie\r\n"
        "Connection: close\r\n\r\n",
        "GET /v1/a/%00/b/x%00y HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer tok-univie\r\n"
        "Connection: close\r\n\r\n",
        "GET /v1/hello?%%%=&&&=%ff HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        "GET  HTTP/1.1\r\n\r\n",
        "\r\n\r\n\r\n",
        "BREW /pot HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        "GET / HTTP/1.0\r\n\r\n",
        "GET / HTTP/9.9\r\nHost: x\r\n\r\n",
        "POST /v1/echo HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer tok-aws\r\n"
        "Content-Length: -5\r\n\r\n",
        "POST /v1/echo HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer tok-aws\r\n"
        "Transfer-Encoding: chunked\r\n\r\nzz\r\n",
        "POST /v1/echo HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer tok-aws\r\n"
        "Transfer-Encoding: chunked\r\n\r\nffffffffffffffffffff\r\nab",
        "POST /v1/echo HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer tok-aws\r\n"
        "Content-Length: 10\r\n\r\nabc",
        "GET /v1/hello HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \x01\x02\xff\r\n\r\n",
        "garbage without structure",
    };
    for (size_t i = 0; i < sizeof(small) / sizeof(small[0]); i++) {
        sl_buf_init(&out);
        raw_exchange(s->port, small[i], strlen(small[i]), &out);
        int st = raw_status(&out);
        assert_true(st == 0 || (st >= 200 && st < 600));
        sl_buf_release(&out);
    }

    static const char nul[] = "GET /\0/x HTTP/1.1\r\nHost: x\r\n\r\n";
    sl_buf_init(&out);
    raw_exchange(s->port, nul, sizeof(nul) - 1, &out);
    assert_true(raw_status(&out) == 0 || raw_status(&out) >= 200);
    sl_buf_release(&out);

    /* A huge header, a very long path, and thousands of query parameters. */
    sl_buf_init(&req);
    sl_buf_printf(&req, "GET /health HTTP/1.1\r\nHost: x\r\nX-Big: ");
    for (int i = 0; i < 200000; i++)
        sl_buf_put_u8(&req, 'h');
    sl_buf_printf(&req, "\r\n\r\n");
    sl_buf_init(&out);
    raw_exchange(s->port, req.p, req.len, &out);
    assert_true(raw_status(&out) == 0 || raw_status(&out) >= 400);
    sl_buf_release(&out);

    sl_buf_reset(&req);
    sl_buf_printf(&req, "GET /v1/");
    for (int i = 0; i < 20000; i++)
        sl_buf_put(&req, "ab/", 3);
    sl_buf_printf(&req, " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    sl_buf_init(&out);
    raw_exchange(s->port, req.p, req.len, &out);
    assert_true(raw_status(&out) == 0 || raw_status(&out) >= 400);
    sl_buf_release(&out);

    sl_buf_reset(&req);
    sl_buf_printf(&req, "GET /health?");
    for (int i = 0; i < 3000; i++)
        sl_buf_printf(&req, "k%d=%d&", i, i);
    sl_buf_printf(&req, " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    sl_buf_init(&out);
    raw_exchange(s->port, req.p, req.len, &out);
    assert_true(raw_status(&out) == 0 || raw_status(&out) == 200 || raw_status(&out) >= 400);
    sl_buf_release(&out);

    /* Many headers, and a body on a GET to a route with params. */
    sl_buf_reset(&req);
    sl_buf_printf(&req, "GET /v1/items/9 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer tok-aws\r\n");
    for (int i = 0; i < 300; i++)
        sl_buf_printf(&req, "X-H%d: %d\r\n", i, i);
    sl_buf_printf(&req, "Content-Length: 3\r\nConnection: close\r\n\r\nabc");
    sl_buf_init(&out);
    raw_exchange(s->port, req.p, req.len, &out);
    assert_int_equal(raw_status(&out), 200);
    assert_non_null(strstr((const char *)out.p, "Content-Type: application/json"));
    assert_non_null(strstr((const char *)out.p, "\"len\":3"));
    sl_buf_release(&out);
    sl_buf_release(&req);

    assert_alive(s);
    srv_free(s);
}

/* ---- connection limit and idle timeout ---- */

/* Sends one keep-alive request on fd and reads its whole answer; returns the status or 0. */
static int raw_request(int fd)
{
    static const char req[] = "GET /health HTTP/1.1\r\nHost: x\r\n\r\n";
    char buf[2048];
    size_t got = 0;
    if (send(fd, req, strlen(req), MSG_NOSIGNAL) != (ssize_t)strlen(req))
        return 0;
    for (;;) {
        ssize_t n = recv(fd, buf + got, sizeof(buf) - 1 - got, 0);
        if (n <= 0)
            return 0;
        got += (size_t)n;
        buf[got] = '\0';
        const char *end = strstr(buf, "\r\n\r\n"), *cl = strstr(buf, "Content-Length: ");
        if (end && cl && got >= (size_t)(end + 4 - buf) + strtoul(cl + 16, NULL, 10))
            break;
    }
    unsigned st = 0;
    sscanf(buf, "HTTP/1.1 %3u", &st);
    return (int)st;
}

/* 1 when the server closes fd (recv sees EOF or a reset) within the socket's timeout. */
static int raw_closed(int fd)
{
    char c;
    ssize_t n = recv(fd, &c, 1, 0);
    return n == 0 || (n < 0 && errno == ECONNRESET);
}

static void set_rcvtimeo(int fd, long ms)
{
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
}

static void test_limits(void **state)
{
    sl_http_settings set = {.threads = 1, .max_connections = 3, .timeout_s = 3};
    srv *s = srv_new(&set);
    static const char req[] = "GET /health HTTP/1.1\r\nHost: x\r\n\r\n";
    char c;
    int fd[4];
    (void)state;

    for (int i = 0; i < 3; i++) {
        fd[i] = raw_connect(s->port, 0);
        assert_int_equal(raw_request(fd[i]), 200);
    }
    /* A fourth connection waits in the backlog while three are open... */
    fd[3] = raw_connect(s->port, 0);
    assert_int_equal(send(fd[3], req, strlen(req), MSG_NOSIGNAL), (ssize_t)strlen(req));
    set_rcvtimeo(fd[3], 500);
    assert_int_equal(recv(fd[3], &c, 1, MSG_PEEK), -1);
    /* ...until the idle ones are closed by the timeout; then it is served. */
    set_rcvtimeo(fd[3], 10000);
    assert_true(recv(fd[3], &c, 1, MSG_PEEK) == 1);
    for (int i = 0; i < 3; i++) {
        assert_true(raw_closed(fd[i]));
        close(fd[i]);
    }
    close(fd[3]);
    srv_free(s);
}

/* A raw connection from source address src (host order) to the server. */
static int raw_connect_from(uint16_t port, uint32_t src)
{
    struct sockaddr_in a;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(src);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    set_rcvtimeo(fd, 10000);
    return fd;
}

/* Whether fd is still open on the server's side right now. */
static int raw_open_now(int fd)
{
    char c;
    ssize_t n = recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
    return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

/* Slowloris: a connection that never finishes its headers is closed after the header timeout,
 * while one that sent a request keeps the longer idle timeout. */
static void test_header_timeout(void **state)
{
    sl_http_settings set = {.threads = 1, .timeout_s = 5, .header_timeout_s = 1};
    srv *s = srv_new(&set);
    static const char part[] = "GET /health HTTP/1.1\r\nHost: x\r\nX-a: ";
    (void)state;

    int slow = raw_connect(s->port, 0), done = raw_connect(s->port, 0);
    assert_int_equal(send(slow, part, strlen(part), MSG_NOSIGNAL), (ssize_t)strlen(part));
    assert_int_equal(raw_request(done), 200);
    set_rcvtimeo(slow, 4000);
    assert_true(raw_closed(slow));
    assert_true(raw_open_now(done));
    close(slow);
    close(done);
    srv_free(s);
}

/* One client address holds at most max_per_client connections; the next is closed at once and
 * another address is still served. */
static void test_per_client_limit(void **state)
{
    sl_http_settings set = {.threads = 1, .max_connections = 10, .max_per_client = 2};
    srv *s = srv_new(&set);
    int fd[3], other;
    (void)state;

    for (int i = 0; i < 3; i++)
        fd[i] = raw_connect_from(s->port, 0x7f000002);
    set_rcvtimeo(fd[2], 4000);
    assert_true(raw_closed(fd[2]));
    assert_int_equal(raw_request(fd[0]), 200);
    assert_int_equal(raw_request(fd[1]), 200);
    other = raw_connect_from(s->port, 0x7f000001);
    assert_int_equal(raw_request(other), 200);
    for (int i = 0; i < 3; i++)
        close(fd[i]);
    close(other);
    srv_free(s);
}

/* HEAD is answered by the GET route: its status and headers, no body; an event stream's HEAD
 * opens no stream. */
static void test_head(void **state)
{
    srv *s = srv_new(NULL);
    const char *paths[] = {"/health", "/v1/events"};
    const char *types[] = {"Content-Type: application/json", "Content-Type: text/event-stream"};
    (void)state;

    for (int i = 0; i < 2; i++) {
        char req[256], buf[4096];
        size_t got = 0;
        ssize_t n;
        int fd = raw_connect(s->port, 0);
        snprintf(req, sizeof(req),
                 "HEAD %s HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer tok-univie\r\n"
                 "Connection: close\r\n\r\n",
                 paths[i]);
        assert_int_equal(send(fd, req, strlen(req), MSG_NOSIGNAL), (ssize_t)strlen(req));
        while ((n = recv(fd, buf + got, sizeof(buf) - 1 - got, 0)) > 0)
            got += (size_t)n;
        buf[got] = '\0';
        assert_int_equal(strncmp(buf, "HTTP/1.1 200", 12), 0);
        assert_non_null(strstr(buf, types[i]));
        const char *end = strstr(buf, "\r\n\r\n");
        assert_non_null(end);
        assert_int_equal((size_t)(end + 4 - buf), got); /* nothing after the headers */
        close(fd);
    }
    assert_int_equal(sl__sse_count(s->h), 0);
    srv_free(s);
}

/* ---- shutdown with requests in flight ---- */

typedef struct hammer {
    srv *s;
    const char *path;
    atomic_int ok;
    int wrong;
    int failed;
} hammer;

static void *hammer_main(void *arg)
{
    hammer *m = arg;
    CURL *c = curl_easy_init();
    char url[128];
    hres r;

    snprintf(url, sizeof(url), "%s%s", m->s->base, m->path);
    while (!m->failed) {
        if (http_do(c, "GET", url, NULL, NULL, 0, &r) != CURLE_OK)
            m->failed = 1;
        else if (r.status == 200 && strcmp(r.ctype, "application/json") == 0)
            atomic_fetch_add(&m->ok, 1);
        else
            m->wrong++;
        sl_buf_release(&r.body);
    }
    curl_easy_cleanup(c);
    return NULL;
}

/* Whether any of the four hammers from m[from] got an answer. */
static int served(hammer *m, int from)
{
    int n = 0;
    for (int i = from; i < from + 4; i++)
        n += atomic_load(&m[i].ok);
    return n > 0;
}

static void test_shutdown_in_flight(void **state)
{
    sl_http_settings set = {.threads = 8};
    srv *s = srv_new(&set);
    pthread_t t[8];
    hammer m[8];
    (void)state;

    for (int i = 0; i < 8; i++) {
        m[i] = (hammer){.s = s, .path = i < 4 ? "/v1/slow" : "/health"};
        assert_int_equal(pthread_create(&t[i], NULL, hammer_main, &m[i]), 0);
    }
    /* Free once both kinds have been answered and a slow handler is running. */
    for (int i = 0; i < 1000 && !(served(m, 0) && served(m, 4) && atomic_load(&slow_in_flight));
         i++)
        nanosleep(&(struct timespec){0, 10 * 1000000L}, NULL);
    assert_true(atomic_load(&slow_in_flight) > 0);
    int64_t t0 = mono_ms();
    sl_http_free(s->h);
    assert_true(mono_ms() - t0 < 2000);
    /* No handler runs once free has returned. */
    assert_int_equal(atomic_load(&slow_in_flight), 0);
    for (int i = 0; i < 8; i++) {
        pthread_join(t[i], NULL);
        assert_int_equal(m[i].wrong, 0);
        assert_int_equal(m[i].failed, 1);
    }
    assert_true(served(m, 0) && served(m, 4));
    free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_patterns),
        cmocka_unit_test(test_route_api),
        cmocka_unit_test(test_status_and_error_shape),
        cmocka_unit_test(test_routing_and_params),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_auth),
        cmocka_unit_test(test_node_callers),
        cmocka_unit_test(test_body_limits),
        cmocka_unit_test(test_concurrency),
        cmocka_unit_test(test_metrics),
        cmocka_unit_test(test_sse),
        cmocka_unit_test(test_sse_heartbeat_and_drop),
        cmocka_unit_test(test_hostile_input),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_header_timeout),
        cmocka_unit_test(test_per_client_limit),
        cmocka_unit_test(test_head),
        cmocka_unit_test(test_shutdown_in_flight),
    };
    curl_global_init(CURL_GLOBAL_DEFAULT);
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return rc;
}
