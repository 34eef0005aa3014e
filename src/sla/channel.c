/*
 * channel.c: sl_channel_parse and sl_channel_parse_file: channel documents (kind: Channel), the
 * content of a channel's genesis block. A channel names its member organizations with their
 * roles and Ed25519 root keys, the token issuer among them, and the orderer's block-cutting
 * limits. The document is read with the tree, readers and diagnostics of the agreement parser
 * (yaml.c, walk.c, values.c), so it follows the same rules: every problem is reported with its
 * position, dotted field path and what was expected, unknown fields are refused, and one pass
 * reports everything. The rules that span fields (unique names and keys, a node to order, the
 * issuer's role, transaction size within block size) run once their fields have parsed.
 *
 * Every node of a channel parses its genesis document, so the parse is deterministic: integer
 * arithmetic only (the module is built without floating-point registers), no I/O, no clock.
 * sl_channel_parse owns one chan_build for the call; on failure everything is freed and *out
 * stays NULL, on success only the spec survives. Thread-safety: reentrant.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "slaledger/util.h"

#include "sla_int.h"

#define KIB 1024u
#define MIB (1024u * 1024u)

#define DEFAULT_MAX_BLOCK_TXS   500
#define DEFAULT_MAX_BLOCK_BYTES (4 * MIB)
#define DEFAULT_BLOCK_TIMEOUT   5
#define DEFAULT_MAX_TX_BYTES    MIB

static const char *const metadata_keys[] = {"name", "description", NULL};
static const char *const spec_keys[] = {"issuer", "organizations", "ordering", NULL};
static const char *const org_keys[] = {"name", "roles", "root_key", NULL};
static const char *const ordering_keys[] = {
    "kind", "orderer", "max_block_txs", "max_block_bytes", "block_timeout", "max_tx_bytes", NULL};
static const char *const orderer_keys[] = {"org", "name", NULL};

/* Positions of one organization's fields, for the checks across organizations. */
typedef struct org_aux {
    const sl__ynode *name; /* the name value, set when it parsed */
    const sl__ynode *key;  /* the root_key value, set when it parsed */
    int roles_ok;          /* roles parsed */
} org_aux;

/* The state of one sl_channel_parse call. */
typedef struct chan_build {
    sl__ctx ctx;
    sl_channel_spec *spec;
    org_aux *aux;                 /* one per spec->orgs entry */
    const sl__ynode *orgs;        /* spec.organizations, when it is a list */
    int names_ok;                 /* every organization's name parsed (and unique) */
    int roles_ok;                 /* every organization's roles parsed */
    const sl__ynode *block_bytes; /* max_block_bytes, when given and parsed */
    const sl__ynode *tx_bytes;    /* max_tx_bytes, when given and parsed */
    int sizes_ok;                 /* both sizes parsed (or defaulted) */
    char orgs_path[SL__PATH_MAX]; /* "spec.organizations" */
    char ordering_path[SL__PATH_MAX];
} chan_build;

int sl_size_format(int64_t bytes, char *buf, size_t cap)
{
    int w;

    if (bytes > 0 && bytes % MIB == 0)
        w = snprintf(buf, cap, "%lldMiB", (long long)(bytes / MIB));
    else if (bytes > 0 && bytes % KIB == 0)
        w = snprintf(buf, cap, "%lldKiB", (long long)(bytes / KIB));
    else
        w = snprintf(buf, cap, "%lld", (long long)bytes);
    return w < 0 || (size_t)w >= cap ? SL_EINVAL : w;
}

