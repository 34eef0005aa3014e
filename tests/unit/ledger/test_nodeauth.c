/*
 * test_nodeauth.c: node credentials of src/ledger/nodeauth.c. The token's layout is rebuilt here
 * from its description in ident.h (an independent writer: sl_node_token_make must produce the
 * same string), which also makes the tokens the library refuses to make: one of a consumer's
 * certificate, one signed by a key that is not the certificate's. Then: the round trip, the
 * longest names and times, another audience, times just inside and outside the skew, a change
 * of any bit of any byte, garbage and every truncation, and the refusals of the maker.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <sodium.h>

#include "slaledger/ident.h"
#include "slaledger/sla.h"

#define AUD  "univie/univie-node"
#define SKEW 60000

static const uint8_t root_seed[32] = {0xa1, 0x01};
static const uint8_t node_seed[32] = {0xb2, 0x02};
static const uint8_t other_seed[32] = {0xc3, 0x03};

static int64_t now_ms;

static sl_key *key_of(const uint8_t seed[32])
{
    sl_key *k = NULL;
    assert_int_equal(sl_key_from_seed(seed, &k), 0);
    return k;
}

/* A certificate of subject/org with role for the key of seed, signed by the root. */
static sl_cert cert_of(const char *org, const char *subject, sl_role role, const uint8_t seed[32])
{
    sl_key *root = key_of(root_seed), *k = key_of(seed);
    sl_cert c;

    memset(&c, 0, sizeof(c));
    snprintf(c.subject, sizeof(c.subject), "%s", subject);
    snprintf(c.org, sizeof(c.org), "%s", org);
    c.role = role;
    sl_key_public(k, c.pk);
    c.not_before_ms = now_ms - 86400000;
    c.not_after_ms = now_ms + 86400000;
    sl_cert_sign(&c, root);
    sl_key_free(root);
    sl_key_free(k);
    return c;
}

