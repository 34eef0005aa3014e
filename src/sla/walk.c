/*
 * walk.c: diagnostics and checked readers over the document tree of yaml.c.
 *
 * Every reader takes a node and the dotted path of the field it came from, converts the
 * scalar's text with the integer parsers of util.h (never through floating point), and on a
 * problem records one diagnostic at the node's position saying what was expected and what was
 * found, then returns non-zero. Readers never write their output on failure. Values quoted in
 * messages are shortened and stripped of control characters so that a hostile document cannot
 * forge extra diagnostic lines. Thread-safety: reentrant; all state is the caller's sl__ctx.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "slaledger/util.h"

#include "sla_int.h"

#define SHOW_MAX 40 /* bytes of a value quoted in a message */

void sl__error(sl__ctx *c, const sl__ynode *at, int code, const char *field, const char *fmt, ...)
{
    char msg[sizeof(((sl_error *)0)->msg)];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    c->errors++;
    if (c->first == 0)
        c->first = code;
    sl_diags_add(c->diags, code, at ? at->line : 0, at ? at->column : 0, field, "%s", msg);
}

void sl__nomem(sl__ctx *c)
{
    if (c->nomem)
        return;
    c->nomem = 1;
    sl__error(c, NULL, SL_ENOMEM, "", "out of memory while reading the document");
}

void sl__path_key(char *buf, const char *parent, const char *key)
{
    /* Keys come from the document: keep control characters out of the field path. */
    snprintf(buf, SL__PATH_MAX, "%s%s%s", parent, parent[0] ? "." : "", key);
    for (char *p = buf; *p; p++) {
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            *p = '?';
    }
}

void sl__path_index(char *buf, const char *parent, size_t i)
{
    snprintf(buf, SL__PATH_MAX, "%s[%zu]", parent, i);
}

const char *sl__show(const char *s, size_t len, sl__shown *buf)
{
    size_t n = len > SHOW_MAX ? SHOW_MAX : len, k;

    /* Do not cut a UTF-8 sequence in half. */
    while (n < len && n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
        n--;
    buf->s[0] = '\'';
    for (k = 0; k < n; k++) {
        unsigned char ch = (unsigned char)s[k];
        buf->s[k + 1] = (char)(ch < 0x20 || ch == 0x7f ? '?' : ch);
    }
    snprintf(buf->s + k + 1, sizeof(buf->s) - k - 1, "%s'", n < len ? "..." : "");
    return buf->s;
}

const char *sl__found(const sl__ynode *n, sl__shown *buf)
{
    if (!n)
        return "nothing";
    switch (n->type) {
    case SL__Y_NULL:
        return "null";
    case SL__Y_MAP:
        return "a mapping";
    case SL__Y_SEQ:
        return "a list";
    default:
        return sl__show(n->text, n->len, buf);
    }
}

void sl__join(char *buf, size_t cap, size_t *at, const char *name)
{
    int w;

    if (*at >= cap)
        return;
    w = snprintf(buf + *at, cap - *at, "%s%s", *at ? ", " : "", name);
    *at = w < 0 ? cap : *at + (size_t)w;
}

static int key_is(const sl__ynode *k, const char *key)
{
    size_t len = strlen(key);
    return k->text && k->len == len && memcmp(k->text, key, len) == 0;
}

/* The index of k in the NULL-terminated list keys, or -1. */
static int key_index(const sl__ynode *k, const char *const *keys)
{
    for (int i = 0; keys[i]; i++) {
        if (key_is(k, keys[i]))
            return i;
    }
    return -1;
}

static void report_unknown(sl__ctx *c, const sl__ynode *k, const char *path,
                           const char *const *keys)
{
    char list[160] = "", field[SL__PATH_MAX];
    size_t at = 0;
    sl__shown sh;

    for (size_t i = 0; keys[i]; i++)
        sl__join(list, sizeof(list), &at, keys[i]);
    sl__path_key(field, path, k->text ? k->text : "");
    sl__error(c, k, SL_EINVAL, field, "unknown field %s in %s; expected one of: %s",
              sl__show(k->text ? k->text : "", k->len, &sh), path[0] ? path : "the document", list);
}

/* The reason a retired field was removed, from the pairs {key, why, ..., NULL}; NULL if k is
 * not one of them. */
static const char *retired_why(const sl__ynode *k, const char *const *retired)
{
    for (size_t i = 0; retired && retired[i] && retired[i + 1]; i += 2) {
        if (key_is(k, retired[i]))
            return retired[i + 1];
    }
    return NULL;
}

int sl__map_check(sl__ctx *c, const sl__ynode *n, const char *path, const char *const *keys)
{
    return sl__map_check_retired(c, n, path, keys, NULL);
}

int sl__map_check_retired(sl__ctx *c, const sl__ynode *n, const char *path, const char *const *keys,
                          const char *const *retired)
{
    sl__shown sh;
    char field[SL__PATH_MAX];
    uint64_t seen = 0; /* allowed keys met so far; key lists are far shorter than 64 */
    const char *why;
    int k;

    if (!n || n->type != SL__Y_MAP) {
        sl__error(c, n, SL_EINVAL, path, "expected a mapping, found %s", sl__found(n, &sh));
        return 0;
    }
    for (size_t i = 0; i + 1 < n->n; i += 2) {
        const sl__ynode *key = &n->kids[i];
        k = key_index(key, keys);
        if ((k < 0 || k >= 64) && (why = retired_why(key, retired))) {
            sl__path_key(field, path, key->text);
            sl__error(c, key, SL_EINVAL, field, "field %s was removed: %s",
                      sl__show(key->text, key->len, &sh), why);
        } else if (k < 0 || k >= 64) {
            report_unknown(c, key, path, keys);
        } else if (seen & ((uint64_t)1 << k)) {
            sl__path_key(field, path, key->text);
            sl__error(c, key, SL_EINVAL, field, "duplicate field %s in %s",
                      sl__show(key->text, key->len, &sh), path[0] ? path : "the document");
        }
        seen |= k >= 0 && k < 64 ? (uint64_t)1 << k : 0;
    }
    return 1;
}

const sl__ynode *sl__map_get(const sl__ynode *n, const char *key)
{
    if (!n || n->type != SL__Y_MAP)
        return NULL;
    for (size_t i = 0; i + 1 < n->n; i += 2) {
        if (key_is(&n->kids[i], key))
            return n->kids[i + 1].type == SL__Y_NULL ? NULL : &n->kids[i + 1];
    }
    return NULL;
}

/* The key node of `key` in map n, or NULL. */
static const sl__ynode *map_key(const sl__ynode *n, const char *key)
{
    for (size_t i = 0; i + 1 < n->n; i += 2) {
        if (key_is(&n->kids[i], key))
            return &n->kids[i];
    }
    return NULL;
}

int sl__field_get(sl__ctx *c, const sl__ynode *map, const char *mpath, const char *key,
                  int required, sl__field *f)
{
    const sl__ynode *k;

    sl__path_key(f->path, mpath, key);
    f->node = sl__map_get(map, key);
    if (f->node || !required || !map || map->type != SL__Y_MAP)
        return f->node != NULL;
    k = map_key(map, key);
    if (k)
        sl__error(c, k + 1, SL_EINVAL, f->path, "field '%s' is required, found null", key);
    else
        sl__error(c, map, SL_EINVAL, f->path, "missing required field '%s' in %s", key,
                  mpath[0] ? mpath : "the document");
    return 0;
}

const char *sl__scalar(sl__ctx *c, const sl__ynode *n, const char *path, const char *what)
{
    sl__shown sh;

    if (!n || n->type != SL__Y_SCALAR) {
        sl__error(c, n, SL_EINVAL, path, "expected %s, found %s", what, sl__found(n, &sh));
        return NULL;
    }
    if (strlen(n->text) != n->len) {
        sl__error(c, n, SL_EINVAL, path, "expected %s, found text with a NUL character", what);
        return NULL;
    }
    return n->text;
}

int sl__list_check(sl__ctx *c, const sl__ynode *n, const char *path, size_t max, int nonempty)
{
    sl__shown sh;

    if (!n || n->type != SL__Y_SEQ) {
        sl__error(c, n, SL_EINVAL, path, "expected a list, found %s", sl__found(n, &sh));
        return 0;
    }
    if (n->n == 0 && nonempty)
        sl__error(c, n, SL_EINVAL, path, "expected at least one item, found an empty list");
    if (n->n > max)
        sl__error(c, n, SL_EINVAL, path, "too many items: %zu; at most %zu are allowed", n->n, max);
    return 1;
}

int sl__read_name(sl__ctx *c, const sl__ynode *n, const char *path, const char *what, char **out)
{
    const char *s = sl__scalar(c, n, path, "a name");
    sl__shown sh;
    char *copy;

    if (!s)
        return -1;
    if (!sl_name_valid(s, n->len)) {
        sl__error(c, n, SL_EINVAL, path,
                  "expected %s name ([a-z0-9] then [a-z0-9._-], at most %d bytes), found %s", what,
                  SL_NAME_MAX, sl__show(s, n->len, &sh));
        return -1;
    }
    copy = sl_strndup(s, n->len);
    if (!copy) {
        sl__nomem(c);
        return -1;
    }
    *out = copy;
    return 0;
}

static int has_control(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return 1;
    }
    return 0;
}

