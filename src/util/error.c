/*
 * error.c: names of the SL_E* codes and the two error carriers of error.h: the caller-owned
 * sl_error (fixed size, filled in place) and the growable sl_diags list used by parsers.
 *
 * Nothing here fails loudly: text longer than a field is truncated, and a diagnostic that cannot
 * be stored (SL_DIAGS_MAX reached, allocation failed) is counted in `dropped`. The format
 * functions are compiled without floating-point registers, so their variadic arguments must
 * never be double. Thread-safety: no shared state; each call touches only the caller's structs.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "slaledger/error.h"

const char *sl_strerror(int code)
{
    switch (code) {
    case SL_OK:
        return "success";
    case SL_EINVAL:
        return "invalid input";
    case SL_ENOMEM:
        return "out of memory";
    case SL_ENOENT:
        return "not found";
    case SL_EEXIST:
        return "already exists";
    case SL_EPERM:
        return "not permitted";
    case SL_ESTATE:
        return "wrong state";
    case SL_EOVERFLOW:
        return "value out of range";
    case SL_EFUNDS:
        return "insufficient funds";
    case SL_EDUP:
        return "duplicate";
    case SL_ETIME:
        return "time out of range";
    case SL_EIO:
        return "I/O error";
    case SL_EPARSE:
        return "syntax error";
    case SL_EAUTH:
        return "authentication failed";
    case SL_ECORRUPT:
        return "data corrupt";
    case SL_EBUSY:
        return "busy";
    default:
        return "unknown error";
    }
}

static const char *const tokens[] = {"OK",     "EINVAL",    "ENOMEM",   "ENOENT", "EEXIST", "EPERM",
                                     "ESTATE", "EOVERFLOW", "EFUNDS",   "EDUP",   "ETIME",  "EIO",
                                     "EPARSE", "EAUTH",     "ECORRUPT", "EBUSY"};

const char *sl_error_token(int code)
{
    if (code > 0 || -code >= (int)(sizeof(tokens) / sizeof(tokens[0])))
        return "EUNKNOWN";
    return tokens[-code];
}

int sl_error_from_token(const char *token)
{
    for (size_t i = 1; token && i < sizeof(tokens) / sizeof(tokens[0]); i++)
        if (strcmp(token, tokens[i]) == 0)
            return -(int)i;
    return SL_EIO;
}

/* Fills every member of err; the position is the caller's to set afterwards. */
static void error_vfill(sl_error *err, int code, const char *field, const char *fmt, va_list ap)
{
    memset(err, 0, sizeof(*err));
    err->code = code;
    snprintf(err->field, sizeof(err->field), "%s", field ? field : "");
    if (fmt)
        vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
}

int sl_error_set(sl_error *err, int code, const char *field, const char *fmt, ...)
{
    va_list ap;

    if (!err)
        return code;
    va_start(ap, fmt);
    error_vfill(err, code, field, fmt, ap);
    va_end(ap);
    return code;
}

/* Makes room for one more entry; 0 on success, -1 when the entry must be dropped. */
static int diags_grow(sl_diags *d)
{
    size_t cap;
    sl_error *v;

    if (d->n >= SL_DIAGS_MAX)
        return -1;
    if (d->n < d->cap)
        return 0;
    cap = d->cap ? d->cap * 2 : 8;
    if (cap > SL_DIAGS_MAX)
        cap = SL_DIAGS_MAX;
    v = realloc(d->v, cap * sizeof(*v));
    if (!v)
        return -1;
    d->v = v;
    d->cap = cap;
    return 0;
}

void sl_diags_add(sl_diags *d, int code, int line, int column, const char *field, const char *fmt,
                  ...)
{
    va_list ap;
    sl_error *e;

    if (!d)
        return;
    if (diags_grow(d) != 0) {
        d->dropped++;
        return;
    }
    e = &d->v[d->n++];
    va_start(ap, fmt);
    error_vfill(e, code, field, fmt, ap);
    va_end(ap);
    e->line = line;
    e->column = column;
}

void sl_diags_release(sl_diags *d)
{
    if (!d)
        return;
    free(d->v);
    memset(d, 0, sizeof(*d));
}
