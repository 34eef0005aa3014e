/*
 * order_int.h: what the ordering backends (solo.c, follow.c) share inside the order layer.
 */
#ifndef SL_ORDER_INT_H
#define SL_ORDER_INT_H

#include "slaledger/order.h"

/** The node's time in ms since the epoch: settings->clock when set, else the wall clock.
 * Block timestamps and transaction expiry checks read it. */
int64_t sl__order_now(const sl_order_settings *settings);

#endif
