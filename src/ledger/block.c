/*
 * block.c: block headers and block bytes, their hashes, and the genesis block.
 *
 * Header encoding: "SLB1", height u64, prev, merkle, time i64, state, results, n_tx u32, the
 * orderer certificate (u32 length + sl_cert_encode bytes), then the 64-byte signature over all
 * of that. The block hash is SHA-256 of the whole header, signature included, so the chain
 * commits to the signatures too. Block bytes: u32 header length, header, u32 n, n transactions
 * (u32 length + bytes each). Genesis (height 0) holds the channel document as its one
 * transaction. Thread-safety: reentrant.
 */
#include <stdlib.h>
#include <string.h>

#include "ledger/ledger_int.h"

static const uint8_t header_magic[4] = {'S', 'L', 'B', '1'};

void sl_block_header_encode(const sl_block_header *h, int with_sig, sl_buf *out)
{
    sl_buf_put(out, header_magic, 4);
    sl_buf_put_u64(out, h->height);
    sl_buf_put(out, h->prev, SL_HASH_LEN);
    sl_buf_put(out, h->merkle, SL_HASH_LEN);
    sl_buf_put_i64(out, h->time_ms);
    sl_buf_put(out, h->state, SL_HASH_LEN);
    sl_buf_put(out, h->results, SL_HASH_LEN);
    sl_buf_put_u32(out, h->n_tx);
    size_t at = out->len;
    sl_buf_put_u32(out, 0); /* certificate length, patched below */
    sl_cert_encode(&h->orderer, 1, out);
    if (!out->err) {
        size_t n = out->len - at - 4;
        for (int i = 0; i < 4; i++)
            out->p[at + i] = (uint8_t)(n >> (24 - 8 * i));
    }
    if (with_sig)
        sl_buf_put(out, h->sig, SL_SIG_LEN);
}

int sl_block_header_decode(const uint8_t *p, size_t len, sl_block_header *out, sl_error *err)
{
    sl_rd r;
    sl_rd_init(&r, p, len);
    memset(out, 0, sizeof(*out));
    const uint8_t *magic = sl_rd_bytes(&r, 4);
    if (!magic || memcmp(magic, header_magic, 4) != 0)
        return sl_error_set(err, SL_EINVAL, "header", "not a block header (bad magic)");
    out->height = sl_rd_u64(&r);
    const uint8_t *prev = sl_rd_bytes(&r, SL_HASH_LEN);
    const uint8_t *merkle = sl_rd_bytes(&r, SL_HASH_LEN);
    out->time_ms = sl_rd_i64(&r);
    const uint8_t *state = sl_rd_bytes(&r, SL_HASH_LEN);
    const uint8_t *results = sl_rd_bytes(&r, SL_HASH_LEN);
    out->n_tx = sl_rd_u32(&r);
    size_t cert_len;
    const uint8_t *cert = sl_rd_blob(&r, SL_CERT_MAX, &cert_len);
    const uint8_t *sig = sl_rd_bytes(&r, SL_SIG_LEN);
    if (sl_rd_end(&r))
        return sl_error_set(err, SL_EINVAL, "header", "block header is truncated or too long");
    memcpy(out->prev, prev, SL_HASH_LEN);
    memcpy(out->merkle, merkle, SL_HASH_LEN);
    memcpy(out->state, state, SL_HASH_LEN);
    memcpy(out->results, results, SL_HASH_LEN);
    memcpy(out->sig, sig, SL_SIG_LEN);
    int rc = sl_cert_decode(cert, cert_len, &out->orderer, err);
    if (rc)
        return rc;
    return 0;
}

int sl_block_hash(const sl_block_header *h, uint8_t out[SL_HASH_LEN])
{
    sl_buf b;
    sl_buf_init(&b);
    sl_block_header_encode(h, 1, &b);
    if (!b.err)
        sl_sha256(b.p, b.len, out);
    int rc = b.err;
    sl_buf_release(&b);
    return rc;
}

int sl__block_encode(const sl_block_header *h, const uint8_t *const *txs, const size_t *lens,
                     size_t n, sl_buf *out)
{
    size_t at = out->len;
    sl_buf_put_u32(out, 0);
    sl_block_header_encode(h, 1, out);
    if (!out->err) {
        size_t hl = out->len - at - 4;
        for (int i = 0; i < 4; i++)
            out->p[at + i] = (uint8_t)(hl >> (24 - 8 * i));
    }
    sl_buf_put_u32(out, (uint32_t)n);
    for (size_t i = 0; i < n; i++) {
        sl_buf_put_u32(out, (uint32_t)lens[i]);
        sl_buf_put(out, txs[i], lens[i]);
    }
    return out->err;
}

