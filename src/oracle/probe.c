/*
 * probe.c: the HTTP probe adapter: the request an http service's source describes, and the
 * verdict on the response it got.
 *
 * Source keys: url (http://, https://, or tcp://host:port for a bare TCP connect), method
 * (GET or HEAD, default GET), expect_status (100..599; default any 2xx or 3xx), expect_body (a
 * substring the body must contain), timeout (a duration, default 10 s, for the whole exchange)
 * and cert_expiry (a duration: the server certificate must remain valid at least that long;
 * https only). src/sla/services.c validates them in documents; they are checked again here
 * because specs can also be built in code. Down reasons are short and name the broken
 * condition ("HTTP 503, expected 200", "body lacks \"ok\""); transport failures keep the
 * transport's words ("connection refused", "timeout after 5000 ms", "TLS: ...").
 *
 * Pure: no I/O and no clock (the judge gets now_ms), so both halves are tested on their own;
 * sl_http_perform or sl_fetch carries the request. Thread-safety: reentrant.
 */
#include "slaledger/oracle.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TCP_PREFIX "tcp://"

static int is_tcp(const char *url)
{
    return url && strncmp(url, TCP_PREFIX, sizeof(TCP_PREFIX) - 1) == 0;
}

/* Reads the optional duration source key `key` into *out (left as is when absent). */
static int opt_duration(const sl_service_spec *s, const char *key, int64_t *out, sl_error *err)
{
    const char *v = sl_source_get(s, key);
    char field[32];

    if (!v)
        return 0;
    if (sl_duration_parse(v, strlen(v), out) == 0)
        return 0;
    sl_strfmt(field, sizeof(field), "source.%s", key);
    return sl_error_set(err, SL_EINVAL, field,
                        "expected a duration such as 10s or 14d, found %.40s", v);
}

/* Reads source.expect_status into *out (0 when absent); -1 when it is not a status. */
static long expect_status(const sl_service_spec *s)
{
    const char *v = sl_source_get(s, "expect_status");
    long n = 0;

    if (!v)
        return 0;
    if (strlen(v) != 3 || strspn(v, "0123456789") != 3)
        return -1;
    n = (v[0] - '0') * 100 + (v[1] - '0') * 10 + (v[2] - '0');
    return n >= 100 && n <= 599 ? n : -1;
}

/* Checks the keys the judge reads alone, so that a bad one fails early; the rules between
 * keys are the SLA layer's (sl_service_source_check). */
static int judge_keys_check(const sl_service_spec *s, sl_error *err)
{
    const char *method = sl_source_get(s, "method");
    int64_t expiry = 0;

    if (method && strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
        return sl_error_set(err, SL_EINVAL, "source.method", "expected GET or HEAD, found %.16s",
                            method);
    if (expect_status(s) < 0)
        return sl_error_set(err, SL_EINVAL, "source.expect_status",
                            "expected an HTTP status 100..599");
    return opt_duration(s, "cert_expiry", &expiry, err);
}

int sl_probe_request(const sl_service_spec *s, sl_http_req *out, sl_error *err)
{
    const char *url, *method;
    int64_t timeout = SL_HTTP_DEFAULT_TIMEOUT_MS;
    int rc;

    sl_http_req_init(out);
    if (!s || s->kind != SL_SVC_HTTP)
        return sl_error_set(err, SL_EINVAL, "kind", "service %s is not of kind http",
                            s && s->name ? s->name : "(none)");
    url = sl_source_get(s, "url");
    if ((rc = sl_service_source_check(s, err)) != 0 || (rc = judge_keys_check(s, err)) != 0 ||
        (rc = opt_duration(s, "timeout", &timeout, err)) != 0)
        return rc;
    method = sl_source_get(s, "method");
    if ((rc = sl_http_req_set(out, method ? method : "GET", url)) != 0)
        return sl_error_set(err, rc, NULL, "cannot build the request");
    out->timeout_ms = timeout;
    out->mode = is_tcp(url) ? SL_HTTP_CONNECT_ONLY : SL_HTTP_EXCHANGE;
    out->want_cert = sl_source_get(s, "cert_expiry") != NULL;
    return 0;
}

/* ---- the verdict ---- */

static void down(sl_probe_result *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void down(sl_probe_result *out, const char *fmt, ...)
{
    va_list ap;

    out->up = 0;
    va_start(ap, fmt);
    vsnprintf(out->reason, sizeof(out->reason), fmt, ap);
    va_end(ap);
}

static int status_ok(const sl_service_spec *s, const sl_http_resp *resp, sl_probe_result *out)
{
    long want = expect_status(s);

    if (want < 0)
        down(out, "source.expect_status is not an HTTP status");
    else if (want > 0 && resp->status != want)
        down(out, "HTTP %ld, expected %ld", resp->status, want);
    else if (want == 0 && (resp->status < 200 || resp->status > 399))
        down(out, "HTTP %ld, expected 2xx or 3xx", resp->status);
    else
        return 1;
    return 0;
}

/* Whether needle occurs in hay[0..len) (memmem is not POSIX). */
static int contains(const uint8_t *hay, size_t len, const char *needle)
{
    size_t n = strlen(needle);

    if (n == 0)
        return 1;
    for (size_t i = 0; hay && i + n <= len; i++) {
        if (hay[i] == (uint8_t)needle[0] && memcmp(hay + i, needle, n) == 0)
            return 1;
    }
    return 0;
}

static int body_ok(const sl_service_spec *s, const sl_http_resp *resp, sl_probe_result *out)
{
    const char *want = sl_source_get(s, "expect_body");

    if (!want || contains(resp->body.p, resp->body.len, want))
        return 1;
    down(out, "body lacks \"%.80s%s\"", want, strlen(want) > 80 ? "..." : "");
    return 0;
}

static int cert_ok(const sl_service_spec *s, const sl_http_resp *resp, int64_t now_ms,
                   sl_probe_result *out)
{
    const char *text = sl_source_get(s, "cert_expiry");
    int64_t min_ms = 0;
    char when[32];

    if (!text)
        return 1;
    if (sl_duration_parse(text, strlen(text), &min_ms) != 0) {
        down(out, "source.cert_expiry is not a duration");
        return 0;
    }
    if (resp->cert_expiry_ms < 0) {
        down(out, "certificate expiry unknown");
        return 0;
    }
    if (resp->cert_expiry_ms - now_ms > min_ms)
        return 1;
    if (sl_time_format(resp->cert_expiry_ms, when, sizeof(when)) < 0)
        sl_strfmt(when, sizeof(when), "at %lld ms", (long long)resp->cert_expiry_ms);
    if (resp->cert_expiry_ms <= now_ms)
        down(out, "certificate expired %s", when);
    else
        down(out, "certificate expires %s, within %.20s", when, text);
    return 0;
}

void sl_probe_judge(const sl_service_spec *s, const sl_http_resp *resp, int64_t now_ms,
                    sl_probe_result *out)
{
    memset(out, 0, sizeof(*out));
    out->response_ms = -1;
    if (resp->failed) {
        down(out, "%s", resp->error[0] ? resp->error : "no response");
        return;
    }
    if (is_tcp(sl_source_get(s, "url"))) {
        out->response_ms = resp->connect_ms >= 0 ? resp->connect_ms : resp->total_ms;
        out->up = 1;
        return;
    }
    out->response_ms = resp->total_ms;
    if (status_ok(s, resp, out) && body_ok(s, resp, out) && cert_ok(s, resp, now_ms, out))
        out->up = 1;
}
