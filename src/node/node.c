/*
 * node.c: the node's life. Start: configuration, data-directory lock, tokens and secrets,
 * the node's identity and local users (keys and certificates, checked to belong together and to
 * be the member, organization and name, their entry names; the tokens checked to agree with
 * them), one ledger and solo orderer per channel (a missing ledger is created from the channel's
 * genesis), then the HTTP API, whose callers authenticate with a token of the tokens file or,
 * for other organizations' nodes, a node credential (peer.c). Stop runs the same in reverse: the
 * API first so no request starts a transaction, then the orderers (they commit what is queued),
 * then the ledgers.
 *
 * The node logs (log.c, spec.log of its config) its start with its channels and address, its
 * stop, and at debug one line per answered request (5xx at warn): method, route pattern,
 * status, duration and the calling user, never the token.
 *
 * Ownership: the node owns everything it opened. Thread-safety: start/stop from one thread.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "node/log.h"
#include "node/node_int.h"
#include "slaledger/node.h"
#include "slaledger/sla.h"
#include "slaledger/version.h"
#include "slaledger/wait.h"

struct sl_node {
    sl__node n;
    sl_node_config *cfg;
    sl_tokens *tokens;
    sl_secrets *secrets;
    int lock_fd;
    char host[64];
    uint16_t port;
    sl__log log;
    int log_ready; /* log initialized */
    int started;   /* sl_node_start succeeded: the stop is logged */
};

/* The first diagnostic of a failed document as one error, with file:line:col in front. */
static int diag_error(sl_error *err, const char *path, int rc, sl_diags *d)
{
    if (d->n)
        sl_error_set(err, rc, d->v[0].field, "%s:%d:%d: %s", path, d->v[0].line, d->v[0].column,
                     d->v[0].msg);
    else
        sl_error_set(err, rc, NULL, "%s: %s", path, sl_strerror(rc));
    sl_diags_release(d);
    return rc;
}

static int read_file(const char *path, sl_buf *out, sl_error *err)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return sl_error_set(err, errno == ENOENT ? SL_ENOENT : SL_EIO, "path", "%s: %s", path,
                            strerror(errno));
    char chunk[8192];
    size_t n;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        sl_buf_put(out, chunk, n);
    int bad = ferror(f);
    fclose(f);
    if (bad || out->err)
        return sl_error_set(err, SL_EIO, "path", "%s: cannot read", path);
    return 0;
}

/* Whether the certificate just loaded for config entry m is the member the entry names: the
 * same organization (the node's own for its identity) and, for users and oracles, the same
 * name. The error points at the entry (config:line:col, field `what`). */
static int member_matches(const sl_node_member *m, const char *config, const char *what,
                          const char *org, const sl__member *out, sl_error *err)
{
    const sl_cert *c = &out->cert;
    const char *want = m->name ? m->org : org;
    if (want && strcmp(c->org, want) == 0 && (!m->name || strcmp(c->subject, m->name) == 0))
        return 0;
    if (m->name)
        return sl_error_set(
            err, SL_EINVAL, what, "%s:%d:%d: %s is the certificate of %s of %s, not %s of %s",
            config, m->line, m->column, m->cert, c->subject, c->org, m->name, want ? want : "");
    return sl_error_set(err, SL_EINVAL, "cert", "%s belongs to '%s', not '%s'", m->cert, c->org,
                        want ? want : "");
}

/* A member's key and certificate, which must belong together, be the member the config entry
 * m names (see member_matches), and hold role (when given). */
static int load_member(const sl_node_member *m, const char *config, const char *what,
                       const char *org, sl_role role, sl__member *out, sl_error *err)
{
    sl_buf text;
    sl_buf_init(&text);
    int rc = sl_key_load(m->key, &out->key, err);
    if (!rc)
        rc = read_file(m->cert, &text, err);
    if (!rc && (rc = sl_cert_read_json((const char *)text.p, text.len, &out->cert, err)))
        sl_error_set(err, rc, "cert", "%s: %s", m->cert, err->msg);
    sl_buf_release(&text);
    if (rc)
        return rc;
    uint8_t pk[SL_PK_LEN];
    sl_key_public(out->key, pk);
    if (memcmp(pk, out->cert.pk, SL_PK_LEN) != 0)
        return sl_error_set(err, SL_EINVAL, "key", "%s is not the key of certificate %s", m->key,
                            m->cert);
    if ((rc = member_matches(m, config, what, org, out, err)))
        return rc;
    if (role && out->cert.role != role)
        return sl_error_set(err, SL_EINVAL, "cert", "%s is a %s certificate, not %s", m->cert,
                            sl_role_name(out->cert.role), sl_role_name(role));
    sl_strfmt(out->name, sizeof(out->name), "%s", out->cert.subject);
    return 0;
}

