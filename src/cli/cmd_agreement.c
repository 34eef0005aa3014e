/*
 * cmd_agreement.c: `slaledger agreement apply|accept|reject|deposit|list|show|events`, an
 * agreement's life through a node's REST API (docs/api.md): propose a document, accept it as
 * the counter-party or reject it, fund the escrow, list what the caller may see, show the
 * statement, and list the agreement's events. Each subcommand is one HTTP request (client.c);
 * writes are signed by the node as the calling user. Text output is aligned tables with
 * amounts in decimals and times in RFC 3339; --json prints the API's answer. Output and exit
 * codes: docs/cli.md. Not thread-safe (stdio).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli.h"
#include "client.h"

#define DOC_MAX (1u << 20) /* the node's body limit */

/* ---- apply ---- */

static void apply_usage(FILE *out)
{
    fprintf(out, "usage: slaledger agreement apply FILE [--node URL] [--token TOKEN] [--json]\n\n"
                 "Proposes the agreement document in FILE (YAML or JSON, docs/sla-format.md) as\n"
                 "the caller, a consumer or provider party to it: the node signs the proposal as\n"
                 "the caller and waits for its block.\n\n"
                 "options:\n" SL__CLIENT_OPTS_HELP "\n" SL__CLIENT_EXIT_HELP);
}

static int cmd_apply(int argc, char **argv)
{
    sl__client_opts o;
    const sl__opt opts[] = {SL__CLIENT_OPTS(o)};
    const sl__cli_spec spec = {"agreement apply", apply_usage, opts, 3, 1, 1};
    sl__client c = {0};
    sl_buf doc;
    json_t *j = NULL;
    int nargs, rc;

    if ((rc = sl__cli_parse(&spec, argc, argv, &nargs)) >= 0)
        return rc;
    sl_buf_init(&doc);
    if ((rc = sl__client_open(&c, spec.command, &o)) != 0 ||
        (rc = sl__cli_read_file(spec.command, argv[1], DOC_MAX, &doc)) != 0)
        goto out;
    rc = sl__client_call(&c, "POST", "/v1/agreements", (const char *)doc.p, doc.len, &j);
    if (rc == 0)
        rc = sl__client_print_tx(&c, o.json, j, "agreement %s proposed", sl__jstr(j, "agreement"));
out:
    sl_buf_release(&doc);
    sl__client_close(&c);
    return rc;
}

/* ---- accept, reject and deposit ---- */

static void accept_usage(FILE *out)
{
    fprintf(out, "usage: slaledger agreement accept NAME [--node URL] [--token TOKEN] [--json]\n\n"
                 "Accepts the proposed agreement NAME as its counter-party: the node signs the\n"
                 "proposed document's hash as the caller. Once both parties have signed, the\n"
                 "agreement is active.\n\n"
                 "options:\n" SL__CLIENT_OPTS_HELP "\n" SL__CLIENT_EXIT_HELP);
}

/* POST /v1/agreements/NAME/SUFFIX with body; prints the outcome led by "agreement NAME VERB". */
static int post_agreement(const char *command, const sl__client_opts *o, const char *name,
                          const char *suffix, const char *body, const char *verb)
{
    sl__client c = {0};
    sl_buf path;
    json_t *j = NULL;
    int rc;

    sl_buf_init(&path);
    sl_buf_printf(&path, "/v1/agreements/");
    sl__client_esc(&path, name);
    sl_buf_printf(&path, "/%s", suffix);
    if ((rc = sl__client_open(&c, command, o)) == 0)
        rc = sl__client_call(&c, "POST", sl_buf_cstr(&path), body, body ? strlen(body) : 0, &j);
    if (rc == 0)
        rc = sl__client_print_tx(&c, o->json, j, "agreement %s %s", name, verb);
    sl_buf_release(&path);
    sl__client_close(&c);
    return rc;
}

