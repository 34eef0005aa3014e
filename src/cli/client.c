/*
 * client.c: the CLI's HTTP client for a node's REST API (docs/api.md), and the output helpers
 * of the commands built on it (cmd_agreement.c, cmd_service.c, cmd_wallet.c).
 *
 * One request per call with a fresh libcurl handle: no redirects are followed (a token must not
 * travel to another host), only http and https are spoken, and the whole exchange is bounded by
 * SL__CLIENT_TIMEOUT_S. An answer must be JSON of at most MAX_ANSWER bytes. The API's error
 * shape {"error": {"code", "message", "field"}} becomes one line on stderr,
 * "slaledger CMD: URL: [FIELD: ]MESSAGE (HTTP STATUS CODE)", and an exit code: 4xx (input,
 * authentication, visibility, conflicts) 1; no connection, a timeout, 5xx or a garbled answer 3.
 *
 * The token lives only in sl__client.auth, is never printed, and is wiped by sl__client_close.
 * Not thread-safe: curl_global_init is called per request, as a single-threaded CLI may.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <sodium.h>

#include "cli.h"
#include "client.h"

#define MAX_ANSWER        (64u << 20)
#define CONNECT_TIMEOUT_S 10

/* ---- where the node is and who speaks ---- */

/* The value of option opt, else of the environment variable env; NULL when neither is set. */
static const char *opt_or_env(const char *opt, const char *env)
{
    const char *v = opt ? opt : getenv(env);

    return v && v[0] != '\0' ? v : NULL;
}

/* True when host (as curl's URL parser gives it) is a loopback address or "localhost". */
static int is_loopback(const char *host)
{
    return strncmp(host, "127.", 4) == 0 || strcmp(host, "localhost") == 0 ||
           strcmp(host, "[::1]") == 0;
}

/* Checks url's scheme and host; sets *plain_remote for http:// to a non-loopback host. 0 or -1. */
static int check_url(const char *url, int *plain_remote)
{
    CURLU *u = curl_url();
    char *scheme = NULL, *host = NULL;
    int rc = -1;

    if (!u || curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK)
        goto out;
    if (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0)
        goto out;
    *plain_remote = strcmp(scheme, "http") == 0 && !is_loopback(host);
    rc = 0;
out:
    curl_free(scheme);
    curl_free(host);
    curl_url_cleanup(u);
    return rc;
}

/* Copies url into c->base without trailing slashes. 0 or -1 when it does not fit. */
static int set_base(sl__client *c, const char *url)
{
    size_t n = strlen(url);

    while (n > 0 && url[n - 1] == '/')
        n--;
    if (n == 0 || n >= sizeof(c->base))
        return -1;
    memcpy(c->base, url, n);
    c->base[n] = '\0';
    return 0;
}

int sl__client_open(sl__client *c, const char *command, const sl__client_opts *o)
{
    const char *url = opt_or_env(o->node, "SLALEDGER_NODE");
    const char *token = opt_or_env(o->token, "SLALEDGER_TOKEN");
    int plain_remote = 0;

    memset(c, 0, sizeof(*c));
    c->command = command;
    if (!url)
        url = SL__CLIENT_DEFAULT_NODE;
    if (set_base(c, url) != 0 || check_url(c->base, &plain_remote) != 0) {
        fprintf(stderr, "slaledger %s: --node: '%s' is not an http:// or https:// URL\n", command,
                url);
        return SL_EXIT_USAGE;
    }
    if (token && plain_remote) {
        fprintf(stderr,
                "slaledger %s: %s: refusing to send a token over plain http to a host that is "
                "not loopback; use https:// (a TLS proxy in front of the node)\n",
                command, c->base);
        return SL_EXIT_USAGE;
    }
    if (token && strlen(token) + sizeof("Authorization: Bearer ") > sizeof(c->auth)) {
        fprintf(stderr, "slaledger %s: the token is too long\n", command);
        return SL_EXIT_USAGE;
    }
    if (token)
        sl_strfmt(c->auth, sizeof(c->auth), "Authorization: Bearer %s", token);
    return 0;
}