/* Parses "4194304", "4096KiB" or "4MiB" into bytes: 0, SL_EINVAL or SL_EOVERFLOW. */
static int size_parse(const char *s, size_t len, int64_t *out)
{
    int64_t v, mult = 1;
    int rc;

    if (len > 3 && memcmp(s + len - 3, "KiB", 3) == 0)
        mult = KIB;
    else if (len > 3 && memcmp(s + len - 3, "MiB", 3) == 0)
        mult = MIB;
    len -= mult == 1 ? 0 : 3;
    if (len == 0 || s[0] < '0' || s[0] > '9')
        return SL_EINVAL;
    rc = sl_decimal_parse(s, len, 0, &v);
    if (rc != 0)
        return rc;
    if (v > INT64_MAX / mult)
        return SL_EOVERFLOW;
    *out = v * mult;
    return 0;
}

/* Reads a size in [min, max] bytes. */
static int read_size(sl__ctx *c, const sl__ynode *n, const char *path, int64_t min, int64_t max,
                     uint32_t *out)
{
    const char *s = sl__scalar(c, n, path, "a size");
    char lo[32], hi[32];
    int64_t v = 0;
    int rc;
    sl__shown sh;

    if (!s)
        return -1;
    sl_size_format(min, lo, sizeof(lo));
    sl_size_format(max, hi, sizeof(hi));
    rc = size_parse(s, n->len, &v);
    if (rc == SL_EINVAL) {
        sl__error(c, n, SL_EINVAL, path,
                  "expected a size from %s to %s: a number of bytes, or a whole number of KiB or "
                  "MiB such as 4MiB, found %s",
                  lo, hi, sl__show(s, n->len, &sh));
        return -1;
    }
    if (rc != 0 || v < min || v > max) {
        sl__error(c, n, rc == SL_EOVERFLOW ? SL_EOVERFLOW : SL_EINVAL, path,
                  "size %s is out of range: expected %s to %s", sl__show(s, n->len, &sh), lo, hi);
        return -1;
    }
    *out = (uint32_t)v;
    return 0;
}

/* ---- organizations ---- */

/* Reads a non-empty list of distinct role names into a mask. */
static int roles_parse(sl__ctx *c, const sl__ynode *n, const char *path, unsigned *out)
{
    char item[SL__PATH_MAX];
    unsigned mask = 0;
    int bad = 0, r;

    /* No length limit: more items than roles always holds a duplicate, reported below. */
    if (!sl__list_check(c, n, path, SIZE_MAX, 1))
        return -1;
    for (size_t i = 0; i < n->n; i++) {
        sl__path_index(item, path, i);
        if (sl__read_enum(c, &n->kids[i], item, "role", sl__role_names, sl__n_roles, &r) != 0) {
            bad = 1;
            continue;
        }
        if (mask & (1u << r)) {
            sl__error(c, &n->kids[i], SL_EINVAL, item, "role '%s' is listed twice",
                      sl__role_names[r]);
            bad = 1;
        }
        mask |= 1u << r;
    }
    if (bad || mask == 0)
        return -1;
    *out = mask;
    return 0;
}

/* Reads a root key: 64 hex digits encoding a usable Ed25519 public key. */
static int key_parse(sl__ctx *c, const sl__ynode *n, const char *path, uint8_t out[32])
{
    const char *s = sl__scalar(c, n, path, "a root key");
    uint8_t pk[32];
    sl__shown sh;

    if (!s)
        return -1;
    if (sl_unhex(s, n->len, pk, sizeof(pk)) != 0) {
        sl__error(c, n, SL_EINVAL, path,
                  "expected an Ed25519 public key of 64 hex digits, found %s (%zu characters)",
                  sl__show(s, n->len, &sh), n->len);
        return -1;
    }
    /* A key off the curve, of small order or not canonical can never verify a signature
     * (libsodium refuses such keys), so it would lock the organization out of its channel. */
    if (crypto_core_ed25519_is_valid_point(pk) != 1) {
        sl__error(c, n, SL_EINVAL, path,
                  "root key %s is not a valid Ed25519 public key (not a canonical point of the "
                  "main subgroup)",
                  sl__show(s, n->len, &sh));
        return -1;
    }
    memcpy(out, pk, sizeof(pk));
    return 0;
}