static int cmd_accept(int argc, char **argv)
{
    sl__client_opts o;
    const sl__opt opts[] = {SL__CLIENT_OPTS(o)};
    const sl__cli_spec spec = {"agreement accept", accept_usage, opts, 3, 1, 1};
    int nargs, rc;

    if ((rc = sl__cli_parse(&spec, argc, argv, &nargs)) >= 0)
        return rc;
    return post_agreement(spec.command, &o, argv[1], "accept", NULL, "accepted");
}

static void reject_usage(FILE *out)
{
    fprintf(out, "usage: slaledger agreement reject NAME [--node URL] [--token TOKEN] [--json]\n\n"
                 "Rejects the proposed agreement NAME as either party (the proposer withdraws\n"
                 "it, the counter-party declines it): the node signs the rejection as the caller.\n"
                 "A rejected agreement can never be accepted.\n\n"
                 "options:\n" SL__CLIENT_OPTS_HELP "\n" SL__CLIENT_EXIT_HELP);
}

static int cmd_reject(int argc, char **argv)
{
    sl__client_opts o;
    const sl__opt opts[] = {SL__CLIENT_OPTS(o)};
    const sl__cli_spec spec = {"agreement reject", reject_usage, opts, 3, 1, 1};
    int nargs, rc;

    if ((rc = sl__cli_parse(&spec, argc, argv, &nargs)) >= 0)
        return rc;
    return post_agreement(spec.command, &o, argv[1], "reject", NULL, "rejected");
}

static void deposit_usage(FILE *out)
{
    fprintf(
        out,
        "usage: slaledger agreement deposit NAME AMOUNT [--node URL] [--token TOKEN] [--json]\n\n"
        "Moves AMOUNT (a decimal in the agreement's currency, e.g. 1000.00) from the\n"
        "consumer's wallet into the agreement's escrow. Only the consumer may deposit.\n\n"
        "options:\n" SL__CLIENT_OPTS_HELP "\n" SL__CLIENT_EXIT_HELP);
}

static int cmd_deposit(int argc, char **argv)
{
    sl__client_opts o;
    const sl__opt opts[] = {SL__CLIENT_OPTS(o)};
    const sl__cli_spec spec = {"agreement deposit", deposit_usage, opts, 3, 2, 2};
    char verb[96];
    char *body;
    json_t *req;
    int nargs, rc;

    if ((rc = sl__cli_parse(&spec, argc, argv, &nargs)) >= 0)
        return rc;
    req = json_pack("{s:o}", "amount", sl__cli_jstr(argv[2]));
    body = req ? json_dumps(req, JSON_COMPACT) : NULL;
    json_decref(req);
    if (!body) {
        fprintf(stderr, "slaledger %s: out of memory\n", spec.command);
        return SL_EXIT_INVALID;
    }
    sl_strfmt(verb, sizeof(verb), "funded with %s", argv[2]);
    rc = post_agreement(spec.command, &o, argv[1], "deposit", body, verb);
    free(body);
    return rc;
}

/* ---- list ---- */

static void list_usage(FILE *out)
{
    fprintf(out, "usage: slaledger agreement list [--node URL] [--token TOKEN] [--json]\n\n"
                 "Lists the agreements the caller may see (its organization's, or all for an\n"
                 "auditor): name, status, channel, parties and money totals.\n\n"
                 "options:\n" SL__CLIENT_OPTS_HELP "\n" SL__CLIENT_EXIT_HELP);
}

/* One row of the list; amounts in decimals when the answer names the currency. */
static void list_row(sl__table *t, const json_t *a)
{
    const char *cur = json_string_value(json_object_get(a, "currency"));
    char esc[48], dep[48], pen[48], set[48], ref[48];

    sl__table_add(t, sl__jstr(a, "name"), sl__jstr(a, "status"), sl__jstr(a, "channel"),
                  sl__jstr(a, "consumer"), sl__jstr(a, "provider"),
                  sl__jamount(a, "escrow", cur, esc, sizeof(esc)),
                  sl__jamount(a, "deposited", cur, dep, sizeof(dep)),
                  sl__jamount(a, "penalties", cur, pen, sizeof(pen)),
                  sl__jamount(a, "settled", cur, set, sizeof(set)),
                  sl__jamount(a, "refunded", cur, ref, sizeof(ref)));
}

