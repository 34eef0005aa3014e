/*
 * fuzz_azure.c: libFuzzer target for the Azure Monitor adapter's parsers, which read what the
 * identity platform and the metrics API send back. The bytes are tried as a token response
 * body (HTTP 200 and 401) and as a metrics response body (HTTP 200 and 401, for
 * VmAvailabilityMetric and for another metric). A parse either succeeds with results that keep
 * oracle.h's promises (a printable token expiring in the future; samples known only with a
 * value of 0..1000000 ppm, start times untouched) or fails with an SL_E* code, an empty token
 * and untouched samples; nothing may crash, hang or leak (run under ASan+UBSan by `make fuzz`).
 * Seeds live in fuzz/corpus/azure/ (real-shaped answers, gaps, errors, broken variants).
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "slaledger/oracle.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define T0 1704067200000LL /* 2024-01-01T00:00:00Z */
#define N  10

static void check_error(const sl_error *err)
{
    if (strnlen(err->msg, sizeof(err->msg)) >= sizeof(err->msg) ||
        strnlen(err->field, sizeof(err->field)) >= sizeof(err->field))
        __builtin_trap();
}

static void fuzz_token(const sl_http_resp *resp)
{
    sl_azure_token t = {0};
    sl_error err = {0};
    int rc = sl_azure_token_parse(resp, T0, &t, &err);

    if (rc == 0) {
        if (!t.access_token || !t.access_token[0] || t.expires_ms <= T0 ||
            !sl_azure_token_stale(&t, T0 + 365LL * 24 * 3600 * 1000 * 2))
            __builtin_trap();
        for (const char *p = t.access_token; *p; p++) {
            if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f)
                __builtin_trap();
        }
    } else if (rc > 0 || t.access_token || t.expires_ms != 0) {
        __builtin_trap();
    }
    check_error(&err);
    sl_azure_token_release(&t);
}

static void fuzz_metrics(const sl_http_resp *resp, const char *metric)
{
    sl_kv kv[] = {{(char *)"metric", (char *)metric},
                  {(char *)"resource_group", (char *)"rg"},
                  {(char *)"subscription", (char *)"sub"},
                  {(char *)"vm", (char *)"vm"}};
    sl_service_spec svc = {(char *)"vm", SL_SVC_AZURE_VM, kv, 4};
    sl_objective_spec obj = {.name = (char *)"up", .interval_ms = 60000};
    sl_source_query q = {&svc, &obj, NULL, T0, T0 + N * 60000, T0 + 3600000};
    sl_sample s[N];
    sl_error err = {0};
    int rc;

    obj.metric = SL_METRIC_AVAILABILITY;
    for (size_t i = 0; i < N; i++)
        s[i].start_ms = T0 + (int64_t)i * 60000;
    sl_samples_unknown(s, N, "no datapoint");
    rc = sl_azure_metrics_parse(&q, resp, s, &err);
    for (size_t i = 0; i < N; i++) {
        if (s[i].start_ms != T0 + (int64_t)i * 60000 ||
            strnlen(s[i].reason, sizeof(s[i].reason)) >= sizeof(s[i].reason))
            __builtin_trap();
        if (s[i].known && (rc != 0 || s[i].value < 0 || s[i].value > SL_PPM_ONE))
            __builtin_trap();
        if (rc != 0 && strcmp(s[i].reason, "no datapoint") != 0)
            __builtin_trap();
    }
    if (rc > 0)
        __builtin_trap();
    check_error(&err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const long statuses[] = {200, 401};
    sl_http_resp resp;

    sl_http_resp_init(&resp);
    sl_buf_put(&resp.body, data, size);
    if (resp.body.err) {
        sl_http_resp_release(&resp);
        return 0;
    }
    for (size_t i = 0; i < 2; i++) {
        resp.status = statuses[i];
        fuzz_token(&resp);
        fuzz_metrics(&resp, "VmAvailabilityMetric");
        fuzz_metrics(&resp, "Percentage CPU");
    }
    sl_http_resp_release(&resp);
    return 0;
}
