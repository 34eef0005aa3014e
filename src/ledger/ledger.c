/*
 * ledger.c: the ledger object. Opening replays the stored blocks into a fresh contract and
 * checks each state hash; commit (the orderer's path) and append (a follower's path) validate,
 * execute and store one block at a time; precheck screens transactions before ordering.
 *
 * Invariant: outside a call, the contract is exactly the state after the stored head block.
 * If storing a block fails after the contract applied it, the ledger marks itself broken and
 * rebuilds the contract from the store before doing anything else, so memory never runs ahead
 * of disk. Thread-safety: a read-write lock: readers of the contract (height, with_contract)
 * share it, commits and users of the store's shared statements hold it alone; precheck needs
 * none (its id sets lock themselves), so API threads verify signatures in parallel.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ledger/ledger_int.h"

static int online_cpus(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : n > 16 ? 16 : (int)n;
}

/* ---- replay ---- */

/* Fills slots from a stored block: transactions that passed the stateless checks when they
 * were committed are decoded again (their signatures were verified then); the others keep
 * their stored code. */
static int slots_from_stored(const sl__stored_block *sb, sl__slot *slots, sl_error *err)
{
    for (size_t i = 0; i < sb->n; i++) {
        sl__slot *s = &slots[i];
        const sl__stored_tx *t = &sb->txs[i];
        memset(s, 0, sizeof(*s));
        s->bytes = t->bytes;
        s->len = t->len;
        s->code = t->code;
        if (t->code != SL_TXC_VALID && t->code != SL_TXC_REFUSED && t->code != SL_TXC_EXPIRED &&
            t->code != SL_TXC_REPLAY) {
            sl_sha256(t->bytes, t->len, s->id);
            continue;
        }
        sl_error e;
        if (sl_tx_decode(t->bytes, t->len, SIZE_MAX, &s->tx, &e))
            return sl_error_set(err, SL_ECORRUPT, "block",
                                "block %llu transaction %zu no longer decodes: %s",
                                (unsigned long long)sb->height, i, e.msg);
        memcpy(s->id, s->tx->id, SL_HASH_LEN);
        s->code = SL_TXC_VALID;
        s->sig_checked = 1;
    }
    return 0;
}

static void slots_release(sl__slot *slots, size_t n)
{
    for (size_t i = 0; slots && i < n; i++)
        sl_tx_free(slots[i].tx);
    free(slots);
}

static int replay_block(sl_ledger *l, uint64_t height, sl_error *err)
{
    sl__stored_block sb;
    int rc = sl__store_read(l->store, height, &sb, err);
    if (rc)
        return rc;
    sl__batch b = {.skip_rows = 1, .n = sb.n};
    sl_block_header h;
    uint8_t hash[SL_HASH_LEN];
    b.slots = calloc(sb.n ? sb.n : 1, sizeof(*b.slots));
    if (!b.slots) {
        rc = sl_error_set(err, SL_ENOMEM, NULL, "out of memory");
        goto out;
    }
    if ((rc = sl_block_header_decode(sb.header, sb.header_len, &h, err)) ||
        (rc = slots_from_stored(&sb, b.slots, err)))
        goto out;
    if (h.height != height || memcmp(h.prev, l->head_hash, SL_HASH_LEN) != 0) {
        rc = sl_error_set(err, SL_ECORRUPT, "block", "block %llu does not chain to block %llu",
                          (unsigned long long)height, (unsigned long long)height - 1);
        goto out;
    }
    b.header = h;
    sl_contract_events_clear(l->contract);
    if ((rc = sl__execute(l->contract, &l->seen, l->channel, &b, err)))
        goto out;
    for (size_t i = 0; i < sb.n; i++)
        if (b.slots[i].code != sb.txs[i].code) {
            rc = sl_error_set(err, SL_ECORRUPT, "block",
                              "block %llu transaction %zu: stored code "
                              "%s, replay gives %s",
                              (unsigned long long)height, i, sl_txcode_name(sb.txs[i].code),
                              sl_txcode_name(b.slots[i].code));
            goto out;
        }
    if (h.n_tx != sb.n || memcmp(b.header.merkle, h.merkle, SL_HASH_LEN) != 0) {
        rc = sl_error_set(err, SL_ECORRUPT, "block",
                          "block %llu: stored transactions do not match its header",
                          (unsigned long long)height);
        goto out;
    }
    if (memcmp(b.header.state, h.state, SL_HASH_LEN) != 0) {
        rc = sl_error_set(err, SL_ECORRUPT, "block", "block %llu: state hash differs on replay",
                          (unsigned long long)height);
        goto out;
    }
    if ((rc = sl_block_hash(&h, hash)))
        goto out;
    l->head = h;
    memcpy(l->head_hash, hash, SL_HASH_LEN);
out:
    sl_contract_events_clear(l->contract);
    slots_release(b.slots, sb.n);
    sl__batch_release(&b);
    sl__stored_block_release(&sb);
    return rc;
}

