/*
 * test_probe.c: the HTTP probe adapter. First as pure functions: the request each source
 * builds (and the sources refused), and the verdict on synthetic responses (status, body,
 * transport failures, tcp connects, certificate expiry). Then live against tool_targets on
 * 127.0.0.1 (found through SL_BUILD_DIR): up, 503, slow beyond the timeout, hanging, a body
 * that lacks the expected text, a closed port, tcp:// connects, a flipped target, and HTTPS
 * with self-signed certificates made by the openssl CLI in a temporary directory (verification
 * failure, insecure with the expiry read, a certificate expiring within cert_expiry, and
 * expiry read again on a second probe through one sl_fetch). Every wait is bounded; every
 * started process is stopped.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "slaledger/oracle.h"
#include "support/targets.h"

#define T0  1796083200000LL /* 2026-12-01T00:00:00Z */
#define DAY (24LL * 3600 * 1000)

static targets tg;

/* A service of kind http with up to 8 source keys (literals, borrowed). */
typedef struct svc {
    sl_service_spec s;
    sl_kv kv[8];
} svc;

/* svc_make(&v, "url", "http://...", "timeout", "5s", NULL) */
static void svc_make(svc *v, ...)
{
    va_list ap;
    const char *k;

    memset(v, 0, sizeof(*v));
    v->s.name = "web";
    v->s.kind = SL_SVC_HTTP;
    v->s.source = v->kv;
    va_start(ap, v);
    while ((k = va_arg(ap, const char *)) != NULL && v->s.n_source < 8) {
        v->kv[v->s.n_source].key = (char *)k;
        v->kv[v->s.n_source].value = va_arg(ap, char *);
        v->s.n_source++;
    }
    va_end(ap);
}

static int64_t wall_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- the request ---- */

static void test_request_built(void **state)
{
    svc v;
    sl_http_req r;
    sl_error err = {0};

    (void)state;
    svc_make(&v, "url", "http://127.0.0.1:8080/health", NULL);
    assert_int_equal(sl_probe_request(&v.s, &r, &err), 0);
    assert_string_equal(r.method, "GET");
    assert_string_equal(r.url, "http://127.0.0.1:8080/health");
    assert_int_equal(r.timeout_ms, SL_HTTP_DEFAULT_TIMEOUT_MS);
    assert_int_equal(r.mode, SL_HTTP_EXCHANGE);
    assert_false(r.want_cert);
    assert_false(r.insecure);
    sl_http_req_release(&r);

    svc_make(&v, "url", "https://example.org/", "method", "HEAD", "timeout", "1m30s", "cert_expiry",
             "14d", NULL);
    assert_int_equal(sl_probe_request(&v.s, &r, &err), 0);
    assert_string_equal(r.method, "HEAD");
    assert_int_equal(r.timeout_ms, 90000);
    assert_true(r.want_cert);
    sl_http_req_release(&r);

    svc_make(&v, "url", "tcp://db.internal:5432", "timeout", "500ms", NULL);
    assert_int_equal(sl_probe_request(&v.s, &r, &err), 0);
    assert_int_equal(r.mode, SL_HTTP_CONNECT_ONLY);
    assert_string_equal(r.url, "tcp://db.internal:5432");
    assert_int_equal(r.timeout_ms, 500);
    sl_http_req_release(&r);

    svc_make(&v, "url", "tcp://[::1]:22", NULL);
    assert_int_equal(sl_probe_request(&v.s, &r, &err), 0);
    sl_http_req_release(&r);
}

/* Expects source v to be refused with field. */
static void refused(const svc *v, const char *field)
{
    sl_http_req r;
    sl_error err = {0};

    assert_int_equal(sl_probe_request(&v->s, &r, &err), SL_EINVAL);
    assert_int_equal(err.code, SL_EINVAL);
    assert_string_equal(err.field, field);
    assert_true(err.msg[0] != '\0');
    assert_null(r.url);
    sl_http_req_release(&r);
}

