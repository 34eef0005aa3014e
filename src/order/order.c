/*
 * order.c: the backend-independent face of ordering: dispatch to the backend's ops.
 * Thread-safety: as the backend's.
 */
#include "slaledger/order.h"

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
