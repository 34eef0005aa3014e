/*
 * cmd_demo.c: `slaledger demo`, the seed paper's scenario on one machine, fast.
 *
 * It makes a network with `slaledger init` (univie consumes from aws and azure, watchdog
 * monitors independently, the bank issues EUR), starts local stand-ins of the cloud APIs
 * (tool_cloudwatch twice: the truth, and the watchdog's own view, which disagrees for a
 * while; tool_azure; tool_targets for the website), runs a node whose clock runs `speed`
 * times faster than the wall, and takes two agreements through a whole billing period: an EC2
 * instance watched through CloudWatch plus its website's latency, and an Azure VM, each with
 * three oracles under a 2-of-3 median. Outages follow a script, penalties are paid the moment
 * they are certain, topped up when a worse tier becomes certain, the rest settles to the
 * providers per window, and the agreements close with their statements. The terminal shows
 * the ledger's events as they happen and a summary every few seconds; at the end the demo
 * writes the statements to DIR/results and audits every ledger.
 *
 * The speed-up is only the node's clock (and the stand-ins' copy of it): the contract sees
 * block timestamps and report intervals, as always. Children are started with posix_spawn,
 * logs go to DIR/logs, and everything started is stopped on exit, Ctrl-C included.
 * Not thread-safe (one process-wide demo).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>
#include <sodium.h>

#include "slaledger/util.h"

#include "cli.h"
#include "client.h"

extern char **environ;

#define CMD          "demo"
#define MAX_PROCS    8
#define MAX_TOKENS   16
#define MINUTE       60000LL
#define PERIOD_MS    (60 * MINUTE)
#define WINDOW_MS    (30 * MINUTE)
#define GRACE_MS     (5 * MINUTE)
#define START_WALL   4000 /* wall ms from now until the period starts */
#define LATENCY_SLOW 400  /* ms the website answers in while it is slow */

typedef struct proc {
    pid_t pid;
    char name[32];
} proc;

typedef struct demo {
    char dir[3000];
    char net[3100];
    char self[4096];
    char tools[4096];
    int speed;
    int64_t duration_ms; /* wall; 0: until both agreements closed */
    int liar;
    int64_t since;   /* the node clock's anchor (wall ms) */
    int64_t t_start; /* the period, node time */
    unsigned cw, cw_watchdog, az, site;
    char url[128];
    proc procs[MAX_PROCS];
    size_t n_procs;
    size_t seen[2]; /* events already shown, per agreement */
    int slow_set, slow_cleared;
    struct {
        char user[64], token[128];
    } tokens[MAX_TOKENS]; /* wiped at the end */
    size_t n_tokens;
} demo;

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
    (void)sig;
    interrupted = 1;
}

static const char *const agreements[2] = {"vm-web-01", "vm-azure-01"};

/* ---- small helpers ---- */

static int fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int fail(const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "slaledger demo: ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return SL_EXIT_INVALID;
}

static int64_t node_now(const demo *d)
{
    return sl_clock_fast(sl__cli_now_ms(), d->since, (uint32_t)d->speed);
}

static void hhmm(int64_t ms, char *out, size_t cap)
{
    char t[40];

    sl_time_format(ms, t, sizeof(t));
    sl_strfmt(out, cap, "%.5s", t + 11);
}

/* Writes text to DIR-relative path with mode. */
static int write_file(const char *path, const char *text, unsigned mode)
{
    FILE *f = fopen(path, "w");

    if (!f || fputs(text, f) < 0 || fclose(f) != 0)
        return fail("cannot write %s: %s", path, strerror(errno));
    if (chmod(path, mode) != 0)
        return fail("cannot chmod %s: %s", path, strerror(errno));
    return 0;
}

static int write_fmt(const char *path, unsigned mode, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int write_fmt(const char *path, unsigned mode, const char *fmt, ...)
{
    sl_buf b;
    va_list ap;
    int n, rc;

    sl_buf_init(&b);
    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || sl_buf_reserve(&b, (size_t)n + 1) != 0)
        return fail("out of memory");
    va_start(ap, fmt);
    vsnprintf((char *)b.p, (size_t)n + 1, fmt, ap);
    va_end(ap);
    rc = write_file(path, (const char *)b.p, mode);
    sl_buf_release(&b);
    return rc;
}

/* ---- children ---- */

/* Starts argv with stdout and stderr to DIR/logs/<name>.out/.err. */
static int spawn(demo *d, const char *name, char *const argv[])
{
    posix_spawn_file_actions_t fa;
    char out[3200], err[3200];
    pid_t pid;
    int rc;

    if (d->n_procs == MAX_PROCS)
        return fail("too many children");
    sl_strfmt(out, sizeof(out), "%s/logs/%s.out", d->dir, name);
    sl_strfmt(err, sizeof(err), "%s/logs/%s.err", d->dir, name);
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&fa, 2, err, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    rc = posix_spawn(&pid, argv[0], &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0)
        return fail("cannot start %s: %s", argv[0], strerror(rc));
    d->procs[d->n_procs].pid = pid;
    sl_strfmt(d->procs[d->n_procs].name, sizeof(d->procs[0].name), "%s", name);
    d->n_procs++;
    return 0;
}

