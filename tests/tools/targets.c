/*
 * targets.c: loopback HTTP(S) targets for the probe and fetch tests and the oracle bench.
 *
 *   tool_targets [--port N] [--threads N] [--tls CERT KEY]
 *
 * Listens on 127.0.0.1:N (0, the default, picks a free port), prints
 * "listening on 127.0.0.1:PORT" on stdout, and serves until SIGTERM or SIGINT:
 *
 *   /ok             200 "ok"
 *   /fail           503 "fail"
 *   /slow?ms=N      200 "slow" after N ms (the connection is suspended meanwhile, no thread
 *                   sleeps)
 *   /hang           no answer for an hour (until shutdown)
 *   /body           200 "something else"
 *   /flip           200 "up" or 503 "down", after a delay of N ms when set; POST
 *                   /flip?up=0|1&ms=N sets either or both (answering at once with the state)
 *   /metrics        Prometheus text exposition: gauge target_up, 1 when /flip is up
 *   anything else   404
 *
 * Query strings are ignored elsewhere (/ok?i=7 is /ok). With --tls the same is served over
 * HTTPS with the PEM certificate and key given (libmicrohttpd with GnuTLS). Built for many
 * connections: a libmicrohttpd thread pool (default 2 threads) on epoll, the file limit raised
 * to its hard maximum and the connection limit close to it. Delayed answers are kept in a list
 * scanned by one timer thread that resumes them when due. Test scaffolding: failures to start
 * print why and exit 1.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>

#include <microhttpd.h>

#include "slaledger/wait.h"

#define HANG_MS      (3600LL * 1000)
#define MAX_DELAY_MS HANG_MS
#define IDLE_TIMEOUT 60 /* seconds an idle keep-alive connection is kept */

/* A request whose answer waits: registered with the timer thread while suspended. */
typedef struct delayed {
    struct MHD_Connection *c;
    int64_t due_ms;
    int resumed; /* the timer resumed it: answer now */
    int armed;   /* suspended and registered */
} delayed;

static struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    delayed **v;
    size_t n, cap;
    int stopping;
} timer = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, NULL, 0, 0, 0};

static atomic_int flip_up = 1;
static atomic_llong flip_ms = 0; /* delay of GET /flip */
static char plain_marker;        /* *con_cls of a request answered at once */

static int64_t mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- the timer thread ---- */

static int timer_add(delayed *d)
{
    int rc = 0;

    pthread_mutex_lock(&timer.mu);
    if (timer.n == timer.cap) {
        size_t cap = timer.cap ? timer.cap * 2 : 64;
        delayed **v = realloc(timer.v, cap * sizeof(*v));
        if (v) {
            timer.v = v;
            timer.cap = cap;
        }
    }
    if (timer.n < timer.cap) {
        timer.v[timer.n++] = d;
        pthread_cond_signal(&timer.cv);
    } else {
        rc = -1;
    }
    pthread_mutex_unlock(&timer.mu);
    return rc;
}

/* Resumes every entry due by now (all of them when stopping); returns the earliest due time
 * left, or -1. Called with the lock held. */
static int64_t timer_fire(int64_t now)
{
    int64_t next = -1;

    for (size_t i = 0; i < timer.n;) {
        delayed *d = timer.v[i];
        if (timer.stopping || d->due_ms <= now) {
            timer.v[i] = timer.v[--timer.n];
            d->resumed = 1;
            MHD_resume_connection(d->c);
            continue;
        }
        if (next < 0 || d->due_ms < next)
            next = d->due_ms;
        i++;
    }
    return next;
}

static void *timer_main(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&timer.mu);
    while (!timer.stopping) {
        int64_t next = timer_fire(mono_ms());
        if (next < 0) {
            pthread_cond_wait(&timer.cv, &timer.mu);
            continue;
        }
        int64_t wait = next - mono_ms();
        struct timespec ts = sl_deadline_after(wait < 1 ? 1 : wait);
        pthread_cond_timedwait(&timer.cv, &timer.mu, &ts);
    }
    timer_fire(mono_ms());
    pthread_mutex_unlock(&timer.mu);
    return NULL;
}

/* The condition variable waits on the monotonic clock, like the due times. */
static void timer_init(void)
{
    if (sl_cond_init_monotonic(&timer.cv) != 0)
        abort();
}

/* ---- answers ---- */

