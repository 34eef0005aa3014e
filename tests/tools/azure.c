/*
 * azure.c: tool_azure, a stand-in for Azure on 127.0.0.1: the Microsoft identity platform's
 * v2.0 token endpoint (OAuth2 client credentials) and the Azure Monitor metrics REST API of
 * virtual machines, with scripted metric series and faults, for the oracle tests, `make demo`
 * and the scheduler's tests. No network beyond loopback; never a real credential.
 *
 *   tool_azure --clients FILE [--script FILE] [--port N] [--token-ttl SECONDS]
 *              [--start RFC3339] [--slow MS] [--speed S] [--since RFC3339]
 *
 *   --clients FILE     the registered applications, one per line: TENANT CLIENT_ID SECRET
 *   --script FILE      the VMs' metric series and the faults (below); without it every VM
 *                      is unknown (404)
 *   --port N           the TCP port on 127.0.0.1; 0 (the default) picks a free one
 *   --token-ttl S      lifetime of issued tokens in seconds of the tool's clock (expires_in),
 *                      default 3599
 *   --start TIME       the instant +DURATION times count from; default: --since when given,
 *                      else when the tool started (whole seconds)
 *   --slow MS          how long a `slow` fault delays an answer in wall-clock ms, default 3000
 *                      (15000 goes beyond the adapters' 10 s default timeout)
 *   --speed S          how many times faster than the wall clock the tool's clock runs, an
 *                      integer 1..100000, default 1 (a node's spec.clock.speed)
 *   --since TIME       the wall time the sped-up clock starts from; default: when the tool
 *                      started (a node's spec.clock.since)
 *
 * The tool's clock is since + (wall - since) * speed once the wall clock reaches since, and
 * the wall clock before; it stops at 9999-12-31T23:59:59.999Z. Run with the same --speed and
 * --since as the node, it keeps the node's time. That clock, never the wall clock, decides
 * which intervals have ended, when faults apply, when tokens expire and what error timestamps
 * say; only --slow is wall-clock time (it stands for a slow network).
 *
 * Once it listens it prints "listening on 127.0.0.1:PORT" on stdout (flushed) and serves until
 * SIGTERM or SIGINT; then it prints "tool_azure: tokens issued: N, token requests: N, metrics
 * requests: N" on stderr (a test asserts from it that a token was cached) and exits 0. One
 * line per request goes to stderr. Exit status 2: usage; 1: an unreadable or malformed file
 * (FILE:LINE on stderr) or no port to listen on.
 *
 * Script lines (blank lines and lines starting with '#' are ignored; VM names match without
 * regard to case; METRIC may contain spaces, e.g. Percentage CPU, since lines are read from
 * their end):
 *
 *   VM METRIC default VALUE       the value wherever no range line applies
 *   VM METRIC FROM TO VALUE       the value in [FROM, TO)
 *   VM METRIC FROM TO missing     no value in [FROM, TO) (the VM reported nothing)
 *   fault FROM TO KIND            metrics requests arriving in [FROM, TO) by the tool's clock
 *                                 fail: http500 (500 InternalServerError), malformed (200 with
 *                                 a truncated body) or slow (answered after --slow MS)
 *
 * FROM and TO are RFC 3339 times or +DURATION / -DURATION relative to --start ("+5m", "-1h",
 * "+0s"). Later lines take precedence over earlier ones. Values are numbers: 1 up and 0 down
 * for VmAvailabilityMetric, a percentage for Percentage CPU. A VM is known when a line names
 * it; any subscription and resource group are accepted. Metrics known: VmAvailabilityMetric,
 * Percentage CPU and every metric a line names (no line: no values).
 *
 * The model: a metric is sampled once per second; a datapoint of interval [t, t + grain)
 * aggregates the samples in it (minimum, maximum, average, total, count). Datapoints are
 * listed for every interval of the timespan, as Azure does, but carry values only for
 * intervals that have ended by the tool's clock and have samples. Any whole-second grain
 * is accepted (Azure itself accepts only PT1M .. P1D), so tests can use short intervals.
 *
 * Errors follow the real services: token errors are 400/401 {"error", "error_description":
 * "AADSTS...: ...", "error_codes", "timestamp", "trace_id", "correlation_id"}; metrics errors
 * are {"error": {"code", "message"}}, with 401 InvalidAuthenticationToken /
 * ExpiredAuthenticationToken / AuthenticationFailed and a WWW-Authenticate header for a bad
 * bearer token. Test scaffolding: one thread per connection, shared state under one mutex.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <microhttpd.h>
#include <sodium.h>

#include "slaledger/util.h"

#define MAX_BODY       65536
#define MAX_POINTS     100000
#define MAX_TOKENS     100000
#define TOKEN_TEXT_CAP 64
#define API_VERSION    "2018-01-01"

enum { FAULT_HTTP500, FAULT_MALFORMED, FAULT_SLOW };

typedef struct series_line {
    char *vm;
    char *metric;
    int is_default;
    int missing;
    int64_t from_ms, to_ms;
    double value;
} series_line;

typedef struct fault_line {
    int64_t from_ms, to_ms;
    int kind;
} fault_line;

typedef struct client {
    char *tenant, *id, *secret;
} client;

typedef struct issued {
    char token[TOKEN_TEXT_CAP];
    int64_t expires_ms;
} issued;

/* The tool's configuration (read-only once serving) and its shared counters. */
static struct {
    series_line *lines;
    size_t n_lines, cap_lines;
    fault_line *faults;
    size_t n_faults, cap_faults;
    client *clients;
    size_t n_clients, cap_clients;
    int64_t start_ms, ttl_s, slow_ms;
    int64_t since_ms, speed; /* the tool's clock */
    unsigned port;
    pthread_mutex_t lock;
    issued *tokens; /* a ring of the last MAX_TOKENS issued */
    size_t n_tokens;
    unsigned long tokens_issued, token_requests, metrics_requests;
} g = {.ttl_s = 3599, .slow_ms = 3000, .speed = 1, .lock = PTHREAD_MUTEX_INITIALIZER};