/* Waits (up to 10 s) for DIR/logs/<name>.out to say where it listens; the port into *port,
 * and the node's URL into d->url. */
static int listening(demo *d, const char *name, unsigned *port)
{
    char path[3200], line[512];

    sl_strfmt(path, sizeof(path), "%s/logs/%s.out", d->dir, name);
    for (int i = 0; i < 200 && !interrupted; i++) {
        FILE *f = fopen(path, "r");
        while (f && fgets(line, sizeof(line), f)) {
            const char *at = strstr(line, "127.0.0.1:");
            if (strstr(line, "listening on") && at) {
                fclose(f);
                *port = (unsigned)strtoul(at + 10, NULL, 10);
                sl_strfmt(d->url, sizeof(d->url), "http://127.0.0.1:%u", *port);
                return 0;
            }
        }
        if (f)
            fclose(f);
        struct timespec ts = {0, 50 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    return fail("%s did not start; see %s/logs/%s.err", name, d->dir, name);
}

/* Stops the children, newest first: SIGTERM, then SIGKILL after 10 s. */
static void stop_all(demo *d)
{
    while (d->n_procs > 0) {
        proc *p = &d->procs[--d->n_procs];
        int st;
        kill(p->pid, SIGTERM);
        for (int i = 0; i < 200; i++) {
            if (waitpid(p->pid, &st, WNOHANG) == p->pid)
                goto next;
            struct timespec ts = {0, 50 * 1000 * 1000};
            nanosleep(&ts, NULL);
        }
        kill(p->pid, SIGKILL);
        waitpid(p->pid, &st, 0);
    next:;
    }
}

/* Runs this binary with args and waits; its exit code, or -1. */
static int run_self(demo *d, const char *out, char *const args[])
{
    char *argv[16];
    size_t n = 0;
    int st;
    pid_t pid;
    posix_spawn_file_actions_t fa;

    argv[n++] = d->self;
    for (size_t i = 0; args[i] && n < 15; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    posix_spawn_file_actions_init(&fa);
    if (out)
        posix_spawn_file_actions_addopen(&fa, 1, out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int rc = posix_spawn(&pid, d->self, &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0 || waitpid(pid, &st, 0) != pid)
        return -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* ---- the network and its documents ---- */

/* Reads the users' tokens from DIR/net/tokens.txt ("USER ORG ROLE TOKEN" lines) once. */
static int load_tokens(demo *d)
{
    char path[3200], line[512];
    FILE *f;

    sl_strfmt(path, sizeof(path), "%s/tokens.txt", d->net);
    if (!(f = fopen(path, "r")))
        return fail("cannot read %s: %s", path, strerror(errno));
    while (d->n_tokens < MAX_TOKENS && fgets(line, sizeof(line), f)) {
        if (line[0] != '#' && sscanf(line, "%63s %*s %*s %127s", d->tokens[d->n_tokens].user,
                                     d->tokens[d->n_tokens].token) == 2)
            d->n_tokens++;
    }
    sodium_memzero(line, sizeof(line));
    fclose(f);
    return 0;
}

/* The token of user, as load_tokens read it. */
static const char *token_of(const demo *d, const char *user)
{
    for (size_t i = 0; i < d->n_tokens; i++) {
        if (strcmp(d->tokens[i].user, user) == 0)
            return d->tokens[i].token;
    }
    fail("no token of %s in %s/tokens.txt", user, d->net);
    return NULL;
}

/* Cloud credentials that point at the stand-ins: the watchdog's oracle has its own AWS key
 * and sees the instance through its own CloudWatch. */
static int write_secrets(const demo *d)
{
    char path[3200];

    sl_strfmt(path, sizeof(path), "%s/secrets.yaml", d->net);
    return write_fmt(
        path, 0600,
        "# Written by `slaledger demo`: credentials for the local stand-ins of the cloud APIs.\n"
        "apiVersion: slaledger/v1\nkind: Secrets\nmetadata: {name: demo-secrets}\nspec:\n"
        "  credentials:\n"
        "    - {name: aws-main, kind: aws, access_key_id: AKIAPLACEHOLDER00000,\n"
        "       secret_access_key: placeholder-for-local-stand-ins-only, region: eu-central-1,\n"
        "       endpoint: \"http://127.0.0.1:%u\"}\n"
        "    - {name: aws-main, kind: aws, oracle: watchdog-mon, access_key_id: "
        "AKIAWATCHDOG00000000,\n"
        "       secret_access_key: watchdog-placeholder-secret, region: eu-central-1,\n"
        "       endpoint: \"http://127.0.0.1:%u\"}\n"
        "    - {name: azure-main, kind: azure, tenant_id: 00000000-0000-0000-0000-000000000000,\n"
        "       client_id: 00000000-0000-0000-0000-000000000000,\n"
        "       client_secret: placeholder-for-local-stand-ins-only,\n"
        "       endpoint: \"http://127.0.0.1:%u\", login_endpoint: \"http://127.0.0.1:%u\"}\n",
        d->cw, d->cw_watchdog, d->az, d->az);
}

/* The node runs on the demo's clock and measures an interval 30 s (node time) after it ends.
 * The settings go in before the secrets line of the configuration init wrote. */
static int write_node_config(const demo *d)
{
    static const char old[] = "  secrets: secrets.yaml\n";
    char path[3200], since[40];
    const char *at;
    sl_buf b;
    int rc;

    sl_buf_init(&b);
    sl_strfmt(path, sizeof(path), "%s/univie.yaml", d->net);
    if ((rc = sl__cli_read_file(CMD, path, 1 << 20, &b)) != 0)
        return rc;
    sl_buf_put_u8(&b, 0);
    at = b.err ? NULL : strstr((const char *)b.p, old);
    if (!at) {
        sl_buf_release(&b);
        return fail("%s: not the configuration init writes", path);
    }
    sl_time_format(d->since, since, sizeof(since));
    rc = write_fmt(path, 0644,
                   "%.*s"
                   "  # `slaledger demo`: the node's time runs %d times faster than the wall.\n"
                   "  clock: {speed: %d, since: \"%s\"}\n"
                   "  scheduler: {delay: 30s, timeout: 2s}\n%s",
                   (int)(at - (const char *)b.p), (const char *)b.p, d->speed, d->speed, since, at);
    sl_buf_release(&b);
    return rc;
}

static int write_agreements(const demo *d)
{
    char path[3200], from[40], to[40];
    int rc;

    sl_time_format(d->t_start, from, sizeof(from));
    sl_time_format(d->t_start + PERIOD_MS, to, sizeof(to));
    sl_strfmt(path, sizeof(path), "%s/vm-web-01.yaml", d->dir);
    rc = write_fmt(
        path, 0644,
        "# The paper's EC2 agreement, its period shrunk to one hour of the demo's clock.\n"
        "apiVersion: slaledger/v1\nkind: Agreement\n"
        "metadata: {name: vm-web-01, description: univie's web server on AWS EC2}\n"
        "spec:\n  channel: univie-aws\n  consumer: univie\n  provider: aws\n"
        "  period: {start: %s, end: %s}\n"
        "  fee: {amount: \"1000.00\", currency: EUR}\n  billing: 30m\n  grace: 5m\n"
        "  services:\n"
        "    - {name: web-01, kind: aws.ec2, source: {region: eu-central-1, instance: "
        "i-0abc123, credentials: aws-main}}\n"
        "    - {name: site, kind: http, source: {url: \"http://127.0.0.1:%u/flip\", timeout: "
        "2s}}\n"
        "  oracles: {members: [univie-mon, aws-mon, watchdog-mon], policy: median, quorum: 2}\n"
        "  objectives:\n"
        "    - {name: uptime, service: web-01, metric: availability, interval: 60s, window: 30m,"
        " target: \">= 99.9%%\"}\n"
        "    - {name: latency, service: site, metric: response_time, percentile: 95, interval: "
        "60s, window: 30m, target: \"<= 300ms\"}\n"
        "  penalties:\n"
        "    - {objective: uptime, tiers: [{below: 99.9%%, credit: 10%%}, {below: 99%%, credit: "
        "25%%}, {below: 95%%, credit: 50%%}]}\n"
        "    - {objective: latency, per_violation: \"5.00\", cap: 20%%}\n",
        from, to, d->site);
    if (rc)
        return rc;
    sl_strfmt(path, sizeof(path), "%s/vm-azure-01.yaml", d->dir);
    return write_fmt(
        path, 0644,
        "# The paper's Azure agreement, its period shrunk to one hour of the demo's clock.\n"
        "apiVersion: slaledger/v1\nkind: Agreement\n"
        "metadata: {name: vm-azure-01, description: univie's VM on Azure}\n"
        "spec:\n  channel: univie-azure\n  consumer: univie\n  provider: azure\n"
        "  period: {start: %s, end: %s}\n"
        "  fee: {amount: \"800.00\", currency: EUR}\n  billing: 30m\n  grace: 5m\n"
        "  services:\n"
        "    - {name: vm-01, kind: azure.vm, source: {subscription: "
        "11111111-2222-3333-4444-555555555555, resource_group: univie-rg, vm: vm-01, tenant: "
        "00000000-0000-0000-0000-000000000000, credentials: azure-main}}\n"
        "  oracles: {members: [univie-mon, azure-mon, watchdog-mon], policy: median, quorum: 2}\n"
        "  objectives:\n"
        "    - {name: uptime, metric: availability, interval: 60s, window: 30m, target: \">= "
        "99.95%%\"}\n"
        "  penalties:\n"
        "    - {objective: uptime, tiers: [{below: 99.95%%, credit: 10%%}, {below: 99%%, "
        "credit: 25%%}, {below: 95%%, credit: 50%%}]}\n",
        from, to);
}

/* The stand-ins' scripts (times relative to the period's start, in node time): EC2 fails its
 * status check from 10 to 16 minutes in; the watchdog's view misses the first two minutes of
 * it and shows a blip of its own at 22 minutes (with --liar: never a failure); the Azure VM is
 * down from 5 to 7 minutes in. */
static int write_standins(const demo *d)
{
    const struct {
        const char *file, *text;
        unsigned mode;
    } files[] = {
        {"aws-keys", "AKIAPLACEHOLDER00000 placeholder-for-local-stand-ins-only\n", 0600},
        {"watchdog-keys", "AKIAWATCHDOG00000000 watchdog-placeholder-secret\n", 0600},
        {"azure-clients",
         "00000000-0000-0000-0000-000000000000 00000000-0000-0000-0000-000000000000 "
         "placeholder-for-local-stand-ins-only\n",
         0600},
        {"cloudwatch.script",
         "# EC2 i-0abc123 as AWS sees it\n"
         "i-0abc123 StatusCheckFailed default 0\n"
         "i-0abc123 StatusCheckFailed +10m +16m 1\n",
         0644},
        {"cloudwatch-watchdog.script",
         d->liar ? "# the watchdog's view: a liar, never a failure\n"
                   "i-0abc123 StatusCheckFailed default 0\n"
                 : "# the watchdog's view: late to see the outage, and a blip\n"
                   "i-0abc123 StatusCheckFailed default 0\n"
                   "i-0abc123 StatusCheckFailed +12m +16m 1\n"
                   "i-0abc123 StatusCheckFailed +22m +23m 1\n",
         0644},
        {"azure.script",
         "# Azure VM vm-01\n"
         "vm-01 VmAvailabilityMetric default 1\n"
         "vm-01 VmAvailabilityMetric +5m +7m 0\n",
         0644},
    };
    char path[3200];
    int rc = 0;

    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]) && !rc; i++) {
        sl_strfmt(path, sizeof(path), "%s/standins/%s", d->dir, files[i].file);
        rc = write_file(path, files[i].text, files[i].mode);
    }
    return rc;
}

/* ---- starting it ---- */

static int start_standins(demo *d)
{
    char since[40], start[40], speed[16], a[3200], b[3200], tool[4200];
    int rc;

    sl_time_format(d->since, since, sizeof(since));
    sl_time_format(d->t_start, start, sizeof(start));
    sl_strfmt(speed, sizeof(speed), "%d", d->speed);
    for (int w = 0; w < 2; w++) {
        const char *name = w ? "cloudwatch-watchdog" : "cloudwatch";
        sl_strfmt(tool, sizeof(tool), "%s/tool_cloudwatch", d->tools);
        sl_strfmt(a, sizeof(a), "%s/standins/%s", d->dir, w ? "watchdog-keys" : "aws-keys");
        sl_strfmt(b, sizeof(b), "%s/standins/%s.script", d->dir, name);
        char *argv[] = {tool,       "--keys",  a,         "--region", "eu-central-1",
                        "--script", b,         "--speed", speed,      "--since",
                        since,      "--start", start,     NULL};
        if ((rc = spawn(d, name, argv)) != 0 ||
            (rc = listening(d, name, w ? &d->cw_watchdog : &d->cw)) != 0)
            return rc;
    }
    sl_strfmt(tool, sizeof(tool), "%s/tool_azure", d->tools);
    sl_strfmt(a, sizeof(a), "%s/standins/azure-clients", d->dir);
    sl_strfmt(b, sizeof(b), "%s/standins/azure.script", d->dir);
    char *az[] = {tool,  "--clients", a,     "--script", b,     "--speed",
                  speed, "--since",   since, "--start",  start, NULL};
    if ((rc = spawn(d, "azure", az)) != 0 || (rc = listening(d, "azure", &d->az)) != 0)
        return rc;
    sl_strfmt(tool, sizeof(tool), "%s/tool_targets", d->tools);
    char *tg[] = {tool, NULL};
    if ((rc = spawn(d, "website", tg)) != 0 || (rc = listening(d, "website", &d->site)) != 0)
        return rc;
    return 0;
}

static int start_node(demo *d)
{
    char cfg[3200];
    unsigned port;
    int rc;

    sl_strfmt(cfg, sizeof(cfg), "%s/univie.yaml", d->net);
    char *argv[] = {d->self, "node", "--config", cfg, "--listen", "127.0.0.1:0", NULL};
    if ((rc = spawn(d, "node", argv)) != 0 || (rc = listening(d, "node", &port)) != 0)
        return rc;
    return 0;
}

/* Calls the node's API as user; *out (may be NULL) receives the answer. */
static int api(demo *d, const char *user, const char *method, const char *path, const char *body,
               size_t len, json_t **out)
{
    sl__client_opts o = {d->url, token_of(d, user), 0};
    sl__client c;
    json_t *j = NULL;
    int rc;

    if (out)
        *out = NULL;
    if (!o.token)
        return SL_EXIT_INVALID;
    if ((rc = sl__client_open(&c, CMD, &o)) == 0)
        rc = sl__client_call(&c, method, path, body, len, &j);
    sl__client_close(&c);
    if (out)
        *out = j;
    else
        json_decref(j);
    return rc;
}

/* Proposal by univie, acceptance by the provider's user, tokens from the bank, escrow. */
static int sign_agreement(demo *d, const char *name, const char *provider_user, const char *channel,
                          const char *fee)
{
    char path[3200], body[160];
    sl_buf doc;
    int rc;

    sl_buf_init(&doc);
    sl_strfmt(path, sizeof(path), "%s/%s.yaml", d->dir, name);
    if ((rc = sl__cli_read_file(CMD, path, 1 << 20, &doc)) == 0)
        rc = api(d, "alice", "POST", "/v1/agreements", (const char *)doc.p, doc.len, NULL);
    sl_buf_release(&doc);
    sl_strfmt(path, sizeof(path), "/v1/agreements/%s/accept", name);
    if (!rc)
        rc = api(d, provider_user, "POST", path, NULL, 0, NULL);
    sl_strfmt(body, sizeof(body), "{\"amount\":\"%s\",\"currency\":\"EUR\",\"channel\":\"%s\"}",
              fee, channel);
    if (!rc)
        rc = api(d, "treasury", "POST", "/v1/wallets/univie/issue", body, strlen(body), NULL);
    sl_strfmt(path, sizeof(path), "/v1/agreements/%s/deposit", name);
    sl_strfmt(body, sizeof(body), "{\"amount\":\"%s\"}", fee);
    if (!rc)
        rc = api(d, "alice", "POST", path, body, strlen(body), NULL);
    if (!rc)
        printf("  %s: proposed by univie, accepted by %s, escrow funded with %s EUR\n", name,
               provider_user, fee);
    return rc;
}

/* ---- watching it ---- */

/* A string member, or NULL. */
static const char *jget(const json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

/* A string member, or "?" for printing. */
static const char *jtext(const json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "?";
}

/* One line per event worth telling, as the ledger records them. */
static void show_event(const demo *d, const char *agreement, const json_t *e)
{
    const char *kind = jget(e, "kind"), *obj = jget(e, "objective");
    char at[8], amount[48];
    int64_t start_ms = 0;
    const char *start = jget(e, "start");

    (void)d;
    if (start)
        sl_time_parse(start, strlen(start), &start_ms);
    hhmm(start_ms, at, sizeof(at));
    sl_decimal_format(json_integer_value(json_object_get(e, "amount")), 2, amount, sizeof(amount));
    if (!kind)
        return;
    if (strcmp(kind, "penalty") == 0)
        printf("  %-11s penalty  %s EUR from the escrow to univie (%s, window from %s%s)\n",
               agreement, amount, obj ? obj : "", at,
               json_is_integer(json_object_get(e, "tier")) ? ", tier now certain" : "");
    else if (strcmp(kind, "dispute") == 0)
        printf("  %-11s dispute  the oracles disagree on %s at %s; the median decides\n", agreement,
               obj ? obj : "", at);
    else if (strcmp(kind, "settlement") == 0)
        printf("  %-11s settled  %s EUR to the provider for the window from %s\n", agreement,
               amount, at);
    else if (strcmp(kind, "refund") == 0)
        printf("  %-11s refund   %s EUR back to univie\n", agreement, amount);
    else if (strcmp(kind, "closed") == 0)
        printf("  %-11s closed   the period is over; the statement is final\n", agreement);
    else if (strcmp(kind, "decided") == 0 && jget(e, "outcome") &&
             strcmp(jget(e, "outcome"), "bad") == 0)
        printf("  %-11s bad      %s at %s (value %lld)\n", agreement, obj ? obj : "", at,
               (long long)json_integer_value(json_object_get(e, "value")));
}

static void poll_events(demo *d, int k)
{
    char path[256];
    json_t *j = NULL;

    sl_strfmt(path, sizeof(path), "/v1/agreements/%s/events?limit=1000&offset=%zu", agreements[k],
              d->seen[k]);
    if (api(d, "dave", "GET", path, NULL, 0, &j) != 0)
        return;
    json_t *ev = json_object_get(j, "events");
    for (size_t i = 0; i < json_array_size(ev); i++)
        show_event(d, agreements[k], json_array_get(ev, i));
    d->seen[k] += json_array_size(ev);
    json_decref(j);
}

/* An organization's EUR over its channels, formatted. */
static void wallet_total(demo *d, const char *org, char *out, size_t cap)
{
    char path[96];
    json_t *j = NULL;
    int64_t sum = 0;

    sl_strfmt(path, sizeof(path), "/v1/wallets/%s", org);
    if (api(d, "dave", "GET", path, NULL, 0, &j) == 0) {
        json_t *b = json_object_get(j, "balances");
        for (size_t i = 0; i < json_array_size(b); i++)
            sum += json_integer_value(json_object_get(json_array_get(b, i), "balance"));
    }
    json_decref(j);
    sl_decimal_format(sum, 2, out, cap);
}

/* Per agreement: availability of the current window against the target, penalties paid,
 * escrow; then the wallets. */
static void summary_line(demo *d, int64_t now)
{
    static const char *const orgs[] = {"univie", "aws", "azure"};
    char at[8], target[32], money[3][32];

    hhmm(now, at, sizeof(at));
    printf("[%s]", at);
    for (int k = 0; k < 2; k++) {
        char path[128];
        json_t *st = NULL;
        sl_strfmt(path, sizeof(path), "/v1/agreements/%s", agreements[k]);
        if (api(d, "dave", "GET", path, NULL, 0, &st) != 0)
            continue;
        json_t *obj = json_array_get(json_object_get(st, "objectives"), 0);
        json_t *wins = json_object_get(obj, "windows");
        const char *comp = "-";
        for (size_t w = 0; w < json_array_size(wins); w++) {
            const char *c = jget(json_array_get(wins, w), "compliance");
            if (c)
                comp = c;
        }
        sl_ppm_format(json_integer_value(json_object_get(obj, "target")), target, sizeof(target));
        printf(" %s uptime %s (>= %s), penalties %s, escrow %s |", agreements[k], comp, target,
               jtext(st, "penalties"), jtext(st, "escrow"));
        json_decref(st);
    }
    for (int i = 0; i < 3; i++)
        wallet_total(d, orgs[i], money[i], sizeof(money[i]));
    printf(" wallets: univie %s, aws %s, azure %s\n", money[0], money[1], money[2]);
    fflush(stdout);
}

/* Both agreements closed (or the time is up, or Ctrl-C). */
static int finished(demo *d)
{
    int closed = 0;

    for (int k = 0; k < 2; k++) {
        char path[128];
        json_t *st = NULL;
        sl_strfmt(path, sizeof(path), "/v1/agreements/%s", agreements[k]);
        if (api(d, "dave", "GET", path, NULL, 0, &st) == 0 && jget(st, "status") &&
            strcmp(jget(st, "status"), "closed") == 0)
            closed++;
        json_decref(st);
    }
    return closed == 2;
}

static size_t discard(char *p, size_t size, size_t n, void *arg)
{
    (void)p, (void)arg;
    return size * n;
}

/* The website answers slowly for the probes of minutes 40 to 43 of the period. Probes run in
 * the first half of each minute, so the switch happens at 35 s past the minute: the probe
 * before it and the one after it are each on their side, whatever the demo's polling lag. */
static void drive_website(demo *d, int64_t now)
{
    char url[128];
    const char *q = NULL;

    if (!d->slow_set && now >= d->t_start + 39 * MINUTE + 35000) {
        d->slow_set = 1;
        q = "ms=400";
    } else if (d->slow_set && !d->slow_cleared && now >= d->t_start + 43 * MINUTE + 35000) {
        d->slow_cleared = 1;
        q = "ms=0";
    }
    if (!q)
        return;
    sl_strfmt(url, sizeof(url), "http://127.0.0.1:%u/flip?%s", d->site, q);
    CURL *h = curl_easy_init();
    if (!h)
        return;
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, "");
    curl_easy_setopt(h, CURLOPT_TIMEOUT, 5L);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_perform(h);
    curl_easy_cleanup(h);
    printf("  website    now answers in %s ms\n", q + 3);
}

static void watch(demo *d)
{
    int64_t wall0 = sl__cli_now_ms(), next_summary = 0;

    while (!interrupted) {
        int64_t wall = sl__cli_now_ms(), now = node_now(d);
        if (d->duration_ms && wall - wall0 >= d->duration_ms)
            break;
        drive_website(d, now);
        for (int k = 0; k < 2; k++)
            poll_events(d, k);
        if (wall >= next_summary) {
            summary_line(d, now);
            next_summary = wall + 5000;
        }
        if (now > d->t_start + PERIOD_MS + GRACE_MS && finished(d))
            break;
        /* often enough that the website's switches land well inside their 25 s of slack */
        long ms = 10000 / d->speed < 250 ? 10000 / d->speed : 250;
        struct timespec ts = {0, ms * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
}

/* ---- the end ---- */

/* Saves each agreement's final statement and events, and the wallets, to DIR/results. */
static void save_results(demo *d)
{
    static const char *const orgs[] = {"univie", "aws", "azure"};
    char path[3200], api_path[160];
    json_t *j;

    for (int k = 0; k < 2; k++) {
        sl_strfmt(api_path, sizeof(api_path), "/v1/agreements/%s", agreements[k]);
        sl_strfmt(path, sizeof(path), "%s/results/%s.statement.json", d->dir, agreements[k]);
        if (api(d, "dave", "GET", api_path, NULL, 0, &j) == 0)
            json_dump_file(j, path, JSON_INDENT(2));
        json_decref(j);
        sl_strfmt(api_path, sizeof(api_path), "/v1/agreements/%s/events?limit=1000", agreements[k]);
        sl_strfmt(path, sizeof(path), "%s/results/%s.events.json", d->dir, agreements[k]);
        if (api(d, "dave", "GET", api_path, NULL, 0, &j) == 0)
            json_dump_file(j, path, JSON_INDENT(2));
        json_decref(j);
    }
    for (size_t i = 0; i < sizeof(orgs) / sizeof(orgs[0]); i++) {
        sl_strfmt(api_path, sizeof(api_path), "/v1/wallets/%s", orgs[i]);
        sl_strfmt(path, sizeof(path), "%s/results/wallet-%s.json", d->dir, orgs[i]);
        if (api(d, "dave", "GET", api_path, NULL, 0, &j) == 0)
            json_dump_file(j, path, JSON_INDENT(2));
        json_decref(j);
    }
}

static void print_statement(const demo *d, int k)
{
    char path[3200];
    json_t *st;

    sl_strfmt(path, sizeof(path), "%s/results/%s.statement.json", d->dir, agreements[k]);
    if (!(st = json_load_file(path, 0, NULL)))
        return;
    printf("  %s (%s, %s EUR fee): penalties %s to univie, %s settled to %s, %s refunded\n",
           agreements[k], jtext(st, "status"), jtext(st, "fee"), jtext(st, "penalties"),
           jtext(st, "settled"), jtext(st, "provider"), jtext(st, "refunded"));
    json_t *objs = json_object_get(st, "objectives");
    for (size_t o = 0; o < json_array_size(objs); o++) {
        json_t *obj = json_array_get(objs, o), *wins = json_object_get(obj, "windows");
        for (size_t w = 0; w < json_array_size(wins); w++) {
            json_t *win = json_array_get(wins, w);
            char at[8];
            int64_t ms = 0;
            const char *start = jget(win, "start");
            if (start)
                sl_time_parse(start, strlen(start), &ms);
            hhmm(ms, at, sizeof(at));
            printf("    %-8s window %s: %lld good, %lld bad, %lld unknown, compliance %s, "
                   "paid %s\n",
                   jtext(obj, "name"), at,
                   (long long)json_integer_value(json_object_get(win, "good")),
                   (long long)json_integer_value(json_object_get(win, "bad")),
                   (long long)json_integer_value(json_object_get(win, "unknown")),
                   jget(win, "compliance") ? jget(win, "compliance") : "-", jtext(win, "paid"));
        }
    }
    json_decref(st);
}

/* Audits both ledgers with `slaledger ledger verify`, as anyone can. */
static int audit(demo *d)
{
    static const char *const chans[] = {"univie-aws", "univie-azure"};
    char db[3200];
    int bad = 0;

    printf("\n== audit: slaledger ledger verify on each channel's ledger\n");
    fflush(stdout);
    for (size_t i = 0; i < 2; i++) {
        sl_strfmt(db, sizeof(db), "%s/data/%s.db", d->net, chans[i]);
        char *args[] = {"ledger", "verify", db, NULL};
        printf("$ slaledger ledger verify %s\n", db);
        fflush(stdout);
        bad |= run_self(d, NULL, args) != 0;
    }
    return bad;
}

/* ---- the command ---- */

static void usage(FILE *out)
{
    fprintf(out,
            "usage: slaledger demo [--dir DIR] [--speed N] [--duration SECONDS] [--liar]\n\n"
            "Runs the seed paper's scenario on this machine: univie's EC2 instance (watched\n"
            "through a local CloudWatch stand-in, its website probed for latency) and Azure VM\n"
            "(through an Azure Monitor stand-in), each under a signed agreement with three\n"
            "oracles (univie's, the provider's, watchdog's) and a 2-of-3 median. A scripted\n"
            "outage costs the providers penalties, paid to univie the moment they are certain;\n"
            "the rest settles to the providers per window; the ledgers are audited at the end.\n"
            "The node's clock runs N times faster than the wall (the contract only sees block\n"
            "timestamps), so the agreements' hour passes in about a minute.\n\n"
            "options:\n"
            "  --dir DIR         keep the network, logs and results in DIR (new or empty);\n"
            "                    default: a new directory under /tmp, named at the start\n"
            "  --speed N         how much faster the node's clock runs (10..600, default 60)\n"
            "  --duration S      stop after S seconds of wall time (default: when both\n"
            "                    agreements have closed)\n"
            "  --liar            the watchdog's oracle reports the instance up throughout: the\n"
            "                    median outvotes it and every disagreement is recorded\n"
            "  -h, --help        show this help\n\n"
            "It needs tool_cloudwatch, tool_azure and tool_targets next to this binary (make\n"
            "builds them). Ctrl-C stops everything it started.\n\n"
            "exit status: 0 done and audited, 1 something failed (see DIR/logs), 2 usage error\n");
}

static int self_paths(demo *d)
{
    static const char *const tools[] = {"tool_cloudwatch", "tool_azure", "tool_targets"};
    ssize_t n = readlink("/proc/self/exe", d->self, sizeof(d->self) - 1);
    char path[4300];

    if (n <= 0)
        return fail("cannot find this program's path");
    d->self[n] = '\0';
    sl_strfmt(d->tools, sizeof(d->tools), "%s", d->self);
    char *slash = strrchr(d->tools, '/');
    if (slash)
        *slash = '\0';
    for (size_t i = 0; i < 3; i++) {
        sl_strfmt(path, sizeof(path), "%s/%s", d->tools, tools[i]);
        if (access(path, X_OK) != 0)
            return fail("%s is missing: the demo's stand-ins are built with slaledger "
                        "(run `make`)",
                        path);
    }
    return 0;
}

/* DIR (new or empty) with net/ for init, logs/, standins/ and results/. */
static int make_dirs(demo *d, const char *dir)
{
    static const char *const subs[] = {"logs", "standins", "results"};
    char path[3200];

    if (dir) {
        if (mkdir(dir, 0700) != 0 && errno != EEXIST)
            return fail("cannot create %s: %s", dir, strerror(errno));
        sl_strfmt(d->dir, sizeof(d->dir), "%s", dir);
        sl_strfmt(path, sizeof(path), "%s/net", dir);
        if (access(path, F_OK) == 0)
            return fail("%s already holds a demo: give a new or empty --dir", dir);
    } else {
        sl_strfmt(d->dir, sizeof(d->dir), "/tmp/slaledger-demo-XXXXXX");
        if (!mkdtemp(d->dir))
            return fail("cannot create a directory under /tmp: %s", strerror(errno));
    }
    for (size_t i = 0; i < 3; i++) {
        sl_strfmt(path, sizeof(path), "%s/%s", d->dir, subs[i]);
        if (mkdir(path, 0700) != 0 && errno != EEXIST)
            return fail("cannot create %s: %s", path, strerror(errno));
    }
    sl_strfmt(d->net, sizeof(d->net), "%s/net", d->dir);
    return 0;
}

/* Chooses the clock: the period starts at a whole half hour of node time that the node
 * reaches START_WALL ms from now, so there is time to sign the agreements first. */
static void set_clock(demo *d)
{
    int64_t now = sl__cli_now_ms(), w = now + START_WALL;
    int64_t t = now + (w - now) * d->speed;

    d->t_start = t - sl_floormod(t, WINDOW_MS) + WINDOW_MS;
    /* since + (w - since) * speed == t_start */
    d->since = (w * d->speed - d->t_start) / (d->speed - 1);
    d->since -= sl_floormod(d->since, 1000); /* whole seconds, as the configs write them */
}

static int setup(demo *d)
{
    char *init[] = {"init", d->net, "--listen", "127.0.0.1:0", NULL};
    int rc;

    printf("== a one-machine network in %s\n", d->dir);
    /* init shows every user's token once on stdout; the demo reads them from tokens.txt (0600)
     * and keeps no other copy. Its errors go to stderr, which the demo shares. */
    if (run_self(d, "/dev/null", init) != 0)
        return fail("slaledger init failed (its error is above)");
    set_clock(d);
    if ((rc = load_tokens(d)) || (rc = write_standins(d)) || (rc = start_standins(d)) ||
        (rc = write_secrets(d)) || (rc = write_node_config(d)) || (rc = write_agreements(d)) ||
        (rc = start_node(d)))
        return rc;
    char since[40], start[40];
    sl_time_format(d->since, since, sizeof(since));
    sl_time_format(d->t_start, start, sizeof(start));
    printf("  stand-ins: CloudWatch on :%u (and the watchdog's on :%u), Azure Monitor on :%u, "
           "website on :%u\n"
           "  node %s, its clock %dx the wall since %s; the period starts at %s\n"
           "  console: %s/ (sign in with a token from %s/tokens.txt)\n",
           d->cw, d->cw_watchdog, d->az, d->site, d->url, d->speed, since, start, d->url, d->net);
    printf("\n== two agreements, each with three oracles under a 2-of-3 median\n");
    if ((rc = sign_agreement(d, "vm-web-01", "bob", "univie-aws", "1000.00")) ||
        (rc = sign_agreement(d, "vm-azure-01", "carol", "univie-azure", "800.00")))
        return fail("could not set up the agreements; see %s/logs/node.err", d->dir);
    return 0;
}

static int parse_args(demo *d, int argc, char **argv, const char **dir)
{
    const char *speed = NULL, *duration = NULL;
    int64_t v;
    const sl__opt opts[] = {{"--dir", dir, NULL},
                            {"--speed", &speed, NULL},
                            {"--duration", &duration, NULL},
                            {"--liar", NULL, &d->liar}};
    const sl__cli_spec spec = {CMD, usage, opts, 4, 0, 0};
    int nargs, rc = sl__cli_parse(&spec, argc, argv, &nargs);

    if (rc >= 0)
        return rc;
    d->speed = 60;
    if (speed && (rc = sl__cli_int(CMD, "--speed", speed, 10, 600, &v)) != 0)
        return rc;
    if (speed)
        d->speed = (int)v;
    if (duration && (rc = sl__cli_int(CMD, "--duration", duration, 1, 86400, &v)) != 0)
        return rc;
    d->duration_ms = duration ? v * 1000 : 0;
    return -1;
}

int sl__cmd_demo(int argc, char **argv)
{
    static demo d;
    const char *dir = NULL;
    struct sigaction sa;
    int rc;

    memset(&d, 0, sizeof(d));
    if ((rc = parse_args(&d, argc, argv, &dir)) >= 0)
        return rc;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    setvbuf(stdout, NULL, _IOLBF, 0);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    if ((rc = self_paths(&d)) || (rc = make_dirs(&d, dir)) || (rc = setup(&d)))
        goto out;
    printf("\n== the period, as the ledger records it (node time; every 5 s a summary)\n");
    watch(&d);
    save_results(&d);
    printf("\n== statements (also in %s/results)\n", d.dir);
    for (int k = 0; k < 2; k++)
        print_statement(&d, k);
out:
    stop_all(&d);
    if (rc == 0 && !interrupted)
        rc = audit(&d) ? SL_EXIT_INVALID : 0;
    if (d.dir[0])
        printf("\nThe demo's network, logs and results stay in %s.\n"
               "Run its node again: slaledger node --config %s/univie.yaml\n",
               d.dir, d.net);
    sodium_memzero(d.tokens, sizeof(d.tokens));
    curl_global_cleanup();
    return interrupted && rc == 0 ? 130 : rc;
}
