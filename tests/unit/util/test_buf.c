/*
 * test_buf.c: sl_buf of src/util/buf.c: growth, big-endian encodings, printf, the C-string
 * view, and the sticky error. buf.c is included here with realloc redirected, so the tests can
 * make an allocation fail exactly when they want.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static int fail_next_realloc; /* when set, the next realloc fails (and the flag clears) */

static void *fault_realloc(void *p, size_t n)
{
    if (fail_next_realloc) {
        fail_next_realloc = 0;
        return NULL;
    }
    return realloc(p, n);
}

#define realloc fault_realloc
#include "util/buf.c"
#undef realloc

static void test_init_release(void **state)
{
    sl_buf b;
    (void)state;
    sl_buf_init(&b);
    assert_null(b.p);
    assert_int_equal(b.len, 0);
    assert_int_equal(b.err, 0);
    sl_buf_release(&b); /* empty */
    sl_buf_release(NULL);
    sl_buf_put(&b, "x", 1);
    sl_buf_release(&b);
    assert_null(b.p);
    assert_int_equal(b.len, 0);
    assert_int_equal(b.cap, 0);
}

static void test_put_grows(void **state)
{
    sl_buf b;
    uint8_t expect[1000];
    (void)state;
    sl_buf_init(&b);
    for (size_t i = 0; i < sizeof(expect); i++) {
        expect[i] = (uint8_t)(i * 7);
        sl_buf_put_u8(&b, expect[i]);
    }
    sl_buf_put(&b, NULL, 0); /* nothing to copy, nothing read */
    assert_int_equal(b.err, 0);
    assert_int_equal(b.len, sizeof(expect));
    assert_true(b.cap >= b.len);
    assert_memory_equal(b.p, expect, sizeof(expect));
    sl_buf_release(&b);
}

static void test_big_endian(void **state)
{
    static const uint8_t expect[] = {
        0xab,                                           /* u8 */
        0x01, 0x02, 0x03, 0x04,                         /* u32 */
        0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, /* u64 */
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe, /* i64 -2 */
        0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* i64 INT64_MIN */
        0x00, 0x00, 0x00, 0x03, 'a',  'b',  'c',        /* str "abc" */
        0x00, 0x00, 0x00, 0x00,                         /* str NULL */
        0x00, 0x00, 0x00, 0x00,                         /* str "" */
    };
    sl_buf b;
    (void)state;
    sl_buf_init(&b);
    sl_buf_put_u8(&b, 0xab);
    sl_buf_put_u32(&b, 0x01020304u);
    sl_buf_put_u64(&b, 0x0102030405060708ull);
    sl_buf_put_i64(&b, -2);
    sl_buf_put_i64(&b, INT64_MIN);
    sl_buf_put_str(&b, "abc");
    sl_buf_put_str(&b, NULL);
    sl_buf_put_str(&b, "");
    assert_int_equal(b.err, 0);
    assert_int_equal(b.len, sizeof(expect));
    assert_memory_equal(b.p, expect, sizeof(expect));
    sl_buf_release(&b);
}

static void test_printf(void **state)
{
    sl_buf b;
    char big[300];
    (void)state;
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    sl_buf_init(&b);
    sl_buf_printf(&b, "%s=%d", "a", 1);
    sl_buf_printf(&b, ",%lld", (long long)INT64_MIN);
    assert_string_equal(sl_buf_cstr(&b), "a=1,-9223372036854775808");
    assert_int_equal(b.len, strlen("a=1,-9223372036854775808"));
    /* Longer than the free space: grows and writes again. */
    sl_buf_printf(&b, "[%s]", big);
    assert_int_equal(b.len, 24 + 2 + 299);
    assert_int_equal(b.p[24], '[');
    assert_int_equal(b.p[24 + 300], ']');
    sl_buf_printf(&b, "%s", ""); /* empty output is fine */
    assert_int_equal(b.len, 325);
    assert_int_equal(b.err, 0);
    sl_buf_release(&b);
}

static void test_cstr(void **state)
{
    sl_buf b;
    (void)state;
    sl_buf_init(&b);
    assert_string_equal(sl_buf_cstr(&b), ""); /* empty buffer is an empty string */
    assert_int_equal(b.len, 0);
    sl_buf_put(&b, "hello", 5);
    assert_string_equal(sl_buf_cstr(&b), "hello");
    assert_int_equal(b.len, 5); /* the NUL is not content */
    sl_buf_put(&b, "!", 1);
    assert_string_equal(sl_buf_cstr(&b), "hello!");
    sl_buf_release(&b);
}

static void test_sticky_error(void **state)
{
    sl_buf b;
    (void)state;
    sl_buf_init(&b);
    sl_buf_put(&b, "abc", 3);
    size_t cap = b.cap;
    uint8_t *p = b.p;
    /* The next growth fails: err is set, content kept, later appends ignored. */
    fail_next_realloc = 1;
    char big[200] = {0};
    sl_buf_put(&b, big, sizeof(big));
    assert_int_equal(b.err, SL_ENOMEM);
    assert_int_equal(b.len, 3);
    sl_buf_put_u8(&b, 1); /* fits in the storage, but err is sticky */
    sl_buf_printf(&b, "%d", 42);
    sl_buf_put_str(&b, "x");
    sl_buf_put_u64(&b, 1);
    assert_int_equal(b.len, 3);
    assert_int_equal(sl_buf_reserve(&b, 1), SL_ENOMEM);
    assert_null(sl_buf_cstr(&b));
    assert_int_equal(b.err, SL_ENOMEM);
    assert_memory_equal(b.p, "abc", 3);
    /* reset clears the error and keeps the storage. */
    sl_buf_reset(&b);
    assert_int_equal(b.err, 0);
    assert_int_equal(b.len, 0);
    assert_int_equal(b.cap, cap);
    assert_ptr_equal(b.p, p);
    sl_buf_put(&b, "ok", 2);
    assert_string_equal(sl_buf_cstr(&b), "ok");
    sl_buf_release(&b);
}

static void test_first_alloc_fails(void **state)
{
    sl_buf b;
    (void)state;
    sl_buf_init(&b);
    fail_next_realloc = 1;
    sl_buf_printf(&b, "%s", "hello");
    assert_int_equal(b.err, SL_ENOMEM);
    assert_int_equal(b.len, 0);
    assert_null(b.p);
    assert_null(sl_buf_cstr(&b));
    sl_buf_release(&b);
}

static void test_reserve_overflow(void **state)
{
    sl_buf b;
    (void)state;
    sl_buf_init(&b);
    sl_buf_put(&b, "a", 1);
    /* len + extra wraps size_t: refused without trying to allocate. */
    assert_int_equal(sl_buf_reserve(&b, SIZE_MAX), SL_ENOMEM);
    assert_int_equal(b.err, SL_ENOMEM);
    assert_int_equal(b.len, 1);
    sl_buf_reset(&b);
    /* Doubling the capacity would wrap. */
    assert_int_equal(sl_buf_reserve(&b, SIZE_MAX / 2 + 2), SL_ENOMEM);
    sl_buf_reset(&b);
    assert_int_equal(sl_buf_reserve(&b, 1000), 0);
    assert_true(b.cap >= 1000);
    sl_buf_release(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_init_release),
        cmocka_unit_test(test_put_grows),
        cmocka_unit_test(test_big_endian),
        cmocka_unit_test(test_printf),
        cmocka_unit_test(test_cstr),
        cmocka_unit_test(test_sticky_error),
        cmocka_unit_test(test_first_alloc_fails),
        cmocka_unit_test(test_reserve_overflow),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
