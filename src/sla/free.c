/*
 * free.c: releases an sl_agreement_spec or an sl_channel_spec and everything it owns.
 *
 * A spec owns every string and array reachable from it; partially built specs (as left by a
 * failed parse) are released by the same code, so every pointer may be NULL and every count
 * covers only initialised entries. Thread-safety: reentrant.
 */
#include <stdlib.h>

#include "slaledger/sla.h"

static void service_release(sl_service_spec *s)
{
    for (size_t i = 0; i < s->n_source; i++) {
        free(s->source[i].key);
        free(s->source[i].value);
    }
    free(s->source);
    free(s->name);
}

void sl_agreement_spec_free(sl_agreement_spec *spec)
{
    if (!spec)
        return;
    for (size_t i = 0; i < spec->n_services; i++)
        service_release(&spec->services[i]);
    free(spec->services);
    for (size_t i = 0; i < spec->n_oracles; i++)
        free(spec->oracles[i]);
    free(spec->oracles);
    for (size_t i = 0; i < spec->n_objectives; i++) {
        free(spec->objectives[i].name);
        free(spec->objectives[i].query);
    }
    free(spec->objectives);
    for (size_t i = 0; i < spec->n_penalties; i++)
        free(spec->penalties[i].tiers);
    free(spec->penalties);
    free(spec->name);
    free(spec->description);
    free(spec->channel);
    free(spec->consumer);
    free(spec->provider);
    free(spec);
}

void sl_channel_spec_free(sl_channel_spec *spec)
{
    if (!spec)
        return;
    for (size_t i = 0; i < spec->n_orgs; i++)
        free(spec->orgs[i].name);
    free(spec->orgs);
    free(spec->name);
    free(spec->description);
    free(spec->orderer_org);
    free(spec->orderer_name);
    free(spec);
}
