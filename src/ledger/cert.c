/*
 * cert.c: member certificates: the canonical binary encoding, its decoding and well-formedness
 * checks, signing and verification with an organization's root key, and the JSON file form.
 *
 * The binary encoding (docs/ledger-format.md, "Certificates") is what gets signed and what a
 * transaction embeds; it is canonical: one certificate has exactly one encoding, and decoding
 * accepts nothing else. This file also holds the field reader with named errors (sl__dec, see
 * ident_int.h) that the transaction decoder shares. Invariant of a checked certificate: subject
 * and org are valid names, role is exactly one known role, not_before < not_after.
 *
 * Ownership: everything works on caller-owned structs and buffers; nothing here allocates but
 * the jansson trees of the JSON functions, freed before returning. Thread-safety: reentrant.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "ledger/ident_int.h"
#include "slaledger/ident.h"
#include "slaledger/sla.h"

static const uint8_t CERT_MAGIC[4] = {'S', 'L', 'C', '1'};

/* ---- errors with field names ---- */

int sl__fail(sl_error *err, long item, const char *field, const char *fmt, ...)
{
    char name[sizeof(err->field)], msg[sizeof(err->msg)];
    va_list ap;

    if (!err)
        return SL_EINVAL;
    if (item >= 0)
        snprintf(name, sizeof(name), "items[%ld].%s", item, field);
    else
        snprintf(name, sizeof(name), "%s", field ? field : "");
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    return sl_error_set(err, SL_EINVAL, name, "%s", msg);
}

void sl__printable(const uint8_t *p, size_t n, char *out, size_t cap)
{
    size_t i;

    if (cap == 0)
        return;
    for (i = 0; i < n && i + 1 < cap; i++)
        out[i] = p[i] >= 0x20 && p[i] < 0x7f && p[i] != '"' ? (char)p[i] : '?';
    out[i] = '\0';
}

int sl__check_name_n(const char *s, size_t n, long item, const char *field, sl_error *err)
{
    char shown[SL_IDENT_NAME_CAP];

    if (sl_name_valid(s, n))
        return 0;
    if (n == 0)
        return sl__fail(err, item, field, "is empty; a name is required");
    if (n > SL__NAME_MAX)
        return sl__fail(err, item, field, "is longer than %d bytes", SL__NAME_MAX);
    if (memchr(s, '\0', n))
        return sl__fail(err, item, field, "contains a NUL byte");
    sl__printable((const uint8_t *)s, n, shown, sizeof(shown));
    return sl__fail(err, item, field,
                    "\"%s\" is not a valid name: 1 to %d of a-z 0-9 . _ -, starting with a "
                    "letter or digit",
                    shown, SL__NAME_MAX);
}

int sl__check_name(const char *s, long item, const char *field, sl_error *err)
{
    return sl__check_name_n(s, strnlen(s, SL_IDENT_NAME_CAP), item, field, err);
}

/* ---- the field reader ---- */

void sl__dec_short(sl__dec *d, size_t n, const char *field)
{
    if (d->rc)
        return;
    d->rc =
        sl__fail(d->err, d->item, field, "is truncated: needs %zu bytes at offset %zu, %zu left", n,
                 d->r.at, sl__dec_left(d));
}

void sl__dec_too_long(sl__dec *d, size_t len, size_t max, const char *field)
{
    if (d->rc)
        return;
    d->rc =
        sl__fail(d->err, d->item, field, "is %zu bytes long; at most %zu are allowed", len, max);
}

void sl__dec_trailing(sl__dec *d, const char *what)
{
    if (d->rc)
        return;
    d->rc = sl__fail(d->err, -1, what, "has %zu unexpected byte(s) after its last field",
                     sl__dec_left(d));
}

void sl__dec_name(sl__dec *d, char out[SL_IDENT_NAME_CAP], const char *field)
{
    size_t n;
    const uint8_t *p = sl__dec_blob(d, SL__NAME_MAX, &n, field);

    out[0] = '\0';
    if (!p)
        return;
    /* sl_name_valid refuses NUL bytes too, so the copy is exactly the encoded name. */
    if (!sl_name_valid((const char *)p, n)) {
        d->rc = sl__check_name_n((const char *)p, n, d->item, field, d->err);
        return;
    }
    memcpy(out, p, n);
    out[n] = '\0';
}

