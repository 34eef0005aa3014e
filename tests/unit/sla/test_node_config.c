/*
 * test_node_config.c: the node's documents. Node configurations (kind: Node): a complete
 * document and its JSON twin give the same model, defaults fill what is left out, listening
 * addresses, a table of variants of one valid document each broken in one way (first
 * diagnostic's field, line, column, message and code), several problems in one pass, path
 * resolution by the loader (against the file's directory, never the parser). Secrets (kind:
 * Secrets): both credential kinds, an error table whose messages never quote a secret, and the
 * loader's refusal of files others may read. Tokens (kind: Tokens): known-answer hashes,
 * sl_tokens_check (the right entry, nothing for a near miss, the length bound), generated
 * tokens, an error table and the loader's refusal of files others may write. Members are
 * organization and name: two organizations' bobs are two members, a token names one of them
 * (sl_node_config_check_tokens), a user has one role, a node runs one oracle of a name. Expected
 * positions were worked out from the text of each variant, not from the parser.
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "helpers.h"

/* ---- shared ---- */

typedef struct err_case {
    const char *name;
    const char *from; /* replaced in the base document (must occur exactly once) ... */
    const char *to;   /* ... by this */
    const char *field;
    int line;
    int column;
    const char *msg; /* a substring of the first diagnostic's message */
    int code;
} err_case;

/* Parses text with one of the three parsers, frees the result, returns the code. */
typedef int (*parse_fn)(const char *text, sl_diags *d);

static int parse_node(const char *text, sl_diags *d)
{
    sl_node_config *c = NULL;
    int rc = sl_node_config_parse(text, strlen(text), "test.yaml", &c, d);

    assert_true((rc == 0) == (c != NULL));
    sl_node_config_free(c);
    return rc;
}

static int parse_secrets(const char *text, sl_diags *d)
{
    sl_secrets *s = NULL;
    int rc = sl_secrets_parse(text, strlen(text), "test.yaml", &s, d);

    assert_true((rc == 0) == (s != NULL));
    sl_secrets_free(s);
    return rc;
}

static int parse_tokens(const char *text, sl_diags *d)
{
    sl_tokens *t = NULL;
    int rc = sl_tokens_parse(text, strlen(text), "test.yaml", &t, d);

    assert_true((rc == 0) == (t != NULL));
    sl_tokens_free(t);
    return rc;
}

/* Each case's variant of base must be refused with the case's first diagnostic; returns the
 * diagnostics of all cases through check (may be NULL) before releasing them. */
static void run_cases(const char *base, const err_case *cases, size_t n, parse_fn parse,
                      void (*check)(const err_case *c, const sl_diags *d))
{
    for (size_t i = 0; i < n; i++) {
        const err_case *c = &cases[i];
        char *doc = th_replace(base, c->from, c->to);
        sl_diags d = {0};
        int rc;

        if (!doc)
            fail_msg("case '%s': its text does not occur exactly once", c->name);
        rc = parse(doc, &d);
        if (rc != c->code || d.n == 0 || strcmp(d.v[0].field, c->field) != 0 ||
            d.v[0].line != c->line || d.v[0].column != c->column || !strstr(d.v[0].msg, c->msg)) {
            fprintf(stderr, "case '%s' (rc %d):\n", c->name, rc);
            th_print_diags("test.yaml", &d);
        }
        assert_int_equal(rc, c->code);
        assert_true(d.n >= 1);
        assert_string_equal(d.v[0].field, c->field);
        assert_int_equal(d.v[0].line, c->line);
        assert_int_equal(d.v[0].column, c->column);
        assert_non_null(strstr(d.v[0].msg, c->msg));
        assert_int_equal(d.v[0].code, c->code);
        if (check)
            check(c, &d);
        sl_diags_release(&d);
        free(doc);
    }
}

/* A fresh temporary directory (the caller removes it). */
static void make_tmpdir(char *dir, size_t cap)
{
    snprintf(dir, cap, "/tmp/sl-node-config-XXXXXX");
    assert_non_null(mkdtemp(dir));
}

/* Writes text to path with mode (set explicitly, whatever the umask). */
static void write_file(const char *path, const char *text, mode_t mode)
{
    FILE *f = fopen(path, "w");

    assert_non_null(f);
    assert_int_equal(fputs(text, f) >= 0, 1);
    assert_int_equal(fclose(f), 0);
    assert_int_equal(chmod(path, mode), 0);
}

/* ---- node configuration ---- */

static const char node_doc[] =
    "apiVersion: slaledger/v1\n"                                                       /* 1 */
    "kind: Node\n"                                                                     /* 2 */
    "metadata: {name: univie-node, description: test node}\n"                          /* 3 */
    "spec:\n"                                                                          /* 4 */
    "  organization: univie\n"                                                         /* 5 */
    "  data_dir: ./data\n"                                                             /* 6 */
    "  listen: 127.0.0.1:8640\n"                                                       /* 7 */
    "  identity: {key: keys/univie-node.key, cert: keys/univie-node.cert}\n"           /* 8 */
    "  users:\n"                                                                       /* 9 */
    "    - {name: alice, key: keys/alice.key, cert: keys/alice.cert}\n"                /* 10 */
    "    - {name: bob, org: aws, key: keys/bob.key, cert: keys/bob.cert}\n"            /* 11 */
    "  oracles:\n"                                                                     /* 12 */
    "    - {name: univie-mon, key: keys/univie-mon.key, cert: keys/univie-mon.cert}\n" /* 13 */
    "  channels:\n"                                                                    /* 14 */
    "    - {name: univie-aws, genesis: channels/univie-aws.block}\n"                   /* 15 */
    "    - name: univie-azure\n"                                                       /* 16 */
    "      genesis: channels/univie-azure.block\n"                                     /* 17 */
    "      ledger: /var/lib/slaledger/azure.db\n"                                      /* 18 */
    "  ordering: {etcd: {endpoints: [\"http://127.0.0.1:2379\"]}}\n"                   /* 19 */
    "  secrets: secrets.yaml\n"                                                        /* 20 */
    "  tokens: tokens.yaml\n"                                                          /* 21 */
    "  log: {format: json, level: debug}\n";                                           /* 22 */

/* The same configuration in JSON. */
static const char node_json[] =
    "{\"apiVersion\": \"slaledger/v1\", \"kind\": \"Node\",\n"
    " \"metadata\": {\"name\": \"univie-node\", \"description\": \"test node\"},\n"
    " \"spec\": {\"organization\": \"univie\", \"data_dir\": \"./data\",\n"
    "  \"listen\": \"127.0.0.1:8640\",\n"
    "  \"identity\": {\"key\": \"keys/univie-node.key\", \"cert\": \"keys/univie-node.cert\"},\n"
    "  \"users\": [{\"name\": \"alice\", \"key\": \"keys/alice.key\", \"cert\": "
    "\"keys/alice.cert\"},\n"
    "            {\"name\": \"bob\", \"org\": \"aws\", \"key\": \"keys/bob.key\", \"cert\": "
    "\"keys/bob.cert\"}],\n"
    "  \"oracles\": [{\"name\": \"univie-mon\", \"key\": \"keys/univie-mon.key\", \"cert\": "
    "\"keys/univie-mon.cert\"}],\n"
    "  \"channels\": [{\"name\": \"univie-aws\", \"genesis\": \"channels/univie-aws.block\"},\n"
    "               {\"name\": \"univie-azure\", \"genesis\": \"channels/univie-azure.block\",\n"
    "                \"ledger\": \"/var/lib/slaledger/azure.db\"}],\n"
    "  \"ordering\": {\"etcd\": {\"endpoints\": "
    "[\"http://127.0.0.1:2379\"]}},\n"
    "  \"secrets\": \"secrets.yaml\", \"tokens\": \"tokens.yaml\",\n"
    "  \"log\": {\"format\": \"json\", \"level\": \"debug\"}}}\n";

static sl_node_config *node_ok(const char *text)
{
    sl_node_config *c = NULL;
    sl_diags d = {0};
    int rc = sl_node_config_parse(text, strlen(text), "test.yaml", &c, &d);

    th_print_diags("test.yaml", &d);
    assert_int_equal(rc, 0);
    assert_int_equal(d.n, 0);
    assert_non_null(c);
    sl_diags_release(&d);
    return c;
}

