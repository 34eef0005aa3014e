/*
 * test_cert.c: member certificates of src/ledger/cert.c: the binary layout as a known answer,
 * decode(encode) round trips, every refusal of the decoder (magic, truncation, trailing bytes,
 * names, role, validity), signatures (tampering any signed byte fails, wrong root fails),
 * validity bounds, and the JSON file form with its refusals.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "slaledger/ident.h"
#include "slaledger/sla.h"

#define NB 1767225600000LL /* 2026-01-01T00:00:00Z */
#define NA 1798761600000LL /* 2027-01-01T00:00:00Z */

static const uint8_t root_seed[32] = {0xaa, 0x01, 0x02, 0x03};
static const uint8_t other_seed[32] = {0xbb, 0x01, 0x02, 0x03};

static sl_cert sample(void)
{
    sl_cert c;
    memset(&c, 0, sizeof(c));
    snprintf(c.subject, sizeof(c.subject), "mon-1");
    snprintf(c.org, sizeof(c.org), "aws");
    c.role = SL_ROLE_ORACLE;
    memset(c.pk, 0x11, sizeof(c.pk));
    c.not_before_ms = NB;
    c.not_after_ms = NA;
    return c;
}

static sl_cert signed_sample(uint8_t root_pk[32])
{
    sl_cert c = sample();
    sl_key *root = NULL;
    assert_int_equal(sl_key_from_seed(root_seed, &root), 0);
    sl_cert_sign(&c, root);
    sl_key_public(root, root_pk);
    sl_key_free(root);
    return c;
}

static void test_encode_known_answer(void **state)
{
    static const char want[] = "534c4331000000056d6f6e2d31000000036177730411111111111111111111111"
                               "111111111111111111111111111111111111111110000019b76daa800000001a2"
                               "ce8bd400";
    sl_cert c = sample();
    char hex[2 * SL_CERT_MAX + 1];
    sl_buf b;
    (void)state;

    sl_buf_init(&b);
    sl_cert_encode(&c, 0, &b);
    assert_int_equal(b.err, 0);
    assert_int_equal(b.len, 69);
    sl_hex(b.p, b.len, hex);
    assert_string_equal(hex, want);
    /* With the signature, the 64 signature bytes follow. */
    memset(c.sig, 0x5a, sizeof(c.sig));
    sl_buf_reset(&b);
    sl_cert_encode(&c, 1, &b);
    assert_int_equal(b.len, 69 + 64);
    assert_int_equal(b.p[69], 0x5a);
    assert_int_equal(b.p[b.len - 1], 0x5a);
    sl_buf_release(&b);
}

static void test_roundtrip_and_verify(void **state)
{
    uint8_t root_pk[32];
    sl_cert c = signed_sample(root_pk), d;
    sl_error err;
    sl_buf b;
    (void)state;

    sl_buf_init(&b);
    sl_cert_encode(&c, 1, &b);
    assert_int_equal(sl_cert_decode(b.p, b.len, &d, &err), 0);
    assert_memory_equal(&c, &d, sizeof(c));
    assert_int_equal(sl_cert_verify(&d, root_pk, NB, &err), 0);
    assert_int_equal(sl_cert_verify(&d, root_pk, NA - 1, &err), 0);
    assert_int_equal(sl_cert_verify(&d, root_pk, NB - 1, &err), SL_ETIME);
    assert_string_equal(err.field, "cert.not_before");
    assert_non_null(strstr(err.msg, "2026-01-01T00:00:00Z"));
    assert_int_equal(sl_cert_verify(&d, root_pk, NA, &err), SL_ETIME);
    assert_string_equal(err.field, "cert.not_after");
    assert_non_null(strstr(err.msg, "expired"));
    sl_buf_release(&b);
}

