/*
 * test_sigv4.c: AWS SigV4 known answers from AWS's test suite (tests/vectors/sigv4/<case>/, the
 * raw request and its expected Authorization value, found through SL_SOURCE_DIR), then the
 * canonical path and query rules on their own, the rejection of malformed input and the
 * output-buffer contract. Includes sigv4.c to reach its static canonicalization functions.
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

#include "oracle/sigv4.c"

#define MAX_HEADERS 16

static const sl_sigv4_creds suite_creds = {"AKIDEXAMPLE",
                                           "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", NULL};

/* 2015-08-30T12:36:00Z, the time of every case in the suite. */
#define SUITE_TIME_MS 1440938160000LL

static const char *const cases[] = {
    "get-header-key-duplicate",
    "get-header-value-order",
    "get-header-value-trim",
    "get-relative",
    "get-relative-relative",
    "get-slash",
    "get-slash-dot-slash",
    "get-slash-pointless-dot",
    "get-slashes",
    "get-space",
    "get-unreserved",
    "get-utf8",
    "get-vanilla",
    "get-vanilla-empty-query-key",
    "get-vanilla-query-order-key",
    "get-vanilla-query-order-key-case",
    "get-vanilla-query-order-value",
    "get-vanilla-query-unreserved",
    "get-vanilla-utf8-query",
    "post-header-key-case",
    "post-header-key-sort",
    "post-header-value-case",
    "post-sts-header-before",
    "post-vanilla",
    "post-vanilla-query",
    "post-x-www-form-urlencoded",
    "post-x-www-form-urlencoded-parameters",
};

/* A parsed .req file; every pointer points into text, which the test frees. */
typedef struct parsed_req {
    char *text;
    const char *method, *path, *query, *host, *date, *token;
    const char *headers[MAX_HEADERS + 1];
    size_t nh;
    const uint8_t *body;
    size_t body_len;
} parsed_req;

static char *read_file(const char *name, const char *file, size_t *len)
{
    const char *src = getenv("SL_SOURCE_DIR");
    char path[1024];

    if (!src)
        fail_msg("SL_SOURCE_DIR is not set; run the test through ctest");
    snprintf(path, sizeof(path), "%s/tests/vectors/sigv4/%s/%s", src, name, file);
    FILE *f = fopen(path, "rb");
    if (!f)
        fail_msg("cannot open %s", path);
    char *buf = malloc(8192);
    assert_non_null(buf);
    *len = fread(buf, 1, 8191, f);
    assert_false(ferror(f));
    assert_true(feof(f));
    fclose(f);
    buf[*len] = '\0';
    return buf;
}

/* "GET /path?query HTTP/1.1": the target may hold spaces (get-space). */
static void parse_request_line(parsed_req *q, char *line)
{
    char *sp = strchr(line, ' '), *last = strrchr(line, ' ');
    if (!sp || last == sp || strcmp(last, " HTTP/1.1") != 0)
        fail_msg("bad request line: %s", line);
    *sp = '\0';
    *last = '\0';
    q->method = line;
    q->path = sp + 1;
    char *mark = strchr(sp + 1, '?');
    q->query = "";
    if (mark) {
        *mark = '\0';
        q->query = mark + 1;
    }
}

/* Host, X-Amz-Date and X-Amz-Security-Token become fields of the call; the rest are passed. */
static void parse_header(parsed_req *q, char *line)
{
    char *colon = strchr(line, ':');
    if (!colon || line[0] == ' ' || line[0] == '\t')
        fail_msg("unsupported header line: %s", line);
    size_t n = (size_t)(colon - line);
    if (n == 4 && strncasecmp(line, "host", n) == 0) {
        q->host = colon + 1;
    } else if (n == 10 && strncasecmp(line, "x-amz-date", n) == 0) {
        q->date = colon + 1;
    } else if (n == 20 && strncasecmp(line, "x-amz-security-token", n) == 0) {
        q->token = colon + 1;
    } else {
        assert_true(q->nh < MAX_HEADERS);
        q->headers[q->nh++] = line;
    }
}

