/*
 * cmd_sla.c: `slaledger sla ...`, commands on SLA agreement documents. For now one:
 * `sla validate [--json] FILE...`, which runs each file through sl_sla_parse_file and reports
 * a one-line summary per valid agreement, or every diagnostic as FILE:LINE:COL: error: FIELD:
 * MESSAGE (text) or as one JSON array (--json). The exit code is the worst outcome over all
 * files: SL_EXIT_IO (unreadable) over SL_EXIT_INVALID over SL_EXIT_OK.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "slaledger/error.h"
#include "slaledger/sla.h"
#include "slaledger/util.h"

#include "cli.h"

static int cmd_validate(int argc, char **argv);

static const sl_cmd sla_commands[] = {
    {"validate", cmd_validate, "check agreement documents and summarise each valid one"},
};

#define N_SLA_COMMANDS (sizeof(sla_commands) / sizeof(sla_commands[0]))

static void sla_usage(FILE *out)
{
    fprintf(out, "usage: slaledger sla <subcommand> [<args>]\n\nsubcommands:\n");
    sl__cli_list(out, sla_commands, N_SLA_COMMANDS);
    fprintf(out, "\nRun 'slaledger sla <subcommand> --help' for its options.\n");
}

int sl__cmd_sla(int argc, char **argv)
{
    const sl_cmd *cmd;

    if (argc < 2) {
        sla_usage(stderr);
        return SL_EXIT_USAGE;
    }
    if (sl__cli_is_help(argv[1])) {
        sla_usage(stdout);
        return SL_EXIT_OK;
    }
    cmd = sl__cli_find(sla_commands, N_SLA_COMMANDS, argv[1]);
    if (!cmd) {
        fprintf(stderr, "slaledger sla: unknown subcommand '%s'\n", argv[1]);
        sla_usage(stderr);
        return SL_EXIT_USAGE;
    }
    return cmd->run(argc - 1, argv + 1);
}

/* ---- sla validate ---- */

static void validate_usage(FILE *out)
{
    fprintf(out,
            "usage: slaledger sla validate [--json] FILE...\n\n"
            "Parses and validates each agreement document (YAML or JSON). A valid file gets one\n"
            "summary line on stdout; each problem of an invalid file is printed on stderr as\n"
            "FILE:LINE:COL: error: FIELD: MESSAGE.\n\n"
            "options:\n"
            "  --json      print one JSON array on stdout, an object per file, instead\n"
            "  -h, --help  show this help\n\n"
            "exit status: 0 all valid, 1 a document is invalid, 2 usage error,\n"
            "             3 a file could not be read\n");
}

/* Leaves the file names at argv[1..*nfiles]; returns -1 to go on, else an exit code. */
static int validate_args(int argc, char **argv, int *json, int *nfiles)
{
    int opts = 1;

    *json = 0;
    *nfiles = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (opts && strcmp(a, "--") == 0) {
            opts = 0;
        } else if (opts && sl__cli_is_help(a)) {
            validate_usage(stdout);
            return SL_EXIT_OK;
        } else if (opts && strcmp(a, "--json") == 0) {
            *json = 1;
        } else if (opts && a[0] == '-' && a[1] != '\0') {
            fprintf(stderr, "slaledger sla validate: unknown option '%s'\n", a);
            validate_usage(stderr);
            return SL_EXIT_USAGE;
        } else {
            argv[1 + (*nfiles)++] = argv[i];
        }
    }
    if (*nfiles == 0) {
        fprintf(stderr, "slaledger sla validate: no FILE given\n");
        validate_usage(stderr);
        return SL_EXIT_USAGE;
    }
    return -1;
}

/* The outcome of one file. */
typedef struct result {
    const char *path;
    int rc;
    sl_agreement_spec *spec;
    sl_diags diags;
} result;

static int result_exit(const result *r)
{
    if (r->rc == 0)
        return SL_EXIT_OK;
    return r->rc == SL_EIO ? SL_EXIT_IO : SL_EXIT_INVALID;
}

/* Summary strings of a valid agreement, formatted with the util formatters. */
typedef struct summary {
    char fee[32];
    char start[32];
    char end[32];
} summary;

static void summarise(const sl_agreement_spec *s, summary *out)
{
    sl_decimal_format(s->fee, s->minor_units, out->fee, sizeof(out->fee));
    sl_time_format(s->start_ms, out->start, sizeof(out->start));
    sl_time_format(s->end_ms, out->end, sizeof(out->end));
}

static void print_ok(const char *path, const sl_agreement_spec *s)
{
    summary sum;

    summarise(s, &sum);
    printf("%s: ok: agreement %s on %s, consumer %s, provider %s, %zu service%s, "
           "%zu objective%s, %zu penalt%s, fee %s %s, %s..%s\n",
           path, s->name, s->channel, s->consumer, s->provider, s->n_services,
           s->n_services == 1 ? "" : "s", s->n_objectives, s->n_objectives == 1 ? "" : "s",
           s->n_penalties, s->n_penalties == 1 ? "y" : "ies", sum.fee, s->currency, sum.start,
           sum.end);
}

/* FILE:LINE:COL: error: FIELD: MESSAGE, leaving out the parts that are 0 or empty. */
static void print_diag(const char *path, const sl_error *e)
{
    fprintf(stderr, "%s", path);
    if (e->line > 0) {
        fprintf(stderr, ":%d", e->line);
        if (e->column > 0)
            fprintf(stderr, ":%d", e->column);
    }
    fprintf(stderr, ": error: ");
    if (e->field[0] != '\0')
        fprintf(stderr, "%s: ", e->field);
    fprintf(stderr, "%s\n", e->msg[0] != '\0' ? e->msg : sl_strerror(e->code));
}

