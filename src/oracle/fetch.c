/*
 * fetch.c: many HTTP requests at once over libcurl's multi interface, for probes of thousands
 * of services and for adapters that need several requests in sequence.
 *
 * An sl_fetch owns one multi handle and its jobs, each in exactly one list: queued (FIFO,
 * unbounded), active (at most max_active, each on an easy handle) or done (finished, its
 * callback not yet run). Easy handles are pooled: a finished transfer's handle is cleared with
 * curl_easy_reset and kept for the next job, so at most max_active handles ever exist, and the
 * multi handle's connection cache keeps connections to a host alive across transfers (probes of
 * many URLs on few hosts reuse a handful of connections). Transfers are configured by
 * sl__curl_prepare and read back by sl__curl_finish exactly as sl_http_perform does, so both
 * paths give the same responses and the same failure reasons.
 *
 * No thread is created: everything runs inside sl_fetch_poll on the owning thread, which sleeps
 * in curl_multi_poll. Finished jobs are collected first and their callbacks run afterwards, so
 * a callback may add requests (they are queued and started before sl_fetch_poll returns); it
 * must not call sl_fetch_poll (ignored) or sl_fetch_free. Beyond oracle.h: sl_fetch_new
 * refuses max_active 0 (SL_EINVAL); sl_fetch_add returns SL_EINVAL for NULL arguments and
 * SL_ESTATE from a callback run by sl_fetch_free (nothing would run it); a refused request
 * stays the caller's. Each job owns its request, response
 * and error buffer until its callback has returned. Thread-safety: one thread at a time;
 * sl_fetch_wakeup from any thread.
 */
#include "slaledger/oracle.h"

#include <limits.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "oracle/oracle_int.h"

typedef struct job {
    sl_http_req req;
    sl_http_resp resp;
    sl_fetch_cb cb;
    void *arg;
    CURL *h;                 /* while active */
    struct curl_slist *hdrs; /* while active: from sl__curl_prepare */
    char *url;               /* while active: from sl__curl_prepare */
    char errbuf[CURL_ERROR_SIZE];
    struct job *prev, *next;
} job;

typedef struct job_list {
    job *head, *tail;
    size_t n;
} job_list;

struct sl_fetch {
    CURLM *multi;
    size_t max_active;
    job_list queued, active, done;
    CURL **idle; /* reset easy handles for the next jobs */
    size_t n_idle, idle_cap;
    int closing; /* in sl_fetch_free: adds are refused */
    int polling; /* in sl_fetch_poll: a nested call returns at once */
    atomic_int woken;
};

static int64_t mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void list_push(job_list *l, job *j)
{
    j->next = NULL;
    j->prev = l->tail;
    if (l->tail)
        l->tail->next = j;
    else
        l->head = j;
    l->tail = j;
    l->n++;
}

static void list_remove(job_list *l, job *j)
{
    if (j->prev)
        j->prev->next = j->next;
    else
        l->head = j->next;
    if (j->next)
        j->next->prev = j->prev;
    else
        l->tail = j->prev;
    j->prev = j->next = NULL;
    l->n--;
}

/* An easy handle for the next transfer: a pooled one, or a new one. */
static CURL *handle_take(sl_fetch *f)
{
    if (f->n_idle > 0)
        return f->idle[--f->n_idle];
    return curl_easy_init();
}

/* Keeps h for a later transfer, cleared of every option (callbacks and buffers of the job
 * that used it included), or frees it when closing or the pool cannot grow. */
static void handle_give(sl_fetch *f, CURL *h)
{
    if (!h)
        return;
    if (f->closing || sl_reserve(&f->idle, &f->idle_cap, f->n_idle + 1, sizeof(*f->idle)) != 0) {
        curl_easy_cleanup(h);
        return;
    }
    curl_easy_reset(h);
    f->idle[f->n_idle++] = h;
}

/* Frees what only the transfer needed and returns its easy handle to the pool. */
static void transfer_end(sl_fetch *f, job *j)
{
    handle_give(f, j->h);
    j->h = NULL;
    curl_slist_free_all(j->hdrs);
    j->hdrs = NULL;
    free(j->url);
    j->url = NULL;
}

/* Replaces the job's response with a failure that never reached the network (or was cut off). */
static void job_fail(job *j, const char *why)
{
    sl_http_resp_release(&j->resp);
    j->resp.failed = 1;
    sl_strfmt(j->resp.error, sizeof(j->resp.error), "%s", why);
}

static void job_free(job *j)
{
    sl_http_req_release(&j->req);
    sl_http_resp_release(&j->resp);
    free(j);
}

/* Puts a job on an easy handle in the multi handle; a job that cannot start goes to done with
 * the reason, as sl_http_perform would give it. */
static void job_start(sl_fetch *f, job *j)
{
    CURL *h = handle_take(f);
    int rc = h ? sl__curl_prepare(h, &j->req, &j->resp, j->errbuf, &j->hdrs, &j->url) : SL_ENOMEM;

    j->h = h;
    if (rc == 0 && curl_easy_setopt(h, CURLOPT_PRIVATE, (void *)j) != CURLE_OK)
        rc = SL_ENOMEM;
    if (rc == 0 && curl_multi_add_handle(f->multi, h) != CURLM_OK)
        rc = SL_ENOMEM;
    if (rc != 0) {
        transfer_end(f, j);
        sl_http_resp_release(&j->resp);
        sl__curl_unprepared(rc, &j->resp);
        list_push(&f->done, j);
        return;
    }
    list_push(&f->active, j);
}