void sl__client_close(sl__client *c)
{
    if (c)
        sodium_memzero(c->auth, sizeof(c->auth));
}

/* ---- one request ---- */

/* The answer as it arrives: at most MAX_ANSWER bytes. */
typedef struct answer {
    sl_buf body;
    int too_big;
} answer;

static size_t on_data(char *p, size_t size, size_t n, void *arg)
{
    answer *a = arg;

    if (a->body.len + n > MAX_ANSWER) {
        a->too_big = 1;
        return 0; /* makes curl fail the transfer with CURLE_WRITE_ERROR */
    }
    sl_buf_put(&a->body, p, size * n);
    return a->body.err ? 0 : size * n;
}

/* Sets the options of one request on h. CURLE_OK or the first failure. */
static CURLcode setup(CURL *h, const char *url, const char *method, struct curl_slist *hdrs,
                      const char *body, size_t len, answer *a, char *errbuf)
{
    CURLcode e = curl_easy_setopt(h, CURLOPT_URL, url);

    if (!e)
        e = curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    if (!e)
        e = curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    if (!e)
        e = curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    if (!e)
        e = curl_easy_setopt(h, CURLOPT_TIMEOUT, (long)SL__CLIENT_TIMEOUT_S);
    if (!e)
        e = curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, (long)CONNECT_TIMEOUT_S);
    if (!e)
        e = curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    if (!e)
        e = curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
    if (!e)
        e = curl_easy_setopt(h, CURLOPT_WRITEDATA, a);
    if (!e)
        e = curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
    if (!e && strcmp(method, "POST") == 0) {
        e = curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
        if (!e)
            e = curl_easy_setopt(h, CURLOPT_POSTFIELDS, body ? body : "");
    }
    return e;
}

/* The request's headers: the token and the body's type. NULL when out of memory. */
static struct curl_slist *headers(const sl__client *c, const char *body, size_t len)
{
    struct curl_slist *l = curl_slist_append(NULL, "Accept: application/json");
    struct curl_slist *next;
    const char *type = "Content-Type: application/json";
    size_t i = 0;

    /* An agreement document may be YAML: name it so when it does not start as JSON does. The
     * body is not NUL-terminated. */
    while (body && i < len && body[i] != '\0' && strchr(" \t\r\n", body[i]))
        i++;
    if (body && i < len && body[i] != '{')
        type = "Content-Type: application/yaml";
    if (l && body && (next = curl_slist_append(l, type)) != NULL)
        l = next;
    if (l && c->auth[0] != '\0' && (next = curl_slist_append(l, c->auth)) != NULL)
        l = next;
    return l;
}

/* Prints why the node could not be asked. Returns SL_EXIT_IO. */
static int transport_error(const sl__client *c, CURLcode e, const char *errbuf, const answer *a)
{
    const char *why = errbuf[0] != '\0' ? errbuf : curl_easy_strerror(e);

    if (a->too_big)
        fprintf(stderr, "slaledger %s: %s: the answer exceeds %u bytes\n", c->command, c->base,
                MAX_ANSWER);
    else if (e == CURLE_OPERATION_TIMEDOUT)
        fprintf(stderr, "slaledger %s: %s: no answer within %d s: %s\n", c->command, c->base,
                SL__CLIENT_TIMEOUT_S, why);
    else
        fprintf(stderr, "slaledger %s: %s: cannot reach the node: %s\n", c->command, c->base, why);
    return SL_EXIT_IO;
}

