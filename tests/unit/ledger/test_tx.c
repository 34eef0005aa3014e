/*
 * test_tx.c: transactions of src/ledger/tx.c: sign/decode round trips of every type with
 * canonical re-encoding, the byte layout as a known answer, tampering with any byte of the
 * signed part, every refusal of the decoder and of sl_tx_sign (each naming its field), the
 * item limits, type names and roles, and the JSON rendering.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "ledger/ident_int.h"
#include "slaledger/ident.h"
#include "slaledger/sla.h"
#include "slaledger/tx.h"

#define NB      1767225600000LL /* 2026-01-01T00:00:00Z */
#define NA      1798761600000LL /* 2027-01-01T00:00:00Z */
#define EXPIRES 1780000000000LL /* 2026-05-28T20:26:40Z */
#define MAX_LEN (16u << 20)

static const uint8_t root_seed[32] = {0x10, 0x20, 0x30};
static const uint8_t member_seed[32] = {0x11, 0x21, 0x31};
static const uint8_t other_seed[32] = {0x12, 0x22, 0x32};

static sl_key *member, *other;
static sl_cert cert;

static int setup(void **state)
{
    sl_key *root = NULL;
    (void)state;
    if (sl_key_from_seed(root_seed, &root) || sl_key_from_seed(member_seed, &member) ||
        sl_key_from_seed(other_seed, &other))
        return -1;
    memset(&cert, 0, sizeof(cert));
    snprintf(cert.subject, sizeof(cert.subject), "ops");
    snprintf(cert.org, sizeof(cert.org), "univie");
    cert.role = SL_ROLE_CONSUMER;
    sl_key_public(member, cert.pk);
    cert.not_before_ms = NB;
    cert.not_after_ms = NA;
    sl_cert_sign(&cert, root);
    sl_key_free(root);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    sl_key_free(member);
    sl_key_free(other);
    return 0;
}

/* ---- builders ---- */

static const char doc_text[] = "apiVersion: slaledger/v1\nkind: Agreement\n";
static sl_tx_item report_items[3];
static sl_tx_item check_items[2];

static sl_tx base(sl_tx_type type)
{
    sl_tx t;
    memset(&t, 0, sizeof(t));
    t.type = type;
    snprintf(t.channel, sizeof(t.channel), "univie-aws");
    t.nonce = 42;
    t.expires_ms = EXPIRES;
    t.cert = cert;
    return t;
}

static void item(sl_tx_item *it, const char *agreement, const char *objective, int64_t start,
                 int64_t value, const char *detail)
{
    memset(it, 0, sizeof(*it));
    snprintf(it->agreement, sizeof(it->agreement), "%s", agreement);
    snprintf(it->objective, sizeof(it->objective), "%s", objective);
    it->start_ms = start;
    it->end_ms = start + 60000;
    it->value = value;
    it->detail = detail;
    it->detail_len = detail ? strlen(detail) : 0;
}

static sl_tx build(sl_tx_type type)
{
    sl_tx t = base(type);
    switch (type) {
    case SL_TX_PROPOSE:
        t.doc = (const uint8_t *)doc_text;
        t.doc_len = strlen(doc_text);
        break;
    case SL_TX_ACCEPT:
        snprintf(t.agreement, sizeof(t.agreement), "vm-web-01");
        sl_sha256(doc_text, strlen(doc_text), t.doc_hash);
        break;
    case SL_TX_REJECT:
        snprintf(t.agreement, sizeof(t.agreement), "vm-web-01");
        break;
    case SL_TX_DEPOSIT:
        snprintf(t.agreement, sizeof(t.agreement), "vm-web-01");
        t.amount = 100000;
        break;
    case SL_TX_WITHDRAW:
        memcpy(t.currency, "EUR", 4);
        t.amount = 2500;
        break;
    case SL_TX_ISSUE:
        snprintf(t.to, sizeof(t.to), "univie");
        memcpy(t.currency, "EUR", 4);
        t.amount = 1000000;
        break;
    case SL_TX_REPORT:
        item(&report_items[0], "vm-web-01", "uptime", NB, 1, NULL);
        item(&report_items[1], "vm-web-01", "latency", NB, 250, NULL);
        item(&report_items[2], "vm-web-02", "uptime", NB + 60000, -7, NULL);
        t.items = report_items;
        t.n_items = 3;
        break;
    case SL_TX_CHECK:
        item(&check_items[0], "db-01", "durability", NB, 1, "canary row 17 present");
        item(&check_items[1], "db-01", "integrity", NB, 0, "");
        check_items[1].detail = NULL;
        t.items = check_items;
        t.n_items = 2;
        break;
    case SL_TX_TIME:
        break;
    }
    return t;
}

/* Encodes t without checks (for malformed transactions) and appends a zero signature. */
static void raw(const sl_tx *t, sl_buf *b)
{
    static const uint8_t zero_sig[SL_SIG_LEN];
    sl_buf_reset(b);
    assert_int_equal(sl__tx_encode_unsigned(t, b), 0);
    sl_buf_put(b, zero_sig, sizeof(zero_sig));
}

