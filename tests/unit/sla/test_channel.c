/*
 * test_channel.c: channel documents (kind: Channel), the content of a channel's genesis. The
 * paper's two example channels load with their demo root keys recomputed here from their
 * seeds; YAML and JSON give the same model; defaults and limits of the ordering settings;
 * roles and names; a table of variants of one valid document, each broken in one way, with the
 * first diagnostic's field, line, column, message and code; several problems in one pass; and
 * agreements and channels refusing each other's documents. Expected positions were worked out
 * from the text of each variant, not from the parser.
 */
#include <dirent.h>

#include <sodium.h>

#include "helpers.h"

/* Demo root keys: Ed25519 public keys of seed SHA-256("slaledger-demo/<org>"). */
#define K_UNIVIE   "5543a17949684c516086caeaf04c578a1f935e49bd3f477ad985d1ba93d18e65"
#define K_AWS      "5be57022d7c12b72cf56c09e743ec119daaac25321e4978454b2a887c859e96f"
#define K_WATCHDOG "5a7cf3ea05add18be186cf6058db50418fa8f290625b9bdd8ce39a040bde8949"
#define K_BANK     "d9e01adb3435b9e1b32e9446fe698a0cd63a7910a2c1fa54ad9ea84831a5cbc5"

/* The demo public key of org, computed the way the examples' comments say. */
static void demo_key(const char *org, uint8_t pk[32])
{
    char msg[96];
    uint8_t seed[32], sk[64];

    snprintf(msg, sizeof(msg), "slaledger-demo/%s", org);
    sl_sha256(msg, strlen(msg), seed);
    assert_int_equal(crypto_sign_seed_keypair(pk, sk, seed), 0);
    sodium_memzero(sk, sizeof(sk));
}

static sl_channel_spec *parse_ok(const char *text)
{
    sl_channel_spec *spec = NULL;
    sl_diags d = {0};
    int rc = sl_channel_parse(text, strlen(text), "test.yaml", &spec, &d);

    th_print_diags("test.yaml", &d);
    assert_int_equal(rc, 0);
    assert_int_equal(d.n, 0);
    assert_non_null(spec);
    sl_diags_release(&d);
    return spec;
}

static sl_channel_spec *parse_source_file(const char *rel)
{
    char *path = th_source_path(rel);
    sl_channel_spec *spec = NULL;
    sl_diags d = {0};
    int rc = sl_channel_parse_file(path, &spec, &d);

    th_print_diags(rel, &d);
    assert_int_equal(rc, 0);
    assert_int_equal(d.n, 0);
    assert_non_null(spec);
    sl_diags_release(&d);
    free(path);
    return spec;
}

static void check_org(const sl_channel_spec *s, size_t i, const char *name, unsigned roles)
{
    uint8_t pk[32];

    assert_true(i < s->n_orgs);
    assert_string_equal(s->orgs[i].name, name);
    assert_int_equal(s->orgs[i].roles, roles);
    demo_key(name, pk);
    assert_memory_equal(s->orgs[i].root_pk, pk, 32);
    assert_int_equal(sl_channel_org_find(s, name), (int)i);
}

/* The paper's channel between univie and provider (aws or azure). */
static void check_paper_channel(const char *rel, const char *provider)
{
    sl_channel_spec *s = parse_source_file(rel);
    char name[32];

    snprintf(name, sizeof(name), "univie-%s", provider);
    assert_string_equal(s->name, name);
    assert_non_null(s->description);
    assert_int_equal(s->n_orgs, 4);
    check_org(s, 0, "univie", SL_ROLE_CONSUMER | SL_ROLE_ORACLE | SL_ROLE_NODE);
    check_org(s, 1, provider, SL_ROLE_PROVIDER | SL_ROLE_ORACLE | SL_ROLE_NODE);
    check_org(s, 2, "watchdog", SL_ROLE_ORACLE);
    check_org(s, 3, "bank", SL_ROLE_ISSUER);
    assert_int_equal(s->issuer, 3);
    assert_int_equal(s->order, SL_ORDER_SOLO);
    assert_int_equal(s->max_block_txs, 500);
    assert_int_equal(s->max_block_bytes, 4 << 20);
    assert_int_equal(s->block_timeout_ms, 5);
    assert_int_equal(s->max_tx_bytes, 1 << 20);
    sl_channel_spec_free(s);
}

static void test_examples(void **state)
{
    (void)state;
    check_paper_channel("examples/channel-univie-aws.yaml", "aws");
    check_paper_channel("examples/channel-univie-azure.yaml", "azure");
}

/* Every examples/channel-* file is a valid channel, whatever is added later. */
static void test_every_channel_example(void **state)
{
    char *dir = th_source_path("examples");
    DIR *d = opendir(dir);
    struct dirent *e;
    char rel[300];
    int n = 0;

    (void)state;
    assert_non_null(d);
    while ((e = readdir(d)) != NULL) {
        if (strncmp(e->d_name, "channel-", 8) != 0)
            continue;
        snprintf(rel, sizeof(rel), "examples/%s", e->d_name);
        sl_channel_spec_free(parse_source_file(rel));
        n++;
    }
    closedir(d);
    free(dir);
    assert_true(n >= 2);
}

/* The demo keys written in this file are the ones the seeds give. */
static void test_demo_keys(void **state)
{
    static const struct {
        const char *org, *hex;
    } keys[] = {{"univie", K_UNIVIE}, {"aws", K_AWS}, {"watchdog", K_WATCHDOG}, {"bank", K_BANK}};
    uint8_t pk[32], want[32];

    (void)state;
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        demo_key(keys[i].org, pk);
        assert_int_equal(sl_unhex(keys[i].hex, 64, want, 32), 0);
        assert_memory_equal(pk, want, 32);
    }
}

