/*
 * mem.c: growth of heap arrays.
 *
 * Thread-safety: reentrant.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "slaledger/util.h"

int sl_reserve(void *items, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return 0;
    size_t n = *cap ? *cap : 8;
    while (n < need) {
        if (n > SIZE_MAX / 2)
            return SL_ENOMEM;
        n *= 2;
    }
    if (n > SIZE_MAX / elem)
        return SL_ENOMEM;
    void *old, *grown;
    memcpy(&old, items, sizeof(old)); /* items points at a T *, whatever T is */
    grown = realloc(old, n * elem);
    if (!grown)
        return SL_ENOMEM;
    memcpy(items, &grown, sizeof(grown));
    *cap = n;
    return 0;
}
