/*
 * cmd_oracle.c: `slaledger oracle ...`, an operator's look at what the oracles would measure,
 * without signing or submitting anything:
 *
 *   oracle measure AGREEMENT --objective NAME --from TIME --to TIME [--secrets FILE] [--json]
 *   oracle probe AGREEMENT --service NAME [--json]
 *
 * `measure` asks a history source (CloudWatch, Azure Monitor, Prometheus) for the intervals
 * [from, to) of one objective with the same adapters the node's scheduler uses; `probe` probes
 * an http service once. Credentials come from the secrets file only. Output and exit codes are
 * in docs/cli.md.
 */
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "slaledger/oracle.h"
#include "slaledger/sla.h"
#include "slaledger/util.h"

#include "cli.h"

static int cmd_measure(int argc, char **argv);
static int cmd_probe(int argc, char **argv);

static const sl_cmd oracle_commands[] = {
    {"measure", cmd_measure, "measure an objective's intervals from its service's source"},
    {"probe", cmd_probe, "probe an http service once"},
};

#define N_ORACLE_COMMANDS (sizeof(oracle_commands) / sizeof(oracle_commands[0]))

int sl__cmd_oracle(int argc, char **argv)
{
    return sl__cli_group("oracle", oracle_commands, N_ORACLE_COMMANDS, argc, argv);
}

/* Loads the agreement at path, printing every problem; NULL when it is not valid. */
static sl_agreement_spec *load_agreement(const char *command, const char *path)
{
    sl_agreement_spec *spec = NULL;
    sl_diags d = {0};

    if (sl_sla_parse_file(path, &spec, &d) == 0)
        return spec;
    for (size_t i = 0; i < d.n; i++)
        fprintf(stderr, "slaledger %s: %s:%d:%d: %s: %s\n", command, path, d.v[i].line,
                d.v[i].column, d.v[i].field, d.v[i].msg);
    sl_diags_release(&d);
    return NULL;
}

/* ---- oracle measure ---- */

static void measure_usage(FILE *out)
{
    fprintf(out,
            "usage: slaledger oracle measure AGREEMENT --objective NAME --from TIME --to TIME\n"
            "                                [--secrets FILE] [--oracle NAME] [--json]\n\n"
            "Measures the intervals [from, to) of one objective from its service's source\n"
            "(aws.ec2: CloudWatch, azure.vm: Azure Monitor, prometheus: query_range), exactly\n"
            "as the node's oracles do, and prints one line per interval: START known VALUE or\n"
            "START unknown REASON. Values are in the objective's unit (availability in ppm,\n"
            "times in ms). Nothing is signed or submitted. TIME is RFC 3339, aligned to the\n"
            "objective's interval.\n\n"
            "options:\n"
            "  --objective NAME  the objective to measure\n"
            "  --from TIME       first interval's start\n"
            "  --to TIME         end of the last interval\n"
            "  --secrets FILE    the node's secrets file, for sources that name credentials\n"
            "  --oracle NAME     use the credentials scoped to this oracle member, if any\n"
            "  --json            print a JSON array of {start, start_ms, known, value|reason}\n"
            "  -h, --help        show this help\n\n"
            "exit status: 0 the source answered, 1 it refused or failed (why on stderr),\n"
            "             2 usage error, 3 a file could not be read\n");
}

static int parse_time(const char *opt, const char *s, int64_t *out)
{
    if (sl_time_parse(s, strlen(s), out) == 0)
        return 0;
    fprintf(stderr, "slaledger oracle measure: %s: not an RFC 3339 time: %s\n", opt, s);
    return SL_EXIT_USAGE;
}

static long objective_find(const sl_agreement_spec *s, const char *name)
{
    for (size_t i = 0; i < s->n_objectives; i++) {
        if (strcmp(s->objectives[i].name, name) == 0)
            return (long)i;
    }
    return -1;
}

