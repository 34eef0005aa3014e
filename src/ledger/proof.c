/*
 * proof.c: inclusion proofs. A proof carries a transaction's bytes, the Merkle audit path to
 * its block's root, the block's validation codes, and the headers from its block to the head,
 * all as hex in a small JSON document:
 *
 *   {"version":1, "channel":..., "id":..., "tx":..., "height":h, "index":i, "n_tx":n,
 *    "path":[...], "codes":..., "headers":[header h, h+1, ..., head]}
 *
 * Checking needs nothing but the channel's genesis block: the transaction's certificate and
 * signature against the genesis members, the path against header h's Merkle root, the codes
 * against its results hash, and every header's orderer signature and hash link up to the head.
 * Thread-safety: sl_ledger_proof takes the ledger's lock; sl_proof_check is reentrant.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ledger/ledger_int.h"

static void put_hex(sl_buf *out, const uint8_t *p, size_t n)
{
    if (sl_buf_reserve(out, 2 * n + 1))
        return;
    sl_hex(p, n, (char *)out->p + out->len);
    out->len += 2 * n;
}

/* The stored block's ids and codes, and the header bytes from height to the head. */
static int write_proof(sl_ledger *l, uint64_t h, size_t idx, sl_buf *out, sl_error *err)
{
    sl__stored_block sb;
    int rc = sl__store_read(l->store, h, &sb, err);
    if (rc)
        return rc;
    uint8_t(*ids)[SL_HASH_LEN] = malloc((sb.n ? sb.n : 1) * SL_HASH_LEN);
    uint8_t *codes = malloc(sb.n ? sb.n : 1);
    uint8_t path[SL_MERKLE_MAX_PATH][SL_HASH_LEN];
    size_t len = 0;
    if (!ids || !codes) {
        rc = sl_error_set(err, SL_ENOMEM, NULL, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < sb.n; i++) {
        sl_sha256(sb.txs[i].bytes, sb.txs[i].len, ids[i]);
        codes[i] = (uint8_t)sb.txs[i].code;
    }
    if ((rc = sl_merkle_path((const uint8_t(*)[SL_HASH_LEN])ids, sb.n, idx, path, &len))) {
        sl_error_set(err, rc, NULL, "out of memory");
        goto out;
    }
    sl_buf_printf(out, "{\"version\":1,\"channel\":\"%s\",\"id\":\"", l->channel->name);
    put_hex(out, ids[idx], SL_HASH_LEN);
    sl_buf_printf(out, "\",\"tx\":\"");
    put_hex(out, sb.txs[idx].bytes, sb.txs[idx].len);
    sl_buf_printf(out, "\",\"height\":%llu,\"index\":%zu,\"n_tx\":%zu,\"path\":[",
                  (unsigned long long)h, idx, sb.n);
    for (size_t i = 0; i < len; i++) {
        sl_buf_printf(out, "%s\"", i ? "," : "");
        put_hex(out, path[i], SL_HASH_LEN);
        sl_buf_printf(out, "\"");
    }
    sl_buf_printf(out, "],\"codes\":\"");
    put_hex(out, codes, sb.n);
    sl_buf_printf(out, "\",\"headers\":[");
    for (uint64_t k = h; k <= l->head.height; k++) {
        sl__stored_block hb;
        if ((rc = sl__store_read(l->store, k, &hb, err)))
            goto out;
        sl_buf_printf(out, "%s\"", k > h ? "," : "");
        put_hex(out, hb.header, hb.header_len);
        sl_buf_printf(out, "\"");
        sl__stored_block_release(&hb);
    }
    sl_buf_printf(out, "]}\n");
    if (out->err)
        rc = sl_error_set(err, SL_ENOMEM, NULL, "out of memory");
out:
    free(ids);
    free(codes);
    sl__stored_block_release(&sb);
    return rc;
}

int sl_ledger_proof(sl_ledger *l, const uint8_t id[SL_HASH_LEN], sl_buf *out, sl_error *err)
{
    pthread_rwlock_wrlock(&l->mu);
    sqlite3 *db = sl__store_db(l->store);
    sqlite3_stmt *q = NULL;
    int rc;
    /* The same bytes may sit in several blocks (replays are recorded); prove the valid one. */
    if (sqlite3_prepare_v2(db,
                           "SELECT height, idx FROM txs WHERE id = ?1 "
                           "ORDER BY code != 0, height, idx LIMIT 1",
                           -1, &q, NULL)) {
        rc = sl_error_set(err, SL_EIO, "database", "%s", sqlite3_errmsg(db));
    } else {
        sqlite3_bind_blob(q, 1, id, SL_HASH_LEN, SQLITE_STATIC);
        if (sqlite3_step(q) == SQLITE_ROW)
            rc = write_proof(l, (uint64_t)sqlite3_column_int64(q, 0),
                             (size_t)sqlite3_column_int64(q, 1), out, err);
        else
            rc = sl_error_set(err, SL_ENOENT, "id", "no such transaction in the ledger");
    }
    sqlite3_finalize(q);
    pthread_rwlock_unlock(&l->mu);
    return rc;
}

/* ---- checking ---- */

/* Decodes a JSON hex string into a new buffer (caller frees); NULL if it is not one. */
static uint8_t *hex_value(json_t *v, size_t *n)
{
    const char *s = json_string_value(v);
    if (!s)
        return NULL;
    size_t len = strlen(s);
    uint8_t *p = malloc(len / 2 + 1);
    if (p && (len % 2 || sl_unhex(s, len, p, len / 2))) {
        free(p);
        return NULL;
    }
    *n = len / 2;
    return p;
}

static uint8_t *hex_member(json_t *obj, const char *key, size_t *n)
{
    return hex_value(json_object_get(obj, key), n);
}

static int hex_hash(json_t *v, uint8_t out[SL_HASH_LEN])
{
    const char *s = json_string_value(v);
    return s ? sl_unhex(s, strlen(s), out, SL_HASH_LEN) : SL_EINVAL;
}

typedef struct proof {
    json_t *root;
    sl_channel_spec *ch;
    sl__ids cc;
    uint8_t *tx, *codes;
    size_t tx_len, n_codes;
    sl_tx_decoded *d;
    sl_block_header first;
} proof;

/* Every header's signature, height and link to the one before. */
static int check_chain(proof *p, sl_proof_info *info, sl_error *err)
{
    json_t *headers = json_object_get(p->root, "headers");
    size_t n = json_array_size(headers);
    if (n == 0)
        return sl_error_set(err, SL_EINVAL, "headers", "proof has no block headers");
    uint8_t prev_hash[SL_HASH_LEN];
    sl_block_header prev = {0};
    for (size_t i = 0; i < n; i++) {
        size_t len = 0;
        uint8_t *hb = hex_value(json_array_get(headers, i), &len);
        sl_block_header h;
        int rc = hb ? sl_block_header_decode(hb, len, &h, err)
                    : sl_error_set(err, SL_EINVAL, "headers", "header %zu is not hex", i);
        free(hb);
        if (!rc)
            rc = sl__header_verify(p->ch, &p->cc, &h, err);
        if (rc)
            return rc;
        if (i == 0) {
            p->first = h;
        } else if (h.height != prev.height + 1 || memcmp(h.prev, prev_hash, SL_HASH_LEN) != 0 ||
                   h.time_ms <= prev.time_ms) {
            return sl_error_set(err, SL_EAUTH, "headers",
                                "header of block %llu does not follow "
                                "block %llu",
                                (unsigned long long)h.height, (unsigned long long)prev.height);
        }
        if (sl_block_hash(&h, prev_hash))
            return sl_error_set(err, SL_ENOMEM, NULL, "out of memory");
        prev = h;
    }
    info->head = prev.height;
    return 0;
}

/* The transaction: decodes, its id, signer certified by a member, role, signature. */
static int check_tx(proof *p, sl_proof_info *info, sl_error *err)
{
    if (!(p->tx = hex_member(p->root, "tx", &p->tx_len)))
        return sl_error_set(err, SL_EINVAL, "tx", "proof has no transaction bytes");
    sl_sha256(p->tx, p->tx_len, info->id);
    uint8_t claimed[SL_HASH_LEN];
    if (hex_hash(json_object_get(p->root, "id"), claimed) ||
        memcmp(claimed, info->id, SL_HASH_LEN) != 0)
        return sl_error_set(err, SL_EAUTH, "id", "the transaction's id is not its SHA-256");
    sl__slot s = {.bytes = p->tx, .len = p->tx_len};
    sl__prevalidate(p->ch, &p->cc, NULL, &s, 1, p->first.time_ms, 1);
    p->d = s.tx;
    if (s.code != SL_TXC_VALID)
        return sl_error_set(err, SL_EAUTH, sl_txcode_name(s.code), "transaction: %s", s.reason);
    memcpy(info->signer, p->d->tx.cert.subject, sizeof(info->signer));
    memcpy(info->org, p->d->tx.cert.org, sizeof(info->org));
    info->type = p->d->tx.type;
    return 0;
}

/* The Merkle path from the id to the first header's root, and the codes to its results. */
static int check_inclusion(proof *p, sl_proof_info *info, sl_error *err)
{
    json_t *r = p->root;
    json_t *jh = json_object_get(r, "height"), *ji = json_object_get(r, "index"),
           *jn = json_object_get(r, "n_tx"), *jp = json_object_get(r, "path");
    if (!json_is_integer(jh) || !json_is_integer(ji) || !json_is_integer(jn) || !json_is_array(jp))
        return sl_error_set(err, SL_EINVAL, "proof", "height, index, n_tx or path missing");
    info->height = (uint64_t)json_integer_value(jh);
    info->index = (uint64_t)json_integer_value(ji);
    size_t n = (size_t)json_integer_value(jn), len = json_array_size(jp);
    if (info->height != p->first.height || n != p->first.n_tx || len > SL_MERKLE_MAX_PATH)
        return sl_error_set(err, SL_EINVAL, "proof", "height or n_tx disagree with the header");
    uint8_t path[SL_MERKLE_MAX_PATH][SL_HASH_LEN];
    for (size_t i = 0; i < len; i++)
        if (hex_hash(json_array_get(jp, i), path[i]))
            return sl_error_set(err, SL_EINVAL, "path", "path element %zu is not a hash", i);
    if (sl_merkle_check(info->id, info->index, n, (const uint8_t(*)[SL_HASH_LEN])path, len,
                        p->first.merkle))
        return sl_error_set(err, SL_EAUTH, "path",
                            "the Merkle path does not lead to block %llu's "
                            "root",
                            (unsigned long long)info->height);
    uint8_t results[SL_HASH_LEN];
    if (!(p->codes = hex_member(r, "codes", &p->n_codes)) || p->n_codes != n)
        return sl_error_set(err, SL_EINVAL, "codes", "validation codes missing or wrong length");
    sl_sha256(p->codes, p->n_codes, results);
    if (memcmp(results, p->first.results, SL_HASH_LEN) != 0)
        return sl_error_set(err, SL_EAUTH, "codes", "validation codes do not match the header");
    info->code = (sl_txcode)p->codes[info->index];
    return 0;
}

int sl_proof_check(const char *json, size_t len, const uint8_t *genesis, size_t genesis_len,
                   sl_proof_info *out, sl_error *err)
{
    proof p = {0};
    sl_block_header gh;
    memset(out, 0, sizeof(*out));
    int rc = sl__genesis_open(genesis, genesis_len, &p.ch, &gh, err);
    if (rc)
        return rc;
    if ((rc = sl__ids_init(&p.cc))) {
        sl_channel_spec_free(p.ch);
        return sl_error_set(err, rc, NULL, "out of memory");
    }
    json_error_t je;
    p.root = json_loadb(json, len, 0, &je);
    if (!p.root)
        rc = sl_error_set(err, SL_EINVAL, "proof", "not JSON: %s (line %d)", je.text, je.line);
    else if (json_integer_value(json_object_get(p.root, "version")) != 1)
        rc = sl_error_set(err, SL_EINVAL, "version", "unsupported proof version");
    if (!rc)
        rc = check_chain(&p, out, err);
    if (!rc)
        rc = check_tx(&p, out, err);
    if (!rc)
        rc = check_inclusion(&p, out, err);
    json_decref(p.root);
    sl_tx_free(p.d);
    free(p.tx);
    free(p.codes);
    sl__ids_release(&p.cc);
    sl_channel_spec_free(p.ch);
    return rc;
}
