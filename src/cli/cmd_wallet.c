/*
 * cmd_wallet.c: `slaledger wallet show|issue|withdraw`, an organization's tokens through a
 * node's REST API (docs/api.md): its balances per channel and currency, the issuer creating
 * tokens in it, and the organization redeeming its own. Each subcommand is one request
 * (client.c); writes are signed by the node as the calling user; --json prints the API's
 * answer. Output and exit codes: docs/cli.md. Not thread-safe (stdio).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli.h"
#include "client.h"

/* ---- show ---- */

static void show_usage(FILE *out)
{
    fprintf(out, "usage: slaledger wallet show ORG [--node URL] [--token TOKEN] [--json]\n\n"
                 "Shows the balances of ORG's wallet per channel and currency. A member sees its\n"
                 "own organization's wallet, an auditor every wallet.\n\n"
                 "options:\n" SL__CLIENT_OPTS_HELP "\n" SL__CLIENT_EXIT_HELP);
}

static int print_wallet(const json_t *j)
{
    const json_t *b;
    char amount[48], h[24];
    size_t i;
    sl__table t;

    if (json_array_size(json_object_get(j, "balances")) == 0) {
        printf("wallet of %s: no balances\n", sl__jstr(j, "owner"));
        return 0;
    }
    printf("wallet of %s\n", sl__jstr(j, "owner"));
    sl__table_init(&t, "lrr", "CHANNEL", "BALANCE", "UPDATED IN BLOCK");
    json_array_foreach(json_object_get(j, "balances"), i, b)
    {
        sl__table_add(&t, sl__jstr(b, "channel"),
                      sl__jamount(b, "balance", sl__jstr(b, "currency"), amount, sizeof(amount)),
                      sl__jint(b, "updated_height", h, sizeof(h)));
    }
    return sl__table_print(&t, 2);
}

static int cmd_show(int argc, char **argv)
{
    sl__client_opts o;
    const sl__opt opts[] = {SL__CLIENT_OPTS(o)};
    const sl__cli_spec spec = {"wallet show", show_usage, opts, 3, 1, 1};
    sl__client c = {0};
    sl_buf path;
    json_t *j = NULL;
    int nargs, rc;

    if ((rc = sl__cli_parse(&spec, argc, argv, &nargs)) >= 0)
        return rc;
    sl_buf_init(&path);
    sl_buf_printf(&path, "/v1/wallets/");
    sl__client_esc(&path, argv[1]);
    if ((rc = sl__client_open(&c, spec.command, &o)) == 0)
        rc = sl__client_call(&c, "GET", sl_buf_cstr(&path), NULL, 0, &j);
    if (rc == 0 && o.json) {
        rc = sl__client_print_json(&c, j);
        j = NULL;
    } else if (rc == 0) {
        rc = print_wallet(j);
    }
    json_decref(j);
    sl_buf_release(&path);
    sl__client_close(&c);
    return rc;
}

/* ---- issue and withdraw ---- */

static void issue_usage(FILE *out)
{
    fprintf(out,
            "usage: slaledger wallet issue ORG AMOUNT CURRENCY [--channel C]\n"
            "                              [--node URL] [--token TOKEN] [--json]\n\n"
            "Creates AMOUNT (a decimal, at most 2 decimals) tokens of CURRENCY (ISO 4217, e.g.\n"
            "EUR) in ORG's wallet on channel C. Only an issuer may. --channel may be left out on\n"
            "a node that serves one channel.\n\n"
            "options:\n"
            "  --channel C    the channel whose wallet receives the tokens\n" SL__CLIENT_OPTS_HELP
            "\n" SL__CLIENT_EXIT_HELP);
}

static void withdraw_usage(FILE *out)
{
    fprintf(out,
            "usage: slaledger wallet withdraw ORG AMOUNT CURRENCY [--channel C]\n"
            "                                 [--node URL] [--token TOKEN] [--json]\n\n"
            "Redeems AMOUNT (a decimal, at most 2 decimals) tokens of CURRENCY from ORG's wallet\n"
            "on channel C. Only a member of ORG may. --channel may be left out on a node that\n"
            "serves one channel.\n\n"
            "options:\n"
            "  --channel C    the channel whose wallet gives the tokens\n" SL__CLIENT_OPTS_HELP
            "\n" SL__CLIENT_EXIT_HELP);
}

/* The body {"amount", "currency"[, "channel"]}: a string to free(), or NULL (out of memory). */
static char *money_body(const char *amount, const char *currency, const char *channel)
{
    json_t *j =
        json_pack("{s:o, s:o}", "amount", sl__cli_jstr(amount), "currency", sl__cli_jstr(currency));
    char *s = NULL;

    if (j && channel && json_object_set_new(j, "channel", sl__cli_jstr(channel)) != 0)
        goto out;
    if (j)
        s = json_dumps(j, JSON_COMPACT);
out:
    json_decref(j);
    return s;
}

/* `wallet issue|withdraw ORG AMOUNT CURRENCY`: POST /v1/wallets/ORG/<op>. */
static int money_cmd(int argc, char **argv, const char *command, void (*usage)(FILE *),
                     const char *op, const char *lead)
{
    sl__client_opts o;
    const char *channel = NULL;
    const sl__opt opts[] = {SL__CLIENT_OPTS(o), {"--channel", &channel, NULL}};
    const sl__cli_spec spec = {command, usage, opts, 4, 3, 3};
    sl__client c = {0};
    sl_buf path;
    json_t *j = NULL;
    char *body = NULL;
    int nargs, rc;

    if ((rc = sl__cli_parse(&spec, argc, argv, &nargs)) >= 0)
        return rc;
    sl_buf_init(&path);
    sl_buf_printf(&path, "/v1/wallets/");
    sl__client_esc(&path, argv[1]);
    sl_buf_printf(&path, "/%s", op);
    if ((rc = sl__client_open(&c, command, &o)) != 0)
        goto out;
    if (!(body = money_body(argv[2], argv[3], channel))) {
        fprintf(stderr, "slaledger %s: out of memory\n", command);
        rc = SL_EXIT_INVALID;
        goto out;
    }
    rc = sl__client_call(&c, "POST", sl_buf_cstr(&path), body, strlen(body), &j);
    if (rc == 0)
        rc = sl__client_print_tx(&c, o.json, j, lead, argv[2], argv[3], argv[1]);
out:
    free(body);
    sl_buf_release(&path);
    sl__client_close(&c);
    return rc;
}

static int cmd_issue(int argc, char **argv)
{
    return money_cmd(argc, argv, "wallet issue", issue_usage, "issue", "issued %s %s to %s");
}

static int cmd_withdraw(int argc, char **argv)
{
    return money_cmd(argc, argv, "wallet withdraw", withdraw_usage, "withdraw",
                     "withdrew %s %s from %s");
}

/* ---- the group ---- */

static const sl_cmd wallet_commands[] = {
    {"show", cmd_show, "show an organization's balances per channel and currency"},
    {"issue", cmd_issue, "create tokens in an organization's wallet (the issuer)"},
    {"withdraw", cmd_withdraw, "redeem an organization's own tokens"},
};

int sl__cmd_wallet(int argc, char **argv)
{
    return sl__cli_group("wallet", wallet_commands,
                         sizeof(wallet_commands) / sizeof(wallet_commands[0]), argc, argv);
}