static volatile sig_atomic_t stopping;

static int64_t wall_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The tool's clock, which every "now" of the tool reads: the wall clock sped up by --speed
 * from --since on (as a node's spec.clock), stopped at SL_TIME_MAX_MS (sl_clock_fast). */
static int64_t standin_now_ms(void)
{
    return sl_clock_fast(wall_ms(), g.since_ms, (uint32_t)g.speed);
}

static void on_signal(int sig)
{
    (void)sig;
    stopping = 1;
}

/* ---- reading the files ---- */

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "tool_azure: ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(1);
}

static char *xstrdup(const char *s)
{
    char *d = sl_strdup(s);

    if (!d)
        die("out of memory");
    return d;
}

/* Splits line into whitespace-separated words (in place); returns how many (at most max). */
static size_t split_words(char *line, char **w, size_t max)
{
    size_t n = 0;
    char *p = line;

    while (n < max) {
        p += strspn(p, " \t\r\n");
        if (!*p || *p == '#')
            break;
        w[n++] = p;
        p += strcspn(p, " \t\r\n");
        if (*p)
            *p++ = '\0';
    }
    return n;
}

/* RFC 3339, or +DURATION / -DURATION from --start. */
static int parse_when(const char *s, int64_t *out)
{
    int64_t d;

    if (*s != '+' && *s != '-')
        return sl_time_parse(s, strlen(s), out);
    if (strcmp(s + 1, "0") == 0 || strcmp(s + 1, "0s") == 0)
        d = 0;
    else if (sl_duration_parse(s + 1, strlen(s + 1), &d) != 0)
        return SL_EINVAL;
    *out = *s == '+' ? g.start_ms + d : g.start_ms - d;
    return 0;
}

static double parse_number(const char *s, const char *path, unsigned lineno)
{
    char *end;
    double v;

    errno = 0;
    v = strtod(s, &end);
    if (end == s || *end || errno)
        die("%s:%u: %s is not a number", path, lineno, s);
    return v;
}

static void read_fault(char **w, size_t n, const char *path, unsigned lineno)
{
    static const char *const kinds[] = {"http500", "malformed", "slow"};
    fault_line f = {0};
    int k = -1;

    if (n != 4 || parse_when(w[1], &f.from_ms) || parse_when(w[2], &f.to_ms))
        die("%s:%u: expected: fault FROM TO http500|malformed|slow", path, lineno);
    for (int i = 0; i < 3; i++) {
        if (strcmp(w[3], kinds[i]) == 0)
            k = i;
    }
    if (k < 0)
        die("%s:%u: unknown fault %s", path, lineno, w[3]);
    f.kind = k;
    if (sl_reserve(&g.faults, &g.cap_faults, g.n_faults + 1, sizeof(f)) != 0)
        die("out of memory");
    g.faults[g.n_faults++] = f;
}

/* Joins w[a..b) with single spaces: a metric name. */
static char *join_words(char **w, size_t a, size_t b)
{
    sl_buf m;
    char *s;

    sl_buf_init(&m);
    for (size_t i = a; i < b; i++) {
        if (i > a)
            sl_buf_put_u8(&m, ' ');
        sl_buf_put(&m, w[i], strlen(w[i]));
    }
    s = xstrdup(sl_buf_cstr(&m) ? sl_buf_cstr(&m) : "");
    sl_buf_release(&m);
    return s;
}

static void read_series(char **w, size_t n, const char *path, unsigned lineno)
{
    series_line l = {0};
    size_t metric_end;

    if (n >= 4 && strcmp(w[n - 2], "default") == 0) {
        l.is_default = 1;
        metric_end = n - 2;
    } else if (n >= 5) {
        if (parse_when(w[n - 3], &l.from_ms) || parse_when(w[n - 2], &l.to_ms))
            die("%s:%u: FROM and TO must be RFC 3339 or +/-DURATION", path, lineno);
        metric_end = n - 3;
    } else {
        die("%s:%u: expected VM METRIC default VALUE or VM METRIC FROM TO VALUE|missing", path,
            lineno);
    }
    if (strcmp(w[n - 1], "missing") == 0 && !l.is_default)
        l.missing = 1;
    else
        l.value = parse_number(w[n - 1], path, lineno);
    l.vm = xstrdup(w[0]);
    l.metric = join_words(w, 1, metric_end);
    if (sl_reserve(&g.lines, &g.cap_lines, g.n_lines + 1, sizeof(l)) != 0)
        die("out of memory");
    g.lines[g.n_lines++] = l;
}

static void read_client(char **w, size_t n, const char *path, unsigned lineno)
{
    client c;

    if (n != 3)
        die("%s:%u: expected TENANT CLIENT_ID CLIENT_SECRET", path, lineno);
    c.tenant = xstrdup(w[0]);
    c.id = xstrdup(w[1]);
    c.secret = xstrdup(w[2]);
    if (sl_reserve(&g.clients, &g.cap_clients, g.n_clients + 1, sizeof(c)) != 0)
        die("out of memory");
    g.clients[g.n_clients++] = c;
}

typedef void (*line_fn)(char **w, size_t n, const char *path, unsigned lineno);