void sl__dec_cert(sl__dec *d, sl_cert *c)
{
    const uint8_t *magic = sl__dec_bytes(d, sizeof(CERT_MAGIC), "cert");
    const uint8_t *p;

    if (magic && memcmp(magic, CERT_MAGIC, sizeof(CERT_MAGIC)) != 0)
        d->rc = sl__fail(d->err, -1, "cert", "does not start with the magic \"SLC1\"");
    sl__dec_name(d, c->subject, "cert.subject");
    sl__dec_name(d, c->org, "cert.org");
    c->role = (sl_role)sl__dec_u8(d, "cert.role");
    p = sl__dec_bytes(d, SL_PK_LEN, "cert.public_key");
    if (p)
        memcpy(c->pk, p, SL_PK_LEN);
    c->not_before_ms = sl__dec_i64(d, "cert.not_before");
    c->not_after_ms = sl__dec_i64(d, "cert.not_after");
    p = sl__dec_bytes(d, SL_SIG_LEN, "cert.signature");
    if (p)
        memcpy(c->sig, p, SL_SIG_LEN);
}

/* ---- binary encoding ---- */

static void put(uint8_t *out, size_t *at, const void *p, size_t n)
{
    memcpy(out + *at, p, n);
    *at += n;
}

static void put_be(uint8_t *out, size_t *at, uint64_t v, int bytes)
{
    for (int k = bytes - 1; k >= 0; k--)
        out[(*at)++] = (uint8_t)(v >> (8 * k));
}

static void put_name(uint8_t *out, size_t *at, const char *s)
{
    size_t n = strnlen(s, SL_IDENT_NAME_CAP);

    put_be(out, at, n, 4);
    put(out, at, s, n);
}

size_t sl__cert_encode_fixed(const sl_cert *c, int with_sig, uint8_t out[SL_CERT_MAX])
{
    size_t at = 0;

    put(out, &at, CERT_MAGIC, sizeof(CERT_MAGIC));
    put_name(out, &at, c->subject);
    put_name(out, &at, c->org);
    put_be(out, &at, (uint8_t)c->role, 1);
    put(out, &at, c->pk, SL_PK_LEN);
    put_be(out, &at, (uint64_t)c->not_before_ms, 8);
    put_be(out, &at, (uint64_t)c->not_after_ms, 8);
    if (with_sig)
        put(out, &at, c->sig, SL_SIG_LEN);
    return at;
}

void sl_cert_encode(const sl_cert *c, int with_sig, sl_buf *out)
{
    uint8_t tmp[SL_CERT_MAX];
    size_t n = sl__cert_encode_fixed(c, with_sig, tmp);

    sl_buf_put(out, tmp, n);
}

/* The checks of sl__cert_check; skip drops the "cert." prefix of field names (JSON files). */
static int cert_check(const sl_cert *c, size_t skip, int names, sl_error *err)
{
    unsigned r = (unsigned)c->role;
    int rc = 0;

    if (names)
        rc = sl__check_name(c->subject, -1, &"cert.subject"[skip], err);
    if (rc == 0 && names)
        rc = sl__check_name(c->org, -1, &"cert.org"[skip], err);
    if (rc == 0 && (r == 0 || (r & (r - 1)) != 0 || (r & ~(unsigned)SL_ROLE_ALL) != 0))
        rc = sl__fail(err, -1, &"cert.role"[skip], "0x%02x is not exactly one known role", r);
    if (rc == 0 && c->not_before_ms >= c->not_after_ms)
        rc = sl__fail(err, -1, &"cert.not_after"[skip], "must be later than not_before");
    return rc;
}

int sl__cert_check(const sl_cert *c, int names, sl_error *err)
{
    return cert_check(c, 0, names, err);
}

