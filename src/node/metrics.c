/*
 * metrics.c: the HTTP server's Prometheus registry: counters, gauges and the request latency
 * histogram, written in the text exposition format 0.0.4.
 *
 * A metric is a family (name, help, type) plus a series per label string. Series are found
 * through an open-addressing hash of (family, labels), so recording a request costs one short
 * label format and two lookups under the registry mutex; the exposition sorts a snapshot of the
 * series by name and labels, and writes HELP and TYPE once per family. Histograms keep
 * per-bucket counts and the sum in integer nanoseconds; the output makes buckets cumulative.
 * The number of series is capped so that careless labels cannot exhaust memory.
 *
 * Ownership: the registry lives inside sl_http (sl__metrics_init / _release). Thread-safety:
 * every entry point takes the registry mutex.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/http_int.h"

#define MAX_SERIES 20000
#define N_BUCKETS  9 /* eight bounds and +Inf */

enum { KIND_COUNTER, KIND_GAUGE, KIND_HISTOGRAM };

static const char *const kind_names[] = {"counter", "gauge", "histogram"};

static const uint64_t bucket_ns[N_BUCKETS - 1] = {1000000ull,    5000000ull,   10000000ull,
                                                  50000000ull,   100000000ull, 500000000ull,
                                                  1000000000ull, 5000000000ull};
static const char *const bucket_le[N_BUCKETS] = {"0.001", "0.005", "0.01", "0.05", "0.1",
                                                 "0.5",   "1",     "5",    "+Inf"};

#define REQUESTS_NAME "slaledger_http_requests_total"
#define REQUESTS_HELP "HTTP requests answered, by route pattern, method and status."
#define LATENCY_NAME  "slaledger_http_request_seconds"
#define LATENCY_HELP  "Time from a request's headers to its response being queued, by route."

struct sl__family {
    char *name;
    char *help;
    int kind;
};

struct sl__series {
    const char *fname; /* the family's name (stable heap string), for sorting */
    size_t fam;
    char *labels;
    uint32_t hash;
    uint64_t count; /* counter value, or a histogram's observation count */
    int64_t gauge;
    uint64_t sum_ns;
    uint64_t buckets[N_BUCKETS]; /* not cumulative */
};

static uint32_t series_hash(size_t fam, const char *labels)
{
    uint32_t h = 2166136261u ^ (uint32_t)fam;
    for (const unsigned char *p = (const unsigned char *)labels; *p; p++)
        h = (h ^ *p) * 16777619u;
    return h;
}

static int name_valid(const char *s)
{
    if (!s || !*s || (*s >= '0' && *s <= '9'))
        return 0;
    return strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_:") ==
           strlen(s);
}

/* The family index of name, added with help and kind when new; -1 on a kind clash or ENOMEM. */
static long family_get(sl__metrics *m, const char *name, const char *help, int kind)
{
    sl__family f;

    for (size_t i = 0; i < m->n_fam; i++) {
        if (strcmp(m->fam[i].name, name) == 0)
            return m->fam[i].kind == kind ? (long)i : -1;
    }
    if (sl_reserve(&m->fam, &m->cap_fam, m->n_fam + 1, sizeof(f)) != 0)
        return -1;
    f.name = sl_strdup(name);
    f.help = sl_strdup(help ? help : "");
    f.kind = kind;
    if (!f.name || !f.help) {
        free(f.name);
        free(f.help);
        return -1;
    }
    m->fam[m->n_fam] = f;
    return (long)m->n_fam++;
}

/* Rebuilds the hash index with n slots (a power of two). */
static int slots_grow(sl__metrics *m, size_t n)
{
    uint32_t *slots = calloc(n, sizeof(*slots));
    if (!slots)
        return SL_ENOMEM;
    for (size_t i = 0; i < m->n_series; i++) {
        size_t at = m->series[i]->hash & (n - 1);
        while (slots[at])
            at = (at + 1) & (n - 1);
        slots[at] = (uint32_t)(i + 1);
    }
    free(m->slots);
    m->slots = slots;
    m->n_slots = n;
    return 0;
}

