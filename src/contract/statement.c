/*
 * statement.c: an agreement's statement as JSON: what was promised, what was measured per
 * window, and where the money went. Final once the agreement is closed.
 *
 * Every string written here is a validated name, a formatted number or a fixed word, so no
 * JSON escaping is needed. Amounts are decimal strings in the currency's units ("12.50"),
 * ratios percentage strings ("99.95%"), times RFC 3339.
 */
#include "contract/contract_int.h"

/* Writes ,"key":"12.50": amounts always follow another member. */
static void put_amount(sl_buf *b, const char *key, int64_t v, unsigned scale)
{
    char s[32];
    sl_decimal_format(v, scale, s, sizeof(s));
    sl_buf_printf(b, ",\"%s\":\"%s\"", key, s);
}

static void put_span(sl_buf *b, int64_t start, int64_t end)
{
    char s[32], e[32];
    sl_time_format(start, s, sizeof(s));
    sl_time_format(end, e, sizeof(e));
    sl_buf_printf(b, "\"start\":\"%s\",\"end\":\"%s\"", s, e);
}

static const char *unit_of(sl_metric m)
{
    switch (m) {
    case SL_METRIC_AVAILABILITY:
    case SL_METRIC_ERROR_RATE:
        return "ppm";
    case SL_METRIC_THROUGHPUT:
        return "mreq/s";
    case SL_METRIC_RESPONSE_TIME:
    case SL_METRIC_PROCESSING_TIME:
    case SL_METRIC_DELAY:
        return "ms";
    default:
        return "pass";
    }
}

static void put_window(sl_buf *b, const sl__objective *o, const sl__window *w, unsigned scale)
{
    int64_t g, bad, r;
    sl__effective_counts(o, w, &g, &bad, &r);
    sl_buf_printf(b, "{");
    put_span(b, w->start_ms, w->end_ms);
    sl_buf_printf(b,
                  ",\"intervals\":%lld,\"good\":%lld,\"bad\":%lld,\"unknown\":%lld,"
                  "\"violations\":%lld,\"compliance\":",
                  (long long)w->intervals, (long long)w->good, (long long)w->bad,
                  (long long)w->unknown, (long long)w->violations);
    if (g + bad > 0) {
        char pct[32];
        sl_ppm_format(g * SL_PPM_ONE / (g + bad), pct, sizeof(pct));
        sl_buf_printf(b, "\"%s\"", pct);
    } else {
        sl_buf_printf(b, "null");
    }
    put_amount(b, "share", w->share, scale);
    put_amount(b, "owed", w->owed, scale);
    put_amount(b, "paid", w->paid, scale);
    if (w->tier >= 0)
        sl_buf_printf(b, ",\"tier\":%d", w->tier);
    sl_buf_printf(b, ",\"closed\":%s}", w->closed ? "true" : "false");
}

static void put_objectives(sl_buf *b, const sl__agreement *a)
{
    unsigned scale = a->spec->minor_units;
    sl_buf_printf(b, ",\"objectives\":[");
    for (size_t i = 0; a->objs && i < a->spec->n_objectives; i++) {
        const sl__objective *o = &a->objs[i];
        sl_buf_printf(b,
                      "%s{\"name\":\"%s\",\"metric\":\"%s\",\"target\":%lld,\"unit\":\"%s\","
                      "\"windows\":[",
                      i ? "," : "", o->spec->name, sl_metric_name(o->spec->metric),
                      (long long)o->spec->target, unit_of(o->spec->metric));
        for (int64_t k = 0; k < o->n_wins; k++) {
            if (k)
                sl_buf_printf(b, ",");
            put_window(b, o, &o->wins[k], scale);
        }
        sl_buf_printf(b, "]}");
    }
    sl_buf_printf(b, "]");
}

static void put_billing(sl_buf *b, const sl__agreement *a, int64_t *shortfall)
{
    unsigned scale = a->spec->minor_units;
    sl_buf_printf(b, ",\"billing\":[");
    for (int64_t k = 0; k < a->n_bills; k++) {
        const sl__bill *bl = &a->bills[k];
        sl_buf_printf(b, "%s{", k ? "," : "");
        put_span(b, bl->start_ms, bl->end_ms);
        put_amount(b, "share", bl->alloc, scale);
        put_amount(b, "penalties", bl->penalties, scale);
        put_amount(b, "settled", bl->settled, scale);
        sl_buf_printf(b, ",\"closed\":%s}", bl->closed ? "true" : "false");
        if (bl->closed)
            *shortfall += bl->alloc - bl->penalties - bl->settled;
    }
    sl_buf_printf(b, "]");
}

int sl_contract_statement(const sl_contract *c, const char *agreement, sl_buf *out)
{
    const sl__agreement *a = sl__agreement_find(c, agreement);
    if (!a)
        return SL_ENOENT;
    const sl_agreement_spec *s = a->spec;
    unsigned scale = s->minor_units;
    int64_t shortfall = 0;
    sl_buf_printf(out,
                  "{\"agreement\":\"%s\",\"status\":\"%s\",\"channel\":\"%s\","
                  "\"consumer\":\"%s\",\"provider\":\"%s\",\"period\":{",
                  s->name, sl_agreement_status_name(a->status), s->channel, s->consumer,
                  s->provider);
    put_span(out, s->start_ms, s->end_ms);
    sl_buf_printf(out, "},\"currency\":\"%s\"", s->currency);
    put_amount(out, "fee", s->fee, scale);
    put_amount(out, "deposited", a->deposited, scale);
    put_amount(out, "penalties", a->penalties, scale);
    put_amount(out, "settled", a->settled, scale);
    put_amount(out, "refunded", a->refunded, scale);
    put_amount(out, "escrow", a->escrow, scale);
    put_billing(out, a, &shortfall);
    put_amount(out, "shortfall", shortfall, scale);
    put_objectives(out, a);
    sl_buf_printf(out, "}");
    return out->err;
}
