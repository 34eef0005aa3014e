/*
 * node_config.c: sl_node_config_parse and its loader: a node's configuration (kind: Node),
 * what one slaledger process runs: its organization, data directory, listening address, its
 * own identity and the users and oracles it signs for (as key and certificate files), the
 * channels it serves (genesis and ledger files), ordering and logging settings, and where its
 * secrets and API tokens are. The format is described in docs/node-config.md.
 *
 * The document is read with the frame, tree, readers and diagnostics of agreements and
 * channels (doc.c, yaml.c, walk.c, values.c), so it follows their rules: every problem is
 * reported with its position, dotted field path and what was expected, unknown fields are
 * refused, and one pass reports everything. The parser does no I/O: paths are kept as written
 * (a channel's default ledger is joined from data_dir as written), and only the loader,
 * sl_node_config_parse_file, makes them absolute against the file's own directory. Nothing
 * here opens a key, certificate or genesis file: the node does, and checks what they say.
 * Members are organization and name: sl_node_config_check_tokens holds a tokens file against
 * them.
 *
 * sl_node_config_parse owns one node_build for the call; on failure everything is freed and
 * *out stays NULL, on success only the config survives. Thread-safety: reentrant.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "slaledger/util.h"

#include "sla_int.h"

#define DEFAULT_DATA_DIR "data"
#define DEFAULT_HOST     "127.0.0.1"
#define DEFAULT_PORT     8640
#define ENDPOINT_MAX     256
#define COUNT(a)         (sizeof(a) / sizeof((a)[0]))

static const char *const metadata_keys[] = {"name", "description", NULL};
static const char *const spec_keys[] = {
    "organization", "data_dir", "listen", "identity", "users",     "oracles", "channels",
    "ordering",     "secrets",  "tokens", "log",      "scheduler", "clock",   NULL};
static const char *const identity_keys[] = {"key", "cert", NULL};
static const char *const member_keys[] = {"name", "org", "key", "cert", NULL};
static const char *const channel_keys[] = {"name", "genesis", "ledger", "orderer", NULL};
static const char *const ordering_keys[] = {"etcd", NULL};
/* Fields a node configuration had once, and why they went. */
static const char *const ordering_retired[] = {
    "heartbeat",
    "blocks are now cut when transactions wait or when the contract has something due (a "
    "report deadline, a window or period close), never on an idle timer; delete the field",
    NULL};
static const char *const etcd_keys[] = {"endpoints", NULL};
static const char *const scheduler_keys[] = {"delay", "timeout", "concurrency", NULL};
static const char *const clock_keys[] = {"speed", "since", NULL};
static const char *const log_keys[] = {"format", "level", NULL};
static const char *const log_formats[] = {"text", "json"};
static const char *const log_levels[] = {"debug", "info", "warn", "error"};

/* The state of one sl_node_config_parse call. */
typedef struct node_build {
    sl__ctx ctx;
    sl_node_config *cfg;
    int org_ok;                    /* spec.organization parsed */
    int data_dir_ok;               /* spec.data_dir parsed or defaulted */
    char users_path[SL__PATH_MAX]; /* "spec.users", for "also spec.users[0]" */
    char oracles_path[SL__PATH_MAX];
} node_build;

/* ---- scalars ---- */

static int has_control(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return 1;
    }
    return 0;
}

/* Reads a file path: a non-empty line of at most SL_NODE_PATH_MAX bytes. */
static int read_path(sl__ctx *c, const sl__ynode *n, const char *path, char **out)
{
    const char *s = sl__scalar(c, n, path, "a file path");
    sl__shown sh;

    if (!s)
        return -1;
    if (n->len == 0 || n->len > SL_NODE_PATH_MAX || has_control(s, n->len)) {
        sl__error(c, n, SL_EINVAL, path,
                  "expected a file path (a non-empty line of at most %d bytes without control "
                  "characters), found %s",
                  SL_NODE_PATH_MAX, sl__show(s, n->len, &sh));
        return -1;
    }
    *out = sl_strndup(s, n->len);
    if (!*out) {
        sl__nomem(c);
        return -1;
    }
    return 0;
}

/* Joins dir and name with one '/' (none when name is empty) into a fresh string; NULL when
 * out of memory. */
