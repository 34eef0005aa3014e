/*
 * tx.c: transactions: encoding and signing, decoding with every well-formedness check,
 * signature verification against the embedded certificate, type names and roles, JSON.
 *
 * The layout is in docs/ledger-format.md ("Transactions"). Decoding is canonical and strict:
 * the encoder writes exactly one byte string per transaction value, and the decoder accepts only
 * such strings (no unknown type, no field of another type, no byte left over), so re-encoding a
 * decoded transaction gives back the signed bytes. sl_tx_sign and sl_tx_decode share one set of
 * field checks (sl__tx_check; the decoder checks names as it reads them, with the same function):
 * nothing is signed that would not decode.
 *
 * Ownership: a decoded transaction is one allocation holding the struct and a copy of the bytes
 * (every pointer in tx points into that copy) plus, for reports and checks, one items array.
 * Decoding does no other allocation and no formatting unless it fails. Thread-safety:
 * reentrant; a decoded transaction is immutable.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "ledger/ident_int.h"
#include "slaledger/sla.h"
#include "slaledger/tx.h"

static const uint8_t TX_MAGIC[4] = {'S', 'L', 'T', '1'};

/* Bytes an item needs at least: two one-byte names (u32 length + 1) and three i64. */
#define ITEM_MIN_BYTES (2 * (4 + 1) + 3 * 8)

static const char *const type_names[SL_TX_TYPE_MAX + 1] = {
    NULL, "propose", "accept", "reject", "deposit", "withdraw", "issue", "report", "check", "time",
};

/* The body fields of each type. */
enum {
    F_DOC = 1 << 0,
    F_AGREEMENT = 1 << 1,
    F_DOC_HASH = 1 << 2,
    F_TO = 1 << 3,
    F_CURRENCY = 1 << 4,
    F_AMOUNT = 1 << 5,
    F_ITEMS = 1 << 6,
};

static const unsigned type_fields[SL_TX_TYPE_MAX + 1] = {
    [SL_TX_PROPOSE] = F_DOC,
    [SL_TX_ACCEPT] = F_AGREEMENT | F_DOC_HASH,
    [SL_TX_REJECT] = F_AGREEMENT,
    [SL_TX_DEPOSIT] = F_AGREEMENT | F_AMOUNT,
    [SL_TX_WITHDRAW] = F_CURRENCY | F_AMOUNT,
    [SL_TX_ISSUE] = F_TO | F_CURRENCY | F_AMOUNT,
    [SL_TX_REPORT] = F_ITEMS,
    [SL_TX_CHECK] = F_ITEMS,
    [SL_TX_TIME] = 0,
};

static int type_known(unsigned t)
{
    return t >= 1 && t <= SL_TX_TYPE_MAX;
}

const char *sl_tx_type_name(sl_tx_type t)
{
    return type_known((unsigned)t) ? type_names[t] : NULL;
}

int sl_tx_type_parse(const char *s, sl_tx_type *out)
{
    for (unsigned t = 1; s && t <= SL_TX_TYPE_MAX; t++) {
        if (strcmp(s, type_names[t]) == 0) {
            *out = (sl_tx_type)t;
            return 0;
        }
    }
    return SL_EINVAL;
}

unsigned sl_tx_roles(sl_tx_type t)
{
    switch (t) {
    case SL_TX_PROPOSE:
    case SL_TX_ACCEPT:
    case SL_TX_REJECT:
        return SL_ROLE_CONSUMER | SL_ROLE_PROVIDER;
    case SL_TX_DEPOSIT:
        return SL_ROLE_CONSUMER;
    case SL_TX_WITHDRAW:
        return SL_ROLE_CONSUMER | SL_ROLE_PROVIDER | SL_ROLE_ISSUER;
    case SL_TX_ISSUE:
        return SL_ROLE_ISSUER;
    case SL_TX_REPORT:
    case SL_TX_CHECK:
        return SL_ROLE_ORACLE;
    case SL_TX_TIME:
        return SL_ROLE_NODE;
    }
    return 0;
}

