/*
 * cli.h: what the files of the slaledger command share: the command table type, exit codes,
 * the version, the helpers main.c and each cmd_*.c use to dispatch and print help, and the
 * `<noun> validate` driver shared by the document commands (sla, channel), and the option,
 * file and output helpers of the key, certificate and ledger commands (opts.c, files.c).
 *
 * The command is thin: it parses arguments, calls the library, and prints. Each level of
 * commands is a table of {name, handler, summary}; a handler gets argc/argv starting at its
 * own name (argv[0] == "sla") and returns the process exit code. Not thread-safe (stdio).
 */
#ifndef SL_CLI_H
#define SL_CLI_H

#include <stddef.h>
#include <stdio.h>

#include <jansson.h>

#include "slaledger/error.h"
#include "slaledger/util.h"

#include "slaledger/version.h"

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

/**
 * Runs a group of subcommands (`slaledger <group> <subcommand> ...`): argv[0] is the group's
 * name, argv[1] the subcommand. Prints the group's usage for --help (stdout, exit 0) and for a
 * missing or unknown subcommand (stderr, SL_EXIT_USAGE); otherwise returns the handler's code.
 */
int sl__cli_group(const char *group, const sl_cmd *cmds, size_t n, int argc, char **argv);

/** What `<noun> validate` needs to know about one kind of document. */
typedef struct sl__doc_kind {
    const char *command;      /* "sla validate": names the command in messages */
    void (*usage)(FILE *out); /* the command's --help text */
    /* Parses the file at path: the library's code, *spec set on success (NULL otherwise). */
    int (*parse)(const char *path, void **spec, sl_diags *diags);
    void (*free)(void *spec);                             /* accepts NULL */
    void (*print_ok)(const char *path, const void *spec); /* the summary line, on stdout */
    json_t *(*json)(const void *spec);                    /* the summary object (new ref) */
    const char *json_key;                                 /* "agreement", "channel" */
} sl__doc_kind;

/**
 * `slaledger <noun> validate [--json] FILE...` for documents of kind k (argv[0] is
 * "validate"). Every file is checked even after one fails; options may follow the files and
 * `--` ends them. Text mode prints each valid document's summary on stdout and every problem
 * of the others on stderr as FILE:LINE:COL: error: FIELD: MESSAGE; --json prints one array of
 * {file, valid, errors[, <json_key>][, dropped]} on stdout. Returns the worst exit code.
 */
int sl__cli_validate(const sl__doc_kind *k, int argc, char **argv);

/** A JSON string of s (NULL as ""), with bytes >= 0x80 replaced by '?' when s is not valid
 * UTF-8; NULL only when out of memory. A new reference. */
json_t *sl__cli_jstr(const char *s);

/** `slaledger sla ...` (cmd_sla.c). */
int sl__cmd_sla(int argc, char **argv);

/** `slaledger channel ...` (cmd_channel.c). */
int sl__cmd_channel(int argc, char **argv);

/** `slaledger keygen` and `slaledger cert ...` (cmd_keys.c). */
int sl__cmd_keygen(int argc, char **argv);
int sl__cmd_cert(int argc, char **argv);

/** `slaledger ledger ...` (cmd_ledger.c). */
int sl__cmd_ledger(int argc, char **argv);

/** `slaledger node` (cmd_node.c). */
int sl__cmd_node(int argc, char **argv);

/** `slaledger init DIR` (cmd_init.c). */
int sl__cmd_init(int argc, char **argv);

/** `slaledger agreement|service|wallet ...`, clients of a node's API (cmd_agreement.c,
 * cmd_service.c, cmd_wallet.c; the HTTP client is client.c). */
int sl__cmd_agreement(int argc, char **argv);
int sl__cmd_service(int argc, char **argv);
int sl__cmd_wallet(int argc, char **argv);

/** `slaledger demo` (cmd_demo.c). */
int sl__cmd_demo(int argc, char **argv);

/** `slaledger oracle measure|probe` (cmd_oracle.c). */
int sl__cmd_oracle(int argc, char **argv);

/* ---- option parsing for commands with options and arguments (opts.c) ---- */

/** One option: "--out" taking a value (value != NULL) or a flag (flag != NULL). */
typedef struct sl__opt {
    const char *name;
    const char **value; /* receives the borrowed argv string; NULL when not given */
    int *flag;          /* set to 1 when given */
} sl__opt;

/** A command's command line: its name for messages, its help, options and argument count. */
typedef struct sl__cli_spec {
    const char *command;      /* "ledger verify" */
    void (*usage)(FILE *out); /* the --help text */
    const sl__opt *opts;
    size_t n_opts;
    int min_args, max_args; /* positional arguments */
} sl__cli_spec;

/**
 * Parses argv[1..argc): options as "--name VALUE" or "--name=VALUE", flags, -h/--help, and
 * positional arguments, which are moved to argv[1..*nargs]. Options may follow arguments; "--"
 * ends the options; an option given twice is an error. Returns -1 to go on, SL_EXIT_OK after
 * printing the help on stdout, or SL_EXIT_USAGE after printing the problem and the usage on
 * stderr.
 */
int sl__cli_parse(const sl__cli_spec *spec, int argc, char **argv, int *nargs);

/** Parses a decimal integer in [min, max] (no sign other than '-', no spaces, no junk).
 * 0, or SL_EXIT_USAGE after printing "slaledger CMD: OPT: ..." on stderr. */
int sl__cli_int(const char *command, const char *opt, const char *s, int64_t min, int64_t max,
                int64_t *out);

/* ---- files, errors and output for those commands (files.c) ---- */

/** Prints "slaledger CMD: WHAT[:LINE[:COL]]: [FIELD: ]MESSAGE" on stderr; FIELD is left out
 * when empty or equal to WHAT, MESSAGE falls back to sl_strerror(e->code). */
void sl__cli_error(const char *command, const char *what, const sl_error *e);

/** Appends the whole file at path (at most max bytes) to out. 0, or SL_EXIT_IO after printing
 * why on stderr. */
int sl__cli_read_file(const char *command, const char *path, size_t max, sl_buf *out);

/** Creates path, which must not exist (never overwrites), with mode, writes p[0..len) and
 * fsyncs it. 0, or SL_EXIT_IO after printing why on stderr and removing what it created. */
int sl__cli_write_new(const char *command, const char *path, const void *p, size_t len,
                      unsigned mode);

/** Creates the directory path, which must not exist, with mode. 0, or SL_EXIT_IO after printing
 * why on stderr. */
int sl__cli_mkdir(const char *command, const char *path, unsigned mode);

/** Prints j (indented, then a newline) on stdout and drops the reference; j may be NULL (out
 * of memory). 0, or SL_EXIT_IO after printing why on stderr. */
int sl__cli_print_json(const char *command, json_t *j);

/** {"code": "ECORRUPT", "field": ..., "message": ...} of e (a new reference, NULL if out of
 * memory). */
json_t *sl__cli_json_error(const sl_error *e);

/** The wall clock in milliseconds since the Unix epoch. */
int64_t sl__cli_now_ms(void);

#endif