static void test_request_refused(void **state)
{
    static const char *const bad_urls[] = {
        "ftp://x/",        "tcp://host",   "tcp://host:0",  "tcp://host:65536", "tcp://:80",
        "tcp://h:80/path", "tcp://u@h:80", "tcp://[::1:80", "http://a b/",      "",
    };
    svc v;

    (void)state;
    for (size_t i = 0; i < sizeof(bad_urls) / sizeof(bad_urls[0]); i++) {
        svc_make(&v, "url", bad_urls[i], NULL);
        refused(&v, "source.url");
    }
    svc_make(&v, "timeout", "5s", NULL);
    refused(&v, "source.url");
    svc_make(&v, "url", "http://h/", "timeout", "soon", NULL);
    refused(&v, "source.timeout");
    svc_make(&v, "url", "http://h/", "timeout", "0s", NULL);
    refused(&v, "source.timeout");
    svc_make(&v, "url", "http://h/", "method", "POST", NULL);
    refused(&v, "source.method");
    svc_make(&v, "url", "http://h/", "expect_status", "700", NULL);
    refused(&v, "source.expect_status");
    svc_make(&v, "url", "http://h/", "expect_status", "20", NULL);
    refused(&v, "source.expect_status");
    svc_make(&v, "url", "http://h/", "cert_expiry", "14d", NULL);
    refused(&v, "source.cert_expiry");
    svc_make(&v, "url", "https://h/", "cert_expiry", "fortnight", NULL);
    refused(&v, "source.cert_expiry");
    svc_make(&v, "url", "http://h/", "method", "HEAD", "expect_body", "ok", NULL);
    refused(&v, "source.expect_body");
    svc_make(&v, "url", "tcp://h:1", "expect_status", "200", NULL);
    refused(&v, "source.url");
    svc_make(&v, "url", "http://h/", NULL);
    v.s.kind = SL_SVC_PROMETHEUS;
    refused(&v, "kind");
}

/* ---- the verdict ---- */

static sl_http_resp resp_with(long status, const char *body, int64_t total_ms)
{
    sl_http_resp r;

    sl_http_resp_init(&r);
    r.status = status;
    if (body)
        sl_buf_put(&r.body, body, strlen(body));
    r.total_ms = total_ms;
    r.connect_ms = total_ms / 2;
    return r;
}

static sl_probe_result judged(const svc *v, const sl_http_resp *r, int64_t now)
{
    sl_probe_result out;

    memset(&out, 0x5a, sizeof(out));
    sl_probe_judge(&v->s, r, now, &out);
    if (out.up)
        assert_string_equal(out.reason, "");
    else
        assert_true(out.reason[0] != '\0');
    return out;
}

static void test_judge_status_body(void **state)
{
    svc v;
    sl_http_resp r;
    sl_probe_result p;

    (void)state;
    svc_make(&v, "url", "http://h/", NULL);
    r = resp_with(200, "ok", 42);
    p = judged(&v, &r, T0);
    assert_true(p.up);
    assert_int_equal(p.response_ms, 42);
    r.status = 302;
    assert_true(judged(&v, &r, T0).up);
    r.status = 503;
    p = judged(&v, &r, T0);
    assert_false(p.up);
    assert_string_equal(p.reason, "HTTP 503, expected 2xx or 3xx");
    assert_int_equal(p.response_ms, 42); /* an answer came: its time counts */
    r.status = 199;
    assert_false(judged(&v, &r, T0).up);
    sl_http_resp_release(&r);

    svc_make(&v, "url", "http://h/", "expect_status", "200", "expect_body", "ok", NULL);
    r = resp_with(204, "", 7);
    assert_string_equal(judged(&v, &r, T0).reason, "HTTP 204, expected 200");
    sl_http_resp_release(&r);
    r = resp_with(200, "something else", 7);
    assert_string_equal(judged(&v, &r, T0).reason, "body lacks \"ok\"");
    sl_http_resp_release(&r);
    /* A match anywhere, also after a NUL byte. */
    r = resp_with(200, NULL, 7);
    sl_buf_put(&r.body, "x\0{\"status\":\"ok\"}", 18);
    assert_true(judged(&v, &r, T0).up);
    sl_http_resp_release(&r);
    r = resp_with(200, "o", 7);
    assert_false(judged(&v, &r, T0).up);
    sl_http_resp_release(&r);
}