static sl_tx_decoded *sign_decode(const sl_tx *t, sl_buf *b)
{
    sl_tx_decoded *d = NULL;
    sl_error err;
    sl_buf_reset(b);
    if (sl_tx_sign(t, member, b, &err) != 0)
        fail_msg("sign: %s: %s", err.field, err.msg);
    if (sl_tx_decode(b->p, b->len, MAX_LEN, &d, &err) != 0)
        fail_msg("decode: %s: %s", err.field, err.msg);
    return d;
}

/* ---- round trips ---- */

static void assert_items_equal(const sl_tx *a, const sl_tx *b)
{
    assert_int_equal(a->n_items, b->n_items);
    for (size_t i = 0; i < a->n_items; i++) {
        const sl_tx_item *x = &a->items[i], *y = &b->items[i];
        assert_string_equal(x->agreement, y->agreement);
        assert_string_equal(x->objective, y->objective);
        assert_int_equal(x->start_ms, y->start_ms);
        assert_int_equal(x->end_ms, y->end_ms);
        assert_int_equal(x->value, y->value);
        assert_int_equal(x->detail_len, y->detail_len);
        if (x->detail_len)
            assert_memory_equal(x->detail, y->detail, x->detail_len);
    }
}

static void assert_tx_equal(const sl_tx *a, const sl_tx *b)
{
    assert_int_equal(a->type, b->type);
    assert_string_equal(a->channel, b->channel);
    assert_int_equal(a->nonce, b->nonce);
    assert_int_equal(a->expires_ms, b->expires_ms);
    assert_memory_equal(&a->cert, &b->cert, sizeof(a->cert));
    assert_int_equal(a->doc_len, b->doc_len);
    if (a->doc_len)
        assert_memory_equal(a->doc, b->doc, a->doc_len);
    assert_string_equal(a->agreement, b->agreement);
    assert_memory_equal(a->doc_hash, b->doc_hash, SL_HASH_LEN);
    assert_string_equal(a->to, b->to);
    assert_memory_equal(a->currency, b->currency, 4);
    assert_int_equal(a->amount, b->amount);
    assert_items_equal(a, b);
}

static void test_roundtrip_all_types(void **state)
{
    sl_buf b, again;
    (void)state;

    sl_buf_init(&b);
    sl_buf_init(&again);
    for (int type = 1; type <= SL_TX_TYPE_MAX; type++) {
        sl_tx t = build((sl_tx_type)type);
        sl_tx_decoded *d = sign_decode(&t, &b);
        uint8_t id[SL_HASH_LEN];

        assert_tx_equal(&t, &d->tx);
        assert_int_equal(d->len, b.len);
        assert_memory_equal(d->bytes, b.p, b.len);
        assert_int_equal(d->signed_len, b.len - SL_SIG_LEN);
        sl_sha256(b.p, b.len, id);
        assert_memory_equal(d->id, id, SL_HASH_LEN);
        assert_int_equal(sl_tx_verify_signature(d), 0);
        /* Decoding is canonical: re-encoding gives back exactly the signed bytes. */
        sl_buf_reset(&again);
        assert_int_equal(sl__tx_encode_unsigned(&d->tx, &again), 0);
        assert_int_equal(again.len, d->signed_len);
        assert_memory_equal(again.p, d->bytes, d->signed_len);
        /* Borrowed pointers point into the decoded copy, not the caller's buffer. */
        if (d->tx.doc_len)
            assert_true(d->tx.doc > d->bytes && d->tx.doc < d->bytes + d->len);
        sl_tx_free(d);
    }
    sl_tx_free(NULL);
    sl_buf_release(&b);
    sl_buf_release(&again);
}

static void test_sign_appends(void **state)
{
    sl_tx t = build(SL_TX_TIME);
    sl_tx_decoded *d = NULL;
    sl_error err;
    sl_buf b;
    (void)state;

    sl_buf_init(&b);
    sl_buf_put(&b, "prefix", 6);
    assert_int_equal(sl_tx_sign(&t, member, &b, &err), 0);
    assert_memory_equal(b.p, "prefix", 6);
    assert_int_equal(sl_tx_decode(b.p + 6, b.len - 6, MAX_LEN, &d, &err), 0);
    assert_int_equal(sl_tx_verify_signature(d), 0);
    sl_tx_free(d);
    sl_buf_release(&b);
}

/* sl_tx_size is what sl_tx_sign writes, for every type; a report's or check's is its
 * envelope (no items) plus sl_tx_item_size of each item, long names and details too. */
