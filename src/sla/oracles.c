/*
 * oracles.c: spec.oracles (the agreement's oracle identities, policy and quorum) and the
 * per-objective override that selects a subset of them.
 *
 * Oracle sets are stored as bit masks over spec->oracles, so an agreement names at most
 * SL_MAX_ORACLES (64) identities. The quorum always satisfies 1 <= quorum <= members of the
 * set; by default it is a strict majority (n / 2 + 1). Thread-safety: reentrant.
 */
#include <stdlib.h>
#include <string.h>

#include "sla_int.h"

static const char *const oracles_keys[] = {"members", "policy", "quorum", NULL};

static uint64_t all_oracles(size_t n)
{
    return n >= 64 ? ~(uint64_t)0 : (((uint64_t)1 << n) - 1);
}

static uint32_t majority(unsigned n)
{
    return n / 2 + 1;
}

static long oracle_index(const sl_agreement_spec *s, const char *name)
{
    for (size_t i = 0; i < s->n_oracles; i++) {
        if (s->oracles[i] && strcmp(s->oracles[i], name) == 0)
            return (long)i;
    }
    return -1;
}

/* Reads spec.oracles.members into spec->oracles; 0 when every member is a new valid name. */
static int members_parse(sl__build *b, const sl__ynode *n, const char *path)
{
    sl_agreement_spec *s = b->spec;
    char item[SL__PATH_MAX];
    size_t count;
    int bad = 0;
    char *name;

    if (!sl__list_check(&b->ctx, n, path, SL_MAX_ORACLES, 1) || n->n > SL_MAX_ORACLES)
        return -1;
    count = n->n;
    s->oracles = calloc(count ? count : 1, sizeof(*s->oracles));
    if (!s->oracles) {
        sl__nomem(&b->ctx);
        return -1;
    }
    for (size_t i = 0; i < count; i++) {
        sl__path_index(item, path, i);
        name = NULL;
        if (sl__read_name(&b->ctx, &n->kids[i], item, "an oracle", &name) != 0) {
            bad = 1;
        } else if (oracle_index(s, name) >= 0) {
            sl__error(&b->ctx, &n->kids[i], SL_EINVAL, item, "oracle '%s' is listed twice", name);
            bad = 1;
        }
        s->oracles[s->n_oracles++] = name;
    }
    return bad || count == 0 ? -1 : 0;
}

/* Reads policy and quorum of a mapping for a set of n oracles, with the given defaults. */
static int policy_quorum_parse(sl__ctx *c, const sl__ynode *map, const char *path, unsigned n,
                               sl_policy *policy, uint32_t *quorum)
{
    sl__field f;
    int p, ok = 1;
    int64_t q;

    if (sl__field_get(c, map, path, "policy", 0, &f)) {
        ok = sl__read_enum(c, f.node, f.path, "oracle policy", sl__policy_names, sl__n_policies,
                           &p) == 0;
        if (ok)
            *policy = (sl_policy)p;
    }
    if (!sl__field_get(c, map, path, "quorum", 0, &f))
        return ok ? 0 : -1;
    if (sl__read_int(c, f.node, f.path, 1, SL_MAX_ORACLES, &q) != 0)
        return -1;
    if (n > 0 && q > (int64_t)n) {
        sl__error(c, f.node, SL_EINVAL, f.path, "quorum %lld is more than the %u oracle members",
                  (long long)q, n);
        return -1;
    }
    *quorum = (uint32_t)q;
    return ok ? 0 : -1;
}

void sl__oracles_parse(sl__build *b, const sl__ynode *n, const char *path)
{
    sl__field f;
    int ok;

    if (!sl__map_check(&b->ctx, n, path, oracles_keys))
        return;
    ok = sl__field_get(&b->ctx, n, path, "members", 1, &f) && members_parse(b, f.node, f.path) == 0;
    b->members_ok = ok;
    b->policy = SL_POLICY_MEDIAN;
    b->quorum = majority((unsigned)b->spec->n_oracles);
    /* Without a valid member list the quorum cannot be bounded; 0 skips that check. */
    ok &= policy_quorum_parse(&b->ctx, n, path, ok ? (unsigned)b->spec->n_oracles : 0, &b->policy,
                              &b->quorum) == 0;
    b->oracles_ok = ok;
}

/* Adds one named oracle of an override to *mask; 0 when it is a new agreement oracle. */
static int subset_add(sl__build *b, const sl__ynode *n, const char *path, const char *name,
                      const char *known, uint64_t *mask)
{
    long k = oracle_index(b->spec, name);

    if (k < 0) {
        /* With a broken member list the name may be fine; that list has been reported. */
        if (b->members_ok)
            sl__error(&b->ctx, n, SL_EINVAL, path,
                      "unknown oracle '%s'; spec.oracles.members lists: %s", name, known);
        return -1;
    }
    if (*mask & ((uint64_t)1 << k)) {
        sl__error(&b->ctx, n, SL_EINVAL, path, "oracle '%s' is listed twice", name);
        return -1;
    }
    *mask |= (uint64_t)1 << k;
    return 0;
}

/* Turns a list of agreement oracle names into a mask; 0 when every name is known. */
static int subset_parse(sl__build *b, const sl__ynode *n, const char *path, uint64_t *mask)
{
    char item[SL__PATH_MAX], known[160] = "";
    size_t at = 0;
    int bad = 0;
    char *name;

    if (!sl__list_check(&b->ctx, n, path, SL_MAX_ORACLES, 1) || n->n == 0 || n->n > SL_MAX_ORACLES)
        return -1;
    for (size_t i = 0; i < b->spec->n_oracles; i++)
        sl__join(known, sizeof(known), &at, b->spec->oracles[i] ? b->spec->oracles[i] : "?");
    *mask = 0;
    for (size_t i = 0; i < n->n; i++) {
        sl__path_index(item, path, i);
        name = NULL;
        if (sl__read_name(&b->ctx, &n->kids[i], item, "an oracle", &name) != 0 ||
            subset_add(b, &n->kids[i], item, name, known, mask) != 0)
            bad = 1;
        free(name);
    }
    return bad ? -1 : 0;
}

int sl__objective_oracles(sl__build *b, sl_objective_spec *o, const sl__ynode *n, const char *path)
{
    sl__field f;
    unsigned count;
    sl__shown sh;

    o->oracle_mask = all_oracles(b->spec->n_oracles);
    o->policy = b->policy;
    o->quorum = b->quorum;
    if (!n)
        return b->oracles_ok ? 0 : -1;
    if (n->type == SL__Y_SEQ) {
        if (subset_parse(b, n, path, &o->oracle_mask) != 0)
            return -1;
        o->quorum = majority((unsigned)__builtin_popcountll(o->oracle_mask));
        return 0;
    }
    if (n->type != SL__Y_MAP) {
        sl__error(&b->ctx, n, SL_EINVAL, path,
                  "expected a list of oracle names or a mapping with members, policy and "
                  "quorum, found %s",
                  sl__found(n, &sh));
        return -1;
    }
    if (!sl__map_check(&b->ctx, n, path, oracles_keys) ||
        !sl__field_get(&b->ctx, n, path, "members", 1, &f))
        return -1;
    count = subset_parse(b, f.node, f.path, &o->oracle_mask) == 0
                ? (unsigned)__builtin_popcountll(o->oracle_mask)
                : 0;
    o->quorum = majority(count);
    /* policy and quorum are checked even when a member was wrong (count 0: no bound). */
    if (policy_quorum_parse(&b->ctx, n, path, count, &o->policy, &o->quorum) != 0 || count == 0)
        return -1;
    return 0;
}
