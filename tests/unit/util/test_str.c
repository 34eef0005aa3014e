/*
 * test_str.c: string copies, SHA-256 known answers (FIPS 180-2 examples) and hex encoding of
 * src/util/str.c.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "slaledger/util.h"

typedef struct kat {
    const char *msg;
    const char *hex;
} kat;

static const kat sha256_kats[] = {
    {"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
    {"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
    {"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
     "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
};

static void test_sha256_kat(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(sha256_kats) / sizeof(sha256_kats[0]); i++) {
        uint8_t h[SL_HASH_LEN];
        char hex[2 * SL_HASH_LEN + 1];
        sl_sha256(sha256_kats[i].msg, strlen(sha256_kats[i].msg), h);
        sl_hex(h, sizeof(h), hex);
        assert_string_equal(hex, sha256_kats[i].hex);
    }
}

static void test_sha256_million_a(void **state)
{
    size_t n = 1000000;
    char *a = malloc(n);
    uint8_t h[SL_HASH_LEN];
    char hex[2 * SL_HASH_LEN + 1];
    (void)state;
    assert_non_null(a);
    memset(a, 'a', n);
    sl_sha256(a, n, h);
    sl_hex(h, sizeof(h), hex);
    assert_string_equal(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
    free(a);
}

static void test_hex(void **state)
{
    const uint8_t data[] = {0x00, 0x01, 0x7f, 0x80, 0xab, 0xff};
    char out[2 * sizeof(data) + 1];
    char one[3] = "zz";
    char none[1] = {'z'};
    (void)state;
    memset(out, 'z', sizeof(out));
    sl_hex(data, sizeof(data), out);
    assert_string_equal(out, "00017f80abff");
    sl_hex(data + 4, 1, one);
    assert_string_equal(one, "ab");
    sl_hex(data, 0, none);
    assert_int_equal(none[0], '\0');
}

static void test_strdup(void **state)
{
    (void)state;
    assert_null(sl_strdup(NULL));
    char *s = sl_strdup("hello");
    assert_string_equal(s, "hello");
    free(s);
    s = sl_strdup("");
    assert_string_equal(s, "");
    free(s);
    s = sl_strndup("hello world", 5);
    assert_string_equal(s, "hello");
    free(s);
    s = sl_strndup("ab\0cd", 5); /* copies n bytes, NUL included */
    assert_memory_equal(s, "ab\0cd", 6);
    free(s);
    s = sl_strndup(NULL, 0);
    assert_string_equal(s, "");
    free(s);
    assert_null(sl_strndup(NULL, 3));
    assert_null(sl_strndup("x", SIZE_MAX));
}

static void test_unhex(void **state)
{
    (void)state;
    uint8_t out[4] = {9, 9, 9, 9};
    assert_int_equal(sl_unhex("00ffA07b", 8, out, 4), 0);
    assert_memory_equal(out, "\x00\xff\xa0\x7b", 4);
    char back[9];
    sl_hex(out, 4, back);
    assert_string_equal(back, "00ffa07b");
    uint8_t keep[2] = {1, 2};
    assert_int_equal(sl_unhex("0g", 2, keep, 1), SL_EINVAL);
    assert_int_equal(sl_unhex("abc", 3, keep, 2), SL_EINVAL);
    assert_int_equal(sl_unhex("abcdef", 6, keep, 2), SL_EINVAL);
    assert_int_equal(sl_unhex("ab\0d", 4, keep, 2), SL_EINVAL);
    assert_int_equal(keep[0] + keep[1], 3); /* untouched */
    assert_int_equal(sl_unhex("", 0, keep, 0), 0);
}

static void test_strfmt(void **state)
{
    (void)state;
    char small[6];
    sl_strfmt(small, sizeof(small), "%s-%d", "block", 42);
    assert_string_equal(small, "block"); /* truncated, terminated */
    sl_strfmt(small, sizeof(small), "%d", 7);
    assert_string_equal(small, "7");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sha256_kat), cmocka_unit_test(test_sha256_million_a),
        cmocka_unit_test(test_hex),        cmocka_unit_test(test_strdup),
        cmocka_unit_test(test_unhex),      cmocka_unit_test(test_strfmt),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
