/*
 * slaledger/tx.h: signed transactions, the only way anything enters a channel's ledger.
 *
 * A transaction is a byte string: a fixed-order binary encoding (big-endian integers,
 * u32-length-prefixed fields; docs/ledger-format.md) of its type, channel, nonce, expiry, the
 * signer's certificate and a type-specific body, followed by the signer's Ed25519 signature
 * over everything before it. The bytes are stored exactly as received and the transaction id
 * is their SHA-256, so a transaction can be proven and re-verified byte for byte.
 *
 * This module encodes, decodes (well-formedness only) and checks the signature against the
 * embedded certificate's key. Whether the certificate chains to a member organization, the role
 * fits the type, the transaction is unexpired and unseen is the ledger's job (ledger.h), and
 * whether it makes sense is the contract's. Thread-safety: reentrant; a decoded sl_tx is
 * immutable and may be read from several threads.
 */
#ifndef SLALEDGER_TX_H
#define SLALEDGER_TX_H

#include <stddef.h>
#include <stdint.h>

#include "slaledger/error.h"
#include "slaledger/ident.h"
#include "slaledger/util.h"

typedef enum sl_tx_type {
    SL_TX_PROPOSE = 1,  /* doc: an agreement document (YAML/JSON) the signer proposes */
    SL_TX_ACCEPT = 2,   /* agreement, doc_hash: the counter-party signs the same document */
    SL_TX_REJECT = 3,   /* agreement */
    SL_TX_DEPOSIT = 4,  /* agreement, amount: consumer funds the escrow */
    SL_TX_WITHDRAW = 5, /* currency, amount: the signer's organization redeems tokens */
    SL_TX_ISSUE = 6,    /* to, currency, amount: the issuer creates tokens */
    SL_TX_REPORT = 7,   /* items: measurements of closed intervals by one oracle */
    SL_TX_CHECK = 8,    /* items with detail: results of check objectives by one oracle */
    SL_TX_TIME = 9,     /* empty: a node advances contract time to the block's timestamp */
} sl_tx_type;

#define SL_TX_TYPE_MAX   9
#define SL_TX_MAX_ITEMS  65536       /* items in one report or check transaction */
#define SL_TX_MAX_DOC    (256 << 10) /* bytes of a proposed agreement document */
#define SL_TX_MAX_DETAIL 1024        /* bytes of one check item's detail */

/** One measured interval (SL_TX_REPORT) or check result (SL_TX_CHECK, value 1 pass / 0 fail). */
typedef struct sl_tx_item {
    char agreement[SL_IDENT_NAME_CAP];
    char objective[SL_IDENT_NAME_CAP];
    int64_t start_ms;
    int64_t end_ms;
    int64_t value;      /* in the objective's unit (sla.h, sl_metric); CHECK: 1 or 0 */
    const char *detail; /* CHECK only: evidence text (UTF-8 without NUL, may be empty, at most
                           SL_TX_MAX_DETAIL bytes); borrowed, NOT NUL-terminated */
    size_t detail_len;
} sl_tx_item;

/** A transaction's fields. Which body fields apply depends on type; the rest are zero. */
typedef struct sl_tx {
    sl_tx_type type;
    char channel[SL_IDENT_NAME_CAP];
    uint64_t nonce;     /* chosen by the signer so equal requests get distinct ids */
    int64_t expires_ms; /* invalid in any block whose timestamp is later */
    sl_cert cert;       /* the signer */
    /* body */
    const uint8_t *doc; /* PROPOSE; borrowed, not NUL-terminated */
    size_t doc_len;
    char agreement[SL_IDENT_NAME_CAP]; /* ACCEPT, REJECT, DEPOSIT */
    uint8_t doc_hash[SL_HASH_LEN];     /* ACCEPT: SHA-256 of the proposed document */
    char to[SL_IDENT_NAME_CAP];        /* ISSUE: receiving organization */
    char currency[4];                  /* WITHDRAW, ISSUE */
    int64_t amount;                    /* DEPOSIT, WITHDRAW, ISSUE: minor units, > 0 */
    sl_tx_item *items;                 /* REPORT, CHECK */
    size_t n_items;
} sl_tx;