/* The credential the service names, from the secrets file; *out NULL when it names none. */
static int find_credential(const sl_service_spec *svc, const char *secrets_path, const char *oracle,
                           sl_secrets **sec, const sl_credential **out)
{
    const char *name = sl_source_get(svc, "credentials");
    sl_diags d = {0};

    *out = NULL;
    if (!name)
        return 0;
    if (!secrets_path) {
        fprintf(stderr,
                "slaledger oracle measure: service %s names credentials '%s': give "
                "--secrets\n",
                svc->name, name);
        return SL_EXIT_USAGE;
    }
    if (sl_secrets_parse_file(secrets_path, sec, &d) != 0) {
        for (size_t i = 0; i < d.n; i++)
            fprintf(stderr, "slaledger oracle measure: %s:%d:%d: %s: %s\n", secrets_path,
                    d.v[i].line, d.v[i].column, d.v[i].field, d.v[i].msg);
        sl_diags_release(&d);
        return SL_EXIT_IO;
    }
    *out = sl_secrets_find_for(*sec, name, oracle);
    if (*out)
        return 0;
    fprintf(stderr, "slaledger oracle measure: %s: no credential named '%s'\n", secrets_path, name);
    return SL_EXIT_INVALID;
}

static json_t *sample_json(const sl_sample *s)
{
    char start[32];

    sl_time_format(s->start_ms, start, sizeof(start));
    if (s->known)
        return json_pack("{s:s, s:I, s:b, s:I}", "start", start, "start_ms",
                         (json_int_t)s->start_ms, "known", 1, "value", (json_int_t)s->value);
    return json_pack("{s:s, s:I, s:b, s:o}", "start", start, "start_ms", (json_int_t)s->start_ms,
                     "known", 0, "reason", sl__cli_jstr(s->reason));
}

static int print_samples(const sl_measure *m, int json)
{
    char start[32];
    json_t *arr;

    if (!json) {
        for (size_t i = 0; i < m->n; i++) {
            sl_time_format(m->samples[i].start_ms, start, sizeof(start));
            if (m->samples[i].known)
                printf("%s known %lld\n", start, (long long)m->samples[i].value);
            else
                printf("%s unknown %s\n", start, m->samples[i].reason);
        }
        return fflush(stdout) == 0 ? SL_EXIT_OK : SL_EXIT_IO;
    }
    arr = json_array();
    for (size_t i = 0; arr && i < m->n; i++) {
        if (json_array_append_new(arr, sample_json(&m->samples[i])) != 0) {
            json_decref(arr);
            arr = NULL;
        }
    }
    return sl__cli_print_json("oracle measure", arr);
}

typedef struct measure_args {
    const char *objective, *from, *to, *secrets, *oracle;
    int json;
} measure_args;

static int run_measure(const char *path, const measure_args *a)
{
    sl_agreement_spec *spec = load_agreement("oracle measure", path);
    sl_secrets *sec = NULL;
    sl_source_query q = {0};
    sl_measure m = {0};
    sl_error err = {0};
    long oi;
    int rc = SL_EXIT_INVALID;

    if (!spec)
        goto out;
    if ((oi = objective_find(spec, a->objective)) < 0) {
        fprintf(stderr, "slaledger oracle measure: %s: no objective named '%s'\n", path,
                a->objective);
        goto out;
    }
    q.objective = &spec->objectives[oi];
    q.service = &spec->services[q.objective->service];
    if ((rc = parse_time("--from", a->from, &q.from_ms)) ||
        (rc = parse_time("--to", a->to, &q.to_ms)) ||
        (rc = find_credential(q.service, a->secrets, a->oracle, &sec, &q.credential)))
        goto out;
    rc = SL_EXIT_INVALID;
    if (sl_measure_init(&m, &q, NULL, &err) != 0 || sl_measure_run(&m, &err) != 0) {
        sl__cli_error("oracle measure", q.service->name, &err);
        goto out;
    }
    rc = print_samples(&m, a->json);
out:
    sl_measure_release(&m);
    sl_secrets_free(sec);
    sl_agreement_spec_free(spec);
    return rc;
}

