/*
 * fuzz_cloudwatch.c: libFuzzer target for the CloudWatch response parser
 * (sl_cloudwatch_parse), which reads whatever a network peer sends as a GetMetricData answer.
 * The input is the response body, read twice: as an HTTP 200 answer for an availability
 * objective and for an error-rate objective (a percentage metric), and as an HTTP 400 error.
 * Any input must either be refused with a code, a message and untouched samples and no token,
 * or fill samples that keep the promises of oracle.h: known values within the unit's range,
 * unknown ones with a reason, start times unchanged, a NextToken that is a string. Seeds live
 * in fuzz/corpus/cloudwatch/. Runs under ASan+UBSan by `make fuzz`.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "slaledger/oracle.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_MAX_LEN (1u << 20)
#define N            16
/* 2026-12-01T00:00:00Z, the start the seeds' timestamps (1796083200 s on) are written for. */
#define FROM_MS 1796083200000LL

static void run(const uint8_t *data, size_t size, long status, sl_metric m, const char *metric)
{
    sl_kv kv[] = {{"instance", "i-0abc"}, {"metric", (char *)metric}, {"region", "eu-west-1"}};
    sl_service_spec svc = {.name = "vm", .kind = SL_SVC_AWS_EC2, .source = kv, .n_source = 3};
    sl_objective_spec obj = {.name = "o", .metric = m, .interval_ms = 60000};
    sl_source_query q = {.service = &svc,
                         .objective = &obj,
                         .from_ms = FROM_MS,
                         .to_ms = FROM_MS + N * 60000,
                         .now_ms = FROM_MS + N * 60000};
    int64_t max = SL_PPM_ONE;
    sl_sample s[N], before[N];
    sl_http_resp resp;
    char *token = NULL;
    sl_error err = {0};
    int rc;

    for (size_t i = 0; i < N; i++)
        s[i].start_ms = FROM_MS + (int64_t)i * 60000;
    sl_samples_unknown(s, N, "no datapoint");
    memcpy(before, s, sizeof(s));
    sl_http_resp_init(&resp);
    resp.status = status;
    sl_buf_put(&resp.body, data, size);
    rc = sl_cloudwatch_parse(&q, &resp, s, &token, &err);
    if (rc != 0 && (token || err.code != rc || !err.msg[0] || memcmp(before, s, sizeof(s)) != 0))
        __builtin_trap();
    for (size_t i = 0; i < N; i++) {
        if (s[i].start_ms != before[i].start_ms || !memchr(s[i].reason, 0, sizeof(s[i].reason)))
            __builtin_trap();
        if (s[i].known ? (s[i].value < 0 || s[i].value > max) : !s[i].reason[0])
            __builtin_trap();
    }
    if (token && strlen(token) > size)
        __builtin_trap();
    free(token);
    sl_http_resp_release(&resp);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > FUZZ_MAX_LEN)
        return 0;
    run(data, size, 200, SL_METRIC_AVAILABILITY, "StatusCheckFailed");
    run(data, size, 200, SL_METRIC_ERROR_RATE, "CPUUtilization");
    run(data, size, 400, SL_METRIC_AVAILABILITY, "StatusCheckFailed");
    return 0;
}
