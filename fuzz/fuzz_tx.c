/*
 * fuzz_tx.c: libFuzzer target for the transaction decoder (sl_tx_decode), which sees every
 * byte string a client or another node submits. Any input must be either refused with an
 * SL_EINVAL naming a field and no result, or decoded into a transaction that keeps the promises
 * of tx.h: a private copy of exactly the input, signature over all but the last 64 bytes, id =
 * SHA-256 of the input, every field check passing, and canonical: re-encoding the decoded
 * fields gives back the signed bytes. Signature verification and the JSON rendering (which must
 * parse back) run on everything that decodes. Seeds live in fuzz/corpus/tx/ (valid transactions
 * of every type). Runs under ASan+UBSan by `make fuzz`.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <jansson.h>

#include "ledger/ident_int.h"
#include "slaledger/tx.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_MAX_LEN (1u << 20)

/* Traps unless a refusal is clean: no result, the code in err, a field named. */
static void check_refusal(int rc, const sl_tx_decoded *d, const sl_error *err)
{
    if (d || (rc != SL_EINVAL && rc != SL_ENOMEM) || err->code != rc || err->msg[0] == '\0')
        __builtin_trap();
    if (rc == SL_EINVAL && err->field[0] == '\0')
        __builtin_trap();
}

/* Traps unless the decoded transaction keeps the promises of tx.h. */
static void check_decoded(const sl_tx_decoded *d, const uint8_t *data, size_t size)
{
    uint8_t id[SL_HASH_LEN];
    sl_error err;
    sl_buf b;

    if (d->len != size || d->bytes == data || memcmp(d->bytes, data, size) != 0 ||
        d->signed_len + SL_SIG_LEN != size || !sl_tx_type_name(d->tx.type) ||
        sl_tx_roles(d->tx.type) == 0 || sl__tx_check(&d->tx, 1, &err) != 0)
        __builtin_trap();
    sl_sha256(data, size, id);
    if (memcmp(id, d->id, SL_HASH_LEN) != 0)
        __builtin_trap();
    sl_buf_init(&b);
    if (sl__tx_encode_unsigned(&d->tx, &b) == 0 &&
        (b.len != d->signed_len || memcmp(b.p, d->bytes, b.len) != 0))
        __builtin_trap();
    sl_buf_release(&b);
}

/* Traps unless the JSON rendering is valid JSON naming the same type. */
static void check_json(const sl_tx_decoded *d)
{
    json_error_t jerr;
    const char *type;
    json_t *o;
    sl_buf b;

    sl_buf_init(&b);
    if (sl_tx_to_json(d, &b) == 0) {
        o = json_loadb((const char *)b.p, b.len, 0, &jerr);
        type = o ? json_string_value(json_object_get(o, "type")) : NULL;
        if (!type || strcmp(type, sl_tx_type_name(d->tx.type)) != 0)
            __builtin_trap();
        json_decref(o);
    }
    sl_buf_release(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sl_tx_decoded *d = NULL;
    sl_error err;
    int rc;

    memset(&err, 0, sizeof(err));
    rc = sl_tx_decode(data, size, FUZZ_MAX_LEN, &d, &err);
    if (rc != 0) {
        check_refusal(rc, d, &err);
        return 0;
    }
    check_decoded(d, data, size);
    rc = sl_tx_verify_signature(d);
    if (rc != 0 && rc != SL_EAUTH)
        __builtin_trap();
    check_json(d);
    sl_tx_free(d);
    return 0;
}