static sl__series *series_new(sl__metrics *m, size_t fam, const char *labels, uint32_t hash)
{
    sl__series *s;

    if (m->n_series >= MAX_SERIES ||
        sl_reserve(&m->series, &m->cap_series, m->n_series + 1, sizeof(s)) != 0)
        return NULL;
    if ((m->n_series + 1) * 2 > m->n_slots && slots_grow(m, m->n_slots ? m->n_slots * 2 : 64) != 0)
        return NULL;
    s = calloc(1, sizeof(*s));
    if (!s || !(s->labels = sl_strdup(labels))) {
        free(s);
        return NULL;
    }
    s->fam = fam;
    s->fname = m->fam[fam].name;
    s->hash = hash;
    m->series[m->n_series++] = s;
    size_t at = hash & (m->n_slots - 1);
    while (m->slots[at])
        at = (at + 1) & (m->n_slots - 1);
    m->slots[at] = (uint32_t)m->n_series;
    return s;
}

/* The series of family fam with labels, created on first use; NULL when full or ENOMEM. */
static sl__series *series_get(sl__metrics *m, size_t fam, const char *labels)
{
    uint32_t hash = series_hash(fam, labels);

    if (m->n_slots) {
        for (size_t at = hash & (m->n_slots - 1); m->slots[at]; at = (at + 1) & (m->n_slots - 1)) {
            sl__series *s = m->series[m->slots[at] - 1];
            if (s->hash == hash && s->fam == fam && strcmp(s->labels, labels) == 0)
                return s;
        }
    }
    return series_new(m, fam, labels, hash);
}

/* Finds the series of name/labels for kind, or NULL (bad name or labels, clash, full). */
static sl__series *lookup(sl__metrics *m, const char *name, const char *help, const char *labels,
                          int kind)
{
    long fam = family_get(m, name, help, kind);
    return fam < 0 ? NULL : series_get(m, (size_t)fam, labels);
}

int sl__metrics_init(sl__metrics *m)
{
    memset(m, 0, sizeof(*m));
    if (pthread_mutex_init(&m->mu, NULL) != 0)
        return SL_ENOMEM;
    /* The built-in families exist from the start so their help text is ours. */
    if (family_get(m, REQUESTS_NAME, REQUESTS_HELP, KIND_COUNTER) < 0 ||
        family_get(m, LATENCY_NAME, LATENCY_HELP, KIND_HISTOGRAM) < 0) {
        sl__metrics_release(m);
        return SL_ENOMEM;
    }
    return 0;
}

void sl__metrics_release(sl__metrics *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->n_series; i++) {
        free(m->series[i]->labels);
        free(m->series[i]);
    }
    for (size_t i = 0; i < m->n_fam; i++) {
        free(m->fam[i].name);
        free(m->fam[i].help);
    }
    free(m->series);
    free(m->slots);
    free(m->fam);
    pthread_mutex_destroy(&m->mu);
    memset(m, 0, sizeof(*m));
}

char *sl__metrics_label(const char *name, const char *value)
{
    sl_buf b;

    sl_buf_init(&b);
    sl_buf_printf(&b, "%s=\"", name);
    for (const char *p = value; *p; p++) {
        if (*p == '\\' || *p == '"')
            sl_buf_put_u8(&b, '\\');
        if (*p == '\n')
            sl_buf_put(&b, "\\n", 2);
        else
            sl_buf_put_u8(&b, (uint8_t)*p);
    }
    sl_buf_put_u8(&b, '"');
    if (!sl_buf_cstr(&b)) {
        sl_buf_release(&b);
        return NULL;
    }
    return (char *)b.p;
}

static size_t bucket_of(uint64_t ns)
{
    size_t i = 0;
    while (i < N_BUCKETS - 1 && ns > bucket_ns[i])
        i++;
    return i;
}

void sl__metrics_request(sl__metrics *m, const char *route_label, const char *method, int status,
                         uint64_t ns)
{
    char labels[512];
    sl__series *s;

    sl_strfmt(labels, sizeof(labels), "%s,method=\"%s\",status=\"%d\"", route_label, method,
              status);
    pthread_mutex_lock(&m->mu);
    /* Families 0 and 1 are the built-in ones (sl__metrics_init). */
    if ((s = series_get(m, 0, labels)))
        s->count++;
    if ((s = series_get(m, 1, route_label))) {
        s->count++;
        s->sum_ns += ns;
        s->buckets[bucket_of(ns)]++;
    }
    pthread_mutex_unlock(&m->mu);
}

/* Labels must stay on one line to keep the exposition parseable. */
static int labels_valid(const char *labels)
{
    return strchr(labels, '\n') == NULL && strlen(labels) < 1024;
}