/* Prints an answer that is not 2xx and returns its exit code. */
static int api_error(const sl__client *c, long status, json_t *j)
{
    const json_t *err = json_object_get(j, "error");
    const char *code = json_string_value(json_object_get(err, "code"));
    const char *msg = json_string_value(json_object_get(err, "message"));
    const char *field = json_string_value(json_object_get(err, "field"));

    fprintf(stderr, "slaledger %s: %s: ", c->command, c->base);
    if (field && field[0] != '\0')
        fprintf(stderr, "%s: ", field);
    fprintf(stderr, "%s (HTTP %ld%s%s)", msg ? msg : "the node refused the request", status,
            code ? " " : "", code ? code : "");
    if (status == 401)
        fprintf(stderr, c->auth[0] != '\0' ? "; this node does not know the token"
                                           : "; give --token or set SLALEDGER_TOKEN");
    fputc('\n', stderr);
    return status >= 400 && status < 500 ? SL_EXIT_INVALID : SL_EXIT_IO;
}

/* Turns a finished exchange into the caller's answer: 0 with *out, or an exit code. */
static int finish(const sl__client *c, long status, answer *a, json_t **out)
{
    json_error_t jerr;
    json_t *j = json_loadb((const char *)a->body.p, a->body.len, 0, &jerr);

    if (status >= 200 && status < 300 && j) {
        *out = j;
        return 0;
    }
    if (!j && (status < 400 || status >= 500 || a->body.len == 0)) {
        fprintf(stderr, "slaledger %s: %s: HTTP %ld with an answer that is not JSON: %s\n",
                c->command, c->base, status, jerr.text);
        return status >= 400 && status < 500 ? SL_EXIT_INVALID : SL_EXIT_IO;
    }
    int rc = api_error(c, status, j);
    json_decref(j);
    return rc;
}

int sl__client_call(sl__client *c, const char *method, const char *path, const char *body,
                    size_t len, json_t **out)
{
    char errbuf[CURL_ERROR_SIZE] = "";
    answer a = {.too_big = 0};
    struct curl_slist *hdrs = NULL;
    sl_buf url;
    CURL *h = NULL;
    long status = 0;
    CURLcode e;
    int rc = SL_EXIT_INVALID;

    *out = NULL;
    sl_buf_init(&a.body);
    sl_buf_init(&url);
    sl_buf_printf(&url, "%s%s", c->base, path ? path : "");
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        goto oom;
    h = curl_easy_init();
    hdrs = headers(c, body, len);
    if (!path || !h || !hdrs || url.err ||
        setup(h, sl_buf_cstr(&url), method, hdrs, body, len, &a, errbuf) != CURLE_OK)
        goto oom;
    if ((e = curl_easy_perform(h)) != CURLE_OK) {
        rc = transport_error(c, e, errbuf, &a);
        goto out;
    }
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    rc = finish(c, status, &a, out);
    goto out;
oom:
    fprintf(stderr, "slaledger %s: cannot prepare the request: out of memory\n", c->command);
out:
    curl_slist_free_all(hdrs);
    curl_easy_cleanup(h);
    curl_global_cleanup();
    sl_buf_release(&url);
    sl_buf_release(&a.body);
    return rc;
}

int sl__client_get_agreement(sl__client *c, const char *name, const char *suffix,
                             const sl_buf *query, json_t **j)
{
    sl_buf path;
    int rc;

    sl_buf_init(&path);
    sl_buf_printf(&path, "/v1/agreements/");
    sl__client_esc(&path, name);
    sl_buf_printf(&path, "%s", suffix);
    if (query && query->len > 0)
        sl_buf_put(&path, query->p, query->len);
    if (query && query->err)
        path.err = query->err;
    rc = sl__client_call(c, "GET", sl_buf_cstr(&path), NULL, 0, j);
    sl_buf_release(&path);
    return rc;
}

void sl__client_esc(sl_buf *b, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";

    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
            strchr("-._~", *p)) {
            sl_buf_put_u8(b, *p);
        } else {
            char pct[3] = {'%', hex[*p >> 4], hex[*p & 15]};
            sl_buf_put(b, pct, 3);
        }
    }
}

void sl__client_query(sl_buf *b, const char *key, const char *value)
{
    if (!value)
        return;
    sl_buf_printf(b, "%c%s=", b->len > 0 && memchr(b->p, '?', b->len) ? '&' : '?', key);
    sl__client_esc(b, value);
}