static void read_lines(const char *path, line_fn script_fn, line_fn other_fn)
{
    FILE *f = fopen(path, "r");
    char *line = NULL, *w[64];
    size_t cap = 0, n;
    unsigned lineno = 0;

    if (!f)
        die("cannot open %s: %s", path, strerror(errno));
    while (getline(&line, &cap, f) >= 0) {
        lineno++;
        n = split_words(line, w, 64);
        if (n == 0)
            continue;
        if (script_fn && strcmp(w[0], "fault") == 0)
            script_fn(w, n, path, lineno);
        else
            other_fn(w, n, path, lineno);
    }
    free(line);
    fclose(f);
}

/* ---- the metric model ---- */

/* The value of vm's metric at instant t: 1 with *v set, or 0 (no sample). */
static int value_at(const char *vm, const char *metric, int64_t t, double *v)
{
    const series_line *hit = NULL, *def = NULL;

    for (size_t i = 0; i < g.n_lines; i++) {
        const series_line *l = &g.lines[i];
        if (strcasecmp(l->vm, vm) != 0 || strcasecmp(l->metric, metric) != 0)
            continue;
        if (l->is_default)
            def = l;
        else if (t >= l->from_ms && t < l->to_ms)
            hit = l;
    }
    if (!hit)
        hit = def;
    if (!hit || hit->missing)
        return 0;
    *v = hit->value;
    return 1;
}

typedef struct totals {
    double min, max, sum_ms; /* sum of value * ms */
    int64_t covered_ms;
} totals;

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

    return (x > y) - (x < y);
}

/* Aggregates [a, b) piecewise: the value only changes at the lines' boundaries. */
static void aggregate(const char *vm, const char *metric, int64_t a, int64_t b, totals *out)
{
    int64_t *cut = malloc((2 * g.n_lines + 2) * sizeof(*cut));
    size_t n = 0;
    double v;

    memset(out, 0, sizeof(*out));
    if (!cut)
        return;
    cut[n++] = a;
    cut[n++] = b;
    for (size_t i = 0; i < g.n_lines; i++) {
        if (g.lines[i].from_ms > a && g.lines[i].from_ms < b)
            cut[n++] = g.lines[i].from_ms;
        if (g.lines[i].to_ms > a && g.lines[i].to_ms < b)
            cut[n++] = g.lines[i].to_ms;
    }
    qsort(cut, n, sizeof(*cut), cmp_i64);
    for (size_t i = 0; i + 1 < n; i++) {
        if (cut[i + 1] == cut[i] || !value_at(vm, metric, cut[i], &v))
            continue;
        if (out->covered_ms == 0 || v < out->min)
            out->min = v;
        if (out->covered_ms == 0 || v > out->max)
            out->max = v;
        out->sum_ms += v * (double)(cut[i + 1] - cut[i]);
        out->covered_ms += cut[i + 1] - cut[i];
    }
    free(cut);
}

static int vm_known(const char *vm)
{
    for (size_t i = 0; i < g.n_lines; i++) {
        if (strcasecmp(g.lines[i].vm, vm) == 0)
            return 1;
    }
    return 0;
}

static int metric_known(const char *m)
{
    if (strcasecmp(m, "VmAvailabilityMetric") == 0 || strcasecmp(m, "Percentage CPU") == 0)
        return 1;
    for (size_t i = 0; i < g.n_lines; i++) {
        if (strcasecmp(g.lines[i].metric, m) == 0)
            return 1;
    }
    return 0;
}

/* ---- HTTP plumbing ---- */

typedef struct conn {
    sl_buf body;
    int too_large;
} conn;

static enum MHD_Result send_json(struct MHD_Connection *c, unsigned status, json_t *j,
                                 const char *www_auth)
{
    char *text = json_dumps(j, JSON_COMPACT);
    struct MHD_Response *r;
    enum MHD_Result ok;

    json_decref(j);
    if (!text)
        return MHD_NO;
    r = MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_FREE);
    if (!r) {
        free(text);
        return MHD_NO;
    }
    MHD_add_response_header(r, "Content-Type", "application/json; charset=utf-8");
    MHD_add_response_header(r, "Cache-Control", "no-store, no-cache");
    if (www_auth)
        MHD_add_response_header(r, "WWW-Authenticate", www_auth);
    ok = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ok;
}

static enum MHD_Result send_raw(struct MHD_Connection *c, unsigned status, const char *text)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(strlen(text), (void *)text, MHD_RESPMEM_MUST_COPY);
    enum MHD_Result ok;

    if (!r)
        return MHD_NO;
    MHD_add_response_header(r, "Content-Type", "application/json; charset=utf-8");
    ok = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ok;
}

static void now_text(char *buf, size_t cap)
{
    if (sl_time_format(standin_now_ms() / 1000 * 1000, buf, cap) < 0)
        sl_strfmt(buf, cap, "?");
}

static void random_id(char *out, size_t cap)
{
    unsigned char b[16];

    randombytes_buf(b, sizeof(b));
    sl_strfmt(out, cap, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
              b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12],
              b[13], b[14], b[15]);
}

/* ---- the token endpoint ---- */