/* examples/channel-univie-aws.yaml in JSON. */
static const char *aws_json =
    "{\"apiVersion\": \"slaledger/v1\", \"kind\": \"Channel\",\n"
    " \"metadata\": {\"name\": \"univie-aws\",\n"
    "   \"description\": \"University of Vienna and Amazon Web Services, watched by an "
    "independent monitor\"},\n"
    " \"spec\": {\"issuer\": \"bank\",\n"
    "  \"organizations\": [\n"
    "   {\"name\": \"univie\", \"roles\": [\"consumer\", \"oracle\", \"node\"], \"root_key\": "
    "\"" K_UNIVIE "\"},\n"
    "   {\"name\": \"aws\", \"roles\": [\"provider\", \"oracle\", \"node\"], \"root_key\": \"" K_AWS
    "\"},\n"
    "   {\"name\": \"watchdog\", \"roles\": [\"oracle\"], \"root_key\": \"" K_WATCHDOG "\"},\n"
    "   {\"name\": \"bank\", \"roles\": [\"issuer\"], \"root_key\": \"" K_BANK "\"}],\n"
    "  \"ordering\": {\"kind\": \"solo\", \"orderer\": {\"org\": \"univie\", \"name\": "
    "\"univie-node\"},\n"
    "   \"max_block_txs\": 500, \"max_block_bytes\": 4194304,\n"
    "   \"block_timeout\": \"5ms\", \"max_tx_bytes\": \"1024KiB\"}}}\n";

static void assert_channels_same(const sl_channel_spec *a, const sl_channel_spec *b)
{
    assert_string_equal(a->name, b->name);
    assert_string_equal(a->description, b->description);
    assert_int_equal(a->n_orgs, b->n_orgs);
    for (size_t i = 0; i < a->n_orgs; i++) {
        assert_string_equal(a->orgs[i].name, b->orgs[i].name);
        assert_int_equal(a->orgs[i].roles, b->orgs[i].roles);
        assert_memory_equal(a->orgs[i].root_pk, b->orgs[i].root_pk, 32);
    }
    assert_int_equal(a->issuer, b->issuer);
    assert_int_equal(a->order, b->order);
    assert_string_equal(a->orderer_org, b->orderer_org);
    assert_string_equal(a->orderer_name, b->orderer_name);
    assert_int_equal(a->max_block_txs, b->max_block_txs);
    assert_int_equal(a->max_block_bytes, b->max_block_bytes);
    assert_int_equal(a->block_timeout_ms, b->block_timeout_ms);
    assert_int_equal(a->max_tx_bytes, b->max_tx_bytes);
}

static void test_json_same_model(void **state)
{
    sl_channel_spec *y = parse_source_file("examples/channel-univie-aws.yaml");
    sl_channel_spec *j = parse_ok(aws_json);

    (void)state;
    assert_channels_same(y, j);
    sl_channel_spec_free(y);
    sl_channel_spec_free(j);
}

/* One organization that does everything; %s: the ordering block (may be empty). */
static const char *solo_fmt = "apiVersion: slaledger/v1\n"
                              "kind: Channel\n"
                              "metadata: {name: lab}\n"
                              "spec:\n"
                              "  issuer: lab\n"
                              "  organizations:\n"
                              "    - name: lab\n"
                              "      roles: [node, issuer, consumer, provider, oracle, auditor]\n"
                              "      root_key: " K_BANK "\n"
                              "%s";

static sl_channel_spec *solo_ok(const char *ordering)
{
    char text[2048];

    snprintf(text, sizeof(text), solo_fmt, ordering);
    return parse_ok(text);
}

static void test_defaults(void **state)
{
    sl_channel_spec *s = solo_ok("");

    (void)state;
    assert_string_equal(s->name, "lab");
    assert_null(s->description);
    assert_int_equal(s->n_orgs, 1);
    assert_int_equal(s->orgs[0].roles, SL_ROLE_ALL);
    assert_int_equal(s->issuer, 0);
    assert_int_equal(s->order, SL_ORDER_SOLO);
    assert_int_equal(s->max_block_txs, 500);
    assert_int_equal(s->max_block_bytes, 4194304);
    assert_int_equal(s->block_timeout_ms, 5);
    assert_int_equal(s->max_tx_bytes, 1048576);
    assert_null(s->orderer_org); /* the genesis signer's, once a ledger opens it */
    assert_null(s->orderer_name);
    sl_channel_spec_free(s);
    s = solo_ok("  ordering: {orderer: {org: lab, name: lab-node}}\n");
    assert_string_equal(s->orderer_org, "lab");
    assert_string_equal(s->orderer_name, "lab-node");
    sl_channel_spec_free(s);
    /* An empty ordering mapping, or a partial one, keeps the other defaults. */
    s = solo_ok("  ordering: {}\n");
    assert_int_equal(s->max_block_txs, 500);
    sl_channel_spec_free(s);
    s = solo_ok("  ordering: {kind: etcd}\n");
    assert_int_equal(s->order, SL_ORDER_ETCD);
    assert_int_equal(s->max_block_bytes, 4194304);
    assert_int_equal(s->max_tx_bytes, 1048576);
    sl_channel_spec_free(s);
}

