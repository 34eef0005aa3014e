/*
 * bench/api.c: the node's REST API under load, against the HTTP server it is built on. In one
 * run:
 *
 *   api_hello_req_per_s     the limit: a bare libmicrohttpd server answering a constant body,
 *                           started with the node's daemon flags and thread count (http.c)
 *   api_node_req_per_s      GET /v1/agreements/{name} on a real node holding BENCH_AGREEMENTS
 *                           (default 10,000) active agreements, random names, auditor's token
 *   api_node_vs_hello       their ratio (target >= 0.8)
 *   api_node_start_s        exec of `slaledger node` to its "listening on" line, with the
 *                           agreements on its ledger
 *   api_node_rss_mib        the node's VmRSS after start and after the load
 *
 * Load: wrk -t2 -c32 for BENCH_WRK_SECONDS (default 5) each. The node is made by
 * `slaledger init` in a temporary directory (the slaledger binary next to this one); its
 * agreements are proposed (as alice) and accepted (as bob) through the library before the
 * node starts: signed transactions ordered into blocks by the solo orderer and committed to the
 * channel's ledger, exactly what the node would do for the same API calls but without the HTTP
 * round trip per agreement. Without wrk the bench says so and exits 0.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "slaledger/ident.h"
#include "slaledger/ledger.h"
#include "slaledger/order.h"
#include "slaledger/sla.h"
#include "slaledger/tx.h"

#define WRK_THREADS     "2"
#define WRK_CONNECTIONS "32"
#define TX_LIFETIME_MS  (30LL * 60 * 1000)

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static long env_long(const char *name, long def)
{
    const char *v = getenv(name);
    long n = v ? strtol(v, NULL, 10) : 0;
    return n > 0 ? n : def;
}

static void die(const char *what, const sl_error *err)
{
    fprintf(stderr, "bench api: %s%s%s\n", what, err ? ": " : "", err ? err->msg : "");
    exit(1);
}

/* ---- processes ---- */

/* 1 when name is an executable file in a directory of PATH. */
static int in_path(const char *name)
{
    const char *path = getenv("PATH");
    char dir[4096], file[4200];
    while (path && *path) {
        size_t n = strcspn(path, ":");
        snprintf(dir, sizeof(dir), "%.*s", (int)n, path);
        snprintf(file, sizeof(file), "%s/%s", n ? dir : ".", name);
        if (access(file, X_OK) == 0)
            return 1;
        path += n + (path[n] == ':');
    }
    return 0;
}

/* Runs argv to completion with its standard output appended to out (NULL: discarded);
 * returns its exit status, or -1 when it could not run. */
static int run(char *const argv[], sl_buf *out)
{
    int fd[2];
    if (pipe(fd) != 0)
        return -1;
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        dup2(fd[1], STDOUT_FILENO);
        close(fd[0]);
        close(fd[1]);
        execvp(argv[0], argv);
        _exit(127);
    }
    close(fd[1]);
    char chunk[4096];
    ssize_t n;
    while ((n = read(fd[0], chunk, sizeof(chunk))) > 0 || (n < 0 && errno == EINTR))
        if (n > 0 && out)
            sl_buf_put(out, chunk, (size_t)n);
    close(fd[0]);
    int st;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* The directory of this executable, where the build puts slaledger too. */
static void self_dir(char *out, size_t cap)
{
    ssize_t n = readlink("/proc/self/exe", out, cap - 1);
    if (n <= 0)
        die("cannot read /proc/self/exe", NULL);
    out[n] = '\0';
    char *slash = strrchr(out, '/');
    if (slash)
        *slash = '\0';
}

/* ---- wrk ---- */

typedef struct wrk_result {
    double rps;
    long non2xx; /* responses with another status */
} wrk_result;

/* The number after label in wrk's report, or 0. */
static double wrk_field(const char *text, const char *label)
{
    const char *p = strstr(text, label);
    return p ? strtod(p + strlen(label), NULL) : 0;
}

