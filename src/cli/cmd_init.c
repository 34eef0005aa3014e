/*
 * cmd_init.c: `slaledger init DIR`, a working one-machine network in seconds: the paper's
 * organizations (univie the consumer, aws and azure the providers, watchdog the independent
 * monitor, bank the token issuer) with fresh root keys; their members' keys and certificates
 * (a node per organization that runs one, a user each, the oracles); the channels univie-aws
 * and univie-azure as documents, genesis blocks signed by univie's node and created ledgers;
 * the configuration of univie's node serving both; a secrets file of placeholder cloud
 * credentials; API tokens for the users and univie-mon (hashes in tokens.yaml, the tokens shown
 * once and kept in tokens.txt); and a README.txt saying what is where.
 *
 * DIR must be new or empty, and nothing is ever overwritten: every file and directory is
 * created exclusively (directories 0700, secret keys, secrets and tokens 0600, the rest 0644
 * before the umask). Every document written is first parsed back with the library's own
 * parser, so init never leaves a file the node would refuse. On failure it stops at once and
 * says so; what was made stays in DIR, which is then no longer empty. Secret keys stay in the
 * library's guarded memory and tokens are wiped from memory before returning. The layout and
 * output are described in docs/cli.md. Not thread-safe (stdio).
 */
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>
#include <sodium.h>

#include "slaledger/ident.h"
#include "slaledger/ledger.h"
#include "slaledger/sla.h"
#include "slaledger/util.h"

#include "cli.h"

#define CMD       "init"
#define DIR_MAX   3000 /* bytes of DIR, so that every path below it fits PATH_CAP */
#define PATH_CAP  4096
#define HEX_PK    (2 * SL_PK_LEN + 1)
#define HEX_HASH  (2 * SL_HASH_LEN + 1)
#define CERT_DAYS 365
#define NODE_FILE "univie.yaml"

enum { ORG_UNIVIE, ORG_AWS, ORG_AZURE, ORG_WATCHDOG, ORG_BANK, N_ORGS };

static const struct org_def {
    const char *name;
    unsigned roles;
} orgs[N_ORGS] = {
    {"univie", SL_ROLE_CONSUMER | SL_ROLE_ORACLE | SL_ROLE_NODE},
    {"aws", SL_ROLE_PROVIDER | SL_ROLE_ORACLE | SL_ROLE_NODE},
    {"azure", SL_ROLE_PROVIDER | SL_ROLE_ORACLE | SL_ROLE_NODE},
    {"watchdog", SL_ROLE_ORACLE | SL_ROLE_AUDITOR},
    {"bank", SL_ROLE_ISSUER},
};

/* Members in groups: nodes, then users (who get API tokens), then oracles. */
enum {
    M_UNIVIE_NODE,
    M_AWS_NODE,
    M_AZURE_NODE,
    M_ALICE,
    M_BOB,
    M_CAROL,
    M_DAVE,
    M_TREASURY,
    M_UNIVIE_MON,
    M_AWS_MON,
    M_AZURE_MON,
    M_WATCHDOG_MON,
    N_MEMBERS
};
#define FIRST_USER   M_ALICE
#define FIRST_ORACLE M_UNIVIE_MON
/* Users get API tokens, and so does univie-mon: push agents authenticate as univie's oracle to
 * hand it observations to sign (POST .../observations). */
#define TOKENS_END (M_UNIVIE_MON + 1)

static const struct member_def {
    const char *subject;
    int org;
    sl_role role;
} members[N_MEMBERS] = {
    {"univie-node", ORG_UNIVIE, SL_ROLE_NODE},  {"aws-node", ORG_AWS, SL_ROLE_NODE},
    {"azure-node", ORG_AZURE, SL_ROLE_NODE},    {"alice", ORG_UNIVIE, SL_ROLE_CONSUMER},
    {"bob", ORG_AWS, SL_ROLE_PROVIDER},         {"carol", ORG_AZURE, SL_ROLE_PROVIDER},
    {"dave", ORG_WATCHDOG, SL_ROLE_AUDITOR},    {"treasury", ORG_BANK, SL_ROLE_ISSUER},
    {"univie-mon", ORG_UNIVIE, SL_ROLE_ORACLE}, {"aws-mon", ORG_AWS, SL_ROLE_ORACLE},
    {"azure-mon", ORG_AZURE, SL_ROLE_ORACLE},   {"watchdog-mon", ORG_WATCHDOG, SL_ROLE_ORACLE},
};

/* Each channel: univie and one provider, watched by watchdog, tokens from bank. */
enum { N_CHANNELS = 2 };
static const struct channel_def {
    const char *name;
    int provider;
} channels[N_CHANNELS] = {{"univie-aws", ORG_AWS}, {"univie-azure", ORG_AZURE}};