static char *path_join(const char *dir, const char *name)
{
    size_t d = strlen(dir), n = strlen(name);
    int slash = d > 0 && n > 0 && dir[d - 1] != '/';
    char *p = malloc(d + (size_t)slash + n + 1);

    if (!p)
        return NULL;
    memcpy(p, dir, d);
    if (slash)
        p[d] = '/';
    memcpy(p + d + (size_t)slash, name, n + 1);
    return p;
}

/* ---- listen: HOST:PORT ---- */

/* Parses a decimal number of 1..max_digits digits into *out; 0 or -1. */
static int parse_digits(const char *s, size_t len, size_t max_digits, unsigned *out)
{
    unsigned v = 0;

    if (len == 0 || len > max_digits)
        return -1;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (unsigned)(s[i] - '0');
    }
    *out = v;
    return 0;
}

/* True for a dotted-quad IPv4 literal: four decimal octets 0..255 without leading zeros (which
 * some resolvers read as octal). */
static int ipv4_valid(const char *s, size_t len)
{
    size_t start = 0, parts = 0;
    unsigned v;

    for (size_t i = 0; i <= len; i++) {
        if (i < len && s[i] != '.')
            continue;
        if (parse_digits(s + start, i - start, 3, &v) != 0 || v > 255 ||
            (i - start > 1 && s[start] == '0'))
            return 0;
        parts++;
        start = i + 1;
    }
    return parts == 4;
}

static void listen_parse(node_build *b, const sl__ynode *n, const char *path)
{
    const char *s = sl__scalar(&b->ctx, n, path, "a listening address");
    const char *colon;
    unsigned port;
    size_t host_len;
    sl__shown sh;

    if (!s)
        return;
    colon = strrchr(s, ':');
    if (!colon) {
        sl__error(&b->ctx, n, SL_EINVAL, path,
                  "expected HOST:PORT such as 127.0.0.1:8640, found %s", sl__show(s, n->len, &sh));
        return;
    }
    host_len = (size_t)(colon - s);
    if (!(host_len == 9 && memcmp(s, "localhost", 9) == 0) && !ipv4_valid(s, host_len)) {
        sl__error(&b->ctx, n, SL_EINVAL, path,
                  "host %s is not an IPv4 address or localhost; expected HOST:PORT such as "
                  "127.0.0.1:8640",
                  sl__show(s, host_len, &sh));
        return;
    }
    if (parse_digits(colon + 1, n->len - host_len - 1, 5, &port) != 0 || port > 65535) {
        sl__error(&b->ctx, n, SL_EINVAL, path,
                  "port %s is not a number from 0 to 65535 (0: any free port)",
                  sl__show(colon + 1, n->len - host_len - 1, &sh));
        return;
    }
    free(b->cfg->listen_host);
    b->cfg->listen_host = sl_strndup(s, host_len);
    if (!b->cfg->listen_host)
        sl__nomem(&b->ctx);
    b->cfg->listen_port = (uint16_t)port;
}

/* ---- identity, users and oracles ---- */

static void identity_parse(node_build *b, const sl__ynode *n, const char *path)
{
    sl_node_member *m = &b->cfg->identity;
    sl__field f;

    if (!sl__map_check(&b->ctx, n, path, identity_keys))
        return;
    if (sl__field_get(&b->ctx, n, path, "key", 1, &f))
        read_path(&b->ctx, f.node, f.path, &m->key);
    if (sl__field_get(&b->ctx, n, path, "cert", 1, &f))
        read_path(&b->ctx, f.node, f.path, &m->cert);
}

/* Finds a member before entry i of list `which` (0 users, 1 oracles; users come first) with
 * m's name and org, and writes its path into other. 1 when there is one. */
static int member_dup(const node_build *b, int which, size_t i, const sl_node_member *m,
                      char *other)
{
    const sl_node_config *cfg = b->cfg;
    const sl_node_member *lists[2] = {cfg->users, cfg->oracles};
    const size_t counts[2] = {cfg->n_users, cfg->n_oracles};
    const char *paths[2] = {b->users_path, b->oracles_path};

    for (int l = 0; l <= which; l++) {
        for (size_t k = 0; k < (l < which ? counts[l] : i); k++) {
            const sl_node_member *o = &lists[l][k];
            if (o->name && o->org && strcmp(o->name, m->name) == 0 && strcmp(o->org, m->org) == 0) {
                sl__path_index(other, paths[l], k);
                return 1;
            }
        }
    }
    return 0;
}