static int print_list(const json_t *j)
{
    const json_t *all = json_object_get(j, "agreements"), *a;
    sl__table t;
    size_t i;
    int minor = 0;

    if (json_array_size(all) == 0) {
        printf("no agreements visible to the caller\n");
        return 0;
    }
    sl__table_init(&t, "lllllrrrrr", "NAME", "STATUS", "CHANNEL", "CONSUMER", "PROVIDER", "ESCROW",
                   "DEPOSITED", "PENALTIES", "SETTLED", "REFUNDED");
    json_array_foreach(all, i, a)
    {
        list_row(&t, a);
        minor |= !json_is_string(json_object_get(a, "currency"));
    }
    int rc = sl__table_print(&t, 0);
    if (minor)
        printf("(amounts in minor units of each agreement's currency; "
               "'slaledger agreement show NAME' gives decimals)\n");
    return rc;
}

static int cmd_list(int argc, char **argv)
{
    sl__client_opts o;
    const sl__opt opts[] = {SL__CLIENT_OPTS(o)};
    const sl__cli_spec spec = {"agreement list", list_usage, opts, 3, 0, 0};
    sl__client c = {0};
    json_t *j = NULL;
    int nargs, rc;

    if ((rc = sl__cli_parse(&spec, argc, argv, &nargs)) >= 0)
        return rc;
    if ((rc = sl__client_open(&c, spec.command, &o)) == 0)
        rc = sl__client_call(&c, "GET", "/v1/agreements", NULL, 0, &j);
    if (rc == 0 && o.json) {
        rc = sl__client_print_json(&c, j);
        j = NULL;
    } else if (rc == 0) {
        rc = print_list(j);
    }
    json_decref(j);
    sl__client_close(&c);
    return rc;
}

/* ---- show ---- */

static void show_usage(FILE *out)
{
    fprintf(out,
            "usage: slaledger agreement show NAME [--all] [--node URL] [--token TOKEN] [--json]\n\n"
            "Shows the agreement's statement: status, parties, period, fee, where the money\n"
            "went (escrow, deposited, penalties, settled, refunded), and per objective its\n"
            "windows with compliance, penalty owed and paid, tier and whether closed. Windows\n"
            "without measurements or money are left out unless --all is given.\n\n"
            "options:\n"
            "  --all          list every window, measured or not\n" SL__CLIENT_OPTS_HELP
            "\n" SL__CLIENT_EXIT_HELP);
}

static void show_header(const json_t *s)
{
    const char *cur = sl__jstr(s, "currency");
    const json_t *period = json_object_get(s, "period");
    static const char *const money[] = {"fee",     "escrow",   "deposited", "penalties",
                                        "settled", "refunded", "shortfall"};
    char buf[64];

    printf("agreement %s (%s) on channel %s\n", sl__jstr(s, "agreement"), sl__jstr(s, "status"),
           sl__jstr(s, "channel"));
    printf("  consumer   %s\n  provider   %s\n", sl__jstr(s, "consumer"), sl__jstr(s, "provider"));
    printf("  period     %s .. %s\n", sl__jstr(period, "start"), sl__jstr(period, "end"));
    for (size_t i = 0; i < sizeof(money) / sizeof(money[0]); i++)
        printf("  %-10s %s\n", money[i], sl__jamount(s, money[i], cur, buf, sizeof(buf)));
}

/* True when window w has something to show: measurements, money, or it is closed. */
static int window_used(const json_t *w)
{
    const char *owed = sl__jstr(w, "owed"), *paid = sl__jstr(w, "paid");

    return json_integer_value(json_object_get(w, "good")) > 0 ||
           json_integer_value(json_object_get(w, "bad")) > 0 ||
           json_integer_value(json_object_get(w, "unknown")) > 0 ||
           json_is_true(json_object_get(w, "closed")) || strspn(owed, "0.") != strlen(owed) ||
           strspn(paid, "0.") != strlen(paid);
}

