/*
 * test_fetch.c: the multi-interface fetch engine against tool_targets (tests/tools/targets.c,
 * found through SL_BUILD_DIR) on 127.0.0.1: many requests at once with slow, failing and
 * hanging targets and per-request timeouts, the max_active bound with a queue beyond it,
 * callbacks that add requests, cancellation when freed (also of queued requests), wakeup from
 * another thread, responses identical to sl_http_perform's, and no connection left open by
 * tcp:// requests. Includes fetch.c to watch its lists. Every wait is bounded.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <dirent.h>
#include <pthread.h>

#include "oracle/fetch.c"
#include "support/targets.h"

static targets tg;
static char base[64]; /* http://127.0.0.1:PORT */

static int setup(void **state)
{
    const char *dir = getenv("SL_BUILD_DIR");
    char exe[4096];

    (void)state;
    snprintf(exe, sizeof(exe), "%s/tool_targets", dir ? dir : ".");
    if (targets_start(&tg, exe, NULL, NULL) != 0)
        return -1;
    snprintf(base, sizeof(base), "http://127.0.0.1:%u", tg.port);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    return targets_stop(&tg) == 0 ? 0 : -1;
}

/* A request for base + path with a timeout (0: the default). */
static sl_http_req req_for(const char *method, const char *path, int64_t timeout_ms)
{
    sl_http_req r;
    char url[256];

    sl_http_req_init(&r);
    snprintf(url, sizeof(url), "%s%s", strncmp(path, "tcp://", 6) == 0 ? "" : base, path);
    assert_int_equal(sl_http_req_set(&r, method, url), 0);
    r.timeout_ms = timeout_ms;
    if (strncmp(path, "tcp://", 6) == 0)
        r.mode = SL_HTTP_CONNECT_ONLY;
    return r;
}

static void add(sl_fetch *f, const char *path, int64_t timeout_ms, sl_fetch_cb cb, void *arg)
{
    sl_http_req r = req_for("GET", path, timeout_ms);

    assert_int_equal(sl_fetch_add(f, &r, cb, arg), 0);
    assert_null(r.url); /* taken */
}

/* Polls until nothing is pending, checking the active bound after every poll; fails after
 * limit_ms. */
static void drain(sl_fetch *f, int64_t limit_ms)
{
    long long until = targets_now_ms() + limit_ms;

    while (sl_fetch_poll(f, 100) > 0) {
        assert_true(f->active.n <= f->max_active);
        assert_true(targets_now_ms() < until);
    }
}

/* ---- many at once ---- */

typedef struct tally {
    int ok, fail, slow, timeouts, other;
    size_t max_active_seen;
    sl_fetch *f;
} tally;

static void tally_cb(void *arg, const sl_http_req *req, const sl_http_resp *resp)
{
    tally *t = arg;

    if (t->f->active.n > t->max_active_seen)
        t->max_active_seen = t->f->active.n;
    if (strstr(req->url, "/ok") && resp->status == 200 && resp->body.len == 2 &&
        memcmp(resp->body.p, "ok", 2) == 0)
        t->ok++;
    else if (strstr(req->url, "/fail") && resp->status == 503 && !resp->failed)
        t->fail++;
    else if (strstr(req->url, "/slow") && resp->status == 200 && resp->total_ms >= 190)
        t->slow++;
    else if (strstr(req->url, "/hang") && resp->failed &&
             strcmp(resp->error, "timeout after 300 ms") == 0 && resp->status == 0)
        t->timeouts++;
    else
        t->other++;
}

static void test_many_at_once(void **state)
{
    sl_fetch *f = NULL;
    tally t = {0};
    char path[64];
    long long t0;

    (void)state;
    assert_int_equal(sl_fetch_new(8, &f), 0);
    t.f = f;
    add(f, "/hang", 300, tally_cb, &t);
    add(f, "/hang", 300, tally_cb, &t);
    for (int i = 0; i < 3; i++)
        add(f, "/slow?ms=200", 5000, tally_cb, &t);
    for (int i = 0; i < 200; i++) {
        snprintf(path, sizeof(path), i % 40 == 0 ? "/fail?i=%d" : "/ok?i=%d", i);
        add(f, path, 5000, tally_cb, &t);
    }
    assert_int_equal(sl_fetch_pending(f), 205);
    /* Nothing runs before the first poll; after it at most 8 are active, the rest queued. */
    assert_int_equal(f->queued.n, 205);
    t0 = targets_now_ms();
    sl_fetch_poll(f, 0);
    assert_true(f->active.n <= 8);
    assert_true(f->queued.n >= 195);
    drain(f, 20000);
    assert_int_equal(t.ok, 195);
    assert_int_equal(t.fail, 5);
    assert_int_equal(t.slow, 3);
    assert_int_equal(t.timeouts, 2);
    assert_int_equal(t.other, 0);
    assert_true(t.max_active_seen <= 8);
    /* Slots are shared: the hangs and slows did not serialise everything behind them. */
    assert_true(targets_now_ms() - t0 < 5000);
    /* Easy handles are reused: never more than max_active of them. */
    assert_true(f->n_idle <= 8);
    assert_int_equal(sl_fetch_pending(f), 0);
    sl_fetch_free(f);
}