static enum MHD_Result token_error(struct MHD_Connection *c, unsigned status, const char *error,
                                   int code, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static enum MHD_Result token_error(struct MHD_Connection *c, unsigned status, const char *error,
                                   int code, const char *fmt, ...)
{
    char desc[512], trace[40], corr[40], ts[32], full[700];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(desc, sizeof(desc), fmt, ap);
    va_end(ap);
    random_id(trace, sizeof(trace));
    random_id(corr, sizeof(corr));
    now_text(ts, sizeof(ts));
    sl_strfmt(full, sizeof(full), "AADSTS%d: %s Trace ID: %s Correlation ID: %s Timestamp: %s",
              code, desc, trace, corr, ts);
    fprintf(stderr, "tool_azure: token refused: %s AADSTS%d\n", error, code);
    return send_json(c, status,
                     json_pack("{s:s, s:s, s:[i], s:s, s:s, s:s, s:s}", "error", error,
                               "error_description", full, "error_codes", code, "timestamp", ts,
                               "trace_id", trace, "correlation_id", corr, "error_uri",
                               "https://login.microsoftonline.com/error"),
                     NULL);
}

/* Decodes a form value in place: '+' is a space, %XX a byte. */
static void form_decode(char *s)
{
    char *o = s;

    for (; *s; s++) {
        unsigned hi, lo;
        if (*s == '+') {
            *o++ = ' ';
        } else if (*s == '%' && sscanf(s + 1, "%1x%1x", &hi, &lo) == 2) {
            *o++ = (char)(hi << 4 | lo);
            s += 2;
        } else {
            *o++ = *s;
        }
    }
    *o = '\0';
}

/* The value of form field name in body (a NUL-terminated copy the caller frees), or NULL. */
static char *form_get(const char *body, const char *name)
{
    size_t nl = strlen(name);

    for (const char *p = body; p && *p; p = strchr(p, '&') ? strchr(p, '&') + 1 : NULL) {
        size_t len = strcspn(p, "&");
        if (len > nl && strncmp(p, name, nl) == 0 && p[nl] == '=') {
            char *v = sl_strndup(p + nl + 1, len - nl - 1);
            if (v)
                form_decode(v);
            return v;
        }
    }
    return NULL;
}

/* The scope must be <a resource this stand-in serves>/.default. */
static int scope_valid(const char *scope)
{
    static const char *const known[] = {"https://management.azure.com",
                                        "https://management.core.windows.net"};
    char own[64], own2[64];
    size_t n = strlen(scope);
    size_t rl;

    if (n < 9 || strcmp(scope + n - 9, "/.default") != 0)
        return 0;
    rl = n - 9;
    if (rl > 0 && scope[rl - 1] == '/')
        rl--; /* "https://management.core.windows.net//.default", as the Azure CLI writes it */
    sl_strfmt(own, sizeof(own), "http://127.0.0.1:%u", g.port);
    sl_strfmt(own2, sizeof(own2), "http://localhost:%u", g.port);
    const char *const mine[] = {known[0], known[1], own, own2};
    for (size_t i = 0; i < 4; i++) {
        if (strlen(mine[i]) == rl && strncasecmp(scope, mine[i], rl) == 0)
            return 1;
    }
    return 0;
}

static const client *find_client(const char *tenant, const char *id, int *tenant_known)
{
    *tenant_known = 0;
    for (size_t i = 0; i < g.n_clients; i++) {
        if (strcasecmp(g.clients[i].tenant, tenant) != 0)
            continue;
        *tenant_known = 1;
        if (id && strcmp(g.clients[i].id, id) == 0)
            return &g.clients[i];
    }
    return NULL;
}

/* Issues a random opaque token valid for --token-ttl seconds. */
static enum MHD_Result issue_token(struct MHD_Connection *c)
{
    unsigned char raw[32];
    char text[TOKEN_TEXT_CAP];
    issued *t;

    randombytes_buf(raw, sizeof(raw));
    sodium_bin2base64(text, sizeof(text), raw, sizeof(raw),
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    pthread_mutex_lock(&g.lock);
    t = &g.tokens[g.tokens_issued % MAX_TOKENS];
    memcpy(t->token, text, sizeof(text));
    t->expires_ms = standin_now_ms() + g.ttl_s * 1000;
    g.tokens_issued++;
    if (g.n_tokens < MAX_TOKENS)
        g.n_tokens++;
    pthread_mutex_unlock(&g.lock);
    return send_json(c, 200,
                     json_pack("{s:s, s:I, s:I, s:s}", "token_type", "Bearer", "expires_in",
                               (json_int_t)g.ttl_s, "ext_expires_in", (json_int_t)g.ttl_s,
                               "access_token", text),
                     NULL);
}

typedef struct form {
    char *grant, *id, *secret, *scope;
} form;

static void form_release(form *f)
{
    if (f->secret)
        sodium_memzero(f->secret, strlen(f->secret));
    free(f->grant);
    free(f->id);
    free(f->secret);
    free(f->scope);
}

/* Checks the request's fields in the order the identity platform reports them. */
static enum MHD_Result token_check(struct MHD_Connection *c, const char *tenant, const form *f)
{
    int tenant_known;
    const client *cl;

    if (!f->grant)
        return token_error(c, 400, "invalid_request", 900144,
                           "The request body must contain the following parameter: "
                           "'grant_type'.");
    if (strcmp(f->grant, "client_credentials") != 0)
        return token_error(c, 400, "unsupported_grant_type", 70003,
                           "The app requested an unsupported grant type '%s'.", f->grant);
    cl = find_client(tenant, f->id, &tenant_known);
    if (!tenant_known)
        return token_error(c, 400, "invalid_request", 90002,
                           "Tenant '%s' not found. Check to make sure you have the correct "
                           "tenant ID and are signing into the correct cloud.",
                           tenant);
    if (!f->id || !cl)
        return token_error(c, 400, "unauthorized_client", 700016,
                           "Application with identifier '%s' was not found in the directory "
                           "'%s'.",
                           f->id ? f->id : "", tenant);
    if (!f->scope)
        return token_error(c, 400, "invalid_request", 900144,
                           "The request body must contain the following parameter: 'scope'.");
    if (!scope_valid(f->scope))
        return token_error(c, 400, "invalid_scope", 1002012,
                           "The provided value for scope %s is not valid. Client credential "
                           "flows must have a scope value with /.default suffixed to the "
                           "resource identifier (application ID URI).",
                           f->scope);
    if (!f->secret)
        return token_error(c, 401, "invalid_client", 7000218,
                           "The request body must contain the following parameter: "
                           "'client_assertion' or 'client_secret'.");
    if (strlen(f->secret) != strlen(cl->secret) ||
        sodium_memcmp(f->secret, cl->secret, strlen(cl->secret)) != 0)
        return token_error(c, 401, "invalid_client", 7000215,
                           "Invalid client secret provided. Ensure the secret being sent in "
                           "the request is the client secret value, not the client secret ID, "
                           "for a secret added to app '%s'.",
                           cl->id);
    return issue_token(c);
}

static enum MHD_Result serve_token(struct MHD_Connection *c, const char *method, const char *tenant,
                                   conn *cc)
{
    const char *ct = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Type");
    const char *body = sl_buf_cstr(&cc->body);
    form f = {0};
    enum MHD_Result r;

    pthread_mutex_lock(&g.lock);
    g.token_requests++;
    pthread_mutex_unlock(&g.lock);
    if (strcmp(method, "POST") != 0)
        return token_error(c, 400, "invalid_request", 900561,
                           "The endpoint only accepts POST, OPTIONS requests. Received a %s "
                           "request.",
                           method);
    if (!ct || strncasecmp(ct, "application/x-www-form-urlencoded", 33) != 0 || !body)
        return token_error(c, 400, "invalid_request", 900144,
                           "The request body must contain the following parameter: "
                           "'grant_type'.");
    f.grant = form_get(body, "grant_type");
    f.id = form_get(body, "client_id");
    f.secret = form_get(body, "client_secret");
    f.scope = form_get(body, "scope");
    r = token_check(c, tenant, &f);
    form_release(&f);
    return r;
}

/* ---- the metrics API ---- */

static enum MHD_Result arm_error(struct MHD_Connection *c, unsigned status, const char *code,
                                 const char *www_auth, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static enum MHD_Result arm_error(struct MHD_Connection *c, unsigned status, const char *code,
                                 const char *www_auth, const char *fmt, ...)
{
    char msg[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    fprintf(stderr, "tool_azure: metrics refused: %u %s\n", status, code);
    return send_json(c, status, json_pack("{s:{s:s, s:s}}", "error", "code", code, "message", msg),
                     www_auth);
}

/* 0 when the request carries a token this tool issued that has not expired; else answered. */
static int check_bearer(struct MHD_Connection *c, enum MHD_Result *answered)
{
    static const char bearer[] = "Bearer authorization_uri=\"https://login.microsoftonline.com/\", "
                                 "error=\"invalid_token\", error_description=\"The access token "
                                 "is invalid.\"";
    const char *h = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
    int64_t expires = -1, now = standin_now_ms();
    char exp_text[32], now_text_[32];

    if (!h || strncasecmp(h, "Bearer ", 7) != 0) {
        *answered = arm_error(c, 401, "AuthenticationFailed", bearer,
                              "Authentication failed. The 'Authorization' header is missing.");
        return -1;
    }
    pthread_mutex_lock(&g.lock);
    for (size_t i = 0; i < g.n_tokens; i++) {
        if (strcmp(g.tokens[i].token, h + 7) == 0)
            expires = g.tokens[i].expires_ms;
    }
    pthread_mutex_unlock(&g.lock);
    if (expires < 0) {
        *answered =
            arm_error(c, 401, "InvalidAuthenticationToken", bearer, "The access token is invalid.");
        return -1;
    }
    if (now < expires)
        return 0;
    sl_time_format(expires / 1000 * 1000, exp_text, sizeof(exp_text));
    sl_time_format(now / 1000 * 1000, now_text_, sizeof(now_text_));
    *answered = arm_error(c, 401, "ExpiredAuthenticationToken", bearer,
                          "The access token expiry UTC time '%s' is earlier than current UTC "
                          "time '%s'.",
                          exp_text, now_text_);
    return -1;
}

/* Parses an ISO 8601 duration of whole units: P[nD][T[nH][nM][nS]] -> ms; -1 if invalid. */
static int64_t iso_duration_ms(const char *s)
{
    static const char units[] = "DHMS";
    static const int64_t ms[] = {86400000, 3600000, 60000, 1000};
    int64_t total = 0;
    int in_time = 0, last = -1;

    if (*s++ != 'P' || !*s)
        return -1;
    while (*s) {
        char *end;
        if (*s == 'T' && !in_time) {
            in_time = 1;
            s++;
            continue;
        }
        long long v = strtoll(s, &end, 10);
        const char *u = strchr(units, *end);
        int idx = u && *end ? (int)(u - units) : -1;
        if (end == s || v < 0 || v > 1000000 || idx <= last || (idx == 0) == in_time)
            return -1;
        total += v * ms[idx];
        last = idx;
        s = end + 1;
    }
    return total > 0 ? total : -1;
}

typedef struct mquery {
    int64_t from_ms, to_ms, grain_ms;
    char *names[16];
    size_t n_names;
    const char *aggs[5];
    size_t n_aggs;
    char *names_copy;
} mquery;

/* Splits a comma-separated list in place. */
static size_t split_list(char *s, char **out, size_t max)
{
    size_t n = 0;

    while (s && n < max) {
        char *comma = strchr(s, ',');
        if (comma)
            *comma = '\0';
        out[n++] = s;
        s = comma ? comma + 1 : NULL;
    }
    return n;
}

static int parse_aggs(const char *text, mquery *q)
{
    static const char *const known[] = {"average", "minimum", "maximum", "total", "count"};
    char copy[128], *parts[8];
    size_t n;

    sl_strfmt(copy, sizeof(copy), "%s", text ? text : "Average");
    n = split_list(copy, parts, 8);
    for (size_t i = 0; i < n; i++) {
        size_t k = 0;
        while (k < 5 && strcasecmp(parts[i], known[k]) != 0)
            k++;
        if (k == 5 || q->n_aggs >= 5)
            return -1;
        q->aggs[q->n_aggs++] = known[k];
    }
    return 0;
}

/* Reads and checks the query parameters; 0, or -1 with the request answered. */
static int parse_query(struct MHD_Connection *c, mquery *q, enum MHD_Result *answered)
{
    const char *ver = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "api-version");
    const char *span = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "timespan");
    const char *grain = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "interval");
    const char *names = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "metricnames");
    const char *aggs = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "aggregation");
    const char *slash = span ? strchr(span, '/') : NULL;

    *answered = MHD_NO;
    if (!ver)
        *answered = arm_error(c, 400, "MissingApiVersionParameter", NULL,
                              "The api-version query parameter (?api-version=) is required for "
                              "all requests.");
    else if (strcmp(ver, API_VERSION) != 0)
        *answered = arm_error(c, 400, "InvalidApiVersionParameter", NULL,
                              "The api-version '%s' is invalid. The supported versions are '%s'.",
                              ver, API_VERSION);
    else if (!slash || sl_time_parse(span, (size_t)(slash - span), &q->from_ms) ||
             sl_time_parse(slash + 1, strlen(slash + 1), &q->to_ms) || q->to_ms <= q->from_ms)
        *answered = arm_error(c, 400, "BadRequest", NULL,
                              "Invalid timespan '%s': expected START/END in ISO 8601 with START "
                              "before END.",
                              span ? span : "");
    else if (!grain || (q->grain_ms = iso_duration_ms(grain)) <= 0 || q->grain_ms % 1000 != 0)
        *answered =
            arm_error(c, 400, "BadRequest", NULL, "Invalid interval '%s'.", grain ? grain : "");
    else if ((q->to_ms - q->from_ms) / q->grain_ms > MAX_POINTS)
        *answered = arm_error(c, 400, "BadRequest", NULL,
                              "The timespan holds more than %d intervals.", MAX_POINTS);
    else if (!names || !*names)
        *answered = arm_error(c, 400, "BadRequest", NULL, "No metricnames given.");
    else if (parse_aggs(aggs, q) != 0)
        *answered = arm_error(c, 400, "BadRequest", NULL, "Invalid aggregation '%s'.", aggs);
    if (*answered != MHD_NO)
        return -1;
    q->names_copy = xstrdup(names);
    q->n_names = split_list(q->names_copy, q->names, 16);
    for (size_t i = 0; i < q->n_names; i++) {
        if (!metric_known(q->names[i])) {
            *answered = arm_error(c, 400, "BadRequest", NULL,
                                  "Failed to find metric configuration for provider: "
                                  "Microsoft.Compute, resource Type: virtualMachines, metric: "
                                  "%s, Valid metrics: VmAvailabilityMetric, Percentage CPU",
                                  q->names[i]);
            return -1;
        }
    }
    return 0;
}

