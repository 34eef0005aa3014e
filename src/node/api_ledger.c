/*
 * api_ledger.c: the routes that read a channel's ledger as it is stored: one transaction with
 * its inclusion proof, block headers, and one block with its transactions. Only members of a
 * channel read it; anyone else gets 404 exactly as for what does not exist.
 *
 * Thread-safety: handlers run concurrently on the HTTP threads over thread-safe ledgers.
 */
#include <string.h>

#include <jansson.h>

#include "node/api_int.h"

static int transaction(void *ctx, sl_req *req, sl_resp *resp)
{
    sl__node *n = ctx;
    uint8_t id[SL_HASH_LEN];
    if (sl_unhex(req->params[0], strlen(req->params[0]), id, SL_HASH_LEN))
        return sl_http_error(resp, 400, SL_EINVAL, "id", "expected 64 hex digits");
    for (size_t i = 0; i < n->n_channels; i++) {
        sl__channel *ch = &n->channels[i];
        if (!sl__api_member_of(ch, &req->caller))
            continue;
        sl_tx_record rec;
        sl_buf bytes, proof;
        sl_error err;
        sl_buf_init(&bytes);
        sl_buf_init(&proof);
        if (sl_ledger_tx(ch->ledger, id, &rec, &bytes, &err) == 0 &&
            sl_ledger_proof(ch->ledger, id, &proof, &err) == 0) {
            sl_tx_decoded *d = NULL;
            sl_buf txj;
            sl_buf_init(&txj);
            if (sl_tx_decode(bytes.p, bytes.len, bytes.len, &d, &err) == 0)
                sl_tx_to_json(d, &txj);
            json_t *j =
                json_pack("{s:s, s:I, s:I, s:s, s:s, s:o?, s:o?}", "channel", ch->name, "height",
                          (json_int_t)rec.height, "index", (json_int_t)rec.index, "code",
                          sl_txcode_name(rec.code), "reason", rec.reason, "transaction",
                          txj.len ? json_loadb((const char *)txj.p, txj.len, 0, NULL) : NULL,
                          "proof", json_loadb((const char *)proof.p, proof.len, 0, NULL));
            sl_tx_free(d);
            sl_buf_release(&txj);
            sl_buf_release(&bytes);
            sl_buf_release(&proof);
            return sl__api_reply(resp, 200, j);
        }
        sl_buf_release(&bytes);
        sl_buf_release(&proof);
    }
    return sl_http_error(resp, 404, SL_ENOENT, "id", "no such transaction on this node");
}

/* ---- history, events, services, blocks ---- */

/* GET /v1/channels/{channel}/blocks?from=&limit=: headers, newest last. */
static int blocks(void *ctx, sl_req *req, sl_resp *resp)
{
    sl__node *n = ctx;
    sl__channel *ch = sl__node_channel(n, req->params[0]);
    if (!ch || !sl__api_member_of(ch, &req->caller))
        return sl_http_error(resp, 404, SL_ENOENT, "channel", "no channel '%s'", req->params[0]);
    uint64_t head = sl_ledger_height(ch->ledger, NULL);
    int64_t from = head > 20 ? (int64_t)head - 19 : 0, limit = 20;
    if (sl__api_query_count(req, "from", INT64_MAX / 2, &from, resp) != 1 ||
        sl__api_query_count(req, "limit", 1000, &limit, resp) != 1)
        return 0;
    json_t *arr = json_array();
    for (int64_t h = from; arr && h <= (int64_t)head && h < from + limit; h++) {
        sl_buf b;
        sl_block *blk = NULL;
        sl_error err;
        sl_buf_init(&b);
        if (sl_ledger_block(ch->ledger, (uint64_t)h, &b, &err) == 0 &&
            sl_block_decode(b.p, b.len, &blk, &err) == 0) {
            uint8_t hash[SL_HASH_LEN];
            char hex[2 * SL_HASH_LEN + 1], t[40];
            if (sl_block_hash(&blk->header, hash) == 0) {
                sl_hex(hash, SL_HASH_LEN, hex);
                sl_time_format(blk->header.time_ms, t, sizeof(t));
                json_array_append_new(arr, json_pack("{s:I, s:s, s:s, s:I, s:s}", "height",
                                                     (json_int_t)h, "hash", hex, "time", t,
                                                     "transactions", (json_int_t)blk->header.n_tx,
                                                     "orderer", blk->header.orderer.subject));
            }
        }
        sl_block_free(blk);
        sl_buf_release(&b);
    }
    return sl__api_reply(
        resp, 200,
        json_pack("{s:s, s:I, s:o}", "channel", ch->name, "head", (json_int_t)head, "blocks", arr));
}