static void check_member(const sl_node_member *m, const char *name, const char *org,
                         const char *key, const char *cert)
{
    if (name)
        assert_string_equal(m->name, name);
    else
        assert_null(m->name);
    if (org)
        assert_string_equal(m->org, org);
    else
        assert_null(m->org);
    assert_string_equal(m->key, key);
    assert_string_equal(m->cert, cert);
}

/* Everything node_doc says, with paths as written. */
static void check_node_doc(const sl_node_config *c)
{
    assert_string_equal(c->name, "univie-node");
    assert_string_equal(c->description, "test node");
    assert_string_equal(c->organization, "univie");
    assert_string_equal(c->data_dir, "./data");
    assert_string_equal(c->listen_host, "127.0.0.1");
    assert_int_equal(c->listen_port, 8640);
    check_member(&c->identity, NULL, NULL, "keys/univie-node.key", "keys/univie-node.cert");
    assert_int_equal(c->n_users, 2);
    check_member(&c->users[0], "alice", "univie", "keys/alice.key", "keys/alice.cert");
    check_member(&c->users[1], "bob", "aws", "keys/bob.key", "keys/bob.cert");
    assert_int_equal(c->n_oracles, 1);
    check_member(&c->oracles[0], "univie-mon", "univie", "keys/univie-mon.key",
                 "keys/univie-mon.cert");
    assert_int_equal(c->n_channels, 2);
    assert_string_equal(c->channels[0].name, "univie-aws");
    assert_string_equal(c->channels[0].genesis, "channels/univie-aws.block");
    assert_string_equal(c->channels[0].ledger, "./data/univie-aws.db"); /* the default */
    assert_string_equal(c->channels[1].name, "univie-azure");
    assert_string_equal(c->channels[1].genesis, "channels/univie-azure.block");
    assert_string_equal(c->channels[1].ledger, "/var/lib/slaledger/azure.db");
    assert_int_equal(c->n_etcd_endpoints, 1);
    assert_string_equal(c->etcd_endpoints[0], "http://127.0.0.1:2379");
    assert_string_equal(c->secrets, "secrets.yaml");
    assert_string_equal(c->tokens, "tokens.yaml");
    assert_int_equal(c->log_format, SL_NODE_LOG_JSON);
    assert_int_equal(c->log_level, SL_NODE_LOG_DEBUG);
}

static void test_node_valid(void **state)
{
    sl_node_config *c = node_ok(node_doc);

    (void)state;
    check_node_doc(c);
    sl_node_config_free(c);
}

static void test_node_json_same_model(void **state)
{
    sl_node_config *c = node_ok(node_json);

    (void)state;
    check_node_doc(c);
    sl_node_config_free(c);
}

static void test_node_defaults(void **state)
{
    const char *doc = "apiVersion: slaledger/v1\nkind: Node\nmetadata: {name: n1}\n"
                      "spec:\n  organization: lab\n  identity: {key: n.key, cert: n.cert}\n"
                      "  channels: [{name: c1, genesis: c1.block}]\n";
    sl_node_config *c = node_ok(doc);

    (void)state;
    assert_null(c->description);
    assert_string_equal(c->data_dir, "data");
    assert_string_equal(c->listen_host, "127.0.0.1");
    assert_int_equal(c->listen_port, 8640);
    assert_int_equal(c->n_users, 0);
    assert_null(c->users);
    assert_int_equal(c->n_oracles, 0);
    assert_string_equal(c->channels[0].ledger, "data/c1.db");
    assert_int_equal(c->n_etcd_endpoints, 0);
    assert_null(c->secrets);
    assert_null(c->tokens);
    assert_int_equal(c->log_format, SL_NODE_LOG_TEXT);
    assert_int_equal(c->log_level, SL_NODE_LOG_INFO);
    sl_node_config_free(c);
}

/* A variant of node_doc that must parse; returns it parsed. */
static sl_node_config *node_variant(const char *from, const char *to)
{
    char *doc = th_replace(node_doc, from, to);
    sl_node_config *c;

    assert_non_null(doc);
    c = node_ok(doc);
    free(doc);
    return c;
}

static void test_node_listen_forms(void **state)
{
    static const struct {
        const char *listen;
        const char *host;
        unsigned port;
    } ok[] = {
        {"localhost:0", "localhost", 0},          {"0.0.0.0:65535", "0.0.0.0", 65535},
        {"10.1.2.3:80", "10.1.2.3", 80},          {"255.255.255.255:1", "255.255.255.255", 1},
        {"'127.0.0.1:08640'", "127.0.0.1", 8640},
    };
    char to[64];

    (void)state;
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        snprintf(to, sizeof(to), "listen: %s", ok[i].listen);
        sl_node_config *c = node_variant("listen: 127.0.0.1:8640", to);
        assert_string_equal(c->listen_host, ok[i].host);
        assert_int_equal(c->listen_port, ok[i].port);
        sl_node_config_free(c);
    }
}

static void test_node_valid_variants(void **state)
{
    sl_node_config *c;

    (void)state;
    /* The same name in another organization is another member. */
    c = node_variant("{name: univie-mon,", "{name: alice, org: aws,");
    assert_string_equal(c->oracles[0].name, "alice");
    assert_string_equal(c->oracles[0].org, "aws");
    assert_ptr_equal(sl_node_config_member(c, "alice", "aws"), &c->oracles[0]);
    assert_ptr_equal(sl_node_config_member(c, "alice", "univie"), &c->users[0]);
    sl_node_config_free(c);
    /* A null optional field is absent. */
    c = node_variant("tokens: tokens.yaml", "tokens: ~");
    assert_null(c->tokens);
    sl_node_config_free(c);
    /* An empty ordering mapping takes the defaults. */
    c = node_variant("ordering: {etcd: {endpoints: [\"http://127.0.0.1:2379\"]}}", "ordering: {}");
    assert_int_equal(c->n_etcd_endpoints, 0);
    sl_node_config_free(c);
    /* Default ledgers follow data_dir, with one slash between. */
    c = node_variant("data_dir: ./data", "data_dir: /srv/sl/");
    assert_string_equal(c->channels[0].ledger, "/srv/sl/univie-aws.db");
    sl_node_config_free(c);
}

static void test_node_member_lookup(void **state)
{
    sl_node_config *c = node_ok(node_doc);

    (void)state;
    assert_ptr_equal(sl_node_config_member(c, "alice", "univie"), &c->users[0]);
    assert_ptr_equal(sl_node_config_member(c, "bob", "aws"), &c->users[1]);
    assert_ptr_equal(sl_node_config_member(c, "univie-mon", "univie"), &c->oracles[0]);
    assert_null(sl_node_config_member(c, "bob", "univie"));
    assert_null(sl_node_config_member(c, "carol", "azure"));
    assert_null(sl_node_config_member(c, NULL, "aws"));
    assert_null(sl_node_config_member(c, "bob", NULL));
    assert_null(sl_node_config_member(NULL, "bob", "aws"));
    sl_node_config_free(c);
}

/* Two organizations may each have a bob: they are two members, told apart by organization, and
 * each entry knows where it was written. */
static void test_node_same_name_two_orgs(void **state)
{
    static const char bob_aws[] = "    - {name: bob, org: aws, key: keys/bob.key, cert: "
                                  "keys/bob.cert}\n";
    char with_univie[256];
    sl_node_config *c;

    (void)state;
    snprintf(with_univie, sizeof(with_univie), "%s%s", bob_aws,
             "    - {name: bob, key: keys/bob-univie.key, cert: keys/bob-univie.cert}\n");
    c = node_variant(bob_aws, with_univie);
    assert_int_equal(c->n_users, 3);
    assert_ptr_equal(sl_node_config_member(c, "bob", "aws"), &c->users[1]);
    assert_ptr_equal(sl_node_config_member(c, "bob", "univie"), &c->users[2]);
    assert_int_equal(c->users[1].line, 11);
    assert_int_equal(c->users[2].line, 12);
    assert_int_equal(c->users[2].column, 7);
    assert_int_equal(c->oracles[0].line, 14);
    sl_node_config_free(c);
}