static json_t *datapoint(const char *vm, const char *metric, const mquery *q, int64_t t,
                         int64_t now)
{
    char ts[32];
    json_t *d;
    totals a;

    sl_time_format(t, ts, sizeof(ts));
    d = json_pack("{s:s}", "timeStamp", ts);
    if (!d || t + q->grain_ms > now)
        return d; /* not ended yet: Azure lists the interval without values */
    aggregate(vm, metric, t, t + q->grain_ms, &a);
    if (a.covered_ms == 0)
        return d;
    for (size_t i = 0; i < q->n_aggs; i++) {
        double v = strcmp(q->aggs[i], "minimum") == 0   ? a.min
                   : strcmp(q->aggs[i], "maximum") == 0 ? a.max
                   : strcmp(q->aggs[i], "average") == 0 ? a.sum_ms / (double)a.covered_ms
                   : strcmp(q->aggs[i], "total") == 0   ? a.sum_ms / 1000.0
                                                        : (double)a.covered_ms / 1000.0;
        json_object_set_new(d, q->aggs[i], json_real(v));
    }
    return d;
}

static json_t *metric_json(const char *path, const char *vm, const char *metric, const mquery *q)
{
    json_t *data = json_array();
    int64_t now = standin_now_ms();
    char id[1024];
    const char *unit = strcasecmp(metric, "Percentage CPU") == 0 ? "Percent" : "Count";

    for (int64_t t = q->from_ms; data && t < q->to_ms; t += q->grain_ms)
        json_array_append_new(data, datapoint(vm, metric, q, t, now));
    sl_strfmt(id, sizeof(id), "%s/%s", path, metric);
    return json_pack("{s:s, s:s, s:{s:s, s:s}, s:s, s:s, s:[{s:[], s:o}], s:s}", "id", id, "type",
                     "Microsoft.Insights/metrics", "name", "value", metric, "localizedValue",
                     metric, "displayDescription", "", "unit", unit, "timeseries", "metadatavalues",
                     "data", data, "errorCode", "Success");
}