/* One transaction of a block for GET .../blocks/{height}: id, type, signer, code, reason. */
static json_t *block_tx_json(sl__channel *ch, size_t i, const uint8_t *p, size_t len, int code)
{
    uint8_t id[SL_HASH_LEN];
    char hex[2 * SL_HASH_LEN + 1];
    sl_tx_decoded *d = NULL;
    sl_tx_record rec;
    sl_error err = {0};
    json_t *j;

    sl_sha256(p, len, id);
    sl_hex(id, SL_HASH_LEN, hex);
    j = json_pack("{s:I, s:s, s:s}", "index", (json_int_t)i, "id", hex, "code",
                  sl_txcode_name((sl_txcode)code));
    if (j && sl_tx_decode(p, len, len, &d, &err) == 0) {
        json_object_set_new(j, "type", json_string(sl_tx_type_name(d->tx.type)));
        json_object_set_new(j, "signer",
                            json_pack("{s:s, s:s, s:s}", "subject", d->tx.cert.subject, "org",
                                      d->tx.cert.org, "role", sl_role_name(d->tx.cert.role)));
    } else if (j) {
        json_object_set_new(j, "type", json_string("genesis")); /* the channel document */
    }
    if (j && code != SL_TXC_VALID && sl_ledger_tx(ch->ledger, id, &rec, NULL, &err) == 0)
        json_object_set_new(j, "reason", json_string(rec.reason));
    sl_tx_free(d);
    return j;
}

/* GET /v1/channels/{channel}/blocks/{height}: a block's header and its transactions. */
static int block(void *ctx, sl_req *req, sl_resp *resp)
{
    sl__node *n = ctx;
    sl__channel *ch = sl__node_channel(n, req->params[0]);
    sl_buf b, codes;
    sl_block *blk = NULL;
    sl_error err = {0};
    int64_t h = -1;
    int rc = 0;

    if (!ch || !sl__api_member_of(ch, &req->caller))
        return sl_http_error(resp, 404, SL_ENOENT, "channel", "no channel '%s'", req->params[0]);
    if (sl__api_count_parse(req->params[1], INT64_MAX / 2, &h) != 0)
        return sl_http_error(resp, 400, SL_EINVAL, "height", "expected a block height");
    sl_buf_init(&b);
    sl_buf_init(&codes);
    if (sl_ledger_block(ch->ledger, (uint64_t)h, &b, &err) != 0 ||
        sl_ledger_block_codes(ch->ledger, (uint64_t)h, &codes, &err) != 0 ||
        sl_block_decode(b.p, b.len, &blk, &err) != 0) {
        rc = sl_http_error(resp, err.code == SL_ENOENT ? 404 : 500, err.code, "height", "%s",
                           err.msg);
        goto out;
    }
    uint8_t hash[SL_HASH_LEN];
    char hex[2 * SL_HASH_LEN + 1], prev[2 * SL_HASH_LEN + 1], t[40];
    if (sl_block_hash(&blk->header, hash) != 0) {
        rc = SL_ENOMEM;
        goto out;
    }
    json_t *txs = json_array();
    sl_hex(hash, SL_HASH_LEN, hex);
    sl_hex(blk->header.prev, SL_HASH_LEN, prev);
    sl_time_format(blk->header.time_ms, t, sizeof(t));
    for (size_t i = 0; txs && i < blk->n && i < codes.len; i++)
        json_array_append_new(txs, block_tx_json(ch, i, blk->txs[i], blk->tx_lens[i], codes.p[i]));
    rc = sl__api_reply(resp, 200,
                       json_pack("{s:s, s:I, s:s, s:s, s:s, s:s, s:o}", "channel", ch->name,
                                 "height", (json_int_t)h, "hash", hex, "prev", prev, "time", t,
                                 "orderer", blk->header.orderer.subject, "transactions", txs));
out:
    sl_block_free(blk);
    sl_buf_release(&b);
    sl_buf_release(&codes);
    return rc;
}

int sl__api_ledger_register(sl__node *n)
{
    sl_http *h = n->http;
    int rc = 0;
    rc |= sl_http_route(h, "GET", "/v1/channels/{channel}/blocks", 0, blocks, n);
    rc |= sl_http_route(h, "GET", "/v1/channels/{channel}/blocks/{height}", 0, block, n);
    rc |= sl_http_route(h, "GET", "/v1/transactions/{id}", 0, transaction, n);
    return rc;
}
