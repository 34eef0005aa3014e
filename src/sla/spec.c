/*
 * spec.c: sl_sla_parse and sl_sla_parse_file, and the agreement-level fields of the model:
 * the document head (apiVersion, kind, metadata), the parties, period, fee, billing and grace.
 * The lists (services, oracles, objectives, penalties) are built by their own files and the
 * rules that span fields are applied by validate.c. The document head check and the file
 * reader are shared with channel documents (channel.c).
 *
 * sl_sla_parse owns one sl__build for the duration of the call: the document tree, the spec
 * under construction and the position tables; on failure all of it is freed and *out stays
 * NULL, on success only the spec survives and is handed to the caller.
 * Thread-safety: reentrant; sl_sla_parse_file does blocking file I/O before parsing.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "slaledger/util.h"

#include "sla_int.h"

#define FILE_MAX         (16u << 20) /* largest document file read */
#define DEFAULT_GRACE_MS (10 * SL_MS_PER_MINUTE)

static const char *const metadata_keys[] = {"name", "description", "labels", NULL};
static const char *const spec_keys[] = {"channel", "consumer",   "provider",  "period",
                                        "fee",     "billing",    "grace",     "services",
                                        "oracles", "objectives", "penalties", NULL};
static const char *const period_keys[] = {"start", "end", NULL};
static const char *const fee_keys[] = {"amount", "currency", "minor_units", NULL};

/* Labels are checked (a mapping of strings to strings) but not kept in the model. */
static void labels_check(sl__ctx *c, const sl__ynode *n, const char *path)
{
    char field[SL__PATH_MAX];
    sl__shown sh;

    if (n->type != SL__Y_MAP) {
        sl__error(c, n, SL_EINVAL, path, "expected a mapping of strings, found %s",
                  sl__found(n, &sh));
        return;
    }
    for (size_t i = 0; i + 1 < n->n; i += 2) {
        const sl__ynode *k = &n->kids[i], *v = &n->kids[i + 1];
        sl__path_key(field, path, k->text ? k->text : "");
        if (k->type != SL__Y_SCALAR || k->len == 0 || strlen(k->text) != k->len)
            sl__error(c, k, SL_EINVAL, field, "expected a non-empty label name, found %s",
                      sl__found(k, &sh));
        else if (v->type != SL__Y_SCALAR)
            sl__error(c, v, SL_EINVAL, field, "expected a label value string, found %s",
                      sl__found(v, &sh));
    }
}

static void metadata_parse(sl__build *b, const sl__ynode *n, const char *path)
{
    sl__field f;

    if (!sl__map_check(&b->ctx, n, path, metadata_keys))
        return;
    if (sl__field_get(&b->ctx, n, path, "name", 1, &f))
        sl__read_name(&b->ctx, f.node, f.path, "an agreement", &b->spec->name);
    if (sl__field_get(&b->ctx, n, path, "description", 0, &f))
        sl__read_text(&b->ctx, f.node, f.path, 0, &b->spec->description);
    if (sl__field_get(&b->ctx, n, path, "labels", 0, &f))
        labels_check(&b->ctx, f.node, f.path);
}

static void parties_parse(sl__build *b, const sl__ynode *n, const char *path)
{
    sl_agreement_spec *s = b->spec;
    sl__field f;

    if (sl__field_get(&b->ctx, n, path, "channel", 1, &f))
        sl__read_name(&b->ctx, f.node, f.path, "a channel", &s->channel);
    if (sl__field_get(&b->ctx, n, path, "consumer", 1, &f))
        sl__read_name(&b->ctx, f.node, f.path, "a consumer", &s->consumer);
    if (sl__field_get(&b->ctx, n, path, "provider", 1, &f) &&
        sl__read_name(&b->ctx, f.node, f.path, "a provider", &s->provider) == 0 && s->consumer &&
        strcmp(s->consumer, s->provider) == 0)
        sl__error(&b->ctx, f.node, SL_EINVAL, f.path,
                  "provider '%s' is also the consumer; an agreement needs two parties",
                  s->provider);
}

