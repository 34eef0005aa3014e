/*
 * dup.c: a deep copy of an agreement spec, for holders that must outlive the one they read
 * (the oracle scheduler keeps the agreements it measures while the ledger may rebuild its
 * contract). The copy owns everything and is released with sl_agreement_spec_free; a copy
 * that failed half-way is released the same way, since counts cover initialised entries
 * only. Thread-safety: reentrant; the source is only read.
 */
#include <stdlib.h>
#include <string.h>

#include "slaledger/sla.h"
#include "slaledger/util.h"

/* Copies n elements of size elem (NULL for none); *ok cleared on allocation failure. */
static void *copy_array(const void *p, size_t n, size_t elem, int *ok)
{
    void *q;

    if (!p || n == 0)
        return NULL;
    q = calloc(n, elem);
    if (!q) {
        *ok = 0;
        return NULL;
    }
    memcpy(q, p, n * elem);
    return q;
}

/* A copy of s, or NULL (clearing *ok when s was not NULL). */
static char *copy_str(const char *s, int *ok)
{
    char *c = sl_strdup(s);

    if (s && !c)
        *ok = 0;
    return c;
}

static void service_copy(sl_service_spec *d, const sl_service_spec *s, int *ok)
{
    d->name = copy_str(s->name, ok);
    d->kind = s->kind;
    d->source = s->n_source ? calloc(s->n_source, sizeof(*d->source)) : NULL;
    if (s->n_source && !d->source) {
        *ok = 0;
        return;
    }
    for (size_t i = 0; i < s->n_source; i++) {
        d->source[i].key = copy_str(s->source[i].key, ok);
        d->source[i].value = copy_str(s->source[i].value, ok);
        d->n_source++;
    }
}

static void lists_copy(sl_agreement_spec *d, const sl_agreement_spec *s, int *ok)
{
    d->services = copy_array(s->services, s->n_services, sizeof(*s->services), ok);
    d->objectives = copy_array(s->objectives, s->n_objectives, sizeof(*s->objectives), ok);
    d->penalties = copy_array(s->penalties, s->n_penalties, sizeof(*s->penalties), ok);
    d->oracles = s->n_oracles ? calloc(s->n_oracles, sizeof(*d->oracles)) : NULL;
    if (!*ok || (s->n_oracles && !d->oracles)) {
        /* nothing below is owned yet: the arrays hold the source's pointers */
        free(d->services);
        free(d->objectives);
        free(d->penalties);
        d->services = NULL;
        d->objectives = NULL;
        d->penalties = NULL;
        *ok = 0;
        return;
    }
    for (size_t i = 0; i < s->n_services; i++) {
        memset(&d->services[i], 0, sizeof(d->services[i]));
        service_copy(&d->services[i], &s->services[i], ok);
        d->n_services++;
    }
    for (size_t i = 0; i < s->n_objectives; i++) {
        d->objectives[i].name = copy_str(s->objectives[i].name, ok);
        d->objectives[i].query = copy_str(s->objectives[i].query, ok);
        d->n_objectives++;
    }
    for (size_t i = 0; i < s->n_penalties; i++) {
        const sl_penalty_spec *p = &s->penalties[i];
        d->penalties[i].tiers = copy_array(p->tiers, p->n_tiers, sizeof(*p->tiers), ok);
        d->n_penalties++;
    }
    for (size_t i = 0; i < s->n_oracles; i++) {
        d->oracles[i] = copy_str(s->oracles[i], ok);
        d->n_oracles++;
    }
}

int sl_agreement_spec_dup(const sl_agreement_spec *s, sl_agreement_spec **out)
{
    sl_agreement_spec *d;
    int ok = 1;

    *out = NULL;
    d = calloc(1, sizeof(*d));
    if (!d)
        return SL_ENOMEM;
    *d = *s;
    d->services = NULL, d->objectives = NULL, d->penalties = NULL, d->oracles = NULL;
    d->n_services = d->n_objectives = d->n_penalties = d->n_oracles = 0;
    d->name = copy_str(s->name, &ok);
    d->description = copy_str(s->description, &ok);
    d->channel = copy_str(s->channel, &ok);
    d->consumer = copy_str(s->consumer, &ok);
    d->provider = copy_str(s->provider, &ok);
    if (ok)
        lists_copy(d, s, &ok);
    if (!ok) {
        sl_agreement_spec_free(d);
        return SL_ENOMEM;
    }
    *out = d;
    return 0;
}