static wrk_result wrk_run(const char *url, const char *script, const char *seconds)
{
    char duration[32];
    snprintf(duration, sizeof(duration), "%ss", seconds);
    char *argv[] = {
        "wrk", "-t" WRK_THREADS, "-c" WRK_CONNECTIONS, "-d", duration, (char *)url, NULL, NULL,
        NULL};
    if (script) {
        argv[5] = "-s";
        argv[6] = (char *)script;
        argv[7] = (char *)url;
    }
    sl_buf out;
    sl_buf_init(&out);
    if (run(argv, &out) != 0 || !sl_buf_cstr(&out))
        die("wrk failed", NULL);
    const char *text = sl_buf_cstr(&out);
    wrk_result r = {wrk_field(text, "Requests/sec:"),
                    (long)wrk_field(text, "Non-2xx or 3xx responses:")};
    const char *errs = strstr(text, "Socket errors:");
    if (errs)
        fprintf(stderr, "bench api: %s: %.*s\n", url, (int)strcspn(errs, "\n"), errs);
    sl_buf_release(&out);
    return r;
}

/* ---- the limit: a bare libmicrohttpd server ---- */

static const char hello[] = "{\"hello\":\"world\"}\n";

static enum MHD_Result hello_cb(void *cls, struct MHD_Connection *c, const char *url,
                                const char *method, const char *version, const char *data,
                                size_t *size, void **con_cls)
{
    static int headers_seen;
    (void)cls, (void)url, (void)method, (void)version, (void)data;
    /* As http.c: the first call only notes the request, the last one answers. An answer
     * queued at the first call would make libmicrohttpd close the connection after it. */
    if (!*con_cls) {
        *con_cls = &headers_seen;
        return MHD_YES;
    }
    if (*size) {
        *size = 0;
        return MHD_YES;
    }
    struct MHD_Response *r =
        MHD_create_response_from_buffer(sizeof(hello) - 1, (void *)hello, MHD_RESPMEM_PERSISTENT);
    if (!r)
        return MHD_NO;
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
    enum MHD_Result ret = MHD_queue_response(c, MHD_HTTP_OK, r);
    MHD_destroy_response(r);
    return ret;
}

/* Starts the server as http.c starts the node's, with its defaults: an epoll pool of one
 * thread per online CPU, 1000 connections, 30 s idle timeout. */
static struct MHD_Daemon *hello_start(uint16_t *port)
{
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    unsigned threads = cpus < 1 ? 1 : cpus > 256 ? 256 : (unsigned)cpus;
    unsigned flags = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
    struct MHD_OptionItem opts[] = {
        {MHD_OPTION_CONNECTION_TIMEOUT, 30, NULL},
        {MHD_OPTION_CONNECTION_LIMIT, 1000, NULL},
        {threads > 1 ? MHD_OPTION_THREAD_POOL_SIZE : MHD_OPTION_END, (intptr_t)threads, NULL},
        {MHD_OPTION_END, 0, NULL},
    };
    struct MHD_Daemon *d = MHD_start_daemon(flags, 0, NULL, NULL, hello_cb, NULL, MHD_OPTION_ARRAY,
                                            opts, MHD_OPTION_END);
    const union MHD_DaemonInfo *info = d ? MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT) : NULL;
    if (!info)
        die("cannot start the hello server", NULL);
    *port = info->port;
    return d;
}

/* ---- agreements on the ledger ---- */

typedef struct member {
    sl_key *key;
    sl_cert cert;
} member;