/* Reads and checks the genesis once: the channel spec stays the same for the ledger's life. */
static int load_genesis(sl_ledger *l, sl_error *err)
{
    int rc = sl__store_genesis(l->store, &l->genesis, &l->genesis_len, err);
    if (!rc)
        rc = sl__genesis_open(l->genesis, l->genesis_len, &l->channel, &l->genesis_header, err);
    return rc;
}

/* (Re)builds the contract and replay set from genesis and every stored block. */
static int rebuild(sl_ledger *l, sl_error *err)
{
    sl_contract_free(l->contract);
    l->contract = NULL;
    pthread_mutex_lock(&l->seen.mu);
    sl__idset_release(&l->seen.set);
    pthread_mutex_unlock(&l->seen.mu);
    l->head = l->genesis_header;
    int rc = sl_block_hash(&l->head, l->head_hash);
    if (!rc)
        rc = sl_contract_new(l->channel->orgs[l->channel->issuer].name, &l->contract);
    if (rc)
        return sl_error_set(err, rc, NULL, "out of memory");
    int64_t top = sl__store_height(l->store);
    if (top < 0)
        return sl_error_set(err, SL_ECORRUPT, "database", "no blocks in the database");
    for (int64_t h = 1; h <= top; h++)
        if ((rc = replay_block(l, (uint64_t)h, err)))
            return rc;
    l->broken = 0;
    return 0;
}

/* ---- lifecycle ---- */

int sl_ledger_create(const char *path, const uint8_t *genesis, size_t len, sl_error *err)
{
    sl_channel_spec *ch = NULL;
    sl_block_header gh;
    int rc = sl__genesis_open(genesis, len, &ch, &gh, err);
    sl_channel_spec_free(ch);
    return rc ? rc : sl__store_create(path, genesis, len, &gh, err);
}

int sl_ledger_open(const char *path, unsigned flags, sl_ledger **out, sl_error *err)
{
    *out = NULL;
    sl_ledger *l = calloc(1, sizeof(*l));
    if (!l)
        return sl_error_set(err, SL_ENOMEM, NULL, "out of memory");
    l->flags = flags;
    l->threads = online_cpus();
    if (pthread_rwlock_init(&l->mu, NULL)) {
        free(l);
        return sl_error_set(err, SL_ENOMEM, NULL, "cannot create a mutex");
    }
    if (sl__ids_init(&l->certs) || sl__ids_init(&l->seen) || sl__ids_init(&l->prechecked)) {
        pthread_rwlock_destroy(&l->mu);
        free(l);
        return sl_error_set(err, SL_ENOMEM, NULL, "cannot create a mutex");
    }
    int rc = sl__store_open(path, flags & SL_LEDGER_READONLY, &l->store, err);
    if (!rc)
        rc = load_genesis(l, err);
    if (!rc)
        rc = rebuild(l, err);
    if (rc) {
        sl_ledger_close(l);
        return rc;
    }
    *out = l;
    return 0;
}

void sl_ledger_close(sl_ledger *l)
{
    if (!l)
        return;
    sl__store_close(l->store);
    sl_contract_free(l->contract);
    sl_channel_spec_free(l->channel);
    sl__ids_release(&l->seen);
    sl__ids_release(&l->prechecked);
    sl__ids_release(&l->certs);
    pthread_rwlock_destroy(&l->mu);
    free(l->genesis);
    free(l->codes);
    free(l->ids);
    free(l->refusals);
    free(l);
}

const sl_channel_spec *sl_ledger_channel(const sl_ledger *l)
{
    return l->channel;
}

uint64_t sl_ledger_height(sl_ledger *l, uint8_t head[SL_HASH_LEN])
{
    pthread_rwlock_rdlock(&l->mu);
    uint64_t h = l->head.height;
    if (head)
        memcpy(head, l->head_hash, SL_HASH_LEN);
    pthread_rwlock_unlock(&l->mu);
    return h;
}

