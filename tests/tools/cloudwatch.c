/*
 * cloudwatch.c: tool_cloudwatch, a stand-in for AWS CloudWatch's GetMetricData that speaks the
 * real wire protocol (AWS JSON 1.0 over HTTP, SigV4-authenticated) on 127.0.0.1, for the
 * oracle's tests, the demo and the scheduler's tests. It refuses what CloudWatch refuses and
 * serves metric series from a script, so an outage can be staged without an AWS account.
 *
 *   tool_cloudwatch --keys FILE [--port N] [--region R] [--script FILE] [--page-size N]
 *                   [--start TIME] [--speed S] [--since TIME]
 *
 *   --keys FILE      access keys it knows, one per line: "AKID SECRET [SESSION_TOKEN]"
 *                    ('#' comments, blank lines); with a token, requests with that key must
 *                    carry it in X-Amz-Security-Token (required option)
 *   --port N         TCP port on 127.0.0.1; 0 (the default) picks a free one
 *   --region R       the region it serves (default us-east-1)
 *   --script FILE    the series it serves (default: none, every series empty)
 *   --page-size N    datapoints per response before a NextToken (default 100; a request's
 *                    MaxDatapoints lowers it)
 *   --start TIME     what the script's relative times count from (RFC 3339; default: --since
 *                    when given, else the moment the stand-in started)
 *   --speed S        how many times faster than the wall clock the stand-in's clock runs, an
 *                    integer 1..100000 (default 1), as a node's spec.clock.speed
 *   --since TIME     the wall time the sped-up clock starts from (RFC 3339; default: the
 *                    moment the stand-in started), as a node's spec.clock.since
 *
 * The stand-in's clock is since + (wall - since) * speed once the wall clock reaches since,
 * and the wall clock before; it stops at 9999-12-31T23:59:59.999Z. Run with the same
 * --speed and --since as the node, it keeps the node's time. That clock, never the wall clock,
 * decides which periods have ended, when faults apply and how far X-Amz-Date may be off; only
 * the 3 s of a slow fault are wall-clock time (they stand for a slow network).
 *
 * Once listening it prints "listening on 127.0.0.1:PORT" on stdout, flushes, and serves until
 * SIGTERM or SIGINT (exit 0). Usage errors exit 2, unreadable or malformed files 1 (with
 * FILE:LINE on stderr). Each request is logged as one line on stderr.
 *
 * Script lines ('#' comments, blank lines ignored), times as RFC 3339 or +DURATION /
 * -DURATION relative to the start (--start; "+5m", "-1h30m", "+0s"):
 *
 *   INSTANCE METRIC FROM TO VALUE     the metric holds VALUE (a number) over [FROM, TO)
 *   INSTANCE METRIC FROM TO missing   no data over [FROM, TO) (a gap)
 *   INSTANCE METRIC default VALUE     the value wherever no range line applies
 *   fault FROM TO KIND                requests arriving in [FROM, TO) by the stand-in's clock:
 *                                     http500 (HTTP 500 InternalServiceFault), malformed
 *                                     (HTTP 200, a truncated JSON body), slow (answered 3 s
 *                                     late); faults apply after authentication
 *
 * Later range lines win where they overlap. Series are keyed by instance (the InstanceId
 * dimension) and metric name, whatever the namespace. A series is a step function sampled as
 * one raw datapoint per second: a datapoint of period P at t aggregates [t, t + P) by its
 * statistic (Maximum, Minimum, Average, Sum, SampleCount), exists only when some of that span
 * has data and the period has ended by the stand-in's clock. Datapoint timestamps are StartTime
 * (rounded down to a multiple of P, or of 60 s for longer periods) plus multiples of P.
 *
 * What it checks, as CloudWatch does: POST /, X-Amz-Target
 * GraniteServiceVersion20100801.GetMetricData, Content-Type application/x-amz-json-1.0, the
 * Authorization header (AWS4-HMAC-SHA256 Credential=AKID/DATE/REGION/monitoring/aws4_request,
 * SignedHeaders, Signature), a known access key, X-Amz-Date within 15 minutes of its clock,
 * the scope's date and region, then the signature itself, recomputed with sl_sigv4_sign over
 * the request as received and compared in constant time. Refusals are AWS JSON errors
 * ({"__type": ..., "message": ...}, HTTP 400 or 403). An unknown instance gives empty
 * results, as CloudWatch does. NextToken is opaque and bound to the request it continues.
 *
 * Test scaffolding: libmicrohttpd with a thread per connection; the configuration is read
 * before the server starts and never changes, so handlers share it without locks. Secrets are
 * wiped at exit.
 */
#include <math.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <microhttpd.h>
#include <sodium.h>

#include "slaledger/sigv4.h"
#include "slaledger/util.h"

#define TARGET       "GraniteServiceVersion20100801.GetMetricData"
#define CONTENT_TYPE "application/x-amz-json-1.0"
#define SERVICE      "monitoring"
#define MAX_BODY     (1u << 20)
#define MAX_FIELDS   8
#define MAX_SIGNED   32
#define MAX_QUERIES  500
#define MAX_PERIODS  1000000 /* periods of one request, over all its queries */
#define SKEW_MS      (15 * SL_MS_PER_MINUTE)
#define SLOW_MS      3000 /* wall-clock ms, whatever --speed says */
#define AUTH_CAP     1024
#define LINE_CAP     4096
#define BAD_SIG_MSG                                                                                \
    "The request signature we calculated does not match the signature you provided. Check your "   \
    "AWS Secret Access Key and signing method. Consult the service documentation for details."

/* ---- configuration: keys, script, options ---- */

typedef struct key {
    char *akid, *secret, *token; /* token NULL when the key has none */
} key;

typedef struct line {
    char *instance, *metric;
    int is_default;
    int64_t from_ms, to_ms; /* range lines */
    int missing;
    double value;
} line;

enum { FAULT_HTTP500 = 1 << 0, FAULT_MALFORMED = 1 << 1, FAULT_SLOW = 1 << 2 };

typedef struct fault {
    int64_t from_ms, to_ms;
    unsigned kind;
} fault;

typedef struct config {
    unsigned port;
    const char *region;
    const char *keys_path;
    const char *script_path;
    size_t page_size;
    const char *start;
    int64_t start_ms;
    const char *since;
    int64_t since_ms, speed; /* the stand-in's clock */
    key *keys;
    size_t n_keys, cap_keys;
    line *lines;
    size_t n_lines, cap_lines;
    fault *faults;
    size_t n_faults, cap_faults;
    uint8_t salt[16]; /* binds NextTokens to this process */
} config;

