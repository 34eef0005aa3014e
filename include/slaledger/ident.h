/*
 * slaledger/ident.h: identities. Ed25519 keys (libsodium), roles, and member certificates.
 *
 * Every organization has a root key; it certifies its members (users, nodes, oracles) with a
 * small signed certificate: subject, organization, role, public key, validity. A channel's
 * genesis names the member organizations and their root keys, so any certificate can be checked
 * with nothing but the genesis.
 *
 * Secret keys live in sodium_malloc'd memory (guarded, never swapped where the OS allows) and
 * are wiped when freed; on disk they are files of mode 0600. Thread-safety: a key may be used
 * for signing from several threads at once; everything else is reentrant.
 */
#ifndef SLALEDGER_IDENT_H
#define SLALEDGER_IDENT_H

#include <stddef.h>
#include <stdint.h>

#include "slaledger/error.h"
#include "slaledger/sla.h" /* sl_role */
#include "slaledger/util.h"

#define SL_PK_LEN         32
#define SL_SIG_LEN        64
#define SL_IDENT_NAME_CAP 64 /* a name (SL_NAME_MAX bytes) and its NUL */

/* ---- keys ---- */

/** An Ed25519 key pair. Opaque; created by sl_key_generate / sl_key_load / sl_key_from_seed. */
typedef struct sl_key sl_key;

/** A fresh random key pair. *out is freed with sl_key_free. 0 or SL_ENOMEM. */
int sl_key_generate(sl_key **out) __attribute__((warn_unused_result));

/** The key pair of a 32-byte seed (for test vectors and deterministic fixtures). */
int sl_key_from_seed(const uint8_t seed[32], sl_key **out) __attribute__((warn_unused_result));

/**
 * Reads a secret key file written by sl_key_save. Refuses (SL_EPERM) a file with any group or
 * other permission bit, SL_EINVAL for a malformed file, SL_ENOENT when it does not exist, SL_EIO
 * when it cannot be read or is not a regular file, SL_ENOMEM. The path is in err->field. The
 * file's bytes are wiped from memory after parsing. *out is NULL on failure.
 */
int sl_key_load(const char *path, sl_key **out, sl_error *err) __attribute__((warn_unused_result));

/**
 * Writes the secret key to a new file of mode 0600 (never overwrites: SL_EEXIST), fsync'd with
 * its directory. The format is one line "slaledger-ed25519-secret-v1 <64 hex digits of the
 * seed>\n". SL_EIO when it cannot be written; the partial file is removed then.
 */
int sl_key_save(const sl_key *k, const char *path, sl_error *err)
    __attribute__((warn_unused_result));

/** Wipes and frees. Accepts NULL. */
void sl_key_free(sl_key *k);

/** The public half. */
void sl_key_public(const sl_key *k, uint8_t pk[SL_PK_LEN]);

/** Detached Ed25519 signature of msg. */
void sl_key_sign(const sl_key *k, const void *msg, size_t len, uint8_t sig[SL_SIG_LEN]);

/** 0 when sig is pk's valid signature of msg, else SL_EAUTH. */
int sl_sig_verify(const uint8_t pk[SL_PK_LEN], const void *msg, size_t len,
                  const uint8_t sig[SL_SIG_LEN]) __attribute__((warn_unused_result));

/* Public keys and signatures appear in text as lowercase hex (sl_hex / sl_unhex). */

/* ---- certificates ---- */

/**
 * A member certificate. subject is the member's name (unique within its organization); for
 * oracles it is the name agreements list among their oracles. Valid for not_before <= t <
 * not_after (ms since the epoch), signed by the organization's root key.
 */
typedef struct sl_cert {
    char subject[SL_IDENT_NAME_CAP];
    char org[SL_IDENT_NAME_CAP];
    sl_role role; /* exactly one role */
    uint8_t pk[SL_PK_LEN];
    int64_t not_before_ms;
    int64_t not_after_ms;
    uint8_t sig[SL_SIG_LEN]; /* by the org root key over the encoding without sig */
} sl_cert;

/** Upper bound of an encoded certificate's size. */
#define SL_CERT_MAX 256

/**
 * The canonical encoding: "SLC1", subject, org (u32 length + bytes each), role u8, pk,
 * not_before i64, not_after i64, and (with_sig) the signature. Appended to out; check out->err.
 */
void sl_cert_encode(const sl_cert *c, int with_sig, sl_buf *out);

/** Decodes exactly one encoded certificate (all of p[0..len)) and checks its fields are well
 * formed (valid names, one role, not_before < not_after). Does not check the signature.
 * SL_EINVAL with the field ("cert.org") in *err; *out is untouched on failure. */
int sl_cert_decode(const uint8_t *p, size_t len, sl_cert *out, sl_error *err)
    __attribute__((warn_unused_result));

/** Signs c (all fields but sig set) with the org root key, filling c->sig. */
void sl_cert_sign(sl_cert *c, const sl_key *org_root);

/**
 * Checks c's signature against org_pk and that at_ms lies in its validity. SL_EAUTH (bad
 * signature) or SL_ETIME (not yet valid / expired), with the reason in *err.
 */
int sl_cert_verify(const sl_cert *c, const uint8_t org_pk[SL_PK_LEN], int64_t at_ms, sl_error *err)
    __attribute__((warn_unused_result));

/**
 * Certificate files are JSON for people to read:
 * {"subject":..,"org":..,"role":..,"public_key":hex,"not_before":RFC3339,"not_after":RFC3339,
 *  "signature":hex}. Read checks well-formedness only (see sl_cert_verify).
 *
 * Write appends the indented object and a newline to out: 0, SL_EINVAL for a malformed
 * certificate or times outside 1970..9999 (nothing appended), SL_ENOMEM. Read refuses unknown,
 * duplicate and missing members: SL_EPARSE for a syntax error (line and column in *err),
 * SL_EINVAL naming the member; *out is untouched on failure.
 */
int sl_cert_write_json(const sl_cert *c, sl_buf *out);
int sl_cert_read_json(const char *text, size_t len, sl_cert *out, sl_error *err)
    __attribute__((warn_unused_result));

#endif
