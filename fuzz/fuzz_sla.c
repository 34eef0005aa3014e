/*
 * fuzz_sla.c: libFuzzer target for the SLA document parser (sl_sla_parse), the first code that
 * sees outside input. Any bytes must be either refused with at least one diagnostic and no
 * spec, or accepted with no diagnostic and a spec that keeps the invariants sla.h promises;
 * nothing may crash, hang or leak (run under ASan+UBSan by `make fuzz`). Seeds live in
 * fuzz/corpus/sla/ (the examples in YAML and JSON, and broken variants).
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "slaledger/sla.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Traps unless the accepted spec keeps the promises of sla.h. */
static void check_spec(const sl_agreement_spec *s)
{
    if (!s->name || !s->channel || !s->consumer || !s->provider ||
        strcmp(s->consumer, s->provider) == 0 || s->end_ms <= s->start_ms || s->fee <= 0 ||
        s->n_services == 0 || s->n_oracles == 0 || s->n_objectives == 0)
        __builtin_trap();
    for (size_t i = 0; i < s->n_objectives; i++) {
        const sl_objective_spec *o = &s->objectives[i];
        int members = __builtin_popcountll(o->oracle_mask);
        if (o->service >= s->n_services || o->quorum < 1 || (int)o->quorum > members ||
            o->interval_ms < SL_MIN_INTERVAL_MS || s->start_ms % o->interval_ms != 0 ||
            s->end_ms % o->interval_ms != 0)
            __builtin_trap();
    }
    for (size_t i = 0; i < s->n_penalties; i++) {
        const sl_penalty_spec *p = &s->penalties[i];
        if (p->objective >= s->n_objectives)
            __builtin_trap();
        for (size_t t = 1; t < p->n_tiers; t++) {
            if (p->tiers[t].below_ppm >= p->tiers[t - 1].below_ppm ||
                p->tiers[t].credit_ppm <= p->tiers[t - 1].credit_ppm)
                __builtin_trap();
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sl_agreement_spec *spec = NULL;
    sl_diags diags = {0};
    int rc = sl_sla_parse((const char *)data, size, NULL, &spec, &diags);

    if (rc == 0 && (!spec || diags.n != 0))
        __builtin_trap();
    if (rc != 0 && (spec || diags.n + diags.dropped == 0))
        __builtin_trap();
    for (size_t i = 0; i < diags.n; i++) {
        /* Messages are always terminated strings; reading them must stay in bounds. */
        if (strlen(diags.v[i].msg) >= sizeof(diags.v[i].msg) ||
            strlen(diags.v[i].field) >= sizeof(diags.v[i].field))
            __builtin_trap();
    }
    if (spec)
        check_spec(spec);
    sl_agreement_spec_free(spec);
    sl_diags_release(&diags);
    return 0;
}
