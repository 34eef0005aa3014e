/*
 * nodecfg.c: a test tool that loads a node's documents with the library's loaders and prints
 * what they hold as JSON, for the script tests (tests/integration/cli_init.sh) until the node
 * command can check a configuration itself.
 *
 *   tool_nodecfg config FILE          sl_node_config_parse_file: the model, paths resolved
 *   tool_nodecfg secrets FILE         sl_secrets_parse_file: name, and each credential's name
 *                                     and kind (never a value)
 *   tool_nodecfg tokens FILE [TXT]    sl_tokens_parse_file: the entries with their hashes; with
 *                                     TXT (lines "USER ORG ROLE TOKEN", '#' comments) every
 *                                     token must pass sl_tokens_check as that entry, and a
 *                                     changed token must not
 *
 * Exit status: 0 loaded (and checked), 1 refused (each diagnostic on stderr as
 * FILE:LINE:COL: error: FIELD: MESSAGE [CODE]) or a token check failed, 2 usage.
 * Test scaffolding: single-threaded, prints and exits.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "slaledger/sla.h"
#include "slaledger/util.h"

static int refused(const char *path, int rc, const sl_diags *d)
{
    for (size_t i = 0; i < d->n; i++)
        fprintf(stderr, "%s:%d:%d: error: %s: %s [%s]\n", path, d->v[i].line, d->v[i].column,
                d->v[i].field, d->v[i].msg, sl_error_token(d->v[i].code));
    fprintf(stderr, "%s: refused: %s\n", path, sl_error_token(rc));
    return 1;
}

static int print(json_t *j)
{
    if (!j || json_dumpf(j, stdout, JSON_INDENT(2)) != 0)
        return 1;
    putchar('\n');
    json_decref(j);
    return 0;
}

static json_t *jstr_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

static json_t *member_json(const sl_node_member *m)
{
    return json_pack("{s:o, s:o, s:s, s:s}", "name", jstr_or_null(m->name), "org",
                     jstr_or_null(m->org), "key", m->key, "cert", m->cert);
}

static json_t *members_json(const sl_node_member *v, size_t n)
{
    json_t *a = json_array();

    for (size_t i = 0; a && i < n; i++)
        json_array_append_new(a, member_json(&v[i]));
    return a;
}

static json_t *config_json(const sl_node_config *c)
{
    json_t *channels = json_array(), *endpoints = json_array();
    static const char *const formats[] = {"text", "json"};
    static const char *const levels[] = {"debug", "info", "warn", "error"};

    for (size_t i = 0; channels && i < c->n_channels; i++)
        json_array_append_new(channels,
                              json_pack("{s:s, s:s, s:s}", "name", c->channels[i].name, "genesis",
                                        c->channels[i].genesis, "ledger", c->channels[i].ledger));
    for (size_t i = 0; endpoints && i < c->n_etcd_endpoints; i++)
        json_array_append_new(endpoints, json_string(c->etcd_endpoints[i]));
    return json_pack("{s:s, s:o, s:s, s:s, s:s, s:i, s:o, s:o, s:o, s:o, s:o, s:o, s:o, "
                     "s:s, s:s}",
                     "name", c->name, "description", jstr_or_null(c->description), "organization",
                     c->organization, "data_dir", c->data_dir, "listen_host", c->listen_host,
                     "listen_port", (int)c->listen_port, "identity", member_json(&c->identity),
                     "users", members_json(c->users, c->n_users), "oracles",
                     members_json(c->oracles, c->n_oracles), "channels", channels, "etcd_endpoints",
                     endpoints, "secrets", jstr_or_null(c->secrets), "tokens",
                     jstr_or_null(c->tokens), "log_format", formats[c->log_format], "log_level",
                     levels[c->log_level]);
}

static int cmd_config(const char *path)
{
    sl_node_config *c = NULL;
    sl_diags d = {0};
    int rc = sl_node_config_parse_file(path, &c, &d);

    rc = rc ? refused(path, rc, &d) : print(config_json(c));
    sl_node_config_free(c);
    sl_diags_release(&d);
    return rc;
}

static int cmd_secrets(const char *path)
{
    sl_secrets *s = NULL;
    sl_diags d = {0};
    json_t *creds;
    int rc = sl_secrets_parse_file(path, &s, &d);

    if (rc) {
        rc = refused(path, rc, &d);
        goto out;
    }
    creds = json_array();
    for (size_t i = 0; creds && i < s->n_credentials; i++)
        json_array_append_new(creds, json_pack("{s:s, s:s}", "name", s->credentials[i].name, "kind",
                                               sl_credential_kind_name(s->credentials[i].kind)));
    rc = print(json_pack("{s:s, s:o, s:o}", "name", s->name, "description",
                         jstr_or_null(s->description), "credentials", creds));
out:
    sl_secrets_free(s);
    sl_diags_release(&d);
    return rc;
}

/* Checks one "USER ORG ROLE TOKEN" line against t. 0 when it authenticates as that entry and
 * the same token with its last character changed does not. */