static atomic_ulong request_seq;

static int64_t wall_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The stand-in's clock, which every "now" of the stand-in reads: the wall clock sped up by
 * --speed from --since on (as a node's spec.clock), stopped at SL_TIME_MAX_MS (sl_clock_fast). */
static int64_t standin_now_ms(const config *c)
{
    return sl_clock_fast(wall_ms(), c->since_ms, (uint32_t)c->speed);
}

/* Splits s in place at blanks into at most max fields; returns the count (max + 1 when there
 * are more). A '#' starts a comment. */
static size_t split_fields(char *s, char **f, size_t max)
{
    size_t n = 0;

    for (;;) {
        s += strspn(s, " \t\r\n");
        if (!*s || *s == '#')
            return n;
        if (n == max)
            return max + 1;
        f[n++] = s;
        s += strcspn(s, " \t\r\n");
        if (*s)
            *s++ = '\0';
    }
}

/* A script time: RFC 3339, or +DURATION / -DURATION from start ("+0s" and "-0" allowed). */
static int parse_time(const char *s, int64_t start, int64_t *out)
{
    int64_t d = 0;
    const char *r = s + 1;

    if (*s != '+' && *s != '-')
        return sl_time_parse(s, strlen(s), out);
    if (!(r[0] == '0' && (r[1] == '\0' || strspn(r + 1, "mshdw") == strlen(r + 1))) &&
        sl_duration_parse(r, strlen(r), &d) != 0)
        return SL_EINVAL;
    *out = *s == '+' ? start + d : start - d;
    return 0;
}

static int parse_number(const char *s, double *out)
{
    char *end;
    double v = strtod(s, &end);

    if (end == s || *end || !isfinite(v))
        return SL_EINVAL;
    *out = v;
    return 0;
}

static int parse_size(const char *s, long long min, long long max, long long *out)
{
    char *end;
    long long v = strtoll(s, &end, 10);

    if (end == s || *end || v < min || v > max)
        return SL_EINVAL;
    *out = v;
    return 0;
}

static int add_key(config *c, char **f, size_t n)
{
    key *k;

    if (n < 2 || n > 3 || sl_reserve(&c->keys, &c->cap_keys, c->n_keys + 1, sizeof(*k)) != 0)
        return SL_EINVAL;
    k = &c->keys[c->n_keys];
    k->akid = sl_strdup(f[0]);
    k->secret = sl_strdup(f[1]);
    k->token = n == 3 ? sl_strdup(f[2]) : NULL;
    c->n_keys++;
    return k->akid && k->secret && (n < 3 || k->token) ? 0 : SL_ENOMEM;
}

static int add_fault(config *c, char **f, size_t n)
{
    static const char *const kinds[] = {"http500", "malformed", "slow"};
    fault x = {0};

    if (n != 4 || parse_time(f[1], c->start_ms, &x.from_ms) != 0 ||
        parse_time(f[2], c->start_ms, &x.to_ms) != 0 || x.to_ms <= x.from_ms)
        return SL_EINVAL;
    for (unsigned i = 0; i < 3; i++) {
        if (strcmp(f[3], kinds[i]) == 0)
            x.kind = 1u << i;
    }
    if (!x.kind || sl_reserve(&c->faults, &c->cap_faults, c->n_faults + 1, sizeof(x)) != 0)
        return SL_EINVAL;
    c->faults[c->n_faults++] = x;
    return 0;
}

static int add_series(config *c, char **f, size_t n)
{
    line x = {0};
    const char *v;

    x.is_default = n == 4 && strcmp(f[2], "default") == 0;
    if (!x.is_default && (n != 5 || parse_time(f[2], c->start_ms, &x.from_ms) != 0 ||
                          parse_time(f[3], c->start_ms, &x.to_ms) != 0 || x.to_ms <= x.from_ms))
        return SL_EINVAL;
    v = f[n - 1];
    x.missing = strcmp(v, "missing") == 0;
    if (!x.missing && parse_number(v, &x.value) != 0)
        return SL_EINVAL;
    if (sl_reserve(&c->lines, &c->cap_lines, c->n_lines + 1, sizeof(x)) != 0)
        return SL_ENOMEM;
    x.instance = sl_strdup(f[0]);
    x.metric = sl_strdup(f[1]);
    c->lines[c->n_lines++] = x;
    return x.instance && x.metric ? 0 : SL_ENOMEM;
}

static int script_line(config *c, char **f, size_t n)
{
    return strcmp(f[0], "fault") == 0 ? add_fault(c, f, n) : add_series(c, f, n);
}

/* Reads path line by line into c with fn; reports the first bad line on stderr. */
static int load_file(config *c, const char *path, int (*fn)(config *, char **, size_t))
{
    char buf[LINE_CAP], *f[MAX_FIELDS];
    FILE *fp = fopen(path, "r");
    int lineno = 0, rc = 0;
    size_t n;

    if (!fp) {
        fprintf(stderr, "tool_cloudwatch: %s: cannot open\n", path);
        return SL_EIO;
    }
    while (rc == 0 && fgets(buf, sizeof(buf), fp)) {
        lineno++;
        n = split_fields(buf, f, MAX_FIELDS);
        if (n > 0 && (n > MAX_FIELDS || (rc = fn(c, f, n)) != 0)) {
            rc = SL_EINVAL;
            fprintf(stderr, "tool_cloudwatch: %s:%d: malformed line\n", path, lineno);
        }
    }
    sodium_memzero(buf, sizeof(buf));
    fclose(fp);
    return rc;
}

static void config_release(config *c)
{
    for (size_t i = 0; i < c->n_keys; i++) {
        char *s[] = {c->keys[i].akid, c->keys[i].secret, c->keys[i].token};
        for (size_t j = 0; j < 3; j++) {
            if (s[j])
                sodium_memzero(s[j], strlen(s[j]));
            free(s[j]);
        }
    }
    for (size_t i = 0; i < c->n_lines; i++) {
        free(c->lines[i].instance);
        free(c->lines[i].metric);
    }
    free(c->keys);
    free(c->lines);
    free(c->faults);
}

/* ---- replies ---- */

static enum MHD_Result send_text(struct MHD_Connection *conn, unsigned status, const char *text)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(strlen(text), (void *)text, MHD_RESPMEM_MUST_COPY);
    char id[32];
    enum MHD_Result ok;

    if (!r)
        return MHD_NO;
    sl_strfmt(id, sizeof(id), "standin-%lu", (unsigned long)atomic_fetch_add(&request_seq, 1));
    MHD_add_response_header(r, "Content-Type", CONTENT_TYPE);
    MHD_add_response_header(r, "x-amzn-RequestId", id);
    ok = MHD_queue_response(conn, status, r);
    MHD_destroy_response(r);
    return ok;
}