static void test_sizes_match_the_encoding(void **state)
{
    static char detail[SL_TX_MAX_DETAIL];
    sl_buf b;
    (void)state;

    sl_buf_init(&b);
    for (int type = 1; type <= SL_TX_TYPE_MAX; type++) {
        sl_tx t = build((sl_tx_type)type);
        sl_tx_decoded *d = sign_decode(&t, &b);
        assert_int_equal(sl_tx_size(&t), b.len);
        sl_tx_free(d);
    }
    memset(detail, 'x', sizeof(detail));
    sl_tx_item long_items[2];
    char name[SL_NAME_MAX + 1];
    memset(name, 'a', SL_NAME_MAX);
    name[SL_NAME_MAX] = 0;
    item(&long_items[0], name, name, NB, 1, NULL);
    item(&long_items[1], "a", "b", NB, 0, NULL);
    for (int type = SL_TX_REPORT; type <= SL_TX_CHECK; type++) {
        sl_tx t = build((sl_tx_type)type);
        sl_tx_item *items[] = {t.items, long_items};
        size_t counts[] = {t.n_items, 2};
        for (int k = 0; k < 2; k++) {
            long_items[0].detail = type == SL_TX_CHECK ? detail : NULL;
            long_items[0].detail_len = type == SL_TX_CHECK ? sizeof(detail) : 0;
            t.items = items[k];
            t.n_items = counts[k];
            sl_tx_decoded *d = sign_decode(&t, &b);
            size_t want = b.len;
            sl_tx_free(d);
            assert_int_equal(sl_tx_size(&t), want);
            size_t sum = 0;
            for (size_t i = 0; i < t.n_items; i++)
                sum += sl_tx_item_size((sl_tx_type)type, &t.items[i]);
            t.items = NULL;
            t.n_items = 0;
            assert_int_equal(sl_tx_size(&t) + sum, want);
        }
    }
    sl_tx bad = build(SL_TX_TIME);
    bad.type = (sl_tx_type)0;
    assert_int_equal(sl_tx_size(&bad), SIZE_MAX);
    sl_buf_release(&b);
}

/* ---- the layout ---- */

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint64_t be64(const uint8_t *p)
{
    return (uint64_t)be32(p) << 32 | be32(p + 4);
}

static void test_layout_known_answer(void **state)
{
    sl_tx t = build(SL_TX_DEPOSIT);
    sl_buf b, c;
    const uint8_t *p;
    size_t cert_len;
    (void)state;

    sl_buf_init(&b);
    sl_buf_init(&c);
    sl_tx_decoded *d = sign_decode(&t, &b);
    sl_tx_free(d);
    p = b.p;
    /* The example of docs/ledger-format.md, "Transactions". */
    char hex[2 * 39 + 1];
    sl_hex(p, 39, hex);
    assert_string_equal(hex, "534c5431"
                             "04"
                             "0000000a756e697669652d617773"
                             "000000000000002a"
                             "0000019e70448800"
                             "00000086");
    sl_hex(p + b.len - SL_SIG_LEN - 25, 25, hex);
    assert_string_equal(hex, "00000015"
                             "00000009766d2d7765622d3031"
                             "00000000000186a0");
    assert_int_equal(b.len, 262);
    assert_memory_equal(p, "SLT1", 4);
    assert_int_equal(p[4], SL_TX_DEPOSIT);
    assert_int_equal(be32(p + 5), 10);
    assert_memory_equal(p + 9, "univie-aws", 10);
    assert_int_equal(be64(p + 19), 42);
    assert_int_equal((int64_t)be64(p + 27), EXPIRES);
    cert_len = be32(p + 35);
    sl_cert_encode(&cert, 1, &c);
    assert_int_equal(cert_len, c.len);
    assert_memory_equal(p + 39, c.p, c.len);
    p += 39 + cert_len;
    /* Body: agreement (u32 + 9 bytes) then the amount. */
    assert_int_equal(be32(p), 4 + 9 + 8);
    assert_int_equal(be32(p + 4), 9);
    assert_memory_equal(p + 8, "vm-web-01", 9);
    assert_int_equal(be64(p + 17), 100000);
    p += 4 + 21;
    assert_int_equal((size_t)(p - b.p) + SL_SIG_LEN, b.len);
    assert_int_equal(sl_sig_verify(cert.pk, b.p, (size_t)(p - b.p), p), 0);
    sl_buf_release(&b);
    sl_buf_release(&c);
}

/* ---- signatures ---- */

/* Flips one bit of every byte in turn: no variant may both decode and verify. */
static void tamper_all(sl_tx_type type)
{
    sl_tx t = build(type);
    sl_tx_decoded *d;
    size_t decoded = 0;
    sl_error err;
    sl_buf b;

    sl_buf_init(&b);
    d = sign_decode(&t, &b);
    sl_tx_free(d);
    for (size_t i = 0; i < b.len; i++) {
        uint8_t bit = (uint8_t)(1u << (i % 8));
        b.p[i] ^= bit;
        d = NULL;
        if (sl_tx_decode(b.p, b.len, MAX_LEN, &d, &err) == 0) {
            decoded++;
            assert_int_equal(sl_tx_verify_signature(d), SL_EAUTH);
            sl_tx_free(d);
        } else {
            assert_null(d);
        }
        b.p[i] ^= bit;
    }
    /* Most flips (nonce, times, keys, signature, values) still decode: the test bites. */
    assert_true(decoded > b.len / 2);
    sl_buf_release(&b);
}

static void test_tamper_every_byte(void **state)
{
    (void)state;
    tamper_all(SL_TX_DEPOSIT);
    tamper_all(SL_TX_REPORT);
    tamper_all(SL_TX_CHECK);
    tamper_all(SL_TX_PROPOSE);
}

