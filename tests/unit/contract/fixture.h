/*
 * fixture.h: helpers shared by the contract tests: build agreements from YAML text, drive
 * oracles, and look at balances and events. Included by each test file (static functions).
 */
#ifndef SL_TEST_CONTRACT_FIXTURE_H
#define SL_TEST_CONTRACT_FIXTURE_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "slaledger/contract.h"

/* 2026-12-01T00:00:00Z */
#define T0   1796083200000LL
#define SEC  1000LL
#define HOUR (3600LL * SEC)

/* The common head of test agreements: univie consumes from aws, fee 1000.00 EUR. %s slots:
 * period end, grace, oracle members/policy, objectives and penalties. */
static const char *fx_doc_fmt = "apiVersion: slaledger/v1\n"
                                "kind: Agreement\n"
                                "metadata: {name: %s}\n"
                                "spec:\n"
                                "  channel: univie-aws\n"
                                "  consumer: univie\n"
                                "  provider: aws\n"
                                "  period: {start: 2026-12-01T00:00:00Z, end: %s}\n"
                                "  fee: {amount: \"1000.00\", currency: EUR}\n"
                                "  billing: %s\n"
                                "  grace: %s\n"
                                "  services: [{name: web, kind: http, source: {url: "
                                "\"http://127.0.0.1/\"}}]\n"
                                "  oracles: %s\n"
                                "  objectives:\n%s"
                                "%s";

typedef struct fx_doc {
    const char *name;       /* default "web" */
    const char *end;        /* default 2026-12-01T02:46:40Z (10000 s) */
    int64_t length_ms;      /* when end is NULL and this is not 0: the period ends this long
                               after T0 (no calendar date in the test) */
    const char *billing;    /* default period */
    const char *grace;      /* default 10s */
    const char *oracles;    /* default {members: [o1], quorum: 1} */
    const char *objectives; /* YAML list items, indented 4 */
    const char *penalties;  /* whole "  penalties:\n..." block or NULL */
} fx_doc;

static inline sl_agreement_spec *fx_spec(const fx_doc *d, uint8_t hash[SL_HASH_LEN])
{
    char text[8192], end[32];
    if (d->end)
        snprintf(end, sizeof(end), "%s", d->end);
    else
        assert_true(
            sl_time_format(T0 + (d->length_ms ? d->length_ms : 10000 * SEC), end, sizeof(end)) > 0);
    snprintf(text, sizeof(text), fx_doc_fmt, d->name ? d->name : "web", end,
             d->billing ? d->billing : "period", d->grace ? d->grace : "10s",
             d->oracles ? d->oracles : "{members: [o1], quorum: 1}", d->objectives,
             d->penalties ? d->penalties : "");
    sl_agreement_spec *spec = NULL;
    sl_diags diags = {0};
    int rc = sl_sla_parse(text, strlen(text), "test.yaml", &spec, &diags);
    for (size_t i = 0; i < diags.n; i++)
        fprintf(stderr, "test.yaml:%d:%d: %s: %s\n", diags.v[i].line, diags.v[i].column,
                diags.v[i].field, diags.v[i].msg);
    sl_diags_release(&diags);
    assert_int_equal(rc, 0);
    sl_sha256(text, strlen(text), hash);
    return spec;
}

/* A contract at T0 with `d` proposed by univie, accepted by aws, and the escrow funded with
 * `deposit` minor units (univie gets that much issued first). */
static inline sl_contract *fx_active(const fx_doc *d, int64_t deposit)
{
    sl_contract *c = NULL;
    sl_error err = {0};
    uint8_t hash[SL_HASH_LEN];
    assert_int_equal(sl_contract_new("bank", &c), 0);
    assert_int_equal(sl_contract_tick(c, T0, &err), 0);
    sl_agreement_spec *spec = fx_spec(d, hash);
    const char *name = spec->name;
    assert_int_equal(sl_contract_propose(c, "univie", spec, hash, &err), 0);
    assert_int_equal(sl_contract_accept(c, "aws", name, hash, &err), 0);
    if (deposit > 0) {
        assert_int_equal(sl_contract_issue(c, "bank", "univie", "EUR", deposit, &err), 0);
        assert_int_equal(sl_contract_deposit(c, "univie", name, deposit, &err), 0);
    }
    sl_contract_events_clear(c);
    return c;
}

static inline void fx_tick(sl_contract *c, int64_t t)
{
    sl_error err = {0};
    int rc = sl_contract_tick(c, t, &err);
    if (rc)
        fprintf(stderr, "tick: %s\n", err.msg);
    assert_int_equal(rc, 0);
}

/* Whether objective obj of agreement agr is a check objective (0 when there is none such). */
static inline int fx_is_check(const sl_contract *c, const char *agr, const char *obj)
{
    sl_agreement_info info;
    if (sl_contract_agreement(c, agr, &info) != 0)
        return 0;
    for (size_t i = 0; i < info.spec->n_objectives; i++)
        if (strcmp(info.spec->objectives[i].name, obj) == 0)
            return sl_metric_is_check(info.spec->objectives[i].metric);
    return 0;
}

/* Oracle `oracle` reports `value` for interval number k (of length len) of objective obj, as
 * a check result when obj is a check objective (as its oracle would send it). */
static inline int fx_report(sl_contract *c, const char *agr, const char *obj, const char *oracle,
                            int64_t len, int64_t k, int64_t value, sl_error *err)
{
    sl_report r = {
        agr, obj, oracle, T0 + k * len, T0 + (k + 1) * len, value, fx_is_check(c, agr, obj)};
    return sl_contract_report(c, &r, err);
}

static inline void fx_report_ok(sl_contract *c, const char *agr, const char *obj,
                                const char *oracle, int64_t len, int64_t k, int64_t value)
{
    sl_error err = {0};
    int rc = fx_report(c, agr, obj, oracle, len, k, value, &err);
    if (rc)
        fprintf(stderr, "report %lld: %s\n", (long long)k, err.msg);
    assert_int_equal(rc, 0);
}

static inline int64_t fx_bal(const sl_contract *c, const char *owner)
{
    return sl_contract_balance(c, owner, "EUR");
}

/* Number of events of `kind` since the last clear; *last receives the last one. */
static inline size_t fx_count(const sl_contract *c, sl_event_kind kind, const sl_event **last)
{
    size_t n, hits = 0;
    const sl_event *ev = sl_contract_events(c, &n);
    for (size_t i = 0; i < n; i++) {
        if (ev[i].kind == kind) {
            hits++;
            if (last)
                *last = &ev[i];
        }
    }
    return hits;
}

static inline void fx_check(const sl_contract *c)
{
    sl_error err = {0};
    int rc = sl_contract_check(c, &err);
    if (rc)
        fprintf(stderr, "invariant: %s: %s\n", err.field, err.msg);
    assert_int_equal(rc, 0);
}

#endif