/* Finds an oracle before entry i with m's name and another organization, and writes its path
 * into other. 1 when there is one: agreements name oracles by name alone, so a node whose
 * scheduler ran two of a name could not tell which an agreement means. */
static int oracle_name_dup(const node_build *b, size_t i, const sl_node_member *m, char *other)
{
    for (size_t k = 0; k < i; k++) {
        const sl_node_member *o = &b->cfg->oracles[k];
        if (o->name && o->org && strcmp(o->name, m->name) == 0 && strcmp(o->org, m->org) != 0) {
            sl__path_index(other, b->oracles_path, k);
            return 1;
        }
    }
    return 0;
}

/* The member's organization: as written, or the node's own. 0 when it is known. */
static int member_org(node_build *b, const sl__ynode *n, const char *path, sl_node_member *m)
{
    sl__field f;

    if (sl__field_get(&b->ctx, n, path, "org", 0, &f))
        return sl__read_name(&b->ctx, f.node, f.path, "an organization", &m->org);
    if (!b->org_ok)
        return -1;
    m->org = sl_strdup(b->cfg->organization);
    if (!m->org) {
        sl__nomem(&b->ctx);
        return -1;
    }
    return 0;
}

static void member_parse(node_build *b, const sl__ynode *n, const char *path, int which, size_t i,
                         sl_node_member *m)
{
    char other[SL__PATH_MAX];
    sl__field f, name;
    int ok;

    m->line = n->line;
    m->column = n->column;
    if (!sl__map_check(&b->ctx, n, path, member_keys))
        return;
    ok = sl__field_get(&b->ctx, n, path, "name", 1, &name) &&
         sl__read_name(&b->ctx, name.node, name.path, "a member", &m->name) == 0;
    ok &= member_org(b, n, path, m) == 0;
    if (sl__field_get(&b->ctx, n, path, "key", 1, &f))
        read_path(&b->ctx, f.node, f.path, &m->key);
    if (sl__field_get(&b->ctx, n, path, "cert", 1, &f))
        read_path(&b->ctx, f.node, f.path, &m->cert);
    if (ok && member_dup(b, which, i, m, other))
        sl__error(&b->ctx, name.node, SL_EINVAL, name.path,
                  "duplicate member %s@%s (also %s); a member's key is listed once", m->name,
                  m->org, other);
    else if (ok && which == 1 && oracle_name_dup(b, i, m, other))
        sl__error(&b->ctx, name.node, SL_EINVAL, name.path,
                  "oracle name '%s' is also that of %s of another organization; agreements name "
                  "oracles by name alone, so a node runs one oracle of a name",
                  m->name, other);
}

/* spec.users or spec.oracles: a list of members into *list and *count. */
static void members_parse(node_build *b, const sl__ynode *n, const char *path, int which,
                          sl_node_member **list, size_t *count)
{
    char item[SL__PATH_MAX];
    size_t k;

    if (!sl__list_check(&b->ctx, n, path, SL_NODE_MAX_MEMBERS, 0))
        return;
    k = n->n < SL_NODE_MAX_MEMBERS ? n->n : SL_NODE_MAX_MEMBERS;
    *list = calloc(k ? k : 1, sizeof(**list));
    if (!*list) {
        sl__nomem(&b->ctx);
        return;
    }
    *count = k;
    for (size_t i = 0; i < k; i++) {
        sl__path_index(item, path, i);
        member_parse(b, &n->kids[i], item, which, i, &(*list)[i]);
    }
}

/* ---- URLs ---- */

/* Reads a URL another server listens on (what, e.g. "an etcd endpoint URL", and an example
 * for the message): http:// or https:// and a host, one line without spaces. */
static int url_parse(sl__ctx *c, const sl__ynode *n, const char *path, const char *what,
                     const char *example, char **out)
{
    const char *s = sl__scalar(c, n, path, what);
    size_t scheme;
    sl__shown sh;

    if (!s)
        return -1;
    scheme = strncmp(s, "http://", 7) == 0 ? 7 : strncmp(s, "https://", 8) == 0 ? 8 : 0;
    if (scheme == 0 || n->len <= scheme || n->len > ENDPOINT_MAX || has_control(s, n->len) ||
        strchr(s, ' ')) {
        sl__error(c, n, SL_EINVAL, path,
                  "expected %s such as %s (http or https, at most %d bytes), found %s", what,
                  example, ENDPOINT_MAX, sl__show(s, n->len, &sh));
        return -1;
    }
    *out = sl_strndup(s, n->len);
    if (!*out)
        sl__nomem(c);
    return *out ? 0 : -1;
}

