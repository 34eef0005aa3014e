/*
 * target.c: an objective's target ("<op> <value>") and percentile, in the metric's unit.
 *
 * Each metric has one comparison: availability and throughput must stay at or above their
 * target (">="), times and error rates at or below it ("<="); check metrics pass or fail and
 * are stored as ">= 1". A target written with the wrong operator is refused with the right one
 * named, since "<= 99.95%" availability would invert the promise. Values are exact integers:
 * ppm for percentages, milliseconds for times, milli-requests per second for throughput.
 * Thread-safety: reentrant.
 */
#include <string.h>

#include "slaledger/util.h"

#include "sla_int.h"

#define PERCENTILE_MAX_MILLI 100000 /* 100 %, exclusive */

/* A target's parts: the operator and the value text, both borrowed from the scalar. */
typedef struct target_text {
    const char *op;
    size_t op_len;
    const char *val;
    size_t val_len;
} target_text;

static int is_space(char ch)
{
    return ch == ' ' || ch == '\t';
}

static void target_split(const char *s, size_t len, target_text *t)
{
    size_t i = 0;

    while (i < len && is_space(s[i]))
        i++;
    t->op = s + i;
    while (i < len && strchr("<>=!", s[i]))
        i++;
    t->op_len = (size_t)(s + i - t->op);
    while (i < len && is_space(s[i]))
        i++;
    while (len > i && is_space(s[len - 1]))
        len--;
    t->val = s + i;
    t->val_len = len - i;
}

static sl_cmp metric_cmp(sl_metric m)
{
    return m == SL_METRIC_AVAILABILITY || m == SL_METRIC_THROUGHPUT ? SL_CMP_GE : SL_CMP_LE;
}

/* How the target of metric m is written, for messages. */
static const char *target_form(sl_metric m)
{
    switch (m) {
    case SL_METRIC_AVAILABILITY:
        return "'>= P%' such as '>= 99.95%'";
    case SL_METRIC_ERROR_RATE:
        return "'<= P%' such as '<= 0.1%'";
    case SL_METRIC_THROUGHPUT:
        return "'>= N/s' such as '>= 100/s' or '>= 100 req/s'";
    default:
        return "'<= duration' such as '<= 300ms' or '<= 2s'";
    }
}

/* "100/s", "100 req/s", "0.5req/s" -> milli-requests per second. */
static int rate_parse(const char *s, size_t len, int64_t *out)
{
    if (len < 2 || memcmp(s + len - 2, "/s", 2) != 0)
        return SL_EINVAL;
    len -= 2;
    if (len >= 3 && memcmp(s + len - 3, "req", 3) == 0)
        len -= 3;
    while (len > 0 && is_space(s[len - 1]))
        len--;
    if (len == 0 || s[0] == '-')
        return SL_EINVAL;
    return sl_decimal_parse(s, len, 3, out);
}

/* Converts the value text for metric m; reports and returns non-zero on a problem. */
static int target_value(sl__ctx *c, const sl__ynode *n, const char *path, sl_metric m,
                        const target_text *t, int64_t *out)
{
    int rc;
    sl__shown sh;
    const char *name = sl_metric_name(m);

    sl__show(t->val, t->val_len, &sh);
    if (m == SL_METRIC_AVAILABILITY || m == SL_METRIC_ERROR_RATE)
        rc = sl_percent_parse(t->val, t->val_len, out);
    else if (m == SL_METRIC_THROUGHPUT)
        rc = rate_parse(t->val, t->val_len, out);
    else
        rc = sl_duration_parse(t->val, t->val_len, out);
    if (rc == 0 && m == SL_METRIC_THROUGHPUT && *out <= 0)
        rc = SL_EINVAL;
    if (rc != 0) {
        sl__error(c, n, rc == SL_EOVERFLOW ? SL_EOVERFLOW : SL_EINVAL, path,
                  "expected a %s target written %s, found value %s", name, target_form(m), sh.s);
        return -1;
    }
    if ((m == SL_METRIC_AVAILABILITY || m == SL_METRIC_ERROR_RATE) && *out > SL_PPM_ONE) {
        sl__error(c, n, SL_EINVAL, path, "impossible target: %s %s is above 100%%", name, sh.s);
        return -1;
    }
    return 0;
}

/* Check metrics: the target is omitted or "pass"; stored as ">= 1". */
static int check_target(sl__ctx *c, const sl__ynode *n, const char *path, sl_cmp *cmp,
                        int64_t *target)
{
    const char *s = n ? sl__scalar(c, n, path, "'pass'") : "pass";
    sl__shown sh;

    if (!s)
        return -1;
    if (strcmp(s, "pass") != 0) {
        sl__error(c, n, SL_EINVAL, path,
                  "the target of a check objective is 'pass' (or omitted), found %s",
                  sl__show(s, n->len, &sh));
        return -1;
    }
    *cmp = SL_CMP_GE;
    *target = 1;
    return 0;
}

int sl__read_target(sl__ctx *c, const sl__ynode *n, const char *path, sl_metric m, sl_cmp *cmp,
                    int64_t *target)
{
    const char *s, *want;
    target_text t;
    int64_t v;
    sl__shown sh;

    if (sl_metric_is_check(m))
        return check_target(c, n, path, cmp, target);
    s = sl__scalar(c, n, path, "a target");
    if (!s)
        return -1;
    target_split(s, n->len, &t);
    want = metric_cmp(m) == SL_CMP_GE ? ">=" : "<=";
    if (t.op_len == 0) {
        sl__error(c, n, SL_EINVAL, path, "expected a %s target written %s, found %s",
                  sl_metric_name(m), target_form(m), sl__show(s, n->len, &sh));
        return -1;
    }
    if (t.op_len != 2 || memcmp(t.op, want, 2) != 0) {
        sl__error(c, n, SL_EINVAL, path, "wrong operator %s for %s: its target must be written %s",
                  sl__show(t.op, t.op_len, &sh), sl_metric_name(m), target_form(m));
        return -1;
    }
    if (target_value(c, n, path, m, &t, &v) != 0)
        return -1;
    *cmp = metric_cmp(m);
    *target = v;
    return 0;
}

int sl__read_percentile(sl__ctx *c, const sl__ynode *n, const char *path, uint32_t *out)
{
    const char *s = sl__scalar(c, n, path, "a percentile");
    int64_t v = 0;
    sl__shown sh;

    if (!s)
        return -1;
    if (s[0] == '-' || sl_decimal_parse(s, n->len, 3, &v) != 0 || v <= 0 ||
        v >= PERCENTILE_MAX_MILLI) {
        sl__error(c, n, SL_EINVAL, path,
                  "expected a percentile above 0 and below 100 with at most 3 decimals, such as "
                  "95 or 99.9, found %s",
                  sl__show(s, n->len, &sh));
        return -1;
    }
    *out = (uint32_t)v;
    return 0;
}
