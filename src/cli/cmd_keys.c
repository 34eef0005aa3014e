/*
 * cmd_keys.c: `slaledger keygen` and `slaledger cert issue|show|verify`, the identity commands.
 * keygen writes a new secret key file (sl_key_save: mode 0600, never overwritten) and prints the
 * public key; cert issue signs a member certificate with an organization's root key and writes
 * it as JSON (sl_cert_write_json); cert show prints one and whether its dates are current; cert
 * verify checks its signature against an organization's public key and its validity at a time.
 * Secret keys stay in the library's guarded memory and are freed (wiped) on every path out.
 * Output and exit codes are described in docs/cli.md. Not thread-safe (stdio).
 */
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "slaledger/ident.h"
#include "slaledger/util.h"

#include "cli.h"

#define HEX_PK        (2 * SL_PK_LEN + 1)
#define HEX_SIG       (2 * SL_SIG_LEN + 1)
#define CERT_FILE_MAX (64 << 10)
#define MAX_DAYS      36500

/* ---- keygen ---- */

static void keygen_usage(FILE *out)
{
    fprintf(out,
            "usage: slaledger keygen --out FILE [--json]\n\n"
            "Creates a new Ed25519 key pair, writes its secret key to FILE (a new file of mode\n"
            "0600; an existing file is never overwritten) and prints the public key as 64 hex\n"
            "digits.\n\n"
            "options:\n"
            "  --out FILE  the secret key file to create (required)\n"
            "  --json      print {\"public_key\": HEX, \"file\": FILE} instead\n"
            "  -h, --help  show this help\n\n"
            "exit status: 0 written, 1 out of memory, 2 usage error,\n"
            "             3 FILE exists or cannot be written\n");
}

int sl__cmd_keygen(int argc, char **argv)
{
    const char *out = NULL;
    int json = 0, nargs, rc;
    const sl__opt opts[] = {{"--out", &out, NULL}, {"--json", NULL, &json}};
    const sl__cli_spec spec = {"keygen", keygen_usage, opts, 2, 0, 0};
    sl_key *k = NULL;
    sl_error err = {0};
    uint8_t pk[SL_PK_LEN];
    char hex[HEX_PK];

    if ((rc = sl__cli_parse(&spec, argc, argv, &nargs)) >= 0)
        return rc;
    if (!out) {
        fprintf(stderr, "slaledger keygen: --out FILE is required\n");
        keygen_usage(stderr);
        return SL_EXIT_USAGE;
    }
    if (sl_key_generate(&k) != 0) {
        fprintf(stderr, "slaledger keygen: cannot generate a key: out of memory\n");
        return SL_EXIT_INVALID;
    }
    if ((rc = sl_key_save(k, out, &err)) != 0) {
        sl__cli_error("keygen", out, &err);
        rc = rc == SL_ENOMEM ? SL_EXIT_INVALID : SL_EXIT_IO;
        goto out;
    }
    sl_key_public(k, pk);
    sl_hex(pk, SL_PK_LEN, hex);
    if (json)
        rc = sl__cli_print_json(
            "keygen", json_pack("{s:s, s:o}", "public_key", hex, "file", sl__cli_jstr(out)));
    else
        printf("%s\n", hex);
out:
    sl_key_free(k);
    return rc;
}

/* ---- shared by the cert subcommands ---- */

/* Loads a secret key file; 0 or an exit code after printing why. */
static int load_key(const char *command, const char *path, sl_key **k)
{
    sl_error err = {0};
    int rc = sl_key_load(path, k, &err);

    if (rc == 0)
        return 0;
    sl__cli_error(command, path, &err);
    return rc == SL_EIO || rc == SL_ENOENT ? SL_EXIT_IO : SL_EXIT_INVALID;
}

