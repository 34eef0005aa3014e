/*
 * main.c: the slaledger command's entry point: global options (--help, --version) and the
 * git-style table of subcommands. Everything else lives in cmd_<name>.c; this file stays thin.
 * Exit codes are SL_EXIT_* (cli.h, docs/cli.md).
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static int cmd_help(int argc, char **argv);

static const sl_cmd commands[] = {
    {"help", cmd_help, "show help for slaledger or one of its commands"},
    {"sla", sl__cmd_sla, "check SLA agreement documents (sla validate)"},
    {"channel", sl__cmd_channel, "check channel documents (channel validate)"},
    {"keygen", sl__cmd_keygen, "create a secret key file and print its public key"},
    {"cert", sl__cmd_cert, "issue, show and verify member certificates"},
    {"ledger", sl__cmd_ledger, "create, audit and query a channel's ledger; proofs"},
    {"node", sl__cmd_node, "run a node: ledgers, ordering and the REST API"},
    {"init", sl__cmd_init, "create a working one-machine network: keys, channels, node config"},
    {"agreement", sl__cmd_agreement, "propose, accept, fund, list and show agreements on a node"},
    {"service", sl__cmd_service, "list an agreement's services and measurement history on a node"},
    {"wallet", sl__cmd_wallet, "show, issue and withdraw tokens of a wallet on a node"},
    {"demo", sl__cmd_demo, "the paper's scenario on this machine: outages, penalties, settlement"},
    {"oracle", sl__cmd_oracle, "measure an objective from its source or probe a service once"},
};

#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

static void usage(FILE *out)
{
    fprintf(out, "usage: slaledger [--version] [--help] <command> [<args>]\n\n"
                 "slaledger monitors cloud services against their SLAs on a signed ledger.\n\n"
                 "commands:\n");
    sl__cli_list(out, commands, N_COMMANDS);
    fprintf(out, "\nRun 'slaledger <command> --help' for the options of a command.\n");
}

#define HELP_PATH_MAX 8 /* words of a command path: `help ledger proof ...` */

/* `slaledger help [COMMAND [SUBCOMMAND...]]`: the same text as `slaledger COMMAND
 * [SUBCOMMAND...] --help`; the path is handed to the command with --help after it, so every
 * group resolves its own subcommands (and refuses unknown ones) as it does for --help. */
static int cmd_help(int argc, char **argv)
{
    const sl_cmd *cmd;
    char help[] = "--help";
    char *args[HELP_PATH_MAX + 2] = {NULL};

    if (argc == 1 || (argc == 2 && sl__cli_is_help(argv[1]))) {
        usage(stdout);
        return SL_EXIT_OK;
    }
    if (argc - 1 > HELP_PATH_MAX) {
        fprintf(stderr, "usage: slaledger help [<command> [<subcommand>...]]\n");
        return SL_EXIT_USAGE;
    }
    for (int i = 1; i < argc; i++) {
        if (argv[i][0] == '-' || argv[i][0] == '\0') {
            fprintf(stderr, "slaledger help: '%s' is not a command name\n", argv[i]);
            fprintf(stderr, "usage: slaledger help [<command> [<subcommand>...]]\n");
            return SL_EXIT_USAGE;
        }
        args[i - 1] = argv[i];
    }
    cmd = sl__cli_find(commands, N_COMMANDS, argv[1]);
    if (!cmd) {
        fprintf(stderr, "slaledger help: '%s' is not a slaledger command\n", argv[1]);
        return SL_EXIT_USAGE;
    }
    args[argc - 1] = help;
    return cmd->run(argc, args);
}

static int run(int argc, char **argv)
{
    const sl_cmd *cmd;

    if (argc < 2) {
        usage(stderr);
        return SL_EXIT_USAGE;
    }
    if (sl__cli_is_help(argv[1])) {
        usage(stdout);
        return SL_EXIT_OK;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("slaledger %s\n", SL_VERSION);
        return SL_EXIT_OK;
    }
    cmd = sl__cli_find(commands, N_COMMANDS, argv[1]);
    if (!cmd) {
        fprintf(stderr, "slaledger: '%s' is not a slaledger %s; see 'slaledger --help'\n", argv[1],
                argv[1][0] == '-' ? "option" : "command");
        return SL_EXIT_USAGE;
    }
    return cmd->run(argc - 1, argv + 1);
}

int main(int argc, char **argv)
{
    int rc = run(argc, argv);

    /* A full disk or closed pipe must not look like success. */
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "slaledger: cannot write to standard output\n");
        return SL_EXIT_IO;
    }
    return rc;
}