static enum MHD_Result answer(struct MHD_Connection *c, unsigned status, const char *body,
                              const char *type)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_MUST_COPY);
    enum MHD_Result ret;

    if (!r)
        return MHD_NO;
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    ret = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result text(struct MHD_Connection *c, unsigned status, const char *body)
{
    return answer(c, status, body, "text/plain");
}

static enum MHD_Result metrics(struct MHD_Connection *c)
{
    char body[256];

    snprintf(body, sizeof(body),
             "# HELP target_up Whether /flip answers 200 (1) or 503 (0).\n"
             "# TYPE target_up gauge\n"
             "target_up %d\n",
             atomic_load(&flip_up) ? 1 : 0);
    return answer(c, MHD_HTTP_OK, body, "text/plain; version=0.0.4; charset=utf-8");
}

static enum MHD_Result flip(struct MHD_Connection *c, const char *method)
{
    if (strcmp(method, "POST") == 0) {
        const char *up = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "up");
        const char *ms = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "ms");
        char *end = NULL;
        long long v = ms ? strtoll(ms, &end, 10) : 0;
        if ((!up && !ms) || (up && strcmp(up, "0") != 0 && strcmp(up, "1") != 0) ||
            (ms && (*end || v < 0 || v > MAX_DELAY_MS)))
            return text(c, MHD_HTTP_BAD_REQUEST, "expected ?up=0|1 and/or ?ms=N");
        if (up)
            atomic_store(&flip_up, up[0] == '1');
        if (ms)
            atomic_store(&flip_ms, v);
    }
    return atomic_load(&flip_up) ? text(c, MHD_HTTP_OK, "up")
                                 : text(c, MHD_HTTP_SERVICE_UNAVAILABLE, "down");
}

/* The delay a path asks for: ms >= 0 for /slow, /hang and a delayed GET /flip, -1 for the
 * others. */
static int64_t delay_of(struct MHD_Connection *c, const char *url, const char *method)
{
    if (strcmp(url, "/hang") == 0)
        return HANG_MS;
    if (strcmp(url, "/flip") == 0 && strcmp(method, "GET") == 0 && atomic_load(&flip_ms) > 0)
        return atomic_load(&flip_ms);
    if (strcmp(url, "/slow") != 0)
        return -1;
    const char *ms = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "ms");
    long long v = ms ? strtoll(ms, NULL, 10) : 0;
    return v < 0 ? 0 : v > MAX_DELAY_MS ? MAX_DELAY_MS : v;
}

/* Suspends the connection and registers it with the timer (in this order: a resume must
 * never come before the suspension it ends). */
static enum MHD_Result delay_start(delayed *d, int64_t ms)
{
    MHD_suspend_connection(d->c);
    d->due_ms = mono_ms() + ms;
    d->armed = 1;
    if (timer_add(d) != 0) {
        MHD_resume_connection(d->c);
        d->resumed = 1;
    }
    return MHD_YES;
}

static enum MHD_Result route(struct MHD_Connection *c, const char *url, const char *method)
{
    if (strcmp(url, "/ok") == 0)
        return text(c, MHD_HTTP_OK, "ok");
    if (strcmp(url, "/fail") == 0)
        return text(c, MHD_HTTP_SERVICE_UNAVAILABLE, "fail");
    if (strcmp(url, "/body") == 0)
        return text(c, MHD_HTTP_OK, "something else");
    if (strcmp(url, "/flip") == 0)
        return flip(c, method);
    if (strcmp(url, "/metrics") == 0)
        return metrics(c);
    return text(c, MHD_HTTP_NOT_FOUND, "not found");
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *data,
                                  size_t *size, void **con_cls)
{
    (void)cls, (void)version, (void)data;
    /* The first call only notes the request; the answer comes once the body (if any) is in. */
    if (!*con_cls) {
        int64_t ms = delay_of(c, url, method);
        delayed *d = ms >= 0 ? calloc(1, sizeof(*d)) : NULL;
        if (ms >= 0 && !d)
            return MHD_NO;
        if (d)
            d->c = c;
        *con_cls = d ? (void *)d : (void *)&plain_marker;
        return MHD_YES;
    }
    if (*size) {
        *size = 0;
        return MHD_YES;
    }
    if (*con_cls == &plain_marker)
        return route(c, url, method);
    delayed *d = *con_cls;
    if (!d->armed)
        return delay_start(d, delay_of(c, url, method));
    if (!d->resumed)
        return MHD_YES; /* cannot happen: a suspended connection is not processed */
    if (strcmp(url, "/flip") == 0)
        return flip(c, method);
    return text(c, MHD_HTTP_OK, strcmp(url, "/hang") == 0 ? "hang" : "slow");
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)cls, (void)c, (void)toe;
    if (*con_cls && *con_cls != &plain_marker)
        free(*con_cls);
    *con_cls = NULL;
}