static void test_judge_failures(void **state)
{
    svc v;
    sl_http_resp r;
    sl_probe_result p;

    (void)state;
    svc_make(&v, "url", "http://h/", "timeout", "5s", NULL);
    sl_http_resp_init(&r);
    r.failed = 1;
    sl_strfmt(r.error, sizeof(r.error), "timeout after 5000 ms");
    r.total_ms = 5001;
    p = judged(&v, &r, T0);
    assert_false(p.up);
    assert_string_equal(p.reason, "timeout after 5000 ms");
    assert_int_equal(p.response_ms, -1);
    r.error[0] = '\0';
    assert_string_equal(judged(&v, &r, T0).reason, "no response");

    /* tcp: a connect is all there is; its time is the response time. */
    svc_make(&v, "url", "tcp://h:5432", NULL);
    sl_http_resp_init(&r);
    r.connect_ms = 3;
    r.total_ms = 4;
    p = judged(&v, &r, T0);
    assert_true(p.up);
    assert_int_equal(p.response_ms, 3);
    r.failed = 1;
    sl_strfmt(r.error, sizeof(r.error), "connection refused");
    assert_string_equal(judged(&v, &r, T0).reason, "connection refused");
}

static void test_judge_certificate(void **state)
{
    svc v;
    sl_http_resp r;

    (void)state;
    svc_make(&v, "url", "https://h/", "cert_expiry", "14d", NULL);
    r = resp_with(200, "ok", 9);
    r.cert_expiry_ms = T0 + 30 * DAY;
    assert_true(judged(&v, &r, T0).up);
    r.cert_expiry_ms = T0 + 14 * DAY + 1;
    assert_true(judged(&v, &r, T0).up);
    r.cert_expiry_ms = T0 + 14 * DAY;
    assert_string_equal(judged(&v, &r, T0).reason,
                        "certificate expires 2026-12-15T00:00:00Z, within 14d");
    r.cert_expiry_ms = T0 + DAY;
    assert_string_equal(judged(&v, &r, T0).reason,
                        "certificate expires 2026-12-02T00:00:00Z, within 14d");
    r.cert_expiry_ms = T0 - 1000;
    assert_string_equal(judged(&v, &r, T0).reason, "certificate expired 2026-11-30T23:59:59Z");
    r.cert_expiry_ms = -1;
    assert_string_equal(judged(&v, &r, T0).reason, "certificate expiry unknown");
    /* Without cert_expiry the certificate is not judged. */
    svc_make(&v, "url", "https://h/", NULL);
    assert_true(judged(&v, &r, T0).up);
    sl_http_resp_release(&r);
}

/* ---- live ---- */

/* Builds v's request, performs it (insecure when asked) and judges it now. The response is
 * kept in *keep when given (the caller releases it). */
static sl_probe_result probe(const svc *v, int insecure, sl_http_resp *keep)
{
    sl_http_req req;
    sl_http_resp resp;
    sl_error err = {0};
    sl_probe_result p;

    assert_int_equal(sl_probe_request(&v->s, &req, &err), 0);
    req.insecure = insecure;
    sl_http_resp_init(&resp);
    sl_http_perform(&req, &resp);
    sl_probe_judge(&v->s, &resp, wall_ms(), &p);
    sl_http_req_release(&req);
    if (keep)
        *keep = resp;
    else
        sl_http_resp_release(&resp);
    return p;
}

