/*
 * slaledger/error.h: error codes and the error detail struct shared by every layer.
 *
 * Every fallible function returns 0 on success or a negative SL_E* code. Detail for humans goes
 * into an sl_error the caller owns (fixed size, never allocated), or into an sl_diags list where
 * a parser reports many problems at once. Thread-safety: none needed; all state is the caller's.
 */
#ifndef SLALEDGER_ERROR_H
#define SLALEDGER_ERROR_H

#include <stddef.h>

enum {
    SL_OK = 0,
    SL_EINVAL = -1,    /* input is malformed or violates a rule */
    SL_ENOMEM = -2,    /* allocation failed; nothing changed */
    SL_ENOENT = -3,    /* named agreement, account, objective or oracle does not exist */
    SL_EEXIST = -4,    /* already exists */
    SL_EPERM = -5,     /* the actor is not allowed to do this */
    SL_ESTATE = -6,    /* wrong lifecycle state (e.g. report for a proposed agreement) */
    SL_EOVERFLOW = -7, /* an amount or count would overflow */
    SL_EFUNDS = -8,    /* insufficient balance */
    SL_EDUP = -9,      /* duplicate: interval already decided or already reported by this oracle */
    SL_ETIME = -10,    /* time out of range: not yet closed, too late, or backwards */
    SL_EIO = -11,      /* an operating-system I/O call failed */
    SL_EPARSE = -12,   /* syntax error in a document */
    SL_EAUTH = -13,    /* signature, certificate or role check failed */
    SL_ECORRUPT = -14, /* stored data fails verification (hash, chain, signature, replay) */
    SL_EBUSY = -15,    /* a queue or resource is full or locked; try again later */
};

/** Returns a static, human-readable name for an SL_E* code ("invalid input", ...). */
const char *sl_strerror(int code);

/** Returns the code's stable token for machines ("EINVAL", "EAUTH", ...; "EUNKNOWN"). */
const char *sl_error_token(int code);

/** The code of a token sl_error_token returns ("EAUTH" -> SL_EAUTH); SL_EIO for any other
 * string or NULL (an answer that cannot be understood is an I/O failure). */
int sl_error_from_token(const char *token);

/** Detail of one error. line/column are 1-based and 0 when not applicable. */
typedef struct sl_error {
    int code;
    int line;
    int column;
    char field[96]; /* dotted path of the offending field, e.g. "spec.objectives[1].target" */
    char msg[224];  /* full sentence: what was expected and what was found */
} sl_error;

/**
 * Fills err (which may be NULL) and returns code, so callers can write
 * `return sl_error_set(err, SL_EINVAL, "spec.fee", "amount %s overflows", s);`.
 * field may be NULL. Text longer than the fields is truncated. The printf-style functions of
 * the deterministic layers are built without floating-point registers: never pass a double.
 */
int sl_error_set(sl_error *err, int code, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/** A growable list of errors, for parsers that report every problem in one pass. */
typedef struct sl_diags {
    sl_error *v;
    size_t n;
    size_t cap;
    size_t dropped; /* errors not stored because of SL_DIAGS_MAX or allocation failure */
} sl_diags;

#define SL_DIAGS_MAX 100

/** Appends an error (position given) to d; never fails (counts a drop instead). */
void sl_diags_add(sl_diags *d, int code, int line, int column, const char *field, const char *fmt,
                  ...) __attribute__((format(printf, 6, 7)));

/** Frees the list's storage and zeroes it. Accepts NULL. */
void sl_diags_release(sl_diags *d);

#endif
