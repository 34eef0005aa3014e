/*
 * log.c: the node's logger (log.h). A line is built in a heap buffer on the calling thread (time,
 * level, message, fields, escaped as log.h says), then written with one fwrite and a flush
 * under the logger's mutex, so lines from concurrent threads never interleave. Levels and
 * formats are fixed at init, so sl__log_enabled reads them without the lock.
 *
 * The default logger (l == NULL) writes text at info to stderr; it serves code that runs
 * without a node's logger, such as unit tests that build parts of a node by hand.
 */
#include <string.h>
#include <time.h>

#include "node/log.h"
#include "slaledger/error.h"
#include "slaledger/util.h"

static sl__log default_log = {PTHREAD_MUTEX_INITIALIZER, NULL, SL_NODE_LOG_TEXT, SL_NODE_LOG_INFO,
                              "node"};

int sl__log_init(sl__log *l, FILE *out, sl_node_log_format format, sl_node_log_level level,
                 const char *component)
{
    memset(l, 0, sizeof(*l));
    l->out = out;
    l->format = format;
    l->level = level;
    sl_strfmt(l->component, sizeof(l->component), "%s", component ? component : "node");
    return pthread_mutex_init(&l->mu, NULL) == 0 ? 0 : SL_ENOMEM;
}

void sl__log_release(sl__log *l)
{
    if (!l)
        return;
    pthread_mutex_destroy(&l->mu);
}

const char *sl__log_level_name(sl_node_log_level level)
{
    switch (level) {
    case SL_NODE_LOG_DEBUG:
        return "debug";
    case SL_NODE_LOG_INFO:
        return "info";
    case SL_NODE_LOG_WARN:
        return "warn";
    default:
        return "error";
    }
}

int sl__log_enabled(const sl__log *l, sl_node_log_level level)
{
    return level >= (l ? l : &default_log)->level;
}

/* ---- escaping ---- */

/* The length of the valid UTF-8 sequence at p (n bytes available): 1..4, or 0 when the bytes
 * are not UTF-8 (overlong forms, surrogates and code points past U+10FFFF included). */
static size_t utf8_len(const unsigned char *p, size_t n)
{
    size_t len = 0;

    if (p[0] < 0x80)
        len = 1;
    else if (p[0] >= 0xc2 && p[0] <= 0xdf)
        len = 2;
    else if ((p[0] & 0xf0) == 0xe0)
        len = 3;
    else if (p[0] >= 0xf0 && p[0] <= 0xf4)
        len = 4;
    if (len == 0 || len > n)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return 0;
    }
    /* The second byte bounds what the first allows: no overlong, surrogate or too-high form. */
    if ((p[0] == 0xe0 && p[1] < 0xa0) || (p[0] == 0xed && p[1] > 0x9f) ||
        (p[0] == 0xf0 && p[1] < 0x90) || (p[0] == 0xf4 && p[1] > 0x8f))
        return 0;
    return len;
}

/* Appends one byte escaped: for JSON as \u and four hex digits (bytes that are not UTF-8 as
 * U+FFFD), for text as \xNN; quotes and backslashes get a backslash in both. */
static void put_byte(sl_buf *b, unsigned char c, int invalid, int json)
{
    if (invalid && json) {
        sl_buf_put(b, "\\ufffd", 6);
    } else if (invalid) {
        sl_buf_printf(b, "\\x%02x", (unsigned)c);
    } else if (c == '"' || c == '\\') {
        sl_buf_put(b, "\\", 1);
        sl_buf_put(b, &c, 1);
    } else if (c == '\n') {
        sl_buf_put(b, "\\n", 2);
    } else if (c == '\t') {
        sl_buf_put(b, "\\t", 2);
    } else if (c < 0x20 || c == 0x7f) {
        sl_buf_printf(b, json ? "\\u%04x" : "\\x%02x", (unsigned)c);
    } else {
        sl_buf_put(b, &c, 1);
    }
}