/* The index of the organization named name among the first n, or -1. */
static long org_index(const sl_channel_spec *s, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++) {
        if (s->orgs[i].name && strcmp(s->orgs[i].name, name) == 0)
            return (long)i;
    }
    return -1;
}

/* The organization before org i holding the same root key, or -1. */
static long key_index(const chan_build *b, size_t i)
{
    for (size_t k = 0; k < i; k++) {
        if (b->aux[k].key &&
            sodium_memcmp(b->spec->orgs[k].root_pk, b->spec->orgs[i].root_pk, 32) == 0)
            return (long)k;
    }
    return -1;
}

static void org_name_parse(chan_build *b, const sl__ynode *map, const char *path, size_t i)
{
    sl_channel_org *o = &b->spec->orgs[i];
    char other[SL__PATH_MAX];
    sl__field f;
    long dup;

    if (!sl__field_get(&b->ctx, map, path, "name", 1, &f) ||
        sl__read_name(&b->ctx, f.node, f.path, "an organization", &o->name) != 0)
        return;
    dup = org_index(b->spec, i, o->name);
    if (dup < 0) {
        b->aux[i].name = f.node;
        return;
    }
    sl__path_index(other, b->orgs_path, (size_t)dup);
    sl__error(&b->ctx, f.node, SL_EINVAL, f.path, "duplicate organization name '%s' (also %s)",
              o->name, other);
}

static void org_key_parse(chan_build *b, const sl__ynode *map, const char *path, size_t i)
{
    char other[SL__PATH_MAX];
    sl__field f;
    long dup;

    if (!sl__field_get(&b->ctx, map, path, "root_key", 1, &f) ||
        key_parse(&b->ctx, f.node, f.path, b->spec->orgs[i].root_pk) != 0)
        return;
    dup = key_index(b, i);
    if (dup < 0) {
        b->aux[i].key = f.node;
        return;
    }
    sl__path_index(other, b->orgs_path, (size_t)dup);
    sl__error(&b->ctx, f.node, SL_EINVAL, f.path,
              "root key is already the key of %s (organization '%s'); every organization needs "
              "its own key",
              other, b->spec->orgs[dup].name ? b->spec->orgs[dup].name : "?");
}

static void org_parse(chan_build *b, const sl__ynode *n, const char *path, size_t i)
{
    sl__field f;

    if (!sl__map_check(&b->ctx, n, path, org_keys))
        return;
    org_name_parse(b, n, path, i);
    if (sl__field_get(&b->ctx, n, path, "roles", 1, &f))
        b->aux[i].roles_ok = roles_parse(&b->ctx, f.node, f.path, &b->spec->orgs[i].roles) == 0;
    org_key_parse(b, n, path, i);
}

/* Someone must order blocks: checked once every organization's roles are known. */
static void node_role_check(chan_build *b)
{
    for (size_t i = 0; i < b->spec->n_orgs; i++) {
        if (b->spec->orgs[i].roles & SL_ROLE_NODE)
            return;
    }
    sl__error(&b->ctx, b->orgs, SL_EINVAL, b->orgs_path,
              "no organization has the node role; at least one must run a node to order blocks");
}

static void orgs_parse(chan_build *b, const sl__ynode *n)
{
    char item[SL__PATH_MAX];
    size_t count;

    if (!sl__list_check(&b->ctx, n, b->orgs_path, SL_MAX_ORGS, 1))
        return;
    b->orgs = n;
    count = n->n < SL_MAX_ORGS ? n->n : SL_MAX_ORGS;
    b->spec->orgs = calloc(count ? count : 1, sizeof(*b->spec->orgs));
    b->aux = calloc(count ? count : 1, sizeof(*b->aux));
    if (!b->spec->orgs || !b->aux) {
        sl__nomem(&b->ctx);
        return;
    }
    b->spec->n_orgs = count;
    b->names_ok = b->roles_ok = count > 0 && n->n <= SL_MAX_ORGS;
    for (size_t i = 0; i < count; i++) {
        sl__path_index(item, b->orgs_path, i);
        org_parse(b, &n->kids[i], item, i);
        b->names_ok &= b->aux[i].name != NULL;
        b->roles_ok &= b->aux[i].roles_ok;
    }
    /* With a role unread, the node it might have named must not be reported missing. */
    if (b->roles_ok)
        node_role_check(b);
}