static void b64(sl_buf *out, const void *p, size_t n)
{
    char tmp[1024];
    sodium_bin2base64(tmp, sizeof(tmp), p, n, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sl_buf_put(out, tmp, strlen(tmp));
}

/* The token as ident.h describes it, signed by the key of seed whatever the certificate. */
static void token_by_hand(const sl_cert *c, const char *aud, int64_t t, const uint8_t seed[32],
                          sl_buf *out)
{
    sl_key *k = key_of(seed);
    uint8_t sig[SL_SIG_LEN];
    sl_buf cert, msg;

    sl_buf_init(&cert);
    sl_buf_init(&msg);
    sl_cert_encode(c, 1, &cert);
    sl_buf_put(&msg, "slaledger node token v1", 24); /* with its NUL */
    sl_buf_put_u32(&msg, (uint32_t)cert.len);
    sl_buf_put(&msg, cert.p, cert.len);
    sl_buf_put_u32(&msg, (uint32_t)strlen(aud));
    sl_buf_put(&msg, aud, strlen(aud));
    sl_buf_put_i64(&msg, t);
    assert_int_equal(msg.err, 0);
    sl_key_sign(k, msg.p, msg.len, sig);
    sl_buf_put(out, "sln1.", 5);
    b64(out, cert.p, cert.len);
    sl_buf_put(out, ".", 1);
    b64(out, aud, strlen(aud));
    sl_buf_printf(out, ".%lld.", (long long)t);
    b64(out, sig, sizeof(sig));
    assert_non_null(sl_buf_cstr(out));
    sl_key_free(k);
    sl_buf_release(&cert);
    sl_buf_release(&msg);
}

/* A token of the node key for AUD at t, made by the library. */
static void make(const sl_cert *c, const char *aud, int64_t t, sl_buf *out)
{
    sl_key *k = key_of(node_seed);
    sl_buf_reset(out);
    assert_int_equal(sl_node_token_make(k, c, aud, t, out), 0);
    assert_non_null(sl_buf_cstr(out));
    sl_key_free(k);
}

/* Asserts that tok is refused with code (0: either refusal) and field (NULL: any), a message
 * said, and *cert untouched. */
static void refused(const char *tok, const char *aud, int64_t now, int code, const char *field)
{
    sl_cert c, sentinel;
    sl_error err;
    int rc;

    memset(&sentinel, 0x5c, sizeof(sentinel));
    c = sentinel;
    memset(&err, 0, sizeof(err));
    rc = sl_node_token_read(tok, aud, now, SKEW, &c, &err);
    if (code)
        assert_int_equal(rc, code);
    else
        assert_true(rc == SL_EINVAL || rc == SL_EAUTH);
    assert_int_equal(err.code, rc);
    assert_true(err.msg[0] != '\0');
    if (field)
        assert_string_equal(err.field, field);
    assert_memory_equal(&c, &sentinel, sizeof(c));
}

static void test_roundtrip_and_layout(void **state)
{
    sl_cert c = cert_of("aws", "aws-node", SL_ROLE_NODE, node_seed), got;
    sl_buf tok, hand;
    sl_error err;
    (void)state;

    sl_buf_init(&tok);
    sl_buf_init(&hand);
    make(&c, AUD, now_ms, &tok);
    token_by_hand(&c, AUD, now_ms, node_seed, &hand);
    assert_string_equal((const char *)tok.p, (const char *)hand.p);
    assert_true(tok.len <= SL_NODE_TOKEN_MAX);
    assert_int_equal(strspn((const char *)tok.p, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTU"
                                                 "VWXYZ0123456789-_."),
                     tok.len);
    memset(&got, 0, sizeof(got));
    assert_int_equal(sl_node_token_read((const char *)tok.p, AUD, now_ms, SKEW, &got, &err), 0);
    assert_memory_equal(&got, &c, sizeof(c));
    /* Appends: a second token follows the first. */
    sl_key *k = key_of(node_seed);
    size_t first = tok.len;
    assert_int_equal(sl_node_token_make(k, &c, AUD, now_ms, &tok), 0);
    assert_int_equal(tok.len, 2 * first);
    assert_memory_equal(tok.p, tok.p + first, first);
    sl_key_free(k);
    sl_buf_release(&tok);
    sl_buf_release(&hand);
}

/* The longest names and the extreme times fit SL_NODE_TOKEN_MAX and read back. */
static void test_extremes(void **state)
{
    char org[64], sub[64], aud[SL_NODE_AUDIENCE_MAX + 1];
    sl_cert c, got;
    sl_error err;
    sl_buf tok;
    (void)state;

    memset(org, 'o', 63);
    org[63] = '\0';
    memset(sub, 's', 63);
    sub[63] = '\0';
    snprintf(aud, sizeof(aud), "%s/%s", org, sub);
    assert_int_equal(strlen(aud), SL_NODE_AUDIENCE_MAX);
    c = cert_of(org, sub, SL_ROLE_NODE, node_seed);
    sl_buf_init(&tok);
    make(&c, aud, INT64_MAX, &tok);
    assert_true(tok.len <= SL_NODE_TOKEN_MAX);
    assert_int_equal(sl_node_token_read((const char *)tok.p, aud, INT64_MAX, 0, &got, &err), 0);
    assert_memory_equal(&got, &c, sizeof(c));
    refused((const char *)tok.p, aud, INT64_MIN, SL_EAUTH, "token.time");
    make(&c, aud, 0, &tok);
    assert_int_equal(sl_node_token_read((const char *)tok.p, aud, 0, 0, &got, &err), 0);
    refused((const char *)tok.p, aud, INT64_MAX, SL_EAUTH, "token.time");
    sl_buf_release(&tok);
}

static void test_audience(void **state)
{
    sl_cert c = cert_of("aws", "aws-node", SL_ROLE_NODE, node_seed);
    sl_buf tok;
    (void)state;

    sl_buf_init(&tok);
    make(&c, AUD, now_ms, &tok);
    refused((const char *)tok.p, "azure/azure-node", now_ms, SL_EAUTH, "token.audience");
    refused((const char *)tok.p, "univie/univie-nod", now_ms, SL_EAUTH, "token.audience");
    refused((const char *)tok.p, "univie/univie-node2", now_ms, SL_EAUTH, "token.audience");
    refused((const char *)tok.p, "univie-node/univie", now_ms, SL_EAUTH, "token.audience");
    /* The reader's own audience must be "org/name" too. */
    refused((const char *)tok.p, "univie", now_ms, SL_EINVAL, "audience");
    refused((const char *)tok.p, NULL, now_ms, SL_EINVAL, "audience");
    sl_buf_release(&tok);
}

static void test_time_window(void **state)
{
    sl_cert c = cert_of("aws", "aws-node", SL_ROLE_NODE, node_seed), got;
    sl_error err;
    sl_buf tok;
    const char *t;
    (void)state;

    sl_buf_init(&tok);
    make(&c, AUD, now_ms, &tok);
    t = (const char *)tok.p;
    /* Exactly the skew either way is in; a millisecond more is out. */
    assert_int_equal(sl_node_token_read(t, AUD, now_ms + SKEW, SKEW, &got, &err), 0);
    assert_int_equal(sl_node_token_read(t, AUD, now_ms - SKEW, SKEW, &got, &err), 0);
    refused(t, AUD, now_ms + SKEW + 1, SL_EAUTH, "token.time"); /* expired */
    memset(&err, 0, sizeof(err));
    assert_int_equal(sl_node_token_read(t, AUD, now_ms + 3600000, SKEW, &got, &err), SL_EAUTH);
    assert_non_null(strstr(err.msg, "3600000 ms behind"));
    refused(t, AUD, now_ms - SKEW - 1, SL_EAUTH, "token.time"); /* from the future */
    assert_int_equal(sl_node_token_read(t, AUD, now_ms - 5000000, SKEW, &got, &err), SL_EAUTH);
    assert_non_null(strstr(err.msg, "5000000 ms ahead"));
    /* A skew of 0 accepts the very millisecond only; a negative one is a caller's error. */
    assert_int_equal(sl_node_token_read(t, AUD, now_ms, 0, &got, &err), 0);
    assert_int_equal(sl_node_token_read(t, AUD, now_ms + 1, 0, &got, &err), SL_EAUTH);
    assert_int_equal(sl_node_token_read(t, AUD, now_ms, -1, &got, &err), SL_EINVAL);
    sl_buf_release(&tok);
}

/* Any change of any bit of any byte is refused (or ends the string there, also refused). */
static void test_flip_every_bit(void **state)
{
    sl_cert c = cert_of("aws", "aws-node", SL_ROLE_NODE, node_seed);
    sl_buf tok;
    char t[SL_NODE_TOKEN_MAX + 1];
    (void)state;

    sl_buf_init(&tok);
    make(&c, AUD, now_ms, &tok);
    for (size_t i = 0; i < tok.len; i++) {
        for (int b = 0; b < 8; b++) {
            memcpy(t, tok.p, tok.len + 1);
            t[i] = (char)(t[i] ^ (1 << b));
            refused(t, AUD, now_ms, 0, NULL);
        }
    }
    sl_buf_release(&tok);
}

/* A consumer's certificate is no node's, even when its key signs correctly. */
static void test_not_a_node(void **state)
{
    sl_cert c = cert_of("univie", "alice", SL_ROLE_CONSUMER, node_seed);
    sl_key *k = key_of(node_seed);
    sl_buf tok;
    (void)state;

    sl_buf_init(&tok);
    assert_int_equal(sl_node_token_make(k, &c, AUD, now_ms, &tok), SL_EINVAL);
    assert_int_equal(tok.len, 0);
    token_by_hand(&c, AUD, now_ms, node_seed, &tok);
    refused((const char *)tok.p, AUD, now_ms, SL_EAUTH, "token.cert.role");
    sl_key_free(k);
    sl_buf_release(&tok);
}

/* Signed by a key that is not the certificate's: the library will not make it; read refuses. */
static void test_other_key(void **state)
{
    sl_cert c = cert_of("aws", "aws-node", SL_ROLE_NODE, node_seed);
    sl_key *other = key_of(other_seed);
    sl_buf tok;
    (void)state;

    sl_buf_init(&tok);
    assert_int_equal(sl_node_token_make(other, &c, AUD, now_ms, &tok), SL_EINVAL);
    assert_int_equal(tok.len, 0);
    token_by_hand(&c, AUD, now_ms, other_seed, &tok);
    refused((const char *)tok.p, AUD, now_ms, SL_EAUTH, "token.signature");
    sl_key_free(other);
    sl_buf_release(&tok);
}

/* Replaces the part-th dot-separated part of tok (0: "sln1") with repl into out. */
static void with_part(const char *tok, int part, const char *repl, char *out, size_t cap)
{
    const char *p = tok;
    int k = 0;

    while (k < part && (p = strchr(p, '.')) != NULL) {
        p++;
        k++;
    }
    assert_non_null(p);
    const char *end = strchr(p, '.');
    snprintf(out, cap, "%.*s%s%s", (int)(p - tok), tok, repl, end ? end : "");
}

static void test_garbage_and_truncation(void **state)
{
    sl_cert c = cert_of("aws", "aws-node", SL_ROLE_NODE, node_seed);
    char t[2 * SL_NODE_TOKEN_MAX], part[512];
    sl_buf tok;
    (void)state;

    static const char *const garbage[] = {
        "",
        "sln1",
        "sln1.",
        "sln1....",
        "sln1.....",
        "Bearer sln1.a.b.1.c",
        "SLN1.a.b.1.c",
        "sln2.a.b.1.c",
        "slt_aGJaNiW4LrhVC-5VG0NIbrIXCTBhTQZ6QFysWIZ8_bE",
        " sln1.a.b.1.c",
    };
    for (size_t i = 0; i < sizeof(garbage) / sizeof(garbage[0]); i++)
        refused(garbage[i], AUD, now_ms, SL_EINVAL, NULL);
    refused(NULL, AUD, now_ms, SL_EINVAL, "token");

    sl_buf_init(&tok);
    make(&c, AUD, now_ms, &tok);
    /* Every truncation. */
    for (size_t n = 0; n < tok.len; n++) {
        snprintf(t, sizeof(t), "%.*s", (int)n, (const char *)tok.p);
        refused(t, AUD, now_ms, 0, NULL);
    }
    /* A sixth part, padding, standard base64's characters, a bad time. */
    snprintf(t, sizeof(t), "%s.AAAA", (const char *)tok.p);
    refused(t, AUD, now_ms, SL_EINVAL, "token");
    snprintf(t, sizeof(t), "%s=", (const char *)tok.p);
    refused(t, AUD, now_ms, SL_EINVAL, "token.signature");
    with_part((const char *)tok.p, 2, "dW5pdmllL3VuaXZpZS1ub2Rl==", t, sizeof(t));
    refused(t, AUD, now_ms, SL_EINVAL, "token.audience");
    static const char *const times[] = {"",
                                        "+1",
                                        "-1",
                                        "01",
                                        " 1",
                                        "1 ",
                                        "1.5",
                                        "0x10",
                                        "9223372036854775808",
                                        "99999999999999999999"};
    for (size_t i = 0; i < sizeof(times) / sizeof(times[0]); i++) {
        with_part((const char *)tok.p, 3, times[i], t, sizeof(t));
        refused(t, AUD, now_ms, SL_EINVAL, strchr(times[i], '.') ? "token" : "token.time");
    }
    /* A certificate part that is base64url of garbage, or longer than any certificate. */
    with_part((const char *)tok.p, 1, "AAAA", t, sizeof(t));
    refused(t, AUD, now_ms, SL_EINVAL, "token.cert");
    memset(part, 'A', 400);
    part[400] = '\0';
    with_part((const char *)tok.p, 1, part, t, sizeof(t));
    refused(t, AUD, now_ms, SL_EINVAL, "token.cert");
    /* Longer than any token: refused before anything is decoded, NUL or not after the limit. */
    memset(t, 'A', sizeof(t) - 1);
    t[sizeof(t) - 1] = '\0';
    memcpy(t, "sln1.", 5);
    refused(t, AUD, now_ms, SL_EINVAL, "token");
    sl_buf_release(&tok);
}

static void test_make_refusals(void **state)
{
    sl_cert c = cert_of("aws", "aws-node", SL_ROLE_NODE, node_seed), bad;
    sl_key *k = key_of(node_seed);
    sl_buf tok;
    (void)state;

    static const char *const auds[] = {"univie", "/univie-node",       "univie/",
                                       "a/b/c",  "Univie/univie-node", "univie/univie node",
                                       ""};
    sl_buf_init(&tok);
    for (size_t i = 0; i < sizeof(auds) / sizeof(auds[0]); i++)
        assert_int_equal(sl_node_token_make(k, &c, auds[i], now_ms, &tok), SL_EINVAL);
    assert_int_equal(sl_node_token_make(k, &c, NULL, now_ms, &tok), SL_EINVAL);
    assert_int_equal(sl_node_token_make(k, &c, AUD, -1, &tok), SL_EINVAL);
    assert_int_equal(sl_node_token_make(NULL, &c, AUD, now_ms, &tok), SL_EINVAL);
    assert_int_equal(sl_node_token_make(k, NULL, AUD, now_ms, &tok), SL_EINVAL);
    bad = c;
    bad.subject[0] = 'A'; /* not a name */
    assert_int_equal(sl_node_token_make(k, &bad, AUD, now_ms, &tok), SL_EINVAL);
    bad = c;
    bad.not_after_ms = bad.not_before_ms;
    assert_int_equal(sl_node_token_make(k, &bad, AUD, now_ms, &tok), SL_EINVAL);
    assert_int_equal(tok.len, 0);
    sl_key_free(k);
    sl_buf_release(&tok);
}

int main(void)
{
    struct timespec ts;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip_and_layout),
        cmocka_unit_test(test_extremes),
        cmocka_unit_test(test_audience),
        cmocka_unit_test(test_time_window),
        cmocka_unit_test(test_flip_every_bit),
        cmocka_unit_test(test_not_a_node),
        cmocka_unit_test(test_other_key),
        cmocka_unit_test(test_garbage_and_truncation),
        cmocka_unit_test(test_make_refusals),
    };

    /* Any time will do: tokens are read at the time they name, or at a distance from it. */
    clock_gettime(CLOCK_REALTIME, &ts);
    now_ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    return cmocka_run_group_tests(tests, NULL, NULL);
}