int sl_block_decode(const uint8_t *p, size_t len, sl_block **out, sl_error *err)
{
    *out = NULL;
    sl_rd r;
    sl_rd_init(&r, p, len);
    size_t hl;
    const uint8_t *hp = sl_rd_blob(&r, SL_HEADER_MAX, &hl);
    uint32_t n = sl_rd_u32(&r);
    if (r.err)
        return sl_error_set(err, SL_EINVAL, "block", "block bytes are truncated");
    if (n > len / 4) /* every transaction costs at least its length prefix */
        return sl_error_set(err, SL_EINVAL, "block", "block claims %u transactions in %zu bytes", n,
                            len);
    sl_block *b = calloc(1, sizeof(*b));
    if (!b || !(b->txs = calloc(n ? n : 1, sizeof(*b->txs))) ||
        !(b->tx_lens = calloc(n ? n : 1, sizeof(*b->tx_lens)))) {
        sl_block_free(b);
        return sl_error_set(err, SL_ENOMEM, NULL, "out of memory");
    }
    int rc = sl_block_header_decode(hp, hl, &b->header, err);
    for (uint32_t i = 0; !rc && i < n; i++) {
        b->txs[i] = sl_rd_blob(&r, len, &b->tx_lens[i]);
        if (!b->txs[i])
            rc = sl_error_set(err, SL_EINVAL, "block", "transaction %u is truncated", i);
    }
    b->n = n;
    if (!rc && sl_rd_end(&r))
        rc = sl_error_set(err, SL_EINVAL, "block", "bytes left over after the transactions");
    if (!rc && b->header.n_tx != n)
        rc = sl_error_set(err, SL_EINVAL, "block", "header says %u transactions, block has %u",
                          b->header.n_tx, n);
    if (rc) {
        sl_block_free(b);
        return rc;
    }
    *out = b;
    return 0;
}

void sl_block_free(sl_block *b)
{
    if (!b)
        return;
    free(b->txs);
    free(b->tx_lens);
    free(b);
}

int sl__merkle_of(const sl__slot *slots, size_t n, uint8_t out[SL_HASH_LEN])
{
    uint8_t(*ids)[SL_HASH_LEN] = malloc((n ? n : 1) * SL_HASH_LEN);
    if (!ids)
        return SL_ENOMEM;
    for (size_t i = 0; i < n; i++)
        memcpy(ids[i], slots[i].id, SL_HASH_LEN);
    int rc = sl_merkle_root((const uint8_t(*)[SL_HASH_LEN])ids, n, out);
    free(ids);
    return rc;
}

int sl__results_hash(const sl__slot *slots, size_t n, uint8_t out[SL_HASH_LEN])
{
    uint8_t *codes = malloc(n ? n : 1);
    if (!codes)
        return SL_ENOMEM;
    for (size_t i = 0; i < n; i++)
        codes[i] = (uint8_t)slots[i].code;
    sl_sha256(codes, n, out);
    free(codes);
    return 0;
}

int sl__header_verify(const sl_channel_spec *ch, sl__ids *cc, const sl_block_header *h,
                      sl_error *err)
{
    sl_txcode code;
    char reason[200];
    if (sl__cert_admit(ch, cc, &h->orderer, h->time_ms, &code, reason, sizeof(reason)))
        return sl_error_set(err, SL_EAUTH, "orderer", "orderer certificate: %s", reason);
    if (h->orderer.role != SL_ROLE_NODE)
        return sl_error_set(err, SL_EAUTH, "orderer", "'%s' of '%s' is not a node",
                            h->orderer.subject, h->orderer.org);
    /* A solo channel has one orderer: a block cut by any other member node is a fork. The
     * genesis is exempt: it names the orderer (or is signed by it, see sl__genesis_open). */
    if (h->height > 0 && ch->orderer_org &&
        (strcmp(h->orderer.org, ch->orderer_org) != 0 ||
         strcmp(h->orderer.subject, ch->orderer_name) != 0))
        return sl_error_set(err, SL_EAUTH, "orderer",
                            "block %llu was cut by '%s' of '%s', but channel '%s' is ordered by "
                            "'%s' of '%s' alone",
                            (unsigned long long)h->height, h->orderer.subject, h->orderer.org,
                            ch->name, ch->orderer_name, ch->orderer_org);
    sl_buf b;
    sl_buf_init(&b);
    sl_block_header_encode(h, 0, &b);
    int rc = b.err ? b.err : sl_sig_verify(h->orderer.pk, b.p, b.len, h->sig);
    sl_buf_release(&b);
    if (rc == SL_ENOMEM)
        return sl_error_set(err, rc, NULL, "out of memory");
    if (rc)
        return sl_error_set(err, SL_EAUTH, "signature", "block %llu: orderer signature invalid",
                            (unsigned long long)h->height);
    return 0;
}

/* Signs h (all but sig set) with key. */
static int header_sign(sl_block_header *h, const sl_key *key)
{
    sl_buf b;
    sl_buf_init(&b);
    sl_block_header_encode(h, 0, &b);
    if (!b.err)
        sl_key_sign(key, b.p, b.len, h->sig);
    int rc = b.err;
    sl_buf_release(&b);
    return rc;
}

int sl__header_sign(sl_block_header *h, const sl_key *key, const sl_cert *cert)
{
    uint8_t pk[SL_PK_LEN];
    sl_key_public(key, pk);
    if (memcmp(pk, cert->pk, SL_PK_LEN) != 0)
        return SL_EINVAL;
    h->orderer = *cert;
    return header_sign(h, key);
}