/* ---- start-up ---- */

static void die(const char *what)
{
    fprintf(stderr, "tool_targets: %s\n", what);
    exit(1);
}

/* The whole file as a NUL-terminated string (libmicrohttpd wants PEM text in memory). */
static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    char *s = NULL;
    long n;

    if (!f || fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0 ||
        !(s = malloc((size_t)n + 1)) || fread(s, 1, (size_t)n, f) != (size_t)n) {
        fprintf(stderr, "tool_targets: cannot read %s\n", path);
        exit(1);
    }
    s[n] = '\0';
    fclose(f);
    return s;
}

/* Raises the open-file limit to its hard maximum; returns the connections to allow. */
static unsigned raise_fd_limit(void)
{
    struct rlimit rl;

    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return 1000;
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
    getrlimit(RLIMIT_NOFILE, &rl);
    return rl.rlim_cur > 200 ? (unsigned)(rl.rlim_cur - 100) : 100;
}

typedef struct opts {
    unsigned port;
    unsigned threads;
    const char *cert, *key;
} opts;

static void usage(void)
{
    fprintf(stderr, "usage: tool_targets [--port N] [--threads N] [--tls CERT KEY]\n");
    exit(2);
}

static opts parse_args(int argc, char **argv)
{
    opts o = {0, 2, NULL, NULL};

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--port") == 0 && i + 1 < argc)
            o.port = (unsigned)strtoul(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc)
            o.threads = (unsigned)strtoul(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--tls") == 0 && i + 2 < argc) {
            o.cert = argv[++i];
            o.key = argv[++i];
        } else
            usage();
    }
    if (o.port > 65535 || o.threads < 1 || o.threads > 64)
        usage();
    return o;
}

static struct MHD_Daemon *start(const opts *o, char *cert, char *key)
{
    struct sockaddr_in sa;
    unsigned flags = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;

    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)o->port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (cert)
        flags |= MHD_USE_TLS;
    return MHD_start_daemon(flags, 0, NULL, NULL, on_request, NULL, MHD_OPTION_SOCK_ADDR,
                            (struct sockaddr *)&sa, MHD_OPTION_THREAD_POOL_SIZE, o->threads,
                            MHD_OPTION_CONNECTION_LIMIT, raise_fd_limit(),
                            MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)IDLE_TIMEOUT,
                            MHD_OPTION_LISTEN_BACKLOG_SIZE, 4096u, MHD_OPTION_NOTIFY_COMPLETED,
                            on_completed, NULL, cert ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END,
                            cert, MHD_OPTION_HTTPS_MEM_KEY, key, MHD_OPTION_END);
}

int main(int argc, char **argv)
{
    opts o = parse_args(argc, argv);
    char *cert = o.cert ? slurp(o.cert) : NULL, *key = o.key ? slurp(o.key) : NULL;
    sigset_t set;
    pthread_t th;
    int sig;

    /* Every thread started from here on inherits the mask; only sigwait takes the signals. */
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
    timer_init();
    if (pthread_create(&th, NULL, timer_main, NULL) != 0)
        die("cannot start the timer thread");
    struct MHD_Daemon *d = start(&o, cert, key);
    if (!d)
        die("cannot start the HTTP server");
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    printf("listening on 127.0.0.1:%u\n", info ? (unsigned)info->port : 0u);
    fflush(stdout);
    sigwait(&set, &sig);
    /* Resume every waiting answer first: libmicrohttpd refuses to stop with suspended ones. */
    pthread_mutex_lock(&timer.mu);
    timer.stopping = 1;
    pthread_cond_signal(&timer.cv);
    pthread_mutex_unlock(&timer.mu);
    pthread_join(th, NULL);
    MHD_stop_daemon(d);
    free(timer.v);
    free(cert);
    free(key);
    return 0;
}
