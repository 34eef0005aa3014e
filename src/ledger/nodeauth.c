/*
 * nodeauth.c: node credentials (ident.h), the short-lived bearer token with which one
 * organization's node authenticates to another's without a shared secret. The token carries
 * the caller's certificate, the called node's "org/name", the time, and the caller's Ed25519
 * signature over a domain-separated, length-prefixed message of the three, so a token binds
 * one certificate to one audience at one moment and nothing else verifies under it.
 *
 * Reading never looks past SL_NODE_TOKEN_MAX characters and decodes every field into a bounded
 * stack buffer (libsodium's base64url decoder refuses padding, stray characters and non-zero
 * trailing bits, so each field has one spelling). Checking the certificate against its
 * organization's root key is the caller's job: only the caller knows the channels.
 *
 * Ownership: caller-owned buffers only; nothing is allocated but out's growth. Thread-safety:
 * reentrant.
 */
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "ledger/ident_int.h"
#include "slaledger/ident.h"
#include "slaledger/sla.h"

#define B64_VARIANT sodium_base64_VARIANT_URLSAFE_NO_PADDING
#define PREFIX_LEN  (sizeof(SL_NODE_TOKEN_PREFIX) - 1)
/* The signed message starts with this string and its NUL. */
#define DOMAIN          "slaledger node token v1"
#define TIME_DIGITS_MAX 19 /* INT64_MAX has 19 digits */
#define MSG_MAX         (sizeof(DOMAIN) + 4 + SL_CERT_MAX + 4 + SL_NODE_AUDIENCE_MAX + 8)
/* Characters of n bytes in unpadded base64. */
#define B64_LEN(n) (((n) / 3) * 4 + ((n) % 3 ? (n) % 3 + 1 : 0))

_Static_assert(PREFIX_LEN + B64_LEN(SL_CERT_MAX) + 1 + B64_LEN(SL_NODE_AUDIENCE_MAX) + 1 +
                       TIME_DIGITS_MAX + 1 + B64_LEN(SL_SIG_LEN) <=
                   SL_NODE_TOKEN_MAX,
               "SL_NODE_TOKEN_MAX must hold the longest token");

/* The fields of a token, decoded. */
typedef struct token_fields {
    uint8_t cert[SL_CERT_MAX];
    size_t cert_len;
    char aud[SL_NODE_AUDIENCE_MAX];
    size_t aud_len;
    int64_t time_ms;
    uint8_t sig[SL_SIG_LEN];
} token_fields;

/* The signed message. */
typedef struct token_msg {
    uint8_t p[MSG_MAX];
    size_t len;
} token_msg;

static void msg_put(token_msg *m, const void *p, size_t n)
{
    memcpy(m->p + m->len, p, n);
    m->len += n;
}

static void msg_put_be(token_msg *m, uint64_t v, int bytes)
{
    for (int k = bytes - 1; k >= 0; k--)
        m->p[m->len++] = (uint8_t)(v >> (8 * k));
}

/* The message a token's signature covers. cert_len <= SL_CERT_MAX and aud_len <=
 * SL_NODE_AUDIENCE_MAX (both callers bound them), so it fits. */
static void token_message(const uint8_t *cert, size_t cert_len, const char *aud, size_t aud_len,
                          int64_t time_ms, token_msg *m)
{
    m->len = 0;
    msg_put(m, DOMAIN, sizeof(DOMAIN));
    msg_put_be(m, cert_len, 4);
    msg_put(m, cert, cert_len);
    msg_put_be(m, aud_len, 4);
    msg_put(m, aud, aud_len);
    msg_put_be(m, (uint64_t)time_ms, 8);
}

/* Whether s[0..n) is "org/name" with two valid names. */
static int audience_valid(const char *s, size_t n)
{
    const char *slash = n <= SL_NODE_AUDIENCE_MAX ? memchr(s, '/', n) : NULL;

    return slash && sl_name_valid(s, (size_t)(slash - s)) &&
           sl_name_valid(slash + 1, n - (size_t)(slash - s) - 1);
}

/* ---- making ---- */

/* Appends the base64url of p[0..n) to tok at *at; tok holds SL_NODE_TOKEN_MAX + 1 bytes, which
 * the static assertion above shows is enough for every field of a token. */