/**
 * Encodes t (type, channel, nonce, expiry, cert, body) and signs it with key, appending the
 * transaction's bytes to out. key must be the private half of t->cert.pk (SL_EINVAL otherwise,
 * or for fields that would not decode: bad names, too many items, fields of another type set,
 * each named in *err as sl_tx_decode would). SL_ENOMEM. On failure out is as it was.
 */
int sl_tx_sign(const sl_tx *t, const sl_key *key, sl_buf *out, sl_error *err)
    __attribute__((warn_unused_result));

/**
 * The number of bytes sl_tx_sign appends for t (its encoding and the signature), measured by
 * the encoder itself; t need not pass sl_tx_sign's checks (a report with no items yet gives
 * its envelope: channel, nonce, expiry, certificate, item count and signature). For a report or
 * check, sl_tx_size(t) is sl_tx_size of t without items plus sl_tx_item_size of each item.
 * SIZE_MAX for an unknown type or when memory runs out.
 */
size_t sl_tx_size(const sl_tx *t);

/** The number of bytes item it adds to an encoded transaction of type (SL_TX_REPORT, or
 * SL_TX_CHECK whose items carry their detail too). SIZE_MAX when memory runs out. */
size_t sl_tx_item_size(sl_tx_type type, const sl_tx_item *it);

/** A decoded transaction owning a copy of its bytes; freed with sl_tx_free. */
typedef struct sl_tx_decoded {
    sl_tx tx;       /* pointers in tx point into bytes */
    uint8_t *bytes; /* the transaction exactly as received */
    size_t len;
    size_t signed_len;       /* bytes[0..signed_len) is what the signature covers */
    uint8_t id[SL_HASH_LEN]; /* SHA-256 of bytes[0..len) */
} sl_tx_decoded;

/**
 * Decodes p[0..len) (at most max_len bytes; SL_EINVAL beyond) into a new sl_tx_decoded,
 * checking that it is well formed: known type, valid names and currency, positive amounts,
 * start < end, check values 0 or 1, item counts and sizes within limits, details UTF-8, no
 * field of another type, nothing left over. Does not check the signature. *out is NULL on
 * failure; the reason is in *err (SL_EINVAL with the field, e.g. "items[3].end_ms"; SL_ENOMEM).
 */
int sl_tx_decode(const uint8_t *p, size_t len, size_t max_len, sl_tx_decoded **out, sl_error *err)
    __attribute__((warn_unused_result));

/** 0 when the signature verifies against the embedded certificate's key, else SL_EAUTH. */
int sl_tx_verify_signature(const sl_tx_decoded *d) __attribute__((warn_unused_result));

/** Accepts NULL. */
void sl_tx_free(sl_tx_decoded *d);

/** "propose", "accept", ... "time"; NULL for an unknown type. */
const char *sl_tx_type_name(sl_tx_type t);
/** The type named s (as sl_tx_type_name writes it): 0, or SL_EINVAL (s may be NULL). */
int sl_tx_type_parse(const char *s, sl_tx_type *out);

/** The roles (sl_role mask) whose certificates may sign transactions of type t: PROPOSE,
 * ACCEPT, REJECT consumer|provider; DEPOSIT consumer; WITHDRAW consumer|provider|issuer; ISSUE
 * issuer; REPORT, CHECK oracle; TIME node. 0 for an unknown type. */
unsigned sl_tx_roles(sl_tx_type t);

/**
 * Writes a decoded transaction as one line of JSON for people and the API (appended to out): id,
 * type, channel, nonce (a decimal string: u64 does not fit JSON numbers), expires_ms and
 * expires (RFC 3339, when representable), signer {subject, org, role, public_key}, size, and
 * the body fields (documents as text when UTF-8, else doc_base64, with doc_hash; amounts as
 * integers in minor units). 0, or SL_ENOMEM with out as it was. See docs/ledger-format.md.
 */
int sl_tx_to_json(const sl_tx_decoded *d, sl_buf *out);

#endif
