/*
 * slaledger/ident.h: identities. Ed25519 keys (libsodium), roles, and member certificates.
 *
 * Every organization has a root key; it certifies its members (users, nodes, oracles) with a
 * small signed certificate: subject, organization, role, public key, validity. A channel's
 * genesis names the member organizations and their root keys, so any certificate can be checked
 * with nothing but the genesis.
 *
 * A member node proves who it is to another organization's node with a node credential: a short
 * bearer token carrying its certificate, the called node's name, the time, and its signature
 * (sl_node_token_make / sl_node_token_read), so nodes share no secret.
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

/* ---- node credentials: a member node's short-lived, signed bearer token ---- */

/*
 * A node calls another organization's node with the bearer token
 *
 *     sln1.<cert>.<audience>.<time>.<signature>
 *
 * cert, audience and signature in unpadded base64url (RFC 4648 section 5), time in decimal
 * milliseconds since the epoch (no sign, no leading zero). cert is the caller's encoded
 * certificate (sl_cert_encode with its signature; role node), audience the called node's
 * "org/name" (its certificate's organization and subject), so that a token made for one node
 * is refused by every other. The signature is Ed25519 by the caller's node key over
 *
 *     "slaledger node token v1" NUL, u32 length + cert, u32 length + audience, i64 time
 *
 * (integers big-endian), so no two tokens share a signed message. docs/security-model.md
 * says what a stolen token allows.
 */
#define SL_NODE_TOKEN_PREFIX "sln1."
/** Longest audience: two names and the slash between them. */
#define SL_NODE_AUDIENCE_MAX (2 * (SL_IDENT_NAME_CAP - 1) + 1)
/** Longest token, in characters (618 with the longest names); a longer one is refused unread. */
#define SL_NODE_TOKEN_MAX 640

/**
 * Appends to out the characters of a node token (no NUL: sl_buf_cstr gives the string) made
 * by key, whose certificate cert is (role node, cert->pk the key's public half), for the node
 * audience ("org/name", both valid names) at now_ms (>= 0). Returns 0; SL_EINVAL for a
 * malformed or non-node certificate, a key that is not the certificate's, a malformed audience
 * or a negative time (nothing appended); SL_ENOMEM (out->err).
 */
int sl_node_token_make(const sl_key *key, const sl_cert *cert, const char *audience, int64_t now_ms,
                       sl_buf *out) __attribute__((warn_unused_result));

/**
 * Reads a node token (NUL-terminated, as presented; at most SL_NODE_TOKEN_MAX characters are
 * looked at) for the node called audience ("org/name") at now_ms: it must be well formed, made
 * for exactly audience, within skew_ms (>= 0) of now_ms either way, carry a well-formed
 * certificate of role node, and be signed by that certificate's key. Then *cert receives the
 * certificate and 0 is returned. SL_EINVAL for a malformed token (or audience argument),
 * SL_EAUTH for a well-formed one that is refused (another audience, too old or too new, not a
 * node's certificate, a bad signature), each with the reason and field ("token.time", ...) in
 * *err; *cert is untouched on failure.
 *
 * It does not check the certificate's organization: the caller verifies it (sl_cert_verify)
 * with the root key the channel's genesis lists for cert->org, at now_ms.
 */
int sl_node_token_read(const char *token, const char *audience, int64_t now_ms, int64_t skew_ms,
                       sl_cert *cert, sl_error *err) __attribute__((warn_unused_result));

#endif
