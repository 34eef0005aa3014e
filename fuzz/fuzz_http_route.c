/*
 * fuzz_http_route.c: libFuzzer target for the HTTP layer's route patterns and path matching
 * (sl__pattern_compile, sl__pattern_match), which see every request path a client sends. The
 * input is a pattern, a newline, then a path (any bytes). A pattern either compiles or is
 * refused with SL_EINVAL; a compiled one matches a path only when the promises of http.h hold:
 * at most SL_HTTP_MAX_PARAMS parameters, each a non-empty segment of the path without '/',
 * and, for a pattern without parameters, exactly when the path equals the pattern. Every
 * compiled pattern must also match its own text.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "node/http_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_match(const sl__pattern *p, const char *path, size_t len)
{
    size_t off[SL_HTTP_MAX_PARAMS], plen[SL_HTTP_MAX_PARAMS];

    if (!sl__pattern_match(p, path, len, off, plen)) {
        if (p->n_params == 0 && strlen(p->text) == len && memcmp(p->text, path, len) == 0)
            __builtin_trap();
        return;
    }
    if (p->n_params > SL_HTTP_MAX_PARAMS)
        __builtin_trap();
    for (size_t i = 0; i < p->n_params; i++) {
        if (plen[i] == 0 || off[i] == 0 || off[i] + plen[i] > len || path[off[i] - 1] != '/' ||
            memchr(path + off[i], '/', plen[i]))
            __builtin_trap();
    }
    if (p->n_params == 0 && (strlen(p->text) != len || memcmp(p->text, path, len) != 0))
        __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nl = memchr(data, '\n', size);
    size_t plen = nl ? (size_t)(nl - data) : size;
    char *pattern = malloc(plen + 1);
    const char *path = nl ? (const char *)nl + 1 : "";
    size_t path_len = nl ? size - plen - 1 : 0;
    sl__pattern p;
    int rc;

    if (!pattern)
        return 0;
    memcpy(pattern, data, plen);
    pattern[plen] = '\0';
    rc = sl__pattern_compile(&p, pattern);
    if (rc != 0 && rc != SL_EINVAL && rc != SL_ENOMEM)
        __builtin_trap();
    if (rc == 0) {
        check_match(&p, path, path_len);
        check_match(&p, pattern, strlen(pattern));
        sl__pattern_release(&p);
    }
    free(pattern);
    return 0;
}