int sl_cert_decode(const uint8_t *p, size_t len, sl_cert *out, sl_error *err)
{
    sl__dec d;
    sl_cert c;

    memset(&c, 0, sizeof(c));
    sl__dec_init(&d, p, len, err);
    sl__dec_cert(&d, &c);
    if (sl__dec_left(&d) != 0)
        sl__dec_trailing(&d, "cert");
    if (d.rc)
        return d.rc;
    if (cert_check(&c, 0, 0, err) != 0)
        return SL_EINVAL;
    *out = c;
    return 0;
}

/* ---- signatures ---- */

void sl_cert_sign(sl_cert *c, const sl_key *org_root)
{
    uint8_t tmp[SL_CERT_MAX];
    size_t n = sl__cert_encode_fixed(c, 0, tmp);

    sl_key_sign(org_root, tmp, n, c->sig);
}

/* A timestamp for messages: RFC 3339 when representable, else raw milliseconds. */
static const char *time_text(int64_t ms, char buf[32])
{
    if (sl_time_format(ms, buf, 32) < 0)
        snprintf(buf, 32, "%lld ms", (long long)ms);
    return buf;
}

int sl_cert_verify(const sl_cert *c, const uint8_t org_pk[SL_PK_LEN], int64_t at_ms, sl_error *err)
{
    uint8_t tmp[SL_CERT_MAX];
    size_t n = sl__cert_encode_fixed(c, 0, tmp);
    char t1[32], t2[32];

    if (sl_sig_verify(org_pk, tmp, n, c->sig) != 0)
        return sl_error_set(err, SL_EAUTH, "cert.signature",
                            "the certificate of %.63s/%.63s is not signed by the root key of "
                            "organization %.63s",
                            c->org, c->subject, c->org);
    if (at_ms < c->not_before_ms)
        return sl_error_set(err, SL_ETIME, "cert.not_before",
                            "the certificate of %.63s/%.63s is not valid before %s (checked at %s)",
                            c->org, c->subject, time_text(c->not_before_ms, t1),
                            time_text(at_ms, t2));
    if (at_ms >= c->not_after_ms)
        return sl_error_set(err, SL_ETIME, "cert.not_after",
                            "the certificate of %.63s/%.63s expired at %s (checked at %s)", c->org,
                            c->subject, time_text(c->not_after_ms, t1), time_text(at_ms, t2));
    return 0;
}

/* ---- JSON files ---- */

static int dump_cb(const char *buffer, size_t size, void *data)
{
    sl_buf *out = data;

    sl_buf_put(out, buffer, size);
    return out->err ? -1 : 0;
}

int sl_cert_write_json(const sl_cert *c, sl_buf *out)
{
    char pk[2 * SL_PK_LEN + 1], sig[2 * SL_SIG_LEN + 1], nb[32], na[32];
    const char *role = sl_role_name(c->role);
    json_t *j = NULL;
    int rc = SL_EINVAL;

    if (out->err)
        return out->err;
    if (!role || cert_check(c, 0, 1, NULL) != 0 || c->not_before_ms < 0 ||
        sl_time_format(c->not_before_ms, nb, sizeof(nb)) < 0 ||
        sl_time_format(c->not_after_ms, na, sizeof(na)) < 0)
        goto out;
    sl_hex(c->pk, SL_PK_LEN, pk);
    sl_hex(c->sig, SL_SIG_LEN, sig);
    j = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "subject", c->subject, "org", c->org,
                  "role", role, "public_key", pk, "not_before", nb, "not_after", na, "signature",
                  sig);
    rc = SL_ENOMEM;
    if (!j || json_dump_callback(j, dump_cb, out, JSON_INDENT(2)) != 0)
        goto out;
    sl_buf_put(out, "\n", 1);
    rc = out->err;
out:
    json_decref(j);
    return rc;
}

/* The string member key of o, or NULL with the error set. */
static const char *json_str(json_t *o, const char *key, size_t *len, sl_error *err)
{
    json_t *v = json_object_get(o, key);

    if (!v) {
        sl__fail(err, -1, key, "is missing");
        return NULL;
    }
    if (!json_is_string(v)) {
        sl__fail(err, -1, key, "must be a string");
        return NULL;
    }
    *len = json_string_length(v);
    return json_string_value(v);
}

