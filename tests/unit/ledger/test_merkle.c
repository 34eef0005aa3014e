/*
 * test_merkle.c: RFC 6962 known answers (tests/vectors/merkle_rfc6962.txt) for roots and audit
 * paths, then every leaf of every tree size up to 70 proves itself and nothing else does.
 * Includes merkle.c to feed the reference leaves (of any length) to its leaf-hash core.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ledger/merkle.c"

typedef struct vectors {
    hash_t leaf[8];
    int n_leaves;
} vectors;

static void unhex_or_fail(const char *s, uint8_t *out, size_t n)
{
    if (sl_unhex(s, strlen(s), out, n) != 0)
        fail_msg("bad hex in vectors: %s", s);
}

static FILE *open_vectors(void)
{
    const char *dir = getenv("SL_SOURCE_DIR");
    char path[1024];
    snprintf(path, sizeof(path), "%s/tests/vectors/merkle_rfc6962.txt", dir ? dir : ".");
    FILE *f = fopen(path, "r");
    if (!f)
        fail_msg("cannot open %s", path);
    return f;
}

static void check_root_line(vectors *v, char *rest)
{
    size_t size = strtoul(strtok_r(rest, " ", &rest), NULL, 10);
    uint8_t want[SL_HASH_LEN], got[SL_HASH_LEN];
    unhex_or_fail(strtok_r(rest, " \n", &rest), want, SL_HASH_LEN);
    if (size == 0) {
        assert_int_equal(sl_merkle_root(NULL, 0, got), 0);
    } else {
        hash_t scratch[8];
        subtree_root((const hash_t *)v->leaf, size, scratch, got);
    }
    assert_memory_equal(got, want, SL_HASH_LEN);
}

static void check_path_line(vectors *v, char *rest)
{
    size_t index = strtoul(strtok_r(rest, " ", &rest), NULL, 10);
    size_t size = strtoul(strtok_r(rest, " \n", &rest), NULL, 10);
    hash_t want[8], got[SL_MERKLE_MAX_PATH], scratch[8];
    size_t n_want = 0, n_got = 0;
    for (char *h; (h = strtok_r(rest, " \n", &rest));)
        unhex_or_fail(h, want[n_want++], SL_HASH_LEN);
    path_of((const hash_t *)v->leaf, size, index, scratch, got, &n_got);
    assert_int_equal(n_got, n_want);
    assert_memory_equal(got, want, n_want * SL_HASH_LEN);
    uint8_t root[SL_HASH_LEN];
    subtree_root((const hash_t *)v->leaf, size, scratch, root);
    assert_int_equal(check_leaf_hash(v->leaf[index], index, size, (const hash_t *)got, n_got, root),
                     0);
}

static void test_rfc6962_vectors(void **state)
{
    (void)state;
    vectors v = {0};
    FILE *f = open_vectors();
    char line[1024];
    int roots = 0, paths = 0;
    while (fgets(line, sizeof(line), f)) {
        char *rest = line;
        char *kind = strtok_r(rest, " \n", &rest);
        if (!kind || kind[0] == '#')
            continue;
        if (strcmp(kind, "leaf") == 0) {
            char *hex = strtok_r(rest, " \n", &rest);
            uint8_t data[64];
            size_t n = strcmp(hex, "-") == 0 ? 0 : strlen(hex) / 2;
            unhex_or_fail(n ? hex : "", data, n);
            leaf_hash(data, n, v.leaf[v.n_leaves++]);
        } else if (strcmp(kind, "root") == 0) {
            check_root_line(&v, rest);
            roots++;
        } else if (strcmp(kind, "path") == 0) {
            check_path_line(&v, rest);
            paths++;
        }
    }
    fclose(f);
    assert_int_equal(v.n_leaves, 8);
    assert_int_equal(roots, 9);
    assert_int_equal(paths, 4);
}

/* Every leaf proves itself under the root for every size; a wrong index, size, leaf, path
 * element or root fails; a path of one tree size does not serve another. */
static void test_every_size_round_trip(void **state)
{
    (void)state;
    enum { MAX = 70 };
    uint8_t ids[MAX][SL_HASH_LEN];
    for (int i = 0; i < MAX; i++)
        sl_sha256(&i, sizeof(i), ids[i]);
    for (size_t n = 1; n <= MAX; n++) {
        uint8_t root[SL_HASH_LEN];
        assert_int_equal(sl_merkle_root((const uint8_t(*)[SL_HASH_LEN])ids, n, root), 0);
        for (size_t i = 0; i < n; i++) {
            uint8_t path[SL_MERKLE_MAX_PATH][SL_HASH_LEN];
            size_t len;
            const uint8_t(*cp)[SL_HASH_LEN] = (const uint8_t(*)[SL_HASH_LEN])path;
            assert_int_equal(sl_merkle_path((const uint8_t(*)[SL_HASH_LEN])ids, n, i, path, &len),
                             0);
            assert_int_equal(sl_merkle_check(ids[i], i, n, cp, len, root), 0);
            assert_int_equal(sl_merkle_check(ids[(i + 1) % MAX], i, n, cp, len, root), SL_EAUTH);
            if (n > 1)
                assert_int_equal(sl_merkle_check(ids[i], (i + 1) % n, n, cp, len, root), SL_EAUTH);
            if (len > 0) {
                path[len / 2][3] ^= 0x40;
                assert_int_equal(sl_merkle_check(ids[i], i, n, cp, len, root), SL_EAUTH);
                path[len / 2][3] ^= 0x40;
                assert_int_equal(sl_merkle_check(ids[i], i, n, cp, len - 1, root), SL_EAUTH);
            }
            root[0] ^= 1;
            assert_int_equal(sl_merkle_check(ids[i], i, n, cp, len, root), SL_EAUTH);
            root[0] ^= 1;
            assert_int_equal(sl_merkle_check(ids[i], n, n, cp, len, root), SL_EAUTH);
        }
    }
    size_t len;
    uint8_t path[SL_MERKLE_MAX_PATH][SL_HASH_LEN];
    assert_int_equal(sl_merkle_path((const uint8_t(*)[SL_HASH_LEN])ids, 3, 3, path, &len),
                     SL_EINVAL);
}

/* A block of one transaction: the root is the leaf hash, the path is empty. */
static void test_single(void **state)
{
    (void)state;
    uint8_t id[SL_HASH_LEN] = {7}, root[SL_HASH_LEN], lh[SL_HASH_LEN];
    assert_int_equal(sl_merkle_root((const uint8_t(*)[SL_HASH_LEN])id, 1, root), 0);
    leaf_hash(id, SL_HASH_LEN, lh);
    assert_memory_equal(root, lh, SL_HASH_LEN);
    assert_int_equal(sl_merkle_check(id, 0, 1, NULL, 0, root), 0);
    assert_memory_not_equal(root, id, SL_HASH_LEN); /* leaves are domain-separated */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc6962_vectors),
        cmocka_unit_test(test_every_size_round_trip),
        cmocka_unit_test(test_single),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
