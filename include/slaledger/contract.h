/*
 * slaledger/contract.h: the SLA contract, a pure deterministic state machine.
 *
 * The contract holds wallets, agreements (proposed -> active -> closed), per-interval
 * measurement decisions, per-window compliance, penalties and settlements. It never does I/O,
 * never reads a clock, never uses floating point: time enters only through sl_contract_tick
 * (block timestamps, monotonic) and report intervals, so every node that applies the same
 * operations in the same order reaches byte-identical state (sl_contract_serialize) and the
 * same state hash.
 *
 * Every operation either applies completely or changes nothing and returns a negative SL_E*
 * code with detail in *err. Callers authenticate actors (signatures, roles) before calling:
 * `actor` is the verified identity name; the contract checks what that identity may do.
 * Operations append sl_event records that the caller reads and clears between operations.
 * Thread-safety: none; one thread owns a contract at a time. Penalty semantics are documented
 * in docs/penalties.md.
 */
#ifndef SLALEDGER_CONTRACT_H
#define SLALEDGER_CONTRACT_H

#include <stddef.h>
#include <stdint.h>

#include "slaledger/error.h"
#include "slaledger/sla.h"
#include "slaledger/util.h"

typedef struct sl_contract sl_contract;

typedef enum sl_agreement_status {
    SL_AGR_PROPOSED, /* signed by one party */
    SL_AGR_ACTIVE,   /* signed by both; measured and paid */
    SL_AGR_CLOSED,   /* period over and settled */
    SL_AGR_REJECTED, /* a party declined the proposal */
} sl_agreement_status;

typedef enum sl_outcome {
    SL_OUTCOME_GOOD,    /* met the objective (check passed, interval up) */
    SL_OUTCOME_BAD,     /* missed it */
    SL_OUTCOME_UNKNOWN, /* no quorum or no agreement among the oracles */
} sl_outcome;

typedef enum sl_event_kind {
    SL_EV_ISSUED,        /* issuer created tokens: to, amount */
    SL_EV_WITHDRAWN,     /* owner redeemed tokens: from, amount */
    SL_EV_PROPOSED,      /* agreement proposed by `from` */
    SL_EV_ACTIVATED,     /* both parties signed; accepted by `from` */
    SL_EV_REJECTED,      /* declined by `from` */
    SL_EV_DEPOSITED,     /* from -> escrow of agreement, amount */
    SL_EV_DECIDED,       /* interval [start,end) decided: outcome, value */
    SL_EV_DISPUTE,       /* oracles disagreed on the interval: good_oracles, bad_oracles */
    SL_EV_VIOLATION,     /* interval violated the objective, or a tier became certain (tier) */
    SL_EV_PENALTY,       /* escrow -> consumer, amount, for window [start,end) */
    SL_EV_WINDOW_CLOSED, /* objective window closed: value = availability ppm or -1 */
    SL_EV_SETTLEMENT,    /* escrow -> provider at billing window [start,end) close, amount */
    SL_EV_REFUND,        /* escrow remainder -> consumer at period end, amount */
    SL_EV_CLOSED,        /* agreement closed; its statement is final */
} sl_event_kind;

/**
 * One thing that happened. String pointers are borrowed from the contract and stay valid for
 * its lifetime (agreements and accounts are never removed). Fields that do not apply are NULL,
 * 0, or -1 for `tier` and `value`.
 */
typedef struct sl_event {
    sl_event_kind kind;
    int64_t time_ms; /* contract time (last tick) when it happened */
    const char *agreement;
    const char *objective;
    const char *from;
    const char *to;
    const char *currency;
    int64_t amount;
    int64_t start_ms; /* interval or window start */
    int64_t end_ms;
    int64_t value;
    sl_outcome outcome;
    int tier;              /* tier index for tier violations and penalties, else -1 */
    uint64_t good_oracles; /* DECIDED/DISPUTE: bit i = spec->oracles[i] reported good */
    uint64_t bad_oracles;
} sl_event;