/* Appends s escaped (without quotes), cut at SL__LOG_VALUE_MAX bytes with "..." after. */
static void put_escaped(sl_buf *b, const char *s, int json)
{
    const unsigned char *p = (const unsigned char *)(s ? s : "");
    size_t n = strlen((const char *)p), cut = n > SL__LOG_VALUE_MAX ? SL__LOG_VALUE_MAX : n;

    for (size_t i = 0; i < cut;) {
        size_t k = utf8_len(p + i, cut - i);
        if (k > 1) {
            sl_buf_put(b, p + i, k);
            i += k;
        } else {
            put_byte(b, p[i], k == 0, json);
            i++;
        }
    }
    if (cut < n)
        sl_buf_put(b, "...", 3);
}

/* 1 when a text value must be quoted: empty, or holding anything but printable ASCII other
 * than '"', '=' and '\\'. */
static int text_needs_quotes(const char *s)
{
    if (!s || !*s)
        return 1;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p <= 0x20 || *p >= 0x7f || *p == '"' || *p == '=' || *p == '\\')
            return 1;
    }
    return 0;
}

/* ---- lines ---- */

/* Appends the wall-clock time as "2026-11-23T12:00:00.123Z". */
static void put_time(sl_buf *b)
{
    struct timespec ts;
    struct tm tm;
    char t[32];

    clock_gettime(CLOCK_REALTIME, &ts);
    if (!gmtime_r(&ts.tv_sec, &tm) || strftime(t, sizeof(t), "%Y-%m-%dT%H:%M:%S", &tm) == 0)
        sl_strfmt(t, sizeof(t), "%s", "1970-01-01T00:00:00");
    sl_buf_printf(b, "%s.%03ldZ", t, (long)(ts.tv_nsec / 1000000));
}

/* Appends a field's value: a string (quoted for JSON, or for text when needed) or a number. */
static void put_value(sl_buf *b, const sl__log_field *f, int json)
{
    if (f->kind == SL__LOG_INT) {
        sl_buf_printf(b, "%lld", (long long)f->i);
    } else if (f->kind == SL__LOG_MS) {
        long long us = f->i > 0 ? (long long)(f->i / 1000) : 0;
        sl_buf_printf(b, "%lld.%03lld", us / 1000, us % 1000);
    } else if (json || text_needs_quotes(f->s)) {
        sl_buf_put(b, "\"", 1);
        put_escaped(b, f->s, json);
        sl_buf_put(b, "\"", 1);
    } else {
        put_escaped(b, f->s, 0);
    }
}

static void line_text(sl_buf *b, const sl__log *l, sl_node_log_level level, const char *msg,
                      const sl__log_field *fields, size_t n)
{
    put_time(b);
    sl_buf_printf(b, " %s %s: ", sl__log_level_name(level), l->component);
    put_escaped(b, msg, 0);
    for (size_t i = 0; i < n; i++) {
        sl_buf_printf(b, " %s=", fields[i].key);
        put_value(b, &fields[i], 0);
    }
}

static void line_json(sl_buf *b, sl_node_log_level level, const char *msg,
                      const sl__log_field *fields, size_t n)
{
    sl_buf_put(b, "{\"time\":\"", 9);
    put_time(b);
    sl_buf_printf(b, "\",\"level\":\"%s\",\"msg\":\"", sl__log_level_name(level));
    put_escaped(b, msg, 1);
    sl_buf_put(b, "\"", 1);
    for (size_t i = 0; i < n; i++) {
        sl_buf_put(b, ",\"", 2);
        put_escaped(b, fields[i].key, 1);
        sl_buf_put(b, "\":", 2);
        put_value(b, &fields[i], 1);
    }
    sl_buf_put(b, "}", 1);
}

void sl__log_write(sl__log *l, sl_node_log_level level, const char *msg,
                   const sl__log_field *fields, size_t n)
{
    sl_buf b;

    if (!l)
        l = &default_log;
    if (level < l->level)
        return;
    sl_buf_init(&b);
    if (l->format == SL_NODE_LOG_JSON)
        line_json(&b, level, msg, fields, n);
    else
        line_text(&b, l, level, msg, fields, n);
    sl_buf_put(&b, "\n", 1);
    if (!b.err) {
        FILE *out = l->out ? l->out : stderr;
        pthread_mutex_lock(&l->mu);
        fwrite(b.p, 1, b.len, out);
        fflush(out);
        pthread_mutex_unlock(&l->mu);
    }
    sl_buf_release(&b);
}
