/*
 * request.c: HTTP requests and responses of the oracle layer, and their synchronous transport
 * over one libcurl easy handle.
 *
 * sl__curl_prepare configures an easy handle from an sl_http_req so that the synchronous path
 * here and the multi interface (fetch.c) behave identically: no redirects, only the request's
 * own scheme, certificates verified, bodies capped at SL_HTTP_MAX_BODY, timings and the leaf
 * certificate's expiry read back by sl__curl_finish. Header values and bodies are wiped on
 * release because they carry bearer tokens and signatures. Thread-safety: reentrant, given
 * curl_global_init was called once before threads start (sl__curl_global does it).
 */
#include "slaledger/oracle.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <sodium.h>

#include "oracle/oracle_int.h"

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static int curl_ok;

static void curl_init_once(void)
{
    curl_ok = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
}

int64_t sl__wall_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int sl__curl_global(void)
{
    pthread_once(&curl_once, curl_init_once);
    return curl_ok ? 0 : SL_ENOMEM;
}

void sl_http_req_init(sl_http_req *r)
{
    memset(r, 0, sizeof(*r));
    sl_buf_init(&r->body);
}

int sl_http_req_set(sl_http_req *r, const char *method, const char *url)
{
    char *u;

    if (!method || !url || strlen(method) >= sizeof(r->method))
        return SL_EINVAL;
    u = sl_strdup(url);
    if (!u)
        return SL_ENOMEM;
    free(r->url);
    r->url = u;
    memcpy(r->method, method, strlen(method) + 1);
    return 0;
}

int sl_http_req_header(sl_http_req *r, const char *fmt, ...)
{
    va_list ap;
    int n;
    char *h;

    if (r->n_headers >= SL_HTTP_MAX_HEADERS)
        return SL_EOVERFLOW;
    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return SL_EINVAL;
    h = malloc((size_t)n + 1);
    if (!h)
        return SL_ENOMEM;
    va_start(ap, fmt);
    vsnprintf(h, (size_t)n + 1, fmt, ap);
    va_end(ap);
    if (strpbrk(h, "\r\n")) {
        sodium_memzero(h, (size_t)n);
        free(h);
        return SL_EINVAL;
    }
    r->headers[r->n_headers++] = h;
    return 0;
}

void sl_http_req_release(sl_http_req *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->n_headers; i++) {
        sodium_memzero(r->headers[i], strlen(r->headers[i]));
        free(r->headers[i]);
    }
    if (r->body.p)
        sodium_memzero(r->body.p, r->body.cap);
    sl_buf_release(&r->body);
    free(r->url);
    sl_http_req_init(r);
}

void sl_http_resp_init(sl_http_resp *r)
{
    memset(r, 0, sizeof(*r));
    sl_buf_init(&r->body);
    r->connect_ms = r->total_ms = r->cert_expiry_ms = -1;
}

void sl_http_resp_release(sl_http_resp *r)
{
    if (!r)
        return;
    sl_buf_release(&r->body);
    sl_http_resp_init(r);
}

/* Keeps at most SL_HTTP_MAX_BODY bytes; returning less than offered makes curl fail the
 * transfer with CURLE_WRITE_ERROR, which sl__curl_finish reports as too large. */
static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
    sl_http_resp *resp = arg;
    size_t len = size * n;

    if (len > SL_HTTP_MAX_BODY - resp->body.len)
        return 0;
    sl_buf_put(&resp->body, p, len);
    return resp->body.err ? 0 : len;
}

static const char *protocols(const sl_http_req *req)
{
    if (req->mode == SL_HTTP_CONNECT_ONLY)
        return "http"; /* tcp://h:p is rewritten to http://h:p with CONNECT_ONLY */
    return strncmp(req->url, "https://", 8) == 0 ? "https" : "http";
}

/* Where a failure's detail goes, and which connections a transfer may share with others of
 * the same multi handle or easy handle: a certificate is only read during a full handshake, so
 * want_cert takes a fresh connection without TLS session resumption, and a tcp:// connection
 * (opened only to be measured) is closed at once instead of parked in the connection cache. */
