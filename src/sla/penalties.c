/*
 * penalties.c: spec.penalties, what the provider owes when an objective is missed.
 *
 * A penalty belongs to one objective (at most one each) and is exactly one of: tiered credits
 * (availability only; below strictly decreasing, credit strictly increasing), a fixed amount
 * per violating interval (interval metrics) or per failed check (check metrics), optionally
 * capped per window by a share of the fee or an amount. Amounts use the fee's currency and
 * minor units. Thread-safety: reentrant.
 */
#include <stdlib.h>
#include <string.h>

#include "slaledger/util.h"

#include "sla_int.h"

static const char *const penalty_keys[] = {"objective",   "tiers", "per_violation",
                                           "per_failure", "cap",   NULL};
static const char *const tier_keys[] = {"below", "credit", NULL};
static const char *const kind_keys[] = {"tiers", "per_violation", "per_failure"};

/* Which tier fields parsed, so that order is only compared between valid neighbours. */
typedef struct tier_state {
    int below_ok;
    int credit_ok;
} tier_state;

static long objective_index(const sl_agreement_spec *s, const char *name)
{
    for (size_t i = 0; i < s->n_objectives; i++) {
        if (s->objectives[i].name && strcmp(s->objectives[i].name, name) == 0)
            return (long)i;
    }
    return -1;
}

/* True when every objective got its name, so an unknown name really is unknown. */
static int objective_names_ok(const sl_agreement_spec *s)
{
    for (size_t i = 0; i < s->n_objectives; i++) {
        if (!s->objectives[i].name)
            return 0;
    }
    return s->n_objectives > 0;
}

static void penalty_objective(sl__build *b, const sl__ynode *n, const char *path, size_t i)
{
    sl_penalty_spec *p = &b->spec->penalties[i];
    sl__field f;
    char *name = NULL;
    long k;

    if (!sl__field_get(&b->ctx, n, path, "objective", 1, &f) ||
        sl__read_name(&b->ctx, f.node, f.path, "an objective", &name) != 0)
        return;
    b->pen_aux[i].objective = f.node;
    k = objective_index(b->spec, name);
    if (k < 0 && objective_names_ok(b->spec))
        sl__error(&b->ctx, f.node, SL_EINVAL, f.path, "unknown objective '%s'", name);
    for (size_t j = 0; k >= 0 && j < i; j++) {
        if (b->pen_aux[j].objective_ok && b->spec->penalties[j].objective == (uint32_t)k) {
            sl__error(&b->ctx, f.node, SL_EINVAL, f.path,
                      "objective '%s' already has a penalty (spec.penalties[%zu]); at most one "
                      "penalty per objective",
                      name, j);
            k = -1;
        }
    }
    free(name);
    if (k < 0)
        return;
    p->objective = (uint32_t)k;
    b->pen_aux[i].objective_ok = 1;
}

/* Compares tier t with tier t-1 and reports when they are out of order. */
static void tier_order(sl__ctx *c, const sl__ynode *n, const char *path, size_t t,
                       const sl_tier *tiers, const tier_state *st)
{
    char cur[32], prev[32], field[SL__PATH_MAX];

    if (st[t].below_ok && st[t - 1].below_ok && tiers[t].below_ppm >= tiers[t - 1].below_ppm) {
        sl_ppm_format(tiers[t].below_ppm, cur, sizeof(cur));
        sl_ppm_format(tiers[t - 1].below_ppm, prev, sizeof(prev));
        sl__path_key(field, path, "below");
        sl__error(c, sl__map_get(n, "below"), SL_EINVAL, field,
                  "tiers out of order: tier %zu's below %s must be lower than tier %zu's %s", t,
                  cur, t - 1, prev);
    }
    if (st[t].credit_ok && st[t - 1].credit_ok && tiers[t].credit_ppm <= tiers[t - 1].credit_ppm) {
        sl_ppm_format(tiers[t].credit_ppm, cur, sizeof(cur));
        sl_ppm_format(tiers[t - 1].credit_ppm, prev, sizeof(prev));
        sl__path_key(field, path, "credit");
        sl__error(c, sl__map_get(n, "credit"), SL_EINVAL, field,
                  "tiers out of order: tier %zu's credit %s must be higher than tier %zu's %s", t,
                  cur, t - 1, prev);
    }
}

static void tier_parse(sl__ctx *c, const sl__ynode *n, const char *path, size_t t, sl_tier *tiers,
                       tier_state *st)
{
    sl__field f;

    if (!sl__map_check(c, n, path, tier_keys))
        return;
    st[t].below_ok = sl__field_get(c, n, path, "below", 1, &f) &&
                     sl__read_percent(c, f.node, f.path, 1, &tiers[t].below_ppm) == 0;
    st[t].credit_ok = sl__field_get(c, n, path, "credit", 1, &f) &&
                      sl__read_percent(c, f.node, f.path, 1, &tiers[t].credit_ppm) == 0;
    if (t > 0)
        tier_order(c, n, path, t, tiers, st);
}

static void tiers_parse(sl__build *b, const sl__ynode *n, const char *path, sl_penalty_spec *p)
{
    tier_state st[SL_MAX_TIERS] = {{0}};
    char item[SL__PATH_MAX];

    p->kind = SL_PENALTY_TIERS;
    if (!sl__list_check(&b->ctx, n, path, SL_MAX_TIERS, 1) || n->n == 0 || n->n > SL_MAX_TIERS)
        return;
    p->tiers = calloc(n->n, sizeof(*p->tiers));
    if (!p->tiers) {
        sl__nomem(&b->ctx);
        return;
    }
    p->n_tiers = n->n;
    for (size_t t = 0; t < n->n; t++) {
        sl__path_index(item, path, t);
        tier_parse(&b->ctx, &n->kids[t], item, t, p->tiers, st);
    }
}