static void test_wrong_signer(void **state)
{
    sl_tx t = build(SL_TX_REJECT);
    sl_tx_decoded *d = NULL;
    uint8_t sig[SL_SIG_LEN];
    sl_error err;
    sl_buf b;
    (void)state;

    sl_buf_init(&b);
    assert_int_equal(sl_tx_sign(&t, other, &b, &err), SL_EINVAL);
    assert_string_equal(err.field, "cert.public_key");
    assert_int_equal(b.len, 0);
    /* A transaction signed by another key over the same bytes fails verification. */
    d = sign_decode(&t, &b);
    sl_tx_free(d);
    sl_key_sign(other, b.p, b.len - SL_SIG_LEN, sig);
    memcpy(b.p + b.len - SL_SIG_LEN, sig, SL_SIG_LEN);
    assert_int_equal(sl_tx_decode(b.p, b.len, MAX_LEN, &d, &err), 0);
    assert_int_equal(sl_tx_verify_signature(d), SL_EAUTH);
    sl_tx_free(d);
    sl_buf_release(&b);
}

/* ---- decoder refusals ---- */

static void expect_bytes(const uint8_t *p, size_t len, const char *field, const char *msg_part)
{
    sl_tx_decoded *d = (sl_tx_decoded *)&d;
    sl_error err;

    memset(&err, 0, sizeof(err));
    int rc = sl_tx_decode(p, len, MAX_LEN, &d, &err);
    if (rc != SL_EINVAL)
        fail_msg("expected refusal at %s, got %d", field, rc);
    assert_null(d);
    assert_int_equal(err.code, SL_EINVAL);
    if (strcmp(err.field, field) != 0)
        fail_msg("expected field %s, got %s (%s)", field, err.field, err.msg);
    if (msg_part && !strstr(err.msg, msg_part))
        fail_msg("message \"%s\" lacks \"%s\"", err.msg, msg_part);
}

static void expect_decode_refusal(const sl_tx *t, const char *field, const char *msg_part)
{
    sl_buf b;
    sl_buf_init(&b);
    raw(t, &b);
    expect_bytes(b.p, b.len, field, msg_part);
    sl_buf_release(&b);
}

static void test_decode_refuses_fields(void **state)
{
    sl_tx t;
    (void)state;

    t = build(SL_TX_TIME);
    snprintf(t.channel, sizeof(t.channel), "Univie");
    expect_decode_refusal(&t, "channel", "not a valid name");
    t = build(SL_TX_TIME);
    t.channel[0] = '\0';
    expect_decode_refusal(&t, "channel", "empty");
    t = build(SL_TX_WITHDRAW);
    memcpy(t.currency, "eur", 4);
    expect_decode_refusal(&t, "currency", "upper-case");
    t = build(SL_TX_ISSUE);
    memcpy(t.currency, "E1R", 4);
    expect_decode_refusal(&t, "currency", "upper-case");
    t = build(SL_TX_DEPOSIT);
    t.amount = 0;
    expect_decode_refusal(&t, "amount", "not positive");
    t = build(SL_TX_WITHDRAW);
    t.amount = -5;
    expect_decode_refusal(&t, "amount", "not positive");
    t = build(SL_TX_ISSUE);
    snprintf(t.to, sizeof(t.to), "x y");
    expect_decode_refusal(&t, "to", NULL);
    t = build(SL_TX_REJECT);
    snprintf(t.agreement, sizeof(t.agreement), ".dot");
    expect_decode_refusal(&t, "agreement", NULL);
    t = build(SL_TX_PROPOSE);
    t.doc_len = 0;
    expect_decode_refusal(&t, "doc", "empty");
    t = build(SL_TX_TIME);
    t.cert.role = 0;
    expect_decode_refusal(&t, "cert.role", NULL);
    t = build(SL_TX_TIME);
    t.cert.not_after_ms = t.cert.not_before_ms;
    expect_decode_refusal(&t, "cert.not_after", NULL);
}

