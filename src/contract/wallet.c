/*
 * wallet.c: wallets, token supply and the money operations signed by a party (issue,
 * withdraw, deposit).
 *
 * Balances are int64 minor units per (owner, currency) account. Invariant, per currency:
 * supply == sum of wallet balances + sum of escrows of agreements in that currency, and no
 * balance is ever negative. Supply changes only through issue (up) and withdraw (down); every
 * other movement is a transfer. Accounts are created on first use with balance 0 and are
 * invisible in the canonical state until they hold money, so creating one in a check phase
 * changes nothing observable.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "contract/contract_int.h"

int sl__currency_check(const char *cur, sl_error *err)
{
    if (!cur || strlen(cur) != 3 || cur[0] < 'A' || cur[0] > 'Z' || cur[1] < 'A' || cur[1] > 'Z' ||
        cur[2] < 'A' || cur[2] > 'Z')
        return sl_error_set(err, SL_EINVAL, "currency",
                            "currency must be a three-letter ISO 4217 code such as EUR");
    return 0;
}

/* An amount as text for a message: "900.00 EUR", with the currency's decimals (scale). */
static const char *money_text(int64_t amount, unsigned scale, const char *currency, char *buf,
                              size_t cap)
{
    char num[32];
    if (sl_decimal_format(amount, scale, num, sizeof(num)) < 0)
        sl_strfmt(num, sizeof(num), "%lld", (long long)amount);
    sl_strfmt(buf, cap, "%s %s", num, currency);
    return buf;
}

/* Decimals of a wallet's currency: the table's, or 2 as the wallet routes take amounts. */
static unsigned wallet_scale(const char *currency)
{
    int m = sl_currency_minor_units(currency);
    return m < 0 ? 2 : (unsigned)m;
}

/* The refusal of a debit of amount from owner's wallet, which holds only balance. */
static int funds_error(sl_error *err, const char *owner, int64_t balance, int64_t amount,
                       unsigned scale, const char *currency)
{
    char has[48], want[48];
    return sl_error_set(err, SL_EFUNDS, "amount", "wallet of '%s' holds %s, less than %s", owner,
                        money_text(balance, scale, currency, has, sizeof(has)),
                        money_text(amount, scale, currency, want, sizeof(want)));
}

static int account_key(const char *owner, const char *currency, char *buf, size_t cap)
{
    int n = snprintf(buf, cap, "%s/%s", currency, owner);
    return n > 0 && (size_t)n < cap ? 0 : SL_EINVAL;
}

sl__account *sl__account_find(const sl_contract *c, const char *owner, const char *currency)
{
    char key[80];
    if (account_key(owner, currency, key, sizeof(key)) != 0)
        return NULL;
    return sl__strmap_get(&c->acct_index, key);
}