/* ---- UTF-8 ---- */

/* Length of the valid multi-byte sequence at p[0..n), or 0. */
static size_t utf8_seq(const uint8_t *p, size_t n)
{
    static const uint32_t min[5] = {0, 0, 0x80, 0x800, 0x10000};
    size_t len = (p[0] & 0xe0) == 0xc0   ? 2
                 : (p[0] & 0xf0) == 0xe0 ? 3
                 : (p[0] & 0xf8) == 0xf0 ? 4
                                         : 0;
    uint32_t cp = p[0] & (0x7f >> len);

    if (len == 0 || len > n)
        return 0;
    for (size_t k = 1; k < len; k++) {
        if ((p[k] & 0xc0) != 0x80)
            return 0;
        cp = cp << 6 | (p[k] & 0x3f);
    }
    if (cp < min[len] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return len;
}

int sl__utf8_valid(const uint8_t *p, size_t n)
{
    size_t i = 0;

    while (i < n) {
        size_t k = p[i] < 0x80 ? 1 : utf8_seq(p + i, n - i);
        if (k == 0)
            return 0;
        i += k;
    }
    return 1;
}

/* ---- checks shared by signing and decoding ---- */

static int check_currency(const char c[4], sl_error *err)
{
    for (int i = 0; i < 3; i++) {
        if (c[i] < 'A' || c[i] > 'Z')
            return sl__fail(err, -1, "currency", "must be three upper-case letters (ISO 4217)");
    }
    if (c[3] != '\0')
        return sl__fail(err, -1, "currency", "must be three upper-case letters (ISO 4217)");
    return 0;
}

static int check_amount(int64_t amount, sl_error *err)
{
    if (amount <= 0)
        return sl__fail(err, -1, "amount", "%lld is not positive; amounts are minor units > 0",
                        (long long)amount);
    return 0;
}

static int check_doc(const sl_tx *t, sl_error *err)
{
    if (t->doc_len == 0 || !t->doc)
        return sl__fail(err, -1, "doc", "is empty; a proposal carries the agreement document");
    if (t->doc_len > SL_TX_MAX_DOC)
        return sl__fail(err, -1, "doc", "is %zu bytes long; at most %d are allowed", t->doc_len,
                        SL_TX_MAX_DOC);
    return 0;
}

static int check_detail(const sl_tx_item *it, long i, int is_check, sl_error *err)
{
    if (!is_check && (it->detail || it->detail_len))
        return sl__fail(err, i, "detail", "only check transactions carry detail");
    if (it->detail_len > SL_TX_MAX_DETAIL)
        return sl__fail(err, i, "detail", "is %zu bytes long; at most %d are allowed",
                        it->detail_len, SL_TX_MAX_DETAIL);
    if (it->detail_len && !it->detail)
        return sl__fail(err, i, "detail", "has a length but no text");
    if (it->detail_len && (memchr(it->detail, '\0', it->detail_len) ||
                           !sl__utf8_valid((const uint8_t *)it->detail, it->detail_len)))
        return sl__fail(err, i, "detail", "is not UTF-8 text without NUL bytes");
    return 0;
}

static int check_item(const sl_tx_item *it, long i, int is_check, int names, sl_error *err)
{
    if (names && (sl__check_name(it->agreement, i, "agreement", err) != 0 ||
                  sl__check_name(it->objective, i, "objective", err) != 0))
        return SL_EINVAL;
    if (it->start_ms >= it->end_ms)
        return sl__fail(err, i, "end_ms", "%lld is not after start_ms %lld", (long long)it->end_ms,
                        (long long)it->start_ms);
    if (is_check && it->value != 0 && it->value != 1)
        return sl__fail(err, i, "value", "%lld is neither 1 (pass) nor 0 (fail)",
                        (long long)it->value);
    return check_detail(it, i, is_check, err);
}

static int check_items(const sl_tx *t, int names, sl_error *err)
{
    int is_check = t->type == SL_TX_CHECK;

    if (t->n_items == 0 || t->n_items > SL_TX_MAX_ITEMS || !t->items)
        return sl__fail(err, -1, "items", "has %zu items; 1 to %d are allowed", t->n_items,
                        SL_TX_MAX_ITEMS);
    for (size_t i = 0; i < t->n_items; i++) {
        if (check_item(&t->items[i], (long)i, is_check, names, err) != 0)
            return SL_EINVAL;
    }
    return 0;
}

/* The body fields t sets, as an F_* mask. */
static unsigned fields_present(const sl_tx *t)
{
    static const uint8_t zero[SL_HASH_LEN];
    unsigned f = 0;

    f |= t->doc || t->doc_len ? F_DOC : 0;
    f |= t->agreement[0] ? F_AGREEMENT : 0;
    f |= memcmp(t->doc_hash, zero, SL_HASH_LEN) != 0 ? F_DOC_HASH : 0;
    f |= t->to[0] ? F_TO : 0;
    f |= t->currency[0] ? F_CURRENCY : 0;
    f |= t->amount ? F_AMOUNT : 0;
    f |= t->items || t->n_items ? F_ITEMS : 0;
    return f;
}

/* Refuses body fields that the type does not have (a decoded body never has them). */
static int check_foreign(const sl_tx *t, sl_error *err)
{
    static const char *const names[] = {"doc",      "agreement", "doc_hash", "to",
                                        "currency", "amount",    "items"};
    unsigned extra = fields_present(t) & ~type_fields[t->type];

    if (extra == 0)
        return 0;
    return sl__fail(err, -1, names[__builtin_ctz(extra)], "is not a field of %s transactions",
                    type_names[t->type]);
}

static int check_body(const sl_tx *t, int names, sl_error *err)
{
    unsigned f = type_fields[t->type];

    if ((f & F_DOC) && check_doc(t, err) != 0)
        return SL_EINVAL;
    if (names && (f & F_AGREEMENT) && sl__check_name(t->agreement, -1, "agreement", err) != 0)
        return SL_EINVAL;
    if (names && (f & F_TO) && sl__check_name(t->to, -1, "to", err) != 0)
        return SL_EINVAL;
    if ((f & F_CURRENCY) && check_currency(t->currency, err) != 0)
        return SL_EINVAL;
    if ((f & F_AMOUNT) && check_amount(t->amount, err) != 0)
        return SL_EINVAL;
    if ((f & F_ITEMS) && check_items(t, names, err) != 0)
        return SL_EINVAL;
    return 0;
}

int sl__tx_check(const sl_tx *t, int names, sl_error *err)
{
    if (!type_known((unsigned)t->type))
        return sl__fail(err, -1, "type", "%u is not a known transaction type (1 to %d)",
                        (unsigned)t->type, SL_TX_TYPE_MAX);
    if (names && sl__check_name(t->channel, -1, "channel", err) != 0)
        return SL_EINVAL;
    if (sl__cert_check(&t->cert, names, err) != 0 || check_foreign(t, err) != 0)
        return SL_EINVAL;
    return check_body(t, names, err);
}

/* ---- encoding ---- */

static void put_item(const sl_tx_item *it, int is_check, sl_buf *out)
{
    sl_buf_put_str(out, it->agreement);
    sl_buf_put_str(out, it->objective);
    sl_buf_put_i64(out, it->start_ms);
    sl_buf_put_i64(out, it->end_ms);
    sl_buf_put_i64(out, it->value);
    if (is_check) {
        sl_buf_put_u32(out, (uint32_t)it->detail_len);
        sl_buf_put(out, it->detail, it->detail_len);
    }
}

static void put_items(const sl_tx *t, sl_buf *out)
{
    sl_buf_put_u32(out, (uint32_t)t->n_items);
    for (size_t i = 0; i < t->n_items; i++)
        put_item(&t->items[i], t->type == SL_TX_CHECK, out);
}

/* The type's body fields in the order of docs/ledger-format.md. */
static void put_body(const sl_tx *t, sl_buf *out)
{
    unsigned f = type_fields[t->type];

    if (f & F_DOC) {
        sl_buf_put_u32(out, (uint32_t)t->doc_len);
        sl_buf_put(out, t->doc, t->doc_len);
    }
    if (f & F_AGREEMENT)
        sl_buf_put_str(out, t->agreement);
    if (f & F_DOC_HASH)
        sl_buf_put(out, t->doc_hash, SL_HASH_LEN);
    if (f & F_TO)
        sl_buf_put_str(out, t->to);
    if (f & F_CURRENCY)
        sl_buf_put(out, t->currency, 3);
    if (f & F_AMOUNT)
        sl_buf_put_i64(out, t->amount);
    if (f & F_ITEMS)
        put_items(t, out);
}

/* Overwrites the u32 at out->p[at] with the length of what follows it. */
static void patch_len(sl_buf *out, size_t at)
{
    size_t n = out->len - at - 4;

    if (out->err)
        return;
    for (int k = 0; k < 4; k++)
        out->p[at + (size_t)k] = (uint8_t)(n >> (24 - 8 * k));
}

int sl__tx_encode_unsigned(const sl_tx *t, sl_buf *out)
{
    uint8_t cert[SL_CERT_MAX];
    size_t cert_len = sl__cert_encode_fixed(&t->cert, 1, cert), at;

    sl_buf_put(out, TX_MAGIC, sizeof(TX_MAGIC));
    sl_buf_put_u8(out, (uint8_t)t->type);
    sl_buf_put_str(out, t->channel);
    sl_buf_put_u64(out, t->nonce);
    sl_buf_put_i64(out, t->expires_ms);
    sl_buf_put_u32(out, (uint32_t)cert_len);
    sl_buf_put(out, cert, cert_len);
    at = out->len;
    sl_buf_put_u32(out, 0);
    put_body(t, out);
    patch_len(out, at);
    return out->err;
}

int sl_tx_sign(const sl_tx *t, const sl_key *key, sl_buf *out, sl_error *err)
{
    uint8_t pk[SL_PK_LEN], sig[SL_SIG_LEN];
    size_t start = out->len;
    int rc;

    if (out->err)
        return sl_error_set(err, out->err, NULL, "the output buffer already failed");
    rc = sl__tx_check(t, 1, err);
    if (rc != 0)
        return rc;
    sl_key_public(key, pk);
    if (memcmp(pk, t->cert.pk, SL_PK_LEN) != 0)
        return sl__fail(err, -1, "cert.public_key", "is not the public half of the signing key");
    rc = sl__tx_encode_unsigned(t, out);
    if (rc == 0) {
        sl_key_sign(key, out->p + start, out->len - start, sig);
        sl_buf_put(out, sig, SL_SIG_LEN);
        rc = out->err;
    }
    if (rc != 0) {
        /* Leave the caller's earlier content as it was. */
        out->len = start;
        return sl_error_set(err, rc, NULL, "cannot allocate the transaction's bytes");
    }
    return 0;
}

/* ---- sizes, measured by the encoder itself ---- */

size_t sl_tx_size(const sl_tx *t)
{
    sl_buf b;
    size_t n;

    if (!type_known((unsigned)t->type))
        return SIZE_MAX;
    sl_buf_init(&b);
    n = sl__tx_encode_unsigned(t, &b) == 0 ? b.len + SL_SIG_LEN : SIZE_MAX;
    sl_buf_release(&b);
    return n;
}

size_t sl_tx_item_size(sl_tx_type type, const sl_tx_item *it)
{
    sl_buf b;
    size_t n;

    sl_buf_init(&b);
    put_item(it, type == SL_TX_CHECK, &b);
    n = b.err ? SIZE_MAX : b.len;
    sl_buf_release(&b);
    return n;
}

/* ---- decoding ---- */

static void dec_cert(sl__dec *d, sl_cert *c)
{
    size_t n;
    const uint8_t *p = sl__dec_blob(d, SL_CERT_MAX, &n, "cert");
    sl__dec sub;

    if (!p)
        return;
    sl__dec_init(&sub, p, n, d->err);
    sl__dec_cert(&sub, c);
    if (sl__dec_left(&sub) != 0)
        sl__dec_trailing(&sub, "cert");
    d->rc = sub.rc;
}

static void dec_item(sl__dec *d, sl_tx_item *it, int is_check)
{
    sl__dec_name(d, it->agreement, "agreement");
    sl__dec_name(d, it->objective, "objective");
    it->start_ms = sl__dec_i64(d, "start_ms");
    it->end_ms = sl__dec_i64(d, "end_ms");
    it->value = sl__dec_i64(d, "value");
    it->detail = NULL;
    it->detail_len = 0;
    if (is_check)
        it->detail = (const char *)sl__dec_blob(d, SL_TX_MAX_DETAIL, &it->detail_len, "detail");
}

static void dec_items(sl__dec *d, sl_tx *t)
{
    int is_check = t->type == SL_TX_CHECK;
    size_t min = ITEM_MIN_BYTES + (is_check ? 4 : 0);
    uint32_t n = sl__dec_u32(d, "items");

    if (d->rc)
        return;
    if (n == 0 || n > SL_TX_MAX_ITEMS) {
        d->rc = sl__fail(d->err, -1, "items", "has %lu items; 1 to %d are allowed",
                         (unsigned long)n, SL_TX_MAX_ITEMS);
        return;
    }
    /* Refuse a count the remaining bytes cannot hold before allocating for it. */
    if (n > sl__dec_left(d) / min) {
        d->rc = sl__fail(d->err, -1, "items", "claims %lu items but only %zu bytes follow",
                         (unsigned long)n, sl__dec_left(d));
        return;
    }
    t->items = malloc(n * sizeof(*t->items));
    if (!t->items) {
        d->rc =
            sl_error_set(d->err, SL_ENOMEM, "items", "cannot allocate %lu items", (unsigned long)n);
        return;
    }
    t->n_items = n;
    for (uint32_t i = 0; i < n && !d->rc; i++) {
        d->item = (long)i;
        dec_item(d, &t->items[i], is_check);
    }
    d->item = -1;
}

static void dec_fields(sl__dec *d, sl_tx *t)
{
    unsigned f = type_fields[t->type];
    const uint8_t *p;

    if (f & F_DOC)
        t->doc = sl__dec_blob(d, SL_TX_MAX_DOC, &t->doc_len, "doc");
    if (f & F_AGREEMENT)
        sl__dec_name(d, t->agreement, "agreement");
    if ((f & F_DOC_HASH) && (p = sl__dec_bytes(d, SL_HASH_LEN, "doc_hash")))
        memcpy(t->doc_hash, p, SL_HASH_LEN);
    if (f & F_TO)
        sl__dec_name(d, t->to, "to");
    if ((f & F_CURRENCY) && (p = sl__dec_bytes(d, 3, "currency")))
        memcpy(t->currency, p, 3);
    if (f & F_AMOUNT)
        t->amount = sl__dec_i64(d, "amount");
    if (f & F_ITEMS)
        dec_items(d, t);
}

static void dec_body(sl__dec *d, sl_tx *t)
{
    size_t n;
    /* No limit of its own: a length beyond the input reads as truncation. */
    const uint8_t *p = sl__dec_blob(d, UINT32_MAX, &n, "body");
    sl__dec sub;

    if (!p)
        return;
    sl__dec_init(&sub, p, n, d->err);
    dec_fields(&sub, t);
    if (!sub.rc && sl__dec_left(&sub) != 0)
        sub.rc = sl__fail(d->err, -1, "body",
                          "has %zu bytes after the fields of a %s transaction (fields of "
                          "another type?)",
                          sl__dec_left(&sub), type_names[t->type]);
    d->rc = sub.rc;
}

/* Reads the whole transaction, checking names as it goes; the other field checks follow in
 * sl__tx_check. */
static void dec_tx(sl__dec *d, sl_tx_decoded *dd)
{
    sl_tx *t = &dd->tx;
    const uint8_t *magic = sl__dec_bytes(d, sizeof(TX_MAGIC), "magic");
    unsigned type;

    if (magic && memcmp(magic, TX_MAGIC, sizeof(TX_MAGIC)) != 0)
        d->rc = sl__fail(d->err, -1, "magic", "is not \"SLT1\": not a slaledger transaction");
    type = sl__dec_u8(d, "type");
    if (!d->rc && !type_known(type))
        d->rc = sl__fail(d->err, -1, "type", "%u is not a known transaction type (1 to %d)", type,
                         SL_TX_TYPE_MAX);
    if (d->rc)
        return;
    t->type = (sl_tx_type)type;
    sl__dec_name(d, t->channel, "channel");
    t->nonce = sl__dec_u64(d, "nonce");
    t->expires_ms = sl__dec_i64(d, "expires_ms");
    dec_cert(d, &t->cert);
    dec_body(d, t);
    dd->signed_len = d->r.at;
    sl__dec_bytes(d, SL_SIG_LEN, "signature");
    if (sl__dec_left(d) != 0)
        sl__dec_trailing(d, "signature");
}

int sl_tx_decode(const uint8_t *p, size_t len, size_t max_len, sl_tx_decoded **out, sl_error *err)
{
    sl_tx_decoded *dd = NULL;
    sl__dec d;
    int rc;

    *out = NULL;
    if (len > max_len)
        return sl__fail(err, -1, "transaction", "is %zu bytes long; at most %zu are allowed", len,
                        max_len);
    if (len > SIZE_MAX - sizeof(*dd) || !(dd = malloc(sizeof(*dd) + len)))
        return sl_error_set(err, SL_ENOMEM, "transaction", "cannot allocate %zu bytes", len);
    /* Zero the struct only: the bytes are overwritten by the copy. */
    memset(dd, 0, sizeof(*dd));
    dd->bytes = (uint8_t *)(dd + 1);
    dd->len = len;
    if (len)
        memcpy(dd->bytes, p, len);
    sl__dec_init(&d, dd->bytes, len, err);
    dec_tx(&d, dd);
    rc = d.rc ? d.rc : sl__tx_check(&dd->tx, 0, err);
    if (rc != 0) {
        sl_tx_free(dd);
        return rc;
    }
    sl_sha256(dd->bytes, len, dd->id);
    *out = dd;
    return 0;
}

int sl_tx_verify_signature(const sl_tx_decoded *d)
{
    return sl_sig_verify(d->tx.cert.pk, d->bytes, d->signed_len, d->bytes + d->signed_len);
}

void sl_tx_free(sl_tx_decoded *d)
{
    if (!d)
        return;
    free(d->tx.items);
    free(d);
}

/* ---- JSON ---- */

/* Sets o[key] = v, remembering a failure (v NULL or no memory) in *bad. */
static void jset(json_t *o, const char *key, json_t *v, int *bad)
{
    if (json_object_set_new(o, key, v) != 0)
        *bad = 1;
}

static json_t *jhex(const uint8_t *p, size_t n)
{
    char hex[2 * SL_SIG_LEN + 1];

    if (n > SL_SIG_LEN)
        return NULL;
    sl_hex(p, n, hex);
    return json_string(hex);
}

static json_t *jsigner(const sl_cert *c)
{
    const char *role = sl_role_name(c->role);

    return json_pack("{s:s, s:s, s:o, s:o}", "subject", c->subject, "org", c->org, "role",
                     role ? json_string(role) : json_null(), "public_key", jhex(c->pk, SL_PK_LEN));
}

/* The document as text when it is UTF-8 without NUL, else base64; and its SHA-256. */
static void jdoc(json_t *o, const sl_tx *t, int *bad)
{
    uint8_t h[SL_HASH_LEN];

    sl_sha256(t->doc, t->doc_len, h);
    jset(o, "doc_hash", jhex(h, SL_HASH_LEN), bad);
    if (!memchr(t->doc, '\0', t->doc_len) && sl__utf8_valid(t->doc, t->doc_len)) {
        jset(o, "doc", json_stringn((const char *)t->doc, t->doc_len), bad);
        return;
    }
    size_t cap = sodium_base64_ENCODED_LEN(t->doc_len, sodium_base64_VARIANT_ORIGINAL);
    char *b64 = malloc(cap);
    if (b64)
        sodium_bin2base64(b64, cap, t->doc, t->doc_len, sodium_base64_VARIANT_ORIGINAL);
    jset(o, "doc_base64", b64 ? json_string(b64) : NULL, bad);
    free(b64);
}

static json_t *jitem(const sl_tx_item *it, int is_check)
{
    json_t *o = json_pack("{s:s, s:s, s:I, s:I, s:I}", "agreement", it->agreement, "objective",
                          it->objective, "start_ms", (json_int_t)it->start_ms, "end_ms",
                          (json_int_t)it->end_ms, "value", (json_int_t)it->value);
    int bad = !o;

    if (o && is_check)
        jset(o, "detail", json_stringn(it->detail ? it->detail : "", it->detail_len), &bad);
    if (bad) {
        json_decref(o);
        return NULL;
    }
    return o;
}

static void jitems(json_t *o, const sl_tx *t, int *bad)
{
    json_t *a = json_array();

    for (size_t i = 0; a && i < t->n_items && !*bad; i++) {
        if (json_array_append_new(a, jitem(&t->items[i], t->type == SL_TX_CHECK)) != 0)
            *bad = 1;
    }
    jset(o, "items", a, bad);
}

static void jbody(json_t *o, const sl_tx *t, int *bad)
{
    unsigned f = type_fields[t->type];
    char cur[4];

    if (f & F_DOC)
        jdoc(o, t, bad);
    if (f & F_AGREEMENT)
        jset(o, "agreement", json_string(t->agreement), bad);
    if (f & F_DOC_HASH)
        jset(o, "doc_hash", jhex(t->doc_hash, SL_HASH_LEN), bad);
    if (f & F_TO)
        jset(o, "to", json_string(t->to), bad);
    if (f & F_CURRENCY) {
        memcpy(cur, t->currency, 3);
        cur[3] = '\0';
        jset(o, "currency", json_string(cur), bad);
    }
    if (f & F_AMOUNT)
        jset(o, "amount", json_integer(t->amount), bad);
    if (f & F_ITEMS)
        jitems(o, t, bad);
}

static int dump_cb(const char *buffer, size_t size, void *data)
{
    sl_buf *out = data;

    sl_buf_put(out, buffer, size);
    return out->err ? -1 : 0;
}

int sl_tx_to_json(const sl_tx_decoded *d, sl_buf *out)
{
    const sl_tx *t = &d->tx;
    char nonce[24], expires[32];
    size_t start = out->len;
    json_t *o;
    int bad;

    if (out->err)
        return out->err;
    o = json_object();
    bad = !o;
    snprintf(nonce, sizeof(nonce), "%llu", (unsigned long long)t->nonce);
    jset(o, "id", jhex(d->id, SL_HASH_LEN), &bad);
    jset(o, "type", json_string(type_names[t->type]), &bad);
    jset(o, "channel", json_string(t->channel), &bad);
    jset(o, "nonce", json_string(nonce), &bad);
    jset(o, "expires_ms", json_integer(t->expires_ms), &bad);
    if (sl_time_format(t->expires_ms, expires, sizeof(expires)) > 0)
        jset(o, "expires", json_string(expires), &bad);
    jset(o, "signer", jsigner(&t->cert), &bad);
    jset(o, "size", json_integer((json_int_t)d->len), &bad);
    jbody(o, t, &bad);
    if (!bad && json_dump_callback(o, dump_cb, out, JSON_COMPACT) != 0)
        bad = 1;
    json_decref(o);
    if (bad) {
        out->len = start; /* no half-written document */
        return out->err ? out->err : SL_ENOMEM;
    }
    return 0;
}