/* Every limit's boundaries are accepted; sizes in bytes, KiB and MiB. */
static void test_limits(void **state)
{
    sl_channel_spec *s;

    (void)state;
    s = solo_ok("  ordering: {max_block_txs: 1, max_block_bytes: 1KiB, block_timeout: 1ms, "
                "max_tx_bytes: 1024}\n");
    assert_int_equal(s->max_block_txs, 1);
    assert_int_equal(s->max_block_bytes, 1024);
    assert_int_equal(s->block_timeout_ms, 1);
    assert_int_equal(s->max_tx_bytes, 1024);
    sl_channel_spec_free(s);
    s = solo_ok("  ordering: {max_block_txs: 100000, max_block_bytes: 64MiB, block_timeout: 10s, "
                "max_tx_bytes: 16384KiB}\n");
    assert_int_equal(s->max_block_txs, 100000);
    assert_int_equal(s->max_block_bytes, 64u << 20);
    assert_int_equal(s->block_timeout_ms, 10000);
    assert_int_equal(s->max_tx_bytes, 16u << 20);
    sl_channel_spec_free(s);
    /* A transaction may be as large as a block; odd byte counts are kept exactly. */
    s = solo_ok("  ordering: {max_block_bytes: \"1500000\", max_tx_bytes: 1500000, "
                "block_timeout: 1s500ms}\n");
    assert_int_equal(s->max_block_bytes, 1500000);
    assert_int_equal(s->max_tx_bytes, 1500000);
    assert_int_equal(s->block_timeout_ms, 1500);
    sl_channel_spec_free(s);
}

static void test_size_format(void **state)
{
    char buf[24];

    (void)state;
    assert_int_equal(sl_size_format(4 << 20, buf, sizeof(buf)), 4);
    assert_string_equal(buf, "4MiB");
    assert_int_equal(sl_size_format(1536 * 1024, buf, sizeof(buf)), 7);
    assert_string_equal(buf, "1536KiB");
    assert_int_equal(sl_size_format(1500000, buf, sizeof(buf)), 7);
    assert_string_equal(buf, "1500000");
    assert_int_equal(sl_size_format(0, buf, sizeof(buf)), 1);
    assert_string_equal(buf, "0");
    assert_int_equal(sl_size_format(4 << 20, buf, 4), SL_EINVAL);
}

static void test_roles(void **state)
{
    static const char *const names[] = {"consumer", "provider", "oracle",
                                        "auditor",  "issuer",   "node"};
    sl_role r = SL_ROLE_NODE;

    (void)state;
    for (unsigned i = 0; i < 6; i++) {
        assert_string_equal(sl_role_name((sl_role)(1u << i)), names[i]);
        assert_int_equal(sl_role_parse(names[i], &r), 0);
        assert_int_equal(r, 1u << i);
    }
    assert_int_equal(SL_ROLE_ALL, (1u << 6) - 1);
    assert_null(sl_role_name((sl_role)0));
    assert_null(sl_role_name((sl_role)(SL_ROLE_NODE | SL_ROLE_ISSUER)));
    assert_null(sl_role_name((sl_role)(1u << 6)));
    r = SL_ROLE_NODE;
    assert_int_equal(sl_role_parse("Node", &r), SL_EINVAL);
    assert_int_equal(sl_role_parse("", &r), SL_EINVAL);
    assert_int_equal(sl_role_parse(NULL, &r), SL_EINVAL);
    assert_int_equal(r, SL_ROLE_NODE);
    assert_string_equal(sl_order_kind_name(SL_ORDER_SOLO), "solo");
    assert_string_equal(sl_order_kind_name(SL_ORDER_ETCD), "etcd");
}

static void test_org_find(void **state)
{
    sl_channel_spec *s = parse_source_file("examples/channel-univie-azure.yaml");

    (void)state;
    assert_int_equal(sl_channel_org_find(s, "azure"), 1);
    assert_int_equal(sl_channel_org_find(s, "bank"), 3);
    assert_int_equal(sl_channel_org_find(s, "aws"), -1);
    assert_int_equal(sl_channel_org_find(s, ""), -1);
    assert_int_equal(sl_channel_org_find(s, NULL), -1);
    assert_int_equal(sl_channel_org_find(NULL, "bank"), -1);
    sl_channel_spec_free(s);
}

/* ---- refused documents ---- */

/* Lines are numbered for reading the table's positions. */
static const char *base_doc =
    "apiVersion: slaledger/v1\n"                                               /* 1 */
    "kind: Channel\n"                                                          /* 2 */
    "metadata: {name: univie-aws, description: test channel}\n"                /* 3 */
    "spec:\n"                                                                  /* 4 */
    "  issuer: bank\n"                                                         /* 5 */
    "  organizations:\n"                                                       /* 6 */
    "    - name: univie\n"                                                     /* 7 */
    "      roles: [consumer, node]\n"                                          /* 8 */
    "      root_key: \"" K_UNIVIE "\"\n"                                       /* 9 */
    "    - name: aws\n"                                                        /* 10 */
    "      roles: [provider, node]\n"                                          /* 11 */
    "      root_key: \"" K_AWS "\"\n"                                          /* 12 */
    "    - {name: watchdog, roles: [oracle], root_key: \"" K_WATCHDOG "\"}\n"  /* 13 */
    "    - {name: bank, roles: [issuer, auditor], root_key: \"" K_BANK "\"}\n" /* 14 */
    "  ordering:\n"                                                            /* 15 */
    "    kind: solo\n"                                                         /* 16 */
    "    max_block_txs: 500\n"                                                 /* 17 */
    "    max_block_bytes: 4MiB\n"                                              /* 18 */
    "    block_timeout: 5ms\n"                                                 /* 19 */
    "    max_tx_bytes: 1MiB\n";                                                /* 20 */

