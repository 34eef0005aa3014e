/*
 * test_error.c: sl_strerror, sl_error_set and the sl_diags list of src/util/error.c:
 * every code has a distinct name, text is truncated not overrun, the list caps at
 * SL_DIAGS_MAX and counts what it drops, including when allocation fails (error.c is included
 * with realloc redirected for that).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static int fail_realloc; /* while set, realloc fails */

static void *fault_realloc(void *p, size_t n)
{
    return fail_realloc ? NULL : realloc(p, n);
}

#define realloc fault_realloc
#include "util/error.c"
#undef realloc

static void test_strerror(void **state)
{
    const int codes[] = {SL_OK,     SL_EINVAL,    SL_ENOMEM,   SL_ENOENT, SL_EEXIST, SL_EPERM,
                         SL_ESTATE, SL_EOVERFLOW, SL_EFUNDS,   SL_EDUP,   SL_ETIME,  SL_EIO,
                         SL_EPARSE, SL_EAUTH,     SL_ECORRUPT, SL_EBUSY};
    const size_t n = sizeof(codes) / sizeof(codes[0]);
    const char *unknown = sl_strerror(-1000);
    (void)state;
    assert_string_equal(sl_strerror(SL_EINVAL), "invalid input");
    assert_string_equal(unknown, "unknown error");
    assert_string_equal(sl_strerror(1), "unknown error");
    for (size_t i = 0; i < n; i++) {
        const char *a = sl_strerror(codes[i]);
        assert_true(a[0] != '\0');
        assert_string_not_equal(a, unknown);
        for (size_t j = i + 1; j < n; j++)
            assert_string_not_equal(a, sl_strerror(codes[j]));
    }
}

static void test_error_set(void **state)
{
    sl_error err;
    (void)state;
    memset(&err, 0x7f, sizeof(err));
    assert_int_equal(sl_error_set(&err, SL_EOVERFLOW, "spec.fee", "amount %s overflows", "1e99"),
                     SL_EOVERFLOW);
    assert_int_equal(err.code, SL_EOVERFLOW);
    assert_string_equal(err.field, "spec.fee");
    assert_string_equal(err.msg, "amount 1e99 overflows");
    assert_int_equal(err.line, 0);
    assert_int_equal(err.column, 0);
    /* NULL field is empty; NULL err still returns the code. */
    assert_int_equal(sl_error_set(&err, SL_ENOMEM, NULL, "out of memory"), SL_ENOMEM);
    assert_string_equal(err.field, "");
    assert_int_equal(sl_error_set(NULL, SL_EPERM, "x", "%d", 1), SL_EPERM);
}

static void test_error_truncates(void **state)
{
    sl_error err;
    char longtext[1000];
    (void)state;
    memset(longtext, 'f', sizeof(longtext) - 1);
    longtext[sizeof(longtext) - 1] = '\0';
    sl_error_set(&err, SL_EINVAL, longtext, "%s!", longtext);
    assert_int_equal(strlen(err.field), sizeof(err.field) - 1);
    assert_int_equal(strlen(err.msg), sizeof(err.msg) - 1);
    assert_int_equal(err.msg[0], 'f');
}

static void test_diags_add(void **state)
{
    sl_diags d = {0};
    (void)state;
    sl_diags_add(&d, SL_EPARSE, 3, 7, "spec", "expected %s", "a mapping");
    sl_diags_add(&d, SL_EINVAL, 0, 0, NULL, "no position");
    assert_int_equal(d.n, 2);
    assert_int_equal(d.dropped, 0);
    assert_int_equal(d.v[0].code, SL_EPARSE);
    assert_int_equal(d.v[0].line, 3);
    assert_int_equal(d.v[0].column, 7);
    assert_string_equal(d.v[0].field, "spec");
    assert_string_equal(d.v[0].msg, "expected a mapping");
    assert_string_equal(d.v[1].field, "");
    assert_int_equal(d.v[1].line, 0);
    sl_diags_release(&d);
    assert_null(d.v);
    assert_int_equal(d.n, 0);
    assert_int_equal(d.cap, 0);
    sl_diags_release(&d); /* twice is fine */
    sl_diags_release(NULL);
    sl_diags_add(NULL, SL_EINVAL, 1, 1, "x", "ignored");
}

static void test_diags_cap(void **state)
{
    sl_diags d = {0};
    (void)state;
    for (int i = 0; i < SL_DIAGS_MAX + 50; i++)
        sl_diags_add(&d, SL_EINVAL, i + 1, 1, "f", "error %d", i);
    assert_int_equal(d.n, SL_DIAGS_MAX);
    assert_int_equal(d.dropped, 50);
    assert_true(d.cap <= SL_DIAGS_MAX);
    for (int i = 0; i < SL_DIAGS_MAX; i++)
        assert_int_equal(d.v[i].line, i + 1); /* the first ones are kept, in order */
    assert_string_equal(d.v[SL_DIAGS_MAX - 1].msg, "error 99");
    sl_diags_release(&d);
    assert_int_equal(d.dropped, 0);
}

static void test_diags_nomem(void **state)
{
    sl_diags d = {0};
    (void)state;
    fail_realloc = 1;
    sl_diags_add(&d, SL_EINVAL, 1, 1, "a", "lost");
    assert_int_equal(d.n, 0);
    assert_int_equal(d.dropped, 1);
    fail_realloc = 0;
    sl_diags_add(&d, SL_EINVAL, 2, 1, "b", "kept");
    assert_int_equal(d.n, 1);
    assert_string_equal(d.v[0].msg, "kept");
    /* Fill the storage, then fail the next growth: earlier entries survive. */
    while (d.n < d.cap)
        sl_diags_add(&d, SL_EINVAL, 3, 1, "c", "fill");
    fail_realloc = 1;
    sl_diags_add(&d, SL_EINVAL, 4, 1, "d", "lost too");
    fail_realloc = 0;
    assert_int_equal(d.dropped, 2);
    assert_string_equal(d.v[0].msg, "kept");
    assert_string_equal(d.v[d.n - 1].msg, "fill");
    sl_diags_release(&d);
}

static void test_error_token(void **state)
{
    (void)state;
    assert_string_equal(sl_error_token(SL_EINVAL), "EINVAL");
    assert_string_equal(sl_error_token(SL_EBUSY), "EBUSY");
    assert_string_equal(sl_error_token(0), "OK");
    assert_string_equal(sl_error_token(-1000), "EUNKNOWN");
    assert_string_equal(sl_error_token(3), "EUNKNOWN");
    for (int c = SL_EINVAL; c >= SL_EBUSY; c--)
        assert_int_equal(sl_error_from_token(sl_error_token(c)), c);
    assert_int_equal(sl_error_from_token("OK"), SL_EIO);
    assert_int_equal(sl_error_from_token("EUNKNOWN"), SL_EIO);
    assert_int_equal(sl_error_from_token(NULL), SL_EIO);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_strerror),    cmocka_unit_test(test_error_token),
        cmocka_unit_test(test_error_set),   cmocka_unit_test(test_error_truncates),
        cmocka_unit_test(test_diags_add),   cmocka_unit_test(test_diags_cap),
        cmocka_unit_test(test_diags_nomem),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
