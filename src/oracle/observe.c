/*
 * observe.c: from observations (probe results, pushed measurements) to the value of one
 * interval in the objective's unit. Integer arithmetic only, so every oracle that saw the
 * same observations reports the same value. Thread-safety: reentrant.
 */
#include <stdlib.h>

#include "oracle/sched_int.h"

int sl__observe_can(sl_service_kind k, sl_metric m)
{
    sl_service_spec service = {.kind = k};
    sl_objective_spec obj = {.metric = m};

    /* What a probe or an agent's observations can give is the SLA layer's table; checks are
     * never read from observations. */
    if (k != SL_SVC_HTTP && k != SL_SVC_PUSH && k != SL_SVC_PROCESS_STEP)
        return 0;
    return !sl_metric_is_check(m) && sl_objective_measurable(&service, &obj, NULL) == 0;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* The field of o a time metric reads; -1 when it was not measured. */
static int64_t time_field(sl_metric m, const sl_observation *o)
{
    switch (m) {
    case SL_METRIC_RESPONSE_TIME:
        return o->response_ms;
    case SL_METRIC_PROCESSING_TIME:
        return o->processing_ms;
    default:
        return o->delay_ms;
    }
}

/* Nearest-rank percentile (p in milli-percent) of v[0..n), sorted here; the mean for p 0. */
static int64_t percentile(int64_t *v, size_t n, uint32_t p)
{
    if (p == 0) {
        int64_t sum = 0;
        for (size_t i = 0; i < n; i++)
            sum += v[i]; /* times are ms below 2^40 and n is small: no overflow */
        return sum / (int64_t)n;
    }
    qsort(v, n, sizeof(*v), cmp_i64);
    uint64_t rank = ((uint64_t)p * n + 99999) / 100000; /* ceil(p/100 % * n) */
    if (rank < 1)
        rank = 1;
    return v[rank > n ? n - 1 : rank - 1];
}

int sl__observe_value(sl_metric m, uint32_t percentile_milli, int64_t interval_ms,
                      const sl_observation *obs, size_t n, int64_t *scratch, int64_t *value,
                      char *reason, size_t reason_cap)
{
    size_t ok = 0, k = 0;

    for (size_t i = 0; i < n; i++)
        ok += obs[i].ok != 0;
    switch (m) {
    case SL_METRIC_AVAILABILITY:
        *value = (int64_t)(ok * 1000000 / n);
        return 1;
    case SL_METRIC_ERROR_RATE:
        *value = (int64_t)((n - ok) * 1000000 / n);
        return 1;
    case SL_METRIC_THROUGHPUT:
        *value = (int64_t)n * 1000000 / interval_ms;
        return 1;
    case SL_METRIC_RESPONSE_TIME:
    case SL_METRIC_PROCESSING_TIME:
    case SL_METRIC_DELAY:
        for (size_t i = 0; i < n; i++) {
            int64_t t = time_field(m, &obs[i]);
            if (obs[i].ok && t >= 0)
                scratch[k++] = t;
        }
        if (k == 0) {
            sl_strfmt(reason, reason_cap, "no successful observation measured %s",
                      sl_metric_name(m));
            return 0;
        }
        *value = percentile(scratch, k, percentile_milli);
        return 1;
    default:
        sl_strfmt(reason, reason_cap, "%s is not measured from observations", sl_metric_name(m));
        return 0;
    }
}