static sl_probe_result probe_url(const char *url, const char *k1, const char *v1)
{
    svc v;

    svc_make(&v, "url", url, k1, v1, NULL);
    return probe(&v, 0, NULL);
}

static char *url_of(char *buf, size_t cap, const char *scheme, unsigned port, const char *path)
{
    snprintf(buf, cap, "%s://127.0.0.1:%u%s", scheme, port, path);
    return buf;
}

static void test_live_http(void **state)
{
    char u[128];
    sl_probe_result p;
    long long t0;

    (void)state;
    p = probe_url(url_of(u, sizeof(u), "http", tg.port, "/ok"), "expect_body", "ok");
    assert_true(p.up);
    assert_true(p.response_ms >= 0 && p.response_ms < 5000);
    p = probe_url(url_of(u, sizeof(u), "http", tg.port, "/fail"), NULL, NULL);
    assert_string_equal(p.reason, "HTTP 503, expected 2xx or 3xx");
    p = probe_url(url_of(u, sizeof(u), "http", tg.port, "/ok"), "expect_status", "201");
    assert_string_equal(p.reason, "HTTP 200, expected 201");
    p = probe_url(url_of(u, sizeof(u), "http", tg.port, "/body"), "expect_body", "ok");
    assert_string_equal(p.reason, "body lacks \"ok\"");
    assert_true(p.response_ms >= 0);
    p = probe_url(url_of(u, sizeof(u), "http", tg.port, "/slow?ms=150"), "timeout", "5s");
    assert_true(p.up);
    assert_true(p.response_ms >= 140);
    t0 = targets_now_ms();
    p = probe_url(url_of(u, sizeof(u), "http", tg.port, "/slow?ms=3000"), "timeout", "500ms");
    assert_string_equal(p.reason, "timeout after 500 ms");
    assert_int_equal(p.response_ms, -1);
    p = probe_url(url_of(u, sizeof(u), "http", tg.port, "/hang"), "timeout", "300ms");
    assert_string_equal(p.reason, "timeout after 300 ms");
    assert_true(targets_now_ms() - t0 < 3000);
    p = probe_url(url_of(u, sizeof(u), "http", targets_closed_port(), "/ok"), NULL, NULL);
    assert_string_equal(p.reason, "connection refused");
    assert_int_equal(p.response_ms, -1);
}

static void test_live_tcp(void **state)
{
    char u[128];
    sl_probe_result p;

    (void)state;
    p = probe_url(url_of(u, sizeof(u), "tcp", tg.port, ""), "timeout", "2s");
    assert_true(p.up);
    assert_true(p.response_ms >= 0 && p.response_ms < 2000);
    p = probe_url(url_of(u, sizeof(u), "tcp", targets_closed_port(), ""), "timeout", "2s");
    assert_false(p.up);
    assert_string_equal(p.reason, "connection refused");
}

/* POST /flip?up=N on the target. */
static void flip(int up)
{
    sl_http_req r;
    sl_http_resp resp;
    char u[128];

    sl_http_req_init(&r);
    sl_http_resp_init(&resp);
    url_of(u, sizeof(u), "http", tg.port, up ? "/flip?up=1" : "/flip?up=0");
    assert_int_equal(sl_http_req_set(&r, "POST", u), 0);
    assert_int_equal(sl_http_perform(&r, &resp), 0);
    assert_int_equal(resp.status, up ? 200 : 503);
    sl_http_req_release(&r);
    sl_http_resp_release(&resp);
}

static void test_live_flip(void **state)
{
    char u[128];
    svc v, m;
    sl_http_resp resp;

    (void)state;
    svc_make(&v, "url", url_of(u, sizeof(u), "http", tg.port, "/flip"), NULL);
    flip(0);
    assert_string_equal(probe(&v, 0, NULL).reason, "HTTP 503, expected 2xx or 3xx");
    svc_make(&m, "url", url_of(u, sizeof(u), "http", tg.port, "/metrics"), "expect_body",
             "\ntarget_up 0\n", NULL);
    assert_true(probe(&m, 0, &resp).up);
    sl_http_resp_release(&resp);
    flip(1);
    assert_true(probe(&v, 0, NULL).up);
    m.kv[1].value = "\ntarget_up 1\n";
    assert_true(probe(&m, 0, NULL).up);
}

