/*
 * sigv4.c: AWS Signature Version 4 (AWS4-HMAC-SHA256) for the oracle layer's HTTPS clients.
 *
 * sl_sigv4_sign builds the canonical request (method, normalized and encoded path, sorted
 * canonical query, canonical headers, signed header names, payload hash), hashes it into the
 * string to sign, derives the signing key by the HMAC chain "AWS4"+secret -> date -> region ->
 * service -> "aws4_request" and writes the Authorization value. The rules are those of AWS's
 * SigV4 test suite for non-S3 services (tests/vectors/sigv4/ holds its cases).
 *
 * Invariants: every intermediate buffer is owned by the `signer` of one call and released on
 * its single exit path; the copy of the secret and every derived key are wiped with
 * sodium_memzero. Header names and values are borrowed from the caller and never copied.
 * Thread-safety: reentrant (no static state).
 */
#include "slaledger/sigv4.h"

#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "slaledger/util.h"

#define ALGORITHM    "AWS4-HMAC-SHA256"
#define SCOPE_SUFFIX "aws4_request"

/* One header to sign: the name and value are borrowed; seq keeps repeated names in order. */
typedef struct hdr {
    const char *name;
    size_t name_len;
    const char *value;
    size_t seq;
} hdr;

/* One query parameter, RFC 3986-encoded as "name=value" in text (owned, malloc'd). */
typedef struct param {
    char *text;
    size_t name_len;
    size_t len;
} param;

/* Everything one signature needs; released by signer_release. */
typedef struct signer {
    const sl_sigv4_request *r;
    const sl_sigv4_creds *c;
    char date[SL_SIGV4_DATE_LEN + 1];
    hdr *h;
    size_t nh;
    sl_buf names; /* signed header names, "host;x-amz-date" */
    sl_buf scope; /* "20150830/us-east-1/service/aws4_request" */
    sl_buf creq;  /* canonical request */
    sl_buf sts;   /* string to sign */
} signer;

/* ---- characters and encoding ---- */

static int is_unreserved(unsigned char ch)
{
    return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
           ch == '-' || ch == '.' || ch == '_' || ch == '~';
}

/* RFC 7230 tchar: the characters of a header name or method. */
static int is_tchar(unsigned char ch)
{
    return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
           (ch != '\0' && strchr("!#$%&'*+-.^_`|~", ch) != NULL);
}

static int is_blank(unsigned char ch)
{
    return ch == ' ' || ch == '\t';
}

static unsigned char lower(unsigned char ch)
{
    return (ch >= 'A' && ch <= 'Z') ? (unsigned char)(ch - 'A' + 'a') : ch;
}

/* Writes s[0..n) with every byte but the unreserved ones as %XX (upper-case hex). */
static void put_encoded(sl_buf *b, const char *s, size_t n)
{
    static const char digits[] = "0123456789ABCDEF";

    for (size_t k = 0; k < n; k++) {
        unsigned char ch = (unsigned char)s[k];
        if (is_unreserved(ch)) {
            sl_buf_put_u8(b, ch);
            continue;
        }
        char esc[3] = {'%', digits[ch >> 4], digits[ch & 0x0f]};
        sl_buf_put(b, esc, sizeof(esc));
    }
}

static int hex_value(unsigned char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

/* Percent-decodes s[0..n) and writes it encoded again, so that "%e1%88%b4", "%E1%88%B4" and the
 * raw UTF-8 bytes all sign alike. '+' is a literal plus, as in RFC 3986. */
static int put_reencoded(sl_buf *b, const char *s, size_t n)
{
    for (size_t k = 0; k < n; k++) {
        char ch = s[k];
        if (ch == '%') {
            if (n - k < 3)
                return SL_EINVAL;
            int hi = hex_value((unsigned char)s[k + 1]), lo = hex_value((unsigned char)s[k + 2]);
            if (hi < 0 || lo < 0)
                return SL_EINVAL;
            ch = (char)(hi << 4 | lo);
            k += 2;
        }
        put_encoded(b, &ch, 1);
    }
    return 0;
}

/* True when s is a non-empty string of visible ASCII without '/' (key ids, regions, ...). */
static int word_ok(const char *s)
{
    if (!s || !*s)
        return 0;
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch <= ' ' || ch >= 0x7f || ch == '/')
            return 0;
    }
    return 1;
}