typedef struct init_state {
    char dir[DIR_MAX + 1]; /* DIR without trailing slashes */
    int started;           /* DIR was accepted: something may have been created in it */
    const char *listen;
    int64_t now_ms;
    sl_key *roots[N_ORGS];
    uint8_t root_pk[N_ORGS][SL_PK_LEN];
    sl_key *node_key; /* univie-node's: signs the genesis blocks */
    sl_cert certs[N_MEMBERS];
    char genesis[N_CHANNELS][HEX_HASH];
    char tokens[N_MEMBERS][SL_TOKEN_LEN + 1]; /* [FIRST_USER, TOKENS_END); wiped before return */
    uint8_t token_hash[N_MEMBERS][SL_HASH_LEN];
} init_state;

static void usage(FILE *out)
{
    fprintf(out,
            "usage: slaledger init DIR [--listen HOST:PORT] [--json]\n\n"
            "Creates a working one-machine network in DIR (new, or empty): root keys of the\n"
            "organizations univie, aws, azure, watchdog and bank; member keys and certificates;\n"
            "the channels univie-aws and univie-azure with their genesis blocks and ledgers;\n"
            "univie's node configuration univie.yaml; secrets.yaml with placeholder cloud\n"
            "credentials; API tokens for the users and for univie-mon, which push agents use\n"
            "(shown once, kept in DIR/tokens.txt); and\n"
            "README.txt. Nothing is ever overwritten. Start the node with\n"
            "  slaledger node --config DIR/univie.yaml\n\n"
            "options:\n"
            "  --listen HOST:PORT  the node's address (default " SL_NODE_DEFAULT_LISTEN ";\n"
            "                      port 0 picks a free port)\n"
            "  --json              print what was made as one JSON object\n"
            "  -h, --help          show this help\n\n"
            "exit status: 0 created, 1 a library check failed or out of memory, 2 usage error,\n"
            "             3 DIR is not empty or a file cannot be written\n");
}

/* ---- paths and errors ---- */

