/*
 * files.c: what the key, certificate and ledger commands share besides option parsing: error
 * lines on stderr ("slaledger CMD: WHAT: WHY"), reading a whole file, creating a new file or
 * directory that never replaces an existing one, printing JSON on stdout, machine tokens of
 * error codes, and the wall clock (the command may read it; the library's deterministic layers
 * never do). Every function that can fail prints why itself and returns the exit code to use.
 * No state; not thread-safe (stdio).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

void sl__cli_error(const char *command, const char *what, const sl_error *e)
{
    fprintf(stderr, "slaledger %s: %s", command, what);
    if (e->line > 0) {
        fprintf(stderr, ":%d", e->line);
        if (e->column > 0)
            fprintf(stderr, ":%d", e->column);
    }
    fprintf(stderr, ": ");
    if (e->field[0] != '\0' && strcmp(e->field, what) != 0)
        fprintf(stderr, "%s: ", e->field);
    fprintf(stderr, "%s\n", e->msg[0] != '\0' ? e->msg : sl_strerror(e->code));
}

static int io_error(const char *command, const char *path, const char *what, int errnum)
{
    fprintf(stderr, "slaledger %s: %s: %s: %s\n", command, path, what, strerror(errnum));
    return SL_EXIT_IO;
}

int sl__cli_read_file(const char *command, const char *path, size_t max, sl_buf *out)
{
    FILE *f = fopen(path, "rb");
    char chunk[8192];
    size_t n, total = 0;
    int rc = 0;

    if (!f)
        return io_error(command, path, "cannot open", errno);
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
        total += n;
        if (total > max) {
            fprintf(stderr, "slaledger %s: %s: larger than %zu bytes\n", command, path, max);
            rc = SL_EXIT_IO;
            goto out;
        }
        sl_buf_put(out, chunk, n);
    }
    if (ferror(f)) {
        rc = io_error(command, path, "cannot read", errno);
    } else if (out->err) {
        fprintf(stderr, "slaledger %s: %s: out of memory\n", command, path);
        rc = SL_EXIT_INVALID;
    }
out:
    fclose(f);
    return rc;
}

/* Writes all of p[0..len) to fd. 0 or -1 (errno set). */
static int write_all(int fd, const char *p, size_t len)
{
    while (len > 0) {
        ssize_t w = write(fd, p, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return -1;
        p += w;
        len -= (size_t)w;
    }
    return 0;
}

int sl__cli_write_new(const char *command, const char *path, const void *p, size_t len,
                      unsigned mode)
{
    int fd = open(path, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC | O_NOCTTY, (mode_t)mode);
    int failed;

    if (fd < 0 && errno == EEXIST) {
        fprintf(stderr, "slaledger %s: %s: already exists; not overwriting it\n", command, path);
        return SL_EXIT_IO;
    }
    if (fd < 0)
        return io_error(command, path, "cannot create", errno);
    failed = write_all(fd, p, len) != 0 || fsync(fd) != 0;
    if (close(fd) != 0)
        failed = 1;
    if (failed) {
        int keep = errno;
        unlink(path); /* ours (O_EXCL): nothing half-written stays */
        return io_error(command, path, "cannot write", keep);
    }
    return 0;
}

int sl__cli_mkdir(const char *command, const char *path, unsigned mode)
{
    if (mkdir(path, (mode_t)mode) == 0)
        return 0;
    if (errno == EEXIST) {
        fprintf(stderr, "slaledger %s: %s: already exists; not reusing it\n", command, path);
        return SL_EXIT_IO;
    }
    return io_error(command, path, "cannot create directory", errno);
}

int sl__cli_print_json(const char *command, json_t *j)
{
    int rc = 0;

    if (!j || json_dumpf(j, stdout, JSON_INDENT(2)) != 0) {
        fprintf(stderr, "slaledger %s: cannot produce JSON output\n", command);
        rc = SL_EXIT_IO;
    } else {
        putchar('\n');
    }
    json_decref(j);
    return rc;
}

json_t *sl__cli_json_error(const sl_error *e)
{
    return json_pack("{s:s, s:o, s:o}", "code", sl_error_token(e->code), "field",
                     sl__cli_jstr(e->field), "message",
                     sl__cli_jstr(e->msg[0] != '\0' ? e->msg : sl_strerror(e->code)));
}

int64_t sl__cli_now_ms(void)
{
    struct timespec ts;

    if (clock_gettime(CLOCK_REALTIME, &ts) != 0)
        return 0;
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
