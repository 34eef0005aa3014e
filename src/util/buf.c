/*
 * buf.c: sl_buf, the growable byte buffer every serializer writes into.
 *
 * Appends never report failure directly: the first failure (allocation, or a length that does
 * not fit its encoding) is stored in b->err, and from then on appends do nothing, so a writer
 * appends freely and checks err once. Integers are written big-endian so that serialized bytes
 * (hashed for state and ledger) are the same on every machine. The caller owns the struct and
 * its storage (sl_buf_init / sl_buf_release). Thread-safety: none; one writer per buffer.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "slaledger/error.h"
#include "slaledger/util.h"

#define BUF_MIN_CAP 64

void sl_buf_init(sl_buf *b)
{
    memset(b, 0, sizeof(*b));
}

void sl_buf_release(sl_buf *b)
{
    if (!b)
        return;
    free(b->p);
    memset(b, 0, sizeof(*b));
}

void sl_buf_reset(sl_buf *b)
{
    b->len = 0;
    b->err = 0;
}

/* Sets the sticky error (the first one wins) and returns it. */
static int buf_fail(sl_buf *b, int code)
{
    if (b->err == 0)
        b->err = code;
    return b->err;
}

int sl_buf_reserve(sl_buf *b, size_t extra)
{
    size_t need, cap;
    uint8_t *p;

    if (b->err)
        return b->err;
    if (__builtin_add_overflow(b->len, extra, &need))
        return buf_fail(b, SL_ENOMEM);
    if (need <= b->cap)
        return 0;
    cap = b->cap ? b->cap : BUF_MIN_CAP;
    while (cap < need) {
        if (__builtin_mul_overflow(cap, 2, &cap))
            return buf_fail(b, SL_ENOMEM);
    }
    p = realloc(b->p, cap);
    if (!p)
        return buf_fail(b, SL_ENOMEM);
    b->p = p;
    b->cap = cap;
    return 0;
}

void sl_buf_put(sl_buf *b, const void *data, size_t n)
{
    if (n == 0 || sl_buf_reserve(b, n) != 0)
        return;
    memcpy(b->p + b->len, data, n);
    b->len += n;
}

void sl_buf_put_u8(sl_buf *b, uint8_t v)
{
    sl_buf_put(b, &v, 1);
}

void sl_buf_put_u32(sl_buf *b, uint32_t v)
{
    uint8_t be[4];

    for (int k = 0; k < 4; k++)
        be[k] = (uint8_t)(v >> (24 - 8 * k));
    sl_buf_put(b, be, sizeof(be));
}

void sl_buf_put_u64(sl_buf *b, uint64_t v)
{
    uint8_t be[8];

    for (int k = 0; k < 8; k++)
        be[k] = (uint8_t)(v >> (56 - 8 * k));
    sl_buf_put(b, be, sizeof(be));
}

void sl_buf_put_i64(sl_buf *b, int64_t v)
{
    /* Conversion to uint64 is defined as modulo 2^64: the two's-complement bit pattern. */
    sl_buf_put_u64(b, (uint64_t)v);
}

void sl_buf_put_str(sl_buf *b, const char *s)
{
    size_t n = s ? strlen(s) : 0;

    if (n > UINT32_MAX) {
        buf_fail(b, SL_EOVERFLOW);
        return;
    }
    sl_buf_put_u32(b, (uint32_t)n);
    sl_buf_put(b, s, n);
}

void sl_buf_printf(sl_buf *b, const char *fmt, ...)
{
    va_list ap, again;
    size_t room = b->cap - b->len;
    int n;

    if (b->err)
        return;
    va_start(ap, fmt);
    va_copy(again, ap);
    n = vsnprintf(room ? (char *)b->p + b->len : NULL, room, fmt, ap);
    if (n < 0) {
        buf_fail(b, SL_EINVAL);
        goto out;
    }
    /* vsnprintf needs room for its NUL too; when it did not fit, grow and write again. */
    if ((size_t)n >= room) {
        if (sl_buf_reserve(b, (size_t)n + 1) != 0)
            goto out;
        vsnprintf((char *)b->p + b->len, (size_t)n + 1, fmt, again);
    }
    b->len += (size_t)n;
out:
    va_end(again);
    va_end(ap);
}

const char *sl_buf_cstr(sl_buf *b)
{
    if (sl_buf_reserve(b, 1) != 0)
        return NULL;
    b->p[b->len] = '\0';
    return (const char *)b->p;
}