static int json_name(json_t *o, const char *key, char out[SL_IDENT_NAME_CAP], sl_error *err)
{
    size_t n;
    const char *s = json_str(o, key, &n, err);

    if (!s)
        return SL_EINVAL;
    if (n > SL__NAME_MAX)
        return sl__fail(err, -1, key, "is %zu bytes long; names have at most %d", n, SL__NAME_MAX);
    memcpy(out, s, n + 1);
    return sl__check_name(out, -1, key, err);
}

static int json_hex(json_t *o, const char *key, uint8_t *out, size_t n, sl_error *err)
{
    size_t len;
    const char *s = json_str(o, key, &len, err);

    if (!s)
        return SL_EINVAL;
    if (sl_unhex(s, len, out, n) != 0)
        return sl__fail(err, -1, key, "must be %zu hexadecimal digits", 2 * n);
    return 0;
}

static int json_time(json_t *o, const char *key, int64_t *out, sl_error *err)
{
    size_t len;
    const char *s = json_str(o, key, &len, err);

    if (!s)
        return SL_EINVAL;
    if (sl_time_parse(s, len, out) != 0)
        return sl__fail(err, -1, key, "must be an RFC 3339 time such as 2026-12-01T00:00:00Z");
    return 0;
}

static int json_role(json_t *o, sl_role *out, sl_error *err)
{
    size_t len;
    const char *s = json_str(o, "role", &len, err);

    if (!s)
        return SL_EINVAL;
    if (strlen(s) != len || sl_role_parse(s, out) != 0)
        return sl__fail(err, -1, "role",
                        "is not a known role (consumer, provider, oracle, "
                        "auditor, issuer, node)");
    return 0;
}

/* Refuses members other than the seven of a certificate file. */
static int json_known_keys(json_t *o, sl_error *err)
{
    static const char *const keys[] = {"subject",    "org",       "role",     "public_key",
                                       "not_before", "not_after", "signature"};
    const char *key;
    json_t *v;

    json_object_foreach(o, key, v)
    {
        size_t i = 0;
        while (i < sizeof(keys) / sizeof(keys[0]) && strcmp(key, keys[i]) != 0)
            i++;
        if (i == sizeof(keys) / sizeof(keys[0])) {
            char shown[48];
            sl__printable((const uint8_t *)key, strlen(key), shown, sizeof(shown));
            return sl__fail(err, -1, shown, "is not a field of a certificate");
        }
    }
    return 0;
}

/* Fills c from a parsed certificate object. */
static int cert_from_json(json_t *o, sl_cert *c, sl_error *err)
{
    if (!json_is_object(o))
        return sl__fail(err, -1, NULL, "a certificate file must hold a JSON object");
    if (json_known_keys(o, err) != 0 || json_name(o, "subject", c->subject, err) != 0 ||
        json_name(o, "org", c->org, err) != 0 || json_role(o, &c->role, err) != 0 ||
        json_hex(o, "public_key", c->pk, SL_PK_LEN, err) != 0 ||
        json_time(o, "not_before", &c->not_before_ms, err) != 0 ||
        json_time(o, "not_after", &c->not_after_ms, err) != 0 ||
        json_hex(o, "signature", c->sig, SL_SIG_LEN, err) != 0)
        return SL_EINVAL;
    return cert_check(c, strlen("cert."), 1, err);
}

int sl_cert_read_json(const char *text, size_t len, sl_cert *out, sl_error *err)
{
    json_error_t jerr;
    json_t *o = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    sl_cert c;
    int rc;

    if (!o) {
        rc = sl_error_set(err, SL_EPARSE, NULL, "%s", jerr.text);
        if (err) {
            err->line = jerr.line > 0 ? jerr.line : 0;
            err->column = jerr.column > 0 ? jerr.column : 0;
        }
        return rc;
    }
    memset(&c, 0, sizeof(c));
    rc = cert_from_json(o, &c, err);
    if (rc == 0)
        *out = c;
    json_decref(o);
    return rc;
}