/* Lists the organizations' names into buf, for "... lists: a, b, c". */
static void org_names(const sl_channel_spec *s, char *buf, size_t cap)
{
    size_t at = 0;

    buf[0] = '\0';
    for (size_t i = 0; i < s->n_orgs; i++)
        sl__join(buf, cap, &at, s->orgs[i].name);
}

/* Writes the names of a role mask ("consumer, node") into buf. */
static void role_list(unsigned roles, char *buf, size_t cap)
{
    size_t at = 0;

    buf[0] = '\0';
    for (size_t i = 0; i < sl__n_roles; i++) {
        if (roles & (1u << i))
            sl__join(buf, cap, &at, sl__role_names[i]);
    }
}

/* spec.issuer: after the organizations, which it must name. Judged as far as they parsed: an
 * unknown name only when every name parsed, a missing role only when the issuer's roles did. */
static void issuer_parse(chan_build *b, const sl__ynode *spec, const char *path)
{
    sl_channel_spec *s = b->spec;
    char *name = NULL, list[160];
    sl__field f;
    long i;

    if (!sl__field_get(&b->ctx, spec, path, "issuer", 1, &f) ||
        sl__read_name(&b->ctx, f.node, f.path, "an organization", &name) != 0)
        goto out;
    i = org_index(s, s->n_orgs, name);
    if (i < 0 && b->names_ok) {
        org_names(s, list, sizeof(list));
        sl__error(&b->ctx, f.node, SL_EINVAL, f.path, "unknown organization '%s'; %s lists: %s",
                  name, b->orgs_path, list);
        goto out;
    }
    if (i < 0 || !b->aux[i].roles_ok)
        goto out;
    if (!(s->orgs[i].roles & SL_ROLE_ISSUER)) {
        role_list(s->orgs[i].roles, list, sizeof(list));
        sl__error(&b->ctx, f.node, SL_EINVAL, f.path,
                  "organization '%s' cannot be the issuer: it lacks the issuer role (its roles: "
                  "%s)",
                  name, list);
        goto out;
    }
    s->issuer = (uint32_t)i;
out:
    free(name);
}

/* ---- ordering ---- */

static void ordering_defaults(sl_channel_spec *s)
{
    s->order = SL_ORDER_SOLO;
    s->max_block_txs = DEFAULT_MAX_BLOCK_TXS;
    s->max_block_bytes = DEFAULT_MAX_BLOCK_BYTES;
    s->block_timeout_ms = DEFAULT_BLOCK_TIMEOUT;
    s->max_tx_bytes = DEFAULT_MAX_TX_BYTES;
}

static void block_timeout_parse(chan_build *b, const sl__ynode *n, const char *path)
{
    char max[32];
    int64_t v;
    sl__shown sh;

    if (sl__read_duration(&b->ctx, n, path, 0, &v) != 0)
        return;
    if (v > SL_CHANNEL_MAX_TIMEOUT_MS) {
        sl_duration_format(SL_CHANNEL_MAX_TIMEOUT_MS, max, sizeof(max));
        sl__error(&b->ctx, n, SL_EINVAL, path,
                  "block_timeout %s is out of range: expected 1ms to %s",
                  sl__show(n->text, n->len, &sh), max);
        return;
    }
    b->spec->block_timeout_ms = v;
}

