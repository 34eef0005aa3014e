/*
 * log.h: the node's logger. One line per event on a stream (stderr for the node), either text
 * ("2026-11-23T12:00:00.123Z info node: node started channels=a,b listen=127.0.0.1:8640") or
 * one JSON object per line ({"time":..,"level":..,"msg":..,<fields>}), for the events at or
 * above the configured level (spec.log in docs/node-config.md).
 *
 * Values are written escaped (text: quoted when they hold spaces, quotes, '=' or control
 * characters; JSON: a valid string, bytes that are not UTF-8 as U+FFFD) and cut at
 * SL__LOG_VALUE_MAX bytes, so whatever a caller sends cannot break a line or forge another.
 * Callers never pass secrets: a request line names the caller's user, never the token.
 *
 * Ownership: the caller owns an sl__log (sl__log_init / sl__log_release); out is borrowed.
 * Thread-safety: after init every function may be called from any thread; each line is
 * formatted on the caller's stack or heap and written whole under the logger's mutex.
 */
#ifndef SL_NODE_LOG_H
#define SL_NODE_LOG_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "slaledger/sla.h"

#define SL__LOG_VALUE_MAX 512 /* bytes of one value kept; the rest is replaced by "..." */

typedef struct sl__log {
    pthread_mutex_t mu; /* one line at a time on out */
    FILE *out;
    sl_node_log_format format;
    sl_node_log_level level; /* the least severe level written */
    char component[32];      /* "node": after the level in text lines */
} sl__log;

/** The kinds of value a field holds. */
typedef enum sl__log_kind {
    SL__LOG_STR, /* s: a string (NULL writes as "") */
    SL__LOG_INT, /* i: a signed integer */
    SL__LOG_MS,  /* i: nanoseconds, written as milliseconds with three decimals */
} sl__log_kind;

/** One key=value of an event. Keys are short ASCII identifiers chosen by the code. */
typedef struct sl__log_field {
    const char *key;
    sl__log_kind kind;
    const char *s;
    int64_t i;
} sl__log_field;

#define SL__LOG_S(k, v)  ((sl__log_field){(k), SL__LOG_STR, (v), 0})
#define SL__LOG_I(k, v)  ((sl__log_field){(k), SL__LOG_INT, NULL, (int64_t)(v)})
#define SL__LOG_MS(k, v) ((sl__log_field){(k), SL__LOG_MS, NULL, (int64_t)(v)})

/**
 * Sets up l to write lines of format at level and above to out (borrowed; stderr for the
 * node), each naming component (cut at 31 bytes). Returns 0, or SL_ENOMEM when the mutex
 * cannot be made. Release with sl__log_release.
 */
int sl__log_init(sl__log *l, FILE *out, sl_node_log_format format, sl_node_log_level level,
                 const char *component);

/** Destroys l's mutex. Accepts NULL. */
void sl__log_release(sl__log *l);

/** 1 when an event at level would be written. l NULL: the default logger (text, info,
 * stderr). Lock-free, so callers can skip building fields for a silent level. */
int sl__log_enabled(const sl__log *l, sl_node_log_level level);

/**
 * Writes one event: msg and the n fields, in order, when level is enabled. l NULL: the
 * default logger. A line that cannot be built (out of memory) is dropped.
 */
void sl__log_write(sl__log *l, sl_node_log_level level, const char *msg,
                   const sl__log_field *fields, size_t n);

/** The level's name: "debug", "info", "warn", "error". */
const char *sl__log_level_name(sl_node_log_level level);

#endif