/* ---- callbacks that add requests ---- */

typedef struct chain {
    sl_fetch *f;
    int done;
    int ok;
} chain;

static void chain_cb(void *arg, const sl_http_req *req, const sl_http_resp *resp)
{
    chain *c = arg;
    char path[32];

    (void)req;
    c->done++;
    c->ok += resp->status == 200;
    if (c->done < 5) {
        snprintf(path, sizeof(path), "/ok?step=%d", c->done);
        add(c->f, path, 5000, chain_cb, c);
        assert_true(sl_fetch_pending(c->f) >= 1);
    }
}

static void test_callback_adds(void **state)
{
    chain c = {0};

    (void)state;
    assert_int_equal(sl_fetch_new(2, &c.f), 0);
    add(c.f, "/ok?step=0", 5000, chain_cb, &c);
    drain(c.f, 10000);
    assert_int_equal(c.done, 5);
    assert_int_equal(c.ok, 5);
    sl_fetch_free(c.f);
}

/* ---- cancel on free ---- */

typedef struct cancelled {
    sl_fetch *f;
    int n, cancelled, readd_refused;
} cancelled;

static void cancel_cb(void *arg, const sl_http_req *req, const sl_http_resp *resp)
{
    cancelled *c = arg;
    sl_http_req again = req_for("GET", "/ok", 1000);

    (void)req;
    c->n++;
    c->cancelled += resp->failed && strcmp(resp->error, "cancelled") == 0 && resp->status == 0;
    /* A callback run by sl_fetch_free cannot add more: refused, the request stays ours. */
    if (sl_fetch_add(c->f, &again, cancel_cb, c) == SL_ESTATE && again.url)
        c->readd_refused++;
    sl_http_req_release(&again);
}

static void test_cancel_on_free(void **state)
{
    cancelled c = {0};

    (void)state;
    assert_int_equal(sl_fetch_new(2, &c.f), 0);
    add(c.f, "/hang", 10000, cancel_cb, &c);
    add(c.f, "/hang", 10000, cancel_cb, &c);
    for (int i = 0; i < 3; i++)
        add(c.f, "/ok", 10000, cancel_cb, &c);
    assert_int_equal(sl_fetch_poll(c.f, 200), 5);
    assert_int_equal(c.f->active.n, 2);
    assert_int_equal(c.f->queued.n, 3);
    assert_int_equal(c.n, 0);
    sl_fetch_free(c.f);
    assert_int_equal(c.n, 5);
    assert_int_equal(c.cancelled, 5);
    assert_int_equal(c.readd_refused, 5);
    sl_fetch_free(NULL);
}

/* ---- wakeup ---- */

static void *wake_later(void *arg)
{
    struct timespec ts = {0, 150 * 1000 * 1000};

    nanosleep(&ts, NULL);
    sl_fetch_wakeup(arg);
    return NULL;
}

static void count_cb(void *arg, const sl_http_req *req, const sl_http_resp *resp)
{
    (void)req, (void)resp;
    (*(int *)arg)++;
}

static void test_wakeup(void **state)
{
    sl_fetch *f = NULL;
    pthread_t th;
    long long t0;
    int n = 0;

    (void)state;
    assert_int_equal(sl_fetch_new(4, &f), 0);
    /* Idle: a poll waits its whole time unless woken. */
    t0 = targets_now_ms();
    assert_int_equal(sl_fetch_poll(f, 200), 0);
    assert_true(targets_now_ms() - t0 >= 190);
    t0 = targets_now_ms();
    assert_int_equal(pthread_create(&th, NULL, wake_later, f), 0);
    assert_int_equal(sl_fetch_poll(f, 10000), 0);
    assert_true(targets_now_ms() - t0 < 5000);
    pthread_join(th, NULL);
    /* Busy with a hanging transfer: woken too, and the transfer goes on. */
    add(f, "/hang", 10000, count_cb, &n);
    t0 = targets_now_ms();
    assert_int_equal(pthread_create(&th, NULL, wake_later, f), 0);
    assert_int_equal(sl_fetch_poll(f, 10000), 1);
    assert_true(targets_now_ms() - t0 < 5000);
    pthread_join(th, NULL);
    assert_int_equal(n, 0);
    /* A wakeup before the poll makes the next poll return at once. */
    sl_fetch_wakeup(f);
    t0 = targets_now_ms();
    assert_int_equal(sl_fetch_poll(f, 10000), 1);
    assert_true(targets_now_ms() - t0 < 5000);
    sl_fetch_free(f);
    assert_int_equal(n, 1);
}

/* ---- the same answers as sl_http_perform ---- */

typedef struct one {
    int calls;
    sl_http_resp resp;
} one;

