/*
 * order.c: the backend-independent face of ordering: dispatch to the backend's ops.
 * Thread-safety: as the backend's.
 */
#include <time.h>

#include "order/order_int.h"

int sl_orderer_submit(sl_orderer *o, const uint8_t *tx, size_t len, uint8_t id[SL_HASH_LEN],
                      sl_error *err)
{
    return o->ops->submit(o, tx, len, id, err);
}

int sl_orderer_flush(sl_orderer *o, sl_error *err)
{
    return o->ops->flush(o, err);
}

void sl_orderer_free(sl_orderer *o)
{
    if (o)
        o->ops->free(o);
}

int64_t sl__order_now(const sl_order_settings *settings)
{
    if (settings->clock)
        return settings->clock(settings->clock_arg);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