/* Parses 64 hex digits of a public key given as option opt; 0 or SL_EXIT_USAGE. */
static int parse_pk(const char *command, const char *opt, const char *s, uint8_t pk[SL_PK_LEN])
{
    if (sl_unhex(s, strlen(s), pk, SL_PK_LEN) == 0)
        return 0;
    fprintf(stderr, "slaledger %s: %s: '%s' is not a public key (64 hex digits)\n", command, opt,
            s);
    return SL_EXIT_USAGE;
}

/* Parses an RFC 3339 time given as option opt; 0 or SL_EXIT_USAGE. */
static int parse_time(const char *command, const char *opt, const char *s, int64_t *ms)
{
    if (sl_time_parse(s, strlen(s), ms) == 0)
        return 0;
    fprintf(stderr, "slaledger %s: %s: '%s' is not an RFC 3339 time (2026-12-01T00:00:00Z)\n",
            command, opt, s);
    return SL_EXIT_USAGE;
}

/* Reads and parses a certificate file; 0 or an exit code after printing why. */
static int read_cert(const char *command, const char *path, sl_cert *c)
{
    sl_buf text;
    sl_error err = {0};
    int rc;

    sl_buf_init(&text);
    rc = sl__cli_read_file(command, path, CERT_FILE_MAX, &text);
    if (rc == 0 && sl_cert_read_json((const char *)text.p, text.len, c, &err) != 0) {
        sl__cli_error(command, path, &err);
        rc = SL_EXIT_INVALID;
    }
    sl_buf_release(&text);
    return rc;
}

/* Text forms of a certificate's keys and dates. */
typedef struct cert_text {
    char pk[HEX_PK];
    char sig[HEX_SIG];
    char nb[32];
    char na[32];
} cert_text;

static void cert_format(const sl_cert *c, cert_text *t)
{
    sl_hex(c->pk, SL_PK_LEN, t->pk);
    sl_hex(c->sig, SL_SIG_LEN, t->sig);
    sl_time_format(c->not_before_ms, t->nb, sizeof(t->nb));
    sl_time_format(c->not_after_ms, t->na, sizeof(t->na));
}

/* The certificate's fields as a JSON object (new reference; NULL when out of memory). */
static json_t *cert_json(const sl_cert *c)
{
    cert_text t;

    cert_format(c, &t);
    return json_pack("{s:o, s:o, s:s, s:s, s:s, s:s, s:s}", "subject", sl__cli_jstr(c->subject),
                     "org", sl__cli_jstr(c->org), "role", sl_role_name(c->role), "public_key", t.pk,
                     "not_before", t.nb, "not_after", t.na, "signature", t.sig);
}

/* "current", "expired" or "not-yet-valid" at now. */
static const char *cert_status(const sl_cert *c, int64_t now)
{
    if (now < c->not_before_ms)
        return "not-yet-valid";
    return now >= c->not_after_ms ? "expired" : "current";
}

/* ---- cert issue ---- */

static void issue_usage(FILE *out)
{
    fprintf(out,
            "usage: slaledger cert issue --org-key FILE --org NAME --subject NAME --role ROLE\n"
            "                            (--key FILE | --public-key HEX) [--not-before TIME]\n"
            "                            [--days N | --not-after TIME] --out FILE [--json]\n\n"
            "Signs a member certificate with the organization's root key and writes it to FILE\n"
            "as JSON (a new file; an existing one is never overwritten).\n\n"
            "options:\n"
            "  --org-key FILE     the organization's root secret key (from slaledger keygen)\n"
            "  --org NAME         the organization, as the channel document names it\n"
            "  --subject NAME     the member's name within the organization\n"
            "  --role ROLE        consumer, provider, oracle, auditor, issuer or node\n"
            "  --key FILE         the member's secret key file (only its public half is used)\n"
            "  --public-key HEX   ... or the member's public key, 64 hex digits\n"
            "  --not-before TIME  start of validity, RFC 3339 (default: now)\n"
            "  --days N           validity in days from --not-before (default 365)\n"
            "  --not-after TIME   ... or the end of validity, RFC 3339 (exclusive)\n"
            "  --out FILE         the certificate file to create (required)\n"
            "  --json             print the certificate and the file as JSON\n"
            "  -h, --help         show this help\n\n"
            "exit status: 0 written, 1 invalid key file, 2 usage error,\n"
            "             3 a file cannot be read, or FILE exists or cannot be written\n");
}

