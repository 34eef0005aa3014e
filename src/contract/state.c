/*
 * state.c: the canonical serialization of the contract state, its hash, invariant checks, and
 * read-only views (window figures, statements).
 *
 * Canonical form ("SLSTATE1"): big-endian integers, u32-length-prefixed strings, every
 * collection in a fixed order (accounts by "CUR/owner", agreements by name, windows and pending
 * intervals by time). Empty accounts, zero supplies, unallocated bitmaps serialize exactly like
 * their absence, so allocation history never shows. The state hash is SHA-256 over the head
 * (time, issuer, supplies, accounts) followed by each agreement's own SHA-256, which is cached
 * until the agreement changes.
 */
#include <string.h>

#include "contract/contract_int.h"

static void put_window(sl_buf *b, const sl__window *w)
{
    sl_buf_put_i64(b, w->good);
    sl_buf_put_i64(b, w->bad);
    sl_buf_put_i64(b, w->unknown);
    sl_buf_put_i64(b, w->violations);
    sl_buf_put_i64(b, w->owed);
    sl_buf_put_i64(b, w->paid);
    sl_buf_put_u8(b, (uint8_t)(w->tier + 1));
    sl_buf_put_u8(b, (uint8_t)w->missed);
    sl_buf_put_u8(b, (uint8_t)w->closed);
    if (w->closed)
        return;
    size_t words = (size_t)(w->intervals + 63) / 64;
    for (size_t i = 0; i < words; i++)
        sl_buf_put_u64(b, w->decided ? w->decided[i] : 0);
}

static void put_objective(sl_buf *b, const sl__agreement *a, const sl__objective *o)
{
    sl_buf_put_i64(b, o->first_open);
    for (int64_t k = 0; k < o->n_wins; k++)
        put_window(b, &o->wins[k]);
    sl_buf_put_u32(b, (uint32_t)o->n_pending);
    for (size_t k = 0; k < o->n_pending; k++) {
        const sl__pending *p = o->pending[k];
        sl_buf_put_i64(b, p->interval);
        sl_buf_put_u64(b, p->reported);
        sl_buf_put_u8(b, p->decided ? (uint8_t)(1 + p->outcome) : 0);
        for (size_t i = 0; i < a->spec->n_oracles; i++) {
            if (p->reported & (1ULL << i))
                sl_buf_put_i64(b, p->values[i]);
        }
    }
}

static void put_agreement(sl_buf *b, const sl__agreement *a)
{
    sl_buf_put_str(b, a->spec->name);
    sl_buf_put(b, a->doc_hash, SL_HASH_LEN);
    sl_buf_put_u8(b, (uint8_t)a->status);
    sl_buf_put_u8(b, (uint8_t)(a->consumer_signed | a->provider_signed << 1));
    sl_buf_put_i64(b, a->activated_ms);
    sl_buf_put_i64(b, a->escrow);
    sl_buf_put_i64(b, a->deposited);
    sl_buf_put_i64(b, a->penalties);
    sl_buf_put_i64(b, a->settled);
    sl_buf_put_i64(b, a->refunded);
    if (!a->objs)
        return;
    sl_buf_put_i64(b, a->first_open_bill);
    for (int64_t k = 0; k < a->n_bills; k++) {
        sl_buf_put_i64(b, a->bills[k].penalties);
        sl_buf_put_i64(b, a->bills[k].settled);
        sl_buf_put_u8(b, (uint8_t)a->bills[k].closed);
    }
    for (size_t i = 0; i < a->spec->n_objectives; i++)
        put_objective(b, a, &a->objs[i]);
}

static void put_head(sl_buf *b, const sl_contract *c)
{
    sl_buf_put(b, "SLSTATE1", 8);
    sl_buf_put_i64(b, c->now);
    sl_buf_put_str(b, c->issuer);
    for (size_t i = 0; i < c->n_supply; i++) {
        if (c->supply[i].total == 0)
            continue;
        sl_buf_put_str(b, c->supply[i].currency);
        sl_buf_put_i64(b, c->supply[i].total);
    }
    sl_buf_put_u8(b, 0);
    for (size_t i = 0; i < c->n_accts; i++) {
        if (c->accts[i]->balance == 0)
            continue;
        sl_buf_put_str(b, c->accts[i]->key);
        sl_buf_put_i64(b, c->accts[i]->balance);
    }
    sl_buf_put_u8(b, 0);
    sl_buf_put_u32(b, (uint32_t)c->n_agrs);
}