typedef struct err_case {
    const char *name;
    const char *from; /* replaced in base_doc (must occur exactly once) ... */
    const char *to;   /* ... by this */
    const char *field;
    int line;
    int column;
    const char *msg; /* a substring of the first diagnostic's message */
    int code;
    const char *from2; /* an optional second edit (NULL: none) */
    const char *to2;
} err_case;

static const err_case cases[] = {
    {"kind Agreement", "kind: Channel", "kind: Agreement", "kind", 2, 7,
     "expected kind Channel, found Agreement", SL_EINVAL, NULL, NULL},
    {"unknown kind", "kind: Channel", "kind: Chanel", "kind", 2, 7,
     "unsupported kind 'Chanel'; expected Channel", SL_EINVAL, NULL, NULL},
    {"apiVersion", "slaledger/v1", "slaledger/v2", "apiVersion", 1, 13,
     "unsupported apiVersion 'slaledger/v2'; expected slaledger/v1", SL_EINVAL, NULL, NULL},
    {"unknown top-level field", "kind: Channel\n", "kind: Channel\nversion: 2\n", "version", 3, 1,
     "unknown field 'version' in the document; expected one of: apiVersion, kind, metadata, spec",
     SL_EINVAL, NULL, NULL},
    {"unknown metadata field", "test channel}", "test channel, labels: {a: b}}", "metadata.labels",
     3, 57, "unknown field 'labels' in metadata; expected one of: name, description", SL_EINVAL,
     NULL, NULL},
    {"unknown spec field", "  issuer: bank\n", "  issuer: bank\n  members: []\n", "spec.members", 6,
     3, "unknown field 'members' in spec; expected one of: issuer, organizations, ordering",
     SL_EINVAL, NULL, NULL},
    {"unknown organization field", "{name: watchdog,", "{name: watchdog, role: oracle,",
     "spec.organizations[2].role", 13, 24,
     "unknown field 'role' in spec.organizations[2]; expected one of: name, roles, root_key",
     SL_EINVAL, NULL, NULL},
    {"unknown ordering field", "    kind: solo\n", "    kind: solo\n    endpoints: [a]\n",
     "spec.ordering.endpoints", 17, 5,
     "unknown field 'endpoints' in spec.ordering; expected one of: kind, orderer, "
     "max_block_txs, max_block_bytes, block_timeout, max_tx_bytes",
     SL_EINVAL, NULL, NULL},
    {"orderer of an unknown organization", "    kind: solo\n",
     "    kind: solo\n    orderer: {org: azure, name: azure-node}\n", "spec.ordering.orderer.org",
     17, 20, "unknown organization 'azure'; spec.organizations lists: univie, aws, watchdog, bank",
     SL_EINVAL, NULL, NULL},
    {"orderer without the node role", "    kind: solo\n",
     "    kind: solo\n    orderer: {org: watchdog, name: wd-node}\n", "spec.ordering.orderer.org",
     17, 20,
     "organization 'watchdog' cannot order the channel: it lacks the node role (its roles: oracle)",
     SL_EINVAL, NULL, NULL},
    {"orderer without a name", "    kind: solo\n", "    kind: solo\n    orderer: {org: aws}\n",
     "spec.ordering.orderer.name", 17, 14, "missing required field 'name' in spec.ordering.orderer",
     SL_EINVAL, NULL, NULL},
    {"orderer of an etcd channel", "    kind: solo\n",
     "    kind: etcd\n    orderer: {org: aws, name: aws-node}\n", "spec.ordering.orderer", 17, 14,
     "an etcd channel is ordered by its etcd cluster, not by one node: orderer is for kind solo",
     SL_EINVAL, NULL, NULL},
    {"duplicate field", "    max_block_txs: 500\n",
     "    max_block_txs: 500\n    max_block_txs: 600\n", "spec.ordering.max_block_txs", 18, 5,
     "duplicate field 'max_block_txs' in spec.ordering", SL_EINVAL, NULL, NULL},
    {"bad channel name", "{name: univie-aws,", "{name: Univie_AWS,", "metadata.name", 3, 18,
     "expected a channel name ([a-z0-9] then [a-z0-9._-], at most 63 bytes), found 'Univie_AWS'",
     SL_EINVAL, NULL, NULL},
    {"missing channel name", "{name: univie-aws, description", "{description", "metadata.name", 3,
     11, "missing required field 'name' in metadata", SL_EINVAL, NULL, NULL},
    {"description not a string", "description: test channel}", "description: [a]}",
     "metadata.description", 3, 43, "expected a string, found a list", SL_EINVAL, NULL, NULL},
    {"empty roles", "roles: [oracle]", "roles: []", "spec.organizations[2].roles", 13, 31,
     "expected at least one item, found an empty list", SL_EINVAL, NULL, NULL},
    {"unknown role", "roles: [oracle]", "roles: [orakel]", "spec.organizations[2].roles[0]", 13, 32,
     "unknown role 'orakel'; expected one of: consumer, provider, oracle, auditor, issuer, node",
     SL_EINVAL, NULL, NULL},
    {"duplicate role", "roles: [consumer, node]", "roles: [consumer, node, consumer]",
     "spec.organizations[0].roles[2]", 8, 31, "role 'consumer' is listed twice", SL_EINVAL, NULL,
     NULL},
    {"roles not a list", "roles: [oracle]", "roles: oracle", "spec.organizations[2].roles", 13, 31,
     "expected a list, found 'oracle'", SL_EINVAL, NULL, NULL},
    {"missing roles", "roles: [oracle], ", "", "spec.organizations[2].roles", 13, 7,
     "missing required field 'roles' in spec.organizations[2]", SL_EINVAL, NULL, NULL},
    {"bad organization name", "- name: aws", "- name: AWS", "spec.organizations[1].name", 10, 13,
     "expected an organization name ([a-z0-9] then [a-z0-9._-], at most 63 bytes), found 'AWS'",
     SL_EINVAL, NULL, NULL},
    {"duplicate organization name", "{name: watchdog,", "{name: aws,", "spec.organizations[2].name",
     13, 14, "duplicate organization name 'aws' (also spec.organizations[1])", SL_EINVAL, NULL,
     NULL},
    {"organization not a mapping",
     "{name: watchdog, roles: [oracle], root_key: \"" K_WATCHDOG "\"}", "watchdog",
     "spec.organizations[2]", 13, 7, "expected a mapping, found 'watchdog'", SL_EINVAL, NULL, NULL},
    {"missing root key", ", root_key: \"" K_WATCHDOG "\"}", "}", "spec.organizations[2].root_key",
     13, 7, "missing required field 'root_key' in spec.organizations[2]", SL_EINVAL, NULL, NULL},
    {"short root key", K_WATCHDOG, "5a7cf3ea05add18be186cf6058db50418fa8f290625b9bdd8ce39a040bde89",
     "spec.organizations[2].root_key", 13, 51,
     "expected an Ed25519 public key of 64 hex digits, found "
     "'5a7cf3ea05add18be186cf6058db50418fa8f290...' (62 characters)",
     SL_EINVAL, NULL, NULL},
    {"root key not hex", K_WATCHDOG,
     "5a7cf3ea05add18be186cf6058db50418fa8f290625b9bdd8ce39a040bde894g",
     "spec.organizations[2].root_key", 13, 51,
     "expected an Ed25519 public key of 64 hex digits, found", SL_EINVAL, NULL, NULL},
    {"root key not a point", K_WATCHDOG,
     "0100000000000000000000000000000000000000000000000000000000000000",
     "spec.organizations[2].root_key", 13, 51,
     "is not a valid Ed25519 public key (not a canonical point of the main subgroup)", SL_EINVAL,
     NULL, NULL},
    {"root key a list", "\"" K_WATCHDOG "\"", "[1]", "spec.organizations[2].root_key", 13, 51,
     "expected a root key, found a list", SL_EINVAL, NULL, NULL},
    {"duplicate root key", K_WATCHDOG, K_UNIVIE, "spec.organizations[2].root_key", 13, 51,
     "root key is already the key of spec.organizations[0] (organization 'univie'); every "
     "organization needs its own key",
     SL_EINVAL, NULL, NULL},
    {"no node", "roles: [consumer, node]", "roles: [consumer]", "spec.organizations", 7, 5,
     "no organization has the node role; at least one must run a node to order blocks", SL_EINVAL,
     "roles: [provider, node]", "roles: [provider]"},
    {"unknown issuer", "issuer: bank", "issuer: bnk", "spec.issuer", 5, 11,
     "unknown organization 'bnk'; spec.organizations lists: univie, aws, watchdog, bank", SL_EINVAL,
     NULL, NULL},
    {"issuer without the role", "issuer: bank", "issuer: univie", "spec.issuer", 5, 11,
     "organization 'univie' cannot be the issuer: it lacks the issuer role (its roles: consumer, "
     "node)",
     SL_EINVAL, NULL, NULL},
    {"missing issuer", "  issuer: bank\n", "", "spec.issuer", 5, 3,
     "missing required field 'issuer' in spec", SL_EINVAL, NULL, NULL},
    {"null issuer", "issuer: bank", "issuer: ~", "spec.issuer", 5, 11,
     "field 'issuer' is required, found null", SL_EINVAL, NULL, NULL},
    {"ordering not a mapping",
     "  ordering:\n    kind: solo\n    max_block_txs: 500\n    max_block_bytes: 4MiB\n    "
     "block_timeout: 5ms\n    max_tx_bytes: 1MiB\n",
     "  ordering: fast\n", "spec.ordering", 15, 13, "expected a mapping, found 'fast'", SL_EINVAL,
     NULL, NULL},
    {"unknown ordering kind", "kind: solo", "kind: raft", "spec.ordering.kind", 16, 11,
     "unknown ordering kind 'raft'; expected one of: solo, etcd", SL_EINVAL, NULL, NULL},
    {"max_block_txs zero", "max_block_txs: 500", "max_block_txs: 0", "spec.ordering.max_block_txs",
     17, 20, "expected an integer from 1 to 100000, found '0'", SL_EINVAL, NULL, NULL},
    {"max_block_txs too many", "max_block_txs: 500", "max_block_txs: 100001",
     "spec.ordering.max_block_txs", 17, 20, "expected an integer from 1 to 100000, found '100001'",
     SL_EINVAL, NULL, NULL},
    {"block too small", "max_block_bytes: 4MiB", "max_block_bytes: 1023",
     "spec.ordering.max_block_bytes", 18, 22, "size '1023' is out of range: expected 1KiB to 64MiB",
     SL_EINVAL, NULL, NULL},
    {"block too large", "max_block_bytes: 4MiB", "max_block_bytes: 65MiB",
     "spec.ordering.max_block_bytes", 18, 22,
     "size '65MiB' is out of range: expected 1KiB to 64MiB", SL_EINVAL, NULL, NULL},
    {"block size unit", "max_block_bytes: 4MiB", "max_block_bytes: 4MB",
     "spec.ordering.max_block_bytes", 18, 22,
     "expected a size from 1KiB to 64MiB: a number of bytes, or a whole number of KiB or MiB such "
     "as 4MiB, found '4MB'",
     SL_EINVAL, NULL, NULL},
    {"block size fraction", "max_block_bytes: 4MiB", "max_block_bytes: 1.5MiB",
     "spec.ordering.max_block_bytes", 18, 22, "found '1.5MiB'", SL_EINVAL, NULL, NULL},
    {"block size negative", "max_block_bytes: 4MiB", "max_block_bytes: -4MiB",
     "spec.ordering.max_block_bytes", 18, 22, "found '-4MiB'", SL_EINVAL, NULL, NULL},
    {"block size overflow", "max_block_bytes: 4MiB", "max_block_bytes: 99999999999999999999KiB",
     "spec.ordering.max_block_bytes", 18, 22, "size '99999999999999999999KiB' is out of range",
     SL_EOVERFLOW, NULL, NULL},
    {"block size overflow by unit", "max_block_bytes: 4MiB", "max_block_bytes: 9007199254740993MiB",
     "spec.ordering.max_block_bytes", 18, 22, "size '9007199254740993MiB' is out of range",
     SL_EOVERFLOW, NULL, NULL},
    {"zero timeout", "block_timeout: 5ms", "block_timeout: 0ms", "spec.ordering.block_timeout", 19,
     20, "expected a positive duration such as 60s, 5m, 1h30m or 7d, found '0ms'", SL_EINVAL, NULL,
     NULL},
    {"timeout too long", "block_timeout: 5ms", "block_timeout: 10s1ms",
     "spec.ordering.block_timeout", 19, 20,
     "block_timeout '10s1ms' is out of range: expected 1ms to 10s", SL_EINVAL, NULL, NULL},
    {"timeout without unit", "block_timeout: 5ms", "block_timeout: 5",
     "spec.ordering.block_timeout", 19, 20, "expected a positive duration", SL_EINVAL, NULL, NULL},
    {"transaction too large", "max_tx_bytes: 1MiB", "max_tx_bytes: 17MiB",
     "spec.ordering.max_tx_bytes", 20, 19, "size '17MiB' is out of range: expected 1KiB to 16MiB",
     SL_EINVAL, NULL, NULL},
    {"transaction larger than block", "max_block_bytes: 4MiB", "max_block_bytes: 512KiB",
     "spec.ordering.max_tx_bytes", 20, 19,
     "max_tx_bytes 1MiB is larger than max_block_bytes 512KiB: a transaction must fit in a block",
     SL_EINVAL, NULL, NULL},
    {"default transaction larger than block", "max_block_bytes: 4MiB", "max_block_bytes: 524288",
     "spec.ordering.max_block_bytes", 18, 22,
     "max_tx_bytes 1MiB (the default) is larger than max_block_bytes 512KiB: a transaction must "
     "fit in a block",
     SL_EINVAL, "    max_tx_bytes: 1MiB\n", ""},
    {"syntax error", "kind: solo", "kind: solo: x", "", 16, 15, "YAML syntax error", SL_EPARSE,
     NULL, NULL},
};

