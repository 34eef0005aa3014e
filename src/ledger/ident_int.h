/*
 * ident_int.h: private helpers shared by key.c, cert.c and tx.c (identities and transactions).
 *
 * It holds the Ed25519 key struct, the once-only libsodium initialization, the fixed-size
 * certificate encoder, and sl__dec: a thin layer over sl_rd that records the first failure as an
 * sl_error naming the field ("channel", "cert.org", "items[3].start_ms") and why. Decoders read
 * freely and check d->rc once, as with sl_rd; unlike sl_rd, the error says which field broke.
 * Field names of items are composed only when an error happens, so the hot path of a 100-item
 * report does no formatting. Thread-safety: everything here works on the caller's structs.
 */
#ifndef SL_LEDGER_IDENT_INT_H
#define SL_LEDGER_IDENT_INT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <sodium.h>

#include "slaledger/error.h"
#include "slaledger/ident.h"
#include "slaledger/tx.h"
#include "slaledger/util.h"

/* Longest name: SL_IDENT_NAME_CAP less the NUL (SL_NAME_MAX in sla.h). */
#define SL__NAME_MAX (SL_IDENT_NAME_CAP - 1)

/* An Ed25519 key pair in sodium_malloc'd memory, read-only between creation and sl_key_free. */
struct sl_key {
    uint8_t sk[crypto_sign_SECRETKEYBYTES]; /* seed || public key, libsodium's layout */
    uint8_t pk[crypto_sign_PUBLICKEYBYTES];
};

/** Runs sodium_init() once per process (pthread_once): 0, or SL_ENOMEM when it failed. */
int sl__sodium_ready(void);

/**
 * Writes c's canonical encoding (sl_cert_encode) into out, which holds SL_CERT_MAX bytes, and
 * returns its length. Names longer than their field are cut at SL_IDENT_NAME_CAP bytes, so a
 * malformed struct cannot overrun out; sl__cert_check refuses such certificates beforehand.
 */
size_t sl__cert_encode_fixed(const sl_cert *c, int with_sig, uint8_t out[SL_CERT_MAX]);

/** Checks a certificate's fields (names unless names is 0, exactly one role, not_before <
 * not_after). Fields are named "cert.subject" and so on. 0 or SL_EINVAL. Decoders pass names 0:
 * sl__dec_name has checked every name as it read it. */
int sl__cert_check(const sl_cert *c, int names, sl_error *err);

/**
 * Sets *err (when not NULL) to SL_EINVAL for field, composing "items[<item>].<field>" when
 * item >= 0, and returns SL_EINVAL.
 */