static void parse_req(const char *name, parsed_req *q)
{
    size_t len;

    memset(q, 0, sizeof(*q));
    q->text = read_file(name, "request", &len);
    char *blank = strstr(q->text, "\n\n");
    if (blank) {
        *blank = '\0';
        q->body = (const uint8_t *)blank + 2;
        q->body_len = len - (size_t)(blank + 2 - q->text);
    }
    char *line = q->text, *next;
    for (int first = 1; line && *line; line = next, first = 0) {
        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        if (first)
            parse_request_line(q, line);
        else
            parse_header(q, line);
    }
    if (!q->host || !q->date)
        fail_msg("%s: request without Host or X-Amz-Date", name);
}

static char *read_authz(const char *name)
{
    size_t len;
    char *s = read_file(name, "authz", &len);
    while (len > 0 && (s[len - 1] == '\n' || s[len - 1] == '\r'))
        s[--len] = '\0';
    return s;
}

static void check_case(const char *name)
{
    parsed_req q;
    char auth[1024], date[SL_SIGV4_DATE_LEN + 1];

    parse_req(name, &q);
    char *want = read_authz(name);
    sl_sigv4_request r = {.method = q.method,
                          .host = q.host,
                          .path = q.path,
                          .query = q.query,
                          .headers = q.headers,
                          .body = q.body,
                          .body_len = q.body_len,
                          .region = "us-east-1",
                          .service = "service",
                          .time_ms = SUITE_TIME_MS};
    sl_sigv4_creds c = suite_creds;
    c.session_token = q.token;
    int rc = sl_sigv4_sign(&r, &c, auth, sizeof(auth), date);
    if (rc != 0)
        fail_msg("%s: sl_sigv4_sign returned %d", name, rc);
    if (strcmp(auth, want) != 0)
        fail_msg("%s:\n  got  %s\n  want %s", name, auth, want);
    assert_string_equal(date, q.date);
    free(want);
    free(q.text);
}

static void test_suite_vectors(void **state)
{
    (void)state;
    for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++)
        check_case(cases[k]);
    print_message("%zu SigV4 suite cases passed\n", sizeof(cases) / sizeof(cases[0]));
}

/* ---- canonicalization on its own ---- */

static void check_uri(const char *path, const char *want)
{
    sl_buf b;
    sl_buf_init(&b);
    assert_int_equal(put_canonical_uri(&b, path), 0);
    assert_string_equal(sl_buf_cstr(&b), want);
    sl_buf_release(&b);
}

static void test_canonical_uri(void **state)
{
    (void)state;
    check_uri("", "/");
    check_uri("/", "/");
    check_uri("/a/./b/../c", "/a/c");
    check_uri("/a/b/.", "/a/b/");
    check_uri("/a/b/..", "/a/");
    check_uri("/../../a", "/a");
    check_uri("/a//b///", "/a/b/");
    check_uri("/a%20b/c", "/a%2520b/c"); /* sent encoded: encoded again, as non-S3 AWS wants */
    check_uri("/caf\xc3\xa9/!", "/caf%C3%A9/%21");
    check_uri("/..a/.b/", "/..a/.b/");

    sl_buf b;
    sl_buf_init(&b);
    assert_int_equal(put_canonical_uri(&b, "relative"), SL_EINVAL);
    sl_buf_release(&b);
}

static void check_query(const char *query, int rc_want, const char *want)
{
    sl_buf b;
    sl_buf_init(&b);
    assert_int_equal(put_canonical_query(&b, query), rc_want);
    if (rc_want == 0)
        assert_string_equal(b.len ? sl_buf_cstr(&b) : "", want);
    sl_buf_release(&b);
}