static const err_case node_cases[] = {
    {"kind Channel", "kind: Node", "kind: Channel", "kind", 2, 7,
     "expected kind Node, found Channel", SL_EINVAL},
    {"unknown kind", "kind: Node", "kind: Nodes", "kind", 2, 7,
     "unsupported kind 'Nodes'; expected Node", SL_EINVAL},
    {"unknown metadata field", "description: test node}", "description: test node, labels: {}}",
     "metadata.labels", 3, 55,
     "unknown field 'labels' in metadata; expected one of: name, description", SL_EINVAL},
    {"bad node name", "{name: univie-node,", "{name: Univie,", "metadata.name", 3, 18,
     "expected a node name ([a-z0-9] then [a-z0-9._-], at most 63 bytes), found 'Univie'",
     SL_EINVAL},
    {"unknown spec field", "  tokens: tokens.yaml\n", "  tokens: tokens.yaml\n  token: x\n",
     "spec.token", 22, 3,
     "unknown field 'token' in spec; expected one of: organization, data_dir, listen, identity, "
     "users, oracles, channels, ordering, secrets, tokens, log",
     SL_EINVAL},
    {"missing organization", "  organization: univie\n", "", "spec.organization", 5, 3,
     "missing required field 'organization' in spec", SL_EINVAL},
    {"bad organization", "organization: univie", "organization: UniVie", "spec.organization", 5, 17,
     "expected an organization name ([a-z0-9] then [a-z0-9._-], at most 63 bytes), found 'UniVie'",
     SL_EINVAL},
    {"listen without port", "listen: 127.0.0.1:8640", "listen: 127.0.0.1", "spec.listen", 7, 11,
     "expected HOST:PORT such as 127.0.0.1:8640, found '127.0.0.1'", SL_EINVAL},
    {"listen host name", "listen: 127.0.0.1:8640", "listen: example.com:80", "spec.listen", 7, 11,
     "host 'example.com' is not an IPv4 address or localhost; expected HOST:PORT such as "
     "127.0.0.1:8640",
     SL_EINVAL},
    {"listen octet 256", "listen: 127.0.0.1:8640", "listen: 256.0.0.1:80", "spec.listen", 7, 11,
     "host '256.0.0.1' is not an IPv4 address or localhost", SL_EINVAL},
    {"listen leading zero", "listen: 127.0.0.1:8640", "listen: 127.0.0.01:80", "spec.listen", 7, 11,
     "host '127.0.0.01' is not an IPv4 address", SL_EINVAL},
    {"listen three octets", "listen: 127.0.0.1:8640", "listen: 127.0.1:80", "spec.listen", 7, 11,
     "host '127.0.1' is not an IPv4 address", SL_EINVAL},
    {"listen IPv6", "listen: 127.0.0.1:8640", "listen: \"[::1]:8640\"", "spec.listen", 7, 11,
     "host '[::1]' is not an IPv4 address or localhost", SL_EINVAL},
    {"listen port too big", "listen: 127.0.0.1:8640", "listen: 127.0.0.1:65536", "spec.listen", 7,
     11, "port '65536' is not a number from 0 to 65535 (0: any free port)", SL_EINVAL},
    {"listen empty port", "listen: 127.0.0.1:8640", "listen: 'localhost:'", "spec.listen", 7, 11,
     "port '' is not a number from 0 to 65535", SL_EINVAL},
    {"listen not a scalar", "listen: 127.0.0.1:8640", "listen: {host: a}", "spec.listen", 7, 11,
     "expected a listening address, found a mapping", SL_EINVAL},
    {"identity missing cert", ", cert: keys/univie-node.cert}", "}", "spec.identity.cert", 8, 13,
     "missing required field 'cert' in spec.identity", SL_EINVAL},
    {"identity with a name", "cert: keys/univie-node.cert}",
     "cert: keys/univie-node.cert, name: n}", "spec.identity.name", 8, 70,
     "unknown field 'name' in spec.identity; expected one of: key, cert", SL_EINVAL},
    {"missing identity", "  identity: {key: keys/univie-node.key, cert: keys/univie-node.cert}\n",
     "", "spec.identity", 5, 3, "missing required field 'identity' in spec", SL_EINVAL},
    {"empty path", "key: keys/alice.key", "key: \"\"", "spec.users[0].key", 10, 26,
     "expected a file path (a non-empty line of at most 4095 bytes without control characters), "
     "found ''",
     SL_EINVAL},
    {"path with a tab", "key: keys/alice.key", "key: \"keys/\\talice.key\"", "spec.users[0].key",
     10, 26,
     "expected a file path (a non-empty line of at most 4095 bytes without control characters), "
     "found 'keys/?alice.key'",
     SL_EINVAL},
    {"bad user name", "{name: alice,", "{name: Alice,", "spec.users[0].name", 10, 14,
     "expected a member name ([a-z0-9] then [a-z0-9._-], at most 63 bytes), found 'Alice'",
     SL_EINVAL},
    {"bad user org", "org: aws,", "org: AWS,", "spec.users[1].org", 11, 24,
     "expected an organization name", SL_EINVAL},
    {"user missing key", "{name: alice, key: keys/alice.key, ", "{name: alice, ",
     "spec.users[0].key", 10, 7, "missing required field 'key' in spec.users[0]", SL_EINVAL},
    {"user not a mapping", "    - {name: alice, key: keys/alice.key, cert: keys/alice.cert}\n",
     "    - alice\n", "spec.users[0]", 10, 7, "expected a mapping, found 'alice'", SL_EINVAL},
    {"users not a list",
     "  users:\n    - {name: alice, key: keys/alice.key, cert: keys/alice.cert}\n    - {name: bob, "
     "org: aws, key: keys/bob.key, cert: keys/bob.cert}\n",
     "  users: alice\n", "spec.users", 9, 10, "expected a list, found 'alice'", SL_EINVAL},
    {"oracle repeats a user", "{name: univie-mon,", "{name: alice,", "spec.oracles[0].name", 13, 14,
     "duplicate member alice@univie (also spec.users[0]); a member's key is listed once",
     SL_EINVAL},
    {"oracle name of two organizations",
     "    - {name: univie-mon, key: keys/univie-mon.key, cert: keys/univie-mon.cert}\n",
     "    - {name: univie-mon, key: keys/univie-mon.key, cert: keys/univie-mon.cert}\n"
     "    - {name: univie-mon, org: aws, key: keys/m.key, cert: keys/m.cert}\n",
     "spec.oracles[1].name", 14, 14,
     "oracle name 'univie-mon' is also that of spec.oracles[0] of another organization; "
     "agreements name oracles by name alone",
     SL_EINVAL},
    {"user repeated with its org written", "{name: bob, org: aws,", "{name: alice, org: univie,",
     "spec.users[1].name", 11, 14, "duplicate member alice@univie (also spec.users[0])", SL_EINVAL},
    {"missing channels",
     "  channels:\n    - {name: univie-aws, genesis: channels/univie-aws.block}\n    - name: "
     "univie-azure\n      genesis: channels/univie-azure.block\n      ledger: "
     "/var/lib/slaledger/azure.db\n",
     "", "spec.channels", 5, 3, "missing required field 'channels' in spec", SL_EINVAL},
    {"no channels",
     "  channels:\n    - {name: univie-aws, genesis: channels/univie-aws.block}\n    - name: "
     "univie-azure\n      genesis: channels/univie-azure.block\n      ledger: "
     "/var/lib/slaledger/azure.db\n",
     "  channels: []\n", "spec.channels", 14, 13, "expected at least one item, found an empty list",
     SL_EINVAL},
    {"duplicate channel", "- name: univie-azure", "- name: univie-aws", "spec.channels[1].name", 16,
     13, "duplicate channel 'univie-aws' (also spec.channels[0])", SL_EINVAL},
    {"bad channel name", "- name: univie-azure", "- name: univie_Azure", "spec.channels[1].name",
     16, 13, "expected a channel name", SL_EINVAL},
    {"duplicate ledger", "ledger: /var/lib/slaledger/azure.db", "ledger: ./data/univie-aws.db",
     "spec.channels[1].ledger", 18, 15,
     "ledger './data/univie-aws.db' is also the ledger of spec.channels[0]; every channel needs "
     "its own database",
     SL_EINVAL},
    {"channel missing genesis", "{name: univie-aws, genesis: channels/univie-aws.block}",
     "{name: univie-aws}", "spec.channels[0].genesis", 15, 7,
     "missing required field 'genesis' in spec.channels[0]", SL_EINVAL},
    {"unknown channel field", "{name: univie-aws, genesis", "{name: univie-aws, db: x, genesis",
     "spec.channels[0].db", 15, 26,
     "unknown field 'db' in spec.channels[0]; expected one of: name, genesis, ledger", SL_EINVAL},
    /* A configuration written for an older slaledger learns why, not merely "unknown". */
    {"heartbeat removed", "{etcd:", "{heartbeat: 1s, etcd:", "spec.ordering.heartbeat", 19, 14,
     "field 'heartbeat' was removed: blocks are now cut when transactions wait or when the "
     "contract has something due (a report deadline, a window or period close), never on an "
     "idle timer; delete the field",
     SL_EINVAL},
    {"unknown ordering field", "{etcd:", "{kind: solo, etcd:", "spec.ordering.kind", 19, 14,
     "unknown field 'kind' in spec.ordering; expected one of: etcd", SL_EINVAL},
    {"etcd endpoint scheme", "\"http://127.0.0.1:2379\"", "\"ftp://127.0.0.1:2379\"",
     "spec.ordering.etcd.endpoints[0]", 19, 33,
     "expected an etcd endpoint URL such as http://127.0.0.1:2379 (http or https, at most 256 "
     "bytes), found 'ftp://127.0.0.1:2379'",
     SL_EINVAL},
    {"etcd endpoint with a space", "\"http://127.0.0.1:2379\"", "\"http://a b\"",
     "spec.ordering.etcd.endpoints[0]", 19, 33, "expected an etcd endpoint URL", SL_EINVAL},
    {"etcd without endpoints", "[\"http://127.0.0.1:2379\"]", "[]", "spec.ordering.etcd.endpoints",
     19, 32, "expected at least one item, found an empty list", SL_EINVAL},
    {"etcd missing endpoints", "{endpoints: [\"http://127.0.0.1:2379\"]}", "{}",
     "spec.ordering.etcd.endpoints", 19, 20,
     "missing required field 'endpoints' in spec.ordering.etcd", SL_EINVAL},
    {"secrets not a path", "secrets: secrets.yaml", "secrets: [a]", "spec.secrets", 20, 12,
     "expected a file path, found a list", SL_EINVAL},
    {"log format", "format: json", "format: xml", "spec.log.format", 22, 17,
     "unknown log format 'xml'; expected one of: text, json", SL_EINVAL},
    {"log level", "level: debug", "level: trace", "spec.log.level", 22, 30,
     "unknown log level 'trace'; expected one of: debug, info, warn, error", SL_EINVAL},
    {"unknown log field", "level: debug}", "level: debug, file: x}", "spec.log.file", 22, 37,
     "unknown field 'file' in spec.log; expected one of: format, level", SL_EINVAL},
};

