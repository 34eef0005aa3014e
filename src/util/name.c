/*
 * name.c: the one syntax for names of identities, channels, agreements, services, objectives.
 *
 * Names appear in keys, URLs, file names and JSON without escaping, so they are restricted to
 * lower-case ASCII letters, digits and ". _ -", starting with a letter or digit.
 */
#include "slaledger/util.h"

static int name_char(char ch, int first)
{
    if ((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9'))
        return 1;
    return !first && (ch == '.' || ch == '_' || ch == '-');
}

int sl_name_valid(const char *s, size_t len)
{
    if (!s || len == 0 || len > 63)
        return 0;
    for (size_t i = 0; i < len; i++) {
        if (!name_char(s[i], i == 0))
            return 0;
    }
    return 1;
}