int64_t sl_ledger_next_due(sl_ledger *l)
{
    pthread_rwlock_rdlock(&l->mu);
    int64_t t = l->broken ? INT64_MIN : sl_contract_next_due(l->contract);
    pthread_rwlock_unlock(&l->mu);
    return t;
}

int sl_ledger_with_contract(sl_ledger *l, int (*fn)(const sl_contract *c, void *arg), void *arg)
{
    pthread_rwlock_rdlock(&l->mu);
    int rc = l->broken ? SL_ESTATE : fn(l->contract, arg);
    pthread_rwlock_unlock(&l->mu);
    return rc;
}

/* ---- precheck ---- */

static int code_to_error(sl_txcode c)
{
    switch (c) {
    case SL_TXC_MALFORMED:
    case SL_TXC_WRONG_CHANNEL:
        return SL_EINVAL;
    case SL_TXC_EXPIRED:
        return SL_ETIME;
    case SL_TXC_REPLAY:
        return SL_EDUP;
    default:
        return SL_EAUTH;
    }
}

int sl_ledger_precheck(sl_ledger *l, const uint8_t *tx, size_t len, int64_t now_ms,
                       uint8_t id[SL_HASH_LEN], sl_error *err)
{
    sl__slot s = {.bytes = tx, .len = len};
    sl__prevalidate(l->channel, &l->certs, NULL, &s, 1, now_ms, 1);
    memcpy(id, s.id, SL_HASH_LEN);
    int rc = 0;
    if (s.code != SL_TXC_VALID) {
        rc = sl_error_set(err, code_to_error(s.code), sl_txcode_name(s.code), "%s", s.reason);
        goto out;
    }
    int64_t expires = s.tx->tx.expires_ms;
    if (now_ms > expires || expires - now_ms > SL__TX_MAX_LIFETIME_MS) {
        rc = sl_error_set(err, SL_ETIME, "expires",
                          "expiry %lld must lie within 24 h after now "
                          "(%lld)",
                          (long long)expires, (long long)now_ms);
        goto out;
    }
    /* No ledger lock: the id sets lock themselves, so submitters never wait for a commit. */
    if (sl__ids_has(&l->seen, s.id)) {
        rc = sl_error_set(err, SL_EDUP, "id", "transaction is already in the ledger");
        goto out;
    }
    if (sl__ids_prune(&l->prechecked, now_ms, 100000) || sl__ids_add(&l->prechecked, s.id, expires))
        rc = sl_error_set(err, SL_ENOMEM, NULL, "out of memory");
out:
    sl_tx_free(s.tx);
    return rc;
}

/* ---- commit and append ---- */

static int fill_info(sl_ledger *l, const sl__batch *b, sl_commit_info *info)
{
    if (sl_reserve(&l->codes, &l->cap_codes, b->n, sizeof(*l->codes)) ||
        sl_reserve(&l->ids, &l->cap_ids, b->n, sizeof(*l->ids)) ||
        sl_reserve(&l->refusals, &l->cap_refusals, b->n, sizeof(*l->refusals)))
        return SL_ENOMEM;
    size_t valid = 0;
    for (size_t i = 0; i < b->n; i++) {
        l->codes[i] = b->slots[i].code;
        l->refusals[i] = b->slots[i].code == SL_TXC_REFUSED ? b->slots[i].refusal : 0;
        memcpy(l->ids[i], b->slots[i].id, SL_HASH_LEN);
        valid += b->slots[i].code == SL_TXC_VALID;
    }
    if (info) {
        *info = (sl_commit_info){.height = l->head.height,
                                 .time_ms = l->head.time_ms,
                                 .n_tx = b->n,
                                 .codes = l->codes,
                                 .ids = (const uint8_t(*)[SL_HASH_LEN])l->ids,
                                 .refusals = l->refusals,
                                 .n_valid = valid};
        memcpy(info->hash, l->head_hash, SL_HASH_LEN);
        info->events = sl_contract_events(l->contract, &info->n_events);
    }
    return 0;
}

/* Executes b (header time, height and prev set; slots prevalidated), lets finish() complete
 * the header (sign it, or compare it with a received one), stores the block and moves the
 * head. On failure after execution the contract is rebuilt from the store. */