/* max_block_bytes and max_tx_bytes, each checked alone. */
static void sizes_parse(chan_build *b, const sl__ynode *n, const char *path)
{
    sl_channel_spec *s = b->spec;
    sl__field f;

    b->sizes_ok = 1;
    if (sl__field_get(&b->ctx, n, path, "max_block_bytes", 0, &f)) {
        b->sizes_ok = read_size(&b->ctx, f.node, f.path, SL_CHANNEL_MIN_BYTES,
                                SL_CHANNEL_MAX_BLOCK_BYTES, &s->max_block_bytes) == 0;
        b->block_bytes = b->sizes_ok ? f.node : NULL;
    }
    if (sl__field_get(&b->ctx, n, path, "max_tx_bytes", 0, &f)) {
        int ok = read_size(&b->ctx, f.node, f.path, SL_CHANNEL_MIN_BYTES, SL_CHANNEL_MAX_TX_BYTES,
                           &s->max_tx_bytes) == 0;
        b->tx_bytes = ok ? f.node : NULL;
        b->sizes_ok &= ok;
    }
}

/* A transaction must fit in a block; the message names whichever side was written. */
static void sizes_check(chan_build *b)
{
    const sl_channel_spec *s = b->spec;
    char tx[32], block[32], field[SL__PATH_MAX];
    const sl__ynode *at = b->tx_bytes ? b->tx_bytes : b->block_bytes;

    if (!b->sizes_ok || s->max_tx_bytes <= s->max_block_bytes)
        return;
    sl_size_format(s->max_tx_bytes, tx, sizeof(tx));
    sl_size_format(s->max_block_bytes, block, sizeof(block));
    sl__path_key(field, b->ordering_path, b->tx_bytes ? "max_tx_bytes" : "max_block_bytes");
    sl__error(&b->ctx, at, SL_EINVAL, field,
              "max_tx_bytes %s%s is larger than max_block_bytes %s%s: a transaction must fit in "
              "a block",
              tx, b->tx_bytes ? "" : " (the default)", block,
              b->block_bytes ? "" : " (the default)");
}

/* ordering.orderer: the node that orders a solo channel. Its organization must be a member with
 * the node role, judged as far as the organizations parsed (see issuer_parse). */
static void orderer_parse(chan_build *b, const sl__ynode *n, const char *path)
{
    sl_channel_spec *s = b->spec;
    char list[160];
    sl__field f;
    long i;

    if (!sl__map_check(&b->ctx, n, path, orderer_keys))
        return;
    if (sl__field_get(&b->ctx, n, path, "name", 1, &f))
        sl__read_name(&b->ctx, f.node, f.path, "a node", &s->orderer_name);
    if (!sl__field_get(&b->ctx, n, path, "org", 1, &f) ||
        sl__read_name(&b->ctx, f.node, f.path, "an organization", &s->orderer_org) != 0)
        return;
    i = org_index(s, s->n_orgs, s->orderer_org);
    if (i < 0 && b->names_ok) {
        org_names(s, list, sizeof(list));
        sl__error(&b->ctx, f.node, SL_EINVAL, f.path, "unknown organization '%s'; %s lists: %s",
                  s->orderer_org, b->orgs_path, list);
    } else if (i >= 0 && b->aux[i].roles_ok && !(s->orgs[i].roles & SL_ROLE_NODE)) {
        role_list(s->orgs[i].roles, list, sizeof(list));
        sl__error(&b->ctx, f.node, SL_EINVAL, f.path,
                  "organization '%s' cannot order the channel: it lacks the node role (its "
                  "roles: %s)",
                  s->orderer_org, list);
    }
}