static void test_verify_refusals(void **state)
{
    uint8_t root_pk[32], other_pk[32];
    sl_cert c = signed_sample(root_pk), t;
    sl_key *other = NULL;
    sl_error err;
    (void)state;

    assert_int_equal(sl_key_from_seed(other_seed, &other), 0);
    sl_key_public(other, other_pk);
    assert_int_equal(sl_cert_verify(&c, other_pk, NB, &err), SL_EAUTH);
    assert_string_equal(err.field, "cert.signature");
    /* Signed by another root: valid signature, wrong organization key. */
    t = c;
    sl_cert_sign(&t, other);
    assert_int_equal(sl_cert_verify(&t, root_pk, NB, &err), SL_EAUTH);
    assert_int_equal(sl_cert_verify(&t, other_pk, NB, &err), 0);
    /* Every field is covered by the signature. */
    t = c;
    t.subject[0] = 'n';
    assert_int_equal(sl_cert_verify(&t, root_pk, NB, &err), SL_EAUTH);
    t = c;
    t.role = SL_ROLE_NODE;
    assert_int_equal(sl_cert_verify(&t, root_pk, NB, &err), SL_EAUTH);
    t = c;
    t.pk[31] ^= 1;
    assert_int_equal(sl_cert_verify(&t, root_pk, NB, &err), SL_EAUTH);
    t = c;
    t.not_after_ms += 1;
    assert_int_equal(sl_cert_verify(&t, root_pk, NB, &err), SL_EAUTH);
    t = c;
    t.sig[0] ^= 0x80;
    assert_int_equal(sl_cert_verify(&t, root_pk, NB, &err), SL_EAUTH);
    sl_key_free(other);
}

static void test_tamper_every_byte(void **state)
{
    uint8_t root_pk[32];
    sl_cert c = signed_sample(root_pk), d;
    sl_error err;
    sl_buf b;
    (void)state;

    sl_buf_init(&b);
    sl_cert_encode(&c, 1, &b);
    for (size_t i = 0; i < b.len; i++) {
        for (int bit = 0; bit < 8; bit += 3) {
            b.p[i] ^= (uint8_t)(1 << bit);
            /* Either it no longer decodes or its signature fails. */
            if (sl_cert_decode(b.p, b.len, &d, &err) == 0)
                assert_int_equal(sl_cert_verify(&d, root_pk, NB, &err), SL_EAUTH);
            b.p[i] ^= (uint8_t)(1 << bit);
        }
    }
    sl_buf_release(&b);
}

/* Encodes c with the signature and expects decoding to fail with field. */
static void expect_refusal(const sl_cert *c, const char *field)
{
    sl_cert d;
    sl_error err;
    sl_buf b;

    sl_buf_init(&b);
    sl_cert_encode(c, 1, &b);
    memset(&d, 0x77, sizeof(d));
    assert_int_equal(sl_cert_decode(b.p, b.len, &d, &err), SL_EINVAL);
    assert_int_equal(err.code, SL_EINVAL);
    assert_string_equal(err.field, field);
    assert_int_equal(d.subject[0], 0x77); /* untouched on failure */
    sl_buf_release(&b);
}

static void test_decode_refusals(void **state)
{
    sl_cert c;
    (void)state;

    c = sample();
    snprintf(c.subject, sizeof(c.subject), "Mon-1");
    expect_refusal(&c, "cert.subject");
    c = sample();
    snprintf(c.subject, sizeof(c.subject), "-mon");
    expect_refusal(&c, "cert.subject");
    c = sample();
    c.org[0] = '\0';
    expect_refusal(&c, "cert.org");
    c = sample();
    snprintf(c.org, sizeof(c.org), "a b");
    expect_refusal(&c, "cert.org");
    c = sample();
    c.role = 0;
    expect_refusal(&c, "cert.role");
    c = sample();
    c.role = SL_ROLE_CONSUMER | SL_ROLE_PROVIDER;
    expect_refusal(&c, "cert.role");
    c = sample();
    c.role = (sl_role)(1 << 6);
    expect_refusal(&c, "cert.role");
    c = sample();
    c.not_after_ms = c.not_before_ms;
    expect_refusal(&c, "cert.not_after");
    c = sample();
    c.not_after_ms = c.not_before_ms - 1;
    expect_refusal(&c, "cert.not_after");
}