/* True when a header value holds no control character other than tab (no CR/LF injection). */
static int value_ok(const char *s)
{
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if ((ch < ' ' && ch != '\t') || ch == 0x7f)
            return 0;
    }
    return 1;
}

/* ---- X-Amz-Date ---- */

static void put_digits(char *out, unsigned v, int n)
{
    for (int k = n - 1; k >= 0; k--) {
        out[k] = (char)('0' + v % 10);
        v /= 10;
    }
}

/* Writes "YYYYMMDDTHHMMSSZ"; the milliseconds are dropped. */
static int format_amz_date(int64_t ms, char out[SL_SIGV4_DATE_LEN + 1])
{
    int64_t y;
    unsigned m, d;

    if (ms < 0)
        return SL_EINVAL;
    sl_civil_from_days(ms / SL_MS_PER_DAY, &y, &m, &d);
    if (y > 9999)
        return SL_EINVAL;
    unsigned secs = (unsigned)(ms % SL_MS_PER_DAY / SL_MS_PER_SECOND);
    put_digits(out, (unsigned)y, 4);
    put_digits(out + 4, m, 2);
    put_digits(out + 6, d, 2);
    out[8] = 'T';
    put_digits(out + 9, secs / 3600, 2);
    put_digits(out + 11, secs / 60 % 60, 2);
    put_digits(out + 13, secs % 60, 2);
    out[15] = 'Z';
    out[16] = '\0';
    return 0;
}

/* ---- canonical URI ---- */