static void print_text(const result *r)
{
    if (r->rc == 0) {
        print_ok(r->path, r->spec);
        return;
    }
    for (size_t i = 0; i < r->diags.n; i++)
        print_diag(r->path, &r->diags.v[i]);
    if (r->diags.dropped > 0)
        fprintf(stderr, "%s: error: %zu more errors not shown\n", r->path, r->diags.dropped);
    if (r->diags.n == 0 && r->diags.dropped == 0)
        fprintf(stderr, "%s: error: %s\n", r->path, sl_strerror(r->rc));
}

/* ---- --json ---- */

/* A stable token for an SL_E* code, for machines ("EINVAL"). */
static const char *code_token(int code)
{
    static const char *const tokens[] = {"OK",    "EINVAL", "ENOMEM",    "ENOENT", "EEXIST",
                                         "EPERM", "ESTATE", "EOVERFLOW", "EFUNDS", "EDUP",
                                         "ETIME", "EIO",    "EPARSE"};
    if (code > 0 || -code >= (int)(sizeof(tokens) / sizeof(tokens[0])))
        return "EUNKNOWN";
    return tokens[-code];
}

/* json_string, with bytes that are not ASCII replaced by '?' if s is not valid UTF-8. */
static json_t *jstr(const char *s)
{
    json_t *j = json_string(s ? s : "");
    char *copy;

    if (j || !s)
        return j;
    copy = sl_strdup(s);
    if (!copy)
        return NULL;
    for (char *p = copy; *p; p++) {
        if ((unsigned char)*p >= 0x80)
            *p = '?';
    }
    j = json_string(copy);
    free(copy);
    return j;
}

static json_t *json_diag(const sl_error *e)
{
    return json_pack("{s:i, s:i, s:o, s:s, s:o}", "line", e->line, "column", e->column, "field",
                     jstr(e->field), "code", code_token(e->code), "message",
                     jstr(e->msg[0] != '\0' ? e->msg : sl_strerror(e->code)));
}

static json_t *json_agreement(const sl_agreement_spec *s)
{
    summary sum;

    summarise(s, &sum);
    return json_pack("{s:o, s:o, s:o, s:o, s:I, s:I, s:I, s:s, s:s, s:s, s:s}", "name",
                     jstr(s->name), "channel", jstr(s->channel), "consumer", jstr(s->consumer),
                     "provider", jstr(s->provider), "services", (json_int_t)s->n_services,
                     "objectives", (json_int_t)s->n_objectives, "penalties",
                     (json_int_t)s->n_penalties, "fee", sum.fee, "currency", s->currency, "start",
                     sum.start, "end", sum.end);
}

/* The "errors" array of one file; a failure without diagnostics still gets one entry. */
static json_t *json_errors(const result *r)
{
    json_t *errors = json_array();
    sl_error bare = {.code = r->rc};

    for (size_t i = 0; errors && i < r->diags.n; i++) {
        if (json_array_append_new(errors, json_diag(&r->diags.v[i])) != 0)
            goto fail;
    }
    if (errors && r->rc != 0 && r->diags.n == 0 && r->diags.dropped == 0 &&
        json_array_append_new(errors, json_diag(&bare)) != 0)
        goto fail;
    return errors;
fail:
    json_decref(errors);
    return NULL;
}

static json_t *json_result(const result *r)
{
    json_t *obj = json_pack("{s:o, s:b, s:o}", "file", jstr(r->path), "valid", r->rc == 0, "errors",
                            json_errors(r));

    if (!obj)
        return NULL;
    if (r->rc == 0 && json_object_set_new(obj, "agreement", json_agreement(r->spec)) != 0)
        goto fail;
    if (r->diags.dropped > 0 &&
        json_object_set_new(obj, "dropped", json_integer((json_int_t)r->diags.dropped)) != 0)
        goto fail;
    return obj;
fail:
    json_decref(obj);
    return NULL;
}

static int print_json(json_t *arr)
{
    if (!arr || json_dumpf(arr, stdout, JSON_INDENT(2)) != 0) {
        fprintf(stderr, "slaledger sla validate: cannot produce JSON output\n");
        return SL_EXIT_IO;
    }
    putchar('\n');
    return SL_EXIT_OK;
}

static int cmd_validate(int argc, char **argv)
{
    int json, nfiles, worst = SL_EXIT_OK;
    int rc = validate_args(argc, argv, &json, &nfiles);
    json_t *arr = NULL;

    if (rc >= 0)
        return rc;
    if (json)
        arr = json_array();
    for (int i = 1; i <= nfiles; i++) {
        result r = {argv[i], 0, NULL, {0}};
        r.rc = sl_sla_parse_file(r.path, &r.spec, &r.diags);
        if (json && arr && json_array_append_new(arr, json_result(&r)) != 0) {
            json_decref(arr);
            arr = NULL;
        } else if (!json) {
            print_text(&r);
        }
        if (result_exit(&r) > worst)
            worst = result_exit(&r);
        sl_agreement_spec_free(r.spec);
        sl_diags_release(&r.diags);
    }
    if (json && print_json(arr) != SL_EXIT_OK)
        worst = SL_EXIT_IO;
    json_decref(arr);
    return worst;
}