static void period_parse(sl__build *b, const sl__ynode *n, const char *path)
{
    sl__field fs, fe;
    int ok;
    char start[32], end[32];

    if (!sl__map_check(&b->ctx, n, path, period_keys))
        return;
    ok = sl__field_get(&b->ctx, n, path, "start", 1, &fs) &&
         sl__read_time(&b->ctx, fs.node, fs.path, &b->spec->start_ms) == 0;
    ok &= sl__field_get(&b->ctx, n, path, "end", 1, &fe) &&
          sl__read_time(&b->ctx, fe.node, fe.path, &b->spec->end_ms) == 0;
    if (!ok)
        return;
    b->period_start = fs.node;
    b->period_end = fe.node;
    if (b->spec->end_ms <= b->spec->start_ms) {
        sl_time_format(b->spec->start_ms, start, sizeof(start));
        sl_time_format(b->spec->end_ms, end, sizeof(end));
        sl__error(&b->ctx, fe.node, SL_EINVAL, fe.path, "period end %s is not after its start %s",
                  end, start);
        return;
    }
    b->period_ok = 1;
}

/* Reads fee.currency into spec->currency; returns its minor units from the table or -1. */
static int currency_parse(sl__build *b, const sl__ynode *n, const char *path, int *known)
{
    const char *s = sl__scalar(&b->ctx, n, path, "a currency code");
    sl__shown sh;

    if (!s)
        return -1;
    if (n->len != 3 || s[0] < 'A' || s[0] > 'Z' || s[1] < 'A' || s[1] > 'Z' || s[2] < 'A' ||
        s[2] > 'Z') {
        sl__error(&b->ctx, n, SL_EINVAL, path,
                  "expected a 3-letter upper-case ISO 4217 currency code such as EUR, found %s",
                  sl__show(s, n->len, &sh));
        return -1;
    }
    memcpy(b->spec->currency, s, 4);
    *known = sl_currency_minor_units(s);
    return 0;
}

/* Settles the fee's minor units from the table and minor_units; 0 when they are known. */
static int minor_units_parse(sl__build *b, const sl__ynode *fee, const char *path, int known,
                             const sl__ynode *cur_node)
{
    sl__field f;
    int64_t v;
    const char *cur = b->spec->currency;

    if (!sl__field_get(&b->ctx, fee, path, "minor_units", 0, &f)) {
        if (known < 0)
            sl__error(&b->ctx, cur_node, SL_EINVAL, f.path,
                      "currency %s is not in the built-in table; give minor_units (0..6)", cur);
        b->spec->minor_units = known < 0 ? 0 : (unsigned)known;
        return known < 0 ? -1 : 0;
    }
    if (sl__read_int(&b->ctx, f.node, f.path, 0, 6, &v) != 0)
        return -1;
    if (known >= 0 && v != known) {
        sl__error(&b->ctx, f.node, SL_EINVAL, f.path, "%s has %d minor units, not %lld", cur, known,
                  (long long)v);
        return -1;
    }
    b->spec->minor_units = (unsigned)v;
    return 0;
}

static void fee_parse(sl__build *b, const sl__ynode *n, const char *path)
{
    sl__field fc, fa;
    int known = -1, ok;
    int64_t scratch;

    if (!sl__map_check(&b->ctx, n, path, fee_keys))
        return;
    ok = sl__field_get(&b->ctx, n, path, "currency", 1, &fc) &&
         currency_parse(b, fc.node, fc.path, &known) == 0;
    ok = ok && minor_units_parse(b, n, path, known, fc.node) == 0;
    b->fee_ok = ok;
    if (!sl__field_get(&b->ctx, n, path, "amount", 1, &fa))
        return;
    /* Without known minor units the amount is still checked, at the largest scale. */
    sl__read_amount(&b->ctx, fa.node, fa.path, ok ? b->spec->minor_units : 6,
                    ok ? b->spec->currency : "the currency", ok ? &b->spec->fee : &scratch);
}

static void billing_grace_parse(sl__build *b, const sl__ynode *n, const char *path)
{
    sl_agreement_spec *s = b->spec;
    sl__field f;

    s->billing.kind = SL_WINDOW_PERIOD;
    b->billing_ok = 1;
    if (sl__field_get(&b->ctx, n, path, "billing", 0, &f)) {
        b->billing = f.node;
        b->billing_ok = sl__read_window(&b->ctx, f.node, f.path, &s->billing) == 0;
    }
    s->grace_ms = DEFAULT_GRACE_MS;
    if (sl__field_get(&b->ctx, n, path, "grace", 0, &f) &&
        sl__read_duration(&b->ctx, f.node, f.path, 1, &s->grace_ms) == 0)
        b->grace = f.node;
}