int sl__fail(sl_error *err, long item, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/** Copies at most cap-1 bytes of p[0..n) into out as printable ASCII ('?' for anything else),
 * for quoting untrusted names in error messages. */
void sl__printable(const uint8_t *p, size_t n, char *out, size_t cap);

/** 0 when s[0..n) is a valid name (sl_name_valid), else the SL_EINVAL set by sl__fail for
 * field, saying what is wrong. */
int sl__check_name_n(const char *s, size_t n, long item, const char *field, sl_error *err);

/** sl__check_name_n for a string of at most SL_IDENT_NAME_CAP bytes with its NUL (a field of a
 * caller's struct: one without a NUL in its bytes is refused, never read beyond). */
int sl__check_name(const char *s, long item, const char *field, sl_error *err);

/* ---- decoding with named errors ---- */

typedef struct sl__dec {
    sl_rd r;
    sl_error *err;
    int rc;    /* first failure, sticky; 0 while all is well */
    long item; /* index of the item being read, or -1 */
} sl__dec;

static inline void sl__dec_init(sl__dec *d, const void *p, size_t len, sl_error *err)
{
    sl_rd_init(&d->r, p, len);
    d->err = err;
    d->rc = 0;
    d->item = -1;
}

/** Records a short read of n bytes for field. */
void sl__dec_short(sl__dec *d, size_t n, const char *field);

/** Records that the input goes on after its last field (what says which input it is). */
void sl__dec_trailing(sl__dec *d, const char *what);

static inline size_t sl__dec_left(const sl__dec *d)
{
    return d->r.len - d->r.at;
}

/* 1 when n more bytes can be read for field; otherwise records the failure (once) and 0. */
static inline int sl__dec_avail(sl__dec *d, size_t n, const char *field)
{
    if (d->rc)
        return 0;
    if (n > sl__dec_left(d)) {
        sl__dec_short(d, n, field);
        return 0;
    }
    return 1;
}

static inline const uint8_t *sl__dec_bytes(sl__dec *d, size_t n, const char *field)
{
    return sl__dec_avail(d, n, field) ? sl_rd_bytes(&d->r, n) : NULL;
}

/* The big-endian unsigned integer of n <= 8 bytes at p. Inline, since a 100-item report reads
 * some 500 integers and decoding must take microseconds. */
static inline uint64_t sl__be(const uint8_t *p, size_t n)
{
    uint64_t v = 0;

    for (size_t i = 0; i < n; i++)
        v = v << 8 | p[i];
    return v;
}

static inline uint8_t sl__dec_u8(sl__dec *d, const char *field)
{
    const uint8_t *p = sl__dec_bytes(d, 1, field);
    return p ? p[0] : 0;
}

static inline uint32_t sl__dec_u32(sl__dec *d, const char *field)
{
    const uint8_t *p = sl__dec_bytes(d, 4, field);
    return p ? (uint32_t)sl__be(p, 4) : 0;
}

static inline uint64_t sl__dec_u64(sl__dec *d, const char *field)
{
    const uint8_t *p = sl__dec_bytes(d, 8, field);
    return p ? sl__be(p, 8) : 0;
}

static inline int64_t sl__dec_i64(sl__dec *d, const char *field)
{
    uint64_t u = sl__dec_u64(d, field);
    int64_t v;

    memcpy(&v, &u, sizeof(v)); /* two's complement, as sl_buf_put_i64 wrote it */
    return v;
}

/** Records a length field of len bytes beyond its limit max. */
void sl__dec_too_long(sl__dec *d, size_t len, size_t max, const char *field);

/** A u32 length of at most max (else a named error) and that many bytes, borrowed. */
static inline const uint8_t *sl__dec_blob(sl__dec *d, size_t max, size_t *n, const char *field)
{
    uint32_t len = sl__dec_u32(d, field);
    const uint8_t *p;

    *n = 0;
    if (d->rc)
        return NULL;
    if (len > max) {
        sl__dec_too_long(d, len, max, field);
        return NULL;
    }
    p = sl__dec_bytes(d, len, field);
    if (p)
        *n = len;
    return p;
}

/** A name field (u32 length + bytes), checked with sl_name_valid as it is read (so that a
 * decoder validates each name once), copied NUL-terminated into out. */
void sl__dec_name(sl__dec *d, char out[SL_IDENT_NAME_CAP], const char *field);

/** Reads a whole certificate (sl_cert_encode with signature) from d into *c, structure only. */
void sl__dec_cert(sl__dec *d, sl_cert *c);

/* ---- transactions ---- */

/**
 * Appends the part of t's encoding the signature covers (everything but the signature) to out.
 * t must have passed the checks of sl_tx_sign (sl__tx_check); returns out->err.
 */
int sl__tx_encode_unsigned(const sl_tx *t, sl_buf *out);

/** The checks sl_tx_sign and sl_tx_decode share: known type, valid names (unless names is 0:
 * the decoder checked them as it read them, see sl__dec_name), body fields of the type only,
 * within limits. 0 or SL_EINVAL with the field named. */
int sl__tx_check(const sl_tx *t, int names, sl_error *err);

/** 1 when p[0..n) is well-formed UTF-8 (no overlong forms, surrogates or code points above
 * U+10FFFF). */
int sl__utf8_valid(const uint8_t *p, size_t n);

#endif