/* DIR/<formatted>, into buf[PATH_CAP]; DIR is at most DIR_MAX bytes, so it always fits. */
static __attribute__((format(printf, 3, 4))) const char *path_in(const init_state *s, char *buf,
                                                                 const char *fmt, ...)
{
    char rel[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(rel, sizeof(rel), fmt, ap);
    va_end(ap);
    sl_strfmt(buf, PATH_CAP, "%s/%s", s->dir, rel);
    return buf;
}

/* Reports a library error about what; returns the exit code (3 for I/O, else 1). */
static int lib_error(const char *what, int rc, const sl_error *err)
{
    sl__cli_error(CMD, what, err);
    return rc == SL_EIO || rc == SL_EEXIST || rc == SL_ENOENT ? SL_EXIT_IO : SL_EXIT_INVALID;
}

/* Writes a new file DIR/rel from a buffer; reports an out-of-memory buffer. */
static int write_buf(const init_state *s, const char *rel, sl_buf *b, unsigned mode)
{
    char path[PATH_CAP];

    path_in(s, path, "%s", rel);
    if (b->err) {
        fprintf(stderr, "slaledger %s: %s: out of memory\n", CMD, path);
        return SL_EXIT_INVALID;
    }
    return sl__cli_write_new(CMD, path, b->p, b->len, mode);
}

/* Writes "consumer, oracle, node" for a role mask into buf. */
static void role_list(unsigned roles, char *buf, size_t cap)
{
    size_t at = 0;

    buf[0] = '\0';
    for (unsigned i = 0; i < 8; i++) {
        const char *name = sl_role_name((sl_role)(1u << i));
        if (!(roles & (1u << i)) || !name || at >= cap)
            continue;
        int w = snprintf(buf + at, cap - at, "%s%s", at ? ", " : "", name);
        at = w < 0 ? cap : at + (size_t)w;
    }
}

/* ---- DIR ---- */

/* True when the directory at path has no entry but . and .. (errno set when it cannot be
 * read, 0 otherwise). */
static int dir_empty(const char *path)
{
    DIR *d = opendir(path);
    struct dirent *e;
    int empty = 1;

    if (!d)
        return 0;
    errno = 0;
    while (empty && (e = readdir(d)) != NULL)
        empty = strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0;
    closedir(d);
    if (!empty)
        errno = 0;
    return empty;
}

/* Creates DIR (0700) or accepts an empty one, then the subdirectories. */
static int prepare_dirs(init_state *s)
{
    static const char *const subdirs[] = {"keys", "keys/roots", "channels", "data"};
    char path[PATH_CAP];
    int rc;

    if (mkdir(s->dir, 0700) != 0) {
        if (errno != EEXIST) {
            fprintf(stderr, "slaledger %s: %s: cannot create directory: %s\n", CMD, s->dir,
                    strerror(errno));
            return SL_EXIT_IO;
        }
        if (!dir_empty(s->dir)) {
            fprintf(stderr,
                    "slaledger %s: %s: %s; init never overwrites anything: choose a new or "
                    "empty directory\n",
                    CMD, s->dir, errno ? strerror(errno) : "is not empty");
            return SL_EXIT_IO;
        }
    }
    s->started = 1;
    for (size_t i = 0; i < sizeof(subdirs) / sizeof(subdirs[0]); i++) {
        if ((rc = sl__cli_mkdir(CMD, path_in(s, path, "%s", subdirs[i]), 0700)) != 0)
            return rc;
    }
    return 0;
}

/* ---- keys and certificates ---- */

static int make_roots(init_state *s)
{
    char path[PATH_CAP];
    sl_error err = {0};
    int rc;

    for (int i = 0; i < N_ORGS; i++) {
        if (sl_key_generate(&s->roots[i]) != 0) {
            fprintf(stderr, "slaledger %s: cannot generate a key: out of memory\n", CMD);
            return SL_EXIT_INVALID;
        }
        path_in(s, path, "keys/roots/%s.key", orgs[i].name);
        if ((rc = sl_key_save(s->roots[i], path, &err)) != 0)
            return lib_error(path, rc, &err);
        sl_key_public(s->roots[i], s->root_pk[i]);
    }
    return 0;
}

/* The certificate of member m for key k, signed by its organization's root key. */
static void member_cert(init_state *s, int m, const sl_key *k)
{
    sl_cert *c = &s->certs[m];

    memset(c, 0, sizeof(*c));
    sl_strfmt(c->subject, sizeof(c->subject), "%s", members[m].subject);
    sl_strfmt(c->org, sizeof(c->org), "%s", orgs[members[m].org].name);
    c->role = members[m].role;
    sl_key_public(k, c->pk);
    /* Certificates count whole seconds; the genesis is stamped later than not_before. */
    c->not_before_ms = s->now_ms / 1000 * 1000;
    c->not_after_ms = c->not_before_ms + CERT_DAYS * SL_MS_PER_DAY;
    sl_cert_sign(c, s->roots[members[m].org]);
}

static int write_cert(const init_state *s, int m)
{
    char path[PATH_CAP];
    sl_buf text;
    int rc;

    sl_buf_init(&text);
    path_in(s, path, "keys/%s.cert", members[m].subject);
    if (sl_cert_write_json(&s->certs[m], &text) != 0) {
        fprintf(stderr, "slaledger %s: %s: cannot write the certificate\n", CMD, path);
        rc = SL_EXIT_INVALID;
    } else {
        rc = sl__cli_write_new(CMD, path, text.p, text.len, 0644);
    }
    sl_buf_release(&text);
    return rc;
}

static int make_member(init_state *s, int m)
{
    char path[PATH_CAP];
    sl_error err = {0};
    sl_key *k = NULL;
    int rc;

    if (sl_key_generate(&k) != 0) {
        fprintf(stderr, "slaledger %s: cannot generate a key: out of memory\n", CMD);
        return SL_EXIT_INVALID;
    }
    path_in(s, path, "keys/%s.key", members[m].subject);
    if ((rc = sl_key_save(k, path, &err)) != 0) {
        rc = lib_error(path, rc, &err);
        goto out;
    }
    member_cert(s, m, k);
    if ((rc = write_cert(s, m)) == 0 && m == M_UNIVIE_NODE) {
        s->node_key = k; /* kept to sign the genesis blocks */
        k = NULL;
    }
out:
    sl_key_free(k);
    return rc;
}

/* ---- channels ---- */

static void channel_doc(const init_state *s, int ch, sl_buf *out)
{
    const int members_of[] = {ORG_UNIVIE, channels[ch].provider, ORG_WATCHDOG, ORG_BANK};
    char roles[96], hex[HEX_PK];

    sl_buf_printf(out,
                  "# Channel document written by `slaledger init`: the content of the genesis\n"
                  "# block channels/%s.block. The root keys are this network's own.\n"
                  "apiVersion: slaledger/v1\nkind: Channel\nmetadata:\n  name: %s\n"
                  "  description: univie and %s, watched by the independent monitor watchdog; "
                  "tokens issued by bank\n"
                  "spec:\n  issuer: bank\n  organizations:\n",
                  channels[ch].name, channels[ch].name, orgs[channels[ch].provider].name);
    for (size_t i = 0; i < sizeof(members_of) / sizeof(members_of[0]); i++) {
        role_list(orgs[members_of[i]].roles, roles, sizeof(roles));
        sl_hex(s->root_pk[members_of[i]], SL_PK_LEN, hex);
        sl_buf_printf(out, "    - name: %s\n      roles: [%s]\n      root_key: \"%s\"\n",
                      orgs[members_of[i]].name, roles, hex);
    }
    sl_buf_printf(out, "  ordering:\n    kind: solo\n    max_block_txs: 500\n"
                       "    max_block_bytes: 4MiB\n    block_timeout: 5ms\n"
                       "    max_tx_bytes: 1MiB\n");
}

/* The hash of a genesis block's header, as hex, into out. */
static int genesis_hash(const sl_buf *block, char out[HEX_HASH], sl_error *err)
{
    uint8_t h[SL_HASH_LEN];
    sl_block *b = NULL;
    int rc = sl_block_decode(block->p, block->len, &b, err);

    if (rc == 0 && (rc = sl_block_hash(&b->header, h)) != 0)
        sl_error_set(err, rc, NULL, "out of memory");
    if (rc == 0)
        sl_hex(h, SL_HASH_LEN, out);
    sl_block_free(b);
    return rc;
}

/* The channel's document, its genesis block (signed by univie-node now) and its ledger. */
static int make_channel(init_state *s, int ch)
{
    const char *name = channels[ch].name;
    char rel[128], path[PATH_CAP];
    sl_error err = {0};
    sl_buf doc, block;
    int rc;

    sl_buf_init(&doc);
    sl_buf_init(&block);
    channel_doc(s, ch, &doc);
    sl_strfmt(rel, sizeof(rel), "channels/%s.yaml", name);
    if ((rc = write_buf(s, rel, &doc, 0644)) != 0)
        goto out;
    path_in(s, path, "%s", rel);
    if ((rc = sl_genesis_build((const char *)doc.p, doc.len, s->node_key, &s->certs[M_UNIVIE_NODE],
                               s->now_ms, &block, &err)) != 0 ||
        (rc = genesis_hash(&block, s->genesis[ch], &err)) != 0) {
        rc = lib_error(path, rc, &err);
        goto out;
    }
    sl_strfmt(rel, sizeof(rel), "channels/%s.block", name);
    if ((rc = write_buf(s, rel, &block, 0644)) != 0)
        goto out;
    path_in(s, path, "data/%s.db", name);
    if ((rc = sl_ledger_create(path, block.p, block.len, &err)) != 0)
        rc = lib_error(path, rc, &err);
out:
    sl_buf_release(&doc);
    sl_buf_release(&block);
    return rc;
}

/* ---- the node's documents ---- */

/* A member entry of the node configuration: org only when it is not univie. */
static void config_member(sl_buf *out, int m)
{
    const char *subject = members[m].subject;

    sl_buf_printf(out, "    - {name: %s, ", subject);
    if (members[m].org != ORG_UNIVIE)
        sl_buf_printf(out, "org: %s, ", orgs[members[m].org].name);
    sl_buf_printf(out, "key: keys/%s.key, cert: keys/%s.cert}\n", subject, subject);
}

static void node_config_doc(const init_state *s, sl_buf *out)
{
    sl_buf_printf(out,
                  "# Configuration of univie's node, written by `slaledger init`; the format is\n"
                  "# in docs/node-config.md. Relative paths are relative to this file's\n"
                  "# directory. Start the node with: slaledger node --config %s/" NODE_FILE "\n"
                  "apiVersion: slaledger/v1\nkind: Node\nmetadata:\n  name: univie-node\n"
                  "  description: univie's node, serving the channels univie-aws and "
                  "univie-azure\n"
                  "spec:\n  organization: univie\n  data_dir: data\n  listen: \"%s\"\n"
                  "  identity: {key: keys/univie-node.key, cert: keys/univie-node.cert}\n"
                  "  # On this one-machine network the node signs for every user and runs "
                  "every oracle.\n  users:\n",
                  s->dir, s->listen);
    for (int m = FIRST_USER; m < FIRST_ORACLE; m++)
        config_member(out, m);
    sl_buf_printf(out, "  oracles:\n");
    for (int m = FIRST_ORACLE; m < N_MEMBERS; m++)
        config_member(out, m);
    sl_buf_printf(out, "  channels:\n");
    for (int ch = 0; ch < N_CHANNELS; ch++)
        sl_buf_printf(out, "    - {name: %s, genesis: channels/%s.block, ledger: data/%s.db}\n",
                      channels[ch].name, channels[ch].name, channels[ch].name);
    sl_buf_printf(out, "  secrets: secrets.yaml\n  tokens: tokens.yaml\n"
                       "  log: {format: text, level: info}\n");
}

static void secrets_doc(sl_buf *out)
{
    sl_buf_printf(
        out,
        "# Cloud credentials of univie's node, written by `slaledger init`. Keep the mode 0600.\n"
        "# PLACEHOLDERS: these are not real credentials. They serve the local stand-ins of the\n"
        "# AWS and Azure APIs that the demo runs; replace them with real ones to watch real\n"
        "# resources. Agreements name a credential (source.credentials: aws-main), never its\n"
        "# value, so no secret reaches the ledger.\n"
        "apiVersion: slaledger/v1\nkind: Secrets\nmetadata:\n  name: univie-node-secrets\n"
        "  description: placeholder credentials for local stand-ins of the AWS and Azure APIs\n"
        "spec:\n  credentials:\n"
        "    - name: aws-main\n      kind: aws\n"
        "      access_key_id: AKIAPLACEHOLDER00000\n"
        "      secret_access_key: placeholder-for-local-stand-ins-only\n"
        "      region: eu-central-1\n"
        "    - name: azure-main\n      kind: azure\n"
        "      tenant_id: 00000000-0000-0000-0000-000000000000\n"
        "      client_id: 00000000-0000-0000-0000-000000000000\n"
        "      client_secret: placeholder-for-local-stand-ins-only\n");
}

static void tokens_doc(const init_state *s, sl_buf *out)
{
    char hex[HEX_HASH];

    sl_buf_printf(out,
                  "# API tokens of univie's node, written by `slaledger init`: SHA-256 hashes\n"
                  "# only. The tokens were shown once (and kept in tokens.txt until you delete\n"
                  "# it); a client sends one as \"Authorization: Bearer TOKEN\".\n"
                  "apiVersion: slaledger/v1\nkind: Tokens\nmetadata:\n  name: univie-node-tokens\n"
                  "spec:\n  tokens:\n");
    for (int m = FIRST_USER; m < TOKENS_END; m++) {
        sl_hex(s->token_hash[m], SL_HASH_LEN, hex);
        sl_buf_printf(out, "    - {user: %s, org: %s, role: %s, sha256: \"%s\"}\n",
                      members[m].subject, orgs[members[m].org].name, sl_role_name(members[m].role),
                      hex);
    }
}

static void tokens_txt(const init_state *s, sl_buf *out)
{
    sl_buf_printf(out,
                  "# slaledger API tokens made by `slaledger init`, shown once. A client sends "
                  "one as\n# \"Authorization: Bearer TOKEN\"; tokens.yaml holds only their "
                  "SHA-256. Keep them\n# somewhere safe and delete this file.\n"
                  "# USER ORG ROLE TOKEN\n");
    for (int m = FIRST_USER; m < TOKENS_END; m++)
        sl_buf_printf(out, "%s %s %s %s\n", members[m].subject, orgs[members[m].org].name,
                      sl_role_name(members[m].role), s->tokens[m]);
}

/* Parses a document init is about to write with the library's parser for its kind; a failure
 * is a bug in init, reported with the first diagnostic. */
static int self_check(const char *rel, const sl_buf *b, int kind)
{
    sl_diags d = {0};
    sl_node_config *cfg = NULL;
    sl_secrets *sec = NULL;
    sl_tokens *tok = NULL;
    const char *text = (const char *)b->p;
    int rc = b->err      ? SL_ENOMEM
             : kind == 0 ? sl_node_config_parse(text, b->len, rel, &cfg, &d)
             : kind == 1 ? sl_secrets_parse(text, b->len, rel, &sec, &d)
                         : sl_tokens_parse(text, b->len, rel, &tok, &d);

    if (rc != 0) {
        fprintf(stderr, "slaledger %s: %s: ", CMD, rel);
        if (d.n > 0)
            fprintf(stderr, "%d:%d: %s: %s\n", d.v[0].line, d.v[0].column, d.v[0].field,
                    d.v[0].msg);
        else
            fprintf(stderr, "%s\n", sl_strerror(rc));
    }
    sl_node_config_free(cfg);
    sl_secrets_free(sec);
    sl_tokens_free(tok);
    sl_diags_release(&d);
    return rc;
}

/* Checks --listen before anything is created, by parsing the configuration it goes into
 * (after refusing characters that could not be part of an address, which keeps it one YAML
 * scalar). */
static int check_listen(const init_state *s)
{
    sl_buf b;
    int rc;

    if (strspn(s->listen, "0123456789abcdefghijklmnopqrstuvwxyz.:") != strlen(s->listen)) {
        fprintf(stderr,
                "slaledger %s: --listen: '%s' is not HOST:PORT (an IPv4 address or localhost)\n",
                CMD, s->listen);
        return SL_EXIT_USAGE;
    }
    sl_buf_init(&b);
    node_config_doc(s, &b);
    rc = self_check("--listen", &b, 0);
    sl_buf_release(&b);
    return rc == 0 ? 0 : rc == SL_ENOMEM ? SL_EXIT_INVALID : SL_EXIT_USAGE;
}

/* Writes the text a doc function makes, after parsing it back (kind as self_check). */
static int write_doc(const init_state *s, const char *rel,
                     void (*make)(const init_state *, sl_buf *), int kind, unsigned mode)
{
    sl_buf b;
    int rc;

    sl_buf_init(&b);
    make(s, &b);
    rc =
        kind >= 0 && self_check(rel, &b, kind) != 0 ? SL_EXIT_INVALID : write_buf(s, rel, &b, mode);
    sl_buf_release(&b);
    return rc;
}

static void secrets_make(const init_state *s, sl_buf *out)
{
    (void)s;
    secrets_doc(out);
}

static int make_tokens(init_state *s)
{
    int rc;

    for (int m = FIRST_USER; m < TOKENS_END; m++) {
        if (sl_token_generate(s->tokens[m], s->token_hash[m]) != 0) {
            fprintf(stderr, "slaledger %s: cannot make a token: libsodium failed\n", CMD);
            return SL_EXIT_INVALID;
        }
    }
    if ((rc = write_doc(s, "tokens.yaml", tokens_doc, 2, 0600)) != 0)
        return rc;
    /* tokens.txt holds the tokens themselves: its buffer is reserved at once (so no copy is
     * left behind by growing it) and wiped, not just freed. */
    sl_buf b;
    sl_buf_init(&b);
    sl_buf_reserve(&b, 4096);
    tokens_txt(s, &b);
    rc = write_buf(s, "tokens.txt", &b, 0600);
    if (b.p)
        sodium_memzero(b.p, b.cap);
    sl_buf_release(&b);
    return rc;
}

/* ---- README.txt ---- */

static void readme_layout(const init_state *s, sl_buf *out)
{
    sl_buf_printf(
        out,
        "slaledger one-machine network, made by `slaledger init`.\n\n"
        "What is where\n"
        "  univie.yaml     configuration of univie's node (kind: Node; docs/node-config.md);\n"
        "                  relative paths in it are relative to this directory\n"
        "  channels/       the channel documents univie-aws.yaml and univie-azure.yaml and\n"
        "                  their genesis blocks (*.block), signed by univie-node\n"
        "  data/           the ledgers: univie-aws.db and univie-azure.db\n"
        "  keys/roots/     the organizations' root keys (mode 0600); they certify members. In\n"
        "                  a real network each organization keeps its own, offline.\n"
        "  keys/           members' secret keys (*.key, mode 0600) and certificates (*.cert):\n"
        "                    nodes    univie-node, aws-node, azure-node\n"
        "                    users    alice@univie (consumer), bob@aws (provider),\n"
        "                             carol@azure (provider), dave@watchdog (auditor),\n"
        "                             treasury@bank (issuer)\n"
        "                    oracles  univie-mon, aws-mon, azure-mon, watchdog-mon\n"
        "  secrets.yaml    cloud credentials (mode 0600). aws-main and azure-main are\n"
        "                  PLACEHOLDERS for local stand-ins of the AWS and Azure APIs; put real\n"
        "                  credentials here to watch real resources.\n"
        "  tokens.yaml     the API tokens (users, univie-mon), as SHA-256 hashes only\n"
        "  tokens.txt      the tokens themselves (mode 0600), shown once by init: keep them\n"
        "                  somewhere safe and delete this file\n\n"
        "Organizations (root public keys)\n");
    for (int i = 0; i < N_ORGS; i++) {
        char roles[96], hex[HEX_PK];
        role_list(orgs[i].roles, roles, sizeof(roles));
        sl_hex(s->root_pk[i], SL_PK_LEN, hex);
        sl_buf_printf(out, "  %-9s %s\n            roles: %s\n", orgs[i].name, hex, roles);
    }
}

static void readme_make(const init_state *s, sl_buf *out)
{
    readme_layout(s, out);
    sl_buf_printf(out,
                  "\nStart the node\n"
                  "  slaledger node --config %s/" NODE_FILE "\n"
                  "It serves both channels at %s. A client sends a token from tokens.txt as\n"
                  "\"Authorization: Bearer TOKEN\".\n\n"
                  "Check what init made\n"
                  "  slaledger channel validate %s/channels/*.yaml\n"
                  "  slaledger ledger verify %s/data/univie-aws.db\n"
                  "  slaledger cert verify %s/keys/alice.cert --org-public-key <univie's key>\n",
                  s->dir, s->listen, s->dir, s->dir, s->dir);
}

/* ---- output ---- */

static json_t *json_orgs(const init_state *s)
{
    json_t *a = json_array();
    char path[PATH_CAP], hex[HEX_PK];

    for (int i = 0; a && i < N_ORGS; i++) {
        json_t *roles = json_array();
        for (unsigned b = 0; roles && b < 8; b++) {
            if (orgs[i].roles & (1u << b))
                json_array_append_new(roles, json_string(sl_role_name((sl_role)(1u << b))));
        }
        sl_hex(s->root_pk[i], SL_PK_LEN, hex);
        json_array_append_new(
            a, json_pack("{s:s, s:o, s:s, s:o}", "name", orgs[i].name, "roles", roles, "root_key",
                         hex, "key_file",
                         sl__cli_jstr(path_in(s, path, "keys/roots/%s.key", orgs[i].name))));
    }
    return a;
}

static json_t *json_members(const init_state *s)
{
    json_t *a = json_array();
    char key[PATH_CAP], cert[PATH_CAP], hex[HEX_PK];

    for (int m = 0; a && m < N_MEMBERS; m++) {
        sl_hex(s->certs[m].pk, SL_PK_LEN, hex);
        path_in(s, key, "keys/%s.key", members[m].subject);
        path_in(s, cert, "keys/%s.cert", members[m].subject);
        json_array_append_new(a, json_pack("{s:s, s:s, s:s, s:s, s:o, s:o}", "subject",
                                           members[m].subject, "org", orgs[members[m].org].name,
                                           "role", sl_role_name(members[m].role), "public_key", hex,
                                           "key_file", sl__cli_jstr(key), "cert_file",
                                           sl__cli_jstr(cert)));
    }
    return a;
}

static json_t *json_channels(const init_state *s)
{
    json_t *a = json_array();
    char doc[PATH_CAP], block[PATH_CAP], db[PATH_CAP];

    for (int ch = 0; a && ch < N_CHANNELS; ch++) {
        const char *name = channels[ch].name;
        json_array_append_new(
            a,
            json_pack("{s:s, s:o, s:o, s:s, s:o}", "name", name, "document",
                      sl__cli_jstr(path_in(s, doc, "channels/%s.yaml", name)), "genesis",
                      sl__cli_jstr(path_in(s, block, "channels/%s.block", name)), "genesis_hash",
                      s->genesis[ch], "ledger", sl__cli_jstr(path_in(s, db, "data/%s.db", name))));
    }
    return a;
}

static json_t *json_tokens(const init_state *s)
{
    json_t *a = json_array();
    char yaml[PATH_CAP], txt[PATH_CAP];

    for (int m = FIRST_USER; a && m < TOKENS_END; m++)
        json_array_append_new(a, json_pack("{s:s, s:s, s:s, s:s}", "user", members[m].subject,
                                           "org", orgs[members[m].org].name, "role",
                                           sl_role_name(members[m].role), "token", s->tokens[m]));
    return json_pack("{s:o, s:o, s:o}", "file", sl__cli_jstr(path_in(s, yaml, "tokens.yaml")),
                     "plaintext_file", sl__cli_jstr(path_in(s, txt, "tokens.txt")), "tokens", a);
}

static int print_json(const init_state *s)
{
    char cfg[PATH_CAP], sec[PATH_CAP], readme[PATH_CAP], start[PATH_CAP + 64];

    sl_strfmt(start, sizeof(start), "slaledger node --config %s", path_in(s, cfg, NODE_FILE));
    return sl__cli_print_json(
        CMD,
        json_pack("{s:o, s:o, s:o, s:o, s:o, s:{s:o, s:[s, s]}, s:o, s:o, s:o}", "dir",
                  sl__cli_jstr(s->dir), "organizations", json_orgs(s), "members", json_members(s),
                  "channels", json_channels(s), "node_config", sl__cli_jstr(cfg), "secrets", "file",
                  sl__cli_jstr(path_in(s, sec, "secrets.yaml")), "credentials", "aws-main",
                  "azure-main", "tokens", json_tokens(s), "readme",
                  sl__cli_jstr(path_in(s, readme, "README.txt")), "start", sl__cli_jstr(start)));
}

static void print_text(const init_state *s)
{
    char roles[96];

    printf("%s: created a one-machine slaledger network\n  organizations:", s->dir);
    for (int i = 0; i < N_ORGS; i++) {
        role_list(orgs[i].roles, roles, sizeof(roles));
        printf("%s %s (%s)", i ? "," : "", orgs[i].name, roles);
    }
    printf("\n  members:       %d keys and certificates in %s/keys (root keys in keys/roots)\n",
           N_MEMBERS, s->dir);
    for (int ch = 0; ch < N_CHANNELS; ch++)
        printf("  channel:       %s, genesis %s, ledger %s/data/%s.db\n", channels[ch].name,
               s->genesis[ch], s->dir, channels[ch].name);
    printf("  node config:   %s/" NODE_FILE " (univie-node on %s)\n"
           "  secrets:       %s/secrets.yaml (placeholders: aws-main, azure-main)\n"
           "  tokens:        %s/tokens.yaml (hashes); the tokens, shown once and kept in "
           "%s/tokens.txt:\n",
           s->dir, s->listen, s->dir, s->dir, s->dir);
    for (int m = FIRST_USER; m < TOKENS_END; m++)
        printf("    %-15s %-9s %s\n", members[m].subject, sl_role_name(members[m].role),
               s->tokens[m]);
    printf("Start the node with: slaledger node --config %s/" NODE_FILE "\n"
           "%s/README.txt says what is where.\n",
           s->dir, s->dir);
}

/* ---- the command ---- */

/* Everything init makes, in order; stops at the first failure. */
static int build(init_state *s)
{
    int rc;

    if ((rc = prepare_dirs(s)) || (rc = make_roots(s)))
        return rc;
    for (int m = 0; m < N_MEMBERS; m++) {
        if ((rc = make_member(s, m)) != 0)
            return rc;
    }
    for (int ch = 0; ch < N_CHANNELS; ch++) {
        if ((rc = make_channel(s, ch)) != 0)
            return rc;
    }
    if ((rc = make_tokens(s)) || (rc = write_doc(s, "secrets.yaml", secrets_make, 1, 0600)) ||
        (rc = write_doc(s, NODE_FILE, node_config_doc, 0, 0644)))
        return rc;
    return write_doc(s, "README.txt", readme_make, -1, 0644);
}

/* Copies DIR without trailing slashes into s->dir. 0 or SL_EXIT_USAGE. */
static int set_dir(init_state *s, const char *dir)
{
    size_t n = strlen(dir);

    while (n > 1 && dir[n - 1] == '/')
        n--;
    if (n == 0 || n > DIR_MAX) {
        fprintf(stderr, "slaledger %s: DIR must be 1 to %d bytes long\n", CMD, DIR_MAX);
        return SL_EXIT_USAGE;
    }
    /* DIR is written into comments and messages of the files made: one line of text only. */
    for (size_t i = 0; i < n; i++) {
        if ((unsigned char)dir[i] < 0x20 || dir[i] == 0x7f) {
            fprintf(stderr, "slaledger %s: DIR must not contain control characters\n", CMD);
            return SL_EXIT_USAGE;
        }
    }
    sl_strfmt(s->dir, sizeof(s->dir), "%.*s", (int)n, dir);
    return 0;
}

static void state_release(init_state *s)
{
    for (int i = 0; i < N_ORGS; i++)
        sl_key_free(s->roots[i]);
    sl_key_free(s->node_key);
    sodium_memzero(s->tokens, sizeof(s->tokens));
}

int sl__cmd_init(int argc, char **argv)
{
    const char *listen = NULL;
    int json = 0, nargs, rc;
    const sl__opt opts[] = {{"--listen", &listen, NULL}, {"--json", NULL, &json}};
    const sl__cli_spec spec = {CMD, usage, opts, 2, 1, 1};
    init_state s;

    if ((rc = sl__cli_parse(&spec, argc, argv, &nargs)) >= 0)
        return rc;
    memset(&s, 0, sizeof(s));
    s.listen = listen ? listen : SL_NODE_DEFAULT_LISTEN;
    s.now_ms = sl__cli_now_ms();
    if ((rc = set_dir(&s, argv[1])) || (rc = check_listen(&s)))
        return rc;
    rc = build(&s);
    if (rc != 0 && s.started)
        fprintf(stderr, "slaledger %s: stopped; %s is incomplete: remove it and run init again\n",
                CMD, s.dir);
    else if (json)
        rc = print_json(&s);
    else
        print_text(&s);
    state_release(&s);
    return rc;
}
