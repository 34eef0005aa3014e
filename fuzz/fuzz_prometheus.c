/*
 * fuzz_prometheus.c: libFuzzer target for the Prometheus adapter's response reader
 * (sl_prometheus_parse), which reads whatever a Prometheus server, or anything answering in
 * its place, sends back. The bytes are the body of a 200 response, read once for every metric
 * over sixteen 1 s intervals from 1700000000 (so that seeds can hit the grid). Whatever the
 * bytes, the reader must either refuse them with an error message and leave every sample as
 * it was, or accept them with every known sample in its metric's range (fractions 0..1000000
 * ppm, times and throughput >= 0, checks 0 or 1) and every reason a terminated string; nothing
 * may crash, hang or leak (run under ASan+UBSan by `make fuzz`). Seeds live in
 * fuzz/corpus/prometheus/ (responses of a real Prometheus 2.42 and hand-made variants: error
 * envelopes, gaps, NaN and infinities, several series, scientific notation).
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "slaledger/oracle.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define N_INTERVALS 16
#define FROM_MS     1700000000000LL
#define IV_MS       1000LL

static const sl_metric metrics[] = {
    SL_METRIC_AVAILABILITY,    SL_METRIC_RESPONSE_TIME, SL_METRIC_THROUGHPUT,
    SL_METRIC_PROCESSING_TIME, SL_METRIC_DELAY,         SL_METRIC_ERROR_RATE,
    SL_METRIC_DURABILITY,
};

/* Traps unless a known value fits metric m. */
static void check_value(sl_metric m, int64_t v)
{
    if (m == SL_METRIC_AVAILABILITY || m == SL_METRIC_ERROR_RATE) {
        if (v < 0 || v > SL_PPM_ONE)
            __builtin_trap();
    } else if (sl_metric_is_check(m)) {
        if (v != 0 && v != 1)
            __builtin_trap();
    } else if (v < 0) {
        __builtin_trap();
    }
}

static void run(sl_metric m, const sl_http_resp *resp)
{
    sl_kv src = {"url", "http://127.0.0.1:9090"};
    sl_service_spec svc = {"api", SL_SVC_PROMETHEUS, &src, 1};
    sl_objective_spec obj = {0};
    sl_source_query q = {&svc, &obj, NULL, FROM_MS, FROM_MS + N_INTERVALS * IV_MS, FROM_MS};
    sl_sample s[N_INTERVALS], before[N_INTERVALS];
    sl_error err = {0};
    int rc;

    obj.name = "o";
    obj.metric = m;
    obj.interval_ms = IV_MS;
    obj.query = "up";
    memset(s, 0, sizeof(s));
    for (size_t i = 0; i < N_INTERVALS; i++)
        s[i].start_ms = FROM_MS + (int64_t)i * IV_MS;
    sl_samples_unknown(s, N_INTERVALS, "no datapoint");
    memcpy(before, s, sizeof(s));

    rc = sl_prometheus_parse(&q, resp, s, &err);
    if (rc != 0 && (err.msg[0] == '\0' || memcmp(before, s, sizeof(s)) != 0))
        __builtin_trap();
    for (size_t i = 0; i < N_INTERVALS; i++) {
        if (s[i].start_ms != before[i].start_ms ||
            strnlen(s[i].reason, sizeof(s[i].reason)) == sizeof(s[i].reason))
            __builtin_trap();
        if (s[i].known)
            check_value(m, s[i].value);
        else if (s[i].reason[0] == '\0')
            __builtin_trap();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sl_http_resp resp;

    sl_http_resp_init(&resp);
    resp.status = 200;
    sl_buf_put(&resp.body, data, size);
    if (resp.body.err == 0) {
        for (size_t i = 0; i < sizeof(metrics) / sizeof(metrics[0]); i++)
            run(metrics[i], &resp);
    }
    sl_http_resp_release(&resp);
    return 0;
}