static CURLcode connection_opts(CURL *h, const sl_http_req *req, char *errbuf)
{
    CURLcode e = CURLE_OK;

    if (errbuf) {
        errbuf[0] = '\0';
        e = curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
    }
    if (e == CURLE_OK && req->want_cert)
        e = curl_easy_setopt(h, CURLOPT_FRESH_CONNECT, 1L);
    if (e == CURLE_OK && req->want_cert)
        e = curl_easy_setopt(h, CURLOPT_SSL_SESSIONID_CACHE, 0L);
    if (e == CURLE_OK && req->mode == SL_HTTP_CONNECT_ONLY)
        e = curl_easy_setopt(h, CURLOPT_FORBID_REUSE, 1L);
    return e;
}

int sl__curl_prepare(CURL *h, const sl_http_req *req, sl_http_resp *resp, char *errbuf,
                     struct curl_slist **hdrs, char **url_copy)
{
    int64_t timeout = req->timeout_ms > 0 ? req->timeout_ms : SL_HTTP_DEFAULT_TIMEOUT_MS;
    const char *url = req->url;
    CURLcode e;

    *hdrs = NULL;
    *url_copy = NULL;
    if (!url || !req->method[0])
        return SL_EINVAL;
    if (req->mode == SL_HTTP_CONNECT_ONLY) {
        if (strncmp(url, "tcp://", 6) != 0)
            return SL_EINVAL;
        size_t n = strlen(url + 6) + 8;
        *url_copy = malloc(n);
        if (!*url_copy)
            return SL_ENOMEM;
        sl_strfmt(*url_copy, n, "http://%s", url + 6);
        url = *url_copy;
    }
    for (size_t i = 0; i < req->n_headers; i++) {
        struct curl_slist *n = curl_slist_append(*hdrs, req->headers[i]);
        if (!n)
            return SL_ENOMEM;
        *hdrs = n;
    }
    e = connection_opts(h, req, errbuf);
    if (e == CURLE_OK)
        e = curl_easy_setopt(h, CURLOPT_URL, url);
    if (e == CURLE_OK)
        e = curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, protocols(req));
    if (e == CURLE_OK)
        e = curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    if (e == CURLE_OK)
        e = curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    if (e == CURLE_OK)
        e = curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)timeout);
    if (e == CURLE_OK)
        e = curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)timeout);
    if (e == CURLE_OK)
        e = curl_easy_setopt(h, CURLOPT_HTTPHEADER, *hdrs);
    if (e == CURLE_OK)
        e = curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    if (e == CURLE_OK)
        e = curl_easy_setopt(h, CURLOPT_WRITEDATA, resp);
    if (e == CURLE_OK && req->insecure) {
        e = curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
        if (e == CURLE_OK)
            e = curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
    }
    if (e == CURLE_OK && req->want_cert)
        e = curl_easy_setopt(h, CURLOPT_CERTINFO, 1L);
    if (e == CURLE_OK && req->mode == SL_HTTP_CONNECT_ONLY)
        e = curl_easy_setopt(h, CURLOPT_CONNECT_ONLY, 1L);
    if (e == CURLE_OK && strcmp(req->method, "HEAD") == 0)
        e = curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
    else if (e == CURLE_OK && strcmp(req->method, "GET") != 0)
        e = curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, req->method);
    if (e == CURLE_OK && req->body.len > 0) {
        e = curl_easy_setopt(h, CURLOPT_POSTFIELDS, (const char *)req->body.p);
        if (e == CURLE_OK)
            e = curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body.len);
    }
    return e == CURLE_OK ? 0 : SL_ENOMEM;
}

/* Parses an X.509 "Expire date" as libcurl prints it ("Jan 18 12:00:00 2027 GMT" or the
 * ISO-like "2027-01-18 12:00:00 GMT" of newer versions) into ms since the epoch; -1 if not. */