static void one_cb(void *arg, const sl_http_req *req, const sl_http_resp *resp)
{
    one *o = arg;

    (void)req;
    o->calls++;
    o->resp.status = resp->status;
    o->resp.failed = resp->failed;
    memcpy(o->resp.error, resp->error, sizeof(o->resp.error));
    o->resp.connect_ms = resp->connect_ms;
    sl_buf_reset(&o->resp.body);
    sl_buf_put(&o->resp.body, resp->body.p, resp->body.len);
}

/* Performs r both ways and compares what matters. */
static void same_both_ways(sl_http_req *r, int want_rc)
{
    sl_http_resp sync;
    one o = {0};
    sl_fetch *f = NULL;

    sl_http_resp_init(&sync);
    sl_http_resp_init(&o.resp);
    assert_int_equal(sl_http_perform(r, &sync), want_rc);
    assert_int_equal(sl_fetch_new(1, &f), 0);
    assert_int_equal(sl_fetch_add(f, r, one_cb, &o), 0);
    drain(f, 10000);
    sl_fetch_free(f);
    assert_int_equal(o.calls, 1);
    assert_int_equal(o.resp.status, sync.status);
    assert_int_equal(o.resp.failed, sync.failed);
    assert_string_equal(o.resp.error, sync.error);
    assert_int_equal(o.resp.body.len, sync.body.len);
    if (sync.body.len)
        assert_memory_equal(o.resp.body.p, sync.body.p, sync.body.len);
    assert_int_equal(o.resp.connect_ms >= 0, sync.connect_ms >= 0);
    sl_http_resp_release(&sync);
    sl_http_resp_release(&o.resp);
}

static void test_same_as_perform(void **state)
{
    char path[64];
    unsigned closed = targets_closed_port();
    sl_http_req r;

    (void)state;
    r = req_for("GET", "/body", 5000);
    same_both_ways(&r, 0);
    r = req_for("HEAD", "/ok", 5000);
    same_both_ways(&r, 0);
    r = req_for("POST", "/flip?up=1", 5000);
    sl_buf_put(&r.body, "x", 1);
    same_both_ways(&r, 0);
    r = req_for("GET", "/hang", 200);
    same_both_ways(&r, SL_EIO);
    snprintf(path, sizeof(path), "tcp://127.0.0.1:%u", tg.port);
    r = req_for("GET", path, 5000);
    same_both_ways(&r, 0);
    snprintf(path, sizeof(path), "tcp://127.0.0.1:%u", closed);
    r = req_for("GET", path, 5000);
    same_both_ways(&r, SL_EIO);
    /* A request the transport cannot set up: an error for both, through the callback here. */
    r = req_for("GET", "/ok", 5000);
    r.mode = SL_HTTP_CONNECT_ONLY;
    same_both_ways(&r, SL_EINVAL);
    sl_http_req_release(&r);
}

static void refused_cb(void *arg, const sl_http_req *req, const sl_http_resp *resp)
{
    (void)req;
    assert_true(resp->failed);
    assert_string_equal(resp->error, "connection refused");
    (*(int *)arg)++;
}

static void test_refused(void **state)
{
    sl_fetch *f = NULL;
    char url[64];
    int n = 0;

    (void)state;
    snprintf(url, sizeof(url), "tcp://127.0.0.1:%u", targets_closed_port());
    assert_int_equal(sl_fetch_new(4, &f), 0);
    add(f, url, 2000, refused_cb, &n);
    snprintf(url, sizeof(url), "http://127.0.0.1:%u/ok", targets_closed_port());
    sl_http_req r = req_for("GET", "/ok", 2000);
    assert_int_equal(sl_http_req_set(&r, "GET", url), 0);
    assert_int_equal(sl_fetch_add(f, &r, refused_cb, &n), 0);
    drain(f, 10000);
    assert_int_equal(n, 2);
    sl_fetch_free(f);
}

/* ---- no leaks of connections ---- */

static int open_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    int n = 0;

    assert_non_null(d);
    while (readdir(d))
        n++;
    closedir(d);
    return n;
}

static void test_tcp_closes(void **state)
{
    sl_fetch *f = NULL;
    char url[64];
    int n = 0, before;

    (void)state;
    snprintf(url, sizeof(url), "tcp://127.0.0.1:%u", tg.port);
    assert_int_equal(sl_fetch_new(4, &f), 0);
    before = open_fds();
    for (int i = 0; i < 200; i++)
        add(f, url, 5000, count_cb, &n);
    drain(f, 20000);
    assert_int_equal(n, 200);
    /* A handful of descriptors for libcurl's own use at most, not one per connect. */
    assert_true(open_fds() - before < 16);
    sl_fetch_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_many_at_once),    cmocka_unit_test(test_callback_adds),
        cmocka_unit_test(test_cancel_on_free),  cmocka_unit_test(test_wakeup),
        cmocka_unit_test(test_same_as_perform), cmocka_unit_test(test_refused),
        cmocka_unit_test(test_tcp_closes),
    };

    alarm(240); /* a hang here must not outlive ctest's own limit */
    return cmocka_run_group_tests(tests, setup, teardown);
}