/* An AWS JSON error: {"__type": type, "message": ...}, logged on stderr. */
static enum MHD_Result send_error(struct MHD_Connection *conn, unsigned status, const char *type,
                                  const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static enum MHD_Result send_error(struct MHD_Connection *conn, unsigned status, const char *type,
                                  const char *fmt, ...)
{
    char msg[512], *text;
    enum MHD_Result ok;
    va_list ap;
    json_t *j;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    fprintf(stderr, "tool_cloudwatch: %u %s: %s\n", status, type, msg);
    j = json_pack("{s:s, s:s}", "__type", type, "message", msg);
    text = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    ok = text ? send_text(conn, status, text) : MHD_NO;
    free(text);
    return ok;
}

/* A refusal found while checking a request: HTTP status, AWS error type and message. */
typedef struct refusal {
    unsigned status;
    const char *type;
    char msg[400];
} refusal;

static int refuse(refusal *r, unsigned status, const char *type, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int refuse(refusal *r, unsigned status, const char *type, const char *fmt, ...)
{
    va_list ap;

    r->status = status;
    r->type = type;
    va_start(ap, fmt);
    vsnprintf(r->msg, sizeof(r->msg), fmt, ap);
    va_end(ap);
    return -1;
}

/* ---- authentication ---- */

/* The parts of an Authorization header, each NUL-terminated. */
typedef struct auth {
    char akid[128], date[16], region[64], service[64], term[32];
    char signed_headers[512];
    char signature[80];
} auth;

/* Copies the value of "Name=" in the comma-separated list h into out[cap]; 0 when found. */
static int auth_param(const char *h, const char *name, char *out, size_t cap)
{
    size_t nlen = strlen(name);

    for (const char *p = h; *p;) {
        p += strspn(p, " ,");
        size_t len = strcspn(p, ",");
        if (len > nlen && strncmp(p, name, nlen) == 0 && p[nlen] == '=') {
            size_t vlen = len - nlen - 1;
            while (vlen > 0 && p[nlen + vlen] == ' ')
                vlen--;
            if (vlen >= cap)
                return -1;
            memcpy(out, p + nlen + 1, vlen);
            out[vlen] = '\0';
            return 0;
        }
        p += len;
    }
    return -1;
}

/* Splits "AKID/DATE/REGION/SERVICE/TERM" into a. */
static int split_scope(const char *cred, auth *a)
{
    char *parts[5] = {a->akid, a->date, a->region, a->service, a->term};
    size_t caps[5] = {sizeof(a->akid), sizeof(a->date), sizeof(a->region), sizeof(a->service),
                      sizeof(a->term)};
    const char *p = cred;

    for (int i = 0; i < 5; i++) {
        size_t len = strcspn(p, "/");
        if (len == 0 || len >= caps[i] || (i < 4 && p[len] != '/') || (i == 4 && p[len]))
            return -1;
        memcpy(parts[i], p, len);
        parts[i][len] = '\0';
        p += len + (i < 4);
    }
    return 0;
}

static int auth_parse(const char *h, auth *a, refusal *r)
{
    static const char alg[] = "AWS4-HMAC-SHA256 ";
    char cred[400];
    int c, s, g;

    if (strncmp(h, alg, sizeof(alg) - 1) != 0)
        return refuse(r, 400, "IncompleteSignatureException", "Unsupported Authorization Type");
    h += sizeof(alg) - 1;
    c = auth_param(h, "Credential", cred, sizeof(cred));
    s = auth_param(h, "SignedHeaders", a->signed_headers, sizeof(a->signed_headers));
    g = auth_param(h, "Signature", a->signature, sizeof(a->signature));
    if (c || s || g)
        return refuse(r, 400, "IncompleteSignatureException",
                      "Authorization header requires %s%s%sparameter(s).", c ? "'Credential' " : "",
                      s ? "'SignedHeaders' " : "", g ? "'Signature' " : "");
    if (split_scope(cred, a) != 0)
        return refuse(r, 400, "IncompleteSignatureException",
                      "Credential must have exactly 5 slash-delimited elements, e.g. "
                      "keyid/date/region/service/term, got '%s'",
                      cred);
    return 0;
}

/* Parses "YYYYMMDDTHHMMSSZ" into ms. */
static int amz_date_parse(const char *s, int64_t *out)
{
    int v[6], w[6] = {4, 2, 2, 2, 2, 2};
    const char *p = s;

    if (!s || strlen(s) != SL_SIGV4_DATE_LEN || s[8] != 'T' || s[15] != 'Z')
        return -1;
    for (int i = 0; i < 6; i++, p += (i == 3)) {
        v[i] = 0;
        for (int j = 0; j < w[i]; j++, p++) {
            if (*p < '0' || *p > '9')
                return -1;
            v[i] = v[i] * 10 + (*p - '0');
        }
    }
    if (v[0] < 1970 || v[1] < 1 || v[1] > 12 || v[2] < 1 || v[2] > 31 || v[3] > 23 || v[4] > 59 ||
        v[5] > 59)
        return -1;
    *out = ((sl_days_from_civil(v[0], (unsigned)v[1], (unsigned)v[2]) * 24 + v[3]) * 60 + v[4]) *
               SL_MS_PER_MINUTE +
           v[5] * SL_MS_PER_SECOND;
    return 0;
}

/* Writes ms as "YYYYMMDDTHHMMSSZ". */
static void amz_date_format(int64_t ms, char out[SL_SIGV4_DATE_LEN + 1])
{
    char t[32];
    size_t n = 0;

    if (sl_time_format(ms - sl_floormod(ms, SL_MS_PER_SECOND), t, sizeof(t)) < 0)
        t[0] = '\0';
    for (const char *p = t; *p && n < SL_SIGV4_DATE_LEN; p++) {
        if (*p != '-' && *p != ':')
            out[n++] = *p;
    }
    out[n] = '\0';
}

static const key *key_find(const config *c, const char *akid)
{
    for (size_t i = 0; i < c->n_keys; i++) {
        if (strcmp(c->keys[i].akid, akid) == 0)
            return &c->keys[i];
    }
    return NULL;
}

/* The session token presented must be the one the key has (or none for neither). */
static int token_ok(const key *k, const char *presented)
{
    if (!k->token || !presented)
        return !k->token && !presented;
    return strlen(k->token) == strlen(presented) &&
           sodium_memcmp(k->token, presented, strlen(presented)) == 0;
}

/* X-Amz-Date (date_hdr, t) must be within 15 minutes of now. */
static int check_skew(const char *date_hdr, int64_t t, int64_t now, refusal *r)
{
    char now_s[SL_SIGV4_DATE_LEN + 1], lim_s[SL_SIGV4_DATE_LEN + 1];
    int late = t < now - SKEW_MS;

    if (!late && t <= now + SKEW_MS)
        return 0;
    amz_date_format(now, now_s);
    amz_date_format(late ? now - SKEW_MS : now + SKEW_MS, lim_s);
    return refuse(r, 403, "InvalidSignatureException",
                  late ? "Signature expired: %s is now earlier than %s (%s - 15 min.)"
                       : "Signature not yet current: %s is still later than %s (%s + 15 min.)",
                  date_hdr, lim_s, now_s);
}

static int check_scope(const config *c, const auth *a, const char *date_hdr, int64_t now,
                       refusal *r)
{
    int64_t t;

    if (!date_hdr)
        return refuse(r, 400, "IncompleteSignatureException",
                      "Authorization header requires existence of either a 'X-Amz-Date' or a "
                      "'Date' header.");
    if (amz_date_parse(date_hdr, &t) != 0)
        return refuse(r, 400, "IncompleteSignatureException",
                      "X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\"");
    if (strncmp(a->date, date_hdr, 8) != 0 || strlen(a->date) != 8)
        return refuse(r, 403, "InvalidSignatureException",
                      "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of "
                      "date from HTTP: '%s' != '%.8s', from '%s'.",
                      a->date, date_hdr, date_hdr);
    if (strcmp(a->service, SERVICE) != 0)
        return refuse(r, 403, "InvalidSignatureException",
                      "Credential should be scoped to correct service: '" SERVICE "'.");
    if (strcmp(a->region, c->region) != 0)
        return refuse(r, 403, "InvalidSignatureException",
                      "Credential should be scoped to a valid region, not '%s'.", a->region);
    if (strcmp(a->term, "aws4_request") != 0)
        return refuse(r, 403, "InvalidSignatureException",
                      "Credential should be scoped with a valid terminator: 'aws4_request', not "
                      "'%s'.",
                      a->term);
    return check_skew(date_hdr, t, now, r);
}

/* The signed headers the signer takes from its caller, as "name:value" entries: every header
 * named in SignedHeaders but host, x-amz-date and x-amz-security-token, which it adds itself. */
typedef struct hdr_set {
    char *v[MAX_SIGNED + 1]; /* NULL-terminated */
    size_t n;
    const char *want; /* the name being collected */
    int failed;
} hdr_set;

static enum MHD_Result collect_cb(void *cls, enum MHD_ValueKind kind, const char *name,
                                  const char *value)
{
    hdr_set *h = cls;
    size_t len;
    char *e;

    (void)kind;
    if (strcasecmp(name, h->want) != 0)
        return MHD_YES;
    len = strlen(h->want) + strlen(value ? value : "") + 2;
    e = h->n < MAX_SIGNED ? malloc(len) : NULL;
    if (!e) {
        h->failed = 1;
        return MHD_NO;
    }
    sl_strfmt(e, len, "%s:%s", h->want, value ? value : "");
    h->v[h->n++] = e;
    return MHD_YES;
}

static void hdr_set_release(hdr_set *h)
{
    for (size_t i = 0; i < h->n; i++)
        free(h->v[i]);
    memset(h, 0, sizeof(*h));
}

/* Collects the values of the signed headers; a name may repeat, values keep their order. */
static int collect_signed(struct MHD_Connection *conn, const char *names, hdr_set *h)
{
    char list[512], *name = list;

    sl_strfmt(list, sizeof(list), "%s", names);
    while (name && *name && !h->failed) {
        char *semi = strchr(name, ';');
        if (semi)
            *semi = '\0';
        if (strcmp(name, "host") != 0 && strcmp(name, "x-amz-date") != 0 &&
            strcmp(name, "x-amz-security-token") != 0) {
            h->want = name;
            MHD_get_connection_values(conn, MHD_HEADER_KIND, collect_cb, h);
        }
        name = semi ? semi + 1 : NULL;
    }
    h->want = NULL;
    return h->failed ? -1 : 0;
}

static int has_name(const char *list, const char *name)
{
    size_t n = strlen(name);

    for (const char *p = list; p; p = strchr(p, ';') ? strchr(p, ';') + 1 : NULL) {
        if (strncmp(p, name, n) == 0 && (p[n] == ';' || p[n] == '\0'))
            return 1;
    }
    return 0;
}

static const char *header(struct MHD_Connection *conn, const char *name)
{
    return MHD_lookup_connection_value(conn, MHD_HEADER_KIND, name);
}

/* Recomputes the signature over the request as received and compares in constant time. */
static int verify_signature(struct MHD_Connection *conn, const sl_buf *body, const key *k,
                            const auth *a, refusal *r)
{
    const char *host = header(conn, "Host"), *sig;
    char expect[AUTH_CAP], date[SL_SIGV4_DATE_LEN + 1];
    hdr_set h = {0};
    int64_t t = 0;
    int ok = 0;

    if (host && collect_signed(conn, a->signed_headers, &h) == 0 &&
        amz_date_parse(header(conn, "X-Amz-Date"), &t) == 0) {
        sl_sigv4_request req = {
            .method = "POST",
            .host = host,
            .path = "/",
            .query = "",
            .headers = (const char *const *)h.v,
            .body = body->p,
            .body_len = body->len,
            .region = a->region,
            .service = SERVICE,
            .time_ms = t,
        };
        sl_sigv4_creds creds = {k->akid, k->secret, header(conn, "X-Amz-Security-Token")};
        if (sl_sigv4_sign(&req, &creds, expect, sizeof(expect), date) == 0 &&
            (sig = strstr(expect, "Signature=")) != NULL) {
            sig += 10;
            ok = strlen(sig) == strlen(a->signature) &&
                 sodium_memcmp(sig, a->signature, strlen(sig)) == 0;
        }
        sodium_memzero(expect, sizeof(expect));
    }
    hdr_set_release(&h);
    return ok ? 0 : refuse(r, 403, "InvalidSignatureException", BAD_SIG_MSG);
}

static int authenticate(const config *c, struct MHD_Connection *conn, const sl_buf *body,
                        int64_t now, refusal *r)
{
    const char *h = header(conn, "Authorization");
    const key *k;
    auth a;

    if (!h)
        return refuse(r, 403, "MissingAuthenticationTokenException",
                      "Missing Authentication Token");
    if (auth_parse(h, &a, r) != 0 || check_scope(c, &a, header(conn, "X-Amz-Date"), now, r) != 0)
        return -1;
    k = key_find(c, a.akid);
    if (!k || !token_ok(k, header(conn, "X-Amz-Security-Token")))
        return refuse(r, 403, "UnrecognizedClientException",
                      "The security token included in the request is invalid.");
    if (!has_name(a.signed_headers, "host"))
        return refuse(r, 403, "InvalidSignatureException",
                      "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.");
    return verify_signature(conn, body, k, &a, r);
}

/* The operation and the body's media type. */
static int check_operation(struct MHD_Connection *conn, refusal *r)
{
    const char *target = header(conn, "X-Amz-Target"), *type = header(conn, "Content-Type");
    size_t n = strlen(CONTENT_TYPE);

    if (!target)
        return refuse(r, 400, "UnknownOperationException", "Missing X-Amz-Target header");
    if (strcmp(target, TARGET) != 0)
        return refuse(r, 400, "UnknownOperationException",
                      "operation %.100s is not served by this stand-in (GetMetricData only)",
                      target);
    if (!type || strncasecmp(type, CONTENT_TYPE, n) != 0 || (type[n] && type[n] != ';'))
        return refuse(r, 400, "SerializationException",
                      "Content-Type must be " CONTENT_TYPE ", not %.100s", type ? type : "none");
    return 0;
}

/* ---- GetMetricData: the request ---- */

typedef enum stat_kind { ST_MAX, ST_MIN, ST_AVG, ST_SUM, ST_COUNT } stat_kind;

/* One MetricDataQuery, the series it reads and the result it fills. Strings are borrowed from
 * the request's JSON or the configuration. */
typedef struct mquery {
    const char *id;
    const char *instance; /* NULL: no InstanceId dimension, so no data */
    const char *metric;
    int64_t period_ms;
    stat_kind stat;
    int return_data;
    const line **v; /* range lines of the series, in script order */
    size_t nv;
    const line *dflt;
    int64_t *bp;      /* scratch for a period's breakpoints, 2 nv + 2 */
    int64_t first_ms; /* timestamp of period 0 */
    int64_t count;    /* periods in [StartTime, EndTime) */
    json_t *ts, *vals;
} mquery;

typedef struct gmd {
    json_t *root;
    mquery *q;
    size_t n;
    int64_t start_ms, end_ms;
    int ascending;
    size_t limit;
    uint64_t pos; /* position of this page in the sequence of all queries' periods */
    uint8_t fp[8];
} gmd;

static void gmd_release(gmd *g)
{
    for (size_t i = 0; g->q && i < g->n; i++) {
        free(g->q[i].v);
        free(g->q[i].bp);
        json_decref(g->q[i].ts);
        json_decref(g->q[i].vals);
    }
    free(g->q);
    json_decref(g->root);
    memset(g, 0, sizeof(*g));
}

static int stat_parse(const char *s, stat_kind *out)
{
    static const char *const names[] = {"Maximum", "Minimum", "Average", "Sum", "SampleCount"};

    for (int i = 0; s && i < 5; i++) {
        if (strcmp(s, names[i]) == 0) {
            *out = (stat_kind)i;
            return 0;
        }
    }
    return -1;
}

static int id_ok(const char *id)
{
    if (!id || !(id[0] >= 'a' && id[0] <= 'z') || strlen(id) > 255)
        return 0;
    for (const char *p = id; *p; p++) {
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '_'))
            return 0;
    }
    return 1;
}

