/*
 * test_agreement.c: agreement lifecycle (bilateral signatures), wallet operations, refusals
 * that change nothing, time, and the canonical state and its hash.
 */
#include <jansson.h>

#include "fixture.h"

static const char *uptime = "    - {name: uptime, metric: availability, interval: 1s, "
                            "window: period, target: \">= 99.0%\"}\n";

static void assert_unchanged(sl_contract *c, const sl_buf *before)
{
    sl_buf now;
    sl_buf_init(&now);
    assert_int_equal(sl_contract_serialize(c, &now), 0);
    assert_int_equal(now.len, before->len);
    assert_memory_equal(now.p, before->p, now.len);
    sl_buf_release(&now);
}

static void test_bilateral_activation(void **state)
{
    (void)state;
    sl_contract *c;
    sl_error err = {0};
    uint8_t hash[SL_HASH_LEN], other[SL_HASH_LEN];
    fx_doc d = {.objectives = uptime};
    assert_int_equal(sl_contract_new("bank", &c), 0);
    fx_tick(c, T0);
    sl_agreement_spec *spec = fx_spec(&d, hash);
    assert_int_equal(sl_contract_propose(c, "mallory", spec, hash, &err), SL_EPERM);
    assert_int_equal(sl_contract_propose(c, "aws", spec, hash, &err), 0); /* provider proposes */

    sl_agreement_info info;
    assert_int_equal(sl_contract_agreement(c, "web", &info), 0);
    assert_int_equal(info.status, SL_AGR_PROPOSED);
    assert_true(info.provider_signed);
    assert_false(info.consumer_signed);

    /* Not active yet: no deposits, no reports. */
    assert_int_equal(sl_contract_issue(c, "bank", "univie", "EUR", 500, &err), 0);
    assert_int_equal(sl_contract_deposit(c, "univie", "web", 100, &err), SL_ESTATE);
    fx_tick(c, T0 + SEC);
    assert_int_equal(fx_report(c, "web", "uptime", "o1", SEC, 0, 1000000, &err), SL_ESTATE);

    assert_int_equal(sl_contract_accept(c, "aws", "web", hash, &err), SL_EDUP);
    memcpy(other, hash, sizeof(other));
    other[0] ^= 1;
    assert_int_equal(sl_contract_accept(c, "univie", "web", other, &err), SL_EINVAL);
    assert_int_equal(sl_contract_accept(c, "mallory", "web", hash, &err), SL_EPERM);
    assert_int_equal(sl_contract_accept(c, "univie", "nope", hash, &err), SL_ENOENT);
    assert_int_equal(sl_contract_accept(c, "univie", "web", hash, &err), 0);
    const sl_event *e = NULL;
    assert_int_equal(fx_count(c, SL_EV_ACTIVATED, &e), 1);
    assert_string_equal(e->from, "univie");
    assert_int_equal(sl_contract_agreement(c, "web", &info), 0);
    assert_int_equal(info.status, SL_AGR_ACTIVE);
    assert_int_equal(info.activated_ms, T0 + SEC);
    assert_int_equal(sl_contract_reject(c, "univie", "web", &err), SL_ESTATE);

    /* A second agreement of the same name is refused; the caller keeps its spec. */
    sl_agreement_spec *dup = fx_spec(&d, hash);
    assert_int_equal(sl_contract_propose(c, "univie", dup, hash, &err), SL_EEXIST);
    sl_agreement_spec_free(dup);
    sl_contract_free(c);
}

static void test_reject_and_late_proposal(void **state)
{
    (void)state;
    sl_contract *c;
    sl_error err = {0};
    uint8_t hash[SL_HASH_LEN];
    fx_doc d = {.objectives = uptime};
    assert_int_equal(sl_contract_new("bank", &c), 0);
    sl_agreement_spec *spec = fx_spec(&d, hash);
    assert_int_equal(sl_contract_propose(c, "univie", spec, hash, &err), 0);
    assert_int_equal(sl_contract_reject(c, "aws", "web", &err), 0);
    assert_int_equal(sl_contract_accept(c, "aws", "web", hash, &err), SL_ESTATE);

    fx_doc late = {.name = "late", .objectives = uptime};
    spec = fx_spec(&late, hash);
    fx_tick(c, T0 + 10000 * SEC);
    assert_int_equal(sl_contract_propose(c, "univie", spec, hash, &err), SL_ETIME);
    sl_agreement_spec_free(spec);
    sl_contract_free(c);
}