/* ---- channels ---- */

/* The channel before i with the same name (by_name) or ledger, or -1. */
static long channel_dup(const sl_node_config *cfg, size_t i, int by_name)
{
    const sl_node_channel *c = &cfg->channels[i];

    for (size_t k = 0; k < i; k++) {
        const char *a = by_name ? cfg->channels[k].name : cfg->channels[k].ledger;
        const char *x = by_name ? c->name : c->ledger;
        if (a && x && strcmp(a, x) == 0)
            return (long)k;
    }
    return -1;
}

/* The default ledger: <data_dir>/<name>.db, joined as written. */
static void ledger_default(node_build *b, sl_node_channel *c)
{
    char file[SL_NAME_MAX + 4];

    if (!b->data_dir_ok || !c->name)
        return;
    sl_strfmt(file, sizeof(file), "%s.db", c->name);
    c->ledger = path_join(b->cfg->data_dir, file);
    if (!c->ledger)
        sl__nomem(&b->ctx);
}

static void channel_parse(node_build *b, const sl__ynode *n, const char *path, const char *list,
                          size_t i)
{
    sl_node_channel *c = &b->cfg->channels[i];
    char other[SL__PATH_MAX];
    sl__field f, name, ledger;
    long dup = -1;
    sl__shown sh;

    if (!sl__map_check(&b->ctx, n, path, channel_keys))
        return;
    if (sl__field_get(&b->ctx, n, path, "name", 1, &name) &&
        sl__read_name(&b->ctx, name.node, name.path, "a channel", &c->name) == 0 &&
        (dup = channel_dup(b->cfg, i, 1)) >= 0) {
        sl__path_index(other, list, (size_t)dup);
        sl__error(&b->ctx, name.node, SL_EINVAL, name.path, "duplicate channel '%s' (also %s)",
                  c->name, other);
    }
    if (sl__field_get(&b->ctx, n, path, "genesis", 1, &f))
        read_path(&b->ctx, f.node, f.path, &c->genesis);
    if (sl__field_get(&b->ctx, n, path, "orderer", 0, &f))
        url_parse(&b->ctx, f.node, f.path, "the orderer node's API URL", "http://127.0.0.1:8640",
                  &c->orderer);
    if (sl__field_get(&b->ctx, n, path, "ledger", 0, &ledger))
        read_path(&b->ctx, ledger.node, ledger.path, &c->ledger);
    else
        ledger_default(b, c);
    /* A duplicate name already explains a duplicate default ledger. */
    if (!c->ledger || (dup >= 0 && !ledger.node) || (dup = channel_dup(b->cfg, i, 0)) < 0)
        return;
    sl__path_index(other, list, (size_t)dup);
    sl__error(&b->ctx, ledger.node ? ledger.node : n, SL_EINVAL, ledger.path,
              "ledger %s is also the ledger of %s; every channel needs its own database",
              sl__show(c->ledger, strlen(c->ledger), &sh), other);
}

static void channels_parse(node_build *b, const sl__ynode *n, const char *path)
{
    char item[SL__PATH_MAX];
    size_t k;

    if (!sl__list_check(&b->ctx, n, path, SL_NODE_MAX_CHANNELS, 1))
        return;
    k = n->n < SL_NODE_MAX_CHANNELS ? n->n : SL_NODE_MAX_CHANNELS;
    b->cfg->channels = calloc(k ? k : 1, sizeof(*b->cfg->channels));
    if (!b->cfg->channels) {
        sl__nomem(&b->ctx);
        return;
    }
    b->cfg->n_channels = k;
    for (size_t i = 0; i < k; i++) {
        sl__path_index(item, path, i);
        channel_parse(b, &n->kids[i], item, path, i);
    }
}

/* ---- ordering and log ---- */

