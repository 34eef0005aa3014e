/*
 * route.c: the node's route table: compiled path patterns with {name} parameters, matching a
 * request's method and path to a route, and the Allow list of a path's methods. HEAD is
 * answered by the GET route of the path (libmicrohttpd then sends the headers and no body).
 *
 * Ownership and thread-safety: the table belongs to the sl_http; routes are added before
 * sl_http_start only and read-only afterwards, so request threads match without a lock.
 */
#include <stdlib.h>
#include <string.h>

#include "node/http_int.h"

#define MAX_PATTERN 200

/* Fills seg from s[0..len): a literal, or a {name} parameter. */
static int seg_parse(sl__seg *seg, const char *s, size_t len)
{
    seg->s = s;
    seg->len = len;
    seg->param = len >= 2 && s[0] == '{' && s[len - 1] == '}';
    if (seg->param && len == 2)
        return SL_EINVAL;
    size_t from = seg->param ? 1 : 0, to = seg->param ? len - 1 : len;
    for (size_t i = from; i < to; i++) {
        if (s[i] == '{' || s[i] == '}' || (unsigned char)s[i] <= 0x20)
            return SL_EINVAL;
    }
    return 0;
}

static int pattern_split(sl__pattern *p)
{
    size_t n = 1;
    for (const char *c = p->text + 1; *c; c++)
        n += *c == '/';
    p->segs = calloc(n, sizeof(*p->segs));
    if (!p->segs)
        return SL_ENOMEM;
    const char *s = p->text + 1;
    for (size_t i = 0; i < n; i++) {
        const char *e = strchr(s, '/');
        size_t len = e ? (size_t)(e - s) : strlen(s);
        /* Only the root pattern "/" may have an empty segment. */
        if (len == 0 && !(n == 1 && p->text[1] == '\0'))
            return SL_EINVAL;
        if (seg_parse(&p->segs[i], s, len) != 0)
            return SL_EINVAL;
        p->n_params += p->segs[i].param;
        p->n_segs++;
        s += len + 1;
    }
    return p->n_params > SL_HTTP_MAX_PARAMS ? SL_EINVAL : 0;
}

int sl__pattern_compile(sl__pattern *p, const char *pattern)
{
    int rc;

    memset(p, 0, sizeof(*p));
    if (!pattern || pattern[0] != '/' || strlen(pattern) > MAX_PATTERN)
        return SL_EINVAL;
    p->text = sl_strdup(pattern);
    if (!p->text)
        return SL_ENOMEM;
    rc = pattern_split(p);
    if (rc != 0)
        sl__pattern_release(p);
    return rc;
}

void sl__pattern_release(sl__pattern *p)
{
    if (!p)
        return;
    free(p->segs);
    free(p->text);
    memset(p, 0, sizeof(*p));
}

int sl__pattern_match(const sl__pattern *p, const char *path, size_t path_len,
                      size_t off[SL_HTTP_MAX_PARAMS], size_t len[SL_HTTP_MAX_PARAMS])
{
    size_t at = 1, np = 0;

    if (path_len == 0 || path[0] != '/')
        return 0;
    for (size_t i = 0; i < p->n_segs; i++) {
        const char *e = memchr(path + at, '/', path_len - at);
        size_t end = e ? (size_t)(e - path) : path_len, n = end - at;
        const sl__seg *s = &p->segs[i];
        if (s->param) {
            if (n == 0 || np >= SL_HTTP_MAX_PARAMS)
                return 0;
            off[np] = at;
            len[np++] = n;
        } else if (n != s->len || memcmp(path + at, s->s, n) != 0) {
            return 0;
        }
        /* Every segment but the last is followed by '/'; the last ends the path. */
        if ((i + 1 < p->n_segs) != (end < path_len))
            return 0;
        at = end + 1;
    }
    return 1;
}

/* ---- matching ---- */

/* Appends method to the comma-separated list in allow unless it is there already. */
static void allow_add(char *allow, size_t cap, const char *method)
{
    size_t n = strlen(method), used = strlen(allow);
    for (const char *p = allow; *p;) {
        size_t len = strcspn(p, ",");
        if (len == n && memcmp(p, method, n) == 0)
            return;
        p += len;
        p += strspn(p, ", ");
    }
    if (used + n + 3 > cap)
        return;
    sl_strfmt(allow + used, cap - used, "%s%s", used ? ", " : "", method);
}

/* Whether a route of method rm answers a request of method m. */
static int method_matches(const char *rm, const char *m)
{
    return strcmp(rm, m) == 0 || (strcmp(m, "HEAD") == 0 && strcmp(rm, "GET") == 0);
}

int sl__route_find(const sl_http *h, const char *path, const char *method, const sl__route **route,
                   size_t off[SL_HTTP_MAX_PARAMS], size_t len[SL_HTTP_MAX_PARAMS], char *allow,
                   size_t cap)
{
    size_t plen = strlen(path);
    int known = 0;

    allow[0] = '\0';
    *route = NULL;
    for (size_t i = 0; i < h->n_routes; i++) {
        const sl__route *r = &h->routes[i];
        if (!sl__pattern_match(&r->pat, path, plen, off, len))
            continue;
        if (method_matches(r->method, method)) {
            *route = r;
            return 0;
        }
        known = 1;
        allow_add(allow, cap, r->method);
        if (strcmp(r->method, "GET") == 0)
            allow_add(allow, cap, "HEAD");
    }
    return known ? 405 : 404;
}

/* ---- the table ---- */

static int route_add(sl_http *h, const char *method, const char *pattern, unsigned flags,
                     sl_route_fn fn, void *ctx, int sse)
{
    sl__route r;
    size_t mlen = method ? strlen(method) : 0;
    int rc;

    if (!h || h->d || (!fn && !sse) || mlen == 0 || mlen >= sizeof(r.method) ||
        strspn(method, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != mlen)
        return h && h->d ? SL_ESTATE : SL_EINVAL;
    memset(&r, 0, sizeof(r));
    memcpy(r.method, method, mlen + 1);
    rc = sl__pattern_compile(&r.pat, pattern);
    if (rc != 0)
        return rc;
    r.flags = flags;
    r.sse = sse;
    r.fn = fn;
    r.ctx = ctx;
    r.label = sl__metrics_label("route", pattern);
    if (!r.label || sl_reserve(&h->routes, &h->cap_routes, h->n_routes + 1, sizeof(r)) != 0) {
        free(r.label);
        sl__pattern_release(&r.pat);
        return SL_ENOMEM;
    }
    h->routes[h->n_routes++] = r;
    return 0;
}

int sl_http_route(sl_http *h, const char *method, const char *pattern, unsigned flags,
                  sl_route_fn fn, void *ctx)
{
    return route_add(h, method, pattern, flags, fn, ctx, 0);
}

int sl_http_sse_route(sl_http *h, const char *pattern, unsigned flags)
{
    return route_add(h, "GET", pattern, flags, NULL, NULL, 1);
}

int sl_http_route_at(const sl_http *h, size_t i, const char **method, const char **pattern)
{
    if (i >= h->n_routes)
        return 0;
    *method = h->routes[i].method;
    *pattern = h->routes[i].pat.text;
    return 1;
}