static void test_node_error_table(void **state)
{
    (void)state;
    run_cases(node_doc, node_cases, sizeof(node_cases) / sizeof(node_cases[0]), parse_node, NULL);
}

static void test_node_several_errors(void **state)
{
    char *a = th_replace(node_doc, "listen: 127.0.0.1:8640", "listen: 127.0.0.1:99999");
    char *b = th_replace(a, "{name: alice,", "{name: Alice,");
    char *doc = th_replace(b, "level: debug", "level: loud");
    sl_diags d = {0};

    (void)state;
    assert_int_equal(parse_node(doc, &d), SL_EINVAL);
    th_print_diags("several", &d);
    assert_int_equal(d.n, 3);
    assert_string_equal(d.v[0].field, "spec.listen");
    assert_int_equal(d.v[0].line, 7);
    assert_string_equal(d.v[1].field, "spec.users[0].name");
    assert_int_equal(d.v[1].line, 10);
    assert_string_equal(d.v[2].field, "spec.log.level");
    assert_int_equal(d.v[2].line, 22);
    sl_diags_release(&d);
    free(a);
    free(b);
    free(doc);
}

/* The document's kinds refuse each other with one clear error. */
static void test_kinds_refuse_each_other(void **state)
{
    char *as_channel = th_replace(node_doc, "kind: Node", "kind: Channel");
    sl_channel_spec *ch = NULL;
    sl_diags d = {0};

    (void)state;
    assert_int_equal(sl_channel_parse(node_doc, strlen(node_doc), NULL, &ch, &d), SL_EINVAL);
    assert_null(ch);
    assert_int_equal(d.n, 1);
    assert_string_equal(d.v[0].msg, "expected kind Channel, found Node");
    sl_diags_release(&d);
    assert_int_equal(parse_node(as_channel, &d), SL_EINVAL);
    assert_int_equal(d.n, 1);
    assert_string_equal(d.v[0].msg, "expected kind Node, found Channel");
    sl_diags_release(&d);
    free(as_channel);
}

static void test_node_resolve(void **state)
{
    sl_node_config *c = node_variant("data_dir: ./data", "data_dir: ././/data");

    (void)state;
    assert_int_equal(sl_node_config_resolve(c, NULL), SL_EINVAL);
    assert_int_equal(sl_node_config_resolve(c, ""), SL_EINVAL);
    assert_int_equal(sl_node_config_resolve(NULL, "/base"), SL_EINVAL);
    assert_int_equal(sl_node_config_resolve(c, "/base"), 0);
    assert_string_equal(c->data_dir, "/base/data");
    assert_string_equal(c->identity.key, "/base/keys/univie-node.key");
    assert_string_equal(c->identity.cert, "/base/keys/univie-node.cert");
    assert_string_equal(c->users[1].key, "/base/keys/bob.key");
    assert_string_equal(c->oracles[0].cert, "/base/keys/univie-mon.cert");
    assert_string_equal(c->channels[0].genesis, "/base/channels/univie-aws.block");
    assert_string_equal(c->channels[0].ledger, "/base/data/univie-aws.db");
    assert_string_equal(c->channels[1].ledger, "/var/lib/slaledger/azure.db"); /* absolute */
    assert_string_equal(c->secrets, "/base/secrets.yaml");
    assert_string_equal(c->tokens, "/base/tokens.yaml");
    /* Resolving again changes nothing: every path is absolute now. */
    assert_int_equal(sl_node_config_resolve(c, "/other/"), 0);
    assert_string_equal(c->data_dir, "/base/data");
    sl_node_config_free(c);
    c = node_variant("data_dir: ./data", "data_dir: .");
    assert_int_equal(sl_node_config_resolve(c, "/base/"), 0);
    assert_string_equal(c->data_dir, "/base/");
    assert_string_equal(c->users[0].key, "/base/keys/alice.key");
    sl_node_config_free(c);
}

/* The loader resolves against the directory of the file, given absolute or relative. */
static void test_node_parse_file(void **state)
{
    char dir[64], sub[96], path[128], cwd[4096], want[4200];
    sl_node_config *c = NULL;
    sl_diags d = {0};

    (void)state;
    make_tmpdir(dir, sizeof(dir));
    snprintf(sub, sizeof(sub), "%s/conf", dir);
    assert_int_equal(mkdir(sub, 0700), 0);
    snprintf(path, sizeof(path), "%s/node.yaml", sub);
    write_file(path, node_doc, 0644);
    assert_int_equal(sl_node_config_parse_file(path, &c, &d), 0);
    snprintf(want, sizeof(want), "%s/keys/alice.key", sub);
    assert_string_equal(c->users[0].key, want);
    snprintf(want, sizeof(want), "%s/data/univie-aws.db", sub);
    assert_string_equal(c->channels[0].ledger, want);
    sl_node_config_free(c);
    /* A relative path: against the current directory. */
    assert_non_null(getcwd(cwd, sizeof(cwd)));
    assert_int_equal(chdir(dir), 0);
    assert_int_equal(sl_node_config_parse_file("./conf/node.yaml", &c, &d), 0);
    assert_int_equal(chdir(cwd), 0);
    assert_non_null(c);
    assert_string_equal(c->secrets + strlen(c->secrets) - strlen("/conf/secrets.yaml"),
                        "/conf/secrets.yaml");
    assert_true(c->secrets[0] == '/');
    assert_null(strstr(c->secrets, "/./"));
    sl_node_config_free(c);
    /* A missing file is one I/O diagnostic. */
    snprintf(path, sizeof(path), "%s/none.yaml", dir);
    assert_int_equal(sl_node_config_parse_file(path, &c, &d), SL_EIO);
    assert_null(c);
    assert_int_equal(d.n, 1);
    assert_int_equal(d.v[0].code, SL_EIO);
    sl_diags_release(&d);
    snprintf(path, sizeof(path), "%s/conf/node.yaml", dir);
    unlink(path);
    rmdir(sub);
    rmdir(dir);
}

