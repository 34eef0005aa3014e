/*
 * fuzz_node_token.c: libFuzzer target for the node credential reader (sl_node_token_read), which
 * reads the bearer token of every request to a node that starts with "sln1.". Any input (as a
 * string: it ends at its first NUL) must be either refused with SL_EINVAL or SL_EAUTH, a field
 * and a message in err, and the output certificate untouched; or accepted, and then it is a
 * token as ident.h describes it: at most SL_NODE_TOKEN_MAX characters of the base64url
 * alphabet and dots, the prefix, for this audience, and a well-formed node certificate whose
 * encoding is exactly the token's certificate part. Nothing may crash, hang or leak (run under
 * ASan+UBSan by `make fuzz`). Seeds live in fuzz/corpus/node_token/: tokens for AUDIENCE made
 * at NOW by tests/tools/nodetoken.c with fixed keys, and broken variants.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <sodium.h>

#include "ledger/ident_int.h"
#include "slaledger/ident.h"
#include "slaledger/sla.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define AUDIENCE "univie/univie-node"
#define NOW      1767225600000LL /* the seeds' time */
#define SKEW     60000

/* Traps unless the refusal is clean. */
static void check_refusal(int rc, const sl_error *err, const sl_cert *c, const sl_cert *sentinel)
{
    if ((rc != SL_EINVAL && rc != SL_EAUTH) || err->code != rc || err->msg[0] == '\0' ||
        err->field[0] == '\0' || memcmp(c, sentinel, sizeof(*c)) != 0)
        __builtin_trap();
}

/* Traps unless the accepted token t is what ident.h promises. */
static void check_accepted(const char *t, const sl_cert *c)
{
    const char *cert_part = t + strlen(SL_NODE_TOKEN_PREFIX);
    const char *dot = strchr(cert_part, '.');
    char b64[2 * SL_CERT_MAX];
    size_t n = strlen(t);
    sl_buf enc;

    if (n > SL_NODE_TOKEN_MAX || strncmp(t, SL_NODE_TOKEN_PREFIX, 5) != 0 || !dot ||
        strspn(t, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.") != n ||
        c->role != SL_ROLE_NODE || sl__cert_check(c, 1, NULL) != 0)
        __builtin_trap();
    sl_buf_init(&enc);
    sl_cert_encode(c, 1, &enc);
    if (enc.err == 0) {
        sodium_bin2base64(b64, sizeof(b64), enc.p, enc.len,
                          sodium_base64_VARIANT_URLSAFE_NO_PADDING);
        if (strlen(b64) != (size_t)(dot - cert_part) || memcmp(b64, cert_part, strlen(b64)) != 0)
            __builtin_trap();
    }
    sl_buf_release(&enc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char t[2 * SL_NODE_TOKEN_MAX];
    sl_cert c, sentinel;
    sl_error err;
    int rc;

    /* Longer inputs are refused by their length alone; keep a little past the limit. */
    if (size >= sizeof(t))
        size = sizeof(t) - 1;
    memcpy(t, data, size);
    t[size] = '\0';
    memset(&sentinel, 0x5c, sizeof(sentinel));
    c = sentinel;
    memset(&err, 0, sizeof(err));
    rc = sl_node_token_read(t, AUDIENCE, NOW, SKEW, &c, &err);
    if (rc != 0)
        check_refusal(rc, &err, &c, &sentinel);
    else
        check_accepted(t, &c);
    return 0;
}