/* Reads an amount in the fee's currency (at scale 6 when the fee is broken). */
static void amount_parse(sl__build *b, const sl__ynode *n, const char *path, int64_t *out)
{
    int64_t scratch;

    sl__read_amount(&b->ctx, n, path, b->fee_ok ? b->spec->minor_units : 6,
                    b->fee_ok ? b->spec->currency : "the currency", b->fee_ok ? out : &scratch);
}

/* Reports a penalty kind that does not suit the objective's metric. */
static void kind_suits(sl__build *b, const sl__field *f, const sl_penalty_spec *p)
{
    const sl_objective_spec *o = &b->spec->objectives[p->objective];
    const char *m = sl_metric_name(o->metric);
    int check = sl_metric_is_check(o->metric);

    if (p->kind == SL_PENALTY_TIERS && o->metric != SL_METRIC_AVAILABILITY)
        sl__error(&b->ctx, f->node, SL_EINVAL, f->path,
                  "tiers apply only to availability objectives; objective '%s' measures %s "
                  "(use %s)",
                  o->name, m, check ? "per_failure" : "per_violation");
    else if (p->kind == SL_PENALTY_PER_VIOLATION && check)
        sl__error(&b->ctx, f->node, SL_EINVAL, f->path,
                  "per_violation applies to interval objectives; objective '%s' is a %s check "
                  "(use per_failure)",
                  o->name, m);
    else if (p->kind == SL_PENALTY_PER_FAILURE && !check)
        sl__error(&b->ctx, f->node, SL_EINVAL, f->path,
                  "per_failure applies only to check objectives; objective '%s' measures %s "
                  "(use %s)",
                  o->name, m,
                  o->metric == SL_METRIC_AVAILABILITY ? "tiers or per_violation" : "per_violation");
}

/* Finds the one penalty kind given; reports none or several. */
static int penalty_kind(sl__build *b, const sl__ynode *n, const char *path, sl__field *f)
{
    sl__field g;
    int found = -1;

    for (int k = 0; k < 3; k++) {
        if (!sl__field_get(&b->ctx, n, path, kind_keys[k], 0, &g))
            continue;
        if (found >= 0) {
            sl__error(&b->ctx, g.node, SL_EINVAL, g.path,
                      "expected exactly one of tiers, per_violation or per_failure, found both "
                      "%s and %s",
                      kind_keys[found], kind_keys[k]);
            return -1;
        }
        found = k;
        *f = g;
    }
    if (found < 0)
        sl__error(&b->ctx, n, SL_EINVAL, path,
                  "expected exactly one of tiers, per_violation or per_failure, found none");
    return found;
}

static void cap_parse(sl__build *b, const sl__ynode *n, const char *path, sl_penalty_spec *p)
{
    sl__field f;
    const char *s;

    if (!sl__field_get(&b->ctx, n, path, "cap", 0, &f))
        return;
    if (p->kind == SL_PENALTY_TIERS) {
        sl__error(&b->ctx, f.node, SL_EINVAL, f.path,
                  "cap is not allowed with tiers: a tier's credit already is a share of the fee");
        return;
    }
    s = sl__scalar(&b->ctx, f.node, f.path, "a cap (a percentage or an amount)");
    if (!s)
        return;
    if (f.node->len > 0 && s[f.node->len - 1] == '%') {
        if (sl__read_percent(&b->ctx, f.node, f.path, 1, &p->cap) == 0)
            p->cap_kind = SL_CAP_PPM;
        return;
    }
    amount_parse(b, f.node, f.path, &p->cap);
    p->cap_kind = SL_CAP_AMOUNT;
}

static void penalty_parse(sl__build *b, const sl__ynode *n, const char *path, size_t i)
{
    sl_penalty_spec *p = &b->spec->penalties[i];
    sl__field f;
    int kind;

    if (!sl__map_check(&b->ctx, n, path, penalty_keys))
        return;
    penalty_objective(b, n, path, i);
    kind = penalty_kind(b, n, path, &f);
    if (kind < 0)
        return;
    if (kind == 0) {
        tiers_parse(b, f.node, f.path, p);
    } else {
        p->kind = kind == 1 ? SL_PENALTY_PER_VIOLATION : SL_PENALTY_PER_FAILURE;
        amount_parse(b, f.node, f.path, &p->amount);
    }
    if (b->pen_aux[i].objective_ok && b->obj_aux[p->objective].metric_ok)
        kind_suits(b, &f, p);
    cap_parse(b, n, path, p);
}

void sl__penalties_parse(sl__build *b, const sl__ynode *n, const char *path)
{
    char item[SL__PATH_MAX];
    size_t count;

    if (!sl__list_check(&b->ctx, n, path, SL_MAX_OBJECTIVES, 0))
        return;
    count = n->n < SL_MAX_OBJECTIVES ? n->n : SL_MAX_OBJECTIVES;
    b->spec->penalties = calloc(count ? count : 1, sizeof(*b->spec->penalties));
    b->pen_aux = calloc(count ? count : 1, sizeof(*b->pen_aux));
    if (!b->spec->penalties || !b->pen_aux) {
        sl__nomem(&b->ctx);
        return;
    }
    b->spec->n_penalties = count;
    for (size_t i = 0; i < count; i++) {
        sl__path_index(item, path, i);
        penalty_parse(b, &n->kids[i], item, i);
    }
}