/* ---- secrets ---- */

static const char secrets_doc[] = "apiVersion: slaledger/v1\n"                              /* 1 */
                                  "kind: Secrets\n"                                         /* 2 */
                                  "metadata: {name: node-secrets}\n"                        /* 3 */
                                  "spec:\n"                                                 /* 4 */
                                  "  credentials:\n"                                        /* 5 */
                                  "    - name: aws-main\n"                                  /* 6 */
                                  "      kind: aws\n"                                       /* 7 */
                                  "      access_key_id: AKIAEXAMPLE0000000001\n"            /* 8 */
                                  "      secret_access_key: s3cr3t/Value+with=signs\n"      /* 9 */
                                  "      session_token: tok3n\n"                            /* 10 */
                                  "      region: eu-central-1\n"                            /* 11 */
                                  "    - name: azure-main\n"                                /* 12 */
                                  "      kind: azure\n"                                     /* 13 */
                                  "      tenant_id: 11111111-2222-3333-4444-555555555555\n" /* 14 */
                                  "      client_id: 66666666-7777-8888-9999-000000000000\n" /* 15 */
                                  "      client_secret: \"azure~Secret.value\"\n";          /* 16 */

static const char secrets_json[] =
    "{\"apiVersion\": \"slaledger/v1\", \"kind\": \"Secrets\", \"metadata\": {\"name\": "
    "\"node-secrets\"},\n \"spec\": {\"credentials\": [\n"
    "  {\"name\": \"aws-main\", \"kind\": \"aws\", \"access_key_id\": \"AKIAEXAMPLE0000000001\",\n"
    "   \"secret_access_key\": \"s3cr3t/Value+with=signs\", \"session_token\": \"tok3n\",\n"
    "   \"region\": \"eu-central-1\"},\n"
    "  {\"name\": \"azure-main\", \"kind\": \"azure\",\n"
    "   \"tenant_id\": \"11111111-2222-3333-4444-555555555555\",\n"
    "   \"client_id\": \"66666666-7777-8888-9999-000000000000\",\n"
    "   \"client_secret\": \"azure~Secret.value\"}]}}\n";

static sl_secrets *secrets_ok(const char *text)
{
    sl_secrets *s = NULL;
    sl_diags d = {0};
    int rc = sl_secrets_parse(text, strlen(text), "test.yaml", &s, &d);

    th_print_diags("secrets", &d);
    assert_int_equal(rc, 0);
    assert_int_equal(d.n, 0);
    sl_diags_release(&d);
    return s;
}

static void check_secrets_doc(const sl_secrets *s)
{
    const sl_credential *aws = sl_secrets_find(s, "aws-main");
    const sl_credential *az = sl_secrets_find(s, "azure-main");

    assert_string_equal(s->name, "node-secrets");
    assert_null(s->description);
    assert_int_equal(s->n_credentials, 2);
    assert_ptr_equal(aws, &s->credentials[0]);
    assert_int_equal(aws->kind, SL_CREDENTIAL_AWS);
    assert_string_equal(aws->access_key_id, "AKIAEXAMPLE0000000001");
    assert_string_equal(aws->secret_access_key, "s3cr3t/Value+with=signs");
    assert_string_equal(aws->session_token, "tok3n");
    assert_string_equal(aws->region, "eu-central-1");
    assert_null(aws->tenant_id);
    assert_null(aws->client_secret);
    assert_ptr_equal(az, &s->credentials[1]);
    assert_int_equal(az->kind, SL_CREDENTIAL_AZURE);
    assert_string_equal(az->tenant_id, "11111111-2222-3333-4444-555555555555");
    assert_string_equal(az->client_id, "66666666-7777-8888-9999-000000000000");
    assert_string_equal(az->client_secret, "azure~Secret.value");
    assert_null(az->access_key_id);
    assert_null(az->region);
    assert_null(sl_secrets_find(s, "gcp-main"));
    assert_null(sl_secrets_find(s, NULL));
    assert_null(sl_secrets_find(NULL, "aws-main"));
}

static void test_secrets_valid(void **state)
{
    sl_secrets *s = secrets_ok(secrets_doc);
    char *no_token;

    (void)state;
    check_secrets_doc(s);
    sl_secrets_free(s);
    s = secrets_ok(secrets_json);
    check_secrets_doc(s);
    sl_secrets_free(s);
    /* session_token is optional; an empty list of credentials is a valid file. */
    no_token = th_replace(secrets_doc, "      session_token: tok3n\n", "");
    s = secrets_ok(no_token);
    assert_null(s->credentials[0].session_token);
    sl_secrets_free(s);
    free(no_token);
    s = secrets_ok("apiVersion: slaledger/v1\nkind: Secrets\nmetadata: {name: none}\n"
                   "spec: {credentials: []}\n");
    assert_int_equal(s->n_credentials, 0);
    sl_secrets_free(s);
    assert_string_equal(sl_credential_kind_name(SL_CREDENTIAL_AWS), "aws");
    assert_string_equal(sl_credential_kind_name(SL_CREDENTIAL_AZURE), "azure");
    assert_string_equal(sl_credential_kind_name((sl_credential_kind)7), "unknown");
}

/* Each oracle may have its own credential of a name, with its own endpoint. */
static void test_secrets_per_oracle(void **state)
{
    static const char doc[] =
        "apiVersion: slaledger/v1\nkind: Secrets\nmetadata: {name: s}\nspec:\n  credentials:\n"
        "    - {name: aws-main, kind: aws, access_key_id: A1, secret_access_key: k1,\n"
        "       region: eu-central-1, endpoint: \"http://127.0.0.1:9001\"}\n"
        "    - {name: aws-main, kind: aws, oracle: watchdog-mon, access_key_id: A2,\n"
        "       secret_access_key: k2, region: eu-central-1, endpoint: \"http://127.0.0.1:9002\"}\n"
        "    - {name: azure-main, kind: azure, tenant_id: t, client_id: c, client_secret: x,\n"
        "       endpoint: \"http://127.0.0.1:9003\", login_endpoint: \"http://127.0.0.1:9003\"}\n";
    sl_secrets *s = secrets_ok(doc);
    const sl_credential *c;

    (void)state;
    c = sl_secrets_find_for(s, "aws-main", "watchdog-mon");
    assert_string_equal(c->access_key_id, "A2");
    assert_string_equal(c->endpoint, "http://127.0.0.1:9002");
    assert_string_equal(sl_secrets_find_for(s, "aws-main", "univie-mon")->access_key_id, "A1");
    assert_string_equal(sl_secrets_find(s, "aws-main")->access_key_id, "A1");
    c = sl_secrets_find_for(s, "azure-main", "watchdog-mon");
    assert_string_equal(c->login_endpoint, "http://127.0.0.1:9003");
    assert_null(c->oracle);
    sl_secrets_free(s);

    /* The same name twice for the same oracle is still a duplicate; endpoints are URLs. */
    char *dup = th_replace(doc, "oracle: watchdog-mon, ", "");
    sl_diags d = {0};
    assert_int_equal(sl_secrets_parse(dup, strlen(dup), "s.yaml", &s, &d), SL_EINVAL);
    assert_non_null(strstr(d.v[0].msg, "duplicate credential 'aws-main'"));
    sl_diags_release(&d);
    free(dup);
    char *bad = th_replace(doc, "\"http://127.0.0.1:9001\"", "ftp://x");
    assert_int_equal(sl_secrets_parse(bad, strlen(bad), "s.yaml", &s, &d), SL_EINVAL);
    assert_string_equal(d.v[0].field, "spec.credentials[0].endpoint");
    sl_diags_release(&d);
    free(bad);
}

