/*
 * test_log.c: the node's logger (src/node/log.c). JSON lines parse and give back each value
 * (control characters, quotes, emoji; bytes that are not UTF-8 as U+FFFD; long values cut);
 * text lines quote what needs it and escape what would break a line; levels below the
 * configured one are dropped; lines from concurrent threads never interleave.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "node/log.h"

/* Everything written to f so far, NUL-terminated; the caller frees. */
static char *slurp(FILE *f)
{
    long n = ftell(f);
    assert_true(n >= 0);
    char *s = calloc((size_t)n + 1, 1);
    assert_non_null(s);
    rewind(f);
    assert_int_equal(fread(s, 1, (size_t)n, f), (size_t)n);
    return s;
}

static void test_json_values(void **state)
{
    (void)state;
    FILE *f = tmpfile();
    sl__log l;
    char long_value[2000];
    memset(long_value, 'a', sizeof(long_value) - 1);
    long_value[sizeof(long_value) - 1] = '\0';
    assert_int_equal(sl__log_init(&l, f, SL_NODE_LOG_JSON, SL_NODE_LOG_DEBUG, "node"), 0);
    sl__log_field fs[] = {
        SL__LOG_S("ctl", "a\nb\"c\\d\x01"),
        SL__LOG_S("bad", "x\xff\xc0\xafy"),
        SL__LOG_S("emoji", "\xf0\x9f\x98\x80"),
        SL__LOG_S("null", NULL),
        SL__LOG_I("n", -42),
        SL__LOG_MS("ms", 1234567),
        SL__LOG_S("long", long_value),
    };
    sl__log_write(&l, SL_NODE_LOG_INFO, "multi\nline", fs, 7);
    char *out = slurp(f);
    assert_non_null(strchr(out, '\n'));
    assert_ptr_equal(strchr(out, '\n'), out + strlen(out) - 1); /* one line */
    json_error_t e;
    json_t *j = json_loads(out, 0, &e);
    if (!j)
        fail_msg("not JSON: %s: %s", e.text, out);
    assert_string_equal(json_string_value(json_object_get(j, "level")), "info");
    assert_string_equal(json_string_value(json_object_get(j, "msg")), "multi\nline");
    assert_string_equal(json_string_value(json_object_get(j, "ctl")), "a\nb\"c\\d\x01");
    assert_string_equal(json_string_value(json_object_get(j, "bad")),
                        "x\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbdy");
    assert_string_equal(json_string_value(json_object_get(j, "emoji")), "\xf0\x9f\x98\x80");
    assert_string_equal(json_string_value(json_object_get(j, "null")), "");
    assert_int_equal(json_integer_value(json_object_get(j, "n")), -42);
    assert_true(json_real_value(json_object_get(j, "ms")) > 1.2339 &&
                json_real_value(json_object_get(j, "ms")) < 1.2341);
    const char *lv = json_string_value(json_object_get(j, "long"));
    assert_int_equal(strlen(lv), SL__LOG_VALUE_MAX + 3);
    assert_string_equal(lv + SL__LOG_VALUE_MAX, "...");
    const char *t = json_string_value(json_object_get(j, "time"));
    assert_int_equal(strlen(t), 24);
    assert_int_equal(t[23], 'Z');
    json_decref(j);
    free(out);
    sl__log_release(&l);
    fclose(f);
}

static void test_text_quoting(void **state)
{
    (void)state;
    FILE *f = tmpfile();
    sl__log l;
    assert_int_equal(sl__log_init(&l, f, SL_NODE_LOG_TEXT, SL_NODE_LOG_INFO, "node"), 0);
    sl__log_field fs[] = {
        SL__LOG_S("plain", "univie-aws,univie-azure"),
        SL__LOG_S("spaced", "a b"),
        SL__LOG_S("forged", "x\n2026-01-01T00:00:00.000Z error node: forged"),
        SL__LOG_S("eq", "k=v"),
        SL__LOG_S("empty", ""),
        SL__LOG_I("status", 404),
    };
    sl__log_write(&l, SL_NODE_LOG_WARN, "node started", fs, 6);
    char *out = slurp(f);
    /* "2026-11-23T12:00:00.123Z " is 25 bytes. */
    assert_true(strlen(out) > 25);
    assert_memory_equal(out + 19, ".", 1);
    assert_string_equal(out + 25,
                        "warn node: node started plain=univie-aws,univie-azure spaced=\"a b\" "
                        "forged=\"x\\n2026-01-01T00:00:00.000Z error node: forged\" eq=\"k=v\" "
                        "empty=\"\" status=404\n");
    free(out);
    sl__log_release(&l);
    fclose(f);
}

static void test_levels(void **state)
{
    (void)state;
    FILE *f = tmpfile();
    sl__log l;
    assert_int_equal(sl__log_init(&l, f, SL_NODE_LOG_TEXT, SL_NODE_LOG_WARN, "node"), 0);
    assert_false(sl__log_enabled(&l, SL_NODE_LOG_DEBUG));
    assert_false(sl__log_enabled(&l, SL_NODE_LOG_INFO));
    assert_true(sl__log_enabled(&l, SL_NODE_LOG_WARN));
    assert_true(sl__log_enabled(&l, SL_NODE_LOG_ERROR));
    sl__log_write(&l, SL_NODE_LOG_DEBUG, "quiet", NULL, 0);
    sl__log_write(&l, SL_NODE_LOG_INFO, "quiet", NULL, 0);
    sl__log_write(&l, SL_NODE_LOG_ERROR, "loud", NULL, 0);
    char *out = slurp(f);
    assert_null(strstr(out, "quiet"));
    assert_non_null(strstr(out, " error node: loud\n"));
    free(out);
    sl__log_release(&l);
    fclose(f);
    /* The default logger (NULL) is at info. */
    assert_false(sl__log_enabled(NULL, SL_NODE_LOG_DEBUG));
    assert_true(sl__log_enabled(NULL, SL_NODE_LOG_INFO));
}

#define THREADS 8
#define LINES   300

static void *writer(void *arg)
{
    sl__log *l = arg;
    char v[200];
    memset(v, 'z', sizeof(v) - 1);
    v[sizeof(v) - 1] = '\0';
    for (int i = 0; i < LINES; i++) {
        sl__log_field fs[] = {SL__LOG_I("i", i), SL__LOG_S("v", v)};
        sl__log_write(l, SL_NODE_LOG_INFO, "concurrent", fs, 2);
    }
    return NULL;
}

static void test_concurrent_lines_whole(void **state)
{
    (void)state;
    FILE *f = tmpfile();
    sl__log l;
    pthread_t t[THREADS];
    assert_int_equal(sl__log_init(&l, f, SL_NODE_LOG_JSON, SL_NODE_LOG_INFO, "node"), 0);
    for (int i = 0; i < THREADS; i++)
        assert_int_equal(pthread_create(&t[i], NULL, writer, &l), 0);
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    char *out = slurp(f), *save = NULL;
    int n = 0;
    for (char *line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save), n++) {
        json_t *j = json_loads(line, 0, NULL);
        if (!j)
            fail_msg("broken line %d: %.80s", n, line);
        assert_int_equal(strlen(json_string_value(json_object_get(j, "v"))), 199);
        json_decref(j);
    }
    assert_int_equal(n, THREADS * LINES);
    free(out);
    sl__log_release(&l);
    fclose(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_json_values),
        cmocka_unit_test(test_text_quoting),
        cmocka_unit_test(test_levels),
        cmocka_unit_test(test_concurrent_lines_whole),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