static void test_decode_refuses_items(void **state)
{
    sl_tx t;
    sl_tx_item its[2];
    static char big_detail[SL_TX_MAX_DETAIL + 2];
    (void)state;

    t = build(SL_TX_REPORT);
    memcpy(its, report_items, sizeof(its));
    t.items = its;
    t.n_items = 2;
    its[0].end_ms = its[0].start_ms;
    expect_decode_refusal(&t, "items[0].end_ms", "not after start_ms");
    its[0].end_ms = its[0].start_ms - 1;
    expect_decode_refusal(&t, "items[0].end_ms", NULL);
    memcpy(its, report_items, sizeof(its));
    snprintf(its[1].objective, sizeof(its[1].objective), "UPTIME");
    expect_decode_refusal(&t, "items[1].objective", "not a valid name");
    memcpy(its, report_items, sizeof(its));
    its[1].agreement[0] = '\0';
    expect_decode_refusal(&t, "items[1].agreement", "empty");

    t = build(SL_TX_CHECK);
    memcpy(its, check_items, sizeof(its));
    t.items = its;
    its[0].value = 2;
    expect_decode_refusal(&t, "items[0].value", "pass");
    its[0].value = 1;
    its[1].detail = "\xc3\x28"; /* a lead byte without its continuation */
    its[1].detail_len = 2;
    expect_decode_refusal(&t, "items[1].detail", "UTF-8");
    its[1].detail = "\xc0\xaf"; /* overlong '/' */
    expect_decode_refusal(&t, "items[1].detail", "UTF-8");
    its[1].detail = "\xed\xa0\x80"; /* a surrogate */
    its[1].detail_len = 3;
    expect_decode_refusal(&t, "items[1].detail", "UTF-8");
    its[1].detail = "\xf4\x90\x80\x80"; /* above U+10FFFF */
    its[1].detail_len = 4;
    expect_decode_refusal(&t, "items[1].detail", "UTF-8");
    its[1].detail = "a\0b";
    its[1].detail_len = 3;
    expect_decode_refusal(&t, "items[1].detail", "NUL");
    memset(big_detail, 'x', SL_TX_MAX_DETAIL + 1);
    its[1].detail = big_detail;
    its[1].detail_len = SL_TX_MAX_DETAIL + 1;
    expect_decode_refusal(&t, "items[1].detail", "at most 1024");
    /* Exactly the limit, in multi-byte UTF-8, is fine. */
    for (size_t i = 0; i + 1 < SL_TX_MAX_DETAIL; i += 2)
        memcpy(big_detail + i, "\xc3\xa9", 2);
    its[1].detail_len = SL_TX_MAX_DETAIL;
    sl_buf b;
    sl_buf_init(&b);
    sl_tx_decoded *d = sign_decode(&t, &b);
    assert_int_equal(d->tx.items[1].detail_len, SL_TX_MAX_DETAIL);
    sl_tx_free(d);
    sl_buf_release(&b);
}

static void test_decode_refuses_sizes(void **state)
{
    sl_tx t;
    sl_buf b;
    uint8_t *big;
    (void)state;

    sl_buf_init(&b);
    big = malloc(SL_TX_MAX_DOC + 1);
    assert_non_null(big);
    memset(big, 'a', SL_TX_MAX_DOC + 1);
    t = build(SL_TX_PROPOSE);
    t.doc = big;
    t.doc_len = SL_TX_MAX_DOC + 1;
    expect_decode_refusal(&t, "doc", "at most 262144");
    t.doc_len = SL_TX_MAX_DOC;
    sl_tx_free(sign_decode(&t, &b));
    free(big);

    /* Item counts: none, more than the limit, more than the bytes can hold. */
    t = build(SL_TX_REPORT);
    raw(&t, &b);
    size_t count_at;
    for (count_at = 0; count_at + 4 <= b.len; count_at++) {
        if (be32(b.p + count_at) == 3 && be32(b.p + count_at + 4) == 9)
            break;
    }
    assert_true(count_at + 4 < b.len);
    memcpy(b.p + count_at, "\0\0\0\0", 4);
    expect_bytes(b.p, b.len, "items", "1 to 65536");
    memcpy(b.p + count_at, "\x00\x01\x00\x01", 4);
    expect_bytes(b.p, b.len, "items", "1 to 65536");
    memcpy(b.p + count_at, "\x00\x00\x03\xe8", 4);
    expect_bytes(b.p, b.len, "items", "only");
    memcpy(b.p + count_at, "\x00\x00\x00\x04", 4);
    expect_bytes(b.p, b.len, "items[3].agreement", "truncated");
    memcpy(b.p + count_at, "\x00\x00\x00\x02", 4);
    expect_bytes(b.p, b.len, "body", "another type");

    /* The caller's size limit. */
    t = build(SL_TX_TIME);
    raw(&t, &b);
    sl_tx_decoded *d = (sl_tx_decoded *)&d;
    sl_error err;
    assert_int_equal(sl_tx_decode(b.p, b.len, b.len - 1, &d, &err), SL_EINVAL);
    assert_null(d);
    assert_string_equal(err.field, "transaction");
    assert_int_equal(sl_tx_decode(b.p, b.len, b.len, &d, &err), 0);
    sl_tx_free(d);
    sl_buf_release(&b);
}

