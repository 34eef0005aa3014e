/*
 * nodetoken.c: a test tool that makes a node credential (sl_node_token_make) from a node's key
 * and certificate files, for the script tests of node-to-node authentication
 * (tests/integration/node_peer_auth.sh) until nodes make their own when they call each other.
 *
 *   tool_nodetoken --key FILE --cert FILE --audience ORG/NAME [--offset-ms MS | --at-ms MS]
 *
 * Prints the token and a newline. The token is dated now (the wall clock), or MS milliseconds
 * from now (--offset-ms, negative for the past), or at MS since the epoch (--at-ms, for fixed
 * fuzz seeds). Exit status: 0 printed, 1 the files or arguments were refused (why on stderr),
 * 2 usage. Test scaffolding: single-threaded, prints and exits.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "slaledger/ident.h"
#include "slaledger/util.h"

static int usage(void)
{
    fprintf(stderr, "usage: tool_nodetoken --key FILE --cert FILE --audience ORG/NAME "
                    "[--offset-ms MS | --at-ms MS]\n");
    return 2;
}

static int read_cert(const char *path, sl_cert *out)
{
    FILE *f = fopen(path, "rb");
    char chunk[4096];
    sl_error err = {0};
    sl_buf b;
    size_t n;
    int rc;

    if (!f) {
        fprintf(stderr, "%s: cannot open\n", path);
        return 1;
    }
    sl_buf_init(&b);
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        sl_buf_put(&b, chunk, n);
    fclose(f);
    rc = b.err ? b.err : sl_cert_read_json((const char *)b.p, b.len, out, &err);
    if (rc)
        fprintf(stderr, "%s: %s: %s\n", path, err.field, err.msg);
    sl_buf_release(&b);
    return rc ? 1 : 0;
}

static int parse_ms(const char *s, long long *out)
{
    char *end;

    errno = 0;
    *out = strtoll(s, &end, 10);
    return errno || end == s || *end != '\0' ? -1 : 0;
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"key", required_argument, NULL, 'k'},      {"cert", required_argument, NULL, 'c'},
        {"audience", required_argument, NULL, 'a'}, {"offset-ms", required_argument, NULL, 'o'},
        {"at-ms", required_argument, NULL, 't'},    {NULL, 0, NULL, 0}};
    const char *key_path = NULL, *cert_path = NULL, *aud = NULL;
    long long offset = 0, at = -1;
    struct timespec ts;
    sl_error err = {0};
    sl_key *key = NULL;
    sl_cert cert;
    sl_buf tok;
    int c, rc;

    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c == 'k')
            key_path = optarg;
        else if (c == 'c')
            cert_path = optarg;
        else if (c == 'a')
            aud = optarg;
        else if (c == 'o' && parse_ms(optarg, &offset) == 0)
            continue;
        else if (c == 't' && parse_ms(optarg, &at) == 0)
            continue;
        else
            return usage();
    }
    if (!key_path || !cert_path || !aud || optind != argc)
        return usage();
    if (sl_key_load(key_path, &key, &err) != 0) {
        fprintf(stderr, "%s: %s\n", key_path, err.msg);
        return 1;
    }
    if (read_cert(cert_path, &cert) != 0) {
        sl_key_free(key);
        return 1;
    }
    clock_gettime(CLOCK_REALTIME, &ts);
    if (at < 0)
        at = (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 + offset;
    sl_buf_init(&tok);
    rc = sl_node_token_make(key, &cert, aud, (int64_t)at, &tok);
    if (rc == 0 && sl_buf_cstr(&tok))
        printf("%s\n", (const char *)tok.p);
    else
        fprintf(stderr,
                "refused: %s (a node certificate and its key, an audience ORG/NAME and "
                "a time of 0 or later are needed)\n",
                sl_strerror(rc));
    sl_buf_release(&tok);
    sl_key_free(key);
    return rc ? 1 : 0;
}