#define N_CASES (sizeof(cases) / sizeof(cases[0]))

/* base_doc with the case's edits applied; NULL (after a message) when an edit does not apply. */
static char *case_doc(const err_case *c)
{
    char *doc = th_replace(base_doc, c->from, c->to), *next;

    if (doc && c->from2) {
        next = th_replace(doc, c->from2, c->to2);
        free(doc);
        doc = next;
    }
    if (!doc)
        fprintf(stderr, "%s: an edit does not occur exactly once\n", c->name);
    return doc;
}

/* Runs one case; returns the number of mismatches (printed). */
static int run_case(const err_case *c)
{
    char *doc = case_doc(c);
    sl_channel_spec *spec = (sl_channel_spec *)1;
    sl_diags d = {0};
    int rc, bad = 0;
    const sl_error *e;

    if (!doc)
        return 1;
    rc = sl_channel_parse(doc, strlen(doc), "case.yaml", &spec, &d);
    e = d.n > 0 ? &d.v[0] : NULL;
    if (rc != c->code || spec != NULL || !e || e->code != c->code || e->line != c->line ||
        e->column != c->column || strcmp(e->field, c->field) != 0 || !strstr(e->msg, c->msg)) {
        fprintf(stderr, "FAIL %s: rc %d (want %d), spec %s\n  want %d:%d %s: ...%s...\n", c->name,
                rc, c->code, spec ? "set" : "NULL", c->line, c->column, c->field, c->msg);
        th_print_diags("  got", &d);
        bad = 1;
    }
    sl_diags_release(&d);
    free(doc);
    return bad;
}