static void test_decode_refuses_structure(void **state)
{
    sl_tx t = build(SL_TX_DEPOSIT);
    sl_tx_decoded *d;
    sl_error err;
    sl_buf b;
    uint8_t *copy;
    (void)state;

    sl_buf_init(&b);
    d = sign_decode(&t, &b);
    sl_tx_free(d);
    /* Every proper prefix. */
    for (size_t n = 0; n < b.len; n++) {
        d = (sl_tx_decoded *)&d;
        assert_int_equal(sl_tx_decode(b.p, n, MAX_LEN, &d, &err), SL_EINVAL);
        assert_null(d);
        assert_non_null(strstr(err.msg, "truncated"));
    }
    assert_int_equal(sl_tx_decode(NULL, 0, MAX_LEN, &d, &err), SL_EINVAL);
    assert_string_equal(err.field, "magic");
    /* Trailing bytes after the signature. */
    copy = malloc(b.len + 3);
    assert_non_null(copy);
    memcpy(copy, b.p, b.len);
    memset(copy + b.len, 0, 3);
    expect_bytes(copy, b.len + 3, "signature", "3 unexpected byte");
    /* Magic and type. */
    copy[0] = 'X';
    expect_bytes(copy, b.len, "magic", "SLT1");
    copy[0] = 'S';
    copy[4] = 0;
    expect_bytes(copy, b.len, "type", "not a known");
    copy[4] = SL_TX_TYPE_MAX + 1;
    expect_bytes(copy, b.len, "type", "not a known");
    copy[4] = 0xff;
    expect_bytes(copy, b.len, "type", "not a known");
    /* A deposit's body under other types: extra fields, or missing ones. */
    copy[4] = SL_TX_REJECT;
    expect_bytes(copy, b.len, "body", "fields of another type");
    copy[4] = SL_TX_TIME;
    expect_bytes(copy, b.len, "body", "fields of another type");
    copy[4] = SL_TX_ISSUE; /* to = the agreement, currency = 3 bytes of the amount */
    expect_bytes(copy, b.len, "amount", "truncated");
    free(copy);

    /* A reject's body under the deposit type lacks the amount. */
    t = build(SL_TX_REJECT);
    raw(&t, &b);
    b.p[4] = SL_TX_DEPOSIT;
    expect_bytes(b.p, b.len, "amount", "truncated");
    /* A report's items under the check type: item 0 takes item 1's agreement as its detail,
     * and item 1 then reads a start time's high bytes (411) as a name length. */
    t = build(SL_TX_REPORT);
    raw(&t, &b);
    b.p[4] = SL_TX_CHECK;
    expect_bytes(b.p, b.len, "items[1].objective", "411 bytes");
    sl_buf_release(&b);
}

static void test_decode_refuses_cert_blob(void **state)
{
    sl_tx t = build(SL_TX_TIME);
    sl_buf b;
    (void)state;

    sl_buf_init(&b);
    raw(&t, &b);
    /* The certificate blob's length field sits at offset 35 (see the layout test). */
    b.p[35 + 4 + 3] ^= 0x08; /* magic SLC1 -> SLC9 */
    expect_bytes(b.p, b.len, "cert", "SLC1");
    b.p[35 + 4 + 3] ^= 0x08;
    b.p[38] = (uint8_t)(b.p[38] + 1); /* cert blob one byte longer: eats the body length */
    expect_bytes(b.p, b.len, "cert", "unexpected");
    b.p[38] = (uint8_t)(b.p[38] - 2); /* one byte shorter: signature cut */
    expect_bytes(b.p, b.len, "cert.signature", "truncated");
    b.p[35] = 1; /* beyond SL_CERT_MAX */
    expect_bytes(b.p, b.len, "cert", "at most 256");
    sl_buf_release(&b);
}

/* ---- signing refusals ---- */

static void expect_sign_refusal(const sl_tx *t, const char *field, const char *msg_part)
{
    sl_error err;
    sl_buf b;

    sl_buf_init(&b);
    sl_buf_put(&b, "keep", 4);
    memset(&err, 0, sizeof(err));
    assert_int_equal(sl_tx_sign(t, member, &b, &err), SL_EINVAL);
    assert_int_equal(b.len, 4);
    if (strcmp(err.field, field) != 0)
        fail_msg("expected field %s, got %s (%s)", field, err.field, err.msg);
    if (msg_part && !strstr(err.msg, msg_part))
        fail_msg("message \"%s\" lacks \"%s\"", err.msg, msg_part);
    sl_buf_release(&b);
}

static void test_sign_refusals(void **state)
{
    sl_tx t;
    sl_tx_item its[3];
    (void)state;

    t = build(SL_TX_DEPOSIT);
    snprintf(t.to, sizeof(t.to), "aws");
    expect_sign_refusal(&t, "to", "not a field of deposit");
    t = build(SL_TX_TIME);
    t.amount = 5;
    expect_sign_refusal(&t, "amount", "not a field of time");
    t = build(SL_TX_REJECT);
    t.doc_hash[31] = 1;
    expect_sign_refusal(&t, "doc_hash", "not a field of reject");
    t = build(SL_TX_PROPOSE);
    t.items = report_items;
    t.n_items = 1;
    expect_sign_refusal(&t, "items", "not a field of propose");
    t = build(SL_TX_ISSUE);
    t.doc = (const uint8_t *)"x";
    t.doc_len = 1;
    expect_sign_refusal(&t, "doc", "not a field of issue");
    t = build(SL_TX_WITHDRAW);
    memcpy(t.currency, "EURO", 4);
    expect_sign_refusal(&t, "currency", NULL);
    t = build(SL_TX_TIME);
    t.type = 0;
    expect_sign_refusal(&t, "type", NULL);
    t = build(SL_TX_TIME);
    t.type = (sl_tx_type)(SL_TX_TYPE_MAX + 1);
    expect_sign_refusal(&t, "type", NULL);
    t = build(SL_TX_TIME);
    memset(t.channel, 'a', sizeof(t.channel)); /* no NUL within the field */
    expect_sign_refusal(&t, "channel", "longer than 63");
    t = build(SL_TX_TIME);
    t.cert.role = SL_ROLE_ORACLE | SL_ROLE_NODE;
    expect_sign_refusal(&t, "cert.role", NULL);

    t = build(SL_TX_REPORT);
    memcpy(its, report_items, sizeof(its));
    t.items = its;
    its[2].detail = "only checks";
    its[2].detail_len = 11;
    expect_sign_refusal(&t, "items[2].detail", "only check");
    t.n_items = 0;
    expect_sign_refusal(&t, "items", "1 to 65536");
    t.n_items = SL_TX_MAX_ITEMS + 1;
    expect_sign_refusal(&t, "items", "1 to 65536");
    t.items = NULL;
    t.n_items = 1;
    expect_sign_refusal(&t, "items", NULL);
    t = build(SL_TX_CHECK);
    memcpy(its, check_items, sizeof(check_items));
    t.items = its;
    its[0].detail = NULL;
    its[0].detail_len = 4;
    expect_sign_refusal(&t, "items[0].detail", "no text");
    t = build(SL_TX_PROPOSE);
    t.doc = NULL;
    expect_sign_refusal(&t, "doc", NULL);
}