static void test_decode_structure(void **state)
{
    sl_cert c = sample(), d;
    sl_error err;
    sl_buf b;
    uint8_t *copy;
    (void)state;

    sl_buf_init(&b);
    sl_cert_encode(&c, 1, &b);
    /* Every proper prefix is truncated. */
    for (size_t n = 0; n < b.len; n++) {
        assert_int_equal(sl_cert_decode(b.p, n, &d, &err), SL_EINVAL);
        assert_non_null(strstr(err.msg, "truncated"));
    }
    /* One byte too many. */
    copy = malloc(b.len + 1);
    assert_non_null(copy);
    memcpy(copy, b.p, b.len);
    copy[b.len] = 0;
    assert_int_equal(sl_cert_decode(copy, b.len + 1, &d, &err), SL_EINVAL);
    assert_string_equal(err.field, "cert");
    assert_non_null(strstr(err.msg, "1 unexpected byte"));
    /* Wrong magic. */
    copy[3] = '2';
    assert_int_equal(sl_cert_decode(copy, b.len, &d, &err), SL_EINVAL);
    assert_string_equal(err.field, "cert");
    assert_non_null(strstr(err.msg, "SLC1"));
    /* A name length beyond 63 bytes. */
    memcpy(copy, b.p, b.len);
    copy[7] = 64;
    assert_int_equal(sl_cert_decode(copy, b.len, &d, &err), SL_EINVAL);
    assert_string_equal(err.field, "cert.subject");
    /* A NUL inside a name. */
    memcpy(copy, b.p, b.len);
    copy[9] = 0;
    assert_int_equal(sl_cert_decode(copy, b.len, &d, &err), SL_EINVAL);
    assert_string_equal(err.field, "cert.subject");
    assert_non_null(strstr(err.msg, "NUL"));
    free(copy);
    sl_buf_release(&b);
}

/* ---- JSON ---- */

static void test_json_roundtrip(void **state)
{
    uint8_t root_pk[32];
    sl_cert c = signed_sample(root_pk), d;
    sl_error err;
    sl_buf b;
    const char *s;
    (void)state;

    sl_buf_init(&b);
    assert_int_equal(sl_cert_write_json(&c, &b), 0);
    s = sl_buf_cstr(&b);
    assert_non_null(strstr(s, "\"subject\": \"mon-1\""));
    assert_non_null(strstr(s, "\"role\": \"oracle\""));
    assert_non_null(strstr(s, "\"not_before\": \"2026-01-01T00:00:00Z\""));
    assert_non_null(strstr(s, "\"public_key\": \"1111111111111111"));
    assert_int_equal(s[b.len - 1], '\n');
    memset(&d, 0, sizeof(d));
    assert_int_equal(sl_cert_read_json(s, b.len, &d, &err), 0);
    assert_memory_equal(&c, &d, sizeof(c));
    assert_int_equal(sl_cert_verify(&d, root_pk, NB, &err), 0);
    sl_buf_release(&b);
}

static void test_json_write_refusals(void **state)
{
    sl_cert c = sample();
    sl_buf b;
    (void)state;

    sl_buf_init(&b);
    c.not_before_ms = -1; /* before 1970: not representable in the file */
    assert_int_equal(sl_cert_write_json(&c, &b), SL_EINVAL);
    c = sample();
    c.role = 0;
    assert_int_equal(sl_cert_write_json(&c, &b), SL_EINVAL);
    assert_int_equal(b.len, 0);
    sl_buf_release(&b);
}

#define PK "\"public_key\":\"1111111111111111111111111111111111111111111111111111111111111111\""
#define SIG                                                                                        \
    "\"signature\":\"00000000000000000000000000000000000000000000000000000000000000000000000000"   \
    "000000000000000000000000000000000000000000000000000000\""
