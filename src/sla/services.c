/*
 * services.c: spec.services, the monitored resources, with the source settings each kind
 * allows and requires.
 *
 * A source is a flat mapping of scalars kept as sorted sl_kv. Its values are checked here by
 * kind (URLs, HTTP methods, statuses, durations) so that oracles can trust them; `credentials`
 * only ever names an entry of a node's secrets file, so it must be a name and can never be a
 * secret itself. Thread-safety: reentrant.
 */
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "slaledger/util.h"

#include "sla_int.h"

#define SOURCE_KEYS_MAX 12

typedef enum vcheck {
    V_TEXT,      /* a non-empty single-line string */
    V_NAME,      /* a name (credentials, agents) */
    V_URL,       /* http:// or https:// */
    V_PROBE_URL, /* http://, https:// or tcp://host:port */
    V_METHOD,    /* GET or HEAD */
    V_STATUS,    /* an HTTP status 100..599 */
    V_DURATION,  /* a positive duration */
} vcheck;

typedef struct src_key {
    const char *name;
    int required;
    vcheck check;
} src_key;

static const src_key aws_keys[] = {
    {"region", 1, V_TEXT},  {"instance", 1, V_TEXT}, {"credentials", 1, V_NAME},
    {"endpoint", 0, V_URL}, {"metric", 0, V_TEXT},   {"namespace", 0, V_TEXT},
    {NULL, 0, V_TEXT},
};
static const src_key azure_keys[] = {
    {"subscription", 1, V_TEXT},  {"resource_group", 1, V_TEXT}, {"vm", 1, V_TEXT},
    {"tenant", 1, V_TEXT},        {"credentials", 1, V_NAME},    {"endpoint", 0, V_URL},
    {"login_endpoint", 0, V_URL}, {"metric", 0, V_TEXT},         {NULL, 0, V_TEXT},
};
static const src_key http_keys[] = {
    {"url", 1, V_PROBE_URL},    {"method", 0, V_METHOD},    {"expect_status", 0, V_STATUS},
    {"expect_body", 0, V_TEXT}, {"timeout", 0, V_DURATION}, {"cert_expiry", 0, V_DURATION},
    {NULL, 0, V_TEXT},
};
/* Prometheus without authentication for now: no credential kind for it exists yet. */
static const src_key prometheus_keys[] = {{"url", 1, V_URL}, {NULL, 0, V_TEXT}};
static const src_key push_keys[] = {{"agent", 0, V_NAME}, {NULL, 0, V_TEXT}};
static const src_key postgresql_keys[] = {
    {"credentials", 1, V_NAME}, {"database", 0, V_TEXT}, {NULL, 0, V_TEXT}};
static const src_key process_step_keys[] = {
    {"application", 1, V_TEXT}, {"step", 1, V_TEXT}, {NULL, 0, V_TEXT}};

/* Indexed by sl_service_kind. */
static const src_key *const kind_keys[] = {
    aws_keys, azure_keys, http_keys, prometheus_keys, push_keys, postgresql_keys, process_step_keys,
};

static const char *const service_keys[] = {"name", "kind", "source", NULL};
static const char *const http_methods[] = {"GET", "HEAD"};

#define TCP_PREFIX "tcp://"

static int is_tcp(const char *url)
{
    return url && strncmp(url, TCP_PREFIX, sizeof(TCP_PREFIX) - 1) == 0;
}

/* True for "host:port" with a non-empty host (a name, an IPv4 address or a bracketed IPv6
 * one) and a port 1..65535, optionally followed by one '/'. */
static int tcp_target_valid(const char *hp)
{
    const char *colon = strrchr(hp, ':'), *slash = strchr(hp, '/');
    long port = 0;
    size_t digits;

    if (!colon || colon == hp || (slash && slash < colon) || strchr(hp, '@'))
        return 0;
    if (hp[0] == '[' && colon[-1] != ']')
        return 0;
    digits = strspn(colon + 1, "0123456789");
    if (digits == 0 || digits > 5 || (colon[1 + digits] && strcmp(colon + 1 + digits, "/") != 0))
        return 0;
    for (size_t i = 0; i < digits; i++)
        port = port * 10 + (colon[1 + i] - '0');
    return port >= 1 && port <= 65535;
}

/* True when every '%' of s starts a percent-encoding of two hex digits (RFC 3986, 2.1), which
 * curl's URL parser does not check. */
static int percent_valid(const char *s)
{
    static const char hex[] = "0123456789abcdefABCDEF";

    for (s = strchr(s, '%'); s; s = strchr(s + 1, '%')) {
        if (!s[1] || !s[2] || !strchr(hex, s[1]) || !strchr(hex, s[2]))
            return 0;
    }
    return 1;
}

/* Checks an http:// or https:// URL with curl's URL parser: a host, a port 1..65535, no
 * white space, no user name or password (the URL goes on the ledger, where no secret may go).
 * 0, or SL_EINVAL with why[0..cap) saying what is wrong. */
