/* Walks the key=value lines of one section of INI-style text. */
#include <assert.h>
#include "inifile.h"

bool vt_ini_next(struct vt_ini *it, const char *header, char **key, char **value)
{
        assert(it && header && key && value);
        while (it->next) {
                char *line = it->next;
                it->next = strchr(line, '\n');
                if (it->next)
                        *it->next++ = '\0';
                line += strspn(line, " \t");
                vt_strip(line);
                if (*line == '[') {
                        it->in_section = streq(line, header);
                        continue;
                }
                char *eq = strchr(line, '=');
                if (!it->in_section || !eq || *line == '#' || *line == ';')
                        continue;
                *eq = '\0';
                *key = vt_strip(line);
                *value = eq + 1 + strspn(eq + 1, " \t");
                return true;
        }
        return false;
}