static const char *instance_of(const json_t *dims)
{
    const json_t *d;
    size_t i;

    json_array_foreach(dims, i, d)
    {
        const char *name = json_string_value(json_object_get(d, "Name"));
        if (name && strcmp(name, "InstanceId") == 0 && json_is_string(json_object_get(d, "Value")))
            return json_string_value(json_object_get(d, "Value"));
    }
    return NULL;
}

/* Reads MetricDataQueries[i] into q. */
static int query_parse(const json_t *j, size_t i, mquery *q, refusal *r)
{
    const json_t *ms = json_object_get(j, "MetricStat"), *m = json_object_get(ms, "Metric");
    const json_t *period = json_object_get(ms, "Period"), *rd = json_object_get(j, "ReturnData");
    int64_t p;

    q->id = json_string_value(json_object_get(j, "Id"));
    if (!id_ok(q->id))
        return refuse(r, 400, "InvalidParameterValueException",
                      "The value for MetricDataQueries.member.%zu.Id must start with a lowercase "
                      "letter and hold only letters, digits and underscores",
                      i + 1);
    if (json_object_get(j, "Expression"))
        return refuse(r, 400, "InvalidParameterValueException",
                      "Expression queries are not supported by this stand-in");
    q->metric = json_string_value(json_object_get(m, "MetricName"));
    if (!q->metric || !json_is_string(json_object_get(m, "Namespace")) ||
        !json_is_integer(period) ||
        stat_parse(json_string_value(json_object_get(ms, "Stat")), &q->stat) != 0)
        return refuse(r, 400, "InvalidParameterValueException",
                      "MetricDataQueries.member.%zu.MetricStat needs Metric (Namespace, "
                      "MetricName), an integer Period and a known Stat",
                      i + 1);
    p = json_integer_value(period);
    if (p <= 0 || (p % 60 != 0 && p != 1 && p != 5 && p != 10 && p != 30))
        return refuse(r, 400, "InvalidParameterValueException",
                      "The parameter MetricDataQueries.member.%zu.MetricStat.Period must be a "
                      "multiple of 60 or equal to 1, 5, 10, 30",
                      i + 1);
    if (rd && !json_is_boolean(rd))
        return refuse(r, 400, "SerializationException", "ReturnData must be a boolean");
    q->period_ms = p * SL_MS_PER_SECOND;
    q->return_data = !rd || json_is_true(rd);
    q->instance = instance_of(json_object_get(m, "Dimensions"));
    return 0;
}