static void test_canonical_query(void **state)
{
    (void)state;
    check_query(NULL, 0, "");
    check_query("", 0, "");
    check_query("b=2&a=1&a=0&c", 0, "a=0&a=1&b=2&c=");
    check_query("&&x=1&", 0, "x=1");
    check_query("%e1%88%b4=%2f", 0, "%E1%88%B4=%2F");
    check_query("a+b=c d&e=f=g", 0, "a%2Bb=c%20d&e=f%3Dg");
    check_query("Action=GetMetricData&Version=2010-08-01", 0,
                "Action=GetMetricData&Version=2010-08-01");
    /* Names sort before values: "a" < "a-" although "a=2" > "a-=1" byte for byte. */
    check_query("a-=1&a=2", 0, "a=2&a-=1");
    check_query("a=%zz", SL_EINVAL, NULL);
    check_query("a=%4", SL_EINVAL, NULL);
}

/* ---- the public contract ---- */

static sl_sigv4_request vanilla(void)
{
    return (sl_sigv4_request){.method = "GET",
                              .host = "example.amazonaws.com",
                              .path = "/",
                              .query = "",
                              .region = "us-east-1",
                              .service = "service",
                              .time_ms = SUITE_TIME_MS};
}

static int sign(const sl_sigv4_request *r, const sl_sigv4_creds *c, char *auth, size_t cap)
{
    char date[SL_SIGV4_DATE_LEN + 1] = "x";
    int rc = sl_sigv4_sign(r, c, auth, cap, date);
    if (rc != 0)
        assert_string_equal(date, "");
    return rc;
}

static void expect_einval(const sl_sigv4_request *r, const sl_sigv4_creds *c)
{
    char auth[512] = "x";
    assert_int_equal(sign(r, c, auth, sizeof(auth)), SL_EINVAL);
    assert_string_equal(auth, "");
}

static void test_rejects_bad_input(void **state)
{
    (void)state;
    sl_sigv4_request r;
    sl_sigv4_creds c;
    const char *bad_headers[][2] = {
        {"NoColon", NULL},         {":empty-name", NULL},
        {"Bad Name:x", NULL},      {"X-Inject:a\r\nEvil: 1", NULL},
        {"Host:other", NULL},      {"x-amz-date:20150830T123600Z", NULL},
        {"Authorization:x", NULL}, {"X-Amz-Security-Token:t", NULL}};

    expect_einval(NULL, &suite_creds);
    r = vanilla();
    expect_einval(&r, NULL);
    for (size_t k = 0; k < sizeof(bad_headers) / sizeof(bad_headers[0]); k++) {
        r = vanilla();
        r.headers = bad_headers[k];
        expect_einval(&r, &suite_creds);
    }
    r = vanilla(), r.method = "";
    expect_einval(&r, &suite_creds);
    r = vanilla(), r.method = "GE T";
    expect_einval(&r, &suite_creds);
    r = vanilla(), r.host = NULL;
    expect_einval(&r, &suite_creds);
    r = vanilla(), r.region = "us east";
    expect_einval(&r, &suite_creds);
    r = vanilla(), r.service = "a/b";
    expect_einval(&r, &suite_creds);
    r = vanilla(), r.path = "x";
    expect_einval(&r, &suite_creds);
    r = vanilla(), r.query = "a=%G0";
    expect_einval(&r, &suite_creds);
    r = vanilla(), r.body = NULL, r.body_len = 3;
    expect_einval(&r, &suite_creds);
    r = vanilla(), r.time_ms = -1;
    expect_einval(&r, &suite_creds);
    r = vanilla(), r.time_ms = 253402300800000LL; /* 10000-01-01 */
    expect_einval(&r, &suite_creds);
    r = vanilla();
    c = suite_creds, c.secret_access_key = "";
    expect_einval(&r, &c);
    c = suite_creds, c.access_key_id = "AKID/X";
    expect_einval(&r, &c);
    c = suite_creds, c.session_token = "tok\nen";
    expect_einval(&r, &c);
}

