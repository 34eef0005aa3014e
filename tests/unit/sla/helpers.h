/*
 * helpers.h: shared by the sla tests: read a file of the source tree (SL_SOURCE_DIR), parse a
 * document while printing its diagnostics, and make a variant of a document by replacing one
 * unique piece of text. Included by each test file (static functions; not every test uses all).
 */
#ifndef SL_TEST_SLA_HELPERS_H
#define SL_TEST_SLA_HELPERS_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "slaledger/sla.h"
#include "slaledger/util.h"

/* A path under the source tree; the caller frees it. */
static __attribute__((unused)) char *th_source_path(const char *rel)
{
    const char *root = getenv("SL_SOURCE_DIR");
    size_t n;
    char *p;

    if (!root)
        root = ".";
    n = strlen(root) + strlen(rel) + 2;
    p = malloc(n);
    assert_non_null(p);
    snprintf(p, n, "%s/%s", root, rel);
    return p;
}

static __attribute__((unused)) void th_print_diags(const char *what, const sl_diags *d)
{
    for (size_t i = 0; i < d->n; i++)
        fprintf(stderr, "%s:%d:%d: %s: %s\n", what, d->v[i].line, d->v[i].column, d->v[i].field,
                d->v[i].msg);
}

/* Parses examples/<name> (or any path under the source tree) and requires success. */
static __attribute__((unused)) sl_agreement_spec *th_parse_source_file(const char *rel)
{
    char *path = th_source_path(rel);
    sl_agreement_spec *spec = NULL;
    sl_diags d = {0};
    int rc = sl_sla_parse_file(path, &spec, &d);

    th_print_diags(rel, &d);
    assert_int_equal(rc, 0);
    assert_int_equal(d.n, 0);
    assert_non_null(spec);
    sl_diags_release(&d);
    free(path);
    return spec;
}

/* Parses text and requires success. */
static __attribute__((unused)) sl_agreement_spec *th_parse_ok(const char *text)
{
    sl_agreement_spec *spec = NULL;
    sl_diags d = {0};
    int rc = sl_sla_parse(text, strlen(text), "test.yaml", &spec, &d);

    th_print_diags("test.yaml", &d);
    assert_int_equal(rc, 0);
    assert_non_null(spec);
    sl_diags_release(&d);
    return spec;
}

/* A copy of doc with its one occurrence of `from` replaced by `to` (NULL if not exactly one). */
static __attribute__((unused)) char *th_replace(const char *doc, const char *from, const char *to)
{
    const char *at = strstr(doc, from);
    size_t n;
    char *out;

    if (!at || strstr(at + 1, from))
        return NULL;
    n = strlen(doc) - strlen(from) + strlen(to) + 1;
    out = malloc(n);
    assert_non_null(out);
    snprintf(out, n, "%.*s%s%s", (int)(at - doc), doc, to, at + strlen(from));
    return out;
}

/* doc with "PERIOD" set to the day from the start of this hour, so a document needs no
 * calendar date (the parser does not read the clock; the rule is that tests never name one).
 * Caller frees. */
static __attribute__((unused)) char *th_with_period(const char *doc)
{
    char start[40], end[40], period[100];
    int64_t hour = time(NULL) / 3600 * 3600000LL;

    sl_time_format(hour, start, sizeof(start));
    sl_time_format(hour + 86400000LL, end, sizeof(end));
    snprintf(period, sizeof(period), "{start: %s, end: %s}", start, end);
    return th_replace(doc, "PERIOD", period);
}

#endif