typedef struct issue_args {
    const char *org_key, *org, *subject, *role, *key, *public_key;
    const char *not_before, *days, *not_after, *out;
    int json;
} issue_args;

static int issue_require(const issue_args *a)
{
    const char *missing = !a->org_key   ? "--org-key"
                          : !a->org     ? "--org"
                          : !a->subject ? "--subject"
                          : !a->role    ? "--role"
                          : !a->out     ? "--out"
                                        : NULL;

    if (!missing && !a->key == !a->public_key)
        missing = "exactly one of --key and --public-key";
    if (!missing && a->days && a->not_after)
        missing = "at most one of --days and --not-after";
    if (!missing)
        return 0;
    fprintf(stderr, "slaledger cert issue: %s is required\n", missing);
    issue_usage(stderr);
    return SL_EXIT_USAGE;
}

/* Names, role and validity from the options into c (all but pk and sig). */
static int issue_fields(const issue_args *a, sl_cert *c)
{
    const char *cmd = "cert issue";
    int64_t days = 365;
    int rc = 0;

    if (!sl_name_valid(a->org, strlen(a->org)) || !sl_name_valid(a->subject, strlen(a->subject))) {
        fprintf(stderr, "slaledger %s: names are [a-z0-9] then [a-z0-9._-], at most 63 bytes\n",
                cmd);
        return SL_EXIT_USAGE;
    }
    sl_strfmt(c->org, sizeof(c->org), "%s", a->org);
    sl_strfmt(c->subject, sizeof(c->subject), "%s", a->subject);
    if (sl_role_parse(a->role, &c->role) != 0) {
        fprintf(stderr, "slaledger %s: --role: '%s' is not a role\n", cmd, a->role);
        return SL_EXIT_USAGE;
    }
    /* Certificates count whole seconds: the default start is now, rounded down. */
    c->not_before_ms = sl__cli_now_ms() / 1000 * 1000;
    if (a->not_before)
        rc = parse_time(cmd, "--not-before", a->not_before, &c->not_before_ms);
    if (!rc && a->days)
        rc = sl__cli_int(cmd, "--days", a->days, 1, MAX_DAYS, &days);
    c->not_after_ms = c->not_before_ms + days * SL_MS_PER_DAY;
    if (!rc && a->not_after)
        rc = parse_time(cmd, "--not-after", a->not_after, &c->not_after_ms);
    if (!rc && c->not_after_ms <= c->not_before_ms) {
        fprintf(stderr, "slaledger %s: the end of validity must be after its start\n", cmd);
        rc = SL_EXIT_USAGE;
    }
    return rc;
}

/* The member's public key from --key or --public-key into c->pk. */
static int issue_member_key(const issue_args *a, sl_cert *c)
{
    sl_key *k = NULL;
    int rc;

    if (a->public_key)
        return parse_pk("cert issue", "--public-key", a->public_key, c->pk);
    if ((rc = load_key("cert issue", a->key, &k)) != 0)
        return rc;
    sl_key_public(k, c->pk);
    sl_key_free(k);
    return 0;
}

static int issue_print(const issue_args *a, const sl_cert *c, const sl_key *org_key)
{
    uint8_t org_pk[SL_PK_LEN];
    char org_hex[HEX_PK];
    cert_text t;

    sl_key_public(org_key, org_pk);
    sl_hex(org_pk, SL_PK_LEN, org_hex);
    if (a->json)
        return sl__cli_print_json("cert issue", json_pack("{s:o, s:o, s:s}", "file",
                                                          sl__cli_jstr(a->out), "certificate",
                                                          cert_json(c), "org_public_key", org_hex));
    cert_format(c, &t);
    printf("%s: certificate of %s@%s (%s), valid %s..%s, signed by org key %s\n", a->out,
           c->subject, c->org, sl_role_name(c->role), t.nb, t.na, org_hex);
    return 0;
}