static int lock_data_dir(sl_node *nd, sl_error *err)
{
    const char *dir = nd->cfg->data_dir;
    if (mkdir(dir, 0700) != 0 && errno != EEXIST)
        return sl_error_set(err, SL_EIO, "data_dir", "%s: %s", dir, strerror(errno));
    char path[SL_NODE_PATH_MAX + 16];
    sl_strfmt(path, sizeof(path), "%s/LOCK", dir);
    nd->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (nd->lock_fd < 0)
        return sl_error_set(err, SL_EIO, "data_dir", "%s: %s", path, strerror(errno));
    if (flock(nd->lock_fd, LOCK_EX | LOCK_NB) != 0)
        return sl_error_set(err, SL_EBUSY, "data_dir", "another node is running on %s", dir);
    return 0;
}

/* The sl_auth_fn: a node credential (peer.c), or a token of the tokens file. */
static int auth_token(void *ctx, const char *token, sl_caller *caller)
{
    sl_node *nd = ctx;
    const sl_token *t;
    if (strncmp(token, SL_NODE_TOKEN_PREFIX, strlen(SL_NODE_TOKEN_PREFIX)) == 0)
        return sl__node_auth_peer(&nd->n, token, caller);
    if (!nd->tokens || sl_tokens_check(nd->tokens, token, &t) != 0)
        return 0;
    caller->authenticated = 1;
    sl_strfmt(caller->user, sizeof(caller->user), "%s", t->user);
    sl_strfmt(caller->org, sizeof(caller->org), "%s", t->org);
    caller->role = t->role;
    return 1;
}

static int open_channel(sl_node *nd, const sl_node_channel *c, sl__channel *ch, sl_error *err)
{
    struct stat st;
    int rc = 0;
    if (stat(c->ledger, &st) != 0) {
        sl_buf g;
        sl_buf_init(&g);
        rc = read_file(c->genesis, &g, err);
        if (!rc)
            rc = sl_ledger_create(c->ledger, g.p, g.len, err);
        sl_buf_release(&g);
        if (rc)
            return rc;
    }
    if ((rc = sl_ledger_open(c->ledger, 0, &ch->ledger, err)))
        return rc;
    if (strcmp(sl_ledger_channel(ch->ledger)->name, c->name) != 0)
        return sl_error_set(err, SL_EINVAL, "channels", "%s holds channel '%s', not '%s'",
                            c->ledger, sl_ledger_channel(ch->ledger)->name, c->name);
    sl_strfmt(ch->name, sizeof(ch->name), "%s", c->name);
    ch->node = &nd->n;
    sl_order_settings set = {
        .clock = sl__node_clock_cb, .clock_arg = &nd->n, .clock_speed = nd->n.clock_speed};
    const sl_channel_spec *spec = sl_ledger_channel(ch->ledger);
    const sl_cert *me = &nd->n.identity.cert;
    if (spec->order != SL_ORDER_SOLO)
        return sl_error_set(err, SL_EINVAL, "channels",
                            "channel '%s' is ordered by etcd, which this node cannot reach yet",
                            c->name);
    ch->orders =
        strcmp(spec->orderer_org, me->org) == 0 && strcmp(spec->orderer_name, me->subject) == 0;
    if (ch->orders && c->orderer)
        return sl_error_set(err, SL_EINVAL, "channels",
                            "this node orders channel '%s', so it follows no orderer: remove "
                            "its orderer URL %s",
                            c->name, c->orderer);
    if (ch->orders)
        return sl_solo_new(ch->ledger, nd->n.identity.key, me, &set, sl__node_on_block, ch,
                           &ch->orderer, err);
    if (!c->orderer)
        return sl_error_set(err, SL_EINVAL, "channels",
                            "channel '%s' is ordered by '%s' of '%s', not by this node ('%s' of "
                            "'%s'): give that node's API URL as the channel's orderer",
                            c->name, spec->orderer_name, spec->orderer_org, me->subject, me->org);
    sl_order_remote remote;
    rc = sl__upstream_new(&nd->n, ch->name, spec, c->orderer, &ch->upstream, &remote, err);
    if (!rc)
        rc = sl_follower_new(ch->ledger, &remote, &set, sl__node_on_block, ch, &ch->orderer, err);
    return rc;
}