static void window_row(sl__table *t, const json_t *w, const char *cur)
{
    char good[24], bad[24], unk[24], owed[48], paid[48], tier[24];

    sl__table_add(
        t, sl__jstr(w, "start"), sl__jstr(w, "end"), sl__jint(w, "good", good, sizeof(good)),
        sl__jint(w, "bad", bad, sizeof(bad)), sl__jint(w, "unknown", unk, sizeof(unk)),
        sl__jstr(w, "compliance"), sl__jamount(w, "owed", cur, owed, sizeof(owed)),
        sl__jamount(w, "paid", cur, paid, sizeof(paid)), sl__jint(w, "tier", tier, sizeof(tier)),
        json_is_true(json_object_get(w, "closed")) ? "yes" : "no");
}

static int show_objective(const json_t *obj, const char *cur, int all)
{
    const json_t *wins = json_object_get(obj, "windows"), *w;
    char target[48];
    size_t i, shown = 0;
    sl__table t;

    printf("\nobjective %s: %s, target %s, %zu window%s\n", sl__jstr(obj, "name"),
           sl__jstr(obj, "metric"),
           sl__jvalue(json_integer_value(json_object_get(obj, "target")), sl__jstr(obj, "unit"),
                      target, sizeof(target)),
           json_array_size(wins), json_array_size(wins) == 1 ? "" : "s");
    sl__table_init(&t, "llrrrrrrrl", "START", "END", "GOOD", "BAD", "UNKNOWN", "COMPLIANCE", "OWED",
                   "PAID", "TIER", "CLOSED");
    json_array_foreach(wins, i, w)
    {
        if (all || window_used(w)) {
            window_row(&t, w, cur);
            shown++;
        }
    }
    if (shown == 0) {
        sl__table_release(&t);
        printf("  no window measured yet (--all lists them)\n");
        return 0;
    }
    int rc = sl__table_print(&t, 2);
    if (shown < json_array_size(wins))
        printf("  (%zu windows without measurements not shown; --all lists them)\n",
               json_array_size(wins) - shown);
    return rc;
}

static int print_statement(const json_t *s, int all)
{
    const char *cur = sl__jstr(s, "currency");
    const json_t *obj;
    size_t i;
    int rc = 0;

    show_header(s);
    json_array_foreach(json_object_get(s, "objectives"), i, obj)
    {
        if ((rc = show_objective(obj, cur, all)) != 0)
            break;
    }
    return rc;
}

static int cmd_show(int argc, char **argv)
{
    sl__client_opts o;
    int all = 0;
    const sl__opt opts[] = {SL__CLIENT_OPTS(o), {"--all", NULL, &all}};
    const sl__cli_spec spec = {"agreement show", show_usage, opts, 4, 1, 1};
    sl__client c = {0};
    json_t *j = NULL;
    int nargs, rc;

    if ((rc = sl__cli_parse(&spec, argc, argv, &nargs)) >= 0)
        return rc;
    if ((rc = sl__client_open(&c, spec.command, &o)) == 0)
        rc = sl__client_get_agreement(&c, argv[1], "", NULL, &j);
    if (rc == 0 && o.json) {
        rc = sl__client_print_json(&c, j);
        j = NULL;
    } else if (rc == 0) {
        rc = print_statement(j, all);
    }
    json_decref(j);
    sl__client_close(&c);
    return rc;
}

/* ---- events ---- */