static void etcd_parse(node_build *b, const sl__ynode *n, const char *path)
{
    sl_node_config *cfg = b->cfg;
    char item[SL__PATH_MAX];
    sl__field f;
    size_t k;

    if (!sl__map_check(&b->ctx, n, path, etcd_keys) ||
        !sl__field_get(&b->ctx, n, path, "endpoints", 1, &f) ||
        !sl__list_check(&b->ctx, f.node, f.path, SL_NODE_MAX_ENDPOINTS, 1))
        return;
    k = f.node->n < SL_NODE_MAX_ENDPOINTS ? f.node->n : SL_NODE_MAX_ENDPOINTS;
    cfg->etcd_endpoints = calloc(k ? k : 1, sizeof(*cfg->etcd_endpoints));
    if (!cfg->etcd_endpoints) {
        sl__nomem(&b->ctx);
        return;
    }
    cfg->n_etcd_endpoints = k;
    for (size_t i = 0; i < k; i++) {
        sl__path_index(item, f.path, i);
        url_parse(&b->ctx, &f.node->kids[i], item, "an etcd endpoint URL", "http://127.0.0.1:2379",
                  &cfg->etcd_endpoints[i]);
    }
}

static void ordering_parse(node_build *b, const sl__ynode *n, const char *path)
{
    sl__field f;

    if (!sl__map_check_retired(&b->ctx, n, path, ordering_keys, ordering_retired))
        return;
    if (sl__field_get(&b->ctx, n, path, "etcd", 0, &f))
        etcd_parse(b, f.node, f.path);
}

/* A duration field of the scheduler within [min, max] ms. */
static void sched_duration(node_build *b, const sl__ynode *n, const char *path, const char *key,
                           int64_t min, int64_t max, int64_t *out)
{
    char lo[32], hi[32];
    sl__field f;
    int64_t v;
    sl__shown sh;

    if (!sl__field_get(&b->ctx, n, path, key, 0, &f) ||
        sl__read_duration(&b->ctx, f.node, f.path, 1, &v) != 0)
        return;
    if (v >= min && v <= max) {
        *out = v;
        return;
    }
    sl_duration_format(min, lo, sizeof(lo));
    sl_duration_format(max, hi, sizeof(hi));
    sl__error(&b->ctx, f.node, SL_EINVAL, f.path, "%s %s is out of range: expected %s to %s", key,
              sl__show(f.node->text, f.node->len, &sh), lo, hi);
}

static void scheduler_parse(node_build *b, const sl__ynode *n, const char *path)
{
    sl__field f;
    int64_t v;

    if (!sl__map_check(&b->ctx, n, path, scheduler_keys))
        return;
    sched_duration(b, n, path, "delay", 0, SL_NODE_MAX_SCHED_DELAY_MS, &b->cfg->sched_delay_ms);
    sched_duration(b, n, path, "timeout", 100, SL_NODE_MAX_SCHED_TIMEOUT_MS,
                   &b->cfg->sched_timeout_ms);
    if (sl__field_get(&b->ctx, n, path, "concurrency", 0, &f) &&
        sl__read_int(&b->ctx, f.node, f.path, 1, SL_NODE_MAX_SCHED_CONCURRENCY, &v) == 0)
        b->cfg->sched_concurrency = (uint32_t)v;
}

static void clock_parse(node_build *b, const sl__ynode *n, const char *path)
{
    sl__field f;
    int64_t v;

    if (!sl__map_check(&b->ctx, n, path, clock_keys))
        return;
    if (sl__field_get(&b->ctx, n, path, "speed", 0, &f) &&
        sl__read_int(&b->ctx, f.node, f.path, 1, SL_NODE_MAX_CLOCK_SPEED, &v) == 0)
        b->cfg->clock_speed = (uint32_t)v;
    if (sl__field_get(&b->ctx, n, path, "since", 0, &f) &&
        sl__read_time(&b->ctx, f.node, f.path, &v) == 0)
        b->cfg->clock_since_ms = v;
}

static void log_parse(node_build *b, const sl__ynode *n, const char *path)
{
    sl__field f;
    int k;

    if (!sl__map_check(&b->ctx, n, path, log_keys))
        return;
    if (sl__field_get(&b->ctx, n, path, "format", 0, &f) &&
        sl__read_enum(&b->ctx, f.node, f.path, "log format", log_formats, COUNT(log_formats), &k) ==
            0)
        b->cfg->log_format = (sl_node_log_format)k;
    if (sl__field_get(&b->ctx, n, path, "level", 0, &f) &&
        sl__read_enum(&b->ctx, f.node, f.path, "log level", log_levels, COUNT(log_levels), &k) == 0)
        b->cfg->log_level = (sl_node_log_level)k;
}

