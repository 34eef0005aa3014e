/*
 * client.h: what the commands that talk to a node over HTTP share (client.c): where the node is
 * and who speaks (--node, --token and their environment defaults), one request with libcurl
 * and its JSON answer, the mapping of the API's error shape to a message and an exit code, and
 * the helpers of their human output (aligned tables, amounts, times).
 *
 * Used by cmd_agreement.c, cmd_service.c and cmd_wallet.c. The token is never printed; the
 * sl__client holds the only copy of the Authorization header and wipes it on close. Not
 * thread-safe (stdio, one request at a time).
 */
#ifndef SL_CLI_CLIENT_H
#define SL_CLI_CLIENT_H

#include <stddef.h>
#include <stdio.h>

#include <jansson.h>

#include "slaledger/util.h"

/* The node's address when neither --node nor SLALEDGER_NODE names one. */
#define SL__CLIENT_DEFAULT_NODE "http://127.0.0.1:8640"

/* Every request, connection included, is abandoned after this many seconds. */
#define SL__CLIENT_TIMEOUT_S 30

/** The options every client command takes; fill with SL__CLIENT_OPTS. */
typedef struct sl__client_opts {
    const char *node;  /* --node URL, or NULL */
    const char *token; /* --token TOKEN, or NULL */
    int json;          /* --json */
} sl__client_opts;

/* The three sl__opt entries of --node, --token and --json for an sl__client_opts o. */
#define SL__CLIENT_OPTS(o)                                                                         \
    {"--node", &(o).node, NULL}, {"--token", &(o).token, NULL},                                    \
    {                                                                                              \
        "--json", NULL, &(o).json                                                                  \
    }

/* The help lines of those options, for the commands' usage texts. */
#define SL__CLIENT_OPTS_HELP                                                                       \
    "  --node URL     the node's API (default $SLALEDGER_NODE, else " SL__CLIENT_DEFAULT_NODE      \
    ")\n"                                                                                          \
    "  --token TOKEN  the caller's API token (default $SLALEDGER_TOKEN; prefer the variable)\n"    \
    "  --json         print the API's JSON answer instead of the text\n"                           \
    "  -h, --help     show this help\n"

/* The exit-status lines every client command shares. */
#define SL__CLIENT_EXIT_HELP                                                                       \
    "exit status: 0 done, 1 refused by the node (bad input, no or unknown token, not allowed,\n"   \
    "             not found or not visible, conflicts with the ledger), 2 usage error,\n"          \
    "             3 the node cannot be reached, times out or fails (5xx), or a file is "           \
    "unreadable\n"

/** A resolved node address and caller. Initialized by sl__client_open, wiped by _close. */
typedef struct sl__client {
    const char *command; /* "agreement show": names the command in messages */
    char base[512];      /* the node's URL without a trailing '/' */
    char auth[512];      /* "Authorization: Bearer TOKEN", or "" without a token */
} sl__client;

/**
 * Resolves the node's URL (o->node, else $SLALEDGER_NODE, else the default) and the token
 * (o->token, else $SLALEDGER_TOKEN; an empty one counts as none). The URL must be http:// or
 * https://; a token is refused on plain http to a host that is not loopback (127.0.0.0/8,
 * localhost, ::1), where it would cross the network in clear. 0, or SL_EXIT_USAGE after
 * printing why on stderr. Always call sl__client_close afterwards.
 */
int sl__client_open(sl__client *c, const char *command, const sl__client_opts *o);

/** Wipes the copy of the token c holds. Accepts NULL. */
void sl__client_close(sl__client *c);

/**
 * Sends METHOD base+path (path starts with '/', already escaped) with body[0..len) (NULL for
 * none) and parses the JSON answer. On 2xx: 0 and *out (a new reference the caller drops).
 * Otherwise *out is NULL and the problem is printed on stderr as "slaledger CMD: URL: MESSAGE"
 * with the API's error code and field; returns SL_EXIT_INVALID for a 4xx answer, SL_EXIT_IO
 * when the node cannot be reached, times out, answers 5xx or not JSON.
 */