#define GOOD_REST                                                                                  \
    "\"role\":\"oracle\"," PK ",\"not_before\":\"2026-01-01T00:00:00Z\","                          \
    "\"not_after\":\"2027-01-01T00:00:00Z\"," SIG

typedef struct json_case {
    const char *text;
    int code;
    const char *field;
} json_case;

static void test_json_read_refusals(void **state)
{
    static const json_case cases[] = {
        {"{\"subject\":\"a\",\"org\":\"b\"," GOOD_REST "}", 0, ""},
        {"{\"subject\":\"a\",\"org\":\"b\",", SL_EPARSE, ""},
        {"[1]", SL_EINVAL, ""},
        {"{\"org\":\"b\"," GOOD_REST "}", SL_EINVAL, "subject"},
        {"{\"subject\":\"a\",\"org\":\"b\",\"extra\":1," GOOD_REST "}", SL_EINVAL, "extra"},
        {"{\"subject\":\"a\",\"subject\":\"c\",\"org\":\"b\"," GOOD_REST "}", SL_EPARSE, ""},
        {"{\"subject\":7,\"org\":\"b\"," GOOD_REST "}", SL_EINVAL, "subject"},
        {"{\"subject\":\"A\",\"org\":\"b\"," GOOD_REST "}", SL_EINVAL, "subject"},
        {"{\"subject\":\"a\",\"org\":\"b\",\"role\":\"king\"," PK
         ",\"not_before\":\"2026-01-01T00:00:00Z\",\"not_after\":\"2027-01-01T00:00:00Z\"," SIG "}",
         SL_EINVAL, "role"},
        {"{\"subject\":\"a\",\"org\":\"b\",\"role\":\"oracle\",\"public_key\":\"11\","
         "\"not_before\":\"2026-01-01T00:00:00Z\",\"not_after\":\"2027-01-01T00:00:00Z\"," SIG "}",
         SL_EINVAL, "public_key"},
        {"{\"subject\":\"a\",\"org\":\"b\",\"role\":\"oracle\"," PK
         ",\"not_before\":\"yesterday\",\"not_after\":\"2027-01-01T00:00:00Z\"," SIG "}",
         SL_EINVAL, "not_before"},
        {"{\"subject\":\"a\",\"org\":\"b\",\"role\":\"oracle\"," PK
         ",\"not_before\":\"2027-01-01T00:00:00Z\",\"not_after\":\"2027-01-01T00:00:00Z\"," SIG "}",
         SL_EINVAL, "not_after"},
        {"{\"subject\":\"a\",\"org\":\"b\",\"role\":\"oracle\"," PK
         ",\"not_before\":\"2026-01-01T00:00:00Z\",\"not_after\":\"2027-01-01T00:00:00Z\","
         "\"signature\":\"zz\"}",
         SL_EINVAL, "signature"},
    };
    sl_cert c;
    sl_error err;
    (void)state;

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        memset(&err, 0, sizeof(err));
        int rc = sl_cert_read_json(cases[i].text, strlen(cases[i].text), &c, &err);
        if (rc != cases[i].code)
            fail_msg("case %zu: got %d (%s: %s), want %d", i, rc, err.field, err.msg,
                     cases[i].code);
        assert_string_equal(err.field, cases[i].field);
    }
    /* Syntax errors carry a position. */
    assert_int_equal(sl_cert_read_json("{\n  \"subject\": ,}", 17, &c, &err), SL_EPARSE);
    assert_int_equal(err.line, 2);
    assert_true(err.column > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_encode_known_answer), cmocka_unit_test(test_roundtrip_and_verify),
        cmocka_unit_test(test_verify_refusals),     cmocka_unit_test(test_tamper_every_byte),
        cmocka_unit_test(test_decode_refusals),     cmocka_unit_test(test_decode_structure),
        cmocka_unit_test(test_json_roundtrip),      cmocka_unit_test(test_json_write_refusals),
        cmocka_unit_test(test_json_read_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