static void spec_parse(sl__build *b, const sl__ynode *n, const char *path)
{
    sl__field f;

    if (!sl__map_check(&b->ctx, n, path, spec_keys))
        return;
    parties_parse(b, n, path);
    if (sl__field_get(&b->ctx, n, path, "period", 1, &f))
        period_parse(b, f.node, f.path);
    if (sl__field_get(&b->ctx, n, path, "fee", 1, &f))
        fee_parse(b, f.node, f.path);
    billing_grace_parse(b, n, path);
    if (sl__field_get(&b->ctx, n, path, "services", 1, &f))
        sl__services_parse(b, f.node, f.path);
    if (sl__field_get(&b->ctx, n, path, "oracles", 1, &f))
        sl__oracles_parse(b, f.node, f.path);
    if (sl__field_get(&b->ctx, n, path, "objectives", 1, &f))
        sl__objectives_parse(b, f.node, f.path);
    if (sl__field_get(&b->ctx, n, path, "penalties", 0, &f))
        sl__penalties_parse(b, f.node, f.path);
    sl__validate(b);
}

static void metadata_cb(void *b, const sl__ynode *n, const char *path)
{
    metadata_parse(b, n, path);
}

static void spec_cb(void *b, const sl__ynode *n, const char *path)
{
    spec_parse(b, n, path);
}

static const sl__doc_kind agreement_kind = {"Agreement", metadata_cb, spec_cb};

int sl_sla_parse(const char *text, size_t len, const char *filename, sl_agreement_spec **out,
                 sl_diags *diags)
{
    sl__build b = {.ctx = {.diags = diags}};
    int rc;

    (void)filename; /* diagnostics carry positions; the caller adds the file name */
    if ((rc = sl__doc_args(&b.ctx, text, len, out)))
        return rc;
    b.spec = calloc(1, sizeof(*b.spec));
    if (!b.spec) {
        sl__nomem(&b.ctx);
        return SL_ENOMEM;
    }
    rc = sl__doc_parse(&b, text, len, &agreement_kind);
    free(b.obj_aux);
    free(b.pen_aux);
    if (rc != 0)
        sl_agreement_spec_free(b.spec);
    else
        *out = b.spec;
    return rc;
}

int sl__read_file(const char *path, sl_buf *buf, sl_diags *diags)
{
    char chunk[65536], why[128] = "";
    FILE *f = fopen(path, "rb");
    size_t n;
    int err = 0;

    if (!f)
        err = errno;
    errno = 0; /* so that a read error is not blamed on an older errno */
    while (f && (n = fread(chunk, 1, sizeof(chunk), f)) > 0 && buf->len <= FILE_MAX)
        sl_buf_put(buf, chunk, n);
    if (f && ferror(f))
        err = errno ? errno : EIO;
    if (f)
        fclose(f);
    if (err) {
        if (strerror_r(err, why, sizeof(why)) != 0)
            snprintf(why, sizeof(why), "error %d", err);
        sl_diags_add(diags, SL_EIO, 0, 0, "", "cannot read %s: %s", path, why);
        return SL_EIO;
    }
    if (buf->len > FILE_MAX) {
        sl_diags_add(diags, SL_EINVAL, 0, 0, "", "%s is larger than %u bytes", path, FILE_MAX);
        return SL_EINVAL;
    }
    if (buf->err) {
        sl_diags_add(diags, SL_ENOMEM, 0, 0, "", "out of memory reading %s", path);
        return SL_ENOMEM;
    }
    return 0;
}

int sl_sla_parse_file(const char *path, sl_agreement_spec **out, sl_diags *diags)
{
    sl_buf buf;
    int rc;

    if (out)
        *out = NULL;
    if (!path || !out) {
        sl_diags_add(diags, SL_EINVAL, 0, 0, "", "no file given");
        return SL_EINVAL;
    }
    sl_buf_init(&buf);
    rc = sl__read_file(path, &buf, diags);
    if (rc == 0)
        rc = sl_sla_parse((const char *)buf.p, buf.len, path, out, diags);
    sl_buf_release(&buf);
    return rc;
}