/* Reads a timestamp: epoch seconds as a JSON number. */
static int time_field(const json_t *root, const char *name, int64_t *ms, refusal *r)
{
    const json_t *t = json_object_get(root, name);
    double s = json_number_value(t);

    if (!json_is_number(t) || !(s >= 0 && s < 253402300800.0))
        return refuse(r, 400, "SerializationException", "%s must be a timestamp in epoch seconds",
                      name);
    *ms = (int64_t)(s * 1000.0); /* s >= 0: truncation is floor */
    return 0;
}

static int top_parse(gmd *g, refusal *r)
{
    const json_t *scan = json_object_get(g->root, "ScanBy");
    const json_t *max = json_object_get(g->root, "MaxDatapoints");

    if (time_field(g->root, "StartTime", &g->start_ms, r) != 0 ||
        time_field(g->root, "EndTime", &g->end_ms, r) != 0)
        return -1;
    if (g->start_ms >= g->end_ms)
        return refuse(r, 400, "InvalidParameterValueException",
                      "The parameter StartTime must be less than the parameter EndTime.");
    g->ascending =
        json_is_string(scan) && strcmp(json_string_value(scan), "TimestampAscending") == 0;
    if (scan && !g->ascending &&
        !(json_is_string(scan) && strcmp(json_string_value(scan), "TimestampDescending") == 0))
        return refuse(r, 400, "InvalidParameterValueException",
                      "ScanBy must be TimestampAscending or TimestampDescending");
    if (max && (!json_is_integer(max) || json_integer_value(max) <= 0))
        return refuse(r, 400, "InvalidParameterValueException",
                      "MaxDatapoints must be a positive integer");
    if (max && (size_t)json_integer_value(max) < g->limit)
        g->limit = (size_t)json_integer_value(max);
    return 0;
}