static void member_load(const sl_node_member *m, member *out)
{
    sl_error err = {0};
    sl_buf text;
    sl_buf_init(&text);
    FILE *f = fopen(m->cert, "rb");
    char chunk[4096];
    size_t n;
    while (f && (n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        sl_buf_put(&text, chunk, n);
    if (f)
        fclose(f);
    if (!f || text.err || sl_key_load(m->key, &out->key, &err) ||
        sl_cert_read_json((const char *)text.p, text.len, &out->cert, &err))
        die(m->cert, &err);
    sl_buf_release(&text);
}

static const sl_node_member *user_of(const sl_node_config *cfg, const char *name)
{
    for (size_t i = 0; i < cfg->n_users; i++)
        if (strcmp(cfg->users[i].name, name) == 0)
            return &cfg->users[i];
    die("no such user in the config", NULL);
    return NULL;
}

static atomic_long valid_txs;

static void on_block(void *arg, const sl_commit_info *info, const sl_error *err)
{
    (void)arg;
    if (err)
        die("block not committed", err);
    valid_txs += (long)info->n_valid;
}

/* Agreement i: the paper's EC2 agreement, named bench-NNNNN, over next month. */
static void agreement_doc(long i, sl_buf *doc)
{
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    int next = tm.tm_mon + 1, after = tm.tm_mon + 2; /* months from January of this year */
    int y = tm.tm_year + 1900 + next / 12, m = next % 12 + 1;
    int y2 = tm.tm_year + 1900 + after / 12, m2 = after % 12 + 1;
    sl_buf_printf(doc,
                  "apiVersion: slaledger/v1\nkind: Agreement\nmetadata: {name: bench-%05ld}\n"
                  "spec:\n  channel: univie-aws\n  consumer: univie\n  provider: aws\n"
                  "  period: {start: %04d-%02d-01T00:00:00Z, end: %04d-%02d-01T00:00:00Z}\n"
                  "  fee: {amount: \"1000.00\", currency: EUR}\n  billing: calendar-month\n"
                  "  grace: 10m\n  services:\n    - name: web-01\n      kind: aws.ec2\n"
                  "      source: {region: eu-central-1, instance: i-0abc123def4567890, "
                  "credentials: aws-main, namespace: AWS/EC2, metric: StatusCheckFailed}\n"
                  "  oracles: {members: [univie-mon, aws-mon, watchdog], policy: median, "
                  "quorum: 2}\n  objectives:\n"
                  "    - {name: uptime, metric: availability, interval: 60s, window: "
                  "calendar-month, target: \">= 99.99%%\"}\n"
                  "  penalties:\n    - objective: uptime\n      tiers:\n"
                  "        - {below: 99.99%%, credit: 10%%}\n        - {below: 95.0%%, credit: "
                  "100%%}\n",
                  i, y, m, y2, m2);
}

/* Signs tx as who and queues it. */
static void submit(sl_orderer *o, const member *who, sl_tx *t, uint64_t nonce)
{
    sl_error err = {0};
    sl_buf bytes;
    uint8_t id[SL_HASH_LEN];
    sl_buf_init(&bytes);
    snprintf(t->channel, sizeof(t->channel), "univie-aws");
    t->nonce = nonce;
    t->expires_ms = wall_ms() + TX_LIFETIME_MS;
    t->cert = who->cert;
    if (sl_tx_sign(t, who->key, &bytes, &err) || sl_orderer_submit(o, bytes.p, bytes.len, id, &err))
        die("submit", &err);
    sl_buf_release(&bytes);
}

/* Proposes (alice) and accepts (bob) n agreements on univie-aws's ledger; returns the
 * seconds it took. */
static double load_agreements(const sl_node_config *cfg, long n)
{
    const sl_node_channel *c = &cfg->channels[0];
    for (size_t i = 0; i < cfg->n_channels; i++)
        if (strcmp(cfg->channels[i].name, "univie-aws") == 0)
            c = &cfg->channels[i];
    sl_error err = {0};
    sl_buf g, doc;
    sl_buf_init(&g);
    sl_buf_init(&doc);
    FILE *f = fopen(c->genesis, "rb");
    char chunk[4096];
    size_t got;
    while (f && (got = fread(chunk, 1, sizeof(chunk), f)) > 0)
        sl_buf_put(&g, chunk, got);
    if (f)
        fclose(f);
    mkdir(cfg->data_dir, 0700);
    sl_ledger *l = NULL;
    sl_orderer *o = NULL;
    member node, alice, bob;
    member_load(&cfg->identity, &node);
    member_load(user_of(cfg, "alice"), &alice);
    member_load(user_of(cfg, "bob"), &bob);
    /* `slaledger init` may have made the ledger already, as the node would on its first start. */
    struct stat st;
    if (!f || (stat(c->ledger, &st) != 0 && sl_ledger_create(c->ledger, g.p, g.len, &err)) ||
        sl_ledger_open(c->ledger, 0, &l, &err))
        die(c->ledger, &err);
    sl_order_settings set = {0};
    if (sl_solo_new(l, node.key, &node.cert, &set, on_block, NULL, &o, &err))
        die("orderer", &err);
    double t0 = now_s();
    uint64_t nonce = 1;
    for (long i = 0; i < n; i++) {
        sl_buf_reset(&doc);
        agreement_doc(i, &doc);
        sl_tx t = {.type = SL_TX_PROPOSE, .doc = doc.p, .doc_len = doc.len};
        submit(o, &alice, &t, nonce++);
        sl_tx a = {.type = SL_TX_ACCEPT};
        snprintf(a.agreement, sizeof(a.agreement), "bench-%05ld", i);
        sl_sha256(doc.p, doc.len, a.doc_hash);
        /* The accept goes after its proposal in the same queue, so in the same or a later
         * block, after it. */
        submit(o, &bob, &a, nonce++);
    }
    if (sl_orderer_flush(o, &err))
        die("flush", &err);
    double took = now_s() - t0;
    if (valid_txs != 2 * n) {
        fprintf(stderr, "bench api: %ld of %ld transactions valid\n", (long)valid_txs, 2 * n);
        exit(1);
    }
    sl_orderer_free(o);
    sl_ledger_close(l);
    sl_key_free(node.key);
    sl_key_free(alice.key);
    sl_key_free(bob.key);
    sl_buf_release(&g);
    sl_buf_release(&doc);
    return took;
}

/* ---- the node ---- */

typedef struct node_proc {
    pid_t pid;
    uint16_t port;
    double start_s; /* exec to "listening on" */
} node_proc;

static node_proc node_start(const char *bin, const char *config)
{
    node_proc np = {0};
    int fd[2];
    if (pipe(fd) != 0)
        die("pipe", NULL);
    double t0 = now_s();
    np.pid = fork();
    if (np.pid < 0)
        die("fork", NULL);
    if (np.pid == 0) {
        dup2(fd[1], STDOUT_FILENO);
        close(fd[0]);
        close(fd[1]);
        execl(bin, bin, "node", "--config", config, "--listen", "127.0.0.1:0", (char *)NULL);
        _exit(127);
    }
    close(fd[1]);
    char line[256];
    size_t len = 0;
    ssize_t n;
    while (len + 1 < sizeof(line) && (n = read(fd[0], line + len, sizeof(line) - 1 - len)) > 0) {
        len += (size_t)n;
        line[len] = '\0';
        const char *at = strstr(line, "listening on http://");
        const char *colon = at ? strchr(at + strlen("listening on http://"), ':') : NULL;
        if (colon && strchr(colon, '\n')) {
            np.start_s = now_s() - t0;
            np.port = (uint16_t)strtol(colon + 1, NULL, 10);
            break;
        }
    }
    close(fd[0]);
    if (!np.port)
        die("the node did not start", NULL);
    return np;
}

static void node_stop(node_proc *np)
{
    int st;
    kill(np->pid, SIGTERM);
    while (waitpid(np->pid, &st, 0) < 0 && errno == EINTR)
        ;
}

/* VmRSS of pid in MiB, or -1. */
static double rss_mib(pid_t pid)
{
    char path[64], line[256];
    snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    double kb = -1;
    while (f && fgets(line, sizeof(line), f))
        if (strncmp(line, "VmRSS:", 6) == 0)
            kb = strtod(line + 6, NULL);
    if (f)
        fclose(f);
    return kb < 0 ? -1 : kb / 1024;
}

/* The token `slaledger init` made for user (tokens.txt: USER ORG ROLE TOKEN). */
static void token_of(const char *dir, const char *user, char *out, size_t cap)
{
    char path[128], line[512], u[64], org[64], role[64], tok[256];
    snprintf(path, sizeof(path), "%s/tokens.txt", dir);
    FILE *f = fopen(path, "r");
    out[0] = '\0';
    while (f && fgets(line, sizeof(line), f))
        if (line[0] != '#' && sscanf(line, "%63s %63s %63s %255s", u, org, role, tok) == 4 &&
            strcmp(u, user) == 0)
            snprintf(out, cap, "%s", tok);
    if (f)
        fclose(f);
    if (!out[0])
        die("no token for the auditor", NULL);
}

static void write_script(const char *path, const char *token, long n)
{
    FILE *f = fopen(path, "w");
    if (!f)
        die(path, NULL);
    fprintf(f,
            "wrk.headers[\"Authorization\"] = \"Bearer %s\"\n"
            "request = function()\n"
            "  return wrk.format(\"GET\", string.format(\"/v1/agreements/bench-%%05d\", "
            "math.random(0, %ld)))\n"
            "end\n",
            token, n - 1);
    fclose(f);
}

int main(void)
{
    long n = env_long("BENCH_AGREEMENTS", 10000);
    char secs[24], dir[4096], bin[4200], tmpl[] = "/tmp/slaledger-bench-api-XXXXXX";
    snprintf(secs, sizeof(secs), "%ld", env_long("BENCH_WRK_SECONDS", 5));
    /* A bench that cannot run fails: `make bench` must not report figures it never measured. */
    if (!in_path("wrk")) {
        fprintf(stderr, "bench_api: wrk is not installed (scripts/deps.sh installs it)\n");
        return 1;
    }
    self_dir(dir, sizeof(dir));
    snprintf(bin, sizeof(bin), "%s/slaledger", dir);
    if (access(bin, X_OK) != 0) {
        fprintf(stderr, "bench_api: no slaledger binary at %s (build the slaledger target)\n", bin);
        return 1;
    }

    /* (a) the limit */
    uint16_t hport;
    struct MHD_Daemon *d = hello_start(&hport);
    char url[64];
    snprintf(url, sizeof(url), "http://127.0.0.1:%u/", (unsigned)hport);
    wrk_result hello_r = wrk_run(url, NULL, secs);
    MHD_stop_daemon(d);
    printf("api_hello_req_per_s: %.0f req/s\n", hello_r.rps);
    fflush(stdout);

    /* (b) the node */
    const char *tmp = mkdtemp(tmpl);
    char net[64], cfg_path[96], script[96], token[256];
    if (!tmp)
        die("mkdtemp", NULL);
    snprintf(net, sizeof(net), "%s/net", tmp);
    char *init[] = {bin, "init", net, NULL};
    if (run(init, NULL) != 0)
        die("slaledger init failed", NULL);
    snprintf(cfg_path, sizeof(cfg_path), "%s/univie.yaml", net);
    sl_node_config *cfg = NULL;
    if (sl_node_config_parse_file(cfg_path, &cfg, NULL))
        die("cannot read the node's config", NULL);
    double load_s = load_agreements(cfg, n);
    sl_node_config_free(cfg);
    printf("api_load_agreements_per_s: %.0f agreements/s (%ld proposed and accepted, library)\n",
           (double)n / load_s, n);

    node_proc np = node_start(bin, cfg_path);
    printf("api_node_start_s: %.3f s (%ld agreements)\n", np.start_s, n);
    printf("api_node_rss_mib: %.1f MiB (after start)\n", rss_mib(np.pid));
    fflush(stdout);
    token_of(net, "dave", token, sizeof(token));
    snprintf(script, sizeof(script), "%s/get.lua", tmp);
    write_script(script, token, n);
    snprintf(url, sizeof(url), "http://127.0.0.1:%u", (unsigned)np.port);
    wrk_result node_r = wrk_run(url, script, secs);
    printf("api_node_rss_mib_loaded: %.1f MiB (after the load)\n", rss_mib(np.pid));
    node_stop(&np);
    printf("api_node_req_per_s: %.0f req/s (GET /v1/agreements/{name}, %ld agreements)\n",
           node_r.rps, n);
    printf("api_node_vs_hello: %.2f (target >= 0.8)\n",
           hello_r.rps > 0 ? node_r.rps / hello_r.rps : 0);
    char *rm[] = {"rm", "-rf", (char *)tmp, NULL};
    run(rm, NULL);
    if (node_r.non2xx || hello_r.non2xx) {
        fprintf(stderr, "bench api: %ld answers were not 2xx: not a valid run\n",
                node_r.non2xx + hello_r.non2xx);
        return 1;
    }
    return 0;
}