static const err_case secrets_cases[] = {
    {"secret with a space", "secret_access_key: s3cr3t/Value+with=signs",
     "secret_access_key: s3cr3t value", "spec.credentials[0].secret_access_key", 9, 26,
     "expected 1 to 4096 printable ASCII characters without spaces (the value is not shown)",
     SL_EINVAL},
    {"empty secret", "client_secret: \"azure~Secret.value\"", "client_secret: \"\"",
     "spec.credentials[1].client_secret", 16, 22,
     "expected 1 to 4096 printable ASCII characters without spaces (the value is not shown)",
     SL_EINVAL},
    {"secret not a string", "client_secret: \"azure~Secret.value\"",
     "client_secret: [azure~Secret.value]", "spec.credentials[1].client_secret", 16, 22,
     "expected a credential string, found a list", SL_EINVAL},
    {"missing region", "      region: eu-central-1\n", "", "spec.credentials[0].region", 6, 7,
     "missing required field 'region' in spec.credentials[0]", SL_EINVAL},
    {"bad region", "region: eu-central-1", "region: EU_Central", "spec.credentials[0].region", 11,
     15, "expected an AWS region name", SL_EINVAL},
    {"missing secret key", "      secret_access_key: s3cr3t/Value+with=signs\n", "",
     "spec.credentials[0].secret_access_key", 6, 7,
     "missing required field 'secret_access_key' in spec.credentials[0]", SL_EINVAL},
    {"azure field in aws", "      region: eu-central-1\n",
     "      region: eu-central-1\n      client_secret: x\n", "spec.credentials[0].client_secret",
     12, 7,
     "unknown field 'client_secret' in spec.credentials[0]; expected one of: name, kind, "
     "access_key_id, secret_access_key, session_token, region",
     SL_EINVAL},
    {"aws field in azure", "      tenant_id:", "      region: eu-west-1\n      tenant_id:",
     "spec.credentials[1].region", 14, 7,
     "unknown field 'region' in spec.credentials[1]; expected one of: name, kind, tenant_id, "
     "client_id, client_secret",
     SL_EINVAL},
    {"unknown kind", "kind: azure", "kind: gcp", "spec.credentials[1].kind", 13, 13,
     "unknown credential kind 'gcp'; expected one of: aws, azure", SL_EINVAL},
    {"missing kind", "      kind: azure\n", "", "spec.credentials[1].kind", 12, 7,
     "missing required field 'kind' in spec.credentials[1]", SL_EINVAL},
    {"duplicate credential", "name: azure-main", "name: aws-main", "spec.credentials[1].name", 12,
     13, "duplicate credential 'aws-main' (also spec.credentials[0])", SL_EINVAL},
    {"bad credential name", "name: azure-main", "name: Azure", "spec.credentials[1].name", 12, 13,
     "expected a credential name", SL_EINVAL},
    {"credential not a mapping",
     "    - name: azure-main\n      kind: azure\n      tenant_id: "
     "11111111-2222-3333-4444-555555555555\n      client_id: "
     "66666666-7777-8888-9999-000000000000\n      client_secret: \"azure~Secret.value\"\n",
     "    - azure-main\n", "spec.credentials[1]", 12, 7, "expected a mapping, found 'azure-main'",
     SL_EINVAL},
    {"unknown spec field", "  credentials:\n", "  vault: x\n  credentials:\n", "spec.vault", 5, 3,
     "unknown field 'vault' in spec; expected one of: credentials", SL_EINVAL},
    {"kind Tokens", "kind: Secrets", "kind: Tokens", "kind", 2, 7,
     "expected kind Secrets, found Tokens", SL_EINVAL},
};

/* No diagnostic may quote a secret value of the document. */
static void no_secret_in(const err_case *c, const sl_diags *d)
{
    static const char *const values[] = {"s3cr3t",      "tok3n",         "azure~Secret",
                                         "AKIAEXAMPLE", "11111111-2222", "66666666-7777"};

    for (size_t i = 0; i < d->n; i++) {
        for (size_t k = 0; k < sizeof(values) / sizeof(values[0]); k++) {
            if (strstr(d->v[i].msg, values[k]))
                fail_msg("case '%s': a message quotes a secret: %s", c->name, d->v[i].msg);
        }
    }
}

static void test_secrets_error_table(void **state)
{
    (void)state;
    run_cases(secrets_doc, secrets_cases, sizeof(secrets_cases) / sizeof(secrets_cases[0]),
              parse_secrets, no_secret_in);
}

/* A credential string longer than SL_SECRET_MAX is refused, without quoting it. */
static void test_secrets_length(void **state)
{
    char *value = malloc(SL_SECRET_MAX + 2), *doc;
    sl_diags d = {0};

    (void)state;
    assert_non_null(value);
    memset(value, 'k', SL_SECRET_MAX);
    value[SL_SECRET_MAX] = '\0';
    doc = th_replace(secrets_doc, "tok3n", value);
    assert_int_equal(parse_secrets(doc, &d), 0);
    free(doc);
    value[SL_SECRET_MAX] = 'k';
    value[SL_SECRET_MAX + 1] = '\0';
    doc = th_replace(secrets_doc, "tok3n", value);
    assert_int_equal(parse_secrets(doc, &d), SL_EINVAL);
    assert_int_equal(d.n, 1);
    assert_string_equal(d.v[0].field, "spec.credentials[0].session_token");
    assert_null(strstr(d.v[0].msg, "kkkk")); /* the value is never quoted */
    sl_diags_release(&d);
    free(doc);
    free(value);
}

/* The loader refuses a file that group or others have any permission on. */
static void test_secrets_file_mode(void **state)
{
    char dir[64], path[128];
    sl_secrets *s = NULL;
    sl_diags d = {0};
    static const mode_t refused[] = {0640, 0604, 0660, 0601, 0644};

    (void)state;
    make_tmpdir(dir, sizeof(dir));
    snprintf(path, sizeof(path), "%s/secrets.yaml", dir);
    write_file(path, secrets_doc, 0600);
    assert_int_equal(sl_secrets_parse_file(path, &s, &d), 0);
    check_secrets_doc(s);
    sl_secrets_free(s);
    for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
        char mode[16];
        assert_int_equal(chmod(path, refused[i]), 0);
        assert_int_equal(sl_secrets_parse_file(path, &s, &d), SL_EPERM);
        assert_null(s);
        assert_int_equal(d.n, 1);
        assert_int_equal(d.v[0].code, SL_EPERM);
        snprintf(mode, sizeof(mode), "mode %04o", (unsigned)refused[i]);
        assert_non_null(strstr(d.v[0].msg, mode));
        assert_non_null(strstr(d.v[0].msg, "chmod 600"));
        sl_diags_release(&d);
    }
    /* A directory, and a missing file, are I/O errors. */
    assert_int_equal(sl_secrets_parse_file(dir, &s, &d), SL_EIO);
    sl_diags_release(&d);
    unlink(path);
    assert_int_equal(sl_secrets_parse_file(path, &s, &d), SL_EIO);
    assert_int_equal(d.n, 1);
    sl_diags_release(&d);
    rmdir(dir);
}

/* ---- tokens ---- */

/* Known answers: SHA-256 of "slt_test-alice", "slt_test-bob", "slt_test-dave" (dave's in
 * upper case, which is accepted). */
#define H_ALICE "08001b247773155dbff8d64d450a4800c9702adc184a1f21498e6c1ffab806c6"
#define H_BOB   "7318a90c106a4320fbdd45d691c0784c76b1650b0f38455934cbcffd3ab6a123"
#define H_DAVE  "51269FF3E88C77A567A4C30B61086507F0CAB2AF356D00AC5D9A8ECA506966E0"

static const char tokens_doc[] =
    "apiVersion: slaledger/v1\n"                                                  /* 1 */
    "kind: Tokens\n"                                                              /* 2 */
    "metadata: {name: node-tokens}\n"                                             /* 3 */
    "spec:\n"                                                                     /* 4 */
    "  tokens:\n"                                                                 /* 5 */
    "    - {user: alice, org: univie, role: consumer, sha256: \"" H_ALICE "\"}\n" /* 6 */
    "    - {user: bob, org: aws, role: provider, sha256: \"" H_BOB "\"}\n"        /* 7 */
    "    - {user: dave, org: watchdog, role: auditor, sha256: \"" H_DAVE "\"}\n"; /* 8 */

static sl_tokens *tokens_ok(const char *text)
{
    sl_tokens *t = NULL;
    sl_diags d = {0};
    int rc = sl_tokens_parse(text, strlen(text), "test.yaml", &t, &d);

    th_print_diags("tokens", &d);
    assert_int_equal(rc, 0);
    assert_int_equal(d.n, 0);
    sl_diags_release(&d);
    return t;
}

static void check_token(const sl_tokens *t, const char *token, const char *user, const char *org,
                        sl_role role)
{
    const sl_token *e = NULL;

    assert_int_equal(sl_tokens_check(t, token, &e), 0);
    assert_non_null(e);
    assert_string_equal(e->user, user);
    assert_string_equal(e->org, org);
    assert_int_equal(e->role, role);
    assert_int_equal(sl_tokens_check(t, token, NULL), 0);
}

