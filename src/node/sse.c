/*
 * sse.c: server-sent event streams. Each stream is an endless chunked response whose content
 * reader drains a per-stream byte queue. When the queue is empty the reader suspends the
 * connection (MHD_suspend_connection) and returns 0, so an idle stream holds no pool thread;
 * sl_http_broadcast and the heartbeat thread append to the queues and resume suspended
 * connections. A queue that grows past sl__http_sse_queue_max (a client that does not read)
 * drops its stream: the reader ends the response with an error and MHD closes the connection.
 *
 * Invariants: `suspended` is set only by the reader while it suspends, and cleared by exactly
 * one thread, which then calls MHD_resume_connection, outside the mutex (MHD takes its own locks
 * there). A suspended connection is never processed or freed by MHD, so the stream stays valid
 * until that resume. Once `closing` is set nothing suspends again, and every suspended stream
 * has been resumed: MHD_stop_daemon (which aborts on suspended connections) may run.
 *
 * A stream gets what its caller's audience allows (sl_http_audience): an organization's events,
 * and what its organization's auditors may see when the caller is an auditor; no role sees past
 * the audience, so another channel's blocks never reach a non-member.
 *
 * Ownership: a stream belongs to its MHD response; MHD's free callback unlinks and frees it.
 * Thread-safety: the stream list, the queues and the flags are guarded by sse->mu.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <microhttpd.h>

#include "node/http_int.h"
#include "slaledger/sla.h"
#include "slaledger/wait.h"

#define HEARTBEAT  ":\n\n"
#define READ_BLOCK (16 * 1024)
#define DRAIN_MS   500 /* how long sl_http_free lets streams finish cleanly */

unsigned sl__http_heartbeat_ms = 15000;
size_t sl__http_sse_queue_max = 1024 * 1024;

struct sl__stream {
    sl__stream *next, *prev;
    sl__stream *resume_next; /* in a list of streams to resume after unlocking */
    sl_http *h;
    struct MHD_Connection *conn;
    sl_caller caller;
    sl_buf q;
    size_t off; /* bytes of q already handed to MHD */
    int suspended;
    int dropped;
};

int sl__sse_init(sl__sse *s)
{
    memset(s, 0, sizeof(*s));
    if (pthread_mutex_init(&s->mu, NULL) != 0)
        return SL_ENOMEM;
    if (sl_cond_init_monotonic(&s->wake) != 0)
        goto fail;
    if (sl_cond_init_monotonic(&s->drained) != 0) {
        pthread_cond_destroy(&s->wake);
        goto fail;
    }
    return 0;
fail:
    pthread_mutex_destroy(&s->mu);
    return SL_ENOMEM;
}

void sl__sse_release(sl__sse *s)
{
    if (!s)
        return;
    pthread_cond_destroy(&s->drained);
    pthread_cond_destroy(&s->wake);
    pthread_mutex_destroy(&s->mu);
}

size_t sl__sse_count(sl_http *h)
{
    size_t n;

    pthread_mutex_lock(&h->sse.mu);
    n = h->sse.n;
    pthread_mutex_unlock(&h->sse.mu);
    return n;
}

/* Calls MHD_resume_connection for every stream in list (built under the mutex). */
static void resume_all(sl__stream *list)
{
    while (list) {
        /* Read next first: once resumed, the stream may be freed by an MHD thread. */
        sl__stream *next = list->resume_next;
        MHD_resume_connection(list->conn);
        list = next;
    }
}

/* Under the mutex: marks s to be resumed by the caller if its reader is suspended. */
static void wake(sl__stream *s, sl__stream **resume)
{
    if (!s->suspended)
        return;
    s->suspended = 0;
    s->resume_next = *resume;
    *resume = s;
}

/* Under the mutex: appends data to s's queue, or drops s when the queue would overflow.
 * Returns 1 when s was dropped now. */
static int enqueue(sl__stream *s, const void *data, size_t n, sl__stream **resume)
{
    int dropped_now = 0;

    if (s->dropped)
        return 0;
    if (s->off == s->q.len) {
        s->off = 0;
        s->q.len = 0;
    }
    if (s->q.len - s->off + n > sl__http_sse_queue_max) {
        s->dropped = dropped_now = 1;
    } else {
        if (s->off > 0 && s->off >= s->q.len / 2) {
            memmove(s->q.p, s->q.p + s->off, s->q.len - s->off);
            s->q.len -= s->off;
            s->off = 0;
        }
        sl_buf_put(&s->q, data, n);
        s->dropped = dropped_now = s->q.err != 0;
    }
    if (dropped_now) {
        sl_buf_release(&s->q);
        s->off = 0;
    }
    wake(s, resume);
    return dropped_now;
}