/** One signed measurement of one closed interval by one oracle. All strings borrowed. */
typedef struct sl_report {
    const char *agreement;
    const char *objective;
    const char *oracle; /* verified identity of the signer */
    int64_t start_ms;   /* [start, end) must be exactly one interval of the objective's grid */
    int64_t end_ms;
    int64_t value; /* in the objective's metric unit (see sl_metric) */
    int check;     /* 1: sent as a check result (a check transaction), 0: as an interval
                      measurement (a report); must match the objective's metric kind */
} sl_report;

/** Creates an empty contract whose token issuer is `issuer` (copied). *out is freed with
 * sl_contract_free; NULL on failure. Returns 0, SL_EINVAL (bad name) or SL_ENOMEM. */
int sl_contract_new(const char *issuer, sl_contract **out) __attribute__((warn_unused_result));

/** Frees the contract and everything it owns. Accepts NULL. */
void sl_contract_free(sl_contract *c);

/**
 * Advances contract time to now_ms (a block timestamp; must not go backwards) and does what
 * became due: decides intervals whose deadline (end + grace) passed, closes objective windows,
 * settles billing windows, closes agreements at period end. SL_ETIME if now_ms < current time.
 */
int sl_contract_tick(sl_contract *c, int64_t now_ms, sl_error *err)
    __attribute__((warn_unused_result));

/** Current contract time (the last tick), 0 before the first. */
int64_t sl_contract_now(const sl_contract *c);

/**
 * The earliest contract time at which sl_contract_tick has work to do: the soonest deadline of
 * an interval whose reports wait for a decision, objective window close, billing window close
 * or period end (each plus the grace) among the active agreements; INT64_MAX when nothing will
 * ever be due. Not the deadline of an interval already decided: its tick only forgets the
 * reports kept to hear a dissent, which any later tick does as well. It may lie at or before
 * the current time when an operation made something due at once (an agreement activated after
 * one of its windows closed): the next tick does it. An orderer cuts a block at this time so
 * that an idle channel still settles. About O(agreements).
 */
int64_t sl_contract_next_due(const sl_contract *c);

/**
 * Proposes an agreement. actor must be the spec's consumer or provider; that counts as their
 * signature. doc_hash is the SHA-256 of the signed document; the counter-party accepts that
 * exact hash. On success the contract takes ownership of spec; on failure the caller keeps it.
 * SL_EEXIST (name taken), SL_EPERM, SL_ETIME (period already over), SL_EINVAL, SL_ENOMEM.
 */
int sl_contract_propose(sl_contract *c, const char *actor, sl_agreement_spec *spec,
                        const uint8_t doc_hash[SL_HASH_LEN], sl_error *err)
    __attribute__((warn_unused_result));

/** The counter-party signs the proposal with the document's hash; the agreement becomes active.
 * SL_ENOENT, SL_EPERM, SL_ESTATE (not proposed), SL_EINVAL (hash differs), SL_ETIME. */
int sl_contract_accept(sl_contract *c, const char *actor, const char *agreement,
                       const uint8_t doc_hash[SL_HASH_LEN], sl_error *err)
    __attribute__((warn_unused_result));

/** Either party declines a proposed agreement; it becomes rejected for good. */
int sl_contract_reject(sl_contract *c, const char *actor, const char *agreement, sl_error *err)
    __attribute__((warn_unused_result));

/** The issuer creates `amount` (> 0) tokens of `currency` in `to`'s wallet. */
int sl_contract_issue(sl_contract *c, const char *actor, const char *to, const char *currency,
                      int64_t amount, sl_error *err) __attribute__((warn_unused_result));

/** The owner redeems `amount` tokens from its own wallet; supply shrinks. SL_EFUNDS. */
int sl_contract_withdraw(sl_contract *c, const char *actor, const char *currency, int64_t amount,
                         sl_error *err) __attribute__((warn_unused_result));

/** The agreement's consumer moves `amount` of the agreement's currency into its escrow. The
 * agreement must be active. SL_EFUNDS, SL_EPERM, SL_ESTATE, SL_ENOENT. */
int sl_contract_deposit(sl_contract *c, const char *actor, const char *agreement, int64_t amount,
                        sl_error *err) __attribute__((warn_unused_result));