/* The state hash of a contract that has seen nothing but its issuer. */
static int empty_state(const sl_channel_spec *ch, uint8_t out[SL_HASH_LEN])
{
    sl_contract *c;
    int rc = sl_contract_new(ch->orgs[ch->issuer].name, &c);
    if (!rc)
        rc = sl_contract_state_hash(c, out);
    sl_contract_free(c);
    return rc;
}

int sl_genesis_build(const char *doc, size_t len, const sl_key *orderer_key,
                     const sl_cert *orderer_cert, int64_t time_ms, sl_buf *out, sl_error *err)
{
    sl_channel_spec *ch = NULL;
    sl_diags diags = {0};
    int rc = sl_channel_parse(doc, len, "genesis", &ch, &diags);
    if (rc) {
        if (diags.n)
            *err = diags.v[0];
        else
            sl_error_set(err, rc, "channel", "invalid channel document");
        sl_diags_release(&diags);
        return rc;
    }
    sl_block_header h = {.height = 0, .time_ms = time_ms, .n_tx = 1};
    sl__slot slot = {.bytes = (const uint8_t *)doc, .len = len, .code = SL_TXC_VALID};
    sl_sha256(doc, len, slot.id);
    sl__ids cc;
    rc = sl__ids_init(&cc);
    if (!rc && (rc = sl__merkle_of(&slot, 1, h.merkle)) == 0 &&
        (rc = sl__results_hash(&slot, 1, h.results)) == 0 && (rc = empty_state(ch, h.state)) == 0) {
        rc = sl__header_sign(&h, orderer_key, orderer_cert);
        if (rc)
            sl_error_set(err, rc, "orderer", "the orderer key does not match its certificate");
        else
            rc = sl__header_verify(ch, &cc, &h, err);
    } else if (rc) {
        sl_error_set(err, rc, NULL, "out of memory");
    }
    if (!rc) {
        const uint8_t *txs[1] = {slot.bytes};
        rc = sl__block_encode(&h, txs, &len, 1, out);
    }
    sl__ids_release(&cc);
    sl_channel_spec_free(ch);
    return rc;
}

/* A solo channel whose document names no orderer is ordered by the node that signed its
 * genesis block. */
static int default_orderer(sl_channel_spec *ch, const sl_block_header *genesis, sl_error *err)
{
    if (ch->order != SL_ORDER_SOLO || ch->orderer_org)
        return 0;
    ch->orderer_org = strdup(genesis->orderer.org);
    ch->orderer_name = strdup(genesis->orderer.subject);
    if (!ch->orderer_org || !ch->orderer_name)
        return sl_error_set(err, SL_ENOMEM, NULL, "out of memory");
    return 0;
}

int sl__genesis_open(const uint8_t *p, size_t len, sl_channel_spec **channel,
                     sl_block_header *header, sl_error *err)
{
    sl_block *b = NULL;
    sl_channel_spec *ch = NULL;
    sl__ids cc;
    int have_cc = 0;
    int rc = sl_block_decode(p, len, &b, err);
    if (rc)
        goto out;
    if (b->header.height != 0 || b->n != 1) {
        rc = sl_error_set(err, SL_ECORRUPT, "genesis",
                          "not a genesis block (height %llu, %zu "
                          "transactions)",
                          (unsigned long long)b->header.height, b->n);
        goto out;
    }
    sl_diags diags = {0};
    rc = sl_channel_parse((const char *)b->txs[0], b->tx_lens[0], "genesis", &ch, &diags);
    if (rc) {
        rc = sl_error_set(err, SL_ECORRUPT, "genesis", "channel document: %s",
                          diags.n ? diags.v[0].msg : "invalid");
        sl_diags_release(&diags);
        goto out;
    }
    sl__slot slot = {.code = SL_TXC_VALID};
    sl_sha256(b->txs[0], b->tx_lens[0], slot.id);
    uint8_t merkle[SL_HASH_LEN], results[SL_HASH_LEN], state[SL_HASH_LEN], zero[SL_HASH_LEN] = {0};
    if ((rc = sl__merkle_of(&slot, 1, merkle)) || (rc = sl__results_hash(&slot, 1, results)) ||
        (rc = empty_state(ch, state)) || (rc = sl__ids_init(&cc))) {
        sl_error_set(err, rc, NULL, "out of memory");
        goto out;
    }
    have_cc = 1;
    if (memcmp(merkle, b->header.merkle, SL_HASH_LEN) || memcmp(results, b->header.results, 32) ||
        memcmp(state, b->header.state, SL_HASH_LEN) || memcmp(zero, b->header.prev, SL_HASH_LEN)) {
        rc = sl_error_set(err, SL_ECORRUPT, "genesis", "genesis header does not match its content");
        goto out;
    }
    rc = sl__header_verify(ch, &cc, &b->header, err);
    if (!rc)
        rc = default_orderer(ch, &b->header, err);
out:
    if (have_cc)
        sl__ids_release(&cc);
    if (!rc) {
        *channel = ch;
        *header = b->header;
    } else {
        sl_channel_spec_free(ch);
    }
    sl_block_free(b);
    return rc;
}