static void b64_put(char *tok, size_t *at, const void *p, size_t n)
{
    sodium_bin2base64(tok + *at, SL_NODE_TOKEN_MAX + 1 - *at, p, n, B64_VARIANT);
    *at += strlen(tok + *at);
}

int sl_node_token_make(const sl_key *key, const sl_cert *cert, const char *audience, int64_t now_ms,
                       sl_buf *out)
{
    uint8_t enc[SL_CERT_MAX], pk[SL_PK_LEN], sig[SL_SIG_LEN];
    char tok[SL_NODE_TOKEN_MAX + 1];
    size_t aud_len = audience ? strnlen(audience, SL_NODE_AUDIENCE_MAX + 1) : 0, n, at;
    token_msg m;

    if (out->err)
        return out->err;
    if (!key || !cert || !audience || now_ms < 0 || !audience_valid(audience, aud_len) ||
        sl__cert_check(cert, 1, NULL) != 0 || cert->role != SL_ROLE_NODE)
        return SL_EINVAL;
    sl_key_public(key, pk);
    if (memcmp(pk, cert->pk, SL_PK_LEN) != 0)
        return SL_EINVAL;
    n = sl__cert_encode_fixed(cert, 1, enc);
    token_message(enc, n, audience, aud_len, now_ms, &m);
    sl_key_sign(key, m.p, m.len, sig);
    memcpy(tok, SL_NODE_TOKEN_PREFIX, PREFIX_LEN);
    at = PREFIX_LEN;
    b64_put(tok, &at, enc, n);
    tok[at++] = '.';
    b64_put(tok, &at, audience, aud_len);
    at += (size_t)snprintf(tok + at, sizeof(tok) - at, ".%lld.", (long long)now_ms);
    b64_put(tok, &at, sig, sizeof(sig));
    sl_buf_put(out, tok, at);
    return out->err;
}

/* ---- reading ---- */

/* Whether c is a character of the base64url alphabet (the digits among them). */
static int b64_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_';
}

/* Decodes the base64url field s[0..n) into out[0..cap): its length, or -1. The alphabet is
 * checked here: libsodium 1.0.18's decoder takes some bytes above 0x7f (where char is signed)
 * for '_' and '-', so a token would have more than one spelling. */
static long b64_field(const char *s, size_t n, void *out, size_t cap)
{
    size_t got = 0;

    for (size_t i = 0; i < n; i++) {
        if (!b64_char(s[i]))
            return -1;
    }
    if (sodium_base642bin(out, cap, s, n, NULL, &got, NULL, B64_VARIANT) != 0)
        return -1;
    return (long)got;
}

/* A time field: 1 to 19 decimal digits, no leading zero, at most INT64_MAX. 0 or -1. */
static int time_field(const char *s, size_t n, int64_t *out)
{
    int64_t v = 0;

    if (n == 0 || n > TIME_DIGITS_MAX || (n > 1 && s[0] == '0'))
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9' || v > (INT64_MAX - (s[i] - '0')) / 10)
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 0;
}

/* Splits t[0..n) (after the prefix) at its dots into the four fields and decodes them. */
static int token_parse(const char *t, size_t n, token_fields *f, sl_error *err)
{
    const char *part[4];
    size_t len[4], k = 0;
    long got;

    part[0] = t;
    for (size_t i = 0; i < n; i++) {
        if (t[i] != '.')
            continue;
        if (++k == 4)
            break;
        part[k] = t + i + 1;
    }
    if (k != 3)
        return sl_error_set(err, SL_EINVAL, "token",
                            "a node token has five parts separated by dots: "
                            "sln1.CERTIFICATE.AUDIENCE.TIME.SIGNATURE");
    for (k = 0; k < 3; k++)
        len[k] = (size_t)(part[k + 1] - part[k]) - 1;
    len[3] = n - (size_t)(part[3] - t);
    if ((got = b64_field(part[0], len[0], f->cert, sizeof(f->cert))) < 0)
        return sl_error_set(err, SL_EINVAL, "token.cert",
                            "the certificate is not unpadded base64url of at most %d bytes",
                            SL_CERT_MAX);
    f->cert_len = (size_t)got;
    if ((got = b64_field(part[1], len[1], f->aud, sizeof(f->aud))) < 0)
        return sl_error_set(err, SL_EINVAL, "token.audience",
                            "the audience is not unpadded base64url of at most %d bytes",
                            SL_NODE_AUDIENCE_MAX);
    f->aud_len = (size_t)got;
    if (time_field(part[2], len[2], &f->time_ms) != 0)
        return sl_error_set(err, SL_EINVAL, "token.time",
                            "the time is not milliseconds since the epoch in decimal");
    if (b64_field(part[3], len[3], f->sig, sizeof(f->sig)) != SL_SIG_LEN)
        return sl_error_set(err, SL_EINVAL, "token.signature",
                            "the signature is not %d bytes of unpadded base64url", SL_SIG_LEN);
    return 0;
}

