/*
 * slaledger/util.h: integer time, money, ratio and buffer helpers used by every layer.
 *
 * Everything here is deterministic integer arithmetic: no floating point, no wall clock, no
 * locale. Time is milliseconds since the Unix epoch (UTC, no leap seconds), ratios are parts per
 * million (ppm, 1000000 = 100 %), money is int64 minor units. Parsers take borrowed text plus a
 * length (no NUL needed) and fail with SL_EINVAL or SL_EOVERFLOW, leaving *out untouched.
 * Thread-safety: all functions are reentrant.
 */
#ifndef SLALEDGER_UTIL_H
#define SLALEDGER_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include "slaledger/error.h"

#define SL_MS_PER_SECOND 1000LL
#define SL_MS_PER_MINUTE (60LL * SL_MS_PER_SECOND)
#define SL_MS_PER_HOUR   (60LL * SL_MS_PER_MINUTE)
#define SL_MS_PER_DAY    (24LL * SL_MS_PER_HOUR)
#define SL_PPM_ONE       1000000LL

/* ---- calendar (proleptic Gregorian, UTC) ---- */

/** Days since 1970-01-01 of the civil date y-m-d (m 1..12, d 1..31); negative before 1970. */
int64_t sl_days_from_civil(int64_t y, unsigned m, unsigned d);

/** Inverse of sl_days_from_civil. */
void sl_civil_from_days(int64_t days, int64_t *y, unsigned *m, unsigned *d);

/** Months since 1970-01 of the month containing ms (floor; negative before 1970). */
int64_t sl_month_index(int64_t ms);

/** Start, in ms, of month number idx as counted by sl_month_index. */
int64_t sl_month_start(int64_t idx);

/**
 * Parses an RFC 3339 timestamp: "2026-12-01T00:00:00Z", optional fraction of a second (at most
 * milliseconds are representable: a fourth non-zero fractional digit is an error),
 * "Z" or a numeric offset "+01:00". 't' and 'z' are accepted in lower case. Years 1970..9999.
 */
int sl_time_parse(const char *s, size_t len, int64_t *out_ms);

/** Writes "YYYY-MM-DDTHH:MM:SSZ" (".mmm" before Z when ms % 1000 != 0). Returns the length or
 * SL_EINVAL if cap is too small (needs at most 25 bytes with the NUL). */
int sl_time_format(int64_t ms, char *buf, size_t cap);

/** The last millisecond sl_time_format can write, 9999-12-31T23:59:59.999Z. */
#define SL_TIME_MAX_MS 253402300799999LL

/**
 * A clock that runs `speed` times faster than the wall from wall time `since_ms` on (a node's
 * spec.clock, the stand-ins' --speed/--since): since + (wall - since) x speed once wall is
 * past since, wall before; never beyond SL_TIME_MAX_MS. Pure: the caller reads the wall.
 */
int64_t sl_clock_fast(int64_t wall_ms, int64_t since_ms, uint32_t speed);

/**
 * Parses a positive duration made of integer parts with units ms, s, m, h, d, w, largest first,
 * each unit at most once: "60s", "1h30m", "500ms", "1d", "2w". Zero or negative is an error.
 */
int sl_duration_parse(const char *s, size_t len, int64_t *out_ms);

/** Writes the shortest form ("1h30m", "500ms", "0s" for 0). Returns length or SL_EINVAL. */
int sl_duration_format(int64_t ms, char *buf, size_t cap);

/* ---- decimals, money and ratios ---- */

/**
 * Parses an exact decimal "1234.56", optional leading '-', at most `scale` fractional digits,
 * into value * 10^scale ("1000.00", scale 2 -> 100000). No exponent, no spaces, no '+'.
 * More fractional digits than scale: SL_EINVAL. Out of int64 range: SL_EOVERFLOW.
 */
int sl_decimal_parse(const char *s, size_t len, unsigned scale, int64_t *out);

/** Writes v / 10^scale with exactly `scale` fractional digits ("1000.00"). Returns length. */
int sl_decimal_format(int64_t v, unsigned scale, char *buf, size_t cap);

/** Parses a percentage "99.95%" (the '%' is required; at most 4 decimals) into ppm. Values may
 * exceed 100 % (callers check ranges); negative values are an error. */
int sl_percent_parse(const char *s, size_t len, int64_t *out_ppm);

/** Writes ppm as a percentage with trailing zeros trimmed: 999500 -> "99.95%". */
int sl_ppm_format(int64_t ppm, char *buf, size_t cap);

/** floor(a * b / c) for a, b >= 0, c > 0 without intermediate overflow; SL_EOVERFLOW if the
 * result does not fit int64, SL_EINVAL for negative inputs or c <= 0. */
int sl_muldiv(int64_t a, int64_t b, int64_t c, int64_t *out);