/* ---- HTTPS ---- */

typedef struct tls_dir {
    char dir[64];
    char cert30[96], key30[96]; /* valid 30 days */
    char cert1[96], key1[96];   /* valid 1 day */
} tls_dir;

static tls_dir tls;
static int have_dir, have_tls;

/* A self-signed certificate for 127.0.0.1 valid `days` days. */
static int make_cert(const char *cert, const char *key, const char *days)
{
    char *argv[] = {"openssl",
                    "req",
                    "-x509",
                    "-newkey",
                    "ec",
                    "-pkeyopt",
                    "ec_paramgen_curve:prime256v1",
                    "-nodes",
                    "-keyout",
                    (char *)key,
                    "-out",
                    (char *)cert,
                    "-days",
                    (char *)days,
                    "-subj",
                    "/CN=127.0.0.1",
                    "-addext",
                    "subjectAltName=IP:127.0.0.1",
                    NULL};

    return targets_run(argv, 30);
}

static void tls_make(void)
{
    snprintf(tls.dir, sizeof(tls.dir), "/tmp/sl-test-probe-XXXXXX");
    if (!mkdtemp(tls.dir))
        return;
    have_dir = 1;
    snprintf(tls.cert30, sizeof(tls.cert30), "%s/cert30.pem", tls.dir);
    snprintf(tls.key30, sizeof(tls.key30), "%s/key30.pem", tls.dir);
    snprintf(tls.cert1, sizeof(tls.cert1), "%s/cert1.pem", tls.dir);
    snprintf(tls.key1, sizeof(tls.key1), "%s/key1.pem", tls.dir);
    have_tls =
        make_cert(tls.cert30, tls.key30, "30") == 0 && make_cert(tls.cert1, tls.key1, "1") == 0;
    if (!have_tls)
        fprintf(stderr, "test_probe: openssl could not make certificates: HTTPS tests skipped\n");
}

static void tls_remove(void)
{
    const char *files[] = {tls.cert30, tls.key30, tls.cert1, tls.key1};

    if (!have_dir)
        return;
    for (size_t i = 0; i < 4; i++)
        unlink(files[i]);
    rmdir(tls.dir);
}

static void test_https_verify_fails(void **state)
{
    targets s;
    char u[128];
    svc v;
    sl_probe_result p;

    (void)state;
    if (!have_tls)
        skip();
    assert_int_equal(targets_start(&s, getenv("SL_TARGETS_EXE"), tls.cert30, tls.key30), 0);
    svc_make(&v, "url", url_of(u, sizeof(u), "https", s.port, "/ok"), "timeout", "5s", NULL);
    p = probe(&v, 0, NULL);
    assert_false(p.up);
    assert_int_equal(p.response_ms, -1);
    assert_int_equal(strncmp(p.reason, "TLS: certificate verify failed (", 32), 0);
    assert_non_null(strstr(p.reason, "self-signed"));
    /* The same request as a test with verification off: up. */
    assert_true(probe(&v, 1, NULL).up);
    assert_int_equal(targets_stop(&s), 0);
}