int sl__client_call(sl__client *c, const char *method, const char *path, const char *body,
                    size_t len, json_t **out);

/** GET /v1/agreements/NAME (name escaped) followed by suffix ("" or "/events") and the query
 * built in query (may be NULL): sl__client_call's result. */
int sl__client_get_agreement(sl__client *c, const char *name, const char *suffix,
                             const sl_buf *query, json_t **out);

/** Appends s to b percent-encoded as one path segment or query value (RFC 3986 unreserved
 * characters are kept). */
void sl__client_esc(sl_buf *b, const char *s);

/** Appends "?key=value" (or "&key=value" when b already holds a '?') with value escaped; does
 * nothing when value is NULL. */
void sl__client_query(sl_buf *b, const char *key, const char *value);

/** Prints j as the command's --json output (indented) and drops the reference. 0 or
 * SL_EXIT_IO. */
int sl__client_print_json(const sl__client *c, json_t *j);

/** The filters of the events and history routes, as options (borrowed argv strings). */
typedef struct sl__client_filter {
    const char *kind, *objective, *from, *to, *limit, *offset;
} sl__client_filter;

/**
 * Checks f (times RFC 3339, limit 0..1000, offset >= 0) and appends it to path as a query.
 * 0, or SL_EXIT_USAGE after printing the bad option on stderr.
 */
int sl__client_filter_query(const char *command, const sl__client_filter *f, sl_buf *path);

/**
 * The body of the filtered listing commands (`service history`, `agreement events`): parses
 * argv with spec (whose options fill *o and *f), GETs /v1/agreements/{argv[1]}{suffix} with
 * the filter as its query, and prints the answer as JSON (--json) or with print. Returns the
 * command's exit code.
 */
int sl__client_filtered(const sl__cli_spec *spec, int argc, char **argv, sl__client_opts *o,
                        const sl__client_filter *f, const char *suffix,
                        int (*print)(const json_t *j));

/**
 * Prints the answer to a write, {"agreement", "channel", "transaction", "height", ...}, as
 * "LEAD: channel C, transaction ID, block H" (LEAD formatted from fmt), or as JSON with
 * c's --json; drops the reference. 0 or SL_EXIT_IO.
 */
int sl__client_print_tx(const sl__client *c, int json, json_t *j, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* ---- human output ---- */

/** A table printed with aligned columns; align has one letter per column: 'l' or 'r'. */
typedef struct sl__table {
    const char *align;
    json_t *rows; /* array of arrays of strings; the first is the header */
} sl__table;

/** Starts a table; the header cells follow as strlen(align) const char * arguments. */
void sl__table_init(sl__table *t, const char *align, ...);

/** Adds a row of strlen(align) const char * cells; NULL cells print as "-". */
void sl__table_add(sl__table *t, ...);

/** Prints the table (indented by indent spaces) on stdout and releases it. 0, or SL_EXIT_INVALID
 * when out of memory. */
int sl__table_print(sl__table *t, int indent);

/** Releases a table without printing it. */
void sl__table_release(sl__table *t);

/** The string member key of o, or "-" when it is missing, null or not a string. */
const char *sl__jstr(const json_t *o, const char *key);

/**
 * Formats member key of o as an amount with its currency into buf: a decimal string is shown as
 * is ("1000.00 EUR"), an integer in minor units is scaled by the currency's decimals. "-" when
 * missing.
 */
const char *sl__jamount(const json_t *o, const char *key, const char *currency, char *buf,
                        size_t cap);

/** Formats a ppm value as a percentage, or an integer with its unit ("300 ms"), into buf. */
const char *sl__jvalue(int64_t v, const char *unit, char *buf, size_t cap);

/** An RFC 3339 time member key of o, or "-" when missing or at the epoch (the API's "none"). */
const char *sl__jtime(const json_t *o, const char *key);

/** Formats an integer member key of o into buf ("-" when missing or not an integer). */
const char *sl__jint(const json_t *o, const char *key, char *buf, size_t cap);

#endif