int sl__read_text(sl__ctx *c, const sl__ynode *n, const char *path, int plain_line, char **out)
{
    const char *s = sl__scalar(c, n, path, "a string");
    char *copy;

    if (!s)
        return -1;
    if (plain_line && (n->len == 0 || has_control(s, n->len))) {
        sl__error(c, n, SL_EINVAL, path,
                  "expected a non-empty single-line string without control characters");
        return -1;
    }
    copy = sl_strndup(s, n->len);
    if (!copy) {
        sl__nomem(c);
        return -1;
    }
    *out = copy;
    return 0;
}

int sl__read_enum(sl__ctx *c, const sl__ynode *n, const char *path, const char *what,
                  const char *const *names, size_t count, int *out)
{
    char list[200] = "";
    size_t at = 0;
    sl__shown sh;
    const char *s = sl__scalar(c, n, path, what);

    if (!s)
        return -1;
    for (size_t i = 0; i < count; i++) {
        if (strcmp(s, names[i]) == 0) {
            *out = (int)i;
            return 0;
        }
    }
    for (size_t i = 0; i < count; i++)
        sl__join(list, sizeof(list), &at, names[i]);
    sl__error(c, n, SL_EINVAL, path, "unknown %s %s; expected one of: %s", what,
              sl__show(s, n->len, &sh), list);
    return -1;
}

int sl__read_int(sl__ctx *c, const sl__ynode *n, const char *path, int64_t min, int64_t max,
                 int64_t *out)
{
    const char *s = sl__scalar(c, n, path, "an integer");
    int64_t v;
    sl__shown sh;

    if (!s)
        return -1;
    if (n->len == 0 || s[0] == '-' || sl_decimal_parse(s, n->len, 0, &v) != 0 || v < min ||
        v > max) {
        sl__error(c, n, SL_EINVAL, path, "expected an integer from %lld to %lld, found %s",
                  (long long)min, (long long)max, sl__show(s, n->len, &sh));
        return -1;
    }
    *out = v;
    return 0;
}
