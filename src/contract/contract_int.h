/*
 * contract_int.h: private structures of the contract, shared by the files of src/contract.
 *
 * Ownership: the contract owns its agreements (each owns its spec, objectives, windows, bills
 * and pending reports) and its accounts; nothing is ever removed until sl_contract_free.
 * Atomicity: every public operation runs in two phases. The check phase validates the input and
 * makes every allocation the operation could need (event capacity, accounts, pending entries,
 * bitmaps); none of that is visible state (zero-balance accounts and all-zero bitmaps serialize
 * as if absent). The apply phase then mutates and cannot fail.
 */
#ifndef SL_CONTRACT_INT_H
#define SL_CONTRACT_INT_H

#include <stdint.h>

#include "slaledger/contract.h"

/* ---- string map (map.c): open addressing, keys borrowed from the values, no deletion ---- */
typedef struct sl__strmap {
    const char **keys;
    void **vals;
    size_t n;
    size_t cap; /* power of two, or 0 */
} sl__strmap;

/** Makes room for `extra` more keys so the next puts cannot fail. */
int sl__strmap_reserve(sl__strmap *m, size_t extra);
/** Inserts key (borrowed; must outlive the map). Requires a prior reserve. */
void sl__strmap_put(sl__strmap *m, const char *key, void *val);
void *sl__strmap_get(const sl__strmap *m, const char *key);
void sl__strmap_release(sl__strmap *m);

/* ---- accounts and supply (wallet.c) ---- */
typedef struct sl__account {
    char *key;         /* "CUR/owner": sorts by currency, then owner */
    const char *owner; /* points into key */
    char currency[4];
    int64_t balance;
} sl__account;

typedef struct sl__supply {
    char currency[4];
    int64_t total;
} sl__supply;

/* ---- measurement state (report.c, window.c) ---- */
/* An interval's reports until its deadline. An interval decided early stays here (decided set)
 * so that later reports are still recorded once each and a dissent becomes a dispute. */
typedef struct sl__pending {
    int64_t interval;  /* global interval number: start_ms / interval_ms */
    uint64_t reported; /* bit i: spec->oracles[i] reported */
    int decided;       /* decided early with outcome; later reports change nothing else */
    sl_outcome outcome;
    int64_t values[]; /* indexed by oracle, spec->n_oracles entries */
} sl__pending;

typedef struct sl__window {
    int64_t start_ms, end_ms; /* clipped to the period */
    int64_t intervals;
    int64_t good, bad, unknown; /* decided outcomes (unknown gains the undecided at close) */
    int64_t violations;         /* intervals or failed checks that counted against the window */
    int64_t share;              /* the window's share of the fee */
    int64_t owed, paid;
    int64_t bill; /* index of the billing window it nests in */
    int tier;     /* worst certain tier, -1 none */
    int missed;   /* availability: the target is certainly missed */
    int closed;
    uint64_t *decided; /* bit per interval in the window; NULL until needed, freed at close */
} sl__window;

typedef struct sl__objective {
    const sl_objective_spec *spec;
    const sl_penalty_spec *penalty; /* NULL when the objective carries no penalty */
    uint32_t members;               /* oracles that may report: popcount(spec->oracle_mask) */
    sl__window *wins;
    int64_t n_wins;
    int64_t first_open;    /* first window not yet closed */
    sl__pending **pending; /* sorted by interval, so the due ones are a prefix */
    size_t n_pending, cap_pending;
} sl__objective;

typedef struct sl__bill {
    int64_t start_ms, end_ms;
    int64_t alloc;     /* this billing window's share of the fee */
    int64_t penalties; /* paid to the consumer out of alloc */
    int64_t settled;   /* paid to the provider at close */
    int closed;
} sl__bill;

typedef struct sl__agreement {
    sl_agreement_spec *spec; /* owned; spec->name is the key */
    uint8_t doc_hash[SL_HASH_LEN];
    sl_agreement_status status;
    int consumer_signed, provider_signed;
    int64_t activated_ms;
    int64_t escrow, deposited, penalties, settled, refunded;
    sl__objective *objs; /* spec->n_objectives, allocated at activation */
    sl__bill *bills;
    int64_t n_bills, first_open_bill;
    int64_t next_due;                           /* earliest time anything of it needs a tick */
    sl__account *consumer_acct, *provider_acct; /* in the fee currency, made at proposal */
    int dirty;                                  /* digest must be recomputed */
    uint8_t digest[SL_HASH_LEN];
} sl__agreement;

struct sl_contract {
    char *issuer;
    int64_t now;
    sl__agreement **agrs; /* sorted by name */
    size_t n_agrs, cap_agrs;
    sl__strmap agr_index;
    sl__account **accts; /* sorted by key */
    size_t n_accts, cap_accts;
    sl__strmap acct_index;
    sl__supply *supply; /* sorted by currency */
    size_t n_supply, cap_supply;
    sl_event *events;
    size_t n_events, cap_events;
};

/* contract.c */
sl__agreement *sl__agreement_find(const sl_contract *c, const char *name);
int sl__events_reserve(sl_contract *c, size_t extra);
sl_event *sl__event_push(sl_contract *c, sl_event_kind kind, const sl__agreement *a);

/* wallet.c */
int sl__currency_check(const char *currency, sl_error *err);
/** Finds or creates (balance 0) the account; only allocation can fail. */
int sl__account_get(sl_contract *c, const char *owner, const char *currency, sl__account **out);
sl__account *sl__account_find(const sl_contract *c, const char *owner, const char *currency);
int sl__supply_reserve(sl_contract *c, const char *currency);
sl__supply *sl__supply_find(const sl_contract *c, const char *currency);
void sl__wallets_release(sl_contract *c);

/* window.c */
/** Builds objectives, windows and billing windows for an agreement about to activate. */
int sl__agreement_layout(sl__agreement *a);
void sl__agreement_layout_release(sl__agreement *a);
int64_t sl__window_index(const sl_agreement_spec *s, const sl_window_spec *w, int64_t t);
/** Updates the window's figures after a change and pays what became owed. */
void sl__window_evaluate(sl_contract *c, sl__agreement *a, sl__objective *o, sl__window *w);
/** Upper bound of events a tick at `now` appends for a. */
size_t sl__tick_bound(const sl__agreement *a, int64_t now);
/** Does everything due at c->now for an active agreement. Cannot fail (space reserved). */
void sl__agreement_tick(sl_contract *c, sl__agreement *a);
void sl__agreement_next_due(sl__agreement *a);
/** When a tick next has work for a that a block must not wait for: next_due, less the
 * deadlines of intervals already decided (their tick only forgets the reports kept for a
 * dissent, and any later block does that). INT64_MAX unless active; never before next_due. */
int64_t sl__agreement_work_due(const sl__agreement *a);
void sl__effective_counts(const sl__objective *o, const sl__window *w, int64_t *good, int64_t *bad,
                          int64_t *remaining);

/* report.c */
void sl__decide_pending(sl_contract *c, sl__agreement *a, sl__objective *o, sl__pending *p,
                        int final);
int sl__bitmap_ensure(sl__window *w);
int64_t sl__deadline(const sl__agreement *a, const sl__objective *o, int64_t interval);

#endif
