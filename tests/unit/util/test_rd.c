/*
 * test_rd.c: sl_rd reads back exactly what sl_buf wrote, and fails safely on every short,
 * oversized or malformed field (src/util/rd.c).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "slaledger/util.h"

static void test_round_trip(void **state)
{
    (void)state;
    sl_buf b;
    sl_buf_init(&b);
    sl_buf_put_u8(&b, 0xab);
    sl_buf_put_u32(&b, 0xdeadbeef);
    sl_buf_put_u64(&b, 0x0102030405060708ULL);
    sl_buf_put_i64(&b, -42);
    sl_buf_put_str(&b, "univie");
    sl_buf_put_str(&b, NULL);
    sl_buf_put(&b, "xyz", 3);
    assert_int_equal(b.err, 0);

    sl_rd r;
    sl_rd_init(&r, b.p, b.len);
    assert_int_equal(sl_rd_u8(&r), 0xab);
    assert_int_equal(sl_rd_u32(&r), 0xdeadbeef);
    assert_true(sl_rd_u64(&r) == 0x0102030405060708ULL);
    assert_int_equal(sl_rd_i64(&r), -42);
    char s[8];
    sl_rd_str(&r, s, sizeof(s));
    assert_string_equal(s, "univie");
    size_t n = 99;
    (void)sl_rd_blob(&r, 10, &n); /* an empty field: a valid pointer or NULL, length 0 */
    assert_int_equal(r.err, 0);
    assert_int_equal(n, 0);
    assert_memory_equal(sl_rd_bytes(&r, 3), "xyz", 3);
    assert_int_equal(sl_rd_end(&r), 0);
    sl_buf_release(&b);
}

static void test_short_and_trailing(void **state)
{
    (void)state;
    const uint8_t in[] = {0, 0, 0, 1};
    sl_rd r;
    sl_rd_init(&r, in, 3);
    assert_int_equal(sl_rd_u32(&r), 0); /* short */
    assert_int_equal(r.err, SL_EINVAL);
    assert_int_equal(r.at, 0);
    assert_int_equal(sl_rd_u8(&r), 0); /* sticky */
    assert_int_not_equal(sl_rd_end(&r), 0);

    sl_rd_init(&r, in, sizeof(in));
    assert_int_equal(sl_rd_u8(&r), 0);
    assert_int_not_equal(sl_rd_end(&r), 0); /* bytes left over */
    sl_rd_init(&r, NULL, 5);
    assert_null(sl_rd_bytes(&r, 1));
}

static void test_bad_fields(void **state)
{
    (void)state;
    sl_buf b;
    sl_buf_init(&b);
    sl_buf_put_str(&b, "too-long-name");
    char s[8];
    sl_rd r;
    sl_rd_init(&r, b.p, b.len);
    sl_rd_str(&r, s, sizeof(s));
    assert_int_equal(r.err, SL_EINVAL);
    assert_string_equal(s, "");

    sl_buf_reset(&b);
    sl_buf_put_u32(&b, 3);
    sl_buf_put(&b, "a\0b", 3);
    sl_rd_init(&r, b.p, b.len);
    sl_rd_str(&r, s, sizeof(s));
    assert_int_equal(r.err, SL_EINVAL); /* embedded NUL */

    sl_buf_reset(&b);
    sl_buf_put_u32(&b, 0xffffffffu); /* length far beyond the input */
    sl_rd_init(&r, b.p, b.len);
    size_t n;
    assert_null(sl_rd_blob(&r, SIZE_MAX, &n));
    assert_int_equal(n, 0);
    assert_int_equal(r.err, SL_EINVAL);
    sl_buf_release(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_short_and_trailing),
        cmocka_unit_test(test_bad_fields),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