static void check_refused(const sl_tokens *t, const char *token)
{
    const sl_token *e = &t->tokens[0];

    assert_int_equal(sl_tokens_check(t, token, &e), SL_EAUTH);
    assert_null(e);
}

static void test_tokens_valid_and_check(void **state)
{
    sl_tokens *t = tokens_ok(tokens_doc);
    uint8_t h[SL_HASH_LEN];

    (void)state;
    assert_string_equal(t->name, "node-tokens");
    assert_int_equal(t->n_tokens, 3);
    sl_sha256("slt_test-alice", 14, h);
    assert_memory_equal(t->tokens[0].sha256, h, SL_HASH_LEN);
    check_token(t, "slt_test-alice", "alice", "univie", SL_ROLE_CONSUMER);
    check_token(t, "slt_test-bob", "bob", "aws", SL_ROLE_PROVIDER);
    check_token(t, "slt_test-dave", "dave", "watchdog", SL_ROLE_AUDITOR);
    /* Near misses, other forms and no token at all authenticate nobody. */
    check_refused(t, "slt_test-alicf");
    check_refused(t, "slt_test-alice ");
    check_refused(t, "test-alice");
    check_refused(t, "SLT_TEST-ALICE");
    check_refused(t, H_ALICE);
    check_refused(t, "");
    check_refused(t, NULL);
    assert_int_equal(sl_tokens_check(NULL, "slt_test-alice", NULL), SL_EAUTH);
    sl_tokens_free(t);
    /* An empty list authenticates nobody. */
    t = tokens_ok("apiVersion: slaledger/v1\nkind: Tokens\nmetadata: {name: none}\n"
                  "spec: {tokens: []}\n");
    check_refused(t, "slt_test-alice");
    sl_tokens_free(t);
}

static const err_case tokens_cases[] = {
    {"bad role", "role: auditor", "role: admin", "spec.tokens[2].role", 8, 41,
     "unknown role 'admin'; expected one of: consumer, provider, oracle, auditor, issuer, node",
     SL_EINVAL},
    {"short hash", "7318a90c106a4320fbdd45d691c0784c76b1650b0f38455934cbcffd3ab6a123",
     "7318a90c106a4320fbdd45d691c0784c76b1650b0f38455934cbcffd3ab6a1", "spec.tokens[1].sha256", 7,
     53,
     "expected the token's SHA-256 as 64 hex digits, found "
     "'7318a90c106a4320fbdd45d691c0784c76b1650b...' (62 characters)",
     SL_EINVAL},
    {"duplicate hash", "7318a90c106a4320fbdd45d691c0784c76b1650b0f38455934cbcffd3ab6a123",
     "08001b247773155dbff8d64d450a4800c9702adc184a1f21498e6c1ffab806c6", "spec.tokens[1].sha256", 7,
     53, "the same hash as spec.tokens[0]: a token can speak for one user only", SL_EINVAL},
    {"a user with two roles", "{user: dave, org: watchdog, role: auditor,",
     "{user: bob, org: aws, role: auditor,", "spec.tokens[2].role", 8, 35,
     "bob of aws is a provider in spec.tokens[1]; a user has one role", SL_EINVAL},
    {"missing user", "{user: bob, ", "{", "spec.tokens[1].user", 7, 7,
     "missing required field 'user' in spec.tokens[1]", SL_EINVAL},
    {"bad org", "org: aws", "org: Aws", "spec.tokens[1].org", 7, 24,
     "expected an organization name", SL_EINVAL},
    {"unknown field", "{user: bob, ", "{user: bob, token: x, ", "spec.tokens[1].token", 7, 19,
     "unknown field 'token' in spec.tokens[1]; expected one of: user, org, role, sha256",
     SL_EINVAL},
    {"unknown spec field", "  tokens:\n", "  entries:\n", "spec.entries", 5, 3,
     "unknown field 'entries' in spec; expected one of: tokens", SL_EINVAL},
    {"kind Secrets", "kind: Tokens", "kind: Secrets", "kind", 2, 7,
     "expected kind Tokens, found Secrets", SL_EINVAL},
};

static void test_tokens_error_table(void **state)
{
    (void)state;
    run_cases(tokens_doc, tokens_cases, sizeof(tokens_cases) / sizeof(tokens_cases[0]),
              parse_tokens, NULL);
}

/* A user may have two tokens of one role (one replacing the other); each entry knows where it
 * was written. */
static void test_tokens_same_user(void **state)
{
    char *doc = th_replace(tokens_doc, "{user: dave, org: watchdog, role: auditor,",
                           "{user: bob, org: aws, role: provider,");
    sl_tokens *t;

    (void)state;
    assert_non_null(doc);
    t = tokens_ok(doc);
    check_token(t, "slt_test-bob", "bob", "aws", SL_ROLE_PROVIDER);
    check_token(t, "slt_test-dave", "bob", "aws", SL_ROLE_PROVIDER);
    assert_int_equal(t->tokens[1].line, 7);
    assert_int_equal(t->tokens[1].column, 7);
    assert_int_equal(t->tokens[2].line, 8);
    sl_tokens_free(t);
    free(doc);
}

/* The node's tokens against its members (node_doc: alice of univie and bob of aws, the oracle
 * univie-mon of univie): a token of bob of univie, or of univie-mon of aws, names a member the
 * node holds no key of, while it holds another organization's of that name. */
static void test_tokens_against_members(void **state)
{
    static const char doc[] =
        "apiVersion: slaledger/v1\nkind: Tokens\nmetadata: {name: t}\nspec:\n  tokens:\n"
        "    - {user: bob, org: aws, role: provider, sha256: \"" H_BOB "\"}\n"      /* 6 */
        "    - {user: carol, org: azure, role: provider, sha256: \"" H_DAVE "\"}\n" /* 7 */
        "    - {user: bob, org: univie, role: consumer, sha256: \"" H_ALICE "\"}\n" /* 8 */
        "    - {user: univie-mon, org: aws, role: oracle, sha256: \"%064d\"}\n";    /* 9 */
    char text[sizeof(doc) + 64];
    sl_node_config *c = node_ok(node_doc);
    sl_tokens *t;
    sl_diags d = {0};

    (void)state;
    snprintf(text, sizeof(text), doc, 0);
    t = tokens_ok(text);
    assert_int_equal(sl_node_config_check_tokens(c, t, &d), SL_EINVAL);
    assert_int_equal(d.n, 2);
    assert_string_equal(d.v[0].field, "spec.tokens[2].org");
    assert_int_equal(d.v[0].line, 8);
    assert_int_equal(d.v[0].column, 7);
    assert_non_null(
        strstr(d.v[0].msg, "the node holds no key of bob of univie, only of bob of aws"));
    assert_string_equal(d.v[1].field, "spec.tokens[3].org");
    assert_int_equal(d.v[1].line, 9);
    assert_non_null(
        strstr(d.v[1].msg, "no key of univie-mon of aws, only of univie-mon of univie"));
    sl_diags_release(&d);
    /* Without those two, every token is of a member or of nobody the node signs for. */
    t->n_tokens = 2;
    assert_int_equal(sl_node_config_check_tokens(c, t, &d), 0);
    assert_int_equal(d.n, 0);
    assert_int_equal(sl_node_config_check_tokens(NULL, t, &d), 0);
    assert_int_equal(sl_node_config_check_tokens(c, NULL, &d), 0);
    t->n_tokens = 4;
    sl_tokens_free(t);
    sl_node_config_free(c);
}

/* A tokens document of one entry: the SHA-256 of token. */
static char *one_token_doc(const char *token)
{
    uint8_t h[SL_HASH_LEN];
    char hex[2 * SL_HASH_LEN + 1], *doc = malloc(512);

    assert_non_null(doc);
    sl_sha256(token, strlen(token), h);
    sl_hex(h, SL_HASH_LEN, hex);
    snprintf(doc, 512,
             "apiVersion: slaledger/v1\nkind: Tokens\nmetadata: {name: one}\n"
             "spec:\n  tokens:\n    - {user: u, org: o, role: node, sha256: \"%s\"}\n",
             hex);
    return doc;
}