static enum MHD_Result metrics_answer(struct MHD_Connection *c, const char *path, const char *vm,
                                      const mquery *q)
{
    const char *span = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "timespan");
    const char *grain = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "interval");
    json_t *value = json_array();

    for (size_t i = 0; value && i < q->n_names; i++)
        json_array_append_new(value, metric_json(path, vm, q->names[i], q));
    return send_json(c, 200,
                     json_pack("{s:i, s:s, s:s, s:s, s:s, s:o}", "cost", 0, "timespan", span,
                               "interval", grain, "namespace", "Microsoft.Compute/virtualMachines",
                               "resourceregion", "westeurope", "value", value),
                     NULL);
}

/* The fault in force now by the tool's clock, or -1. */
static int fault_now(void)
{
    int64_t now = standin_now_ms();

    for (size_t i = 0; i < g.n_faults; i++) {
        if (now >= g.faults[i].from_ms && now < g.faults[i].to_ms)
            return g.faults[i].kind;
    }
    return -1;
}

/* Sleeps --slow wall-clock ms, or less when the tool is stopping. */
static void slow_down(void)
{
    struct timespec step = {0, 50 * 1000000L};

    for (int64_t waited = 0; waited < g.slow_ms && !stopping; waited += 50)
        nanosleep(&step, NULL);
}

