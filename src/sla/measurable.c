/*
 * measurable.c: which metrics each kind of source can measure, the one table that both the
 * parser (an agreement nobody can measure is refused) and the oracle adapters (which pick how
 * to read a metric) consult.
 *
 * The table follows what each source publishes (docs/oracles.md): CloudWatch gives EC2
 * availability from any metric and an error rate from a percentage metric; Azure Monitor VM
 * availability; Prometheus whatever the objective's query returns; an HTTP probe sees up/down,
 * its own response time and its failures; pushed observations give every interval metric; a
 * database is checked (canary rows, checksums), not measured over intervals. Check metrics
 * (durability .. deletion) are reported by check oracles, which run the checks themselves, so
 * every kind accepts them (a Prometheus query may give them too). Pure functions over constant
 * data. Thread-safety: reentrant.
 */
#include <string.h>

#include "slaledger/sla.h"

#include "sla_int.h"

#define M(x)   (1u << SL_METRIC_##x)
#define CHECKS (M(DURABILITY) | M(INTEGRITY) | M(CONFIDENTIALITY) | M(RETENTION) | M(DELETION))
#define INTERVALS                                                                                  \
    (M(AVAILABILITY) | M(RESPONSE_TIME) | M(THROUGHPUT) | M(PROCESSING_TIME) | M(DELAY) |          \
     M(ERROR_RATE))

typedef struct kind_metrics {
    unsigned metrics; /* bit mask over sl_metric */
    const char *gives;
} kind_metrics;

/* Indexed by sl_service_kind. aws.ec2's error rate also needs a percentage metric. Checks are
 * not read from a source: check oracles run them and report pass or fail, for any kind. */
static const kind_metrics table[] = {
    {M(AVAILABILITY) | M(ERROR_RATE) | CHECKS, "availability (any metric) and error_rate"},
    {M(AVAILABILITY) | CHECKS, "availability only"},
    {M(AVAILABILITY) | M(RESPONSE_TIME) | M(ERROR_RATE) | CHECKS,
     "availability, response_time and error_rate"},
    {INTERVALS | CHECKS, "every metric"},
    {INTERVALS | CHECKS, "every metric"},
    {CHECKS, "no interval metrics: a database is checked (durability, integrity, ...)"},
    {INTERVALS | CHECKS, "every metric"},
};

/* CloudWatch metrics in percent, which read as an error rate (their Average, as ppm). */
static const char *const cloudwatch_percent[] = {"CPUUtilization", "EBSIOBalance%",
                                                 "EBSByteBalance%"};

#define DEFAULT_CLOUDWATCH_METRIC "StatusCheckFailed"

static const char *source_value(const sl_service_spec *s, const char *key)
{
    for (size_t i = 0; i < s->n_source; i++) {
        if (strcmp(s->source[i].key, key) == 0)
            return s->source[i].value;
    }
    return NULL;
}

const char *sl_cloudwatch_metric(const sl_service_spec *s)
{
    const char *m = s ? source_value(s, "metric") : NULL;

    return m && *m ? m : DEFAULT_CLOUDWATCH_METRIC;
}

int sl_cloudwatch_metric_is_percent(const char *metric)
{
    for (size_t i = 0; metric && i < sizeof(cloudwatch_percent) / sizeof(*cloudwatch_percent);
         i++) {
        if (strcmp(metric, cloudwatch_percent[i]) == 0)
            return 1;
    }
    return 0;
}

/* aws.ec2: which metric answers depends on source.metric. */
static int cloudwatch_measures(const sl_service_spec *s, const sl_objective_spec *o,
                               const char *name, sl_error *err)
{
    const char *metric = sl_cloudwatch_metric(s);

    if (o->metric == SL_METRIC_AVAILABILITY || sl_metric_is_check(o->metric) ||
        (o->metric == SL_METRIC_ERROR_RATE && sl_cloudwatch_metric_is_percent(metric)))
        return 0;
    return sl_error_set(err, SL_EINVAL, "metric",
                        "CloudWatch metric %s cannot measure objective %s (%s): CloudWatch gives "
                        "availability (any metric) and error_rate (CPUUtilization, EBSIOBalance%%, "
                        "EBSByteBalance%%)",
                        metric, name, sl_metric_name(o->metric));
}

int sl_objective_measurable(const sl_service_spec *s, const sl_objective_spec *o, sl_error *err)
{
    const char *name = o && o->name ? o->name : "?";

    if (!s || !o || (size_t)s->kind >= sizeof(table) / sizeof(*table) ||
        (size_t)o->metric >= sl__n_metrics)
        return sl_error_set(err, SL_EINVAL, NULL, "no service or objective");
    if (s->kind == SL_SVC_AWS_EC2)
        return cloudwatch_measures(s, o, name, err);
    if (table[s->kind].metrics & (1u << o->metric))
        return 0;
    return sl_error_set(
        err, SL_EINVAL, "metric",
        "a service of kind %s cannot measure objective %s (%s): its source gives %s",
        sl_service_kind_name(s->kind), name, sl_metric_name(o->metric), table[s->kind].gives);
}