static int run_block(sl_ledger *l, sl__batch *b,
                     int (*finish)(sl_ledger *l, sl__batch *b, const void *arg, sl_error *err),
                     const void *arg, sl_commit_info *info, sl_error *err)
{
    sl_contract_events_clear(l->contract);
    int rc = sl__execute(l->contract, &l->seen, l->channel, b, err);
    uint8_t hash[SL_HASH_LEN];
    if (!rc)
        rc = finish(l, b, arg, err);
    if (!rc && (rc = sl_block_hash(&b->header, hash)))
        sl_error_set(err, rc, NULL, "out of memory");
    size_t n_ev = 0;
    const sl_event *ev = sl_contract_events(l->contract, &n_ev);
    if (!rc)
        rc = sl__store_write(l->store, b, hash, ev, n_ev, err);
    if (rc) {
        sl_error keep = *err;
        l->broken = 1;
        if (rebuild(l, err) == 0)
            *err = keep;
        return rc;
    }
    l->head = b->header;
    memcpy(l->head_hash, hash, SL_HASH_LEN);
    for (size_t i = 0; i < b->n; i++)
        sl__ids_del(&l->prechecked, b->slots[i].id);
    if (fill_info(l, b, info))
        return sl_error_set(err, SL_ENOMEM, NULL, "block committed; out of memory for its report");
    return 0;
}

static int finish_sign(sl_ledger *l, sl__batch *b, const void *arg, sl_error *err)
{
    (void)l;
    const void *const *kc = arg;
    if (sl__header_sign(&b->header, kc[0], kc[1]))
        return sl_error_set(err, SL_EINVAL, "key",
                            "the orderer key does not match its "
                            "certificate, or out of memory");
    return 0;
}

static int ready(sl_ledger *l, sl_error *err)
{
    if (l->flags & SL_LEDGER_READONLY)
        return sl_error_set(err, SL_EPERM, "ledger", "the ledger is open read-only");
    if (l->broken && rebuild(l, err))
        return SL_ESTATE;
    return 0;
}

/* Only a solo channel's orderer cuts its blocks; every member would refuse another's. */
static int orderer_check(const sl_channel_spec *ch, const sl_cert *cert, sl_error *err)
{
    if (!ch->orderer_org ||
        (strcmp(cert->org, ch->orderer_org) == 0 && strcmp(cert->subject, ch->orderer_name) == 0))
        return 0;
    return sl_error_set(err, SL_EPERM, "orderer",
                        "'%s' of '%s' does not order channel '%s': '%s' of '%s' does",
                        cert->subject, cert->org, ch->name, ch->orderer_name, ch->orderer_org);
}

int sl_ledger_commit(sl_ledger *l, const uint8_t *const *txs, const size_t *lens, size_t n,
                     int64_t time_ms, const sl_key *key, const sl_cert *cert, sl_commit_info *info,
                     sl_error *err)
{
    sl__batch b = {.n = n};
    b.slots = calloc(n ? n : 1, sizeof(*b.slots));
    if (!b.slots)
        return sl_error_set(err, SL_ENOMEM, NULL, "out of memory");
    pthread_rwlock_wrlock(&l->mu);
    int rc = ready(l, err);
    if (!rc)
        rc = orderer_check(l->channel, cert, err);
    if (rc)
        goto out;
    if (time_ms <= l->head.time_ms)
        time_ms = l->head.time_ms + 1;
    for (size_t i = 0; i < n; i++) {
        b.slots[i].bytes = txs[i];
        b.slots[i].len = lens[i];
    }
    sl__prevalidate(l->channel, &l->certs, &l->prechecked, b.slots, n, time_ms, l->threads);
    b.header.height = l->head.height + 1;
    memcpy(b.header.prev, l->head_hash, SL_HASH_LEN);
    b.header.time_ms = time_ms;
    const void *kc[2] = {key, cert};
    rc = run_block(l, &b, finish_sign, kc, info, err);
out:
    pthread_rwlock_unlock(&l->mu);
    slots_release(b.slots, n);
    sl__batch_release(&b);
    return rc;
}

