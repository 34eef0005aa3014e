/*
 * fuzz_channel.c: libFuzzer target for the channel document parser (sl_channel_parse), which
 * reads every genesis a node is given. Any bytes must be either refused with at least one
 * diagnostic and no spec, or accepted with no diagnostic and a spec that keeps the promises of
 * sla.h (organizations 1..SL_MAX_ORGS with valid unique names, non-empty known roles and unique
 * keys; a node; an issuer with the issuer role; ordering limits in range); nothing may crash,
 * hang or leak (run under ASan+UBSan by `make fuzz`). Seeds live in fuzz/corpus/channel/ (the
 * example channels in YAML and JSON, and broken variants).
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "slaledger/sla.h"
#include "slaledger/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_orgs(const sl_channel_spec *s)
{
    unsigned all = 0;

    if (s->n_orgs == 0 || s->n_orgs > SL_MAX_ORGS || s->issuer >= s->n_orgs ||
        !(s->orgs[s->issuer].roles & SL_ROLE_ISSUER))
        __builtin_trap();
    for (size_t i = 0; i < s->n_orgs; i++) {
        const sl_channel_org *o = &s->orgs[i];
        if (!o->name || !sl_name_valid(o->name, strlen(o->name)) || o->roles == 0 ||
            (o->roles & ~(unsigned)SL_ROLE_ALL) != 0 || sl_channel_org_find(s, o->name) != (int)i)
            __builtin_trap();
        for (size_t k = 0; k < i; k++) {
            if (memcmp(s->orgs[k].root_pk, o->root_pk, sizeof(o->root_pk)) == 0)
                __builtin_trap();
        }
        all |= o->roles;
    }
    if (!(all & SL_ROLE_NODE))
        __builtin_trap();
}

/* Traps unless the accepted spec keeps the promises of sla.h. */
static void check_spec(const sl_channel_spec *s)
{
    if (!s->name || !sl_name_valid(s->name, strlen(s->name)))
        __builtin_trap();
    check_orgs(s);
    if ((s->order != SL_ORDER_SOLO && s->order != SL_ORDER_ETCD) || s->max_block_txs < 1 ||
        s->max_block_txs > SL_CHANNEL_MAX_BLOCK_TXS || s->max_block_bytes < SL_CHANNEL_MIN_BYTES ||
        s->max_block_bytes > SL_CHANNEL_MAX_BLOCK_BYTES || s->max_tx_bytes < SL_CHANNEL_MIN_BYTES ||
        s->max_tx_bytes > SL_CHANNEL_MAX_TX_BYTES || s->max_tx_bytes > s->max_block_bytes ||
        s->block_timeout_ms < 1 || s->block_timeout_ms > SL_CHANNEL_MAX_TIMEOUT_MS)
        __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sl_channel_spec *spec = NULL;
    sl_diags diags = {0};
    int rc = sl_channel_parse((const char *)data, size, NULL, &spec, &diags);

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
    sl_channel_spec_free(spec);
    sl_diags_release(&diags);
    return 0;
}