/* ---- the document ---- */

static void metadata_parse(node_build *b, const sl__ynode *n, const char *path)
{
    sl__field f;

    if (!sl__map_check(&b->ctx, n, path, metadata_keys))
        return;
    if (sl__field_get(&b->ctx, n, path, "name", 1, &f))
        sl__read_name(&b->ctx, f.node, f.path, "a node", &b->cfg->name);
    if (sl__field_get(&b->ctx, n, path, "description", 0, &f))
        sl__read_text(&b->ctx, f.node, f.path, 0, &b->cfg->description);
}

/* organization, data_dir and listen: what the rest may depend on. */
static void spec_head_parse(node_build *b, const sl__ynode *n, const char *path)
{
    sl_node_config *cfg = b->cfg;
    char *dir = NULL;
    sl__field f;

    if (sl__field_get(&b->ctx, n, path, "organization", 1, &f))
        b->org_ok =
            sl__read_name(&b->ctx, f.node, f.path, "an organization", &cfg->organization) == 0;
    if (sl__field_get(&b->ctx, n, path, "data_dir", 0, &f)) {
        b->data_dir_ok = read_path(&b->ctx, f.node, f.path, &dir) == 0;
        if (b->data_dir_ok) {
            free(cfg->data_dir);
            cfg->data_dir = dir;
        }
    }
    if (sl__field_get(&b->ctx, n, path, "listen", 0, &f))
        listen_parse(b, f.node, f.path);
}

static void spec_parse(node_build *b, const sl__ynode *n, const char *path)
{
    sl_node_config *cfg = b->cfg;
    sl__field f;

    if (!sl__map_check(&b->ctx, n, path, spec_keys))
        return;
    spec_head_parse(b, n, path);
    if (sl__field_get(&b->ctx, n, path, "identity", 1, &f))
        identity_parse(b, f.node, f.path);
    sl__path_key(b->users_path, path, "users");
    sl__path_key(b->oracles_path, path, "oracles");
    if (sl__field_get(&b->ctx, n, path, "users", 0, &f))
        members_parse(b, f.node, f.path, 0, &cfg->users, &cfg->n_users);
    if (sl__field_get(&b->ctx, n, path, "oracles", 0, &f))
        members_parse(b, f.node, f.path, 1, &cfg->oracles, &cfg->n_oracles);
    if (sl__field_get(&b->ctx, n, path, "channels", 1, &f))
        channels_parse(b, f.node, f.path);
    if (sl__field_get(&b->ctx, n, path, "ordering", 0, &f))
        ordering_parse(b, f.node, f.path);
    if (sl__field_get(&b->ctx, n, path, "secrets", 0, &f))
        read_path(&b->ctx, f.node, f.path, &cfg->secrets);
    if (sl__field_get(&b->ctx, n, path, "tokens", 0, &f))
        read_path(&b->ctx, f.node, f.path, &cfg->tokens);
    if (sl__field_get(&b->ctx, n, path, "log", 0, &f))
        log_parse(b, f.node, f.path);
    if (sl__field_get(&b->ctx, n, path, "scheduler", 0, &f))
        scheduler_parse(b, f.node, f.path);
    if (sl__field_get(&b->ctx, n, path, "clock", 0, &f))
        clock_parse(b, f.node, f.path);
}

static void metadata_cb(void *b, const sl__ynode *n, const char *path)
{
    metadata_parse(b, n, path);
}

static void spec_cb(void *b, const sl__ynode *n, const char *path)
{
    spec_parse(b, n, path);
}

static const sl__doc_kind node_kind = {"Node", metadata_cb, spec_cb};