static void test_https_expiry(void **state)
{
    targets s;
    char u[128];
    svc v;
    sl_http_resp resp;
    sl_probe_result p;
    int64_t now = wall_ms();

    (void)state;
    if (!have_tls)
        skip();
    assert_int_equal(targets_start(&s, getenv("SL_TARGETS_EXE"), tls.cert30, tls.key30), 0);
    svc_make(&v, "url", url_of(u, sizeof(u), "https", s.port, "/ok"), "cert_expiry", "14d",
             "expect_body", "ok", NULL);
    p = probe(&v, 1, &resp);
    assert_true(p.up);
    assert_true(resp.cert_expiry_ms > now + 29 * DAY && resp.cert_expiry_ms < now + 31 * DAY);
    sl_http_resp_release(&resp);
    assert_int_equal(targets_stop(&s), 0);

    assert_int_equal(targets_start(&s, getenv("SL_TARGETS_EXE"), tls.cert1, tls.key1), 0);
    svc_make(&v, "url", url_of(u, sizeof(u), "https", s.port, "/ok"), "cert_expiry", "14d", NULL);
    p = probe(&v, 1, NULL);
    assert_false(p.up);
    assert_int_equal(strncmp(p.reason, "certificate expires 20", 22), 0);
    assert_non_null(strstr(p.reason, "Z, within 14d"));
    assert_true(p.response_ms >= 0);
    assert_int_equal(targets_stop(&s), 0);
}

typedef struct fetched {
    int n;
    int64_t expiry[2];
} fetched;

static void expiry_cb(void *arg, const sl_http_req *req, const sl_http_resp *resp)
{
    fetched *f = arg;

    (void)req;
    assert_false(resp->failed);
    assert_int_equal(resp->status, 200);
    if (f->n < 2)
        f->expiry[f->n] = resp->cert_expiry_ms;
    f->n++;
}

/* Through one fetch whose connection cache holds the first connection, the second probe still
 * reads the certificate (a fresh connection and handshake). */
static void test_https_expiry_fetch(void **state)
{
    targets s;
    char u[128];
    svc v;
    sl_fetch *f = NULL;
    fetched got = {0};
    long long until;

    (void)state;
    if (!have_tls)
        skip();
    assert_int_equal(targets_start(&s, getenv("SL_TARGETS_EXE"), tls.cert30, tls.key30), 0);
    svc_make(&v, "url", url_of(u, sizeof(u), "https", s.port, "/ok"), "cert_expiry", "14d", NULL);
    assert_int_equal(sl_fetch_new(1, &f), 0);
    until = targets_now_ms() + 20000;
    for (int i = 0; i < 2; i++) {
        sl_http_req req;
        sl_error err = {0};
        assert_int_equal(sl_probe_request(&v.s, &req, &err), 0);
        req.insecure = 1;
        assert_int_equal(sl_fetch_add(f, &req, expiry_cb, &got), 0);
        while (sl_fetch_poll(f, 100) > 0)
            assert_true(targets_now_ms() < until);
    }
    sl_fetch_free(f);
    assert_int_equal(got.n, 2);
    assert_true(got.expiry[0] > 0);
    assert_int_equal(got.expiry[1], got.expiry[0]);
    assert_int_equal(targets_stop(&s), 0);
}

static int setup(void **state)
{
    static char exe[4096];
    const char *dir = getenv("SL_BUILD_DIR");

    (void)state;
    snprintf(exe, sizeof(exe), "%s/tool_targets", dir ? dir : ".");
    setenv("SL_TARGETS_EXE", exe, 1);
    if (targets_start(&tg, exe, NULL, NULL) != 0)
        return -1;
    tls_make();
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    tls_remove();
    return targets_stop(&tg) == 0 ? 0 : -1;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_request_built),      cmocka_unit_test(test_request_refused),
        cmocka_unit_test(test_judge_status_body),  cmocka_unit_test(test_judge_failures),
        cmocka_unit_test(test_judge_certificate),  cmocka_unit_test(test_live_http),
        cmocka_unit_test(test_live_tcp),           cmocka_unit_test(test_live_flip),
        cmocka_unit_test(test_https_verify_fails), cmocka_unit_test(test_https_expiry),
        cmocka_unit_test(test_https_expiry_fetch),
    };

    alarm(240); /* a hang here must not outlive ctest's own limit */
    return cmocka_run_group_tests(tests, setup, teardown);
}