/* The checks of a parsed token's audience and time. */
static int token_check_claims(const token_fields *f, const char *audience, size_t aud_len,
                              int64_t now_ms, int64_t skew_ms, sl_error *err)
{
    char shown[SL_NODE_AUDIENCE_MAX + 1];
    int64_t d;

    if (f->aud_len != aud_len || memcmp(f->aud, audience, aud_len) != 0) {
        sl__printable((const uint8_t *)f->aud, f->aud_len, shown, sizeof(shown));
        return sl_error_set(err, SL_EAUTH, "token.audience",
                            "the token is for node '%s', not this node ('%s')", shown, audience);
    }
    if (sl_sub(f->time_ms, now_ms, &d) != 0)
        d = f->time_ms > now_ms ? INT64_MAX : INT64_MIN;
    if (d > skew_ms || d < -skew_ms)
        return sl_error_set(err, SL_EAUTH, "token.time",
                            "the token is dated %llu ms %s this node's clock; at most %lld ms "
                            "either way are accepted (a token is made per request; check both "
                            "nodes' clocks)",
                            d < 0 ? 0ull - (unsigned long long)d : (unsigned long long)d,
                            d < 0 ? "behind" : "ahead of", (long long)skew_ms);
    return 0;
}

int sl_node_token_read(const char *token, const char *audience, int64_t now_ms, int64_t skew_ms,
                       sl_cert *cert, sl_error *err)
{
    size_t n = token ? strnlen(token, SL_NODE_TOKEN_MAX + 1) : 0;
    size_t aud_len = audience ? strnlen(audience, SL_NODE_AUDIENCE_MAX + 1) : 0;
    token_fields f;
    token_msg m;
    sl_error e;
    sl_cert c;
    int rc;

    if (!audience || !audience_valid(audience, aud_len) || skew_ms < 0)
        return sl_error_set(err, SL_EINVAL, "audience",
                            "expected this node's \"org/name\" and a skew of 0 ms or more");
    if (n > SL_NODE_TOKEN_MAX)
        return sl_error_set(err, SL_EINVAL, "token", "a node token has at most %d characters",
                            SL_NODE_TOKEN_MAX);
    if (n < PREFIX_LEN || memcmp(token, SL_NODE_TOKEN_PREFIX, PREFIX_LEN) != 0)
        return sl_error_set(err, SL_EINVAL, "token",
                            "a node token starts with \"" SL_NODE_TOKEN_PREFIX "\"");
    if ((rc = token_parse(token + PREFIX_LEN, n - PREFIX_LEN, &f, err)) != 0)
        return rc;
    if (sl_cert_decode(f.cert, f.cert_len, &c, &e) != 0)
        return sl_error_set(err, SL_EINVAL, "token.cert", "the token's certificate: %s: %s",
                            e.field, e.msg);
    if ((rc = token_check_claims(&f, audience, aud_len, now_ms, skew_ms, err)) != 0)
        return rc;
    if (c.role != SL_ROLE_NODE)
        return sl_error_set(err, SL_EAUTH, "token.cert.role",
                            "the token's certificate is of %s/%s, a %s, not a node", c.org,
                            c.subject, sl_role_name(c.role));
    token_message(f.cert, f.cert_len, f.aud, f.aud_len, f.time_ms, &m);
    rc = sl_sig_verify(c.pk, m.p, m.len, f.sig);
    if (rc == SL_EAUTH)
        return sl_error_set(err, SL_EAUTH, "token.signature",
                            "the token is not signed by the key of the certificate of %s/%s", c.org,
                            c.subject);
    if (rc != 0)
        return sl_error_set(err, rc, NULL, "cannot verify the token's signature");
    *cert = c;
    return 0;
}