static int finish_compare(sl_ledger *l, sl__batch *b, const void *arg, sl_error *err)
{
    (void)l;
    const sl_block_header *got = arg;
    if (memcmp(b->header.merkle, got->merkle, SL_HASH_LEN) != 0)
        return sl_error_set(err, SL_ECORRUPT, "merkle",
                            "block %llu: Merkle root does not match "
                            "its transactions",
                            (unsigned long long)got->height);
    if (memcmp(b->header.results, got->results, SL_HASH_LEN) != 0)
        return sl_error_set(err, SL_ECORRUPT, "results",
                            "block %llu: validation results differ "
                            "from the orderer's",
                            (unsigned long long)got->height);
    if (memcmp(b->header.state, got->state, SL_HASH_LEN) != 0)
        return sl_error_set(err, SL_ECORRUPT, "state",
                            "block %llu: state hash differs from the "
                            "orderer's",
                            (unsigned long long)got->height);
    b->header = *got; /* identical but for the orderer's certificate and signature */
    return 0;
}

int sl_ledger_append(sl_ledger *l, const uint8_t *block, size_t len, sl_commit_info *info,
                     sl_error *err)
{
    sl_block *blk = NULL;
    int rc = sl_block_decode(block, len, &blk, err);
    if (rc)
        return rc;
    sl__batch b = {.n = blk->n};
    b.slots = calloc(blk->n ? blk->n : 1, sizeof(*b.slots));
    if (!b.slots) {
        sl_block_free(blk);
        return sl_error_set(err, SL_ENOMEM, NULL, "out of memory");
    }
    pthread_rwlock_wrlock(&l->mu);
    const sl_block_header *h = &blk->header;
    if ((rc = ready(l, err)))
        goto out;
    if (h->height != l->head.height + 1 || memcmp(h->prev, l->head_hash, SL_HASH_LEN) != 0) {
        rc = sl_error_set(err, SL_ECORRUPT, "block", "block %llu does not follow head %llu",
                          (unsigned long long)h->height, (unsigned long long)l->head.height);
        goto out;
    }
    if (h->time_ms <= l->head.time_ms) {
        rc = sl_error_set(err, SL_ECORRUPT, "block", "block %llu: time does not increase",
                          (unsigned long long)h->height);
        goto out;
    }
    if ((rc = sl__header_verify(l->channel, &l->certs, h, err)))
        goto out;
    for (size_t i = 0; i < blk->n; i++) {
        b.slots[i].bytes = blk->txs[i];
        b.slots[i].len = blk->tx_lens[i];
    }
    sl__prevalidate(l->channel, &l->certs, NULL, b.slots, blk->n, h->time_ms, l->threads);
    b.header.height = h->height;
    memcpy(b.header.prev, h->prev, SL_HASH_LEN);
    b.header.time_ms = h->time_ms;
    rc = run_block(l, &b, finish_compare, h, info, err);
out:
    pthread_rwlock_unlock(&l->mu);
    slots_release(b.slots, blk->n);
    sl__batch_release(&b);
    sl_block_free(blk);
    return rc;
}

int sl_ledger_block(sl_ledger *l, uint64_t height, sl_buf *out, sl_error *err)
{
    pthread_rwlock_wrlock(&l->mu);
    int rc = 0;
    if (height == 0) {
        sl_buf_put(out, l->genesis, l->genesis_len);
        rc = out->err;
        goto out;
    }
    sl__stored_block sb;
    if ((rc = sl__store_read(l->store, height, &sb, err)))
        goto out;
    sl_block_header h;
    const uint8_t **txs = calloc(sb.n ? sb.n : 1, sizeof(*txs));
    size_t *lens = calloc(sb.n ? sb.n : 1, sizeof(*lens));
    if (!txs || !lens)
        rc = SL_ENOMEM;
    for (size_t i = 0; !rc && i < sb.n; i++) {
        txs[i] = sb.txs[i].bytes;
        lens[i] = sb.txs[i].len;
    }
    if (!rc && (rc = sl_block_header_decode(sb.header, sb.header_len, &h, err)) == 0)
        rc = sl__block_encode(&h, txs, lens, sb.n, out);
    free(txs);
    free(lens);
    sl__stored_block_release(&sb);
out:
    pthread_rwlock_unlock(&l->mu);
    if (rc == SL_ENOMEM)
        sl_error_set(err, rc, NULL, "out of memory");
    return rc;
}

const char *sl_txcode_name(sl_txcode c)
{
    static const char *const names[] = {"valid",    "malformed", "wrong-channel", "unknown-org",
                                        "bad-cert", "role",      "bad-signature", "expired",
                                        "replay",   "refused"};
    return (unsigned)c < sizeof(names) / sizeof(names[0]) ? names[c] : "unknown";
}