static void test_max_items(void **state)
{
    sl_tx t = build(SL_TX_REPORT);
    sl_tx_item *its = calloc(SL_TX_MAX_ITEMS, sizeof(*its));
    sl_tx_decoded *d;
    sl_buf b;
    (void)state;

    assert_non_null(its);
    for (size_t i = 0; i < SL_TX_MAX_ITEMS; i++)
        item(&its[i], "a", "o", NB + (int64_t)i * 60000, (int64_t)i, NULL);
    t.items = its;
    t.n_items = SL_TX_MAX_ITEMS;
    sl_buf_init(&b);
    d = sign_decode(&t, &b);
    assert_int_equal(d->tx.n_items, SL_TX_MAX_ITEMS);
    assert_int_equal(d->tx.items[SL_TX_MAX_ITEMS - 1].value, SL_TX_MAX_ITEMS - 1);
    assert_int_equal(sl_tx_verify_signature(d), 0);
    sl_tx_free(d);
    sl_buf_release(&b);
    free(its);
}

/* ---- names and roles ---- */

static void test_type_names_and_roles(void **state)
{
    static const char *const names[] = {"propose", "accept", "reject", "deposit", "withdraw",
                                        "issue",   "report", "check",  "time"};
    sl_tx_type ty;
    (void)state;

    for (int i = 1; i <= SL_TX_TYPE_MAX; i++) {
        assert_string_equal(sl_tx_type_name((sl_tx_type)i), names[i - 1]);
        assert_int_equal(sl_tx_type_parse(names[i - 1], &ty), 0);
        assert_int_equal(ty, i);
        assert_int_not_equal(sl_tx_roles((sl_tx_type)i), 0);
    }
    assert_null(sl_tx_type_name((sl_tx_type)0));
    assert_null(sl_tx_type_name((sl_tx_type)10));
    assert_int_equal(sl_tx_type_parse("Propose", &ty), SL_EINVAL);
    assert_int_equal(sl_tx_type_parse("", &ty), SL_EINVAL);
    assert_int_equal(sl_tx_type_parse(NULL, &ty), SL_EINVAL);
    assert_int_equal(sl_tx_roles(SL_TX_PROPOSE), SL_ROLE_CONSUMER | SL_ROLE_PROVIDER);
    assert_int_equal(sl_tx_roles(SL_TX_ACCEPT), SL_ROLE_CONSUMER | SL_ROLE_PROVIDER);
    assert_int_equal(sl_tx_roles(SL_TX_REJECT), SL_ROLE_CONSUMER | SL_ROLE_PROVIDER);
    assert_int_equal(sl_tx_roles(SL_TX_DEPOSIT), SL_ROLE_CONSUMER);
    assert_int_equal(sl_tx_roles(SL_TX_WITHDRAW),
                     SL_ROLE_CONSUMER | SL_ROLE_PROVIDER | SL_ROLE_ISSUER);
    assert_int_equal(sl_tx_roles(SL_TX_ISSUE), SL_ROLE_ISSUER);
    assert_int_equal(sl_tx_roles(SL_TX_REPORT), SL_ROLE_ORACLE);
    assert_int_equal(sl_tx_roles(SL_TX_CHECK), SL_ROLE_ORACLE);
    assert_int_equal(sl_tx_roles(SL_TX_TIME), SL_ROLE_NODE);
    assert_int_equal(sl_tx_roles((sl_tx_type)0), 0);
    assert_int_equal(sl_tx_roles((sl_tx_type)10), 0);
}

/* ---- JSON ---- */

static json_t *to_json(const sl_tx *t)
{
    sl_buf b, j;
    json_error_t jerr;
    json_t *o;

    sl_buf_init(&b);
    sl_buf_init(&j);
    sl_tx_decoded *d = sign_decode(t, &b);
    assert_int_equal(sl_tx_to_json(d, &j), 0);
    o = json_loadb((const char *)j.p, j.len, 0, &jerr);
    if (!o)
        fail_msg("invalid JSON: %s", jerr.text);
    char id[2 * SL_HASH_LEN + 1];
    sl_hex(d->id, SL_HASH_LEN, id);
    assert_string_equal(json_string_value(json_object_get(o, "id")), id);
    assert_int_equal(json_integer_value(json_object_get(o, "size")), d->len);
    sl_tx_free(d);
    sl_buf_release(&b);
    sl_buf_release(&j);
    return o;
}