static int check_line(const sl_tokens *t, const char *line)
{
    char user[80], org[80], role[80], token[200];
    const sl_token *e = NULL;

    if (sscanf(line, "%79s %79s %79s %199s", user, org, role, token) != 4) {
        fprintf(stderr, "tokens: malformed line: %s", line);
        return 1;
    }
    if (sl_tokens_check(t, token, &e) != 0 || !e || strcmp(e->user, user) != 0 ||
        strcmp(e->org, org) != 0 || strcmp(sl_role_name(e->role), role) != 0) {
        fprintf(stderr, "tokens: the token of %s@%s does not authenticate as %s\n", user, org,
                role);
        return 1;
    }
    token[strlen(token) - 1] ^= 1;
    if (sl_tokens_check(t, token, &e) != SL_EAUTH || e != NULL) {
        fprintf(stderr, "tokens: a changed token of %s@%s still authenticates\n", user, org);
        return 1;
    }
    return 0;
}

/* Checks every token line of the file txt; -1 when it cannot be read, else the failures. */
static int check_txt(const sl_tokens *t, const char *txt, int *checked)
{
    char line[512];
    FILE *f = fopen(txt, "r");
    int bad = 0;

    if (!f) {
        perror(txt);
        return -1;
    }
    while (fgets(line, sizeof(line), f)) {
        if (line[0] == '#' || line[0] == '\n')
            continue;
        bad += check_line(t, line);
        (*checked)++;
    }
    fclose(f);
    return bad;
}

static int cmd_tokens(const char *path, const char *txt)
{
    sl_tokens *t = NULL;
    sl_diags d = {0};
    char hex[2 * SL_HASH_LEN + 1];
    json_t *a;
    int checked = 0, rc = sl_tokens_parse_file(path, &t, &d);

    if (rc) {
        rc = refused(path, rc, &d);
        goto out;
    }
    if (txt && check_txt(t, txt, &checked) != 0) {
        rc = 1;
        goto out;
    }
    a = json_array();
    for (size_t i = 0; a && i < t->n_tokens; i++) {
        sl_hex(t->tokens[i].sha256, SL_HASH_LEN, hex);
        json_array_append_new(a, json_pack("{s:s, s:s, s:s, s:s}", "user", t->tokens[i].user, "org",
                                           t->tokens[i].org, "role",
                                           sl_role_name(t->tokens[i].role), "sha256", hex));
    }
    rc = print(json_pack("{s:s, s:o, s:i}", "name", t->name, "tokens", a, "checked", checked));
out:
    sl_tokens_free(t);
    sl_diags_release(&d);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "config") == 0)
        return cmd_config(argv[2]);
    if (argc == 3 && strcmp(argv[1], "secrets") == 0)
        return cmd_secrets(argv[2]);
    if ((argc == 3 || argc == 4) && strcmp(argv[1], "tokens") == 0)
        return cmd_tokens(argv[2], argc == 4 ? argv[3] : NULL);
    fprintf(stderr, "usage: tool_nodecfg config FILE | secrets FILE | tokens FILE [TXT]\n");
    return 2;
}
