/*
 * test_idset.c: the id set behind replay protection (src/ledger/idset.c) against a plain
 * array: random adds, deletes (with backward shifting), lookups and pruning by expiry.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>

#include <cmocka.h>

#include "ledger/idset.c"

enum { IDS = 5000 };

static void id_of(int i, uint8_t out[SL_HASH_LEN])
{
    sl_sha256(&i, sizeof(i), out);
    if (i % 7 == 0) /* crowd some into the same slots to exercise probing and shifting */
        memset(out, 0, 8);
}

static void test_against_reference(void **state)
{
    (void)state;
    static int64_t ref[IDS]; /* expiry, 0 = absent */
    sl__idset s = {0};
    uint64_t rng = 12345;
    for (int step = 0; step < 200000; step++) {
        rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
        int i = (int)((rng >> 33) % IDS);
        uint8_t id[SL_HASH_LEN];
        id_of(i, id);
        switch ((rng >> 20) % 4) {
        case 0:
        case 1:
            assert_int_equal(sl__idset_add(&s, id, 1 + i % 100), 0);
            if (!ref[i])
                ref[i] = 1 + i % 100;
            break;
        case 2:
            sl__idset_del(&s, id);
            ref[i] = 0;
            break;
        default:
            assert_int_equal(sl__idset_has(&s, id), ref[i] != 0);
        }
    }
    assert_int_equal(sl__idset_prune(&s, 50), 0);
    size_t live = 0;
    for (int i = 0; i < IDS; i++) {
        uint8_t id[SL_HASH_LEN];
        id_of(i, id);
        int want = ref[i] >= 50;
        live += want;
        assert_int_equal(sl__idset_has(&s, id), want);
    }
    assert_int_equal(s.n, live);
    sl__idset_release(&s);
    assert_int_equal(sl__idset_has(&s, (uint8_t[SL_HASH_LEN]){0}), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_against_reference),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