static const char *jstr(json_t *o, const char *path1, const char *path2)
{
    json_t *v = json_object_get(o, path1);
    if (path2)
        v = json_object_get(v, path2);
    assert_non_null(v);
    return json_string_value(v);
}

static void test_json(void **state)
{
    sl_tx t;
    json_t *o;
    (void)state;

    t = build(SL_TX_DEPOSIT);
    t.nonce = UINT64_MAX;
    o = to_json(&t);
    assert_string_equal(jstr(o, "type", NULL), "deposit");
    assert_string_equal(jstr(o, "channel", NULL), "univie-aws");
    assert_string_equal(jstr(o, "nonce", NULL), "18446744073709551615");
    assert_string_equal(jstr(o, "expires", NULL), "2026-05-28T20:26:40Z");
    assert_int_equal(json_integer_value(json_object_get(o, "expires_ms")), EXPIRES);
    assert_string_equal(jstr(o, "signer", "subject"), "ops");
    assert_string_equal(jstr(o, "signer", "org"), "univie");
    assert_string_equal(jstr(o, "signer", "role"), "consumer");
    assert_string_equal(jstr(o, "agreement", NULL), "vm-web-01");
    assert_int_equal(json_integer_value(json_object_get(o, "amount")), 100000);
    assert_null(json_object_get(o, "currency"));
    json_decref(o);
}

static void test_json_bodies(void **state)
{
    sl_tx t;
    json_t *o, *items;
    char hash[2 * SL_HASH_LEN + 1];
    uint8_t bin[4] = {0xff, 0x00, 0xfe, 0x01};
    (void)state;

    t = build(SL_TX_PROPOSE);
    o = to_json(&t);
    assert_string_equal(jstr(o, "doc", NULL), doc_text);
    sl_sha256(doc_text, strlen(doc_text), t.doc_hash);
    sl_hex(t.doc_hash, SL_HASH_LEN, hash);
    assert_string_equal(jstr(o, "doc_hash", NULL), hash);
    json_decref(o);

    t = build(SL_TX_PROPOSE);
    t.doc = bin;
    t.doc_len = sizeof(bin);
    o = to_json(&t);
    assert_null(json_object_get(o, "doc"));
    assert_string_equal(jstr(o, "doc_base64", NULL), "/wD+AQ==");
    json_decref(o);

    t = build(SL_TX_ACCEPT);
    o = to_json(&t);
    assert_string_equal(jstr(o, "doc_hash", NULL), hash);
    json_decref(o);

    t = build(SL_TX_ISSUE);
    o = to_json(&t);
    assert_string_equal(jstr(o, "to", NULL), "univie");
    assert_string_equal(jstr(o, "currency", NULL), "EUR");
    json_decref(o);

    t = build(SL_TX_CHECK);
    o = to_json(&t);
    items = json_object_get(o, "items");
    assert_int_equal(json_array_size(items), 2);
    assert_string_equal(jstr(json_array_get(items, 0), "detail", NULL), "canary row 17 present");
    assert_string_equal(jstr(json_array_get(items, 1), "detail", NULL), "");
    assert_int_equal(json_integer_value(json_object_get(json_array_get(items, 1), "value")), 0);
    json_decref(o);

    t = build(SL_TX_REPORT);
    o = to_json(&t);
    items = json_object_get(o, "items");
    assert_int_equal(json_array_size(items), 3);
    assert_string_equal(jstr(json_array_get(items, 1), "objective", NULL), "latency");
    assert_int_equal(json_integer_value(json_object_get(json_array_get(items, 2), "value")), -7);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(items, 2), "end_ms")),
                     NB + 120000);
    assert_null(json_object_get(json_array_get(items, 0), "detail"));
    json_decref(o);

    t = build(SL_TX_TIME);
    t.expires_ms = INT64_MIN; /* not a representable date: only the integer is written */
    o = to_json(&t);
    assert_null(json_object_get(o, "expires"));
    assert_int_equal(json_integer_value(json_object_get(o, "expires_ms")), INT64_MIN);
    json_decref(o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip_all_types),
        cmocka_unit_test(test_sign_appends),
        cmocka_unit_test(test_sizes_match_the_encoding),
        cmocka_unit_test(test_layout_known_answer),
        cmocka_unit_test(test_tamper_every_byte),
        cmocka_unit_test(test_wrong_signer),
        cmocka_unit_test(test_decode_refuses_fields),
        cmocka_unit_test(test_decode_refuses_items),
        cmocka_unit_test(test_decode_refuses_sizes),
        cmocka_unit_test(test_decode_refuses_structure),
        cmocka_unit_test(test_decode_refuses_cert_blob),
        cmocka_unit_test(test_sign_refusals),
        cmocka_unit_test(test_max_items),
        cmocka_unit_test(test_type_names_and_roles),
        cmocka_unit_test(test_json),
        cmocka_unit_test(test_json_bodies),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