int sl__client_print_json(const sl__client *c, json_t *j)
{
    return sl__cli_print_json(c->command, j);
}

/* Checks that s is an RFC 3339 time. 0 or SL_EXIT_USAGE. */
static int check_time(const char *command, const char *opt, const char *s)
{
    int64_t ms;

    if (!s || sl_time_parse(s, strlen(s), &ms) == 0)
        return 0;
    fprintf(stderr, "slaledger %s: %s: '%s' is not an RFC 3339 time (2026-12-01T00:00:00Z)\n",
            command, opt, s);
    return SL_EXIT_USAGE;
}

int sl__client_filter_query(const char *command, const sl__client_filter *f, sl_buf *path)
{
    int64_t n;
    int rc = check_time(command, "--from", f->from);

    if (!rc)
        rc = check_time(command, "--to", f->to);
    if (!rc && f->limit)
        rc = sl__cli_int(command, "--limit", f->limit, 0, 1000, &n);
    if (!rc && f->offset)
        rc = sl__cli_int(command, "--offset", f->offset, 0, INT64_MAX / 2, &n);
    if (rc)
        return rc;
    sl__client_query(path, "kind", f->kind);
    sl__client_query(path, "objective", f->objective);
    sl__client_query(path, "from", f->from);
    sl__client_query(path, "to", f->to);
    sl__client_query(path, "limit", f->limit);
    sl__client_query(path, "offset", f->offset);
    return 0;
}

int sl__client_print_tx(const sl__client *c, int json, json_t *j, const char *fmt, ...)
{
    char lead[256], h[32];
    va_list ap;

    if (json)
        return sl__client_print_json(c, j);
    va_start(ap, fmt);
    vsnprintf(lead, sizeof(lead), fmt, ap);
    va_end(ap);
    printf("%s: channel %s, transaction %s, block %s\n", lead, sl__jstr(j, "channel"),
           sl__jstr(j, "transaction"), sl__jint(j, "height", h, sizeof(h)));
    json_decref(j);
    return 0;
}

/* ---- human output ---- */

/* Cell i of row, "" when missing. */
static const char *cell(const json_t *row, size_t i)
{
    const char *s = json_string_value(json_array_get(row, i));

    return s ? s : "";
}

static size_t n_cols(const sl__table *t)
{
    return strlen(t->align);
}

/* Appends a row of the n_cols(t) strings in ap to t. */
static void table_row(sl__table *t, va_list ap)
{
    json_t *row = json_array();

    for (size_t i = 0; i < n_cols(t); i++) {
        const char *s = va_arg(ap, const char *);
        json_array_append_new(row, sl__cli_jstr(s ? s : "-"));
    }
    /* On failure (out of memory) jansson drops row; the table prints the error later. */
    json_array_append_new(t->rows, row);
}

void sl__table_init(sl__table *t, const char *align, ...)
{
    va_list ap;

    t->align = align;
    t->rows = json_array();
    va_start(ap, align);
    table_row(t, ap);
    va_end(ap);
}

void sl__table_add(sl__table *t, ...)
{
    va_list ap;

    va_start(ap, t);
    table_row(t, ap);
    va_end(ap);
}

/* Each column's width over every row. */
static void table_widths(const sl__table *t, int *w)
{
    size_t r;
    json_t *row;

    json_array_foreach(t->rows, r, row)
    {
        for (size_t i = 0; i < n_cols(t); i++) {
            size_t len = strlen(cell(row, i));
            if ((int)len > w[i])
                w[i] = (int)len;
        }
    }
}

void sl__table_release(sl__table *t)
{
    json_decref(t->rows);
    t->rows = NULL;
}