static int cmd_measure(int argc, char **argv)
{
    measure_args a = {0};
    const sl__opt opts[] = {
        {"--objective", &a.objective, NULL},
        {"--from", &a.from, NULL},
        {"--to", &a.to, NULL},
        {"--secrets", &a.secrets, NULL},
        {"--oracle", &a.oracle, NULL},
        {"--json", NULL, &a.json},
    };
    const sl__cli_spec spec = {"oracle measure", measure_usage, opts, 6, 1, 1};
    int nargs, rc = sl__cli_parse(&spec, argc, argv, &nargs);

    if (rc >= 0)
        return rc;
    if (!a.objective || !a.from || !a.to) {
        fprintf(stderr, "slaledger oracle measure: --objective, --from and --to are required\n");
        measure_usage(stderr);
        return SL_EXIT_USAGE;
    }
    return run_measure(argv[1], &a);
}

/* ---- oracle probe ---- */

static void probe_usage(FILE *out)
{
    fprintf(out, "usage: slaledger oracle probe AGREEMENT --service NAME [--json]\n\n"
                 "Probes an http service of the agreement once, as the node's oracles do, and\n"
                 "prints whether it is up, the response time and, when down, why.\n\n"
                 "options:\n"
                 "  --service NAME  the http service to probe\n"
                 "  --json          print {service, up, response_ms, reason} instead\n"
                 "  -h, --help      show this help\n\n"
                 "exit status: 0 up, 1 down or not an http service, 2 usage error,\n"
                 "             3 a file could not be read\n");
}

static int report_probe(const sl_service_spec *svc, const sl_probe_result *r, int json)
{
    if (json)
        return sl__cli_print_json(
            "oracle probe", json_pack("{s:o, s:b, s:I, s:o}", "service", sl__cli_jstr(svc->name),
                                      "up", r->up, "response_ms", (json_int_t)r->response_ms,
                                      "reason", sl__cli_jstr(r->reason)));
    if (r->up)
        printf("%s: up in %lld ms\n", svc->name, (long long)r->response_ms);
    else
        printf("%s: down: %s\n", svc->name, r->reason);
    return 0;
}

static int run_probe(const char *path, const char *service, int json)
{
    sl_agreement_spec *spec = load_agreement("oracle probe", path);
    const sl_service_spec *svc = NULL;
    sl_http_req req;
    sl_http_resp resp;
    sl_probe_result r;
    sl_error err = {0};
    int rc = SL_EXIT_INVALID;

    sl_http_req_init(&req);
    sl_http_resp_init(&resp);
    for (size_t i = 0; spec && i < spec->n_services; i++) {
        if (strcmp(spec->services[i].name, service) == 0)
            svc = &spec->services[i];
    }
    if (spec && !svc)
        fprintf(stderr, "slaledger oracle probe: %s: no service named '%s'\n", path, service);
    if (!svc)
        goto out;
    if (sl_probe_request(svc, &req, &err) != 0) {
        sl__cli_error("oracle probe", svc->name, &err);
        goto out;
    }
    sl_http_perform(&req, &resp); /* a failure is the probe's outcome, judged below */
    sl_probe_judge(svc, &resp, sl__cli_now_ms(), &r);
    rc = report_probe(svc, &r, json);
    if (rc == 0 && !r.up)
        rc = SL_EXIT_INVALID;
out:
    sl_http_req_release(&req);
    sl_http_resp_release(&resp);
    sl_agreement_spec_free(spec);
    return rc;
}

static int cmd_probe(int argc, char **argv)
{
    const char *service = NULL;
    int json = 0;
    const sl__opt opts[] = {{"--service", &service, NULL}, {"--json", NULL, &json}};
    const sl__cli_spec spec = {"oracle probe", probe_usage, opts, 2, 1, 1};
    int nargs, rc = sl__cli_parse(&spec, argc, argv, &nargs);

    if (rc >= 0)
        return rc;
    if (!service) {
        fprintf(stderr, "slaledger oracle probe: --service is required\n");
        probe_usage(stderr);
        return SL_EXIT_USAGE;
    }
    return run_probe(argv[1], service, json);
}
