/*
 * rd.c: sl_rd, the bounds-checked reader of big-endian integers and length-prefixed fields,
 * the counterpart of sl_buf's put functions. Every decoder of outside bytes (certificates,
 * transactions, blocks) reads through it, so no decoder does its own pointer arithmetic.
 *
 * The error is sticky: after the first failure every read returns 0 / NULL and leaves `at`
 * where it was. Thread-safety: none; one reader per struct.
 */
#include <string.h>

#include "slaledger/util.h"

void sl_rd_init(sl_rd *r, const void *p, size_t len)
{
    r->p = p;
    r->len = p ? len : 0;
    r->at = 0;
    r->err = 0;
}

const uint8_t *sl_rd_bytes(sl_rd *r, size_t n)
{
    if (r->err || n > r->len - r->at) {
        r->err = SL_EINVAL;
        return NULL;
    }
    if (!r->p)
        return (const uint8_t *)""; /* zero bytes of no input: a valid, empty pointer */
    const uint8_t *p = r->p + r->at;
    r->at += n;
    return p;
}

static uint64_t rd_be(sl_rd *r, size_t n)
{
    const uint8_t *p = sl_rd_bytes(r, n);
    uint64_t v = 0;
    for (size_t i = 0; p && i < n; i++)
        v = v << 8 | p[i];
    return v;
}

uint8_t sl_rd_u8(sl_rd *r)
{
    return (uint8_t)rd_be(r, 1);
}

uint32_t sl_rd_u32(sl_rd *r)
{
    return (uint32_t)rd_be(r, 4);
}

uint64_t sl_rd_u64(sl_rd *r)
{
    return rd_be(r, 8);
}

int64_t sl_rd_i64(sl_rd *r)
{
    uint64_t v = rd_be(r, 8);
    int64_t s;
    memcpy(&s, &v, sizeof(s)); /* two's complement, as sl_buf_put_i64 wrote it */
    return s;
}

const uint8_t *sl_rd_blob(sl_rd *r, size_t max, size_t *n)
{
    size_t at = r->at;
    uint32_t len = sl_rd_u32(r);
    *n = 0;
    if (r->err)
        return NULL;
    if (len > max) {
        r->at = at;
        r->err = SL_EINVAL;
        return NULL;
    }
    const uint8_t *p = sl_rd_bytes(r, len);
    if (!p) {
        r->at = at;
        return NULL;
    }
    *n = len;
    return p;
}

void sl_rd_str(sl_rd *r, char *out, size_t cap)
{
    size_t n;
    const uint8_t *p = sl_rd_blob(r, cap ? cap - 1 : 0, &n);
    if (cap)
        out[0] = '\0';
    if (!p)
        return;
    if (memchr(p, '\0', n)) {
        r->err = SL_EINVAL;
        return;
    }
    memcpy(out, p, n);
    out[n] = '\0';
}

int sl_rd_end(const sl_rd *r)
{
    return r->err || r->at != r->len ? SL_EINVAL : 0;
}