/* Adds v to a counter, or sets it to v when set (totals kept elsewhere). */
static void counter(sl_http *h, const char *name, const char *help, const char *labels, uint64_t v,
                    int set)
{
    sl__series *s;

    labels = labels ? labels : "";
    if (!h || !name_valid(name) || !labels_valid(labels))
        return;
    pthread_mutex_lock(&h->metrics.mu);
    if ((s = lookup(&h->metrics, name, help, labels, KIND_COUNTER)))
        s->count = set ? v : s->count + v;
    pthread_mutex_unlock(&h->metrics.mu);
}

void sl_http_count(sl_http *h, const char *name, const char *help, const char *labels, uint64_t v)
{
    counter(h, name, help, labels, v, 0);
}

void sl_http_count_set(sl_http *h, const char *name, const char *help, const char *labels,
                       uint64_t total)
{
    counter(h, name, help, labels, total, 1);
}

void sl_http_gauge(sl_http *h, const char *name, const char *help, const char *labels, int64_t v)
{
    sl__series *s;

    labels = labels ? labels : "";
    if (!h || !name_valid(name) || !labels_valid(labels))
        return;
    pthread_mutex_lock(&h->metrics.mu);
    if ((s = lookup(&h->metrics, name, help, labels, KIND_GAUGE)))
        s->gauge = v;
    pthread_mutex_unlock(&h->metrics.mu);
}

/* ---- exposition ---- */

static int series_cmp(const void *a, const void *b)
{
    const sl__series *x = *(const sl__series *const *)a, *y = *(const sl__series *const *)b;
    int c = strcmp(x->fname, y->fname);
    return c ? c : strcmp(x->labels, y->labels);
}

static void put_help(sl_buf *out, const sl__family *f)
{
    sl_buf_printf(out, "# HELP %s ", f->name);
    for (const char *p = f->help; *p; p++) {
        if (*p == '\\')
            sl_buf_put(out, "\\\\", 2);
        else if (*p == '\n')
            sl_buf_put(out, "\\n", 2);
        else
            sl_buf_put_u8(out, (uint8_t)*p);
    }
    sl_buf_printf(out, "\n# TYPE %s %s\n", f->name, kind_names[f->kind]);
}

/* name{labels}, or name alone when labels is empty. */
static void put_name(sl_buf *out, const char *name, const char *suffix, const char *labels)
{
    sl_buf_printf(out, labels[0] ? "%s%s{%s} " : "%s%s ", name, suffix, labels);
}

static void put_histogram(sl_buf *out, const char *name, const sl__series *s)
{
    uint64_t cum = 0;

    for (size_t i = 0; i < N_BUCKETS; i++) {
        cum += s->buckets[i];
        sl_buf_printf(out, "%s_bucket{%s%sle=\"%s\"} %" PRIu64 "\n", name, s->labels,
                      s->labels[0] ? "," : "", bucket_le[i], cum);
    }
    put_name(out, name, "_sum", s->labels);
    sl_buf_printf(out, "%" PRIu64 ".%09" PRIu64 "\n", s->sum_ns / 1000000000u,
                  s->sum_ns % 1000000000u);
    put_name(out, name, "_count", s->labels);
    sl_buf_printf(out, "%" PRIu64 "\n", s->count);
}

static void put_series(sl_buf *out, const sl__family *f, const sl__series *s)
{
    if (f->kind == KIND_HISTOGRAM) {
        put_histogram(out, f->name, s);
        return;
    }
    put_name(out, f->name, "", s->labels);
    if (f->kind == KIND_COUNTER)
        sl_buf_printf(out, "%" PRIu64 "\n", s->count);
    else
        sl_buf_printf(out, "%" PRId64 "\n", s->gauge);
}

void sl_http_metrics(sl_http *h, sl_buf *out)
{
    sl__metrics *m;
    sl__series **v = NULL;
    size_t last = SIZE_MAX;

    if (!h || !out)
        return;
    sl_http_gauge(h, "slaledger_http_sse_streams", "Open server-sent event streams.", "",
                  (int64_t)sl__sse_count(h));
    m = &h->metrics;
    pthread_mutex_lock(&m->mu);
    v = malloc((m->n_series ? m->n_series : 1) * sizeof(*v));
    if (!v) {
        out->err = out->err ? out->err : SL_ENOMEM;
        goto out;
    }
    memcpy(v, m->series, m->n_series * sizeof(*v));
    qsort(v, m->n_series, sizeof(*v), series_cmp);
    for (size_t i = 0; i < m->n_series; i++) {
        const sl__family *f = &m->fam[v[i]->fam];
        if (v[i]->fam != last)
            put_help(out, f);
        last = v[i]->fam;
        put_series(out, f, v[i]);
    }
out:
    pthread_mutex_unlock(&m->mu);
    free(v);
}
