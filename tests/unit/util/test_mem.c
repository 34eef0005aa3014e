/*
 * test_mem.c: growth of heap arrays by sl_reserve (src/util/mem.c).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "slaledger/util.h"

typedef struct pair {
    int64_t a, b;
} pair;

static void test_grows_and_keeps_content(void **state)
{
    (void)state;
    pair *v = NULL;
    size_t cap = 0;
    assert_int_equal(sl_reserve(&v, &cap, 0, sizeof(*v)), 0);
    assert_null(v);
    for (size_t i = 0; i < 1000; i++) {
        assert_int_equal(sl_reserve(&v, &cap, i + 1, sizeof(*v)), 0);
        assert_true(cap >= i + 1);
        v[i] = (pair){(int64_t)i, -(int64_t)i};
    }
    assert_int_equal(cap, 1024); /* 8 doubled seven times */
    for (size_t i = 0; i < 1000; i++)
        assert_int_equal(v[i].a + v[i].b, 0);
    void *before = v;
    assert_int_equal(sl_reserve(&v, &cap, 1024, sizeof(*v)), 0); /* enough already: no move */
    assert_ptr_equal(v, before);
    free(v);
}

static void test_refuses_overflow_unchanged(void **state)
{
    (void)state;
    char *v = NULL;
    size_t cap = 0;
    assert_int_equal(sl_reserve(&v, &cap, 3, 1), 0);
    assert_int_equal(cap, 8);
    char *before = v;
    assert_int_equal(sl_reserve(&v, &cap, SIZE_MAX, 1), SL_ENOMEM);
    assert_int_equal(sl_reserve(&v, &cap, SIZE_MAX / 4, 16), SL_ENOMEM);
    assert_ptr_equal(v, before);
    assert_int_equal(cap, 8);
    free(v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_grows_and_keeps_content),
        cmocka_unit_test(test_refuses_overflow_unchanged),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