static int64_t cert_date(const char *s)
{
    static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
    char mon[4] = {0};
    int y, mo, d, hh, mm, ss;

    if (sscanf(s, "%d-%d-%d %d:%d:%d", &y, &mo, &d, &hh, &mm, &ss) == 6) {
        /* ISO form */
    } else if (sscanf(s, "%3s %d %d:%d:%d %d", mon, &d, &hh, &mm, &ss, &y) == 6) {
        const char *m = strstr(months, mon);
        if (!m || (m - months) % 3 != 0)
            return -1;
        mo = (int)((m - months) / 3) + 1;
    } else {
        return -1;
    }
    if (y < 1970 || y > 9999 || mo < 1 || mo > 12 || d < 1 || d > 31 || hh > 23 || mm > 59 ||
        ss > 60)
        return -1;
    return ((sl_days_from_civil(y, (unsigned)mo, (unsigned)d) * 24 + hh) * 60 + mm) * 60000 +
           (int64_t)ss * 1000;
}

/* The first certificate of the chain is the server's own. */
static int64_t leaf_expiry(CURL *h)
{
    struct curl_certinfo *ci = NULL;

    if (curl_easy_getinfo(h, CURLINFO_CERTINFO, &ci) != CURLE_OK || !ci || ci->num_of_certs < 1)
        return -1;
    for (struct curl_slist *l = ci->certinfo[0]; l; l = l->next) {
        if (strncmp(l->data, "Expire date:", 12) == 0)
            return cert_date(l->data + 12 + strspn(l->data + 12, " "));
    }
    return -1;
}

/* The operating system's reason a connection failed ("connection refused"), or NULL. */
static const char *connect_errno(CURL *h, char *buf, size_t cap)
{
    long os = 0;

    if (curl_easy_getinfo(h, CURLINFO_OS_ERRNO, &os) != CURLE_OK || os <= 0 ||
        strerror_r((int)os, buf, cap) != 0)
        return NULL;
    if (buf[0] >= 'A' && buf[0] <= 'Z')
        buf[0] = (char)(buf[0] - 'A' + 'a');
    return buf;
}

/* libcurl's detail of a TLS failure without its "SSL certificate problem: " preamble. */
static const char *tls_detail(const char *detail)
{
    static const char pre[] = "SSL certificate problem: ";

    return strncmp(detail, pre, sizeof(pre) - 1) == 0 ? detail + sizeof(pre) - 1 : detail;
}

/* Says why a transfer failed in the words a probe reports as the reason for down. */
static void fail_reason(CURL *h, const sl_http_req *req, CURLcode result, const char *errbuf,
                        sl_http_resp *resp)
{
    const char *detail = errbuf && errbuf[0] ? errbuf : curl_easy_strerror(result);
    char os[80];

    switch (result) {
    case CURLE_OPERATION_TIMEDOUT:
        sl_strfmt(resp->error, sizeof(resp->error), "timeout after %lld ms",
                  (long long)(req->timeout_ms > 0 ? req->timeout_ms : SL_HTTP_DEFAULT_TIMEOUT_MS));
        break;
    case CURLE_WRITE_ERROR:
        if (resp->body.err)
            sl_strfmt(resp->error, sizeof(resp->error), "out of memory");
        else
            sl_strfmt(resp->error, sizeof(resp->error), "response body larger than %u bytes",
                      SL_HTTP_MAX_BODY);
        break;
    case CURLE_COULDNT_CONNECT:
        if (connect_errno(h, os, sizeof(os)))
            detail = os;
        sl_strfmt(resp->error, sizeof(resp->error), "%s", detail);
        break;
    case CURLE_PEER_FAILED_VERIFICATION:
        sl_strfmt(resp->error, sizeof(resp->error), "TLS: certificate verify failed (%s)",
                  tls_detail(detail));
        break;
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
        sl_strfmt(resp->error, sizeof(resp->error), "TLS: %s", tls_detail(detail));
        break;
    default:
        sl_strfmt(resp->error, sizeof(resp->error), "%s", detail);
        break;
    }
}