int sl__table_print(sl__table *t, int indent)
{
    int w[32] = {0}, rc = 0;
    size_t r, n = n_cols(t);
    json_t *row;

    if (!t->rows || n > 32 || json_array_size(t->rows) == 0) {
        fprintf(stderr, "slaledger: cannot build the table: out of memory\n");
        rc = SL_EXIT_INVALID;
        goto out;
    }
    table_widths(t, w);
    json_array_foreach(t->rows, r, row)
    {
        printf("%*s", indent, "");
        for (size_t i = 0; i < n; i++) {
            const char *s = cell(row, i);
            int last = i + 1 == n;
            if (t->align[i] == 'r')
                printf("%*s%s", w[i], s, last ? "" : "  ");
            else
                printf("%-*s%s", last ? 0 : w[i], s, last ? "" : "  ");
        }
        putchar('\n');
    }
out:
    sl__table_release(t);
    return rc;
}

const char *sl__jstr(const json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));

    return s ? s : "-";
}

/* Decimals of an ISO 4217 currency: the few with 0 or 3, else 2 (as src/sla/names.c knows). */
static unsigned minor_units(const char *currency)
{
    static const char *const zero[] = {"JPY", "KRW"};
    static const char *const three[] = {"BHD", "JOD", "KWD", "OMR", "TND"};

    for (size_t i = 0; i < sizeof(zero) / sizeof(zero[0]); i++)
        if (strcmp(currency, zero[i]) == 0)
            return 0;
    for (size_t i = 0; i < sizeof(three) / sizeof(three[0]); i++)
        if (strcmp(currency, three[i]) == 0)
            return 3;
    return 2;
}

const char *sl__jamount(const json_t *o, const char *key, const char *currency, char *buf,
                        size_t cap)
{
    const json_t *v = json_object_get(o, key);
    char num[40];
    const char *cur = currency ? currency : "";

    if (json_is_string(v)) {
        sl_strfmt(buf, cap, "%s%s%s", json_string_value(v), cur[0] ? " " : "", cur);
    } else if (json_is_integer(v) && cur[0] != '\0') {
        sl_decimal_format((int64_t)json_integer_value(v), minor_units(cur), num, sizeof(num));
        sl_strfmt(buf, cap, "%s %s", num, cur);
    } else if (json_is_integer(v)) {
        sl_strfmt(buf, cap, "%lld", (long long)json_integer_value(v));
    } else {
        sl_strfmt(buf, cap, "-");
    }
    return buf;
}

const char *sl__jvalue(int64_t v, const char *unit, char *buf, size_t cap)
{
    if (unit && strcmp(unit, "ppm") == 0)
        sl_ppm_format(v, buf, cap);
    else if (unit && unit[0] != '\0')
        sl_strfmt(buf, cap, "%lld %s", (long long)v, unit);
    else
        sl_strfmt(buf, cap, "%lld", (long long)v);
    return buf;
}

const char *sl__jtime(const json_t *o, const char *key)
{
    const char *s = sl__jstr(o, key);

    return strncmp(s, "1970-01-01T00:00:00", 19) == 0 ? "-" : s;
}

const char *sl__jint(const json_t *o, const char *key, char *buf, size_t cap)
{
    const json_t *v = json_object_get(o, key);

    if (json_is_integer(v))
        sl_strfmt(buf, cap, "%lld", (long long)json_integer_value(v));
    else
        sl_strfmt(buf, cap, "-");
    return buf;
}

int sl__client_filtered(const sl__cli_spec *spec, int argc, char **argv, sl__client_opts *o,
                        const sl__client_filter *f, const char *suffix,
                        int (*print)(const json_t *j))
{
    sl__client c = {0};
    sl_buf query;
    json_t *j = NULL;
    int nargs, rc;

    if ((rc = sl__cli_parse(spec, argc, argv, &nargs)) >= 0)
        return rc;
    sl_buf_init(&query);
    if ((rc = sl__client_filter_query(spec->command, f, &query)) == 0 &&
        (rc = sl__client_open(&c, spec->command, o)) == 0)
        rc = sl__client_get_agreement(&c, argv[1], suffix, &query, &j);
    if (rc == 0 && o->json) {
        rc = sl__client_print_json(&c, j);
        j = NULL;
    } else if (rc == 0) {
        rc = print(j);
    }
    json_decref(j);
    sl_buf_release(&query);
    sl__client_close(&c);
    return rc;
}