static void start_queued(sl_fetch *f)
{
    while (f->queued.head && f->active.n < f->max_active) {
        job *j = f->queued.head;

        list_remove(&f->queued, j);
        job_start(f, j);
    }
}

/* Reads back a finished transfer and moves its job to done. */
static void job_complete(sl_fetch *f, CURL *h, CURLcode result)
{
    char *p = NULL;
    job *j;

    if (curl_easy_getinfo(h, CURLINFO_PRIVATE, &p) != CURLE_OK || !p)
        return; /* not ours: cannot happen, every handle added carries its job */
    j = (job *)p;
    sl__curl_finish(h, &j->req, result, j->errbuf, &j->resp);
    curl_multi_remove_handle(f->multi, h);
    transfer_end(f, j);
    list_remove(&f->active, j);
    list_push(&f->done, j);
}

/* Lets libcurl make progress on every active transfer and collects the finished ones. */
static void drive(sl_fetch *f)
{
    int running = 0, left = 0;
    CURLMsg *m;

    curl_multi_perform(f->multi, &running);
    while ((m = curl_multi_info_read(f->multi, &left)) != NULL) {
        CURL *h = m->easy_handle;
        CURLcode result = m->data.result;

        if (m->msg == CURLMSG_DONE)
            job_complete(f, h, result);
    }
}

/* Runs the callbacks of finished jobs, oldest first, and frees the jobs. */
static void run_callbacks(sl_fetch *f)
{
    job *j;

    while ((j = f->done.head) != NULL) {
        list_remove(&f->done, j);
        if (j->cb)
            j->cb(j->arg, &j->req, &j->resp);
        job_free(j);
    }
}

int sl_fetch_new(size_t max_active, sl_fetch **out)
{
    sl_fetch *f = NULL;
    int rc;

    *out = NULL;
    if (max_active == 0)
        return SL_EINVAL;
    if ((rc = sl__curl_global()) != 0)
        return rc;
    f = calloc(1, sizeof(*f));
    if (!f)
        return SL_ENOMEM;
    f->max_active = max_active;
    atomic_init(&f->woken, 0);
    f->multi = curl_multi_init();
    if (!f->multi) {
        free(f);
        return SL_ENOMEM;
    }
    *out = f;
    return 0;
}

int sl_fetch_add(sl_fetch *f, sl_http_req *req, sl_fetch_cb cb, void *arg)
{
    job *j;

    if (!f || !req)
        return SL_EINVAL;
    if (f->closing)
        return SL_ESTATE; /* a callback run by sl_fetch_free: nothing more will run */
    j = calloc(1, sizeof(*j));
    if (!j)
        return SL_ENOMEM;
    j->req = *req;
    sl_http_req_init(req);
    sl_http_resp_init(&j->resp);
    j->cb = cb;
    j->arg = arg;
    list_push(&f->queued, j);
    return 0;
}

size_t sl_fetch_poll(sl_fetch *f, int64_t wait_ms)
{
    int64_t until, left;

    if (!f)
        return 0;
    if (f->polling)
        return sl_fetch_pending(f);
    f->polling = 1;
    until = mono_ms() + (wait_ms > 0 ? wait_ms : 0);
    for (;;) {
        start_queued(f);
        drive(f);
        if (f->done.n > 0 || atomic_exchange(&f->woken, 0))
            break;
        left = until - mono_ms();
        if (left <= 0)
            break;
        /* Returns at the first socket event, at libcurl's own next timeout, at
         * curl_multi_wakeup or after left ms, whichever comes first. */
        curl_multi_poll(f->multi, NULL, 0, left > INT_MAX ? INT_MAX : (int)left, NULL);
    }
    run_callbacks(f);
    start_queued(f); /* what the callbacks added starts with the next curl_multi_perform */
    f->polling = 0;
    return sl_fetch_pending(f);
}

void sl_fetch_wakeup(sl_fetch *f)
{
    if (!f)
        return;
    atomic_store(&f->woken, 1);
    curl_multi_wakeup(f->multi);
}

size_t sl_fetch_pending(const sl_fetch *f)
{
    return f ? f->queued.n + f->active.n + f->done.n : 0;
}

void sl_fetch_free(sl_fetch *f)
{
    job *j;

    if (!f)
        return;
    f->closing = 1;
    while ((j = f->active.head) != NULL) {
        curl_multi_remove_handle(f->multi, j->h);
        transfer_end(f, j);
        list_remove(&f->active, j);
        job_fail(j, "cancelled");
        list_push(&f->done, j);
    }
    while ((j = f->queued.head) != NULL) {
        list_remove(&f->queued, j);
        job_fail(j, "cancelled");
        list_push(&f->done, j);
    }
    run_callbacks(f);
    for (size_t i = 0; i < f->n_idle; i++)
        curl_easy_cleanup(f->idle[i]);
    free(f->idle);
    curl_multi_cleanup(f->multi);
    free(f);
}
