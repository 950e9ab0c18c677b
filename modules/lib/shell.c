/* Quoting values as shell words (the one quoter: /etc/default files, sysconfig, grub). */
#include <stdlib.h>
#include <string.h>
#include "shell.h"

char *vt_shell_quote(const char *value, char style)
{
        if (style == 0 && (!*value || strpbrk(value, " \t\r\n'\"\\$`|&;<>()*?[]#~{}")))
                style = '"';
        if (style == '\'' && strchr(value, '\''))
                style = '"';
        /* worst case: every byte escaped, two quotes, the NUL */
        char *out = malloc(2 * strlen(value) + 3), *o = out;
        if (!out)
                return NULL;
        if (style)
                *o++ = style;
        for (const char *p = value; *p; p++) {
                if (style == '"' && strchr("$`\"\\", *p))
                        *o++ = '\\';
                *o++ = *p;
        }
        if (style)
                *o++ = style;
        *o = '\0';
        return out;
}
