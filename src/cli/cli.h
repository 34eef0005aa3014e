/*
 * cli.h: what the files of the slaledger command share: the command table type, exit codes,
 * the version, and the helpers main.c and each cmd_*.c use to dispatch and print help.
 *
 * The command is thin: it parses arguments, calls the library, and prints. Each level of
 * commands is a table of {name, handler, summary}; a handler gets argc/argv starting at its
 * own name (argv[0] == "sla") and returns the process exit code. Not thread-safe (stdio).
 */
#ifndef SL_CLI_H
#define SL_CLI_H

#include <stddef.h>
#include <stdio.h>

#ifndef SL_VERSION
#define SL_VERSION "0.1.0"
#endif

/* Exit codes, documented in docs/cli.md. */
enum {
    SL_EXIT_OK = 0,      /* everything succeeded / every document is valid */
    SL_EXIT_INVALID = 1, /* at least one document is invalid */
    SL_EXIT_USAGE = 2,   /* bad command line */
    SL_EXIT_IO = 3,      /* a file could not be read, or output could not be written */
};

typedef struct sl_cmd {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} sl_cmd;

/** True for "-h" and "--help". */
int sl__cli_is_help(const char *arg);

/** The entry of cmds[0..n) called name, or NULL. */
const sl_cmd *sl__cli_find(const sl_cmd *cmds, size_t n, const char *name);

/** Prints one "  name  summary" line per command. */
void sl__cli_list(FILE *out, const sl_cmd *cmds, size_t n);

/** `slaledger sla ...` (cmd_sla.c). */
int sl__cmd_sla(int argc, char **argv);

#endif
