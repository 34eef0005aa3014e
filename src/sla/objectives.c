/*
 * objectives.c: spec.objectives, the measurable promises.
 *
 * Each objective is resolved against the services and oracles parsed before it (names become
 * indices and bit masks) and every quantity is converted to the metric's unit (see sla.h).
 * Defaults: good 100 % (availability), unknown exclude, the agreement's oracles, policy and
 * quorum. Which fields parsed is recorded in b->obj_aux for the grid and window rules of
 * validate.c. Thread-safety: reentrant.
 */
#include <stdlib.h>
#include <string.h>

#include "slaledger/util.h"

#include "sla_int.h"

static const char *const objective_keys[] = {
    "name",   "service", "metric",  "percentile", "interval", "window",
    "target", "good",    "unknown", "oracles",    "query",    NULL,
};

static void objective_name(sl__build *b, const sl__ynode *n, const char *path, size_t i)
{
    sl_objective_spec *o = &b->spec->objectives[i];
    sl__field f;

    if (!sl__field_get(&b->ctx, n, path, "name", 1, &f) ||
        sl__read_name(&b->ctx, f.node, f.path, "an objective", &o->name) != 0)
        return;
    for (size_t k = 0; k < i; k++) {
        if (b->spec->objectives[k].name && strcmp(b->spec->objectives[k].name, o->name) == 0) {
            sl__error(&b->ctx, f.node, SL_EINVAL, f.path,
                      "duplicate objective name '%s' (also spec.objectives[%zu])", o->name, k);
            return;
        }
    }
}

/* Resolves the objective's service; 0 when it names one of the agreement's services. */
static int objective_service(sl__build *b, const sl__ynode *n, const char *path,
                             sl_objective_spec *o)
{
    const sl_agreement_spec *s = b->spec;
    char *name = NULL, known[160] = "";
    size_t at = 0;
    long k;
    sl__field f;

    if (!sl__field_get(&b->ctx, n, path, "service", s->n_services > 1, &f))
        return s->n_services == 1 && b->services_ok ? 0 : -1;
    if (sl__read_name(&b->ctx, f.node, f.path, "a service", &name) != 0)
        return -1;
    k = sl__service_index(s, name);
    if (k < 0 && b->services_ok) {
        for (size_t i = 0; i < s->n_services; i++)
            sl__join(known, sizeof(known), &at, s->services[i].name);
        sl__error(&b->ctx, f.node, SL_EINVAL, f.path,
                  "unknown service '%s'; the agreement's services are: %s", name, known);
    }
    free(name);
    if (k < 0)
        return -1;
    o->service = (uint32_t)k;
    return 0;
}

static int objective_metric(sl__build *b, const sl__ynode *n, const char *path,
                            sl_objective_spec *o)
{
    sl__field f;
    int m;

    if (!sl__field_get(&b->ctx, n, path, "metric", 1, &f) ||
        sl__read_enum(&b->ctx, f.node, f.path, "metric", sl__metric_names, sl__n_metrics, &m) != 0)
        return -1;
    o->metric = (sl_metric)m;
    return 0;
}

/* percentile is optional and only for time metrics; metric_ok says o->metric is known. */
static int objective_percentile(sl__build *b, const sl__ynode *n, const char *path,
                                sl_objective_spec *o, int metric_ok)
{
    sl__field f;

    if (!sl__field_get(&b->ctx, n, path, "percentile", 0, &f))
        return 0;
    if (metric_ok && !sl__metric_has_percentile(o->metric)) {
        sl__error(&b->ctx, f.node, SL_EINVAL, f.path,
                  "percentile applies only to response_time, processing_time and delay, "
                  "not to %s",
                  sl_metric_name(o->metric));
        return -1;
    }
    return sl__read_percentile(&b->ctx, f.node, f.path, &o->percentile_milli);
}

/* interval and window; records their nodes for validate.c. 0 when both parsed. */
static int objective_grid(sl__build *b, const sl__ynode *n, const char *path, sl_objective_spec *o,
                          sl__obj_aux *aux)
{
    sl__field f;
    int ok = 1;

    if (!sl__field_get(&b->ctx, n, path, "interval", 1, &f) ||
        sl__read_duration(&b->ctx, f.node, f.path, 0, &o->interval_ms) != 0) {
        ok = 0;
    } else if (o->interval_ms < SL_MIN_INTERVAL_MS) {
        sl__error(&b->ctx, f.node, SL_EINVAL, f.path,
                  "interval %s is shorter than the minimum of 1s", f.node->text);
        ok = 0;
    }
    aux->interval = f.node;
    if (!sl__field_get(&b->ctx, n, path, "window", 1, &f) ||
        sl__read_window(&b->ctx, f.node, f.path, &o->window) != 0)
        ok = 0;
    aux->window = f.node;
    return ok ? 0 : -1;
}