static int cmd_issue(int argc, char **argv)
{
    issue_args a = {0};
    const sl__opt opts[] = {{"--org-key", &a.org_key, NULL},
                            {"--org", &a.org, NULL},
                            {"--subject", &a.subject, NULL},
                            {"--role", &a.role, NULL},
                            {"--key", &a.key, NULL},
                            {"--public-key", &a.public_key, NULL},
                            {"--not-before", &a.not_before, NULL},
                            {"--days", &a.days, NULL},
                            {"--not-after", &a.not_after, NULL},
                            {"--out", &a.out, NULL},
                            {"--json", NULL, &a.json}};
    const sl__cli_spec spec = {
        "cert issue", issue_usage, opts, sizeof(opts) / sizeof(opts[0]), 0, 0};
    sl_cert c;
    sl_key *org_key = NULL;
    sl_buf text;
    int nargs, rc;

    memset(&c, 0, sizeof(c));
    sl_buf_init(&text);
    if ((rc = sl__cli_parse(&spec, argc, argv, &nargs)) >= 0)
        return rc;
    if ((rc = issue_require(&a)) || (rc = issue_fields(&a, &c)) ||
        (rc = issue_member_key(&a, &c)) || (rc = load_key("cert issue", a.org_key, &org_key)))
        goto out;
    sl_cert_sign(&c, org_key);
    if (sl_cert_write_json(&c, &text) != 0) {
        fprintf(stderr, "slaledger cert issue: the certificate cannot be written as JSON "
                        "(dates outside 1970..9999?)\n");
        rc = SL_EXIT_USAGE;
        goto out;
    }
    if ((rc = sl__cli_write_new("cert issue", a.out, text.p, text.len, 0644)) == 0)
        rc = issue_print(&a, &c, org_key);
out:
    sl_key_free(org_key);
    sl_buf_release(&text);
    return rc;
}

/* ---- cert show ---- */

static void show_usage(FILE *out)
{
    fprintf(out, "usage: slaledger cert show [--json] FILE\n\n"
                 "Prints a certificate file's fields and whether its dates are current. It does\n"
                 "not check the signature (see slaledger cert verify).\n\n"
                 "options:\n"
                 "  --json      print the fields, \"current\" and \"status\" as one JSON object\n"
                 "  -h, --help  show this help\n\n"
                 "exit status: 0 shown (also when expired), 1 not a certificate, 2 usage error,\n"
                 "             3 FILE cannot be read\n");
}

static int show_print(const char *path, const sl_cert *c, int json)
{
    const char *status = cert_status(c, sl__cli_now_ms());
    json_t *o;
    cert_text t;

    if (json) {
        o = cert_json(c);
        if (o && (json_object_set_new(o, "file", sl__cli_jstr(path)) ||
                  json_object_set_new(o, "current", json_boolean(strcmp(status, "current") == 0)) ||
                  json_object_set_new(o, "status", json_string(status)))) {
            json_decref(o);
            o = NULL;
        }
        return sl__cli_print_json("cert show", o);
    }
    cert_format(c, &t);
    printf("%s: certificate of %s@%s (%s)\n"
           "  public key  %s\n"
           "  valid       %s..%s (%s)\n"
           "  signature   %s\n",
           path, c->subject, c->org, sl_role_name(c->role), t.pk, t.nb, t.na, status, t.sig);
    return 0;
}

static int cmd_show(int argc, char **argv)
{
    int json = 0, nargs, rc;
    const sl__opt opts[] = {{"--json", NULL, &json}};
    const sl__cli_spec spec = {"cert show", show_usage, opts, 1, 1, 1};
    sl_cert c;

    if ((rc = sl__cli_parse(&spec, argc, argv, &nargs)) >= 0)
        return rc;
    if ((rc = read_cert("cert show", argv[1], &c)) != 0)
        return rc;
    return show_print(argv[1], &c, json);
}