/** Checked int64 addition / subtraction: SL_EOVERFLOW instead of wrapping. */
int sl_add(int64_t a, int64_t b, int64_t *out);
int sl_sub(int64_t a, int64_t b, int64_t *out);

/** floor division and modulo for c > 0 (correct for negative a). */
int64_t sl_floordiv(int64_t a, int64_t c);
int64_t sl_floormod(int64_t a, int64_t c);

/* ---- growable byte buffer with a sticky error ---- */

/**
 * A byte buffer the caller owns (sl_buf_init / sl_buf_release). Appends never fail loudly: the
 * first allocation failure sets err = SL_ENOMEM and later appends are ignored, so a writer can
 * append freely and check err once at the end.
 */
typedef struct sl_buf {
    uint8_t *p;
    size_t len;
    size_t cap;
    int err;
} sl_buf;

void sl_buf_init(sl_buf *b);
void sl_buf_release(sl_buf *b); /* frees p; accepts NULL */
void sl_buf_reset(sl_buf *b);   /* len = 0, err = 0; keeps the storage */
int sl_buf_reserve(sl_buf *b, size_t extra);
void sl_buf_put(sl_buf *b, const void *data, size_t n);
void sl_buf_put_u8(sl_buf *b, uint8_t v);
void sl_buf_put_u32(sl_buf *b, uint32_t v);    /* big-endian */
void sl_buf_put_u64(sl_buf *b, uint64_t v);    /* big-endian */
void sl_buf_put_i64(sl_buf *b, int64_t v);     /* two's complement, big-endian */
void sl_buf_put_str(sl_buf *b, const char *s); /* u32 length then bytes; NULL as length 0 */
/* Integer and string conversions only: built without floating-point registers. */
void sl_buf_printf(sl_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/** Ensures a NUL after the content (not counted in len) and returns it as a string, or NULL
 * when err is set. */
const char *sl_buf_cstr(sl_buf *b);

/* ---- bounds-checked reader of the encodings sl_buf writes ---- */

/**
 * Reads big-endian integers and length-prefixed fields from borrowed bytes. The first short
 * read or bad field sets err (SL_EINVAL) and every later read returns zero / NULL, so a decoder
 * reads freely and checks once (sl_rd_end). Never reads outside [p, p + len).
 */
typedef struct sl_rd {
    const uint8_t *p;
    size_t len;
    size_t at;
    int err;
} sl_rd;

void sl_rd_init(sl_rd *r, const void *p, size_t len);
uint8_t sl_rd_u8(sl_rd *r);
uint32_t sl_rd_u32(sl_rd *r);
uint64_t sl_rd_u64(sl_rd *r);
int64_t sl_rd_i64(sl_rd *r);
/** n raw bytes, borrowed from the input; NULL on a short read. */
const uint8_t *sl_rd_bytes(sl_rd *r, size_t n);
/** A u32 length (at most max) then that many bytes, borrowed; *n receives the length. */
const uint8_t *sl_rd_blob(sl_rd *r, size_t max, size_t *n);
/** A field written by sl_buf_put_str, copied NUL-terminated into out[cap]; fails on an
 * embedded NUL or when it does not fit. */
void sl_rd_str(sl_rd *r, char *out, size_t cap);
/** 0 when every read succeeded and the input is used up exactly, else SL_EINVAL. */
int sl_rd_end(const sl_rd *r);

/* ---- strings and hashing ---- */

/** True when s[0..len) is a valid identity or object name: [a-z0-9] then [a-z0-9._-], at most
 * 63 bytes (SL_NAME_MAX in sla.h). */
int sl_name_valid(const char *s, size_t len);

/**
 * Grows the heap array *items (a pointer to the array pointer, e.g. &v->items) so it holds at
 * least `need` elements of `elem` bytes, doubling the capacity *cap (from 8). Returns 0, or
 * SL_ENOMEM with the array and *cap untouched.
 */
int sl_reserve(void *items, size_t *cap, size_t need, size_t elem);

/** snprintf for messages: always NUL-terminates and truncates silently (cap > 0). */
void sl_strfmt(char *out, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/** strdup that returns NULL for NULL. The result is the caller's to free(). */
char *sl_strdup(const char *s);
/** Copies n bytes into a fresh NUL-terminated string (caller frees). */
char *sl_strndup(const char *s, size_t n);

#define SL_HASH_LEN 32
/** SHA-256 of data (libsodium). */
void sl_sha256(const void *data, size_t len, uint8_t out[SL_HASH_LEN]);
/** Writes 2*n lowercase hex digits and a NUL into out (size >= 2*n+1). */
void sl_hex(const uint8_t *data, size_t n, char *out);
/** Decodes exactly 2*n hex digits (either case) from s[0..len) into out[n]: 0 or SL_EINVAL
 * (wrong length or a non-hex character; out untouched). */
int sl_unhex(const char *s, size_t len, uint8_t *out, size_t n);

#endif
