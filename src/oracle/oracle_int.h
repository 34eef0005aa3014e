/*
 * oracle_int.h: what the oracle layer's files share privately: the libcurl set-up of one
 * request (request.c), used alike by the synchronous transport and the multi-interface fetch
 * (fetch.c), so both apply the same limits and read back the same timings.
 */
#ifndef SL_ORACLE_INT_H
#define SL_ORACLE_INT_H

#include <curl/curl.h>

#include "slaledger/oracle.h"

/** The wall clock in ms since the epoch (CLOCK_REALTIME). The oracle layer is where the
 * outside world's time enters; the contract only ever sees block timestamps. */
int64_t sl__wall_ms(void);

/** curl_global_init, once per process. 0 or SL_ENOMEM. */
int sl__curl_global(void);

/**
 * Configures easy handle h (new, or cleared with curl_easy_reset) to perform req into resp.
 * errbuf (CURL_ERROR_SIZE bytes, or NULL) receives libcurl's detail of a failure and must live
 * until sl__curl_finish. *hdrs receives the header list and *url_copy a rewritten URL (tcp://
 * requests), both the caller's to free after the transfer (curl_slist_free_all, free), also on
 * failure. 0, SL_EINVAL (no URL or method, a tcp request without tcp://), SL_ENOMEM.
 */
int sl__curl_prepare(CURL *h, const sl_http_req *req, sl_http_resp *resp, char *errbuf,
                     struct curl_slist **hdrs, char **url_copy);

/** Reads status, timings, the certificate's expiry and a failure's reason (short and precise:
 * "connection refused", "timeout after 5000 ms", "TLS: certificate verify failed (...)") after
 * a transfer that ended with result; errbuf as given to sl__curl_prepare. */
void sl__curl_finish(CURL *h, const sl_http_req *req, CURLcode result, const char *errbuf,
                     sl_http_resp *resp);

/** Marks resp failed with the reason sl__curl_prepare's error rc stands for. */
void sl__curl_unprepared(int rc, sl_http_resp *resp);

#endif