static void ordering_parse(chan_build *b, const sl__ynode *n, const char *path)
{
    sl_channel_spec *s = b->spec;
    sl__field f;
    int64_t v;
    int k;

    if (!sl__map_check(&b->ctx, n, path, ordering_keys))
        return;
    if (sl__field_get(&b->ctx, n, path, "kind", 0, &f) &&
        sl__read_enum(&b->ctx, f.node, f.path, "ordering kind", sl__order_kind_names,
                      sl__n_order_kinds, &k) == 0)
        s->order = (sl_order_kind)k;
    if (sl__field_get(&b->ctx, n, path, "orderer", 0, &f)) {
        if (s->order == SL_ORDER_SOLO)
            orderer_parse(b, f.node, f.path);
        else
            sl__error(&b->ctx, f.node, SL_EINVAL, f.path,
                      "an %s channel is ordered by its %s cluster, not by one node: orderer is "
                      "for kind solo",
                      sl__order_kind_names[s->order], sl__order_kind_names[s->order]);
    }
    if (sl__field_get(&b->ctx, n, path, "max_block_txs", 0, &f) &&
        sl__read_int(&b->ctx, f.node, f.path, 1, SL_CHANNEL_MAX_BLOCK_TXS, &v) == 0)
        s->max_block_txs = (uint32_t)v;
    sizes_parse(b, n, path);
    if (sl__field_get(&b->ctx, n, path, "block_timeout", 0, &f))
        block_timeout_parse(b, f.node, f.path);
}

/* ---- the document ---- */

static void metadata_parse(chan_build *b, const sl__ynode *n, const char *path)
{
    sl__field f;

    if (!sl__map_check(&b->ctx, n, path, metadata_keys))
        return;
    if (sl__field_get(&b->ctx, n, path, "name", 1, &f))
        sl__read_name(&b->ctx, f.node, f.path, "a channel", &b->spec->name);
    if (sl__field_get(&b->ctx, n, path, "description", 0, &f))
        sl__read_text(&b->ctx, f.node, f.path, 0, &b->spec->description);
}

static void spec_parse(chan_build *b, const sl__ynode *n, const char *path)
{
    sl__field f;

    if (!sl__map_check(&b->ctx, n, path, spec_keys))
        return;
    sl__path_key(b->orgs_path, path, "organizations");
    sl__path_key(b->ordering_path, path, "ordering");
    if (sl__field_get(&b->ctx, n, path, "organizations", 1, &f))
        orgs_parse(b, f.node);
    issuer_parse(b, n, path);
    b->sizes_ok = 1;
    if (sl__field_get(&b->ctx, n, path, "ordering", 0, &f))
        ordering_parse(b, f.node, f.path);
    sizes_check(b);
}

static void metadata_cb(void *b, const sl__ynode *n, const char *path)
{
    metadata_parse(b, n, path);
}

static void spec_cb(void *b, const sl__ynode *n, const char *path)
{
    spec_parse(b, n, path);
}

static const sl__doc_kind channel_kind = {"Channel", metadata_cb, spec_cb};

int sl_channel_parse(const char *text, size_t len, const char *filename, sl_channel_spec **out,
                     sl_diags *diags)
{
    chan_build b = {.ctx = {.diags = diags}};
    int rc;

    (void)filename; /* diagnostics carry positions; the caller adds the file name */
    if ((rc = sl__doc_args(&b.ctx, text, len, out)))
        return rc;
    b.spec = calloc(1, sizeof(*b.spec));
    if (!b.spec) {
        sl__nomem(&b.ctx);
        return SL_ENOMEM;
    }
    ordering_defaults(b.spec);
    rc = sl__doc_parse(&b, text, len, &channel_kind);
    free(b.aux);
    if (rc != 0)
        sl_channel_spec_free(b.spec);
    else
        *out = b.spec;
    return rc;
}

int sl_channel_parse_file(const char *path, sl_channel_spec **out, sl_diags *diags)
{
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
        rc = sl_channel_parse((const char *)buf.p, buf.len, path, out, diags);
    sl_buf_release(&buf);
    return rc;
}

int sl_channel_org_find(const sl_channel_spec *c, const char *name)
{
    if (!c || !name)
        return -1;
    return (int)org_index(c, c->n_orgs, name);
}
