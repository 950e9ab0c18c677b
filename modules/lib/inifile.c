/* Reads INI-style text item by item, in place, counting lines. */
#include <assert.h>
#include <ctype.h>
#include "inifile.h"

static char *trim(char *s)
{
        while (isspace((unsigned char)*s))
                s++;
        return vt_strip(s);
}

enum vt_ini_item vt_ini_step(struct vt_ini *it, char **key, char **value)
{
        assert(it && key && value);
        while (it->next) {
                char *line = it->next;
                it->next = strchr(line, '\n');
                if (it->next)
                        *it->next++ = '\0';
                it->line++;
                char *s = trim(line);
                if (*s == '\0' || *s == '#' || *s == ';')
                        continue;
                if (*s == '[') {
                        char *end = strchr(s, ']');
                        if (!end || end[1] != '\0')
                                return VT_INI_BAD_SECTION;
                        *end = '\0';
                        *key = trim(s + 1);
                        return VT_INI_SECTION;
                }
                char *eq = strchr(s, '=');
                if (!eq)
                        return VT_INI_BAD_LINE;
                *eq = '\0';
                *key = trim(s);
                *value = trim(eq + 1);
                return VT_INI_KEY;
        }
        return VT_INI_END;
}

bool vt_ini_next(struct vt_ini *it, const char *header, char **key, char **value)
{
        assert(header && header[0] == '[');
        size_t hl = strlen(header) - 2; /* the name between the brackets */
        for (;;) {
                switch (vt_ini_step(it, key, value)) {
                case VT_INI_END:
                        return false;
                case VT_INI_SECTION:
                        it->in_section = strlen(*key) == hl && strncmp(*key, header + 1, hl) == 0;
                        break;
                case VT_INI_BAD_SECTION:
                        it->in_section = false;
                        break;
                case VT_INI_BAD_LINE:
                        break;
                case VT_INI_KEY:
                        if (it->in_section)
                                return true;
                        break;
                }
        }
}
