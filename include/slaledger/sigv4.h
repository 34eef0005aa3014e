/*
 * slaledger/sigv4.h: AWS Signature Version 4 request signing (AWS4-HMAC-SHA256), used by the
 * CloudWatch oracle to authenticate its HTTPS requests.
 *
 * The signer is a pure function of its inputs: it reads no clock, no environment and no
 * configuration file. It follows the rules of AWS's SigV4 test suite for services other than
 * S3: the path is normalized (dot segments removed, repeated slashes collapsed) and each segment
 * is URI-encoded (again, on top of the encoding it was sent with); query parameters are decoded,
 * RFC 3986-encoded and sorted by name then value; header names are lower-cased and values
 * trimmed with inner runs of blanks collapsed; repeated headers are joined with ',' in the order
 * given. Every header passed is signed. Secrets and derived keys are wiped before returning.
 * Everything is borrowed from the caller; nothing is allocated past the call.
 * Thread-safety: reentrant.
 */
#ifndef SLALEDGER_SIGV4_H
#define SLALEDGER_SIGV4_H

#include <stddef.h>
#include <stdint.h>

#include "slaledger/error.h"

/** Length of an X-Amz-Date value, "YYYYMMDDTHHMMSSZ", without its NUL. */
#define SL_SIGV4_DATE_LEN 16

/** Credentials of one AWS principal, borrowed by sl_sigv4_sign. */
typedef struct sl_sigv4_creds {
    const char *access_key_id;     /**< "AKIDEXAMPLE" */
    const char *secret_access_key; /**< never leaves the signer except as an HMAC output */
    const char *session_token;     /**< temporary credentials' token, or NULL */
} sl_sigv4_creds;

/** One HTTP request to sign, borrowed by sl_sigv4_sign. */
typedef struct sl_sigv4_request {
    const char *method; /**< "POST" */
    const char *host;   /**< value of the Host header: "monitoring.eu-central-1.amazonaws.com" */
    const char *path;   /**< path exactly as sent on the wire, "/" ("" means "/") */
    const char *query;  /**< query string as sent, without '?'; "" or NULL for none */
    /** Extra headers to sign and send, "Name:value" (value may be padded with blanks),
     * NULL-terminated; NULL for none. Must not contain Host, X-Amz-Date,
     * X-Amz-Security-Token or Authorization: the signer adds those itself. */
    const char *const *headers;
    const uint8_t *body; /**< payload as sent; may be NULL when body_len is 0 */
    size_t body_len;     /**< length of body in bytes */
    const char *region;  /**< "eu-central-1" */
    const char *service; /**< "monitoring" */
    int64_t time_ms;     /**< request time, ms since the epoch (UTC); whole seconds are signed */
} sl_sigv4_request;

/**
 * Signs request r with credentials c.
 *
 * On success writes the value of the Authorization header into authorization[auth_cap] and the
 * value of the X-Amz-Date header into amz_date (NUL-terminated). The caller must send exactly
 * the signed request: Host: r->host, X-Amz-Date: amz_date, X-Amz-Security-Token:
 * c->session_token (when not NULL), every header of r->headers, and the body.
 *
 * Returns 0; SL_EINVAL for a missing or malformed field (NULL pointer, empty method, host,
 * region, service or key id, a header without ':' or with a control character, a reserved
 * header in r->headers, a path not starting with '/', a bad %-escape in the query, a time
 * before 1970 or after 9999); SL_EOVERFLOW when the value does not fit auth_cap (256 bytes
 * suffice for a handful of headers); SL_ENOMEM. On failure both outputs are empty strings
 * (when their capacity allows). Both buffers are the caller's.
 */
__attribute__((warn_unused_result)) int sl_sigv4_sign(const sl_sigv4_request *r,
                                                      const sl_sigv4_creds *c, char *authorization,
                                                      size_t auth_cap,
                                                      char amz_date[SL_SIGV4_DATE_LEN + 1]);

#endif
