/*
 * cmd_sla.c: `slaledger sla ...`, commands on SLA agreement documents. For now one:
 * `sla validate [--json] FILE...`, which runs each file through sl_sla_parse_file with the
 * shared validate driver of cli.c and summarises each valid agreement in one line (text) or
 * one JSON object (--json). Output and exit codes are described in docs/cli.md.
 */
#include <stdio.h>

#include <jansson.h>

#include "slaledger/sla.h"
#include "slaledger/util.h"

#include "cli.h"

static int cmd_validate(int argc, char **argv);

static const sl_cmd sla_commands[] = {
    {"validate", cmd_validate, "check agreement documents and summarise each valid one"},
};

#define N_SLA_COMMANDS (sizeof(sla_commands) / sizeof(sla_commands[0]))

int sl__cmd_sla(int argc, char **argv)
{
    return sl__cli_group("sla", sla_commands, N_SLA_COMMANDS, argc, argv);
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

static void print_ok(const char *path, const void *spec)
{
    const sl_agreement_spec *s = spec;
    summary sum;

    summarise(s, &sum);
    printf("%s: ok: agreement %s on %s, consumer %s, provider %s, %zu service%s, "
           "%zu objective%s, %zu penalt%s, fee %s %s, %s..%s\n",
           path, s->name, s->channel, s->consumer, s->provider, s->n_services,
           s->n_services == 1 ? "" : "s", s->n_objectives, s->n_objectives == 1 ? "" : "s",
           s->n_penalties, s->n_penalties == 1 ? "y" : "ies", sum.fee, s->currency, sum.start,
           sum.end);
}

static json_t *json_agreement(const void *spec)
{
    const sl_agreement_spec *s = spec;
    summary sum;

    summarise(s, &sum);
    return json_pack("{s:o, s:o, s:o, s:o, s:I, s:I, s:I, s:s, s:s, s:s, s:s}", "name",
                     sl__cli_jstr(s->name), "channel", sl__cli_jstr(s->channel), "consumer",
                     sl__cli_jstr(s->consumer), "provider", sl__cli_jstr(s->provider), "services",
                     (json_int_t)s->n_services, "objectives", (json_int_t)s->n_objectives,
                     "penalties", (json_int_t)s->n_penalties, "fee", sum.fee, "currency",
                     s->currency, "start", sum.start, "end", sum.end);
}

static int parse(const char *path, void **spec, sl_diags *diags)
{
    sl_agreement_spec *s = NULL;
    int rc = sl_sla_parse_file(path, &s, diags);

    *spec = s;
    return rc;
}

static void spec_free(void *spec)
{
    sl_agreement_spec_free(spec);
}

static const sl__doc_kind agreement_kind = {
    .command = "sla validate",
    .usage = validate_usage,
    .parse = parse,
    .free = spec_free,
    .print_ok = print_ok,
    .json = json_agreement,
    .json_key = "agreement",
};

static int cmd_validate(int argc, char **argv)
{
    return sl__cli_validate(&agreement_kind, argc, argv);
}
