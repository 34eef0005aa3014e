/*
 * merkle.c: Merkle trees over a block's transaction ids, as RFC 6962 (Certificate
 * Transparency) defines them: leaf hash H(0x00 || id), interior H(0x01 || left || right), a
 * tree of n leaves splits at the largest power of two below n, and an odd node is carried up,
 * never duplicated (so no two different lists share a root, unlike Bitcoin's tree).
 *
 * Audit paths list sibling hashes from the leaf up; sl_merkle_check follows RFC 9162 section
 * 2.1.3.2. Everything works on leaf hashes internally, so the known-answer test can feed RFC
 * 6962's vectors (leaves of any length) to the same code. Thread-safety: reentrant.
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "slaledger/ledger.h"

typedef uint8_t hash_t[SL_HASH_LEN];

static void node_hash(const uint8_t l[SL_HASH_LEN], const uint8_t r[SL_HASH_LEN],
                      uint8_t out[SL_HASH_LEN])
{
    crypto_hash_sha256_state st;
    const uint8_t tag = 1;
    crypto_hash_sha256_init(&st);
    crypto_hash_sha256_update(&st, &tag, 1);
    crypto_hash_sha256_update(&st, l, SL_HASH_LEN);
    crypto_hash_sha256_update(&st, r, SL_HASH_LEN);
    crypto_hash_sha256_final(&st, out);
}

static void leaf_hash(const uint8_t *data, size_t len, uint8_t out[SL_HASH_LEN])
{
    crypto_hash_sha256_state st;
    const uint8_t tag = 0;
    crypto_hash_sha256_init(&st);
    crypto_hash_sha256_update(&st, &tag, 1);
    crypto_hash_sha256_update(&st, data, len);
    crypto_hash_sha256_final(&st, out);
}

/* Root over n >= 1 leaf hashes, in place: pairs up level by level, carrying an odd last node
 * up unchanged, which yields exactly RFC 6962's split-at-a-power-of-two tree. */
static void root_in_place(hash_t *h, size_t n, uint8_t root[SL_HASH_LEN])
{
    while (n > 1) {
        size_t m = 0;
        for (size_t i = 0; i + 1 < n; i += 2)
            node_hash(h[i], h[i + 1], h[m++]);
        if (n % 2)
            memmove(h[m++], h[n - 1], SL_HASH_LEN);
        n = m;
    }
    memcpy(root, h[0], SL_HASH_LEN);
}

/* Root over leaf hashes lh[0..n), n >= 1, without touching them; scratch is n hashes. */
static void subtree_root(const hash_t *lh, size_t n, hash_t *scratch, uint8_t root[SL_HASH_LEN])
{
    memcpy(scratch, lh, n * sizeof(hash_t));
    root_in_place(scratch, n, root);
}

static size_t split_point(size_t n) /* largest power of two < n, for n >= 2 */
{
    size_t k = 1;
    while (k << 1 < n)
        k <<= 1;
    return k;
}

/* RFC 6962 PATH(m, D[n]) over leaf hashes, written leaf-most first. */
static void path_of(const hash_t *lh, size_t n, size_t m, hash_t *scratch, hash_t *path,
                    size_t *len)
{
    if (n <= 1)
        return;
    size_t k = split_point(n);
    uint8_t sibling[SL_HASH_LEN];
    if (m < k) {
        path_of(lh, k, m, scratch, path, len);
        subtree_root(lh + k, n - k, scratch, sibling);
    } else {
        path_of(lh + k, n - k, m - k, scratch, path, len);
        subtree_root(lh, k, scratch, sibling);
    }
    memcpy(path[(*len)++], sibling, SL_HASH_LEN);
}

static int check_leaf_hash(const uint8_t lh[SL_HASH_LEN], size_t index, size_t n,
                           const hash_t *path, size_t len, const uint8_t root[SL_HASH_LEN])
{
    if (index >= n)
        return SL_EAUTH;
    size_t fn = index, sn = n - 1;
    uint8_t r[SL_HASH_LEN];
    memcpy(r, lh, SL_HASH_LEN);
    for (size_t i = 0; i < len; i++) {
        if (sn == 0)
            return SL_EAUTH; /* path longer than the tree is deep */
        if ((fn & 1) || fn == sn) {
            node_hash(path[i], r, r);
            while (!(fn & 1) && fn != 0) {
                fn >>= 1;
                sn >>= 1;
            }
        } else {
            node_hash(r, path[i], r);
        }
        fn >>= 1;
        sn >>= 1;
    }
    return sn == 0 && sodium_memcmp(r, root, SL_HASH_LEN) == 0 ? 0 : SL_EAUTH;
}

static hash_t *leaf_hashes(const uint8_t (*ids)[SL_HASH_LEN], size_t n)
{
    hash_t *lh = malloc((n ? n : 1) * sizeof(hash_t));
    for (size_t i = 0; lh && i < n; i++)
        leaf_hash(ids[i], SL_HASH_LEN, lh[i]);
    return lh;
}

int sl_merkle_root(const uint8_t (*ids)[SL_HASH_LEN], size_t n, uint8_t root[SL_HASH_LEN])
{
    if (n == 0) {
        crypto_hash_sha256(root, NULL, 0);
        return 0;
    }
    hash_t *lh = leaf_hashes(ids, n);
    if (!lh)
        return SL_ENOMEM;
    root_in_place(lh, n, root);
    free(lh);
    return 0;
}

int sl_merkle_path(const uint8_t (*ids)[SL_HASH_LEN], size_t n, size_t index,
                   uint8_t (*path)[SL_HASH_LEN], size_t *len)
{
    *len = 0;
    if (index >= n)
        return SL_EINVAL;
    hash_t *lh = leaf_hashes(ids, n);
    hash_t *scratch = malloc(n * sizeof(hash_t));
    int rc = lh && scratch ? 0 : SL_ENOMEM;
    if (!rc)
        path_of((const hash_t *)lh, n, index, scratch, path, len);
    free(lh);
    free(scratch);
    return rc;
}

int sl_merkle_check(const uint8_t id[SL_HASH_LEN], size_t index, size_t n,
                    const uint8_t (*path)[SL_HASH_LEN], size_t len, const uint8_t root[SL_HASH_LEN])
{
    uint8_t lh[SL_HASH_LEN];
    if (len > SL_MERKLE_MAX_PATH)
        return SL_EAUTH;
    leaf_hash(id, SL_HASH_LEN, lh);
    return check_leaf_hash(lh, index, n, path, len, root);
}