/* Finds the script lines of q's series and lays out its periods. */
static int query_prepare(const config *c, const gmd *g, mquery *q)
{
    int64_t unit = q->period_ms < SL_MS_PER_MINUTE ? q->period_ms : SL_MS_PER_MINUTE;

    q->first_ms = g->start_ms - sl_floormod(g->start_ms, unit);
    q->count = (g->end_ms - q->first_ms + q->period_ms - 1) / q->period_ms;
    q->v = calloc(c->n_lines + 1, sizeof(*q->v));
    q->bp = calloc(2 * c->n_lines + 2, sizeof(*q->bp));
    q->ts = json_array();
    q->vals = json_array();
    if (!q->v || !q->bp || !q->ts || !q->vals)
        return SL_ENOMEM;
    for (size_t i = 0; q->instance && i < c->n_lines; i++) {
        const line *l = &c->lines[i];
        if (strcmp(l->instance, q->instance) != 0 || strcmp(l->metric, q->metric) != 0)
            continue;
        if (l->is_default)
            q->dflt = l;
        else
            q->v[q->nv++] = l;
    }
    return 0;
}

/* The request's fingerprint: what a NextToken is bound to. */
static int fingerprint(const config *c, gmd *g)
{
    json_t *copy = json_deep_copy(g->root);
    uint8_t h[SL_HASH_LEN];
    char *text;
    sl_buf b;

    if (!copy)
        return SL_ENOMEM;
    json_object_del(copy, "NextToken");
    text = json_dumps(copy, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(copy);
    if (!text)
        return SL_ENOMEM;
    sl_buf_init(&b);
    sl_buf_put(&b, c->salt, sizeof(c->salt));
    sl_buf_put(&b, text, strlen(text));
    free(text);
    if (b.err) {
        sl_buf_release(&b);
        return SL_ENOMEM;
    }
    sl_sha256(b.p, b.len, h);
    sl_buf_release(&b);
    memcpy(g->fp, h, sizeof(g->fp));
    return 0;
}

/* A NextToken is 16 hex digits of fingerprint then 16 of position. */
static void token_format(const gmd *g, uint64_t pos, char out[33])
{
    uint8_t raw[16];

    memcpy(raw, g->fp, 8);
    for (int i = 0; i < 8; i++)
        raw[8 + i] = (uint8_t)(pos >> (56 - 8 * i));
    sl_hex(raw, sizeof(raw), out);
}

static int token_read(gmd *g, refusal *r)
{
    const json_t *t = json_object_get(g->root, "NextToken");
    uint8_t raw[16];

    if (!t || json_is_null(t))
        return 0;
    if (!json_is_string(t) || sl_unhex(json_string_value(t), json_string_length(t), raw, 16) != 0 ||
        sodium_memcmp(raw, g->fp, 8) != 0)
        return refuse(r, 400, "InvalidNextToken", "The NextToken is not valid for this request");
    for (int i = 0; i < 8; i++)
        g->pos = (g->pos << 8) | raw[8 + i];
    return 0;
}

static int gmd_parse(const config *c, const sl_buf *body, gmd *g, refusal *r)
{
    const json_t *qs;
    json_error_t jerr;
    int64_t total = 0;

    g->limit = c->page_size;
    g->root = json_loadb((const char *)body->p, body->len, JSON_REJECT_DUPLICATES, &jerr);
    if (!json_is_object(g->root))
        return refuse(r, 400, "SerializationException", "The request body is not a JSON object");
    qs = json_object_get(g->root, "MetricDataQueries");
    if (!json_is_array(qs) || json_array_size(qs) == 0 || json_array_size(qs) > MAX_QUERIES)
        return refuse(r, 400, "MissingRequiredParameterException",
                      "MetricDataQueries must hold 1 to %d queries", MAX_QUERIES);
    if (top_parse(g, r) != 0)
        return -1;
    g->q = calloc(json_array_size(qs), sizeof(*g->q));
    if (!g->q)
        return refuse(r, 500, "InternalServiceFault", "out of memory");
    for (g->n = 0; g->n < json_array_size(qs); g->n++) {
        mquery *q = &g->q[g->n];
        if (query_parse(json_array_get(qs, g->n), g->n, q, r) != 0)
            return -1;
        for (size_t j = 0; j < g->n; j++) {
            if (strcmp(g->q[j].id, q->id) == 0)
                return refuse(r, 400, "InvalidParameterValueException",
                              "The values for parameter id in MetricDataQueries are not unique.");
        }
        if (query_prepare(c, g, q) != 0)
            return refuse(r, 500, "InternalServiceFault", "out of memory");
        total += q->count;
    }
    if (total > MAX_PERIODS)
        return refuse(r, 400, "InvalidParameterCombinationException",
                      "%lld periods requested; this stand-in serves at most %d per request",
                      (long long)total, MAX_PERIODS);
    if (fingerprint(c, g) != 0)
        return refuse(r, 500, "InternalServiceFault", "out of memory");
    return token_read(g, r);
}

/* ---- GetMetricData: the series and the page ---- */

/* The series at time t: 1 with *v set, 0 where it has no data. */
static int series_at(const mquery *q, int64_t t, double *v)
{
    for (size_t i = q->nv; i-- > 0;) {
        if (q->v[i]->from_ms <= t && t < q->v[i]->to_ms) {
            *v = q->v[i]->value;
            return !q->v[i]->missing;
        }
    }
    if (!q->dflt || q->dflt->missing)
        return 0;
    *v = q->dflt->value;
    return 1;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

    return (x > y) - (x < y);
}

/* Aggregates the series over [a, b) by the query's statistic: 1 with *out set, 0 when no part
 * of the span has data. The series is constant between breakpoints. */
static int datapoint(const mquery *q, int64_t a, int64_t b, double *out)
{
    double sum = 0, mx = -INFINITY, mn = INFINITY, v;
    int64_t len = 0;
    size_t n = 0;

    q->bp[n++] = a;
    q->bp[n++] = b;
    for (size_t i = 0; i < q->nv; i++) {
        if (q->v[i]->from_ms > a && q->v[i]->from_ms < b)
            q->bp[n++] = q->v[i]->from_ms;
        if (q->v[i]->to_ms > a && q->v[i]->to_ms < b)
            q->bp[n++] = q->v[i]->to_ms;
    }
    qsort(q->bp, n, sizeof(*q->bp), cmp_i64);
    for (size_t i = 0; i + 1 < n; i++) {
        int64_t x = q->bp[i], y = q->bp[i + 1];
        if (y <= x || !series_at(q, x, &v))
            continue;
        sum += v * (double)(y - x);
        len += y - x;
        mx = v > mx ? v : mx;
        mn = v < mn ? v : mn;
    }
    if (len == 0)
        return 0;
    double r[] = {mx, mn, sum / (double)len, sum / 1000.0, (double)len / 1000.0};
    *out = r[q->stat];
    return 1;
}

static int has_data(const mquery *q)
{
    return q->instance && q->return_data && (q->nv > 0 || (q->dflt && !q->dflt->missing));
}

/* Fills one query's arrays from its position k on with at most *room datapoints; returns the
 * position of the first datapoint that did not fit, or -1 when none is left. */
static int64_t query_fill(mquery *q, int64_t k, int ascending, int64_t now, size_t *room)
{
    int64_t ended = sl_floordiv(now - q->first_ms, q->period_ms);
    double v;

    ended = ended < 0 ? 0 : ended > q->count ? q->count : ended;
    for (; k < q->count; k++) {
        int64_t idx = ascending ? k : q->count - 1 - k;
        if (idx >= ended) {
            if (ascending)
                break;
            k = q->count - ended - 1; /* skip the periods not yet ended */
            continue;
        }
        int64_t t = q->first_ms + idx * q->period_ms;
        if (!datapoint(q, t, t + q->period_ms, &v))
            continue;
        if (*room == 0)
            return k;
        json_array_append_new(q->ts, json_real((double)t / 1000.0));
        json_array_append_new(q->vals, json_real(v));
        (*room)--;
    }
    return -1;
}

/* Fills the page; returns the position the next page starts at, or -1 on the last page. */
static int64_t page_fill(gmd *g, int64_t now)
{
    size_t room = g->limit;
    int64_t base = 0;

    for (size_t i = 0; i < g->n; base += g->q[i].count, i++) {
        mquery *q = &g->q[i];
        int64_t k = (int64_t)g->pos > base ? (int64_t)g->pos - base : 0;
        if (k >= q->count || !has_data(q))
            continue;
        k = query_fill(q, k, g->ascending, now, &room);
        if (k >= 0)
            return base + k;
    }
    return -1;
}

/* The response body: one result per query that returns data, and the NextToken. */
static char *page_json(gmd *g, int64_t next)
{
    json_t *results = json_array(), *root;
    char token[33];
    char *text;

    for (size_t i = 0; results && i < g->n; i++) {
        mquery *q = &g->q[i];
        if (!q->return_data)
            continue;
        json_array_append_new(
            results, json_pack("{s:s, s:s, s:O, s:O, s:s, s:[]}", "Id", q->id, "Label", q->metric,
                               "Timestamps", q->ts, "Values", q->vals, "StatusCode",
                               next >= 0 ? "PartialData" : "Complete", "Messages"));
    }
    if (next >= 0)
        token_format(g, (uint64_t)next, token);
    root = json_pack("{s:o, s:[], s:s*}", "MetricDataResults", results, "Messages", "NextToken",
                     next >= 0 ? token : NULL);
    text = root ? json_dumps(root, JSON_COMPACT) : NULL;
    json_decref(root);
    return text;
}

static enum MHD_Result answer(const config *c, struct MHD_Connection *conn, const sl_buf *body,
                              int malformed, int64_t now)
{
    gmd g = {0};
    refusal r = {0};
    enum MHD_Result ok;
    int64_t next;
    char *text;

    if (gmd_parse(c, body, &g, &r) != 0) {
        gmd_release(&g);
        return send_error(conn, r.status, r.type, "%s", r.msg);
    }
    next = page_fill(&g, now);
    text = page_json(&g, next);
    gmd_release(&g);
    if (!text)
        return send_error(conn, 500, "InternalServiceFault", "out of memory");
    if (malformed)
        text[strlen(text) / 2] = '\0'; /* a body cut short, as by a broken proxy */
    fprintf(stderr, "tool_cloudwatch: 200 GetMetricData%s%s\n", next >= 0 ? " (more)" : "",
            malformed ? " (malformed by script)" : "");
    ok = send_text(conn, 200, text);
    free(text);
    return ok;
}

/* ---- serving ---- */

/* The body of one request, gathered across the handler's calls. */
typedef struct conn_ctx {
    sl_buf body;
    int too_large;
} conn_ctx;

static unsigned active_faults(const config *c, int64_t now)
{
    unsigned kinds = 0;

    for (size_t i = 0; i < c->n_faults; i++) {
        if (c->faults[i].from_ms <= now && now < c->faults[i].to_ms)
            kinds |= c->faults[i].kind;
    }
    return kinds;
}

static void sleep_ms(int64_t ms)
{
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};

    while (nanosleep(&ts, &ts) != 0)
        ;
}