/* Answers a fault in force; MHD_NO with *handled 0 when the request proceeds. */
static enum MHD_Result apply_fault(struct MHD_Connection *c, int *handled)
{
    int f = fault_now();

    *handled = f == FAULT_HTTP500 || f == FAULT_MALFORMED;
    if (f == FAULT_HTTP500)
        return arm_error(c, 500, "InternalServerError", NULL,
                         "Encountered internal server error. Please try again later.");
    if (f == FAULT_MALFORMED)
        return send_raw(c, 200, "{\"cost\":0,\"value\":[{\"timeseries\":[{\"data\":[{\"timeStamp");
    if (f == FAULT_SLOW)
        slow_down();
    return MHD_NO;
}

/* Splits the resource path; the VM's name when it is a VM's metrics path, else NULL. */
static const char *vm_of_path(char *copy)
{
    static const char *const want[] = {"",
                                       "subscriptions",
                                       NULL,
                                       "resourceGroups",
                                       NULL,
                                       "providers",
                                       "Microsoft.Compute",
                                       "virtualMachines",
                                       NULL,
                                       "providers",
                                       "Microsoft.Insights",
                                       "metrics"};
    char *seg[12], *p = copy;
    size_t n = 0;

    while (p && n < 12) {
        char *s = strchr(p, '/');
        if (s)
            *s = '\0';
        seg[n++] = p;
        p = s ? s + 1 : NULL;
    }
    if (n != 12 || p)
        return NULL;
    for (size_t i = 0; i < 12; i++) {
        if (want[i] ? strcasecmp(seg[i], want[i]) != 0 : !*seg[i])
            return NULL;
    }
    return seg[8];
}

static enum MHD_Result serve_metrics(struct MHD_Connection *c, const char *url, const char *vm)
{
    mquery q = {0};
    enum MHD_Result r;
    int handled;

    pthread_mutex_lock(&g.lock);
    g.metrics_requests++;
    pthread_mutex_unlock(&g.lock);
    r = apply_fault(c, &handled);
    if (handled)
        return r;
    if (check_bearer(c, &r) != 0)
        return r;
    if (!vm_known(vm))
        return arm_error(c, 404, "ResourceNotFound", NULL,
                         "The Resource 'Microsoft.Compute/virtualMachines/%s' was not found.", vm);
    if (parse_query(c, &q, &r) == 0)
        r = metrics_answer(c, url, vm, &q);
    free(q.names_copy);
    return r;
}

/* ---- dispatch ---- */

/* "/{tenant}/oauth2/v2.0/token": the tenant, in tenant[cap]; 0 if the path is not that. */
static int token_path(const char *url, char *tenant, size_t cap)
{
    const char *rest = strchr(url + 1, '/');

    if (url[0] != '/' || !rest || rest == url + 1 || strcmp(rest, "/oauth2/v2.0/token") != 0 ||
        (size_t)(rest - url - 1) >= cap)
        return 0;
    memcpy(tenant, url + 1, (size_t)(rest - url - 1));
    tenant[rest - url - 1] = '\0';
    return 1;
}

static enum MHD_Result dispatch(struct MHD_Connection *c, const char *url, const char *method,
                                conn *cc)
{
    char tenant[256], *copy;
    const char *vm;
    enum MHD_Result r;

    if (token_path(url, tenant, sizeof(tenant)))
        return serve_token(c, method, tenant, cc);
    copy = xstrdup(url);
    vm = vm_of_path(copy);
    if (vm && strcmp(method, "GET") == 0)
        r = serve_metrics(c, url, vm);
    else if (vm)
        r = arm_error(c, 405, "MethodNotAllowed", NULL, "The method %s is not allowed.", method);
    else
        r = arm_error(c, 404, "NotFound", NULL, "No route for %s.", url);
    free(copy);
    return r;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *data,
                                  size_t *size, void **con_cls)
{
    conn *cc = *con_cls;

    (void)cls;
    (void)version;
    if (!cc) {
        cc = calloc(1, sizeof(*cc));
        if (!cc)
            return MHD_NO;
        sl_buf_init(&cc->body);
        *con_cls = cc;
        return MHD_YES;
    }
    if (*size > 0) {
        if (cc->body.len + *size > MAX_BODY)
            cc->too_large = 1;
        else
            sl_buf_put(&cc->body, data, *size);
        *size = 0;
        return MHD_YES;
    }
    fprintf(stderr, "tool_azure: %s %s\n", method, url);
    if (cc->too_large)
        return arm_error(c, 413, "RequestEntityTooLarge", NULL, "The request body is too large.");
    return dispatch(c, url, method, cc);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    conn *cc = *con_cls;

    (void)cls;
    (void)c;
    (void)toe;
    if (!cc)
        return;
    if (cc->body.p)
        sodium_memzero(cc->body.p, cc->body.cap); /* it held a client secret */
    sl_buf_release(&cc->body);
    free(cc);
    *con_cls = NULL;
}

