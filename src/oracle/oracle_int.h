/*
 * oracle_int.h: what the oracle layer's files share privately: the libcurl set-up of one
 * request (request.c), used alike by the synchronous transport and the multi-interface fetch
 * (fetch.c), so both apply the same limits and read back the same timings.
 */
#ifndef SL_ORACLE_INT_H
#define SL_ORACLE_INT_H

#include <curl/curl.h>

#include "slaledger/oracle.h"

/** curl_global_init, once per process. 0 or SL_ENOMEM. */
int sl__curl_global(void);

/**
 * Configures easy handle h to perform req into resp. *hdrs receives the header list and
 * *url_copy a rewritten URL (tcp:// requests), both the caller's to free after the transfer
 * (curl_slist_free_all, free), also on failure. 0, SL_EINVAL (no URL or method, a tcp request
 * without tcp://), SL_ENOMEM.
 */
int sl__curl_prepare(CURL *h, const sl_http_req *req, sl_http_resp *resp, struct curl_slist **hdrs,
                     char **url_copy);

/** Reads status, timings, the certificate's expiry and a failure's reason after a transfer
 * that ended with result. */
void sl__curl_finish(CURL *h, const sl_http_req *req, CURLcode result, sl_http_resp *resp);

#endif
