/*
 * names.c: the words of the document format (service kinds, metrics, policies, unknown
 * policies; channel roles and ordering kinds), the enum <-> name mapping of sla.h, and the
 * built-in ISO 4217 currency table.
 *
 * The tables are indexed by the enum values of sla.h, so their order must follow the enums
 * (roles by bit number: sl__role_names[i] is the role 1 << i).
 * Everything here is constant data. Thread-safety: reentrant.
 */
#include <string.h>

#include "slaledger/sla.h"

#include "sla_int.h"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

const char *const sl__service_kind_names[] = {
    "aws.ec2", "azure.vm", "http", "prometheus", "push", "postgresql", "process-step",
};
const size_t sl__n_service_kinds = COUNT(sl__service_kind_names);

const char *const sl__metric_names[] = {
    "availability", "response_time", "throughput",      "processing_time", "delay",    "error_rate",
    "durability",   "integrity",     "confidentiality", "retention",       "deletion",
};
const size_t sl__n_metrics = COUNT(sl__metric_names);

const char *const sl__policy_names[] = {"median", "min", "max", "all-agree", "k-of-n"};
const size_t sl__n_policies = COUNT(sl__policy_names);

const char *const sl__unknown_names[] = {"exclude", "good", "bad"};
const size_t sl__n_unknowns = COUNT(sl__unknown_names);

const char *const sl__document_kinds[] = {"Agreement", "Channel", "Node", "Secrets", "Tokens"};
const size_t sl__n_document_kinds = COUNT(sl__document_kinds);

const char *const sl__role_names[] = {"consumer", "provider", "oracle",
                                      "auditor",  "issuer",   "node"};
const size_t sl__n_roles = COUNT(sl__role_names);

const char *const sl__order_kind_names[] = {"solo", "etcd"};
const size_t sl__n_order_kinds = COUNT(sl__order_kind_names);

int sl_metric_is_check(sl_metric m)
{
    return m >= SL_METRIC_DURABILITY && m <= SL_METRIC_DELETION;
}

int sl__metric_has_percentile(sl_metric m)
{
    return m == SL_METRIC_RESPONSE_TIME || m == SL_METRIC_PROCESSING_TIME || m == SL_METRIC_DELAY;
}

const char *sl_service_kind_name(sl_service_kind k)
{
    return (size_t)k < sl__n_service_kinds ? sl__service_kind_names[k] : "unknown";
}

const char *sl_metric_name(sl_metric m)
{
    return (size_t)m < sl__n_metrics ? sl__metric_names[m] : "unknown";
}

const char *sl_policy_name(sl_policy p)
{
    return (size_t)p < sl__n_policies ? sl__policy_names[p] : "unknown";
}

const char *sl_order_kind_name(sl_order_kind k)
{
    return (size_t)k < sl__n_order_kinds ? sl__order_kind_names[k] : "unknown";
}

const char *sl_role_name(sl_role r)
{
    for (size_t i = 0; i < sl__n_roles; i++) {
        if ((unsigned)r == 1u << i)
            return sl__role_names[i];
    }
    return NULL;
}

int sl_role_parse(const char *s, sl_role *out)
{
    for (size_t i = 0; s && i < sl__n_roles; i++) {
        if (strcmp(s, sl__role_names[i]) == 0) {
            *out = (sl_role)(1u << i);
            return 0;
        }
    }
    return SL_EINVAL;
}

/* ISO 4217 codes agreements commonly use, with their minor units. Others need minor_units. */
static const struct currency {
    char code[4];
    unsigned char minor;
} currencies[] = {
    {"AED", 2}, {"AUD", 2}, {"BHD", 3}, {"BRL", 2}, {"CAD", 2}, {"CHF", 2}, {"CNY", 2}, {"CZK", 2},
    {"DKK", 2}, {"EUR", 2}, {"GBP", 2}, {"HKD", 2}, {"HUF", 2}, {"ILS", 2}, {"INR", 2}, {"JOD", 3},
    {"JPY", 0}, {"KRW", 0}, {"KWD", 3}, {"MXN", 2}, {"NOK", 2}, {"NZD", 2}, {"OMR", 3}, {"PLN", 2},
    {"SAR", 2}, {"SEK", 2}, {"SGD", 2}, {"TND", 3}, {"TRY", 2}, {"USD", 2}, {"ZAR", 2},
};

int sl_currency_minor_units(const char *code)
{
    for (size_t i = 0; i < COUNT(currencies); i++) {
        if (strcmp(currencies[i].code, code) == 0)
            return currencies[i].minor;
    }
    return -1;
}