static size_t account_slot(const sl_contract *c, const char *key)
{
    size_t lo = 0, hi = c->n_accts;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (strcmp(c->accts[mid]->key, key) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static int accounts_reserve(sl_contract *c)
{
    if (sl_reserve(&c->accts, &c->cap_accts, c->n_accts + 1, sizeof(*c->accts)))
        return SL_ENOMEM;
    return sl__strmap_reserve(&c->acct_index, 1);
}

int sl__account_get(sl_contract *c, const char *owner, const char *currency, sl__account **out)
{
    char key[80];
    if (account_key(owner, currency, key, sizeof(key)) != 0)
        return SL_EINVAL;
    *out = sl__strmap_get(&c->acct_index, key);
    if (*out)
        return 0;
    sl__account *a = calloc(1, sizeof(*a));
    if (!a || !(a->key = sl_strdup(key)) || accounts_reserve(c) != 0) {
        if (a)
            free(a->key);
        free(a);
        return SL_ENOMEM;
    }
    a->owner = a->key + 4;
    memcpy(a->currency, currency, 4);
    size_t at = account_slot(c, a->key);
    memmove(c->accts + at + 1, c->accts + at, (c->n_accts - at) * sizeof(*c->accts));
    c->accts[at] = a;
    c->n_accts++;
    sl__strmap_put(&c->acct_index, a->key, a);
    *out = a;
    return 0;
}

sl__supply *sl__supply_find(const sl_contract *c, const char *currency)
{
    for (size_t i = 0; i < c->n_supply; i++) {
        if (memcmp(c->supply[i].currency, currency, 4) == 0)
            return &c->supply[i];
    }
    return NULL;
}

/* Makes sure a supply row exists for currency (total 0 rows are invisible state). */
int sl__supply_reserve(sl_contract *c, const char *currency)
{
    if (sl__supply_find(c, currency))
        return 0;
    if (sl_reserve(&c->supply, &c->cap_supply, c->n_supply + 1, sizeof(*c->supply)))
        return SL_ENOMEM;
    size_t at = 0;
    while (at < c->n_supply && memcmp(c->supply[at].currency, currency, 4) < 0)
        at++;
    memmove(c->supply + at + 1, c->supply + at, (c->n_supply - at) * sizeof(*c->supply));
    memcpy(c->supply[at].currency, currency, 4);
    c->supply[at].total = 0;
    c->n_supply++;
    return 0;
}

void sl__wallets_release(sl_contract *c)
{
    for (size_t i = 0; i < c->n_accts; i++) {
        free(c->accts[i]->key);
        free(c->accts[i]);
    }
    free(c->accts);
    free(c->supply);
    sl__strmap_release(&c->acct_index);
}

static int amount_check(int64_t amount, sl_error *err)
{
    if (amount <= 0)
        return sl_error_set(err, SL_EINVAL, "amount",
                            "amount must be positive (minor units), got %lld", (long long)amount);
    return 0;
}

int sl_contract_issue(sl_contract *c, const char *actor, const char *to, const char *currency,
                      int64_t amount, sl_error *err)
{
    int rc;
    if ((rc = amount_check(amount, err)) || (rc = sl__currency_check(currency, err)))
        return rc;
    if (!actor || strcmp(actor, c->issuer) != 0)
        return sl_error_set(err, SL_EPERM, "actor", "only the issuer '%s' may issue tokens",
                            c->issuer);
    if (!to || !sl_name_valid(to, strlen(to)))
        return sl_error_set(err, SL_EINVAL, "to", "recipient is not a valid identity name");
    sl__supply *s = sl__supply_find(c, currency);
    int64_t total;
    if (sl_add(s ? s->total : 0, amount, &total) != 0)
        return sl_error_set(err, SL_EOVERFLOW, "amount",
                            "issuing %lld %s would overflow the supply", (long long)amount,
                            currency);
    sl__account *acct;
    if (sl__supply_reserve(c, currency) || sl__account_get(c, to, currency, &acct) ||
        sl__events_reserve(c, 1))
        return sl_error_set(err, SL_ENOMEM, NULL, "out of memory");
    sl__supply_find(c, currency)->total = total;
    acct->balance += amount; /* <= supply, so no overflow */
    sl_event *e = sl__event_push(c, SL_EV_ISSUED, NULL);
    e->to = acct->owner;
    e->currency = acct->currency;
    e->amount = amount;
    return 0;
}

int sl_contract_withdraw(sl_contract *c, const char *actor, const char *currency, int64_t amount,
                         sl_error *err)
{
    int rc;
    if ((rc = amount_check(amount, err)) || (rc = sl__currency_check(currency, err)))
        return rc;
    sl__account *acct = actor ? sl__account_find(c, actor, currency) : NULL;
    if (!acct || acct->balance < amount)
        return funds_error(err, actor ? actor : "", acct ? acct->balance : 0, amount,
                           wallet_scale(currency), currency);
    if (sl__events_reserve(c, 1))
        return sl_error_set(err, SL_ENOMEM, NULL, "out of memory");
    acct->balance -= amount;
    sl__supply_find(c, currency)->total -= amount;
    sl_event *e = sl__event_push(c, SL_EV_WITHDRAWN, NULL);
    e->from = acct->owner;
    e->currency = acct->currency;
    e->amount = amount;
    return 0;
}

int sl_contract_deposit(sl_contract *c, const char *actor, const char *agreement, int64_t amount,
                        sl_error *err)
{
    int rc = amount_check(amount, err);
    if (rc)
        return rc;
    sl__agreement *a = sl__agreement_find(c, agreement);
    if (!a)
        return sl_error_set(err, SL_ENOENT, "agreement", "no agreement named '%s'",
                            agreement ? agreement : "");
    if (!actor || strcmp(actor, a->spec->consumer) != 0)
        return sl_error_set(err, SL_EPERM, "actor", "only the consumer '%s' funds the escrow",
                            a->spec->consumer);
    if (a->status != SL_AGR_ACTIVE)
        return sl_error_set(err, SL_ESTATE, "agreement", "agreement '%s' is %s, not active",
                            a->spec->name, sl_agreement_status_name(a->status));
    sl__account *acct = a->consumer_acct;
    if (acct->balance < amount)
        return funds_error(err, actor, acct->balance, amount, a->spec->minor_units, acct->currency);
    int64_t deposited;
    if (sl_add(a->deposited, amount, &deposited))
        return sl_error_set(err, SL_EOVERFLOW, "amount", "total deposits of '%s' would overflow",
                            a->spec->name);
    if (sl__events_reserve(c, 1))
        return sl_error_set(err, SL_ENOMEM, NULL, "out of memory");
    acct->balance -= amount;
    a->escrow += amount; /* bounded by the supply */
    a->deposited = deposited;
    a->dirty = 1;
    sl_event *e = sl__event_push(c, SL_EV_DEPOSITED, a);
    e->from = acct->owner;
    e->amount = amount;
    return 0;
}