/* The member of org called name among the node's users and oracles, or NULL. */
static const sl__member *member_find(const sl__node *n, const char *org, const char *name)
{
    const sl__member *u = sl__node_user(n, org, name);
    for (size_t i = 0; !u && i < n->n_oracles; i++)
        if (strcmp(n->oracles[i].cert.org, org) == 0 && strcmp(n->oracles[i].name, name) == 0)
            u = &n->oracles[i];
    return u;
}

/* Every token of a member whose key the node holds has that member's role: the API acts with
 * the certificate's role, and shows the token's (whoami, visibility), which must agree. */
static int check_token_roles(sl_node *nd, sl_error *err)
{
    for (size_t i = 0; nd->tokens && i < nd->tokens->n_tokens; i++) {
        const sl_token *t = &nd->tokens->tokens[i];
        const sl__member *m = member_find(&nd->n, t->org, t->user);
        if (!m || m->cert.role == t->role)
            continue;
        char field[48];
        sl_strfmt(field, sizeof(field), "spec.tokens[%zu].role", i);
        return sl_error_set(err, SL_EINVAL, field,
                            "%s:%d:%d: the token of %s of %s is a %s token, but the node signs "
                            "for %s of %s as a %s (its certificate's role)",
                            nd->cfg->tokens, t->line, t->column, t->user, t->org,
                            sl_role_name(t->role), t->user, t->org, sl_role_name(m->cert.role));
    }
    return 0;
}

/* The keys and certificates of the node's users (which == 0) or oracles (1). */
static int load_members(sl_node *nd, const char *config, int which, sl_error *err)
{
    const sl_node_member *list = which ? nd->cfg->oracles : nd->cfg->users;
    size_t count = which ? nd->cfg->n_oracles : nd->cfg->n_users;
    sl__member **out = which ? &nd->n.oracles : &nd->n.users;
    size_t *n_out = which ? &nd->n.n_oracles : &nd->n.n_users;
    *out = calloc(count ? count : 1, sizeof(**out));
    if (!*out)
        return sl_error_set(err, SL_ENOMEM, NULL, "out of memory");
    for (size_t i = 0; i < count; i++, (*n_out)++) {
        char what[48];
        sl_strfmt(what, sizeof(what), "spec.%s[%zu]", which ? "oracles" : "users", i);
        int rc =
            load_member(&list[i], config, what, NULL, which ? SL_ROLE_ORACLE : 0, &(*out)[i], err);
        if (rc)
            return rc;
    }
    return 0;
}

static int load_files(sl_node *nd, const char *config, sl_error *err)
{
    sl_diags d = {0};
    int rc;
    if (nd->cfg->tokens && (rc = sl_tokens_parse_file(nd->cfg->tokens, &nd->tokens, &d)))
        return diag_error(err, nd->cfg->tokens, rc, &d);
    if ((rc = sl_node_config_check_tokens(nd->cfg, nd->tokens, &d)))
        return diag_error(err, nd->cfg->tokens, rc, &d);
    if (nd->cfg->secrets && (rc = sl_secrets_parse_file(nd->cfg->secrets, &nd->secrets, &d)))
        return diag_error(err, nd->cfg->secrets, rc, &d);
    sl__node *n = &nd->n;
    sl_strfmt(n->org, sizeof(n->org), "%s", nd->cfg->organization);
    if ((rc = load_member(&nd->cfg->identity, config, "spec.identity", n->org, SL_ROLE_NODE,
                          &n->identity, err)) ||
        (rc = load_members(nd, config, 0, err)) || (rc = load_members(nd, config, 1, err)))
        return rc;
    return check_token_roles(nd, err);
}

