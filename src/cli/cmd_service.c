/*
 * cmd_service.c: `slaledger service list|history`, an agreement's monitored services through a
 * node's REST API (docs/api.md): the services with their objectives, and the measurement
 * history, one row per decided interval. Each subcommand is one GET (client.c); --json prints
 * the API's answer. Output and exit codes: docs/cli.md. Not thread-safe (stdio).
 */
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "cli.h"
#include "client.h"

/* ---- list ---- */

static void list_usage(FILE *out)
{
    fprintf(out, "usage: slaledger service list AGREEMENT [--node URL] [--token TOKEN] [--json]\n\n"
                 "Lists the services the agreement monitors, one row per objective: service,\n"
                 "kind, objective and metric.\n\n"
                 "options:\n" SL__CLIENT_OPTS_HELP "\n" SL__CLIENT_EXIT_HELP);
}

static int print_services(const json_t *j)
{
    const json_t *svc, *obj;
    size_t i, k;
    sl__table t;

    if (json_array_size(json_object_get(j, "services")) == 0) {
        printf("agreement %s: no services\n", sl__jstr(j, "agreement"));
        return 0;
    }
    sl__table_init(&t, "llll", "SERVICE", "KIND", "OBJECTIVE", "METRIC");
    json_array_foreach(json_object_get(j, "services"), i, svc)
    {
        const json_t *objs = json_object_get(svc, "objectives");
        if (json_array_size(objs) == 0)
            sl__table_add(&t, sl__jstr(svc, "name"), sl__jstr(svc, "kind"), "-", "-");
        json_array_foreach(objs, k, obj)
        {
            sl__table_add(&t, sl__jstr(svc, "name"), sl__jstr(svc, "kind"), sl__jstr(obj, "name"),
                          sl__jstr(obj, "metric"));
        }
    }
    return sl__table_print(&t, 0);
}

static int cmd_list(int argc, char **argv)
{
    sl__client_opts o;
    const sl__opt opts[] = {SL__CLIENT_OPTS(o)};
    const sl__cli_spec spec = {"service list", list_usage, opts, 3, 1, 1};
    sl__client c = {0};
    json_t *j = NULL;
    int nargs, rc;

    if ((rc = sl__cli_parse(&spec, argc, argv, &nargs)) >= 0)
        return rc;
    if ((rc = sl__client_open(&c, spec.command, &o)) == 0)
        rc = sl__client_get_agreement(&c, argv[1], "/services", NULL, &j);
    if (rc == 0 && o.json) {
        rc = sl__client_print_json(&c, j);
        j = NULL;
    } else if (rc == 0) {
        rc = print_services(j);
    }
    json_decref(j);
    sl__client_close(&c);
    return rc;
}

/* ---- history ---- */

static void history_usage(FILE *out)
{
    fprintf(out,
            "usage: slaledger service history AGREEMENT [--objective O] [--from TIME] [--to TIME]\n"
            "                                 [--limit N] [--offset N]\n"
            "                                 [--node URL] [--token TOKEN] [--json]\n\n"
            "Lists the agreement's decided measurement intervals, oldest first: start, end,\n"
            "objective, outcome (good, bad, unknown) and the decided value in the objective's\n"
            "unit (ppm for ratios, ms for times).\n\n"
            "options:\n"
            "  --objective O  only intervals of this objective\n"
            "  --from TIME    only intervals starting at or after TIME (RFC 3339)\n"
            "  --to TIME      only intervals ending at or before TIME (RFC 3339)\n"
            "  --limit N      at most N intervals, 0..1000 (default 100)\n"
            "  --offset N     skip the first N intervals\n" SL__CLIENT_OPTS_HELP
            "\n" SL__CLIENT_EXIT_HELP);
}

static int print_history(const json_t *j)
{
    const json_t *all = json_object_get(j, "events"), *e;
    char v[24], off[24];
    sl__table t;
    size_t i;

    if (json_array_size(all) == 0) {
        printf("agreement %s: no decided intervals (offset %s)\n", sl__jstr(j, "agreement"),
               sl__jint(j, "offset", off, sizeof(off)));
        return 0;
    }
    sl__table_init(&t, "lllll", "START", "END", "OBJECTIVE", "OUTCOME", "VALUE");
    json_array_foreach(all, i, e)
    {
        int has_value = json_integer_value(json_object_get(e, "value")) >= 0;
        sl__table_add(&t, sl__jtime(e, "start"), sl__jtime(e, "end"), sl__jstr(e, "objective"),
                      sl__jstr(e, "outcome"), has_value ? sl__jint(e, "value", v, sizeof(v)) : "-");
    }
    int rc = sl__table_print(&t, 0);
    if ((json_int_t)json_array_size(all) == json_integer_value(json_object_get(j, "limit")))
        printf("(limit reached: more may follow with --offset)\n");
    return rc;
}

static int cmd_history(int argc, char **argv)
{
    sl__client_opts o;
    sl__client_filter f = {0};
    const sl__opt opts[] = {SL__CLIENT_OPTS(o),          {"--objective", &f.objective, NULL},
                            {"--from", &f.from, NULL},   {"--to", &f.to, NULL},
                            {"--limit", &f.limit, NULL}, {"--offset", &f.offset, NULL}};
    const sl__cli_spec spec = {"service history", history_usage, opts, 8, 1, 1};
    return sl__client_filtered(&spec, argc, argv, &o, &f, "/history", print_history);
}

/* ---- the group ---- */

static const sl_cmd service_commands[] = {
    {"list", cmd_list, "list an agreement's services and their objectives"},
    {"history", cmd_history, "list an agreement's decided measurement intervals"},
};

int sl__cmd_service(int argc, char **argv)
{
    return sl__cli_group("service", service_commands,
                         sizeof(service_commands) / sizeof(service_commands[0]), argc, argv);
}
