/*
 * test_property.c: a million random operations (valid and invalid mixed: reports from right
 * and wrong oracles, on time, early and late, deposits, overdrafts, issues, withdrawals,
 * proposals, acceptances, rejections, clock ticks) must keep money conserved, no balance
 * negative, every interval decided at most once, and two independent replays byte-identical.
 * SL_PROPERTY_OPS overrides the number of operations (the default is 1,000,000).
 */
#include "fixture.h"

#define N_AGR    8
#define N_OBJ    3
#define PERIOD_S 3600

static const char *objectives =
    "    - {name: uptime, metric: availability, interval: 1s, window: 5m, target: \">= 99.5%\"}\n"
    "    - {name: latency, metric: response_time, percentile: 95, interval: 1s, window: 5m, "
    "target: \"<= 300ms\"}\n"
    "    - {name: backups, metric: durability, interval: 60s, window: 10m}\n";
static const char *penalties =
    "  penalties:\n"
    "    - {objective: uptime, tiers: [{below: 99.5%, credit: 10%}, {below: 98%, credit: 25%}, "
    "{below: 90%, credit: 100%}]}\n"
    "    - {objective: latency, per_violation: \"0.50\", cap: 50%}\n"
    "    - {objective: backups, per_failure: \"5.00\", cap: \"20.00\"}\n";
static const char *policies[] = {"median", "k-of-n", "all-agree", "min", "max"};
static const char *oracles[] = {"o1", "o2", "o3", "o4"}; /* o4 is nobody's oracle */
static const char *parties[] = {"univie", "aws", "bank", "mallory"};
static const char *objective_names[N_OBJ] = {"uptime", "latency", "backups"};

typedef struct world {
    uint64_t rng;
    sl_contract *c;
    int64_t now;
    uint8_t hash[N_AGR][SL_HASH_LEN];
    /* decided[a][o][k]: interval k of objective o of agreement a was decided */
    uint8_t decided[N_AGR][N_OBJ][PERIOD_S];
    long accepted, refused; /* operations the contract took and turned down */
} world;

