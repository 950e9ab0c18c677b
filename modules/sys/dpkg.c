/* What dpkg says is installed (/var/lib/dpkg/status), read through the root. */
#include "dpkg.h"

/* The value of field (e.g. "Status") inside one stanza [s, e), or NULL; *len its length. */
static const char *stanza_field(const char *s, const char *e, const char *field, size_t *len)
{
        size_t fl = strlen(field);
        for (const char *p = s; p < e;) {
                const char *nl = memchr(p, '\n', (size_t)(e - p));
                const char *end = nl ? nl : e;
                if ((size_t)(end - p) > fl && strncmp(p, field, fl) == 0 && p[fl] == ':') {
                        const char *v = p + fl + 1;
                        while (v < end && *v == ' ')
                                v++;
                        *len = (size_t)(end - v);
                        return v;
                }
                p = end + 1;
        }
        return NULL;
}

int vt_dpkg_find(const char *status, const char *pkg, char **version)
{
        if (!status)
                return 0;
        char needle[256];
        int r = vt_pathf(needle, sizeof(needle), "Package: %s\n", pkg);
        if (r < 0)
                return r;
        for (const char *p = status; (p = strstr(p, needle)); p++) {
                if (p != status && p[-1] != '\n')
                        continue;
                const char *e = strstr(p, "\n\n");
                if (!e)
                        e = p + strlen(p);
                size_t n;
                const char *st = stanza_field(p, e, "Status", &n);
                /* "install ok installed"; "deinstall ok config-files" is not installed. */
                if (!st || n < 10 || strncmp(st + n - 10, " installed", 10) != 0)
                        continue;
                if (version) {
                        const char *v = stanza_field(p, e, "Version", &n);
                        *version = v ? strndup(v, n) : NULL;
                        if (v && !*version)
                                return -ENOMEM;
                }
                return 1;
        }
        return 0;
}

int vt_dpkg_load(struct vt_ctx *ctx, char **status)
{
        *status = NULL;
        int r = vt_read_file_memo(ctx, "/var/lib/dpkg/status", 64u << 20, status, NULL);
        return r == -ENOENT || r == -ENOTDIR ? 0 : r;
}

int vt_dpkg_installed(struct vt_ctx *ctx, const char *pkg, char **version)
{
        _cleanup_free_ char *status = NULL;
        int r = vt_dpkg_load(ctx, &status);
        if (r < 0)
                return r;
        return vt_dpkg_find(status, pkg, version);
}
