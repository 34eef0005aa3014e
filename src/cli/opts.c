/*
 * opts.c: the command-line parser of the commands that take options with values and positional
 * arguments (keygen, cert ..., ledger ...). A command describes itself in an sl__cli_spec; the
 * parser fills the option variables the spec points at (borrowed argv strings), moves the
 * positional arguments to the front of argv and handles --help. Usage problems are printed as
 * "slaledger CMD: PROBLEM" followed by the usage, on stderr. No state; not thread-safe (stdio).
 */
#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static int usage_error(const sl__cli_spec *spec, const char *what, const char *arg)
{
    fprintf(stderr, "slaledger %s: %s '%s'\n", spec->command, what, arg);
    spec->usage(stderr);
    return SL_EXIT_USAGE;
}

/* The option of spec named by a[0..n), or NULL. */
static const sl__opt *find_opt(const sl__cli_spec *spec, const char *a, size_t n)
{
    for (size_t i = 0; i < spec->n_opts; i++) {
        const char *name = spec->opts[i].name;
        if (strlen(name) == n && strncmp(name, a, n) == 0)
            return &spec->opts[i];
    }
    return NULL;
}

/* Handles the option at argv[*i] (advancing *i past its value). -1 to go on, else an exit code. */
static int take_option(const sl__cli_spec *spec, int argc, char **argv, int *i)
{
    const char *a = argv[*i];
    const char *eq = strchr(a, '=');
    size_t n = eq ? (size_t)(eq - a) : strlen(a);
    const sl__opt *o = find_opt(spec, a, n);

    if (!o)
        return usage_error(spec, "unknown option", a);
    if (o->flag) {
        if (eq)
            return usage_error(spec, "option takes no value:", a);
        *o->flag = 1;
        return -1;
    }
    if (*o->value)
        return usage_error(spec, "option given twice:", o->name);
    if (eq) {
        *o->value = eq + 1;
    } else if (*i + 1 < argc) {
        *o->value = argv[++*i];
    } else {
        return usage_error(spec, "option needs a value:", a);
    }
    return -1;
}

/* Checks the number of positional arguments. -1 to go on, else SL_EXIT_USAGE. */
static int check_count(const sl__cli_spec *spec, int nargs, char **argv)
{
    if (nargs > spec->max_args)
        return usage_error(spec, "unexpected argument", argv[1 + spec->max_args]);
    if (nargs < spec->min_args) {
        fprintf(stderr, "slaledger %s: missing argument\n", spec->command);
        spec->usage(stderr);
        return SL_EXIT_USAGE;
    }
    return -1;
}

int sl__cli_parse(const sl__cli_spec *spec, int argc, char **argv, int *nargs)
{
    int opts = 1, rc;

    *nargs = 0;
    for (size_t k = 0; k < spec->n_opts; k++) {
        if (spec->opts[k].value)
            *spec->opts[k].value = NULL;
        if (spec->opts[k].flag)
            *spec->opts[k].flag = 0;
    }
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (opts && strcmp(a, "--") == 0) {
            opts = 0;
        } else if (opts && sl__cli_is_help(a)) {
            spec->usage(stdout);
            return SL_EXIT_OK;
        } else if (opts && a[0] == '-' && a[1] != '\0') {
            if ((rc = take_option(spec, argc, argv, &i)) >= 0)
                return rc;
        } else {
            argv[1 + (*nargs)++] = argv[i];
        }
    }
    return check_count(spec, *nargs, argv);
}

int sl__cli_int(const char *command, const char *opt, const char *s, int64_t min, int64_t max,
                int64_t *out)
{
    char *end = NULL;
    long long v;

    errno = 0;
    v = strtoll(s, &end, 10);
    /* strtoll would skip leading spaces and accept '+': only [-]digits are whole numbers here. */
    int shape = isdigit((unsigned char)s[0]) || (s[0] == '-' && isdigit((unsigned char)s[1]));
    if (!shape || *end != '\0' || errno == ERANGE || v < min || v > max) {
        fprintf(stderr, "slaledger %s: %s: '%s' is not a whole number from %lld to %lld\n", command,
                opt, s, (long long)min, (long long)max);
        return SL_EXIT_USAGE;
    }
    *out = v;
    return 0;
}
