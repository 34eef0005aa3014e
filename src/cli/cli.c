/*
 * cli.c: small helpers shared by every level of the slaledger command (help detection,
 * command-table lookup and listing). No state.
 */
#include <string.h>

#include "cli.h"

int sl__cli_is_help(const char *arg)
{
    return strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0;
}

const sl_cmd *sl__cli_find(const sl_cmd *cmds, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++) {
        if (strcmp(cmds[i].name, name) == 0)
            return &cmds[i];
    }
    return NULL;
}

void sl__cli_list(FILE *out, const sl_cmd *cmds, size_t n)
{
    for (size_t i = 0; i < n; i++)
        fprintf(out, "  %-10s %s\n", cmds[i].name, cmds[i].summary);
}