/**
 * Records one oracle's report. Rejected (nothing changes) when: r->check does not match the
 * objective (a check result for an interval objective or the other way round: SL_EINVAL, field
 * "objective", "'NAME' is a check objective; send it in a check transaction"; said first, in
 * any state of the agreement), the agreement is not active,
 * the oracle is not one of the objective's, the interval is off the objective's grid or outside
 * the period, not yet over (end > now) or past its deadline (now >= end + grace), already
 * decided (SL_EDUP), or already reported by this oracle (SL_EDUP), or the value is out of range.
 * When the report completes the interval's decision, penalties it makes certain are paid at once.
 */
int sl_contract_report(sl_contract *c, const sl_report *r, sl_error *err)
    __attribute__((warn_unused_result));

/* ---- events ---- */

/** The events appended since the last sl_contract_events_clear; *n receives their count. */
const sl_event *sl_contract_events(const sl_contract *c, size_t *n);
void sl_contract_events_clear(sl_contract *c);

/* ---- queries ---- */

/** Balance of owner's wallet in currency (0 if none). */
int64_t sl_contract_balance(const sl_contract *c, const char *owner, const char *currency);

/** Tokens of currency in existence: wallets plus escrows. */
int64_t sl_contract_supply(const sl_contract *c, const char *currency);

/** A snapshot of one agreement. Pointers are borrowed from the contract. */
typedef struct sl_agreement_info {
    const char *name;
    sl_agreement_status status;
    const sl_agreement_spec *spec;
    uint8_t doc_hash[SL_HASH_LEN];
    int consumer_signed;
    int provider_signed;
    int64_t activated_ms; /* -1 until active */
    int64_t escrow;       /* current escrow balance */
    int64_t deposited;    /* totals over the agreement's life */
    int64_t penalties;
    int64_t settled;
    int64_t refunded;
} sl_agreement_info;

int sl_contract_agreement(const sl_contract *c, const char *name, sl_agreement_info *out);

/** Number of agreements, and the i-th in name order (for listing). */
size_t sl_contract_agreement_count(const sl_contract *c);
int sl_contract_agreement_at(const sl_contract *c, size_t i, sl_agreement_info *out);

/** Figures of one objective window (window 0 is the first window of the period). */
typedef struct sl_window_info {
    int64_t start_ms;
    int64_t end_ms;
    int64_t intervals;  /* intervals in the window */
    int64_t good;       /* decided good */
    int64_t bad;        /* decided bad */
    int64_t unknown;    /* decided unknown (after close: also never-decided intervals) */
    int64_t violations; /* intervals that cost a penalty (or failed checks) */
    int64_t compliance; /* ppm good / (good + bad) per the unknown policy; -1 when undefined */
    int64_t share;      /* the window's share of the fee */
    int64_t owed;       /* penalty the rules call for so far */
    int64_t paid;       /* penalty paid (owed, limited by billing share and escrow) */
    int tier;           /* worst certain tier, -1 for none */
    int closed;
} sl_window_info;

/** Number of windows of objective `objective` (index into spec->objectives). */
int64_t sl_contract_window_count(const sl_contract *c, const char *agreement, size_t objective);
int sl_contract_window(const sl_contract *c, const char *agreement, size_t objective,
                       int64_t window, sl_window_info *out);

/**
 * Writes the agreement's statement as a JSON object into out (appended): period, fee, escrow
 * movements, and per objective and window the figures of sl_window_info. Final once the
 * agreement is closed; a running statement before that.
 */
int sl_contract_statement(const sl_contract *c, const char *agreement, sl_buf *out);

/* ---- state ---- */

/** Appends the canonical serialization of the whole state to out (byte-identical across nodes
 * that applied the same operations). */
int sl_contract_serialize(const sl_contract *c, sl_buf *out);

/** SHA-256 state hash (see docs/penalties.md, "State hash"). Cached per agreement, so cheap
 * when few agreements changed. Returns 0 or SL_ENOMEM. */
int sl_contract_state_hash(sl_contract *c, uint8_t out[SL_HASH_LEN]);

/** Checks money conservation (per currency: supply == wallets + escrows) and that no balance is
 * negative. Returns 0 or SL_EINVAL with the first discrepancy in *err. */
int sl_contract_check(const sl_contract *c, sl_error *err);

const char *sl_event_kind_name(sl_event_kind k);
const char *sl_agreement_status_name(sl_agreement_status s);

#endif