static enum MHD_Result serve(const config *c, struct MHD_Connection *conn, const char *url,
                             const char *method, conn_ctx *k)
{
    int64_t now = standin_now_ms(c);
    refusal r = {0};
    unsigned faults;

    if (k->too_large || k->body.err)
        return send_error(conn, 413, "SerializationException", "request body larger than %u bytes",
                          MAX_BODY);
    if (strcmp(method, "POST") != 0 || strcmp(url, "/") != 0)
        return send_error(conn, 404, "UnknownOperationException",
                          "this stand-in serves POST / only, not %.16s %.100s", method, url);
    if (authenticate(c, conn, &k->body, now, &r) != 0 || check_operation(conn, &r) != 0)
        return send_error(conn, r.status, r.type, "%s", r.msg);
    faults = active_faults(c, now);
    if (faults & FAULT_SLOW)
        sleep_ms(SLOW_MS);
    if (faults & FAULT_HTTP500)
        return send_error(conn, 500, "InternalServiceFault",
                          "Internal service error (a fault of the stand-in's script)");
    return answer(c, conn, &k->body, (faults & FAULT_MALFORMED) != 0, now);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload,
                                  size_t *upload_size, void **con_cls)
{
    conn_ctx *k = *con_cls;

    (void)version;
    if (!k) {
        k = calloc(1, sizeof(*k));
        if (!k)
            return MHD_NO;
        sl_buf_init(&k->body);
        *con_cls = k;
        return MHD_YES;
    }
    if (*upload_size > 0) {
        if (k->body.len + *upload_size > MAX_BODY)
            k->too_large = 1;
        else
            sl_buf_put(&k->body, upload, *upload_size);
        *upload_size = 0;
        return MHD_YES;
    }
    return serve(cls, conn, url, method, k);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    conn_ctx *k = *con_cls;

    (void)cls;
    (void)conn;
    (void)toe;
    if (k) {
        sl_buf_release(&k->body);
        free(k);
    }
    *con_cls = NULL;
}

