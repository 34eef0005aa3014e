/*
 * console.c: serves the web console, static files embedded in the binary (assets.h), so
 * every node offers it at its own address with nothing to install: GET / is the console's
 * page, GET /console/{file} and /console/vendor/{file} its scripts, styles and uPlot. The
 * files are public (the console signs in with an API token, kept in the browser's session
 * storage, for every API call it makes); each answer carries a Content-Security-Policy that
 * allows this node only, so the console makes no request anywhere else. Thread-safety:
 * read-only data.
 */
#include <string.h>

#include "node/assets.h"
#include "node/node_int.h"

#define CSP                                                                                        \
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "                 \
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"

static const struct {
    const char *ext, *type;
} types[] = {
    {".html", "text/html; charset=utf-8"},
    {".js", "text/javascript; charset=utf-8"},
    {".mjs", "text/javascript; charset=utf-8"},
    {".css", "text/css; charset=utf-8"},
    {".svg", "image/svg+xml"},
    {".png", "image/png"},
    {".ico", "image/x-icon"},
    {".json", "application/json"},
};

static const char *type_of(const char *name)
{
    const char *dot = strrchr(name, '.');

    for (size_t i = 0; dot && i < sizeof(types) / sizeof(types[0]); i++) {
        if (strcmp(dot, types[i].ext) == 0)
            return types[i].type;
    }
    return "application/octet-stream";
}

static int serve(const char *name, sl_resp *resp)
{
    for (const sl__asset *a = sl__assets; a->name; a++) {
        if (strcmp(a->name, name) != 0)
            continue;
        sl_buf_put(&resp->body, a->data, a->len);
        resp->content_type = type_of(name);
        resp->header_name = "Content-Security-Policy";
        resp->header_value = CSP;
        return resp->body.err;
    }
    return sl_http_error(resp, 404, SL_ENOENT, "path", "no console file '%s'", name);
}

static int page(void *ctx, sl_req *req, sl_resp *resp)
{
    (void)ctx;
    (void)req;
    return serve("index.html", resp);
}

static int file(void *ctx, sl_req *req, sl_resp *resp)
{
    (void)ctx;
    return serve(req->params[0], resp);
}

static int vendor(void *ctx, sl_req *req, sl_resp *resp)
{
    char name[128];

    (void)ctx;
    sl_strfmt(name, sizeof(name), "vendor/%s", req->params[0]);
    return serve(name, resp);
}

int sl__console_register(sl__node *n)
{
    int rc = 0;

    rc |= sl_http_route(n->http, "GET", "/", SL_ROUTE_PUBLIC, page, n);
    rc |= sl_http_route(n->http, "GET", "/console/{file}", SL_ROUTE_PUBLIC, file, n);
    rc |= sl_http_route(n->http, "GET", "/console/vendor/{file}", SL_ROUTE_PUBLIC, vendor, n);
    return rc;
}
