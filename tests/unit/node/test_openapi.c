/*
 * test_openapi.c: docs/openapi.json (served at /v1/openapi.json) describes exactly the routes
 * the node answers: every route registered by the API is a path and method of the document,
 * and every path and method of the document is a registered route.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cmocka.h>
#include <jansson.h>

#include "node/node_int.h"

static json_t *load_document(void)
{
    const char *dir = getenv("SL_SOURCE_DIR");
    char path[1024];
    snprintf(path, sizeof(path), "%s/docs/openapi.json", dir ? dir : ".");
    json_error_t e;
    json_t *doc = json_load_file(path, 0, &e);
    if (!doc)
        fail_msg("%s: %s (line %d)", path, e.text, e.line);
    return doc;
}

static void lower(const char *in, char *out, size_t cap)
{
    size_t i = 0;
    for (; in[i] && i + 1 < cap; i++)
        out[i] = (char)(in[i] >= 'A' && in[i] <= 'Z' ? in[i] + 32 : in[i]);
    out[i] = '\0';
}

static void test_routes_match_document(void **state)
{
    (void)state;
    sl__node n;
    memset(&n, 0, sizeof(n));
    sl_error err;
    assert_int_equal(sl_http_new(NULL, NULL, NULL, &n.http, &err), 0);
    assert_int_equal(sl__api_register(&n), 0);
    json_t *doc = load_document(), *paths = json_object_get(doc, "paths");
    assert_non_null(paths);

    size_t routes = 0;
    const char *method, *pattern;
    for (size_t i = 0; sl_http_route_at(n.http, i, &method, &pattern); i++, routes++) {
        char m[16];
        lower(method, m, sizeof(m));
        if (!json_object_get(json_object_get(paths, pattern), m))
            fail_msg("%s %s is served but not in docs/openapi.json", method, pattern);
    }
    size_t documented = 0;
    const char *path;
    json_t *ops;
    json_object_foreach(paths, path, ops)
    {
        const char *op;
        json_t *v;
        json_object_foreach(ops, op, v)
        {
            int found = 0;
            for (size_t i = 0; !found && sl_http_route_at(n.http, i, &method, &pattern); i++)
                found = strcmp(pattern, path) == 0 && strcasecmp(method, op) == 0;
            if (!found)
                fail_msg("%s %s is in docs/openapi.json but not served", op, path);
            documented++;
        }
    }
    assert_int_equal(routes, documented);
    assert_true(routes >= 15);
    json_decref(doc);
    sl_http_free(n.http);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_routes_match_document),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