static void test_table(void **state)
{
    int bad = 0;

    (void)state;
    for (size_t i = 0; i < N_CASES; i++)
        bad += run_case(&cases[i]);
    assert_int_equal(bad, 0);
}

/* The unmodified base document is valid: every case breaks exactly what it says. */
static void test_base_valid(void **state)
{
    sl_channel_spec *s = parse_ok(base_doc);

    (void)state;
    assert_int_equal(s->n_orgs, 4);
    assert_int_equal(s->orgs[3].roles, SL_ROLE_ISSUER | SL_ROLE_AUDITOR);
    assert_string_equal(s->description, "test channel");
    sl_channel_spec_free(s);
}

typedef struct want_diag {
    const char *field;
    int line;
    int column;
    const char *msg;
} want_diag;

static void expect_diags(const char *doc, int code, const want_diag *want, size_t n)
{
    sl_channel_spec *spec = (sl_channel_spec *)1;
    sl_diags d = {0};
    int rc = sl_channel_parse(doc, strlen(doc), NULL, &spec, &d);

    th_print_diags("diag", &d);
    assert_int_equal(rc, code);
    assert_null(spec);
    assert_int_equal(d.n, n);
    for (size_t i = 0; i < n; i++) {
        assert_string_equal(d.v[i].field, want[i].field);
        assert_int_equal(d.v[i].line, want[i].line);
        assert_int_equal(d.v[i].column, want[i].column);
        assert_non_null(strstr(d.v[i].msg, want[i].msg));
    }
    sl_diags_release(&d);
}

