/*
 * validate.c: the checks of a transaction that depend only on its bytes, the channel and the
 * block time: size, well-formedness, channel, certificate chain, role and signature. They are
 * independent per transaction, so a block's transactions are checked on several threads; the
 * stateful checks (expiry, replay, contract) follow in exec.c, in order.
 *
 * Verified certificate encodings are remembered by hash (sl__ids), so each member's
 * certificate costs one signature check per process, not one per transaction. Thread-safety:
 * sl__prevalidate runs worker threads that share only the cache (locked) and disjoint slots.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ledger/ledger_int.h"

static int cert_signature_ok(sl__ids *cc, const sl_cert *cert, const uint8_t org_pk[32])
{
    /* The cache key covers the certificate and the key that signed it. */
    uint8_t key[SL_HASH_LEN];
    sl_buf b;
    sl_buf_init(&b);
    sl_cert_encode(cert, 1, &b);
    sl_buf_put(&b, org_pk, SL_PK_LEN);
    if (b.err) {
        sl_buf_release(&b);
        return SL_ENOMEM;
    }
    sl_sha256(b.p, b.len, key);
    sl_buf_release(&b);
    if (sl__ids_has(cc, key))
        return 0;
    sl_error e;
    int rc = sl_cert_verify(cert, org_pk, cert->not_before_ms, &e); /* signature only here */
    if (rc)
        return SL_EAUTH;
    return sl__ids_add(cc, key, 1);
}

int sl__cert_admit(const sl_channel_spec *ch, sl__ids *cc, const sl_cert *cert, int64_t time_ms,
                   sl_txcode *code, char *reason, size_t cap)
{
    int org = sl_channel_org_find(ch, cert->org);
    if (org < 0) {
        *code = SL_TXC_UNKNOWN_ORG;
        sl_strfmt(reason, cap, "'%s' is not a member of channel '%s'", cert->org, ch->name);
        return SL_EAUTH;
    }
    if (!(ch->orgs[org].roles & cert->role)) {
        *code = SL_TXC_ROLE;
        sl_strfmt(reason, cap, "organization '%s' holds no %s role on channel '%s'", cert->org,
                  sl_role_name(cert->role), ch->name);
        return SL_EAUTH;
    }
    int rc = cert_signature_ok(cc, cert, ch->orgs[org].root_pk);
    if (rc) {
        *code = SL_TXC_BAD_CERT;
        sl_strfmt(reason, cap, "certificate of '%s' is not signed by the root key of '%s'",
                  cert->subject, cert->org);
        return rc == SL_ENOMEM ? rc : SL_EAUTH;
    }
    if (time_ms < cert->not_before_ms || time_ms >= cert->not_after_ms) {
        *code = SL_TXC_BAD_CERT;
        sl_strfmt(reason, cap, "certificate of '%s' is not valid at %lld", cert->subject,
                  (long long)time_ms);
        return SL_EAUTH;
    }
    return 0;
}

/* Every check of one slot that needs no ledger state. Signatures whose ids are in
 * `verified` (checked at submission, same bytes) are not checked again. */
static void prevalidate_one(const sl_channel_spec *ch, sl__ids *cc, sl__ids *verified, sl__slot *s,
                            int64_t time_ms)
{
    s->code = SL_TXC_VALID;
    s->reason[0] = '\0';
    sl_error err = {0};
    if (s->len > ch->max_tx_bytes) {
        sl_sha256(s->bytes, s->len, s->id);
        s->code = SL_TXC_MALFORMED;
        sl_strfmt(s->reason, sizeof(s->reason), "%zu bytes exceed the channel's limit of %u",
                  s->len, ch->max_tx_bytes);
        return;
    }
    if (sl_tx_decode(s->bytes, s->len, ch->max_tx_bytes, &s->tx, &err)) {
        sl_sha256(s->bytes, s->len, s->id);
        s->code = SL_TXC_MALFORMED;
        sl_strfmt(s->reason, sizeof(s->reason), "%s: %s", err.field, err.msg);
        return;
    }
    memcpy(s->id, s->tx->id, SL_HASH_LEN); /* the decoder hashed the bytes already */
    if (verified && sl__ids_has(verified, s->id))
        s->sig_checked = 1;
    const sl_tx *t = &s->tx->tx;
    if (strcmp(t->channel, ch->name) != 0) {
        s->code = SL_TXC_WRONG_CHANNEL;
        sl_strfmt(s->reason, sizeof(s->reason), "addressed to channel '%s', not '%s'", t->channel,
                  ch->name);
        return;
    }
    if (sl__cert_admit(ch, cc, &t->cert, time_ms, &s->code, s->reason, sizeof(s->reason)))
        return;
    if (!(sl_tx_roles(t->type) & t->cert.role)) {
        s->code = SL_TXC_ROLE;
        sl_strfmt(s->reason, sizeof(s->reason), "a %s may not sign %s transactions",
                  sl_role_name(t->cert.role), sl_tx_type_name(t->type));
        return;
    }
    if (!s->sig_checked && sl_tx_verify_signature(s->tx)) {
        s->code = SL_TXC_BAD_SIGNATURE;
        sl_strfmt(s->reason, sizeof(s->reason), "signature of '%s' does not verify",
                  t->cert.subject);
    }
}

typedef struct worker {
    pthread_t thread;
    const sl_channel_spec *ch;
    sl__ids *cc;
    sl__ids *verified;
    sl__slot *slots;
    size_t from, to;
    int64_t time_ms;
} worker;

static void *worker_run(void *arg)
{
    worker *w = arg;
    for (size_t i = w->from; i < w->to; i++)
        prevalidate_one(w->ch, w->cc, w->verified, &w->slots[i], w->time_ms);
    return NULL;
}

int sl__prevalidate(const sl_channel_spec *ch, sl__ids *cc, sl__ids *verified, sl__slot *slots,
                    size_t n, int64_t time_ms, int threads)
{
    enum { MAX_THREADS = 16, MIN_PER_THREAD = 4 }; /* a signature check costs ~70 us */
    if (threads > MAX_THREADS)
        threads = MAX_THREADS;
    if ((size_t)threads > n / MIN_PER_THREAD)
        threads = (int)(n / MIN_PER_THREAD);
    if (threads < 1)
        threads = 1;
    worker w[MAX_THREADS];
    int started = 0;
    for (int i = 0; i < threads; i++) {
        w[i] = (worker){.ch = ch,
                        .cc = cc,
                        .verified = verified,
                        .slots = slots,
                        .time_ms = time_ms,
                        .from = n * (size_t)i / (size_t)threads,
                        .to = n * (size_t)(i + 1) / (size_t)threads};
        /* Worker 0 is this thread; if a thread cannot start, this thread does its share. */
        if (i > 0 && pthread_create(&w[i].thread, NULL, worker_run, &w[i]) == 0)
            started |= 1 << i;
    }
    worker_run(&w[0]);
    for (int i = 1; i < threads; i++) {
        if (started & (1 << i))
            pthread_join(w[i].thread, NULL);
        else
            worker_run(&w[i]);
    }
    return 0;
}
