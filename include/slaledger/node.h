/*
 * slaledger/node.h: the node an organization runs. It loads its configuration (sla.h,
 * kind: Node), its identity and local users' keys, the API tokens and the secrets file, opens
 * the ledger of every channel it serves (creating it from the genesis the first time), orders
 * blocks with the embedded solo orderer, and serves the REST API (docs/api.md).
 *
 * One node per data directory: a second one is refused with SL_EBUSY (an advisory lock held
 * for the node's life). Thread-safety: start and stop from one thread; the node runs its own
 * threads in between.
 */
#ifndef SLALEDGER_NODE_H
#define SLALEDGER_NODE_H

#include <stdint.h>

#include "slaledger/error.h"

typedef struct sl_node sl_node;

/**
 * Starts the node of the config file at path. listen (may be NULL) overrides the config's
 * listen address ("127.0.0.1:0" for any free port). Returns 0 with *out, or an error with the
 * problem in *err (config problems with file:line:column in err->msg and the field).
 */
int sl_node_start(const char *config_path, const char *listen, sl_node **out, sl_error *err)
    __attribute__((warn_unused_result));

/** The address and port the API listens on. */
const char *sl_node_host(const sl_node *n);
uint16_t sl_node_port(const sl_node *n);

/**
 * Writes one info event to the node's log, in its configured format (text or JSON), with one
 * field key=value when key and value are given (both may be NULL). For the program that runs
 * the node, so that its own lines (which signal stops it) are formatted like the node's.
 * Thread-safe; accepts n NULL (then nothing is written).
 */
void sl_node_log_info(sl_node *n, const char *msg, const char *key, const char *value);

/**
 * Stops gracefully: no new requests, queued transactions committed in a last block, ledgers
 * closed cleanly, the data directory unlocked. Accepts NULL.
 */
void sl_node_stop(sl_node *n);

#endif