/* target and good, which depend on the metric. */
static void objective_target(sl__build *b, const sl__ynode *n, const char *path,
                             sl_objective_spec *o)
{
    sl__field f;
    int check = sl_metric_is_check(o->metric);

    if (sl__field_get(&b->ctx, n, path, "target", !check, &f) || check)
        sl__read_target(&b->ctx, f.node, f.path, o->metric, &o->cmp, &o->target);
    o->good_ppm = o->metric == SL_METRIC_AVAILABILITY ? SL_PPM_ONE : 0;
    if (!sl__field_get(&b->ctx, n, path, "good", 0, &f))
        return;
    if (o->metric != SL_METRIC_AVAILABILITY)
        sl__error(&b->ctx, f.node, SL_EINVAL, f.path,
                  "good applies only to availability objectives, not to %s",
                  sl_metric_name(o->metric));
    else
        sl__read_percent(&b->ctx, f.node, f.path, 1, &o->good_ppm);
}

static void objective_rest(sl__build *b, const sl__ynode *n, const char *path, sl_objective_spec *o)
{
    sl__field f;
    int u;

    o->unknown = SL_UNKNOWN_EXCLUDE;
    if (sl__field_get(&b->ctx, n, path, "unknown", 0, &f) &&
        sl__read_enum(&b->ctx, f.node, f.path, "unknown policy", sl__unknown_names, sl__n_unknowns,
                      &u) == 0)
        o->unknown = (sl_unknown_policy)u;
    sl__field_get(&b->ctx, n, path, "oracles", 0, &f);
    sl__objective_oracles(b, o, f.node, f.path);
    if (sl__field_get(&b->ctx, n, path, "query", 0, &f))
        sl__read_text(&b->ctx, f.node, f.path, 0, &o->query);
}

/* The objective's metric must be one its service's source can give: an agreement that no
 * oracle can measure is refused, at the objective's metric. */
static void objective_measurable(sl__build *b, const sl__ynode *n, const char *path,
                                 const sl_objective_spec *o)
{
    sl_error e = {0};
    sl__field f;

    if (!b->source_ok[o->service] ||
        sl_objective_measurable(&b->spec->services[o->service], o, &e) == 0)
        return;
    if (!sl__field_get(&b->ctx, n, path, "metric", 1, &f))
        return;
    sl__error(&b->ctx, f.node, SL_EINVAL, f.path, "%s", e.msg);
}

static void objective_parse(sl__build *b, const sl__ynode *n, const char *path, size_t i)
{
    sl_objective_spec *o = &b->spec->objectives[i];
    sl__obj_aux *aux = &b->obj_aux[i];
    int service_ok, metric_ok, percentile_ok;

    aux->node = n;
    if (!sl__map_check(&b->ctx, n, path, objective_keys))
        return;
    objective_name(b, n, path, i);
    service_ok = objective_service(b, n, path, o) == 0;
    metric_ok = objective_metric(b, n, path, o) == 0;
    aux->metric_ok = metric_ok;
    percentile_ok = objective_percentile(b, n, path, o, metric_ok) == 0;
    aux->grid_ok = objective_grid(b, n, path, o, aux) == 0;
    if (metric_ok)
        objective_target(b, n, path, o);
    objective_rest(b, n, path, o);
    if (service_ok && metric_ok)
        objective_measurable(b, n, path, o);
    aux->overlap_ok = service_ok && metric_ok && percentile_ok;
}

void sl__objectives_parse(sl__build *b, const sl__ynode *n, const char *path)
{
    char item[SL__PATH_MAX];
    size_t count;

    if (!sl__list_check(&b->ctx, n, path, SL_MAX_OBJECTIVES, 1))
        return;
    count = n->n < SL_MAX_OBJECTIVES ? n->n : SL_MAX_OBJECTIVES;
    b->spec->objectives = calloc(count ? count : 1, sizeof(*b->spec->objectives));
    b->obj_aux = calloc(count ? count : 1, sizeof(*b->obj_aux));
    if (!b->spec->objectives || !b->obj_aux) {
        sl__nomem(&b->ctx);
        return;
    }
    b->spec->n_objectives = count;
    for (size_t i = 0; i < count; i++) {
        sl__path_index(item, path, i);
        objective_parse(b, &n->kids[i], item, i);
    }
}