/* A config holding the defaults of every optional field. NULL when out of memory. */
static sl_node_config *config_new(void)
{
    sl_node_config *cfg = calloc(1, sizeof(*cfg));

    if (!cfg)
        return NULL;
    cfg->data_dir = sl_strdup(DEFAULT_DATA_DIR);
    cfg->listen_host = sl_strdup(DEFAULT_HOST);
    cfg->listen_port = DEFAULT_PORT;
    cfg->sched_delay_ms = SL_NODE_DEFAULT_SCHED_DELAY_MS;
    cfg->sched_timeout_ms = SL_NODE_DEFAULT_SCHED_TIMEOUT_MS;
    cfg->sched_concurrency = SL_NODE_DEFAULT_SCHED_CONCURRENCY;
    cfg->clock_speed = 1;
    cfg->clock_since_ms = -1;
    cfg->log_format = SL_NODE_LOG_TEXT;
    cfg->log_level = SL_NODE_LOG_INFO;
    if (!cfg->data_dir || !cfg->listen_host) {
        sl_node_config_free(cfg);
        return NULL;
    }
    return cfg;
}

int sl_node_config_parse(const char *text, size_t len, const char *filename, sl_node_config **out,
                         sl_diags *diags)
{
    node_build b = {.ctx = {.diags = diags}, .data_dir_ok = 1};
    int rc;

    (void)filename; /* diagnostics carry positions; the caller adds the file name */
    if ((rc = sl__doc_args(&b.ctx, text, len, out)))
        return rc;
    b.cfg = config_new();
    if (!b.cfg) {
        sl__nomem(&b.ctx);
        return SL_ENOMEM;
    }
    rc = sl__doc_parse(&b, text, len, &node_kind);
    if (rc != 0)
        sl_node_config_free(b.cfg);
    else
        *out = b.cfg;
    return rc;
}

/* ---- resolving paths ---- */

/* p without its leading "./" parts ("./keys/a.key" -> "keys/a.key", "." -> ""). */
static const char *skip_dot_slash(const char *p)
{
    while (p[0] == '.' && (p[1] == '/' || p[1] == '\0')) {
        p += p[1] ? 2 : 1;
        while (*p == '/')
            p++;
    }
    return p;
}

/* Makes *p absolute against dir (unless it already is). 0 or SL_ENOMEM (*p unchanged). */
static int resolve_one(char **p, const char *dir)
{
    const char *rel;
    char *abs;

    if (!*p || (*p)[0] == '/')
        return 0;
    rel = skip_dot_slash(*p);
    abs = path_join(dir, rel);
    if (!abs)
        return SL_ENOMEM;
    free(*p);
    *p = abs;
    return 0;
}

static int resolve_member(sl_node_member *m, const char *dir)
{
    int rc = resolve_one(&m->key, dir);
    return rc ? rc : resolve_one(&m->cert, dir);
}

int sl_node_config_resolve(sl_node_config *cfg, const char *dir)
{
    int rc;

    if (!cfg || !dir || !dir[0])
        return SL_EINVAL;
    rc = resolve_one(&cfg->data_dir, dir);
    rc = rc ? rc : resolve_member(&cfg->identity, dir);
    for (size_t i = 0; !rc && i < cfg->n_users; i++)
        rc = resolve_member(&cfg->users[i], dir);
    for (size_t i = 0; !rc && i < cfg->n_oracles; i++)
        rc = resolve_member(&cfg->oracles[i], dir);
    for (size_t i = 0; !rc && i < cfg->n_channels; i++) {
        rc = resolve_one(&cfg->channels[i].genesis, dir);
        rc = rc ? rc : resolve_one(&cfg->channels[i].ledger, dir);
    }
    rc = rc ? rc : resolve_one(&cfg->secrets, dir);
    return rc ? rc : resolve_one(&cfg->tokens, dir);
}

/* The absolute directory of the file at path, as a fresh string (the current directory joined
 * with a relative path's directory; no symbolic link is resolved); NULL when the current
 * directory cannot be read or memory runs out. */
static char *file_dir(const char *path)
{
    const char *slash = strrchr(path, '/');
    char cwd[SL_NODE_PATH_MAX + 1];
    char *dir, *abs;

    if (path[0] == '/')
        return sl_strndup(path, slash == path ? 1 : (size_t)(slash - path));
    if (!getcwd(cwd, sizeof(cwd)))
        return NULL;
    if (!slash)
        return sl_strdup(cwd);
    dir = sl_strndup(path, (size_t)(slash - path));
    abs = dir ? path_join(cwd, skip_dot_slash(dir)) : NULL;
    free(dir);
    return abs;
}