static void events_usage(FILE *out)
{
    fprintf(out, "usage: slaledger agreement events NAME [--kind K] [--objective O] [--from TIME]\n"
                 "                                  [--to TIME] [--limit N] [--offset N]\n"
                 "                                  [--node URL] [--token TOKEN] [--json]\n\n"
                 "Lists the agreement's events, oldest first: proposed, activated, deposited,\n"
                 "decided intervals, violations, penalties, settlements, refunds, closing.\n\n"
                 "options:\n"
                 "  --kind K       only events of this kind (e.g. violation, penalty, decided)\n"
                 "  --objective O  only events of this objective\n"
                 "  --from TIME    only intervals starting at or after TIME (RFC 3339)\n"
                 "  --to TIME      only intervals ending at or before TIME (RFC 3339)\n"
                 "  --limit N      at most N events, 0..1000 (default 100)\n"
                 "  --offset N     skip the first N events\n" SL__CLIENT_OPTS_HELP
                 "\n" SL__CLIENT_EXIT_HELP);
}

static void event_row(sl__table *t, const json_t *e)
{
    const char *cur = json_string_value(json_object_get(e, "currency"));
    const json_t *amount = json_object_get(e, "amount");
    char h[24], v[24], a[48], tier[24];
    int has_value = json_integer_value(json_object_get(e, "value")) >= 0;

    sl__table_add(t, sl__jint(e, "height", h, sizeof(h)), sl__jstr(e, "kind"),
                  sl__jstr(e, "objective"), sl__jtime(e, "start"), sl__jtime(e, "end"),
                  sl__jstr(e, "outcome"), has_value ? sl__jint(e, "value", v, sizeof(v)) : "-",
                  json_integer_value(amount) != 0 ? sl__jamount(e, "amount", cur, a, sizeof(a))
                                                  : "-",
                  sl__jstr(e, "to"), sl__jint(e, "tier", tier, sizeof(tier)));
}

static int print_events(const json_t *j)
{
    const json_t *all = json_object_get(j, "events"), *e;
    char lim[24], off[24];
    sl__table t;
    size_t i;

    if (json_array_size(all) == 0) {
        printf("agreement %s: no events (offset %s)\n", sl__jstr(j, "agreement"),
               sl__jint(j, "offset", off, sizeof(off)));
        return 0;
    }
    sl__table_init(&t, "rllllllrlr", "BLOCK", "KIND", "OBJECTIVE", "START", "END", "OUTCOME",
                   "VALUE", "AMOUNT", "TO", "TIER");
    json_array_foreach(all, i, e) event_row(&t, e);
    int rc = sl__table_print(&t, 0);
    if ((json_int_t)json_array_size(all) == json_integer_value(json_object_get(j, "limit")))
        printf("(limit %s reached: more may follow with --offset)\n",
               sl__jint(j, "limit", lim, sizeof(lim)));
    return rc;
}

static int cmd_events(int argc, char **argv)
{
    sl__client_opts o;
    sl__client_filter f = {0};
    const sl__opt opts[] = {SL__CLIENT_OPTS(o),
                            {"--kind", &f.kind, NULL},
                            {"--objective", &f.objective, NULL},
                            {"--from", &f.from, NULL},
                            {"--to", &f.to, NULL},
                            {"--limit", &f.limit, NULL},
                            {"--offset", &f.offset, NULL}};
    const sl__cli_spec spec = {"agreement events", events_usage, opts, 9, 1, 1};
    return sl__client_filtered(&spec, argc, argv, &o, &f, "/events", print_events);
}

/* ---- the group ---- */

static const sl_cmd agreement_commands[] = {
    {"apply", cmd_apply, "propose an agreement document"},
    {"accept", cmd_accept, "accept a proposed agreement as its counter-party"},
    {"reject", cmd_reject, "reject a proposed agreement (either party)"},
    {"deposit", cmd_deposit, "fund an agreement's escrow (the consumer)"},
    {"list", cmd_list, "list the agreements the caller may see"},
    {"show", cmd_show, "show an agreement's statement: money and compliance per window"},
    {"events", cmd_events, "list an agreement's events: violations, penalties, settlements"},
};

int sl__cmd_agreement(int argc, char **argv)
{
    return sl__cli_group("agreement", agreement_commands,
                         sizeof(agreement_commands) / sizeof(agreement_commands[0]), argc, argv);
}