/* ---- main ---- */

static void usage(void)
{
    fprintf(stderr, "usage: tool_azure --clients FILE [--script FILE] [--port N] "
                    "[--token-ttl SECONDS] [--start RFC3339] [--slow MS] [--speed S] "
                    "[--since RFC3339]\n");
    exit(2);
}

static int64_t parse_int(const char *s, int64_t lo, int64_t hi, const char *what)
{
    char *end;
    long long v;

    errno = 0;
    v = strtoll(s, &end, 10);
    if (end == s || *end || errno || v < lo || v > hi) {
        fprintf(stderr, "tool_azure: %s must be an integer in %lld..%lld\n", what, (long long)lo,
                (long long)hi);
        usage();
    }
    return v;
}

static int64_t parse_time(const char *v, const char *what)
{
    int64_t ms;

    if (sl_time_parse(v, strlen(v), &ms) != 0) {
        fprintf(stderr, "tool_azure: %s must be an RFC 3339 time\n", what);
        usage();
    }
    return ms;
}

static void parse_args(int argc, char **argv, const char **clients, const char **script)
{
    int64_t started = wall_ms();

    g.start_ms = g.since_ms = INT64_MIN; /* not given */
    for (int i = 1; i < argc; i += 2) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v)
            usage();
        if (strcmp(a, "--clients") == 0)
            *clients = v;
        else if (strcmp(a, "--script") == 0)
            *script = v;
        else if (strcmp(a, "--port") == 0)
            g.port = (unsigned)parse_int(v, 0, 65535, "--port");
        else if (strcmp(a, "--token-ttl") == 0)
            g.ttl_s = parse_int(v, 1, 366LL * 86400, "--token-ttl");
        else if (strcmp(a, "--slow") == 0)
            g.slow_ms = parse_int(v, 0, 3600000, "--slow");
        else if (strcmp(a, "--start") == 0)
            g.start_ms = parse_time(v, "--start");
        else if (strcmp(a, "--since") == 0)
            g.since_ms = parse_time(v, "--since");
        else if (strcmp(a, "--speed") == 0)
            g.speed = parse_int(v, 1, 100000, "--speed");
        else
            usage();
    }
    if (!*clients)
        usage();
    /* Relative times count from --start, else from --since, else from the tool's start (whole
     * seconds), where the sped-up clock starts by default. */
    if (g.start_ms == INT64_MIN)
        g.start_ms = g.since_ms != INT64_MIN ? g.since_ms : started / 1000 * 1000;
    if (g.since_ms == INT64_MIN)
        g.since_ms = started;
}

static struct MHD_Daemon *start_daemon(void)
{
    struct sockaddr_in sa;
    struct MHD_Daemon *d;
    const union MHD_DaemonInfo *info;

    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)g.port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    d = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION | MHD_USE_ERROR_LOG, 0,
        NULL, NULL, on_request, NULL, MHD_OPTION_SOCK_ADDR, &sa, MHD_OPTION_NOTIFY_COMPLETED,
        on_completed, NULL, MHD_OPTION_CONNECTION_TIMEOUT, 30u, MHD_OPTION_END);
    if (!d)
        return NULL;
    info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    g.port = info ? info->port : g.port;
    return d;
}

static void free_all(void)
{
    for (size_t i = 0; i < g.n_lines; i++) {
        free(g.lines[i].vm);
        free(g.lines[i].metric);
    }
    for (size_t i = 0; i < g.n_clients; i++) {
        sodium_memzero(g.clients[i].secret, strlen(g.clients[i].secret));
        free(g.clients[i].tenant);
        free(g.clients[i].id);
        free(g.clients[i].secret);
    }
    free(g.lines);
    free(g.faults);
    free(g.clients);
    free(g.tokens);
}

int main(int argc, char **argv)
{
    const char *clients = NULL, *script = NULL;
    struct sigaction sa;
    struct MHD_Daemon *d;
    struct timespec tick = {0, 50 * 1000000L};

    if (sodium_init() < 0)
        die("cannot initialise libsodium");
    parse_args(argc, argv, &clients, &script);
    read_lines(clients, NULL, read_client);
    if (script)
        read_lines(script, read_fault, read_series);
    g.tokens = calloc(MAX_TOKENS, sizeof(*g.tokens));
    if (!g.tokens)
        die("out of memory");
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    d = start_daemon();
    if (!d) {
        fprintf(stderr, "tool_azure: cannot listen on 127.0.0.1:%u\n", g.port);
        free_all();
        return 1;
    }
    printf("listening on 127.0.0.1:%u\n", g.port);
    fflush(stdout);
    while (!stopping)
        nanosleep(&tick, NULL);
    MHD_stop_daemon(d);
    fprintf(stderr, "tool_azure: tokens issued: %lu, token requests: %lu, metrics requests: %lu\n",
            g.tokens_issued, g.token_requests, g.metrics_requests);
    free_all();
    return 0;
}