static void test_wallet_operations(void **state)
{
    (void)state;
    sl_contract *c;
    sl_error err = {0};
    assert_int_equal(sl_contract_new("bank", &c), 0);
    assert_int_equal(sl_contract_issue(c, "univie", "univie", "EUR", 5, &err), SL_EPERM);
    assert_int_equal(sl_contract_issue(c, "bank", "univie", "EUR", 0, &err), SL_EINVAL);
    assert_int_equal(sl_contract_issue(c, "bank", "univie", "EUR", -5, &err), SL_EINVAL);
    assert_int_equal(sl_contract_issue(c, "bank", "univie", "eur", 5, &err), SL_EINVAL);
    assert_int_equal(sl_contract_issue(c, "bank", "Bad Name", "EUR", 5, &err), SL_EINVAL);
    assert_int_equal(sl_contract_issue(c, "bank", "univie", "EUR", INT64_MAX, &err), 0);
    assert_int_equal(sl_contract_issue(c, "bank", "aws", "EUR", 1, &err), SL_EOVERFLOW);
    assert_int_equal(sl_contract_issue(c, "bank", "aws", "USD", 7, &err), 0);
    assert_int_equal(sl_contract_supply(c, "EUR"), INT64_MAX);
    assert_int_equal(sl_contract_withdraw(c, "aws", "USD", 8, &err), SL_EFUNDS);
    /* Refusals speak in the currency's units, not in minor units. */
    assert_string_equal(err.msg, "wallet of 'aws' holds 0.07 USD, less than 0.08 USD");
    assert_int_equal(sl_contract_withdraw(c, "aws", "EUR", 1, &err), SL_EFUNDS);
    assert_string_equal(err.msg, "wallet of 'aws' holds 0.00 EUR, less than 0.01 EUR");
    assert_int_equal(sl_contract_issue(c, "bank", "aws", "JPY", 900, &err), 0);
    assert_int_equal(sl_contract_withdraw(c, "aws", "JPY", 901, &err), SL_EFUNDS);
    assert_string_equal(err.msg, "wallet of 'aws' holds 900 JPY, less than 901 JPY");
    assert_int_equal(sl_contract_issue(c, "bank", "aws", "KWD", 1500, &err), 0);
    assert_int_equal(sl_contract_withdraw(c, "aws", "KWD", 90000, &err), SL_EFUNDS);
    assert_string_equal(err.msg, "wallet of 'aws' holds 1.500 KWD, less than 90.000 KWD");
    assert_int_equal(sl_contract_withdraw(c, "aws", "USD", 7, &err), 0);
    assert_int_equal(sl_contract_supply(c, "USD"), 0);
    assert_int_equal(sl_contract_balance(c, "aws", "USD"), 0);
    fx_check(c);
    sl_contract_free(c);
}

static void test_deposit_rules(void **state)
{
    (void)state;
    fx_doc d = {.objectives = uptime};
    sl_contract *c = fx_active(&d, 0);
    sl_error err = {0};
    sl_buf before;
    sl_buf_init(&before);
    assert_int_equal(sl_contract_issue(c, "bank", "univie", "EUR", 1000, &err), 0);
    assert_int_equal(sl_contract_issue(c, "bank", "aws", "EUR", 1000, &err), 0);
    assert_int_equal(sl_contract_serialize(c, &before), 0);
    assert_int_equal(sl_contract_deposit(c, "aws", "web", 10, &err), SL_EPERM);
    assert_int_equal(sl_contract_deposit(c, "univie", "web", 1001, &err), SL_EFUNDS);
    assert_string_equal(err.msg, "wallet of 'univie' holds 10.00 EUR, less than 10.01 EUR");
    assert_int_equal(sl_contract_deposit(c, "univie", "web", 0, &err), SL_EINVAL);
    assert_int_equal(sl_contract_deposit(c, "univie", "nope", 10, &err), SL_ENOENT);
    assert_unchanged(c, &before);
    assert_int_equal(sl_contract_deposit(c, "univie", "web", 1000, &err), 0);
    sl_agreement_info info;
    assert_int_equal(sl_contract_agreement(c, "web", &info), 0);
    assert_int_equal(info.escrow, 1000);
    assert_int_equal(fx_bal(c, "univie"), 0);
    fx_check(c);
    sl_buf_release(&before);
    sl_contract_free(c);
}

static void test_time_is_monotonic(void **state)
{
    (void)state;
    sl_contract *c;
    sl_error err = {0};
    assert_int_equal(sl_contract_new("bank", &c), 0);
    fx_tick(c, T0);
    fx_tick(c, T0);
    assert_int_equal(sl_contract_tick(c, T0 - 1, &err), SL_ETIME);
    assert_int_equal(sl_contract_now(c), T0);
    sl_contract_free(c);
}