static void test_output_buffers(void **state)
{
    (void)state;
    sl_sigv4_request r = vanilla();
    char auth[512], small[512];

    assert_int_equal(sign(&r, &suite_creds, auth, sizeof(auth)), 0);
    size_t len = strlen(auth);
    assert_int_equal(len, 186); /* get-vanilla's Authorization value */
    memset(small, 'x', sizeof(small));
    assert_int_equal(sign(&r, &suite_creds, small, len), SL_EOVERFLOW);
    assert_string_equal(small, "");
    assert_int_equal(sign(&r, &suite_creds, small, len + 1), 0);
    assert_string_equal(small, auth);
}

static void test_time(void **state)
{
    (void)state;
    sl_sigv4_request r = vanilla();
    char auth[512], again[512], date[SL_SIGV4_DATE_LEN + 1];

    assert_int_equal(sign(&r, &suite_creds, auth, sizeof(auth)), 0);
    r.time_ms = SUITE_TIME_MS + 999; /* milliseconds are not signed */
    assert_int_equal(sl_sigv4_sign(&r, &suite_creds, again, sizeof(again), date), 0);
    assert_string_equal(again, auth);
    assert_string_equal(date, "20150830T123600Z");
    r.time_ms = 0;
    assert_int_equal(sl_sigv4_sign(&r, &suite_creds, again, sizeof(again), date), 0);
    assert_string_equal(date, "19700101T000000Z");
    r.time_ms = 253402300799000LL;
    assert_int_equal(sl_sigv4_sign(&r, &suite_creds, again, sizeof(again), date), 0);
    assert_string_equal(date, "99991231T235959Z");
    assert_non_null(strstr(again, "Credential=AKIDEXAMPLE/99991231/us-east-1/service/"));
}

/* A CloudWatch-shaped POST: every input that is signed changes the signature; header order and
 * name case do not. */
static void test_every_input_counts(void **state)
{
    (void)state;
    static const char body[] = "Action=GetMetricData&Version=2010-08-01";
    const char *h1[] = {"Content-Type:application/x-www-form-urlencoded", "Accept:application/json",
                        NULL};
    const char *h2[] = {"accept: application/json ",
                        "CONTENT-TYPE:application/x-www-form-urlencoded", NULL};
    sl_sigv4_request r = {.method = "POST",
                          .host = "monitoring.eu-central-1.amazonaws.com",
                          .path = "/",
                          .headers = h1,
                          .body = (const uint8_t *)body,
                          .body_len = sizeof(body) - 1,
                          .region = "eu-central-1",
                          .service = "monitoring",
                          .time_ms = SUITE_TIME_MS};
    sl_sigv4_creds c = {"AKIDEXAMPLE", "secret", "token"};
    char base[512], other[512];

    assert_int_equal(sign(&r, &c, base, sizeof(base)), 0);
    assert_non_null(strstr(base, "SignedHeaders=accept;content-type;host;x-amz-date;"
                                 "x-amz-security-token, Signature="));
    r.headers = h2;
    assert_int_equal(sign(&r, &c, other, sizeof(other)), 0);
    assert_string_equal(other, base);

    r.body_len--;
    assert_int_equal(sign(&r, &c, other, sizeof(other)), 0);
    assert_string_not_equal(other, base);
    r.body_len++;
    c.secret_access_key = "secreT";
    assert_int_equal(sign(&r, &c, other, sizeof(other)), 0);
    assert_string_not_equal(other, base);
    c.secret_access_key = "secret";
    c.session_token = "tokeN";
    assert_int_equal(sign(&r, &c, other, sizeof(other)), 0);
    assert_string_not_equal(other, base);
    c.session_token = "token";
    r.region = "eu-west-1";
    assert_int_equal(sign(&r, &c, other, sizeof(other)), 0);
    assert_string_not_equal(other, base);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_suite_vectors),      cmocka_unit_test(test_canonical_uri),
        cmocka_unit_test(test_canonical_query),    cmocka_unit_test(test_rejects_bad_input),
        cmocka_unit_test(test_output_buffers),     cmocka_unit_test(test_time),
        cmocka_unit_test(test_every_input_counts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