static int parse_listen(const char *s, char *host, size_t cap, uint16_t *port, sl_error *err)
{
    const char *colon = s ? strrchr(s, ':') : NULL;
    char *end;
    long p = colon ? strtol(colon + 1, &end, 10) : -1;
    if (!colon || colon == s || *end != '\0' || p < 0 || p > 65535 || (size_t)(colon - s) >= cap)
        return sl_error_set(err, SL_EINVAL, "listen", "expected HOST:PORT, found '%s'", s ? s : "");
    memcpy(host, s, (size_t)(colon - s));
    host[colon - s] = '\0';
    *port = (uint16_t)p;
    return 0;
}

/* The HTTP layer's per-request callback: one line at debug, or at warn for a server error. */
static void log_request(void *ctx, const sl_http_request_info *r)
{
    sl__log *log = ctx;
    sl_node_log_level level = r->status >= 500 ? SL_NODE_LOG_WARN : SL_NODE_LOG_DEBUG;
    if (!sl__log_enabled(log, level))
        return;
    sl__log_field f[] = {
        SL__LOG_S("method", r->method),     SL__LOG_S("route", r->route ? r->route : "(unmatched)"),
        SL__LOG_I("status", r->status),     SL__LOG_MS("duration_ms", r->ns),
        SL__LOG_S("user", r->caller->user), SL__LOG_S("org", r->caller->org),
    };
    sl__log_write(log, level, "request", f, r->caller->authenticated ? 6 : 4);
}

/* "node started" with the node's name, organization, channels and address. */
static void log_started(sl_node *nd)
{
    sl_buf chans;
    char listen[96];
    sl_buf_init(&chans);
    for (size_t i = 0; i < nd->n.n_channels; i++)
        sl_buf_printf(&chans, "%s%s", i ? "," : "", nd->n.channels[i].name);
    sl_strfmt(listen, sizeof(listen), "%s:%u", nd->host, (unsigned)nd->port);
    const char *c = sl_buf_cstr(&chans);
    sl__log_field f[] = {
        SL__LOG_S("name", nd->cfg->name),  SL__LOG_S("organization", nd->n.org),
        SL__LOG_S("channels", c ? c : ""), SL__LOG_S("listen", listen),
        SL__LOG_S("version", SL_VERSION),
    };
    sl__log_write(&nd->log, SL_NODE_LOG_INFO, "node started", f, 5);
    sl_buf_release(&chans);
}

static int start_api(sl_node *nd, const char *listen, sl_error *err)
{
    char *host = nd->host;
    uint16_t port = nd->cfg->listen_port;
    sl_strfmt(host, sizeof(nd->host), "%s", nd->cfg->listen_host);
    int rc = listen ? parse_listen(listen, host, sizeof(nd->host), &port, err) : 0;
    if (!rc && strcmp(host, "localhost") == 0)
        sl_strfmt(host, sizeof(nd->host), "127.0.0.1");
    sl_http_settings set = {.on_request = log_request, .on_request_ctx = &nd->log};
    if (!rc)
        rc = sl_http_new(&set, auth_token, nd, &nd->n.http, err);
    if (!rc && (rc = sl__api_register(&nd->n)))
        sl_error_set(err, rc, NULL, "out of memory");
    if (!rc)
        rc = sl_http_start(nd->n.http, host, port, &nd->port, err);
    return rc;
}