static uint64_t next(world *w)
{
    uint64_t z = (w->rng += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static int64_t pick(world *w, int64_t n)
{
    return (int64_t)(next(w) % (uint64_t)n);
}

static int64_t start_of(int a)
{
    return T0 + a * 600 * SEC;
}

static int propose(world *w, int a)
{
    char name[8], end[32], oracle_set[96];
    snprintf(name, sizeof(name), "a%d", a);
    sl_time_format(start_of(a) + PERIOD_S * SEC, end, sizeof(end));
    snprintf(oracle_set, sizeof(oracle_set), "{members: [o1, o2, o3], policy: %s, quorum: %d}",
             policies[a % 5], a % 5 == 3 ? 1 : 2);
    char start[32], text[4096];
    sl_time_format(start_of(a), start, sizeof(start));
    snprintf(text, sizeof(text),
             "apiVersion: slaledger/v1\nkind: Agreement\nmetadata: {name: %s}\nspec:\n"
             "  channel: ch\n  consumer: univie\n  provider: aws\n"
             "  period: {start: %s, end: %s}\n  fee: {amount: \"100.00\", currency: EUR}\n"
             "  billing: 10m\n  grace: 3s\n"
             "  services: [{name: web, kind: http, source: {url: \"http://127.0.0.1/\"}}]\n"
             "  oracles: %s\n  objectives:\n%s%s",
             name, start, end, oracle_set, objectives, penalties);
    sl_agreement_spec *spec = NULL;
    assert_int_equal(sl_sla_parse(text, strlen(text), NULL, &spec, NULL), 0);
    sl_sha256(text, strlen(text), w->hash[a]);
    sl_error err;
    int rc = sl_contract_propose(w->c, parties[pick(w, 4)], spec, w->hash[a], &err);
    if (rc)
        sl_agreement_spec_free(spec);
    return rc;
}

static int report(world *w)
{
    int a = (int)pick(w, N_AGR), o = (int)pick(w, N_OBJ);
    int64_t len = o == 2 ? 60 * SEC : SEC;
    int64_t end = sl_floordiv(w->now, len) * len - pick(w, 4) * len + (pick(w, 20) == 0) * len;
    int64_t value = o == 0   ? (pick(w, 10) ? 1000000 : pick(w, 1000001))
                    : o == 1 ? pick(w, 400)
                             : (pick(w, 8) != 0);
    char name[8];
    snprintf(name, sizeof(name), "a%d", a);
    sl_report r = {name, objective_names[o], oracles[pick(w, 4)], end - len, end, value, o == 2};
    if (pick(w, 50) == 0)
        r.start_ms += 1; /* off the grid */
    sl_error err;
    return sl_contract_report(w->c, &r, &err);
}

static int money(world *w)
{
    sl_error err;
    char name[8];
    snprintf(name, sizeof(name), "a%d", (int)pick(w, N_AGR));
    int64_t amount = pick(w, 20000) - 10;
    switch (pick(w, 3)) {
    case 0:
        return sl_contract_issue(w->c, parties[pick(w, 4)], parties[pick(w, 4)], "EUR", amount,
                                 &err);
    case 1:
        return sl_contract_deposit(w->c, parties[pick(w, 4)], name, amount, &err);
    default:
        return sl_contract_withdraw(w->c, parties[pick(w, 4)], "EUR", amount, &err);
    }
}

static int decide_or_sign(world *w)
{
    sl_error err;
    int a = (int)pick(w, N_AGR);
    char name[8];
    snprintf(name, sizeof(name), "a%d", a);
    sl_agreement_info info;
    if (sl_contract_agreement(w->c, name, &info) != 0) {
        return propose(w, a);
    }
    if (pick(w, 10) == 0)
        return sl_contract_reject(w->c, parties[pick(w, 4)], name, &err);
    return sl_contract_accept(w->c, parties[pick(w, 4)], name, w->hash[a], &err);
}

/* Every DECIDED event must be the first for its interval. */
static void audit_events(world *w)
{
    size_t n;
    const sl_event *ev = sl_contract_events(w->c, &n);
    for (size_t i = 0; i < n; i++) {
        if (ev[i].kind != SL_EV_DECIDED)
            continue;
        int a = ev[i].agreement[1] - '0', o = 0;
        while (strcmp(objective_names[o], ev[i].objective) != 0)
            o++;
        int64_t k = (ev[i].start_ms - start_of(a)) / SEC;
        assert_true(k >= 0 && k < PERIOD_S);
        assert_int_equal(w->decided[a][o][k], 0);
        w->decided[a][o][k] = 1;
    }
    sl_contract_events_clear(w->c);
}

static void run(world *w, uint64_t seed, long ops, int hash_often)
{
    memset(w, 0, sizeof(*w));
    w->rng = seed;
    w->now = T0;
    assert_int_equal(sl_contract_new("bank", &w->c), 0);
    for (long i = 0; i < ops; i++) {
        /* Now and then, prove that a refused operation left the state exactly as it was. */
        int watch = hash_often && i % 64 == 0;
        uint8_t before[SL_HASH_LEN], after[SL_HASH_LEN];
        if (watch)
            assert_int_equal(sl_contract_state_hash(w->c, before), 0);
        int64_t kind = pick(w, 100);
        int rc = 0;
        if (kind < 70)
            rc = report(w);
        else if (kind < 82)
            rc = money(w);
        else if (kind < 85)
            rc = decide_or_sign(w);
        else
            fx_tick(w->c, w->now += pick(w, 100));
        if (rc) {
            w->refused++;
            if (watch) {
                assert_int_equal(sl_contract_state_hash(w->c, after), 0);
                assert_memory_equal(before, after, SL_HASH_LEN);
            }
        } else {
            w->accepted++;
        }
        audit_events(w);
        if (i % 4096 == 0) {
            fx_check(w->c);
            uint8_t h[SL_HASH_LEN];
            if (hash_often)
                assert_int_equal(sl_contract_state_hash(w->c, h), 0);
        }
    }
    fx_check(w->c);
}

static void test_random_operations(void **state)
{
    (void)state;
    const char *env = getenv("SL_PROPERTY_OPS");
    long ops = env ? strtol(env, NULL, 10) : 1000000;
    world *a = calloc(1, sizeof(*a)), *b = calloc(1, sizeof(*b));
    assert_non_null(a);
    assert_non_null(b);
    run(a, 42, ops, 1);
    run(b, 42, ops, 0);
    uint8_t ha[SL_HASH_LEN], hb[SL_HASH_LEN];
    assert_int_equal(sl_contract_state_hash(a->c, ha), 0);
    assert_int_equal(sl_contract_state_hash(b->c, hb), 0);
    assert_memory_equal(ha, hb, SL_HASH_LEN);
    sl_buf sa, sb;
    sl_buf_init(&sa);
    sl_buf_init(&sb);
    assert_int_equal(sl_contract_serialize(a->c, &sa), 0);
    assert_int_equal(sl_contract_serialize(b->c, &sb), 0);
    assert_int_equal(sa.len, sb.len);
    assert_memory_equal(sa.p, sb.p, sa.len);

    /* The run did real work: agreements activated, penalties and settlements paid. */
    size_t active = 0;
    for (size_t i = 0; i < sl_contract_agreement_count(a->c); i++) {
        sl_agreement_info info;
        assert_int_equal(sl_contract_agreement_at(a->c, i, &info), 0);
        active += info.activated_ms >= 0 && info.penalties > 0 && info.settled > 0;
    }
    if (ops >= 100000) {
        assert_true(active >= 2);
        assert_true(a->accepted > ops / 10 && a->refused > ops / 10);
    }
    assert_int_equal(a->accepted, b->accepted);
    sl_buf_release(&sa);
    sl_buf_release(&sb);
    sl_contract_free(a->c);
    sl_contract_free(b->c);
    free(a);
    free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_random_operations),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
