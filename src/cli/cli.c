/*
 * cli.c: helpers shared by every level of the slaledger command: help detection, command-table
 * lookup, listing and dispatch of a group of subcommands, and the `<noun> validate` driver that
 * `sla validate` and `channel validate` share. The driver checks each file with the kind's
 * parser and prints a one-line summary per valid document, or every diagnostic as
 * FILE:LINE:COL: error: FIELD: MESSAGE (text) or as one JSON array (--json); the exit code is
 * the worst outcome over all files: SL_EXIT_IO (unreadable) over SL_EXIT_INVALID over
 * SL_EXIT_OK. No state; not thread-safe (stdio).
 */
#include <stdlib.h>
#include <string.h>

#include "slaledger/util.h"

#include "cli.h"

int sl__cli_is_help(const char *arg)
{
    return strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0;
}

const sl_cmd *sl__cli_find(const sl_cmd *cmds, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++) {
        if (strcmp(cmds[i].name, name) == 0)
            return &cmds[i];
    }
    return NULL;
}

void sl__cli_list(FILE *out, const sl_cmd *cmds, size_t n)
{
    for (size_t i = 0; i < n; i++)
        fprintf(out, "  %-12s %s\n", cmds[i].name, cmds[i].summary);
}

static void group_usage(FILE *out, const char *group, const sl_cmd *cmds, size_t n)
{
    fprintf(out, "usage: slaledger %s <subcommand> [<args>]\n\nsubcommands:\n", group);
    sl__cli_list(out, cmds, n);
    fprintf(out, "\nRun 'slaledger %s <subcommand> --help' for its options.\n", group);
}

int sl__cli_group(const char *group, const sl_cmd *cmds, size_t n, int argc, char **argv)
{
    const sl_cmd *cmd;

    if (argc < 2) {
        group_usage(stderr, group, cmds, n);
        return SL_EXIT_USAGE;
    }
    if (sl__cli_is_help(argv[1])) {
        group_usage(stdout, group, cmds, n);
        return SL_EXIT_OK;
    }
    cmd = sl__cli_find(cmds, n, argv[1]);
    if (!cmd) {
        fprintf(stderr, "slaledger %s: unknown subcommand '%s'\n", group, argv[1]);
        group_usage(stderr, group, cmds, n);
        return SL_EXIT_USAGE;
    }
    return cmd->run(argc - 1, argv + 1);
}

/* ---- <noun> validate ---- */

/* Leaves the file names at argv[1..*nfiles]; returns -1 to go on, else an exit code. */
static int validate_args(const sl__doc_kind *k, int argc, char **argv, int *json, int *nfiles)
{
    int opts = 1;

    *json = 0;
    *nfiles = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (opts && strcmp(a, "--") == 0) {
            opts = 0;
        } else if (opts && sl__cli_is_help(a)) {
            k->usage(stdout);
            return SL_EXIT_OK;
        } else if (opts && strcmp(a, "--json") == 0) {
            *json = 1;
        } else if (opts && a[0] == '-' && a[1] != '\0') {
            fprintf(stderr, "slaledger %s: unknown option '%s'\n", k->command, a);
            k->usage(stderr);
            return SL_EXIT_USAGE;
        } else {
            argv[1 + (*nfiles)++] = argv[i];
        }
    }
    if (*nfiles == 0) {
        fprintf(stderr, "slaledger %s: no FILE given\n", k->command);
        k->usage(stderr);
        return SL_EXIT_USAGE;
    }
    return -1;
}

/* The outcome of one file. */
typedef struct result {
    const char *path;
    int rc;
    void *spec;
    sl_diags diags;
} result;

static int result_exit(const result *r)
{
    if (r->rc == 0)
        return SL_EXIT_OK;
    return r->rc == SL_EIO ? SL_EXIT_IO : SL_EXIT_INVALID;
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

static void print_text(const sl__doc_kind *k, const result *r)
{
    if (r->rc == 0) {
        k->print_ok(r->path, r->spec);
        return;
    }
    for (size_t i = 0; i < r->diags.n; i++)
        print_diag(r->path, &r->diags.v[i]);
    if (r->diags.dropped > 0)
        fprintf(stderr, "%s: error: %zu more errors not shown\n", r->path, r->diags.dropped);
    if (r->diags.n == 0 && r->diags.dropped == 0)
        fprintf(stderr, "%s: error: %s\n", r->path, sl_strerror(r->rc));
}

json_t *sl__cli_jstr(const char *s)
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
                     sl__cli_jstr(e->field), "code", sl_error_token(e->code), "message",
                     sl__cli_jstr(e->msg[0] != '\0' ? e->msg : sl_strerror(e->code)));
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

static json_t *json_result(const sl__doc_kind *k, const result *r)
{
    json_t *obj = json_pack("{s:o, s:b, s:o}", "file", sl__cli_jstr(r->path), "valid", r->rc == 0,
                            "errors", json_errors(r));

    if (!obj)
        return NULL;
    if (r->rc == 0 && json_object_set_new(obj, k->json_key, k->json(r->spec)) != 0)
        goto fail;
    if (r->diags.dropped > 0 &&
        json_object_set_new(obj, "dropped", json_integer((json_int_t)r->diags.dropped)) != 0)
        goto fail;
    return obj;
fail:
    json_decref(obj);
    return NULL;
}

static int print_json(const sl__doc_kind *k, json_t *arr)
{
    if (!arr || json_dumpf(arr, stdout, JSON_INDENT(2)) != 0) {
        fprintf(stderr, "slaledger %s: cannot produce JSON output\n", k->command);
        return SL_EXIT_IO;
    }
    putchar('\n');
    return SL_EXIT_OK;
}

int sl__cli_validate(const sl__doc_kind *k, int argc, char **argv)
{
    int json, nfiles, worst = SL_EXIT_OK;
    int rc = validate_args(k, argc, argv, &json, &nfiles);
    json_t *arr = NULL;

    if (rc >= 0)
        return rc;
    if (json)
        arr = json_array();
    for (int i = 1; i <= nfiles; i++) {
        result r = {argv[i], 0, NULL, {0}};
        r.rc = k->parse(r.path, &r.spec, &r.diags);
        if (json && arr && json_array_append_new(arr, json_result(k, &r)) != 0) {
            json_decref(arr);
            arr = NULL;
        } else if (!json) {
            print_text(k, &r);
        }
        if (result_exit(&r) > worst)
            worst = result_exit(&r);
        k->free(r.spec);
        sl_diags_release(&r.diags);
    }
    if (json && print_json(k, arr) != SL_EXIT_OK)
        worst = SL_EXIT_IO;
    json_decref(arr);
    return worst;
}