/* ---- cert verify ---- */

static void verify_usage(FILE *out)
{
    fprintf(out,
            "usage: slaledger cert verify FILE --org-public-key HEX [--at TIME] [--json]\n\n"
            "Checks that the certificate in FILE is signed by the organization whose root public\n"
            "key is HEX, and that it is valid at TIME (default: now).\n\n"
            "options:\n"
            "  --org-public-key HEX  the organization's root public key, 64 hex digits\n"
            "  --at TIME             check validity at this RFC 3339 time instead of now\n"
            "  --json                print {file, valid, error, subject, org, role, at} instead\n"
            "  -h, --help            show this help\n\n"
            "exit status: 0 valid, 1 bad signature, not valid at TIME or not a certificate,\n"
            "             2 usage error, 3 FILE cannot be read\n");
}

static int verify_print(const char *path, const sl_cert *c, int64_t at, const sl_error *err,
                        int json)
{
    char when[32];
    json_t *o;

    sl_time_format(at, when, sizeof(when));
    if (json) {
        o = json_pack("{s:o, s:b, s:o, s:o, s:o, s:s, s:s}", "file", sl__cli_jstr(path), "valid",
                      err == NULL, "error", err ? sl__cli_json_error(err) : json_null(), "subject",
                      sl__cli_jstr(c->subject), "org", sl__cli_jstr(c->org), "role",
                      sl_role_name(c->role), "at", when);
        return sl__cli_print_json("cert verify", o);
    }
    if (err)
        sl__cli_error("cert verify", path, err);
    else
        printf("%s: ok: %s@%s (%s), signed by the organization's key, valid at %s\n", path,
               c->subject, c->org, sl_role_name(c->role), when);
    return 0;
}

static int cmd_verify(int argc, char **argv)
{
    const char *org_pk_hex = NULL, *at_text = NULL;
    int json = 0, nargs, rc;
    const sl__opt opts[] = {
        {"--org-public-key", &org_pk_hex, NULL}, {"--at", &at_text, NULL}, {"--json", NULL, &json}};
    const sl__cli_spec spec = {"cert verify", verify_usage, opts, 3, 1, 1};
    uint8_t org_pk[SL_PK_LEN];
    int64_t at = sl__cli_now_ms();
    sl_error err = {0};
    sl_cert c;

    if ((rc = sl__cli_parse(&spec, argc, argv, &nargs)) >= 0)
        return rc;
    if (!org_pk_hex) {
        fprintf(stderr, "slaledger cert verify: --org-public-key HEX is required\n");
        verify_usage(stderr);
        return SL_EXIT_USAGE;
    }
    if ((rc = parse_pk("cert verify", "--org-public-key", org_pk_hex, org_pk)) ||
        (at_text && (rc = parse_time("cert verify", "--at", at_text, &at))) ||
        (rc = read_cert("cert verify", argv[1], &c)))
        return rc;
    rc = sl_cert_verify(&c, org_pk, at, &err);
    if (verify_print(argv[1], &c, at, rc ? &err : NULL, json) != 0)
        return SL_EXIT_IO;
    return rc ? SL_EXIT_INVALID : SL_EXIT_OK;
}

/* ---- cert ---- */

static const sl_cmd cert_commands[] = {
    {"issue", cmd_issue, "sign a member certificate with an organization's root key"},
    {"show", cmd_show, "print a certificate and whether its dates are current"},
    {"verify", cmd_verify, "check a certificate's signature and validity"},
};

int sl__cmd_cert(int argc, char **argv)
{
    return sl__cli_group("cert", cert_commands, sizeof(cert_commands) / sizeof(cert_commands[0]),
                         argc, argv);
}