static int http_url_check(const char *url, char *why, size_t cap)
{
    CURLU *h = curl_url();
    char *scheme = NULL, *user = NULL, *port = NULL;
    CURLUcode uc;
    int rc = SL_EINVAL;

    if (!h) {
        sl_strfmt(why, cap, "out of memory");
        return SL_ENOMEM;
    }
    uc = curl_url_set(h, CURLUPART_URL, url, 0);
    if (uc != CURLUE_OK) {
        sl_strfmt(why, cap, "%s", curl_url_strerror(uc));
        goto out;
    }
    if (curl_url_get(h, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
        (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0)) {
        sl_strfmt(why, cap, "the scheme is not http or https");
        goto out;
    }
    if (curl_url_get(h, CURLUPART_USER, &user, 0) == CURLUE_OK) {
        sl_strfmt(why, cap, "a user name or password does not belong in a URL on the ledger");
        goto out;
    }
    if (curl_url_get(h, CURLUPART_PORT, &port, 0) == CURLUE_OK && strcmp(port, "0") == 0) {
        sl_strfmt(why, cap, "port 0 is not a port to connect to");
        goto out;
    }
    if (!percent_valid(url)) {
        sl_strfmt(why, cap, "a %% is not followed by two hex digits");
        goto out;
    }
    rc = 0;
out:
    curl_free(scheme);
    curl_free(user);
    curl_free(port);
    curl_url_cleanup(h);
    return rc;
}

/* Checks a source URL: http:// or https:// (and with allow_tcp, tcp://host:port). 0, or
 * SL_EINVAL / SL_ENOMEM with why[0..cap) saying what is wrong. */
static int url_check(const char *url, int allow_tcp, char *why, size_t cap)
{
    if (allow_tcp && is_tcp(url)) {
        if (tcp_target_valid(url + sizeof(TCP_PREFIX) - 1))
            return 0;
        sl_strfmt(why, cap, "expected tcp://host:port");
        return SL_EINVAL;
    }
    return http_url_check(url, why, cap);
}

/* Checks one source value by its rule; 0 when it is acceptable. */
static int value_check(sl__ctx *c, const sl__ynode *n, const char *path, vcheck check)
{
    int64_t v;
    int e;
    char *tmp = NULL, why[128];
    sl__shown sh;

    switch (check) {
    case V_NAME:
        if (sl__read_name(c, n, path, "a secrets-entry or identity", &tmp) != 0)
            return -1;
        free(tmp);
        return 0;
    case V_METHOD:
        return sl__read_enum(c, n, path, "HTTP method", http_methods, 2, &e);
    case V_STATUS:
        return sl__read_int(c, n, path, 100, 599, &v);
    case V_DURATION:
        return sl__read_duration(c, n, path, 0, &v);
    default:
        break;
    }
    if (sl__read_text(c, n, path, 1, &tmp) != 0)
        return -1;
    free(tmp);
    if (check == V_URL && url_check(n->text, 0, why, sizeof(why)) != 0) {
        sl__error(c, n, SL_EINVAL, path, "%s is not a valid http:// or https:// URL: %s",
                  sl__show(n->text, n->len, &sh), why);
        return -1;
    }
    return 0; /* an http source's url is checked by sl_service_source_check */
}

static int kv_cmp(const void *a, const void *b)
{
    return strcmp(((const sl_kv *)a)->key, ((const sl_kv *)b)->key);
}

/* Adds key = the node's text to the service's source. */
static void kv_add(sl__ctx *c, sl_service_spec *s, const char *key, const sl__ynode *v)
{
    sl_kv *kv = &s->source[s->n_source];

    kv->key = sl_strdup(key);
    kv->value = sl_strndup(v->text, v->len);
    s->n_source++;
    if (!kv->key || !kv->value)
        sl__nomem(c);
}

/* Reads the keys of a source mapping by the kind's table. */
static void source_fill(sl__ctx *c, const sl__ynode *src, const char *path, sl_service_spec *s,
                        const src_key *keys)
{
    sl__field f;

    s->source = calloc(SOURCE_KEYS_MAX, sizeof(*s->source));
    if (!s->source) {
        sl__nomem(c);
        return;
    }
    for (size_t k = 0; keys[k].name; k++) {
        if (sl__field_get(c, src, path, keys[k].name, keys[k].required, &f) &&
            value_check(c, f.node, f.path, keys[k].check) == 0)
            kv_add(c, s, keys[k].name, f.node);
    }
    qsort(s->source, s->n_source, sizeof(*s->source), kv_cmp);
}

/* ---- rules between the keys of an http source ---- */

static const char *kv_get(const sl_service_spec *s, const char *key)
{
    for (size_t i = 0; i < s->n_source; i++) {
        if (strcmp(s->source[i].key, key) == 0)
            return s->source[i].value;
    }
    return NULL;
}

int sl_service_source_check(const sl_service_spec *s, sl_error *err)
{
    const char *url = kv_get(s, "url"), *method = kv_get(s, "method");
    char why[128];
    int rc;

    if (s->kind != SL_SVC_HTTP)
        return 0;
    if (!url || !url[0])
        return sl_error_set(err, SL_EINVAL, "source.url", "service %s has no source.url",
                            s->name ? s->name : "");
    if (strpbrk(url, " \t\r\n"))
        return sl_error_set(err, SL_EINVAL, "source.url", "the URL contains white space");
    if ((rc = url_check(url, 1, why, sizeof(why))) != 0)
        return sl_error_set(err, rc, "source.url",
                            "%.80s is not a valid http://, https:// or tcp://host:port URL: %s",
                            url, why);
    if (kv_get(s, "cert_expiry") && strncmp(url, "https://", 8) != 0)
        return sl_error_set(err, SL_EINVAL, "source.cert_expiry",
                            "cert_expiry needs an https:// URL");
    if (method && strcmp(method, "HEAD") == 0 && kv_get(s, "expect_body"))
        return sl_error_set(err, SL_EINVAL, "source.expect_body",
                            "a HEAD request gets no body to expect");
    if (is_tcp(url) && (kv_get(s, "expect_status") || kv_get(s, "expect_body") || method))
        return sl_error_set(err, SL_EINVAL, "source.url",
                            "a tcp:// probe only connects: it has no method, status or body");
    return 0;
}

static void source_parse(sl__ctx *c, const sl__ynode *svc, const char *path, sl_service_spec *s)
{
    const src_key *keys = kind_keys[s->kind];
    const char *names[SOURCE_KEYS_MAX];
    size_t n = 0;
    int required = 0;
    size_t errors_before = c->errors;
    sl_error e = {0};
    sl__field f;

    for (; keys[n].name; n++) {
        names[n] = keys[n].name;
        required |= keys[n].required;
    }
    names[n] = NULL;
    if (!sl__field_get(c, svc, path, "source", required, &f))
        return;
    if (sl__map_check(c, f.node, f.path, names))
        source_fill(c, f.node, f.path, s, keys);
    if (c->errors == errors_before && sl_service_source_check(s, &e) != 0) {
        /* e.field is "source.KEY": point at that key's value when it is there */
        const char *key = e.field + strlen("source.");
        sl__field k;
        if (!sl__field_get(c, f.node, f.path, key, 0, &k))
            k = f;
        sl__error(c, k.node, SL_EINVAL, k.path, "%s", e.msg);
    }
}

/* The index of a service named `name` among the first `count`, or -1. */
static long service_find(const sl_agreement_spec *spec, size_t count, const char *name)
{
    for (size_t i = 0; i < count; i++) {
        if (spec->services[i].name && strcmp(spec->services[i].name, name) == 0)
            return (long)i;
    }
    return -1;
}

static void service_parse(sl__build *b, const sl__ynode *n, const char *path, size_t i)
{
    sl_service_spec *s = &b->spec->services[i];
    sl__field f;
    int kind;
    size_t errors_before;

    if (!sl__map_check(&b->ctx, n, path, service_keys)) {
        b->services_ok = 0;
        return;
    }
    if (!sl__field_get(&b->ctx, n, path, "name", 1, &f) ||
        sl__read_name(&b->ctx, f.node, f.path, "a service", &s->name) != 0) {
        b->services_ok = 0;
    } else if (service_find(b->spec, i, s->name) >= 0) {
        sl__error(&b->ctx, f.node, SL_EINVAL, f.path, "duplicate service name '%s'", s->name);
    }
    if (!sl__field_get(&b->ctx, n, path, "kind", 1, &f) ||
        sl__read_enum(&b->ctx, f.node, f.path, "service kind", sl__service_kind_names,
                      sl__n_service_kinds, &kind) != 0)
        return;
    s->kind = (sl_service_kind)kind;
    errors_before = b->ctx.errors;
    source_parse(&b->ctx, n, path, s);
    b->source_ok[i] = b->ctx.errors == errors_before;
}

void sl__services_parse(sl__build *b, const sl__ynode *n, const char *path)
{
    char item[SL__PATH_MAX];
    size_t count;

    if (!sl__list_check(&b->ctx, n, path, SL_MAX_SERVICES, 1))
        return;
    count = n->n < SL_MAX_SERVICES ? n->n : SL_MAX_SERVICES;
    b->spec->services = calloc(count ? count : 1, sizeof(*b->spec->services));
    if (!b->spec->services) {
        sl__nomem(&b->ctx);
        return;
    }
    b->spec->n_services = count;
    b->services_ok = count > 0;
    for (size_t i = 0; i < count; i++) {
        sl__path_index(item, path, i);
        service_parse(b, &n->kids[i], item, i);
    }
}

/** The index of the service called name, or -1 (used by objectives.c). */
long sl__service_index(const sl_agreement_spec *spec, const char *name)
{
    return service_find(spec, spec->n_services, name);
}