/* ---- main ---- */

static int usage(FILE *f)
{
    fprintf(f, "usage: tool_cloudwatch --keys FILE [--port N] [--region R] [--script FILE] "
               "[--page-size N] [--start TIME] [--speed S] [--since TIME]\n");
    return 2;
}

static int region_ok(const char *r)
{
    return *r && strspn(r, "abcdefghijklmnopqrstuvwxyz0123456789-") == strlen(r);
}

static int option(config *c, const char *o, const char *v)
{
    long long n;

    if (strcmp(o, "--port") == 0 && parse_size(v, 0, 65535, &n) == 0)
        c->port = (unsigned)n;
    else if (strcmp(o, "--page-size") == 0 && parse_size(v, 1, 100800, &n) == 0)
        c->page_size = (size_t)n;
    else if (strcmp(o, "--keys") == 0)
        c->keys_path = v;
    else if (strcmp(o, "--script") == 0)
        c->script_path = v;
    else if (strcmp(o, "--region") == 0 && region_ok(v))
        c->region = v;
    else if (strcmp(o, "--start") == 0 && sl_time_parse(v, strlen(v), &c->start_ms) == 0)
        c->start = v;
    else if (strcmp(o, "--speed") == 0 && parse_size(v, 1, 100000, &n) == 0)
        c->speed = n;
    else if (strcmp(o, "--since") == 0 && sl_time_parse(v, strlen(v), &c->since_ms) == 0)
        c->since = v;
    else
        return -1;
    return 0;
}

static int parse_args(int argc, char **argv, config *c)
{
    c->region = "us-east-1";
    c->page_size = 100;
    c->speed = 1;
    for (int i = 1; i < argc; i += 2) {
        if (i + 1 >= argc || option(c, argv[i], argv[i + 1]) != 0) {
            fprintf(stderr, "tool_cloudwatch: bad option %s\n", argv[i]);
            return -1;
        }
    }
    if (!c->keys_path) {
        fprintf(stderr, "tool_cloudwatch: --keys is required\n");
        return -1;
    }
    return 0;
}

static struct MHD_Daemon *start(config *c)
{
    struct sockaddr_in sa;
    struct MHD_Daemon *d;
    const union MHD_DaemonInfo *info;

    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)c->port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    d = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION | MHD_USE_ERROR_LOG, 0,
        NULL, NULL, on_request, c, MHD_OPTION_SOCK_ADDR, &sa, MHD_OPTION_NOTIFY_COMPLETED,
        on_completed, NULL, MHD_OPTION_CONNECTION_TIMEOUT, 30u, MHD_OPTION_END);
    if (!d)
        return NULL;
    info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    c->port = info ? info->port : c->port;
    return d;
}

int main(int argc, char **argv)
{
    config c = {0};
    struct MHD_Daemon *d = NULL;
    sigset_t set;
    int sig, rc = 1;

    if (argc == 2 && strcmp(argv[1], "--help") == 0)
        return usage(stdout) - 2;
    if (parse_args(argc, argv, &c) != 0)
        return usage(stderr);
    if (sodium_init() < 0)
        return 1;
    /* Relative script times count from --start, else from --since, else from the stand-in's
     * start, where the sped-up clock starts by default. */
    if (!c.since)
        c.since_ms = wall_ms();
    if (!c.start)
        c.start_ms = c.since_ms;
    randombytes_buf(c.salt, sizeof(c.salt));
    if (load_file(&c, c.keys_path, add_key) != 0 ||
        (c.script_path && load_file(&c, c.script_path, script_line) != 0))
        goto out;
    /* Threads started from here on inherit the mask, so only sigwait sees these signals. */
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
    d = start(&c);
    if (!d) {
        fprintf(stderr, "tool_cloudwatch: cannot listen on 127.0.0.1:%u\n", c.port);
        goto out;
    }
    printf("listening on 127.0.0.1:%u\n", c.port);
    fflush(stdout);
    sigwait(&set, &sig);
    rc = 0;
out:
    if (d)
        MHD_stop_daemon(d);
    config_release(&c);
    return rc;
}