int sl_node_config_parse_file(const char *path, sl_node_config **out, sl_diags *diags)
{
    char *dir = NULL;
    sl_buf buf;
    int rc;

    if (out)
        *out = NULL;
    if (!path || !out) {
        sl_diags_add(diags, SL_EINVAL, 0, 0, "", "no file given");
        return SL_EINVAL;
    }
    sl_buf_init(&buf);
    rc = sl__read_file(path, &buf, diags);
    if (rc == 0)
        rc = sl_node_config_parse((const char *)buf.p, buf.len, path, out, diags);
    if (rc != 0)
        goto out;
    dir = file_dir(path);
    rc = dir ? sl_node_config_resolve(*out, dir) : SL_EIO;
    if (rc != 0) {
        sl_diags_add(diags, rc, 0, 0, "", "cannot make the paths of %s absolute: %s", path,
                     dir ? "out of memory" : "its directory cannot be resolved");
        sl_node_config_free(*out);
        *out = NULL;
    }
out:
    free(dir);
    sl_buf_release(&buf);
    return rc;
}

/* ---- lookups and release ---- */

const sl_node_member *sl_node_config_member(const sl_node_config *cfg, const char *name,
                                            const char *org)
{
    if (!cfg || !name || !org)
        return NULL;
    for (size_t i = 0; i < cfg->n_users + cfg->n_oracles; i++) {
        const sl_node_member *m =
            i < cfg->n_users ? &cfg->users[i] : &cfg->oracles[i - cfg->n_users];
        if (m->name && m->org && strcmp(m->name, name) == 0 && strcmp(m->org, org) == 0)
            return m;
    }
    return NULL;
}

/* The member called name of another organization than org, or NULL. */
static const sl_node_member *member_elsewhere(const sl_node_config *cfg, const char *name,
                                              const char *org)
{
    for (size_t i = 0; i < cfg->n_users + cfg->n_oracles; i++) {
        const sl_node_member *m =
            i < cfg->n_users ? &cfg->users[i] : &cfg->oracles[i - cfg->n_users];
        if (m->name && m->org && strcmp(m->name, name) == 0 && strcmp(m->org, org) != 0)
            return m;
    }
    return NULL;
}

int sl_node_config_check_tokens(const sl_node_config *cfg, const sl_tokens *tokens, sl_diags *diags)
{
    int rc = 0;

    for (size_t i = 0; cfg && tokens && i < tokens->n_tokens; i++) {
        const sl_token *t = &tokens->tokens[i];
        const sl_node_member *other;
        char field[SL__PATH_MAX], item[SL__PATH_MAX];

        if (sl_node_config_member(cfg, t->user, t->org) ||
            !(other = member_elsewhere(cfg, t->user, t->org)))
            continue;
        sl__path_index(item, "spec.tokens", i);
        sl__path_key(field, item, "org");
        sl_diags_add(diags, SL_EINVAL, t->line, t->column, field,
                     "the token names %s of %s, but the node holds no key of %s of %s, only of "
                     "%s of %s; a token speaks for the member of its own organization",
                     t->user, t->org, t->user, t->org, other->name, other->org);
        rc = SL_EINVAL;
    }
    return rc;
}

static void member_release(sl_node_member *m)
{
    free(m->name);
    free(m->org);
    free(m->key);
    free(m->cert);
}

void sl_node_config_free(sl_node_config *cfg)
{
    if (!cfg)
        return;
    member_release(&cfg->identity);
    for (size_t i = 0; i < cfg->n_users; i++)
        member_release(&cfg->users[i]);
    free(cfg->users);
    for (size_t i = 0; i < cfg->n_oracles; i++)
        member_release(&cfg->oracles[i]);
    free(cfg->oracles);
    for (size_t i = 0; i < cfg->n_channels; i++) {
        free(cfg->channels[i].name);
        free(cfg->channels[i].genesis);
        free(cfg->channels[i].ledger);
        free(cfg->channels[i].orderer);
    }
    free(cfg->channels);
    for (size_t i = 0; i < cfg->n_etcd_endpoints; i++)
        free(cfg->etcd_endpoints[i]);
    free(cfg->etcd_endpoints);
    free(cfg->name);
    free(cfg->description);
    free(cfg->organization);
    free(cfg->data_dir);
    free(cfg->listen_host);
    free(cfg->secrets);
    free(cfg->tokens);
    free(cfg);
}
