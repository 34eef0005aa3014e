/*
 * cmd_channel.c: `slaledger channel ...`, commands on channel documents (kind: Channel, the
 * content of a channel's genesis). For now one: `channel validate [--json] FILE...`, which runs
 * each file through sl_channel_parse_file with the shared validate driver of cli.c and
 * summarises each valid channel in one line (text) or one JSON object (--json), with the same
 * output conventions and exit codes as `sla validate` (docs/cli.md).
 */
#include <stdio.h>

#include <jansson.h>

#include "slaledger/sla.h"
#include "slaledger/util.h"

#include "cli.h"

static int cmd_validate(int argc, char **argv);

static const sl_cmd channel_commands[] = {
    {"validate", cmd_validate, "check channel documents and summarise each valid one"},
};

#define N_CHANNEL_COMMANDS (sizeof(channel_commands) / sizeof(channel_commands[0]))

int sl__cmd_channel(int argc, char **argv)
{
    return sl__cli_group("channel", channel_commands, N_CHANNEL_COMMANDS, argc, argv);
}

/* ---- channel validate ---- */

static void validate_usage(FILE *out)
{
    fprintf(out,
            "usage: slaledger channel validate [--json] FILE...\n\n"
            "Parses and validates each channel document (YAML or JSON): its organizations,\n"
            "their roles and root keys, the issuer and the ordering settings. A valid file gets\n"
            "one summary line on stdout; each problem of an invalid file is printed on stderr\n"
            "as FILE:LINE:COL: error: FIELD: MESSAGE.\n\n"
            "options:\n"
            "  --json      print one JSON array on stdout, an object per file, instead\n"
            "  -h, --help  show this help\n\n"
            "exit status: 0 all valid, 1 a document is invalid, 2 usage error,\n"
            "             3 a file could not be read\n");
}

/* "consumer, node": the names of a role mask. */
static void print_roles(unsigned roles)
{
    const char *sep = "";

    for (unsigned bit = 1; bit <= SL_ROLE_ALL; bit <<= 1) {
        if (!(roles & bit))
            continue;
        printf("%s%s", sep, sl_role_name((sl_role)bit));
        sep = ", ";
    }
}

static void print_ok(const char *path, const void *spec)
{
    const sl_channel_spec *s = spec;
    char block[24], tx[24], timeout[24];

    sl_size_format(s->max_block_bytes, block, sizeof(block));
    sl_size_format(s->max_tx_bytes, tx, sizeof(tx));
    sl_duration_format(s->block_timeout_ms, timeout, sizeof(timeout));
    printf("%s: ok: channel %s, %zu organization%s: ", path, s->name, s->n_orgs,
           s->n_orgs == 1 ? "" : "s");
    for (size_t i = 0; i < s->n_orgs; i++) {
        printf("%s%s (", i ? ", " : "", s->orgs[i].name);
        print_roles(s->orgs[i].roles);
        printf(")");
    }
    printf("; issuer %s; %s ordering", s->orgs[s->issuer].name, sl_order_kind_name(s->order));
    if (s->orderer_org)
        printf(" by %s of %s", s->orderer_name, s->orderer_org);
    else if (s->order == SL_ORDER_SOLO)
        printf(" by the node that signs the genesis");
    printf(", blocks of at most %u transactions, %s or %s, transactions of at most %s\n",
           s->max_block_txs, block, timeout, tx);
}

static json_t *json_roles(unsigned roles)
{
    json_t *arr = json_array();

    for (unsigned bit = 1; arr && bit <= SL_ROLE_ALL; bit <<= 1) {
        if ((roles & bit) && json_array_append_new(arr, json_string(sl_role_name((sl_role)bit)))) {
            json_decref(arr);
            return NULL;
        }
    }
    return arr;
}

static json_t *json_orgs(const sl_channel_spec *s)
{
    json_t *arr = json_array();
    char hex[2 * 32 + 1];

    for (size_t i = 0; arr && i < s->n_orgs; i++) {
        sl_hex(s->orgs[i].root_pk, sizeof(s->orgs[i].root_pk), hex);
        if (json_array_append_new(arr, json_pack("{s:o, s:o, s:s}", "name",
                                                 sl__cli_jstr(s->orgs[i].name), "roles",
                                                 json_roles(s->orgs[i].roles), "root_key", hex))) {
            json_decref(arr);
            return NULL;
        }
    }
    return arr;
}

static json_t *json_channel(const void *spec)
{
    const sl_channel_spec *s = spec;

    json_t *orderer = NULL;
    if (s->orderer_org)
        orderer = json_pack("{s:o, s:o}", "org", sl__cli_jstr(s->orderer_org), "name",
                            sl__cli_jstr(s->orderer_name));
    return json_pack("{s:o, s:o?, s:o, s:o, s:{s:s, s:o*, s:I, s:I, s:I, s:I}}", "name",
                     sl__cli_jstr(s->name), "description",
                     s->description ? sl__cli_jstr(s->description) : NULL, "issuer",
                     sl__cli_jstr(s->orgs[s->issuer].name), "organizations", json_orgs(s),
                     "ordering", "kind", sl_order_kind_name(s->order), "orderer", orderer,
                     "max_block_txs", (json_int_t)s->max_block_txs, "max_block_bytes",
                     (json_int_t)s->max_block_bytes, "block_timeout_ms",
                     (json_int_t)s->block_timeout_ms, "max_tx_bytes", (json_int_t)s->max_tx_bytes);
}

static int parse(const char *path, void **spec, sl_diags *diags)
{
    sl_channel_spec *s = NULL;
    int rc = sl_channel_parse_file(path, &s, diags);

    *spec = s;
    return rc;
}

static void spec_free(void *spec)
{
    sl_channel_spec_free(spec);
}

static const sl__doc_kind channel_kind = {
    .command = "channel validate",
    .usage = validate_usage,
    .parse = parse,
    .free = spec_free,
    .print_ok = print_ok,
    .json = json_channel,
    .json_key = "channel",
};

static int cmd_validate(int argc, char **argv)
{
    return sl__cli_validate(&channel_kind, argc, argv);
}
