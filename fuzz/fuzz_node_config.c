/*
 * fuzz_node_config.c: libFuzzer target for a node's own documents: the configuration
 * (sl_node_config_parse), the secrets file (sl_secrets_parse) and the tokens file
 * (sl_tokens_parse). Every input goes to all three parsers (each refuses the others' kinds at
 * once). Any bytes must be either refused with at least one diagnostic and no model, or
 * accepted with no diagnostic and a model that keeps the promises of sla.h: valid unique names,
 * non-empty paths, 1..SL_NODE_MAX_CHANNELS channels with unique names and ledgers, members
 * unique by name and organization, settings in range, paths absolute once resolved;
 * credentials with exactly their kind's fields; token entries with one role and unique hashes,
 * sl_tokens_check finding an entry exactly when it holds the presented token's hash. Nothing may
 * crash, hang or leak (run under ASan+UBSan by `make fuzz`). Seeds live in
 * fuzz/corpus/node_config/.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "slaledger/sla.h"
#include "slaledger/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int name_ok(const char *s)
{
    return s && sl_name_valid(s, strlen(s));
}

static int path_ok(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    return n > 0 && n <= SL_NODE_PATH_MAX;
}

static void check_members(const sl_node_config *c, const sl_node_member *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (!name_ok(v[i].name) || !name_ok(v[i].org) || !path_ok(v[i].key) ||
            !path_ok(v[i].cert) || sl_node_config_member(c, v[i].name, v[i].org) != &v[i])
            __builtin_trap();
    }
}

static void check_channels(const sl_node_config *c)
{
    if (c->n_channels < 1 || c->n_channels > SL_NODE_MAX_CHANNELS)
        __builtin_trap();
    for (size_t i = 0; i < c->n_channels; i++) {
        const sl_node_channel *ch = &c->channels[i];
        if (!name_ok(ch->name) || !path_ok(ch->genesis) || !ch->ledger || !ch->ledger[0])
            __builtin_trap();
        for (size_t k = 0; k < i; k++) {
            if (strcmp(c->channels[k].name, ch->name) == 0 ||
                strcmp(c->channels[k].ledger, ch->ledger) == 0)
                __builtin_trap();
        }
    }
}

static void check_config(sl_node_config *c)
{
    if (!name_ok(c->name) || !name_ok(c->organization) || !path_ok(c->data_dir) ||
        !c->listen_host || !path_ok(c->identity.key) || !path_ok(c->identity.cert) ||
        c->identity.name || c->identity.org || c->n_users > SL_NODE_MAX_MEMBERS ||
        c->n_oracles > SL_NODE_MAX_MEMBERS || c->n_etcd_endpoints > SL_NODE_MAX_ENDPOINTS ||
        (c->secrets && !path_ok(c->secrets)) || (c->tokens && !path_ok(c->tokens)) ||
        c->log_format > SL_NODE_LOG_JSON || c->log_level > SL_NODE_LOG_ERROR)
        __builtin_trap();
    check_members(c, c->users, c->n_users);
    check_members(c, c->oracles, c->n_oracles);
    check_channels(c);
    /* Resolving makes every path absolute. */
    if (sl_node_config_resolve(c, "/fuzz") != 0 || c->data_dir[0] != '/' ||
        c->channels[0].ledger[0] != '/' || c->identity.key[0] != '/')
        __builtin_trap();
}

/* A credential has its kind's required fields, and none of the other kind's. */
static void check_secrets(const sl_secrets *s)
{
    for (size_t i = 0; i < s->n_credentials; i++) {
        const sl_credential *cr = &s->credentials[i];
        int aws = cr->kind == SL_CREDENTIAL_AWS;
        if (!name_ok(cr->name) || sl_secrets_find(s, cr->name) != cr ||
            (aws && (!cr->access_key_id || !cr->secret_access_key || !cr->region || cr->tenant_id ||
                     cr->client_id || cr->client_secret)) ||
            (!aws && (cr->kind != SL_CREDENTIAL_AZURE || !cr->tenant_id || !cr->client_id ||
                      !cr->client_secret || cr->access_key_id || cr->secret_access_key ||
                      cr->session_token || cr->region)))
            __builtin_trap();
    }
}

static void check_tokens(const sl_tokens *t)
{
    const sl_token *e;

    if (t->n_tokens > SL_TOKENS_MAX)
        __builtin_trap();
    for (size_t i = 0; i < t->n_tokens; i++) {
        const sl_token *tk = &t->tokens[i];
        if (!name_ok(tk->user) || !name_ok(tk->org) || !sl_role_name(tk->role))
            __builtin_trap();
        for (size_t k = 0; k < i; k++) {
            if (memcmp(t->tokens[k].sha256, tk->sha256, 32) == 0)
                __builtin_trap();
        }
    }
    /* sl_tokens_check finds a probe exactly when an entry holds its hash (seeds hold the
     * hash of ""), and then that entry. */
    for (int p = 0; p < 2; p++) {
        const char *probe = p ? "slt_" : "";
        uint8_t h[SL_HASH_LEN];
        const sl_token *want = NULL;
        sl_sha256(probe, strlen(probe), h);
        for (size_t i = 0; i < t->n_tokens; i++)
            want = memcmp(t->tokens[i].sha256, h, 32) == 0 ? &t->tokens[i] : want;
        if ((sl_tokens_check(t, probe, &e) == 0) != (want != NULL) || e != want)
            __builtin_trap();
    }
}

/* rc, the model and the diagnostics agree; messages are terminated strings. */
static void check_outcome(int rc, const void *model, const sl_diags *d)
{
    if (rc == 0 && (!model || d->n != 0))
        __builtin_trap();
    if (rc != 0 && (model || d->n + d->dropped == 0))
        __builtin_trap();
    for (size_t i = 0; i < d->n; i++) {
        if (strlen(d->v[i].msg) >= sizeof(d->v[i].msg) ||
            strlen(d->v[i].field) >= sizeof(d->v[i].field))
            __builtin_trap();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    sl_node_config *c = NULL;
    sl_secrets *s = NULL;
    sl_tokens *t = NULL;
    sl_diags d = {0};
    int rc;

    rc = sl_node_config_parse(text, size, NULL, &c, &d);
    check_outcome(rc, c, &d);
    if (c)
        check_config(c);
    sl_node_config_free(c);
    sl_diags_release(&d);
    rc = sl_secrets_parse(text, size, NULL, &s, &d);
    check_outcome(rc, s, &d);
    if (s)
        check_secrets(s);
    sl_secrets_free(s);
    sl_diags_release(&d);
    rc = sl_tokens_parse(text, size, NULL, &t, &d);
    check_outcome(rc, t, &d);
    if (t)
        check_tokens(t);
    sl_tokens_free(t);
    sl_diags_release(&d);
    return 0;
}
