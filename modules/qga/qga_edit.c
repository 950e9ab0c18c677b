/* Edits qemu-ga.conf in place: one [general] list key set, every other byte kept. */
#include <assert.h>
#include "qga.h"

/* One line's span in the text, without its '\n'. */
struct span {
        const char *start, *end;
};

static const char *skip_blank(const char *p, const char *end)
{
        while (p < end && (*p == ' ' || *p == '\t'))
                p++;
        return p;
}

static const char *trim_end(const char *start, const char *end)
{
        while (end > start && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
                end--;
        return end;
}

static bool key_is(const char *k, const char *kend, const char *name)
{
        return (size_t)(kend - k) == strlen(name) && strncmp(k, name, (size_t)(kend - k)) == 0;
}

int vt_qga_config_set(const char *text, const char *const *read_keys, const char *new_key,
                      const char *value, char **ret, unsigned *bad_line)
{
        assert(text && read_keys && new_key && value && ret && bad_line);
        size_t nkeys = 0;
        while (read_keys[nkeys])
                nkeys++;
        /* GLib's key file: the last of duplicate keys wins, so the last line of each is kept. */
        struct span found[8] = {}, header = {};
        assert(nkeys <= ARRAY_SIZE(found));
        bool general = false;
        unsigned lineno = 0;
        for (const char *l = text; *l;) {
                const char *nl = strchr(l, '\n');
                const char *end = nl ? nl : l + strlen(l);
                const char *s = skip_blank(l, end), *e = trim_end(s, end);
                lineno++;
                if (s == e || *s == '#') {
                        /* blank or comment */
                } else if (*s == '[') {
                        if (e[-1] != ']' || e - s < 3) {
                                *bad_line = lineno;
                                return -EBADMSG;
                        }
                        general = key_is(s + 1, e - 1, "general");
                        if (general && !header.start)
                                header = (struct span){l, end};
                } else {
                        const char *eq = memchr(s, '=', (size_t)(e - s));
                        const char *kend = eq ? trim_end(s, eq) : NULL;
                        if (!eq || kend == s) {
                                *bad_line = lineno;
                                return -EBADMSG;
                        }
                        for (size_t i = 0; general && i < nkeys; i++)
                                if (key_is(s, kend, read_keys[i]))
                                        found[i] = (struct span){eq + 1, end};
                }
                l = nl ? nl + 1 : end;
        }
        size_t n = strlen(text);
        int r = -ENOENT;
        for (size_t i = 0; i < nkeys && r == -ENOENT; i++) {
                if (!found[i].start)
                        continue;
                /* "key = old" keeps "key = " and whatever follows the line. */
                const char *v = skip_blank(found[i].start, found[i].end);
                r = asprintf(ret, "%.*s%s%s", (int)(v - text), text, value, found[i].end);
        }
        if (r == -ENOENT && header.start)
                r = asprintf(ret, "%.*s\n%s=%s%s%s", (int)(header.end - text), text, new_key, value,
                             *header.end ? "" : "\n", header.end);
        if (r == -ENOENT)
                r = asprintf(ret, "%s%s[general]\n%s=%s\n", text,
                             n && text[n - 1] != '\n' ? "\n" : "", new_key, value);
        return r < 0 ? -ENOMEM : 0;
}