/* The same operations give byte-identical state and the same hash; the cached per-agreement
 * digests give the same hash as a fresh computation. */
static sl_contract *scenario(void)
{
    fx_doc d = {.oracles = "{members: [o1, o2, o3], quorum: 2}", .objectives = uptime};
    sl_contract *c = fx_active(&d, 100000);
    for (int64_t k = 0; k < 300; k++) {
        fx_tick(c, T0 + (k + 1) * SEC);
        fx_report_ok(c, "web", "uptime", "o1", SEC, k, k % 7 ? 1000000 : 0);
        if (k % 3)
            fx_report_ok(c, "web", "uptime", "o2", SEC, k, 1000000);
    }
    return c;
}

static void test_replay_state_identical(void **state)
{
    (void)state;
    sl_contract *a = scenario(), *b = scenario();
    uint8_t ha[SL_HASH_LEN], hb[SL_HASH_LEN], hc[SL_HASH_LEN];
    sl_buf sa, sb;
    sl_buf_init(&sa);
    sl_buf_init(&sb);
    assert_int_equal(sl_contract_serialize(a, &sa), 0);
    assert_int_equal(sl_contract_serialize(b, &sb), 0);
    assert_int_equal(sa.len, sb.len);
    assert_memory_equal(sa.p, sb.p, sa.len);
    /* Hash a several times while it changes, b only at the end. */
    assert_int_equal(sl_contract_state_hash(a, ha), 0);
    fx_tick(a, T0 + 400 * SEC);
    fx_tick(b, T0 + 400 * SEC);
    assert_int_equal(sl_contract_state_hash(a, ha), 0);
    assert_int_equal(sl_contract_state_hash(b, hb), 0);
    assert_memory_equal(ha, hb, SL_HASH_LEN);
    fx_tick(b, T0 + 401 * SEC);
    assert_int_equal(sl_contract_state_hash(b, hc), 0);
    assert_memory_not_equal(ha, hc, SL_HASH_LEN); /* time is state */
    sl_buf_release(&sa);
    sl_buf_release(&sb);
    sl_contract_free(a);
    sl_contract_free(b);
}

/* Parses a statement and checks that its money adds up: every deposited unit is in the
 * escrow or was paid out as penalty, settlement or refund. */
static json_t *statement_json(const sl_contract *c, sl_buf *b)
{
    sl_buf_reset(b);
    assert_int_equal(sl_contract_statement(c, "web", b), 0);
    json_error_t jerr;
    json_t *j = json_loads(sl_buf_cstr(b), 0, &jerr);
    if (!j)
        fail_msg("statement is not JSON: %s at %d: %s", jerr.text, jerr.position, b->p);
    int64_t v[5];
    const char *keys[5] = {"deposited", "penalties", "settled", "refunded", "escrow"};
    for (int i = 0; i < 5; i++) {
        const char *s = json_string_value(json_object_get(j, keys[i]));
        assert_non_null(s);
        assert_int_equal(sl_decimal_parse(s, strlen(s), 2, &v[i]), 0);
    }
    assert_int_equal(v[0], v[1] + v[2] + v[3] + v[4]);
    return j;
}

static void test_statement_running_and_final(void **state)
{
    (void)state;
    sl_contract *c = scenario();
    sl_buf b;
    sl_buf_init(&b);
    json_t *j = statement_json(c, &b);
    assert_string_equal(json_string_value(json_object_get(j, "status")), "active");
    assert_string_equal(json_string_value(json_object_get(j, "fee")), "1000.00");
    assert_true(json_array_size(json_object_get(j, "objectives")) > 0);
    json_decref(j);
    fx_tick(c, T0 + 20000 * SEC);
    j = statement_json(c, &b);
    assert_string_equal(json_string_value(json_object_get(j, "status")), "closed");
    assert_string_equal(json_string_value(json_object_get(j, "escrow")), "0.00");
    json_t *bill = json_array_get(json_object_get(j, "billing"), 0);
    assert_true(json_is_true(json_object_get(bill, "closed")));
    json_decref(j);
    assert_int_equal(sl_contract_statement(c, "nope", &b), SL_ENOENT);
    sl_buf_release(&b);
    fx_check(c);
    sl_contract_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bilateral_activation),
        cmocka_unit_test(test_reject_and_late_proposal),
        cmocka_unit_test(test_wallet_operations),
        cmocka_unit_test(test_deposit_rules),
        cmocka_unit_test(test_time_is_monotonic),
        cmocka_unit_test(test_replay_state_identical),
        cmocka_unit_test(test_statement_running_and_final),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