int sl_contract_serialize(const sl_contract *c, sl_buf *out)
{
    put_head(out, c);
    for (size_t i = 0; i < c->n_agrs; i++)
        put_agreement(out, c->agrs[i]);
    return out->err;
}

int sl_contract_state_hash(sl_contract *c, uint8_t out[SL_HASH_LEN])
{
    sl_buf b;
    sl_buf_init(&b);
    put_head(&b, c);
    for (size_t i = 0; i < c->n_agrs && !b.err; i++) {
        sl__agreement *a = c->agrs[i];
        if (a->dirty) {
            sl_buf one;
            sl_buf_init(&one);
            put_agreement(&one, a);
            if (!one.err) {
                sl_sha256(one.p, one.len, a->digest);
                a->dirty = 0;
            }
            b.err = one.err;
            sl_buf_release(&one);
        }
        sl_buf_put(&b, a->digest, SL_HASH_LEN);
    }
    int rc = b.err;
    if (!rc)
        sl_sha256(b.p, b.len, out);
    sl_buf_release(&b);
    return rc;
}

/* ---- invariants ---- */

static int check_agreement(const sl__agreement *a, sl_error *err)
{
    int64_t out = a->penalties + a->settled + a->refunded;
    if (a->escrow < 0 || a->deposited - out != a->escrow)
        return sl_error_set(err, SL_EINVAL, a->spec->name,
                            "escrow %lld != deposited %lld - paid out %lld", (long long)a->escrow,
                            (long long)a->deposited, (long long)out);
    for (int64_t k = 0; k < a->n_bills; k++) {
        const sl__bill *b = &a->bills[k];
        if (b->penalties < 0 || b->settled < 0 || b->penalties + b->settled > b->alloc)
            return sl_error_set(err, SL_EINVAL, a->spec->name,
                                "billing window %lld pays out more than its share", (long long)k);
    }
    return 0;
}

int sl_contract_check(const sl_contract *c, sl_error *err)
{
    for (size_t s = 0; s < c->n_supply; s++) {
        const char *cur = c->supply[s].currency;
        int64_t sum = 0;
        for (size_t i = 0; i < c->n_accts; i++) {
            if (c->accts[i]->balance < 0)
                return sl_error_set(err, SL_EINVAL, c->accts[i]->key, "negative balance");
            if (memcmp(c->accts[i]->currency, cur, 4) == 0)
                sum += c->accts[i]->balance;
        }
        for (size_t i = 0; i < c->n_agrs; i++) {
            int rc = check_agreement(c->agrs[i], err);
            if (rc)
                return rc;
            if (memcmp(c->agrs[i]->spec->currency, cur, 4) == 0)
                sum += c->agrs[i]->escrow;
        }
        if (sum != c->supply[s].total)
            return sl_error_set(err, SL_EINVAL, cur, "supply %lld != wallets and escrows %lld",
                                (long long)c->supply[s].total, (long long)sum);
    }
    return 0;
}

/* ---- views ---- */

static const sl__window *window_at(const sl_contract *c, const char *agreement, size_t obj,
                                   int64_t k, const sl__objective **op)
{
    const sl__agreement *a = sl__agreement_find(c, agreement);
    if (!a || !a->objs || obj >= a->spec->n_objectives)
        return NULL;
    *op = &a->objs[obj];
    return k >= 0 && k < (*op)->n_wins ? &(*op)->wins[k] : NULL;
}

int64_t sl_contract_window_count(const sl_contract *c, const char *agreement, size_t objective)
{
    const sl__agreement *a = sl__agreement_find(c, agreement);
    if (!a || !a->objs || objective >= a->spec->n_objectives)
        return 0;
    return a->objs[objective].n_wins;
}

int sl_contract_window(const sl_contract *c, const char *agreement, size_t objective,
                       int64_t window, sl_window_info *out)
{
    const sl__objective *o;
    const sl__window *w = window_at(c, agreement, objective, window, &o);
    if (!w)
        return SL_ENOENT;
    int64_t g, b, r;
    sl__effective_counts(o, w, &g, &b, &r);
    *out = (sl_window_info){
        .start_ms = w->start_ms,
        .end_ms = w->end_ms,
        .intervals = w->intervals,
        .good = w->good,
        .bad = w->bad,
        .unknown = w->unknown,
        .violations = w->violations,
        .compliance = g + b > 0 ? g * SL_PPM_ONE / (g + b) : -1,
        .share = w->share,
        .owed = w->owed,
        .paid = w->paid,
        .tier = w->tier,
        .closed = w->closed,
    };
    return 0;
}