void sl__curl_finish(CURL *h, const sl_http_req *req, CURLcode result, const char *errbuf,
                     sl_http_resp *resp)
{
    long status = 0;
    double t;

    if (curl_easy_getinfo(h, CURLINFO_CONNECT_TIME, &t) == CURLE_OK && t > 0)
        resp->connect_ms = (int64_t)(t * 1000.0);
    if (curl_easy_getinfo(h, CURLINFO_APPCONNECT_TIME, &t) == CURLE_OK && t > 0)
        resp->connect_ms = (int64_t)(t * 1000.0);
    if (curl_easy_getinfo(h, CURLINFO_TOTAL_TIME, &t) == CURLE_OK && t >= 0)
        resp->total_ms = (int64_t)(t * 1000.0);
    if (req->want_cert)
        resp->cert_expiry_ms = leaf_expiry(h);
    if (result != CURLE_OK) {
        resp->failed = 1;
        fail_reason(h, req, result, errbuf, resp);
        return;
    }
    if (req->mode == SL_HTTP_CONNECT_ONLY)
        return; /* connected: no status */
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    resp->status = status;
}

void sl__curl_unprepared(int rc, sl_http_resp *resp)
{
    resp->failed = 1;
    sl_strfmt(resp->error, sizeof(resp->error), "%s",
              rc == SL_EINVAL ? "invalid request (no URL or method, or connect-only without tcp://)"
                              : "out of memory");
}

int sl_http_perform(const sl_http_req *req, sl_http_resp *resp)
{
    struct curl_slist *hdrs = NULL;
    char *url = NULL, errbuf[CURL_ERROR_SIZE];
    CURL *h;
    int rc;

    sl_http_resp_release(resp);
    if ((rc = sl__curl_global()) != 0)
        return rc;
    h = curl_easy_init();
    if (!h)
        return SL_ENOMEM;
    rc = sl__curl_prepare(h, req, resp, errbuf, &hdrs, &url);
    if (rc != 0)
        sl__curl_unprepared(rc, resp);
    if (rc == 0) {
        sl__curl_finish(h, req, curl_easy_perform(h), errbuf, resp);
        if (resp->body.err)
            rc = SL_ENOMEM;
        else if (resp->failed)
            rc = SL_EIO;
    }
    curl_easy_cleanup(h);
    curl_slist_free_all(hdrs);
    free(url);
    return rc;
}

void sl_url_encode(sl_buf *out, const char *s, size_t len)
{
    static const char hex[] = "0123456789ABCDEF";

    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '.' || c == '_' || c == '~') {
            sl_buf_put_u8(out, c);
        } else {
            char e[3] = {'%', hex[c >> 4], hex[c & 15]};
            sl_buf_put(out, e, 3);
        }
    }
}

const char *sl_source_get(const sl_service_spec *s, const char *key)
{
    if (!s || !key)
        return NULL;
    for (size_t i = 0; i < s->n_source; i++) {
        if (strcmp(s->source[i].key, key) == 0)
            return s->source[i].value;
    }
    return NULL;
}

const char *sl_source_endpoint(const sl_source_query *q, const char *key)
{
    const sl_credential *c = q->credential;
    const char *v = NULL;

    if (c && strcmp(key, "endpoint") == 0)
        v = c->endpoint;
    else if (c && strcmp(key, "login_endpoint") == 0)
        v = c->login_endpoint;
    return v ? v : sl_source_get(q->service, key);
}

void sl_samples_unknown(sl_sample *s, size_t n, const char *fmt, ...)
{
    char reason[SL_SAMPLE_REASON_CAP];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(reason, sizeof(reason), fmt, ap);
    va_end(ap);
    for (size_t i = 0; i < n; i++) {
        s[i].known = 0;
        s[i].value = 0;
        memcpy(s[i].reason, reason, sizeof(reason));
    }
}