/* MHD's content reader: hands out queued bytes, or suspends until there are some. */
static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    sl__stream *s = cls;
    sl__sse *sse = &s->h->sse;
    ssize_t rc;

    (void)pos;
    pthread_mutex_lock(&sse->mu);
    if (s->dropped) {
        rc = MHD_CONTENT_READER_END_WITH_ERROR;
    } else if (s->off < s->q.len) {
        size_t n = s->q.len - s->off;
        n = n < max ? n : max;
        memcpy(buf, s->q.p + s->off, n);
        s->off += n;
        rc = (ssize_t)n;
    } else if (sse->closing) {
        rc = MHD_CONTENT_READER_END_OF_STREAM;
    } else {
        s->suspended = 1;
        MHD_suspend_connection(s->conn);
        rc = 0;
    }
    pthread_mutex_unlock(&sse->mu);
    return rc;
}

/* MHD's free callback for the stream's response: the connection is done with it. */
static void stream_free(void *cls)
{
    sl__stream *s = cls;
    sl__sse *sse = &s->h->sse;

    pthread_mutex_lock(&sse->mu);
    if (s->prev)
        s->prev->next = s->next;
    else
        sse->head = s->next;
    if (s->next)
        s->next->prev = s->prev;
    sse->n--;
    pthread_cond_broadcast(&sse->drained);
    pthread_mutex_unlock(&sse->mu);
    sl_buf_release(&s->q);
    free(s);
}

static struct MHD_Response *stream_response(sl__stream *s)
{
    struct MHD_Response *r;

    r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, READ_BLOCK, stream_read, s,
                                          stream_free);
    if (!r)
        return NULL;
    if (MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/event-stream") != MHD_YES ||
        MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache") != MHD_YES ||
        MHD_add_response_header(r, "X-Accel-Buffering", "no") != MHD_YES) {
        MHD_destroy_response(r); /* frees s through stream_free */
        return NULL;
    }
    return r;
}

struct MHD_Response *sl__sse_open(sl_http *h, struct MHD_Connection *conn, const sl_caller *caller)
{
    sl__sse *sse = &h->sse;
    sl__stream *s = calloc(1, sizeof(*s));

    if (!s)
        return NULL;
    s->h = h;
    s->conn = conn;
    s->caller = *caller;
    sl_buf_init(&s->q);
    /* A first comment makes the headers go out now, and tells the client the stream is live. */
    sl_buf_put(&s->q, HEARTBEAT, strlen(HEARTBEAT));
    pthread_mutex_lock(&sse->mu);
    if (sse->closing || s->q.err) {
        pthread_mutex_unlock(&sse->mu);
        sl_buf_release(&s->q);
        free(s);
        return NULL;
    }
    s->next = sse->head;
    if (sse->head)
        sse->head->prev = s;
    sse->head = s;
    sse->n++;
    pthread_mutex_unlock(&sse->mu);
    return stream_response(s);
}

/* Whether org is in the NULL-terminated list (NULL: an empty one). */
static int listed(const char *const *list, const char *org)
{
    for (; list && *list; list++) {
        if (strcmp(*list, org) == 0)
            return 1;
    }
    return 0;
}

/* Whether the stream's caller is in the audience (NULL: everyone). */
static int visible(const sl__stream *s, const sl_http_audience *to)
{
    if (!to)
        return 1;
    if (!s->caller.authenticated)
        return 0;
    return listed(to->orgs, s->caller.org) ||
           ((s->caller.role & SL_ROLE_AUDITOR) && listed(to->auditors, s->caller.org));
}

/* Appends "event: name\ndata: line\n...\n" to b; CR and LF in name are dropped, and each line
 * of json becomes its own data line, so no input can end the event early. */