int sl_node_start(const char *config_path, const char *listen, sl_node **out, sl_error *err)
{
    *out = NULL;
    sl_node *nd = calloc(1, sizeof(*nd));
    if (!nd)
        return sl_error_set(err, SL_ENOMEM, NULL, "out of memory");
    if (sl_cond_init_monotonic(&nd->n.wait_cv) != 0) {
        free(nd);
        return sl_error_set(err, SL_ENOMEM, NULL, "out of memory");
    }
    nd->lock_fd = -1;
    pthread_mutex_init(&nd->n.wait_mu, NULL);
    pthread_rwlock_init(&nd->n.http_lock, NULL);
    sl_diags d = {0};
    int rc = sl_node_config_parse_file(config_path, &nd->cfg, &d);
    if (rc) {
        diag_error(err, config_path, rc, &d);
        goto fail;
    }
    if ((rc = sl__log_init(&nd->log, stderr, nd->cfg->log_format, nd->cfg->log_level, "node"))) {
        sl_error_set(err, rc, NULL, "out of memory");
        goto fail;
    }
    nd->log_ready = 1;
    nd->n.log = &nd->log;
    if ((rc = lock_data_dir(nd, err)) || (rc = load_files(nd, config_path, err)))
        goto fail;
    nd->n.clock_speed = nd->cfg->clock_speed;
    nd->n.clock_since = nd->cfg->clock_since_ms >= 0 ? nd->cfg->clock_since_ms : sl__node_wall_ms();
    nd->n.channels = calloc(nd->cfg->n_channels, sizeof(*nd->n.channels));
    if (!nd->n.channels) {
        rc = sl_error_set(err, SL_ENOMEM, NULL, "out of memory");
        goto fail;
    }
    for (size_t i = 0; i < nd->cfg->n_channels; i++, nd->n.n_channels++)
        if ((rc = open_channel(nd, &nd->cfg->channels[i], &nd->n.channels[i], err)))
            goto fail;
    if ((rc = sl__oracles_start(&nd->n, nd->cfg, nd->secrets, err)) ||
        (rc = start_api(nd, listen, err)))
        goto fail;
    nd->started = 1;
    log_started(nd);
    *out = nd;
    return 0;
fail:
    sl_node_stop(nd);
    return rc;
}

const char *sl_node_host(const sl_node *n)
{
    return n->host;
}

uint16_t sl_node_port(const sl_node *n)
{
    return n->port;
}

void sl_node_log_info(sl_node *nd, const char *msg, const char *key, const char *value)
{
    sl__log_field f = SL__LOG_S(key, value);

    if (nd && nd->log_ready && msg)
        sl__log_write(&nd->log, SL_NODE_LOG_INFO, msg, &f, key && value ? 1 : 0);
}

void sl_node_stop(sl_node *nd)
{
    if (!nd)
        return;
    if (nd->started)
        sl__log_write(&nd->log, SL_NODE_LOG_INFO, "node stopping", NULL, 0);
    /* The orderers still cut blocks until they are freed below: from here on their callbacks
     * leave the server alone, and one announcing a block now is waited for. */
    pthread_rwlock_wrlock(&nd->n.http_lock);
    nd->n.http_closing = 1;
    pthread_rwlock_unlock(&nd->n.http_lock);
    sl_http_free(nd->n.http);
    nd->n.http = NULL;
    sl__oracles_stop(&nd->n); /* before the orderers it submits to */
    /* Every slot was zeroed, so a channel that failed half way frees what it opened. */
    for (size_t i = 0; nd->n.channels && i < nd->cfg->n_channels; i++) {
        sl_orderer_free(nd->n.channels[i].orderer);
        sl__upstream_free(nd->n.channels[i].upstream);
        sl_ledger_close(nd->n.channels[i].ledger);
    }
    free(nd->n.channels);
    for (size_t i = 0; i < nd->n.n_users; i++)
        sl_key_free(nd->n.users[i].key);
    free(nd->n.users);
    for (size_t i = 0; i < nd->n.n_oracles; i++)
        sl_key_free(nd->n.oracles[i].key);
    free(nd->n.oracles);
    sl_key_free(nd->n.identity.key);
    sl_tokens_free(nd->tokens);
    sl_secrets_free(nd->secrets);
    sl_node_config_free(nd->cfg);
    if (nd->lock_fd >= 0)
        close(nd->lock_fd); /* releases the lock */
    if (nd->started)
        sl__log_write(&nd->log, SL_NODE_LOG_INFO, "node stopped", NULL, 0);
    nd->n.log = NULL;
    if (nd->log_ready)
        sl__log_release(&nd->log);
    pthread_cond_destroy(&nd->n.wait_cv);
    pthread_mutex_destroy(&nd->n.wait_mu);
    pthread_rwlock_destroy(&nd->n.http_lock);
    free(nd);
}