/* One document with problems in many places: every one is reported, in document order. */
static void test_several_errors(void **state)
{
    static const char *doc =
        "apiVersion: slaledger/v1\n"                                             /* 1 */
        "kind: Channel\n"                                                        /* 2 */
        "metadata: {name: x, owner: me}\n"                                       /* 3 */
        "spec:\n"                                                                /* 4 */
        "  issuer: bank\n"                                                       /* 5 */
        "  organizations:\n"                                                     /* 6 */
        "    - {name: a, roles: [consumer, boss], root_key: \"" K_UNIVIE "\"}\n" /* 7 */
        "    - {name: a, roles: [provider], root_key: \"" K_UNIVIE "\"}\n"       /* 8 */
        "  ordering: {kind: raft, max_block_txs: 0, block_timeout: 1m}\n";       /* 9 */
    static const want_diag want[] = {
        {"metadata.owner", 3, 21, "unknown field 'owner' in metadata"},
        {"spec.organizations[0].roles[1]", 7, 35, "unknown role 'boss'"},
        {"spec.organizations[1].name", 8, 14, "duplicate organization name 'a'"},
        {"spec.organizations[1].root_key", 8, 46, "root key is already the key of"},
        {"spec.ordering.kind", 9, 20, "unknown ordering kind 'raft'"},
        {"spec.ordering.max_block_txs", 9, 41, "expected an integer from 1 to 100000"},
        {"spec.ordering.block_timeout", 9, 59, "block_timeout '1m' is out of range"},
    };

    (void)state;
    expect_diags(doc, SL_EINVAL, want, sizeof(want) / sizeof(want[0]));
}

/* Rules across fields are judged as far as their fields parsed: the issuer's missing role is
 * reported beside another organization's bad role, an unknown issuer is not while a name is bad,
 * and a misspelt role does not also produce "no node". */
static void test_partial_cross_checks(void **state)
{
    char *a = th_replace(base_doc, "roles: [oracle]", "roles: [orakel]");
    char *a2 = th_replace(a, "issuer: bank", "issuer: univie");
    char *b = th_replace(base_doc, "- name: aws", "- name: AWS");
    char *b2 = th_replace(b, "issuer: bank", "issuer: bnk");
    char *c = th_replace(base_doc, "roles: [provider, node]", "roles: [provider]");
    char *c2 = th_replace(c, "roles: [consumer, node]", "roles: [consumer, nod]");
    static const want_diag want_a[] = {
        {"spec.organizations[2].roles[0]", 13, 32, "unknown role 'orakel'"},
        {"spec.issuer", 5, 11, "organization 'univie' cannot be the issuer"},
    };
    static const want_diag want_b[] = {
        {"spec.organizations[1].name", 10, 13, "expected an organization name"}};
    static const want_diag want_c[] = {
        {"spec.organizations[0].roles[1]", 8, 25, "unknown role 'nod'"}};

    (void)state;
    expect_diags(a2, SL_EINVAL, want_a, 2);
    expect_diags(b2, SL_EINVAL, want_b, 1);
    expect_diags(c2, SL_EINVAL, want_c, 1);
    free(a);
    free(a2);
    free(b);
    free(b2);
    free(c);
    free(c2);
}

/* Missing or mistyped organizations; the issuer cannot be resolved then, and is not blamed. */
static void test_organizations_shape(void **state)
{
    static const char *head = "apiVersion: slaledger/v1\nkind: Channel\nmetadata: {name: c}\n"
                              "spec:\n  issuer: bank\n";
    char doc[512];
    static const want_diag missing[] = {
        {"spec.organizations", 5, 3, "missing required field 'organizations' in spec"}};
    static const want_diag empty[] = {
        {"spec.organizations", 6, 18, "expected at least one item, found an empty list"}};
    static const want_diag map[] = {
        {"spec.organizations", 6, 18, "expected a list, found a mapping"}};
    static const want_diag spec[] = {
        {"spec", 1, 1, "missing required field 'spec' in the document"}};

    (void)state;
    snprintf(doc, sizeof(doc), "%s", head);
    expect_diags(doc, SL_EINVAL, missing, 1);
    snprintf(doc, sizeof(doc), "%s  organizations: []\n", head);
    expect_diags(doc, SL_EINVAL, empty, 1);
    snprintf(doc, sizeof(doc), "%s  organizations: {bank: issuer}\n", head);
    expect_diags(doc, SL_EINVAL, map, 1);
    expect_diags("apiVersion: slaledger/v1\nkind: Channel\nmetadata: {name: c}\n", SL_EINVAL, spec,
                 1);
}

/* Appends n organizations named o0, o1, ... with keys from distinct seeds to b. */
static void append_orgs(sl_buf *b, int n)
{
    uint8_t seed[32] = {0}, pk[32], sk[64];
    char hex[65];

    for (int i = 0; i < n; i++) {
        seed[0] = (uint8_t)i;
        assert_int_equal(crypto_sign_seed_keypair(pk, sk, seed), 0);
        sl_hex(pk, 32, hex);
        sl_buf_printf(b, "    - {name: o%d, roles: [%s], root_key: %s}\n", i,
                      i == 0 ? "node, issuer" : "oracle", hex);
    }
}