/* Presented tokens longer than SL_TOKEN_CHECK_MAX are refused even when their hash is listed. */
static void test_tokens_check_length(void **state)
{
    char *token = malloc(SL_TOKEN_CHECK_MAX + 2), *doc;
    sl_tokens *t;

    (void)state;
    assert_non_null(token);
    memset(token, 'a', SL_TOKEN_CHECK_MAX);
    token[SL_TOKEN_CHECK_MAX] = '\0';
    doc = one_token_doc(token);
    t = tokens_ok(doc);
    check_token(t, token, "u", "o", SL_ROLE_NODE);
    sl_tokens_free(t);
    free(doc);
    token[SL_TOKEN_CHECK_MAX] = 'a';
    token[SL_TOKEN_CHECK_MAX + 1] = '\0';
    doc = one_token_doc(token);
    t = tokens_ok(doc);
    check_refused(t, token);
    sl_tokens_free(t);
    free(doc);
    free(token);
}

static void test_token_generate(void **state)
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    char a[SL_TOKEN_LEN + 1], b[SL_TOKEN_LEN + 1], *doc;
    uint8_t ha[SL_HASH_LEN], hb[SL_HASH_LEN], want[SL_HASH_LEN], raw[SL_TOKEN_BYTES];
    size_t raw_len = 0;
    sl_tokens *t;

    (void)state;
    assert_int_equal(sl_token_generate(a, ha), 0);
    assert_int_equal(sl_token_generate(b, hb), 0);
    assert_int_equal(strlen(a), SL_TOKEN_LEN);
    assert_memory_equal(a, SL_TOKEN_PREFIX, 4);
    assert_int_equal(strspn(a + 4, alphabet), SL_TOKEN_LEN - 4);
    assert_string_not_equal(a, b);
    /* The text decodes back to exactly SL_TOKEN_BYTES bytes of unpadded base64url. */
    assert_int_equal(sodium_base642bin(raw, sizeof(raw), a + 4, SL_TOKEN_LEN - 4, NULL, &raw_len,
                                       NULL, sodium_base64_VARIANT_URLSAFE_NO_PADDING),
                     0);
    assert_int_equal(raw_len, SL_TOKEN_BYTES);
    sl_sha256(a, SL_TOKEN_LEN, want);
    assert_memory_equal(ha, want, SL_HASH_LEN);
    /* A document holding the hash authenticates the token, and only it. */
    doc = one_token_doc(a);
    t = tokens_ok(doc);
    check_token(t, a, "u", "o", SL_ROLE_NODE);
    check_refused(t, b);
    sl_tokens_free(t);
    free(doc);
}

/* The loader refuses a tokens file that group or others may write. */
static void test_tokens_file_mode(void **state)
{
    char dir[64], path[128];
    static const mode_t ok[] = {0600, 0644, 0400, 0444};
    static const mode_t refused[] = {0620, 0602, 0666};
    sl_tokens *t = NULL;
    sl_diags d = {0};

    (void)state;
    make_tmpdir(dir, sizeof(dir));
    snprintf(path, sizeof(path), "%s/tokens.yaml", dir);
    write_file(path, tokens_doc, 0600);
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        assert_int_equal(chmod(path, ok[i]), 0);
        assert_int_equal(sl_tokens_parse_file(path, &t, &d), 0);
        check_token(t, "slt_test-bob", "bob", "aws", SL_ROLE_PROVIDER);
        sl_tokens_free(t);
    }
    for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
        assert_int_equal(chmod(path, refused[i]), 0);
        assert_int_equal(sl_tokens_parse_file(path, &t, &d), SL_EPERM);
        assert_null(t);
        assert_int_equal(d.n, 1);
        assert_non_null(strstr(d.v[0].msg, "chmod go-w"));
        sl_diags_release(&d);
    }
    unlink(path);
    rmdir(dir);
}

/* At most SL_TOKENS_MAX entries; the last of a full file authenticates. */
static void test_tokens_max(void **state)
{
    sl_buf doc;
    uint8_t h[SL_HASH_LEN];
    char hex[2 * SL_HASH_LEN + 1], token[32];
    sl_diags d = {0};
    sl_tokens *t;

    (void)state;
    sl_buf_init(&doc);
    sl_buf_printf(&doc, "apiVersion: slaledger/v1\nkind: Tokens\nmetadata: {name: many}\n"
                        "spec:\n  tokens:\n");
    for (int i = 0; i < SL_TOKENS_MAX; i++) {
        snprintf(token, sizeof(token), "slt_%d", i);
        sl_sha256(token, strlen(token), h);
        sl_hex(h, SL_HASH_LEN, hex);
        sl_buf_printf(&doc, "    - {user: u%d, org: o, role: consumer, sha256: \"%s\"}\n", i, hex);
    }
    t = tokens_ok(sl_buf_cstr(&doc));
    check_token(t, "slt_9999", "u9999", "o", SL_ROLE_CONSUMER);
    check_token(t, "slt_0", "u0", "o", SL_ROLE_CONSUMER);
    sl_tokens_free(t);
    sl_buf_printf(&doc, "    - {user: extra, org: o, role: consumer, sha256: \"%064d\"}\n", 0);
    assert_int_equal(parse_tokens(sl_buf_cstr(&doc), &d), SL_EINVAL);
    assert_int_equal(d.n, 1);
    assert_string_equal(d.v[0].field, "spec.tokens");
    assert_non_null(strstr(d.v[0].msg, "too many items: 10001; at most 10000"));
    sl_diags_release(&d);
    sl_buf_release(&doc);
}

static void test_bad_arguments(void **state)
{
    sl_node_config *c = (sl_node_config *)1;
    sl_secrets *s = (sl_secrets *)1;
    sl_tokens *t = (sl_tokens *)1;
    sl_diags d = {0};

    (void)state;
    assert_int_equal(sl_node_config_parse(NULL, 5, NULL, &c, &d), SL_EINVAL);
    assert_null(c);
    assert_int_equal(sl_secrets_parse(NULL, 5, NULL, &s, &d), SL_EINVAL);
    assert_null(s);
    assert_int_equal(sl_tokens_parse(NULL, 5, NULL, &t, &d), SL_EINVAL);
    assert_null(t);
    assert_int_equal(sl_node_config_parse("x", 1, NULL, NULL, &d), SL_EINVAL);
    assert_int_equal(sl_node_config_parse_file(NULL, &c, &d), SL_EINVAL);
    assert_int_equal(sl_secrets_parse_file(NULL, &s, &d), SL_EINVAL);
    assert_int_equal(sl_tokens_parse_file(NULL, &t, &d), SL_EINVAL);
    /* Empty documents, and no diags list at all. */
    assert_int_equal(sl_node_config_parse("", 0, NULL, &c, NULL), SL_EINVAL);
    assert_int_equal(sl_secrets_parse("", 0, NULL, &s, NULL), SL_EINVAL);
    assert_int_equal(sl_tokens_parse("", 0, NULL, &t, NULL), SL_EINVAL);
    sl_diags_release(&d);
    sl_node_config_free(NULL);
    sl_secrets_free(NULL);
    sl_tokens_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_node_valid),
        cmocka_unit_test(test_node_json_same_model),
        cmocka_unit_test(test_node_defaults),
        cmocka_unit_test(test_node_listen_forms),
        cmocka_unit_test(test_node_valid_variants),
        cmocka_unit_test(test_node_member_lookup),
        cmocka_unit_test(test_node_same_name_two_orgs),
        cmocka_unit_test(test_node_error_table),
        cmocka_unit_test(test_node_several_errors),
        cmocka_unit_test(test_kinds_refuse_each_other),
        cmocka_unit_test(test_node_resolve),
        cmocka_unit_test(test_node_parse_file),
        cmocka_unit_test(test_secrets_valid),
        cmocka_unit_test(test_secrets_per_oracle),
        cmocka_unit_test(test_secrets_error_table),
        cmocka_unit_test(test_secrets_length),
        cmocka_unit_test(test_secrets_file_mode),
        cmocka_unit_test(test_tokens_valid_and_check),
        cmocka_unit_test(test_tokens_error_table),
        cmocka_unit_test(test_tokens_same_user),
        cmocka_unit_test(test_tokens_against_members),
        cmocka_unit_test(test_tokens_check_length),
        cmocka_unit_test(test_token_generate),
        cmocka_unit_test(test_tokens_file_mode),
        cmocka_unit_test(test_tokens_max),
        cmocka_unit_test(test_bad_arguments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