static int is_dot_or_empty(const char *s, size_t n)
{
    return n == 0 || (n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.');
}

/* Applies one path segment to the output that starts at `start`: "" and "." vanish, ".."
 * removes the last encoded segment (encoded segments never contain '/'). */
static void apply_segment(sl_buf *b, size_t start, const char *s, size_t n)
{
    if (n == 0 || (n == 1 && s[0] == '.'))
        return;
    if (n == 2 && s[0] == '.' && s[1] == '.') {
        while (b->len > start && b->p[b->len - 1] != '/')
            b->len--;
        if (b->len > start)
            b->len--;
        return;
    }
    sl_buf_put_u8(b, '/');
    put_encoded(b, s, n);
}

/* Normalizes the path per RFC 3986 section 5.2.4 with repeated slashes collapsed, and encodes
 * each segment. A path that ends in a directory ("/", "/.", "/..") keeps its final slash. */
static int put_canonical_uri(sl_buf *b, const char *path)
{
    size_t start = b->len;
    int dir = 1;

    if (path[0] != '\0' && path[0] != '/')
        return SL_EINVAL;
    while (*path == '/') {
        const char *seg = path + 1;
        size_t n = strcspn(seg, "/");
        apply_segment(b, start, seg, n);
        dir = is_dot_or_empty(seg, n);
        path = seg + n;
    }
    if (b->len == start || dir)
        sl_buf_put_u8(b, '/');
    return 0;
}

/* ---- canonical query string ---- */

static int cmp_bytes(const char *a, size_t na, const char *b, size_t nb)
{
    int d = memcmp(a, b, na < nb ? na : nb);
    if (d != 0)
        return d;
    return (na > nb) - (na < nb);
}

/* Orders parameters by encoded name, then by encoded value. */
static int cmp_param(const void *pa, const void *pb)
{
    const param *a = pa, *b = pb;
    int d = cmp_bytes(a->text, a->name_len, b->text, b->name_len);
    if (d != 0)
        return d;
    return cmp_bytes(a->text + a->name_len, a->len - a->name_len, b->text + b->name_len,
                     b->len - b->name_len);
}

/* Encodes one "name[=value]" piece of the query into *out. */
static int param_encode(const char *s, size_t n, param *out)
{
    const char *eq = memchr(s, '=', n);
    size_t name_len = eq ? (size_t)(eq - s) : n;
    sl_buf t;
    int rc;

    sl_buf_init(&t);
    rc = put_reencoded(&t, s, name_len);
    out->name_len = t.len;
    sl_buf_put_u8(&t, '=');
    if (rc == 0 && eq)
        rc = put_reencoded(&t, eq + 1, n - name_len - 1);
    if (rc == 0 && t.err)
        rc = t.err;
    if (rc != 0) {
        sl_buf_release(&t);
        return rc;
    }
    out->text = (char *)t.p;
    out->len = t.len;
    return 0;
}

static void params_free(param *v, size_t n)
{
    for (size_t k = 0; v && k < n; k++)
        free(v[k].text);
    free(v);
}

/* Splits the query at '&' (empty pieces are dropped) and encodes each parameter. */
static int params_parse(const char *q, param **out, size_t *nout)
{
    size_t cap = 1, n = 0;
    int rc = 0;

    for (const char *s = q; *s; s++)
        cap += *s == '&';
    param *v = calloc(cap, sizeof(*v));
    if (!v)
        return SL_ENOMEM;
    while (*q && rc == 0) {
        size_t len = strcspn(q, "&");
        if (len > 0)
            rc = param_encode(q, len, &v[n++]);
        q += len + (q[len] == '&');
    }
    if (rc != 0) {
        params_free(v, n);
        return rc;
    }
    *out = v;
    *nout = n;
    return 0;
}

static int put_canonical_query(sl_buf *b, const char *q)
{
    param *v = NULL;
    size_t n = 0;
    int rc = params_parse(q ? q : "", &v, &n);

    if (rc != 0)
        return rc;
    qsort(v, n, sizeof(*v), cmp_param);
    for (size_t k = 0; k < n; k++) {
        if (k > 0)
            sl_buf_put_u8(b, '&');
        sl_buf_put(b, v[k].text, v[k].len);
    }
    params_free(v, n);
    return 0;
}

/* ---- canonical headers ---- */

static int name_eq(const char *a, size_t na, const char *lower_b)
{
    if (na != strlen(lower_b))
        return 0;
    for (size_t k = 0; k < na; k++) {
        if (lower((unsigned char)a[k]) != (unsigned char)lower_b[k])
            return 0;
    }
    return 1;
}

static int is_reserved(const char *name, size_t n)
{
    return name_eq(name, n, "host") || name_eq(name, n, "x-amz-date") ||
           name_eq(name, n, "x-amz-security-token") || name_eq(name, n, "authorization");
}

/* Splits a caller's "Name:value" into *out, rejecting what cannot be sent or is ours to add. */
static int header_split(const char *line, hdr *out)
{
    const char *colon = strchr(line, ':');

    if (!colon || colon == line)
        return SL_EINVAL;
    for (const char *p = line; p < colon; p++) {
        if (!is_tchar((unsigned char)*p))
            return SL_EINVAL;
    }
    if (is_reserved(line, (size_t)(colon - line)) || !value_ok(colon + 1))
        return SL_EINVAL;
    out->name = line;
    out->name_len = (size_t)(colon - line);
    out->value = colon + 1;
    return 0;
}

static void hdr_add(signer *s, const char *name, const char *value)
{
    s->h[s->nh] = (hdr){name, strlen(name), value, s->nh};
    s->nh++;
}

/* Collects host, x-amz-date, x-amz-security-token and the caller's headers into s->h. */
static int headers_collect(signer *s)
{
    const char *const *extra = s->r->headers;
    size_t n = 0;

    while (extra && extra[n])
        n++;
    s->h = calloc(n + 3, sizeof(*s->h));
    if (!s->h)
        return SL_ENOMEM;
    hdr_add(s, "host", s->r->host);
    hdr_add(s, "x-amz-date", s->date);
    if (s->c->session_token)
        hdr_add(s, "x-amz-security-token", s->c->session_token);
    for (size_t k = 0; k < n; k++) {
        int rc = header_split(extra[k], &s->h[s->nh]);
        if (rc != 0)
            return rc;
        s->h[s->nh].seq = s->nh;
        s->nh++;
    }
    return 0;
}

/* Orders headers by lower-cased name; repeated names keep the caller's order. */
static int cmp_hdr(const void *pa, const void *pb)
{
    const hdr *a = pa, *b = pb;
    size_t n = a->name_len < b->name_len ? a->name_len : b->name_len;

    for (size_t k = 0; k < n; k++) {
        int d = lower((unsigned char)a->name[k]) - lower((unsigned char)b->name[k]);
        if (d != 0)
            return d;
    }
    if (a->name_len != b->name_len)
        return a->name_len < b->name_len ? -1 : 1;
    return a->seq < b->seq ? -1 : 1;
}

static void put_lower(sl_buf *b, const char *s, size_t n)
{
    for (size_t k = 0; k < n; k++)
        sl_buf_put_u8(b, lower((unsigned char)s[k]));
}

/* Writes the value without leading or trailing blanks and with inner runs of blanks as one
 * space. */
static void put_trimmed(sl_buf *b, const char *v)
{
    int gap = 0, started = 0;

    for (; *v; v++) {
        if (is_blank((unsigned char)*v)) {
            gap = started;
            continue;
        }
        if (gap)
            sl_buf_put_u8(b, ' ');
        sl_buf_put_u8(b, (uint8_t)*v);
        gap = 0;
        started = 1;
    }
}

static int same_name(const hdr *a, const hdr *b)
{
    if (a->name_len != b->name_len)
        return 0;
    for (size_t k = 0; k < a->name_len; k++) {
        if (lower((unsigned char)a->name[k]) != lower((unsigned char)b->name[k]))
            return 0;
    }
    return 1;
}

/* Writes "name:v1,v2\n" per distinct name into creq and "name;name" into names; s->h is sorted,
 * so repeated names are adjacent. */
static void put_headers(signer *s)
{
    for (size_t k = 0; k < s->nh; k++) {
        const hdr *h = &s->h[k];
        if (k > 0 && same_name(h, h - 1)) {
            sl_buf_put_u8(&s->creq, ',');
        } else {
            if (k > 0)
                sl_buf_put_u8(&s->names, ';');
            put_lower(&s->names, h->name, h->name_len);
            put_lower(&s->creq, h->name, h->name_len);
            sl_buf_put_u8(&s->creq, ':');
        }
        put_trimmed(&s->creq, h->value);
        if (k + 1 == s->nh || !same_name(h, h + 1))
            sl_buf_put_u8(&s->creq, '\n');
    }
}

/* ---- signing key and signature ---- */

static void hmac(const uint8_t *key, size_t key_len, const void *msg, size_t msg_len,
                 uint8_t out[crypto_auth_hmacsha256_BYTES])
{
    crypto_auth_hmacsha256_state st;

    crypto_auth_hmacsha256_init(&st, key, key_len);
    crypto_auth_hmacsha256_update(&st, msg, msg_len);
    crypto_auth_hmacsha256_final(&st, out);
    sodium_memzero(&st, sizeof(st));
}

/* kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service), "aws4_request"). */
static int derive_key(const signer *s, uint8_t out[crypto_auth_hmacsha256_BYTES])
{
    const char *secret = s->c->secret_access_key;
    size_t n = 4 + strlen(secret);
    uint8_t *k0 = malloc(n);
    uint8_t k1[crypto_auth_hmacsha256_BYTES], k2[crypto_auth_hmacsha256_BYTES];

    if (!k0)
        return SL_ENOMEM;
    memcpy(k0, "AWS4", 4);
    memcpy(k0 + 4, secret, n - 4);
    hmac(k0, n, s->date, 8, k1);
    sodium_memzero(k0, n);
    free(k0);
    hmac(k1, sizeof(k1), s->r->region, strlen(s->r->region), k2);
    hmac(k2, sizeof(k2), s->r->service, strlen(s->r->service), k1);
    hmac(k1, sizeof(k1), SCOPE_SUFFIX, strlen(SCOPE_SUFFIX), out);
    sodium_memzero(k1, sizeof(k1));
    sodium_memzero(k2, sizeof(k2));
    return 0;
}

static void put_sha256_hex(sl_buf *b, const void *data, size_t len)
{
    uint8_t digest[SL_HASH_LEN];
    char hex[2 * SL_HASH_LEN + 1];

    sl_sha256(data, len, digest);
    sl_hex(digest, sizeof(digest), hex);
    sl_buf_put(b, hex, 2 * SL_HASH_LEN);
}

/* ---- the three strings ---- */

static int build_canonical_request(signer *s)
{
    const sl_sigv4_request *r = s->r;
    int rc;

    sl_buf_printf(&s->creq, "%s\n", r->method);
    rc = put_canonical_uri(&s->creq, r->path);
    if (rc != 0)
        return rc;
    sl_buf_put_u8(&s->creq, '\n');
    rc = put_canonical_query(&s->creq, r->query);
    if (rc != 0)
        return rc;
    sl_buf_put_u8(&s->creq, '\n');
    qsort(s->h, s->nh, sizeof(*s->h), cmp_hdr);
    put_headers(s);
    sl_buf_put_u8(&s->creq, '\n');
    sl_buf_put(&s->creq, s->names.p, s->names.len);
    sl_buf_put_u8(&s->creq, '\n');
    put_sha256_hex(&s->creq, r->body_len ? r->body : (const uint8_t *)"", r->body_len);
    return s->creq.err ? s->creq.err : s->names.err;
}

static int build_string_to_sign(signer *s)
{
    sl_buf_printf(&s->scope, "%.8s/%s/%s/" SCOPE_SUFFIX, s->date, s->r->region, s->r->service);
    sl_buf_printf(&s->sts, ALGORITHM "\n%s\n", s->date);
    sl_buf_put(&s->sts, s->scope.p, s->scope.len);
    sl_buf_put_u8(&s->sts, '\n');
    put_sha256_hex(&s->sts, s->creq.p, s->creq.len);
    return s->sts.err ? s->sts.err : s->scope.err;
}

/* Signs the string to sign and writes the Authorization value into out[cap]. */
static int write_authorization(signer *s, char *out, size_t cap)
{
    uint8_t key[crypto_auth_hmacsha256_BYTES], mac[crypto_auth_hmacsha256_BYTES];
    char sig[2 * crypto_auth_hmacsha256_BYTES + 1];
    sl_buf a;
    int rc = derive_key(s, key);

    if (rc != 0)
        return rc;
    hmac(key, sizeof(key), s->sts.p, s->sts.len, mac);
    sodium_memzero(key, sizeof(key));
    sl_hex(mac, sizeof(mac), sig);
    sl_buf_init(&a);
    sl_buf_printf(&a, ALGORITHM " Credential=%s/", s->c->access_key_id);
    sl_buf_put(&a, s->scope.p, s->scope.len);
    sl_buf_printf(&a, ", SignedHeaders=%.*s, Signature=%s", (int)s->names.len,
                  (const char *)s->names.p, sig);
    rc = a.err;
    if (rc == 0 && a.len >= cap)
        rc = SL_EOVERFLOW;
    if (rc == 0)
        memcpy(out, a.p, a.len + 1);
    sl_buf_release(&a);
    return rc;
}

/* ---- entry point ---- */

static int request_ok(const sl_sigv4_request *r, const sl_sigv4_creds *c)
{
    if (!r || !c || !r->method || !*r->method || !r->path || !r->host)
        return 0;
    for (const char *m = r->method; *m; m++) {
        if (!is_tchar((unsigned char)*m))
            return 0;
    }
    if (!word_ok(r->host) || !word_ok(r->region) || !word_ok(r->service))
        return 0;
    if (!word_ok(c->access_key_id) || !c->secret_access_key || !*c->secret_access_key)
        return 0;
    if (c->session_token && (!*c->session_token || !value_ok(c->session_token)))
        return 0;
    return r->body || r->body_len == 0;
}

static void signer_release(signer *s)
{
    free(s->h);
    sl_buf_release(&s->names);
    sl_buf_release(&s->scope);
    sl_buf_release(&s->creq);
    sl_buf_release(&s->sts);
}

int sl_sigv4_sign(const sl_sigv4_request *r, const sl_sigv4_creds *c, char *authorization,
                  size_t auth_cap, char amz_date[SL_SIGV4_DATE_LEN + 1])
{
    signer s = {.r = r, .c = c};
    int rc = SL_EINVAL;

    sl_buf_init(&s.names);
    sl_buf_init(&s.scope);
    sl_buf_init(&s.creq);
    sl_buf_init(&s.sts);
    if (!authorization || !amz_date || !request_ok(r, c))
        goto out;
    rc = format_amz_date(r->time_ms, s.date);
    if (rc == 0)
        rc = headers_collect(&s);
    if (rc == 0)
        rc = build_canonical_request(&s);
    if (rc == 0)
        rc = build_string_to_sign(&s);
    if (rc == 0)
        rc = write_authorization(&s, authorization, auth_cap);
    if (rc == 0)
        memcpy(amz_date, s.date, sizeof(s.date));
out:
    if (rc != 0 && authorization && auth_cap > 0)
        authorization[0] = '\0';
    if (rc != 0 && amz_date)
        amz_date[0] = '\0';
    signer_release(&s);
    return rc;
}