static char *orgs_doc(int n)
{
    sl_buf b;
    char *text;

    sl_buf_init(&b);
    sl_buf_printf(&b, "apiVersion: slaledger/v1\nkind: Channel\nmetadata: {name: big}\n"
                      "spec:\n  issuer: o0\n  organizations:\n");
    append_orgs(&b, n);
    text = sl_strdup(sl_buf_cstr(&b));
    assert_non_null(text);
    sl_buf_release(&b);
    return text;
}

/* SL_MAX_ORGS organizations are accepted, one more is refused at the list. */
static void test_max_orgs(void **state)
{
    char *ok = orgs_doc(SL_MAX_ORGS), *over = orgs_doc(SL_MAX_ORGS + 1);
    sl_channel_spec *s = parse_ok(ok);
    static const want_diag want[] = {
        {"spec.organizations", 7, 5, "too many items: 65; at most 64 are allowed"}};

    (void)state;
    assert_int_equal(s->n_orgs, SL_MAX_ORGS);
    assert_int_equal(sl_channel_org_find(s, "o63"), 63);
    sl_channel_spec_free(s);
    expect_diags(over, SL_EINVAL, want, 1);
    free(ok);
    free(over);
}

/* Given to the wrong parser, a document gets one clear error at its kind and nothing else. */
static void test_wrong_kind(void **state)
{
    char *path = th_source_path("examples/aws-ec2-vm.yaml");
    char *chan = th_source_path("examples/channel-univie-aws.yaml");
    sl_channel_spec *cs = (sl_channel_spec *)1;
    sl_agreement_spec *as = (sl_agreement_spec *)1;
    sl_diags d = {0};

    (void)state;
    assert_int_equal(sl_channel_parse_file(path, &cs, &d), SL_EINVAL);
    assert_null(cs);
    assert_int_equal(d.n, 1);
    assert_string_equal(d.v[0].field, "kind");
    assert_int_equal(d.v[0].line, 8); /* after the example's comment */
    assert_int_equal(d.v[0].column, 7);
    assert_string_equal(d.v[0].msg, "expected kind Channel, found Agreement");
    sl_diags_release(&d);
    assert_int_equal(sl_sla_parse_file(chan, &as, &d), SL_EINVAL);
    assert_null(as);
    assert_int_equal(d.n, 1);
    assert_string_equal(d.v[0].field, "kind");
    assert_int_equal(d.v[0].line, 13);
    assert_int_equal(d.v[0].column, 7);
    assert_string_equal(d.v[0].msg, "expected kind Agreement, found Channel");
    sl_diags_release(&d);
    free(path);
    free(chan);
}

/* No diags list: the code is still right and nothing leaks. */
static void test_null_diags(void **state)
{
    char *doc = th_replace(base_doc, "issuer: bank", "issuer: univie");
    sl_channel_spec *spec = NULL;

    (void)state;
    assert_int_equal(sl_channel_parse(doc, strlen(doc), NULL, &spec, NULL), SL_EINVAL);
    assert_null(spec);
    assert_int_equal(sl_channel_parse("a: [", 4, NULL, &spec, NULL), SL_EPARSE);
    assert_null(spec);
    free(doc);
}

static void test_bad_arguments(void **state)
{
    sl_channel_spec *spec = (sl_channel_spec *)1;
    sl_diags d = {0};

    (void)state;
    assert_int_equal(sl_channel_parse(NULL, 5, NULL, &spec, &d), SL_EINVAL);
    assert_null(spec);
    assert_int_equal(sl_channel_parse("a: 1", 4, NULL, NULL, &d), SL_EINVAL);
    assert_int_equal(sl_channel_parse("", 0, NULL, &spec, &d), SL_EINVAL);
    assert_null(spec);
    assert_int_equal(d.n, 3);
    assert_non_null(strstr(d.v[2].msg, "the document is empty; expected a Channel mapping"));
    assert_int_equal(sl_channel_parse_file(NULL, &spec, &d), SL_EINVAL);
    assert_int_equal(d.n, 4);
    sl_diags_release(&d);
    sl_channel_spec_free(NULL);
}

static void test_unreadable_file(void **state)
{
    sl_channel_spec *spec = (sl_channel_spec *)1;
    sl_diags d = {0};

    (void)state;
    assert_int_equal(sl_channel_parse_file("/nonexistent/channel.yaml", &spec, &d), SL_EIO);
    assert_null(spec);
    assert_int_equal(d.n, 1);
    assert_int_equal(d.v[0].code, SL_EIO);
    assert_int_equal(d.v[0].line, 0);
    assert_non_null(strstr(d.v[0].msg, "/nonexistent/channel.yaml"));
    sl_diags_release(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_examples),
        cmocka_unit_test(test_every_channel_example),
        cmocka_unit_test(test_demo_keys),
        cmocka_unit_test(test_json_same_model),
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_size_format),
        cmocka_unit_test(test_roles),
        cmocka_unit_test(test_org_find),
        cmocka_unit_test(test_base_valid),
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_several_errors),
        cmocka_unit_test(test_partial_cross_checks),
        cmocka_unit_test(test_organizations_shape),
        cmocka_unit_test(test_max_orgs),
        cmocka_unit_test(test_wrong_kind),
        cmocka_unit_test(test_null_diags),
        cmocka_unit_test(test_bad_arguments),
        cmocka_unit_test(test_unreadable_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