static void event_format(sl_buf *b, const char *name, const char *json)
{
    if (name && *name) {
        sl_buf_put(b, "event: ", 7);
        for (const char *p = name; *p; p++) {
            if (*p != '\r' && *p != '\n')
                sl_buf_put_u8(b, (uint8_t)*p);
        }
        sl_buf_put_u8(b, '\n');
    }
    json = json ? json : "";
    size_t len = strlen(json);
    while (len > 0 && (json[len - 1] == '\r' || json[len - 1] == '\n'))
        len--;
    for (size_t at = 0;;) {
        size_t n = at;
        while (n < len && json[n] != '\r' && json[n] != '\n')
            n++;
        sl_buf_put(b, "data: ", 6);
        sl_buf_put(b, json + at, n - at);
        sl_buf_put_u8(b, '\n');
        if (n >= len)
            break;
        at = n + (json[n] == '\r' && json[n + 1] == '\n' ? 2 : 1);
    }
    sl_buf_put_u8(b, '\n');
}

/* Appends the bytes to every stream that may see them and resumes those waiting. */
static void deliver(sl_http *h, const void *ev, size_t n, const sl_http_audience *to)
{
    sl__sse *sse = &h->sse;
    sl__stream *resume = NULL;
    uint64_t dropped = 0;

    pthread_mutex_lock(&sse->mu);
    if (!sse->closing) {
        for (sl__stream *s = sse->head; s; s = s->next) {
            if (visible(s, to))
                dropped += (uint64_t)enqueue(s, ev, n, &resume);
        }
    }
    sse->dropped += dropped;
    pthread_mutex_unlock(&sse->mu);
    resume_all(resume);
    if (dropped)
        sl_http_count(h, "slaledger_http_sse_dropped_total",
                      "Event streams dropped because the client did not keep up.", "", dropped);
}

void sl_http_broadcast(sl_http *h, const char *name, const char *json, const sl_http_audience *to)
{
    sl_buf ev;

    if (!h)
        return;
    sl_buf_init(&ev);
    event_format(&ev, name, json);
    if (!ev.err)
        deliver(h, ev.p, ev.len, to);
    sl_buf_release(&ev);
}

/* Sends a comment to every stream at each interval, so proxies keep idle streams open and dead
 * clients are noticed by a failing write. */
static void *heartbeat_main(void *arg)
{
    sl_http *h = arg;
    sl__sse *sse = &h->sse;
    struct timespec at;

    pthread_mutex_lock(&sse->mu);
    while (!sse->closing) {
        at = sl_deadline_after(sl__http_heartbeat_ms ? sl__http_heartbeat_ms : 15000);
        while (!sse->closing && pthread_cond_timedwait(&sse->wake, &sse->mu, &at) != ETIMEDOUT)
            ;
        if (sse->closing)
            break;
        pthread_mutex_unlock(&sse->mu);
        deliver(h, HEARTBEAT, strlen(HEARTBEAT), NULL);
        pthread_mutex_lock(&sse->mu);
    }
    pthread_mutex_unlock(&sse->mu);
    return NULL;
}

int sl__sse_start(sl_http *h)
{
    sl__sse *sse = &h->sse;

    pthread_mutex_lock(&sse->mu);
    sse->closing = 0;
    pthread_mutex_unlock(&sse->mu);
    if (pthread_create(&sse->thread, NULL, heartbeat_main, h) != 0)
        return SL_ENOMEM;
    sse->thread_started = 1;
    return 0;
}

void sl__sse_stop(sl_http *h)
{
    sl__sse *sse = &h->sse;
    sl__stream *resume = NULL;
    struct timespec until;

    pthread_mutex_lock(&sse->mu);
    sse->closing = 1;
    for (sl__stream *s = sse->head; s; s = s->next)
        wake(s, &resume);
    pthread_cond_broadcast(&sse->wake);
    pthread_mutex_unlock(&sse->mu);
    resume_all(resume);
    if (sse->thread_started)
        pthread_join(sse->thread, NULL);
    sse->thread_started = 0;
    /* Streams now send what they hold and end; MHD frees each once its last chunk is out. A
     * client that reads nothing is left to MHD_stop_daemon. */
    until = sl_deadline_after(DRAIN_MS);
    pthread_mutex_lock(&sse->mu);
    while (sse->n > 0 && pthread_cond_timedwait(&sse->drained, &sse->mu, &until) != ETIMEDOUT)
        ;
    pthread_mutex_unlock(&sse->mu);
}
